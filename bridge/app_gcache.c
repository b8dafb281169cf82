/* The encoded graphs of get_graph, kept per canvas and revision.
 *
 * Encoding a 500-node graph to JSON costs far more than everything else a
 * get_graph does in the bridge, and readers of one revision all get the
 * same text. So the loop keeps, per canvas, the encoded nodes and links of
 * the last revision it saw; a WebSocket get_graph names that revision to
 * the core (GetGraphCommand.known_revision), and when the canvas is still
 * there the core answers with the graph's head only (unchanged) and the
 * text is reused. The head (canvas_id, revision, stale, title) is always
 * encoded from the core's answer, so only the nodes and links are reused,
 * and only for the revision they were encoded at.
 *
 * The WebSocket answer is built around the text where the encoding of the
 * response with the graph's head alone has its empty "nodes":[],"links":[]
 * (app_graph_ws_ok_members); the result is byte for byte what encoding the
 * whole response gives (tests/unit/test_app_gcache.c). Everything runs on
 * the loop thread. */
#include <stdlib.h>
#include <string.h>

#include "app_int.h"
#include "text.h"

/* Canvases whose text is kept: a bridge serves a few tabs; the least
 * recently used entry goes first. */
#define GCACHE_SLOTS 32

static const char marker[] = APP_GCACHE_MARKER;

struct app_gcache_ent {
    int refs;
    char *canvas_id;
    uint64_t revision;
    char *members; /* "nodes":[...],"links":[...] */
    size_t len;
    /* The members are UTF-8 (checked once here): a WebSocket message built
     * around them need not scan them again for every reader. */
    int utf8;
};

struct app_gcache {
    app_gcache_ent *slot[GCACHE_SLOTS];
    uint64_t used[GCACHE_SLOTS];
    uint64_t clock;
    /* The encoding of an empty Graph around the marker: what every
     * encoding of a Graph with only nodes and links starts and ends with. */
    char *pre, *post;
    size_t pre_len, post_len;
};

static int encode(const Comfyd__V1__Graph *g, char **out, size_t *len)
{
    yajl_gen gen = app__gen();
    if (!gen) return -1;
    if (app__encode(gen, &g->base, app__style_graph, 0)) {
        yajl_gen_free(gen);
        return -1;
    }
    return app__gen_finish(gen, out, len) == APP_OK ? 0 : -1;
}

int app_gcache_create(app_gcache **out)
{
    *out = NULL;
    app_gcache *c = calloc(1, sizeof *c);
    if (!c) return APP_E_NOMEM;
    Comfyd__V1__Graph empty = COMFYD__V1__GRAPH__INIT;
    char *text = NULL;
    size_t len = 0;
    if (encode(&empty, &text, &len)) {
        free(c);
        return APP_E_NOMEM;
    }
    /* A JSON string holds no bare quote, so the first match is the members
     * themselves. */
    char *at = strstr(text, marker);
    if (at) {
        c->pre_len = (size_t)(at - text);
        c->post_len = len - c->pre_len - (sizeof marker - 1);
        c->pre = text_dupn(text, c->pre_len);
        c->post = text_dup(at + sizeof marker - 1);
    }
    free(text);
    /* Without the marker (another encoder) nothing is cached: every
     * get_graph is encoded whole. */
    *out = c;
    return APP_OK;
}

void app_gcache_ent_unref(app_gcache_ent *e)
{
    if (!e || --e->refs > 0) return;
    free(e->canvas_id);
    free(e->members);
    free(e);
}

void app_gcache_destroy(app_gcache *c)
{
    if (!c) return;
    for (size_t i = 0; i < GCACHE_SLOTS; i++)
        app_gcache_ent_unref(c->slot[i]);
    free(c->pre);
    free(c->post);
    free(c);
}

static int find(const app_gcache *c, const char *canvas_id)
{
    for (int i = 0; i < GCACHE_SLOTS; i++)
        if (c->slot[i] && strcmp(c->slot[i]->canvas_id, canvas_id) == 0) return i;
    return -1;
}

app_gcache_ent *app_gcache_get(app_gcache *c, const char *canvas_id)
{
    if (!c || !canvas_id || !*canvas_id) return NULL;
    int i = find(c, canvas_id);
    if (i < 0) return NULL;
    c->used[i] = ++c->clock;
    c->slot[i]->refs++;
    return c->slot[i];
}

uint64_t app_gcache_ent_revision(const app_gcache_ent *e)
{
    return e->revision;
}

/* Encodes g's nodes and links alone and keeps them for g's canvas. */
static app_gcache_ent *put(app_gcache *c, const Comfyd__V1__Graph *g)
{
    if (!c->pre || !g->canvas_id || !*g->canvas_id) return NULL;
    int i = find(c, g->canvas_id);
    /* Revisions are never handed out twice (not across canvases, not
     * across restarts of the core): the same revision is the same graph. */
    if (i >= 0 && c->slot[i]->revision == g->revision) {
        c->used[i] = ++c->clock;
        c->slot[i]->refs++;
        return c->slot[i];
    }
    Comfyd__V1__Graph body = COMFYD__V1__GRAPH__INIT;
    body.nodes = g->nodes;
    body.n_nodes = g->n_nodes;
    body.links = g->links;
    body.n_links = g->n_links;
    char *text = NULL;
    size_t len = 0;
    if (encode(&body, &text, &len)) return NULL;
    if (len < c->pre_len + c->post_len || memcmp(text, c->pre, c->pre_len) != 0 ||
        memcmp(text + len - c->post_len, c->post, c->post_len) != 0) {
        free(text);
        return NULL;
    }
    app_gcache_ent *e = calloc(1, sizeof *e);
    if (!e) {
        free(text);
        return NULL;
    }
    e->len = len - c->pre_len - c->post_len;
    memmove(text, text + c->pre_len, e->len);
    text[e->len] = '\0';
    e->utf8 = text_utf8_valid_nul(text, e->len);
    e->members = text;
    e->canvas_id = text_dup(g->canvas_id);
    e->revision = g->revision;
    e->refs = 1; /* the slot's */
    if (i < 0) {
        i = 0;
        for (int k = 0; k < GCACHE_SLOTS; k++) {
            if (!c->slot[k]) {
                i = k;
                break;
            }
            if (c->used[k] < c->used[i]) i = k;
        }
    }
    /* A reader of an older revision holds its own reference. */
    app_gcache_ent_unref(c->slot[i]);
    c->slot[i] = e;
    c->used[i] = ++c->clock;
    e->refs++;
    return e;
}

app_gcache_ent *app_gcache_members(app_gcache *c, const Comfyd__V1__Graph *g, app_gcache_ent *held)
{
    if (!c || !g->canvas_id || !*g->canvas_id) return NULL;
    if (g->unchanged) {
        /* The core says the canvas is at the revision the request named:
         * the text held for it is the graph (the entry is immutable, and
         * the request's reference kept it alive). */
        if (!held || held->revision != g->revision || strcmp(held->canvas_id, g->canvas_id) != 0)
            return NULL;
        held->refs++;
        return held;
    }
    return put(c, g);
}

const char *app_gcache_ent_text(const app_gcache_ent *e, size_t *len, int *utf8)
{
    *len = e->len;
    if (utf8) *utf8 = e->utf8;
    return e->members;
}

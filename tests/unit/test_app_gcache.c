/* Unit tests of the encoded-graph cache (bridge/app_gcache.c): a graph is
 * encoded once per canvas and revision, the WebSocket answer built from the
 * cache is byte for byte what encoding the whole response gives, and an
 * unchanged answer is only completed from the entry its request named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app_int.h" /* the cache and the encoder are private to the app */

/* A graph of n nodes (ids 1..n) and n-1 links, with a title that holds
 * text the splice must not be fooled by. */
static Comfyd__V1__Graph *mk_graph(const char *canvas, uint64_t rev, size_t n)
{
    Comfyd__V1__Graph *g = calloc(1, sizeof *g);
    comfyd__v1__graph__init(g);
    g->canvas_id = strdup(canvas);
    g->title = strdup("\"nodes\":[],\"links\":[] in a title");
    g->revision = rev;
    g->stale = 1;
    g->nodes = calloc(n, sizeof *g->nodes);
    g->links = calloc(n, sizeof *g->links);
    for (size_t i = 0; i < n; i++) {
        Comfyd__V1__Node *x = calloc(1, sizeof *x);
        comfyd__v1__node__init(x);
        x->id = (int64_t)i + 1;
        x->type = strdup("CLIPTextEncode");
        x->title = strdup("Prompt");
        g->nodes[g->n_nodes++] = x;
        if (i + 1 < n) {
            Comfyd__V1__Link *l = calloc(1, sizeof *l);
            comfyd__v1__link__init(l);
            l->id = (int64_t)i + 1;
            l->from_id = (int64_t)i + 1;
            l->to_id = (int64_t)i + 2;
            l->type = strdup("CONDITIONING");
            g->links[g->n_links++] = l;
        }
    }
    return g;
}

/* The WebSocket answer to a get_graph whose response carries g, encoded
 * whole (request id 1). */
static char *plain(const Comfyd__V1__Graph *g)
{
    Comfyd__V1__ExecuteResponse r = COMFYD__V1__EXECUTE_RESPONSE__INIT;
    r.ok = 1;
    r.canvas_id = g->canvas_id;
    r.revision = g->revision;
    r.graph = (Comfyd__V1__Graph *)g;
    char *s = NULL;
    size_t len = 0;
    assert_int_equal(app_graph_ws_ok("1", &r.base, &s, &len), APP_OK);
    return s;
}

/* The same answer built from the cache as the bridge does (held: the entry
 * the request named); 1 with *out, or 0 when the cache cannot complete it
 * and the caller must encode the response itself. */
static int cached(app_gcache *c, const Comfyd__V1__Graph *g, app_gcache_ent *held, char **out,
                  size_t *len)
{
    *out = NULL;
    *len = 0;
    app_gcache_ent *e = app_gcache_members(c, g, held);
    if (!e) return 0;
    Comfyd__V1__ExecuteResponse r = COMFYD__V1__EXECUTE_RESPONSE__INIT;
    r.ok = 1;
    r.canvas_id = g->canvas_id;
    r.revision = g->revision;
    r.graph = (Comfyd__V1__Graph *)g;
    size_t mlen;
    int mutf8, utf8;
    const char *m = app_gcache_ent_text(e, &mlen, &mutf8);
    int rc = app_graph_ws_ok_members("1", &r, m, mlen, mutf8, out, len, &utf8);
    app_gcache_ent_unref(e);
    assert_int_equal(rc, APP_OK);
    assert_int_equal(utf8, 1);
    return 1;
}

/* The head the core sends when known_revision matched. */
static Comfyd__V1__Graph *mk_head(const char *canvas, uint64_t rev)
{
    Comfyd__V1__Graph *g = mk_graph(canvas, rev, 0);
    g->unchanged = 1;
    return g;
}

static void cached_text_equals_the_whole_encoding(void **state)
{
    (void)state;
    app_gcache *c = NULL;
    assert_int_equal(app_gcache_create(&c), APP_OK);
    Comfyd__V1__Graph *g = mk_graph("c1", 7, 50);
    char *want = plain(g);
    char *got = NULL;
    size_t len = 0;
    assert_int_equal(cached(c, g, NULL, &got, &len), 1);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    free(got);

    /* A reader that names revision 7 and is told it is unchanged gets the
     * same text from the entry its request held. */
    app_gcache_ent *e = app_gcache_get(c, "c1");
    assert_non_null(e);
    assert_int_equal(app_gcache_ent_revision(e), 7);
    Comfyd__V1__Graph *h = mk_head("c1", 7);
    assert_int_equal(cached(c, h, e, &got, &len), 1);
    assert_string_equal(got, want);
    free(got);

    /* The head's own fields come from the answer, not from the cache. */
    free(h->title);
    h->title = strdup("renamed");
    h->stale = 0;
    free(g->title);
    g->title = strdup("renamed");
    g->stale = 0;
    char *want2 = plain(g);
    assert_int_equal(cached(c, h, e, &got, &len), 1);
    assert_string_equal(got, want2);
    free(got);
    free(want2);
    free(want);
    app_gcache_ent_unref(e);
    protobuf_c_message_free_unpacked(&h->base, NULL);
    protobuf_c_message_free_unpacked(&g->base, NULL);
    app_gcache_destroy(c);
}

static void unchanged_needs_the_named_entry(void **state)
{
    (void)state;
    app_gcache *c = NULL;
    assert_int_equal(app_gcache_create(&c), APP_OK);
    Comfyd__V1__Graph *g7 = mk_graph("c1", 7, 3);
    char *got = NULL;
    size_t len = 0;
    assert_int_equal(cached(c, g7, NULL, &got, &len), 1);
    free(got);
    app_gcache_ent *e7 = app_gcache_get(c, "c1");

    /* Nothing named: an unchanged head cannot be completed. */
    Comfyd__V1__Graph *h7 = mk_head("c1", 7);
    assert_int_equal(cached(c, h7, NULL, &got, &len), 0);
    assert_null(got);

    /* Revision 8 replaces the slot; the reader that named 7 still holds
     * the text of 7 and is answered from it. */
    Comfyd__V1__Graph *g8 = mk_graph("c1", 8, 4);
    assert_int_equal(cached(c, g8, NULL, &got, &len), 1);
    free(got);
    app_gcache_ent *e8 = app_gcache_get(c, "c1");
    assert_int_equal(app_gcache_ent_revision(e8), 8);
    char *want7 = plain(g7);
    assert_int_equal(cached(c, h7, e7, &got, &len), 1);
    assert_string_equal(got, want7);
    free(got);
    free(want7);

    /* An unchanged answer for another revision or canvas than the named
     * entry is never completed from it. */
    Comfyd__V1__Graph *h9 = mk_head("c1", 9);
    assert_int_equal(cached(c, h9, e8, &got, &len), 0);
    Comfyd__V1__Graph *o8 = mk_head("other", 8);
    assert_int_equal(cached(c, o8, e8, &got, &len), 0);
    assert_null(app_gcache_get(c, "other"));
    assert_null(app_gcache_get(c, ""));

    app_gcache_ent_unref(e7);
    app_gcache_ent_unref(e8);
    protobuf_c_message_free_unpacked(&h7->base, NULL);
    protobuf_c_message_free_unpacked(&h9->base, NULL);
    protobuf_c_message_free_unpacked(&o8->base, NULL);
    protobuf_c_message_free_unpacked(&g7->base, NULL);
    protobuf_c_message_free_unpacked(&g8->base, NULL);
    app_gcache_destroy(c);
}

static void many_canvases_evict_the_least_recently_used(void **state)
{
    (void)state;
    app_gcache *c = NULL;
    assert_int_equal(app_gcache_create(&c), APP_OK);
    char id[32];
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "canvas-%d", i);
        Comfyd__V1__Graph *g = mk_graph(id, (uint64_t)i + 1, 2);
        char *got = NULL;
        size_t len = 0;
        assert_int_equal(cached(c, g, NULL, &got, &len), 1);
        free(got);
        protobuf_c_message_free_unpacked(&g->base, NULL);
        /* canvas-0 is read every time: it stays. */
        app_gcache_ent_unref(app_gcache_get(c, "canvas-0"));
    }
    app_gcache_ent *e = app_gcache_get(c, "canvas-0");
    assert_non_null(e);
    app_gcache_ent_unref(e);
    assert_null(app_gcache_get(c, "canvas-1"));
    e = app_gcache_get(c, "canvas-99");
    assert_non_null(e);
    app_gcache_ent_unref(e);
    app_gcache_destroy(c);
}

/* An ExecuteResponse carrying g, as the core answers a get_graph. */
static Comfyd__V1__ExecuteResponse *mk_resp(Comfyd__V1__Graph *g)
{
    Comfyd__V1__ExecuteResponse *r = calloc(1, sizeof *r);
    comfyd__v1__execute_response__init(r);
    r->ok = 1;
    r->canvas_id = strdup(g->canvas_id);
    r->revision = g->revision;
    r->graph = g;
    return r;
}

static char *ws_plain(const char *rid, const Comfyd__V1__ExecuteResponse *r)
{
    char *s = NULL;
    size_t len = 0;
    assert_int_equal(app_graph_ws_ok(rid, &r->base, &s, &len), APP_OK);
    return s;
}

/* The WebSocket answer built around the cached members of the canvas's
 * current revision; NULL when the cache has none for this answer. */
static char *ws_cached(app_gcache *c, const char *rid, const Comfyd__V1__ExecuteResponse *r,
                       app_gcache_ent *held, int *utf8)
{
    app_gcache_ent *e = app_gcache_members(c, r->graph, held);
    if (!e) return NULL;
    size_t mlen, len;
    int mutf8;
    const char *m = app_gcache_ent_text(e, &mlen, &mutf8);
    char *s = NULL;
    assert_int_equal(app_graph_ws_ok_members(rid, r, m, mlen, mutf8, &s, &len, utf8), APP_OK);
    assert_int_equal(len, strlen(s));
    app_gcache_ent_unref(e);
    return s;
}

static void ws_answer_from_the_cache_is_the_whole_encoding(void **state)
{
    (void)state;
    app_gcache *c = NULL;
    assert_int_equal(app_gcache_create(&c), APP_OK);
    /* A request id (raw JSON from the client) that holds the marker
     * itself comes before the graph: the members must not land there. */
    const char *rid = "{\"nodes\":[],\"links\":[]}";
    Comfyd__V1__ExecuteResponse *r7 = mk_resp(mk_graph("c1", 7, 40));
    char *want7 = ws_plain(rid, r7);
    int utf8 = 0;
    char *got = ws_cached(c, rid, r7, NULL, &utf8);
    assert_string_equal(got, want7);
    assert_int_equal(utf8, 1);
    free(got);

    /* The canvas changed: the answer at revision 8 (the core sends the
     * whole graph when the revision named is not the current one) is
     * revision 8's text, never the cached 7's, even for a reader that
     * named 7. */
    app_gcache_ent *e7 = app_gcache_get(c, "c1");
    Comfyd__V1__Graph *g8 = mk_graph("c1", 8, 41);
    free(g8->nodes[0]->title);
    g8->nodes[0]->title = strdup("changed at 8");
    Comfyd__V1__ExecuteResponse *r8 = mk_resp(g8);
    char *want8 = ws_plain(rid, r8);
    got = ws_cached(c, rid, r8, e7, &utf8);
    assert_string_equal(got, want8);
    assert_non_null(strstr(got, "changed at 8"));
    free(got);
    /* A reader told "unchanged at 8" gets 8's text from the entry it
     * named; an "unchanged at 8" for the entry of 7 is not completed. */
    app_gcache_ent *e8 = app_gcache_get(c, "c1");
    assert_int_equal(app_gcache_ent_revision(e8), 8);
    Comfyd__V1__ExecuteResponse *h8 = mk_resp(mk_head("c1", 8));
    got = ws_cached(c, "\"r2\"", h8, e8, &utf8);
    char *want8b = ws_plain("\"r2\"", r8);
    assert_string_equal(got, want8b);
    free(got);
    assert_null(ws_cached(c, "\"r3\"", h8, e7, &utf8));

    /* Members not known to be UTF-8: the message is not vouched for, so
     * the send checks it. */
    size_t mlen, len;
    const char *m = app_gcache_ent_text(e8, &mlen, NULL);
    assert_int_equal(app_graph_ws_ok_members(rid, r8, m, mlen, 0, &got, &len, &utf8), APP_OK);
    assert_int_equal(utf8, 0);
    assert_string_equal(got, want8);
    free(got);

    free(want7);
    free(want8);
    free(want8b);
    app_gcache_ent_unref(e7);
    app_gcache_ent_unref(e8);
    protobuf_c_message_free_unpacked(&r7->base, NULL);
    protobuf_c_message_free_unpacked(&r8->base, NULL);
    protobuf_c_message_free_unpacked(&h8->base, NULL);
    app_gcache_destroy(c);
}

/* Bytes that are not UTF-8 in a node (protobuf-c does not check strings
 * from the core): the encoder refuses them, so nothing is cached and
 * nothing is vouched for; the caller's own encoding fails the same way. */
static void members_not_utf8_are_never_cached(void **state)
{
    (void)state;
    app_gcache *c = NULL;
    assert_int_equal(app_gcache_create(&c), APP_OK);
    Comfyd__V1__Graph *g = mk_graph("c1", 3, 2);
    free(g->nodes[1]->title);
    g->nodes[1]->title = strdup("bad \xff byte");
    Comfyd__V1__ExecuteResponse *r = mk_resp(g);
    int utf8 = 1;
    assert_null(ws_cached(c, "1", r, NULL, &utf8));
    assert_null(app_gcache_get(c, "c1"));
    char *s = NULL;
    size_t len = 0;
    assert_int_not_equal(app_graph_ws_ok("1", &r->base, &s, &len), APP_OK);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    app_gcache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cached_text_equals_the_whole_encoding),
        cmocka_unit_test(unchanged_needs_the_named_entry),
        cmocka_unit_test(many_canvases_evict_the_least_recently_used),
        cmocka_unit_test(ws_answer_from_the_cache_is_the_whole_encoding),
        cmocka_unit_test(members_not_utf8_are_never_cached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

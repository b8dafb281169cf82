/* provenance: see provenance.h. */
#include "provenance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "jsonscan.h"
#include "jsontree.h"

/* ---- actors ---- */

int provn_name_valid(const char *name, size_t max)
{
    if (!name) return 0;
    size_t n = 0;
    for (const unsigned char *s = (const unsigned char *)name; *s; s++, n++)
        if (*s < 0x20 || *s > 0x7e || n >= max) return 0;
    return n > 0;
}

static int err_set(char *err, size_t errlen, const char *msg, const char *what)
{
    if (err && errlen) snprintf(err, errlen, msg, what);
    return PROVN_EINVAL;
}

int provn_actor_make(provn_actor *a, Comfyd__V1__ActorKind kind, const char *session_id,
                     const char *skill, const char *name, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    a->kind = COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC;
    switch (kind) {
    case COMFYD__V1__ACTOR_KIND__ACTOR_KIND_SKILL:
        if (!provn_name_valid(session_id, PROVN_MAX_ID))
            return err_set(err, errlen, "%s must be 1..128 printable ASCII characters",
                           "session_id");
        if (!provn_name_valid(skill, PROVN_MAX_NAME))
            return err_set(err, errlen, "%s must be 1..128 printable ASCII characters", "skill");
        snprintf(a->session_id, sizeof a->session_id, "%s", session_id);
        snprintf(a->skill, sizeof a->skill, "%s", skill);
        break;
    case COMFYD__V1__ACTOR_KIND__ACTOR_KIND_MCP:
    case COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC:
        if (name && *name && !provn_name_valid(name, PROVN_MAX_NAME))
            return err_set(err, errlen, "%s must be 1..128 printable ASCII characters",
                           kind == COMFYD__V1__ACTOR_KIND__ACTOR_KIND_MCP
                               ? "the MCP client name"
                               : "the caller name (" PROVN_MD_CALLER ")");
        if (name) snprintf(a->name, sizeof a->name, "%s", name);
        break;
    case COMFYD__V1__ACTOR_KIND__ACTOR_KIND_USER:
    case COMFYD__V1__ACTOR_KIND__ACTOR_KIND_LOAD:
        break;
    default:
        return err_set(err, errlen, "%s is not a known actor kind", "kind");
    }
    a->kind = kind;
    return PROVN_OK;
}

static const char *kind_word(Comfyd__V1__ActorKind k)
{
    switch (k) {
    case COMFYD__V1__ACTOR_KIND__ACTOR_KIND_SKILL:
        return "skill";
    case COMFYD__V1__ACTOR_KIND__ACTOR_KIND_MCP:
        return "mcp";
    case COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC:
        return "grpc";
    case COMFYD__V1__ACTOR_KIND__ACTOR_KIND_USER:
        return "user";
    case COMFYD__V1__ACTOR_KIND__ACTOR_KIND_LOAD:
        return "load";
    default:
        return NULL;
    }
}

static Comfyd__V1__ActorKind kind_of_word(const char *w)
{
    for (int k = 1; k <= 5; k++)
        if (strcmp(kind_word((Comfyd__V1__ActorKind)k), w) == 0) return (Comfyd__V1__ActorKind)k;
    return COMFYD__V1__ACTOR_KIND__ACTOR_KIND_UNSPECIFIED;
}

char *provn_actor_text(const provn_actor *a, char *buf, size_t len)
{
    if (!len) return buf;
    const char *w = kind_word(a->kind);
    if (!w) w = "unknown";
    if (a->kind == COMFYD__V1__ACTOR_KIND__ACTOR_KIND_SKILL)
        snprintf(buf, len, "skill:%s@%s", a->skill, a->session_id);
    else if (a->name[0])
        snprintf(buf, len, "%s:%s", w, a->name);
    else
        snprintf(buf, len, "%s", w);
    return buf;
}

static int actor_eq(const provn_actor *a, const provn_actor *b)
{
    return a->kind == b->kind && strcmp(a->session_id, b->session_id) == 0 &&
           strcmp(a->skill, b->skill) == 0 && strcmp(a->name, b->name) == 0;
}

static char *dup_or_empty(const char *s)
{
    return s[0] ? strdup(s) : (char *)protobuf_c_empty_string;
}

Comfyd__V1__Actor *provn_actor_to_proto(const provn_actor *a)
{
    Comfyd__V1__Actor *m = malloc(sizeof *m);
    if (!m) return NULL;
    comfyd__v1__actor__init(m);
    m->kind = a->kind;
    if (!(m->session_id = dup_or_empty(a->session_id)) || !(m->skill = dup_or_empty(a->skill)) ||
        !(m->name = dup_or_empty(a->name))) {
        protobuf_c_message_free_unpacked(&m->base, NULL);
        return NULL;
    }
    return m;
}

/* ---- the state ---- */

/* A record: an index into the actor table plus one (0: none), and when. */
typedef struct {
    uint32_t actor;
    uint64_t rev;
    int64_t time_ms;
} prec;

typedef struct {
    char *name;
    prec r;
} pwidget;

typedef struct {
    int64_t id;
    prec created; /* also the record of widgets that have none of their own */
    prec last;
    pwidget *w;
    size_t n_w, cap_w;
} pnode;

typedef struct {
    int64_t id;
    prec r;
} plink;

/* int64 -> pointer, open addressing with linear probing; 0 is never a key
 * (LiteGraph ids start at 1). */
typedef struct {
    int64_t *keys;
    void **vals;
    size_t cap, n; /* cap: 0 or a power of two, n <= cap / 2 */
} imap;

typedef struct {
    provn_actor a;
    uint32_t refs;
} actor_ent;

typedef struct {
    uint64_t rev;
    uint32_t actor;
} rev_ent;

struct provn {
    imap nodes, links;
    actor_ent *actors;
    size_t n_actors, cap_actors;
    rev_ent revs[PROVN_MAX_REVS]; /* a ring, revisions increasing */
    size_t rev_head, rev_count;
};

static size_t ihash(int64_t k, size_t cap)
{
    uint64_t x = (uint64_t)k * 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 17) & (cap - 1);
}

static void *imap_get(const imap *m, int64_t k)
{
    if (!m->cap) return NULL;
    for (size_t i = ihash(k, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == k) return m->vals[i];
        if (m->keys[i] == 0) return NULL;
    }
}

static int imap_grow(imap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    int64_t *keys = calloc(cap, sizeof *keys);
    void **vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = ihash(m->keys[i], cap);
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

/* Inserts a new key (not present). */
static int imap_put(imap *m, int64_t k, void *v)
{
    if ((m->n + 1) * 2 > m->cap && imap_grow(m)) return -1;
    size_t i = ihash(k, m->cap);
    while (m->keys[i])
        i = (i + 1) & (m->cap - 1);
    m->keys[i] = k;
    m->vals[i] = v;
    m->n++;
    return 0;
}

/* Removes k and returns its value (NULL when absent); backward-shift
 * deletion keeps probe chains intact without tombstones. */
static void *imap_del(imap *m, int64_t k)
{
    if (!m->cap) return NULL;
    size_t i = ihash(k, m->cap);
    while (m->keys[i] != k) {
        if (!m->keys[i]) return NULL;
        i = (i + 1) & (m->cap - 1);
    }
    void *v = m->vals[i];
    size_t j = i;
    for (;;) {
        j = (j + 1) & (m->cap - 1);
        if (!m->keys[j]) break;
        size_t h = ihash(m->keys[j], m->cap);
        /* Move j into the hole at i unless its home lies cyclically in (i, j]. */
        int stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
        if (stays) continue;
        m->keys[i] = m->keys[j];
        m->vals[i] = m->vals[j];
        i = j;
    }
    m->keys[i] = 0;
    m->vals[i] = NULL;
    m->n--;
    return v;
}

int provn_create(provn **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? PROVN_OK : PROVN_ENOMEM;
}

static void actor_unref(provn *p, uint32_t a)
{
    if (a && a <= p->n_actors && p->actors[a - 1].refs) p->actors[a - 1].refs--;
}

static void actor_ref(provn *p, uint32_t a)
{
    if (a && a <= p->n_actors) p->actors[a - 1].refs++;
}

/* The table index (plus one) of an actor equal to a, added when missing;
 * 0 on out of memory. Entries without references are reused. */
static uint32_t actor_intern(provn *p, const provn_actor *a)
{
    size_t free_at = p->n_actors;
    for (size_t i = 0; i < p->n_actors; i++) {
        if (p->actors[i].refs && actor_eq(&p->actors[i].a, a)) return (uint32_t)i + 1;
        if (!p->actors[i].refs && free_at == p->n_actors) free_at = i;
    }
    if (free_at == p->n_actors) {
        if (p->n_actors == p->cap_actors) {
            size_t cap = p->cap_actors ? p->cap_actors * 2 : 16;
            actor_ent *v = realloc(p->actors, cap * sizeof *v);
            if (!v) return 0;
            p->actors = v;
            p->cap_actors = cap;
        }
        p->n_actors++;
    }
    p->actors[free_at].a = *a;
    p->actors[free_at].refs = 0;
    return (uint32_t)free_at + 1;
}

static void prec_set(provn *p, prec *r, const prec *v)
{
    actor_ref(p, v->actor);
    actor_unref(p, r->actor);
    *r = *v;
}

static void node_free(provn *p, pnode *n)
{
    if (!n) return;
    actor_unref(p, n->created.actor);
    actor_unref(p, n->last.actor);
    for (size_t i = 0; i < n->n_w; i++) {
        actor_unref(p, n->w[i].r.actor);
        free(n->w[i].name);
    }
    free(n->w);
    free(n);
}

static void link_free(provn *p, plink *l)
{
    if (!l) return;
    actor_unref(p, l->r.actor);
    free(l);
}

static void imap_free(provn *p, imap *m, int nodes)
{
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        if (nodes)
            node_free(p, m->vals[i]);
        else
            link_free(p, m->vals[i]);
    }
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

void provn_destroy(provn *p)
{
    if (!p) return;
    imap_free(p, &p->nodes, 1);
    imap_free(p, &p->links, 0);
    free(p->actors);
    free(p);
}

static pnode *node_get(provn *p, int64_t id, int create)
{
    pnode *n = imap_get(&p->nodes, id);
    if (n || !create) return n;
    if (!(n = calloc(1, sizeof *n))) return NULL;
    n->id = id;
    if (imap_put(&p->nodes, id, n)) {
        free(n);
        return NULL;
    }
    return n;
}

static pwidget *widget_get(pnode *n, const char *name, int create)
{
    for (size_t i = 0; i < n->n_w; i++)
        if (strcmp(n->w[i].name, name) == 0) return &n->w[i];
    if (!create || n->n_w >= GRAPH_MAX_WIDGETS) return NULL;
    if (n->n_w == n->cap_w) {
        size_t cap = n->cap_w ? n->cap_w * 2 : 4;
        pwidget *v = realloc(n->w, cap * sizeof *v);
        if (!v) return NULL;
        n->w = v;
        n->cap_w = cap;
    }
    pwidget *w = &n->w[n->n_w];
    memset(w, 0, sizeof *w);
    if (!(w->name = strdup(name))) return NULL;
    n->n_w++;
    return w;
}

static void rev_note(provn *p, uint64_t rev, uint32_t actor)
{
    /* A revision recorded again (several commits never share one, but a
     * caller may repeat itself) replaces the newest entry. */
    if (p->rev_count) {
        rev_ent *last = &p->revs[(p->rev_head + p->rev_count - 1) % PROVN_MAX_REVS];
        if (last->rev >= rev) {
            if (last->rev == rev) {
                actor_ref(p, actor);
                actor_unref(p, last->actor);
                last->actor = actor;
            }
            return;
        }
    }
    if (p->rev_count == PROVN_MAX_REVS) {
        actor_unref(p, p->revs[p->rev_head].actor);
        p->rev_head = (p->rev_head + 1) % PROVN_MAX_REVS;
        p->rev_count--;
    }
    actor_ref(p, actor);
    p->revs[(p->rev_head + p->rev_count) % PROVN_MAX_REVS] = (rev_ent){rev, actor};
    p->rev_count++;
}

int provn_record(provn *p, Comfyd__V1__GraphOp *const *ops, size_t n, const provn_actor *who,
                 uint64_t revision, int64_t time_ms)
{
    uint32_t a = actor_intern(p, who);
    if (!a) return PROVN_ENOMEM;
    /* Held while recording: an interned entry without references would be
     * taken by the next intern. */
    actor_ref(p, a);
    rev_note(p, revision, a);
    prec r = {a, revision, time_ms};
    int rc = PROVN_OK;
    for (size_t i = 0; i < n; i++) {
        const Comfyd__V1__GraphOp *op = ops[i];
        Comfyd__V1__Command__CommandCase kind =
            op->command ? op->command->command_case : COMFYD__V1__COMMAND__COMMAND__NOT_SET;
        if (op->link_id) {
            if (kind == COMFYD__V1__COMMAND__COMMAND_DISCONNECT) {
                link_free(p, imap_del(&p->links, op->link_id));
                continue;
            }
            plink *l = imap_get(&p->links, op->link_id);
            if (!l) {
                if (!(l = calloc(1, sizeof *l)) || imap_put(&p->links, op->link_id, l)) {
                    free(l);
                    rc = PROVN_ENOMEM;
                    continue;
                }
                l->id = op->link_id;
            }
            prec_set(p, &l->r, &r);
            continue;
        }
        if (!op->node_id) continue;
        if (kind == COMFYD__V1__COMMAND__COMMAND_REMOVE_NODE) {
            node_free(p, imap_del(&p->nodes, op->node_id));
            continue;
        }
        if (kind == COMFYD__V1__COMMAND__COMMAND_CREATE_NODE) {
            /* A new node under an id: nothing of an earlier one holds. */
            node_free(p, imap_del(&p->nodes, op->node_id));
        }
        pnode *nd = node_get(p, op->node_id, 1);
        if (!nd) {
            rc = PROVN_ENOMEM;
            continue;
        }
        if (kind == COMFYD__V1__COMMAND__COMMAND_CREATE_NODE) prec_set(p, &nd->created, &r);
        prec_set(p, &nd->last, &r);
        if (op->widget && op->widget[0]) {
            pwidget *w = widget_get(nd, op->widget, 1);
            if (w)
                prec_set(p, &w->r, &r);
            else
                rc = PROVN_ENOMEM;
        }
    }
    actor_unref(p, a);
    return rc;
}

void provn_prune(provn *p, const graph *g)
{
    /* Collect first: deleting while scanning would shift entries past i. */
    for (int pass = 0; pass < 2; pass++) {
        imap *m = pass ? &p->links : &p->nodes;
        size_t n_gone = 0;
        int64_t *gone = NULL;
        for (size_t i = 0; i < m->cap; i++) {
            int64_t k = m->keys[i];
            if (!k) continue;
            int present = pass ? graph_find_link(g, k) != NULL : graph_find_node(g, k) != NULL;
            if (present) continue;
            if (!gone && !(gone = malloc(m->n * sizeof *gone))) return;
            gone[n_gone++] = k;
        }
        for (size_t i = 0; i < n_gone; i++) {
            if (pass)
                link_free(p, imap_del(m, gone[i]));
            else
                node_free(p, imap_del(m, gone[i]));
        }
        free(gone);
    }
}

const provn_actor *provn_revision_actor(const provn *p, uint64_t rev)
{
    size_t lo = 0, hi = p->rev_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const rev_ent *e = &p->revs[(p->rev_head + mid) % PROVN_MAX_REVS];
        if (e->rev == rev) return e->actor ? &p->actors[e->actor - 1].a : NULL;
        if (e->rev < rev)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static Comfyd__V1__Provenance *prec_proto(const provn *p, const prec *r)
{
    if (!r->actor) return NULL;
    Comfyd__V1__Provenance *m = malloc(sizeof *m);
    if (!m) return NULL;
    comfyd__v1__provenance__init(m);
    m->revision = r->rev;
    m->time_ms = r->time_ms;
    if (!(m->actor = provn_actor_to_proto(&p->actors[r->actor - 1].a))) {
        free(m);
        return NULL;
    }
    return m;
}

int provn_fill_node(const provn *p, Comfyd__V1__Node *n)
{
    const pnode *nd = imap_get(&p->nodes, n->id);
    if (!nd) return PROVN_OK;
    if (nd->last.actor && !n->provenance && !(n->provenance = prec_proto(p, &nd->last)))
        return PROVN_ENOMEM;
    for (size_t i = 0; i < n->n_widgets; i++) {
        Comfyd__V1__Widget *w = n->widgets[i];
        if (w->provenance || !w->name) continue;
        const prec *r = &nd->created;
        for (size_t k = 0; k < nd->n_w; k++)
            if (strcmp(nd->w[k].name, w->name) == 0) r = &nd->w[k].r;
        if (r->actor && !(w->provenance = prec_proto(p, r))) return PROVN_ENOMEM;
    }
    return PROVN_OK;
}

int provn_fill_graph(const provn *p, Comfyd__V1__Graph *gm)
{
    for (size_t i = 0; i < gm->n_nodes; i++)
        if (provn_fill_node(p, gm->nodes[i])) return PROVN_ENOMEM;
    for (size_t i = 0; i < gm->n_links; i++) {
        Comfyd__V1__Link *l = gm->links[i];
        const plink *pl = imap_get(&p->links, l->id);
        if (pl && !l->provenance && pl->r.actor && !(l->provenance = prec_proto(p, &pl->r)))
            return PROVN_ENOMEM;
    }
    return PROVN_OK;
}

int provn_fill_ops(const provn *p, Comfyd__V1__GraphOp *const *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ops[i]->actor) continue;
        const provn_actor *a = provn_revision_actor(p, ops[i]->revision);
        if (a && !(ops[i]->actor = provn_actor_to_proto(a))) return PROVN_ENOMEM;
    }
    return PROVN_OK;
}

Comfyd__V1__Provenance *provn_node_provenance(const provn *p, int64_t id)
{
    const pnode *nd = imap_get(&p->nodes, id);
    return nd ? prec_proto(p, &nd->last) : NULL;
}

/* ---- extra.comfyd.provenance ----
 *
 * {"v": 1, "revision": R,
 *  "actors": [{"kind": "mcp", "name": "..."}, {"kind": "skill", "session_id": "...",
 *              "skill": "..."}, ...],
 *  "nodes": {"ID": {"by": A, "rev": R, "at": MS, "created": {"by": A, "rev": R, "at": MS},
 *                   "widgets": {"NAME": {"by": A, "rev": R, "at": MS}}}},
 *  "links": {"ID": {"by": A, "rev": R, "at": MS}}}
 * "by" indexes "actors". */

typedef struct {
    yajl_gen g;
    int bad;
    uint32_t *map; /* actor table index -> position in "actors" plus one */
    size_t n_out;
} jw;

static void j_str(jw *w, const char *s)
{
    if (!w->bad && yajl_gen_string(w->g, (const unsigned char *)s, strlen(s)) != yajl_gen_status_ok)
        w->bad = 1;
}

static void j_int(jw *w, long long v)
{
    if (!w->bad && yajl_gen_integer(w->g, v) != yajl_gen_status_ok) w->bad = 1;
}

static void j_open(jw *w)
{
    if (!w->bad && yajl_gen_map_open(w->g) != yajl_gen_status_ok) w->bad = 1;
}

static void j_close(jw *w)
{
    if (!w->bad && yajl_gen_map_close(w->g) != yajl_gen_status_ok) w->bad = 1;
}

static void j_prec(jw *w, const prec *r)
{
    j_open(w);
    j_str(w, "by");
    j_int(w, (long long)w->map[r->actor - 1] - 1);
    j_str(w, "rev");
    j_int(w, (long long)r->rev);
    j_str(w, "at");
    j_int(w, (long long)r->time_ms);
    j_close(w);
}

static void j_use(const provn *p, jw *w, const prec *r)
{
    (void)p;
    if (r->actor && !w->map[r->actor - 1]) w->map[r->actor - 1] = (uint32_t)++w->n_out;
}

/* A node's record changed after revision `since` (0: every record counts).
 * Whatever changes a node (created, moved, a widget set) sets its `last`,
 * so `last` is the newest of its records. */
static int node_since(const pnode *nd, uint64_t since)
{
    return nd && (!since || nd->last.rev > since);
}

static int link_since(const plink *pl, uint64_t since)
{
    return pl && (!since || pl->r.rev > since);
}

/* provn_to_json (since 0) and provn_changes_json: the records of g's nodes
 * and links changed after `since`, and the actors those use. */
static char *to_json(const provn *p, const graph *g, uint64_t revision, uint64_t since, size_t *len,
                     size_t *n_records)
{
    jw w = {0};
    size_t recs = 0;
    if (p->n_actors && !(w.map = calloc(p->n_actors, sizeof *w.map))) return NULL;
    /* Number the actors in use, in first-use order. */
    for (size_t i = 0; i < graph_node_count(g); i++) {
        const pnode *nd = imap_get(&p->nodes, graph_node_at(g, i)->id);
        if (!node_since(nd, since)) continue;
        j_use(p, &w, &nd->last);
        j_use(p, &w, &nd->created);
        for (size_t k = 0; k < nd->n_w; k++)
            j_use(p, &w, &nd->w[k].r);
    }
    for (size_t i = 0; i < graph_link_count(g); i++) {
        const plink *pl = imap_get(&p->links, graph_link_at(g, i)->id);
        if (link_since(pl, since)) j_use(p, &w, &pl->r);
    }
    if (!(w.g = yajl_gen_alloc(NULL))) {
        free(w.map);
        return NULL;
    }
    j_open(&w);
    j_str(&w, "v");
    j_int(&w, PROVN_JSON_VERSION);
    j_str(&w, "revision");
    j_int(&w, (long long)revision);
    if (since) {
        j_str(&w, "since");
        j_int(&w, (long long)since);
    }
    j_str(&w, "actors");
    if (!w.bad && yajl_gen_array_open(w.g) != yajl_gen_status_ok) w.bad = 1;
    for (size_t pos = 1; pos <= w.n_out; pos++) {
        for (size_t i = 0; i < p->n_actors; i++) {
            if (w.map[i] != pos) continue;
            const provn_actor *a = &p->actors[i].a;
            j_open(&w);
            j_str(&w, "kind");
            j_str(&w, kind_word(a->kind) ? kind_word(a->kind) : "grpc");
            if (a->session_id[0]) j_str(&w, "session_id"), j_str(&w, a->session_id);
            if (a->skill[0]) j_str(&w, "skill"), j_str(&w, a->skill);
            if (a->name[0]) j_str(&w, "name"), j_str(&w, a->name);
            j_close(&w);
        }
    }
    if (!w.bad && yajl_gen_array_close(w.g) != yajl_gen_status_ok) w.bad = 1;
    char key[24];
    j_str(&w, "nodes");
    j_open(&w);
    for (size_t i = 0; i < graph_node_count(g); i++) {
        const pnode *nd = imap_get(&p->nodes, graph_node_at(g, i)->id);
        if (!node_since(nd, since) || !nd->last.actor) continue;
        recs++;
        snprintf(key, sizeof key, "%lld", (long long)nd->id);
        j_str(&w, key);
        j_open(&w);
        j_str(&w, "by");
        j_int(&w, (long long)w.map[nd->last.actor - 1] - 1);
        j_str(&w, "rev");
        j_int(&w, (long long)nd->last.rev);
        j_str(&w, "at");
        j_int(&w, (long long)nd->last.time_ms);
        if (nd->created.actor) {
            j_str(&w, "created");
            j_prec(&w, &nd->created);
        }
        if (nd->n_w) {
            j_str(&w, "widgets");
            j_open(&w);
            for (size_t k = 0; k < nd->n_w; k++) {
                if (!nd->w[k].r.actor) continue;
                j_str(&w, nd->w[k].name);
                j_prec(&w, &nd->w[k].r);
            }
            j_close(&w);
        }
        j_close(&w);
    }
    j_close(&w);
    j_str(&w, "links");
    j_open(&w);
    for (size_t i = 0; i < graph_link_count(g); i++) {
        const plink *pl = imap_get(&p->links, graph_link_at(g, i)->id);
        if (!link_since(pl, since) || !pl->r.actor) continue;
        recs++;
        snprintf(key, sizeof key, "%lld", (long long)pl->id);
        j_str(&w, key);
        j_prec(&w, &pl->r);
    }
    j_close(&w);
    j_close(&w);
    free(w.map);
    char *out = NULL;
    const unsigned char *buf;
    size_t n;
    if (!w.bad && yajl_gen_get_buf(w.g, &buf, &n) == yajl_gen_status_ok && (out = malloc(n + 1))) {
        memcpy(out, buf, n);
        out[n] = 0;
        if (len) *len = n;
        if (n_records) *n_records = recs;
    }
    yajl_gen_free(w.g);
    return out;
}

char *provn_to_json(const provn *p, const graph *g, uint64_t revision, size_t *len,
                    size_t *n_records)
{
    return to_json(p, g, revision, 0, len, n_records);
}

char *provn_changes_json(const provn *p, const graph *g, uint64_t revision, uint64_t since,
                         size_t *len, size_t *n_records)
{
    return to_json(p, g, revision, since, len, n_records);
}

/* Parses json[0..len) into a tree within the graph module's limits. */
static yajl_val parse_tree(const char *json, size_t len, char *err, size_t errlen)
{
    jsonscan_limits lim = {GRAPH_MAX_DEPTH, GRAPH_MAX_VALUES, 1, 1};
    char why[128] = "";
    if (jsonscan(json, len, &lim, why, sizeof why) != JSONSCAN_OK) {
        if (err && errlen) snprintf(err, errlen, "not acceptable JSON: %s", why);
        return NULL;
    }
    char *copy = malloc(len + 1);
    if (!copy) return NULL;
    memcpy(copy, json, len);
    copy[len] = 0;
    char perr[128] = "";
    yajl_val v = yajl_tree_parse(copy, perr, sizeof perr);
    free(copy);
    if (!v && err && errlen) snprintf(err, errlen, "not JSON: %s", perr[0] ? perr : "?");
    return v;
}

static yajl_val obj_get(yajl_val o, const char *key)
{
    if (!YAJL_IS_OBJECT(o)) return NULL;
    for (size_t i = 0; i < o->u.object.len; i++)
        if (strcmp(o->u.object.keys[i], key) == 0) return o->u.object.values[i];
    return NULL;
}

static int get_i64(yajl_val o, const char *key, int64_t *out)
{
    yajl_val v = obj_get(o, key);
    if (!YAJL_IS_INTEGER(v)) return -1;
    *out = YAJL_GET_INTEGER(v);
    return 0;
}

/* A stored record into r (actor index mapped through ids), or -1. */
static int read_prec(yajl_val o, const uint32_t *ids, size_t n_ids, prec *r)
{
    int64_t by, rev, at;
    if (get_i64(o, "by", &by) || get_i64(o, "rev", &rev) || get_i64(o, "at", &at) || by < 0 ||
        (size_t)by >= n_ids || rev < 0)
        return -1;
    *r = (prec){ids[by], (uint64_t)rev, at};
    return 0;
}

static int parse_id(const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v <= 0) return -1;
    *out = v;
    return 0;
}

/* Takes stored record v for r when r has none or came from the load. */
static void take(provn *p, prec *r, const prec *v, uint64_t loaded)
{
    if (!r->actor || r->rev == loaded) prec_set(p, r, v);
}

int provn_load_json(provn *p, const graph *g, const char *json, size_t len, uint64_t loaded,
                    char *err, size_t errlen)
{
    /* Most workflows carry none: no parse for them. */
    static const char key[] = "\"provenance\"";
    if (!memmem(json, len, key, sizeof key - 1)) return PROVN_OK;
    yajl_val root = parse_tree(json, len, err, errlen);
    if (!root) return PROVN_EINVAL;
    int rc = PROVN_OK;
    uint32_t *ids = NULL;
    size_t n_ids = 0;
    yajl_val pv = obj_get(obj_get(obj_get(root, "extra"), "comfyd"), "provenance");
    if (!pv) goto out;
    yajl_val actors = obj_get(pv, "actors"), nodes = obj_get(pv, "nodes"),
             links = obj_get(pv, "links");
    int64_t ver = 0;
    if (!YAJL_IS_OBJECT(pv) || get_i64(pv, "v", &ver) || ver != PROVN_JSON_VERSION ||
        !YAJL_IS_ARRAY(actors) || (nodes && !YAJL_IS_OBJECT(nodes)) ||
        (links && !YAJL_IS_OBJECT(links))) {
        rc = err_set(err, errlen, "%s is not a provenance of version 1", "extra.comfyd.provenance");
        goto out;
    }
    n_ids = actors->u.array.len;
    if (n_ids && !(ids = calloc(n_ids, sizeof *ids))) {
        rc = PROVN_ENOMEM;
        goto out;
    }
    /* Every actor is checked before anything is taken. */
    provn_actor *parsed = n_ids ? calloc(n_ids, sizeof *parsed) : NULL;
    if (n_ids && !parsed) {
        rc = PROVN_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n_ids; i++) {
        yajl_val a = actors->u.array.values[i];
        yajl_val k = obj_get(a, "kind"), s = obj_get(a, "session_id"), sk = obj_get(a, "skill"),
                 nm = obj_get(a, "name");
        Comfyd__V1__ActorKind kind = YAJL_IS_STRING(k)
                                         ? kind_of_word(k->u.string)
                                         : COMFYD__V1__ACTOR_KIND__ACTOR_KIND_UNSPECIFIED;
        if ((s && !YAJL_IS_STRING(s)) || (sk && !YAJL_IS_STRING(sk)) ||
            (nm && !YAJL_IS_STRING(nm)) ||
            provn_actor_make(&parsed[i], kind, s ? s->u.string : NULL, sk ? sk->u.string : NULL,
                             nm ? nm->u.string : NULL, NULL, 0)) {
            free(parsed);
            rc = err_set(err, errlen, "%s has a malformed actor", "extra.comfyd.provenance");
            goto out;
        }
    }
    for (size_t i = 0; i < n_ids; i++) {
        if (!(ids[i] = actor_intern(p, &parsed[i]))) {
            rc = PROVN_ENOMEM;
            break;
        }
        actor_ref(p, ids[i]); /* held until the records are taken */
    }
    free(parsed);
    if (rc) goto out;
    for (size_t i = 0; nodes && i < nodes->u.object.len; i++) {
        int64_t id;
        yajl_val o = nodes->u.object.values[i];
        prec last, created;
        if (parse_id(nodes->u.object.keys[i], &id) || !graph_find_node(g, id) ||
            read_prec(o, ids, n_ids, &last))
            continue;
        pnode *nd = node_get(p, id, 1);
        if (!nd) {
            rc = PROVN_ENOMEM;
            break;
        }
        uint64_t was_last = nd->last.rev;
        int fresh = !nd->last.actor || was_last == loaded;
        take(p, &nd->last, &last, loaded);
        if (fresh && !read_prec(obj_get(o, "created"), ids, n_ids, &created))
            take(p, &nd->created, &created, loaded);
        yajl_val ws = obj_get(o, "widgets");
        for (size_t k = 0; fresh && YAJL_IS_OBJECT(ws) && k < ws->u.object.len; k++) {
            prec wr;
            if (read_prec(ws->u.object.values[k], ids, n_ids, &wr)) continue;
            pwidget *w = widget_get(nd, ws->u.object.keys[k], 1);
            if (w) take(p, &w->r, &wr, loaded);
        }
    }
    for (size_t i = 0; !rc && links && i < links->u.object.len; i++) {
        int64_t id;
        prec lr;
        if (parse_id(links->u.object.keys[i], &id) || !graph_find_link(g, id) ||
            read_prec(links->u.object.values[i], ids, n_ids, &lr))
            continue;
        plink *pl = imap_get(&p->links, id);
        if (!pl) {
            if (!(pl = calloc(1, sizeof *pl)) || imap_put(&p->links, id, pl)) {
                free(pl);
                rc = PROVN_ENOMEM;
                break;
            }
            pl->id = id;
        }
        take(p, &pl->r, &lr, loaded);
    }
out:
    for (size_t i = 0; ids && i < n_ids; i++)
        actor_unref(p, ids[i]);
    free(ids);
    yajl_tree_free(root);
    return rc;
}

/* Writes o (an object) with key `skip` left out, then `key` set to add
 * (a tree written by fn when add is NULL). */
static int gen_without(yajl_gen g, yajl_val o, const char *skip)
{
    for (size_t i = 0; YAJL_IS_OBJECT(o) && i < o->u.object.len; i++) {
        const char *k = o->u.object.keys[i];
        if (strcmp(k, skip) == 0) continue;
        if (yajl_gen_string(g, (const unsigned char *)k, strlen(k)) != yajl_gen_status_ok ||
            jsontree_gen(g, o->u.object.values[i]) != yajl_gen_status_ok)
            return -1;
    }
    return 0;
}

static int gen_key(yajl_gen g, const char *k)
{
    return yajl_gen_string(g, (const unsigned char *)k, strlen(k)) != yajl_gen_status_ok;
}

int provn_inject_json(const char *json, size_t len, const char *provn_json, size_t provn_len,
                      char **out, size_t *out_len, char *err, size_t errlen)
{
    *out = NULL;
    yajl_val root = parse_tree(json, len, err, errlen);
    if (!root) return PROVN_EINVAL;
    yajl_val pv = parse_tree(provn_json, provn_len, err, errlen);
    if (!YAJL_IS_OBJECT(root) || !pv) {
        yajl_tree_free(root);
        yajl_tree_free(pv);
        return err_set(err, errlen, "%s is not a JSON object", "the workflow");
    }
    yajl_gen g = yajl_gen_alloc(NULL);
    int bad = !g;
    yajl_val extra = obj_get(root, "extra");
    yajl_val comfyd = obj_get(extra, "comfyd");
    if (!bad) bad = yajl_gen_map_open(g) != yajl_gen_status_ok || gen_without(g, root, "extra");
    if (!bad)
        bad = gen_key(g, "extra") || yajl_gen_map_open(g) != yajl_gen_status_ok ||
              gen_without(g, extra, "comfyd") || gen_key(g, "comfyd") ||
              yajl_gen_map_open(g) != yajl_gen_status_ok || gen_without(g, comfyd, "provenance") ||
              gen_key(g, "provenance") || jsontree_gen(g, pv) != yajl_gen_status_ok ||
              yajl_gen_map_close(g) != yajl_gen_status_ok ||
              yajl_gen_map_close(g) != yajl_gen_status_ok ||
              yajl_gen_map_close(g) != yajl_gen_status_ok;
    const unsigned char *buf;
    size_t n;
    int rc = PROVN_ENOMEM;
    if (!bad && yajl_gen_get_buf(g, &buf, &n) == yajl_gen_status_ok && (*out = malloc(n + 1))) {
        memcpy(*out, buf, n);
        (*out)[n] = 0;
        *out_len = n;
        rc = PROVN_OK;
    }
    if (g) yajl_gen_free(g);
    yajl_tree_free(root);
    yajl_tree_free(pv);
    return rc;
}

/* lease_graph: leases on nodes of one canvas (lease_graph.h). */
#include "lease_graph.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "graph_rebase.h"
#include "jsonscan.h"

typedef struct {
    uint64_t id;
    provn_actor holder;
    int64_t *nodes; /* sorted, unique */
    size_t n_nodes;
    int has_group;
    char group[LGRAPH_MAX_GROUP + 1];
    double box[4]; /* x, y, w, h */
    int64_t taken_ms, expires_ms;
    int64_t edited[LGRAPH_MAX_EDITED];
    size_t n_edited;
    uint64_t edited_rev;
} lease;

/* A user edit of a leased node, for the diff: which op (revision, node). */
typedef struct {
    uint64_t rev;
    int64_t node;
    uint64_t lease_id;
    provn_actor holder;
} mark;

struct lgraph {
    lease v[LGRAPH_MAX_LEASES];
    size_t n;
    uint64_t next_id;
    mark *marks; /* ring of LGRAPH_MAX_MARKS */
    size_t n_marks, head;
};

int lgraph_create(lgraph **out)
{
    lgraph *t = calloc(1, sizeof *t);
    if (!t || !(t->marks = calloc(LGRAPH_MAX_MARKS, sizeof *t->marks))) {
        free(t);
        return LGRAPH_ENOMEM;
    }
    t->next_id = 1;
    *out = t;
    return LGRAPH_OK;
}

void lgraph_destroy(lgraph *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].nodes);
    free(t->marks);
    free(t);
}

int lgraph_same_holder(const provn_actor *a, const provn_actor *b)
{
    if (a->kind != b->kind) return 0;
    switch (a->kind) {
    case COMFYD__V1__ACTOR_KIND__ACTOR_KIND_SKILL:
        return strcmp(a->session_id, b->session_id) == 0 && strcmp(a->skill, b->skill) == 0;
    case COMFYD__V1__ACTOR_KIND__ACTOR_KIND_MCP:
    case COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC:
        return strcmp(a->name, b->name) == 0;
    default:
        return 1;
    }
}

void lgraph_refusal_clear(lgraph_refusal *r)
{
    if (!r) return;
    if (r->lease) protobuf_c_message_free_unpacked(&r->lease->base, NULL);
    memset(r, 0, sizeof *r);
}

static int refuse(lgraph_refusal *r, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(lgraph_refusal *r, int rc, const char *fmt, ...)
{
    if (r) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->message, sizeof r->message, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* Drops the leases expired at now_ms, keeping the order. */
static void sweep(lgraph *t, int64_t now_ms)
{
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i].expires_ms <= now_ms) {
            free(t->v[i].nodes);
            continue;
        }
        if (k != i) t->v[k] = t->v[i];
        k++;
    }
    t->n = k;
}

static void drop(lgraph *t, size_t i)
{
    free(t->v[i].nodes);
    memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof t->v[0]);
    t->n--;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int holds_node(const lease *l, int64_t id)
{
    return bsearch(&id, l->nodes, l->n_nodes, sizeof *l->nodes, cmp_i64) != NULL;
}

static int in_box(const double box[4], double x, double y)
{
    return x >= box[0] && x <= box[0] + box[2] && y >= box[1] && y <= box[1] + box[3];
}

static char *dup_str(const char *s)
{
    return s && *s ? strdup(s) : (char *)protobuf_c_empty_string;
}

static Comfyd__V1__Position *pos_new(double x, double y)
{
    Comfyd__V1__Position *p = malloc(sizeof *p);
    if (!p) return NULL;
    comfyd__v1__position__init(p);
    p->x = x;
    p->y = y;
    return p;
}

/* l as a new message, or NULL on out of memory. */
static Comfyd__V1__Lease *to_proto(const lease *l)
{
    Comfyd__V1__Lease *m = malloc(sizeof *m);
    if (!m) return NULL;
    comfyd__v1__lease__init(m);
    m->id = l->id;
    m->taken_ms = l->taken_ms;
    m->expires_ms = l->expires_ms;
    m->user_edited_revision = l->edited_rev;
    int bad = !(m->holder = provn_actor_to_proto(&l->holder)) || !(m->group = dup_str(l->group));
    if (!bad && l->n_nodes) {
        if ((m->node_ids = malloc(l->n_nodes * sizeof *m->node_ids))) {
            memcpy(m->node_ids, l->nodes, l->n_nodes * sizeof *m->node_ids);
            m->n_node_ids = l->n_nodes;
        } else
            bad = 1;
    }
    if (!bad && l->n_edited) {
        if ((m->user_edited_node_ids = malloc(l->n_edited * sizeof *m->user_edited_node_ids))) {
            memcpy(m->user_edited_node_ids, l->edited, l->n_edited * sizeof *l->edited);
            m->n_user_edited_node_ids = l->n_edited;
        } else
            bad = 1;
    }
    if (!bad && l->has_group &&
        (!(m->group_pos = pos_new(l->box[0], l->box[1])) ||
         !(m->group_size = pos_new(l->box[2], l->box[3]))))
        bad = 1;
    if (bad) {
        protobuf_c_message_free_unpacked(&m->base, NULL);
        return NULL;
    }
    return m;
}

/* "skill:builder@SESSION until 1700000000000 (in 42 s)" into r->message
 * after prefix, with the lease in r. */
static int refuse_by(lgraph_refusal *r, const lease *l, int64_t node, int64_t now_ms,
                     const char *prefix)
{
    if (!r) return LGRAPH_ELEASED;
    char who[PROVN_MAX_ID + 2 * PROVN_MAX_NAME + 16];
    provn_actor_text(&l->holder, who, sizeof who);
    char what[48] = "";
    if (node) snprintf(what, sizeof what, "#%" PRId64 " ", node);
    snprintf(r->message, sizeof r->message,
             "%snode %sis leased by %s (lease %" PRIu64 "%s%s%s) until %" PRId64 " (in %" PRId64
             " s); ask the holder or wait for it to be released",
             prefix, what, who, l->id, l->has_group ? ", group \"" : "",
             l->has_group ? l->group : "", l->has_group ? "\"" : "", l->expires_ms,
             (l->expires_ms - now_ms + 999) / 1000);
    r->node_id = node;
    if (r->lease) protobuf_c_message_free_unpacked(&r->lease->base, NULL);
    r->lease = to_proto(l);
    return r->lease ? LGRAPH_ELEASED : LGRAPH_ENOMEM;
}

static uint32_t ttl_of(uint32_t ttl_ms)
{
    return ttl_ms ? ttl_ms : LGRAPH_DEFAULT_TTL_MS;
}

static int ttl_ok(uint32_t ttl_ms, lgraph_refusal *r)
{
    uint32_t t = ttl_of(ttl_ms);
    if (t < LGRAPH_MIN_TTL_MS || t > LGRAPH_MAX_TTL_MS)
        return refuse(r, LGRAPH_EINVAL, "ttl_ms must be %u..%u (0: %u), got %u", LGRAPH_MIN_TTL_MS,
                      LGRAPH_MAX_TTL_MS, LGRAPH_DEFAULT_TTL_MS, ttl_ms);
    return LGRAPH_OK;
}

static int holder_ok(const provn_actor *who, lgraph_refusal *r)
{
    switch (who->kind) {
    case COMFYD__V1__ACTOR_KIND__ACTOR_KIND_SKILL:
        return LGRAPH_OK;
    case COMFYD__V1__ACTOR_KIND__ACTOR_KIND_MCP:
    case COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC:
        if (who->name[0]) return LGRAPH_OK;
        return refuse(r, LGRAPH_EINVAL,
                      "a lease needs a named caller (comfyd-caller metadata, the comfyd-caller "
                      "header, or an MCP clientInfo name): others could not be told who holds it");
    default:
        return refuse(r, LGRAPH_EINVAL, "the user and loads do not take leases");
    }
}

/* ---- groups ---- */

static yajl_val obj_get(yajl_val o, const char *key)
{
    if (!YAJL_IS_OBJECT(o)) return NULL;
    for (size_t i = 0; i < o->u.object.len; i++)
        if (strcmp(o->u.object.keys[i], key) == 0) return o->u.object.values[i];
    return NULL;
}

int lgraph_find_group(const char *json, size_t len, const char *name, double box[4], char *title,
                      size_t titlelen, char *err, size_t errlen)
{
    if (err && errlen) err[0] = 0;
    jsonscan_limits lim = {GRAPH_MAX_DEPTH, GRAPH_MAX_VALUES, 1, 1};
    char why[128] = "";
    if (!json || jsonscan(json, len, &lim, why, sizeof why) != JSONSCAN_OK) {
        if (err && errlen) snprintf(err, errlen, "workflow is not acceptable JSON: %s", why);
        return LGRAPH_EINVAL;
    }
    char *copy = malloc(len + 1);
    if (!copy) return LGRAPH_ENOMEM;
    memcpy(copy, json, len);
    copy[len] = 0;
    char perr[128] = "";
    yajl_val root = yajl_tree_parse(copy, perr, sizeof perr);
    free(copy);
    if (!root || !YAJL_IS_OBJECT(root)) {
        if (err && errlen) snprintf(err, errlen, "workflow is not a JSON object");
        yajl_tree_free(root);
        return LGRAPH_EINVAL;
    }
    /* A name that is all digits may be an id; titles are matched first
     * (a group may be titled "1"). */
    char *end = NULL;
    long long want_id = name && *name ? strtoll(name, &end, 10) : 0;
    int by_id = end && *end == 0 && want_id > 0;
    yajl_val groups = obj_get(root, "groups");
    int rc = LGRAPH_ENOTFOUND;
    yajl_val hit = NULL;
    if (YAJL_IS_ARRAY(groups)) {
        size_t ng = groups->u.array.len;
        if (ng > LGRAPH_MAX_GROUPS) ng = LGRAPH_MAX_GROUPS;
        for (int pass = 0; pass < 2 && !hit; pass++)
            for (size_t i = 0; i < ng && !hit; i++) {
                yajl_val gr = groups->u.array.values[i];
                if (pass == 0) {
                    yajl_val t = obj_get(gr, "title");
                    if (YAJL_IS_STRING(t) && name && strcmp(t->u.string, name) == 0) hit = gr;
                } else if (by_id) {
                    yajl_val id = obj_get(gr, "id");
                    if (YAJL_IS_INTEGER(id) && YAJL_GET_INTEGER(id) == want_id) hit = gr;
                }
            }
    }
    if (hit) {
        yajl_val b = obj_get(hit, "bounding");
        rc = LGRAPH_EINVAL;
        if (YAJL_IS_ARRAY(b) && b->u.array.len == 4) {
            rc = LGRAPH_OK;
            for (size_t k = 0; k < 4; k++) {
                yajl_val x = b->u.array.values[k];
                double d = YAJL_IS_NUMBER(x) ? YAJL_GET_DOUBLE(x) : NAN;
                if (!isfinite(d) || fabs(d) > GRAPH_MAX_COORD || (k >= 2 && d < 0))
                    rc = LGRAPH_EINVAL;
                box[k] = d;
            }
        }
        if (rc != LGRAPH_OK) {
            if (err && errlen)
                snprintf(err, errlen, "group \"%s\" has no valid bounding box", name);
        } else if (title && titlelen) {
            yajl_val t = obj_get(hit, "title");
            snprintf(title, titlelen, "%s", YAJL_IS_STRING(t) ? t->u.string : "");
        }
    } else if (err && errlen)
        snprintf(err, errlen, "no group titled \"%s\"%s in the workflow", name ? name : "",
                 by_id ? " nor with that id" : "");
    yajl_tree_free(root);
    return rc;
}

/* ---- taking and giving back ---- */

/* The first lease of another holder than who that holds node id (node 0:
 * any lease of another holder), or NULL. */
static const lease *other_holder(const lgraph *t, const provn_actor *who, int64_t id)
{
    for (size_t i = 0; i < t->n; i++) {
        const lease *l = &t->v[i];
        if (who && lgraph_same_holder(&l->holder, who)) continue;
        if (!id || holds_node(l, id)) return l;
    }
    return NULL;
}

int lgraph_acquire(lgraph *t, const graph *g, const provn_actor *who, const int64_t *nodes,
                   size_t n, const char *group, uint32_t ttl_ms, int64_t now_ms,
                   Comfyd__V1__Lease **out, lgraph_refusal *r)
{
    *out = NULL;
    sweep(t, now_ms);
    int rc;
    if ((rc = holder_ok(who, r)) || (rc = ttl_ok(ttl_ms, r))) return rc;
    int has_group = group && *group;
    if (!n && !has_group) return refuse(r, LGRAPH_EINVAL, "a lease names node_ids or a group");
    if (n > LGRAPH_MAX_NODES)
        return refuse(r, LGRAPH_EINVAL, "a lease names at most %d nodes", LGRAPH_MAX_NODES);
    if (has_group && strlen(group) > LGRAPH_MAX_GROUP)
        return refuse(r, LGRAPH_EINVAL, "a group name is at most %d bytes", LGRAPH_MAX_GROUP);
    if (t->n >= LGRAPH_MAX_LEASES)
        return refuse(r, LGRAPH_EFULL, "this canvas has %d leases in force already",
                      LGRAPH_MAX_LEASES);
    lease l = {0};
    if (has_group) {
        size_t wl = 0;
        const char *wj = graph_workflow_json(g, &wl);
        char e[256];
        rc = lgraph_find_group(wj, wl, group, l.box, l.group, sizeof l.group, e, sizeof e);
        if (rc) return refuse(r, rc, "%s", e[0] ? e : "out of memory");
        l.has_group = 1;
    }
    /* The nodes named, then the group's (their centre inside its box, as
     * the tab counts a node into a group). */
    size_t cap = n, gn = graph_node_count(g);
    if (has_group) cap += gn;
    if (cap && !(l.nodes = malloc(cap * sizeof *l.nodes))) return LGRAPH_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!graph_find_node(g, nodes[i])) {
            free(l.nodes);
            if (r) r->node_id = nodes[i];
            return refuse(r, LGRAPH_ENOTFOUND, "node #%" PRId64 " is not on the canvas", nodes[i]);
        }
        l.nodes[l.n_nodes++] = nodes[i];
    }
    for (size_t i = 0; has_group && i < gn; i++) {
        const graph_node *gnode = graph_node_at(g, i);
        if (in_box(l.box, gnode->x + gnode->w / 2, gnode->y + gnode->h / 2))
            l.nodes[l.n_nodes++] = gnode->id;
    }
    if (l.n_nodes > 1) qsort(l.nodes, l.n_nodes, sizeof *l.nodes, cmp_i64);
    size_t k = 0;
    for (size_t i = 0; i < l.n_nodes; i++)
        if (!k || l.nodes[k - 1] != l.nodes[i]) l.nodes[k++] = l.nodes[i];
    l.n_nodes = k;
    if (l.n_nodes > LGRAPH_MAX_NODES) {
        free(l.nodes);
        return refuse(r, LGRAPH_EINVAL, "a lease holds at most %d nodes", LGRAPH_MAX_NODES);
    }
    /* Another holder's lease on one of them, or a group box of another
     * holder that holds one of them, is in the way. */
    for (size_t i = 0; i < l.n_nodes; i++) {
        const lease *o = other_holder(t, who, l.nodes[i]);
        if (o) {
            int64_t id = l.nodes[i];
            free(l.nodes);
            return refuse_by(r, o, id, now_ms, "cannot lease: ");
        }
    }
    l.id = t->next_id++;
    l.holder = *who;
    l.taken_ms = now_ms;
    l.expires_ms = now_ms + ttl_of(ttl_ms);
    if (!(*out = to_proto(&l))) {
        free(l.nodes);
        return LGRAPH_ENOMEM;
    }
    t->v[t->n++] = l;
    return LGRAPH_OK;
}

/* The index of lease id, or -1 (message in r). */
static long find(const lgraph *t, uint64_t id, lgraph_refusal *r)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].id == id) return (long)i;
    refuse(r, LGRAPH_ENOTFOUND, "lease %" PRIu64 " is not in force (expired or released)", id);
    return -1;
}

int lgraph_renew(lgraph *t, uint64_t id, const provn_actor *who, uint32_t ttl_ms, int64_t now_ms,
                 Comfyd__V1__Lease **out, lgraph_refusal *r)
{
    *out = NULL;
    sweep(t, now_ms);
    int rc = ttl_ok(ttl_ms, r);
    if (rc) return rc;
    long i = find(t, id, r);
    if (i < 0) return LGRAPH_ENOTFOUND;
    lease *l = &t->v[i];
    if (!lgraph_same_holder(&l->holder, who))
        return refuse_by(r, l, 0, now_ms, "cannot renew another holder's lease: ");
    l->expires_ms = now_ms + ttl_of(ttl_ms);
    return (*out = to_proto(l)) ? LGRAPH_OK : LGRAPH_ENOMEM;
}

int lgraph_release(lgraph *t, uint64_t id, const provn_actor *who, int64_t now_ms,
                   unsigned *released, lgraph_refusal *r)
{
    *released = 0;
    sweep(t, now_ms);
    if (!id) {
        for (size_t i = t->n; i-- > 0;)
            if (lgraph_same_holder(&t->v[i].holder, who)) {
                drop(t, i);
                (*released)++;
            }
        return LGRAPH_OK;
    }
    long i = find(t, id, r);
    if (i < 0) return LGRAPH_ENOTFOUND;
    if (!lgraph_same_holder(&t->v[i].holder, who))
        return refuse_by(r, &t->v[i], 0, now_ms, "cannot release another holder's lease: ");
    drop(t, (size_t)i);
    *released = 1;
    return LGRAPH_OK;
}

unsigned lgraph_release_session(lgraph *t, const char *session_id)
{
    unsigned n = 0;
    for (size_t i = t->n; session_id && i-- > 0;)
        if (t->v[i].holder.kind == COMFYD__V1__ACTOR_KIND__ACTOR_KIND_SKILL &&
            strcmp(t->v[i].holder.session_id, session_id) == 0) {
            drop(t, i);
            n++;
        }
    return n;
}

/* ---- checking patches ---- */

typedef struct {
    const lgraph *t;
    const provn_actor *who;
    const lease *hit;
    int64_t node;
} check_ctx;

static void on_change(void *arg, int64_t node)
{
    check_ctx *c = arg;
    if (c->hit) return;
    const lease *l = other_holder(c->t, c->who, node);
    if (l) {
        c->hit = l;
        c->node = node;
    }
}

int lgraph_check(lgraph *t, const graph *g, const provn_actor *who,
                 const Comfyd__V1__Command *const *cmds, size_t n, int64_t now_ms,
                 lgraph_refusal *r)
{
    sweep(t, now_ms);
    if (!t->n || who->kind == COMFYD__V1__ACTOR_KIND__ACTOR_KIND_USER) return LGRAPH_OK;
    for (size_t i = 0; i < n; i++) {
        check_ctx c = {t, who, NULL, 0};
        const Comfyd__V1__Command *cmd = cmds[i];
        if (graph_cmd_changes(g, cmd, on_change, &c)) return LGRAPH_ENOMEM;
        /* A node created inside another holder's group box. */
        if (!c.hit && cmd->command_case == COMFYD__V1__COMMAND__COMMAND_CREATE_NODE &&
            cmd->create_node && cmd->create_node->x && cmd->create_node->y)
            for (size_t k = 0; k < t->n && !c.hit; k++) {
                const lease *l = &t->v[k];
                if (l->has_group && !lgraph_same_holder(&l->holder, who) &&
                    in_box(l->box, cmd->create_node->x->value, cmd->create_node->y->value))
                    c.hit = l;
            }
        if (c.hit) {
            if (r) r->index = i;
            char prefix[96];
            const char *name = cmd->command_case == COMFYD__V1__COMMAND__COMMAND_CREATE_NODE
                                   ? "creates a node inside a leased group: "
                                   : "";
            snprintf(prefix, sizeof prefix, "command %zu %s", i, name);
            return refuse_by(r, c.hit, c.node, now_ms, prefix);
        }
    }
    return LGRAPH_OK;
}

int lgraph_check_all(lgraph *t, const provn_actor *who, int64_t now_ms, lgraph_refusal *r)
{
    sweep(t, now_ms);
    if (who->kind == COMFYD__V1__ACTOR_KIND__ACTOR_KIND_USER) return LGRAPH_OK;
    const lease *l = other_holder(t, who, 0);
    return l ? refuse_by(r, l, 0, now_ms, "replacing the canvas would change nodes: ") : LGRAPH_OK;
}

/* ---- the user's edits ---- */

int lgraph_user_edit(lgraph *t, Comfyd__V1__GraphOp *const *ops, size_t n, uint64_t revision,
                     int64_t now_ms)
{
    sweep(t, now_ms);
    for (size_t i = 0; i < n; i++) {
        int64_t ids[2] = {ops[i]->node_id, ops[i]->from_node_id};
        for (size_t x = 0; x < 2; x++) {
            if (!ids[x] || (x == 1 && ids[1] == ids[0])) continue;
            for (size_t k = 0; k < t->n; k++) {
                lease *l = &t->v[k];
                if (!holds_node(l, ids[x])) continue;
                mark *m = &t->marks[t->head];
                *m = (mark){revision, ids[x], l->id, l->holder};
                t->head = (t->head + 1) % LGRAPH_MAX_MARKS;
                if (t->n_marks < LGRAPH_MAX_MARKS) t->n_marks++;
                l->edited_rev = revision;
                size_t e = 0;
                while (e < l->n_edited && l->edited[e] != ids[x])
                    e++;
                if (e == l->n_edited && l->n_edited < LGRAPH_MAX_EDITED)
                    l->edited[l->n_edited++] = ids[x];
            }
        }
    }
    return LGRAPH_OK;
}

int lgraph_fill_ops(const lgraph *t, Comfyd__V1__GraphOp *const *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        Comfyd__V1__GraphOp *op = ops[i];
        if (op->origin != COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER || op->lease_id) continue;
        for (size_t k = 0; k < t->n_marks; k++) {
            const mark *m = &t->marks[k];
            if (m->rev != op->revision || (m->node != op->node_id && m->node != op->from_node_id))
                continue;
            op->lease_id = m->lease_id;
            if (!(op->lease_holder = provn_actor_to_proto(&m->holder))) return LGRAPH_ENOMEM;
            break;
        }
    }
    return LGRAPH_OK;
}

void lgraph_prune(lgraph *t, const graph *g)
{
    for (size_t i = t->n; i-- > 0;) {
        lease *l = &t->v[i];
        size_t k = 0;
        for (size_t j = 0; j < l->n_nodes; j++)
            if (graph_find_node(g, l->nodes[j])) l->nodes[k++] = l->nodes[j];
        l->n_nodes = k;
        if (!k && !l->has_group) drop(t, i);
    }
}

int lgraph_list(lgraph *t, int64_t now_ms, Comfyd__V1__Lease ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sweep(t, now_ms);
    if (!t->n) return LGRAPH_OK;
    Comfyd__V1__Lease **v = calloc(t->n, sizeof *v);
    if (!v) return LGRAPH_ENOMEM;
    for (size_t i = 0; i < t->n; i++)
        if (!(v[i] = to_proto(&t->v[i]))) {
            for (size_t k = 0; k < i; k++)
                protobuf_c_message_free_unpacked(&v[k]->base, NULL);
            free(v);
            return LGRAPH_ENOMEM;
        }
    *out = v;
    *n = t->n;
    return LGRAPH_OK;
}

size_t lgraph_count(lgraph *t, int64_t now_ms)
{
    sweep(t, now_ms);
    return t->n;
}

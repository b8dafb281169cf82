/* graph_delta: the digest of a mirror and applying a tab's delta (a patch of
 * the workflow's nodes and links) without re-parsing the whole workflow
 * (docs/graph-delta.md). */
#include "graph_int.h"

/* ---- the digest (docs/graph-delta.md) ---- */

static void dg_word(uint32_t *h, uint32_t w)
{
    *h ^= w;
    *h *= 0x01000193u;
}

/* A number as its IEEE-754 binary64 bits, low word first; -0 is 0. */
static void dg_num(uint32_t *h, double d)
{
    if (d == 0) d = 0;
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    dg_word(h, (uint32_t)b);
    dg_word(h, (uint32_t)(b >> 32));
}

/* Decodes one UTF-8 sequence at *p (a byte that starts none stands for
 * itself). */
static uint32_t utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t c = s[0];
    int n = c >= 0xF0 && c < 0xF8 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    if (c >= 0xF8) n = 0;
    uint32_t v = n == 3 ? c & 0x07 : n == 2 ? c & 0x0F : n == 1 ? c & 0x1F : c;
    for (int i = 1; i <= n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *p = s + 1;
            return c;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    *p = s + n + 1;
    return v;
}

/* A string as JavaScript has it: its length in UTF-16 code units, then
 * each unit. */
static void dg_str(uint32_t *h, const char *s)
{
    if (!s) s = "";
    /* Node types are ASCII: one code unit a byte, no decoding (the
     * digest runs over every node on each delta). */
    size_t ascii = 0;
    while (s[ascii] && !((unsigned char)s[ascii] & 0x80))
        ascii++;
    if (!s[ascii]) {
        dg_num(h, (double)ascii);
        for (size_t i = 0; i < ascii; i++)
            dg_word(h, (unsigned char)s[i]);
        return;
    }
    uint32_t units = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;)
        units += utf8_next(&p) > 0xFFFF ? 2 : 1;
    dg_num(h, units);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        uint32_t c = utf8_next(&p);
        if (c > 0xFFFF) {
            c -= 0x10000;
            dg_word(h, 0xD800 + (c >> 10));
            dg_word(h, 0xDC00 + (c & 0x3FF));
        } else {
            dg_word(h, c);
        }
    }
}

static uint32_t mirror_digest(const mirror *m)
{
    uint32_t h = 0x811c9dc5u;
    dg_num(&h, (double)m->n_nodes);
    for (size_t i = 0; i < m->n_nodes; i++) {
        const graph_node *n = &m->nodes[i];
        dg_num(&h, (double)n->id);
        dg_str(&h, n->type);
        dg_num(&h, n->x);
        dg_num(&h, n->y);
        dg_num(&h, n->mode);
        dg_num(&h, (double)n->n_inputs);
        for (size_t k = 0; k < n->n_inputs; k++)
            dg_num(&h, (double)n->inputs[k].link);
        dg_num(&h, (double)n->n_outputs);
        for (size_t k = 0; k < n->n_outputs; k++) {
            dg_num(&h, (double)n->outputs[k].n_links);
            for (size_t j = 0; j < n->outputs[k].n_links; j++)
                dg_num(&h, (double)n->outputs[k].links[j]);
        }
    }
    dg_num(&h, (double)m->n_links);
    for (size_t i = 0; i < m->n_links; i++) {
        const graph_link *l = &m->links[i];
        dg_num(&h, (double)l->id);
        dg_num(&h, (double)l->from_id);
        dg_num(&h, l->from_slot);
        dg_num(&h, (double)l->to_id);
        dg_num(&h, l->to_slot);
    }
    return h;
}

uint32_t graph_digest(const graph *g)
{
    return mirror_digest(&g->m);
}

/* ---- deltas ---- */

static int has_id(const int64_t *v, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == id) return 1;
    return 0;
}

/* The node or link of id in a workflow list (nodes: objects with "id";
 * links: [id, ...] or objects with "id"), or -1. */
static long tree_index(yajl_val list, int64_t id)
{
    if (!YAJL_IS_ARRAY(list)) return -1;
    for (size_t i = 0; i < list->u.array.len; i++) {
        yajl_val v = list->u.array.values[i];
        int64_t x;
        yajl_val idv =
            YAJL_IS_ARRAY(v) && v->u.array.len ? v->u.array.values[0] : gr_obj_get(v, "id");
        if (gr_get_i64(idv, &x) && x == id) return (long)i;
    }
    return -1;
}

static yajl_val new_val(yajl_type t)
{
    yajl_val v = calloc(1, sizeof *v);
    if (v) v->type = t;
    return v;
}

static yajl_val new_int(int64_t x)
{
    yajl_val v = new_val(yajl_t_number);
    if (!v) return NULL;
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)x);
    if (!(v->u.number.r = strdup(buf))) {
        free(v);
        return NULL;
    }
    v->u.number.i = x;
    v->u.number.d = (double)x;
    v->u.number.flags = YAJL_NUMBER_INT_VALID | YAJL_NUMBER_DOUBLE_VALID;
    return v;
}

/* The list under key in root, made (empty) when missing or null. NULL on
 * out of memory or when key holds something else. */
static yajl_val tree_list(yajl_val root, const char *key)
{
    for (size_t i = 0; i < root->u.object.len; i++)
        if (strcmp(root->u.object.keys[i], key) == 0) {
            yajl_val v = root->u.object.values[i];
            if (YAJL_IS_ARRAY(v)) return v;
            if (!YAJL_IS_NULL(v)) return NULL;
            v->type = yajl_t_array;
            v->u.array.values = NULL;
            v->u.array.len = 0;
            return v;
        }
    size_t n = root->u.object.len;
    const char **keys = realloc(root->u.object.keys, (n + 1) * sizeof *keys);
    if (!keys) return NULL;
    root->u.object.keys = keys;
    yajl_val *vals = realloc(root->u.object.values, (n + 1) * sizeof *vals);
    if (!vals) return NULL;
    root->u.object.values = vals;
    char *k = strdup(key);
    yajl_val v = new_val(yajl_t_array);
    if (!k || !v) {
        free(k);
        free(v);
        return NULL;
    }
    keys[n] = k;
    vals[n] = v;
    root->u.object.len = n + 1;
    return v;
}

/* Replaces the number under key in obj when obj has it (v is taken either
 * way). */
static void tree_set_num(yajl_val obj, const char *key, yajl_val v)
{
    for (size_t i = 0; YAJL_IS_OBJECT(obj) && i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0) {
            yajl_tree_free(obj->u.object.values[i]);
            obj->u.object.values[i] = v;
            return;
        }
    yajl_tree_free(v);
}

static int reserve_list(yajl_val list, size_t more)
{
    if (!more) return 0;
    yajl_val *v = realloc(list->u.array.values, (list->u.array.len + more) * sizeof *v);
    if (!v) return -1;
    list->u.array.values = v;
    return 0;
}

/* Puts v into list in place of the entry with id, or at the end (room was
 * reserved). */
static void tree_put(yajl_val list, int64_t id, yajl_val v)
{
    long i = tree_index(list, id);
    if (i >= 0) {
        yajl_tree_free(list->u.array.values[i]);
        list->u.array.values[i] = v;
    } else {
        list->u.array.values[list->u.array.len++] = v;
    }
}

static void tree_drop(yajl_val list, int64_t id)
{
    long i = tree_index(list, id);
    if (i < 0) return;
    yajl_tree_free(list->u.array.values[i]);
    memmove(&list->u.array.values[i], &list->u.array.values[i + 1],
            (list->u.array.len - (size_t)i - 1) * sizeof *list->u.array.values);
    list->u.array.len--;
}

typedef struct {
    graph_node *nodes; /* parsed from d->nodes_json, owned until commit */
    yajl_val *node_vals;
    size_t n_nodes;
    graph_link *links;
    yajl_val *link_vals;
    size_t n_links;
    mirror next;      /* the mirror after the delta: entries borrowed */
    mirror old_sub;   /* what the delta replaces or removes: borrowed */
    mirror new_sub;   /* what it puts in: borrowed */
    yajl_val last[4]; /* last_node_id, last_link_id, state.lastNodeId, state.lastLinkId */
} dwork;

static void dwork_free(dwork *w, int keep_parsed)
{
    if (!keep_parsed) {
        for (size_t i = 0; i < w->n_nodes; i++) {
            gr_node_free(&w->nodes[i]);
            yajl_tree_free(w->node_vals[i]);
        }
        for (size_t i = 0; i < w->n_links; i++) {
            free(w->links[i].type);
            yajl_tree_free(w->link_vals[i]);
        }
        for (size_t i = 0; i < 4; i++)
            yajl_tree_free(w->last[i]);
    }
    free(w->nodes);
    free(w->node_vals);
    free(w->links);
    free(w->link_vals);
    free(w->next.nodes);
    free(w->next.links);
    free(w->old_sub.nodes);
    free(w->old_sub.links);
    free(w->new_sub.nodes);
    free(w->new_sub.links);
}

static int parse_piece(pctx *c, const char *json, yajl_val *out)
{
    const nodeinfo_json_limits lim = {GRAPH_MAX_WORKFLOW_BYTES, GRAPH_MAX_DEPTH, GRAPH_MAX_VALUES};
    int rc = nodeinfo_json_parse(json ? json : "", json ? strlen(json) : 0, &lim, out, c->err,
                                 c->errlen);
    if (rc)
        return rc == NODEINFO_ETOOBIG  ? GRAPH_ETOOBIG
               : rc == NODEINFO_ENOMEM ? GRAPH_ENOMEM
                                       : GRAPH_EINVAL;
    return GRAPH_OK;
}

/* Parses the delta's pieces and builds the mirror after it (and the parts
 * that are diffed for the log). */
static int delta_build(const graph *g, const graph_delta *d, pctx *c, dwork *w)
{
    const mirror *m = &g->m;
    int rc;
    if (d->n_nodes_json > GRAPH_MAX_NODES || d->n_links_json > GRAPH_MAX_LINKS ||
        d->n_removed_nodes > GRAPH_MAX_NODES || d->n_removed_links > GRAPH_MAX_LINKS)
        return PFAIL(c, GRAPH_ETOOBIG, "the delta lists more nodes or links than a canvas holds");
    if ((d->n_nodes_json && (!(w->nodes = calloc(d->n_nodes_json, sizeof *w->nodes)) ||
                             !(w->node_vals = calloc(d->n_nodes_json, sizeof *w->node_vals)))) ||
        (d->n_links_json && (!(w->links = calloc(d->n_links_json, sizeof *w->links)) ||
                             !(w->link_vals = calloc(d->n_links_json, sizeof *w->link_vals)))))
        return GRAPH_ENOMEM;
    for (size_t i = 0; i < d->n_nodes_json; i++) {
        yajl_val v = NULL;
        if ((rc = parse_piece(c, d->nodes_json[i], &v))) return rc;
        w->node_vals[w->n_nodes] = v;
        graph_node *n = &w->nodes[w->n_nodes++];
        if ((rc = gr_parse_node(c, i, v, n))) return rc;
        if (has_id(d->removed_nodes, d->n_removed_nodes, n->id))
            return PFAIL(c, GRAPH_EINVAL, "node %lld is both changed and removed",
                         (long long)n->id);
        for (size_t k = 0; k + 1 < w->n_nodes; k++)
            if (w->nodes[k].id == n->id)
                return PFAIL(c, GRAPH_EINVAL, "node %lld is listed twice", (long long)n->id);
    }
    for (size_t i = 0; i < d->n_links_json; i++) {
        yajl_val v = NULL;
        if ((rc = parse_piece(c, d->links_json[i], &v))) return rc;
        w->link_vals[w->n_links] = v;
        graph_link *l = &w->links[w->n_links++];
        if ((rc = gr_parse_link(c, i, v, l))) return rc;
        if (has_id(d->removed_links, d->n_removed_links, l->id))
            return PFAIL(c, GRAPH_EINVAL, "link %lld is both changed and removed",
                         (long long)l->id);
        for (size_t k = 0; k + 1 < w->n_links; k++)
            if (w->links[k].id == l->id)
                return PFAIL(c, GRAPH_EINVAL, "link %lld is listed twice", (long long)l->id);
    }
    for (size_t i = 0; i < d->n_removed_nodes; i++)
        if (!gr_m_find_node(m, d->removed_nodes[i]))
            return PFAIL(c, GRAPH_EINVAL, "removed node %lld is not on the canvas",
                         (long long)d->removed_nodes[i]);
    for (size_t i = 0; i < d->n_removed_links; i++)
        if (!gr_m_find_link(m, d->removed_links[i]))
            return PFAIL(c, GRAPH_EINVAL, "removed link %lld is not on the canvas",
                         (long long)d->removed_links[i]);

    /* The mirror after: the old entries that stay, then the new ones,
     * sorted. Entries are shallow copies; ownership moves at commit. */
    size_t cap_n = m->n_nodes + w->n_nodes, cap_l = m->n_links + w->n_links;
    size_t cap_on = w->n_nodes + d->n_removed_nodes, cap_ol = w->n_links + d->n_removed_links;
    if (!(w->next.nodes = calloc(cap_n + 1, sizeof *w->next.nodes)) ||
        !(w->next.links = calloc(cap_l + 1, sizeof *w->next.links)) ||
        !(w->old_sub.nodes = calloc(cap_on + 1, sizeof *w->old_sub.nodes)) ||
        !(w->old_sub.links = calloc(cap_ol + 1, sizeof *w->old_sub.links)) ||
        !(w->new_sub.nodes = calloc(w->n_nodes + 1, sizeof *w->new_sub.nodes)) ||
        !(w->new_sub.links = calloc(w->n_links + 1, sizeof *w->new_sub.links)))
        return GRAPH_ENOMEM;
    for (size_t i = 0; i < m->n_nodes; i++) {
        const graph_node *o = &m->nodes[i];
        int gone = has_id(d->removed_nodes, d->n_removed_nodes, o->id);
        for (size_t k = 0; !gone && k < w->n_nodes; k++)
            gone = w->nodes[k].id == o->id;
        if (gone)
            w->old_sub.nodes[w->old_sub.n_nodes++] = *o;
        else
            w->next.nodes[w->next.n_nodes++] = *o;
    }
    for (size_t k = 0; k < w->n_nodes; k++) {
        w->next.nodes[w->next.n_nodes++] = w->nodes[k];
        w->new_sub.nodes[w->new_sub.n_nodes++] = w->nodes[k];
    }
    for (size_t i = 0; i < m->n_links; i++) {
        const graph_link *o = &m->links[i];
        int gone = has_id(d->removed_links, d->n_removed_links, o->id);
        for (size_t k = 0; !gone && k < w->n_links; k++)
            gone = w->links[k].id == o->id;
        if (gone)
            w->old_sub.links[w->old_sub.n_links++] = *o;
        else
            w->next.links[w->next.n_links++] = *o;
    }
    for (size_t k = 0; k < w->n_links; k++) {
        w->next.links[w->next.n_links++] = w->links[k];
        w->new_sub.links[w->new_sub.n_links++] = w->links[k];
    }
    mirror *ms[3] = {&w->next, &w->old_sub, &w->new_sub};
    for (size_t i = 0; i < 3; i++) {
        if (ms[i]->n_nodes > 1)
            qsort(ms[i]->nodes, ms[i]->n_nodes, sizeof *ms[i]->nodes, gr_cmp_node);
        if (ms[i]->n_links > 1)
            qsort(ms[i]->links, ms[i]->n_links, sizeof *ms[i]->links, gr_cmp_link);
    }
    if (w->next.n_nodes > GRAPH_MAX_NODES || w->next.n_links > GRAPH_MAX_LINKS)
        return PFAIL(c, GRAPH_ETOOBIG,
                     "the canvas would hold %zu nodes and %zu links (limits %u, %u)",
                     w->next.n_nodes, w->next.n_links, GRAPH_MAX_NODES, GRAPH_MAX_LINKS);
    /* The tab's counters (a clear_graph resets them), never below an id
     * in use. */
    w->next.last_node_id = d->last_node_id > 0 ? d->last_node_id : 0;
    w->next.last_link_id = d->last_link_id > 0 ? d->last_link_id : 0;
    if (w->next.n_nodes && w->next.nodes[w->next.n_nodes - 1].id > w->next.last_node_id)
        w->next.last_node_id = w->next.nodes[w->next.n_nodes - 1].id;
    if (w->next.n_links && w->next.links[w->next.n_links - 1].id > w->next.last_link_id)
        w->next.last_link_id = w->next.links[w->next.n_links - 1].id;
    w->next.widget_sockets = gr_detect_widget_sockets(&w->next, c->schema);
    return GRAPH_OK;
}

int graph_apply_delta(graph *g, const graph_delta *d, uint64_t revision,
                      Comfyd__V1__GraphOrigin origin, int64_t time_ms, char *err, size_t errlen)
{
    if (revision <= g->revision)
        return text_err(err, errlen, GRAPH_EREVISION, "revision %llu is not above the current %llu",
                        (unsigned long long)revision, (unsigned long long)g->revision);
    pctx c = {err, errlen, g->schema};
    dwork w;
    memset(&w, 0, sizeof w);
    oplist l = {.rev = revision, .origin = origin, .time_ms = time_ms};
    logged_op *packed = NULL;
    int rc = delta_build(g, d, &c, &w);
    if (rc) goto fail;
    uint32_t got = mirror_digest(&w.next);
    if (got != d->digest) {
        rc = text_err(err, errlen, GRAPH_EDIGEST,
                      "the graph after the delta has digest %08x, the tab's has %08x", got,
                      d->digest);
        goto fail;
    }
    /* The tree the workflow text is written from, with room for what the
     * delta adds: nothing after this can fail. */
    if (!g->root) {
        yajl_val root = NULL;
        if ((rc = parse_piece(&c, g->json, &root))) goto fail;
        if (!YAJL_IS_OBJECT(root)) {
            yajl_tree_free(root);
            rc = text_err(err, errlen, GRAPH_EINVAL, "the mirror's workflow is not an object");
            goto fail;
        }
        g->root = root;
    }
    yajl_val tnodes = tree_list(g->root, "nodes"), tlinks = tree_list(g->root, "links");
    if (!tnodes || !tlinks || reserve_list(tnodes, w.n_nodes) || reserve_list(tlinks, w.n_links) ||
        !(w.last[0] = new_int(w.next.last_node_id)) ||
        !(w.last[1] = new_int(w.next.last_link_id)) ||
        !(w.last[2] = new_int(w.next.last_node_id)) || !(w.last[3] = new_int(w.next.last_link_id)))
        goto oom;
    gr_diff_mirrors(&w.old_sub, &w.new_sub, &l);
    if (l.oom) goto oom;
    if (l.n && !(packed = calloc(l.n, sizeof *packed))) goto oom;
    for (size_t i = 0; i < l.n; i++) {
        size_t sz = protobuf_c_message_get_packed_size(&l.v[i]->base);
        if (!(packed[i].buf = malloc(sz ? sz : 1))) goto oom;
        packed[i].len = protobuf_c_message_pack(&l.v[i]->base, packed[i].buf);
        packed[i].rev = revision;
    }

    /* Commit. */
    for (size_t i = 0; i < d->n_removed_nodes; i++)
        tree_drop(tnodes, d->removed_nodes[i]);
    for (size_t i = 0; i < w.n_nodes; i++)
        tree_put(tnodes, w.nodes[i].id, w.node_vals[i]);
    for (size_t i = 0; i < d->n_removed_links; i++)
        tree_drop(tlinks, d->removed_links[i]);
    for (size_t i = 0; i < w.n_links; i++)
        tree_put(tlinks, w.links[i].id, w.link_vals[i]);
    tree_set_num(g->root, "last_node_id", w.last[0]);
    tree_set_num(g->root, "last_link_id", w.last[1]);
    yajl_val state = gr_obj_get(g->root, "state");
    tree_set_num(state, "lastNodeId", w.last[2]);
    tree_set_num(state, "lastLinkId", w.last[3]);
    for (size_t i = 0; i < w.old_sub.n_nodes; i++)
        gr_node_free(&w.old_sub.nodes[i]);
    for (size_t i = 0; i < w.old_sub.n_links; i++)
        free(w.old_sub.links[i].type);
    free(g->m.nodes);
    free(g->m.links);
    g->m = w.next;
    w.next.nodes = NULL;
    w.next.links = NULL;
    g->json_stale = 1;
    g->revision = revision;
    for (size_t i = 0; i < l.n; i++)
        gr_log_push(g, packed[i]);
    free(packed);
    graph_ops_free(l.v, l.n);
    dwork_free(&w, 1);
    return GRAPH_OK;
oom:
    rc = text_err(err, errlen, GRAPH_ENOMEM, "out of memory applying the delta");
fail:
    for (size_t i = 0; packed && i < l.n; i++)
        free(packed[i].buf);
    free(packed);
    graph_ops_free(l.v, l.n);
    dwork_free(&w, 0);
    return rc;
}

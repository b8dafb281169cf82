/* graph: the typed mirror of a canvas's workflow (graph.h): its memory,
 * lifetime and accessors, and building the protobuf messages of its
 * nodes. The rest is split by concern (see graph_int.h). */
#include "graph_int.h"

/* Slot name arrays on the stack are sized for both kinds of node. */
_Static_assert(NODEINFO_MAX_INPUTS <= GRAPH_MAX_SLOTS && NODEINFO_MAX_OUTPUTS <= GRAPH_MAX_SLOTS,
               "schema slots must fit the graph's slot limit");

/* set_node_mode's names and the LiteGraph modes they stand for. */
const gr_node_mode gr_node_modes[GR_N_NODE_MODES] = {
    {"always", 0}, {"never", 2}, {"mute", 2}, {"bypass", 4}};

/* ---- mirror memory ---- */

static void value_free(nodeinfo_value *v)
{
    if (v->kind == NODEINFO_V_TEXT || v->kind == NODEINFO_V_JSON) free(v->s);
    memset(v, 0, sizeof *v);
}

void gr_node_free(graph_node *n)
{
    free(n->type);
    free(n->title);
    for (size_t i = 0; i < n->n_inputs; i++) {
        free(n->inputs[i].name);
        free(n->inputs[i].type);
        free(n->inputs[i].widget);
    }
    free(n->inputs);
    for (size_t i = 0; i < n->n_outputs; i++) {
        free(n->outputs[i].name);
        free(n->outputs[i].type);
        free(n->outputs[i].links);
    }
    free(n->outputs);
    for (size_t i = 0; i < n->n_widgets; i++) {
        free(n->widgets[i].name);
        value_free(&n->widgets[i].value);
    }
    free(n->widgets);
}

void gr_mirror_free(mirror *m)
{
    for (size_t i = 0; i < m->n_nodes; i++)
        gr_node_free(&m->nodes[i]);
    free(m->nodes);
    for (size_t i = 0; i < m->n_links; i++)
        free(m->links[i].type);
    free(m->links);
    memset(m, 0, sizeof *m);
}

const graph_node *gr_m_find_node(const mirror *m, int64_t id)
{
    size_t lo = 0, hi = m->n_nodes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->nodes[mid].id == id) return &m->nodes[mid];
        if (m->nodes[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const graph_link *gr_m_find_link(const mirror *m, int64_t id)
{
    size_t lo = 0, hi = m->n_links;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->links[mid].id == id) return &m->links[mid];
        if (m->links[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- lifetime and accessors ---- */

static void log_clear(graph *g)
{
    for (size_t i = 0; i < g->log_count; i++)
        free(g->log[(g->log_head + i) % GRAPH_OPLOG_MAX].buf);
    g->log_count = 0;
}

void graph_destroy(graph *g)
{
    if (!g) return;
    gr_mirror_free(&g->m);
    log_clear(g);
    free(g->log);
    yajl_tree_free(g->root);
    free(g->json);
    nodeinfo_unref(g->schema);
    free(g);
}

uint64_t graph_revision(const graph *g)
{
    return g->revision;
}

nodeinfo *graph_schema(const graph *g)
{
    return g->schema;
}

const char *graph_workflow_json(const graph *g, size_t *len)
{
    if (g->json_stale) {
        /* Written on demand: a cache of root, so the graph stays const to
         * its readers. Out of memory here has no answer but to stop. */
        graph *mg = (graph *)g;
        yajl_gen gen = yajl_gen_alloc(NULL);
        const unsigned char *buf;
        size_t n;
        if (!gen || gr_gen_json(gen, g->root) != yajl_gen_status_ok ||
            yajl_gen_get_buf(gen, &buf, &n) != yajl_gen_status_ok)
            abort();
        char *copy = malloc(n + 1);
        if (!copy) abort();
        memcpy(copy, buf, n);
        copy[n] = 0;
        yajl_gen_free(gen);
        free(mg->json);
        mg->json = copy;
        mg->json_len = n;
        mg->json_stale = 0;
    }
    if (len) *len = g->json_len;
    return g->json;
}

size_t graph_node_count(const graph *g)
{
    return g->m.n_nodes;
}

const graph_node *graph_node_at(const graph *g, size_t i)
{
    return i < g->m.n_nodes ? &g->m.nodes[i] : NULL;
}

const graph_node *graph_find_node(const graph *g, int64_t id)
{
    return gr_m_find_node(&g->m, id);
}

size_t graph_link_count(const graph *g)
{
    return g->m.n_links;
}

const graph_link *graph_link_at(const graph *g, size_t i)
{
    return i < g->m.n_links ? &g->m.links[i] : NULL;
}

const graph_link *graph_find_link(const graph *g, int64_t id)
{
    return gr_m_find_link(&g->m, id);
}

int64_t graph_next_node_id(const graph *g)
{
    return g->m.last_node_id + 1;
}

int64_t graph_next_link_id(const graph *g)
{
    return g->m.last_link_id + 1;
}

/* ---- protobuf building ---- */

static char *pstr(const char *s)
{
    return strdup(s ? s : "");
}

static Comfyd__V1__Position *ppos(double x, double y)
{
    Comfyd__V1__Position *p = malloc(sizeof *p);
    if (p) {
        comfyd__v1__position__init(p);
        p->x = x;
        p->y = y;
    }
    return p;
}

static const char *display_title(const nodeinfo *schema, const graph_node *n)
{
    if (n->title) return n->title;
    const nodeinfo_type *t = nodeinfo_find(schema, n->type);
    return t ? t->display_name : n->type;
}

static Comfyd__V1__Node *node_to_proto(const nodeinfo *schema, const graph_node *n)
{
    Comfyd__V1__Node *m = malloc(sizeof *m);
    if (!m) return NULL;
    comfyd__v1__node__init(m);
    m->id = n->id;
    m->mode = n->mode;
    if (!(m->type = pstr(n->type)) || !(m->title = pstr(display_title(schema, n))) ||
        !(m->pos = ppos(n->x, n->y)) || !(m->size = ppos(n->w, n->h)))
        goto fail;
    if (n->n_inputs && !(m->inputs = malloc(n->n_inputs * sizeof *m->inputs))) goto fail;
    for (size_t i = 0; i < n->n_inputs; i++) {
        Comfyd__V1__NodeInput *in = malloc(sizeof *in);
        if (!in) goto fail;
        comfyd__v1__node_input__init(in);
        m->inputs[m->n_inputs++] = in;
        in->link = n->inputs[i].link;
        if (!(in->name = pstr(n->inputs[i].name)) || !(in->type = pstr(n->inputs[i].type)) ||
            !(in->widget = pstr(n->inputs[i].widget)))
            goto fail;
    }
    if (n->n_outputs && !(m->outputs = malloc(n->n_outputs * sizeof *m->outputs))) goto fail;
    for (size_t i = 0; i < n->n_outputs; i++) {
        Comfyd__V1__NodeOutput *o = malloc(sizeof *o);
        if (!o) goto fail;
        comfyd__v1__node_output__init(o);
        m->outputs[m->n_outputs++] = o;
        if (!(o->name = pstr(n->outputs[i].name)) || !(o->type = pstr(n->outputs[i].type)))
            goto fail;
        if (n->outputs[i].n_links) {
            if (!(o->links = malloc(n->outputs[i].n_links * sizeof *o->links))) goto fail;
            memcpy(o->links, n->outputs[i].links, n->outputs[i].n_links * sizeof *o->links);
            o->n_links = n->outputs[i].n_links;
        }
    }
    if (n->n_widgets && !(m->widgets = malloc(n->n_widgets * sizeof *m->widgets))) goto fail;
    for (size_t i = 0; i < n->n_widgets; i++) {
        Comfyd__V1__Widget *w = malloc(sizeof *w);
        if (!w) goto fail;
        comfyd__v1__widget__init(w);
        m->widgets[m->n_widgets++] = w;
        if (!(w->name = pstr(n->widgets[i].name))) goto fail;
        if (n->widgets[i].value.kind != NODEINFO_V_NONE &&
            !(w->value = nodeinfo_value_to_proto(&n->widgets[i].value)))
            goto fail;
    }
    return m;
fail:
    protobuf_c_message_free_unpacked(&m->base, NULL);
    return NULL;
}

Comfyd__V1__Node *graph_node_to_proto(const graph *g, const graph_node *n)
{
    return node_to_proto(g->schema, n);
}

Comfyd__V1__Graph *graph_to_proto(const graph *g)
{
    Comfyd__V1__Graph *m = malloc(sizeof *m);
    if (!m) return NULL;
    comfyd__v1__graph__init(m);
    m->revision = g->revision;
    const mirror *mr = &g->m;
    if (mr->n_nodes && !(m->nodes = malloc(mr->n_nodes * sizeof *m->nodes))) goto fail;
    for (size_t i = 0; i < mr->n_nodes; i++) {
        if (!(m->nodes[i] = node_to_proto(g->schema, &mr->nodes[i]))) goto fail;
        m->n_nodes++;
    }
    if (mr->n_links && !(m->links = malloc(mr->n_links * sizeof *m->links))) goto fail;
    for (size_t i = 0; i < mr->n_links; i++) {
        Comfyd__V1__Link *l = malloc(sizeof *l);
        if (!l) goto fail;
        comfyd__v1__link__init(l);
        m->links[m->n_links++] = l;
        const graph_link *s = &mr->links[i];
        l->id = s->id;
        l->from_id = s->from_id;
        l->from_slot = s->from_slot;
        l->to_id = s->to_id;
        l->to_slot = s->to_slot;
        if (!(l->type = pstr(s->type))) goto fail;
    }
    return m;
fail:
    protobuf_c_message_free_unpacked(&m->base, NULL);
    return NULL;
}

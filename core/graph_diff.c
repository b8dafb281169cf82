/* graph_diff: the differences between two mirrors as replayable commands
 * with summaries (what a user's edit shows as), and the operation log that
 * graph_diff_since reads. */
#include "graph_int.h"

/* ---- differences and the operation log ---- */

static void op_about(oplist *l, int64_t node, int64_t link, int64_t from, const char *widget)
{
    l->node = node;
    l->link = link;
    l->from = from;
    l->widget = widget;
}

static void op_push(oplist *l, Comfyd__V1__Command *cmd, int want_cmd, char *summary)
{
    Comfyd__V1__GraphOp *op = NULL;
    if (l->oom || (want_cmd && !cmd)) goto oom;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        Comfyd__V1__GraphOp **v = realloc(l->v, cap * sizeof *v);
        if (!v) goto oom;
        l->v = v;
        l->cap = cap;
    }
    if (!(op = malloc(sizeof *op))) goto oom;
    comfyd__v1__graph_op__init(op);
    op->revision = l->rev;
    op->origin = l->origin;
    op->time_ms = l->time_ms;
    op->command = cmd;
    op->node_id = l->node;
    op->link_id = l->link;
    op->from_node_id = l->from;
    one_line(summary);
    if (!(op->summary = strdup(summary)) || (l->widget && !(op->widget = strdup(l->widget)))) {
        free(op->summary);
        op->command = NULL;
        free(op);
        goto oom;
    }
    l->v[l->n++] = op;
    return;
oom:
    l->oom = 1;
    if (cmd) protobuf_c_message_free_unpacked(&cmd->base, NULL);
}

static Comfyd__V1__NodeRef *ref_id(int64_t id)
{
    Comfyd__V1__NodeRef *r = malloc(sizeof *r);
    if (r) {
        comfyd__v1__node_ref__init(r);
        r->node_case = COMFYD__V1__NODE_REF__NODE_ID;
        r->id = id;
    }
    return r;
}

static Comfyd__V1__SlotRef *slot_index(uint32_t i)
{
    Comfyd__V1__SlotRef *r = malloc(sizeof *r);
    if (r) {
        comfyd__v1__slot_ref__init(r);
        r->slot_case = COMFYD__V1__SLOT_REF__SLOT_INDEX;
        r->index = i;
    }
    return r;
}

static Google__Protobuf__DoubleValue *pdouble(double d)
{
    Google__Protobuf__DoubleValue *m = malloc(sizeof *m);
    if (m) {
        google__protobuf__double_value__init(m);
        m->value = d;
    }
    return m;
}

/* A Command holding a payload of the given size: the payload is attached
 * before it is filled, so freeing the command frees whatever was set. */
static Comfyd__V1__Command *mk_cmd(Comfyd__V1__Command__CommandCase kind, void *payload)
{
    Comfyd__V1__Command *c = payload ? malloc(sizeof *c) : NULL;
    if (!c) {
        free(payload);
        return NULL;
    }
    comfyd__v1__command__init(c);
    c->command_case = kind;
    c->create_node = payload; /* the union's members are all pointers */
    return c;
}

static void node_ref_text(strbuf *b, const graph_node *n)
{
    sb_add(b, "#%lld %.200s", (long long)n->id, n->type);
}

static void slot_text(strbuf *b, const graph_node *n, int output, uint32_t slot)
{
    const char *name = NULL;
    if (output && slot < n->n_outputs) name = n->outputs[slot].name;
    if (!output && slot < n->n_inputs) name = n->inputs[slot].name;
    node_ref_text(b, n);
    if (name && name[0])
        sb_add(b, ".%.100s", name);
    else
        sb_add(b, " %s %u", output ? "output" : "input", slot);
}

static void coords_text(strbuf *b, double x, double y)
{
    char xs[40], ys[40];
    fmt_num(xs, sizeof xs, x);
    fmt_num(ys, sizeof ys, y);
    sb_add(b, "(%s, %s)", xs, ys);
}

static void op_remove(oplist *l, const graph_node *n)
{
    char sum[512];
    strbuf b = {sum, sizeof sum, 0};
    sb_add(&b, "removed ");
    node_ref_text(&b, n);
    op_about(l, n->id, 0, 0, NULL);
    Comfyd__V1__RemoveNodeCommand *p = malloc(sizeof *p);
    if (p) comfyd__v1__remove_node_command__init(p);
    Comfyd__V1__Command *c = mk_cmd(COMFYD__V1__COMMAND__COMMAND_REMOVE_NODE, p);
    if (c && !(p->node_id = ref_id(n->id))) {
        protobuf_c_message_free_unpacked(&c->base, NULL);
        c = NULL;
    }
    op_push(l, c, 1, sum);
}

/* Widgets that a create_node command can carry: named ones with a value. */
static int settable(const graph_widget *w)
{
    return w->name[0] != '#' && w->value.kind != NODEINFO_V_NONE &&
           w->value.kind != NODEINFO_V_JSON;
}

static void op_add(oplist *l, const graph_node *n)
{
    char sum[512];
    strbuf b = {sum, sizeof sum, 0};
    sb_add(&b, "added ");
    node_ref_text(&b, n);
    op_about(l, n->id, 0, 0, NULL);
    sb_add(&b, " at ");
    coords_text(&b, n->x, n->y);
    Comfyd__V1__CreateNodeCommand *p = malloc(sizeof *p);
    if (p) comfyd__v1__create_node_command__init(p);
    Comfyd__V1__Command *c = mk_cmd(COMFYD__V1__COMMAND__COMMAND_CREATE_NODE, p);
    if (!c) return op_push(l, NULL, 1, sum);
    size_t nw = 0;
    for (size_t i = 0; i < n->n_widgets; i++)
        nw += settable(&n->widgets[i]);
    int ok = (p->node_type = strdup(n->type)) && (p->x = pdouble(n->x)) && (p->y = pdouble(n->y)) &&
             (!n->title || (p->title = strdup(n->title))) &&
             (!nw || (p->widgets = malloc(nw * sizeof *p->widgets)));
    for (size_t i = 0; ok && i < n->n_widgets; i++) {
        const graph_widget *w = &n->widgets[i];
        if (!settable(w)) continue;
        Comfyd__V1__CreateNodeCommand__WidgetsEntry *e = malloc(sizeof *e);
        if (!e) {
            ok = 0;
            break;
        }
        comfyd__v1__create_node_command__widgets_entry__init(e);
        p->widgets[p->n_widgets++] = e;
        ok = (e->key = strdup(w->name)) && (e->value = nodeinfo_value_to_proto(&w->value));
    }
    if (!ok) {
        protobuf_c_message_free_unpacked(&c->base, NULL);
        c = NULL;
    }
    op_push(l, c, 1, sum);
}

static void op_move(oplist *l, const graph_node *n)
{
    char sum[512];
    strbuf b = {sum, sizeof sum, 0};
    sb_add(&b, "moved ");
    node_ref_text(&b, n);
    op_about(l, n->id, 0, 0, NULL);
    sb_add(&b, " to ");
    coords_text(&b, n->x, n->y);
    Comfyd__V1__MoveNodeCommand *p = malloc(sizeof *p);
    if (p) comfyd__v1__move_node_command__init(p);
    Comfyd__V1__Command *c = mk_cmd(COMFYD__V1__COMMAND__COMMAND_MOVE_NODE, p);
    if (c) {
        p->x = n->x;
        p->y = n->y;
        if (!(p->node_id = ref_id(n->id))) {
            protobuf_c_message_free_unpacked(&c->base, NULL);
            c = NULL;
        }
    }
    op_push(l, c, 1, sum);
}

static void op_widget(oplist *l, const graph_node *n, const graph_widget *w)
{
    char sum[512];
    strbuf b = {sum, sizeof sum, 0};
    sb_add(&b, "set ");
    node_ref_text(&b, n);
    op_about(l, n->id, 0, 0, w->name);
    sb_add(&b, ".%.100s to ", w->name);
    sb_nvalue(&b, &w->value);
    if (w->value.kind == NODEINFO_V_NONE) {
        /* A null has no Value: the change is reported, not replayable. */
        op_push(l, NULL, 0, sum);
        return;
    }
    Comfyd__V1__SetWidgetCommand *p = malloc(sizeof *p);
    if (p) comfyd__v1__set_widget_command__init(p);
    Comfyd__V1__Command *c = mk_cmd(COMFYD__V1__COMMAND__COMMAND_SET_WIDGET, p);
    if (c && (!(p->node_id = ref_id(n->id)) || !(p->name = strdup(w->name)) ||
              !(p->value = nodeinfo_value_to_proto(&w->value)))) {
        protobuf_c_message_free_unpacked(&c->base, NULL);
        c = NULL;
    }
    op_push(l, c, 1, sum);
}

static void op_title(oplist *l, const graph_node *n)
{
    char sum[512];
    strbuf b = {sum, sizeof sum, 0};
    op_about(l, n->id, 0, 0, NULL);
    if (n->title) {
        sb_add(&b, "renamed ");
        node_ref_text(&b, n);
        sb_add(&b, " to ");
        sb_quote(&b, n->title);
    } else {
        sb_add(&b, "reset the title of ");
        node_ref_text(&b, n);
    }
    op_push(l, NULL, 0, sum);
}

static void op_mode(oplist *l, const graph_node *n)
{
    char sum[512];
    strbuf b = {sum, sizeof sum, 0};
    op_about(l, n->id, 0, 0, NULL);
    switch (n->mode) {
    case 0:
        sb_add(&b, "enabled ");
        break;
    case 2:
        sb_add(&b, "muted ");
        break;
    case 4:
        sb_add(&b, "bypassed ");
        break;
    default:
        sb_add(&b, "set mode %d on ", n->mode);
        break;
    }
    node_ref_text(&b, n);
    /* Modes 1 and 3 (on event, on trigger) have no name in set_node_mode:
     * reported, not replayable. */
    const char *name = NULL;
    for (size_t k = 0; k < sizeof gr_node_modes / sizeof gr_node_modes[0] && !name; k++)
        if (gr_node_modes[k].mode == n->mode) name = gr_node_modes[k].name;
    if (!name) return op_push(l, NULL, 0, sum);
    Comfyd__V1__SetNodeModeCommand *p = malloc(sizeof *p);
    if (p) comfyd__v1__set_node_mode_command__init(p);
    Comfyd__V1__Command *c = mk_cmd(COMFYD__V1__COMMAND__COMMAND_SET_NODE_MODE, p);
    if (c && (!(p->node_id = ref_id(n->id)) || !(p->mode = strdup(name)))) {
        protobuf_c_message_free_unpacked(&c->base, NULL);
        c = NULL;
    }
    op_push(l, c, 1, sum);
}

static const graph_widget *find_widget(const graph_node *n, const char *name);
static int value_eq(const nodeinfo_value *a, const nodeinfo_value *b);

/* The diff ops of the commands that set a field of a node: o and n are the
 * same node before and after. */
void gr_d_move(oplist *l, const graph_node *o, const graph_node *n)
{
    if (num_abs(n->x - o->x) > POS_EPSILON || num_abs(n->y - o->y) > POS_EPSILON) op_move(l, n);
}

void gr_d_widgets(oplist *l, const graph_node *o, const graph_node *n)
{
    for (size_t k = 0; k < n->n_widgets; k++) {
        const graph_widget *w = &n->widgets[k], *ow = find_widget(o, w->name);
        if (!ow || !value_eq(&w->value, &ow->value)) op_widget(l, n, w);
    }
}

void gr_d_mode(oplist *l, const graph_node *o, const graph_node *n)
{
    if (n->mode != o->mode) op_mode(l, n);
}

static void op_link(oplist *l, const mirror *m, const graph_link *k, int added)
{
    char sum[512];
    strbuf b = {sum, sizeof sum, 0};
    const graph_node *from = gr_m_find_node(m, k->from_id), *to = gr_m_find_node(m, k->to_id);
    Comfyd__V1__Command *c;
    op_about(l, k->to_id, k->id, k->from_id, NULL);
    if (added) {
        sb_add(&b, "connected ");
        if (from)
            slot_text(&b, from, 1, k->from_slot);
        else
            sb_add(&b, "#%lld output %u", (long long)k->from_id, k->from_slot);
        sb_add(&b, " to ");
        if (to)
            slot_text(&b, to, 0, k->to_slot);
        else
            sb_add(&b, "#%lld input %u", (long long)k->to_id, k->to_slot);
        Comfyd__V1__ConnectCommand *p = malloc(sizeof *p);
        if (p) comfyd__v1__connect_command__init(p);
        c = mk_cmd(COMFYD__V1__COMMAND__COMMAND_CONNECT, p);
        if (c &&
            (!(p->from_id = ref_id(k->from_id)) || !(p->from_slot = slot_index(k->from_slot)) ||
             !(p->to_id = ref_id(k->to_id)) || !(p->to_slot = slot_index(k->to_slot)))) {
            protobuf_c_message_free_unpacked(&c->base, NULL);
            c = NULL;
        }
    } else {
        sb_add(&b, "disconnected ");
        if (to)
            slot_text(&b, to, 0, k->to_slot);
        else
            sb_add(&b, "#%lld input %u", (long long)k->to_id, k->to_slot);
        if (from) {
            sb_add(&b, " from ");
            slot_text(&b, from, 1, k->from_slot);
        }
        Comfyd__V1__DisconnectCommand *p = malloc(sizeof *p);
        if (p) comfyd__v1__disconnect_command__init(p);
        c = mk_cmd(COMFYD__V1__COMMAND__COMMAND_DISCONNECT, p);
        if (c && (!(p->node_id = ref_id(k->to_id)) || !(p->slot = slot_index(k->to_slot)))) {
            protobuf_c_message_free_unpacked(&c->base, NULL);
            c = NULL;
        }
    }
    op_push(l, c, 1, sum);
}

static int value_eq(const nodeinfo_value *a, const nodeinfo_value *b)
{
    int an = a->kind == NODEINFO_V_INT || a->kind == NODEINFO_V_NUMBER;
    int bn = b->kind == NODEINFO_V_INT || b->kind == NODEINFO_V_NUMBER;
    if (an && bn) {
        if (a->kind == NODEINFO_V_INT && b->kind == NODEINFO_V_INT) return a->i == b->i;
        double x = a->kind == NODEINFO_V_INT ? (double)a->i : a->d;
        double y = b->kind == NODEINFO_V_INT ? (double)b->i : b->d;
        return x == y;
    }
    if (a->kind != b->kind) return 0;
    switch (a->kind) {
    case NODEINFO_V_TEXT:
    case NODEINFO_V_JSON:
        return strcmp(a->s, b->s) == 0;
    case NODEINFO_V_BOOL:
        return !a->b == !b->b;
    default:
        return 1;
    }
}

static const graph_widget *find_widget(const graph_node *n, const char *name)
{
    for (size_t i = 0; i < n->n_widgets; i++)
        if (strcmp(n->widgets[i].name, name) == 0) return &n->widgets[i];
    return NULL;
}

/* The same node in both mirrors: same id and type (a new type under an old
 * id is a removal and an addition). */
static const graph_node *same_node(const mirror *m, const graph_node *n)
{
    const graph_node *o = gr_m_find_node(m, n->id);
    return o && strcmp(o->type, n->type) == 0 ? o : NULL;
}

static int same_link(const graph_link *a, const graph_link *b)
{
    return a->from_id == b->from_id && a->from_slot == b->from_slot && a->to_id == b->to_id &&
           a->to_slot == b->to_slot;
}

static int input_relinked(const mirror *m, const graph_link *k)
{
    const graph_node *to = gr_m_find_node(m, k->to_id);
    return to && k->to_slot < to->n_inputs && to->inputs[k->to_slot].link != 0;
}

void gr_diff_mirrors(const mirror *a, const mirror *b, oplist *l)
{
    /* Removed links, except those implied by a removed node or by a new
     * link into the same input (connect replaces). */
    for (size_t i = 0; i < a->n_links; i++) {
        const graph_link *k = &a->links[i];
        const graph_link *nk = gr_m_find_link(b, k->id);
        if (nk && same_link(k, nk)) continue;
        const graph_node *from = gr_m_find_node(a, k->from_id), *to = gr_m_find_node(a, k->to_id);
        if ((from && !same_node(b, from)) || (to && !same_node(b, to))) continue;
        if (input_relinked(b, k)) continue;
        op_link(l, a, k, 0);
    }
    for (size_t i = 0; i < a->n_nodes; i++)
        if (!same_node(b, &a->nodes[i])) op_remove(l, &a->nodes[i]);
    for (size_t i = 0; i < b->n_nodes; i++)
        if (!same_node(a, &b->nodes[i])) op_add(l, &b->nodes[i]);
    for (size_t i = 0; i < b->n_nodes; i++) {
        const graph_node *n = &b->nodes[i], *o = same_node(a, n);
        if (!o) continue;
        /* A node's own fields: each command that sets one logs its
         * change (the title has no command). */
        if ((n->title == NULL) != (o->title == NULL) ||
            (n->title && strcmp(n->title, o->title) != 0))
            op_title(l, n);
        gr_diff_node_fields(l, o, n);
    }
    for (size_t i = 0; i < b->n_links; i++) {
        const graph_link *k = &b->links[i];
        const graph_link *ok = gr_m_find_link(a, k->id);
        if (ok && same_link(k, ok)) continue;
        op_link(l, b, k, 1);
    }
}

void graph_ops_free(Comfyd__V1__GraphOp **ops, size_t n_ops)
{
    for (size_t i = 0; ops && i < n_ops; i++)
        if (ops[i]) protobuf_c_message_free_unpacked(&ops[i]->base, NULL);
    free(ops);
}

void gr_log_push(graph *g, logged_op op)
{
    if (g->log_count == GRAPH_OPLOG_MAX) {
        logged_op *old = &g->log[g->log_head];
        if (old->rev > g->log_floor) g->log_floor = old->rev;
        free(old->buf);
        g->log_head = (g->log_head + 1) % GRAPH_OPLOG_MAX;
        g->log_count--;
    }
    g->log[(g->log_head + g->log_count) % GRAPH_OPLOG_MAX] = op;
    g->log_count++;
}

int graph_apply_workflow(graph *g, const char *json, size_t len, uint64_t revision,
                         Comfyd__V1__GraphOrigin origin, int64_t time_ms,
                         Comfyd__V1__GraphOp ***ops, size_t *n_ops, char *err, size_t errlen)
{
    if (ops) *ops = NULL;
    if (n_ops) *n_ops = 0;
    if (revision <= g->revision)
        return text_err(err, errlen, GRAPH_EREVISION, "revision %llu is not above the current %llu",
                        (unsigned long long)revision, (unsigned long long)g->revision);
    mirror m;
    pctx c = {err, errlen, g->schema};
    int rc = gr_parse_mirror(&c, json, len, &m);
    if (rc) return rc;
    oplist l = {.rev = revision, .origin = origin, .time_ms = time_ms};
    logged_op *packed = NULL;
    char *copy = malloc(len + 1);
    if (!copy) goto oom;
    memcpy(copy, json, len);
    copy[len] = 0;
    gr_diff_mirrors(&g->m, &m, &l);
    if (l.oom) goto oom;
    if (l.n && !(packed = calloc(l.n, sizeof *packed))) goto oom;
    for (size_t i = 0; i < l.n; i++) {
        size_t sz = protobuf_c_message_get_packed_size(&l.v[i]->base);
        if (!(packed[i].buf = malloc(sz ? sz : 1))) goto oom;
        packed[i].len = protobuf_c_message_pack(&l.v[i]->base, packed[i].buf);
        packed[i].rev = revision;
    }
    /* Commit: nothing below can fail. */
    gr_mirror_free(&g->m);
    g->m = m;
    free(g->json);
    g->json = copy;
    g->json_len = len;
    yajl_tree_free(g->root);
    g->root = NULL;
    g->json_stale = 0;
    g->revision = revision;
    for (size_t i = 0; i < l.n; i++)
        gr_log_push(g, packed[i]);
    free(packed);
    if (ops) {
        *ops = l.v;
        *n_ops = l.n;
    } else {
        graph_ops_free(l.v, l.n);
    }
    return GRAPH_OK;
oom:
    for (size_t i = 0; packed && i < l.n; i++)
        free(packed[i].buf);
    free(packed);
    graph_ops_free(l.v, l.n);
    free(copy);
    gr_mirror_free(&m);
    return text_err(err, errlen, GRAPH_ENOMEM, "out of memory");
}

uint64_t graph_log_floor(const graph *g)
{
    return g->log_floor;
}

int graph_diff_since(const graph *g, uint64_t since, Comfyd__V1__GraphOp ***ops, size_t *n_ops)
{
    *ops = NULL;
    *n_ops = 0;
    if (since < g->log_floor) return GRAPH_ETRUNCATED;
    size_t first = g->log_count;
    for (size_t i = 0; i < g->log_count; i++)
        if (g->log[(g->log_head + i) % GRAPH_OPLOG_MAX].rev > since) {
            first = i;
            break;
        }
    size_t n = g->log_count - first;
    if (n == 0) return GRAPH_OK;
    Comfyd__V1__GraphOp **v = calloc(n, sizeof *v);
    if (!v) return GRAPH_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const logged_op *op = &g->log[(g->log_head + first + i) % GRAPH_OPLOG_MAX];
        if (!(v[i] = comfyd__v1__graph_op__unpack(NULL, op->len, op->buf))) {
            graph_ops_free(v, i);
            return GRAPH_ENOMEM;
        }
    }
    *ops = v;
    *n_ops = n;
    return GRAPH_OK;
}

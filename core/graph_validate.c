/* graph_validate: graph-level validation of a batch of commands
 * (graph_validate): the batch is simulated on a scratch copy of the mirror,
 * so that a command sees the ones before it, and every error names its
 * command, with suggestions and predicted ids. The per-command validators
 * are the command table's (graph_cmd.c). */
#include "graph_int.h"

/* ---- validation ---- */
static const char *cmd_name(const Comfyd__V1__Command *c)
{
    const char *n = graph_cmd_name(c);
    return n ? n : "empty command";
}

static Comfyd__V1__GraphError *mk_error(Comfyd__V1__GraphErrorCode code, const char *msg,
                                        int32_t index, const char *const *sugg, size_t n_sugg)
{
    Comfyd__V1__GraphError *e = malloc(sizeof *e);
    if (!e) return NULL;
    comfyd__v1__graph_error__init(e);
    e->code = code;
    e->index = index;
    if (!(e->message = strdup(msg))) goto fail;
    if (n_sugg) {
        if (!(e->suggestions = malloc(n_sugg * sizeof *e->suggestions))) goto fail;
        for (size_t i = 0; i < n_sugg; i++) {
            if (!(e->suggestions[i] = strdup(sugg[i]))) goto fail;
            e->n_suggestions++;
        }
    }
    return e;
fail:
    protobuf_c_message_free_unpacked(&e->base, NULL);
    return NULL;
}

void gr_add_error(scratch *s, long idx, Comfyd__V1__GraphErrorCode code, const char *const *sugg,
                  size_t n_sugg, const char *fmt, ...)
{
    s->failed = 1;
    if (s->oom) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    graph_check *out = s->out;
    if (out->n_errors == s->cap_errors) {
        size_t cap = s->cap_errors ? 2 * s->cap_errors : 8;
        Comfyd__V1__GraphError **v = realloc(out->errors, cap * sizeof *v);
        if (!v) {
            s->oom = 1;
            return;
        }
        out->errors = v;
        s->cap_errors = cap;
    }
    Comfyd__V1__GraphError *e = mk_error(code, msg, (int32_t)idx, sugg, n_sugg);
    if (!e) {
        s->oom = 1;
        return;
    }
    out->errors[out->n_errors++] = e;
    if (idx >= 0 && (size_t)idx < out->n_results && !out->results[idx]->error &&
        !(out->results[idx]->error = mk_error(code, msg, (int32_t)idx, sugg, n_sugg)))
        s->oom = 1;
}

static const char *in_name(const s_node *n, size_t i)
{
    return n->base ? n->base->inputs[i].name : n->cin[i]->name;
}

static const char *in_type(const s_node *n, size_t i)
{
    return n->base ? n->base->inputs[i].type : n->cin[i]->type;
}

static const char *in_widget(const s_node *n, size_t i)
{
    if (n->base) return n->base->inputs[i].widget;
    return n->cin[i]->is_widget ? n->cin[i]->name : NULL;
}

static size_t out_count(const s_node *n)
{
    if (n->base) return n->base->n_outputs;
    return n->nt ? n->nt->n_outputs : 0;
}

static const char *out_name(const s_node *n, size_t i)
{
    return n->base ? n->base->outputs[i].name : n->nt->outputs[i].name;
}

static const char *out_type(const s_node *n, size_t i)
{
    return n->base ? n->base->outputs[i].type : n->nt->outputs[i].type;
}

static const char *slot_name(const s_node *n, int output, size_t i)
{
    return output ? out_name(n, i) : in_name(n, i);
}

static void node_label(const s_node *n, char *buf, size_t len)
{
    if (n->id > 0)
        snprintf(buf, len, "#%lld %.200s", (long long)n->id, n->type);
    else
        snprintf(buf, len, "%.200s (not created)", n->type);
}

static void scratch_free(scratch *s)
{
    for (size_t i = 0; i < s->n_nodes; i++)
        if (s->nodes[i].own) {
            free(s->nodes[i].cin);
            free(s->nodes[i].links);
        }
    free(s->nodes);
    free(s->base_links);
    free(s->links);
    free(s->refs);
    free(s->created);
}

static int scratch_init(scratch *s, const graph *g)
{
    const mirror *m = &g->m;
    size_t total_in = 0;
    for (size_t i = 0; i < m->n_nodes; i++)
        total_in += m->nodes[i].n_inputs;
    s->cap_nodes = m->n_nodes + 16;
    s->cap_links = m->n_links + 16;
    s->nodes = calloc(s->cap_nodes, sizeof *s->nodes);
    s->links = calloc(s->cap_links, sizeof *s->links);
    s->base_links = calloc(total_in + 1, sizeof *s->base_links);
    s->refs = calloc(s->n_cmds + 1, sizeof *s->refs);
    s->created = calloc(s->n_cmds + 1, sizeof *s->created);
    if (!s->nodes || !s->links || !s->base_links || !s->refs || !s->created) return GRAPH_ENOMEM;
    size_t off = 0;
    for (size_t i = 0; i < m->n_nodes; i++) {
        const graph_node *b = &m->nodes[i];
        s_node *n = &s->nodes[i];
        n->id = b->id;
        n->base = b;
        n->type = b->type;
        n->nt = nodeinfo_find(s->schema, b->type);
        n->n_in = b->n_inputs;
        n->links = s->base_links + off;
        n->removed_by = -1;
        for (size_t k = 0; k < b->n_inputs; k++)
            n->links[k] = b->inputs[k].link;
        off += b->n_inputs;
    }
    s->n_nodes = s->n_base = m->n_nodes;
    for (size_t i = 0; i < m->n_links; i++) {
        const graph_link *l = &m->links[i];
        s->links[i] = (s_link){l->id, l->from_id, l->to_id, l->from_slot, l->to_slot, 0};
    }
    s->n_links = m->n_links;
    s->last_node_id = m->last_node_id;
    s->last_link_id = m->last_link_id;
    s->widget_sockets = m->widget_sockets;
    return GRAPH_OK;
}

/* Index of the live node with this id, or -1; *removed_by gets the command
 * that removed a node with this id, when one did. */
static long find_node(const scratch *s, int64_t id, int *removed_by)
{
    *removed_by = -1;
    long dead = -1;
    for (size_t i = s->n_nodes; i > s->n_base; i--) {
        const s_node *n = &s->nodes[i - 1];
        if (n->id != id) continue;
        if (n->removed_by < 0) return (long)(i - 1);
        if (dead < 0) dead = (long)(i - 1);
    }
    size_t lo = 0, hi = s->n_base;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->nodes[mid].id == id) {
            if (s->nodes[mid].removed_by < 0) return (long)mid;
            if (dead < 0) dead = (long)mid;
            break;
        }
        if (s->nodes[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (dead >= 0) *removed_by = s->nodes[dead].removed_by;
    return -1;
}

static s_ref *find_ref(scratch *s, const char *name)
{
    for (size_t i = 0; i < s->n_refs; i++)
        if (strcmp(s->refs[i].name, name) == 0) return &s->refs[i];
    return NULL;
}

static int is_create_with_ref(const Comfyd__V1__Command *c, const char *ref)
{
    return c && c->command_case == COMFYD__V1__COMMAND__COMMAND_CREATE_NODE && c->create_node &&
           c->create_node->ref && strcmp(c->create_node->ref, ref) == 0;
}

static long resolve_node(scratch *s, size_t idx, const Comfyd__V1__NodeRef *r, const char *field)
{
    if (!r || r->node_case == COMFYD__V1__NODE_REF__NODE__NOT_SET) {
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                     NULL, 0, "%s: a node id or ref is required", field);
        return -1;
    }
    if (r->node_case == COMFYD__V1__NODE_REF__NODE_ID) {
        int removed_by;
        /* Ids are positive; stand-ins for invalid create_node commands use
         * negative ones and must not be reachable by id. */
        long i = r->id > 0 ? find_node(s, r->id, &removed_by) : -1;
        if (r->id <= 0) removed_by = -1;
        if (i >= 0) return i;
        if (removed_by >= 0)
            gr_add_error(s, (long)idx,
                         COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NODE_NOT_FOUND, NULL, 0,
                         "%s: node #%lld was removed by command %d (%s)", field, (long long)r->id,
                         removed_by, cmd_name(s->cmds[removed_by]));
        else
            gr_add_error(s, (long)idx,
                         COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NODE_NOT_FOUND, NULL, 0,
                         "%s: there is no node #%lld on the canvas", field, (long long)r->id);
        return -1;
    }
    const char *ref = r->ref ? r->ref : "";
    s_ref *sr = find_ref(s, ref);
    if (!sr) {
        for (size_t j = idx + 1; j < s->n_cmds; j++)
            if (is_create_with_ref(s->cmds[j], ref)) {
                gr_add_error(s, (long)idx,
                             COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_REF_NOT_FOUND, NULL, 0,
                             "%s: ref \"%.*s\" is created by command %zu, after this one", field,
                             GRAPH_MAX_REF, ref, j);
                return -1;
            }
        const char *names[GRAPH_MAX_BATCH], *sugg[NODEINFO_MAX_SUGGESTIONS];
        for (size_t i = 0; i < s->n_refs; i++)
            names[i] = s->refs[i].name;
        size_t ns = nodeinfo_closest(ref, names, s->n_refs, sugg, NODEINFO_MAX_SUGGESTIONS);
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_REF_NOT_FOUND,
                     sugg, ns, "%s: no create_node before this command has ref \"%.*s\"", field,
                     GRAPH_MAX_REF, ref);
        return -1;
    }
    if (!sr->valid) {
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_REF_NOT_FOUND,
                     NULL, 0,
                     "%s: ref \"%.*s\" is not created because command %zu (create_node) "
                     "is invalid",
                     field, GRAPH_MAX_REF, ref, sr->cmd);
        if (sr->node == SIZE_MAX) return -1;
    }
    const s_node *n = &s->nodes[sr->node];
    if (n->removed_by >= 0) {
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NODE_NOT_FOUND,
                     NULL, 0, "%s: the node of ref \"%.*s\" was removed by command %d (%s)", field,
                     GRAPH_MAX_REF, ref, n->removed_by, cmd_name(s->cmds[n->removed_by]));
        return -1;
    }
    return (long)sr->node;
}

static void list_slots(strbuf *b, const s_node *n, int output)
{
    size_t cnt = output ? out_count(n) : n->n_in;
    if (cnt == 0) {
        sb_add(b, "none");
        return;
    }
    for (size_t i = 0; i < cnt && i < LISTED_SLOTS; i++)
        sb_add(b, "%s%zu \"%.60s\"", i ? ", " : "", i, slot_name(n, output, i));
    if (cnt > LISTED_SLOTS) sb_add(b, " and %zu more", cnt - LISTED_SLOTS);
}

/* Resolves a slot of scratch node ni; -1 after adding an error. */
static long resolve_slot(scratch *s, size_t idx, size_t ni, int output,
                         const Comfyd__V1__SlotRef *r, const char *field)
{
    const s_node *n = &s->nodes[ni];
    size_t cnt = output ? out_count(n) : n->n_in;
    const char *kind = output ? "output" : "input";
    char label[256], list[1024];
    strbuf lb = {list, sizeof list, 0};
    node_label(n, label, sizeof label);
    if (!r || r->slot_case == COMFYD__V1__SLOT_REF__SLOT__NOT_SET) {
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                     NULL, 0, "%s: a slot index or name is required", field);
        return -1;
    }
    if (r->slot_case == COMFYD__V1__SLOT_REF__SLOT_INDEX) {
        if (r->index < cnt) return (long)r->index;
        list_slots(&lb, n, output);
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_SLOT_NOT_FOUND,
                     NULL, 0, "%s: %s has no %s %u (%ss: %s)", field, label, kind, r->index, kind,
                     list);
        return -1;
    }
    const char *name = r->name ? r->name : "";
    for (size_t i = 0; i < cnt; i++)
        if (strcmp(slot_name(n, output, i), name) == 0) return (long)i;
    for (size_t i = 0; !output && i < cnt; i++) {
        const char *w = in_widget(n, i);
        if (w && strcmp(w, name) == 0) return (long)i;
    }
    long found = -1;
    int many = 0;
    for (size_t i = 0; i < cnt; i++)
        if (strcasecmp(slot_name(n, output, i), name) == 0) many |= found >= 0, found = (long)i;
    if (found >= 0 && !many) return found;

    const char *names[GRAPH_MAX_SLOTS], *sugg[NODEINFO_MAX_SUGGESTIONS];
    for (size_t i = 0; i < cnt; i++)
        names[i] = slot_name(n, output, i);
    size_t ns = nodeinfo_closest(name, names, cnt, sugg, NODEINFO_MAX_SUGGESTIONS);
    if (!output && n->nt && nodeinfo_widget_find(n->nt, name)) {
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_SLOT_NOT_FOUND,
                     sugg, ns,
                     "%s: \"%.60s\" is a widget of %s without an input socket on this canvas "
                     "(convert the widget to an input first)",
                     field, name, label);
        return -1;
    }
    list_slots(&lb, n, output);
    gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_SLOT_NOT_FOUND, sugg,
                 ns, "%s: %s has no %s \"%.60s\" (%ss: %s)", field, label, kind, name, kind, list);
    return -1;
}

static int type_eq(const char *a, size_t la, const char *b, size_t lb)
{
    while (la && *a == ' ')
        a++, la--;
    while (la && a[la - 1] == ' ')
        la--;
    while (lb && *b == ' ')
        b++, lb--;
    while (lb && b[lb - 1] == ' ')
        lb--;
    if ((la == 1 && *a == '*') || (lb == 1 && *b == '*')) return 1;
    return la == lb && strncasecmp(a, b, la) == 0;
}

/* LiteGraph's and ComfyUI's rule: "*" or empty matches anything; otherwise
 * the comma-separated lists must share an element (case-insensitive). */
static int types_compatible(const char *out, const char *in)
{
    if (!out || !in || !out[0] || !in[0]) return 1;
    for (const char *a = out; a;) {
        const char *ae = strchr(a, ',');
        size_t la = ae ? (size_t)(ae - a) : strlen(a);
        for (const char *b = in; b;) {
            const char *be = strchr(b, ',');
            size_t lb = be ? (size_t)(be - b) : strlen(b);
            if (type_eq(a, la, b, lb)) return 1;
            b = be ? be + 1 : NULL;
        }
        a = ae ? ae + 1 : NULL;
    }
    return 0;
}

static void check_coord(scratch *s, size_t idx, const char *what, double v)
{
    if (!isfinite(v) || num_abs(v) > GRAPH_MAX_COORD)
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                     NULL, 0, "%s must be a finite number within +-%.0f", what, GRAPH_MAX_COORD);
}

static void check_widget(scratch *s, size_t idx, const nodeinfo_type *nt, const char *label,
                         const char *name, const Comfyd__V1__Value *value)
{
    if (nt->dynamic_widgets) {
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_WIDGET_NOT_FOUND,
                     NULL, 0, "%s has no widgets until its output is connected to a widget input",
                     label);
        return;
    }
    const nodeinfo_input *in = nodeinfo_widget_find(nt, name);
    if (!in) {
        const nodeinfo_input *sock = nodeinfo_input_find(nt, name);
        if (sock) {
            gr_add_error(
                s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_WIDGET_NOT_FOUND, NULL,
                0, "%s: \"%s\" is a %.100s input (a socket), not a widget; connect it instead",
                label, sock->name, sock->type);
            return;
        }
        size_t total = nodeinfo_widget_names(nt, NULL, 0);
        const char **names = malloc((total + 1) * sizeof *names);
        const char *sugg[NODEINFO_MAX_SUGGESTIONS];
        size_t ns = 0;
        char list[768];
        strbuf lb = {list, sizeof list, 0};
        if (names) {
            nodeinfo_widget_names(nt, names, total);
            ns = nodeinfo_closest(name, names, total, sugg, NODEINFO_MAX_SUGGESTIONS);
            for (size_t i = 0; i < total && i < LISTED_SLOTS; i++)
                sb_add(&lb, "%s%.60s", i ? ", " : "", names[i]);
            if (total > LISTED_SLOTS) sb_add(&lb, " and %zu more", total - LISTED_SLOTS);
        }
        if (total == 0) sb_add(&lb, "none");
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_WIDGET_NOT_FOUND,
                     sugg, ns, "%s has no widget \"%.60s\" (widgets: %s)", label, name, list);
        free(names);
        return;
    }
    char msg[900];
    const char *sugg[NODEINFO_MAX_SUGGESTIONS];
    size_t ns = 0;
    if (nodeinfo_check_value(in, value, msg, sizeof msg, sugg, NODEINFO_MAX_SUGGESTIONS, &ns))
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_VALUE_INVALID,
                     sugg, ns, "%s: %s", label, msg);
}

/* Appends a node of type nt; returns its index or -1 (memory). */
static long add_node(scratch *s, const nodeinfo_type *nt, int64_t id)
{
    if (s->n_nodes == s->cap_nodes) {
        size_t cap = 2 * s->cap_nodes;
        s_node *v = realloc(s->nodes, cap * sizeof *v);
        if (!v) return -1;
        s->nodes = v;
        s->cap_nodes = cap;
    }
    s_node *n = &s->nodes[s->n_nodes];
    memset(n, 0, sizeof *n);
    n->id = id;
    n->nt = nt;
    n->type = nt->name;
    n->removed_by = -1;
    n->own = 1;
    size_t k = 0;
    for (size_t i = 0; i < nt->n_inputs; i++)
        k += s->widget_sockets || !nt->inputs[i].is_widget;
    n->cin = malloc((k + 1) * sizeof *n->cin);
    n->links = calloc(k + 1, sizeof *n->links);
    if (!n->cin || !n->links) {
        free(n->cin);
        free(n->links);
        return -1;
    }
    for (size_t i = 0; i < nt->n_inputs; i++)
        if (s->widget_sockets || !nt->inputs[i].is_widget) n->cin[n->n_in++] = &nt->inputs[i];
    return (long)s->n_nodes++;
}

static int add_link(scratch *s, s_link l)
{
    if (s->n_links == s->cap_links) {
        size_t cap = 2 * s->cap_links;
        s_link *v = realloc(s->links, cap * sizeof *v);
        if (!v) return -1;
        s->links = v;
        s->cap_links = cap;
    }
    s->links[s->n_links++] = l;
    return 0;
}

/* Marks link id removed and clears the input it fed. */
static void drop_link(scratch *s, int64_t id)
{
    for (size_t i = 0; i < s->n_links; i++) {
        s_link *l = &s->links[i];
        if (l->id != id || l->removed) continue;
        l->removed = 1;
        int rb;
        long t = find_node(s, l->to, &rb);
        if (t >= 0 && l->tslot < s->nodes[t].n_in && s->nodes[t].links[l->tslot] == id)
            s->nodes[t].links[l->tslot] = 0;
    }
}

void gr_v_create(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                 Comfyd__V1__CommandResult *res)
{
    const Comfyd__V1__CreateNodeCommand *c = cmd->create_node;
    const nodeinfo_type *nt = NULL;
    const char *type = c->node_type ? c->node_type : "";
    if (!type[0]) {
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                     NULL, 0, "create_node needs a node_type");
    } else if (!(nt = nodeinfo_find(s->schema, type))) {
        const char *sugg[NODEINFO_MAX_SUGGESTIONS];
        size_t ns = s->schema ? nodeinfo_suggest(s->schema, type, sugg) : 0;
        if (ns)
            gr_add_error(s, (long)idx,
                         COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_UNKNOWN_NODE_TYPE, sugg, ns,
                         "unknown node type \"%.200s\"; did you mean \"%s\"?", type, sugg[0]);
        else
            gr_add_error(s, (long)idx,
                         COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_UNKNOWN_NODE_TYPE, NULL, 0,
                         "unknown node type \"%.200s\"", type);
    }
    const char *ref = c->ref && c->ref[0] ? c->ref : NULL;
    if (ref && strlen(ref) > GRAPH_MAX_REF) {
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                     NULL, 0, "ref is longer than %d bytes", GRAPH_MAX_REF);
        ref = NULL;
    }
    s_ref *dup = ref ? find_ref(s, ref) : NULL;
    if (dup) {
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                     NULL, 0, "ref \"%s\" is already used by command %zu", ref, dup->cmd);
        ref = NULL;
    }
    if (c->x) check_coord(s, idx, "x", c->x->value);
    if (c->y) check_coord(s, idx, "y", c->y->value);
    if (c->title && strlen(c->title) > GRAPH_MAX_NAME)
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                     NULL, 0, "title is longer than %d bytes", GRAPH_MAX_NAME);
    char label[256];
    snprintf(label, sizeof label, "new %.200s", type);
    if (c->n_widgets > GRAPH_MAX_WIDGETS) {
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                     NULL, 0, "more than %d widgets", GRAPH_MAX_WIDGETS);
    } else {
        for (size_t i = 0; i < c->n_widgets; i++) {
            const Comfyd__V1__CreateNodeCommand__WidgetsEntry *w = c->widgets[i];
            if (!w || !w->key || !w->key[0])
                gr_add_error(s, (long)idx,
                             COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND, NULL,
                             0, "widgets: a widget name is empty");
            else if (nt)
                check_widget(s, idx, nt, label, w->key, w->value);
        }
    }
    size_t node = SIZE_MAX;
    if (nt) {
        int64_t id = s->failed ? --s->next_phantom : ++s->last_node_id;
        long k = add_node(s, nt, id);
        if (k < 0) {
            s->oom = 1;
            return;
        }
        node = (size_t)k;
        if (!s->failed) {
            res->node_id = id;
            s->created[s->n_created++] = id;
        }
    }
    if (ref) s->refs[s->n_refs++] = (s_ref){ref, idx, !s->failed, node};
}

static void remove_node(scratch *s, size_t ni, size_t idx)
{
    s_node *n = &s->nodes[ni];
    n->removed_by = (int)idx;
    for (size_t i = 0; i < s->n_links; i++) {
        s_link *l = &s->links[i];
        if (l->removed || (l->from != n->id && l->to != n->id)) continue;
        drop_link(s, l->id);
    }
}

void gr_v_remove(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                 Comfyd__V1__CommandResult *res)
{
    long a = resolve_node(s, idx, cmd->remove_node->node_id, "node_id");
    if (a < 0) return;
    if (s->nodes[a].id > 0) res->node_id = s->nodes[a].id;
    if (!s->failed) remove_node(s, (size_t)a, idx);
}

void gr_v_connect(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                  Comfyd__V1__CommandResult *res)
{
    const Comfyd__V1__ConnectCommand *c = cmd->connect;
    long a = resolve_node(s, idx, c->from_id, "from_id");
    long b = resolve_node(s, idx, c->to_id, "to_id");
    long sa = a >= 0 ? resolve_slot(s, idx, (size_t)a, 1, c->from_slot, "from_slot") : -1;
    long sb = b >= 0 ? resolve_slot(s, idx, (size_t)b, 0, c->to_slot, "to_slot") : -1;
    if (a >= 0 && a == b) {
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                     NULL, 0, "cannot connect a node to itself");
        return;
    }
    if (sa < 0 || sb < 0) return;
    const s_node *from = &s->nodes[a], *to = &s->nodes[b];
    const char *ot = out_type(from, (size_t)sa), *it = in_type(to, (size_t)sb);
    if (!types_compatible(ot, it)) {
        char fl[256], tl[256];
        node_label(from, fl, sizeof fl);
        node_label(to, tl, sizeof tl);
        const char *sugg[NODEINFO_MAX_SUGGESTIONS];
        size_t ns = 0;
        for (size_t i = 0; i < to->n_in && ns < NODEINFO_MAX_SUGGESTIONS; i++)
            if (types_compatible(ot, in_type(to, i))) sugg[ns++] = in_name(to, i);
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_TYPE_MISMATCH,
                     sugg, ns,
                     "%s output %ld \"%.60s\" (%.100s) cannot connect to %s input %ld \"%.60s\" "
                     "(%.100s)",
                     fl, sa, out_name(from, (size_t)sa), ot, tl, sb, in_name(to, (size_t)sb), it);
        return;
    }
    if (to->id > 0) res->node_id = to->id;
    if (s->failed) return;
    int64_t old = to->links[sb];
    if (old) drop_link(s, old);
    int64_t id = ++s->last_link_id;
    if (add_link(s, (s_link){id, from->id, to->id, (uint32_t)sa, (uint32_t)sb, 0})) {
        s->oom = 1;
        return;
    }
    s->nodes[b].links[sb] = id;
    res->link_id = id;
}

void gr_v_disconnect(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                     Comfyd__V1__CommandResult *res)
{
    const Comfyd__V1__DisconnectCommand *c = cmd->disconnect;
    long a = resolve_node(s, idx, c->node_id, "node_id");
    long sa = a >= 0 ? resolve_slot(s, idx, (size_t)a, 0, c->slot, "slot") : -1;
    if (a >= 0 && s->nodes[a].id > 0) res->node_id = s->nodes[a].id;
    if (sa < 0 || s->failed) return;
    /* Disconnecting an input that has no link is a no-op, not an error:
     * the outcome the caller wants already holds. */
    int64_t old = s->nodes[a].links[sa];
    if (old) {
        drop_link(s, old);
        res->link_id = old;
    }
}

void gr_v_set_widget(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                     Comfyd__V1__CommandResult *res)
{
    const Comfyd__V1__SetWidgetCommand *c = cmd->set_widget;
    long a = resolve_node(s, idx, c->node_id, "node_id");
    if (!c->name || !c->name[0]) {
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                     NULL, 0, "set_widget needs a widget name");
        return;
    }
    if (!c->value || c->value->kind_case == COMFYD__V1__VALUE__KIND__NOT_SET) {
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                     NULL, 0, "set_widget needs a value");
        return;
    }
    if (a < 0) return;
    const s_node *n = &s->nodes[a];
    if (n->id > 0) res->node_id = n->id;
    /* Types the schema does not know, and widgets made at run time
     * (PrimitiveNode): the tab is the only judge. */
    if (!n->nt || n->nt->dynamic_widgets) return;
    char label[256];
    node_label(n, label, sizeof label);
    check_widget(s, idx, n->nt, label, c->name, c->value);
}

void gr_v_move(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
               Comfyd__V1__CommandResult *res)
{
    const Comfyd__V1__MoveNodeCommand *c = cmd->move_node;
    long a = resolve_node(s, idx, c->node_id, "node_id");
    check_coord(s, idx, "x", c->x);
    check_coord(s, idx, "y", c->y);
    if (a >= 0 && s->nodes[a].id > 0) res->node_id = s->nodes[a].id;
}

/* arrange moves the nodes it names (all when none): they must exist; where
 * they go is the tab's to compute, nothing else changes. */
void gr_v_arrange(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                  Comfyd__V1__CommandResult *res)
{
    (void)res;
    const Comfyd__V1__ArrangeCommand *c = cmd->arrange;
    for (size_t k = 0; k < c->n_node_ids && !s->oom; k++) {
        char field[32];
        snprintf(field, sizeof field, "node_ids[%zu]", k);
        resolve_node(s, idx, c->node_ids[k], field);
    }
    if (c->x) check_coord(s, idx, "x", c->x->value);
    if (c->y) check_coord(s, idx, "y", c->y->value);
    if (c->spacing && !(c->spacing->value >= 0 && c->spacing->value <= GRAPH_MAX_SPACING))
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                     NULL, 0, "spacing must be a number from 0 to %.0f", GRAPH_MAX_SPACING);
}

/* set_node_mode: the node must exist at that point and the mode be one of
 * gr_node_modes. */
void gr_v_set_node_mode(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                        Comfyd__V1__CommandResult *res)
{
    const Comfyd__V1__SetNodeModeCommand *c = cmd->set_node_mode;
    long a = resolve_node(s, idx, c->node_id, "node_id");
    const char *m = c->mode ? c->mode : "";
    size_t k = 0;
    while (k < sizeof gr_node_modes / sizeof gr_node_modes[0] &&
           strcmp(gr_node_modes[k].name, m) != 0)
        k++;
    if (k == sizeof gr_node_modes / sizeof gr_node_modes[0])
        gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND,
                     NULL, 0, "mode \"%.40s\" is not one of always, never, mute, bypass", m);
    if (a >= 0 && s->nodes[a].id > 0) res->node_id = s->nodes[a].id;
}

void gr_v_clear(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                Comfyd__V1__CommandResult *res)
{
    (void)cmd;
    (void)res;
    for (size_t i = 0; i < s->n_nodes; i++)
        if (s->nodes[i].removed_by < 0) s->nodes[i].removed_by = (int)idx;
    for (size_t i = 0; i < s->n_links; i++)
        s->links[i].removed = 1;
    for (size_t i = 0; i < s->n_nodes; i++)
        for (size_t k = 0; k < s->nodes[i].n_in; k++)
            s->nodes[i].links[k] = 0;
    /* LiteGraph's clear() starts the id counters again. */
    s->last_node_id = s->last_link_id = 0;
}

/* get_graph reads; there is nothing to simulate. */
void gr_v_read(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
               Comfyd__V1__CommandResult *res)
{
    (void)s, (void)idx, (void)cmd, (void)res;
}

void graph_check_clear(graph_check *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n_results; i++)
        if (c->results[i]) protobuf_c_message_free_unpacked(&c->results[i]->base, NULL);
    free(c->results);
    for (size_t i = 0; i < c->n_errors; i++)
        protobuf_c_message_free_unpacked(&c->errors[i]->base, NULL);
    free(c->errors);
    free(c->expected_ids);
    for (size_t i = 0; i < c->n_refs; i++)
        protobuf_c_message_free_unpacked(&c->refs[i]->base, NULL);
    free(c->refs);
    memset(c, 0, sizeof *c);
}

static int fill_outputs(scratch *s, Comfyd__V1__BatchMode mode)
{
    graph_check *out = s->out;
    out->ok = out->n_errors == 0;
    if (!out->ok && mode != COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL) return GRAPH_OK;
    if (s->n_created) {
        if (!(out->expected_ids = malloc(s->n_created * sizeof *out->expected_ids)))
            return GRAPH_ENOMEM;
        memcpy(out->expected_ids, s->created, s->n_created * sizeof *s->created);
        out->n_expected_ids = s->n_created;
    }
    if (s->n_refs && !(out->refs = malloc(s->n_refs * sizeof *out->refs))) return GRAPH_ENOMEM;
    for (size_t i = 0; i < s->n_refs; i++) {
        const s_ref *r = &s->refs[i];
        if (!r->valid) continue;
        Comfyd__V1__ExecuteBatchResponse__RefsEntry *e = malloc(sizeof *e);
        if (!e) return GRAPH_ENOMEM;
        comfyd__v1__execute_batch_response__refs_entry__init(e);
        if (!(e->key = strdup(r->name))) {
            free(e);
            return GRAPH_ENOMEM;
        }
        e->value = s->nodes[r->node].id;
        out->refs[out->n_refs++] = e;
    }
    return GRAPH_OK;
}

int graph_validate(const graph *g, const nodeinfo *schema, const Comfyd__V1__Command *const *cmds,
                   size_t n, Comfyd__V1__BatchMode mode, graph_check *out)
{
    memset(out, 0, sizeof *out);
    scratch s = {.schema = schema ? schema : g->schema, .cmds = cmds, .n_cmds = n, .out = out};
    if (n > GRAPH_MAX_BATCH) {
        gr_add_error(&s, -1, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND, NULL,
                     0, "a batch has at most %d commands, this one has %zu", GRAPH_MAX_BATCH, n);
        if (s.oom) goto oom;
        return GRAPH_OK;
    }
    /* Reads need no simulation: the scratch copy of every node is only
     * built when some command of the batch could change the graph. */
    int reads_only = 1;
    for (size_t i = 0; i < n && reads_only; i++)
        if (cmds[i]->command_case != COMFYD__V1__COMMAND__COMMAND_GET_GRAPH) reads_only = 0;
    if (!reads_only && scratch_init(&s, g)) goto oom;
    if (n && !(out->results = calloc(n, sizeof *out->results))) goto oom;
    for (size_t i = 0; i < n; i++) {
        Comfyd__V1__CommandResult *r = malloc(sizeof *r);
        if (!r) goto oom;
        comfyd__v1__command_result__init(r);
        r->index = (int32_t)i;
        out->results[out->n_results++] = r;
    }
    for (size_t i = 0; i < n; i++) {
        s.failed = 0;
        gr_validate_one(&s, i, cmds[i], out->results[i]);
        if (s.oom) goto oom;
        out->results[i]->ok = !s.failed;
        if (s.failed) out->results[i]->node_id = out->results[i]->link_id = 0;
    }
    if (fill_outputs(&s, mode)) goto oom;
    scratch_free(&s);
    return GRAPH_OK;
oom:
    scratch_free(&s);
    graph_check_clear(out);
    return GRAPH_ENOMEM;
}

/* graph_rebase: the commutation check of a stale patch (graph_rebase.h). */
#include "graph_rebase.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one command or one logged change touches. */
typedef enum {
    TK_NEED,   /* the node must be the one the patch saw (patch side) */
    TK_GONE,   /* the node was removed (log) / is removed (patch) */
    TK_NEW,    /* a node was added under this id (log) */
    TK_INPUT,  /* the link into an input */
    TK_OUTPUT, /* a link out of an output (log: connect) */
    TK_WIDGET, /* a widget value */
    TK_POS,    /* the position */
    TK_MODE,   /* the mode */
    TK_OTHER,  /* a change without a command: title, null widget, mode 1/3 */
    TK_ALL,    /* every node (patch: clear_graph) */
    TK_ALLPOS, /* every position and the set of nodes (patch: arrange all) */
} tkind;

typedef struct {
    tkind kind;
    int64_t node;     /* 0 with TK_OTHER: a node the log line does not name */
    uint32_t slot;    /* TK_INPUT, TK_OUTPUT */
    const char *name; /* TK_WIDGET (borrowed from the command) */
} touch;

typedef struct {
    touch *v;
    size_t n, cap;
    int oom;
} tlist;

static void t_add(tlist *l, tkind kind, int64_t node, uint32_t slot, const char *name)
{
    if (l->oom) return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        touch *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->oom = 1;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (touch){kind, node, slot, name};
}

/* A node named by id; 0 for a ref (a node the patch creates) or none. */
static int64_t ref_node(const Comfyd__V1__NodeRef *r)
{
    return r && r->node_case == COMFYD__V1__NODE_REF__NODE_ID ? r->id : 0;
}

/* A logged change without a command names its node in its summary: graph.c
 * writes every node of a log line as "#<id> <type>", the node the change
 * is about first. 0 when there is none. */
static int64_t summary_node(const char *s)
{
    for (const char *p = s ? strchr(s, '#') : NULL; p; p = strchr(p + 1, '#')) {
        if (p[1] < '0' || p[1] > '9') continue;
        char *end;
        long long id = strtoll(p + 1, &end, 10);
        if (id > 0) return (int64_t)id;
    }
    return 0;
}

/* The input slot of node id that r names on g: an index, or the name of a
 * socket or of the widget a socket belongs to. -1 when it names none (the
 * validator reports that). */
static long input_slot(const graph *g, int64_t id, const Comfyd__V1__SlotRef *r)
{
    if (!r) return -1;
    if (r->slot_case == COMFYD__V1__SLOT_REF__SLOT_INDEX)
        return r->index <= UINT32_MAX ? (long)r->index : -1;
    if (r->slot_case != COMFYD__V1__SLOT_REF__SLOT_NAME || !r->name) return -1;
    const graph_node *n = graph_find_node(g, id);
    for (size_t i = 0; n && i < n->n_inputs; i++)
        if (strcmp(n->inputs[i].name, r->name) == 0 ||
            (n->inputs[i].widget && strcmp(n->inputs[i].widget, r->name) == 0))
            return (long)i;
    return -1;
}

/* The widget input slot of node id belongs to, or NULL. */
static const char *slot_widget(const graph *g, int64_t id, uint32_t slot)
{
    const graph_node *n = graph_find_node(g, id);
    return n && slot < n->n_inputs ? n->inputs[slot].widget : NULL;
}

static void need(tlist *l, int64_t id)
{
    if (id) t_add(l, TK_NEED, id, 0, NULL);
}

/* What the patch's command c touches. */
static void cmd_touches(const graph *g, const Comfyd__V1__Command *c, tlist *l)
{
    int64_t a, b;
    long s;
    switch (c->command_case) {
    case COMFYD__V1__COMMAND__COMMAND_REMOVE_NODE:
        if (c->remove_node && (a = ref_node(c->remove_node->node_id)))
            t_add(l, TK_GONE, a, 0, NULL);
        break;
    case COMFYD__V1__COMMAND__COMMAND_CONNECT:
        if (!c->connect) break;
        need(l, ref_node(c->connect->from_id));
        need(l, b = ref_node(c->connect->to_id));
        if (b && (s = input_slot(g, b, c->connect->to_slot)) >= 0)
            t_add(l, TK_INPUT, b, (uint32_t)s, NULL);
        break;
    case COMFYD__V1__COMMAND__COMMAND_DISCONNECT:
        if (!c->disconnect) break;
        need(l, b = ref_node(c->disconnect->node_id));
        if (b && (s = input_slot(g, b, c->disconnect->slot)) >= 0)
            t_add(l, TK_INPUT, b, (uint32_t)s, NULL);
        break;
    case COMFYD__V1__COMMAND__COMMAND_SET_WIDGET:
        if (!c->set_widget) break;
        need(l, b = ref_node(c->set_widget->node_id));
        if (b && c->set_widget->name) t_add(l, TK_WIDGET, b, 0, c->set_widget->name);
        break;
    case COMFYD__V1__COMMAND__COMMAND_MOVE_NODE:
        if (!c->move_node) break;
        need(l, a = ref_node(c->move_node->node_id));
        if (a) t_add(l, TK_POS, a, 0, NULL);
        break;
    case COMFYD__V1__COMMAND__COMMAND_ARRANGE:
        if (!c->arrange) break;
        if (!c->arrange->n_node_ids) {
            t_add(l, TK_ALLPOS, 0, 0, NULL);
            break;
        }
        for (size_t k = 0; k < c->arrange->n_node_ids; k++) {
            need(l, a = ref_node(c->arrange->node_ids[k]));
            if (a) t_add(l, TK_POS, a, 0, NULL);
        }
        break;
    case COMFYD__V1__COMMAND__COMMAND_SET_NODE_MODE:
        if (!c->set_node_mode) break;
        need(l, a = ref_node(c->set_node_mode->node_id));
        if (a) t_add(l, TK_MODE, a, 0, NULL);
        break;
    case COMFYD__V1__COMMAND__COMMAND_CLEAR_GRAPH:
        t_add(l, TK_ALL, 0, 0, NULL);
        break;
    case COMFYD__V1__COMMAND__COMMAND_CREATE_NODE: /* a fresh id */
    case COMFYD__V1__COMMAND__COMMAND_GET_GRAPH:   /* reads */
        break;
    default:
        /* A command this check does not know (docs/adding-a-graph-command.md)
         * is taken as touching everything: it never rebases. */
        t_add(l, TK_ALL, 0, 0, NULL);
        break;
    }
}

int graph_cmd_changes(const graph *g, const Comfyd__V1__Command *c,
                      void (*fn)(void *arg, int64_t node), void *arg)
{
    tlist l = {0};
    cmd_touches(g, c, &l);
    if (l.oom) {
        free(l.v);
        return GRAPH_ENOMEM;
    }
    for (size_t i = 0; i < l.n; i++) {
        if (l.v[i].kind == TK_NEED) continue; /* exists, not changed */
        fn(arg, l.v[i].kind == TK_ALL || l.v[i].kind == TK_ALLPOS ? 0 : l.v[i].node);
    }
    free(l.v);
    return GRAPH_OK;
}

/* What a logged change touches. The log writes nodes by id and slots by
 * index (graph.c: op_add, op_remove, op_link, ...). */
static void op_touches(const Comfyd__V1__GraphOp *op, tlist *l)
{
    const Comfyd__V1__Command *c = op->command;
    if (!c) {
        t_add(l, TK_OTHER, summary_node(op->summary), 0, NULL);
        return;
    }
    switch (c->command_case) {
    case COMFYD__V1__COMMAND__COMMAND_CREATE_NODE:
        /* The new node's id is in the log line only. */
        t_add(l, TK_NEW, summary_node(op->summary), 0, NULL);
        break;
    case COMFYD__V1__COMMAND__COMMAND_REMOVE_NODE:
        if (c->remove_node) t_add(l, TK_GONE, ref_node(c->remove_node->node_id), 0, NULL);
        break;
    case COMFYD__V1__COMMAND__COMMAND_CONNECT:
        if (!c->connect) break;
        if (c->connect->from_slot &&
            c->connect->from_slot->slot_case == COMFYD__V1__SLOT_REF__SLOT_INDEX)
            t_add(l, TK_OUTPUT, ref_node(c->connect->from_id), c->connect->from_slot->index, NULL);
        if (c->connect->to_slot &&
            c->connect->to_slot->slot_case == COMFYD__V1__SLOT_REF__SLOT_INDEX)
            t_add(l, TK_INPUT, ref_node(c->connect->to_id), c->connect->to_slot->index, NULL);
        break;
    case COMFYD__V1__COMMAND__COMMAND_DISCONNECT:
        if (c->disconnect && c->disconnect->slot &&
            c->disconnect->slot->slot_case == COMFYD__V1__SLOT_REF__SLOT_INDEX)
            t_add(l, TK_INPUT, ref_node(c->disconnect->node_id), c->disconnect->slot->index, NULL);
        break;
    case COMFYD__V1__COMMAND__COMMAND_SET_WIDGET:
        if (c->set_widget && c->set_widget->name)
            t_add(l, TK_WIDGET, ref_node(c->set_widget->node_id), 0, c->set_widget->name);
        break;
    case COMFYD__V1__COMMAND__COMMAND_MOVE_NODE:
        if (c->move_node) t_add(l, TK_POS, ref_node(c->move_node->node_id), 0, NULL);
        break;
    case COMFYD__V1__COMMAND__COMMAND_SET_NODE_MODE:
        if (c->set_node_mode) t_add(l, TK_MODE, ref_node(c->set_node_mode->node_id), 0, NULL);
        break;
    case COMFYD__V1__COMMAND__COMMAND_CLEAR_GRAPH:
        t_add(l, TK_ALL, 0, 0, NULL);
        break;
    default:
        /* The log never holds get_graph or arrange (their outcome is
         * logged as moves); any other command is taken as touching
         * everything, so an unknown change never commutes. */
        if (c->command_case != COMFYD__V1__COMMAND__COMMAND_GET_GRAPH) t_add(l, TK_ALL, 0, 0, NULL);
        break;
    }
}

/* Where a patch touch p and a logged touch o meet, for the conflict's
 * fields: 0 when they commute. */
typedef struct {
    int64_t node;
    int has_input;
    uint32_t slot;
    const char *widget;
} meet;

static int same_widget_input(const graph *g, int64_t node, uint32_t slot, const char *widget)
{
    const char *w = slot_widget(g, node, slot);
    return w && widget && strcmp(w, widget) == 0;
}

static int touches_meet(const graph *g, const touch *p, const touch *o, meet *m)
{
    memset(m, 0, sizeof *m);
    m->node = p->node ? p->node : o->node;
    if (o->kind == TK_ALL || p->kind == TK_ALL) return 1;
    if (p->kind == TK_ALLPOS) {
        m->node = o->node;
        return o->kind == TK_POS || o->kind == TK_NEW || o->kind == TK_GONE;
    }
    /* A change of a node the log line does not name: nodes named by the
     * patch may be it. */
    if (o->kind == TK_OTHER && o->node == 0) return 1;
    if (o->node != p->node) return 0;
    switch (p->kind) {
    case TK_NEED:
        return o->kind == TK_GONE || o->kind == TK_NEW;
    case TK_GONE:
        /* Removing the node drops whatever was done to it since. */
        if (o->kind == TK_INPUT) m->has_input = 1, m->slot = o->slot;
        if (o->kind == TK_WIDGET) m->widget = o->name;
        return 1;
    case TK_INPUT:
        m->has_input = 1;
        m->slot = p->slot;
        if (o->kind == TK_INPUT) return o->slot == p->slot;
        if (o->kind == TK_WIDGET && same_widget_input(g, p->node, p->slot, o->name)) {
            m->widget = o->name;
            return 1;
        }
        return 0;
    case TK_WIDGET:
        m->widget = p->name;
        if (o->kind == TK_WIDGET) return strcmp(o->name, p->name) == 0;
        if (o->kind == TK_INPUT && same_widget_input(g, p->node, o->slot, p->name)) {
            m->has_input = 1;
            m->slot = o->slot;
            return 1;
        }
        return o->kind == TK_OTHER;
    case TK_POS:
        return o->kind == TK_POS;
    case TK_MODE:
        return o->kind == TK_MODE || o->kind == TK_OTHER;
    default:
        return 0;
    }
}

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static const char *op_change(const Comfyd__V1__GraphOp *op)
{
    const char *name = op->command ? graph_cmd_name(op->command) : NULL;
    return name ? name : "edit";
}

/* Fills the conflict's description of the current state of m. */
static int fill_now(const graph *g, const meet *m, Comfyd__V1__RevisionConflict *c)
{
    const graph_node *n = m->node ? graph_find_node(g, m->node) : NULL;
    char buf[GRAPH_MAX_NAME + 64];
    if (m->has_input) {
        if (n && m->slot < n->n_inputs)
            snprintf(buf, sizeof buf, "%s", n->inputs[m->slot].name);
        else
            snprintf(buf, sizeof buf, "input %" PRIu32, m->slot);
        if (!(c->input = dupstr(buf))) return -1;
        buf[0] = 0;
        const graph_link *k = n && m->slot < n->n_inputs && n->inputs[m->slot].link
                                  ? graph_find_link(g, n->inputs[m->slot].link)
                                  : NULL;
        const graph_node *from = k ? graph_find_node(g, k->from_id) : NULL;
        if (k && from && k->from_slot < from->n_outputs)
            snprintf(buf, sizeof buf, "#%" PRId64 ".%s", k->from_id,
                     from->outputs[k->from_slot].name);
        else if (k)
            snprintf(buf, sizeof buf, "#%" PRId64 ".%" PRIu32, k->from_id, k->from_slot);
        if (!(c->current_link = dupstr(buf))) return -1;
    }
    if (m->widget) {
        if (!(c->widget = dupstr(m->widget))) return -1;
        for (size_t i = 0; n && i < n->n_widgets; i++)
            if (strcmp(n->widgets[i].name, m->widget) == 0 &&
                n->widgets[i].value.kind != NODEINFO_V_NONE) {
                if (!(c->current_value = nodeinfo_value_to_proto(&n->widgets[i].value))) return -1;
                break;
            }
    }
    return 0;
}

void graph_conflicts_clear(graph_conflicts *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i]) protobuf_c_message_free_unpacked(&c->v[i]->base, NULL);
    free(c->v);
    memset(c, 0, sizeof *c);
}

static int add_conflict(const graph *g, graph_conflicts *out, size_t idx,
                        const Comfyd__V1__GraphOp *op, const meet *m, int node_gone)
{
    if (out->n == GRAPH_REBASE_MAX_CONFLICTS) {
        out->more++;
        return 0;
    }
    if (!out->v && !(out->v = calloc(GRAPH_REBASE_MAX_CONFLICTS, sizeof *out->v))) return -1;
    Comfyd__V1__RevisionConflict *c = malloc(sizeof *c);
    if (!c) return -1;
    comfyd__v1__revision_conflict__init(c);
    out->v[out->n++] = c;
    c->index = (int32_t)idx;
    c->node_id = m->node;
    c->revision = op->revision;
    c->origin = op->origin;
    c->node_gone = node_gone || (m->node && !graph_find_node(g, m->node));
    if (!(c->change = dupstr(op_change(op))) ||
        !(c->summary = dupstr(op->summary ? op->summary : "")))
        return -1;
    return fill_now(g, m, c);
}

int graph_rebase_check(const graph *g, const Comfyd__V1__GraphOp *const *ops, size_t n_ops,
                       const Comfyd__V1__Command *const *cmds, size_t n, graph_conflicts *out)
{
    memset(out, 0, sizeof *out);
    tlist logged = {0}, mine = {0};
    /* Per logged touch, the op it came from. */
    size_t *from = NULL, from_cap = 0;
    int64_t *gone = NULL; /* ids removed since the base, sorted by appearance */
    size_t n_gone = 0;
    for (size_t i = 0; i < n_ops; i++) {
        size_t before = logged.n;
        op_touches(ops[i], &logged);
        if (logged.oom) goto oom;
        if (logged.n > from_cap) {
            size_t cap = logged.cap;
            size_t *v = realloc(from, cap * sizeof *v);
            if (!v) goto oom;
            from = v;
            from_cap = cap;
        }
        for (size_t k = before; k < logged.n; k++) {
            from[k] = i;
            if (logged.v[k].kind == TK_GONE) {
                int64_t *v = realloc(gone, (n_gone + 1) * sizeof *v);
                if (!v) goto oom;
                gone = v;
                gone[n_gone++] = logged.v[k].node;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        mine.n = 0;
        cmd_touches(g, cmds[i], &mine);
        if (mine.oom) goto oom;
        int hit = 0;
        /* One conflict per logged change a command meets: the first of the
         * command's touches that meets it describes it. */
        size_t last_op = SIZE_MAX;
        for (size_t k = 0; k < logged.n; k++) {
            if (from[k] == last_op) continue;
            for (size_t t = 0; t < mine.n; t++) {
                meet m;
                if (!touches_meet(g, &mine.v[t], &logged.v[k], &m)) continue;
                int was_gone = 0;
                for (size_t x = 0; m.node && x < n_gone; x++)
                    if (gone[x] == m.node) was_gone = 1;
                if (add_conflict(g, out, i, ops[from[k]], &m, was_gone)) goto oom;
                last_op = from[k];
                hit = 1;
                break;
            }
        }
        out->n_cmds += hit;
    }
    free(logged.v);
    free(mine.v);
    free(from);
    free(gone);
    return GRAPH_OK;
oom:
    free(logged.v);
    free(mine.v);
    free(from);
    free(gone);
    graph_conflicts_clear(out);
    return GRAPH_ENOMEM;
}

static const char *origin_word(Comfyd__V1__GraphOrigin o)
{
    switch (o) {
    case COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_AGENT:
        return "agent";
    case COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER:
        return "user";
    case COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_LOAD:
        return "load";
    default:
        return "unknown";
    }
}

char *graph_conflict_text(const Comfyd__V1__RevisionConflict *c, const char *cmd_name, char *buf,
                          size_t len)
{
    if (!len) return buf;
    char what[GRAPH_MAX_NAME + 64] = "";
    if (c->widget && c->widget[0])
        snprintf(what, sizeof what, " widget %.200s", c->widget);
    else if (c->input && c->input[0])
        snprintf(what, sizeof what, " input %.200s", c->input);
    if (c->node_id)
        snprintf(buf, len,
                 "command %d (%s) and revision %" PRIu64 " (%s: %.300s) both touch #%" PRId64
                 "%s%s",
                 c->index, cmd_name ? cmd_name : "?", c->revision, origin_word(c->origin),
                 c->summary ? c->summary : "", c->node_id, what,
                 c->node_gone ? " (the node is gone)" : "");
    else
        snprintf(buf, len,
                 "command %d (%s) and revision %" PRIu64 " (%s: %.300s) both touch the whole graph",
                 c->index, cmd_name ? cmd_name : "?", c->revision, origin_word(c->origin),
                 c->summary ? c->summary : "");
    return buf;
}

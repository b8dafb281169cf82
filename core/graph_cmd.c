/* graph_cmd: the command table, one row per case of the Command oneof
 * with its shape check (here), validator (graph_validate.c) and diff op
 * (graph_diff.c), and what the rest of the module and the canvas manager
 * ask of it (docs/adding-a-graph-command.md). */
#include "graph_int.h"

/* ---- the command table ---- */

/* Shape checks: what a peer's command may hold at all (sizes and
 * encodings), before the batch is queued. The message names the field by
 * its path in the request ("commands[2].set_widget.name"). */

typedef struct {
    char *err;
    size_t errlen;
    size_t i; /* index of the command in its batch */
} shape_ctx;

static int shape_str(const shape_ctx *x, const char *s, size_t max, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int shape_str(const shape_ctx *x, const char *s, size_t max, const char *fmt, ...)
{
    const char *why = text_field_problem(s, max);
    if (!why) return GRAPH_OK;
    char field[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(field, sizeof field, fmt, ap);
    va_end(ap);
    if (strlen(s) > max)
        return text_err(x->err, x->errlen, GRAPH_EINVAL, "%s %s (at most %zu bytes)", field, why,
                        max);
    return text_err(x->err, x->errlen, GRAPH_EINVAL, "%s %s", field, why);
}

static int shape_value(const shape_ctx *x, const Comfyd__V1__Value *v, const char *field)
{
    if (v && v->kind_case == COMFYD__V1__VALUE__KIND_TEXT)
        return shape_str(x, v->text, GRAPH_MAX_TEXT, "commands[%zu].%s", x->i, field);
    return GRAPH_OK;
}

static int shape_node_ref(const shape_ctx *x, const Comfyd__V1__NodeRef *r, const char *field)
{
    if (r && r->node_case == COMFYD__V1__NODE_REF__NODE_REF)
        return shape_str(x, r->ref, GRAPH_MAX_REF, "commands[%zu].%s.ref", x->i, field);
    return GRAPH_OK;
}

static int shape_slot_ref(const shape_ctx *x, const Comfyd__V1__SlotRef *r, const char *field)
{
    if (r && r->slot_case == COMFYD__V1__SLOT_REF__SLOT_NAME)
        return shape_str(x, r->name, GRAPH_MAX_NAME, "commands[%zu].%s.name", x->i, field);
    return GRAPH_OK;
}

static int s_create(const shape_ctx *x, const Comfyd__V1__Command *cmd)
{
    const Comfyd__V1__CreateNodeCommand *c = cmd->create_node;
    int rc;
    if ((rc = shape_str(x, c->node_type, GRAPH_MAX_NAME, "commands[%zu].create_node.node_type",
                        x->i)) ||
        (rc = shape_str(x, c->ref, GRAPH_MAX_REF, "commands[%zu].create_node.ref", x->i)) ||
        (rc = shape_str(x, c->title, GRAPH_MAX_NAME, "commands[%zu].create_node.title", x->i)))
        return rc;
    if (c->n_widgets > GRAPH_MAX_WIDGETS)
        return text_err(x->err, x->errlen, GRAPH_EINVAL,
                        "commands[%zu].create_node.widgets: more than %d", x->i, GRAPH_MAX_WIDGETS);
    for (size_t k = 0; k < c->n_widgets; k++) {
        if (!c->widgets[k]) continue;
        if ((rc = shape_str(x, c->widgets[k]->key, GRAPH_MAX_NAME,
                            "commands[%zu].create_node.widgets key", x->i)) ||
            (rc = shape_value(x, c->widgets[k]->value, "create_node.widgets value")))
            return rc;
    }
    return GRAPH_OK;
}

static int s_remove(const shape_ctx *x, const Comfyd__V1__Command *cmd)
{
    return shape_node_ref(x, cmd->remove_node->node_id, "remove_node.node_id");
}

static int s_connect(const shape_ctx *x, const Comfyd__V1__Command *cmd)
{
    const Comfyd__V1__ConnectCommand *c = cmd->connect;
    int rc;
    if ((rc = shape_node_ref(x, c->from_id, "connect.from_id")) ||
        (rc = shape_node_ref(x, c->to_id, "connect.to_id")) ||
        (rc = shape_slot_ref(x, c->from_slot, "connect.from_slot")) ||
        (rc = shape_slot_ref(x, c->to_slot, "connect.to_slot")))
        return rc;
    return GRAPH_OK;
}

static int s_disconnect(const shape_ctx *x, const Comfyd__V1__Command *cmd)
{
    int rc;
    if ((rc = shape_node_ref(x, cmd->disconnect->node_id, "disconnect.node_id")) ||
        (rc = shape_slot_ref(x, cmd->disconnect->slot, "disconnect.slot")))
        return rc;
    return GRAPH_OK;
}

static int s_set_widget(const shape_ctx *x, const Comfyd__V1__Command *cmd)
{
    const Comfyd__V1__SetWidgetCommand *c = cmd->set_widget;
    int rc;
    if ((rc = shape_node_ref(x, c->node_id, "set_widget.node_id")) ||
        (rc = shape_str(x, c->name, GRAPH_MAX_NAME, "commands[%zu].set_widget.name", x->i)) ||
        (rc = shape_value(x, c->value, "set_widget.value")))
        return rc;
    return GRAPH_OK;
}

static int s_move(const shape_ctx *x, const Comfyd__V1__Command *cmd)
{
    return shape_node_ref(x, cmd->move_node->node_id, "move_node.node_id");
}

/* arrange: the node list's length and its refs. */
static int s_arrange(const shape_ctx *x, const Comfyd__V1__Command *cmd)
{
    const Comfyd__V1__ArrangeCommand *c = cmd->arrange;
    if (c->n_node_ids > GRAPH_MAX_NODES)
        return text_err(x->err, x->errlen, GRAPH_EINVAL,
                        "commands[%zu].arrange.node_ids: more than %d", x->i, GRAPH_MAX_NODES);
    for (size_t k = 0; k < c->n_node_ids; k++) {
        int rc = shape_node_ref(x, c->node_ids[k], "arrange.node_ids");
        if (rc) return rc;
    }
    return GRAPH_OK;
}

static int s_set_node_mode(const shape_ctx *x, const Comfyd__V1__Command *cmd)
{
    const Comfyd__V1__SetNodeModeCommand *c = cmd->set_node_mode;
    int rc;
    if ((rc = shape_node_ref(x, c->node_id, "set_node_mode.node_id")) ||
        (rc = shape_str(x, c->mode, GRAPH_MAX_NAME, "commands[%zu].set_node_mode.mode", x->i)))
        return rc;
    return GRAPH_OK;
}

typedef struct cmd_row cmd_row;

/* One row per case of the Command oneof, indexed by the case (the field
 * number). shape is NULL when the command has no field to check; diff is
 * NULL for the commands that are no field of a node: the diff expresses
 * nodes and links appearing and disappearing itself (create_node,
 * remove_node, connect, disconnect), and clear_graph, get_graph and arrange
 * never show in it (their effects do). */
struct cmd_row {
    int (*shape)(const shape_ctx *x, const Comfyd__V1__Command *c);
    void (*validate)(scratch *s, size_t idx, const Comfyd__V1__Command *c,
                     Comfyd__V1__CommandResult *res);
    void (*diff)(oplist *l, const graph_node *o, const graph_node *n);
    unsigned flags; /* GRAPH_CMD_* */
};

static const cmd_row cmd_rows[] = {
    [COMFYD__V1__COMMAND__COMMAND_CREATE_NODE] = {s_create, gr_v_create, NULL, 0},
    [COMFYD__V1__COMMAND__COMMAND_REMOVE_NODE] = {s_remove, gr_v_remove, NULL, 0},
    [COMFYD__V1__COMMAND__COMMAND_CONNECT] = {s_connect, gr_v_connect, NULL, 0},
    [COMFYD__V1__COMMAND__COMMAND_DISCONNECT] = {s_disconnect, gr_v_disconnect, NULL, 0},
    [COMFYD__V1__COMMAND__COMMAND_SET_WIDGET] = {s_set_widget, gr_v_set_widget, gr_d_widgets, 0},
    [COMFYD__V1__COMMAND__COMMAND_MOVE_NODE] = {s_move, gr_v_move, gr_d_move, 0},
    [COMFYD__V1__COMMAND__COMMAND_CLEAR_GRAPH] = {NULL, gr_v_clear, NULL, 0},
    [COMFYD__V1__COMMAND__COMMAND_GET_GRAPH] = {NULL, gr_v_read, NULL, GRAPH_CMD_READ_ONLY},
    [COMFYD__V1__COMMAND__COMMAND_ARRANGE] = {s_arrange, gr_v_arrange, NULL, 0},
    [COMFYD__V1__COMMAND__COMMAND_SET_NODE_MODE] = {s_set_node_mode, gr_v_set_node_mode, gr_d_mode,
                                                    0},
};
#define N_CMD_ROWS (sizeof cmd_rows / sizeof cmd_rows[0])

/* The oneof member of a case, from the descriptor. */
static const ProtobufCFieldDescriptor *cmd_field(unsigned kcase)
{
    return protobuf_c_message_descriptor_get_field(&comfyd__v1__command__descriptor, kcase);
}

/* The row of c's command; NULL when c is empty, its case has no row, or
 * the member's message is missing (a message without fields, as
 * clear_graph's, may be, and so may get_graph's, whose only field,
 * known_revision, is optional). */
static const cmd_row *cmd_row_of(const Comfyd__V1__Command *c)
{
    if (!c || c->command_case <= 0 || (size_t)c->command_case >= N_CMD_ROWS) return NULL;
    const cmd_row *r = &cmd_rows[c->command_case];
    if (!r->validate) return NULL;
    const ProtobufCFieldDescriptor *f = cmd_field((unsigned)c->command_case);
    if (!f) return NULL;
    const ProtobufCMessageDescriptor *md = f->descriptor;
    if (md->n_fields && !*(void *const *)((const char *)c + f->offset) &&
        c->command_case != COMFYD__V1__COMMAND__COMMAND_GET_GRAPH)
        return NULL;
    return r;
}

unsigned graph_cmd_flags(const Comfyd__V1__Command *c)
{
    const cmd_row *r = cmd_row_of(c);
    return r ? r->flags : 0;
}

const char *graph_cmd_name(const Comfyd__V1__Command *c)
{
    if (!cmd_row_of(c)) return NULL;
    return cmd_field((unsigned)c->command_case)->name;
}

char *graph_cmd_names(char *buf, size_t len)
{
    strbuf b = {buf, len, 0};
    if (len) buf[0] = '\0';
    for (size_t k = 1; k < N_CMD_ROWS; k++) {
        const ProtobufCFieldDescriptor *f = cmd_rows[k].validate ? cmd_field((unsigned)k) : NULL;
        if (f) sb_add(&b, "%s%s", b.len ? ", " : "", f->name);
    }
    return buf;
}

int graph_cmd_check_shape(const Comfyd__V1__Command *c, size_t i, char *err, size_t errlen)
{
    const cmd_row *r = cmd_row_of(c);
    if (!r) {
        char names[256];
        return text_err(err, errlen, GRAPH_EINVAL, "commands[%zu] is empty: set one of %s", i,
                        graph_cmd_names(names, sizeof names));
    }
    shape_ctx x = {err, errlen, i};
    return r->shape ? r->shape(&x, c) : GRAPH_OK;
}

void gr_validate_one(scratch *s, size_t idx, const Comfyd__V1__Command *c,
                     Comfyd__V1__CommandResult *res)
{
    const cmd_row *r = cmd_row_of(c);
    if (r) return r->validate(s, idx, c, res);
    gr_add_error(s, (long)idx, COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND, NULL,
                 0, "command %zu is empty", idx);
}

void gr_diff_node_fields(oplist *l, const graph_node *o, const graph_node *n)
{
    for (size_t k = 1; k < N_CMD_ROWS; k++)
        if (cmd_rows[k].diff) cmd_rows[k].diff(l, o, n);
}

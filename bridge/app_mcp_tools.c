/* app_mcp_tools: the MCP tools answered by one GraphService, RunService or
 * SessionService call (app_mcp_int.h). */
#include "app_mcp_int.h"

/* ==== tool calls ==== */

/* The error result of a failed call: the graph error's code and hint when
 * the core named one, else the gRPC status. */
char *mx_call_error(const app_call *c)
{
    const char *code = NULL;
    char msg[RPCC_MAX_DETAILS_BYTES + 64];
    app__call_outcome(c, &code, msg, sizeof msg);
    Comfyd__V1__GraphErrorCode gc = c->graph_code;
    if (!gc && c->code == GRPC_STATUS_OK) {
        const Comfyd__V1__GraphError *ge = app_first_graph_error(c->resp);
        if (ge) gc = ge->code;
    }
    return toolspec_error(code ? code : "INTERNAL", gc ? toolspec_hint(gc) : NULL, "%s", msg);
}

/* A response message as the tool's result (enums as the HTTP protocol
 * writes them). */
char *mx_encode_result(const ProtobufCMessage *m, int session_style)
{
    yajl_gen g = app__gen();
    if (!g) return NULL;
    if (app__encode(g, m, session_style ? app__style_session : app__style_graph, 0) != 0) {
        yajl_gen_free(g);
        return NULL;
    }
    char *out = NULL;
    size_t len = 0;
    return app__gen_finish(g, &out, &len) == APP_OK ? out : NULL;
}

/* Decodes the tool's arguments (skip: keys left out) as a message of d.
 * Returns it, or NULL after finishing op with an INVALID_ARGUMENT error. */
ProtobufCMessage *mx_decode_args(op *o, const ProtobufCMessageDescriptor *d,
                                 const char *const *skip, size_t n_skip)
{
    ProtobufCMessage *msg = NULL;
    char err[512] = "";
    int rc;
    if (o->args) {
        rc = app__decode_obj(o->args, skip, n_skip, NULL, NULL, d, 0, &msg, err, sizeof err);
    } else {
        /* No arguments: the message of {} (app__decode_gen takes g). */
        yajl_gen g = app__gen();
        if (!g) {
            rc = APP_E_NOMEM;
        } else if (yajl_gen_map_open(g) != yajl_gen_status_ok ||
                   yajl_gen_map_close(g) != yajl_gen_status_ok) {
            yajl_gen_free(g);
            rc = APP_E_NOMEM;
        } else {
            rc = app__decode_gen(g, d, 0, &msg, err, sizeof err);
        }
    }
    if (rc == APP_OK) return msg;
    if (rc == APP_E_NOMEM)
        mx_op_tool_error(o, toolspec_error("INTERNAL", NULL, "out of memory"));
    else
        mx_op_tool_error(o, toolspec_error("INVALID_ARGUMENT", NULL, "%s", err));
    return NULL;
}

static void set_str(char **field, const char *s)
{
    if (*field && *field != protobuf_c_empty_string) free(*field);
    *field = text_dup(s);
}

void mx_start(op *o, app_method method, app_call_done done, const ProtobufCMessage *req,
              int64_t timeout_ms)
{
    app_call *c = app__call_new(o->x->a, method, done);
    mx_call_begin(o, c);
    app__call_start(c, req, timeout_ms);
}

/* The deadline of a call that waits for a tab (APP_OP_* requests). */
int64_t mx_tab_deadline(app_op op_kind, ProtobufCMessage *msg)
{
    app_graph_req gr = {op_kind, msg, NULL};
    return app_graph_deadline_ms(&gr);
}

/* -- get_graph -- */

static void done_get_graph(app_call *c)
{
    mcp_session *s;
    op *o = mx_call_end(c, &s);
    if (!o) return;
    const Comfyd__V1__ExecuteResponse *r = (const Comfyd__V1__ExecuteResponse *)c->resp;
    if (c->code != GRPC_STATUS_OK || !r || !r->ok || !r->graph) {
        mx_op_tool_error(o, mx_call_error(c));
        return;
    }
    const char *canvas_id;
    int full;
    int64_t ids[TOOLSPEC_MAX_NODE_IDS];
    size_t n_ids = 0;
    char *res = NULL;
    if (o->args && toolspec_get_graph_args(o->args, &canvas_id, &full, ids, &n_ids, &res)) {
        mx_op_tool_error(o, res);
        return;
    }
    if (!o->args) full = 0;
    if (full) {
        if (toolspec_graph_full(r->graph, ids, n_ids, &res) != 0) {
            mx_op_tool_error(o, res ? res : toolspec_error("INTERNAL", NULL, "out of memory"));
            return;
        }
    } else {
        res = toolspec_graph_outline(r->graph, ids, n_ids);
    }
    /* A read of the whole canvas is what later patches are based on. */
    if (!n_ids) mx_observe(s, r->graph->canvas_id, r->graph->revision);
    mx_op_tool_result(o, res, 0);
}

void mx_tool_get_graph(op *o)
{
    const char *canvas_id = "";
    int full;
    int64_t ids[TOOLSPEC_MAX_NODE_IDS];
    size_t n_ids;
    char *err = NULL;
    if (o->args && toolspec_get_graph_args(o->args, &canvas_id, &full, ids, &n_ids, &err)) {
        mx_op_tool_error(o, err);
        return;
    }
    Comfyd__V1__ExecuteRequest req = COMFYD__V1__EXECUTE_REQUEST__INIT;
    Comfyd__V1__Command cmd = COMFYD__V1__COMMAND__INIT;
    Comfyd__V1__GetGraphCommand gg = COMFYD__V1__GET_GRAPH_COMMAND__INIT;
    cmd.command_case = COMFYD__V1__COMMAND__COMMAND_GET_GRAPH;
    cmd.get_graph = &gg;
    req.command = &cmd;
    req.canvas_id = (char *)canvas_id;
    mx_start(o, APP_M_EXECUTE, done_get_graph, &req.base, APP_UNARY_TIMEOUT_MS);
}

/* -- search_node_types and get_node_schema -- */

void mx_tool_types(op *o, mcp_session *s);

/* A graph error on the canvas the session last read: the canvas is gone,
 * so read the service's schema instead (as the skills' tools do). */
static int retry_without_canvas(op *o, const app_call *c)
{
    if (!o->canvas[0] || o->step != 0) return 0;
    if (!c->graph_code) return 0;
    o->step = 1;
    o->canvas[0] = '\0';
    mx_tool_types(o, NULL);
    return 1;
}

static void done_search(app_call *c)
{
    op *o = mx_call_end(c, NULL);
    if (!o) return;
    if (c->code != GRPC_STATUS_OK || !c->resp) {
        if (!retry_without_canvas(o, c)) mx_op_tool_error(o, mx_call_error(c));
        return;
    }
    mx_op_tool_result(o, toolspec_search_result((const Comfyd__V1__ListNodeTypesResponse *)c->resp),
                      0);
}

/* Close names for an unknown node type: a search for the name, then for
 * shorter prefixes of it ("KSamplr" finds KSampler through "KSampl"). */
static void suggest(op *o, size_t prefix);

static void done_suggest(app_call *c)
{
    op *o = mx_call_end(c, NULL);
    if (!o) return;
    const char *name = "";
    char *err = NULL;
    if (o->args) toolspec_schema_args(o->args, &name, &err);
    free(err);
    const Comfyd__V1__ListNodeTypesResponse *r = (const Comfyd__V1__ListNodeTypesResponse *)c->resp;
    size_t found = r && c->code == GRPC_STATUS_OK ? r->n_node_types : 0;
    size_t prefix = (size_t)o->base;
    if (!found && prefix > MCP_APP_MIN_PREFIX) {
        /* A shorter prefix, cut on a UTF-8 boundary. */
        size_t next = prefix * 3 / 4;
        if (next < MCP_APP_MIN_PREFIX) next = MCP_APP_MIN_PREFIX;
        while (next > 0 && ((unsigned char)name[next] & 0xC0) == 0x80)
            next--;
        if (next && next < prefix) {
            suggest(o, next);
            return;
        }
    }
    const char *sugg[TOOLSPEC_MAX_SUGGESTIONS];
    size_t n = 0;
    for (size_t i = 0; i < found && n < TOOLSPEC_MAX_SUGGESTIONS; i++)
        sugg[n++] = r->node_types[i]->name;
    mx_op_tool_error(o, toolspec_unknown_type(name, sugg, n));
}

static void suggest(op *o, size_t prefix)
{
    const char *name = "";
    char *err = NULL;
    toolspec_schema_args(o->args, &name, &err);
    free(err);
    char *q = text_dupn(name, prefix);
    o->base = prefix; /* the prefix length searched last */
    Comfyd__V1__ListNodeTypesRequest req = COMFYD__V1__LIST_NODE_TYPES_REQUEST__INIT;
    req.canvas_id = o->canvas;
    req.query = q;
    req.limit = TOOLSPEC_MAX_SUGGESTIONS;
    mx_start(o, APP_M_LIST_NODE_TYPES, done_suggest, &req.base, APP_UNARY_TIMEOUT_MS);
    free(q);
}

static void done_schema(app_call *c)
{
    op *o = mx_call_end(c, NULL);
    if (!o) return;
    if (c->code != GRPC_STATUS_OK || !c->resp) {
        if (!retry_without_canvas(o, c)) mx_op_tool_error(o, mx_call_error(c));
        return;
    }
    const Comfyd__V1__ListNodeTypesResponse *r = (const Comfyd__V1__ListNodeTypesResponse *)c->resp;
    if (r->n_node_types) {
        mx_op_tool_result(o, toolspec_schema_result(r->node_types[0]), 0);
        return;
    }
    /* Unknown: close names by a search (the edit distance of the skills'
     * tools needs the schema in-process). */
    const char *name = "";
    char *err = NULL;
    toolspec_schema_args(o->args, &name, &err);
    free(err);
    suggest(o, strlen(name));
}

void mx_tool_types(op *o, mcp_session *s)
{
    if (o->step == 0 && s && s->has_view) snprintf(o->canvas, sizeof o->canvas, "%s", s->canvas);
    if (o->tool == T_SCHEMA) {
        const char *name;
        char *err = NULL;
        if (!o->args) {
            mx_op_tool_error(o, toolspec_error("INVALID_ARGUMENT", NULL, "node_type is required"));
            return;
        }
        if (toolspec_schema_args(o->args, &name, &err)) {
            mx_op_tool_error(o, err);
            return;
        }
        Comfyd__V1__ListNodeTypesRequest req = COMFYD__V1__LIST_NODE_TYPES_REQUEST__INIT;
        char *names[1] = {(char *)name};
        req.canvas_id = o->canvas;
        req.names = names;
        req.n_names = 1;
        mx_start(o, APP_M_LIST_NODE_TYPES, done_schema, &req.base, APP_UNARY_TIMEOUT_MS);
        return;
    }
    Comfyd__V1__ListNodeTypesRequest *req = (Comfyd__V1__ListNodeTypesRequest *)mx_decode_args(
        o, &comfyd__v1__list_node_types_request__descriptor, NULL, 0);
    if (!req) return;
    uint32_t limit = req->limit ? req->limit : TOOLSPEC_SEARCH_DEFAULT;
    req->limit = limit > TOOLSPEC_SEARCH_MAX ? TOOLSPEC_SEARCH_MAX : limit;
    set_str(&req->canvas_id, o->canvas);
    mx_start(o, APP_M_LIST_NODE_TYPES, done_search, &req->base, APP_UNARY_TIMEOUT_MS);
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

/* -- validate_patch and apply_patch -- */

static void done_patch(app_call *c)
{
    mcp_session *s;
    op *o = mx_call_end(c, &s);
    if (!o) return;
    const Comfyd__V1__ExecuteBatchResponse *r = (const Comfyd__V1__ExecuteBatchResponse *)c->resp;
    if (c->code != GRPC_STATUS_OK || !r) {
        mx_op_tool_error(o, mx_call_error(c));
        return;
    }
    int validate_only = o->tool == T_VALIDATE;
    char *res = toolspec_patch_result(r, validate_only, o->has_base, o->base);
    /* The client knows the state after its own patch. */
    if (!validate_only && r->ok) mx_observe(s, r->canvas_id, r->revision);
    mx_op_tool_result(o, res, !r->ok && !validate_only);
}

void mx_tool_patch(op *o, mcp_session *s)
{
    Comfyd__V1__ExecuteBatchRequest *req = (Comfyd__V1__ExecuteBatchRequest *)mx_decode_args(
        o, &comfyd__v1__execute_batch_request__descriptor, NULL, 0);
    if (!req) return;
    if (req->n_commands == 0) {
        protobuf_c_message_free_unpacked(&req->base, NULL);
        mx_op_tool_error(o, toolspec_no_commands());
        return;
    }
    /* Without a base the patch is checked against what the client last
     * saw of that canvas, and sent there when it names none. */
    const char *named = req->canvas_id ? req->canvas_id : "";
    if (!req->base_revision && s && s->has_view && (!*named || !strcmp(named, s->canvas))) {
        req->base_revision = malloc(sizeof *req->base_revision);
        if (!req->base_revision) {
            protobuf_c_message_free_unpacked(&req->base, NULL);
            mx_op_tool_error(o, toolspec_error("INTERNAL", NULL, "out of memory"));
            return;
        }
        google__protobuf__uint64_value__init(req->base_revision);
        req->base_revision->value = s->revision;
        if (!*named) set_str(&req->canvas_id, s->canvas);
    }
    req->validate_only = o->tool == T_VALIDATE;
    req->timeout_ms = 0;
    o->has_base = req->base_revision != NULL;
    o->base = o->has_base ? req->base_revision->value : 0;
    if (mx_elicit_wanted(o, s, req)) {
        mx_elicit_start(o, req);
        return;
    }
    mx_start(o, APP_M_EXECUTE_BATCH, done_patch, &req->base,
             mx_tab_deadline(APP_OP_BATCH, &req->base));
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

/* -- queue, save, load, canvases, sessions -- */

static void done_message(app_call *c)
{
    mcp_session *s;
    op *o = mx_call_end(c, &s);
    if (!o) return;
    const char *code;
    char msg[RPCC_MAX_DETAILS_BYTES + 64];
    int status = app__call_outcome(c, &code, msg, sizeof msg);
    if (o->tool == T_LEASE && c->code == GRPC_STATUS_OK && c->resp && status != 200) {
        /* A refused lease: the answer itself (the lease in the way, its
         * holder and expiry) with the error's hint, as an error result. */
        char *res = mx_encode_result(c->resp, 0);
        mx_op_tool_result(o, res ? res : mx_call_error(c), 1);
        return;
    }
    if (status != 200 || !c->resp) {
        mx_op_tool_error(o, mx_call_error(c));
        return;
    }
    if (o->tool == T_LOAD && s) {
        /* The client has not seen what was loaded. */
        const Comfyd__V1__LoadResponse *r = (const Comfyd__V1__LoadResponse *)c->resp;
        if (s->has_view && r->canvas_id && !strcmp(r->canvas_id, s->canvas)) s->has_view = 0;
    }
    int session_style = o->tool == T_SESSIONS || o->tool == T_CREATE_SESSION ||
                        o->tool == T_SEARCH_SESSIONS || o->tool == T_COMPACT_SESSION ||
                        o->tool == T_EXPORT_SESSION || o->tool == T_FORK_SESSION ||
                        o->tool == T_REVERT_SESSION || o->tool == T_LIST_CHECKPOINTS;
    char *res = mx_encode_result(c->resp, session_style);
    mx_op_tool_result(o, res ? res : toolspec_error("INTERNAL", NULL, "out of memory"), 0);
}

void mx_tool_message(op *o, mcp_session *s)
{
    static const struct {
        const ProtobufCMessageDescriptor *d;
        app_method method;
        int op_kind; /* the APP_OP_ of calls that wait for a tab, else -1 */
    } how[T__COUNT] = {
        [T_QUEUE] = {&comfyd__v1__queue_request__descriptor, APP_M_QUEUE, APP_OP_QUEUE},
        [T_SAVE] = {&comfyd__v1__save_request__descriptor, APP_M_SAVE, -1},
        [T_LOAD] = {&comfyd__v1__load_request__descriptor, APP_M_LOAD, APP_OP_LOAD},
        [T_CANVASES] = {&comfyd__v1__list_canvases_request__descriptor, APP_M_LIST_CANVASES, -1},
        [T_SESSIONS] = {&comfyd__v1__list_sessions_request__descriptor, APP_M_LIST_SESSIONS, -1},
        [T_CREATE_SESSION] = {&comfyd__v1__create_session_request__descriptor, APP_M_CREATE_SESSION,
                              -1},
        [T_SEARCH_SESSIONS] = {&comfyd__v1__search_sessions_request__descriptor,
                               APP_M_SEARCH_SESSIONS, -1},
        [T_COMPACT_SESSION] = {&comfyd__v1__compact_session_request__descriptor,
                               APP_M_COMPACT_SESSION, -1},
        [T_EXPORT_SESSION] = {&comfyd__v1__export_session_request__descriptor, APP_M_EXPORT_SESSION,
                              -1},
        [T_FORK_SESSION] = {&comfyd__v1__fork_session_request__descriptor, APP_M_FORK_SESSION, -1},
        [T_REVERT_SESSION] = {&comfyd__v1__revert_session_request__descriptor, APP_M_REVERT_SESSION,
                              -1},
        [T_LIST_CHECKPOINTS] = {&comfyd__v1__list_checkpoints_request__descriptor,
                                APP_M_LIST_CHECKPOINTS, -1},
        [T_NODE_HISTORY] = {&comfyd__v1__get_node_history_request__descriptor,
                            APP_M_GET_NODE_HISTORY, -1},
        [T_LEASE] = {&comfyd__v1__lease_request__descriptor, APP_M_LEASE, -1},
    };
    const tool_info *ti = &mx_tools[o->tool];
    ProtobufCMessage *req = mx_decode_args(o, how[o->tool].d, ti->opts.skip, ti->opts.n_skip);
    if (!req) return;
    /* A canvas left out means the one the client last read. */
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(req->descriptor, "canvas_id");
    if (f && s && s->has_view) {
        char **cid = (char **)((char *)req + f->offset);
        if (!*cid || !**cid) set_str(cid, s->canvas);
    }
    int64_t deadline = how[o->tool].op_kind >= 0 ? mx_tab_deadline(how[o->tool].op_kind, req)
                                                 : APP_UNARY_TIMEOUT_MS;
    mx_start(o, how[o->tool].method, done_message, req, deadline);
    protobuf_c_message_free_unpacked(req, NULL);
}

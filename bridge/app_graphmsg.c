/* app_graphmsg: the graph requests of seed 004 (HTTP bodies and WS
 * /comfy/graph/ws messages) decoded into GraphService requests, their
 * deadlines, and the answers written as JSON. Pure (app.h): the graph
 * endpoints (app_graph.c) and the MCP tools (app_mcp*.c) share it. */
#include <stdlib.h>
#include <string.h>

#include "app_int.h"
#include "jsonpb.h"
#include "log.h"
#include "text.h"
#include "text.h"

#define MOD "comfyd-bridge"

/* Keys that travel beside a seed command and belong to its ExecuteRequest. */
static const char *const envelope_keys[] = {"canvas_id",       "base_revision",     "on_stale",
                                            "idempotency_key", "validate_only",     "timeout_ms",
                                            "apply_mode",      "preview_timeout_ms"};
#define N_ENVELOPE (sizeof envelope_keys / sizeof envelope_keys[0])

static const struct {
    const char *type; /* WebSocket "type"; NULL: the seed commands */
    app_method method;
    const ProtobufCMessageDescriptor *req;
    app_route route;
} ops[APP_OP__COUNT] = {
    [APP_OP_EXECUTE] = {NULL, APP_M_EXECUTE, &comfyd__v1__execute_request__descriptor,
                        APP_ROUTE_COMMAND},
    [APP_OP_BATCH] = {"batch", APP_M_EXECUTE_BATCH, &comfyd__v1__execute_batch_request__descriptor,
                      APP_ROUTE_BATCH},
    [APP_OP_QUEUE] = {"queue", APP_M_QUEUE, &comfyd__v1__queue_request__descriptor,
                      APP_ROUTE_QUEUE},
    [APP_OP_SAVE] = {"save", APP_M_SAVE, &comfyd__v1__save_request__descriptor, APP_ROUTE_SAVE},
    [APP_OP_LOAD] = {"load", APP_M_LOAD, &comfyd__v1__load_request__descriptor, APP_ROUTE_LOAD},
    [APP_OP_STATE] = {"state", APP_M_REPORT_EDITOR, &comfyd__v1__report_editor_request__descriptor,
                      APP_ROUTE_STATE},
    [APP_OP_NODE_TYPES] = {"node_types", APP_M_LIST_NODE_TYPES,
                           &comfyd__v1__list_node_types_request__descriptor, APP_ROUTE_NODE_TYPES},
    [APP_OP_CANVASES] = {"canvases", APP_M_LIST_CANVASES,
                         &comfyd__v1__list_canvases_request__descriptor, APP_ROUTE_CANVASES},
    [APP_OP_DIFF] = {"diff", APP_M_GET_DIFF, &comfyd__v1__get_diff_request__descriptor,
                     APP_ROUTE_DIFF},
    [APP_OP_WORKFLOWS] = {"workflows", APP_M_LIST_WORKFLOWS,
                          &comfyd__v1__list_workflows_request__descriptor, APP_ROUTE_WORKFLOWS},
    [APP_OP_LEASE] = {"lease", APP_M_LEASE, &comfyd__v1__lease_request__descriptor,
                      APP_ROUTE_LEASE},
};

const char *app_graph_method(app_op op)
{
    return (unsigned)op < APP_OP__COUNT ? app_method_name(ops[op].method) : "unknown";
}

void app_graph_req_clear(app_graph_req *r)
{
    if (r->msg) protobuf_c_message_free_unpacked(r->msg, NULL);
    free(r->request_id);
    memset(r, 0, sizeof *r);
}

static int fail(char *err, size_t errlen, int rc, const char *msg)
{
    if (err && errlen) snprintf(err, errlen, "%s", msg);
    return rc;
}

/* 1 when name is a member of Command's oneof (a seed command type). */
static int is_command(const char *name)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(&comfyd__v1__command__descriptor, name);
    return f && (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF);
}

/* Drops the "command." path that the ExecuteRequest wrapping added, so the
 * message names the keys the client wrote. */
static void unwrap_path(char *err)
{
    if (!err) return;
    size_t n = 0;
    if (!strncmp(err, "command.", 8))
        n = 8;
    else if (!strncmp(err, "command: ", 9))
        n = 9;
    if (n) memmove(err, err + n, strlen(err + n) + 1);
}

/* {"type": ..., fields, envelope keys} -> ExecuteRequest{envelope,
 * command: {type, fields}}. Keys in also_skip (request_id) are dropped. */
static int execute_from_seed(yajl_val obj, const char *also_skip, ProtobufCMessage **out, char *err,
                             size_t errlen)
{
    yajl_gen g = app__gen();
    if (!g) return fail(err, errlen, APP_E_NOMEM, "out of memory");
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok;
    for (size_t i = 0; !bad && i < obj->u.object.len; i++) {
        const char *k = obj->u.object.keys[i];
        if (app__key_in(k, envelope_keys, N_ENVELOPE))
            bad = app__gen_cstr(g, k) || app__json_emit(g, obj->u.object.values[i]);
    }
    if (!bad) bad = app__gen_cstr(g, "command") || yajl_gen_map_open(g) != yajl_gen_status_ok;
    for (size_t i = 0; !bad && i < obj->u.object.len; i++) {
        const char *k = obj->u.object.keys[i];
        if (app__key_in(k, envelope_keys, N_ENVELOPE) || (also_skip && !strcmp(k, also_skip)))
            continue;
        bad = app__gen_cstr(g, k) || app__json_emit(g, obj->u.object.values[i]);
    }
    if (!bad)
        bad = yajl_gen_map_close(g) != yajl_gen_status_ok ||
              yajl_gen_map_close(g) != yajl_gen_status_ok;
    if (bad) {
        yajl_gen_free(g);
        return fail(err, errlen, APP_E_NOMEM, "cannot re-encode the request");
    }
    int rc = app__decode_gen(g, &comfyd__v1__execute_request__descriptor, 0, out, err, errlen);
    if (rc) unwrap_path(err);
    return rc;
}

int app_graph_parse_command(const char *json, size_t len, app_graph_req *out, char *err,
                            size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->op = APP_OP_EXECUTE;
    yajl_val v = NULL;
    int rc = app__json_parse(json, len, &v, err, errlen);
    if (rc) return rc;
    if (!YAJL_IS_OBJECT(v)) {
        rc = fail(err, errlen, APP_E_INPUT, "expected a JSON object");
    } else if (app__json_get(v, "type")) {
        rc = execute_from_seed(v, NULL, &out->msg, err, errlen);
    } else if (app__json_get(v, "command")) {
        rc = app__decode_obj(v, NULL, 0, NULL, NULL, &comfyd__v1__execute_request__descriptor, 0,
                             &out->msg, err, errlen);
    } else {
        rc = fail(err, errlen, APP_E_INPUT, "missing field: type");
    }
    yajl_tree_free(v);
    return rc;
}

/* An empty body (or only white space) is the empty request. */
static int blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return 0;
    return 1;
}

int app_graph_parse_body(app_op op, const char *json, size_t len, app_graph_req *out, char *err,
                         size_t errlen)
{
    memset(out, 0, sizeof *out);
    if ((unsigned)op >= APP_OP__COUNT || op == APP_OP_EXECUTE)
        return fail(err, errlen, APP_E_ARG, "not a body operation");
    out->op = op;
    if (blank(json, len)) json = "{}", len = 2;
    yajl_val v = NULL;
    int rc = app__json_parse(json, len, &v, err, errlen);
    if (rc) return rc;
    rc = app__decode_obj(v, NULL, 0, NULL, NULL, ops[op].req, 0, &out->msg, err, errlen);
    yajl_tree_free(v);
    return rc;
}

/* GetDiff over the WebSocket takes "since" like the HTTP query. */
static int emit_since(yajl_gen g, void *ud)
{
    yajl_val since = ud;
    return app__gen_cstr(g, "since_revision") || app__json_emit(g, since);
}

int app_graph_parse_ws(const char *json, size_t len, app_graph_req *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    yajl_val v = NULL;
    int rc = app__json_parse(json, len, &v, err, errlen);
    if (rc) return rc;
    if (!YAJL_IS_OBJECT(v)) {
        rc = fail(err, errlen, APP_E_INPUT, "expected a JSON object");
        goto out;
    }
    yajl_val rid = app__json_get(v, "request_id");
    if (rid && !YAJL_IS_NULL(rid)) {
        if (!YAJL_IS_STRING(rid) && !YAJL_IS_NUMBER(rid)) {
            rc = fail(err, errlen, APP_E_INPUT, "request_id: expected a string or a number");
            goto out;
        }
        yajl_gen g = app__gen();
        size_t n;
        if (!g || app__json_emit(g, rid) || app__gen_finish(g, &out->request_id, &n)) {
            if (g && !out->request_id) yajl_gen_free(g);
            rc = fail(err, errlen, APP_E_NOMEM, "out of memory");
            goto out;
        }
        if (n > APP_MAX_REQUEST_ID) {
            free(out->request_id);
            out->request_id = NULL;
            rc = fail(err, errlen, APP_E_INPUT, "request_id: too long");
            goto out;
        }
    }
    yajl_val t = app__json_get(v, "type");
    if (!t) {
        rc = fail(err, errlen, APP_E_INPUT, "missing field: type");
        goto out;
    }
    if (!YAJL_IS_STRING(t)) {
        rc = fail(err, errlen, APP_E_INPUT, "type: expected a string");
        goto out;
    }
    if (is_command(t->u.string)) {
        out->op = APP_OP_EXECUTE;
        rc = execute_from_seed(v, "request_id", &out->msg, err, errlen);
        goto out;
    }
    for (int op = APP_OP_EXECUTE + 1; op < APP_OP__COUNT; op++) {
        if (strcmp(t->u.string, ops[op].type)) continue;
        out->op = (app_op)op;
        yajl_val since = op == APP_OP_DIFF ? app__json_get(v, "since") : NULL;
        static const char *const skip[] = {"type", "request_id", "since"};
        rc = app__decode_obj(v, skip, since ? 3 : 2, since ? emit_since : NULL, since, ops[op].req,
                             0, &out->msg, err, errlen);
        goto out;
    }
    if (err && errlen) {
        const ProtobufCMessageDescriptor *cd = &comfyd__v1__command__descriptor;
        size_t n = (size_t)snprintf(err, errlen, "type: unknown type '%.64s'; expected one of ",
                                    t->u.string);
        for (unsigned i = 0; i < cd->n_fields && n < errlen; i++)
            n += (size_t)snprintf(err + n, errlen - n, "%s, ", cd->fields[i].name);
        for (int op = APP_OP_EXECUTE + 1; op < APP_OP__COUNT && n < errlen; op++)
            n += (size_t)snprintf(err + n, errlen - n, "%s%s", ops[op].type,
                                  op + 1 < APP_OP__COUNT ? ", " : "");
    }
    rc = APP_E_INPUT;
out:
    yajl_tree_free(v);
    return rc;
}

/* Methods whose requests carry idempotency_key and timeout_ms. */
static int tab_op(app_op op)
{
    return op == APP_OP_EXECUTE || op == APP_OP_BATCH || op == APP_OP_QUEUE || op == APP_OP_LOAD;
}

int app_graph_set_idempotency_key(app_graph_req *r, const char *key, size_t len, char *err,
                                  size_t errlen)
{
    if (!r->msg || !tab_op(r->op)) return APP_OK;
    if (len == 0 || !text_utf8_valid(key, len))
        return fail(err, errlen, APP_E_INPUT, "Idempotency-Key: empty or not UTF-8");
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(r->msg->descriptor, "idempotency_key");
    if (!f) return APP_OK;
    char **slot = (char **)((char *)r->msg + f->offset);
    if (*slot && **slot) {
        if (strlen(*slot) == len && !memcmp(*slot, key, len)) return APP_OK;
        return fail(err, errlen, APP_E_INPUT,
                    "the Idempotency-Key header and idempotency_key differ");
    }
    char *copy = malloc(len + 1);
    if (!copy) return fail(err, errlen, APP_E_NOMEM, "out of memory");
    memcpy(copy, key, len);
    copy[len] = '\0';
    if (*slot && *slot != (char *)protobuf_c_empty_string) free(*slot);
    *slot = copy;
    return APP_OK;
}

/* How long a patch sent as a preview may wait for the user's decision on
 * top of the tab's round trip (0: not a preview). */
int64_t app_graph_preview_ms(const ProtobufCMessage *msg)
{
    const ProtobufCFieldDescriptor *m =
        protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, "apply_mode");
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, "preview_timeout_ms");
    if (!m || !f) return 0;
    int mode = *(const int *)((const char *)msg + m->offset);
    if (mode != COMFYD__V1__APPLY_MODE__APPLY_MODE_PREVIEW &&
        mode != COMFYD__V1__APPLY_MODE__APPLY_MODE_PREVIEW_IF_SHOWN)
        return 0;
    uint32_t t = *(const uint32_t *)((const char *)msg + f->offset);
    if (t == 0) t = APP_DEFAULT_PREVIEW_TIMEOUT_MS;
    if (t > APP_MAX_PREVIEW_TIMEOUT_MS) t = APP_MAX_PREVIEW_TIMEOUT_MS;
    return t;
}

int64_t app_graph_deadline_ms(const app_graph_req *r)
{
    if (!r->msg || !tab_op(r->op)) return APP_UNARY_TIMEOUT_MS;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(r->msg->descriptor, "timeout_ms");
    uint32_t t = f ? *(const uint32_t *)((const char *)r->msg + f->offset) : 0;
    if (t == 0) t = APP_DEFAULT_TAB_TIMEOUT_MS;
    if (t > APP_MAX_TAB_TIMEOUT_MS) t = APP_MAX_TAB_TIMEOUT_MS;
    return (int64_t)t + app_graph_preview_ms(r->msg) + APP_DEADLINE_SLACK_MS;
}

/* ---- answers ---- */

int app_graph_response_json(const ProtobufCMessage *resp, char **out, size_t *len)
{
    yajl_gen g = app__gen();
    if (!g) return APP_E_NOMEM;
    if (app__encode(g, resp, app__style_graph, 0)) {
        yajl_gen_free(g);
        return APP_E_NOMEM;
    }
    return app__gen_finish(g, out, len);
}

static int ws_head(yajl_gen g, const char *request_id, const char *status)
{
    if (yajl_gen_map_open(g) != yajl_gen_status_ok) return -1;
    if (request_id && (app__gen_cstr(g, "request_id") || app__gen_raw_value(g, request_id)))
        return -1;
    return app__gen_cstr(g, "status") || app__gen_cstr(g, status);
}

int app_graph_ws_ok(const char *request_id, const ProtobufCMessage *resp, char **out, size_t *len)
{
    yajl_gen g = app__gen();
    if (!g) return APP_E_NOMEM;
    int bad = ws_head(g, request_id, "ok") || app__gen_cstr(g, "data") ||
              app__encode(g, resp, app__style_graph, 0) ||
              yajl_gen_map_close(g) != yajl_gen_status_ok;
    if (bad) {
        yajl_gen_free(g);
        return APP_E_NOMEM;
    }
    return app__gen_finish(g, out, len);
}

int app_graph_ws_ok_members(const char *request_id, const Comfyd__V1__ExecuteResponse *resp,
                            const char *members, size_t members_len, int members_utf8, char **out,
                            size_t *len, int *utf8)
{
    static const char marker[] = APP_GCACHE_MARKER;
    *out = NULL;
    *len = 0;
    *utf8 = 0;
    if (!resp->graph) return APP_E_NOMEM;
    yajl_gen g = app__gen();
    if (!g) return APP_E_NOMEM;
    /* The graph's head, its nodes and links left out: its encoding holds
     * the marker where the cached members go. */
    Comfyd__V1__Graph head = *resp->graph;
    head.nodes = NULL;
    head.n_nodes = 0;
    head.links = NULL;
    head.n_links = 0;
    head.unchanged = 0;
    Comfyd__V1__ExecuteResponse with_head = *resp;
    with_head.graph = &head;
    const unsigned char *buf;
    size_t at_data = 0, n = 0;
    int bad = ws_head(g, request_id, "ok") || app__gen_cstr(g, "data") ||
              yajl_gen_get_buf(g, &buf, &at_data) != yajl_gen_status_ok ||
              app__encode(g, &with_head.base, app__style_graph, 0) ||
              yajl_gen_map_close(g) != yajl_gen_status_ok ||
              yajl_gen_get_buf(g, &buf, &n) != yajl_gen_status_ok;
    /* The request's id (raw JSON) comes before the data, and in the
     * response only a Graph has nodes and links: the first match after
     * the data's key is the graph's. */
    const char *at = bad ? NULL : memmem(buf + at_data, n - at_data, marker, sizeof marker - 1);
    char *s = at ? malloc(n - (sizeof marker - 1) + members_len + 1) : NULL;
    if (!s) {
        yajl_gen_free(g);
        return APP_E_NOMEM;
    }
    size_t pre = (size_t)(at - (const char *)buf), post = n - pre - (sizeof marker - 1);
    memcpy(s, buf, pre);
    memcpy(s + pre, members, members_len);
    memcpy(s + pre + members_len, at + sizeof marker - 1, post);
    s[pre + members_len + post] = '\0';
    /* UTF-8 pieces joined at ASCII bytes are UTF-8. */
    *utf8 = members_utf8 && text_utf8_valid_nul((const char *)buf, pre) &&
            text_utf8_valid_nul(at + sizeof marker - 1, post);
    yajl_gen_free(g);
    *out = s;
    *len = pre + members_len + post;
    return APP_OK;
}

int app_graph_ws_error(const char *request_id, const char *code, const char *message,
                       const ProtobufCMessage *resp, char **out, size_t *len)
{
    yajl_gen g = app__gen();
    if (!g) return APP_E_NOMEM;
    int bad = ws_head(g, request_id, "error") || app__gen_cstr(g, "message") ||
              app__gen_str(g, message) || app__gen_cstr(g, "code") || app__gen_str(g, code);
    if (!bad && resp) bad = app__gen_cstr(g, "data") || app__encode(g, resp, app__style_graph, 0);
    if (!bad) bad = yajl_gen_map_close(g) != yajl_gen_status_ok;
    if (bad) {
        yajl_gen_free(g);
        return APP_E_NOMEM;
    }
    return app__gen_finish(g, out, len);
}

app_method app_graph_op_method(app_op op)
{
    return (unsigned)op < APP_OP__COUNT ? ops[op].method : APP_M__COUNT;
}

app_route app_graph_op_route(app_op op)
{
    return (unsigned)op < APP_OP__COUNT ? ops[op].route : APP_ROUTE__HTTP;
}

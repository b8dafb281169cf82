/* app_graph: the graph endpoints of seed 004 over HTTP (POST /comfy/graph/
 * command, batch, queue, save, load, state; GET node_types, canvases, diff,
 * workflows) and WS /comfy/graph/ws (request/response by request_id), each
 * one GraphService call. */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "jsonpb.h"
#include "log.h"
#include "text.h"

#define MOD "comfyd-bridge"

/* Keys that travel beside a seed command and belong to its ExecuteRequest. */
static const char *const envelope_keys[] = {"canvas_id", "base_revision", "idempotency_key",
                                            "validate_only", "timeout_ms"};
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

int64_t app_graph_deadline_ms(const app_graph_req *r)
{
    if (!r->msg || !tab_op(r->op)) return APP_UNARY_TIMEOUT_MS;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(r->msg->descriptor, "timeout_ms");
    uint32_t t = f ? *(const uint32_t *)((const char *)r->msg + f->offset) : 0;
    if (t == 0) t = APP_DEFAULT_TAB_TIMEOUT_MS;
    if (t > APP_MAX_TAB_TIMEOUT_MS) t = APP_MAX_TAB_TIMEOUT_MS;
    return (int64_t)t + APP_DEADLINE_SLACK_MS;
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

/* An ExecuteResponse whose graph is already encoded (graph_json). */
static int ws_ok_graph(const char *request_id, const Comfyd__V1__ExecuteResponse *resp,
                       const char *graph_json, size_t graph_len, char **out, size_t *len)
{
    yajl_gen g = app__gen();
    if (!g) return APP_E_NOMEM;
    Comfyd__V1__ExecuteResponse rest = *resp;
    rest.graph = NULL;
    /* yajl writes a number's text verbatim: the graph's own encoding. */
    int bad = ws_head(g, request_id, "ok") || app__gen_cstr(g, "data") ||
              yajl_gen_map_open(g) != yajl_gen_status_ok ||
              app__encode(g, &rest.base, app__style_graph, 1) || app__gen_cstr(g, "graph") ||
              yajl_gen_number(g, graph_json, graph_len) != yajl_gen_status_ok ||
              yajl_gen_map_close(g) != yajl_gen_status_ok ||
              yajl_gen_map_close(g) != yajl_gen_status_ok;
    if (bad) {
        yajl_gen_free(g);
        return APP_E_NOMEM;
    }
    return app__gen_finish(g, out, len);
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

/* ==== HTTP ==== */

static int input_status(int rc)
{
    return rc == APP_E_TOOBIG ? 413 : rc == APP_E_NOMEM ? 500 : 400;
}

static void http_done(app_call *c)
{
    bnet_req *r = bnet_req_find(c->a->net, c->req_id);
    if (r) app__respond_call(c, r); /* else the client left: drop the answer */
}

/* Starts gr's call for r; gr is cleared. */
static void http_call(app *a, bnet_req *r, app_graph_req *gr)
{
    app_call *c = app__call_new(a, ops[gr->op].method, http_done);
    c->req_id = bnet_req_id(r);
    c->route = ops[gr->op].route;
    app__call_start(c, gr->msg, app_graph_deadline_ms(gr));
    app_graph_req_clear(gr);
}

static void http_post(app *a, bnet_req *r, app_op op)
{
    app_route route = ops[op].route;
    if (!app__admit(a, r, route)) return;
    size_t len;
    const char *body = bnet_req_body(r, &len);
    app_graph_req gr;
    char err[1024];
    int rc = op == APP_OP_EXECUTE ? app_graph_parse_command(body, len, &gr, err, sizeof err)
                                  : app_graph_parse_body(op, body, len, &gr, err, sizeof err);
    size_t klen = 0;
    const char *key = bnet_req_header(r, "idempotency-key", &klen);
    if (rc == APP_OK && key) rc = app_graph_set_idempotency_key(&gr, key, klen, err, sizeof err);
    if (rc != APP_OK) {
        app__respond_error(a, r, route, input_status(rc), err, NULL);
        app_graph_req_clear(&gr);
        return;
    }
    http_call(a, r, &gr);
}

static void h_command(bnet_req *r, void *ud)
{
    http_post(ud, r, APP_OP_EXECUTE);
}
static void h_batch(bnet_req *r, void *ud)
{
    http_post(ud, r, APP_OP_BATCH);
}
static void h_queue(bnet_req *r, void *ud)
{
    http_post(ud, r, APP_OP_QUEUE);
}
static void h_save(bnet_req *r, void *ud)
{
    http_post(ud, r, APP_OP_SAVE);
}
static void h_load(bnet_req *r, void *ud)
{
    http_post(ud, r, APP_OP_LOAD);
}
static void h_state(bnet_req *r, void *ud)
{
    http_post(ud, r, APP_OP_STATE);
}

/* Reads query parameter name into a new string (NULL when absent). Returns
 * 0, or -1 after answering 400. */
static int query_str(app *a, bnet_req *r, app_route route, const char *name, char **out)
{
    *out = NULL;
    char *buf = malloc(APP_MAX_QUERY_VALUE);
    if (!buf) {
        app__respond_error(a, r, route, 500, "out of memory", NULL);
        return -1;
    }
    long n = bnet_req_query_param(r, name, buf, APP_MAX_QUERY_VALUE);
    if (n == -1) {
        free(buf);
        return 0;
    }
    if (n < 0 || !text_utf8_valid(buf, (size_t)n)) {
        char msg[128];
        snprintf(msg, sizeof msg, "query parameter %s: too long, a bad escape or not UTF-8", name);
        free(buf);
        app__respond_error(a, r, route, 400, msg, NULL);
        return -1;
    }
    *out = text_dupn(buf, (size_t)n);
    free(buf);
    return 0;
}

/* An unsigned integer parameter (absent: 0). Returns 0 or -1 (answered). */
int app_graph_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    /* By hand rather than strtoull, which saturates at ULLONG_MAX on
     * overflow (a 30-digit since= became the largest revision) and skips
     * leading spaces and signs. */
    uint64_t v = 0;
    size_t i = 0;
    for (; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    if (i == 0 || v > max) return -1;
    *out = v;
    return 0;
}

static int query_uint(app *a, bnet_req *r, app_route route, const char *name, uint64_t max,
                      uint64_t *out)
{
    char buf[32];
    *out = 0;
    long n = bnet_req_query_param(r, name, buf, sizeof buf);
    if (n == -1) return 0;
    uint64_t v = 0;
    if (n <= 0 || app_graph_parse_uint(buf, max, &v) != 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "query parameter %s: expected an integer from 0 to %llu", name,
                 (unsigned long long)max);
        app__respond_error(a, r, route, 400, msg, NULL);
        return -1;
    }
    *out = v;
    return 0;
}

static void h_node_types(bnet_req *r, void *ud)
{
    app *a = ud;
    const app_route route = APP_ROUTE_NODE_TYPES;
    if (!app__admit(a, r, route)) return;
    Comfyd__V1__ListNodeTypesRequest *q = malloc(sizeof *q);
    if (!q) {
        app__respond_error(a, r, route, 500, "out of memory", NULL);
        return;
    }
    comfyd__v1__list_node_types_request__init(q);
    app_graph_req gr = {APP_OP_NODE_TYPES, &q->base, NULL};
    char *names = NULL, *s;
    uint64_t limit;
    if (query_str(a, r, route, "canvas_id", &s)) goto out;
    if (s) q->canvas_id = s;
    if (query_str(a, r, route, "query", &s)) goto out;
    if (s) q->query = s;
    if (query_str(a, r, route, "category", &s)) goto out;
    if (s) q->category = s;
    if (query_uint(a, r, route, "limit", UINT32_MAX, &limit)) goto out;
    q->limit = (uint32_t)limit;
    if (query_str(a, r, route, "names", &names)) goto out;
    if (names) {
        size_t count = 1;
        for (const char *p = names; *p; p++)
            count += *p == ',';
        if (count > APP_MAX_NAMES_PARAM) {
            app__respond_error(a, r, route, 400, "names: too many node types", NULL);
            goto out;
        }
        q->names = calloc(count, sizeof *q->names);
        if (!q->names) {
            app__respond_error(a, r, route, 500, "out of memory", NULL);
            goto out;
        }
        char *save = NULL;
        for (char *t = strtok_r(names, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            while (*t == ' ')
                t++;
            size_t n = strlen(t);
            while (n && t[n - 1] == ' ')
                t[--n] = '\0';
            if (n) q->names[q->n_names++] = text_dup(t);
        }
    }
    free(names);
    http_call(a, r, &gr);
    return;
out:
    free(names);
    app_graph_req_clear(&gr);
}

static void h_canvases(bnet_req *r, void *ud)
{
    app *a = ud;
    if (!app__admit(a, r, APP_ROUTE_CANVASES)) return;
    Comfyd__V1__ListCanvasesRequest q = COMFYD__V1__LIST_CANVASES_REQUEST__INIT;
    app_call *c = app__call_new(a, APP_M_LIST_CANVASES, http_done);
    c->req_id = bnet_req_id(r);
    c->route = APP_ROUTE_CANVASES;
    app__call_start(c, &q.base, APP_UNARY_TIMEOUT_MS);
}

static void h_workflows(bnet_req *r, void *ud)
{
    app *a = ud;
    if (!app__admit(a, r, APP_ROUTE_WORKFLOWS)) return;
    Comfyd__V1__ListWorkflowsRequest q = COMFYD__V1__LIST_WORKFLOWS_REQUEST__INIT;
    app_call *c = app__call_new(a, APP_M_LIST_WORKFLOWS, http_done);
    c->req_id = bnet_req_id(r);
    c->route = APP_ROUTE_WORKFLOWS;
    app__call_start(c, &q.base, APP_UNARY_TIMEOUT_MS);
}

static void h_diff(bnet_req *r, void *ud)
{
    app *a = ud;
    const app_route route = APP_ROUTE_DIFF;
    if (!app__admit(a, r, route)) return;
    Comfyd__V1__GetDiffRequest q = COMFYD__V1__GET_DIFF_REQUEST__INIT;
    char *canvas = NULL;
    uint64_t since;
    if (query_uint(a, r, route, "since", UINT64_MAX, &since)) return;
    if (query_str(a, r, route, "canvas_id", &canvas)) return;
    q.since_revision = since;
    if (canvas) q.canvas_id = canvas;
    app_call *c = app__call_new(a, APP_M_GET_DIFF, http_done);
    c->req_id = bnet_req_id(r);
    c->route = route;
    app__call_start(c, &q.base, APP_UNARY_TIMEOUT_MS);
    free(canvas);
}

/* ==== WS /comfy/graph/ws ==== */

typedef struct graph_ws {
    app_ws base;
    unsigned inflight;
    /* watch_run: one RunService.WatchRun stream per socket. */
    app_stream *runs;
    char *runs_rid; /* the watch_run's request_id JSON, or NULL */
} graph_ws;

static void ws_send_error(graph_ws *w, const char *rid, const char *code, const char *message)
{
    char *json = NULL;
    size_t len = 0;
    if (app_graph_ws_error(rid, code, message, NULL, &json, &len) == APP_OK)
        app__ws_send(&w->base, json, len);
}

static void ws_done(app_call *c)
{
    bnet_ws *ws = bnet_ws_find(c->a->net, c->ws_id);
    if (!ws) return; /* the socket closed: drop the answer */
    graph_ws *w = bnet_ws_data(ws);
    if (w->inflight) w->inflight--;
    const char *code;
    char msg[RPCC_MAX_DETAILS_BYTES + 64];
    int status = app__call_outcome(c, &code, msg, sizeof msg);
    char *json = NULL, *gj = NULL;
    size_t len = 0, glen = 0;
    const Comfyd__V1__ExecuteResponse *er =
        status == 200 && c->resp && c->resp->descriptor == &comfyd__v1__execute_response__descriptor
            ? (const Comfyd__V1__ExecuteResponse *)c->resp
            : NULL;
    if (er && er->graph && app_gcache_graph_json(c->a->gcache, er->graph, c->gc_held, &gj, &glen)) {
        int grc = ws_ok_graph(c->rid, er, gj, glen, &json, &len);
        free(gj);
        if (grc == APP_OK) {
            app__ws_send(&w->base, json, len);
            return;
        }
    }
    int rc = status == 200
                 ? app_graph_ws_ok(c->rid, c->resp, &json, &len)
                 : app_graph_ws_error(c->rid, code, msg, c->code == GRPC_STATUS_OK ? c->resp : NULL,
                                      &json, &len);
    if (rc != APP_OK) {
        ws_send_error(w, c->rid, "INTERNAL", "the core's answer cannot be encoded");
        return;
    }
    app__ws_send(&w->base, json, len);
}

/* ---- run events: {"type": "watch_run", "prompt_id": ID (empty: every
 * run), "after_seq": N, "request_id": R} starts RunService.WatchRun; each
 * state comes as {"type": "run", "request_id": R, "data": Run}, its end as
 * {"type": "run_end", "request_id": R, "code": "OK"|..., "message": ...}.
 * {"type": "unwatch_run"} stops it. ---- */

static void runs_stop(graph_ws *w)
{
    if (w->runs) app__stream_detach(w->runs);
    w->runs = NULL;
    free(w->runs_rid);
    w->runs_rid = NULL;
}

static int gen_head(yajl_gen g, const char *type, const char *rid)
{
    return yajl_gen_map_open(g) != yajl_gen_status_ok || app__gen_cstr(g, "type") ||
           app__gen_str(g, type) ||
           (rid && (app__gen_cstr(g, "request_id") || app__gen_raw_value(g, rid)));
}

static void runs_msg(void *owner, app_stream *s, ProtobufCMessage *m)
{
    graph_ws *w = owner;
    const Comfyd__V1__WatchRunResponse *r = (const Comfyd__V1__WatchRunResponse *)m;
    yajl_gen g = app__gen();
    char *json = NULL;
    size_t len = 0;
    int bad = !g || !r->run || gen_head(g, "run", w->runs_rid) || app__gen_cstr(g, "data") ||
              app__encode(g, &r->run->base, app__style_graph, 0) ||
              yajl_gen_map_close(g) != yajl_gen_status_ok;
    protobuf_c_message_free_unpacked(m, NULL);
    if (bad) {
        if (g) yajl_gen_free(g);
        app__stream_paced_credit(s, w->base.ws);
        return;
    }
    if (app__gen_finish(g, &json, &len) != APP_OK) return;
    if (app__ws_send(&w->base, json, len) != BNET_OK) return;
    app__stream_paced_credit(s, w->base.ws);
}

static void runs_end(void *owner, app_stream *s, grpc_status_code code, const char *details)
{
    (void)s;
    graph_ws *w = owner;
    yajl_gen g = app__gen();
    char *json = NULL;
    size_t len = 0;
    char *rid = w->runs_rid;
    w->runs_rid = NULL;
    if (w->runs) app__stream_detach(w->runs);
    w->runs = NULL;
    int bad = !g || gen_head(g, "run_end", rid) || app__gen_cstr(g, "code") ||
              app__gen_str(g, app_grpc_code_name(code)) || app__gen_cstr(g, "message") ||
              app__gen_str(g, details ? details : "") ||
              yajl_gen_map_close(g) != yajl_gen_status_ok;
    free(rid);
    if (bad) {
        if (g) yajl_gen_free(g);
        return;
    }
    if (app__gen_finish(g, &json, &len) == APP_OK) app__ws_send(&w->base, json, len);
}

/* Handles watch_run / unwatch_run; 0 when data is another message. */
static int runs_ws_message(app *a, graph_ws *w, const char *data, size_t len)
{
    if (!memmem(data, len, "watch_run\"", 10)) return 0;
    yajl_val root = NULL;
    char err[256];
    if (app__json_parse(data, len, &root, err, sizeof err) != APP_OK) return 0;
    yajl_val type = app__json_get(root, "type");
    const char *t = type && YAJL_IS_STRING(type) ? type->u.string : "";
    int watch = !strcmp(t, "watch_run"), unwatch = !strcmp(t, "unwatch_run");
    if (!watch && !unwatch) {
        yajl_tree_free(root);
        return 0;
    }
    yajl_val rid = app__json_get(root, "request_id");
    char *rid_json = NULL;
    if (rid) {
        yajl_gen g = app__gen();
        size_t n = 0;
        if (g && !app__json_emit(g, rid))
            app__gen_finish(g, &rid_json, &n);
        else if (g)
            yajl_gen_free(g);
    }
    runs_stop(w);
    if (unwatch) {
        free(rid_json);
        yajl_tree_free(root);
        return 1;
    }
    Comfyd__V1__WatchRunRequest q = COMFYD__V1__WATCH_RUN_REQUEST__INIT;
    yajl_val pid = app__json_get(root, "prompt_id");
    yajl_val after = app__json_get(root, "after_seq");
    if ((pid && !YAJL_IS_STRING(pid)) || (after && !YAJL_IS_INTEGER(after)) ||
        (after && YAJL_GET_INTEGER(after) < 0)) {
        ws_send_error(w, rid_json, "INVALID_ARGUMENT",
                      "watch_run: prompt_id is a string, after_seq a non-negative integer");
        free(rid_json);
        yajl_tree_free(root);
        return 1;
    }
    if (pid) q.prompt_id = pid->u.string;
    if (after) q.after_seq = (uint64_t)YAJL_GET_INTEGER(after);
    int rc = app__stream_start(a, APP_M_WATCH_RUN, &q.base, w, runs_msg, runs_end, &w->runs);
    yajl_tree_free(root);
    if (rc != RPCC_OK) {
        ws_send_error(w, rid_json, "UNAVAILABLE", rpcc_strerror(rc));
        free(rid_json);
        w->runs = NULL;
        return 1;
    }
    w->runs_rid = rid_json;
    return 1;
}

static void ws_drain(bnet_ws *ws, void *ud)
{
    (void)ud;
    graph_ws *w = bnet_ws_data(ws);
    if (w && w->runs) app__stream_resume(w->runs);
}

static void ws_open(bnet_ws *ws, const bnet_req *req, void *ud)
{
    (void)req;
    graph_ws *w = calloc(1, sizeof *w);
    if (!w) {
        bnet_ws_close(ws, 1011, "out of memory");
        return;
    }
    app__ws_opened(ud, &w->base, ws, APP_WS_GRAPH);
}

/* A get_graph of a named canvas whose encoded graph the loop holds asks
 * the core for the graph only when it changed since (known_revision); the
 * call keeps a reference to the text it named. */
static void name_known_graph(app *a, app_graph_req *gr, app_call *c)
{
    if (gr->op != APP_OP_EXECUTE || !gr->msg) return;
    Comfyd__V1__ExecuteRequest *x = (Comfyd__V1__ExecuteRequest *)gr->msg;
    if (!x->command || x->command->command_case != COMFYD__V1__COMMAND__COMMAND_GET_GRAPH ||
        !x->command->get_graph || x->command->get_graph->known_revision || x->validate_only)
        return;
    app_gcache_ent *e = app_gcache_get(a->gcache, x->canvas_id);
    if (!e) return;
    x->command->get_graph->known_revision = app_gcache_ent_revision(e);
    c->gc_held = e;
}

static void ws_message(bnet_ws *ws, int binary, const void *data, size_t len, void *ud)
{
    app *a = ud;
    graph_ws *w = bnet_ws_data(ws);
    if (!w) return;
    a->m.ws_in[APP_WS_GRAPH]++;
    if (binary) {
        ws_send_error(w, NULL, "INVALID_ARGUMENT", "binary messages are not accepted");
        return;
    }
    if (runs_ws_message(a, w, data, len)) return;
    app_graph_req gr;
    char err[1024];
    int rc = app_graph_parse_ws(data, len, &gr, err, sizeof err);
    if (rc != APP_OK) {
        ws_send_error(w, gr.request_id, rc == APP_E_NOMEM ? "INTERNAL" : "INVALID_ARGUMENT", err);
        app_graph_req_clear(&gr);
        return;
    }
    if (a->draining) {
        ws_send_error(w, gr.request_id, "UNAVAILABLE", "shutting down");
        app_graph_req_clear(&gr);
        return;
    }
    if (w->inflight >= APP_WS_MAX_INFLIGHT) {
        ws_send_error(w, gr.request_id, "RESOURCE_EXHAUSTED", "too many requests in flight");
        app_graph_req_clear(&gr);
        return;
    }
    w->inflight++;
    app_call *c = app__call_new(a, ops[gr.op].method, ws_done);
    c->ws_id = bnet_ws_id(ws);
    c->rid = gr.request_id;
    gr.request_id = NULL;
    name_known_graph(a, &gr, c);
    app__call_start(c, gr.msg, app_graph_deadline_ms(&gr));
    app_graph_req_clear(&gr);
}

static void ws_close(bnet_ws *ws, uint16_t code, const char *reason, size_t rlen, void *ud)
{
    (void)code, (void)reason, (void)rlen, (void)ud;
    graph_ws *w = bnet_ws_data(ws);
    if (!w) return;
    runs_stop(w);
    app__ws_closed(&w->base);
    free(w);
}

int app__graph_routes(app *a)
{
    static const struct {
        const char *method, *path;
        bnet_handler fn;
    } routes[] = {
        {"POST", "/comfy/graph/command", h_command},
        {"POST", "/comfy/graph/batch", h_batch},
        {"POST", "/comfy/graph/queue", h_queue},
        {"POST", "/comfy/graph/save", h_save},
        {"POST", "/comfy/graph/load", h_load},
        {"POST", "/comfy/graph/state", h_state},
        {"GET", "/comfy/graph/node_types", h_node_types},
        {"GET", "/comfy/graph/canvases", h_canvases},
        {"GET", "/comfy/graph/diff", h_diff},
        {"GET", "/comfy/graph/workflows", h_workflows},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (bnet_route(a->net, routes[i].method, routes[i].path, 0, routes[i].fn, a) != BNET_OK)
            return -1;
    bnet_ws_handlers h = {.on_upgrade = app__ws_upgrade,
                          .on_open = ws_open,
                          .on_message = ws_message,
                          .on_close = ws_close,
                          .on_drain = ws_drain};
    return bnet_route_ws(a->net, "/comfy/graph/ws", 0, &h, a) == BNET_OK ? 0 : -1;
}

/* app_graph: the graph endpoints of seed 004 over HTTP (POST /comfy/graph/
 * command, batch, queue, save, load, state; GET node_types, canvases, diff,
 * workflows) and WS /comfy/graph/ws (request/response by request_id), each
 * one GraphService call. The requests are decoded and the answers written
 * by app_graphmsg.c. */
#include <stdlib.h>
#include <string.h>

#include "app_int.h"
#include "jsonpb.h"
#include "log.h"
#include "text.h"

#define MOD "comfyd-bridge"

/* ==== HTTP ==== */

static int input_status(int rc)
{
    return rc == APP_E_TOOBIG ? 413 : rc == APP_E_NOMEM ? 500 : 400;
}

/* Starts gr's call for r on behalf of caller (may be NULL); gr is cleared. */
static void http_call(app_ctx *a, bnet_req *r, app_graph_req *gr, const char *caller)
{
    app__call_http_as(a, r, app_graph_op_route(gr->op), app_graph_op_method(gr->op), gr->msg,
                      app_graph_deadline_ms(gr), caller);
    app_graph_req_clear(gr);
}

/* The comfyd-caller header: who an HTTP caller says it is (the core
 * records it as the provenance of what the call changes and as the holder
 * of the leases it takes). 0 with caller filled ("" when absent), -1 when
 * it is not 1..APP_MAX_CALLER printable ASCII characters (err says so). */
static int http_caller(bnet_req *r, char caller[APP_MAX_CALLER + 1], char *err, size_t errlen)
{
    size_t n = 0;
    const char *h = bnet_req_header(r, APP_MD_CALLER, &n);
    caller[0] = 0;
    if (!h) return 0;
    int ok = n >= 1 && n <= APP_MAX_CALLER;
    for (size_t i = 0; ok && i < n; i++)
        ok = h[i] >= 0x20 && h[i] <= 0x7e;
    if (!ok) {
        snprintf(err, errlen, "header %s must be 1..%d printable ASCII characters", APP_MD_CALLER,
                 APP_MAX_CALLER);
        return -1;
    }
    memcpy(caller, h, n);
    caller[n] = 0;
    return 0;
}

static void http_post(app_ctx *a, bnet_req *r, app_op op)
{
    app_route route = app_graph_op_route(op);
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
    char caller[APP_MAX_CALLER + 1];
    if (rc == APP_OK && http_caller(r, caller, err, sizeof err)) rc = APP_E_INPUT;
    if (rc != APP_OK) {
        app__respond_error(a, r, route, input_status(rc), err, NULL);
        app_graph_req_clear(&gr);
        return;
    }
    http_call(a, r, &gr, caller);
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
static void h_lease(bnet_req *r, void *ud)
{
    http_post(ud, r, APP_OP_LEASE);
}
static void h_state(bnet_req *r, void *ud)
{
    http_post(ud, r, APP_OP_STATE);
}

/* Reads query parameter name into a new string (NULL when absent). Returns
 * 0, or -1 after answering 400. */
static int query_str(app_ctx *a, bnet_req *r, app_route route, const char *name, char **out)
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

static int query_uint(app_ctx *a, bnet_req *r, app_route route, const char *name, uint64_t max,
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
    app_ctx *a = ud;
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
    http_call(a, r, &gr, NULL);
    return;
out:
    free(names);
    app_graph_req_clear(&gr);
}

static void h_canvases(bnet_req *r, void *ud)
{
    app_ctx *a = ud;
    if (!app__admit(a, r, APP_ROUTE_CANVASES)) return;
    Comfyd__V1__ListCanvasesRequest q = COMFYD__V1__LIST_CANVASES_REQUEST__INIT;
    app__call_http(a, r, APP_ROUTE_CANVASES, APP_M_LIST_CANVASES, &q.base, APP_UNARY_TIMEOUT_MS);
}

static void h_workflows(bnet_req *r, void *ud)
{
    app_ctx *a = ud;
    if (!app__admit(a, r, APP_ROUTE_WORKFLOWS)) return;
    Comfyd__V1__ListWorkflowsRequest q = COMFYD__V1__LIST_WORKFLOWS_REQUEST__INIT;
    app__call_http(a, r, APP_ROUTE_WORKFLOWS, APP_M_LIST_WORKFLOWS, &q.base, APP_UNARY_TIMEOUT_MS);
}

static void h_diff(bnet_req *r, void *ud)
{
    app_ctx *a = ud;
    const app_route route = APP_ROUTE_DIFF;
    if (!app__admit(a, r, route)) return;
    Comfyd__V1__GetDiffRequest q = COMFYD__V1__GET_DIFF_REQUEST__INIT;
    char *canvas = NULL;
    uint64_t since;
    if (query_uint(a, r, route, "since", UINT64_MAX, &since)) return;
    if (query_str(a, r, route, "canvas_id", &canvas)) return;
    q.since_revision = since;
    if (canvas) q.canvas_id = canvas;
    app__call_http(a, r, route, APP_M_GET_DIFF, &q.base, APP_UNARY_TIMEOUT_MS);
    free(canvas);
}

/* The most entries GetNodeHistory answers (the core's CANVAS_MAX_HISTORY). */
#define AUDIT_MAX_LIMIT 1000

/* GET /comfy/graph/audit?node_id=&canvas_id=&limit=: who changed a node
 * (or, without node_id, the canvas) in the revisions still in the log. */
static void h_audit(bnet_req *r, void *ud)
{
    app_ctx *a = ud;
    const app_route route = APP_ROUTE_AUDIT;
    if (!app__admit(a, r, route)) return;
    Comfyd__V1__GetNodeHistoryRequest q = COMFYD__V1__GET_NODE_HISTORY_REQUEST__INIT;
    char *canvas = NULL;
    uint64_t node_id, limit;
    if (query_uint(a, r, route, "node_id", INT64_MAX, &node_id)) return;
    if (query_uint(a, r, route, "limit", AUDIT_MAX_LIMIT, &limit)) return;
    if (query_str(a, r, route, "canvas_id", &canvas)) return;
    q.node_id = (int64_t)node_id;
    q.limit = (uint32_t)limit;
    if (canvas) q.canvas_id = canvas;
    app__call_http(a, r, route, APP_M_GET_NODE_HISTORY, &q.base, APP_UNARY_TIMEOUT_MS);
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
    char *json = NULL;
    size_t len = 0;
    const Comfyd__V1__ExecuteResponse *er =
        status == 200 && c->resp && c->resp->descriptor == &comfyd__v1__execute_response__descriptor
            ? (const Comfyd__V1__ExecuteResponse *)c->resp
            : NULL;
    app_gcache_ent *e =
        er && er->graph ? app_gcache_members(c->a->gcache, er->graph, c->gc_held) : NULL;
    if (e) {
        size_t mlen;
        int mutf8, utf8;
        const char *members = app_gcache_ent_text(e, &mlen, &mutf8);
        int grc = app_graph_ws_ok_members(c->rid, er, members, mlen, mutf8, &json, &len, &utf8);
        app_gcache_ent_unref(e);
        if (grc == APP_OK) {
            if (utf8)
                app__ws_send_checked(&w->base, json, len);
            else
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
static int runs_ws_message(app_ctx *a, graph_ws *w, const char *data, size_t len)
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
static void name_known_graph(app_ctx *a, app_graph_req *gr, app_call *c)
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
    app_ctx *a = ud;
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
    app_call *c = app__call_new(a, app_graph_op_method(gr.op), ws_done);
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

int app__graph_routes(app_ctx *a)
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
        {"GET", "/comfy/graph/audit", h_audit},
        {"POST", "/comfy/graph/lease", h_lease},
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

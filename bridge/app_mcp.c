/* app_mcp: the MCP endpoint of comfyd-bridge, Streamable HTTP at /mcp
 * (docs/mcp.md).
 *
 * POST /mcp carries one JSON-RPC message (or, in protocol 2025-03-26 only,
 * a batch). initialize opens a session (Mcp-Session-Id); every later
 * request names it, and DELETE /mcp ends it. GET /mcp is 405: the server
 * sends nothing unprompted. Requests are answered with application/json,
 * or with a Server-Sent Events stream when the client accepts one and the
 * call is long (send_message: progress notifications, then the result).
 *
 * Security, on top of bnet's Host/Origin/token policy (net_policy.h): a
 * bearer token is required even with an allowed Origin, since an MCP
 * client is never a ComfyUI page.
 *
 * Tools. The six graph tools are the skills' tools (toolspec.h: the same
 * names, descriptions, argument schemas, checks and results), answered by
 * GraphService over gRPC instead of in-process. The others (workflows,
 * canvases, sessions) take arguments whose schemas are generated from the
 * comfyd.v1 request messages they are decoded into (mcp.h), and return the
 * response messages as JSON. Tool failures are results with isError;
 * protocol failures are JSON-RPC errors.
 *
 * Threads: loop thread only (gRPC answers arrive through app__call_* and
 * app__stream_*). An exchange (one POST) lives as long as its bnet request;
 * a call whose request is gone finds nothing and drops its answer, but
 * still settles its session's bookkeeping by session id. */
#include "app_mcp_int.h"

/* ==== dispatch ==== */

static const mcp_server_info server_info = {
    "comfyd",
    "comfyd: ComfyUI canvases and agent sessions",
    NULL, /* set from app_version() */
    "Tools to read and edit the workflows open in ComfyUI (get_graph, search_node_types, "
    "get_node_schema, validate_patch, apply_patch with refs and base_revision, queue, "
    "save_workflow, load_workflow, list_canvases) and to talk to comfyd's agent sessions "
    "(list_sessions, create_session, send_message). Read the graph before patching it; a "
    "patch on a canvas that changed since is rebased when it touches nothing that changed, "
    "and refused with STALE_REVISION and the conflicts when it does.",
};

/* Handles one request of an exchange (op o). */
static void dispatch(op *o, const mcp_msg *msg)
{
    mcp_x *x = o->x;
    app_ctx *a = x->a;
    app_mcp *m = a->mcp;
    mcp_session *s = mx_session_of(a, x->session);
    if (!strcmp(msg->method, "ping")) {
        char *json = NULL;
        size_t len = 0;
        mcp_result(o->id, "{}", &json, &len);
        mx_op_finish(o, json);
        return;
    }
    if (!strcmp(msg->method, "initialize")) {
        /* Only alone in its own POST (handled before dispatch). */
        mx_op_error(o, MCP_RPC_INVALID_REQUEST, "initialize must be sent alone, without a session");
        return;
    }
    if (!strcmp(msg->method, "tools/list")) {
        char *res = NULL, *json = NULL;
        size_t len = 0;
        if (mx_tools_list(m, x->version, &res, &len) != MCP_OK ||
            mcp_result(o->id, res, &json, &len) != MCP_OK) {
            free(res);
            mx_op_error(o, MCP_RPC_INTERNAL_ERROR, "out of memory");
            return;
        }
        free(res);
        mx_op_finish(o, json);
        return;
    }
    if (strcmp(msg->method, "tools/call") != 0) {
        char text[MCP_MAX_METHOD_BYTES + 64];
        snprintf(text, sizeof text, "method not found: %s", msg->method);
        mx_op_error(o, MCP_RPC_METHOD_NOT_FOUND, text);
        return;
    }
    const char *name;
    char token[MCP_MAX_ID_BYTES + 1];
    char err[256];
    if (mcp_call_params(msg->params, &name, &o->args, token, sizeof token, err, sizeof err) !=
        MCP_OK) {
        mx_op_error(o, MCP_RPC_INVALID_PARAMS, err);
        return;
    }
    if (!mx_tool_find(name, &o->tool)) {
        char text[300];
        snprintf(text, sizeof text, "unknown tool: %.200s", name);
        mx_op_error(o, MCP_RPC_INVALID_PARAMS, text);
        return;
    }
    if (s && s->inflight >= MCP_APP_MAX_CALLS) {
        mx_op_tool_error(o, toolspec_error("RESOURCE_EXHAUSTED", NULL,
                                           "too many tool calls in flight for this session (%d)",
                                           MCP_APP_MAX_CALLS));
        return;
    }
    if (a->draining) {
        mx_op_tool_error(o, toolspec_error("UNAVAILABLE", NULL, "the bridge is shutting down"));
        return;
    }
    /* The graph tools' keys are checked as the skills' tools check them. */
    toolspec_id sid = mx_spec_of[o->tool];
    if (sid != TOOLSPEC__COUNT && o->args) {
        char *e = NULL;
        if (toolspec_check_args(sid, o->args, &e)) {
            mx_op_tool_error(o, e);
            return;
        }
    }
    LOG_D(MOD, "session %.8s: tools/call %s", x->session, LOG_ESC(name));
    switch (o->tool) {
    case T_GET_GRAPH:
        mx_tool_get_graph(o);
        break;
    case T_SEARCH:
    case T_SCHEMA:
        mx_tool_types(o, s);
        break;
    case T_VALIDATE:
    case T_APPLY:
        mx_tool_patch(o, s);
        break;
    case T_SEND:
        mx_tool_send(o, token);
        break;
    case T_RUN:
        mx_tool_run(o, s, token);
        break;
    case T_GET_RUN:
    case T_CANCEL_RUN:
        mx_tool_run_read(o);
        break;
    case T_VIEW_OUTPUT:
        mx_tool_view(o);
        break;
    default:
        mx_tool_message(o, s);
        break;
    }
}

/* notifications/cancelled: a send_message still waiting stops without an
 * answer (the turn itself goes on; Cancel it through the session). */
static void mx_cancelled(app_ctx *a, const char *session, yajl_val params)
{
    yajl_val rid = NULL;
    if (YAJL_IS_OBJECT(params))
        for (size_t i = 0; i < params->u.object.len; i++)
            if (!strcmp(params->u.object.keys[i], "requestId")) rid = params->u.object.values[i];
    char id[MCP_MAX_ID_BYTES + 1];
    if (!rid) return;
    if (YAJL_IS_STRING(rid)) {
        char *t = NULL;
        size_t len = 0;
        yajl_gen g = app__gen();
        if (!g || app__gen_str(g, rid->u.string) || app__gen_finish(g, &t, &len) != APP_OK ||
            len > MCP_MAX_ID_BYTES) {
            free(t);
            return;
        }
        memcpy(id, t, len + 1);
        free(t);
    } else if (YAJL_IS_INTEGER(rid)) {
        snprintf(id, sizeof id, "%lld", YAJL_GET_INTEGER(rid));
    } else {
        return;
    }
    for (wait *w = a->mcp->waits; w; w = w->next) {
        op *o = w->o;
        if (!o || strcmp(o->x->session, session) || strcmp(o->id, id)) continue;
        LOG_D(MOD, "session %.8s: request %s cancelled", session, LOG_ESC(id));
        o->w = NULL;
        w->o = NULL;
        mcp_session *s = mx_session_of(a, session);
        if (s && s->inflight) s->inflight--;
        mx_wait_free(a->mcp, w);
        mx_op_finish(o, NULL);
        return;
    }
}

/* ==== HTTP ==== */

/* The header's value, or NULL (len 0) when absent. */
static const char *header(const bnet_req *r, const char *name, size_t *len)
{
    size_t n = 0;
    const char *v = bnet_req_header(r, name, &n);
    if (len) *len = v ? n : 0;
    return v;
}

/* Checks shared by POST and DELETE: the token (required here even with an
 * allowed Origin). Returns 1 to go on, 0 after answering. */
static int admitted(app_ctx *a, bnet_req *r)
{
    if (a->draining) {
        mx_respond_rpc_error(a, r, 503, MCP_RPC_INTERNAL_ERROR, "the bridge is shutting down");
        return 0;
    }
    if (!header(r, "authorization", NULL)) {
        /* bnet checked a token that was sent; MCP callers must send one. */
        static const char body[] = "{\"error\":\"missing or invalid token\"}";
        bnet_header h[1] = {{"WWW-Authenticate", "Bearer"}};
        bnet_respond(r, 401, "application/json", h, 1, body, sizeof body - 1);
        app_metrics_http(&a->m, APP_ROUTE_MCP, 401);
        return 0;
    }
    return 1;
}

/* The session a request names. Returns it, or NULL after answering 400
 * (none named) or 404 (unknown or ended). */
static mcp_session *named_session(app_ctx *a, bnet_req *r)
{
    size_t len;
    const char *id = header(r, "mcp-session-id", &len);
    if (!id || !len) {
        mx_respond_rpc_error(a, r, 400, MCP_RPC_INVALID_REQUEST,
                             "Bad Request: the Mcp-Session-Id header is required (send initialize "
                             "first)");
        return NULL;
    }
    mcp_session *s = mcp_sessions_find(a->mcp->sessions, id, len, mx_now_ms(a));
    if (!s) mx_respond_rpc_error(a, r, 404, -32001, "Session not found: initialize again");
    return s;
}

static int is_initialize(yajl_val v)
{
    if (!YAJL_IS_OBJECT(v)) return 0;
    for (size_t i = 0; i < v->u.object.len; i++)
        if (!strcmp(v->u.object.keys[i], "method"))
            return YAJL_IS_STRING(v->u.object.values[i]) &&
                   !strcmp(v->u.object.values[i]->u.string, "initialize");
    return 0;
}

/* initialize: a new session. The exchange answers with Mcp-Session-Id. */
static void initialize(mcp_x *x, const mcp_msg *msg)
{
    app_ctx *a = x->a;
    op *o = &x->ops[0];
    const char *version;
    char client[MCP_MAX_CLIENT_NAME + 1];
    char err[256];
    if (mcp_initialize_params(msg->params, &version, client, sizeof client, err, sizeof err) !=
        MCP_OK) {
        mx_op_error(o, MCP_RPC_INVALID_PARAMS, err);
        return;
    }
    uint8_t rnd[MCP_SESSION_ID_BYTES];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        mx_op_error(o, MCP_RPC_INTERNAL_ERROR, "no randomness for a session id");
        return;
    }
    mcp_session *s = NULL;
    int rc = mcp_sessions_add(a->mcp->sessions, rnd, version, mx_now_ms(a), &s);
    if (rc != MCP_OK) {
        mx_op_error(o, MCP_RPC_INTERNAL_ERROR, "too many MCP sessions are busy; try again later");
        return;
    }
    snprintf(s->client, sizeof s->client, "%s", client);
    s->elicitation = mcp_client_elicits(msg->params) && mcp_version_elicitation(version);
    snprintf(x->session, sizeof x->session, "%s", s->id);
    snprintf(x->version, sizeof x->version, "%s", version);
    x->new_session = 1;
    mcp_server_info info = server_info;
    info.version = app_version();
    char *res = NULL, *json = NULL;
    size_t len = 0;
    if (mcp_initialize_result(version, &info, &res, &len) != MCP_OK ||
        mcp_result(o->id, res, &json, &len) != MCP_OK) {
        free(res);
        mx_op_error(o, MCP_RPC_INTERNAL_ERROR, "out of memory");
        return;
    }
    free(res);
    LOG_I(MOD, "session %.8s: %s, protocol %s", s->id,
          *client ? LOG_ESC(client) : "(unnamed client)", LOG_ESC(version));
    mx_op_finish(o, json);
}

static void h_post(bnet_req *r, void *ud)
{
    app_ctx *a = ud;
    if (!admitted(a, r)) return;
    size_t clen;
    const char *ct = header(r, "content-type", &clen);
    if (!ct || clen < 16 || strncasecmp(ct, "application/json", 16) ||
        (clen > 16 && ct[16] != ';' && ct[16] != ' ')) {
        mx_respond_rpc_error(a, r, 415, MCP_RPC_INVALID_REQUEST,
                             "Unsupported Media Type: send application/json");
        return;
    }
    size_t alen;
    const char *accept = header(r, "accept", &alen);
    int aj, as;
    mcp_accept(accept, alen, &aj, &as);
    if (!aj && !as) {
        mx_respond_rpc_error(a, r, 406, MCP_RPC_INVALID_REQUEST,
                             "Not Acceptable: accept application/json or text/event-stream");
        return;
    }
    size_t blen;
    const char *body = bnet_req_body(r, &blen);
    yajl_val tree = NULL;
    char err[256];
    int rc = mcp_parse(body, blen, &tree, err, sizeof err);
    if (rc != MCP_OK) {
        char text[300];
        snprintf(text, sizeof text, "Parse error: %s", err);
        mx_respond_rpc_error(a, r, rc == MCP_E_TOOBIG ? 413 : 400,
                             rc == MCP_E_TOOBIG ? MCP_RPC_INVALID_REQUEST : MCP_RPC_PARSE_ERROR,
                             text);
        return;
    }
    int batch = YAJL_IS_ARRAY(tree);
    size_t n = batch ? tree->u.array.len : 1;
    if (batch && (n == 0 || n > MCP_MAX_BATCH)) {
        yajl_tree_free(tree);
        mx_respond_rpc_error(a, r, 400, MCP_RPC_INVALID_REQUEST,
                             n ? "Invalid Request: too many messages in one batch"
                               : "Invalid Request: an empty batch");
        return;
    }
    mcp_x *x = calloc(1, sizeof *x);
    op *ops = calloc(n, sizeof *ops);
    if (!x || !ops) {
        free(x);
        free(ops);
        yajl_tree_free(tree);
        mx_respond_rpc_error(a, r, 500, MCP_RPC_INTERNAL_ERROR, "out of memory");
        return;
    }
    x->a = a;
    x->req_id = bnet_req_id(r);
    x->tree = tree;
    x->batch = batch;
    x->accept_json = aj;
    x->accept_sse = as;
    x->ops = ops;
    x->n_ops = (unsigned)n;
    for (unsigned i = 0; i < x->n_ops; i++) {
        ops[i].x = x;
        ops[i].index = i;
        ops[i].done = 1; /* until it is a request being answered */
    }

    int init = !batch && is_initialize(tree);
    if (!init) {
        mcp_session *s = named_session(a, r);
        if (!s) {
            mx_x_free(x);
            return;
        }
        size_t vlen;
        const char *pv = header(r, "mcp-protocol-version", &vlen);
        if (pv && (vlen != strlen(s->version) || memcmp(pv, s->version, vlen))) {
            char text[200];
            snprintf(text, sizeof text,
                     "Bad Request: MCP-Protocol-Version %.*s is not the negotiated %s",
                     (int)(vlen > 32 ? 32 : vlen), pv, s->version);
            mx_x_free(x);
            mx_respond_rpc_error(a, r, 400, MCP_RPC_INVALID_REQUEST, text);
            return;
        }
        if (batch && !mcp_version_batches(s->version)) {
            char text[200];
            snprintf(text, sizeof text,
                     "Invalid Request: protocol version %s does not allow JSON-RPC batches",
                     s->version);
            mx_x_free(x);
            mx_respond_rpc_error(a, r, 400, MCP_RPC_INVALID_REQUEST, text);
            return;
        }
        snprintf(x->session, sizeof x->session, "%s", s->id);
        snprintf(x->version, sizeof x->version, "%s", s->version);
    }
    bnet_req_set_data(r, x);
    bnet_req_set_abort(r, mx_on_abort, x);

    /* One pending count holds the exchange open while its messages are
     * dispatched; answers that are ready at once only count down. */
    x->pending = 1;
    unsigned invalid = 0;
    for (unsigned i = 0; i < x->n_ops; i++) {
        yajl_val v = batch ? tree->u.array.values[i] : tree;
        op *o = &ops[i];
        mcp_msg msg;
        char merr[256];
        if (mcp_message(v, &msg, merr, sizeof merr) != MCP_OK) {
            char text[300];
            snprintf(text, sizeof text, "Invalid Request: %s", merr);
            memcpy(o->id, msg.id, sizeof o->id);
            o->done = 0;
            x->pending++;
            invalid++;
            mx_op_error(o, MCP_RPC_INVALID_REQUEST, text);
            continue;
        }
        if (msg.kind == MCP_MSG_REQUEST) {
            memcpy(o->id, msg.id, sizeof o->id);
            o->done = 0;
            x->pending++;
            if (init)
                initialize(x, &msg);
            else if (is_initialize(v))
                mx_op_error(o, MCP_RPC_INVALID_REQUEST,
                            "initialize must be sent alone, without a session");
            else
                dispatch(o, &msg);
            continue;
        }
        if (msg.kind == MCP_MSG_NOTIFICATION) {
            if (init) continue;
            mcp_session *s = mx_session_of(a, x->session);
            if (!strcmp(msg.method, "notifications/initialized") && s) s->initialized = 1;
            if (!strcmp(msg.method, "notifications/cancelled"))
                mx_cancelled(a, x->session, msg.params);
        }
        /* Responses: to the server's elicitation/create requests (preview
         * before apply); anything else is not awaited. */
        if (msg.kind == MCP_MSG_RESPONSE && !init) mx_elicit_response(a, x->session, msg.id, v);
    }
    /* A lone invalid message is an HTTP error too. */
    if (!batch && invalid && ops[0].answer && x->pending == 1) {
        char *ans = ops[0].answer;
        ops[0].answer = NULL;
        bnet_req_set_abort(r, NULL, NULL);
        bnet_req_set_data(r, NULL);
        mx_x_free(x);
        mx_respond(a, r, 400, NULL, ans, strlen(ans));
        free(ans);
        return;
    }
    if (--x->pending == 0) mx_x_send(x);
}

static void h_delete(bnet_req *r, void *ud)
{
    app_ctx *a = ud;
    if (!admitted(a, r)) return;
    size_t len;
    const char *id = header(r, "mcp-session-id", &len);
    if (!id || !len) {
        mx_respond_rpc_error(a, r, 400, MCP_RPC_INVALID_REQUEST,
                             "Bad Request: the Mcp-Session-Id header is required");
        return;
    }
    if (!mcp_sessions_remove(a->mcp->sessions, id, len)) {
        mx_respond_rpc_error(a, r, 404, -32001, "Session not found");
        return;
    }
    LOG_I(MOD, "session %.8s: ended by the client", id);
    mx_respond(a, r, 204, NULL, NULL, 0);
}

/* ==== timers and lifecycle ==== */

void app__mcp_tick(app_ctx *a)
{
    app_mcp *m = a->mcp;
    if (!m) return;
    uint64_t now = uv_now(a->loop);
    for (wait *w = m->waits, *next; w; w = next) {
        next = w->next;
        if (!w->o) continue;
        if (w->elicit && (a->draining || now >= w->deadline)) {
            /* Nobody decided in time: a result, timed_out. */
            mx_elicit_expire(w);
            continue;
        }
        if (w->elicit) {
            /* Waiting for the client (keep-alives below) or the core. */
        } else if (w->run && (a->draining || now >= w->deadline)) {
            /* A run still going is a result: timed_out. */
            mx_run_finish(w, 1);
            continue;
        } else if (a->draining) {
            mx_send_finish(w, "interrupted", "the bridge is shutting down; the turn goes on");
            continue;
        } else if (now >= w->deadline) {
            mx_send_finish(w, "timeout",
                           "no end of the turn within wait_ms; it goes on (see list_sessions)");
            continue;
        }
        mcp_x *x = w->o->x;
        bnet_req *r = x->sse ? mx_x_req(x) : NULL;
        if (r && now - w->last_write >= MCP_APP_KEEPALIVE_MS) {
            static const char ka[] = ": keep-alive\n\n";
            bnet_stream_write(r, ka, sizeof ka - 1);
            w->last_write = now;
        }
    }
    if (now - m->last_expire >= 60000) {
        m->last_expire = now;
        size_t n = mcp_sessions_expire(m->sessions, mx_now_ms(a));
        if (n) LOG_I(MOD, "%zu idle session%s expired", n, n == 1 ? "" : "s");
    }
}

int app__mcp_routes(app_ctx *a)
{
    app_mcp *m = calloc(1, sizeof *m);
    if (!m) return -1;
    a->mcp = m;
    m->last_expire = uv_now(a->loop);
    if (mcp_sessions_create(&m->sessions, MCP_APP_MAX_SESSIONS, MCP_APP_IDLE_MS) != MCP_OK)
        return -1;
    for (int t = 0; t < T__COUNT; t++) {
        if (!mx_tools[t].req) continue;
        size_t len;
        if (mcp_schema_from_descriptor(mx_tools[t].req, &mx_tools[t].opts, &m->schemas[t], &len) !=
            MCP_OK) {
            LOG_E(MOD, "cannot build the input schema of %s", mx_tools[t].name);
            return -1;
        }
    }
    if (bnet_route(a->net, "POST", "/mcp", 0, h_post, a) != BNET_OK ||
        bnet_route(a->net, "DELETE", "/mcp", 0, h_delete, a) != BNET_OK)
        return -1;
    return 0;
}

void app__mcp_destroy(app_ctx *a)
{
    app_mcp *m = a ? a->mcp : NULL;
    if (!m) return;
    /* Exchanges are freed by their requests' abort callbacks (bnet_stop);
     * waits left here have none. */
    while (m->waits)
        mx_wait_free(m, m->waits);
    for (int t = 0; t < T__COUNT; t++)
        free(m->schemas[t]);
    mcp_sessions_destroy(m->sessions);
    free(m);
    a->mcp = NULL;
}

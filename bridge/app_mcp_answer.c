/* app_mcp_answer: answers of the MCP endpoint (application/json or an SSE
 * stream) and its sessions (app_mcp_int.h). */
#include "app_mcp_int.h"

/* ==== answers ==== */

int64_t mx_now_ms(const app_ctx *a)
{
    return (int64_t)uv_now(a->loop);
}

bnet_req *mx_x_req(const mcp_x *x)
{
    return bnet_req_find(x->a->net, x->req_id);
}

void mx_wait_free(app_mcp *m, wait *w);

void mx_x_free(mcp_x *x)
{
    app_mcp *m = x->a->mcp;
    for (unsigned i = 0; i < x->n_ops; i++) {
        if (x->ops[i].w) mx_wait_free(m, x->ops[i].w);
        free(x->ops[i].answer);
    }
    free(x->ops);
    yajl_tree_free(x->tree);
    free(x);
}

void mx_on_abort(bnet_req *r, void *ud)
{
    (void)r;
    mx_x_free(ud);
}

/* A complete answer for the exchange's request with extra headers. */
void mx_respond(app_ctx *a, bnet_req *r, int status, const char *session, const char *body,
                size_t len)
{
    bnet_header h[1];
    size_t nh = 0;
    if (session && *session) h[nh++] = (bnet_header){"Mcp-Session-Id", session};
    int rc = bnet_respond(r, status, len ? "application/json" : NULL, h, nh, body, len);
    if (rc != BNET_OK) {
        LOG_W(MOD, "cannot answer: %s", bnet_strerror(rc));
        if (bnet_respond_error(r, 500, "internal error") != BNET_OK) return;
        status = 500;
    }
    app_metrics_http(&a->m, APP_ROUTE_MCP, status);
}

/* An HTTP error whose body is a JSON-RPC error without an id. */
void mx_respond_rpc_error(app_ctx *a, bnet_req *r, int status, int code, const char *message)
{
    char *body = NULL;
    size_t len = 0;
    if (mcp_error(NULL, code, message, NULL, &body, &len) != MCP_OK) {
        bnet_respond_error(r, 500, "out of memory");
        app_metrics_http(&a->m, APP_ROUTE_MCP, 500);
        return;
    }
    mx_respond(a, r, status, NULL, body, len);
    free(body);
}

void mx_sse_write(bnet_req *r, const char *json, size_t len)
{
    char *ev = NULL;
    size_t n = 0;
    if (mcp_sse_event(json, len, &ev, &n) != MCP_OK) return;
    int rc = bnet_stream_write(r, ev, n);
    if (rc != BNET_OK) LOG_D(MOD, "event not queued: %s", bnet_strerror(rc));
    free(ev);
}

/* Starts the event stream of a single-request exchange. Returns 0 or -1
 * (then the answer goes out as JSON). */
int mx_x_start_sse(mcp_x *x)
{
    bnet_req *r = mx_x_req(x);
    if (!r || x->sse) return r ? 0 : -1;
    bnet_header h[3] = {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}};
    size_t nh = 2;
    if (x->new_session) h[nh++] = (bnet_header){"Mcp-Session-Id", x->session};
    if (bnet_stream_start(r, 200, "text/event-stream", h, nh) != BNET_OK) return -1;
    x->sse = 1;
    app_metrics_http(&x->a->m, APP_ROUTE_MCP, 200);
    return 0;
}

/* Sends what the exchange collected and frees it. */
void mx_x_send(mcp_x *x)
{
    bnet_req *r = mx_x_req(x);
    if (!r) {
        mx_x_free(x);
        return;
    }
    bnet_req_set_abort(r, NULL, NULL);
    bnet_req_set_data(r, NULL);
    size_t total = 0, n_answers = 0;
    for (unsigned i = 0; i < x->n_ops; i++)
        if (x->ops[i].answer) {
            total += strlen(x->ops[i].answer) + 1;
            n_answers++;
        }
    if (!n_answers) {
        if (x->sse)
            bnet_stream_end(r);
        else
            mx_respond(x->a, r, 202, NULL, NULL, 0);
        mx_x_free(x);
        return;
    }
    if (x->sse || (!x->batch && !x->accept_json)) {
        if (!x->sse && mx_x_start_sse(x) != 0) {
            mx_respond(x->a, r, 500, NULL, NULL, 0);
            mx_x_free(x);
            return;
        }
        for (unsigned i = 0; i < x->n_ops; i++)
            if (x->ops[i].answer) mx_sse_write(r, x->ops[i].answer, strlen(x->ops[i].answer));
        bnet_stream_end(r);
        mx_x_free(x);
        return;
    }
    char *body = malloc(total + 2);
    if (!body) {
        bnet_respond_error(r, 500, "out of memory");
        mx_x_free(x);
        return;
    }
    size_t len = 0;
    if (x->batch) body[len++] = '[';
    for (unsigned i = 0, k = 0; i < x->n_ops; i++) {
        if (!x->ops[i].answer) continue;
        if (k++) body[len++] = ',';
        size_t n = strlen(x->ops[i].answer);
        memcpy(body + len, x->ops[i].answer, n);
        len += n;
    }
    if (x->batch) body[len++] = ']';
    mx_respond(x->a, r, 200, x->new_session ? x->session : NULL, body, len);
    free(body);
    mx_x_free(x);
}

/* Finishes op with its answer (taken; NULL: no answer, e.g. cancelled). */
void mx_op_finish(op *o, char *answer)
{
    if (o->done) {
        free(answer);
        return;
    }
    o->done = 1;
    o->answer = answer;
    mcp_x *x = o->x;
    if (--x->pending == 0) mx_x_send(x);
}

void mx_op_error(op *o, int code, const char *message)
{
    char *json = NULL;
    size_t len = 0;
    mcp_error(o->id, code, message, NULL, &json, &len);
    mx_op_finish(o, json);
}

/* A tools/call result from the tool's JSON text (taken). The text goes
 * out as content and, being an object, as structuredContent. */
void mx_op_tool_result(op *o, char *result_json, int is_error)
{
    if (!result_json) {
        mx_op_error(o, MCP_RPC_INTERNAL_ERROR, "out of memory");
        return;
    }
    char *res = NULL, *json = NULL;
    size_t len = 0;
    if (mcp_tool_result(result_json, result_json, is_error, o->x->version, &res, &len) != MCP_OK ||
        mcp_result(o->id, res, &json, &len) != MCP_OK) {
        free(res);
        free(result_json);
        mx_op_error(o, MCP_RPC_INTERNAL_ERROR, "the result cannot be encoded");
        return;
    }
    free(res);
    free(result_json);
    mx_op_finish(o, json);
}

void mx_op_tool_error(op *o, char *error_json)
{
    mx_op_tool_result(o, error_json, 1);
}

/* ==== sessions ==== */

mcp_session *mx_session_of(app_ctx *a, const char *id)
{
    return id && *id ? mcp_sessions_find(a->mcp->sessions, id, strlen(id), mx_now_ms(a)) : NULL;
}

/* A call of op's session starts: counted so that a busy session is not
 * evicted. c->text names the session for the answer. */
void mx_call_begin(op *o, app_call *c)
{
    mcp_session *s = mx_session_of(o->x->a, o->x->session);
    if (s) s->inflight++;
    /* What the call changes is this MCP client's (provenance): its
     * clientInfo name from initialize, printable ASCII already. */
    c->caller_key = "comfyd-mcp-client";
    snprintf(c->caller, sizeof c->caller, "%s", s ? s->client : "");
    c->req_id = o->x->req_id;
    c->route = APP_ROUTE_MCP;
    c->tag = (int)o->index;
    c->text = text_dup(o->x->session);
}

/* The op of a finished call, or NULL when its client is gone; settles the
 * session's count either way. */
op *mx_call_end(app_call *c, mcp_session **sess)
{
    mcp_session *s = mx_session_of(c->a, c->text);
    if (s && s->inflight) s->inflight--;
    if (sess) *sess = s;
    bnet_req *r = bnet_req_find(c->a->net, c->req_id);
    mcp_x *x = r ? bnet_req_data(r) : NULL;
    if (!x || (unsigned)c->tag >= x->n_ops) return NULL;
    op *o = &x->ops[c->tag];
    return o->done ? NULL : o;
}

void mx_observe(mcp_session *s, const char *canvas, uint64_t revision)
{
    if (!s || !canvas || !*canvas || strlen(canvas) > MCP_MAX_CANVAS_ID) return;
    s->has_view = 1;
    snprintf(s->canvas, sizeof s->canvas, "%s", canvas);
    s->revision = revision;
}

/* Frees a send_message or run wait: detaches its stream, unlinks it and
 * settles its session's count of calls in flight. */
void mx_wait_free(app_mcp *m, wait *w)
{
    if (!w) return;
    if (w->stream) app__stream_detach(w->stream);
    if (w->prev)
        w->prev->next = w->next;
    else if (m->waits == w)
        m->waits = w->next;
    if (w->next) w->next->prev = w->prev;
    if (w->send_req) protobuf_c_message_free_unpacked(w->send_req, NULL);
    if (w->patch_req) protobuf_c_message_free_unpacked(w->patch_req, NULL);
    for (size_t i = 0; i < w->n_early; i++)
        protobuf_c_message_free_unpacked(w->early[i], NULL);
    free(w->early);
    for (size_t i = 0; i < w->n_replies; i++)
        protobuf_c_message_free_unpacked(w->replies[i], NULL);
    free(w->replies);
    text_buf_free(&w->errors);
    if (w->last_run) protobuf_c_message_free_unpacked(&w->last_run->base, NULL);
    if (w->o) {
        mcp_session *s = mx_session_of(w->o->x->a, w->o->x->session);
        if (s && s->inflight) s->inflight--;
        w->o->w = NULL;
    }
    free(w);
}

/* app_mcp_send: the send_message tool: a message sent to a session and its
 * turn followed to the end, with progress notifications (app_mcp_int.h). */
#include "app_mcp_int.h"

/* -- send_message -- */

/* Appends m (owned) to a wait's list of at most max messages. */
int mx_keep(ProtobufCMessage ***arr, size_t *n, ProtobufCMessage *m, size_t max)
{
    if (*n >= max) return -1;
    ProtobufCMessage **na = realloc(*arr, (*n + 1) * sizeof **arr);
    if (!na) return -1;
    *arr = na;
    na[(*n)++] = m;
    return 0;
}

void mx_progress(wait *w, const char *fmt, ...)
{
    mcp_x *x = w->o->x;
    bnet_req *r = x->sse ? mx_x_req(x) : NULL;
    if (!w->token[0] || !r) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(msg);
    while (n && !text_utf8_valid(msg, n))
        msg[--n] = '\0';
    char *json = NULL;
    size_t len = 0;
    if (mcp_progress(w->token, ++w->progress, 0, msg, &json, &len) != MCP_OK) return;
    mx_sse_write(r, json, len);
    w->last_write = uv_now(x->a->loop);
    free(json);
}

const char *mx_state_name(Comfyd__V1__MessageState st)
{
    switch (st) {
    case COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_QUEUED:
        return "queued";
    case COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_RUNNING:
        return "running";
    case COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_DONE:
        return "done";
    case COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_CANCELLED:
        return "cancelled";
    case COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_FAILED:
        return "failed";
    case COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_INTERRUPTED:
        return "interrupted";
    default:
        return "unknown";
    }
}

static int gk(yajl_gen g, const char *k, const char *v)
{
    return app__gen_cstr(g, k) || app__gen_str(g, v ? v : "");
}

static int gu(yajl_gen g, const char *k, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    return app__gen_cstr(g, k) || yajl_gen_number(g, num, (size_t)n) != yajl_gen_status_ok;
}

/* Ends the wait with status ("done", "failed", "cancelled", "timeout",
 * "interrupted") and what it collected. */
void mx_send_finish(wait *w, const char *status, const char *detail)
{
    op *o = w->o;
    app_mcp *m = o->x->a->mcp;
    yajl_gen g = app__gen();
    int bad = !g || yajl_gen_map_open(g) != yajl_gen_status_ok ||
              gk(g, "session_id", w->session_id) || gu(g, "turn_id", w->turn) ||
              gk(g, "status", status);
    if (!bad && detail) bad = gk(g, "detail", detail);
    bad = bad || app__gen_cstr(g, "replies") || yajl_gen_array_open(g) != yajl_gen_status_ok;
    size_t text_bytes = 0;
    for (size_t i = 0; !bad && i < w->n_replies; i++) {
        const Comfyd__V1__ChatMessage *cm =
            ((Comfyd__V1__SubscribeResponse *)w->replies[i])->event->message_added->message;
        const char *content = cm->content ? cm->content : "";
        size_t n = strlen(content);
        if (text_bytes + n > MCP_APP_MAX_REPLY_BYTES) n = 0; /* listed, text left out */
        text_bytes += n;
        bad = yajl_gen_map_open(g) != yajl_gen_status_ok || gk(g, "skill", cm->skill) ||
              app__gen_cstr(g, "content") ||
              yajl_gen_string(g, (const unsigned char *)content, n) != yajl_gen_status_ok ||
              gk(g, "state", mx_state_name(cm->state));
        if (!bad && cm->error && *cm->error) bad = gk(g, "error", cm->error);
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok || app__gen_cstr(g, "errors") ||
          app__gen_raw_value(g, w->errors.n && !w->errors.oom ? w->errors.p : "[]") ||
          gu(g, "tool_calls", w->tool_calls) || yajl_gen_map_close(g) != yajl_gen_status_ok;
    char *res = NULL;
    size_t len = 0;
    if (bad) {
        if (g) yajl_gen_free(g);
    } else {
        app__gen_finish(g, &res, &len);
    }
    int failed = strcmp(status, "done") != 0;
    o->w = NULL;
    w->o = NULL;
    /* The session count of the stream: settled here (wait_free cannot any
     * more once o is cut loose). */
    mcp_session *s = mx_session_of(o->x->a, o->x->session);
    if (s && s->inflight) s->inflight--;
    mx_wait_free(m, w);
    mx_op_tool_result(o, res, failed);
}

void mx_send_error(wait *w, char *error_json)
{
    op *o = w->o;
    app_mcp *m = o->x->a->mcp;
    o->w = NULL;
    w->o = NULL;
    mcp_session *s = mx_session_of(o->x->a, o->x->session);
    if (s && s->inflight) s->inflight--;
    mx_wait_free(m, w);
    mx_op_tool_error(o, error_json);
}

static void add_error(wait *w, const Comfyd__V1__ErrorEvent *e)
{
    yajl_gen g = app__gen();
    if (!g) return;
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || gk(g, "code", e->code) ||
              gk(g, "message", e->message) || gk(g, "skill", e->skill) ||
              yajl_gen_map_close(g) != yajl_gen_status_ok;
    char *one = NULL;
    size_t len = 0;
    if (bad) {
        yajl_gen_free(g);
        return;
    }
    if (app__gen_finish(g, &one, &len) != APP_OK) return;
    if (w->errors.n)
        w->errors.p[w->errors.n - 1] = ','; /* the ']' makes way for one more */
    else
        text_buf_add(&w->errors, "[");
    text_buf_addn(&w->errors, one, len);
    text_buf_add(&w->errors, "]");
    free(one);
}

/* One event of the turn. Returns 1 when the wait ended (w is gone). */
static int send_event(wait *w, Comfyd__V1__SubscribeResponse *sr, int *taken)
{
    const Comfyd__V1__SessionEvent *ev = sr->event;
    *taken = 0;
    if (!ev) return 0;
    uint64_t t = w->turn;
    switch (ev->kind_case) {
    case COMFYD__V1__SESSION_EVENT__KIND_STATUS_UPDATE: {
        const Comfyd__V1__StatusUpdate *su = ev->status_update;
        int working = su->status == COMFYD__V1__SESSION_STATUS__SESSION_STATUS_WORKING;
        if (working && su->turn_id == t) {
            const char *d = su->detail && *su->detail ? su->detail : "working";
            if (su->skill && *su->skill)
                mx_progress(w, "%s: %s", su->skill, d);
            else
                mx_progress(w, "%s", d);
            w->started = 1;
            return 0;
        }
        /* The turn ended: idle (or error naming it) after it started. */
        if (!working && (w->started || su->turn_id == t)) {
            int error = su->status == COMFYD__V1__SESSION_STATUS__SESSION_STATUS_ERROR;
            const char *d = su->detail ? su->detail : "";
            mx_send_finish(w,
                           error                         ? "failed"
                           : strstr(d, "cancel") != NULL ? "cancelled"
                                                         : "done",
                           *d ? d : NULL);
            return 1;
        }
        return 0;
    }
    case COMFYD__V1__SESSION_EVENT__KIND_MESSAGE_ADDED: {
        const Comfyd__V1__ChatMessage *cm = ev->message_added->message;
        if (!cm || cm->turn_id != t || cm->role != COMFYD__V1__ROLE__ROLE_ASSISTANT) return 0;
        mx_progress(w, "%s replied (%s)", cm->skill && *cm->skill ? cm->skill : "the assistant",
                    mx_state_name(cm->state));
        if (mx_keep(&w->replies, &w->n_replies, &sr->base, 64) == 0) *taken = 1;
        return 0;
    }
    case COMFYD__V1__SESSION_EVENT__KIND_ERROR:
        if (ev->error->turn_id != t) return 0;
        add_error(w, ev->error);
        mx_progress(w, "%s%s%s", ev->error->skill && *ev->error->skill ? ev->error->skill : "",
                    ev->error->skill && *ev->error->skill ? ": " : "",
                    ev->error->message ? ev->error->message : "error");
        return 0;
    case COMFYD__V1__SESSION_EVENT__KIND_TOOL_CALL:
        if (ev->tool_call->turn_id != t) return 0;
        w->tool_calls++;
        mx_progress(w, "%s: calling %s", ev->tool_call->skill ? ev->tool_call->skill : "",
                    ev->tool_call->name ? ev->tool_call->name : "a tool");
        return 0;
    default:
        return 0;
    }
}

static void done_send(app_call *c)
{
    op *o = mx_call_end(c, NULL);
    if (!o || !o->w) return;
    wait *w = o->w;
    const Comfyd__V1__SendMessageResponse *r = (const Comfyd__V1__SendMessageResponse *)c->resp;
    if (c->code != GRPC_STATUS_OK || !r || !r->message) {
        mx_send_error(w, mx_call_error(c));
        return;
    }
    w->sent = 1;
    w->turn = r->message->id;
    if (r->queued)
        mx_progress(w, "queued behind %u turn%s", r->queue_position,
                    r->queue_position == 1 ? "" : "s");
    /* Events that came before the turn was known, in order. */
    ProtobufCMessage **early = w->early;
    size_t n = w->n_early;
    w->early = NULL;
    w->n_early = 0;
    size_t i = 0;
    int ended = 0;
    for (; i < n && !ended; i++) {
        int taken;
        ended = send_event(w, (Comfyd__V1__SubscribeResponse *)early[i], &taken);
        if (!taken) protobuf_c_message_free_unpacked(early[i], NULL);
    }
    for (; i < n; i++)
        protobuf_c_message_free_unpacked(early[i], NULL);
    free(early);
}

static void on_sub_msg(void *owner, app_stream *st, ProtobufCMessage *m)
{
    wait *w = owner;
    app__stream_credit(st, 1);
    Comfyd__V1__SubscribeResponse *sr = (Comfyd__V1__SubscribeResponse *)m;
    if (!w->subscribed) {
        /* The stream is live (its first event is the snapshot): now the
         * message can be sent without missing any of its turn's events. */
        w->subscribed = 1;
        app_call *c = app__call_new(w->o->x->a, APP_M_SEND_MESSAGE, done_send);
        mx_call_begin(w->o, c);
        app__call_start(c, w->send_req, APP_UNARY_TIMEOUT_MS);
        protobuf_c_message_free_unpacked(m, NULL);
        return;
    }
    if (!w->sent) {
        int kind = sr->event ? (int)sr->event->kind_case : 0;
        if (kind == COMFYD__V1__SESSION_EVENT__KIND_STREAM_DELTA ||
            mx_keep(&w->early, &w->n_early, m, MCP_APP_MAX_EARLY_EVENTS) != 0)
            protobuf_c_message_free_unpacked(m, NULL);
        return;
    }
    int taken;
    send_event(w, sr, &taken);
    if (!taken) protobuf_c_message_free_unpacked(m, NULL);
}

static void on_sub_end(void *owner, app_stream *st, grpc_status_code code, const char *details)
{
    wait *w = owner;
    app__stream_detach(st);
    w->stream = NULL;
    if (code == GRPC_STATUS_OK)
        mx_send_error(w, toolspec_error("UNAVAILABLE", NULL,
                                        "the session's event stream ended before the turn did"));
    else
        mx_send_error(w, toolspec_error(app_grpc_code_name(code), NULL, "%s",
                                        details && *details ? details : app_grpc_code_name(code)));
}

/* One attachment of send_message: MCP content items ({"type": "image",
 * "data", "mimeType"}, {"type": "text", "text"}) become Attachment objects;
 * anything else is passed on for the decoder to judge. */
static int emit_attachment(yajl_gen g, yajl_val v)
{
    yajl_val type =
        YAJL_IS_OBJECT(v) ? yajl_tree_get(v, (const char *[]){"type", NULL}, yajl_t_any) : NULL;
    if (!type || !YAJL_IS_STRING(type)) return app__json_emit(g, v);
    const char *t = YAJL_GET_STRING(type);
    if (yajl_gen_map_open(g) != yajl_gen_status_ok) return -1;
    int bad = 0;
    if (!strcmp(t, "text")) {
        yajl_val text = yajl_tree_get(v, (const char *[]){"text", NULL}, yajl_t_string);
        const char *x = text ? YAJL_GET_STRING(text) : "";
        text_buf b = {0};
        text_buf_add_base64(&b, (const unsigned char *)x, strlen(x));
        bad = b.oom || app__gen_cstr(g, "data") || app__gen_cstr(g, b.p ? b.p : "") ||
              app__gen_cstr(g, "mime_type") || app__gen_cstr(g, "text/plain");
        free(b.p);
    }
    for (size_t i = 0; !bad && i < v->u.object.len; i++) {
        const char *k = v->u.object.keys[i];
        if (!strcmp(k, "type") || (!strcmp(t, "text") && !strcmp(k, "text"))) continue;
        /* An unknown content type keeps its key, so the decoder names it. */
        bad = app__gen_cstr(g, k) || app__json_emit(g, v->u.object.values[i]);
    }
    if (!bad && strcmp(t, "text") && strcmp(t, "image"))
        bad = app__gen_cstr(g, "type") || app__gen_cstr(g, t);
    return bad || yajl_gen_map_close(g) != yajl_gen_status_ok ? -1 : 0;
}

/* send_message's arguments without wait_ms and with the attachments made
 * Attachment objects, decoded. NULL after answering the error. */
static Comfyd__V1__SendMessageRequest *decode_send(op *o)
{
    yajl_val atts =
        o->args ? yajl_tree_get(o->args, (const char *[]){"attachments", NULL}, yajl_t_array)
                : NULL;
    static const char *const skip[] = {"wait_ms"};
    if (!atts)
        return (Comfyd__V1__SendMessageRequest *)mx_decode_args(
            o, &comfyd__v1__send_message_request__descriptor, skip, 1);
    yajl_gen g = app__gen();
    int bad = !g || yajl_gen_map_open(g) != yajl_gen_status_ok;
    for (size_t i = 0; !bad && i < o->args->u.object.len; i++) {
        const char *k = o->args->u.object.keys[i];
        yajl_val v = o->args->u.object.values[i];
        if (!strcmp(k, "wait_ms")) continue;
        bad = app__gen_cstr(g, k);
        if (bad) break;
        if (v != atts) {
            bad = app__json_emit(g, v);
            continue;
        }
        bad = yajl_gen_array_open(g) != yajl_gen_status_ok;
        for (size_t j = 0; !bad && j < atts->u.array.len; j++)
            bad = emit_attachment(g, atts->u.array.values[j]);
        if (!bad) bad = yajl_gen_array_close(g) != yajl_gen_status_ok;
    }
    if (!bad) bad = yajl_gen_map_close(g) != yajl_gen_status_ok;
    if (bad) {
        if (g) yajl_gen_free(g);
        mx_op_tool_error(o, toolspec_error("INTERNAL", NULL, "out of memory"));
        return NULL;
    }
    ProtobufCMessage *msg = NULL;
    char err[512] = "";
    int rc =
        app__decode_gen(g, &comfyd__v1__send_message_request__descriptor, 0, &msg, err, sizeof err);
    if (rc == APP_OK) return (Comfyd__V1__SendMessageRequest *)msg;
    mx_op_tool_error(o, toolspec_error(rc == APP_E_NOMEM ? "INTERNAL" : "INVALID_ARGUMENT", NULL,
                                       "%s", rc == APP_E_NOMEM ? "out of memory" : err));
    return NULL;
}

void mx_tool_send(op *o, const char *token)
{
    int64_t wait_ms = MCP_APP_WAIT_DEFAULT_MS;
    if (o->args) {
        yajl_val wv = NULL;
        for (size_t i = 0; i < o->args->u.object.len; i++)
            if (!strcmp(o->args->u.object.keys[i], "wait_ms")) wv = o->args->u.object.values[i];
        if (wv && !YAJL_IS_NULL(wv)) {
            if (!YAJL_IS_INTEGER(wv) || YAJL_GET_INTEGER(wv) < 1000 ||
                YAJL_GET_INTEGER(wv) > MCP_APP_WAIT_MAX_MS) {
                mx_op_tool_error(o, toolspec_error("INVALID_ARGUMENT", NULL,
                                                   "wait_ms: expected an integer from 1000 to %d",
                                                   MCP_APP_WAIT_MAX_MS));
                return;
            }
            wait_ms = YAJL_GET_INTEGER(wv);
        }
    }
    Comfyd__V1__SendMessageRequest *req = decode_send(o);
    if (!req) return;
    if (!req->session_id || !*req->session_id || strlen(req->session_id) >= 128) {
        protobuf_c_message_free_unpacked(&req->base, NULL);
        mx_op_tool_error(o, toolspec_error("INVALID_ARGUMENT", NULL,
                                           "session_id is required (see list_sessions)"));
        return;
    }
    app_ctx *a = o->x->a;
    wait *w = calloc(1, sizeof *w);
    if (!w) {
        protobuf_c_message_free_unpacked(&req->base, NULL);
        mx_op_tool_error(o, toolspec_error("INTERNAL", NULL, "out of memory"));
        return;
    }
    w->o = o;
    o->w = w;
    snprintf(w->session_id, sizeof w->session_id, "%s", req->session_id);
    snprintf(w->token, sizeof w->token, "%s", token);
    w->send_req = &req->base;
    w->deadline = uv_now(a->loop) + (uint64_t)wait_ms;
    w->last_write = uv_now(a->loop);
    w->next = a->mcp->waits;
    if (w->next) w->next->prev = w;
    a->mcp->waits = w;
    /* The session is busy while its stream runs (wait_free settles it). */
    mcp_session *ss = mx_session_of(a, o->x->session);
    if (ss) ss->inflight++;
    /* Progress and keep-alives need the event stream. */
    if (o->x->accept_sse && !o->x->batch) mx_x_start_sse(o->x);
    Comfyd__V1__SubscribeRequest sub = COMFYD__V1__SUBSCRIBE_REQUEST__INIT;
    sub.session_id = w->session_id;
    int rc =
        app__stream_start(a, APP_M_SUBSCRIBE, &sub.base, w, on_sub_msg, on_sub_end, &w->stream);
    if (rc != RPCC_OK)
        mx_send_error(w, toolspec_error("UNAVAILABLE", NULL, "cannot follow the session: %s",
                                        rpcc_strerror(rc)));
}

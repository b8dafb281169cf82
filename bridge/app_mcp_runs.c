/* app_mcp_runs: the run tools (run, get_run, cancel_run, view_output) (app_mcp_int.h). */
#include "app_mcp_int.h"

/* -- runs: run, get_run, cancel_run, view_output -- */

int mx_run_over(Comfyd__V1__RunStatus st)
{
    return st == COMFYD__V1__RUN_STATUS__RUN_STATUS_SUCCEEDED ||
           st == COMFYD__V1__RUN_STATUS__RUN_STATUS_FAILED ||
           st == COMFYD__V1__RUN_STATUS__RUN_STATUS_INTERRUPTED ||
           st == COMFYD__V1__RUN_STATUS__RUN_STATUS_CANCELLED ||
           st == COMFYD__V1__RUN_STATUS__RUN_STATUS_UNKNOWN;
}

/* Ends a run's wait with its latest state (timed_out when it is not over). */
void mx_run_finish(wait *w, int timed_out)
{
    op *o = w->o;
    app_mcp *m = o->x->a->mcp;
    char *res = w->last_run ? toolspec_run_result(w->last_run, 1, timed_out)
                            : toolspec_error("UNAVAILABLE", NULL, "no state of the run arrived");
    o->w = NULL;
    w->o = NULL;
    mcp_session *s = mx_session_of(o->x->a, o->x->session);
    if (s && s->inflight) s->inflight--;
    mx_wait_free(m, w);
    mx_op_tool_result(o, res, 0);
}

/* Takes run (owned) as the latest state; a progress notification when the
 * line it makes changed; the end when it is over. Returns 1 when the wait
 * ended (w and its op are gone). */
static int run_update(wait *w, Comfyd__V1__Run *run)
{
    if (w->last_run) protobuf_c_message_free_unpacked(&w->last_run->base, NULL);
    w->last_run = run;
    char line[256];
    toolspec_run_line(run, line, sizeof line);
    if (strcmp(line, w->last_line)) {
        snprintf(w->last_line, sizeof w->last_line, "%s", line);
        mx_progress(w, "%s", line);
    }
    if (!mx_run_over(run->status)) return 0;
    mx_run_finish(w, 0);
    return 1;
}

static void on_run_msg(void *owner, app_stream *st, ProtobufCMessage *m)
{
    wait *w = owner;
    app__stream_credit(st, 1);
    Comfyd__V1__WatchRunResponse *r = (Comfyd__V1__WatchRunResponse *)m;
    Comfyd__V1__Run *run = r->run;
    r->run = NULL;
    protobuf_c_message_free_unpacked(m, NULL);
    if (run && w->o)
        run_update(w, run);
    else if (run)
        protobuf_c_message_free_unpacked(&run->base, NULL);
}

static void on_run_end(void *owner, app_stream *st, grpc_status_code code, const char *details)
{
    wait *w = owner;
    app__stream_detach(st);
    w->stream = NULL;
    if (!w->o) return;
    if (w->last_run && mx_run_over(w->last_run->status)) {
        mx_run_finish(w, 0);
        return;
    }
    mx_send_error(w,
                  toolspec_error(code == GRPC_STATUS_OK ? "UNAVAILABLE" : app_grpc_code_name(code),
                                 NULL, "following the run ended: %s",
                                 details && *details ? details : "the stream ended"));
}

static void done_run_queue(app_call *c)
{
    op *o = mx_call_end(c, NULL);
    wait *w = o ? o->w : NULL;
    if (!w) return;
    const Comfyd__V1__QueueResponse *q = (const Comfyd__V1__QueueResponse *)c->resp;
    if (c->code != GRPC_STATUS_OK || !q) {
        mx_send_error(w, mx_call_error(c));
        return;
    }
    if (!q->run) {
        mx_send_error(w, toolspec_error("FAILED_PRECONDITION", "Use queue instead.",
                                        "runs are not followed: comfyd runs without --comfyui"));
        return;
    }
    snprintf(w->prompt_id, sizeof w->prompt_id, "%s", q->run->prompt_id);
    Comfyd__V1__QueueResponse *qm = (Comfyd__V1__QueueResponse *)c->resp;
    Comfyd__V1__Run *run = qm->run;
    qm->run = NULL;
    uint64_t seq = run->seq;
    if (run_update(w, run)) return; /* over already */
    Comfyd__V1__WatchRunRequest wr = COMFYD__V1__WATCH_RUN_REQUEST__INIT;
    wr.prompt_id = w->prompt_id;
    wr.after_seq = seq;
    int rc =
        app__stream_start(c->a, APP_M_WATCH_RUN, &wr.base, w, on_run_msg, on_run_end, &w->stream);
    if (rc != RPCC_OK)
        mx_send_error(
            w, toolspec_error("UNAVAILABLE", NULL, "cannot follow the run: %s", rpcc_strerror(rc)));
}

void mx_tool_run(op *o, mcp_session *s, const char *token)
{
    const char *cid;
    uint32_t wait_ms;
    char *err = NULL;
    if (toolspec_run_args(o->args, &cid, &wait_ms, &err)) {
        mx_op_tool_error(o, err);
        return;
    }
    app_ctx *a = o->x->a;
    wait *w = calloc(1, sizeof *w);
    if (!w) {
        mx_op_tool_error(o, toolspec_error("INTERNAL", NULL, "out of memory"));
        return;
    }
    w->o = o;
    w->run = 1;
    o->w = w;
    snprintf(w->token, sizeof w->token, "%s", token);
    w->deadline = uv_now(a->loop) + wait_ms;
    w->last_write = uv_now(a->loop);
    w->next = a->mcp->waits;
    if (w->next) w->next->prev = w;
    a->mcp->waits = w;
    mcp_session *ss = mx_session_of(a, o->x->session);
    if (ss) ss->inflight++;
    if (o->x->accept_sse && !o->x->batch) mx_x_start_sse(o->x);
    Comfyd__V1__QueueRequest q = COMFYD__V1__QUEUE_REQUEST__INIT;
    char canvas[MCP_MAX_CANVAS_ID + 1];
    snprintf(canvas, sizeof canvas, "%s", *cid ? cid : (s && s->has_view ? s->canvas : ""));
    q.canvas_id = canvas;
    q.origin = COMFYD__V1__RUN_ORIGIN__RUN_ORIGIN_MCP;
    char who[64];
    snprintf(who, sizeof who, "mcp session %.8s", o->x->session);
    q.queued_by = who;
    app_call *c = app__call_new(a, APP_M_QUEUE, done_run_queue);
    mx_call_begin(o, c);
    app__call_start(c, &q.base, mx_tab_deadline(APP_OP_QUEUE, &q.base));
}

static void done_run_read(app_call *c)
{
    op *o = mx_call_end(c, NULL);
    if (!o) return;
    if (c->code != GRPC_STATUS_OK || !c->resp) {
        mx_op_tool_error(o, mx_call_error(c));
        return;
    }
    /* GetRunResponse and CancelRunResponse both hold the run first. */
    const Comfyd__V1__Run *run = c->method == APP_M_GET_RUN
                                     ? ((const Comfyd__V1__GetRunResponse *)c->resp)->run
                                     : ((const Comfyd__V1__CancelRunResponse *)c->resp)->run;
    mx_op_tool_result(
        o, run ? toolspec_run_result(run, 0, 0) : toolspec_error("NOT_FOUND", NULL, "no such run"),
        !run);
}

void mx_tool_run_read(op *o)
{
    const char *pid;
    char *err = NULL;
    if (toolspec_run_id_args(o->args, 0, &pid, NULL, NULL, &err)) {
        mx_op_tool_error(o, err);
        return;
    }
    if (o->tool == T_GET_RUN) {
        Comfyd__V1__GetRunRequest q = COMFYD__V1__GET_RUN_REQUEST__INIT;
        q.prompt_id = (char *)pid;
        mx_start(o, APP_M_GET_RUN, done_run_read, &q.base, APP_UNARY_TIMEOUT_MS);
    } else {
        Comfyd__V1__CancelRunRequest q = COMFYD__V1__CANCEL_RUN_REQUEST__INIT;
        q.prompt_id = (char *)pid;
        mx_start(o, APP_M_CANCEL_RUN, done_run_read, &q.base, APP_UNARY_TIMEOUT_MS);
    }
}

static void done_view(app_call *c)
{
    op *o = mx_call_end(c, NULL);
    if (!o) return;
    if (c->code != GRPC_STATUS_OK || !c->resp) {
        mx_op_tool_error(o, mx_call_error(c));
        return;
    }
    const Comfyd__V1__GetRunOutputResponse *r = (const Comfyd__V1__GetRunOutputResponse *)c->resp;
    if (strncmp(r->content_type, "image/", 6)) {
        mx_op_tool_error(o, toolspec_error("INVALID_ARGUMENT", NULL,
                                           "the output is %s, not an image", r->content_type));
        return;
    }
    if (r->data.len > TOOLSPEC_MAX_IMAGE_BYTES) {
        mx_op_tool_error(
            o, toolspec_error(
                   "RESOURCE_EXHAUSTED",
                   "Fetch it over HTTP: GET /comfy/runs/{prompt_id}/outputs/{node}/{index}.",
                   "the image has %zu bytes; images are shown up to %u", r->data.len,
                   TOOLSPEC_MAX_IMAGE_BYTES));
        return;
    }
    char *res = NULL, *json = NULL;
    size_t len = 0;
    char meta[1024];
    snprintf(meta, sizeof meta, "%s (%s, %ux%u%s, %zu bytes)", r->file ? r->file->filename : "",
             r->content_type, r->width, r->height, r->scaled ? ", scaled down" : "", r->data.len);
    size_t ml = strlen(meta);
    while (ml && !text_utf8_valid(meta, ml))
        meta[--ml] = 0;
    if (mcp_image_result(r->data.data, r->data.len, r->content_type, meta, &res, &len) != MCP_OK ||
        mcp_result(o->id, res, &json, &len) != MCP_OK) {
        free(res);
        mx_op_error(o, MCP_RPC_INTERNAL_ERROR, "the image cannot be encoded");
        return;
    }
    free(res);
    mx_op_finish(o, json);
}

void mx_tool_view(op *o)
{
    const char *pid, *node;
    uint32_t index;
    char *err = NULL;
    if (toolspec_run_id_args(o->args, 1, &pid, &node, &index, &err)) {
        mx_op_tool_error(o, err);
        return;
    }
    Comfyd__V1__GetRunOutputRequest q = COMFYD__V1__GET_RUN_OUTPUT_REQUEST__INIT;
    q.prompt_id = (char *)pid;
    q.node_id = (char *)node;
    q.index = index;
    q.max_side = TOOLSPEC_VIEW_MAX_SIDE;
    mx_start(o, APP_M_GET_RUN_OUTPUT, done_view, &q.base, APP_UNARY_TIMEOUT_MS);
}

/* RunService: the gRPC face of the runs module (runs.h).
 *
 * Status codes: NOT_FOUND for an unknown prompt_id or output;
 * FAILED_PRECONDITION for a cancel of a finished run and for every method
 * when the core was started without --comfyui; INVALID_ARGUMENT for a
 * missing or overlong id, a bad page token or an output path outside
 * ComfyUI's folders; RESOURCE_EXHAUSTED for an output above the message
 * limit or too many watchers; UNAVAILABLE when ComfyUI cannot be reached
 * and at shutdown. WatchRun of one run ends with OK after the run's final
 * state; a watch of every run (empty prompt_id) lasts until the caller
 * ends it. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "comfy_event.h"
#include "imgscale.h"
#include "svc.h"

static grpc_status_code runs_status(int rc)
{
    switch (rc) {
    case RUNS_EINVAL:
        return GRPC_STATUS_INVALID_ARGUMENT;
    case RUNS_ENOTFOUND:
        return GRPC_STATUS_NOT_FOUND;
    case RUNS_EOVER:
        return GRPC_STATUS_FAILED_PRECONDITION;
    case RUNS_EUNAVAIL:
    case RUNS_ESHUTDOWN:
        return GRPC_STATUS_UNAVAILABLE;
    case RUNS_EFULL:
        return GRPC_STATUS_RESOURCE_EXHAUSTED;
    default:
        return GRPC_STATUS_INTERNAL;
    }
}

/* 0 when the module is there, else the call is answered. */
static int need_runs(rpcs_call *call, svc_ctx *ctx)
{
    if (ctx->runs) return 0;
    rpcs_call_finish(call, GRPC_STATUS_FAILED_PRECONDITION,
                     "runs are not followed: start comfyd with --comfyui URL");
    return -1;
}

static int check_id(rpcs_call *call, const char *what, const char *id, int required)
{
    size_t n = id ? strlen(id) : 0;
    if ((required && !n) || n > COMFY_MAX_ID) {
        rpcs_call_finishf(call, GRPC_STATUS_INVALID_ARGUMENT, "%s must be 1..%d bytes", what,
                          COMFY_MAX_ID);
        return -1;
    }
    return 0;
}

static void reply(rpcs_call *call, const ProtobufCMessage *m)
{
    if (rpcs_call_reply(call, m) == RPCS_EINVAL)
        rpcs_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
                         "the response would be larger than 4 MiB");
}

static void h_get(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__GetRunRequest *req = (const Comfyd__V1__GetRunRequest *)msg;
    if (need_runs(call, ctx) || check_id(call, "prompt_id", req->prompt_id, 1)) return;
    Comfyd__V1__Run *run = runs_get(ctx->runs, req->prompt_id);
    if (!run) {
        rpcs_call_finishf(call, GRPC_STATUS_NOT_FOUND, "no run with prompt_id \"%s\"",
                          req->prompt_id);
        return;
    }
    Comfyd__V1__GetRunResponse resp = COMFYD__V1__GET_RUN_RESPONSE__INIT;
    resp.run = run;
    reply(call, &resp.base);
    protobuf_c_message_free_unpacked(&run->base, NULL);
}

static void h_list(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__ListRunsRequest *req = (const Comfyd__V1__ListRunsRequest *)msg;
    if (need_runs(call, ctx) || check_id(call, "canvas_id", req->canvas_id, 0) ||
        check_id(call, "session_id", req->session_id, 0))
        return;
    Comfyd__V1__ListRunsResponse *resp = NULL;
    char err[256] = "";
    int rc = runs_list(ctx->runs, req, &resp, err, sizeof err);
    if (rc != RUNS_OK) {
        rpcs_call_finish(call, runs_status(rc), err);
        return;
    }
    reply(call, &resp->base);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
}

static void h_cancel(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__CancelRunRequest *req = (const Comfyd__V1__CancelRunRequest *)msg;
    if (need_runs(call, ctx) || check_id(call, "prompt_id", req->prompt_id, 1)) return;
    Comfyd__V1__Run *run = NULL;
    char err[512] = "";
    int rc = runs_cancel(ctx->runs, req->prompt_id, &run, err, sizeof err);
    if (rc != RUNS_OK) {
        rpcs_call_finish(call, runs_status(rc), err);
        return;
    }
    Comfyd__V1__CancelRunResponse resp = COMFYD__V1__CANCEL_RUN_RESPONSE__INIT;
    resp.run = run;
    reply(call, &resp.base);
    if (run) protobuf_c_message_free_unpacked(&run->base, NULL);
}

static void h_output(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__GetRunOutputRequest *req = (const Comfyd__V1__GetRunOutputRequest *)msg;
    if (need_runs(call, ctx) || check_id(call, "prompt_id", req->prompt_id, 1) ||
        check_id(call, "node_id", req->node_id, 1))
        return;
    Comfyd__V1__GetRunOutputResponse *resp = NULL;
    char err[512] = "";
    if (req->max_side > IMGSCALE_MAX_SIDE) {
        rpcs_call_finishf(call, GRPC_STATUS_INVALID_ARGUMENT, "max_side is at most %d",
                          IMGSCALE_MAX_SIDE);
        return;
    }
    int rc = runs_output(ctx->runs, req->prompt_id, req->node_id, req->index, req->max_side, &resp,
                         err, sizeof err);
    if (rc != RUNS_OK) {
        rpcs_call_finish(call, runs_status(rc), err);
        return;
    }
    reply(call, &resp->base);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
}

/* One WatchRun stream, referenced until release. */
typedef struct watch {
    rpcs_call *call;
    int one; /* a single run: ends with its final state */
    int final_sent;
} watch;

static int on_watch(void *ud, const Comfyd__V1__Run *run)
{
    watch *w = ud;
    if (!run) return rpcs_call_closed(w->call);
    Comfyd__V1__WatchRunResponse m = COMFYD__V1__WATCH_RUN_RESPONSE__INIT;
    m.run = (Comfyd__V1__Run *)run;
    int rc = rpcs_call_send(w->call, &m.base);
    if (rc == RPCS_EFULL) {
        rpcs_call_finish(w->call, GRPC_STATUS_RESOURCE_EXHAUSTED,
                         "the watcher does not read its stream");
        return 1;
    }
    if (rc != RPCS_OK) return 1;
    if (w->one && runs_status_final(run->status)) {
        w->final_sent = 1;
        return 1;
    }
    return 0;
}

static void on_release(void *ud)
{
    watch *w = ud;
    if (w->final_sent || w->one)
        rpcs_call_finish(w->call, GRPC_STATUS_OK, NULL);
    else
        rpcs_call_finish(w->call, GRPC_STATUS_UNAVAILABLE, "server shutting down");
    rpcs_call_unref(w->call);
    free(w);
}

static void h_watch(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__WatchRunRequest *req = (const Comfyd__V1__WatchRunRequest *)msg;
    if (need_runs(call, ctx) || check_id(call, "prompt_id", req->prompt_id, 0)) return;
    watch *w = calloc(1, sizeof *w);
    if (!w) {
        rpcs_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    w->call = call;
    w->one = req->prompt_id && *req->prompt_id;
    rpcs_call_ref(call);
    int rc = runs_watch(ctx->runs, req->prompt_id, "", req->after_seq, on_watch, on_release, w);
    if (rc != RUNS_OK) {
        rpcs_call_finishf(call, runs_status(rc), "%s%s%s",
                          rc == RUNS_ENOTFOUND ? "no run with prompt_id \"" : cfd_strerror(rc),
                          rc == RUNS_ENOTFOUND ? req->prompt_id : "",
                          rc == RUNS_ENOTFOUND ? "\"" : "");
        rpcs_call_unref(call);
        free(w);
    }
}

size_t svc_run_methods(svc_ctx *ctx, rpcs_method *out, size_t max)
{
    const ProtobufCServiceDescriptor *d = &comfyd__v1__run_service__descriptor;
    rpcs_method m[] = {
        {d, "GetRun", RPCS_UNARY, h_get, ctx},
        {d, "ListRuns", RPCS_UNARY, h_list, ctx},
        {d, "WatchRun", RPCS_SERVER_STREAM, h_watch, ctx},
        {d, "CancelRun", RPCS_UNARY, h_cancel, ctx},
        {d, "GetRunOutput", RPCS_UNARY, h_output, ctx},
    };
    size_t n = sizeof m / sizeof m[0];
    if (n > max) n = max;
    memcpy(out, m, n * sizeof m[0]);
    return n;
}

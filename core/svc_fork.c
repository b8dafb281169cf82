/* svc_fork: SessionService's ForkSession, RevertSession and
 * ListCheckpoints (docs/sessions.md, "Fork, revert and checkpoints"). A
 * revert holds the session's runner (sess_revert_begin), restores the
 * canvases when asked (checkpoint.h: refused with STALE_REVISION before
 * anything changed when a canvas moved on), then hides the later messages
 * (sess_revert_end); a failed restore leaves the conversation as it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comfyd/v1/session.pb-c.h"
#include "log.h"
#include "svc.h"

#define ERRLEN CKPT_ERRLEN

static void h_fork(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__ForkSessionRequest *req = (const Comfyd__V1__ForkSessionRequest *)msg;
    char err[ERRLEN] = "";
    sess_info info;
    uint32_t copied = 0;
    int rc = sess_fork(ctx->sm, req->session_id, req->message_id, req->title, &info, &copied, err,
                       sizeof err);
    if (rc != SESS_OK) {
        rpcs_call_finish(call, svc_status(rc), err[0] ? err : "internal error");
        return;
    }
    Comfyd__V1__Session spb;
    Comfyd__V1__SessionConfig cpb;
    Comfyd__V1__Usage upb;
    sess_info_to_pb(&info, &spb, &cpb, &upb);
    Comfyd__V1__ForkSessionResponse r = COMFYD__V1__FORK_SESSION_RESPONSE__INIT;
    r.session = &spb;
    r.messages_copied = copied;
    rpcs_call_reply(call, &r.base);
    sess_info_clear(&info);
}

static void h_revert(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__RevertSessionRequest *req = (const Comfyd__V1__RevertSessionRequest *)msg;
    char err[ERRLEN] = "";
    int rc = sess_revert_begin(ctx->sm, req->session_id, req->message_id, err, sizeof err);
    if (rc != SESS_OK) {
        rpcs_call_finish(call, svc_status(rc), err[0] ? err : "internal error");
        return;
    }
    Comfyd__V1__CanvasRestore **restored = NULL;
    size_t n_restored = 0;
    int crc = CKPT_OK;
    if (req->restore_canvas) {
        crc = ctx->ck ? ckpt_restore(ctx->ck, req->session_id, req->message_id, req->force, 0,
                                     &restored, &n_restored, err, sizeof err)
                      : CKPT_EIO;
        if (!ctx->ck) snprintf(err, sizeof err, "canvas checkpoints are not available");
    }
    sess_info info;
    uint32_t hidden = 0;
    char err2[ERRLEN] = "";
    /* The conversation is reverted only when the canvases were restored. */
    rc = sess_revert_end(ctx->sm, req->session_id, req->message_id, crc == CKPT_OK, restored,
                         n_restored, &info, &hidden, err2, sizeof err2);
    if (crc != CKPT_OK) {
        grpc_status_code code = crc == CKPT_ESTALE || crc == CKPT_ECANVAS
                                    ? GRPC_STATUS_FAILED_PRECONDITION
                                : crc == CKPT_ENOMEM ? GRPC_STATUS_RESOURCE_EXHAUSTED
                                                     : GRPC_STATUS_INTERNAL;
        rpcs_call_finish(call, code, err[0] ? err : "the canvas could not be restored");
    } else if (rc != SESS_OK) {
        rpcs_call_finish(call, svc_status(rc), err2[0] ? err2 : "internal error");
    } else {
        Comfyd__V1__Session spb;
        Comfyd__V1__SessionConfig cpb;
        Comfyd__V1__Usage upb;
        sess_info_to_pb(&info, &spb, &cpb, &upb);
        char notice[256];
        snprintf(notice, sizeof notice, "%u later message(s) hidden (kept stored)%s%s", hidden,
                 n_restored ? "; canvas restored to its checkpoint" : "",
                 req->restore_canvas && !n_restored ? "; no canvas checkpoint to restore" : "");
        Comfyd__V1__RevertSessionResponse r = COMFYD__V1__REVERT_SESSION_RESPONSE__INIT;
        r.session = &spb;
        r.messages_hidden = hidden;
        r.restored = restored;
        r.n_restored = n_restored;
        r.notice = notice;
        rpcs_call_reply(call, &r.base);
    }
    sess_info_clear(&info);
    ckpt_restored_free(restored, n_restored);
}

static void h_unrevert(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__UnrevertSessionRequest *req = (const Comfyd__V1__UnrevertSessionRequest *)msg;
    char err[ERRLEN] = "";
    sess_info info;
    uint32_t restored = 0;
    int rc = sess_unrevert(ctx->sm, req->session_id, &info, &restored, err, sizeof err);
    if (rc != SESS_OK) {
        rpcs_call_finish(call, svc_status(rc), err[0] ? err : "internal error");
        return;
    }
    Comfyd__V1__Session spb;
    Comfyd__V1__SessionConfig cpb;
    Comfyd__V1__Usage upb;
    sess_info_to_pb(&info, &spb, &cpb, &upb);
    char notice[160];
    snprintf(notice, sizeof notice,
             "%u message(s) the revert hid are back (the canvas is unchanged: Ctrl+Z in the tab "
             "undoes a restore)",
             restored);
    Comfyd__V1__UnrevertSessionResponse r = COMFYD__V1__UNREVERT_SESSION_RESPONSE__INIT;
    r.session = &spb;
    r.messages_restored = restored;
    r.notice = notice;
    rpcs_call_reply(call, &r.base);
    sess_info_clear(&info);
}

static void h_checkpoints(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__ListCheckpointsRequest *req = (const Comfyd__V1__ListCheckpointsRequest *)msg;
    char err[ERRLEN] = "";
    sess_info info;
    int rc = sess_get(ctx->sm, req->session_id, &info, err, sizeof err);
    if (rc != SESS_OK) {
        rpcs_call_finish(call, svc_status(rc), err[0] ? err : "internal error");
        return;
    }
    sess_info_clear(&info);
    store_checkpoint *cps = NULL;
    size_t n = 0;
    rc = sess_checkpoints(ctx->sm, req->session_id, &cps, &n, err, sizeof err);
    if (rc != SESS_OK) {
        rpcs_call_finish(call, svc_status(rc), err[0] ? err : "internal error");
        return;
    }
    Comfyd__V1__Checkpoint *c = calloc(n ? n : 1, sizeof *c);
    Comfyd__V1__Checkpoint **pc = calloc(n ? n : 1, sizeof *pc);
    if (!c || !pc) abort();
    for (size_t i = 0; i < n; i++) {
        comfyd__v1__checkpoint__init(&c[i]);
        c[i].id = cps[i].id;
        c[i].message_id = cps[i].message_id;
        c[i].canvas_id = cps[i].canvas_id;
        c[i].revision_before = cps[i].rev_before;
        c[i].revision_after = cps[i].rev_after;
        c[i].bytes = cps[i].bytes;
        c[i].created_at_ms = cps[i].created_ms;
        pc[i] = &c[i];
    }
    Comfyd__V1__ListCheckpointsResponse r = COMFYD__V1__LIST_CHECKPOINTS_RESPONSE__INIT;
    r.checkpoints = pc;
    r.n_checkpoints = n;
    rpcs_call_reply(call, &r.base);
    free(c);
    free(pc);
    store_checkpoints_free(cps, n);
}

size_t svc_fork_methods(svc_ctx *ctx, rpcs_method *out, size_t max)
{
    const ProtobufCServiceDescriptor *d = &comfyd__v1__session_service__descriptor;
    const rpcs_method m[] = {
        {d, "ForkSession", RPCS_UNARY, h_fork, ctx},
        {d, "RevertSession", RPCS_UNARY, h_revert, ctx},
        {d, "UnrevertSession", RPCS_UNARY, h_unrevert, ctx},
        {d, "ListCheckpoints", RPCS_UNARY, h_checkpoints, ctx},
    };
    size_t n = sizeof m / sizeof m[0];
    if (n > max) n = max;
    memcpy(out, m, n * sizeof m[0]);
    return n;
}

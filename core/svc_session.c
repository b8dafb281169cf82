#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comfyd/v1/session.pb-c.h"
#include "log.h"
#include "svc.h"

#define ERRLEN 512

grpc_status_code svc_status(int rc)
{
    switch (rc) {
    case SESS_OK:
        return GRPC_STATUS_OK;
    case SESS_NOT_FOUND:
        return GRPC_STATUS_NOT_FOUND;
    case SESS_EINVAL:
        return GRPC_STATUS_INVALID_ARGUMENT;
    case SESS_EFULL:
        return GRPC_STATUS_RESOURCE_EXHAUSTED;
    case SESS_ESHUTDOWN:
    case SESS_EUNAVAIL:
        return GRPC_STATUS_UNAVAILABLE;
    case SESS_EEXIST:
        return GRPC_STATUS_ALREADY_EXISTS;
    case SESS_EBUSY:
    case SESS_EPRECOND:
        return GRPC_STATUS_FAILED_PRECONDITION;
    default:
        return GRPC_STATUS_INTERNAL;
    }
}

static void fail(rpcs_call *call, int rc, const char *err)
{
    rpcs_call_finish(call, svc_status(rc), err[0] ? err : "internal error");
}

static void reply_session(rpcs_call *call, const sess_info *info, int which)
{
    Comfyd__V1__Session spb;
    Comfyd__V1__SessionConfig cpb;
    Comfyd__V1__Usage upb;
    sess_info_to_pb(info, &spb, &cpb, &upb);
    if (which == 0) {
        Comfyd__V1__CreateSessionResponse r = COMFYD__V1__CREATE_SESSION_RESPONSE__INIT;
        r.session = &spb;
        rpcs_call_reply(call, &r.base);
    } else {
        Comfyd__V1__ConfigureSessionResponse r = COMFYD__V1__CONFIGURE_SESSION_RESPONSE__INIT;
        r.session = &spb;
        r.api_key_cleared = info->api_key_cleared;
        r.notice = (char *)info->notice;
        rpcs_call_reply(call, &r.base);
    }
}

static void h_create(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    char err[ERRLEN] = "";
    sess_info info;
    int rc =
        sess_create(ctx->sm, (const Comfyd__V1__CreateSessionRequest *)msg, &info, err, sizeof err);
    if (rc != SESS_OK) return fail(call, rc, err);
    reply_session(call, &info, 0);
    sess_info_clear(&info);
}

static void h_configure(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    char err[ERRLEN] = "";
    sess_info info;
    int rc = sess_configure(ctx->sm, (const Comfyd__V1__ConfigureSessionRequest *)msg, &info, err,
                            sizeof err);
    if (rc != SESS_OK) return fail(call, rc, err);
    reply_session(call, &info, 1);
    sess_info_clear(&info);
}

static void h_get(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__GetSessionRequest *req = (const Comfyd__V1__GetSessionRequest *)msg;
    char err[ERRLEN] = "";
    sess_info info;
    int rc = sess_get(ctx->sm, req->session_id, &info, err, sizeof err);
    if (rc != SESS_OK) return fail(call, rc, err);
    Comfyd__V1__GetSessionResponse r = COMFYD__V1__GET_SESSION_RESPONSE__INIT;
    Comfyd__V1__Session spb;
    Comfyd__V1__SessionConfig cpb;
    Comfyd__V1__Usage upb;
    sess_info_to_pb(&info, &spb, &cpb, &upb);
    r.session = &spb;
    store_message *rows = NULL;
    size_t n = 0;
    Comfyd__V1__ChatMessage *msgs = NULL;
    Comfyd__V1__ChatMessage **pm = NULL;
    if (req->include_history) {
        size_t limit = req->history_limit && req->history_limit < SESS_HISTORY_LIMIT
                           ? req->history_limit
                           : SESS_HISTORY_LIMIT;
        int trunc = 0;
        rc = sess_history(ctx->sm, req->session_id, limit, &rows, &n, &trunc);
        if (rc != SESS_OK) {
            sess_info_clear(&info);
            rpcs_call_finish(call, svc_status(rc), "cannot read the history");
            return;
        }
        msgs = calloc(n ? n : 1, sizeof *msgs);
        pm = calloc(n ? n : 1, sizeof *pm);
        if (!msgs || !pm) abort();
        for (size_t i = 0; i < n; i++) {
            sess_message_to_pb(&rows[i], &msgs[i]);
            sess_message_pb_attach(ctx->sm, &rows[i], &msgs[i]);
            pm[i] = &msgs[i];
        }
        r.history = pm;
        r.n_history = n;
        r.history_truncated = trunc;
    }
    rpcs_call_reply(call, &r.base);
    for (size_t i = 0; msgs && i < n; i++)
        sess_message_pb_release(&msgs[i]);
    free(msgs);
    free(pm);
    store_messages_free(rows, n);
    sess_info_clear(&info);
}

static void h_list(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__ListSessionsRequest *req = (const Comfyd__V1__ListSessionsRequest *)msg;
    char err[ERRLEN] = "";
    sess_info *list = NULL;
    size_t n = 0;
    char *next = NULL;
    if (req->page_size > 500) {
        rpcs_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT,
                         "page_size is too large (at most 500)");
        return;
    }
    int rc = sess_list(ctx->sm, req->page_token, req->page_size, req->include_archived, &list, &n,
                       &next, err, sizeof err);
    if (rc != SESS_OK) return fail(call, rc, err);
    Comfyd__V1__Session *s = calloc(n ? n : 1, sizeof *s);
    Comfyd__V1__SessionConfig *c = calloc(n ? n : 1, sizeof *c);
    Comfyd__V1__Usage *u = calloc(n ? n : 1, sizeof *u);
    Comfyd__V1__Session **ps = calloc(n ? n : 1, sizeof *ps);
    if (!s || !c || !u || !ps) abort();
    for (size_t i = 0; i < n; i++) {
        sess_info_to_pb(&list[i], &s[i], &c[i], &u[i]);
        ps[i] = &s[i];
    }
    Comfyd__V1__ListSessionsResponse r = COMFYD__V1__LIST_SESSIONS_RESPONSE__INIT;
    r.sessions = ps;
    r.n_sessions = n;
    r.next_page_token = next ? next : "";
    rpcs_call_reply(call, &r.base);
    free(s), free(c), free(u), free(ps), free(next);
    sess_infos_free(list, n);
}

static void h_delete(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__DeleteSessionRequest *req = (const Comfyd__V1__DeleteSessionRequest *)msg;
    char err[ERRLEN] = "";
    int rc = sess_delete(ctx->sm, req->session_id, err, sizeof err);
    if (rc != SESS_OK) return fail(call, rc, err);
    Comfyd__V1__DeleteSessionResponse r = COMFYD__V1__DELETE_SESSION_RESPONSE__INIT;
    rpcs_call_reply(call, &r.base);
}

static void h_send(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    char err[ERRLEN] = "";
    sess_send_result res;
    int rc = sess_send(ctx->sm, (const Comfyd__V1__SendMessageRequest *)msg, &res, err, sizeof err);
    if (rc != SESS_OK) return fail(call, rc, err);
    Comfyd__V1__SendMessageResponse r = COMFYD__V1__SEND_MESSAGE_RESPONSE__INIT;
    Comfyd__V1__ChatMessage cm;
    sess_message_to_pb(&res.message, &cm);
    sess_message_pb_attach(ctx->sm, &res.message, &cm);
    r.message = &cm;
    r.queued = res.queued;
    r.queue_position = res.queue_position;
    r.duplicate = res.duplicate;
    rpcs_call_reply(call, &r.base);
    sess_message_pb_release(&cm);
    sess_send_result_clear(&res);
}

static void h_upload(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__UploadAttachmentRequest *req =
        (const Comfyd__V1__UploadAttachmentRequest *)msg;
    char err[ERRLEN] = "";
    store_attachment a;
    int rc = sess_upload(ctx->sm, req->data.data, req->data.len, req->mime_type, req->name, &a, err,
                         sizeof err);
    if (rc != SESS_OK) return fail(call, rc, err);
    Comfyd__V1__Attachment pa = COMFYD__V1__ATTACHMENT__INIT;
    pa.sha256 = a.sha256;
    pa.mime_type = a.mime;
    pa.name = a.name ? a.name : "";
    pa.size = a.size;
    pa.width = a.width;
    pa.height = a.height;
    Comfyd__V1__UploadAttachmentResponse r = COMFYD__V1__UPLOAD_ATTACHMENT_RESPONSE__INIT;
    r.attachment = &pa;
    rpcs_call_reply(call, &r.base);
    free(a.name);
}

static void h_cancel(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__CancelRequest *req = (const Comfyd__V1__CancelRequest *)msg;
    char err[ERRLEN] = "";
    int cancelled = 0;
    uint32_t dropped = 0;
    int rc = sess_cancel(ctx->sm, req->session_id, req->clear_queue, &cancelled, &dropped, err,
                         sizeof err);
    if (rc != SESS_OK) return fail(call, rc, err);
    Comfyd__V1__CancelResponse r = COMFYD__V1__CANCEL_RESPONSE__INIT;
    r.cancelled = cancelled;
    r.dropped_queued = dropped;
    rpcs_call_reply(call, &r.base);
}

static void h_get_attachment(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__GetAttachmentRequest *req = (const Comfyd__V1__GetAttachmentRequest *)msg;
    char err[ERRLEN] = "";
    store_attachment a;
    void *data = NULL;
    size_t len = 0;
    int rc = sess_attachment_get(ctx->sm, req->sha256, &a, &data, &len, err, sizeof err);
    if (rc != SESS_OK) return fail(call, rc, err);
    Comfyd__V1__Attachment pa = COMFYD__V1__ATTACHMENT__INIT;
    pa.sha256 = a.sha256;
    pa.mime_type = a.mime;
    pa.name = "";
    pa.size = a.size;
    pa.width = a.width;
    pa.height = a.height;
    Comfyd__V1__GetAttachmentResponse r = COMFYD__V1__GET_ATTACHMENT_RESPONSE__INIT;
    r.attachment = &pa;
    r.data.data = data;
    r.data.len = len;
    rpcs_call_reply(call, &r.base);
    free(a.name);
    free(data);
}

static void h_compact(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__CompactSessionRequest *req = (const Comfyd__V1__CompactSessionRequest *)msg;
    char err[ERRLEN] = "", notice[256] = "";
    uint32_t n = 0;
    store_message sm;
    int rc =
        sess_compact(ctx->sm, req->session_id, &n, &sm, notice, sizeof notice, err, sizeof err);
    if (rc != SESS_OK) return fail(call, rc, err);
    Comfyd__V1__CompactSessionResponse r = COMFYD__V1__COMPACT_SESSION_RESPONSE__INIT;
    Comfyd__V1__ChatMessage cm;
    r.compacted = n > 0;
    r.messages_compacted = n;
    r.notice = notice;
    if (n) {
        sess_message_to_pb(&sm, &cm);
        r.summary = &cm;
    }
    rpcs_call_reply(call, &r.base);
    store_message_clear(&sm);
}

static void h_search(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__SearchSessionsRequest *req = (const Comfyd__V1__SearchSessionsRequest *)msg;
    char err[ERRLEN] = "";
    unsigned mask = 0;
    for (size_t i = 0; i < req->n_kinds; i++) {
        int k = req->kinds[i];
        if (k < COMFYD__V1__SEARCH_HIT_KIND__SEARCH_HIT_KIND_MESSAGE ||
            k > COMFYD__V1__SEARCH_HIT_KIND__SEARCH_HIT_KIND_MEMORY) {
            rpcs_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT, "kinds: unknown kind");
            return;
        }
        mask |= 1u << (k - 1);
    }
    store_hit *hits = NULL;
    size_t n = 0;
    int rc = sess_search(ctx->sm, req->query, req->session_id, mask, req->limit, &hits, &n, err,
                         sizeof err);
    if (rc != SESS_OK) return fail(call, rc, err);
    Comfyd__V1__SearchHit *h = calloc(n ? n : 1, sizeof *h);
    Comfyd__V1__SearchHit **ph = calloc(n ? n : 1, sizeof *ph);
    if (!h || !ph) abort();
    for (size_t i = 0; i < n; i++) {
        comfyd__v1__search_hit__init(&h[i]);
        h[i].kind = (Comfyd__V1__SearchHitKind)(hits[i].kind + 1);
        h[i].id = hits[i].id;
        h[i].session_id = hits[i].session_id;
        h[i].session_title = hits[i].session_title;
        h[i].snippet = hits[i].snippet;
        h[i].score = hits[i].score;
        h[i].created_at_ms = hits[i].created_ms;
        h[i].role = (Comfyd__V1__Role)hits[i].role;
        ph[i] = &h[i];
    }
    Comfyd__V1__SearchSessionsResponse r = COMFYD__V1__SEARCH_SESSIONS_RESPONSE__INIT;
    r.hits = ph;
    r.n_hits = n;
    rpcs_call_reply(call, &r.base);
    free(h);
    free(ph);
    store_hits_free(hits, n);
}

static void h_export(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__ExportSessionRequest *req = (const Comfyd__V1__ExportSessionRequest *)msg;
    char err[ERRLEN] = "";
    int json = req->format == COMFYD__V1__EXPORT_FORMAT__EXPORT_FORMAT_JSON;
    if (req->format > COMFYD__V1__EXPORT_FORMAT__EXPORT_FORMAT_JSON) {
        rpcs_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT, "format: unknown format");
        return;
    }
    char *doc = NULL;
    int rc = sess_export(ctx->sm, req->session_id, json ? 2 : 1, &doc, err, sizeof err);
    if (rc != SESS_OK) return fail(call, rc, err);
    char name[64];
    snprintf(name, sizeof name, "session-%.36s.%s", req->session_id, json ? "json" : "md");
    Comfyd__V1__ExportSessionResponse r = COMFYD__V1__EXPORT_SESSION_RESPONSE__INIT;
    r.content_type = json ? "application/json" : "text/markdown; charset=utf-8";
    r.filename = name;
    r.content = doc;
    rpcs_call_reply(call, &r.base);
    free(doc);
}

/* Subscriber callbacks over a streaming call; the session holds a call
 * reference from attach until release. */
static int sub_push(void *ud, const void *bytes, size_t len)
{
    return rpcs_call_send_packed(ud, bytes, len) == RPCS_OK ? 0 : -1;
}

static void sub_end(void *ud, int code, const char *message)
{
    rpcs_call_finish(ud, (grpc_status_code)code, message);
}

static int sub_gone(void *ud)
{
    return rpcs_call_closed(ud);
}

static void sub_release(void *ud)
{
    rpcs_call_unref(ud);
}

static const sess_sub_ops sub_ops = {sub_push, sub_end, sub_gone, sub_release};

static void h_subscribe(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__SubscribeRequest *req = (const Comfyd__V1__SubscribeRequest *)msg;
    char err[ERRLEN] = "";
    rpcs_call_ref(call);
    int rc =
        sess_subscribe(ctx->sm, req->session_id, req->after_seq, &sub_ops, call, err, sizeof err);
    if (rc != SESS_OK) {
        rpcs_call_unref(call);
        fail(call, rc, err);
    }
}

size_t svc_session_methods(svc_ctx *ctx, rpcs_method *out, size_t max)
{
    const ProtobufCServiceDescriptor *d = &comfyd__v1__session_service__descriptor;
    const rpcs_method m[] = {
        {d, "CreateSession", RPCS_UNARY, h_create, ctx},
        {d, "GetSession", RPCS_UNARY, h_get, ctx},
        {d, "ListSessions", RPCS_UNARY, h_list, ctx},
        {d, "DeleteSession", RPCS_UNARY, h_delete, ctx},
        {d, "ConfigureSession", RPCS_UNARY, h_configure, ctx},
        {d, "SendMessage", RPCS_UNARY, h_send, ctx},
        {d, "Subscribe", RPCS_SERVER_STREAM, h_subscribe, ctx},
        {d, "Cancel", RPCS_UNARY, h_cancel, ctx},
        {d, "UploadAttachment", RPCS_UNARY, h_upload, ctx},
        {d, "GetAttachment", RPCS_UNARY, h_get_attachment, ctx},
        {d, "CompactSession", RPCS_UNARY, h_compact, ctx},
        {d, "SearchSessions", RPCS_UNARY, h_search, ctx},
        {d, "ExportSession", RPCS_UNARY, h_export, ctx},
    };
    size_t n = sizeof m / sizeof m[0];
    if (n > max) n = max;
    memcpy(out, m, n * sizeof m[0]);
    return n;
}

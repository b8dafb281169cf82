/* app_call: unary calls and server streams to the core, answered on the
 * loop thread (app_int.h). */
#include "app_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

app_call *app__call_new(app_ctx *a, app_method method, app_call_done done)
{
    app_call *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->a = a;
    c->method = method;
    c->done = done;
    return c;
}

static void call_free(app_call *c)
{
    if (c->resp) protobuf_c_message_free_unpacked(c->resp, NULL);
    app_gcache_ent_unref(c->gc_held);
    free(c->rid);
    free(c->text);
    free(c);
}

static void call_deliver(void *ud)
{
    app_call *c = ud;
    app_ctx *a = c->a;
    app_metrics_grpc(&a->m, c->method, c->code);
    if (c->conn) bnet_discharge(a->net, c->conn);
    c->done(c);
    call_free(c);
    atomic_fetch_sub(&a->inflight, 1);
}

/* rpcc's thread: copy the outcome and hand it to the loop. */
static void call_cb(void *ud, grpc_status_code code, const char *details, const char *graph_error,
                    ProtobufCMessage *resp)
{
    app_call *c = ud;
    app_ctx *a = c->a;
    c->code = code;
    c->graph_code = app_graph_code_named(graph_error);
    snprintf(c->details, sizeof c->details, "%s", details ? details : "");
    c->resp = resp;
    if (bnet_post(a->net, call_deliver, c) != BNET_OK) {
        /* The server stopped: nobody is waiting for the answer. */
        call_free(c);
        atomic_fetch_sub(&a->inflight, 1);
    }
}

void app__call_start(app_call *c, const ProtobufCMessage *req, int64_t timeout_ms)
{
    app_ctx *a = c->a;
    atomic_fetch_add(&a->inflight, 1);
    /* The call counts against its connection until it finishes, also when
     * the client resets the request first: one connection cannot take all
     * of rpcc's calls. */
    bnet_req *r = c->req_id ? bnet_req_find(a->net, c->req_id) : NULL;
    if (r && bnet_req_charge(r, &c->conn) != BNET_OK) {
        c->code = GRPC_STATUS_UNAVAILABLE;
        snprintf(c->details, sizeof c->details, "too many calls in flight on this connection");
        call_deliver(c);
        return;
    }
    int rc =
        rpcc_unary_md(a->core, app__method_service(c->method), app_method_name(c->method), req,
                      timeout_ms, 0, c->caller_key, c->caller_key ? c->caller : NULL, call_cb, c);
    if (rc == RPCC_OK) return;
    switch (rc) {
    case RPCC_EBUSY:
        c->code = GRPC_STATUS_UNAVAILABLE;
        snprintf(c->details, sizeof c->details, "too many calls in flight");
        break;
    case RPCC_ETOOBIG:
        c->code = GRPC_STATUS_INVALID_ARGUMENT;
        snprintf(c->details, sizeof c->details, "request larger than %d bytes",
                 RPCC_MAX_MESSAGE_BYTES);
        break;
    case RPCC_ECLOSED:
        c->code = GRPC_STATUS_UNAVAILABLE;
        snprintf(c->details, sizeof c->details, "the bridge is shutting down");
        break;
    default:
        c->code = GRPC_STATUS_INTERNAL;
        snprintf(c->details, sizeof c->details, "cannot call %s: %s", app_method_name(c->method),
                 rpcc_strerror(rc));
        break;
    }
    call_deliver(c);
}

/* ---- streams ---- */

struct app_stream {
    app_ctx *a;
    app_method method;
    /* One reference for the owner (until app__stream_detach), one for the
     * gRPC side (until its end was delivered or could not be posted). */
    atomic_int refs;
    rpcc_stream *h; /* loop side; NULL once released */
    void *owner;    /* NULL once detached */
    app_stream_msg_fn on_msg;
    app_stream_end_fn on_end;
    uint64_t delivered;
    uint32_t held; /* credits held back while the WebSocket is congested */
};

typedef struct stream_item {
    app_stream *s;
    ProtobufCMessage *msg; /* a message, or NULL for the end */
    grpc_status_code code;
    char details[RPCC_MAX_DETAILS_BYTES + 1];
} stream_item;

static void stream_unref(app_stream *s)
{
    if (atomic_fetch_sub(&s->refs, 1) == 1) free(s);
}

static void stream_deliver(void *ud)
{
    stream_item *it = ud;
    app_stream *s = it->s;
    if (it->msg) {
        if (s->owner) {
            s->delivered++;
            s->a->m.stream_messages[s->method]++;
            s->on_msg(s->owner, s, it->msg);
        } else {
            protobuf_c_message_free_unpacked(it->msg, NULL);
        }
    } else {
        app_metrics_grpc(&s->a->m, s->method, it->code);
        if (s->owner) s->on_end(s->owner, s, it->code, it->details);
        stream_unref(s);
    }
    free(it);
}

static void stream_msg_cb(void *ud, ProtobufCMessage *msg)
{
    app_stream *s = ud;
    stream_item *it = calloc(1, sizeof *it);
    if (!it) abort();
    it->s = s;
    it->msg = msg;
    if (bnet_post(s->a->net, stream_deliver, it) != BNET_OK) {
        protobuf_c_message_free_unpacked(msg, NULL);
        free(it);
    }
}

static void stream_end_cb(void *ud, grpc_status_code code, const char *details)
{
    app_stream *s = ud;
    stream_item *it = calloc(1, sizeof *it);
    if (!it) abort();
    it->s = s;
    it->code = code;
    snprintf(it->details, sizeof it->details, "%s", details ? details : "");
    if (bnet_post(s->a->net, stream_deliver, it) != BNET_OK) {
        free(it);
        stream_unref(s);
    }
}

int app__stream_start(app_ctx *a, app_method method, const ProtobufCMessage *req, void *owner,
                      app_stream_msg_fn on_msg, app_stream_end_fn on_end, app_stream **out)
{
    *out = NULL;
    app_stream *s = calloc(1, sizeof *s);
    if (!s) return RPCC_ENOMEM;
    s->a = a;
    s->method = method;
    atomic_init(&s->refs, 2);
    s->owner = owner;
    s->on_msg = on_msg;
    s->on_end = on_end;
    int rc = rpcc_stream_start(a->core, app__method_service(method), app_method_name(method), req,
                               0, RPCC_MANUAL_FLOW, stream_msg_cb, stream_end_cb, s, &s->h);
    if (rc != RPCC_OK) {
        app_metrics_grpc(&a->m, method,
                         rc == RPCC_EBUSY || rc == RPCC_ECLOSED ? GRPC_STATUS_UNAVAILABLE
                                                                : GRPC_STATUS_INTERNAL);
        free(s);
        return rc;
    }
    if (APP_STREAM_WINDOW > 1) rpcc_stream_next(s->h, APP_STREAM_WINDOW - 1);
    *out = s;
    return RPCC_OK;
}

void app__stream_credit(app_stream *s, uint32_t n)
{
    if (s && s->h) rpcc_stream_next(s->h, n);
}

void app__stream_paced_credit(app_stream *s, const bnet_ws *ws)
{
    if (!s) return;
    if (ws && bnet_ws_queued(ws) >= BNET_WS_HIGH_WATER) {
        s->held++; /* at most APP_STREAM_WINDOW: one per message delivered */
        return;
    }
    app__stream_credit(s, 1 + s->held);
    s->held = 0;
}

void app__stream_resume(app_stream *s)
{
    if (!s || !s->held) return;
    app__stream_credit(s, s->held);
    s->held = 0;
}

uint64_t app__stream_delivered(const app_stream *s)
{
    return s ? s->delivered : 0;
}

void app__stream_detach(app_stream *s)
{
    if (!s) return;
    s->owner = NULL;
    if (s->h) {
        rpcc_stream_release(s->h);
        s->h = NULL;
    }
    stream_unref(s);
}

static void http_done(app_call *c)
{
    bnet_req *r = bnet_req_find(c->a->net, c->req_id);
    if (r) app__respond_call(c, r);
}

void app__call_http(app_ctx *a, bnet_req *r, app_route route, app_method method,
                    const ProtobufCMessage *req, int64_t timeout_ms)
{
    app__call_http_as(a, r, route, method, req, timeout_ms, NULL);
}

void app__call_http_as(app_ctx *a, bnet_req *r, app_route route, app_method method,
                       const ProtobufCMessage *req, int64_t timeout_ms, const char *caller)
{
    app_call *c = app__call_new(a, method, http_done);
    c->req_id = bnet_req_id(r);
    c->route = route;
    if (caller && *caller) {
        c->caller_key = APP_MD_CALLER;
        snprintf(c->caller, sizeof c->caller, "%s", caller);
    }
    app__call_start(c, req, timeout_ms);
}

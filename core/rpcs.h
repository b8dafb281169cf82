/* rpcs: a gRPC server on the C core (libgrpc) for protobuf-c services.
 *
 * There is no C stub generator, so the method table is built from
 * protoc-c's service descriptors plus the streaming kind of each method.
 * One completion queue is driven by cq_threads threads; accepted calls are
 * handed to a pool of handler threads so that a handler may block (SQLite,
 * waiting for a peer) without stalling I/O. Unknown methods are answered
 * UNIMPLEMENTED at once. Each call has a bounded send queue with at most one
 * send batch in flight; GRPC_WRITE_BUFFER_HINT is set while more messages
 * are queued. Client cancellation, deadlines and peer death are observed
 * through RECV_CLOSE_ON_SERVER, started when the call is accepted.
 *
 * Lifetimes: a call lives while gRPC holds it and while anyone holds a
 * reference (rpcs_call_ref). The handler's reference ends when it returns
 * unless it takes its own. All rpcs_call_* functions are thread-safe. */
#ifndef COMFYD_RPCS_H
#define COMFYD_RPCS_H

#include <grpc/grpc.h>
#include <grpc/status.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* Named limits. */
#define RPCS_MAX_MESSAGE_BYTES (4 * 1024 * 1024) /* larger requests: RESOURCE_EXHAUSTED */
#define RPCS_DEFAULT_MAX_QUEUED 1024 /* per streaming call, messages */
#define RPCS_DEFAULT_HANDLER_THREADS 4
#define RPCS_DEFAULT_GRACE_MS 2000 /* shutdown: time for streams to end */

typedef enum {
    RPCS_OK = 0,
    /* The call is over (finished, cancelled, deadline, peer gone). */
    RPCS_ECLOSED = -1,
    /* The call's send queue is full: the peer is not reading. */
    RPCS_EFULL = -2,
    RPCS_ENOMEM = -3,
    RPCS_EINVAL = -4,
    /* A listen address could not be bound. */
    RPCS_EBIND = -5,
    RPCS_EGRPC = -6,
} rpcs_err;

const char *rpcs_strerror(int err);

typedef enum {
    RPCS_UNARY = 1,
    RPCS_SERVER_STREAM = 2,
} rpcs_kind;

typedef struct rpcs rpcs;
typedef struct rpcs_call rpcs_call;

/* Runs on a handler thread. req is the unpacked request, owned by the call
 * and valid while the call is referenced. A unary handler must eventually
 * call rpcs_call_reply or rpcs_call_finish (it may do so later from another
 * thread after taking a reference). A streaming handler sends with
 * rpcs_call_send and ends with rpcs_call_finish. */
typedef void (*rpcs_handler)(rpcs_call *call, const ProtobufCMessage *req, void *ud);

/* Called once when the call ends for any reason, on a gRPC thread; must not
 * block. cancelled is 1 for a client cancel, deadline or peer death. */
typedef void (*rpcs_done_fn)(rpcs_call *call, int cancelled, void *ud);

typedef struct rpcs_method {
    const ProtobufCServiceDescriptor *service;
    const char *name; /* method name as in the proto, e.g. "CreateSession" */
    rpcs_kind kind;
    rpcs_handler handler;
    void *ud;
} rpcs_method;

typedef struct rpcs_opts {
    const char *const *listen; /* "unix:/path" or "host:port" */
    size_t n_listen;
    int cq_threads;      /* 0: 1 */
    int handler_threads; /* 0: RPCS_DEFAULT_HANDLER_THREADS */
    size_t max_queued;   /* 0: RPCS_DEFAULT_MAX_QUEUED */
    uint32_t grace_ms;   /* 0: RPCS_DEFAULT_GRACE_MS */
} rpcs_opts;

/* Creates, binds and starts the server. methods is copied. Returns RPCS_OK,
 * RPCS_EBIND (with the address logged), RPCS_EINVAL or RPCS_ENOMEM. Calls
 * grpc_init itself; rpcs_destroy calls grpc_shutdown_blocking. */
int rpcs_create(rpcs **out, const rpcs_opts *opts, const rpcs_method *methods, size_t n_methods);

/* Graceful shutdown: stop accepting, give open calls grace_ms to finish,
 * then cancel what is left. Blocks. Callers should first finish their
 * long-lived streams with UNAVAILABLE. Safe to call twice. */
void rpcs_shutdown(rpcs *s);
/* Shuts down if needed, joins every thread and frees everything. */
void rpcs_destroy(rpcs *s);

void rpcs_call_ref(rpcs_call *c);
void rpcs_call_unref(rpcs_call *c);

/* Unary: sends resp and status OK. RPCS_ECLOSED when the call is over. */
int rpcs_call_reply(rpcs_call *c, const ProtobufCMessage *resp);
/* Ends the call with a status (message is copied). For streams, queued
 * messages are sent first. */
int rpcs_call_finish(rpcs_call *c, grpc_status_code code, const char *message);
int rpcs_call_finishf(rpcs_call *c, grpc_status_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Streams: queues m (packed at once). RPCS_EFULL when max_queued messages
 * wait; RPCS_ECLOSED when the call is over. Never blocks. */
int rpcs_call_send(rpcs_call *c, const ProtobufCMessage *m);
/* Streams: queues already packed bytes (copied), e.g. for fan-out where one
 * packing serves many calls. Same results as rpcs_call_send. */
int rpcs_call_send_packed(rpcs_call *c, const void *data, size_t len);
/* Registers the end-of-call callback (replaces any earlier one). If the
 * call is already over, fn runs at once on the calling thread. */
void rpcs_call_on_done(rpcs_call *c, rpcs_done_fn fn, void *ud);
/* 1 once the call is over. */
int rpcs_call_closed(rpcs_call *c);
/* Milliseconds until the client's deadline, or INT64_MAX when none. */
int64_t rpcs_call_deadline_ms(rpcs_call *c);
/* The peer's address as gRPC reports it (copied into buf). */
void rpcs_call_peer(rpcs_call *c, char *buf, size_t len);
/* Number of messages waiting in the send queue. */
size_t rpcs_call_queued(rpcs_call *c);

#endif

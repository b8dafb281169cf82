/* rpcs: a gRPC server on the C core (libgrpc) for protobuf-c services.
 *
 * There is no C stub generator, so the method table is built from
 * protoc-c's service descriptors plus the streaming kind of each method.
 * One completion queue is driven by cq_threads threads; accepted calls are
 * handed to a pool of handler threads so that a handler may block (SQLite,
 * waiting for a peer) without stalling I/O, except those of RPCS_UNARY_ON_CQ
 * methods, which run on the completion-queue thread itself. Unknown methods are answered
 * UNIMPLEMENTED at once. Each call has a bounded send queue with at most one
 * send batch in flight; GRPC_WRITE_BUFFER_HINT is set while more messages
 * are queued. Client cancellation, deadlines and peer death are observed
 * through RECV_CLOSE_ON_SERVER, started when the call is accepted.
 *
 * Requests are unpacked with the method's input descriptor before the
 * handler runs: a malformed payload is answered INVALID_ARGUMENT "malformed
 * request", one above RPCS_MAX_MESSAGE_BYTES RESOURCE_EXHAUSTED, and the
 * handler is not called.
 *
 * Lifetimes: a call lives while gRPC holds it and while anyone holds a
 * reference (rpcs_call_ref). The handler's reference ends when it returns
 * unless it takes its own. A handler that returns without ending its call
 * and without keeping a reference is a bug; the call is then ended with
 * INTERNAL and an error is logged. All rpcs_call_* functions are
 * thread-safe; every rpcs_call* passed to them must be referenced by the
 * caller (inside a handler or an on_done callback it is).
 *
 * Unix socket addresses are guarded by an flock'd "<path>.lock" file, since
 * gRPC silently replaces a socket file another server is listening on; the
 * lock file is left in place. TCP listeners are bound without SO_REUSEPORT,
 * so a port in use is an error rather than shared. */
#ifndef COMFYD_RPCS_H
#define COMFYD_RPCS_H

#include "comfyd_error.h"
#include <grpc/grpc.h>
#include <grpc/status.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* Named limits. */
#define RPCS_MAX_MESSAGE_BYTES (4 * 1024 * 1024) /* larger requests: RESOURCE_EXHAUSTED */
#define RPCS_DEFAULT_MAX_QUEUED 1024             /* per streaming call, messages */
/* Per call, bytes queued or in flight: bounds what a slow reader pins. */
#define RPCS_DEFAULT_MAX_QUEUED_BYTES (8 * 1024 * 1024)
#define RPCS_DEFAULT_HANDLER_THREADS 4
#define RPCS_DEFAULT_GRACE_MS 2000   /* shutdown: time for streams to end */
#define RPCS_MAX_LISTEN 16           /* listen addresses per server */
#define RPCS_MAX_CQ_THREADS 8        /* more pollers than cores only add contention */
#define RPCS_MAX_HANDLER_THREADS 256 /* handlers that need more should stop blocking */
#define RPCS_MAX_STATUS_BYTES 1024   /* status text travels in a header (8 KiB metadata limit) */
#define RPCS_MAX_TRAILER_BYTES                                                                     \
    256 /* key or value of a trailing metadata entry (rpcs_call_finish_md) */

/* rpcs's codes: its band of the one error space (comfyd_error.h). */
typedef enum {
    RPCS_OK = CFD_OK,
    /* The call is over (finished, cancelled, deadline, peer gone). */
    RPCS_ECLOSED = CFD_ERR_RPCS_CLOSED,
    /* The call's send queue is full: the peer is not reading. */
    RPCS_EFULL = CFD_ERR_RPCS_FULL,
    RPCS_ENOMEM = CFD_ERR_NOMEM,
    RPCS_EINVAL = CFD_ERR_INVALID,
    /* A listen address could not be bound. */
    RPCS_EBIND = CFD_ERR_RPCS_BIND,
    RPCS_EGRPC = CFD_ERR_GRPC,
} rpcs_err;

typedef enum {
    RPCS_UNARY = 1,
    RPCS_SERVER_STREAM = 2,
    /* A unary method whose handler never blocks (no disk, no waiting for a
     * peer) and returns within microseconds: it runs on the completion-
     * queue thread that accepted the call, sparing the two thread hand-offs
     * of the pool. */
    RPCS_UNARY_ON_CQ = 3,
} rpcs_kind;

typedef struct rpcs rpcs;
typedef struct rpcs_call rpcs_call;

/* Runs on a handler thread. req is the unpacked request, owned by the call
 * and valid while the call is referenced. A unary handler must eventually
 * call rpcs_call_reply or rpcs_call_finish (it may do so later from another
 * thread after taking a reference). A streaming handler sends with
 * rpcs_call_send and ends with rpcs_call_finish. A streaming handler that
 * produces for the life of the stream should take a reference, hand the
 * call to its producer and return: blocking for the whole stream ties up a
 * pool thread. */
typedef void (*rpcs_handler)(rpcs_call *call, const ProtobufCMessage *req, void *ud);

/* Called once when the call ends for any reason, on a gRPC thread; must not
 * block and must not call rpcs_shutdown/rpcs_destroy. cancelled is 1 for a
 * client cancel, deadline or peer death, 0 when the status was sent. */
typedef void (*rpcs_done_fn)(rpcs_call *call, int cancelled, void *ud);

typedef struct rpcs_method {
    /* Borrowed; protoc-c descriptors are static. */
    const ProtobufCServiceDescriptor *service;
    const char *name; /* method name as in the proto, e.g. "CreateSession"; copied */
    rpcs_kind kind;
    rpcs_handler handler;
    void *ud; /* borrowed; must outlive the server */
} rpcs_method;

typedef struct rpcs_opts {
    const char *const *listen; /* "unix:/path" or "host:port"; copied */
    size_t n_listen;           /* 1..RPCS_MAX_LISTEN */
    int cq_threads;            /* 0: 1; at most RPCS_MAX_CQ_THREADS */
    int handler_threads;     /* 0: RPCS_DEFAULT_HANDLER_THREADS; at most RPCS_MAX_HANDLER_THREADS */
    size_t max_queued;       /* 0: RPCS_DEFAULT_MAX_QUEUED */
    uint32_t grace_ms;       /* 0: RPCS_DEFAULT_GRACE_MS */
    size_t max_queued_bytes; /* 0: RPCS_DEFAULT_MAX_QUEUED_BYTES */
} rpcs_opts;

/* Creates, binds and starts the server. methods is copied. Returns RPCS_OK,
 * RPCS_EBIND (with the address logged; also when another server holds a
 * unix socket's lock file), RPCS_EINVAL (bad options, a method not in its
 * service descriptor, a method listed twice), RPCS_ENOMEM or RPCS_EGRPC
 * (libgrpc refused a method registration or an accept). *out is NULL
 * on error. Calls grpc_init itself; rpcs_destroy calls
 * grpc_shutdown_blocking. */
int rpcs_create(rpcs **out, const rpcs_opts *opts, const rpcs_method *methods, size_t n_methods);

/* The TCP port bound for opts->listen[i] (useful with "127.0.0.1:0"); 0 for
 * unix sockets or when i is out of range. */
int rpcs_port(const rpcs *s, size_t i);

/* Graceful shutdown: stop accepting, end open server streams with
 * UNAVAILABLE "server shutting down" (after their queued messages), give
 * open calls grace_ms to finish, then cancel what is left. Blocks. Must not
 * run on a gRPC or handler thread. Safe to call twice. */
void rpcs_shutdown(rpcs *s);
/* Shuts down if needed, joins every thread and frees everything. Handler
 * threads are joined, so handlers must return once their calls are over.
 * Calls still referenced by the application stay valid (every function
 * answers RPCS_ECLOSED) until their last rpcs_call_unref. NULL is a no-op. */
void rpcs_destroy(rpcs *s);

void rpcs_call_ref(rpcs_call *c);
/* Drops a reference; the last one frees the call and its request. */
void rpcs_call_unref(rpcs_call *c);

/* Unary: sends resp and status OK as one batch. RPCS_ECLOSED when the call
 * is over or already answered; RPCS_EINVAL for a streaming call, a message
 * of another type than the method's output, or one larger than
 * RPCS_MAX_MESSAGE_BYTES (the caller should then finish with an error). */
int rpcs_call_reply(rpcs_call *c, const ProtobufCMessage *resp);
/* Ends the call with a status (message may be NULL; it is copied and cut
 * at RPCS_MAX_STATUS_BYTES). For streams, queued messages are sent first.
 * RPCS_ECLOSED when the call is over or already ended; RPCS_EINVAL for a
 * code out of range or GRPC_STATUS_OK on a unary call (use reply). */
int rpcs_call_finish(rpcs_call *c, grpc_status_code code, const char *message);
/* The same with one trailing metadata entry beside the status, for what a
 * client should read as data rather than out of the message text (e.g.
 * comfyd_error.h's CFD_MD_GRAPH_ERROR). md_key: a lower-case metadata key,
 * not "grpc-" and not "-bin"; md_value: printable ASCII; each at most
 * RPCS_MAX_TRAILER_BYTES (else RPCS_EINVAL). md_key NULL sends none. */
int rpcs_call_finish_md(rpcs_call *c, grpc_status_code code, const char *message,
                        const char *md_key, const char *md_value);
int rpcs_call_finishf(rpcs_call *c, grpc_status_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Streams: queues m (packed at once). RPCS_EFULL when max_queued messages
 * or max_queued_bytes wait (back off, e.g. rpcs_call_wait_writable, or end
 * the call); RPCS_ECLOSED when the call is over or finished: stop
 * producing. RPCS_EINVAL on a unary call, for a message of the wrong type
 * or one larger than RPCS_MAX_MESSAGE_BYTES. Never blocks. */
int rpcs_call_send(rpcs_call *c, const ProtobufCMessage *m);
/* Streams: queues already packed bytes (copied), e.g. for fan-out where one
 * packing serves many calls. Same results as rpcs_call_send; the bytes are
 * not checked against the output type. */
int rpcs_call_send_packed(rpcs_call *c, const void *data, size_t len);
/* Streams: waits until fewer than `below` messages are queued and a send
 * would be accepted. RPCS_OK then; RPCS_ECLOSED when the call is over or
 * finished; RPCS_EFULL when timeout_ms passed first (timeout_ms < 0 waits
 * without limit); RPCS_EINVAL when below is 0. */
int rpcs_call_wait_writable(rpcs_call *c, size_t below, int timeout_ms);
/* Registers the end-of-call callback (replaces any earlier one). If the
 * call is already over, fn runs at once on the calling thread. */
void rpcs_call_on_done(rpcs_call *c, rpcs_done_fn fn, void *ud);
/* 1 once the call is over. */
int rpcs_call_closed(rpcs_call *c);
/* Milliseconds until the client's deadline (0 once passed), or INT64_MAX
 * when none. */
int64_t rpcs_call_deadline_ms(rpcs_call *c);
/* The peer's address as gRPC reported it at accept, e.g. "ipv4:127.0.0.1:5"
 * (copied into buf, cut to len - 1 bytes). */
void rpcs_call_peer(rpcs_call *c, char *buf, size_t len);
/* The value of the request's metadata entry key (lower-case, as gRPC
 * delivers keys), copied into buf and cut to len - 1 bytes (terminated
 * when len > 0). Returns the value's full length, or -1 when the client
 * sent no such entry. */
long rpcs_call_metadata(rpcs_call *c, const char *key, char *buf, size_t len);
/* Number of messages queued or in flight. */
size_t rpcs_call_queued(rpcs_call *c);
/* The full method path, e.g. "/comfyd.v1.SessionService/Subscribe"; valid
 * while the server exists. */
const char *rpcs_call_method(rpcs_call *c);

#endif

/* rpcc: the bridge's asynchronous gRPC client on the C core (libgrpc) for
 * protobuf-c services.
 *
 * One client owns one long-lived channel to the core (insecure, keepalive,
 * 4 MiB messages), one completion queue and one thread draining it. Calls
 * are started from any thread; their callbacks run on that thread, one at
 * a time, and must not block: the bridge posts the result to its libuv
 * loop from them. Method paths ("/<service full name>/<method>") are built
 * from protoc-c service descriptors and registered with the channel once.
 *
 * Failing fast is the default: while the core is down, calls end with
 * UNAVAILABLE at once so the bridge can answer 503. RPCC_WAIT_FOR_READY
 * makes a call wait for a connection until its deadline instead.
 * Reconnecting is gRPC's own, with a backoff capped so that a restarted
 * core is found again within about a second.
 *
 * Rules that hold everywhere:
 * - Every rpcc_* function may be called from any thread, including from
 *   inside a callback, except rpcc_destroy (not from a callback: it waits
 *   for them).
 * - A start function that returns RPCC_OK calls its end callback (cb for
 *   unary, on_end for streams) exactly once, also when the call is
 *   cancelled or the client destroyed. A start function that returns an
 *   error calls nothing.
 * - Strings passed to callbacks are valid only while the callback runs.
 *   Messages passed to callbacks are owned by the callee: free them with
 *   protobuf_c_message_free_unpacked(msg, NULL).
 * - Callbacks may run before the start function has returned. */
#ifndef COMFYD_RPCC_H
#define COMFYD_RPCC_H

#include "comfyd_error.h"
#include <grpc/status.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* Named limits. */
#define RPCC_MAX_MESSAGE_BYTES (4 * 1024 * 1024) /* both ways; equals the core's limit */
#define RPCC_MAX_DETAILS_BYTES 1024              /* status text handed to callbacks is cut here */
#define RPCC_MAX_GRAPH_ERROR_BYTES 64            /* a GraphErrorCode name in trailing metadata */
#define RPCC_MAX_MD_BYTES 256     /* key or value of a metadata entry sent (rpcc_unary_md) */
#define RPCC_MAX_MD_ENTRIES 4     /* metadata entries sent with one call (rpcc_unary_mdv) */
#define RPCC_MAX_TARGET_BYTES 512 /* "unix:" paths are at most 108 bytes; host:port less */
#define RPCC_MAX_METHODS 128      /* registered paths per client: the contract has ~20 */
/* Calls in flight per client; the core takes 1024 streams per connection,
 * more would only queue inside the transport. */
#define RPCC_DEFAULT_MAX_CALLS 1024
#define RPCC_MAX_MAX_CALLS 65536
#define RPCC_DEFAULT_UNARY_TIMEOUT_MS 30000      /* a unary call without a deadline could hang */
#define RPCC_MAX_TIMEOUT_MS (24LL * 3600 * 1000) /* longer is an arithmetic slip */
/* Reconnect backoff: the first retry after 100 ms, growing to this cap. */
#define RPCC_DEFAULT_RECONNECT_MAX_MS 1000
#define RPCC_MAX_CREDITS 1048576 /* manual flow: grants beyond this are clamped */

/* rpcc's codes: its band of the one error space (comfyd_error.h). */
typedef enum {
    RPCC_OK = CFD_OK,
    /* A bad argument: NULL where a value is needed, a method the service
     * descriptor does not have, a request of another type than the
     * method's input, an unknown flag, a timeout out of range. */
    RPCC_EINVAL = CFD_ERR_INVALID,
    RPCC_ENOMEM = CFD_ERR_NOMEM,
    /* The client is being destroyed, or the stream has ended. */
    RPCC_ECLOSED = CFD_ERR_RPCC_CLOSED,
    /* max_calls calls are in flight: shed load (answer 503) and retry later. */
    RPCC_EBUSY = CFD_ERR_RPCC_BUSY,
    /* The packed request is larger than RPCC_MAX_MESSAGE_BYTES. */
    RPCC_ETOOBIG = CFD_ERR_RPCC_TOOBIG,
    /* gRPC refused to create or start the call (logged); a bug, not load. */
    RPCC_EGRPC = CFD_ERR_GRPC,
    /* More than RPCC_MAX_METHODS distinct methods were used. */
    RPCC_EMETHODS = CFD_ERR_RPCC_METHODS,
} rpcc_err;

/* cfd_strerror(err): kept for rpcc's callers. */
const char *rpcc_strerror(int err);

typedef enum {
    RPCC_IDLE = 0,
    RPCC_CONNECTING = 1,
    RPCC_READY = 2,
    RPCC_TRANSIENT_FAILURE = 3,
    RPCC_SHUTDOWN = 4,
} rpcc_state_t;

/* A static lower-case name ("idle", "ready", ...). */
const char *rpcc_state_name(rpcc_state_t st);

/* Per-call flags. */
#define RPCC_WAIT_FOR_READY 0x1u /* wait for a connection until the deadline */
/* Streams only: deliver a message only against a credit granted with
 * rpcc_stream_next; the stream starts with one credit. */
#define RPCC_MANUAL_FLOW 0x2u

typedef struct rpcc rpcc;
typedef struct rpcc_stream rpcc_stream;

typedef struct rpcc_opts {
    uint32_t max_calls;        /* 0: RPCC_DEFAULT_MAX_CALLS; at most RPCC_MAX_MAX_CALLS */
    uint32_t reconnect_max_ms; /* 0: RPCC_DEFAULT_RECONNECT_MAX_MS; 100..600000 */
} rpcc_opts;

/* Ends a unary call. code is the call's status (GRPC_STATUS_OK or an error;
 * a status outside the known codes is reported as GRPC_STATUS_UNKNOWN).
 * details is never NULL (maybe ""), cut at RPCC_MAX_DETAILS_BYTES, valid
 * during the call. resp is the response unpacked with the method's output
 * descriptor when code is OK, else NULL; the callee owns it. An OK status
 * without a response, or with one that does not unpack, is reported as
 * GRPC_STATUS_INTERNAL. When the client is destroyed first, code is
 * GRPC_STATUS_CANCELLED. graph_error is the GraphErrorCode name a failed
 * call carried in its trailing metadata (CFD_MD_GRAPH_ERROR, e.g.
 * "GRAPH_ERROR_CODE_NO_LIVE_CANVAS"), or NULL when it carried none or one
 * that is not a plain name (upper-case letters, digits and '_', at most
 * RPCC_MAX_GRAPH_ERROR_BYTES); valid during the call. Runs on the client's
 * thread; must not block. */
typedef void (*rpcc_unary_cb)(void *ud, grpc_status_code code, const char *details,
                              const char *graph_error, ProtobufCMessage *resp);

/* One message of a server stream, unpacked with the method's output
 * descriptor and owned by the callee. Messages arrive in order. Runs on the
 * client's thread; must not block. */
typedef void (*rpcc_msg_cb)(void *ud, ProtobufCMessage *msg);

/* The end of a stream, called once after the last on_msg has returned. code
 * and details as for rpcc_unary_cb: OK when the server finished the stream
 * normally, CANCELLED after rpcc_stream_cancel/rpcc_stream_release or
 * rpcc_destroy, DEADLINE_EXCEEDED after timeout_ms, UNAVAILABLE when the
 * core is unreachable or went away, INTERNAL for a message that does not
 * unpack. Runs on the client's thread; must not block. */
typedef void (*rpcc_end_cb)(void *ud, grpc_status_code code, const char *details);

/* Creates the client for target ("unix:/path" or "host:port"; copied) and
 * starts its thread. opts may be NULL for defaults. No connection is made
 * yet: the first call or rpcc_state does that. Calls grpc_init (counted with
 * every other user); rpcc_destroy calls grpc_shutdown_blocking. Returns
 * RPCC_OK, RPCC_EINVAL (empty or overlong target, options out of range),
 * RPCC_ENOMEM or RPCC_EGRPC; *out is NULL on error. */
int rpcc_create(rpcc **out, const char *target, const rpcc_opts *opts);

/* Cancels every call in flight (each still gets its end callback exactly
 * once, with CANCELLED "client shutting down"), waits for those callbacks
 * to return, joins the thread and frees the channel and queue. Start
 * functions called meanwhile return RPCC_ECLOSED. Stream handles not yet
 * released stay valid (every function answers RPCC_ECLOSED) until
 * rpcc_stream_release. Must not be called from a callback (it aborts: it
 * would wait for itself). NULL is a no-op. */
void rpcc_destroy(rpcc *c);

/* The channel's connectivity, for /healthz. Asks the channel to connect
 * when it is idle, so polling this also keeps a reconnect going. Not to be
 * called once rpcc_destroy has begun; RPCC_SHUTDOWN for NULL. */
rpcc_state_t rpcc_state(rpcc *c);

/* Starts a unary call of method `method` (name as in the proto, e.g.
 * "ListSkills") of service svc (a protoc-c descriptor; static). req is
 * packed (copied) before this returns; its type must be the method's input.
 * timeout_ms: 0 for RPCC_DEFAULT_UNARY_TIMEOUT_MS, else 1..RPCC_MAX_TIMEOUT_MS.
 * flags: 0 or RPCC_WAIT_FOR_READY. cb (required) gets the result, ud is
 * passed through (borrowed until cb returns). Returns RPCC_OK (cb will be
 * called), RPCC_EINVAL, RPCC_ETOOBIG, RPCC_EBUSY, RPCC_ECLOSED,
 * RPCC_EMETHODS, RPCC_ENOMEM or RPCC_EGRPC (cb will not be called). */
int rpcc_unary(rpcc *c, const ProtobufCServiceDescriptor *svc, const char *method,
               const ProtobufCMessage *req, int64_t timeout_ms, unsigned flags, rpcc_unary_cb cb,
               void *ud);

/* rpcc_unary with one metadata entry sent with the request (md_key NULL:
 * none), e.g. the name of the client the bridge calls for. md_key: lower-case
 * letters, digits, '-', '_', '.', not "grpc-..." nor "...-bin"; md_value:
 * printable ASCII (may be empty); each at most RPCC_MAX_MD_BYTES, else
 * RPCC_EINVAL. */
int rpcc_unary_md(rpcc *c, const ProtobufCServiceDescriptor *svc, const char *method,
                  const ProtobufCMessage *req, int64_t timeout_ms, unsigned flags,
                  const char *md_key, const char *md_value, rpcc_unary_cb cb, void *ud);

/* rpcc_unary_md with up to RPCC_MAX_MD_ENTRIES entries: md holds n_md
 * key/value pairs (md[2i] the key, md[2i+1] the value), each checked as for
 * rpcc_unary_md; more entries, or a bad one, is RPCC_EINVAL. The core uses
 * it to pass a caller's name on together with its own marker when it
 * forwards a graph command to another core. */
int rpcc_unary_mdv(rpcc *c, const ProtobufCServiceDescriptor *svc, const char *method,
                   const ProtobufCMessage *req, int64_t timeout_ms, unsigned flags,
                   const char *const *md, size_t n_md, rpcc_unary_cb cb, void *ud);

/* Starts a server-streaming call; arguments as for rpcc_unary, except:
 * timeout_ms 0 means no deadline; flags may add RPCC_MANUAL_FLOW. on_msg
 * and on_end are required; ud is borrowed until on_end returns.
 *
 * Flow control: by default the next message is requested as soon as one
 * arrives. With RPCC_MANUAL_FLOW a message is only requested against a
 * credit (one at the start, more with rpcc_stream_next). A consumer that
 * stops granting stops reading: HTTP/2 flow control then stops the server,
 * whose own send queue is bounded. Nothing is buffered here.
 *
 * On RPCC_OK, *out is a handle owned by the caller, valid until the caller
 * passes it to rpcc_stream_release, before or after on_end (also after
 * rpcc_destroy). Each handle must be released exactly once. On error *out
 * is NULL and nothing is called. */
int rpcc_stream_start(rpcc *c, const ProtobufCServiceDescriptor *svc, const char *method,
                      const ProtobufCMessage *req, int64_t timeout_ms, unsigned flags,
                      rpcc_msg_cb on_msg, rpcc_end_cb on_end, void *ud, rpcc_stream **out);

/* Manual flow: grants n more messages (the total is clamped at
 * RPCC_MAX_CREDITS). Returns RPCC_OK (also for a stream without
 * RPCC_MANUAL_FLOW, where it does nothing), RPCC_EINVAL for n == 0 or a
 * NULL stream, RPCC_ECLOSED once the stream has ended. */
int rpcc_stream_next(rpcc_stream *s, uint32_t n);

/* Cancels the stream. Returns RPCC_OK when the stream was running: on_end
 * follows, with CANCELLED unless a status already on its way wins the
 * race. RPCC_ECLOSED when the stream had ended or its status was in;
 * RPCC_EINVAL for NULL. */
int rpcc_stream_cancel(rpcc_stream *s);

/* Gives up the caller's handle. A stream that has not ended is cancelled
 * first; its on_end still comes. NULL is a no-op. */
void rpcc_stream_release(rpcc_stream *s);

#endif

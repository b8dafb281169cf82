/* bnet: the network layer of comfyd-bridge. One TCP port (127.0.0.1:8189 by
 * default) serves HTTP/1.1, HTTP/2 without TLS (h2c, by prior knowledge or
 * by "Upgrade: h2c") and WebSocket (RFC 6455 upgrade over HTTP/1.1) on a
 * libuv loop. The application registers handlers for (method, path) or a
 * path prefix and for WebSocket paths; it never sees the protocol.
 *
 * Security (see net_policy.h for the rules): every request and upgrade is
 * checked for Host, Origin and bearer token before a handler runs; header,
 * body, message, queue and connection limits and the idle, header and body
 * timeouts are always on (bnet_limits).
 *
 * Threads: every bnet_* function must be called on the loop thread, except
 * bnet_post, which any thread may call. Handlers and callbacks run on the
 * loop thread. To hand results from other threads (gRPC completion queues)
 * back, bnet_post a function and look the object up by id there
 * (bnet_req_find, bnet_ws_find): the client may have gone in the meantime.
 *
 * Lifetimes:
 * - bnet: from bnet_create to bnet_destroy. bnet_stop begins shutdown;
 *   uv_run returns once every handle is closed; then bnet_destroy.
 * - bnet_req: created for each request and passed to its handler. It stays
 *   valid until the response is complete (bnet_respond, or bnet_stream_end
 *   after bnet_stream_start) or until the request is aborted (client gone,
 *   stream reset, server stopping): the abort callback (bnet_req_set_abort)
 *   is then called once and the request is freed when it returns. Keep a
 *   request alive as long as needed, e.g. across a gRPC call; respond
 *   exactly once. A request that is never answered is freed only when its
 *   connection ends.
 * - bnet_ws: valid from on_open until on_close returns. on_close is called
 *   exactly once for every opened WebSocket, whatever the reason.
 * - Strings returned by accessors are owned by the object and valid as long
 *   as it is. Data passed to bnet (bodies, messages, headers) is copied. */
#ifndef COMFYD_BNET_H
#define COMFYD_BNET_H

#include "comfyd_error.h"
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct bnet bnet;
typedef struct bnet_req bnet_req;
typedef struct bnet_ws bnet_ws;

/* bnet's codes: its band of the one error space (comfyd_error.h). */
typedef enum {
    BNET_OK = CFD_OK,
    /* The object cannot do this now: already answered, not streaming, or
     * the call is not allowed in this callback. */
    BNET_E_STATE = CFD_ERR_NET_STATE,
    /* A per-connection or per-stream output limit was reached: nothing was
     * queued (a WebSocket is being closed with 1008: its hard limit,
     * ws_max_queue, above the back-pressure marks below). */
    BNET_E_FULL = CFD_ERR_NET_FULL,
    /* The connection or WebSocket is closing or gone. */
    BNET_E_CLOSED = CFD_ERR_NET_CLOSED,
    /* The server is stopping: bnet_post refused the function. */
    BNET_E_STOPPED = CFD_ERR_NET_STOPPED,
    /* Invalid argument: status out of range, invalid header, bad UTF-8. */
    BNET_E_ARG = CFD_ERR_INVALID,
    /* A route for this method and path exists already. */
    BNET_E_EXISTS = CFD_ERR_NET_EXISTS,
    /* Could not bind or listen (details are logged). */
    BNET_E_LISTEN = CFD_ERR_NET_LISTEN,
    /* The token file cannot be used (details are logged). */
    BNET_E_TOKEN = CFD_ERR_NET_TOKEN,
    BNET_E_NOMEM = CFD_ERR_NOMEM,
} bnet_err;

/* Static text for a bnet_err. */
const char *bnet_strerror(int err);

typedef enum { BNET_HTTP1 = 1, BNET_H2 = 2 } bnet_proto;

typedef struct bnet_header {
    const char *name;
    const char *value;
} bnet_header;

/* Most extra headers one response may carry. */
#define BNET_MAX_EXTRA_HEADERS 32

typedef struct bnet_limits {
    /* Open connections; one more is answered 503 and closed (unless an
     * unauthenticated one can make room, see below). */
    size_t max_connections;
    /* Connections that have not yet presented a valid token (the budget
     * is part of max_connections, and is cut to it). When a new connection
     * finds the budget or the total full, the oldest unauthenticated
     * connection with no request in progress is closed to make room; when
     * none can be, the newcomer is answered 503. So idle sockets opened
     * without the token cannot starve callers that have it. */
    size_t max_unauth_connections;
    /* An unauthenticated connection is closed this long after it was
     * accepted: a valid request with the token must come first. */
    uint64_t handshake_timeout_ms;
    /* Work an application runs for one connection's requests beyond their
     * answers (calls to the core, bnet_req_charge), also after the client
     * reset them: one connection cannot hold more. */
    size_t conn_max_charges;
    size_t max_header_bytes; /* request line + headers; HTTP/2 header list */
    size_t max_headers;      /* header fields per request */
    size_t max_url;          /* request-target bytes */
    size_t max_body;         /* request body bytes (413 beyond) */
    /* Request body bytes on BNET_ROUTE_UPLOAD routes (413 beyond); the
     * parsers read up to the larger of the two, other routes answer 413
     * above max_body. */
    size_t max_upload_body;
    size_t ws_max_message;      /* WebSocket message from a peer (1009 beyond) */
    size_t ws_max_queue;        /* WebSocket bytes queued to a peer (1008 beyond) */
    size_t write_high_water;    /* pending output per connection; reading stops above */
    size_t stream_max_pending;  /* unsent bytes per streamed response (BNET_E_FULL) */
    size_t max_pipeline;        /* HTTP/1.1 requests parsed ahead of their answer */
    uint32_t h2_max_streams;    /* concurrent HTTP/2 streams per connection */
    uint64_t header_timeout_ms; /* a request head must arrive within (408) */
    uint64_t body_timeout_ms;   /* then its body within (408) */
    uint64_t idle_timeout_ms;   /* keep-alive and idle HTTP/2 connections */
    uint64_t ws_ping_ms; /* ping an idle WebSocket; close if the next interval is silent; 0 off */
    uint64_t linger_ms;  /* read-and-discard after our FIN, and close-handshake wait */
} bnet_limits;

typedef struct bnet_opts {
    const char *host; /* listen address (IPv4 or IPv6 literal); default 127.0.0.1 */
    int port;         /* default 8189; 0 picks a free port (see bnet_port) */
    /* Bearer token source: a token file (created with mode 0600 if missing)
     * or, for tests, the token itself. One of them is required. */
    const char *token_file;
    const char *token;
    const char *const *allow_hosts; /* extra Host names ("name" or "name:port") */
    size_t n_allow_hosts;
    const char *const *allow_origins; /* extra allowed Origins */
    size_t n_allow_origins;
    bnet_limits limits;
} bnet_opts;

/* Fills o with the defaults (limits from the BNET_DEFAULT_* values in
 * bnet.c: 256 connections of which 64 unauthenticated, a 10 s handshake
 * deadline, 100 charges per connection, 16 KiB headers, 1 MiB bodies and
 * messages, 4 MiB WebSocket queue, 10 s header timeout, 60 s body and idle
 * timeouts). */
void bnet_opts_init(bnet_opts *o);

/* Loads the token, binds and listens on loop (not owned). opts is copied.
 * Returns BNET_OK, BNET_E_ARG, BNET_E_TOKEN, BNET_E_LISTEN or
 * BNET_E_NOMEM. *out is owned by the caller (bnet_destroy). Ignores SIGPIPE
 * for the process: a peer closing early must not kill the bridge. */
int bnet_create(bnet **out, uv_loop_t *loop, const bnet_opts *opts);
/* The port actually listened on. */
int bnet_port(const bnet *s);
/* Begins shutdown: stops listening, aborts open requests (abort callbacks),
 * closes WebSockets with 1001 (on_close callbacks), runs functions still
 * posted, and closes every connection after at most linger_ms. Safe to call
 * twice and from handlers. */
void bnet_stop(bnet *s);
/* Frees s: stops it if needed and runs the loop until bnet's own handles
 * are closed (at most about linger_ms). Call it outside the loop's
 * callbacks, typically after uv_run returned, and only once no thread can
 * call bnet_post any more. */
void bnet_destroy(bnet *s);

/* ---- routing ---- */

typedef void (*bnet_handler)(bnet_req *req, void *ud);

typedef enum {
    /* path is a prefix ("/comfy/graph/" matches "/comfy/graph/x"); the
     * longest matching prefix wins, exact routes win over prefixes. */
    BNET_ROUTE_PREFIX = 1 << 0,
    /* No bearer token needed (Host and Origin are still checked): for
     * /healthz and the like. */
    BNET_ROUTE_PUBLIC = 1 << 1,
    /* Bodies up to limits.max_upload_body (file uploads). */
    BNET_ROUTE_UPLOAD = 1 << 2,
} bnet_route_flag;

/* Registers fn for method ("GET", "POST"...; NULL for any) and path (raw,
 * percent-encoded form as sent). method and path are copied; ud is passed
 * to fn. Paths matched but not for this method answer 405 with Allow,
 * unmatched paths 404. Returns BNET_OK, BNET_E_EXISTS, BNET_E_ARG or
 * BNET_E_NOMEM. */
int bnet_route(bnet *s, const char *method, const char *path, unsigned flags, bnet_handler fn,
               void *ud);

/* Back-pressure on a WebSocket whose peer reads slowly. Once the bytes
 * waiting to be written to it (bnet_ws_queued) reach BNET_WS_HIGH_WATER, a
 * producer should hold back (stop granting stream credit) until on_drain,
 * which comes once they fall below BNET_WS_LOW_WATER. The hard limit
 * (ws_max_queue, 1008) stays for producers that do not hold back. */
/* A few large events or one large answer: bursts pass without pausing. */
#define BNET_WS_HIGH_WATER (256 * 1024)
/* A quarter of the high mark: resuming refills before the peer runs dry,
 * without waking the producer for every frame written. */
#define BNET_WS_LOW_WATER (64 * 1024)

typedef struct bnet_ws_handlers {
    /* Optional: decide before the 101 (req is valid during the call).
     * Return 0 to accept or an HTTP status >= 400 to refuse with it. */
    int (*on_upgrade)(const bnet_req *req, void *ud);
    /* The WebSocket is open; req (the upgrade request) is valid only during
     * the call. */
    void (*on_open)(bnet_ws *ws, const bnet_req *req, void *ud);
    /* A complete message; text (binary == 0) is valid UTF-8. data is valid
     * during the call. */
    void (*on_message)(bnet_ws *ws, int binary, const void *data, size_t len, void *ud);
    /* The WebSocket ended: the peer's close code (1005 without one), the
     * code we closed with (1002 protocol error, 1007 bad UTF-8, 1008 send
     * queue full, 1009 too big, 1001 server stopping, or the application's),
     * or 1006 when the connection dropped. ws is freed after the call. */
    void (*on_close)(bnet_ws *ws, uint16_t code, const char *reason, size_t reason_len, void *ud);
    /* Optional: the output queued for ws, having reached
     * BNET_WS_HIGH_WATER, fell below BNET_WS_LOW_WATER (once per such
     * episode, on the loop, outside other bnet calls; bnet_ws_send and
     * bnet_ws_close may be called). Not called once ws is closing. */
    void (*on_drain)(bnet_ws *ws, void *ud);
} bnet_ws_handlers;

/* Registers a WebSocket endpoint at path (flags: BNET_ROUTE_PREFIX,
 * BNET_ROUTE_PUBLIC). h is copied. A plain HTTP/1.1 request to the path is
 * answered 426, an HTTP/2 one 400 (RFC 8441 is not offered). Returns as
 * bnet_route. */
int bnet_route_ws(bnet *s, const char *path, unsigned flags, const bnet_ws_handlers *h, void *ud);

/* ---- requests ---- */

const char *bnet_req_method(const bnet_req *r);
/* The raw (percent-encoded) path, without the query. */
const char *bnet_req_path(const bnet_req *r);
/* The raw query after '?', "" when none. On WebSocket upgrades it may hold
 * the token: never log it. */
const char *bnet_req_query(const bnet_req *r);
/* First header called name (case-insensitive), NUL-terminated; NULL when
 * absent. *len (may be NULL) receives its length. */
const char *bnet_req_header(const bnet_req *r, const char *name, size_t *len);
size_t bnet_req_header_count(const bnet_req *r);
/* i-th header in arrival order; returns 0 or BNET_E_ARG. */
int bnet_req_header_at(const bnet_req *r, size_t i, const char **name, const char **value);
/* Percent-decodes the first query parameter called name into out (NUL
 * terminated; '+' stays '+'). Returns its length, -1 when absent, or
 * BNET_E_ARG when it does not fit in cap or holds a bad escape or NUL. */
long bnet_req_query_param(const bnet_req *r, const char *name, char *out, size_t cap);
/* The request body ("" with length 0 when none). */
const void *bnet_req_body(const bnet_req *r, size_t *len);
bnet_proto bnet_req_proto(const bnet_req *r);
/* "127.0.0.1:53211" or "[::1]:53211". */
const char *bnet_req_peer(const bnet_req *r);
/* Unique (per bnet) non-zero id, for lookups from bnet_post functions. */
uint64_t bnet_req_id(const bnet_req *r);
/* The live request with this id, or NULL when it was answered or aborted. */
bnet_req *bnet_req_find(bnet *s, uint64_t id);
/* Application pointer, NULL until set. */
void bnet_req_set_data(bnet_req *r, void *data);
void *bnet_req_data(const bnet_req *r);
/* fn is called once if the request dies before it is complete; the request
 * is freed when fn returns and no bnet_respond* call may be made in fn. */
void bnet_req_set_abort(bnet_req *r, void (*fn)(bnet_req *r, void *ud), void *ud);

/* Charges one unit of work (a call to the core) to r's connection, which
 * holds at most conn_max_charges. Returns BNET_OK and *conn (hand it to
 * bnet_discharge when the work is done, whatever became of r), or
 * BNET_E_FULL: the connection has that much work running already (answer
 * 503). */
int bnet_req_charge(bnet_req *r, uint64_t *conn);
/* Releases a charge; a no-op when the connection is gone. */
void bnet_discharge(bnet *s, uint64_t conn);

/* Sends a complete response and frees r. content_type may be NULL; extra
 * may be NULL (at most BNET_MAX_EXTRA_HEADERS); Content-Length, Date and
 * connection headers are set by bnet. body is copied (NULL when len 0).
 * Returns BNET_OK, BNET_E_STATE (already answered or streaming; r is
 * unchanged), BNET_E_ARG (status outside 200-599 or invalid header; r is
 * unchanged) or BNET_E_NOMEM (r is unchanged). */
int bnet_respond(bnet_req *r, int status, const char *content_type, const bnet_header *extra,
                 size_t n_extra, const void *body, size_t len);
/* bnet_respond with {"error":"message"} as application/json. */
int bnet_respond_error(bnet_req *r, int status, const char *message);
/* Starts a streamed response (Server-Sent Events: content type
 * "text/event-stream"): chunked encoding over HTTP/1.1, DATA frames over
 * HTTP/2. Returns as bnet_respond; BNET_E_ARG also for an HTTP/1.0 client. */
int bnet_stream_start(bnet_req *r, int status, const char *content_type, const bnet_header *extra,
                      size_t n_extra);
/* Queues data (copied). Returns BNET_OK, BNET_E_STATE (not streaming),
 * BNET_E_FULL (more than stream_max_pending bytes unsent: nothing queued;
 * the client is not keeping up) or BNET_E_NOMEM. */
int bnet_stream_write(bnet_req *r, const void *data, size_t len);
/* Ends the stream after the queued data and frees r. Returns BNET_OK or
 * BNET_E_STATE. */
int bnet_stream_end(bnet_req *r);

/* ---- WebSockets ---- */

/* What bnet_ws_send's binary says: a text message (checked: not UTF-8 is
 * BNET_E_ARG), a binary one, or a text the caller has already checked is
 * UTF-8 (not scanned again). */
enum { BNET_WS_TEXT = 0, BNET_WS_BINARY = 1, BNET_WS_TEXT_CHECKED = 2 };
/* Queues a message (copied). Text must be UTF-8. Returns BNET_OK,
 * BNET_E_CLOSED (closing), BNET_E_FULL (queue limit passed: the WebSocket is
 * being closed with 1008 "send queue full"; on_close follows), BNET_E_ARG or
 * BNET_E_NOMEM. */
int bnet_ws_send(bnet_ws *ws, int binary, const void *data, size_t len);
/* Starts the close handshake with code and reason (may be NULL, cut to 123
 * bytes). on_close follows once the peer answers or after linger_ms.
 * Returns BNET_OK, BNET_E_CLOSED or BNET_E_ARG (invalid code). */
int bnet_ws_close(bnet_ws *ws, uint16_t code, const char *reason);
/* Bytes queued for the peer and not yet written to the socket: messages
 * and frames of ws plus the connection's pending output. */
size_t bnet_ws_queued(const bnet_ws *ws);
uint64_t bnet_ws_id(const bnet_ws *ws);
/* The open WebSocket with this id, or NULL. */
bnet_ws *bnet_ws_find(bnet *s, uint64_t id);
const char *bnet_ws_peer(const bnet_ws *ws);
void bnet_ws_set_data(bnet_ws *ws, void *data);
void *bnet_ws_data(const bnet_ws *ws);

/* ---- threads ---- */

/* Runs fn(ud) on the loop thread soon, in posting order. Thread-safe.
 * Returns BNET_OK, BNET_E_STOPPED (bnet_stop ran: fn will not run and ud
 * stays the caller's) or BNET_E_NOMEM. Functions posted before bnet_stop
 * still run (during it). */
int bnet_post(bnet *s, void (*fn)(void *ud), void *ud);

/* ---- counters ---- */

typedef struct bnet_stats {
    uint64_t connections_open;    /* gauge */
    uint64_t connections_total;   /* accepted */
    uint64_t connections_refused; /* over max_connections or the unauthenticated budget */
    uint64_t connections_evicted; /* unauthenticated, closed to make room */
    uint64_t connections_unauth;  /* gauge: open without a valid token yet */
    uint64_t handshake_timeouts;  /* unauthenticated past handshake_timeout_ms */
    uint64_t h2_calmed;           /* HTTP/2 connections ended for rapid reset */
    uint64_t charges_refused;     /* work refused: conn_max_charges reached */
    uint64_t requests_total;      /* handed to handlers or answered by bnet */
    uint64_t requests_h2;
    uint64_t requests_rejected; /* policy, limit or parse failures */
    uint64_t ws_open;           /* gauge */
    uint64_t ws_messages_in;
    uint64_t ws_messages_out;
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t bytes_queued; /* gauge: output not yet written, all connections */
    uint64_t timeouts;
} bnet_stats;

void bnet_get_stats(const bnet *s, bnet_stats *out);

#endif

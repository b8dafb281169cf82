/* net_h2: the HTTP/2 (h2c) protocol core of the bridge: an nghttp2 server
 * session driven through mem_recv (net_h2_feed) and a send callback
 * (net_h2_flush). Each request stream becomes a net_msg shaped exactly like
 * an HTTP/1.1 request. Responses are whole bodies or open-ended streams
 * (Server-Sent Events) fed chunk by chunk. No sockets, no timers.
 *
 * Uses the nghttp2 API from before 1.60 (Debian 12 ships 1.52) with its
 * flood limits set explicitly. Not thread-safe; nghttp2 must not be
 * re-entered, so net_h2_flush may not be called from inside a callback of
 * net_h2_feed (the server loop flushes after feeding). */
#ifndef COMFYD_NET_H2_H
#define COMFYD_NET_H2_H

#include "net_msg.h"

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

/* Concurrent streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS);
 * nghttp2's default is unlimited. */
#define NET_H2_MAX_STREAMS 100
/* SETTINGS_MAX_HEADER_LIST_SIZE, enforced here too: as for HTTP/1.1. */
#define NET_H2_MAX_HEADER_LIST (16 * 1024)
/* Header fields per request, as for HTTP/1.1. */
#define NET_H2_MAX_HEADERS 64
/* Request body bytes per stream, as for HTTP/1.1. */
#define NET_H2_MAX_BODY (1024 * 1024)
/* Body bytes of a rejected request (413...) read and dropped before the
 * stream is reset: lets clients that finish their upload see the answer. */
#define NET_H2_DISCARD_MAX (8 * 1024 * 1024)
/* Initial stream and connection receive window: the default 64 KiB would
 * throttle a 1 MiB upload to many round trips. */
#define NET_H2_WINDOW (1024 * 1024)

typedef struct net_h2 net_h2;

typedef enum {
    NET_H2_OK = CFD_OK,
    /* The peer broke the protocol; nghttp2 queued GOAWAY. Flush, then close. */
    NET_H2_E_PROTO = CFD_ERR_NET_H2_PROTO,
    /* No such open stream, or it already has a response. */
    NET_H2_E_STREAM = CFD_ERR_NET_H2_STREAM,
    /* Invalid argument: status out of range, invalid header field. */
    NET_H2_E_ARG = CFD_ERR_INVALID,
    /* nghttp2 failed for another reason; close the connection. */
    NET_H2_E_FATAL = CFD_ERR_NET_H2_FATAL,
    NET_H2_E_NOMEM = CFD_ERR_NOMEM,
} net_h2_err;

typedef struct net_h2_limits {
    uint32_t max_streams;
    uint32_t max_header_list;
    size_t max_headers;
    size_t max_body;
    uint32_t window;
} net_h2_limits;

void net_h2_limits_default(net_h2_limits *l);

typedef struct net_h2_callbacks {
    /* Head of a request stream complete and valid. m is borrowed. Return 0
     * to read the body, or an HTTP status >= 400: the stream is answered
     * with {"error":...} (text from error_text, may be NULL; a 401 also
     * gets WWW-Authenticate: Bearer) and never delivered. May be NULL. */
    int (*on_head)(int32_t sid, net_msg *m, const char **error_text, void *ud);
    /* A complete request; m is owned by the callee. The return value is
     * stored as the stream's application pointer (may be NULL). */
    void *(*on_request)(int32_t sid, net_msg *m, void *ud);
    /* A stream with a non-NULL application pointer closed (finished, reset
     * by the peer, or connection ending). The pointer is not used again. */
    void (*on_stream_close)(int32_t sid, void *app, void *ud);
    /* Output: take all len bytes (copy them) and return 0, or return 1 to
     * refuse them while the output is full; net_h2_flush retries later. */
    int (*send)(const uint8_t *data, size_t len, void *ud);
} net_h2_callbacks;

/* Creates a server session and queues our SETTINGS. limits may be NULL
 * (defaults); cb and ud are borrowed for the lifetime of h. Returns 0,
 * NET_H2_E_NOMEM or NET_H2_E_FATAL. */
int net_h2_create(net_h2 **out, const net_h2_limits *limits, const net_h2_callbacks *cb, void *ud);
/* Ends the session. on_stream_close is called for every stream that still
 * has an application pointer. */
void net_h2_destroy(net_h2 *h);

/* HTTP/1.1 Upgrade: h2c. settings is the HTTP2-Settings header value
 * (base64url); req is the complete upgrade request (ownership passes to h,
 * also on error) and becomes stream 1. It is delivered through on_request
 * once the client's connection preface and SETTINGS have arrived, so no
 * response data is glued to the 101. Returns 0, NET_H2_E_ARG (bad
 * HTTP2-Settings: answer 400), NET_H2_E_NOMEM or NET_H2_E_FATAL. */
int net_h2_upgrade(net_h2 *h, net_str settings, net_msg *req);

/* Processes received bytes. Callbacks run from inside. Returns 0,
 * NET_H2_E_PROTO (flush the GOAWAY, then close), NET_H2_E_NOMEM or
 * NET_H2_E_FATAL. Besides nghttp2's own checks, a HEADERS frame that
 * would open a stream numerically below one the client already opened is
 * a connection error PROTOCOL_ERROR (RFC 9113 section 5.1.1). nghttp2
 * ignores such frames on purpose, because a client may still send trailers
 * for a stream the server already reset; the bridge's clients send no
 * trailers, so a HEADERS frame for a stream that is not open any more is
 * treated as the error the RFC names. */
int net_h2_feed(net_h2 *h, const uint8_t *data, size_t len);
/* Sends queued frames through the send callback until it refuses. Returns
 * 0, NET_H2_E_NOMEM or NET_H2_E_FATAL. */
int net_h2_flush(net_h2 *h);

/* Submits a complete response on stream sid. fields (names any case; they
 * are lower-cased; connection-specific ones are refused) and body are
 * copied. Returns 0, NET_H2_E_STREAM, NET_H2_E_ARG or NET_H2_E_NOMEM. */
int net_h2_respond(net_h2 *h, int32_t sid, int status, const net_field *fields, size_t nfields,
                   const void *body, size_t len);
/* Starts an open-ended response; data follows with net_h2_stream_write and
 * ends with net_h2_stream_end. Same returns as net_h2_respond. */
int net_h2_stream_start(net_h2 *h, int32_t sid, int status, const net_field *fields,
                        size_t nfields);
/* Appends data (copied) to a started stream. Returns 0, NET_H2_E_STREAM or
 * NET_H2_E_NOMEM. */
int net_h2_stream_write(net_h2 *h, int32_t sid, const void *data, size_t len);
/* Ends a started stream after its buffered data. Returns 0 or
 * NET_H2_E_STREAM. */
int net_h2_stream_end(net_h2 *h, int32_t sid);
/* Response bytes of stream sid not yet handed to nghttp2 (0 when unknown). */
size_t net_h2_stream_pending(net_h2 *h, int32_t sid);
/* Forgets the application pointer of sid (on_stream_close will not report
 * it). */
void net_h2_detach(net_h2 *h, int32_t sid);

/* Graceful shutdown: GOAWAY with the last processed stream; open streams
 * finish. Returns 0 or NET_H2_E_NOMEM. */
int net_h2_goaway(net_h2 *h);
/* Rapid reset (CVE-2023-44487): a client that resets streams faster than
 * they complete makes the server start work it never finishes. Once more
 * than NET_H2_RESET_ALLOWANCE RST_STREAM frames arrived on a connection
 * and they outnumber the streams that completed, the session ends with
 * GOAWAY ENHANCE_YOUR_CALM and no further request is delivered. A client
 * that cancels now and then never gets near it. */
#define NET_H2_RESET_ALLOWANCE 100

/* Ends the session for abuse: GOAWAY ENHANCE_YOUR_CALM, no further
 * request is delivered; flush, then close. Returns 0 or NET_H2_E_NOMEM. */
int net_h2_calm(net_h2 *h);
/* 1 once the session was ended with ENHANCE_YOUR_CALM. */
int net_h2_calmed(const net_h2 *h);

/* Bytes of the GOAWAY (last stream 0, PROTOCOL_ERROR) written raw to a
 * peer whose connection preface is broken (RFC 9113 section 3.4), before
 * any session exists. */
#define NET_H2_PREFACE_GOAWAY_LEN 17
extern const uint8_t net_h2_preface_goaway[NET_H2_PREFACE_GOAWAY_LEN];
/* 1 when nghttp2 wants neither to read nor to write: close the connection
 * once the output is written. */
int net_h2_finished(const net_h2 *h);
/* Number of open streams. */
size_t net_h2_open_streams(const net_h2 *h);

#endif

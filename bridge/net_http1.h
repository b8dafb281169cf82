/* net_http1: the HTTP/1.1 protocol core of the bridge. Bytes go in, parsed
 * requests (net_msg) come out; no sockets, no timers. Framing, chunked
 * bodies and the smuggling checks (Content-Length with Transfer-Encoding,
 * duplicate Content-Length, bad chunk sizes, bare LF) are llhttp's, built
 * with LLHTTP_STRICT_MODE and never with its lenient flags. This module adds
 * what llhttp leaves to the embedder: size limits, obs-fold rejection,
 * version/method/target/Host/Expect checks and the mapping of every failure
 * to a status code. It also serialises responses.
 *
 * The parser stops after each complete request (so the caller can bound
 * pipelining and answer in order) and after an upgrade request (the rest of
 * the input belongs to the new protocol). Not thread-safe. */
#ifndef COMFYD_NET_HTTP1_H
#define COMFYD_NET_HTTP1_H

#include "net_buf.h"
#include "net_msg.h"

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

/* Request line plus header lines: 16 KiB, like common proxies; a browser
 * request with cookies for 127.0.0.1 stays well below it. */
#define NET_HTTP1_MAX_HEADER_BYTES (16 * 1024)
/* Header fields per request: real clients send fewer than 30. */
#define NET_HTTP1_MAX_HEADERS 64
/* Request-target length: our routes and query strings are short. */
#define NET_HTTP1_MAX_URL 4096
/* Request body: JSON commands and workflows; 1 MiB by default. */
#define NET_HTTP1_MAX_BODY (1024 * 1024)

typedef struct net_http1 net_http1;

typedef struct net_http1_limits {
    size_t max_header_bytes;
    size_t max_headers;
    size_t max_url;
    size_t max_body;
} net_http1_limits;

/* Fills l with the NET_HTTP1_MAX_* values. */
void net_http1_limits_default(net_http1_limits *l);

typedef struct net_http1_callbacks {
    /* The first byte of a request arrived (arm a header timer). May be NULL. */
    void (*on_begin)(void *ud);
    /* The head is complete and passed every check of this module. m is
     * borrowed (the same object later returned by net_http1_feed). Return 0
     * to read the body, or an HTTP status >= 400 to fail the request with
     * it (net_http1_feed then returns NET_HTTP1_E_REJECTED). May be NULL. */
    int (*on_head)(net_msg *m, void *ud);
} net_http1_callbacks;

typedef enum {
    NET_HTTP1_NEED_MORE = 0,
    NET_HTTP1_REQUEST = 1,
    /* Malformed request; net_http1_error_status() is 400, 414, 431, 501 or
     * 505 (or 413 for a body over the limit). */
    NET_HTTP1_E_PARSE = CFD_ERR_NET_HTTP1_PARSE,
    /* on_head returned a status. */
    NET_HTTP1_E_REJECTED = CFD_ERR_NET_HTTP1_REJECTED,
    /* net_http1_feed called again after an error. */
    NET_HTTP1_E_CLOSED = CFD_ERR_NET_HTTP1_CLOSED,
    NET_HTTP1_E_NOMEM = CFD_ERR_NOMEM,
} net_http1_err;

/* Returns 0 or NET_HTTP1_E_NOMEM. limits may be NULL (defaults); cb and ud
 * are borrowed for the parser's lifetime. *out is owned by the caller. */
int net_http1_create(net_http1 **out, const net_http1_limits *limits, const net_http1_callbacks *cb,
                     void *ud);
void net_http1_destroy(net_http1 *p);

/* Parses data[0..len) up to the end of one request. Sets *consumed and
 * returns:
 *  NET_HTTP1_NEED_MORE: all bytes were used, no request is complete yet;
 *  NET_HTTP1_REQUEST: *out receives a complete request (the caller owns it:
 *    net_msg_destroy); bytes after *consumed belong to the next request, or
 *    to the new protocol when net_msg_flags(*out) has NET_MSG_UPGRADE and the
 *    caller accepts the upgrade (then it stops using this parser). Calling
 *    net_http1_feed again means the upgrade was declined: parsing goes on as
 *    HTTP/1.1;
 *  NET_HTTP1_E_PARSE / NET_HTTP1_E_REJECTED: answer with
 *    net_http1_error_status() and close the connection;
 *  NET_HTTP1_E_CLOSED, NET_HTTP1_E_NOMEM: close the connection. */
int net_http1_feed(net_http1 *p, const uint8_t *data, size_t len, size_t *consumed, net_msg **out);

/* 1 while a request has started but is not complete (EOF now is abrupt). */
int net_http1_in_request(const net_http1 *p);
/* 1 once the head of the current request is complete (body phase). */
int net_http1_head_done(const net_http1 *p);
/* After an error: the HTTP status to answer with and a short, static,
 * human-readable reason (no request bytes in it). */
int net_http1_error_status(const net_http1 *p);
const char *net_http1_error_text(const net_http1 *p);

/* Reason phrase of a status ("OK", "Not Found"...); "Unknown" otherwise. */
const char *net_http1_reason(int status);

/* Response serialisation. All append to out and return 0,
 * NET_HTTP1_E_NOMEM, or NET_HTTP1_E_PARSE for an invalid field (then nothing
 * is appended).
 *
 * Head with status line, Date, the given fields, then Content-Length
 * (content_length >= 0) or Transfer-Encoding: chunked (content_length < 0),
 * and Connection: close when close is set. 1xx, 204 and 304 get no framing
 * header. */
int net_http1_write_head(net_buf *out, int status, const net_field *fields, size_t nfields,
                         int64_t content_length, int close);
/* One chunk of a chunked body; len 0 writes nothing (0 would end the body). */
int net_http1_write_chunk(net_buf *out, const void *data, size_t len);
/* The last chunk, ending a chunked body. */
int net_http1_write_last_chunk(net_buf *out);
/* A complete error response with body {"error":"message"} and
 * Content-Type: application/json; extra fields (may be NULL) are added. */
int net_http1_write_error(net_buf *out, int status, const char *message, const net_field *extra,
                          size_t nextra, int close);

#endif

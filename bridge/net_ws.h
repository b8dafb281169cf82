/* net_ws: the WebSocket protocol core of the bridge (RFC 6455, server
 * side). The opening handshake is checked and answered here; framing,
 * masking checks (1002), UTF-8 validation of text and close reasons (1007),
 * message size (1009), ping/pong and the close handshake are wslay's, run
 * over our buffers: bytes go in with net_ws_feed, frames come out through
 * the send callback. No sockets, no timers. Not thread-safe.
 *
 * Outbound memory is bounded: when the bytes queued for a peer that does not
 * read pass max_queue, the next net_ws_send closes the WebSocket with 1008
 * "send queue full" instead of growing. permessage-deflate is never
 * negotiated (wslay has none; it also avoids compression bombs). */
#ifndef COMFYD_NET_WS_H
#define COMFYD_NET_WS_H

#include "net_buf.h"
#include "net_msg.h"

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

/* Largest message accepted from a peer: JSON commands and workflows. */
#define NET_WS_MAX_MSG (1024 * 1024)
/* Outbound bytes queued per connection before it is closed with 1008: a
 * few full-size messages; a tab that stops reading must not grow memory. */
#define NET_WS_MAX_QUEUE (4 * 1024 * 1024)
/* Length of a Sec-WebSocket-Accept value (base64 of 20 bytes). */
#define NET_WS_ACCEPT_LEN 28
/* Close reasons are limited by the 125-byte control frame payload. */
#define NET_WS_MAX_REASON 123

typedef struct net_ws net_ws;

typedef enum {
    NET_WS_OK = CFD_OK,
    /* Close already queued or sent: no more messages can be queued. */
    NET_WS_E_CLOSED = CFD_ERR_NET_WS_CLOSED,
    /* The outbound queue passed max_queue; a 1008 close is now queued. */
    NET_WS_E_QUEUE_FULL = CFD_ERR_NET_WS_QUEUE_FULL,
    /* Invalid argument: text that is not UTF-8, a bad close code. */
    NET_WS_E_ARG = CFD_ERR_INVALID,
    /* wslay failed (a callback error); close the connection. */
    NET_WS_E_FATAL = CFD_ERR_NET_WS_FATAL,
    NET_WS_E_NOMEM = CFD_ERR_NOMEM,
} net_ws_err;

typedef struct net_ws_limits {
    size_t max_msg;
    size_t max_queue;
} net_ws_limits;

void net_ws_limits_default(net_ws_limits *l);

typedef struct net_ws_callbacks {
    /* A complete text (binary == 0; valid UTF-8) or binary message. data is
     * valid only during the call. Called from inside net_ws_feed; the
     * callee may call net_ws_send and net_ws_close. */
    void (*on_message)(int binary, const uint8_t *data, size_t len, void *ud);
    /* Output: take all len bytes (copy them) and return 0, or return 1 to
     * refuse them while the output is full; net_ws_flush retries later. */
    int (*send)(const uint8_t *data, size_t len, void *ud);
} net_ws_callbacks;

/* Handshake check for an HTTP/1.1 request already known to target a
 * WebSocket route: GET, HTTP/1.1, Connection: upgrade, Upgrade: websocket,
 * one Sec-WebSocket-Key of 24 base64 characters decoding to 16 bytes, and
 * Sec-WebSocket-Version: 13. Returns 0 and sets *key, 426 for a missing or
 * other version (answer with Sec-WebSocket-Version: 13), or 400. */
int net_ws_handshake_check(const net_msg *m, net_str *key);
/* Sec-WebSocket-Accept for key: base64(SHA-1(key + RFC 6455 GUID)), NUL
 * terminated. Returns 0, or NET_WS_E_ARG for an empty or oversized key. */
int net_ws_accept_key(const char *key, size_t len, char out[NET_WS_ACCEPT_LEN + 1]);
/* Appends the 101 Switching Protocols response for key, with
 * Sec-WebSocket-Protocol: proto when proto.p is set (one of the
 * subprotocols the client offered, taken from its request). Returns 0,
 * NET_WS_E_ARG or NET_WS_E_NOMEM. */
int net_ws_write_101(net_buf *out, const char *key, size_t len, net_str proto);

/* Creates a server context. limits may be NULL (defaults); cb and ud are
 * borrowed for the lifetime of the context. Returns 0 or NET_WS_E_NOMEM. */
int net_ws_create(net_ws **out, const net_ws_limits *limits, const net_ws_callbacks *cb, void *ud);
void net_ws_destroy(net_ws *w);

/* Processes received bytes (all of them; bytes after a close or a protocol
 * error are discarded). Replies (pong, close) are queued, not sent: call
 * net_ws_flush afterwards. Returns 0, NET_WS_E_FATAL or NET_WS_E_NOMEM
 * (close the connection). A frame wslay cannot parse (control frame over
 * 125 bytes, fragmented control frame) is not fatal here: reading stops and
 * wslay's close (without a code) is sent by the next flush; the close code
 * reported is then 1002. */
int net_ws_feed(net_ws *w, const uint8_t *data, size_t len);
/* Hands queued frames to the send callback until it refuses. Returns 0,
 * NET_WS_E_FATAL or NET_WS_E_NOMEM. */
int net_ws_flush(net_ws *w);

/* What net_ws_send's binary says: text (checked here), binary, or text
 * whose bytes the caller has already checked are UTF-8 (a large cached
 * answer is not scanned again for every reader). */
enum { NET_WS_TEXT = 0, NET_WS_BINARY = 1, NET_WS_TEXT_CHECKED = 2 };
/* Queues one unfragmented message (data is copied). Returns 0,
 * NET_WS_E_CLOSED, NET_WS_E_QUEUE_FULL (the connection is being closed with
 * 1008), NET_WS_E_ARG (text not UTF-8) or NET_WS_E_NOMEM. */
int net_ws_send(net_ws *w, int binary, const void *data, size_t len);
/* Closes with code 1000-4999 (not 1004-1006, 1015) and a UTF-8 reason, cut
 * to NET_WS_MAX_REASON bytes at a character boundary. The close frame
 * follows the messages already queued (wslay alone would send it first and
 * drop them). No message can be queued afterwards. Returns 0,
 * NET_WS_E_CLOSED (already closing), NET_WS_E_ARG or NET_WS_E_NOMEM. */
int net_ws_close(net_ws *w, uint16_t code, const char *reason, size_t len);
/* Closes at once, ahead of the messages still queued (which are dropped):
 * for a peer being dropped, which would otherwise see its close frame only
 * after data it is not reading. Same arguments and returns as
 * net_ws_close. */
int net_ws_close_now(net_ws *w, uint16_t code, const char *reason, size_t len);
/* Queues a ping with an empty payload. Returns 0, NET_WS_E_CLOSED or
 * NET_WS_E_NOMEM. */
int net_ws_ping(net_ws *w);

int net_ws_want_read(const net_ws *w);
int net_ws_want_write(const net_ws *w);
/* 1 when the close handshake is over (or failed): neither reading nor
 * writing is wanted and the TCP connection can be shut down. */
int net_ws_finished(const net_ws *w);
/* 1 once our close frame was handed to the send callback. */
int net_ws_close_sent(const net_ws *w);
/* 1 once a close frame was queued or received. */
int net_ws_closing(const net_ws *w);
/* Bytes of queued messages not yet handed to the send callback. */
size_t net_ws_queued(const net_ws *w);
/* 1 while the WebSocket library's context (about 8.5 KB) is allocated: from
 * the first byte in or message out until the input stands between messages
 * and everything queued is out (for tests and memory figures). */
int net_ws_holds_context(const net_ws *w);
/* The close code to report: the peer's (1005 when its close had none),
 * else the one we sent (1002, 1007, 1008, 1009 or the application's), else
 * 1006. *reason (may be NULL) receives the matching reason; valid while w
 * lives. */
uint16_t net_ws_close_code(const net_ws *w, net_str *reason);

/* 1 when s[0..len) is valid UTF-8 (RFC 3629; NUL allowed, as in WebSocket
 * text), else 0. */
int net_ws_utf8_valid(const uint8_t *s, size_t len);

#endif

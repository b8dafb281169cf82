#include "net_ws.h"

#include "text.h"

#include <openssl/evp.h>
#include <wslay/wslay.h>

#include <stdlib.h>
#include <string.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* Where the peer's byte stream stands, read from the frame headers as they
 * pass: at a frame boundary outside a fragmented message, wslay holds no
 * input state. */
typedef struct ws_scan {
    uint8_t hdr[14]; /* the frame header being read */
    size_t hdr_len;
    uint64_t payload_left; /* of the current frame */
    int in_fragments;      /* a data message's FIN has not come yet */
} ws_scan;

struct net_ws {
    /* wslay's context (about 8.5 KB, its buffers inline) exists only while
     * there is something in flight: created when bytes arrive or a message
     * is queued, freed again once everything is out and the input stands
     * between messages. An idle connection holds none. */
    wslay_event_context_ptr ctx;
    ws_scan scan;
    net_ws_limits lim;
    const net_ws_callbacks *cb;
    void *ud;
    const uint8_t *in; /* bytes being fed; wslay pulls them via ws_recv */
    size_t in_len;
    int failed;
    /* wslay sends control frames ahead of queued data and nothing after a
     * close, so an application close waits here until the data is out. */
    int close_pending;
    /* wslay failed the connection on a framing error (it queued a close
     * without a code); reported as 1002. */
    int proto_error;
    /* Close bookkeeping for net_ws_close_code. */
    int peer_closed, we_closed;
    uint16_t peer_code, our_code;
    char peer_reason[NET_WS_MAX_REASON + 1], our_reason[NET_WS_MAX_REASON + 1];
    size_t peer_reason_len, our_reason_len;
};

void net_ws_limits_default(net_ws_limits *l)
{
    l->max_msg = NET_WS_MAX_MSG;
    l->max_queue = NET_WS_MAX_QUEUE;
}

int net_ws_utf8_valid(const uint8_t *s, size_t len)
{
    return text_utf8_valid_nul((const char *)s, len);
}

/* ---- opening handshake ---- */

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* A key is base64 of 16 bytes: 22 data characters then "==", and the last
 * data character carries no stray bits. */
static int key_valid(net_str k)
{
    if (k.len != 24 || k.p[22] != '=' || k.p[23] != '=') return 0;
    for (size_t i = 0; i < 22; i++)
        if (b64_val((unsigned char)k.p[i]) < 0) return 0;
    return (b64_val((unsigned char)k.p[21]) & 0x0F) == 0;
}

int net_ws_handshake_check(const net_msg *m, net_str *key)
{
    unsigned fl = net_msg_flags(m);
    if (strcmp(net_msg_method(m), "GET") != 0 || (fl & (NET_MSG_HTTP10 | NET_MSG_H2))) return 400;
    if (!(fl & NET_MSG_UPGRADE) || !net_msg_header_has_token(m, "upgrade", "websocket") ||
        !net_msg_header_has_token(m, "connection", "upgrade"))
        return 426;
    net_str v = net_msg_header(m, "sec-websocket-version");
    if (net_msg_header_n(m, "sec-websocket-version") != 1 || !net_str_ieq(v, "13")) return 426;
    net_str k = net_msg_header(m, "sec-websocket-key");
    if (net_msg_header_n(m, "sec-websocket-key") != 1 || !key_valid(k)) return 400;
    *key = k;
    return 0;
}

int net_ws_accept_key(const char *key, size_t len, char out[NET_WS_ACCEPT_LEN + 1])
{
    if (len == 0 || len > 64) return NET_WS_E_ARG;
    char buf[64 + sizeof WS_GUID];
    memcpy(buf, key, len);
    memcpy(buf + len, WS_GUID, sizeof WS_GUID - 1);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(buf, len + sizeof WS_GUID - 1, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
        return NET_WS_E_FATAL;
    EVP_EncodeBlock((unsigned char *)out, md, 20);
    out[NET_WS_ACCEPT_LEN] = '\0';
    return 0;
}

int net_ws_write_101(net_buf *out, const char *key, size_t len, net_str proto)
{
    char accept[NET_WS_ACCEPT_LEN + 1];
    int r = net_ws_accept_key(key, len, accept);
    if (r) return r;
    if (proto.p) {
        for (size_t i = 0; i < proto.len; i++)
            if ((unsigned char)proto.p[i] <= ' ' || proto.p[i] == ',' || proto.p[i] == 0x7f)
                return NET_WS_E_ARG;
    }
    if (net_buf_printf(out,
                       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n",
                       accept) ||
        (proto.p &&
         net_buf_printf(out, "Sec-WebSocket-Protocol: %.*s\r\n", (int)proto.len, proto.p)) ||
        net_buf_append_str(out, "\r\n"))
        return NET_WS_E_NOMEM;
    return 0;
}

/* ---- data transfer over wslay ---- */

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
    (void)flags;
    net_ws *w = ud;
    if (w->in_len == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (len > w->in_len) len = w->in_len;
    memcpy(buf, w->in, len);
    w->in += len;
    w->in_len -= len;
    return (ssize_t)len;
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *ud)
{
    (void)flags;
    net_ws *w = ud;
    if (w->cb->send(data, len, w->ud) != 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    return (ssize_t)len;
}

static void ws_on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                      void *ud)
{
    (void)ctx;
    net_ws *w = ud;
    if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        /* wslay has validated the code and the reason's UTF-8 already. */
        w->peer_closed = 1;
        w->peer_code = arg->status_code ? arg->status_code : 1005;
        size_t n = arg->msg_length > 2 ? arg->msg_length - 2 : 0;
        if (n > NET_WS_MAX_REASON) n = NET_WS_MAX_REASON;
        if (n) memcpy(w->peer_reason, arg->msg + 2, n);
        w->peer_reason[n] = '\0';
        w->peer_reason_len = n;
        return;
    }
    if (arg->opcode != WSLAY_TEXT_FRAME && arg->opcode != WSLAY_BINARY_FRAME) return;
    if (w->cb->on_message)
        w->cb->on_message(arg->opcode == WSLAY_BINARY_FRAME, arg->msg, arg->msg_length, w->ud);
}

/* Creates wslay's context when there is none. 0 or NET_WS_E_NOMEM. */
static int ctx_need(net_ws *w)
{
    if (w->ctx) return 0;
    struct wslay_event_callbacks wcb = {
        .recv_callback = ws_recv,
        .send_callback = ws_send,
        .on_msg_recv_callback = ws_on_msg,
    };
    if (wslay_event_context_server_init(&w->ctx, &wcb, w) != 0) {
        w->ctx = NULL;
        return NET_WS_E_NOMEM;
    }
    wslay_event_config_set_max_recv_msg_length(w->ctx, w->lim.max_msg);
    return 0;
}

/* Follows the frame headers of the bytes wslay is given (RFC 6455 5.2). */
static void scan_input(ws_scan *sc, const uint8_t *d, size_t len)
{
    while (len) {
        if (sc->payload_left) {
            uint64_t k = sc->payload_left < len ? sc->payload_left : len;
            sc->payload_left -= k;
            d += k;
            len -= (size_t)k;
            continue;
        }
        sc->hdr[sc->hdr_len++] = *d++;
        len--;
        if (sc->hdr_len < 2) continue;
        uint8_t b1 = sc->hdr[1], len7 = b1 & 0x7f;
        size_t need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((b1 & 0x80) ? 4 : 0);
        if (sc->hdr_len < need) continue;
        uint64_t plen = len7;
        if (len7 >= 126) {
            size_t n = len7 == 126 ? 2 : 8;
            plen = 0;
            for (size_t i = 0; i < n; i++)
                plen = (plen << 8) | sc->hdr[2 + i];
        }
        uint8_t op = sc->hdr[0] & 0x0f;
        int fin = (sc->hdr[0] & 0x80) != 0;
        if (op < 0x8) sc->in_fragments = !fin; /* data frames; control frames leave it */
        sc->payload_left = plen;
        sc->hdr_len = 0;
    }
}

/* Frees wslay's context when it holds nothing: no input mid-frame or
 * mid-message, nothing queued, no close under way, no failure. A fresh one
 * is the same state. */
static void ctx_release_if_idle(net_ws *w)
{
    if (!w->ctx || w->failed || w->close_pending || w->we_closed || w->peer_closed ||
        w->proto_error)
        return;
    if (w->scan.hdr_len || w->scan.payload_left || w->scan.in_fragments) return;
    if (wslay_event_get_queued_msg_count(w->ctx) || wslay_event_want_write(w->ctx) ||
        wslay_event_get_close_received(w->ctx) || wslay_event_get_close_sent(w->ctx) ||
        !wslay_event_get_read_enabled(w->ctx))
        return;
    wslay_event_context_free(w->ctx);
    w->ctx = NULL;
}

int net_ws_create(net_ws **out, const net_ws_limits *limits, const net_ws_callbacks *cb, void *ud)
{
    net_ws *w = calloc(1, sizeof *w);
    if (!w) return NET_WS_E_NOMEM;
    if (limits)
        w->lim = *limits;
    else
        net_ws_limits_default(&w->lim);
    w->cb = cb;
    w->ud = ud;
    *out = w;
    return 0;
}

void net_ws_destroy(net_ws *w)
{
    if (!w) return;
    if (w->ctx) wslay_event_context_free(w->ctx);
    free(w);
}

static int map_wslay(int r)
{
    if (r == 0) return 0;
    if (r == WSLAY_ERR_NOMEM) return NET_WS_E_NOMEM;
    if (r == WSLAY_ERR_NO_MORE_MSG) return NET_WS_E_CLOSED;
    if (r == WSLAY_ERR_INVALID_ARGUMENT) return NET_WS_E_ARG;
    return NET_WS_E_FATAL;
}

int net_ws_feed(net_ws *w, const uint8_t *data, size_t len)
{
    if (w->failed) return NET_WS_E_FATAL;
    if (ctx_need(w)) {
        w->failed = 1;
        return NET_WS_E_NOMEM;
    }
    scan_input(&w->scan, data, len);
    w->in = data;
    w->in_len = len;
    int r = wslay_event_recv(w->ctx);
    w->in = NULL;
    w->in_len = 0;
    if (r == WSLAY_ERR_CALLBACK_FAILURE) {
        /* Our callbacks cannot fail, so this is a frame wslay rejected
         * (control frame over 125 bytes or fragmented, bad length). It
         * disabled reading and queued a close; let flush send it. */
        w->proto_error = 1;
        return 0;
    }
    if (r != 0) w->failed = 1;
    /* A ping's pong is queued: the context stays until flush sends it. */
    if (r == 0) ctx_release_if_idle(w);
    return map_wslay(r);
}

static void record_close(net_ws *w, uint16_t code, const char *reason, size_t len)
{
    w->we_closed = 1;
    w->our_code = code;
    if (len) memcpy(w->our_reason, reason, len);
    w->our_reason[len] = '\0';
    w->our_reason_len = len;
}

static int queue_close(net_ws *w, uint16_t code, const char *reason, size_t len)
{
    if (ctx_need(w)) return NET_WS_E_NOMEM;
    int r = wslay_event_queue_close(w->ctx, code, (const uint8_t *)reason, len);
    if (r) return map_wslay(r);
    record_close(w, code, reason, len);
    return 0;
}

int net_ws_flush(net_ws *w)
{
    if (w->failed) return NET_WS_E_FATAL;
    if (!w->ctx) return 0; /* nothing queued */
    int r = wslay_event_send(w->ctx);
    if (r == 0 && w->close_pending && wslay_event_get_queued_msg_count(w->ctx) == 0) {
        w->close_pending = 0;
        /* NO_MORE_MSG: the peer's close arrived first and wslay answers it. */
        int q = wslay_event_queue_close(w->ctx, w->our_code, (const uint8_t *)w->our_reason,
                                        w->our_reason_len);
        if (q == 0)
            r = wslay_event_send(w->ctx);
        else if (q != WSLAY_ERR_NO_MORE_MSG)
            r = q;
    }
    if (r != 0) w->failed = 1;
    if (r == 0) ctx_release_if_idle(w);
    return map_wslay(r);
}

int net_ws_send(net_ws *w, int binary, const void *data, size_t len)
{
    if (binary == NET_WS_TEXT && !net_ws_utf8_valid(data, len)) return NET_WS_E_ARG;
    if (net_ws_closing(w)) return NET_WS_E_CLOSED;
    if (ctx_need(w)) return NET_WS_E_NOMEM;
    size_t queued = wslay_event_get_queued_msg_length(w->ctx);
    if (len > w->lim.max_queue || queued > w->lim.max_queue - len) {
        static const char why[] = "send queue full";
        queue_close(w, 1008, why, sizeof why - 1);
        /* Reading on stops: the peer is not reading us either. */
        wslay_event_shutdown_read(w->ctx);
        return NET_WS_E_QUEUE_FULL;
    }
    struct wslay_event_msg msg = {binary == NET_WS_BINARY ? WSLAY_BINARY_FRAME : WSLAY_TEXT_FRAME,
                                  data, len};
    return map_wslay(wslay_event_queue_msg(w->ctx, &msg));
}

/* Codes an endpoint may send: RFC 6455 section 7.4.1 plus the IANA-registered
 * 1012 (service restart), 1013 (try again later) and 1014 (bad gateway). */
static int code_valid(uint16_t c)
{
    return (c >= 1000 && c <= 1014 && c != 1004 && c != 1005 && c != 1006) ||
           (c >= 3000 && c <= 4999);
}

int net_ws_close(net_ws *w, uint16_t code, const char *reason, size_t len)
{
    if (!code_valid(code)) return NET_WS_E_ARG;
    if (!reason) len = 0;
    if (len && !net_ws_utf8_valid((const uint8_t *)reason, len)) return NET_WS_E_ARG;
    if (len > NET_WS_MAX_REASON) {
        len = NET_WS_MAX_REASON;
        /* Back off continuation bytes so the cut stays valid UTF-8. */
        while (len && ((unsigned char)reason[len] & 0xC0) == 0x80)
            len--;
    }
    if (net_ws_closing(w)) return NET_WS_E_CLOSED;
    if (w->ctx && wslay_event_get_queued_msg_count(w->ctx) > 0) {
        /* Data first: the close goes out once the queue is empty. */
        record_close(w, code, reason, len);
        w->close_pending = 1;
        return 0;
    }
    return queue_close(w, code, reason, len);
}

int net_ws_close_now(net_ws *w, uint16_t code, const char *reason, size_t len)
{
    if (!code_valid(code)) return NET_WS_E_ARG;
    if (!reason) len = 0;
    if (len && !net_ws_utf8_valid((const uint8_t *)reason, len)) return NET_WS_E_ARG;
    if (len > NET_WS_MAX_REASON) {
        len = NET_WS_MAX_REASON;
        while (len && ((unsigned char)reason[len] & 0xC0) == 0x80)
            len--;
    }
    if (net_ws_closing(w)) return NET_WS_E_CLOSED;
    /* wslay sends control frames before queued messages (after the frame
     * in progress, if any); reading stops: the peer is being dropped. */
    int r = queue_close(w, code, reason, len);
    if (r == 0) wslay_event_shutdown_read(w->ctx);
    return r;
}

int net_ws_ping(net_ws *w)
{
    if (ctx_need(w)) return NET_WS_E_NOMEM;
    struct wslay_event_msg msg = {WSLAY_PING, NULL, 0};
    return map_wslay(wslay_event_queue_msg(w->ctx, &msg));
}

int net_ws_want_read(const net_ws *w)
{
    /* Without a context nothing has stopped reading. */
    return !w->failed && (!w->ctx || wslay_event_want_read(w->ctx));
}

int net_ws_want_write(const net_ws *w)
{
    return !w->failed && (w->close_pending || (w->ctx && wslay_event_want_write(w->ctx)));
}

int net_ws_finished(const net_ws *w)
{
    return !net_ws_want_read(w) && !net_ws_want_write(w);
}

int net_ws_closing(const net_ws *w)
{
    if (w->we_closed || w->peer_closed) return 1;
    return w->ctx && (wslay_event_get_close_received(w->ctx) ||
                      wslay_event_get_close_sent(w->ctx) || !wslay_event_get_read_enabled(w->ctx));
}

int net_ws_close_sent(const net_ws *w)
{
    return w->ctx && wslay_event_get_close_sent(w->ctx) != 0;
}

size_t net_ws_queued(const net_ws *w)
{
    return w->ctx ? wslay_event_get_queued_msg_length(w->ctx) : 0;
}

int net_ws_holds_context(const net_ws *w)
{
    return w->ctx != NULL;
}

uint16_t net_ws_close_code(const net_ws *w, net_str *reason)
{
    net_str r = {"", 0};
    uint16_t code = 1006;
    if (w->peer_closed) {
        code = w->peer_code;
        r = (net_str){w->peer_reason, w->peer_reason_len};
    } else if (w->we_closed) {
        code = w->our_code;
        r = (net_str){w->our_reason, w->our_reason_len};
    } else if (w->proto_error) {
        code = 1002;
        r = (net_str){"protocol error", 14};
    } else if (w->ctx) {
        uint16_t sent = wslay_event_get_status_code_sent(w->ctx);
        if (sent != WSLAY_CODE_ABNORMAL_CLOSURE && sent != WSLAY_CODE_NO_STATUS_RCVD) code = sent;
    }
    if (reason) *reason = r;
    return code;
}

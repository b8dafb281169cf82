/* net_ws: handshake, framing through wslay over buffers, limits, close. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bnet.h"
#include "net_ws.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    net_ws *w;
    net_buf out; /* bytes the server sent */
    int refuse;  /* send callback reports a full output */
    int nmsg;
    int last_binary;
    net_buf last; /* last message received */
} fixture;

static int send_cb(const uint8_t *d, size_t n, void *ud)
{
    fixture *f = ud;
    if (f->refuse) return 1;
    net_buf_append(&f->out, d, n);
    return 0;
}

static void on_message(int binary, const uint8_t *d, size_t n, void *ud)
{
    fixture *f = ud;
    f->nmsg++;
    f->last_binary = binary;
    net_buf_reset(&f->last);
    net_buf_append(&f->last, d, n);
}

static const net_ws_callbacks cbs = {on_message, send_cb};

static int make(void **state, size_t max_msg, size_t max_queue)
{
    fixture *f = calloc(1, sizeof *f);
    net_buf_init(&f->out);
    net_buf_init(&f->last);
    net_ws_limits lim = {max_msg, max_queue};
    assert_int_equal(net_ws_create(&f->w, &lim, &cbs, f), 0);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return make(state, NET_WS_MAX_MSG, NET_WS_MAX_QUEUE);
}

static int teardown(void **state)
{
    fixture *f = *state;
    net_ws_destroy(f->w);
    net_buf_free(&f->out);
    net_buf_free(&f->last);
    free(f);
    return 0;
}

/* A client frame, masked unless mask is 0. Returns its length. */
static size_t cframe(uint8_t *o, int fin, int opcode, const void *payload, size_t n, int mask)
{
    size_t k = 0;
    o[k++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    uint8_t m = mask ? 0x80 : 0;
    if (n < 126) {
        o[k++] = (uint8_t)(m | n);
    } else if (n < 65536) {
        o[k++] = m | 126;
        o[k++] = (uint8_t)(n >> 8);
        o[k++] = (uint8_t)n;
    } else {
        o[k++] = m | 127;
        for (int i = 7; i >= 0; i--)
            o[k++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    const uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
    if (mask) {
        memcpy(o + k, key, 4);
        k += 4;
    }
    for (size_t i = 0; i < n; i++)
        o[k + i] = ((const uint8_t *)payload)[i] ^ (mask ? key[i % 4] : 0);
    return k + n;
}

static void feed(fixture *f, const uint8_t *d, size_t n)
{
    assert_int_equal(net_ws_feed(f->w, d, n), 0);
    assert_int_equal(net_ws_flush(f->w), 0);
}

typedef struct {
    int opcode;
    const uint8_t *p;
    size_t n;
} sframe;

/* Parses server frames (unmasked) from f->out. Returns the count. */
static size_t parse(const fixture *f, sframe *fr, size_t max)
{
    size_t off = 0, k = 0;
    const uint8_t *d = f->out.data;
    while (off + 2 <= f->out.len && k < max) {
        assert_false(d[off + 1] & 0x80); /* servers never mask */
        size_t n = d[off + 1] & 0x7F, h = 2;
        if (n == 126) {
            n = (size_t)d[off + 2] << 8 | d[off + 3];
            h = 4;
        } else if (n == 127) {
            n = 0;
            for (int i = 0; i < 8; i++)
                n = n << 8 | d[off + 2 + i];
            h = 10;
        }
        assert_true(off + h + n <= f->out.len);
        fr[k++] = (sframe){d[off] & 0x0F, d + off + h, n};
        off += h + n;
    }
    return k;
}

static int close_code_of(const sframe *fr)
{
    if (fr->opcode != 8) return -1;
    if (fr->n < 2) return 1005;
    return fr->p[0] << 8 | fr->p[1];
}

/* ---- handshake ---- */

static void accept_key_matches_rfc6455_example(void **state)
{
    (void)state;
    char out[NET_WS_ACCEPT_LEN + 1];
    assert_int_equal(net_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out), 0);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static net_msg *upgrade_req(const char *method, const char *version, const char *key)
{
    net_msg *m;
    assert_int_equal(net_msg_create(&m), 0);
    net_msg_set_method(m, method, strlen(method));
    net_msg_set_target(m, "/ws", 3);
    net_msg_add_header(m, "Host", 4, "h", 1);
    net_msg_add_header(m, "Connection", 10, "keep-alive, Upgrade", 19);
    net_msg_add_header(m, "Upgrade", 7, "WebSocket", 9);
    if (version) net_msg_add_header(m, "Sec-WebSocket-Version", 21, version, strlen(version));
    if (key) net_msg_add_header(m, "Sec-WebSocket-Key", 17, key, strlen(key));
    net_msg_set_flags(m, NET_MSG_KEEP_ALIVE | NET_MSG_UPGRADE);
    return m;
}

static void handshake_accepts_a_valid_request(void **state)
{
    (void)state;
    net_msg *m = upgrade_req("GET", "13", "dGhlIHNhbXBsZSBub25jZQ==");
    net_str key;
    assert_int_equal(net_ws_handshake_check(m, &key), 0);
    assert_int_equal(key.len, 24);
    net_msg_destroy(m);
}

static void handshake_other_version_is_426(void **state)
{
    (void)state;
    net_str key;
    net_msg *m = upgrade_req("GET", "8", "dGhlIHNhbXBsZSBub25jZQ==");
    assert_int_equal(net_ws_handshake_check(m, &key), 426);
    net_msg_destroy(m);
    m = upgrade_req("GET", NULL, "dGhlIHNhbXBsZSBub25jZQ==");
    assert_int_equal(net_ws_handshake_check(m, &key), 426);
    net_msg_destroy(m);
}

static void handshake_bad_key_or_method_is_400(void **state)
{
    (void)state;
    net_str key;
    const char *bad[] = {"short", "dGhlIHNhbXBsZSBub25jZR==", "dGhlIHNhbXBsZSBub25jZQ=", NULL};
    for (int i = 0; i < 4; i++) {
        net_msg *m = upgrade_req("GET", "13", bad[i]);
        assert_int_equal(net_ws_handshake_check(m, &key), 400);
        net_msg_destroy(m);
    }
    net_msg *m = upgrade_req("POST", "13", "dGhlIHNhbXBsZSBub25jZQ==");
    assert_int_equal(net_ws_handshake_check(m, &key), 400);
    net_msg_destroy(m);
}

static void switching_protocols_response_is_exact(void **state)
{
    (void)state;
    net_buf b;
    net_buf_init(&b);
    assert_int_equal(net_ws_write_101(&b, "dGhlIHNhbXBsZSBub25jZQ==", 24, (net_str){NULL, 0}), 0);
    net_buf_append(&b, "", 1);
    assert_string_equal((char *)b.data,
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
                        "\r\n\r\n");
    net_buf_reset(&b);
    assert_int_equal(net_ws_write_101(&b, "dGhlIHNhbXBsZSBub25jZQ==", 24, (net_str){"comfyd", 6}),
                     0);
    net_buf_append(&b, "", 1);
    assert_string_equal((char *)b.data,
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
                        "\r\nSec-WebSocket-Protocol: comfyd\r\n\r\n");
    net_buf_reset(&b);
    assert_int_equal(net_ws_write_101(&b, "dGhlIHNhbXBsZSBub25jZQ==", 24, (net_str){"a b", 3}),
                     NET_WS_E_ARG);
    net_buf_free(&b);
}

/* ---- data transfer ---- */

static void text_message_is_delivered_and_reply_framed_exactly(void **state)
{
    fixture *f = *state;
    uint8_t fr[64];
    feed(f, fr, cframe(fr, 1, 1, "hello", 5, 1));
    assert_int_equal(f->nmsg, 1);
    assert_int_equal(f->last_binary, 0);
    assert_int_equal(f->last.len, 5);
    assert_memory_equal(f->last.data, "hello", 5);
    assert_int_equal(net_ws_send(f->w, 0, "hi", 2), 0);
    assert_int_equal(net_ws_send(f->w, 1, "\x00\x01", 2), 0);
    /* Text the caller checked goes out as text, not as binary. */
    assert_int_equal(net_ws_send(f->w, NET_WS_TEXT_CHECKED, "ok", 2), 0);
    assert_int_equal(net_ws_flush(f->w), 0);
    assert_int_equal(f->out.len, 12);
    assert_memory_equal(f->out.data, "\x81\x02hi\x82\x02\x00\x01\x81\x02ok", 12);
}

static void message_fed_byte_by_byte_arrives_once(void **state)
{
    fixture *f = *state;
    uint8_t fr[400];
    char payload[300];
    memset(payload, 'p', sizeof payload);
    size_t n = cframe(fr, 1, 2, payload, sizeof payload, 1);
    for (size_t i = 0; i < n; i++)
        feed(f, fr + i, 1);
    assert_int_equal(f->nmsg, 1);
    assert_int_equal(f->last_binary, 1);
    assert_int_equal(f->last.len, 300);
}

static void fragments_are_joined_and_interleaved_ping_answered(void **state)
{
    fixture *f = *state;
    uint8_t buf[128];
    size_t n = cframe(buf, 0, 1, "frag", 4, 1);
    n += cframe(buf + n, 1, 9, "pp", 2, 1);
    n += cframe(buf + n, 0, 0, "me", 2, 1);
    n += cframe(buf + n, 1, 0, "nt", 2, 1);
    feed(f, buf, n);
    assert_int_equal(f->nmsg, 1);
    assert_int_equal(f->last.len, 8);
    assert_memory_equal(f->last.data, "fragment", 8);
    sframe out[4];
    assert_int_equal(parse(f, out, 4), 1);
    assert_int_equal(out[0].opcode, 10);
    assert_int_equal(out[0].n, 2);
    assert_memory_equal(out[0].p, "pp", 2);
}

/* An idle connection holds no wslay context: it comes with the first byte
 * and stays while a frame or a fragmented message is incomplete (fed one
 * byte at a time here, with a 16-bit length and a ping in between) or
 * output is queued, and goes once all of it is done. */
static void context_lives_only_while_something_is_in_flight(void **state)
{
    fixture *f = *state;
    assert_false(net_ws_holds_context(f->w));
    assert_true(net_ws_want_read(f->w));
    assert_false(net_ws_want_write(f->w));
    assert_false(net_ws_closing(f->w));
    assert_int_equal(net_ws_queued(f->w), 0);
    assert_int_equal(net_ws_flush(f->w), 0);

    static uint8_t buf[1024];
    char big[300];
    memset(big, 'x', sizeof big);
    size_t n = cframe(buf, 0, 1, big, sizeof big, 1);
    n += cframe(buf + n, 1, 9, "pp", 2, 1);
    n += cframe(buf + n, 1, 0, "end", 3, 1);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(net_ws_feed(f->w, buf + i, 1), 0);
        if (i + 1 < n) assert_true(net_ws_holds_context(f->w));
        if (i + 1 < n && f->out.len == 0) assert_int_equal(net_ws_flush(f->w), 0);
    }
    assert_int_equal(f->nmsg, 1);
    assert_int_equal(f->last.len, sizeof big + 3);
    assert_memory_equal(f->last.data + sizeof big, "end", 3);
    assert_int_equal(net_ws_flush(f->w), 0); /* the pong, if still queued */
    assert_false(net_ws_holds_context(f->w));
    sframe out[2];
    assert_int_equal(parse(f, out, 2), 1);
    assert_int_equal(out[0].opcode, 10);

    /* Output: held from the queueing until the send callback took it all;
     * a refused send keeps it (and the bytes) for later. */
    net_buf_reset(&f->out);
    assert_int_equal(net_ws_send(f->w, 0, "hello", 5), 0);
    assert_true(net_ws_holds_context(f->w));
    f->refuse = 1;
    assert_int_equal(net_ws_flush(f->w), 0);
    assert_true(net_ws_holds_context(f->w));
    assert_true(net_ws_want_write(f->w));
    f->refuse = 0;
    assert_int_equal(net_ws_flush(f->w), 0);
    assert_false(net_ws_holds_context(f->w));
    assert_int_equal(parse(f, out, 2), 1);
    assert_memory_equal(out[0].p, "hello", 5);

    /* A close keeps it to the end. */
    assert_int_equal(net_ws_close(f->w, 1000, "bye", 3), 0);
    assert_int_equal(net_ws_flush(f->w), 0);
    assert_true(net_ws_holds_context(f->w));
    assert_true(net_ws_close_sent(f->w));
}

static void utf8_split_across_fragments_is_valid(void **state)
{
    fixture *f = *state;
    uint8_t buf[64];
    size_t n = cframe(buf, 0, 1, "\xc3", 1, 1);
    n += cframe(buf + n, 1, 0, "\xa9", 1, 1);
    feed(f, buf, n);
    assert_int_equal(f->nmsg, 1);
    assert_memory_equal(f->last.data, "\xc3\xa9", 2);
    assert_false(net_ws_closing(f->w));
}

static void fails_with(fixture *f, const uint8_t *d, size_t n, int code)
{
    feed(f, d, n);
    sframe out[4];
    size_t k = parse(f, out, 4);
    assert_true(k >= 1);
    assert_int_equal(close_code_of(&out[k - 1]), code);
    assert_false(net_ws_want_read(f->w));
    assert_true(net_ws_finished(f->w));
    assert_int_equal(net_ws_close_code(f->w, NULL), code == 1005 ? 1002 : code);
    assert_int_equal(f->nmsg, 0);
}

static void unmasked_client_frame_closes_with_1002(void **state)
{
    fixture *f = *state;
    uint8_t fr[16];
    fails_with(f, fr, cframe(fr, 1, 1, "hi", 2, 0), 1002);
}

static void oversized_message_closes_with_1009(void **state)
{
    teardown(state);
    make(state, 100, NET_WS_MAX_QUEUE);
    fixture *f = *state;
    uint8_t fr[256];
    char p[101];
    memset(p, 'a', sizeof p);
    fails_with(f, fr, cframe(fr, 1, 2, p, sizeof p, 1), 1009);
}

static void oversized_fragmented_message_closes_with_1009(void **state)
{
    teardown(state);
    make(state, 100, NET_WS_MAX_QUEUE);
    fixture *f = *state;
    uint8_t fr[256];
    char p[60];
    memset(p, 'a', sizeof p);
    size_t n = cframe(fr, 0, 2, p, sizeof p, 1);
    n += cframe(fr + n, 1, 0, p, sizeof p, 1);
    fails_with(f, fr, n, 1009);
}

static void invalid_utf8_text_closes_with_1007(void **state)
{
    fixture *f = *state;
    uint8_t fr[16];
    fails_with(f, fr, cframe(fr, 1, 1, "\xc3\x28", 2, 1), 1007);
}

static void overlong_control_frame_fails_the_connection(void **state)
{
    fixture *f = *state;
    uint8_t fr[256];
    char p[126];
    memset(p, 'p', sizeof p);
    /* wslay's framing layer rejects it and closes without a code. */
    fails_with(f, fr, cframe(fr, 1, 9, p, sizeof p, 1), 1005);
}

static void reserved_bits_and_unknown_opcodes_close_with_1002(void **state)
{
    fixture *f = *state;
    uint8_t fr[16];
    size_t n = cframe(fr, 1, 1, "x", 1, 1);
    fr[0] |= 0x40;
    fails_with(f, fr, n, 1002);
    teardown(state);
    setup(state);
    f = *state;
    fails_with(f, fr, cframe(fr, 1, 3, "x", 1, 1), 1002);
}

static void peer_close_is_echoed_and_reported(void **state)
{
    fixture *f = *state;
    uint8_t fr[32];
    feed(f, fr,
         cframe(fr, 1, 8,
                "\x03\xe9"
                "bye",
                5, 1));
    sframe out[2];
    assert_int_equal(parse(f, out, 2), 1);
    assert_int_equal(close_code_of(&out[0]), 1001);
    assert_true(net_ws_finished(f->w));
    net_str reason;
    assert_int_equal(net_ws_close_code(f->w, &reason), 1001);
    assert_int_equal(reason.len, 3);
    assert_memory_equal(reason.p, "bye", 3);
    assert_int_equal(net_ws_send(f->w, 0, "late", 4), NET_WS_E_CLOSED);
}

static void close_without_code_is_reported_as_1005(void **state)
{
    fixture *f = *state;
    uint8_t fr[8];
    feed(f, fr, cframe(fr, 1, 8, "", 0, 1));
    assert_int_equal(net_ws_close_code(f->w, NULL), 1005);
}

static void connection_drop_is_reported_as_1006(void **state)
{
    fixture *f = *state;
    assert_int_equal(net_ws_close_code(f->w, NULL), 1006);
}

static void application_close_follows_queued_messages(void **state)
{
    fixture *f = *state;
    f->refuse = 1;
    assert_int_equal(net_ws_send(f->w, 0, "a", 1), 0);
    assert_int_equal(net_ws_send(f->w, 0, "b", 1), 0);
    assert_int_equal(net_ws_close(f->w, 1000, "done", 4), 0);
    assert_int_equal(net_ws_send(f->w, 0, "c", 1), NET_WS_E_CLOSED);
    assert_int_equal(net_ws_flush(f->w), 0);
    assert_int_equal(f->out.len, 0);
    f->refuse = 0;
    assert_int_equal(net_ws_flush(f->w), 0);
    sframe out[4];
    assert_int_equal(parse(f, out, 4), 3);
    assert_int_equal(out[0].opcode, 1);
    assert_memory_equal(out[0].p, "a", 1);
    assert_memory_equal(out[1].p, "b", 1);
    assert_int_equal(close_code_of(&out[2]), 1000);
    assert_memory_equal(out[2].p + 2, "done", 4);
    /* Waiting for the peer's answer. */
    assert_true(net_ws_want_read(f->w));
    assert_false(net_ws_finished(f->w));
    uint8_t fr[16];
    feed(f, fr, cframe(fr, 1, 8, "\x03\xe8", 2, 1));
    assert_true(net_ws_finished(f->w));
    assert_int_equal(net_ws_close_code(f->w, NULL), 1000);
}

static void full_send_queue_closes_with_1008(void **state)
{
    teardown(state);
    make(state, NET_WS_MAX_MSG, 1000);
    fixture *f = *state;
    f->refuse = 1; /* the peer does not read */
    char p[600];
    memset(p, 'q', sizeof p);
    assert_int_equal(net_ws_send(f->w, 1, p, sizeof p), 0);
    assert_int_equal(net_ws_send(f->w, 1, p, sizeof p), NET_WS_E_QUEUE_FULL);
    assert_true(net_ws_closing(f->w));
    assert_int_equal(net_ws_send(f->w, 1, p, 1), NET_WS_E_CLOSED);
    assert_true(net_ws_queued(f->w) <= 1000 + 32);
    f->refuse = 0;
    assert_int_equal(net_ws_flush(f->w), 0);
    sframe out[4];
    size_t k = parse(f, out, 4);
    assert_true(k >= 1);
    assert_int_equal(close_code_of(&out[k - 1]), 1008);
    assert_int_equal(out[k - 1].n, 2 + 15);
    assert_memory_equal(out[k - 1].p + 2, "send queue full", 15);
    net_str reason;
    assert_int_equal(net_ws_close_code(f->w, &reason), 1008);
}

static void queued_counts_bytes_until_the_output_takes_them(void **state)
{
    fixture *f = *state;
    f->refuse = 1;
    assert_int_equal(net_ws_queued(f->w), 0);
    char p[300];
    memset(p, 'z', sizeof p);
    assert_int_equal(net_ws_send(f->w, 1, p, sizeof p), 0);
    assert_int_equal(net_ws_send(f->w, 1, p, 100), 0);
    assert_int_equal(net_ws_flush(f->w), 0);
    assert_int_equal(net_ws_queued(f->w), 400);
    f->refuse = 0;
    assert_int_equal(net_ws_flush(f->w), 0);
    assert_int_equal(net_ws_queued(f->w), 0);
    assert_int_equal(f->out.len, (2 + 2 + 300) + (2 + 100));
}

/* ---- bnet: back-pressure on a real socket whose peer stops reading ---- */

#define BN_TOKEN "0123456789abcdef0123456789abcdef"
/* Hang guard for each wait, not a performance limit. */
#define BN_GUARD_NS (20ull * 1000 * 1000 * 1000)
/* Message size: a 16-bit extended length, so each frame is 4 + BN_MSG. */
#define BN_MSG 60000

typedef struct bn {
    uv_loop_t loop;
    bnet *s;
    bnet_ws *ws;
    int opened, closed, drains;
    int want_drains; /* what bn_drained waits for */
    uint16_t close_code;
    size_t queued_at_drain;
    int fd;          /* the client's socket */
    size_t got;      /* bytes the client read after the 101 */
    char head[4096]; /* the 101 response */
    size_t head_len;
    int head_done;
    uint8_t last[32]; /* the last bytes read (to find a close frame) */
} bn;

static void bn_open(bnet_ws *ws, const bnet_req *req, void *ud)
{
    (void)req;
    bn *b = ud;
    b->ws = ws;
    b->opened++;
}

static void bn_msg(bnet_ws *ws, int binary, const void *data, size_t len, void *ud)
{
    (void)ws, (void)binary, (void)data, (void)len, (void)ud;
}

static void bn_close(bnet_ws *ws, uint16_t code, const char *reason, size_t rlen, void *ud)
{
    (void)ws, (void)reason, (void)rlen;
    bn *b = ud;
    b->closed++;
    b->close_code = code;
    b->ws = NULL;
}

static void bn_drain(bnet_ws *ws, void *ud)
{
    bn *b = ud;
    b->drains++;
    b->queued_at_drain = bnet_ws_queued(ws);
}

/* Reads what the client socket has (non-blocking). */
static void bn_read(bn *b)
{
    uint8_t buf[65536];
    for (;;) {
        ssize_t n = recv(b->fd, buf, sizeof buf, 0);
        if (n <= 0) return;
        size_t off = 0;
        if (!b->head_done) {
            while (off < (size_t)n && !b->head_done) {
                if (b->head_len + 1 < sizeof b->head) b->head[b->head_len++] = (char)buf[off];
                off++;
                b->head[b->head_len] = '\0';
                if (b->head_len >= 4 && !memcmp(b->head + b->head_len - 4, "\r\n\r\n", 4))
                    b->head_done = 1;
            }
        }
        size_t k = (size_t)n - off;
        b->got += k;
        if (k >= sizeof b->last)
            memcpy(b->last, buf + n - sizeof b->last, sizeof b->last);
        else if (k) {
            memmove(b->last, b->last + k, sizeof b->last - k);
            memcpy(b->last + sizeof b->last - k, buf + off, k);
        }
    }
}

/* Runs the loop (and the client's reads when reading) until done(b). */
static int bn_spin(bn *b, int reading, int (*done)(const bn *b))
{
    uint64_t end = uv_hrtime() + BN_GUARD_NS;
    while (!done(b)) {
        if (uv_hrtime() > end) return -1;
        int busy = uv_run(&b->loop, UV_RUN_NOWAIT);
        if (reading) bn_read(b);
        if (!busy)
            usleep(1000);
        else
            usleep(100);
    }
    return 0;
}

static int bn_is_open(const bn *b)
{
    return b->opened && b->head_done;
}

static int bn_drained(const bn *b)
{
    return b->drains >= b->want_drains;
}

static int bn_is_closed(const bn *b)
{
    return b->closed > 0;
}

static size_t bn_expect;
static int bn_got_all(const bn *b)
{
    return b->got >= bn_expect;
}

static void bn_start(bn *b, size_t ws_max_queue)
{
    memset(b, 0, sizeof *b);
    assert_int_equal(uv_loop_init(&b->loop), 0);
    bnet_opts o;
    bnet_opts_init(&o);
    o.port = 0;
    o.token = BN_TOKEN;
    o.limits.linger_ms = 200;
    if (ws_max_queue) o.limits.ws_max_queue = ws_max_queue;
    assert_int_equal(bnet_create(&b->s, &b->loop, &o), BNET_OK);
    bnet_ws_handlers h = {
        .on_open = bn_open, .on_message = bn_msg, .on_close = bn_close, .on_drain = bn_drain};
    assert_int_equal(bnet_route_ws(b->s, "/ws", 0, &h, b), BNET_OK);

    b->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(b->fd >= 0);
    int small = 4096; /* a slow reader: little room in the kernel for us */
    setsockopt(b->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)bnet_port(b->s));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(b->fd, (struct sockaddr *)&a, sizeof a), 0);
    fcntl(b->fd, F_SETFL, fcntl(b->fd, F_GETFL) | O_NONBLOCK);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer " BN_TOKEN "\r\n\r\n",
                     bnet_port(b->s));
    assert_int_equal(send(b->fd, req, (size_t)n, 0), n);
    assert_int_equal(bn_spin(b, 1, bn_is_open), 0);
    assert_non_null(strstr(b->head, "101 Switching Protocols"));
    assert_int_equal(b->got, 0);
}

static void bn_stop(bn *b)
{
    close(b->fd);
    bnet_destroy(b->s);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&b->loop), 0);
}

/* Sends BN_MSG-byte messages while the client does not read, until the
 * queue reaches the high mark; returns how many were sent. */
static size_t bn_congest(bn *b, const uint8_t *msg)
{
    size_t sent = 0;
    while (bnet_ws_queued(b->ws) < BNET_WS_HIGH_WATER) {
        assert_true(sent < 2000); /* 120 MB: the kernel would have filled long before */
        assert_int_equal(bnet_ws_send(b->ws, 1, msg, BN_MSG), BNET_OK);
        sent++;
        for (int i = 0; i < 5; i++) /* let bnet write what the kernel takes */
            uv_run(&b->loop, UV_RUN_NOWAIT);
    }
    return sent;
}

static void ws_queued_rises_and_on_drain_follows_the_low_mark(void **state)
{
    (void)state;
    bn b;
    bn_start(&b, 0);
    uint8_t *msg = malloc(BN_MSG);
    memset(msg, 'm', BN_MSG);
    /* Small traffic that the peer reads never congests. */
    assert_int_equal(bnet_ws_send(b.ws, 0, "hi", 2), BNET_OK);
    bn_expect = 4;
    assert_int_equal(bn_spin(&b, 1, bn_got_all), 0);
    assert_int_equal(bnet_ws_queued(b.ws), 0);
    assert_int_equal(b.drains, 0);

    size_t sent = bn_congest(&b, msg);
    assert_true(bnet_ws_queued(b.ws) >= BNET_WS_HIGH_WATER);
    assert_int_equal(b.drains, 0);
    /* Still congested while nothing is read. */
    for (int i = 0; i < 50; i++)
        uv_run(&b.loop, UV_RUN_NOWAIT);
    assert_int_equal(b.drains, 0);

    /* The client reads: on_drain comes once the queue is below the low mark. */
    b.want_drains = 1;
    assert_int_equal(bn_spin(&b, 1, bn_drained), 0);
    assert_int_equal(b.drains, 1);
    assert_true(b.queued_at_drain < BNET_WS_LOW_WATER);
    /* Everything arrives, and nothing more is signalled. */
    bn_expect = 4 + sent * (4 + BN_MSG);
    assert_int_equal(bn_spin(&b, 1, bn_got_all), 0);
    assert_int_equal(b.got, bn_expect);
    assert_int_equal(bnet_ws_queued(b.ws), 0);
    assert_int_equal(b.drains, 1);

    /* A second episode signals again. */
    size_t before = b.got;
    sent = bn_congest(&b, msg);
    b.want_drains = 2;
    assert_int_equal(bn_spin(&b, 1, bn_drained), 0);
    assert_true(b.queued_at_drain < BNET_WS_LOW_WATER);
    bn_expect = before + sent * (4 + BN_MSG);
    assert_int_equal(bn_spin(&b, 1, bn_got_all), 0);
    assert_int_equal(b.drains, 2);
    free(msg);
    bn_stop(&b);
    assert_int_equal(b.closed, 1);
}

static void ws_hard_limit_still_closes_with_1008_and_no_drain(void **state)
{
    (void)state;
    bn b;
    bn_start(&b, 1024 * 1024);
    uint8_t *msg = malloc(BN_MSG);
    memset(msg, 'm', BN_MSG);
    /* A producer that ignores the marks: sending fails once the queue is
     * over ws_max_queue, and the socket is being closed with 1008. */
    int rc = BNET_OK;
    for (int i = 0; i < 2000 && rc == BNET_OK; i++) {
        rc = bnet_ws_send(b.ws, 1, msg, BN_MSG);
        uv_run(&b.loop, UV_RUN_NOWAIT);
    }
    assert_int_equal(rc, BNET_E_FULL);
    assert_true(bnet_ws_queued(b.ws) >= BNET_WS_HIGH_WATER);
    assert_int_equal(bnet_ws_send(b.ws, 0, "x", 1), BNET_E_CLOSED);
    /* The client reads all of it, close frame last; the queue drains but
     * a closing socket gets no on_drain. */
    assert_int_equal(bn_spin(&b, 1, bn_is_closed), 0);
    assert_int_equal(b.close_code, 1008);
    assert_int_equal(b.drains, 0);
    /* The close frame: FIN+close opcode, 2+15 bytes, code 1008. */
    const uint8_t *t = b.last + sizeof b.last - (2 + 2 + 15);
    assert_int_equal(t[0], 0x88);
    assert_int_equal(t[1], 17);
    assert_int_equal((t[2] << 8) | t[3], 1008);
    free(msg);
    bn_stop(&b);
}

static void invalid_text_and_close_arguments_are_refused(void **state)
{
    fixture *f = *state;
    assert_int_equal(net_ws_send(f->w, 0, "\xff", 1), NET_WS_E_ARG);
    assert_int_equal(net_ws_close(f->w, 1005, NULL, 0), NET_WS_E_ARG);
    assert_int_equal(net_ws_close(f->w, 999, NULL, 0), NET_WS_E_ARG);
    assert_int_equal(net_ws_close(f->w, 5000, NULL, 0), NET_WS_E_ARG);
    assert_int_equal(net_ws_close(f->w, 1000, "\xc3", 1), NET_WS_E_ARG);
    assert_false(net_ws_closing(f->w));
}

static void long_close_reason_is_cut_at_a_character_boundary(void **state)
{
    fixture *f = *state;
    char reason[200];
    size_t n = 0;
    reason[n++] = 'x';
    while (n + 2 <= 130) {
        reason[n++] = '\xc3';
        reason[n++] = '\xa9';
    }
    assert_int_equal(net_ws_close(f->w, 4000, reason, n), 0);
    assert_int_equal(net_ws_flush(f->w), 0);
    sframe out[2];
    assert_int_equal(parse(f, out, 2), 1);
    assert_true(out[0].n - 2 <= NET_WS_MAX_REASON);
    assert_int_equal(out[0].n - 2, 123);
    assert_true(net_ws_utf8_valid(out[0].p + 2, out[0].n - 2));
}

static void utf8_validator_follows_rfc3629(void **state)
{
    (void)state;
    const struct {
        const char *s;
        size_t n;
        int ok;
    } cases[] = {
        {"plain", 5, 1},
        {"\0nul", 4, 1},
        {"\xc3\xa9", 2, 1},
        {"\xf0\x9f\x98\x80", 4, 1},
        {"\xc0\xaf", 2, 0},
        {"\xed\xa0\x80", 3, 0},
        {"\xf4\x90\x80\x80", 4, 0},
        {"\xe2\x82", 2, 0},
        {"\x80", 1, 0},
        {"\xf8\x88\x80\x80\x80", 5, 0},
        /* Long ASCII runs are checked eight bytes at a time: what comes
         * inside, right after or at the very end of a run still counts. */
        {"0123456789abcdef0123456789abcdef", 32, 1},
        {"0123456789abcdef\xc3\xa9"
         "0123456789abcdef",
         34, 1},
        {"01234567\x80"
         "0123456789",
         19, 0},
        {"0123456789abcde\xc3", 16, 0},
        {"0123456789abcdef\xed\xa0\x80"
         "01234567",
         27, 0},
        {"01234567"
         "0123456\xff",
         16, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(net_ws_utf8_valid((const uint8_t *)cases[i].s, cases[i].n), cases[i].ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accept_key_matches_rfc6455_example),
        cmocka_unit_test(handshake_accepts_a_valid_request),
        cmocka_unit_test(handshake_other_version_is_426),
        cmocka_unit_test(handshake_bad_key_or_method_is_400),
        cmocka_unit_test(switching_protocols_response_is_exact),
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(text_message_is_delivered_and_reply_framed_exactly),
        T(message_fed_byte_by_byte_arrives_once),
        T(fragments_are_joined_and_interleaved_ping_answered),
        T(context_lives_only_while_something_is_in_flight),
        T(utf8_split_across_fragments_is_valid),
        T(unmasked_client_frame_closes_with_1002),
        T(oversized_message_closes_with_1009),
        T(oversized_fragmented_message_closes_with_1009),
        T(invalid_utf8_text_closes_with_1007),
        T(overlong_control_frame_fails_the_connection),
        T(reserved_bits_and_unknown_opcodes_close_with_1002),
        T(peer_close_is_echoed_and_reported),
        T(close_without_code_is_reported_as_1005),
        T(connection_drop_is_reported_as_1006),
        T(application_close_follows_queued_messages),
        T(full_send_queue_closes_with_1008),
        T(queued_counts_bytes_until_the_output_takes_them),
        T(invalid_text_and_close_arguments_are_refused),
        T(long_close_reason_is_cut_at_a_character_boundary),
#undef T
        cmocka_unit_test(utf8_validator_follows_rfc3629),
        cmocka_unit_test(ws_queued_rises_and_on_drain_follows_the_low_mark),
        cmocka_unit_test(ws_hard_limit_still_closes_with_1008_and_no_drain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

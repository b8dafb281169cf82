/* libFuzzer target: the WebSocket handshake check on a fuzzed key and
 * version, then arbitrary bytes as client frames through net_ws in pieces,
 * with echoes, closes and an output that refuses at input-chosen times. */
// clang-format off
// Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Ibridge -Icommon fuzz/fuzz_ws.c bridge/net_ws.c bridge/net_msg.c bridge/net_buf.c common/text.c -lwslay -lcrypto -o fuzz_ws
// clang-format on
#include "net_ws.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    net_ws *w;
    net_buf out;
    int refuse;
} sink;

static int send_cb(const uint8_t *d, size_t n, void *ud)
{
    sink *s = ud;
    if (s->refuse || s->out.len > 65536) return 1;
    return net_buf_append(&s->out, d, n) ? 1 : 0;
}

static void on_message(int binary, const uint8_t *d, size_t n, void *ud)
{
    sink *s = ud;
    if (n == 1 && d[0] == 'c')
        net_ws_close(s->w, 4000, (const char *)d, n);
    else
        net_ws_send(s->w, binary, d, n);
}

static const net_ws_callbacks cbs = {on_message, send_cb};

static void handshake(const uint8_t *d, size_t n)
{
    net_msg *m;
    if (net_msg_create(&m)) return;
    size_t half = n / 2;
    net_msg_set_method(m, "GET", 3);
    net_msg_set_target(m, "/ws", 3);
    net_msg_add_header(m, "Connection", 10, "Upgrade", 7);
    net_msg_add_header(m, "Upgrade", 7, "websocket", 9);
    net_msg_add_header(m, "Sec-WebSocket-Version", 21, (const char *)d, half);
    net_msg_add_header(m, "Sec-WebSocket-Key", 17, (const char *)d + half, n - half);
    net_msg_set_flags(m, NET_MSG_UPGRADE | NET_MSG_KEEP_ALIVE);
    net_str key;
    if (net_ws_handshake_check(m, &key) == 0) {
        net_buf b;
        net_buf_init(&b);
        if (net_ws_write_101(&b, key.p, key.len, (net_str){NULL, 0})) abort();
        net_buf_free(&b);
    }
    net_msg_destroy(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    size_t hs = data[0] % 48;
    size_t step = (size_t)data[1] % 200 + 1;
    data += 2, size -= 2;
    if (hs > size) hs = size;
    handshake(data, hs);
    data += hs, size -= hs;

    sink s = {0};
    net_buf_init(&s.out);
    net_ws_limits lim = {4096, 8192};
    if (net_ws_create(&s.w, &lim, &cbs, &s)) return 0;
    for (size_t off = 0; off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        s.refuse = data[off] & 1;
        if (net_ws_feed(s.w, data + off, n)) break;
        if (net_ws_flush(s.w)) break;
        if (s.out.len > 32768) net_buf_reset(&s.out);
        if (net_ws_finished(s.w)) break;
    }
    s.refuse = 0;
    net_ws_flush(s.w);
    net_str reason;
    net_ws_close_code(s.w, &reason);
    net_ws_destroy(s.w);
    net_buf_free(&s.out);
    return 0;
}

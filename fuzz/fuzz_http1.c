/* libFuzzer target: arbitrary bytes through the HTTP/1.1 core (in pieces
 * whose sizes come from the input), the policy checks on every parsed
 * request, and response serialisation with request-supplied header values. */
// clang-format off
// Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -DLLHTTP_STRICT_MODE=1 -Ibridge -I/usr/share/include/llhttp fuzz/fuzz_http1.c bridge/net_http1.c bridge/net_msg.c bridge/net_buf.c bridge/net_policy.c /usr/share/llhttp/{llhttp,api,http}.c -lcrypto -o fuzz_http1
// clang-format on
#include "net_http1.h"
#include "net_policy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static net_policy *policy;

static int on_head(net_msg *m, void *ud)
{
    (void)ud;
    net_policy_req r;
    net_policy_req_from_msg(&r, m, 1);
    return net_policy_check(policy, &r) == NET_POLICY_OK ? 0 : 401;
}

static const net_http1_callbacks cbs = {NULL, on_head};

static void answer(const net_msg *m)
{
    /* Echo a request header into a response: invalid values must be
     * refused, never written. */
    net_buf out;
    net_buf_init(&out);
    net_str name, value;
    if (net_msg_header_at(m, 0, &name, &value) == 0) {
        net_field f = {"X-Echo", value.p};
        net_http1_write_head(&out, 200, &f, 1, 0, 0);
    }
    net_http1_write_error(&out, 400, net_msg_target(m), NULL, 0, 1);
    net_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!policy) {
        static const char *const hosts[] = {"bridge.test"};
        net_policy_opts o = {
            8189, hosts, 1,
            NULL, 0,     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};
        if (net_policy_create(&policy, &o)) abort();
    }
    if (size < 1) return 0;
    size_t step = (size_t)data[0] % 64 + 1;
    data++, size--;
    net_http1_limits lim;
    net_http1_limits_default(&lim);
    lim.max_body = 4096;
    lim.max_header_bytes = 2048;
    net_http1 *p;
    if (net_http1_create(&p, &lim, &cbs, NULL)) return 0;
    /* Input is buffered like the server does: unconsumed bytes stay. */
    net_buf in;
    net_buf_init(&in);
    size_t off = 0;
    int alive = 1;
    while (alive && off < size) {
        size_t n = size - off < step ? size - off : step;
        net_buf_append(&in, data + off, n);
        off += n;
        for (;;) {
            size_t used = 0;
            net_msg *m = NULL;
            int r = net_http1_feed(p, in.data, in.len, &used, &m);
            net_buf_consume(&in, used);
            if (r == NET_HTTP1_REQUEST) {
                answer(m);
                net_msg_destroy(m);
                if (in.len) continue;
            } else if (r < 0) {
                net_http1_error_status(p);
                alive = 0;
            }
            break;
        }
    }
    net_buf_free(&in);
    net_http1_destroy(p);
    return 0;
}

/* libFuzzer target for the SSE parser: any bytes in, fed whole and again
 * split at a point chosen by the input, must give the same events and the
 * same end state, within the limits. Small limits make the bounds reachable.
 * Run from the repository root; -max_len=4096 keeps inputs near real sizes. */
/* clang -g -fsanitize=fuzzer,address,undefined -Icommon -Icore fuzz/fuzz_sse.c common/sse.c */
#include "sse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_LINE 256
#define FUZZ_MAX_DATA 512
#define FUZZ_MAX_EVENTS 512

static void check(int ok)
{
    if (!ok) abort();
}

/* Events seen, as a running hash plus a count, so two runs compare cheaply. */
typedef struct seen {
    uint64_t hash;
    size_t n;
} seen;

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ULL;
    return (h ^ n) * 1099511628211ULL;
}

static int on_event(void *ud, const sse_event *ev)
{
    seen *s = ud;
    check(ev->type_len > 0 && ev->type_len <= SSE_MAX_TYPE);
    check(ev->data_len < FUZZ_MAX_DATA);
    check(ev->id_len <= SSE_MAX_ID && !memchr(ev->id, 0, ev->id_len));
    /* Line ends never survive inside a type or an id. */
    check(!memchr(ev->type, '\n', ev->type_len) && !memchr(ev->type, '\r', ev->type_len));
    check(!memchr(ev->data, '\r', ev->data_len));
    s->hash = mix(s->hash, ev->type, ev->type_len);
    s->hash = mix(s->hash, ev->data, ev->data_len);
    s->hash = mix(s->hash, ev->id, ev->id_len);
    s->n++;
    return s->n >= FUZZ_MAX_EVENTS; /* exercises the stop path too */
}

static int run(const uint8_t *data, size_t size, size_t cut, seen *s, int64_t *retry)
{
    sse_parser *p;
    sse_opts o = {
        .max_line = FUZZ_MAX_LINE, .max_data = FUZZ_MAX_DATA, .on_event = on_event, .ud = s};
    if (sse_create(&p, &o) != SSE_OK) abort();
    int rc = sse_feed(p, (const char *)data, cut);
    if (rc == SSE_OK) rc = sse_feed(p, (const char *)data + cut, size - cut);
    int fin = sse_finish(p);
    check(rc == SSE_OK || rc == SSE_ETOOBIG || rc == SSE_ESTOPPED);
    check(rc == SSE_OK ? (fin == SSE_OK || fin == SSE_EPARTIAL) : fin == rc);
    *retry = sse_retry_ms(p);
    sse_destroy(p);
    return fin;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    size_t cut = data[0] % size;
    seen a = {1469598103934665603ULL, 0}, b = a;
    int64_t ra, rb;
    int fa = run(data, size, size, &a, &ra);
    int fb = run(data, size, cut, &b, &rb);
    /* A line over the limit may be found before or after the cut; events
     * before the failure match either way, so compare only clean runs. */
    if (fa != SSE_ETOOBIG && fb != SSE_ETOOBIG) {
        check(fa == fb);
        check(a.n == b.n && a.hash == b.hash);
        check(ra == rb);
    }
    return 0;
}

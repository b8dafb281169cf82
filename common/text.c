#include "text.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

size_t text_utf8_seq(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    if (n == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned min, cp;
    if ((c & 0xE0) == 0xC0) {
        len = 2, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len) return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

static int utf8_valid(const char *s, size_t len, int allow_nul)
{
    size_t i = 0;
    while (i < len) {
        /* Runs of ASCII eight bytes at a time (JSON is mostly ASCII, and
         * every WebSocket text message sent is checked: a graph's answer is
         * ~200 KB). A word with a high bit, or a NUL when none may be,
         * goes the slow way. */
        while (len - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, sizeof w);
            if (w & 0x8080808080808080ull) break;
            if (!allow_nul && ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull)) break;
            i += 8;
        }
        if (i >= len) break;
        if (s[i] == 0 && !allow_nul) return 0;
        size_t n = text_utf8_seq(s + i, len - i);
        if (!n) return 0;
        i += n;
    }
    return 1;
}

int text_utf8_valid(const char *s, size_t len)
{
    return utf8_valid(s, len, 0);
}

const char *text_field_problem(const char *s, size_t max)
{
    if (!s) return NULL;
    size_t len = strlen(s);
    if (len > max) return "is too long";
    if (!utf8_valid(s, len, 0)) return "is not valid UTF-8";
    return NULL;
}

int text_utf8_valid_nul(const char *s, size_t len)
{
    return utf8_valid(s, len, 1);
}

int text_uuid(char out[TEXT_UUID_LEN])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) return -1;
    b[6] = (b[6] & 0x0F) | 0x40;
    b[8] = (b[8] & 0x3F) | 0x80;
    snprintf(out, TEXT_UUID_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return 0;
}

int text_is_uuid(const char *s)
{
    if (!s || strlen(s) != 36) return 0;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

int text_err(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t text_now_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

int64_t text_mono_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

struct timespec text_realtime_after(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

char *text_dup(const char *s)
{
    return s ? text_dupn(s, strlen(s)) : NULL;
}

char *text_printf(const char *fmt, ...)
{
    text_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    text_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    return text_buf_take(&b);
}

char *text_dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) abort();
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

size_t text_utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max) return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

int text_buf_reserve(text_buf *b, size_t extra)
{
    if (b->oom) return -1;
    if (extra < b->cap - b->n) return 0;
    if (extra > SIZE_MAX / 2 - b->n) {
        b->oom = 1;
        return -1;
    }
    size_t need = b->n + extra + 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np) {
        b->oom = 1;
        return -1;
    }
    b->p = np;
    b->cap = cap;
    return 0;
}

void text_buf_addn(text_buf *b, const char *s, size_t len)
{
    if (text_buf_reserve(b, len)) return;
    if (len) memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = 0;
}

void text_buf_add(text_buf *b, const char *s)
{
    text_buf_addn(b, s, strlen(s));
}

int text_buf_addn_max(text_buf *b, const void *s, size_t len, size_t max)
{
    if (len > max || b->n > max - len) return TEXT_BUF_ETOOBIG;
    text_buf_addn(b, s, len);
    return b->oom ? TEXT_BUF_ENOMEM : 0;
}

size_t text_sink_write(char *data, size_t size, size_t n, void *ud)
{
    text_sink *k = ud;
    size_t len = size * n;
    int rc = text_buf_addn_max(&k->b, data, len, k->max);
    if (rc == TEXT_BUF_ETOOBIG) k->over = 1;
    return rc ? 0 : len;
}

void text_buf_vaddf(text_buf *b, const char *fmt, va_list ap)
{
    if (b->oom) return;
    /* Most pieces are short: one pass into a stack buffer, a second one
     * straight into the string only for long ones. */
    char tmp[512];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof tmp) {
        va_end(ap2);
        text_buf_addn(b, tmp, (size_t)n);
        return;
    }
    if (text_buf_reserve(b, (size_t)n) == 0) {
        vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap2);
        b->n += (size_t)n;
    }
    va_end(ap2);
}

void text_buf_addf(text_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    text_buf_vaddf(b, fmt, ap);
    va_end(ap);
}

void text_buf_reset(text_buf *b)
{
    b->n = 0;
    if (b->p) b->p[0] = 0;
}

char *text_buf_take(text_buf *b)
{
    char *s = b->oom ? NULL : b->p ? b->p : text_dup("");
    if (b->oom) free(b->p);
    memset(b, 0, sizeof *b);
    return s;
}

void text_buf_free(text_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void text_buf_add_base64(text_buf *b, const unsigned char *data, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char quad[4 * 256]; /* encoded in chunks: one append per 192 input bytes */
    size_t q = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len) v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len) v |= data[i + 2];
        quad[q++] = tab[(v >> 18) & 63];
        quad[q++] = tab[(v >> 12) & 63];
        quad[q++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        quad[q++] = i + 2 < len ? tab[v & 63] : '=';
        if (q == sizeof quad) {
            text_buf_addn(b, quad, q);
            q = 0;
        }
    }
    if (q) text_buf_addn(b, quad, q);
}

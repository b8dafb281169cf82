#include "sse.h"

#include "text.h"

#include <stdlib.h>
#include <string.h>

struct sse_parser {
    sse_opts o;
    text_buf line; /* the current line, when it spans chunks */
    text_buf data; /* data of the event being built, each value + LF */
    text_buf type; /* event type of the event being built */
    text_buf id;   /* last event id */
    int skip_lf;   /* the previous chunk ended with CR: a LF next is its pair */
    int first;     /* no line finished yet: a BOM may start the next one */
    int pending;   /* a field of an undispatched event was seen */
    int64_t retry; /* -1: none */
    int failed;    /* sticky sse_err once the stream cannot go on */
};

/* Appends to a buffer with a hard bound. */
static int sbuf_add(text_buf *b, const char *s, size_t n, size_t max)
{
    int rc = text_buf_addn_max(b, s, n, max);
    return rc == 0 ? SSE_OK : rc == TEXT_BUF_ETOOBIG ? SSE_ETOOBIG : SSE_ENOMEM;
}

static int sbuf_set(text_buf *b, const char *s, size_t n, size_t max)
{
    b->n = 0;
    return sbuf_add(b, s, n, max);
}

int sse_create(sse_parser **out, const sse_opts *opts)
{
    *out = NULL;
    sse_parser *p = calloc(1, sizeof *p);
    if (!p) return SSE_ENOMEM;
    p->o = *opts;
    if (!p->o.max_line) p->o.max_line = SSE_DEFAULT_MAX_LINE;
    if (!p->o.max_data) p->o.max_data = SSE_DEFAULT_MAX_DATA;
    p->first = 1;
    p->retry = -1;
    *out = p;
    return SSE_OK;
}

void sse_destroy(sse_parser *p)
{
    if (!p) return;
    text_buf_free(&p->line);
    text_buf_free(&p->data);
    text_buf_free(&p->type);
    text_buf_free(&p->id);
    free(p);
}

static int dispatch(sse_parser *p)
{
    p->pending = 0;
    if (p->data.n == 0) {
        p->type.n = 0;
        return SSE_OK;
    }
    sse_event ev = {
        .type = p->type.n ? p->type.p : "message",
        .type_len = p->type.n ? p->type.n : 7,
        .data = p->data.p,
        .data_len = p->data.n - 1, /* the LF after the last value */
        .id = p->id.n ? p->id.p : "",
        .id_len = p->id.n,
    };
    int stop = p->o.on_event ? p->o.on_event(p->o.ud, &ev) : 0;
    p->data.n = 0;
    p->type.n = 0;
    return stop ? SSE_ESTOPPED : SSE_OK;
}

static int field_is(const char *name, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(name, want, n) == 0;
}

/* Handles one complete line (without its end). */
static int process_line(sse_parser *p, const char *s, size_t n)
{
    if (p->first) {
        p->first = 0;
        if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3, n -= 3;
    }
    if (n == 0) return dispatch(p);
    if (s[0] == ':') return SSE_OK;
    const char *colon = memchr(s, ':', n);
    size_t nlen = colon ? (size_t)(colon - s) : n;
    const char *v = colon ? colon + 1 : s + n;
    size_t vlen = colon ? n - nlen - 1 : 0;
    if (vlen && v[0] == ' ') v++, vlen--;
    int rc = SSE_OK;
    if (field_is(s, nlen, "data")) {
        p->pending = 1;
        if ((rc = sbuf_add(&p->data, v, vlen, p->o.max_data)) != SSE_OK) return rc;
        rc = sbuf_add(&p->data, "\n", 1, p->o.max_data);
    } else if (field_is(s, nlen, "event")) {
        p->pending = 1;
        /* A type longer than any real one is kept cut: types are compared,
         * never echoed, so a cut one simply matches nothing. */
        rc = sbuf_set(&p->type, v, vlen > SSE_MAX_TYPE ? SSE_MAX_TYPE : vlen, SSE_MAX_TYPE);
    } else if (field_is(s, nlen, "id")) {
        if (!memchr(v, 0, vlen) && vlen <= SSE_MAX_ID) rc = sbuf_set(&p->id, v, vlen, SSE_MAX_ID);
    } else if (field_is(s, nlen, "retry")) {
        int64_t ms = 0;
        size_t i = 0;
        for (; i < vlen && v[i] >= '0' && v[i] <= '9'; i++)
            if (ms < INT64_MAX / 10 - 10) ms = ms * 10 + (v[i] - '0');
        if (vlen > 0 && i == vlen) p->retry = ms;
    }
    return rc;
}

int sse_feed(sse_parser *p, const char *buf, size_t len)
{
    if (p->failed) return p->failed;
    size_t i = 0;
    int rc = SSE_OK;
    while (i < len && rc == SSE_OK) {
        if (p->skip_lf) {
            p->skip_lf = 0;
            if (buf[i] == '\n') {
                i++;
                continue;
            }
        }
        size_t j = i;
        while (j < len && buf[j] != '\n' && buf[j] != '\r')
            j++;
        if (j == len) {
            /* An unfinished line: keep it for the next chunk. */
            rc = sbuf_add(&p->line, buf + i, len - i, p->o.max_line);
            break;
        }
        if (p->line.n) {
            if ((rc = sbuf_add(&p->line, buf + i, j - i, p->o.max_line)) != SSE_OK) break;
            size_t n = p->line.n;
            p->line.n = 0; /* the bytes stay in place for process_line */
            rc = process_line(p, p->line.p, n);
        } else if (j - i > p->o.max_line) {
            rc = SSE_ETOOBIG;
        } else {
            rc = process_line(p, buf + i, j - i);
        }
        if (buf[j] == '\r') {
            if (j + 1 < len) {
                if (buf[j + 1] == '\n') j++;
            } else {
                p->skip_lf = 1;
            }
        }
        i = j + 1;
    }
    if (rc != SSE_OK) p->failed = rc;
    return rc;
}

int sse_finish(sse_parser *p)
{
    if (p->failed) return p->failed;
    int partial = p->line.n > 0 || p->pending;
    p->line.n = 0;
    p->data.n = 0;
    p->type.n = 0;
    p->pending = 0;
    return partial ? SSE_EPARTIAL : SSE_OK;
}

int64_t sse_retry_ms(const sse_parser *p)
{
    return p->retry;
}

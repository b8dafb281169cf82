#include "net_http1.h"

#include <llhttp.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct net_http1 {
    llhttp_t parser;
    llhttp_settings_t settings;
    net_http1_limits lim;
    const net_http1_callbacks *cb;
    void *ud;

    net_msg *msg;             /* request being built; NULL between requests */
    net_buf url, name, value; /* pieces llhttp may deliver in several calls */
    size_t head_bytes;        /* counted bytes of the current head */
    size_t raw_head_bytes;    /* every byte fed while the head was open */
    size_t nheaders;
    size_t body_bytes;
    int in_request, head_done, in_value, complete, paused, dead, rejected;

    /* obs-fold detection: llhttp delivers "a\r\n b" as two value pieces in
     * the same buffer; a piece that does not continue the previous one
     * exactly (same buffer and adjacent, or previous ended at the buffer end
     * and this one starts the next buffer) skipped a line break. */
    const char *buf_start, *buf_end;
    const char *val_end;
    int val_end_at_buf_end;

    int status;
    const char *error_text;
};

void net_http1_limits_default(net_http1_limits *l)
{
    l->max_header_bytes = NET_HTTP1_MAX_HEADER_BYTES;
    l->max_headers = NET_HTTP1_MAX_HEADERS;
    l->max_url = NET_HTTP1_MAX_URL;
    l->max_body = NET_HTTP1_MAX_BODY;
}

static net_http1 *self(llhttp_t *h)
{
    return h->data;
}

/* Records the first failure; callbacks then return an llhttp error. */
static int fail(net_http1 *p, int status, const char *text)
{
    if (!p->status) {
        p->status = status;
        p->error_text = text;
    }
    return HPE_USER;
}

static int count_head(net_http1 *p, size_t n)
{
    p->head_bytes += n;
    if (p->head_bytes > p->lim.max_header_bytes)
        return fail(p, 431, "request header fields too large");
    return 0;
}

static int on_message_begin(llhttp_t *h)
{
    net_http1 *p = self(h);
    if (!p->msg && net_msg_create(&p->msg) != NET_MSG_OK) return fail(p, 500, "out of memory");
    p->in_request = 1;
    p->head_done = 0;
    p->complete = 0;
    p->head_bytes = p->raw_head_bytes = p->nheaders = p->body_bytes = 0;
    p->in_value = 0;
    net_buf_reset(&p->url);
    net_buf_reset(&p->name);
    net_buf_reset(&p->value);
    if (p->cb && p->cb->on_begin) p->cb->on_begin(p->ud);
    return 0;
}

static int on_url(llhttp_t *h, const char *at, size_t n)
{
    net_http1 *p = self(h);
    if (p->url.len + n > p->lim.max_url) return fail(p, 414, "request-target too long");
    if (count_head(p, n)) return HPE_USER;
    if (net_buf_append(&p->url, at, n)) return fail(p, 500, "out of memory");
    return 0;
}

static int add_header(net_http1 *p)
{
    if (++p->nheaders > p->lim.max_headers) return fail(p, 431, "too many header fields");
    if (net_msg_add_header(p->msg, (const char *)p->name.data, p->name.len,
                           (const char *)p->value.data, p->value.len))
        return fail(p, 500, "out of memory");
    net_buf_reset(&p->name);
    net_buf_reset(&p->value);
    p->in_value = 0;
    return 0;
}

static int on_header_field(llhttp_t *h, const char *at, size_t n)
{
    net_http1 *p = self(h);
    /* ": " and CRLF are not delivered; count them so many empty headers
     * still add up. */
    if (count_head(p, p->name.len ? n : n + 4)) return HPE_USER;
    if (p->head_done) return 0; /* trailer fields: counted, then dropped */
    if (net_buf_append(&p->name, at, n)) return fail(p, 500, "out of memory");
    p->val_end = NULL;
    return 0;
}

static int on_header_value(llhttp_t *h, const char *at, size_t n)
{
    net_http1 *p = self(h);
    if (count_head(p, n)) return HPE_USER;
    if (p->val_end) {
        int adjacent = at == p->val_end;
        int across = p->val_end_at_buf_end && at == p->buf_start;
        if (!adjacent && !across) return fail(p, 400, "obsolete line folding");
    }
    p->val_end = at + n;
    p->val_end_at_buf_end = p->val_end == p->buf_end;
    p->in_value = 1;
    if (p->head_done) return 0;
    if (net_buf_append(&p->value, at, n)) return fail(p, 500, "out of memory");
    return 0;
}

static int on_header_value_complete(llhttp_t *h)
{
    net_http1 *p = self(h);
    p->val_end = NULL;
    if (p->head_done) {
        net_buf_reset(&p->name);
        net_buf_reset(&p->value);
        return 0;
    }
    return add_header(p) ? -1 : 0;
}

static int check_head(net_http1 *p)
{
    llhttp_t *h = &p->parser;
    net_msg *m = p->msg;
    uint8_t major = llhttp_get_http_major(h), minor = llhttp_get_http_minor(h);
    if (major != 1 || minor > 1) return fail(p, 505, "http version not supported");
    if (h->method == HTTP_CONNECT) return fail(p, 501, "method not implemented");
    const char *method = llhttp_method_name(h->method);
    if (net_msg_set_method(m, method, strlen(method))) return fail(p, 500, "out of memory");
    int r = net_msg_set_target(m, (const char *)p->url.data, p->url.len);
    if (r == NET_MSG_E_TARGET) return fail(p, 400, "request-target must be a path");
    if (r) return fail(p, 500, "out of memory");

    size_t nhost = net_msg_header_n(m, "host");
    if (nhost > 1 || (nhost == 0 && minor == 1)) return fail(p, 400, "exactly one Host required");
    net_str host = net_msg_header(m, "host");
    if (host.p && net_msg_set_authority(m, host.p, host.len)) return fail(p, 500, "out of memory");

    unsigned flags = 0;
    if (minor == 0) flags |= NET_MSG_HTTP10;
    /* HTTP/1.0 keep-alive is a legacy extension; such clients get one
     * response per connection. */
    if (minor == 1 && llhttp_should_keep_alive(h)) flags |= NET_MSG_KEEP_ALIVE;
    if (h->upgrade) flags |= NET_MSG_UPGRADE;
    size_t nexpect = net_msg_header_n(m, "expect");
    if (nexpect) {
        net_str e = net_msg_header(m, "expect");
        if (nexpect > 1 || !net_str_ieq(e, "100-continue"))
            return fail(p, 417, "unsupported expectation");
        if (minor == 1) flags |= NET_MSG_EXPECT_CONTINUE;
    }
    if ((h->flags & F_CONTENT_LENGTH) && h->content_length > p->lim.max_body)
        return fail(p, 413, "request body too large");
    net_msg_set_flags(m, flags);
    return 0;
}

static int on_headers_complete(llhttp_t *h)
{
    net_http1 *p = self(h);
    if (p->in_value || p->name.len) {
        if (add_header(p)) return -1;
    }
    if (check_head(p)) return -1;
    p->head_done = 1;
    if (p->cb && p->cb->on_head) {
        int st = p->cb->on_head(p->msg, p->ud);
        if (st) {
            p->status = st;
            p->error_text = "rejected";
            p->rejected = 1;
            return -1;
        }
    }
    return 0;
}

static int on_body(llhttp_t *h, const char *at, size_t n)
{
    net_http1 *p = self(h);
    if (n > p->lim.max_body - p->body_bytes) return fail(p, 413, "request body too large");
    p->body_bytes += n;
    if (net_msg_append_body(p->msg, at, n)) return fail(p, 500, "out of memory");
    return 0;
}

static int on_message_complete(llhttp_t *h)
{
    net_http1 *p = self(h);
    p->complete = 1;
    p->in_request = 0;
    return HPE_PAUSED;
}

int net_http1_create(net_http1 **out, const net_http1_limits *limits, const net_http1_callbacks *cb,
                     void *ud)
{
    net_http1 *p = calloc(1, sizeof *p);
    if (!p) return NET_HTTP1_E_NOMEM;
    if (limits)
        p->lim = *limits;
    else
        net_http1_limits_default(&p->lim);
    p->cb = cb;
    p->ud = ud;
    net_buf_init(&p->url);
    net_buf_init(&p->name);
    net_buf_init(&p->value);
    llhttp_settings_init(&p->settings);
    p->settings.on_message_begin = on_message_begin;
    p->settings.on_url = on_url;
    p->settings.on_header_field = on_header_field;
    p->settings.on_header_value = on_header_value;
    p->settings.on_header_value_complete = on_header_value_complete;
    p->settings.on_headers_complete = on_headers_complete;
    p->settings.on_body = on_body;
    p->settings.on_message_complete = on_message_complete;
    llhttp_init(&p->parser, HTTP_REQUEST, &p->settings);
    p->parser.data = p;
    *out = p;
    return 0;
}

void net_http1_destroy(net_http1 *p)
{
    if (!p) return;
    net_msg_destroy(p->msg);
    net_buf_free(&p->url);
    net_buf_free(&p->name);
    net_buf_free(&p->value);
    free(p);
}

static void map_llhttp_error(net_http1 *p, llhttp_errno_t e)
{
    if (p->status) return; /* one of our callbacks failed first */
    switch (e) {
    case HPE_INVALID_METHOD:
        fail(p, 501, "method not implemented");
        break;
    case HPE_INVALID_VERSION:
    case HPE_PAUSED_H2_UPGRADE:
        fail(p, 505, "http version not supported");
        break;
    case HPE_UNEXPECTED_CONTENT_LENGTH:
        fail(p, 400, "conflicting Content-Length or Transfer-Encoding");
        break;
    case HPE_INVALID_CONTENT_LENGTH:
        fail(p, 400, "invalid Content-Length");
        break;
    case HPE_INVALID_TRANSFER_ENCODING:
        fail(p, 400, "invalid Transfer-Encoding");
        break;
    case HPE_INVALID_CHUNK_SIZE:
        fail(p, 400, "invalid chunk");
        break;
    default:
        fail(p, 400, "malformed request");
        break;
    }
}

int net_http1_feed(net_http1 *p, const uint8_t *data, size_t len, size_t *consumed, net_msg **out)
{
    *consumed = 0;
    *out = NULL;
    if (p->dead) return NET_HTTP1_E_CLOSED;
    if (p->paused) {
        llhttp_resume(&p->parser);
        p->paused = 0;
    }
    const char *d = (const char *)data;
    size_t off = 0;
    for (;;) {
        p->buf_start = d + off;
        p->buf_end = d + len;
        llhttp_errno_t e = llhttp_execute(&p->parser, d + off, len - off);
        size_t used =
            e == HPE_OK ? len - off : (size_t)(llhttp_get_error_pos(&p->parser) - (d + off));
        if (e == HPE_PAUSED_UPGRADE) {
            /* The previous request asked for an upgrade and the caller kept
             * feeding: the upgrade was declined, continue as HTTP/1.1. */
            llhttp_resume_after_upgrade(&p->parser);
            off += used;
            if (off == len) break;
            continue;
        }
        /* Bytes spent inside a head that is still open count against the
         * header limit even when no callback saw them (whitespace padding);
         * a head that completed within this call was bounded by the
         * callbacks and by the size of one read. */
        if (p->in_request && !p->head_done) {
            p->raw_head_bytes += used;
            if (p->raw_head_bytes > p->lim.max_header_bytes) {
                fail(p, 431, "request header fields too large");
                p->dead = 1;
                *consumed = off + used;
                return NET_HTTP1_E_PARSE;
            }
        }
        off += used;
        if (e == HPE_OK) break;
        if (e == HPE_PAUSED && p->complete) {
            p->paused = 1;
            p->complete = 0;
            p->head_done = 0;
            *out = p->msg;
            p->msg = NULL;
            *consumed = off;
            return NET_HTTP1_REQUEST;
        }
        p->dead = 1;
        *consumed = off;
        if (p->status == 500) return NET_HTTP1_E_NOMEM;
        if (p->rejected) return NET_HTTP1_E_REJECTED;
        map_llhttp_error(p, e);
        return NET_HTTP1_E_PARSE;
    }
    *consumed = off;
    return NET_HTTP1_NEED_MORE;
}

int net_http1_in_request(const net_http1 *p)
{
    return p->in_request;
}

int net_http1_head_done(const net_http1 *p)
{
    return p->in_request && p->head_done;
}

int net_http1_error_status(const net_http1 *p)
{
    return p->status ? p->status : 400;
}

const char *net_http1_error_text(const net_http1 *p)
{
    return p->error_text ? p->error_text : "malformed request";
}

const char *net_http1_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 421:
        return "Misdirected Request";
    case 422:
        return "Unprocessable Content";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

int net_http1_write_head(net_buf *out, int status, const net_field *fields, size_t nfields,
                         int64_t content_length, int close)
{
    if (status < 100 || status > 999) return NET_HTTP1_E_PARSE;
    for (size_t i = 0; i < nfields; i++)
        if (!net_field_valid(fields[i].name, fields[i].value)) return NET_HTTP1_E_PARSE;
    size_t start = out->len;
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int r = net_buf_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, net_http1_reason(status),
                           date);
    for (size_t i = 0; i < nfields && r == 0; i++)
        r = net_buf_printf(out, "%s: %s\r\n", fields[i].name, fields[i].value);
    int bodyless = status < 200 || status == 204 || status == 304;
    if (r == 0 && !bodyless) {
        if (content_length >= 0)
            r = net_buf_printf(out, "Content-Length: %lld\r\n", (long long)content_length);
        else
            r = net_buf_append_str(out, "Transfer-Encoding: chunked\r\n");
    }
    if (r == 0 && close) r = net_buf_append_str(out, "Connection: close\r\n");
    if (r == 0) r = net_buf_append(out, "\r\n", 2);
    if (r) {
        out->len = start;
        return NET_HTTP1_E_NOMEM;
    }
    return 0;
}

int net_http1_write_chunk(net_buf *out, const void *data, size_t len)
{
    if (len == 0) return 0;
    size_t start = out->len;
    if (net_buf_printf(out, "%zx\r\n", len) || net_buf_append(out, data, len) ||
        net_buf_append(out, "\r\n", 2)) {
        out->len = start;
        return NET_HTTP1_E_NOMEM;
    }
    return 0;
}

int net_http1_write_last_chunk(net_buf *out)
{
    return net_buf_append(out, "0\r\n\r\n", 5) ? NET_HTTP1_E_NOMEM : 0;
}

int net_http1_write_error(net_buf *out, int status, const char *message, const net_field *extra,
                          size_t nextra, int close)
{
    net_buf body;
    net_buf_init(&body);
    if (net_msg_error_json(&body, message)) return NET_HTTP1_E_NOMEM;
    net_field f[8];
    size_t n = 0;
    f[n++] = (net_field){"Content-Type", "application/json"};
    f[n++] = (net_field){"Cache-Control", "no-store"};
    for (size_t i = 0; i < nextra && n < sizeof f / sizeof f[0]; i++)
        f[n++] = extra[i];
    size_t start = out->len;
    int r = net_http1_write_head(out, status, f, n, (int64_t)body.len, close);
    if (r == 0 && net_buf_append(out, body.data, body.len)) {
        out->len = start;
        r = NET_HTTP1_E_NOMEM;
    }
    net_buf_free(&body);
    return r;
}

#include "net_h2.h"

#include "net_buf.h"

#include <nghttp2/nghttp2.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct h2_stream {
    int32_t id;
    net_msg *msg; /* until delivered or rejected */
    size_t body_bytes, header_bytes, nheaders;
    int reject_status;
    const char *reject_text;
    int delivered, responded, streaming, ended, deferred, remote_closed, bad_target;
    size_t discarded; /* body bytes dropped after a rejection */
    void *app;
    net_buf out; /* response body not yet taken by nghttp2 */
    size_t out_off;
    struct h2_stream *prev, *next;
} h2_stream;

/* Frame types and sizes the input scanner needs (RFC 9113 section 4.1). */
#define FRAME_HEADER_LEN 9
#define FRAME_HEADERS 0x1
#define PREFACE_LEN 24

struct net_h2 {
    nghttp2_session *s;
    /* Input scanner: follows frame boundaries ahead of nghttp2 to catch
     * stream ids that go backwards. */
    size_t scan_preface; /* preface bytes still to pass */
    size_t scan_skip;    /* payload bytes of the current frame still to pass */
    uint8_t scan_hdr[FRAME_HEADER_LEN];
    size_t scan_hdr_len;
    int32_t scan_max_sid; /* highest client stream id opened by HEADERS */
    uint64_t resets;      /* RST_STREAM frames received */
    uint64_t completed;   /* streams closed without error */
    int calmed;           /* ENHANCE_YOUR_CALM sent: deliver nothing more */
    net_h2_limits lim;
    const net_h2_callbacks *cb;
    void *ud;
    h2_stream *streams;
    size_t nstreams;
    h2_stream *upgrade_stream; /* stream 1, delivered after the client's SETTINGS */
};

void net_h2_limits_default(net_h2_limits *l)
{
    l->max_streams = NET_H2_MAX_STREAMS;
    l->max_header_list = NET_H2_MAX_HEADER_LIST;
    l->max_headers = NET_H2_MAX_HEADERS;
    l->max_body = NET_H2_MAX_BODY;
    l->window = NET_H2_WINDOW;
}

static h2_stream *stream_new(net_h2 *h, int32_t id)
{
    h2_stream *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    if (net_msg_create(&st->msg) != NET_MSG_OK) {
        free(st);
        return NULL;
    }
    st->id = id;
    net_buf_init(&st->out);
    st->next = h->streams;
    if (h->streams) h->streams->prev = st;
    h->streams = st;
    h->nstreams++;
    return st;
}

static void stream_free(net_h2 *h, h2_stream *st)
{
    if (st->prev)
        st->prev->next = st->next;
    else
        h->streams = st->next;
    if (st->next) st->next->prev = st->prev;
    h->nstreams--;
    if (h->upgrade_stream == st) h->upgrade_stream = NULL;
    net_msg_destroy(st->msg);
    net_buf_free(&st->out);
    free(st);
}

static h2_stream *find(net_h2 *h, int32_t sid)
{
    return nghttp2_session_get_stream_user_data(h->s, sid);
}

/* ---- responses ---- */

static ssize_t read_body(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t length,
                         uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    (void)s, (void)sid, (void)ud;
    h2_stream *st = src->ptr;
    size_t avail = st->out.len - st->out_off;
    if (avail == 0) {
        if (!st->streaming || st->ended) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
            return 0;
        }
        st->deferred = 1;
        return NGHTTP2_ERR_DEFERRED;
    }
    size_t n = avail < length ? avail : length;
    memcpy(buf, st->out.data + st->out_off, n);
    st->out_off += n;
    if (st->out_off == st->out.len) {
        net_buf_reset(&st->out);
        st->out_off = 0;
        if (!st->streaming || st->ended) *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return (ssize_t)n;
}

static int forbidden_field(const char *name)
{
    static const char *const bad[] = {"connection",        "keep-alive", "proxy-connection",
                                      "transfer-encoding", "upgrade",    "content-length"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (strcasecmp(name, bad[i]) == 0) return 1;
    return 0;
}

/* Builds the nghttp2 header list: :status, the fields lower-cased, and
 * content-length when clen >= 0. All strings live in arena. */
static int submit(net_h2 *h, h2_stream *st, int status, const net_field *fields, size_t nfields,
                  int64_t clen, int with_body)
{
    if (status < 200 || status > 999) return NET_H2_E_ARG;
    for (size_t i = 0; i < nfields; i++)
        if (!net_field_valid(fields[i].name, fields[i].value) || forbidden_field(fields[i].name))
            return NET_H2_E_ARG;
    size_t n = nfields + 2;
    nghttp2_nv *nv = calloc(n, sizeof *nv);
    net_buf arena;
    net_buf_init(&arena);
    size_t total = 32;
    for (size_t i = 0; i < nfields; i++)
        total += strlen(fields[i].name) + 1;
    /* Reserved up front so pointers into the arena stay valid. */
    if (!nv || net_buf_reserve(&arena, total)) {
        free(nv);
        return NET_H2_E_NOMEM;
    }
    char status_s[8], clen_s[24];
    snprintf(status_s, sizeof status_s, "%d", status);
    size_t k = 0;
    nv[k++] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)status_s, 7, strlen(status_s),
                           NGHTTP2_NV_FLAG_NONE};
    for (size_t i = 0; i < nfields; i++) {
        size_t nl = strlen(fields[i].name);
        char *lc = (char *)arena.data + arena.len;
        for (size_t j = 0; j < nl; j++) {
            char c = fields[i].name[j];
            lc[j] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        arena.len += nl + 1;
        nv[k++] = (nghttp2_nv){(uint8_t *)lc, (uint8_t *)fields[i].value, nl,
                               strlen(fields[i].value), NGHTTP2_NV_FLAG_NONE};
    }
    if (clen >= 0) {
        snprintf(clen_s, sizeof clen_s, "%lld", (long long)clen);
        nv[k++] = (nghttp2_nv){(uint8_t *)"content-length", (uint8_t *)clen_s, 14, strlen(clen_s),
                               NGHTTP2_NV_FLAG_NONE};
    }
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = read_body};
    int r = nghttp2_submit_response(h->s, st->id, nv, k, with_body ? &prd : NULL);
    free(nv);
    net_buf_free(&arena);
    if (r == NGHTTP2_ERR_NOMEM) return NET_H2_E_NOMEM;
    if (r) return NET_H2_E_STREAM;
    st->responded = 1;
    return 0;
}

static h2_stream *open_stream(net_h2 *h, int32_t sid)
{
    h2_stream *st = find(h, sid);
    return st && !st->responded && !st->reject_status ? st : NULL;
}

int net_h2_respond(net_h2 *h, int32_t sid, int status, const net_field *fields, size_t nfields,
                   const void *body, size_t len)
{
    h2_stream *st = open_stream(h, sid);
    if (!st) return NET_H2_E_STREAM;
    if (net_buf_append(&st->out, body, len)) return NET_H2_E_NOMEM;
    int r = submit(h, st, status, fields, nfields, (int64_t)len, len > 0);
    if (r) net_buf_reset(&st->out);
    return r;
}

int net_h2_stream_start(net_h2 *h, int32_t sid, int status, const net_field *fields, size_t nfields)
{
    h2_stream *st = open_stream(h, sid);
    if (!st) return NET_H2_E_STREAM;
    st->streaming = 1;
    int r = submit(h, st, status, fields, nfields, -1, 1);
    if (r) st->streaming = 0;
    return r;
}

static h2_stream *streaming(net_h2 *h, int32_t sid)
{
    h2_stream *st = find(h, sid);
    return st && st->streaming && !st->ended ? st : NULL;
}

static void resume(net_h2 *h, h2_stream *st)
{
    if (!st->deferred) return;
    st->deferred = 0;
    nghttp2_session_resume_data(h->s, st->id);
}

int net_h2_stream_write(net_h2 *h, int32_t sid, const void *data, size_t len)
{
    h2_stream *st = streaming(h, sid);
    if (!st) return NET_H2_E_STREAM;
    if (len == 0) return 0;
    if (st->out_off > 0 && st->out_off >= st->out.len / 2) {
        net_buf_consume(&st->out, st->out_off);
        st->out_off = 0;
    }
    if (net_buf_append(&st->out, data, len)) return NET_H2_E_NOMEM;
    resume(h, st);
    return 0;
}

int net_h2_stream_end(net_h2 *h, int32_t sid)
{
    h2_stream *st = streaming(h, sid);
    if (!st) return NET_H2_E_STREAM;
    st->ended = 1;
    resume(h, st);
    return 0;
}

size_t net_h2_stream_pending(net_h2 *h, int32_t sid)
{
    h2_stream *st = find(h, sid);
    return st ? st->out.len - st->out_off : 0;
}

void net_h2_detach(net_h2 *h, int32_t sid)
{
    h2_stream *st = find(h, sid);
    if (st) st->app = NULL;
}

/* Answers a stream with a JSON error instead of delivering it. */
static void reject(net_h2 *h, h2_stream *st, int status, const char *text)
{
    if (st->reject_status || st->delivered) return;
    st->reject_status = status;
    st->reject_text = text;
    net_msg_destroy(st->msg);
    st->msg = NULL;
    net_buf_reset(&st->out);
    if (net_msg_error_json(&st->out, text ? text : "rejected")) {
        nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
        return;
    }
    /* RFC 9110 section 15.5.2: a 401 names the scheme to use. */
    net_field f[] = {{"content-type", "application/json"},
                     {"cache-control", "no-store"},
                     {"www-authenticate", "Bearer"}};
    if (submit(h, st, status, f, status == 401 ? 3 : 2, (int64_t)st->out.len, 1))
        nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
}

/* ---- nghttp2 callbacks ---- */

static ssize_t cb_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *ud)
{
    (void)s, (void)flags;
    net_h2 *h = ud;
    return h->cb->send(data, len, h->ud) ? NGHTTP2_ERR_WOULDBLOCK : (ssize_t)len;
}

static int cb_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    net_h2 *h = ud;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    /* Ending for abuse: streams still arriving are left undelivered. */
    if (h->calmed) return 0;
    h2_stream *st = stream_new(h, f->hd.stream_id);
    if (!st) return NGHTTP2_ERR_CALLBACK_FAILURE;
    nghttp2_session_set_stream_user_data(s, f->hd.stream_id, st);
    return 0;
}

static int cb_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
    (void)s, (void)flags;
    net_h2 *h = ud;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    h2_stream *st = find(h, f->hd.stream_id);
    if (!st || !st->msg) return 0;
    /* RFC 9113 section 6.5.2: name + value + 32 per field. */
    st->header_bytes += nlen + vlen + 32;
    if (st->header_bytes > h->lim.max_header_list) {
        reject(h, st, 431, "request header fields too large");
        return 0;
    }
    const char *n = (const char *)name, *v = (const char *)value;
    int r = NET_MSG_OK;
    if (nlen > 0 && n[0] == ':') {
        if (nlen == 7 && !memcmp(n, ":method", 7)) {
            r = net_msg_set_method(st->msg, v, vlen);
        } else if (nlen == 5 && !memcmp(n, ":path", 5)) {
            r = net_msg_set_target(st->msg, v, vlen);
            if (r == NET_MSG_E_TARGET) {
                st->bad_target = 1;
                r = NET_MSG_OK;
            }
        } else if (nlen == 10 && !memcmp(n, ":authority", 10)) {
            r = net_msg_set_authority(st->msg, v, vlen);
        } else if (nlen == 9 && !memcmp(n, ":protocol", 9)) {
            /* Extended CONNECT (RFC 8441) is not offered. */
            reject(h, st, 501, "extended CONNECT not supported");
            return 0;
        }
    } else {
        if (++st->nheaders > h->lim.max_headers) {
            reject(h, st, 431, "too many header fields");
            return 0;
        }
        r = net_msg_add_header(st->msg, n, nlen, v, vlen);
    }
    return r == NET_MSG_OK ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int same_authority(net_str a, net_str b)
{
    return a.len == b.len && strncasecmp(a.p, b.p, a.len) == 0;
}

static void deliver(net_h2 *h, h2_stream *st)
{
    if (st->reject_status || st->delivered || !st->msg || h->calmed) return;
    net_msg *m = st->msg;
    st->msg = NULL;
    st->delivered = 1;
    net_msg_set_flags(m, net_msg_flags(m) | NET_MSG_H2);
    st->app = h->cb->on_request ? h->cb->on_request(st->id, m, h->ud) : NULL;
    if (!h->cb->on_request) net_msg_destroy(m);
}

static void head_complete(net_h2 *h, h2_stream *st)
{
    net_msg *m = st->msg;
    if (!m) return;
    if (st->bad_target) {
        reject(h, st, 400, "request-target must be a path");
        return;
    }
    if (!strcmp(net_msg_method(m), "CONNECT")) {
        reject(h, st, 501, "method not implemented");
        return;
    }
    net_str host = net_msg_header(m, "host");
    if (!net_msg_authority(m).p) {
        if (host.p && net_msg_set_authority(m, host.p, host.len)) {
            reject(h, st, 500, "out of memory");
            return;
        }
    } else if (host.p && !same_authority(host, net_msg_authority(m))) {
        /* RFC 9113 section 8.3.1: a host that differs from :authority makes
         * the request malformed; the policy checks only one of them. */
        reject(h, st, 400, "host header differs from :authority");
        return;
    }
    net_str cl = net_msg_header(m, "content-length");
    if (cl.p) {
        /* nghttp2 has checked the syntax and will check the length. */
        unsigned long long v = strtoull(cl.p, NULL, 10);
        if (v > h->lim.max_body) {
            reject(h, st, 413, "request body too large");
            return;
        }
    }
    if (h->cb->on_head) {
        const char *text = NULL;
        int status = h->cb->on_head(st->id, m, &text, h->ud);
        if (status) reject(h, st, status, text);
    }
}

static int cb_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    (void)s;
    net_h2 *h = ud;
    if (f->hd.type == NGHTTP2_SETTINGS && !(f->hd.flags & NGHTTP2_FLAG_ACK)) {
        if (h->upgrade_stream) {
            h2_stream *st = h->upgrade_stream;
            h->upgrade_stream = NULL;
            deliver(h, st);
        }
        return 0;
    }
    if (f->hd.type == NGHTTP2_RST_STREAM) {
        h->resets++;
        if (!h->calmed && h->resets > NET_H2_RESET_ALLOWANCE && h->resets > h->completed)
            net_h2_calm(h);
        return 0;
    }
    if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) return 0;
    h2_stream *st = find(h, f->hd.stream_id);
    if (!st) return 0;
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
        head_complete(h, st);
    if (f->hd.flags & NGHTTP2_FLAG_END_STREAM) {
        st->remote_closed = 1;
        deliver(h, st);
    }
    return 0;
}

static int cb_data_chunk(nghttp2_session *s, uint8_t flags, int32_t sid, const uint8_t *data,
                         size_t len, void *ud)
{
    (void)s, (void)flags;
    net_h2 *h = ud;
    h2_stream *st = find(h, sid);
    if (!st) return 0;
    if (!st->msg) {
        /* Rejected: the answer is out; let a bounded rest of the upload
         * drain (curl 7.88 reports an error on an early RST_STREAM with
         * NO_ERROR, RFC 9113 section 8.1 allows either), then reset. */
        st->discarded += len;
        if (st->reject_status && st->discarded > NET_H2_DISCARD_MAX &&
            st->discarded - len <= NET_H2_DISCARD_MAX)
            nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_NO_ERROR);
        return 0;
    }
    if (len > h->lim.max_body - st->body_bytes) {
        reject(h, st, 413, "request body too large");
        return 0;
    }
    st->body_bytes += len;
    return net_msg_append_body(st->msg, data, len) == NET_MSG_OK ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int cb_stream_close(nghttp2_session *s, int32_t sid, uint32_t err, void *ud)
{
    (void)s;
    net_h2 *h = ud;
    if (err == NGHTTP2_NO_ERROR) h->completed++;
    h2_stream *st = find(h, sid);
    if (!st) return 0;
    nghttp2_session_set_stream_user_data(h->s, sid, NULL);
    void *app = st->app;
    stream_free(h, st);
    if (app && h->cb->on_stream_close) h->cb->on_stream_close(sid, app, h->ud);
    return 0;
}

/* ---- session ---- */

int net_h2_create(net_h2 **out, const net_h2_limits *limits, const net_h2_callbacks *cb, void *ud)
{
    net_h2 *h = calloc(1, sizeof *h);
    if (!h) return NET_H2_E_NOMEM;
    if (limits)
        h->lim = *limits;
    else
        net_h2_limits_default(&h->lim);
    h->cb = cb;
    h->ud = ud;
    h->scan_preface = PREFACE_LEN;

    nghttp2_session_callbacks *cbs = NULL;
    nghttp2_option *opt = NULL;
    int r = NET_H2_E_NOMEM;
    if (nghttp2_session_callbacks_new(&cbs) || nghttp2_option_new(&opt)) goto fail;
    nghttp2_session_callbacks_set_send_callback(cbs, cb_send);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, cb_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, cb_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, cb_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, cb_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cb_stream_close);
    /* Flood limits (the defaults, stated so a library change cannot loosen
     * them): SETTINGS entries per frame, CONTINUATION frames per header
     * block, and the RST_STREAM rate (rapid reset). */
    nghttp2_option_set_max_settings(opt, 32);
    nghttp2_option_set_max_continuations(opt, 8);
    nghttp2_option_set_stream_reset_rate_limit(opt, 1000, 33);
    nghttp2_option_set_max_outbound_ack(opt, 1000);
    if (nghttp2_session_server_new2(&h->s, cbs, h, opt)) goto fail;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, h->lim.max_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, h->lim.window},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, h->lim.max_header_list},
    };
    r = NET_H2_E_FATAL;
    if (nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0])) goto fail;
    if (nghttp2_session_set_local_window_size(h->s, NGHTTP2_FLAG_NONE, 0, (int32_t)h->lim.window))
        goto fail;
    nghttp2_session_callbacks_del(cbs);
    nghttp2_option_del(opt);
    *out = h;
    return 0;
fail:
    nghttp2_session_callbacks_del(cbs);
    nghttp2_option_del(opt);
    if (h->s) nghttp2_session_del(h->s);
    free(h);
    return r;
}

void net_h2_destroy(net_h2 *h)
{
    if (!h) return;
    /* nghttp2_session_del frees streams without callbacks: report the ones
     * the application still holds, then free ours. */
    while (h->streams) {
        h2_stream *st = h->streams;
        void *app = st->app;
        int32_t sid = st->id;
        stream_free(h, st);
        if (app && h->cb->on_stream_close) h->cb->on_stream_close(sid, app, h->ud);
    }
    nghttp2_session_del(h->s);
    free(h);
}

static int b64url_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

/* Decodes unpadded base64url (trailing '=' tolerated). Returns the length
 * or -1. */
static long b64url_decode(net_str in, uint8_t *out, size_t cap)
{
    size_t len = in.len;
    while (len && in.p[len - 1] == '=')
        len--;
    if (len % 4 == 1) return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_val((unsigned char)in.p[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap) return -1;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)o;
}

int net_h2_upgrade(net_h2 *h, net_str settings, net_msg *req)
{
    /* At most 32 settings of 6 bytes each, as for SETTINGS frames. */
    uint8_t payload[32 * 6];
    long n = b64url_decode(settings, payload, sizeof payload);
    if (n < 0 || n % 6 != 0) {
        net_msg_destroy(req);
        return NET_H2_E_ARG;
    }
    h2_stream *st = calloc(1, sizeof *st);
    if (!st) {
        net_msg_destroy(req);
        return NET_H2_E_NOMEM;
    }
    int head = !strcmp(net_msg_method(req), "HEAD");
    int r = nghttp2_session_upgrade2(h->s, payload, (size_t)n, head, NULL);
    if (r) {
        free(st);
        net_msg_destroy(req);
        return r == NGHTTP2_ERR_NOMEM ? NET_H2_E_NOMEM : NET_H2_E_ARG;
    }
    st->id = 1;
    st->msg = req;
    st->remote_closed = 1;
    net_buf_init(&st->out);
    st->next = h->streams;
    if (h->streams) h->streams->prev = st;
    h->streams = st;
    h->nstreams++;
    nghttp2_session_set_stream_user_data(h->s, 1, st);
    h->upgrade_stream = st;
    h->scan_max_sid = 1;
    return 0;
}

static int recv_bytes(net_h2 *h, const uint8_t *data, size_t len)
{
    if (len == 0) return 0;
    ssize_t r = nghttp2_session_mem_recv(h->s, data, len);
    if (r >= 0) return 0;
    if (r == NGHTTP2_ERR_NOMEM) return NET_H2_E_NOMEM;
    if (r == NGHTTP2_ERR_CALLBACK_FAILURE) return NET_H2_E_FATAL;
    /* Bad preface, flooding and other protocol errors: nghttp2 has queued
     * GOAWAY where one is due. */
    return NET_H2_E_PROTO;
}

/* 1 when sid is a stream nghttp2 has open (trailers may come for it). */
static int stream_open(net_h2 *h, int32_t sid)
{
    nghttp2_stream *s = nghttp2_session_find_stream(h->s, sid);
    if (!s) return 0;
    nghttp2_stream_proto_state st = nghttp2_stream_get_state(s);
    return st != NGHTTP2_STREAM_STATE_IDLE && st != NGHTTP2_STREAM_STATE_CLOSED;
}

int net_h2_feed(net_h2 *h, const uint8_t *data, size_t len)
{
    /* Walks the frame headers; bytes go to nghttp2 in runs, split before a
     * HEADERS frame whose stream id went backwards so that nghttp2's state
     * reflects every earlier frame when it is judged. */
    size_t off = 0, fed = 0;
    while (off < len) {
        if (h->scan_preface) {
            size_t n = len - off < h->scan_preface ? len - off : h->scan_preface;
            h->scan_preface -= n;
            off += n;
            continue;
        }
        if (h->scan_skip) {
            size_t n = len - off < h->scan_skip ? len - off : h->scan_skip;
            h->scan_skip -= n;
            off += n;
            continue;
        }
        size_t begin = h->scan_hdr_len ? 0 : off; /* where this header starts here */
        size_t n = FRAME_HEADER_LEN - h->scan_hdr_len;
        if (n > len - off) n = len - off;
        memcpy(h->scan_hdr + h->scan_hdr_len, data + off, n);
        h->scan_hdr_len += n;
        off += n;
        if (h->scan_hdr_len < FRAME_HEADER_LEN) break;
        h->scan_hdr_len = 0;
        const uint8_t *fh = h->scan_hdr;
        h->scan_skip = ((size_t)fh[0] << 16) | ((size_t)fh[1] << 8) | fh[2];
        int32_t sid = (int32_t)((((uint32_t)fh[5] & 0x7f) << 24) | ((uint32_t)fh[6] << 16) |
                                ((uint32_t)fh[7] << 8) | fh[8]);
        if (fh[3] != FRAME_HEADERS || sid <= 0 || !(sid & 1)) continue;
        if (sid > h->scan_max_sid) {
            h->scan_max_sid = sid;
            continue;
        }
        if (sid == h->scan_max_sid) continue; /* nghttp2 judges reuse itself */
        int r = recv_bytes(h, data + fed, begin - fed);
        if (r) return r;
        fed = begin;
        if (!stream_open(h, sid)) {
            nghttp2_session_terminate_session(h->s, NGHTTP2_PROTOCOL_ERROR);
            return NET_H2_E_PROTO;
        }
    }
    return recv_bytes(h, data + fed, len - fed);
}

int net_h2_flush(net_h2 *h)
{
    int r = nghttp2_session_send(h->s);
    if (r == 0) return 0;
    return r == NGHTTP2_ERR_NOMEM ? NET_H2_E_NOMEM : NET_H2_E_FATAL;
}

int net_h2_goaway(net_h2 *h)
{
    int32_t last = nghttp2_session_get_last_proc_stream_id(h->s);
    int r = nghttp2_submit_goaway(h->s, NGHTTP2_FLAG_NONE, last, NGHTTP2_NO_ERROR, NULL, 0);
    return r == NGHTTP2_ERR_NOMEM ? NET_H2_E_NOMEM : 0;
}

int net_h2_calm(net_h2 *h)
{
    h->calmed = 1;
    int r = nghttp2_session_terminate_session(h->s, NGHTTP2_ENHANCE_YOUR_CALM);
    return r == NGHTTP2_ERR_NOMEM ? NET_H2_E_NOMEM : 0;
}

int net_h2_calmed(const net_h2 *h)
{
    return h->calmed;
}

/* GOAWAY: length 8, type 7, flags 0, stream 0; last stream 0,
 * PROTOCOL_ERROR (1). */
const uint8_t net_h2_preface_goaway[NET_H2_PREFACE_GOAWAY_LEN] = {0, 0, 8, 7, 0, 0, 0, 0, 0,
                                                                  0, 0, 0, 0, 0, 0, 0, 1};

int net_h2_finished(const net_h2 *h)
{
    return !nghttp2_session_want_read(h->s) && !nghttp2_session_want_write(h->s);
}

size_t net_h2_open_streams(const net_h2 *h)
{
    return h->nstreams;
}

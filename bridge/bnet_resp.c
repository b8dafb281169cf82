/* bnet_resp: answers and request accessors: the application's side of a request (bnet_int.h). */
#include "bnet_int.h"

/* ---- responses ---- */

static int respond_fields(bnet_req *r, int status, const net_field *f, size_t nf, const void *body,
                          size_t len)
{
    conn *c = r->c;
    if (r->sid) {
        int e = net_h2_respond(c->h2, r->sid, status, f, nf, r->is_head ? NULL : body,
                               r->is_head ? 0 : len);
        if (e == NET_H2_E_NOMEM) return BNET_E_NOMEM;
        if (e == NET_H2_E_ARG) return BNET_E_ARG;
        if (e) return BNET_E_CLOSED;
    } else {
        int close = !r->keep_alive || c->srv->stopped;
        size_t start = r->resp.len;
        int e = net_http1_write_head(&r->resp, status, f, nf, (int64_t)len, close);
        if (e == NET_HTTP1_E_PARSE) return BNET_E_ARG;
        if (e || (!r->is_head && status != 204 && status != 304 &&
                  net_buf_append(&r->resp, body, len))) {
            r->resp.len = start;
            return BNET_E_NOMEM;
        }
        r->close_after = close;
    }
    r->state = RQ_DONE;
    bn_req_unpublish(r);
    if (c->state == S_OPEN) bn_schedule(c);
    bn_req_maybe_free(r);
    return BNET_OK;
}

static int req_usable(const bnet_req *r)
{
    if (!r) return BNET_E_ARG;
    if (r->state == RQ_ABORTED || r->c->state == S_CLOSING) return BNET_E_CLOSED;
    return BNET_OK;
}

int bnet_respond(bnet_req *r, int status, const char *content_type, const bnet_header *extra,
                 size_t n_extra, const void *body, size_t len)
{
    int e = req_usable(r);
    if (e) return e;
    if (r->state != RQ_PENDING) return BNET_E_STATE;
    if (status < 200 || status > 599 || (len && !body)) return BNET_E_ARG;
    net_field f[BNET_MAX_EXTRA_HEADERS + 1];
    size_t nf;
    if ((e = bn_fields_from(f, &nf, content_type, extra, n_extra))) return e;
    return respond_fields(r, status, f, nf, body, len);
}

/* An error answer with internal headers (Allow, WWW-Authenticate...). */
int bn_respond_error_with(bnet_req *r, int status, const char *message, const net_field *extra,
                          size_t n_extra)
{
    net_buf body;
    net_buf_init(&body);
    if (net_msg_error_json(&body, message)) return BNET_E_NOMEM;
    net_field f[8];
    size_t nf = 0;
    f[nf++] = (net_field){"Content-Type", "application/json"};
    f[nf++] = (net_field){"Cache-Control", "no-store"};
    for (size_t i = 0; i < n_extra && nf < 8; i++)
        f[nf++] = extra[i];
    int e = respond_fields(r, status, f, nf, body.data, body.len);
    net_buf_free(&body);
    return e;
}

int bnet_respond_error(bnet_req *r, int status, const char *message)
{
    int e = req_usable(r);
    if (e) return e;
    if (r->state != RQ_PENDING) return BNET_E_STATE;
    if (status < 200 || status > 599 || !message) return BNET_E_ARG;
    return bn_respond_error_with(r, status, message, NULL, 0);
}

int bnet_stream_start(bnet_req *r, int status, const char *content_type, const bnet_header *extra,
                      size_t n_extra)
{
    int e = req_usable(r);
    if (e) return e;
    if (r->state != RQ_PENDING) return BNET_E_STATE;
    if (status < 200 || status > 599 || status == 204 || status == 304 || r->http10)
        return BNET_E_ARG;
    net_field f[BNET_MAX_EXTRA_HEADERS + 1];
    size_t nf;
    if ((e = bn_fields_from(f, &nf, content_type, extra, n_extra))) return e;
    conn *c = r->c;
    if (r->sid) {
        e = net_h2_stream_start(c->h2, r->sid, status, f, nf);
        if (e)
            return e == NET_H2_E_NOMEM ? BNET_E_NOMEM
                   : e == NET_H2_E_ARG ? BNET_E_ARG
                                       : BNET_E_CLOSED;
    } else {
        int close = !r->keep_alive || c->srv->stopped;
        e = net_http1_write_head(&r->resp, status, f, nf, -1, close);
        if (e) return e == NET_HTTP1_E_PARSE ? BNET_E_ARG : BNET_E_NOMEM;
        r->close_after = close;
    }
    r->state = RQ_STREAMING;
    bn_schedule(c);
    return BNET_OK;
}

static size_t stream_pending(const bnet_req *r)
{
    conn *c = r->c;
    if (r->sid) return net_h2_stream_pending(c->h2, r->sid);
    size_t n = r->resp.len;
    if (c->qhead == r) n += c->out.len + c->inflight;
    return n;
}

int bnet_stream_write(bnet_req *r, const void *data, size_t len)
{
    int e = req_usable(r);
    if (e) return e;
    if (r->state != RQ_STREAMING) return BNET_E_STATE;
    if (len == 0) return BNET_OK;
    if (!data) return BNET_E_ARG;
    size_t pend = stream_pending(r);
    if (pend > r->srv->lim.stream_max_pending || len > r->srv->lim.stream_max_pending - pend)
        return BNET_E_FULL;
    if (r->sid) {
        e = net_h2_stream_write(r->c->h2, r->sid, data, len);
        if (e) return e == NET_H2_E_NOMEM ? BNET_E_NOMEM : BNET_E_CLOSED;
    } else if (!r->is_head && net_http1_write_chunk(&r->resp, data, len)) {
        return BNET_E_NOMEM;
    }
    bn_schedule(r->c);
    return BNET_OK;
}

int bnet_stream_end(bnet_req *r)
{
    int e = req_usable(r);
    if (e) return e;
    if (r->state != RQ_STREAMING) return BNET_E_STATE;
    conn *c = r->c;
    if (r->sid) {
        if (net_h2_stream_end(c->h2, r->sid)) return BNET_E_CLOSED;
    } else if (!r->is_head && net_http1_write_last_chunk(&r->resp)) {
        return BNET_E_NOMEM;
    }
    r->state = RQ_DONE;
    bn_req_unpublish(r);
    bn_schedule(c);
    bn_req_maybe_free(r);
    return BNET_OK;
}

/* ---- request accessors ---- */

const char *bnet_req_method(const bnet_req *r)
{
    return net_msg_method(r->msg);
}

const char *bnet_req_path(const bnet_req *r)
{
    return net_msg_path(r->msg).p;
}

const char *bnet_req_query(const bnet_req *r)
{
    return net_msg_query(r->msg).p;
}

const char *bnet_req_header(const bnet_req *r, const char *name, size_t *len)
{
    net_str v = net_msg_header(r->msg, name);
    if (len) *len = v.len;
    return v.p;
}

size_t bnet_req_header_count(const bnet_req *r)
{
    return net_msg_header_count(r->msg);
}

int bnet_req_header_at(const bnet_req *r, size_t i, const char **name, const char **value)
{
    net_str n, v;
    if (net_msg_header_at(r->msg, i, &n, &v)) return BNET_E_ARG;
    *name = n.p;
    *value = v.p;
    return BNET_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long bnet_req_query_param(const bnet_req *r, const char *name, char *out, size_t cap)
{
    net_str v;
    if (!net_msg_query_param(r->msg, name, &v)) return -1;
    size_t o = 0;
    for (size_t i = 0; i < v.len; i++) {
        char ch = v.p[i];
        if (ch == '%') {
            if (i + 2 >= v.len) return BNET_E_ARG;
            int hi = hexval(v.p[i + 1]), lo = hexval(v.p[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return BNET_E_ARG;
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= cap) return BNET_E_ARG;
        out[o++] = ch;
    }
    if (cap == 0) return BNET_E_ARG;
    out[o] = '\0';
    return (long)o;
}

const void *bnet_req_body(const bnet_req *r, size_t *len)
{
    return net_msg_body(r->msg, len);
}

bnet_proto bnet_req_proto(const bnet_req *r)
{
    return r->sid ? BNET_H2 : BNET_HTTP1;
}

const char *bnet_req_peer(const bnet_req *r)
{
    return r->peer;
}

uint64_t bnet_req_id(const bnet_req *r)
{
    return r->id;
}

bnet_req *bnet_req_find(bnet *s, uint64_t id)
{
    return id ? bn_idmap_get(&s->reqs, id) : NULL;
}

void bnet_req_set_data(bnet_req *r, void *data)
{
    r->data = data;
}

void *bnet_req_data(const bnet_req *r)
{
    return r->data;
}

void bnet_req_set_abort(bnet_req *r, void (*fn)(bnet_req *, void *), void *ud)
{
    r->abort_fn = fn;
    r->abort_ud = ud;
}

int bnet_req_charge(bnet_req *r, uint64_t *conn_id)
{
    conn *c = r->c;
    if (c->state == S_CLOSING) return BNET_E_CLOSED;
    if (c->charges >= c->srv->lim.conn_max_charges) {
        c->srv->st.charges_refused++;
        return BNET_E_FULL;
    }
    c->charges++;
    *conn_id = c->id;
    return BNET_OK;
}

void bnet_discharge(bnet *s, uint64_t conn_id)
{
    conn *c = conn_id ? bn_idmap_get(&s->conn_ids, conn_id) : NULL;
    if (c && c->charges) c->charges--;
}

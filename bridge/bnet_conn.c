/* bnet_conn: a connection's state machine over the protocol cores: admission
 * (unauthenticated connections and the Host/Origin/token policy), dispatch, output, reading,
 * timers, closing, input, and the glue to net_http1, net_ws and net_h2 (bnet_int.h). The glue stays
 * with the engine because each protocol both drives and is driven by the connection (bn_pump ->
 * glue -> bn_close_hard / bn_schedule). */
#include "bnet_int.h"

#include <limits.h>

/* The protocol cores' callbacks (defined with their glue below). */
static const net_http1_callbacks bn_h1_callbacks;
static const net_ws_callbacks bn_ws_callbacks;
static const net_h2_callbacks bn_h2_callbacks;
static int bn_check_policy(conn *c, const net_msg *m, int ws, const char **text, int *auth);
static int bn_is_ws_upgrade(const bnet *s, const net_msg *m);

static void bn_unauth_remove(conn *c);
static void bn_unauth_add(conn *c);
static void bn_on_hs_timer(uv_timer_t *t);
static int bn_evict_unauth(bnet *s);
static int bn_dispatch(bnet_req *r);
static int bn_core_send(const uint8_t *data, size_t len, void *ud);
static int bn_h1_blocked(const conn *c);
static void bn_close_hard(conn *c);
static void bn_arm(conn *c, int kind, uint64_t ms);
static void bn_disarm(conn *c);
static void bn_h1_fail(conn *c, int status, const char *text, const net_field *extra, size_t n);
static void bn_h1_parse(conn *c);
static int bn_start_h2(conn *c);
static void bn_h1_output(conn *c);
static void bn_ws_drain_check(conn *c);
static void bn_ws_pump(conn *c);
static void bn_h2_pump(conn *c);
static void bn_feed_h2(conn *c, const uint8_t *d, size_t n);

/* ---- unauthenticated connections ---- */

static void bn_unauth_remove(conn *c)
{
    if (!c->on_unauth) return;
    bnet *s = c->srv;
    if (c->uprev)
        c->uprev->unext = c->unext;
    else
        s->unauth_head = c->unext;
    if (c->unext)
        c->unext->uprev = c->uprev;
    else
        s->unauth_tail = c->uprev;
    c->uprev = c->unext = NULL;
    c->on_unauth = 0;
    s->nunauth--;
    s->st.connections_unauth = s->nunauth;
}

static void bn_unauth_add(conn *c)
{
    bnet *s = c->srv;
    c->uprev = s->unauth_tail;
    c->unext = NULL;
    if (s->unauth_tail)
        s->unauth_tail->unext = c;
    else
        s->unauth_head = c;
    s->unauth_tail = c;
    c->on_unauth = 1;
    s->nunauth++;
    s->st.connections_unauth = s->nunauth;
}

static void conn_authenticated(conn *c)
{
    if (c->authed) return;
    c->authed = 1;
    bn_unauth_remove(c);
    uv_timer_stop(&c->hs_timer);
}

static void bn_on_hs_timer(uv_timer_t *t)
{
    conn *c = t->data;
    if (c->authed || c->state == S_CLOSING) return;
    c->srv->st.timeouts++;
    c->srv->st.handshake_timeouts++;
    bn_close_hard(c);
}

/* Closes the oldest unauthenticated connection that has no request in
 * progress. Returns 1 when one was closed. */
static int bn_evict_unauth(bnet *s)
{
    for (conn *v = s->unauth_head; v; v = v->unext) {
        if (v->state != S_OPEN || v->live || v->qhead || v->busy) continue;
        s->st.connections_evicted++;
        bn_close_hard(v);
        return 1;
    }
    return 0;
}

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* ---- policy ---- */

static int bn_body_over(const bnet *s, const route *rt, unsigned long long len)
{
    size_t lim = rt && (rt->flags & BNET_ROUTE_UPLOAD) ? s->lim.max_upload_body : s->lim.max_body;
    return len > lim;
}

static unsigned long long bn_strtoull_n(const char *p, size_t n)
{
    unsigned long long v = 0;
    for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        if (v > (ULLONG_MAX - 9) / 10) return ULLONG_MAX;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    return v;
}

/* 0 when m may proceed; else the HTTP status, with text and whether the
 * answer needs WWW-Authenticate. */
static int bn_check_policy(conn *c, const net_msg *m, int ws, const char **text, int *auth)
{
    bnet *s = c->srv;
    net_str path = net_msg_path(m);
    const route *rt = bn_match(s, ws, net_msg_method(m), path, NULL, NULL, 0);
    if (!ws && !rt) rt = bn_match(s, 1, NULL, path, NULL, NULL, 0);
    net_policy_req pr;
    net_policy_req_from_msg(&pr, m, ws);
    pr.public_route = rt && (rt->flags & BNET_ROUTE_PUBLIC);
    int e = net_policy_check(s->policy, &pr);
    if (e == NET_POLICY_OK && !ws) {
        /* The parsers read up to the upload limit; other routes keep the
         * smaller one. A declared length is judged now, before the body. */
        net_str cl = net_msg_header(m, "content-length");
        if (cl.p && bn_body_over(s, rt, bn_strtoull_n(cl.p, cl.len))) {
            *text = "request body too large";
            *auth = 0;
            return 413;
        }
    }
    if (e == NET_POLICY_OK) {
        /* Passing a public route without a token proves nothing. */
        if (!pr.public_route || pr.nauthorization || pr.has_query_token || pr.has_proto_token)
            conn_authenticated(c);
        return 0;
    }
    *text = net_policy_message(e);
    *auth = e == NET_POLICY_E_TOKEN;
    return net_policy_status(e);
}

static int bn_is_ws_upgrade(const bnet *s, const net_msg *m)
{
    return (net_msg_flags(m) & NET_MSG_UPGRADE) &&
           net_msg_header_has_token(m, "upgrade", "websocket") &&
           bn_match(s, 1, NULL, net_msg_path(m), NULL, NULL, 0) != NULL;
}

/* ---- dispatch ---- */

/* Hands r to its handler or answers it. Returns 1 when r is still open
 * (pending or streaming) afterwards. */
static int bn_dispatch(bnet_req *r)
{
    bnet *s = r->srv;
    s->st.requests_total++;
    if (r->sid) s->st.requests_h2++;
    if (bn_req_publish(r)) {
        r->state = RQ_ABORTED;
        bn_close_hard(r->c);
        return 0;
    }
    net_str path = net_msg_path(r->msg);
    int path_hit = 0;
    char allow[128];
    const route *rt = bn_match(s, 0, net_msg_method(r->msg), path, &path_hit, allow, sizeof allow);
    if (!rt) {
        s->st.requests_rejected++;
        if (bn_match(s, 1, NULL, path, NULL, NULL, 0)) {
            if (r->sid) {
                bn_respond_error_with(r, 400, "websocket needs an HTTP/1.1 upgrade", NULL, 0);
            } else {
                net_field up = {"Upgrade", "websocket"};
                bn_respond_error_with(r, 426, "websocket upgrade required", &up, 1);
            }
        } else if (path_hit) {
            net_field al = {"Allow", allow};
            bn_respond_error_with(r, 405, "method not allowed", &al, 1);
        } else {
            bn_respond_error_with(r, 404, "not found", NULL, 0);
        }
        return 0;
    }
    size_t blen = 0;
    net_msg_body(r->msg, &blen);
    if (bn_body_over(s, rt, blen)) { /* a chunked body with no declared length */
        s->st.requests_rejected++;
        bn_respond_error_with(r, 413, "request body too large", NULL, 0);
        return 0;
    }
    r->in_handler++;
    rt->fn(r, rt->ud);
    r->in_handler--;
    int open = r->state == RQ_PENDING || r->state == RQ_STREAMING;
    bn_req_maybe_free(r);
    return open;
}

/* ---- output and reading ---- */

typedef struct {
    uv_write_t req;
    uint8_t *data;
    size_t len;
} write_req;

static void on_write(uv_write_t *wr, int status)
{
    write_req *w = (write_req *)wr;
    conn *c = wr->handle->data;
    free(w->data);
    size_t len = w->len;
    free(w);
    c->writing = 0;
    c->inflight = 0;
    if (status == 0) c->srv->st.bytes_out += len;
    if (status == 0) c->bytes_written += len;
    if (c->state == S_CLOSING) return;
    if (status < 0) {
        bn_close_hard(c);
        return;
    }
    bn_pump(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    conn *c = req->handle->data;
    if (c->state == S_CLOSING) return;
    if (status < 0 || c->eof) bn_close_hard(c);
}

static void do_shutdown(conn *c)
{
    c->state = S_LINGER;
    bn_arm(c, T_LINGER, c->srv->lim.linger_ms);
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown)) bn_close_hard(c);
}

static void conn_flush(conn *c)
{
    if (c->writing || c->state == S_CLOSING || c->state == S_LINGER) return;
    if (c->out.len == 0) {
        if (c->state == S_DRAINING) do_shutdown(c);
        return;
    }
    write_req *w = malloc(sizeof *w);
    if (!w) {
        bn_close_hard(c);
        return;
    }
    w->data = net_buf_detach(&c->out, &w->len);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)w->len);
    c->writing = 1;
    c->inflight = w->len;
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write)) {
        free(w->data);
        free(w);
        c->writing = 0;
        c->inflight = 0;
        bn_close_hard(c);
    }
}

/* Output callback of the WebSocket and HTTP/2 cores: refuse above the high
 * water mark so they keep frames queued (and bounded) instead of us. */
static int bn_core_send(const uint8_t *data, size_t len, void *ud)
{
    conn *c = ud;
    if (c->state != S_OPEN && c->state != S_DRAINING) return 1;
    if (c->out.len + c->inflight >= c->srv->lim.write_high_water) return 1;
    return net_buf_append(&c->out, data, len) ? 1 : 0;
}

/* No further HTTP/1.1 request is parsed while this holds: a client that
 * pipelines without reading answers gets at most max_pipeline requests and
 * about write_high_water bytes of answers held for it. */
static int bn_h1_blocked(const conn *c)
{
    return c->h1_stop || c->qlen >= c->srv->lim.max_pipeline || (c->qtail && c->qtail->upgrade) ||
           c->out.len + c->inflight > c->srv->lim.write_high_water;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    conn *c = h->data;
    buf->base = c->srv->rbuf;
    buf->len = sizeof c->srv->rbuf;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

static void update_reading(conn *c)
{
    if (c->state == S_CLOSING) return;
    int want = 0;
    if (c->state == S_OPEN) {
        size_t pend = c->out.len + c->inflight + (c->ws ? net_ws_queued(c->ws) : 0);
        want = !c->eof && pend <= c->srv->lim.write_high_water;
        if (c->proto == P_H1 && (bn_h1_blocked(c) || c->in.len >= READ_BUF_SIZE)) want = 0;
    } else {
        /* Draining or lingering: read and discard so the kernel does not
         * answer late input with RST, which would destroy our last bytes. */
        want = !c->eof;
    }
    if (want && !c->reading) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) c->reading = 1;
    } else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = 0;
    }
}

/* ---- closing ---- */

static void report_ws_close(conn *c)
{
    bnet_ws *w = c->wsobj;
    if (!w) return;
    c->wsobj = NULL;
    bnet *s = c->srv;
    bn_idmap_del(&s->wss, w->id);
    s->st.ws_open--;
    net_str reason = {"", 0};
    uint16_t code = c->ws ? net_ws_close_code(c->ws, &reason) : 1006;
    w->rt->wsh.on_close(w, code, reason.p, reason.len, w->rt->ud);
    free(w);
}

/* Tells the application that every request and the WebSocket of c are
 * gone; afterwards nothing on c is reachable by id. */
static void release_app(conn *c)
{
    while (c->live)
        bn_req_abort(c->live);
    report_ws_close(c);
}

static void free_conn(conn *c)
{
    bnet *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    if (c->dirty) {
        conn **pp = &s->dirty;
        while (*pp && *pp != c)
            pp = &(*pp)->dnext;
        if (*pp) *pp = c->dnext;
    }
    while (c->qhead) {
        bnet_req *r = bn_dequeue(c);
        bn_req_maybe_free(r);
    }
    net_http1_destroy(c->h1);
    net_h2_destroy(c->h2);
    net_ws_destroy(c->ws);
    net_buf_free(&c->in);
    net_buf_free(&c->out);
    free(c);
}

static void on_conn_handle_closed(uv_handle_t *h)
{
    conn *c = h->data;
    if (--c->handles_open == 0) free_conn(c);
}

static void bn_close_hard(conn *c)
{
    if (c->state == S_CLOSING) return;
    release_app(c);
    bnet *s = c->srv;
    c->state = S_CLOSING;
    if (c->refused)
        s->nrefusing--;
    else
        s->nopen--;
    s->st.connections_open = s->nopen;
    bn_unauth_remove(c);
    bn_idmap_del(&s->conn_ids, c->id);
    uv_timer_stop(&c->timer);
    uv_timer_stop(&c->hs_timer);
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->hs_timer, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
}

/* Graceful close: write what is queued, send FIN, linger. */
void bn_begin_close(conn *c)
{
    if (c->state != S_OPEN) return;
    release_app(c);
    c->state = S_DRAINING;
    bn_arm(c, T_LINGER, c->srv->lim.linger_ms);
    conn_flush(c);
    update_reading(c);
}

/* ---- input ---- */

static void conn_input(conn *c, const uint8_t *d, size_t n)
{
    switch (c->proto) {
    case P_SNIFF: {
        size_t take = n < H2_PREFACE_LEN - c->sniff_len ? n : H2_PREFACE_LEN - c->sniff_len;
        memcpy(c->sniff + c->sniff_len, d, take);
        c->sniff_len += take;
        if (memcmp(c->sniff, h2_preface, c->sniff_len) != 0) {
            size_t same = 0;
            while (same < c->sniff_len && c->sniff[same] == (uint8_t)h2_preface[same])
                same++;
            if (same >= H2_PREFACE_METHOD_LEN) {
                /* An HTTP/2 preface gone wrong, not an HTTP/1.1 request:
                 * a connection error PROTOCOL_ERROR (RFC 9113 section
                 * 3.4), never an HTTP/1.1 answer. */
                c->srv->st.requests_rejected++;
                if (net_buf_append(&c->out, net_h2_preface_goaway, NET_H2_PREFACE_GOAWAY_LEN)) {
                    bn_close_hard(c);
                    return;
                }
                bn_begin_close(c);
                return;
            }
            if (net_http1_create(&c->h1, &c->srv->h1lim, &bn_h1_callbacks, c) ||
                net_buf_append(&c->in, c->sniff, c->sniff_len) ||
                net_buf_append(&c->in, d + take, n - take)) {
                bn_close_hard(c);
                return;
            }
            c->proto = P_H1;
            bn_h1_parse(c);
        } else if (c->sniff_len == H2_PREFACE_LEN) {
            if (bn_start_h2(c)) {
                bn_close_hard(c);
                return;
            }
            bn_feed_h2(c, c->sniff, H2_PREFACE_LEN);
            if (c->state == S_OPEN && !c->h2_dying && n > take) bn_feed_h2(c, d + take, n - take);
        }
        break;
    }
    case P_H1:
        if (net_buf_append(&c->in, d, n)) {
            bn_close_hard(c);
            return;
        }
        bn_h1_parse(c);
        break;
    case P_WS:
        c->ws_heard = 1;
        c->ws_pinged = 0;
        if (net_ws_feed(c->ws, d, n)) bn_close_hard(c);
        break;
    case P_H2:
        if (!c->h2_dying) bn_feed_h2(c, d, n);
        break;
    }
}

void bn_pump(conn *c)
{
    if (c->busy) {
        c->again = 1;
        return;
    }
    c->busy = 1;
    do {
        c->again = 0;
        if (c->state != S_OPEN && c->state != S_DRAINING) break;
        if (c->state == S_OPEN) {
            int before = c->proto;
            if (c->proto == P_H1) {
                bn_h1_output(c);
                if (c->proto == P_H1) bn_h1_parse(c);
            }
            if (c->state == S_OPEN && c->proto != before && c->in.len) {
                /* Bytes after the upgrade request belong to the new
                 * protocol. */
                net_buf rest = c->in;
                net_buf_init(&c->in);
                if (c->proto == P_WS) {
                    c->ws_heard = 1;
                    if (net_ws_feed(c->ws, rest.data, rest.len)) bn_close_hard(c);
                } else if (c->proto == P_H2) {
                    bn_feed_h2(c, rest.data, rest.len);
                }
                net_buf_free(&rest);
            }
            if (c->proto != P_H1 && c->h1 && !c->in.len) {
                /* Upgraded: the HTTP/1.1 parser and the input buffer are
                 * not needed again (an idle WebSocket keeps neither). */
                net_http1_destroy(c->h1);
                c->h1 = NULL;
                net_buf_free(&c->in);
            }
            if (c->state == S_OPEN && c->proto == P_WS) bn_ws_pump(c);
            if (c->state == S_OPEN && c->proto == P_H2) bn_h2_pump(c);
        }
        conn_flush(c);
    } while (c->again);
    c->busy = 0;
    update_reading(c);
    bn_ws_drain_check(c);
}

void bn_on_idle(uv_idle_t *h)
{
    bnet *s = h->data;
    while (s->dirty) {
        conn *c = s->dirty;
        s->dirty = c->dnext;
        c->dnext = NULL;
        c->dirty = 0;
        bn_pump(c);
    }
    uv_idle_stop(h);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    conn *c = st->data;
    bnet *s = c->srv;
    if (n == 0 || c->state == S_CLOSING) return;
    if (n < 0) {
        c->eof = 1;
        uv_read_stop(st);
        c->reading = 0;
        if (c->state == S_DRAINING) return; /* on_shutdown closes */
        if (c->state == S_LINGER) {
            bn_close_hard(c);
            return;
        }
        /* A client that half-closes after its requests still gets the
         * answers that need no further input; streams and WebSockets end. */
        int answerable = c->proto == P_H1 && c->qlen > 0;
        for (bnet_req *r = c->qhead; r; r = r->qnext)
            if (r->state == RQ_STREAMING || r->upgrade) answerable = 0;
        if (answerable) {
            c->h1_stop = 1;
            bn_pump(c);
        } else {
            bn_close_hard(c);
        }
        return;
    }
    s->st.bytes_in += (uint64_t)n;
    if (c->state != S_OPEN) return; /* draining or lingering: discard */
    c->busy = 1;
    conn_input(c, (const uint8_t *)buf->base, (size_t)n);
    c->busy = 0;
    bn_pump(c);
}

static void peer_name(conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    snprintf(c->peer, sizeof c->peer, "?");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len)) return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        uv_ip4_name(a, ip, sizeof ip);
        port = ntohs(a->sin_port);
        snprintf(c->peer, sizeof c->peer, "%s:%d", ip, port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        uv_ip6_name(a, ip, sizeof ip);
        port = ntohs(a->sin6_port);
        snprintf(c->peer, sizeof c->peer, "[%s]:%d", ip, port);
    }
}

void bn_on_connection(uv_stream_t *server, int status)
{
    bnet *s = server->data;
    if (status < 0) {
        LOG_W("bnet", "accept: %s", uv_strerror(status));
        return;
    }
    conn *c = calloc(1, sizeof *c);
    if (!c) return;
    c->srv = s;
    net_buf_init(&c->in);
    net_buf_init(&c->out);
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    uv_timer_init(s->loop, &c->hs_timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->hs_timer.data = c;
    c->handles_open = 3;
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    c->id = ++s->next_id;
    /* Room for the newcomer: idle connections without the token give way
     * (the oldest first) before anyone is refused. */
    if (s->nopen >= s->lim.max_connections || s->nunauth >= s->lim.max_unauth_connections)
        bn_evict_unauth(s);
    int over = s->nopen >= s->lim.max_connections || s->nunauth >= s->lim.max_unauth_connections;
    if (over)
        s->nrefusing++, c->refused = 1;
    else
        s->nopen++;
    s->st.connections_open = s->nopen;
    if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
        bn_close_hard(c);
        return;
    }
    s->st.connections_total++;
    peer_name(c);
    uv_tcp_nodelay(&c->tcp, 1);
    if (over) {
        s->st.connections_refused++;
        if (s->nrefusing > MAX_REFUSING ||
            net_http1_write_error(&c->out, 503, "too many connections", NULL, 0, 1)) {
            bn_close_hard(c);
            return;
        }
        bn_begin_close(c);
        return;
    }
    if (bn_idmap_put(&s->conn_ids, c->id, c)) {
        bn_close_hard(c);
        return;
    }
    bn_unauth_add(c);
    uv_timer_start(&c->hs_timer, bn_on_hs_timer, s->lim.handshake_timeout_ms, 0);
    c->proto = P_SNIFF;
    bn_arm(c, T_IDLE, s->lim.idle_timeout_ms);
    update_reading(c);
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *t);

static void bn_arm(conn *c, int kind, uint64_t ms)
{
    if (c->state == S_CLOSING) return;
    if (ms == 0) {
        bn_disarm(c);
        return;
    }
    c->timer_kind = kind;
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void bn_disarm(conn *c)
{
    c->timer_kind = T_NONE;
    uv_timer_stop(&c->timer);
}

static void bn_h1_fail(conn *c, int status, const char *text, const net_field *extra, size_t n);

static void on_timer(uv_timer_t *t)
{
    conn *c = t->data;
    bnet *s = c->srv;
    int kind = c->timer_kind;
    c->timer_kind = T_NONE;
    switch (kind) {
    case T_IDLE:
        s->st.timeouts++;
        if (c->proto == P_H2) {
            net_h2_goaway(c->h2);
            c->h2_dying = 1;
            bn_pump(c);
        } else if (c->proto == P_WS) {
            bn_close_hard(c);
        } else {
            bn_begin_close(c);
        }
        break;
    case T_HEADER:
    case T_BODY:
        s->st.timeouts++;
        if (c->proto == P_H1 && c->state == S_OPEN) {
            bn_h1_fail(c, 408, "request timeout", NULL, 0);
            bn_pump(c);
        } else {
            bn_close_hard(c);
        }
        break;
    case T_PING:
        /* Our own ping (2 bytes) is not the peer reading. */
        if (c->ws_pinged && !c->ws_heard && c->bytes_written <= c->ping_bytes + 2) {
            /* A whole interval without a byte from the peer, pong included,
             * and nothing read by it either: gone or stuck. It is told why
             * (if it ever reads again) before the connection ends. */
            static const char why[] = "no answer to ping and nothing read: closing";
            s->st.timeouts++;
            LOG_I("bnet", "WebSocket from %s dropped: %s", c->peer, why);
            if (net_ws_close_now(c->ws, 1008, why, sizeof why - 1) != 0) {
                bn_close_hard(c);
                break;
            }
            bn_pump(c);
            break;
        }
        c->ws_heard = 0;
        c->ws_pinged = 1;
        c->ping_bytes = c->bytes_written;
        net_ws_ping(c->ws);
        bn_arm(c, T_PING, s->lim.ws_ping_ms);
        bn_pump(c);
        break;
    case T_WS_CLOSE: {
        /* Our close frame (or what is queued before it) has not reached
         * the kernel yet: a slow reader would lose it. Wait on while it
         * drains, or within BNET_WS_CLOSE_GRACE_MS of the close for a
         * peer that paused, never past BNET_WS_CLOSE_MAX_MS. */
        uint64_t now = uv_now(s->loop), since = now - c->close_started;
        int unsent = c->ws && (!net_ws_close_sent(c->ws) || c->out.len + c->inflight > 0);
        int moving = c->bytes_written != c->close_bytes;
        if (unsent && since < BNET_WS_CLOSE_MAX_MS && (moving || since < BNET_WS_CLOSE_GRACE_MS)) {
            c->close_bytes = c->bytes_written;
            bn_arm(c, T_WS_CLOSE, s->lim.linger_ms);
            break;
        }
        bn_close_hard(c);
        break;
    }
    case T_LINGER:
        bn_close_hard(c);
        break;
    default:
        break;
    }
}

/* ---- HTTP/1.1 ---- */

static void bn_h1_fail(conn *c, int status, const char *text, const net_field *extra, size_t n)
{
    bnet *s = c->srv;
    bnet_req *r = bn_req_new(c, NULL);
    c->h1_stop = 1;
    s->st.requests_total++;
    s->st.requests_rejected++;
    bn_disarm(c);
    if (!r) {
        bn_begin_close(c);
        return;
    }
    if (net_http1_write_error(&r->resp, status, text, extra, n, 1)) {
        bn_req_free(r);
        bn_begin_close(c);
        return;
    }
    r->state = RQ_DONE;
    r->close_after = 1;
    bn_enqueue(c, r);
}

static void h1_on_begin(void *ud)
{
    conn *c = ud;
    bn_arm(c, T_HEADER, c->srv->lim.header_timeout_ms);
}

static int h1_on_head(net_msg *m, void *ud)
{
    conn *c = ud;
    bn_arm(c, T_BODY, c->srv->lim.body_timeout_ms);
    c->reject_text = NULL;
    c->reject_auth = 0;
    int status =
        bn_check_policy(c, m, bn_is_ws_upgrade(c->srv, m), &c->reject_text, &c->reject_auth);
    if (status) return status;
    /* The client waits for this before sending the body; later in the
     * pipeline it would be out of order, and the client then just sends. */
    if ((net_msg_flags(m) & NET_MSG_EXPECT_CONTINUE) && c->qlen == 0)
        net_buf_append_str(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
    return 0;
}

static const net_http1_callbacks bn_h1_callbacks = {h1_on_begin, h1_on_head};

static void h1_request(conn *c, net_msg *m)
{
    bnet_req *r = bn_req_new(c, m);
    if (!r) {
        net_msg_destroy(m);
        bn_close_hard(c);
        return;
    }
    bn_disarm(c);
    bn_enqueue(c, r);
    c->h1_count++;
    if (!r->keep_alive) c->h1_stop = 1;
    if (net_msg_flags(m) & NET_MSG_UPGRADE) {
        if (bn_is_ws_upgrade(c->srv, m)) {
            r->upgrade = UP_WS;
        } else if (net_msg_header_has_token(m, "upgrade", "h2c") &&
                   net_msg_header_has_token(m, "connection", "http2-settings") &&
                   net_msg_header_n(m, "http2-settings") == 1) {
            r->upgrade = UP_H2C;
        }
    }
    /* Upgrades wait until every earlier answer is out (bn_h1_output). */
    if (!r->upgrade) bn_dispatch(r);
}

/* 1 when the first line of d (the connection's first bytes) is complete
 * and does not end in an HTTP version ("HTTP/..."). A line that has not
 * fully arrived here gives 0: the parser's answer stands. */
static int not_http_line(const uint8_t *d, size_t n)
{
    if (n > FIRST_LINE_SCAN) n = FIRST_LINE_SCAN;
    const uint8_t *nl = memchr(d, '\n', n);
    if (!nl) return 0;
    size_t len = (size_t)(nl - d);
    if (len && d[len - 1] == '\r') len--;
    size_t sp = len;
    while (sp > 0 && d[sp - 1] != ' ')
        sp--;
    if (sp == 0) return 1;
    return !(len - sp >= 5 && memcmp(d + sp, "HTTP/", 5) == 0);
}

static void bn_h1_parse(conn *c)
{
    size_t off = 0;
    while (c->state == S_OPEN && c->proto == P_H1 && !bn_h1_blocked(c) && off < c->in.len) {
        size_t used = 0;
        net_msg *m = NULL;
        int e = net_http1_feed(c->h1, c->in.data + off, c->in.len - off, &used, &m);
        off += used;
        if (e == NET_HTTP1_NEED_MORE) break;
        if (e == NET_HTTP1_REQUEST) {
            h1_request(c, m);
            /* Answers given at once leave now, so bn_h1_blocked sees them. */
            bn_h1_output(c);
            continue;
        }
        if (e == NET_HTTP1_E_REJECTED) {
            net_field au = {"WWW-Authenticate", "Bearer"};
            bn_h1_fail(c, net_http1_error_status(c->h1),
                       c->reject_text ? c->reject_text : "rejected", &au, c->reject_auth ? 1 : 0);
        } else if (e == NET_HTTP1_E_PARSE && c->h1_count == 0 &&
                   not_http_line(c->in.data, c->in.len)) {
            /* Not an HTTP/1.x client at all (h2spec 3.5/2 sends "INVALID
             * CONNECTION PREFACE"): an HTTP/1.1 answer would be noise to
             * it, so the connection just ends. */
            c->srv->st.requests_rejected++;
            c->h1_stop = 1;
            bn_begin_close(c);
        } else if (e == NET_HTTP1_E_PARSE) {
            bn_h1_fail(c, net_http1_error_status(c->h1), net_http1_error_text(c->h1), NULL, 0);
        } else {
            bn_close_hard(c);
        }
        break;
    }
    if (c->state != S_CLOSING) net_buf_consume(&c->in, off);
}

static int bn_start_h2(conn *c)
{
    if (net_h2_create(&c->h2, &c->srv->h2lim, &bn_h2_callbacks, c)) return -1;
    c->proto = P_H2;
    bn_arm(c, T_IDLE, c->srv->lim.idle_timeout_ms);
    return 0;
}

static void upgrade_refuse(conn *c, bnet_req *r, int status, const char *text, const net_field *f,
                           size_t n)
{
    c->srv->st.requests_rejected++;
    net_http1_write_error(&c->out, status, text, f, n, 1);
    c->h1_stop = 1;
    bn_req_free(r);
}

static void h1_upgrade(conn *c, bnet_req *r)
{
    bnet *s = c->srv;
    bn_dequeue(c);
    s->st.requests_total++;
    if (r->upgrade == UP_H2C) {
        /* Create the session first: a bad HTTP2-Settings still gets a 400
         * over HTTP/1.1. */
        net_str settings = net_msg_header(r->msg, "http2-settings");
        net_msg *m = r->msg;
        r->msg = NULL;
        if (net_h2_create(&c->h2, &s->h2lim, &bn_h2_callbacks, c)) {
            net_msg_destroy(m);
            bn_req_free(r);
            bn_close_hard(c);
            return;
        }
        /* The settings view points into m, which net_h2_upgrade takes. */
        int e = net_h2_upgrade(c->h2, settings, m);
        if (e) {
            net_h2_destroy(c->h2);
            c->h2 = NULL;
            upgrade_refuse(c, r, 400, "invalid HTTP2-Settings", NULL, 0);
            return;
        }
        bn_req_free(r);
        net_buf_append_str(&c->out, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                                    "Upgrade: h2c\r\n\r\n");
        c->proto = P_H2;
        bn_arm(c, T_IDLE, s->lim.idle_timeout_ms);
        return;
    }

    net_str key;
    int status = net_ws_handshake_check(r->msg, &key);
    if (status) {
        net_field v = {"Sec-WebSocket-Version", "13"};
        upgrade_refuse(c, r, status,
                       status == 426 ? "websocket version 13 required" : "bad websocket handshake",
                       &v, status == 426 ? 1 : 0);
        return;
    }
    const route *rt = bn_match(s, 1, NULL, net_msg_path(r->msg), NULL, NULL, 0);
    if (rt->wsh.on_upgrade) {
        r->in_handler++;
        status = rt->wsh.on_upgrade(r, rt->ud);
        r->in_handler--;
        if (c->state != S_OPEN) {
            bn_req_free(r);
            return;
        }
        if (status) {
            if (status < 400 || status > 599) status = 403;
            upgrade_refuse(c, r, status, "websocket refused", NULL, 0);
            return;
        }
    }
    bnet_ws *w = calloc(1, sizeof *w);
    if (!w || net_ws_create(&c->ws, &s->wslim, &bn_ws_callbacks, c) ||
        net_ws_write_101(&c->out, key.p, key.len, net_policy_ws_protocol(r->msg))) {
        free(w);
        bn_req_free(r);
        bn_close_hard(c);
        return;
    }
    w->srv = s;
    w->c = c;
    w->rt = rt;
    w->id = ++s->next_id;
    if (bn_idmap_put(&s->wss, w->id, w)) {
        free(w);
        bn_req_free(r);
        bn_close_hard(c);
        return;
    }
    c->wsobj = w;
    c->proto = P_WS;
    s->st.ws_open++;
    bn_arm(c, T_PING, s->lim.ws_ping_ms);
    r->in_handler++;
    rt->wsh.on_open(w, r, rt->ud);
    r->in_handler--;
    bn_req_free(r);
}

/* Moves finished answers, in request order, to the output. */
static void bn_h1_output(conn *c)
{
    while (c->qhead && c->state == S_OPEN && c->proto == P_H1) {
        bnet_req *r = c->qhead;
        if (r->resp.len) {
            if (net_buf_append(&c->out, r->resp.data, r->resp.len)) {
                bn_close_hard(c);
                return;
            }
            net_buf_reset(&r->resp);
        }
        if (r->upgrade && r->state == RQ_PENDING) {
            h1_upgrade(c, r);
            continue;
        }
        if (r->state == RQ_PENDING || r->state == RQ_STREAMING) break;
        bn_dequeue(c);
        if (r->close_after) c->h1_stop = 1;
        bn_req_maybe_free(r);
    }
    if (c->state != S_OPEN || c->proto != P_H1 || c->qhead) return;
    if (c->h1_stop) {
        bn_begin_close(c);
    } else if (!net_http1_in_request(c->h1) && c->timer_kind == T_NONE) {
        bn_arm(c, T_IDLE, c->srv->lim.idle_timeout_ms);
    }
}

/* ---- WebSocket ---- */

static void ws_on_message(int binary, const uint8_t *data, size_t len, void *ud)
{
    conn *c = ud;
    bnet_ws *w = c->wsobj;
    if (!w) return;
    c->srv->st.ws_messages_in++;
    w->rt->wsh.on_message(w, binary, data, len, w->rt->ud);
}

static const net_ws_callbacks bn_ws_callbacks = {ws_on_message, bn_core_send};

/* What a WebSocket's peer has yet to read from us: unsent frames, the
 * connection's output and the write in flight. */
static size_t ws_pending(const conn *c)
{
    return c->out.len + c->inflight + (c->ws ? net_ws_queued(c->ws) : 0);
}

/* Tells the application once a congested WebSocket drained; at the end of
 * bn_pump, so that it may send again. Control frames queued here (pongs,
 * close) count towards congestion too: whoever saw bnet_ws_queued at the
 * high mark is owed an on_drain. */
static void bn_ws_drain_check(conn *c)
{
    if (c->state != S_OPEN || c->proto != P_WS || !c->wsobj) return;
    size_t pending = ws_pending(c);
    if (pending >= BNET_WS_HIGH_WATER) c->ws_congested = 1;
    if (!c->ws_congested || pending >= BNET_WS_LOW_WATER) return;
    c->ws_congested = 0;
    if (net_ws_closing(c->ws)) return;
    bnet_ws *w = c->wsobj;
    if (w->rt->wsh.on_drain) w->rt->wsh.on_drain(w, w->rt->ud);
}

static void bn_ws_pump(conn *c)
{
    if (net_ws_flush(c->ws)) {
        bn_close_hard(c);
        return;
    }
    if (net_ws_finished(c->ws)) {
        bn_begin_close(c);
    } else if (net_ws_closing(c->ws) && c->timer_kind != T_WS_CLOSE) {
        c->close_started = uv_now(c->srv->loop);
        c->close_bytes = c->bytes_written;
        bn_arm(c, T_WS_CLOSE, c->srv->lim.linger_ms);
    }
}

int bnet_ws_send(bnet_ws *w, int binary, const void *data, size_t len)
{
    if (!w || (len && !data)) return BNET_E_ARG;
    conn *c = w->c;
    if (c->state != S_OPEN) return BNET_E_CLOSED;
    int kind = binary == BNET_WS_TEXT_CHECKED ? NET_WS_TEXT_CHECKED
               : binary                       ? NET_WS_BINARY
                                              : NET_WS_TEXT;
    int e = net_ws_send(c->ws, kind, data ? data : "", len);
    bn_schedule(c);
    switch (e) {
    case 0:
        c->srv->st.ws_messages_out++;
        if (ws_pending(c) >= BNET_WS_HIGH_WATER) c->ws_congested = 1;
        return BNET_OK;
    case NET_WS_E_QUEUE_FULL:
        return BNET_E_FULL;
    case NET_WS_E_CLOSED:
        return BNET_E_CLOSED;
    case NET_WS_E_ARG:
        return BNET_E_ARG;
    default:
        return BNET_E_NOMEM;
    }
}

int bnet_ws_close(bnet_ws *w, uint16_t code, const char *reason)
{
    if (!w) return BNET_E_ARG;
    conn *c = w->c;
    if (c->state != S_OPEN) return BNET_E_CLOSED;
    int e = net_ws_close(c->ws, code, reason, reason ? strlen(reason) : 0);
    if (e == NET_WS_E_ARG) return BNET_E_ARG;
    if (e) return BNET_E_CLOSED;
    bn_schedule(c);
    return BNET_OK;
}

size_t bnet_ws_queued(const bnet_ws *w)
{
    return ws_pending(w->c);
}

uint64_t bnet_ws_id(const bnet_ws *w)
{
    return w->id;
}

bnet_ws *bnet_ws_find(bnet *s, uint64_t id)
{
    return id ? bn_idmap_get(&s->wss, id) : NULL;
}

const char *bnet_ws_peer(const bnet_ws *w)
{
    return w->c->peer;
}

void bnet_ws_set_data(bnet_ws *w, void *data)
{
    w->data = data;
}

void *bnet_ws_data(const bnet_ws *w)
{
    return w->data;
}

/* ---- HTTP/2 ---- */

static int h2_on_head(int32_t sid, net_msg *m, const char **text, void *ud)
{
    (void)sid;
    conn *c = ud;
    int auth = 0;
    int status = bn_check_policy(c, m, 0, text, &auth);
    if (status) c->srv->st.requests_total++, c->srv->st.requests_rejected++;
    return status;
}

static void *h2_on_request(int32_t sid, net_msg *m, void *ud)
{
    conn *c = ud;
    bnet_req *r = bn_req_new(c, m);
    if (!r) {
        net_msg_destroy(m);
        return NULL;
    }
    r->sid = sid;
    r->keep_alive = 1;
    return bn_dispatch(r) ? r : NULL;
}

static void h2_on_stream_close(int32_t sid, void *app, void *ud)
{
    (void)sid, (void)ud;
    bn_req_abort(app);
}

static const net_h2_callbacks bn_h2_callbacks = {h2_on_head, h2_on_request, h2_on_stream_close,
                                                 bn_core_send};

static void bn_h2_pump(conn *c)
{
    if (net_h2_flush(c->h2)) {
        bn_close_hard(c);
        return;
    }
    if (net_h2_finished(c->h2) ||
        (c->h2_dying && c->out.len + c->inflight == 0 && net_h2_open_streams(c->h2) == 0)) {
        bn_begin_close(c);
        return;
    }
    if (net_h2_open_streams(c->h2) == 0) {
        if (c->timer_kind != T_IDLE) bn_arm(c, T_IDLE, c->srv->lim.idle_timeout_ms);
    } else if (c->timer_kind == T_IDLE) {
        bn_disarm(c);
    }
}

static void bn_feed_h2(conn *c, const uint8_t *d, size_t n)
{
    int e = net_h2_feed(c->h2, d, n);
    if (e == NET_H2_E_PROTO) {
        c->h2_dying = 1;
        c->srv->st.requests_rejected++;
    } else if (e) {
        bn_close_hard(c);
        return;
    }
    if (!c->h2_dying && net_h2_calmed(c->h2)) {
        c->h2_dying = 1;
        c->srv->st.h2_calmed++;
        LOG_W("bnet",
              "%s: HTTP/2 streams reset faster than they complete; closing with "
              "ENHANCE_YOUR_CALM",
              c->peer);
    }
}

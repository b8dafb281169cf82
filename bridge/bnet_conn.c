/* bnet_conn: a connection's dispatch, output, reading, input and closing (bnet_int.h). */
#include "bnet_int.h"

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* ---- dispatch ---- */

/* Hands r to its handler or answers it. Returns 1 when r is still open
 * (pending or streaming) afterwards. */
int bn_dispatch(bnet_req *r)
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
int bn_core_send(const uint8_t *data, size_t len, void *ud)
{
    conn *c = ud;
    if (c->state != S_OPEN && c->state != S_DRAINING) return 1;
    if (c->out.len + c->inflight >= c->srv->lim.write_high_water) return 1;
    return net_buf_append(&c->out, data, len) ? 1 : 0;
}

/* No further HTTP/1.1 request is parsed while this holds: a client that
 * pipelines without reading answers gets at most max_pipeline requests and
 * about write_high_water bytes of answers held for it. */
int bn_h1_blocked(const conn *c)
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

void bn_close_hard(conn *c)
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
            if (c->state == S_OPEN && c->proto == P_WS) bn_ws_pump(c);
            if (c->state == S_OPEN && c->proto == P_H2) bn_h2_pump(c);
        }
        conn_flush(c);
    } while (c->again);
    c->busy = 0;
    update_reading(c);
    bn_ws_drain_check(c);
}

static void on_idle(uv_idle_t *h)
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

/* Runs bn_pump(c) soon, outside the application's current call. */
void bn_schedule(conn *c)
{
    if (c->busy) {
        c->again = 1;
        return;
    }
    if (c->dirty || c->state == S_CLOSING) return;
    bnet *s = c->srv;
    c->dirty = 1;
    c->dnext = s->dirty;
    s->dirty = c;
    uv_idle_start(s->idle, on_idle);
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

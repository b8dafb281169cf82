/* bnet_h1: the glue between connections and the HTTP/1.1 core (net_http1) (bnet_int.h). */
#include "bnet_int.h"

/* ---- HTTP/1.1 ---- */

void bn_h1_fail(conn *c, int status, const char *text, const net_field *extra, size_t n)
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

const net_http1_callbacks bn_h1_callbacks = {h1_on_begin, h1_on_head};

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

void bn_h1_parse(conn *c)
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

int bn_start_h2(conn *c)
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
void bn_h1_output(conn *c)
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

/* bnet_h2: the glue between connections and the HTTP/2 core (net_h2) (bnet_int.h). */
#include "bnet_int.h"

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

const net_h2_callbacks bn_h2_callbacks = {h2_on_head, h2_on_request, h2_on_stream_close,
                                          bn_core_send};

void bn_h2_pump(conn *c)
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

void bn_feed_h2(conn *c, const uint8_t *d, size_t n)
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

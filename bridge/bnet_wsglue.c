/* bnet_wsglue: the glue between connections and the WebSocket core (net_ws) (bnet_int.h). */
#include "bnet_int.h"

/* ---- WebSocket ---- */

static void ws_on_message(int binary, const uint8_t *data, size_t len, void *ud)
{
    conn *c = ud;
    bnet_ws *w = c->wsobj;
    if (!w) return;
    c->srv->st.ws_messages_in++;
    w->rt->wsh.on_message(w, binary, data, len, w->rt->ud);
}

const net_ws_callbacks bn_ws_callbacks = {ws_on_message, bn_core_send};

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
void bn_ws_drain_check(conn *c)
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

void bn_ws_pump(conn *c)
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
    int e = net_ws_send(c->ws, binary, data ? data : "", len);
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

/* bnet_timer: per-connection timers (header, body, idle, ping, linger, handshake) (bnet_int.h). */
#include "bnet_int.h"

/* ---- timers ---- */

static void on_timer(uv_timer_t *t);

void bn_arm(conn *c, int kind, uint64_t ms)
{
    if (c->state == S_CLOSING) return;
    if (ms == 0) {
        bn_disarm(c);
        return;
    }
    c->timer_kind = kind;
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

void bn_disarm(conn *c)
{
    c->timer_kind = T_NONE;
    uv_timer_stop(&c->timer);
}

void bn_h1_fail(conn *c, int status, const char *text, const net_field *extra, size_t n);

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

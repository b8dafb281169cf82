/* HealthService: the core's store and, with several cores on one
 * PostgreSQL database, its peers and the counters of forwarding, event
 * fan-out and leases (proto/comfyd/v1/health.proto, docs/scale-out.md).
 * One query to the store tells whether it answers; the peers are the
 * live cores of cluster_cores, each with the state of this core's channel
 * to it (made on first use, so a bridge polling /healthz keeps it
 * connecting). */
#include <stdlib.h>
#include <string.h>

#include "comfyd/v1/health.pb-c.h"
#include "lease.h"
#include "store.h"
#include "store_pg_notify.h"
#include "svc.h"

typedef struct {
    svc_ctx *ctx;
    Comfyd__V1__CorePeer *peers[LEASE_MAX_PEERS];
    Comfyd__V1__CorePeer store[LEASE_MAX_PEERS];
    char *ids[LEASE_MAX_PEERS], *addrs[LEASE_MAX_PEERS], *states[LEASE_MAX_PEERS];
    size_t n;
} peer_list;

static void add_peer(void *ud, const char *core_id, const char *addr)
{
    peer_list *pl = ud;
    if (pl->n >= LEASE_MAX_PEERS) return;
    size_t i = pl->n++;
    Comfyd__V1__CorePeer *p = &pl->store[i];
    comfyd__v1__core_peer__init(p);
    pl->ids[i] = strdup(core_id);
    pl->addrs[i] = strdup(addr);
    const char *state = svc_fwd_peer_state(pl->ctx->fwd, addr);
    pl->states[i] = strdup(state);
    if (!pl->ids[i] || !pl->addrs[i] || !pl->states[i]) abort();
    p->core_id = pl->ids[i];
    p->address = pl->addrs[i];
    p->state = pl->states[i];
    p->reachable = strcmp(state, "ready") == 0;
    pl->peers[i] = p;
}

static void h_get_health(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    (void)msg;
    svc_ctx *ctx = ud;
    Comfyd__V1__GetHealthResponse r = COMFYD__V1__GET_HEALTH_RESPONSE__INIT;
    uint64_t probe = 0;
    r.store_engine = (char *)(ctx->st ? store_engine(ctx->st) : "");
    r.store_reachable =
        ctx->st && store_counter_get(ctx->st, CANVAS_REV_COUNTER, &probe) == STORE_OK;
    r.core_id = (char *)(ctx->core_id ? ctx->core_id : "");
    r.advertise = (char *)(ctx->reg ? creg_addr(ctx->reg) : "");
    peer_list pl = {.ctx = ctx};
    if (ctx->ls) lease_peers(ctx->ls, add_peer, &pl);
    r.peers = pl.peers;
    r.n_peers = pl.n;
    svc_fwd_stats fs;
    svc_fwd_get_stats(ctx->fwd, &fs);
    r.forwarded_commands = fs.forwarded;
    r.forward_errors = fs.errors;
    r.forward_latency_us_sum = fs.latency_us_sum;
    r.forward_latency_us_max = fs.latency_us_max;
    if (ctx->nt) {
        pgnotify_stats ns;
        pgnotify_get_stats(ctx->nt, &ns);
        r.notify_sent = ns.sent;
        r.notify_received = ns.received;
        r.notify_dropped = ns.dropped;
        r.notify_lag_ms = ns.last_send_lag_ms;
    }
    if (ctx->ls) {
        lease_stats ls;
        lease_get_stats(ctx->ls, &ls);
        r.lease_takeovers = ls.takeovers;
        r.leases_lost = ls.lost;
        r.canvases_expired = ls.canvases_expired;
    }
    r.canvases_here = creg_local_count(ctx->reg);
    rpcs_call_reply(call, &r.base);
    for (size_t i = 0; i < pl.n; i++) {
        free(pl.ids[i]);
        free(pl.addrs[i]);
        free(pl.states[i]);
    }
}

size_t svc_health_methods(svc_ctx *ctx, rpcs_method *out, size_t max)
{
    const rpcs_method m[] = {
        {&comfyd__v1__health_service__descriptor, "GetHealth", RPCS_UNARY, h_get_health, ctx},
    };
    size_t n = sizeof m / sizeof m[0];
    if (n > max) n = max;
    memcpy(out, m, n * sizeof m[0]);
    return n;
}

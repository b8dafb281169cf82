#include "app_health.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_int.h"
#include "comfyd/v1/health.pb-c.h"
#include "text.h"

typedef struct {
    char core_id[201];
    char addr[513];
    char state[32];
    int reachable;
} peer;

struct app_health {
    pthread_mutex_t mu;
    int inflight;
    uint64_t last_poll_ms;
    /* The last answer, and the loop time it arrived (0: none yet). */
    uint64_t got_ms;
    char core_id[201];
    char engine[16];
    int store_reachable;
    peer peers[APP_HEALTH_MAX_PEERS];
    size_t n_peers;
    Comfyd__V1__GetHealthResponse counters; /* the numbers only */
    /* The loop's clock is read from the client's thread through this. */
    uint64_t now_ms;
};

app_health *app_health_create(void)
{
    app_health *h = calloc(1, sizeof *h);
    if (!h) abort();
    pthread_mutex_init(&h->mu, NULL);
    return h;
}

void app_health_destroy(app_health *h)
{
    if (!h) return;
    pthread_mutex_destroy(&h->mu);
    free(h);
}

static void on_health(void *ud, grpc_status_code code, const char *details, const char *graph_error,
                      ProtobufCMessage *resp)
{
    (void)details;
    (void)graph_error;
    app_health *h = ud;
    pthread_mutex_lock(&h->mu);
    h->inflight = 0;
    if (code == GRPC_STATUS_OK && resp) {
        const Comfyd__V1__GetHealthResponse *r = (const Comfyd__V1__GetHealthResponse *)resp;
        h->got_ms = h->now_ms ? h->now_ms : 1;
        snprintf(h->core_id, sizeof h->core_id, "%s", r->core_id ? r->core_id : "");
        snprintf(h->engine, sizeof h->engine, "%s", r->store_engine ? r->store_engine : "");
        h->store_reachable = r->store_reachable;
        h->n_peers = 0;
        for (size_t i = 0; i < r->n_peers && i < APP_HEALTH_MAX_PEERS; i++) {
            peer *p = &h->peers[h->n_peers++];
            snprintf(p->core_id, sizeof p->core_id, "%s", r->peers[i]->core_id);
            snprintf(p->addr, sizeof p->addr, "%s", r->peers[i]->address);
            snprintf(p->state, sizeof p->state, "%s", r->peers[i]->state);
            p->reachable = r->peers[i]->reachable;
        }
        h->counters = *r;
        h->counters.core_id = h->counters.store_engine = h->counters.advertise = NULL;
        h->counters.peers = NULL;
        h->counters.n_peers = 0;
    }
    pthread_mutex_unlock(&h->mu);
    if (resp) protobuf_c_message_free_unpacked(resp, NULL);
}

void app_health_poll(app_health *h, rpcc *core, uint64_t now_ms)
{
    pthread_mutex_lock(&h->mu);
    h->now_ms = now_ms;
    int go =
        !h->inflight && (h->last_poll_ms == 0 || now_ms - h->last_poll_ms >= APP_HEALTH_POLL_MS);
    if (go) {
        h->inflight = 1;
        h->last_poll_ms = now_ms;
    }
    pthread_mutex_unlock(&h->mu);
    if (!go) return;
    Comfyd__V1__GetHealthRequest req = COMFYD__V1__GET_HEALTH_REQUEST__INIT;
    if (rpcc_unary(core, &comfyd__v1__health_service__descriptor, "GetHealth", &req.base,
                   APP_HEALTH_TIMEOUT_MS, 0, on_health, h) != RPCC_OK) {
        pthread_mutex_lock(&h->mu);
        h->inflight = 0;
        pthread_mutex_unlock(&h->mu);
    }
}

static int fresh(const app_health *h, uint64_t now_ms)
{
    return h->got_ms && now_ms - h->got_ms <= APP_HEALTH_STALE_MS;
}

int app_health_store_ok(app_health *h, uint64_t now_ms)
{
    pthread_mutex_lock(&h->mu);
    int ok = !fresh(h, now_ms) || h->store_reachable;
    pthread_mutex_unlock(&h->mu);
    return ok;
}

int app_health_json(app_health *h, yajl_gen g, uint64_t now_ms)
{
    int rc = 0;
    pthread_mutex_lock(&h->mu);
    int f = fresh(h, now_ms);
    size_t reachable = 0;
    for (size_t i = 0; f && i < h->n_peers; i++)
        reachable += h->peers[i].reachable != 0;
    rc |= app__gen_cstr(g, "store");
    rc |= yajl_gen_map_open(g) != yajl_gen_status_ok;
    rc |= app__gen_cstr(g, "engine") || app__gen_str(g, f ? h->engine : "unknown");
    rc |= app__gen_cstr(g, "reachable");
    rc |= (f ? yajl_gen_bool(g, h->store_reachable) : yajl_gen_null(g)) != yajl_gen_status_ok;
    rc |= yajl_gen_map_close(g) != yajl_gen_status_ok;
    rc |= app__gen_cstr(g, "peers");
    rc |= yajl_gen_map_open(g) != yajl_gen_status_ok;
    rc |= app__gen_cstr(g, "live");
    rc |= yajl_gen_integer(g, f ? (long long)h->n_peers : 0) != yajl_gen_status_ok;
    rc |= app__gen_cstr(g, "reachable");
    rc |= yajl_gen_integer(g, (long long)reachable) != yajl_gen_status_ok;
    rc |= yajl_gen_map_close(g) != yajl_gen_status_ok;
    pthread_mutex_unlock(&h->mu);
    return rc ? -1 : 0;
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void add_label(text_buf *b, const char *v)
{
    for (const char *p = v; *p; p++) {
        if (*p == '\\' || *p == '"')
            text_buf_addf(b, "\\%c", *p);
        else if (*p == '\n')
            text_buf_addf(b, "\\n");
        else
            text_buf_addf(b, "%c", *p);
    }
}

void app_health_peer_metrics(app_health *h, uint64_t now_ms, text_buf *b)
{
    pthread_mutex_lock(&h->mu);
    int f = fresh(h, now_ms);
    text_buf_addf(b, "# HELP comfyd_bridge_core_peer_up 1 when the core reaches this other core.\n"
                     "# TYPE comfyd_bridge_core_peer_up gauge\n");
    for (size_t i = 0; f && i < h->n_peers; i++) {
        text_buf_addf(b, "comfyd_bridge_core_peer_up{core_id=\"");
        add_label(b, h->peers[i].core_id);
        text_buf_addf(b, "\",address=\"");
        add_label(b, h->peers[i].addr);
        text_buf_addf(b, "\",state=\"");
        add_label(b, h->peers[i].state);
        text_buf_addf(b, "\"} %d\n", h->peers[i].reachable ? 1 : 0);
    }
    text_buf_addf(b, "# HELP comfyd_bridge_core_info The core this bridge uses and its store.\n"
                     "# TYPE comfyd_bridge_core_info gauge\n");
    if (f) {
        text_buf_addf(b, "comfyd_bridge_core_info{core_id=\"");
        add_label(b, h->core_id);
        text_buf_addf(b, "\",store=\"");
        add_label(b, h->engine);
        text_buf_addf(b, "\"} 1\n");
    }
    pthread_mutex_unlock(&h->mu);
}

size_t app_health_metrics(app_health *h, uint64_t now_ms, app_metric_value *out, size_t max)
{
    pthread_mutex_lock(&h->mu);
    int f = fresh(h, now_ms);
    const Comfyd__V1__GetHealthResponse *c = &h->counters;
    size_t reachable = 0;
    for (size_t i = 0; i < h->n_peers; i++)
        reachable += h->peers[i].reachable != 0;
    const app_metric_value v[] = {
        {"core_store_up", "1 when the core's store answered its last health query.",
         f && h->store_reachable, 1},
        {"core_peers", "Other live cores on the core's database.", f ? h->n_peers : 0, 1},
        {"core_peers_reachable", "Other live cores the core's channel reaches.", f ? reachable : 0,
         1},
        {"core_forwarded_commands_total",
         "Graph commands the core forwarded to the core holding their canvas.",
         c->forwarded_commands, 0},
        {"core_forward_errors_total", "Forwarded graph commands that ended with an error.",
         c->forward_errors, 0},
        {"core_forward_latency_us_sum", "Round trips of forwarded graph commands, microseconds.",
         c->forward_latency_us_sum, 0},
        {"core_forward_latency_us_max", "The longest forwarded round trip, microseconds.",
         c->forward_latency_us_max, 1},
        {"core_notify_sent_total", "Session events the core sent to the other cores.",
         c->notify_sent, 0},
        {"core_notify_received_total", "Session events the core received from the other cores.",
         c->notify_received, 0},
        {"core_notify_dropped_total", "Events dropped while the database was away.",
         c->notify_dropped, 0},
        {"core_notify_lag_ms", "The last event's delay from publication to its NOTIFY committed.",
         c->notify_lag_ms, 1},
        {"core_lease_takeovers_total", "Session leases taken over from cores that stopped.",
         c->lease_takeovers, 0},
        {"core_leases_lost_total", "The core's own leases lost (taken after they expired).",
         c->leases_lost, 0},
        {"core_canvases_expired_total", "Canvas registry rows of stopped cores swept.",
         c->canvases_expired, 0},
        {"core_canvases", "Canvases attached to the core.", c->canvases_here, 1},
    };
    size_t n = sizeof v / sizeof v[0];
    if (n > max) n = max;
    memcpy(out, v, n * sizeof v[0]);
    pthread_mutex_unlock(&h->mu);
    return n;
}

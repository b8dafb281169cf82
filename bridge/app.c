/* app: the server's lifecycle (create, graceful shutdown, destroy), the
 * core state poll, /healthz and /metrics (app.h). The endpoints and the
 * plumbing they share are in app_*.c (app_int.h). */
#include "app_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app_health.h"
#include "fsutil.h"
#include "log.h"
#include "text.h"

#define MOD "comfyd-bridge"

/* Longest path we build from --data (socket and token file names). */
#define MAX_PATH 4096

/* The server: the context its endpoints share, and what only the
 * lifecycle needs. */
struct app {
    app_ctx x; /* handed to every endpoint (their bnet route data) */
    char *core_target;
    char *token_file;
    char listen[80]; /* "127.0.0.1:8189" */
    uv_timer_t tick; /* core state poll; drain check while stopping */
    int tick_on;
    int stopped;
    uint64_t drain_deadline;
    rpcc_state_t core_state;
    app_health *health; /* the core's store, peers and counters (polled) */
};

/* ==== /healthz and /metrics ==== */

/* {"status", "core" (this bridge's channel), "core_id", "store" (engine,
 * reachable), "peers" (the other cores on the store and whether the core
 * reaches them)}: 503 unless the core is ready and its store answers. */
static void h_healthz(bnet_req *r, void *ud)
{
    app *a = ud;
    rpcc_state_t st = rpcc_state(a->x.core);
    a->core_state = st;
    uint64_t now = uv_now(a->x.loop);
    app_health_poll(a->health, a->x.core, now);
    int status =
        st == RPCC_READY && app_health_store_ok(a->health, now) && !a->x.draining ? 200 : 503;
    yajl_gen g = app__gen();
    char *body = NULL;
    size_t n = 0;
    int bad = !g;
    if (g) {
        yajl_gen_map_open(g);
        bad |= app__gen_cstr(g, "status") || app__gen_cstr(g, a->x.draining   ? "stopping"
                                                              : status == 200 ? "ok"
                                                                              : "degraded");
        bad |= app__gen_cstr(g, "core") || app__gen_str(g, rpcc_state_name(st));
        bad |= app_health_json(a->health, g, now);
        yajl_gen_map_close(g);
        bad |= app__gen_finish(g, &body, &n) != APP_OK;
    }
    if (bad) {
        free(body);
        bnet_respond_error(r, 500, "out of memory");
        return;
    }
    app__respond_json(&a->x, r, APP_ROUTE_HEALTHZ, status, body, n);
}

static void h_metrics(bnet_req *r, void *ud)
{
    app *a = ud;
    bnet_stats st;
    bnet_get_stats(a->x.net, &st);
    const app_metric_value net[] = {
        {"net_connections", "Open client connections.", st.connections_open, 1},
        {"net_connections_total", "Accepted client connections.", st.connections_total, 0},
        {"net_connections_refused_total", "Connections refused over the limit.",
         st.connections_refused, 0},
        {"net_requests_total", "Requests handled or answered by the network layer.",
         st.requests_total, 0},
        {"net_requests_h2_total", "Requests over HTTP/2.", st.requests_h2, 0},
        {"net_requests_rejected_total", "Requests refused by policy, limits or parsing.",
         st.requests_rejected, 0},
        {"net_ws_open", "Open WebSockets.", st.ws_open, 1},
        {"net_ws_messages_in_total", "WebSocket messages received.", st.ws_messages_in, 0},
        {"net_ws_messages_out_total", "WebSocket messages sent.", st.ws_messages_out, 0},
        {"net_bytes_in_total", "Bytes received.", st.bytes_in, 0},
        {"net_bytes_out_total", "Bytes sent.", st.bytes_out, 0},
        {"net_bytes_queued", "Output not yet written.", st.bytes_queued, 1},
        {"net_timeouts_total", "Connections closed by a timeout.", st.timeouts, 0},
        {"net_connections_unauth", "Open connections that have not sent a valid token yet.",
         st.connections_unauth, 1},
        {"net_connections_evicted_total",
         "Unauthenticated connections closed to make room for new ones.", st.connections_evicted,
         0},
        {"net_handshake_timeouts_total",
         "Connections closed for sending no valid token within the handshake deadline.",
         st.handshake_timeouts, 0},
        {"net_h2_calmed_total", "HTTP/2 connections closed for resetting streams too fast.",
         st.h2_calmed, 0},
        {"net_calls_refused_total", "Calls refused: the connection had too many in flight.",
         st.charges_refused, 0},
    };
    /* The core's own counters (its last health answer) after the bridge's. */
    app_metric_value all[sizeof net / sizeof net[0] + 32];
    size_t n_all = sizeof net / sizeof net[0];
    memcpy(all, net, sizeof net);
    n_all += app_health_metrics(a->health, uv_now(a->x.loop), all + n_all,
                                sizeof all / sizeof all[0] - n_all);
    /* Counted before rendering so that this scrape is included. */
    app_metrics_http(&a->x.m, APP_ROUTE_METRICS, 200);
    char *body = NULL;
    size_t len = 0;
    if (app_metrics_render(&a->x.m, all, n_all, a->core_state == RPCC_READY, &body, &len)) {
        bnet_respond_error(r, 500, "out of memory");
        return;
    }
    text_buf b = {0};
    text_buf_addf(&b, "%.*s", (int)len, body);
    free(body);
    app_health_peer_metrics(a->health, uv_now(a->x.loop), &b);
    if (b.oom) {
        text_buf_free(&b);
        bnet_respond_error(r, 500, "out of memory");
        return;
    }
    bnet_respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, 0, b.p, b.n);
    text_buf_free(&b);
}

/* ==== lifecycle ==== */

static void stop_now(app *a);

static void on_tick(uv_timer_t *t)
{
    app *a = t->data;
    app__mcp_tick(&a->x);
    if (a->x.draining) {
        if (atomic_load(&a->x.inflight) == 0 || uv_now(a->x.loop) >= a->drain_deadline) {
            unsigned left = atomic_load(&a->x.inflight);
            if (left) LOG_W(MOD, "stopping with %u calls still in flight", left);
            stop_now(a);
        }
        return;
    }
    app_health_poll(a->health, a->x.core, uv_now(a->x.loop));
    rpcc_state_t st = rpcc_state(a->x.core);
    if (st != a->core_state) {
        if (st == RPCC_READY)
            LOG_I(MOD, "core %s is ready", a->core_target);
        else if (a->core_state == RPCC_READY)
            LOG_W(MOD, "core %s is %s; retrying", a->core_target, rpcc_state_name(st));
        a->core_state = st;
    }
}

static void on_tick_closed(uv_handle_t *h)
{
    app *a = h->data;
    a->tick_on = 0;
}

static void stop_now(app *a)
{
    if (a->stopped) return;
    a->stopped = 1;
    if (a->tick_on) {
        uv_timer_stop(&a->tick);
        uv_close((uv_handle_t *)&a->tick, on_tick_closed);
    }
    if (a->x.net) bnet_stop(a->x.net);
}

void app_shutdown(app *a)
{
    if (!a || a->stopped) return;
    if (a->x.draining) {
        LOG_I(MOD, "second signal: stopping now");
        stop_now(a);
        return;
    }
    a->x.draining = 1;
    LOG_I(MOD, "shutting down: closing WebSockets, finishing %u calls in flight",
          atomic_load(&a->x.inflight));
    for (app_ws *w = a->x.ws_list; w; w = w->next)
        if (w->ws) bnet_ws_close(w->ws, 1001, "server shutting down");
    a->drain_deadline = uv_now(a->x.loop) + APP_DRAIN_MS;
    uv_timer_start(&a->tick, on_tick, 0, 20);
}

int app_port(const app *a)
{
    return bnet_port(a->x.net);
}

int app_create(app **out, uv_loop_t *loop, const app_cfg *cfg)
{
    *out = NULL;
    app *a = calloc(1, sizeof *a);
    if (!a) return APP_E_NOMEM;
    a->x.loop = loop;
    atomic_init(&a->x.inflight, 0);
    a->core_state = RPCC_IDLE;
    a->core_target = text_dup(cfg->core);
    a->token_file = text_dup(cfg->token_file);
    a->health = app_health_create();
    int rc = APP_E_START;

    if (fs_mkdirs(cfg->data_dir, 0700) != 0) {
        LOG_E(MOD, "cannot create data directory %s: %s", cfg->data_dir, strerror(errno));
        goto fail;
    }
    /* A token file elsewhere needs its directory too. */
    char dir[MAX_PATH];
    snprintf(dir, sizeof dir, "%s", cfg->token_file);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (fs_mkdirs(dir, 0700) != 0) {
            LOG_E(MOD, "cannot create %s for the token file: %s", dir, strerror(errno));
            goto fail;
        }
    }
    if (app_gcache_create(&a->x.gcache) != APP_OK) {
        rc = APP_E_NOMEM;
        goto fail;
    }
    int e = rpcc_create(&a->x.core, cfg->core, NULL);
    if (e != RPCC_OK) {
        LOG_E(MOD, "cannot create the core client for %s: %s", cfg->core, rpcc_strerror(e));
        goto fail;
    }
    bnet_opts o;
    bnet_opts_init(&o);
    o.host = cfg->listen_host;
    o.port = cfg->listen_port;
    o.token_file = cfg->token_file;
    o.allow_origins = (const char *const *)cfg->allow_origins;
    o.n_allow_origins = cfg->n_allow_origins;
    o.allow_hosts = (const char *const *)cfg->allow_hosts;
    o.n_allow_hosts = cfg->n_allow_hosts;
    o.limits.max_connections = cfg->max_connections;
    o.limits.max_unauth_connections = cfg->max_unauth_connections;
    o.limits.handshake_timeout_ms = cfg->handshake_timeout_ms;
    if ((e = bnet_create(&a->x.net, loop, &o)) != BNET_OK) {
        LOG_E(MOD, "cannot serve on %s port %d: %s", cfg->listen_host, cfg->listen_port,
              bnet_strerror(e));
        rc = e == BNET_E_NOMEM ? APP_E_NOMEM : APP_E_START;
        goto fail;
    }
    if (bnet_route(a->x.net, "GET", "/healthz", BNET_ROUTE_PUBLIC, h_healthz, a) ||
        bnet_route(a->x.net, "GET", "/metrics", 0, h_metrics, a) || app__graph_routes(&a->x) ||
        app__editor_routes(&a->x) || app__session_routes(&a->x) || app__mcp_routes(&a->x) ||
        app__runs_routes(&a->x) || app__attach_routes(&a->x) || app__sessions_http_routes(&a->x)) {
        LOG_E(MOD, "cannot register the routes");
        goto fail;
    }
    uv_timer_init(loop, &a->tick);
    a->tick.data = a;
    a->tick_on = 1;
    uv_timer_start(&a->tick, on_tick, 0, APP_TICK_MS);
    a->core_state = rpcc_state(a->x.core); /* starts connecting */

    int v6 = strchr(cfg->listen_host, ':') != NULL;
    snprintf(a->listen, sizeof a->listen, "%s%s%s:%d", v6 ? "[" : "", cfg->listen_host,
             v6 ? "]" : "", bnet_port(a->x.net));
    LOG_N(MOD, "ready: serving http://%s (HTTP/1.1, h2c, WebSocket); core %s; token file %s",
          a->listen, cfg->core, cfg->token_file);
    *out = a;
    return APP_OK;

fail:
    app_destroy(a);
    return rc;
}

void app_destroy(app *a)
{
    if (!a) return;
    if (!a->stopped) stop_now(a);
    /* Calls still in flight end here; their answers find the server stopped. */
    rpcc_destroy(a->x.core);
    a->x.core = NULL;
    /* After the client: its last health call's callback has run. */
    app_health_destroy(a->health);
    if (a->x.net) bnet_destroy(a->x.net);
    while (a->tick_on)
        uv_run(a->x.loop, UV_RUN_NOWAIT);
    app__mcp_destroy(&a->x);
    app_gcache_destroy(a->x.gcache);
    free(a->core_target);
    free(a->token_file);
    free(a);
}

/* app_metrics: the bridge's counters and their Prometheus text (pure;
 * app.h). */
#include "app.h"

#include "text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== metrics ==== */

static const char *const route_names[APP_ROUTE__HTTP] = {
    "command",    "batch",       "queue",     "save",    "load",    "state", "node_types",
    "canvases",   "diff",        "workflows", "healthz", "metrics", "mcp",   "runs",
    "run_output", "attachments", "sessions",  "audit",   "lease",
};
static const char *const ws_names[APP_WS__COUNT] = {"graph", "editor", "session"};

const char *app_route_name(app_route r)
{
    return (unsigned)r < APP_ROUTE__HTTP ? route_names[r] : "unknown";
}

const char *app_ws_name(app_ws_kind k)
{
    return (unsigned)k < APP_WS__COUNT ? ws_names[k] : "unknown";
}

void app_metrics_http(app_metrics *m, app_route route, int status)
{
    if ((unsigned)route >= APP_ROUTE__HTTP) return;
    int *st = m->http[route].status;
    uint64_t *n = m->http[route].count;
    for (int i = 0; i < APP_METRICS_STATUSES; i++) {
        if (st[i] == status) {
            n[i]++;
            return;
        }
        if (st[i] == 0 && i < APP_METRICS_STATUSES - 1) {
            st[i] = status;
            n[i] = 1;
            return;
        }
    }
    n[APP_METRICS_STATUSES - 1]++; /* the "other" slot (status 0) */
}

void app_metrics_grpc(app_metrics *m, app_method method, grpc_status_code code)
{
    if ((unsigned)method >= APP_M__COUNT) return;
    unsigned c = (unsigned)code < APP_METRICS_CODES ? (unsigned)code : GRPC_STATUS_UNKNOWN;
    m->grpc[method][c]++;
}

#define PFX "comfyd_bridge_"

int app_metrics_render(const app_metrics *m, const app_metric_value *net, size_t n_net, int core_up,
                       char **out, size_t *len)
{
    text_buf b = {0};
    text_buf_addf(&b,
                  "# HELP " PFX "http_requests_total HTTP requests answered, by route and status.\n"
                  "# TYPE " PFX "http_requests_total counter\n");
    for (int r = 0; r < APP_ROUTE__HTTP; r++)
        for (int i = 0; i < APP_METRICS_STATUSES; i++) {
            if (!m->http[r].count[i]) continue;
            if (m->http[r].status[i])
                text_buf_addf(&b, PFX "http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                              route_names[r], m->http[r].status[i],
                              (unsigned long long)m->http[r].count[i]);
            else
                text_buf_addf(&b, PFX "http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                              route_names[r], (unsigned long long)m->http[r].count[i]);
        }
    text_buf_addf(&b, "# HELP " PFX "ws_connections_total WebSockets opened, by endpoint.\n"
                      "# TYPE " PFX "ws_connections_total counter\n");
    for (int k = 0; k < APP_WS__COUNT; k++)
        text_buf_addf(&b, PFX "ws_connections_total{endpoint=\"%s\"} %llu\n", ws_names[k],
                      (unsigned long long)m->ws_opened[k]);
    text_buf_addf(&b, "# HELP " PFX "ws_connections WebSockets open now, by endpoint.\n"
                      "# TYPE " PFX "ws_connections gauge\n");
    for (int k = 0; k < APP_WS__COUNT; k++)
        text_buf_addf(&b, PFX "ws_connections{endpoint=\"%s\"} %llu\n", ws_names[k],
                      (unsigned long long)m->ws_open[k]);
    text_buf_addf(&b,
                  "# HELP " PFX "ws_messages_total WebSocket messages, by endpoint and direction.\n"
                  "# TYPE " PFX "ws_messages_total counter\n");
    for (int k = 0; k < APP_WS__COUNT; k++) {
        text_buf_addf(&b, PFX "ws_messages_total{endpoint=\"%s\",direction=\"in\"} %llu\n",
                      ws_names[k], (unsigned long long)m->ws_in[k]);
        text_buf_addf(&b, PFX "ws_messages_total{endpoint=\"%s\",direction=\"out\"} %llu\n",
                      ws_names[k], (unsigned long long)m->ws_out[k]);
    }
    text_buf_addf(&b,
                  "# HELP " PFX "grpc_calls_total Calls to the core finished, by method and code.\n"
                  "# TYPE " PFX "grpc_calls_total counter\n");
    for (int i = 0; i < APP_M__COUNT; i++)
        for (int c = 0; c < APP_METRICS_CODES; c++)
            if (m->grpc[i][c])
                text_buf_addf(&b, PFX "grpc_calls_total{method=\"%s\",code=\"%s\"} %llu\n",
                              app_method_name((app_method)i),
                              app_grpc_code_name((grpc_status_code)c),
                              (unsigned long long)m->grpc[i][c]);
    text_buf_addf(&b, "# HELP " PFX "grpc_stream_messages_total Stream messages from the core.\n"
                      "# TYPE " PFX "grpc_stream_messages_total counter\n");
    for (int i = 0; i < APP_M__COUNT; i++)
        if (m->stream_messages[i])
            text_buf_addf(&b, PFX "grpc_stream_messages_total{method=\"%s\"} %llu\n",
                          app_method_name((app_method)i),
                          (unsigned long long)m->stream_messages[i]);
    text_buf_addf(&b,
                  "# HELP " PFX "core_up 1 when the core's channel is ready.\n"
                  "# TYPE " PFX "core_up gauge\n" PFX "core_up %d\n",
                  core_up ? 1 : 0);
    for (size_t i = 0; i < n_net; i++)
        text_buf_addf(&b, "# HELP " PFX "%s %s\n# TYPE " PFX "%s %s\n" PFX "%s %llu\n", net[i].name,
                      net[i].help, net[i].name, net[i].gauge ? "gauge" : "counter", net[i].name,
                      (unsigned long long)net[i].value);
    *len = b.oom ? 0 : b.n;
    *out = text_buf_take(&b);
    return *out ? APP_OK : APP_E_NOMEM;
}

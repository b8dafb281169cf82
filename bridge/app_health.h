/* app_health: the core's own health (comfyd.v1.HealthService.GetHealth),
 * polled by the bridge's tick and kept for /healthz and /metrics: which
 * store the core uses and whether it answers, the other cores sharing it
 * and whether this bridge's core reaches them, and the core's counters of
 * several cores on one PostgreSQL database (docs/scale-out.md).
 *
 * The poll runs at most one call at a time, every APP_HEALTH_POLL_MS; the
 * answer is copied under a mutex (it arrives on the gRPC client's thread)
 * and read by the loop thread. A snapshot older than APP_HEALTH_STALE_MS
 * (the core stopped answering) is reported as unknown. */
#ifndef COMFYD_APP_HEALTH_H
#define COMFYD_APP_HEALTH_H

#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>

#include "app.h"
#include "rpcc.h"
#include "text.h"

#define APP_HEALTH_POLL_MS 1000
#define APP_HEALTH_STALE_MS 5000
#define APP_HEALTH_TIMEOUT_MS 3000
#define APP_HEALTH_MAX_PEERS 64 /* lease.h's LEASE_MAX_PEERS */

typedef struct app_health app_health;

/* Aborts on out-of-memory. Free with app_health_destroy after the client
 * whose calls it made is destroyed (their callbacks use it). */
app_health *app_health_create(void);
void app_health_destroy(app_health *h);
/* From the loop's tick: starts a GetHealth call on core when none is in
 * flight and the last one is APP_HEALTH_POLL_MS old. now_ms: the loop's
 * clock. */
void app_health_poll(app_health *h, rpcc *core, uint64_t now_ms);
/* 0 when the core said just now that its store does not answer, else 1
 * (also when unknown: the core's channel state says that). */
int app_health_store_ok(app_health *h, uint64_t now_ms);
/* Writes "store" {engine, reachable} and "peers" {live, reachable}
 * members into the open object of g. /healthz needs no token, so it
 * counts the other cores without naming them; /metrics (with a token)
 * names them (app_health_peer_metrics). */
int app_health_json(app_health *h, yajl_gen g, uint64_t now_ms);
/* Appends comfyd_bridge_core_peer_up{core_id,address,state} per other
 * core and comfyd_bridge_core_info{core_id,store} to b (Prometheus text). */
void app_health_peer_metrics(app_health *h, uint64_t now_ms, text_buf *b);
/* The core's counters as metric values (names without the bridge's
 * prefix) into out[0..max); returns how many. */
size_t app_health_metrics(app_health *h, uint64_t now_ms, app_metric_value *out, size_t max);

#endif

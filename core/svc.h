/* svc: the gRPC handlers of comfyd.v1.SessionService, SkillService and
 * GraphService. They validate requests, call the session manager, the skill
 * registry and the canvas manager, and map module errors to gRPC status
 * codes with clear messages. GraphService answers graph-level errors of
 * Execute/ExecuteBatch inside OK responses (ok=false, errors[]); see
 * svc_graph.c for the status codes of the other methods. */
#ifndef COMFYD_SVC_H
#define COMFYD_SVC_H

#include <pthread.h>
#include <stddef.h>

#include "canvas.h"
#include "canvas_reg.h"
#include "checkpoint.h"
#include "rpcs.h"
#include "runs.h"
#include "session.h"
#include "skills.h"

typedef struct svc_fwd svc_fwd;

typedef struct svc_ctx {
    sess_mgr *sm;             /* borrowed */
    const skills_root *roots; /* borrowed: the folders ReloadSkills rescans */
    size_t n_roots;
    pthread_mutex_t reload_mu;
    canvas_mgr *cm; /* borrowed: GraphService */
    runs *runs;     /* borrowed: RunService and Queue; NULL without --comfyui */
    ckpt *ck;       /* borrowed: canvas checkpoints (RevertSession, ListCheckpoints) */
    /* Several cores on PostgreSQL (docs/scale-out.md), else both NULL:
     * the canvas registry (borrowed) and the forwarder of graph commands
     * to the core holding a canvas (owned by main). */
    creg *reg;
    svc_fwd *fwd;
    /* HealthService (svc_health.c): the store (borrowed), and on
     * PostgreSQL the leases and the event fan-out (borrowed, else NULL),
     * and this core's name. */
    struct store *st;
    struct lease *ls;
    struct pgnotify *nt;
    const char *core_id;
} svc_ctx;

/* ---- forwarding graph commands (svc_forward.c) ---- */

/* Metadata a forwarded request carries: the forwarding core's name. */
#define SVC_MD_FORWARDED "comfyd-forwarded-by"
/* Other cores this one keeps a channel to. */
#define SVC_FWD_MAX_PEERS 64
/* A forwarded request waits at most this long (the longest tab round trip
 * a request may ask for, and the hop) unless its caller's deadline is
 * sooner. */
#define SVC_FWD_MAX_TIMEOUT_MS (CANVAS_MAX_TIMEOUT_MS + 5000)

typedef struct svc_fwd_stats {
    uint64_t forwarded;      /* requests sent to another core */
    uint64_t errors;         /* of which ended with an error status */
    uint64_t latency_us_sum; /* round trips of the forwarded requests */
    uint64_t latency_us_max;
} svc_fwd_stats;

/* The forwarder over reg (borrowed). Aborts on out-of-memory. */
svc_fwd *svc_fwd_create(creg *reg);
/* Ends the channels (calls in flight end with CANCELLED); afterwards
 * nothing is forwarded (peer_for finds no channel) but the counters and
 * svc_fwd_peer_state stay usable, for the handlers still running until
 * the server is destroyed. NULL is a no-op. */
void svc_fwd_shutdown(svc_fwd *f);
/* svc_fwd_shutdown, then frees f: after the gRPC server is destroyed. */
void svc_fwd_destroy(svc_fwd *f);
/* Before serving a GraphService request locally: when its canvas (its
 * canvas_id, or for an empty one the most recently focused canvas) is
 * held by another core and not here, forwards it there and returns 1 (the
 * call is answered later, from the forwarder's thread); 1 also when the
 * call was failed here (the registry is unreachable). 0: serve it here (no
 * forwarder, a request forwarded already, the canvas here or nowhere). */
int svc_fwd_maybe(svc_ctx *ctx, rpcs_call *call, const char *method, const ProtobufCMessage *msg);
void svc_fwd_get_stats(svc_fwd *f, svc_fwd_stats *out);
/* The state of this core's channel to the core at addr ("ready",
 * "connecting", ...; static), made now when there is none (so that polling
 * it keeps a reconnect going); "none" without a forwarder. */
const char *svc_fwd_peer_state(svc_fwd *f, const char *addr);

/* HealthService (svc_health.c). */
size_t svc_health_methods(svc_ctx *ctx, rpcs_method *out, size_t max);

/* Fills out[0..max) with the method table (handlers get ctx as ud) and
 * returns the number of methods. */
size_t svc_session_methods(svc_ctx *ctx, rpcs_method *out, size_t max);
size_t svc_skill_methods(svc_ctx *ctx, rpcs_method *out, size_t max);
size_t svc_graph_methods(svc_ctx *ctx, rpcs_method *out, size_t max);
/* RunService: without --comfyui every method answers FAILED_PRECONDITION
 * saying so. */
size_t svc_run_methods(svc_ctx *ctx, rpcs_method *out, size_t max);
/* SessionService's ForkSession, RevertSession and ListCheckpoints
 * (svc_fork.c). */
size_t svc_fork_methods(svc_ctx *ctx, rpcs_method *out, size_t max);

/* Node types from --object-info (svc_graph.c). A file is read now. A URL
 * (http:// or https://) is loaded now from the cache DATA/object_info.json
 * when there is one, then fetched by a background thread and refreshed
 * every SVC_OBJINFO_REFRESH_MS; each new document replaces the canvas
 * manager's global schema and the cache. Returns 0 and *out (stop with
 * svc_objinfo_stop), or -1 (logged: an unreadable file, a bad URL). */
typedef struct svc_objinfo svc_objinfo;
/* ComfyUI's node set changes only when custom nodes are installed. */
#define SVC_OBJINFO_REFRESH_MS 60000
/* Retry period while no document was fetched yet (ComfyUI starting). */
#define SVC_OBJINFO_RETRY_MS 5000
/* One transfer: a large install's /object_info (~20 MB) takes seconds. */
#define SVC_OBJINFO_TIMEOUT_S 60
#define SVC_OBJINFO_CONNECT_TIMEOUT_S 5
int svc_objinfo_start(svc_objinfo **out, canvas_mgr *cm, const char *source, const char *data_dir);
/* Stops the fetcher (an ongoing transfer is aborted) and frees it. NULL is
 * a no-op. */
void svc_objinfo_stop(svc_objinfo *oi);

/* Maps a sess_err to a gRPC status code. */
grpc_status_code svc_status(int sess_rc);

#endif

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
#include "checkpoint.h"
#include "rpcs.h"
#include "runs.h"
#include "session.h"
#include "skills.h"

typedef struct svc_ctx {
    sess_mgr *sm;             /* borrowed */
    const skills_root *roots; /* borrowed: the folders ReloadSkills rescans */
    size_t n_roots;
    pthread_mutex_t reload_mu;
    canvas_mgr *cm; /* borrowed: GraphService */
    runs *runs;     /* borrowed: RunService and Queue; NULL without --comfyui */
    ckpt *ck;       /* borrowed: canvas checkpoints (RevertSession, ListCheckpoints) */
} svc_ctx;

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

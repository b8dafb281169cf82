/* svc: the gRPC handlers of comfyd.v1.SessionService and SkillService.
 * They validate requests, call the session manager and the skill registry,
 * and map module errors to gRPC status codes with clear messages. */
#ifndef COMFYD_SVC_H
#define COMFYD_SVC_H

#include <pthread.h>
#include <stddef.h>

#include "rpcs.h"
#include "session.h"
#include "skills.h"

typedef struct svc_ctx {
    sess_mgr *sm;             /* borrowed */
    const skills_root *roots; /* borrowed: the folders ReloadSkills rescans */
    size_t n_roots;
    pthread_mutex_t reload_mu;
} svc_ctx;

/* Fills out[0..max) with the method table (handlers get ctx as ud) and
 * returns the number of methods. */
size_t svc_session_methods(svc_ctx *ctx, rpcs_method *out, size_t max);
size_t svc_skill_methods(svc_ctx *ctx, rpcs_method *out, size_t max);

/* Maps a sess_err to a gRPC status code. */
grpc_status_code svc_status(int sess_rc);

#endif

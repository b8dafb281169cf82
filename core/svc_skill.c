#include <stdlib.h>
#include <string.h>

#include "comfyd/v1/skill.pb-c.h"
#include "log.h"
#include "svc.h"

/* Skill and error messages pointing into a registry the caller holds. */
typedef struct listing {
    Comfyd__V1__Skill *skills;
    Comfyd__V1__Skill **pskills;
    size_t n_skills;
    Comfyd__V1__SkillLoadError *errors;
    Comfyd__V1__SkillLoadError **perrors;
    size_t n_errors;
} listing;

static void skill_to_pb(const skill *s, Comfyd__V1__Skill *pb, int with_instructions)
{
    comfyd__v1__skill__init(pb);
    pb->name = s->name;
    pb->description = s->description;
    pb->source = s->source == SKILL_SOURCE_BUILTIN ? COMFYD__V1__SKILL_SOURCE__SKILL_SOURCE_BUILTIN
                                                   : COMFYD__V1__SKILL_SOURCE__SKILL_SOURCE_USER;
    pb->path = s->path;
    pb->allowed_tools = s->allowed_tools;
    pb->n_allowed_tools = s->n_allowed_tools;
    if (with_instructions) pb->instructions = s->instructions;
}

static void listing_fill(listing *l, const skills *reg)
{
    l->n_skills = skills_count(reg);
    l->n_errors = skills_error_count(reg);
    l->skills = calloc(l->n_skills ? l->n_skills : 1, sizeof *l->skills);
    l->pskills = calloc(l->n_skills ? l->n_skills : 1, sizeof *l->pskills);
    l->errors = calloc(l->n_errors ? l->n_errors : 1, sizeof *l->errors);
    l->perrors = calloc(l->n_errors ? l->n_errors : 1, sizeof *l->perrors);
    if (!l->skills || !l->pskills || !l->errors || !l->perrors) abort();
    for (size_t i = 0; i < l->n_skills; i++) {
        skill_to_pb(skills_at(reg, i), &l->skills[i], 0);
        l->pskills[i] = &l->skills[i];
    }
    for (size_t i = 0; i < l->n_errors; i++) {
        const skills_error *e = skills_error_at(reg, i);
        comfyd__v1__skill_load_error__init(&l->errors[i]);
        l->errors[i].path = e->path;
        l->errors[i].message = e->message;
        l->perrors[i] = &l->errors[i];
    }
}

static void listing_clear(listing *l)
{
    free(l->skills), free(l->pskills), free(l->errors), free(l->perrors);
}

static void h_list(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    (void)msg;
    svc_ctx *ctx = ud;
    skills *reg = sess_mgr_skills(ctx->sm);
    listing l;
    listing_fill(&l, reg);
    Comfyd__V1__ListSkillsResponse r = COMFYD__V1__LIST_SKILLS_RESPONSE__INIT;
    r.skills = l.pskills;
    r.n_skills = l.n_skills;
    r.errors = l.perrors;
    r.n_errors = l.n_errors;
    rpcs_call_reply(call, &r.base);
    listing_clear(&l);
    skills_unref(reg);
}

static void h_get(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    svc_ctx *ctx = ud;
    const Comfyd__V1__GetSkillRequest *req = (const Comfyd__V1__GetSkillRequest *)msg;
    if (!req->name || !*req->name) {
        rpcs_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT, "name must not be empty");
        return;
    }
    skills *reg = sess_mgr_skills(ctx->sm);
    const skill *s = skills_find(reg, req->name);
    if (!s) {
        rpcs_call_finishf(call, GRPC_STATUS_NOT_FOUND, "skill '%.64s' not found", req->name);
    } else {
        Comfyd__V1__Skill pb;
        skill_to_pb(s, &pb, 1);
        Comfyd__V1__GetSkillResponse r = COMFYD__V1__GET_SKILL_RESPONSE__INIT;
        r.skill = &pb;
        rpcs_call_reply(call, &r.base);
    }
    skills_unref(reg);
}

static void h_reload(rpcs_call *call, const ProtobufCMessage *msg, void *ud)
{
    (void)msg;
    svc_ctx *ctx = ud;
    pthread_mutex_lock(&ctx->reload_mu);
    skills *reg = NULL;
    int rc = skills_load(&reg, ctx->roots, ctx->n_roots);
    if (rc != SKILLS_OK) {
        pthread_mutex_unlock(&ctx->reload_mu);
        rpcs_call_finish(call, GRPC_STATUS_INTERNAL, "cannot load skills: out of memory");
        return;
    }
    sess_mgr_set_skills(ctx->sm, reg);
    pthread_mutex_unlock(&ctx->reload_mu);
    LOG_I("skills", "reloaded: %zu skill(s), %zu error(s)", skills_count(reg),
          skills_error_count(reg));
    listing l;
    listing_fill(&l, reg);
    Comfyd__V1__ReloadSkillsResponse r = COMFYD__V1__RELOAD_SKILLS_RESPONSE__INIT;
    r.skills = l.pskills;
    r.n_skills = l.n_skills;
    r.errors = l.perrors;
    r.n_errors = l.n_errors;
    rpcs_call_reply(call, &r.base);
    listing_clear(&l);
    skills_unref(reg);
}

size_t svc_skill_methods(svc_ctx *ctx, rpcs_method *out, size_t max)
{
    const ProtobufCServiceDescriptor *d = &comfyd__v1__skill_service__descriptor;
    const rpcs_method m[] = {
        {d, "ListSkills", RPCS_UNARY, h_list, ctx},
        {d, "GetSkill", RPCS_UNARY, h_get, ctx},
        {d, "ReloadSkills", RPCS_UNARY, h_reload, ctx},
    };
    size_t n = sizeof m / sizeof m[0];
    if (n > max) n = max;
    memcpy(out, m, n * sizeof m[0]);
    return n;
}

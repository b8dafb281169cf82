/* Graph commands for canvases another core holds (svc.h's svc_fwd): the
 * request goes, unchanged, to that core's GraphService over gRPC and its
 * answer (response, status, graph error) comes back as it was given. The
 * holder validates, queues per canvas, sends to its tab, verifies the
 * tab's post-state and keeps the idempotency key, exactly as for a
 * request made there: forwarding adds a hop, no second set of rules.
 *
 * A forwarded request carries SVC_MD_FORWARDED (the forwarding core's
 * name) and is never forwarded again: a registry that changed in between
 * makes the holder answer from its own canvases (CANVAS_NOT_FOUND), not a
 * loop. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canvas_reg.h"
#include "comfyd_error.h"
#include "log.h"
#include "provenance.h"
#include "rpcc.h"
#include "svc.h"
#include "text.h"

#define MOD "forward"

typedef struct peer {
    char addr[CREG_MAX_ADDR + 1];
    rpcc *client;
} peer;

struct svc_fwd {
    creg *reg; /* borrowed */
    pthread_mutex_t mu;
    peer peers[SVC_FWD_MAX_PEERS];
    size_t n_peers;
    svc_fwd_stats stats;
};

typedef struct fcall {
    svc_fwd *f;
    rpcs_call *call; /* a reference of ours */
    char canvas_id[CREG_MAX_ID + 1];
    creg_where w;
    int64_t start_us;
} fcall;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

svc_fwd *svc_fwd_create(creg *reg)
{
    svc_fwd *f = calloc(1, sizeof *f);
    if (!f) abort();
    f->reg = reg;
    pthread_mutex_init(&f->mu, NULL);
    return f;
}

void svc_fwd_destroy(svc_fwd *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->n_peers; i++)
        rpcc_destroy(f->peers[i].client);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

void svc_fwd_get_stats(svc_fwd *f, svc_fwd_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!f) return;
    pthread_mutex_lock(&f->mu);
    *out = f->stats;
    pthread_mutex_unlock(&f->mu);
}

/* The client of the core at addr, made at first use and kept (a channel
 * reconnects by itself). NULL when SVC_FWD_MAX_PEERS are in use. */
static rpcc *peer_for(svc_fwd *f, const char *addr)
{
    pthread_mutex_lock(&f->mu);
    rpcc *c = NULL;
    for (size_t i = 0; i < f->n_peers && !c; i++)
        if (strcmp(f->peers[i].addr, addr) == 0) c = f->peers[i].client;
    if (!c && f->n_peers < SVC_FWD_MAX_PEERS && rpcc_create(&c, addr, NULL) == RPCC_OK) {
        peer *p = &f->peers[f->n_peers++];
        snprintf(p->addr, sizeof p->addr, "%s", addr);
        p->client = c;
    }
    pthread_mutex_unlock(&f->mu);
    return c;
}

const char *svc_fwd_peer_state(svc_fwd *f, const char *addr)
{
    if (!f) return "none";
    rpcc *c = peer_for(f, addr);
    return c ? rpcc_state_name(rpcc_state(c)) : "none";
}

static void count(svc_fwd *f, int ok, int64_t us)
{
    pthread_mutex_lock(&f->mu);
    f->stats.forwarded++;
    if (!ok) f->stats.errors++;
    if (us > 0) {
        f->stats.latency_us_sum += (uint64_t)us;
        if ((uint64_t)us > f->stats.latency_us_max) f->stats.latency_us_max = (uint64_t)us;
    }
    pthread_mutex_unlock(&f->mu);
}

static void on_answer(void *ud, grpc_status_code code, const char *details, const char *graph_error,
                      ProtobufCMessage *resp)
{
    fcall *fc = ud;
    count(fc->f, code == GRPC_STATUS_OK, now_us() - fc->start_us);
    if (code == GRPC_STATUS_OK) {
        if (rpcs_call_reply(fc->call, resp) == RPCS_EINVAL)
            rpcs_call_finish(fc->call, GRPC_STATUS_RESOURCE_EXHAUSTED,
                             "the response would be larger than 4 MiB: ask for less");
        protobuf_c_message_free_unpacked(resp, NULL);
    } else if (graph_error) {
        rpcs_call_finish_md(fc->call, code, details, CFD_MD_GRAPH_ERROR, graph_error);
    } else if (code == GRPC_STATUS_UNAVAILABLE || code == GRPC_STATUS_DEADLINE_EXCEEDED) {
        /* The holder did not answer: its tab is out of reach from here,
         * which a caller handles as a tab that went away. */
        char msg[RPCS_MAX_STATUS_BYTES + 1];
        snprintf(msg, sizeof msg,
                 "EDITOR_GONE: canvas %s is attached to core %s (%s), which %s: %s", fc->canvas_id,
                 fc->w.owner, fc->w.addr,
                 code == GRPC_STATUS_UNAVAILABLE ? "cannot be reached" : "did not answer in time",
                 details);
        rpcs_call_finish_md(fc->call, code, msg, CFD_MD_GRAPH_ERROR,
                            "GRAPH_ERROR_CODE_EDITOR_GONE");
    } else {
        rpcs_call_finish(fc->call, code, details);
    }
    rpcs_call_unref(fc->call);
    free(fc);
}

/* The request's canvas_id (every forwarded request has one as field 1). */
static const char *canvas_of(const ProtobufCMessage *msg)
{
    const ProtobufCFieldDescriptor *fd =
        protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, "canvas_id");
    if (!fd || fd->type != PROTOBUF_C_TYPE_STRING) return "";
    const char *v = *(const char *const *)((const char *)msg + fd->offset);
    return v ? v : "";
}

int svc_fwd_maybe(svc_ctx *ctx, rpcs_call *call, const char *method, const ProtobufCMessage *msg)
{
    svc_fwd *f = ctx->fwd;
    if (!f) return 0;
    char by[CREG_MAX_OWNER + 1];
    if (rpcs_call_metadata(call, SVC_MD_FORWARDED, by, sizeof by) >= 0) return 0;
    const char *id = canvas_of(msg);
    if (*id ? creg_is_local(f->reg, id) : creg_local_count(f->reg) > 0) return 0;
    if (strlen(id) > CREG_MAX_ID) return 0; /* the local checks refuse it */
    fcall *fc = calloc(1, sizeof *fc);
    if (!fc) abort();
    int rc = creg_find(f->reg, id, &fc->w);
    if (rc == CREG_NONE || rc == CREG_EINVAL) {
        free(fc);
        return 0; /* here or nowhere: the canvas manager answers */
    }
    if (rc != CREG_OK) {
        free(fc);
        rpcs_call_finish(call, GRPC_STATUS_UNAVAILABLE,
                         "the canvas registry cannot be read (the database is unreachable): "
                         "retry later");
        return 1;
    }
    snprintf(fc->canvas_id, sizeof fc->canvas_id, "%s", *id ? id : "(the focused canvas)");
    rpcc *c = peer_for(f, fc->w.addr);
    if (!c) {
        rpcs_call_finishf(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
                          "more than %d other cores hold canvases: cannot reach %s",
                          SVC_FWD_MAX_PEERS, fc->w.owner);
        free(fc);
        return 1;
    }
    /* The caller's name goes along, for the holder's provenance. */
    const char *md[4];
    size_t n_md = 0;
    char who[PROVN_MAX_NAME + 2];
    const char *keys[] = {PROVN_MD_MCP_CLIENT, PROVN_MD_CALLER};
    for (size_t i = 0; i < 2 && n_md == 0; i++) {
        long n = rpcs_call_metadata(call, keys[i], who, sizeof who);
        if (n >= 0 && n <= PROVN_MAX_NAME) {
            md[0] = keys[i];
            md[1] = who;
            n_md = 1;
        }
    }
    md[2 * n_md] = SVC_MD_FORWARDED;
    md[2 * n_md + 1] = creg_core_id(f->reg);
    n_md++;
    int64_t left = rpcs_call_deadline_ms(call);
    if (left == INT64_MAX || left > SVC_FWD_MAX_TIMEOUT_MS) left = SVC_FWD_MAX_TIMEOUT_MS;
    if (left < 1) left = 1;
    fc->f = f;
    fc->call = call;
    fc->start_us = now_us();
    rpcs_call_ref(call);
    rc = rpcc_unary_mdv(c, &comfyd__v1__graph_service__descriptor, method, msg, left, 0, md, n_md,
                        on_answer, fc);
    if (rc != RPCC_OK) {
        count(f, 0, 0);
        rpcs_call_finishf(call, GRPC_STATUS_UNAVAILABLE,
                          "cannot forward to core %s (%s), which holds canvas %s: %s", fc->w.owner,
                          fc->w.addr, fc->canvas_id, rpcc_strerror(rc));
        rpcs_call_unref(call);
        free(fc);
    }
    return 1;
}

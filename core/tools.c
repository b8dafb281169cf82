#include "tools.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "imgscale.h"
#include "jsonpb.h"
#include "log.h"
#include "nodeinfo.h"
#include "preview_policy.h"
#include "text.h"
#include "toolspec.h"

#define MOD "tools"

/* The shared definitions check against the limits of this side. */
_Static_assert(TOOLSPEC_MAX_CANVAS_ID == CANVAS_MAX_ID, "canvas id limit");
_Static_assert(TOOLSPEC_MAX_TYPE_NAME == NODEINFO_MAX_NAME, "node type name limit");
_Static_assert(TOOLSPEC_MAX_SUGGESTIONS == NODEINFO_MAX_SUGGESTIONS, "suggestions");

/* Arguments are small JSON objects; a patch of GRAPH_MAX_BATCH commands
 * with long prompts stays far below these. */
#define ARGS_MAX_BYTES (1024 * 1024)
#define ARGS_MAX_DEPTH 32
#define ARGS_MAX_VALUES 100000
/* Longest wait for a completion the canvas manager promised (it times the
 * tab out itself; this only guards against a lost callback). */
#define WAIT_GUARD_MS (CANVAS_MAX_TIMEOUT_MS + 5000)

struct tools {
    canvas_mgr *cm;
    runs *runs; /* NULL without --comfyui */
    ckpt *ck;   /* NULL: no checkpoints */
    uint32_t wait_ms;
    pthread_mutex_t mu;      /* the state below */
    pthread_mutex_t wait_mu; /* every waiter's condition variable */
    uint64_t tick;           /* LRU clock */
    struct seen *seen;
    size_t n_seen;
    struct mark *marks;
    size_t n_marks;
};

/* What one skill of a session last saw in a turn. */
typedef struct seen {
    char *session, *skill;
    uint64_t turn;
    char canvas[CANVAS_MAX_ID + 1];
    uint64_t revision;
    uint64_t used;
} seen;

/* A session's canvas and the revision its model was last shown of it
 * (mark, for the next note's diff), and what the latest note told it. */
typedef struct mark {
    char *session;
    char canvas[CANVAS_MAX_ID + 1];
    uint64_t mark;
    int has_note;
    char note_canvas[CANVAS_MAX_ID + 1];
    uint64_t note_rev;
    uint64_t used;
} mark;

/* ---- small helpers ---- */

static int fail(char **res, char *json)
{
    *res = json;
    return AGENT_TOOL_ERROR;
}

/* ---- arguments ---- */

/* Parses args (an object, as the agent checked) and checks that every key
 * is a parameter of tool id. Returns the tree or NULL with *res set. */
static yajl_val parse_args(const char *args, toolspec_id id, char **res)
{
    nodeinfo_json_limits lim = {ARGS_MAX_BYTES, ARGS_MAX_DEPTH, ARGS_MAX_VALUES};
    yajl_val v = NULL;
    char err[256] = "";
    if (nodeinfo_json_parse(args, strlen(args), &lim, &v, err, sizeof err) != NODEINFO_OK) {
        *res = toolspec_error("INVALID_ARGUMENT", NULL, "arguments: %s", err);
        return NULL;
    }
    if (toolspec_check_args(id, v, res) != 0) {
        yajl_tree_free(v);
        return NULL;
    }
    return v;
}

static const ProtobufCMessageDescriptor *const flatten_cmd[] = {&comfyd__v1__command__descriptor};

/* Decodes args into a request message d (the keys were checked already). */
static ProtobufCMessage *decode(const ProtobufCMessageDescriptor *d, const char *args, char **res)
{
    jsonpb_opts o = {0};
    o.flatten = flatten_cmd;
    o.n_flatten = 1;
    ProtobufCMessage *m = NULL;
    char err[512] = "";
    int rc = jsonpb_decode(d, args, strlen(args), &o, &m, err, sizeof err);
    if (rc == JSONPB_ENOMEM) {
        *res = toolspec_error("INTERNAL", NULL, "out of memory");
        return NULL;
    }
    if (rc != JSONPB_OK) {
        *res = toolspec_error("INVALID_ARGUMENT", NULL, "%s", err);
        return NULL;
    }
    return m;
}

/* Replaces a decoded message's string field (protobuf-c frees it unless it
 * is the shared empty default). text_dup aborts on out of memory, like the
 * canvas manager's small allocations. */
static void set_field_str(char **field, const char *s)
{
    if (*field && *field != protobuf_c_empty_string) free(*field);
    *field = text_dup(s);
}

/* ---- what skills and sessions saw ---- */

static seen *seen_find(tools *t, const char *session, const char *skill)
{
    for (size_t i = 0; i < t->n_seen; i++)
        if (strcmp(t->seen[i].session, session) == 0 && strcmp(t->seen[i].skill, skill) == 0)
            return &t->seen[i];
    return NULL;
}

static mark *mark_find(tools *t, const char *session)
{
    for (size_t i = 0; i < t->n_marks; i++)
        if (strcmp(t->marks[i].session, session) == 0) return &t->marks[i];
    return NULL;
}

/* The entry of (session, skill), created (the least recently used one is
 * reused when the table is full); NULL when out of memory. Under t->mu. */
static seen *seen_get(tools *t, const char *session, const char *skill)
{
    seen *s = seen_find(t, session, skill);
    if (s) return s;
    if (!t->seen && !(t->seen = calloc(TOOLS_MAX_SEEN, sizeof *t->seen))) return NULL;
    char *a = text_dup(session), *b = text_dup(skill);
    if (!a || !b) {
        free(a);
        free(b);
        return NULL;
    }
    if (t->n_seen < TOOLS_MAX_SEEN) {
        s = &t->seen[t->n_seen++];
    } else {
        s = &t->seen[0];
        for (size_t i = 1; i < t->n_seen; i++)
            if (t->seen[i].used < s->used) s = &t->seen[i];
        free(s->session);
        free(s->skill);
    }
    memset(s, 0, sizeof *s);
    s->session = a;
    s->skill = b;
    return s;
}

static mark *mark_get(tools *t, const char *session)
{
    mark *k = mark_find(t, session);
    if (k) return k;
    if (!t->marks && !(t->marks = calloc(TOOLS_MAX_SESSIONS, sizeof *t->marks))) return NULL;
    char *a = text_dup(session);
    if (!a) return NULL;
    if (t->n_marks < TOOLS_MAX_SESSIONS) {
        k = &t->marks[t->n_marks++];
    } else {
        k = &t->marks[0];
        for (size_t i = 1; i < t->n_marks; i++)
            if (t->marks[i].used < k->used) k = &t->marks[i];
        free(k->session);
    }
    memset(k, 0, sizeof *k);
    k->session = a;
    return k;
}

/* The skill saw canvas at revision: a read of the whole graph, or its own
 * patch applied. The session's mark moves too when whole_view is set (the
 * model knows everything up to revision: it read it, or patched a state it
 * knew). */
static void observe(tools *t, const agent_call_ctx *ctx, const char *canvas, uint64_t revision,
                    int whole_view)
{
    if (!canvas || strlen(canvas) > CANVAS_MAX_ID) return;
    const char *sid = ctx->session_id ? ctx->session_id : "";
    const char *skill = ctx->skill ? ctx->skill : "";
    pthread_mutex_lock(&t->mu);
    t->tick++;
    seen *s = seen_get(t, sid, skill);
    if (s) {
        s->turn = ctx->turn_id;
        snprintf(s->canvas, sizeof s->canvas, "%s", canvas);
        s->revision = revision;
        s->used = t->tick;
    }
    mark *k = whole_view ? mark_get(t, sid) : NULL;
    if (k) {
        if (strcmp(k->canvas, canvas) != 0) {
            snprintf(k->canvas, sizeof k->canvas, "%s", canvas);
            k->mark = revision;
        } else if (revision > k->mark) {
            k->mark = revision;
        }
        k->used = t->tick;
    }
    pthread_mutex_unlock(&t->mu);
}

/* The canvas and revision a call of this skill works on when it names
 * none: what it saw in this turn, else what the turn's note said. Returns
 * 1 with canvas and *rev filled, or 0. */
static int view_of(tools *t, const agent_call_ctx *ctx, char canvas[CANVAS_MAX_ID + 1],
                   uint64_t *rev)
{
    const char *sid = ctx->session_id ? ctx->session_id : "";
    const char *skill = ctx->skill ? ctx->skill : "";
    int found = 0;
    pthread_mutex_lock(&t->mu);
    t->tick++;
    seen *s = seen_find(t, sid, skill);
    mark *k = mark_find(t, sid);
    if (s && s->turn == ctx->turn_id) {
        memcpy(canvas, s->canvas, CANVAS_MAX_ID + 1);
        *rev = s->revision;
        s->used = t->tick;
        found = 1;
    } else if (k && k->has_note) {
        memcpy(canvas, k->note_canvas, CANVAS_MAX_ID + 1);
        *rev = k->note_rev;
        k->used = t->tick;
        found = 1;
    }
    pthread_mutex_unlock(&t->mu);
    return found;
}

/* The id of the canvas a request without canvas_id reaches now (the
 * focused one), so that a call and its retry name the same canvas (the
 * idempotency key is scoped by the canvas_id as given). Leaves canvas ""
 * when none does; the request then fails with the manager's reason. */
static void resolve_default(tools *t, char canvas[CANVAS_MAX_ID + 1])
{
    Comfyd__V1__GetGraphRequest req = COMFYD__V1__GET_GRAPH_REQUEST__INIT;
    Comfyd__V1__GetGraphResponse *r = NULL;
    canvas_error e = {0};
    canvas[0] = 0;
    if (canvas_get_graph(t->cm, &req, &r, &e) != CANVAS_OK) return;
    if (r->graph && r->graph->canvas_id && strlen(r->graph->canvas_id) <= CANVAS_MAX_ID)
        snprintf(canvas, CANVAS_MAX_ID + 1, "%s", r->graph->canvas_id);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- waiting for the canvas manager ---- */

/* One asynchronous request. Two references, the caller's and the
 * completion's, counted under mu; the last one frees it (and the request,
 * which the canvas manager borrows until its completion). mu is the tools
 * object's wait_mu: a lock that outlives every waiter is never destroyed
 * while the other party may still be unlocking it. */
typedef struct waiter {
    pthread_mutex_t *mu;
    pthread_cond_t cv;
    int refs;
    int done;
    int err;
    Comfyd__V1__GraphErrorCode code;
    char msg[CANVAS_ERRLEN];
    ProtobufCMessage *resp; /* a copy */
    ProtobufCMessage *req;
} waiter;

static waiter *waiter_new(tools *t, ProtobufCMessage *req)
{
    waiter *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    w->mu = &t->wait_mu;
    w->refs = 2;
    w->req = req;
    return w;
}

static void waiter_free(waiter *w)
{
    if (w->resp) protobuf_c_message_free_unpacked(w->resp, NULL);
    if (w->req) protobuf_c_message_free_unpacked(w->req, NULL);
    pthread_cond_destroy(&w->cv);
    free(w);
}

/* Drops the caller's reference and unlocks w->mu (held by the caller). */
static void waiter_unref_locked(waiter *w)
{
    int last = --w->refs == 0;
    pthread_mutex_unlock(w->mu);
    if (last) waiter_free(w);
}

static ProtobufCMessage *pb_copy(const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) return NULL;
    protobuf_c_message_pack(m, buf);
    ProtobufCMessage *c = protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
    free(buf);
    return c;
}

static void on_done(void *ud, const canvas_result *r)
{
    waiter *w = ud;
    ProtobufCMessage *copy = r->resp ? pb_copy(r->resp) : NULL;
    pthread_mutex_lock(w->mu);
    w->err = r->err;
    w->code = r->code;
    snprintf(w->msg, sizeof w->msg, "%s", r->message ? r->message : "");
    w->resp = copy;
    if (r->resp && !copy && r->err == CANVAS_OK) {
        w->err = CANVAS_ENOMEM;
        snprintf(w->msg, sizeof w->msg, "out of memory");
    }
    w->done = 1;
    pthread_cond_broadcast(&w->cv);
    waiter_unref_locked(w);
}

static int is_cancelled(const atomic_int *c)
{
    return c && atomic_load_explicit(c, memory_order_acquire) != 0;
}

enum { WAIT_DONE = 0, WAIT_CANCELLED = 1, WAIT_LOST = 2 };

/* A completed request, moved out of its waiter. */
typedef struct outcome {
    int err;
    Comfyd__V1__GraphErrorCode code;
    char msg[CANVAS_ERRLEN];
    ProtobufCMessage *resp; /* owned; NULL unless err is CANVAS_OK */
} outcome;

/* Waits for the completion (or the cancel flag) and drops the caller's
 * reference: w must not be touched afterwards. On WAIT_DONE the outcome is
 * moved into *o (free o->resp). */
static int wait_for(waiter *w, const atomic_int *cancel, outcome *o)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pthread_mutex_lock(w->mu);
    while (!w->done) {
        if (is_cancelled(cancel)) {
            waiter_unref_locked(w);
            return WAIT_CANCELLED;
        }
        struct timespec now, ts;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t waited =
            (int64_t)(now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (waited > WAIT_GUARD_MS) {
            LOG_E(MOD, "a canvas request got no completion within %d ms", WAIT_GUARD_MS);
            waiter_unref_locked(w);
            return WAIT_LOST;
        }
        ts = now;
        ts.tv_nsec += (long)TOOLS_CANCEL_POLL_MS * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&w->cv, w->mu, &ts);
    }
    o->err = w->err;
    o->code = w->code;
    memcpy(o->msg, w->msg, sizeof o->msg);
    o->resp = w->resp;
    w->resp = NULL;
    if (o->err == CANVAS_OK && !o->resp) {
        o->err = CANVAS_ENOMEM;
        snprintf(o->msg, sizeof o->msg, "out of memory");
    }
    waiter_unref_locked(w);
    return WAIT_DONE;
}

static char *wait_error(int wr)
{
    return wr == WAIT_CANCELLED
               ? toolspec_error(
                     "CANCELLED", NULL,
                     "cancelled while waiting for the tab; the request may still complete")
               : toolspec_error("INTERNAL", NULL, "no answer from the canvas manager");
}

/* The idempotency key of a mutating call: readable when it fits, else the
 * session and turn with a hash of skill and call id (only the same turn's
 * calls could collide, and only by a model inventing ids to that end). */
static void idem_key(const agent_call_ctx *ctx, char out[CANVAS_MAX_KEY + 1])
{
    const char *sid = ctx->session_id ? ctx->session_id : "";
    const char *skill = ctx->skill ? ctx->skill : "";
    const char *call = ctx->call_id ? ctx->call_id : "";
    int n = snprintf(out, CANVAS_MAX_KEY + 1, "agent/%s/%llu/%s/%s", sid,
                     (unsigned long long)ctx->turn_id, skill, call);
    if (n >= 0 && n <= CANVAS_MAX_KEY && text_utf8_valid(out, (size_t)n)) return;
    uint64_t h1 = 0xcbf29ce484222325ull, h2 = 0x84222325cbf29ce4ull;
    const char *parts[2] = {skill, call};
    for (int p = 0; p < 2; p++) {
        for (const unsigned char *c = (const unsigned char *)parts[p];; c++) {
            h1 = (h1 ^ *c) * 0x100000001b3ull;
            h2 = (h2 ^ (uint64_t)(*c + 0x9e)) * 0x100000001b3ull;
            h2 ^= h2 >> 29;
            if (!*c) break;
        }
    }
    char head[80];
    snprintf(head, sizeof head, "%.40s/%llu", sid, (unsigned long long)ctx->turn_id);
    snprintf(out, CANVAS_MAX_KEY + 1, "agent/%s/h%016llx%016llx", head, (unsigned long long)h1,
             (unsigned long long)h2);
}

static const char *code_of(const canvas_error *e, int rc)
{
    if (rc == CANVAS_EGRAPH) return canvas_code_name(e->code);
    switch (rc) {
    case CANVAS_EINVAL:
        return "INVALID_ARGUMENT";
    case CANVAS_EFULL:
        return "RESOURCE_EXHAUSTED";
    case CANVAS_ESHUTDOWN:
        return "UNAVAILABLE";
    default:
        return "INTERNAL";
    }
}

/* The error result of a request that did not complete with a response. */
static char *outcome_error(const outcome *o)
{
    canvas_error ce = {.code = o->code};
    return toolspec_error(code_of(&ce, o->err),
                          o->err == CANVAS_EGRAPH ? toolspec_hint(o->code) : NULL, "%s",
                          o->msg[0] ? o->msg : cfd_strerror(o->err));
}

/* The wait for a patch: t->wait_ms, plus the user's decision when it is
 * previewed (a preview is bounded by its own preview_timeout_ms). */
static uint32_t patch_limit(const tools *t, const ProtobufCMessage *req)
{
    const Comfyd__V1__ExecuteBatchRequest *b = (const Comfyd__V1__ExecuteBatchRequest *)req;
    if (!t->wait_ms) return 0;
    if (b->apply_mode != COMFYD__V1__APPLY_MODE__APPLY_MODE_PREVIEW &&
        b->apply_mode != COMFYD__V1__APPLY_MODE__APPLY_MODE_PREVIEW_IF_SHOWN)
        return t->wait_ms;
    uint32_t p = b->preview_timeout_ms ? b->preview_timeout_ms : CANVAS_DEFAULT_PREVIEW_MS;
    if (p > CANVAS_MAX_PREVIEW_MS) p = CANVAS_MAX_PREVIEW_MS;
    return t->wait_ms + p;
}

/* Submits req (an ExecuteBatchRequest or a QueueRequest, owned from here
 * on) and waits for its outcome. Returns 0 with *o (free o->resp), or -1
 * with the error result in *res. */
static int submit_wait(tools *t, const agent_call_ctx *ctx, ProtobufCMessage *req, outcome *o,
                       char **res)
{
    waiter *w = waiter_new(t, req);
    if (!w) {
        protobuf_c_message_free_unpacked(req, NULL);
        *res = toolspec_error("INTERNAL", NULL, "out of memory");
        return -1;
    }
    canvas_error e = {0};
    /* What the patch changes is the skill's (an unnamed caller outside a
     * session: provn_actor_make leaves that on refusal). */
    provn_actor who;
    provn_actor_make(&who, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_SKILL, ctx->session_id, ctx->skill,
                     NULL, NULL, 0);
    int is_queue = req->descriptor == &comfyd__v1__queue_request__descriptor;
    /* With --comfyui a queue is a run the core posts and follows. */
    int crc = is_queue && t->runs
                  ? runs_queue(t->runs, (Comfyd__V1__QueueRequest *)req, t->wait_ms, on_done, w, &e)
              : is_queue
                  ? canvas_queue(t->cm, (Comfyd__V1__QueueRequest *)req, t->wait_ms, on_done, w, &e)
                  : canvas_execute_batch_as(t->cm, (Comfyd__V1__ExecuteBatchRequest *)req, &who,
                                            patch_limit(t, req), on_done, w, &e);
    if (crc != CANVAS_OK) {
        pthread_mutex_lock(w->mu);
        w->refs = 1; /* no completion will come */
        waiter_unref_locked(w);
        *res = toolspec_error(code_of(&e, crc), NULL, "%s", e.message);
        return -1;
    }
    int wr = wait_for(w, ctx->cancel, o);
    if (wr != WAIT_DONE) {
        *res = wait_error(wr);
        return -1;
    }
    if (o->err != CANVAS_OK) {
        *res = outcome_error(o);
        return -1;
    }
    return 0;
}

/* ---- get_graph ---- */

static int tool_get_graph(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    tools *t = ud;
    yajl_val v = parse_args(args, TOOLSPEC_GET_GRAPH, res);
    if (!v) return AGENT_TOOL_ERROR;
    const char *canvas_id;
    int full;
    int64_t ids[TOOLSPEC_MAX_NODE_IDS];
    size_t n_ids = 0;
    int rc = AGENT_TOOL_ERROR;
    Comfyd__V1__GetGraphResponse *resp = NULL;
    if (toolspec_get_graph_args(v, &canvas_id, &full, ids, &n_ids, res)) goto out;
    Comfyd__V1__GetGraphRequest req = COMFYD__V1__GET_GRAPH_REQUEST__INIT;
    req.canvas_id = (char *)canvas_id;
    canvas_error e = {0};
    int crc = canvas_get_graph(t->cm, &req, &resp, &e);
    if (crc != CANVAS_OK) {
        *res = toolspec_error(code_of(&e, crc), crc == CANVAS_EGRAPH ? toolspec_hint(e.code) : NULL,
                              "%s", e.message);
        goto out;
    }
    const Comfyd__V1__Graph *g = resp->graph;
    if (!g) {
        *res = toolspec_error("INTERNAL", NULL, "the canvas manager returned no graph");
        goto out;
    }
    if (full) {
        if (toolspec_graph_full(g, ids, n_ids, res) != 0) goto out_nomem;
    } else {
        *res = toolspec_graph_outline(g, ids, n_ids);
    }
    if (!*res) goto out_nomem;
    /* A read of the whole canvas is what later patches are based on. */
    if (!n_ids) observe(t, ctx, g->canvas_id, g->revision, 1);
    rc = AGENT_TOOL_OK;
    goto out;
out_nomem:
    if (!*res) *res = toolspec_error("INTERNAL", NULL, "out of memory");
out:
    if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
    yajl_tree_free(v);
    return rc;
}

/* ---- node types ---- */

/* The canvas whose schema a read of node types should use: the one the
 * skill works on, else "" (the service's schema). */
static void schema_canvas(tools *t, const agent_call_ctx *ctx, char canvas[CANVAS_MAX_ID + 1])
{
    uint64_t rev;
    if (!view_of(t, ctx, canvas, &rev)) canvas[0] = 0;
}

/* ListNodeTypes on the skill's canvas, falling back to the service's schema
 * when that canvas is gone. */
static int list_types(tools *t, const agent_call_ctx *ctx, Comfyd__V1__ListNodeTypesRequest *req,
                      Comfyd__V1__ListNodeTypesResponse **out, canvas_error *e)
{
    char canvas[CANVAS_MAX_ID + 1];
    schema_canvas(t, ctx, canvas);
    char *saved = req->canvas_id;
    req->canvas_id = canvas;
    int rc = canvas_list_node_types(t->cm, req, out, e);
    if (rc == CANVAS_EGRAPH && canvas[0]) {
        req->canvas_id = (char *)"";
        rc = canvas_list_node_types(t->cm, req, out, e);
    }
    req->canvas_id = saved;
    return rc;
}

static int tool_search(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    tools *t = ud;
    yajl_val v = parse_args(args, TOOLSPEC_SEARCH_NODE_TYPES, res);
    if (!v) return AGENT_TOOL_ERROR;
    yajl_tree_free(v);
    Comfyd__V1__ListNodeTypesRequest *req = (Comfyd__V1__ListNodeTypesRequest *)decode(
        &comfyd__v1__list_node_types_request__descriptor, args, res);
    if (!req) return AGENT_TOOL_ERROR;
    uint32_t limit = req->limit ? req->limit : TOOLSPEC_SEARCH_DEFAULT;
    if (limit > TOOLSPEC_SEARCH_MAX) limit = TOOLSPEC_SEARCH_MAX;
    req->limit = limit;
    Comfyd__V1__ListNodeTypesResponse *resp = NULL;
    canvas_error e = {0};
    int crc = list_types(t, ctx, req, &resp, &e);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    if (crc != CANVAS_OK) return fail(res, toolspec_error(code_of(&e, crc), NULL, "%s", e.message));
    *res = toolspec_search_result(resp);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    if (!*res) return fail(res, toolspec_error("INTERNAL", NULL, "out of memory"));
    return AGENT_TOOL_OK;
}

/* An UNKNOWN_NODE_TYPE error with close names: edit distance on the
 * service's schema, else a substring search. */
static char *unknown_type(tools *t, const agent_call_ctx *ctx, const char *name)
{
    const char *sugg[NODEINFO_MAX_SUGGESTIONS];
    size_t n = 0;
    nodeinfo *ni = canvas_mgr_schema(t->cm);
    Comfyd__V1__ListNodeTypesResponse *resp = NULL;
    if (ni) {
        n = nodeinfo_suggest(ni, name, sugg);
    } else {
        Comfyd__V1__ListNodeTypesRequest req = COMFYD__V1__LIST_NODE_TYPES_REQUEST__INIT;
        req.query = (char *)name;
        req.limit = NODEINFO_MAX_SUGGESTIONS;
        canvas_error e = {0};
        if (list_types(t, ctx, &req, &resp, &e) == CANVAS_OK)
            for (size_t i = 0; i < resp->n_node_types && n < NODEINFO_MAX_SUGGESTIONS; i++)
                sugg[n++] = resp->node_types[i]->name;
    }
    char *out = toolspec_unknown_type(name, sugg, n);
    if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
    nodeinfo_unref(ni);
    return out;
}

static int tool_schema(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    tools *t = ud;
    yajl_val v = parse_args(args, TOOLSPEC_GET_NODE_SCHEMA, res);
    if (!v) return AGENT_TOOL_ERROR;
    const char *name;
    int rc = AGENT_TOOL_ERROR;
    Comfyd__V1__ListNodeTypesResponse *resp = NULL;
    if (toolspec_schema_args(v, &name, res)) goto out;
    Comfyd__V1__ListNodeTypesRequest req = COMFYD__V1__LIST_NODE_TYPES_REQUEST__INIT;
    char *names[1] = {(char *)name};
    req.names = names;
    req.n_names = 1;
    canvas_error e = {0};
    int crc = list_types(t, ctx, &req, &resp, &e);
    if (crc != CANVAS_OK) {
        *res = toolspec_error(code_of(&e, crc), NULL, "%s", e.message);
        goto out;
    }
    if (resp->n_node_types == 0) {
        *res = unknown_type(t, ctx, name);
        if (!*res) *res = toolspec_error("UNKNOWN_NODE_TYPE", NULL, "unknown node type");
        goto out;
    }
    *res = toolspec_schema_result(resp->node_types[0]);
    if (!*res) {
        *res = toolspec_error("INTERNAL", NULL, "out of memory");
        goto out;
    }
    rc = AGENT_TOOL_OK;
out:
    if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
    yajl_tree_free(v);
    return rc;
}

/* ---- patches ---- */

static int tool_patch(tools *t, const agent_call_ctx *ctx, const char *args, int validate_only,
                      char **res)
{
    yajl_val v =
        parse_args(args, validate_only ? TOOLSPEC_VALIDATE_PATCH : TOOLSPEC_APPLY_PATCH, res);
    if (!v) return AGENT_TOOL_ERROR;
    yajl_tree_free(v);
    Comfyd__V1__ExecuteBatchRequest *req = (Comfyd__V1__ExecuteBatchRequest *)decode(
        &comfyd__v1__execute_batch_request__descriptor, args, res);
    if (!req) return AGENT_TOOL_ERROR;
    if (req->n_commands == 0) {
        protobuf_c_message_free_unpacked(&req->base, NULL);
        return fail(res, toolspec_no_commands());
    }
    /* Without a base the patch is checked against what the skill saw (and
     * sent to that canvas when it names none). */
    char canvas[CANVAS_MAX_ID + 1];
    uint64_t rev = 0;
    int has_view = view_of(t, ctx, canvas, &rev);
    const char *named = req->canvas_id ? req->canvas_id : "";
    if (!req->base_revision && has_view && (!*named || strcmp(named, canvas) == 0)) {
        req->base_revision = malloc(sizeof *req->base_revision);
        if (!req->base_revision) {
            protobuf_c_message_free_unpacked(&req->base, NULL);
            return fail(res, toolspec_error("INTERNAL", NULL, "out of memory"));
        }
        google__protobuf__uint64_value__init(req->base_revision);
        req->base_revision->value = rev;
        if (!*named) set_field_str(&req->canvas_id, canvas);
    } else if (!*named) {
        resolve_default(t, canvas);
        set_field_str(&req->canvas_id, canvas);
    }
    char key[CANVAS_MAX_KEY + 1] = "";
    if (!validate_only) idem_key(ctx, key);
    set_field_str(&req->idempotency_key, key);
    req->validate_only = validate_only;
    req->timeout_ms = 0;
    /* The skill's preview policy wins over what the model asks: a skill
     * that must confirm destructive patches cannot opt out per call. It
     * asks for a preview only where a tab can show one (preview_policy.h). */
    Comfyd__V1__ApplyMode pm =
        preview_policy_mode((preview_policy)ctx->preview_policy,
                            (const Comfyd__V1__Command *const *)req->commands, req->n_commands);
    if (pm != COMFYD__V1__APPLY_MODE__APPLY_MODE_APPLY &&
        req->apply_mode != COMFYD__V1__APPLY_MODE__APPLY_MODE_PREVIEW)
        req->apply_mode = pm;
    int has_base = req->base_revision != NULL;
    uint64_t base = has_base ? req->base_revision->value : 0;

    /* The canvas before the turn's first change is kept (checkpoint.h). */
    char ck_canvas[CANVAS_MAX_ID + 1] = "";
    if (!validate_only)
        ckpt_before_change(t->ck, ctx->session_id, ctx->turn_id, req->canvas_id, ck_canvas);
    outcome o;
    if (submit_wait(t, ctx, &req->base, &o, res) != 0) {
        ckpt_after_change(t->ck, ctx->session_id, ctx->turn_id, ck_canvas, 0);
        return AGENT_TOOL_ERROR;
    }
    const Comfyd__V1__ExecuteBatchResponse *r = (const Comfyd__V1__ExecuteBatchResponse *)o.resp;
    ckpt_after_change(t->ck, ctx->session_id, ctx->turn_id, ck_canvas,
                      r->canvas_id && !strcmp(r->canvas_id, ck_canvas) ? r->revision : 0);
    *res = toolspec_patch_result(r, validate_only, has_base, base);
    /* The skill knows the state after its own patch; the session's mark
     * moves only when it also knew the state before. */
    if (!validate_only && r->ok && r->canvas_id)
        observe(t, ctx, r->canvas_id, r->revision, has_base);
    /* validate_patch reports errors as its result; apply_patch fails. */
    int rc = r->ok || validate_only ? AGENT_TOOL_OK : AGENT_TOOL_ERROR;
    protobuf_c_message_free_unpacked(o.resp, NULL);
    if (!*res) return fail(res, toolspec_error("INTERNAL", NULL, "out of memory"));
    return rc;
}

static int tool_validate(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    return tool_patch(ud, ctx, args, 1, res);
}

static int tool_apply(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    return tool_patch(ud, ctx, args, 0, res);
}

/* ---- queue ---- */

static int tool_queue(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    tools *t = ud;
    yajl_val v = parse_args(args, TOOLSPEC_QUEUE, res);
    if (!v) return AGENT_TOOL_ERROR;
    yajl_tree_free(v);
    Comfyd__V1__QueueRequest *req =
        (Comfyd__V1__QueueRequest *)decode(&comfyd__v1__queue_request__descriptor, args, res);
    if (!req) return AGENT_TOOL_ERROR;
    char canvas[CANVAS_MAX_ID + 1];
    uint64_t rev;
    if (!req->canvas_id || !*req->canvas_id) {
        if (!view_of(t, ctx, canvas, &rev)) resolve_default(t, canvas);
        set_field_str(&req->canvas_id, canvas);
    }
    char key[CANVAS_MAX_KEY + 1];
    idem_key(ctx, key);
    set_field_str(&req->idempotency_key, key);
    req->origin = COMFYD__V1__RUN_ORIGIN__RUN_ORIGIN_SESSION;
    set_field_str(&req->session_id, ctx->session_id ? ctx->session_id : "");
    set_field_str(&req->queued_by, ctx->skill ? ctx->skill : "");
    outcome o;
    if (submit_wait(t, ctx, &req->base, &o, res) != 0) return AGENT_TOOL_ERROR;
    size_t len;
    if (jsonpb_encode(o.resp, NULL, res, &len, NULL, 0) != JSONPB_OK) *res = NULL;
    protobuf_c_message_free_unpacked(o.resp, NULL);
    if (!*res) return fail(res, toolspec_error("INTERNAL", NULL, "out of memory"));
    return AGENT_TOOL_OK;
}

/* ---- leases ---- */

/* A LeaseRequest for the skill (canvas_lease answers at once). A refusal
 * (ok false: LEASED with the lease in the way) is an error result with the
 * response and a hint; the skill's leases end with its turn. */
static int tool_lease(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    tools *t = ud;
    yajl_val v = parse_args(args, TOOLSPEC_LEASE, res);
    if (!v) return AGENT_TOOL_ERROR;
    yajl_tree_free(v);
    Comfyd__V1__LeaseRequest *req =
        (Comfyd__V1__LeaseRequest *)decode(&comfyd__v1__lease_request__descriptor, args, res);
    if (!req) return AGENT_TOOL_ERROR;
    char canvas[CANVAS_MAX_ID + 1];
    uint64_t rev;
    if (!req->canvas_id || !*req->canvas_id) {
        if (!view_of(t, ctx, canvas, &rev)) resolve_default(t, canvas);
        set_field_str(&req->canvas_id, canvas);
    }
    provn_actor who;
    char e_who[160] = "";
    if (provn_actor_make(&who, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_SKILL, ctx->session_id,
                         ctx->skill, NULL, e_who, sizeof e_who)) {
        protobuf_c_message_free_unpacked(&req->base, NULL);
        return fail(res, toolspec_error("FAILED_PRECONDITION", NULL,
                                        "leases are taken by a session's skill: %s", e_who));
    }
    canvas_error e = {0};
    Comfyd__V1__LeaseResponse *r = NULL;
    int rc = canvas_lease(t->cm, req, &who, &r, &e);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    if (rc != CANVAS_OK)
        return fail(res, toolspec_error(code_of(&e, rc),
                                        rc == CANVAS_EGRAPH ? toolspec_hint(e.code) : NULL, "%s",
                                        e.message));
    size_t len;
    if (jsonpb_encode(&r->base, NULL, res, &len, NULL, 0) != JSONPB_OK) *res = NULL;
    int ok = r->ok;
    protobuf_c_message_free_unpacked(&r->base, NULL);
    if (!*res) return fail(res, toolspec_error("INTERNAL", NULL, "out of memory"));
    return ok ? AGENT_TOOL_OK : AGENT_TOOL_ERROR;
}

/* ---- runs ---- */

static int no_runs(char **res)
{
    return fail(res, toolspec_error("FAILED_PRECONDITION", "Use queue instead.",
                                    "runs are not followed: comfyd runs without --comfyui"));
}

static int sleep_or_cancel(const agent_call_ctx *ctx, int ms)
{
    for (int waited = 0; waited < ms; waited += TOOLS_CANCEL_POLL_MS) {
        if (ctx->cancel && atomic_load(ctx->cancel)) return -1;
        struct timespec ts = {0, TOOLS_CANCEL_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* Shows the model output file `index` of node_id (a vision turn): the file
 * from ComfyUI, a PNG scaled down to TOOLS_VISION_MAX_SIDE, attached to
 * the turn (agent_call_attach_image). Returns 1 when attached, 0 when not
 * (not an image the model can take, too large, the turn's image limit),
 * with why in why[0..whylen); *o gets the original file's response when o
 * is not NULL (the caller frees it), for its metadata. */
static int attach_output(tools *t, const agent_call_ctx *ctx, const char *pid, const char *node,
                         uint32_t index, Comfyd__V1__GetRunOutputResponse **o, int *rc, char *why,
                         size_t whylen)
{
    Comfyd__V1__GetRunOutputResponse *got = NULL;
    why[0] = 0;
    *rc = runs_output(t->runs, pid, node, index, 0, &got, why, whylen);
    if (*rc != RUNS_OK) return 0;
    int attached = 0;
    const void *data = got->data.data;
    size_t len = got->data.len;
    void *small = NULL;
    uint32_t w = got->width, h = got->height;
    if (ctx->vision && strcmp(got->content_type, "image/png") == 0) {
        size_t slen = 0;
        char serr[128] = "";
        int sc = imgscale_png(data, len, TOOLS_VISION_MAX_SIDE, &small, &slen, &w, &h, serr,
                              sizeof serr);
        if (sc < 0) {
            snprintf(why, whylen, "the PNG cannot be read: %s", serr);
            data = NULL;
        } else if (sc == 1) {
            data = small;
            len = slen;
        }
    }
    if (ctx->vision && data) {
        char label[256];
        snprintf(label, sizeof label, "run %.36s, node %.32s, file %u: %.128s (%ux%u)", pid, node,
                 index, got->file ? got->file->filename : "", w, h);
        attached = agent_call_attach_image(ctx, got->content_type, data, len, label) == 0;
        if (!attached)
            snprintf(why, whylen,
                     "not shown: not a PNG, JPEG, WebP or GIF image, larger than %u bytes, or the "
                     "turn already showed %d images",
                     PROV_MAX_IMAGE_BYTES, AGENT_MAX_TURN_IMAGES);
    } else if (!ctx->vision) {
        snprintf(why, whylen, "This model receives a description of the image, not the image.");
    }
    free(small);
    if (o)
        *o = got;
    else
        protobuf_c_message_free_unpacked(&got->base, NULL);
    return attached;
}

/* obj (a JSON object, owned) with "key": value (JSON text) added at its
 * end; NULL when out of memory (obj freed). toolspec's results are
 * compact objects ending in '}'. */
static char *json_add(char *obj, const char *key, const char *value)
{
    size_t n = strlen(obj);
    if (n < 2 || obj[n - 1] != '}') return obj;
    char *out = malloc(n + strlen(key) + strlen(value) + 8);
    if (!out) {
        free(obj);
        return NULL;
    }
    sprintf(out, "%.*s%s\"%s\":%s}", (int)(n - 1), obj, n > 2 ? "," : "", key, value);
    free(obj);
    return out;
}

/* A succeeded run's result for a vision turn: its first image outputs
 * (TOOLS_RUN_IMAGES) shown to the model, and "images_shown" saying which. */
static char *with_run_images(tools *t, const agent_call_ctx *ctx, const Comfyd__V1__Run *run,
                             char *res)
{
    char list[TOOLS_RUN_IMAGES * 96 + 4] = "[";
    int shown = 0;
    for (size_t i = 0; i < run->n_outputs && shown < TOOLS_RUN_IMAGES; i++) {
        const Comfyd__V1__RunNodeOutput *out = run->outputs[i];
        for (size_t k = 0; k < out->n_files && shown < TOOLS_RUN_IMAGES; k++) {
            /* Ids are written into the JSON as they are: plain ones only. */
            if (strcmp(out->files[k]->kind, "images") != 0 ||
                strspn(out->node_id,
                       "0123456789:_-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
                    strlen(out->node_id) ||
                strlen(out->node_id) > 32)
                continue;
            char why[512];
            int rc;
            if (!attach_output(t, ctx, run->prompt_id, out->node_id, (uint32_t)k, NULL, &rc, why,
                               sizeof why))
                continue;
            size_t at = strlen(list);
            snprintf(list + at, sizeof list - at, "%s{\"node_id\":\"%s\",\"index\":%zu}",
                     shown ? "," : "", out->node_id, k);
            shown++;
        }
    }
    if (!shown) return res;
    strcat(list, "]");
    return json_add(res, "images_shown", list);
}

static int tool_run(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    tools *t = ud;
    if (!t->runs) return no_runs(res);
    yajl_val v = parse_args(args, TOOLSPEC_RUN, res);
    if (!v) return AGENT_TOOL_ERROR;
    const char *cid;
    uint32_t wait_ms;
    if (toolspec_run_args(v, &cid, &wait_ms, res)) {
        yajl_tree_free(v);
        return AGENT_TOOL_ERROR;
    }
    Comfyd__V1__QueueRequest *req = calloc(1, sizeof *req);
    if (!req) {
        yajl_tree_free(v);
        return fail(res, toolspec_error("INTERNAL", NULL, "out of memory"));
    }
    comfyd__v1__queue_request__init(req);
    char canvas[CANVAS_MAX_ID + 1];
    uint64_t rev;
    snprintf(canvas, sizeof canvas, "%s", cid);
    yajl_tree_free(v);
    if (!*canvas && !view_of(t, ctx, canvas, &rev)) resolve_default(t, canvas);
    req->canvas_id = text_dup(canvas);
    char key[CANVAS_MAX_KEY + 1];
    idem_key(ctx, key);
    req->idempotency_key = text_dup(key);
    req->origin = COMFYD__V1__RUN_ORIGIN__RUN_ORIGIN_SESSION;
    req->session_id = text_dup(ctx->session_id ? ctx->session_id : "");
    req->queued_by = text_dup(ctx->skill ? ctx->skill : "");
    outcome o;
    if (submit_wait(t, ctx, &req->base, &o, res) != 0) return AGENT_TOOL_ERROR;
    const Comfyd__V1__QueueResponse *q = (const Comfyd__V1__QueueResponse *)o.resp;
    char pid[TOOLSPEC_MAX_RUN_ID + 1];
    snprintf(pid, sizeof pid, "%s", q->run ? q->run->prompt_id : q->prompt_id);
    protobuf_c_message_free_unpacked(o.resp, NULL);
    /* Until it is over, the wait passes or the turn is cancelled. */
    int64_t until = text_mono_ms() + wait_ms;
    Comfyd__V1__Run *run = NULL;
    for (;;) {
        if (run) protobuf_c_message_free_unpacked(&run->base, NULL);
        run = runs_get(t->runs, pid);
        if (!run) return fail(res, toolspec_error("NOT_FOUND", NULL, "run %s vanished", pid));
        if (runs_status_final(run->status) || text_mono_ms() >= until) break;
        if (sleep_or_cancel(ctx, TOOLS_RUN_POLL_MS)) {
            protobuf_c_message_free_unpacked(&run->base, NULL);
            return fail(res, toolspec_error("CANCELLED", NULL,
                                            "the turn was cancelled; the run goes on (%s)", pid));
        }
    }
    int timed_out = !runs_status_final(run->status);
    *res = toolspec_run_result(run, 1, timed_out);
    if (*res && ctx->vision && run->status == COMFYD__V1__RUN_STATUS__RUN_STATUS_SUCCEEDED)
        *res = with_run_images(t, ctx, run, *res);
    protobuf_c_message_free_unpacked(&run->base, NULL);
    if (!*res) return fail(res, toolspec_error("INTERNAL", NULL, "out of memory"));
    /* A failed run is a result the model acts on, not a tool error. */
    return AGENT_TOOL_OK;
}

static int tool_get_run(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    (void)ctx;
    tools *t = ud;
    if (!t->runs) return no_runs(res);
    yajl_val v = parse_args(args, TOOLSPEC_GET_RUN, res);
    if (!v) return AGENT_TOOL_ERROR;
    const char *pid;
    if (toolspec_run_id_args(v, 0, &pid, NULL, NULL, res)) {
        yajl_tree_free(v);
        return AGENT_TOOL_ERROR;
    }
    Comfyd__V1__Run *run = runs_get(t->runs, pid);
    if (!run) {
        *res = toolspec_error("NOT_FOUND", NULL, "no run with prompt_id \"%s\"", pid);
        yajl_tree_free(v);
        return AGENT_TOOL_ERROR;
    }
    yajl_tree_free(v);
    *res = toolspec_run_result(run, 0, 0);
    protobuf_c_message_free_unpacked(&run->base, NULL);
    return *res ? AGENT_TOOL_OK : fail(res, toolspec_error("INTERNAL", NULL, "out of memory"));
}

static const char *runs_code(int rc)
{
    switch (rc) {
    case RUNS_EINVAL:
        return "INVALID_ARGUMENT";
    case RUNS_ENOTFOUND:
        return "NOT_FOUND";
    case RUNS_EOVER:
        return "FAILED_PRECONDITION";
    case RUNS_EFULL:
        return "RESOURCE_EXHAUSTED";
    case RUNS_EUNAVAIL:
        return "UNAVAILABLE";
    default:
        return "INTERNAL";
    }
}

static int tool_cancel_run(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    (void)ctx;
    tools *t = ud;
    if (!t->runs) return no_runs(res);
    yajl_val v = parse_args(args, TOOLSPEC_CANCEL_RUN, res);
    if (!v) return AGENT_TOOL_ERROR;
    const char *pid;
    if (toolspec_run_id_args(v, 0, &pid, NULL, NULL, res)) {
        yajl_tree_free(v);
        return AGENT_TOOL_ERROR;
    }
    Comfyd__V1__Run *run = NULL;
    char err[512] = "";
    int rc = runs_cancel(t->runs, pid, &run, err, sizeof err);
    yajl_tree_free(v);
    if (rc != RUNS_OK) return fail(res, toolspec_error(runs_code(rc), NULL, "%s", err));
    *res = run ? toolspec_run_result(run, 0, 0) : toolspec_error("NOT_FOUND", NULL, "no run");
    if (run) protobuf_c_message_free_unpacked(&run->base, NULL);
    return *res ? AGENT_TOOL_OK : fail(res, toolspec_error("INTERNAL", NULL, "out of memory"));
}

/* The result describes the file (name, node, size) for every model; in a
 * vision turn the image itself follows the tool results as an image part
 * (attach_output), and the result says whether it does. */
static int tool_view_output(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    tools *t = ud;
    if (!t->runs) return no_runs(res);
    yajl_val v = parse_args(args, TOOLSPEC_VIEW_OUTPUT, res);
    if (!v) return AGENT_TOOL_ERROR;
    const char *pid, *node;
    uint32_t index;
    if (toolspec_run_id_args(v, 1, &pid, &node, &index, res)) {
        yajl_tree_free(v);
        return AGENT_TOOL_ERROR;
    }
    Comfyd__V1__GetRunOutputResponse *o = NULL;
    char why[512] = "";
    int rc = RUNS_OK;
    int shown = attach_output(t, ctx, pid, node, index, &o, &rc, why, sizeof why);
    if (rc != RUNS_OK) {
        yajl_tree_free(v);
        return fail(res, toolspec_error(runs_code(rc), NULL, "%s", why));
    }
    uint32_t w = o->width, h = o->height;
    char note[600];
    if (shown && (w > TOOLS_VISION_MAX_SIDE || h > TOOLS_VISION_MAX_SIDE))
        snprintf(note, sizeof note,
                 "The image follows the tool results as an image part, scaled down to fit %d "
                 "pixels.",
                 TOOLS_VISION_MAX_SIDE);
    else if (shown)
        snprintf(note, sizeof note, "The image follows the tool results as an image part.");
    else
        snprintf(note, sizeof note, "%s", why);
    yajl_gen g = yajl_gen_alloc(NULL);
    int bad = !g;
#define GS(k, v)                                                                                   \
    (yajl_gen_string(g, (const unsigned char *)(k), strlen(k)) != yajl_gen_status_ok ||            \
     yajl_gen_string(g, (const unsigned char *)(v), strlen(v)) != yajl_gen_status_ok)
#define GN(k, v)                                                                                   \
    (yajl_gen_string(g, (const unsigned char *)(k), strlen(k)) != yajl_gen_status_ok ||            \
     yajl_gen_integer(g, (long long)(v)) != yajl_gen_status_ok)
    bad = bad || yajl_gen_map_open(g) != yajl_gen_status_ok || GS("prompt_id", pid) ||
          GS("node_id", node) || GN("index", index) || GS("filename", o->file->filename) ||
          GS("subfolder", o->file->subfolder) || GS("type", o->file->type) ||
          GS("content_type", o->content_type) || GN("bytes", o->data.len) || GN("width", w) ||
          GN("height", h) || GS("note", note) || yajl_gen_map_close(g) != yajl_gen_status_ok;
#undef GS
#undef GN
    protobuf_c_message_free_unpacked(&o->base, NULL);
    yajl_tree_free(v); /* pid and node point into it */
    if (!bad) {
        const unsigned char *buf;
        size_t len;
        yajl_gen_get_buf(g, &buf, &len);
        *res = text_dupn((const char *)buf, len);
    }
    if (g) yajl_gen_free(g);
    return bad ? fail(res, toolspec_error("INTERNAL", NULL, "out of memory")) : AGENT_TOOL_OK;
}

/* ---- the table ---- */

/* The agent's table: the shared definitions (toolspec.h) bound to this
 * module's functions, in the same order. */
static const agent_tool_fn fns[TOOLSPEC__COUNT] = {
    [TOOLSPEC_GET_GRAPH] = tool_get_graph,
    [TOOLSPEC_SEARCH_NODE_TYPES] = tool_search,
    [TOOLSPEC_GET_NODE_SCHEMA] = tool_schema,
    [TOOLSPEC_VALIDATE_PATCH] = tool_validate,
    [TOOLSPEC_APPLY_PATCH] = tool_apply,
    [TOOLSPEC_QUEUE] = tool_queue,
    [TOOLSPEC_RUN] = tool_run,
    [TOOLSPEC_GET_RUN] = tool_get_run,
    [TOOLSPEC_CANCEL_RUN] = tool_cancel_run,
    [TOOLSPEC_VIEW_OUTPUT] = tool_view_output,
    [TOOLSPEC_LEASE] = tool_lease,
};
static agent_tool table[TOOLSPEC__COUNT];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
    for (int i = 0; i < TOOLSPEC__COUNT; i++) {
        const toolspec_def *d = toolspec_get((toolspec_id)i);
        table[i] =
            (agent_tool){d->name, d->description, d->parameters_json, d->read_only, fns[i], NULL};
    }
}

const agent_tool *tools_table(size_t *n)
{
    pthread_once(&table_once, table_init);
    if (n) *n = TOOLSPEC__COUNT;
    return table;
}

void tools_turn_end(void *ud, const char *session_id)
{
    tools *t = ud;
    canvas_release_session_leases(t->cm, session_id);
}

/* ---- the note ---- */

char *tools_note(void *ud, const char *session_id)
{
    tools *t = ud;
    const char *sid = session_id ? session_id : "";
    char canvas[CANVAS_MAX_ID + 1] = "";
    uint64_t since = 0;
    int known = 0;
    pthread_mutex_lock(&t->mu);
    mark *k = mark_find(t, sid);
    if (k && k->canvas[0]) {
        memcpy(canvas, k->canvas, sizeof canvas);
        since = k->mark;
        known = 1;
    }
    pthread_mutex_unlock(&t->mu);

    /* The canvas a call without canvas_id reaches now. */
    Comfyd__V1__GetGraphRequest greq = COMFYD__V1__GET_GRAPH_REQUEST__INIT;
    Comfyd__V1__GetGraphResponse *gr = NULL;
    canvas_error e = {0};
    int rc = canvas_get_graph(t->cm, &greq, &gr, &e);
    text_buf b = {0};
    if (rc != CANVAS_OK) {
        if (rc == CANVAS_EGRAPH &&
            e.code == COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NO_LIVE_CANVAS)
            text_buf_add(
                &b, "No ComfyUI canvas is attached: the graph tools will answer NO_LIVE_CANVAS "
                    "until the user opens a workflow tab.");
        else
            text_buf_addf(&b, "The canvas cannot be reached without canvas_id: %s", e.message);
        goto done;
    }
    const Comfyd__V1__Graph *g = gr->graph;
    uint64_t now = g->revision;
    const char *cid = g->canvas_id ? g->canvas_id : "";
    text_buf_addf(&b, "Canvas \"%.128s\"", cid);
    if (g->title && *g->title) text_buf_addf(&b, " (%.200s)", g->title);
    text_buf_addf(&b, " is at revision %llu with %zu node%s and %zu link%s.",
                  (unsigned long long)now, g->n_nodes, g->n_nodes == 1 ? "" : "s", g->n_links,
                  g->n_links == 1 ? "" : "s");
    if (g->stale) text_buf_add(&b, " No tab is attached: it cannot be changed until one is.");
    if (!known || strcmp(canvas, cid) != 0) {
        text_buf_add(&b, " Call get_graph to see it.");
    } else if (since >= now) {
        text_buf_add(&b, " The user did not change it since you last saw it.");
    } else {
        Comfyd__V1__GetDiffRequest dreq = COMFYD__V1__GET_DIFF_REQUEST__INIT;
        dreq.canvas_id = (char *)cid;
        dreq.since_revision = since;
        Comfyd__V1__GetDiffResponse *d = NULL;
        if (canvas_get_diff(t->cm, &dreq, &d, &e) != CANVAS_OK) {
            text_buf_add(&b, " Call get_graph to see it.");
        } else if (d->truncated) {
            text_buf_addf(&b,
                          " It changed too much since revision %llu to list here: call get_graph "
                          "before editing.",
                          (unsigned long long)since);
        } else {
            size_t user = 0, load = 0, listed = 0;
            for (size_t i = 0; i < d->n_ops; i++) {
                if (d->ops[i]->origin == COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER) user++;
                if (d->ops[i]->origin == COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_LOAD) load++;
            }
            if (!user && !load) {
                text_buf_add(&b, " The user did not change it since you last saw it.");
            } else {
                text_buf_addf(&b, "\nSince you last saw it (revision %llu) the user",
                              (unsigned long long)since);
                if (load) text_buf_add(&b, " loaded or reloaded the workflow");
                if (load && user) text_buf_add(&b, " and");
                if (user)
                    text_buf_addf(&b, " made %zu change%s:", user, user == 1 ? "" : "s");
                else
                    text_buf_add(&b, ".");
                for (size_t i = 0; i < d->n_ops && !b.oom; i++) {
                    const Comfyd__V1__GraphOp *op = d->ops[i];
                    if (op->origin != COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER) continue;
                    if (listed == TOOLS_NOTE_MAX_OPS || b.n + 240 > TOOLS_NOTE_MAX_BYTES - 120) {
                        text_buf_addf(&b, "\n- ... and %zu more", user - listed);
                        break;
                    }
                    const char *s = op->summary ? op->summary : "";
                    text_buf_addf(&b, "\n- %.*s", (int)text_utf8_cut(s, strlen(s), 200), s);
                    listed++;
                }
                text_buf_add(&b, "\nTake these edits into account; call get_graph for details.");
            }
        }
        if (d) protobuf_c_message_free_unpacked(&d->base, NULL);
    }
    /* The model is told up to now. */
    if (strlen(cid) <= CANVAS_MAX_ID) {
        pthread_mutex_lock(&t->mu);
        t->tick++;
        k = mark_get(t, sid);
        if (k) {
            snprintf(k->canvas, sizeof k->canvas, "%s", cid);
            k->mark = now;
            k->has_note = 1;
            snprintf(k->note_canvas, sizeof k->note_canvas, "%s", cid);
            k->note_rev = now;
            k->used = t->tick;
        }
        pthread_mutex_unlock(&t->mu);
    }
done:
    if (gr) protobuf_c_message_free_unpacked(&gr->base, NULL);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    if (b.p && b.n > TOOLS_NOTE_MAX_BYTES) b.p[text_utf8_cut(b.p, b.n, TOOLS_NOTE_MAX_BYTES)] = 0;
    return b.p;
}

/* ---- life ---- */

int tools_create(tools **out, const tools_opts *opts)
{
    *out = NULL;
    if (!opts || !opts->cm) return TOOLS_EINVAL;
    tools *t = calloc(1, sizeof *t);
    if (!t) return TOOLS_ENOMEM;
    t->cm = opts->cm;
    t->runs = opts->runs;
    t->ck = opts->ck;
    t->wait_ms = opts->wait_ms;
    pthread_mutex_init(&t->mu, NULL);
    pthread_mutex_init(&t->wait_mu, NULL);
    *out = t;
    return TOOLS_OK;
}

void tools_destroy(tools *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n_seen; i++) {
        free(t->seen[i].session);
        free(t->seen[i].skill);
    }
    for (size_t i = 0; i < t->n_marks; i++)
        free(t->marks[i].session);
    free(t->seen);
    free(t->marks);
    pthread_mutex_destroy(&t->mu);
    pthread_mutex_destroy(&t->wait_mu);
    free(t);
}

/* tools: the graph tools a model calls (tools.h): the shared helpers
 * (arguments, what skills and sessions saw, waiting for the canvas
 * manager), the agent's table, the turn's note and the module's life.
 * tools_graph.c holds the tools on the graph (get_graph, node types,
 * patches, queue, leases), tools_runs.c those on runs; private header
 * tools_int.h. */
#include "tools_int.h"

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

int tl_fail(char **res, char *json)
{
    *res = json;
    return AGENT_TOOL_ERROR;
}

/* ---- arguments ---- */

/* Parses args (an object, as the agent checked) and checks that every key
 * is a parameter of tool id. Returns the tree or NULL with *res set. */
yajl_val tl_parse_args(const char *args, toolspec_id id, char **res)
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
ProtobufCMessage *tl_decode(const ProtobufCMessageDescriptor *d, const char *args, char **res)
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
void tl_set_field_str(char **field, const char *s)
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
void tl_observe(tools *t, const agent_call_ctx *ctx, const char *canvas, uint64_t revision,
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
int tl_view_of(tools *t, const agent_call_ctx *ctx, char canvas[CANVAS_MAX_ID + 1], uint64_t *rev)
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
void tl_resolve_default(tools *t, char canvas[CANVAS_MAX_ID + 1])
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
void tl_idem_key(const agent_call_ctx *ctx, char out[CANVAS_MAX_KEY + 1])
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

const char *tl_code_of(const canvas_error *e, int rc)
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
    return toolspec_error(tl_code_of(&ce, o->err),
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
int tl_submit_wait(tools *t, const agent_call_ctx *ctx, ProtobufCMessage *req, outcome *o,
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
        *res = toolspec_error(tl_code_of(&e, crc), NULL, "%s", e.message);
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

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

#include "jsonpb.h"
#include "log.h"
#include "nodeinfo.h"
#include "text.h"

#define MOD "tools"

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

static char *fmt_alloc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *fmt_alloc(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Length of s cut to at most max bytes on a UTF-8 character boundary. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max) return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* A growable string; oom is sticky and checked once at the end. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_addn(sbuf *b, const char *s, size_t len)
{
    if (b->oom) return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + len + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = 0;
}

static void sb_add(sbuf *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

static void sb_addf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_addf(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    sb_addn(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Shortest text of d that reads back as d. */
static void fmt_double(char *buf, size_t len, double d)
{
    if (!isfinite(d)) {
        snprintf(buf, len, "%s", isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) return;
    }
}

/* ---- JSON output ---- */

static int g_str(yajl_gen g, const char *s)
{
    s = s ? s : "";
    return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) != yajl_gen_status_ok;
}

static int g_strn(yajl_gen g, const char *s, size_t n)
{
    return yajl_gen_string(g, (const unsigned char *)s, n) != yajl_gen_status_ok;
}

static int g_kv(yajl_gen g, const char *k, const char *v)
{
    return g_str(g, k) || g_str(g, v);
}

static int g_u64(yajl_gen g, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    return yajl_gen_number(g, num, (size_t)n) != yajl_gen_status_ok;
}

static int g_i64(yajl_gen g, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", (long long)v);
    return yajl_gen_number(g, num, (size_t)n) != yajl_gen_status_ok;
}

static int g_double(yajl_gen g, double d)
{
    char num[40];
    if (!isfinite(d)) return g_str(g, d != d ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
    fmt_double(num, sizeof num, d);
    return yajl_gen_number(g, num, strlen(num)) != yajl_gen_status_ok;
}

static int g_bool(yajl_gen g, int b)
{
    return yajl_gen_bool(g, b != 0) != yajl_gen_status_ok;
}

/* A text cut to max bytes (with "..." when cut). */
static int g_cut(yajl_gen g, const char *s, size_t max)
{
    s = s ? s : "";
    size_t len = strlen(s), n = utf8_cut(s, len, max);
    if (n == len) return g_strn(g, s, len);
    char *t = fmt_alloc("%.*s...", (int)n, s);
    int rc = !t || g_str(g, t);
    free(t);
    return rc;
}

static int g_value(yajl_gen g, const Comfyd__V1__Value *v)
{
    if (!v) return yajl_gen_null(g) != yajl_gen_status_ok;
    return jsonpb_encode_gen(g, &v->base, NULL, NULL, 0) != JSONPB_OK;
}

static yajl_gen gen_new(void)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g) yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    return g;
}

/* The generated text (malloc'd) and frees g; NULL when bad or out of memory. */
static char *gen_done(yajl_gen g, int bad)
{
    char *out = NULL;
    if (!bad) {
        const unsigned char *b;
        size_t n;
        if (yajl_gen_get_buf(g, &b, &n) == yajl_gen_status_ok) out = text_dupn((const char *)b, n);
    }
    yajl_gen_free(g);
    return out;
}

/* {"error": message, "code": code, "hint": hint} (code, hint may be NULL). */
static char *err_json(const char *code, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static char *err_json(const char *code, const char *hint, const char *fmt, ...)
{
    char msg[CANVAS_ERRLEN + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* vsnprintf may have cut a character in two. */
    size_t len = strlen(msg);
    while (len && !text_utf8_valid(msg, len))
        msg[--len] = 0;
    yajl_gen g = gen_new();
    if (!g) return NULL;
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "error", msg);
    if (!bad && code) bad = g_kv(g, "code", code);
    if (!bad && hint) bad = g_kv(g, "hint", hint);
    bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    return gen_done(g, bad);
}

static int fail(char **res, char *json)
{
    *res = json;
    return AGENT_TOOL_ERROR;
}

/* ---- arguments ---- */

/* Parses args (an object, as the agent checked) and checks that every key
 * is one of keys. Returns the tree or NULL with *res set. */
static yajl_val parse_args(const char *args, const char *const *keys, size_t n_keys, char **res)
{
    nodeinfo_json_limits lim = {ARGS_MAX_BYTES, ARGS_MAX_DEPTH, ARGS_MAX_VALUES};
    yajl_val v = NULL;
    char err[256] = "";
    if (nodeinfo_json_parse(args, strlen(args), &lim, &v, err, sizeof err) != NODEINFO_OK) {
        *res = err_json("INVALID_ARGUMENT", NULL, "arguments: %s", err);
        return NULL;
    }
    if (!YAJL_IS_OBJECT(v)) {
        yajl_tree_free(v);
        *res = err_json("INVALID_ARGUMENT", NULL, "arguments must be a JSON object");
        return NULL;
    }
    for (size_t i = 0; i < v->u.object.len; i++) {
        const char *k = v->u.object.keys[i];
        size_t j = 0;
        while (j < n_keys && strcmp(keys[j], k) != 0)
            j++;
        if (j < n_keys) continue;
        char list[256] = "";
        for (size_t m = 0; m < n_keys; m++) {
            strncat(list, m ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, keys[m], sizeof list - strlen(list) - 1);
        }
        *res = err_json("INVALID_ARGUMENT", NULL, "unknown argument '%.64s'; expected %s%s", k,
                        n_keys ? "one of " : "none", list);
        yajl_tree_free(v);
        return NULL;
    }
    return v;
}

static yajl_val arg(yajl_val v, const char *key)
{
    for (size_t i = 0; i < v->u.object.len; i++)
        if (strcmp(v->u.object.keys[i], key) == 0)
            return YAJL_IS_NULL(v->u.object.values[i]) ? NULL : v->u.object.values[i];
    return NULL;
}

/* An optional string argument: *out borrowed from the tree ("" when absent).
 * Returns 0, or -1 with *res set. */
static int arg_str(yajl_val v, const char *key, size_t max, const char **out, char **res)
{
    yajl_val s = arg(v, key);
    *out = "";
    if (!s) return 0;
    if (!YAJL_IS_STRING(s)) {
        *res = err_json("INVALID_ARGUMENT", NULL, "%s: expected a string", key);
        return -1;
    }
    if (strlen(s->u.string) > max) {
        *res = err_json("INVALID_ARGUMENT", NULL, "%s: longer than %zu bytes", key, max);
        return -1;
    }
    *out = s->u.string;
    return 0;
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
        *res = err_json("INTERNAL", NULL, "out of memory");
        return NULL;
    }
    if (rc != JSONPB_OK) {
        *res = err_json("INVALID_ARGUMENT", NULL, "%s", err);
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
               ? err_json("CANCELLED", NULL,
                          "cancelled while waiting for the tab; the request may still complete")
               : err_json("INTERNAL", NULL, "no answer from the canvas manager");
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

/* A hint for a graph-level error code (NULL: none). */
static const char *hint_of(Comfyd__V1__GraphErrorCode code)
{
    switch (code) {
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NO_LIVE_CANVAS:
        return "No ComfyUI tab has this canvas open: tell the user to open the workflow in "
               "ComfyUI; do not pretend a change was made.";
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_AMBIGUOUS_CANVAS:
        return "Several canvases are open and none has focus: pass canvas_id.";
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_CANVAS_NOT_FOUND:
        return "No canvas has that id; call get_graph without canvas_id for the focused one.";
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_EDITOR_TIMEOUT:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_EDITOR_GONE:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_EDITOR_FAILED:
        return "The tab did not confirm the change: call get_graph to see what the canvas holds "
               "now before trying again.";
    default:
        return NULL;
    }
}

/* The error result of a request that did not complete with a response. */
static char *outcome_error(const outcome *o)
{
    canvas_error ce = {.code = o->code};
    return err_json(code_of(&ce, o->err), o->err == CANVAS_EGRAPH ? hint_of(o->code) : NULL, "%s",
                    o->msg[0] ? o->msg : canvas_strerror(o->err));
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
        *res = err_json("INTERNAL", NULL, "out of memory");
        return -1;
    }
    canvas_error e = {0};
    int crc = req->descriptor == &comfyd__v1__queue_request__descriptor
                  ? canvas_queue(t->cm, (Comfyd__V1__QueueRequest *)req, t->wait_ms, on_done, w, &e)
                  : canvas_execute_batch(t->cm, (Comfyd__V1__ExecuteBatchRequest *)req, t->wait_ms,
                                         on_done, w, &e);
    if (crc != CANVAS_OK) {
        pthread_mutex_lock(w->mu);
        w->refs = 1; /* no completion will come */
        waiter_unref_locked(w);
        *res = err_json(code_of(&e, crc), NULL, "%s", e.message);
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

typedef struct gindex {
    const Comfyd__V1__Node **nodes; /* by id */
    const Comfyd__V1__Link **links; /* by id */
    size_t n_nodes, n_links;
} gindex;

static int cmp_node(const void *a, const void *b)
{
    int64_t x = (*(const Comfyd__V1__Node *const *)a)->id;
    int64_t y = (*(const Comfyd__V1__Node *const *)b)->id;
    return x < y ? -1 : x > y;
}

static int cmp_link(const void *a, const void *b)
{
    int64_t x = (*(const Comfyd__V1__Link *const *)a)->id;
    int64_t y = (*(const Comfyd__V1__Link *const *)b)->id;
    return x < y ? -1 : x > y;
}

static int gindex_build(gindex *ix, const Comfyd__V1__Graph *g)
{
    memset(ix, 0, sizeof *ix);
    ix->nodes = malloc((g->n_nodes ? g->n_nodes : 1) * sizeof *ix->nodes);
    ix->links = malloc((g->n_links ? g->n_links : 1) * sizeof *ix->links);
    if (!ix->nodes || !ix->links) {
        free(ix->nodes);
        free(ix->links);
        return -1;
    }
    for (size_t i = 0; i < g->n_nodes; i++)
        ix->nodes[i] = g->nodes[i];
    for (size_t i = 0; i < g->n_links; i++)
        ix->links[i] = g->links[i];
    ix->n_nodes = g->n_nodes;
    ix->n_links = g->n_links;
    qsort(ix->nodes, ix->n_nodes, sizeof *ix->nodes, cmp_node);
    qsort(ix->links, ix->n_links, sizeof *ix->links, cmp_link);
    return 0;
}

static void gindex_free(gindex *ix)
{
    free(ix->nodes);
    free(ix->links);
}

static const Comfyd__V1__Node *ix_node(const gindex *ix, int64_t id)
{
    size_t lo = 0, hi = ix->n_nodes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->nodes[mid]->id == id) return ix->nodes[mid];
        if (ix->nodes[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const Comfyd__V1__Link *ix_link(const gindex *ix, int64_t id)
{
    size_t lo = 0, hi = ix->n_links;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->links[mid]->id == id) return ix->links[mid];
        if (ix->links[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* A widget value as outline text: numbers and booleans bare, text quoted
 * with \" \\ \n escapes and cut at TOOLS_OUTLINE_TEXT bytes. */
static void sb_value(sbuf *b, const Comfyd__V1__Value *v)
{
    char num[40];
    if (!v) {
        sb_add(b, "null");
        return;
    }
    switch (v->kind_case) {
    case COMFYD__V1__VALUE__KIND_INTEGER:
        sb_addf(b, "%lld", (long long)v->integer);
        return;
    case COMFYD__V1__VALUE__KIND_NUMBER:
        fmt_double(num, sizeof num, v->number);
        sb_add(b, num);
        return;
    case COMFYD__V1__VALUE__KIND_BOOLEAN:
        sb_add(b, v->boolean ? "true" : "false");
        return;
    case COMFYD__V1__VALUE__KIND_TEXT: {
        const char *s = v->text ? v->text : "";
        size_t len = strlen(s), n = utf8_cut(s, len, TOOLS_OUTLINE_TEXT);
        sb_add(b, "\"");
        for (size_t i = 0; i < n; i++) {
            char c = s[i];
            if (c == '"' || c == '\\') {
                char e[2] = {'\\', c};
                sb_addn(b, e, 2);
            } else if (c == '\n') {
                sb_add(b, "\\n");
            } else if ((unsigned char)c < 0x20) {
                sb_add(b, " ");
            } else {
                sb_addn(b, &c, 1);
            }
        }
        sb_add(b, n < len ? "...\"" : "\"");
        return;
    }
    default:
        sb_add(b, "null");
    }
}

/* One outline line for node n. */
static void outline_line(sbuf *b, const gindex *ix, const Comfyd__V1__Node *n)
{
    sb_addf(b, "#%lld %s", (long long)n->id, n->type ? n->type : "?");
    if (n->title && *n->title && strcmp(n->title, n->type ? n->type : "") != 0) {
        Comfyd__V1__Value tv = COMFYD__V1__VALUE__INIT;
        tv.kind_case = COMFYD__V1__VALUE__KIND_TEXT;
        tv.text = n->title;
        sb_add(b, " ");
        sb_value(b, &tv);
    }
    if (n->mode == 2) sb_add(b, " [muted]");
    if (n->mode == 4) sb_add(b, " [bypassed]");
    for (size_t i = 0; i < n->n_widgets && i < TOOLS_OUTLINE_WIDGETS; i++) {
        sb_addf(b, " %s=", n->widgets[i]->name ? n->widgets[i]->name : "?");
        sb_value(b, n->widgets[i]->value);
    }
    if (n->n_widgets > TOOLS_OUTLINE_WIDGETS)
        sb_addf(b, " (+%zu widgets)", n->n_widgets - TOOLS_OUTLINE_WIDGETS);
    int first = 1;
    for (size_t i = 0; i < n->n_inputs; i++) {
        const Comfyd__V1__NodeInput *in = n->inputs[i];
        const char *name = in->name ? in->name : "?";
        if (!in->link) {
            /* A widget's socket is shown by its value; a bare socket left
             * open is worth seeing (a missing required link). */
            if (in->widget && *in->widget) continue;
            sb_addf(b, "%s%s<-none", first ? " | in: " : " ", name);
            first = 0;
            continue;
        }
        const Comfyd__V1__Link *l = ix_link(ix, in->link);
        const Comfyd__V1__Node *from = l ? ix_node(ix, l->from_id) : NULL;
        const char *slot =
            from && l->from_slot < from->n_outputs && from->outputs[l->from_slot]->name
                ? from->outputs[l->from_slot]->name
                : NULL;
        if (l && slot)
            sb_addf(b, "%s%s<-#%lld.%s", first ? " | in: " : " ", name, (long long)l->from_id,
                    slot);
        else if (l)
            sb_addf(b, "%s%s<-#%lld.%u", first ? " | in: " : " ", name, (long long)l->from_id,
                    l->from_slot);
        else
            sb_addf(b, "%s%s<-link%lld?", first ? " | in: " : " ", name, (long long)in->link);
        first = 0;
    }
    first = 1;
    for (size_t i = 0; i < n->n_outputs; i++) {
        const Comfyd__V1__NodeOutput *out = n->outputs[i];
        if (!out->n_links) continue;
        sb_addf(b, "%s%s->", first ? " | out: " : " ", out->name ? out->name : "?");
        first = 0;
        for (size_t k = 0; k < out->n_links; k++) {
            const Comfyd__V1__Link *l = ix_link(ix, out->links[k]);
            const Comfyd__V1__Node *to = l ? ix_node(ix, l->to_id) : NULL;
            const char *slot = to && l->to_slot < to->n_inputs && to->inputs[l->to_slot]->name
                                   ? to->inputs[l->to_slot]->name
                                   : NULL;
            if (k) sb_add(b, ",");
            if (l && slot)
                sb_addf(b, "#%lld.%s", (long long)l->to_id, slot);
            else if (l)
                sb_addf(b, "#%lld.%u", (long long)l->to_id, l->to_slot);
            else
                sb_addf(b, "link%lld?", (long long)out->links[k]);
        }
    }
}

static int id_wanted(const int64_t *ids, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id) return 1;
    return 0;
}

static char *graph_outline(const Comfyd__V1__Graph *g, const int64_t *ids, size_t n_ids)
{
    gindex ix;
    if (gindex_build(&ix, g) != 0) return NULL;
    yajl_gen gen = gen_new();
    if (!gen) {
        gindex_free(&ix);
        return NULL;
    }
    int bad = yajl_gen_map_open(gen) != yajl_gen_status_ok || g_kv(gen, "canvas_id", g->canvas_id);
    if (!bad && g->title && *g->title) bad = g_kv(gen, "title", g->title);
    bad = bad || g_str(gen, "revision") || g_u64(gen, g->revision) || g_str(gen, "stale") ||
          g_bool(gen, g->stale) || g_str(gen, "node_count") || g_u64(gen, g->n_nodes) ||
          g_str(gen, "link_count") || g_u64(gen, g->n_links) || g_str(gen, "nodes") ||
          yajl_gen_array_open(gen) != yajl_gen_status_ok;
    size_t shown = 0, left = 0, bytes = 0;
    for (size_t i = 0; !bad && i < ix.n_nodes; i++) {
        const Comfyd__V1__Node *n = ix.nodes[i];
        if (n_ids && !id_wanted(ids, n_ids, n->id)) continue;
        if (shown >= TOOLS_MAX_OUTLINE_NODES || bytes > TOOLS_MAX_RESULT - 4096) {
            left++;
            continue;
        }
        sbuf line = {0};
        outline_line(&line, &ix, n);
        if (line.oom) {
            free(line.p);
            bad = 1;
            break;
        }
        bad = g_strn(gen, line.p, line.n);
        bytes += line.n + 4;
        free(line.p);
        shown++;
    }
    bad = bad || yajl_gen_array_close(gen) != yajl_gen_status_ok;
    if (!bad && left) {
        char more[160];
        snprintf(more, sizeof more, "%zu more nodes not shown: ask for them with node_ids", left);
        bad = g_kv(gen, "more", more);
    }
    if (!bad && n_ids) {
        int any = 0;
        for (size_t i = 0; !bad && i < n_ids; i++) {
            if (ix_node(&ix, ids[i])) continue;
            if (!any) bad = g_str(gen, "not_found") || yajl_gen_array_open(gen);
            any = 1;
            bad = bad || g_i64(gen, ids[i]);
        }
        if (any && !bad) bad = yajl_gen_array_close(gen) != yajl_gen_status_ok;
    }
    if (!bad && g->stale)
        bad = g_kv(gen, "hint",
                   "No tab is attached: this mirror may be out of date and cannot be changed.");
    bad = bad || yajl_gen_map_close(gen) != yajl_gen_status_ok;
    gindex_free(&ix);
    return gen_done(gen, bad);
}

/* The Graph message restricted to the nodes asked for (all when none) and
 * the links touching them, as JSON; NULL when out of memory. */
static char *graph_full(const Comfyd__V1__Graph *g, const int64_t *ids, size_t n_ids)
{
    Comfyd__V1__Graph view = *g;
    Comfyd__V1__Node **nodes = malloc((g->n_nodes ? g->n_nodes : 1) * sizeof *nodes);
    Comfyd__V1__Link **links = malloc((g->n_links ? g->n_links : 1) * sizeof *links);
    char *out = NULL;
    if (!nodes || !links) goto done;
    view.n_nodes = 0;
    view.n_links = 0;
    for (size_t i = 0; i < g->n_nodes; i++)
        if (!n_ids || id_wanted(ids, n_ids, g->nodes[i]->id)) nodes[view.n_nodes++] = g->nodes[i];
    for (size_t i = 0; i < g->n_links; i++) {
        const Comfyd__V1__Link *l = g->links[i];
        if (!n_ids || id_wanted(ids, n_ids, l->from_id) || id_wanted(ids, n_ids, l->to_id))
            links[view.n_links++] = g->links[i];
    }
    view.nodes = nodes;
    view.links = links;
    size_t len = 0;
    jsonpb_encode(&view.base, NULL, &out, &len, NULL, 0);
done:
    free(nodes);
    free(links);
    return out;
}

static int tool_get_graph(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    tools *t = ud;
    static const char *const keys[] = {"canvas_id", "detail", "node_ids"};
    yajl_val v = parse_args(args, keys, 3, res);
    if (!v) return AGENT_TOOL_ERROR;
    const char *canvas_id, *detail;
    int64_t ids[TOOLS_MAX_NODE_IDS];
    size_t n_ids = 0;
    int rc = AGENT_TOOL_ERROR;
    Comfyd__V1__GetGraphResponse *resp = NULL;
    if (arg_str(v, "canvas_id", CANVAS_MAX_ID, &canvas_id, res) ||
        arg_str(v, "detail", 16, &detail, res))
        goto out;
    int full = strcmp(detail, "full") == 0;
    if (!full && *detail && strcmp(detail, "outline") != 0) {
        *res = err_json("INVALID_ARGUMENT", NULL, "detail: expected \"outline\" or \"full\"");
        goto out;
    }
    yajl_val idv = arg(v, "node_ids");
    if (idv) {
        if (!YAJL_IS_ARRAY(idv) || idv->u.array.len > TOOLS_MAX_NODE_IDS) {
            *res =
                err_json("INVALID_ARGUMENT", NULL,
                         "node_ids: expected an array of at most %d node ids", TOOLS_MAX_NODE_IDS);
            goto out;
        }
        for (size_t i = 0; i < idv->u.array.len; i++) {
            yajl_val e = idv->u.array.values[i];
            if (!YAJL_IS_INTEGER(e)) {
                *res = err_json("INVALID_ARGUMENT", NULL, "node_ids[%zu]: expected an integer", i);
                goto out;
            }
            ids[n_ids++] = YAJL_GET_INTEGER(e);
        }
    }
    Comfyd__V1__GetGraphRequest req = COMFYD__V1__GET_GRAPH_REQUEST__INIT;
    req.canvas_id = (char *)canvas_id;
    canvas_error e = {0};
    int crc = canvas_get_graph(t->cm, &req, &resp, &e);
    if (crc != CANVAS_OK) {
        *res = err_json(code_of(&e, crc), crc == CANVAS_EGRAPH ? hint_of(e.code) : NULL, "%s",
                        e.message);
        goto out;
    }
    const Comfyd__V1__Graph *g = resp->graph;
    if (!g) {
        *res = err_json("INTERNAL", NULL, "the canvas manager returned no graph");
        goto out;
    }
    if (full) {
        *res = graph_full(g, ids, n_ids);
        if (*res && strlen(*res) > TOOLS_MAX_RESULT) {
            size_t len = strlen(*res);
            free(*res);
            *res = err_json("TOO_LARGE", NULL,
                            "the full graph is %zu bytes; ask for fewer nodes with node_ids (the "
                            "outline lists them)",
                            len);
            goto out;
        }
    } else {
        *res = graph_outline(g, ids, n_ids);
    }
    if (!*res) {
        *res = err_json("INTERNAL", NULL, "out of memory");
        goto out;
    }
    /* A read of the whole canvas is what later patches are based on. */
    if (!n_ids) observe(t, ctx, g->canvas_id, g->revision, 1);
    rc = AGENT_TOOL_OK;
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
    static const char *const keys[] = {"query", "category", "limit"};
    yajl_val v = parse_args(args, keys, 3, res);
    if (!v) return AGENT_TOOL_ERROR;
    yajl_tree_free(v);
    Comfyd__V1__ListNodeTypesRequest *req = (Comfyd__V1__ListNodeTypesRequest *)decode(
        &comfyd__v1__list_node_types_request__descriptor, args, res);
    if (!req) return AGENT_TOOL_ERROR;
    uint32_t limit = req->limit ? req->limit : TOOLS_SEARCH_DEFAULT;
    if (limit > TOOLS_SEARCH_MAX) limit = TOOLS_SEARCH_MAX;
    req->limit = limit;
    Comfyd__V1__ListNodeTypesResponse *resp = NULL;
    canvas_error e = {0};
    int crc = list_types(t, ctx, req, &resp, &e);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    if (crc != CANVAS_OK) return fail(res, err_json(code_of(&e, crc), NULL, "%s", e.message));
    yajl_gen g = gen_new();
    int bad = !g;
    bad = bad || yajl_gen_map_open(g) != yajl_gen_status_ok || g_str(g, "total") ||
          g_u64(g, resp->total) || g_str(g, "node_types") ||
          yajl_gen_array_open(g) != yajl_gen_status_ok;
    for (size_t i = 0; !bad && i < resp->n_node_types; i++) {
        const Comfyd__V1__NodeType *nt = resp->node_types[i];
        bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "name", nt->name);
        if (!bad && nt->display_name && *nt->display_name && strcmp(nt->display_name, nt->name))
            bad = g_kv(g, "display_name", nt->display_name);
        bad = bad || g_kv(g, "category", nt->category);
        if (!bad && nt->description && *nt->description)
            bad = g_str(g, "description") || g_cut(g, nt->description, TOOLS_MAX_DESCRIPTION);
        bad = bad || g_str(g, "outputs") || yajl_gen_array_open(g) != yajl_gen_status_ok;
        for (size_t k = 0; !bad && k < nt->n_outputs; k++)
            bad = g_str(g, nt->outputs[k]->type);
        bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
        if (!bad && nt->output_node) bad = g_str(g, "output_node") || g_bool(g, 1);
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
    if (!bad && resp->total > resp->n_node_types) {
        char more[160];
        snprintf(more, sizeof more, "%u more matches: narrow the query or raise limit (at most %d)",
                 (unsigned)(resp->total - resp->n_node_types), TOOLS_SEARCH_MAX);
        bad = g_kv(g, "more", more);
    }
    bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    *res = g ? gen_done(g, bad) : NULL;
    if (!*res) return fail(res, err_json("INTERNAL", NULL, "out of memory"));
    return AGENT_TOOL_OK;
}

static int g_opt_num(yajl_gen g, const char *key, const Google__Protobuf__DoubleValue *d)
{
    if (!d) return 0;
    return g_str(g, key) || g_double(g, d->value);
}

static char *schema_json(const Comfyd__V1__NodeType *nt)
{
    yajl_gen g = gen_new();
    if (!g) return NULL;
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "name", nt->name) ||
              g_kv(g, "display_name", nt->display_name) || g_kv(g, "category", nt->category);
    if (!bad && nt->description && *nt->description)
        bad = g_str(g, "description") || g_cut(g, nt->description, TOOLS_MAX_DESCRIPTION);
    bad = bad || g_str(g, "output_node") || g_bool(g, nt->output_node) || g_str(g, "inputs") ||
          yajl_gen_array_open(g) != yajl_gen_status_ok;
    for (size_t i = 0; !bad && i < nt->n_inputs; i++) {
        const Comfyd__V1__InputSpec *in = nt->inputs[i];
        bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "name", in->name) ||
              g_kv(g, "type", in->type) || g_str(g, "required") || g_bool(g, in->required);
        if (!bad && in->is_widget) bad = g_str(g, "widget") || g_bool(g, 1);
        if (!bad && in->default_value) bad = g_str(g, "default") || g_value(g, in->default_value);
        bad = bad || g_opt_num(g, "min", in->min) || g_opt_num(g, "max", in->max) ||
              g_opt_num(g, "step", in->step);
        if (!bad && in->n_options) {
            bad = g_str(g, "options") || yajl_gen_array_open(g) != yajl_gen_status_ok;
            for (size_t k = 0; !bad && k < in->n_options && k < TOOLS_MAX_OPTIONS; k++)
                bad = g_str(g, in->options[k]);
            bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
            if (!bad && in->n_options > TOOLS_MAX_OPTIONS)
                bad = g_str(g, "options_total") || g_u64(g, in->n_options);
        }
        if (!bad && in->multiline) bad = g_str(g, "multiline") || g_bool(g, 1);
        if (!bad && in->tooltip && *in->tooltip)
            bad = g_str(g, "tooltip") || g_cut(g, in->tooltip, TOOLS_MAX_DESCRIPTION);
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok || g_str(g, "outputs") ||
          yajl_gen_array_open(g) != yajl_gen_status_ok;
    for (size_t i = 0; !bad && i < nt->n_outputs; i++) {
        const Comfyd__V1__OutputSpec *o = nt->outputs[i];
        bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_str(g, "slot") || g_u64(g, i) ||
              g_kv(g, "name", o->name) || g_kv(g, "type", o->type);
        if (!bad && o->is_list) bad = g_str(g, "is_list") || g_bool(g, 1);
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok ||
          yajl_gen_map_close(g) != yajl_gen_status_ok;
    return gen_done(g, bad);
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
    yajl_gen g = gen_new();
    char *out = NULL;
    if (g) {
        char msg[NODEINFO_MAX_NAME + 64];
        snprintf(msg, sizeof msg, "unknown node type '%s'", name);
        int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "error", msg) ||
                  g_kv(g, "code", "UNKNOWN_NODE_TYPE") || g_str(g, "suggestions") ||
                  yajl_gen_array_open(g) != yajl_gen_status_ok;
        for (size_t i = 0; !bad && i < n; i++)
            bad = g_str(g, sugg[i]);
        bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok ||
              g_kv(g, "hint", "Names are exact and case-sensitive; use search_node_types.") ||
              yajl_gen_map_close(g) != yajl_gen_status_ok;
        out = gen_done(g, bad);
    }
    if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
    nodeinfo_unref(ni);
    return out;
}

static int tool_schema(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    tools *t = ud;
    static const char *const keys[] = {"node_type"};
    yajl_val v = parse_args(args, keys, 1, res);
    if (!v) return AGENT_TOOL_ERROR;
    const char *name;
    int rc = AGENT_TOOL_ERROR;
    Comfyd__V1__ListNodeTypesResponse *resp = NULL;
    if (arg_str(v, "node_type", NODEINFO_MAX_NAME, &name, res)) goto out;
    if (!*name) {
        *res = err_json("INVALID_ARGUMENT", NULL, "node_type is required");
        goto out;
    }
    Comfyd__V1__ListNodeTypesRequest req = COMFYD__V1__LIST_NODE_TYPES_REQUEST__INIT;
    char *names[1] = {(char *)name};
    req.names = names;
    req.n_names = 1;
    canvas_error e = {0};
    int crc = list_types(t, ctx, &req, &resp, &e);
    if (crc != CANVAS_OK) {
        *res = err_json(code_of(&e, crc), NULL, "%s", e.message);
        goto out;
    }
    if (resp->n_node_types == 0) {
        *res = unknown_type(t, ctx, name);
        if (!*res) *res = err_json("UNKNOWN_NODE_TYPE", NULL, "unknown node type");
        goto out;
    }
    *res = schema_json(resp->node_types[0]);
    if (!*res) {
        *res = err_json("INTERNAL", NULL, "out of memory");
        goto out;
    }
    rc = AGENT_TOOL_OK;
out:
    if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
    yajl_tree_free(v);
    return rc;
}

/* ---- patches ---- */

static char *patch_json(const Comfyd__V1__ExecuteBatchResponse *r, int validate_only,
                        const char *hint)
{
    yajl_gen g = gen_new();
    if (!g) return NULL;
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_str(g, "ok") || g_bool(g, r->ok);
    if (!bad && validate_only) bad = g_str(g, "validate_only") || g_bool(g, 1);
    bad =
        bad || g_kv(g, "canvas_id", r->canvas_id) || g_str(g, "revision") || g_u64(g, r->revision);
    if (!bad && r->replayed) bad = g_str(g, "replayed") || g_bool(g, 1);
    if (!bad && r->n_refs) {
        bad = g_str(g, "refs") || yajl_gen_map_open(g) != yajl_gen_status_ok;
        for (size_t i = 0; !bad && i < r->n_refs; i++)
            bad = g_str(g, r->refs[i]->key) || g_i64(g, r->refs[i]->value);
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    /* Results of commands that did something; errors are listed below. */
    int any = 0;
    for (size_t i = 0; !bad && i < r->n_results; i++) {
        const Comfyd__V1__CommandResult *c = r->results[i];
        if (!c->ok || (!c->node_id && !c->link_id && !c->value)) continue;
        if (!any) bad = g_str(g, "results") || yajl_gen_array_open(g) != yajl_gen_status_ok;
        any = 1;
        bad = bad || yajl_gen_map_open(g) != yajl_gen_status_ok || g_str(g, "index") ||
              g_i64(g, c->index);
        if (!bad && c->node_id) bad = g_str(g, "node_id") || g_i64(g, c->node_id);
        if (!bad && c->link_id) bad = g_str(g, "link_id") || g_i64(g, c->link_id);
        if (!bad && c->value) bad = g_str(g, "value") || g_value(g, c->value);
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    if (any && !bad) bad = yajl_gen_array_close(g) != yajl_gen_status_ok;
    if (!bad && r->n_errors) {
        bad = g_str(g, "errors") || yajl_gen_array_open(g) != yajl_gen_status_ok;
        for (size_t i = 0; !bad && i < r->n_errors; i++) {
            const Comfyd__V1__GraphError *e = r->errors[i];
            bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_str(g, "index") ||
                  g_i64(g, e->index) || g_kv(g, "code", canvas_code_name(e->code)) ||
                  g_kv(g, "message", e->message);
            if (!bad && e->n_suggestions) {
                bad = g_str(g, "suggestions") || yajl_gen_array_open(g) != yajl_gen_status_ok;
                for (size_t k = 0; !bad && k < e->n_suggestions; k++)
                    bad = g_str(g, e->suggestions[k]);
                bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
            }
            bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
        }
        bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
    }
    if (!bad && hint) bad = g_kv(g, "hint", hint);
    bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    return gen_done(g, bad);
}

/* The first request-level error code of a response (index -1), or the
 * first error's. */
static Comfyd__V1__GraphErrorCode first_code(const Comfyd__V1__ExecuteBatchResponse *r)
{
    for (size_t i = 0; i < r->n_errors; i++)
        if (r->errors[i]->index < 0) return r->errors[i]->code;
    return r->n_errors ? r->errors[0]->code : 0;
}

static int tool_patch(tools *t, const agent_call_ctx *ctx, const char *args, int validate_only,
                      char **res)
{
    static const char *const keys[] = {"commands", "base_revision", "mode", "canvas_id"};
    yajl_val v = parse_args(args, keys, 4, res);
    if (!v) return AGENT_TOOL_ERROR;
    yajl_tree_free(v);
    Comfyd__V1__ExecuteBatchRequest *req = (Comfyd__V1__ExecuteBatchRequest *)decode(
        &comfyd__v1__execute_batch_request__descriptor, args, res);
    if (!req) return AGENT_TOOL_ERROR;
    if (req->n_commands == 0) {
        protobuf_c_message_free_unpacked(&req->base, NULL);
        return fail(res, err_json("INVALID_ARGUMENT", NULL,
                                  "commands: give at least one command, e.g. {\"type\": "
                                  "\"set_widget\", \"node_id\": 3, \"name\": \"steps\", "
                                  "\"value\": 20}"));
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
            return fail(res, err_json("INTERNAL", NULL, "out of memory"));
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
    int has_base = req->base_revision != NULL;
    uint64_t base = has_base ? req->base_revision->value : 0;

    outcome o;
    if (submit_wait(t, ctx, &req->base, &o, res) != 0) return AGENT_TOOL_ERROR;
    const Comfyd__V1__ExecuteBatchResponse *r = (const Comfyd__V1__ExecuteBatchResponse *)o.resp;
    const char *hint = NULL;
    char stale[320];
    if (!r->ok) {
        Comfyd__V1__GraphErrorCode code = first_code(r);
        if (code == COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_STALE_REVISION) {
            snprintf(stale, sizeof stale,
                     "The canvas changed after the state this patch was built on (base revision "
                     "%llu, now %llu). Nothing was %s. Call get_graph, rebuild the patch on the "
                     "current graph, then send it again.",
                     (unsigned long long)base, (unsigned long long)r->revision,
                     validate_only ? "checked" : "applied");
            hint = stale;
        } else if (hint_of(code)) {
            hint = hint_of(code);
        } else if (validate_only) {
            hint = "Fix every error (see the suggestions) and validate again.";
        } else {
            hint = "Fix every error (see the suggestions) and send the whole patch again; an "
                   "atomic patch applies nothing when a command is invalid.";
        }
    }
    *res = patch_json(r, validate_only, hint);
    /* The skill knows the state after its own patch; the session's mark
     * moves only when it also knew the state before. */
    if (!validate_only && r->ok && r->canvas_id)
        observe(t, ctx, r->canvas_id, r->revision, has_base);
    /* validate_patch reports errors as its result; apply_patch fails. */
    int rc = r->ok || validate_only ? AGENT_TOOL_OK : AGENT_TOOL_ERROR;
    protobuf_c_message_free_unpacked(o.resp, NULL);
    if (!*res) return fail(res, err_json("INTERNAL", NULL, "out of memory"));
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
    static const char *const keys[] = {"canvas_id"};
    yajl_val v = parse_args(args, keys, 1, res);
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
    outcome o;
    if (submit_wait(t, ctx, &req->base, &o, res) != 0) return AGENT_TOOL_ERROR;
    size_t len;
    if (jsonpb_encode(o.resp, NULL, res, &len, NULL, 0) != JSONPB_OK) *res = NULL;
    protobuf_c_message_free_unpacked(o.resp, NULL);
    if (!*res) return fail(res, err_json("INTERNAL", NULL, "out of memory"));
    return AGENT_TOOL_OK;
}

/* ---- the table ---- */

#define NODE_REF                                                                                   \
    "{\"type\":[\"integer\",\"string\"],\"description\":\"A node id on the canvas, or the ref of " \
    "a create_node earlier in this patch.\"}"
#define SLOT_REF                                                                                   \
    "{\"type\":[\"integer\",\"string\"],\"description\":\"A slot index (0-based) or name.\"}"
#define VALUE "{\"type\":[\"string\",\"number\",\"integer\",\"boolean\"]}"
#define CMD(name, props, req)                                                                      \
    "{\"type\":\"object\",\"properties\":{\"type\":{\"const\":\"" name "\"}" props                 \
    "},\"required\":[\"type\"" req "],\"additionalProperties\":false}"

#define CMD_CREATE                                                                                 \
    CMD("create_node",                                                                             \
        ",\"node_type\":{\"type\":\"string\",\"description\":\"Exact class name, e.g. "            \
        "KSampler.\"},\"ref\":{\"type\":\"string\",\"description\":\"A name later commands of "    \
        "this patch use instead of the new node's id.\"},\"title\":{\"type\":\"string\"},"         \
        "\"x\":{\"type\":\"number\"},\"y\":{\"type\":\"number\"},\"widgets\":{\"type\":"           \
        "\"object\",\"description\":\"Widget name -> value.\",\"additionalProperties\":" VALUE     \
        "}",                                                                                       \
        ",\"node_type\"")
#define CMD_REMOVE CMD("remove_node", ",\"node_id\":" NODE_REF, ",\"node_id\"")
#define CMD_CONNECT                                                                                \
    CMD("connect",                                                                                 \
        ",\"from_id\":" NODE_REF ",\"from_slot\":" SLOT_REF ",\"to_id\":" NODE_REF                 \
        ",\"to_slot\":" SLOT_REF,                                                                  \
        ",\"from_id\",\"from_slot\",\"to_id\",\"to_slot\"")
#define CMD_DISCONNECT                                                                             \
    CMD("disconnect", ",\"node_id\":" NODE_REF ",\"slot\":" SLOT_REF, ",\"node_id\",\"slot\"")
#define CMD_SET                                                                                    \
    CMD("set_widget", ",\"node_id\":" NODE_REF ",\"name\":{\"type\":\"string\"},\"value\":" VALUE, \
        ",\"node_id\",\"name\",\"value\"")
#define CMD_MOVE                                                                                   \
    CMD("move_node",                                                                               \
        ",\"node_id\":" NODE_REF ",\"x\":{\"type\":\"number\"},\"y\":{\"type\":\"number\"}",       \
        ",\"node_id\",\"x\",\"y\"")
#define CMD_CLEAR CMD("clear_graph", "", "")
#define COMMANDS                                                                                   \
    "{\"type\":\"array\",\"minItems\":1,\"maxItems\":1000,\"description\":\"Graph commands, "      \
    "applied in order as one step.\",\"items\":{\"anyOf\":[" CMD_CREATE "," CMD_REMOVE             \
    "," CMD_CONNECT "," CMD_DISCONNECT "," CMD_SET "," CMD_MOVE "," CMD_CLEAR "]}}"

#define CANVAS_ID_PROP                                                                             \
    "\"canvas_id\":{\"type\":\"string\",\"description\":\"The canvas; omit it for the one you "    \
    "last read (or the focused one).\"}"

#define PATCH_PARAMS                                                                               \
    "{\"type\":\"object\",\"properties\":{\"commands\":" COMMANDS                                  \
    ",\"base_revision\":{\"type\":\"integer\",\"minimum\":0,\"description\":\"Refuse the patch "   \
    "when the canvas is no longer at this revision. Default: the revision of your last "           \
    "get_graph in this turn.\"},\"mode\":{\"enum\":[\"atomic\",\"partial\"],\"description\":"      \
    "\"atomic (default): nothing is applied when any command is invalid; partial: the valid "      \
    "ones are.\"}," CANVAS_ID_PROP "},\"required\":[\"commands\"],\"additionalProperties\":false}"

static const agent_tool table[] = {
    {"get_graph",
     "Reads the live canvas. detail \"outline\" (default): one line per node with id, type, "
     "title, widget values and links (in: input<-#node.output, out: output->#node.input), plus "
     "the revision and whether the mirror is stale. detail \"full\": every field of the nodes "
     "asked for in node_ids (all when omitted).",
     "{\"type\":\"object\",\"properties\":{" CANVAS_ID_PROP
     ",\"detail\":{\"enum\":[\"outline\",\"full\"]},\"node_ids\":{\"type\":\"array\",\"items\":{"
     "\"type\":\"integer\"},\"maxItems\":200,\"description\":\"Only these nodes.\"}},"
     "\"additionalProperties\":false}",
     1, tool_get_graph},
    {"search_node_types",
     "Finds node classes whose name, display name or category contains query (case-insensitive), "
     "best matches first, optionally within a category.",
     "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\"},\"category\":{"
     "\"type\":\"string\",\"description\":\"e.g. sampling, loaders, image/upscaling\"},\"limit\":{"
     "\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"description\":\"Default 20.\"}},"
     "\"required\":[\"query\"],\"additionalProperties\":false}",
     1, tool_search},
    {"get_node_schema",
     "One node class: its inputs (type, required, widget default, min, max, step, allowed "
     "options) and its outputs with their slot indexes.",
     "{\"type\":\"object\",\"properties\":{\"node_type\":{\"type\":\"string\",\"description\":"
     "\"Exact class name, e.g. KSampler.\"}},\"required\":[\"node_type\"],"
     "\"additionalProperties\":false}",
     1, tool_schema},
    {"validate_patch",
     "Checks a patch against the canvas and the node schema without changing anything and "
     "returns every error at once, with suggestions for misspelled names.",
     PATCH_PARAMS, 1, tool_validate},
    {"apply_patch",
     "Applies a patch to the live canvas as one undoable step and returns what the tab "
     "confirmed: node ids for refs, link ids, values read back and the new revision. Refused "
     "with STALE_REVISION when the canvas changed since you read it.",
     PATCH_PARAMS, 0, tool_apply},
    {"queue", "Queues the canvas's workflow in ComfyUI and returns the prompt id.",
     "{\"type\":\"object\",\"properties\":{" CANVAS_ID_PROP "},\"additionalProperties\":false}", 0,
     tool_queue},
};

const agent_tool *tools_table(size_t *n)
{
    if (n) *n = sizeof table / sizeof table[0];
    return table;
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
    sbuf b = {0};
    if (rc != CANVAS_OK) {
        if (rc == CANVAS_EGRAPH &&
            e.code == COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NO_LIVE_CANVAS)
            sb_add(&b, "No ComfyUI canvas is attached: the graph tools will answer NO_LIVE_CANVAS "
                       "until the user opens a workflow tab.");
        else
            sb_addf(&b, "The canvas cannot be reached without canvas_id: %s", e.message);
        goto done;
    }
    const Comfyd__V1__Graph *g = gr->graph;
    uint64_t now = g->revision;
    const char *cid = g->canvas_id ? g->canvas_id : "";
    sb_addf(&b, "Canvas \"%.128s\"", cid);
    if (g->title && *g->title) sb_addf(&b, " (%.200s)", g->title);
    sb_addf(&b, " is at revision %llu with %zu node%s and %zu link%s.", (unsigned long long)now,
            g->n_nodes, g->n_nodes == 1 ? "" : "s", g->n_links, g->n_links == 1 ? "" : "s");
    if (g->stale) sb_add(&b, " No tab is attached: it cannot be changed until one is.");
    if (!known || strcmp(canvas, cid) != 0) {
        sb_add(&b, " Call get_graph to see it.");
    } else if (since >= now) {
        sb_add(&b, " The user did not change it since you last saw it.");
    } else {
        Comfyd__V1__GetDiffRequest dreq = COMFYD__V1__GET_DIFF_REQUEST__INIT;
        dreq.canvas_id = (char *)cid;
        dreq.since_revision = since;
        Comfyd__V1__GetDiffResponse *d = NULL;
        if (canvas_get_diff(t->cm, &dreq, &d, &e) != CANVAS_OK) {
            sb_add(&b, " Call get_graph to see it.");
        } else if (d->truncated) {
            sb_addf(&b,
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
                sb_add(&b, " The user did not change it since you last saw it.");
            } else {
                sb_addf(&b, "\nSince you last saw it (revision %llu) the user",
                        (unsigned long long)since);
                if (load) sb_add(&b, " loaded or reloaded the workflow");
                if (load && user) sb_add(&b, " and");
                if (user)
                    sb_addf(&b, " made %zu change%s:", user, user == 1 ? "" : "s");
                else
                    sb_add(&b, ".");
                for (size_t i = 0; i < d->n_ops && !b.oom; i++) {
                    const Comfyd__V1__GraphOp *op = d->ops[i];
                    if (op->origin != COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER) continue;
                    if (listed == TOOLS_NOTE_MAX_OPS || b.n + 240 > TOOLS_NOTE_MAX_BYTES - 120) {
                        sb_addf(&b, "\n- ... and %zu more", user - listed);
                        break;
                    }
                    const char *s = op->summary ? op->summary : "";
                    sb_addf(&b, "\n- %.*s", (int)utf8_cut(s, strlen(s), 200), s);
                    listed++;
                }
                sb_add(&b, "\nTake these edits into account; call get_graph for details.");
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
    if (b.p && b.n > TOOLS_NOTE_MAX_BYTES) b.p[utf8_cut(b.p, b.n, TOOLS_NOTE_MAX_BYTES)] = 0;
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

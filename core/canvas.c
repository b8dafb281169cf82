#include "canvas.h"
#include "jsontree.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_gen.h>

#include "canvas_idem.h"
#include "graph_rebase.h"
#include "log.h"
#include "provenance.h"
#include "store.h"
#include "text.h"

#define MOD "canvas"

/* What an attach without a workflow starts from: an empty canvas. */
static const char empty_workflow[] =
    "{\"last_node_id\":0,\"last_link_id\":0,\"nodes\":[],\"links\":[],\"version\":0.4}";

/* ---- small helpers ---- */

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) abort();
    return p;
}

static char *xstrdup(const char *s)
{
    return text_dup(s ? s : "");
}

static char *xvprintf(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) abort();
    return s;
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvprintf(fmt, ap);
    va_end(ap);
    return s;
}

static int fail(canvas_error *err, int rc, Comfyd__V1__GraphErrorCode code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(canvas_error *err, int rc, Comfyd__V1__GraphErrorCode code, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return rc;
}

#define EINVALF(err, ...) fail(err, CANVAS_EINVAL, 0, __VA_ARGS__)
#define EGRAPHF(err, code, ...) fail(err, CANVAS_EGRAPH, code, __VA_ARGS__)

#define GE(x) COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_##x

const char *canvas_strerror(int err)
{
    switch (err) {
    case CANVAS_OK:
        return "ok";
    case CANVAS_EINVAL:
        return "invalid request";
    case CANVAS_EFULL:
        return "limit reached";
    case CANVAS_ENOMEM:
        return "out of memory";
    case CANVAS_ESHUTDOWN:
        return "server shutting down";
    case CANVAS_EGRAPH:
        return "graph error";
    case CANVAS_EEXIST:
        return "already exists";
    case CANVAS_EIO:
        return "i/o error";
    }
    return "unknown error";
}

const char *canvas_code_name(Comfyd__V1__GraphErrorCode code)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&comfyd__v1__graph_error_code__descriptor, code);
    static const char prefix[] = "GRAPH_ERROR_CODE_";
    if (!v) return "UNSPECIFIED";
    if (strncmp(v->name, prefix, sizeof prefix - 1) == 0) return v->name + sizeof prefix - 1;
    return v->name;
}

/* A string field from a peer: at most max bytes of UTF-8. */
static int check_str(const char *s, size_t max, canvas_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int check_str(const char *s, size_t max, canvas_error *err, const char *fmt, ...)
{
    if (!s) return CANVAS_OK;
    size_t len = strlen(s);
    const char *why = NULL;
    if (len > max)
        why = "is too long";
    else if (!text_utf8_valid(s, len))
        why = "is not valid UTF-8";
    if (!why) return CANVAS_OK;
    char field[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(field, sizeof field, fmt, ap);
    va_end(ap);
    if (len > max) return EINVALF(err, "%s %s (at most %zu bytes)", field, why, max);
    return EINVALF(err, "%s %s", field, why);
}

/* canvas_id: optional unless required; printable UTF-8. */
static int check_canvas_id(const char *id, int required, canvas_error *err)
{
    size_t len = id ? strlen(id) : 0;
    if (!len) return required ? EINVALF(err, "canvas_id is required") : CANVAS_OK;
    if (check_str(id, CANVAS_MAX_ID, err, "canvas_id")) return CANVAS_EINVAL;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f)
            return EINVALF(err, "canvas_id holds a control character");
    return CANVAS_OK;
}

static int check_key(const char *key, canvas_error *err)
{
    return check_str(key, CANVAS_MAX_KEY, err, "idempotency_key");
}

/* Copies a tab's text into a caller-facing message: cut, and replaced
 * when it is not UTF-8. */
static char *tab_text(const char *s)
{
    if (!s || !*s) return NULL;
    size_t full = strlen(s), len = full;
    if (len > CANVAS_MAX_TAB_ERROR) len = CANVAS_MAX_TAB_ERROR;
    /* A cut backs off to a character boundary before the bytes are judged. */
    while (len < full && len && ((unsigned char)s[len] & 0xc0) == 0x80)
        len--;
    if (!text_utf8_valid(s, len)) return xstrdup("(the tab's message is not valid UTF-8)");
    return text_dupn(s, len);
}

/* Deep copy of a message through its wire form (malloc'd, freed with
 * protobuf_c_message_free_unpacked). */
static ProtobufCMessage *pb_dup(const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = xcalloc(1, len);
    protobuf_c_message_pack(m, buf);
    ProtobufCMessage *c = protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
    free(buf);
    if (!c) abort();
    return c;
}

static void pb_free(void *m)
{
    if (m) protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- types ---- */

typedef enum { JOB_PATCH, JOB_QUEUE, JOB_LOAD } job_kind;

typedef struct canvas canvas;
typedef struct job job;

struct job {
    job *next;
    job_kind kind;
    req_kind rk;
    int single; /* Execute: answered with an ExecuteResponse */
    canvas_done_fn done;
    void *ud;
    idem *idem;
    canvas *cv;             /* reference, once resolved */
    const char *req_canvas; /* borrowed from the request */
    int64_t deadline;       /* monotonic ms */
    int64_t deadline_wall;  /* epoch ms, told to the tab */
    uint32_t timeout_ms;
    uint64_t request_id;
    int sent;        /* the tab got it: the outcome is kept for retries */
    provn_actor who; /* who asked (provenance of what it changes) */
    /* Patches. */
    const Comfyd__V1__Command *const *cmds;
    const Comfyd__V1__Command *one[1];
    size_t n;
    int has_base;
    uint64_t base;
    int stale_reject;      /* on_stale REJECT: no rebase */
    uint64_t rebased_from; /* the base it was rebased from (0: not rebased) */
    Comfyd__V1__BatchMode mode;
    graph_check check;
    int checked;
    size_t *sent_idx; /* original index of each command sent */
    size_t n_sent;
    /* Queue. */
    uint32_t batch_count;
    int prompt_only; /* canvas_queue_prompt: the tab converts, the core posts */
    char *prompt_json, *workflow_json;
    /* Load. */
    const char *json;
    size_t json_len;
    char *json_owned;
    int undo_step; /* the tab applies it as one undo step (LoadRequest.undo_step) */
    /* Outcome. */
    int err;
    Comfyd__V1__GraphErrorCode code;
    char *msg;
    ProtobufCMessage *resp;
};

typedef struct {
    job *head, *tail;
} jlist;

struct canvas {
    canvas_mgr *m;
    atomic_int refs;
    char *id;
    pthread_mutex_t mu;
    /* Under mu. */
    char *title;
    graph *g;
    nodeinfo *tab_ni;          /* the node types the tab sent, or NULL */
    const canvas_tab_ops *ops; /* non-NULL while attached */
    void *ud;
    uint64_t tab_id;
    uint64_t tab_revision;
    job *inflight;
    job *q_head, *q_tail;
    size_t n_queued;
    /* Provenance (provenance.h): the records, who the request last sent
     * to the tab was from (its request_id), and the request_id of the
     * report being handled (0: none, e.g. a user edit or an attach). */
    provn *provn;
    provn_actor sent_who;
    uint64_t sent_rid, report_rid;
    int closed; /* shut down */
    /* Under m->mu (attached and att_id are written with mu held too). */
    int attached;
    uint64_t att_id;
    int focused;
    uint64_t focus_seq;
    int64_t focused_at_ms;
    int64_t last_used;
};

struct canvas_mgr {
    canvas_mgr_opts o;
    pthread_mutex_t mu;
    canvas **cvs;
    size_t n_cvs;
    uint64_t focus_counter;
    int shutdown;
    atomic_uint_fast64_t rev_high; /* above every revision handed out */
    /* Revisions up to this one may be handed out: the store holds it (see
     * rev_reserve). Written under rev_mu, read without. */
    atomic_uint_fast64_t rev_reserved;
    pthread_mutex_t rev_mu;
    atomic_uint_fast64_t next_tab_id;
    atomic_uint_fast64_t next_request_id;
    /* Schemas. */
    pthread_mutex_t schema_mu;
    nodeinfo *configured;
    nodeinfo *uni;
    pthread_mutex_t union_mu; /* serialises rebuilding the union */
    char *uni_json;
    size_t uni_len;
    canvas_idem *idem; /* the idempotency keys */
    /* Worker. */
    pthread_mutex_t wmu;
    pthread_cond_t wcv;
    int wstop;
    int64_t next_wake;
    uint64_t *gone;
    size_t n_gone, cap_gone;
    pthread_t worker;
    int worker_started;
};

static int64_t mono(void)
{
    return text_mono_ms();
}

/* Revisions are persisted as a reservation rather than per canvas: before
 * a revision above the reservation is handed out, the store's counter is
 * raised to it plus CANVAS_REV_BLOCK (one durable write per block, not one
 * per edit), and a restarted manager starts every canvas above the stored
 * counter. So revisions never go back across a restart or a crash, and a
 * base_revision read before one can never equal a revision handed out
 * after it (the tab's re-attachment is already above it). A store that
 * cannot be written is logged and the revision handed out anyway: the tab
 * is authoritative and its state must be committed. */
static void rev_reserve(canvas_mgr *m, uint64_t rev)
{
    if (!m->o.db || rev <= atomic_load(&m->rev_reserved)) return;
    pthread_mutex_lock(&m->rev_mu);
    if (rev > atomic_load(&m->rev_reserved)) {
        uint64_t upto = rev + CANVAS_REV_BLOCK;
        int rc = store_counter_raise(m->o.db, CANVAS_REV_COUNTER, upto);
        if (rc == STORE_OK)
            atomic_store(&m->rev_reserved, upto);
        else
            LOG_E(MOD, "cannot reserve canvas revisions up to %llu: %s", (unsigned long long)upto,
                  store_strerror(rc));
    }
    pthread_mutex_unlock(&m->rev_mu);
}

static void note_rev(canvas_mgr *m, uint64_t rev)
{
    uint_fast64_t cur = atomic_load(&m->rev_high);
    while (cur < rev && !atomic_compare_exchange_weak(&m->rev_high, &cur, rev)) {
    }
}

/* Several cores on one PostgreSQL database reserve revisions from the same
 * counter: a tab attaching here may come from another core (a reload
 * through another bridge, its core gone), whose revisions of it are all
 * below that core's reservation. Starting above the counter as it is now
 * keeps the canvas's revisions rising across the move, as across a
 * restart. One query per attachment; SQLite's single core needs none. */
static void rev_catch_up(canvas_mgr *m)
{
    uint64_t reserved = 0;
    if (!m->o.db || strcmp(store_engine(m->o.db), "postgres") != 0 ||
        store_counter_get(m->o.db, CANVAS_REV_COUNTER, &reserved) != STORE_OK)
        return;
    note_rev(m, reserved);
}

/* ---- schemas ---- */

void canvas_mgr_set_schema(canvas_mgr *m, nodeinfo *ni)
{
    nodeinfo *n = ni ? nodeinfo_ref(ni) : NULL;
    pthread_mutex_lock(&m->schema_mu);
    nodeinfo *old = m->configured;
    m->configured = n;
    pthread_mutex_unlock(&m->schema_mu);
    nodeinfo_unref(old);
}

nodeinfo *canvas_mgr_schema(canvas_mgr *m)
{
    pthread_mutex_lock(&m->schema_mu);
    nodeinfo *ni = m->configured ? m->configured : m->uni;
    if (ni) nodeinfo_ref(ni);
    pthread_mutex_unlock(&m->schema_mu);
    return ni;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The node types of both documents in one /object_info object: every type
 * of newer, then those of older that newer lacks. NULL when either is not
 * an object or the result exceeds NODEINFO_MAX_JSON_BYTES. */
static char *merge_object_info(const char *older, size_t older_len, const char *newer,
                               size_t newer_len, size_t *out_len)
{
    nodeinfo_json_limits lim = {NODEINFO_MAX_JSON_BYTES, NODEINFO_MAX_DEPTH, NODEINFO_MAX_VALUES};
    yajl_val a = NULL, b = NULL;
    char *out = NULL;
    const char **keys = NULL;
    yajl_gen g = NULL;
    if (nodeinfo_json_parse(older, older_len, &lim, &a, NULL, 0) ||
        nodeinfo_json_parse(newer, newer_len, &lim, &b, NULL, 0) || !YAJL_IS_OBJECT(a) ||
        !YAJL_IS_OBJECT(b))
        goto done;
    size_t nb = b->u.object.len;
    keys = xcalloc(nb, sizeof *keys);
    for (size_t i = 0; i < nb; i++)
        keys[i] = b->u.object.keys[i];
    qsort(keys, nb, sizeof *keys, cmp_str);
    if (!(g = yajl_gen_alloc(NULL))) goto done;
    if (yajl_gen_map_open(g)) goto done;
    for (size_t i = 0; i < nb; i++) {
        const char *k = b->u.object.keys[i];
        if (yajl_gen_string(g, (const unsigned char *)k, strlen(k)) ||
            jsontree_gen(g, b->u.object.values[i]))
            goto done;
    }
    for (size_t i = 0; i < a->u.object.len; i++) {
        const char *k = a->u.object.keys[i];
        if (bsearch(&k, keys, nb, sizeof *keys, cmp_str)) continue;
        if (yajl_gen_string(g, (const unsigned char *)k, strlen(k)) ||
            jsontree_gen(g, a->u.object.values[i]))
            goto done;
    }
    if (yajl_gen_map_close(g)) goto done;
    const unsigned char *buf;
    size_t len;
    if (yajl_gen_get_buf(g, &buf, &len) || len > NODEINFO_MAX_JSON_BYTES) goto done;
    out = text_dupn((const char *)buf, len);
    *out_len = len;
done:
    if (g) yajl_gen_free(g);
    free(keys);
    yajl_tree_free(a);
    yajl_tree_free(b);
    return out;
}

/* Parses a tab's object_info into *out (a reference) and folds it into the
 * union of the tabs' node types. A document identical to the union is
 * parsed once (all tabs of one ComfyUI send the same). */
static int tab_schema(canvas_mgr *m, const char *json, size_t len, nodeinfo **out,
                      canvas_error *err)
{
    *out = NULL;
    pthread_mutex_lock(&m->union_mu);
    if (m->uni_json && len == m->uni_len && memcmp(json, m->uni_json, len) == 0) {
        pthread_mutex_lock(&m->schema_mu);
        *out = nodeinfo_ref(m->uni);
        pthread_mutex_unlock(&m->schema_mu);
        pthread_mutex_unlock(&m->union_mu);
        return CANVAS_OK;
    }
    char e[256] = "";
    nodeinfo *ni = NULL;
    int rc = nodeinfo_create(&ni, json, len, NODEINFO_FRONTEND_TYPES, e, sizeof e);
    if (rc != NODEINFO_OK) {
        pthread_mutex_unlock(&m->union_mu);
        if (rc == NODEINFO_ENOMEM) return fail(err, CANVAS_ENOMEM, 0, "out of memory");
        return EINVALF(err, "object_info_json: %s", e);
    }
    /* Once per new document: what of it was repaired or left out. */
    if (nodeinfo_oddities(ni))
        LOG_I(MOD, "a tab's object_info: %zu node type(s) kept with odd shapes, the first: %s",
              nodeinfo_oddities(ni), nodeinfo_odd_reason(ni));
    if (nodeinfo_skipped(ni))
        LOG_W(MOD, "a tab's object_info: %zu node type(s) skipped, the first because %s",
              nodeinfo_skipped(ni), nodeinfo_skip_reason(ni));
    char *uj = NULL;
    size_t ulen = 0;
    nodeinfo *uni = NULL;
    if (m->uni_json && (uj = merge_object_info(m->uni_json, m->uni_len, json, len, &ulen)) &&
        nodeinfo_create(&uni, uj, ulen, NODEINFO_FRONTEND_TYPES, NULL, 0) != NODEINFO_OK) {
        free(uj);
        uj = NULL;
    }
    if (!uni) {
        /* The first tab, or a union that cannot be built: the newest wins. */
        uj = text_dupn(json, len);
        ulen = len;
        uni = nodeinfo_ref(ni);
    }
    free(m->uni_json);
    m->uni_json = uj;
    m->uni_len = ulen;
    pthread_mutex_lock(&m->schema_mu);
    nodeinfo *old = m->uni;
    m->uni = uni;
    pthread_mutex_unlock(&m->schema_mu);
    pthread_mutex_unlock(&m->union_mu);
    nodeinfo_unref(old);
    LOG_D(MOD, "union of the tabs' node types: %zu", nodeinfo_count(uni));
    *out = ni;
    return CANVAS_OK;
}

/* The schema requests on cv use now (a reference; may be NULL). */
static nodeinfo *cv_schema(canvas *cv)
{
    return cv->tab_ni ? nodeinfo_ref(cv->tab_ni) : canvas_mgr_schema(cv->m);
}

/* Re-reads the mirror when the schema under it changed (see canvas.h). */
static void cv_sync_schema(canvas *cv, nodeinfo *ni)
{
    if (graph_schema(cv->g) == ni) return;
    size_t len;
    const char *json = graph_workflow_json(cv->g, &len);
    graph *g2 = NULL;
    char e[256] = "";
    if (graph_parse_workflow(&g2, json, len, ni, graph_revision(cv->g), e, sizeof e)) {
        LOG_W(MOD, "canvas %s: cannot re-read the mirror with new node types: %s", LOG_ESC(cv->id),
              e);
        return;
    }
    graph_destroy(cv->g);
    cv->g = g2;
}

/* ---- provenance ---- */

/* Who made a commit of this origin on cv: the person at the tab, the
 * request whose tab report is being handled, or (an attach, a late or
 * unknown report) a load or an unnamed caller. */
static void cv_actor(const canvas *cv, Comfyd__V1__GraphOrigin origin, provn_actor *a)
{
    if (origin == COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER) {
        provn_actor_make(a, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_USER, NULL, NULL, NULL, NULL, 0);
    } else if (cv->report_rid && cv->report_rid == cv->sent_rid) {
        *a = cv->sent_who;
    } else {
        provn_actor_make(a,
                         origin == COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_LOAD
                             ? COMFYD__V1__ACTOR_KIND__ACTOR_KIND_LOAD
                             : COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC,
                         NULL, NULL, NULL, NULL, 0);
    }
}

/* Records the ops of the commit that made rev. */
static void cv_prov_commit(canvas *cv, uint64_t rev, Comfyd__V1__GraphOrigin origin,
                           Comfyd__V1__GraphOp *const *ops, size_t n)
{
    provn_actor a;
    cv_actor(cv, origin, &a);
    if (provn_record(cv->provn, ops, n, &a, rev, n ? ops[0]->time_ms : text_now_ms()))
        LOG_W(MOD, "canvas %s: out of memory recording provenance of revision %llu",
              LOG_ESC(cv->id), (unsigned long long)rev);
    /* Links that went with a removed node leave no op of their own. */
    int removed = origin == COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_LOAD;
    for (size_t i = 0; i < n && !removed; i++)
        removed = ops[i]->command &&
                  ops[i]->command->command_case == COMFYD__V1__COMMAND__COMMAND_REMOVE_NODE;
    if (removed) provn_prune(cv->provn, cv->g);
}

/* Takes the provenance a loaded or attached workflow carries. */
static void cv_prov_restore(canvas *cv, const char *json, size_t len)
{
    char e[256] = "";
    if (provn_load_json(cv->provn, cv->g, json, len, graph_revision(cv->g), e, sizeof e))
        LOG_W(MOD, "canvas %s: the workflow's provenance is not used: %s", LOG_ESC(cv->id),
              e[0] ? e : "out of memory");
}

/* Commits json as cv's state (origin as given). *changed is 0 when it is
 * byte-identical to the mirror. Returns a graph_err. */
static int cv_commit(canvas *cv, const char *json, size_t len, Comfyd__V1__GraphOrigin origin,
                     int *changed, char *e, size_t elen)
{
    *changed = 0;
    nodeinfo *ni = cv_schema(cv);
    cv_sync_schema(cv, ni);
    nodeinfo_unref(ni);
    size_t cur_len;
    const char *cur = graph_workflow_json(cv->g, &cur_len);
    if (cur_len == len && memcmp(cur, json, len) == 0) {
        if (origin == COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_LOAD) cv_prov_restore(cv, json, len);
        return GRAPH_OK;
    }
    uint64_t rev = graph_revision(cv->g) + 1;
    rev_reserve(cv->m, rev);
    Comfyd__V1__GraphOp **ops = NULL;
    size_t n_ops = 0;
    int rc =
        graph_apply_workflow(cv->g, json, len, rev, origin, text_now_ms(), &ops, &n_ops, e, elen);
    if (rc == GRAPH_OK) {
        note_rev(cv->m, rev);
        *changed = 1;
        cv_prov_commit(cv, rev, origin, ops, n_ops);
        graph_ops_free(ops, n_ops);
        if (origin == COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_LOAD) cv_prov_restore(cv, json, len);
    }
    return rc;
}

/* The digest of a delta: 8 hex digits. */
static int parse_digest(const char *s, uint32_t *out)
{
    if (!s || strlen(s) != 8) return -1;
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return -1;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

/* Applies a tab's delta to cv's mirror (origin as given). Returns a
 * graph_err: anything but GRAPH_OK and GRAPH_ENOMEM means the delta does
 * not give the tab's graph, and the tab is to send the whole workflow. An
 * empty delta changes nothing (no new revision) when its digest holds. */
static int cv_commit_delta(canvas *cv, const Comfyd__V1__GraphDelta *d,
                           Comfyd__V1__GraphOrigin origin, int *changed, char *e, size_t elen)
{
    *changed = 0;
    nodeinfo *ni = cv_schema(cv);
    cv_sync_schema(cv, ni);
    nodeinfo_unref(ni);
    graph_delta gd = {
        .nodes_json = (const char *const *)d->nodes_json,
        .n_nodes_json = d->n_nodes_json,
        .removed_nodes = d->removed_node_ids,
        .n_removed_nodes = d->n_removed_node_ids,
        .links_json = (const char *const *)d->links_json,
        .n_links_json = d->n_links_json,
        .removed_links = d->removed_link_ids,
        .n_removed_links = d->n_removed_link_ids,
        .last_node_id = d->last_node_id,
        .last_link_id = d->last_link_id,
    };
    if (parse_digest(d->digest, &gd.digest)) {
        snprintf(e, elen, "delta.digest must be 8 lower-case hex digits");
        return GRAPH_EINVAL;
    }
    if (!gd.n_nodes_json && !gd.n_removed_nodes && !gd.n_links_json && !gd.n_removed_links) {
        uint32_t have = graph_digest(cv->g);
        if (have == gd.digest) return GRAPH_OK;
        snprintf(e, elen, "the mirror has digest %08x, the tab's graph %08x", have, gd.digest);
        return GRAPH_EDIGEST;
    }
    uint64_t rev = graph_revision(cv->g) + 1;
    rev_reserve(cv->m, rev);
    int rc = graph_apply_delta(cv->g, &gd, rev, origin, text_now_ms(), e, elen);
    if (rc == GRAPH_OK) {
        note_rev(cv->m, rev);
        *changed = 1;
        Comfyd__V1__GraphOp **ops = NULL;
        size_t n_ops = 0;
        if (graph_diff_since(cv->g, rev - 1, &ops, &n_ops) == GRAPH_OK)
            cv_prov_commit(cv, rev, origin, ops, n_ops);
        graph_ops_free(ops, n_ops);
    }
    return rc;
}

/* ---- canvases ---- */

static void canvas_unref(canvas *cv)
{
    if (!cv || atomic_fetch_sub(&cv->refs, 1) != 1) return;
    graph_destroy(cv->g);
    provn_destroy(cv->provn);
    nodeinfo_unref(cv->tab_ni);
    free(cv->id);
    free(cv->title);
    pthread_mutex_destroy(&cv->mu);
    free(cv);
}

static canvas *canvas_ref(canvas *cv)
{
    atomic_fetch_add(&cv->refs, 1);
    return cv;
}

/* Under m->mu. */
static canvas *find_locked(canvas_mgr *m, const char *id)
{
    for (size_t i = 0; i < m->n_cvs; i++)
        if (strcmp(m->cvs[i]->id, id) == 0) return m->cvs[i];
    return NULL;
}

/* Under m->mu: references to every canvas in the map. */
static canvas **snapshot_locked(canvas_mgr *m, size_t *n)
{
    canvas **v = xcalloc(m->n_cvs, sizeof *v);
    for (size_t i = 0; i < m->n_cvs; i++)
        v[i] = canvas_ref(m->cvs[i]);
    *n = m->n_cvs;
    return v;
}

static void snapshot_free(canvas **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        canvas_unref(v[i]);
    free(v);
}

/* The canvas a request addresses (see canvas.h), with a reference; NULL
 * with err set (CANVAS_EGRAPH, or CANVAS_ESHUTDOWN). */
static canvas *resolve(canvas_mgr *m, const char *id, int *rc, canvas_error *err)
{
    canvas *cv = NULL;
    pthread_mutex_lock(&m->mu);
    if (m->shutdown) {
        *rc = fail(err, CANVAS_ESHUTDOWN, 0, "server shutting down");
    } else if (id && *id) {
        if (!(cv = find_locked(m, id)))
            *rc = EGRAPHF(err, GE(CANVAS_NOT_FOUND), "no canvas \"%s\" (ListCanvases lists them)",
                          id);
    } else {
        canvas *best = NULL, *only = NULL;
        size_t n_att = 0;
        for (size_t i = 0; i < m->n_cvs; i++) {
            canvas *c = m->cvs[i];
            if (!c->attached) continue;
            n_att++;
            only = c;
            if (c->focus_seq && (!best || c->focus_seq > best->focus_seq)) best = c;
        }
        if (n_att == 1) {
            cv = only;
        } else if (best) {
            cv = best;
        } else if (n_att == 0) {
            *rc = EGRAPHF(err, GE(NO_LIVE_CANVAS),
                          "no ComfyUI tab has a canvas attached: open ComfyUI with the comfyd "
                          "extension in a browser");
        } else {
            char list[CANVAS_ERRLEN / 2] = "";
            size_t listed = 0;
            for (size_t i = 0; i < m->n_cvs; i++) {
                if (!m->cvs[i]->attached) continue;
                if (listed == CANVAS_MAX_LISTED_IDS) {
                    size_t l = strlen(list);
                    snprintf(list + l, sizeof list - l, " and %zu more", n_att - listed);
                    break;
                }
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s\"%s\"", listed ? ", " : "", m->cvs[i]->id);
                listed++;
            }
            *rc = EGRAPHF(err, GE(AMBIGUOUS_CANVAS),
                          "%zu canvases are attached and none has reported focus; name one with "
                          "canvas_id: %s",
                          n_att, list);
        }
    }
    if (cv) {
        canvas_ref(cv);
        cv->last_used = mono();
    }
    pthread_mutex_unlock(&m->mu);
    return cv;
}

/* The mirror as a Graph message; with head_only, only its head (no nodes
 * or links, unchanged set): for a reader that holds this revision. */
static Comfyd__V1__Graph *cv_graph_as(canvas *cv, int head_only)
{
    Comfyd__V1__Graph *g;
    if (head_only) {
        g = xcalloc(1, sizeof *g);
        comfyd__v1__graph__init(g);
        g->revision = graph_revision(cv->g);
        g->unchanged = 1;
    } else if (!(g = graph_to_proto(cv->g)) || provn_fill_graph(cv->provn, g)) {
        abort();
    }
    g->canvas_id = xstrdup(cv->id);
    g->title = xstrdup(cv->title);
    g->stale = cv->ops == NULL;
    return g;
}

static Comfyd__V1__Graph *cv_graph(canvas *cv)
{
    return cv_graph_as(cv, 0);
}

/* ---- request outcomes ---- */

static void jl_push(jlist *l, job *j)
{
    j->next = NULL;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
}

static void job_free(job *j)
{
    graph_check_clear(&j->check);
    free(j->sent_idx);
    free(j->json_owned);
    free(j->msg);
    free(j->prompt_json);
    free(j->workflow_json);
    pb_free(j->resp);
    canvas_unref(j->cv);
    free(j);
}

/* Runs the callbacks of finished jobs. No lock may be held. */
static void fin_run(canvas_mgr *m, jlist *l)
{
    job *j = l->head;
    l->head = l->tail = NULL;
    while (j) {
        job *next = j->next;
        waiter *w = j->idem
                        ? idem_complete(m->idem, j->idem, j->sent, j->err, j->code, j->msg, j->resp)
                        : NULL;
        canvas_result r = {j->err, j->code, j->msg, j->resp, j->prompt_json, j->workflow_json};
        j->done(j->ud, &r);
        if (w) idem_set_replayed(j->resp, 1);
        while (w) {
            waiter *wn = w->next;
            w->done(w->ud, &r);
            free(w);
            w = wn;
        }
        job_free(j);
        j = next;
    }
}

static void job_end_err(job *j, int err, Comfyd__V1__GraphErrorCode code, const char *msg,
                        jlist *fin)
{
    j->err = err;
    j->code = code;
    free(j->msg);
    j->msg = xstrdup(msg);
    jl_push(fin, j);
}

static Comfyd__V1__GraphError *mk_gerr(Comfyd__V1__GraphErrorCode code, const char *msg,
                                       int32_t index)
{
    Comfyd__V1__GraphError *e = xcalloc(1, sizeof *e);
    comfyd__v1__graph_error__init(e);
    e->code = code;
    e->message = xstrdup(msg);
    e->index = index;
    return e;
}

static Comfyd__V1__CommandResult *mk_result(size_t index)
{
    Comfyd__V1__CommandResult *r = xcalloc(1, sizeof *r);
    comfyd__v1__command_result__init(r);
    r->index = (int32_t)index;
    return r;
}

static void set_result_error(Comfyd__V1__CommandResult *r, Comfyd__V1__GraphErrorCode code,
                             const char *msg)
{
    r->ok = 0;
    r->node_id = r->link_id = 0;
    pb_free(r->error);
    r->error = mk_gerr(code, msg, r->index);
}

static Comfyd__V1__ExecuteBatchResponse *batch_new(canvas *cv, const job *j)
{
    Comfyd__V1__ExecuteBatchResponse *r = xcalloc(1, sizeof *r);
    comfyd__v1__execute_batch_response__init(r);
    r->canvas_id = xstrdup(cv ? cv->id : j->req_canvas);
    r->revision = cv ? graph_revision(cv->g) : 0;
    r->rebased = j->rebased_from != 0;
    r->rebased_from = j->rebased_from;
    return r;
}

/* Moves the check's results and errors into r (errors get room for extra
 * more). */
static void take_check(job *j, Comfyd__V1__ExecuteBatchResponse *r, size_t extra)
{
    r->n_results = j->check.n_results;
    r->results = xcalloc(r->n_results, sizeof *r->results);
    for (size_t i = 0; i < r->n_results; i++) {
        r->results[i] = j->check.results[i];
        j->check.results[i] = NULL;
    }
    r->errors = xcalloc(j->check.n_errors + extra, sizeof *r->errors);
    for (size_t i = 0; i < j->check.n_errors; i++)
        r->errors[r->n_errors++] = j->check.errors[i];
    j->check.n_errors = 0;
}

/* get_graph: answered from the mirror, never sent to the tab. */
static int is_get_graph(const Comfyd__V1__Command *c)
{
    return (graph_cmd_flags(c) & GRAPH_CMD_READ_ONLY) != 0;
}

/* Turns a batch response into Execute's shape when j is an Execute. */
static void patch_end(canvas *cv, job *j, Comfyd__V1__ExecuteBatchResponse *b, jlist *fin)
{
    j->err = CANVAS_OK;
    if (!j->single) {
        j->resp = &b->base;
        jl_push(fin, j);
        return;
    }
    Comfyd__V1__ExecuteResponse *e = xcalloc(1, sizeof *e);
    comfyd__v1__execute_response__init(e);
    e->ok = b->ok;
    e->canvas_id = b->canvas_id;
    b->canvas_id = NULL;
    e->revision = b->revision;
    e->rebased = b->rebased;
    e->rebased_from = b->rebased_from;
    if (b->n_results) {
        e->result = b->results[0];
        b->results[0] = NULL;
    } else {
        e->result = mk_result(0);
        if (b->n_errors) e->result->error = mk_gerr(b->errors[0]->code, b->errors[0]->message, 0);
    }
    if (cv && e->ok && is_get_graph(j->cmds[0])) {
        const Comfyd__V1__GetGraphCommand *gc = j->cmds[0]->get_graph;
        uint64_t known = gc ? gc->known_revision : 0;
        e->graph = cv_graph_as(cv, known && known == graph_revision(cv->g));
    }
    pb_free(b);
    j->resp = &e->base;
    jl_push(fin, j);
}

/* A request-level failure of a patch (see canvas.h): the error with index
 * -1, and on every command that was to be applied. */
static void patch_fail(canvas *cv, job *j, Comfyd__V1__GraphErrorCode code, const char *msg,
                       jlist *fin)
{
    Comfyd__V1__ExecuteBatchResponse *r = batch_new(cv, j);
    if (j->checked) {
        take_check(j, r, 1);
        for (size_t k = 0; k < j->n_sent; k++)
            set_result_error(r->results[j->sent_idx[k]], code, msg);
    } else {
        r->n_results = j->n;
        r->results = xcalloc(j->n, sizeof *r->results);
        for (size_t i = 0; i < j->n; i++) {
            r->results[i] = mk_result(i);
            set_result_error(r->results[i], code, msg);
        }
        r->errors = xcalloc(1, sizeof *r->errors);
    }
    r->errors[r->n_errors++] = mk_gerr(code, msg, -1);
    r->ok = 0;
    patch_end(cv, j, r, fin);
}

/* Refuses any request with a graph error: a response for patches, the
 * error itself for queue and load. */
static void job_refuse(canvas *cv, job *j, Comfyd__V1__GraphErrorCode code, jlist *fin,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void job_refuse(canvas *cv, job *j, Comfyd__V1__GraphErrorCode code, jlist *fin,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvprintf(fmt, ap);
    va_end(ap);
    if (j->kind == JOB_PATCH)
        patch_fail(cv, j, code, msg, fin);
    else
        job_end_err(j, CANVAS_EGRAPH, code, msg, fin);
    free(msg);
}

/* Answers a patch from its validation alone (nothing goes to a tab). */
static void patch_from_check(canvas *cv, job *j, int validate_only, jlist *fin)
{
    Comfyd__V1__ExecuteBatchResponse *r = batch_new(cv, j);
    size_t n_err = j->check.n_errors;
    take_check(j, r, 0);
    if (!validate_only && n_err && j->mode != COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "not applied: the batch has %zu error(s) and is atomic (nothing was applied)",
                 n_err);
        for (size_t i = 0; i < r->n_results; i++)
            if (r->results[i]->ok && !is_get_graph(j->cmds[i]))
                set_result_error(r->results[i], GE(SKIPPED), msg);
    }
    if (validate_only) {
        r->refs = j->check.refs;
        r->n_refs = j->check.n_refs;
        j->check.refs = NULL;
        j->check.n_refs = 0;
    }
    r->ok = j->check.ok;
    patch_end(cv, j, r, fin);
}

static const graph_widget *node_widget(const graph_node *n, const char *name)
{
    for (size_t i = 0; name && i < n->n_widgets; i++)
        if (strcmp(n->widgets[i].name, name) == 0) return &n->widgets[i];
    return NULL;
}

/* The tab's result for the k-th sent command: by index when the tab's
 * indexes are a permutation of the sent commands, else by position. */
static const Comfyd__V1__CommandResult **match_tab_results(const job *j,
                                                           const Comfyd__V1__PatchResult *pr)
{
    const Comfyd__V1__CommandResult **v = xcalloc(j->n_sent, sizeof *v);
    int by_index = pr->n_results == j->n_sent;
    for (size_t i = 0; by_index && i < pr->n_results; i++) {
        int32_t x = pr->results[i] ? pr->results[i]->index : -1;
        if (x < 0 || (size_t)x >= j->n_sent || v[x])
            by_index = 0;
        else
            v[x] = pr->results[i];
    }
    if (!by_index) {
        memset(v, 0, j->n_sent * sizeof *v);
        for (size_t i = 0; i < j->n_sent && i < pr->n_results; i++)
            v[i] = pr->results[i];
    }
    return v;
}

/* The verified result of one applied command: the tab's outcome and ids,
 * the node and widget value as the committed mirror has them. */
static void fill_result(canvas *cv, Comfyd__V1__CommandResult *res,
                        const Comfyd__V1__CommandResult *t, const Comfyd__V1__Command *cmd)
{
    if (t) {
        res->ok = t->ok;
        res->node_id = t->node_id;
        res->link_id = t->link_id;
        pb_free(res->error);
        res->error = NULL;
        if (!t->ok) {
            char *m = tab_text(t->error ? t->error->message : NULL);
            res->error = mk_gerr(t->error && t->error->code ? t->error->code : GE(EDITOR_FAILED),
                                 m ? m : "the tab did not apply this command", res->index);
            free(m);
            res->node_id = res->link_id = 0;
        }
    }
    if (!res->ok || !res->node_id) return;
    const graph_node *n = graph_find_node(cv->g, res->node_id);
    if (!n) return;
    pb_free(res->node);
    if (!(res->node = graph_node_to_proto(cv->g, n)) || provn_fill_node(cv->provn, res->node))
        abort();
    if (cmd->command_case == COMFYD__V1__COMMAND__COMMAND_SET_WIDGET && cmd->set_widget) {
        const graph_widget *w = node_widget(n, cmd->set_widget->name);
        Comfyd__V1__Value *v = w ? nodeinfo_value_to_proto(&w->value) : NULL;
        if (v) {
            pb_free(res->value);
            res->value = v;
        } else if (t && t->value) {
            int text_ok =
                t->value->kind_case != COMFYD__V1__VALUE__KIND_TEXT ||
                (t->value->text && text_utf8_valid(t->value->text, strlen(t->value->text)));
            pb_free(res->value);
            res->value = text_ok ? (Comfyd__V1__Value *)pb_dup(&t->value->base) : NULL;
        }
    }
}

/* A patch the tab applied: the mirror is committed already (or a newer
 * state was). */
static void patch_commit(canvas *cv, job *j, const Comfyd__V1__PatchResult *pr, jlist *fin)
{
    Comfyd__V1__ExecuteBatchResponse *r = batch_new(cv, j);
    take_check(j, r, j->n_sent);
    const Comfyd__V1__CommandResult **tabr = match_tab_results(j, pr);
    size_t missing = 0;
    /* A tab that failed (a partial patch) without a result for a command
     * gives no ground to predict that it applied. */
    char *why = pr->ok ? NULL : tab_text(pr->error);
    size_t tab_failed = 0;
    for (size_t k = 0; k < j->n_sent; k++) {
        size_t i = j->sent_idx[k];
        if (!tabr[k]) {
            missing++;
            if (!pr->ok)
                set_result_error(r->results[i], GE(EDITOR_FAILED),
                                 why ? why : "the tab failed without a result for this command");
        }
        fill_result(cv, r->results[i], tabr[k], j->cmds[i]);
        if (!r->results[i]->ok && r->results[i]->error) {
            tab_failed++;
            r->errors[r->n_errors++] =
                (Comfyd__V1__GraphError *)pb_dup(&r->results[i]->error->base);
        }
    }
    /* Room is left: take_check reserved one error per sent command. */
    if (!pr->ok && !tab_failed)
        r->errors[r->n_errors++] =
            mk_gerr(GE(EDITOR_FAILED), why ? why : "the tab reported a failure", -1);
    free(why);
    free(tabr);
    if (missing)
        LOG_W(MOD,
              "canvas %s: the tab reported %zu of %zu results; the rest are the predicted ones",
              cv->id, j->n_sent - missing, j->n_sent);
    r->refs = xcalloc(j->n, sizeof *r->refs);
    int ok = 1;
    for (size_t i = 0; i < j->n; i++) {
        const Comfyd__V1__Command *c = j->cmds[i];
        Comfyd__V1__CommandResult *res = r->results[i];
        if (!res->ok) ok = 0;
        if (!res->ok || c->command_case != COMFYD__V1__COMMAND__COMMAND_CREATE_NODE ||
            !c->create_node || !c->create_node->ref || !c->create_node->ref[0])
            continue;
        Comfyd__V1__ExecuteBatchResponse__RefsEntry *e = xcalloc(1, sizeof *e);
        comfyd__v1__execute_batch_response__refs_entry__init(e);
        e->key = xstrdup(c->create_node->ref);
        e->value = res->node_id;
        r->refs[r->n_refs++] = e;
    }
    r->ok = ok && pr->ok;
    patch_end(cv, j, r, fin);
}

/* ---- dispatching ---- */

static void arm(canvas_mgr *m, int64_t deadline)
{
    pthread_mutex_lock(&m->wmu);
    if (deadline < m->next_wake) {
        m->next_wake = deadline;
        pthread_cond_signal(&m->wcv);
    }
    pthread_mutex_unlock(&m->wmu);
}

static int send_tab(canvas *cv, Comfyd__V1__AttachCanvasResponse *msg)
{
    return cv->ops->send(cv->ud, msg);
}

/* Rewrites "unknown node type" when no node types are known at all, so
 * the caller learns why. */
static void explain_empty_schema(graph_check *c, const nodeinfo *ni)
{
    if (ni && nodeinfo_count(ni)) return;
    for (size_t i = 0; i < c->n_errors; i++) {
        Comfyd__V1__GraphError *e = c->errors[i];
        if (e->code != GE(UNKNOWN_NODE_TYPE)) continue;
        char *m = xprintf("%s: no node types are known yet (comfyd has no --object-info and no "
                          "tab has sent its node types)",
                          e->message);
        free(e->message);
        e->message = m;
        if (e->index >= 0 && (size_t)e->index < c->n_results) {
            Comfyd__V1__CommandResult *r = c->results[e->index];
            if (r && r->error && r->error->code == e->code) {
                free(r->error->message);
                r->error->message = xstrdup(m);
            }
        }
    }
}

static int validate(canvas *cv, job *j, jlist *fin)
{
    nodeinfo *ni = cv_schema(cv);
    cv_sync_schema(cv, ni);
    int rc = graph_validate(cv->g, ni, j->cmds, j->n, j->mode, &j->check);
    if (rc == GRAPH_OK) explain_empty_schema(&j->check, ni);
    nodeinfo_unref(ni);
    if (rc != GRAPH_OK) {
        job_end_err(j, CANVAS_ENOMEM, 0, "out of memory validating the batch", fin);
        return -1;
    }
    j->checked = 1;
    return 0;
}

/* STALE_REVISION with the conflicts of a patch that does not commute with
 * the revisions after its base (graph_rebase.h): an error for the patch
 * (index -1), then one per conflicting command with its conflicts, also
 * set on that command's result (Execute answers with the result alone);
 * the other commands are SKIPPED. Nothing reaches the tab. */
static void patch_conflicts(canvas *cv, job *j, graph_conflicts *gc, jlist *fin)
{
    Comfyd__V1__ExecuteBatchResponse *r = batch_new(cv, j);
    r->n_results = j->n;
    r->results = xcalloc(j->n, sizeof *r->results);
    r->errors = xcalloc(1 + gc->n_cmds, sizeof *r->errors);
    char *msg = xprintf("base_revision %llu is behind the canvas's revision %llu and %zu "
                        "command(s) touch what changed since: nothing was applied (each "
                        "command's error lists its conflicts%s; GetDiff shows the changes)",
                        (unsigned long long)j->base, (unsigned long long)graph_revision(cv->g),
                        gc->n_cmds, gc->more ? ", the first ones only" : "");
    r->errors[r->n_errors++] = mk_gerr(GE(STALE_REVISION), msg, -1);
    size_t k = 0;
    for (size_t i = 0; i < j->n; i++) {
        r->results[i] = mk_result(i);
        size_t first = k;
        while (k < gc->n && (size_t)gc->v[k]->index == i)
            k++;
        if (k == first) {
            if (!is_get_graph(j->cmds[i]))
                set_result_error(r->results[i], GE(SKIPPED),
                                 "not applied: other commands of this stale patch conflict");
            continue;
        }
        char text[1024];
        graph_conflict_text(gc->v[first], graph_cmd_name(j->cmds[i]), text, sizeof text);
        char *m = k - first > 1 ? xprintf("%s (and %zu more conflicts)", text, k - first - 1)
                                : xstrdup(text);
        Comfyd__V1__GraphError *e = mk_gerr(GE(STALE_REVISION), m, (long)i);
        free(m);
        e->n_conflicts = k - first;
        e->conflicts = xcalloc(e->n_conflicts, sizeof *e->conflicts);
        for (size_t x = 0; x < e->n_conflicts; x++) {
            e->conflicts[x] = gc->v[first + x];
            gc->v[first + x] = NULL;
            /* Who made the conflicting change (provenance.h). */
            const provn_actor *who = provn_revision_actor(cv->provn, e->conflicts[x]->revision);
            if (who && !e->conflicts[x]->actor &&
                !(e->conflicts[x]->actor = provn_actor_to_proto(who)))
                abort();
        }
        r->results[i]->ok = 0;
        r->results[i]->error = (Comfyd__V1__GraphError *)pb_dup(&e->base);
        r->errors[r->n_errors++] = e; /* room: one per conflicting command */
    }
    free(msg);
    r->ok = 0;
    patch_end(cv, j, r, fin);
}

/* A base_revision that is not the canvas's: a patch asking for the old
 * behaviour (on_stale REJECT), a base ahead of the canvas (from before a
 * restart) or one the operation log no longer reaches is refused whole;
 * otherwise it is rebased when it commutes with every change since
 * (j->rebased_from) and refused with its conflicts when not. Returns 0 to
 * go on, -1 when j was answered. */
static int stale_base(canvas *cv, job *j, jlist *fin)
{
    uint64_t now = graph_revision(cv->g);
    if (!j->has_base || j->base == now) return 0;
    const char *why = NULL;
    Comfyd__V1__GraphOp **ops = NULL;
    size_t n_ops = 0;
    if (j->stale_reject)
        why = "on_stale is reject";
    else if (j->base > now)
        why = "the base is ahead of the canvas";
    else if (graph_diff_since(cv->g, j->base, &ops, &n_ops) != GRAPH_OK)
        why = "the operation log no longer reaches the base";
    if (why) {
        job_refuse(cv, j, GE(STALE_REVISION), fin,
                   "base_revision %llu is not the canvas's revision %llu (%s; GetDiff shows what "
                   "changed)",
                   (unsigned long long)j->base, (unsigned long long)now, why);
        return -1;
    }
    graph_conflicts gc;
    int rc = graph_rebase_check(cv->g, (const Comfyd__V1__GraphOp *const *)ops, n_ops, j->cmds,
                                j->n, &gc);
    graph_ops_free(ops, n_ops);
    if (rc != GRAPH_OK) {
        job_end_err(j, CANVAS_ENOMEM, 0, "out of memory rebasing the patch", fin);
        return -1;
    }
    if (gc.n || gc.more) {
        LOG_I(MOD, "canvas %s: a patch on revision %llu conflicts with %zu change(s) since",
              LOG_ESC(cv->id), (unsigned long long)j->base, gc.n + gc.more);
        patch_conflicts(cv, j, &gc, fin);
        graph_conflicts_clear(&gc);
        return -1;
    }
    j->rebased_from = j->base;
    return 0;
}

static void dispatch_patch(canvas *cv, job *j, jlist *fin)
{
    if (stale_base(cv, j, fin)) return;
    if (validate(cv, j, fin)) return;
    if (!j->check.ok && j->mode != COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL)
        return patch_from_check(cv, j, 0, fin);
    j->sent_idx = xcalloc(j->n, sizeof *j->sent_idx);
    for (size_t i = 0; i < j->n; i++)
        if (j->check.results[i]->ok && !is_get_graph(j->cmds[i])) j->sent_idx[j->n_sent++] = i;
    if (!j->n_sent) return patch_from_check(cv, j, 0, fin);
    Comfyd__V1__Command **cmds = xcalloc(j->n_sent, sizeof *cmds);
    for (size_t k = 0; k < j->n_sent; k++)
        cmds[k] = (Comfyd__V1__Command *)j->cmds[j->sent_idx[k]];
    Comfyd__V1__PatchRequest pr = COMFYD__V1__PATCH_REQUEST__INIT;
    pr.request_id = j->request_id;
    pr.commands = cmds;
    pr.n_commands = j->n_sent;
    pr.expected_node_ids = j->check.expected_ids;
    pr.n_expected_node_ids = j->check.n_expected_ids;
    pr.deadline_ms = j->deadline_wall;
    pr.mode = j->mode == COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL
                  ? COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL
                  : COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC;
    Comfyd__V1__AttachCanvasResponse msg = COMFYD__V1__ATTACH_CANVAS_RESPONSE__INIT;
    msg.kind_case = COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_PATCH;
    msg.patch = &pr;
    int rc = send_tab(cv, &msg);
    free(cmds);
    if (rc)
        return job_refuse(cv, j, GE(EDITOR_GONE), fin,
                          "the tab of canvas \"%s\" is not reading its stream", cv->id);
    j->sent = 1;
    cv->inflight = j;
    cv->sent_who = j->who;
    cv->sent_rid = j->request_id;
}

static void dispatch(canvas *cv, job *j, jlist *fin)
{
    if (!cv->ops)
        return job_refuse(cv, j, GE(NO_LIVE_CANVAS), fin,
                          "canvas \"%s\" has no tab attached (its mirror is stale)", cv->id);
    if (mono() >= j->deadline)
        return job_refuse(cv, j, GE(EDITOR_TIMEOUT), fin,
                          "gave up after %u ms waiting behind earlier requests to canvas \"%s\"",
                          j->timeout_ms, cv->id);
    j->request_id = atomic_fetch_add(&cv->m->next_request_id, 1) + 1;
    if (j->kind == JOB_PATCH) return dispatch_patch(cv, j, fin);
    Comfyd__V1__AttachCanvasResponse msg = COMFYD__V1__ATTACH_CANVAS_RESPONSE__INIT;
    Comfyd__V1__EditorQueueRequest q = COMFYD__V1__EDITOR_QUEUE_REQUEST__INIT;
    Comfyd__V1__EditorLoadRequest l = COMFYD__V1__EDITOR_LOAD_REQUEST__INIT;
    if (j->kind == JOB_QUEUE) {
        q.request_id = j->request_id;
        q.batch_count = j->batch_count;
        q.deadline_ms = j->deadline_wall;
        q.prompt_only = j->prompt_only;
        msg.kind_case = COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_QUEUE;
        msg.queue = &q;
    } else {
        l.request_id = j->request_id;
        l.workflow_json = (char *)j->json;
        l.deadline_ms = j->deadline_wall;
        l.undo_step = j->undo_step;
        msg.kind_case = COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_LOAD;
        msg.load = &l;
    }
    if (send_tab(cv, &msg))
        return job_refuse(cv, j, GE(EDITOR_GONE), fin,
                          "the tab of canvas \"%s\" is not reading its stream", cv->id);
    j->sent = 1;
    cv->inflight = j;
    cv->sent_who = j->who;
    cv->sent_rid = j->request_id;
}

/* Under cv->mu: sends the next waiting requests until one is in flight. */
static void pump(canvas *cv, jlist *fin)
{
    while (!cv->inflight && cv->q_head) {
        job *j = cv->q_head;
        cv->q_head = j->next;
        if (!cv->q_head) cv->q_tail = NULL;
        cv->n_queued--;
        dispatch(cv, j, fin);
    }
}

/* Under cv->mu: ends the request in flight and, when queued too, the
 * waiting ones. */
static void end_jobs(canvas *cv, int err, Comfyd__V1__GraphErrorCode inflight_code,
                     const char *inflight_msg, int queued, Comfyd__V1__GraphErrorCode queued_code,
                     const char *queued_msg, jlist *fin)
{
    job *j = cv->inflight;
    cv->inflight = NULL;
    if (j) {
        if (err)
            job_end_err(j, err, 0, inflight_msg, fin);
        else
            job_refuse(cv, j, inflight_code, fin, "%s", inflight_msg);
    }
    while (queued && cv->q_head) {
        j = cv->q_head;
        cv->q_head = j->next;
        if (err)
            job_end_err(j, err, 0, queued_msg, fin);
        else
            job_refuse(cv, j, queued_code, fin, "%s", queued_msg);
    }
    if (queued) {
        cv->q_tail = NULL;
        cv->n_queued = 0;
    }
}

/* Under cv->mu: drops the attachment (ending its stream when end_code is
 * not 0) and marks the canvas detached. */
static void cv_detach(canvas *cv, int end_code, const char *end_msg)
{
    if (!cv->ops) return;
    const canvas_tab_ops *ops = cv->ops;
    void *ud = cv->ud;
    if (end_code) ops->end(ud, end_code, end_msg);
    cv->ops = NULL;
    cv->ud = NULL;
    cv->tab_id = 0;
    pthread_mutex_lock(&cv->m->mu);
    cv->attached = 0;
    cv->att_id = 0;
    cv->focused = 0;
    cv->last_used = mono();
    pthread_mutex_unlock(&cv->m->mu);
    /* Last: once the tab is released the canvas already counts as
     * detached, so a new attachment finds the room. */
    ops->release(ud);
}

/* ---- the worker: deadlines and departed tabs ---- */

/* Ends expired requests on cv and returns its earliest remaining deadline. */
static int64_t expire(canvas *cv, jlist *fin)
{
    pthread_mutex_lock(&cv->mu);
    int64_t now = mono();
    job *j = cv->inflight;
    if (j && now >= j->deadline) {
        cv->inflight = NULL;
        job_refuse(cv, j, GE(EDITOR_TIMEOUT), fin,
                   "the tab of canvas \"%s\" did not answer within %u ms (nothing was committed; "
                   "GetDiff shows whether it applied the request later)",
                   cv->id, j->timeout_ms);
    }
    job **pp = &cv->q_head;
    cv->q_tail = NULL;
    while (*pp) {
        j = *pp;
        if (now >= j->deadline) {
            *pp = j->next;
            cv->n_queued--;
            job_refuse(cv, j, GE(EDITOR_TIMEOUT), fin,
                       "gave up after %u ms waiting behind earlier requests to canvas \"%s\"",
                       j->timeout_ms, cv->id);
        } else {
            cv->q_tail = j;
            pp = &j->next;
        }
    }
    pump(cv, fin);
    int64_t next = INT64_MAX;
    if (cv->inflight) next = cv->inflight->deadline;
    for (j = cv->q_head; j; j = j->next)
        if (j->deadline < next) next = j->deadline;
    pthread_mutex_unlock(&cv->mu);
    return next;
}

static void process_gone(canvas_mgr *m, uint64_t tab_id)
{
    pthread_mutex_lock(&m->mu);
    canvas *cv = NULL;
    for (size_t i = 0; i < m->n_cvs && !cv; i++)
        if (m->cvs[i]->att_id == tab_id) cv = canvas_ref(m->cvs[i]);
    pthread_mutex_unlock(&m->mu);
    if (!cv) return;
    jlist fin = {0};
    pthread_mutex_lock(&cv->mu);
    if (cv->ops && cv->tab_id == tab_id) {
        end_jobs(cv, 0, GE(EDITOR_GONE), "the tab's stream ended before it answered", 1,
                 GE(NO_LIVE_CANVAS), "the canvas's tab went away before the request was sent",
                 &fin);
        cv_detach(cv, 0, NULL);
        LOG_I(MOD, "canvas %s detached (revision %llu kept as a stale mirror)", LOG_ESC(cv->id),
              (unsigned long long)graph_revision(cv->g));
    }
    pthread_mutex_unlock(&cv->mu);
    fin_run(m, &fin);
    canvas_unref(cv);
}

static void *worker_main(void *arg)
{
    canvas_mgr *m = arg;
    pthread_mutex_lock(&m->wmu);
    while (!m->wstop) {
        int64_t now = mono();
        if (!m->n_gone && now < m->next_wake) {
            if (m->next_wake == INT64_MAX) {
                pthread_cond_wait(&m->wcv, &m->wmu);
            } else {
                struct timespec ts = {m->next_wake / 1000, (m->next_wake % 1000) * 1000000};
                pthread_cond_timedwait(&m->wcv, &m->wmu, &ts);
            }
            continue;
        }
        uint64_t *gone = m->gone;
        size_t n_gone = m->n_gone;
        m->gone = NULL;
        m->n_gone = m->cap_gone = 0;
        m->next_wake = INT64_MAX;
        pthread_mutex_unlock(&m->wmu);
        for (size_t i = 0; i < n_gone; i++)
            process_gone(m, gone[i]);
        free(gone);
        pthread_mutex_lock(&m->mu);
        size_t n;
        canvas **v = snapshot_locked(m, &n);
        pthread_mutex_unlock(&m->mu);
        int64_t earliest = INT64_MAX;
        for (size_t i = 0; i < n; i++) {
            jlist fin = {0};
            int64_t e = expire(v[i], &fin);
            fin_run(m, &fin);
            if (e < earliest) earliest = e;
        }
        snapshot_free(v, n);
        pthread_mutex_lock(&m->wmu);
        if (earliest < m->next_wake) m->next_wake = earliest;
    }
    pthread_mutex_unlock(&m->wmu);
    return NULL;
}

void canvas_tab_gone(canvas_mgr *m, uint64_t tab_id)
{
    if (!m || !tab_id) return;
    pthread_mutex_lock(&m->wmu);
    if (!m->wstop) {
        if (m->n_gone == m->cap_gone) {
            size_t nc = m->cap_gone ? m->cap_gone * 2 : 8;
            uint64_t *v = realloc(m->gone, nc * sizeof *v);
            if (!v) abort();
            m->gone = v;
            m->cap_gone = nc;
        }
        m->gone[m->n_gone++] = tab_id;
        pthread_cond_signal(&m->wcv);
    }
    pthread_mutex_unlock(&m->wmu);
}

/* ---- tabs ---- */

static canvas *canvas_new(canvas_mgr *m, const char *id, graph *g)
{
    canvas *cv = xcalloc(1, sizeof *cv);
    cv->m = m;
    atomic_init(&cv->refs, 1);
    cv->id = xstrdup(id);
    cv->title = xstrdup("");
    cv->g = g;
    if (provn_create(&cv->provn)) abort();
    pthread_mutex_init(&cv->mu, NULL);
    return cv;
}

/* Under m->mu: adds cv (taking over its reference), dropping the least
 * recently used detached canvas when the map is full. */
static int insert_locked(canvas_mgr *m, canvas *cv, canvas_error *err)
{
    if (m->n_cvs == m->o.max_canvases) {
        size_t victim = SIZE_MAX;
        for (size_t i = 0; i < m->n_cvs; i++)
            if (!m->cvs[i]->attached &&
                (victim == SIZE_MAX || m->cvs[i]->last_used < m->cvs[victim]->last_used))
                victim = i;
        if (victim == SIZE_MAX)
            return fail(err, CANVAS_EFULL, 0, "%zu canvases are attached, the most comfyd keeps",
                        m->o.max_canvases);
        canvas *old = m->cvs[victim];
        LOG_I(MOD, "dropping the detached canvas %s to make room", LOG_ESC(old->id));
        m->cvs[victim] = m->cvs[--m->n_cvs];
        canvas_unref(old);
    }
    cv->last_used = mono();
    m->cvs[m->n_cvs++] = cv;
    return CANVAS_OK;
}

int canvas_attach(canvas_mgr *m, const Comfyd__V1__AttachCanvasRequest *req,
                  const canvas_tab_ops *ops, void *ud, uint64_t *tab_id, canvas_error *err)
{
    *tab_id = 0;
    if (check_canvas_id(req->canvas_id, 1, err) ||
        check_str(req->title, CANVAS_MAX_TITLE, err, "title"))
        return CANVAS_EINVAL;
    rev_catch_up(m);
    const char *wf =
        req->workflow_json && *req->workflow_json ? req->workflow_json : empty_workflow;
    size_t wf_len = strlen(wf);
    nodeinfo *tab_ni = NULL;
    int rc;
    if (req->object_info_json && *req->object_info_json &&
        (rc = tab_schema(m, req->object_info_json, strlen(req->object_info_json), &tab_ni, err)))
        return rc;
    char e[256] = "";
    canvas *cv = NULL;
    pthread_mutex_lock(&m->mu);
    if (m->shutdown) {
        pthread_mutex_unlock(&m->mu);
        nodeinfo_unref(tab_ni);
        return fail(err, CANVAS_ESHUTDOWN, 0, "server shutting down");
    }
    if ((cv = find_locked(m, req->canvas_id))) canvas_ref(cv);
    pthread_mutex_unlock(&m->mu);
    if (!cv) {
        /* Parsed before taking the manager's lock: workflows can be large. */
        nodeinfo *ni = tab_ni ? nodeinfo_ref(tab_ni) : canvas_mgr_schema(m);
        uint64_t rev = atomic_fetch_add(&m->rev_high, 1) + 1;
        rev_reserve(m, rev);
        graph *g = NULL;
        rc = graph_parse_workflow(&g, wf, wf_len, ni, rev, e, sizeof e);
        nodeinfo_unref(ni);
        if (rc != GRAPH_OK) {
            nodeinfo_unref(tab_ni);
            if (rc == GRAPH_ENOMEM) return fail(err, CANVAS_ENOMEM, 0, "out of memory");
            return EINVALF(err, "workflow_json: %s", e);
        }
        canvas *fresh = canvas_new(m, req->canvas_id, g);
        /* Before anyone can read it: the provenance the tab kept (e.g.
         * across a restart of the core) belongs to this revision. */
        cv_prov_restore(fresh, wf, wf_len);
        pthread_mutex_lock(&m->mu);
        if (m->shutdown) {
            rc = fail(err, CANVAS_ESHUTDOWN, 0, "server shutting down");
        } else if ((cv = find_locked(m, req->canvas_id))) {
            canvas_ref(cv); /* attached meanwhile: continue as a re-attach */
        } else if ((rc = insert_locked(m, fresh, err)) == CANVAS_OK) {
            cv = canvas_ref(fresh);
            fresh = NULL;
        }
        pthread_mutex_unlock(&m->mu);
        canvas_unref(fresh);
        if (!cv) {
            nodeinfo_unref(tab_ni);
            return rc;
        }
    }
    jlist fin = {0};
    pthread_mutex_lock(&cv->mu);
    if (cv->closed) {
        pthread_mutex_unlock(&cv->mu);
        canvas_unref(cv);
        nodeinfo_unref(tab_ni);
        return fail(err, CANVAS_ESHUTDOWN, 0, "server shutting down");
    }
    /* The tab's node types first, so the workflow is read with them. */
    nodeinfo *old_ni = cv->tab_ni;
    cv->tab_ni = tab_ni;
    int changed = 0;
    rc = cv_commit(cv, wf, wf_len, COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_LOAD, &changed, e,
                   sizeof e);
    if (rc != GRAPH_OK) {
        cv->tab_ni = old_ni;
        pthread_mutex_unlock(&cv->mu);
        canvas_unref(cv);
        nodeinfo_unref(tab_ni);
        if (rc == GRAPH_ENOMEM) return fail(err, CANVAS_ENOMEM, 0, "out of memory");
        return EINVALF(err, "workflow_json: %s", e);
    }
    nodeinfo_unref(old_ni);
    if (cv->ops) {
        end_jobs(cv, 0, GE(EDITOR_GONE),
                 "the tab was replaced by a new attachment before it answered", 0, 0, NULL, &fin);
        cv_detach(cv, CANVAS_END_ABORTED, "replaced by a new attachment");
    }
    uint64_t id = atomic_fetch_add(&m->next_tab_id, 1) + 1;
    cv->ops = ops;
    cv->ud = ud;
    cv->tab_id = id;
    cv->tab_revision = req->tab_revision;
    free(cv->title);
    cv->title = xstrdup(req->title);
    pthread_mutex_lock(&m->mu);
    cv->attached = 1;
    cv->att_id = id;
    cv->last_used = mono();
    if (req->focused) {
        for (size_t i = 0; i < m->n_cvs; i++)
            m->cvs[i]->focused = 0;
        cv->focused = 1;
        cv->focus_seq = ++m->focus_counter;
        cv->focused_at_ms = text_now_ms();
    }
    pthread_mutex_unlock(&m->mu);
    Comfyd__V1__Attached a = COMFYD__V1__ATTACHED__INIT;
    a.canvas_id = cv->id;
    a.revision = graph_revision(cv->g);
    Comfyd__V1__AttachCanvasResponse msg = COMFYD__V1__ATTACH_CANVAS_RESPONSE__INIT;
    msg.kind_case = COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_ATTACHED;
    msg.attached = &a;
    if (send_tab(cv, &msg))
        LOG_W(MOD, "canvas %s: the tab's stream took no Attached", LOG_ESC(cv->id));
    LOG_I(MOD, "canvas %s attached: revision %llu, %zu node(s)%s", LOG_ESC(cv->id),
          (unsigned long long)graph_revision(cv->g), graph_node_count(cv->g),
          tab_ni ? "" : ", global node types");
    pump(cv, &fin);
    pthread_mutex_unlock(&cv->mu);
    *tab_id = id;
    fin_run(m, &fin);
    canvas_unref(cv);
    return CANVAS_OK;
}

/* Is a report with this tab_revision older than a state already in? */
static int tab_rev_stale(canvas *cv, uint64_t tab_rev)
{
    return tab_rev && tab_rev < cv->tab_revision;
}

static void tab_rev_seen(canvas *cv, uint64_t tab_rev)
{
    if (tab_rev > cv->tab_revision) cv->tab_revision = tab_rev;
}

/* Asks the tab for its whole workflow: the delta it sent for request_id
 * (0: a user edit) did not give its graph. Returns send_tab's result. */
static int ask_resync(canvas *cv, uint64_t request_id, const char *why)
{
    LOG_W(MOD, "canvas %s: the tab's delta was not applied (%s); asking for the whole workflow",
          LOG_ESC(cv->id), why);
    Comfyd__V1__ResyncRequest rs = COMFYD__V1__RESYNC_REQUEST__INIT;
    rs.request_id = request_id;
    Comfyd__V1__AttachCanvasResponse msg = COMFYD__V1__ATTACH_CANVAS_RESPONSE__INIT;
    msg.kind_case = COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_RESYNC;
    msg.resync = &rs;
    return send_tab(cv, &msg);
}

static int report_patch(canvas *cv, const Comfyd__V1__PatchResult *r, jlist *fin, canvas_error *err)
{
    job *j = cv->inflight;
    const char *wf = r->workflow_json ? r->workflow_json : "";
    /* The whole workflow wins over a delta sent beside it. */
    const Comfyd__V1__GraphDelta *delta = *wf ? NULL : r->delta;
    char e[256] = "";
    int changed = 0, rc;
    if (!j || j->kind != JOB_PATCH || j->request_id != r->request_id) {
        /* Late (after a timeout) or unknown: the tab's state still counts,
         * even when a command failed (partial patches keep the others; an
         * atomic one sends the state it rolled back to). */
        if ((!*wf && !delta) || tab_rev_stale(cv, r->tab_revision)) return CANVAS_OK;
        if (delta) {
            rc = cv_commit_delta(cv, delta, COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_AGENT, &changed,
                                 e, sizeof e);
            if (rc == GRAPH_ENOMEM) return fail(err, CANVAS_ENOMEM, 0, "out of memory");
            if (rc != GRAPH_OK) {
                ask_resync(cv, r->request_id, e);
                return CANVAS_OK;
            }
        } else {
            rc = cv_commit(cv, wf, strlen(wf), COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_AGENT,
                           &changed, e, sizeof e);
            if (rc != GRAPH_OK) return EINVALF(err, "patch_result.workflow_json: %s", e);
        }
        tab_rev_seen(cv, r->tab_revision);
        LOG_I(MOD, "canvas %s: late result of request %llu committed", LOG_ESC(cv->id),
              (unsigned long long)r->request_id);
        return CANVAS_OK;
    }
    int partial_state = *wf || delta;
    if ((r->ok || (j->mode == COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL && partial_state)) &&
        delta && !tab_rev_stale(cv, r->tab_revision)) {
        rc = cv_commit_delta(cv, delta, COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_AGENT, &changed, e,
                             sizeof e);
        if (rc != GRAPH_OK && rc != GRAPH_ENOMEM) {
            /* The patch stays in flight until the tab sends its result
             * again with the whole workflow (or its deadline passes). */
            if (ask_resync(cv, r->request_id, e) == 0) return CANVAS_OK;
            cv->inflight = NULL;
            job_refuse(cv, j, GE(EDITOR_GONE), fin,
                       "the tab of canvas \"%s\" is not reading its stream", cv->id);
            return CANVAS_OK;
        }
        cv->inflight = NULL;
        if (rc == GRAPH_ENOMEM) {
            job_refuse(cv, j, GE(EDITOR_FAILED), fin, "out of memory applying the tab's delta");
            return fail(err, CANVAS_ENOMEM, 0, "out of memory");
        }
        tab_rev_seen(cv, r->tab_revision);
        patch_commit(cv, j, r, fin);
        return CANVAS_OK;
    }
    cv->inflight = NULL;
    /* ok is "every command applied". An atomic patch that failed was rolled
     * back in the tab, so the mirror stays. A partial one kept the commands
     * that worked: the tab's workflow is the truth whatever ok says, and
     * the tab will not report that state again, so it is committed and
     * each command answered. */
    int partial = j->mode == COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL;
    if (!r->ok && !(partial && partial_state)) {
        char *m = tab_text(r->error);
        job_refuse(cv, j, GE(EDITOR_FAILED), fin, "the tab could not apply the patch: %s",
                   m ? m : "no reason given");
        free(m);
        return CANVAS_OK;
    }
    if (!*wf) {
        if (delta) { /* older than a state already in: the results still hold */
            patch_commit(cv, j, r, fin);
            return CANVAS_OK;
        }
        job_refuse(cv, j, GE(EDITOR_FAILED), fin,
                   "the tab reported success without the workflow after the patch");
        return EINVALF(err, "patch_result.workflow_json is required when ok is true");
    }
    if (!tab_rev_stale(cv, r->tab_revision)) {
        rc = cv_commit(cv, wf, strlen(wf), COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_AGENT, &changed,
                       e, sizeof e);
        if (rc != GRAPH_OK) {
            job_refuse(cv, j, GE(EDITOR_FAILED), fin,
                       "the tab's workflow after the patch is not usable: %s", e);
            return EINVALF(err, "patch_result.workflow_json: %s", e);
        }
        tab_rev_seen(cv, r->tab_revision);
    }
    patch_commit(cv, j, r, fin);
    return CANVAS_OK;
}

static Comfyd__V1__QueueResponse *queue_resp(canvas *cv, const Comfyd__V1__EditorQueueResult *r)
{
    Comfyd__V1__QueueResponse *q = xcalloc(1, sizeof *q);
    comfyd__v1__queue_response__init(q);
    char *pid = tab_text(r->prompt_id);
    q->prompt_id = pid ? pid : xstrdup("");
    q->number = r->number;
    q->canvas_id = xstrdup(cv->id);
    q->revision = graph_revision(cv->g);
    return q;
}

static Comfyd__V1__LoadResponse *load_resp(canvas *cv)
{
    Comfyd__V1__LoadResponse *l = xcalloc(1, sizeof *l);
    comfyd__v1__load_response__init(l);
    l->canvas_id = xstrdup(cv->id);
    l->revision = graph_revision(cv->g);
    l->node_count = (uint32_t)graph_node_count(cv->g);
    return l;
}

static int report_load(canvas *cv, const Comfyd__V1__EditorLoadResult *r, jlist *fin,
                       canvas_error *err)
{
    job *j = cv->inflight;
    const char *wf = r->workflow_json && *r->workflow_json ? r->workflow_json : NULL;
    char e[256] = "";
    int changed = 0, rc;
    if (!j || j->kind != JOB_LOAD || j->request_id != r->request_id) {
        if (!r->ok || !wf || tab_rev_stale(cv, r->tab_revision)) return CANVAS_OK;
        rc = cv_commit(cv, wf, strlen(wf), COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_LOAD, &changed, e,
                       sizeof e);
        if (rc != GRAPH_OK) return EINVALF(err, "load_result.workflow_json: %s", e);
        tab_rev_seen(cv, r->tab_revision);
        return CANVAS_OK;
    }
    cv->inflight = NULL;
    if (!r->ok) {
        char *m = tab_text(r->error);
        job_refuse(cv, j, GE(EDITOR_FAILED), fin, "the tab could not load the workflow: %s",
                   m ? m : "no reason given");
        free(m);
        return CANVAS_OK;
    }
    if (!tab_rev_stale(cv, r->tab_revision)) {
        const char *use = wf ? wf : j->json;
        rc = cv_commit(cv, use, wf ? strlen(wf) : j->json_len,
                       COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_LOAD, &changed, e, sizeof e);
        if (rc != GRAPH_OK) {
            job_refuse(cv, j, GE(EDITOR_FAILED), fin,
                       "the tab's workflow after loading is not usable: %s", e);
            return EINVALF(err, "load_result.workflow_json: %s", e);
        }
        tab_rev_seen(cv, r->tab_revision);
    }
    j->err = CANVAS_OK;
    j->resp = &load_resp(cv)->base;
    jl_push(fin, j);
    return CANVAS_OK;
}

int canvas_report(canvas_mgr *m, const Comfyd__V1__ReportEditorRequest *req, uint64_t *revision,
                  canvas_error *err)
{
    return canvas_report_ex(m, req, revision, NULL, err);
}

int canvas_report_ex(canvas_mgr *m, const Comfyd__V1__ReportEditorRequest *req, uint64_t *revision,
                     char **provenance_json, canvas_error *err)
{
    *revision = 0;
    if (provenance_json) *provenance_json = NULL;
    if (check_canvas_id(req->canvas_id, 1, err)) return CANVAS_EINVAL;
    int rc = CANVAS_OK;
    switch (req->report_case) {
    case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_PATCH_RESULT:
    case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_QUEUE_RESULT:
    case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_LOAD_RESULT:
    case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_USER_EDIT:
    case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_FOCUS:
        if (!req->patch_result) /* every member of the oneof shares the pointer slot */
            return EINVALF(err, "the report is empty");
        break;
    default:
        return EINVALF(err, "the report is empty: set patch_result, queue_result, load_result, "
                            "user_edit or focus");
    }
    canvas *cv = resolve(m, req->canvas_id, &rc, err);
    if (!cv) return rc;
    jlist fin = {0};
    char e[256] = "";
    int changed = 0;
    pthread_mutex_lock(&cv->mu);
    uint64_t rev_before = graph_revision(cv->g);
    cv->report_rid = req->report_case == COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_PATCH_RESULT
                         ? req->patch_result->request_id
                     : req->report_case == COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_LOAD_RESULT
                         ? req->load_result->request_id
                         : 0;
    if (cv->closed) {
        rc = fail(err, CANVAS_ESHUTDOWN, 0, "server shutting down");
    } else {
        switch (req->report_case) {
        case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_PATCH_RESULT:
            rc = report_patch(cv, req->patch_result, &fin, err);
            break;
        case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_QUEUE_RESULT: {
            const Comfyd__V1__EditorQueueResult *r = req->queue_result;
            job *j = cv->inflight;
            if (j && j->kind == JOB_QUEUE && j->request_id == r->request_id) {
                cv->inflight = NULL;
                if (r->ok) {
                    j->err = CANVAS_OK;
                    j->resp = &queue_resp(cv, r)->base;
                    /* A tab that predates prompt_only queued it itself and
                     * sends no prompt: the run is then known by its id. */
                    if (j->prompt_only && r->prompt_json && *r->prompt_json) {
                        j->prompt_json = xstrdup(r->prompt_json);
                        j->workflow_json = xstrdup(r->workflow_json ? r->workflow_json : "");
                    }
                    jl_push(&fin, j);
                } else {
                    char *msg = tab_text(r->error);
                    job_refuse(cv, j, GE(EDITOR_FAILED), &fin,
                               "the tab could not queue the workflow: %s",
                               msg ? msg : "no reason given");
                    free(msg);
                }
            }
            break;
        }
        case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_LOAD_RESULT:
            rc = report_load(cv, req->load_result, &fin, err);
            break;
        case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_USER_EDIT: {
            const Comfyd__V1__UserEdit *u = req->user_edit;
            const char *wf = u->workflow_json ? u->workflow_json : "";
            if (!*wf && u->delta) {
                if (!tab_rev_stale(cv, u->tab_revision)) {
                    int grc =
                        cv_commit_delta(cv, u->delta, COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER,
                                        &changed, e, sizeof e);
                    if (grc == GRAPH_ENOMEM)
                        rc = fail(err, CANVAS_ENOMEM, 0, "out of memory");
                    else if (grc != GRAPH_OK)
                        ask_resync(cv, 0, e);
                    else
                        tab_rev_seen(cv, u->tab_revision);
                }
            } else if (!*wf) {
                rc = EINVALF(err, "user_edit.workflow_json or user_edit.delta is required");
            } else if (!tab_rev_stale(cv, u->tab_revision)) {
                int grc = cv_commit(cv, wf, strlen(wf), COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER,
                                    &changed, e, sizeof e);
                if (grc == GRAPH_ENOMEM)
                    rc = fail(err, CANVAS_ENOMEM, 0, "out of memory");
                else if (grc != GRAPH_OK)
                    rc = EINVALF(err, "user_edit.workflow_json: %s", e);
                else
                    tab_rev_seen(cv, u->tab_revision);
            }
            break;
        }
        default: {
            pthread_mutex_lock(&m->mu);
            if (req->focus->focused) {
                for (size_t i = 0; i < m->n_cvs; i++)
                    m->cvs[i]->focused = 0;
                cv->focused = 1;
                cv->focus_seq = ++m->focus_counter;
                cv->focused_at_ms = text_now_ms();
            } else {
                cv->focused = 0;
            }
            pthread_mutex_unlock(&m->mu);
            break;
        }
        }
        pump(cv, &fin);
    }
    cv->report_rid = 0;
    *revision = graph_revision(cv->g);
    /* Each node and link record takes more than CANVAS_PROV_MIN_RECORD
     * bytes: a graph that surely gives more than CANVAS_MAX_PROV_REPLY is
     * not even written. */
    size_t objects = graph_node_count(cv->g) + graph_link_count(cv->g);
    if (provenance_json && *revision != rev_before &&
        objects <= CANVAS_MAX_PROV_REPLY / CANVAS_PROV_MIN_RECORD) {
        size_t plen = 0;
        char *pj = provn_to_json(cv->provn, cv->g, *revision, &plen, NULL);
        if (pj && plen <= CANVAS_MAX_PROV_REPLY)
            *provenance_json = pj;
        else
            free(pj);
    }
    pthread_mutex_unlock(&cv->mu);
    fin_run(m, &fin);
    canvas_unref(cv);
    return rc;
}

/* ---- submitting requests ---- */

/* Request-level checks of a batch: sizes and encodings. Graph-level ones
 * are graph_validate's. */
static int check_cmds(const Comfyd__V1__Command *const *cmds, size_t n, canvas_error *err)
{
    if (n > GRAPH_MAX_BATCH)
        return EINVALF(err, "a batch has at most %d commands, this one has %zu", GRAPH_MAX_BATCH,
                       n);
    for (size_t i = 0; i < n; i++) {
        char msg[CANVAS_ERRLEN];
        if (graph_cmd_check_shape(cmds[i], i, msg, sizeof msg) != GRAPH_OK)
            return EINVALF(err, "%s", msg);
    }
    return CANVAS_OK;
}

static uint32_t wait_ms(canvas_mgr *m, uint32_t req_ms, uint32_t limit_ms)
{
    uint32_t t = req_ms ? req_ms : m->o.default_timeout_ms;
    if (t > CANVAS_MAX_TIMEOUT_MS) t = CANVAS_MAX_TIMEOUT_MS;
    if (limit_ms && limit_ms < t) t = limit_ms;
    return t;
}

static job *job_new(canvas_mgr *m, job_kind kind, req_kind rk, const char *canvas_id,
                    uint32_t req_ms, uint32_t limit_ms, canvas_done_fn done, void *ud)
{
    job *j = xcalloc(1, sizeof *j);
    j->kind = kind;
    j->rk = rk;
    j->req_canvas = canvas_id ? canvas_id : "";
    j->done = done;
    j->ud = ud;
    j->timeout_ms = wait_ms(m, req_ms, limit_ms);
    j->deadline = mono() + j->timeout_ms;
    j->deadline_wall = text_now_ms() + j->timeout_ms;
    provn_actor_make(&j->who, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC, NULL, NULL, NULL, NULL, 0);
    return j;
}

/* Takes the idempotency key of a mutating request: 0 to go on (with
 * j->idem set when there is a key), 1 when the request was answered or
 * joined a retry in flight (j freed), or an error (j freed). */
static int begin_key(canvas_mgr *m, job *j, const char *key, const uint8_t *hash, canvas_error *err)
{
    if (!key || !*key) return 0;
    idem_copy copy = {0};
    idem_state st =
        idem_begin(m->idem, j->rk, j->req_canvas, key, hash, j->done, j->ud, &j->idem, &copy);
    if (st == IDEM_NEW) return 0;
    if (st == IDEM_MISMATCH) {
        jlist fin = {0};
        job_refuse(NULL, j, GE(IDEMPOTENCY_KEY_REUSED), &fin,
                   "idempotency_key \"%s\" was first used with a different request; a key names "
                   "one request (use a new key for a new request)",
                   key);
        fin_run(m, &fin);
        return 1;
    }
    canvas_done_fn done = j->done;
    void *ud = j->ud;
    job_free(j);
    if (st == IDEM_FULL)
        return fail(err, CANVAS_EFULL, 0,
                    "%zu idempotency keys are in flight; retry when some have finished",
                    m->o.idem_max_keys);
    if (st == IDEM_REPLAY) idem_replay(&copy, done, ud);
    return 1;
}

/* Resolves, then queues j on its canvas (or answers it at once when
 * read_only). Every outcome goes through j's callback. */
static void submit(canvas_mgr *m, job *j, int read_only, int validate_only)
{
    jlist fin = {0};
    int rc = CANVAS_OK;
    canvas_error e;
    canvas *cv = resolve(m, j->req_canvas, &rc, &e);
    if (!cv) {
        if (rc == CANVAS_EGRAPH)
            job_refuse(NULL, j, e.code, &fin, "%s", e.message);
        else
            job_end_err(j, rc, 0, e.message, &fin);
        fin_run(m, &fin);
        return;
    }
    j->cv = cv;
    pthread_mutex_lock(&cv->mu);
    if (cv->closed) {
        job_end_err(j, CANVAS_ESHUTDOWN, 0, "server shutting down", &fin);
    } else if (read_only) {
        if (!stale_base(cv, j, &fin) && !validate(cv, j, &fin))
            patch_from_check(cv, j, validate_only, &fin);
    } else if (!cv->ops) {
        job_refuse(cv, j, GE(NO_LIVE_CANVAS), &fin,
                   "canvas \"%s\" has no tab attached (its mirror is stale)", cv->id);
    } else if (cv->n_queued >= m->o.max_queued) {
        job_end_err(j, CANVAS_EFULL, 0, "too many requests are waiting for this canvas's tab",
                    &fin);
    } else {
        if (cv->q_tail)
            cv->q_tail->next = j;
        else
            cv->q_head = j;
        cv->q_tail = j;
        cv->n_queued++;
        arm(m, j->deadline);
        pump(cv, &fin);
    }
    pthread_mutex_unlock(&cv->mu);
    fin_run(m, &fin);
}

static int shutting_down(canvas_mgr *m, canvas_error *err)
{
    pthread_mutex_lock(&m->mu);
    int s = m->shutdown;
    pthread_mutex_unlock(&m->mu);
    return s ? fail(err, CANVAS_ESHUTDOWN, 0, "server shutting down") : CANVAS_OK;
}

static int submit_patch(canvas_mgr *m, job *j, const char *key, const uint8_t *hash,
                        int validate_only, canvas_error *err)
{
    int read_only = validate_only;
    if (!read_only) {
        read_only = 1;
        for (size_t i = 0; i < j->n; i++)
            if (!is_get_graph(j->cmds[i])) read_only = 0;
    }
    int rc = shutting_down(m, err);
    if (rc) {
        job_free(j);
        return rc;
    }
    /* Keys only matter where something could be applied twice. */
    if (!read_only && (rc = begin_key(m, j, key, hash, err))) return rc < 0 ? rc : CANVAS_OK;
    submit(m, j, read_only, validate_only);
    return CANVAS_OK;
}

static int check_on_stale(Comfyd__V1__OnStale v, canvas_error *err)
{
    if (v == COMFYD__V1__ON_STALE__ON_STALE_UNSPECIFIED ||
        v == COMFYD__V1__ON_STALE__ON_STALE_REBASE || v == COMFYD__V1__ON_STALE__ON_STALE_REJECT)
        return 0;
    return EINVALF(err, "on_stale %d is not REBASE or REJECT", (int)v);
}

int canvas_execute(canvas_mgr *m, const Comfyd__V1__ExecuteRequest *req, uint32_t limit_ms,
                   canvas_done_fn done, void *ud, canvas_error *err)
{
    return canvas_execute_as(m, req, NULL, limit_ms, done, ud, err);
}

int canvas_execute_as(canvas_mgr *m, const Comfyd__V1__ExecuteRequest *req, const provn_actor *who,
                      uint32_t limit_ms, canvas_done_fn done, void *ud, canvas_error *err)
{
    if (check_canvas_id(req->canvas_id, 0, err) || check_key(req->idempotency_key, err))
        return CANVAS_EINVAL;
    if (!req->command) return EINVALF(err, "command is required");
    if (check_on_stale(req->on_stale, err)) return CANVAS_EINVAL;
    const Comfyd__V1__Command *const one[1] = {req->command};
    if (check_cmds(one, 1, err)) {
        /* Name the field as Execute has it. */
        if (req->command->command_case == COMFYD__V1__COMMAND__COMMAND__NOT_SET) {
            char names[256];
            snprintf(err->message, sizeof err->message, "command is empty: set one of %s",
                     graph_cmd_names(names, sizeof names));
        }
        return CANVAS_EINVAL;
    }
    job *j = job_new(m, JOB_PATCH, RK_EXECUTE, req->canvas_id, req->timeout_ms, limit_ms, done, ud);
    j->single = 1;
    if (who) j->who = *who;
    j->one[0] = req->command;
    j->cmds = j->one;
    j->n = 1;
    j->has_base = req->base_revision != NULL;
    j->base = req->base_revision ? req->base_revision->value : 0;
    j->stale_reject = req->on_stale == COMFYD__V1__ON_STALE__ON_STALE_REJECT;
    j->mode = COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC;
    uint8_t hash[STORE_IDEM_HASH_LEN] = {0};
    if (req->idempotency_key && *req->idempotency_key) idem_hash_execute(req, hash);
    return submit_patch(m, j, req->idempotency_key, hash, req->validate_only, err);
}

int canvas_execute_batch(canvas_mgr *m, const Comfyd__V1__ExecuteBatchRequest *req,
                         uint32_t limit_ms, canvas_done_fn done, void *ud, canvas_error *err)
{
    return canvas_execute_batch_as(m, req, NULL, limit_ms, done, ud, err);
}

int canvas_execute_batch_as(canvas_mgr *m, const Comfyd__V1__ExecuteBatchRequest *req,
                            const provn_actor *who, uint32_t limit_ms, canvas_done_fn done,
                            void *ud, canvas_error *err)
{
    if (check_canvas_id(req->canvas_id, 0, err) || check_key(req->idempotency_key, err) ||
        check_cmds((const Comfyd__V1__Command *const *)req->commands, req->n_commands, err) ||
        check_on_stale(req->on_stale, err))
        return CANVAS_EINVAL;
    if (req->mode != COMFYD__V1__BATCH_MODE__BATCH_MODE_UNSPECIFIED &&
        req->mode != COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC &&
        req->mode != COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL)
        return EINVALF(err, "mode %d is not ATOMIC or PARTIAL", (int)req->mode);
    job *j = job_new(m, JOB_PATCH, RK_BATCH, req->canvas_id, req->timeout_ms, limit_ms, done, ud);
    if (who) j->who = *who;
    j->cmds = (const Comfyd__V1__Command *const *)req->commands;
    j->n = req->n_commands;
    j->has_base = req->base_revision != NULL;
    j->base = req->base_revision ? req->base_revision->value : 0;
    j->stale_reject = req->on_stale == COMFYD__V1__ON_STALE__ON_STALE_REJECT;
    j->mode = req->mode;
    uint8_t hash[STORE_IDEM_HASH_LEN] = {0};
    if (req->idempotency_key && *req->idempotency_key) idem_hash_batch(req, hash);
    return submit_patch(m, j, req->idempotency_key, hash, req->validate_only, err);
}

static int queue_job(canvas_mgr *m, const Comfyd__V1__QueueRequest *req, uint32_t limit_ms,
                     canvas_done_fn done, void *ud, canvas_error *err, int prompt_only)
{
    if (check_canvas_id(req->canvas_id, 0, err) || check_key(req->idempotency_key, err))
        return CANVAS_EINVAL;
    if (req->batch_count > CANVAS_MAX_BATCH_COUNT)
        return EINVALF(err, "batch_count is at most %d", CANVAS_MAX_BATCH_COUNT);
    int rc = shutting_down(m, err);
    if (rc) return rc;
    job *j = job_new(m, JOB_QUEUE, RK_QUEUE, req->canvas_id, req->timeout_ms, limit_ms, done, ud);
    j->batch_count = req->batch_count ? req->batch_count : 1;
    uint8_t hash[STORE_IDEM_HASH_LEN] = {0};
    if (req->idempotency_key && *req->idempotency_key) idem_hash_queue(req, hash);
    j->prompt_only = prompt_only;
    if ((rc = begin_key(m, j, req->idempotency_key, hash, err))) return rc < 0 ? rc : CANVAS_OK;
    submit(m, j, 0, 0);
    return CANVAS_OK;
}

int canvas_queue(canvas_mgr *m, const Comfyd__V1__QueueRequest *req, uint32_t limit_ms,
                 canvas_done_fn done, void *ud, canvas_error *err)
{
    return queue_job(m, req, limit_ms, done, ud, err, 0);
}

int canvas_queue_prompt(canvas_mgr *m, const Comfyd__V1__QueueRequest *req, uint32_t limit_ms,
                        canvas_done_fn done, void *ud, canvas_error *err)
{
    return queue_job(m, req, limit_ms, done, ud, err, 1);
}

int canvas_load(canvas_mgr *m, const Comfyd__V1__LoadRequest *req, uint32_t limit_ms,
                canvas_done_fn done, void *ud, canvas_error *err)
{
    return canvas_load_as(m, req, NULL, limit_ms, done, ud, err);
}

int canvas_load_as(canvas_mgr *m, const Comfyd__V1__LoadRequest *req, const provn_actor *who,
                   uint32_t limit_ms, canvas_done_fn done, void *ud, canvas_error *err)
{
    if (check_canvas_id(req->canvas_id, 0, err) || check_key(req->idempotency_key, err))
        return CANVAS_EINVAL;
    int direct = req->workflow_json && *req->workflow_json;
    char e[256] = "";
    if (!direct) {
        if (!req->name || !*req->name) return EINVALF(err, "name or workflow_json is required");
        if (wfstore_check_name(req->name, e, sizeof e))
            return EGRAPHF(err, GE(INVALID_NAME), "name: %s", e);
    } else if (strlen(req->workflow_json) > CANVAS_MAX_SEND_JSON) {
        return EINVALF(err, "workflow_json is larger than %u bytes", CANVAS_MAX_SEND_JSON);
    }
    int rc = shutting_down(m, err);
    if (rc) return rc;
    job *j = job_new(m, JOB_LOAD, RK_LOAD, req->canvas_id, req->timeout_ms, limit_ms, done, ud);
    j->undo_step = req->undo_step;
    if (who) j->who = *who;
    uint8_t hash[STORE_IDEM_HASH_LEN] = {0};
    if (req->idempotency_key && *req->idempotency_key) idem_hash_load(req, hash);
    if ((rc = begin_key(m, j, req->idempotency_key, hash, err))) return rc < 0 ? rc : CANVAS_OK;
    jlist fin = {0};
    if (direct) {
        j->json = req->workflow_json;
        j->json_len = strlen(req->workflow_json);
    } else if (!m->o.store) {
        job_end_err(j, CANVAS_EIO, 0, "no workflow store is configured", &fin);
    } else {
        rc = wfstore_load(m->o.store, req->name, &j->json_owned, &j->json_len, e, sizeof e);
        if (rc == WFSTORE_ENOENT)
            job_refuse(NULL, j, GE(WORKFLOW_NOT_FOUND), &fin, "%s (ListWorkflows lists them)", e);
        else if (rc == WFSTORE_ETOOBIG)
            job_end_err(j, CANVAS_EINVAL, 0, e, &fin);
        else if (rc)
            job_end_err(j, rc == WFSTORE_ENOMEM ? CANVAS_ENOMEM : CANVAS_EIO, 0, e, &fin);
        else if (j->json_len > CANVAS_MAX_SEND_JSON)
            job_end_err(j, CANVAS_EINVAL, 0,
                        "the stored workflow is too large to send to a tab in one message", &fin);
        j->json = j->json_owned;
    }
    if (!fin.head) {
        /* Refuse what the tab could not load before bothering it. */
        graph *g = NULL;
        rc = graph_parse_workflow(&g, j->json, j->json_len, NULL, 1, e, sizeof e);
        graph_destroy(g);
        if (rc == GRAPH_ENOMEM) {
            job_end_err(j, CANVAS_ENOMEM, 0, "out of memory", &fin);
        } else if (rc) {
            char *msg = direct ? xprintf("workflow_json: %s", e)
                               : xprintf("the stored workflow \"%s\": %s", req->name, e);
            job_end_err(j, CANVAS_EINVAL, 0, msg, &fin);
            free(msg);
        }
    }
    if (fin.head) {
        fin_run(m, &fin);
        return CANVAS_OK;
    }
    submit(m, j, 0, 0);
    return CANVAS_OK;
}

/* ---- requests answered at once ---- */

int canvas_get_graph(canvas_mgr *m, const Comfyd__V1__GetGraphRequest *req,
                     Comfyd__V1__GetGraphResponse **out, canvas_error *err)
{
    *out = NULL;
    if (check_canvas_id(req->canvas_id, 0, err)) return CANVAS_EINVAL;
    int rc = CANVAS_OK;
    canvas *cv = resolve(m, req->canvas_id, &rc, err);
    if (!cv) return rc;
    Comfyd__V1__GetGraphResponse *r = xcalloc(1, sizeof *r);
    comfyd__v1__get_graph_response__init(r);
    pthread_mutex_lock(&cv->mu);
    r->graph = cv_graph(cv);
    if (req->include_workflow) r->workflow_json = xstrdup(graph_workflow_json(cv->g, NULL));
    pthread_mutex_unlock(&cv->mu);
    canvas_unref(cv);
    *out = r;
    return CANVAS_OK;
}

int canvas_get_diff(canvas_mgr *m, const Comfyd__V1__GetDiffRequest *req,
                    Comfyd__V1__GetDiffResponse **out, canvas_error *err)
{
    *out = NULL;
    if (check_canvas_id(req->canvas_id, 0, err)) return CANVAS_EINVAL;
    int rc = CANVAS_OK;
    canvas *cv = resolve(m, req->canvas_id, &rc, err);
    if (!cv) return rc;
    Comfyd__V1__GetDiffResponse *r = xcalloc(1, sizeof *r);
    comfyd__v1__get_diff_response__init(r);
    r->canvas_id = xstrdup(cv->id);
    r->from_revision = req->since_revision;
    pthread_mutex_lock(&cv->mu);
    uint64_t rev = graph_revision(cv->g);
    r->to_revision = rev;
    int grc = req->since_revision > rev
                  ? GRAPH_ETRUNCATED
                  : graph_diff_since(cv->g, req->since_revision, &r->ops, &r->n_ops);
    if (grc == GRAPH_OK && provn_fill_ops(cv->provn, r->ops, r->n_ops)) grc = GRAPH_ENOMEM;
    if (grc == GRAPH_ETRUNCATED) {
        r->truncated = 1;
        r->graph = cv_graph(cv);
    }
    pthread_mutex_unlock(&cv->mu);
    canvas_unref(cv);
    if (grc == GRAPH_ENOMEM) {
        pb_free(r);
        return fail(err, CANVAS_ENOMEM, 0, "out of memory");
    }
    *out = r;
    return CANVAS_OK;
}

int canvas_node_history(canvas_mgr *m, const Comfyd__V1__GetNodeHistoryRequest *req,
                        Comfyd__V1__GetNodeHistoryResponse **out, canvas_error *err)
{
    *out = NULL;
    if (check_canvas_id(req->canvas_id, 0, err)) return CANVAS_EINVAL;
    if (req->node_id < 0) return EINVALF(err, "node_id must not be negative");
    if (req->limit > CANVAS_MAX_HISTORY)
        return EINVALF(err, "limit is at most %d", CANVAS_MAX_HISTORY);
    size_t limit = req->limit ? req->limit : CANVAS_DEFAULT_HISTORY;
    int rc = CANVAS_OK;
    canvas *cv = resolve(m, req->canvas_id, &rc, err);
    if (!cv) return rc;
    Comfyd__V1__GetNodeHistoryResponse *r = xcalloc(1, sizeof *r);
    comfyd__v1__get_node_history_response__init(r);
    r->canvas_id = xstrdup(cv->id);
    Comfyd__V1__GraphOp **ops = NULL;
    size_t n = 0;
    pthread_mutex_lock(&cv->mu);
    r->revision = graph_revision(cv->g);
    r->from_revision = graph_log_floor(cv->g);
    int grc = graph_diff_since(cv->g, r->from_revision, &ops, &n);
    if (grc == GRAPH_OK) {
        r->ops = xcalloc(limit, sizeof *r->ops);
        /* Newest first; the ops not answered are freed below. */
        for (size_t i = n; i-- > 0;) {
            const Comfyd__V1__GraphOp *op = ops[i];
            if (req->node_id && op->node_id != req->node_id && op->from_node_id != req->node_id)
                continue;
            if (r->n_ops == limit) {
                r->truncated = 1;
                break;
            }
            r->ops[r->n_ops++] = ops[i];
            ops[i] = NULL;
        }
        if (provn_fill_ops(cv->provn, r->ops, r->n_ops)) grc = GRAPH_ENOMEM;
        if (req->node_id) r->provenance = provn_node_provenance(cv->provn, req->node_id);
    }
    pthread_mutex_unlock(&cv->mu);
    canvas_unref(cv);
    graph_ops_free(ops, n);
    if (grc != GRAPH_OK) {
        pb_free(r);
        return fail(err, CANVAS_ENOMEM, 0, "out of memory");
    }
    *out = r;
    return CANVAS_OK;
}

int canvas_list_node_types(canvas_mgr *m, const Comfyd__V1__ListNodeTypesRequest *req,
                           Comfyd__V1__ListNodeTypesResponse **out, canvas_error *err)
{
    *out = NULL;
    if (check_canvas_id(req->canvas_id, 0, err) ||
        check_str(req->query, NODEINFO_MAX_NAME, err, "query") ||
        check_str(req->category, NODEINFO_MAX_NAME, err, "category"))
        return CANVAS_EINVAL;
    if (req->n_names > CANVAS_MAX_NAMES) return EINVALF(err, "names: at most %d", CANVAS_MAX_NAMES);
    for (size_t i = 0; i < req->n_names; i++)
        if (check_str(req->names[i], NODEINFO_MAX_NAME, err, "names[%zu]", i)) return CANVAS_EINVAL;
    nodeinfo *ni = NULL;
    if (req->canvas_id && *req->canvas_id) {
        int rc = CANVAS_OK;
        canvas *cv = resolve(m, req->canvas_id, &rc, err);
        if (!cv) return rc;
        pthread_mutex_lock(&cv->mu);
        ni = cv_schema(cv);
        pthread_mutex_unlock(&cv->mu);
        canvas_unref(cv);
    } else {
        ni = canvas_mgr_schema(m);
    }
    Comfyd__V1__ListNodeTypesResponse *r = xcalloc(1, sizeof *r);
    comfyd__v1__list_node_types_response__init(r);
    size_t count = ni ? nodeinfo_count(ni) : 0;
    const nodeinfo_type **found = xcalloc(count, sizeof *found);
    size_t n = 0, total = 0;
    if (req->n_names) {
        for (size_t i = 0; i < req->n_names && ni; i++) {
            const nodeinfo_type *t = nodeinfo_find(ni, req->names[i]);
            if (t && n < count) found[n++] = t;
        }
        total = n;
    } else if (ni) {
        n = nodeinfo_search(ni, req->query, req->category, found, count, &total);
    }
    if (req->limit && n > req->limit) n = req->limit;
    r->node_types = xcalloc(n, sizeof *r->node_types);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        Comfyd__V1__NodeType *t = nodeinfo_type_to_proto(found[i]);
        if (!t) abort();
        size_t sz = protobuf_c_message_get_packed_size(&t->base) + 8;
        if (bytes + sz > CANVAS_MAX_LIST_BYTES) {
            pb_free(t);
            break;
        }
        bytes += sz;
        r->node_types[r->n_node_types++] = t;
    }
    r->total = (uint32_t)total;
    free(found);
    nodeinfo_unref(ni);
    *out = r;
    return CANVAS_OK;
}

typedef struct {
    canvas *cv;
    uint64_t focus_seq;
    int attached, focused;
    int64_t focused_at_ms;
} list_row;

static int cmp_row(const void *pa, const void *pb)
{
    const list_row *a = pa, *b = pb;
    if (a->focus_seq != b->focus_seq) return a->focus_seq > b->focus_seq ? -1 : 1;
    if (a->attached != b->attached) return b->attached - a->attached;
    return strcmp(a->cv->id, b->cv->id);
}

int canvas_list(canvas_mgr *m, Comfyd__V1__ListCanvasesResponse **out, canvas_error *err)
{
    (void)err;
    pthread_mutex_lock(&m->mu);
    size_t n = m->n_cvs;
    list_row *rows = xcalloc(n, sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        canvas *c = m->cvs[i];
        rows[i] =
            (list_row){canvas_ref(c), c->focus_seq, c->attached, c->focused, c->focused_at_ms};
    }
    pthread_mutex_unlock(&m->mu);
    qsort(rows, n, sizeof *rows, cmp_row);
    Comfyd__V1__ListCanvasesResponse *r = xcalloc(1, sizeof *r);
    comfyd__v1__list_canvases_response__init(r);
    r->canvases = xcalloc(n, sizeof *r->canvases);
    for (size_t i = 0; i < n; i++) {
        Comfyd__V1__Canvas *c = xcalloc(1, sizeof *c);
        comfyd__v1__canvas__init(c);
        canvas *cv = rows[i].cv;
        pthread_mutex_lock(&cv->mu);
        c->canvas_id = xstrdup(cv->id);
        c->title = xstrdup(cv->title);
        c->revision = graph_revision(cv->g);
        c->node_count = (uint32_t)graph_node_count(cv->g);
        pthread_mutex_unlock(&cv->mu);
        c->attached = rows[i].attached;
        c->focused = rows[i].focused;
        c->focused_at_ms = rows[i].focused_at_ms;
        r->canvases[r->n_canvases++] = c;
        canvas_unref(cv);
    }
    free(rows);
    *out = r;
    return CANVAS_OK;
}

int canvas_save(canvas_mgr *m, const Comfyd__V1__SaveRequest *req, Comfyd__V1__SaveResponse **out,
                canvas_error *err)
{
    *out = NULL;
    char e[256] = "";
    if (check_canvas_id(req->canvas_id, 0, err)) return CANVAS_EINVAL;
    if (wfstore_check_name(req->name, e, sizeof e))
        return EGRAPHF(err, GE(INVALID_NAME), "name: %s", e);
    if (!m->o.store) return fail(err, CANVAS_EIO, 0, "no workflow store is configured");
    int rc = CANVAS_OK;
    canvas *cv = resolve(m, req->canvas_id, &rc, err);
    if (!cv) return rc;
    pthread_mutex_lock(&cv->mu);
    size_t len;
    const char *cur = graph_workflow_json(cv->g, &len);
    uint64_t rev = graph_revision(cv->g);
    /* The stored workflow carries its provenance where ComfyUI keeps but
     * ignores it (extra.comfyd.provenance). */
    char *json = NULL;
    size_t plen = 0, n_records = 0;
    char *pj = provn_to_json(cv->provn, cv->g, rev, &plen, &n_records);
    /* Nothing known: the workflow is stored as the tab has it. */
    int prc = !pj         ? PROVN_ENOMEM
              : n_records ? provn_inject_json(cur, len, pj, plen, &json, &len, e, sizeof e)
                          : PROVN_EINVAL;
    free(pj);
    if (prc == PROVN_EINVAL) {
        if (n_records) LOG_W(MOD, "canvas %s: saved without provenance: %s", LOG_ESC(cv->id), e);
        json = text_dupn(cur, len);
    } else if (prc) {
        pthread_mutex_unlock(&cv->mu);
        canvas_unref(cv);
        return fail(err, CANVAS_ENOMEM, 0, "out of memory");
    }
    pthread_mutex_unlock(&cv->mu);
    canvas_unref(cv);
    rc = wfstore_save(m->o.store, req->name, json, len, req->overwrite, e, sizeof e);
    free(json);
    if (rc == WFSTORE_EEXIST)
        return fail(err, CANVAS_EEXIST, 0, "%s (set overwrite to replace it)", e);
    if (rc == WFSTORE_EINVAL) return EGRAPHF(err, GE(INVALID_NAME), "name: %s", e);
    if (rc) return fail(err, CANVAS_EIO, 0, "%s", e);
    Comfyd__V1__SaveResponse *r = xcalloc(1, sizeof *r);
    comfyd__v1__save_response__init(r);
    r->name = xstrdup(req->name);
    r->revision = rev;
    r->bytes = len;
    *out = r;
    return CANVAS_OK;
}

int canvas_workflow(canvas_mgr *m, const char *canvas_id, char **json, size_t *len,
                    uint64_t *revision, char *resolved, canvas_error *err)
{
    *json = NULL;
    if (check_canvas_id(canvas_id, 0, err)) return CANVAS_EINVAL;
    int rc = CANVAS_OK;
    canvas *cv = resolve(m, canvas_id, &rc, err);
    if (!cv) return rc;
    pthread_mutex_lock(&cv->mu);
    const char *cur = graph_workflow_json(cv->g, len);
    *json = text_dupn(cur, *len);
    *revision = graph_revision(cv->g);
    if (resolved) snprintf(resolved, CANVAS_MAX_ID + 1, "%s", cv->id);
    pthread_mutex_unlock(&cv->mu);
    canvas_unref(cv);
    return CANVAS_OK;
}

int canvas_list_workflows(canvas_mgr *m, Comfyd__V1__ListWorkflowsResponse **out, canvas_error *err)
{
    *out = NULL;
    if (!m->o.store) return fail(err, CANVAS_EIO, 0, "no workflow store is configured");
    wfstore_entry *v = NULL;
    size_t n = 0;
    int rc = wfstore_list(m->o.store, &v, &n, NULL);
    if (rc)
        return fail(err, CANVAS_EIO, 0, "cannot list the workflow store: %s", wfstore_strerror(rc));
    Comfyd__V1__ListWorkflowsResponse *r = xcalloc(1, sizeof *r);
    comfyd__v1__list_workflows_response__init(r);
    r->workflows = xcalloc(n, sizeof *r->workflows);
    for (size_t i = 0; i < n; i++) {
        Comfyd__V1__StoredWorkflow *w = xcalloc(1, sizeof *w);
        comfyd__v1__stored_workflow__init(w);
        w->name = v[i].name;
        v[i].name = NULL;
        w->bytes = v[i].bytes;
        w->modified_at_ms = v[i].modified_at_ms;
        r->workflows[r->n_workflows++] = w;
    }
    wfstore_entries_free(v, n);
    *out = r;
    return CANVAS_OK;
}

/* ---- lifetime ---- */

int canvas_mgr_create(canvas_mgr **out, const canvas_mgr_opts *opts)
{
    *out = NULL;
    canvas_mgr *m = xcalloc(1, sizeof *m);
    if (opts) m->o = *opts;
    if (!m->o.default_timeout_ms) m->o.default_timeout_ms = CANVAS_DEFAULT_TIMEOUT_MS;
    if (m->o.default_timeout_ms > CANVAS_MAX_TIMEOUT_MS)
        m->o.default_timeout_ms = CANVAS_MAX_TIMEOUT_MS;
    if (!m->o.max_canvases) m->o.max_canvases = CANVAS_MAX_CANVASES;
    if (!m->o.max_queued) m->o.max_queued = CANVAS_MAX_QUEUED;
    if (!m->o.idem_max_keys) m->o.idem_max_keys = CANVAS_IDEM_MAX_KEYS;
    if (!m->o.idem_max_age_ms) m->o.idem_max_age_ms = CANVAS_IDEM_MAX_AGE_MS;
    m->cvs = xcalloc(m->o.max_canvases, sizeof *m->cvs);
    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_init(&m->schema_mu, NULL);
    pthread_mutex_init(&m->union_mu, NULL);
    pthread_mutex_init(&m->rev_mu, NULL);
    pthread_mutex_init(&m->wmu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->wcv, &ca);
    pthread_condattr_destroy(&ca);
    m->next_wake = INT64_MAX;
    uint64_t reserved = 0;
    if (m->o.db) {
        int rc = store_counter_get(m->o.db, CANVAS_REV_COUNTER, &reserved);
        if (rc != STORE_OK) {
            /* Refuse to start rather than hand out revisions that may repeat. */
            LOG_E(MOD, "cannot read the canvas revision counter: %s", store_strerror(rc));
            canvas_mgr_destroy(m);
            return CANVAS_EIO;
        }
        if (reserved)
            LOG_I(MOD, "canvas revisions continue above %llu", (unsigned long long)reserved);
    }
    m->idem = idem_table_create(m->o.db, m->o.idem_max_keys, m->o.idem_max_age_ms);
    atomic_init(&m->rev_high, reserved);
    atomic_init(&m->rev_reserved, reserved);
    atomic_init(&m->next_tab_id, 0);
    atomic_init(&m->next_request_id, 0);
    if (pthread_create(&m->worker, NULL, worker_main, m) != 0) {
        canvas_mgr_destroy(m);
        return CANVAS_ENOMEM;
    }
    m->worker_started = 1;
    *out = m;
    return CANVAS_OK;
}

void canvas_mgr_shutdown(canvas_mgr *m)
{
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    if (m->shutdown) {
        pthread_mutex_unlock(&m->mu);
        return;
    }
    m->shutdown = 1;
    size_t n;
    canvas **v = snapshot_locked(m, &n);
    pthread_mutex_unlock(&m->mu);
    pthread_mutex_lock(&m->wmu);
    m->wstop = 1;
    pthread_cond_signal(&m->wcv);
    pthread_mutex_unlock(&m->wmu);
    if (m->worker_started) pthread_join(m->worker, NULL);
    m->worker_started = 0;
    for (size_t i = 0; i < n; i++) {
        canvas *cv = v[i];
        jlist fin = {0};
        pthread_mutex_lock(&cv->mu);
        cv->closed = 1;
        end_jobs(cv, CANVAS_ESHUTDOWN, 0, "server shutting down", 1, 0, "server shutting down",
                 &fin);
        cv_detach(cv, CANVAS_END_UNAVAILABLE, "server shutting down");
        pthread_mutex_unlock(&cv->mu);
        fin_run(m, &fin);
    }
    snapshot_free(v, n);
}

void canvas_mgr_destroy(canvas_mgr *m)
{
    if (!m) return;
    canvas_mgr_shutdown(m);
    for (size_t i = 0; i < m->n_cvs; i++)
        canvas_unref(m->cvs[i]);
    free(m->cvs);
    idem_table_destroy(m->idem);
    free(m->gone);
    nodeinfo_unref(m->configured);
    nodeinfo_unref(m->uni);
    free(m->uni_json);
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->schema_mu);
    pthread_mutex_destroy(&m->union_mu);
    pthread_mutex_destroy(&m->rev_mu);
    pthread_mutex_destroy(&m->wmu);
    pthread_cond_destroy(&m->wcv);
    free(m);
}

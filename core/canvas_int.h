/* canvas_int: private to the canvas manager (canvas.h), whose code is
 * split by concern over canvas.c (strings, schemas, provenance, the map of
 * canvases, lifetime), canvas_dispatch.c (request outcomes and sending
 * requests to a tab), canvas_worker.c (deadlines and departed tabs),
 * canvas_tab.c (attachment and the tab's reports), canvas_submit.c (the
 * requests that go through a tab) and canvas_query.c (the requests
 * answered at once). This header holds the structures they share, the
 * small helpers (static inline) and the prototypes of the functions one
 * piece calls in another, prefixed cv_. Nothing outside core/canvas*.c
 * includes it. */
#ifndef COMFYD_CANVAS_INT_H
#define COMFYD_CANVAS_INT_H

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
#include "lease_graph.h"
#include "log.h"
#include "provenance.h"
#include "store.h"
#include "text.h"

#define MOD "canvas"
/* ---- small helpers ---- */

static inline void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) abort();
    return p;
}

static inline char *xstrdup(const char *s)
{
    return text_dup(s ? s : "");
}

static inline char *xvprintf(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) abort();
    return s;
}

static inline char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvprintf(fmt, ap);
    va_end(ap);
    return s;
}

static inline int fail(canvas_error *err, int rc, Comfyd__V1__GraphErrorCode code, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));
static inline int fail(canvas_error *err, int rc, Comfyd__V1__GraphErrorCode code, const char *fmt,
                       ...)
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
    /* Preview before apply (patches; canvas_preview.c). */
    Comfyd__V1__ApplyMode apply_mode;
    uint32_t preview_ms;                /* the wait for the user's decision */
    int64_t limit_end;                  /* monotonic ms the caller's limit ends (INT64_MAX: none) */
    int previewing;                     /* the PreviewRequest is out, no decision yet */
    int64_t preview_at;                 /* when it went out */
    Comfyd__V1__PreviewOutcome outcome; /* UNSPECIFIED: not (yet) previewed */
    uint32_t waited_ms;
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
    int can_preview; /* the tab shows PreviewRequests (AttachCanvasRequest.can_preview) */
    job *inflight;
    job *q_head, *q_tail;
    size_t n_queued;
    /* Provenance (provenance.h): the records, who the request last sent
     * to the tab was from (its request_id), and the request_id of the
     * report being handled (0: none, e.g. a user edit or an attach). */
    provn *provn;
    provn_actor sent_who;
    uint64_t sent_rid, report_rid;
    lgraph *leases; /* leases on its nodes (lease_graph.h; canvas_lease.c) */
    /* The revisions of the last whole provenance and of the last one
     * handed to the attached tab (0: none since it attached): a tab that
     * holds one in between gets only what changed after it (prov_reply in
     * canvas_tab.c). */
    uint64_t prov_base, prov_sent;
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

static inline int64_t mono(void)
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

/* ---- canvas.c ---- */
/* A string field from a peer: at most max bytes of UTF-8 (fmt names the field). */
int cv_check_str(const char *s, size_t max, canvas_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* canvas_id: optional unless required; printable UTF-8. */
int cv_check_canvas_id(const char *id, int required, canvas_error *err);
/* An idempotency key: optional, at most CANVAS_MAX_KEY bytes of UTF-8. */
int cv_check_key(const char *key, canvas_error *err);
/* Copies a tab's text into a caller-facing message: cut, and replaced when not UTF-8. */
char *cv_tab_text(const char *s);
/* Deep copy of a message through its wire form (freed with protobuf_c_message_free_unpacked). */
ProtobufCMessage *cv_pb_dup(const ProtobufCMessage *m);
/* Frees a message of any type (a free function for the idempotency table). */
void cv_pb_free(void *m);
/* Raises the store's revision reservation above rev (see the comment at its definition). */
void cv_rev_reserve(canvas_mgr *m, uint64_t rev);
/* Parses a tab's object_info into *out and folds it into the union of the tabs' node types. */
int cv_tab_schema(canvas_mgr *m, const char *json, size_t len, nodeinfo **out, canvas_error *err);
/* The schema requests on cv use now (a reference; unref it). */
nodeinfo *cv_schema(canvas *cv);
/* Re-reads the mirror when the schema under it changed (see canvas.h). */
void cv_sync_schema(canvas *cv, nodeinfo *ni);
/* Takes the provenance a loaded or attached workflow carries. */
void cv_prov_restore(canvas *cv, const char *json, size_t len);
/* Commits json as cv's state (origin as given). Under cv->mu. */
int cv_commit(canvas *cv, const char *json, size_t len, Comfyd__V1__GraphOrigin origin,
              int *changed, char *e, size_t elen);
/* Applies a tab's delta to cv's mirror (origin as given). Under cv->mu. */
int cv_commit_delta(canvas *cv, const Comfyd__V1__GraphDelta *d, Comfyd__V1__GraphOrigin origin,
                    int *changed, char *e, size_t elen);
/* Drops a reference to cv; the last one frees it. */
void cv_unref(canvas *cv);
/* Takes a reference to cv. */
canvas *cv_ref(canvas *cv);
/* The canvas with this id, or NULL. Under m->mu. */
canvas *cv_find_locked(canvas_mgr *m, const char *id);
/* References to every canvas in the map. Under m->mu. */
canvas **cv_snapshot_locked(canvas_mgr *m, size_t *n);
/* Drops the references of cv_snapshot_locked and frees the array. */
void cv_snapshot_free(canvas **v, size_t n);
/* The canvas a request addresses (see canvas.h), with a reference; NULL with *rc and err set. */
canvas *cv_resolve(canvas_mgr *m, const char *id, int *rc, canvas_error *err);
/* The mirror as a Graph message (head_only: without the nodes). Under cv->mu. */
Comfyd__V1__Graph *cv_graph_as(canvas *cv, int head_only);
/* The whole mirror as a Graph message. Under cv->mu. */
Comfyd__V1__Graph *cv_graph(canvas *cv);

/* ---- canvas_dispatch.c ---- */
/* Appends j to a list of finished jobs. */
void cv_jl_push(jlist *l, job *j);
/* Frees a job and what it owns. */
void cv_job_free(job *j);
/* Runs the callbacks of finished jobs (without any lock held). */
void cv_fin_run(canvas_mgr *m, jlist *l);
/* Ends j with an error and moves it to fin. */
void cv_job_end_err(job *j, int err, Comfyd__V1__GraphErrorCode code, const char *msg, jlist *fin);
/* get_graph: the one command answered by the core alone. */
int cv_is_get_graph(const Comfyd__V1__Command *c);
/* Refuses any request with a graph error (formatted) and moves it to fin. */
void cv_job_refuse(canvas *cv, job *j, Comfyd__V1__GraphErrorCode code, jlist *fin, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));
/* Answers a patch from its validation alone (nothing goes to a tab). */
void cv_patch_from_check(canvas *cv, job *j, int validate_only, jlist *fin);
/* A patch the tab applied: commits its state and answers the request. */
void cv_patch_commit(canvas *cv, job *j, const Comfyd__V1__PatchResult *pr, jlist *fin);
/* Wakes the worker earlier when deadline is before its next wake-up. */
void cv_arm(canvas_mgr *m, int64_t deadline);
/* Sends a message to cv's tab (its ops->send). */
int cv_send_tab(canvas *cv, Comfyd__V1__AttachCanvasResponse *msg);
/* Validates a patch against the mirror and the current schema into j->check. */
int cv_validate(canvas *cv, job *j, jlist *fin);
/* A base_revision that is not the canvas's: rebases or refuses (see its definition). */
int cv_stale_base(canvas *cv, job *j, jlist *fin);
/* Sends the next queued job to the tab when none is in flight. Under cv->mu. */
void cv_pump(canvas *cv, jlist *fin);
/* Ends the job in flight and (queued) the queued ones with errors. Under cv->mu. */
void cv_end_jobs(canvas *cv, int err, Comfyd__V1__GraphErrorCode inflight_code,
                 const char *inflight_msg, int queued, Comfyd__V1__GraphErrorCode queued_code,
                 const char *queued_msg, jlist *fin);
/* Detaches cv's tab and ends its jobs. Under cv->mu. */
void cv_detach(canvas *cv, int end_code, const char *end_msg);

/* A patch (or validate_only) of another caller that changes a leased node:
 * answered LEASED with the lease (-1); 0 to go on. Under cv->mu. */
int cv_lease_refused(canvas *cv, job *j, jlist *fin);

/* ---- canvas_lease.c ---- */
/* Sends the canvas's leases to its tab; cv_lease_push_as with if_any only
 * when there are some (an attach). Under cv->mu. */
void cv_lease_push(canvas *cv);
void cv_lease_push_as(canvas *cv, int if_any);
/* After a commit of rev: marks the user's edits of leased nodes for their
 * holders; removed nodes leave their leases. Under cv->mu. */
void cv_lease_committed(canvas *cv, uint64_t rev, Comfyd__V1__GraphOrigin origin,
                        Comfyd__V1__GraphOp *const *ops, size_t n, int removed);
/* Graph.leases of the full get_graph. Under cv->mu. */
void cv_lease_fill_graph(canvas *cv, Comfyd__V1__Graph *g);

/* ---- canvas_worker.c ---- */
/* The worker thread: deadlines and departed tabs. */
void *cv_worker_main(void *arg);

/* ---- canvas_preview.c: preview before apply ---- */

/* Sends an ATOMIC or PARTIAL patch that passed its checks to the tab
 * (dispatch, in canvas_dispatch.c; also for an accepted preview). */
void cv_dispatch_patch(canvas *cv, job *j, jlist *fin);
/* CANVAS_EINVAL (err filled) for an unknown apply_mode or a
 * preview_timeout_ms above CANVAS_MAX_PREVIEW_MS, else 0. */
int cv_check_apply_mode(Comfyd__V1__ApplyMode v, uint32_t preview_ms, canvas_error *err);
/* The job's preview settings from its request; limit_ms is the caller's. */
void cv_job_preview(job *j, Comfyd__V1__ApplyMode mode, uint32_t preview_ms, uint32_t limit_ms);
/* Before validation: 1 when j was answered (a preview no tab can show). */
int cv_preview_gate(canvas *cv, job *j, jlist *fin);
/* Sends the validated commands as a PreviewRequest; j stays in flight. */
int cv_preview_send(canvas *cv, job *j, Comfyd__V1__Command **cmds, jlist *fin);
/* The tab's PreviewDecision (cv->mu held). */
void cv_preview_decided(canvas *cv, const Comfyd__V1__PreviewDecision *d, jlist *fin);
/* The preview in flight passed its deadline: TIMED_OUT (cv->mu held; j
 * is no longer in flight). */
void cv_preview_expired(canvas *cv, job *j, int64_t now, jlist *fin);

#endif

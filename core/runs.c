/* runs: runs followed through ComfyUI's API (see runs.h, docs/runs.md). */
#include "runs.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "comfy_event.h"
#include "comfy_http.h"
#include "comfy_ws.h"
#include "imgscale.h"
#include "log.h"
#include "nodeinfo.h"
#include "runstore.h"
#include "text.h"

#define MOD "runs"

#define RS(x) COMFYD__V1__RUN_STATUS__RUN_STATUS_##x
/* A restarted core numbers a reloaded run's changes above everything the
 * last process may have handed out (progress changes are not stored). */
#define RUNS_SEQ_RESTART_GAP (1u << 20)
/* Node titles kept per run (from the prompt's _meta). */
#define RUNS_MAX_TITLES 4096
/* Progress entries and executed nodes kept per run. */
#define RUNS_MAX_PROGRESS 4096

typedef struct title {
    char *node_id, *title, *type;
} title;

typedef struct entry {
    Comfyd__V1__Run *run; /* owned */
    title *titles;
    size_t n_titles;
    int foreign;   /* queued by another client id: polled through /history */
    int lost;      /* the event stream dropped while it was unfinished */
    int reconcile; /* to be checked against /history and /queue */
    int64_t polled_ms;
} entry;

typedef struct watcher {
    char *prompt_id; /* "" for every run */
    char *canvas_id; /* "" for any canvas */
    runs_watch_fn fn;
    runs_release_fn release;
    void *ud;
} watcher;

struct runs {
    comfy_http *http;
    runstore *st;
    canvas_mgr *cm;
    char client_id[TEXT_UUID_LEN];
    pthread_mutex_t mu;
    pthread_cond_t cv; /* run changes and stop */
    /* Under mu. */
    entry *act;
    size_t n_act;
    watcher *w;
    size_t n_w;
    int connected;
    char conn_err[512];
    int refresh_queue;
    int stop;
    int started;
    pthread_t thread;
};

int runs_status_final(Comfyd__V1__RunStatus s)
{
    return s == RS(SUCCEEDED) || s == RS(FAILED) || s == RS(INTERRUPTED) || s == RS(CANCELLED) ||
           s == RS(UNKNOWN);
}

const char *runs_status_name(Comfyd__V1__RunStatus s)
{
    switch (s) {
    case RS(QUEUED):
        return "queued";
    case RS(RUNNING):
        return "running";
    case RS(SUCCEEDED):
        return "succeeded";
    case RS(FAILED):
        return "failed";
    case RS(INTERRUPTED):
        return "interrupted";
    case RS(CANCELLED):
        return "cancelled";
    case RS(UNKNOWN):
        return "unknown";
    default:
        return "unspecified";
    }
}

/* ---- message helpers ---- */

static void set_str(char **f, const char *v)
{
    if (*f && *f != protobuf_c_empty_string) free(*f);
    *f = text_dup(v ? v : "");
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) abort();
    return q;
}

static Comfyd__V1__Run *run_copy(const Comfyd__V1__Run *r)
{
    size_t len = protobuf_c_message_get_packed_size(&r->base);
    uint8_t *buf = xrealloc(NULL, len);
    protobuf_c_message_pack(&r->base, buf);
    Comfyd__V1__Run *c =
        (Comfyd__V1__Run *)protobuf_c_message_unpack(&comfyd__v1__run__descriptor, NULL, len, buf);
    free(buf);
    return c;
}

static void msg_free(void *m)
{
    if (m) protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- entries (under mu) ---- */

static entry *find(runs *r, const char *pid)
{
    for (size_t i = 0; i < r->n_act; i++)
        if (!strcmp(r->act[i].run->prompt_id, pid)) return &r->act[i];
    return NULL;
}

static void entry_free(entry *e)
{
    msg_free(e->run);
    for (size_t i = 0; i < e->n_titles; i++) {
        free(e->titles[i].node_id);
        free(e->titles[i].title);
        free(e->titles[i].type);
    }
    free(e->titles);
}

static const title *title_of(const entry *e, const char *node)
{
    for (size_t i = 0; i < e->n_titles; i++)
        if (!strcmp(e->titles[i].node_id, node)) return &e->titles[i];
    return NULL;
}

static void notify(runs *r, const Comfyd__V1__Run *run)
{
    int final = runs_status_final(run->status);
    for (size_t i = 0; i < r->n_w;) {
        watcher *w = &r->w[i];
        int match = *w->prompt_id ? !strcmp(w->prompt_id, run->prompt_id)
                                  : (!*w->canvas_id || !strcmp(w->canvas_id, run->canvas_id));
        int drop = 0;
        if (match) drop = w->fn(w->ud, run) || (final && *w->prompt_id);
        if (drop) {
            w->release(w->ud);
            free(w->prompt_id);
            free(w->canvas_id);
            r->w[i] = r->w[--r->n_w];
        } else {
            i++;
        }
    }
    pthread_cond_broadcast(&r->cv);
}

/* A change of e's run: a new seq, the watchers, and the store when asked
 * (status changes, errors and outputs; progress is not worth an fsync).
 * A finished run leaves the active list (e is invalid afterwards). */
static void changed(runs *r, entry *e, int persist)
{
    Comfyd__V1__Run *run = e->run;
    run->seq++;
    int final = runs_status_final(run->status);
    if (final && !run->ended_at_ms) run->ended_at_ms = text_now_ms();
    if (final) {
        set_str(&run->executing_node, "");
        run->queue_position = 0;
    }
    if (persist || final) runstore_put(r->st, run, NULL);
    notify(r, run);
    if (final && !e->lost) {
        entry_free(e);
        *e = r->act[--r->n_act];
    }
}

static void set_status(Comfyd__V1__Run *run, Comfyd__V1__RunStatus s, const char *reason)
{
    /* A run back from UNKNOWN (ComfyUI answered again) is not over. */
    if (!runs_status_final(s)) run->ended_at_ms = 0;
    run->status = s;
    set_str(&run->reason, reason ? reason : "");
}

/* ---- applying ComfyUI's events ---- */

static void add_unique(char ***list, size_t *n, const char *v)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*list)[i], v)) return;
    if (*n >= RUNS_MAX_PROGRESS) return;
    *list = xrealloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = text_dup(v);
}

static void set_progress(Comfyd__V1__Run *run, const char *node, double value, double max)
{
    for (size_t i = 0; i < run->n_progress; i++) {
        if (!strcmp(run->progress[i]->node_id, node)) {
            run->progress[i]->value = value;
            run->progress[i]->max = max;
            return;
        }
    }
    if (run->n_progress >= RUNS_MAX_PROGRESS) return;
    Comfyd__V1__NodeProgress *p = xrealloc(NULL, sizeof *p);
    comfyd__v1__node_progress__init(p);
    p->node_id = text_dup(node);
    p->value = value;
    p->max = max;
    run->progress = xrealloc(run->progress, (run->n_progress + 1) * sizeof *run->progress);
    run->progress[run->n_progress++] = p;
}

/* Takes o (replacing an earlier output of the same node). */
static void set_output(Comfyd__V1__Run *run, Comfyd__V1__RunNodeOutput *o)
{
    for (size_t i = 0; i < run->n_outputs; i++) {
        if (!strcmp(run->outputs[i]->node_id, o->node_id)) {
            msg_free(run->outputs[i]);
            run->outputs[i] = o;
            return;
        }
    }
    run->outputs = xrealloc(run->outputs, (run->n_outputs + 1) * sizeof *run->outputs);
    run->outputs[run->n_outputs++] = o;
}

static Comfyd__V1__RunNodeOutput *output_of_event(comfy_event *ev)
{
    Comfyd__V1__RunNodeOutput *o = xrealloc(NULL, sizeof *o);
    comfyd__v1__run_node_output__init(o);
    o->node_id = text_dup(ev->node);
    o->output_json = ev->output_json;
    ev->output_json = NULL;
    o->files = ev->files;
    o->n_files = ev->n_files;
    ev->files = NULL;
    ev->n_files = 0;
    return o;
}

static void set_exec_error(entry *e, const comfy_event *ev)
{
    Comfyd__V1__Run *run = e->run;
    msg_free(run->execution_error);
    Comfyd__V1__RunExecutionError *x = xrealloc(NULL, sizeof *x);
    comfyd__v1__run_execution_error__init(x);
    x->node_id = text_dup(ev->node);
    const title *t = title_of(e, ev->node);
    x->node_type = text_dup(*ev->node_type ? ev->node_type : (t ? t->type : ""));
    x->title = text_dup(t ? t->title : "");
    x->exception_type = text_dup(ev->exception_type);
    x->exception_message = text_dup(ev->exception_message);
    if (ev->n_traceback) {
        x->traceback = xrealloc(NULL, ev->n_traceback * sizeof *x->traceback);
        for (size_t i = 0; i < ev->n_traceback; i++)
            x->traceback[i] = text_dup(ev->traceback[i]);
        x->n_traceback = ev->n_traceback;
    }
    run->execution_error = x;
}

/* Applies one event to e (under mu). May end e (see changed). */
static void apply(runs *r, entry *e, comfy_event *ev)
{
    Comfyd__V1__Run *run = e->run;
    char why[COMFY_MAX_TEXT + 256];
    /* A run already final only takes late outputs (history after an
     * execution_success). */
    if (runs_status_final(run->status) && !e->lost && ev->type != COMFY_EV_EXECUTED) return;
    switch (ev->type) {
    case COMFY_EV_EXECUTION_START:
        if (run->status == RS(RUNNING) && !e->lost) return;
        set_status(run, RS(RUNNING), "");
        run->queue_position = 0;
        if (!run->started_at_ms)
            run->started_at_ms = ev->timestamp_ms ? ev->timestamp_ms : text_now_ms();
        e->lost = 0;
        changed(r, e, 1);
        return;
    case COMFY_EV_EXECUTION_CACHED:
        for (size_t i = 0; i < ev->n_nodes; i++)
            add_unique(&run->cached_nodes, &run->n_cached_nodes, ev->nodes[i]);
        changed(r, e, 0);
        return;
    case COMFY_EV_EXECUTING:
        if (*run->executing_node)
            add_unique(&run->executed_nodes, &run->n_executed_nodes, run->executing_node);
        set_str(&run->executing_node, ev->node_null ? "" : ev->node);
        if (run->status == RS(QUEUED)) set_status(run, RS(RUNNING), "");
        changed(r, e, 0);
        return;
    case COMFY_EV_PROGRESS:
        set_progress(run, ev->node, ev->value, ev->max);
        changed(r, e, 0);
        return;
    case COMFY_EV_EXECUTED:
        add_unique(&run->executed_nodes, &run->n_executed_nodes, ev->node);
        set_output(run, output_of_event(ev));
        changed(r, e, 1);
        return;
    case COMFY_EV_EXECUTION_SUCCESS:
        e->lost = 0;
        set_status(run, RS(SUCCEEDED), "");
        if (ev->timestamp_ms) run->ended_at_ms = ev->timestamp_ms;
        changed(r, e, 1);
        return;
    case COMFY_EV_EXECUTION_ERROR:
        e->lost = 0;
        set_exec_error(e, ev);
        snprintf(why, sizeof why, "%s%s%s", ev->exception_type, *ev->exception_type ? ": " : "",
                 ev->exception_message);
        set_status(run, RS(FAILED), why);
        if (ev->timestamp_ms) run->ended_at_ms = ev->timestamp_ms;
        changed(r, e, 1);
        return;
    case COMFY_EV_EXECUTION_INTERRUPTED: {
        e->lost = 0;
        const title *t = title_of(e, ev->node);
        snprintf(why, sizeof why, "interrupted at node %s%s%s%s", ev->node, t ? " (" : "",
                 t ? t->title : "", t ? ")" : "");
        set_status(run, RS(INTERRUPTED), why);
        if (ev->timestamp_ms) run->ended_at_ms = ev->timestamp_ms;
        changed(r, e, 1);
        return;
    }
    default:
        return;
    }
}

static void on_ws_message(void *ud, const char *data, size_t len)
{
    runs *r = ud;
    comfy_event ev;
    char err[256];
    if (comfy_event_parse(data, len, &ev, err, sizeof err)) {
        LOG_W(MOD, "ignored a message from ComfyUI: %s", err);
        return;
    }
    pthread_mutex_lock(&r->mu);
    if (ev.type == COMFY_EV_STATUS) {
        r->refresh_queue = 1;
    } else if (*ev.prompt_id) {
        entry *e = find(r, ev.prompt_id);
        if (e) apply(r, e, &ev);
    }
    pthread_mutex_unlock(&r->mu);
    comfy_event_clear(&ev);
}

/* ---- reconciling from /history and /queue (tracker thread) ---- */

typedef enum { IN_NONE, IN_RUNNING, IN_PENDING } qstate;

static int fetch_queue(runs *r, comfy_queue *q, char *err, size_t errlen)
{
    comfy_http_resp resp;
    if (comfy_http_do(r->http, "GET", "/queue", NULL, 0, COMFY_MAX_JSON, RUNS_CALL_TIMEOUT_MS,
                      &resp, err, errlen))
        return -1;
    int rc = resp.status == 200 ? comfy_queue_parse(resp.body, resp.len, q, err, errlen) : -1;
    if (resp.status != 200) snprintf(err, errlen, "GET /queue answered HTTP %ld", resp.status);
    comfy_http_resp_clear(&resp);
    return rc;
}

static qstate queue_state(const comfy_queue *q, const char *pid, uint32_t *pos)
{
    for (size_t i = 0; i < q->n_running; i++)
        if (!strcmp(q->running[i], pid)) return IN_RUNNING;
    for (size_t i = 0; i < q->n_pending; i++) {
        if (!strcmp(q->pending[i], pid)) {
            *pos = (uint32_t)i + 1;
            return IN_PENDING;
        }
    }
    return IN_NONE;
}

static int fetch_history(runs *r, const char *pid, comfy_history *h, char *err, size_t errlen)
{
    char path[COMFY_MAX_ID * 3 + 16];
    char *esc = comfy_http_escape(pid);
    snprintf(path, sizeof path, "/history/%s", esc ? esc : "");
    free(esc);
    comfy_http_resp resp;
    if (comfy_http_do(r->http, "GET", path, NULL, 0, COMFY_MAX_JSON, RUNS_CALL_TIMEOUT_MS, &resp,
                      err, errlen))
        return -1;
    int rc = -1;
    if (resp.status == 200)
        rc = comfy_history_parse(resp.body, resp.len, pid, h, err, errlen);
    else
        snprintf(err, errlen, "GET /history/{id} answered HTTP %ld", resp.status);
    comfy_http_resp_clear(&resp);
    return rc;
}

/* Applies a history entry to e: its messages (as events) and outputs. */
static void apply_history(runs *r, const char *pid, comfy_history *h)
{
    pthread_mutex_lock(&r->mu);
    entry *e = find(r, pid);
    if (e) {
        /* Outputs first: a final message ends the entry. */
        for (size_t i = 0; i < h->n_outputs; i++) {
            set_output(e->run, h->outputs[i]);
            add_unique(&e->run->executed_nodes, &e->run->n_executed_nodes, h->outputs[i]->node_id);
            h->outputs[i] = NULL;
        }
        h->n_outputs = 0;
        int ended = 0;
        for (size_t i = 0; i < h->n_messages && (e = find(r, pid)); i++) {
            comfy_event_type t = h->messages[i].type;
            ended |= t == COMFY_EV_EXECUTION_SUCCESS || t == COMFY_EV_EXECUTION_ERROR ||
                     t == COMFY_EV_EXECUTION_INTERRUPTED;
            apply(r, e, &h->messages[i]);
        }
        if (!ended && (e = find(r, pid)) && h->completed) {
            e->lost = 0;
            set_status(e->run, RS(SUCCEEDED), "");
            changed(r, e, 1);
        } else if (!ended && (e = find(r, pid)) && !strcmp(h->status_str, "error")) {
            e->lost = 0;
            set_status(e->run, RS(FAILED), "ComfyUI's history says the prompt failed");
            changed(r, e, 1);
        }
    }
    pthread_mutex_unlock(&r->mu);
}

/* Checks one unfinished run against ComfyUI. Returns -1 when ComfyUI did
 * not answer (the run is left as it is). */
static int reconcile_one(runs *r, const char *pid)
{
    char err[512] = "";
    comfy_history h;
    comfy_queue q;
    if (fetch_history(r, pid, &h, err, sizeof err)) return -1;
    if (h.found) {
        apply_history(r, pid, &h);
        comfy_history_clear(&h);
        return 0;
    }
    comfy_history_clear(&h);
    if (fetch_queue(r, &q, err, sizeof err)) return -1;
    uint32_t pos = 0;
    qstate s = queue_state(&q, pid, &pos);
    comfy_queue_clear(&q);
    if (s == IN_NONE) {
        /* It may have finished between the two requests. */
        if (fetch_history(r, pid, &h, err, sizeof err)) return -1;
        if (h.found) {
            apply_history(r, pid, &h);
            comfy_history_clear(&h);
            return 0;
        }
        comfy_history_clear(&h);
    }
    pthread_mutex_lock(&r->mu);
    entry *e = find(r, pid);
    if (e) {
        e->reconcile = 0;
        if (s == IN_NONE) {
            e->lost = 0;
            set_status(e->run, RS(UNKNOWN),
                       "ComfyUI has no record of this prompt any more: it was restarted, or its "
                       "queue or history was cleared, while the run was unfinished");
            changed(r, e, 1);
        } else {
            Comfyd__V1__RunStatus want = s == IN_RUNNING ? RS(RUNNING) : RS(QUEUED);
            if (e->run->status != want || e->lost || e->run->queue_position != pos) {
                e->lost = 0;
                set_status(e->run, want, "");
                e->run->queue_position = pos;
                changed(r, e, 1);
            }
        }
    }
    pthread_mutex_unlock(&r->mu);
    return 0;
}

/* The prompt ids of entries that need a check (all, or only those due). */
static char **due(runs *r, int all, size_t *n)
{
    int64_t now = text_mono_ms();
    char **ids = NULL;
    *n = 0;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n_act; i++) {
        entry *e = &r->act[i];
        int want = all || e->reconcile || (e->foreign && now - e->polled_ms >= RUNS_POLL_MS);
        if (!want) continue;
        e->polled_ms = now;
        ids = xrealloc(ids, (*n + 1) * sizeof *ids);
        ids[(*n)++] = text_dup(e->run->prompt_id);
    }
    pthread_mutex_unlock(&r->mu);
    return ids;
}

static void reconcile(runs *r, int all)
{
    size_t n = 0;
    char **ids = due(r, all, &n);
    for (size_t i = 0; i < n; i++) {
        reconcile_one(r, ids[i]);
        free(ids[i]);
    }
    free(ids);
}

/* Queue positions of the queued runs, after a status event. */
static void refresh_positions(runs *r)
{
    comfy_queue q;
    char err[256];
    if (fetch_queue(r, &q, err, sizeof err)) return;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n_act; i++) {
        entry *e = &r->act[i];
        if (e->run->status != RS(QUEUED)) continue;
        uint32_t pos = 0;
        if (queue_state(&q, e->run->prompt_id, &pos) == IN_PENDING &&
            pos != e->run->queue_position) {
            e->run->queue_position = pos;
            changed(r, e, 0);
        }
    }
    pthread_mutex_unlock(&r->mu);
    comfy_queue_clear(&q);
}

/* The event stream is gone: every unfinished run is UNKNOWN with the
 * reason until ComfyUI answers again (then it is reconciled). */
static void lost_all(runs *r, const char *why)
{
    char reason[768];
    snprintf(
        reason, sizeof reason,
        "lost contact with ComfyUI at %s (%s); the run's state is unknown until it answers again",
        comfy_http_base(r->http), why);
    pthread_mutex_lock(&r->mu);
    r->connected = 0;
    snprintf(r->conn_err, sizeof r->conn_err, "%s", why);
    for (size_t i = 0; i < r->n_act; i++) {
        entry *e = &r->act[i];
        e->reconcile = 1;
        if (e->lost) continue;
        e->lost = 1;
        set_status(e->run, RS(UNKNOWN), reason);
        changed(r, e, 1);
    }
    pthread_mutex_unlock(&r->mu);
}

/* Watchers whose stream ended: fn(NULL) answers non-zero. */
static void sweep_watchers(runs *r)
{
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n_w;) {
        watcher *w = &r->w[i];
        if (w->fn(w->ud, NULL)) {
            w->release(w->ud);
            free(w->prompt_id);
            free(w->canvas_id);
            r->w[i] = r->w[--r->n_w];
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&r->mu);
}

static int stopping(runs *r)
{
    pthread_mutex_lock(&r->mu);
    int s = r->stop;
    pthread_mutex_unlock(&r->mu);
    return s;
}

static void *tracker(void *arg)
{
    runs *r = arg;
    int backoff = RUNS_BACKOFF_MIN_MS;
    char err[512];
    while (!stopping(r)) {
        comfy_ws *ws = NULL;
        if (comfy_ws_connect(&ws, comfy_http_base(r->http), r->client_id, RUNS_CALL_TIMEOUT_MS, err,
                             sizeof err) == 0) {
            LOG_I(MOD, "following ComfyUI's events at %s", comfy_http_base(r->http));
            pthread_mutex_lock(&r->mu);
            r->connected = 1;
            r->conn_err[0] = 0;
            pthread_mutex_unlock(&r->mu);
            backoff = RUNS_BACKOFF_MIN_MS;
            /* Whatever happened while nobody listened. */
            reconcile(r, 1);
            int64_t last_sweep = text_mono_ms();
            while (!stopping(r)) {
                if (comfy_ws_poll(ws, 200, on_ws_message, r, err, sizeof err)) break;
                pthread_mutex_lock(&r->mu);
                int rq = r->refresh_queue;
                r->refresh_queue = 0;
                pthread_mutex_unlock(&r->mu);
                if (rq) refresh_positions(r);
                reconcile(r, 0);
                if (text_mono_ms() - last_sweep >= 1000) {
                    sweep_watchers(r);
                    last_sweep = text_mono_ms();
                }
            }
            comfy_ws_close(ws);
            if (stopping(r)) break;
            LOG_W(MOD, "ComfyUI's event stream ended: %s", err);
        }
        lost_all(r, err);
        sweep_watchers(r);
        pthread_mutex_lock(&r->mu);
        if (!r->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += backoff / 1000;
            ts.tv_nsec += (long)(backoff % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        }
        pthread_mutex_unlock(&r->mu);
        backoff = backoff * 2 > RUNS_BACKOFF_MAX_MS ? RUNS_BACKOFF_MAX_MS : backoff * 2;
    }
    return NULL;
}

/* ---- creation ---- */

static entry *add_entry(runs *r, Comfyd__V1__Run *run)
{
    r->act = xrealloc(r->act, (r->n_act + 1) * sizeof *r->act);
    entry *e = &r->act[r->n_act++];
    memset(e, 0, sizeof *e);
    e->run = run;
    return e;
}

int runs_create(runs **out, const runs_opts *o, char *err, size_t errlen)
{
    *out = NULL;
    runs *r = calloc(1, sizeof *r);
    if (!r) return -1;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->cm = o->cm;
    if (text_uuid(r->client_id) || comfy_http_create(&r->http, o->comfyui_url, err, errlen) ||
        runstore_open(&r->st, o->db_path, err, errlen)) {
        if (!*err) snprintf(err, errlen, "no randomness for the client id");
        runs_destroy(r);
        return -1;
    }
    Comfyd__V1__Run **l = NULL;
    size_t n = 0;
    if (runstore_active(r->st, &l, &n) == 0) {
        for (size_t i = 0; i < n && r->n_act < RUNS_MAX_ACTIVE; i++) {
            l[i]->seq += RUNS_SEQ_RESTART_GAP;
            entry *e = add_entry(r, run_copy(l[i]));
            e->reconcile = 1;
        }
        runstore_free_list(l, n);
    }
    if (r->n_act) LOG_I(MOD, "%zu unfinished run(s) from before the restart", r->n_act);
    if (pthread_create(&r->thread, NULL, tracker, r)) {
        snprintf(err, errlen, "cannot start the run tracker");
        runs_destroy(r);
        return -1;
    }
    r->started = 1;
    *out = r;
    return 0;
}

void runs_shutdown(runs *r)
{
    if (!r) return;
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (r->started) {
        pthread_join(r->thread, NULL);
        r->started = 0;
    }
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n_w; i++) {
        r->w[i].release(r->w[i].ud);
        free(r->w[i].prompt_id);
        free(r->w[i].canvas_id);
    }
    r->n_w = 0;
    pthread_mutex_unlock(&r->mu);
}

void runs_destroy(runs *r)
{
    if (!r) return;
    runs_shutdown(r);
    for (size_t i = 0; i < r->n_act; i++)
        entry_free(&r->act[i]);
    free(r->act);
    free(r->w);
    runstore_close(r->st);
    comfy_http_destroy(r->http);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* ---- queue ---- */

typedef struct sub {
    runs *r;
    canvas_done_fn done;
    void *ud;
    Comfyd__V1__RunOrigin origin;
    char *session_id, *queued_by, *idem;
    uint32_t batch_count;
    /* The request handed to the canvas manager (borrowed by it until
     * on_converted), with its own copy of the canvas id. */
    Comfyd__V1__QueueRequest req;
    char *canvas_id;
    uint32_t limit_ms;
    /* The runs made so far. */
    Comfyd__V1__Run *last;
    char **ids;
    size_t n_ids;
} sub;

static void sub_free(sub *s)
{
    free(s->session_id);
    free(s->queued_by);
    free(s->idem);
    free(s->canvas_id);
    msg_free(s->last);
    for (size_t i = 0; i < s->n_ids; i++)
        free(s->ids[i]);
    free(s->ids);
    free(s);
}

/* Titles and types per node from the API prompt ({"id": {"class_type",
 * "_meta": {"title"}}}). */
static void read_titles(entry *e, yajl_val prompt)
{
    if (!YAJL_IS_OBJECT(prompt)) return;
    size_t n = prompt->u.object.len < RUNS_MAX_TITLES ? prompt->u.object.len : RUNS_MAX_TITLES;
    e->titles = xrealloc(NULL, n * sizeof *e->titles);
    for (size_t i = 0; i < n; i++) {
        yajl_val node = prompt->u.object.values[i];
        const char *path_ct[] = {"class_type", NULL};
        const char *path_t[] = {"_meta", "title", NULL};
        yajl_val ct = yajl_tree_get(node, path_ct, yajl_t_string);
        yajl_val t = yajl_tree_get(node, path_t, yajl_t_string);
        const char *k = prompt->u.object.keys[i];
        title *ti = &e->titles[e->n_titles++];
        ti->node_id = text_dupn(k, text_utf8_cut(k, strlen(k), COMFY_MAX_ID));
        ti->type = text_dup(ct ? YAJL_GET_STRING(ct) : "");
        ti->title = text_dup(t ? YAJL_GET_STRING(t) : "");
    }
}

static Comfyd__V1__Run *new_run(const Comfyd__V1__QueueResponse *q, const sub *s, const char *pid)
{
    Comfyd__V1__Run *run = xrealloc(NULL, sizeof *run);
    comfyd__v1__run__init(run);
    run->prompt_id = text_dup(pid);
    run->canvas_id = text_dup(q->canvas_id);
    run->revision = q->revision;
    run->origin = s->origin ? s->origin : COMFYD__V1__RUN_ORIGIN__RUN_ORIGIN_GRPC;
    run->session_id = text_dup(s->session_id);
    run->queued_by = text_dup(s->queued_by);
    run->status = RS(QUEUED);
    run->reason = text_dup("");
    run->executing_node = text_dup("");
    run->prompt_error = text_dup("");
    run->queued_at_ms = text_now_ms();
    return run;
}

/* The POST /prompt body: the tab's prompt and workflow as they are (both
 * were checked to parse), our client id and the prompt id. */
static char *prompt_body(const runs *r, const char *pid, const char *prompt, const char *workflow,
                         size_t *len)
{
    text_buf b = {0};
    text_buf_add(&b, "{\"client_id\":\"");
    text_buf_add(&b, r->client_id);
    text_buf_add(&b, "\",\"prompt_id\":\"");
    text_buf_add(&b, pid);
    text_buf_add(&b, "\",\"prompt\":");
    text_buf_add(&b, prompt);
    text_buf_add(&b, ",\"extra_data\":{\"extra_pnginfo\":{\"workflow\":");
    text_buf_add(&b, workflow && *workflow ? workflow : "null");
    text_buf_add(&b, "}}}");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.n;
    return b.p;
}

/* Posts one prompt for a new run and records the outcome in it. Returns a
 * copy of the run. */
static Comfyd__V1__Run *post_one(runs *r, const sub *s, const Comfyd__V1__QueueResponse *q,
                                 yajl_val prompt_tree, const char *prompt, const char *workflow,
                                 const char *idem)
{
    char pid[TEXT_UUID_LEN];
    if (text_uuid(pid)) return NULL;
    Comfyd__V1__Run *run = new_run(q, s, pid);
    pthread_mutex_lock(&r->mu);
    entry *e = add_entry(r, run);
    read_titles(e, prompt_tree);
    /* Stored before posting: ComfyUI's first events may come before its
     * answer, and they must find the run. */
    runstore_put(r->st, run, idem);
    pthread_mutex_unlock(&r->mu);

    size_t blen = 0;
    char *body = prompt_body(r, pid, prompt, workflow, &blen);
    comfy_http_resp resp;
    char err[512] = "";
    int rc = body ? comfy_http_do(r->http, "POST", "/prompt", body, blen, COMFY_MAX_JSON,
                                  RUNS_POST_TIMEOUT_MS, &resp, err, sizeof err)
                  : -1;
    free(body);
    comfy_prompt_answer a = {0};
    int parsed =
        rc == 0 && comfy_prompt_answer_parse(resp.body, resp.len, &a, err, sizeof err) == 0;

    pthread_mutex_lock(&r->mu);
    Comfyd__V1__Run *copy = NULL;
    e = find(r, pid);
    if (e) {
        run = e->run;
        if (rc != 0) {
            /* Sent or not, nobody can tell: reconciled when ComfyUI answers. */
            e->reconcile = 1;
            e->lost = 1;
            set_status(run, RS(UNKNOWN), err);
        } else if (resp.status == 200 && parsed && *a.prompt_id) {
            run->number = a.number;
        } else {
            set_status(run, RS(FAILED), "");
            char why[COMFY_MAX_TEXT + 64];
            if (parsed && *a.error_message) {
                set_str(&run->prompt_error, a.error_message);
                snprintf(why, sizeof why, "ComfyUI refused the prompt: %s", a.error_message);
            } else {
                snprintf(why, sizeof why, "ComfyUI refused the prompt (HTTP %ld)%s%s", resp.status,
                         parsed ? "" : ": ", parsed ? "" : err);
            }
            set_str(&run->reason, why);
        }
        if (parsed && a.n_node_errors) {
            for (size_t i = 0; i < a.n_node_errors; i++) {
                const title *t = title_of(e, a.node_errors[i]->node_id);
                if (t) {
                    set_str(&a.node_errors[i]->title, t->title);
                    if (!*a.node_errors[i]->node_type)
                        set_str(&a.node_errors[i]->node_type, t->type);
                }
            }
            run->node_errors = a.node_errors;
            run->n_node_errors = a.n_node_errors;
            a.node_errors = NULL;
            a.n_node_errors = 0;
        }
        changed(r, e, 1);
        e = find(r, pid);
        copy = e ? run_copy(e->run) : runstore_get(r->st, pid);
    } else {
        /* Already finished by its events. */
        copy = runstore_get(r->st, pid);
    }
    pthread_mutex_unlock(&r->mu);
    comfy_prompt_answer_clear(&a);
    if (rc == 0) comfy_http_resp_clear(&resp);
    return copy;
}

static void answer(sub *s, int err, Comfyd__V1__GraphErrorCode code, const char *msg,
                   Comfyd__V1__QueueResponse *q)
{
    canvas_result res = {err, code, msg, q ? &q->base : NULL, NULL, NULL};
    s->done(s->ud, &res);
}

/* Answers the queue with the runs made so far (or with the error when
 * there are none) and frees s. */
static void sub_finish(sub *s, int err, Comfyd__V1__GraphErrorCode code, const char *msg)
{
    if (!s->last) {
        if (err == CANVAS_OK) {
            err = CANVAS_EFULL;
            msg = "too many unfinished runs are followed; wait for some to finish";
        }
        answer(s, err, code, msg, NULL);
    } else {
        Comfyd__V1__QueueResponse out = COMFYD__V1__QUEUE_RESPONSE__INIT;
        out.canvas_id = s->last->canvas_id;
        out.revision = s->last->revision;
        out.prompt_id = s->last->prompt_id;
        out.number = (int64_t)s->last->number;
        out.run = s->last;
        out.prompt_ids = s->ids;
        out.n_prompt_ids = s->n_ids;
        answer(s, CANVAS_OK, 0, NULL, &out);
    }
    sub_free(s);
}

static void sub_add(sub *s, Comfyd__V1__Run *run)
{
    msg_free(s->last);
    s->last = run;
    s->ids = xrealloc(s->ids, (s->n_ids + 1) * sizeof *s->ids);
    s->ids[s->n_ids++] = text_dup(run->prompt_id);
}

/* One conversion by the tab: one run. With batch_count > 1 the tab is asked
 * again for each run, so that its widgets' afterQueued callbacks (a seed
 * set to "randomize") change the prompt between runs, as in the frontend. */
static void on_converted(void *ud, const canvas_result *cr)
{
    sub *s = ud;
    runs *r = s->r;
    if (cr->err != CANVAS_OK) {
        sub_finish(s, cr->err, cr->code, cr->message);
        return;
    }
    const Comfyd__V1__QueueResponse *q = (const Comfyd__V1__QueueResponse *)cr->resp;
    int more = 1;
    if (!cr->prompt_json) {
        /* An older tab posted it with its own client id: followed by
         * polling /history. */
        more = 0;
        if (*q->prompt_id) {
            Comfyd__V1__Run *run = new_run(q, s, q->prompt_id);
            run->number = (double)q->number;
            pthread_mutex_lock(&r->mu);
            entry *e = add_entry(r, run);
            e->foreign = 1;
            runstore_put(r->st, run, s->n_ids ? NULL : s->idem);
            Comfyd__V1__Run *copy = run_copy(run);
            pthread_mutex_unlock(&r->mu);
            sub_add(s, copy);
        }
    } else {
        yajl_val tree = NULL;
        char e[256] = "";
        nodeinfo_json_limits lim = {RUNS_MAX_PROMPT_JSON, COMFY_MAX_DEPTH, COMFY_MAX_VALUES};
        size_t wlen = cr->workflow_json ? strlen(cr->workflow_json) : 0;
        yajl_val wtree = NULL;
        if (nodeinfo_json_parse(cr->prompt_json, strlen(cr->prompt_json), &lim, &tree, e,
                                sizeof e) ||
            !YAJL_IS_OBJECT(tree) ||
            (wlen && nodeinfo_json_parse(cr->workflow_json, wlen, &lim, &wtree, e, sizeof e))) {
            char msg[512];
            snprintf(msg, sizeof msg, "the tab's prompt is not a JSON object: %s", e);
            if (tree) yajl_tree_free(tree);
            sub_finish(s, CANVAS_EGRAPH,
                       COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_EDITOR_FAILED, msg);
            return;
        }
        if (wtree) yajl_tree_free(wtree);
        pthread_mutex_lock(&r->mu);
        int full = r->n_act >= RUNS_MAX_ACTIVE;
        pthread_mutex_unlock(&r->mu);
        /* The key names the first run of a batch (a replay answers it). */
        Comfyd__V1__Run *run = full ? NULL
                                    : post_one(r, s, q, tree, cr->prompt_json, cr->workflow_json,
                                               s->n_ids ? NULL : s->idem);
        yajl_tree_free(tree);
        if (run) sub_add(s, run);
        /* A refused prompt is refused every time. */
        more = run && run->status != RS(FAILED) && run->status != RS(UNKNOWN);
    }
    if (more && s->n_ids < s->batch_count) {
        canvas_error ce = {0};
        if (canvas_queue_prompt(r->cm, &s->req, s->limit_ms, on_converted, s, &ce) == CANVAS_OK)
            return; /* s lives on in the next conversion */
    }
    sub_finish(s, CANVAS_OK, 0, NULL);
}

int runs_queue(runs *r, const Comfyd__V1__QueueRequest *req, uint32_t limit_ms, canvas_done_fn done,
               void *ud, canvas_error *err)
{
    const char *key = req->idempotency_key ? req->idempotency_key : "";
    char scoped[CANVAS_MAX_KEY + CANVAS_MAX_ID + 2] = "";
    if (strlen(key) > CANVAS_MAX_KEY) {
        err->code = 0;
        snprintf(err->message, sizeof err->message, "idempotency_key is at most %d bytes",
                 CANVAS_MAX_KEY);
        return CANVAS_EINVAL;
    }
    if (*key) {
        snprintf(scoped, sizeof scoped, "%s\n%s", req->canvas_id ? req->canvas_id : "", key);
        Comfyd__V1__Run *run = runstore_get_by_key(r->st, scoped);
        if (run) {
            Comfyd__V1__QueueResponse q = COMFYD__V1__QUEUE_RESPONSE__INIT;
            q.prompt_id = run->prompt_id;
            q.number = (int64_t)run->number;
            q.canvas_id = run->canvas_id;
            q.revision = run->revision;
            q.replayed = 1;
            q.run = run;
            canvas_result res = {CANVAS_OK, 0, NULL, &q.base, NULL, NULL};
            done(ud, &res);
            msg_free(run);
            return CANVAS_OK;
        }
    }
    sub *s = calloc(1, sizeof *s);
    if (!s) return CANVAS_ENOMEM;
    s->r = r;
    s->done = done;
    s->ud = ud;
    s->origin = req->origin;
    s->session_id = text_dup(req->session_id ? req->session_id : "");
    s->queued_by = text_dup(req->queued_by ? req->queued_by : "");
    s->idem = text_dup(scoped);
    s->batch_count = req->batch_count ? req->batch_count : 1;
    s->canvas_id = text_dup(req->canvas_id ? req->canvas_id : "");
    comfyd__v1__queue_request__init(&s->req);
    s->req.canvas_id = s->canvas_id;
    s->req.idempotency_key = "";
    s->req.timeout_ms = req->timeout_ms;
    s->req.batch_count = 1;
    s->limit_ms = limit_ms;
    int rc = canvas_queue_prompt(r->cm, &s->req, limit_ms, on_converted, s, err);
    if (rc != CANVAS_OK) sub_free(s);
    return rc;
}

/* ---- reads ---- */

Comfyd__V1__Run *runs_get(runs *r, const char *prompt_id)
{
    pthread_mutex_lock(&r->mu);
    entry *e = find(r, prompt_id);
    Comfyd__V1__Run *c = e ? run_copy(e->run) : NULL;
    pthread_mutex_unlock(&r->mu);
    return c ? c : runstore_get(r->st, prompt_id);
}

int runs_list(runs *r, const Comfyd__V1__ListRunsRequest *req, Comfyd__V1__ListRunsResponse **out,
              char *err, size_t errlen)
{
    *out = NULL;
    size_t limit = req->page_size ? req->page_size : RUNS_PAGE_DEFAULT;
    if (limit > RUNS_PAGE_MAX) limit = RUNS_PAGE_MAX;
    long long before = 0;
    char before_id[COMFY_MAX_ID + 1] = "";
    if (req->page_token && *req->page_token) {
        int used = 0;
        if (strlen(req->page_token) > COMFY_MAX_ID + 24 ||
            sscanf(req->page_token, "%lld:%256[^\n]%n", &before, before_id, &used) != 2 ||
            before <= 0 || req->page_token[used]) {
            snprintf(err, errlen, "page_token is not one ListRuns returned");
            return RUNS_EINVAL;
        }
    }
    /* Unfinished runs' newest state is in memory; the store has the rest. */
    Comfyd__V1__Run **l = NULL;
    size_t n = 0;
    if (runstore_list(r->st, req->canvas_id, req->session_id, before, before_id, limit + 1, &l,
                      &n)) {
        snprintf(err, errlen, "the run store failed");
        return RUNS_EIO;
    }
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < n; i++) {
        entry *e = find(r, l[i]->prompt_id);
        if (e) {
            msg_free(l[i]);
            l[i] = run_copy(e->run);
        }
    }
    pthread_mutex_unlock(&r->mu);
    Comfyd__V1__ListRunsResponse *resp = xrealloc(NULL, sizeof *resp);
    comfyd__v1__list_runs_response__init(resp);
    if (n > limit) {
        char tok[COMFY_MAX_ID + 32];
        snprintf(tok, sizeof tok, "%lld:%s", (long long)l[limit - 1]->queued_at_ms,
                 l[limit - 1]->prompt_id);
        resp->next_page_token = text_dup(tok);
        msg_free(l[limit]);
        n = limit;
    } else {
        resp->next_page_token = text_dup("");
    }
    resp->runs = l;
    resp->n_runs = n;
    *out = resp;
    return RUNS_OK;
}

/* ---- cancel ---- */

static int post_json(runs *r, const char *path, const char *body, char *err, size_t errlen)
{
    comfy_http_resp resp;
    if (comfy_http_do(r->http, "POST", path, body, strlen(body), 64u << 10, RUNS_CALL_TIMEOUT_MS,
                      &resp, err, errlen))
        return -1;
    int ok = resp.status == 200;
    if (!ok) snprintf(err, errlen, "POST %s answered HTTP %ld", path, resp.status);
    comfy_http_resp_clear(&resp);
    return ok ? 0 : -1;
}

int runs_cancel(runs *r, const char *prompt_id, Comfyd__V1__Run **out, char *err, size_t errlen)
{
    *out = NULL;
    pthread_mutex_lock(&r->mu);
    entry *e = find(r, prompt_id);
    Comfyd__V1__RunStatus st = e ? e->run->status : 0;
    pthread_mutex_unlock(&r->mu);
    if (!e) {
        Comfyd__V1__Run *run = runstore_get(r->st, prompt_id);
        if (!run) {
            snprintf(err, errlen, "no run with prompt_id \"%s\"", prompt_id);
            return RUNS_ENOTFOUND;
        }
        snprintf(err, errlen, "the run is over (%s)", runs_status_name(run->status));
        msg_free(run);
        return RUNS_EOVER;
    }
    char body[COMFY_MAX_ID + 64];
    if (st == RS(QUEUED)) {
        snprintf(body, sizeof body, "{\"delete\":[\"%s\"]}", prompt_id);
        if (post_json(r, "/queue", body, err, errlen)) return RUNS_EUNAVAIL;
        /* Deleted, unless it started meanwhile: then it is interrupted. */
        comfy_queue q;
        uint32_t pos = 0;
        qstate s = IN_NONE;
        if (fetch_queue(r, &q, err, errlen) == 0) {
            s = queue_state(&q, prompt_id, &pos);
            comfy_queue_clear(&q);
        }
        if (s == IN_NONE) {
            pthread_mutex_lock(&r->mu);
            e = find(r, prompt_id);
            if (e && e->run->status == RS(QUEUED)) {
                set_status(e->run, RS(CANCELLED), "removed from ComfyUI's queue on request");
                changed(r, e, 1);
            }
            pthread_mutex_unlock(&r->mu);
        } else if (s == IN_RUNNING) {
            st = RS(RUNNING);
        }
    }
    if (st == RS(RUNNING) || st == RS(UNKNOWN)) {
        snprintf(body, sizeof body, "{\"prompt_id\":\"%s\"}", prompt_id);
        if (post_json(r, "/interrupt", body, err, errlen)) return RUNS_EUNAVAIL;
        /* ComfyUI confirms with execution_interrupted. */
        int64_t until = text_mono_ms() + RUNS_CANCEL_WAIT_MS;
        pthread_mutex_lock(&r->mu);
        while ((e = find(r, prompt_id)) && !runs_status_final(e->run->status) && !r->stop) {
            int64_t left = until - text_mono_ms();
            if (left <= 0) break;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += left / 1000;
            ts.tv_nsec += (left % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        }
        pthread_mutex_unlock(&r->mu);
    }
    *out = runs_get(r, prompt_id);
    return RUNS_OK;
}

/* ---- outputs ---- */

/* A name ComfyUI's /view resolves inside its folder: no absolute path, no
 * ".." component, no backslash, no control character. */
static int safe_rel(const char *p, int allow_slash)
{
    if (*p == '/') return 0;
    for (const char *c = p; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == '\\') return 0;
        if (*c == '/' && !allow_slash) return 0;
    }
    const char *seg = p;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if ((len == 2 && !strncmp(seg, "..", 2)) || (len == 1 && *seg == '.')) return 0;
        if (!end) break;
        seg = end + 1;
    }
    return 1;
}

int runs_output(runs *r, const char *prompt_id, const char *node_id, uint32_t index,
                uint32_t max_side, Comfyd__V1__GetRunOutputResponse **out, char *err, size_t errlen)
{
    *out = NULL;
    Comfyd__V1__Run *run = runs_get(r, prompt_id);
    if (!run) {
        snprintf(err, errlen, "no run with prompt_id \"%s\"", prompt_id);
        return RUNS_ENOTFOUND;
    }
    const Comfyd__V1__OutputFile *f = NULL;
    for (size_t i = 0; i < run->n_outputs && !f; i++)
        if (!strcmp(run->outputs[i]->node_id, node_id) && index < run->outputs[i]->n_files)
            f = run->outputs[i]->files[index];
    if (!f) {
        snprintf(err, errlen, "run %s has no output file %u of node \"%s\"", prompt_id, index,
                 node_id);
        msg_free(run);
        return RUNS_ENOTFOUND;
    }
    if (!*f->filename || !safe_rel(f->filename, 0) || !safe_rel(f->subfolder, 1) ||
        (strcmp(f->type, "output") && strcmp(f->type, "temp") && strcmp(f->type, "input"))) {
        snprintf(err, errlen, "refused: the output's path leaves ComfyUI's folders");
        msg_free(run);
        return RUNS_EINVAL;
    }
    char *fn = comfy_http_escape(f->filename), *sf = comfy_http_escape(f->subfolder),
         *ty = comfy_http_escape(f->type);
    text_buf path = {0};
    text_buf_add(&path, "/view?filename=");
    text_buf_add(&path, fn ? fn : "");
    text_buf_add(&path, "&subfolder=");
    text_buf_add(&path, sf ? sf : "");
    text_buf_add(&path, "&type=");
    text_buf_add(&path, ty ? ty : "");
    free(fn);
    free(sf);
    free(ty);
    comfy_http_resp resp;
    char e[512] = "";
    int rc = path.oom ? -1
                      : comfy_http_do(r->http, "GET", path.p, NULL, 0, RUNS_MAX_OUTPUT_BYTES,
                                      RUNS_CALL_TIMEOUT_MS, &resp, e, sizeof e);
    free(path.p);
    if (rc) {
        snprintf(err, errlen, "%s", e);
        msg_free(run);
        return strstr(e, "larger than") ? RUNS_EFULL : RUNS_EUNAVAIL;
    }
    if (resp.status != 200) {
        snprintf(err, errlen, "ComfyUI's /view answered HTTP %ld for %s", resp.status, f->filename);
        comfy_http_resp_clear(&resp);
        msg_free(run);
        return resp.status == 404 ? RUNS_ENOTFOUND : RUNS_EUNAVAIL;
    }
    Comfyd__V1__GetRunOutputResponse *o = xrealloc(NULL, sizeof *o);
    comfyd__v1__get_run_output_response__init(o);
    Comfyd__V1__OutputFile *fc = xrealloc(NULL, sizeof *fc);
    comfyd__v1__output_file__init(fc);
    fc->kind = text_dup(f->kind);
    fc->filename = text_dup(f->filename);
    fc->subfolder = text_dup(f->subfolder);
    fc->type = text_dup(f->type);
    o->file = fc;
    o->content_type = text_dup(*resp.content_type ? resp.content_type : "application/octet-stream");
    o->data.data = (uint8_t *)resp.body;
    o->data.len = resp.len;
    resp.body = NULL;
    if (!strncmp(o->content_type, "image/png", 9)) {
        void *small = NULL;
        size_t small_len = 0;
        char e2[256];
        int sc = imgscale_png(o->data.data, o->data.len, max_side ? max_side : IMGSCALE_MAX_SIDE,
                              &small, &small_len, &o->width, &o->height, e2, sizeof e2);
        if (sc == 1) {
            free(o->data.data);
            o->data.data = small;
            o->data.len = small_len;
            o->scaled = 1;
        } else if (sc < 0 && max_side) {
            /* Asked for a bounded image and it cannot be made one. */
            snprintf(err, errlen, "%s", e2);
            protobuf_c_message_free_unpacked(&o->base, NULL);
            comfy_http_resp_clear(&resp);
            msg_free(run);
            return RUNS_EINVAL;
        }
    }
    comfy_http_resp_clear(&resp);
    msg_free(run);
    *out = o;
    return RUNS_OK;
}

/* ---- watch ---- */

int runs_watch(runs *r, const char *prompt_id, const char *canvas_id, uint64_t after_seq,
               runs_watch_fn fn, runs_release_fn release, void *ud)
{
    prompt_id = prompt_id ? prompt_id : "";
    canvas_id = canvas_id ? canvas_id : "";
    pthread_mutex_lock(&r->mu);
    if (r->stop) {
        pthread_mutex_unlock(&r->mu);
        return RUNS_ESHUTDOWN;
    }
    if (r->n_w >= RUNS_MAX_WATCHERS) {
        pthread_mutex_unlock(&r->mu);
        return RUNS_EFULL;
    }
    if (*prompt_id) {
        entry *e = find(r, prompt_id);
        if (!e) {
            pthread_mutex_unlock(&r->mu);
            /* Finished: its final state once, then the watch is over. */
            Comfyd__V1__Run *run = runstore_get(r->st, prompt_id);
            if (!run) return RUNS_ENOTFOUND;
            if (run->seq > after_seq) fn(ud, run);
            msg_free(run);
            release(ud);
            return RUNS_OK;
        }
        if (e->run->seq > after_seq && fn(ud, e->run)) {
            pthread_mutex_unlock(&r->mu);
            release(ud);
            return RUNS_OK;
        }
    }
    r->w = xrealloc(r->w, (r->n_w + 1) * sizeof *r->w);
    r->w[r->n_w++] = (watcher){text_dup(prompt_id), text_dup(canvas_id), fn, release, ud};
    pthread_mutex_unlock(&r->mu);
    return RUNS_OK;
}

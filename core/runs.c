/* runs: runs followed through ComfyUI's API (see runs.h, docs/runs.md):
 * status names, message helpers, the entries, applying ComfyUI's events,
 * and the tracker's creation and destruction. The rest is split by concern
 * (see runs_int.h). */
#include "runs_int.h"

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

void ru_set_str(char **f, const char *v)
{
    if (*f && *f != protobuf_c_empty_string) free(*f);
    *f = text_dup(v ? v : "");
}

void *ru_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) abort();
    return q;
}

Comfyd__V1__Run *ru_run_copy(const Comfyd__V1__Run *r)
{
    size_t len = protobuf_c_message_get_packed_size(&r->base);
    uint8_t *buf = ru_xrealloc(NULL, len);
    protobuf_c_message_pack(&r->base, buf);
    Comfyd__V1__Run *c =
        (Comfyd__V1__Run *)protobuf_c_message_unpack(&comfyd__v1__run__descriptor, NULL, len, buf);
    free(buf);
    return c;
}

void ru_msg_free(void *m)
{
    if (m) protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- entries (under mu) ---- */

entry *ru_find(runs *r, const char *pid)
{
    for (size_t i = 0; i < r->n_act; i++)
        if (!strcmp(r->act[i].run->prompt_id, pid)) return &r->act[i];
    return NULL;
}

static void entry_free(entry *e)
{
    ru_msg_free(e->run);
    for (size_t i = 0; i < e->n_titles; i++) {
        free(e->titles[i].node_id);
        free(e->titles[i].title);
        free(e->titles[i].type);
    }
    free(e->titles);
}

const title *ru_title_of(const entry *e, const char *node)
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
void ru_changed(runs *r, entry *e, int persist)
{
    Comfyd__V1__Run *run = e->run;
    run->seq++;
    int final = runs_status_final(run->status);
    if (final && !run->ended_at_ms) run->ended_at_ms = text_now_ms();
    if (final) {
        ru_set_str(&run->executing_node, "");
        run->queue_position = 0;
    }
    if (persist || final) runstore_put(r->st, run, NULL);
    notify(r, run);
    if (final && !e->lost) {
        entry_free(e);
        *e = r->act[--r->n_act];
    }
}

void ru_set_status(Comfyd__V1__Run *run, Comfyd__V1__RunStatus s, const char *reason)
{
    /* A run back from UNKNOWN (ComfyUI answered again) is not over. */
    if (!runs_status_final(s)) run->ended_at_ms = 0;
    run->status = s;
    ru_set_str(&run->reason, reason ? reason : "");
}

/* ---- applying ComfyUI's events ---- */

void ru_add_unique(char ***list, size_t *n, const char *v)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*list)[i], v)) return;
    if (*n >= RUNS_MAX_PROGRESS) return;
    *list = ru_xrealloc(*list, (*n + 1) * sizeof **list);
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
    Comfyd__V1__NodeProgress *p = ru_xrealloc(NULL, sizeof *p);
    comfyd__v1__node_progress__init(p);
    p->node_id = text_dup(node);
    p->value = value;
    p->max = max;
    run->progress = ru_xrealloc(run->progress, (run->n_progress + 1) * sizeof *run->progress);
    run->progress[run->n_progress++] = p;
}

/* Takes o (replacing an earlier output of the same node). */
void ru_set_output(Comfyd__V1__Run *run, Comfyd__V1__RunNodeOutput *o)
{
    for (size_t i = 0; i < run->n_outputs; i++) {
        if (!strcmp(run->outputs[i]->node_id, o->node_id)) {
            ru_msg_free(run->outputs[i]);
            run->outputs[i] = o;
            return;
        }
    }
    run->outputs = ru_xrealloc(run->outputs, (run->n_outputs + 1) * sizeof *run->outputs);
    run->outputs[run->n_outputs++] = o;
}

static Comfyd__V1__RunNodeOutput *output_of_event(comfy_event *ev)
{
    Comfyd__V1__RunNodeOutput *o = ru_xrealloc(NULL, sizeof *o);
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
    ru_msg_free(run->execution_error);
    Comfyd__V1__RunExecutionError *x = ru_xrealloc(NULL, sizeof *x);
    comfyd__v1__run_execution_error__init(x);
    x->node_id = text_dup(ev->node);
    const title *t = ru_title_of(e, ev->node);
    x->node_type = text_dup(*ev->node_type ? ev->node_type : (t ? t->type : ""));
    x->title = text_dup(t ? t->title : "");
    x->exception_type = text_dup(ev->exception_type);
    x->exception_message = text_dup(ev->exception_message);
    if (ev->n_traceback) {
        x->traceback = ru_xrealloc(NULL, ev->n_traceback * sizeof *x->traceback);
        for (size_t i = 0; i < ev->n_traceback; i++)
            x->traceback[i] = text_dup(ev->traceback[i]);
        x->n_traceback = ev->n_traceback;
    }
    run->execution_error = x;
}

/* Applies one event to e (under mu). May end e (see ru_changed). */
void ru_apply(runs *r, entry *e, comfy_event *ev)
{
    Comfyd__V1__Run *run = e->run;
    char why[COMFY_MAX_TEXT + 256];
    /* A run already final only takes late outputs (history after an
     * execution_success). */
    if (runs_status_final(run->status) && !e->lost && ev->type != COMFY_EV_EXECUTED) return;
    switch (ev->type) {
    case COMFY_EV_EXECUTION_START:
        if (run->status == RS(RUNNING) && !e->lost) return;
        ru_set_status(run, RS(RUNNING), "");
        run->queue_position = 0;
        if (!run->started_at_ms)
            run->started_at_ms = ev->timestamp_ms ? ev->timestamp_ms : text_now_ms();
        e->lost = 0;
        ru_changed(r, e, 1);
        return;
    case COMFY_EV_EXECUTION_CACHED:
        for (size_t i = 0; i < ev->n_nodes; i++)
            ru_add_unique(&run->cached_nodes, &run->n_cached_nodes, ev->nodes[i]);
        ru_changed(r, e, 0);
        return;
    case COMFY_EV_EXECUTING:
        if (*run->executing_node)
            ru_add_unique(&run->executed_nodes, &run->n_executed_nodes, run->executing_node);
        ru_set_str(&run->executing_node, ev->node_null ? "" : ev->node);
        if (run->status == RS(QUEUED)) ru_set_status(run, RS(RUNNING), "");
        ru_changed(r, e, 0);
        return;
    case COMFY_EV_PROGRESS:
        set_progress(run, ev->node, ev->value, ev->max);
        ru_changed(r, e, 0);
        return;
    case COMFY_EV_EXECUTED:
        ru_add_unique(&run->executed_nodes, &run->n_executed_nodes, ev->node);
        ru_set_output(run, output_of_event(ev));
        ru_changed(r, e, 1);
        return;
    case COMFY_EV_EXECUTION_SUCCESS:
        e->lost = 0;
        ru_set_status(run, RS(SUCCEEDED), "");
        if (ev->timestamp_ms) run->ended_at_ms = ev->timestamp_ms;
        ru_changed(r, e, 1);
        return;
    case COMFY_EV_EXECUTION_ERROR:
        e->lost = 0;
        set_exec_error(e, ev);
        snprintf(why, sizeof why, "%s%s%s", ev->exception_type, *ev->exception_type ? ": " : "",
                 ev->exception_message);
        ru_set_status(run, RS(FAILED), why);
        if (ev->timestamp_ms) run->ended_at_ms = ev->timestamp_ms;
        ru_changed(r, e, 1);
        return;
    case COMFY_EV_EXECUTION_INTERRUPTED: {
        e->lost = 0;
        const title *t = ru_title_of(e, ev->node);
        snprintf(why, sizeof why, "interrupted at node %s%s%s%s", ev->node, t ? " (" : "",
                 t ? t->title : "", t ? ")" : "");
        ru_set_status(run, RS(INTERRUPTED), why);
        if (ev->timestamp_ms) run->ended_at_ms = ev->timestamp_ms;
        ru_changed(r, e, 1);
        return;
    }
    default:
        return;
    }
}

void ru_on_ws_message(void *ud, const char *data, size_t len)
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
        entry *e = ru_find(r, ev.prompt_id);
        if (e) ru_apply(r, e, &ev);
    }
    pthread_mutex_unlock(&r->mu);
    comfy_event_clear(&ev);
}

/* ---- creation ---- */

entry *ru_add_entry(runs *r, Comfyd__V1__Run *run)
{
    r->act = ru_xrealloc(r->act, (r->n_act + 1) * sizeof *r->act);
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
            entry *e = ru_add_entry(r, ru_run_copy(l[i]));
            e->reconcile = 1;
        }
        runstore_free_list(l, n);
    }
    if (r->n_act) LOG_I(MOD, "%zu unfinished run(s) from before the restart", r->n_act);
    if (pthread_create(&r->thread, NULL, ru_tracker, r)) {
        snprintf(err, errlen, "cannot start the run ru_tracker");
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

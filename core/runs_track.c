/* runs_track: the run tracker's thread (runs.h): reconciling the runs
 * from ComfyUI's /history and /queue. */
#include "runs_int.h"

/* ---- reconciling from /history and /queue (ru_tracker thread) ---- */

int ru_fetch_queue(runs *r, comfy_queue *q, char *err, size_t errlen)
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

qstate ru_queue_state(const comfy_queue *q, const char *pid, uint32_t *pos)
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
    entry *e = ru_find(r, pid);
    if (e) {
        /* Outputs first: a final message ends the entry. */
        for (size_t i = 0; i < h->n_outputs; i++) {
            ru_set_output(e->run, h->outputs[i]);
            ru_add_unique(&e->run->executed_nodes, &e->run->n_executed_nodes,
                          h->outputs[i]->node_id);
            h->outputs[i] = NULL;
        }
        h->n_outputs = 0;
        int ended = 0;
        for (size_t i = 0; i < h->n_messages && (e = ru_find(r, pid)); i++) {
            comfy_event_type t = h->messages[i].type;
            ended |= t == COMFY_EV_EXECUTION_SUCCESS || t == COMFY_EV_EXECUTION_ERROR ||
                     t == COMFY_EV_EXECUTION_INTERRUPTED;
            ru_apply(r, e, &h->messages[i]);
        }
        if (!ended && (e = ru_find(r, pid)) && h->completed) {
            e->lost = 0;
            ru_set_status(e->run, RS(SUCCEEDED), "");
            ru_changed(r, e, 1);
        } else if (!ended && (e = ru_find(r, pid)) && !strcmp(h->status_str, "error")) {
            e->lost = 0;
            ru_set_status(e->run, RS(FAILED), "ComfyUI's history says the prompt failed");
            ru_changed(r, e, 1);
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
    if (ru_fetch_queue(r, &q, err, sizeof err)) return -1;
    uint32_t pos = 0;
    qstate s = ru_queue_state(&q, pid, &pos);
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
    entry *e = ru_find(r, pid);
    if (e) {
        e->reconcile = 0;
        if (s == IN_NONE) {
            e->lost = 0;
            ru_set_status(e->run, RS(UNKNOWN),
                          "ComfyUI has no record of this prompt any more: it was restarted, or its "
                          "queue or history was cleared, while the run was unfinished");
            ru_changed(r, e, 1);
        } else {
            Comfyd__V1__RunStatus want = s == IN_RUNNING ? RS(RUNNING) : RS(QUEUED);
            if (e->run->status != want || e->lost || e->run->queue_position != pos) {
                e->lost = 0;
                ru_set_status(e->run, want, "");
                e->run->queue_position = pos;
                ru_changed(r, e, 1);
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
        ids = ru_xrealloc(ids, (*n + 1) * sizeof *ids);
        ids[(*n)++] = text_dup(e->run->prompt_id);
    }
    pthread_mutex_unlock(&r->mu);
    return ids;
}

void ru_reconcile(runs *r, int all)
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
    if (ru_fetch_queue(r, &q, err, sizeof err)) return;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n_act; i++) {
        entry *e = &r->act[i];
        if (e->run->status != RS(QUEUED)) continue;
        uint32_t pos = 0;
        if (ru_queue_state(&q, e->run->prompt_id, &pos) == IN_PENDING &&
            pos != e->run->queue_position) {
            e->run->queue_position = pos;
            ru_changed(r, e, 0);
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
        ru_set_status(e->run, RS(UNKNOWN), reason);
        ru_changed(r, e, 1);
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

void *ru_tracker(void *arg)
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
            ru_reconcile(r, 1);
            int64_t last_sweep = text_mono_ms();
            while (!stopping(r)) {
                if (comfy_ws_poll(ws, 200, ru_on_ws_message, r, err, sizeof err)) break;
                pthread_mutex_lock(&r->mu);
                int rq = r->refresh_queue;
                r->refresh_queue = 0;
                pthread_mutex_unlock(&r->mu);
                if (rq) refresh_positions(r);
                ru_reconcile(r, 0);
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
            struct timespec ts = text_realtime_after(backoff);
            pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        }
        pthread_mutex_unlock(&r->mu);
        backoff = backoff * 2 > RUNS_BACKOFF_MAX_MS ? RUNS_BACKOFF_MAX_MS : backoff * 2;
    }
    return NULL;
}

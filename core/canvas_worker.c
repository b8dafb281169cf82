/* canvas_worker: the manager's worker thread. It ends requests whose
 * deadline passed and detaches tabs that departed (canvas_tab_gone), off
 * the threads that report them. */
#include "canvas_int.h"

/* ---- the worker: deadlines and departed tabs ---- */

/* Ends expired requests on cv and returns its earliest remaining deadline. */
static int64_t expire(canvas *cv, jlist *fin)
{
    pthread_mutex_lock(&cv->mu);
    int64_t now = mono();
    job *j = cv->inflight;
    if (j && now >= j->deadline && j->previewing) {
        cv->inflight = NULL;
        cv_preview_expired(cv, j, now, fin);
    } else if (j && now >= j->deadline) {
        cv->inflight = NULL;
        cv_job_refuse(
            cv, j, GE(EDITOR_TIMEOUT), fin,
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
            cv_job_refuse(cv, j, GE(EDITOR_TIMEOUT), fin,
                          "gave up after %u ms waiting behind earlier requests to canvas \"%s\"",
                          j->timeout_ms, cv->id);
        } else {
            cv->q_tail = j;
            pp = &j->next;
        }
    }
    cv_pump(cv, fin);
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
        if (m->cvs[i]->att_id == tab_id) cv = cv_ref(m->cvs[i]);
    pthread_mutex_unlock(&m->mu);
    if (!cv) return;
    jlist fin = {0};
    pthread_mutex_lock(&cv->mu);
    if (cv->ops && cv->tab_id == tab_id) {
        cv_end_jobs(cv, 0, GE(EDITOR_GONE), "the tab's stream ended before it answered", 1,
                    GE(NO_LIVE_CANVAS), "the canvas's tab went away before the request was sent",
                    &fin);
        cv_detach(cv, 0, NULL);
        LOG_I(MOD, "canvas %s detached (revision %llu kept as a stale mirror)", LOG_ESC(cv->id),
              (unsigned long long)graph_revision(cv->g));
    }
    pthread_mutex_unlock(&cv->mu);
    cv_fin_run(m, &fin);
    cv_unref(cv);
}

void *cv_worker_main(void *arg)
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
        canvas **v = cv_snapshot_locked(m, &n);
        pthread_mutex_unlock(&m->mu);
        int64_t earliest = INT64_MAX;
        for (size_t i = 0; i < n; i++) {
            jlist fin = {0};
            int64_t e = expire(v[i], &fin);
            cv_fin_run(m, &fin);
            if (e < earliest) earliest = e;
        }
        cv_snapshot_free(v, n);
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

/* runs_int: private to the run tracker (runs.h), whose code is split by
 * concern over runs.c (status names, message helpers, the entries,
 * applying ComfyUI's events, creation), runs_track.c (reconciling from
 * /history and /queue on the tracker thread), runs_queue.c (queueing and
 * cancelling runs) and runs_query.c (reads, outputs and watching). This
 * header holds the structures they share and the prototypes of the
 * functions one piece calls in another, prefixed ru_. Nothing outside
 * core/runs*.c includes it. */
#ifndef COMFYD_RUNS_INT_H
#define COMFYD_RUNS_INT_H

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

typedef enum { IN_NONE, IN_RUNNING, IN_PENDING } qstate;

void ru_set_str(char **f, const char *v);
void *ru_xrealloc(void *p, size_t n);
Comfyd__V1__Run *ru_run_copy(const Comfyd__V1__Run *r);
void ru_msg_free(void *m);
entry *ru_find(runs *r, const char *pid);
const title *ru_title_of(const entry *e, const char *node);
void ru_changed(runs *r, entry *e, int persist);
void ru_set_status(Comfyd__V1__Run *run, Comfyd__V1__RunStatus s, const char *reason);
void ru_add_unique(char ***list, size_t *n, const char *v);
void ru_set_output(Comfyd__V1__Run *run, Comfyd__V1__RunNodeOutput *o);
void ru_apply(runs *r, entry *e, comfy_event *ev);
void ru_on_ws_message(void *ud, const char *data, size_t len);
entry *ru_add_entry(runs *r, Comfyd__V1__Run *run);
int ru_fetch_queue(runs *r, comfy_queue *q, char *err, size_t errlen);
qstate ru_queue_state(const comfy_queue *q, const char *pid, uint32_t *pos);
void ru_reconcile(runs *r, int all);
void *ru_tracker(void *arg);

#endif

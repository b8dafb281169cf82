/* checkpoint: canvas checkpoints of session turns and their restore
 * (checkpoint.h). */
#include "checkpoint.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "text.h"

#define MOD "checkpoint"

typedef struct held {
    char session_id[STORE_ID_MAX + 1];
    uint64_t turn_id;
    char canvas_id[CANVAS_MAX_ID + 1];
    uint64_t rev_before;
    char *workflow; /* NULL: slot free */
    uint64_t used;  /* LRU tick */
    int stored;     /* a patch moved the canvas: the checkpoint was written */
    int inflight;   /* patches between ckpt_before_change and ckpt_after_change */
} held;

struct ckpt {
    store *st;
    canvas_mgr *cm;
    pthread_mutex_t mu;
    held slots[CKPT_MAX_HELD];
    uint64_t tick;
};

int ckpt_create(ckpt **out, store *st, canvas_mgr *cm)
{
    *out = NULL;
    if (!st || !cm) return CKPT_EINVAL;
    ckpt *c = calloc(1, sizeof *c);
    if (!c) return CKPT_ENOMEM;
    c->st = st;
    c->cm = cm;
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return CKPT_OK;
}

void ckpt_destroy(ckpt *c)
{
    if (!c) return;
    for (size_t i = 0; i < CKPT_MAX_HELD; i++)
        free(c->slots[i].workflow);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* The held capture of (sid, turn, canvas); NULL when none. With c->mu. */
static held *find_locked(ckpt *c, const char *sid, uint64_t turn, const char *canvas)
{
    for (size_t i = 0; i < CKPT_MAX_HELD; i++) {
        held *h = &c->slots[i];
        if (h->workflow && h->turn_id == turn && !strcmp(h->session_id, sid) &&
            !strcmp(h->canvas_id, canvas))
            return h;
    }
    return NULL;
}

void ckpt_before_change(ckpt *c, const char *session_id, uint64_t turn_id, const char *canvas_id,
                        char resolved[CANVAS_MAX_ID + 1])
{
    resolved[0] = 0;
    if (!c || !session_id || !*session_id || !turn_id || strlen(session_id) > STORE_ID_MAX) return;
    if (!canvas_id) canvas_id = "";
    /* Until a patch of the turn has moved the canvas, and while none of its
     * patches is in flight, the capture is taken again before each patch:
     * the canvas as it is right before the change (a user's edit after a
     * refused patch included). With a patch in flight (another skill's) the
     * canvas may already hold that patch, so the capture stays. */
    pthread_mutex_lock(&c->mu);
    held *h = *canvas_id ? find_locked(c, session_id, turn_id, canvas_id) : NULL;
    int keep = h && (h->stored || h->inflight);
    if (keep) {
        h->used = ++c->tick;
        h->inflight++;
        snprintf(resolved, CANVAS_MAX_ID + 1, "%s", h->canvas_id);
    }
    pthread_mutex_unlock(&c->mu);
    if (keep) return;
    char *json = NULL;
    size_t len = 0;
    uint64_t rev = 0;
    char rid[CANVAS_MAX_ID + 1] = "";
    canvas_error e = {0};
    /* No canvas to read: the patch fails the same way, nothing to keep. */
    if (canvas_workflow(c->cm, canvas_id, &json, &len, &rev, rid, &e) != CANVAS_OK) return;
    pthread_mutex_lock(&c->mu);
    held *cur = find_locked(c, session_id, turn_id, rid);
    if (cur && !cur->stored && !cur->inflight) {
        free(cur->workflow);
        cur->workflow = json;
        cur->rev_before = rev;
        json = NULL;
    } else if (!cur) {
        cur = &c->slots[0];
        for (size_t i = 0; i < CKPT_MAX_HELD; i++) {
            if (!c->slots[i].workflow) {
                cur = &c->slots[i];
                break;
            }
            if (c->slots[i].used < cur->used) cur = &c->slots[i];
        }
        free(cur->workflow);
        snprintf(cur->session_id, sizeof cur->session_id, "%s", session_id);
        snprintf(cur->canvas_id, sizeof cur->canvas_id, "%s", rid);
        cur->turn_id = turn_id;
        cur->rev_before = rev;
        cur->workflow = json;
        cur->stored = 0;
        cur->inflight = 0;
        json = NULL;
    }
    cur->used = ++c->tick;
    cur->inflight++;
    snprintf(resolved, CANVAS_MAX_ID + 1, "%s", rid);
    pthread_mutex_unlock(&c->mu);
    free(json);
}

void ckpt_after_change(ckpt *c, const char *session_id, uint64_t turn_id, const char *canvas_id,
                       uint64_t revision)
{
    if (!c || !session_id || !*session_id || !turn_id || !canvas_id || !*canvas_id) return;
    store_checkpoint cp = {0};
    pthread_mutex_lock(&c->mu);
    held *h = find_locked(c, session_id, turn_id, canvas_id);
    if (h && h->inflight) h->inflight--;
    if (h && revision > h->rev_before) {
        h->used = ++c->tick;
        snprintf(cp.session_id, sizeof cp.session_id, "%s", session_id);
        cp.message_id = turn_id;
        cp.canvas_id = text_dup(canvas_id);
        cp.rev_before = h->rev_before;
        cp.rev_after = revision;
        cp.workflow = text_dup(h->workflow);
        cp.created_ms = text_now_ms();
        /* Marked before the write: a later capture must not replace the
         * workflow of a change that happened, whatever the store says. */
        h->stored = 1;
    }
    pthread_mutex_unlock(&c->mu);
    if (!cp.workflow) return;
    int rc = store_checkpoint_put(c->st, &cp);
    if (rc != STORE_OK)
        LOG_W(MOD, "session %s turn %llu: no checkpoint of canvas %s kept: %s", session_id,
              (unsigned long long)turn_id, canvas_id,
              rc == STORE_EINVAL ? "the workflow is over the checkpoint size limit"
                                 : store_strerror(rc));
    store_checkpoint_clear(&cp);
}

/* ---- restore ---- */

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    int err;
    char message[CANVAS_ERRLEN];
    uint64_t revision;
} waiter;

static void load_done(void *ud, const canvas_result *r)
{
    waiter *w = ud;
    pthread_mutex_lock(&w->mu);
    w->err = r->err;
    if (r->message) snprintf(w->message, sizeof w->message, "%s", r->message);
    if (r->err == CANVAS_OK && r->resp)
        w->revision = ((const Comfyd__V1__LoadResponse *)r->resp)->revision;
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Loads json into canvas and waits for the tab; *rev gets the revision. */
static int load_wait(ckpt *c, const char *canvas, const char *json, uint32_t timeout_ms,
                     uint64_t *rev, char *err, size_t errlen)
{
    waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    Comfyd__V1__LoadRequest req = COMFYD__V1__LOAD_REQUEST__INIT;
    req.canvas_id = (char *)canvas;
    req.workflow_json = (char *)json;
    req.timeout_ms = timeout_ms;
    /* The tab keeps its open workflow and can undo the restore. */
    req.undo_step = 1;
    canvas_error e = {0};
    int rc = canvas_load(c->cm, &req, 0, load_done, &w, &e);
    if (rc != CANVAS_OK) {
        snprintf(err, errlen, "canvas %s: %s", canvas, e.message);
        return -1;
    }
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    if (w.err != CANVAS_OK) {
        snprintf(err, errlen, "canvas %s: %s", canvas, w.message[0] ? w.message : "load failed");
        return -1;
    }
    *rev = w.revision;
    return 0;
}

/* Appends what changed on canvas after revision since (at most
 * CKPT_DIFF_LINES lines) to b. */
static void describe_diff(ckpt *c, const char *canvas, uint64_t since, text_buf *b)
{
    Comfyd__V1__GetDiffRequest req = COMFYD__V1__GET_DIFF_REQUEST__INIT;
    req.canvas_id = (char *)canvas;
    req.since_revision = since;
    Comfyd__V1__GetDiffResponse *d = NULL;
    canvas_error e = {0};
    if (canvas_get_diff(c->cm, &req, &d, &e) != CANVAS_OK) return;
    if (d->truncated) {
        text_buf_addf(b, " (the change log no longer reaches revision %llu)",
                      (unsigned long long)since);
    } else {
        for (size_t i = 0; i < d->n_ops && i < CKPT_DIFF_LINES; i++)
            text_buf_addf(b, "%s %s", i ? ";" : ":", d->ops[i]->summary);
        if (d->n_ops > CKPT_DIFF_LINES)
            text_buf_addf(b, "; and %zu more", d->n_ops - CKPT_DIFF_LINES);
    }
    protobuf_c_message_free_unpacked(&d->base, NULL);
}

void ckpt_restored_free(Comfyd__V1__CanvasRestore **list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(list[i]->canvas_id);
        free(list[i]);
    }
    free(list);
}

int ckpt_restore(ckpt *c, const char *session_id, uint64_t to_id, int force, uint32_t timeout_ms,
                 Comfyd__V1__CanvasRestore ***out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    err[0] = 0;
    store_checkpoint *cps = NULL;
    size_t ncp = 0;
    int rc = store_checkpoints_list(c->st, session_id, 1, &cps, &ncp);
    if (rc != STORE_OK) {
        snprintf(err, errlen, "cannot read the checkpoints: %s", store_strerror(rc));
        return CKPT_EIO;
    }
    /* Per canvas: the first checkpoint at or after to_id (restored) and
     * the newest (whose rev_after the canvas must still be at). */
    size_t first[CKPT_MAX_RESTORE], last[CKPT_MAX_RESTORE], nc = 0;
    for (size_t i = 0; i < ncp; i++) {
        size_t k = 0;
        while (k < nc && strcmp(cps[last[k]].canvas_id, cps[i].canvas_id))
            k++;
        if (k < nc) {
            last[k] = i;
            if (first[k] == SIZE_MAX && cps[i].message_id >= to_id) first[k] = i;
            continue;
        }
        if (nc == CKPT_MAX_RESTORE) continue; /* more canvases than a revert restores */
        first[nc] = cps[i].message_id >= to_id ? i : SIZE_MAX;
        last[nc++] = i;
    }
    text_buf stale = {0};
    uint64_t cur_rev[CKPT_MAX_RESTORE] = {0};
    rc = CKPT_OK;
    for (size_t k = 0; rc == CKPT_OK && k < nc; k++) {
        if (first[k] == SIZE_MAX) continue;
        const store_checkpoint *l = &cps[last[k]];
        char *json = NULL;
        size_t len;
        canvas_error e = {0};
        if (canvas_workflow(c->cm, l->canvas_id, &json, &len, &cur_rev[k], NULL, &e) != CANVAS_OK) {
            snprintf(err, errlen, "canvas %s cannot be restored: %s", l->canvas_id, e.message);
            rc = CKPT_ECANVAS;
            break;
        }
        free(json);
        if (cur_rev[k] != l->rev_after && !force) {
            text_buf_addf(&stale,
                          "%scanvas %s is at revision %llu, not %llu (the session's last "
                          "change) since",
                          stale.n ? "; " : "", l->canvas_id, (unsigned long long)cur_rev[k],
                          (unsigned long long)l->rev_after);
            describe_diff(c, l->canvas_id, l->rev_after, &stale);
        }
    }
    if (rc == CKPT_OK && stale.n) {
        snprintf(err, errlen,
                 "STALE_REVISION: %s. Revert with force to restore the checkpoint anyway (those "
                 "changes are undone too), or without restore_canvas to keep the canvas",
                 stale.p);
        rc = CKPT_ESTALE;
    }
    text_buf_free(&stale);
    Comfyd__V1__CanvasRestore **list = NULL;
    size_t nl = 0;
    if (rc == CKPT_OK && nc) {
        list = calloc(nc, sizeof *list);
        if (!list) rc = CKPT_ENOMEM;
    }
    for (size_t k = 0; rc == CKPT_OK && k < nc; k++) {
        if (first[k] == SIZE_MAX) continue;
        const store_checkpoint *f = &cps[first[k]];
        uint64_t rev = 0;
        char e[CKPT_ERRLEN];
        if (load_wait(c, f->canvas_id, f->workflow, timeout_ms, &rev, e, sizeof e) != 0) {
            snprintf(err, errlen, "%s%s", e,
                     nl ? " (the canvases before it were restored already)" : "");
            rc = CKPT_ECANVAS;
            break;
        }
        Comfyd__V1__CanvasRestore *r = calloc(1, sizeof *r);
        if (!r) {
            rc = CKPT_ENOMEM;
            break;
        }
        comfyd__v1__canvas_restore__init(r);
        r->canvas_id = text_dup(f->canvas_id);
        r->checkpoint_id = f->id;
        r->checkpoint_revision = f->rev_before;
        r->from_revision = cur_rev[k];
        r->to_revision = rev;
        list[nl++] = r;
        LOG_I(MOD,
              "session %s: canvas %s restored to its checkpoint of turn %llu (revision %llu "
              "-> %llu)",
              session_id, f->canvas_id, (unsigned long long)f->message_id,
              (unsigned long long)cur_rev[k], (unsigned long long)rev);
    }
    store_checkpoints_free(cps, ncp);
    if (rc != CKPT_OK) {
        /* The canvases restored so far stay restored; the caller reports. */
        *out = list;
        *n = nl;
        return rc;
    }
    if (!nl) {
        free(list);
        list = NULL;
    }
    *out = list;
    *n = nl;
    return CKPT_OK;
}

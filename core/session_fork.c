/* session_fork: fork and revert (core/session.h): a new session from a
 * session's messages up to one of them, and the revert that hides the
 * messages after a checkpoint while the canvas is restored. */
#include "session_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "text.h"

/* ---- fork and revert ------------------------------------------------------ */

/* Checks that message mid is a visible message of session sid. */
static int check_message(sess_mgr *m, const char *sid, uint64_t mid, char *err, size_t errlen)
{
    if (mid == 0 || mid > INT64_MAX) {
        sess_seterr(err, errlen, "message_id: missing or out of range");
        return SESS_EINVAL;
    }
    store_message msg;
    int rc = store_message_get(m->st, mid, &msg);
    if (rc == STORE_NOT_FOUND) {
        sess_seterr(err, errlen, "message %llu not found", (unsigned long long)mid);
        return SESS_NOT_FOUND;
    }
    if (rc != STORE_OK) {
        sess_seterr(err, errlen, "cannot read message %llu: %s", (unsigned long long)mid,
                    store_strerror(rc));
        return sess_store_io_err(rc);
    }
    if (strcmp(msg.session_id, sid) != 0) {
        rc = SESS_EINVAL;
        sess_seterr(err, errlen, "message_id: message %llu belongs to another session, not to %s",
                    (unsigned long long)mid, sid);
    } else if (msg.reverted_ms) {
        rc = SESS_NOT_FOUND;
        sess_seterr(err, errlen, "message %llu of session %s was hidden by a revert",
                    (unsigned long long)mid, sid);
    }
    store_message_clear(&msg);
    return rc;
}

int sess_fork(sess_mgr *m, const char *id, uint64_t message_id, const char *title, sess_info *out,
              uint32_t *copied, char *err, size_t errlen)
{
    int rc;
    *copied = 0;
    memset(out, 0, sizeof *out);
    if (sess_shutting_down(m, err, errlen)) return SESS_ESHUTDOWN;
    if ((rc = sess_check_text("title", title, SESS_MAX_TITLE, 1, err, errlen))) return rc;
    session *src = sess_find_or_err(m, id, &rc, err, errlen);
    if (!src) return rc;
    if ((rc = check_message(m, id, message_id, err, errlen)) != SESS_OK) {
        sess_unref(src);
        return rc;
    }
    store_session dst = {0};
    if (text_uuid(dst.id) != 0) {
        sess_unref(src);
        sess_seterr(err, errlen, "no randomness available for a session id");
        return SESS_EIO;
    }
    if (title && *title) {
        dst.title = text_dup(title);
    } else {
        /* The parent's title marked, cut to the limit on a character. */
        pthread_mutex_lock(&src->mu);
        char t[SESS_MAX_TITLE + 1];
        const char *pt = src->meta.title ? src->meta.title : "";
        size_t n = strlen(pt), room = SESS_MAX_TITLE - strlen(" (fork)");
        if (n > room) {
            n = room;
            while (n > 0 && ((unsigned char)pt[n] & 0xC0) == 0x80)
                n--;
        }
        snprintf(t, sizeof t, "%.*s (fork)", (int)n, pt);
        pthread_mutex_unlock(&src->mu);
        dst.title = text_dup(t);
    }
    dst.created_ms = dst.updated_ms = text_now_ms();
    size_t n_copied = 0;
    /* The copy runs without the map lock (a long history takes a while and
     * every lookup needs that lock); the new id is fresh, so nothing can
     * look it up before it is in the map. */
    rc = store_session_fork(m->st, id, message_id, &dst, &n_copied);
    store_session meta = {0};
    if (rc == STORE_OK) rc = store_session_get(m->st, dst.id, &meta);
    store_session_clear(&dst);
    pthread_mutex_lock(&m->mu);
    if (rc != STORE_OK) {
        pthread_mutex_unlock(&m->mu);
        sess_unref(src);
        if (rc == STORE_NOT_FOUND) {
            sess_seterr(err, errlen, "message %llu is no longer a visible message of session %s",
                        (unsigned long long)message_id, id);
            return SESS_NOT_FOUND;
        }
        sess_seterr(err, errlen, "cannot store the fork: %s", store_strerror(rc));
        return sess_store_io_err(rc);
    }
    session *s = sess_new(m, &meta);
    if (!s) {
        pthread_mutex_unlock(&m->mu);
        store_session_clear(&meta);
        sess_unref(src);
        return SESS_ENOMEM;
    }
    sess_map_insert_locked(m, s);
    pthread_mutex_lock(&s->mu);
    sess_info_fill_locked(s, out);
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_unlock(&m->mu);
    sess_unref(src);
    *copied = n_copied > UINT32_MAX ? UINT32_MAX : (uint32_t)n_copied;
    LOG_I(MOD, "session %s forked from %s at message %llu (%zu messages)", out->meta.id, id,
          (unsigned long long)message_id, n_copied);
    return SESS_OK;
}

int sess_revert_begin(sess_mgr *m, const char *id, uint64_t message_id, char *err, size_t errlen)
{
    int rc;
    if (sess_shutting_down(m, err, errlen)) return SESS_ESHUTDOWN;
    session *s = sess_find_or_err(m, id, &rc, err, errlen);
    if (!s) return rc;
    if ((rc = check_message(m, id, message_id, err, errlen)) != SESS_OK) {
        sess_unref(s);
        return rc;
    }
    /* The newest message before the runner is held: anything later is sent
     * meanwhile and stays (a turn that got in first makes the session busy
     * below). */
    store_message *newest = NULL;
    size_t nn = 0;
    int trunc = 0;
    int lrc = store_messages_load(m->st, id, 1, &newest, &nn, &trunc);
    uint64_t through = lrc == STORE_OK && nn ? newest[0].id : 0;
    store_messages_free(newest, nn);
    if (lrc != STORE_OK || !through) {
        sess_unref(s);
        sess_seterr(err, errlen, "cannot read the history: %s", store_strerror(lrc));
        return sess_store_io_err(lrc);
    }
    pthread_mutex_lock(&s->mu);
    if (s->deleted) {
        rc = SESS_NOT_FOUND;
        sess_seterr(err, errlen, "session %s not found", id);
    } else if (s->cur || s->starting || s->compacting || s->qhead) {
        rc = SESS_EBUSY;
        sess_seterr(err, errlen,
                    "session %s is running or has queued a turn; revert it when it is idle (or "
                    "cancel with clear_queue first)",
                    id);
    } else {
        /* As during a compaction: the runner starts no turn until
         * sess_revert_end. */
        s->compacting = 1;
        s->revert_through = through;
    }
    pthread_mutex_unlock(&s->mu);
    sess_unref(s);
    return rc;
}

int sess_revert_end(sess_mgr *m, const char *id, uint64_t message_id, int apply,
                    Comfyd__V1__CanvasRestore **restored, size_t n_restored, sess_info *out,
                    uint32_t *hidden, char *err, size_t errlen)
{
    *hidden = 0;
    if (out) memset(out, 0, sizeof *out);
    session *s = sess_acquire(m, id);
    if (!s) {
        sess_seterr(err, errlen, "session %s not found", id);
        return SESS_NOT_FOUND;
    }
    int rc = SESS_OK;
    size_t n = 0;
    pthread_mutex_lock(&s->mu);
    uint64_t through = s->revert_through;
    pthread_mutex_unlock(&s->mu);
    if (apply) {
        int src = store_session_revert(m->st, id, message_id, through, text_now_ms(), &n);
        if (src == STORE_NOT_FOUND) {
            rc = SESS_NOT_FOUND;
            sess_seterr(err, errlen, "message %llu is no longer a visible message of session %s",
                        (unsigned long long)message_id, id);
        } else if (src != STORE_OK) {
            rc = sess_store_io_err(src);
            sess_seterr(err, errlen, "cannot store the revert: %s", store_strerror(src));
        }
    }
    store_session meta = {0};
    int got = apply && rc == SESS_OK ? store_session_get(m->st, id, &meta) : STORE_EIO;
    pthread_mutex_lock(&s->mu);
    if (got == STORE_OK) {
        /* The counts and the summary mark follow the visible history. */
        s->meta.message_count = meta.message_count;
        s->meta.compacted_to = meta.compacted_to;
        s->meta.updated_ms = meta.updated_ms;
    }
    if (apply && rc == SESS_OK) {
        Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
        Comfyd__V1__SessionReverted sr = COMFYD__V1__SESSION_REVERTED__INIT;
        sr.to_message_id = message_id;
        sr.messages_hidden = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
        sr.restored = restored;
        sr.n_restored = n_restored;
        ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_REVERTED;
        ev.reverted = &sr;
        sess_publish_locked(s, &ev);
    }
    s->compacting = 0;
    s->revert_through = 0;
    if (s->qhead) sess_start_runner_locked(s); /* messages sent meanwhile */
    if (out) sess_info_fill_locked(s, out);
    pthread_mutex_unlock(&s->mu);
    store_session_clear(&meta);
    sess_unref(s);
    if (rc == SESS_OK && apply) {
        *hidden = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
        LOG_I(MOD, "session %s reverted to message %llu (%zu hidden)", id,
              (unsigned long long)message_id, n);
    }
    return rc;
}

int sess_unrevert(sess_mgr *m, const char *id, sess_info *out, uint32_t *restored, char *err,
                  size_t errlen)
{
    int rc;
    *restored = 0;
    if (out) memset(out, 0, sizeof *out);
    if (sess_shutting_down(m, err, errlen)) return SESS_ESHUTDOWN;
    session *s = sess_find_or_err(m, id, &rc, err, errlen);
    if (!s) return rc;
    pthread_mutex_lock(&s->mu);
    if (s->deleted) {
        rc = SESS_NOT_FOUND;
        sess_seterr(err, errlen, "session %s not found", id);
    } else if (s->cur || s->starting || s->compacting || s->qhead) {
        rc = SESS_EBUSY;
        sess_seterr(err, errlen,
                    "session %s is running or has queued a turn; undo the revert when it "
                    "is idle",
                    id);
    } else {
        s->compacting = 1; /* as a revert: no turn starts meanwhile */
    }
    pthread_mutex_unlock(&s->mu);
    if (rc != SESS_OK) {
        sess_unref(s);
        return rc;
    }
    size_t n = 0;
    uint64_t first = 0;
    int why = 0;
    int src = store_session_unrevert(m->st, id, &n, &first, &why);
    if (src == STORE_NOT_FOUND) {
        rc = SESS_EPRECOND;
        sess_seterr(err, errlen, "session %s has no revert to undo", id);
    } else if (src == STORE_CONFLICT) {
        rc = SESS_EPRECOND;
        sess_seterr(err, errlen,
                    why == STORE_UNREVERT_COMPACTED
                        ? "the revert cannot be undone: session %s was compacted since, and its "
                          "summary does not hold the hidden messages (fork from an earlier message "
                          "instead)"
                        : "the revert cannot be undone: session %s has new messages since (the "
                          "hidden ones would come back out of order; fork from an earlier message "
                          "instead)",
                    id);
    } else if (src != STORE_OK) {
        rc = sess_store_io_err(src);
        sess_seterr(err, errlen, "cannot store the un-revert: %s", store_strerror(src));
    }
    /* The messages back: every visible one from the first on. */
    store_message *rows = NULL;
    size_t nr = 0;
    int trunc = 0;
    if (rc == SESS_OK && store_messages_after(m->st, id, first - 1, SESS_HISTORY_LIMIT, &rows, &nr,
                                              &trunc) != STORE_OK)
        nr = 0; /* the event then says nothing; a client's next snapshot has them */
    store_session meta = {0};
    int got = rc == SESS_OK ? store_session_get(m->st, id, &meta) : STORE_EIO;
    pthread_mutex_lock(&s->mu);
    if (got == STORE_OK) {
        s->meta.message_count = meta.message_count;
        s->meta.compacted_to = meta.compacted_to;
        s->meta.updated_ms = meta.updated_ms;
    }
    if (rc == SESS_OK) {
        Comfyd__V1__ChatMessage *msgs = calloc(nr ? nr : 1, sizeof *msgs);
        Comfyd__V1__ChatMessage **pm = calloc(nr ? nr : 1, sizeof *pm);
        if (!msgs || !pm) abort();
        for (size_t i = 0; i < nr; i++) {
            sess_message_to_pb(&rows[i], &msgs[i]);
            sess_message_pb_attach(m, &rows[i], &msgs[i]);
            pm[i] = &msgs[i];
        }
        Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
        Comfyd__V1__SessionUnreverted su = COMFYD__V1__SESSION_UNREVERTED__INIT;
        su.messages = pm;
        su.n_messages = nr;
        ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_UNREVERTED;
        ev.unreverted = &su;
        sess_publish_locked(s, &ev);
        for (size_t i = 0; i < nr; i++)
            sess_message_pb_release(&msgs[i]);
        free(msgs);
        free(pm);
    }
    s->compacting = 0;
    if (s->qhead) sess_start_runner_locked(s);               /* messages sent meanwhile */
    if (out && rc == SESS_OK) sess_info_fill_locked(s, out); /* nothing to clear on an error */
    pthread_mutex_unlock(&s->mu);
    store_session_clear(&meta);
    store_messages_free(rows, nr);
    sess_unref(s);
    if (rc == SESS_OK) {
        *restored = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
        LOG_I(MOD, "session %s: revert undone (%zu messages back)", id, n);
    }
    return rc;
}

int sess_checkpoints(sess_mgr *m, const char *id, store_checkpoint **out, size_t *n, char *err,
                     size_t errlen)
{
    int rc = store_checkpoints_list(m->st, id, 0, out, n);
    if (rc == STORE_OK) return SESS_OK;
    sess_seterr(err, errlen, "cannot read the checkpoints: %s", store_strerror(rc));
    return sess_from_store(rc) == SESS_NOT_FOUND ? SESS_EIO : sess_store_io_err(rc);
}

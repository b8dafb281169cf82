/* session_cluster: several cores on one database (core/session.h,
 * lease.h, docs/scale-out.md): sessions made by another core loaded on
 * demand, turns run under the session's lease, events and cancels from the
 * other cores, and what a lost lease leaves to do. */
#include "session_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "text.h"

/* ---- several cores on one database (lease.h, docs/scale-out.md) ----------- */

/* How often a runner asks again for a lease another core holds: a turn
 * waits at most this long after the other core's turn ends. */
#define SESS_LEASE_WAIT_MS 100

void sess_mgr_set_fanout(sess_mgr *m, sess_fanout_fn fn, sess_cancel_fanout_fn cancel, void *ud)
{
    m->fanout = fn;
    m->cancel_fanout = cancel;
    m->fanout_ud = ud;
}

void sess_remote_cancel(sess_mgr *m, const char *session_id, int clear_queue)
{
    int cancelled = 0;
    uint32_t dropped = 0;
    char err[128];
    /* Not forwarded again: only a core running the turn acts. */
    sess_cancel_impl(m, session_id, clear_queue, 0, &cancelled, &dropped, err, sizeof err);
    if (cancelled || dropped)
        LOG_I(MOD, "session %s: cancel from another core (%s, %u queued dropped)", session_id,
              cancelled ? "turn stopped" : "no turn here", dropped);
}

/* A session another core made: loaded from the store into the map.
 * Returns it with a reference, or NULL when the store does not have it. */
session *sess_load_shared(sess_mgr *m, const char *id)
{
    store_session meta = {0};
    if (store_session_get(m->st, id, &meta) != STORE_OK) return NULL;
    session *s = sess_new(m, &meta); /* takes the strings */
    if (!s) {
        store_session_clear(&meta);
        return NULL;
    }
    pthread_mutex_lock(&m->mu);
    session *have = sess_map_find_locked(m, id);
    if (have || m->shutting_down) {
        if (have) sess_ref(have);
        pthread_mutex_unlock(&m->mu);
        sess_unref(s);
        return have;
    }
    sess_map_insert_locked(m, s); /* the map's reference */
    sess_ref(s);
    pthread_mutex_unlock(&m->mu);
    LOG_D(MOD, "session %s loaded from the shared store", id);
    return s;
}

/* A session deleted through another core: gone here too. */
static void forget_locally(sess_mgr *m, session *s)
{
    pthread_mutex_lock(&m->mu);
    int mapped = sess_map_find_locked(m, s->meta.id) == s;
    if (mapped) sess_map_remove_locked(m, s);
    pthread_mutex_unlock(&m->mu);
    if (!mapped) return;
    pthread_mutex_lock(&s->mu);
    s->deleted = 1;
    if (s->cur) atomic_store(&s->cur->cancel, 1);
    sess_detach_runner_locked(s);
    while (s->subs) {
        sub *u = s->subs;
        s->subs = u->next;
        u->ops->end(u->ud, 5 /* NOT_FOUND */, "session deleted");
        sess_sub_drop(u);
    }
    pthread_mutex_unlock(&s->mu);
    sess_unref(s); /* the map's reference */
}

/* The database is the truth when several cores share it: the session's
 * configuration and counters as stored (another core may have changed
 * them). This core's event numbers stay its own. STORE_NOT_FOUND: it was
 * deleted (and is forgotten here); another error keeps the copy. */
int sess_refresh_shared(session *s)
{
    store_session meta = {0};
    int rc = store_session_get(s->m->st, s->meta.id, &meta);
    if (rc == STORE_NOT_FOUND) forget_locally(s->m, s);
    if (rc != STORE_OK) return rc;
    pthread_mutex_lock(&s->mu);
    meta.seq_reserved = s->meta.seq_reserved;
    store_session_clear(&s->meta);
    s->meta = meta;
    pthread_mutex_unlock(&s->mu);
    return STORE_OK;
}

/* Takes the session's lease for p (waiting while another core runs a turn
 * of it) and claims p's message. 1: run it here; 0: do not (another core
 * ran it, it was cancelled, or this core is stopping: a QUEUED message
 * stays in the store for a live core). */
int sess_runner_lease(session *s, pending *p, int *held)
{
    sess_mgr *m = s->m;
    int told = 0;
    for (;;) {
        pthread_mutex_lock(&m->mu);
        int stop = m->shutting_down;
        pthread_mutex_unlock(&m->mu);
        pthread_mutex_lock(&s->mu);
        int gone = s->deleted;
        pthread_mutex_unlock(&s->mu);
        if (stop || gone) return 0;
        int rc = lease_acquire(m->lease, s->meta.id);
        if (rc == LEASE_OK) break;
        *held = 0;
        if (rc != LEASE_HELD && rc != LEASE_EUNAVAIL) {
            LOG_E(MOD, "session %s: cannot take its lease; turn %" PRIu64 " stays queued",
                  s->meta.id, p->msg_id);
            return 0;
        }
        if (!told)
            LOG_I(MOD, "session %s: turn %" PRIu64 " waits for %s", s->meta.id, p->msg_id,
                  rc == LEASE_HELD ? "the core running its current turn" : "the database");
        /* The holder runs it next, in the order turns were accepted
         * (sess_turn_offered); this runner's wait is the fallback for a
         * holder that gave the lease back before it heard of the turn. */
        if (!told && rc == LEASE_HELD && m->offer) m->offer(m->fanout_ud, s->meta.id, p->msg_id);
        told = 1;
        usleep(SESS_LEASE_WAIT_MS * 1000);
    }
    *held = 1;
    /* Configured through another core meanwhile? */
    if (sess_refresh_shared(s) == STORE_NOT_FOUND) return 0;
    if (p->claimed) return 1; /* stored RUNNING by sess_send */
    int rc = lease_claim(m->lease, p->msg_id);
    if (rc == LEASE_OK) return 1;
    if (rc == LEASE_GONE)
        LOG_D(MOD, "session %s: turn %" PRIu64 " is no longer queued (run elsewhere)", s->meta.id,
              p->msg_id);
    else
        LOG_E(MOD, "session %s: cannot claim turn %" PRIu64 "; it stays queued", s->meta.id,
              p->msg_id);
    return 0;
}

/* The runner has no turn left (called with s->mu held): the lease goes
 * back, so another core may run the session's next turn at once. A
 * stopping core keeps it: a turn
 * the shutdown interrupted stays RUNNING until the lease expires (or this
 * core starts again) and the sweeper marks it, as after a crash. */
void sess_runner_release(session *s, int *held)
{
    pthread_mutex_lock(&s->m->mu);
    int stop = s->m->shutting_down;
    pthread_mutex_unlock(&s->m->mu);
    if (!stop) lease_release(s->m->lease, s->meta.id);
    *held = 0;
}

void sess_remote_event(sess_mgr *m, const char *session_id, const uint8_t *data, size_t len)
{
    Comfyd__V1__SubscribeResponse *resp = comfyd__v1__subscribe_response__unpack(NULL, len, data);
    if (!resp || !resp->event ||
        resp->event->kind_case == COMFYD__V1__SESSION_EVENT__KIND_SYNC_STATE ||
        resp->event->kind_case == COMFYD__V1__SESSION_EVENT__KIND__NOT_SET) {
        if (!resp)
            LOG_W(MOD, "session %s: ignored an undecodable event of another core", session_id);
        comfyd__v1__subscribe_response__free_unpacked(resp, NULL);
        return;
    }
    Comfyd__V1__SessionEvent *ev = resp->event;
    /* Only a session loaded here can have subscribers here. */
    pthread_mutex_lock(&m->mu);
    session *s = sess_map_find_locked(m, session_id);
    if (s) sess_ref(s);
    pthread_mutex_unlock(&m->mu);
    if (!s) {
        comfyd__v1__subscribe_response__free_unpacked(resp, NULL);
        return;
    }
    if (ev->kind_case == COMFYD__V1__SESSION_EVENT__KIND_CONFIG_UPDATED) sess_refresh_shared(s);
    pthread_mutex_lock(&s->mu);
    if (!s->deleted) {
        if (ev->kind_case == COMFYD__V1__SESSION_EVENT__KIND_MESSAGE_ADDED) {
            s->meta.message_count++;
            s->meta.updated_ms = text_now_ms();
        }
        /* Another core runs the turn: this one reports its status. */
        if (ev->kind_case == COMFYD__V1__SESSION_EVENT__KIND_STATUS_UPDATE && ev->status_update &&
            !s->cur && !s->starting)
            s->status = ev->status_update->status;
        char *own = ev->session_id; /* publish points it at s->meta.id */
        sess_publish_ev_locked(s, ev, 1);
        ev->session_id = own;
    }
    pthread_mutex_unlock(&s->mu);
    sess_unref(s);
    comfyd__v1__subscribe_response__free_unpacked(resp, NULL);
}

void sess_lease_lost(sess_mgr *m, const char *session_id)
{
    pthread_mutex_lock(&m->mu);
    session *s = sess_map_find_locked(m, session_id);
    if (s) sess_ref(s);
    pthread_mutex_unlock(&m->mu);
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    if (s->cur) {
        /* Another core has marked it interrupted: store nothing more. */
        s->cur->interrupted = 1;
        atomic_store(&s->cur->cancel, 1);
    }
    pthread_mutex_unlock(&s->mu);
    sess_unref(s);
}

void sess_turn_interrupted(sess_mgr *m, const char *session_id, uint64_t turn_id)
{
    session *s = sess_acquire(m, session_id);
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    if (!s->deleted) {
        sess_publish_error_locked(
            s, "interrupted", "the core running this turn stopped; the turn was marked interrupted",
            turn_id, NULL);
        if (!s->cur && !s->starting) {
            s->status = COMFYD__V1__SESSION_STATUS__SESSION_STATUS_IDLE;
            sess_publish_status_locked(s, 0, NULL, "turn interrupted");
        }
    }
    pthread_mutex_unlock(&s->mu);
    sess_unref(s);
}

void sess_requeue(sess_mgr *m, const char *session_id, uint64_t msg_id, const char *content)
{
    /* No runner may start once the shutdown has joined them: the message
     * stays QUEUED for a live core. */
    if (sess_shutting_down(m, NULL, 0)) return;
    session *s = sess_acquire(m, session_id);
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    int have = s->deleted || (s->cur && s->cur->msg_id == msg_id) || s->qlen >= SESS_MAX_QUEUED;
    for (pending *q = s->qhead; q && !have; q = q->next)
        have = q->msg_id == msg_id;
    if (!have) {
        pending *p = calloc(1, sizeof *p);
        if (p && (p->content = text_dup(content ? content : ""))) {
            p->msg_id = msg_id;
            sess_enqueue_locked(s, p);
            sess_publish_status_locked(s, s->cur ? s->cur->msg_id : 0, NULL, "message queued");
            sess_start_runner_locked(s);
        } else {
            free(p);
        }
    }
    pthread_mutex_unlock(&s->mu);
    sess_unref(s);
}

/* ---- turns offered between cores (docs/scale-out.md) ---- */

void sess_mgr_set_offer(sess_mgr *m, sess_offer_fn offer)
{
    m->offer = offer;
}

/* Queues p among the waiting turns by message id: the order the store
 * accepted them in, whichever core they came through. */
static void enqueue_sorted_locked(session *s, pending *p)
{
    pending **pp = &s->qhead;
    while (*pp && (*pp)->msg_id < p->msg_id)
        pp = &(*pp)->next;
    p->next = *pp;
    *pp = p;
    if (!p->next) s->qtail = p;
    s->qlen++;
}

void sess_turn_offered(sess_mgr *m, const char *session_id, uint64_t msg_id)
{
    /* Only the core holding the session's lease runs it now; any other
     * leaves it to the sender's own wait. */
    if (!m->lease || !lease_holds(m->lease, session_id) || sess_shutting_down(m, NULL, 0)) return;
    store_message msg = {0};
    if (store_message_get(m->st, msg_id, &msg) != STORE_OK) return;
    int ok = strcmp(msg.session_id, session_id) == 0 && msg.state == STORE_MSG_QUEUED &&
             msg.role == STORE_ROLE_USER;
    session *s = ok ? sess_acquire(m, session_id) : NULL;
    if (!s) {
        store_message_clear(&msg);
        return;
    }
    pthread_mutex_lock(&s->mu);
    int have = s->deleted || (s->cur && s->cur->msg_id == msg_id) || s->qlen >= SESS_MAX_QUEUED;
    for (pending *q = s->qhead; q && !have; q = q->next)
        have = q->msg_id == msg_id;
    if (!have) {
        pending *p = calloc(1, sizeof *p);
        if (p && (p->content = text_dup(msg.content))) {
            p->msg_id = msg_id;
            enqueue_sorted_locked(s, p);
            LOG_I(MOD, "session %s: turn %" PRIu64 " offered by another core; it runs here next",
                  session_id, msg_id);
            sess_start_runner_locked(s);
        } else {
            free(p);
        }
    }
    pthread_mutex_unlock(&s->mu);
    sess_unref(s);
    store_message_clear(&msg);
}

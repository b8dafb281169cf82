/* session_events: a session's events (core/session.h): numbering, the
 * ring that replays them, the subscribers and the other cores they go to,
 * and Subscribe with the snapshot a subscriber starts from. Every
 * publish_* runs under the session's lock so that seq order is the order
 * subscribers see. */
#include "session_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "text.h"

/* ---- events --------------------------------------------------------------- */

void sess_sub_drop(sub *u)
{
    u->ops->release(u->ud);
    free(u);
}

/* Reserves the next block of sequence numbers on a shared database: the
 * block is this core's alone, above every number any core handed out. */
static int reserve_shared_locked(session *s)
{
    uint64_t hi = 0;
    if (lease_reserve_seq(s->m->lease, s->meta.id, s->seq, SESS_SEQ_BLOCK, &hi) != LEASE_OK)
        return -1;
    if (hi - SESS_SEQ_BLOCK > s->seq) s->seq = hi - SESS_SEQ_BLOCK;
    s->seq_reserved = hi;
    return 0;
}

/* Assigns the next seq, keeps the event for replay and pushes it to every
 * subscriber. Called with s->mu held. ev->seq and ev->time_ms are set here. */
void sess_publish_locked(session *s, Comfyd__V1__SessionEvent *ev)
{
    sess_publish_ev_locked(s, ev, 0);
}

/* remote: the event came from another core (sess_remote_event), so it is
 * not sent back out. */
void sess_publish_ev_locked(session *s, Comfyd__V1__SessionEvent *ev, int remote)
{
    if (s->m->lease && s->seq + 1 > s->seq_reserved && reserve_shared_locked(s) != 0)
        LOG_E(MOD, "session %s: cannot reserve event numbers in the database; continuing in memory",
              s->meta.id);
    uint64_t seq = s->seq + 1;
    if (seq > s->seq_reserved) {
        /* Reserve the next block before handing out any number of it, so a
         * restart continues above every number a client may have seen. */
        uint64_t want = s->seq_reserved + SESS_SEQ_BLOCK;
        if (store_session_set_seq_reserved(s->m->st, s->meta.id, want) != STORE_OK)
            LOG_E(MOD, "session %s: cannot reserve event numbers; continuing in memory",
                  s->meta.id);
        s->seq_reserved = want;
    }
    s->seq = seq;
    ev->seq = seq;
    ev->time_ms = text_now_ms();
    ev->session_id = s->meta.id;

    Comfyd__V1__SubscribeResponse resp = COMFYD__V1__SUBSCRIBE_RESPONSE__INIT;
    resp.event = ev;
    size_t len = comfyd__v1__subscribe_response__get_packed_size(&resp);
    uint8_t stackbuf[1024];
    uint8_t *buf = len <= sizeof stackbuf ? stackbuf : malloc(len);
    if (!buf) {
        LOG_E(MOD, "session %s: out of memory packing event %" PRIu64, s->meta.id, seq);
        return;
    }
    comfyd__v1__subscribe_response__pack(&resp, buf);
    if (!remote && s->m->fanout) s->m->fanout(s->m->fanout_ud, s->meta.id, buf, len);
    if (evring_push(s->ring, seq, buf, len) != EVRING_OK) {
        /* The event is too big for the ring: a replay cannot cover it. */
        evring_set_base(s->ring, seq);
    }
    sub **pp = &s->subs;
    while (*pp) {
        sub *u = *pp;
        if (u->ops->gone(u->ud)) {
            *pp = u->next;
            sess_sub_drop(u);
            continue;
        }
        if (u->ops->push(u->ud, buf, len) != 0) {
            u->ops->end(u->ud, 8 /* RESOURCE_EXHAUSTED */,
                        "subscriber too slow: events were not read in time; resubscribe with "
                        "after_seq set to the last seq received");
            *pp = u->next;
            sess_sub_drop(u);
            continue;
        }
        pp = &u->next;
    }
    if (buf != stackbuf) free(buf);
}

/* The status callers see. A session with turns waiting is working even
 * between two of them (the runner has not picked the next one up yet, or
 * the first has not started): reporting idle there makes a panel flicker
 * and tells a client it may go on while the queue still runs. A failed
 * turn stays ERROR on its own status_update; the next one reports working
 * when it starts. */
Comfyd__V1__SessionStatus sess_reported_status_locked(const session *s)
{
    if (s->status == COMFYD__V1__SESSION_STATUS__SESSION_STATUS_IDLE && s->qlen > 0)
        return COMFYD__V1__SESSION_STATUS__SESSION_STATUS_WORKING;
    return s->status;
}

void sess_publish_status_locked(session *s, uint64_t turn_id, const char *skill, const char *detail)
{
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    Comfyd__V1__StatusUpdate su = COMFYD__V1__STATUS_UPDATE__INIT;
    su.status = sess_reported_status_locked(s);
    su.turn_id = turn_id;
    su.queued_turns = s->qlen;
    su.detail = (char *)(detail ? detail : "");
    su.skill = (char *)(skill ? skill : "");
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_STATUS_UPDATE;
    ev.status_update = &su;
    sess_publish_locked(s, &ev);
}

void sess_publish_log_locked(session *s, int level, uint64_t turn_id, const char *skill,
                             const char *module, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    Comfyd__V1__DebugLog dl = COMFYD__V1__DEBUG_LOG__INIT;
    dl.level = level;
    dl.module = (char *)module;
    dl.message = msg;
    dl.turn_id = turn_id;
    dl.skill = (char *)(skill ? skill : "");
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_DEBUG_LOG;
    ev.debug_log = &dl;
    sess_publish_locked(s, &ev);
}

void sess_message_to_pb(const store_message *m, Comfyd__V1__ChatMessage *pb)
{
    comfyd__v1__chat_message__init(pb);
    pb->id = m->id;
    pb->role = (Comfyd__V1__Role)m->role;
    pb->skill = m->skill ? m->skill : "";
    pb->content = m->content ? m->content : "";
    pb->created_at_ms = m->created_ms;
    pb->turn_id = m->turn_id;
    pb->state = (Comfyd__V1__MessageState)m->state;
    pb->error = m->error ? m->error : "";
    pb->kind = m->kind == STORE_KIND_SUMMARY ? COMFYD__V1__MESSAGE_KIND__MESSAGE_KIND_SUMMARY
                                             : COMFYD__V1__MESSAGE_KIND__MESSAGE_KIND_UNSPECIFIED;
    pb->covers_to = m->covers_to;
}

void sess_message_pb_attach(sess_mgr *m, const store_message *msg, Comfyd__V1__ChatMessage *pb)
{
    if (msg->role != STORE_ROLE_USER || !msg->id) return;
    store_attachment *a = NULL;
    size_t n = 0;
    if (store_attachments_load(m->st, msg->id, &a, &n) != STORE_OK || !n) return;
    Comfyd__V1__Attachment **list = calloc(n, sizeof *list);
    if (!list) abort();
    for (size_t i = 0; i < n; i++) {
        Comfyd__V1__Attachment *x = malloc(sizeof *x);
        if (!x) abort();
        comfyd__v1__attachment__init(x);
        x->sha256 = text_dup(a[i].sha256);
        x->mime_type = text_dup(a[i].mime);
        x->name = a[i].name; /* ownership moves to pb */
        a[i].name = NULL;
        x->size = a[i].size;
        x->width = a[i].width;
        x->height = a[i].height;
        list[i] = x;
    }
    store_attachments_free(a, n);
    pb->attachments = list;
    pb->n_attachments = n;
}

void sess_message_pb_release(Comfyd__V1__ChatMessage *pb)
{
    for (size_t i = 0; i < pb->n_attachments; i++) {
        free(pb->attachments[i]->sha256);
        free(pb->attachments[i]->mime_type);
        free(pb->attachments[i]->name);
        free(pb->attachments[i]);
    }
    free(pb->attachments);
    pb->attachments = NULL;
    pb->n_attachments = 0;
}

/* load_atts 0: the message is known to have no attachments (the store is
 * not asked). */
void sess_publish_message_atts_locked(session *s, const store_message *m, int load_atts)
{
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    Comfyd__V1__MessageAdded ma = COMFYD__V1__MESSAGE_ADDED__INIT;
    Comfyd__V1__ChatMessage cm;
    sess_message_to_pb(m, &cm);
    if (load_atts) sess_message_pb_attach(s->m, m, &cm);
    ma.message = &cm;
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_MESSAGE_ADDED;
    ev.message_added = &ma;
    sess_publish_locked(s, &ev);
    sess_message_pb_release(&cm);
}

void sess_publish_message_locked(session *s, const store_message *m)
{
    sess_publish_message_atts_locked(s, m, 1);
}

void sess_publish_error_locked(session *s, const char *code, const char *message, uint64_t turn_id,
                               const char *skill)
{
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    Comfyd__V1__ErrorEvent ee = COMFYD__V1__ERROR_EVENT__INIT;
    ee.code = (char *)code;
    ee.message = (char *)message;
    ee.turn_id = turn_id;
    ee.skill = (char *)(skill ? skill : "");
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_ERROR;
    ev.error = &ee;
    sess_publish_locked(s, &ev);
}

/* ---- subscribe ------------------------------------------------------------ */

typedef struct replay_ctx {
    const sess_sub_ops *ops;
    void *ud;
} replay_ctx;

static int replay_one(void *ud, uint64_t seq, const void *data, size_t len)
{
    (void)seq;
    replay_ctx *c = ud;
    return c->ops->push(c->ud, data, len);
}

/* Builds and pushes a sync_state snapshot. Called with s->mu held. */
static int push_snapshot_locked(session *s, const sess_sub_ops *ops, void *ud, const char *reason)
{
    store_message *rows = NULL;
    size_t n = 0;
    int trunc = 0;
    int rc = store_messages_load(s->m->st, s->meta.id, SESS_HISTORY_LIMIT, &rows, &n, &trunc);
    if (rc != STORE_OK) return sess_store_io_err(rc);
    Comfyd__V1__ChatMessage *msgs = calloc(n ? n : 1, sizeof *msgs);
    Comfyd__V1__ChatMessage **pm = calloc(n ? n : 1, sizeof *pm);
    size_t np = s->cur ? s->cur->n_runs : 0;
    Comfyd__V1__PartialReply *parts = calloc(np ? np : 1, sizeof *parts);
    Comfyd__V1__PartialReply **pp = calloc(np ? np : 1, sizeof *pp);
    if (!msgs || !pm || !parts || !pp) {
        free(msgs), free(pm), free(parts), free(pp);
        store_messages_free(rows, n);
        return SESS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        sess_message_to_pb(&rows[i], &msgs[i]);
        sess_message_pb_attach(s->m, &rows[i], &msgs[i]);
        pm[i] = &msgs[i];
    }
    for (size_t i = 0; i < np; i++) {
        skill_run *r = &s->cur->runs[i];
        comfyd__v1__partial_reply__init(&parts[i]);
        parts[i].turn_id = s->cur->msg_id;
        parts[i].skill = r->name;
        parts[i].content = r->reply.p ? r->reply.p : "";
        parts[i].delta_count = r->deltas;
        pp[i] = &parts[i];
    }
    sess_info info;
    sess_info_fill_locked(s, &info);
    Comfyd__V1__Session spb;
    Comfyd__V1__SessionConfig cpb;
    Comfyd__V1__Usage upb;
    sess_info_to_pb(&info, &spb, &cpb, &upb);

    Comfyd__V1__SyncState ss = COMFYD__V1__SYNC_STATE__INIT;
    ss.session = &spb;
    ss.history = pm;
    ss.n_history = n;
    ss.history_truncated = trunc;
    ss.partials = pp;
    ss.n_partials = np;
    ss.reason = (char *)reason;
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    ev.seq = s->seq; /* a snapshot as of the newest event; live events follow */
    ev.time_ms = text_now_ms();
    ev.session_id = s->meta.id;
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_SYNC_STATE;
    ev.sync_state = &ss;
    Comfyd__V1__SubscribeResponse resp = COMFYD__V1__SUBSCRIBE_RESPONSE__INIT;
    resp.event = &ev;
    size_t len = comfyd__v1__subscribe_response__get_packed_size(&resp);
    uint8_t *buf = malloc(len ? len : 1);
    rc = SESS_ENOMEM;
    if (buf) {
        comfyd__v1__subscribe_response__pack(&resp, buf);
        rc = ops->push(ud, buf, len) == 0 ? SESS_OK : SESS_EFULL;
        free(buf);
    }
    sess_info_clear(&info);
    for (size_t i = 0; i < n; i++)
        sess_message_pb_release(&msgs[i]);
    free(msgs), free(pm), free(parts), free(pp);
    store_messages_free(rows, n);
    return rc;
}

int sess_subscribe(sess_mgr *m, const char *id, uint64_t after_seq, const sess_sub_ops *ops,
                   void *ud, char *err, size_t errlen)
{
    int rc;
    if (sess_shutting_down(m, err, errlen)) return SESS_ESHUTDOWN;
    session *s = sess_find_or_err(m, id, &rc, err, errlen);
    if (!s) return rc;
    sub *u = calloc(1, sizeof *u);
    if (!u) {
        sess_unref(s);
        return SESS_ENOMEM;
    }
    u->ops = ops;
    u->ud = ud;
    pthread_mutex_lock(&s->mu);
    if (s->deleted) {
        rc = SESS_NOT_FOUND;
        sess_seterr(err, errlen, "session %s not found", id);
    } else if (after_seq > 0 && after_seq <= s->seq && evring_covers(s->ring, after_seq) &&
               (!m->lease || after_seq == s->seq || evring_has(s->ring, after_seq))) {
        replay_ctx rc_ctx = {ops, ud};
        int r = evring_replay(s->ring, after_seq, replay_one, &rc_ctx);
        rc = r == EVRING_OK ? SESS_OK : SESS_EFULL;
        if (rc == SESS_EFULL)
            sess_seterr(err, errlen,
                        "too many missed events to replay at once; resubscribe with "
                        "after_seq 0");
    } else {
        rc = push_snapshot_locked(s, ops, ud, after_seq == 0 ? "fresh" : "gap");
        if (rc != SESS_OK) sess_seterr(err, errlen, "cannot build the session snapshot");
    }
    if (rc == SESS_OK) {
        /* Drop subscribers whose peers left, so reconnect loops stay bounded. */
        sub **pp = &s->subs;
        while (*pp) {
            if ((*pp)->ops->gone((*pp)->ud)) {
                sub *dead = *pp;
                *pp = dead->next;
                sess_sub_drop(dead);
            } else {
                pp = &(*pp)->next;
            }
        }
        u->next = s->subs;
        s->subs = u;
    }
    pthread_mutex_unlock(&s->mu);
    if (rc != SESS_OK) free(u);
    sess_unref(s);
    return rc;
}

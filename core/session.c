#include "session.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "agent.h"
#include "ctxwin.h"
#include "evring.h"
#include "imgscale.h"
#include "ftsq.h"
#include "log.h"
#include "providers.h"
#include "text.h"
#include "vision.h"

#define MOD "session"

typedef struct sub {
    struct sub *next;
    const sess_sub_ops *ops;
    void *ud;
} sub;

/* A user message waiting for its turn. */
typedef struct pending {
    struct pending *next;
    uint64_t msg_id;
    char *content;
    char **skills; /* explicit skills for this message (skill_execute), or NULL */
    size_t n_skills;
    int no_attachments; /* known to have none: the store need not be asked */
    int stored_running; /* stored RUNNING with the message: no mark to write */
    int claimed;        /* several cores: stored RUNNING under this core's lease already */
} pending;

typedef struct session session;

/* One skill's part of a running turn. */
typedef struct skill_run {
    session *s;
    struct turn *t;
    char *name;
    char *instructions;
    char **allowed_tools; /* the skill's allowed-tools, copied */
    size_t n_allowed_tools;
    text_buf reply; /* reply so far */
    uint32_t deltas;
    int rc; /* agent_err */
    char err[256];
    uint64_t prompt_tokens, completion_tokens;
    agent_stats stats;
    pthread_t thread;
} skill_run;

typedef struct turn {
    uint64_t msg_id;
    char *user_text;
    atomic_int cancel;
    int interrupted; /* stopped by shutdown rather than by Cancel */
    skill_run *runs;
    size_t n_runs;
} turn;

struct session {
    sess_mgr *m;
    atomic_int refs;
    pthread_mutex_t mu;
    store_session meta;
    int status;
    int deleted;
    uint64_t seq;
    uint64_t seq_reserved;
    evring *ring;
    sub *subs;
    pending *qhead, *qtail;
    uint32_t qlen;
    turn *cur;
    /* The runner has taken a message off the queue and is starting its
     * turn, but cur is not set yet: a message sent meanwhile is queued
     * behind it, not "running" (cur alone leaves that window open). */
    int starting;
    int runner_active;
    int runner_joinable;
    pthread_t runner;
    /* A CompactSession is running on a request thread: the runner starts
     * no turn meanwhile (it is restarted when the compaction ends). */
    int compacting;
    /* A revert holds the runner (as a compaction does) and hides the
     * messages up to this id: the newest when it began, so that a message
     * sent while the canvas is restored is not hidden with the rest. */
    uint64_t revert_through;
    /* Reported/estimated prompt tokens of the last model call, per mille
     * (ctxwin.h); 0 until a provider reported its count. */
    uint32_t ratio_milli;
    session *next_in_map;
};

struct sess_mgr {
    store *st;
    pthread_mutex_t mu;
    skills *skills;
    session **buckets;
    size_t nbuckets;
    size_t count;
    int shutting_down;
    atomic_int started_flag; /* sess_mgr_start was called: runners may start */
    uint32_t default_delay_ms;
    size_t ring_events, ring_bytes;
    uint32_t llm_connect_timeout_ms, llm_idle_timeout_ms;
    uint32_t default_window; /* --context-window; 0: by provider and model */
    /* Tools for the agent loop (a shallow copy of the caller's table) and
     * the canvas note; guarded by mu, copied by each turn at its start. */
    agent_tool *tools;
    size_t n_tools;
    void *tools_ud;
    sess_note_fn note;
    void *note_ud;
    blobstore *blobs; /* borrowed; NULL: no attachments */
    sess_output_fn output;
    void *output_ud;
    /* Several cores on one database (lease.h; NULL: this core alone): turns
     * run under the session's lease, sessions made elsewhere are loaded on
     * demand, and local events go to fanout for the other cores. */
    lease *lease;
    sess_fanout_fn fanout;
    sess_cancel_fanout_fn cancel_fanout;
    void *fanout_ud;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int store_to_sess(int rc)
{
    switch (rc) {
    case STORE_OK:
        return SESS_OK;
    case STORE_NOT_FOUND:
        return SESS_NOT_FOUND;
    case STORE_ENOMEM:
        return SESS_ENOMEM;
    case STORE_EUNAVAIL:
    case STORE_EBUSY:
        return SESS_EUNAVAIL;
    default:
        return SESS_EIO;
    }
}

/* A failed write or read: UNAVAILABLE when the database server is away
 * or another core took it over (the client may retry, maybe elsewhere),
 * else an I/O error. */
static int store_io_err(int rc)
{
    return rc == STORE_EUNAVAIL || rc == STORE_EBUSY ? SESS_EUNAVAIL : SESS_EIO;
}

/* ---- map ---------------------------------------------------------------- */

static size_t hash_id(const char *id)
{
    size_t h = 1469598103934665603ULL;
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 1099511628211ULL;
    return h;
}

static session *map_find_locked(sess_mgr *m, const char *id)
{
    for (session *s = m->buckets[hash_id(id) % m->nbuckets]; s; s = s->next_in_map)
        if (strcmp(s->meta.id, id) == 0) return s;
    return NULL;
}

static void map_grow_locked(sess_mgr *m)
{
    size_t nb = m->nbuckets * 2;
    session **b = calloc(nb, sizeof *b);
    if (!b) return; /* keep the old table: lookups stay correct, only slower */
    for (size_t i = 0; i < m->nbuckets; i++) {
        session *s = m->buckets[i];
        while (s) {
            session *next = s->next_in_map;
            size_t k = hash_id(s->meta.id) % nb;
            s->next_in_map = b[k];
            b[k] = s;
            s = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = nb;
}

static void map_insert_locked(sess_mgr *m, session *s)
{
    if (m->count + 1 > m->nbuckets) map_grow_locked(m);
    size_t k = hash_id(s->meta.id) % m->nbuckets;
    s->next_in_map = m->buckets[k];
    m->buckets[k] = s;
    m->count++;
}

static void map_remove_locked(sess_mgr *m, session *s)
{
    session **pp = &m->buckets[hash_id(s->meta.id) % m->nbuckets];
    for (; *pp; pp = &(*pp)->next_in_map) {
        if (*pp == s) {
            *pp = s->next_in_map;
            m->count--;
            return;
        }
    }
}

/* ---- session lifetime ----------------------------------------------------- */

static void pending_free(pending *p)
{
    if (!p) return;
    free(p->content);
    for (size_t i = 0; i < p->n_skills; i++)
        free(p->skills[i]);
    free(p->skills);
    free(p);
}

static void session_ref(session *s)
{
    atomic_fetch_add(&s->refs, 1);
}

static void session_unref(session *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1) return;
    while (s->qhead) {
        pending *p = s->qhead;
        s->qhead = p->next;
        pending_free(p);
    }
    evring_destroy(s->ring);
    store_session_clear(&s->meta);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static session *session_new(sess_mgr *m, const store_session *meta)
{
    session *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (evring_create(&s->ring, m->ring_events, m->ring_bytes) != EVRING_OK) {
        free(s);
        return NULL;
    }
    s->m = m;
    atomic_init(&s->refs, 1);
    pthread_mutex_init(&s->mu, NULL);
    s->meta = *meta; /* takes ownership of the strings */
    s->status = COMFYD__V1__SESSION_STATUS__SESSION_STATUS_IDLE;
    /* Every number up to seq_reserved may have been handed out before. */
    s->seq = meta->seq_reserved;
    s->seq_reserved = meta->seq_reserved;
    evring_set_base(s->ring, s->seq);
    return s;
}

static session *load_shared(sess_mgr *m, const char *id);

/* Looks a session up and returns it with a reference. */
static session *acquire(sess_mgr *m, const char *id)
{
    pthread_mutex_lock(&m->mu);
    session *s = map_find_locked(m, id);
    if (s) session_ref(s);
    pthread_mutex_unlock(&m->mu);
    if (!s && m->lease) s = load_shared(m, id);
    return s;
}

/* ---- events --------------------------------------------------------------- */

static void sub_drop(sub *u)
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

static void publish_ev_locked(session *s, Comfyd__V1__SessionEvent *ev, int remote);

/* Assigns the next seq, keeps the event for replay and pushes it to every
 * subscriber. Called with s->mu held. ev->seq and ev->time_ms are set here. */
static void publish_locked(session *s, Comfyd__V1__SessionEvent *ev)
{
    publish_ev_locked(s, ev, 0);
}

/* remote: the event came from another core (sess_remote_event), so it is
 * not sent back out. */
static void publish_ev_locked(session *s, Comfyd__V1__SessionEvent *ev, int remote)
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
            sub_drop(u);
            continue;
        }
        if (u->ops->push(u->ud, buf, len) != 0) {
            u->ops->end(u->ud, 8 /* RESOURCE_EXHAUSTED */,
                        "subscriber too slow: events were not read in time; resubscribe with "
                        "after_seq set to the last seq received");
            *pp = u->next;
            sub_drop(u);
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
static Comfyd__V1__SessionStatus reported_status_locked(const session *s)
{
    if (s->status == COMFYD__V1__SESSION_STATUS__SESSION_STATUS_IDLE && s->qlen > 0)
        return COMFYD__V1__SESSION_STATUS__SESSION_STATUS_WORKING;
    return s->status;
}

static void publish_status_locked(session *s, uint64_t turn_id, const char *skill,
                                  const char *detail)
{
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    Comfyd__V1__StatusUpdate su = COMFYD__V1__STATUS_UPDATE__INIT;
    su.status = reported_status_locked(s);
    su.turn_id = turn_id;
    su.queued_turns = s->qlen;
    su.detail = (char *)(detail ? detail : "");
    su.skill = (char *)(skill ? skill : "");
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_STATUS_UPDATE;
    ev.status_update = &su;
    publish_locked(s, &ev);
}

static void publish_log_locked(session *s, int level, uint64_t turn_id, const char *skill,
                               const char *module, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void publish_log_locked(session *s, int level, uint64_t turn_id, const char *skill,
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
    publish_locked(s, &ev);
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
static void publish_message_atts_locked(session *s, const store_message *m, int load_atts)
{
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    Comfyd__V1__MessageAdded ma = COMFYD__V1__MESSAGE_ADDED__INIT;
    Comfyd__V1__ChatMessage cm;
    sess_message_to_pb(m, &cm);
    if (load_atts) sess_message_pb_attach(s->m, m, &cm);
    ma.message = &cm;
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_MESSAGE_ADDED;
    ev.message_added = &ma;
    publish_locked(s, &ev);
    sess_message_pb_release(&cm);
}

static void publish_message_locked(session *s, const store_message *m)
{
    publish_message_atts_locked(s, m, 1);
}

static void publish_error_locked(session *s, const char *code, const char *message,
                                 uint64_t turn_id, const char *skill)
{
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    Comfyd__V1__ErrorEvent ee = COMFYD__V1__ERROR_EVENT__INIT;
    ee.code = (char *)code;
    ee.message = (char *)message;
    ee.turn_id = turn_id;
    ee.skill = (char *)(skill ? skill : "");
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_ERROR;
    ev.error = &ee;
    publish_locked(s, &ev);
}

/* ---- info ----------------------------------------------------------------- */

static char *dup_or_empty(const char *s)
{
    return text_dup(s ? s : "");
}

static void meta_copy(store_session *dst, const store_session *src)
{
    *dst = *src;
    dst->title = dup_or_empty(src->title);
    dst->provider = dup_or_empty(src->provider);
    dst->model = dup_or_empty(src->model);
    dst->base_url = dup_or_empty(src->base_url);
    dst->system_prompt = dup_or_empty(src->system_prompt);
    dst->skills = src->n_skills ? calloc(src->n_skills, sizeof(char *)) : NULL;
    if (src->n_skills && !dst->skills) abort();
    for (size_t i = 0; i < src->n_skills; i++)
        dst->skills[i] = text_dup(src->skills[i]);
}

static void info_fill_locked(session *s, sess_info *out)
{
    memset(out, 0, sizeof *out);
    meta_copy(&out->meta, &s->meta);
    out->status = reported_status_locked(s);
    out->last_seq = s->seq;
    out->queued_turns = s->qlen;
    out->window = sess_window(s->m, &s->meta);
}

void sess_info_clear(sess_info *i)
{
    if (!i) return;
    store_session_clear(&i->meta);
    memset(i, 0, sizeof *i);
}

void sess_infos_free(sess_info *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sess_info_clear(&list[i]);
    free(list);
}

void sess_info_to_pb(const sess_info *info, Comfyd__V1__Session *pb, Comfyd__V1__SessionConfig *cfg,
                     Comfyd__V1__Usage *usage)
{
    comfyd__v1__session__init(pb);
    comfyd__v1__session_config__init(cfg);
    comfyd__v1__usage__init(usage);
    const store_session *m = &info->meta;
    cfg->provider = m->provider ? m->provider : "";
    cfg->model = m->model ? m->model : "";
    cfg->base_url = m->base_url ? m->base_url : "";
    cfg->system_prompt = m->system_prompt ? m->system_prompt : "";
    cfg->active_skills = m->skills;
    cfg->n_active_skills = m->n_skills;
    cfg->api_key_set = m->api_key_set;
    cfg->token_delay_ms = m->token_delay_ms;
    cfg->vision = (char *)vision_mode_name(m->vision);
    cfg->context_window = m->context_window;
    pb->context_window = info->window;
    pb->archived = m->archived;
    pb->compacted_to = m->compacted_to;
    usage->prompt_tokens = m->prompt_tokens;
    usage->completion_tokens = m->completion_tokens;
    pb->id = (char *)m->id;
    pb->title = m->title ? m->title : "";
    pb->config = cfg;
    pb->status = info->status;
    pb->created_at_ms = m->created_ms;
    pb->updated_at_ms = m->updated_ms;
    pb->last_seq = info->last_seq;
    pb->message_count = m->message_count;
    pb->queued_turns = info->queued_turns;
    pb->usage = usage;
    pb->parent_id = (char *)m->parent_id;
    pb->fork_point = m->fork_point;
}

/* ---- validation ----------------------------------------------------------- */

static int check_text(const char *field, const char *v, size_t max, int allow_empty, char *err,
                      size_t errlen)
{
    size_t n = v ? strlen(v) : 0;
    if (!allow_empty && n == 0) {
        seterr(err, errlen, "%s must not be empty", field);
        return SESS_EINVAL;
    }
    if (n > max) {
        seterr(err, errlen, "%s is too long (%zu bytes, at most %zu)", field, n, max);
        return SESS_EINVAL;
    }
    if (n && !text_utf8_valid(v, n)) {
        seterr(err, errlen, "%s is not valid UTF-8", field);
        return SESS_EINVAL;
    }
    return SESS_OK;
}

static int check_session_id(const char *id, char *err, size_t errlen)
{
    if (!id || !*id) {
        seterr(err, errlen, "session_id must not be empty");
        return SESS_EINVAL;
    }
    if (!text_is_uuid(id)) {
        seterr(err, errlen, "session_id is not a valid session id (expected a UUID)");
        return SESS_EINVAL;
    }
    return SESS_OK;
}

static int check_skills(sess_mgr *m, char **names, size_t n, char *err, size_t errlen)
{
    if (n > SESS_MAX_SKILLS) {
        seterr(err, errlen, "too many skills (%zu, at most %d)", n, SESS_MAX_SKILLS);
        return SESS_EINVAL;
    }
    skills *reg = sess_mgr_skills(m);
    int rc = SESS_OK;
    for (size_t i = 0; i < n && rc == SESS_OK; i++) {
        if (check_text("skill name", names[i], SKILLS_MAX_NAME, 0, err, errlen) != SESS_OK) {
            rc = SESS_EINVAL;
            break;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(names[i], names[j]) == 0) {
                seterr(err, errlen, "skill '%s' is listed twice", names[i]);
                rc = SESS_EINVAL;
                break;
            }
        }
        if (rc == SESS_OK && !skills_find(reg, names[i])) {
            int loaderr = 0;
            for (size_t k = 0; k < skills_error_count(reg); k++) {
                const skills_error *e = skills_error_at(reg, k);
                const char *base = strrchr(e->path, '/');
                base = base ? base + 1 : e->path;
                if (strcmp(base, names[i]) == 0) {
                    seterr(err, errlen, "skill '%s' failed to load: %s", names[i], e->message);
                    loaderr = 1;
                    break;
                }
            }
            if (!loaderr) seterr(err, errlen, "unknown skill '%s' (see ListSkills)", names[i]);
            rc = SESS_EINVAL;
        }
    }
    skills_unref(reg);
    return rc;
}

static int check_base_url(const char *url, char *err, size_t errlen)
{
    if (check_text("base_url", url, SESS_MAX_URL, 1, err, errlen) != SESS_OK) return SESS_EINVAL;
    if (url && *url && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        seterr(err, errlen, "base_url must start with http:// or https://");
        return SESS_EINVAL;
    }
    return SESS_OK;
}

static int check_provider(const char *name, char *err, size_t errlen)
{
    if (check_text("provider", name, SESS_MAX_SHORT, 1, err, errlen) != SESS_OK) return SESS_EINVAL;
    if (name && *name && !provider_find(name)) {
        seterr(err, errlen, "unknown provider '%s' (known: %s)", name, provider_names());
        return SESS_EINVAL;
    }
    return SESS_OK;
}

static int check_vision(const char *v, char *err, size_t errlen)
{
    if (vision_mode_parse(v) < 0) {
        (void)v;
        seterr(err, errlen, "vision must be \"auto\", \"on\" or \"off\"");
        return SESS_EINVAL;
    }
    return SESS_OK;
}

static int check_window(uint32_t w, char *err, size_t errlen)
{
    if (w == 0 || (w >= CTX_MIN_WINDOW && w <= CTX_MAX_WINDOW)) return SESS_OK;
    seterr(err, errlen, "context_window must be 0 (the default) or %d..%d tokens", CTX_MIN_WINDOW,
           CTX_MAX_WINDOW);
    return SESS_EINVAL;
}

uint32_t sess_window(sess_mgr *m, const store_session *meta)
{
    if (meta->context_window) return meta->context_window;
    if (m->default_window) return m->default_window;
    return ctx_default_window(meta->provider, meta->model, meta->base_url);
}

static int check_delay(uint32_t ms, char *err, size_t errlen)
{
    if (ms > SESS_MAX_TOKEN_DELAY_MS) {
        seterr(err, errlen, "token_delay_ms is too large (%u, at most %d)", ms,
               SESS_MAX_TOKEN_DELAY_MS);
        return SESS_EINVAL;
    }
    return SESS_OK;
}

/* ---- manager -------------------------------------------------------------- */

static void enqueue_locked(session *s, pending *p)
{
    if (s->qtail)
        s->qtail->next = p;
    else
        s->qhead = p;
    s->qtail = p;
    s->qlen++;
}

static void start_runner_locked(session *s);

int sess_mgr_create(sess_mgr **out, const sess_mgr_opts *opts)
{
    sess_mgr *m = calloc(1, sizeof *m);
    if (!m) return SESS_ENOMEM;
    m->st = opts->st;
    pthread_mutex_init(&m->mu, NULL);
    m->skills = opts->skills;
    skills_ref(m->skills);
    m->default_delay_ms = opts->default_delay_ms;
    m->llm_connect_timeout_ms = opts->llm_connect_timeout_ms;
    m->llm_idle_timeout_ms = opts->llm_idle_timeout_ms;
    m->blobs = opts->blobs;
    m->default_window = opts->context_window;
    m->lease = opts->lease;
    m->ring_events = opts->ring_events ? opts->ring_events : SESS_RING_EVENTS;
    m->ring_bytes = opts->ring_bytes ? opts->ring_bytes : SESS_RING_BYTES;
    m->nbuckets = 64;
    m->buckets = calloc(m->nbuckets, sizeof *m->buckets);
    if (!m->buckets) {
        sess_mgr_destroy(m);
        return SESS_ENOMEM;
    }

    size_t changed = 0;
    /* Several cores: the lease sweeper recovers the turns of stopped cores
     * (this one's before a restart included), never a live core's. */
    int rc = m->lease ? STORE_OK
                      : store_recover_interrupted(
                            m->st, "interrupted: the service stopped during this turn", &changed);
    if (rc != STORE_OK) {
        LOG_E(MOD, "cannot recover interrupted turns: %s", store_strerror(rc));
        sess_mgr_destroy(m);
        return SESS_EIO;
    }
    if (changed)
        LOG_W(MOD, "%zu turn(s) were running at the last stop; marked interrupted", changed);

    store_session *all = NULL;
    size_t n = 0;
    rc = store_session_list_all(m->st, &all, &n);
    if (rc != STORE_OK) {
        LOG_E(MOD, "cannot load sessions: %s", store_strerror(rc));
        sess_mgr_destroy(m);
        return SESS_EIO;
    }
    for (size_t i = 0; i < n; i++) {
        session *s = session_new(m, &all[i]);
        if (!s) {
            for (size_t j = i; j < n; j++)
                store_session_clear(&all[j]);
            free(all);
            sess_mgr_destroy(m);
            return SESS_ENOMEM;
        }
        map_insert_locked(m, s);
    }
    free(all); /* the strings now belong to the sessions */

    store_message *queued = NULL;
    size_t nq = 0;
    rc = m->lease ? STORE_OK : store_messages_queued(m->st, &queued, &nq);
    if (rc != STORE_OK) {
        LOG_E(MOD, "cannot load queued turns: %s", store_strerror(rc));
        sess_mgr_destroy(m);
        return SESS_EIO;
    }
    for (size_t i = 0; i < nq; i++) {
        session *s = map_find_locked(m, queued[i].session_id);
        if (!s) continue;
        pending *p = calloc(1, sizeof *p);
        if (!p) break;
        p->msg_id = queued[i].id;
        p->content = text_dup(queued[i].content);
        pthread_mutex_lock(&s->mu);
        enqueue_locked(s, p);
        start_runner_locked(s);
        pthread_mutex_unlock(&s->mu);
    }
    if (nq) LOG_I(MOD, "%zu queued turn(s) will run again", nq);
    store_messages_free(queued, nq);
    LOG_I(MOD, "%zu session(s) loaded", n);
    *out = m;
    return SESS_OK;
}

skills *sess_mgr_skills(sess_mgr *m)
{
    pthread_mutex_lock(&m->mu);
    skills *r = m->skills;
    skills_ref(r);
    pthread_mutex_unlock(&m->mu);
    return r;
}

void sess_mgr_set_skills(sess_mgr *m, skills *reg)
{
    skills_ref(reg);
    pthread_mutex_lock(&m->mu);
    skills *old = m->skills;
    m->skills = reg;
    pthread_mutex_unlock(&m->mu);
    skills_unref(old);
}

/* Collects every session with a reference, for shutdown. */
static session **snapshot_sessions(sess_mgr *m, size_t *n)
{
    pthread_mutex_lock(&m->mu);
    session **list = calloc(m->count ? m->count : 1, sizeof *list);
    size_t k = 0;
    if (list) {
        for (size_t i = 0; i < m->nbuckets; i++)
            for (session *s = m->buckets[i]; s; s = s->next_in_map) {
                session_ref(s);
                list[k++] = s;
            }
    }
    pthread_mutex_unlock(&m->mu);
    *n = k;
    return list;
}

void sess_mgr_start(sess_mgr *m)
{
    atomic_store(&m->started_flag, 1);
    size_t n = 0;
    session **list = snapshot_sessions(m, &n);
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&list[i]->mu);
        if (list[i]->qhead) start_runner_locked(list[i]);
        pthread_mutex_unlock(&list[i]->mu);
        session_unref(list[i]);
    }
    free(list);
}

void sess_mgr_shutdown(sess_mgr *m)
{
    pthread_mutex_lock(&m->mu);
    int already = m->shutting_down;
    m->shutting_down = 1;
    pthread_mutex_unlock(&m->mu);
    if (already) return;

    size_t n = 0;
    session **list = snapshot_sessions(m, &n);
    for (size_t i = 0; i < n; i++) {
        session *s = list[i];
        pthread_mutex_lock(&s->mu);
        if (s->cur) {
            s->cur->interrupted = 1;
            atomic_store(&s->cur->cancel, 1);
        }
        while (s->subs) {
            sub *u = s->subs;
            s->subs = u->next;
            u->ops->end(u->ud, 14 /* UNAVAILABLE */, "server shutting down");
            sub_drop(u);
        }
        pthread_mutex_unlock(&s->mu);
    }
    for (size_t i = 0; i < n; i++) {
        session *s = list[i];
        pthread_mutex_lock(&s->mu);
        int join = s->runner_joinable;
        pthread_t th = s->runner;
        s->runner_joinable = 0;
        pthread_mutex_unlock(&s->mu);
        if (join) pthread_join(th, NULL);
        session_unref(s);
    }
    free(list);
}

void sess_mgr_destroy(sess_mgr *m)
{
    if (!m) return;
    if (m->buckets) {
        sess_mgr_shutdown(m);
        for (size_t i = 0; i < m->nbuckets; i++) {
            session *s = m->buckets[i];
            while (s) {
                session *next = s->next_in_map;
                session_unref(s);
                s = next;
            }
        }
    }
    free(m->buckets);
    skills_unref(m->skills);
    free(m->tools);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

int sess_mgr_set_tools(sess_mgr *m, const agent_tool *tools, size_t n, void *ud)
{
    agent_tool *copy = NULL;
    if (n) {
        copy = malloc(n * sizeof *copy);
        if (!copy) return SESS_ENOMEM;
        memcpy(copy, tools, n * sizeof *copy);
    }
    pthread_mutex_lock(&m->mu);
    agent_tool *old = m->tools;
    m->tools = copy;
    m->n_tools = n;
    m->tools_ud = ud;
    pthread_mutex_unlock(&m->mu);
    free(old);
    return SESS_OK;
}

void sess_mgr_set_note(sess_mgr *m, sess_note_fn fn, void *ud)
{
    pthread_mutex_lock(&m->mu);
    m->note = fn;
    m->note_ud = ud;
    pthread_mutex_unlock(&m->mu);
}

/* ---- turns ---------------------------------------------------------------- */

static int run_delta(void *ud, const char *text, size_t len)
{
    skill_run *r = ud;
    session *s = r->s;
    if (r->reply.n + len > SESS_MAX_REPLY) {
        snprintf(r->err, sizeof r->err, "reply exceeds %d bytes", SESS_MAX_REPLY);
        return 1;
    }
    if (len && !text_utf8_valid(text, len)) {
        snprintf(r->err, sizeof r->err, "provider produced invalid UTF-8");
        return 1;
    }
    /* Grown outside the lock; the append under it does not allocate. */
    if (text_buf_reserve(&r->reply, len)) return 1;
    pthread_mutex_lock(&s->mu);
    text_buf_addn(&r->reply, text, len);
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    Comfyd__V1__StreamDelta sd = COMFYD__V1__STREAM_DELTA__INIT;
    sd.turn_id = r->t->msg_id;
    sd.skill = r->name;
    char *piece = text_dupn(text, len);
    sd.delta = piece;
    sd.index = r->deltas++;
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_STREAM_DELTA;
    ev.stream_delta = &sd;
    publish_locked(s, &ev);
    pthread_mutex_unlock(&s->mu);
    free(piece);
    return 0;
}

static void run_log(void *ud, int level, const char *message)
{
    skill_run *r = ud;
    pthread_mutex_lock(&r->s->mu);
    publish_log_locked(r->s, level, r->t->msg_id, r->name, "provider", "%s", message);
    pthread_mutex_unlock(&r->s->mu);
}

/* Bytes of tool arguments or results quoted in a debug_log line; the full
 * text is in the ToolCall / ToolResult event. */
#define SESS_LOG_QUOTE 200

static void run_tool_call(void *ud, const char *call_id, const char *name, const char *args)
{
    skill_run *r = ud;
    session *s = r->s;
    pthread_mutex_lock(&s->mu);
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    Comfyd__V1__ToolCall tc = COMFYD__V1__TOOL_CALL__INIT;
    tc.turn_id = r->t->msg_id;
    tc.skill = r->name;
    tc.call_id = (char *)call_id;
    tc.name = (char *)name;
    tc.arguments_json = (char *)args;
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_TOOL_CALL;
    ev.tool_call = &tc;
    publish_locked(s, &ev);
    size_t n = strlen(args);
    int cut = n > SESS_LOG_QUOTE;
    if (cut) {
        n = SESS_LOG_QUOTE;
        while (n > 0 && ((unsigned char)args[n] & 0xC0) == 0x80)
            n--;
    }
    publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_INFO, r->t->msg_id, r->name, "agent",
                       "tool call %s %.*s%s", name, (int)n, args, cut ? "..." : "");
    pthread_mutex_unlock(&s->mu);
}

static void run_tool_result(void *ud, const char *call_id, const char *name, int ok,
                            const char *result)
{
    skill_run *r = ud;
    session *s = r->s;
    pthread_mutex_lock(&s->mu);
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    Comfyd__V1__ToolResult tr = COMFYD__V1__TOOL_RESULT__INIT;
    tr.turn_id = r->t->msg_id;
    tr.skill = r->name;
    tr.call_id = (char *)call_id;
    tr.ok = ok != 0;
    tr.result_json = (char *)result;
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_TOOL_RESULT;
    ev.tool_result = &tr;
    publish_locked(s, &ev);
    if (ok) {
        publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_INFO, r->t->msg_id, r->name, "agent",
                           "tool %s ok (%zu bytes)", name, strlen(result));
    } else {
        size_t n = strlen(result);
        int cut = n > SESS_LOG_QUOTE;
        if (cut) {
            n = SESS_LOG_QUOTE;
            while (n > 0 && ((unsigned char)result[n] & 0xC0) == 0x80)
                n--;
        }
        publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_WARN, r->t->msg_id, r->name, "agent",
                           "tool %s failed: %.*s%s", name, (int)n, result, cut ? "..." : "");
    }
    pthread_mutex_unlock(&s->mu);
}

static void run_usage(void *ud, uint64_t prompt, uint64_t completion)
{
    skill_run *r = ud;
    r->prompt_tokens += prompt;
    r->completion_tokens += completion;
}

typedef struct turn_ctx {
    agent_turn base; /* everything but the skill */
} turn_ctx;

typedef struct run_arg {
    skill_run *r;
    const turn_ctx *ctx;
} run_arg;

static void *skill_thread(void *arg)
{
    run_arg *a = arg;
    skill_run *r = a->r;
    agent_turn t = a->ctx->base;
    agent_skill sk = {
        .name = r->name,
        .instructions = r->instructions,
        .allowed_tools = r->allowed_tools,
        .n_allowed_tools = r->n_allowed_tools,
        /* SKILL.md has no read-only key yet: allowed-tools is the bound. */
        .read_only = 0,
    };
    t.skill = &sk;
    t.cancel = &r->t->cancel;
    agent_sink sink = {
        .ud = r,
        .delta = run_delta,
        .log = run_log,
        .tool_call = run_tool_call,
        .tool_result = run_tool_result,
        .usage = run_usage,
    };
    char aerr[sizeof r->err];
    r->rc = agent_run(&t, &sink, &r->stats, aerr, sizeof aerr);
    /* run_delta may have set the reason for a refusal; keep it then. */
    if (r->rc != AGENT_ABORTED || !r->err[0]) snprintf(r->err, sizeof r->err, "%s", aerr);
    if (r->rc == AGENT_ABORTED && !r->err[0])
        snprintf(r->err, sizeof r->err, "the reply was stopped");
    free(a);
    return NULL;
}

static int cmp_run(const void *a, const void *b)
{
    return strcmp(((const skill_run *)a)->name, ((const skill_run *)b)->name);
}

/* The memory tools every turn offers (defined at the end of this file). */
#define SESS_N_MEMORY_TOOLS 2
static const agent_tool memory_tools[SESS_N_MEMORY_TOOLS];

/* ---- context: what a turn sends, and compaction ---------------------------- */

/* The provider settings a compaction runs with (copied, owned). */
typedef struct prov_cfg {
    const provider *prov;
    char *provider_name, *model, *base_url, *api_key;
    uint32_t connect_timeout_ms, idle_timeout_ms;
} prov_cfg;

/* A turn's history: the newest summary and the messages after it that a
 * model may see (done replies and user messages of earlier turns). */
typedef struct hist {
    store_message summary; /* id 0: none */
    store_message *rows;   /* loaded, oldest first */
    size_t n_rows;
    size_t *sel; /* indexes into rows of the sendable messages */
    size_t n_sel;
    uint64_t *tokens; /* estimated tokens of each sel entry (unscaled) */
} hist;

static void hist_clear(hist *h)
{
    store_message_clear(&h->summary);
    store_messages_free(h->rows, h->n_rows);
    free(h->sel);
    free(h->tokens);
    memset(h, 0, sizeof *h);
}

/* Estimated tokens of a history message as the agent sends it (another
 * skill's reply gets a "[skill] " label). */
static uint64_t row_tokens(const store_message *r)
{
    size_t len = r->content ? strlen(r->content) : 0;
    if (r->role == STORE_ROLE_ASSISTANT && r->skill) len += strlen(r->skill) + 3;
    return ctx_msg_tokens(len);
}

/* Loads the summary and the messages after it, keeping those of turns
 * before before_id. */
static int hist_load(sess_mgr *m, const char *sid, uint64_t before_id, hist *h)
{
    memset(h, 0, sizeof *h);
    int rc = store_summary_latest(m->st, sid, &h->summary);
    if (rc == STORE_NOT_FOUND) {
        memset(&h->summary, 0, sizeof h->summary);
    } else if (rc != STORE_OK) {
        return rc;
    }
    int trunc = 0;
    rc = store_messages_after(m->st, sid, h->summary.id ? h->summary.covers_to : 0,
                              SESS_CONTEXT_LOAD, &h->rows, &h->n_rows, &trunc);
    if (rc != STORE_OK) {
        hist_clear(h);
        return rc;
    }
    if (trunc)
        LOG_W(MOD, "session %s: more than %d uncompacted messages; the oldest are left out", sid,
              SESS_CONTEXT_LOAD);
    h->sel = calloc(h->n_rows ? h->n_rows : 1, sizeof *h->sel);
    h->tokens = calloc(h->n_rows ? h->n_rows : 1, sizeof *h->tokens);
    if (!h->sel || !h->tokens) {
        hist_clear(h);
        return STORE_ENOMEM;
    }
    for (size_t i = 0; i < h->n_rows; i++) {
        const store_message *r = &h->rows[i];
        if (r->kind != STORE_KIND_MESSAGE || r->turn_id >= before_id) continue;
        if (r->state != STORE_MSG_DONE && r->role != STORE_ROLE_USER) continue;
        h->sel[h->n_sel] = i;
        h->tokens[h->n_sel] = row_tokens(r);
        h->n_sel++;
    }
    return STORE_OK;
}

static const char *role_name(store_role r)
{
    return r == STORE_ROLE_USER ? "user" : r == STORE_ROLE_ASSISTANT ? "assistant" : "system";
}

typedef struct collect {
    char *buf;
    size_t len, cap;
} collect;

static int collect_delta(void *ud, const char *text, size_t len)
{
    collect *c = ud;
    if (c->len + len > PROV_MAX_CONTENT) return 1;
    if (c->len + len + 1 > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        while (cap < c->len + len + 1)
            cap *= 2;
        char *nb = realloc(c->buf, cap);
        if (!nb) return 1;
        c->buf = nb;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, text, len);
    c->len += len;
    c->buf[c->len] = '\0';
    return 0;
}

#define COMPACT_SYSTEM_PROMPT                                                                      \
    "You compact a conversation between a user and the skills of an assistant for ComfyUI "        \
    "workflows so that it can go on within a small context window. Write a summary of at most "    \
    "%llu words that keeps what the conversation needs later: the user's goals and "               \
    "preferences, decisions taken, names of models, nodes, files and settings, the state of "      \
    "the workflow on the canvas, and open questions. Plain text, no preamble."

/* Summarises rows (and the previous summary) with the session's model, in
 * chunks that each fit the prompt budget. Returns malloc'd text within
 * cap tokens, or NULL with err set. */
static char *summarise_with_model(const prov_cfg *pc, const char *prev, const store_message *rows,
                                  const size_t *sel, size_t n, uint64_t cap, uint64_t budget,
                                  const atomic_int *cancel, char *err, size_t errlen)
{
    char sys[768];
    snprintf(sys, sizeof sys, COMPACT_SYSTEM_PROMPT, (unsigned long long)(cap * 3 / 4));
    char *summary = text_dup(prev ? prev : "");
    size_t i = 0;
    while (i < n) {
        /* Room for this chunk's transcript: budget minus the instructions
         * and the summary so far. */
        uint64_t fixed = ctx_msg_tokens(strlen(sys)) + ctx_msg_tokens(strlen(summary)) + 32;
        uint64_t room = budget > fixed + 64 ? budget - fixed : 64;
        collect tr = {0};
        const char *intro = *summary ? "Summary so far:\n" : "";
        collect_delta(&tr, intro, strlen(intro));
        collect_delta(&tr, summary, strlen(summary));
        const char *mid = "\n\nConversation to add to the summary:\n";
        collect_delta(&tr, mid, strlen(mid));
        size_t taken = 0;
        while (i < n) {
            const store_message *r = &rows[sel[i]];
            char label[96];
            snprintf(label, sizeof label, "\n%s%s%.48s%s: ", role_name(r->role),
                     r->skill ? " (" : "", r->skill ? r->skill : "", r->skill ? ")" : "");
            uint64_t cost = ctx_text_tokens(strlen(label) + strlen(r->content));
            if (taken && ctx_text_tokens(tr.len) + cost > room) break;
            collect_delta(&tr, label, strlen(label));
            if (ctx_text_tokens(tr.len) + cost > room) {
                /* One message larger than a chunk: its start stands for it. */
                uint64_t left =
                    room > ctx_text_tokens(tr.len) + 8 ? room - ctx_text_tokens(tr.len) - 8 : 8;
                char *cut = ctx_cut(text_dup(r->content), left);
                collect_delta(&tr, cut, strlen(cut));
                collect_delta(&tr, " [cut]", 6);
                free(cut);
            } else {
                collect_delta(&tr, r->content, strlen(r->content));
            }
            taken++;
            i++;
        }
        if (!tr.buf) {
            free(summary);
            seterr(err, errlen, "out of memory");
            return NULL;
        }
        prov_msg msgs[2] = {{.role = PROV_ROLE_SYSTEM, .content = sys},
                            {.role = PROV_ROLE_USER, .content = tr.buf}};
        prov_request req = {
            .skill_name = "compaction",
            .messages = msgs,
            .n_messages = 2,
            .model = pc->model,
            .base_url = pc->base_url,
            .api_key = pc->api_key,
            .connect_timeout_ms = pc->connect_timeout_ms,
            .idle_timeout_ms = pc->idle_timeout_ms,
            .cancel = cancel,
        };
        collect out = {0};
        prov_sink sink = {.ud = &out, .delta = collect_delta};
        prov_reply rep = {0};
        char perr[256] = "";
        int prc = pc->prov->run(pc->prov, &req, &sink, &rep, perr, sizeof perr);
        free(tr.buf);
        prov_reply_clear(&rep);
        if (prc != PROV_OK || !out.buf || !*out.buf) {
            free(out.buf);
            free(summary);
            seterr(err, errlen, "%s",
                   prc != PROV_OK ? (perr[0] ? perr : "the model call failed")
                                  : "the model returned an empty summary");
            return NULL;
        }
        free(summary);
        summary = ctx_cut(out.buf, cap);
    }
    return summary;
}

/* Compacts h: the sel entries before the kept suffix become one summary
 * message (stored, published, and put in h->summary), and are dropped from
 * h->sel. keep_max bounds the messages kept. Called on the runner thread
 * (or the CompactSession caller's, with s->compacting set) without s->mu.
 * Returns the number of messages summarised (0: nothing to do) or -1 with
 * err set. */
static long compact_hist(session *s, const prov_cfg *pc, hist *h, uint64_t allowance,
                         size_t keep_max, uint32_t ratio, const atomic_int *cancel,
                         uint64_t prompt_budget, char *err, size_t errlen)
{
    sess_mgr *m = s->m;
    uint64_t cap = allowance / 4;
    if (cap < 32) cap = 32;
    uint64_t keep_budget = allowance > cap ? (allowance - cap) / 2 : 0;
    ctx_item *items = calloc(h->n_sel ? h->n_sel : 1, sizeof *items);
    if (!items) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < h->n_sel; i++) {
        items[i].tokens = ctx_scale(h->tokens[i], ratio);
        items[i].turn_start = h->rows[h->sel[i]].role == STORE_ROLE_USER;
    }
    size_t keep = ctx_select_keep(items, h->n_sel, keep_budget, keep_max);
    free(items);
    if (keep == 0) return 0;

    int64_t t0 = text_now_ms();
    pthread_mutex_lock(&s->mu);
    publish_status_locked(s, 0, NULL, "compacting the earlier conversation");
    pthread_mutex_unlock(&s->mu);

    const char *prev = h->summary.id ? h->summary.content : NULL;
    char *text = NULL;
    char why[256] = "";
    int by_model = pc->prov && strcmp(pc->prov->name, "echo") != 0;
    if (by_model) {
        /* The model's own budget: what one call may send. */
        char *sum = summarise_with_model(pc, prev, h->rows, h->sel, keep, cap, prompt_budget,
                                         cancel, why, sizeof why);
        if (sum) {
            char head[256];
            snprintf(head, sizeof head,
                     "Summary of %zu earlier message%s (#%llu to #%llu), written by the model "
                     "%.80s:\n",
                     keep, keep == 1 ? "" : "s", (unsigned long long)h->rows[h->sel[0]].id,
                     (unsigned long long)h->rows[h->sel[keep - 1]].id,
                     pc->model && *pc->model ? pc->model : "(default)");
            size_t hl = strlen(head), sl = strlen(sum);
            text = malloc(hl + sl + 1);
            if (text) {
                memcpy(text, head, hl);
                memcpy(text + hl, sum, sl + 1);
                ctx_cut(text, cap);
            }
            free(sum);
        }
    }
    if (!text) {
        ctx_src *src = calloc(keep, sizeof *src);
        if (!src) {
            seterr(err, errlen, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < keep; i++) {
            const store_message *r = &h->rows[h->sel[i]];
            src[i] = (ctx_src){
                .id = r->id, .role = role_name(r->role), .skill = r->skill, .content = r->content};
        }
        text = ctx_echo_summary(src, keep, prev, cap);
        free(src);
        if (!text) {
            seterr(err, errlen, "out of memory");
            return -1;
        }
    }

    store_message sm = {0};
    memcpy(sm.session_id, s->meta.id, sizeof sm.session_id);
    sm.role = STORE_ROLE_SYSTEM;
    sm.kind = STORE_KIND_SUMMARY;
    sm.state = STORE_MSG_DONE;
    sm.content = text;
    sm.skill = NULL;
    sm.covers_to = h->rows[h->sel[keep - 1]].id;
    sm.created_ms = text_now_ms();
    pthread_mutex_lock(&s->mu);
    int rc = s->deleted ? STORE_NOT_FOUND : store_message_insert(m->st, &sm);
    if (rc != STORE_OK) {
        pthread_mutex_unlock(&s->mu);
        free(text);
        seterr(err, errlen, "cannot store the summary: %s", store_strerror(rc));
        return -1;
    }
    s->meta.message_count++;
    s->meta.compacted_to = sm.covers_to;
    publish_message_locked(s, &sm);
    if (by_model && why[0])
        publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_WARN, 0, NULL, "context",
                           "the model could not summarise (%s); an extract of the messages was "
                           "stored as the summary instead",
                           why);
    uint64_t before = 0;
    for (size_t i = 0; i < keep; i++)
        before += h->tokens[i];
    publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_INFO, 0, NULL, "context",
                       "compacted %zu messages (about %llu tokens) into a summary of about %llu "
                       "tokens in %lld ms",
                       keep, (unsigned long long)before,
                       (unsigned long long)ctx_msg_tokens(strlen(text)),
                       (long long)(text_now_ms() - t0));
    pthread_mutex_unlock(&s->mu);

    /* The new summary replaces the old one and the compacted entries. */
    store_message_clear(&h->summary);
    h->summary = sm; /* takes text */
    memmove(h->sel, h->sel + keep, (h->n_sel - keep) * sizeof *h->sel);
    memmove(h->tokens, h->tokens + keep, (h->n_sel - keep) * sizeof *h->tokens);
    h->n_sel -= keep;
    return (long)keep;
}

static uint64_t hist_tokens(const hist *h, uint32_t ratio)
{
    uint64_t sum =
        h->summary.id ? ctx_scale(ctx_text_tokens(strlen(h->summary.content)) + 16, ratio) : 0;
    for (size_t i = 0; i < h->n_sel; i++)
        sum += ctx_scale(h->tokens[i], ratio);
    return sum;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* What a turn's attachments give the model: the user's text with the text
 * attachments (and, without vision, a description of the images) after it,
 * and the images as image parts. Owns everything. */
typedef struct turn_att {
    char *text; /* NULL: no attachments, the user's text as it is */
    prov_image images[BLOB_MAX_PER_MESSAGE];
    void *bytes[BLOB_MAX_PER_MESSAGE];
    char *labels[BLOB_MAX_PER_MESSAGE];
    char mimes[BLOB_MAX_PER_MESSAGE][BLOB_MIME_MAX];
    size_t n_images;
} turn_att;

static void turn_att_clear(turn_att *ta)
{
    free(ta->text);
    for (size_t i = 0; i < ta->n_images; i++) {
        free(ta->bytes[i]);
        free(ta->labels[i]);
    }
    memset(ta, 0, sizeof *ta);
}

/* Reads the turn's attachments. Images go as image parts when vision is
 * on, a PNG scaled down to SESS_IMAGE_MAX_SIDE first; otherwise, or when
 * an image cannot be read or stays over PROV_MAX_IMAGE_BYTES, the model is
 * told what it is in text. Texts go to every model, each cut to
 * SESS_MAX_ATTACH_TEXT bytes. */
static void turn_attachments(sess_mgr *m, uint64_t msg_id, const char *user_text, int vision,
                             turn_att *ta)
{
    memset(ta, 0, sizeof *ta);
    store_attachment *a = NULL;
    size_t n = 0;
    if (!m->blobs || store_attachments_load(m->st, msg_id, &a, &n) != STORE_OK || !n) return;
    text_buf b = {0};
    text_buf_add(&b, user_text ? user_text : "");
    for (size_t i = 0; i < n; i++) {
        const char *name = a[i].name && *a[i].name ? a[i].name : "(unnamed)";
        void *d = NULL;
        size_t len = 0;
        int is_img = a[i].width > 0;
        int got = blobstore_get(m->blobs, a[i].sha256, BLOB_MAX_BYTES, &d, &len) == BLOB_OK;
        if (is_img && vision && got && ta->n_images < BLOB_MAX_PER_MESSAGE) {
            uint32_t w = a[i].width, h = a[i].height;
            if (!strcmp(a[i].mime, "image/png")) {
                void *small = NULL;
                size_t slen = 0;
                char ierr[128];
                if (imgscale_png(d, len, SESS_IMAGE_MAX_SIDE, &small, &slen, &w, &h, ierr,
                                 sizeof ierr) == 1) {
                    free(d);
                    d = small;
                    len = slen;
                }
            }
            if (len <= PROV_MAX_IMAGE_BYTES) {
                size_t k = ta->n_images++;
                ta->bytes[k] = d;
                snprintf(ta->mimes[k], sizeof ta->mimes[k], "%s", a[i].mime);
                text_buf lb = {0};
                text_buf_addf(&lb, "%s (%ux%u)", name, a[i].width, a[i].height);
                ta->labels[k] = lb.p;
                ta->images[k] = (prov_image){
                    .mime = ta->mimes[k], .data = ta->bytes[k], .len = len, .label = ta->labels[k]};
                text_buf_addf(&b, "\n\n[attached image %s: %s, %ux%u pixels, shown below]", name,
                              a[i].mime, a[i].width, a[i].height);
                continue;
            }
        }
        if (is_img) {
            text_buf_addf(
                &b, "\n\n[attached image %s: %s, %ux%u pixels, %" PRIu64 " bytes; not shown: %s]",
                name, a[i].mime, a[i].width, a[i].height, a[i].size,
                !got     ? "the file is missing"
                : vision ? "too large"
                         : "this model does not take images");
        } else if (!got) {
            text_buf_addf(&b, "\n\n[attached file %s: %s; the file is missing]", name, a[i].mime);
        } else {
            size_t keep = text_utf8_cut(d, len, SESS_MAX_ATTACH_TEXT);
            text_buf_addf(&b, "\n\n[attached file %s: %s, %" PRIu64 " bytes%s]\n", name, a[i].mime,
                          a[i].size, keep < len ? ", cut" : "");
            text_buf_addn(&b, d, keep);
        }
        free(d);
    }
    store_attachments_free(a, n);
    if (b.oom) {
        free(b.p);
        return;
    }
    ta->text = b.p;
}

/* Runs one turn: every skill concurrently, then stores the replies in
 * skill-name order. Called on the session's runner thread without locks. */
static void run_turn(session *s, pending *p)
{
    sess_mgr *m = s->m;
    turn *t = calloc(1, sizeof *t);
    if (!t) abort();
    t->msg_id = p->msg_id;
    t->user_text = p->content;
    atomic_init(&t->cancel, 0);

    /* The tool table and the note callback as they are now. */
    pthread_mutex_lock(&m->mu);
    size_t n_tools = m->n_tools;
    /* The caller's tools, then the memory tools (remember, recall). */
    agent_tool *tools = malloc((n_tools + SESS_N_MEMORY_TOOLS) * sizeof *tools);
    if (!tools) abort();
    if (n_tools) memcpy(tools, m->tools, n_tools * sizeof *tools);
    for (size_t i = 0; i < SESS_N_MEMORY_TOOLS; i++) {
        tools[n_tools + i] = memory_tools[i];
        tools[n_tools + i].ud = m;
    }
    n_tools += SESS_N_MEMORY_TOOLS;
    void *tools_ud = m->tools_ud;
    sess_note_fn note_fn = m->note;
    void *note_ud = m->note_ud;
    pthread_mutex_unlock(&m->mu);

    /* Resolve skills and configuration under the lock. */
    skills *reg = sess_mgr_skills(m);
    pthread_mutex_lock(&s->mu);
    char **names = p->skills ? p->skills : s->meta.skills;
    size_t n = p->skills ? p->n_skills : s->meta.n_skills;
    t->runs = calloc(n ? n : 1, sizeof *t->runs);
    if (!t->runs) abort();
    for (size_t i = 0; i < n; i++) {
        const skill *sk = skills_find(reg, names[i]);
        skill_run *r = &t->runs[t->n_runs];
        r->s = s;
        r->t = t;
        r->name = text_dup(names[i]);
        r->instructions = text_dup(sk ? sk->instructions : "");
        if (sk && sk->n_allowed_tools) {
            r->allowed_tools = calloc(sk->n_allowed_tools, sizeof(char *));
            if (!r->allowed_tools) abort();
            for (size_t j = 0; j < sk->n_allowed_tools; j++)
                r->allowed_tools[j] = text_dup(sk->allowed_tools[j]);
            r->n_allowed_tools = sk->n_allowed_tools;
        }
        if (!sk) snprintf(r->err, sizeof r->err, "skill '%s' is no longer loaded", names[i]);
        t->n_runs++;
    }
    qsort(t->runs, t->n_runs, sizeof *t->runs, cmp_run);
    char *provider_name = text_dup(s->meta.provider);
    char *model = text_dup(s->meta.model ? s->meta.model : "");
    char *base_url = text_dup(s->meta.base_url ? s->meta.base_url : "");
    char *system_prompt = text_dup(s->meta.system_prompt ? s->meta.system_prompt : "");
    uint32_t delay = s->meta.token_delay_ms ? s->meta.token_delay_ms : m->default_delay_ms;
    int vision = vision_enabled(s->meta.vision, provider_name, model);
    uint32_t window = sess_window(m, &s->meta);
    uint32_t ratio = s->ratio_milli;
    s->cur = t;
    s->starting = 0;
    s->status = COMFYD__V1__SESSION_STATUS__SESSION_STATUS_WORKING;
    if (!p->stored_running) store_message_finish(m->st, t->msg_id, STORE_MSG_RUNNING, NULL, NULL);
    char detail[64];
    snprintf(detail, sizeof detail, "running %zu skill%s", t->n_runs, t->n_runs == 1 ? "" : "s");
    publish_status_locked(s, t->msg_id, NULL, detail);
    /* The key is read under the same lock as base_url and provider: a
     * configure in between could otherwise pair a new key with the old
     * host (configure writes both with the lock held). */
    char *api_key = NULL;
    store_session_get_api_key(m->st, s->meta.id, &api_key);
    pthread_mutex_unlock(&s->mu);
    skills_unref(reg);

    const provider *prov = provider_find(provider_name);
    /* One note per turn, shared by its skills: the callback may report
     * "changes since the last turn" and so must not be asked twice. */
    char *note = note_fn && t->n_runs ? note_fn(note_ud, s->meta.id) : NULL;
    turn_att ta;
    if (!p->no_attachments)
        turn_attachments(m, t->msg_id, t->user_text, vision, &ta);
    else
        memset(&ta, 0, sizeof ta);

    turn_ctx ctx = {0};
    ctx.base.prov = prov;
    ctx.base.system_prompt = system_prompt;
    ctx.base.context_note = note;
    ctx.base.user_text = ta.text ? ta.text : t->user_text;
    ctx.base.user_images = ta.images;
    ctx.base.n_user_images = ta.n_images;
    ctx.base.tools = tools;
    ctx.base.n_tools = n_tools;
    ctx.base.tools_ud = tools_ud;
    ctx.base.model = model;
    ctx.base.base_url = base_url;
    ctx.base.api_key = api_key;
    ctx.base.token_delay_ms = delay;
    ctx.base.vision = vision;
    ctx.base.connect_timeout_ms = m->llm_connect_timeout_ms;
    ctx.base.idle_timeout_ms = m->llm_idle_timeout_ms;
    ctx.base.session_id = s->meta.id;
    ctx.base.turn_id = t->msg_id;

    /* The context: what every model call sends besides the history must
     * fit the prompt budget; the history gets the rest, compacted when it
     * does not fit (or has more than SESS_PROVIDER_HISTORY messages). */
    uint64_t budget = ctx_prompt_budget(window);
    uint64_t fixed = 0;
    for (size_t i = 0; i < t->n_runs; i++) {
        skill_run *r = &t->runs[i];
        if (r->err[0]) continue;
        agent_skill sk = {.name = r->name,
                          .instructions = r->instructions,
                          .allowed_tools = r->allowed_tools,
                          .n_allowed_tools = r->n_allowed_tools};
        agent_turn tt = ctx.base;
        tt.skill = &sk;
        uint64_t f = ctx_scale(agent_fixed_tokens(&tt), ratio);
        if (f > fixed) fixed = f;
    }
    hist h;
    char ctx_err[sizeof t->runs[0].err] = "";
    int hrc = hist_load(m, s->meta.id, t->msg_id, &h);
    if (hrc != STORE_OK) {
        memset(&h, 0, sizeof h);
        snprintf(ctx_err, sizeof ctx_err, "cannot read the history: %s", store_strerror(hrc));
    } else if (t->n_runs && prov && fixed > budget) {
        snprintf(ctx_err, sizeof ctx_err,
                 "the message with the skill's instructions, the canvas note and the tool schemas "
                 "needs about %llu tokens, more than the prompt budget of %llu (context window "
                 "%u): raise context_window or shorten the message",
                 (unsigned long long)fixed, (unsigned long long)budget, window);
    } else if (t->n_runs && prov) {
        uint64_t allowance = budget - fixed;
        if (hist_tokens(&h, ratio) > allowance || h.n_sel > SESS_PROVIDER_HISTORY) {
            prov_cfg pc = {.prov = prov,
                           .provider_name = provider_name,
                           .model = model,
                           .base_url = base_url,
                           .api_key = api_key,
                           .connect_timeout_ms = m->llm_connect_timeout_ms,
                           .idle_timeout_ms = m->llm_idle_timeout_ms};
            char cerr[200] = "";
            long k = compact_hist(s, &pc, &h, allowance, SESS_PROVIDER_HISTORY / 2, ratio,
                                  &t->cancel, budget, cerr, sizeof cerr);
            if (k < 0)
                snprintf(ctx_err, sizeof ctx_err, "compaction failed: %s", cerr);
            else if (hist_tokens(&h, ratio) > allowance)
                snprintf(ctx_err, sizeof ctx_err,
                         "the history does not fit the prompt budget of %llu tokens even after "
                         "compaction: raise context_window",
                         (unsigned long long)budget);
        }
    }
    prov_msg *hm = calloc(h.n_sel ? h.n_sel : 1, sizeof *hm);
    if (!hm) abort();
    for (size_t i = 0; i < h.n_sel; i++) {
        const store_message *r = &h.rows[h.sel[i]];
        hm[i].role = (prov_role)r->role;
        hm[i].skill = r->skill;
        hm[i].content = r->content ? r->content : "";
    }
    ctx.base.history = hm;
    ctx.base.n_history = h.n_sel;
    ctx.base.summary = h.summary.id ? h.summary.content : NULL;
    ctx.base.budget_tokens = budget;
    ctx.base.ratio_milli = ratio;
    if (ctx_err[0]) {
        for (size_t i = 0; i < t->n_runs; i++) {
            if (t->runs[i].err[0]) continue;
            t->runs[i].rc = AGENT_ECONTEXT;
            snprintf(t->runs[i].err, sizeof t->runs[i].err, "%s", ctx_err);
        }
    }

    if (t->n_runs == 0) {
        pthread_mutex_lock(&s->mu);
        publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_WARN, t->msg_id, NULL, "session",
                           "no active skills: nothing to run (configure active_skills)");
        pthread_mutex_unlock(&s->mu);
    }
    /* A lone skill runs on this thread: a thread of its own would only add
     * its start and a hand-off before the first token. */
    size_t n_start = 0;
    for (size_t i = 0; i < t->n_runs; i++)
        if (!t->runs[i].err[0] && prov) n_start++;
    for (size_t i = 0; i < t->n_runs; i++) {
        skill_run *r = &t->runs[i];
        if (r->err[0] || !prov) {
            if (r->rc != AGENT_ECONTEXT) r->rc = AGENT_FAILED;
            if (!prov) snprintf(r->err, sizeof r->err, "unknown provider '%s'", provider_name);
            continue;
        }
        pthread_mutex_lock(&s->mu);
        publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_INFO, t->msg_id, r->name, "skill",
                           "skill %s started (provider %s)", r->name, prov->name);
        pthread_mutex_unlock(&s->mu);
        run_arg *a = malloc(sizeof *a);
        if (!a) abort();
        a->r = r;
        a->ctx = &ctx;
        if (n_start == 1) {
            skill_thread(a); /* frees a */
            continue;
        }
        if (pthread_create(&r->thread, NULL, skill_thread, a) != 0) {
            free(a);
            r->rc = AGENT_FAILED;
            snprintf(r->err, sizeof r->err, "cannot start a worker thread");
            r->thread = 0;
            continue;
        }
    }
    for (size_t i = 0; i < t->n_runs; i++)
        if (t->runs[i].thread) pthread_join(t->runs[i].thread, NULL);

    if (api_key) {
        memset(api_key, 0, strlen(api_key));
        free(api_key);
    }
    free(note);
    free(tools);
    free(hm);
    hist_clear(&h);
    turn_att_clear(&ta);

    /* Store the replies in a stable (name) order, the user message's final
     * state and the usage with one commit, then publish their events: a
     * client that sees the reply and sends again finds the store free. */
    pthread_mutex_lock(&s->mu);
    int cancelled = atomic_load(&t->cancel) != 0;
    int failed = 0;
    uint64_t ptok = 0, ctok = 0;
    size_t n_am = 0;
    store_message *ams = calloc(t->n_runs + 1, sizeof *ams);
    skill_run **am_run = calloc(t->n_runs + 1, sizeof *am_run); /* NULL: the no-skills reply */
    const char **am_code = calloc(t->n_runs + 1, sizeof *am_code);
    if (!ams || !am_run || !am_code) abort();
    for (size_t i = 0; i < t->n_runs && !s->deleted; i++) {
        skill_run *r = &t->runs[i];
        ptok += r->prompt_tokens;
        ctok += r->completion_tokens;
        store_message *am = &ams[n_am];
        memcpy(am->session_id, s->meta.id, sizeof am->session_id);
        am->role = STORE_ROLE_ASSISTANT;
        am->skill = r->name;
        am->content = r->reply.p ? r->reply.p : "";
        am->turn_id = t->msg_id;
        am->created_ms = text_now_ms();
        const char *code = "provider_error";
        if (r->rc == AGENT_OK) {
            am->state = STORE_MSG_DONE;
        } else if (r->rc == AGENT_CANCELLED || (r->rc == AGENT_ABORTED && cancelled)) {
            am->state = t->interrupted ? STORE_MSG_INTERRUPTED : STORE_MSG_CANCELLED;
            am->error =
                t->interrupted ? "interrupted: the service stopped during this turn" : "cancelled";
        } else {
            am->state = STORE_MSG_FAILED;
            am->error = r->err[0] ? r->err : "the provider failed";
            if (r->rc == AGENT_ESTEPS) code = "agent_step_limit";
            if (r->rc == AGENT_ELOOP) code = "agent_loop";
            if (r->rc == AGENT_ECONTEXT) code = "context_overflow";
            failed++;
        }
        am_run[n_am] = r;
        am_code[n_am] = code;
        n_am++;
    }
    if (t->n_runs == 0 && !s->deleted && !cancelled && !t->interrupted) {
        /* Nothing ran: answer the turn with a reply that says why, so no
         * surface (panel, MCP, HTTP) shows a message left without an answer.
         * It is stored FAILED, so it never enters a provider's history. */
        store_message *am = &ams[n_am++];
        memcpy(am->session_id, s->meta.id, sizeof am->session_id);
        am->role = STORE_ROLE_ASSISTANT;
        am->content = "";
        am->turn_id = t->msg_id;
        am->created_ms = text_now_ms();
        am->state = STORE_MSG_FAILED;
        am->error = SESS_NO_SKILLS_NOTICE;
        failed++;
    }
    /* Calibrate the estimate with the model server's own count (the echo
     * provider counts words, which says nothing about a tokenizer). */
    for (size_t i = 0; prov && strcmp(prov->name, "echo") != 0 && i < t->n_runs; i++) {
        const agent_stats *st = &t->runs[i].stats;
        if (st->first_prompt_reported && st->first_prompt_estimate)
            s->ratio_milli = ctx_ratio(st->first_prompt_reported, st->first_prompt_estimate);
    }
    store_msg_state ust = t->interrupted ? STORE_MSG_INTERRUPTED
                          : cancelled    ? STORE_MSG_CANCELLED
                          : failed       ? STORE_MSG_FAILED
                                         : STORE_MSG_DONE;
    /* An interrupted turn stays RUNNING in the store so the next start marks
     * it interrupted, exactly as after a crash. */
    int finish_user = !t->interrupted && !s->deleted;
    if (s->deleted) ptok = ctok = 0;
    int src = STORE_OK;
    if (n_am || finish_user || ptok || ctok)
        src = store_turn_end(m->st, s->meta.id, ams, n_am, finish_user ? t->msg_id : 0,
                             finish_user ? ust : 0, ptok, ctok);
    if (src != STORE_OK) {
        LOG_E(MOD, "session %s: cannot store the end of turn %" PRIu64 ": %s", s->meta.id,
              t->msg_id, store_strerror(src));
        for (size_t j = 0; j < n_am; j++) {
            publish_error_locked(s, "store_error", "the reply could not be stored", t->msg_id,
                                 ams[j].skill);
            if (am_run[j] && ams[j].state != STORE_MSG_FAILED) failed++;
        }
        if (finish_user) {
            ust = cancelled ? STORE_MSG_CANCELLED : STORE_MSG_FAILED;
            store_message_finish(m->st, t->msg_id, ust, NULL, NULL);
        }
        n_am = 0;
        ptok = ctok = 0;
    }
    for (size_t j = 0; j < n_am; j++) {
        store_message *am = &ams[j];
        skill_run *r = am_run[j];
        if (r && am->state == STORE_MSG_FAILED) {
            publish_error_locked(s, am_code[j], am->error, t->msg_id, r->name);
            publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_ERROR, t->msg_id, r->name,
                               "skill", "skill %s failed: %s", r->name, am->error);
        }
        if (r && r->stats.steps)
            publish_log_locked(
                s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_DEBUG, t->msg_id, r->name, "skill",
                "skill %s: %u model call%s, %u tool call%s, %" PRIu64 " prompt + %" PRIu64
                " completion tokens",
                r->name, r->stats.steps, r->stats.steps == 1 ? "" : "s", r->stats.tool_calls,
                r->stats.tool_calls == 1 ? "" : "s", r->prompt_tokens, r->completion_tokens);
        s->meta.message_count++;
        publish_message_locked(s, am);
        if (!r) publish_error_locked(s, "no_active_skills", SESS_NO_SKILLS_NOTICE, t->msg_id, NULL);
    }
    if (t->n_runs == 0 && src != STORE_OK && !s->deleted && !cancelled && !t->interrupted)
        publish_error_locked(s, "no_active_skills", SESS_NO_SKILLS_NOTICE, t->msg_id, NULL);
    free(ams);
    free(am_run);
    free(am_code);
    if (ptok || ctok) {
        s->meta.prompt_tokens += ptok;
        s->meta.completion_tokens += ctok;
        publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_INFO, t->msg_id, NULL, "session",
                           "turn usage: %" PRIu64 " prompt + %" PRIu64
                           " completion tokens (session total %" PRIu64 " + %" PRIu64 ")",
                           ptok, ctok, s->meta.prompt_tokens, s->meta.completion_tokens);
    }
    if (cancelled && !t->interrupted)
        publish_error_locked(s, "cancelled", "the turn was cancelled", t->msg_id, NULL);
    s->cur = NULL;
    s->status = failed ? COMFYD__V1__SESSION_STATUS__SESSION_STATUS_ERROR
                       : COMFYD__V1__SESSION_STATUS__SESSION_STATUS_IDLE;
    if (!t->interrupted)
        publish_status_locked(s, failed ? t->msg_id : 0, NULL,
                              failed      ? "turn failed"
                              : cancelled ? "turn cancelled"
                                          : "turn finished");
    pthread_mutex_unlock(&s->mu);

    for (size_t i = 0; i < t->n_runs; i++) {
        free(t->runs[i].name);
        free(t->runs[i].instructions);
        free_strv(t->runs[i].allowed_tools, t->runs[i].n_allowed_tools);
        text_buf_free(&t->runs[i].reply);
    }
    free(t->runs);
    free(t);
    free(provider_name);
    free(model);
    free(base_url);
    free(system_prompt);
}

static int runner_lease(session *s, pending *p, int *held);
static void runner_release(session *s, int *held);

static void *runner_main(void *arg)
{
    session *s = arg;
    int held = 0; /* this runner holds the session's lease (several cores) */
    for (;;) {
        pthread_mutex_lock(&s->mu);
        pthread_mutex_lock(&s->m->mu);
        int stop = s->m->shutting_down;
        pthread_mutex_unlock(&s->m->mu);
        pending *p = (stop || s->deleted || s->compacting) ? NULL : s->qhead;
        if (!p) {
            /* Under the lock: a message sent from now on starts a new
             * runner, which takes the lease again. */
            if (held) runner_release(s, &held);
            s->runner_active = 0;
            pthread_mutex_unlock(&s->mu);
            break;
        }
        s->qhead = p->next;
        if (!s->qhead) s->qtail = NULL;
        s->qlen--;
        s->starting = 1;
        /* Several cores: the lease may take a while; the session works. */
        if (s->m->lease) s->status = COMFYD__V1__SESSION_STATUS__SESSION_STATUS_WORKING;
        pthread_mutex_unlock(&s->mu);
        if (s->m->lease && !runner_lease(s, p, &held)) {
            pending_free(p);
            pthread_mutex_lock(&s->mu);
            s->starting = 0;
            if (!s->qhead && !s->cur &&
                s->status == COMFYD__V1__SESSION_STATUS__SESSION_STATUS_WORKING) {
                s->status = COMFYD__V1__SESSION_STATUS__SESSION_STATUS_IDLE;
                publish_status_locked(s, 0, NULL, "nothing left to run here");
            }
            pthread_mutex_unlock(&s->mu);
            continue;
        }
        run_turn(s, p);
        pending_free(p);
        pthread_mutex_lock(&s->mu);
        s->starting = 0; /* run_turn clears it once cur is set; this covers its early ends */
        pthread_mutex_unlock(&s->mu);
    }
    session_unref(s);
    return NULL;
}

/* Starts the runner thread if none is active. Called with s->mu held. */
static void start_runner_locked(session *s)
{
    if (s->runner_active || !atomic_load(&s->m->started_flag)) return;
    if (s->runner_joinable) {
        /* The previous runner has finished its loop (runner_active is 0), so
         * this join returns at once. */
        pthread_join(s->runner, NULL);
        s->runner_joinable = 0;
    }
    session_ref(s);
    s->runner_active = 1;
    if (pthread_create(&s->runner, NULL, runner_main, s) != 0) {
        LOG_E(MOD, "session %s: cannot start the runner thread", s->meta.id);
        s->runner_active = 0;
        atomic_fetch_sub(&s->refs, 1);
        return;
    }
    s->runner_joinable = 1;
}

/* ---- requests ------------------------------------------------------------- */

static int shutting_down(sess_mgr *m, char *err, size_t errlen)
{
    pthread_mutex_lock(&m->mu);
    int sd = m->shutting_down;
    pthread_mutex_unlock(&m->mu);
    if (sd) seterr(err, errlen, "server shutting down");
    return sd;
}

int sess_create(sess_mgr *m, const Comfyd__V1__CreateSessionRequest *req, sess_info *out, char *err,
                size_t errlen)
{
    if (shutting_down(m, err, errlen)) return SESS_ESHUTDOWN;
    const Comfyd__V1__SessionConfig *c = req->config;
    int rc;
    if ((rc = check_text("title", req->title, SESS_MAX_TITLE, 1, err, errlen))) return rc;
    if ((rc = check_text("api_key", req->api_key, SESS_MAX_API_KEY, 1, err, errlen))) return rc;
    if (c) {
        if ((rc = check_provider(c->provider, err, errlen))) return rc;
        if ((rc = check_text("model", c->model, SESS_MAX_SHORT, 1, err, errlen))) return rc;
        if ((rc = check_base_url(c->base_url, err, errlen))) return rc;
        if ((rc = check_text("system_prompt", c->system_prompt, SESS_MAX_SYSTEM_PROMPT, 1, err,
                             errlen)))
            return rc;
        if ((rc = check_skills(m, c->active_skills, c->n_active_skills, err, errlen))) return rc;
        if ((rc = check_delay(c->token_delay_ms, err, errlen))) return rc;
        if ((rc = check_vision(c->vision, err, errlen))) return rc;
        if ((rc = check_window(c->context_window, err, errlen))) return rc;
    }
    store_session meta = {0};
    const char *want = req->session_id;
    if (want && *want) {
        /* A client-chosen id (seed 000's join): the same form as ours. */
        if ((rc = check_session_id(want, err, errlen))) return rc;
        memcpy(meta.id, want, TEXT_UUID_LEN);
    } else if (text_uuid(meta.id) != 0) {
        seterr(err, errlen, "no randomness available for a session id");
        return SESS_EIO;
    }
    meta.title = text_dup(req->title ? req->title : "");
    meta.provider = text_dup(c && c->provider && *c->provider ? c->provider : "echo");
    meta.model = dup_or_empty(c ? c->model : NULL);
    meta.base_url = dup_or_empty(c ? c->base_url : NULL);
    meta.system_prompt = dup_or_empty(c ? c->system_prompt : NULL);
    if (c && c->n_active_skills) {
        meta.skills = calloc(c->n_active_skills, sizeof(char *));
        if (!meta.skills) abort();
        for (size_t i = 0; i < c->n_active_skills; i++)
            meta.skills[i] = text_dup(c->active_skills[i]);
        meta.n_skills = c->n_active_skills;
    }
    meta.token_delay_ms = c ? c->token_delay_ms : 0;
    meta.vision = c ? vision_mode_parse(c->vision) : VISION_AUTO;
    meta.context_window = c ? c->context_window : 0;
    meta.created_ms = meta.updated_ms = text_now_ms();
    meta.api_key_set = req->api_key && *req->api_key;

    pthread_mutex_lock(&m->mu);
    if (map_find_locked(m, meta.id)) {
        pthread_mutex_unlock(&m->mu);
        seterr(err, errlen, "session %s already exists", meta.id);
        store_session_clear(&meta);
        return SESS_EEXIST;
    }
    rc = store_session_insert(m->st, &meta, meta.api_key_set ? req->api_key : NULL);
    if (rc != STORE_OK) {
        pthread_mutex_unlock(&m->mu);
        if (rc == STORE_CONFLICT) {
            seterr(err, errlen, "session %s already exists", meta.id);
            store_session_clear(&meta);
            return SESS_EEXIST;
        }
        store_session_clear(&meta);
        seterr(err, errlen, "cannot store the session: %s", store_strerror(rc));
        return store_to_sess(rc) == SESS_NOT_FOUND ? SESS_EIO : store_to_sess(rc);
    }
    session *s = session_new(m, &meta);
    if (!s) {
        pthread_mutex_unlock(&m->mu);
        store_session_clear(&meta);
        return SESS_ENOMEM;
    }
    map_insert_locked(m, s);
    pthread_mutex_lock(&s->mu);
    info_fill_locked(s, out);
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_unlock(&m->mu);
    LOG_I(MOD, "session %s created (provider %s, %zu skill(s))", out->meta.id, out->meta.provider,
          out->meta.n_skills);
    return SESS_OK;
}

static int refresh_shared(session *s);

static session *find_or_err(sess_mgr *m, const char *id, int *rc, char *err, size_t errlen)
{
    if ((*rc = check_session_id(id, err, errlen)) != SESS_OK) return NULL;
    session *s = acquire(m, id);
    if (s && m->lease && refresh_shared(s) == STORE_NOT_FOUND) {
        session_unref(s);
        s = NULL;
    }
    if (!s) {
        seterr(err, errlen, "session %s not found", id);
        *rc = SESS_NOT_FOUND;
    }
    return s;
}

int sess_get(sess_mgr *m, const char *id, sess_info *out, char *err, size_t errlen)
{
    int rc;
    session *s = find_or_err(m, id, &rc, err, errlen);
    if (!s) return rc;
    pthread_mutex_lock(&s->mu);
    info_fill_locked(s, out);
    pthread_mutex_unlock(&s->mu);
    session_unref(s);
    return SESS_OK;
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = text_dup(v);
}

int sess_configure(sess_mgr *m, const Comfyd__V1__ConfigureSessionRequest *req, sess_info *out,
                   char *err, size_t errlen)
{
    int rc;
    if (shutting_down(m, err, errlen)) return SESS_ESHUTDOWN;
    session *s = find_or_err(m, req->session_id, &rc, err, errlen);
    if (!s) return rc;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if ((rc = (cond)) != SESS_OK) goto done_unref;                                             \
    } while (0)
    if (req->title) CHECK(check_text("title", req->title->value, SESS_MAX_TITLE, 1, err, errlen));
    if (req->provider) CHECK(check_provider(req->provider->value, err, errlen));
    if (req->model) CHECK(check_text("model", req->model->value, SESS_MAX_SHORT, 1, err, errlen));
    if (req->base_url) CHECK(check_base_url(req->base_url->value, err, errlen));
    if (req->system_prompt)
        CHECK(check_text("system_prompt", req->system_prompt->value, SESS_MAX_SYSTEM_PROMPT, 1, err,
                         errlen));
    if (req->api_key)
        CHECK(check_text("api_key", req->api_key->value, SESS_MAX_API_KEY, 1, err, errlen));
    if (req->active_skills)
        CHECK(check_skills(m, req->active_skills->names, req->active_skills->n_names, err, errlen));
    if (req->token_delay_ms) CHECK(check_delay(req->token_delay_ms->value, err, errlen));
    if (req->vision) CHECK(check_vision(req->vision->value, err, errlen));
    if (req->context_window) CHECK(check_window(req->context_window->value, err, errlen));
#undef CHECK

    pthread_mutex_lock(&s->mu);
    if (s->deleted) {
        pthread_mutex_unlock(&s->mu);
        seterr(err, errlen, "session %s not found", req->session_id);
        rc = SESS_NOT_FOUND;
        goto done_unref;
    }
    store_session next;
    meta_copy(&next, &s->meta);
    if (req->title) set_str(&next.title, req->title->value);
    if (req->provider)
        set_str(&next.provider, *req->provider->value ? req->provider->value : "echo");
    if (req->model) set_str(&next.model, req->model->value);
    if (req->base_url) set_str(&next.base_url, req->base_url->value);
    if (req->system_prompt) set_str(&next.system_prompt, req->system_prompt->value);
    if (req->token_delay_ms) next.token_delay_ms = req->token_delay_ms->value;
    if (req->vision) next.vision = vision_mode_parse(req->vision->value);
    if (req->context_window) next.context_window = req->context_window->value;
    if (req->archived) next.archived = req->archived->value != 0;
    if (req->active_skills) {
        for (size_t i = 0; i < next.n_skills; i++)
            free(next.skills[i]);
        free(next.skills);
        next.n_skills = req->active_skills->n_names;
        next.skills = next.n_skills ? calloc(next.n_skills, sizeof(char *)) : NULL;
        for (size_t i = 0; i < next.n_skills; i++)
            next.skills[i] = text_dup(req->active_skills->names[i]);
    }
    next.updated_ms = text_now_ms();
    /* A key is bound to the provider and base URL it was given with: it
     * never follows a change of either, or a configure of base_url alone
     * would send the stored key to any host (the next turn's
     * Authorization header). Without a new key in this request the stored
     * one is dropped, and the answer says so. The old key goes first, in
     * its own commit: a crash between the writes then leaves no key, never
     * the old key beside the new host. */
    int rebind =
        strcmp(next.provider ? next.provider : "", s->meta.provider ? s->meta.provider : "") ||
        strcmp(next.base_url ? next.base_url : "", s->meta.base_url ? s->meta.base_url : "");
    int cleared = rebind && s->meta.api_key_set && !(req->api_key && *req->api_key->value);
    rc = rebind && s->meta.api_key_set ? store_session_set_api_key(m->st, s->meta.id, NULL)
                                       : STORE_OK;
    if (rc == STORE_OK) rc = store_session_update(m->st, &next);
    if (rc == STORE_OK && req->api_key)
        rc = store_session_set_api_key(m->st, s->meta.id,
                                       *req->api_key->value ? req->api_key->value : NULL);
    if (rc != STORE_OK) {
        pthread_mutex_unlock(&s->mu);
        store_session_clear(&next);
        seterr(err, errlen, "cannot store the configuration: %s", store_strerror(rc));
        rc = store_io_err(rc);
        goto done_unref;
    }
    if (req->api_key)
        next.api_key_set = *req->api_key->value != 0;
    else if (rebind)
        next.api_key_set = 0;
    char notice[SESS_NOTICE_MAX] = "";
    if (cleared) {
        const char *what =
            strcmp(next.provider ? next.provider : "", s->meta.provider ? s->meta.provider : "")
                ? (strcmp(next.base_url ? next.base_url : "",
                          s->meta.base_url ? s->meta.base_url : "")
                       ? "provider and base_url"
                       : "provider")
                : "base_url";
        snprintf(notice, sizeof notice,
                 "the stored API key was removed because %s changed without a new api_key; a key "
                 "is only sent to the provider and base URL it was given with: set api_key again",
                 what);
    }
    store_session_clear(&s->meta);
    s->meta = next;

    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    Comfyd__V1__ConfigUpdated cu = COMFYD__V1__CONFIG_UPDATED__INIT;
    sess_info tmp = {.meta = s->meta};
    Comfyd__V1__Session spb;
    Comfyd__V1__SessionConfig cpb;
    Comfyd__V1__Usage upb;
    sess_info_to_pb(&tmp, &spb, &cpb, &upb);
    cu.config = &cpb;
    cu.title = s->meta.title;
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_CONFIG_UPDATED;
    ev.config_updated = &cu;
    publish_locked(s, &ev);
    if (cleared)
        publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_WARN, 0, NULL, "session", "%s",
                           notice);
    info_fill_locked(s, out);
    out->api_key_cleared = cleared;
    memcpy(out->notice, notice, sizeof notice);
    pthread_mutex_unlock(&s->mu);
    /* Never log the key itself, only that it changed. */
    LOG_I(MOD, "session %s configured%s", s->meta.id,
          req->api_key ? " (api key changed)"
          : cleared    ? " (api key removed: rebound)"
                       : "");
    rc = SESS_OK;
done_unref:
    session_unref(s);
    return rc;
}

int sess_delete(sess_mgr *m, const char *id, char *err, size_t errlen)
{
    int rc;
    if ((rc = check_session_id(id, err, errlen)) != SESS_OK) return rc;
    if (m->lease) {
        /* Made on another core: load it here first. */
        session *t = acquire(m, id);
        if (t) session_unref(t);
    }
    pthread_mutex_lock(&m->mu);
    session *s = map_find_locked(m, id);
    if (!s) {
        pthread_mutex_unlock(&m->mu);
        seterr(err, errlen, "session %s not found", id);
        return SESS_NOT_FOUND;
    }
    rc = store_session_delete(m->st, id);
    if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
        pthread_mutex_unlock(&m->mu);
        seterr(err, errlen, "cannot delete the session: %s", store_strerror(rc));
        return store_io_err(rc);
    }
    map_remove_locked(m, s);
    pthread_mutex_unlock(&m->mu);

    pthread_mutex_lock(&s->mu);
    s->deleted = 1;
    if (s->cur) atomic_store(&s->cur->cancel, 1);
    while (s->subs) {
        sub *u = s->subs;
        s->subs = u->next;
        u->ops->end(u->ud, 5 /* NOT_FOUND */, "session deleted");
        sub_drop(u);
    }
    pthread_mutex_unlock(&s->mu);
    LOG_I(MOD, "session %s deleted", id);
    session_unref(s); /* the map's reference; a running turn holds its own */
    return SESS_OK;
}

/* An untitled session is named after its first message: its first line,
 * cut at a word boundary (the user can rename it). Called with s->mu. */
static void title_from_first_locked(session *s, const char *content)
{
    char t[SESS_AUTO_TITLE + 8];
    size_t len = 0;
    const char *p = content;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    while (p[len] && p[len] != '\n' && p[len] != '\r' && len < SESS_AUTO_TITLE)
        len++;
    if (p[len] && p[len] != '\n' && p[len] != '\r') { /* cut: back to a word boundary */
        size_t w = len;
        while (w > SESS_AUTO_TITLE / 2 && p[w] != ' ')
            w--;
        if (p[w] == ' ') len = w;
        while (len > 0 && ((unsigned char)p[len] & 0xC0) == 0x80)
            len--;
    }
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    if (len == 0) return;
    memcpy(t, p, len);
    t[len] = '\0';
    if (p[len] && p[len] != '\n' && p[len] != '\r') strcat(t, "…");
    store_session next;
    meta_copy(&next, &s->meta);
    set_str(&next.title, t);
    if (store_session_update(s->m->st, &next) != STORE_OK) {
        store_session_clear(&next);
        return; /* an untitled session is no failure */
    }
    store_session_clear(&s->meta);
    s->meta = next;
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    Comfyd__V1__ConfigUpdated cu = COMFYD__V1__CONFIG_UPDATED__INIT;
    sess_info tmp = {.meta = s->meta, .window = sess_window(s->m, &s->meta)};
    Comfyd__V1__Session spb;
    Comfyd__V1__SessionConfig cpb;
    Comfyd__V1__Usage upb;
    sess_info_to_pb(&tmp, &spb, &cpb, &upb);
    cu.config = &cpb;
    cu.title = s->meta.title;
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_CONFIG_UPDATED;
    ev.config_updated = &cu;
    publish_locked(s, &ev);
}

void sess_send_result_clear(sess_send_result *r)
{
    if (!r) return;
    store_message_clear(&r->message);
    memset(r, 0, sizeof *r);
}

void sess_mgr_set_output(sess_mgr *m, sess_output_fn fn, void *ud)
{
    pthread_mutex_lock(&m->mu);
    m->output = fn;
    m->output_ud = ud;
    pthread_mutex_unlock(&m->mu);
}

static int blob_to_sess(int rc)
{
    switch (rc) {
    case BLOB_OK:
        return SESS_OK;
    case BLOB_ETOOBIG:
        return SESS_EFULL;
    case BLOB_ETYPE:
    case BLOB_EINVAL:
        return SESS_EINVAL;
    case BLOB_ENOTFOUND:
        return SESS_NOT_FOUND;
    case BLOB_ENOMEM:
        return SESS_ENOMEM;
    default:
        return SESS_EIO;
    }
}

static int check_att_name(const char *name, char *err, size_t errlen)
{
    size_t len = name ? strlen(name) : 0;
    if (len > BLOB_MAX_NAME) {
        seterr(err, errlen, "an attachment name has %zu bytes; the limit BLOB_MAX_NAME is %d", len,
               BLOB_MAX_NAME);
        return SESS_EINVAL;
    }
    if (len && (!text_utf8_valid(name, len) || strpbrk(name, "\r\n"))) {
        seterr(err, errlen, "an attachment name must be one line of UTF-8");
        return SESS_EINVAL;
    }
    return SESS_OK;
}

static void info_to_att(const blob_info *bi, const char *name, store_attachment *a)
{
    memset(a, 0, sizeof *a);
    memcpy(a->sha256, bi->sha256, sizeof a->sha256);
    snprintf(a->mime, sizeof a->mime, "%s", bi->mime);
    a->name = text_dup(name ? name : "");
    a->size = bi->size;
    a->width = bi->width;
    a->height = bi->height;
}

int sess_upload(sess_mgr *m, const void *data, size_t len, const char *mime, const char *name,
                store_attachment *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!m->blobs) {
        seterr(err, errlen, "attachments are not enabled in this service");
        return SESS_EINVAL;
    }
    int rc = check_att_name(name, err, errlen);
    if (rc != SESS_OK) return rc;
    blob_info bi;
    rc = blob_to_sess(blobstore_put(m->blobs, data, len, mime, &bi, err, errlen));
    if (rc != SESS_OK) return rc;
    info_to_att(&bi, name, out);
    return SESS_OK;
}

/* Turns the request's attachments into stored references: inline bytes
 * and run outputs are stored first, stored hashes are checked and touched
 * (so GC keeps them while the reference is being written). On error
 * nothing is left in atts. */
static int resolve_attachments(sess_mgr *m, const Comfyd__V1__SendMessageRequest *req,
                               store_attachment *atts, size_t *n_out, char *err, size_t errlen)
{
    *n_out = 0;
    if (req->n_attachments > BLOB_MAX_PER_MESSAGE) {
        seterr(err, errlen, "the message has %zu attachments; the limit BLOB_MAX_PER_MESSAGE is %d",
               req->n_attachments, BLOB_MAX_PER_MESSAGE);
        return SESS_EFULL;
    }
    if (!m->blobs) {
        seterr(err, errlen, "attachments are not enabled in this service");
        return SESS_EINVAL;
    }
    uint64_t total = 0;
    int rc = SESS_OK;
    size_t n = 0;
    for (size_t i = 0; i < req->n_attachments && rc == SESS_OK; i++) {
        const Comfyd__V1__Attachment *a = req->attachments[i];
        int has_hash = a->sha256 && *a->sha256, has_data = a->data.len > 0,
            has_out = a->run_output != NULL;
        if (has_hash + has_data + has_out != 1) {
            seterr(err, errlen, "attachments[%zu]: give exactly one of sha256, data or run_output",
                   i);
            rc = SESS_EINVAL;
            break;
        }
        if ((rc = check_att_name(a->name, err, errlen)) != SESS_OK) break;
        blob_info bi;
        char berr[256] = "";
        if (has_data) {
            rc = blob_to_sess(blobstore_put(m->blobs, a->data.data, a->data.len, a->mime_type, &bi,
                                            berr, sizeof berr));
        } else if (has_out) {
            pthread_mutex_lock(&m->mu);
            sess_output_fn fn = m->output;
            void *ud = m->output_ud;
            pthread_mutex_unlock(&m->mu);
            void *d = NULL;
            size_t len = 0;
            const Comfyd__V1__RunOutputRef *o = a->run_output;
            if (!fn) {
                snprintf(berr, sizeof berr, "run outputs cannot be fetched in this service");
                rc = SESS_EINVAL;
            } else {
                rc = fn(ud, o->prompt_id ? o->prompt_id : "", o->node_id ? o->node_id : "",
                        o->index, &d, &len, berr, sizeof berr);
            }
            if (rc == SESS_OK)
                rc = blob_to_sess(blobstore_put(m->blobs, d, len, NULL, &bi, berr, sizeof berr));
            free(d);
        } else if (!blob_hash_ok(a->sha256)) {
            snprintf(berr, sizeof berr, "sha256 must be 64 lower-case hex digits");
            rc = SESS_EINVAL;
        } else {
            int b = blobstore_touch(m->blobs, a->sha256);
            if (b == BLOB_OK) b = blobstore_stat(m->blobs, a->sha256, &bi);
            if (b == BLOB_ENOTFOUND)
                snprintf(berr, sizeof berr, "no uploaded attachment has sha256 %s", a->sha256);
            rc = blob_to_sess(b);
            if (rc == SESS_NOT_FOUND) rc = SESS_EINVAL;
            /* A text keeps the text type it was declared with. */
            char want[BLOB_MIME_MAX];
            snprintf(want, sizeof want, "%s", a->mime_type ? a->mime_type : "");
            if (rc == SESS_OK && !bi.width &&
                (!strcmp(want, "text/markdown") || !strcmp(want, "application/json")))
                snprintf(bi.mime, sizeof bi.mime, "%s", want);
        }
        if (rc != SESS_OK) {
            seterr(err, errlen, "attachments[%zu]: %s", i, berr[0] ? berr : "cannot be stored");
            break;
        }
        total += bi.size;
        if (total > BLOB_MAX_TOTAL_PER_MESSAGE) {
            seterr(err, errlen,
                   "the attachments have more than %u bytes in all (BLOB_MAX_TOTAL_PER_MESSAGE)",
                   BLOB_MAX_TOTAL_PER_MESSAGE);
            rc = SESS_EFULL;
            break;
        }
        info_to_att(&bi, a->name, &atts[n++]);
    }
    if (rc != SESS_OK) {
        for (size_t i = 0; i < n; i++)
            free(atts[i].name);
        return rc;
    }
    *n_out = n;
    return SESS_OK;
}

int sess_attachment_get(sess_mgr *m, const char *sha256, store_attachment *info, void **data,
                        size_t *len, char *err, size_t errlen)
{
    memset(info, 0, sizeof *info);
    *data = NULL;
    *len = 0;
    if (!m->blobs) {
        seterr(err, errlen, "attachments are not enabled in this service");
        return SESS_EINVAL;
    }
    if (!blob_hash_ok(sha256)) {
        seterr(err, errlen, "sha256 must be 64 lower-case hex digits");
        return SESS_EINVAL;
    }
    int rc = blobstore_get(m->blobs, sha256, BLOB_MAX_BYTES, data, len);
    blob_info bi;
    char e[8];
    if (rc == BLOB_OK) rc = blob_check(*data, *len, NULL, &bi, e, sizeof e) ? BLOB_EIO : BLOB_OK;
    if (rc != BLOB_OK) {
        free(*data);
        *data = NULL;
        *len = 0;
        if (rc == BLOB_ENOTFOUND)
            seterr(err, errlen, "no attachment has sha256 %s", sha256);
        else
            seterr(err, errlen, "the attachment cannot be read");
        return rc == BLOB_ENOTFOUND ? SESS_NOT_FOUND : SESS_EIO;
    }
    memcpy(bi.sha256, sha256, sizeof bi.sha256);
    info_to_att(&bi, "", info);
    return SESS_OK;
}

long sess_gc_blobs(sess_mgr *m, int64_t ttl_ms)
{
    if (!m->blobs) return 0;
    char **keep = NULL;
    size_t n = 0;
    if (store_attachment_hashes(m->st, &keep, &n) != STORE_OK) return -1;
    long r = blobstore_gc(m->blobs, (const char *const *)keep, n, ttl_ms);
    for (size_t i = 0; i < n; i++)
        free(keep[i]);
    free(keep);
    return r;
}

int sess_send(sess_mgr *m, const Comfyd__V1__SendMessageRequest *req, sess_send_result *out,
              char *err, size_t errlen)
{
    int rc;
    memset(out, 0, sizeof *out);
    if (shutting_down(m, err, errlen)) return SESS_ESHUTDOWN;
    if ((rc = check_session_id(req->session_id, err, errlen))) return rc;
    if ((rc = check_text("content", req->content, SESS_MAX_CONTENT, req->n_attachments > 0, err,
                         errlen)))
        return rc;
    if ((rc = check_text("client_message_id", req->client_message_id, SESS_MAX_CLIENT_ID, 1, err,
                         errlen)))
        return rc;
    if (req->n_skills && (rc = check_skills(m, req->skills, req->n_skills, err, errlen))) return rc;
    session *s = find_or_err(m, req->session_id, &rc, err, errlen);
    if (!s) return rc;
    store_attachment atts[BLOB_MAX_PER_MESSAGE];
    size_t n_atts = 0;
    if (req->n_attachments &&
        (rc = resolve_attachments(m, req, atts, &n_atts, err, errlen)) != SESS_OK) {
        session_unref(s);
        return rc;
    }

    pthread_mutex_lock(&s->mu);
    if (s->deleted) {
        seterr(err, errlen, "session %s not found", req->session_id);
        rc = SESS_NOT_FOUND;
        goto out_unlock;
    }
    const char *cid =
        req->client_message_id && *req->client_message_id ? req->client_message_id : NULL;
    if (cid && store_message_find_client_id(m->st, s->meta.id, cid, &out->message) == STORE_OK) {
        out->duplicate = 1;
        out->queued = out->message.state == STORE_MSG_QUEUED;
        rc = SESS_OK;
        goto out_unlock;
    }
    if (s->qlen >= SESS_MAX_QUEUED) {
        seterr(err, errlen, "too many queued messages (%d); wait for the current turns or cancel",
               SESS_MAX_QUEUED);
        rc = SESS_EFULL;
        goto out_unlock;
    }
    /* A message that alone exceeds the prompt budget can never be sent
     * whole: refuse it now rather than send it cut. */
    uint32_t window = sess_window(m, &s->meta);
    uint64_t need = ctx_scale(ctx_msg_tokens(strlen(req->content)), s->ratio_milli);
    if (need > ctx_prompt_budget(window)) {
        seterr(err, errlen,
               "the message is about %llu tokens, more than this session's prompt budget of "
               "%llu (context window %u minus %u kept for the reply): shorten it or raise "
               "context_window",
               (unsigned long long)need, (unsigned long long)ctx_prompt_budget(window), window,
               ctx_reply_reserve(window));
        rc = SESS_EINVAL;
        goto out_unlock;
    }
    /* Nothing ahead: the turn starts now, and the message is stored RUNNING
     * in the commit that acknowledges it, so the turn's first token waits
     * for no second commit. A crash from here on marks it interrupted at the
     * next start, never reruns it. A message that waits (a turn ahead, a
     * compaction, a service not started yet) is stored QUEUED: the runner
     * marks it when it starts, and a crash before that reruns it. */
    int busy = s->cur != NULL || s->starting;
    /* Several cores: a turn that starts now is stored RUNNING under this
     * core's lease, so the acknowledged state is the stored one (a crash
     * right after the answer interrupts it; it is not run twice); without
     * the lease (another core runs the session) it waits QUEUED. */
    int claimed = m->lease && !(s->cur || s->starting || s->qlen > 0) &&
                  lease_acquire(m->lease, s->meta.id) == LEASE_OK;
    int run_now = m->lease
                      ? claimed
                      : !busy && s->qlen == 0 && !s->compacting && atomic_load(&m->started_flag);
    store_message *msg = &out->message;
    memcpy(msg->session_id, s->meta.id, sizeof msg->session_id);
    msg->role = STORE_ROLE_USER;
    msg->content = text_dup(req->content);
    msg->state = run_now ? STORE_MSG_RUNNING : STORE_MSG_QUEUED;
    msg->created_ms = text_now_ms();
    msg->client_id = cid ? text_dup(cid) : NULL;
    rc = store_message_insert_with(m->st, msg, atts, n_atts);
    if (rc != STORE_OK && claimed) lease_release(m->lease, s->meta.id);
    if (rc != STORE_OK) {
        seterr(err, errlen, "cannot store the message: %s", store_strerror(rc));
        rc = store_io_err(rc);
        store_message_clear(msg); /* the caller reads out->message only on success */
        goto out_unlock;
    }
    s->meta.message_count++;
    s->meta.updated_ms = msg->created_ms;
    if (!s->meta.title || !*s->meta.title) title_from_first_locked(s, req->content);
    out->queued = busy || s->qlen > 0;
    out->queue_position = s->qlen + (busy ? 1 : 0);
    pending *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->msg_id = msg->id;
    p->content = text_dup(req->content);
    p->no_attachments = n_atts == 0;
    p->stored_running = run_now;
    p->claimed = claimed;
    if (req->n_skills) {
        p->skills = calloc(req->n_skills, sizeof(char *));
        if (!p->skills) abort();
        for (size_t i = 0; i < req->n_skills; i++)
            p->skills[i] = text_dup(req->skills[i]);
        p->n_skills = req->n_skills;
    }
    /* Not queued, the clients see it running (the store has it RUNNING or,
     * during a compaction or before the start, gets the mark when the
     * runner takes it). */
    if (!out->queued) msg->state = STORE_MSG_RUNNING;
    publish_message_atts_locked(s, msg, n_atts > 0);
    enqueue_locked(s, p);
    if (out->queued) publish_status_locked(s, s->cur ? s->cur->msg_id : 0, NULL, "message queued");
    start_runner_locked(s);
    rc = SESS_OK;
out_unlock:
    pthread_mutex_unlock(&s->mu);
    session_unref(s);
    for (size_t i = 0; i < n_atts; i++)
        free(atts[i].name);
    return rc;
}

/* forward: several cores, and no turn of the session runs here: ask the
 * other cores (the one running it cancels it). */
static int cancel_impl(sess_mgr *m, const char *id, int clear_queue, int forward, int *cancelled,
                       uint32_t *dropped, char *err, size_t errlen)
{
    int rc;
    *cancelled = 0;
    *dropped = 0;
    session *s = find_or_err(m, id, &rc, err, errlen);
    if (!s) return rc;
    pthread_mutex_lock(&s->mu);
    if (s->cur && !atomic_load(&s->cur->cancel)) {
        atomic_store(&s->cur->cancel, 1);
        *cancelled = 1;
        publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_INFO, s->cur->msg_id, NULL,
                           "session", "cancel requested");
    } else if (forward && m->lease && m->cancel_fanout && !s->cur &&
               s->status == COMFYD__V1__SESSION_STATUS__SESSION_STATUS_WORKING) {
        /* The status came from another core: the turn runs there. */
        m->cancel_fanout(m->fanout_ud, s->meta.id, clear_queue);
        *cancelled = 1;
        publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_INFO, 0, NULL, "session",
                           "cancel requested from the core running the turn");
    }
    if (clear_queue) {
        while (s->qhead) {
            pending *p = s->qhead;
            s->qhead = p->next;
            s->qlen--;
            store_message_finish(m->st, p->msg_id, STORE_MSG_CANCELLED, NULL, "cancelled");
            store_message msg = {0};
            /* Tell subscribers the queued message's new state. */
            memcpy(msg.session_id, s->meta.id, sizeof msg.session_id);
            msg.id = msg.turn_id = p->msg_id;
            msg.role = STORE_ROLE_USER;
            msg.content = p->content;
            msg.state = STORE_MSG_CANCELLED;
            msg.error = "cancelled";
            publish_message_locked(s, &msg);
            pending_free(p);
            (*dropped)++;
        }
        s->qtail = NULL;
        /* Between two turns the session was reported working for its queue
         * alone: say that it is idle now (a running turn says so itself
         * when it ends). */
        if (*dropped && !s->cur && !s->starting) publish_status_locked(s, 0, NULL, "queue cleared");
    }
    pthread_mutex_unlock(&s->mu);
    session_unref(s);
    return SESS_OK;
}

int sess_cancel(sess_mgr *m, const char *id, int clear_queue, int *cancelled, uint32_t *dropped,
                char *err, size_t errlen)
{
    return cancel_impl(m, id, clear_queue, 1, cancelled, dropped, err, errlen);
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
    if (rc != STORE_OK) return store_io_err(rc);
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
    info_fill_locked(s, &info);
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
    if (shutting_down(m, err, errlen)) return SESS_ESHUTDOWN;
    session *s = find_or_err(m, id, &rc, err, errlen);
    if (!s) return rc;
    sub *u = calloc(1, sizeof *u);
    if (!u) {
        session_unref(s);
        return SESS_ENOMEM;
    }
    u->ops = ops;
    u->ud = ud;
    pthread_mutex_lock(&s->mu);
    if (s->deleted) {
        rc = SESS_NOT_FOUND;
        seterr(err, errlen, "session %s not found", id);
    } else if (after_seq > 0 && after_seq <= s->seq && evring_covers(s->ring, after_seq) &&
               (!m->lease || after_seq == s->seq || evring_has(s->ring, after_seq))) {
        replay_ctx rc_ctx = {ops, ud};
        int r = evring_replay(s->ring, after_seq, replay_one, &rc_ctx);
        rc = r == EVRING_OK ? SESS_OK : SESS_EFULL;
        if (rc == SESS_EFULL)
            seterr(err, errlen,
                   "too many missed events to replay at once; resubscribe with "
                   "after_seq 0");
    } else {
        rc = push_snapshot_locked(s, ops, ud, after_seq == 0 ? "fresh" : "gap");
        if (rc != SESS_OK) seterr(err, errlen, "cannot build the session snapshot");
    }
    if (rc == SESS_OK) {
        /* Drop subscribers whose peers left, so reconnect loops stay bounded. */
        sub **pp = &s->subs;
        while (*pp) {
            if ((*pp)->ops->gone((*pp)->ud)) {
                sub *dead = *pp;
                *pp = dead->next;
                sub_drop(dead);
            } else {
                pp = &(*pp)->next;
            }
        }
        u->next = s->subs;
        s->subs = u;
    }
    pthread_mutex_unlock(&s->mu);
    if (rc != SESS_OK) free(u);
    session_unref(s);
    return rc;
}

/* ---- list ----------------------------------------------------------------- */

/* Page tokens are "<updated_ms>:<id>" of the last session of the previous
 * page; keyset paging stays correct while sessions are added. */
int sess_list(sess_mgr *m, const char *token, size_t page_size, int include_archived,
              sess_info **out, size_t *n, char **next, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    *next = NULL;
    int64_t after_ms = 0;
    char after_id[40] = {0};
    int have_cursor = 0;
    if (token && *token) {
        const char *colon = strchr(token, ':');
        char *end = NULL;
        errno = 0;
        long long v = strtoll(token, &end, 10);
        if (!colon || end != colon || errno || !text_is_uuid(colon + 1)) {
            seterr(err, errlen, "page_token is not a token returned by ListSessions");
            return SESS_EINVAL;
        }
        after_ms = v;
        snprintf(after_id, sizeof after_id, "%s", colon + 1);
        have_cursor = 1;
    }
    if (page_size == 0) page_size = 50;
    if (page_size > 500) page_size = 500;
    store_session *rows = NULL;
    size_t nr = 0;
    int rc = STORE_OK;
    /* Archived sessions are skipped unless asked for: pages are read until
     * page_size + 1 listed ones are found or the sessions end. */
    for (;;) {
        store_session *part = NULL;
        size_t np = 0;
        rc = store_session_page(m->st, after_ms, have_cursor ? after_id : NULL, page_size + 1,
                                &part, &np);
        if (rc != STORE_OK) break;
        if (np) {
            after_ms = part[np - 1].updated_ms;
            snprintf(after_id, sizeof after_id, "%s", part[np - 1].id);
            have_cursor = 1;
        }
        store_session *grown = realloc(rows, (nr + np + 1) * sizeof *rows);
        if (!grown) {
            store_sessions_free(part, np);
            rc = STORE_ENOMEM;
            break;
        }
        rows = grown;
        for (size_t i = 0; i < np; i++) {
            if (!include_archived && part[i].archived)
                store_session_clear(&part[i]);
            else
                rows[nr++] = part[i];
        }
        free(part);
        if (np < page_size + 1 || nr > page_size) break;
    }
    if (rc != STORE_OK) {
        store_sessions_free(rows, nr);
        seterr(err, errlen, "cannot list sessions: %s", store_strerror(rc));
        return store_io_err(rc);
    }
    size_t k = nr > page_size ? page_size : nr;
    sess_info *list = calloc(k ? k : 1, sizeof *list);
    if (!list) {
        store_sessions_free(rows, nr);
        return SESS_ENOMEM;
    }
    for (size_t i = 0; i < k; i++) {
        session *s = acquire(m, rows[i].id);
        if (s) {
            pthread_mutex_lock(&s->mu);
            info_fill_locked(s, &list[i]);
            pthread_mutex_unlock(&s->mu);
            session_unref(s);
        } else {
            meta_copy(&list[i].meta, &rows[i]);
            list[i].status = COMFYD__V1__SESSION_STATUS__SESSION_STATUS_IDLE;
        }
    }
    if (nr > page_size) {
        char buf[80];
        snprintf(buf, sizeof buf, "%lld:%s", (long long)rows[k - 1].updated_ms, rows[k - 1].id);
        *next = text_dup(buf);
    }
    store_sessions_free(rows, nr);
    *out = list;
    *n = k;
    return SESS_OK;
}

int sess_history(sess_mgr *m, const char *id, size_t limit, store_message **out, size_t *n,
                 int *truncated)
{
    int rc = store_messages_load(m->st, id, limit, out, n, truncated);
    return store_to_sess(rc);
}

/* ---- memory: compact, search, remember, export ---------------------------- */

int sess_compact(sess_mgr *m, const char *id, uint32_t *compacted, store_message *summary,
                 char *notice, size_t noticelen, char *err, size_t errlen)
{
    int rc;
    *compacted = 0;
    if (summary) memset(summary, 0, sizeof *summary);
    if (notice && noticelen) notice[0] = '\0';
    if (shutting_down(m, err, errlen)) return SESS_ESHUTDOWN;
    session *s = find_or_err(m, id, &rc, err, errlen);
    if (!s) return rc;
    pthread_mutex_lock(&s->mu);
    if (s->deleted) {
        pthread_mutex_unlock(&s->mu);
        session_unref(s);
        seterr(err, errlen, "session %s not found", id);
        return SESS_NOT_FOUND;
    }
    if (s->cur || s->starting || s->compacting || s->qhead) {
        pthread_mutex_unlock(&s->mu);
        session_unref(s);
        seterr(err, errlen, "session %s is running a turn; compact it when it is idle", id);
        return SESS_EBUSY;
    }
    s->compacting = 1;
    prov_cfg pc = {0};
    pc.provider_name = text_dup(s->meta.provider);
    pc.model = text_dup(s->meta.model ? s->meta.model : "");
    pc.base_url = text_dup(s->meta.base_url ? s->meta.base_url : "");
    pc.prov = provider_find(pc.provider_name);
    pc.connect_timeout_ms = m->llm_connect_timeout_ms;
    pc.idle_timeout_ms = m->llm_idle_timeout_ms;
    store_session_get_api_key(m->st, s->meta.id, &pc.api_key);
    uint32_t window = sess_window(m, &s->meta);
    uint32_t ratio = s->ratio_milli;
    pthread_mutex_unlock(&s->mu);

    /* Everything but the newest turn goes into the summary; the history
     * may use what a turn's would (the budget less a typical fixed part,
     * taken as a quarter). */
    hist h;
    uint64_t budget = ctx_prompt_budget(window);
    rc = hist_load(m, s->meta.id, UINT64_MAX, &h);
    if (rc != STORE_OK) {
        seterr(err, errlen, "cannot read the history: %s", store_strerror(rc));
        rc = SESS_EIO;
    } else {
        size_t last_turn = 0;
        for (size_t i = 0; i < h.n_sel; i++)
            if (h.rows[h.sel[i]].role == STORE_ROLE_USER) last_turn = i;
        size_t keep_max = h.n_sel - last_turn;
        long k = h.n_sel > keep_max ? compact_hist(s, &pc, &h, budget - budget / 4, keep_max, ratio,
                                                   NULL, budget, err, errlen)
                                    : 0;
        if (k < 0) {
            rc = SESS_EIO;
        } else {
            rc = SESS_OK;
            *compacted = (uint32_t)k;
            if (k > 0 && summary) {
                *summary = h.summary;
                memset(&h.summary, 0, sizeof h.summary);
            }
            if (notice && noticelen)
                snprintf(notice, noticelen,
                         k ? "compacted %ld earlier messages into a summary; the originals stay "
                             "stored"
                           : "nothing to compact: only the newest turn is after the last summary",
                         k);
        }
        hist_clear(&h);
    }
    if (pc.api_key) {
        memset(pc.api_key, 0, strlen(pc.api_key));
        free(pc.api_key);
    }
    free(pc.provider_name);
    free(pc.model);
    free(pc.base_url);
    pthread_mutex_lock(&s->mu);
    s->compacting = 0;
    if (s->qhead) start_runner_locked(s); /* messages sent meanwhile */
    if (*compacted) publish_status_locked(s, 0, NULL, "compacted");
    pthread_mutex_unlock(&s->mu);
    session_unref(s);
    return rc;
}

int sess_search(sess_mgr *m, const char *query, const char *session_id, unsigned kind_mask,
                size_t limit, store_hit **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    int rc;
    if (session_id && *session_id && (rc = check_session_id(session_id, err, errlen))) return rc;
    if (limit == 0) limit = SESS_SEARCH_DEFAULT;
    if (limit > STORE_SEARCH_MAX) {
        seterr(err, errlen, "limit is too large (at most %d)", STORE_SEARCH_MAX);
        return SESS_EINVAL;
    }
    char *match = NULL;
    char qerr[160] = "";
    if (ftsq_build(query, &match, qerr, sizeof qerr) != 0) {
        seterr(err, errlen, "query: %s", qerr);
        return SESS_EINVAL;
    }
    rc = store_search(m->st, match, session_id && *session_id ? session_id : NULL,
                      kind_mask ? kind_mask : STORE_HIT_ALL, limit, out, n);
    free(match);
    if (rc == STORE_EINVAL) {
        /* ftsq only builds valid expressions; say so without SQLite's words. */
        seterr(err, errlen, "query: the search expression was not accepted");
        return SESS_EINVAL;
    }
    if (rc != STORE_OK) {
        seterr(err, errlen, "search failed: %s", store_strerror(rc));
        return store_to_sess(rc);
    }
    return SESS_OK;
}

int sess_remember(sess_mgr *m, const char *session_id, int global, const char *content,
                  uint64_t *id, char *err, size_t errlen)
{
    int rc;
    if (id) *id = 0;
    if ((rc = check_text("content", content, STORE_MEMORY_MAX, 0, err, errlen))) return rc;
    if (!global && (rc = check_session_id(session_id, err, errlen))) return rc;
    rc = store_memory_add(m->st, global ? NULL : session_id, content, id);
    if (rc == STORE_NOT_FOUND) {
        seterr(err, errlen, "session %s not found", session_id);
        return SESS_NOT_FOUND;
    }
    if (rc != STORE_OK) {
        seterr(err, errlen, "cannot store the memory: %s", store_strerror(rc));
        return store_to_sess(rc);
    }
    return SESS_OK;
}

typedef struct xbuf {
    char *p;
    size_t len, cap;
    int oom;
} xbuf;

static void xput(xbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void xputs(xbuf *b, const char *s)
{
    xput(b, s, strlen(s));
}

static void xprintf(xbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void xprintf(xbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) xput(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string: quotes, escapes, control characters as \u00XX. */
static void xjson(xbuf *b, const char *s)
{
    xput(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            xput(b, e, 2);
        } else if (*p < 0x20) {
            xprintf(b, "\\u%04x", *p);
        } else {
            xput(b, (const char *)p, 1);
        }
    }
    xput(b, "\"", 1);
}

static const char *state_name(store_msg_state st)
{
    switch (st) {
    case STORE_MSG_QUEUED:
        return "queued";
    case STORE_MSG_RUNNING:
        return "running";
    case STORE_MSG_DONE:
        return "done";
    case STORE_MSG_CANCELLED:
        return "cancelled";
    case STORE_MSG_FAILED:
        return "failed";
    case STORE_MSG_INTERRUPTED:
        return "interrupted";
    }
    return "unknown";
}

int sess_export(sess_mgr *m, const char *id, int format, char **out, char *err, size_t errlen)
{
    *out = NULL;
    sess_info info;
    int rc = sess_get(m, id, &info, err, errlen);
    if (rc != SESS_OK) return rc;
    store_message *rows = NULL;
    size_t n = 0;
    int trunc = 0;
    rc = store_messages_load(m->st, id, SIZE_MAX / 2, &rows, &n, &trunc);
    if (rc != STORE_OK) {
        sess_info_clear(&info);
        seterr(err, errlen, "cannot read the history: %s", store_strerror(rc));
        return store_to_sess(rc);
    }
    const store_session *meta = &info.meta;
    xbuf b = {0};
    if (format == 2) {
        xputs(&b, "{\"id\":");
        xjson(&b, meta->id);
        xputs(&b, ",\"title\":");
        xjson(&b, meta->title);
        xputs(&b, ",\"provider\":");
        xjson(&b, meta->provider);
        xputs(&b, ",\"model\":");
        xjson(&b, meta->model);
        xprintf(&b, ",\"created_at_ms\":%lld,\"updated_at_ms\":%lld,\"archived\":%s",
                (long long)meta->created_ms, (long long)meta->updated_ms,
                meta->archived ? "true" : "false");
        xputs(&b, ",\"messages\":[");
        for (size_t i = 0; i < n; i++) {
            const store_message *r = &rows[i];
            xprintf(&b, "%s{\"id\":%llu,\"role\":\"%s\",\"kind\":\"%s\",\"state\":\"%s\"",
                    i ? "," : "", (unsigned long long)r->id, role_name(r->role),
                    r->kind == STORE_KIND_SUMMARY ? "summary" : "message", state_name(r->state));
            xprintf(&b, ",\"turn_id\":%llu,\"created_at_ms\":%lld", (unsigned long long)r->turn_id,
                    (long long)r->created_ms);
            if (r->kind == STORE_KIND_SUMMARY)
                xprintf(&b, ",\"covers_to\":%llu", (unsigned long long)r->covers_to);
            if (r->skill) {
                xputs(&b, ",\"skill\":");
                xjson(&b, r->skill);
            }
            if (r->error) {
                xputs(&b, ",\"error\":");
                xjson(&b, r->error);
            }
            xputs(&b, ",\"content\":");
            xjson(&b, r->content);
            xputs(&b, "}");
        }
        xputs(&b, "]}\n");
    } else {
        xputs(&b, "# ");
        xputs(&b, meta->title && *meta->title ? meta->title : "Untitled session");
        xprintf(&b, "\n\nSession `%s` · provider %s%s%s · %zu messages\n", meta->id, meta->provider,
                meta->model && *meta->model ? " · model " : "", meta->model ? meta->model : "", n);
        for (size_t i = 0; i < n; i++) {
            const store_message *r = &rows[i];
            if (r->kind == STORE_KIND_SUMMARY) {
                xprintf(&b, "\n---\n\n> **Summary** (stands for the messages up to #%llu)\n>\n",
                        (unsigned long long)r->covers_to);
                /* Quote every line of the summary. */
                const char *p = r->content;
                while (*p) {
                    const char *nl = strchr(p, '\n');
                    size_t len = nl ? (size_t)(nl - p) : strlen(p);
                    xputs(&b, "> ");
                    xput(&b, p, len);
                    xputs(&b, "\n");
                    p += len + (nl ? 1 : 0);
                }
                xputs(&b, "\n---\n");
                continue;
            }
            xprintf(&b, "\n## %s", r->role == STORE_ROLE_USER ? "User" : "Assistant");
            if (r->skill && *r->skill) xprintf(&b, " (%s)", r->skill);
            xprintf(&b, " · #%llu", (unsigned long long)r->id);
            if (r->state != STORE_MSG_DONE) xprintf(&b, " · %s", state_name(r->state));
            xputs(&b, "\n\n");
            xputs(&b, r->content);
            if (r->error && *r->error) {
                xputs(&b, "\n\n*Error: ");
                xputs(&b, r->error);
                xputs(&b, "*");
            }
            xputs(&b, "\n");
        }
    }
    store_messages_free(rows, n);
    sess_info_clear(&info);
    if (b.oom) {
        free(b.p);
        return SESS_ENOMEM;
    }
    *out = b.p;
    return SESS_OK;
}

/* ---- memory tools: remember and recall ------------------------------------ */

#define RECALL_DEFAULT 5 /* memories a recall returns unless asked */
#define RECALL_MAX 20    /* a model needs a few facts, not a dump */

/* The arguments object (agent.h checked it is one); NULL on a parse error. */
static yajl_val args_tree(const char *json)
{
    char e[64];
    yajl_val v = yajl_tree_parse(json, e, sizeof e);
    if (v && !YAJL_IS_OBJECT(v)) {
        yajl_tree_free(v);
        return NULL;
    }
    return v;
}

static const char *arg_str(yajl_val obj, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
    return v ? YAJL_GET_STRING(v) : NULL;
}

static char *tool_error(const char *msg)
{
    xbuf b = {0};
    xputs(&b, "{\"error\":");
    xjson(&b, msg);
    xputs(&b, "}");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* scope: NULL or "" gives dflt; 0 session, 1 global, 2 all; -1 unknown. */
static int parse_scope(const char *v, int dflt, int allow_all)
{
    if (!v || !*v) return dflt;
    if (!strcmp(v, "session")) return 0;
    if (!strcmp(v, "global")) return 1;
    if (allow_all && !strcmp(v, "all")) return 2;
    return -1;
}

static int tool_remember(void *ud, const agent_call_ctx *ctx, const char *args_json, char **result)
{
    sess_mgr *m = ud;
    yajl_val a = args_tree(args_json);
    const char *text = a ? arg_str(a, "content") : NULL;
    int scope = parse_scope(a ? arg_str(a, "scope") : NULL, 0, 0);
    int rc = AGENT_TOOL_ERROR;
    if (!text || !*text) {
        *result = tool_error("content: the fact to remember, a non-empty string");
    } else if (scope < 0) {
        *result = tool_error("scope: \"session\" (the default) or \"global\"");
    } else if (scope == 0 && (!ctx->session_id || !*ctx->session_id)) {
        *result = tool_error("scope: there is no session here; use \"global\"");
    } else {
        char err[256] = "";
        uint64_t id = 0;
        if (sess_remember(m, ctx->session_id, scope == 1, text, &id, err, sizeof err) != SESS_OK) {
            *result = tool_error(err);
        } else {
            xbuf b = {0};
            xprintf(&b, "{\"id\":%llu,\"scope\":\"%s\"}", (unsigned long long)id,
                    scope == 1 ? "global" : "session");
            *result = b.p;
            rc = AGENT_TOOL_OK;
        }
    }
    yajl_tree_free(a);
    return rc;
}

static int tool_recall(void *ud, const agent_call_ctx *ctx, const char *args_json, char **result)
{
    sess_mgr *m = ud;
    yajl_val a = args_tree(args_json);
    const char *query = a ? arg_str(a, "query") : NULL;
    int scope = parse_scope(a ? arg_str(a, "scope") : NULL, 2, 1);
    const char *lpath[] = {"limit", NULL};
    yajl_val lv = a ? yajl_tree_get(a, lpath, yajl_t_number) : NULL;
    long long limit = lv && YAJL_IS_INTEGER(lv) ? YAJL_GET_INTEGER(lv) : RECALL_DEFAULT;
    const char *sid = ctx->session_id ? ctx->session_id : "";
    int rc = AGENT_TOOL_ERROR;
    if (!query || !*query) {
        *result = tool_error("query: words to look for, a non-empty string");
    } else if (scope < 0) {
        *result = tool_error("scope: \"session\", \"global\" or \"all\" (the default)");
    } else if (limit < 1 || limit > RECALL_MAX) {
        *result = tool_error("limit: an integer from 1 to 20");
    } else {
        char err[256] = "";
        store_hit *hits = NULL;
        size_t n = 0;
        if (sess_search(m, query, NULL, 1u << STORE_HIT_MEMORY, STORE_SEARCH_MAX, &hits, &n, err,
                        sizeof err) != SESS_OK) {
            *result = tool_error(err);
        } else {
            /* Only this session's memories and the global ones, never
             * another session's. */
            xbuf b = {0};
            xputs(&b, "{\"memories\":[");
            long long k = 0;
            for (size_t i = 0; i < n && k < limit; i++) {
                int global = hits[i].session_id[0] == '\0';
                int mine = !global && *sid && !strcmp(hits[i].session_id, sid);
                if (!(global ? scope != 0 : mine && scope != 1)) continue;
                xprintf(&b, "%s{\"id\":%llu,\"scope\":\"%s\",\"content\":", k ? "," : "",
                        (unsigned long long)hits[i].id, global ? "global" : "session");
                xjson(&b, hits[i].text ? hits[i].text : hits[i].snippet);
                xputs(&b, "}");
                k++;
            }
            xputs(&b, "]}");
            store_hits_free(hits, n);
            if (b.oom) {
                free(b.p);
                *result = NULL;
            } else {
                *result = b.p;
                rc = AGENT_TOOL_OK;
            }
        }
    }
    yajl_tree_free(a);
    return rc;
}

static const agent_tool memory_tools[SESS_N_MEMORY_TOOLS] = {
    {"remember",
     "Stores a fact for later turns and sessions: a user preference, a decision, a name. "
     "scope \"session\" (the default) keeps it with this conversation, \"global\" for every "
     "session. Found again with recall.",
     "{\"type\":\"object\",\"properties\":{\"content\":{\"type\":\"string\",\"description\":"
     "\"The fact, one or two "
     "sentences.\"},\"scope\":{\"type\":\"string\",\"enum\":[\"session\","
     "\"global\"]}},\"required\":[\"content\"],\"additionalProperties\":false}",
     0, tool_remember, NULL},
    {"recall",
     "Looks up remembered facts by words (full-text search, best first): this session's and "
     "the "
     "global ones (scope \"all\", the default), or only \"session\" or \"global\".",
     "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\"},\"scope\":{"
     "\"type\":\"string\",\"enum\":[\"session\",\"global\",\"all\"]},\"limit\":{\"type\":"
     "\"integer\",\"minimum\":1,\"maximum\":20}},\"required\":[\"query\"],"
     "\"additionalProperties\":false}",
     1, tool_recall, NULL},
};

const agent_tool *sess_memory_tools(size_t *n)
{
    *n = SESS_N_MEMORY_TOOLS;
    return memory_tools;
}

/* ---- fork and revert ------------------------------------------------------ */

/* Checks that message mid is a visible message of session sid. */
static int check_message(sess_mgr *m, const char *sid, uint64_t mid, char *err, size_t errlen)
{
    if (mid == 0 || mid > INT64_MAX) {
        seterr(err, errlen, "message_id: missing or out of range");
        return SESS_EINVAL;
    }
    store_message msg;
    int rc = store_message_get(m->st, mid, &msg);
    if (rc == STORE_NOT_FOUND) {
        seterr(err, errlen, "message %llu not found", (unsigned long long)mid);
        return SESS_NOT_FOUND;
    }
    if (rc != STORE_OK) {
        seterr(err, errlen, "cannot read message %llu: %s", (unsigned long long)mid,
               store_strerror(rc));
        return store_io_err(rc);
    }
    if (strcmp(msg.session_id, sid) != 0) {
        rc = SESS_EINVAL;
        seterr(err, errlen, "message_id: message %llu belongs to another session, not to %s",
               (unsigned long long)mid, sid);
    } else if (msg.reverted_ms) {
        rc = SESS_NOT_FOUND;
        seterr(err, errlen, "message %llu of session %s was hidden by a revert",
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
    if (shutting_down(m, err, errlen)) return SESS_ESHUTDOWN;
    if ((rc = check_text("title", title, SESS_MAX_TITLE, 1, err, errlen))) return rc;
    session *src = find_or_err(m, id, &rc, err, errlen);
    if (!src) return rc;
    if ((rc = check_message(m, id, message_id, err, errlen)) != SESS_OK) {
        session_unref(src);
        return rc;
    }
    store_session dst = {0};
    if (text_uuid(dst.id) != 0) {
        session_unref(src);
        seterr(err, errlen, "no randomness available for a session id");
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
        session_unref(src);
        if (rc == STORE_NOT_FOUND) {
            seterr(err, errlen, "message %llu is no longer a visible message of session %s",
                   (unsigned long long)message_id, id);
            return SESS_NOT_FOUND;
        }
        seterr(err, errlen, "cannot store the fork: %s", store_strerror(rc));
        return store_io_err(rc);
    }
    session *s = session_new(m, &meta);
    if (!s) {
        pthread_mutex_unlock(&m->mu);
        store_session_clear(&meta);
        session_unref(src);
        return SESS_ENOMEM;
    }
    map_insert_locked(m, s);
    pthread_mutex_lock(&s->mu);
    info_fill_locked(s, out);
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_unlock(&m->mu);
    session_unref(src);
    *copied = n_copied > UINT32_MAX ? UINT32_MAX : (uint32_t)n_copied;
    LOG_I(MOD, "session %s forked from %s at message %llu (%zu messages)", out->meta.id, id,
          (unsigned long long)message_id, n_copied);
    return SESS_OK;
}

int sess_revert_begin(sess_mgr *m, const char *id, uint64_t message_id, char *err, size_t errlen)
{
    int rc;
    if (shutting_down(m, err, errlen)) return SESS_ESHUTDOWN;
    session *s = find_or_err(m, id, &rc, err, errlen);
    if (!s) return rc;
    if ((rc = check_message(m, id, message_id, err, errlen)) != SESS_OK) {
        session_unref(s);
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
        session_unref(s);
        seterr(err, errlen, "cannot read the history: %s", store_strerror(lrc));
        return store_io_err(lrc);
    }
    pthread_mutex_lock(&s->mu);
    if (s->deleted) {
        rc = SESS_NOT_FOUND;
        seterr(err, errlen, "session %s not found", id);
    } else if (s->cur || s->starting || s->compacting || s->qhead) {
        rc = SESS_EBUSY;
        seterr(err, errlen,
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
    session_unref(s);
    return rc;
}

int sess_revert_end(sess_mgr *m, const char *id, uint64_t message_id, int apply,
                    Comfyd__V1__CanvasRestore **restored, size_t n_restored, sess_info *out,
                    uint32_t *hidden, char *err, size_t errlen)
{
    *hidden = 0;
    if (out) memset(out, 0, sizeof *out);
    session *s = acquire(m, id);
    if (!s) {
        seterr(err, errlen, "session %s not found", id);
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
            seterr(err, errlen, "message %llu is no longer a visible message of session %s",
                   (unsigned long long)message_id, id);
        } else if (src != STORE_OK) {
            rc = store_io_err(src);
            seterr(err, errlen, "cannot store the revert: %s", store_strerror(src));
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
        publish_locked(s, &ev);
    }
    s->compacting = 0;
    s->revert_through = 0;
    if (s->qhead) start_runner_locked(s); /* messages sent meanwhile */
    if (out) info_fill_locked(s, out);
    pthread_mutex_unlock(&s->mu);
    store_session_clear(&meta);
    session_unref(s);
    if (rc == SESS_OK && apply) {
        *hidden = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
        LOG_I(MOD, "session %s reverted to message %llu (%zu hidden)", id,
              (unsigned long long)message_id, n);
    }
    return rc;
}

int sess_checkpoints(sess_mgr *m, const char *id, store_checkpoint **out, size_t *n, char *err,
                     size_t errlen)
{
    int rc = store_checkpoints_list(m->st, id, 0, out, n);
    if (rc == STORE_OK) return SESS_OK;
    seterr(err, errlen, "cannot read the checkpoints: %s", store_strerror(rc));
    return store_to_sess(rc) == SESS_NOT_FOUND ? SESS_EIO : store_io_err(rc);
}

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
    cancel_impl(m, session_id, clear_queue, 0, &cancelled, &dropped, err, sizeof err);
    if (cancelled || dropped)
        LOG_I(MOD, "session %s: cancel from another core (%s, %u queued dropped)", session_id,
              cancelled ? "turn stopped" : "no turn here", dropped);
}

/* A session another core made: loaded from the store into the map.
 * Returns it with a reference, or NULL when the store does not have it. */
static session *load_shared(sess_mgr *m, const char *id)
{
    store_session meta = {0};
    if (store_session_get(m->st, id, &meta) != STORE_OK) return NULL;
    session *s = session_new(m, &meta); /* takes the strings */
    if (!s) {
        store_session_clear(&meta);
        return NULL;
    }
    pthread_mutex_lock(&m->mu);
    session *have = map_find_locked(m, id);
    if (have || m->shutting_down) {
        if (have) session_ref(have);
        pthread_mutex_unlock(&m->mu);
        session_unref(s);
        return have;
    }
    map_insert_locked(m, s); /* the map's reference */
    session_ref(s);
    pthread_mutex_unlock(&m->mu);
    LOG_D(MOD, "session %s loaded from the shared store", id);
    return s;
}

/* A session deleted through another core: gone here too. */
static void forget_locally(sess_mgr *m, session *s)
{
    pthread_mutex_lock(&m->mu);
    int mapped = map_find_locked(m, s->meta.id) == s;
    if (mapped) map_remove_locked(m, s);
    pthread_mutex_unlock(&m->mu);
    if (!mapped) return;
    pthread_mutex_lock(&s->mu);
    s->deleted = 1;
    if (s->cur) atomic_store(&s->cur->cancel, 1);
    while (s->subs) {
        sub *u = s->subs;
        s->subs = u->next;
        u->ops->end(u->ud, 5 /* NOT_FOUND */, "session deleted");
        sub_drop(u);
    }
    pthread_mutex_unlock(&s->mu);
    session_unref(s); /* the map's reference */
}

/* The database is the truth when several cores share it: the session's
 * configuration and counters as stored (another core may have changed
 * them). This core's event numbers stay its own. STORE_NOT_FOUND: it was
 * deleted (and is forgotten here); another error keeps the copy. */
static int refresh_shared(session *s)
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
static int runner_lease(session *s, pending *p, int *held)
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
        told = 1;
        usleep(SESS_LEASE_WAIT_MS * 1000);
    }
    *held = 1;
    /* Configured through another core meanwhile? */
    if (refresh_shared(s) == STORE_NOT_FOUND) return 0;
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
static void runner_release(session *s, int *held)
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
    session *s = map_find_locked(m, session_id);
    if (s) session_ref(s);
    pthread_mutex_unlock(&m->mu);
    if (!s) {
        comfyd__v1__subscribe_response__free_unpacked(resp, NULL);
        return;
    }
    if (ev->kind_case == COMFYD__V1__SESSION_EVENT__KIND_CONFIG_UPDATED) refresh_shared(s);
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
        publish_ev_locked(s, ev, 1);
        ev->session_id = own;
    }
    pthread_mutex_unlock(&s->mu);
    session_unref(s);
    comfyd__v1__subscribe_response__free_unpacked(resp, NULL);
}

void sess_lease_lost(sess_mgr *m, const char *session_id)
{
    pthread_mutex_lock(&m->mu);
    session *s = map_find_locked(m, session_id);
    if (s) session_ref(s);
    pthread_mutex_unlock(&m->mu);
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    if (s->cur) {
        /* Another core has marked it interrupted: store nothing more. */
        s->cur->interrupted = 1;
        atomic_store(&s->cur->cancel, 1);
    }
    pthread_mutex_unlock(&s->mu);
    session_unref(s);
}

void sess_turn_interrupted(sess_mgr *m, const char *session_id, uint64_t turn_id)
{
    session *s = acquire(m, session_id);
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    if (!s->deleted) {
        publish_error_locked(s, "interrupted",
                             "the core running this turn stopped; the turn was marked interrupted",
                             turn_id, NULL);
        if (!s->cur && !s->starting) {
            s->status = COMFYD__V1__SESSION_STATUS__SESSION_STATUS_IDLE;
            publish_status_locked(s, 0, NULL, "turn interrupted");
        }
    }
    pthread_mutex_unlock(&s->mu);
    session_unref(s);
}

void sess_requeue(sess_mgr *m, const char *session_id, uint64_t msg_id, const char *content)
{
    /* No runner may start once the shutdown has joined them: the message
     * stays QUEUED for a live core. */
    if (shutting_down(m, NULL, 0)) return;
    session *s = acquire(m, session_id);
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    int have = s->deleted || (s->cur && s->cur->msg_id == msg_id) || s->qlen >= SESS_MAX_QUEUED;
    for (pending *q = s->qhead; q && !have; q = q->next)
        have = q->msg_id == msg_id;
    if (!have) {
        pending *p = calloc(1, sizeof *p);
        if (p && (p->content = text_dup(content ? content : ""))) {
            p->msg_id = msg_id;
            enqueue_locked(s, p);
            publish_status_locked(s, s->cur ? s->cur->msg_id : 0, NULL, "message queued");
            start_runner_locked(s);
        } else {
            free(p);
        }
    }
    pthread_mutex_unlock(&s->mu);
    session_unref(s);
}

/* ---- un-revert ------------------------------------------------------------ */

int sess_unrevert(sess_mgr *m, const char *id, sess_info *out, uint32_t *restored, char *err,
                  size_t errlen)
{
    int rc;
    *restored = 0;
    if (out) memset(out, 0, sizeof *out);
    if (shutting_down(m, err, errlen)) return SESS_ESHUTDOWN;
    session *s = find_or_err(m, id, &rc, err, errlen);
    if (!s) return rc;
    pthread_mutex_lock(&s->mu);
    if (s->deleted) {
        rc = SESS_NOT_FOUND;
        seterr(err, errlen, "session %s not found", id);
    } else if (s->cur || s->starting || s->compacting || s->qhead) {
        rc = SESS_EBUSY;
        seterr(err, errlen,
               "session %s is running or has queued a turn; undo the revert when it "
               "is idle",
               id);
    } else {
        s->compacting = 1; /* as a revert: no turn starts meanwhile */
    }
    pthread_mutex_unlock(&s->mu);
    if (rc != SESS_OK) {
        session_unref(s);
        return rc;
    }
    size_t n = 0;
    uint64_t first = 0;
    int why = 0;
    int src = store_session_unrevert(m->st, id, &n, &first, &why);
    if (src == STORE_NOT_FOUND) {
        rc = SESS_EPRECOND;
        seterr(err, errlen, "session %s has no revert to undo", id);
    } else if (src == STORE_CONFLICT) {
        rc = SESS_EPRECOND;
        seterr(err, errlen,
               why == STORE_UNREVERT_COMPACTED
                   ? "the revert cannot be undone: session %s was compacted since, and its "
                     "summary does not hold the hidden messages (fork from an earlier message "
                     "instead)"
                   : "the revert cannot be undone: session %s has new messages since (the "
                     "hidden ones would come back out of order; fork from an earlier message "
                     "instead)",
               id);
    } else if (src != STORE_OK) {
        rc = store_io_err(src);
        seterr(err, errlen, "cannot store the un-revert: %s", store_strerror(src));
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
        publish_locked(s, &ev);
        for (size_t i = 0; i < nr; i++)
            sess_message_pb_release(&msgs[i]);
        free(msgs);
        free(pm);
    }
    s->compacting = 0;
    if (s->qhead) start_runner_locked(s); /* messages sent meanwhile */
    if (out) info_fill_locked(s, out);
    pthread_mutex_unlock(&s->mu);
    store_session_clear(&meta);
    store_messages_free(rows, nr);
    session_unref(s);
    if (rc == SESS_OK) {
        *restored = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
        LOG_I(MOD, "session %s: revert undone (%zu messages back)", id, n);
    }
    return rc;
}

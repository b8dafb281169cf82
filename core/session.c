/* session: the session manager (core/session.h): the in-memory map of
 * sessions and their lifetime, the manager's create/start/shutdown, a
 * session's info, the checks of client input and the list of sessions.
 * The rest of the module is split by concern, each file over the private
 * structs of session_int.h:
 *
 *   session_events.c   events to subscribers, and subscribe with its snapshot;
 *   session_turn.c     turns: the runner thread and the skills' agent loops;
 *   session_context.c  what a turn sends the model, and compaction;
 *   session_request.c  create, get, configure, delete, send, cancel;
 *   session_memory.c   compact, search, remember, export and the memory tools;
 *   session_fork.c     fork and revert;
 *   session_cluster.c  several cores on one database (lease.h). */
#include "session_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxwin.h"
#include "log.h"
#include "providers.h"
#include "text.h"
#include "vision.h"

void sess_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int sess_from_store(int rc)
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
int sess_store_io_err(int rc)
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

session *sess_map_find_locked(sess_mgr *m, const char *id)
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

void sess_map_insert_locked(sess_mgr *m, session *s)
{
    if (m->count + 1 > m->nbuckets) map_grow_locked(m);
    size_t k = hash_id(s->meta.id) % m->nbuckets;
    s->next_in_map = m->buckets[k];
    m->buckets[k] = s;
    m->count++;
}

void sess_map_remove_locked(sess_mgr *m, session *s)
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

void sess_pending_free(pending *p)
{
    if (!p) return;
    free(p->content);
    for (size_t i = 0; i < p->n_skills; i++)
        free(p->skills[i]);
    free(p->skills);
    free(p);
}

void sess_ref(session *s)
{
    atomic_fetch_add(&s->refs, 1);
}

void sess_unref(session *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1) return;
    while (s->qhead) {
        pending *p = s->qhead;
        s->qhead = p->next;
        sess_pending_free(p);
    }
    evring_destroy(s->ring);
    store_session_clear(&s->meta);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

session *sess_new(sess_mgr *m, const store_session *meta)
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

/* Looks a session up and returns it with a reference. */
session *sess_acquire(sess_mgr *m, const char *id)
{
    pthread_mutex_lock(&m->mu);
    session *s = sess_map_find_locked(m, id);
    if (s) sess_ref(s);
    pthread_mutex_unlock(&m->mu);
    if (!s && m->lease) s = sess_load_shared(m, id);
    return s;
}

/* ---- info ----------------------------------------------------------------- */

char *sess_dup_or_empty(const char *s)
{
    return text_dup(s ? s : "");
}

void sess_meta_copy(store_session *dst, const store_session *src)
{
    *dst = *src;
    dst->title = sess_dup_or_empty(src->title);
    dst->provider = sess_dup_or_empty(src->provider);
    dst->model = sess_dup_or_empty(src->model);
    dst->base_url = sess_dup_or_empty(src->base_url);
    dst->system_prompt = sess_dup_or_empty(src->system_prompt);
    dst->skills = src->n_skills ? calloc(src->n_skills, sizeof(char *)) : NULL;
    if (src->n_skills && !dst->skills) abort();
    for (size_t i = 0; i < src->n_skills; i++)
        dst->skills[i] = text_dup(src->skills[i]);
}

void sess_info_fill_locked(session *s, sess_info *out)
{
    memset(out, 0, sizeof *out);
    sess_meta_copy(&out->meta, &s->meta);
    out->status = sess_reported_status_locked(s);
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

int sess_check_text(const char *field, const char *v, size_t max, int allow_empty, char *err,
                    size_t errlen)
{
    size_t n = v ? strlen(v) : 0;
    if (!allow_empty && n == 0) {
        sess_seterr(err, errlen, "%s must not be empty", field);
        return SESS_EINVAL;
    }
    if (n > max) {
        sess_seterr(err, errlen, "%s is too long (%zu bytes, at most %zu)", field, n, max);
        return SESS_EINVAL;
    }
    if (n && !text_utf8_valid(v, n)) {
        sess_seterr(err, errlen, "%s is not valid UTF-8", field);
        return SESS_EINVAL;
    }
    return SESS_OK;
}

int sess_check_session_id(const char *id, char *err, size_t errlen)
{
    if (!id || !*id) {
        sess_seterr(err, errlen, "session_id must not be empty");
        return SESS_EINVAL;
    }
    if (!text_is_uuid(id)) {
        sess_seterr(err, errlen, "session_id is not a valid session id (expected a UUID)");
        return SESS_EINVAL;
    }
    return SESS_OK;
}

int sess_check_skills(sess_mgr *m, char **names, size_t n, char *err, size_t errlen)
{
    if (n > SESS_MAX_SKILLS) {
        sess_seterr(err, errlen, "too many skills (%zu, at most %d)", n, SESS_MAX_SKILLS);
        return SESS_EINVAL;
    }
    skills *reg = sess_mgr_skills(m);
    int rc = SESS_OK;
    for (size_t i = 0; i < n && rc == SESS_OK; i++) {
        if (sess_check_text("skill name", names[i], SKILLS_MAX_NAME, 0, err, errlen) != SESS_OK) {
            rc = SESS_EINVAL;
            break;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(names[i], names[j]) == 0) {
                sess_seterr(err, errlen, "skill '%s' is listed twice", names[i]);
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
                    sess_seterr(err, errlen, "skill '%s' failed to load: %s", names[i], e->message);
                    loaderr = 1;
                    break;
                }
            }
            if (!loaderr) sess_seterr(err, errlen, "unknown skill '%s' (see ListSkills)", names[i]);
            rc = SESS_EINVAL;
        }
    }
    skills_unref(reg);
    return rc;
}

int sess_check_base_url(const char *url, char *err, size_t errlen)
{
    if (sess_check_text("base_url", url, SESS_MAX_URL, 1, err, errlen) != SESS_OK)
        return SESS_EINVAL;
    if (url && *url && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        sess_seterr(err, errlen, "base_url must start with http:// or https://");
        return SESS_EINVAL;
    }
    return SESS_OK;
}

int sess_check_provider(const char *name, char *err, size_t errlen)
{
    if (sess_check_text("provider", name, SESS_MAX_SHORT, 1, err, errlen) != SESS_OK)
        return SESS_EINVAL;
    if (name && *name && !provider_find(name)) {
        sess_seterr(err, errlen, "unknown provider '%s' (known: %s)", name, provider_names());
        return SESS_EINVAL;
    }
    return SESS_OK;
}

int sess_check_vision(const char *v, char *err, size_t errlen)
{
    if (vision_mode_parse(v) < 0) {
        (void)v;
        sess_seterr(err, errlen, "vision must be \"auto\", \"on\" or \"off\"");
        return SESS_EINVAL;
    }
    return SESS_OK;
}

int sess_check_window(uint32_t w, char *err, size_t errlen)
{
    if (w == 0 || (w >= CTX_MIN_WINDOW && w <= CTX_MAX_WINDOW)) return SESS_OK;
    sess_seterr(err, errlen, "context_window must be 0 (the default) or %d..%d tokens",
                CTX_MIN_WINDOW, CTX_MAX_WINDOW);
    return SESS_EINVAL;
}

uint32_t sess_window(sess_mgr *m, const store_session *meta)
{
    if (meta->context_window) return meta->context_window;
    if (m->default_window) return m->default_window;
    return ctx_default_window(meta->provider, meta->model, meta->base_url);
}

int sess_check_delay(uint32_t ms, char *err, size_t errlen)
{
    if (ms > SESS_MAX_TOKEN_DELAY_MS) {
        sess_seterr(err, errlen, "token_delay_ms is too large (%u, at most %d)", ms,
                    SESS_MAX_TOKEN_DELAY_MS);
        return SESS_EINVAL;
    }
    return SESS_OK;
}

/* ---- manager -------------------------------------------------------------- */

void sess_enqueue_locked(session *s, pending *p)
{
    if (s->qtail)
        s->qtail->next = p;
    else
        s->qhead = p;
    s->qtail = p;
    s->qlen++;
}

int sess_mgr_create(sess_mgr **out, const sess_mgr_opts *opts)
{
    sess_mgr *m = calloc(1, sizeof *m);
    if (!m) return SESS_ENOMEM;
    m->st = opts->st;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->runners_cv, NULL);
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
        session *s = sess_new(m, &all[i]);
        if (!s) {
            for (size_t j = i; j < n; j++)
                store_session_clear(&all[j]);
            free(all);
            sess_mgr_destroy(m);
            return SESS_ENOMEM;
        }
        sess_map_insert_locked(m, s);
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
        session *s = sess_map_find_locked(m, queued[i].session_id);
        if (!s) continue;
        pending *p = calloc(1, sizeof *p);
        if (!p) break;
        p->msg_id = queued[i].id;
        p->content = text_dup(queued[i].content);
        pthread_mutex_lock(&s->mu);
        sess_enqueue_locked(s, p);
        sess_start_runner_locked(s);
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
                sess_ref(s);
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
        if (list[i]->qhead) sess_start_runner_locked(list[i]);
        pthread_mutex_unlock(&list[i]->mu);
        sess_unref(list[i]);
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
            sess_sub_drop(u);
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
        sess_unref(s);
    }
    free(list);
    /* The runners of sessions deleted meanwhile were not in the list; they
     * were cancelled when deleted and use m until they end. */
    pthread_mutex_lock(&m->mu);
    while (m->runners > 0)
        pthread_cond_wait(&m->runners_cv, &m->mu);
    pthread_mutex_unlock(&m->mu);
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
                sess_unref(s);
                s = next;
            }
        }
    }
    free(m->buckets);
    skills_unref(m->skills);
    free(m->tools);
    pthread_cond_destroy(&m->runners_cv);
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

void sess_mgr_set_turn_end(sess_mgr *m, sess_turn_end_fn fn, void *ud)
{
    pthread_mutex_lock(&m->mu);
    m->turn_end = fn;
    m->turn_end_ud = ud;
    pthread_mutex_unlock(&m->mu);
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
            sess_seterr(err, errlen, "page_token is not a token returned by ListSessions");
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
        sess_seterr(err, errlen, "cannot list sessions: %s", store_strerror(rc));
        return sess_store_io_err(rc);
    }
    size_t k = nr > page_size ? page_size : nr;
    sess_info *list = calloc(k ? k : 1, sizeof *list);
    if (!list) {
        store_sessions_free(rows, nr);
        return SESS_ENOMEM;
    }
    for (size_t i = 0; i < k; i++) {
        session *s = sess_acquire(m, rows[i].id);
        if (s) {
            pthread_mutex_lock(&s->mu);
            sess_info_fill_locked(s, &list[i]);
            pthread_mutex_unlock(&s->mu);
            sess_unref(s);
        } else {
            sess_meta_copy(&list[i].meta, &rows[i]);
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
    return sess_from_store(rc);
}

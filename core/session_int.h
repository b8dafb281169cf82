/* session_int: what the files of the session module share and nothing
 * else links: the session and manager structs, the turn state, the context
 * types a turn and a compaction both use, and the helpers one file defines
 * and another calls. core/session.h stays the module's API; session.c's
 * top comment lists which file holds what. */
#ifndef COMFYD_SESSION_INT_H
#define COMFYD_SESSION_INT_H

#include "session.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "blobstore.h"
#include "evring.h"
#include "provider.h"
#include "text.h"

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
    int preview_policy; /* the skill's preview policy (preview_policy.h) */
    text_buf reply;     /* reply so far */
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
    embedder *emb; /* borrowed; NULL: search by words alone */
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
    sess_turn_end_fn turn_end; /* sess_mgr_set_turn_end */
    void *turn_end_ud;
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
    sess_offer_fn offer; /* a turn waiting for another core's lease: offered to it */
    /* Runner threads alive (guarded by mu): a deleted session's runner is
     * detached and finishes on its own, so the shutdown waits for this count
     * rather than joining only the runners of the sessions it still maps. */
    size_t runners;
    pthread_cond_t runners_cv;
};

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

/* The memory tools every turn offers (session_memory.c). */
#define SESS_N_MEMORY_TOOLS 2
extern const agent_tool sess_memory_tool_defs[SESS_N_MEMORY_TOOLS];

/* ---- session.c ---- */

/* Formats a message into err (NULL or errlen 0: nothing). */
void sess_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A store_* code as the SESS_* code a caller gets. */
int sess_from_store(int rc);
/* A failed read or write: SESS_EUNAVAIL when the database is away or taken over, else SESS_EIO. */
int sess_store_io_err(int rc);
/* The session with this id in the map, or NULL; m->mu held. */
session *sess_map_find_locked(sess_mgr *m, const char *id);
/* Adds s to the map (the map holds a reference); m->mu held. */
void sess_map_insert_locked(sess_mgr *m, session *s);
/* Takes s out of the map; m->mu held. */
void sess_map_remove_locked(sess_mgr *m, session *s);
/* Frees a queued message and everything it owns. */
void sess_pending_free(pending *p);
/* Takes a reference on s. */
void sess_ref(session *s);
/* Drops a reference; the last one frees s. */
void sess_unref(session *s);
/* A new in-memory session for meta (copied), one reference, or NULL. */
session *sess_new(sess_mgr *m, const store_session *meta);
/* The session with this id with a reference taken (loaded from the store when another core made
 * it), or NULL. */
session *sess_acquire(sess_mgr *m, const char *id);
/* A copy of s, "" for NULL; NULL only when out of memory. */
char *sess_dup_or_empty(const char *s);
/* Deep copy of a store_session into dst (dst owns its strings). */
void sess_meta_copy(store_session *dst, const store_session *src);
/* Fills out with the session as a client sees it; s->mu held. */
void sess_info_fill_locked(session *s, sess_info *out);
/* Checks a text field: UTF-8, at most max bytes, empty only if allowed. */
int sess_check_text(const char *field, const char *v, size_t max, int allow_empty, char *err,
                    size_t errlen);
/* Checks a session id (a UUID). */
int sess_check_session_id(const char *id, char *err, size_t errlen);
/* Checks that every name is a known skill, none twice. */
int sess_check_skills(sess_mgr *m, char **names, size_t n, char *err, size_t errlen);
/* Checks a provider base URL (http or https). */
int sess_check_base_url(const char *url, char *err, size_t errlen);
/* Checks a provider name against the known providers. */
int sess_check_provider(const char *name, char *err, size_t errlen);
/* Checks a vision setting (auto, on, off). */
int sess_check_vision(const char *v, char *err, size_t errlen);
/* Checks a context window setting. */
int sess_check_window(uint32_t w, char *err, size_t errlen);
/* Checks a token delay setting. */
int sess_check_delay(uint32_t ms, char *err, size_t errlen);
/* Appends p to the session's queue; s->mu held. */
void sess_enqueue_locked(session *s, pending *p);

/* ---- session_events.c ---- */

/* Tells a subscriber it is dropped and frees it. */
void sess_sub_drop(sub *u);
/* Numbers, stores in the ring and sends an event to subscribers and the other cores; s->mu held. */
void sess_publish_locked(session *s, Comfyd__V1__SessionEvent *ev);
/* As sess_publish_locked; remote: the event came from another core (not sent back); s->mu held. */
void sess_publish_ev_locked(session *s, Comfyd__V1__SessionEvent *ev, int remote);
/* The status a client sees; s->mu held. */
Comfyd__V1__SessionStatus sess_reported_status_locked(const session *s);
/* Publishes the session's status; s->mu held. */
void sess_publish_status_locked(session *s, uint64_t turn_id, const char *skill,
                                const char *detail);
/* Publishes a log event (and logs it); s->mu held. */
void sess_publish_log_locked(session *s, int level, uint64_t turn_id, const char *skill,
                             const char *module, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Publishes a stored message, with its attachments when load_atts; s->mu held. */
void sess_publish_message_atts_locked(session *s, const store_message *m, int load_atts);
/* Publishes a stored message; s->mu held. */
void sess_publish_message_locked(session *s, const store_message *m);
/* Publishes an error event; s->mu held. */
void sess_publish_error_locked(session *s, const char *code, const char *message, uint64_t turn_id,
                               const char *skill);

/* ---- session_context.c ---- */

/* Frees what a hist owns. */
void sess_hist_clear(hist *h);
/* Loads the sendable history of sid before before_id (0: all). */
int sess_hist_load(sess_mgr *m, const char *sid, uint64_t before_id, hist *h);
/* A stored role's name as the model and the export see it. */
const char *sess_role_name(store_role r);
/* Summarises the oldest part of h by the model until it fits allowance; the messages covered, or -1
 * with err. */
long sess_compact_hist(session *s, const prov_cfg *pc, hist *h, uint64_t allowance, size_t keep_max,
                       uint32_t ratio, const atomic_int *cancel, uint64_t prompt_budget, char *err,
                       size_t errlen);
/* The estimated tokens of h, scaled by ratio (per mille). */
uint64_t sess_hist_tokens(const hist *h, uint32_t ratio);
/* Frees n strings and the array. */
void sess_free_strv(char **v, size_t n);
/* Frees what a turn_att owns. */
void sess_turn_att_clear(turn_att *ta);
/* Loads the attachments of message msg_id into ta for a turn. */
void sess_turn_attachments(sess_mgr *m, uint64_t msg_id, const char *user_text, int vision,
                           turn_att *ta);

/* ---- session_turn.c ---- */

/* Starts the session's runner when it has work and none runs; s->mu held. */
void sess_start_runner_locked(session *s);
/* A session leaving the map (deleted): its runner, if any, ends by itself
 * and is not joined. Called with s->mu held. */
void sess_detach_runner_locked(session *s);

/* ---- session_request.c ---- */

/* SESS_EUNAVAIL with err when the manager is shutting down, else 0. */
int sess_shutting_down(sess_mgr *m, char *err, size_t errlen);
/* The session with this id with a reference, or NULL with *rc and err. */
session *sess_find_or_err(sess_mgr *m, const char *id, int *rc, char *err, size_t errlen);
/* Cancel; forward: also tell the other cores. */
int sess_cancel_impl(sess_mgr *m, const char *id, int clear_queue, int forward, int *cancelled,
                     uint32_t *dropped, char *err, size_t errlen);

/* ---- session_memory.c ---- */

/* ---- session_cluster.c ---- */

/* Loads a session another core made into the map, with a reference, or NULL. */
session *sess_load_shared(sess_mgr *m, const char *id);
/* Rereads the session's row when another core may have changed it. */
int sess_refresh_shared(session *s);
/* Takes or keeps the session's lease for p's turn (several cores); 0: go on. */
int sess_runner_lease(session *s, pending *p, int *held);
/* Gives the lease back when the runner stops. */
void sess_runner_release(session *s, int *held);

#endif

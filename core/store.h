/* store: durable state: sessions, their configuration and history, and the
 * graph service's revision counter and idempotency keys, in one of two
 * engines behind the same calls (store_backend.h): SQLite (WAL, the
 * embedded default, store_sqlite.c) or PostgreSQL (libpq, store_pg.c).
 * Each handle holds one connection guarded by a mutex; every function is
 * thread-safe. A function that returns STORE_OK has committed its write
 * (SQLite: synchronous=FULL; PostgreSQL: synchronous_commit=on), so
 * acknowledged data survives kill -9 and power loss.
 *
 * Strings in and out are NUL-terminated UTF-8. Structs returned through out
 * parameters own their strings; free them with the matching *_clear.
 *
 * Errors common to every call: STORE_EINVAL (a bad argument: NULL handle,
 * id longer than STORE_ID_MAX, text over its limit or not UTF-8, enum out
 * of range; nothing was changed, fix the caller), STORE_EIO (disk full, I/O
 * error, database locked by another process beyond the busy timeout, or a
 * malformed row; nothing was changed, the call may be retried) and
 * STORE_ENOMEM; on PostgreSQL also STORE_EUNAVAIL (the server cannot be
 * reached or went away; nothing was committed unless the commit itself was
 * cut off, the next call reconnects). No call leaves a partial write behind.
 *
 * A store handle must not be used across fork(): a child opens its own. */
#ifndef COMFYD_STORE_H
#define COMFYD_STORE_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

/* Named limits (each with its reason). */
#define STORE_ID_MAX 39                   /* a session id fits store_session.id; UUIDs are 36 */
#define STORE_TEXT_MAX (16 * 1024 * 1024) /* per text field; far above any reply we keep */
#define STORE_SKILLS_MAX 512       /* active skills per session: no more than a registry holds */
#define STORE_API_KEY_MAX 4096     /* real keys are < 300 bytes; bounds a secret held in memory */
#define STORE_BUSY_TIMEOUT_MS 5000 /* waiting on another process (e.g. a backup) */
#define STORE_VISION_MAX 2         /* store_session.vision: 0 auto, 1 on, 2 off */

typedef enum {
    STORE_OK = CFD_OK,
    STORE_NOT_FOUND = CFD_ERR_STORE_NOT_FOUND,
    /* A unique key already exists (e.g. a client_message_id). */
    STORE_CONFLICT = CFD_ERR_STORE_CONFLICT,
    STORE_EIO = CFD_ERR_STORE_IO,
    STORE_ENOMEM = CFD_ERR_NOMEM,
    /* The database file is not ours or is from a newer schema. */
    STORE_ESCHEMA = CFD_ERR_STORE_SCHEMA,
    STORE_EINVAL = CFD_ERR_INVALID,
    /* The database server is unreachable (PostgreSQL); retry later. */
    STORE_EUNAVAIL = CFD_ERR_STORE_UNAVAIL,
    /* Kept for callers' switches: no engine returns it since several
     * cores may share a PostgreSQL database (lease.h, docs/scale-out.md). */
    STORE_EBUSY = CFD_ERR_STORE_BUSY,
} store_err;

/* cfd_strerror(err): kept for store's many callers. */
const char *store_strerror(int err);

/* Values of store_message.role and .state mirror comfyd.v1.Role and
 * comfyd.v1.MessageState. */
typedef enum { STORE_ROLE_USER = 1, STORE_ROLE_ASSISTANT = 2, STORE_ROLE_SYSTEM = 3 } store_role;
typedef enum {
    STORE_MSG_QUEUED = 1,
    STORE_MSG_RUNNING = 2,
    STORE_MSG_DONE = 3,
    STORE_MSG_CANCELLED = 4,
    STORE_MSG_FAILED = 5,
    STORE_MSG_INTERRUPTED = 6,
} store_msg_state;

/* On input a NULL string means empty. On output every string is non-NULL
 * (empty when unset) and owned by the struct. */
typedef struct store_session {
    char id[40]; /* 1..STORE_ID_MAX bytes */
    char *title;
    char *provider;
    char *model;
    char *base_url;
    char *system_prompt;
    char **skills; /* active skills, in order; names are non-empty, no '\n' */
    size_t n_skills;
    uint32_t token_delay_ms;
    int vision;      /* 0 auto, 1 on, 2 off (vision.h); 0..STORE_VISION_MAX */
    int api_key_set; /* output only; the key itself is never read back here */
    int64_t created_ms;
    int64_t updated_ms;
    /* Highest event sequence number that may have been handed out; a
     * restarted service continues above it so numbers are never reused.
     * This and the token counters are at most INT64_MAX. */
    uint64_t seq_reserved;
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
    uint32_t message_count; /* output only */
    /* Context window in tokens for this session's model; 0: the default
     * for its provider and model (see ctxwin.h). */
    uint32_t context_window;
    int archived;          /* 1: hidden from the default session list */
    uint64_t compacted_to; /* output only: newest message id a summary replaces (0: none) */
    /* Output only: the session this one was forked from ("" when none, also
     * once that session is deleted the id stays as a record) and the
     * message of it the fork was made at. */
    char parent_id[40];
    uint64_t fork_point;
} store_session;

/* What a message is: an entry of the conversation, or a summary that
 * stands for the earlier messages up to covers_to (which stay stored). */
typedef enum { STORE_KIND_MESSAGE = 0, STORE_KIND_SUMMARY = 1 } store_msg_kind;

typedef struct store_message {
    uint64_t id; /* assigned by store_message_insert */
    char session_id[40];
    store_role role;
    char *skill;   /* may be NULL */
    char *content; /* never NULL */
    store_msg_state state;
    char *error;      /* may be NULL */
    uint64_t turn_id; /* user messages: their own id */
    int64_t created_ms;
    char *client_id; /* user messages: client_message_id, may be NULL */
    store_msg_kind kind;
    uint64_t covers_to;  /* summaries: the newest message id they replace */
    int64_t reverted_ms; /* output only: when a revert hid it (0: visible) */
} store_message;

typedef struct store store;

/* A spec's prefix for the SQLite engine; a spec with no known prefix is a
 * SQLite file name too. */
#define STORE_SPEC_SQLITE "sqlite:"

/* Opens the store a spec names:
 * - "sqlite:PATH" or a plain PATH: opens or creates the SQLite database at
 *   PATH (created with mode 0600 since it holds API keys), creating or
 *   upgrading the schema in one transaction and enabling WAL,
 *   synchronous=FULL and foreign keys;
 * - "postgres://..." or "postgresql://...": a libpq connection URI; the
 *   schema is created or upgraded under an advisory lock, so that several
 *   cores starting at once apply each migration exactly once.
 * Returns STORE_OK with *out owned by the caller (store_close), or
 * STORE_ESCHEMA (not a SQLite file, another application's database, or a
 * newer schema; the database is left untouched), STORE_EIO (cannot open or
 * create), STORE_EUNAVAIL (the PostgreSQL server cannot be reached),
 * STORE_EINVAL, STORE_ENOMEM. Several cores may open one PostgreSQL
 * database; who runs which turn is lease.h's. */
int store_open(store **out, const char *spec);
/* The engine's name, "sqlite" or "postgres" ("none" for NULL). */
const char *store_engine(const store *st);
/* Closes the connection and frees the handle. NULL is a no-op. */
void store_close(store *st);

/* Free the strings a struct owns and zero it; NULL is a no-op. */
void store_session_clear(store_session *s);
void store_message_clear(store_message *m);
/* Clear every element and free the array itself. */
void store_messages_free(store_message *list, size_t n);
void store_sessions_free(store_session *list, size_t n);

/* Inserts a new session (s->id set by the caller; api_key_set and
 * message_count are ignored). api_key may be NULL.
 * STORE_CONFLICT when the id exists. */
int store_session_insert(store *st, const store_session *s, const char *api_key);
/* Rewrites title, provider, model, base_url, system_prompt, skills,
 * token_delay_ms, vision and updated_ms. STORE_NOT_FOUND when absent. */
int store_session_update(store *st, const store_session *s);
/* Sets (or with NULL/"" removes) the write-only API key.
 * STORE_NOT_FOUND when the session is absent. */
int store_session_set_api_key(store *st, const char *id, const char *api_key);
/* Reads the key for a provider call; *out is NULL when none is set.
 * Caller frees *out (and should wipe it). STORE_NOT_FOUND when the
 * session is absent. */
int store_session_get_api_key(store *st, const char *id, char **out);
/* Fills *out (overwritten, so clear it first if it holds data; left empty
 * on error), including message_count. STORE_NOT_FOUND when absent. */
int store_session_get(store *st, const char *id, store_session *out);
/* All sessions (ordered as store_session_page), for loading at start.
 * *out is owned by the caller (store_sessions_free); NULL when *n is 0. */
int store_session_list_all(store *st, store_session **out, size_t *n);
/* Sessions ordered by updated_ms DESC, id DESC, starting strictly after
 * the cursor (after_updated_ms, after_id) when after_id is non-NULL; at
 * most limit of them. *out as for store_session_list_all. */
int store_session_page(store *st, int64_t after_updated_ms, const char *after_id, size_t limit,
                       store_session **out, size_t *n);
/* Deletes the session and its messages. STORE_NOT_FOUND when absent. */
int store_session_delete(store *st, const char *id);
/* Sets seq_reserved (at most INT64_MAX). STORE_NOT_FOUND when absent. */
int store_session_set_seq_reserved(store *st, const char *id, uint64_t seq_reserved);
/* Adds to the token counters (each argument at most INT64_MAX; the sums
 * saturate at INT64_MAX). STORE_NOT_FOUND when absent. */
int store_session_add_usage(store *st, const char *id, uint64_t prompt, uint64_t completion);

/* Inserts m (m->id and, for user messages with turn_id 0, m->turn_id are
 * assigned and written back; created_ms 0 is set to now and written back).
 * A message with a client_id that already exists in the session gives
 * STORE_CONFLICT with nothing inserted. Also raises the session's
 * updated_ms to m->created_ms. STORE_NOT_FOUND when the session is absent. */
int store_message_insert(store *st, store_message *m);
/* Changes state (and content/error when non-NULL). STORE_NOT_FOUND when no
 * message has that id. */
int store_message_finish(store *st, uint64_t id, store_msg_state state, const char *content,
                         const char *error);
/* The end of a turn with one durable commit: inserts the replies (as
 * store_message_insert, each id, turn_id and created_ms written back once
 * committed), then, when user_state is not 0, sets the user message user_id
 * to that state, and adds prompt/completion to the session's token counters
 * (as store_session_add_usage). One transaction on SQLite and PostgreSQL:
 * all or nothing (an engine without turn_end writes the steps in that order
 * and stops at the first failure). At most STORE_TURN_END_MAX replies, each
 * of session_id. */
#define STORE_TURN_END_MAX 64
int store_turn_end(store *st, const char *session_id, store_message *replies, size_t n,
                   uint64_t user_id, store_msg_state user_state, uint64_t prompt,
                   uint64_t completion);
/* Fills *out (as store_session_get) with the session's message whose
 * client_id matches. STORE_NOT_FOUND when none. */
int store_message_find_client_id(store *st, const char *session_id, const char *client_id,
                                 store_message *out);
/* The newest `limit` messages of a session, returned oldest first;
 * *truncated tells whether older ones exist. An unknown session gives no
 * messages. *out is owned by the caller (store_messages_free); NULL when
 * *n is 0. */
int store_messages_load(store *st, const char *session_id, size_t limit, store_message **out,
                        size_t *n, int *truncated);
/* At start: marks every RUNNING message INTERRUPTED with the given error
 * text (may be NULL). A user turn may have had side effects, so it is not
 * rerun; a partial assistant reply has no writer left. QUEUED messages are
 * left alone. Returns the number changed through *changed. */
int store_recover_interrupted(store *st, const char *error, size_t *changed);
/* Every QUEUED user message of every session, ordered by id: acknowledged
 * turns that had not started before a stop, to be queued again. *out as
 * for store_messages_load. */
int store_messages_queued(store *st, store_message **out, size_t *n);

/* ---- attachments of user messages ----
 *
 * References into the blob store (blobstore.h), in the message's order.
 * On input the strings are borrowed; on output owned (free the array with
 * store_attachments_free). */
#define STORE_ATTACH_MAX 8        /* per message; BLOB_MAX_PER_MESSAGE */
#define STORE_ATTACH_NAME_MAX 255 /* bytes of a file name */
typedef struct store_attachment {
    char sha256[65]; /* lower-case hex */
    char mime[32];
    char *name; /* may be NULL on input; never NULL on output */
    uint64_t size;
    uint32_t width, height;
} store_attachment;
/* store_message_insert, with the message's attachments written in the same
 * transaction (all or nothing). */
int store_message_insert_with(store *st, store_message *m, const store_attachment *atts,
                              size_t n_atts);
/* The attachments of a message, in order (none: *n 0, *out NULL). */
int store_attachments_load(store *st, uint64_t message_id, store_attachment **out, size_t *n);
void store_attachments_free(store_attachment *list, size_t n);
/* Every hash some message refers to (for the blob store's GC); *out is a
 * malloc'd array of malloc'd strings. */
int store_attachment_hashes(store *st, char ***out, size_t *n);
/* ---- memory: compaction, long-term memories, search ----
 *
 * Every message, summary and memory is indexed by the database itself
 * (SQLite: FTS5 and BM25, kept by triggers; PostgreSQL: GIN full-text
 * indexes and ts_rank), so a delete (a session's cascade too) removes its
 * index entries in the same transaction. */

/* The newest summary of a session. STORE_NOT_FOUND when it has none. */
int store_summary_latest(store *st, const char *session_id, store_message *out);
/* The newest `limit` messages of a session with an id above after_id,
 * oldest first; *truncated tells whether more (older) ones exist. As
 * store_messages_load otherwise. */
int store_messages_after(store *st, const char *session_id, uint64_t after_id, size_t limit,
                         store_message **out, size_t *n, int *truncated);

#define STORE_MEMORY_MAX (16 * 1024) /* bytes of one memory: a fact, not a document */
/* Stores a memory: for a session (session_id) or global (session_id NULL).
 * *id (may be NULL) receives its id. STORE_NOT_FOUND when the session is
 * absent. */
int store_memory_add(store *st, const char *session_id, const char *content, uint64_t *id);

/* Kinds of indexed entries; a search takes a mask of (1 << kind). */
typedef enum {
    STORE_HIT_MESSAGE = 0,
    STORE_HIT_SUMMARY = 1,
    STORE_HIT_MEMORY = 2,
} store_hit_kind;
#define STORE_HIT_ALL 7u
#define STORE_SEARCH_MAX 200 /* results of one search */
/* Only this many newest matches are ranked (BM25 reads a row per scored
 * match): a word in a fifth of 100,000 messages still answers in a few
 * milliseconds, and the best hits among the newest 1,000 matches are what
 * a person looks for in their conversations. */
#define STORE_SEARCH_RANK_WINDOW 1000

typedef struct store_hit {
    store_hit_kind kind;
    uint64_t id;         /* message id or memory id */
    char session_id[40]; /* "" for a global memory */
    char *session_title; /* never NULL */
    char *snippet;       /* matched terms in [brackets], never NULL */
    char *text;          /* memories: the whole text; NULL otherwise */
    double score;        /* lower is better (SQLite BM25; PostgreSQL -ts_rank) */
    int64_t created_ms;
    int role; /* messages: store_role; 0 otherwise */
} store_hit;
void store_hits_free(store_hit *list, size_t n);

/* Searches with an FTS5 MATCH expression (built by ftsq.h from a user's
 * query; never raw user text), best first, at most limit
 * (<= STORE_SEARCH_MAX) hits of the kinds in kind_mask, only within
 * session_id when it is non-NULL. STORE_EINVAL also when FTS5 rejects the
 * expression (PostgreSQL translates the expressions ftsq.h writes into a
 * tsquery and refuses any other FTS5 syntax). */
int store_search(store *st, const char *match, const char *session_id, unsigned kind_mask,
                 size_t limit, store_hit **out, size_t *n);

/* ---- fork, revert and canvas checkpoints ----
 *
 * A revert hides the messages after a point: they stay stored (with the
 * time of the revert in reverted_ms) but every other call of this header
 * leaves them out (history, counts, summaries, search, queued turns). */

/* One message by id, whatever its session, hidden or not (reverted_ms
 * tells). STORE_NOT_FOUND when no message has that id. */
int store_message_get(store *st, uint64_t id, store_message *out);

/* Forks src_id at upto_id in one transaction: a new session dst->id
 * (dst->title, created_ms and updated_ms from dst; provider, model,
 * base_url, system prompt, API key, skills, delay, vision and context
 * window from src; parent_id src_id, fork_point upto_id) with copies of
 * src's visible messages up to and including upto_id (new ids, turn ids
 * and covers_to mapped to the copies; a QUEUED or RUNNING one is copied
 * as INTERRUPTED, since its turn belongs to the source), their
 * attachments, and src's session memories. *copied (may be NULL) gets the
 * number of messages copied. STORE_NOT_FOUND when src_id is absent or
 * upto_id is not a visible message of it; STORE_CONFLICT when dst->id
 * exists. */
int store_session_fork(store *st, const char *src_id, uint64_t upto_id, const store_session *dst,
                       size_t *copied);
/* Hides the session's visible messages with an id above to_id and, when
 * through_id is not 0, at most through_id (messages stored after the
 * caller looked stay: a revert never hides a message sent meanwhile), with
 * reverted_ms = now_ms. *hidden (may be NULL) gets their number.
 * STORE_NOT_FOUND when the session is absent or to_id is not a visible
 * message of it. */
int store_session_revert(store *st, const char *id, uint64_t to_id, uint64_t through_id,
                         int64_t now_ms, size_t *hidden);

/* A canvas checkpoint: the workflow of canvas_id before the first change a
 * turn (message_id, the user message) made to it, with the revision it had
 * then and the revision after the turn's latest change. Bounded per
 * session: the oldest go first beyond either limit. */
#define STORE_CKPT_MAX 64                      /* checkpoints per session */
#define STORE_CKPT_BYTES (64u << 20)           /* bytes of workflows per session */
#define STORE_CKPT_WORKFLOW_MAX STORE_TEXT_MAX /* one workflow; a larger one is not kept */
#define STORE_CKPT_CANVAS_MAX 128              /* CANVAS_MAX_ID */
typedef struct store_checkpoint {
    uint64_t id; /* assigned by store_checkpoint_put */
    char session_id[40];
    uint64_t message_id;
    char *canvas_id;
    uint64_t rev_before;
    uint64_t rev_after;
    char *workflow; /* NULL in a list without workflows */
    uint64_t bytes; /* of the workflow */
    int64_t created_ms;
} store_checkpoint;
/* Stores a checkpoint, or, when the session already has one for this
 * message and canvas, only raises its rev_after (the workflow before the
 * turn's first change stays); then drops the session's oldest beyond
 * STORE_CKPT_MAX and STORE_CKPT_BYTES. STORE_NOT_FOUND when the session
 * is absent. */
int store_checkpoint_put(store *st, const store_checkpoint *c);
/* The session's checkpoints whose message is visible, oldest turn first;
 * with_workflow 0 leaves workflow NULL. *out as for store_messages_load
 * (free with store_checkpoints_free). */
int store_checkpoints_list(store *st, const char *session_id, int with_workflow,
                           store_checkpoint **out, size_t *n);
void store_checkpoint_clear(store_checkpoint *c);
void store_checkpoints_free(store_checkpoint *list, size_t n);

/* Undoes the session's latest revert: the messages it hid (those with the
 * largest reverted_ms) are visible again, back in the search index.
 * *restored (may be NULL) gets their number and *first (may be NULL) the
 * oldest one's id: every visible message from it on is one of them.
 * STORE_NOT_FOUND when the
 * session is absent or hides nothing; STORE_CONFLICT when a visible
 * message newer than the first of them exists (a revert's messages come
 * back only where they were): *why (may be NULL) is
 * STORE_UNREVERT_COMPACTED when one is a summary (compacted since),
 * STORE_UNREVERT_NEWER otherwise. */
#define STORE_UNREVERT_COMPACTED 1
#define STORE_UNREVERT_NEWER 2
int store_session_unrevert(store *st, const char *id, size_t *restored, uint64_t *first, int *why);

/* ---- embeddings: the vectors behind hybrid search ----
 *
 * Every indexed entry (a message or summary: entry = id * 2; a memory:
 * id * 2 + 1, the search index's rowids) may have one vector, float32,
 * with the name of the model that made it. The database keeps the queue
 * of entries waiting for one (embed_queue, filled by triggers on every
 * insert and content change, so a crash loses nothing); the embedder
 * (embedder.h) drains it in small batches. A delete removes an entry's
 * vector and queue row in the same transaction. */
#define STORE_EMBED_MODEL_MAX 256
#define STORE_EMBED_DIM_MAX 8192
#define STORE_EMBED_TEXT_MAX (8 * 1024) /* bytes of an entry sent to be embedded */

typedef struct store_embed_job {
    uint64_t entry;
    char *text; /* at most STORE_EMBED_TEXT_MAX bytes, cut at a UTF-8 boundary */
    uint32_t attempts;
} store_embed_job;
void store_embed_jobs_free(store_embed_job *list, size_t n);

/* Up to limit queued entries due at now_ms (never tried, or their retry
 * time passed), newest first. Entries whose row is gone are dropped from
 * the queue. *out as for store_messages_load. */
int store_embed_next(store *st, int64_t now_ms, size_t limit, store_embed_job **out, size_t *n);
/* Stores entry's vector v[0..dim) made by model and takes it off the
 * queue. STORE_NOT_FOUND (and off the queue) when the entry is gone. */
int store_embed_put(store *st, uint64_t entry, const char *model, const float *v, size_t dim);
/* A failed attempt: the entries stay queued, due again at next_ms. */
int store_embed_retry(store *st, const uint64_t *entries, size_t n, int64_t next_ms);
/* Queues every entry without a vector of this model and dimension (at
 * start, after a change of model). *queued (may be NULL) gets their
 * number. */
int store_embed_requeue(store *st, const char *model, size_t *queued);
/* Calls fn for the vectors of model (dim floats) of the newest `limit`
 * visible entries of the kinds in kind_mask (within session_id when
 * non-NULL, as store_search filters), newest first. v is valid during the
 * call only. */
typedef void (*store_vec_fn)(void *ud, uint64_t entry, const float *v);
int store_embed_scan(store *st, const char *model, size_t dim, const char *session_id,
                     unsigned kind_mask, size_t limit, store_vec_fn fn, void *ud);
/* Calls fn for each of entries[0..n) that has a vector of model and dim. */
int store_embed_get(store *st, const char *model, size_t dim, const uint64_t *entries, size_t n,
                    store_vec_fn fn, void *ud);
/* A hit for an entry found by its vector alone: kind, id, session, title,
 * time, role, text (memories) and a snippet (the start of its text, no
 * brackets: no word matched). STORE_NOT_FOUND when it is gone or hidden. */
int store_hit_get(store *st, uint64_t entry, store_hit *out);

/* ---- the graph service's state ----
 *
 * Named counters: non-negative integers that only ever rise. The canvas
 * manager keeps "canvas_rev_reserved" here: the highest canvas revision it
 * may hand out before writing a higher one, so that revisions continue
 * above every earlier one after a restart or a crash. */

/* *out is the counter's value, 0 when it was never set. */
int store_counter_get(store *st, const char *name, uint64_t *out);
/* Sets the counter to max(its value, value) (value at most INT64_MAX). */
int store_counter_raise(store *st, const char *name, uint64_t value);

/* An idempotency key with the outcome of its first request: scope is the
 * key with its method and canvas (opaque bytes, 1..STORE_IDEM_SCOPE_MAX),
 * req_hash a hash of the request it was first used with, err/code/message
 * the outcome and resp the packed response (may be empty). */
#define STORE_IDEM_SCOPE_MAX 512
#define STORE_IDEM_HASH_LEN 32
typedef struct store_idem {
    char *scope;
    size_t scope_len;
    uint8_t req_hash[STORE_IDEM_HASH_LEN];
    int err;
    int code;
    char *message; /* may be NULL */
    uint8_t *resp; /* may be NULL */
    size_t resp_len;
    int64_t created_ms;
} store_idem;

/* Inserts or replaces the key. */
int store_idem_put(store *st, const store_idem *e);
/* Removes the key (no error when absent). */
int store_idem_delete(store *st, const void *scope, size_t len);
/* At start: deletes keys created before min_created_ms and all but the
 * newest max_keys, then returns the rest, newest first. *out is owned by
 * the caller (store_idems_free); NULL when *n is 0. Rows that are not ours
 * are skipped with a warning. */
int store_idem_load(store *st, int64_t min_created_ms, size_t max_keys, store_idem **out,
                    size_t *n);
/* One key by its scope, for several cores on one database: a key another
 * core stored after this one started (a caller retrying through another
 * core, a tab that moved). STORE_NOT_FOUND when absent or created before
 * min_created_ms; always STORE_NOT_FOUND on SQLite, whose one core has
 * every key in memory. *out is the caller's (store_idem_clear). */
int store_idem_get(store *st, const void *scope, size_t len, int64_t min_created_ms,
                   store_idem *out);
void store_idem_clear(store_idem *e);
void store_idems_free(store_idem *list, size_t n);

#endif

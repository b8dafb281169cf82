/* session: the session manager. Holds every session's state (configuration,
 * status, queued turns, event stream) on top of the store, runs turns (each
 * active skill of a turn concurrently on its own worker thread through the
 * agent loop of agent.h: model calls, tool calls and their results, each
 * published as an event), and fans events out to subscribers.
 *
 * Events: every event of a session gets the next per-session sequence
 * number, is packed once as a comfyd.v1.SubscribeResponse, kept in the
 * session's ring for replay, and pushed to every subscriber. Sequence
 * numbers are reserved in blocks in the store so that a restarted service
 * never reuses a number a client may have seen.
 *
 * Locking: one mutex per session (state, ring, subscribers, and the store
 * writes that must be atomic with their events) and one for the manager's
 * map. Subscriber callbacks are called with the session mutex held and must
 * not call back into this module. All functions are thread-safe. */
#ifndef COMFYD_SESSION_H
#define COMFYD_SESSION_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "blobstore.h"
#include "lease.h"
#include "comfyd/v1/session.pb-c.h"
#include "skills.h"
#include "embedder.h"
#include "store.h"

/* Named limits; each bounds what one caller can make the service hold. */
#define SESS_MAX_TITLE 200           /* bytes; a label, not a document */
#define SESS_AUTO_TITLE 60           /* bytes of a title made from the first message */
#define SESS_MAX_CONTENT (64 * 1024) /* bytes per user message */
#define SESS_MAX_SYSTEM_PROMPT (32 * 1024)
#define SESS_MAX_SHORT 256 /* provider and model names */
#define SESS_MAX_URL 2048
#define SESS_MAX_API_KEY 4096
#define SESS_MAX_SKILLS 16           /* concurrent roles per message */
#define SESS_MAX_QUEUED 64           /* turns waiting per session */
#define SESS_MAX_REPLY (1024 * 1024) /* bytes per skill reply */
#define SESS_MAX_TOKEN_DELAY_MS 10000
#define SESS_NOTICE_MAX 256 /* a one-sentence notice in a configure answer */
#define SESS_MAX_CLIENT_ID 128
#define SESS_HISTORY_LIMIT 500   /* messages in a snapshot or GetSession */
#define SESS_PROVIDER_HISTORY 50 /* earlier messages given to a provider */
#define SESS_RING_EVENTS 4096    /* replay window per session */
#define SESS_RING_BYTES (4 * 1024 * 1024)
#define SESS_SEQ_BLOCK 4096              /* sequence numbers reserved per store write */
#define SESS_MAX_ATTACH_TEXT (32 * 1024) /* bytes of one text attachment given to a model */
#define SESS_IMAGE_MAX_SIDE 1024         /* pixels: a PNG for a model is scaled down to this */
#define SESS_CONTEXT_LOAD 2000           /* uncompacted messages read for a turn's context */
#define SESS_SEARCH_DEFAULT 20           /* hits of a search that asks for no limit */

/* The reply a turn gets when the session has no active skill. */
#define SESS_NO_SKILLS_NOTICE                                                                      \
    "no skill is active in this session, so nothing answered: tick a skill (for example "          \
    "workflow-builder) or set active_skills, then send the message again"

typedef enum {
    SESS_OK = CFD_OK,
    SESS_NOT_FOUND = CFD_ERR_SESS_NOT_FOUND,
    /* A field is invalid; the message names it. */
    SESS_EINVAL = CFD_ERR_INVALID,
    /* A bound was hit (queue full, too many subscribers). */
    SESS_EFULL = CFD_ERR_SESS_FULL,
    SESS_EIO = CFD_ERR_SESS_IO,
    /* The service is shutting down. */
    SESS_ESHUTDOWN = CFD_ERR_SESS_SHUTDOWN,
    /* The session is busy (a turn is running); try again when it is idle. */
    SESS_EBUSY = CFD_ERR_SESS_BUSY,
    SESS_ENOMEM = CFD_ERR_NOMEM,
    /* CreateSession with a session_id that is taken. */
    SESS_EEXIST = CFD_ERR_SESS_EXIST,
    /* The store's database server is unreachable (PostgreSQL); nothing
     * was stored, retry later. */
    SESS_EUNAVAIL = CFD_ERR_SESS_UNAVAIL,
    /* The session is not in a state the call needs (nothing to undo, moved
     * on since); the message says why. */
    SESS_EPRECOND = CFD_ERR_SESS_PRECOND,
} sess_err;

typedef struct sess_mgr sess_mgr;

typedef struct sess_mgr_opts {
    store *st;                 /* borrowed; outlives the manager */
    skills *skills;            /* the manager takes its own reference */
    uint32_t default_delay_ms; /* echo pace when a session sets none */
    size_t ring_events;        /* 0: SESS_RING_EVENTS */
    size_t ring_bytes;         /* 0: SESS_RING_BYTES */
    /* Model server timeouts for every model call (0: the provider's
     * defaults, PROVIDER_OPENAI_CONNECT_TIMEOUT_MS and _IDLE_TIMEOUT_MS). */
    uint32_t llm_connect_timeout_ms;
    uint32_t llm_idle_timeout_ms;
    /* Where attachments are stored (borrowed; NULL: messages with
     * attachments are refused). */
    blobstore *blobs;
    /* Context window for sessions that set none (0: by provider and model,
     * ctx_default_window). */
    uint32_t context_window;
    /* Several cores on one PostgreSQL database (borrowed; NULL: this core
     * alone). Turns then run under the session's lease (lease.h), and the
     * recovery at start is the lease sweeper's, not sess_mgr_create's. */
    lease *lease;
} sess_mgr_opts;

/* Fetches a run's output file for an attachment (runs_output): 0 with
 * *data (malloc'd, caller frees) and *len, or a SESS_* error with err. */
typedef int (*sess_output_fn)(void *ud, const char *prompt_id, const char *node_id, uint32_t index,
                              void **data, size_t *len, char *err, size_t errlen);
/* Sets (fn NULL: removes) the run output fetcher; ud is borrowed. */
void sess_mgr_set_output(sess_mgr *m, sess_output_fn fn, void *ud);

/* Stores an uploaded attachment (UploadAttachment). SESS_EINVAL for a type
 * not accepted, SESS_EFULL over a limit (err names it). */
int sess_upload(sess_mgr *m, const void *data, size_t len, const char *mime, const char *name,
                store_attachment *out, char *err, size_t errlen);
/* Reads a stored attachment (GetAttachment): *data malloc'd. SESS_EINVAL
 * for a malformed hash, SESS_NOT_FOUND. */
int sess_attachment_get(sess_mgr *m, const char *sha256, store_attachment *info, void **data,
                        size_t *len, char *err, size_t errlen);
/* Removes attachment files no message refers to (older than ttl_ms).
 * Returns the number removed or -1. */
long sess_gc_blobs(sess_mgr *m, int64_t ttl_ms);

/* Loads every session from the store, marks turns that were running at the
 * last stop as interrupted and queues again the turns that had not started.
 * Returns SESS_OK, SESS_EIO or SESS_ENOMEM. */
int sess_mgr_create(sess_mgr **out, const sess_mgr_opts *opts);
/* Starts running turns: those queued again by sess_mgr_create and any sent
 * since. Call it once the tools and note are set, so that no turn runs
 * without them. Before it, messages are stored and queued only. */
void sess_mgr_start(sess_mgr *m);
/* Refuses new work, stops running turns (marked interrupted; queued turns
 * stay queued in the store), ends every subscription with UNAVAILABLE and
 * joins the worker threads. Safe to call twice. */
void sess_mgr_shutdown(sess_mgr *m);
/* Shuts down if needed and frees everything. */
void sess_mgr_destroy(sess_mgr *m);

/* The current skill registry, with a reference for the caller. */
skills *sess_mgr_skills(sess_mgr *m);
/* Replaces the registry (takes a new reference; running turns keep theirs). */
void sess_mgr_set_skills(sess_mgr *m, skills *reg);

/* Sets the tools the skills' agent loops may call (agent.h): the array is
 * copied, but the strings, functions and ud it points to are borrowed and
 * must stay valid until the manager is destroyed. Each turn uses the table
 * set when it started; n == 0 removes every tool. Tool functions run on
 * skill worker threads, several at once. Returns SESS_OK or SESS_ENOMEM. */
int sess_mgr_set_tools(sess_mgr *m, const agent_tool *tools, size_t n, void *ud);

/* Returns a short note for the skills' system prompt, e.g. what changed on
 * the canvas since the session's previous turn, as malloc'd UTF-8 text
 * (freed by the caller), or NULL for none. Called once per turn on the
 * session's runner thread, without locks held. */
typedef char *(*sess_note_fn)(void *ud, const char *session_id);
/* Sets (fn NULL: removes) the note callback; ud is borrowed like the tools'. */
void sess_mgr_set_note(sess_mgr *m, sess_note_fn fn, void *ud);
/* Called once at the end of each turn of session_id, after every skill of
 * it finished and before its replies are published (the tools give back
 * the leases the turn's skills took). */
typedef void (*sess_turn_end_fn)(void *ud, const char *session_id);
/* Sets (fn NULL: removes) it; ud is borrowed like the tools'. */
void sess_mgr_set_turn_end(sess_mgr *m, sess_turn_end_fn fn, void *ud);

/* A session's state as a response can show it. Owns its strings. */
typedef struct sess_info {
    store_session meta;
    int status; /* Comfyd__V1__SessionStatus */
    uint64_t last_seq;
    uint32_t queued_turns;
    uint32_t window; /* the context window in force (sess_window) */
    /* sess_configure only: the request dropped the stored API key (it
     * changed provider or base_url without a new key), and notice says so
     * in a sentence (empty otherwise). */
    int api_key_cleared;
    char notice[SESS_NOTICE_MAX];
} sess_info;
void sess_info_clear(sess_info *i);

/* Fills pb (and cfg, which pb->config points to) with pointers into info;
 * pb is valid while info is. */
void sess_info_to_pb(const sess_info *info, Comfyd__V1__Session *pb, Comfyd__V1__SessionConfig *cfg,
                     Comfyd__V1__Usage *usage);

/* Requests: errors write a one-line reason naming the field into err. */
int sess_create(sess_mgr *m, const Comfyd__V1__CreateSessionRequest *req, sess_info *out, char *err,
                size_t errlen);
int sess_get(sess_mgr *m, const char *id, sess_info *out, char *err, size_t errlen);
int sess_configure(sess_mgr *m, const Comfyd__V1__ConfigureSessionRequest *req, sess_info *out,
                   char *err, size_t errlen);
int sess_delete(sess_mgr *m, const char *id, char *err, size_t errlen);
/* Stores the message durably, then queues or starts its turn. out->message
 * must be freed with sess_send_result_clear. */
typedef struct sess_send_result {
    store_message message;
    int queued;
    uint32_t queue_position;
    int duplicate;
} sess_send_result;
void sess_send_result_clear(sess_send_result *r);
int sess_send(sess_mgr *m, const Comfyd__V1__SendMessageRequest *req, sess_send_result *out,
              char *err, size_t errlen);
int sess_cancel(sess_mgr *m, const char *id, int clear_queue, int *cancelled, uint32_t *dropped,
                char *err, size_t errlen);

/* A subscriber. push() queues packed SubscribeResponse bytes and returns 0,
 * or non-zero when it cannot take more (the session then ends it with
 * RESOURCE_EXHAUSTED: a client that cannot keep up resubscribes with its
 * last seq). end() finishes the subscription with a gRPC status code.
 * gone() is 1 once the peer has left. release() drops the session's
 * reference to ud; it is the last callback. */
typedef struct sess_sub_ops {
    int (*push)(void *ud, const void *bytes, size_t len);
    void (*end)(void *ud, int grpc_code, const char *message);
    int (*gone)(void *ud);
    void (*release)(void *ud);
} sess_sub_ops;

/* Sends a snapshot or the missed events, then attaches the subscriber for
 * live events, atomically. On error nothing is attached and ops->release is
 * not called. */
int sess_subscribe(sess_mgr *m, const char *id, uint64_t after_seq, const sess_sub_ops *ops,
                   void *ud, char *err, size_t errlen);

/* Pages through sessions (most recently updated first). token is the
 * previous next_page_token or "". *next receives a new token or NULL. */
int sess_list(sess_mgr *m, const char *token, size_t page_size, int include_archived,
              sess_info **out, size_t *n, char **next, char *err, size_t errlen);
void sess_infos_free(sess_info *list, size_t n);

/* The newest `limit` messages of a session, oldest first (free with
 * store_messages_free). */
int sess_history(sess_mgr *m, const char *id, size_t limit, store_message **out, size_t *n,
                 int *truncated);

/* The context window in force for a session (its own, the manager's
 * default, or the provider/model default). */
uint32_t sess_window(sess_mgr *m, const store_session *meta);

/* Compacts the session's older turns now (CompactSession). SESS_EBUSY while
 * a turn runs. *compacted is the number of messages the new summary stands
 * for (0: nothing to compact; summary then left empty); summary (may be
 * NULL) receives the stored summary (free with store_message_clear). */
int sess_compact(sess_mgr *m, const char *id, uint32_t *compacted, store_message *summary,
                 char *notice, size_t noticelen, char *err, size_t errlen);

/* Full-text search (ftsq.h syntax) over messages, summaries and memories.
 * session_id NULL or "": every session. limit 0: SESS_SEARCH_DEFAULT.
 * SESS_EINVAL with a sentence for a malformed query. */
int sess_search(sess_mgr *m, const char *query, const char *session_id, unsigned kind_mask,
                size_t limit, store_hit **out, size_t *n, char *err, size_t errlen);

/* Stores a memory (remember): global when global is 1, else the
 * session's. *id (may be NULL) receives its id. */
int sess_remember(sess_mgr *m, const char *session_id, int global, const char *content,
                  uint64_t *id, char *err, size_t errlen);

/* Renders the session and its whole history: format 2 is JSON, anything
 * else Markdown. *out is malloc'd (caller frees). */
int sess_export(sess_mgr *m, const char *id, int format, char **out, char *err, size_t errlen);

/* Forks session id at message_id (ForkSession): a new session with the
 * history up to and including that message, the configuration, active
 * skills and session memories (store_session_fork). title NULL or "": the
 * parent's with " (fork)". *copied gets the number of messages copied.
 * SESS_NOT_FOUND for an unknown session or message (or one a revert hid),
 * SESS_EINVAL for a message of another session (err says which). */
int sess_fork(sess_mgr *m, const char *id, uint64_t message_id, const char *title, sess_info *out,
              uint32_t *copied, char *err, size_t errlen);

/* Reverts in two steps, so that the caller can restore canvases between
 * them with no turn starting: sess_revert_begin checks the message as
 * sess_fork does and that the session is idle (SESS_EBUSY while a turn
 * runs or waits), then holds the session's runner (messages sent meanwhile
 * are queued); sess_revert_end, called exactly once after a successful
 * begin, hides the later messages when apply is 1 (publishing a
 * SessionReverted event with restored[], borrowed), releases the runner
 * and fills out (may be NULL). *hidden gets the number hidden. */
int sess_revert_begin(sess_mgr *m, const char *id, uint64_t message_id, char *err, size_t errlen);
int sess_revert_end(sess_mgr *m, const char *id, uint64_t message_id, int apply,
                    Comfyd__V1__CanvasRestore **restored, size_t n_restored, sess_info *out,
                    uint32_t *hidden, char *err, size_t errlen);

/* Undoes the session's latest revert (store_session_unrevert): the
 * messages it hid are visible again, and subscribers get a
 * SessionUnreverted event with them. SESS_EBUSY while a turn runs or
 * waits; SESS_EPRECOND when no revert is left to undo or the session was
 * compacted or got new messages since (err says which). *restored gets the
 * number of messages back; out (may be NULL) the session after (filled on
 * success only). */
int sess_unrevert(sess_mgr *m, const char *id, sess_info *out, uint32_t *restored, char *err,
                  size_t errlen);

/* The session's canvas checkpoints of visible turns, without workflows
 * (store_checkpoints_list). */
int sess_checkpoints(sess_mgr *m, const char *id, store_checkpoint **out, size_t *n, char *err,
                     size_t errlen);

/* The memory tools (remember, recall) every turn offers besides the table
 * of sess_mgr_set_tools; a skill lists them in allowed-tools like others.
 * Their ud is set per turn; the table is static. */
const agent_tool *sess_memory_tools(size_t *n);

/* Fills a ChatMessage pointing into m. */
void sess_message_to_pb(const store_message *m, Comfyd__V1__ChatMessage *pb);
/* Adds msg's attachments (read from the store) to pb, in memory pb then
 * owns: release it with sess_message_pb_release. */
void sess_message_pb_attach(sess_mgr *m, const store_message *msg, Comfyd__V1__ChatMessage *pb);
void sess_message_pb_release(Comfyd__V1__ChatMessage *pb);

/* ---- several cores on one database (docs/scale-out.md) ----
 *
 * Each event this core publishes is handed to the fan-out callback (packed
 * SubscribeResponse bytes, borrowed for the call; called with the
 * session's mutex held, so it must only queue). Set it before
 * sess_mgr_start. */
typedef void (*sess_fanout_fn)(void *ud, const char *session_id, const void *event, size_t len);
/* A Cancel for a session whose turn runs on another core (this core only
 * knows it from that core's status events): to be sent to every core. */
typedef void (*sess_cancel_fanout_fn)(void *ud, const char *session_id, int clear_queue);
void sess_mgr_set_fanout(sess_mgr *m, sess_fanout_fn fn, sess_cancel_fanout_fn cancel, void *ud);

/* Hybrid search (embedder.h) for every search, the recall tool's too:
 * e is borrowed and must outlive the manager's last search (set before
 * serving; NULL: words alone). */
void sess_mgr_set_embedder(sess_mgr *m, embedder *e);
/* A Cancel another core forwarded: the running turn stops if it runs
 * here (and with clear_queue the turns queued here are dropped). */
void sess_remote_cancel(sess_mgr *m, const char *session_id, int clear_queue);
/* An event another core published (its packed SubscribeResponse): given
 * this core's next sequence number and pushed to the subscribers here, if
 * the session is loaded here. */
void sess_remote_event(sess_mgr *m, const char *session_id, const uint8_t *event, size_t len);
/* The lease hooks (lease.h): this core lost a session's lease (its running
 * turn stops, storing nothing more); a stopped core's turn was marked
 * interrupted (the subscribers are told and the session is idle); an
 * acknowledged turn no live core holds is queued here. */
void sess_lease_lost(sess_mgr *m, const char *session_id);
void sess_turn_interrupted(sess_mgr *m, const char *session_id, uint64_t turn_id);
void sess_requeue(sess_mgr *m, const char *session_id, uint64_t msg_id, const char *content);
/* A turn queued on this core waits for a lease another core holds: offer
 * it to that core (fn is called once per waiting turn, with the fan-out's
 * ud; it must only queue), which runs it after its own turns accepted
 * before it. Set before sess_mgr_start. */
typedef void (*sess_offer_fn)(void *ud, const char *session_id, uint64_t msg_id);
void sess_mgr_set_offer(sess_mgr *m, sess_offer_fn offer);
/* Another core offered turn msg_id of session_id: when this core holds the
 * session's lease and the message is still QUEUED, it is queued here among
 * the waiting turns in message order (the order they were accepted) and
 * runs under the lease this core holds; otherwise nothing happens (the
 * offering core takes the lease when it is free). */
void sess_turn_offered(sess_mgr *m, const char *session_id, uint64_t msg_id);

#endif

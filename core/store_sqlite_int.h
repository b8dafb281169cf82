/* store_sqlite_int: what the files of the SQLite engine share and nothing
 * else links: the handle, the prepared statements' ids, the column lists
 * and the helpers one file defines and another calls. store_backend.h stays
 * the engine's interface; store_sqlite.c's top comment lists which file
 * holds what. */
#ifndef COMFYD_STORE_SQLITE_INT_H
#define COMFYD_STORE_SQLITE_INT_H

#include "store_backend.h"

#include "fts_rank.h"

#include "log.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MOD "store"

#define SESSION_COLS                                                                               \
    "SELECT id, title, provider, model, base_url, system_prompt, skills, token_delay_ms,"          \
    " api_key IS NOT NULL, created_ms, updated_ms, seq_reserved, prompt_tokens,"                   \
    " completion_tokens,"                                                                          \
    " (SELECT count(*) FROM messages m WHERE m.session_id = s.id AND m.reverted_ms = 0), vision,"  \
    " context_window, archived,"                                                                   \
    " (SELECT coalesce(max(covers_to), 0) FROM messages m WHERE m.session_id = s.id AND kind = 1"  \
    " AND m.reverted_ms = 0), parent_id, fork_point"                                               \
    " FROM sessions s "
#define SESSION_ORDER " ORDER BY updated_ms DESC, id DESC"
#define MESSAGE_COLS                                                                               \
    "SELECT id, session_id, role, skill, content, state, error, turn_id, created_ms, client_id,"   \
    " kind, covers_to, reverted_ms FROM messages "
#define I64_MAX_SQL "9223372036854775807"

enum {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_S_INSERT,
    Q_S_UPDATE,
    Q_S_SET_KEY,
    Q_S_GET_KEY,
    Q_S_GET,
    Q_S_ALL,
    Q_S_FIRST,
    Q_S_AFTER,
    Q_S_DELETE,
    Q_S_SET_SEQ,
    Q_S_ADD_USAGE,
    Q_S_TOUCH,
    Q_M_INSERT,
    Q_M_SET_TURN,
    Q_M_FINISH,
    Q_M_FIND_CLIENT,
    Q_M_NEWEST,
    Q_M_RECOVER,
    Q_M_QUEUED,
    Q_C_GET,
    Q_C_RAISE,
    Q_I_PUT,
    Q_I_DELETE,
    Q_I_PRUNE_AGE,
    Q_I_PRUNE_COUNT,
    Q_I_LOAD,
    Q_S_SET_MEMORY_FIELDS,
    Q_M_SUMMARY_LATEST,
    Q_M_AFTER,
    Q_MEM_INSERT,
    Q_SEARCH_FLOOR,
    Q_SEARCH,
    Q_SEARCH_SNIPPET,
    Q_COUNT
};

typedef struct sq {
    store base; /* first: the interface's handle is this struct */
    pthread_mutex_t mu;
    sqlite3 *db;
    sqlite3_stmt *q[Q_COUNT];
    char *path; /* for log lines */
} sq;

/* ---- helpers (store_sqlite.c) -------------------------------------------- */

/* Logs a failed SQLite call and maps it to a STORE_* code. */
int sq_sql_fail(sq *st, int rc, const char *what);
/* Resets q and clears its bindings. */
void sq_q_done(sqlite3_stmt *q);
/* Runs a statement that returns no rows. */
int sq_q_exec(sq *st, sqlite3_stmt *q, const char *what);
/* Like sq_q_exec, and STORE_NOT_FOUND when no row changed. */
int sq_q_exec_one(sq *st, sqlite3_stmt *q, const char *what);
/* Rolls back the open transaction, if SQLite has not already. */
void sq_tx_rollback(sq *st);
/* BEGIN IMMEDIATE. */
int sq_tx_begin(sq *st);
/* COMMIT, rolling back when it fails. */
int sq_tx_commit(sq *st);
/* Binds s (NULL binds NULL) without copying it. */
int sq_bind_text(sqlite3_stmt *q, int i, const char *s);
/* Binds s, NULL as "", without copying it. */
int sq_bind_text_nn(sqlite3_stmt *q, int i, const char *s);
/* Copies column i; NULL stays NULL unless nonnull, which gives "". */
int sq_col_dup(sqlite3_stmt *q, int i, int nonnull, char **out);
/* Reads a SESSION_COLS row into s. */
int sq_read_session(sqlite3_stmt *q, store_session *s);
/* Reads a MESSAGE_COLS row into m. */
int sq_read_message(sqlite3_stmt *q, store_message *m);
/* Grows *arr (of elem-sized items) so that it holds at least need. */
int sq_grow(void **arr, size_t *cap, size_t need, size_t elem);
/* Steps q to the end, reading every session row; q is reset. */
int sq_collect_sessions(sq *st, sqlite3_stmt *q, const char *what, store_session **out, size_t *n);
/* Steps q to the end, reading every message row; q is reset. */
int sq_collect_messages(sq *st, sqlite3_stmt *q, const char *what, store_message **out, size_t *n);
/* Prepares sql for one call (store_sqlite_fork.c); finalized by the caller. */
int sq_prep(sq *st, const char *sql, sqlite3_stmt **q, const char *what);

/* ---- store_ops entries: sessions and messages (store_sqlite_session.c) */
int sq_session_insert(store *base, const store_session *s, const char *api_key);
int sq_session_update(store *base, const store_session *s);
int sq_session_set_api_key(store *base, const char *id, const char *api_key);
int sq_session_get_api_key(store *base, const char *id, char **out);
int sq_session_get(store *base, const char *id, store_session *out);
int sq_session_list_all(store *base, store_session **out, size_t *n);
int sq_session_page(store *base, int64_t after_updated_ms, const char *after_id, size_t limit,
                    store_session **out, size_t *n);
int sq_session_delete(store *base, const char *id);
int sq_session_set_seq_reserved(store *base, const char *id, uint64_t seq_reserved);
int sq_session_add_usage(store *base, const char *id, uint64_t prompt, uint64_t completion);
int sq_message_insert(store *base, store_message *m);
int sq_message_insert_with(store *base, store_message *m, const store_attachment *atts,
                           size_t n_atts);
int sq_turn_end(store *base, const char *session_id, store_message *replies, size_t n,
                uint64_t user_id, store_msg_state user_state, uint64_t prompt, uint64_t completion);
int sq_message_finish(store *base, uint64_t id, store_msg_state state, const char *content,
                      const char *error);
int sq_message_find_client_id(store *base, const char *session_id, const char *client_id,
                              store_message *out);
int sq_messages_load(store *base, const char *session_id, size_t limit, store_message **out,
                     size_t *n, int *truncated);
int sq_recover_interrupted(store *base, const char *error, size_t *changed);
int sq_messages_queued(store *base, store_message **out, size_t *n);

/* ---- store_ops entries: counters, idempotency keys, attachments (store_sqlite_keys.c) */
int sq_counter_get(store *base, const char *name, uint64_t *out);
int sq_counter_raise(store *base, const char *name, uint64_t value);
int sq_idem_put(store *base, const store_idem *e);
int sq_idem_delete(store *base, const void *scope, size_t len);
int sq_idem_load(store *base, int64_t min_created_ms, size_t max_keys, store_idem **out, size_t *n);
int sq_attachments_load(store *base, uint64_t message_id, store_attachment **out, size_t *n);
int sq_attachment_hashes(store *base, char ***out, size_t *n);

/* ---- store_ops entries: summaries, long-term memories, search (store_sqlite_memory.c) */
int sq_summary_latest(store *base, const char *session_id, store_message *out);
int sq_messages_after(store *base, const char *session_id, uint64_t after_id, size_t limit,
                      store_message **out, size_t *n, int *truncated);
int sq_memory_add(store *base, const char *session_id, const char *content, uint64_t *id);
int sq_search(store *base, const char *match, const char *session_id, unsigned kind_mask,
              size_t limit, store_hit **out, size_t *n);

/* ---- store_ops entries: fork, revert, checkpoints (store_sqlite_fork.c) */
int sq_message_get(store *base, uint64_t id, store_message *out);
int sq_session_fork(store *base, const char *src_id, uint64_t upto_id, const store_session *dst,
                    size_t *copied);
int sq_session_revert(store *base, const char *id, uint64_t to_id, uint64_t through_id,
                      int64_t now_ms, size_t *hidden);
int sq_checkpoint_put(store *base, const store_checkpoint *c);
int sq_checkpoints_list(store *base, const char *session_id, int with_workflow,
                        store_checkpoint **out, size_t *n);
int sq_session_unrevert(store *base, const char *id, size_t *restored, uint64_t *first_id,
                        int *why);

/* ---- store_ops entries: embeddings (store_sqlite_embed.c) */
int sq_embed_next(store *base, int64_t now_ms, size_t limit, store_embed_job **out, size_t *n);
int sq_embed_put(store *base, uint64_t entry, const char *model, const float *v, size_t dim);
int sq_embed_retry(store *base, const uint64_t *entries, size_t n, int64_t next_ms);
int sq_embed_requeue(store *base, const char *model, size_t *queued);
int sq_embed_scan(store *base, const char *model, size_t dim, const char *session_id,
                  unsigned kind_mask, size_t limit, store_vec_fn fn, void *ud);
int sq_embed_get(store *base, const char *model, size_t dim, const uint64_t *entries, size_t n,
                 store_vec_fn fn, void *ud);
int sq_hit_get(store *base, uint64_t entry, store_hit *out);

#endif

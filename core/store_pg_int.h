/* store_pg_int: what the files of the PostgreSQL engine share and nothing
 * else links: the handle, a statement's parameters, the column lists and
 * the helpers one file defines and another calls. store_backend.h stays the
 * engine's interface; store_pg.c's top comment lists which file holds
 * what. */
#ifndef COMFYD_STORE_PG_INT_H
#define COMFYD_STORE_PG_INT_H

#include "store_backend.h"

#include "log.h"
#include "text.h"

#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "store"

/* Longest parameter list of any statement below. */
#define PG_MAX_PARAMS 20

/* The indexed text search documents. A tsvector holds at most 1 MB, so a
 * message is indexed over its first PG_FTS_CHARS characters (a longer
 * one would fail its insert); memories are at most STORE_MEMORY_MAX
 * bytes. */
#define PG_FTS_CHARS "100000"
#define PG_FTS_MESSAGE "to_tsvector('simple'::regconfig, left(content, " PG_FTS_CHARS "))"
#define PG_FTS_MEMORY "to_tsvector('simple'::regconfig, content)"

#define SESSION_COLS                                                                               \
    "SELECT id, title, provider, model, base_url, system_prompt, skills, token_delay_ms,"          \
    " (api_key IS NOT NULL)::int, created_ms, updated_ms, seq_reserved, prompt_tokens,"            \
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

typedef struct pg {
    store base; /* first: the interface's handle is this struct */
    pthread_mutex_t mu;
    PGconn *conn; /* NULL or broken: the next call connects */
    char *uri;    /* may hold a password: never logged */
} pg;

/* A statement's parameters; integers are formatted into num[]. Text
 * values are borrowed from the caller for the length of the call. */
typedef struct params {
    int n;
    const char *val[PG_MAX_PARAMS];
    int len[PG_MAX_PARAMS];
    int fmt[PG_MAX_PARAMS]; /* 0 text, 1 binary */
    char num[PG_MAX_PARAMS][24];
} params;

/* ---- helpers (store_pg.c) -------------------------------------------------- */

/* Adds a text parameter; NULL binds SQL NULL. */
void pg_p_text(params *ps, const char *s);
/* Adds an integer parameter, formatted into ps->num. */
void pg_p_i64(params *ps, int64_t v);
/* Adds a binary (bytea) parameter; NULL binds SQL NULL. */
void pg_p_bytes(params *ps, const void *b, size_t len);
/* Connects unless p->conn is up; called with p->mu held. */
int pg_connect_locked(pg *p);
/* Runs sql with ps; *out gets the result (PQclear it) when STORE_OK. */
int pg_run(pg *p, const char *what, const char *sql, const params *ps, PGresult **out);
/* Runs a statement whose rows are not read; *changed (may be NULL) gets the count. */
int pg_run_cmd(pg *p, const char *what, const char *sql, const params *ps, size_t *changed);
/* Like pg_run_cmd, and STORE_NOT_FOUND when no row changed. */
int pg_run_one(pg *p, const char *what, const char *sql, const params *ps);
/* A BIGINT or INTEGER column; 0 for NULL. */
int64_t pg_col_i64(const PGresult *r, int row, int col);
/* Copies a text column; NULL stays NULL unless nonnull, which gives "". */
int pg_col_dup(const PGresult *r, int row, int col, int nonnull, char **out);
/* Decodes a bytea column. */
int pg_col_bytes(const PGresult *r, int row, int col, uint8_t **out, size_t *len);
/* Reads a SESSION_COLS row into s. */
int pg_read_session(const PGresult *r, int row, store_session *s);
/* Reads a MESSAGE_COLS row into m. */
int pg_read_message(const PGresult *r, int row, store_message *m);
/* Reads every session row of r. */
int pg_collect_sessions(const PGresult *r, const char *what, store_session **out, size_t *n);
/* Reads every message row of r. */
int pg_collect_messages(const PGresult *r, const char *what, store_message **out, size_t *n);
/* Runs sql, which may hold several statements (no parameters). */
int pg_exec_simple(pg *p, const char *what, const char *sql);

/* ---- store_ops entries: sessions, messages, attachments (store_pg_session.c) */
int pg_session_insert(store *base, const store_session *s, const char *api_key);
int pg_session_update(store *base, const store_session *s);
int pg_session_set_api_key(store *base, const char *id, const char *api_key);
int pg_session_get_api_key(store *base, const char *id, char **out);
int pg_session_get(store *base, const char *id, store_session *out);
int pg_session_list_all(store *base, store_session **out, size_t *n);
int pg_session_page(store *base, int64_t after_updated_ms, const char *after_id, size_t limit,
                    store_session **out, size_t *n);
int pg_session_delete(store *base, const char *id);
int pg_session_set_seq_reserved(store *base, const char *id, uint64_t seq_reserved);
int pg_session_add_usage(store *base, const char *id, uint64_t prompt, uint64_t completion);
int pg_message_insert(store *base, store_message *m);
int pg_message_insert_with(store *base, store_message *m, const store_attachment *atts,
                           size_t n_atts);
int pg_attachments_load(store *base, uint64_t message_id, store_attachment **out, size_t *n);
int pg_attachment_hashes(store *base, char ***out, size_t *n);
int pg_message_finish(store *base, uint64_t id, store_msg_state state, const char *content,
                      const char *error);
int pg_turn_end(store *base, const char *session_id, store_message *replies, size_t n,
                uint64_t user_id, store_msg_state user_state, uint64_t prompt, uint64_t completion);
int pg_message_find_client_id(store *base, const char *session_id, const char *client_id,
                              store_message *out);
int pg_messages_load(store *base, const char *session_id, size_t limit, store_message **out,
                     size_t *n, int *truncated);
int pg_recover_interrupted(store *base, const char *error, size_t *changed);
int pg_messages_queued(store *base, store_message **out, size_t *n);

/* ---- store_ops entries: counters and idempotency keys (store_pg_keys.c) */
int pg_counter_get(store *base, const char *name, uint64_t *out);
int pg_counter_raise(store *base, const char *name, uint64_t value);
int pg_idem_put(store *base, const store_idem *e);
int pg_idem_delete(store *base, const void *scope, size_t len);
int pg_idem_load(store *base, int64_t min_created_ms, size_t max_keys, store_idem **out, size_t *n);
int pg_idem_get(store *base, const void *scope, size_t len, int64_t min_created_ms,
                store_idem *out);

/* ---- store_ops entries: summaries, long-term memories, search (store_pg_memory.c) */
int pg_summary_latest(store *base, const char *session_id, store_message *out);
int pg_messages_after(store *base, const char *session_id, uint64_t after_id, size_t limit,
                      store_message **out, size_t *n, int *truncated);
int pg_memory_add(store *base, const char *session_id, const char *content, uint64_t *id);
int pg_search(store *base, const char *match, const char *session_id, unsigned kind_mask,
              size_t limit, store_hit **out, size_t *n);

/* ---- store_ops entries: fork, revert, checkpoints (store_pg_fork.c) */
int pg_message_get(store *base, uint64_t id, store_message *out);
int pg_session_fork(store *base, const char *src_id, uint64_t upto_id, const store_session *dst,
                    size_t *copied);
int pg_session_revert(store *base, const char *id, uint64_t to_id, uint64_t through_id,
                      int64_t now_ms, size_t *hidden);
int pg_checkpoint_put(store *base, const store_checkpoint *c);
int pg_checkpoints_list(store *base, const char *session_id, int with_workflow,
                        store_checkpoint **out, size_t *n);
int pg_session_unrevert(store *base, const char *id, size_t *restored, uint64_t *first_id,
                        int *why);

/* ---- store_ops entries: embeddings (store_pg_embed.c) */
int pg_embed_next(store *base, int64_t now_ms, size_t limit, store_embed_job **out, size_t *n);
int pg_embed_put(store *base, uint64_t entry, const char *model, const float *v, size_t dim);
int pg_embed_retry(store *base, const uint64_t *entries, size_t n, int64_t next_ms);
int pg_embed_requeue(store *base, const char *model, size_t *queued);
int pg_embed_scan(store *base, const char *model, size_t dim, const char *session_id,
                  unsigned kind_mask, size_t limit, store_vec_fn fn, void *ud);
int pg_embed_get(store *base, const char *model, size_t dim, const uint64_t *entries, size_t n,
                 store_vec_fn fn, void *ud);
int pg_hit_get(store *base, uint64_t entry, store_hit *out);

#endif

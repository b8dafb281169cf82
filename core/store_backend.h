/* store_backend: what a storage engine implements behind store.h.
 *
 * store.h's public calls (store_api.c) forward to the engine's store_ops
 * through the handle's first member. Each engine validates its arguments
 * with the shared checks below, so the rules are the same on every engine,
 * and keeps the contract of store.h: a call that returns STORE_OK has made
 * its write durable; no call leaves a partial write behind.
 *
 * Ownership: an engine's open function allocates its own struct, whose
 * first member is a `store`, and returns a pointer to that member; the
 * caller owns it and gives it back through store_close, which calls
 * ops->close exactly once. ops is a static table that outlives every
 * handle. */
#ifndef COMFYD_STORE_BACKEND_H
#define COMFYD_STORE_BACKEND_H

#include "store.h"

typedef struct store_ops {
    const char *name; /* "sqlite", "postgres": for logs and /healthz */
    /* Frees everything the handle owns, the handle included. */
    void (*close)(store *st);
    int (*session_insert)(store *st, const store_session *s, const char *api_key);
    int (*session_update)(store *st, const store_session *s);
    int (*session_set_api_key)(store *st, const char *id, const char *api_key);
    int (*session_get_api_key)(store *st, const char *id, char **out);
    int (*session_get)(store *st, const char *id, store_session *out);
    int (*session_list_all)(store *st, store_session **out, size_t *n);
    int (*session_page)(store *st, int64_t after_updated_ms, const char *after_id, size_t limit,
                        store_session **out, size_t *n);
    int (*session_delete)(store *st, const char *id);
    int (*session_set_seq_reserved)(store *st, const char *id, uint64_t seq_reserved);
    int (*session_add_usage)(store *st, const char *id, uint64_t prompt, uint64_t completion);
    int (*message_insert)(store *st, store_message *m);
    /* Attachments (store.h); NULL in an engine without them: a message with
     * attachments is then refused and GC finds no references (and so does
     * not run). */
    int (*message_insert_with)(store *st, store_message *m, const store_attachment *atts,
                               size_t n_atts);
    int (*attachments_load)(store *st, uint64_t message_id, store_attachment **out, size_t *n);
    int (*attachment_hashes)(store *st, char ***out, size_t *n);
    int (*message_finish)(store *st, uint64_t id, store_msg_state state, const char *content,
                          const char *error);
    /* store_turn_end in one transaction; NULL in an engine without it (the
     * steps are then written one by one). */
    int (*turn_end)(store *st, const char *session_id, store_message *replies, size_t n,
                    uint64_t user_id, store_msg_state user_state, uint64_t prompt,
                    uint64_t completion);
    int (*message_find_client_id)(store *st, const char *session_id, const char *client_id,
                                  store_message *out);
    int (*messages_load)(store *st, const char *session_id, size_t limit, store_message **out,
                         size_t *n, int *truncated);
    int (*recover_interrupted)(store *st, const char *error, size_t *changed);
    int (*messages_queued)(store *st, store_message **out, size_t *n);
    int (*counter_get)(store *st, const char *name, uint64_t *out);
    int (*counter_raise)(store *st, const char *name, uint64_t value);
    int (*idem_put)(store *st, const store_idem *e);
    int (*idem_delete)(store *st, const void *scope, size_t len);
    int (*idem_load)(store *st, int64_t min_created_ms, size_t max_keys, store_idem **out,
                     size_t *n);
    /* NULL: the engine serves one core (store_idem_get answers NOT_FOUND). */
    int (*idem_get)(store *st, const void *scope, size_t len, int64_t min_created_ms,
                    store_idem *out);
    /* memory: compaction, long-term memories, search */
    int (*summary_latest)(store *st, const char *session_id, store_message *out);
    int (*messages_after)(store *st, const char *session_id, uint64_t after_id, size_t limit,
                          store_message **out, size_t *n, int *truncated);
    int (*memory_add)(store *st, const char *session_id, const char *content, uint64_t *id);
    int (*search)(store *st, const char *match, const char *session_id, unsigned kind_mask,
                  size_t limit, store_hit **out, size_t *n);
    /* fork, revert and canvas checkpoints */
    int (*message_get)(store *st, uint64_t id, store_message *out);
    int (*session_fork)(store *st, const char *src_id, uint64_t upto_id, const store_session *dst,
                        size_t *copied);
    int (*session_revert)(store *st, const char *id, uint64_t to_id, uint64_t through_id,
                          int64_t now_ms, size_t *hidden);
    int (*session_unrevert)(store *st, const char *id, size_t *restored, uint64_t *first, int *why);
    int (*checkpoint_put)(store *st, const store_checkpoint *c);
    int (*checkpoints_list)(store *st, const char *session_id, int with_workflow,
                            store_checkpoint **out, size_t *n);
    /* embeddings (hybrid search) */
    int (*embed_next)(store *st, int64_t now_ms, size_t limit, store_embed_job **out, size_t *n);
    int (*embed_put)(store *st, uint64_t entry, const char *model, const float *v, size_t dim);
    int (*embed_retry)(store *st, const uint64_t *entries, size_t n, int64_t next_ms);
    int (*embed_requeue)(store *st, const char *model, size_t *queued);
    int (*embed_scan)(store *st, const char *model, size_t dim, const char *session_id,
                      unsigned kind_mask, size_t limit, store_vec_fn fn, void *ud);
    int (*embed_get)(store *st, const char *model, size_t dim, const uint64_t *entries, size_t n,
                     store_vec_fn fn, void *ud);
    int (*hit_get)(store *st, uint64_t entry, store_hit *out);
} store_ops;

/* embeddings: a model name and a dimension this store accepts. */
int store_embed_ok(const char *model, size_t dim);
/* The text an entry is embedded from: src[0..len) cut to at most
 * STORE_EMBED_TEXT_MAX bytes at a UTF-8 boundary. *out is malloc'd. */
int store_embed_text(const char *src, size_t len, char **out);
/* A vector-only hit's snippet: the start of text, cut at a word near
 * STORE_SNIPPET_BYTES, with "…" when cut. *out is malloc'd. */
#define STORE_SNIPPET_BYTES 160
int store_snippet_start(const char *text, char **out);

/* The head of every engine's handle. */
struct store {
    const store_ops *ops;
};

/* The engines' open functions (see store_open for the errors). */
int store_sqlite_open(store **out, const char *path);
int store_pg_open(store **out, const char *conninfo);

/* ---- checks and encodings shared by the engines (store_check.c) ---- */

/* 1..STORE_ID_MAX bytes of UTF-8. */
int store_id_ok(const char *id);
/* NULL passes (callers decide what NULL means); else at most max bytes of
 * UTF-8. */
int store_text_ok(const char *s, size_t max);
int store_u63_ok(uint64_t v);
int store_session_fields_ok(const store_session *s);
int store_message_ok(const store_message *m);
int store_idem_ok(const store_idem *e);
/* store_turn_end's arguments. */
int store_turn_end_ok(const char *session_id, const store_message *replies, size_t n,
                      uint64_t user_id, store_msg_state user_state, uint64_t prompt,
                      uint64_t completion);
/* store_memory_add's arguments: session_id NULL (global) or an id; content
 * 1..STORE_MEMORY_MAX bytes of UTF-8. */
int store_memory_ok(const char *session_id, const char *content);
/* store_search's arguments (kind_mask is any value: unknown bits are
 * ignored). */
int store_search_ok(const char *match, const char *session_id, size_t limit);
/* store_checkpoint_put's argument: ids, canvas 1..STORE_CKPT_CANVAS_MAX
 * bytes, a workflow of 1..STORE_CKPT_WORKFLOW_MAX bytes of UTF-8. */
int store_checkpoint_ok(const store_checkpoint *c);
/* Skill names are stored joined by '\n' (they never contain one). *out is
 * malloc'd and owned by the caller. */
int store_skills_join(const store_session *s, char **out);
/* The reverse; empty names are skipped. *out (owned by the caller, each
 * name and the array) is NULL when *n is 0. */
int store_skills_split(const char *text, size_t len, char ***out, size_t *n);
/* Ends a page of messages read newest first with one row beyond limit
 * (that row only tells whether older ones exist): drops it and sets
 * *truncated, puts the rest oldest first and hands the list to *out (NULL
 * when *n is 0). Takes ownership of list. */
void store_messages_page(store_message *list, size_t len, size_t limit, int *truncated,
                         store_message **out, size_t *n);

#endif

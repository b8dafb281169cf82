/* store_api: store.h's calls, forwarded to the engine the handle was
 * opened with (store_backend.h), and the choice of engine from a spec. */
#include "store_backend.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>

#define MOD "store"

const char *store_strerror(int err)
{
    return cfd_strerror(err);
}

int store_open(store **out, const char *spec)
{
    if (!out) return STORE_EINVAL;
    *out = NULL;
    if (!spec || !*spec) return STORE_EINVAL;
    if (strncmp(spec, "postgres://", 11) == 0 || strncmp(spec, "postgresql://", 13) == 0)
        return store_pg_open(out, spec);
    if (strncmp(spec, STORE_SPEC_SQLITE, strlen(STORE_SPEC_SQLITE)) == 0)
        spec += strlen(STORE_SPEC_SQLITE);
    return store_sqlite_open(out, spec);
}

void store_close(store *st)
{
    if (st) st->ops->close(st);
}

const char *store_engine(const store *st)
{
    return st ? st->ops->name : "none";
}

#define RESET_LIST(out, n)                                                                         \
    do {                                                                                           \
        if (out) *(out) = NULL;                                                                    \
        if (n) *(n) = 0;                                                                           \
    } while (0)

/* Every call: a NULL handle is a caller's bug, reported as for any other
 * bad argument; the engine checks the rest. Out parameters are reset here
 * too so that an EINVAL leaves them as the engine would. */
int store_session_insert(store *st, const store_session *s, const char *api_key)
{
    if (!st) return STORE_EINVAL;
    return st->ops->session_insert(st, s, api_key);
}

int store_session_update(store *st, const store_session *s)
{
    if (!st) return STORE_EINVAL;
    return st->ops->session_update(st, s);
}

int store_session_set_api_key(store *st, const char *id, const char *api_key)
{
    if (!st) return STORE_EINVAL;
    return st->ops->session_set_api_key(st, id, api_key);
}

int store_session_get_api_key(store *st, const char *id, char **out)
{
    if (!st) {
        if (out) *out = NULL;
        return STORE_EINVAL;
    }
    return st->ops->session_get_api_key(st, id, out);
}

int store_session_get(store *st, const char *id, store_session *out)
{
    if (!st) {
        if (out) memset(out, 0, sizeof *out);
        return STORE_EINVAL;
    }
    return st->ops->session_get(st, id, out);
}

int store_session_list_all(store *st, store_session **out, size_t *n)
{
    if (!st) {
        RESET_LIST(out, n);
        return STORE_EINVAL;
    }
    return st->ops->session_list_all(st, out, n);
}

int store_session_page(store *st, int64_t after_updated_ms, const char *after_id, size_t limit,
                       store_session **out, size_t *n)
{
    if (!st) {
        RESET_LIST(out, n);
        return STORE_EINVAL;
    }
    return st->ops->session_page(st, after_updated_ms, after_id, limit, out, n);
}

int store_session_delete(store *st, const char *id)
{
    if (!st) return STORE_EINVAL;
    return st->ops->session_delete(st, id);
}

int store_session_set_seq_reserved(store *st, const char *id, uint64_t seq_reserved)
{
    if (!st) return STORE_EINVAL;
    return st->ops->session_set_seq_reserved(st, id, seq_reserved);
}

int store_session_add_usage(store *st, const char *id, uint64_t prompt, uint64_t completion)
{
    if (!st) return STORE_EINVAL;
    return st->ops->session_add_usage(st, id, prompt, completion);
}

int store_message_insert(store *st, store_message *m)
{
    if (!st) return STORE_EINVAL;
    return st->ops->message_insert(st, m);
}

int store_message_insert_with(store *st, store_message *m, const store_attachment *atts,
                              size_t n_atts)
{
    if (!st) return STORE_EINVAL;
    if (!n_atts) return st->ops->message_insert(st, m);
    if (!st->ops->message_insert_with) return STORE_EINVAL;
    return st->ops->message_insert_with(st, m, atts, n_atts);
}

int store_attachments_load(store *st, uint64_t message_id, store_attachment **out, size_t *n)
{
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!st) return STORE_EINVAL;
    if (!st->ops->attachments_load) return STORE_OK; /* an engine without attachments has none */
    return st->ops->attachments_load(st, message_id, out, n);
}

int store_attachment_hashes(store *st, char ***out, size_t *n)
{
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    /* Without the references GC must not run: it would remove every file. */
    if (!st || !st->ops->attachment_hashes) return STORE_EINVAL;
    return st->ops->attachment_hashes(st, out, n);
}

void store_attachments_free(store_attachment *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        free(list[i].name);
    free(list);
}

int store_message_finish(store *st, uint64_t id, store_msg_state state, const char *content,
                         const char *error)
{
    if (!st) return STORE_EINVAL;
    return st->ops->message_finish(st, id, state, content, error);
}

int store_turn_end(store *st, const char *session_id, store_message *replies, size_t n,
                   uint64_t user_id, store_msg_state user_state, uint64_t prompt,
                   uint64_t completion)
{
    if (!st || !store_turn_end_ok(session_id, replies, n, user_id, user_state, prompt, completion))
        return STORE_EINVAL;
    if (st->ops->turn_end)
        return st->ops->turn_end(st, session_id, replies, n, user_id, user_state, prompt,
                                 completion);
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < n; i++)
        rc = st->ops->message_insert(st, &replies[i]);
    if (rc == STORE_OK && user_state)
        rc = st->ops->message_finish(st, user_id, user_state, NULL, NULL);
    if (rc == STORE_OK && (prompt || completion))
        rc = st->ops->session_add_usage(st, session_id, prompt, completion);
    return rc;
}

int store_message_find_client_id(store *st, const char *session_id, const char *client_id,
                                 store_message *out)
{
    if (!st) {
        if (out) memset(out, 0, sizeof *out);
        return STORE_EINVAL;
    }
    return st->ops->message_find_client_id(st, session_id, client_id, out);
}

int store_messages_load(store *st, const char *session_id, size_t limit, store_message **out,
                        size_t *n, int *truncated)
{
    if (!st) {
        RESET_LIST(out, n);
        if (truncated) *truncated = 0;
        return STORE_EINVAL;
    }
    return st->ops->messages_load(st, session_id, limit, out, n, truncated);
}

int store_recover_interrupted(store *st, const char *error, size_t *changed)
{
    if (!st) {
        if (changed) *changed = 0;
        return STORE_EINVAL;
    }
    return st->ops->recover_interrupted(st, error, changed);
}

int store_messages_queued(store *st, store_message **out, size_t *n)
{
    if (!st) {
        RESET_LIST(out, n);
        return STORE_EINVAL;
    }
    return st->ops->messages_queued(st, out, n);
}

int store_counter_get(store *st, const char *name, uint64_t *out)
{
    if (!st) {
        if (out) *out = 0;
        return STORE_EINVAL;
    }
    return st->ops->counter_get(st, name, out);
}

int store_counter_raise(store *st, const char *name, uint64_t value)
{
    if (!st) return STORE_EINVAL;
    return st->ops->counter_raise(st, name, value);
}

int store_idem_put(store *st, const store_idem *e)
{
    if (!st) return STORE_EINVAL;
    return st->ops->idem_put(st, e);
}

int store_idem_delete(store *st, const void *scope, size_t len)
{
    if (!st) return STORE_EINVAL;
    return st->ops->idem_delete(st, scope, len);
}

int store_idem_load(store *st, int64_t min_created_ms, size_t max_keys, store_idem **out, size_t *n)
{
    if (!st) {
        RESET_LIST(out, n);
        return STORE_EINVAL;
    }
    return st->ops->idem_load(st, min_created_ms, max_keys, out, n);
}

int store_idem_get(store *st, const void *scope, size_t len, int64_t min_created_ms,
                   store_idem *out)
{
    if (!st || !out || !scope || len < 1 || len > STORE_IDEM_SCOPE_MAX) return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!st->ops->idem_get) return STORE_NOT_FOUND;
    return st->ops->idem_get(st, scope, len, min_created_ms, out);
}

int store_summary_latest(store *st, const char *session_id, store_message *out)
{
    if (!st) {
        if (out) memset(out, 0, sizeof *out);
        return STORE_EINVAL;
    }
    return st->ops->summary_latest(st, session_id, out);
}

int store_messages_after(store *st, const char *session_id, uint64_t after_id, size_t limit,
                         store_message **out, size_t *n, int *truncated)
{
    if (!st) {
        RESET_LIST(out, n);
        if (truncated) *truncated = 0;
        return STORE_EINVAL;
    }
    return st->ops->messages_after(st, session_id, after_id, limit, out, n, truncated);
}

int store_memory_add(store *st, const char *session_id, const char *content, uint64_t *id)
{
    if (!st) {
        if (id) *id = 0;
        return STORE_EINVAL;
    }
    return st->ops->memory_add(st, session_id, content, id);
}

int store_search(store *st, const char *match, const char *session_id, unsigned kind_mask,
                 size_t limit, store_hit **out, size_t *n)
{
    if (!st) {
        RESET_LIST(out, n);
        return STORE_EINVAL;
    }
    return st->ops->search(st, match, session_id, kind_mask, limit, out, n);
}

int store_message_get(store *st, uint64_t id, store_message *out)
{
    if (!st) {
        if (out) memset(out, 0, sizeof *out);
        return STORE_EINVAL;
    }
    return st->ops->message_get(st, id, out);
}

int store_session_fork(store *st, const char *src_id, uint64_t upto_id, const store_session *dst,
                       size_t *copied)
{
    if (copied) *copied = 0;
    if (!st) return STORE_EINVAL;
    return st->ops->session_fork(st, src_id, upto_id, dst, copied);
}

int store_session_revert(store *st, const char *id, uint64_t to_id, uint64_t through_id,
                         int64_t now_ms, size_t *hidden)
{
    if (hidden) *hidden = 0;
    if (!st) return STORE_EINVAL;
    return st->ops->session_revert(st, id, to_id, through_id, now_ms, hidden);
}

int store_checkpoint_put(store *st, const store_checkpoint *c)
{
    if (!st) return STORE_EINVAL;
    return st->ops->checkpoint_put(st, c);
}

int store_checkpoints_list(store *st, const char *session_id, int with_workflow,
                           store_checkpoint **out, size_t *n)
{
    if (!st) {
        RESET_LIST(out, n);
        return STORE_EINVAL;
    }
    return st->ops->checkpoints_list(st, session_id, with_workflow, out, n);
}

/* ---- embeddings ---- */

int store_embed_next(store *st, int64_t now_ms, size_t limit, store_embed_job **out, size_t *n)
{
    if (!st) {
        RESET_LIST(out, n);
        return STORE_EINVAL;
    }
    return st->ops->embed_next(st, now_ms, limit, out, n);
}

int store_embed_put(store *st, uint64_t entry, const char *model, const float *v, size_t dim)
{
    if (!st) return STORE_EINVAL;
    return st->ops->embed_put(st, entry, model, v, dim);
}

int store_embed_retry(store *st, const uint64_t *entries, size_t n, int64_t next_ms)
{
    if (!st) return STORE_EINVAL;
    return st->ops->embed_retry(st, entries, n, next_ms);
}

int store_embed_requeue(store *st, const char *model, size_t *queued)
{
    if (queued) *queued = 0;
    if (!st) return STORE_EINVAL;
    return st->ops->embed_requeue(st, model, queued);
}

int store_embed_scan(store *st, const char *model, size_t dim, const char *session_id,
                     unsigned kind_mask, size_t limit, store_vec_fn fn, void *ud)
{
    if (!st) return STORE_EINVAL;
    return st->ops->embed_scan(st, model, dim, session_id, kind_mask, limit, fn, ud);
}

int store_embed_get(store *st, const char *model, size_t dim, const uint64_t *entries, size_t n,
                    store_vec_fn fn, void *ud)
{
    if (!st) return STORE_EINVAL;
    return st->ops->embed_get(st, model, dim, entries, n, fn, ud);
}

int store_hit_get(store *st, uint64_t entry, store_hit *out)
{
    if (out) memset(out, 0, sizeof *out);
    if (!st) return STORE_EINVAL;
    return st->ops->hit_get(st, entry, out);
}

void store_embed_jobs_free(store_embed_job *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        free(list[i].text);
    free(list);
}

int store_session_unrevert(store *st, const char *id, size_t *restored, uint64_t *first, int *why)
{
    if (restored) *restored = 0;
    if (first) *first = 0;
    if (why) *why = 0;
    if (!st) return STORE_EINVAL;
    return st->ops->session_unrevert(st, id, restored, first, why);
}

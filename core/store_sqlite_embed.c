/* store_sqlite_embed: the embeddings of hybrid search on SQLite
 * (store.h). Vectors are BLOBs of dim native float32s. */
#include "store_sqlite_int.h"

/* The text of an entry (message or memory), visible or not. */
#define SQ_ENTRY_TEXT                                                                              \
    "CASE WHEN q.entry % 2 = 0 THEN (SELECT content FROM messages WHERE id = q.entry / 2)"         \
    " ELSE (SELECT content FROM memories WHERE id = q.entry / 2) END"

int sq_embed_next(store *base, int64_t now_ms, size_t limit, store_embed_job **out, size_t *n)
{
    sq *st = (sq *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!st || limit == 0 || limit > 1024) return STORE_EINVAL;
    store_embed_job *list = calloc(limit, sizeof *list);
    if (!list) return STORE_ENOMEM;
    size_t len = 0, gone = 0;
    uint64_t gone_ids[64];
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = NULL;
    int err = sq_prep(st,
                      "SELECT q.entry, q.attempts, " SQ_ENTRY_TEXT " FROM embed_queue q"
                      " WHERE q.next_ms <= ?1 ORDER BY q.entry DESC LIMIT ?2",
                      &q, "embed queue");
    if (err == STORE_OK) {
        sqlite3_bind_int64(q, 1, now_ms);
        sqlite3_bind_int64(q, 2, (int64_t)limit);
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW && err == STORE_OK) {
            uint64_t entry = (uint64_t)sqlite3_column_int64(q, 0);
            const char *t = (const char *)sqlite3_column_text(q, 2);
            if (!t || !*t) { /* its row is gone or empty */
                if (gone < sizeof gone_ids / sizeof gone_ids[0]) gone_ids[gone++] = entry;
                continue;
            }
            list[len].entry = entry;
            list[len].attempts = (uint32_t)sqlite3_column_int64(q, 1);
            err = store_embed_text(t, (size_t)sqlite3_column_bytes(q, 2), &list[len].text);
            if (err == STORE_OK) len++;
        }
        if (err == STORE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
            err = sq_sql_fail(st, rc, "embed queue");
    }
    sqlite3_finalize(q);
    q = NULL;
    if (err == STORE_OK && gone &&
        sq_prep(st, "DELETE FROM embed_queue WHERE entry = ?1", &q, "embed queue drop") ==
            STORE_OK) {
        for (size_t i = 0; i < gone; i++) {
            sqlite3_bind_int64(q, 1, (int64_t)gone_ids[i]);
            sqlite3_step(q);
            sqlite3_reset(q);
        }
        sqlite3_finalize(q);
    }
    pthread_mutex_unlock(&st->mu);
    if (err != STORE_OK || len == 0) {
        store_embed_jobs_free(list, len);
        return err;
    }
    *out = list;
    *n = len;
    return STORE_OK;
}

int sq_embed_put(store *base, uint64_t entry, const char *model, const float *v, size_t dim)
{
    sq *st = (sq *)base;
    if (!st || !v || !store_embed_ok(model, dim) || !store_u63_ok(entry)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = NULL;
    int err = sq_tx_begin(st);
    /* Only for an entry that still exists: a delete between the read and
     * this write must not leave a vector behind. */
    if (err == STORE_OK)
        err = sq_prep(st,
                      "INSERT OR REPLACE INTO embeddings(entry, model, dim, vec)"
                      " SELECT ?1, ?2, ?3, ?4 WHERE CASE WHEN ?1 % 2 = 0"
                      " THEN EXISTS(SELECT 1 FROM messages WHERE id = ?1 / 2)"
                      " ELSE EXISTS(SELECT 1 FROM memories WHERE id = ?1 / 2) END",
                      &q, "store vector");
    int changed = 0;
    if (err == STORE_OK) {
        sqlite3_bind_int64(q, 1, (int64_t)entry);
        sq_bind_text(q, 2, model);
        sqlite3_bind_int64(q, 3, (int64_t)dim);
        sqlite3_bind_blob(q, 4, v, (int)(dim * sizeof(float)), SQLITE_STATIC);
        int rc = sqlite3_step(q);
        err = rc == SQLITE_DONE ? STORE_OK : sq_sql_fail(st, rc, "store vector");
        changed = sqlite3_changes(st->db);
    }
    sqlite3_finalize(q);
    q = NULL;
    if (err == STORE_OK)
        err = sq_prep(st, "DELETE FROM embed_queue WHERE entry = ?1", &q, "embed dequeue");
    if (err == STORE_OK) {
        sqlite3_bind_int64(q, 1, (int64_t)entry);
        int rc = sqlite3_step(q);
        err = rc == SQLITE_DONE ? STORE_OK : sq_sql_fail(st, rc, "embed dequeue");
    }
    sqlite3_finalize(q);
    if (err == STORE_OK)
        err = sq_tx_commit(st);
    else
        sq_tx_rollback(st);
    pthread_mutex_unlock(&st->mu);
    return err == STORE_OK && !changed ? STORE_NOT_FOUND : err;
}

int sq_embed_retry(store *base, const uint64_t *entries, size_t n, int64_t next_ms)
{
    sq *st = (sq *)base;
    if (!st || (n && !entries)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = NULL;
    int err = sq_tx_begin(st);
    if (err == STORE_OK)
        err = sq_prep(st,
                      "UPDATE embed_queue SET attempts = attempts + 1, next_ms = ?2"
                      " WHERE entry = ?1",
                      &q, "embed retry");
    for (size_t i = 0; err == STORE_OK && i < n; i++) {
        sqlite3_bind_int64(q, 1, (int64_t)entries[i]);
        sqlite3_bind_int64(q, 2, next_ms);
        int rc = sqlite3_step(q);
        err = rc == SQLITE_DONE ? STORE_OK : sq_sql_fail(st, rc, "embed retry");
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    if (err == STORE_OK)
        err = sq_tx_commit(st);
    else
        sq_tx_rollback(st);
    pthread_mutex_unlock(&st->mu);
    return err;
}

int sq_embed_requeue(store *base, const char *model, size_t *queued)
{
    sq *st = (sq *)base;
    if (queued) *queued = 0;
    if (!st || !model || !*model || !store_text_ok(model, STORE_EMBED_MODEL_MAX))
        return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = NULL;
    int err = sq_tx_begin(st);
    size_t total = 0;
    static const char *const sql[] = {
        "INSERT OR IGNORE INTO embed_queue(entry) SELECT m.id * 2 FROM messages m"
        " WHERE m.content <> '' AND NOT EXISTS(SELECT 1 FROM embeddings e"
        " WHERE e.entry = m.id * 2 AND e.model = ?1)",
        "INSERT OR IGNORE INTO embed_queue(entry) SELECT y.id * 2 + 1 FROM memories y"
        " WHERE NOT EXISTS(SELECT 1 FROM embeddings e WHERE e.entry = y.id * 2 + 1"
        " AND e.model = ?1)",
    };
    for (size_t i = 0; err == STORE_OK && i < 2; i++) {
        err = sq_prep(st, sql[i], &q, "embed requeue");
        if (err != STORE_OK) break;
        sq_bind_text(q, 1, model);
        int rc = sqlite3_step(q);
        err = rc == SQLITE_DONE ? STORE_OK : sq_sql_fail(st, rc, "embed requeue");
        total += (size_t)sqlite3_changes(st->db);
        sqlite3_finalize(q);
        q = NULL;
    }
    if (err == STORE_OK)
        err = sq_tx_commit(st);
    else
        sq_tx_rollback(st);
    pthread_mutex_unlock(&st->mu);
    if (err == STORE_OK && queued) *queued = total;
    return err;
}

/* Feeds fn with each row (entry, vec) of q whose blob holds dim floats.
 * The blob is copied when it is not aligned for float access. */
static int sq_feed_vectors(sq *st, sqlite3_stmt *q, size_t dim, store_vec_fn fn, void *ud,
                           float *tmp)
{
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const void *b = sqlite3_column_blob(q, 1);
        if (!b || (size_t)sqlite3_column_bytes(q, 1) != dim * sizeof(float)) continue;
        const float *v = b;
        if ((uintptr_t)b % _Alignof(float)) {
            memcpy(tmp, b, dim * sizeof(float));
            v = tmp;
        }
        fn(ud, (uint64_t)sqlite3_column_int64(q, 0), v);
    }
    return rc == SQLITE_DONE ? STORE_OK : sq_sql_fail(st, rc, "read vectors");
}

int sq_embed_scan(store *base, const char *model, size_t dim, const char *session_id,
                  unsigned kind_mask, size_t limit, store_vec_fn fn, void *ud)
{
    sq *st = (sq *)base;
    if (!st || !fn || !store_embed_ok(model, dim) || (session_id && !store_id_ok(session_id)))
        return STORE_EINVAL;
    if (limit == 0 || (kind_mask & STORE_HIT_ALL) == 0) return STORE_OK;
    float *tmp = malloc(dim * sizeof(float));
    if (!tmp) return STORE_ENOMEM;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = NULL;
    /* Newest first through the primary key; hidden (reverted) messages and
     * the kinds and session asked for are filtered per row, as the FTS
     * filters do (a session's search leaves global memories out). */
    int err =
        sq_prep(st,
                "SELECT e.entry, e.vec FROM embeddings e"
                " LEFT JOIN messages m ON e.entry % 2 = 0 AND m.id = e.entry / 2"
                " LEFT JOIN memories y ON e.entry % 2 = 1 AND y.id = e.entry / 2"
                " WHERE e.model = ?1 AND e.dim = ?2 AND ("
                "  (m.id IS NOT NULL AND m.reverted_ms = 0 AND (?3 IS NULL OR m.session_id = ?3)"
                "   AND (?4 >> m.kind) & 1)"
                "  OR (y.id IS NOT NULL AND (?3 IS NULL OR y.session_id = ?3) AND (?4 >> 2) & 1))"
                " ORDER BY e.entry DESC LIMIT ?5",
                &q, "scan vectors");
    if (err == STORE_OK) {
        sq_bind_text(q, 1, model);
        sqlite3_bind_int64(q, 2, (int64_t)dim);
        sq_bind_text(q, 3, session_id);
        sqlite3_bind_int64(q, 4, (int64_t)(kind_mask & STORE_HIT_ALL));
        sqlite3_bind_int64(q, 5, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
        err = sq_feed_vectors(st, q, dim, fn, ud, tmp);
    }
    sqlite3_finalize(q);
    pthread_mutex_unlock(&st->mu);
    free(tmp);
    return err;
}

int sq_embed_get(store *base, const char *model, size_t dim, const uint64_t *entries, size_t n,
                 store_vec_fn fn, void *ud)
{
    sq *st = (sq *)base;
    if (!st || !fn || (n && !entries) || !store_embed_ok(model, dim)) return STORE_EINVAL;
    if (n == 0) return STORE_OK;
    float *tmp = malloc(dim * sizeof(float));
    if (!tmp) return STORE_ENOMEM;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = NULL;
    int err = sq_prep(st,
                      "SELECT entry, vec FROM embeddings WHERE entry = ?1 AND model = ?2"
                      " AND dim = ?3",
                      &q, "get vectors");
    for (size_t i = 0; err == STORE_OK && i < n; i++) {
        sqlite3_bind_int64(q, 1, (int64_t)entries[i]);
        sq_bind_text(q, 2, model);
        sqlite3_bind_int64(q, 3, (int64_t)dim);
        err = sq_feed_vectors(st, q, dim, fn, ud, tmp);
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    pthread_mutex_unlock(&st->mu);
    free(tmp);
    return err;
}

int sq_hit_get(store *base, uint64_t entry, store_hit *out)
{
    sq *st = (sq *)base;
    if (!out) return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!st || !store_u63_ok(entry)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = NULL;
    int err =
        sq_prep(st,
                entry % 2 == 0 ? "SELECT m.kind, m.session_id, coalesce(s.title, ''), m.created_ms,"
                                 " m.role, m.content FROM messages m"
                                 " LEFT JOIN sessions s ON s.id = m.session_id"
                                 " WHERE m.id = ?1 AND m.reverted_ms = 0"
                               : "SELECT 2, coalesce(y.session_id, ''), coalesce(s.title, ''),"
                                 " y.created_ms, 0, y.content FROM memories y"
                                 " LEFT JOIN sessions s ON s.id = y.session_id WHERE y.id = ?1",
                &q, "get hit");
    const char *text = NULL;
    if (err == STORE_OK) {
        sqlite3_bind_int64(q, 1, (int64_t)(entry / 2));
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            int kind = sqlite3_column_int(q, 0);
            const char *sid = (const char *)sqlite3_column_text(q, 1);
            size_t sl = (size_t)sqlite3_column_bytes(q, 1);
            if (kind < STORE_HIT_MESSAGE || kind > STORE_HIT_MEMORY || sl > STORE_ID_MAX) {
                err = STORE_NOT_FOUND; /* not a row we wrote */
            } else {
                out->kind = (store_hit_kind)kind;
                out->id = entry / 2;
                if (sl) memcpy(out->session_id, sid, sl);
                out->session_id[sl] = '\0';
                err = sq_col_dup(q, 2, 1, &out->session_title);
                out->created_ms = sqlite3_column_int64(q, 3);
                out->role = sqlite3_column_int(q, 4);
                text = (const char *)sqlite3_column_text(q, 5);
                if (err == STORE_OK) err = store_snippet_start(text ? text : "", &out->snippet);
                if (err == STORE_OK && kind == STORE_HIT_MEMORY)
                    err = sq_col_dup(q, 5, 1, &out->text);
            }
        } else {
            err = rc == SQLITE_DONE ? STORE_NOT_FOUND : sq_sql_fail(st, rc, "get hit");
        }
    }
    sqlite3_finalize(q);
    pthread_mutex_unlock(&st->mu);
    if (err != STORE_OK) {
        free(out->session_title), free(out->snippet), free(out->text);
        memset(out, 0, sizeof *out);
    }
    return err;
}

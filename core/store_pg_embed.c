/* store_pg_embed: the embeddings of hybrid search on PostgreSQL (store.h),
 * as store_sqlite_embed.c does on SQLite. Vectors are BYTEA of dim float32s
 * in the core's byte order, written as a binary parameter and read back from
 * the hex text form. */
#include "store_pg_int.h"

#define PG_ENTRY_TEXT                                                                              \
    "CASE WHEN q.entry % 2 = 0 THEN (SELECT content FROM messages WHERE id = q.entry / 2)"         \
    " ELSE (SELECT content FROM memories WHERE id = q.entry / 2) END"

int pg_embed_next(store *base, int64_t now_ms, size_t limit, store_embed_job **out, size_t *n)
{
    pg *p = (pg *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!p || limit == 0 || limit > 1024) return STORE_EINVAL;
    params ps = {0};
    pg_p_i64(&ps, now_ms);
    pg_p_i64(&ps, (int64_t)limit);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = pg_run(p, "embed queue",
                     "SELECT q.entry, q.attempts, " PG_ENTRY_TEXT " FROM embed_queue q"
                     " WHERE q.next_ms <= $1::bigint ORDER BY q.entry DESC LIMIT $2::bigint",
                     &ps, &r);
    int rows = err == STORE_OK ? PQntuples(r) : 0;
    store_embed_job *list = rows > 0 ? calloc((size_t)rows, sizeof *list) : NULL;
    if (rows > 0 && !list) err = STORE_ENOMEM;
    size_t len = 0;
    for (int i = 0; err == STORE_OK && i < rows; i++) {
        uint64_t entry = (uint64_t)pg_col_i64(r, i, 0);
        if (PQgetisnull(r, i, 2) || PQgetlength(r, i, 2) == 0) { /* its row is gone */
            params d = {0};
            pg_p_i64(&d, (int64_t)entry);
            pg_run_cmd(p, "embed queue drop", "DELETE FROM embed_queue WHERE entry = $1::bigint",
                       &d, NULL);
            continue;
        }
        list[len].entry = entry;
        list[len].attempts = (uint32_t)pg_col_i64(r, i, 1);
        err = store_embed_text(PQgetvalue(r, i, 2), (size_t)PQgetlength(r, i, 2), &list[len].text);
        if (err == STORE_OK) len++;
    }
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    if (err != STORE_OK || len == 0) {
        store_embed_jobs_free(list, len);
        return err;
    }
    *out = list;
    *n = len;
    return STORE_OK;
}

int pg_embed_put(store *base, uint64_t entry, const char *model, const float *v, size_t dim)
{
    pg *p = (pg *)base;
    if (!p || !v || !store_embed_ok(model, dim) || !store_u63_ok(entry)) return STORE_EINVAL;
    params ps = {0};
    pg_p_i64(&ps, (int64_t)entry);
    pg_p_text(&ps, model);
    pg_p_i64(&ps, (int64_t)dim);
    pg_p_bytes(&ps, v, dim * sizeof(float));
    params pd = {0};
    pg_p_i64(&pd, (int64_t)entry);
    pthread_mutex_lock(&p->mu);
    size_t changed = 0;
    int err = pg_exec_simple(p, "begin vector", "BEGIN");
    /* Only for an entry that still exists (a delete may have come since). */
    if (err == STORE_OK)
        err = pg_run_cmd(
            p, "store vector",
            "INSERT INTO embeddings(entry, model, dim, vec)"
            " SELECT $1::bigint, $2, $3::bigint, $4::bytea WHERE CASE WHEN $1::bigint % 2 = 0"
            " THEN EXISTS(SELECT 1 FROM messages WHERE id = $1::bigint / 2)"
            " ELSE EXISTS(SELECT 1 FROM memories WHERE id = $1::bigint / 2) END"
            " ON CONFLICT (entry) DO UPDATE SET model = EXCLUDED.model,"
            " dim = EXCLUDED.dim, vec = EXCLUDED.vec",
            &ps, &changed);
    if (err == STORE_OK)
        err = pg_run_cmd(p, "embed dequeue", "DELETE FROM embed_queue WHERE entry = $1::bigint",
                         &pd, NULL);
    if (err == STORE_OK) err = pg_exec_simple(p, "commit vector", "COMMIT");
    if (err != STORE_OK && p->conn) PQclear(PQexec(p->conn, "ROLLBACK"));
    pthread_mutex_unlock(&p->mu);
    return err == STORE_OK && !changed ? STORE_NOT_FOUND : err;
}

int pg_embed_retry(store *base, const uint64_t *entries, size_t n, int64_t next_ms)
{
    pg *p = (pg *)base;
    if (!p || (n && !entries)) return STORE_EINVAL;
    int err = STORE_OK;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; err == STORE_OK && i < n; i++) {
        params ps = {0};
        pg_p_i64(&ps, (int64_t)entries[i]);
        pg_p_i64(&ps, next_ms);
        err = pg_run_cmd(p, "embed retry",
                         "UPDATE embed_queue SET attempts = attempts + 1, next_ms = $2::bigint"
                         " WHERE entry = $1::bigint",
                         &ps, NULL);
    }
    pthread_mutex_unlock(&p->mu);
    return err;
}

int pg_embed_requeue(store *base, const char *model, size_t *queued)
{
    pg *p = (pg *)base;
    if (queued) *queued = 0;
    if (!p || !model || !*model || !store_text_ok(model, STORE_EMBED_MODEL_MAX))
        return STORE_EINVAL;
    params ps = {0};
    pg_p_text(&ps, model);
    size_t a = 0, b = 0;
    pthread_mutex_lock(&p->mu);
    int err = pg_run_cmd(p, "embed requeue",
                         "INSERT INTO embed_queue(entry) SELECT m.id * 2 FROM messages m"
                         " WHERE m.content <> '' AND NOT EXISTS(SELECT 1 FROM embeddings e"
                         " WHERE e.entry = m.id * 2 AND e.model = $1) ON CONFLICT DO NOTHING",
                         &ps, &a);
    if (err == STORE_OK)
        err = pg_run_cmd(p, "embed requeue",
                         "INSERT INTO embed_queue(entry) SELECT y.id * 2 + 1 FROM memories y"
                         " WHERE NOT EXISTS(SELECT 1 FROM embeddings e WHERE e.entry = y.id * 2 + 1"
                         " AND e.model = $1) ON CONFLICT DO NOTHING",
                         &ps, &b);
    pthread_mutex_unlock(&p->mu);
    if (err == STORE_OK && queued) *queued = a + b;
    return err;
}

/* Feeds fn with each row (entry, vec) of r whose vector holds dim floats. */
static int pg_feed_vectors(const PGresult *r, size_t dim, store_vec_fn fn, void *ud)
{
    for (int i = 0; i < PQntuples(r); i++) {
        size_t len = 0;
        unsigned char *b = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 1), &len);
        if (!b) return STORE_ENOMEM;
        if (len == dim * sizeof(float)) /* malloc'd: aligned for floats */
            fn(ud, (uint64_t)pg_col_i64(r, i, 0), (const float *)(void *)b);
        PQfreemem(b);
    }
    return STORE_OK;
}

int pg_embed_scan(store *base, const char *model, size_t dim, const char *session_id,
                  unsigned kind_mask, size_t limit, store_vec_fn fn, void *ud)
{
    pg *p = (pg *)base;
    if (!p || !fn || !store_embed_ok(model, dim) || (session_id && !store_id_ok(session_id)))
        return STORE_EINVAL;
    if (limit == 0 || (kind_mask & STORE_HIT_ALL) == 0) return STORE_OK;
    params ps = {0};
    pg_p_text(&ps, model);
    pg_p_i64(&ps, (int64_t)dim);
    pg_p_text(&ps, session_id);
    pg_p_i64(&ps, (int64_t)(kind_mask & STORE_HIT_ALL));
    pg_p_i64(&ps, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err =
        pg_run(p, "scan vectors",
               "SELECT e.entry, e.vec FROM embeddings e"
               " LEFT JOIN messages m ON e.entry % 2 = 0 AND m.id = e.entry / 2"
               " LEFT JOIN memories y ON e.entry % 2 = 1 AND y.id = e.entry / 2"
               " WHERE e.model = $1 AND e.dim = $2::bigint AND ("
               "  (m.id IS NOT NULL AND m.reverted_ms = 0"
               "   AND ($3::text IS NULL OR m.session_id = $3) AND (($4::int >> m.kind) & 1) = 1)"
               "  OR (y.id IS NOT NULL AND ($3::text IS NULL OR y.session_id = $3)"
               "   AND ($4::int & 4) <> 0))"
               " ORDER BY e.entry DESC LIMIT $5::bigint",
               &ps, &r);
    pthread_mutex_unlock(&p->mu);
    if (err == STORE_OK) err = pg_feed_vectors(r, dim, fn, ud);
    PQclear(r);
    return err;
}

int pg_embed_get(store *base, const char *model, size_t dim, const uint64_t *entries, size_t n,
                 store_vec_fn fn, void *ud)
{
    pg *p = (pg *)base;
    if (!p || !fn || (n && !entries) || !store_embed_ok(model, dim)) return STORE_EINVAL;
    if (n == 0) return STORE_OK;
    /* One round trip: the entries as an array literal. */
    char *arr = malloc(n * 21 + 3);
    if (!arr) return STORE_ENOMEM;
    size_t len = 0;
    arr[len++] = '{';
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(arr + len, "%s%llu", i ? "," : "", (unsigned long long)entries[i]);
    arr[len++] = '}';
    arr[len] = '\0';
    params ps = {0};
    pg_p_text(&ps, model);
    pg_p_i64(&ps, (int64_t)dim);
    pg_p_text(&ps, arr);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = pg_run(p, "get vectors",
                     "SELECT entry, vec FROM embeddings WHERE model = $1 AND dim = $2::bigint"
                     " AND entry = ANY($3::bigint[])",
                     &ps, &r);
    pthread_mutex_unlock(&p->mu);
    free(arr);
    if (err == STORE_OK) err = pg_feed_vectors(r, dim, fn, ud);
    PQclear(r);
    return err;
}

int pg_hit_get(store *base, uint64_t entry, store_hit *out)
{
    pg *p = (pg *)base;
    if (!out) return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!p || !store_u63_ok(entry)) return STORE_EINVAL;
    params ps = {0};
    pg_p_i64(&ps, (int64_t)(entry / 2));
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = pg_run(p, "get hit",
                     entry % 2 == 0
                         ? "SELECT m.kind, m.session_id, coalesce(s.title, ''), m.created_ms,"
                           " m.role, m.content FROM messages m"
                           " LEFT JOIN sessions s ON s.id = m.session_id"
                           " WHERE m.id = $1::bigint AND m.reverted_ms = 0"
                         : "SELECT 2, coalesce(y.session_id, ''), coalesce(s.title, ''),"
                           " y.created_ms, 0, y.content FROM memories y"
                           " LEFT JOIN sessions s ON s.id = y.session_id WHERE y.id = $1::bigint",
                     &ps, &r);
    pthread_mutex_unlock(&p->mu);
    if (err == STORE_OK && PQntuples(r) == 0) err = STORE_NOT_FOUND;
    if (err == STORE_OK) {
        int64_t kind = pg_col_i64(r, 0, 0);
        int sl = PQgetlength(r, 0, 1);
        if (kind < STORE_HIT_MESSAGE || kind > STORE_HIT_MEMORY || sl > STORE_ID_MAX) {
            err = STORE_NOT_FOUND; /* not a row we wrote */
        } else {
            out->kind = (store_hit_kind)kind;
            out->id = entry / 2;
            memcpy(out->session_id, PQgetvalue(r, 0, 1), (size_t)sl);
            out->session_id[sl] = '\0';
            err = pg_col_dup(r, 0, 2, 1, &out->session_title);
            out->created_ms = pg_col_i64(r, 0, 3);
            out->role = (int)pg_col_i64(r, 0, 4);
            if (err == STORE_OK) err = store_snippet_start(PQgetvalue(r, 0, 5), &out->snippet);
            if (err == STORE_OK && kind == STORE_HIT_MEMORY)
                err = pg_col_dup(r, 0, 5, 1, &out->text);
        }
    }
    PQclear(r);
    if (err != STORE_OK) {
        free(out->session_title), free(out->snippet), free(out->text);
        memset(out, 0, sizeof *out);
    }
    return err;
}

/* store_sqlite_memory: memory on SQLite (store.h): compaction's summaries,
 * long-term memories and full-text search. */
#include "store_sqlite_int.h"

/* ---- memory: compaction, long-term memories, search ---------------------- */

int sq_summary_latest(store *base, const char *session_id, store_message *out)
{
    sq *st = (sq *)base;
    if (!out) return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!st || !store_id_ok(session_id)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_M_SUMMARY_LATEST];
    sq_bind_text(q, 1, session_id);
    int rc = sqlite3_step(q), err;
    if (rc == SQLITE_ROW)
        err = sq_read_message(q, out);
    else if (rc == SQLITE_DONE)
        err = STORE_NOT_FOUND;
    else
        err = sq_sql_fail(st, rc, "latest summary");
    sq_q_done(q);
    pthread_mutex_unlock(&st->mu);
    return err;
}

int sq_messages_after(store *base, const char *session_id, uint64_t after_id, size_t limit,
                      store_message **out, size_t *n, int *truncated)
{
    sq *st = (sq *)base;
    if (!out || !n || !truncated) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    *truncated = 0;
    if (!st || !store_id_ok(session_id) || !store_u63_ok(after_id)) return STORE_EINVAL;
    int64_t lim = limit >= (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit + 1;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_M_AFTER];
    sq_bind_text(q, 1, session_id);
    sqlite3_bind_int64(q, 2, (int64_t)after_id);
    sqlite3_bind_int64(q, 3, lim);
    store_message *list = NULL;
    size_t len = 0;
    int err = sq_collect_messages(st, q, "load messages after", &list, &len);
    pthread_mutex_unlock(&st->mu);
    if (err != STORE_OK) return err;
    store_messages_page(list, len, limit, truncated, out, n);
    return STORE_OK;
}

int sq_memory_add(store *base, const char *session_id, const char *content, uint64_t *id)
{
    sq *st = (sq *)base;
    if (id) *id = 0;
    if (!st || !store_memory_ok(session_id, content)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_MEM_INSERT];
    sq_bind_text(q, 1, session_id);
    sq_bind_text(q, 2, content);
    sqlite3_bind_int64(q, 3, text_now_ms());
    int err = sq_q_exec(st, q, "add memory");
    /* The only constraint is the session's foreign key. */
    if (err == STORE_CONFLICT) err = STORE_NOT_FOUND;
    if (err == STORE_OK && id) *id = (uint64_t)sqlite3_last_insert_rowid(st->db);
    pthread_mutex_unlock(&st->mu);
    return err;
}

/* Fills the display fields of a hit (snippet, title, time, role). */
static int hit_details(sq *st, const char *match, int64_t rowid, store_hit *h)
{
    sqlite3_stmt *q = st->q[Q_SEARCH_SNIPPET];
    sq_bind_text(q, 1, match);
    sqlite3_bind_int64(q, 2, rowid);
    int rc = sqlite3_step(q), err = STORE_OK;
    if (rc == SQLITE_ROW) {
        err = sq_col_dup(q, 0, 1, &h->snippet);
        if (err == STORE_OK) err = sq_col_dup(q, 1, 1, &h->session_title);
        h->created_ms = sqlite3_column_int64(q, 2);
        h->role = sqlite3_column_int(q, 3);
        if (err == STORE_OK) err = sq_col_dup(q, 4, 0, &h->text);
        int kind = sqlite3_column_int(q, 5);
        const unsigned char *sid = sqlite3_column_text(q, 6);
        int sl = sqlite3_column_bytes(q, 6);
        if (err == STORE_OK &&
            (kind < STORE_HIT_MESSAGE || kind > STORE_HIT_MEMORY || sl > STORE_ID_MAX))
            err = STORE_EIO;
        if (err == STORE_OK) {
            h->kind = (store_hit_kind)kind;
            h->id = (uint64_t)(rowid / 2);
            if (sid && sl > 0) memcpy(h->session_id, sid, (size_t)sl);
            h->session_id[sl > 0 ? sl : 0] = '\0';
        }
    } else if (rc != SQLITE_DONE) {
        err = sq_sql_fail(st, rc, "search snippet");
    }
    sq_q_done(q);
    char **fields[] = {&h->snippet, &h->session_title};
    for (size_t i = 0; err == STORE_OK && i < 2; i++) {
        if (*fields[i]) continue;
        *fields[i] = calloc(1, 1); /* "": the entry went between the two queries */
        if (!*fields[i]) err = STORE_ENOMEM;
    }
    return err;
}

/* The full MATCH: the user's expression on the body, and the filters on
 * the tags column. *out is malloc'd. */
static int search_match(const char *match, const char *session_id, unsigned kind_mask, char **out)
{
    static const char *const kind_tag[] = {"kindmessage", "kindsummary", "kindmemory"};
    size_t cap = strlen(match) + 2 * (session_id ? strlen(session_id) : 0) + 128;
    char *m = malloc(cap);
    if (!m) return STORE_ENOMEM;
    size_t len = (size_t)snprintf(m, cap, "{body} : (%s)", match);
    if (session_id) {
        len += (size_t)snprintf(m + len, cap - len, " AND tags : \"");
        for (const char *p = session_id; *p; p++) { /* as the triggers write it */
            if (*p == '-') continue;
            if (*p == '"') m[len++] = '"';
            m[len++] = *p;
        }
        len += (size_t)snprintf(m + len, cap - len, "\"");
    }
    if ((kind_mask & STORE_HIT_ALL) != STORE_HIT_ALL) {
        len += (size_t)snprintf(m + len, cap - len, " AND tags : (");
        int k = 0;
        for (int i = 0; i < 3; i++)
            if (kind_mask & (1u << i))
                len += (size_t)snprintf(m + len, cap - len, "%s%s", k++ ? " OR " : "", kind_tag[i]);
        len += (size_t)snprintf(m + len, cap - len, ")");
    }
    *out = m;
    return STORE_OK;
}

int sq_search(store *base, const char *match, const char *session_id, unsigned kind_mask,
              size_t limit, store_hit **out, size_t *n)
{
    sq *st = (sq *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!st || !store_search_ok(match, session_id, limit)) return STORE_EINVAL;
    if (limit == 0 || (kind_mask & STORE_HIT_ALL) == 0) return STORE_OK;
    char *full = NULL;
    int err = search_match(match, session_id, kind_mask, &full);
    if (err != STORE_OK) return err;
    store_hit *list = calloc(limit, sizeof *list);
    if (!list) {
        free(full);
        return STORE_ENOMEM;
    }
    int64_t rowids[STORE_SEARCH_MAX];
    size_t len = 0;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_SEARCH_FLOOR];
    sq_bind_text(q, 1, full);
    sqlite3_bind_int64(q, 2, STORE_SEARCH_RANK_WINDOW - 1);
    int rc = sqlite3_step(q);
    int64_t floor = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0; /* fewer: rank all */
    sq_q_done(q);
    q = st->q[Q_SEARCH];
    sq_bind_text(q, 1, full);
    sqlite3_bind_int64(q, 2, floor);
    sqlite3_bind_int64(q, 3, (int64_t)limit);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) rc = sqlite3_step(q);
    for (; rc == SQLITE_ROW && len < limit; rc = sqlite3_step(q)) {
        list[len].score = sqlite3_column_double(q, 1);
        rowids[len++] = sqlite3_column_int64(q, 0);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        /* FTS5 reports a malformed expression as a plain SQLITE_ERROR. */
        err = (rc & 0xff) == SQLITE_ERROR ? STORE_EINVAL : sq_sql_fail(st, rc, "search");
        if (err == STORE_EINVAL) LOG_D(MOD, "search: %s", sqlite3_errmsg(st->db));
    }
    sq_q_done(q);
    size_t kept = 0;
    for (size_t i = 0; err == STORE_OK && i < len; i++) {
        store_hit h = list[i];
        err = hit_details(st, full, rowids[i], &h);
        if (err == STORE_EIO) { /* a row we did not write: skipped */
            free(h.snippet), free(h.session_title), free(h.text);
            err = STORE_OK;
            continue;
        }
        list[kept++] = h;
    }
    pthread_mutex_unlock(&st->mu);
    free(full);
    if (err != STORE_OK) {
        store_hits_free(list, kept);
        return err;
    }
    if (kept == 0) {
        free(list);
        list = NULL;
    }
    *out = list;
    *n = kept;
    return STORE_OK;
}

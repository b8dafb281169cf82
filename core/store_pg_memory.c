/* store_pg_memory: memory on PostgreSQL (store.h): compaction's summaries,
 * long-term memories and full-text search. */
#include "store_pg_int.h"

/* ---- memory: compaction, long-term memories, search -------------------------- */

int pg_summary_latest(store *base, const char *session_id, store_message *out)
{
    pg *p = (pg *)base;
    if (!out) return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!p || !store_id_ok(session_id)) return STORE_EINVAL;
    params ps = {0};
    pg_p_text(&ps, session_id);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = pg_run(p, "latest summary",
                     MESSAGE_COLS "WHERE session_id = $1 AND kind = 1 AND reverted_ms = 0"
                                  " ORDER BY id DESC LIMIT 1",
                     &ps, &r);
    if (err == STORE_OK) {
        err = PQntuples(r) == 1 ? pg_read_message(r, 0, out) : STORE_NOT_FOUND;
        if (err == STORE_EIO) LOG_E(MOD, "session %s: malformed summary row", session_id);
    }
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

int pg_messages_after(store *base, const char *session_id, uint64_t after_id, size_t limit,
                      store_message **out, size_t *n, int *truncated)
{
    pg *p = (pg *)base;
    if (!out || !n || !truncated) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    *truncated = 0;
    if (!p || !store_id_ok(session_id) || !store_u63_ok(after_id)) return STORE_EINVAL;
    /* One row beyond the limit tells whether older messages exist. */
    int64_t lim = limit >= (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit + 1;
    params ps = {0};
    pg_p_text(&ps, session_id);
    pg_p_i64(&ps, (int64_t)after_id);
    pg_p_i64(&ps, lim);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    store_message *list = NULL;
    size_t len = 0;
    int err = pg_run(p, "load messages after",
                     MESSAGE_COLS "WHERE session_id = $1 AND id > $2::bigint AND reverted_ms = 0"
                                  " ORDER BY id DESC LIMIT $3::bigint",
                     &ps, &r);
    if (err == STORE_OK) err = pg_collect_messages(r, "load messages after", &list, &len);
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    if (err != STORE_OK) return err;
    store_messages_page(list, len, limit, truncated, out, n);
    return STORE_OK;
}

int pg_memory_add(store *base, const char *session_id, const char *content, uint64_t *id)
{
    pg *p = (pg *)base;
    if (id) *id = 0;
    if (!p || !store_memory_ok(session_id, content)) return STORE_EINVAL;
    params ps = {0};
    pg_p_text(&ps, session_id);
    pg_p_text(&ps, content);
    pg_p_i64(&ps, text_now_ms());
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    /* The existence check in the statement: no row, no insert. */
    int err = pg_run(p, "add memory",
                     "INSERT INTO memories(session_id, content, created_ms)"
                     " SELECT $1, $2, $3::bigint"
                     " WHERE $1::text IS NULL OR EXISTS(SELECT 1 FROM sessions WHERE id = $1)"
                     " RETURNING id",
                     &ps, &r);
    if (err == STORE_OK && PQntuples(r) != 1) err = STORE_NOT_FOUND;
    if (err == STORE_OK && id) *id = (uint64_t)pg_col_i64(r, 0, 0);
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

/* Translates a MATCH expression as ftsq.h builds it (FTS5 strings "..."
 * with '"' doubled, " *" after a prefix string, parentheses, AND, OR and
 * NOT) into to_tsquery's syntax: each string a quoted lexeme, which
 * to_tsquery splits into words joined by <-> (a phrase) as to_tsvector
 * splits the text; :* for a prefix; & | and "& !". Anything else (FTS5
 * syntax ftsq never writes) is STORE_EINVAL. *out is malloc'd. */
static int fts_to_tsquery(const char *match, char **out)
{
    *out = NULL;
    size_t mlen = strlen(match);
    if (mlen > STORE_TEXT_MAX) return STORE_EINVAL;
    /* Worst case: every byte a quote or a backslash, doubled, and each
     * operator word widened by a few bytes. */
    size_t cap = 2 * mlen + 64;
    char *q = malloc(cap), *o = q;
    if (!q) return STORE_ENOMEM;
    int strings = 0;
    for (size_t i = 0; i < mlen;) {
        char c = match[i];
        if (c == ' ') {
            i++;
        } else if (c == '(' || c == ')') {
            *o++ = c;
            i++;
        } else if (c == '"') {
            *o++ = '\'';
            for (i++;; i++) {
                if (i >= mlen) goto bad; /* an unclosed string */
                if (match[i] == '"') {
                    if (i + 1 < mlen && match[i + 1] == '"') {
                        *o++ = '"';
                        i++;
                        continue;
                    }
                    break;
                }
                if (match[i] == '\'' || match[i] == '\\') *o++ = match[i];
                *o++ = match[i];
            }
            i++;
            *o++ = '\'';
            size_t j = i;
            while (j < mlen && match[j] == ' ')
                j++;
            if (j < mlen && match[j] == '*') {
                memcpy(o, ":*", 2);
                o += 2;
                i = j + 1;
            }
            strings++;
        } else if (strncmp(match + i, "AND ", 4) == 0) {
            memcpy(o, " & ", 3);
            o += 3;
            i += 4;
        } else if (strncmp(match + i, "OR ", 3) == 0) {
            memcpy(o, " | ", 3);
            o += 3;
            i += 3;
        } else if (strncmp(match + i, "NOT ", 4) == 0) {
            memcpy(o, " & !", 4);
            o += 4;
            i += 4;
        } else {
            goto bad;
        }
        if ((size_t)(o - q) + 8 > cap) goto bad; /* cannot happen: the bound above */
    }
    if (!strings) goto bad;
    *o = '\0';
    *out = q;
    return STORE_OK;
bad:
    free(q);
    return STORE_EINVAL;
}

/* The newest STORE_SEARCH_RANK_WINDOW matches are ranked, as on SQLite
 * (ts_rank reads each ranked row's text); hits come best first. The
 * score is -ts_rank, so that lower is better as with BM25. */
#define PG_SEARCH_SQL                                                                              \
    "WITH q AS (SELECT to_tsquery('simple'::regconfig, $1) AS q),"                                 \
    " hits AS ("                                                                                   \
    "  SELECT m.kind, m.id, m.session_id, m.content, m.created_ms, m.role FROM messages m, q"      \
    "  WHERE " PG_FTS_MESSAGE_M " @@ q.q AND ($2::text IS NULL OR m.session_id = $2)"              \
    "  AND m.reverted_ms = 0"                                                                      \
    "  AND (($3::int >> m.kind) & 1) = 1"                                                          \
    "  UNION ALL"                                                                                  \
    "  SELECT 2, mm.id, mm.session_id, mm.content, mm.created_ms, 0 FROM memories mm, q"           \
    "  WHERE " PG_FTS_MEMORY_MM " @@ q.q AND ($2::text IS NULL OR mm.session_id = $2)"             \
    "  AND ($3::int & 4) <> 0),"                                                                   \
    " win AS (SELECT * FROM hits ORDER BY created_ms DESC, id DESC LIMIT $5::bigint),"             \
    " ranked AS (SELECT win.*, ts_rank(to_tsvector('simple'::regconfig,"                           \
    "  left(win.content, " PG_FTS_CHARS ")), q.q) AS r FROM win, q"                                \
    "  ORDER BY r DESC, created_ms DESC, id DESC LIMIT $4::bigint)"                                \
    " SELECT kind, id, coalesce(session_id, ''),"                                                  \
    "  coalesce((SELECT title FROM sessions s WHERE s.id = ranked.session_id), ''),"               \
    "  ts_headline('simple'::regconfig, left(content, " PG_FTS_CHARS "), q.q,"                     \
    "  'StartSel=[, StopSel=], MaxWords=16, MinWords=6, ShortWord=0, MaxFragments=1,"              \
    " FragmentDelimiter=\" … \"'),"                                                              \
    "  CASE WHEN kind = 2 THEN content END, -r, created_ms, role"                                  \
    " FROM ranked, q ORDER BY r DESC, created_ms DESC, id DESC"
#define PG_FTS_MESSAGE_M "to_tsvector('simple'::regconfig, left(m.content, " PG_FTS_CHARS "))"
#define PG_FTS_MEMORY_MM "to_tsvector('simple'::regconfig, mm.content)"

int pg_search(store *base, const char *match, const char *session_id, unsigned kind_mask,
              size_t limit, store_hit **out, size_t *n)
{
    pg *p = (pg *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!p || !store_search_ok(match, session_id, limit)) return STORE_EINVAL;
    if (limit == 0 || (kind_mask & STORE_HIT_ALL) == 0) return STORE_OK;
    char *tsq = NULL;
    int err = fts_to_tsquery(match, &tsq);
    if (err != STORE_OK) return err;
    params ps = {0};
    pg_p_text(&ps, tsq);
    pg_p_text(&ps, session_id);
    pg_p_i64(&ps, (int64_t)(kind_mask & STORE_HIT_ALL));
    pg_p_i64(&ps, (int64_t)limit);
    pg_p_i64(&ps, STORE_SEARCH_RANK_WINDOW);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    err = pg_run(p, "search", PG_SEARCH_SQL, &ps, &r);
    pthread_mutex_unlock(&p->mu);
    free(tsq);
    if (err != STORE_OK) return err; /* a tsquery syntax error is sqlstate 42601: EIO */
    int rows = PQntuples(r);
    store_hit *list = rows > 0 ? calloc((size_t)rows, sizeof *list) : NULL;
    if (rows > 0 && !list) err = STORE_ENOMEM;
    size_t len = 0;
    for (int i = 0; err == STORE_OK && i < rows && len < limit; i++) {
        store_hit *h = &list[len];
        int64_t kind = pg_col_i64(r, i, 0);
        int sl = PQgetlength(r, i, 2);
        if (kind < STORE_HIT_MESSAGE || kind > STORE_HIT_MEMORY || sl > STORE_ID_MAX)
            continue; /* a row we did not write: skipped, as on SQLite */
        h->kind = (store_hit_kind)kind;
        h->id = (uint64_t)pg_col_i64(r, i, 1);
        memcpy(h->session_id, PQgetvalue(r, i, 2), (size_t)sl);
        h->session_id[sl] = '\0';
        err = pg_col_dup(r, i, 3, 1, &h->session_title);
        if (err == STORE_OK) err = pg_col_dup(r, i, 4, 1, &h->snippet);
        if (err == STORE_OK) err = pg_col_dup(r, i, 5, 0, &h->text);
        h->score = strtod(PQgetvalue(r, i, 6), NULL);
        h->created_ms = pg_col_i64(r, i, 7);
        h->role = (int)pg_col_i64(r, i, 8);
        len++;
        if (err != STORE_OK) break;
    }
    PQclear(r);
    if (err != STORE_OK) {
        store_hits_free(list, len);
        return err;
    }
    if (len == 0) {
        free(list);
        list = NULL;
    }
    *out = list;
    *n = len;
    return STORE_OK;
}

/* store_pg_session: sessions, messages and their attachments on PostgreSQL
 * (store.h): insert, update, keys, pages, delete, usage; a message's
 * insert, finish, a turn's end, loading and recovery. */
#include "store_pg_int.h"

/* ---- sessions ---------------------------------------------------------------- */

int pg_session_insert(store *base, const store_session *s, const char *api_key)
{
    pg *p = (pg *)base;
    if (!p || !store_session_fields_ok(s) || !store_text_ok(api_key, STORE_API_KEY_MAX) ||
        !store_u63_ok(s->seq_reserved) || !store_u63_ok(s->prompt_tokens) ||
        !store_u63_ok(s->completion_tokens))
        return STORE_EINVAL;
    char *skills = NULL;
    int err = store_skills_join(s, &skills);
    if (err != STORE_OK) return err;
    params ps = {0};
    pg_p_text(&ps, s->id);
    pg_p_text(&ps, s->title ? s->title : "");
    pg_p_text(&ps, s->provider ? s->provider : "");
    pg_p_text(&ps, s->model ? s->model : "");
    pg_p_text(&ps, s->base_url ? s->base_url : "");
    pg_p_text(&ps, s->system_prompt ? s->system_prompt : "");
    pg_p_text(&ps, skills);
    pg_p_i64(&ps, s->token_delay_ms);
    pg_p_text(&ps, api_key && *api_key ? api_key : NULL);
    pg_p_i64(&ps, s->created_ms);
    pg_p_i64(&ps, s->updated_ms);
    pg_p_i64(&ps, (int64_t)s->seq_reserved);
    pg_p_i64(&ps, (int64_t)s->prompt_tokens);
    pg_p_i64(&ps, (int64_t)s->completion_tokens);
    pg_p_i64(&ps, s->vision);
    pg_p_i64(&ps, s->context_window);
    pg_p_i64(&ps, s->archived ? 1 : 0);
    pthread_mutex_lock(&p->mu);
    err = pg_run_cmd(p, "insert session",
                     "INSERT INTO sessions(id, title, provider, model, base_url, system_prompt,"
                     " skills, token_delay_ms, api_key, created_ms, updated_ms, seq_reserved,"
                     " prompt_tokens, completion_tokens, vision, context_window, archived)"
                     " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
                     " $16, $17)",
                     &ps, NULL);
    pthread_mutex_unlock(&p->mu);
    free(skills);
    return err;
}

int pg_session_update(store *base, const store_session *s)
{
    pg *p = (pg *)base;
    if (!p || !store_session_fields_ok(s)) return STORE_EINVAL;
    char *skills = NULL;
    int err = store_skills_join(s, &skills);
    if (err != STORE_OK) return err;
    params ps = {0};
    pg_p_text(&ps, s->id);
    pg_p_text(&ps, s->title ? s->title : "");
    pg_p_text(&ps, s->provider ? s->provider : "");
    pg_p_text(&ps, s->model ? s->model : "");
    pg_p_text(&ps, s->base_url ? s->base_url : "");
    pg_p_text(&ps, s->system_prompt ? s->system_prompt : "");
    pg_p_text(&ps, skills);
    pg_p_i64(&ps, s->token_delay_ms);
    pg_p_i64(&ps, s->updated_ms);
    pg_p_i64(&ps, s->vision);
    pg_p_i64(&ps, s->context_window);
    pg_p_i64(&ps, s->archived ? 1 : 0);
    pthread_mutex_lock(&p->mu);
    err = pg_run_one(p, "update session",
                     "UPDATE sessions SET title = $2, provider = $3, model = $4, base_url = $5,"
                     " system_prompt = $6, skills = $7, token_delay_ms = $8, updated_ms = $9,"
                     " vision = $10, context_window = $11, archived = $12 WHERE id = $1",
                     &ps);
    pthread_mutex_unlock(&p->mu);
    free(skills);
    return err;
}

int pg_session_set_api_key(store *base, const char *id, const char *api_key)
{
    pg *p = (pg *)base;
    if (!p || !store_id_ok(id) || !store_text_ok(api_key, STORE_API_KEY_MAX)) return STORE_EINVAL;
    params ps = {0};
    pg_p_text(&ps, id);
    pg_p_text(&ps, api_key && *api_key ? api_key : NULL);
    pthread_mutex_lock(&p->mu);
    int err = pg_run_one(p, "set api key", "UPDATE sessions SET api_key = $2 WHERE id = $1", &ps);
    pthread_mutex_unlock(&p->mu);
    return err;
}

int pg_session_get_api_key(store *base, const char *id, char **out)
{
    pg *p = (pg *)base;
    if (!out) return STORE_EINVAL;
    *out = NULL;
    if (!p || !store_id_ok(id)) return STORE_EINVAL;
    params ps = {0};
    pg_p_text(&ps, id);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = pg_run(p, "get api key", "SELECT api_key FROM sessions WHERE id = $1", &ps, &r);
    if (err == STORE_OK) err = PQntuples(r) == 1 ? pg_col_dup(r, 0, 0, 0, out) : STORE_NOT_FOUND;
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

int pg_session_get(store *base, const char *id, store_session *out)
{
    pg *p = (pg *)base;
    if (!out) return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!p || !store_id_ok(id)) return STORE_EINVAL;
    params ps = {0};
    pg_p_text(&ps, id);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = pg_run(p, "get session", SESSION_COLS "WHERE id = $1", &ps, &r);
    if (err == STORE_OK) {
        err = PQntuples(r) == 1 ? pg_read_session(r, 0, out) : STORE_NOT_FOUND;
        if (err == STORE_EIO) LOG_E(MOD, "session %s: malformed row", id);
    }
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

int pg_session_list_all(store *base, store_session **out, size_t *n)
{
    pg *p = (pg *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!p) return STORE_EINVAL;
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = pg_run(p, "list sessions", SESSION_COLS SESSION_ORDER, NULL, &r);
    if (err == STORE_OK) err = pg_collect_sessions(r, "list sessions", out, n);
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

int pg_session_page(store *base, int64_t after_updated_ms, const char *after_id, size_t limit,
                    store_session **out, size_t *n)
{
    pg *p = (pg *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!p || (after_id && !store_id_ok(after_id))) return STORE_EINVAL;
    if (limit == 0) return STORE_OK;
    int64_t lim = limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
    params ps = {0};
    const char *sql;
    if (after_id) {
        pg_p_i64(&ps, after_updated_ms);
        pg_p_text(&ps, after_id);
        pg_p_i64(&ps, lim);
        sql = SESSION_COLS
            "WHERE (updated_ms, id) < ($1::bigint, $2::text COLLATE \"C\")" SESSION_ORDER
            " LIMIT $3";
    } else {
        pg_p_i64(&ps, lim);
        sql = SESSION_COLS SESSION_ORDER " LIMIT $1";
    }
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = pg_run(p, "page sessions", sql, &ps, &r);
    if (err == STORE_OK) err = pg_collect_sessions(r, "page sessions", out, n);
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

int pg_session_delete(store *base, const char *id)
{
    pg *p = (pg *)base;
    if (!p || !store_id_ok(id)) return STORE_EINVAL;
    params ps = {0};
    pg_p_text(&ps, id);
    pthread_mutex_lock(&p->mu);
    int err = pg_run_one(p, "delete session", "DELETE FROM sessions WHERE id = $1", &ps);
    pthread_mutex_unlock(&p->mu);
    return err;
}

int pg_session_set_seq_reserved(store *base, const char *id, uint64_t seq_reserved)
{
    pg *p = (pg *)base;
    if (!p || !store_id_ok(id) || !store_u63_ok(seq_reserved)) return STORE_EINVAL;
    params ps = {0};
    pg_p_text(&ps, id);
    pg_p_i64(&ps, (int64_t)seq_reserved);
    pthread_mutex_lock(&p->mu);
    int err = pg_run_one(p, "set seq_reserved",
                         "UPDATE sessions SET seq_reserved = $2 WHERE id = $1", &ps);
    pthread_mutex_unlock(&p->mu);
    return err;
}

/* Saturating adds: BIGINT arithmetic would raise an overflow error.
 * $1 session id, $2 prompt, $3 completion. */
#define PG_ADD_USAGE_SQL                                                                           \
    "UPDATE sessions SET"                                                                          \
    " prompt_tokens = CASE WHEN prompt_tokens > " I64_MAX_SQL " - $2::bigint THEN " I64_MAX_SQL    \
    " ELSE prompt_tokens + $2::bigint END,"                                                        \
    " completion_tokens = CASE WHEN completion_tokens > " I64_MAX_SQL                              \
    " - $3::bigint THEN " I64_MAX_SQL " ELSE completion_tokens + $3::bigint END"                   \
    " WHERE id = $1"

int pg_session_add_usage(store *base, const char *id, uint64_t prompt, uint64_t completion)
{
    pg *p = (pg *)base;
    if (!p || !store_id_ok(id) || !store_u63_ok(prompt) || !store_u63_ok(completion))
        return STORE_EINVAL;
    params ps = {0};
    pg_p_text(&ps, id);
    pg_p_i64(&ps, (int64_t)prompt);
    pg_p_i64(&ps, (int64_t)completion);
    pthread_mutex_lock(&p->mu);
    int err = pg_run_one(p, "add usage", PG_ADD_USAGE_SQL, &ps);
    pthread_mutex_unlock(&p->mu);
    return err;
}

/* ---- messages ---------------------------------------------------------------- */

/* Inserts m with p->mu held (see pg_message_insert). */
static int message_insert_locked(pg *p, store_message *m)
{
    int64_t created = m->created_ms ? m->created_ms : text_now_ms();
    params ps = {0};
    pg_p_text(&ps, m->session_id);
    pg_p_i64(&ps, (int64_t)m->role);
    pg_p_text(&ps, m->skill);
    pg_p_text(&ps, m->content);
    pg_p_i64(&ps, (int64_t)m->state);
    pg_p_text(&ps, m->error);
    pg_p_i64(&ps, (int64_t)m->turn_id);
    pg_p_i64(&ps, created);
    pg_p_text(&ps, m->client_id);
    pg_p_i64(&ps, m->kind == STORE_KIND_SUMMARY ? STORE_KIND_SUMMARY : STORE_KIND_MESSAGE);
    pg_p_i64(&ps, (int64_t)m->covers_to);
    PGresult *r = NULL;
    /* One statement: the touch doubles as the existence check (no row, no
     * insert), the id is drawn first so that a user message's turn id can
     * be its own id, and a duplicate client id undoes the touch too. */
    int err = pg_run(
        p, "insert message",
        "WITH t AS (UPDATE sessions SET updated_ms = GREATEST(updated_ms, $8::bigint)"
        " WHERE id = $1 RETURNING id),"
        " n AS (SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS id FROM t)"
        " INSERT INTO messages(id, session_id, role, skill, content, state, error, turn_id,"
        " created_ms, client_id, kind, covers_to)"
        " SELECT n.id, $1, $2::int, $3, $4, $5::int, $6,"
        " CASE WHEN $2::int = 1 AND $7::bigint = 0 THEN n.id ELSE $7::bigint END, $8::bigint, $9,"
        " $10::int, $11::bigint"
        " FROM n RETURNING id, turn_id",
        &ps, &r);
    if (err == STORE_OK && PQntuples(r) != 1) err = STORE_NOT_FOUND;
    if (err == STORE_OK) {
        m->id = (uint64_t)pg_col_i64(r, 0, 0);
        m->turn_id = (uint64_t)pg_col_i64(r, 0, 1);
        m->created_ms = created;
    }
    PQclear(r);
    return err;
}

int pg_message_insert(store *base, store_message *m)
{
    pg *p = (pg *)base;
    if (!p || !store_message_ok(m)) return STORE_EINVAL;
    pthread_mutex_lock(&p->mu);
    int err = message_insert_locked(p, m);
    pthread_mutex_unlock(&p->mu);
    return err;
}

/* ---- attachments ------------------------------------------------------------ */

static int attachments_ok(const store_attachment *a, size_t n)
{
    if (n > STORE_ATTACH_MAX || (n && !a)) return 0;
    for (size_t i = 0; i < n; i++)
        if (strnlen(a[i].sha256, sizeof a[i].sha256) != 64 || !a[i].mime[0] ||
            !store_text_ok(a[i].name, STORE_ATTACH_NAME_MAX))
            return 0;
    return 1;
}

/* The message and its attachments in one transaction: all or nothing. */
int pg_message_insert_with(store *base, store_message *m, const store_attachment *atts,
                           size_t n_atts)
{
    pg *p = (pg *)base;
    if (!p || !store_message_ok(m) || !attachments_ok(atts, n_atts)) return STORE_EINVAL;
    pthread_mutex_lock(&p->mu);
    int err = n_atts ? pg_connect_locked(p) : STORE_OK;
    if (err == STORE_OK && n_atts) err = pg_exec_simple(p, "begin message", "BEGIN");
    if (err == STORE_OK) err = message_insert_locked(p, m);
    for (size_t i = 0; err == STORE_OK && i < n_atts; i++) {
        params ps = {0};
        pg_p_i64(&ps, (int64_t)m->id);
        pg_p_i64(&ps, (int64_t)i);
        pg_p_text(&ps, atts[i].sha256);
        pg_p_text(&ps, atts[i].mime);
        pg_p_text(&ps, atts[i].name ? atts[i].name : "");
        pg_p_i64(&ps, atts[i].size > INT64_MAX ? INT64_MAX : (int64_t)atts[i].size);
        pg_p_i64(&ps, atts[i].width);
        pg_p_i64(&ps, atts[i].height);
        err =
            pg_run_cmd(p, "insert attachment",
                       "INSERT INTO message_attachments(message_id, idx, sha256, mime, name, size,"
                       " width, height) VALUES($1::bigint, $2::int, $3, $4, $5, $6::bigint,"
                       " $7::int, $8::int)",
                       &ps, NULL);
    }
    if (n_atts && p->conn) {
        if (err == STORE_OK) err = pg_exec_simple(p, "commit message", "COMMIT");
        if (err != STORE_OK && p->conn) PQclear(PQexec(p->conn, "ROLLBACK"));
    }
    if (err != STORE_OK) m->id = 0;
    pthread_mutex_unlock(&p->mu);
    return err;
}

int pg_attachments_load(store *base, uint64_t message_id, store_attachment **out, size_t *n)
{
    pg *p = (pg *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!p || !store_u63_ok(message_id)) return STORE_EINVAL;
    params ps = {0};
    pg_p_i64(&ps, (int64_t)message_id);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = pg_run(p, "load attachments",
                     "SELECT sha256, mime, name, size, width, height FROM message_attachments"
                     " WHERE message_id = $1::bigint ORDER BY idx",
                     &ps, &r);
    store_attachment *list = NULL;
    size_t len = 0;
    int rows = err == STORE_OK ? PQntuples(r) : 0;
    if (rows > 0) {
        list = calloc((size_t)rows, sizeof *list);
        if (!list) err = STORE_ENOMEM;
    }
    for (int i = 0; err == STORE_OK && i < rows; i++) {
        store_attachment *a = &list[len];
        const char *h = PQgetvalue(r, i, 0), *mi = PQgetvalue(r, i, 1);
        if (strlen(h) != 64 || strlen(mi) >= sizeof a->mime) {
            err = STORE_EIO;
            break;
        }
        memcpy(a->sha256, h, 65);
        snprintf(a->mime, sizeof a->mime, "%s", mi);
        err = pg_col_dup(r, i, 2, 1, &a->name);
        if (err != STORE_OK) break;
        int64_t sz = pg_col_i64(r, i, 3);
        a->size = sz < 0 ? 0 : (uint64_t)sz;
        a->width = (uint32_t)pg_col_i64(r, i, 4);
        a->height = (uint32_t)pg_col_i64(r, i, 5);
        len++;
    }
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    if (err != STORE_OK) {
        store_attachments_free(list, len);
        return err;
    }
    *out = len ? list : NULL;
    if (!len) free(list);
    *n = len;
    return STORE_OK;
}

int pg_attachment_hashes(store *base, char ***out, size_t *n)
{
    pg *p = (pg *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!p) return STORE_EINVAL;
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err =
        pg_run(p, "attachment hashes", "SELECT DISTINCT sha256 FROM message_attachments", NULL, &r);
    int rows = err == STORE_OK ? PQntuples(r) : 0;
    char **list = rows > 0 ? calloc((size_t)rows, sizeof *list) : NULL;
    if (rows > 0 && !list) err = STORE_ENOMEM;
    size_t len = 0;
    for (int i = 0; err == STORE_OK && i < rows; i++) {
        err = pg_col_dup(r, i, 0, 1, &list[len]);
        if (err == STORE_OK) len++;
    }
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    if (err != STORE_OK) {
        for (size_t i = 0; i < len; i++)
            free(list[i]);
        free(list);
        return err;
    }
    *out = list;
    *n = len;
    return STORE_OK;
}

/* $1 id, $2 state, $3 content or NULL, $4 error or NULL. */
#define PG_FINISH_SQL                                                                              \
    "UPDATE messages SET state = $2::int, content = coalesce($3, content),"                        \
    " error = coalesce($4, error) WHERE id = $1::bigint"

int pg_message_finish(store *base, uint64_t id, store_msg_state state, const char *content,
                      const char *error)
{
    pg *p = (pg *)base;
    if (!p || id == 0 || !store_u63_ok(id) || state < STORE_MSG_QUEUED ||
        state > STORE_MSG_INTERRUPTED || !store_text_ok(content, STORE_TEXT_MAX) ||
        !store_text_ok(error, STORE_TEXT_MAX))
        return STORE_EINVAL;
    params ps = {0};
    pg_p_i64(&ps, (int64_t)id);
    pg_p_i64(&ps, (int64_t)state);
    pg_p_text(&ps, content);
    pg_p_text(&ps, error);
    pthread_mutex_lock(&p->mu);
    int err = pg_run_one(p, "finish message", PG_FINISH_SQL, &ps);
    pthread_mutex_unlock(&p->mu);
    return err;
}

/* store_turn_end in one transaction: one durable commit for the replies,
 * the user message's state and the usage. */
int pg_turn_end(store *base, const char *session_id, store_message *replies, size_t n,
                uint64_t user_id, store_msg_state user_state, uint64_t prompt, uint64_t completion)
{
    pg *p = (pg *)base;
    if (!p || !store_turn_end_ok(session_id, replies, n, user_id, user_state, prompt, completion))
        return STORE_EINVAL;
    store_message *w = calloc(n ? n : 1, sizeof *w); /* written back only once committed */
    if (!w) return STORE_ENOMEM;
    if (n) memcpy(w, replies, n * sizeof *w);
    pthread_mutex_lock(&p->mu);
    int err = pg_exec_simple(p, "begin turn end", "BEGIN");
    for (size_t i = 0; err == STORE_OK && i < n; i++)
        err = message_insert_locked(p, &w[i]);
    if (err == STORE_OK && user_state) {
        params ps = {0};
        pg_p_i64(&ps, (int64_t)user_id);
        pg_p_i64(&ps, (int64_t)user_state);
        pg_p_text(&ps, NULL);
        pg_p_text(&ps, NULL);
        err = pg_run_one(p, "finish message", PG_FINISH_SQL, &ps);
    }
    if (err == STORE_OK && (prompt || completion)) {
        params ps = {0};
        pg_p_text(&ps, session_id);
        pg_p_i64(&ps, (int64_t)prompt);
        pg_p_i64(&ps, (int64_t)completion);
        err = pg_run_one(p, "add usage", PG_ADD_USAGE_SQL, &ps);
    }
    if (err == STORE_OK) err = pg_exec_simple(p, "commit turn end", "COMMIT");
    if (err != STORE_OK && p->conn) PQclear(PQexec(p->conn, "ROLLBACK"));
    pthread_mutex_unlock(&p->mu);
    if (err == STORE_OK && n) memcpy(replies, w, n * sizeof *w);
    free(w);
    return err;
}

int pg_message_find_client_id(store *base, const char *session_id, const char *client_id,
                              store_message *out)
{
    pg *p = (pg *)base;
    if (!out) return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!p || !store_id_ok(session_id) || !client_id || !store_text_ok(client_id, STORE_TEXT_MAX))
        return STORE_EINVAL;
    params ps = {0};
    pg_p_text(&ps, session_id);
    pg_p_text(&ps, client_id);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = pg_run(p, "find client id", MESSAGE_COLS "WHERE session_id = $1 AND client_id = $2",
                     &ps, &r);
    if (err == STORE_OK) {
        err = PQntuples(r) >= 1 ? pg_read_message(r, 0, out) : STORE_NOT_FOUND;
        if (err == STORE_EIO) LOG_E(MOD, "session %s: malformed message row", session_id);
    }
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

int pg_messages_load(store *base, const char *session_id, size_t limit, store_message **out,
                     size_t *n, int *truncated)
{
    pg *p = (pg *)base;
    if (!out || !n || !truncated) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    *truncated = 0;
    if (!p || !store_id_ok(session_id)) return STORE_EINVAL;
    /* One row beyond the limit tells whether older messages exist. */
    int64_t lim = limit >= (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit + 1;
    params ps = {0};
    pg_p_text(&ps, session_id);
    pg_p_i64(&ps, lim);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    store_message *list = NULL;
    size_t len = 0;
    int err = pg_run(p, "load messages",
                     MESSAGE_COLS "WHERE session_id = $1 AND reverted_ms = 0"
                                  " ORDER BY id DESC LIMIT $2::bigint",
                     &ps, &r);
    if (err == STORE_OK) err = pg_collect_messages(r, "load messages", &list, &len);
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    if (err != STORE_OK) return err;
    store_messages_page(list, len, limit, truncated, out, n);
    return STORE_OK;
}

int pg_recover_interrupted(store *base, const char *error, size_t *changed)
{
    pg *p = (pg *)base;
    if (changed) *changed = 0;
    if (!p || !changed || !store_text_ok(error, STORE_TEXT_MAX)) return STORE_EINVAL;
    params ps = {0};
    pg_p_text(&ps, error);
    pthread_mutex_lock(&p->mu);
    int err =
        pg_run_cmd(p, "recover interrupted",
                   "UPDATE messages SET state = 6, error = $1 WHERE state IN (1, 2) AND state = 2",
                   &ps, changed);
    pthread_mutex_unlock(&p->mu);
    if (err == STORE_OK && *changed)
        LOG_I(MOD, "marked %zu running messages interrupted", *changed);
    return err;
}

int pg_messages_queued(store *base, store_message **out, size_t *n)
{
    pg *p = (pg *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!p) return STORE_EINVAL;
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = pg_run(p, "queued messages",
                     MESSAGE_COLS "WHERE state IN (1, 2) AND state = 1 AND role = 1 ORDER BY id",
                     NULL, &r);
    if (err == STORE_OK) err = pg_collect_messages(r, "queued messages", out, n);
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

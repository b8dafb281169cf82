/* store_sqlite_session: sessions and messages on SQLite (store.h): insert,
 * update, keys, pages, delete, usage; a message's insert with its
 * attachments, finish, a turn's end, loading and recovery. */
#include "store_sqlite_int.h"

/* ---- sessions ------------------------------------------------------------ */

/* The columns added by schema version 4, written after an insert or an
 * update of the older ones (inside the caller's transaction). */
static int set_memory_fields(sq *st, const store_session *s)
{
    sqlite3_stmt *q = st->q[Q_S_SET_MEMORY_FIELDS];
    sq_bind_text(q, 1, s->id);
    sqlite3_bind_int64(q, 2, s->context_window);
    sqlite3_bind_int(q, 3, s->archived ? 1 : 0);
    return sq_q_exec_one(st, q, "set context window");
}

int sq_session_insert(store *base, const store_session *s, const char *api_key)
{
    sq *st = (sq *)base;
    if (!st || !store_session_fields_ok(s) || !store_text_ok(api_key, STORE_API_KEY_MAX) ||
        !store_u63_ok(s->seq_reserved) || !store_u63_ok(s->prompt_tokens) ||
        !store_u63_ok(s->completion_tokens))
        return STORE_EINVAL;
    char *skills = NULL;
    int err = store_skills_join(s, &skills);
    if (err != STORE_OK) return err;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_S_INSERT];
    sq_bind_text(q, 1, s->id);
    sq_bind_text_nn(q, 2, s->title);
    sq_bind_text_nn(q, 3, s->provider);
    sq_bind_text_nn(q, 4, s->model);
    sq_bind_text_nn(q, 5, s->base_url);
    sq_bind_text_nn(q, 6, s->system_prompt);
    sq_bind_text(q, 7, skills);
    sqlite3_bind_int64(q, 8, s->token_delay_ms);
    sq_bind_text(q, 9, api_key && *api_key ? api_key : NULL);
    sqlite3_bind_int64(q, 10, s->created_ms);
    sqlite3_bind_int64(q, 11, s->updated_ms);
    sqlite3_bind_int64(q, 12, (int64_t)s->seq_reserved);
    sqlite3_bind_int64(q, 13, (int64_t)s->prompt_tokens);
    sqlite3_bind_int64(q, 14, (int64_t)s->completion_tokens);
    sqlite3_bind_int64(q, 15, s->vision);
    err = sq_tx_begin(st);
    if (err == STORE_OK)
        err = sq_q_exec(st, q, "insert session");
    else
        sq_q_done(q);
    if (err == STORE_OK) err = set_memory_fields(st, s);
    if (err == STORE_OK)
        err = sq_tx_commit(st);
    else
        sq_tx_rollback(st);
    pthread_mutex_unlock(&st->mu);
    free(skills);
    return err;
}

int sq_session_update(store *base, const store_session *s)
{
    sq *st = (sq *)base;
    if (!st || !store_session_fields_ok(s)) return STORE_EINVAL;
    char *skills = NULL;
    int err = store_skills_join(s, &skills);
    if (err != STORE_OK) return err;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_S_UPDATE];
    sq_bind_text(q, 1, s->id);
    sq_bind_text_nn(q, 2, s->title);
    sq_bind_text_nn(q, 3, s->provider);
    sq_bind_text_nn(q, 4, s->model);
    sq_bind_text_nn(q, 5, s->base_url);
    sq_bind_text_nn(q, 6, s->system_prompt);
    sq_bind_text(q, 7, skills);
    sqlite3_bind_int64(q, 8, s->token_delay_ms);
    sqlite3_bind_int64(q, 9, s->updated_ms);
    sqlite3_bind_int64(q, 10, s->vision);
    err = sq_tx_begin(st);
    if (err == STORE_OK)
        err = sq_q_exec_one(st, q, "update session");
    else
        sq_q_done(q);
    if (err == STORE_OK) err = set_memory_fields(st, s);
    if (err == STORE_OK)
        err = sq_tx_commit(st);
    else
        sq_tx_rollback(st);
    pthread_mutex_unlock(&st->mu);
    free(skills);
    return err;
}

int sq_session_set_api_key(store *base, const char *id, const char *api_key)
{
    sq *st = (sq *)base;
    if (!st || !store_id_ok(id) || !store_text_ok(api_key, STORE_API_KEY_MAX)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_S_SET_KEY];
    sq_bind_text(q, 1, id);
    sq_bind_text(q, 2, api_key && *api_key ? api_key : NULL);
    int err = sq_q_exec_one(st, q, "set api key");
    pthread_mutex_unlock(&st->mu);
    return err;
}

int sq_session_get_api_key(store *base, const char *id, char **out)
{
    sq *st = (sq *)base;
    if (!out) return STORE_EINVAL;
    *out = NULL;
    if (!st || !store_id_ok(id)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_S_GET_KEY];
    sq_bind_text(q, 1, id);
    int rc = sqlite3_step(q), err;
    if (rc == SQLITE_ROW)
        err = sq_col_dup(q, 0, 0, out);
    else if (rc == SQLITE_DONE)
        err = STORE_NOT_FOUND;
    else
        err = sq_sql_fail(st, rc, "get api key");
    sq_q_done(q);
    pthread_mutex_unlock(&st->mu);
    return err;
}

int sq_session_get(store *base, const char *id, store_session *out)
{
    sq *st = (sq *)base;
    if (!out) return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!st || !store_id_ok(id)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_S_GET];
    sq_bind_text(q, 1, id);
    int rc = sqlite3_step(q), err;
    if (rc == SQLITE_ROW) {
        err = sq_read_session(q, out);
        if (err == STORE_EIO) LOG_E(MOD, "session %s: malformed row", id);
    } else if (rc == SQLITE_DONE) {
        err = STORE_NOT_FOUND;
    } else {
        err = sq_sql_fail(st, rc, "get session");
    }
    sq_q_done(q);
    pthread_mutex_unlock(&st->mu);
    return err;
}

int sq_session_list_all(store *base, store_session **out, size_t *n)
{
    sq *st = (sq *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!st) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    int err = sq_collect_sessions(st, st->q[Q_S_ALL], "list sessions", out, n);
    pthread_mutex_unlock(&st->mu);
    return err;
}

int sq_session_page(store *base, int64_t after_updated_ms, const char *after_id, size_t limit,
                    store_session **out, size_t *n)
{
    sq *st = (sq *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!st || (after_id && !store_id_ok(after_id))) return STORE_EINVAL;
    if (limit == 0) return STORE_OK;
    int64_t lim = limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q;
    if (after_id) {
        q = st->q[Q_S_AFTER];
        sqlite3_bind_int64(q, 1, after_updated_ms);
        sq_bind_text(q, 2, after_id);
        sqlite3_bind_int64(q, 3, lim);
    } else {
        q = st->q[Q_S_FIRST];
        sqlite3_bind_int64(q, 1, lim);
    }
    int err = sq_collect_sessions(st, q, "page sessions", out, n);
    pthread_mutex_unlock(&st->mu);
    return err;
}

int sq_session_delete(store *base, const char *id)
{
    sq *st = (sq *)base;
    if (!st || !store_id_ok(id)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_S_DELETE];
    sq_bind_text(q, 1, id);
    /* One statement: the cascade runs inside its implicit transaction. */
    int err = sq_q_exec_one(st, q, "delete session");
    pthread_mutex_unlock(&st->mu);
    return err;
}

int sq_session_set_seq_reserved(store *base, const char *id, uint64_t seq_reserved)
{
    sq *st = (sq *)base;
    if (!st || !store_id_ok(id) || !store_u63_ok(seq_reserved)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_S_SET_SEQ];
    sq_bind_text(q, 1, id);
    sqlite3_bind_int64(q, 2, (int64_t)seq_reserved);
    int err = sq_q_exec_one(st, q, "set seq_reserved");
    pthread_mutex_unlock(&st->mu);
    return err;
}

static int add_usage_locked(sq *st, const char *id, uint64_t prompt, uint64_t completion)
{
    sqlite3_stmt *q = st->q[Q_S_ADD_USAGE];
    sq_bind_text(q, 1, id);
    sqlite3_bind_int64(q, 2, (int64_t)prompt);
    sqlite3_bind_int64(q, 3, (int64_t)completion);
    return sq_q_exec_one(st, q, "add usage");
}

int sq_session_add_usage(store *base, const char *id, uint64_t prompt, uint64_t completion)
{
    sq *st = (sq *)base;
    if (!st || !store_id_ok(id) || !store_u63_ok(prompt) || !store_u63_ok(completion))
        return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    int err = add_usage_locked(st, id, prompt, completion);
    pthread_mutex_unlock(&st->mu);
    return err;
}

/* ---- messages ------------------------------------------------------------ */

int sq_message_insert(store *base, store_message *m)
{
    return sq_message_insert_with(base, m, NULL, 0);
}

static int attachments_ok(const store_attachment *a, size_t n)
{
    if (n > STORE_ATTACH_MAX || (n && !a)) return 0;
    for (size_t i = 0; i < n; i++)
        if (strlen(a[i].sha256) != 64 || !a[i].mime[0] ||
            !store_text_ok(a[i].name, STORE_ATTACH_NAME_MAX))
            return 0;
    return 1;
}

static int attachments_insert_locked(sq *st, uint64_t msg_id, const store_attachment *a, size_t n)
{
    if (!n) return STORE_OK;
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(st->db,
                                "INSERT INTO message_attachments(message_id, idx, sha256, mime,"
                                " name, size, width, height) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
                                -1, &q, NULL);
    if (rc != SQLITE_OK) return sq_sql_fail(st, rc, "prepare attachment insert");
    int err = STORE_OK;
    for (size_t i = 0; err == STORE_OK && i < n; i++) {
        sqlite3_bind_int64(q, 1, (int64_t)msg_id);
        sqlite3_bind_int64(q, 2, (int64_t)i);
        sq_bind_text(q, 3, a[i].sha256);
        sq_bind_text(q, 4, a[i].mime);
        sq_bind_text_nn(q, 5, a[i].name);
        sqlite3_bind_int64(q, 6, a[i].size > INT64_MAX ? INT64_MAX : (int64_t)a[i].size);
        sqlite3_bind_int64(q, 7, a[i].width);
        sqlite3_bind_int64(q, 8, a[i].height);
        err = sq_q_exec(st, q, "insert attachment");
    }
    sqlite3_finalize(q);
    return err;
}

/* Inserts m and its attachments inside the caller's transaction, with
 * st->mu held; m's id, turn_id and created_ms are written back on success
 * only (the caller commits or rolls back). */
static int message_insert_locked(sq *st, store_message *m, const store_attachment *atts,
                                 size_t n_atts)
{
    int64_t created = m->created_ms ? m->created_ms : text_now_ms();
    /* The touch doubles as the existence check: a missing session would
     * otherwise surface as a foreign-key failure, mapped to CONFLICT. */
    sqlite3_stmt *q = st->q[Q_S_TOUCH];
    sq_bind_text(q, 1, m->session_id);
    sqlite3_bind_int64(q, 2, created);
    int err = sq_q_exec_one(st, q, "touch session");

    if (err == STORE_OK) {
        q = st->q[Q_M_INSERT];
        sq_bind_text(q, 1, m->session_id);
        sqlite3_bind_int(q, 2, (int)m->role);
        sq_bind_text(q, 3, m->skill);
        sq_bind_text(q, 4, m->content);
        sqlite3_bind_int(q, 5, (int)m->state);
        sq_bind_text(q, 6, m->error);
        sqlite3_bind_int64(q, 7, (int64_t)m->turn_id);
        sqlite3_bind_int64(q, 8, created);
        sq_bind_text(q, 9, m->client_id);
        sqlite3_bind_int(q, 10, m->kind == STORE_KIND_SUMMARY ? STORE_KIND_SUMMARY : 0);
        sqlite3_bind_int64(q, 11, (int64_t)m->covers_to);
        err = sq_q_exec(st, q, "insert message");
    }
    int64_t id = err == STORE_OK ? sqlite3_last_insert_rowid(st->db) : 0;
    uint64_t turn = m->turn_id;
    if (err == STORE_OK && m->role == STORE_ROLE_USER && turn == 0) {
        turn = (uint64_t)id;
        q = st->q[Q_M_SET_TURN];
        sqlite3_bind_int64(q, 1, id);
        sqlite3_bind_int64(q, 2, id);
        err = sq_q_exec(st, q, "set turn id");
    }
    if (err == STORE_OK) err = attachments_insert_locked(st, (uint64_t)id, atts, n_atts);
    if (err == STORE_OK) {
        m->id = (uint64_t)id;
        m->turn_id = turn;
        m->created_ms = created;
    }
    return err;
}

int sq_message_insert_with(store *base, store_message *m, const store_attachment *atts,
                           size_t n_atts)
{
    sq *st = (sq *)base;
    if (!st || !store_message_ok(m) || !attachments_ok(atts, n_atts)) return STORE_EINVAL;
    store_message w = *m; /* written back only once committed */
    pthread_mutex_lock(&st->mu);
    int err = sq_tx_begin(st);
    if (err == STORE_OK) {
        err = message_insert_locked(st, &w, atts, n_atts);
        if (err == STORE_OK)
            err = sq_tx_commit(st);
        else
            sq_tx_rollback(st);
    }
    pthread_mutex_unlock(&st->mu);
    if (err == STORE_OK) *m = w;
    return err;
}

static int finish_locked(sq *st, uint64_t id, store_msg_state state, const char *content,
                         const char *error)
{
    sqlite3_stmt *q = st->q[Q_M_FINISH];
    sqlite3_bind_int64(q, 1, (int64_t)id);
    sqlite3_bind_int(q, 2, (int)state);
    sq_bind_text(q, 3, content);
    sq_bind_text(q, 4, error);
    return sq_q_exec_one(st, q, "finish message");
}

int sq_turn_end(store *base, const char *session_id, store_message *replies, size_t n,
                uint64_t user_id, store_msg_state user_state, uint64_t prompt, uint64_t completion)
{
    sq *st = (sq *)base;
    if (!st || !store_turn_end_ok(session_id, replies, n, user_id, user_state, prompt, completion))
        return STORE_EINVAL;
    store_message *w = calloc(n ? n : 1, sizeof *w); /* written back only once committed */
    if (!w) return STORE_ENOMEM;
    if (n) memcpy(w, replies, n * sizeof *w);
    pthread_mutex_lock(&st->mu);
    int err = sq_tx_begin(st);
    if (err == STORE_OK) {
        for (size_t i = 0; err == STORE_OK && i < n; i++)
            err = message_insert_locked(st, &w[i], NULL, 0);
        if (err == STORE_OK && user_state) err = finish_locked(st, user_id, user_state, NULL, NULL);
        if (err == STORE_OK && (prompt || completion))
            err = add_usage_locked(st, session_id, prompt, completion);
        if (err == STORE_OK)
            err = sq_tx_commit(st);
        else
            sq_tx_rollback(st);
    }
    pthread_mutex_unlock(&st->mu);
    if (err == STORE_OK && n) memcpy(replies, w, n * sizeof *w);
    free(w);
    return err;
}

int sq_message_finish(store *base, uint64_t id, store_msg_state state, const char *content,
                      const char *error)
{
    sq *st = (sq *)base;
    if (!st || id == 0 || !store_u63_ok(id) || state < STORE_MSG_QUEUED ||
        state > STORE_MSG_INTERRUPTED || !store_text_ok(content, STORE_TEXT_MAX) ||
        !store_text_ok(error, STORE_TEXT_MAX))
        return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    int err = finish_locked(st, id, state, content, error);
    pthread_mutex_unlock(&st->mu);
    return err;
}

int sq_message_find_client_id(store *base, const char *session_id, const char *client_id,
                              store_message *out)
{
    sq *st = (sq *)base;
    if (!out) return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!st || !store_id_ok(session_id) || !client_id || !store_text_ok(client_id, STORE_TEXT_MAX))
        return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_M_FIND_CLIENT];
    sq_bind_text(q, 1, session_id);
    sq_bind_text(q, 2, client_id);
    int rc = sqlite3_step(q), err;
    if (rc == SQLITE_ROW) {
        err = sq_read_message(q, out);
        if (err == STORE_EIO) LOG_E(MOD, "session %s: malformed message row", session_id);
    } else if (rc == SQLITE_DONE) {
        err = STORE_NOT_FOUND;
    } else {
        err = sq_sql_fail(st, rc, "find client id");
    }
    sq_q_done(q);
    pthread_mutex_unlock(&st->mu);
    return err;
}

int sq_messages_load(store *base, const char *session_id, size_t limit, store_message **out,
                     size_t *n, int *truncated)
{
    sq *st = (sq *)base;
    if (!out || !n || !truncated) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    *truncated = 0;
    if (!st || !store_id_ok(session_id)) return STORE_EINVAL;
    /* One row beyond the limit tells whether older messages exist. */
    int64_t lim = limit >= (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit + 1;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_M_NEWEST];
    sq_bind_text(q, 1, session_id);
    sqlite3_bind_int64(q, 2, lim);
    store_message *list = NULL;
    size_t len = 0;
    int err = sq_collect_messages(st, q, "load messages", &list, &len);
    pthread_mutex_unlock(&st->mu);
    if (err != STORE_OK) return err;
    store_messages_page(list, len, limit, truncated, out, n);
    return STORE_OK;
}

int sq_recover_interrupted(store *base, const char *error, size_t *changed)
{
    sq *st = (sq *)base;
    if (changed) *changed = 0;
    if (!st || !changed || !store_text_ok(error, STORE_TEXT_MAX)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_M_RECOVER];
    sq_bind_text(q, 1, error);
    int err = sq_q_exec(st, q, "recover interrupted");
    if (err == STORE_OK) *changed = (size_t)sqlite3_changes64(st->db);
    pthread_mutex_unlock(&st->mu);
    if (err == STORE_OK && *changed)
        LOG_I(MOD, "marked %zu running messages interrupted", *changed);
    return err;
}

int sq_messages_queued(store *base, store_message **out, size_t *n)
{
    sq *st = (sq *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!st) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    int err = sq_collect_messages(st, st->q[Q_M_QUEUED], "queued messages", out, n);
    pthread_mutex_unlock(&st->mu);
    return err;
}

/* store_sqlite_fork: fork, revert and canvas checkpoints on SQLite
 * (store.h); kept apart so that the engine's file does not grow with a
 * concern of its own. */
#include "store_sqlite_int.h"

/* Prepares sql for one call (these statements run rarely: a fork, a
 * revert, a turn's first change to a canvas); finalized by the caller. */
int sq_prep(sq *st, const char *sql, sqlite3_stmt **q, const char *what)
{
    int rc = sqlite3_prepare_v2(st->db, sql, -1, q, NULL);
    if (rc != SQLITE_OK) {
        *q = NULL;
        return sq_sql_fail(st, rc, what);
    }
    return STORE_OK;
}

int sq_message_get(store *base, uint64_t id, store_message *out)
{
    sq *st = (sq *)base;
    if (!out) return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!st || !id || !store_u63_ok(id)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = NULL;
    int err = sq_prep(st, MESSAGE_COLS "WHERE id = ?1", &q, "get message");
    if (err == STORE_OK) {
        sqlite3_bind_int64(q, 1, (int64_t)id);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW)
            err = sq_read_message(q, out);
        else
            err = rc == SQLITE_DONE ? STORE_NOT_FOUND : sq_sql_fail(st, rc, "get message");
    }
    sqlite3_finalize(q);
    pthread_mutex_unlock(&st->mu);
    return err;
}

/* Whether id is a visible message of session sid (inside a transaction). */
static int sq_visible_message(sq *st, const char *sid, uint64_t id)
{
    sqlite3_stmt *q = NULL;
    int err = sq_prep(st,
                      "SELECT 1 FROM messages WHERE id = ?1 AND session_id = ?2"
                      " AND reverted_ms = 0",
                      &q, "find message");
    if (err != STORE_OK) return err;
    sqlite3_bind_int64(q, 1, (int64_t)id);
    sq_bind_text(q, 2, sid);
    int rc = sqlite3_step(q);
    err = rc == SQLITE_ROW    ? STORE_OK
          : rc == SQLITE_DONE ? STORE_NOT_FOUND
                              : sq_sql_fail(st, rc, "find message");
    sqlite3_finalize(q);
    return err;
}

/* Old message id -> the copy's id, in increasing old id order. */
typedef struct sq_idmap {
    uint64_t *old_id, *new_id;
    size_t n, cap;
} sq_idmap;

/* The copy of the newest message at or below old (0 when none). */
static uint64_t sq_map_floor(const sq_idmap *m, uint64_t old)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->old_id[mid] <= old)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? m->new_id[lo - 1] : 0;
}

/* The copy of exactly old (0 when it was not copied). */
static uint64_t sq_map_exact(const sq_idmap *m, uint64_t old)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->old_id[mid] < old)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n && m->old_id[lo] == old ? m->new_id[lo] : 0;
}

static int sq_map_add(sq_idmap *m, uint64_t old, uint64_t new_id)
{
    if (m->n == m->cap) {
        size_t cap = m->cap;
        void *a = m->old_id, *b = m->new_id;
        int err = sq_grow(&a, &cap, m->n + 1, sizeof *m->old_id);
        m->old_id = a;
        if (err == STORE_OK) {
            cap = m->cap;
            err = sq_grow(&b, &cap, m->n + 1, sizeof *m->new_id);
            m->new_id = b;
        }
        if (err != STORE_OK) return err;
        m->cap = cap;
    }
    m->old_id[m->n] = old;
    m->new_id[m->n++] = new_id;
    return STORE_OK;
}

/* Copies src's visible messages up to upto into dst (and their
 * attachments), inside the caller's transaction. */
static int sq_fork_messages(sq *st, const char *src, uint64_t upto, const char *dst, size_t *copied)
{
    sqlite3_stmt *sel = NULL, *ins = NULL, *att = NULL;
    sq_idmap map = {0};
    int err = sq_prep(st,
                      MESSAGE_COLS "WHERE session_id = ?1 AND id <= ?2 AND reverted_ms = 0"
                                   " ORDER BY id",
                      &sel, "fork: read messages");
    if (err == STORE_OK)
        err = sq_prep(st,
                      "INSERT INTO messages(session_id, role, skill, content, state, error,"
                      " turn_id, created_ms, client_id, kind, covers_to)"
                      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                      &ins, "fork: copy message");
    if (err == STORE_OK)
        err = sq_prep(st,
                      "INSERT INTO message_attachments(message_id, idx, sha256, mime, name, size,"
                      " width, height) SELECT ?1, idx, sha256, mime, name, size, width, height"
                      " FROM message_attachments WHERE message_id = ?2",
                      &att, "fork: copy attachments");
    if (err == STORE_OK) {
        sqlite3_bind_text(sel, 1, src, -1, SQLITE_STATIC);
        sqlite3_bind_int64(sel, 2, (int64_t)upto);
    }
    int rc = SQLITE_DONE;
    while (err == STORE_OK && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
        store_message m;
        err = sq_read_message(sel, &m);
        if (err != STORE_OK) break;
        /* A turn still queued or running belongs to the source session: its
         * copy must not be run again by the fork at the next start. */
        if (m.state == STORE_MSG_QUEUED || m.state == STORE_MSG_RUNNING)
            m.state = STORE_MSG_INTERRUPTED;
        uint64_t turn = m.role == STORE_ROLE_USER ? 0 : sq_map_exact(&map, m.turn_id);
        sq_bind_text(ins, 1, dst);
        sqlite3_bind_int(ins, 2, (int)m.role);
        sq_bind_text(ins, 3, m.skill);
        sq_bind_text(ins, 4, m.content);
        sqlite3_bind_int(ins, 5, (int)m.state);
        sq_bind_text(ins, 6,
                     m.state == STORE_MSG_INTERRUPTED && !m.error
                         ? "the turn was still running when the session was forked"
                         : m.error);
        sqlite3_bind_int64(ins, 7, (int64_t)turn);
        sqlite3_bind_int64(ins, 8, m.created_ms);
        sq_bind_text(ins, 9, m.client_id);
        sqlite3_bind_int(ins, 10, (int)m.kind);
        sqlite3_bind_int64(ins, 11, (int64_t)sq_map_floor(&map, m.covers_to));
        err = sq_q_exec(st, ins, "fork: copy message");
        uint64_t nid = (uint64_t)sqlite3_last_insert_rowid(st->db);
        if (err == STORE_OK && m.role == STORE_ROLE_USER) {
            sqlite3_stmt *q = st->q[Q_M_SET_TURN];
            sqlite3_bind_int64(q, 1, (int64_t)nid);
            sqlite3_bind_int64(q, 2, (int64_t)nid);
            err = sq_q_exec(st, q, "fork: set turn id");
        }
        if (err == STORE_OK) {
            sqlite3_bind_int64(att, 1, (int64_t)nid);
            sqlite3_bind_int64(att, 2, (int64_t)m.id);
            err = sq_q_exec(st, att, "fork: copy attachments");
        }
        if (err == STORE_OK) err = sq_map_add(&map, m.id, nid);
        store_message_clear(&m);
    }
    if (err == STORE_OK && rc != SQLITE_DONE) err = sq_sql_fail(st, rc, "fork: read messages");
    if (err == STORE_OK) *copied = map.n;
    sqlite3_finalize(sel);
    sqlite3_finalize(ins);
    sqlite3_finalize(att);
    free(map.old_id);
    free(map.new_id);
    return err;
}

int sq_session_fork(store *base, const char *src_id, uint64_t upto_id, const store_session *dst,
                    size_t *copied)
{
    sq *st = (sq *)base;
    size_t n = 0;
    if (copied) *copied = 0;
    if (!st || !store_id_ok(src_id) || !dst || !store_id_ok(dst->id) || !upto_id ||
        !store_u63_ok(upto_id) || !store_text_ok(dst->title, STORE_TEXT_MAX))
        return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    int err = sq_tx_begin(st);
    if (err != STORE_OK) goto out;
    err = sq_visible_message(st, src_id, upto_id);
    sqlite3_stmt *q = NULL;
    if (err == STORE_OK)
        err = sq_prep(st,
                      "INSERT INTO sessions(id, title, provider, model, base_url, system_prompt,"
                      " skills, token_delay_ms, api_key, created_ms, updated_ms, vision,"
                      " context_window, parent_id, fork_point)"
                      " SELECT ?1, ?2, provider, model, base_url, system_prompt, skills,"
                      " token_delay_ms, api_key, ?3, ?4, vision, context_window, id, ?5"
                      " FROM sessions WHERE id = ?6",
                      &q, "fork: insert session");
    if (err == STORE_OK) {
        sq_bind_text(q, 1, dst->id);
        sq_bind_text_nn(q, 2, dst->title);
        sqlite3_bind_int64(q, 3, dst->created_ms);
        sqlite3_bind_int64(q, 4, dst->updated_ms);
        sqlite3_bind_int64(q, 5, (int64_t)upto_id);
        sq_bind_text(q, 6, src_id);
        err = sq_q_exec_one(st, q, "fork: insert session");
        /* The primary key is the only constraint an existing id breaks. */
        if (err == STORE_NOT_FOUND) err = STORE_EIO;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (err == STORE_OK) err = sq_fork_messages(st, src_id, upto_id, dst->id, &n);
    if (err == STORE_OK)
        err = sq_prep(st,
                      "INSERT INTO memories(session_id, content, created_ms)"
                      " SELECT ?1, content, created_ms FROM memories WHERE session_id = ?2"
                      " ORDER BY id",
                      &q, "fork: copy memories");
    if (err == STORE_OK) {
        sq_bind_text(q, 1, dst->id);
        sq_bind_text(q, 2, src_id);
        err = sq_q_exec(st, q, "fork: copy memories");
    }
    sqlite3_finalize(q);
    if (err == STORE_OK)
        err = sq_tx_commit(st);
    else
        sq_tx_rollback(st);
out:
    pthread_mutex_unlock(&st->mu);
    if (err == STORE_OK && copied) *copied = n;
    return err;
}

int sq_session_revert(store *base, const char *id, uint64_t to_id, uint64_t through_id,
                      int64_t now_ms, size_t *hidden)
{
    sq *st = (sq *)base;
    if (hidden) *hidden = 0;
    if (!st || !store_id_ok(id) || !to_id || !store_u63_ok(to_id) || !store_u63_ok(through_id) ||
        now_ms <= 0)
        return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    int err = sq_tx_begin(st);
    if (err != STORE_OK) goto out;
    err = sq_visible_message(st, id, to_id);
    /* Hidden messages leave the search index (rowid: message id * 2). */
    const char *sql[] = {
        "DELETE FROM search_idx WHERE rowid IN (SELECT id * 2 FROM messages"
        " WHERE session_id = ?1 AND id > ?2 AND (?4 = 0 OR id <= ?4) AND reverted_ms = 0)",
        "UPDATE messages SET reverted_ms = ?3 WHERE session_id = ?1 AND id > ?2"
        " AND (?4 = 0 OR id <= ?4) AND reverted_ms = 0",
    };
    size_t changed = 0;
    for (size_t i = 0; err == STORE_OK && i < 2; i++) {
        sqlite3_stmt *q = NULL;
        err = sq_prep(st, sql[i], &q, "revert");
        if (err == STORE_OK) {
            sq_bind_text(q, 1, id);
            sqlite3_bind_int64(q, 2, (int64_t)to_id);
            sqlite3_bind_int64(q, 3, now_ms);
            sqlite3_bind_int64(q, 4, (int64_t)through_id);
            err = sq_q_exec(st, q, "revert");
            if (err == STORE_OK && i == 1) changed = (size_t)sqlite3_changes(st->db);
        }
        sqlite3_finalize(q);
    }
    if (err == STORE_OK)
        err = sq_tx_commit(st);
    else
        sq_tx_rollback(st);
out:
    pthread_mutex_unlock(&st->mu);
    if (err == STORE_OK && hidden) *hidden = changed;
    return err;
}

int sq_checkpoint_put(store *base, const store_checkpoint *c)
{
    sq *st = (sq *)base;
    if (!st || !store_checkpoint_ok(c)) return STORE_EINVAL;
    /* Insert or raise rev_after; then the count bound, then the bytes
     * bound (a running sum over the newest first). */
    const char *sql[] = {
        "INSERT INTO canvas_checkpoints(session_id, message_id, canvas_id, rev_before, rev_after,"
        " workflow, created_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        " ON CONFLICT(session_id, message_id, canvas_id) DO UPDATE SET"
        " rev_after = max(rev_after, excluded.rev_after)",
        "DELETE FROM canvas_checkpoints WHERE session_id = ?1 AND id NOT IN (SELECT id FROM"
        " canvas_checkpoints WHERE session_id = ?1 ORDER BY id DESC LIMIT ?2)",
        "DELETE FROM canvas_checkpoints WHERE id IN (SELECT id FROM (SELECT id,"
        " sum(length(CAST(workflow AS BLOB))) OVER (ORDER BY id DESC) AS total"
        " FROM canvas_checkpoints WHERE session_id = ?1) WHERE total > ?2)",
    };
    pthread_mutex_lock(&st->mu);
    int err = sq_tx_begin(st);
    for (size_t i = 0; err == STORE_OK && i < 3; i++) {
        sqlite3_stmt *q = NULL;
        err = sq_prep(st, sql[i], &q, "put checkpoint");
        if (err != STORE_OK) break;
        sq_bind_text(q, 1, c->session_id);
        if (i == 0) {
            sqlite3_bind_int64(q, 2, (int64_t)c->message_id);
            sq_bind_text(q, 3, c->canvas_id);
            sqlite3_bind_int64(q, 4, (int64_t)c->rev_before);
            sqlite3_bind_int64(q, 5, (int64_t)c->rev_after);
            sq_bind_text(q, 6, c->workflow);
            sqlite3_bind_int64(q, 7, c->created_ms ? c->created_ms : text_now_ms());
        } else {
            sqlite3_bind_int64(q, 2, i == 1 ? STORE_CKPT_MAX : (int64_t)STORE_CKPT_BYTES);
        }
        err = sq_q_exec(st, q, "put checkpoint");
        /* The only foreign key is the session's. */
        if (err == STORE_CONFLICT) err = STORE_NOT_FOUND;
        sqlite3_finalize(q);
    }
    if (err == STORE_OK)
        err = sq_tx_commit(st);
    else
        sq_tx_rollback(st);
    pthread_mutex_unlock(&st->mu);
    return err;
}

int sq_checkpoints_list(store *base, const char *session_id, int with_workflow,
                        store_checkpoint **out, size_t *n)
{
    sq *st = (sq *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!st || !store_id_ok(session_id)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = NULL;
    int err = sq_prep(st,
                      "SELECT c.id, c.message_id, c.canvas_id, c.rev_before, c.rev_after,"
                      " CASE WHEN ?2 THEN c.workflow END, length(CAST(c.workflow AS BLOB)),"
                      " c.created_ms FROM canvas_checkpoints c JOIN messages m"
                      " ON m.id = c.message_id AND m.reverted_ms = 0"
                      " WHERE c.session_id = ?1 ORDER BY c.message_id, c.id",
                      &q, "list checkpoints");
    store_checkpoint *list = NULL;
    size_t len = 0, cap = 0;
    int rc = SQLITE_DONE;
    if (err == STORE_OK) {
        sq_bind_text(q, 1, session_id);
        sqlite3_bind_int(q, 2, with_workflow ? 1 : 0);
    }
    while (err == STORE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        err = sq_grow((void **)&list, &cap, len + 1, sizeof *list);
        if (err != STORE_OK) break;
        store_checkpoint *c = &list[len];
        memset(c, 0, sizeof *c);
        snprintf(c->session_id, sizeof c->session_id, "%s", session_id);
        c->id = (uint64_t)sqlite3_column_int64(q, 0);
        c->message_id = (uint64_t)sqlite3_column_int64(q, 1);
        c->rev_before = (uint64_t)sqlite3_column_int64(q, 3);
        c->rev_after = (uint64_t)sqlite3_column_int64(q, 4);
        c->bytes = (uint64_t)sqlite3_column_int64(q, 6);
        c->created_ms = sqlite3_column_int64(q, 7);
        err = sq_col_dup(q, 2, 1, &c->canvas_id);
        if (err == STORE_OK && with_workflow) err = sq_col_dup(q, 5, 1, &c->workflow);
        len++;
    }
    if (err == STORE_OK && rc != SQLITE_DONE) err = sq_sql_fail(st, rc, "list checkpoints");
    sqlite3_finalize(q);
    pthread_mutex_unlock(&st->mu);
    if (err != STORE_OK) {
        store_checkpoints_free(list, len);
        return err;
    }
    if (!len) {
        free(list);
        list = NULL;
    }
    *out = list;
    *n = len;
    return STORE_OK;
}

/* One integer of a one-row query on the session (?1); *out 0 when NULL. */
static int sq_session_int(sq *st, const char *sql, const char *id, int64_t arg, int64_t *out)
{
    sqlite3_stmt *q = NULL;
    int err = sq_prep(st, sql, &q, "unrevert");
    if (err != STORE_OK) return err;
    sq_bind_text(q, 1, id);
    sqlite3_bind_int64(q, 2, arg);
    int rc = sqlite3_step(q);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    err = rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : sq_sql_fail(st, rc, "unrevert");
    sqlite3_finalize(q);
    return err;
}

int sq_session_unrevert(store *base, const char *id, size_t *restored, uint64_t *first_id, int *why)
{
    sq *st = (sq *)base;
    if (restored) *restored = 0;
    if (first_id) *first_id = 0;
    if (why) *why = 0;
    if (!st || !store_id_ok(id)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    int err = sq_tx_begin(st);
    if (err != STORE_OK) goto out;
    int64_t when = 0, first = 0, newer = 0;
    err = sq_session_int(st, "SELECT max(reverted_ms) FROM messages WHERE session_id = ?1", id, 0,
                         &when);
    if (err == STORE_OK && when <= 0) err = STORE_NOT_FOUND;
    if (err == STORE_OK)
        err = sq_session_int(st,
                             "SELECT min(id) FROM messages WHERE session_id = ?1"
                             " AND reverted_ms = ?2",
                             id, when, &first);
    /* A visible message after the first hidden one: 2 a summary, 1 another. */
    if (err == STORE_OK)
        err = sq_session_int(st,
                             "SELECT max(CASE kind WHEN 1 THEN 2 ELSE 1 END) FROM messages"
                             " WHERE session_id = ?1 AND reverted_ms = 0 AND id > ?2",
                             id, first, &newer);
    if (err == STORE_OK && newer) {
        err = STORE_CONFLICT;
        if (why) *why = newer == 2 ? STORE_UNREVERT_COMPACTED : STORE_UNREVERT_NEWER;
    }
    /* Back into the search index as the insert trigger writes them. */
    const char *sql[] = {
        "INSERT INTO search_idx(rowid, body, tags, session_id, kind)"
        " SELECT id * 2, content, replace(session_id, '-', '') || CASE kind WHEN 1"
        " THEN ' kindsummary' ELSE ' kindmessage' END, session_id, kind FROM messages"
        " WHERE session_id = ?1 AND reverted_ms = ?2 AND content <> ''",
        "UPDATE messages SET reverted_ms = 0 WHERE session_id = ?1 AND reverted_ms = ?2",
    };
    size_t changed = 0;
    for (size_t i = 0; err == STORE_OK && i < 2; i++) {
        sqlite3_stmt *q = NULL;
        err = sq_prep(st, sql[i], &q, "unrevert");
        if (err == STORE_OK) {
            sq_bind_text(q, 1, id);
            sqlite3_bind_int64(q, 2, when);
            err = sq_q_exec(st, q, "unrevert");
            if (err == STORE_OK && i == 1) changed = (size_t)sqlite3_changes(st->db);
        }
        sqlite3_finalize(q);
    }
    if (err == STORE_OK)
        err = sq_tx_commit(st);
    else
        sq_tx_rollback(st);
out:
    pthread_mutex_unlock(&st->mu);
    if (err == STORE_OK && restored) *restored = changed;
    if (err == STORE_OK && first_id) *first_id = (uint64_t)first;
    return err;
}

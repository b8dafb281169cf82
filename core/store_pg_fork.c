/* store_pg_fork: fork, revert and canvas checkpoints on PostgreSQL
 * (store.h), as store_sqlite_fork.c does on SQLite. */
#include "store_pg_int.h"

int pg_message_get(store *base, uint64_t id, store_message *out)
{
    pg *p = (pg *)base;
    if (!out) return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!p || !id || !store_u63_ok(id)) return STORE_EINVAL;
    params ps = {0};
    pg_p_i64(&ps, (int64_t)id);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = pg_run(p, "get message", MESSAGE_COLS "WHERE id = $1::bigint", &ps, &r);
    if (err == STORE_OK) err = PQntuples(r) == 1 ? pg_read_message(r, 0, out) : STORE_NOT_FOUND;
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

/* Rolls back the transaction a failed step left open. */
static void pg_tx_end(pg *p, int *err, const char *what)
{
    if (*err == STORE_OK) *err = pg_exec_simple(p, what, "COMMIT");
    if (*err != STORE_OK && p->conn) PQclear(PQexec(p->conn, "ROLLBACK"));
}

/* Whether id is a visible message of session sid (FOR UPDATE of the
 * session: a fork or revert and a message insert do not interleave). */
static int pg_visible_message(pg *p, const char *sid, uint64_t id)
{
    params ps = {0};
    pg_p_text(&ps, sid);
    pg_p_i64(&ps, (int64_t)id);
    PGresult *r = NULL;
    int err = pg_run(p, "find message",
                     "SELECT 1 FROM sessions s, messages m WHERE s.id = $1 AND m.id = $2::bigint"
                     " AND m.session_id = s.id AND m.reverted_ms = 0 FOR UPDATE OF s",
                     &ps, &r);
    if (err == STORE_OK && PQntuples(r) != 1) err = STORE_NOT_FOUND;
    PQclear(r);
    return err;
}

/* The copy of the newest message at or below old (0: none); old_ids is
 * increasing. */
static uint64_t pg_map_floor(const uint64_t *old_ids, const uint64_t *new_ids, size_t n,
                             uint64_t old)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (old_ids[mid] <= old)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? new_ids[lo - 1] : 0;
}

/* Copies the messages in r (src's, oldest first) into dst with their
 * attachments, inside the caller's transaction. */
static int pg_fork_messages(pg *p, const PGresult *r, const char *dst, size_t *copied)
{
    size_t rows = (size_t)PQntuples(r);
    uint64_t *old_ids = calloc(rows ? rows : 1, sizeof *old_ids);
    uint64_t *new_ids = calloc(rows ? rows : 1, sizeof *new_ids);
    int err = old_ids && new_ids ? STORE_OK : STORE_ENOMEM;
    size_t done = 0;
    for (size_t i = 0; err == STORE_OK && i < rows; i++) {
        store_message m;
        err = pg_read_message(r, (int)i, &m);
        if (err != STORE_OK) break;
        /* A turn still queued or running belongs to the source session. */
        if (m.state == STORE_MSG_QUEUED || m.state == STORE_MSG_RUNNING) {
            m.state = STORE_MSG_INTERRUPTED;
            if (!m.error)
                m.error = text_dup("the turn was still running when the session was forked");
        }
        /* A reply's turn is the copy of its user message (exactly). */
        uint64_t turn = 0;
        if (m.role != STORE_ROLE_USER && m.turn_id &&
            pg_map_floor(old_ids, old_ids, done, m.turn_id) == m.turn_id)
            turn = pg_map_floor(old_ids, new_ids, done, m.turn_id);
        params ps = {0};
        pg_p_text(&ps, dst);
        pg_p_i64(&ps, (int64_t)m.role);
        pg_p_text(&ps, m.skill);
        pg_p_text(&ps, m.content);
        pg_p_i64(&ps, (int64_t)m.state);
        pg_p_text(&ps, m.error);
        pg_p_i64(&ps, (int64_t)turn);
        pg_p_i64(&ps, m.created_ms);
        pg_p_text(&ps, m.client_id);
        pg_p_i64(&ps, (int64_t)m.kind);
        pg_p_i64(&ps, (int64_t)pg_map_floor(old_ids, new_ids, done, m.covers_to));
        pg_p_i64(&ps, (int64_t)m.id);
        PGresult *ir = NULL;
        /* The id is drawn first so that a user message's turn id is its own
         * id; the attachments follow in the same statement. */
        err = pg_run(p, "fork: copy message",
                     "WITH n AS (SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS id),"
                     " ins AS (INSERT INTO messages(id, session_id, role, skill, content, state,"
                     " error, turn_id, created_ms, client_id, kind, covers_to)"
                     " SELECT n.id, $1, $2::int, $3, $4, $5::int, $6,"
                     " CASE WHEN $2::int = 1 THEN n.id ELSE $7::bigint END, $8::bigint, $9,"
                     " $10::int, $11::bigint FROM n RETURNING id),"
                     " att AS (INSERT INTO message_attachments(message_id, idx, sha256, mime, name,"
                     " size, width, height) SELECT ins.id, a.idx, a.sha256, a.mime, a.name, a.size,"
                     " a.width, a.height FROM ins, message_attachments a"
                     " WHERE a.message_id = $12::bigint)"
                     " SELECT id FROM ins",
                     &ps, &ir);
        if (err == STORE_OK && PQntuples(ir) != 1) err = STORE_EIO;
        if (err == STORE_OK) {
            old_ids[done] = m.id;
            new_ids[done++] = (uint64_t)pg_col_i64(ir, 0, 0);
        }
        PQclear(ir);
        store_message_clear(&m);
    }
    free(old_ids);
    free(new_ids);
    if (err == STORE_OK) *copied = done;
    return err;
}

int pg_session_fork(store *base, const char *src_id, uint64_t upto_id, const store_session *dst,
                    size_t *copied)
{
    pg *p = (pg *)base;
    size_t n = 0;
    if (copied) *copied = 0;
    if (!p || !store_id_ok(src_id) || !dst || !store_id_ok(dst->id) || !upto_id ||
        !store_u63_ok(upto_id) || !store_text_ok(dst->title, STORE_TEXT_MAX))
        return STORE_EINVAL;
    pthread_mutex_lock(&p->mu);
    int err = pg_connect_locked(p);
    if (err == STORE_OK) err = pg_exec_simple(p, "begin fork", "BEGIN");
    if (err != STORE_OK) goto out;
    err = pg_visible_message(p, src_id, upto_id);
    if (err == STORE_OK) {
        params ps = {0};
        pg_p_text(&ps, dst->id);
        pg_p_text(&ps, dst->title ? dst->title : "");
        pg_p_i64(&ps, dst->created_ms);
        pg_p_i64(&ps, dst->updated_ms);
        pg_p_i64(&ps, (int64_t)upto_id);
        pg_p_text(&ps, src_id);
        err = pg_run_one(p, "fork: insert session",
                         "INSERT INTO sessions(id, title, provider, model, base_url, system_prompt,"
                         " skills, token_delay_ms, api_key, created_ms, updated_ms, vision,"
                         " context_window, parent_id, fork_point)"
                         " SELECT $1, $2, provider, model, base_url, system_prompt, skills,"
                         " token_delay_ms, api_key, $3::bigint, $4::bigint, vision, context_window,"
                         " id, $5::bigint FROM sessions WHERE id = $6",
                         &ps);
        if (err == STORE_NOT_FOUND) err = STORE_EIO; /* checked above, under the lock */
    }
    PGresult *r = NULL;
    if (err == STORE_OK) {
        params ps = {0};
        pg_p_text(&ps, src_id);
        pg_p_i64(&ps, (int64_t)upto_id);
        err = pg_run(p, "fork: read messages",
                     MESSAGE_COLS "WHERE session_id = $1 AND id <= $2::bigint AND reverted_ms = 0"
                                  " ORDER BY id",
                     &ps, &r);
    }
    if (err == STORE_OK) err = pg_fork_messages(p, r, dst->id, &n);
    PQclear(r);
    if (err == STORE_OK) {
        params ps = {0};
        pg_p_text(&ps, dst->id);
        pg_p_text(&ps, src_id);
        err = pg_run_cmd(p, "fork: copy memories",
                         "INSERT INTO memories(session_id, content, created_ms)"
                         " SELECT $1, content, created_ms FROM memories WHERE session_id = $2"
                         " ORDER BY id",
                         &ps, NULL);
    }
    if (p->conn) pg_tx_end(p, &err, "commit fork");
out:
    pthread_mutex_unlock(&p->mu);
    if (err == STORE_OK && copied) *copied = n;
    return err;
}

int pg_session_revert(store *base, const char *id, uint64_t to_id, uint64_t through_id,
                      int64_t now_ms, size_t *hidden)
{
    pg *p = (pg *)base;
    if (hidden) *hidden = 0;
    if (!p || !store_id_ok(id) || !to_id || !store_u63_ok(to_id) || !store_u63_ok(through_id) ||
        now_ms <= 0)
        return STORE_EINVAL;
    size_t changed = 0;
    pthread_mutex_lock(&p->mu);
    int err = pg_connect_locked(p);
    if (err == STORE_OK) err = pg_exec_simple(p, "begin revert", "BEGIN");
    if (err != STORE_OK) goto out;
    err = pg_visible_message(p, id, to_id);
    if (err == STORE_OK) {
        params ps = {0};
        pg_p_text(&ps, id);
        pg_p_i64(&ps, (int64_t)to_id);
        pg_p_i64(&ps, now_ms);
        pg_p_i64(&ps, (int64_t)through_id);
        err = pg_run_cmd(p, "revert",
                         "UPDATE messages SET reverted_ms = $3::bigint WHERE session_id = $1"
                         " AND id > $2::bigint AND ($4::bigint = 0 OR id <= $4::bigint)"
                         " AND reverted_ms = 0",
                         &ps, &changed);
    }
    if (p->conn) pg_tx_end(p, &err, "commit revert");
out:
    pthread_mutex_unlock(&p->mu);
    if (err == STORE_OK && hidden) *hidden = changed;
    return err;
}

int pg_checkpoint_put(store *base, const store_checkpoint *c)
{
    pg *p = (pg *)base;
    if (!p || !store_checkpoint_ok(c)) return STORE_EINVAL;
    pthread_mutex_lock(&p->mu);
    int err = pg_connect_locked(p);
    if (err == STORE_OK) err = pg_exec_simple(p, "begin checkpoint", "BEGIN");
    if (err != STORE_OK) goto out;
    params ps = {0};
    pg_p_text(&ps, c->session_id);
    pg_p_i64(&ps, (int64_t)c->message_id);
    pg_p_text(&ps, c->canvas_id);
    pg_p_i64(&ps, (int64_t)c->rev_before);
    pg_p_i64(&ps, (int64_t)c->rev_after);
    pg_p_text(&ps, c->workflow);
    pg_p_i64(&ps, c->created_ms ? c->created_ms : text_now_ms());
    /* No row when the session is absent (rather than a foreign-key
     * failure, which PostgreSQL reports like any other error). */
    err =
        pg_run_one(p, "put checkpoint",
                   "INSERT INTO canvas_checkpoints(session_id, message_id, canvas_id, rev_before,"
                   " rev_after, workflow, created_ms) SELECT $1, $2::bigint, $3, $4::bigint,"
                   " $5::bigint, $6, $7::bigint WHERE EXISTS (SELECT 1 FROM sessions WHERE id = $1)"
                   " ON CONFLICT(session_id, message_id, canvas_id) DO UPDATE SET"
                   " rev_after = GREATEST(canvas_checkpoints.rev_after, excluded.rev_after)",
                   &ps);
    if (err == STORE_OK) {
        params pl = {0};
        pg_p_text(&pl, c->session_id);
        pg_p_i64(&pl, STORE_CKPT_MAX);
        pg_p_i64(&pl, (int64_t)STORE_CKPT_BYTES);
        /* The count bound, then the bytes bound (a running sum over the
         * newest first). */
        err = pg_run_cmd(p, "prune checkpoints",
                         "DELETE FROM canvas_checkpoints WHERE id IN (SELECT id FROM (SELECT id,"
                         " row_number() OVER w AS k, sum(octet_length(workflow)) OVER w AS total"
                         " FROM canvas_checkpoints WHERE session_id = $1"
                         " WINDOW w AS (ORDER BY id DESC)) t"
                         " WHERE k > $2::bigint OR total > $3::bigint)",
                         &pl, NULL);
    }
    if (p->conn) pg_tx_end(p, &err, "commit checkpoint");
out:
    pthread_mutex_unlock(&p->mu);
    return err;
}

int pg_checkpoints_list(store *base, const char *session_id, int with_workflow,
                        store_checkpoint **out, size_t *n)
{
    pg *p = (pg *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!p || !store_id_ok(session_id)) return STORE_EINVAL;
    params ps = {0};
    pg_p_text(&ps, session_id);
    pg_p_i64(&ps, with_workflow ? 1 : 0);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = pg_run(p, "list checkpoints",
                     "SELECT c.id, c.message_id, c.canvas_id, c.rev_before, c.rev_after,"
                     " CASE WHEN $2::int = 1 THEN c.workflow END, octet_length(c.workflow),"
                     " c.created_ms FROM canvas_checkpoints c JOIN messages m"
                     " ON m.id = c.message_id AND m.reverted_ms = 0"
                     " WHERE c.session_id = $1 ORDER BY c.message_id, c.id",
                     &ps, &r);
    size_t rows = err == STORE_OK ? (size_t)PQntuples(r) : 0;
    store_checkpoint *list = rows ? calloc(rows, sizeof *list) : NULL;
    if (rows && !list) err = STORE_ENOMEM;
    size_t len = 0;
    for (; err == STORE_OK && len < rows; len++) {
        store_checkpoint *c = &list[len];
        int row = (int)len;
        snprintf(c->session_id, sizeof c->session_id, "%s", session_id);
        c->id = (uint64_t)pg_col_i64(r, row, 0);
        c->message_id = (uint64_t)pg_col_i64(r, row, 1);
        c->rev_before = (uint64_t)pg_col_i64(r, row, 3);
        c->rev_after = (uint64_t)pg_col_i64(r, row, 4);
        c->bytes = (uint64_t)pg_col_i64(r, row, 6);
        c->created_ms = pg_col_i64(r, row, 7);
        err = pg_col_dup(r, row, 2, 1, &c->canvas_id);
        if (err == STORE_OK && with_workflow) err = pg_col_dup(r, row, 5, 1, &c->workflow);
    }
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    if (err != STORE_OK) {
        store_checkpoints_free(list, rows);
        return err;
    }
    *out = list;
    *n = rows;
    return STORE_OK;
}

/* One integer of a one-row query (NULL: 0). */
static int pg_one_int(pg *p, const char *sql, const params *ps, int64_t *out)
{
    PGresult *r = NULL;
    int err = pg_run(p, "unrevert", sql, ps, &r);
    *out = err == STORE_OK && PQntuples(r) > 0 ? pg_col_i64(r, 0, 0) : 0;
    PQclear(r);
    return err;
}

int pg_session_unrevert(store *base, const char *id, size_t *restored, uint64_t *first_id, int *why)
{
    pg *p = (pg *)base;
    if (restored) *restored = 0;
    if (first_id) *first_id = 0;
    if (why) *why = 0;
    if (!p || !store_id_ok(id)) return STORE_EINVAL;
    size_t changed = 0;
    pthread_mutex_lock(&p->mu);
    int err = pg_connect_locked(p);
    if (err == STORE_OK) err = pg_exec_simple(p, "begin unrevert", "BEGIN");
    if (err != STORE_OK) goto out;
    int64_t when = 0, first = 0, newer = 0;
    params ps = {0};
    pg_p_text(&ps, id);
    /* The session row locked: no insert, fork or revert interleaves. */
    err = pg_one_int(p, "SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE", &ps, &when);
    if (err == STORE_OK)
        err = pg_one_int(p, "SELECT max(reverted_ms) FROM messages WHERE session_id = $1", &ps,
                         &when);
    if (err == STORE_OK && when <= 0) err = STORE_NOT_FOUND;
    params pw = {0};
    pg_p_text(&pw, id);
    pg_p_i64(&pw, when);
    if (err == STORE_OK)
        err = pg_one_int(p,
                         "SELECT min(id) FROM messages WHERE session_id = $1"
                         " AND reverted_ms = $2::bigint",
                         &pw, &first);
    params pf = {0};
    pg_p_text(&pf, id);
    pg_p_i64(&pf, first);
    if (err == STORE_OK)
        err = pg_one_int(p,
                         "SELECT max(CASE kind WHEN 1 THEN 2 ELSE 1 END) FROM messages"
                         " WHERE session_id = $1 AND reverted_ms = 0 AND id > $2::bigint",
                         &pf, &newer);
    if (err == STORE_OK && newer) {
        err = STORE_CONFLICT;
        if (why) *why = newer == 2 ? STORE_UNREVERT_COMPACTED : STORE_UNREVERT_NEWER;
    }
    if (err == STORE_OK)
        err = pg_run_cmd(p, "unrevert",
                         "UPDATE messages SET reverted_ms = 0 WHERE session_id = $1"
                         " AND reverted_ms = $2::bigint",
                         &pw, &changed);
    if (p->conn) pg_tx_end(p, &err, "commit unrevert");
out:
    pthread_mutex_unlock(&p->mu);
    if (err == STORE_OK && restored) *restored = changed;
    if (err == STORE_OK && first_id) *first_id = (uint64_t)first;
    return err;
}

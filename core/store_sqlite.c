/* store_sqlite: the embedded engine behind store.h (store_backend.h):
 * sessions, messages, counters and idempotency keys in one SQLite database.
 *
 * One connection, opened with SQLITE_OPEN_NOMUTEX: st->mu serialises every
 * call, which both makes the API thread-safe and keeps multi-statement
 * writes (BEGIN ... COMMIT) from interleaving. Statements are prepared once
 * at open and reset after each use.
 *
 * The engine's files: store_sqlite.c the schema and its migrations, the
 * statements, the shared helpers, open and close, the ops table;
 * store_sqlite_session.c sessions and messages; store_sqlite_keys.c
 * counters, idempotency keys and attachments; store_sqlite_memory.c
 * summaries, memories and search; store_sqlite_fork.c fork, revert and
 * checkpoints; store_sqlite_embed.c embeddings. Private header
 * store_sqlite_int.h. */
#include "store_sqlite_int.h"

/* Bumped by each entry added to migrations[]. */
#define STORE_SCHEMA_VERSION 7
/* PRAGMA application_id ("cmfd"): tells our files from other SQLite files. */
#define STORE_APP_ID 0x636d6664

/* The SQL below spells these states as numbers (the partial index must
 * match the queries' text), so pin them. */
_Static_assert(STORE_MSG_QUEUED == 1 && STORE_MSG_RUNNING == 2 && STORE_MSG_INTERRUPTED == 6,
               "message states are spelled as numbers in SQL");
_Static_assert(STORE_ROLE_USER == 1, "roles are spelled as numbers in SQL");

/* migrations[v] upgrades schema version v to v + 1, inside one transaction
 * together with the user_version bump. */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
    "CREATE TABLE sessions("
    " id TEXT PRIMARY KEY NOT NULL,"
    " title TEXT NOT NULL DEFAULT '',"
    " provider TEXT NOT NULL DEFAULT '',"
    " model TEXT NOT NULL DEFAULT '',"
    " base_url TEXT NOT NULL DEFAULT '',"
    " system_prompt TEXT NOT NULL DEFAULT '',"
    " skills TEXT NOT NULL DEFAULT ''," /* names joined by '\n' */
    " token_delay_ms INTEGER NOT NULL DEFAULT 0,"
    " api_key TEXT," /* NULL: none; never selected with the rest */
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " seq_reserved INTEGER NOT NULL DEFAULT 0,"
    " prompt_tokens INTEGER NOT NULL DEFAULT 0,"
    " completion_tokens INTEGER NOT NULL DEFAULT 0);"
    /* Keyset pagination walks this index backwards. */
    "CREATE INDEX sessions_by_updated ON sessions(updated_ms, id);"
    "CREATE TABLE messages("
    " id INTEGER PRIMARY KEY AUTOINCREMENT," /* never reuses ids of deleted rows */
    " session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
    " role INTEGER NOT NULL,"
    " skill TEXT,"
    " content TEXT NOT NULL,"
    " state INTEGER NOT NULL,"
    " error TEXT,"
    " turn_id INTEGER NOT NULL DEFAULT 0,"
    " created_ms INTEGER NOT NULL,"
    " client_id TEXT,"
    /* NULLs are distinct here, so only real client ids collide. The
     * implied index also serves store_message_find_client_id. */
    " UNIQUE(session_id, client_id));"
    /* History loads and the cascade on session delete. */
    "CREATE INDEX messages_by_session ON messages(session_id, id);"
    /* Only QUEUED and RUNNING rows, which are few: recovery and requeue at
     * start. SQLite uses a partial index only when the query repeats its
     * WHERE term, hence "state IN (1, 2) AND ..." below. */
    "CREATE INDEX messages_pending ON messages(state, id) WHERE state IN (1, 2);",
    /* 1 -> 2: state of the graph service that must outlive a restart. */
    /* Named counters; "canvas_rev_reserved": see store_counter_raise. */
    "CREATE TABLE counters(name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);"
    /* Idempotency keys with their outcome (see store_idem). */
    "CREATE TABLE idem_keys("
    " scope BLOB PRIMARY KEY NOT NULL,"
    " req_hash BLOB NOT NULL,"
    " err INTEGER NOT NULL,"
    " code INTEGER NOT NULL,"
    " message TEXT,"
    " resp BLOB,"
    " created_ms INTEGER NOT NULL);"
    "CREATE INDEX idem_keys_by_age ON idem_keys(created_ms);",
    /* 2 -> 3: whether the session's model is sent images (vision.h). */
    "ALTER TABLE sessions ADD COLUMN vision INTEGER NOT NULL DEFAULT 0;",
    /* 3 -> 4: attachments of user messages (references into the blob store,
     * in order). */
    "CREATE TABLE message_attachments("
    " message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
    " idx INTEGER NOT NULL,"
    " sha256 TEXT NOT NULL,"
    " mime TEXT NOT NULL,"
    " name TEXT NOT NULL DEFAULT '',"
    " size INTEGER NOT NULL,"
    " width INTEGER NOT NULL DEFAULT 0,"
    " height INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(message_id, idx));"
    /* Garbage collection reads every referenced hash. */
    "CREATE INDEX message_attachments_by_sha ON message_attachments(sha256);",
    /* 4 -> 5: memory. A session's context window and archive flag; a
     * message kind (0 a message, 1 a summary of the messages up to
     * covers_to, which stay stored); long-term memories (session NULL:
     * global); and one FTS5 index over message, summary and memory text,
     * kept by triggers so that every write path (and every delete,
     * cascades included) keeps it exact. Index rowids: message id * 2,
     * memory id * 2 + 1, so a delete finds its entry by rowid. */
    "ALTER TABLE sessions ADD COLUMN context_window INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sessions ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE messages ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE messages ADD COLUMN covers_to INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX messages_summaries ON messages(session_id, id) WHERE kind = 1;"
    "CREATE TABLE memories("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " session_id TEXT REFERENCES sessions(id) ON DELETE CASCADE,"
    " content TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL);"
    "CREATE INDEX memories_by_session ON memories(session_id, id);"
    /* tags holds the session id (without its dashes: one token) and
     * "kind<kind>" as searchable tokens, so
     * that the session and kind filters are part of the MATCH (no per-row
     * lookup of the UNINDEXED columns, which only serve the results). */
    "CREATE VIRTUAL TABLE search_idx USING fts5(body, tags, session_id UNINDEXED, kind UNINDEXED,"
    " tokenize = 'unicode61 remove_diacritics 2');"
    "CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages WHEN new.content <> '' BEGIN"
    " INSERT INTO search_idx(rowid, body, tags, session_id, kind)"
    " VALUES(new.id * 2, new.content, replace(new.session_id, '-', '') || CASE new.kind WHEN 1 "
    "THEN ' kindsummary'"
    " ELSE ' kindmessage' END, new.session_id, new.kind); END;"
    "CREATE TRIGGER messages_fts_au AFTER UPDATE OF content ON messages BEGIN"
    " DELETE FROM search_idx WHERE rowid = old.id * 2;"
    " INSERT INTO search_idx(rowid, body, tags, session_id, kind)"
    " SELECT new.id * 2, new.content, replace(new.session_id, '-', '') || CASE new.kind WHEN 1 "
    "THEN ' kindsummary'"
    " ELSE ' kindmessage' END, new.session_id, new.kind WHERE new.content <> ''; END;"
    "CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN"
    " DELETE FROM search_idx WHERE rowid = old.id * 2; END;"
    "CREATE TRIGGER memories_fts_ai AFTER INSERT ON memories BEGIN"
    " INSERT INTO search_idx(rowid, body, tags, session_id, kind)"
    " VALUES(new.id * 2 + 1, new.content, coalesce(replace(new.session_id, '-', '') || ' ', '') || "
    "'kindmemory',"
    " coalesce(new.session_id, ''), 2); END;"
    "CREATE TRIGGER memories_fts_ad AFTER DELETE ON memories BEGIN"
    " DELETE FROM search_idx WHERE rowid = old.id * 2 + 1; END;"
    /* Messages stored before this version. */
    "INSERT INTO search_idx(rowid, body, tags, session_id, kind)"
    " SELECT id * 2, content, replace(session_id, '-', '') || ' kindmessage', session_id, 0"
    " FROM messages"
    " WHERE content <> '';",
    /* 5 -> 6: fork, revert and canvas checkpoints. A fork records its
     * parent session and the message it was made at; a revert hides the
     * messages after a point (reverted_ms, the time of the revert; 0:
     * visible) without deleting them; a checkpoint is the workflow of a
     * canvas before a turn's first change to it (store_checkpoint). */
    "ALTER TABLE sessions ADD COLUMN parent_id TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE sessions ADD COLUMN fork_point INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE messages ADD COLUMN reverted_ms INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE canvas_checkpoints("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
    " message_id INTEGER NOT NULL,"
    " canvas_id TEXT NOT NULL,"
    " rev_before INTEGER NOT NULL,"
    " rev_after INTEGER NOT NULL,"
    " workflow TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " UNIQUE(session_id, message_id, canvas_id));",
    /* 6 -> 7: embeddings for hybrid search (store.h). entry is the search
     * index's rowid (message id * 2, memory id * 2 + 1); embed_queue holds
     * the entries waiting for a vector (attempts and the time of the next
     * try after a failure), filled by triggers on every insert and content
     * change, so that nothing is lost to a crash and a turn never waits. */
    "CREATE TABLE embed_queue(entry INTEGER PRIMARY KEY, attempts INTEGER NOT NULL DEFAULT 0,"
    " next_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE embeddings(entry INTEGER PRIMARY KEY, model TEXT NOT NULL,"
    " dim INTEGER NOT NULL, vec BLOB NOT NULL);"
    "CREATE TRIGGER messages_emb_ai AFTER INSERT ON messages WHEN new.content <> '' BEGIN"
    " INSERT OR REPLACE INTO embed_queue(entry) VALUES(new.id * 2); END;"
    "CREATE TRIGGER messages_emb_au AFTER UPDATE OF content ON messages BEGIN"
    " DELETE FROM embeddings WHERE entry = old.id * 2;"
    " INSERT OR REPLACE INTO embed_queue(entry) SELECT new.id * 2 WHERE new.content <> ''; END;"
    "CREATE TRIGGER messages_emb_ad AFTER DELETE ON messages BEGIN"
    " DELETE FROM embeddings WHERE entry = old.id * 2;"
    " DELETE FROM embed_queue WHERE entry = old.id * 2; END;"
    "CREATE TRIGGER memories_emb_ai AFTER INSERT ON memories BEGIN"
    " INSERT OR REPLACE INTO embed_queue(entry) VALUES(new.id * 2 + 1); END;"
    "CREATE TRIGGER memories_emb_ad AFTER DELETE ON memories BEGIN"
    " DELETE FROM embeddings WHERE entry = old.id * 2 + 1;"
    " DELETE FROM embed_queue WHERE entry = old.id * 2 + 1; END;"
    "INSERT INTO embed_queue(entry) SELECT id * 2 FROM messages WHERE content <> '';"
    "INSERT INTO embed_queue(entry) SELECT id * 2 + 1 FROM memories;",
};

static const char *const query_sql[Q_COUNT] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE", /* take the write lock up front: no upgrade deadlock */
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_S_INSERT] = "INSERT INTO sessions(id, title, provider, model, base_url, system_prompt,"
                   " skills, token_delay_ms, api_key, created_ms, updated_ms, seq_reserved,"
                   " prompt_tokens, completion_tokens, vision)"
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    [Q_S_UPDATE] = "UPDATE sessions SET title = ?2, provider = ?3, model = ?4, base_url = ?5,"
                   " system_prompt = ?6, skills = ?7, token_delay_ms = ?8, updated_ms = ?9,"
                   " vision = ?10 WHERE id = ?1",
    [Q_S_SET_KEY] = "UPDATE sessions SET api_key = ?2 WHERE id = ?1",
    [Q_S_GET_KEY] = "SELECT api_key FROM sessions WHERE id = ?1",
    [Q_S_GET] = SESSION_COLS "WHERE id = ?1",
    [Q_S_ALL] = SESSION_COLS SESSION_ORDER,
    [Q_S_FIRST] = SESSION_COLS SESSION_ORDER " LIMIT ?1",
    [Q_S_AFTER] = SESSION_COLS "WHERE (updated_ms, id) < (?1, ?2)" SESSION_ORDER " LIMIT ?3",
    [Q_S_DELETE] = "DELETE FROM sessions WHERE id = ?1",
    [Q_S_SET_SEQ] = "UPDATE sessions SET seq_reserved = ?2 WHERE id = ?1",
    /* Saturating adds: an overflowing integer sum would turn into a REAL. */
    [Q_S_ADD_USAGE] = "UPDATE sessions SET"
                      " prompt_tokens = CASE WHEN prompt_tokens > " I64_MAX_SQL
                      " - ?2 THEN " I64_MAX_SQL " ELSE prompt_tokens + ?2 END,"
                      " completion_tokens = CASE WHEN completion_tokens > " I64_MAX_SQL
                      " - ?3 THEN " I64_MAX_SQL " ELSE completion_tokens + ?3 END"
                      " WHERE id = ?1",
    [Q_S_TOUCH] = "UPDATE sessions SET updated_ms = max(updated_ms, ?2) WHERE id = ?1",
    [Q_M_INSERT] = "INSERT INTO messages(session_id, role, skill, content, state, error, turn_id,"
                   " created_ms, client_id, kind, covers_to)"
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [Q_M_SET_TURN] = "UPDATE messages SET turn_id = ?2 WHERE id = ?1",
    [Q_M_FINISH] = "UPDATE messages SET state = ?2, content = coalesce(?3, content),"
                   " error = coalesce(?4, error) WHERE id = ?1",
    [Q_M_FIND_CLIENT] = MESSAGE_COLS "WHERE session_id = ?1 AND client_id = ?2",
    [Q_M_NEWEST] =
        MESSAGE_COLS "WHERE session_id = ?1 AND reverted_ms = 0 ORDER BY id DESC LIMIT ?2",
    [Q_M_RECOVER] = "UPDATE messages SET state = 6, error = ?1"
                    " WHERE state IN (1, 2) AND state = 2",
    [Q_M_QUEUED] = MESSAGE_COLS "WHERE state IN (1, 2) AND state = 1 AND role = 1"
                                " AND reverted_ms = 0 ORDER BY id",
    [Q_C_GET] = "SELECT value FROM counters WHERE name = ?1",
    [Q_C_RAISE] = "INSERT INTO counters(name, value) VALUES(?1, ?2)"
                  " ON CONFLICT(name) DO UPDATE SET value = max(value, excluded.value)",
    [Q_I_PUT] = "INSERT OR REPLACE INTO idem_keys(scope, req_hash, err, code, message, resp,"
                " created_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [Q_I_DELETE] = "DELETE FROM idem_keys WHERE scope = ?1",
    [Q_I_PRUNE_AGE] = "DELETE FROM idem_keys WHERE created_ms < ?1",
    [Q_I_PRUNE_COUNT] = "DELETE FROM idem_keys WHERE scope IN (SELECT scope FROM idem_keys"
                        " ORDER BY created_ms DESC, rowid DESC LIMIT -1 OFFSET ?1)",
    [Q_I_LOAD] = "SELECT scope, req_hash, err, code, message, resp, created_ms FROM idem_keys"
                 " ORDER BY created_ms DESC, rowid DESC",
    [Q_S_SET_MEMORY_FIELDS] =
        "UPDATE sessions SET context_window = ?2, archived = ?3 WHERE id = ?1",
    [Q_M_SUMMARY_LATEST] = MESSAGE_COLS
    "WHERE session_id = ?1 AND kind = 1 AND reverted_ms = 0 ORDER BY id DESC LIMIT 1",
    [Q_M_AFTER] = MESSAGE_COLS "WHERE session_id = ?1 AND id > ?2 AND reverted_ms = 0"
                               " ORDER BY id DESC LIMIT ?3",
    [Q_MEM_INSERT] = "INSERT INTO memories(session_id, content, created_ms) VALUES(?1, ?2, ?3)",
    /* Ranked ids first, and details only for the rows returned. Ranking
     * costs a lookup per scored row, so only the STORE_SEARCH_RANK_WINDOW
     * newest matches are scored: Q_SEARCH_FLOOR walks the doclist newest
     * first without scoring to find the oldest of them, and Q_SEARCH gets
     * it as a bound value (FTS5 only narrows its scan by a rowid bound it
     * is given as a value, not by a subquery; and a scan newest first with
     * the positions a score reads costs twice as much as one oldest first).
     * comfyd_bm25 (fts_rank.h) scores, with a bounded sort for the best ?3. */
    [Q_SEARCH_FLOOR] = "SELECT rowid FROM search_idx WHERE search_idx MATCH ?1"
                       " ORDER BY rowid DESC LIMIT 1 OFFSET ?2",
    [Q_SEARCH] = "SELECT rowid, comfyd_bm25(search_idx) AS r FROM search_idx"
                 " WHERE search_idx MATCH ?1 AND rowid >= ?2 ORDER BY r LIMIT ?3",
    [Q_SEARCH_SNIPPET] =
        "SELECT snippet(search_idx, 0, '[', ']', '…', 16),"
        " coalesce((SELECT title FROM sessions s WHERE s.id = search_idx.session_id), ''),"
        " CASE WHEN ?2 % 2 = 0 THEN (SELECT created_ms FROM messages WHERE id = ?2 / 2)"
        " ELSE (SELECT created_ms FROM memories WHERE id = ?2 / 2) END,"
        " CASE WHEN ?2 % 2 = 0 THEN (SELECT role FROM messages WHERE id = ?2 / 2) ELSE 0 END,"
        " CASE WHEN ?2 % 2 = 1 THEN (SELECT content FROM memories WHERE id = ?2 / 2) END,"
        " kind, session_id"
        " FROM search_idx WHERE search_idx MATCH ?1 AND rowid = ?2",
};

/* ---- errors ------------------------------------------------------------ */

static int map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return STORE_OK;
    case SQLITE_CONSTRAINT:
        return STORE_CONFLICT;
    case SQLITE_NOMEM:
        return STORE_ENOMEM;
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
        return STORE_EINVAL;
    case SQLITE_NOTADB:
        return STORE_ESCHEMA;
    default: /* FULL, IOERR, CANTOPEN, BUSY, LOCKED, READONLY, CORRUPT, ... */
        return STORE_EIO;
    }
}

/* Logs a failed SQLite call and maps it. SQLite's messages name tables and
 * columns, never bound values, so nothing secret reaches the log. */
int sq_sql_fail(sq *st, int rc, const char *what)
{
    int err = map_rc(rc);
    if (err == STORE_CONFLICT)
        LOG_D(MOD, "%s: %s", what, sqlite3_errmsg(st->db));
    else
        LOG_E(MOD, "%s: %s (sqlite %d)", what, sqlite3_errmsg(st->db), rc);
    return err;
}

void sq_q_done(sqlite3_stmt *q)
{
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
}

/* Runs a statement that returns no rows. */
int sq_q_exec(sq *st, sqlite3_stmt *q, const char *what)
{
    int rc = sqlite3_step(q);
    int err = rc == SQLITE_DONE ? STORE_OK : sq_sql_fail(st, rc, what);
    sq_q_done(q);
    return err;
}

/* Like sq_q_exec, and STORE_NOT_FOUND when no row changed. */
int sq_q_exec_one(sq *st, sqlite3_stmt *q, const char *what)
{
    int err = sq_q_exec(st, q, what);
    if (err == STORE_OK && sqlite3_changes(st->db) == 0) err = STORE_NOT_FOUND;
    return err;
}

void sq_tx_rollback(sq *st)
{
    /* A failed COMMIT may already have rolled back (e.g. on an I/O error). */
    if (sqlite3_get_autocommit(st->db)) return;
    int rc = sqlite3_step(st->q[Q_ROLLBACK]);
    if (rc != SQLITE_DONE) sq_sql_fail(st, rc, "rollback");
    sq_q_done(st->q[Q_ROLLBACK]);
}

int sq_tx_begin(sq *st)
{
    return sq_q_exec(st, st->q[Q_BEGIN], "begin");
}

int sq_tx_commit(sq *st)
{
    int err = sq_q_exec(st, st->q[Q_COMMIT], "commit");
    if (err != STORE_OK) sq_tx_rollback(st);
    return err;
}

/* ---- argument checks ---------------------------------------------------- */

/* ---- binding and reading ------------------------------------------------- */

/* Bound strings use SQLITE_STATIC: every statement is reset before the
 * public call returns, while the caller's strings are still alive. */
int sq_bind_text(sqlite3_stmt *q, int i, const char *s)
{
    return s ? sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(q, i);
}

int sq_bind_text_nn(sqlite3_stmt *q, int i, const char *s)
{
    return sqlite3_bind_text(q, i, s ? s : "", -1, SQLITE_STATIC);
}

/* Copies column i; NULL stays NULL unless nonnull, which gives "". */
int sq_col_dup(sqlite3_stmt *q, int i, int nonnull, char **out)
{
    *out = NULL;
    const unsigned char *t = (const unsigned char *)"";
    size_t len = 0;
    if (sqlite3_column_type(q, i) != SQLITE_NULL) {
        t = sqlite3_column_text(q, i);
        if (!t) return STORE_ENOMEM; /* converting the value failed */
        len = (size_t)sqlite3_column_bytes(q, i);
    } else if (!nonnull) {
        return STORE_OK;
    }
    char *s = malloc(len + 1);
    if (!s) return STORE_ENOMEM;
    memcpy(s, t, len);
    s[len] = '\0';
    *out = s;
    return STORE_OK;
}

/* Copies an id column into a char[40]; a missing or oversized id means the
 * row was not written by us. */
static int col_id(sqlite3_stmt *q, int i, char dst[STORE_ID_MAX + 1])
{
    const unsigned char *t = sqlite3_column_text(q, i);
    int len = sqlite3_column_bytes(q, i);
    if (!t || len < 1 || len > STORE_ID_MAX) return STORE_EIO;
    memcpy(dst, t, (size_t)len);
    dst[len] = '\0';
    return STORE_OK;
}

int sq_read_session(sqlite3_stmt *q, store_session *s)
{
    memset(s, 0, sizeof *s);
    int err = col_id(q, 0, s->id);
    char **fields[] = {&s->title, &s->provider, &s->model, &s->base_url, &s->system_prompt};
    for (int i = 0; err == STORE_OK && i < 5; i++)
        err = sq_col_dup(q, 1 + i, 1, fields[i]);
    if (err == STORE_OK) {
        const char *sk = (const char *)sqlite3_column_text(q, 6);
        err = store_skills_split(sk ? sk : "", sk ? (size_t)sqlite3_column_bytes(q, 6) : 0,
                                 &s->skills, &s->n_skills);
    }
    if (err != STORE_OK) {
        store_session_clear(s);
        return err;
    }
    int64_t delay = sqlite3_column_int64(q, 7);
    s->token_delay_ms = delay < 0 ? 0 : delay > UINT32_MAX ? UINT32_MAX : (uint32_t)delay;
    s->api_key_set = sqlite3_column_int(q, 8) != 0;
    s->created_ms = sqlite3_column_int64(q, 9);
    s->updated_ms = sqlite3_column_int64(q, 10);
    s->seq_reserved = (uint64_t)sqlite3_column_int64(q, 11);
    s->prompt_tokens = (uint64_t)sqlite3_column_int64(q, 12);
    s->completion_tokens = (uint64_t)sqlite3_column_int64(q, 13);
    int64_t count = sqlite3_column_int64(q, 14);
    s->message_count = count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;
    int64_t vision = sqlite3_column_int64(q, 15);
    s->vision = vision < 0 || vision > STORE_VISION_MAX ? 0 : (int)vision;
    int64_t win = sqlite3_column_int64(q, 16);
    s->context_window = win < 0 ? 0 : win > UINT32_MAX ? UINT32_MAX : (uint32_t)win;
    s->archived = sqlite3_column_int(q, 17) != 0;
    s->compacted_to = (uint64_t)sqlite3_column_int64(q, 18);
    const unsigned char *parent = sqlite3_column_text(q, 19);
    int plen = sqlite3_column_bytes(q, 19);
    if (parent && plen > 0 && plen <= STORE_ID_MAX) {
        memcpy(s->parent_id, parent, (size_t)plen);
        s->parent_id[plen] = '\0';
    }
    s->fork_point = (uint64_t)sqlite3_column_int64(q, 20);
    return STORE_OK;
}

int sq_read_message(sqlite3_stmt *q, store_message *m)
{
    memset(m, 0, sizeof *m);
    int64_t role = sqlite3_column_int64(q, 2), state = sqlite3_column_int64(q, 5);
    int err = col_id(q, 1, m->session_id);
    if (err == STORE_OK && (role < STORE_ROLE_USER || role > STORE_ROLE_SYSTEM ||
                            state < STORE_MSG_QUEUED || state > STORE_MSG_INTERRUPTED))
        err = STORE_EIO;
    if (err == STORE_OK) err = sq_col_dup(q, 3, 0, &m->skill);
    if (err == STORE_OK) err = sq_col_dup(q, 4, 1, &m->content);
    if (err == STORE_OK) err = sq_col_dup(q, 6, 0, &m->error);
    if (err == STORE_OK) err = sq_col_dup(q, 9, 0, &m->client_id);
    if (err != STORE_OK) {
        store_message_clear(m);
        return err;
    }
    m->id = (uint64_t)sqlite3_column_int64(q, 0);
    m->role = (store_role)role;
    m->state = (store_msg_state)state;
    m->turn_id = (uint64_t)sqlite3_column_int64(q, 7);
    m->created_ms = sqlite3_column_int64(q, 8);
    m->kind =
        sqlite3_column_int(q, 10) == STORE_KIND_SUMMARY ? STORE_KIND_SUMMARY : STORE_KIND_MESSAGE;
    m->covers_to = (uint64_t)sqlite3_column_int64(q, 11);
    m->reverted_ms = sqlite3_column_int64(q, 12);
    return STORE_OK;
}

/* Grows *arr (of elem-sized items) so that it holds at least need. */
int sq_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return STORE_OK;
    size_t ncap = *cap ? *cap * 2 : 16;
    if (ncap < need) ncap = need;
    if (ncap > SIZE_MAX / elem) return STORE_ENOMEM;
    void *p = realloc(*arr, ncap * elem);
    if (!p) return STORE_ENOMEM;
    *arr = p;
    *cap = ncap;
    return STORE_OK;
}

/* Steps q to the end, reading every row; q is reset. */
int sq_collect_sessions(sq *st, sqlite3_stmt *q, const char *what, store_session **out, size_t *n)
{
    store_session *list = NULL;
    size_t len = 0, cap = 0;
    int err = STORE_OK, rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        err = sq_grow((void **)&list, &cap, len + 1, sizeof *list);
        if (err == STORE_OK) err = sq_read_session(q, &list[len]);
        if (err != STORE_OK) break;
        len++;
    }
    if (err == STORE_OK && rc != SQLITE_DONE) err = sq_sql_fail(st, rc, what);
    if (err == STORE_EIO && rc == SQLITE_ROW) LOG_E(MOD, "%s: malformed session row", what);
    sq_q_done(q);
    if (err != STORE_OK) {
        store_sessions_free(list, len);
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

int sq_collect_messages(sq *st, sqlite3_stmt *q, const char *what, store_message **out, size_t *n)
{
    store_message *list = NULL;
    size_t len = 0, cap = 0;
    int err = STORE_OK, rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        err = sq_grow((void **)&list, &cap, len + 1, sizeof *list);
        if (err == STORE_OK) err = sq_read_message(q, &list[len]);
        if (err != STORE_OK) break;
        len++;
    }
    if (err == STORE_OK && rc != SQLITE_DONE) err = sq_sql_fail(st, rc, what);
    if (err == STORE_EIO && rc == SQLITE_ROW) LOG_E(MOD, "%s: malformed message row", what);
    sq_q_done(q);
    if (err != STORE_OK) {
        store_messages_free(list, len);
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

static void sq_close(store *base);
static const store_ops sqlite_ops;

/* ---- open and close ------------------------------------------------------ */

/* Reads the single integer a PRAGMA or query yields. */
static int db_int(sqlite3 *db, const char *sql, int64_t *v)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            *v = sqlite3_column_int64(q, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(q);
    return rc;
}

/* Checks that the file is empty or ours and not from a newer build. */
static int check_identity(sq *st, int64_t *version)
{
    int64_t app = 0, objects = 0;
    int rc = db_int(st->db, "PRAGMA application_id", &app);
    if (rc == SQLITE_OK) rc = db_int(st->db, "PRAGMA user_version", version);
    if (rc == SQLITE_OK) rc = db_int(st->db, "SELECT count(*) FROM sqlite_schema", &objects);
    if ((rc & 0xff) == SQLITE_NOTADB) {
        LOG_E(MOD, "%s is not a SQLite database; refusing to use it", st->path);
        return STORE_ESCHEMA;
    }
    if (rc != SQLITE_OK) return sq_sql_fail(st, rc, "reading the schema version");
    if (app != 0 && app != STORE_APP_ID) {
        LOG_E(MOD, "%s belongs to another application (application_id %#llx)", st->path,
              (unsigned long long)app);
        return STORE_ESCHEMA;
    }
    if (*version == 0 && objects > 0) {
        LOG_E(MOD, "%s holds tables but no comfyd schema; refusing to use it", st->path);
        return STORE_ESCHEMA;
    }
    if (*version < 0 || *version > STORE_SCHEMA_VERSION) {
        LOG_E(MOD, "%s has schema version %lld, newer than this build's %d; upgrade comfyd",
              st->path, (long long)*version, STORE_SCHEMA_VERSION);
        return STORE_ESCHEMA;
    }
    if (*version > 0 && app != STORE_APP_ID) {
        LOG_E(MOD, "%s has schema version %lld but no comfyd application_id", st->path,
              (long long)*version);
        return STORE_ESCHEMA;
    }
    return STORE_OK;
}

static int set_pragmas(sq *st)
{
    /* journal_mode answers with the mode in force, which stays "delete"
     * when WAL cannot be used (e.g. no shared memory on this filesystem). */
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &q, NULL);
    int wal = 0;
    if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(q, 0);
        wal = mode && strcmp(mode, "wal") == 0;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_OK) return sq_sql_fail(st, rc, "enabling WAL");
    if (!wal) {
        LOG_E(MOD, "%s: the filesystem does not support WAL mode", st->path);
        return STORE_EIO;
    }
    /* FULL: each commit syncs the WAL, so an acknowledged write survives
     * power loss, not only a crash of this process. secure_delete zeroes
     * freed content, such as a replaced API key. */
    rc = sqlite3_exec(st->db,
                      "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                      " PRAGMA secure_delete=ON;",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) return sq_sql_fail(st, rc, "setting pragmas");
    int64_t fk = 0, sync = 0;
    rc = db_int(st->db, "PRAGMA foreign_keys", &fk);
    if (rc == SQLITE_OK) rc = db_int(st->db, "PRAGMA synchronous", &sync);
    if (rc != SQLITE_OK) return sq_sql_fail(st, rc, "reading pragmas");
    if (fk != 1 || sync != 2) {
        LOG_E(MOD, "this SQLite build cannot enforce foreign keys or synchronous=FULL");
        return STORE_EIO;
    }
    return STORE_OK;
}

static int migrate(sq *st, int64_t from)
{
    int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) return sq_sql_fail(st, rc, "begin schema transaction");
    /* Another process may have created the schema while we waited. */
    int64_t now = 0;
    rc = db_int(st->db, "PRAGMA user_version", &now);
    int err = rc == SQLITE_OK ? STORE_OK : sq_sql_fail(st, rc, "reading the schema version");
    if (err == STORE_OK && now != from) {
        LOG_E(MOD, "%s changed schema version while opening; retry", st->path);
        err = STORE_ESCHEMA;
    }
    for (int64_t v = from; err == STORE_OK && v < STORE_SCHEMA_VERSION; v++) {
        rc = sqlite3_exec(st->db, migrations[v], NULL, NULL, NULL);
        if (rc != SQLITE_OK) err = sq_sql_fail(st, rc, "creating the schema");
    }
    if (err == STORE_OK) {
        char sql[96];
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d; PRAGMA application_id=%d;",
                 STORE_SCHEMA_VERSION, STORE_APP_ID);
        rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK) err = sq_sql_fail(st, rc, "setting the schema version");
    }
    if (err == STORE_OK) {
        rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK) err = sq_sql_fail(st, rc, "commit schema");
    }
    if (err != STORE_OK && !sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    if (err == STORE_OK)
        LOG_I(MOD, "%s: schema version %lld -> %d", st->path, (long long)from,
              STORE_SCHEMA_VERSION);
    return err;
}

/* The file holds API keys: create it private, and make an existing one
 * private once we know it is ours (-wal and -shm copy its mode). */
static int create_private(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
        return STORE_OK;
    }
    if (errno == EEXIST) return STORE_OK;
    LOG_E(MOD, "cannot create %s: %s", path, strerror(errno));
    return errno == ENOMEM ? STORE_ENOMEM : STORE_EIO;
}

static void make_private(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || !(sb.st_mode & 077)) return;
    if (chmod(path, sb.st_mode & 0700) == 0)
        LOG_W(MOD, "%s was readable by others; changed its mode to %04o", path,
              (unsigned)(sb.st_mode & 0700));
    else
        LOG_W(MOD, "%s is readable by others and chmod failed: %s", path, strerror(errno));
}

int store_sqlite_open(store **out, const char *path)
{
    if (!out) return STORE_EINVAL;
    *out = NULL;
    /* ":memory:" cannot do WAL and would not be durable. */
    if (!path || !*path || strcmp(path, ":memory:") == 0) return STORE_EINVAL;
    sq *st = calloc(1, sizeof *st);
    if (!st) return STORE_ENOMEM;
    st->base.ops = &sqlite_ops;
    int err = STORE_ENOMEM;
    if (pthread_mutex_init(&st->mu, NULL) != 0) {
        free(st);
        return STORE_ENOMEM;
    }
    st->path = strdup(path);
    if (!st->path) goto fail;
    err = create_private(path);
    if (err != STORE_OK) goto fail;
    /* No SQLITE_OPEN_CREATE: the file exists, and if it vanished meanwhile
     * we would rather fail than create one with default permissions. */
    int rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        LOG_E(MOD, "cannot open %s: %s", path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
        err = map_rc(rc);
        if (err == STORE_OK || err == STORE_CONFLICT) err = STORE_EIO;
        goto fail;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
    rc = fts_rank_register(st->db);
    if (rc != SQLITE_OK) {
        err = sq_sql_fail(st, rc, "registering the search ranking");
        goto fail;
    }

    int64_t version = 0;
    err = check_identity(st, &version);
    if (err == STORE_OK) err = set_pragmas(st);
    if (err == STORE_OK && version < STORE_SCHEMA_VERSION) err = migrate(st, version);
    if (err != STORE_OK) goto fail;
    make_private(path);

    for (int i = 0; i < Q_COUNT; i++) {
        rc = sqlite3_prepare_v3(st->db, query_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->q[i],
                                NULL);
        if (rc != SQLITE_OK) {
            err = sq_sql_fail(st, rc, "preparing statements");
            goto fail;
        }
    }
    LOG_I(MOD, "opened %s (schema v%d, WAL, synchronous=FULL)", path, STORE_SCHEMA_VERSION);
    *out = &st->base;
    return STORE_OK;

fail:
    sq_close(&st->base);
    return err;
}

static void sq_close(store *base)
{
    sq *st = (sq *)base;
    if (!st) return;
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(st->q[i]);
    if (st->db) {
        int rc = sqlite3_close(st->db);
        if (rc != SQLITE_OK) LOG_E(MOD, "closing %s: %s", st->path, sqlite3_errstr(rc));
    }
    pthread_mutex_destroy(&st->mu);
    free(st->path);
    free(st);
}

static const store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .session_insert = sq_session_insert,
    .session_update = sq_session_update,
    .session_set_api_key = sq_session_set_api_key,
    .session_get_api_key = sq_session_get_api_key,
    .session_get = sq_session_get,
    .session_list_all = sq_session_list_all,
    .session_page = sq_session_page,
    .session_delete = sq_session_delete,
    .session_set_seq_reserved = sq_session_set_seq_reserved,
    .session_add_usage = sq_session_add_usage,
    .message_insert = sq_message_insert,
    .message_insert_with = sq_message_insert_with,
    .attachments_load = sq_attachments_load,
    .attachment_hashes = sq_attachment_hashes,
    .message_finish = sq_message_finish,
    .turn_end = sq_turn_end,
    .message_find_client_id = sq_message_find_client_id,
    .messages_load = sq_messages_load,
    .recover_interrupted = sq_recover_interrupted,
    .messages_queued = sq_messages_queued,
    .counter_get = sq_counter_get,
    .counter_raise = sq_counter_raise,
    .idem_put = sq_idem_put,
    .idem_delete = sq_idem_delete,
    .idem_load = sq_idem_load,
    .summary_latest = sq_summary_latest,
    .messages_after = sq_messages_after,
    .memory_add = sq_memory_add,
    .search = sq_search,
    .message_get = sq_message_get,
    .session_fork = sq_session_fork,
    .session_revert = sq_session_revert,
    .session_unrevert = sq_session_unrevert,
    .checkpoint_put = sq_checkpoint_put,
    .checkpoints_list = sq_checkpoints_list,
    .embed_next = sq_embed_next,
    .embed_put = sq_embed_put,
    .embed_retry = sq_embed_retry,
    .embed_requeue = sq_embed_requeue,
    .embed_scan = sq_embed_scan,
    .embed_get = sq_embed_get,
    .hit_get = sq_hit_get,
};
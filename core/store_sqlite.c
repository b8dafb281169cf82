/* store_sqlite: the embedded engine behind store.h (store_backend.h):
 * sessions, messages, counters and idempotency keys in one SQLite database.
 *
 * One connection, opened with SQLITE_OPEN_NOMUTEX: st->mu serialises every
 * call, which both makes the API thread-safe and keeps multi-statement
 * writes (BEGIN ... COMMIT) from interleaving. Statements are prepared once
 * at open and reset after each use. */
#include "store_backend.h"

#include "fts_rank.h"

#include "log.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MOD "store"

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

#define SESSION_COLS                                                                               \
    "SELECT id, title, provider, model, base_url, system_prompt, skills, token_delay_ms,"          \
    " api_key IS NOT NULL, created_ms, updated_ms, seq_reserved, prompt_tokens,"                   \
    " completion_tokens,"                                                                          \
    " (SELECT count(*) FROM messages m WHERE m.session_id = s.id AND m.reverted_ms = 0), vision,"  \
    " context_window, archived,"                                                                   \
    " (SELECT coalesce(max(covers_to), 0) FROM messages m WHERE m.session_id = s.id AND kind = 1"  \
    " AND m.reverted_ms = 0), parent_id, fork_point"                                               \
    " FROM sessions s "
#define SESSION_ORDER " ORDER BY updated_ms DESC, id DESC"
#define MESSAGE_COLS                                                                               \
    "SELECT id, session_id, role, skill, content, state, error, turn_id, created_ms, client_id,"   \
    " kind, covers_to, reverted_ms FROM messages "
#define I64_MAX_SQL "9223372036854775807"

enum {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_S_INSERT,
    Q_S_UPDATE,
    Q_S_SET_KEY,
    Q_S_GET_KEY,
    Q_S_GET,
    Q_S_ALL,
    Q_S_FIRST,
    Q_S_AFTER,
    Q_S_DELETE,
    Q_S_SET_SEQ,
    Q_S_ADD_USAGE,
    Q_S_TOUCH,
    Q_M_INSERT,
    Q_M_SET_TURN,
    Q_M_FINISH,
    Q_M_FIND_CLIENT,
    Q_M_NEWEST,
    Q_M_RECOVER,
    Q_M_QUEUED,
    Q_C_GET,
    Q_C_RAISE,
    Q_I_PUT,
    Q_I_DELETE,
    Q_I_PRUNE_AGE,
    Q_I_PRUNE_COUNT,
    Q_I_LOAD,
    Q_S_SET_MEMORY_FIELDS,
    Q_M_SUMMARY_LATEST,
    Q_M_AFTER,
    Q_MEM_INSERT,
    Q_SEARCH_FLOOR,
    Q_SEARCH,
    Q_SEARCH_SNIPPET,
    Q_COUNT
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

typedef struct sq {
    store base; /* first: the interface's handle is this struct */
    pthread_mutex_t mu;
    sqlite3 *db;
    sqlite3_stmt *q[Q_COUNT];
    char *path; /* for log lines */
} sq;

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
static int sql_fail(sq *st, int rc, const char *what)
{
    int err = map_rc(rc);
    if (err == STORE_CONFLICT)
        LOG_D(MOD, "%s: %s", what, sqlite3_errmsg(st->db));
    else
        LOG_E(MOD, "%s: %s (sqlite %d)", what, sqlite3_errmsg(st->db), rc);
    return err;
}

static void q_done(sqlite3_stmt *q)
{
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
}

/* Runs a statement that returns no rows. */
static int q_exec(sq *st, sqlite3_stmt *q, const char *what)
{
    int rc = sqlite3_step(q);
    int err = rc == SQLITE_DONE ? STORE_OK : sql_fail(st, rc, what);
    q_done(q);
    return err;
}

/* Like q_exec, and STORE_NOT_FOUND when no row changed. */
static int q_exec_one(sq *st, sqlite3_stmt *q, const char *what)
{
    int err = q_exec(st, q, what);
    if (err == STORE_OK && sqlite3_changes(st->db) == 0) err = STORE_NOT_FOUND;
    return err;
}

static void tx_rollback(sq *st)
{
    /* A failed COMMIT may already have rolled back (e.g. on an I/O error). */
    if (sqlite3_get_autocommit(st->db)) return;
    int rc = sqlite3_step(st->q[Q_ROLLBACK]);
    if (rc != SQLITE_DONE) sql_fail(st, rc, "rollback");
    q_done(st->q[Q_ROLLBACK]);
}

static int tx_begin(sq *st)
{
    return q_exec(st, st->q[Q_BEGIN], "begin");
}

static int tx_commit(sq *st)
{
    int err = q_exec(st, st->q[Q_COMMIT], "commit");
    if (err != STORE_OK) tx_rollback(st);
    return err;
}

/* ---- argument checks ---------------------------------------------------- */

/* ---- binding and reading ------------------------------------------------- */

/* Bound strings use SQLITE_STATIC: every statement is reset before the
 * public call returns, while the caller's strings are still alive. */
static int bind_text(sqlite3_stmt *q, int i, const char *s)
{
    return s ? sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(q, i);
}

static int bind_text_nn(sqlite3_stmt *q, int i, const char *s)
{
    return sqlite3_bind_text(q, i, s ? s : "", -1, SQLITE_STATIC);
}

/* Copies column i; NULL stays NULL unless nonnull, which gives "". */
static int col_dup(sqlite3_stmt *q, int i, int nonnull, char **out)
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

static int read_session(sqlite3_stmt *q, store_session *s)
{
    memset(s, 0, sizeof *s);
    int err = col_id(q, 0, s->id);
    char **fields[] = {&s->title, &s->provider, &s->model, &s->base_url, &s->system_prompt};
    for (int i = 0; err == STORE_OK && i < 5; i++)
        err = col_dup(q, 1 + i, 1, fields[i]);
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

static int read_message(sqlite3_stmt *q, store_message *m)
{
    memset(m, 0, sizeof *m);
    int64_t role = sqlite3_column_int64(q, 2), state = sqlite3_column_int64(q, 5);
    int err = col_id(q, 1, m->session_id);
    if (err == STORE_OK && (role < STORE_ROLE_USER || role > STORE_ROLE_SYSTEM ||
                            state < STORE_MSG_QUEUED || state > STORE_MSG_INTERRUPTED))
        err = STORE_EIO;
    if (err == STORE_OK) err = col_dup(q, 3, 0, &m->skill);
    if (err == STORE_OK) err = col_dup(q, 4, 1, &m->content);
    if (err == STORE_OK) err = col_dup(q, 6, 0, &m->error);
    if (err == STORE_OK) err = col_dup(q, 9, 0, &m->client_id);
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
static int grow(void **arr, size_t *cap, size_t need, size_t elem)
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
static int collect_sessions(sq *st, sqlite3_stmt *q, const char *what, store_session **out,
                            size_t *n)
{
    store_session *list = NULL;
    size_t len = 0, cap = 0;
    int err = STORE_OK, rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        err = grow((void **)&list, &cap, len + 1, sizeof *list);
        if (err == STORE_OK) err = read_session(q, &list[len]);
        if (err != STORE_OK) break;
        len++;
    }
    if (err == STORE_OK && rc != SQLITE_DONE) err = sql_fail(st, rc, what);
    if (err == STORE_EIO && rc == SQLITE_ROW) LOG_E(MOD, "%s: malformed session row", what);
    q_done(q);
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

static int collect_messages(sq *st, sqlite3_stmt *q, const char *what, store_message **out,
                            size_t *n)
{
    store_message *list = NULL;
    size_t len = 0, cap = 0;
    int err = STORE_OK, rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        err = grow((void **)&list, &cap, len + 1, sizeof *list);
        if (err == STORE_OK) err = read_message(q, &list[len]);
        if (err != STORE_OK) break;
        len++;
    }
    if (err == STORE_OK && rc != SQLITE_DONE) err = sql_fail(st, rc, what);
    if (err == STORE_EIO && rc == SQLITE_ROW) LOG_E(MOD, "%s: malformed message row", what);
    q_done(q);
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
    if (rc != SQLITE_OK) return sql_fail(st, rc, "reading the schema version");
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
    if (rc != SQLITE_OK) return sql_fail(st, rc, "enabling WAL");
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
    if (rc != SQLITE_OK) return sql_fail(st, rc, "setting pragmas");
    int64_t fk = 0, sync = 0;
    rc = db_int(st->db, "PRAGMA foreign_keys", &fk);
    if (rc == SQLITE_OK) rc = db_int(st->db, "PRAGMA synchronous", &sync);
    if (rc != SQLITE_OK) return sql_fail(st, rc, "reading pragmas");
    if (fk != 1 || sync != 2) {
        LOG_E(MOD, "this SQLite build cannot enforce foreign keys or synchronous=FULL");
        return STORE_EIO;
    }
    return STORE_OK;
}

static int migrate(sq *st, int64_t from)
{
    int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) return sql_fail(st, rc, "begin schema transaction");
    /* Another process may have created the schema while we waited. */
    int64_t now = 0;
    rc = db_int(st->db, "PRAGMA user_version", &now);
    int err = rc == SQLITE_OK ? STORE_OK : sql_fail(st, rc, "reading the schema version");
    if (err == STORE_OK && now != from) {
        LOG_E(MOD, "%s changed schema version while opening; retry", st->path);
        err = STORE_ESCHEMA;
    }
    for (int64_t v = from; err == STORE_OK && v < STORE_SCHEMA_VERSION; v++) {
        rc = sqlite3_exec(st->db, migrations[v], NULL, NULL, NULL);
        if (rc != SQLITE_OK) err = sql_fail(st, rc, "creating the schema");
    }
    if (err == STORE_OK) {
        char sql[96];
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d; PRAGMA application_id=%d;",
                 STORE_SCHEMA_VERSION, STORE_APP_ID);
        rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK) err = sql_fail(st, rc, "setting the schema version");
    }
    if (err == STORE_OK) {
        rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK) err = sql_fail(st, rc, "commit schema");
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
        err = sql_fail(st, rc, "registering the search ranking");
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
            err = sql_fail(st, rc, "preparing statements");
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

/* ---- sessions ------------------------------------------------------------ */

/* The columns added by schema version 4, written after an insert or an
 * update of the older ones (inside the caller's transaction). */
static int set_memory_fields(sq *st, const store_session *s)
{
    sqlite3_stmt *q = st->q[Q_S_SET_MEMORY_FIELDS];
    bind_text(q, 1, s->id);
    sqlite3_bind_int64(q, 2, s->context_window);
    sqlite3_bind_int(q, 3, s->archived ? 1 : 0);
    return q_exec_one(st, q, "set context window");
}

static int sq_session_insert(store *base, const store_session *s, const char *api_key)
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
    bind_text(q, 1, s->id);
    bind_text_nn(q, 2, s->title);
    bind_text_nn(q, 3, s->provider);
    bind_text_nn(q, 4, s->model);
    bind_text_nn(q, 5, s->base_url);
    bind_text_nn(q, 6, s->system_prompt);
    bind_text(q, 7, skills);
    sqlite3_bind_int64(q, 8, s->token_delay_ms);
    bind_text(q, 9, api_key && *api_key ? api_key : NULL);
    sqlite3_bind_int64(q, 10, s->created_ms);
    sqlite3_bind_int64(q, 11, s->updated_ms);
    sqlite3_bind_int64(q, 12, (int64_t)s->seq_reserved);
    sqlite3_bind_int64(q, 13, (int64_t)s->prompt_tokens);
    sqlite3_bind_int64(q, 14, (int64_t)s->completion_tokens);
    sqlite3_bind_int64(q, 15, s->vision);
    err = tx_begin(st);
    if (err == STORE_OK)
        err = q_exec(st, q, "insert session");
    else
        q_done(q);
    if (err == STORE_OK) err = set_memory_fields(st, s);
    if (err == STORE_OK)
        err = tx_commit(st);
    else
        tx_rollback(st);
    pthread_mutex_unlock(&st->mu);
    free(skills);
    return err;
}

static int sq_session_update(store *base, const store_session *s)
{
    sq *st = (sq *)base;
    if (!st || !store_session_fields_ok(s)) return STORE_EINVAL;
    char *skills = NULL;
    int err = store_skills_join(s, &skills);
    if (err != STORE_OK) return err;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_S_UPDATE];
    bind_text(q, 1, s->id);
    bind_text_nn(q, 2, s->title);
    bind_text_nn(q, 3, s->provider);
    bind_text_nn(q, 4, s->model);
    bind_text_nn(q, 5, s->base_url);
    bind_text_nn(q, 6, s->system_prompt);
    bind_text(q, 7, skills);
    sqlite3_bind_int64(q, 8, s->token_delay_ms);
    sqlite3_bind_int64(q, 9, s->updated_ms);
    sqlite3_bind_int64(q, 10, s->vision);
    err = tx_begin(st);
    if (err == STORE_OK)
        err = q_exec_one(st, q, "update session");
    else
        q_done(q);
    if (err == STORE_OK) err = set_memory_fields(st, s);
    if (err == STORE_OK)
        err = tx_commit(st);
    else
        tx_rollback(st);
    pthread_mutex_unlock(&st->mu);
    free(skills);
    return err;
}

static int sq_session_set_api_key(store *base, const char *id, const char *api_key)
{
    sq *st = (sq *)base;
    if (!st || !store_id_ok(id) || !store_text_ok(api_key, STORE_API_KEY_MAX)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_S_SET_KEY];
    bind_text(q, 1, id);
    bind_text(q, 2, api_key && *api_key ? api_key : NULL);
    int err = q_exec_one(st, q, "set api key");
    pthread_mutex_unlock(&st->mu);
    return err;
}

static int sq_session_get_api_key(store *base, const char *id, char **out)
{
    sq *st = (sq *)base;
    if (!out) return STORE_EINVAL;
    *out = NULL;
    if (!st || !store_id_ok(id)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_S_GET_KEY];
    bind_text(q, 1, id);
    int rc = sqlite3_step(q), err;
    if (rc == SQLITE_ROW)
        err = col_dup(q, 0, 0, out);
    else if (rc == SQLITE_DONE)
        err = STORE_NOT_FOUND;
    else
        err = sql_fail(st, rc, "get api key");
    q_done(q);
    pthread_mutex_unlock(&st->mu);
    return err;
}

static int sq_session_get(store *base, const char *id, store_session *out)
{
    sq *st = (sq *)base;
    if (!out) return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!st || !store_id_ok(id)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_S_GET];
    bind_text(q, 1, id);
    int rc = sqlite3_step(q), err;
    if (rc == SQLITE_ROW) {
        err = read_session(q, out);
        if (err == STORE_EIO) LOG_E(MOD, "session %s: malformed row", id);
    } else if (rc == SQLITE_DONE) {
        err = STORE_NOT_FOUND;
    } else {
        err = sql_fail(st, rc, "get session");
    }
    q_done(q);
    pthread_mutex_unlock(&st->mu);
    return err;
}

static int sq_session_list_all(store *base, store_session **out, size_t *n)
{
    sq *st = (sq *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!st) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    int err = collect_sessions(st, st->q[Q_S_ALL], "list sessions", out, n);
    pthread_mutex_unlock(&st->mu);
    return err;
}

static int sq_session_page(store *base, int64_t after_updated_ms, const char *after_id,
                           size_t limit, store_session **out, size_t *n)
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
        bind_text(q, 2, after_id);
        sqlite3_bind_int64(q, 3, lim);
    } else {
        q = st->q[Q_S_FIRST];
        sqlite3_bind_int64(q, 1, lim);
    }
    int err = collect_sessions(st, q, "page sessions", out, n);
    pthread_mutex_unlock(&st->mu);
    return err;
}

static int sq_session_delete(store *base, const char *id)
{
    sq *st = (sq *)base;
    if (!st || !store_id_ok(id)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_S_DELETE];
    bind_text(q, 1, id);
    /* One statement: the cascade runs inside its implicit transaction. */
    int err = q_exec_one(st, q, "delete session");
    pthread_mutex_unlock(&st->mu);
    return err;
}

static int sq_session_set_seq_reserved(store *base, const char *id, uint64_t seq_reserved)
{
    sq *st = (sq *)base;
    if (!st || !store_id_ok(id) || !store_u63_ok(seq_reserved)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_S_SET_SEQ];
    bind_text(q, 1, id);
    sqlite3_bind_int64(q, 2, (int64_t)seq_reserved);
    int err = q_exec_one(st, q, "set seq_reserved");
    pthread_mutex_unlock(&st->mu);
    return err;
}

static int add_usage_locked(sq *st, const char *id, uint64_t prompt, uint64_t completion)
{
    sqlite3_stmt *q = st->q[Q_S_ADD_USAGE];
    bind_text(q, 1, id);
    sqlite3_bind_int64(q, 2, (int64_t)prompt);
    sqlite3_bind_int64(q, 3, (int64_t)completion);
    return q_exec_one(st, q, "add usage");
}

static int sq_session_add_usage(store *base, const char *id, uint64_t prompt, uint64_t completion)
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

static int sq_message_insert_with(store *base, store_message *m, const store_attachment *atts,
                                  size_t n_atts);

static int sq_message_insert(store *base, store_message *m)
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
    if (rc != SQLITE_OK) return sql_fail(st, rc, "prepare attachment insert");
    int err = STORE_OK;
    for (size_t i = 0; err == STORE_OK && i < n; i++) {
        sqlite3_bind_int64(q, 1, (int64_t)msg_id);
        sqlite3_bind_int64(q, 2, (int64_t)i);
        bind_text(q, 3, a[i].sha256);
        bind_text(q, 4, a[i].mime);
        bind_text_nn(q, 5, a[i].name);
        sqlite3_bind_int64(q, 6, a[i].size > INT64_MAX ? INT64_MAX : (int64_t)a[i].size);
        sqlite3_bind_int64(q, 7, a[i].width);
        sqlite3_bind_int64(q, 8, a[i].height);
        err = q_exec(st, q, "insert attachment");
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
    bind_text(q, 1, m->session_id);
    sqlite3_bind_int64(q, 2, created);
    int err = q_exec_one(st, q, "touch session");

    if (err == STORE_OK) {
        q = st->q[Q_M_INSERT];
        bind_text(q, 1, m->session_id);
        sqlite3_bind_int(q, 2, (int)m->role);
        bind_text(q, 3, m->skill);
        bind_text(q, 4, m->content);
        sqlite3_bind_int(q, 5, (int)m->state);
        bind_text(q, 6, m->error);
        sqlite3_bind_int64(q, 7, (int64_t)m->turn_id);
        sqlite3_bind_int64(q, 8, created);
        bind_text(q, 9, m->client_id);
        sqlite3_bind_int(q, 10, m->kind == STORE_KIND_SUMMARY ? STORE_KIND_SUMMARY : 0);
        sqlite3_bind_int64(q, 11, (int64_t)m->covers_to);
        err = q_exec(st, q, "insert message");
    }
    int64_t id = err == STORE_OK ? sqlite3_last_insert_rowid(st->db) : 0;
    uint64_t turn = m->turn_id;
    if (err == STORE_OK && m->role == STORE_ROLE_USER && turn == 0) {
        turn = (uint64_t)id;
        q = st->q[Q_M_SET_TURN];
        sqlite3_bind_int64(q, 1, id);
        sqlite3_bind_int64(q, 2, id);
        err = q_exec(st, q, "set turn id");
    }
    if (err == STORE_OK) err = attachments_insert_locked(st, (uint64_t)id, atts, n_atts);
    if (err == STORE_OK) {
        m->id = (uint64_t)id;
        m->turn_id = turn;
        m->created_ms = created;
    }
    return err;
}

static int sq_message_insert_with(store *base, store_message *m, const store_attachment *atts,
                                  size_t n_atts)
{
    sq *st = (sq *)base;
    if (!st || !store_message_ok(m) || !attachments_ok(atts, n_atts)) return STORE_EINVAL;
    store_message w = *m; /* written back only once committed */
    pthread_mutex_lock(&st->mu);
    int err = tx_begin(st);
    if (err == STORE_OK) {
        err = message_insert_locked(st, &w, atts, n_atts);
        if (err == STORE_OK)
            err = tx_commit(st);
        else
            tx_rollback(st);
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
    bind_text(q, 3, content);
    bind_text(q, 4, error);
    return q_exec_one(st, q, "finish message");
}

static int sq_turn_end(store *base, const char *session_id, store_message *replies, size_t n,
                       uint64_t user_id, store_msg_state user_state, uint64_t prompt,
                       uint64_t completion)
{
    sq *st = (sq *)base;
    if (!st || !store_turn_end_ok(session_id, replies, n, user_id, user_state, prompt, completion))
        return STORE_EINVAL;
    store_message *w = calloc(n ? n : 1, sizeof *w); /* written back only once committed */
    if (!w) return STORE_ENOMEM;
    if (n) memcpy(w, replies, n * sizeof *w);
    pthread_mutex_lock(&st->mu);
    int err = tx_begin(st);
    if (err == STORE_OK) {
        for (size_t i = 0; err == STORE_OK && i < n; i++)
            err = message_insert_locked(st, &w[i], NULL, 0);
        if (err == STORE_OK && user_state) err = finish_locked(st, user_id, user_state, NULL, NULL);
        if (err == STORE_OK && (prompt || completion))
            err = add_usage_locked(st, session_id, prompt, completion);
        if (err == STORE_OK)
            err = tx_commit(st);
        else
            tx_rollback(st);
    }
    pthread_mutex_unlock(&st->mu);
    if (err == STORE_OK && n) memcpy(replies, w, n * sizeof *w);
    free(w);
    return err;
}

static int sq_message_finish(store *base, uint64_t id, store_msg_state state, const char *content,
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

static int sq_message_find_client_id(store *base, const char *session_id, const char *client_id,
                                     store_message *out)
{
    sq *st = (sq *)base;
    if (!out) return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!st || !store_id_ok(session_id) || !client_id || !store_text_ok(client_id, STORE_TEXT_MAX))
        return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_M_FIND_CLIENT];
    bind_text(q, 1, session_id);
    bind_text(q, 2, client_id);
    int rc = sqlite3_step(q), err;
    if (rc == SQLITE_ROW) {
        err = read_message(q, out);
        if (err == STORE_EIO) LOG_E(MOD, "session %s: malformed message row", session_id);
    } else if (rc == SQLITE_DONE) {
        err = STORE_NOT_FOUND;
    } else {
        err = sql_fail(st, rc, "find client id");
    }
    q_done(q);
    pthread_mutex_unlock(&st->mu);
    return err;
}

static int sq_messages_load(store *base, const char *session_id, size_t limit, store_message **out,
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
    bind_text(q, 1, session_id);
    sqlite3_bind_int64(q, 2, lim);
    store_message *list = NULL;
    size_t len = 0;
    int err = collect_messages(st, q, "load messages", &list, &len);
    pthread_mutex_unlock(&st->mu);
    if (err != STORE_OK) return err;
    store_messages_page(list, len, limit, truncated, out, n);
    return STORE_OK;
}

static int sq_recover_interrupted(store *base, const char *error, size_t *changed)
{
    sq *st = (sq *)base;
    if (changed) *changed = 0;
    if (!st || !changed || !store_text_ok(error, STORE_TEXT_MAX)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_M_RECOVER];
    bind_text(q, 1, error);
    int err = q_exec(st, q, "recover interrupted");
    if (err == STORE_OK) *changed = (size_t)sqlite3_changes64(st->db);
    pthread_mutex_unlock(&st->mu);
    if (err == STORE_OK && *changed)
        LOG_I(MOD, "marked %zu running messages interrupted", *changed);
    return err;
}

static int sq_messages_queued(store *base, store_message **out, size_t *n)
{
    sq *st = (sq *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!st) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    int err = collect_messages(st, st->q[Q_M_QUEUED], "queued messages", out, n);
    pthread_mutex_unlock(&st->mu);
    return err;
}

/* ---- counters and idempotency keys (the graph service) ------------------- */

static int sq_counter_get(store *base, const char *name, uint64_t *out)
{
    sq *st = (sq *)base;
    if (!out) return STORE_EINVAL;
    *out = 0;
    if (!st || !name || !store_text_ok(name, STORE_ID_MAX)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_C_GET];
    bind_text(q, 1, name);
    int rc = sqlite3_step(q), err = STORE_OK;
    if (rc == SQLITE_ROW) {
        sqlite3_int64 v = sqlite3_column_int64(q, 0);
        *out = v > 0 ? (uint64_t)v : 0;
    } else if (rc != SQLITE_DONE) {
        err = sql_fail(st, rc, "get counter");
    }
    q_done(q);
    pthread_mutex_unlock(&st->mu);
    return err;
}

static int sq_counter_raise(store *base, const char *name, uint64_t value)
{
    sq *st = (sq *)base;
    if (!st || !name || !store_text_ok(name, STORE_ID_MAX) || !store_u63_ok(value))
        return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_C_RAISE];
    bind_text(q, 1, name);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)value);
    int err = q_exec(st, q, "raise counter");
    pthread_mutex_unlock(&st->mu);
    return err;
}

static int sq_idem_put(store *base, const store_idem *e)
{
    sq *st = (sq *)base;
    if (!st || !store_idem_ok(e)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_I_PUT];
    sqlite3_bind_blob(q, 1, e->scope, (int)e->scope_len, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, e->req_hash, STORE_IDEM_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, e->err);
    sqlite3_bind_int(q, 4, e->code);
    bind_text(q, 5, e->message);
    if (e->resp_len)
        sqlite3_bind_blob(q, 6, e->resp, (int)e->resp_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 6);
    sqlite3_bind_int64(q, 7, e->created_ms);
    int err = q_exec(st, q, "put idempotency key");
    pthread_mutex_unlock(&st->mu);
    return err;
}

static int sq_idem_delete(store *base, const void *scope, size_t len)
{
    sq *st = (sq *)base;
    if (!st || !scope || len < 1 || len > STORE_IDEM_SCOPE_MAX) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_I_DELETE];
    sqlite3_bind_blob(q, 1, scope, (int)len, SQLITE_STATIC);
    int err = q_exec(st, q, "delete idempotency key");
    pthread_mutex_unlock(&st->mu);
    return err;
}

static int col_blob(sqlite3_stmt *q, int i, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int n = sqlite3_column_bytes(q, i);
    const void *b = sqlite3_column_blob(q, i);
    if (n <= 0 || !b) return STORE_OK;
    *out = malloc((size_t)n);
    if (!*out) return STORE_ENOMEM;
    memcpy(*out, b, (size_t)n);
    *len = (size_t)n;
    return STORE_OK;
}

/* One idem_keys row; STORE_EIO for a row we did not write. */
static int read_idem(sqlite3_stmt *q, store_idem *e)
{
    memset(e, 0, sizeof *e);
    uint8_t *scope = NULL;
    size_t sl = 0;
    int err = col_blob(q, 0, &scope, &sl);
    e->scope = (char *)scope;
    e->scope_len = sl;
    if (err == STORE_OK && (sl < 1 || sl > STORE_IDEM_SCOPE_MAX)) err = STORE_EIO;
    if (err == STORE_OK && sqlite3_column_bytes(q, 1) != STORE_IDEM_HASH_LEN) err = STORE_EIO;
    if (err == STORE_OK) memcpy(e->req_hash, sqlite3_column_blob(q, 1), STORE_IDEM_HASH_LEN);
    e->err = sqlite3_column_int(q, 2);
    e->code = sqlite3_column_int(q, 3);
    if (err == STORE_OK) err = col_dup(q, 4, 0, &e->message);
    if (err == STORE_OK) err = col_blob(q, 5, &e->resp, &e->resp_len);
    e->created_ms = sqlite3_column_int64(q, 6);
    if (err != STORE_OK) store_idem_clear(e);
    return err;
}

static int sq_idem_load(store *base, int64_t min_created_ms, size_t max_keys, store_idem **out,
                        size_t *n)
{
    sq *st = (sq *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!st || max_keys > (size_t)INT32_MAX) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    int err = tx_begin(st);
    if (err == STORE_OK) {
        sqlite3_bind_int64(st->q[Q_I_PRUNE_AGE], 1, min_created_ms);
        err = q_exec(st, st->q[Q_I_PRUNE_AGE], "prune idempotency keys by age");
    }
    if (err == STORE_OK) {
        sqlite3_bind_int64(st->q[Q_I_PRUNE_COUNT], 1, (sqlite3_int64)max_keys);
        err = q_exec(st, st->q[Q_I_PRUNE_COUNT], "prune idempotency keys by count");
    }
    if (err == STORE_OK)
        err = tx_commit(st);
    else
        tx_rollback(st);
    store_idem *list = NULL;
    size_t len = 0, cap = 0, bad = 0;
    sqlite3_stmt *q = st->q[Q_I_LOAD];
    while (err == STORE_OK) {
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_ROW) {
            err = sql_fail(st, rc, "load idempotency keys");
            break;
        }
        if (len == cap) {
            size_t nc = cap ? cap * 2 : 64;
            store_idem *nl = realloc(list, nc * sizeof *nl);
            if (!nl) {
                err = STORE_ENOMEM;
                break;
            }
            list = nl;
            cap = nc;
        }
        int e = read_idem(q, &list[len]);
        if (e == STORE_EIO) {
            bad++; /* a hand-edited row: skipped, the key is simply unknown */
            continue;
        }
        if (e != STORE_OK) {
            err = e;
            break;
        }
        len++;
    }
    q_done(q);
    pthread_mutex_unlock(&st->mu);
    if (bad) LOG_W(MOD, "%zu malformed idempotency key row(s) ignored", bad);
    if (err != STORE_OK) {
        store_idems_free(list, len);
        return err;
    }
    *out = list;
    *n = len;
    return STORE_OK;
}

/* ---- attachments ----------------------------------------------------------- */

static int sq_attachments_load(store *base, uint64_t message_id, store_attachment **out, size_t *n)
{
    sq *st = (sq *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!st || !store_u63_ok(message_id)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(st->db,
                                "SELECT sha256, mime, name, size, width, height FROM"
                                " message_attachments WHERE message_id = ?1 ORDER BY idx",
                                -1, &q, NULL);
    int err = rc == SQLITE_OK ? STORE_OK : sql_fail(st, rc, "prepare attachment load");
    store_attachment *list = NULL;
    size_t len = 0, cap = 0;
    if (err == STORE_OK) sqlite3_bind_int64(q, 1, (int64_t)message_id);
    while (err == STORE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        err = grow((void **)&list, &cap, len + 1, sizeof *list);
        if (err != STORE_OK) break;
        store_attachment *a = &list[len];
        memset(a, 0, sizeof *a);
        const char *h = (const char *)sqlite3_column_text(q, 0);
        const char *mi = (const char *)sqlite3_column_text(q, 1);
        if (!h || strlen(h) != 64 || !mi || strlen(mi) >= sizeof a->mime) {
            err = STORE_EIO;
            break;
        }
        memcpy(a->sha256, h, 65);
        snprintf(a->mime, sizeof a->mime, "%s", mi);
        err = col_dup(q, 2, 1, &a->name);
        if (err != STORE_OK) break;
        int64_t sz = sqlite3_column_int64(q, 3);
        a->size = sz < 0 ? 0 : (uint64_t)sz;
        a->width = (uint32_t)sqlite3_column_int64(q, 4);
        a->height = (uint32_t)sqlite3_column_int64(q, 5);
        len++;
    }
    if (err == STORE_OK && rc != SQLITE_DONE) err = sql_fail(st, rc, "load attachments");
    if (q) sqlite3_finalize(q);
    pthread_mutex_unlock(&st->mu);
    if (err != STORE_OK) {
        store_attachments_free(list, len);
        return err;
    }
    *out = list;
    *n = len;
    return STORE_OK;
}

static int sq_attachment_hashes(store *base, char ***out, size_t *n)
{
    sq *st = (sq *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!st) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = NULL;
    int rc =
        sqlite3_prepare_v2(st->db, "SELECT DISTINCT sha256 FROM message_attachments", -1, &q, NULL);
    int err = rc == SQLITE_OK ? STORE_OK : sql_fail(st, rc, "prepare attachment hashes");
    char **list = NULL;
    size_t len = 0, cap = 0;
    while (err == STORE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        err = grow((void **)&list, &cap, len + 1, sizeof *list);
        if (err == STORE_OK) err = col_dup(q, 0, 1, &list[len]);
        if (err == STORE_OK) len++;
    }
    if (err == STORE_OK && rc != SQLITE_DONE) err = sql_fail(st, rc, "attachment hashes");
    if (q) sqlite3_finalize(q);
    pthread_mutex_unlock(&st->mu);
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

/* ---- memory: compaction, long-term memories, search ---------------------- */

static int sq_summary_latest(store *base, const char *session_id, store_message *out)
{
    sq *st = (sq *)base;
    if (!out) return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!st || !store_id_ok(session_id)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_M_SUMMARY_LATEST];
    bind_text(q, 1, session_id);
    int rc = sqlite3_step(q), err;
    if (rc == SQLITE_ROW)
        err = read_message(q, out);
    else if (rc == SQLITE_DONE)
        err = STORE_NOT_FOUND;
    else
        err = sql_fail(st, rc, "latest summary");
    q_done(q);
    pthread_mutex_unlock(&st->mu);
    return err;
}

static int sq_messages_after(store *base, const char *session_id, uint64_t after_id, size_t limit,
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
    bind_text(q, 1, session_id);
    sqlite3_bind_int64(q, 2, (int64_t)after_id);
    sqlite3_bind_int64(q, 3, lim);
    store_message *list = NULL;
    size_t len = 0;
    int err = collect_messages(st, q, "load messages after", &list, &len);
    pthread_mutex_unlock(&st->mu);
    if (err != STORE_OK) return err;
    store_messages_page(list, len, limit, truncated, out, n);
    return STORE_OK;
}

static int sq_memory_add(store *base, const char *session_id, const char *content, uint64_t *id)
{
    sq *st = (sq *)base;
    if (id) *id = 0;
    if (!st || !store_memory_ok(session_id, content)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_MEM_INSERT];
    bind_text(q, 1, session_id);
    bind_text(q, 2, content);
    sqlite3_bind_int64(q, 3, text_now_ms());
    int err = q_exec(st, q, "add memory");
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
    bind_text(q, 1, match);
    sqlite3_bind_int64(q, 2, rowid);
    int rc = sqlite3_step(q), err = STORE_OK;
    if (rc == SQLITE_ROW) {
        err = col_dup(q, 0, 1, &h->snippet);
        if (err == STORE_OK) err = col_dup(q, 1, 1, &h->session_title);
        h->created_ms = sqlite3_column_int64(q, 2);
        h->role = sqlite3_column_int(q, 3);
        if (err == STORE_OK) err = col_dup(q, 4, 0, &h->text);
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
        err = sql_fail(st, rc, "search snippet");
    }
    q_done(q);
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

static int sq_search(store *base, const char *match, const char *session_id, unsigned kind_mask,
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
    bind_text(q, 1, full);
    sqlite3_bind_int64(q, 2, STORE_SEARCH_RANK_WINDOW - 1);
    int rc = sqlite3_step(q);
    int64_t floor = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0; /* fewer: rank all */
    q_done(q);
    q = st->q[Q_SEARCH];
    bind_text(q, 1, full);
    sqlite3_bind_int64(q, 2, floor);
    sqlite3_bind_int64(q, 3, (int64_t)limit);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) rc = sqlite3_step(q);
    for (; rc == SQLITE_ROW && len < limit; rc = sqlite3_step(q)) {
        list[len].score = sqlite3_column_double(q, 1);
        rowids[len++] = sqlite3_column_int64(q, 0);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        /* FTS5 reports a malformed expression as a plain SQLITE_ERROR. */
        err = (rc & 0xff) == SQLITE_ERROR ? STORE_EINVAL : sql_fail(st, rc, "search");
        if (err == STORE_EINVAL) LOG_D(MOD, "search: %s", sqlite3_errmsg(st->db));
    }
    q_done(q);
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

#include "store_sqlite_fork.inc"
#include "store_sqlite_embed.inc"

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

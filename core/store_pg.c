/* store_pg: the PostgreSQL engine behind store.h (store_backend.h), through
 * libpq.
 *
 * One connection guarded by p->mu, as the SQLite engine: the API is
 * thread-safe and a multi-statement write never interleaves with another.
 * Every write is one statement (a CTE where SQLite takes several), so it
 * is atomic without an explicit transaction and cannot be left half done
 * by a lost connection. The session sets synchronous_commit=on: a write
 * that returned STORE_OK is in the server's flushed WAL whatever the
 * server's default.
 *
 * A lost connection (server restarted, network cut) fails the call in
 * progress with STORE_EUNAVAIL; the next call reconnects. A write is never
 * retried here: its commit may have happened before the connection broke,
 * and only the caller knows whether replaying it is safe (messages carry
 * client ids for that).
 *
 * Parameters go as text (bytea as binary) and results come back as text;
 * the values are parsed and checked as strictly as SQLite's rows are. */
#include "store_backend.h"

#include "log.h"
#include "text.h"

#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "store"

/* Bumped by each entry added to pg_migrations[]. */
#define PG_SCHEMA_VERSION 8
/* pg_advisory_xact_lock's key while migrating ("cmfd" as in SQLite's
 * application_id): cores starting at once take turns. */
#define PG_MIGRATE_LOCK_KEY "1668113764"
/* Seconds libpq waits for a connection (each attempt). */
#define PG_CONNECT_TIMEOUT_S "5"
/* Longest parameter list of any statement below. */
#define PG_MAX_PARAMS 20

/* The SQL spells these as numbers, as in the SQLite engine. */
_Static_assert(STORE_MSG_QUEUED == 1 && STORE_MSG_RUNNING == 2 && STORE_MSG_INTERRUPTED == 6,
               "message states are spelled as numbers in SQL");
_Static_assert(STORE_ROLE_USER == 1, "roles are spelled as numbers in SQL");

/* The indexed text search documents. A tsvector holds at most 1 MB, so a
 * message is indexed over its first PG_FTS_CHARS characters (a longer
 * one would fail its insert); memories are at most STORE_MEMORY_MAX
 * bytes. */
#define PG_FTS_CHARS "100000"
#define PG_FTS_MESSAGE "to_tsvector('simple'::regconfig, left(content, " PG_FTS_CHARS "))"
#define PG_FTS_MEMORY "to_tsvector('simple'::regconfig, content)"

/* pg_migrations[v] upgrades schema version v to v + 1, in the same
 * transaction as the version bump. Ids are COLLATE "C": ordering and
 * keyset pagination compare bytes, as SQLite does, whatever the
 * database's locale. */
static const char *const pg_migrations[PG_SCHEMA_VERSION] = {
    "CREATE TABLE sessions("
    " id TEXT COLLATE \"C\" PRIMARY KEY NOT NULL,"
    " title TEXT NOT NULL DEFAULT '',"
    " provider TEXT NOT NULL DEFAULT '',"
    " model TEXT NOT NULL DEFAULT '',"
    " base_url TEXT NOT NULL DEFAULT '',"
    " system_prompt TEXT NOT NULL DEFAULT '',"
    " skills TEXT NOT NULL DEFAULT '',"
    " token_delay_ms BIGINT NOT NULL DEFAULT 0,"
    " api_key TEXT,"
    " created_ms BIGINT NOT NULL,"
    " updated_ms BIGINT NOT NULL,"
    " seq_reserved BIGINT NOT NULL DEFAULT 0,"
    " prompt_tokens BIGINT NOT NULL DEFAULT 0,"
    " completion_tokens BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX sessions_by_updated ON sessions(updated_ms, id);"
    /* A sequence never hands out an id twice, as AUTOINCREMENT. */
    "CREATE TABLE messages("
    " id BIGSERIAL PRIMARY KEY,"
    " session_id TEXT COLLATE \"C\" NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
    " role INTEGER NOT NULL,"
    " skill TEXT,"
    " content TEXT NOT NULL,"
    " state INTEGER NOT NULL,"
    " error TEXT,"
    " turn_id BIGINT NOT NULL DEFAULT 0,"
    " created_ms BIGINT NOT NULL,"
    " client_id TEXT,"
    " UNIQUE(session_id, client_id));"
    "CREATE INDEX messages_by_session ON messages(session_id, id);"
    "CREATE INDEX messages_pending ON messages(state, id) WHERE state IN (1, 2);",
    "CREATE TABLE counters(name TEXT COLLATE \"C\" PRIMARY KEY NOT NULL, value BIGINT NOT NULL);"
    /* seq orders keys written in the same millisecond, as SQLite's rowid
     * (a replaced key takes a new one). */
    "CREATE TABLE idem_keys("
    " scope BYTEA PRIMARY KEY NOT NULL,"
    " req_hash BYTEA NOT NULL,"
    " err INTEGER NOT NULL,"
    " code INTEGER NOT NULL,"
    " message TEXT,"
    " resp BYTEA,"
    " created_ms BIGINT NOT NULL,"
    " seq BIGSERIAL NOT NULL);"
    "CREATE INDEX idem_keys_by_age ON idem_keys(created_ms);",
    /* 2 -> 3: whether the session's model is sent images (vision.h). */
    "ALTER TABLE sessions ADD COLUMN vision INTEGER NOT NULL DEFAULT 0;",
    /* 3 -> 4: memory, as SQLite's 4 -> 5: a session's context window and
     * archive flag; a message kind (0 a message, 1 a summary of the
     * messages up to covers_to, which stay stored); long-term memories
     * (session NULL: global); and full-text indexes (GIN over tsvectors of
     * the 'simple' configuration: lower-cased words, no stemming, as
     * FTS5's unicode61) kept by PostgreSQL itself on every write and
     * delete. The expressions must stay identical to PG_FTS_* below for
     * the planner to use them. */
    "ALTER TABLE sessions ADD COLUMN context_window BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE sessions ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE messages ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE messages ADD COLUMN covers_to BIGINT NOT NULL DEFAULT 0;"
    "CREATE INDEX messages_summaries ON messages(session_id, id) WHERE kind = 1;"
    "CREATE TABLE memories("
    " id BIGSERIAL PRIMARY KEY,"
    " session_id TEXT COLLATE \"C\" REFERENCES sessions(id) ON DELETE CASCADE,"
    " content TEXT NOT NULL,"
    " created_ms BIGINT NOT NULL);"
    "CREATE INDEX memories_by_session ON memories(session_id, id);"
    "CREATE INDEX messages_fts ON messages USING gin (" PG_FTS_MESSAGE ");"
    "CREATE INDEX memories_fts ON memories USING gin (" PG_FTS_MEMORY ");",
    /* 4 -> 5: attachments of user messages, as SQLite's 3 -> 4 (references
     * into the blob store, in order). */
    "CREATE TABLE message_attachments("
    " message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
    " idx INTEGER NOT NULL,"
    " sha256 TEXT COLLATE \"C\" NOT NULL,"
    " mime TEXT NOT NULL,"
    " name TEXT NOT NULL DEFAULT '',"
    " size BIGINT NOT NULL,"
    " width INTEGER NOT NULL DEFAULT 0,"
    " height INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(message_id, idx));"
    "CREATE INDEX message_attachments_by_sha ON message_attachments(sha256);",
    /* 5 -> 6: fork, revert and canvas checkpoints, as SQLite's 5 -> 6 (a
     * fork's parent and fork point; reverted_ms, the time a revert hid a
     * message, 0: visible; the workflow of a canvas before a turn's first
     * change to it). */
    "ALTER TABLE sessions ADD COLUMN parent_id TEXT COLLATE \"C\" NOT NULL DEFAULT '';"
    "ALTER TABLE sessions ADD COLUMN fork_point BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE messages ADD COLUMN reverted_ms BIGINT NOT NULL DEFAULT 0;"
    "CREATE TABLE canvas_checkpoints("
    " id BIGSERIAL PRIMARY KEY,"
    " session_id TEXT COLLATE \"C\" NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
    " message_id BIGINT NOT NULL,"
    " canvas_id TEXT NOT NULL,"
    " rev_before BIGINT NOT NULL,"
    " rev_after BIGINT NOT NULL,"
    " workflow TEXT NOT NULL,"
    " created_ms BIGINT NOT NULL,"
    " UNIQUE(session_id, message_id, canvas_id));",
    /* 6 -> 7: embeddings for hybrid search, as SQLite's 6 -> 7 (entry:
     * message id * 2, memory id * 2 + 1; vec: dim float32s in the core's
     * byte order; the queue of entries waiting for a vector, kept by
     * triggers). */
    "CREATE TABLE embed_queue(entry BIGINT PRIMARY KEY, attempts BIGINT NOT NULL DEFAULT 0,"
    " next_ms BIGINT NOT NULL DEFAULT 0);"
    "CREATE TABLE embeddings(entry BIGINT PRIMARY KEY, model TEXT NOT NULL,"
    " dim BIGINT NOT NULL, vec BYTEA NOT NULL);"
    "CREATE FUNCTION comfyd_embed_entry() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE k BIGINT := CASE WHEN TG_TABLE_NAME = 'memories' THEN 1 ELSE 0 END;"
    " BEGIN"
    "  IF TG_OP <> 'INSERT' THEN"
    "   DELETE FROM embeddings WHERE entry = OLD.id * 2 + k;"
    "   DELETE FROM embed_queue WHERE entry = OLD.id * 2 + k;"
    "  END IF;"
    "  IF TG_OP <> 'DELETE' AND NEW.content <> '' THEN"
    "   INSERT INTO embed_queue(entry) VALUES(NEW.id * 2 + k)"
    "   ON CONFLICT (entry) DO UPDATE SET attempts = 0, next_ms = 0;"
    "  END IF;"
    "  RETURN NULL;"
    " END $$;"
    "CREATE TRIGGER messages_emb AFTER INSERT OR DELETE ON messages"
    " FOR EACH ROW EXECUTE FUNCTION comfyd_embed_entry();"
    "CREATE TRIGGER messages_emb_au AFTER UPDATE OF content ON messages"
    " FOR EACH ROW WHEN (OLD.content IS DISTINCT FROM NEW.content)"
    " EXECUTE FUNCTION comfyd_embed_entry();"
    "CREATE TRIGGER memories_emb AFTER INSERT OR DELETE ON memories"
    " FOR EACH ROW EXECUTE FUNCTION comfyd_embed_entry();"
    "INSERT INTO embed_queue(entry) SELECT id * 2 FROM messages WHERE content <> '';"
    "INSERT INTO embed_queue(entry) SELECT id * 2 + 1 FROM memories;",
    /* 7 -> 8: several cores on one database (docs/scale-out.md). Session
     * leases (lease.c; times are the server's), events too large for a
     * NOTIFY payload (store_pg_notify.c), and the canvas registry
     * (canvas_reg.c: which core holds which canvas, at which gRPC address,
     * its revision and focus time, until its core stops renewing it) and the
     * live cores. The
     * first two were made by the cores themselves before this migration,
     * hence IF NOT EXISTS. */
    "CREATE TABLE IF NOT EXISTS session_leases("
    " session_id TEXT COLLATE \"C\" PRIMARY KEY NOT NULL"
    "  REFERENCES sessions(id) ON DELETE CASCADE,"
    " owner TEXT NOT NULL,"
    " expires_at TIMESTAMPTZ NOT NULL);"
    "CREATE TABLE IF NOT EXISTS session_event_spill("
    " id BIGSERIAL PRIMARY KEY,"
    " payload BYTEA NOT NULL,"
    " created TIMESTAMPTZ NOT NULL DEFAULT now());"
    "CREATE TABLE canvas_registry("
    " canvas_id TEXT COLLATE \"C\" PRIMARY KEY NOT NULL,"
    " owner TEXT NOT NULL,"
    " addr TEXT NOT NULL,"
    " revision BIGINT NOT NULL DEFAULT 0,"
    " focused_ms BIGINT NOT NULL DEFAULT 0,"
    " expires_at TIMESTAMPTZ NOT NULL);"
    "CREATE INDEX canvas_registry_by_owner ON canvas_registry(owner);"
    /* The live cores and their addresses (lease.c), for /healthz. */
    "CREATE TABLE cluster_cores("
    " core_id TEXT COLLATE \"C\" PRIMARY KEY NOT NULL,"
    " addr TEXT NOT NULL,"
    " expires_at TIMESTAMPTZ NOT NULL);",
};

#define SESSION_COLS                                                                               \
    "SELECT id, title, provider, model, base_url, system_prompt, skills, token_delay_ms,"          \
    " (api_key IS NOT NULL)::int, created_ms, updated_ms, seq_reserved, prompt_tokens,"            \
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

typedef struct pg {
    store base; /* first: the interface's handle is this struct */
    pthread_mutex_t mu;
    PGconn *conn; /* NULL or broken: the next call connects */
    char *uri;    /* may hold a password: never logged */
} pg;

static const store_ops pg_ops;

/* ---- parameters ------------------------------------------------------------ */

/* A statement's parameters; integers are formatted into num[]. Text
 * values are borrowed from the caller for the length of the call. */
typedef struct params {
    int n;
    const char *val[PG_MAX_PARAMS];
    int len[PG_MAX_PARAMS];
    int fmt[PG_MAX_PARAMS]; /* 0 text, 1 binary */
    char num[PG_MAX_PARAMS][24];
} params;

static void p_text(params *ps, const char *s) /* NULL binds SQL NULL */
{
    int i = ps->n++;
    ps->val[i] = s;
    ps->len[i] = 0;
    ps->fmt[i] = 0;
}

static void p_i64(params *ps, int64_t v)
{
    int i = ps->n++;
    snprintf(ps->num[i], sizeof ps->num[i], "%lld", (long long)v);
    ps->val[i] = ps->num[i];
    ps->len[i] = 0;
    ps->fmt[i] = 0;
}

static void p_bytes(params *ps, const void *b, size_t len) /* NULL binds SQL NULL */
{
    int i = ps->n++;
    ps->val[i] = b;
    ps->len[i] = (int)len;
    ps->fmt[i] = 1;
}

/* ---- connection and errors -------------------------------------------------- */

static int connect_locked(pg *p)
{
    if (p->conn && PQstatus(p->conn) == CONNECTION_OK) return STORE_OK;
    PQfinish(p->conn);
    /* The URI comes last so that what it says wins over these defaults. */
    const char *keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname", NULL};
    const char *vals[] = {PG_CONNECT_TIMEOUT_S, "comfyd", "UTF8", p->uri, NULL};
    p->conn = PQconnectdbParams(keys, vals, 1);
    if (!p->conn) return STORE_ENOMEM;
    if (PQstatus(p->conn) != CONNECTION_OK) {
        /* libpq's message names the host and the reason, not the password. */
        const char *m = PQerrorMessage(p->conn);
        size_t ml = strlen(m);
        while (ml && (m[ml - 1] == '\n' || m[ml - 1] == ' '))
            ml--;
        LOG_E(MOD, "cannot connect to PostgreSQL: %.*s", (int)ml, m);
        PQfinish(p->conn);
        p->conn = NULL;
        return STORE_EUNAVAIL;
    }
    /* Durability does not depend on the server's configuration. */
    PGresult *r = PQexec(p->conn, "SET synchronous_commit = on");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        LOG_E(MOD, "PostgreSQL: cannot set synchronous_commit: %s", PQerrorMessage(p->conn));
        PQfinish(p->conn);
        p->conn = NULL;
        return STORE_EUNAVAIL;
    }
    LOG_I(MOD, "connected to PostgreSQL %s:%s database %s (server %d)", PQhost(p->conn),
          PQport(p->conn), PQdb(p->conn), PQserverVersion(p->conn));
    return STORE_OK;
}

/* Maps a failed result (or a NULL one) and logs it. Only the primary
 * message is logged: the detail may quote values (a duplicate key). */
static int pg_fail(pg *p, PGresult *r, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg) msg = PQerrorMessage(p->conn);
    int err;
    if (PQstatus(p->conn) != CONNECTION_OK || !state || strncmp(state, "08", 2) == 0 ||
        strncmp(state, "57P", 3) == 0)
        err = STORE_EUNAVAIL; /* connection class, admin/crash shutdown, starting up */
    else if (strcmp(state, "23505") == 0)
        err = STORE_CONFLICT;
    else if (strncmp(state, "22", 2) == 0)
        err = STORE_EINVAL; /* a data exception: a value the column refuses */
    else if (strcmp(state, "53200") == 0)
        err = STORE_ENOMEM;
    else
        err = STORE_EIO;
    size_t ml = strlen(msg);
    while (ml && (msg[ml - 1] == '\n' || msg[ml - 1] == ' '))
        ml--;
    if (err == STORE_CONFLICT)
        LOG_D(MOD, "%s: %.*s", what, (int)ml, msg);
    else
        LOG_E(MOD, "%s: %.*s (sqlstate %s)", what, (int)ml, msg, state ? state : "none");
    if (err == STORE_EUNAVAIL && p->conn && PQstatus(p->conn) != CONNECTION_OK) {
        PQfinish(p->conn); /* the next call reconnects */
        p->conn = NULL;
    }
    return err;
}

/* Runs sql with ps; *out gets the result (PQclear it) when STORE_OK. */
static int run(pg *p, const char *what, const char *sql, const params *ps, PGresult **out)
{
    *out = NULL;
    int err = connect_locked(p);
    if (err != STORE_OK) return err;
    PGresult *r = PQexecParams(p->conn, sql, ps ? ps->n : 0, NULL, ps ? ps->val : NULL,
                               ps ? ps->len : NULL, ps ? ps->fmt : NULL, 0);
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
        *out = r;
        return STORE_OK;
    }
    err = pg_fail(p, r, what);
    PQclear(r);
    return err;
}

/* Runs a statement whose rows are not read; *changed (may be NULL) gets
 * the number of rows it changed. */
static int run_cmd(pg *p, const char *what, const char *sql, const params *ps, size_t *changed)
{
    PGresult *r = NULL;
    int err = run(p, what, sql, ps, &r);
    if (err == STORE_OK && changed) *changed = (size_t)strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return err;
}

/* Like run_cmd, and STORE_NOT_FOUND when no row changed. */
static int run_one(pg *p, const char *what, const char *sql, const params *ps)
{
    size_t n = 0;
    int err = run_cmd(p, what, sql, ps, &n);
    return err == STORE_OK && n == 0 ? STORE_NOT_FOUND : err;
}

/* ---- reading --------------------------------------------------------------- */

/* A BIGINT or INTEGER column; 0 for NULL. Malformed text cannot come from
 * the server for these types. */
static int64_t col_i64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* Copies a text column; NULL stays NULL unless nonnull, which gives "". */
static int col_dup(const PGresult *r, int row, int col, int nonnull, char **out)
{
    *out = NULL;
    if (PQgetisnull(r, row, col) && !nonnull) return STORE_OK;
    const char *t = PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
    size_t len = PQgetisnull(r, row, col) ? 0 : (size_t)PQgetlength(r, row, col);
    char *s = malloc(len + 1);
    if (!s) return STORE_ENOMEM;
    memcpy(s, t, len);
    s[len] = '\0';
    *out = s;
    return STORE_OK;
}

static int col_id(const PGresult *r, int row, int col, char dst[STORE_ID_MAX + 1])
{
    int len = PQgetlength(r, row, col);
    if (PQgetisnull(r, row, col) || len < 1 || len > STORE_ID_MAX) return STORE_EIO;
    memcpy(dst, PQgetvalue(r, row, col), (size_t)len);
    dst[len] = '\0';
    return STORE_OK;
}

/* A bytea column (text format, hex-escaped); NULL gives *out NULL. */
static int col_bytes(const PGresult *r, int row, int col, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (PQgetisnull(r, row, col)) return STORE_OK;
    size_t n = 0;
    unsigned char *u = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n);
    if (!u) return STORE_ENOMEM;
    if (n > 0) {
        *out = malloc(n);
        if (!*out) {
            PQfreemem(u);
            return STORE_ENOMEM;
        }
        memcpy(*out, u, n);
        *len = n;
    }
    PQfreemem(u);
    return STORE_OK;
}

static int read_session(const PGresult *r, int row, store_session *s)
{
    memset(s, 0, sizeof *s);
    int err = col_id(r, row, 0, s->id);
    char **fields[] = {&s->title, &s->provider, &s->model, &s->base_url, &s->system_prompt};
    for (int i = 0; err == STORE_OK && i < 5; i++)
        err = col_dup(r, row, 1 + i, 1, fields[i]);
    if (err == STORE_OK)
        err = store_skills_split(PQgetvalue(r, row, 6), (size_t)PQgetlength(r, row, 6), &s->skills,
                                 &s->n_skills);
    if (err != STORE_OK) {
        store_session_clear(s);
        return err;
    }
    int64_t delay = col_i64(r, row, 7);
    s->token_delay_ms = delay < 0 ? 0 : delay > UINT32_MAX ? UINT32_MAX : (uint32_t)delay;
    s->api_key_set = col_i64(r, row, 8) != 0;
    s->created_ms = col_i64(r, row, 9);
    s->updated_ms = col_i64(r, row, 10);
    s->seq_reserved = (uint64_t)col_i64(r, row, 11);
    s->prompt_tokens = (uint64_t)col_i64(r, row, 12);
    s->completion_tokens = (uint64_t)col_i64(r, row, 13);
    int64_t count = col_i64(r, row, 14);
    s->message_count = count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;
    int64_t vision = col_i64(r, row, 15);
    s->vision = vision < 0 || vision > STORE_VISION_MAX ? 0 : (int)vision;
    int64_t win = col_i64(r, row, 16);
    s->context_window = win < 0 ? 0 : win > UINT32_MAX ? UINT32_MAX : (uint32_t)win;
    s->archived = col_i64(r, row, 17) != 0;
    s->compacted_to = (uint64_t)col_i64(r, row, 18);
    int plen = PQgetlength(r, row, 19);
    if (!PQgetisnull(r, row, 19) && plen > 0 && plen <= STORE_ID_MAX) {
        memcpy(s->parent_id, PQgetvalue(r, row, 19), (size_t)plen);
        s->parent_id[plen] = '\0';
    }
    s->fork_point = (uint64_t)col_i64(r, row, 20);
    return STORE_OK;
}

static int read_message(const PGresult *r, int row, store_message *m)
{
    memset(m, 0, sizeof *m);
    int64_t role = col_i64(r, row, 2), state = col_i64(r, row, 5);
    int err = col_id(r, row, 1, m->session_id);
    if (err == STORE_OK && (role < STORE_ROLE_USER || role > STORE_ROLE_SYSTEM ||
                            state < STORE_MSG_QUEUED || state > STORE_MSG_INTERRUPTED))
        err = STORE_EIO;
    if (err == STORE_OK) err = col_dup(r, row, 3, 0, &m->skill);
    if (err == STORE_OK) err = col_dup(r, row, 4, 1, &m->content);
    if (err == STORE_OK) err = col_dup(r, row, 6, 0, &m->error);
    if (err == STORE_OK) err = col_dup(r, row, 9, 0, &m->client_id);
    if (err != STORE_OK) {
        store_message_clear(m);
        return err;
    }
    m->id = (uint64_t)col_i64(r, row, 0);
    m->role = (store_role)role;
    m->state = (store_msg_state)state;
    m->turn_id = (uint64_t)col_i64(r, row, 7);
    m->created_ms = col_i64(r, row, 8);
    m->kind = col_i64(r, row, 10) == STORE_KIND_SUMMARY ? STORE_KIND_SUMMARY : STORE_KIND_MESSAGE;
    m->covers_to = (uint64_t)col_i64(r, row, 11);
    m->reverted_ms = col_i64(r, row, 12);
    return STORE_OK;
}

static int collect_sessions(const PGresult *r, const char *what, store_session **out, size_t *n)
{
    int rows = PQntuples(r);
    *out = NULL;
    *n = 0;
    if (rows == 0) return STORE_OK;
    store_session *list = calloc((size_t)rows, sizeof *list);
    if (!list) return STORE_ENOMEM;
    for (int i = 0; i < rows; i++) {
        int err = read_session(r, i, &list[i]);
        if (err != STORE_OK) {
            if (err == STORE_EIO) LOG_E(MOD, "%s: malformed session row", what);
            store_sessions_free(list, (size_t)i);
            return err;
        }
    }
    *out = list;
    *n = (size_t)rows;
    return STORE_OK;
}

static int collect_messages(const PGresult *r, const char *what, store_message **out, size_t *n)
{
    int rows = PQntuples(r);
    *out = NULL;
    *n = 0;
    if (rows == 0) return STORE_OK;
    store_message *list = calloc((size_t)rows, sizeof *list);
    if (!list) return STORE_ENOMEM;
    for (int i = 0; i < rows; i++) {
        int err = read_message(r, i, &list[i]);
        if (err != STORE_OK) {
            if (err == STORE_EIO) LOG_E(MOD, "%s: malformed message row", what);
            store_messages_free(list, (size_t)i);
            return err;
        }
    }
    *out = list;
    *n = (size_t)rows;
    return STORE_OK;
}

/* ---- open, migrate, close ---------------------------------------------------- */

/* Runs sql, which may hold several statements (no parameters). */
static int exec_simple(pg *p, const char *what, const char *sql)
{
    int err = connect_locked(p);
    if (err != STORE_OK) return err;
    PGresult *r = PQexec(p->conn, sql);
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    err = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? STORE_OK : pg_fail(p, r, what);
    PQclear(r);
    return err;
}

/* Creates or upgrades the schema in one transaction holding the advisory
 * lock, so that two cores starting at once never both migrate: the second
 * waits, then sees the first one's version. */
static int migrate(pg *p)
{
    int err = exec_simple(p, "begin schema transaction", "BEGIN");
    if (err != STORE_OK) return err;
    PGresult *r = NULL;
    err = exec_simple(p, "schema lock", "SELECT pg_advisory_xact_lock(" PG_MIGRATE_LOCK_KEY ")");
    if (err == STORE_OK)
        err = run(p, "reading the schema version",
                  "SELECT to_regclass('comfyd_schema') IS NOT NULL,"
                  " to_regclass('sessions') IS NOT NULL",
                  NULL, &r);
    int64_t version = 0;
    if (err == STORE_OK) {
        int have_version = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        int have_sessions = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
        PQclear(r);
        r = NULL;
        if (!have_version && have_sessions) {
            LOG_E(MOD,
                  "PostgreSQL database %s holds a sessions table but no comfyd schema;"
                  " refusing to use it",
                  PQdb(p->conn));
            err = STORE_ESCHEMA;
        } else if (!have_version) {
            err = exec_simple(p, "creating the schema table",
                              "CREATE TABLE comfyd_schema(version INTEGER NOT NULL);"
                              " INSERT INTO comfyd_schema VALUES(0)");
        }
    }
    if (err == STORE_OK)
        err = run(p, "reading the schema version", "SELECT version FROM comfyd_schema", NULL, &r);
    if (err == STORE_OK) {
        if (PQntuples(r) != 1) {
            LOG_E(MOD, "comfyd_schema holds %d rows, not one", PQntuples(r));
            err = STORE_ESCHEMA;
        } else {
            version = col_i64(r, 0, 0);
            if (version < 0 || version > PG_SCHEMA_VERSION) {
                LOG_E(MOD,
                      "the database has schema version %lld, newer than this build's %d;"
                      " upgrade comfyd",
                      (long long)version, PG_SCHEMA_VERSION);
                err = STORE_ESCHEMA;
            }
        }
        PQclear(r);
    }
    for (int64_t v = version; err == STORE_OK && v < PG_SCHEMA_VERSION; v++)
        err = exec_simple(p, "creating the schema", pg_migrations[v]);
    if (err == STORE_OK && version < PG_SCHEMA_VERSION) {
        params ps = {0};
        p_i64(&ps, PG_SCHEMA_VERSION);
        err = run_cmd(p, "setting the schema version", "UPDATE comfyd_schema SET version = $1::int",
                      &ps, NULL);
    }
    if (err == STORE_OK) err = exec_simple(p, "commit schema", "COMMIT");
    if (err != STORE_OK && p->conn) {
        PGresult *rb = PQexec(p->conn, "ROLLBACK");
        PQclear(rb);
    }
    if (err == STORE_OK && version < PG_SCHEMA_VERSION)
        LOG_I(MOD, "PostgreSQL: schema version %lld -> %d", (long long)version, PG_SCHEMA_VERSION);
    return err;
}

static void pg_close(store *base)
{
    pg *p = (pg *)base;
    if (!p) return;
    PQfinish(p->conn);
    pthread_mutex_destroy(&p->mu);
    free(p->uri);
    free(p);
}

int store_pg_open(store **out, const char *uri)
{
    if (!out) return STORE_EINVAL;
    *out = NULL;
    if (!uri || !*uri) return STORE_EINVAL;
    pg *p = calloc(1, sizeof *p);
    if (!p) return STORE_ENOMEM;
    p->base.ops = &pg_ops;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return STORE_ENOMEM;
    }
    p->uri = strdup(uri);
    if (!p->uri) {
        pg_close(&p->base);
        return STORE_ENOMEM;
    }
    /* A malformed URI is the caller's error, not an unreachable server. */
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(uri, &perr);
    if (!opts) {
        LOG_E(MOD, "not a PostgreSQL connection URI: %s", perr ? perr : "out of memory");
        PQfreemem(perr);
        pg_close(&p->base);
        return STORE_EINVAL;
    }
    PQconninfoFree(opts);
    int err = connect_locked(p);
    if (err == STORE_OK) err = migrate(p);
    if (err != STORE_OK) {
        pg_close(&p->base);
        return err;
    }
    LOG_I(MOD, "opened PostgreSQL database %s (schema v%d, synchronous_commit=on)", PQdb(p->conn),
          PG_SCHEMA_VERSION);
    *out = &p->base;
    return STORE_OK;
}

/* ---- sessions ---------------------------------------------------------------- */

static int pg_session_insert(store *base, const store_session *s, const char *api_key)
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
    p_text(&ps, s->id);
    p_text(&ps, s->title ? s->title : "");
    p_text(&ps, s->provider ? s->provider : "");
    p_text(&ps, s->model ? s->model : "");
    p_text(&ps, s->base_url ? s->base_url : "");
    p_text(&ps, s->system_prompt ? s->system_prompt : "");
    p_text(&ps, skills);
    p_i64(&ps, s->token_delay_ms);
    p_text(&ps, api_key && *api_key ? api_key : NULL);
    p_i64(&ps, s->created_ms);
    p_i64(&ps, s->updated_ms);
    p_i64(&ps, (int64_t)s->seq_reserved);
    p_i64(&ps, (int64_t)s->prompt_tokens);
    p_i64(&ps, (int64_t)s->completion_tokens);
    p_i64(&ps, s->vision);
    p_i64(&ps, s->context_window);
    p_i64(&ps, s->archived ? 1 : 0);
    pthread_mutex_lock(&p->mu);
    err = run_cmd(p, "insert session",
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

static int pg_session_update(store *base, const store_session *s)
{
    pg *p = (pg *)base;
    if (!p || !store_session_fields_ok(s)) return STORE_EINVAL;
    char *skills = NULL;
    int err = store_skills_join(s, &skills);
    if (err != STORE_OK) return err;
    params ps = {0};
    p_text(&ps, s->id);
    p_text(&ps, s->title ? s->title : "");
    p_text(&ps, s->provider ? s->provider : "");
    p_text(&ps, s->model ? s->model : "");
    p_text(&ps, s->base_url ? s->base_url : "");
    p_text(&ps, s->system_prompt ? s->system_prompt : "");
    p_text(&ps, skills);
    p_i64(&ps, s->token_delay_ms);
    p_i64(&ps, s->updated_ms);
    p_i64(&ps, s->vision);
    p_i64(&ps, s->context_window);
    p_i64(&ps, s->archived ? 1 : 0);
    pthread_mutex_lock(&p->mu);
    err = run_one(p, "update session",
                  "UPDATE sessions SET title = $2, provider = $3, model = $4, base_url = $5,"
                  " system_prompt = $6, skills = $7, token_delay_ms = $8, updated_ms = $9,"
                  " vision = $10, context_window = $11, archived = $12 WHERE id = $1",
                  &ps);
    pthread_mutex_unlock(&p->mu);
    free(skills);
    return err;
}

static int pg_session_set_api_key(store *base, const char *id, const char *api_key)
{
    pg *p = (pg *)base;
    if (!p || !store_id_ok(id) || !store_text_ok(api_key, STORE_API_KEY_MAX)) return STORE_EINVAL;
    params ps = {0};
    p_text(&ps, id);
    p_text(&ps, api_key && *api_key ? api_key : NULL);
    pthread_mutex_lock(&p->mu);
    int err = run_one(p, "set api key", "UPDATE sessions SET api_key = $2 WHERE id = $1", &ps);
    pthread_mutex_unlock(&p->mu);
    return err;
}

static int pg_session_get_api_key(store *base, const char *id, char **out)
{
    pg *p = (pg *)base;
    if (!out) return STORE_EINVAL;
    *out = NULL;
    if (!p || !store_id_ok(id)) return STORE_EINVAL;
    params ps = {0};
    p_text(&ps, id);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = run(p, "get api key", "SELECT api_key FROM sessions WHERE id = $1", &ps, &r);
    if (err == STORE_OK) err = PQntuples(r) == 1 ? col_dup(r, 0, 0, 0, out) : STORE_NOT_FOUND;
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

static int pg_session_get(store *base, const char *id, store_session *out)
{
    pg *p = (pg *)base;
    if (!out) return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!p || !store_id_ok(id)) return STORE_EINVAL;
    params ps = {0};
    p_text(&ps, id);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = run(p, "get session", SESSION_COLS "WHERE id = $1", &ps, &r);
    if (err == STORE_OK) {
        err = PQntuples(r) == 1 ? read_session(r, 0, out) : STORE_NOT_FOUND;
        if (err == STORE_EIO) LOG_E(MOD, "session %s: malformed row", id);
    }
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

static int pg_session_list_all(store *base, store_session **out, size_t *n)
{
    pg *p = (pg *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!p) return STORE_EINVAL;
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = run(p, "list sessions", SESSION_COLS SESSION_ORDER, NULL, &r);
    if (err == STORE_OK) err = collect_sessions(r, "list sessions", out, n);
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

static int pg_session_page(store *base, int64_t after_updated_ms, const char *after_id,
                           size_t limit, store_session **out, size_t *n)
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
        p_i64(&ps, after_updated_ms);
        p_text(&ps, after_id);
        p_i64(&ps, lim);
        sql = SESSION_COLS
            "WHERE (updated_ms, id) < ($1::bigint, $2::text COLLATE \"C\")" SESSION_ORDER
            " LIMIT $3";
    } else {
        p_i64(&ps, lim);
        sql = SESSION_COLS SESSION_ORDER " LIMIT $1";
    }
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = run(p, "page sessions", sql, &ps, &r);
    if (err == STORE_OK) err = collect_sessions(r, "page sessions", out, n);
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

static int pg_session_delete(store *base, const char *id)
{
    pg *p = (pg *)base;
    if (!p || !store_id_ok(id)) return STORE_EINVAL;
    params ps = {0};
    p_text(&ps, id);
    pthread_mutex_lock(&p->mu);
    int err = run_one(p, "delete session", "DELETE FROM sessions WHERE id = $1", &ps);
    pthread_mutex_unlock(&p->mu);
    return err;
}

static int pg_session_set_seq_reserved(store *base, const char *id, uint64_t seq_reserved)
{
    pg *p = (pg *)base;
    if (!p || !store_id_ok(id) || !store_u63_ok(seq_reserved)) return STORE_EINVAL;
    params ps = {0};
    p_text(&ps, id);
    p_i64(&ps, (int64_t)seq_reserved);
    pthread_mutex_lock(&p->mu);
    int err =
        run_one(p, "set seq_reserved", "UPDATE sessions SET seq_reserved = $2 WHERE id = $1", &ps);
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

static int pg_session_add_usage(store *base, const char *id, uint64_t prompt, uint64_t completion)
{
    pg *p = (pg *)base;
    if (!p || !store_id_ok(id) || !store_u63_ok(prompt) || !store_u63_ok(completion))
        return STORE_EINVAL;
    params ps = {0};
    p_text(&ps, id);
    p_i64(&ps, (int64_t)prompt);
    p_i64(&ps, (int64_t)completion);
    pthread_mutex_lock(&p->mu);
    int err = run_one(p, "add usage", PG_ADD_USAGE_SQL, &ps);
    pthread_mutex_unlock(&p->mu);
    return err;
}

/* ---- messages ---------------------------------------------------------------- */

/* Inserts m with p->mu held (see pg_message_insert). */
static int message_insert_locked(pg *p, store_message *m)
{
    int64_t created = m->created_ms ? m->created_ms : text_now_ms();
    params ps = {0};
    p_text(&ps, m->session_id);
    p_i64(&ps, (int64_t)m->role);
    p_text(&ps, m->skill);
    p_text(&ps, m->content);
    p_i64(&ps, (int64_t)m->state);
    p_text(&ps, m->error);
    p_i64(&ps, (int64_t)m->turn_id);
    p_i64(&ps, created);
    p_text(&ps, m->client_id);
    p_i64(&ps, m->kind == STORE_KIND_SUMMARY ? STORE_KIND_SUMMARY : STORE_KIND_MESSAGE);
    p_i64(&ps, (int64_t)m->covers_to);
    PGresult *r = NULL;
    /* One statement: the touch doubles as the existence check (no row, no
     * insert), the id is drawn first so that a user message's turn id can
     * be its own id, and a duplicate client id undoes the touch too. */
    int err = run(
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
        m->id = (uint64_t)col_i64(r, 0, 0);
        m->turn_id = (uint64_t)col_i64(r, 0, 1);
        m->created_ms = created;
    }
    PQclear(r);
    return err;
}

static int pg_message_insert(store *base, store_message *m)
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
static int pg_message_insert_with(store *base, store_message *m, const store_attachment *atts,
                                  size_t n_atts)
{
    pg *p = (pg *)base;
    if (!p || !store_message_ok(m) || !attachments_ok(atts, n_atts)) return STORE_EINVAL;
    pthread_mutex_lock(&p->mu);
    int err = n_atts ? connect_locked(p) : STORE_OK;
    if (err == STORE_OK && n_atts) err = exec_simple(p, "begin message", "BEGIN");
    if (err == STORE_OK) err = message_insert_locked(p, m);
    for (size_t i = 0; err == STORE_OK && i < n_atts; i++) {
        params ps = {0};
        p_i64(&ps, (int64_t)m->id);
        p_i64(&ps, (int64_t)i);
        p_text(&ps, atts[i].sha256);
        p_text(&ps, atts[i].mime);
        p_text(&ps, atts[i].name ? atts[i].name : "");
        p_i64(&ps, atts[i].size > INT64_MAX ? INT64_MAX : (int64_t)atts[i].size);
        p_i64(&ps, atts[i].width);
        p_i64(&ps, atts[i].height);
        err = run_cmd(p, "insert attachment",
                      "INSERT INTO message_attachments(message_id, idx, sha256, mime, name, size,"
                      " width, height) VALUES($1::bigint, $2::int, $3, $4, $5, $6::bigint,"
                      " $7::int, $8::int)",
                      &ps, NULL);
    }
    if (n_atts && p->conn) {
        if (err == STORE_OK) err = exec_simple(p, "commit message", "COMMIT");
        if (err != STORE_OK && p->conn) PQclear(PQexec(p->conn, "ROLLBACK"));
    }
    if (err != STORE_OK) m->id = 0;
    pthread_mutex_unlock(&p->mu);
    return err;
}

static int pg_attachments_load(store *base, uint64_t message_id, store_attachment **out, size_t *n)
{
    pg *p = (pg *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!p || !store_u63_ok(message_id)) return STORE_EINVAL;
    params ps = {0};
    p_i64(&ps, (int64_t)message_id);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = run(p, "load attachments",
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
        err = col_dup(r, i, 2, 1, &a->name);
        if (err != STORE_OK) break;
        int64_t sz = col_i64(r, i, 3);
        a->size = sz < 0 ? 0 : (uint64_t)sz;
        a->width = (uint32_t)col_i64(r, i, 4);
        a->height = (uint32_t)col_i64(r, i, 5);
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

static int pg_attachment_hashes(store *base, char ***out, size_t *n)
{
    pg *p = (pg *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!p) return STORE_EINVAL;
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err =
        run(p, "attachment hashes", "SELECT DISTINCT sha256 FROM message_attachments", NULL, &r);
    int rows = err == STORE_OK ? PQntuples(r) : 0;
    char **list = rows > 0 ? calloc((size_t)rows, sizeof *list) : NULL;
    if (rows > 0 && !list) err = STORE_ENOMEM;
    size_t len = 0;
    for (int i = 0; err == STORE_OK && i < rows; i++) {
        err = col_dup(r, i, 0, 1, &list[len]);
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

static int pg_message_finish(store *base, uint64_t id, store_msg_state state, const char *content,
                             const char *error)
{
    pg *p = (pg *)base;
    if (!p || id == 0 || !store_u63_ok(id) || state < STORE_MSG_QUEUED ||
        state > STORE_MSG_INTERRUPTED || !store_text_ok(content, STORE_TEXT_MAX) ||
        !store_text_ok(error, STORE_TEXT_MAX))
        return STORE_EINVAL;
    params ps = {0};
    p_i64(&ps, (int64_t)id);
    p_i64(&ps, (int64_t)state);
    p_text(&ps, content);
    p_text(&ps, error);
    pthread_mutex_lock(&p->mu);
    int err = run_one(p, "finish message", PG_FINISH_SQL, &ps);
    pthread_mutex_unlock(&p->mu);
    return err;
}

/* store_turn_end in one transaction: one durable commit for the replies,
 * the user message's state and the usage. */
static int pg_turn_end(store *base, const char *session_id, store_message *replies, size_t n,
                       uint64_t user_id, store_msg_state user_state, uint64_t prompt,
                       uint64_t completion)
{
    pg *p = (pg *)base;
    if (!p || !store_turn_end_ok(session_id, replies, n, user_id, user_state, prompt, completion))
        return STORE_EINVAL;
    store_message *w = calloc(n ? n : 1, sizeof *w); /* written back only once committed */
    if (!w) return STORE_ENOMEM;
    if (n) memcpy(w, replies, n * sizeof *w);
    pthread_mutex_lock(&p->mu);
    int err = exec_simple(p, "begin turn end", "BEGIN");
    for (size_t i = 0; err == STORE_OK && i < n; i++)
        err = message_insert_locked(p, &w[i]);
    if (err == STORE_OK && user_state) {
        params ps = {0};
        p_i64(&ps, (int64_t)user_id);
        p_i64(&ps, (int64_t)user_state);
        p_text(&ps, NULL);
        p_text(&ps, NULL);
        err = run_one(p, "finish message", PG_FINISH_SQL, &ps);
    }
    if (err == STORE_OK && (prompt || completion)) {
        params ps = {0};
        p_text(&ps, session_id);
        p_i64(&ps, (int64_t)prompt);
        p_i64(&ps, (int64_t)completion);
        err = run_one(p, "add usage", PG_ADD_USAGE_SQL, &ps);
    }
    if (err == STORE_OK) err = exec_simple(p, "commit turn end", "COMMIT");
    if (err != STORE_OK && p->conn) PQclear(PQexec(p->conn, "ROLLBACK"));
    pthread_mutex_unlock(&p->mu);
    if (err == STORE_OK && n) memcpy(replies, w, n * sizeof *w);
    free(w);
    return err;
}

static int pg_message_find_client_id(store *base, const char *session_id, const char *client_id,
                                     store_message *out)
{
    pg *p = (pg *)base;
    if (!out) return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!p || !store_id_ok(session_id) || !client_id || !store_text_ok(client_id, STORE_TEXT_MAX))
        return STORE_EINVAL;
    params ps = {0};
    p_text(&ps, session_id);
    p_text(&ps, client_id);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err =
        run(p, "find client id", MESSAGE_COLS "WHERE session_id = $1 AND client_id = $2", &ps, &r);
    if (err == STORE_OK) {
        err = PQntuples(r) >= 1 ? read_message(r, 0, out) : STORE_NOT_FOUND;
        if (err == STORE_EIO) LOG_E(MOD, "session %s: malformed message row", session_id);
    }
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

static int pg_messages_load(store *base, const char *session_id, size_t limit, store_message **out,
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
    p_text(&ps, session_id);
    p_i64(&ps, lim);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    store_message *list = NULL;
    size_t len = 0;
    int err = run(p, "load messages",
                  MESSAGE_COLS "WHERE session_id = $1 AND reverted_ms = 0"
                               " ORDER BY id DESC LIMIT $2::bigint",
                  &ps, &r);
    if (err == STORE_OK) err = collect_messages(r, "load messages", &list, &len);
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    if (err != STORE_OK) return err;
    store_messages_page(list, len, limit, truncated, out, n);
    return STORE_OK;
}

static int pg_recover_interrupted(store *base, const char *error, size_t *changed)
{
    pg *p = (pg *)base;
    if (changed) *changed = 0;
    if (!p || !changed || !store_text_ok(error, STORE_TEXT_MAX)) return STORE_EINVAL;
    params ps = {0};
    p_text(&ps, error);
    pthread_mutex_lock(&p->mu);
    int err =
        run_cmd(p, "recover interrupted",
                "UPDATE messages SET state = 6, error = $1 WHERE state IN (1, 2) AND state = 2",
                &ps, changed);
    pthread_mutex_unlock(&p->mu);
    if (err == STORE_OK && *changed)
        LOG_I(MOD, "marked %zu running messages interrupted", *changed);
    return err;
}

static int pg_messages_queued(store *base, store_message **out, size_t *n)
{
    pg *p = (pg *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!p) return STORE_EINVAL;
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err =
        run(p, "queued messages",
            MESSAGE_COLS "WHERE state IN (1, 2) AND state = 1 AND role = 1 ORDER BY id", NULL, &r);
    if (err == STORE_OK) err = collect_messages(r, "queued messages", out, n);
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

/* ---- counters and idempotency keys ----------------------------------------- */

static int pg_counter_get(store *base, const char *name, uint64_t *out)
{
    pg *p = (pg *)base;
    if (!out) return STORE_EINVAL;
    *out = 0;
    if (!p || !name || !store_text_ok(name, STORE_ID_MAX)) return STORE_EINVAL;
    params ps = {0};
    p_text(&ps, name);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = run(p, "get counter", "SELECT value FROM counters WHERE name = $1", &ps, &r);
    if (err == STORE_OK && PQntuples(r) == 1) {
        int64_t v = col_i64(r, 0, 0);
        *out = v > 0 ? (uint64_t)v : 0;
    }
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

static int pg_counter_raise(store *base, const char *name, uint64_t value)
{
    pg *p = (pg *)base;
    if (!p || !name || !store_text_ok(name, STORE_ID_MAX) || !store_u63_ok(value))
        return STORE_EINVAL;
    params ps = {0};
    p_text(&ps, name);
    p_i64(&ps, (int64_t)value);
    pthread_mutex_lock(&p->mu);
    int err = run_cmd(p, "raise counter",
                      "INSERT INTO counters(name, value) VALUES($1, $2::bigint)"
                      " ON CONFLICT(name) DO UPDATE SET"
                      " value = GREATEST(counters.value, excluded.value)",
                      &ps, NULL);
    pthread_mutex_unlock(&p->mu);
    return err;
}

static int pg_idem_put(store *base, const store_idem *e)
{
    pg *p = (pg *)base;
    if (!p || !store_idem_ok(e)) return STORE_EINVAL;
    params ps = {0};
    p_bytes(&ps, e->scope, e->scope_len);
    p_bytes(&ps, e->req_hash, STORE_IDEM_HASH_LEN);
    p_i64(&ps, e->err);
    p_i64(&ps, e->code);
    p_text(&ps, e->message);
    p_bytes(&ps, e->resp_len ? e->resp : NULL, e->resp_len);
    p_i64(&ps, e->created_ms);
    pthread_mutex_lock(&p->mu);
    int err = run_cmd(p, "put idempotency key",
                      "INSERT INTO idem_keys(scope, req_hash, err, code, message, resp, created_ms)"
                      " VALUES($1, $2, $3::int, $4::int, $5, $6, $7::bigint)"
                      " ON CONFLICT(scope) DO UPDATE SET req_hash = excluded.req_hash,"
                      " err = excluded.err, code = excluded.code, message = excluded.message,"
                      " resp = excluded.resp, created_ms = excluded.created_ms, seq = DEFAULT",
                      &ps, NULL);
    pthread_mutex_unlock(&p->mu);
    return err;
}

static int pg_idem_delete(store *base, const void *scope, size_t len)
{
    pg *p = (pg *)base;
    if (!p || !scope || len < 1 || len > STORE_IDEM_SCOPE_MAX) return STORE_EINVAL;
    params ps = {0};
    p_bytes(&ps, scope, len);
    pthread_mutex_lock(&p->mu);
    int err =
        run_cmd(p, "delete idempotency key", "DELETE FROM idem_keys WHERE scope = $1", &ps, NULL);
    pthread_mutex_unlock(&p->mu);
    return err;
}

/* One idem_keys row; STORE_EIO for a row we did not write. */
static int read_idem(const PGresult *r, int row, store_idem *e)
{
    memset(e, 0, sizeof *e);
    uint8_t *scope = NULL, *hash = NULL;
    size_t sl = 0, hl = 0;
    int err = col_bytes(r, row, 0, &scope, &sl);
    e->scope = (char *)scope;
    e->scope_len = sl;
    if (err == STORE_OK && (sl < 1 || sl > STORE_IDEM_SCOPE_MAX)) err = STORE_EIO;
    if (err == STORE_OK) err = col_bytes(r, row, 1, &hash, &hl);
    if (err == STORE_OK && hl != STORE_IDEM_HASH_LEN) err = STORE_EIO;
    if (err == STORE_OK) memcpy(e->req_hash, hash, STORE_IDEM_HASH_LEN);
    free(hash);
    e->err = (int)col_i64(r, row, 2);
    e->code = (int)col_i64(r, row, 3);
    if (err == STORE_OK) err = col_dup(r, row, 4, 0, &e->message);
    if (err == STORE_OK) err = col_bytes(r, row, 5, &e->resp, &e->resp_len);
    e->created_ms = col_i64(r, row, 6);
    if (err != STORE_OK) store_idem_clear(e);
    return err;
}

static int pg_idem_load(store *base, int64_t min_created_ms, size_t max_keys, store_idem **out,
                        size_t *n)
{
    pg *p = (pg *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!p || max_keys > (size_t)INT32_MAX) return STORE_EINVAL;
    params age = {0}, count = {0};
    p_i64(&age, min_created_ms);
    p_i64(&count, (int64_t)max_keys);
    pthread_mutex_lock(&p->mu);
    /* Each prune is atomic; one done without the other only keeps keys a
     * while longer. */
    int err = run_cmd(p, "prune idempotency keys by age",
                      "DELETE FROM idem_keys WHERE created_ms < $1::bigint", &age, NULL);
    if (err == STORE_OK)
        err = run_cmd(p, "prune idempotency keys by count",
                      "DELETE FROM idem_keys WHERE scope IN (SELECT scope FROM idem_keys"
                      " ORDER BY created_ms DESC, seq DESC OFFSET $1::bigint)",
                      &count, NULL);
    PGresult *r = NULL;
    if (err == STORE_OK)
        err = run(p, "load idempotency keys",
                  "SELECT scope, req_hash, err, code, message, resp, created_ms FROM idem_keys"
                  " ORDER BY created_ms DESC, seq DESC",
                  NULL, &r);
    store_idem *list = NULL;
    size_t len = 0, bad = 0;
    int rows = err == STORE_OK ? PQntuples(r) : 0;
    if (rows > 0) {
        list = calloc((size_t)rows, sizeof *list);
        if (!list) err = STORE_ENOMEM;
    }
    for (int i = 0; err == STORE_OK && i < rows; i++) {
        int e = read_idem(r, i, &list[len]);
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
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    if (bad) LOG_W(MOD, "%zu malformed idempotency key row(s) ignored", bad);
    if (err != STORE_OK) {
        store_idems_free(list, len);
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

static int pg_idem_get(store *base, const void *scope, size_t len, int64_t min_created_ms,
                       store_idem *out)
{
    pg *p = (pg *)base;
    params ps = {0};
    p_bytes(&ps, scope, len);
    p_i64(&ps, min_created_ms);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = run(p, "read an idempotency key",
                  "SELECT scope, req_hash, err, code, message, resp, created_ms FROM idem_keys"
                  " WHERE scope = $1 AND created_ms >= $2::bigint",
                  &ps, &r);
    if (err == STORE_OK) {
        err = PQntuples(r) == 1 ? read_idem(r, 0, out) : STORE_NOT_FOUND;
        if (err == STORE_EIO) err = STORE_NOT_FOUND; /* a row not ours: the key is unknown */
    }
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

/* ---- memory: compaction, long-term memories, search -------------------------- */

static int pg_summary_latest(store *base, const char *session_id, store_message *out)
{
    pg *p = (pg *)base;
    if (!out) return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!p || !store_id_ok(session_id)) return STORE_EINVAL;
    params ps = {0};
    p_text(&ps, session_id);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = run(p, "latest summary",
                  MESSAGE_COLS "WHERE session_id = $1 AND kind = 1 AND reverted_ms = 0"
                               " ORDER BY id DESC LIMIT 1",
                  &ps, &r);
    if (err == STORE_OK) {
        err = PQntuples(r) == 1 ? read_message(r, 0, out) : STORE_NOT_FOUND;
        if (err == STORE_EIO) LOG_E(MOD, "session %s: malformed summary row", session_id);
    }
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

static int pg_messages_after(store *base, const char *session_id, uint64_t after_id, size_t limit,
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
    p_text(&ps, session_id);
    p_i64(&ps, (int64_t)after_id);
    p_i64(&ps, lim);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    store_message *list = NULL;
    size_t len = 0;
    int err = run(p, "load messages after",
                  MESSAGE_COLS "WHERE session_id = $1 AND id > $2::bigint AND reverted_ms = 0"
                               " ORDER BY id DESC LIMIT $3::bigint",
                  &ps, &r);
    if (err == STORE_OK) err = collect_messages(r, "load messages after", &list, &len);
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    if (err != STORE_OK) return err;
    store_messages_page(list, len, limit, truncated, out, n);
    return STORE_OK;
}

static int pg_memory_add(store *base, const char *session_id, const char *content, uint64_t *id)
{
    pg *p = (pg *)base;
    if (id) *id = 0;
    if (!p || !store_memory_ok(session_id, content)) return STORE_EINVAL;
    params ps = {0};
    p_text(&ps, session_id);
    p_text(&ps, content);
    p_i64(&ps, text_now_ms());
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    /* The existence check in the statement: no row, no insert. */
    int err = run(p, "add memory",
                  "INSERT INTO memories(session_id, content, created_ms)"
                  " SELECT $1, $2, $3::bigint"
                  " WHERE $1::text IS NULL OR EXISTS(SELECT 1 FROM sessions WHERE id = $1)"
                  " RETURNING id",
                  &ps, &r);
    if (err == STORE_OK && PQntuples(r) != 1) err = STORE_NOT_FOUND;
    if (err == STORE_OK && id) *id = (uint64_t)col_i64(r, 0, 0);
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

static int pg_search(store *base, const char *match, const char *session_id, unsigned kind_mask,
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
    p_text(&ps, tsq);
    p_text(&ps, session_id);
    p_i64(&ps, (int64_t)(kind_mask & STORE_HIT_ALL));
    p_i64(&ps, (int64_t)limit);
    p_i64(&ps, STORE_SEARCH_RANK_WINDOW);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    err = run(p, "search", PG_SEARCH_SQL, &ps, &r);
    pthread_mutex_unlock(&p->mu);
    free(tsq);
    if (err != STORE_OK) return err; /* a tsquery syntax error is sqlstate 42601: EIO */
    int rows = PQntuples(r);
    store_hit *list = rows > 0 ? calloc((size_t)rows, sizeof *list) : NULL;
    if (rows > 0 && !list) err = STORE_ENOMEM;
    size_t len = 0;
    for (int i = 0; err == STORE_OK && i < rows && len < limit; i++) {
        store_hit *h = &list[len];
        int64_t kind = col_i64(r, i, 0);
        int sl = PQgetlength(r, i, 2);
        if (kind < STORE_HIT_MESSAGE || kind > STORE_HIT_MEMORY || sl > STORE_ID_MAX)
            continue; /* a row we did not write: skipped, as on SQLite */
        h->kind = (store_hit_kind)kind;
        h->id = (uint64_t)col_i64(r, i, 1);
        memcpy(h->session_id, PQgetvalue(r, i, 2), (size_t)sl);
        h->session_id[sl] = '\0';
        err = col_dup(r, i, 3, 1, &h->session_title);
        if (err == STORE_OK) err = col_dup(r, i, 4, 1, &h->snippet);
        if (err == STORE_OK) err = col_dup(r, i, 5, 0, &h->text);
        h->score = strtod(PQgetvalue(r, i, 6), NULL);
        h->created_ms = col_i64(r, i, 7);
        h->role = (int)col_i64(r, i, 8);
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

#include "store_pg_fork.inc"
#include "store_pg_embed.inc"

static const store_ops pg_ops = {
    .name = "postgres",
    .close = pg_close,
    .session_insert = pg_session_insert,
    .session_update = pg_session_update,
    .session_set_api_key = pg_session_set_api_key,
    .session_get_api_key = pg_session_get_api_key,
    .session_get = pg_session_get,
    .session_list_all = pg_session_list_all,
    .session_page = pg_session_page,
    .session_delete = pg_session_delete,
    .session_set_seq_reserved = pg_session_set_seq_reserved,
    .session_add_usage = pg_session_add_usage,
    .message_insert = pg_message_insert,
    .message_insert_with = pg_message_insert_with,
    .attachments_load = pg_attachments_load,
    .attachment_hashes = pg_attachment_hashes,
    .message_finish = pg_message_finish,
    .turn_end = pg_turn_end,
    .message_find_client_id = pg_message_find_client_id,
    .messages_load = pg_messages_load,
    .recover_interrupted = pg_recover_interrupted,
    .messages_queued = pg_messages_queued,
    .counter_get = pg_counter_get,
    .counter_raise = pg_counter_raise,
    .idem_put = pg_idem_put,
    .idem_delete = pg_idem_delete,
    .idem_load = pg_idem_load,
    .idem_get = pg_idem_get,
    .summary_latest = pg_summary_latest,
    .messages_after = pg_messages_after,
    .memory_add = pg_memory_add,
    .search = pg_search,
    .message_get = pg_message_get,
    .session_fork = pg_session_fork,
    .session_revert = pg_session_revert,
    .session_unrevert = pg_session_unrevert,
    .checkpoint_put = pg_checkpoint_put,
    .checkpoints_list = pg_checkpoints_list,
    .embed_next = pg_embed_next,
    .embed_put = pg_embed_put,
    .embed_retry = pg_embed_retry,
    .embed_requeue = pg_embed_requeue,
    .embed_scan = pg_embed_scan,
    .embed_get = pg_embed_get,
    .hit_get = pg_hit_get,
};

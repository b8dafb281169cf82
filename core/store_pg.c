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
 * the values are parsed and checked as strictly as SQLite's rows are.
 *
 * The engine's files: store_pg.c the schema and its migrations,
 * parameters, the connection and errors, reading rows, open and close, the
 * ops table; store_pg_session.c sessions, messages and attachments;
 * store_pg_keys.c counters and idempotency keys; store_pg_memory.c
 * summaries, memories and search; store_pg_fork.c fork, revert and
 * checkpoints; store_pg_embed.c embeddings. Private header store_pg_int.h. */
#include "store_pg_int.h"

/* Bumped by each entry added to pg_migrations[]. */
#define PG_SCHEMA_VERSION 8
/* pg_advisory_xact_lock's key while migrating ("cmfd" as in SQLite's
 * application_id): cores starting at once take turns. */
#define PG_MIGRATE_LOCK_KEY "1668113764"
/* Seconds libpq waits for a connection (each attempt). */
#define PG_CONNECT_TIMEOUT_S "5"

/* The SQL spells these as numbers, as in the SQLite engine. */
_Static_assert(STORE_MSG_QUEUED == 1 && STORE_MSG_RUNNING == 2 && STORE_MSG_INTERRUPTED == 6,
               "message states are spelled as numbers in SQL");
_Static_assert(STORE_ROLE_USER == 1, "roles are spelled as numbers in SQL");

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

static const store_ops pg_ops;

/* ---- parameters ------------------------------------------------------------ */

void pg_p_text(params *ps, const char *s) /* NULL binds SQL NULL */
{
    int i = ps->n++;
    ps->val[i] = s;
    ps->len[i] = 0;
    ps->fmt[i] = 0;
}

void pg_p_i64(params *ps, int64_t v)
{
    int i = ps->n++;
    snprintf(ps->num[i], sizeof ps->num[i], "%lld", (long long)v);
    ps->val[i] = ps->num[i];
    ps->len[i] = 0;
    ps->fmt[i] = 0;
}

void pg_p_bytes(params *ps, const void *b, size_t len) /* NULL binds SQL NULL */
{
    int i = ps->n++;
    ps->val[i] = b;
    ps->len[i] = (int)len;
    ps->fmt[i] = 1;
}

/* ---- connection and errors -------------------------------------------------- */

int pg_connect_locked(pg *p)
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
int pg_run(pg *p, const char *what, const char *sql, const params *ps, PGresult **out)
{
    *out = NULL;
    int err = pg_connect_locked(p);
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
int pg_run_cmd(pg *p, const char *what, const char *sql, const params *ps, size_t *changed)
{
    PGresult *r = NULL;
    int err = pg_run(p, what, sql, ps, &r);
    if (err == STORE_OK && changed) *changed = (size_t)strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return err;
}

/* Like pg_run_cmd, and STORE_NOT_FOUND when no row changed. */
int pg_run_one(pg *p, const char *what, const char *sql, const params *ps)
{
    size_t n = 0;
    int err = pg_run_cmd(p, what, sql, ps, &n);
    return err == STORE_OK && n == 0 ? STORE_NOT_FOUND : err;
}

/* ---- reading --------------------------------------------------------------- */

/* A BIGINT or INTEGER column; 0 for NULL. Malformed text cannot come from
 * the server for these types. */
int64_t pg_col_i64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* Copies a text column; NULL stays NULL unless nonnull, which gives "". */
int pg_col_dup(const PGresult *r, int row, int col, int nonnull, char **out)
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
int pg_col_bytes(const PGresult *r, int row, int col, uint8_t **out, size_t *len)
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

int pg_read_session(const PGresult *r, int row, store_session *s)
{
    memset(s, 0, sizeof *s);
    int err = col_id(r, row, 0, s->id);
    char **fields[] = {&s->title, &s->provider, &s->model, &s->base_url, &s->system_prompt};
    for (int i = 0; err == STORE_OK && i < 5; i++)
        err = pg_col_dup(r, row, 1 + i, 1, fields[i]);
    if (err == STORE_OK)
        err = store_skills_split(PQgetvalue(r, row, 6), (size_t)PQgetlength(r, row, 6), &s->skills,
                                 &s->n_skills);
    if (err != STORE_OK) {
        store_session_clear(s);
        return err;
    }
    int64_t delay = pg_col_i64(r, row, 7);
    s->token_delay_ms = delay < 0 ? 0 : delay > UINT32_MAX ? UINT32_MAX : (uint32_t)delay;
    s->api_key_set = pg_col_i64(r, row, 8) != 0;
    s->created_ms = pg_col_i64(r, row, 9);
    s->updated_ms = pg_col_i64(r, row, 10);
    s->seq_reserved = (uint64_t)pg_col_i64(r, row, 11);
    s->prompt_tokens = (uint64_t)pg_col_i64(r, row, 12);
    s->completion_tokens = (uint64_t)pg_col_i64(r, row, 13);
    int64_t count = pg_col_i64(r, row, 14);
    s->message_count = count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;
    int64_t vision = pg_col_i64(r, row, 15);
    s->vision = vision < 0 || vision > STORE_VISION_MAX ? 0 : (int)vision;
    int64_t win = pg_col_i64(r, row, 16);
    s->context_window = win < 0 ? 0 : win > UINT32_MAX ? UINT32_MAX : (uint32_t)win;
    s->archived = pg_col_i64(r, row, 17) != 0;
    s->compacted_to = (uint64_t)pg_col_i64(r, row, 18);
    int plen = PQgetlength(r, row, 19);
    if (!PQgetisnull(r, row, 19) && plen > 0 && plen <= STORE_ID_MAX) {
        memcpy(s->parent_id, PQgetvalue(r, row, 19), (size_t)plen);
        s->parent_id[plen] = '\0';
    }
    s->fork_point = (uint64_t)pg_col_i64(r, row, 20);
    return STORE_OK;
}

int pg_read_message(const PGresult *r, int row, store_message *m)
{
    memset(m, 0, sizeof *m);
    int64_t role = pg_col_i64(r, row, 2), state = pg_col_i64(r, row, 5);
    int err = col_id(r, row, 1, m->session_id);
    if (err == STORE_OK && (role < STORE_ROLE_USER || role > STORE_ROLE_SYSTEM ||
                            state < STORE_MSG_QUEUED || state > STORE_MSG_INTERRUPTED))
        err = STORE_EIO;
    if (err == STORE_OK) err = pg_col_dup(r, row, 3, 0, &m->skill);
    if (err == STORE_OK) err = pg_col_dup(r, row, 4, 1, &m->content);
    if (err == STORE_OK) err = pg_col_dup(r, row, 6, 0, &m->error);
    if (err == STORE_OK) err = pg_col_dup(r, row, 9, 0, &m->client_id);
    if (err != STORE_OK) {
        store_message_clear(m);
        return err;
    }
    m->id = (uint64_t)pg_col_i64(r, row, 0);
    m->role = (store_role)role;
    m->state = (store_msg_state)state;
    m->turn_id = (uint64_t)pg_col_i64(r, row, 7);
    m->created_ms = pg_col_i64(r, row, 8);
    m->kind =
        pg_col_i64(r, row, 10) == STORE_KIND_SUMMARY ? STORE_KIND_SUMMARY : STORE_KIND_MESSAGE;
    m->covers_to = (uint64_t)pg_col_i64(r, row, 11);
    m->reverted_ms = pg_col_i64(r, row, 12);
    return STORE_OK;
}

int pg_collect_sessions(const PGresult *r, const char *what, store_session **out, size_t *n)
{
    int rows = PQntuples(r);
    *out = NULL;
    *n = 0;
    if (rows == 0) return STORE_OK;
    store_session *list = calloc((size_t)rows, sizeof *list);
    if (!list) return STORE_ENOMEM;
    for (int i = 0; i < rows; i++) {
        int err = pg_read_session(r, i, &list[i]);
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

int pg_collect_messages(const PGresult *r, const char *what, store_message **out, size_t *n)
{
    int rows = PQntuples(r);
    *out = NULL;
    *n = 0;
    if (rows == 0) return STORE_OK;
    store_message *list = calloc((size_t)rows, sizeof *list);
    if (!list) return STORE_ENOMEM;
    for (int i = 0; i < rows; i++) {
        int err = pg_read_message(r, i, &list[i]);
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
int pg_exec_simple(pg *p, const char *what, const char *sql)
{
    int err = pg_connect_locked(p);
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
    int err = pg_exec_simple(p, "begin schema transaction", "BEGIN");
    if (err != STORE_OK) return err;
    PGresult *r = NULL;
    err = pg_exec_simple(p, "schema lock", "SELECT pg_advisory_xact_lock(" PG_MIGRATE_LOCK_KEY ")");
    if (err == STORE_OK)
        err = pg_run(p, "reading the schema version",
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
            err = pg_exec_simple(p, "creating the schema table",
                                 "CREATE TABLE comfyd_schema(version INTEGER NOT NULL);"
                                 " INSERT INTO comfyd_schema VALUES(0)");
        }
    }
    if (err == STORE_OK)
        err =
            pg_run(p, "reading the schema version", "SELECT version FROM comfyd_schema", NULL, &r);
    if (err == STORE_OK) {
        if (PQntuples(r) != 1) {
            LOG_E(MOD, "comfyd_schema holds %d rows, not one", PQntuples(r));
            err = STORE_ESCHEMA;
        } else {
            version = pg_col_i64(r, 0, 0);
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
        err = pg_exec_simple(p, "creating the schema", pg_migrations[v]);
    if (err == STORE_OK && version < PG_SCHEMA_VERSION) {
        params ps = {0};
        pg_p_i64(&ps, PG_SCHEMA_VERSION);
        err = pg_run_cmd(p, "setting the schema version",
                         "UPDATE comfyd_schema SET version = $1::int", &ps, NULL);
    }
    if (err == STORE_OK) err = pg_exec_simple(p, "commit schema", "COMMIT");
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
    int err = pg_connect_locked(p);
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

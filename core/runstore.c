/* runstore: runs in SQLite (see runstore.h). */
#include "runstore.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define MOD "runstore"

struct runstore {
    sqlite3 *db;
    pthread_mutex_t mu;
};

static const char *SCHEMA =
    "CREATE TABLE IF NOT EXISTS runs ("
    " prompt_id TEXT PRIMARY KEY,"
    " canvas_id TEXT NOT NULL,"
    " session_id TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " status INTEGER NOT NULL,"
    " idem_key TEXT,"
    " record BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS runs_created ON runs(created_ms, prompt_id);"
    "CREATE INDEX IF NOT EXISTS runs_canvas ON runs(canvas_id, created_ms);"
    "CREATE INDEX IF NOT EXISTS runs_session ON runs(session_id, created_ms);"
    "CREATE UNIQUE INDEX IF NOT EXISTS runs_idem ON runs(idem_key) WHERE idem_key IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS runs_status ON runs(status);";

int runstore_open(runstore **out, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    runstore *s = calloc(1, sizeof *s);
    if (!s) return -1;
    pthread_mutex_init(&s->mu, NULL);
    char *e = NULL;
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(s->db, RUNSTORE_BUSY_TIMEOUT_MS) != SQLITE_OK ||
        sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, &e) !=
            SQLITE_OK ||
        sqlite3_exec(s->db, SCHEMA, NULL, NULL, &e) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open the run store %s: %s", path,
                 e ? e : (s->db ? sqlite3_errmsg(s->db) : "out of memory"));
        sqlite3_free(e);
        runstore_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void runstore_close(runstore *s)
{
    if (!s) return;
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int is_active(Comfyd__V1__RunStatus st)
{
    return st == COMFYD__V1__RUN_STATUS__RUN_STATUS_QUEUED ||
           st == COMFYD__V1__RUN_STATUS__RUN_STATUS_RUNNING;
}

int runstore_put(runstore *s, const Comfyd__V1__Run *r, const char *idem_key)
{
    size_t len = protobuf_c_message_get_packed_size(&r->base);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) return -1;
    protobuf_c_message_pack(&r->base, buf);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(
        s->db,
        "INSERT INTO runs(prompt_id, canvas_id, session_id, created_ms, status, idem_key, record)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(prompt_id) DO UPDATE SET"
        " status = excluded.status, record = excluded.record,"
        " idem_key = COALESCE(runs.idem_key, excluded.idem_key)",
        -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(q, 1, r->prompt_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, r->canvas_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, r->session_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, r->queued_at_ms);
        sqlite3_bind_int(q, 5, (int)r->status);
        if (idem_key && *idem_key)
            sqlite3_bind_text(q, 6, idem_key, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(q, 6);
        sqlite3_bind_blob(q, 7, buf, (int)len, SQLITE_STATIC);
        rc = sqlite3_step(q);
    }
    sqlite3_finalize(q);
    if (rc == SQLITE_DONE && !is_active(r->status)) {
        /* Room: the oldest finished runs go. */
        char sql[256];
        snprintf(sql, sizeof sql,
                 "DELETE FROM runs WHERE prompt_id IN (SELECT prompt_id FROM runs"
                 " WHERE status NOT IN (1, 2) ORDER BY created_ms DESC LIMIT -1 OFFSET %d)",
                 RUNSTORE_MAX_RUNS);
        sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    }
    if (rc != SQLITE_DONE)
        LOG_W(MOD, "cannot store run %s: %s", r->prompt_id, sqlite3_errmsg(s->db));
    pthread_mutex_unlock(&s->mu);
    free(buf);
    return rc == SQLITE_DONE ? 0 : -1;
}

static Comfyd__V1__Run *unpack_col(sqlite3_stmt *q, int col)
{
    const void *b = sqlite3_column_blob(q, col);
    int n = sqlite3_column_bytes(q, col);
    return (Comfyd__V1__Run *)protobuf_c_message_unpack(&comfyd__v1__run__descriptor, NULL,
                                                        (size_t)n, b);
}

static Comfyd__V1__Run *get_one(runstore *s, const char *sql, const char *arg)
{
    Comfyd__V1__Run *r = NULL;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW) r = unpack_col(q, 0);
    }
    sqlite3_finalize(q);
    pthread_mutex_unlock(&s->mu);
    return r;
}

Comfyd__V1__Run *runstore_get(runstore *s, const char *prompt_id)
{
    return get_one(s, "SELECT record FROM runs WHERE prompt_id = ?1", prompt_id);
}

Comfyd__V1__Run *runstore_get_by_key(runstore *s, const char *idem_key)
{
    return get_one(s, "SELECT record FROM runs WHERE idem_key = ?1", idem_key);
}

static int collect(sqlite3_stmt *q, Comfyd__V1__Run ***out, size_t *n)
{
    Comfyd__V1__Run **l = NULL;
    size_t cnt = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        Comfyd__V1__Run *r = unpack_col(q, 0);
        if (!r) continue; /* a record from a future schema: skipped */
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            Comfyd__V1__Run **g = realloc(l, cap * sizeof *l);
            if (!g) {
                protobuf_c_message_free_unpacked(&r->base, NULL);
                rc = SQLITE_NOMEM;
                break;
            }
            l = g;
        }
        l[cnt++] = r;
    }
    if (rc != SQLITE_DONE) {
        runstore_free_list(l, cnt);
        return -1;
    }
    *out = l;
    *n = cnt;
    return 0;
}

int runstore_list(runstore *s, const char *canvas_id, const char *session_id, int64_t before_ms,
                  const char *before_id, size_t limit, Comfyd__V1__Run ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(
            s->db,
            "SELECT record FROM runs WHERE (?1 = '' OR canvas_id = ?1)"
            " AND (?2 = '' OR session_id = ?2)"
            " AND (?3 = 0 OR created_ms < ?3 OR (created_ms = ?3 AND prompt_id < ?4))"
            " ORDER BY created_ms DESC, prompt_id DESC LIMIT ?5",
            -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, canvas_id ? canvas_id : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, session_id ? session_id : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, before_ms);
        sqlite3_bind_text(q, 4, before_id ? before_id : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 5, (sqlite3_int64)limit);
        rc = collect(q, out, n);
    }
    sqlite3_finalize(q);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int runstore_active(runstore *s, Comfyd__V1__Run ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT record FROM runs WHERE status IN (1, 2) ORDER BY created_ms", -1,
                           &q, NULL) == SQLITE_OK)
        rc = collect(q, out, n);
    sqlite3_finalize(q);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void runstore_free_list(Comfyd__V1__Run **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        protobuf_c_message_free_unpacked(&l[i]->base, NULL);
    free(l);
}

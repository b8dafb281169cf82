#include "canvas_reg.h"

#include "log.h"
#include "pgconn.h"
#include "text.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MOD "canvas-reg"

/* The row moves to whichever core wrote it last: a tab re-attaching
 * through another core takes its canvas along. */
static const char SQL_PUT[] =
    "INSERT INTO canvas_registry(canvas_id, owner, addr, revision, focused_ms, expires_at)"
    " VALUES ($1, $2, $3, $4::bigint, $5::bigint, now() + $6::bigint * interval '1 millisecond')"
    " ON CONFLICT (canvas_id) DO UPDATE SET owner = EXCLUDED.owner, addr = EXCLUDED.addr,"
    " revision = EXCLUDED.revision, focused_ms = EXCLUDED.focused_ms,"
    " expires_at = EXCLUDED.expires_at";
/* Only this core's row: another core may hold the canvas by now. */
static const char SQL_DELETE[] = "DELETE FROM canvas_registry WHERE canvas_id = $1 AND owner = $2";
static const char SQL_FIND[] = "SELECT owner, addr, revision FROM canvas_registry"
                               " WHERE canvas_id = $1 AND owner <> $2 AND expires_at > now()";
/* Two rows: a canvas focused at some point wins; of several never focused
 * none does (as AMBIGUOUS_CANVAS on one core). */
static const char SQL_FOCUSED[] = "SELECT owner, addr, revision, focused_ms FROM canvas_registry"
                                  " WHERE owner <> $1 AND expires_at > now()"
                                  " ORDER BY focused_ms DESC, canvas_id LIMIT 2";

typedef enum { W_NONE = 0, W_PUT, W_DELETE } wstate;

typedef struct local {
    char id[CREG_MAX_ID + 1];
    unsigned count; /* attachments here */
    uint64_t revision;
    int64_t focused_ms;
    wstate want; /* a write the writer has not done yet */
} local;

struct creg {
    pthread_mutex_t mu; /* locals, stop, stats */
    pthread_cond_t cv;
    local *locals;
    size_t n_locals;
    int stop;
    pthread_t thread;
    int started;
    creg_stats stats;

    pthread_mutex_t conn_mu; /* conn (the writer's and the lookups') */
    PGconn *conn;
    char *uri;           /* may hold a password: never logged */
    int64_t retry_at_ms; /* no new connection before this (monotonic) */
    char core_id[CREG_MAX_OWNER + 1];
    char addr[CREG_MAX_ADDR + 1];
    uint32_t ttl_ms;
};

static int id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    return n >= 1 && n <= CREG_MAX_ID;
}

static local *find_local_locked(creg *r, const char *id)
{
    for (size_t i = 0; i < r->n_locals; i++)
        if (strcmp(r->locals[i].id, id) == 0) return &r->locals[i];
    return NULL;
}

/* Runs sql on the connection (conn_mu held); *out on CREG_OK. */
static int run_locked(creg *r, const char *what, const char *sql, int n, const char *const *vals,
                      PGresult **out)
{
    *out = NULL;
    if (!r->conn || PQstatus(r->conn) != CONNECTION_OK) {
        PQfinish(r->conn);
        r->conn = NULL;
        /* Lookups run on gRPC threads: while the server is away they fail
         * at once rather than each waiting for a connect timeout. */
        if (text_mono_ms() < r->retry_at_ms) return CREG_EUNAVAIL;
        char err[256];
        r->conn = pgconn_open(r->uri, "comfyd-canvas-reg", err, sizeof err);
        if (!r->conn) {
            LOG_E(MOD, "cannot connect to PostgreSQL: %s", err);
            r->retry_at_ms = text_mono_ms() + CREG_RETRY_MS;
            return CREG_EUNAVAIL;
        }
    }
    PGresult *res = PQexecParams(r->conn, sql, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
        *out = res;
        return CREG_OK;
    }
    char msg[256];
    LOG_E(MOD, "%s: %s", what, pgconn_msg(r->conn, res, msg, sizeof msg));
    if (pgconn_broken(r->conn, res)) {
        PQfinish(r->conn);
        r->conn = NULL;
    }
    PQclear(res);
    return CREG_EUNAVAIL;
}

/* One pending write, done outside r->mu. */
static int write_one(creg *r, const local *l)
{
    char rev[24], foc[24], ttl[24];
    snprintf(rev, sizeof rev, "%" PRIu64, l->revision > INT64_MAX ? 0 : l->revision);
    snprintf(foc, sizeof foc, "%" PRId64, l->focused_ms);
    snprintf(ttl, sizeof ttl, "%" PRIu32, r->ttl_ms);
    PGresult *res = NULL;
    pthread_mutex_lock(&r->conn_mu);
    int rc;
    if (l->want == W_PUT) {
        const char *v[] = {l->id, r->core_id, r->addr, rev, foc, ttl};
        rc = run_locked(r, "register a canvas", SQL_PUT, 6, v, &res);
    } else {
        const char *v[] = {l->id, r->core_id};
        rc = run_locked(r, "unregister a canvas", SQL_DELETE, 2, v, &res);
    }
    pthread_mutex_unlock(&r->conn_mu);
    PQclear(res);
    return rc;
}

static void *writer_main(void *arg)
{
    creg *r = arg;
    pthread_mutex_lock(&r->mu);
    int failing = 0;
    for (;;) {
        local job = {0};
        size_t at = 0;
        for (; at < r->n_locals; at++)
            if (r->locals[at].want != W_NONE) break;
        if (at == r->n_locals || failing) {
            if (r->stop) break;
            if (failing) {
                struct timespec ts = text_realtime_after(CREG_RETRY_MS);
                pthread_cond_timedwait(&r->cv, &r->mu, &ts);
                failing = 0;
            } else {
                pthread_cond_wait(&r->cv, &r->mu);
            }
            continue;
        }
        job = r->locals[at];
        r->locals[at].want = W_NONE;
        pthread_mutex_unlock(&r->mu);
        int rc = write_one(r, &job);
        pthread_mutex_lock(&r->mu);
        local *l = find_local_locked(r, job.id);
        if (rc != CREG_OK) {
            r->stats.write_errors++;
            /* Retried unless a newer state replaced it meanwhile. */
            if (l && l->want == W_NONE) l->want = job.want;
            failing = !r->stop;
            if (r->stop) break;
            continue;
        }
        r->stats.writes++;
        /* A canvas gone from here with nothing left to write is forgotten. */
        if (l && l->count == 0 && l->want == W_NONE) {
            size_t i = (size_t)(l - r->locals);
            r->locals[i] = r->locals[--r->n_locals];
        }
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int creg_open(creg **out, const char *uri, const char *core_id, const char *addr, uint32_t ttl_ms,
              char *err, size_t errlen)
{
    *out = NULL;
    size_t il = core_id ? strlen(core_id) : 0, al = addr ? strlen(addr) : 0;
    if (!uri || il == 0 || il > CREG_MAX_OWNER || al == 0 || al > CREG_MAX_ADDR || ttl_ms == 0) {
        snprintf(err, errlen, "bad canvas registry arguments");
        return CREG_EINVAL;
    }
    creg *r = calloc(1, sizeof *r);
    if (!r) return CREG_ENOMEM;
    r->uri = text_dup(uri);
    r->locals = calloc(CREG_MAX_LOCAL, sizeof *r->locals);
    if (!r->locals) abort();
    memcpy(r->core_id, core_id, il + 1);
    memcpy(r->addr, addr, al + 1);
    r->ttl_ms = ttl_ms;
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->conn_mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    pthread_mutex_lock(&r->conn_mu);
    r->conn = pgconn_open(r->uri, "comfyd-canvas-reg", err, errlen);
    pthread_mutex_unlock(&r->conn_mu);
    if (!r->conn || pthread_create(&r->thread, NULL, writer_main, r) != 0) {
        if (r->conn) snprintf(err, errlen, "cannot start a thread");
        creg_close(r);
        return CREG_EUNAVAIL;
    }
    r->started = 1;
    *out = r;
    return CREG_OK;
}

void creg_close(creg *r)
{
    if (!r) return;
    if (r->started) {
        pthread_mutex_lock(&r->mu);
        r->stop = 1;
        pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL);
    }
    PQfinish(r->conn);
    free(r->uri);
    free(r->locals);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->conn_mu);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

const char *creg_core_id(const creg *r)
{
    return r->core_id;
}

const char *creg_addr(const creg *r)
{
    return r->addr;
}

void creg_attached(creg *r, const char *canvas_id)
{
    if (!r || !id_ok(canvas_id)) return;
    pthread_mutex_lock(&r->mu);
    local *l = find_local_locked(r, canvas_id);
    if (!l && r->n_locals < CREG_MAX_LOCAL) {
        l = &r->locals[r->n_locals++];
        memset(l, 0, sizeof *l);
        snprintf(l->id, sizeof l->id, "%s", canvas_id);
    }
    if (l) {
        l->count++;
        l->want = W_PUT;
        pthread_cond_signal(&r->cv);
    } else {
        LOG_W(MOD, "more than %d canvases attached here: %s is not registered", CREG_MAX_LOCAL,
              canvas_id);
    }
    pthread_mutex_unlock(&r->mu);
}

void creg_detached(creg *r, const char *canvas_id)
{
    if (!r || !id_ok(canvas_id)) return;
    pthread_mutex_lock(&r->mu);
    local *l = find_local_locked(r, canvas_id);
    if (l && l->count > 0 && --l->count == 0) {
        l->want = W_DELETE;
        pthread_cond_signal(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
}

void creg_reported(creg *r, const char *canvas_id, uint64_t revision, int focused)
{
    if (!r || !id_ok(canvas_id)) return;
    pthread_mutex_lock(&r->mu);
    local *l = find_local_locked(r, canvas_id);
    if (l && l->count > 0 && ((revision && revision != l->revision) || focused)) {
        if (revision) l->revision = revision;
        if (focused) l->focused_ms = text_now_ms();
        l->want = W_PUT;
        pthread_cond_signal(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
}

int creg_is_local(creg *r, const char *canvas_id)
{
    if (!r || !id_ok(canvas_id)) return 0;
    pthread_mutex_lock(&r->mu);
    local *l = find_local_locked(r, canvas_id);
    int yes = l && l->count > 0;
    pthread_mutex_unlock(&r->mu);
    return yes;
}

size_t creg_local_count(creg *r)
{
    if (!r) return 0;
    size_t n = 0;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n_locals; i++)
        n += r->locals[i].count > 0;
    pthread_mutex_unlock(&r->mu);
    return n;
}

int creg_find(creg *r, const char *canvas_id, creg_where *w)
{
    if (!r || !w || (canvas_id && *canvas_id && !id_ok(canvas_id))) return CREG_EINVAL;
    int any = !canvas_id || !*canvas_id;
    PGresult *res = NULL;
    pthread_mutex_lock(&r->conn_mu);
    int rc;
    if (any) {
        const char *v[] = {r->core_id};
        rc = run_locked(r, "find the focused canvas", SQL_FOCUSED, 1, v, &res);
    } else {
        const char *v[] = {canvas_id, r->core_id};
        rc = run_locked(r, "find a canvas", SQL_FIND, 2, v, &res);
    }
    pthread_mutex_unlock(&r->conn_mu);
    pthread_mutex_lock(&r->mu);
    r->stats.lookups++;
    if (rc != CREG_OK) r->stats.lookup_errors++;
    pthread_mutex_unlock(&r->mu);
    if (rc != CREG_OK) return rc;
    int n = PQntuples(res);
    if (n == 0 || (any && n > 1 && strtoll(PQgetvalue(res, 0, 3), NULL, 10) == 0)) {
        PQclear(res);
        return CREG_NONE;
    }
    snprintf(w->owner, sizeof w->owner, "%s", PQgetvalue(res, 0, 0));
    snprintf(w->addr, sizeof w->addr, "%s", PQgetvalue(res, 0, 1));
    w->revision = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
    PQclear(res);
    return CREG_OK;
}

void creg_get_stats(creg *r, creg_stats *out)
{
    pthread_mutex_lock(&r->mu);
    *out = r->stats;
    pthread_mutex_unlock(&r->mu);
}

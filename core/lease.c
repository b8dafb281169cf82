#include "lease.h"

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

#define MOD "lease"
#define LEASE_ID_MAX 39 /* store.h's STORE_ID_MAX */

/* A live row of another owner is left alone (0 rows: held); an expired
 * one too: only the sweeper removes it, in the same transaction that
 * marks its turn interrupted, so no turn of a dead core stays RUNNING
 * under a new owner's lease. */
static const char SQL_ACQUIRE[] =
    "INSERT INTO session_leases(session_id, owner, expires_at)"
    " VALUES ($1, $2, now() + $3::bigint * interval '1 millisecond')"
    " ON CONFLICT (session_id) DO UPDATE SET expires_at = EXCLUDED.expires_at"
    " WHERE session_leases.owner = EXCLUDED.owner RETURNING 1";
static const char SQL_RELEASE[] = "DELETE FROM session_leases WHERE session_id = $1 AND owner = $2";
static const char SQL_CLAIM[] = "UPDATE messages SET state = 2 WHERE id = $1 AND state = 1";
static const char SQL_RENEW[] =
    "UPDATE session_leases SET expires_at = now() + $2::bigint * interval '1 millisecond'"
    " WHERE owner = $1 RETURNING session_id";
/* The canvas registry (canvas_reg.h) lives and dies with the leases. */
static const char SQL_CANVAS_RENEW[] =
    "UPDATE canvas_registry SET expires_at = now() + $2::bigint * interval '1 millisecond'"
    " WHERE owner = $1";
static const char SQL_CANVAS_SWEEP[] = "DELETE FROM canvas_registry WHERE expires_at < now()";
static const char SQL_CANVAS_OWN[] = "DELETE FROM canvas_registry WHERE owner = $1";
/* The live cores (cluster_cores): this core's row with its address. */
static const char SQL_CORE_RENEW[] =
    "INSERT INTO cluster_cores(core_id, addr, expires_at)"
    " VALUES ($1, $3, now() + $2::bigint * interval '1 millisecond')"
    " ON CONFLICT (core_id) DO UPDATE SET addr = EXCLUDED.addr, expires_at = EXCLUDED.expires_at";
static const char SQL_CORE_SWEEP[] = "DELETE FROM cluster_cores WHERE expires_at < now()";
static const char SQL_CORE_GONE[] = "DELETE FROM cluster_cores WHERE core_id = $1";
static const char SQL_PEERS[] = "SELECT core_id, addr FROM cluster_cores"
                                " WHERE core_id <> $1 AND expires_at > now()"
                                " ORDER BY core_id LIMIT 64";
static const char SQL_SEQ[] =
    "UPDATE sessions SET seq_reserved = GREATEST(seq_reserved, $2::bigint) + $3::bigint"
    " WHERE id = $1 RETURNING seq_reserved";
/* Expired leases ($2 = '') or this core's own from before a restart ($2 =
 * core id): the rows go and their sessions' RUNNING turns become
 * INTERRUPTED in one statement. SKIP LOCKED: two sweepers split the work. */
#define SQL_TAKEOVER(cond)                                                                         \
    "WITH gone AS (DELETE FROM session_leases WHERE session_id IN ("                               \
    "  SELECT session_id FROM session_leases WHERE " cond " ORDER BY expires_at LIMIT 64"          \
    "  FOR UPDATE SKIP LOCKED) RETURNING session_id),"                                             \
    " upd AS (UPDATE messages m SET state = 6, error = $1 FROM gone"                               \
    "  WHERE m.session_id = gone.session_id AND m.state = 2 RETURNING m.id, m.session_id)"         \
    " SELECT 'l', session_id, 0 FROM gone UNION ALL SELECT 'm', session_id, id FROM upd"
static const char SQL_TAKEOVER_EXPIRED[] = SQL_TAKEOVER("expires_at < now() AND $2 = ''");
static const char SQL_TAKEOVER_OWN[] = SQL_TAKEOVER("owner = $2");
/* At start: turns RUNNING with no lease at all (a core stopped before the
 * lease table existed, or a single core's shutdown). */
static const char SQL_LEGACY[] =
    "UPDATE messages m SET state = 6, error = $1 WHERE state = 2 AND NOT EXISTS"
    " (SELECT 1 FROM session_leases l WHERE l.session_id = m.session_id)"
    " RETURNING 'm', session_id, id";
/* Acknowledged user turns that no core holds a lease for, older than $1
 * (the core that took them would have started them by then). */
static const char SQL_ORPHANS[] =
    "SELECT id, session_id, content FROM messages m WHERE state = 1 AND role = 1"
    " AND created_ms <= $1::bigint AND NOT EXISTS"
    " (SELECT 1 FROM session_leases l WHERE l.session_id = m.session_id)"
    " ORDER BY id LIMIT 64";

static const char INTERRUPTED_TEXT[] =
    "interrupted: the core running this turn stopped (its lease expired)";

struct lease {
    pthread_mutex_t mu; /* conn, held, stats */
    PGconn *conn;       /* NULL or broken: the next call connects */
    char *uri;          /* may hold a password: never logged */
    char core_id[LEASE_CORE_ID_MAX + 1];
    char addr[LEASE_ADDR_MAX + 1]; /* "" until lease_set_addr */
    uint32_t ttl_ms;
    char (*held)[LEASE_ID_MAX + 1]; /* sessions this core holds */
    size_t n_held, cap_held;
    lease_stats stats;
    lease_hooks hooks;
    pthread_t thread;
    int started;
    int stop;
    pthread_cond_t cv;
};

/* ---- connection -------------------------------------------------------------- */

static int connect_locked(lease *l)
{
    if (l->conn && PQstatus(l->conn) == CONNECTION_OK) return LEASE_OK;
    PQfinish(l->conn);
    char err[256];
    l->conn = pgconn_open(l->uri, "comfyd-lease", err, sizeof err);
    if (!l->conn) {
        LOG_E(MOD, "cannot connect to PostgreSQL: %s", err);
        return LEASE_EUNAVAIL;
    }
    return LEASE_OK;
}

/* Runs sql; *out (PQclear it) on LEASE_OK. */
static int run_locked(lease *l, const char *what, const char *sql, int n, const char *const *vals,
                      PGresult **out)
{
    *out = NULL;
    int rc = connect_locked(l);
    if (rc != LEASE_OK) return rc;
    PGresult *r = PQexecParams(l->conn, sql, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
        *out = r;
        return LEASE_OK;
    }
    char msg[256];
    LOG_E(MOD, "%s: %s", what, pgconn_msg(l->conn, r, msg, sizeof msg));
    rc = LEASE_EIO;
    if (pgconn_broken(l->conn, r)) {
        PQfinish(l->conn);
        l->conn = NULL;
        rc = LEASE_EUNAVAIL;
    }
    PQclear(r);
    return rc;
}

static int run(lease *l, const char *what, const char *sql, int n, const char *const *vals,
               PGresult **out)
{
    pthread_mutex_lock(&l->mu);
    int rc = run_locked(l, what, sql, n, vals, out);
    pthread_mutex_unlock(&l->mu);
    return rc;
}

/* ---- the held set --------------------------------------------------------------- */

static ssize_t held_find_locked(lease *l, const char *sid)
{
    for (size_t i = 0; i < l->n_held; i++)
        if (strcmp(l->held[i], sid) == 0) return (ssize_t)i;
    return -1;
}

static int held_add_locked(lease *l, const char *sid)
{
    if (held_find_locked(l, sid) >= 0) return LEASE_OK;
    if (l->n_held == l->cap_held) {
        size_t cap = l->cap_held ? l->cap_held * 2 : 16;
        void *grown = realloc(l->held, cap * sizeof *l->held);
        if (!grown) return LEASE_ENOMEM;
        l->held = grown;
        l->cap_held = cap;
    }
    snprintf(l->held[l->n_held++], sizeof l->held[0], "%s", sid);
    return LEASE_OK;
}

static void held_remove_locked(lease *l, const char *sid)
{
    ssize_t i = held_find_locked(l, sid);
    if (i < 0) return;
    memmove(&l->held[i], &l->held[i + 1], (l->n_held - (size_t)i - 1) * sizeof *l->held);
    l->n_held--;
}

/* ---- calls ---------------------------------------------------------------------- */

static int sid_ok(const char *sid)
{
    size_t n = sid ? strlen(sid) : 0;
    return n >= 1 && n <= LEASE_ID_MAX;
}

int lease_set_addr(lease *l, const char *addr)
{
    if (!l || !addr || !*addr || strlen(addr) > LEASE_ADDR_MAX || l->started) return LEASE_EINVAL;
    snprintf(l->addr, sizeof l->addr, "%s", addr);
    return LEASE_OK;
}

int lease_peers(lease *l, lease_peer_fn fn, void *ud)
{
    if (!l || !fn) return LEASE_EINVAL;
    const char *v[] = {l->core_id};
    PGresult *r;
    int rc = run(l, "list the live cores", SQL_PEERS, 1, v, &r);
    if (rc != LEASE_OK) return rc;
    for (int i = 0; i < PQntuples(r) && i < LEASE_MAX_PEERS; i++)
        fn(ud, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    PQclear(r);
    return LEASE_OK;
}

const char *lease_core_id(const lease *l)
{
    return l->core_id;
}

uint32_t lease_ttl_ms(const lease *l)
{
    return l->ttl_ms;
}

int lease_acquire(lease *l, const char *session_id)
{
    if (!l || !sid_ok(session_id)) return LEASE_EINVAL;
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%" PRIu32, l->ttl_ms);
    const char *v[] = {session_id, l->core_id, ttl};
    pthread_mutex_lock(&l->mu);
    PGresult *r;
    int rc = run_locked(l, "take a session lease", SQL_ACQUIRE, 3, v, &r);
    if (rc == LEASE_OK) {
        rc = PQntuples(r) == 1 ? held_add_locked(l, session_id) : LEASE_HELD;
        PQclear(r);
    }
    pthread_mutex_unlock(&l->mu);
    return rc;
}

int lease_holds(lease *l, const char *session_id)
{
    if (!l || !sid_ok(session_id)) return 0;
    pthread_mutex_lock(&l->mu);
    int yes = held_find_locked(l, session_id) >= 0;
    pthread_mutex_unlock(&l->mu);
    return yes;
}

int lease_release(lease *l, const char *session_id)
{
    if (!l || !sid_ok(session_id)) return LEASE_EINVAL;
    const char *v[] = {session_id, l->core_id};
    pthread_mutex_lock(&l->mu);
    held_remove_locked(l, session_id);
    PGresult *r;
    int rc = run_locked(l, "release a session lease", SQL_RELEASE, 2, v, &r);
    PQclear(r);
    pthread_mutex_unlock(&l->mu);
    return rc;
}

int lease_claim(lease *l, uint64_t msg_id)
{
    if (!l || msg_id == 0 || msg_id > INT64_MAX) return LEASE_EINVAL;
    char id[24];
    snprintf(id, sizeof id, "%" PRIu64, msg_id);
    const char *v[] = {id};
    PGresult *r;
    int rc = run(l, "claim a turn", SQL_CLAIM, 1, v, &r);
    if (rc != LEASE_OK) return rc;
    rc = strcmp(PQcmdTuples(r), "1") == 0 ? LEASE_OK : LEASE_GONE;
    PQclear(r);
    return rc;
}

int lease_reserve_seq(lease *l, const char *session_id, uint64_t floor, uint64_t block,
                      uint64_t *hi)
{
    if (!l || !sid_ok(session_id) || floor > INT64_MAX / 2 || block == 0 || block > INT64_MAX / 2)
        return LEASE_EINVAL;
    char f[24], b[24];
    snprintf(f, sizeof f, "%" PRIu64, floor);
    snprintf(b, sizeof b, "%" PRIu64, block);
    const char *v[] = {session_id, f, b};
    PGresult *r;
    int rc = run(l, "reserve event numbers", SQL_SEQ, 3, v, &r);
    if (rc != LEASE_OK) return rc;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return LEASE_GONE; /* the session was deleted */
    }
    *hi = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return LEASE_OK;
}

void lease_get_stats(lease *l, lease_stats *out)
{
    pthread_mutex_lock(&l->mu);
    *out = l->stats;
    pthread_mutex_unlock(&l->mu);
}

/* ---- the thread: renewals and sweeps --------------------------------------------- */

/* Renews every lease this core holds in one statement; the sessions the
 * answer leaves out were lost (taken after they expired). */
static void renew(lease *l)
{
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%" PRIu32, l->ttl_ms);
    const char *v[] = {l->core_id, ttl};
    char(*lost)[LEASE_ID_MAX + 1] = NULL;
    size_t n_lost = 0;
    pthread_mutex_lock(&l->mu);
    PGresult *cr;
    if (run_locked(l, "renew the canvas registry", SQL_CANVAS_RENEW, 2, v, &cr) == LEASE_OK)
        PQclear(cr);
    if (l->addr[0]) {
        const char *cv[] = {l->core_id, ttl, l->addr};
        if (run_locked(l, "renew this core's row", SQL_CORE_RENEW, 3, cv, &cr) == LEASE_OK)
            PQclear(cr);
    }
    if (l->n_held == 0) {
        pthread_mutex_unlock(&l->mu);
        return;
    }
    PGresult *r;
    if (run_locked(l, "renew the session leases", SQL_RENEW, 2, v, &r) != LEASE_OK) {
        pthread_mutex_unlock(&l->mu);
        return; /* tried again next tick; the sweeper elsewhere decides */
    }
    int nt = PQntuples(r);
    lost = malloc(l->n_held * sizeof *lost);
    for (size_t i = 0; lost && i < l->n_held;) {
        int found = 0;
        for (int k = 0; k < nt && !found; k++)
            found = strcmp(PQgetvalue(r, k, 0), l->held[i]) == 0;
        if (found) {
            i++;
            continue;
        }
        memcpy(lost[n_lost++], l->held[i], sizeof *lost);
        held_remove_locked(l, l->held[i]);
        l->stats.lost++;
    }
    PQclear(r);
    pthread_mutex_unlock(&l->mu);
    for (size_t i = 0; i < n_lost; i++) {
        LOG_W(MOD, "lost the lease of session %s (not renewed in time); stopping its turn",
              lost[i]);
        if (l->hooks.lost) l->hooks.lost(l->hooks.ud, lost[i]);
    }
    free(lost);
}

/* Runs a takeover statement and tells the hooks. */
static void takeover(lease *l, const char *sql, const char *owner, int nparams)
{
    const char *v[] = {INTERRUPTED_TEXT, owner};
    PGresult *r;
    if (run(l, "take over expired leases", sql, nparams, v, &r) != LEASE_OK) return;
    int nt = PQntuples(r);
    size_t n_leases = 0;
    for (int i = 0; i < nt; i++) {
        const char *what = PQgetvalue(r, i, 0), *sid = PQgetvalue(r, i, 1);
        if (what[0] == 'l') {
            n_leases++;
            LOG_W(MOD, "session %s: took over the lease of a core that stopped renewing it", sid);
            continue;
        }
        uint64_t id = strtoull(PQgetvalue(r, i, 2), NULL, 10);
        LOG_W(MOD, "session %s: turn %" PRIu64 " marked interrupted (its core stopped)", sid, id);
        if (l->hooks.interrupted) l->hooks.interrupted(l->hooks.ud, sid, id);
    }
    PQclear(r);
    pthread_mutex_lock(&l->mu);
    l->stats.takeovers += n_leases;
    pthread_mutex_unlock(&l->mu);
}

/* Canvas rows of cores that stopped renewing them, and those cores. */
static void sweep_canvases(lease *l)
{
    PGresult *r;
    if (run(l, "sweep the live cores", SQL_CORE_SWEEP, 0, NULL, &r) == LEASE_OK) PQclear(r);
    if (run(l, "sweep the canvas registry", SQL_CANVAS_SWEEP, 0, NULL, &r) != LEASE_OK) return;
    uint64_t n = strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    if (!n) return;
    LOG_W(MOD,
          "%" PRIu64 " canvas(es) of a core that stopped renewing them dropped from the registry",
          n);
    pthread_mutex_lock(&l->mu);
    l->stats.canvases_expired += n;
    pthread_mutex_unlock(&l->mu);
}

static void offer_orphans(lease *l, int64_t grace_ms)
{
    char before[24];
    snprintf(before, sizeof before, "%lld", (long long)(text_now_ms() - grace_ms));
    const char *v[] = {before};
    PGresult *r;
    if (run(l, "find orphaned turns", SQL_ORPHANS, 1, v, &r) != LEASE_OK) return;
    int nt = PQntuples(r);
    for (int i = 0; i < nt; i++) {
        uint64_t id = strtoull(PQgetvalue(r, i, 0), NULL, 10);
        const char *sid = PQgetvalue(r, i, 1);
        LOG_I(MOD, "session %s: queued turn %" PRIu64 " has no core; queueing it here", sid, id);
        if (l->hooks.orphan) l->hooks.orphan(l->hooks.ud, sid, id, PQgetvalue(r, i, 2));
    }
    PQclear(r);
    pthread_mutex_lock(&l->mu);
    l->stats.orphans += (uint64_t)nt;
    pthread_mutex_unlock(&l->mu);
}

static void *lease_main(void *arg)
{
    lease *l = arg;
    /* First pass at once: what a stopped core left (a restart of this one
     * included) runs without waiting a lease's lifetime. */
    takeover(l, SQL_LEGACY, NULL, 1);
    offer_orphans(l, 0);
    renew(l); /* this core's row in cluster_cores at once */
    uint32_t tick = l->ttl_ms / 3;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        struct timespec ts = text_realtime_after(tick);
        int rc = 0;
        while (!l->stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&l->cv, &l->mu, &ts);
        if (l->stop) break;
        pthread_mutex_unlock(&l->mu);
        renew(l);
        takeover(l, SQL_TAKEOVER_EXPIRED, "", 2);
        sweep_canvases(l);
        offer_orphans(l, l->ttl_ms);
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* ---- open and close ------------------------------------------------------------- */

int lease_open(lease **out, const char *conninfo, const char *core_id, uint32_t ttl_ms, char *err,
               size_t errlen)
{
    *out = NULL;
    size_t idlen = core_id ? strlen(core_id) : 0;
    if (!conninfo || idlen == 0 || idlen > LEASE_CORE_ID_MAX || ttl_ms < LEASE_TTL_MIN_MS ||
        ttl_ms > LEASE_TTL_MAX_MS) {
        snprintf(err, errlen, "bad lease arguments");
        return LEASE_EINVAL;
    }
    lease *l = calloc(1, sizeof *l);
    if (!l || !(l->uri = text_dup(conninfo))) {
        free(l);
        return LEASE_ENOMEM;
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    memcpy(l->core_id, core_id, idlen + 1);
    l->ttl_ms = ttl_ms;
    /* The table is the store's (schema 7): the store is opened first. */
    pthread_mutex_lock(&l->mu);
    int rc = connect_locked(l);
    pthread_mutex_unlock(&l->mu);
    if (rc != LEASE_OK) {
        snprintf(err, errlen, "cannot connect to the database (see the log)");
        lease_close(l);
        return rc;
    }
    /* This core's leases from before a restart: nobody renews them. */
    takeover(l, SQL_TAKEOVER_OWN, l->core_id, 2);
    const char *own[] = {l->core_id};
    PGresult *cr;
    if (run(l, "drop this core's old canvas rows", SQL_CANVAS_OWN, 1, own, &cr) == LEASE_OK)
        PQclear(cr);
    *out = l;
    return LEASE_OK;
}

int lease_start(lease *l, const lease_hooks *hooks)
{
    if (!l || l->started) return LEASE_EINVAL;
    if (hooks) l->hooks = *hooks;
    if (pthread_create(&l->thread, NULL, lease_main, l) != 0) return LEASE_ENOMEM;
    l->started = 1;
    return LEASE_OK;
}

void lease_stop(lease *l)
{
    if (!l || !l->started) return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    l->started = 0;
}

void lease_close(lease *l)
{
    if (!l) return;
    lease_stop(l);
    if (l->addr[0] && l->conn) {
        /* A core that stops says so; one that dies is swept. */
        const char *v[] = {l->core_id};
        PGresult *r;
        if (run(l, "remove this core's row", SQL_CORE_GONE, 1, v, &r) == LEASE_OK) PQclear(r);
    }
    PQfinish(l->conn);
    free(l->uri);
    free(l->held);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

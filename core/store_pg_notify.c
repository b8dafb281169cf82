#include "store_pg_notify.h"

#include "log.h"
#include "pgconn.h"
#include "text.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MOD "notify"
#define PGNOTIFY_SID_MAX 39 /* store.h's STORE_ID_MAX */
#define PGNOTIFY_CORE_MAX 200
#define PGNOTIFY_POLL_MS 500      /* how soon the listener sees a close */
#define PGNOTIFY_SPILL_SWEEP_S 60 /* between two deletions of old spilled rows */
/* A payload is "SESSION DATA CORE": the session id is a UUID and DATA is
 * base64 or "@ID", neither holds a space; the core name is the rest. */
static const char SQL_INLINE[] = "SELECT pg_notify($1, $2)";
static const char SQL_SPILL[] =
    "WITH s AS (INSERT INTO session_event_spill(payload) VALUES ($3) RETURNING id)"
    " SELECT pg_notify($1, $2 || ' @' || s.id || ' ' || $4) FROM s";
static const char SQL_SPILL_GET[] = "SELECT payload FROM session_event_spill WHERE id = $1";
static const char SQL_SPILL_SWEEP[] =
    "DELETE FROM session_event_spill WHERE created < now() - $1::bigint * interval '1 second'";

typedef struct item {
    struct item *next;
    char sid[PGNOTIFY_SID_MAX + 1];
    char word[PGNOTIFY_WORD_MAX + 1]; /* a control word instead of an event ("" for events) */
    int64_t queued_ms;
    size_t len;
    uint8_t data[]; /* the packed event */
} item;

struct pgnotify {
    char *uri; /* may hold a password: never logged */
    char core_id[PGNOTIFY_CORE_MAX + 1];
    pgnotify_fn fn;
    pgnotify_control_fn control; /* guarded by mu */
    void *ud;
    pthread_mutex_t mu; /* the queue, stop, stats */
    pthread_cond_t cv;
    item *head, *tail;
    size_t qlen;
    int stop;
    pgnotify_stats stats;
    pthread_t sender, listener;
    int sender_started, listener_started;
};

/* ---- base64 ------------------------------------------------------------------- */

static int b64val(int ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
}

/* Decodes n characters of padded base64 into out (room for n / 4 * 3).
 * Returns the byte count, or -1 when it is not base64. */
static long b64_decode(const char *s, size_t n, uint8_t *out)
{
    if (n % 4) return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad || (v[k] = b64val((unsigned char)s[i + k])) < 0) return -1;
        }
        uint32_t x =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[o++] = (uint8_t)(x >> 16);
        if (pad < 2) out[o++] = (uint8_t)(x >> 8);
        if (pad < 1) out[o++] = (uint8_t)x;
    }
    return (long)o;
}

/* ---- the sender --------------------------------------------------------------- */

static int sleep_or_stop(pgnotify *n, uint32_t ms)
{
    struct timespec ts = text_realtime_after(ms);
    pthread_mutex_lock(&n->mu);
    int rc = 0;
    while (!n->stop && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&n->cv, &n->mu, &ts);
    int stop = n->stop;
    pthread_mutex_unlock(&n->mu);
    return stop;
}

static void count_sent(pgnotify *n, const item *it)
{
    pthread_mutex_lock(&n->mu);
    n->stats.sent++;
    if (it->len > PGNOTIFY_INLINE_MAX) n->stats.spilled++;
    int64_t lag = text_now_ms() - it->queued_ms;
    n->stats.last_send_lag_ms = lag > 0 ? (uint64_t)lag : 0;
    pthread_mutex_unlock(&n->mu);
}

/* Sends one event; 0, or -1 when the connection broke (it is closed). */
static int send_one(pgnotify *n, PGconn **conn, const item *it)
{
    text_buf b = {0};
    PGresult *r;
    if (it->len <= PGNOTIFY_INLINE_MAX) {
        text_buf_add(&b, it->sid);
        text_buf_add(&b, " ");
        text_buf_add_base64(&b, it->data, it->len);
        text_buf_add(&b, " ");
        text_buf_add(&b, n->core_id);
        if (b.oom) {
            text_buf_free(&b);
            return 0;
        }
        const char *v[] = {PGNOTIFY_CHANNEL, b.p};
        r = PQexecParams(*conn, SQL_INLINE, 2, NULL, v, NULL, NULL, 0);
    } else {
        const char *v[] = {PGNOTIFY_CHANNEL, it->sid, (const char *)it->data, n->core_id};
        int lens[] = {0, 0, (int)it->len, 0};
        int fmts[] = {0, 0, 1, 0};
        r = PQexecParams(*conn, SQL_SPILL, 4, NULL, v, lens, fmts, 0);
    }
    text_buf_free(&b);
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        PQclear(r);
        count_sent(n, it);
        return 0;
    }
    char msg[256];
    LOG_E(MOD, "cannot send an event of session %s to the other cores: %s", it->sid,
          pgconn_msg(*conn, r, msg, sizeof msg));
    int broken = pgconn_broken(*conn, r);
    PQclear(r);
    pthread_mutex_lock(&n->mu);
    n->stats.dropped++;
    pthread_mutex_unlock(&n->mu);
    if (!broken) return 0;
    PQfinish(*conn);
    *conn = NULL;
    return -1;
}

/* The inline events first..end as one simple-protocol string of NOTIFYs
 * (one implicit transaction: delivered together, in order). Returns 0, or
 * -1 when the connection broke (it is closed). */
static int send_inline_run(pgnotify *n, PGconn **conn, const item *first, const item *end)
{
    text_buf sql = {0}, pay = {0};
    for (const item *it = first; it != end; it = it->next) {
        text_buf_reset(&pay);
        text_buf_add(&pay, it->sid);
        text_buf_add(&pay, " ");
        if (it->word[0]) {
            text_buf_add(&pay, "!");
            text_buf_add(&pay, it->word);
        } else {
            text_buf_add_base64(&pay, it->data, it->len);
        }
        text_buf_add(&pay, " ");
        text_buf_add(&pay, n->core_id);
        char *lit = pay.oom ? NULL : PQescapeLiteral(*conn, pay.p, pay.n);
        if (lit) {
            text_buf_add(&sql, "NOTIFY " PGNOTIFY_CHANNEL ", ");
            text_buf_add(&sql, lit);
            text_buf_add(&sql, ";");
            PQfreemem(lit);
        }
    }
    text_buf_free(&pay);
    if (sql.oom || !sql.p) {
        text_buf_free(&sql);
        return 0;
    }
    PGresult *r = PQexec(*conn, sql.p);
    text_buf_free(&sql);
    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        PQclear(r);
        for (const item *it = first; it != end; it = it->next)
            count_sent(n, it);
        return 0;
    }
    char msg[256];
    LOG_E(MOD, "cannot send events to the other cores: %s", pgconn_msg(*conn, r, msg, sizeof msg));
    int broken = pgconn_broken(*conn, r);
    PQclear(r);
    pthread_mutex_lock(&n->mu);
    for (const item *it = first; it != end; it = it->next)
        n->stats.dropped++;
    pthread_mutex_unlock(&n->mu);
    if (!broken) return 0;
    PQfinish(*conn);
    *conn = NULL;
    return -1;
}

/* Sends a list in order: runs of inline events in one round trip each,
 * a spilled event on its own. */
static void send_batch(pgnotify *n, PGconn **conn, const item *list)
{
    const item *it = list;
    while (it && *conn) {
        if (it->len > PGNOTIFY_INLINE_MAX) {
            send_one(n, conn, it);
            it = it->next;
            continue;
        }
        const item *end = it;
        while (end && end->len <= PGNOTIFY_INLINE_MAX)
            end = end->next;
        send_inline_run(n, conn, it, end);
        it = end;
    }
}

static void *sender_main(void *arg)
{
    pgnotify *n = arg;
    PGconn *conn = NULL;
    int64_t last_sweep = 0;
    for (;;) {
        pthread_mutex_lock(&n->mu);
        while (!n->stop && !n->head)
            pthread_cond_wait(&n->cv, &n->mu);
        if (n->stop) {
            pthread_mutex_unlock(&n->mu);
            break;
        }
        pthread_mutex_unlock(&n->mu);
        if (!conn) {
            char err[256];
            conn = pgconn_open(n->uri, "comfyd-notify", err, sizeof err);
            if (!conn) {
                LOG_E(MOD, "cannot connect to PostgreSQL to send events: %s", err);
                if (sleep_or_stop(n, PGNOTIFY_RETRY_MS)) break;
                continue;
            }
        }
        /* Everything waiting, up to a batch: a burst of tokens costs one
         * round trip, not one per token. */
        pthread_mutex_lock(&n->mu);
        item *batch = n->head, *last = NULL;
        size_t nb = 0;
        for (item *it = n->head; it && nb < PGNOTIFY_BATCH_MAX; it = it->next) {
            last = it;
            nb++;
        }
        if (last) {
            n->head = last->next;
            if (!n->head) n->tail = NULL;
            last->next = NULL;
            n->qlen -= nb;
        }
        pthread_mutex_unlock(&n->mu);
        send_batch(n, &conn, batch);
        while (batch) {
            item *next = batch->next;
            free(batch);
            batch = next;
        }
        int64_t now = text_now_ms();
        if (conn && now - last_sweep > PGNOTIFY_SPILL_SWEEP_S * 1000) {
            last_sweep = now;
            char keep[24];
            snprintf(keep, sizeof keep, "%d", PGNOTIFY_SPILL_KEEP_S);
            const char *v[] = {keep};
            PQclear(PQexecParams(conn, SQL_SPILL_SWEEP, 1, NULL, v, NULL, NULL, 0));
        }
    }
    PQfinish(conn);
    return NULL;
}

static int enqueue(pgnotify *n, const char *session_id, const char *word, const void *event,
                   size_t len)
{
    size_t sl = session_id ? strlen(session_id) : 0, wl = strlen(word);
    if (!n || sl == 0 || sl > PGNOTIFY_SID_MAX || len > PGNOTIFY_EVENT_MAX ||
        wl > PGNOTIFY_WORD_MAX || strchr(word, ' '))
        return -1;
    item *it = malloc(sizeof *it + len);
    if (!it) return -1;
    it->next = NULL;
    memcpy(it->sid, session_id, sl + 1);
    memcpy(it->word, word, wl + 1);
    it->queued_ms = text_now_ms();
    it->len = len;
    if (len) memcpy(it->data, event, len);
    pthread_mutex_lock(&n->mu);
    if (n->qlen >= PGNOTIFY_QUEUE_MAX || n->stop) {
        n->stats.dropped++;
        pthread_mutex_unlock(&n->mu);
        free(it);
        return -1;
    }
    if (n->tail)
        n->tail->next = it;
    else
        n->head = it;
    n->tail = it;
    n->qlen++;
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->mu);
    return 0;
}

int pgnotify_publish(pgnotify *n, const char *session_id, const void *event, size_t len)
{
    return enqueue(n, session_id, "", event, len);
}

int pgnotify_send_control(pgnotify *n, const char *session_id, const char *word)
{
    return word && *word ? enqueue(n, session_id, word, NULL, 0) : -1;
}

void pgnotify_set_control(pgnotify *n, pgnotify_control_fn fn)
{
    pthread_mutex_lock(&n->mu);
    n->control = fn;
    pthread_mutex_unlock(&n->mu);
}

/* ---- the listener ------------------------------------------------------------- */

static void deliver(pgnotify *n, PGconn *conn, const char *payload)
{
    const char *sp1 = strchr(payload, ' ');
    const char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || sp1 == payload || (size_t)(sp1 - payload) > PGNOTIFY_SID_MAX) {
        LOG_W(MOD, "ignored a malformed event notification");
        return;
    }
    if (strcmp(sp2 + 1, n->core_id) == 0) return; /* our own */
    char sid[PGNOTIFY_SID_MAX + 1];
    memcpy(sid, payload, (size_t)(sp1 - payload));
    sid[sp1 - payload] = 0;
    const char *data = sp1 + 1;
    size_t dlen = (size_t)(sp2 - data);
    if (dlen > 1 && data[0] == '!') {
        char word[PGNOTIFY_WORD_MAX + 1];
        if (dlen - 1 > PGNOTIFY_WORD_MAX) return;
        memcpy(word, data + 1, dlen - 1);
        word[dlen - 1] = 0;
        pthread_mutex_lock(&n->mu);
        pgnotify_control_fn fn = n->control;
        pthread_mutex_unlock(&n->mu);
        if (fn) fn(n->ud, sid, word);
    } else if (dlen > 1 && data[0] == '@') {
        char id[24];
        if (dlen - 1 >= sizeof id) return;
        memcpy(id, data + 1, dlen - 1);
        id[dlen - 1] = 0;
        const char *v[] = {id};
        PGresult *r = PQexecParams(conn, SQL_SPILL_GET, 1, NULL, v, NULL, NULL, 1);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            n->fn(n->ud, sid, (const uint8_t *)PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
        else
            LOG_W(MOD, "session %s: a spilled event is gone (%s)", sid, id);
        PQclear(r);
    } else {
        uint8_t *buf = malloc(dlen / 4 * 3 + 3);
        long got = buf ? b64_decode(data, dlen, buf) : -1;
        if (got >= 0)
            n->fn(n->ud, sid, buf, (size_t)got);
        else
            LOG_W(MOD, "session %s: ignored an event that is not base64", sid);
        free(buf);
    }
    pthread_mutex_lock(&n->mu);
    n->stats.received++;
    pthread_mutex_unlock(&n->mu);
}

static PGconn *listen_connect(pgnotify *n)
{
    char err[256];
    PGconn *c = pgconn_open(n->uri, "comfyd-listen", err, sizeof err);
    if (!c) {
        LOG_E(MOD, "cannot connect to PostgreSQL to receive events: %s", err);
        return NULL;
    }
    PGresult *r = PQexec(c, "LISTEN " PGNOTIFY_CHANNEL);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) LOG_E(MOD, "LISTEN failed: %s", pgconn_msg(c, r, err, sizeof err));
    PQclear(r);
    if (!ok) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

static void *listener_main(void *arg)
{
    pgnotify *n = arg;
    PGconn *conn = NULL;
    for (;;) {
        pthread_mutex_lock(&n->mu);
        int stop = n->stop;
        pthread_mutex_unlock(&n->mu);
        if (stop) break;
        if (!conn) {
            conn = listen_connect(n);
            if (!conn) {
                if (sleep_or_stop(n, PGNOTIFY_RETRY_MS)) break;
                continue;
            }
            LOG_I(MOD, "receiving the other cores' session events");
        }
        struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
        int pr = poll(&pfd, 1, PGNOTIFY_POLL_MS);
        if (pr < 0 && errno != EINTR) pr = 1; /* let libpq find the error */
        if (pr <= 0) continue;
        if (!PQconsumeInput(conn)) {
            char msg[256];
            LOG_E(MOD, "lost the event connection: %s", pgconn_msg(conn, NULL, msg, sizeof msg));
            PQfinish(conn);
            conn = NULL;
            continue;
        }
        PGnotify *nt;
        while ((nt = PQnotifies(conn)) != NULL) {
            deliver(n, conn, nt->extra);
            PQfreemem(nt);
        }
    }
    PQfinish(conn);
    return NULL;
}

/* ---- open and close ----------------------------------------------------------- */

int pgnotify_open(pgnotify **out, const char *conninfo, const char *core_id, pgnotify_fn fn,
                  void *ud, char *err, size_t errlen)
{
    *out = NULL;
    size_t cl = core_id ? strlen(core_id) : 0;
    if (!conninfo || !fn || cl == 0 || cl > PGNOTIFY_CORE_MAX) {
        snprintf(err, errlen, "bad arguments");
        return -1;
    }
    pgnotify *n = calloc(1, sizeof *n);
    if (!n || !(n->uri = text_dup(conninfo))) {
        free(n);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(n->core_id, core_id, cl + 1);
    n->fn = fn;
    n->ud = ud;
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cv, NULL);

    if (pthread_create(&n->sender, NULL, sender_main, n) == 0) n->sender_started = 1;
    if (pthread_create(&n->listener, NULL, listener_main, n) == 0) n->listener_started = 1;
    if (!n->sender_started || !n->listener_started) {
        snprintf(err, errlen, "cannot start a thread");
        pgnotify_close(n);
        return -1;
    }
    *out = n;
    return 0;
}

void pgnotify_get_stats(pgnotify *n, pgnotify_stats *out)
{
    pthread_mutex_lock(&n->mu);
    *out = n->stats;
    pthread_mutex_unlock(&n->mu);
}

void pgnotify_close(pgnotify *n)
{
    if (!n) return;
    pthread_mutex_lock(&n->mu);
    n->stop = 1;
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
    if (n->sender_started) pthread_join(n->sender, NULL);
    if (n->listener_started) pthread_join(n->listener, NULL);
    while (n->head) {
        item *it = n->head;
        n->head = it->next;
        free(it);
    }
    free(n->uri);
    pthread_cond_destroy(&n->cv);
    pthread_mutex_destroy(&n->mu);
    free(n);
}

/* store_sqlite_keys: counters and idempotency keys (the graph service) and
 * the attachments of messages on SQLite (store.h). */
#include "store_sqlite_int.h"

/* ---- counters and idempotency keys (the graph service) ------------------- */

int sq_counter_get(store *base, const char *name, uint64_t *out)
{
    sq *st = (sq *)base;
    if (!out) return STORE_EINVAL;
    *out = 0;
    if (!st || !name || !store_text_ok(name, STORE_ID_MAX)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_C_GET];
    sq_bind_text(q, 1, name);
    int rc = sqlite3_step(q), err = STORE_OK;
    if (rc == SQLITE_ROW) {
        sqlite3_int64 v = sqlite3_column_int64(q, 0);
        *out = v > 0 ? (uint64_t)v : 0;
    } else if (rc != SQLITE_DONE) {
        err = sq_sql_fail(st, rc, "get counter");
    }
    sq_q_done(q);
    pthread_mutex_unlock(&st->mu);
    return err;
}

int sq_counter_raise(store *base, const char *name, uint64_t value)
{
    sq *st = (sq *)base;
    if (!st || !name || !store_text_ok(name, STORE_ID_MAX) || !store_u63_ok(value))
        return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_C_RAISE];
    sq_bind_text(q, 1, name);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)value);
    int err = sq_q_exec(st, q, "raise counter");
    pthread_mutex_unlock(&st->mu);
    return err;
}

int sq_idem_put(store *base, const store_idem *e)
{
    sq *st = (sq *)base;
    if (!st || !store_idem_ok(e)) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_I_PUT];
    sqlite3_bind_blob(q, 1, e->scope, (int)e->scope_len, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, e->req_hash, STORE_IDEM_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, e->err);
    sqlite3_bind_int(q, 4, e->code);
    sq_bind_text(q, 5, e->message);
    if (e->resp_len)
        sqlite3_bind_blob(q, 6, e->resp, (int)e->resp_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 6);
    sqlite3_bind_int64(q, 7, e->created_ms);
    int err = sq_q_exec(st, q, "put idempotency key");
    pthread_mutex_unlock(&st->mu);
    return err;
}

int sq_idem_delete(store *base, const void *scope, size_t len)
{
    sq *st = (sq *)base;
    if (!st || !scope || len < 1 || len > STORE_IDEM_SCOPE_MAX) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *q = st->q[Q_I_DELETE];
    sqlite3_bind_blob(q, 1, scope, (int)len, SQLITE_STATIC);
    int err = sq_q_exec(st, q, "delete idempotency key");
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
    if (err == STORE_OK) err = sq_col_dup(q, 4, 0, &e->message);
    if (err == STORE_OK) err = col_blob(q, 5, &e->resp, &e->resp_len);
    e->created_ms = sqlite3_column_int64(q, 6);
    if (err != STORE_OK) store_idem_clear(e);
    return err;
}

int sq_idem_load(store *base, int64_t min_created_ms, size_t max_keys, store_idem **out, size_t *n)
{
    sq *st = (sq *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!st || max_keys > (size_t)INT32_MAX) return STORE_EINVAL;
    pthread_mutex_lock(&st->mu);
    int err = sq_tx_begin(st);
    if (err == STORE_OK) {
        sqlite3_bind_int64(st->q[Q_I_PRUNE_AGE], 1, min_created_ms);
        err = sq_q_exec(st, st->q[Q_I_PRUNE_AGE], "prune idempotency keys by age");
    }
    if (err == STORE_OK) {
        sqlite3_bind_int64(st->q[Q_I_PRUNE_COUNT], 1, (sqlite3_int64)max_keys);
        err = sq_q_exec(st, st->q[Q_I_PRUNE_COUNT], "prune idempotency keys by count");
    }
    if (err == STORE_OK)
        err = sq_tx_commit(st);
    else
        sq_tx_rollback(st);
    store_idem *list = NULL;
    size_t len = 0, cap = 0, bad = 0;
    sqlite3_stmt *q = st->q[Q_I_LOAD];
    while (err == STORE_OK) {
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_ROW) {
            err = sq_sql_fail(st, rc, "load idempotency keys");
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
    sq_q_done(q);
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

int sq_attachments_load(store *base, uint64_t message_id, store_attachment **out, size_t *n)
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
    int err = rc == SQLITE_OK ? STORE_OK : sq_sql_fail(st, rc, "prepare attachment load");
    store_attachment *list = NULL;
    size_t len = 0, cap = 0;
    if (err == STORE_OK) sqlite3_bind_int64(q, 1, (int64_t)message_id);
    while (err == STORE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        err = sq_grow((void **)&list, &cap, len + 1, sizeof *list);
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
        err = sq_col_dup(q, 2, 1, &a->name);
        if (err != STORE_OK) break;
        int64_t sz = sqlite3_column_int64(q, 3);
        a->size = sz < 0 ? 0 : (uint64_t)sz;
        a->width = (uint32_t)sqlite3_column_int64(q, 4);
        a->height = (uint32_t)sqlite3_column_int64(q, 5);
        len++;
    }
    if (err == STORE_OK && rc != SQLITE_DONE) err = sq_sql_fail(st, rc, "load attachments");
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

int sq_attachment_hashes(store *base, char ***out, size_t *n)
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
    int err = rc == SQLITE_OK ? STORE_OK : sq_sql_fail(st, rc, "prepare attachment hashes");
    char **list = NULL;
    size_t len = 0, cap = 0;
    while (err == STORE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        err = sq_grow((void **)&list, &cap, len + 1, sizeof *list);
        if (err == STORE_OK) err = sq_col_dup(q, 0, 1, &list[len]);
        if (err == STORE_OK) len++;
    }
    if (err == STORE_OK && rc != SQLITE_DONE) err = sq_sql_fail(st, rc, "attachment hashes");
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

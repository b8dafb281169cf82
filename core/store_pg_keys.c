/* store_pg_keys: counters and idempotency keys (the graph service) on
 * PostgreSQL (store.h). */
#include "store_pg_int.h"

/* ---- counters and idempotency keys ----------------------------------------- */

int pg_counter_get(store *base, const char *name, uint64_t *out)
{
    pg *p = (pg *)base;
    if (!out) return STORE_EINVAL;
    *out = 0;
    if (!p || !name || !store_text_ok(name, STORE_ID_MAX)) return STORE_EINVAL;
    params ps = {0};
    pg_p_text(&ps, name);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = pg_run(p, "get counter", "SELECT value FROM counters WHERE name = $1", &ps, &r);
    if (err == STORE_OK && PQntuples(r) == 1) {
        int64_t v = pg_col_i64(r, 0, 0);
        *out = v > 0 ? (uint64_t)v : 0;
    }
    PQclear(r);
    pthread_mutex_unlock(&p->mu);
    return err;
}

int pg_counter_raise(store *base, const char *name, uint64_t value)
{
    pg *p = (pg *)base;
    if (!p || !name || !store_text_ok(name, STORE_ID_MAX) || !store_u63_ok(value))
        return STORE_EINVAL;
    params ps = {0};
    pg_p_text(&ps, name);
    pg_p_i64(&ps, (int64_t)value);
    pthread_mutex_lock(&p->mu);
    int err = pg_run_cmd(p, "raise counter",
                         "INSERT INTO counters(name, value) VALUES($1, $2::bigint)"
                         " ON CONFLICT(name) DO UPDATE SET"
                         " value = GREATEST(counters.value, excluded.value)",
                         &ps, NULL);
    pthread_mutex_unlock(&p->mu);
    return err;
}

int pg_idem_put(store *base, const store_idem *e)
{
    pg *p = (pg *)base;
    if (!p || !store_idem_ok(e)) return STORE_EINVAL;
    params ps = {0};
    pg_p_bytes(&ps, e->scope, e->scope_len);
    pg_p_bytes(&ps, e->req_hash, STORE_IDEM_HASH_LEN);
    pg_p_i64(&ps, e->err);
    pg_p_i64(&ps, e->code);
    pg_p_text(&ps, e->message);
    pg_p_bytes(&ps, e->resp_len ? e->resp : NULL, e->resp_len);
    pg_p_i64(&ps, e->created_ms);
    pthread_mutex_lock(&p->mu);
    int err =
        pg_run_cmd(p, "put idempotency key",
                   "INSERT INTO idem_keys(scope, req_hash, err, code, message, resp, created_ms)"
                   " VALUES($1, $2, $3::int, $4::int, $5, $6, $7::bigint)"
                   " ON CONFLICT(scope) DO UPDATE SET req_hash = excluded.req_hash,"
                   " err = excluded.err, code = excluded.code, message = excluded.message,"
                   " resp = excluded.resp, created_ms = excluded.created_ms, seq = DEFAULT",
                   &ps, NULL);
    pthread_mutex_unlock(&p->mu);
    return err;
}

int pg_idem_delete(store *base, const void *scope, size_t len)
{
    pg *p = (pg *)base;
    if (!p || !scope || len < 1 || len > STORE_IDEM_SCOPE_MAX) return STORE_EINVAL;
    params ps = {0};
    pg_p_bytes(&ps, scope, len);
    pthread_mutex_lock(&p->mu);
    int err = pg_run_cmd(p, "delete idempotency key", "DELETE FROM idem_keys WHERE scope = $1", &ps,
                         NULL);
    pthread_mutex_unlock(&p->mu);
    return err;
}

/* One idem_keys row; STORE_EIO for a row we did not write. */
static int read_idem(const PGresult *r, int row, store_idem *e)
{
    memset(e, 0, sizeof *e);
    uint8_t *scope = NULL, *hash = NULL;
    size_t sl = 0, hl = 0;
    int err = pg_col_bytes(r, row, 0, &scope, &sl);
    e->scope = (char *)scope;
    e->scope_len = sl;
    if (err == STORE_OK && (sl < 1 || sl > STORE_IDEM_SCOPE_MAX)) err = STORE_EIO;
    if (err == STORE_OK) err = pg_col_bytes(r, row, 1, &hash, &hl);
    if (err == STORE_OK && hl != STORE_IDEM_HASH_LEN) err = STORE_EIO;
    if (err == STORE_OK) memcpy(e->req_hash, hash, STORE_IDEM_HASH_LEN);
    free(hash);
    e->err = (int)pg_col_i64(r, row, 2);
    e->code = (int)pg_col_i64(r, row, 3);
    if (err == STORE_OK) err = pg_col_dup(r, row, 4, 0, &e->message);
    if (err == STORE_OK) err = pg_col_bytes(r, row, 5, &e->resp, &e->resp_len);
    e->created_ms = pg_col_i64(r, row, 6);
    if (err != STORE_OK) store_idem_clear(e);
    return err;
}

int pg_idem_load(store *base, int64_t min_created_ms, size_t max_keys, store_idem **out, size_t *n)
{
    pg *p = (pg *)base;
    if (!out || !n) return STORE_EINVAL;
    *out = NULL;
    *n = 0;
    if (!p || max_keys > (size_t)INT32_MAX) return STORE_EINVAL;
    params age = {0}, count = {0};
    pg_p_i64(&age, min_created_ms);
    pg_p_i64(&count, (int64_t)max_keys);
    pthread_mutex_lock(&p->mu);
    /* Each prune is atomic; one done without the other only keeps keys a
     * while longer. */
    int err = pg_run_cmd(p, "prune idempotency keys by age",
                         "DELETE FROM idem_keys WHERE created_ms < $1::bigint", &age, NULL);
    if (err == STORE_OK)
        err = pg_run_cmd(p, "prune idempotency keys by count",
                         "DELETE FROM idem_keys WHERE scope IN (SELECT scope FROM idem_keys"
                         " ORDER BY created_ms DESC, seq DESC OFFSET $1::bigint)",
                         &count, NULL);
    PGresult *r = NULL;
    if (err == STORE_OK)
        err = pg_run(p, "load idempotency keys",
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

int pg_idem_get(store *base, const void *scope, size_t len, int64_t min_created_ms, store_idem *out)
{
    pg *p = (pg *)base;
    params ps = {0};
    pg_p_bytes(&ps, scope, len);
    pg_p_i64(&ps, min_created_ms);
    pthread_mutex_lock(&p->mu);
    PGresult *r = NULL;
    int err = pg_run(p, "read an idempotency key",
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

/* canvas_idem: the canvas manager's idempotency keys (canvas_idem.h). */
#include "canvas_idem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "log.h"
#include "text.h"

#define MOD "canvas"

struct canvas_idem {
    store *db; /* borrowed; NULL: nothing persists */
    size_t max_keys;
    uint64_t max_age_ms;
    pthread_mutex_t mu;
    idem **buckets;
    size_t n_buckets;
    idem *lru_head, *lru_tail;
    size_t n_idem, idem_bytes;
};

/* A small control structure: out-of-memory ends the process, as in the
 * rest of the canvas manager (canvas_int.h). */
static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) abort();
    return p;
}

static char *xstrdup(const char *s)
{
    return text_dup(s ? s : "");
}

static uint64_t fnv1a(const void *p, size_t len, uint64_t h)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void pb_free(void *m)
{
    if (m) protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- idempotency ---- */

static const ProtobufCMessageDescriptor *resp_desc(req_kind rk)
{
    switch (rk) {
    case RK_EXECUTE:
        return &comfyd__v1__execute_response__descriptor;
    case RK_BATCH:
        return &comfyd__v1__execute_batch_response__descriptor;
    case RK_QUEUE:
        return &comfyd__v1__queue_response__descriptor;
    default:
        return &comfyd__v1__load_response__descriptor;
    }
}

void idem_set_replayed(ProtobufCMessage *r, int v)
{
    if (!r) return;
    if (r->descriptor == &comfyd__v1__execute_response__descriptor)
        ((Comfyd__V1__ExecuteResponse *)r)->replayed = v;
    else if (r->descriptor == &comfyd__v1__execute_batch_response__descriptor)
        ((Comfyd__V1__ExecuteBatchResponse *)r)->replayed = v;
    else if (r->descriptor == &comfyd__v1__queue_response__descriptor)
        ((Comfyd__V1__QueueResponse *)r)->replayed = v;
    else if (r->descriptor == &comfyd__v1__load_response__descriptor)
        ((Comfyd__V1__LoadResponse *)r)->replayed = v;
}

static void lru_unlink(canvas_idem *m, idem *e)
{
    if (e->lprev)
        e->lprev->lnext = e->lnext;
    else
        m->lru_head = e->lnext;
    if (e->lnext)
        e->lnext->lprev = e->lprev;
    else
        m->lru_tail = e->lprev;
    e->lprev = e->lnext = NULL;
}

static void lru_front(canvas_idem *m, idem *e)
{
    e->lnext = m->lru_head;
    e->lprev = NULL;
    if (m->lru_head) m->lru_head->lprev = e;
    m->lru_head = e;
    if (!m->lru_tail) m->lru_tail = e;
}

static void idem_free(idem *e)
{
    free(e->scope);
    free(e->message);
    free(e->packed);
    free(e);
}

/* Removes e from the table and the LRU list and frees it; forget also
 * removes a stored outcome from the store (eviction, expiry), which a
 * shutdown does not. */
static void idem_drop(canvas_idem *m, idem *e, int forget)
{
    if (forget && e->done && m->db) {
        int rc = store_idem_delete(m->db, e->scope, e->scope_len);
        if (rc != STORE_OK)
            LOG_W(MOD, "cannot remove an idempotency key from the store: %s", store_strerror(rc));
    }
    idem **pp = &m->buckets[e->hash & (m->n_buckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp) *pp = e->hnext;
    lru_unlink(m, e);
    m->n_idem--;
    m->idem_bytes -= e->packed_len;
    idem_free(e);
}

/* Evicts stored outcomes, oldest first, until there is room for one more
 * key and the bytes are within bounds; keep is never evicted. Entries in
 * flight are never evicted. 1 when there is room for a key. */
static int idem_evict(canvas_idem *m, const idem *keep)
{
    idem *e = m->lru_tail;
    while (e && (m->n_idem >= m->max_keys || m->idem_bytes > CANVAS_IDEM_MAX_BYTES)) {
        idem *prev = e->lprev;
        if (e->done && e != keep) idem_drop(m, e, 1);
        e = prev;
    }
    return m->n_idem < m->max_keys;
}

static int idem_expired(const canvas_idem *m, const idem *e, int64_t now)
{
    return e->done && now - e->created_ms > (int64_t)m->max_age_ms;
}

idem_state idem_begin(canvas_idem *m, req_kind rk, const char *canvas_id, const char *key,
                      const uint8_t *hash, canvas_done_fn done, void *ud, idem **out,
                      idem_copy *copy)
{
    size_t cl = strlen(canvas_id), kl = strlen(key);
    size_t sl = 1 + cl + 1 + kl;
    char *scope = xcalloc(1, sl + 1);
    scope[0] = (char)('0' + rk);
    memcpy(scope + 1, canvas_id, cl);
    memcpy(scope + 2 + cl, key, kl);
    uint64_t h = fnv1a(scope, sl, 0xcbf29ce484222325ull);
    pthread_mutex_lock(&m->mu);
    idem *e = m->buckets[h & (m->n_buckets - 1)];
    while (e && !(e->hash == h && e->scope_len == sl && memcmp(e->scope, scope, sl) == 0))
        e = e->hnext;
    int64_t now = text_now_ms();
    if (e && idem_expired(m, e, now)) {
        idem_drop(m, e, 1);
        e = NULL;
    }
    idem_state st;
    if (e && memcmp(e->req_hash, hash, STORE_IDEM_HASH_LEN) != 0) {
        /* The same key for another request: answering it with the first
         * one's outcome would tell the caller something was done that was
         * not (and running it would break the key's promise). */
        st = IDEM_MISMATCH;
    } else if (e && e->done) {
        lru_unlink(m, e);
        lru_front(m, e);
        copy->err = e->err;
        copy->code = e->code;
        copy->message = e->message ? xstrdup(e->message) : NULL;
        copy->packed = e->packed_len ? xcalloc(1, e->packed_len) : NULL;
        if (e->packed_len) memcpy(copy->packed, e->packed, e->packed_len);
        copy->len = e->packed_len;
        copy->rk = e->rk;
        st = IDEM_REPLAY;
    } else if (e) {
        waiter *w = xcalloc(1, sizeof *w);
        w->done = done;
        w->ud = ud;
        w->next = e->waiters;
        e->waiters = w;
        st = IDEM_WAIT;
    } else if (!idem_evict(m, NULL)) {
        st = IDEM_FULL;
    } else {
        e = xcalloc(1, sizeof *e);
        e->hash = h;
        e->scope = scope;
        e->scope_len = sl;
        e->rk = rk;
        memcpy(e->req_hash, hash, STORE_IDEM_HASH_LEN);
        e->created_ms = now;
        scope = NULL;
        idem **b = &m->buckets[h & (m->n_buckets - 1)];
        e->hnext = *b;
        *b = e;
        lru_front(m, e);
        m->n_idem++;
        *out = e;
        st = IDEM_NEW;
    }
    pthread_mutex_unlock(&m->mu);
    free(scope);
    return st;
}

void idem_replay(const idem_copy *c, canvas_done_fn done, void *ud)
{
    canvas_result r = {c->err, c->code, c->message, NULL, NULL, NULL};
    ProtobufCMessage *resp = NULL;
    if (c->err == CANVAS_OK) {
        resp = protobuf_c_message_unpack(resp_desc(c->rk), NULL, c->len, c->packed);
        if (!resp) abort();
        idem_set_replayed(resp, 1);
        r.resp = resp;
    }
    done(ud, &r);
    pb_free(resp);
    free(c->message);
    free(c->packed);
}

/* The first request under e finished: stores its outcome (or forgets the
 * key when nothing reached a tab) and returns the retries that waited. */
waiter *idem_complete(canvas_idem *m, idem *e, int sent, int err, Comfyd__V1__GraphErrorCode code,
                      const char *msg, const ProtobufCMessage *resp)
{
    int keep = sent && (err == CANVAS_OK || err == CANVAS_EGRAPH);
    uint8_t *packed = NULL;
    size_t len = 0;
    if (keep && resp) {
        len = protobuf_c_message_get_packed_size(resp);
        packed = xcalloc(1, len);
        protobuf_c_message_pack(resp, packed);
    }
    /* Durable before anyone is answered: a retry after a restart (or a
     * kill -9 right after the answer) gets this outcome, not a second
     * application. e's scope and hash do not change while it is in
     * flight, so they are read without the lock. */
    if (keep && m->db) {
        store_idem row = {
            .scope = e->scope,
            .scope_len = e->scope_len,
            .err = err,
            .code = (int)code,
            .message = (char *)msg, /* read only by store_idem_put */
            .resp = packed,
            .resp_len = len,
            .created_ms = e->created_ms,
        };
        memcpy(row.req_hash, e->req_hash, STORE_IDEM_HASH_LEN);
        int rc = store_idem_put(m->db, &row);
        if (rc != STORE_OK)
            LOG_W(MOD, "cannot store an idempotency key (it holds until a restart only): %s",
                  store_strerror(rc));
    }
    pthread_mutex_lock(&m->mu);
    waiter *w = e->waiters;
    e->waiters = NULL;
    if (keep) {
        e->done = 1;
        e->err = err;
        e->code = code;
        e->message = msg ? xstrdup(msg) : NULL;
        e->packed = packed;
        e->packed_len = len;
        m->idem_bytes += len;
        idem_evict(m, e);
    } else {
        idem_drop(m, e, 0);
    }
    pthread_mutex_unlock(&m->mu);
    return w;
}

/* ---- request hashes ----
 * A key's first request is remembered by a SHA-256 of its canonical form:
 * the packed request without the key itself, the wait (timeout_ms) and
 * base_revision, defaults spelled out (mode ATOMIC, batch_count 1) and each
 * create_node's widgets in key order, since JSON object order is not
 * meaningful. base_revision is a precondition checked when the request is
 * applied, not part of what it does: a retry that carries the revision its
 * sender saw since (the agent tools add the one they last observed) is the
 * same request. */

typedef struct {
    ProtobufCBuffer base;
    EVP_MD_CTX *md;
} hash_buf;

static void hash_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
    EVP_DigestUpdate(((hash_buf *)b)->md, data, len);
}

static void hash_msg(hash_buf *hb, const ProtobufCMessage *msg)
{
    uint64_t len = protobuf_c_message_get_packed_size(msg);
    EVP_DigestUpdate(hb->md, &len, sizeof len); /* separates one message from the next */
    protobuf_c_message_pack_to_buffer(msg, &hb->base);
}

static int cmp_widget(const void *a, const void *b)
{
    const Comfyd__V1__CreateNodeCommand__WidgetsEntry *x =
        *(const Comfyd__V1__CreateNodeCommand__WidgetsEntry *const *)a;
    const Comfyd__V1__CreateNodeCommand__WidgetsEntry *y =
        *(const Comfyd__V1__CreateNodeCommand__WidgetsEntry *const *)b;
    return strcmp(x->key ? x->key : "", y->key ? y->key : "");
}

static void hash_command(hash_buf *hb, const Comfyd__V1__Command *c)
{
    if (c->command_case != COMFYD__V1__COMMAND__COMMAND_CREATE_NODE || !c->create_node ||
        c->create_node->n_widgets < 2) {
        hash_msg(hb, &c->base);
        return;
    }
    Comfyd__V1__Command cc = *c;
    Comfyd__V1__CreateNodeCommand cn = *c->create_node;
    Comfyd__V1__CreateNodeCommand__WidgetsEntry **sorted = xcalloc(cn.n_widgets, sizeof *sorted);
    memcpy(sorted, cn.widgets, cn.n_widgets * sizeof *sorted);
    qsort(sorted, cn.n_widgets, sizeof *sorted, cmp_widget);
    cn.widgets = sorted;
    cc.create_node = &cn;
    hash_msg(hb, &cc.base);
    free(sorted);
}

/* head: the request with key, wait and commands cleared by the caller. */
static void req_hash(req_kind rk, const ProtobufCMessage *head,
                     const Comfyd__V1__Command *const *cmds, size_t n,
                     uint8_t out[STORE_IDEM_HASH_LEN])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) abort();
    hash_buf hb = {{hash_append}, md};
    uint8_t kind = (uint8_t)rk;
    EVP_DigestUpdate(md, &kind, 1);
    hash_msg(&hb, head);
    for (size_t i = 0; i < n; i++)
        hash_command(&hb, cmds[i]);
    unsigned int len = 0;
    if (!EVP_DigestFinal_ex(md, out, &len) || len != STORE_IDEM_HASH_LEN) abort();
    EVP_MD_CTX_free(md);
}

void idem_hash_execute(const Comfyd__V1__ExecuteRequest *req, uint8_t *out)
{
    Comfyd__V1__ExecuteRequest h = *req;
    h.idempotency_key = (char *)"";
    h.timeout_ms = 0;
    h.base_revision = NULL;
    h.on_stale = COMFYD__V1__ON_STALE__ON_STALE_UNSPECIFIED; /* a precondition, as the base */
    h.command = NULL;
    const Comfyd__V1__Command *const one[1] = {req->command};
    req_hash(RK_EXECUTE, &h.base, one, req->command ? 1 : 0, out);
}

void idem_hash_batch(const Comfyd__V1__ExecuteBatchRequest *req, uint8_t *out)
{
    Comfyd__V1__ExecuteBatchRequest h = *req;
    h.idempotency_key = (char *)"";
    h.timeout_ms = 0;
    h.base_revision = NULL;
    h.on_stale = COMFYD__V1__ON_STALE__ON_STALE_UNSPECIFIED; /* a precondition, as the base */
    h.n_commands = 0;
    h.commands = NULL;
    if (h.mode == COMFYD__V1__BATCH_MODE__BATCH_MODE_UNSPECIFIED)
        h.mode = COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC;
    req_hash(RK_BATCH, &h.base, (const Comfyd__V1__Command *const *)req->commands, req->n_commands,
             out);
}

void idem_hash_queue(const Comfyd__V1__QueueRequest *req, uint8_t *out)
{
    Comfyd__V1__QueueRequest h = *req;
    h.idempotency_key = (char *)"";
    h.timeout_ms = 0;
    if (!h.batch_count) h.batch_count = 1;
    req_hash(RK_QUEUE, &h.base, NULL, 0, out);
}

void idem_hash_load(const Comfyd__V1__LoadRequest *req, uint8_t *out)
{
    Comfyd__V1__LoadRequest h = *req;
    h.idempotency_key = (char *)"";
    h.timeout_ms = 0;
    req_hash(RK_LOAD, &h.base, NULL, 0, out);
}

/* At start: the stored keys, newest first, within the count, age and byte
 * limits; rows that do not fit or do not read back are removed. */
static void idem_restore(canvas_idem *m)
{
    store_idem *v = NULL;
    size_t n = 0;
    int64_t now = text_now_ms();
    int rc = store_idem_load(m->db, now - (int64_t)m->max_age_ms, m->max_keys, &v, &n);
    if (rc != STORE_OK) {
        LOG_E(MOD, "cannot read the stored idempotency keys: %s", store_strerror(rc));
        return;
    }
    size_t dropped = 0;
    for (size_t i = 0; i < n; i++) {
        store_idem *r = &v[i];
        int ok = r->scope_len >= 2 && r->scope[0] >= '0' + RK_EXECUTE &&
                 r->scope[0] <= '0' + RK_LOAD && m->n_idem < m->max_keys &&
                 m->idem_bytes + r->resp_len <= CANVAS_IDEM_MAX_BYTES &&
                 (r->err == CANVAS_OK || r->err == CANVAS_EGRAPH);
        req_kind rk = ok ? (req_kind)(r->scope[0] - '0') : RK_EXECUTE;
        if (ok && r->err == CANVAS_OK) {
            /* A replay unpacks it: make sure now that it can. */
            ProtobufCMessage *resp =
                protobuf_c_message_unpack(resp_desc(rk), NULL, r->resp_len, r->resp);
            ok = resp != NULL;
            pb_free(resp);
        }
        if (!ok) {
            store_idem_delete(m->db, r->scope, r->scope_len);
            dropped++;
            continue;
        }
        idem *e = xcalloc(1, sizeof *e);
        e->scope = r->scope;
        e->scope_len = r->scope_len;
        e->hash = fnv1a(e->scope, e->scope_len, 0xcbf29ce484222325ull);
        e->done = 1;
        e->err = r->err;
        e->code = (Comfyd__V1__GraphErrorCode)r->code;
        e->message = r->message;
        e->packed = r->resp;
        e->packed_len = r->resp_len;
        e->rk = rk;
        memcpy(e->req_hash, r->req_hash, STORE_IDEM_HASH_LEN);
        e->created_ms = r->created_ms;
        r->scope = r->message = NULL;
        r->resp = NULL;
        idem **b = &m->buckets[e->hash & (m->n_buckets - 1)];
        e->hnext = *b;
        *b = e;
        /* Newest first: each older one goes behind the ones before. */
        e->lprev = m->lru_tail;
        if (m->lru_tail)
            m->lru_tail->lnext = e;
        else
            m->lru_head = e;
        m->lru_tail = e;
        m->n_idem++;
        m->idem_bytes += e->packed_len;
    }
    store_idems_free(v, n);
    if (m->n_idem || dropped)
        LOG_I(MOD, "%zu idempotency key(s) restored%s", m->n_idem,
              dropped ? " (some over the limits or unreadable were dropped)" : "");
}

canvas_idem *idem_table_create(store *db, size_t max_keys, uint64_t max_age_ms)
{
    canvas_idem *t = xcalloc(1, sizeof *t);
    t->db = db;
    t->max_keys = max_keys;
    t->max_age_ms = max_age_ms;
    for (t->n_buckets = 16; t->n_buckets < 2 * max_keys; t->n_buckets *= 2) {
    }
    t->buckets = xcalloc(t->n_buckets, sizeof *t->buckets);
    pthread_mutex_init(&t->mu, NULL);
    if (db) idem_restore(t);
    return t;
}

void idem_table_destroy(canvas_idem *t)
{
    if (!t) return;
    while (t->lru_head)
        idem_drop(t, t->lru_head, 0);
    free(t->buckets);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

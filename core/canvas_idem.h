/* canvas_idem: the canvas manager's idempotency keys (private to
 * core/canvas*.c).
 *
 * A key is scoped by method and canvas. Its first request is remembered by
 * a SHA-256 of the request's canonical form (idem_hash_*); a retry with the
 * same key and request waits for the first one or replays its stored
 * outcome, and the same key with another request is refused. Outcomes are
 * kept, most recently used first, within a count (max_keys), a byte bound
 * (CANVAS_IDEM_MAX_BYTES) and an age (max_age_ms), and persisted in the
 * store when there is one, so that a retry after a restart is answered
 * from it rather than applied twice.
 *
 * Thread-safe: the table has its own lock. */
#ifndef COMFYD_CANVAS_IDEM_H
#define COMFYD_CANVAS_IDEM_H

#include <stddef.h>
#include <stdint.h>

#include "canvas.h"
#include "store.h"

/* Idempotency scope: one per method. */
typedef enum { RK_EXECUTE = 0, RK_BATCH, RK_QUEUE, RK_LOAD } req_kind;

typedef struct waiter {
    struct waiter *next;
    canvas_done_fn done;
    void *ud;
} waiter;

typedef struct idem {
    struct idem *hnext;         /* hash chain */
    struct idem *lprev, *lnext; /* LRU list, most recent first */
    uint64_t hash;
    char *scope; /* kind byte, canvas_id, NUL, key */
    size_t scope_len;
    int done; /* an outcome is stored */
    int err;
    Comfyd__V1__GraphErrorCode code;
    char *message;
    uint8_t *packed;
    size_t packed_len;
    req_kind rk;
    waiter *waiters;                       /* retries waiting for the first */
    uint8_t req_hash[STORE_IDEM_HASH_LEN]; /* the request the key was first used with */
    int64_t created_ms;                    /* wall clock, for the age limit */
} idem;

typedef enum { IDEM_NEW, IDEM_WAIT, IDEM_REPLAY, IDEM_FULL, IDEM_MISMATCH } idem_state;

/* A stored outcome copied out for a replay. */
typedef struct {
    int err;
    Comfyd__V1__GraphErrorCode code;
    char *message;
    uint8_t *packed;
    size_t len;
    req_kind rk;
} idem_copy;

typedef struct canvas_idem canvas_idem;

/* Creates the table and, with a store (db may be NULL), restores the keys
 * stored there within the limits. Aborts on out-of-memory. */
canvas_idem *idem_table_create(store *db, size_t max_keys, uint64_t max_age_ms);
/* Frees the table and its entries (stored outcomes stay in the store).
 * NULL is a no-op. */
void idem_table_destroy(canvas_idem *t);

/* Takes key for a request of kind rk on canvas_id whose hash is hash:
 * IDEM_NEW (*out: the entry, completed later with idem_complete),
 * IDEM_WAIT (done(ud) is called when the first request finishes),
 * IDEM_REPLAY (*copy: the stored outcome, answered with idem_replay),
 * IDEM_FULL (no room for another key) or IDEM_MISMATCH (the key was used
 * with another request). */
idem_state idem_begin(canvas_idem *m, req_kind rk, const char *canvas_id, const char *key,
                      const uint8_t *hash, canvas_done_fn done, void *ud, idem **out,
                      idem_copy *copy);
/* Answers done(ud) with a stored outcome (marked replayed) and frees c's
 * contents. */
void idem_replay(const idem_copy *c, canvas_done_fn done, void *ud);
/* The first request under e finished with this outcome: stores it (or
 * forgets the key when the request never reached a tab: sent 0) and
 * returns the retries that waited, for the caller to answer. */
waiter *idem_complete(canvas_idem *m, idem *e, int sent, int err, Comfyd__V1__GraphErrorCode code,
                      const char *msg, const ProtobufCMessage *resp);
/* Sets the replayed flag of an Execute, ExecuteBatch, Queue or Load
 * response. */
void idem_set_replayed(ProtobufCMessage *r, int v);

/* The request hashes (STORE_IDEM_HASH_LEN bytes into out). */
void idem_hash_execute(const Comfyd__V1__ExecuteRequest *req, uint8_t *out);
void idem_hash_batch(const Comfyd__V1__ExecuteBatchRequest *req, uint8_t *out);
void idem_hash_queue(const Comfyd__V1__QueueRequest *req, uint8_t *out);
void idem_hash_load(const Comfyd__V1__LoadRequest *req, uint8_t *out);

#endif

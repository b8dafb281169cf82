/* lease: session ownership leases for several cores on one PostgreSQL
 * database (docs/scale-out.md).
 *
 * A core owns a session while it runs that session's turns: a row of
 * session_leases (session, owner, expiry on the database server's clock),
 * renewed by this module's thread every third of the lease's lifetime. A
 * turn starts only under the lease and only after its message is claimed
 * (QUEUED -> RUNNING in one conditional UPDATE), so each acknowledged turn
 * runs on exactly one core. A core that stops renewing (killed, cut off)
 * loses its leases when they expire; the sweeper of any live core then
 * deletes the expired row and marks that session's running turn
 * interrupted in the same transaction, and runs the acknowledged turns no
 * live core will run (QUEUED messages of sessions without a lease).
 *
 * Times are the database server's (now()), so the cores' clocks need not
 * agree. The module has its own connection (a mutex guards it): leases
 * and claims never wait behind the store's long statements.
 *
 * Ownership: lease_open returns a handle the caller frees with
 * lease_close (which stops the thread first). Hooks run on the lease
 * thread, without this module's locks held; they may call back into it. */
#ifndef COMFYD_LEASE_H
#define COMFYD_LEASE_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

/* Named limits. */
#define LEASE_TTL_DEFAULT_MS 10000 /* a dead core's sessions wait at most this long */
#define LEASE_TTL_MIN_MS 1000      /* renewals every third: no tighter than a few round trips */
#define LEASE_TTL_MAX_MS 600000
#define LEASE_CORE_ID_MAX 200 /* bytes of a core's name in the lease rows */
#define LEASE_SWEEP_BATCH 64  /* expired leases or orphaned turns handled per sweep */
#define LEASE_CONNECT_TIMEOUT_S "5"
#define LEASE_ADDR_MAX 512 /* a gRPC target (rpcc.h's RPCC_MAX_TARGET_BYTES) */
#define LEASE_MAX_PEERS 64 /* other cores listed by lease_peers */

typedef enum {
    LEASE_OK = CFD_OK,
    /* Another live core holds the session's lease. */
    LEASE_HELD = 1,
    /* The message is no longer QUEUED (another core ran it, or it was
     * cancelled or deleted): do not run it. */
    LEASE_GONE = 2,
    LEASE_EINVAL = CFD_ERR_INVALID,
    /* The database cannot be reached; try again later. */
    LEASE_EUNAVAIL = CFD_ERR_LEASE_UNAVAIL,
    LEASE_EIO = CFD_ERR_LEASE_IO,
    LEASE_ENOMEM = CFD_ERR_NOMEM,
} lease_err;

typedef struct lease lease;

/* What the sweeper found; each may be NULL. */
typedef struct lease_hooks {
    /* This core's lease on session_id is gone (expired and taken while
     * this core was cut off): stop its running turn. */
    void (*lost)(void *ud, const char *session_id);
    /* The turn msg_id of session_id was marked INTERRUPTED because the
     * core running it stopped renewing its lease. */
    void (*interrupted)(void *ud, const char *session_id, uint64_t msg_id);
    /* msg_id, an acknowledged user turn of session_id that no live core
     * holds, is QUEUED: queue it here (the claim decides who runs it). */
    void (*orphan)(void *ud, const char *session_id, uint64_t msg_id, const char *content);
    void *ud;
} lease_hooks;

/* Connects to conninfo (a libpq URI) as core_id (1..LEASE_CORE_ID_MAX
 * bytes, unique among live cores: hostname and data directory) with leases
 * of ttl_ms (LEASE_TTL_MIN_MS..LEASE_TTL_MAX_MS). The tables are the
 * store's (schema 7 of store_pg.c): open the store first. Leases this
 * core_id held before a restart are released at once and their turns
 * marked interrupted, as a single core does at start, and its canvas
 * registry rows (canvas_reg.h) are dropped: a restarted core holds no tab.
 * err gets a sentence on failure.
 *
 * The same thread keeps the canvas registry: every renewal also renews
 * this core's canvas rows, and every sweep deletes the rows of cores that
 * stopped renewing them (a dead core's canvases are then unknown, not
 * forwarded to an address nobody answers). */
int lease_open(lease **out, const char *conninfo, const char *core_id, uint32_t ttl_ms, char *err,
               size_t errlen);
/* Starts the renewal and sweep thread with hooks (copied). The first sweep
 * runs at once: turns left RUNNING without any lease (a core stopped
 * before leases existed) are marked interrupted and every orphaned QUEUED
 * turn is offered. */
int lease_start(lease *l, const lease_hooks *hooks);
/* Stops the thread (no hook runs after it returns); the calls below still
 * work. NULL or a second call is a no-op. */
void lease_stop(lease *l);
/* Stops the thread and frees everything; leases still held are left to
 * expire (their turns were interrupted by the shutdown). NULL is a no-op. */
void lease_close(lease *l);

/* The gRPC address the other cores reach this one at (copied; at most
 * LEASE_ADDR_MAX bytes): the lease thread keeps this core's row of
 * cluster_cores with it while it renews its leases. Call before
 * lease_start. */
int lease_set_addr(lease *l, const char *addr);
/* The other live cores (their cluster_cores row renewed in time), at most
 * LEASE_MAX_PEERS: fn(ud, core_id, addr) for each. LEASE_OK or an error
 * (the database cannot be reached). */
typedef void (*lease_peer_fn)(void *ud, const char *core_id, const char *addr);
int lease_peers(lease *l, lease_peer_fn fn, void *ud);

const char *lease_core_id(const lease *l);
uint32_t lease_ttl_ms(const lease *l);

/* Takes (or renews) the lease on session_id: LEASE_OK, LEASE_HELD, or an
 * error. */
int lease_acquire(lease *l, const char *session_id);
/* 1 when this core holds the lease on session_id (as far as it knows:
 * taken and not given back or found lost). */
int lease_holds(lease *l, const char *session_id);
/* Gives the lease back (only if this core holds it). */
int lease_release(lease *l, const char *session_id);
/* Claims a QUEUED message for running here: LEASE_OK (it is RUNNING now),
 * LEASE_GONE, or an error. Call it holding the session's lease. */
int lease_claim(lease *l, uint64_t msg_id);
/* Reserves a block of event sequence numbers for session_id on this core:
 * the session's seq_reserved becomes max(it, floor) + block, and *hi that
 * value; the numbers (*hi - block, *hi] are this core's alone. */
int lease_reserve_seq(lease *l, const char *session_id, uint64_t floor, uint64_t block,
                      uint64_t *hi);

/* Counters for logs and /metrics: leases taken over from dead cores,
 * orphaned turns offered, leases lost by this core. */
typedef struct lease_stats {
    uint64_t takeovers;
    uint64_t orphans;
    uint64_t lost;
    uint64_t canvases_expired; /* canvas registry rows of dead cores swept */
} lease_stats;
void lease_get_stats(lease *l, lease_stats *out);

#endif

/* canvas_reg: the canvas registry of several cores on one PostgreSQL
 * database (docs/scale-out.md): which core holds which canvas (a browser
 * tab attached through that core's bridge), the gRPC address the other
 * cores reach it at (--advertise), the canvas's last revision and focus
 * time. A core that gets a graph command for a canvas another core holds
 * forwards it there (svc_graph.c), so any bridge reaches any canvas.
 *
 * Rows. One per canvas_id in canvas_registry (store_pg.c's schema 7),
 * written when a tab attaches through this core and deleted when its last
 * attachment here ends; a tab that re-attaches through another core moves
 * the row there. Rows live as long as their core renews them: the lease
 * thread (lease.c) renews this core's rows with its session leases and
 * deletes the rows of cores that stopped, so a dead core's canvases stop
 * being forwarded to within the lease lifetime and a third.
 *
 * Writes go through a writer thread (attachments and reports happen on
 * gRPC threads, which must not wait for the database); lookups are
 * synchronous on the module's own connection. A database that cannot be
 * reached makes lookups answer CREG_EUNAVAIL and the writer retry its
 * last state per canvas at its next wake-up.
 *
 * Ownership: creg_open returns a handle freed with creg_close. Every
 * function is thread-safe. */
#ifndef COMFYD_CANVAS_REG_H
#define COMFYD_CANVAS_REG_H

#include "comfyd_error.h"
#include <stddef.h>
#include <stdint.h>

/* A canvas id (canvas.h's CANVAS_MAX_ID) and an address (rpcc.h's
 * RPCC_MAX_TARGET_BYTES). */
#define CREG_MAX_ID 128
#define CREG_MAX_ADDR 512
#define CREG_MAX_OWNER 200 /* lease.h's LEASE_CORE_ID_MAX */
/* Canvases this core tracks (canvas.h's CANVAS_MAX_CANVASES, with room for
 * attachments being replaced). */
#define CREG_MAX_LOCAL 256
/* How long the writer waits before retrying after the database failed. */
#define CREG_RETRY_MS 1000

typedef enum {
    CREG_OK = 0,
    /* No live row of another core: the canvas is here or nowhere. */
    CREG_NONE = 1,
    CREG_EINVAL = CFD_ERR_INVALID,
    /* The database cannot be reached. */
    CREG_EUNAVAIL = CFD_ERR_CREG_UNAVAIL,
    CREG_ENOMEM = CFD_ERR_NOMEM,
} creg_err;

typedef struct creg creg;

/* Where a canvas is: its core's name and address. */
typedef struct creg_where {
    char owner[CREG_MAX_OWNER + 1];
    char addr[CREG_MAX_ADDR + 1];
    uint64_t revision;
} creg_where;

/* Connects to uri as core_id (lease.h's name) reachable at addr, with rows
 * living ttl_ms (the lease lifetime) between renewals, and starts the
 * writer. err gets a sentence on failure. */
int creg_open(creg **out, const char *uri, const char *core_id, const char *addr, uint32_t ttl_ms,
              char *err, size_t errlen);
/* Stops the writer (pending writes are tried once more) and frees. NULL is
 * a no-op. */
void creg_close(creg *r);

const char *creg_core_id(const creg *r);
const char *creg_addr(const creg *r);

/* A tab attached canvas_id here (count one more attachment) / one ended.
 * The row is written at the first and deleted after the last. */
void creg_attached(creg *r, const char *canvas_id);
void creg_detached(creg *r, const char *canvas_id);
/* The canvas's tab reported: its revision and, when focused is 1, that it
 * has the focus now. Ignored for a canvas not attached here. */
void creg_reported(creg *r, const char *canvas_id, uint64_t revision, int focused);
/* 1 when a tab of canvas_id is attached here. */
int creg_is_local(creg *r, const char *canvas_id);
/* Canvases attached here. */
size_t creg_local_count(creg *r);

/* The live row of canvas_id held by another core (canvas_id "" or NULL:
 * the most recently focused canvas of another core): CREG_OK and *w,
 * CREG_NONE, or CREG_EUNAVAIL. */
int creg_find(creg *r, const char *canvas_id, creg_where *w);

/* Counters for /metrics. */
typedef struct creg_stats {
    uint64_t writes;        /* rows written or deleted */
    uint64_t write_errors;  /* writes that failed (retried) */
    uint64_t lookups;       /* creg_find calls that reached the database */
    uint64_t lookup_errors; /* of which failed */
} creg_stats;
void creg_get_stats(creg *r, creg_stats *out);

#endif

/* evring: a bounded in-memory ring of a session's recent events, for replay
 * to subscribers that reconnect with the last sequence number they saw.
 *
 * Events are opaque byte strings (packed comfyd.v1.SubscribeResponse) with a
 * strictly increasing sequence number (numbers may skip; the first is >= 1).
 * The ring keeps at most max_events events and max_bytes bytes of payload
 * (per-event bookkeeping is not counted); pushing evicts the oldest events.
 * Not thread-safe: the owner (a session) serialises access.
 *
 * Replay rule: a subscriber that saw everything up to after_seq gets the
 * rest only when the ring still holds all of it, that is when
 * base <= after_seq <= last_seq and nothing newer than after_seq was
 * evicted. after_seq == last_seq replays nothing and is EVRING_OK. A
 * after_seq above last_seq is EVRING_GAP too: this ring never issued it, so
 * the subscriber's history belongs to something else (another process
 * lifetime, a corrupt client) and needs a full snapshot. */
#ifndef COMFYD_EVRING_H
#define COMFYD_EVRING_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct evring evring;

typedef enum {
    EVRING_OK = CFD_OK,
    /* The events after the requested seq are no longer all in the ring. */
    EVRING_GAP = CFD_ERR_EVRING_GAP,
    /* seq not greater than the last pushed one, or an event bigger than
     * max_bytes on its own. */
    EVRING_EINVAL = CFD_ERR_INVALID,
    EVRING_ENOMEM = CFD_ERR_NOMEM,
    /* The replay callback returned non-zero; replay stopped. */
    EVRING_ABORTED = CFD_ERR_EVRING_ABORTED,
} evring_err;

/* Creates an empty ring. Returns EVRING_OK or EVRING_ENOMEM/EVRING_EINVAL
 * (a zero limit). *out is owned by the caller (evring_destroy). */
int evring_create(evring **out, size_t max_events, size_t max_bytes);
void evring_destroy(evring *r);

/* Copies data[0..len) in as event seq (data is borrowed; may be NULL when
 * len is 0), evicting the oldest events until both limits hold. Returns
 * EVRING_OK; EVRING_EINVAL when seq <= evring_last_seq() or len > max_bytes;
 * EVRING_ENOMEM. The ring is unchanged on error. */
int evring_push(evring *r, uint64_t seq, const void *data, size_t len);

typedef int (*evring_visit_fn)(void *ud, uint64_t seq, const void *data, size_t len);

/* Calls fn for every event with seq > after_seq, oldest first. The data
 * pointer is valid only during the call; fn must not push to or destroy the
 * ring. Returns EVRING_OK; EVRING_GAP (without calling fn) when
 * !evring_covers(r, after_seq): an event after after_seq was evicted,
 * after_seq is older than the base, or after_seq > evring_last_seq() (never
 * issued); EVRING_ABORTED when fn returned non-zero (later events are not
 * visited). */
int evring_replay(const evring *r, uint64_t after_seq, evring_visit_fn fn, void *ud);

/* 1 when every event with seq > after_seq is still held, given that the
 * ring's history starts at base_seq (events <= base_seq happened before the
 * ring existed, e.g. before a restart), and after_seq <= evring_last_seq();
 * else 0. */
int evring_covers(const evring *r, uint64_t after_seq);
/* 1 when an event with exactly this seq is held. With several cores a
 * session's numbers are not contiguous on one core (each reserves its own
 * blocks), so a client's last seq is only a replay point here if this
 * core handed it out. */
int evring_has(const evring *r, uint64_t seq);
/* Declares that the ring's history begins after base_seq (default 0):
 * replay from below it is a gap, later pushes need seq > base_seq, and
 * last_seq becomes at least base_seq. Held events with seq <= base_seq are
 * dropped as if evicted. A base below the current start of history is
 * ignored (history cannot grow backwards). */
void evring_set_base(evring *r, uint64_t base_seq);

/* The highest seq pushed, or the base when higher; 0 when nothing was
 * pushed and the base is 0. Evictions do not lower it. */
uint64_t evring_last_seq(const evring *r);
size_t evring_count(const evring *r);
size_t evring_bytes(const evring *r);

#endif

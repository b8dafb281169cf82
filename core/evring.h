/* evring: a bounded in-memory ring of a session's recent events, for replay
 * to subscribers that reconnect with the last sequence number they saw.
 *
 * Events are opaque byte strings (packed comfyd.v1.SubscribeResponse) with a
 * strictly increasing sequence number. The ring keeps at most max_events
 * events and max_bytes bytes of payload; pushing evicts the oldest events.
 * Not thread-safe: the owner (a session) serialises access. */
#ifndef COMFYD_EVRING_H
#define COMFYD_EVRING_H

#include <stddef.h>
#include <stdint.h>

typedef struct evring evring;

typedef enum {
    EVRING_OK = 0,
    /* The events after the requested seq are no longer all in the ring. */
    EVRING_GAP = -1,
    /* seq not greater than the last pushed one, or an event bigger than
     * max_bytes on its own. */
    EVRING_EINVAL = -2,
    EVRING_ENOMEM = -3,
    /* The replay callback returned non-zero; replay stopped. */
    EVRING_ABORTED = -4,
} evring_err;

/* Creates an empty ring. Returns EVRING_OK or EVRING_ENOMEM/EVRING_EINVAL
 * (a zero limit). *out is owned by the caller (evring_destroy). */
int evring_create(evring **out, size_t max_events, size_t max_bytes);
void evring_destroy(evring *r);

/* Copies data[0..len) in as event seq. Returns EVRING_OK, EVRING_EINVAL or
 * EVRING_ENOMEM (the ring is unchanged on error). */
int evring_push(evring *r, uint64_t seq, const void *data, size_t len);

typedef int (*evring_visit_fn)(void *ud, uint64_t seq, const void *data, size_t len);

/* Calls fn for every event with seq > after_seq, oldest first. The data
 * pointer is valid only during the call. Returns EVRING_OK; EVRING_GAP
 * (without calling fn) when an event after after_seq was evicted or
 * after_seq is older than what the ring ever covered (see
 * evring_covers); EVRING_ABORTED when fn returned non-zero. */
int evring_replay(const evring *r, uint64_t after_seq, evring_visit_fn fn, void *ud);

/* 1 when every event with seq > after_seq is still held, given that the
 * ring's history starts at base_seq (events <= base_seq happened before the
 * ring existed, e.g. before a restart). */
int evring_covers(const evring *r, uint64_t after_seq);
/* Declares that the ring's history begins after base_seq (default 0). */
void evring_set_base(evring *r, uint64_t base_seq);

uint64_t evring_last_seq(const evring *r); /* 0 when empty and base is 0 */
size_t evring_count(const evring *r);
size_t evring_bytes(const evring *r);

#endif

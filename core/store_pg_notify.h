/* store_pg_notify: session events across cores through PostgreSQL's
 * LISTEN/NOTIFY (docs/scale-out.md).
 *
 * Each event a core publishes for a session (packed SubscribeResponse
 * bytes) is queued here and sent by a sender thread on its own connection
 * as a NOTIFY on one channel: "CORE SESSION DATA" where DATA is the event
 * in base64, or "@ID" naming a row of session_event_spill when the event
 * is larger than a NOTIFY payload may be (8000 bytes); spilled rows are
 * deleted after PGNOTIFY_SPILL_KEEP_S. A listener thread on a second
 * connection receives every other core's events, in each core's order, and
 * hands them to the callback. The receiving core gives an event its own
 * sequence number (SessionEvent.seq stays per core and per session).
 *
 * What is lost: events queued while the sender's connection is down, or
 * beyond PGNOTIFY_QUEUE_MAX waiting events (counted in the stats); events
 * sent while a listener is reconnecting. Committed messages stay in the
 * database either way: a resubscribing client gets them in its snapshot.
 *
 * Ownership: pgnotify_open returns a handle freed by pgnotify_close, which
 * joins both threads. The callback runs on the listener thread. */
#ifndef COMFYD_STORE_PG_NOTIFY_H
#define COMFYD_STORE_PG_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#define PGNOTIFY_CHANNEL "comfyd_events"
#define PGNOTIFY_QUEUE_MAX 8192      /* events waiting to be sent (deltas come in bursts) */
#define PGNOTIFY_INLINE_MAX 5000     /* event bytes sent inline (base64 grows them by 4/3) */
#define PGNOTIFY_EVENT_MAX (4 << 20) /* an event larger than this is not forwarded */
#define PGNOTIFY_SPILL_KEEP_S 600    /* spilled events outlive any listener's delay */
#define PGNOTIFY_RETRY_MS 1000       /* between two connection attempts */
#define PGNOTIFY_BATCH_MAX 64        /* events sent in one round trip (about 450 KB at most) */

typedef struct pgnotify pgnotify;

/* Called for each event of another core: session_id and the packed
 * SubscribeResponse bytes (borrowed for the call). */
typedef void (*pgnotify_fn)(void *ud, const char *session_id, const uint8_t *event, size_t len);

/* Connects twice to conninfo as core_id (lease.h's core name), creates the
 * spill table if needed, LISTENs, and starts both threads. */
int pgnotify_open(pgnotify **out, const char *conninfo, const char *core_id, pgnotify_fn fn,
                  void *ud, char *err, size_t errlen);
/* Queues an event (copied) for the other cores; never blocks on the
 * network. Returns 0, or -1 when it was dropped (queue full, too big). */
int pgnotify_publish(pgnotify *n, const char *session_id, const void *event, size_t len);
void pgnotify_close(pgnotify *n);

/* Control words between cores (e.g. "cancel"): 1..PGNOTIFY_WORD_MAX bytes,
 * no space, sent as "SESSION !WORD CORE" in the events' order. */
#define PGNOTIFY_WORD_MAX 31
typedef void (*pgnotify_control_fn)(void *ud, const char *session_id, const char *word);
/* Queues a control word for the other cores; 0 or -1 as pgnotify_publish. */
int pgnotify_send_control(pgnotify *n, const char *session_id, const char *word);
/* Sets the callback for the other cores' control words (the ud of
 * pgnotify_open); NULL ignores them. Runs on the listener thread. */
void pgnotify_set_control(pgnotify *n, pgnotify_control_fn fn);

typedef struct pgnotify_stats {
    uint64_t sent, received, dropped, spilled;
    /* Time from queueing to a NOTIFY committed, the last one (ms). */
    uint64_t last_send_lag_ms;
} pgnotify_stats;
void pgnotify_get_stats(pgnotify *n, pgnotify_stats *out);

#endif

/* sse: an incremental parser for server-sent events (the WHATWG HTML
 * "text/event-stream" format), without I/O.
 *
 * Bytes go in through sse_feed in chunks of any size, split anywhere; each
 * complete event comes out through a callback. The rules followed:
 *   - lines end with CRLF, LF or CR (a CRLF split across two chunks is one
 *     line end); a UTF-8 byte order mark at the very start is skipped;
 *   - an empty line dispatches the event being built; an event with no data
 *     line is dropped (its type is reset);
 *   - a line starting with ':' is a comment;
 *   - otherwise the field name is the part before the first ':' (the whole
 *     line when there is none) and the value the part after it, minus one
 *     leading space;
 *   - "data" appends the value and a LF to the data buffer; the LF after the
 *     last value is removed when the event is dispatched;
 *   - "event" sets the event type ("message" when none was set);
 *   - "id" sets the last event id, unless the value holds a NUL; it persists
 *     across events;
 *   - "retry" with only ASCII digits sets the reconnection time;
 *   - any other field is ignored;
 *   - at the end of the stream a partly built event is discarded.
 * Bytes are passed through unchanged: the consumer validates the encoding
 * of what it uses (the spec decodes with replacement characters instead).
 *
 * Memory: the parser keeps the current incomplete line, the data and the
 * type of the event being built, and the last id, each bounded by the limits
 * given at creation. Not thread-safe; one parser per stream. */
#ifndef COMFYD_SSE_H
#define COMFYD_SSE_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

/* Default limits: a chat-completions chunk is a few hundred bytes; a whole
 * non-streamed answer in one event stays well below these. */
#define SSE_DEFAULT_MAX_LINE (1024 * 1024) /* bytes of one line */
#define SSE_DEFAULT_MAX_DATA (1024 * 1024) /* bytes of one event's data */
#define SSE_MAX_TYPE 256                   /* event type: a short name */
#define SSE_MAX_ID 1024                    /* last event id: an opaque token */

typedef enum {
    SSE_OK = CFD_OK,
    SSE_ENOMEM = CFD_ERR_NOMEM,
    /* A line was longer than max_line, or an event's data longer than
     * max_data. The parser stays failed: every later call returns this. */
    SSE_ETOOBIG = CFD_ERR_SSE_TOOBIG,
    /* The event callback returned non-zero; sse_feed stopped there and the
     * parser stays stopped. */
    SSE_ESTOPPED = CFD_ERR_SSE_STOPPED,
    /* sse_finish: the stream ended inside an event (or a line), which was
     * discarded as the spec says. Informational; nothing is broken. */
    SSE_EPARTIAL = CFD_ERR_SSE_PARTIAL,
} sse_err;

/* One dispatched event. Every pointer is valid only during the callback.
 * The strings are not NUL terminated (data may hold any bytes). */
typedef struct sse_event {
    const char *type; /* "message" unless an event field set another */
    size_t type_len;
    const char *data; /* data lines joined with LF */
    size_t data_len;
    const char *id; /* the last event id seen so far ("" when none) */
    size_t id_len;
} sse_event;

/* Returns 0 to go on, non-zero to stop the parser (sse_feed then returns
 * SSE_ESTOPPED). */
typedef int (*sse_event_fn)(void *ud, const sse_event *ev);

typedef struct sse_parser sse_parser;

typedef struct sse_opts {
    size_t max_line; /* 0: SSE_DEFAULT_MAX_LINE */
    size_t max_data; /* 0: SSE_DEFAULT_MAX_DATA */
    sse_event_fn on_event;
    void *ud; /* passed to on_event; borrowed */
} sse_opts;

/* Creates a parser. Returns SSE_OK or SSE_ENOMEM (*out NULL). */
int sse_create(sse_parser **out, const sse_opts *opts);
/* Frees the parser; accepts NULL. */
void sse_destroy(sse_parser *p);

/* Parses buf[0..len) (borrowed for the call), calling on_event for every
 * event completed by these bytes. Returns SSE_OK, SSE_ETOOBIG, SSE_ESTOPPED
 * or SSE_ENOMEM; after an error the stream cannot go on. */
int sse_feed(sse_parser *p, const char *buf, size_t len);

/* Ends the stream. Returns SSE_OK when it ended between events,
 * SSE_EPARTIAL when an unfinished line or event was discarded, or the
 * error that stopped the parser earlier. */
int sse_finish(sse_parser *p);

/* The reconnection time from the last valid "retry" field, or -1 when none
 * was seen. */
int64_t sse_retry_ms(const sse_parser *p);

#endif

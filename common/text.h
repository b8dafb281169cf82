/* text: small helpers for outside strings: UTF-8 validation, ids, clocks.
 * Every function here is pure or thread-safe. */
#ifndef COMFYD_TEXT_H
#define COMFYD_TEXT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Length of a UUID text form plus its NUL. */
#define TEXT_UUID_LEN 37

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF, no NUL bytes), else 0. */
int text_utf8_valid(const char *s, size_t len);
/* The same with NUL bytes allowed (WebSocket text, close reasons). */
int text_utf8_valid_nul(const char *s, size_t len);
/* What is wrong with a string field from a peer that may hold at most max
 * bytes of UTF-8: "is too long", "is not valid UTF-8", or NULL when
 * nothing (s NULL included). Callers name the field around it. */
const char *text_field_problem(const char *s, size_t max);
/* Length (1 to 4) of the well-formed UTF-8 character at s[0..n), or 0 when
 * the bytes there are not one. A NUL byte is a character of length 1. */
size_t text_utf8_seq(const char *s, size_t n);

/* Writes a random (version 4) UUID, lower-case, into out. Uses
 * getrandom(2); returns 0, or -1 when the kernel has no randomness. */
int text_uuid(char out[TEXT_UUID_LEN]);

/* 1 when s looks like a UUID produced by text_uuid (36 chars, hex, dashes). */
int text_is_uuid(const char *s);

/* Formats a message into err[0..errlen) (nothing when err is NULL or errlen
 * is 0) and returns rc: how every module reports an error with its code,
 * `return text_err(err, errlen, X_EINVAL, "bad %s", what);`. */
int text_err(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Milliseconds since the epoch (wall clock) and a monotonic clock. */
int64_t text_now_ms(void);
int64_t text_mono_ms(void);
/* The wall-clock time ms from now (ms >= 0), the deadline that
 * pthread_cond_timedwait takes on a condition with the default clock. */
struct timespec text_realtime_after(int64_t ms);

/* strdup that accepts NULL (returns NULL) and aborts on out-of-memory:
 * small control-plane strings only, never sizes chosen by a peer. */
char *text_dup(const char *s);
/* A formatted string in memory the caller frees; NULL when out of memory. */
char *text_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Copies n bytes and adds a NUL. */
char *text_dupn(const char *s, size_t n);

/* Length of s[0..len) cut to at most max bytes on a UTF-8 character
 * boundary. */
size_t text_utf8_cut(const char *s, size_t len, size_t max);

/* The one growable string of comfyd (in the manner of sds): bytes with a
 * NUL kept after them, so p is a C string whenever it is not NULL. Starts
 * zeroed ({0}); the caller owns p and frees it (text_buf_free) or takes it
 * (text_buf_take). Out-of-memory is sticky in oom and checked once at the
 * end, so building code needs no error path per append. Limits are the
 * caller's: text_buf_addn_max refuses to pass one. */
typedef struct text_buf {
    char *p;
    size_t n, cap;
    int oom;
} text_buf;

/* Results of the bounded append. */
#define TEXT_BUF_ETOOBIG (-1) /* would pass max: nothing was added */
#define TEXT_BUF_ENOMEM (-2)  /* out of memory: oom is set */

void text_buf_addn(text_buf *b, const char *s, size_t len);
void text_buf_add(text_buf *b, const char *s);
/* Appends a formatted piece of any length. */
void text_buf_addf(text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void text_buf_vaddf(text_buf *b, const char *fmt, va_list ap);
/* Appends len bytes unless the result would be longer than max bytes.
 * Returns 0, TEXT_BUF_ETOOBIG or TEXT_BUF_ENOMEM. */
int text_buf_addn_max(text_buf *b, const void *s, size_t len, size_t max);
/* A body received in pieces (a libcurl write callback's shape, without
 * libcurl): bytes go into b until they would pass max, then over is set.
 * Starts zeroed except max; the caller frees b. */
typedef struct text_sink {
    text_buf b;
    size_t max;
    int over;
} text_sink;

/* Appends size * n bytes to the text_sink ud. Returns the count taken, or
 * 0 (the transfer should stop) when the body would pass max (over set) or
 * memory ran out (b.oom set). */
size_t text_sink_write(char *data, size_t size, size_t n, void *ud);

/* Appends the standard base64 (RFC 4648, with padding) of data[0..len). */
void text_buf_add_base64(text_buf *b, const unsigned char *data, size_t len);
/* Room for extra more bytes and the NUL without another allocation (a
 * first capacity for bodies known to be large). 0, or -1 with oom set. */
int text_buf_reserve(text_buf *b, size_t extra);
/* Empties the string and keeps its memory (and a sticky oom). */
void text_buf_reset(text_buf *b);
/* Hands the string over: the caller frees it. "" when nothing was added,
 * NULL after out-of-memory; b is zeroed. */
char *text_buf_take(text_buf *b);
/* Frees the string and zeroes b; accepts a zeroed b. */
void text_buf_free(text_buf *b);

#endif

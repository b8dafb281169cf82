/* text: small helpers for outside strings: UTF-8 validation, ids, clocks.
 * Every function here is pure or thread-safe. */
#ifndef COMFYD_TEXT_H
#define COMFYD_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Length of a UUID text form plus its NUL. */
#define TEXT_UUID_LEN 37

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF, no NUL bytes), else 0. */
int text_utf8_valid(const char *s, size_t len);

/* Writes a random (version 4) UUID, lower-case, into out. Uses
 * getrandom(2); returns 0, or -1 when the kernel has no randomness. */
int text_uuid(char out[TEXT_UUID_LEN]);

/* 1 when s looks like a UUID produced by text_uuid (36 chars, hex, dashes). */
int text_is_uuid(const char *s);

/* Milliseconds since the epoch (wall clock) and a monotonic clock. */
int64_t text_now_ms(void);
int64_t text_mono_ms(void);

/* strdup that accepts NULL (returns NULL) and aborts on out-of-memory:
 * small control-plane strings only, never sizes chosen by a peer. */
char *text_dup(const char *s);
/* Copies n bytes and adds a NUL. */
char *text_dupn(const char *s, size_t n);

/* Length of s[0..len) cut to at most max bytes on a UTF-8 character
 * boundary. */
size_t text_utf8_cut(const char *s, size_t len, size_t max);

/* A growable NUL-terminated string for building replies. Starts zeroed;
 * the caller frees p. Out-of-memory is sticky in oom and checked once at
 * the end, so building code needs no error path per append. */
typedef struct text_buf {
    char *p;
    size_t n, cap;
    int oom;
} text_buf;

void text_buf_addn(text_buf *b, const char *s, size_t len);
void text_buf_add(text_buf *b, const char *s);
/* Appends a formatted piece of at most 511 bytes (longer ones are cut). */
void text_buf_addf(text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends the standard base64 (RFC 4648, with padding) of data[0..len). */
void text_buf_add_base64(text_buf *b, const unsigned char *data, size_t len);

#endif

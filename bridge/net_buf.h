/* net_buf: a growable byte buffer, the unit of input and output in the
 * bridge's network layer. A plain value type (no hidden state): the owner
 * embeds it, initialises it with net_buf_init and frees it with
 * net_buf_free. Not thread-safe. */
#ifndef COMFYD_NET_BUF_H
#define COMFYD_NET_BUF_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct net_buf {
    uint8_t *data; /* owned; NULL while cap == 0 */
    size_t len;
    size_t cap;
} net_buf;

typedef enum {
    NET_BUF_OK = CFD_OK,
    /* malloc failed or the size would overflow; the buffer is unchanged. */
    NET_BUF_E_NOMEM = CFD_ERR_NOMEM,
} net_buf_err;

void net_buf_init(net_buf *b);
/* Frees the storage and leaves an empty buffer (safe to call twice). */
void net_buf_free(net_buf *b);
/* Drops the content but keeps the storage. */
void net_buf_reset(net_buf *b);

/* Makes room for at least extra more bytes. Returns NET_BUF_OK or
 * NET_BUF_E_NOMEM. */
int net_buf_reserve(net_buf *b, size_t extra);
/* Copies data[0..len) to the end (data may be NULL when len is 0). Returns
 * NET_BUF_OK or NET_BUF_E_NOMEM (nothing appended). */
int net_buf_append(net_buf *b, const void *data, size_t len);
int net_buf_append_str(net_buf *b, const char *s);
/* Appends formatted text (no NUL). Returns NET_BUF_OK or NET_BUF_E_NOMEM. */
int net_buf_printf(net_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Removes the first n bytes (n is clamped to len). */
void net_buf_consume(net_buf *b, size_t n);
/* Hands the storage to the caller (free() it) and leaves b empty. Returns
 * NULL when the buffer holds nothing. */
uint8_t *net_buf_detach(net_buf *b, size_t *len);

#endif

#include "net_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void net_buf_init(net_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void net_buf_free(net_buf *b)
{
    free(b->data);
    net_buf_init(b);
}

void net_buf_reset(net_buf *b)
{
    b->len = 0;
}

int net_buf_reserve(net_buf *b, size_t extra)
{
    if (extra <= b->cap - b->len) return NET_BUF_OK;
    if (extra > SIZE_MAX / 4 - b->len) return NET_BUF_E_NOMEM;
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) return NET_BUF_E_NOMEM;
    b->data = p;
    b->cap = cap;
    return NET_BUF_OK;
}

int net_buf_append(net_buf *b, const void *data, size_t len)
{
    if (len == 0) return NET_BUF_OK;
    if (net_buf_reserve(b, len) != NET_BUF_OK) return NET_BUF_E_NOMEM;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return NET_BUF_OK;
}

int net_buf_append_str(net_buf *b, const char *s)
{
    return net_buf_append(b, s, strlen(s));
}

int net_buf_printf(net_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NET_BUF_E_NOMEM;
    /* One extra byte for vsnprintf's NUL, which is not counted in len. */
    if (net_buf_reserve(b, (size_t)n + 1) != NET_BUF_OK) return NET_BUF_E_NOMEM;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return NET_BUF_OK;
}

void net_buf_consume(net_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

uint8_t *net_buf_detach(net_buf *b, size_t *len)
{
    uint8_t *p = b->len ? b->data : NULL;
    *len = b->len;
    if (!p) {
        net_buf_reset(b);
        return NULL;
    }
    net_buf_init(b);
    return p;
}

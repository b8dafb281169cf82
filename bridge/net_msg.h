/* net_msg: one parsed HTTP request, the same shape for HTTP/1.1 and for an
 * HTTP/2 stream, so the router never needs to know which protocol carried
 * it. The protocol cores (net_http1, net_h2) build it with the setters below
 * after they have bounded every part; everyone else only reads it.
 *
 * Strings are stored once, each followed by a NUL, so accessors return
 * both a length and a C string. Returned pointers stay valid until the next
 * setter call or net_msg_destroy. Not thread-safe. */
#ifndef COMFYD_NET_MSG_H
#define COMFYD_NET_MSG_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

struct net_buf;

/* A length-carrying view of bytes owned by someone else. */
typedef struct net_str {
    const char *p;
    size_t len;
} net_str;

typedef struct net_msg net_msg;

typedef enum {
    NET_MSG_OK = CFD_OK,
    /* The request-target is not in origin form ("/path?query") or holds
     * bytes outside printable ASCII. */
    NET_MSG_E_TARGET = CFD_ERR_NET_MSG_TARGET,
    NET_MSG_E_NOMEM = CFD_ERR_NOMEM,
} net_msg_err;

/* Protocol-level facts the cores record for the server loop. */
typedef enum {
    NET_MSG_KEEP_ALIVE = 1 << 0,      /* HTTP/1.x: the connection may carry another request */
    NET_MSG_UPGRADE = 1 << 1,         /* HTTP/1.1: Connection: upgrade + Upgrade present */
    NET_MSG_EXPECT_CONTINUE = 1 << 2, /* HTTP/1.1: Expect: 100-continue */
    NET_MSG_HTTP10 = 1 << 3,          /* HTTP/1.0 request line */
    NET_MSG_H2 = 1 << 4,              /* carried by an HTTP/2 stream */
} net_msg_flag;

/* Returns NET_MSG_OK or NET_MSG_E_NOMEM. *out is owned by the caller. */
int net_msg_create(net_msg **out);
void net_msg_destroy(net_msg *m);

/* Setters (protocol cores only). Each copies its input. All return
 * NET_MSG_OK or NET_MSG_E_NOMEM; net_msg_set_target also NET_MSG_E_TARGET. */
int net_msg_set_method(net_msg *m, const char *p, size_t len);
/* Stores the raw target and splits it at the first '?' into path and query. */
int net_msg_set_target(net_msg *m, const char *p, size_t len);
/* Host header (HTTP/1.1) or :authority (HTTP/2). */
int net_msg_set_authority(net_msg *m, const char *p, size_t len);
/* Appends a header; leading and trailing spaces and tabs of the value are
 * dropped. Names keep their case; lookups ignore it. */
int net_msg_add_header(net_msg *m, const char *name, size_t nlen, const char *value, size_t vlen);
int net_msg_append_body(net_msg *m, const void *p, size_t len);
void net_msg_set_flags(net_msg *m, unsigned flags);

/* Accessors. Strings are "" (never NULL) when unset. */
const char *net_msg_method(const net_msg *m);
const char *net_msg_target(const net_msg *m);
net_str net_msg_path(const net_msg *m);
/* Raw query after '?', without it; "" when there is none. */
net_str net_msg_query(const net_msg *m);
/* Authority with length; p is NULL when the request carried none. */
net_str net_msg_authority(const net_msg *m);
unsigned net_msg_flags(const net_msg *m);
size_t net_msg_header_count(const net_msg *m);
/* i-th header in arrival order; returns 0, or -1 when i is out of range. */
int net_msg_header_at(const net_msg *m, size_t i, net_str *name, net_str *value);
/* First header named name (ASCII case-insensitive); p is NULL when absent. */
net_str net_msg_header(const net_msg *m, const char *name);
/* How many headers are named name. */
size_t net_msg_header_n(const net_msg *m, const char *name);
/* 1 when header name holds token (comma-separated list, case-insensitive;
 * all headers of that name are searched), else 0. */
int net_msg_header_has_token(const net_msg *m, const char *name, const char *token);
const uint8_t *net_msg_body(const net_msg *m, size_t *len);
/* First query parameter called name, raw (not percent-decoded). Returns 1
 * and sets *out when present, else 0. */
int net_msg_query_param(const net_msg *m, const char *name, net_str *out);

/* Case-insensitive ASCII comparison of a view with a C string. */
int net_str_ieq(net_str s, const char *c);

/* A response header as the application hands it over: two C strings. */
typedef struct net_field {
    const char *name;
    const char *value;
} net_field;

/* 1 when name is an RFC 9110 token and value holds no CR, LF, NUL or other
 * control byte except tab (so it cannot split a response), else 0. */
int net_field_valid(const char *name, const char *value);

/* Appends {"error":"<message>"} with message JSON-escaped. Returns
 * NET_MSG_OK or NET_MSG_E_NOMEM. */
int net_msg_error_json(struct net_buf *out, const char *message);

#endif

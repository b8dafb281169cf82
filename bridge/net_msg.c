#include "net_msg.h"

#include "net_buf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    size_t off, len;
} span;

typedef struct {
    span name, value;
} hdr;

struct net_msg {
    net_buf text; /* every string, each followed by a NUL */
    span method, target, path, query, authority;
    int has_authority;
    hdr *hdrs;
    size_t nhdrs, caphdrs;
    net_buf body;
    unsigned flags;
};

int net_msg_create(net_msg **out)
{
    net_msg *m = calloc(1, sizeof *m);
    if (!m) return NET_MSG_E_NOMEM;
    net_buf_init(&m->text);
    net_buf_init(&m->body);
    /* Offset 0 holds an empty string so unset spans read as "". */
    if (net_buf_append(&m->text, "", 1) != NET_BUF_OK) {
        free(m);
        return NET_MSG_E_NOMEM;
    }
    *out = m;
    return NET_MSG_OK;
}

void net_msg_destroy(net_msg *m)
{
    if (!m) return;
    net_buf_free(&m->text);
    net_buf_free(&m->body);
    free(m->hdrs);
    free(m);
}

static int put(net_msg *m, const char *p, size_t len, span *out)
{
    /* p may point into the text itself (copying a header into the
     * authority): keep its offset across the reallocation. */
    const char *base = (const char *)m->text.data;
    if (base && p >= base && p < base + m->text.len) {
        size_t off = (size_t)(p - base);
        if (net_buf_reserve(&m->text, len + 1) != NET_BUF_OK) return NET_MSG_E_NOMEM;
        p = (const char *)m->text.data + off;
    } else if (net_buf_reserve(&m->text, len + 1) != NET_BUF_OK) {
        return NET_MSG_E_NOMEM;
    }
    out->off = m->text.len;
    out->len = len;
    net_buf_append(&m->text, p, len);
    net_buf_append(&m->text, "", 1);
    return NET_MSG_OK;
}

static const char *at(const net_msg *m, span s)
{
    return (const char *)m->text.data + s.off;
}

int net_msg_set_method(net_msg *m, const char *p, size_t len)
{
    return put(m, p, len, &m->method);
}

int net_msg_set_target(net_msg *m, const char *p, size_t len)
{
    if (len == 0 || p[0] != '/') return NET_MSG_E_TARGET;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        /* Fragments are never sent by clients; anything not printable
         * ASCII would reach route matching and logs unescaped. */
        if (c <= 0x20 || c >= 0x7f || c == '#') return NET_MSG_E_TARGET;
    }
    const char *q = memchr(p, '?', len);
    size_t plen = q ? (size_t)(q - p) : len;
    if (put(m, p, len, &m->target) || put(m, p, plen, &m->path)) return NET_MSG_E_NOMEM;
    if (q && put(m, q + 1, len - plen - 1, &m->query)) return NET_MSG_E_NOMEM;
    return NET_MSG_OK;
}

int net_msg_set_authority(net_msg *m, const char *p, size_t len)
{
    if (put(m, p, len, &m->authority)) return NET_MSG_E_NOMEM;
    m->has_authority = 1;
    return NET_MSG_OK;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

int net_msg_add_header(net_msg *m, const char *name, size_t nlen, const char *value, size_t vlen)
{
    while (vlen && is_ows(value[0]))
        value++, vlen--;
    while (vlen && is_ows(value[vlen - 1]))
        vlen--;
    if (m->nhdrs == m->caphdrs) {
        size_t cap = m->caphdrs ? m->caphdrs * 2 : 16;
        hdr *h = realloc(m->hdrs, cap * sizeof *h);
        if (!h) return NET_MSG_E_NOMEM;
        m->hdrs = h;
        m->caphdrs = cap;
    }
    hdr h;
    if (put(m, name, nlen, &h.name) || put(m, value, vlen, &h.value)) return NET_MSG_E_NOMEM;
    m->hdrs[m->nhdrs++] = h;
    return NET_MSG_OK;
}

int net_msg_append_body(net_msg *m, const void *p, size_t len)
{
    return net_buf_append(&m->body, p, len) == NET_BUF_OK ? NET_MSG_OK : NET_MSG_E_NOMEM;
}

void net_msg_set_flags(net_msg *m, unsigned flags)
{
    m->flags = flags;
}

const char *net_msg_method(const net_msg *m)
{
    return at(m, m->method);
}

const char *net_msg_target(const net_msg *m)
{
    return at(m, m->target);
}

net_str net_msg_path(const net_msg *m)
{
    return (net_str){at(m, m->path), m->path.len};
}

net_str net_msg_query(const net_msg *m)
{
    return (net_str){at(m, m->query), m->query.len};
}

net_str net_msg_authority(const net_msg *m)
{
    if (!m->has_authority) return (net_str){NULL, 0};
    return (net_str){at(m, m->authority), m->authority.len};
}

unsigned net_msg_flags(const net_msg *m)
{
    return m->flags;
}

size_t net_msg_header_count(const net_msg *m)
{
    return m->nhdrs;
}

int net_msg_header_at(const net_msg *m, size_t i, net_str *name, net_str *value)
{
    if (i >= m->nhdrs) return -1;
    *name = (net_str){at(m, m->hdrs[i].name), m->hdrs[i].name.len};
    *value = (net_str){at(m, m->hdrs[i].value), m->hdrs[i].value.len};
    return 0;
}

int net_str_ieq(net_str s, const char *c)
{
    size_t n = strlen(c);
    return s.p && s.len == n && strncasecmp(s.p, c, n) == 0;
}

net_str net_msg_header(const net_msg *m, const char *name)
{
    for (size_t i = 0; i < m->nhdrs; i++) {
        net_str n = {at(m, m->hdrs[i].name), m->hdrs[i].name.len};
        if (net_str_ieq(n, name)) return (net_str){at(m, m->hdrs[i].value), m->hdrs[i].value.len};
    }
    return (net_str){NULL, 0};
}

size_t net_msg_header_n(const net_msg *m, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nhdrs; i++) {
        net_str s = {at(m, m->hdrs[i].name), m->hdrs[i].name.len};
        n += net_str_ieq(s, name);
    }
    return n;
}

static int list_has_token(net_str v, const char *token)
{
    size_t i = 0;
    while (i < v.len) {
        while (i < v.len && (is_ows(v.p[i]) || v.p[i] == ','))
            i++;
        size_t start = i;
        while (i < v.len && v.p[i] != ',')
            i++;
        size_t end = i;
        while (end > start && is_ows(v.p[end - 1]))
            end--;
        if (end > start && net_str_ieq((net_str){v.p + start, end - start}, token)) return 1;
    }
    return 0;
}

int net_msg_header_has_token(const net_msg *m, const char *name, const char *token)
{
    for (size_t i = 0; i < m->nhdrs; i++) {
        net_str n = {at(m, m->hdrs[i].name), m->hdrs[i].name.len};
        if (!net_str_ieq(n, name)) continue;
        if (list_has_token((net_str){at(m, m->hdrs[i].value), m->hdrs[i].value.len}, token))
            return 1;
    }
    return 0;
}

const uint8_t *net_msg_body(const net_msg *m, size_t *len)
{
    *len = m->body.len;
    return m->body.data ? m->body.data : (const uint8_t *)"";
}

int net_msg_query_param(const net_msg *m, const char *name, net_str *out)
{
    net_str q = net_msg_query(m);
    size_t nlen = strlen(name);
    size_t i = 0;
    while (i <= q.len) {
        size_t start = i;
        while (i < q.len && q.p[i] != '&')
            i++;
        const char *eq = memchr(q.p + start, '=', i - start);
        size_t klen = eq ? (size_t)(eq - (q.p + start)) : i - start;
        if (klen == nlen && memcmp(q.p + start, name, nlen) == 0) {
            out->p = eq ? eq + 1 : q.p + i;
            out->len = eq ? (size_t)(q.p + i - (eq + 1)) : 0;
            return 1;
        }
        i++;
    }
    return 0;
}

static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int net_field_valid(const char *name, const char *value)
{
    if (!name || !value || !*name) return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (!is_tchar(*p)) return 0;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f) return 0;
    return 1;
}

int net_msg_error_json(net_buf *out, const char *message)
{
    int r = net_buf_append_str(out, "{\"error\":\"");
    for (const unsigned char *p = (const unsigned char *)message; *p && r == NET_BUF_OK; p++) {
        if (*p == '"' || *p == '\\')
            r = net_buf_printf(out, "\\%c", *p);
        else if (*p < 0x20)
            r = net_buf_printf(out, "\\u%04x", *p);
        else
            r = net_buf_append(out, p, 1);
    }
    if (r == NET_BUF_OK) r = net_buf_append_str(out, "\"}");
    return r == NET_BUF_OK ? NET_MSG_OK : NET_MSG_E_NOMEM;
}

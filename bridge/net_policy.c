#include "net_policy.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const default_origins[] = {"http://127.0.0.1:8188", "http://localhost:8188"};
static const char *const loopback_names[] = {"127.0.0.1", "localhost", "[::1]"};

typedef struct {
    char *name; /* lower case */
    int port;   /* 0: the listen port */
} host_entry;

struct net_policy {
    int port;
    host_entry hosts[NET_POLICY_MAX_NAMES];
    size_t nhosts;
    char *origins[NET_POLICY_MAX_NAMES + 2];
    size_t norigins;
    unsigned char token_hash[32];
    int has_token;
};

/* Splits "name[:port]" / "[v6][:port]". Returns 0 and the parts, or -1. A
 * missing port gives *port = 0. */
static int split_host(net_str h, net_str *name, int *port)
{
    if (h.len == 0) return -1;
    size_t end;
    if (h.p[0] == '[') {
        const char *rb = memchr(h.p, ']', h.len);
        if (!rb) return -1;
        end = (size_t)(rb - h.p) + 1;
    } else {
        const char *c = memchr(h.p, ':', h.len);
        end = c ? (size_t)(c - h.p) : h.len;
    }
    if (end == 0) return -1;
    *name = (net_str){h.p, end};
    *port = 0;
    if (end == h.len) return 0;
    if (h.p[end] != ':' || h.len - end < 2 || h.len - end > 6) return -1;
    int v = 0;
    for (size_t i = end + 1; i < h.len; i++) {
        if (h.p[i] < '0' || h.p[i] > '9') return -1;
        v = v * 10 + (h.p[i] - '0');
    }
    if (v < 1 || v > 65535) return -1;
    *port = v;
    return 0;
}

static int name_chars_ok(net_str n)
{
    for (size_t i = 0; i < n.len; i++) {
        unsigned char c = (unsigned char)n.p[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '[' || c == ']' || c == ':';
        if (!ok) return 0;
    }
    return 1;
}

static void sha256(const void *d, size_t n, unsigned char out[32])
{
    unsigned int len = 0;
    EVP_Digest(d, n, out, &len, EVP_sha256(), NULL);
}

static int token_chars_ok(const char *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
        if (!ok) return 0;
    }
    return 1;
}

static char *lower_dup(const char *s)
{
    char *d = strdup(s);
    if (!d) return NULL;
    for (char *p = d; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
    return d;
}

int net_policy_create(net_policy **out, const net_policy_opts *o)
{
    if (o->port < 1 || o->port > 65535 || o->nhosts > NET_POLICY_MAX_NAMES ||
        o->norigins > NET_POLICY_MAX_NAMES)
        return NET_POLICY_E_ARG;
    net_policy *p = calloc(1, sizeof *p);
    if (!p) return NET_POLICY_E_NOMEM;
    int r = NET_POLICY_E_NOMEM;
    p->port = o->port;
    for (size_t i = 0; i < o->nhosts; i++) {
        net_str name;
        int port;
        net_str h = {o->hosts[i], strlen(o->hosts[i])};
        if (split_host(h, &name, &port) || !name_chars_ok(name)) {
            r = NET_POLICY_E_ARG;
            goto fail;
        }
        char *n = strndup(name.p, name.len);
        if (!n) goto fail;
        for (char *c = n; *c; c++)
            if (*c >= 'A' && *c <= 'Z') *c = (char)(*c + 32);
        p->hosts[p->nhosts++] = (host_entry){n, port};
    }
    for (size_t i = 0; i < 2; i++)
        if (!(p->origins[p->norigins++] = lower_dup(default_origins[i]))) goto fail;
    for (size_t i = 0; i < o->norigins; i++) {
        if (!strcmp(o->origins[i], "null")) {
            r = NET_POLICY_E_ARG;
            goto fail;
        }
        if (!(p->origins[p->norigins++] = lower_dup(o->origins[i]))) goto fail;
    }
    if (o->token) {
        size_t n = strlen(o->token);
        if (n < NET_POLICY_TOKEN_MIN || n > NET_POLICY_TOKEN_MAX || !token_chars_ok(o->token, n)) {
            r = NET_POLICY_E_ARG;
            goto fail;
        }
        sha256(o->token, n, p->token_hash);
        p->has_token = 1;
    }
    *out = p;
    return 0;
fail:
    net_policy_destroy(p);
    return r;
}

void net_policy_destroy(net_policy *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->nhosts; i++)
        free(p->hosts[i].name);
    for (size_t i = 0; i < p->norigins; i++)
        free(p->origins[i]);
    OPENSSL_cleanse(p->token_hash, sizeof p->token_hash);
    free(p);
}

static int ieq(net_str a, const char *b)
{
    return net_str_ieq(a, b);
}

int net_policy_host_ok(const net_policy *p, net_str host)
{
    net_str name;
    int port;
    if (!host.p || split_host(host, &name, &port) || !name_chars_ok(name)) return 0;
    int eff = port ? port : 80;
    for (size_t i = 0; i < sizeof loopback_names / sizeof loopback_names[0]; i++)
        if (ieq(name, loopback_names[i]) && eff == p->port) return 1;
    for (size_t i = 0; i < p->nhosts; i++) {
        if (!ieq(name, p->hosts[i].name)) continue;
        if (p->hosts[i].port ? eff == p->hosts[i].port : eff == p->port) return 1;
    }
    return 0;
}

int net_policy_origin_ok(const net_policy *p, net_str origin)
{
    if (!origin.p || ieq(origin, "null")) return 0;
    for (size_t i = 0; i < p->norigins; i++)
        if (ieq(origin, p->origins[i])) return 1;
    return 0;
}

int net_policy_token_ok(const net_policy *p, net_str token)
{
    if (!p->has_token || !token.p || token.len == 0 || token.len > NET_POLICY_TOKEN_MAX) return 0;
    /* Hashing first makes the comparison independent of the length and the
     * content of the guess. */
    unsigned char h[32];
    sha256(token.p, token.len, h);
    return CRYPTO_memcmp(h, p->token_hash, sizeof h) == 0;
}

int net_policy_bearer_ok(const net_policy *p, net_str a)
{
    if (!a.p || a.len < 7 || strncasecmp(a.p, "bearer", 6) != 0 || a.p[6] != ' ') return 0;
    size_t i = 7;
    while (i < a.len && a.p[i] == ' ')
        i++;
    return net_policy_token_ok(p, (net_str){a.p + i, a.len - i});
}

/* Calls fn on each comma-separated, trimmed element of every
 * Sec-WebSocket-Protocol header of m until it returns non-zero; returns
 * that value or 0. */
static int each_ws_protocol(const net_msg *m, int (*fn)(net_str v, void *ud), void *ud)
{
    net_str name, value;
    for (size_t i = 0; net_msg_header_at(m, i, &name, &value) == 0; i++) {
        if (!net_str_ieq(name, "sec-websocket-protocol")) continue;
        size_t a = 0;
        while (a <= value.len) {
            size_t b = a;
            while (b < value.len && value.p[b] != ',')
                b++;
            size_t s = a, e = b;
            while (s < e && (value.p[s] == ' ' || value.p[s] == '\t'))
                s++;
            while (e > s && (value.p[e - 1] == ' ' || value.p[e - 1] == '\t'))
                e--;
            if (e > s) {
                int r = fn((net_str){value.p + s, e - s}, ud);
                if (r) return r;
            }
            a = b + 1;
        }
    }
    return 0;
}

static int is_token_proto(net_str v)
{
    size_t n = sizeof NET_POLICY_WS_TOKEN_PROTO - 1;
    return v.len >= n && memcmp(v.p, NET_POLICY_WS_TOKEN_PROTO, n) == 0;
}

static int find_token_proto(net_str v, void *ud)
{
    net_policy_req *r = ud;
    if (!is_token_proto(v)) return 0;
    size_t n = sizeof NET_POLICY_WS_TOKEN_PROTO - 1;
    /* Two token subprotocols: the check refuses the request. */
    if (r->has_proto_token) {
        r->proto_token = (net_str){NULL, 0};
        return 1;
    }
    r->has_proto_token = 1;
    r->proto_token = (net_str){v.p + n, v.len - n};
    return 0;
}

void net_policy_req_from_msg(net_policy_req *r, const net_msg *m, int ws)
{
    memset(r, 0, sizeof *r);
    r->host = net_msg_authority(m);
    r->nhost = r->host.p ? 1 : 0;
    /* HTTP/2 may carry a host header next to :authority. */
    size_t nh = net_msg_header_n(m, "host");
    if (nh > r->nhost) r->nhost = nh;
    r->origin = net_msg_header(m, "origin");
    r->norigin = net_msg_header_n(m, "origin");
    r->authorization = net_msg_header(m, "authorization");
    r->nauthorization = net_msg_header_n(m, "authorization");
    if (ws) {
        r->has_query_token = net_msg_query_param(m, "token", &r->query_token);
        each_ws_protocol(m, find_token_proto, r);
    }
}

typedef struct {
    net_str plain, token;
} proto_pick;

static int pick_proto(net_str v, void *ud)
{
    proto_pick *p = ud;
    if (v.len == sizeof NET_POLICY_WS_PROTO - 1 && !memcmp(v.p, NET_POLICY_WS_PROTO, v.len)) {
        p->plain = v;
        return 1;
    }
    if (!p->token.p && is_token_proto(v)) p->token = v;
    return 0;
}

net_str net_policy_ws_protocol(const net_msg *m)
{
    proto_pick p = {{NULL, 0}, {NULL, 0}};
    each_ws_protocol(m, pick_proto, &p);
    return p.plain.p ? p.plain : p.token;
}

int net_policy_check(const net_policy *p, const net_policy_req *r)
{
    if (r->nhost != 1 || !net_policy_host_ok(p, r->host)) return NET_POLICY_E_HOST;
    /* The Origin is a second wall against browsers on other sites; it
     * never replaces the token. */
    if (r->norigin > 1) return NET_POLICY_E_ORIGIN;
    if (r->norigin == 1 && !net_policy_origin_ok(p, r->origin)) return NET_POLICY_E_ORIGIN;
    /* Every token presented must be valid; one valid token is enough. */
    int presented = 0;
    if (r->nauthorization > 1) return NET_POLICY_E_TOKEN;
    if (r->nauthorization == 1) {
        if (!net_policy_bearer_ok(p, r->authorization)) return NET_POLICY_E_TOKEN;
        presented = 1;
    }
    if (r->has_query_token) {
        if (!net_policy_token_ok(p, r->query_token)) return NET_POLICY_E_TOKEN;
        presented = 1;
    }
    if (r->has_proto_token) {
        if (!net_policy_token_ok(p, r->proto_token)) return NET_POLICY_E_TOKEN;
        presented = 1;
    }
    if (presented || r->public_route) return NET_POLICY_OK;
    return NET_POLICY_E_TOKEN;
}

int net_policy_status(int err)
{
    switch (err) {
    case NET_POLICY_OK:
        return 200;
    case NET_POLICY_E_HOST:
        return 421;
    case NET_POLICY_E_ORIGIN:
        return 403;
    case NET_POLICY_E_TOKEN:
        return 401;
    default:
        return 500;
    }
}

const char *net_policy_message(int err)
{
    switch (err) {
    case NET_POLICY_E_HOST:
        return "host not allowed";
    case NET_POLICY_E_ORIGIN:
        return "origin not allowed";
    case NET_POLICY_E_TOKEN:
        return "missing or invalid token";
    default:
        return "forbidden";
    }
}

/* ---- token file ---- */

static int create_token_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return errno == EEXIST ? 1 : -1;
    unsigned char raw[NET_POLICY_TOKEN_HEX / 2];
    char hex[NET_POLICY_TOKEN_HEX + 2];
    int ok = getrandom(raw, sizeof raw, 0) == (ssize_t)sizeof raw;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    hex[NET_POLICY_TOKEN_HEX] = '\n';
    OPENSSL_cleanse(raw, sizeof raw);
    size_t n = NET_POLICY_TOKEN_HEX + 1, off = 0;
    while (ok && off < n) {
        ssize_t w = write(fd, hex + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            ok = 0;
        else
            off += (size_t)w;
    }
    OPENSSL_cleanse(hex, sizeof hex);
    if (ok && fsync(fd) != 0) ok = 0;
    int saved = errno;
    close(fd);
    if (!ok) {
        unlink(path);
        errno = saved ? saved : EIO;
        return -1;
    }
    return 0;
}

int net_policy_token_load(const char *path, char *out, size_t cap)
{
    if (cap < NET_POLICY_TOKEN_MAX + 1) return NET_POLICY_E_ARG;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (create_token_file(path) < 0) return NET_POLICY_E_IO;
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) return errno == ELOOP ? NET_POLICY_E_PERM : NET_POLICY_E_IO;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return NET_POLICY_E_IO;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
        close(fd);
        return NET_POLICY_E_PERM;
    }
    char buf[NET_POLICY_TOKEN_MAX + 8];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, sizeof buf - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            close(fd);
            return NET_POLICY_E_IO;
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n == sizeof buf) break;
    }
    close(fd);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        n--;
    int ok = n >= NET_POLICY_TOKEN_MIN && n <= NET_POLICY_TOKEN_MAX && token_chars_ok(buf, n);
    if (ok) {
        memcpy(out, buf, n);
        out[n] = '\0';
    }
    OPENSSL_cleanse(buf, sizeof buf);
    if (!ok) {
        errno = EINVAL;
        return NET_POLICY_E_IO;
    }
    return 0;
}

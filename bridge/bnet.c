/* bnet: sockets, timers and routing around the protocol cores.
 *
 * Per connection: SNIFF (hold at most 24 bytes while they are a prefix of
 * the HTTP/2 preface) -> H1 (net_http1) -> WS (net_ws) or H2 (net_h2, also
 * straight from SNIFF). All input is processed synchronously on the loop
 * thread; output collects in conn.out and goes out with one uv_write at a
 * time. pump() is the single place that moves a connection forward; calls
 * from the application only schedule it (an idle handle runs it next), so
 * no callback ever runs inside the application's own bnet_* call except
 * bnet_stop. */
#include "bnet.h"

#include "log.h"
#include "net_buf.h"
#include "net_h2.h"
#include "net_http1.h"
#include "net_msg.h"
#include "net_policy.h"
#include "net_ws.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Defaults. Browsers open at most 6 connections per origin and agents a
 * few; 256 leaves room without letting a runaway client exhaust fds. */
#define BNET_DEFAULT_PORT 8189
#define BNET_DEFAULT_MAX_CONNECTIONS 256
/* Connections without a valid token yet: a browser's few plus agents
 * connecting at once fit; a flood of idle sockets gets no more. */
#define BNET_DEFAULT_MAX_UNAUTH 64
/* A client that connects sends its request at once; 10 s covers a loaded
 * machine, not a socket held open for nothing. */
#define BNET_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
/* Calls one connection may have running: HTTP/2's concurrent streams,
 * so only requests reset before their answer can go beyond them. */
#define BNET_DEFAULT_CONN_MAX_CHARGES 100
/* Output per connection before we stop reading from it. */
#define BNET_DEFAULT_WRITE_HIGH_WATER (1024 * 1024)
/* Unsent bytes per streamed response: an event stream that falls this far
 * behind is better restarted by the client (it resumes by sequence). */
#define BNET_DEFAULT_STREAM_MAX_PENDING (1024 * 1024)
/* HTTP/1.1 requests parsed ahead of their answers. */
#define BNET_DEFAULT_MAX_PIPELINE 16
/* An attachment upload: the core's largest attachment (3 MiB) with room. */
#define BNET_DEFAULT_MAX_UPLOAD_BODY (4u << 20)
/* Slowloris: a head must be complete 10 s after its first byte. */
#define BNET_DEFAULT_HEADER_TIMEOUT_MS 10000
#define BNET_DEFAULT_BODY_TIMEOUT_MS 60000
#define BNET_DEFAULT_IDLE_TIMEOUT_MS 60000
/* Browsers drop silent WebSockets behind some proxies; 30 s pings keep them
 * and find dead peers within a minute. */
#define BNET_DEFAULT_WS_PING_MS 30000
/* Lingering close: long enough for the peer to read our last bytes. */
#define BNET_DEFAULT_LINGER_MS 2000
/* A WebSocket closing with output still queued before its close frame: how
 * long a peer that does not read is waited for, and how long one that
 * reads slowly may take at most. */
#define BNET_WS_CLOSE_GRACE_MS 10000
#define BNET_WS_CLOSE_MAX_MS 60000

/* One read; the cores consume input synchronously, so one buffer serves
 * every connection. */
#define READ_BUF_SIZE (64 * 1024)
/* Connections being answered 503 at the same time; more are dropped. */
#define MAX_REFUSING 64
/* Backlog of the listening socket. */
#define LISTEN_BACKLOG 128
/* "PRI ": no HTTP/1.1 method; input that starts so is a broken h2 preface. */
#define H2_PREFACE_METHOD_LEN 4
/* How far into a connection's first bytes the request line is looked for
 * when it does not parse (see not_http_line). */
#define FIRST_LINE_SCAN 8192

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define H2_PREFACE_LEN 24

typedef struct conn conn;

typedef struct route {
    char *method; /* NULL: any */
    char *path;
    size_t path_len;
    unsigned flags;
    int ws;
    bnet_handler fn;
    bnet_ws_handlers wsh;
    void *ud;
} route;

enum { P_SNIFF, P_H1, P_WS, P_H2 };
enum { S_OPEN, S_DRAINING, S_LINGER, S_CLOSING };
enum { T_NONE, T_IDLE, T_HEADER, T_BODY, T_PING, T_WS_CLOSE, T_LINGER };
enum { UP_NONE, UP_WS, UP_H2C };
enum { RQ_PENDING, RQ_STREAMING, RQ_DONE, RQ_ABORTED };

struct bnet_req {
    bnet *srv;
    conn *c;
    uint64_t id;
    net_msg *msg;
    int32_t sid; /* HTTP/2 stream, 0 for HTTP/1.1 */
    int state;
    int upgrade;
    int is_head, keep_alive, http10;
    int live;       /* on conn.live and in the id map: the application may use it */
    int queued;     /* on the HTTP/1.1 answer queue */
    int in_handler; /* a callback with this request is running */
    net_buf resp;   /* HTTP/1.1 bytes waiting for their turn */
    int close_after;
    void (*abort_fn)(bnet_req *, void *);
    void *abort_ud;
    void *data;
    bnet_req *qnext;
    bnet_req *lprev, *lnext;
    char peer[64];
};

struct bnet_ws {
    bnet *srv;
    conn *c;
    uint64_t id;
    const route *rt;
    void *data;
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_timer_t hs_timer; /* handshake deadline while unauthenticated */
    int handles_open;
    int authed;    /* a request presented a valid token */
    int on_unauth; /* linked on bnet.unauth_head */
    conn *uprev, *unext;
    size_t charges;  /* bnet_req_charge units held */
    size_t h1_count; /* HTTP/1.1 requests parsed */
    bnet *srv;
    uint64_t id;
    int proto, state, timer_kind;
    uint8_t sniff[H2_PREFACE_LEN];
    size_t sniff_len;
    net_http1 *h1;
    net_h2 *h2;
    net_ws *ws;
    bnet_ws *wsobj;
    net_buf in;  /* HTTP/1.1 input not yet parsed; leftovers after an upgrade */
    net_buf out; /* output not yet handed to uv_write */
    size_t inflight;
    int writing, reading, busy, again, dirty, released, eof, refused;
    int h1_stop;  /* parse no further requests */
    int h2_dying; /* GOAWAY queued after a protocol error */
    int ws_heard, ws_pinged;
    /* Bytes the kernel took for the peer: a peer that reads is alive even
     * while its pongs wait unread behind our back-pressure. */
    uint64_t bytes_written, ping_bytes;
    /* When our close frame was queued (loop ms) and the bytes written then:
     * the close linger waits longer for a peer that still drains. */
    uint64_t close_started, close_bytes;
    int ws_congested; /* output reached BNET_WS_HIGH_WATER: on_drain is owed */
    /* Decision of h1_on_head for the head being parsed. */
    const char *reject_text;
    int reject_auth;
    bnet_req *qhead, *qtail;
    size_t qlen;
    bnet_req *live;
    char peer[64];
    uv_shutdown_t shutdown_req;
    conn *prev, *next;
    conn *dnext; /* dirty list */
};

typedef struct post_item {
    void (*fn)(void *);
    void *ud;
    struct post_item *next;
} post_item;

/* uint64 id -> pointer, open addressing; ids are never 0 or ~0. */
typedef struct {
    uint64_t *keys;
    void **vals;
    size_t cap, used, n;
} idmap;

struct bnet {
    uv_loop_t *loop;
    uv_tcp_t *listener;
    uv_async_t *async;
    uv_idle_t *idle;
    int handles_open;
    bnet_limits lim;
    net_policy *policy;
    int port;
    net_http1_limits h1lim;
    net_ws_limits wslim;
    net_h2_limits h2lim;
    route **routes;
    size_t nroutes;
    conn *conns;
    size_t nopen, nrefusing;
    conn *unauth_head, *unauth_tail; /* oldest first */
    size_t nunauth;
    idmap conn_ids; /* connection id -> conn, for bnet_discharge */
    conn *dirty;
    uint64_t next_id;
    idmap reqs, wss;
    pthread_mutex_t mu;
    post_item *post_head, *post_tail;
    int post_stopped;
    int stopped;
    bnet_stats st;
    char rbuf[READ_BUF_SIZE];
};

/* ---- small helpers ---- */

const char *bnet_strerror(int err)
{
    switch (err) {
    case BNET_OK:
        return "ok";
    case BNET_E_STATE:
        return "not allowed in this state";
    case BNET_E_FULL:
        return "output limit reached";
    case BNET_E_CLOSED:
        return "connection closed";
    case BNET_E_STOPPED:
        return "server stopped";
    case BNET_E_ARG:
        return "invalid argument";
    case BNET_E_EXISTS:
        return "route exists";
    case BNET_E_LISTEN:
        return "cannot listen";
    case BNET_E_TOKEN:
        return "token file unusable";
    case BNET_E_NOMEM:
        return "out of memory";
    default:
        return "unknown error";
    }
}

static uint64_t id_hash(uint64_t k)
{
    return k * 0x9E3779B97F4A7C15ull;
}

#define ID_TOMB UINT64_MAX

static int idmap_grow(idmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    while (m->n * 2 >= cap)
        cap *= 2;
    uint64_t *keys = calloc(cap, sizeof *keys);
    void **vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == 0 || m->keys[i] == ID_TOMB) continue;
        size_t j = id_hash(m->keys[i]) & (cap - 1);
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    m->used = m->n;
    return 0;
}

static int idmap_put(idmap *m, uint64_t k, void *v)
{
    if ((m->used + 1) * 4 >= m->cap * 3 && idmap_grow(m)) return -1;
    size_t j = id_hash(k) & (m->cap - 1);
    while (m->keys[j] && m->keys[j] != ID_TOMB)
        j = (j + 1) & (m->cap - 1);
    if (m->keys[j] == 0) m->used++;
    m->keys[j] = k;
    m->vals[j] = v;
    m->n++;
    return 0;
}

static size_t idmap_slot(const idmap *m, uint64_t k)
{
    if (!m->cap) return SIZE_MAX;
    size_t j = id_hash(k) & (m->cap - 1);
    while (m->keys[j]) {
        if (m->keys[j] == k) return j;
        j = (j + 1) & (m->cap - 1);
    }
    return SIZE_MAX;
}

static void *idmap_get(const idmap *m, uint64_t k)
{
    size_t j = idmap_slot(m, k);
    return j == SIZE_MAX ? NULL : m->vals[j];
}

static void idmap_del(idmap *m, uint64_t k)
{
    size_t j = idmap_slot(m, k);
    if (j == SIZE_MAX) return;
    m->keys[j] = ID_TOMB;
    m->vals[j] = NULL;
    m->n--;
}

static void idmap_free(idmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* Copies application headers into core fields after the shared checks.
 * Framing and connection headers belong to bnet. */
static int fields_from(net_field *f, size_t *n, const char *ctype, const bnet_header *extra,
                       size_t n_extra)
{
    static const char *const reserved[] = {"content-length", "transfer-encoding", "connection",
                                           "keep-alive",     "upgrade",           "te",
                                           "trailer",        "proxy-connection"};
    if (n_extra > BNET_MAX_EXTRA_HEADERS || (n_extra && !extra)) return BNET_E_ARG;
    size_t k = 0;
    if (ctype) f[k++] = (net_field){"Content-Type", ctype};
    for (size_t i = 0; i < n_extra; i++) {
        if (!net_field_valid(extra[i].name, extra[i].value)) return BNET_E_ARG;
        for (size_t j = 0; j < sizeof reserved / sizeof reserved[0]; j++)
            if (strcasecmp(extra[i].name, reserved[j]) == 0) return BNET_E_ARG;
        f[k++] = (net_field){extra[i].name, extra[i].value};
    }
    for (size_t i = 0; i < k; i++)
        if (!net_field_valid(f[i].name, f[i].value)) return BNET_E_ARG;
    *n = k;
    return 0;
}

/* ---- forward declarations ---- */

static void pump(conn *c);
static void schedule(conn *c);
static void close_hard(conn *c);
static void begin_close(conn *c);
static void update_reading(conn *c);
static void arm(conn *c, int kind, uint64_t ms);
static void disarm(conn *c);
static int dispatch(bnet_req *r);
static void h1_output(conn *c);

/* ---- requests ---- */

static bnet_req *req_new(conn *c, net_msg *m)
{
    bnet_req *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->srv = c->srv;
    r->c = c;
    r->msg = m;
    net_buf_init(&r->resp);
    memcpy(r->peer, c->peer, sizeof r->peer);
    if (m) {
        unsigned fl = net_msg_flags(m);
        r->is_head = !strcmp(net_msg_method(m), "HEAD");
        r->keep_alive = !!(fl & NET_MSG_KEEP_ALIVE);
        r->http10 = !!(fl & NET_MSG_HTTP10);
    }
    return r;
}

static int req_publish(bnet_req *r)
{
    bnet *s = r->srv;
    r->id = ++s->next_id;
    if (idmap_put(&s->reqs, r->id, r)) return -1;
    conn *c = r->c;
    r->live = 1;
    r->lnext = c->live;
    if (c->live) c->live->lprev = r;
    c->live = r;
    return 0;
}

static void req_free(bnet_req *r)
{
    net_msg_destroy(r->msg);
    net_buf_free(&r->resp);
    free(r);
}

static void req_maybe_free(bnet_req *r)
{
    if (!r->live && !r->queued && !r->in_handler) req_free(r);
}

/* The application is done with r (answered or aborted). */
static void req_unpublish(bnet_req *r)
{
    if (!r->live) return;
    conn *c = r->c;
    if (r->lprev)
        r->lprev->lnext = r->lnext;
    else
        c->live = r->lnext;
    if (r->lnext) r->lnext->lprev = r->lprev;
    r->lprev = r->lnext = NULL;
    r->live = 0;
    idmap_del(&r->srv->reqs, r->id);
    if (r->sid && c->h2) net_h2_detach(c->h2, r->sid);
}

static void req_abort(bnet_req *r)
{
    if (r->state == RQ_PENDING || r->state == RQ_STREAMING) {
        r->state = RQ_ABORTED;
        if (r->abort_fn) {
            r->in_handler++;
            r->abort_fn(r, r->abort_ud);
            r->in_handler--;
        }
    }
    req_unpublish(r);
    req_maybe_free(r);
}

static void enqueue(conn *c, bnet_req *r)
{
    r->queued = 1;
    if (c->qtail)
        c->qtail->qnext = r;
    else
        c->qhead = r;
    c->qtail = r;
    c->qlen++;
}

static bnet_req *dequeue(conn *c)
{
    bnet_req *r = c->qhead;
    if (!r) return NULL;
    c->qhead = r->qnext;
    if (!c->qhead) c->qtail = NULL;
    c->qlen--;
    r->qnext = NULL;
    r->queued = 0;
    return r;
}

/* ---- routing ---- */

static int path_is(const route *rt, net_str path)
{
    if (rt->flags & BNET_ROUTE_PREFIX)
        return path.len >= rt->path_len && memcmp(path.p, rt->path, rt->path_len) == 0;
    return path.len == rt->path_len && memcmp(path.p, rt->path, rt->path_len) == 0;
}

/* Best route of kind ws for method and path: exact before prefix, longer
 * prefix first. *path_hit is set when some route has the path but another
 * method; allow then lists those methods. */
static const route *match(const bnet *s, int ws, const char *method, net_str path, int *path_hit,
                          char *allow, size_t allow_cap)
{
    const route *best = NULL;
    size_t best_score = 0;
    if (path_hit) *path_hit = 0;
    if (allow && allow_cap) allow[0] = '\0';
    for (size_t i = 0; i < s->nroutes; i++) {
        const route *rt = s->routes[i];
        if (rt->ws != ws || !path_is(rt, path)) continue;
        if (!ws && method && rt->method && strcmp(rt->method, method) != 0) {
            if (path_hit) *path_hit = 1;
            if (allow && !strstr(allow, rt->method) &&
                strlen(allow) + strlen(rt->method) + 3 < allow_cap) {
                if (allow[0]) strcat(allow, ", ");
                strcat(allow, rt->method);
            }
            continue;
        }
        size_t score = (rt->flags & BNET_ROUTE_PREFIX) ? rt->path_len + 1 : SIZE_MAX;
        /* A route for this exact method beats a method-less one. */
        if (score == SIZE_MAX && !rt->method) score--;
        if (!best || score > best_score) {
            best = rt;
            best_score = score;
        }
    }
    return best;
}

static int add_route(bnet *s, const char *method, const char *path, unsigned flags, int ws,
                     bnet_handler fn, const bnet_ws_handlers *wsh, void *ud)
{
    if (!path || path[0] != '/' ||
        (flags & ~(BNET_ROUTE_PREFIX | BNET_ROUTE_PUBLIC | BNET_ROUTE_UPLOAD)))
        return BNET_E_ARG;
    if (method && (!*method || !net_field_valid(method, ""))) return BNET_E_ARG;
    for (size_t i = 0; i < s->nroutes; i++) {
        const route *rt = s->routes[i];
        int same_method =
            (!method && !rt->method) || (method && rt->method && !strcmp(method, rt->method));
        if (rt->ws == ws && same_method && !strcmp(rt->path, path) &&
            (rt->flags & BNET_ROUTE_PREFIX) == (flags & BNET_ROUTE_PREFIX))
            return BNET_E_EXISTS;
    }
    route **grown = realloc(s->routes, (s->nroutes + 1) * sizeof *grown);
    if (!grown) return BNET_E_NOMEM;
    s->routes = grown;
    route *rt = calloc(1, sizeof *rt);
    if (!rt) return BNET_E_NOMEM;
    rt->path = strdup(path);
    rt->method = method ? strdup(method) : NULL;
    if (!rt->path || (method && !rt->method)) {
        free(rt->path);
        free(rt->method);
        free(rt);
        return BNET_E_NOMEM;
    }
    rt->path_len = strlen(path);
    rt->flags = flags;
    rt->ws = ws;
    rt->fn = fn;
    if (wsh) rt->wsh = *wsh;
    rt->ud = ud;
    s->routes[s->nroutes++] = rt;
    return BNET_OK;
}

int bnet_route(bnet *s, const char *method, const char *path, unsigned flags, bnet_handler fn,
               void *ud)
{
    if (!fn) return BNET_E_ARG;
    return add_route(s, method, path, flags, 0, fn, NULL, ud);
}

int bnet_route_ws(bnet *s, const char *path, unsigned flags, const bnet_ws_handlers *h, void *ud)
{
    if (!h || !h->on_open || !h->on_message || !h->on_close) return BNET_E_ARG;
    return add_route(s, NULL, path, flags, 1, NULL, h, ud);
}

/* ---- unauthenticated connections ---- */

static void unauth_remove(conn *c)
{
    if (!c->on_unauth) return;
    bnet *s = c->srv;
    if (c->uprev)
        c->uprev->unext = c->unext;
    else
        s->unauth_head = c->unext;
    if (c->unext)
        c->unext->uprev = c->uprev;
    else
        s->unauth_tail = c->uprev;
    c->uprev = c->unext = NULL;
    c->on_unauth = 0;
    s->nunauth--;
    s->st.connections_unauth = s->nunauth;
}

static void unauth_add(conn *c)
{
    bnet *s = c->srv;
    c->uprev = s->unauth_tail;
    c->unext = NULL;
    if (s->unauth_tail)
        s->unauth_tail->unext = c;
    else
        s->unauth_head = c;
    s->unauth_tail = c;
    c->on_unauth = 1;
    s->nunauth++;
    s->st.connections_unauth = s->nunauth;
}

static void conn_authenticated(conn *c)
{
    if (c->authed) return;
    c->authed = 1;
    unauth_remove(c);
    uv_timer_stop(&c->hs_timer);
}

static void on_hs_timer(uv_timer_t *t)
{
    conn *c = t->data;
    if (c->authed || c->state == S_CLOSING) return;
    c->srv->st.timeouts++;
    c->srv->st.handshake_timeouts++;
    close_hard(c);
}

/* Closes the oldest unauthenticated connection that has no request in
 * progress. Returns 1 when one was closed. */
static int evict_unauth(bnet *s)
{
    for (conn *v = s->unauth_head; v; v = v->unext) {
        if (v->state != S_OPEN || v->live || v->qhead || v->busy) continue;
        s->st.connections_evicted++;
        close_hard(v);
        return 1;
    }
    return 0;
}

/* ---- policy ---- */

static int body_over(const bnet *s, const route *rt, unsigned long long len)
{
    size_t lim = rt && (rt->flags & BNET_ROUTE_UPLOAD) ? s->lim.max_upload_body : s->lim.max_body;
    return len > lim;
}

static unsigned long long strtoull_n(const char *p, size_t n)
{
    unsigned long long v = 0;
    for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        if (v > (ULLONG_MAX - 9) / 10) return ULLONG_MAX;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    return v;
}

/* 0 when m may proceed; else the HTTP status, with text and whether the
 * answer needs WWW-Authenticate. */
static int check_policy(conn *c, const net_msg *m, int ws, const char **text, int *auth)
{
    bnet *s = c->srv;
    net_str path = net_msg_path(m);
    const route *rt = match(s, ws, net_msg_method(m), path, NULL, NULL, 0);
    if (!ws && !rt) rt = match(s, 1, NULL, path, NULL, NULL, 0);
    net_policy_req pr;
    net_policy_req_from_msg(&pr, m, ws);
    pr.public_route = rt && (rt->flags & BNET_ROUTE_PUBLIC);
    int e = net_policy_check(s->policy, &pr);
    if (e == NET_POLICY_OK && !ws) {
        /* The parsers read up to the upload limit; other routes keep the
         * smaller one. A declared length is judged now, before the body. */
        net_str cl = net_msg_header(m, "content-length");
        if (cl.p && body_over(s, rt, strtoull_n(cl.p, cl.len))) {
            *text = "request body too large";
            *auth = 0;
            return 413;
        }
    }
    if (e == NET_POLICY_OK) {
        /* Passing a public route without a token proves nothing. */
        if (!pr.public_route || pr.nauthorization || pr.has_query_token || pr.has_proto_token)
            conn_authenticated(c);
        return 0;
    }
    *text = net_policy_message(e);
    *auth = e == NET_POLICY_E_TOKEN;
    return net_policy_status(e);
}

static int is_ws_upgrade(const bnet *s, const net_msg *m)
{
    return (net_msg_flags(m) & NET_MSG_UPGRADE) &&
           net_msg_header_has_token(m, "upgrade", "websocket") &&
           match(s, 1, NULL, net_msg_path(m), NULL, NULL, 0) != NULL;
}

/* ---- responses ---- */

static int respond_fields(bnet_req *r, int status, const net_field *f, size_t nf, const void *body,
                          size_t len)
{
    conn *c = r->c;
    if (r->sid) {
        int e = net_h2_respond(c->h2, r->sid, status, f, nf, r->is_head ? NULL : body,
                               r->is_head ? 0 : len);
        if (e == NET_H2_E_NOMEM) return BNET_E_NOMEM;
        if (e == NET_H2_E_ARG) return BNET_E_ARG;
        if (e) return BNET_E_CLOSED;
    } else {
        int close = !r->keep_alive || c->srv->stopped;
        size_t start = r->resp.len;
        int e = net_http1_write_head(&r->resp, status, f, nf, (int64_t)len, close);
        if (e == NET_HTTP1_E_PARSE) return BNET_E_ARG;
        if (e || (!r->is_head && status != 204 && status != 304 &&
                  net_buf_append(&r->resp, body, len))) {
            r->resp.len = start;
            return BNET_E_NOMEM;
        }
        r->close_after = close;
    }
    r->state = RQ_DONE;
    req_unpublish(r);
    if (c->state == S_OPEN) schedule(c);
    req_maybe_free(r);
    return BNET_OK;
}

static int req_usable(const bnet_req *r)
{
    if (!r) return BNET_E_ARG;
    if (r->state == RQ_ABORTED || r->c->state == S_CLOSING) return BNET_E_CLOSED;
    return BNET_OK;
}

int bnet_respond(bnet_req *r, int status, const char *content_type, const bnet_header *extra,
                 size_t n_extra, const void *body, size_t len)
{
    int e = req_usable(r);
    if (e) return e;
    if (r->state != RQ_PENDING) return BNET_E_STATE;
    if (status < 200 || status > 599 || (len && !body)) return BNET_E_ARG;
    net_field f[BNET_MAX_EXTRA_HEADERS + 1];
    size_t nf;
    if ((e = fields_from(f, &nf, content_type, extra, n_extra))) return e;
    return respond_fields(r, status, f, nf, body, len);
}

/* An error answer with internal headers (Allow, WWW-Authenticate...). */
static int respond_error_with(bnet_req *r, int status, const char *message, const net_field *extra,
                              size_t n_extra)
{
    net_buf body;
    net_buf_init(&body);
    if (net_msg_error_json(&body, message)) return BNET_E_NOMEM;
    net_field f[8];
    size_t nf = 0;
    f[nf++] = (net_field){"Content-Type", "application/json"};
    f[nf++] = (net_field){"Cache-Control", "no-store"};
    for (size_t i = 0; i < n_extra && nf < 8; i++)
        f[nf++] = extra[i];
    int e = respond_fields(r, status, f, nf, body.data, body.len);
    net_buf_free(&body);
    return e;
}

int bnet_respond_error(bnet_req *r, int status, const char *message)
{
    int e = req_usable(r);
    if (e) return e;
    if (r->state != RQ_PENDING) return BNET_E_STATE;
    if (status < 200 || status > 599 || !message) return BNET_E_ARG;
    return respond_error_with(r, status, message, NULL, 0);
}

int bnet_stream_start(bnet_req *r, int status, const char *content_type, const bnet_header *extra,
                      size_t n_extra)
{
    int e = req_usable(r);
    if (e) return e;
    if (r->state != RQ_PENDING) return BNET_E_STATE;
    if (status < 200 || status > 599 || status == 204 || status == 304 || r->http10)
        return BNET_E_ARG;
    net_field f[BNET_MAX_EXTRA_HEADERS + 1];
    size_t nf;
    if ((e = fields_from(f, &nf, content_type, extra, n_extra))) return e;
    conn *c = r->c;
    if (r->sid) {
        e = net_h2_stream_start(c->h2, r->sid, status, f, nf);
        if (e)
            return e == NET_H2_E_NOMEM ? BNET_E_NOMEM
                   : e == NET_H2_E_ARG ? BNET_E_ARG
                                       : BNET_E_CLOSED;
    } else {
        int close = !r->keep_alive || c->srv->stopped;
        e = net_http1_write_head(&r->resp, status, f, nf, -1, close);
        if (e) return e == NET_HTTP1_E_PARSE ? BNET_E_ARG : BNET_E_NOMEM;
        r->close_after = close;
    }
    r->state = RQ_STREAMING;
    schedule(c);
    return BNET_OK;
}

static size_t stream_pending(const bnet_req *r)
{
    conn *c = r->c;
    if (r->sid) return net_h2_stream_pending(c->h2, r->sid);
    size_t n = r->resp.len;
    if (c->qhead == r) n += c->out.len + c->inflight;
    return n;
}

int bnet_stream_write(bnet_req *r, const void *data, size_t len)
{
    int e = req_usable(r);
    if (e) return e;
    if (r->state != RQ_STREAMING) return BNET_E_STATE;
    if (len == 0) return BNET_OK;
    if (!data) return BNET_E_ARG;
    size_t pend = stream_pending(r);
    if (pend > r->srv->lim.stream_max_pending || len > r->srv->lim.stream_max_pending - pend)
        return BNET_E_FULL;
    if (r->sid) {
        e = net_h2_stream_write(r->c->h2, r->sid, data, len);
        if (e) return e == NET_H2_E_NOMEM ? BNET_E_NOMEM : BNET_E_CLOSED;
    } else if (!r->is_head && net_http1_write_chunk(&r->resp, data, len)) {
        return BNET_E_NOMEM;
    }
    schedule(r->c);
    return BNET_OK;
}

int bnet_stream_end(bnet_req *r)
{
    int e = req_usable(r);
    if (e) return e;
    if (r->state != RQ_STREAMING) return BNET_E_STATE;
    conn *c = r->c;
    if (r->sid) {
        if (net_h2_stream_end(c->h2, r->sid)) return BNET_E_CLOSED;
    } else if (!r->is_head && net_http1_write_last_chunk(&r->resp)) {
        return BNET_E_NOMEM;
    }
    r->state = RQ_DONE;
    req_unpublish(r);
    schedule(c);
    req_maybe_free(r);
    return BNET_OK;
}

/* ---- request accessors ---- */

const char *bnet_req_method(const bnet_req *r)
{
    return net_msg_method(r->msg);
}

const char *bnet_req_path(const bnet_req *r)
{
    return net_msg_path(r->msg).p;
}

const char *bnet_req_query(const bnet_req *r)
{
    return net_msg_query(r->msg).p;
}

const char *bnet_req_header(const bnet_req *r, const char *name, size_t *len)
{
    net_str v = net_msg_header(r->msg, name);
    if (len) *len = v.len;
    return v.p;
}

size_t bnet_req_header_count(const bnet_req *r)
{
    return net_msg_header_count(r->msg);
}

int bnet_req_header_at(const bnet_req *r, size_t i, const char **name, const char **value)
{
    net_str n, v;
    if (net_msg_header_at(r->msg, i, &n, &v)) return BNET_E_ARG;
    *name = n.p;
    *value = v.p;
    return BNET_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long bnet_req_query_param(const bnet_req *r, const char *name, char *out, size_t cap)
{
    net_str v;
    if (!net_msg_query_param(r->msg, name, &v)) return -1;
    size_t o = 0;
    for (size_t i = 0; i < v.len; i++) {
        char ch = v.p[i];
        if (ch == '%') {
            if (i + 2 >= v.len) return BNET_E_ARG;
            int hi = hexval(v.p[i + 1]), lo = hexval(v.p[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return BNET_E_ARG;
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= cap) return BNET_E_ARG;
        out[o++] = ch;
    }
    if (cap == 0) return BNET_E_ARG;
    out[o] = '\0';
    return (long)o;
}

const void *bnet_req_body(const bnet_req *r, size_t *len)
{
    return net_msg_body(r->msg, len);
}

bnet_proto bnet_req_proto(const bnet_req *r)
{
    return r->sid ? BNET_H2 : BNET_HTTP1;
}

const char *bnet_req_peer(const bnet_req *r)
{
    return r->peer;
}

uint64_t bnet_req_id(const bnet_req *r)
{
    return r->id;
}

bnet_req *bnet_req_find(bnet *s, uint64_t id)
{
    return id ? idmap_get(&s->reqs, id) : NULL;
}

void bnet_req_set_data(bnet_req *r, void *data)
{
    r->data = data;
}

void *bnet_req_data(const bnet_req *r)
{
    return r->data;
}

void bnet_req_set_abort(bnet_req *r, void (*fn)(bnet_req *, void *), void *ud)
{
    r->abort_fn = fn;
    r->abort_ud = ud;
}

int bnet_req_charge(bnet_req *r, uint64_t *conn_id)
{
    conn *c = r->c;
    if (c->state == S_CLOSING) return BNET_E_CLOSED;
    if (c->charges >= c->srv->lim.conn_max_charges) {
        c->srv->st.charges_refused++;
        return BNET_E_FULL;
    }
    c->charges++;
    *conn_id = c->id;
    return BNET_OK;
}

void bnet_discharge(bnet *s, uint64_t conn_id)
{
    conn *c = conn_id ? idmap_get(&s->conn_ids, conn_id) : NULL;
    if (c && c->charges) c->charges--;
}

/* ---- dispatch ---- */

/* Hands r to its handler or answers it. Returns 1 when r is still open
 * (pending or streaming) afterwards. */
static int dispatch(bnet_req *r)
{
    bnet *s = r->srv;
    s->st.requests_total++;
    if (r->sid) s->st.requests_h2++;
    if (req_publish(r)) {
        r->state = RQ_ABORTED;
        close_hard(r->c);
        return 0;
    }
    net_str path = net_msg_path(r->msg);
    int path_hit = 0;
    char allow[128];
    const route *rt = match(s, 0, net_msg_method(r->msg), path, &path_hit, allow, sizeof allow);
    if (!rt) {
        s->st.requests_rejected++;
        if (match(s, 1, NULL, path, NULL, NULL, 0)) {
            if (r->sid) {
                respond_error_with(r, 400, "websocket needs an HTTP/1.1 upgrade", NULL, 0);
            } else {
                net_field up = {"Upgrade", "websocket"};
                respond_error_with(r, 426, "websocket upgrade required", &up, 1);
            }
        } else if (path_hit) {
            net_field al = {"Allow", allow};
            respond_error_with(r, 405, "method not allowed", &al, 1);
        } else {
            respond_error_with(r, 404, "not found", NULL, 0);
        }
        return 0;
    }
    size_t blen = 0;
    net_msg_body(r->msg, &blen);
    if (body_over(s, rt, blen)) { /* a chunked body with no declared length */
        s->st.requests_rejected++;
        respond_error_with(r, 413, "request body too large", NULL, 0);
        return 0;
    }
    r->in_handler++;
    rt->fn(r, rt->ud);
    r->in_handler--;
    int open = r->state == RQ_PENDING || r->state == RQ_STREAMING;
    req_maybe_free(r);
    return open;
}

/* ---- output and reading ---- */

typedef struct {
    uv_write_t req;
    uint8_t *data;
    size_t len;
} write_req;

static void on_write(uv_write_t *wr, int status)
{
    write_req *w = (write_req *)wr;
    conn *c = wr->handle->data;
    free(w->data);
    size_t len = w->len;
    free(w);
    c->writing = 0;
    c->inflight = 0;
    if (status == 0) c->srv->st.bytes_out += len;
    if (status == 0) c->bytes_written += len;
    if (c->state == S_CLOSING) return;
    if (status < 0) {
        close_hard(c);
        return;
    }
    pump(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    conn *c = req->handle->data;
    if (c->state == S_CLOSING) return;
    if (status < 0 || c->eof) close_hard(c);
}

static void do_shutdown(conn *c)
{
    c->state = S_LINGER;
    arm(c, T_LINGER, c->srv->lim.linger_ms);
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown)) close_hard(c);
}

static void conn_flush(conn *c)
{
    if (c->writing || c->state == S_CLOSING || c->state == S_LINGER) return;
    if (c->out.len == 0) {
        if (c->state == S_DRAINING) do_shutdown(c);
        return;
    }
    write_req *w = malloc(sizeof *w);
    if (!w) {
        close_hard(c);
        return;
    }
    w->data = net_buf_detach(&c->out, &w->len);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)w->len);
    c->writing = 1;
    c->inflight = w->len;
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write)) {
        free(w->data);
        free(w);
        c->writing = 0;
        c->inflight = 0;
        close_hard(c);
    }
}

/* Output callback of the WebSocket and HTTP/2 cores: refuse above the high
 * water mark so they keep frames queued (and bounded) instead of us. */
static int core_send(const uint8_t *data, size_t len, void *ud)
{
    conn *c = ud;
    if (c->state != S_OPEN && c->state != S_DRAINING) return 1;
    if (c->out.len + c->inflight >= c->srv->lim.write_high_water) return 1;
    return net_buf_append(&c->out, data, len) ? 1 : 0;
}

/* No further HTTP/1.1 request is parsed while this holds: a client that
 * pipelines without reading answers gets at most max_pipeline requests and
 * about write_high_water bytes of answers held for it. */
static int h1_blocked(const conn *c)
{
    return c->h1_stop || c->qlen >= c->srv->lim.max_pipeline || (c->qtail && c->qtail->upgrade) ||
           c->out.len + c->inflight > c->srv->lim.write_high_water;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    conn *c = h->data;
    buf->base = c->srv->rbuf;
    buf->len = sizeof c->srv->rbuf;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

static void update_reading(conn *c)
{
    if (c->state == S_CLOSING) return;
    int want = 0;
    if (c->state == S_OPEN) {
        size_t pend = c->out.len + c->inflight + (c->ws ? net_ws_queued(c->ws) : 0);
        want = !c->eof && pend <= c->srv->lim.write_high_water;
        if (c->proto == P_H1 && (h1_blocked(c) || c->in.len >= READ_BUF_SIZE)) want = 0;
    } else {
        /* Draining or lingering: read and discard so the kernel does not
         * answer late input with RST, which would destroy our last bytes. */
        want = !c->eof;
    }
    if (want && !c->reading) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) c->reading = 1;
    } else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = 0;
    }
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *t);

static void arm(conn *c, int kind, uint64_t ms)
{
    if (c->state == S_CLOSING) return;
    if (ms == 0) {
        disarm(c);
        return;
    }
    c->timer_kind = kind;
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void disarm(conn *c)
{
    c->timer_kind = T_NONE;
    uv_timer_stop(&c->timer);
}

static void h1_fail(conn *c, int status, const char *text, const net_field *extra, size_t n);

static void on_timer(uv_timer_t *t)
{
    conn *c = t->data;
    bnet *s = c->srv;
    int kind = c->timer_kind;
    c->timer_kind = T_NONE;
    switch (kind) {
    case T_IDLE:
        s->st.timeouts++;
        if (c->proto == P_H2) {
            net_h2_goaway(c->h2);
            c->h2_dying = 1;
            pump(c);
        } else if (c->proto == P_WS) {
            close_hard(c);
        } else {
            begin_close(c);
        }
        break;
    case T_HEADER:
    case T_BODY:
        s->st.timeouts++;
        if (c->proto == P_H1 && c->state == S_OPEN) {
            h1_fail(c, 408, "request timeout", NULL, 0);
            pump(c);
        } else {
            close_hard(c);
        }
        break;
    case T_PING:
        /* Our own ping (2 bytes) is not the peer reading. */
        if (c->ws_pinged && !c->ws_heard && c->bytes_written <= c->ping_bytes + 2) {
            /* A whole interval without a byte from the peer, pong included,
             * and nothing read by it either: gone or stuck. It is told why
             * (if it ever reads again) before the connection ends. */
            static const char why[] = "no answer to ping and nothing read: closing";
            s->st.timeouts++;
            LOG_I("bnet", "WebSocket from %s dropped: %s", c->peer, why);
            if (net_ws_close_now(c->ws, 1008, why, sizeof why - 1) != 0) {
                close_hard(c);
                break;
            }
            pump(c);
            break;
        }
        c->ws_heard = 0;
        c->ws_pinged = 1;
        c->ping_bytes = c->bytes_written;
        net_ws_ping(c->ws);
        arm(c, T_PING, s->lim.ws_ping_ms);
        pump(c);
        break;
    case T_WS_CLOSE: {
        /* Our close frame (or what is queued before it) has not reached
         * the kernel yet: a slow reader would lose it. Wait on while it
         * drains, or within BNET_WS_CLOSE_GRACE_MS of the close for a
         * peer that paused, never past BNET_WS_CLOSE_MAX_MS. */
        uint64_t now = uv_now(s->loop), since = now - c->close_started;
        int unsent = c->ws && (!net_ws_close_sent(c->ws) || c->out.len + c->inflight > 0);
        int moving = c->bytes_written != c->close_bytes;
        if (unsent && since < BNET_WS_CLOSE_MAX_MS && (moving || since < BNET_WS_CLOSE_GRACE_MS)) {
            c->close_bytes = c->bytes_written;
            arm(c, T_WS_CLOSE, s->lim.linger_ms);
            break;
        }
        close_hard(c);
        break;
    }
    case T_LINGER:
        close_hard(c);
        break;
    default:
        break;
    }
}

/* ---- closing ---- */

static void report_ws_close(conn *c)
{
    bnet_ws *w = c->wsobj;
    if (!w) return;
    c->wsobj = NULL;
    bnet *s = c->srv;
    idmap_del(&s->wss, w->id);
    s->st.ws_open--;
    net_str reason = {"", 0};
    uint16_t code = c->ws ? net_ws_close_code(c->ws, &reason) : 1006;
    w->rt->wsh.on_close(w, code, reason.p, reason.len, w->rt->ud);
    free(w);
}

/* Tells the application that every request and the WebSocket of c are
 * gone; afterwards nothing on c is reachable by id. */
static void release_app(conn *c)
{
    while (c->live)
        req_abort(c->live);
    report_ws_close(c);
}

static void free_conn(conn *c)
{
    bnet *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    if (c->dirty) {
        conn **pp = &s->dirty;
        while (*pp && *pp != c)
            pp = &(*pp)->dnext;
        if (*pp) *pp = c->dnext;
    }
    while (c->qhead) {
        bnet_req *r = dequeue(c);
        req_maybe_free(r);
    }
    net_http1_destroy(c->h1);
    net_h2_destroy(c->h2);
    net_ws_destroy(c->ws);
    net_buf_free(&c->in);
    net_buf_free(&c->out);
    free(c);
}

static void on_conn_handle_closed(uv_handle_t *h)
{
    conn *c = h->data;
    if (--c->handles_open == 0) free_conn(c);
}

static void close_hard(conn *c)
{
    if (c->state == S_CLOSING) return;
    release_app(c);
    bnet *s = c->srv;
    c->state = S_CLOSING;
    if (c->refused)
        s->nrefusing--;
    else
        s->nopen--;
    s->st.connections_open = s->nopen;
    unauth_remove(c);
    idmap_del(&s->conn_ids, c->id);
    uv_timer_stop(&c->timer);
    uv_timer_stop(&c->hs_timer);
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->hs_timer, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
}

/* Graceful close: write what is queued, send FIN, linger. */
static void begin_close(conn *c)
{
    if (c->state != S_OPEN) return;
    release_app(c);
    c->state = S_DRAINING;
    arm(c, T_LINGER, c->srv->lim.linger_ms);
    conn_flush(c);
    update_reading(c);
}

/* ---- HTTP/1.1 ---- */

static void h1_fail(conn *c, int status, const char *text, const net_field *extra, size_t n)
{
    bnet *s = c->srv;
    bnet_req *r = req_new(c, NULL);
    c->h1_stop = 1;
    s->st.requests_total++;
    s->st.requests_rejected++;
    disarm(c);
    if (!r) {
        begin_close(c);
        return;
    }
    if (net_http1_write_error(&r->resp, status, text, extra, n, 1)) {
        req_free(r);
        begin_close(c);
        return;
    }
    r->state = RQ_DONE;
    r->close_after = 1;
    enqueue(c, r);
}

static void h1_on_begin(void *ud)
{
    conn *c = ud;
    arm(c, T_HEADER, c->srv->lim.header_timeout_ms);
}

static int h1_on_head(net_msg *m, void *ud)
{
    conn *c = ud;
    arm(c, T_BODY, c->srv->lim.body_timeout_ms);
    c->reject_text = NULL;
    c->reject_auth = 0;
    int status = check_policy(c, m, is_ws_upgrade(c->srv, m), &c->reject_text, &c->reject_auth);
    if (status) return status;
    /* The client waits for this before sending the body; later in the
     * pipeline it would be out of order, and the client then just sends. */
    if ((net_msg_flags(m) & NET_MSG_EXPECT_CONTINUE) && c->qlen == 0)
        net_buf_append_str(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
    return 0;
}

static const net_http1_callbacks h1_callbacks = {h1_on_begin, h1_on_head};

static void h1_request(conn *c, net_msg *m)
{
    bnet_req *r = req_new(c, m);
    if (!r) {
        net_msg_destroy(m);
        close_hard(c);
        return;
    }
    disarm(c);
    enqueue(c, r);
    c->h1_count++;
    if (!r->keep_alive) c->h1_stop = 1;
    if (net_msg_flags(m) & NET_MSG_UPGRADE) {
        if (is_ws_upgrade(c->srv, m)) {
            r->upgrade = UP_WS;
        } else if (net_msg_header_has_token(m, "upgrade", "h2c") &&
                   net_msg_header_has_token(m, "connection", "http2-settings") &&
                   net_msg_header_n(m, "http2-settings") == 1) {
            r->upgrade = UP_H2C;
        }
    }
    /* Upgrades wait until every earlier answer is out (h1_output). */
    if (!r->upgrade) dispatch(r);
}

/* 1 when the first line of d (the connection's first bytes) is complete
 * and does not end in an HTTP version ("HTTP/..."). A line that has not
 * fully arrived here gives 0: the parser's answer stands. */
static int not_http_line(const uint8_t *d, size_t n)
{
    if (n > FIRST_LINE_SCAN) n = FIRST_LINE_SCAN;
    const uint8_t *nl = memchr(d, '\n', n);
    if (!nl) return 0;
    size_t len = (size_t)(nl - d);
    if (len && d[len - 1] == '\r') len--;
    size_t sp = len;
    while (sp > 0 && d[sp - 1] != ' ')
        sp--;
    if (sp == 0) return 1;
    return !(len - sp >= 5 && memcmp(d + sp, "HTTP/", 5) == 0);
}

static void h1_parse(conn *c)
{
    size_t off = 0;
    while (c->state == S_OPEN && c->proto == P_H1 && !h1_blocked(c) && off < c->in.len) {
        size_t used = 0;
        net_msg *m = NULL;
        int e = net_http1_feed(c->h1, c->in.data + off, c->in.len - off, &used, &m);
        off += used;
        if (e == NET_HTTP1_NEED_MORE) break;
        if (e == NET_HTTP1_REQUEST) {
            h1_request(c, m);
            /* Answers given at once leave now, so h1_blocked sees them. */
            h1_output(c);
            continue;
        }
        if (e == NET_HTTP1_E_REJECTED) {
            net_field au = {"WWW-Authenticate", "Bearer"};
            h1_fail(c, net_http1_error_status(c->h1), c->reject_text ? c->reject_text : "rejected",
                    &au, c->reject_auth ? 1 : 0);
        } else if (e == NET_HTTP1_E_PARSE && c->h1_count == 0 &&
                   not_http_line(c->in.data, c->in.len)) {
            /* Not an HTTP/1.x client at all (h2spec 3.5/2 sends "INVALID
             * CONNECTION PREFACE"): an HTTP/1.1 answer would be noise to
             * it, so the connection just ends. */
            c->srv->st.requests_rejected++;
            c->h1_stop = 1;
            begin_close(c);
        } else if (e == NET_HTTP1_E_PARSE) {
            h1_fail(c, net_http1_error_status(c->h1), net_http1_error_text(c->h1), NULL, 0);
        } else {
            close_hard(c);
        }
        break;
    }
    if (c->state != S_CLOSING) net_buf_consume(&c->in, off);
}

static const net_ws_callbacks ws_callbacks;
static const net_h2_callbacks h2_callbacks;

static int start_h2(conn *c)
{
    if (net_h2_create(&c->h2, &c->srv->h2lim, &h2_callbacks, c)) return -1;
    c->proto = P_H2;
    arm(c, T_IDLE, c->srv->lim.idle_timeout_ms);
    return 0;
}

static void upgrade_refuse(conn *c, bnet_req *r, int status, const char *text, const net_field *f,
                           size_t n)
{
    c->srv->st.requests_rejected++;
    net_http1_write_error(&c->out, status, text, f, n, 1);
    c->h1_stop = 1;
    req_free(r);
}

static void h1_upgrade(conn *c, bnet_req *r)
{
    bnet *s = c->srv;
    dequeue(c);
    s->st.requests_total++;
    if (r->upgrade == UP_H2C) {
        /* Create the session first: a bad HTTP2-Settings still gets a 400
         * over HTTP/1.1. */
        net_str settings = net_msg_header(r->msg, "http2-settings");
        net_msg *m = r->msg;
        r->msg = NULL;
        if (net_h2_create(&c->h2, &s->h2lim, &h2_callbacks, c)) {
            net_msg_destroy(m);
            req_free(r);
            close_hard(c);
            return;
        }
        /* The settings view points into m, which net_h2_upgrade takes. */
        int e = net_h2_upgrade(c->h2, settings, m);
        if (e) {
            net_h2_destroy(c->h2);
            c->h2 = NULL;
            upgrade_refuse(c, r, 400, "invalid HTTP2-Settings", NULL, 0);
            return;
        }
        req_free(r);
        net_buf_append_str(&c->out, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                                    "Upgrade: h2c\r\n\r\n");
        c->proto = P_H2;
        arm(c, T_IDLE, s->lim.idle_timeout_ms);
        return;
    }

    net_str key;
    int status = net_ws_handshake_check(r->msg, &key);
    if (status) {
        net_field v = {"Sec-WebSocket-Version", "13"};
        upgrade_refuse(c, r, status,
                       status == 426 ? "websocket version 13 required" : "bad websocket handshake",
                       &v, status == 426 ? 1 : 0);
        return;
    }
    const route *rt = match(s, 1, NULL, net_msg_path(r->msg), NULL, NULL, 0);
    if (rt->wsh.on_upgrade) {
        r->in_handler++;
        status = rt->wsh.on_upgrade(r, rt->ud);
        r->in_handler--;
        if (c->state != S_OPEN) {
            req_free(r);
            return;
        }
        if (status) {
            if (status < 400 || status > 599) status = 403;
            upgrade_refuse(c, r, status, "websocket refused", NULL, 0);
            return;
        }
    }
    bnet_ws *w = calloc(1, sizeof *w);
    if (!w || net_ws_create(&c->ws, &s->wslim, &ws_callbacks, c) ||
        net_ws_write_101(&c->out, key.p, key.len, net_policy_ws_protocol(r->msg))) {
        free(w);
        req_free(r);
        close_hard(c);
        return;
    }
    w->srv = s;
    w->c = c;
    w->rt = rt;
    w->id = ++s->next_id;
    if (idmap_put(&s->wss, w->id, w)) {
        free(w);
        req_free(r);
        close_hard(c);
        return;
    }
    c->wsobj = w;
    c->proto = P_WS;
    s->st.ws_open++;
    arm(c, T_PING, s->lim.ws_ping_ms);
    r->in_handler++;
    rt->wsh.on_open(w, r, rt->ud);
    r->in_handler--;
    req_free(r);
}

/* Moves finished answers, in request order, to the output. */
static void h1_output(conn *c)
{
    while (c->qhead && c->state == S_OPEN && c->proto == P_H1) {
        bnet_req *r = c->qhead;
        if (r->resp.len) {
            if (net_buf_append(&c->out, r->resp.data, r->resp.len)) {
                close_hard(c);
                return;
            }
            net_buf_reset(&r->resp);
        }
        if (r->upgrade && r->state == RQ_PENDING) {
            h1_upgrade(c, r);
            continue;
        }
        if (r->state == RQ_PENDING || r->state == RQ_STREAMING) break;
        dequeue(c);
        if (r->close_after) c->h1_stop = 1;
        req_maybe_free(r);
    }
    if (c->state != S_OPEN || c->proto != P_H1 || c->qhead) return;
    if (c->h1_stop) {
        begin_close(c);
    } else if (!net_http1_in_request(c->h1) && c->timer_kind == T_NONE) {
        arm(c, T_IDLE, c->srv->lim.idle_timeout_ms);
    }
}

/* ---- WebSocket ---- */

static void ws_on_message(int binary, const uint8_t *data, size_t len, void *ud)
{
    conn *c = ud;
    bnet_ws *w = c->wsobj;
    if (!w) return;
    c->srv->st.ws_messages_in++;
    w->rt->wsh.on_message(w, binary, data, len, w->rt->ud);
}

static const net_ws_callbacks ws_callbacks = {ws_on_message, core_send};

/* What a WebSocket's peer has yet to read from us: unsent frames, the
 * connection's output and the write in flight. */
static size_t ws_pending(const conn *c)
{
    return c->out.len + c->inflight + (c->ws ? net_ws_queued(c->ws) : 0);
}

/* Tells the application once a congested WebSocket drained; at the end of
 * pump, so that it may send again. Control frames queued here (pongs,
 * close) count towards congestion too: whoever saw bnet_ws_queued at the
 * high mark is owed an on_drain. */
static void ws_drain_check(conn *c)
{
    if (c->state != S_OPEN || c->proto != P_WS || !c->wsobj) return;
    size_t pending = ws_pending(c);
    if (pending >= BNET_WS_HIGH_WATER) c->ws_congested = 1;
    if (!c->ws_congested || pending >= BNET_WS_LOW_WATER) return;
    c->ws_congested = 0;
    if (net_ws_closing(c->ws)) return;
    bnet_ws *w = c->wsobj;
    if (w->rt->wsh.on_drain) w->rt->wsh.on_drain(w, w->rt->ud);
}

static void ws_pump(conn *c)
{
    if (net_ws_flush(c->ws)) {
        close_hard(c);
        return;
    }
    if (net_ws_finished(c->ws)) {
        begin_close(c);
    } else if (net_ws_closing(c->ws) && c->timer_kind != T_WS_CLOSE) {
        c->close_started = uv_now(c->srv->loop);
        c->close_bytes = c->bytes_written;
        arm(c, T_WS_CLOSE, c->srv->lim.linger_ms);
    }
}

int bnet_ws_send(bnet_ws *w, int binary, const void *data, size_t len)
{
    if (!w || (len && !data)) return BNET_E_ARG;
    conn *c = w->c;
    if (c->state != S_OPEN) return BNET_E_CLOSED;
    int e = net_ws_send(c->ws, binary, data ? data : "", len);
    schedule(c);
    switch (e) {
    case 0:
        c->srv->st.ws_messages_out++;
        if (ws_pending(c) >= BNET_WS_HIGH_WATER) c->ws_congested = 1;
        return BNET_OK;
    case NET_WS_E_QUEUE_FULL:
        return BNET_E_FULL;
    case NET_WS_E_CLOSED:
        return BNET_E_CLOSED;
    case NET_WS_E_ARG:
        return BNET_E_ARG;
    default:
        return BNET_E_NOMEM;
    }
}

int bnet_ws_close(bnet_ws *w, uint16_t code, const char *reason)
{
    if (!w) return BNET_E_ARG;
    conn *c = w->c;
    if (c->state != S_OPEN) return BNET_E_CLOSED;
    int e = net_ws_close(c->ws, code, reason, reason ? strlen(reason) : 0);
    if (e == NET_WS_E_ARG) return BNET_E_ARG;
    if (e) return BNET_E_CLOSED;
    schedule(c);
    return BNET_OK;
}

size_t bnet_ws_queued(const bnet_ws *w)
{
    return ws_pending(w->c);
}

uint64_t bnet_ws_id(const bnet_ws *w)
{
    return w->id;
}

bnet_ws *bnet_ws_find(bnet *s, uint64_t id)
{
    return id ? idmap_get(&s->wss, id) : NULL;
}

const char *bnet_ws_peer(const bnet_ws *w)
{
    return w->c->peer;
}

void bnet_ws_set_data(bnet_ws *w, void *data)
{
    w->data = data;
}

void *bnet_ws_data(const bnet_ws *w)
{
    return w->data;
}

/* ---- HTTP/2 ---- */

static int h2_on_head(int32_t sid, net_msg *m, const char **text, void *ud)
{
    (void)sid;
    conn *c = ud;
    int auth = 0;
    int status = check_policy(c, m, 0, text, &auth);
    if (status) c->srv->st.requests_total++, c->srv->st.requests_rejected++;
    return status;
}

static void *h2_on_request(int32_t sid, net_msg *m, void *ud)
{
    conn *c = ud;
    bnet_req *r = req_new(c, m);
    if (!r) {
        net_msg_destroy(m);
        return NULL;
    }
    r->sid = sid;
    r->keep_alive = 1;
    return dispatch(r) ? r : NULL;
}

static void h2_on_stream_close(int32_t sid, void *app, void *ud)
{
    (void)sid, (void)ud;
    req_abort(app);
}

static const net_h2_callbacks h2_callbacks = {h2_on_head, h2_on_request, h2_on_stream_close,
                                              core_send};

static void h2_pump(conn *c)
{
    if (net_h2_flush(c->h2)) {
        close_hard(c);
        return;
    }
    if (net_h2_finished(c->h2) ||
        (c->h2_dying && c->out.len + c->inflight == 0 && net_h2_open_streams(c->h2) == 0)) {
        begin_close(c);
        return;
    }
    if (net_h2_open_streams(c->h2) == 0) {
        if (c->timer_kind != T_IDLE) arm(c, T_IDLE, c->srv->lim.idle_timeout_ms);
    } else if (c->timer_kind == T_IDLE) {
        disarm(c);
    }
}

static void feed_h2(conn *c, const uint8_t *d, size_t n)
{
    int e = net_h2_feed(c->h2, d, n);
    if (e == NET_H2_E_PROTO) {
        c->h2_dying = 1;
        c->srv->st.requests_rejected++;
    } else if (e) {
        close_hard(c);
        return;
    }
    if (!c->h2_dying && net_h2_calmed(c->h2)) {
        c->h2_dying = 1;
        c->srv->st.h2_calmed++;
        LOG_W("bnet",
              "%s: HTTP/2 streams reset faster than they complete; closing with "
              "ENHANCE_YOUR_CALM",
              c->peer);
    }
}

/* ---- input ---- */

static void conn_input(conn *c, const uint8_t *d, size_t n)
{
    switch (c->proto) {
    case P_SNIFF: {
        size_t take = n < H2_PREFACE_LEN - c->sniff_len ? n : H2_PREFACE_LEN - c->sniff_len;
        memcpy(c->sniff + c->sniff_len, d, take);
        c->sniff_len += take;
        if (memcmp(c->sniff, h2_preface, c->sniff_len) != 0) {
            size_t same = 0;
            while (same < c->sniff_len && c->sniff[same] == (uint8_t)h2_preface[same])
                same++;
            if (same >= H2_PREFACE_METHOD_LEN) {
                /* An HTTP/2 preface gone wrong, not an HTTP/1.1 request:
                 * a connection error PROTOCOL_ERROR (RFC 9113 section
                 * 3.4), never an HTTP/1.1 answer. */
                c->srv->st.requests_rejected++;
                if (net_buf_append(&c->out, net_h2_preface_goaway, NET_H2_PREFACE_GOAWAY_LEN)) {
                    close_hard(c);
                    return;
                }
                begin_close(c);
                return;
            }
            if (net_http1_create(&c->h1, &c->srv->h1lim, &h1_callbacks, c) ||
                net_buf_append(&c->in, c->sniff, c->sniff_len) ||
                net_buf_append(&c->in, d + take, n - take)) {
                close_hard(c);
                return;
            }
            c->proto = P_H1;
            h1_parse(c);
        } else if (c->sniff_len == H2_PREFACE_LEN) {
            if (start_h2(c)) {
                close_hard(c);
                return;
            }
            feed_h2(c, c->sniff, H2_PREFACE_LEN);
            if (c->state == S_OPEN && !c->h2_dying && n > take) feed_h2(c, d + take, n - take);
        }
        break;
    }
    case P_H1:
        if (net_buf_append(&c->in, d, n)) {
            close_hard(c);
            return;
        }
        h1_parse(c);
        break;
    case P_WS:
        c->ws_heard = 1;
        c->ws_pinged = 0;
        if (net_ws_feed(c->ws, d, n)) close_hard(c);
        break;
    case P_H2:
        if (!c->h2_dying) feed_h2(c, d, n);
        break;
    }
}

static void pump(conn *c)
{
    if (c->busy) {
        c->again = 1;
        return;
    }
    c->busy = 1;
    do {
        c->again = 0;
        if (c->state != S_OPEN && c->state != S_DRAINING) break;
        if (c->state == S_OPEN) {
            int before = c->proto;
            if (c->proto == P_H1) {
                h1_output(c);
                if (c->proto == P_H1) h1_parse(c);
            }
            if (c->state == S_OPEN && c->proto != before && c->in.len) {
                /* Bytes after the upgrade request belong to the new
                 * protocol. */
                net_buf rest = c->in;
                net_buf_init(&c->in);
                if (c->proto == P_WS) {
                    c->ws_heard = 1;
                    if (net_ws_feed(c->ws, rest.data, rest.len)) close_hard(c);
                } else if (c->proto == P_H2) {
                    feed_h2(c, rest.data, rest.len);
                }
                net_buf_free(&rest);
            }
            if (c->state == S_OPEN && c->proto == P_WS) ws_pump(c);
            if (c->state == S_OPEN && c->proto == P_H2) h2_pump(c);
        }
        conn_flush(c);
    } while (c->again);
    c->busy = 0;
    update_reading(c);
    ws_drain_check(c);
}

static void on_idle(uv_idle_t *h)
{
    bnet *s = h->data;
    while (s->dirty) {
        conn *c = s->dirty;
        s->dirty = c->dnext;
        c->dnext = NULL;
        c->dirty = 0;
        pump(c);
    }
    uv_idle_stop(h);
}

/* Runs pump(c) soon, outside the application's current call. */
static void schedule(conn *c)
{
    if (c->busy) {
        c->again = 1;
        return;
    }
    if (c->dirty || c->state == S_CLOSING) return;
    bnet *s = c->srv;
    c->dirty = 1;
    c->dnext = s->dirty;
    s->dirty = c;
    uv_idle_start(s->idle, on_idle);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    conn *c = st->data;
    bnet *s = c->srv;
    if (n == 0 || c->state == S_CLOSING) return;
    if (n < 0) {
        c->eof = 1;
        uv_read_stop(st);
        c->reading = 0;
        if (c->state == S_DRAINING) return; /* on_shutdown closes */
        if (c->state == S_LINGER) {
            close_hard(c);
            return;
        }
        /* A client that half-closes after its requests still gets the
         * answers that need no further input; streams and WebSockets end. */
        int answerable = c->proto == P_H1 && c->qlen > 0;
        for (bnet_req *r = c->qhead; r; r = r->qnext)
            if (r->state == RQ_STREAMING || r->upgrade) answerable = 0;
        if (answerable) {
            c->h1_stop = 1;
            pump(c);
        } else {
            close_hard(c);
        }
        return;
    }
    s->st.bytes_in += (uint64_t)n;
    if (c->state != S_OPEN) return; /* draining or lingering: discard */
    c->busy = 1;
    conn_input(c, (const uint8_t *)buf->base, (size_t)n);
    c->busy = 0;
    pump(c);
}

static void peer_name(conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    snprintf(c->peer, sizeof c->peer, "?");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len)) return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        uv_ip4_name(a, ip, sizeof ip);
        port = ntohs(a->sin_port);
        snprintf(c->peer, sizeof c->peer, "%s:%d", ip, port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        uv_ip6_name(a, ip, sizeof ip);
        port = ntohs(a->sin6_port);
        snprintf(c->peer, sizeof c->peer, "[%s]:%d", ip, port);
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    bnet *s = server->data;
    if (status < 0) {
        LOG_W("bnet", "accept: %s", uv_strerror(status));
        return;
    }
    conn *c = calloc(1, sizeof *c);
    if (!c) return;
    c->srv = s;
    net_buf_init(&c->in);
    net_buf_init(&c->out);
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    uv_timer_init(s->loop, &c->hs_timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->hs_timer.data = c;
    c->handles_open = 3;
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    c->id = ++s->next_id;
    /* Room for the newcomer: idle connections without the token give way
     * (the oldest first) before anyone is refused. */
    if (s->nopen >= s->lim.max_connections || s->nunauth >= s->lim.max_unauth_connections)
        evict_unauth(s);
    int over = s->nopen >= s->lim.max_connections || s->nunauth >= s->lim.max_unauth_connections;
    if (over)
        s->nrefusing++, c->refused = 1;
    else
        s->nopen++;
    s->st.connections_open = s->nopen;
    if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
        close_hard(c);
        return;
    }
    s->st.connections_total++;
    peer_name(c);
    uv_tcp_nodelay(&c->tcp, 1);
    if (over) {
        s->st.connections_refused++;
        if (s->nrefusing > MAX_REFUSING ||
            net_http1_write_error(&c->out, 503, "too many connections", NULL, 0, 1)) {
            close_hard(c);
            return;
        }
        begin_close(c);
        return;
    }
    if (idmap_put(&s->conn_ids, c->id, c)) {
        close_hard(c);
        return;
    }
    unauth_add(c);
    uv_timer_start(&c->hs_timer, on_hs_timer, s->lim.handshake_timeout_ms, 0);
    c->proto = P_SNIFF;
    arm(c, T_IDLE, s->lim.idle_timeout_ms);
    update_reading(c);
}

/* ---- posting from other threads ---- */

int bnet_post(bnet *s, void (*fn)(void *), void *ud)
{
    if (!fn) return BNET_E_ARG;
    post_item *it = malloc(sizeof *it);
    if (!it) return BNET_E_NOMEM;
    it->fn = fn;
    it->ud = ud;
    it->next = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->post_stopped) {
        pthread_mutex_unlock(&s->mu);
        free(it);
        return BNET_E_STOPPED;
    }
    if (s->post_tail)
        s->post_tail->next = it;
    else
        s->post_head = it;
    s->post_tail = it;
    /* Under the lock so that bnet_stop cannot close the handle between the
     * check above and the wake-up (libuv 1.44 gives no ordering guarantee
     * of its own). */
    uv_async_send(s->async);
    pthread_mutex_unlock(&s->mu);
    return BNET_OK;
}

static void run_posted(bnet *s)
{
    pthread_mutex_lock(&s->mu);
    post_item *it = s->post_head;
    s->post_head = s->post_tail = NULL;
    pthread_mutex_unlock(&s->mu);
    while (it) {
        post_item *next = it->next;
        it->fn(it->ud);
        free(it);
        it = next;
    }
}

static void on_async(uv_async_t *a)
{
    run_posted(a->data);
}

/* ---- server ---- */

void bnet_opts_init(bnet_opts *o)
{
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = BNET_DEFAULT_PORT;
    bnet_limits *l = &o->limits;
    l->max_connections = BNET_DEFAULT_MAX_CONNECTIONS;
    l->max_unauth_connections = BNET_DEFAULT_MAX_UNAUTH;
    l->handshake_timeout_ms = BNET_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    l->conn_max_charges = BNET_DEFAULT_CONN_MAX_CHARGES;
    l->max_header_bytes = NET_HTTP1_MAX_HEADER_BYTES;
    l->max_headers = NET_HTTP1_MAX_HEADERS;
    l->max_url = NET_HTTP1_MAX_URL;
    l->max_body = NET_HTTP1_MAX_BODY;
    l->max_upload_body = BNET_DEFAULT_MAX_UPLOAD_BODY;
    l->ws_max_message = NET_WS_MAX_MSG;
    l->ws_max_queue = NET_WS_MAX_QUEUE;
    l->write_high_water = BNET_DEFAULT_WRITE_HIGH_WATER;
    l->stream_max_pending = BNET_DEFAULT_STREAM_MAX_PENDING;
    l->max_pipeline = BNET_DEFAULT_MAX_PIPELINE;
    l->h2_max_streams = NET_H2_MAX_STREAMS;
    l->header_timeout_ms = BNET_DEFAULT_HEADER_TIMEOUT_MS;
    l->body_timeout_ms = BNET_DEFAULT_BODY_TIMEOUT_MS;
    l->idle_timeout_ms = BNET_DEFAULT_IDLE_TIMEOUT_MS;
    l->ws_ping_ms = BNET_DEFAULT_WS_PING_MS;
    l->linger_ms = BNET_DEFAULT_LINGER_MS;
}

static void on_server_handle_closed(uv_handle_t *h)
{
    bnet *s = h->data;
    s->handles_open--;
    free(h);
}

static void free_handle(uv_handle_t *h)
{
    free(h);
}

static int limits_valid(const bnet_limits *l)
{
    return l->max_connections > 0 && l->max_unauth_connections > 0 && l->handshake_timeout_ms > 0 &&
           l->conn_max_charges > 0 && l->max_header_bytes >= 256 && l->max_headers > 0 &&
           l->max_url >= 16 && l->ws_max_message > 0 && l->ws_max_queue > 0 &&
           l->write_high_water >= 1024 && l->max_pipeline > 0 && l->h2_max_streams > 0 &&
           l->header_timeout_ms > 0 && l->body_timeout_ms > 0 && l->idle_timeout_ms > 0 &&
           l->linger_ms > 0 && l->max_header_bytes <= UINT32_MAX;
}

static int load_token(const bnet_opts *o, char *tok, size_t cap)
{
    if (o->token) {
        if (strlen(o->token) >= cap) return BNET_E_ARG;
        strcpy(tok, o->token);
        return BNET_OK;
    }
    if (!o->token_file) return BNET_E_ARG;
    int e = net_policy_token_load(o->token_file, tok, cap);
    if (e == NET_POLICY_E_PERM) {
        LOG_E("bnet",
              "token file %s is readable by group or others, not a regular file, or owned by "
              "another user; refusing to use it (chmod 600 it or delete it to get a new one)",
              o->token_file);
        return BNET_E_TOKEN;
    }
    if (e) {
        LOG_E("bnet", "token file %s: %s", o->token_file, strerror(errno));
        return BNET_E_TOKEN;
    }
    return BNET_OK;
}

static int start_listening(bnet *s, const bnet_opts *o)
{
    struct sockaddr_storage addr;
    const char *host = o->host ? o->host : "127.0.0.1";
    int r = strchr(host, ':') ? uv_ip6_addr(host, o->port, (struct sockaddr_in6 *)&addr)
                              : uv_ip4_addr(host, o->port, (struct sockaddr_in *)&addr);
    if (r) {
        LOG_E("bnet", "listen address %s: %s", host, uv_strerror(r));
        return BNET_E_ARG;
    }
    s->listener = malloc(sizeof *s->listener);
    if (!s->listener) return BNET_E_NOMEM;
    uv_tcp_init(s->loop, s->listener);
    s->listener->data = s;
    if ((r = uv_tcp_bind(s->listener, (struct sockaddr *)&addr, 0)) ||
        (r = uv_listen((uv_stream_t *)s->listener, LISTEN_BACKLOG, on_connection))) {
        LOG_E("bnet", "listen on %s:%d: %s", host, o->port, uv_strerror(r));
        uv_close((uv_handle_t *)s->listener, free_handle);
        s->listener = NULL;
        return BNET_E_LISTEN;
    }
    struct sockaddr_storage bound;
    int len = sizeof bound;
    uv_tcp_getsockname(s->listener, (struct sockaddr *)&bound, &len);
    s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    return BNET_OK;
}

int bnet_create(bnet **out, uv_loop_t *loop, const bnet_opts *o)
{
    if (!loop || !o || o->port < 0 || o->port > 65535 || !limits_valid(&o->limits))
        return BNET_E_ARG;
    bnet *s = calloc(1, sizeof *s);
    if (!s) return BNET_E_NOMEM;
    s->loop = loop;
    s->lim = o->limits;
    if (s->lim.max_unauth_connections > s->lim.max_connections)
        s->lim.max_unauth_connections = s->lim.max_connections;
    pthread_mutex_init(&s->mu, NULL);
    size_t parse_body =
        s->lim.max_upload_body > s->lim.max_body ? s->lim.max_upload_body : s->lim.max_body;
    s->h1lim =
        (net_http1_limits){s->lim.max_header_bytes, s->lim.max_headers, s->lim.max_url, parse_body};
    s->wslim = (net_ws_limits){s->lim.ws_max_message, s->lim.ws_max_queue};
    s->h2lim = (net_h2_limits){s->lim.h2_max_streams, (uint32_t)s->lim.max_header_bytes,
                               s->lim.max_headers, parse_body, NET_H2_WINDOW};

    char tok[NET_POLICY_TOKEN_MAX + 1];
    int r = load_token(o, tok, sizeof tok);
    if (r) goto fail;
    if ((r = start_listening(s, o))) goto fail;
    net_policy_opts po = {s->port,          o->allow_hosts,     o->n_allow_hosts,
                          o->allow_origins, o->n_allow_origins, tok};
    int pe = net_policy_create(&s->policy, &po);
    memset(tok, 0, sizeof tok);
    if (pe) {
        r = pe == NET_POLICY_E_NOMEM ? BNET_E_NOMEM : BNET_E_ARG;
        if (r == BNET_E_ARG) LOG_E("bnet", "invalid allowed host, origin or token");
        goto fail_listener;
    }
    s->async = malloc(sizeof *s->async);
    s->idle = malloc(sizeof *s->idle);
    if (!s->async || !s->idle) {
        r = BNET_E_NOMEM;
        goto fail_listener;
    }
    uv_async_init(loop, s->async, on_async);
    s->async->data = s;
    uv_idle_init(loop, s->idle);
    s->idle->data = s;
    s->handles_open = 3;
    /* libuv writes with plain write(2): a peer that closed first would
     * otherwise kill the process with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    *out = s;
    return BNET_OK;
fail_listener:
    free(s->async);
    free(s->idle);
    uv_close((uv_handle_t *)s->listener, free_handle);
fail:
    memset(tok, 0, sizeof tok);
    net_policy_destroy(s->policy);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return r;
}

int bnet_port(const bnet *s)
{
    return s->port;
}

void bnet_stop(bnet *s)
{
    if (s->stopped) return;
    s->stopped = 1;
    s->listener->data = s;
    uv_close((uv_handle_t *)s->listener, on_server_handle_closed);
    for (conn *c = s->conns; c; c = c->next) {
        if (c->state != S_OPEN) continue;
        /* A busy connection is inside one of its cores (bnet_stop called
         * from its handler), which must not be re-entered: it closes
         * without the farewell frame. */
        if (c->proto == P_WS) {
            static const char why[] = "server stopping";
            net_ws_close(c->ws, 1001, why, sizeof why - 1);
            if (!c->busy) net_ws_flush(c->ws);
        } else if (c->proto == P_H2) {
            net_h2_goaway(c->h2);
            if (!c->busy) net_h2_flush(c->h2);
        }
        begin_close(c);
    }
    pthread_mutex_lock(&s->mu);
    s->post_stopped = 1;
    pthread_mutex_unlock(&s->mu);
    run_posted(s);
    uv_close((uv_handle_t *)s->async, on_server_handle_closed);
    uv_close((uv_handle_t *)s->idle, on_server_handle_closed);
}

void bnet_destroy(bnet *s)
{
    if (!s) return;
    bnet_stop(s);
    /* Our handles close within linger_ms; other handles of the loop are not
     * waited for. */
    while (s->handles_open > 0 || s->conns)
        uv_run(s->loop, UV_RUN_ONCE);
    for (size_t i = 0; i < s->nroutes; i++) {
        free(s->routes[i]->method);
        free(s->routes[i]->path);
        free(s->routes[i]);
    }
    free(s->routes);
    idmap_free(&s->reqs);
    idmap_free(&s->wss);
    idmap_free(&s->conn_ids);
    net_policy_destroy(s->policy);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void bnet_get_stats(const bnet *s, bnet_stats *out)
{
    *out = s->st;
    uint64_t q = 0;
    for (const conn *c = s->conns; c; c = c->next) {
        q += c->out.len + c->inflight;
        if (c->ws) q += net_ws_queued(c->ws);
    }
    out->bytes_queued = q;
}

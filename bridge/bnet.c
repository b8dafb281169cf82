/* bnet: options, requests, routing, unauthenticated connections, policy and
 * the server's lifecycle (bnet_int.h). */
#include "bnet_int.h"

/* ---- small helpers ---- */

const char *bnet_strerror(int err)
{
    return cfd_strerror(err);
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

int bn_idmap_put(idmap *m, uint64_t k, void *v)
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

void *bn_idmap_get(const idmap *m, uint64_t k)
{
    size_t j = idmap_slot(m, k);
    return j == SIZE_MAX ? NULL : m->vals[j];
}

void bn_idmap_del(idmap *m, uint64_t k)
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
int bn_fields_from(net_field *f, size_t *n, const char *ctype, const bnet_header *extra,
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

/* ---- requests ---- */

bnet_req *bn_req_new(conn *c, net_msg *m)
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

int bn_req_publish(bnet_req *r)
{
    bnet *s = r->srv;
    r->id = ++s->next_id;
    if (bn_idmap_put(&s->reqs, r->id, r)) return -1;
    conn *c = r->c;
    r->live = 1;
    r->lnext = c->live;
    if (c->live) c->live->lprev = r;
    c->live = r;
    return 0;
}

void bn_req_free(bnet_req *r)
{
    net_msg_destroy(r->msg);
    net_buf_free(&r->resp);
    free(r);
}

void bn_req_maybe_free(bnet_req *r)
{
    if (!r->live && !r->queued && !r->in_handler) bn_req_free(r);
}

/* The application is done with r (answered or aborted). */
void bn_req_unpublish(bnet_req *r)
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
    bn_idmap_del(&r->srv->reqs, r->id);
    if (r->sid && c->h2) net_h2_detach(c->h2, r->sid);
}

void bn_req_abort(bnet_req *r)
{
    if (r->state == RQ_PENDING || r->state == RQ_STREAMING) {
        r->state = RQ_ABORTED;
        if (r->abort_fn) {
            r->in_handler++;
            r->abort_fn(r, r->abort_ud);
            r->in_handler--;
        }
    }
    bn_req_unpublish(r);
    bn_req_maybe_free(r);
}

void bn_enqueue(conn *c, bnet_req *r)
{
    r->queued = 1;
    if (c->qtail)
        c->qtail->qnext = r;
    else
        c->qhead = r;
    c->qtail = r;
    c->qlen++;
}

bnet_req *bn_dequeue(conn *c)
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
const route *bn_match(const bnet *s, int ws, const char *method, net_str path, int *path_hit,
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
    if (!path || path[0] != '/' || (flags & ~(BNET_ROUTE_PREFIX | BNET_ROUTE_PUBLIC)))
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

void bn_unauth_remove(conn *c)
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

void bn_unauth_add(conn *c)
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
    bn_unauth_remove(c);
    uv_timer_stop(&c->hs_timer);
}

void bn_on_hs_timer(uv_timer_t *t)
{
    conn *c = t->data;
    if (c->authed || c->state == S_CLOSING) return;
    c->srv->st.timeouts++;
    c->srv->st.handshake_timeouts++;
    bn_close_hard(c);
}

/* Closes the oldest unauthenticated connection that has no request in
 * progress. Returns 1 when one was closed. */
int bn_evict_unauth(bnet *s)
{
    for (conn *v = s->unauth_head; v; v = v->unext) {
        if (v->state != S_OPEN || v->live || v->qhead || v->busy) continue;
        s->st.connections_evicted++;
        bn_close_hard(v);
        return 1;
    }
    return 0;
}

/* ---- policy ---- */

/* 0 when m may proceed; else the HTTP status, with text and whether the
 * answer needs WWW-Authenticate. */
int bn_check_policy(conn *c, const net_msg *m, int ws, const char **text, int *auth)
{
    bnet *s = c->srv;
    net_str path = net_msg_path(m);
    const route *rt = bn_match(s, ws, net_msg_method(m), path, NULL, NULL, 0);
    if (!ws && !rt) rt = bn_match(s, 1, NULL, path, NULL, NULL, 0);
    net_policy_req pr;
    net_policy_req_from_msg(&pr, m, ws);
    pr.public_route = rt && (rt->flags & BNET_ROUTE_PUBLIC);
    int e = net_policy_check(s->policy, &pr);
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

int bn_is_ws_upgrade(const bnet *s, const net_msg *m)
{
    return (net_msg_flags(m) & NET_MSG_UPGRADE) &&
           net_msg_header_has_token(m, "upgrade", "websocket") &&
           bn_match(s, 1, NULL, net_msg_path(m), NULL, NULL, 0) != NULL;
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
        (r = uv_listen((uv_stream_t *)s->listener, LISTEN_BACKLOG, bn_on_connection))) {
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
    s->h1lim = (net_http1_limits){s->lim.max_header_bytes, s->lim.max_headers, s->lim.max_url,
                                  s->lim.max_body};
    s->wslim = (net_ws_limits){s->lim.ws_max_message, s->lim.ws_max_queue};
    s->h2lim = (net_h2_limits){s->lim.h2_max_streams, (uint32_t)s->lim.max_header_bytes,
                               s->lim.max_headers, s->lim.max_body, NET_H2_WINDOW};

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
    uv_async_init(loop, s->async, bn_on_async);
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
        bn_begin_close(c);
    }
    pthread_mutex_lock(&s->mu);
    s->post_stopped = 1;
    pthread_mutex_unlock(&s->mu);
    bn_run_posted(s);
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

/* bnet: options and the server's lifecycle: listening, accepting
 * connections, stopping (bnet.h; the parts are listed in bnet_int.h). */
#include "bnet_int.h"

#include <stdint.h>
#include <sys/resource.h>

const char *bnet_strerror(int err)
{
    return cfd_strerror(err);
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

/* The open files limit: the soft limit raised to the hard one (a server
 * holding thousands of WebSockets needs more than the usual 1024; nothing
 * here uses select()), then max_connections cut to what fits under it, so
 * the connection over the limit is answered 503 instead of failing to be
 * accepted. Says in the log what the limits are. */
static void fit_fd_limit(bnet_limits *l)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl)) {
        LOG_W("bnet", "cannot read the open files limit: %s", strerror(errno));
        return;
    }
    rlim_t was = rl.rlim_cur;
    if (rl.rlim_cur != rl.rlim_max) {
        struct rlimit want = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl.rlim_cur = rl.rlim_max;
        else
            LOG_W("bnet", "cannot raise the open files limit from %llu to %llu: %s",
                  (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max,
                  strerror(errno));
    }
    size_t fit = 0;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)SIZE_MAX)
        fit = SIZE_MAX;
    else if (rl.rlim_cur > BNET_FD_RESERVE)
        fit = (size_t)rl.rlim_cur - BNET_FD_RESERVE;
    /* At least one connection, whatever the limit: the bridge still serves. */
    if (fit < 1) fit = 1;
    char lim[64];
    if (rl.rlim_cur == RLIM_INFINITY)
        snprintf(lim, sizeof lim, "unlimited");
    else if (was != rl.rlim_cur)
        snprintf(lim, sizeof lim, "%llu (raised from %llu)", (unsigned long long)rl.rlim_cur,
                 (unsigned long long)was);
    else
        snprintf(lim, sizeof lim, "%llu", (unsigned long long)rl.rlim_cur);
    if (l->max_connections > fit) {
        LOG_W("bnet",
              "connections: at most %zu, not %zu: the open files limit is %s and %d descriptors "
              "are kept for other uses (raise it with ulimit -n or LimitNOFILE=)",
              fit, l->max_connections, lim, BNET_FD_RESERVE);
        l->max_connections = fit;
    } else {
        LOG_N("bnet", "connections: at most %zu; open files limit %s", l->max_connections, lim);
    }
}

int bnet_create(bnet **out, uv_loop_t *loop, const bnet_opts *o)
{
    if (!loop || !o || o->port < 0 || o->port > 65535 || !limits_valid(&o->limits))
        return BNET_E_ARG;
    bnet *s = calloc(1, sizeof *s);
    if (!s) return BNET_E_NOMEM;
    s->loop = loop;
    s->lim = o->limits;
    fit_fd_limit(&s->lim);
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
    uv_async_init(loop, s->async, bn_on_async);
    s->async->data = s;
    uv_idle_init(loop, s->idle);
    s->idle_cb = bn_on_idle;
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
    bn_idmap_free(&s->reqs);
    bn_idmap_free(&s->wss);
    bn_idmap_free(&s->conn_ids);
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

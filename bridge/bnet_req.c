/* bnet_req: requests, their id map, routing, and waking a connection:
 * what a connection and an answer both build on (bnet_int.h). */
#include "bnet_int.h"

/* ---- small helpers ---- */

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

void bn_idmap_free(idmap *m)
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

/* Runs c's pump soon, outside the application's current call: marks c
 * dirty and starts the idle handle, whose callback (bn_on_idle) the server
 * set, so that answers can wake their connection without depending on the
 * connection engine. */
void bn_schedule(conn *c)
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
    uv_idle_start(s->idle, s->idle_cb);
}

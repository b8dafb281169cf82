/* rpcs: the core's gRPC server (rpcs.h): its small helpers, a call's
 * lifetime (references, release), shutdown and creation. Sending is in
 * rpcs_send.c, the handler pool, accepting and the pollers in
 * rpcs_accept.c (see rpcs_int.h). */
#include "rpcs_int.h"

/* ---- small helpers ---- */

void rs_cond_init_mono(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

struct timespec rs_mono_after(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

void rs_qmsg_free(qmsg *q)
{
    grpc_byte_buffer_destroy(q->bb);
    free(q);
}

void rs_drop_queue_locked(rpcs_call *c)
{
    while (c->qhead) {
        qmsg *q = c->qhead;
        c->qhead = q->next;
        c->qlen--;
        c->qbytes -= q->len;
        rs_qmsg_free(q);
    }
    c->qtail = NULL;
}

/* ---- call lifetime ---- */

static void call_free(rpcs_call *c)
{
    pthread_mutex_lock(&c->mu);
    rs_drop_queue_locked(c);
    pthread_mutex_unlock(&c->mu);
    if (c->req) protobuf_c_message_free_unpacked(c->req, NULL);
    if (c->payload) grpc_byte_buffer_destroy(c->payload);
    gpr_free(c->peer);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

void rpcs_call_ref(rpcs_call *c)
{
    atomic_fetch_add(&c->refs, 1);
}

void rpcs_call_unref(rpcs_call *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1) call_free(c);
}

/* Returns 1 when the server is already shutting down. */
int rs_live_add(rpcs *s, rpcs_call *c)
{
    pthread_mutex_lock(&s->mu);
    c->live_prev = NULL;
    c->live_next = s->live;
    if (s->live) s->live->live_prev = c;
    s->live = c;
    int late = s->shutting_down;
    pthread_mutex_unlock(&s->mu);
    return late;
}

static void live_remove(rpcs *s, rpcs_call *c)
{
    pthread_mutex_lock(&s->mu);
    if (c->live_prev)
        c->live_prev->live_next = c->live_next;
    else
        s->live = c->live_next;
    if (c->live_next) c->live_next->live_prev = c->live_prev;
    c->live_prev = c->live_next = NULL;
    pthread_mutex_unlock(&s->mu);
}

/* Once the call has ended and no batch is outstanding, gRPC's side is let
 * go: returns 1 (exactly once) with the grpc_call to unref outside the
 * lock through rs_release(). */
int rs_take_release_locked(rpcs_call *c, grpc_call **gc)
{
    if (!c->closed || c->pending > 0 || c->released) return 0;
    c->released = 1;
    *gc = c->call;
    c->call = NULL;
    grpc_metadata_array_destroy(&c->req_md);
    if (c->has_details) grpc_slice_unref(c->details);
    c->has_details = 0;
    if (c->has_trailer) {
        grpc_slice_unref(c->trailer.key);
        grpc_slice_unref(c->trailer.value);
    }
    c->has_trailer = 0;
    return 1;
}

void rs_release(rpcs_call *c, grpc_call *gc)
{
    if (gc) grpc_call_unref(gc);
    live_remove(c->s, c);
    rpcs_call_unref(c); /* the gRPC side's reference */
}

/* ---- shutdown ---- */

/* Waits for gRPC's shutdown tag: grace_ms, then cancel what is left. */
static void await_shutdown_tag(rpcs *s)
{
    if (s->n_cq_started == 0) { /* start-up failed before any poller: poll here */
        for (;;) {
            pthread_mutex_lock(&s->mu);
            int done = s->shutdown_notified;
            pthread_mutex_unlock(&s->mu);
            if (done) return;
            grpc_event ev =
                grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
            if (ev.type == GRPC_OP_COMPLETE) ((rpcs_tag *)ev.tag)->cb(ev.tag, ev.success);
        }
    }
    struct timespec until = rs_mono_after(s->grace_ms);
    pthread_mutex_lock(&s->mu);
    while (!s->shutdown_notified)
        if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT) break;
    if (!s->shutdown_notified) {
        pthread_mutex_unlock(&s->mu);
        LOG_W(MOD, "calls still open after %u ms; cancelling them", (unsigned)s->grace_ms);
        grpc_server_cancel_all_calls(s->srv);
        pthread_mutex_lock(&s->mu);
        while (!s->shutdown_notified) {
            until = rs_mono_after(SHUTDOWN_LOG_MS);
            if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT)
                LOG_W(MOD, "still waiting for cancelled calls to end");
        }
    }
    pthread_mutex_unlock(&s->mu);
}

void rpcs_shutdown(rpcs *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    while (s->shutdown_running)
        pthread_cond_wait(&s->cv, &s->mu);
    if (s->shutdown_finished) {
        pthread_mutex_unlock(&s->mu);
        return;
    }
    s->shutdown_running = 1;
    s->shutting_down = 1;
    /* Long-lived streams would otherwise hold the server for the whole
     * grace period. Queued messages still go out first. */
    for (rpcs_call *c = s->live; c; c = c->live_next)
        if (c->kind == RPCS_SERVER_STREAM)
            rpcs_call_finish(c, GRPC_STATUS_UNAVAILABLE, "server shutting down");
    pthread_mutex_unlock(&s->mu);

    grpc_server_shutdown_and_notify(s->srv, s->cq, &s->t_shutdown);
    await_shutdown_tag(s);
    grpc_server_destroy(s->srv);
    s->srv = NULL;
    grpc_completion_queue_shutdown(s->cq);
    if (s->n_cq_started == 0) grpcx_cq_run(s->cq);
    for (int i = 0; i < s->n_cq_started; i++)
        pthread_join(s->cq_thr[i], NULL);
    s->n_cq_started = 0;
    grpc_completion_queue_destroy(s->cq);
    s->cq = NULL;

    pthread_mutex_lock(&s->mu);
    s->shutdown_running = 0;
    s->shutdown_finished = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    LOG_I(MOD, "server stopped");
}

void rpcs_destroy(rpcs *s)
{
    if (!s) return;
    if (s->srv) rpcs_shutdown(s);
    /* Every call is over now; queued work only drops references. */
    pthread_mutex_lock(&s->pmu);
    s->pool_stop = 1;
    pthread_cond_broadcast(&s->pcv);
    pthread_mutex_unlock(&s->pmu);
    for (int i = 0; i < s->n_h_started; i++)
        pthread_join(s->h_thr[i], NULL);
    for (size_t i = 0; i < s->n_methods; i++)
        free(s->methods[i].path);
    free(s->methods);
    for (size_t i = 0; i < s->n_listen; i++) {
        if (s->lock_fds && s->lock_fds[i] >= 0) close(s->lock_fds[i]);
        if (s->listen) free(s->listen[i]);
    }
    free(s->listen);
    free(s->lock_fds);
    free(s->ports);
    free(s->cq_thr);
    free(s->h_thr);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->pmu);
    pthread_cond_destroy(&s->pcv);
    free(s);
    grpc_shutdown_blocking();
}

/* ---- creation ---- */

/* The socket path of a "unix:" address, or NULL for other schemes. */
static const char *unix_path(const char *addr)
{
    if (strncmp(addr, "unix://", 7) == 0) return addr + 7;
    if (strncmp(addr, "unix:", 5) == 0) return addr + 5;
    return NULL;
}

/* gRPC unlinks a socket file before binding, so a second server would take
 * the path over silently; an flock'd lock file next to it prevents that. */
static int lock_unix(const char *path, int *fd_out)
{
    char lp[MAX_ADDR_BYTES + 8];
    snprintf(lp, sizeof lp, "%s.lock", path);
    int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        LOG_E(MOD, "cannot open %s: %s", lp, strerror(errno));
        return RPCS_EBIND;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        LOG_E(MOD, "unix:%s is in use by another server (%s is locked)", path, lp);
        close(fd);
        return RPCS_EBIND;
    }
    *fd_out = fd;
    return RPCS_OK;
}

static int check_opts(const rpcs_opts *o, const rpcs_method *methods, size_t n)
{
    if (!o || !o->listen || o->n_listen == 0 || o->n_listen > RPCS_MAX_LISTEN) return RPCS_EINVAL;
    if (o->cq_threads < 0 || o->cq_threads > RPCS_MAX_CQ_THREADS) return RPCS_EINVAL;
    if (o->handler_threads < 0 || o->handler_threads > RPCS_MAX_HANDLER_THREADS) return RPCS_EINVAL;
    for (size_t i = 0; i < o->n_listen; i++) {
        const char *a = o->listen[i];
        if (!a || !a[0] || strnlen(a, MAX_ADDR_BYTES + 1) > MAX_ADDR_BYTES) return RPCS_EINVAL;
        const char *p = unix_path(a);
        if (p && !p[0]) return RPCS_EINVAL;
    }
    if (n > 0 && !methods) return RPCS_EINVAL;
    for (size_t i = 0; i < n; i++) {
        const rpcs_method *m = &methods[i];
        if (!m->service || m->service->magic != PROTOBUF_C__SERVICE_DESCRIPTOR_MAGIC || !m->name ||
            !m->handler ||
            (m->kind != RPCS_UNARY && m->kind != RPCS_SERVER_STREAM && m->kind != RPCS_UNARY_ON_CQ))
            return RPCS_EINVAL;
        if (!protobuf_c_service_descriptor_get_method_by_name(m->service, m->name)) {
            LOG_E(MOD, "%s has no method %s", m->service->name, m->name);
            return RPCS_EINVAL;
        }
        for (size_t j = 0; j < i; j++)
            if (methods[j].service == m->service && strcmp(methods[j].name, m->name) == 0) {
                LOG_E(MOD, "%s/%s is listed twice", m->service->name, m->name);
                return RPCS_EINVAL;
            }
    }
    return RPCS_OK;
}

int rpcs_create(rpcs **out, const rpcs_opts *opts, const rpcs_method *methods, size_t n_methods)
{
    if (!out) return RPCS_EINVAL;
    *out = NULL;
    int rc = check_opts(opts, methods, n_methods);
    if (rc != RPCS_OK) return rc;

    rpcs *s = calloc(1, sizeof *s);
    if (!s) return RPCS_ENOMEM;
    pthread_mutex_init(&s->mu, NULL);
    rs_cond_init_mono(&s->cv);
    pthread_mutex_init(&s->pmu, NULL);
    pthread_cond_init(&s->pcv, NULL);
    s->t_shutdown.cb = rs_on_shutdown_notified;
    s->max_queued = opts->max_queued ? opts->max_queued : RPCS_DEFAULT_MAX_QUEUED;
    s->max_queued_bytes =
        opts->max_queued_bytes ? opts->max_queued_bytes : RPCS_DEFAULT_MAX_QUEUED_BYTES;
    s->grace_ms = opts->grace_ms ? opts->grace_ms : RPCS_DEFAULT_GRACE_MS;
    s->n_cq = opts->cq_threads ? opts->cq_threads : 1;
    s->n_h = opts->handler_threads ? opts->handler_threads : RPCS_DEFAULT_HANDLER_THREADS;
    grpcx_init();

    s->n_listen = opts->n_listen;
    s->listen = calloc(s->n_listen, sizeof *s->listen);
    s->ports = calloc(s->n_listen, sizeof *s->ports);
    s->lock_fds = malloc(s->n_listen * sizeof *s->lock_fds);
    s->methods = calloc(n_methods ? n_methods : 1, sizeof *s->methods);
    s->cq_thr = calloc((size_t)s->n_cq, sizeof *s->cq_thr);
    s->h_thr = calloc((size_t)s->n_h, sizeof *s->h_thr);
    if (!s->listen || !s->ports || !s->lock_fds || !s->methods || !s->cq_thr || !s->h_thr) {
        /* Nothing of gRPC exists yet beyond grpc_init. */
        if (s->lock_fds) memset(s->lock_fds, -1, s->n_listen * sizeof *s->lock_fds);
        rpcs_destroy(s);
        return RPCS_ENOMEM;
    }
    memset(s->lock_fds, -1, s->n_listen * sizeof *s->lock_fds);
    for (size_t i = 0; i < s->n_listen; i++)
        if (!(s->listen[i] = strdup(opts->listen[i]))) {
            rpcs_destroy(s);
            return RPCS_ENOMEM;
        }
    for (size_t i = 0; i < n_methods; i++) {
        method_ent *e = &s->methods[i];
        e->def = methods[i];
        /* Calls know unary and stream only; where it runs is the entry's. */
        e->on_cq = e->def.kind == RPCS_UNARY_ON_CQ;
        if (e->on_cq) e->def.kind = RPCS_UNARY;
        e->desc =
            protobuf_c_service_descriptor_get_method_by_name(methods[i].service, methods[i].name);
        e->def.name = e->desc->name; /* static, unlike the caller's string */
        size_t n = strlen(methods[i].service->name) + strlen(e->desc->name) + 3;
        if (!(e->path = malloc(n))) {
            rpcs_destroy(s);
            return RPCS_ENOMEM;
        }
        snprintf(e->path, n, "/%s/%s", methods[i].service->name, e->desc->name);
        s->n_methods++;
    }
    for (size_t i = 0; i < s->n_listen; i++) {
        const char *p = unix_path(s->listen[i]);
        if (p && (rc = lock_unix(p, &s->lock_fds[i])) != RPCS_OK) {
            rpcs_destroy(s);
            return rc;
        }
    }

    grpc_arg args[] = {
        /* A second server on the same port must fail, not share it. */
        grpcx_int_arg(GRPC_ARG_ALLOW_REUSEPORT, 0),
        grpcx_int_arg(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, RPCS_MAX_MESSAGE_BYTES),
        grpcx_int_arg(GRPC_ARG_MAX_CONCURRENT_STREAMS, MAX_STREAMS_PER_CONN),
        grpcx_int_arg(GRPC_ARG_KEEPALIVE_TIME_MS, GRPCX_KEEPALIVE_TIME_MS),
        grpcx_int_arg(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, GRPCX_KEEPALIVE_TIMEOUT_MS),
        /* Lets clients keep an idle connection alive with their own pings. */
        grpcx_int_arg(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1),
        grpcx_int_arg(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, MIN_CLIENT_PING_MS),
        /* Our keepalive pings must not stop on an idle stream. */
        grpcx_int_arg(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0),
    };
    grpc_channel_args cargs = {.num_args = sizeof args / sizeof args[0], .args = args};
    s->srv = grpc_server_create(&cargs, NULL);
    s->cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(s->srv, s->cq, NULL);
    for (size_t i = 0; i < s->n_methods; i++) {
        s->methods[i].handle = grpc_server_register_method(
            s->srv, s->methods[i].path, NULL, GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
        if (!s->methods[i].handle) {
            LOG_E(MOD, "cannot register %s", s->methods[i].path);
            rc = RPCS_EGRPC;
            goto fail;
        }
    }
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    for (size_t i = 0; i < s->n_listen; i++) {
        int port = grpc_server_add_http2_port(s->srv, s->listen[i], creds);
        if (port <= 0) {
            LOG_E(MOD, "cannot listen on %s", s->listen[i]);
            rc = RPCS_EBIND;
            break;
        }
        s->ports[i] = unix_path(s->listen[i]) ? 0 : port;
    }
    grpc_server_credentials_release(creds);
    if (rc != RPCS_OK) goto fail;

    for (int i = 0; i < s->n_h; i++) {
        if (pthread_create(&s->h_thr[i], NULL, rs_handler_main, s) != 0) {
            rc = RPCS_ENOMEM;
            goto fail;
        }
        pthread_setname_np(s->h_thr[i], "rpcs-handler");
        s->n_h_started++;
    }
    for (int i = 0; i < s->n_cq; i++) {
        if (pthread_create(&s->cq_thr[i], NULL, rs_cq_main, s) != 0) {
            rc = RPCS_ENOMEM;
            goto fail;
        }
        pthread_setname_np(s->cq_thr[i], "rpcs-cq");
        s->n_cq_started++;
    }
    grpc_server_start(s->srv);
    for (size_t i = 0; i < s->n_methods; i++)
        for (int k = 0; k < ACCEPT_SLOTS; k++)
            if ((rc = rs_slot_new(s, &s->methods[i])) != RPCS_OK) goto fail;
    /* Unknown methods would otherwise wait in the core until their deadline. */
    if ((rc = rs_slot_new(s, NULL)) != RPCS_OK) goto fail;
    for (size_t i = 0; i < s->n_listen; i++) {
        if (s->ports[i])
            LOG_I(MOD, "listening on %s (port %d)", s->listen[i], s->ports[i]);
        else
            LOG_I(MOD, "listening on %s", s->listen[i]);
    }
    *out = s;
    return RPCS_OK;

fail:
    /* The shutdown path also works for a server that never started. */
    rpcs_destroy(s);
    return rc;
}

int rpcs_port(const rpcs *s, size_t i)
{
    if (!s || i >= s->n_listen) return 0;
    return s->ports[i];
}

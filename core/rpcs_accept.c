/* rpcs_accept: the core's gRPC server (rpcs.h) taking calls in: the
 * handler thread pool, armed accepts per method (and the catch-all that
 * answers UNIMPLEMENTED), and the pollers of the completion queues. */
#include "rpcs_int.h"

/* ---- handler pool ---- */

static void run_call(rpcs_call *c)
{
    grpc_byte_buffer *payload = c->payload;
    c->payload = NULL;
    if (rpcs_call_closed(c)) {
        /* Cancelled while waiting for a thread: nothing to answer. */
        if (payload) grpc_byte_buffer_destroy(payload);
        return;
    }
    const method_ent *m = c->m;
    if (!payload) {
        rpcs_call_finish(c, GRPC_STATUS_INVALID_ARGUMENT, "missing request message");
        return;
    }
    /* The core already enforces GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH; this
     * keeps the promise if that ever changes. */
    if (grpc_byte_buffer_length(payload) > RPCS_MAX_MESSAGE_BYTES) {
        grpc_byte_buffer_destroy(payload);
        rpcs_call_finishf(c, GRPC_STATUS_RESOURCE_EXHAUSTED, "request larger than %d bytes",
                          RPCS_MAX_MESSAGE_BYTES);
        return;
    }
    c->req = grpcx_unpack(m->desc->input, payload, RPCS_MAX_MESSAGE_BYTES);
    grpc_byte_buffer_destroy(payload);
    if (!c->req) {
        LOG_D(MOD, "%s: malformed request from %s", m->path, c->peer ? c->peer : "?");
        rpcs_call_finish(c, GRPC_STATUS_INVALID_ARGUMENT, "malformed request");
        return;
    }

    m->def.handler(c, c->req, m->def.ud);

    /* Only gRPC and this dispatch hold the call: nobody can end it any
     * more, and the client would wait for its deadline. */
    pthread_mutex_lock(&c->mu);
    int orphan = !rs_call_over_locked(c) && atomic_load(&c->refs) == 2;
    pthread_mutex_unlock(&c->mu);
    if (orphan) {
        LOG_E(MOD, "%s: handler returned without ending the call or keeping a reference", m->path);
        rpcs_call_finish(c, GRPC_STATUS_INTERNAL, "handler did not reply");
    }
}

void *rs_handler_main(void *arg)
{
    rpcs *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->pmu);
        while (!s->wq_head && !s->pool_stop)
            pthread_cond_wait(&s->pcv, &s->pmu);
        rpcs_call *c = s->wq_head;
        if (c) {
            s->wq_head = c->work_next;
            if (!s->wq_head) s->wq_tail = NULL;
            s->wq_len--;
        }
        pthread_mutex_unlock(&s->pmu);
        if (!c) return NULL; /* stopping and drained */
        run_call(c);
        rpcs_call_unref(c); /* the dispatcher's reference */
    }
}

/* Hands the dispatcher's reference to the pool. */
static void pool_push(rpcs *s, rpcs_call *c)
{
    pthread_mutex_lock(&s->pmu);
    if (s->wq_len >= MAX_PENDING_CALLS) {
        pthread_mutex_unlock(&s->pmu);
        LOG_W(MOD, "%s: %d calls wait for a handler thread; refusing", c->m->path,
              MAX_PENDING_CALLS);
        rpcs_call_finish(c, GRPC_STATUS_UNAVAILABLE, "server busy");
        rpcs_call_unref(c);
        return;
    }
    c->work_next = NULL;
    if (s->wq_tail)
        s->wq_tail->work_next = c;
    else
        s->wq_head = c;
    s->wq_tail = c;
    s->wq_len++;
    pthread_mutex_unlock(&s->pmu);
    /* Signalled after the unlock: the woken thread does not block at once
     * on the mutex this thread still holds. */
    pthread_cond_signal(&s->pcv);
}

/* ---- accepting ---- */

static void on_accept(rpcs_tag *t, int ok);

static void on_unknown(rpcs_tag *t, int ok);

static void slot_free(slot *sl)
{
    grpc_metadata_array_destroy(&sl->md);
    if (!sl->m) grpc_call_details_destroy(&sl->details);
    if (sl->payload) grpc_byte_buffer_destroy(sl->payload);
    if (sl->call) grpc_call_unref(sl->call);
    free(sl);
}

/* Arms (or re-arms) an accept; frees the slot once the server is shutting
 * down (RPCS_OK) or when libgrpc refuses (RPCS_EGRPC). s->mu orders this against rpcs_shutdown, so
 * no request reaches a server that is being destroyed. */
static int slot_arm(slot *sl)
{
    rpcs *s = sl->s;
    sl->call = NULL;
    sl->payload = NULL;
    grpc_metadata_array_init(&sl->md);
    if (!sl->m) grpc_call_details_init(&sl->details);
    pthread_mutex_lock(&s->mu);
    if (s->shutting_down) {
        pthread_mutex_unlock(&s->mu);
        slot_free(sl);
        return RPCS_OK;
    }
    grpc_call_error e;
    if (sl->m)
        e = grpc_server_request_registered_call(s->srv, sl->m->handle, &sl->call, &sl->deadline,
                                                &sl->md, &sl->payload, s->cq, s->cq, &sl->t);
    else
        e = grpc_server_request_call(s->srv, &sl->call, &sl->details, &sl->md, s->cq, s->cq,
                                     &sl->t);
    pthread_mutex_unlock(&s->mu);
    if (e != GRPC_CALL_OK) {
        LOG_E(MOD, "requesting a call failed (%d)", (int)e);
        slot_free(sl);
        return RPCS_EGRPC;
    }
    return RPCS_OK;
}

int rs_slot_new(rpcs *s, const method_ent *m)
{
    slot *sl = calloc(1, sizeof *sl);
    if (!sl) return RPCS_ENOMEM;
    sl->t.cb = m ? on_accept : on_unknown;
    sl->s = s;
    sl->m = m;
    return slot_arm(sl);
}

static void on_accept(rpcs_tag *t, int ok)
{
    slot *sl = CONTAINER(t, slot, t);
    rpcs *s = sl->s;
    if (!ok) { /* shutting down */
        slot_free(sl);
        return;
    }
    rpcs_call *c = calloc(1, sizeof *c);
    grpc_call *gc = sl->call;
    if (!c) {
        sl->call = NULL;
        grpc_metadata_array_destroy(&sl->md);
        if (sl->payload) grpc_byte_buffer_destroy(sl->payload);
        slot_arm(sl);
        grpc_call_cancel_with_status(gc, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL);
        grpc_call_unref(gc);
        return;
    }
    c->t_send.cb = rs_on_send_done;
    c->t_close.cb = rs_on_close;
    c->s = s;
    c->m = sl->m;
    c->kind = sl->m->def.kind;
    c->desc = sl->m->desc;
    c->max_queued = s->max_queued;
    c->max_queued_bytes = s->max_queued_bytes;
    /* gRPC's side plus the dispatcher's own: the dispatcher touches the
     * call after starting batches on it, which another poller may
     * complete at once. */
    atomic_init(&c->refs, 2);
    c->call = gc;
    c->deadline = gpr_convert_clock_type(sl->deadline, GPR_CLOCK_MONOTONIC);
    c->req_md = sl->md;
    c->payload = sl->payload;
    c->peer = grpc_call_get_peer(gc);
    pthread_mutex_init(&c->mu, NULL);
    rs_cond_init_mono(&c->cv);
    slot_arm(sl);

    int late = rs_live_add(s, c);
    pthread_mutex_lock(&c->mu);
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &c->close_cancelled;
    grpc_call_error e = grpc_call_start_batch(gc, &op, 1, &c->t_close, NULL);
    grpc_call *rel_gc = NULL;
    int rel = 0;
    if (e != GRPC_CALL_OK) {
        LOG_E(MOD, "%s: starting the close watch failed (%d)", c->m->path, (int)e);
        grpc_call_cancel(gc, NULL);
        c->closed = c->dead = c->done_seen = 1;
        c->close_cancelled = 1;
        rel = rs_take_release_locked(c, &rel_gc);
    } else {
        c->pending++;
        /* Stream clients see the headers at once. */
        if (c->kind == RPCS_SERVER_STREAM) rs_start_send_locked(c);
    }
    pthread_mutex_unlock(&c->mu);
    if (rel) rs_release(c, rel_gc);
    /* Accepted while rpcs_shutdown ended the other streams. */
    if (late && c->kind == RPCS_SERVER_STREAM)
        rpcs_call_finish(c, GRPC_STATUS_UNAVAILABLE, "server shutting down");
    if (c->m->on_cq) {
        run_call(c);
        rpcs_call_unref(c); /* the dispatcher's reference */
        return;
    }
    pool_push(s, c);
}

static void on_unimpl_done(rpcs_tag *t, int ok)
{
    (void)ok;
    unimpl *u = CONTAINER(t, unimpl, t);
    grpc_call_unref(u->call);
    free(u);
}

static void on_unknown(rpcs_tag *t, int ok)
{
    slot *sl = CONTAINER(t, slot, t);
    if (!ok) {
        slot_free(sl);
        return;
    }
    grpc_call *gc = sl->call;
    size_t n = GRPC_SLICE_LENGTH(sl->details.method);
    LOG_D(MOD, "unknown method %.*s", (int)(n > 200 ? 200 : n),
          (const char *)GRPC_SLICE_START_PTR(sl->details.method));
    grpc_metadata_array_destroy(&sl->md);
    grpc_call_details_destroy(&sl->details);
    slot_arm(sl);

    unimpl *u = calloc(1, sizeof *u);
    if (!u) {
        grpc_call_cancel_with_status(gc, GRPC_STATUS_UNIMPLEMENTED, "unknown method", NULL);
        grpc_call_unref(gc);
        return;
    }
    u->t.cb = on_unimpl_done;
    u->call = gc;
    u->details = grpc_slice_from_static_string("unknown method");
    grpc_op ops[3];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[1].data.send_status_from_server.status = GRPC_STATUS_UNIMPLEMENTED;
    ops[1].data.send_status_from_server.status_details = &u->details;
    ops[2].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[2].data.recv_close_on_server.cancelled = &u->cancelled;
    if (grpc_call_start_batch(gc, ops, 3, &u->t, NULL) != GRPC_CALL_OK) {
        grpc_call_cancel(gc, NULL);
        grpc_call_unref(gc);
        free(u);
    }
}

/* ---- pollers ---- */

void *rs_cq_main(void *arg)
{
    grpcx_cq_run(((rpcs *)arg)->cq);
    return NULL;
}

void rs_on_shutdown_notified(rpcs_tag *t, int ok)
{
    (void)ok;
    rpcs *s = CONTAINER(t, rpcs, t_shutdown);
    pthread_mutex_lock(&s->mu);
    s->shutdown_notified = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

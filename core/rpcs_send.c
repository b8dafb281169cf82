/* rpcs_send: answering and streaming on a call of the core's gRPC server
 * (rpcs.h): unary answers, a stream's bounded send queue and its batches,
 * trailing metadata and the status. */
#include "rpcs_int.h"

/* ---- sending ---- */

/* Starts the next send batch unless one is in flight. A batch carries, in
 * order: the initial metadata if not yet sent, the next queued message, and
 * the status once a finish was requested and nothing else waits. A unary
 * reply is therefore one batch. */
void rs_start_send_locked(rpcs_call *c)
{
    if (c->send_in_flight || c->closed || c->dead || c->status_sent || !c->call) return;
    grpc_op ops[3];
    memset(ops, 0, sizeof ops);
    size_t n = 0;
    if (!c->sent_md) ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    qmsg *q = c->qhead;
    if (q) {
        c->qhead = q->next;
        if (!c->qhead) c->qtail = NULL;
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n].data.send_message.send_message = q->bb;
        /* Only while more wait: the core may hold a hinted write until an
         * unhinted one follows, so the last message must flush. */
        ops[n].flags = c->qhead ? GRPC_WRITE_BUFFER_HINT : 0;
        n++;
    }
    int with_status = c->finish_requested && !c->qhead;
    if (with_status) {
        ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        ops[n].data.send_status_from_server.status = c->code;
        ops[n].data.send_status_from_server.status_details = c->has_details ? &c->details : NULL;
        if (c->has_trailer) {
            ops[n].data.send_status_from_server.trailing_metadata_count = 1;
            ops[n].data.send_status_from_server.trailing_metadata = &c->trailer;
        }
        n++;
    }
    if (n == 0) return;
    grpc_call_error e = grpc_call_start_batch(c->call, ops, n, &c->t_send, NULL);
    if (e != GRPC_CALL_OK) {
        LOG_E(MOD, "%s: starting a send batch failed (%d)", c->m->path, (int)e);
        if (q) {
            c->qlen--;
            c->qbytes -= q->len;
            rs_qmsg_free(q);
        }
        rs_drop_queue_locked(c);
        c->dead = 1;
        grpc_call_cancel_with_status(c->call, GRPC_STATUS_INTERNAL, "send failed", NULL);
        pthread_cond_broadcast(&c->cv);
        return;
    }
    c->sent_md = 1;
    if (with_status) c->status_sent = 1;
    c->inflight = q;
    c->send_in_flight = 1;
    c->pending++;
}

void rs_on_send_done(rpcs_tag *t, int ok)
{
    rpcs_call *c = CONTAINER(t, rpcs_call, t_send);
    pthread_mutex_lock(&c->mu);
    qmsg *q = c->inflight;
    c->inflight = NULL;
    if (q) {
        c->qlen--;
        c->qbytes -= q->len;
        rs_qmsg_free(q);
    }
    c->send_in_flight = 0;
    c->pending--;
    if (ok) {
        rs_start_send_locked(c);
    } else {
        /* The call is dead (cancelled, deadline, peer gone); the close
         * completion says why. */
        c->dead = 1;
        rs_drop_queue_locked(c);
    }
    pthread_cond_broadcast(&c->cv);
    grpc_call *gc = NULL;
    int rel = rs_take_release_locked(c, &gc);
    pthread_mutex_unlock(&c->mu);
    if (rel) rs_release(c, gc);
}

void rs_on_close(rpcs_tag *t, int ok)
{
    rpcs_call *c = CONTAINER(t, rpcs_call, t_close);
    pthread_mutex_lock(&c->mu);
    c->closed = 1;
    if (!ok) c->close_cancelled = 1;
    rs_drop_queue_locked(c);
    pthread_cond_broadcast(&c->cv);
    rpcs_done_fn fn = c->done_fn;
    void *ud = c->done_ud;
    int cancelled = c->close_cancelled != 0;
    c->done_seen = 1;
    pthread_mutex_unlock(&c->mu);
    /* The close batch still counts as pending here, so nobody can rs_release
     * the call while the callback runs. */
    if (fn) fn(c, cancelled, ud);
    pthread_mutex_lock(&c->mu);
    c->pending--;
    grpc_call *gc = NULL;
    int rel = rs_take_release_locked(c, &gc);
    pthread_mutex_unlock(&c->mu);
    if (rel) rs_release(c, gc);
}

/* Room for one more message of len bytes. One message is always allowed
 * into an empty queue, so a message above the byte budget still goes. */
static int has_room_locked(const rpcs_call *c, size_t len)
{
    if (c->qlen == 0) return 1;
    return c->qlen < c->max_queued && c->qbytes + len <= c->max_queued_bytes;
}

/* What rpcs_call_wait_writable waits for: fewer than below queued and room
 * for a message of some size. */
static int writable_locked(const rpcs_call *c, size_t below)
{
    if (c->qlen >= below) return 0;
    return c->qlen == 0 || (c->qlen < c->max_queued && c->qbytes < c->max_queued_bytes);
}

int rs_call_over_locked(const rpcs_call *c)
{
    return c->closed || c->dead || c->finish_requested;
}

/* Takes ownership of bb in every case. */
static int enqueue(rpcs_call *c, grpc_byte_buffer *bb, size_t len, int is_reply)
{
    qmsg *q = malloc(sizeof *q);
    if (!q) {
        grpc_byte_buffer_destroy(bb);
        return RPCS_ENOMEM;
    }
    q->bb = bb;
    q->len = len;
    q->next = NULL;
    pthread_mutex_lock(&c->mu);
    int rc = RPCS_OK;
    if (rs_call_over_locked(c))
        rc = RPCS_ECLOSED;
    else if (!is_reply && !has_room_locked(c, len))
        rc = RPCS_EFULL;
    if (rc != RPCS_OK) {
        pthread_mutex_unlock(&c->mu);
        rs_qmsg_free(q);
        return rc;
    }
    if (c->qtail)
        c->qtail->next = q;
    else
        c->qhead = q;
    c->qtail = q;
    c->qlen++;
    c->qbytes += len;
    if (is_reply) {
        c->finish_requested = 1;
        c->code = GRPC_STATUS_OK;
    }
    rs_start_send_locked(c);
    pthread_mutex_unlock(&c->mu);
    return RPCS_OK;
}

/* The answer enqueue would give, before paying for a pack or a copy: a
 * producer facing a slow reader then costs no allocation per try. */
static int precheck(rpcs_call *c, size_t len)
{
    pthread_mutex_lock(&c->mu);
    int rc = rs_call_over_locked(c) ? RPCS_ECLOSED : has_room_locked(c, len) ? RPCS_OK : RPCS_EFULL;
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Packed size of m when the call may take it, else an error code. */
static int64_t checked_size(rpcs_call *c, const ProtobufCMessage *m, rpcs_kind kind)
{
    if (!c || !m) return RPCS_EINVAL;
    if (c->kind != kind || m->descriptor != c->desc->output) return RPCS_EINVAL;
    size_t n = protobuf_c_message_get_packed_size(m);
    if (n > RPCS_MAX_MESSAGE_BYTES) {
        /* Clients refuse it by default; better refused here, call intact. */
        LOG_E(MOD, "%s: message of %zu bytes is above the message limit", c->desc->name, n);
        return RPCS_EINVAL;
    }
    return (int64_t)n;
}

int rpcs_call_reply(rpcs_call *c, const ProtobufCMessage *resp)
{
    int64_t n = checked_size(c, resp, RPCS_UNARY);
    if (n < 0) return (int)n;
    return enqueue(c, grpcx_pack(resp, (size_t)n), (size_t)n, 1);
}

int rpcs_call_send(rpcs_call *c, const ProtobufCMessage *m)
{
    int64_t n = checked_size(c, m, RPCS_SERVER_STREAM);
    if (n < 0) return (int)n;
    int rc = precheck(c, (size_t)n);
    if (rc != RPCS_OK) return rc;
    return enqueue(c, grpcx_pack(m, (size_t)n), (size_t)n, 0);
}

int rpcs_call_send_packed(rpcs_call *c, const void *data, size_t len)
{
    if (!c || (!data && len > 0)) return RPCS_EINVAL;
    if (c->kind != RPCS_SERVER_STREAM || len > RPCS_MAX_MESSAGE_BYTES) return RPCS_EINVAL;
    int rc = precheck(c, len);
    if (rc != RPCS_OK) return rc;
    grpc_slice sl = grpc_slice_from_copied_buffer(data, len);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&sl, 1);
    grpc_slice_unref(sl);
    return enqueue(c, bb, len, 0);
}

/* A metadata key gRPC accepts: lower-case letters, digits, '-', '_' and
 * '.', not reserved ("grpc-") and not binary ("-bin"). */
static int md_key_ok(const char *k)
{
    size_t n = k ? strlen(k) : 0;
    if (n == 0 || n > RPCS_MAX_TRAILER_BYTES || !strncmp(k, "grpc-", 5)) return 0;
    if (n >= 4 && !strcmp(k + n - 4, "-bin")) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '-' ||
              k[i] == '_' || k[i] == '.'))
            return 0;
    return 1;
}

/* A printable ASCII value (what an HTTP/2 header carries as text). */
static int md_value_ok(const char *v)
{
    size_t n = v ? strlen(v) : 0;
    if (n > RPCS_MAX_TRAILER_BYTES) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e) return 0;
    return 1;
}

int rpcs_call_finish(rpcs_call *c, grpc_status_code code, const char *message)
{
    return rpcs_call_finish_md(c, code, message, NULL, NULL);
}

int rpcs_call_finish_md(rpcs_call *c, grpc_status_code code, const char *message,
                        const char *md_key, const char *md_value)
{
    if (!c || (int)code < 0 || (int)code > GRPC_STATUS_UNAUTHENTICATED) return RPCS_EINVAL;
    if (md_key && (!md_key_ok(md_key) || !md_value_ok(md_value))) return RPCS_EINVAL;
    if (code == GRPC_STATUS_OK && c->kind == RPCS_UNARY) return RPCS_EINVAL;
    pthread_mutex_lock(&c->mu);
    if (rs_call_over_locked(c)) {
        pthread_mutex_unlock(&c->mu);
        return RPCS_ECLOSED;
    }
    c->finish_requested = 1;
    c->code = code;
    if (message && message[0]) {
        size_t n = strnlen(message, RPCS_MAX_STATUS_BYTES);
        c->details = grpc_slice_from_copied_buffer(message, n);
        c->has_details = 1;
    }
    if (md_key) {
        c->trailer.key = grpc_slice_from_copied_string(md_key);
        c->trailer.value = grpc_slice_from_copied_string(md_value);
        c->has_trailer = 1;
    }
    rs_start_send_locked(c);
    pthread_cond_broadcast(&c->cv); /* producers waiting for room: the call is over */
    pthread_mutex_unlock(&c->mu);
    return RPCS_OK;
}

int rpcs_call_finishf(rpcs_call *c, grpc_status_code code, const char *fmt, ...)
{
    char buf[RPCS_MAX_STATUS_BYTES + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return rpcs_call_finish(c, code, buf);
}

int rpcs_call_wait_writable(rpcs_call *c, size_t below, int timeout_ms)
{
    if (!c || below == 0) return RPCS_EINVAL;
    struct timespec until = rs_mono_after(timeout_ms < 0 ? 0 : timeout_ms);
    int rc;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        if (rs_call_over_locked(c)) {
            rc = RPCS_ECLOSED;
            break;
        }
        if (writable_locked(c, below)) {
            rc = RPCS_OK;
            break;
        }
        if (timeout_ms < 0) {
            pthread_cond_wait(&c->cv, &c->mu);
        } else if (pthread_cond_timedwait(&c->cv, &c->mu, &until) == ETIMEDOUT) {
            rc = rs_call_over_locked(c)      ? RPCS_ECLOSED
                 : writable_locked(c, below) ? RPCS_OK
                                             : RPCS_EFULL;
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void rpcs_call_on_done(rpcs_call *c, rpcs_done_fn fn, void *ud)
{
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    int now = c->done_seen;
    int cancelled = c->close_cancelled != 0;
    if (!now) {
        c->done_fn = fn;
        c->done_ud = ud;
    }
    pthread_mutex_unlock(&c->mu);
    if (now && fn) fn(c, cancelled, ud);
}

int rpcs_call_closed(rpcs_call *c)
{
    pthread_mutex_lock(&c->mu);
    int r = c->closed || c->dead;
    pthread_mutex_unlock(&c->mu);
    return r;
}

int64_t rpcs_call_deadline_ms(rpcs_call *c)
{
    if (gpr_time_cmp(c->deadline, gpr_inf_future(GPR_CLOCK_MONOTONIC)) >= 0) return INT64_MAX;
    gpr_timespec left = gpr_time_sub(c->deadline, gpr_now(GPR_CLOCK_MONOTONIC));
    int64_t ms = (int64_t)left.tv_sec * 1000 + left.tv_nsec / 1000000;
    return ms < 0 ? 0 : ms;
}

void rpcs_call_peer(rpcs_call *c, char *buf, size_t len)
{
    if (!buf || len == 0) return;
    snprintf(buf, len, "%s", c->peer ? c->peer : "");
}

long rpcs_call_metadata(rpcs_call *c, const char *key, char *buf, size_t len)
{
    if (buf && len) buf[0] = 0;
    long found = -1;
    size_t klen = strlen(key);
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->req_md.count && found < 0; i++) {
        const grpc_metadata *md = &c->req_md.metadata[i];
        if (GRPC_SLICE_LENGTH(md->key) != klen ||
            memcmp(GRPC_SLICE_START_PTR(md->key), key, klen) != 0)
            continue;
        size_t vlen = GRPC_SLICE_LENGTH(md->value);
        found = vlen > LONG_MAX ? LONG_MAX : (long)vlen;
        if (buf && len) {
            size_t n = vlen < len - 1 ? vlen : len - 1;
            memcpy(buf, GRPC_SLICE_START_PTR(md->value), n);
            buf[n] = 0;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return found;
}

size_t rpcs_call_queued(rpcs_call *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->qlen;
    pthread_mutex_unlock(&c->mu);
    return n;
}

const char *rpcs_call_method(rpcs_call *c)
{
    return c->m->path;
}

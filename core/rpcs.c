#include "rpcs.h"

#include "grpcx.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define MOD "rpc"

/* Internal limits. */
#define ACCEPT_SLOTS 4 /* accepts armed per method: calls keep arriving while a poller is busy */
#define MAX_PENDING_CALLS 4096 /* accepted calls waiting for a handler thread; more is overload */
#define MAX_ADDR_BYTES 512     /* a listen address; unix paths are far shorter (108) */
#define MAX_STREAMS_PER_CONN 1024 /* HTTP/2 streams per connection: the bridge multiplexes tabs */
#define MIN_CLIENT_PING_MS 10000  /* clients may ping this often before GOAWAY too_many_pings */
#define SHUTDOWN_LOG_MS 5000      /* while cancelled calls drain, report this often */

/* Every completion-queue tag starts with this: the poller calls cb. */
typedef grpcx_tag rpcs_tag;

#define CONTAINER GRPCX_CONTAINER

typedef struct method_ent {
    rpcs_method def;
    const ProtobufCMethodDescriptor *desc;
    char *path; /* "/pkg.Service/Method" */
    void *handle;
    int on_cq; /* RPCS_UNARY_ON_CQ: the handler runs on the accepting thread */
} method_ent;

typedef struct qmsg {
    grpc_byte_buffer *bb;
    size_t len;
    struct qmsg *next;
} qmsg;

struct rpcs_call {
    rpcs_tag t_send;     /* the one send batch in flight */
    rpcs_tag t_close;    /* RECV_CLOSE_ON_SERVER, started at accept */
    rpcs *s;             /* only while the call is live: the server outlives that */
    const method_ent *m; /* likewise */
    /* Copies for calls the application keeps after rpcs_destroy. */
    rpcs_kind kind;
    const ProtobufCMethodDescriptor *desc; /* static, from protoc-c */
    size_t max_queued, max_queued_bytes;
    atomic_int refs;       /* gRPC side (until released) + dispatcher + application */
    gpr_timespec deadline; /* monotonic */
    char *peer;            /* gpr_malloc'd */
    /* Owned by the dispatch (the handler thread) until unpacked. */
    grpc_byte_buffer *payload;
    ProtobufCMessage *req;

    pthread_mutex_t mu;
    pthread_cond_t cv; /* queue shrank or call ended */
    /* Everything below is guarded by mu. */
    grpc_call *call; /* NULL once released */
    grpc_metadata_array req_md;
    qmsg *qhead, *qtail; /* waiting, not yet handed to gRPC */
    qmsg *inflight;
    size_t qlen, qbytes; /* queued plus in flight */
    int pending;         /* batches outstanding */
    int send_in_flight;
    int sent_md;
    int finish_requested;
    int status_sent;
    int closed;    /* RECV_CLOSE completed */
    int dead;      /* a send failed: the call is going away */
    int released;  /* the grpc_call was unreffed */
    int done_seen; /* on_done has been (or is being) reported */
    int close_cancelled;
    grpc_status_code code;
    grpc_slice details;
    int has_details;
    /* One trailing metadata entry sent with the status (rpcs_call_finish_md). */
    grpc_metadata trailer;
    int has_trailer;
    rpcs_done_fn done_fn;
    void *done_ud;

    rpcs_call *live_prev, *live_next; /* s->live, guarded by s->mu */
    rpcs_call *work_next;             /* s->wq, guarded by s->pmu */
};

/* An armed accept: a registered method's (m != NULL) or the catch-all. */
typedef struct slot {
    rpcs_tag t;
    rpcs *s;
    const method_ent *m;
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_byte_buffer *payload;
    grpc_call_details details;
} slot;

/* A call to an unknown method, answered UNIMPLEMENTED in one batch. */
typedef struct unimpl {
    rpcs_tag t;
    grpc_call *call;
    grpc_slice details;
    int cancelled;
} unimpl;

struct rpcs {
    grpc_server *srv;
    grpc_completion_queue *cq;
    method_ent *methods;
    size_t n_methods;
    size_t max_queued, max_queued_bytes;
    uint32_t grace_ms;
    size_t n_listen;
    char **listen;
    int *ports;
    int *lock_fds;
    pthread_t *cq_thr;
    int n_cq, n_cq_started;
    pthread_t *h_thr;
    int n_h, n_h_started;
    rpcs_tag t_shutdown;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    int shutting_down;     /* accepts are no longer re-armed */
    int shutdown_notified; /* gRPC's shutdown tag arrived */
    int shutdown_running;
    int shutdown_finished;
    rpcs_call *live; /* accepted, not yet released */

    pthread_mutex_t pmu;
    pthread_cond_t pcv;
    rpcs_call *wq_head, *wq_tail;
    size_t wq_len;
    int pool_stop;
};

const char *rpcs_strerror(int err)
{
    return cfd_strerror(err);
}

/* ---- small helpers ---- */

static void cond_init_mono(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

static struct timespec mono_after(int64_t ms)
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

static void qmsg_free(qmsg *q)
{
    grpc_byte_buffer_destroy(q->bb);
    free(q);
}

static void drop_queue_locked(rpcs_call *c)
{
    while (c->qhead) {
        qmsg *q = c->qhead;
        c->qhead = q->next;
        c->qlen--;
        c->qbytes -= q->len;
        qmsg_free(q);
    }
    c->qtail = NULL;
}

/* ---- call lifetime ---- */

static void call_free(rpcs_call *c)
{
    pthread_mutex_lock(&c->mu);
    drop_queue_locked(c);
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
static int live_add(rpcs *s, rpcs_call *c)
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
 * lock through release(). */
static int take_release_locked(rpcs_call *c, grpc_call **gc)
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

static void release(rpcs_call *c, grpc_call *gc)
{
    if (gc) grpc_call_unref(gc);
    live_remove(c->s, c);
    rpcs_call_unref(c); /* the gRPC side's reference */
}

/* ---- sending ---- */

/* Starts the next send batch unless one is in flight. A batch carries, in
 * order: the initial metadata if not yet sent, the next queued message, and
 * the status once a finish was requested and nothing else waits. A unary
 * reply is therefore one batch. */
static void start_send_locked(rpcs_call *c)
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
            qmsg_free(q);
        }
        drop_queue_locked(c);
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

static void on_send_done(rpcs_tag *t, int ok)
{
    rpcs_call *c = CONTAINER(t, rpcs_call, t_send);
    pthread_mutex_lock(&c->mu);
    qmsg *q = c->inflight;
    c->inflight = NULL;
    if (q) {
        c->qlen--;
        c->qbytes -= q->len;
        qmsg_free(q);
    }
    c->send_in_flight = 0;
    c->pending--;
    if (ok) {
        start_send_locked(c);
    } else {
        /* The call is dead (cancelled, deadline, peer gone); the close
         * completion says why. */
        c->dead = 1;
        drop_queue_locked(c);
    }
    pthread_cond_broadcast(&c->cv);
    grpc_call *gc = NULL;
    int rel = take_release_locked(c, &gc);
    pthread_mutex_unlock(&c->mu);
    if (rel) release(c, gc);
}

static void on_close(rpcs_tag *t, int ok)
{
    rpcs_call *c = CONTAINER(t, rpcs_call, t_close);
    pthread_mutex_lock(&c->mu);
    c->closed = 1;
    if (!ok) c->close_cancelled = 1;
    drop_queue_locked(c);
    pthread_cond_broadcast(&c->cv);
    rpcs_done_fn fn = c->done_fn;
    void *ud = c->done_ud;
    int cancelled = c->close_cancelled != 0;
    c->done_seen = 1;
    pthread_mutex_unlock(&c->mu);
    /* The close batch still counts as pending here, so nobody can release
     * the call while the callback runs. */
    if (fn) fn(c, cancelled, ud);
    pthread_mutex_lock(&c->mu);
    c->pending--;
    grpc_call *gc = NULL;
    int rel = take_release_locked(c, &gc);
    pthread_mutex_unlock(&c->mu);
    if (rel) release(c, gc);
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

static int call_over_locked(const rpcs_call *c)
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
    if (call_over_locked(c))
        rc = RPCS_ECLOSED;
    else if (!is_reply && !has_room_locked(c, len))
        rc = RPCS_EFULL;
    if (rc != RPCS_OK) {
        pthread_mutex_unlock(&c->mu);
        qmsg_free(q);
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
    start_send_locked(c);
    pthread_mutex_unlock(&c->mu);
    return RPCS_OK;
}

/* The answer enqueue would give, before paying for a pack or a copy: a
 * producer facing a slow reader then costs no allocation per try. */
static int precheck(rpcs_call *c, size_t len)
{
    pthread_mutex_lock(&c->mu);
    int rc = call_over_locked(c) ? RPCS_ECLOSED : has_room_locked(c, len) ? RPCS_OK : RPCS_EFULL;
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
    if (call_over_locked(c)) {
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
    start_send_locked(c);
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
    struct timespec until = mono_after(timeout_ms < 0 ? 0 : timeout_ms);
    int rc;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        if (call_over_locked(c)) {
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
            rc = call_over_locked(c)         ? RPCS_ECLOSED
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
    int orphan = !call_over_locked(c) && atomic_load(&c->refs) == 2;
    pthread_mutex_unlock(&c->mu);
    if (orphan) {
        LOG_E(MOD, "%s: handler returned without ending the call or keeping a reference", m->path);
        rpcs_call_finish(c, GRPC_STATUS_INTERNAL, "handler did not reply");
    }
}

static void *handler_main(void *arg)
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

static int slot_new(rpcs *s, const method_ent *m)
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
    c->t_send.cb = on_send_done;
    c->t_close.cb = on_close;
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
    cond_init_mono(&c->cv);
    slot_arm(sl);

    int late = live_add(s, c);
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
        rel = take_release_locked(c, &rel_gc);
    } else {
        c->pending++;
        /* Stream clients see the headers at once. */
        if (c->kind == RPCS_SERVER_STREAM) start_send_locked(c);
    }
    pthread_mutex_unlock(&c->mu);
    if (rel) release(c, rel_gc);
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

static void *cq_main(void *arg)
{
    grpcx_cq_run(((rpcs *)arg)->cq);
    return NULL;
}

static void on_shutdown_notified(rpcs_tag *t, int ok)
{
    (void)ok;
    rpcs *s = CONTAINER(t, rpcs, t_shutdown);
    pthread_mutex_lock(&s->mu);
    s->shutdown_notified = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
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
    struct timespec until = mono_after(s->grace_ms);
    pthread_mutex_lock(&s->mu);
    while (!s->shutdown_notified)
        if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT) break;
    if (!s->shutdown_notified) {
        pthread_mutex_unlock(&s->mu);
        LOG_W(MOD, "calls still open after %u ms; cancelling them", (unsigned)s->grace_ms);
        grpc_server_cancel_all_calls(s->srv);
        pthread_mutex_lock(&s->mu);
        while (!s->shutdown_notified) {
            until = mono_after(SHUTDOWN_LOG_MS);
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
    cond_init_mono(&s->cv);
    pthread_mutex_init(&s->pmu, NULL);
    pthread_cond_init(&s->pcv, NULL);
    s->t_shutdown.cb = on_shutdown_notified;
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
        if (pthread_create(&s->h_thr[i], NULL, handler_main, s) != 0) {
            rc = RPCS_ENOMEM;
            goto fail;
        }
        pthread_setname_np(s->h_thr[i], "rpcs-handler");
        s->n_h_started++;
    }
    for (int i = 0; i < s->n_cq; i++) {
        if (pthread_create(&s->cq_thr[i], NULL, cq_main, s) != 0) {
            rc = RPCS_ENOMEM;
            goto fail;
        }
        pthread_setname_np(s->cq_thr[i], "rpcs-cq");
        s->n_cq_started++;
    }
    grpc_server_start(s->srv);
    for (size_t i = 0; i < s->n_methods; i++)
        for (int k = 0; k < ACCEPT_SLOTS; k++)
            if ((rc = slot_new(s, &s->methods[i])) != RPCS_OK) goto fail;
    /* Unknown methods would otherwise wait in the core until their deadline. */
    if ((rc = slot_new(s, NULL)) != RPCS_OK) goto fail;
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

#include "rpcc.h"

#include "grpcx.h"
#include "log.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "rpcc"

/* Internal limits. */
#define MAX_METHOD_NAME_BYTES 128 /* proto method names are short identifiers */
#define INITIAL_RECONNECT_MS 100  /* first retry after a failed connect */
/* gRPC uses "min reconnect backoff" as the time one connect attempt,
 * handshake included, is given. A core that is down refuses at once, so
 * this does not slow finding it again; it only bounds a core that accepts
 * but does not answer. Far shorter risks giving up on a loaded core. */
#define MIN_CONNECT_TIMEOUT_MS 5000
#define MIN_RECONNECT_MAX_MS INITIAL_RECONNECT_MS /* the cap is at least the first step */
#define MAX_RECONNECT_MAX_MS 600000               /* ten minutes: longer hides an outage */

/* Every completion-queue tag starts with this: the thread calls cb. */
typedef grpcx_tag rpcc_tag;

#define CONTAINER GRPCX_CONTAINER

/* A call in flight, listed so that rpcc_destroy can cancel it. */
typedef struct live {
    grpc_call *call; /* guarded by c->mu; unreffed in call_end */
    struct live *prev, *next;
} live;

typedef struct method_ent {
    const ProtobufCMethodDescriptor *md; /* static, from protoc-c */
    char *path;   /* "/pkg.Service/Method"; gRPC keeps the pointer: freed after the channel */
    void *handle; /* from grpc_channel_register_call */
} method_ent;

struct rpcc {
    grpc_channel *ch;
    grpc_completion_queue *cq;
    pthread_t thr;
    int thr_started;
    uint32_t max_calls;
    char *target;

    pthread_mutex_t mu;
    pthread_cond_t cv; /* n_live reached 0 */
    /* Guarded by mu. */
    int closing;
    live *live;
    size_t n_live;
    method_ent methods[RPCC_MAX_METHODS];
    size_t n_methods;
};

typedef struct ucall {
    rpcc_tag t; /* the one 6-op batch */
    live l;
    rpcc *c;
    const ProtobufCMethodDescriptor *md;
    rpcc_unary_cb cb;
    void *ud;
    /* Filled by gRPC; read only in the completion. */
    grpc_byte_buffer *send_bb, *recv_bb;
    grpc_metadata_array imd, tmd;
    grpc_status_code status;
    grpc_slice details;
    /* Metadata entries sent with the request (rpcc_unary_md, rpcc_unary_mdv). */
    grpc_metadata smd[RPCC_MAX_MD_ENTRIES];
    size_t n_smd;
} ucall;

struct rpcc_stream {
    rpcc_tag t_start;  /* send metadata + request + half-close, receive metadata */
    rpcc_tag t_status; /* RECV_STATUS_ON_CLIENT, started up front */
    rpcc_tag t_recv;   /* the one RECV_MESSAGE in flight */
    live l;
    rpcc *c; /* only while the call is live: the client outlives that */
    const ProtobufCMethodDescriptor *md;
    rpcc_msg_cb on_msg;
    rpcc_end_cb on_end;
    void *ud;
    atomic_int refs; /* the caller's handle + the gRPC side until released */
    int manual;

    pthread_mutex_t mu; /* orders batches on the call and guards what follows */
    grpc_call *call;    /* NULL once the gRPC side is released */
    uint32_t credits;   /* manual flow: messages the consumer still accepts */
    int pending;        /* batches outstanding */
    int recv_armed;
    int read_over;   /* end of stream or a failed read: no more reads */
    int status_done; /* the status batch completed (or could not start) */
    int ended;       /* on_end has been (or is being) called */
    int bad_msg;     /* a message did not unpack: reported as INTERNAL */
    int no_status;   /* the status batch could not start */
    /* Filled by gRPC. */
    grpc_byte_buffer *send_bb, *recv_bb;
    grpc_metadata_array imd, tmd;
    grpc_status_code status;
    grpc_slice details;
};

const char *rpcc_strerror(int err)
{
    return cfd_strerror(err);
}

const char *rpcc_state_name(rpcc_state_t st)
{
    switch (st) {
    case RPCC_IDLE:
        return "idle";
    case RPCC_CONNECTING:
        return "connecting";
    case RPCC_READY:
        return "ready";
    case RPCC_TRANSIENT_FAILURE:
        return "transient_failure";
    case RPCC_SHUTDOWN:
        return "shutdown";
    default:
        return "unknown";
    }
}

/* ---- helpers ---- */

static gpr_timespec deadline_after(int64_t ms)
{
    if (ms <= 0) return gpr_inf_future(GPR_CLOCK_REALTIME);
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

/* A status code from the wire: anything outside the known codes is
 * UNKNOWN, so callers can switch on it safely. */
static grpc_status_code clamp_status(grpc_status_code code)
{
    if ((int)code < 0 || (int)code > GRPC_STATUS_UNAUTHENTICATED) return GRPC_STATUS_UNKNOWN;
    return code;
}

/* Copies status details into buf (RPCC_MAX_DETAILS_BYTES + 1 bytes). */
static void details_copy(const grpc_slice *s, char *buf)
{
    size_t n = GRPC_SLICE_LENGTH(*s);
    if (n > RPCC_MAX_DETAILS_BYTES) n = RPCC_MAX_DETAILS_BYTES;
    if (n) memcpy(buf, GRPC_SLICE_START_PTR(*s), n);
    buf[n] = '\0';
}

/* Unpacks a received message; NULL when it is malformed or too large (the
 * channel already refuses larger ones; this keeps the promise regardless). */
static ProtobufCMessage *unpack(const ProtobufCMessageDescriptor *d, grpc_byte_buffer *bb)
{
    return grpcx_unpack(d, bb, RPCC_MAX_MESSAGE_BYTES);
}

/* ---- methods ---- */

/* The registered method for svc/name, registering it on first use. */
static int method_get(rpcc *c, const ProtobufCServiceDescriptor *svc, const char *name,
                      const method_ent **out)
{
    if (!svc || svc->magic != PROTOBUF_C__SERVICE_DESCRIPTOR_MAGIC || !name ||
        strnlen(name, MAX_METHOD_NAME_BYTES + 1) > MAX_METHOD_NAME_BYTES)
        return RPCC_EINVAL;
    const ProtobufCMethodDescriptor *md =
        protobuf_c_service_descriptor_get_method_by_name(svc, name);
    if (!md) return RPCC_EINVAL;
    int rc = RPCC_OK;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n_methods; i++)
        if (c->methods[i].md == md) {
            *out = &c->methods[i];
            pthread_mutex_unlock(&c->mu);
            return RPCC_OK;
        }
    if (c->n_methods >= RPCC_MAX_METHODS) {
        LOG_E(MOD, "more than %d methods used; %s/%s refused", RPCC_MAX_METHODS, svc->name,
              md->name);
        rc = RPCC_EMETHODS;
        goto out;
    }
    size_t n = strlen(svc->name) + strlen(md->name) + 3;
    char *path = malloc(n);
    if (!path) {
        rc = RPCC_ENOMEM;
        goto out;
    }
    snprintf(path, n, "/%s/%s", svc->name, md->name);
    void *h = grpc_channel_register_call(c->ch, path, NULL, NULL);
    if (!h) {
        LOG_E(MOD, "cannot register %s", path);
        free(path);
        rc = RPCC_EGRPC;
        goto out;
    }
    method_ent *e = &c->methods[c->n_methods++];
    e->md = md;
    e->path = path;
    e->handle = h;
    *out = e;
out:
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Checks what rpcc_unary and rpcc_stream_start share; on success the
 * method is known and *bb holds the packed request. */
static int prepare(rpcc *c, const ProtobufCServiceDescriptor *svc, const char *method,
                   const ProtobufCMessage *req, int64_t timeout_ms, unsigned flags,
                   unsigned allowed_flags, const method_ent **m, grpc_byte_buffer **bb)
{
    if (!c || !req || timeout_ms < 0 || timeout_ms > RPCC_MAX_TIMEOUT_MS) return RPCC_EINVAL;
    if (flags & ~allowed_flags) return RPCC_EINVAL;
    int rc = method_get(c, svc, method, m);
    if (rc != RPCC_OK) return rc;
    if (req->descriptor != (*m)->md->input) return RPCC_EINVAL;
    size_t n = protobuf_c_message_get_packed_size(req);
    if (n > RPCC_MAX_MESSAGE_BYTES) return RPCC_ETOOBIG;
    *bb = grpcx_pack(req, n);
    return RPCC_OK;
}

/* ---- call lifetime ---- */

/* Creates the grpc_call and lists it as in flight. */
static int call_begin(rpcc *c, const method_ent *m, gpr_timespec deadline, live *l)
{
    int rc = RPCC_OK;
    pthread_mutex_lock(&c->mu);
    if (c->closing) {
        rc = RPCC_ECLOSED;
    } else if (c->n_live >= c->max_calls) {
        rc = RPCC_EBUSY;
    } else {
        l->call = grpc_channel_create_registered_call(c->ch, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
                                                      m->handle, deadline, NULL);
        if (!l->call) {
            LOG_E(MOD, "%s: cannot create a call", m->path);
            rc = RPCC_EGRPC;
        } else {
            l->prev = NULL;
            l->next = c->live;
            if (c->live) c->live->prev = l;
            c->live = l;
            c->n_live++;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Unlists the call and lets gRPC's call go; the last one lets
 * rpcc_destroy proceed. */
static void call_end(rpcc *c, live *l)
{
    pthread_mutex_lock(&c->mu);
    if (l->prev)
        l->prev->next = l->next;
    else
        c->live = l->next;
    if (l->next) l->next->prev = l->prev;
    grpc_call_unref(l->call);
    l->call = NULL;
    if (--c->n_live == 0) pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* ---- unary ---- */

static void ucall_free(ucall *u)
{
    if (u->send_bb) grpc_byte_buffer_destroy(u->send_bb);
    if (u->recv_bb) grpc_byte_buffer_destroy(u->recv_bb);
    grpc_metadata_array_destroy(&u->imd);
    grpc_metadata_array_destroy(&u->tmd);
    grpc_slice_unref(u->details);
    for (size_t i = 0; i < u->n_smd; i++) {
        grpc_slice_unref(u->smd[i].key);
        grpc_slice_unref(u->smd[i].value);
    }
    free(u);
}

/* Copies the CFD_MD_GRAPH_ERROR entry of md into buf
 * (RPCC_MAX_GRAPH_ERROR_BYTES + 1 bytes) when it is a plain enum value
 * name. 1 when copied. */
static int md_graph_error(const grpc_metadata_array *md, char *buf)
{
    for (size_t i = 0; i < md->count; i++) {
        const grpc_slice *k = &md->metadata[i].key, *v = &md->metadata[i].value;
        if (GRPC_SLICE_LENGTH(*k) != strlen(CFD_MD_GRAPH_ERROR) ||
            memcmp(GRPC_SLICE_START_PTR(*k), CFD_MD_GRAPH_ERROR, GRPC_SLICE_LENGTH(*k)) != 0)
            continue;
        size_t n = GRPC_SLICE_LENGTH(*v);
        const uint8_t *p = GRPC_SLICE_START_PTR(*v);
        if (n == 0 || n > RPCC_MAX_GRAPH_ERROR_BYTES) return 0;
        for (size_t j = 0; j < n; j++)
            if (!((p[j] >= 'A' && p[j] <= 'Z') || (p[j] >= '0' && p[j] <= '9') || p[j] == '_'))
                return 0;
        memcpy(buf, p, n);
        buf[n] = '\0';
        return 1;
    }
    return 0;
}

static void on_unary_done(rpcc_tag *t, int ok)
{
    ucall *u = CONTAINER(t, ucall, t);
    char details[RPCC_MAX_DETAILS_BYTES + 1];
    grpc_status_code code;
    ProtobufCMessage *resp = NULL;
    if (!ok) { /* RECV_STATUS_ON_CLIENT always succeeds; kept for safety */
        code = GRPC_STATUS_INTERNAL;
        snprintf(details, sizeof details, "call failed");
    } else {
        code = clamp_status(u->status);
        details_copy(&u->details, details);
    }
    if (code == GRPC_STATUS_OK) {
        if (!u->recv_bb) {
            code = GRPC_STATUS_INTERNAL;
            snprintf(details, sizeof details, "no response message");
        } else if (!(resp = unpack(u->md->output, u->recv_bb))) {
            code = GRPC_STATUS_INTERNAL;
            snprintf(details, sizeof details, "malformed response");
        }
    }
    char graph_error[RPCC_MAX_GRAPH_ERROR_BYTES + 1];
    int has_ge = ok && code != GRPC_STATUS_OK && md_graph_error(&u->tmd, graph_error);
    u->cb(u->ud, code, details, has_ge ? graph_error : NULL, resp);
    /* Unlisted only now, so rpcc_destroy returns after every callback. */
    call_end(u->c, &u->l);
    ucall_free(u);
}

int rpcc_unary(rpcc *c, const ProtobufCServiceDescriptor *svc, const char *method,
               const ProtobufCMessage *req, int64_t timeout_ms, unsigned flags, rpcc_unary_cb cb,
               void *ud)
{
    return rpcc_unary_md(c, svc, method, req, timeout_ms, flags, NULL, NULL, cb, ud);
}

/* A metadata key a client may send: lower-case letters, digits, '-', '_'
 * and '.', not reserved ("grpc-") and not binary ("-bin"). */
static int md_key_ok(const char *k)
{
    size_t n = strlen(k);
    if (!n || n > RPCC_MAX_MD_BYTES || !strncmp(k, "grpc-", 5) ||
        (n >= 4 && !strcmp(k + n - 4, "-bin")))
        return 0;
    for (const char *p = k; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
              *p == '.'))
            return 0;
    return 1;
}

static int md_value_ok(const char *v)
{
    size_t n = 0;
    for (const char *p = v; *p; p++, n++)
        if (*p < 0x20 || *p > 0x7e) return 0;
    return n <= RPCC_MAX_MD_BYTES;
}

int rpcc_unary_md(rpcc *c, const ProtobufCServiceDescriptor *svc, const char *method,
                  const ProtobufCMessage *req, int64_t timeout_ms, unsigned flags,
                  const char *md_key, const char *md_value, rpcc_unary_cb cb, void *ud)
{
    const char *kv[2] = {md_key, md_value};
    return rpcc_unary_mdv(c, svc, method, req, timeout_ms, flags, kv, md_key ? 1 : 0, cb, ud);
}

int rpcc_unary_mdv(rpcc *c, const ProtobufCServiceDescriptor *svc, const char *method,
                   const ProtobufCMessage *req, int64_t timeout_ms, unsigned flags,
                   const char *const *md, size_t n_md, rpcc_unary_cb cb, void *ud)
{
    if (!cb || n_md > RPCC_MAX_MD_ENTRIES || (n_md && !md)) return RPCC_EINVAL;
    for (size_t i = 0; i < n_md; i++)
        if (!md[2 * i] || !md_key_ok(md[2 * i]) || !md[2 * i + 1] || !md_value_ok(md[2 * i + 1]))
            return RPCC_EINVAL;
    const method_ent *m = NULL;
    grpc_byte_buffer *bb = NULL;
    int rc = prepare(c, svc, method, req, timeout_ms, flags, RPCC_WAIT_FOR_READY, &m, &bb);
    if (rc != RPCC_OK) return rc;
    ucall *u = calloc(1, sizeof *u);
    if (!u) {
        grpc_byte_buffer_destroy(bb);
        return RPCC_ENOMEM;
    }
    u->t.cb = on_unary_done;
    u->c = c;
    u->md = m->md;
    u->cb = cb;
    u->ud = ud;
    u->send_bb = bb;
    u->details = grpc_empty_slice();
    grpc_metadata_array_init(&u->imd);
    grpc_metadata_array_init(&u->tmd);
    for (size_t i = 0; i < n_md; i++) {
        u->smd[i].key = grpc_slice_from_copied_string(md[2 * i]);
        u->smd[i].value = grpc_slice_from_copied_string(md[2 * i + 1]);
    }
    u->n_smd = n_md;
    rc = call_begin(c, m, deadline_after(timeout_ms ? timeout_ms : RPCC_DEFAULT_UNARY_TIMEOUT_MS),
                    &u->l);
    if (rc != RPCC_OK) {
        ucall_free(u);
        return rc;
    }

    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (flags & RPCC_WAIT_FOR_READY)
        ops[0].flags = GRPC_INITIAL_METADATA_WAIT_FOR_READY |
                       GRPC_INITIAL_METADATA_WAIT_FOR_READY_EXPLICITLY_SET;
    if (u->n_smd) {
        ops[0].data.send_initial_metadata.count = u->n_smd;
        ops[0].data.send_initial_metadata.metadata = u->smd;
    }
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = u->send_bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &u->imd;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &u->recv_bb;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &u->tmd;
    ops[5].data.recv_status_on_client.status = &u->status;
    ops[5].data.recv_status_on_client.status_details = &u->details;
    /* No lock: nobody else starts batches on this call. From here the
     * completion may run (and free u) at any moment. */
    grpc_call_error e = grpc_call_start_batch(u->l.call, ops, 6, &u->t, NULL);
    if (e != GRPC_CALL_OK) {
        LOG_E(MOD, "%s: starting the call failed (%d)", m->path, (int)e);
        call_end(c, &u->l);
        ucall_free(u);
        return RPCC_EGRPC;
    }
    return RPCC_OK;
}

/* ---- server streams ---- */

static void stream_unref(rpcc_stream *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1) return;
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* Everything gRPC filled in; once the call is released nobody touches it. */
static void stream_drop_grpc_state(rpcc_stream *s)
{
    if (s->send_bb) grpc_byte_buffer_destroy(s->send_bb);
    if (s->recv_bb) grpc_byte_buffer_destroy(s->recv_bb);
    s->send_bb = s->recv_bb = NULL;
    grpc_metadata_array_destroy(&s->imd);
    grpc_metadata_array_destroy(&s->tmd);
    grpc_slice_unref(s->details);
    s->details = grpc_empty_slice();
}

/* Requests the next message when the consumer takes one and the stream
 * still runs. Only one RECV_MESSAGE may be outstanding per call. */
static void arm_recv_locked(rpcc_stream *s)
{
    if (!s->call || s->recv_armed || s->read_over || s->status_done || s->ended) return;
    if (s->manual && s->credits == 0) return;
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &s->recv_bb;
    grpc_call_error e = grpc_call_start_batch(s->call, &op, 1, &s->t_recv, NULL);
    if (e != GRPC_CALL_OK) {
        LOG_E(MOD, "starting a read failed (%d)", (int)e);
        s->read_over = 1;
        grpc_call_cancel_with_status(s->call, GRPC_STATUS_INTERNAL, "cannot read", NULL);
        return;
    }
    s->recv_armed = 1;
    s->pending++;
    if (s->manual) s->credits--;
}

/* Runs at the end of every completion: calls on_end once the status is in
 * and no read is outstanding (so it follows the last on_msg), then lets
 * the call go once no batch is left. Only the client's single thread runs
 * completions, so on_msg and on_end never overlap. */
static void stream_settle(rpcc_stream *s)
{
    pthread_mutex_lock(&s->mu);
    int fire = s->status_done && !s->recv_armed && !s->ended;
    if (fire) s->ended = 1;
    pthread_mutex_unlock(&s->mu);
    if (fire) {
        char details[RPCC_MAX_DETAILS_BYTES + 1];
        grpc_status_code code;
        if (s->bad_msg) {
            code = GRPC_STATUS_INTERNAL;
            snprintf(details, sizeof details, "malformed message");
        } else if (s->no_status) {
            code = GRPC_STATUS_INTERNAL;
            snprintf(details, sizeof details, "cannot start call");
        } else {
            code = clamp_status(s->status);
            details_copy(&s->details, details);
        }
        s->on_end(s->ud, code, details);
    }
    pthread_mutex_lock(&s->mu);
    int release = s->ended && s->pending == 0 && s->call;
    if (release) s->call = NULL;
    pthread_mutex_unlock(&s->mu);
    if (release) {
        stream_drop_grpc_state(s);
        call_end(s->c, &s->l);
        s->c = NULL;
        stream_unref(s); /* the gRPC side's reference */
    }
}

static void on_stream_started(rpcc_tag *t, int ok)
{
    (void)ok; /* a failed start shows in the status */
    rpcc_stream *s = CONTAINER(t, rpcc_stream, t_start);
    pthread_mutex_lock(&s->mu);
    if (s->send_bb) grpc_byte_buffer_destroy(s->send_bb);
    s->send_bb = NULL;
    s->pending--;
    pthread_mutex_unlock(&s->mu);
    stream_settle(s);
}

static void on_stream_status(rpcc_tag *t, int ok)
{
    (void)ok; /* RECV_STATUS_ON_CLIENT always succeeds */
    rpcc_stream *s = CONTAINER(t, rpcc_stream, t_status);
    pthread_mutex_lock(&s->mu);
    s->status_done = 1;
    s->pending--;
    pthread_mutex_unlock(&s->mu);
    stream_settle(s);
}

static void on_stream_msg(rpcc_tag *t, int ok)
{
    rpcc_stream *s = CONTAINER(t, rpcc_stream, t_recv);
    pthread_mutex_lock(&s->mu);
    s->recv_armed = 0;
    grpc_byte_buffer *bb = s->recv_bb;
    s->recv_bb = NULL;
    if (!ok || !bb) s->read_over = 1; /* end of stream, or the call failed */
    pthread_mutex_unlock(&s->mu);
    if (bb) {
        ProtobufCMessage *msg = unpack(s->md->output, bb);
        grpc_byte_buffer_destroy(bb);
        pthread_mutex_lock(&s->mu);
        if (!msg) {
            s->bad_msg = 1;
            s->read_over = 1;
            grpc_call_cancel_with_status(s->call, GRPC_STATUS_INTERNAL, "malformed message", NULL);
        } else {
            /* Ask for the next one before handing this one over: the
             * transport reads while the consumer works. */
            arm_recv_locked(s);
        }
        pthread_mutex_unlock(&s->mu);
        if (msg) s->on_msg(s->ud, msg);
    }
    pthread_mutex_lock(&s->mu);
    s->pending--;
    pthread_mutex_unlock(&s->mu);
    stream_settle(s);
}

int rpcc_stream_start(rpcc *c, const ProtobufCServiceDescriptor *svc, const char *method,
                      const ProtobufCMessage *req, int64_t timeout_ms, unsigned flags,
                      rpcc_msg_cb on_msg, rpcc_end_cb on_end, void *ud, rpcc_stream **out)
{
    if (!out) return RPCC_EINVAL;
    *out = NULL;
    if (!on_msg || !on_end) return RPCC_EINVAL;
    const method_ent *m = NULL;
    grpc_byte_buffer *bb = NULL;
    int rc = prepare(c, svc, method, req, timeout_ms, flags, RPCC_WAIT_FOR_READY | RPCC_MANUAL_FLOW,
                     &m, &bb);
    if (rc != RPCC_OK) return rc;
    rpcc_stream *s = calloc(1, sizeof *s);
    if (!s) {
        grpc_byte_buffer_destroy(bb);
        return RPCC_ENOMEM;
    }
    s->t_start.cb = on_stream_started;
    s->t_status.cb = on_stream_status;
    s->t_recv.cb = on_stream_msg;
    s->c = c;
    s->md = m->md;
    s->on_msg = on_msg;
    s->on_end = on_end;
    s->ud = ud;
    atomic_init(&s->refs, 2);
    s->manual = (flags & RPCC_MANUAL_FLOW) != 0;
    s->credits = s->manual ? 1 : 0;
    pthread_mutex_init(&s->mu, NULL);
    s->send_bb = bb;
    s->details = grpc_empty_slice();
    grpc_metadata_array_init(&s->imd);
    grpc_metadata_array_init(&s->tmd);
    rc = call_begin(c, m, deadline_after(timeout_ms), &s->l);
    if (rc != RPCC_OK) {
        stream_drop_grpc_state(s);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return rc;
    }
    s->call = s->l.call;
    *out = s;

    pthread_mutex_lock(&s->mu);
    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (flags & RPCC_WAIT_FOR_READY)
        ops[0].flags = GRPC_INITIAL_METADATA_WAIT_FOR_READY |
                       GRPC_INITIAL_METADATA_WAIT_FOR_READY_EXPLICITLY_SET;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = s->send_bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &s->imd;
    grpc_call_error e = grpc_call_start_batch(s->call, ops, 4, &s->t_start, NULL);
    if (e != GRPC_CALL_OK) {
        LOG_E(MOD, "%s: starting the stream failed (%d)", m->path, (int)e);
        s->call = NULL;
        pthread_mutex_unlock(&s->mu);
        *out = NULL;
        call_end(c, &s->l);
        stream_drop_grpc_state(s);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return RPCC_EGRPC;
    }
    s->pending++;
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[0].data.recv_status_on_client.trailing_metadata = &s->tmd;
    ops[0].data.recv_status_on_client.status = &s->status;
    ops[0].data.recv_status_on_client.status_details = &s->details;
    e = grpc_call_start_batch(s->call, ops, 1, &s->t_status, NULL);
    if (e != GRPC_CALL_OK) {
        /* The first batch is out, so on_end must come: the first
         * completion reports this instead of a status. */
        LOG_E(MOD, "%s: starting the status watch failed (%d)", m->path, (int)e);
        s->no_status = 1;
        s->status_done = 1;
        grpc_call_cancel(s->call, NULL);
    } else {
        s->pending++;
    }
    arm_recv_locked(s);
    pthread_mutex_unlock(&s->mu);
    return RPCC_OK;
}

int rpcc_stream_next(rpcc_stream *s, uint32_t n)
{
    if (!s || n == 0) return RPCC_EINVAL;
    int rc = RPCC_OK;
    pthread_mutex_lock(&s->mu);
    if (!s->call || s->ended) {
        rc = RPCC_ECLOSED;
    } else if (s->manual) {
        uint64_t total = (uint64_t)s->credits + n;
        s->credits = total > RPCC_MAX_CREDITS ? RPCC_MAX_CREDITS : (uint32_t)total;
        arm_recv_locked(s);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int rpcc_stream_cancel(rpcc_stream *s)
{
    if (!s) return RPCC_EINVAL;
    int rc = RPCC_OK;
    pthread_mutex_lock(&s->mu);
    /* s->call stays referenced while mu is held: cancelling is safe. */
    if (!s->call || s->ended || s->status_done)
        rc = RPCC_ECLOSED;
    else
        grpc_call_cancel_with_status(s->call, GRPC_STATUS_CANCELLED, "cancelled by the client",
                                     NULL);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void rpcc_stream_release(rpcc_stream *s)
{
    if (!s) return;
    rpcc_stream_cancel(s);
    stream_unref(s);
}

/* ---- the client ---- */

static void *cq_main(void *arg)
{
    grpcx_cq_run(((rpcc *)arg)->cq);
    return NULL;
}

rpcc_state_t rpcc_state(rpcc *c)
{
    if (!c || !c->ch) return RPCC_SHUTDOWN;
    switch (grpc_channel_check_connectivity_state(c->ch, 1)) {
    case GRPC_CHANNEL_IDLE:
        return RPCC_IDLE;
    case GRPC_CHANNEL_CONNECTING:
        return RPCC_CONNECTING;
    case GRPC_CHANNEL_READY:
        return RPCC_READY;
    case GRPC_CHANNEL_TRANSIENT_FAILURE:
        return RPCC_TRANSIENT_FAILURE;
    default:
        return RPCC_SHUTDOWN;
    }
}

void rpcc_destroy(rpcc *c)
{
    if (!c) return;
    if (c->thr_started && pthread_equal(pthread_self(), c->thr)) {
        LOG_E(MOD, "rpcc_destroy called from a callback");
        abort();
    }
    pthread_mutex_lock(&c->mu);
    c->closing = 1;
    for (live *l = c->live; l; l = l->next)
        grpc_call_cancel_with_status(l->call, GRPC_STATUS_CANCELLED, "client shutting down", NULL);
    /* Calls end through the thread, which runs their callbacks. */
    while (c->n_live > 0)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
    if (c->cq) {
        grpc_completion_queue_shutdown(c->cq);
        if (c->thr_started)
            pthread_join(c->thr, NULL);
        else
            while (
                grpc_completion_queue_next(c->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
                GRPC_QUEUE_SHUTDOWN)
                ;
        grpc_completion_queue_destroy(c->cq);
    }
    if (c->ch) grpc_channel_destroy(c->ch);
    /* gRPC kept the path pointers until the channel was gone. */
    for (size_t i = 0; i < c->n_methods; i++)
        free(c->methods[i].path);
    free(c->target);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
    grpc_shutdown_blocking();
}

int rpcc_create(rpcc **out, const char *target, const rpcc_opts *opts)
{
    if (!out) return RPCC_EINVAL;
    *out = NULL;
    if (!target || !target[0] || strnlen(target, RPCC_MAX_TARGET_BYTES + 1) > RPCC_MAX_TARGET_BYTES)
        return RPCC_EINVAL;
    rpcc_opts o = opts ? *opts : (rpcc_opts){0};
    if (o.max_calls > RPCC_MAX_MAX_CALLS) return RPCC_EINVAL;
    if (o.reconnect_max_ms &&
        (o.reconnect_max_ms < MIN_RECONNECT_MAX_MS || o.reconnect_max_ms > MAX_RECONNECT_MAX_MS))
        return RPCC_EINVAL;
    if (!o.max_calls) o.max_calls = RPCC_DEFAULT_MAX_CALLS;
    if (!o.reconnect_max_ms) o.reconnect_max_ms = RPCC_DEFAULT_RECONNECT_MAX_MS;

    rpcc *c = calloc(1, sizeof *c);
    if (!c) return RPCC_ENOMEM;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->max_calls = o.max_calls;
    grpcx_init();
    if (!(c->target = strdup(target))) {
        rpcc_destroy(c);
        return RPCC_ENOMEM;
    }

    grpc_arg args[] = {
        grpcx_int_arg(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, RPCC_MAX_MESSAGE_BYTES),
        grpcx_int_arg(GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, RPCC_MAX_MESSAGE_BYTES),
        grpcx_int_arg(GRPC_ARG_KEEPALIVE_TIME_MS, GRPCX_KEEPALIVE_TIME_MS),
        grpcx_int_arg(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, GRPCX_KEEPALIVE_TIMEOUT_MS),
        /* Idle connections are pinged too, so a core that vanished without
         * a RST is noticed before the next call; the core accepts a ping
         * every 10 s without calls, three times what is sent here. */
        grpcx_int_arg(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1),
        grpcx_int_arg(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0),
        /* A restarted core is found again within reconnect_max_ms. */
        grpcx_int_arg(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, INITIAL_RECONNECT_MS),
        grpcx_int_arg(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, MIN_CONNECT_TIMEOUT_MS),
        grpcx_int_arg(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, (int)o.reconnect_max_ms),
    };
    grpc_channel_args cargs = {.num_args = sizeof args / sizeof args[0], .args = args};
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    c->ch = grpc_channel_create(c->target, creds, &cargs);
    grpc_channel_credentials_release(creds);
    c->cq = grpc_completion_queue_create_for_next(NULL);
    if (!c->ch || !c->cq) {
        LOG_E(MOD, "cannot create a channel to %s", c->target);
        rpcc_destroy(c);
        return RPCC_EGRPC;
    }
    if (pthread_create(&c->thr, NULL, cq_main, c) != 0) {
        rpcc_destroy(c);
        return RPCC_ENOMEM;
    }
    pthread_setname_np(c->thr, "rpcc-cq");
    c->thr_started = 1;
    *out = c;
    return RPCC_OK;
}

/* comfyd-bench: measures a running comfyd through the gRPC C core client.
 *
 *   comfyd-bench --target ADDR [options]
 *
 * 1. Unary: GetSession latency (p50/p99) and calls/s, sequential and with
 *    N calls in flight on one completion queue (re-issued on completion).
 * 2. Event stream: one session, long messages, every active skill streaming
 *    unpaced deltas; deltas/s received by 1 subscriber and by K subscribers
 *    (the sum and per subscriber). Start comfyd with --echo-delay-ms 0 so
 *    that the echo provider is not paced.
 *
 * It starts nothing itself and judges nothing: it prints figures. */

#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "comfyd/v1/session.pb-c.h"
#include "text.h"

/* Named limits: the bench is driven from a command line, still bounded. */
#define BENCH_MAX_CALLS 10000000       /* per unary run; more adds nothing */
#define BENCH_MAX_INFLIGHT 1024        /* beyond this only the queue is measured */
#define BENCH_MAX_SUBSCRIBERS 1000     /* per stream run */
#define BENCH_MAX_MESSAGES 64          /* comfyd queues at most 64 turns */
#define BENCH_MAX_MESSAGE_BYTES 65536  /* the contract's content limit */
#define BENCH_MAX_SKILLS 16            /* the contract's active-skill limit */
#define BENCH_MAX_RUNS 8               /* subscriber counts per invocation */
#define BENCH_MAX_TOKEN_DELAY_MS 10000 /* comfyd's own limit */
#define BENCH_CALL_DEADLINE_MS 30000   /* a single unary call */
#define BENCH_STREAM_GUARD_MS 300000   /* a stream run cut off here is "incomplete" */

typedef struct bench_opts {
    const char *target;
    unsigned calls;
    unsigned inflight;
    unsigned runs[BENCH_MAX_RUNS]; /* subscriber counts */
    size_t n_runs;
    unsigned messages;
    unsigned message_bytes;
    unsigned token_delay_ms;        /* 0: the service's default pace */
    char *skills[BENCH_MAX_SKILLS]; /* owned */
    size_t n_skills;
} bench_opts;

/* One channel, one pluck queue for blocking calls, registered methods. */
typedef struct client {
    grpc_channel *ch;
    grpc_completion_queue *pluck;
    void *m_create;
    void *m_get;
    void *m_send;
    void *m_delete;
    void *m_subscribe;
} client;

/* Method paths must outlive the channel (registered calls keep them). */
static const char P_CREATE[] = "/comfyd.v1.SessionService/CreateSession";
static const char P_GET[] = "/comfyd.v1.SessionService/GetSession";
static const char P_SEND[] = "/comfyd.v1.SessionService/SendMessage";
static const char P_DELETE[] = "/comfyd.v1.SessionService/DeleteSession";
static const char P_SUBSCRIBE[] = "/comfyd.v1.SessionService/Subscribe";

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static gpr_timespec deadline_ms(int64_t ms)
{
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

/* Packs m into a byte buffer holding one slice (no extra copy). */
static grpc_byte_buffer *pack(const ProtobufCMessage *m)
{
    grpc_slice s = grpc_slice_malloc(protobuf_c_message_get_packed_size(m));
    protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(s));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return bb;
}

/* NULL when the bytes are not a d. Caller frees with
 * protobuf_c_message_free_unpacked. */
static ProtobufCMessage *unpack(const ProtobufCMessageDescriptor *d, grpc_byte_buffer *bb)
{
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, bb)) return NULL;
    grpc_slice s = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    ProtobufCMessage *m =
        protobuf_c_message_unpack(d, NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
    grpc_slice_unref(s);
    return m;
}

static void print_status(const char *what, grpc_status_code st, grpc_slice details)
{
    char *msg = grpc_slice_to_c_string(details);
    fprintf(stderr, "comfyd-bench: %s: status %d: %s\n", what, (int)st, msg);
    gpr_free(msg);
}

/* A blocking unary call: one 6-op batch, plucked. Returns 0 and *resp
 * (caller frees) or -1 after printing why. */
static int unary(client *c, void *method, const char *what, const ProtobufCMessage *req,
                 const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp)
{
    grpc_call *call =
        grpc_channel_create_registered_call(c->ch, NULL, GRPC_PROPAGATE_DEFAULTS, c->pluck, method,
                                            deadline_ms(BENCH_CALL_DEADLINE_MS), NULL);
    grpc_metadata_array imd, tmd;
    grpc_metadata_array_init(&imd);
    grpc_metadata_array_init(&tmd);
    grpc_byte_buffer *out = pack(req), *in = NULL;
    grpc_status_code st = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = out;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &imd;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &in;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &tmd;
    ops[5].data.recv_status_on_client.status = &st;
    ops[5].data.recv_status_on_client.status_details = &details;
    int rc = -1;
    int tag;
    if (grpc_call_start_batch(call, ops, 6, &tag, NULL) != GRPC_CALL_OK) {
        fprintf(stderr, "comfyd-bench: %s: cannot start the call\n", what);
        grpc_call_cancel(call, NULL);
    } else {
        grpc_completion_queue_pluck(c->pluck, &tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (st != GRPC_STATUS_OK) {
            print_status(what, st, details);
        } else if (in == NULL || (*resp = unpack(resp_desc, in)) == NULL) {
            fprintf(stderr, "comfyd-bench: %s: unreadable response\n", what);
        } else {
            rc = 0;
        }
    }
    grpc_byte_buffer_destroy(out);
    if (in) grpc_byte_buffer_destroy(in);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&imd);
    grpc_metadata_array_destroy(&tmd);
    grpc_call_unref(call);
    return rc;
}

/* Creates a session running opts->skills with the service's default echo
 * pace. Writes its id into id[TEXT_UUID_LEN]. */
static int create_session(client *c, const bench_opts *o, const char *title, char *id)
{
    Comfyd__V1__SessionConfig cfg = COMFYD__V1__SESSION_CONFIG__INIT;
    cfg.active_skills = (char **)o->skills;
    cfg.n_active_skills = o->n_skills;
    cfg.token_delay_ms = o->token_delay_ms;
    Comfyd__V1__CreateSessionRequest req = COMFYD__V1__CREATE_SESSION_REQUEST__INIT;
    req.title = (char *)title;
    req.config = &cfg;
    ProtobufCMessage *m = NULL;
    if (unary(c, c->m_create, "CreateSession", &req.base,
              &comfyd__v1__create_session_response__descriptor, &m) != 0)
        return -1;
    Comfyd__V1__CreateSessionResponse *r = (Comfyd__V1__CreateSessionResponse *)m;
    int rc = -1;
    if (r->session && r->session->id && strlen(r->session->id) < TEXT_UUID_LEN) {
        strcpy(id, r->session->id);
        rc = 0;
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

static void delete_session(client *c, const char *id)
{
    Comfyd__V1__DeleteSessionRequest req = COMFYD__V1__DELETE_SESSION_REQUEST__INIT;
    req.session_id = (char *)id;
    ProtobufCMessage *m = NULL;
    if (unary(c, c->m_delete, "DeleteSession", &req.base,
              &comfyd__v1__delete_session_response__descriptor, &m) == 0)
        protobuf_c_message_free_unpacked(m, NULL);
}

/* The session's newest event seq, 0 on error. */
static uint64_t session_last_seq(client *c, const char *id)
{
    Comfyd__V1__GetSessionRequest req = COMFYD__V1__GET_SESSION_REQUEST__INIT;
    req.session_id = (char *)id;
    ProtobufCMessage *m = NULL;
    if (unary(c, c->m_get, "GetSession", &req.base, &comfyd__v1__get_session_response__descriptor,
              &m) != 0)
        return 0;
    Comfyd__V1__GetSessionResponse *r = (Comfyd__V1__GetSessionResponse *)m;
    uint64_t seq = r->session ? r->session->last_seq : 0;
    protobuf_c_message_free_unpacked(m, NULL);
    return seq;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Percentile p (0..100) of a sorted array, nearest rank. */
static int64_t pct(const int64_t *sorted, size_t n, unsigned p)
{
    if (n == 0) return 0;
    size_t rank = (n * p + 99) / 100;
    return sorted[rank == 0 ? 0 : rank - 1];
}

typedef struct unary_result {
    unsigned calls;
    unsigned errors;
    double seconds;
    int64_t p50_ns, p99_ns, max_ns;
} unary_result;

static void summarize(int64_t *lat, size_t n, unary_result *r)
{
    qsort(lat, n, sizeof *lat, cmp_i64);
    r->p50_ns = pct(lat, n, 50);
    r->p99_ns = pct(lat, n, 99);
    r->max_ns = n ? lat[n - 1] : 0;
}

static int bench_unary_sequential(client *c, const char *sid, unsigned n, unary_result *r)
{
    int64_t *lat = calloc(n, sizeof *lat);
    if (!lat) return -1;
    Comfyd__V1__GetSessionRequest req = COMFYD__V1__GET_SESSION_REQUEST__INIT;
    req.session_id = (char *)sid;
    memset(r, 0, sizeof *r);
    int64_t t0 = now_ns();
    size_t ok = 0;
    for (unsigned i = 0; i < n; i++) {
        ProtobufCMessage *m = NULL;
        int64_t a = now_ns();
        if (unary(c, c->m_get, "GetSession", &req.base,
                  &comfyd__v1__get_session_response__descriptor, &m) != 0) {
            r->errors++;
            continue;
        }
        lat[ok++] = now_ns() - a;
        protobuf_c_message_free_unpacked(m, NULL);
    }
    r->seconds = (double)(now_ns() - t0) / 1e9;
    r->calls = (unsigned)ok;
    summarize(lat, ok, r);
    free(lat);
    return 0;
}

/* One of the calls kept in flight by bench_unary_async. */
typedef struct async_slot {
    grpc_call *call;
    grpc_byte_buffer *out;
    grpc_byte_buffer *in;
    grpc_metadata_array imd, tmd;
    grpc_status_code st;
    grpc_slice details;
    int64_t t0;
} async_slot;

static int async_issue(client *c, grpc_completion_queue *cq, grpc_slice req, async_slot *s)
{
    s->call =
        grpc_channel_create_registered_call(c->ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, c->m_get,
                                            deadline_ms(BENCH_CALL_DEADLINE_MS), NULL);
    grpc_metadata_array_init(&s->imd);
    grpc_metadata_array_init(&s->tmd);
    s->out = grpc_raw_byte_buffer_create(&req, 1); /* a reference, not a copy */
    s->in = NULL;
    s->st = GRPC_STATUS_UNKNOWN;
    s->details = grpc_empty_slice();
    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = s->out;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &s->imd;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &s->in;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &s->tmd;
    ops[5].data.recv_status_on_client.status = &s->st;
    ops[5].data.recv_status_on_client.status_details = &s->details;
    s->t0 = now_ns();
    return grpc_call_start_batch(s->call, ops, 6, s, NULL) == GRPC_CALL_OK ? 0 : -1;
}

/* Completes a slot's call; returns 1 when it succeeded with a response. */
static int async_finish(async_slot *s)
{
    int ok = s->st == GRPC_STATUS_OK && s->in != NULL;
    if (ok) {
        ProtobufCMessage *m = unpack(&comfyd__v1__get_session_response__descriptor, s->in);
        ok = m != NULL;
        if (m) protobuf_c_message_free_unpacked(m, NULL);
    } else {
        print_status("GetSession (async)", s->st, s->details);
    }
    grpc_byte_buffer_destroy(s->out);
    if (s->in) grpc_byte_buffer_destroy(s->in);
    grpc_slice_unref(s->details);
    grpc_metadata_array_destroy(&s->imd);
    grpc_metadata_array_destroy(&s->tmd);
    grpc_call_unref(s->call);
    s->call = NULL;
    return ok;
}

static void drain_and_destroy(grpc_completion_queue *cq)
{
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
}

static int bench_unary_async(client *c, const char *sid, unsigned n, unsigned inflight,
                             unary_result *r)
{
    int64_t *lat = calloc(n, sizeof *lat);
    async_slot *slots = calloc(inflight, sizeof *slots);
    if (!lat || !slots) {
        free(lat);
        free(slots);
        return -1;
    }
    Comfyd__V1__GetSessionRequest req = COMFYD__V1__GET_SESSION_REQUEST__INIT;
    req.session_id = (char *)sid;
    grpc_slice packed = grpc_slice_malloc(protobuf_c_message_get_packed_size(&req.base));
    protobuf_c_message_pack(&req.base, GRPC_SLICE_START_PTR(packed));
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);

    memset(r, 0, sizeof *r);
    unsigned issued = 0, completed = 0, outstanding = 0;
    size_t ok = 0;
    int64_t t0 = now_ns();
    for (unsigned i = 0; i < inflight && issued < n; i++, issued++, outstanding++) {
        if (async_issue(c, cq, packed, &slots[i]) != 0) break;
    }
    while (outstanding > 0) {
        grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type != GRPC_OP_COMPLETE) break;
        async_slot *s = ev.tag;
        int64_t took = now_ns() - s->t0;
        outstanding--;
        completed++;
        if (ev.success && async_finish(s))
            lat[ok++] = took;
        else
            r->errors++;
        if (issued < n && async_issue(c, cq, packed, s) == 0) {
            issued++;
            outstanding++;
        }
    }
    r->seconds = (double)(now_ns() - t0) / 1e9;
    r->calls = (unsigned)ok;
    summarize(lat, ok, r);
    for (unsigned i = 0; i < inflight; i++) {
        if (slots[i].call) /* only after a broken queue */
            async_finish(&slots[i]);
    }
    drain_and_destroy(cq);
    grpc_slice_unref(packed);
    free(lat);
    free(slots);
    return completed == n ? 0 : -1;
}

/* --- event stream ------------------------------------------------------ */

/* A subscriber the service drops for reading too slowly resubscribes from
 * the last seq it saw, as a real client would, at most this often. */
#define BENCH_MAX_RESUMES 100000

enum { TAG_START = 1, TAG_RECV = 2, TAG_STATUS = 3 };

typedef struct sub sub;
typedef struct attempt attempt;

typedef struct sub_tag {
    attempt *a;
    int kind;
} sub_tag;

/* One Subscribe call of a subscriber. It is freed once its status and
 * every batch started on it have completed, so a late completion never
 * lands on a newer call. */
struct attempt {
    sub *s;
    grpc_call *call;
    grpc_byte_buffer *out;
    grpc_byte_buffer *in;
    grpc_metadata_array imd, tmd;
    grpc_status_code st;
    grpc_slice details;
    sub_tag t_start, t_recv, t_status;
    int pending; /* batches started and not completed */
};

/* One subscriber; cur is its live call. */
struct sub {
    attempt *cur;
    int attached;  /* got its first sync_state */
    int finished;  /* saw every expected reply */
    int ended;     /* no call left and none coming */
    int cancelled; /* we stopped it */
    int dropped;   /* ended by the service, not resumed */
    uint64_t last_seq;
    uint64_t events, deltas, delta_bytes, replies;
    unsigned resumes; /* resubscribed after RESOURCE_EXHAUSTED */
    unsigned gaps;    /* a resume answered by a gap snapshot */
    int64_t t_done;
};

typedef struct stream_run {
    client *c;
    grpc_completion_queue *cq;
    const char *sid;
    sub *subs;
    unsigned n;
    uint64_t expect_replies; /* per subscriber; 0 while attaching */
    unsigned attached, ended;
    unsigned live_attempts;
    int64_t guard_ns; /* give up at this time */
} stream_run;

static int attempt_start_batch(attempt *a, const grpc_op *ops, size_t n, sub_tag *t)
{
    if (grpc_call_start_batch(a->call, ops, n, t, NULL) != GRPC_CALL_OK) return -1;
    a->pending++;
    return 0;
}

static int attempt_recv(attempt *a)
{
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &a->in;
    return attempt_start_batch(a, &op, 1, &a->t_recv);
}

static void attempt_free(stream_run *run, attempt *a)
{
    grpc_call_unref(a->call);
    grpc_byte_buffer_destroy(a->out);
    if (a->in) grpc_byte_buffer_destroy(a->in);
    grpc_slice_unref(a->details);
    grpc_metadata_array_destroy(&a->imd);
    grpc_metadata_array_destroy(&a->tmd);
    free(a);
    run->live_attempts--;
}

/* Opens a Subscribe call for s from after_seq; s->cur is NULL on failure. */
static void sub_subscribe(stream_run *run, sub *s, uint64_t after_seq)
{
    s->cur = NULL;
    attempt *a = calloc(1, sizeof *a);
    if (!a) return;
    Comfyd__V1__SubscribeRequest req = COMFYD__V1__SUBSCRIBE_REQUEST__INIT;
    req.session_id = (char *)run->sid;
    req.after_seq = after_seq;
    a->s = s;
    a->call = grpc_channel_create_registered_call(run->c->ch, NULL, GRPC_PROPAGATE_DEFAULTS,
                                                  run->cq, run->c->m_subscribe,
                                                  gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    grpc_metadata_array_init(&a->imd);
    grpc_metadata_array_init(&a->tmd);
    a->details = grpc_empty_slice();
    a->st = GRPC_STATUS_UNKNOWN;
    a->out = pack(&req.base);
    a->t_start = (sub_tag){a, TAG_START};
    a->t_recv = (sub_tag){a, TAG_RECV};
    a->t_status = (sub_tag){a, TAG_STATUS};
    run->live_attempts++;
    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = a->out;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &a->imd;
    if (attempt_start_batch(a, ops, 4, &a->t_start) != 0) {
        attempt_free(run, a);
        return;
    }
    grpc_op st;
    memset(&st, 0, sizeof st);
    st.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    st.data.recv_status_on_client.trailing_metadata = &a->tmd;
    st.data.recv_status_on_client.status = &a->st;
    st.data.recv_status_on_client.status_details = &a->details;
    if (attempt_start_batch(a, &st, 1, &a->t_status) != 0) {
        /* The start batch is pending: cancel and let completions free it. */
        grpc_call_cancel(a->call, NULL);
        return;
    }
    s->cur = a;
    if (attempt_recv(a) != 0) grpc_call_cancel(a->call, NULL);
}

static void sub_mark_ended(stream_run *run, sub *s)
{
    if (!s->ended) {
        s->ended = 1;
        run->ended++;
    }
}

static void sub_check_finished(stream_run *run, sub *s)
{
    if (!s->finished && run->expect_replies && s->replies >= run->expect_replies) {
        s->finished = 1;
        s->t_done = now_ns();
    }
}

static uint64_t assistant_count(const Comfyd__V1__SyncState *st)
{
    uint64_t n = 0;
    for (size_t i = 0; i < st->n_history; i++)
        n += st->history[i]->role == COMFYD__V1__ROLE__ROLE_ASSISTANT;
    return n;
}

/* Accounts one received event (bytes in a->in). */
static void sub_event(stream_run *run, sub *s, attempt *a)
{
    Comfyd__V1__SubscribeResponse *r =
        (Comfyd__V1__SubscribeResponse *)unpack(&comfyd__v1__subscribe_response__descriptor, a->in);
    grpc_byte_buffer_destroy(a->in);
    a->in = NULL;
    if (!r || !r->event) {
        if (r) protobuf_c_message_free_unpacked(&r->base, NULL);
        return;
    }
    const Comfyd__V1__SessionEvent *ev = r->event;
    s->events++;
    if (ev->seq > s->last_seq) s->last_seq = ev->seq;
    switch (ev->kind_case) {
    case COMFYD__V1__SESSION_EVENT__KIND_SYNC_STATE:
        if (!s->attached) {
            s->attached = 1;
            run->attached++;
        } else {
            s->gaps++;
        }
        /* A snapshot replaces what was skipped: count replies from it. */
        s->replies = assistant_count(ev->sync_state);
        break;
    case COMFYD__V1__SESSION_EVENT__KIND_STREAM_DELTA:
        s->deltas++;
        s->delta_bytes += strlen(ev->stream_delta->delta);
        break;
    case COMFYD__V1__SESSION_EVENT__KIND_MESSAGE_ADDED:
        if (ev->message_added->message &&
            ev->message_added->message->role == COMFYD__V1__ROLE__ROLE_ASSISTANT)
            s->replies++;
        break;
    default:
        break;
    }
    sub_check_finished(run, s);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* Handles one completion of the stream queue. */
static void stream_complete(stream_run *run, grpc_event ev)
{
    sub_tag *t = ev.tag;
    attempt *a = t->a;
    sub *s = a->s;
    int current = s->cur == a;
    a->pending--;
    switch (t->kind) {
    case TAG_START:
        break;
    case TAG_RECV:
        if (ev.success && a->in && current) {
            sub_event(run, s, a);
            if (s->finished && !s->cancelled) {
                /* Done: stop reading; the status (CANCELLED) ends it. */
                s->cancelled = 1;
                grpc_call_cancel(a->call, NULL);
            } else if (!s->cancelled && attempt_recv(a) != 0) {
                grpc_call_cancel(a->call, NULL);
            }
        }
        break;
    case TAG_STATUS:
        if (!current) break;
        s->cur = NULL;
        if (!s->finished && !s->cancelled && a->st == GRPC_STATUS_RESOURCE_EXHAUSTED &&
            s->resumes < BENCH_MAX_RESUMES) {
            s->resumes++;
            sub_subscribe(run, s, s->last_seq);
            if (s->cur) break;
        }
        if (!s->finished && !s->cancelled) {
            s->dropped = 1;
            print_status("Subscribe ended early", a->st, a->details);
        }
        sub_mark_ended(run, s);
        break;
    }
    if (a->pending == 0) attempt_free(run, a);
}

/* Runs the queue until cond(run) holds or the guard passes; 0 when it held. */
static int stream_pump(stream_run *run, int (*cond)(const stream_run *))
{
    while (!cond(run)) {
        if (now_ns() > run->guard_ns) return -1;
        grpc_event ev = grpc_completion_queue_next(run->cq, deadline_ms(200), NULL);
        if (ev.type == GRPC_OP_COMPLETE)
            stream_complete(run, ev);
        else if (ev.type == GRPC_QUEUE_SHUTDOWN)
            return -1;
    }
    return 0;
}

static int all_attached(const stream_run *r)
{
    return r->attached + r->ended >= r->n;
}

static int all_finished(const stream_run *r)
{
    for (unsigned i = 0; i < r->n; i++) {
        if (!r->subs[i].finished && !r->subs[i].ended) return 0;
    }
    return 1;
}

static int all_gone(const stream_run *r)
{
    return r->live_attempts == 0;
}

static void *pump_thread(void *arg)
{
    stream_run *run = arg;
    stream_pump(run, all_finished);
    return NULL;
}

typedef struct stream_result {
    unsigned subscribers;
    unsigned finished;
    unsigned dropped;  /* ended by the service and not resumed */
    unsigned resumes;  /* sum over subscribers */
    unsigned gaps;     /* resumes answered with a snapshot */
    uint64_t produced; /* events the session published during the run */
    uint64_t deltas_sum;
    uint64_t bytes_sum;
    double seconds;                                  /* first send to last finish */
    double per_sub_min, per_sub_median, per_sub_max; /* deltas/s */
    int incomplete;
} stream_result;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static char *make_message(unsigned bytes)
{
    char *m = malloc(bytes + 1);
    if (!m) return NULL;
    size_t len = 0;
    for (unsigned i = 0;; i++) {
        char w[24];
        int n = snprintf(w, sizeof w, "%sw%u", i ? " " : "", i);
        if (len + (size_t)n > bytes) break;
        memcpy(m + len, w, (size_t)n);
        len += (size_t)n;
    }
    m[len] = '\0';
    return m;
}

static void stream_summarize(const stream_run *run, int64_t t0, stream_result *res)
{
    double *rates = calloc(run->n, sizeof *rates);
    int64_t last = t0;
    for (unsigned i = 0; i < run->n; i++) {
        const sub *s = &run->subs[i];
        res->deltas_sum += s->deltas;
        res->bytes_sum += s->delta_bytes;
        res->resumes += s->resumes;
        res->gaps += s->gaps;
        res->dropped += s->dropped;
        if (!s->finished) continue;
        if (s->t_done > last) last = s->t_done;
        if (rates && s->t_done > t0)
            rates[res->finished] = (double)s->deltas / ((double)(s->t_done - t0) / 1e9);
        res->finished++;
    }
    res->seconds = (double)(last - t0) / 1e9;
    if (rates && res->finished) {
        qsort(rates, res->finished, sizeof *rates, cmp_double);
        res->per_sub_min = rates[0];
        res->per_sub_median = rates[res->finished / 2];
        res->per_sub_max = rates[res->finished - 1];
    }
    free(rates);
}

static int bench_stream(client *c, const bench_opts *o, unsigned n, stream_result *res)
{
    memset(res, 0, sizeof *res);
    res->subscribers = n;
    char sid[TEXT_UUID_LEN];
    if (create_session(c, o, "comfyd-bench stream", sid) != 0) return -1;
    char *text = make_message(o->message_bytes);
    stream_run run = {0};
    run.c = c;
    run.sid = sid;
    run.n = n;
    run.subs = calloc(n, sizeof *run.subs);
    run.cq = grpc_completion_queue_create_for_next(NULL);
    run.guard_ns = now_ns() + (int64_t)BENCH_STREAM_GUARD_MS * 1000000;
    int rc = -1;
    if (!text || !run.subs) goto out;
    for (unsigned i = 0; i < n; i++) {
        sub_subscribe(&run, &run.subs[i], 0);
        if (!run.subs[i].cur) {
            fprintf(stderr, "comfyd-bench: cannot start subscriber %u\n", i);
            goto cancel;
        }
    }
    if (stream_pump(&run, all_attached) != 0 || run.attached < n) {
        fprintf(stderr, "comfyd-bench: only %u of %u subscribers attached\n", run.attached, n);
        goto cancel;
    }
    run.expect_replies = (uint64_t)o->messages * o->n_skills;
    uint64_t base_seq = run.subs[0].last_seq; /* the snapshot's seq */

    /* The queue is read on its own thread while this one sends. */
    pthread_t th;
    if (pthread_create(&th, NULL, pump_thread, &run) != 0) goto cancel;
    int64_t t0 = now_ns();
    for (unsigned i = 0; i < o->messages; i++) {
        Comfyd__V1__SendMessageRequest req = COMFYD__V1__SEND_MESSAGE_REQUEST__INIT;
        req.session_id = sid;
        req.content = text;
        ProtobufCMessage *m = NULL;
        if (unary(c, c->m_send, "SendMessage", &req.base,
                  &comfyd__v1__send_message_response__descriptor, &m) == 0)
            protobuf_c_message_free_unpacked(m, NULL);
    }
    pthread_join(th, NULL);
    res->incomplete = !all_finished(&run);
    stream_summarize(&run, t0, res);
    uint64_t last = session_last_seq(c, sid);
    res->produced = last > base_seq ? last - base_seq : 0;
    rc = 0;
cancel:
    for (unsigned i = 0; i < n; i++) {
        sub *s = &run.subs[i];
        s->cancelled = 1;
        if (s->cur) grpc_call_cancel(s->cur->call, NULL);
    }
    /* Every call still owes its status (and maybe a receive). */
    run.guard_ns = now_ns() + (int64_t)BENCH_CALL_DEADLINE_MS * 1000000;
    if (stream_pump(&run, all_gone) != 0)
        fprintf(stderr, "comfyd-bench: %u calls did not end\n", run.live_attempts);
out:
    drain_and_destroy(run.cq);
    delete_session(c, sid);
    free(run.subs);
    free(text);
    return rc;
}

/* --- command line ------------------------------------------------------ */

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "Usage: %s --target ADDR [options]\n"
            "Measures a running comfyd (start it with --echo-delay-ms 0).\n\n"
            "  --target ADDR          unix:PATH or HOST:PORT (required)\n"
            "  --calls N              unary calls per run [20000]\n"
            "  --inflight N           concurrent unary calls in the async run [16]\n"
            "  --subscribers N[,N..]  subscriber counts of the stream runs [1,100]\n"
            "  --messages N           messages sent per stream run [8]\n"
            "  --message-bytes N      size of each message [16384]\n"
            "  --skills A[,B..]       active skills [workflow-builder,prompt-writer]\n"
            "  --token-delay-ms N     echo pace of the stream session [0: the service's]\n"
            "  -h, --help             this text\n",
            argv0);
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) return -1;
    *out = (unsigned)v;
    return 0;
}

/* Splits a comma list into at most max items (each copied). */
static int split_list(const char *s, char **items, size_t max, size_t *n)
{
    *n = 0;
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0 || *n == max) return -1;
        items[(*n)++] = text_dupn(p, len);
        p += len + (e ? 1 : 0);
        if (e && !*p) return -1;
    }
    return *n ? 0 : -1;
}

static void free_list(char **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i]);
}

static int parse_args(int argc, char **argv, bench_opts *o)
{
    o->calls = 20000;
    o->inflight = 16;
    o->runs[0] = 1;
    o->runs[1] = 100;
    o->n_runs = 2;
    o->messages = 8;
    o->message_bytes = 16384;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout, argv[0]);
            exit(0);
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "comfyd-bench: %s: missing value or unknown option\n", a);
            return -1;
        }
        const char *v = argv[++i];
        int bad = 0;
        if (!strcmp(a, "--target")) {
            o->target = v;
        } else if (!strcmp(a, "--calls")) {
            bad = parse_uint(v, 1, BENCH_MAX_CALLS, &o->calls);
        } else if (!strcmp(a, "--inflight")) {
            bad = parse_uint(v, 1, BENCH_MAX_INFLIGHT, &o->inflight);
        } else if (!strcmp(a, "--messages")) {
            bad = parse_uint(v, 1, BENCH_MAX_MESSAGES, &o->messages);
        } else if (!strcmp(a, "--token-delay-ms")) {
            bad = parse_uint(v, 0, BENCH_MAX_TOKEN_DELAY_MS, &o->token_delay_ms);
        } else if (!strcmp(a, "--message-bytes")) {
            bad = parse_uint(v, 1, BENCH_MAX_MESSAGE_BYTES, &o->message_bytes);
        } else if (!strcmp(a, "--subscribers")) {
            char *items[BENCH_MAX_RUNS];
            size_t n;
            bad = split_list(v, items, BENCH_MAX_RUNS, &n);
            for (size_t k = 0; !bad && k < n; k++)
                bad = parse_uint(items[k], 1, BENCH_MAX_SUBSCRIBERS, &o->runs[k]);
            if (!bad) o->n_runs = n;
            free_list(items, n);
        } else if (!strcmp(a, "--skills")) {
            free_list(o->skills, o->n_skills);
            bad = split_list(v, o->skills, BENCH_MAX_SKILLS, &o->n_skills);
        } else {
            fprintf(stderr, "comfyd-bench: unknown option %s\n", a);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "comfyd-bench: bad value for %s: %s\n", a, v);
            return -1;
        }
    }
    if (!o->target) {
        fprintf(stderr, "comfyd-bench: --target is required\n");
        return -1;
    }
    if (o->n_skills == 0) {
        o->skills[0] = text_dup("workflow-builder");
        o->skills[1] = text_dup("prompt-writer");
        o->n_skills = 2;
    }
    return 0;
}

static int client_open(client *c, const char *target)
{
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    /* No message size cap on reads: snapshots can be large. */
    grpc_arg arg = {
        .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, .value.integer = -1};
    grpc_channel_args args = {.num_args = 1, .args = &arg};
    c->ch = grpc_channel_create(target, creds, &args);
    grpc_channel_credentials_release(creds);
    if (!c->ch) return -1;
    c->pluck = grpc_completion_queue_create_for_pluck(NULL);
    c->m_create = grpc_channel_register_call(c->ch, P_CREATE, NULL, NULL);
    c->m_get = grpc_channel_register_call(c->ch, P_GET, NULL, NULL);
    c->m_send = grpc_channel_register_call(c->ch, P_SEND, NULL, NULL);
    c->m_delete = grpc_channel_register_call(c->ch, P_DELETE, NULL, NULL);
    c->m_subscribe = grpc_channel_register_call(c->ch, P_SUBSCRIBE, NULL, NULL);
    return 0;
}

static void client_close(client *c)
{
    /* Every pluck has returned, so nothing is left on it to drain (and
     * next() is not allowed on a pluck queue). */
    grpc_completion_queue_shutdown(c->pluck);
    grpc_completion_queue_destroy(c->pluck);
    grpc_channel_destroy(c->ch);
}

static void print_unary(const char *name, const unary_result *r)
{
    printf("%-28s %9u %11.0f %10.1f %10.1f %10.1f %7u\n", name, r->calls,
           r->seconds > 0 ? r->calls / r->seconds : 0.0, r->p50_ns / 1e3, r->p99_ns / 1e3,
           r->max_ns / 1e3, r->errors);
}

static void print_stream(const stream_result *r)
{
    char name[64];
    snprintf(name, sizeof name, "%u subscriber%s", r->subscribers, r->subscribers == 1 ? "" : "s");
    double secs = r->seconds > 0 ? r->seconds : 1e-9;
    printf("%-16s %9" PRIu64 " %12" PRIu64
           " %7.2f %11.0f %7.1f %10.0f %10.0f %10.0f %8u %6u %5u%s\n",
           name, r->produced, r->deltas_sum, r->seconds, r->deltas_sum / secs,
           r->bytes_sum / secs / (1024 * 1024), r->per_sub_min, r->per_sub_median, r->per_sub_max,
           r->resumes, r->gaps, r->dropped, r->incomplete ? "  (incomplete)" : "");
}

int main(int argc, char **argv)
{
    bench_opts o;
    memset(&o, 0, sizeof o);
    if (parse_args(argc, argv, &o) != 0) {
        usage(stderr, argv[0]);
        free_list(o.skills, o.n_skills);
        return 2;
    }
    grpc_init();
    client c;
    int rc = 1;
    if (client_open(&c, o.target) != 0) {
        fprintf(stderr, "comfyd-bench: cannot open a channel to %s\n", o.target);
        goto out_grpc;
    }
    char sid[TEXT_UUID_LEN];
    if (create_session(&c, &o, "comfyd-bench unary", sid) != 0) goto out_client;

    printf("comfyd-bench: target %s; skills", o.target);
    for (size_t i = 0; i < o.n_skills; i++)
        printf("%s%s", i ? "," : " ", o.skills[i]);
    printf("\n\nunary GetSession\n%-28s %9s %11s %10s %10s %10s %7s\n", "run", "calls", "calls/s",
           "p50 us", "p99 us", "max us", "errors");
    unary_result ur;
    if (bench_unary_sequential(&c, sid, o.calls, &ur) == 0) print_unary("sequential", &ur);
    char name[64];
    snprintf(name, sizeof name, "%u in flight", o.inflight);
    if (bench_unary_async(&c, sid, o.calls, o.inflight, &ur) == 0 || ur.calls)
        print_unary(name, &ur);
    fflush(stdout);
    delete_session(&c, sid);

    printf("\nevent stream: %u messages x %u bytes; published = events of the session, "
           "deltas = stream_delta events received\n",
           o.messages, o.message_bytes);
    printf("%-16s %9s %12s %7s %11s %7s %10s %10s %10s %8s %6s %5s\n", "subscribers", "published",
           "deltas(sum)", "secs", "deltas/s", "MiB/s", "sub min/s", "sub med/s", "sub max/s",
           "resumes", "gaps", "drop");
    int failed = 0;
    for (size_t i = 0; i < o.n_runs; i++) {
        stream_result sr;
        if (bench_stream(&c, &o, o.runs[i], &sr) != 0) {
            failed = 1;
            continue;
        }
        print_stream(&sr);
        fflush(stdout);
        failed |= sr.incomplete;
    }
    rc = failed;
out_client:
    client_close(&c);
out_grpc:
    grpc_shutdown_blocking();
    free_list(o.skills, o.n_skills);
    return rc;
}

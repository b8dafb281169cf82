/* Unit tests for rpcs: a real server on a unix socket (or loopback TCP),
 * driven by a small blocking gRPC client written against the C core, with
 * the project's own service descriptors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rpcs.h"

#include "comfyd/v1/session.pb-c.h"
#include "comfyd/v1/skill.pb-c.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* Time bounds are for a native run; under valgrind everything is many
 * times slower, so they are stretched by this factor there. */
#define SLOW (RUNNING_ON_VALGRIND ? 20 : 1)
#define WAIT_MS (10000 * SLOW) /* upper bound for anything that must happen */

/* ---- fixture ---- */

typedef struct fx {
    char dir[64];
    char addr[128];
    rpcs *srv;
    grpc_channel *ch;
    size_t max_queued, max_queued_bytes;
    uint32_t grace_ms;
    int cq_threads;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    rpcs_call *held; /* a call a handler kept, with a reference */
    int64_t handler_deadline_ms;
    char handler_peer[128];
    int done, done_cancelled;
    int in_block, unblock;
    int reply_rc[2]; /* what h_list_skills got from its two replies */
    int replied;     /* reply_rc is set */
    pthread_t later;
    int later_started;
    rpcs_call *later_call;
} fx;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static gpr_timespec deadline_in(int ms)
{
    if (ms <= 0) return gpr_inf_future(GPR_CLOCK_MONOTONIC);
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

/* Waits until *flag (read under f->mu) is non-zero; 1 if it became so. */
static int wait_flag(fx *f, const int *flag, int ms)
{
    int64_t until = now_ms() + ms;
    pthread_mutex_lock(&f->mu);
    while (!*flag && now_ms() < until) {
        pthread_mutex_unlock(&f->mu);
        usleep(2000);
        pthread_mutex_lock(&f->mu);
    }
    int r = *flag != 0;
    pthread_mutex_unlock(&f->mu);
    return r;
}

static rpcs_call *wait_held(fx *f)
{
    int64_t until = now_ms() + WAIT_MS;
    pthread_mutex_lock(&f->mu);
    while (!f->held && now_ms() < until) {
        pthread_mutex_unlock(&f->mu);
        usleep(2000);
        pthread_mutex_lock(&f->mu);
    }
    rpcs_call *c = f->held;
    pthread_mutex_unlock(&f->mu);
    assert_non_null(c);
    return c;
}

static void on_done(rpcs_call *call, int cancelled, void *ud)
{
    (void)call;
    fx *f = ud;
    pthread_mutex_lock(&f->mu);
    f->done++;
    f->done_cancelled = cancelled;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* ---- handlers ---- */

static void h_list_skills(rpcs_call *call, const ProtobufCMessage *req, void *ud)
{
    (void)req;
    fx *f = ud;
    pthread_mutex_lock(&f->mu);
    f->handler_deadline_ms = rpcs_call_deadline_ms(call);
    rpcs_call_peer(call, f->handler_peer, sizeof f->handler_peer);
    pthread_mutex_unlock(&f->mu);
    Comfyd__V1__Skill a = COMFYD__V1__SKILL__INIT, b = COMFYD__V1__SKILL__INIT;
    a.name = "alpha";
    b.name = "beta";
    Comfyd__V1__Skill *list[] = {&a, &b};
    Comfyd__V1__ListSkillsResponse resp = COMFYD__V1__LIST_SKILLS_RESPONSE__INIT;
    resp.n_skills = 2;
    resp.skills = list;
    /* Checked by the test on its own thread: cmocka asserts belong there. */
    int rc0 = rpcs_call_reply(call, &resp.base);
    int rc1 = rpcs_call_reply(call, &resp.base); /* a second answer is refused */
    pthread_mutex_lock(&f->mu);
    f->reply_rc[0] = rc0;
    f->reply_rc[1] = rc1;
    f->replied = 1;
    pthread_mutex_unlock(&f->mu);
}

static int reply_name(rpcs_call *call, const char *name)
{
    Comfyd__V1__Skill sk = COMFYD__V1__SKILL__INIT;
    sk.name = (char *)name;
    Comfyd__V1__GetSkillResponse resp = COMFYD__V1__GET_SKILL_RESPONSE__INIT;
    resp.skill = &sk;
    return rpcs_call_reply(call, &resp.base);
}

static void *reply_later_main(void *arg)
{
    fx *f = arg;
    usleep(50 * 1000);
    pthread_mutex_lock(&f->mu); /* the handler has recorded the thread */
    rpcs_call *call = f->later_call;
    pthread_mutex_unlock(&f->mu);
    reply_name(call, "later");
    rpcs_call_unref(call);
    return NULL;
}

static void h_get_skill(rpcs_call *call, const ProtobufCMessage *req, void *ud)
{
    fx *f = ud;
    const Comfyd__V1__GetSkillRequest *r = (const Comfyd__V1__GetSkillRequest *)req;
    if (strcmp(r->name, "later") == 0) {
        rpcs_call_ref(call);
        pthread_mutex_lock(&f->mu);
        f->later_call = call;
        if (pthread_create(&f->later, NULL, reply_later_main, f) == 0)
            f->later_started = 1;
        else
            rpcs_call_unref(call); /* the call then ends INTERNAL and the test fails */
        pthread_mutex_unlock(&f->mu);
        return;
    }
    if (strcmp(r->name, "none") == 0) return; /* the bug the dispatcher catches */
    if (strcmp(r->name, "block") == 0) {
        pthread_mutex_lock(&f->mu);
        f->in_block = 1;
        while (!f->unblock)
            pthread_cond_wait(&f->cv, &f->mu);
        pthread_mutex_unlock(&f->mu);
    }
    reply_name(call, r->name);
}

static int send_event(rpcs_call *call, uint64_t seq)
{
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    ev.seq = seq;
    ev.session_id = "s1";
    Comfyd__V1__SubscribeResponse m = COMFYD__V1__SUBSCRIBE_RESPONSE__INIT;
    m.event = &ev;
    return rpcs_call_send(call, &m.base);
}

static void h_subscribe(rpcs_call *call, const ProtobufCMessage *req, void *ud)
{
    fx *f = ud;
    const Comfyd__V1__SubscribeRequest *r = (const Comfyd__V1__SubscribeRequest *)req;
    if (strcmp(r->session_id, "count") == 0) {
        /* A producer that backs off instead of growing memory. */
        for (uint64_t i = 1; i <= r->after_seq; i++) {
            int rc;
            while ((rc = send_event(call, i)) == RPCS_EFULL)
                if (rpcs_call_wait_writable(call, f->max_queued / 2 + 1, 1000) == RPCS_ECLOSED)
                    return;
            if (rc != RPCS_OK) return;
        }
        rpcs_call_finish(call, GRPC_STATUS_OK, NULL);
        return;
    }
    /* "hold": the test drives the stream from its own thread. */
    rpcs_call_ref(call);
    rpcs_call_on_done(call, on_done, f);
    pthread_mutex_lock(&f->mu);
    f->handler_deadline_ms = rpcs_call_deadline_ms(call);
    f->held = call;
    pthread_mutex_unlock(&f->mu);
}

static rpcs_method test_methods(int i, fx *f)
{
    rpcs_method m[] = {
        {&comfyd__v1__skill_service__descriptor, "ListSkills", RPCS_UNARY, h_list_skills, f},
        {&comfyd__v1__skill_service__descriptor, "GetSkill", RPCS_UNARY, h_get_skill, f},
        {&comfyd__v1__session_service__descriptor, "Subscribe", RPCS_SERVER_STREAM, h_subscribe, f},
    };
    return m[i];
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    snprintf(f->dir, sizeof f->dir, "/tmp/rpcs-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->addr, sizeof f->addr, "unix:%s/core.sock", f->dir);
    grpc_init(); /* the client's; the group holds gRPC up between tests */
    *state = f;
    return 0;
}

/* Starts the server with the fixture's options and opens a channel. */
static void fx_start(fx *f)
{
    const char *listen[] = {f->addr};
    rpcs_method m[3];
    for (int i = 0; i < 3; i++)
        m[i] = test_methods(i, f);
    rpcs_opts o = {.listen = listen,
                   .n_listen = 1,
                   .max_queued = f->max_queued,
                   .max_queued_bytes = f->max_queued_bytes,
                   .grace_ms = f->grace_ms,
                   .cq_threads = f->cq_threads};
    if (!f->max_queued) f->max_queued = RPCS_DEFAULT_MAX_QUEUED;
    assert_int_equal(rpcs_create(&f->srv, &o, m, 3), RPCS_OK);
    grpc_channel_credentials *cr = grpc_insecure_credentials_create();
    f->ch = grpc_channel_create(f->addr, cr, NULL);
    grpc_channel_credentials_release(cr);
}

static int teardown(void **state)
{
    fx *f = *state;
    if (f->later_started) pthread_join(f->later, NULL);
    if (f->ch) grpc_channel_destroy(f->ch);
    rpcs_destroy(f->srv);
    if (f->held) rpcs_call_unref(f->held);
    char p[160];
    snprintf(p, sizeof p, "%s/core.sock", f->dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/core.sock.lock", f->dir);
    unlink(p);
    rmdir(f->dir);
    grpc_shutdown_blocking();
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f);
    return 0;
}

/* ---- a blocking client on the C core ---- */

static grpc_byte_buffer *bb_raw(const void *p, size_t n)
{
    grpc_slice s = grpc_slice_from_copied_buffer(p, n);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return bb;
}

static grpc_byte_buffer *bb_msg(const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    protobuf_c_message_pack(m, buf);
    grpc_byte_buffer *bb = bb_raw(buf, n);
    free(buf);
    return bb;
}

/* Copies a received buffer into malloc'd bytes. */
static uint8_t *bb_bytes(grpc_byte_buffer *bb, size_t *n)
{
    grpc_byte_buffer_reader rd;
    assert_true(grpc_byte_buffer_reader_init(&rd, bb));
    grpc_slice all = grpc_byte_buffer_reader_readall(&rd);
    grpc_byte_buffer_reader_destroy(&rd);
    *n = GRPC_SLICE_LENGTH(all);
    uint8_t *p = malloc(*n ? *n : 1);
    memcpy(p, GRPC_SLICE_START_PTR(all), *n);
    grpc_slice_unref(all);
    return p;
}

static void cq_close(grpc_completion_queue *cq)
{
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
}

typedef struct unary_res {
    grpc_status_code status;
    char details[256];
    uint8_t *resp; /* malloc'd, NULL when no message came */
    size_t resp_len;
} unary_res;

/* One 6-op batch and one pluck. Takes ownership of req. */
static void client_unary(grpc_channel *ch, const char *method, grpc_byte_buffer *req,
                         int deadline_ms, unary_res *r)
{
    memset(r, 0, sizeof *r);
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_call *call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                               grpc_slice_from_static_string(method), NULL,
                                               deadline_in(deadline_ms), NULL);
    assert_non_null(call);
    grpc_metadata_array imd, tmd;
    grpc_metadata_array_init(&imd);
    grpc_metadata_array_init(&tmd);
    grpc_byte_buffer *resp = NULL;
    grpc_slice details = grpc_empty_slice();
    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].flags = GRPC_INITIAL_METADATA_WAIT_FOR_READY;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = req;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &imd;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &resp;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &tmd;
    ops[5].data.recv_status_on_client.status = &r->status;
    ops[5].data.recv_status_on_client.status_details = &details;
    assert_int_equal(grpc_call_start_batch(call, ops, 6, (void *)1, NULL), GRPC_CALL_OK);
    grpc_event ev = grpc_completion_queue_pluck(cq, (void *)1, deadline_in(WAIT_MS), NULL);
    assert_int_equal(ev.type, GRPC_OP_COMPLETE);
    snprintf(r->details, sizeof r->details, "%.*s", (int)GRPC_SLICE_LENGTH(details),
             (const char *)GRPC_SLICE_START_PTR(details));
    if (resp) {
        r->resp = bb_bytes(resp, &r->resp_len);
        grpc_byte_buffer_destroy(resp);
    }
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&imd);
    grpc_metadata_array_destroy(&tmd);
    grpc_byte_buffer_destroy(req);
    grpc_call_unref(call);
    cq_close(cq);
}

static void get_skill(fx *f, const char *name, unary_res *r)
{
    Comfyd__V1__GetSkillRequest req = COMFYD__V1__GET_SKILL_REQUEST__INIT;
    req.name = (char *)name;
    client_unary(f->ch, "/comfyd.v1.SkillService/GetSkill", bb_msg(&req.base), 5000 * SLOW, r);
}

static void list_skills(fx *f, unary_res *r)
{
    Comfyd__V1__ListSkillsRequest req = COMFYD__V1__LIST_SKILLS_REQUEST__INIT;
    client_unary(f->ch, "/comfyd.v1.SkillService/ListSkills", bb_msg(&req.base), 0, r);
}

/* The skill name inside a GetSkillResponse, or "" (static buffer). */
static const char *skill_name(const unary_res *r)
{
    static char name[64];
    name[0] = 0;
    Comfyd__V1__GetSkillResponse *m =
        comfyd__v1__get_skill_response__unpack(NULL, r->resp_len, r->resp);
    assert_non_null(m);
    if (m->skill) snprintf(name, sizeof name, "%s", m->skill->name);
    comfyd__v1__get_skill_response__free_unpacked(m, NULL);
    return name;
}

typedef struct stream_cl {
    grpc_completion_queue *cq;
    grpc_call *call;
    grpc_metadata_array imd, tmd;
    grpc_status_code status;
    grpc_slice details;
} stream_cl;

/* Server-stream reader: batch A sends the request and takes the headers,
 * batch B (started up front) takes the status. */
static void stream_open(stream_cl *st, fx *f, const char *session, uint64_t arg, int deadline_ms)
{
    memset(st, 0, sizeof *st);
    st->cq = grpc_completion_queue_create_for_pluck(NULL);
    st->call = grpc_channel_create_call(
        f->ch, NULL, GRPC_PROPAGATE_DEFAULTS, st->cq,
        grpc_slice_from_static_string("/comfyd.v1.SessionService/Subscribe"), NULL,
        deadline_in(deadline_ms), NULL);
    assert_non_null(st->call);
    grpc_metadata_array_init(&st->imd);
    grpc_metadata_array_init(&st->tmd);
    st->details = grpc_empty_slice();
    Comfyd__V1__SubscribeRequest req = COMFYD__V1__SUBSCRIBE_REQUEST__INIT;
    req.session_id = (char *)session;
    req.after_seq = arg;
    grpc_byte_buffer *bb = bb_msg(&req.base);
    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].flags = GRPC_INITIAL_METADATA_WAIT_FOR_READY;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &st->imd;
    assert_int_equal(grpc_call_start_batch(st->call, ops, 4, (void *)1, NULL), GRPC_CALL_OK);
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[0].data.recv_status_on_client.trailing_metadata = &st->tmd;
    ops[0].data.recv_status_on_client.status = &st->status;
    ops[0].data.recv_status_on_client.status_details = &st->details;
    assert_int_equal(grpc_call_start_batch(st->call, ops, 1, (void *)2, NULL), GRPC_CALL_OK);
    grpc_event ev = grpc_completion_queue_pluck(st->cq, (void *)1, deadline_in(WAIT_MS), NULL);
    assert_int_equal(ev.type, GRPC_OP_COMPLETE);
    grpc_byte_buffer_destroy(bb);
}

/* The next event's seq, or 0 when the stream ended. */
static uint64_t stream_next(stream_cl *st)
{
    grpc_byte_buffer *bb = NULL;
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &bb;
    assert_int_equal(grpc_call_start_batch(st->call, &op, 1, (void *)3, NULL), GRPC_CALL_OK);
    grpc_event ev = grpc_completion_queue_pluck(st->cq, (void *)3, deadline_in(WAIT_MS), NULL);
    assert_int_equal(ev.type, GRPC_OP_COMPLETE);
    if (!ev.success || !bb) return 0;
    size_t n;
    uint8_t *p = bb_bytes(bb, &n);
    grpc_byte_buffer_destroy(bb);
    Comfyd__V1__SubscribeResponse *m = comfyd__v1__subscribe_response__unpack(NULL, n, p);
    free(p);
    assert_non_null(m);
    assert_non_null(m->event);
    uint64_t seq = m->event->seq;
    comfyd__v1__subscribe_response__free_unpacked(m, NULL);
    return seq;
}

/* Reads and drops whatever is left; the core hands out the status only
 * after the messages before it. Returns how many there were. */
static int stream_drain(stream_cl *st)
{
    int n = 0;
    for (;;) {
        grpc_byte_buffer *bb = NULL;
        grpc_op op;
        memset(&op, 0, sizeof op);
        op.op = GRPC_OP_RECV_MESSAGE;
        op.data.recv_message.recv_message = &bb;
        assert_int_equal(grpc_call_start_batch(st->call, &op, 1, (void *)3, NULL), GRPC_CALL_OK);
        grpc_event ev = grpc_completion_queue_pluck(st->cq, (void *)3, deadline_in(WAIT_MS), NULL);
        assert_int_equal(ev.type, GRPC_OP_COMPLETE);
        if (!ev.success || !bb) return n;
        grpc_byte_buffer_destroy(bb);
        n++;
    }
}

static grpc_status_code stream_status(stream_cl *st, char *details, size_t n)
{
    grpc_event ev = grpc_completion_queue_pluck(st->cq, (void *)2, deadline_in(WAIT_MS), NULL);
    assert_int_equal(ev.type, GRPC_OP_COMPLETE);
    if (details)
        snprintf(details, n, "%.*s", (int)GRPC_SLICE_LENGTH(st->details),
                 (const char *)GRPC_SLICE_START_PTR(st->details));
    return st->status;
}

static void stream_close(stream_cl *st)
{
    grpc_slice_unref(st->details);
    grpc_metadata_array_destroy(&st->imd);
    grpc_metadata_array_destroy(&st->tmd);
    grpc_call_unref(st->call);
    cq_close(st->cq);
}

static size_t rss_bytes(void)
{
    FILE *fp = fopen("/proc/self/statm", "r");
    assert_non_null(fp);
    unsigned long size = 0, res = 0;
    assert_int_equal(fscanf(fp, "%lu %lu", &size, &res), 2);
    fclose(fp);
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

/* Sends big messages to a client that does not read until the transport
 * takes no more: the queue stays full for 200 ms. Returns how many went. */
static int fill_until_stalled(rpcs_call *c, size_t max_queued, size_t big)
{
    uint8_t *payload = malloc(big);
    memset(payload, 0x5a, big);
    int sent = 0;
    /* Unbounded, 4096 of these would be 1 GiB. */
    while (sent < 4096) {
        int rc = rpcs_call_send_packed(c, payload, big);
        if (rc == RPCS_OK) {
            sent++;
            continue;
        }
        assert_int_equal(rc, RPCS_EFULL);
        if (rpcs_call_wait_writable(c, max_queued, 200) == RPCS_EFULL) break;
    }
    free(payload);
    return sent;
}

/* ---- tests ---- */

static void unary_round_trip_returns_reply_and_ok(void **state)
{
    fx *f = *state;
    fx_start(f);
    unary_res r;
    list_skills(f, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_non_null(r.resp);
    Comfyd__V1__ListSkillsResponse *m =
        comfyd__v1__list_skills_response__unpack(NULL, r.resp_len, r.resp);
    assert_non_null(m);
    assert_int_equal(m->n_skills, 2);
    assert_string_equal(m->skills[0]->name, "alpha");
    assert_string_equal(m->skills[1]->name, "beta");
    comfyd__v1__list_skills_response__free_unpacked(m, NULL);
    free(r.resp);
    /* The client may see the reply before the handler has returned. */
    assert_true(wait_flag(f, &f->replied, WAIT_MS));
    assert_int_equal(f->reply_rc[0], RPCS_OK);
    assert_int_equal(f->reply_rc[1], RPCS_ECLOSED);
    /* No client deadline: none on the server either. */
    assert_true(f->handler_deadline_ms == INT64_MAX);
    assert_true(strncmp(f->handler_peer, "unix:", 5) == 0);

    get_skill(f, "abc", &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_string_equal(skill_name(&r), "abc");
    free(r.resp);
}

static void unary_reply_later_from_another_thread_works(void **state)
{
    fx *f = *state;
    fx_start(f);
    unary_res r;
    int64_t t0 = now_ms();
    get_skill(f, "later", &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_string_equal(skill_name(&r), "later");
    assert_true(now_ms() - t0 >= 50);
    free(r.resp);
}

static void unary_handler_without_reply_or_ref_ends_internal(void **state)
{
    fx *f = *state;
    fx_start(f);
    unary_res r;
    get_skill(f, "none", &r);
    assert_int_equal(r.status, GRPC_STATUS_INTERNAL);
    assert_null(r.resp);
}

static void *blocked_call_main(void *arg)
{
    fx *f = arg;
    unary_res *r = malloc(sizeof *r);
    get_skill(f, "block", r);
    return r;
}

static void blocking_handler_does_not_stall_other_calls(void **state)
{
    fx *f = *state;
    fx_start(f);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, blocked_call_main, f), 0);
    assert_true(wait_flag(f, &f->in_block, WAIT_MS));
    unary_res r;
    list_skills(f, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    free(r.resp);
    pthread_mutex_lock(&f->mu);
    f->unblock = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    unary_res *rb;
    pthread_join(th, (void **)&rb);
    assert_int_equal(rb->status, GRPC_STATUS_OK);
    assert_string_equal(skill_name(rb), "block");
    free(rb->resp);
    free(rb);
}

static void unknown_method_is_unimplemented_at_once(void **state)
{
    fx *f = *state;
    fx_start(f);
    unary_res r;
    list_skills(f, &r); /* the connection is up before timing */
    free(r.resp);
    const char *paths[] = {"/comfyd.v1.SkillService/ReloadSkills", "/nope.v1.Nothing/Call"};
    for (int i = 0; i < 2; i++) {
        Comfyd__V1__ListSkillsRequest req = COMFYD__V1__LIST_SKILLS_REQUEST__INIT;
        int64_t t0 = now_ms();
        client_unary(f->ch, paths[i], bb_msg(&req.base), 5000 * SLOW, &r);
        int64_t dt = now_ms() - t0;
        /* Answered by the catch-all, not left to run into the deadline:
         * the status tells the two apart; the clock only guards against a
         * reply that comes just before the deadline, with room for a loaded
         * machine (this is not a speed test). */
        assert_int_equal(r.status, GRPC_STATUS_UNIMPLEMENTED);
        assert_true(dt < 2500 * SLOW);
        free(r.resp);
    }
}

static void malformed_payload_is_invalid_argument(void **state)
{
    fx *f = *state;
    fx_start(f);
    /* Field 1, length-delimited, says 16 bytes but carries one. */
    static const uint8_t bad[] = {0x0a, 0x10, 'x'};
    unary_res r;
    client_unary(f->ch, "/comfyd.v1.SkillService/GetSkill", bb_raw(bad, sizeof bad), 5000 * SLOW,
                 &r);
    assert_int_equal(r.status, GRPC_STATUS_INVALID_ARGUMENT);
    assert_string_equal(r.details, "malformed request");
    assert_null(r.resp);
    /* The same on a stream method. */
    client_unary(f->ch, "/comfyd.v1.SessionService/Subscribe", bb_raw(bad, sizeof bad), 5000 * SLOW,
                 &r);
    assert_int_equal(r.status, GRPC_STATUS_INVALID_ARGUMENT);
    free(r.resp);
}

static void oversized_request_is_resource_exhausted(void **state)
{
    fx *f = *state;
    fx_start(f);
    size_t n = RPCS_MAX_MESSAGE_BYTES + 1024;
    char *name = malloc(n + 1);
    memset(name, 'a', n);
    name[n] = 0;
    unary_res r;
    get_skill(f, name, &r);
    free(name);
    assert_int_equal(r.status, GRPC_STATUS_RESOURCE_EXHAUSTED);
    assert_null(r.resp);
}

static void stream_of_10000_messages_arrives_in_order(void **state)
{
    fx *f = *state;
    f->max_queued = 64; /* the producer has to back off now and then */
    fx_start(f);
    stream_cl st;
    stream_open(&st, f, "count", 10000, 0);
    uint64_t want = 1, seq;
    while ((seq = stream_next(&st)) != 0) {
        assert_int_equal(seq, want);
        want++;
    }
    assert_int_equal(want, 10001);
    assert_int_equal(stream_status(&st, NULL, 0), GRPC_STATUS_OK);
    stream_close(&st);
}

static void client_cancel_reports_done_and_closes_sends(void **state)
{
    fx *f = *state;
    fx_start(f);
    stream_cl st;
    stream_open(&st, f, "hold", 0, 0);
    rpcs_call *c = wait_held(f);
    for (uint64_t i = 1; i <= 5; i++)
        assert_int_equal(send_event(c, i), RPCS_OK);
    for (uint64_t i = 1; i <= 5; i++)
        assert_int_equal(stream_next(&st), i);
    assert_int_equal(rpcs_call_closed(c), 0);
    grpc_call_cancel(st.call, NULL);
    assert_true(wait_flag(f, &f->done, WAIT_MS));
    assert_int_equal(f->done, 1);
    assert_int_equal(f->done_cancelled, 1);
    assert_int_equal(rpcs_call_closed(c), 1);
    assert_int_equal(send_event(c, 6), RPCS_ECLOSED);
    assert_int_equal(rpcs_call_send_packed(c, "x", 1), RPCS_ECLOSED);
    assert_int_equal(rpcs_call_wait_writable(c, 1, 1000), RPCS_ECLOSED);
    assert_int_equal(rpcs_call_finish(c, GRPC_STATUS_OK, NULL), RPCS_ECLOSED);
    assert_int_equal(stream_status(&st, NULL, 0), GRPC_STATUS_CANCELLED);
    stream_close(&st);
    /* Registering after the end runs the callback at once. */
    rpcs_call_on_done(c, on_done, f);
    assert_int_equal(f->done, 2);
}

static void client_deadline_reports_done_cancelled(void **state)
{
    fx *f = *state;
    fx_start(f);
    stream_cl st;
    int64_t t0 = now_ms();
    stream_open(&st, f, "hold", 0, 300 * SLOW);
    rpcs_call *c = wait_held(f);
    assert_true(f->handler_deadline_ms > 0 && f->handler_deadline_ms <= 300 * SLOW);
    assert_true(wait_flag(f, &f->done, WAIT_MS));
    assert_int_equal(f->done_cancelled, 1);
    assert_true(now_ms() - t0 >= 250);
    assert_int_equal(send_event(c, 1), RPCS_ECLOSED);
    /* The client gives up at its own deadline, which the server learns as
     * a relative timeout on arrival: the two may differ by a few ms. */
    assert_true(rpcs_call_deadline_ms(c) < 100);
    assert_int_equal(stream_next(&st), 0);
    assert_int_equal(stream_status(&st, NULL, 0), GRPC_STATUS_DEADLINE_EXCEEDED);
    stream_close(&st);
}

static void slow_client_makes_send_return_efull_without_growing_memory(void **state)
{
    fx *f = *state;
    f->max_queued = 4;
    fx_start(f);
    stream_cl st;
    stream_open(&st, f, "hold", 0, 0); /* and never read */
    rpcs_call *c = wait_held(f);
    size_t big = 256 * 1024;
    int sent = fill_until_stalled(c, 4, big);
    assert_true(sent < 512);
    assert_int_equal(rpcs_call_queued(c), 4);
    uint8_t *payload = calloc(1, big);
    size_t rss0 = rss_bytes();
    for (int i = 0; i < 200; i++)
        assert_int_equal(rpcs_call_send_packed(c, payload, big), RPCS_EFULL);
    assert_true(rpcs_call_queued(c) <= 4);
    assert_true(rss_bytes() < rss0 + 16 * 1024 * 1024);
    assert_int_equal(rpcs_call_wait_writable(c, 1, 50), RPCS_EFULL);
    /* A cancel releases a waiting producer. */
    grpc_call_cancel(st.call, NULL);
    assert_int_equal(rpcs_call_wait_writable(c, 1, WAIT_MS), RPCS_ECLOSED);
    /* The dead call lets go of everything it queued. */
    int64_t until = now_ms() + WAIT_MS;
    while (rpcs_call_queued(c) != 0 && now_ms() < until)
        usleep(1000);
    assert_int_equal(rpcs_call_queued(c), 0);
    free(payload);
    assert_int_equal(stream_status(&st, NULL, 0), GRPC_STATUS_CANCELLED);
    stream_close(&st);
}

static void byte_budget_bounds_queue_of_large_messages(void **state)
{
    fx *f = *state;
    f->max_queued_bytes = 1024 * 1024;
    fx_start(f);
    stream_cl st;
    stream_open(&st, f, "hold", 0, 0);
    rpcs_call *c = wait_held(f);
    size_t big = 300 * 1024;
    uint8_t *payload = calloc(1, big);
    int rc = RPCS_OK, sent = 0;
    while (sent < 4096 && (rc = rpcs_call_send_packed(c, payload, big)) == RPCS_OK)
        sent++;
    assert_int_equal(rc, RPCS_EFULL);
    assert_true(rpcs_call_queued(c) <= 3); /* 3 x 300 KiB fit in 1 MiB, a 4th does not */
    assert_true(sent < 512);
    free(payload);
    assert_int_equal(rpcs_call_finish(c, GRPC_STATUS_ABORTED, "enough"), RPCS_OK);
    assert_int_equal(send_event(c, 1), RPCS_ECLOSED);
    /* Everything accepted is delivered before the status. */
    assert_int_equal(stream_drain(&st), sent);
    char details[32];
    assert_int_equal(stream_status(&st, details, sizeof details), GRPC_STATUS_ABORTED);
    assert_string_equal(details, "enough");
    assert_true(wait_flag(f, &f->done, WAIT_MS));
    assert_int_equal(f->done_cancelled, 0);
    stream_close(&st);
}

static void finish_sends_queued_messages_then_status(void **state)
{
    fx *f = *state;
    fx_start(f);
    stream_cl st;
    stream_open(&st, f, "hold", 0, 0);
    rpcs_call *c = wait_held(f);
    for (uint64_t i = 1; i <= 100; i++)
        assert_int_equal(send_event(c, i), RPCS_OK);
    assert_int_equal(rpcs_call_finishf(c, GRPC_STATUS_ABORTED, "stop %d", 100), RPCS_OK);
    assert_int_equal(rpcs_call_finish(c, GRPC_STATUS_ABORTED, "again"), RPCS_ECLOSED);
    for (uint64_t i = 1; i <= 100; i++)
        assert_int_equal(stream_next(&st), i);
    assert_int_equal(stream_next(&st), 0);
    char details[64];
    assert_int_equal(stream_status(&st, details, sizeof details), GRPC_STATUS_ABORTED);
    assert_string_equal(details, "stop 100");
    assert_true(wait_flag(f, &f->done, WAIT_MS));
    assert_int_equal(f->done_cancelled, 0);
    stream_close(&st);
}

static void shutdown_ends_open_stream_with_unavailable(void **state)
{
    fx *f = *state;
    fx_start(f);
    stream_cl st;
    stream_open(&st, f, "hold", 0, 0);
    rpcs_call *c = wait_held(f);
    assert_int_equal(send_event(c, 1), RPCS_OK);
    assert_int_equal(stream_next(&st), 1);
    int64_t t0 = now_ms();
    rpcs_shutdown(f->srv);
    int64_t dt = now_ms() - t0;
    assert_true(dt < RPCS_DEFAULT_GRACE_MS + 1000);
    rpcs_shutdown(f->srv); /* twice is fine */
    assert_int_equal(stream_next(&st), 0);
    char details[64];
    assert_int_equal(stream_status(&st, details, sizeof details), GRPC_STATUS_UNAVAILABLE);
    assert_int_equal(f->done, 1);
    assert_int_equal(f->done_cancelled, 0);
    assert_int_equal(send_event(c, 2), RPCS_ECLOSED);
    stream_close(&st);
    /* A call the application still holds outlives the server. */
    rpcs_destroy(f->srv);
    f->srv = NULL;
    assert_int_equal(rpcs_call_closed(c), 1);
    assert_int_equal(send_event(c, 3), RPCS_ECLOSED);
    assert_int_equal(rpcs_call_send_packed(c, "x", 1), RPCS_ECLOSED);
    assert_int_equal(rpcs_call_finish(c, GRPC_STATUS_UNAVAILABLE, NULL), RPCS_ECLOSED);
    assert_int_equal(rpcs_call_wait_writable(c, 1, 0), RPCS_ECLOSED);
    assert_int_equal(rpcs_call_queued(c), 0);
}

static void shutdown_cancels_stalled_stream_after_grace(void **state)
{
    fx *f = *state;
    f->grace_ms = 300;
    f->max_queued = 4;
    fx_start(f);
    stream_cl st;
    stream_open(&st, f, "hold", 0, 0); /* never reads */
    rpcs_call *c = wait_held(f);
    fill_until_stalled(c, 4, 256 * 1024);
    int64_t t0 = now_ms();
    rpcs_shutdown(f->srv);
    int64_t dt = now_ms() - t0;
    assert_true(dt >= 300);
    assert_true(dt < 300 + 1000 * SLOW);
    assert_int_equal(f->done, 1);
    assert_int_equal(f->done_cancelled, 1);
    stream_drain(&st);
    grpc_status_code code = stream_status(&st, NULL, 0);
    assert_int_equal(code, GRPC_STATUS_UNAVAILABLE);
    stream_close(&st);
}

/* Returns the number of wrong answers (asserted on the test's thread). */
static void *mixed_client_main(void *arg)
{
    fx *f = arg;
    intptr_t bad = 0;
    for (int i = 0; i < 25; i++) {
        unary_res r;
        get_skill(f, "mixed", &r);
        bad += r.status != GRPC_STATUS_OK;
        free(r.resp);
        stream_cl st;
        stream_open(&st, f, "count", 200, 0);
        int stop = (i * 37) % 120; /* sometimes past the end: no cancel */
        uint64_t want = 1, seq;
        while ((int)want <= stop && (seq = stream_next(&st)) != 0) {
            bad += seq != want;
            want++;
        }
        grpc_call_cancel(st.call, NULL);
        stream_drain(&st);
        grpc_status_code code = stream_status(&st, NULL, 0);
        bad += code != GRPC_STATUS_CANCELLED && code != GRPC_STATUS_OK;
        stream_close(&st);
    }
    return (void *)bad;
}

/* Two pollers complete batches while handlers and the dispatcher still
 * touch the calls: the case that needs the dispatcher's own reference. */
static void concurrent_calls_with_two_pollers_and_cancels(void **state)
{
    fx *f = *state;
    f->cq_threads = 2;
    f->max_queued = 16;
    fx_start(f);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, mixed_client_main, f), 0);
    for (int i = 0; i < 4; i++) {
        void *bad;
        pthread_join(th[i], &bad);
        assert_int_equal((intptr_t)bad, 0);
    }
}

static void tcp_port_bound_twice_fails_with_ebind(void **state)
{
    fx *f = *state;
    rpcs_method m[3];
    for (int i = 0; i < 3; i++)
        m[i] = test_methods(i, f);
    const char *l1[] = {"127.0.0.1:0"};
    rpcs_opts o1 = {.listen = l1, .n_listen = 1};
    assert_int_equal(rpcs_create(&f->srv, &o1, m, 3), RPCS_OK);
    int port = rpcs_port(f->srv, 0);
    assert_true(port > 0);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    const char *l2[] = {addr};
    rpcs_opts o2 = {.listen = l2, .n_listen = 1};
    rpcs *s2 = (rpcs *)1;
    assert_int_equal(rpcs_create(&s2, &o2, m, 3), RPCS_EBIND);
    assert_null(s2);
    /* The first server still answers on that port. */
    grpc_channel_credentials *cr = grpc_insecure_credentials_create();
    f->ch = grpc_channel_create(addr, cr, NULL);
    grpc_channel_credentials_release(cr);
    unary_res r;
    get_skill(f, "tcp", &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_string_equal(skill_name(&r), "tcp");
    free(r.resp);
}

static void unix_socket_in_use_fails_with_ebind(void **state)
{
    fx *f = *state;
    fx_start(f);
    rpcs_method m = test_methods(0, f);
    const char *l[] = {f->addr};
    rpcs_opts o = {.listen = l, .n_listen = 1};
    rpcs *s2 = NULL;
    assert_int_equal(rpcs_create(&s2, &o, &m, 1), RPCS_EBIND);
    assert_null(s2);
    unary_res r;
    get_skill(f, "still-mine", &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_string_equal(skill_name(&r), "still-mine");
    free(r.resp);
}

static void invalid_options_are_rejected(void **state)
{
    fx *f = *state;
    rpcs *s = NULL;
    rpcs_method m = test_methods(0, f);
    const char *l[] = {f->addr};
    rpcs_opts o = {.listen = l, .n_listen = 1};
    assert_int_equal(rpcs_create(NULL, &o, &m, 1), RPCS_EINVAL);
    assert_int_equal(rpcs_create(&s, NULL, &m, 1), RPCS_EINVAL);
    rpcs_opts none = {.listen = l, .n_listen = 0};
    assert_int_equal(rpcs_create(&s, &none, &m, 1), RPCS_EINVAL);
    rpcs_opts neg = {.listen = l, .n_listen = 1, .handler_threads = -1};
    assert_int_equal(rpcs_create(&s, &neg, &m, 1), RPCS_EINVAL);
    rpcs_method bad = m;
    bad.name = "NoSuchMethod";
    assert_int_equal(rpcs_create(&s, &o, &bad, 1), RPCS_EINVAL);
    bad = m;
    bad.handler = NULL;
    assert_int_equal(rpcs_create(&s, &o, &bad, 1), RPCS_EINVAL);
    rpcs_method twice[2] = {m, m};
    assert_int_equal(rpcs_create(&s, &o, twice, 2), RPCS_EINVAL);
    assert_null(s);
    assert_string_equal(cfd_strerror(RPCS_EFULL), "send queue full");
    assert_string_equal(cfd_strerror(12345), "unknown error");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* gRPC stays initialised across the tests: the final grpc_shutdown can
 * wait up to 10 s for libgrpc's TCP backup poller after large writes, and
 * once per run is enough. Everything is still freed at the end. */
static int group_setup(void **state)
{
    (void)state;
    grpc_init();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    grpc_shutdown_blocking();
    return 0;
}

int main(void)
{
    /* e.g. RPCS_TEST_FILTER='shutdown_*' runs a subset. */
    if (getenv("RPCS_TEST_FILTER")) cmocka_set_test_filter(getenv("RPCS_TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        T(unary_round_trip_returns_reply_and_ok),
        T(unary_reply_later_from_another_thread_works),
        T(unary_handler_without_reply_or_ref_ends_internal),
        T(blocking_handler_does_not_stall_other_calls),
        T(unknown_method_is_unimplemented_at_once),
        T(malformed_payload_is_invalid_argument),
        T(oversized_request_is_resource_exhausted),
        T(stream_of_10000_messages_arrives_in_order),
        T(client_cancel_reports_done_and_closes_sends),
        T(client_deadline_reports_done_cancelled),
        T(slow_client_makes_send_return_efull_without_growing_memory),
        T(byte_budget_bounds_queue_of_large_messages),
        T(finish_sends_queued_messages_then_status),
        T(shutdown_ends_open_stream_with_unavailable),
        T(shutdown_cancels_stalled_stream_after_grace),
        T(concurrent_calls_with_two_pollers_and_cancels),
        T(tcp_port_bound_twice_fails_with_ebind),
        T(unix_socket_in_use_fails_with_ebind),
        T(invalid_options_are_rejected),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

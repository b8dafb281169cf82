/* Unit tests for rpcc: the client against a real in-process server (rpcs)
 * on a unix socket in a temporary directory, serving the project's own
 * service descriptors with small handlers defined here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rpcc.h"
#include "rpcs.h"

#include "comfyd/v1/session.pb-c.h"
#include "comfyd/v1/skill.pb-c.h"

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
#define QUIET_MS 300           /* how long "nothing more arrives" is watched */
#define MAX_HELD 64

static const ProtobufCServiceDescriptor *const SKILLS = &comfyd__v1__skill_service__descriptor;
static const ProtobufCServiceDescriptor *const SESSIONS = &comfyd__v1__session_service__descriptor;

/* One lock for everything the callbacks record: they run on the client's
 * thread while the test reads on its own. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until *v (read under g_mu) reaches want; returns the last value. */
static int wait_count(const int *v, int want, int ms)
{
    int64_t until = now_ms() + ms;
    for (;;) {
        pthread_mutex_lock(&g_mu);
        int cur = *v;
        pthread_mutex_unlock(&g_mu);
        if (cur >= want || now_ms() >= until) return cur;
        usleep(2000);
    }
}

static int read_count(const int *v)
{
    pthread_mutex_lock(&g_mu);
    int cur = *v;
    pthread_mutex_unlock(&g_mu);
    return cur;
}

/* ---- fixture ---- */

typedef struct fx {
    char dir[64];
    char addr[128];
    rpcs *srv;
    rpcc *cli;
    rpcs_call *held[MAX_HELD]; /* calls a handler kept unanswered, with a reference */
    int n_held;                /* under g_mu */
} fx;

static void hold(fx *f, rpcs_call *call)
{
    rpcs_call_ref(call);
    pthread_mutex_lock(&g_mu);
    if (f->n_held < MAX_HELD)
        f->held[f->n_held++] = call;
    else
        rpcs_call_unref(call); /* the call then ends INTERNAL and the test fails */
    pthread_mutex_unlock(&g_mu);
}

static void h_list_skills(rpcs_call *call, const ProtobufCMessage *req, void *ud)
{
    (void)req;
    (void)ud;
    Comfyd__V1__Skill a = COMFYD__V1__SKILL__INIT, b = COMFYD__V1__SKILL__INIT;
    a.name = "alpha";
    b.name = "beta";
    Comfyd__V1__Skill *list[] = {&a, &b};
    Comfyd__V1__ListSkillsResponse resp = COMFYD__V1__LIST_SKILLS_RESPONSE__INIT;
    resp.n_skills = 2;
    resp.skills = list;
    rpcs_call_reply(call, &resp.base);
}

static void h_get_skill(rpcs_call *call, const ProtobufCMessage *req, void *ud)
{
    const Comfyd__V1__GetSkillRequest *r = (const Comfyd__V1__GetSkillRequest *)req;
    if (strcmp(r->name, "fail") == 0) {
        rpcs_call_finish(call, GRPC_STATUS_NOT_FOUND, "no skill named fail");
        return;
    }
    if (strcmp(r->name, "hold") == 0) {
        hold(ud, call);
        return;
    }
    Comfyd__V1__Skill sk = COMFYD__V1__SKILL__INIT;
    sk.name = r->name;
    Comfyd__V1__GetSkillResponse resp = COMFYD__V1__GET_SKILL_RESPONSE__INIT;
    resp.skill = &sk;
    rpcs_call_reply(call, &resp.base);
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

/* session_id selects the behaviour: "count" sends after_seq events and
 * finishes OK, backing off while the client does not read; "garbage"
 * sends one event and then bytes that are no message; "hold" keeps the
 * stream open without sending. */
static void h_subscribe(rpcs_call *call, const ProtobufCMessage *req, void *ud)
{
    const Comfyd__V1__SubscribeRequest *r = (const Comfyd__V1__SubscribeRequest *)req;
    if (strcmp(r->session_id, "count") == 0) {
        for (uint64_t i = 1; i <= r->after_seq; i++) {
            int rc;
            while ((rc = send_event(call, i)) == RPCS_EFULL)
                if (rpcs_call_wait_writable(call, 64, 1000) == RPCS_ECLOSED) return;
            if (rc != RPCS_OK) return;
        }
        rpcs_call_finish(call, GRPC_STATUS_OK, NULL);
        return;
    }
    if (strcmp(r->session_id, "garbage") == 0) {
        static const uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}; /* overlong length */
        send_event(call, 1);
        rpcs_call_send_packed(call, junk, sizeof junk);
        rpcs_call_finish(call, GRPC_STATUS_OK, NULL);
        return;
    }
    hold(ud, call);
}

static void srv_start(fx *f)
{
    const char *listen[] = {f->addr};
    rpcs_method m[] = {
        {SKILLS, "ListSkills", RPCS_UNARY, h_list_skills, f},
        {SKILLS, "GetSkill", RPCS_UNARY, h_get_skill, f},
        {SESSIONS, "Subscribe", RPCS_SERVER_STREAM, h_subscribe, f},
    };
    rpcs_opts o = {.listen = listen, .n_listen = 1, .grace_ms = 200};
    assert_int_equal(rpcs_create(&f->srv, &o, m, 3), RPCS_OK);
}

static void srv_stop(fx *f)
{
    rpcs_destroy(f->srv);
    f->srv = NULL;
    pthread_mutex_lock(&g_mu);
    for (int i = 0; i < f->n_held; i++)
        rpcs_call_unref(f->held[i]);
    f->n_held = 0;
    pthread_mutex_unlock(&g_mu);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/rpcc-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->addr, sizeof f->addr, "unix:%s/core.sock", f->dir);
    assert_int_equal(rpcc_create(&f->cli, f->addr, NULL), RPCC_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    rpcc_destroy(f->cli);
    srv_stop(f);
    char p[160];
    snprintf(p, sizeof p, "%s/core.sock", f->dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/core.sock.lock", f->dir);
    unlink(p);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- recording callbacks ---- */

typedef struct ures {
    int calls;
    grpc_status_code code;
    char details[RPCC_MAX_DETAILS_BYTES + 1];
    ProtobufCMessage *resp;
    pthread_t thread;
    int64_t t_end;
} ures;

static void on_unary(void *ud, grpc_status_code code, const char *details, ProtobufCMessage *resp)
{
    ures *r = ud;
    pthread_mutex_lock(&g_mu);
    if (r->resp) protobuf_c_message_free_unpacked(r->resp, NULL); /* a second call: counted */
    r->calls++;
    r->code = code;
    snprintf(r->details, sizeof r->details, "%s", details);
    r->resp = resp;
    r->thread = pthread_self();
    r->t_end = now_ms();
    pthread_mutex_unlock(&g_mu);
}

static void ures_clear(ures *r)
{
    if (r->resp) protobuf_c_message_free_unpacked(r->resp, NULL);
    memset(r, 0, sizeof *r);
}

static int list_skills(fx *f, int64_t timeout_ms, unsigned flags, ures *r)
{
    Comfyd__V1__ListSkillsRequest req = COMFYD__V1__LIST_SKILLS_REQUEST__INIT;
    return rpcc_unary(f->cli, SKILLS, "ListSkills", &req.base, timeout_ms, flags, on_unary, r);
}

static int get_skill(fx *f, const char *name, int64_t timeout_ms, ures *r)
{
    Comfyd__V1__GetSkillRequest req = COMFYD__V1__GET_SKILL_REQUEST__INIT;
    req.name = (char *)name;
    return rpcc_unary(f->cli, SKILLS, "GetSkill", &req.base, timeout_ms, 0, on_unary, r);
}

/* Runs ListSkills and waits for its callback. */
static void list_skills_sync(fx *f, int64_t timeout_ms, unsigned flags, ures *r)
{
    memset(r, 0, sizeof *r);
    assert_int_equal(list_skills(f, timeout_ms, flags, r), RPCC_OK);
    assert_int_equal(wait_count(&r->calls, 1, WAIT_MS), 1);
}

typedef struct sres {
    int msgs;
    int in_order;
    uint64_t last_seq;
    int ends;
    int msgs_after_end;
    int wrong_type;
    grpc_status_code code;
    char details[RPCC_MAX_DETAILS_BYTES + 1];
    rpcc_stream *s;
    int cancel_at; /* cancel from on_msg once this many arrived (0: never) */
} sres;

static void on_msg(void *ud, ProtobufCMessage *msg)
{
    sres *r = ud;
    pthread_mutex_lock(&g_mu);
    if (msg->descriptor != &comfyd__v1__subscribe_response__descriptor) {
        r->wrong_type++;
    } else {
        const Comfyd__V1__SubscribeResponse *m = (const Comfyd__V1__SubscribeResponse *)msg;
        uint64_t seq = m->event ? m->event->seq : 0;
        if (seq != r->last_seq + 1) r->in_order = 0;
        r->last_seq = seq;
    }
    r->msgs++;
    if (r->ends) r->msgs_after_end++;
    int cancel = r->cancel_at && r->msgs == r->cancel_at;
    rpcc_stream *s = r->s;
    pthread_mutex_unlock(&g_mu);
    protobuf_c_message_free_unpacked(msg, NULL);
    if (cancel) rpcc_stream_cancel(s); /* callable from a callback */
}

static void on_end(void *ud, grpc_status_code code, const char *details)
{
    sres *r = ud;
    pthread_mutex_lock(&g_mu);
    r->ends++;
    r->code = code;
    snprintf(r->details, sizeof r->details, "%s", details);
    pthread_mutex_unlock(&g_mu);
}

static int subscribe(fx *f, const char *mode, uint64_t n, int64_t timeout_ms, unsigned flags,
                     sres *r)
{
    memset(r, 0, sizeof *r);
    r->in_order = 1;
    Comfyd__V1__SubscribeRequest req = COMFYD__V1__SUBSCRIBE_REQUEST__INIT;
    req.session_id = (char *)mode;
    req.after_seq = n;
    rpcc_stream *s = NULL;
    int rc = rpcc_stream_start(f->cli, SESSIONS, "Subscribe", &req.base, timeout_ms, flags, on_msg,
                               on_end, r, &s);
    pthread_mutex_lock(&g_mu);
    r->s = s;
    pthread_mutex_unlock(&g_mu);
    return rc;
}

/* ---- unary ---- */

static void unary_ok_delivers_unpacked_response_on_client_thread(void **state)
{
    fx *f = *state;
    srv_start(f);
    ures r;
    list_skills_sync(f, WAIT_MS, 0, &r);
    assert_int_equal(r.code, GRPC_STATUS_OK);
    assert_string_equal(r.details, "");
    assert_non_null(r.resp);
    assert_ptr_equal(r.resp->descriptor, &comfyd__v1__list_skills_response__descriptor);
    const Comfyd__V1__ListSkillsResponse *resp = (const Comfyd__V1__ListSkillsResponse *)r.resp;
    assert_int_equal(resp->n_skills, 2);
    assert_string_equal(resp->skills[0]->name, "alpha");
    assert_string_equal(resp->skills[1]->name, "beta");
    assert_false(pthread_equal(r.thread, pthread_self()));
    ures_clear(&r);

    /* The request travels: the server echoes the name. */
    assert_int_equal(get_skill(f, "gamma", 5000, &r), RPCC_OK);
    assert_int_equal(wait_count(&r.calls, 1, WAIT_MS), 1);
    assert_int_equal(r.code, GRPC_STATUS_OK);
    assert_non_null(r.resp);
    assert_string_equal(((Comfyd__V1__GetSkillResponse *)r.resp)->skill->name, "gamma");
    ures_clear(&r);
}

static void unary_error_status_and_details_pass_through(void **state)
{
    fx *f = *state;
    srv_start(f);
    ures r = {0};
    assert_int_equal(get_skill(f, "fail", 5000, &r), RPCC_OK);
    assert_int_equal(wait_count(&r.calls, 1, WAIT_MS), 1);
    assert_int_equal(r.code, GRPC_STATUS_NOT_FOUND);
    assert_string_equal(r.details, "no skill named fail");
    assert_null(r.resp);
}

static void unknown_method_is_unimplemented(void **state)
{
    fx *f = *state;
    srv_start(f);
    /* In the descriptor, but the server does not serve it. */
    Comfyd__V1__ReloadSkillsRequest req = COMFYD__V1__RELOAD_SKILLS_REQUEST__INIT;
    ures r = {0};
    assert_int_equal(rpcc_unary(f->cli, SKILLS, "ReloadSkills", &req.base, 5000, 0, on_unary, &r),
                     RPCC_OK);
    assert_int_equal(wait_count(&r.calls, 1, WAIT_MS), 1);
    assert_int_equal(r.code, GRPC_STATUS_UNIMPLEMENTED);
    assert_null(r.resp);
}

static void unary_timeout_is_deadline_exceeded(void **state)
{
    fx *f = *state;
    srv_start(f);
    ures r = {0};
    int64_t t0 = now_ms();
    assert_int_equal(get_skill(f, "hold", 200, &r), RPCC_OK);
    assert_int_equal(wait_count(&r.calls, 1, WAIT_MS), 1);
    assert_int_equal(r.code, GRPC_STATUS_DEADLINE_EXCEEDED);
    assert_null(r.resp);
    int64_t took = r.t_end - t0;
    assert_true(took >= 180);
    assert_true(took < 2000 * SLOW);
}

static void server_absent_fails_fast_with_unavailable(void **state)
{
    fx *f = *state;
    ures r = {0};
    int64_t t0 = now_ms();
    assert_int_equal(list_skills(f, 5000, 0, &r), RPCC_OK);
    assert_int_equal(wait_count(&r.calls, 1, WAIT_MS), 1);
    assert_int_equal(r.code, GRPC_STATUS_UNAVAILABLE);
    assert_null(r.resp);
    assert_true(r.t_end - t0 < 1000 * SLOW);
    assert_int_not_equal(rpcc_state(f->cli), RPCC_READY);
}

static void wait_for_ready_waits_until_deadline_without_server(void **state)
{
    fx *f = *state;
    ures r = {0};
    int64_t t0 = now_ms();
    assert_int_equal(list_skills(f, 300, RPCC_WAIT_FOR_READY, &r), RPCC_OK);
    assert_int_equal(wait_count(&r.calls, 1, WAIT_MS), 1);
    assert_int_equal(r.code, GRPC_STATUS_DEADLINE_EXCEEDED);
    assert_true(r.t_end - t0 >= 280);
}

static void wait_for_ready_call_succeeds_once_server_starts(void **state)
{
    fx *f = *state;
    ures r = {0};
    assert_int_equal(list_skills(f, 10000 * SLOW, RPCC_WAIT_FOR_READY, &r), RPCC_OK);
    usleep(200 * 1000);
    assert_int_equal(read_count(&r.calls), 0);
    srv_start(f);
    assert_int_equal(wait_count(&r.calls, 1, WAIT_MS), 1);
    assert_int_equal(r.code, GRPC_STATUS_OK);
    assert_non_null(r.resp);
    ures_clear(&r);
}

/* Fail-fast calls every 50 ms until one succeeds; returns the time taken
 * from now, or -1 when none did within the bound. */
static int64_t ms_until_call_succeeds(fx *f, int64_t bound_ms)
{
    int64_t t0 = now_ms();
    while (now_ms() - t0 < bound_ms) {
        ures r;
        list_skills_sync(f, 1000 * SLOW, 0, &r);
        int ok = r.code == GRPC_STATUS_OK;
        if (!ok) assert_int_equal(r.code, GRPC_STATUS_UNAVAILABLE);
        ures_clear(&r);
        if (ok) return now_ms() - t0;
        usleep(50 * 1000);
    }
    return -1;
}

static void restarted_server_is_found_again_by_later_calls(void **state)
{
    fx *f = *state;
    ures r;
    list_skills_sync(f, 1000, 0, &r);
    assert_int_equal(r.code, GRPC_STATUS_UNAVAILABLE);
    /* Let the backoff grow to its cap before the core appears. */
    usleep(1500 * 1000);
    srv_start(f);
    int64_t took = ms_until_call_succeeds(f, 2000 * SLOW);
    print_message("first start found after %lld ms\n", (long long)took);
    assert_true(took >= 0);
    assert_int_equal(rpcc_state(f->cli), RPCC_READY);

    srv_stop(f);
    list_skills_sync(f, 1000, 0, &r);
    assert_int_equal(r.code, GRPC_STATUS_UNAVAILABLE);
    usleep(1500 * 1000);
    srv_start(f);
    took = ms_until_call_succeeds(f, 2000 * SLOW);
    print_message("restart found after %lld ms\n", (long long)took);
    assert_true(took >= 0);
}

static void polling_state_connects_without_calls(void **state)
{
    fx *f = *state;
    assert_int_not_equal(rpcc_state(f->cli), RPCC_READY);
    srv_start(f);
    int64_t t0 = now_ms();
    while (rpcc_state(f->cli) != RPCC_READY && now_ms() - t0 < 3000 * SLOW)
        usleep(20 * 1000);
    assert_int_equal(rpcc_state(f->cli), RPCC_READY);
    assert_string_equal(rpcc_state_name(RPCC_READY), "ready");
    assert_string_equal(rpcc_state_name(RPCC_TRANSIENT_FAILURE), "transient_failure");
}

/* ---- streams ---- */

static void stream_of_1000_arrives_in_order_then_ok(void **state)
{
    fx *f = *state;
    srv_start(f);
    sres r;
    assert_int_equal(subscribe(f, "count", 1000, 0, 0, &r), RPCC_OK);
    assert_non_null(r.s);
    assert_int_equal(wait_count(&r.ends, 1, WAIT_MS), 1);
    pthread_mutex_lock(&g_mu);
    assert_int_equal(r.code, GRPC_STATUS_OK);
    assert_int_equal(r.msgs, 1000);
    assert_int_equal(r.last_seq, 1000);
    assert_true(r.in_order);
    assert_int_equal(r.wrong_type, 0);
    assert_int_equal(r.msgs_after_end, 0);
    pthread_mutex_unlock(&g_mu);
    /* The handle outlives the stream until released. */
    assert_int_equal(rpcc_stream_next(r.s, 1), RPCC_ECLOSED);
    assert_int_equal(rpcc_stream_cancel(r.s), RPCC_ECLOSED);
    rpcc_stream_release(r.s);
}

static void stream_cancel_ends_once_with_cancelled(void **state)
{
    fx *f = *state;
    srv_start(f);
    sres r;
    assert_int_equal(subscribe(f, "count", 1000000, 0, 0, &r), RPCC_OK);
    assert_true(wait_count(&r.msgs, 10, WAIT_MS) >= 10);
    assert_int_equal(rpcc_stream_cancel(r.s), RPCC_OK);
    assert_int_equal(wait_count(&r.ends, 1, WAIT_MS), 1);
    int msgs = read_count(&r.msgs);
    usleep(QUIET_MS * 1000);
    pthread_mutex_lock(&g_mu);
    assert_int_equal(r.ends, 1);
    assert_int_equal(r.code, GRPC_STATUS_CANCELLED);
    assert_int_equal(r.msgs, msgs);
    assert_int_equal(r.msgs_after_end, 0);
    assert_true(r.in_order);
    pthread_mutex_unlock(&g_mu);
    assert_int_equal(rpcc_stream_cancel(r.s), RPCC_ECLOSED);
    rpcc_stream_release(r.s);
}

static void stream_cancel_from_on_msg_stops_delivery(void **state)
{
    fx *f = *state;
    srv_start(f);
    sres r;
    memset(&r, 0, sizeof r);
    /* cancel_at must be set before messages flow: set it through a
     * manual stream that holds at one message until granted. */
    assert_int_equal(subscribe(f, "count", 1000000, 0, RPCC_MANUAL_FLOW, &r), RPCC_OK);
    assert_int_equal(wait_count(&r.msgs, 1, WAIT_MS), 1);
    pthread_mutex_lock(&g_mu);
    r.cancel_at = 5;
    pthread_mutex_unlock(&g_mu);
    assert_int_equal(rpcc_stream_next(r.s, 100), RPCC_OK);
    assert_int_equal(wait_count(&r.ends, 1, WAIT_MS), 1);
    pthread_mutex_lock(&g_mu);
    assert_int_equal(r.code, GRPC_STATUS_CANCELLED);
    /* The read already requested when on_msg cancelled may still land. */
    assert_true(r.msgs >= 5 && r.msgs <= 6);
    assert_int_equal(r.msgs_after_end, 0);
    pthread_mutex_unlock(&g_mu);
    rpcc_stream_release(r.s);
}

static void manual_flow_delivers_only_granted_messages(void **state)
{
    fx *f = *state;
    srv_start(f);
    sres r;
    assert_int_equal(subscribe(f, "count", 100000, 0, RPCC_MANUAL_FLOW, &r), RPCC_OK);
    /* One credit at the start. */
    assert_int_equal(wait_count(&r.msgs, 1, WAIT_MS), 1);
    usleep(QUIET_MS * 1000);
    assert_int_equal(read_count(&r.msgs), 1);
    assert_int_equal(rpcc_stream_next(r.s, 2), RPCC_OK);
    assert_int_equal(wait_count(&r.msgs, 3, WAIT_MS), 3);
    usleep(QUIET_MS * 1000);
    assert_int_equal(read_count(&r.msgs), 3);
    assert_int_equal(read_count(&r.ends), 0);
    assert_int_equal(rpcc_stream_next(r.s, 0), RPCC_EINVAL);
    /* Releasing a running stream cancels it; on_end still comes once. */
    rpcc_stream_release(r.s);
    assert_int_equal(wait_count(&r.ends, 1, WAIT_MS), 1);
    usleep(50 * 1000);
    pthread_mutex_lock(&g_mu);
    assert_int_equal(r.ends, 1);
    assert_int_equal(r.code, GRPC_STATUS_CANCELLED);
    assert_int_equal(r.msgs, 3);
    assert_true(r.in_order);
    pthread_mutex_unlock(&g_mu);
}

static void manual_flow_stream_finishes_after_all_granted(void **state)
{
    fx *f = *state;
    srv_start(f);
    sres r;
    assert_int_equal(subscribe(f, "count", 50, 0, RPCC_MANUAL_FLOW, &r), RPCC_OK);
    assert_int_equal(wait_count(&r.msgs, 1, WAIT_MS), 1);
    /* The status waits behind unread messages; grant them one by one. */
    for (int i = 1; i < 50; i++) {
        assert_int_equal(rpcc_stream_next(r.s, 1), RPCC_OK);
        assert_int_equal(wait_count(&r.msgs, i + 1, WAIT_MS), i + 1);
    }
    /* The end of the stream may need one more read, or none when the
     * status is already in. */
    int rc = rpcc_stream_next(r.s, 1);
    assert_true(rc == RPCC_OK || rc == RPCC_ECLOSED);
    assert_int_equal(wait_count(&r.ends, 1, WAIT_MS), 1);
    pthread_mutex_lock(&g_mu);
    assert_int_equal(r.code, GRPC_STATUS_OK);
    assert_int_equal(r.msgs, 50);
    assert_true(r.in_order);
    pthread_mutex_unlock(&g_mu);
    rpcc_stream_release(r.s);
}

static void stream_timeout_is_deadline_exceeded(void **state)
{
    fx *f = *state;
    srv_start(f);
    sres r;
    int64_t t0 = now_ms();
    assert_int_equal(subscribe(f, "hold", 0, 200, 0, &r), RPCC_OK);
    assert_int_equal(wait_count(&r.ends, 1, WAIT_MS), 1);
    assert_true(now_ms() - t0 >= 180);
    assert_int_equal(r.code, GRPC_STATUS_DEADLINE_EXCEEDED);
    assert_int_equal(r.msgs, 0);
    rpcc_stream_release(r.s);
}

static void malformed_stream_message_ends_internal(void **state)
{
    fx *f = *state;
    srv_start(f);
    sres r;
    assert_int_equal(subscribe(f, "garbage", 0, WAIT_MS, 0, &r), RPCC_OK);
    assert_int_equal(wait_count(&r.ends, 1, WAIT_MS), 1);
    pthread_mutex_lock(&g_mu);
    assert_int_equal(r.code, GRPC_STATUS_INTERNAL);
    assert_string_equal(r.details, "malformed message");
    assert_int_equal(r.msgs, 1);
    pthread_mutex_unlock(&g_mu);
    rpcc_stream_release(r.s);
}

static void stream_on_absent_server_ends_unavailable(void **state)
{
    fx *f = *state;
    sres r;
    assert_int_equal(subscribe(f, "count", 10, 0, 0, &r), RPCC_OK);
    assert_int_equal(wait_count(&r.ends, 1, WAIT_MS), 1);
    assert_int_equal(r.code, GRPC_STATUS_UNAVAILABLE);
    assert_int_equal(r.msgs, 0);
    rpcc_stream_release(r.s);
}

/* ---- lifetime and load ---- */

static void destroy_with_calls_in_flight_ends_each_once(void **state)
{
    fx *f = *state;
    srv_start(f);
    enum { NU = 5, NS = 3, NM = 2 };
    ures u[NU];
    sres s[NS + NM];
    memset(u, 0, sizeof u);
    for (int i = 0; i < NU; i++)
        assert_int_equal(get_skill(f, "hold", 30000, &u[i]), RPCC_OK);
    for (int i = 0; i < NS; i++)
        assert_int_equal(subscribe(f, "hold", 0, 0, 0, &s[i]), RPCC_OK);
    /* Streams stalled by flow control, their producers backing off. */
    for (int i = NS; i < NS + NM; i++)
        assert_int_equal(subscribe(f, "count", 100000, 0, RPCC_MANUAL_FLOW, &s[i]), RPCC_OK);
    assert_int_equal(wait_count(&f->n_held, NU + NS, WAIT_MS), NU + NS);
    for (int i = NS; i < NS + NM; i++)
        assert_int_equal(wait_count(&s[i].msgs, 1, WAIT_MS), 1);

    rpcc_destroy(f->cli);
    f->cli = NULL;
    /* Every callback has run by the time destroy returns. */
    pthread_mutex_lock(&g_mu);
    for (int i = 0; i < NU; i++) {
        assert_int_equal(u[i].calls, 1);
        assert_int_equal(u[i].code, GRPC_STATUS_CANCELLED);
        assert_string_equal(u[i].details, "client shutting down");
        assert_null(u[i].resp);
    }
    for (int i = 0; i < NS + NM; i++) {
        assert_int_equal(s[i].ends, 1);
        assert_int_equal(s[i].code, GRPC_STATUS_CANCELLED);
        assert_int_equal(s[i].msgs_after_end, 0);
    }
    pthread_mutex_unlock(&g_mu);
    usleep(50 * 1000);
    for (int i = 0; i < NU; i++)
        assert_int_equal(read_count(&u[i].calls), 1);
    /* Handles stay valid after the client is gone, until released. */
    for (int i = 0; i < NS + NM; i++) {
        assert_int_equal(read_count(&s[i].ends), 1);
        assert_int_equal(rpcc_stream_next(s[i].s, 1), RPCC_ECLOSED);
        rpcc_stream_release(s[i].s);
    }
}

static void destroy_ends_calls_waiting_for_ready(void **state)
{
    fx *f = *state;
    ures u = {0};
    sres s;
    assert_int_equal(list_skills(f, 30000, RPCC_WAIT_FOR_READY, &u), RPCC_OK);
    assert_int_equal(subscribe(f, "count", 10, 0, RPCC_WAIT_FOR_READY, &s), RPCC_OK);
    usleep(100 * 1000);
    assert_int_equal(read_count(&u.calls), 0);
    assert_int_equal(read_count(&s.ends), 0);
    rpcc_destroy(f->cli);
    f->cli = NULL;
    assert_int_equal(u.calls, 1);
    assert_int_equal(u.code, GRPC_STATUS_CANCELLED);
    assert_int_equal(s.ends, 1);
    assert_int_equal(s.code, GRPC_STATUS_CANCELLED);
    rpcc_stream_release(s.s);
}

typedef struct worker {
    fx *f;
    ures r[25];
    int started;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 25; i++)
        if (list_skills(w->f, 10000 * SLOW, 0, &w->r[i]) == RPCC_OK) w->started++;
    return NULL;
}

static void concurrent_unary_calls_from_4_threads_all_complete(void **state)
{
    fx *f = *state;
    srv_start(f);
    worker w[4];
    pthread_t t[4];
    memset(w, 0, sizeof w);
    for (int i = 0; i < 4; i++) {
        w[i].f = f;
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(w[i].started, 25);
        for (int k = 0; k < 25; k++) {
            ures *r = &w[i].r[k];
            assert_int_equal(wait_count(&r->calls, 1, WAIT_MS), 1);
            assert_int_equal(r->code, GRPC_STATUS_OK);
            assert_non_null(r->resp);
            assert_int_equal(((Comfyd__V1__ListSkillsResponse *)r->resp)->n_skills, 2);
            ures_clear(r);
        }
    }
}

static void calls_beyond_max_calls_are_refused_with_ebusy(void **state)
{
    fx *f = *state;
    srv_start(f);
    rpcc_destroy(f->cli);
    rpcc_opts o = {.max_calls = 2};
    assert_int_equal(rpcc_create(&f->cli, f->addr, &o), RPCC_OK);
    ures u[3];
    memset(u, 0, sizeof u);
    assert_int_equal(get_skill(f, "hold", 30000, &u[0]), RPCC_OK);
    assert_int_equal(get_skill(f, "hold", 30000, &u[1]), RPCC_OK);
    assert_int_equal(get_skill(f, "hold", 30000, &u[2]), RPCC_EBUSY);
    sres s;
    assert_int_equal(subscribe(f, "count", 1, 0, 0, &s), RPCC_EBUSY);
    assert_null(s.s);
    assert_int_equal(wait_count(&f->n_held, 2, WAIT_MS), 2);
    rpcc_destroy(f->cli);
    f->cli = NULL;
    assert_int_equal(u[0].calls, 1);
    assert_int_equal(u[1].calls, 1);
    assert_int_equal(u[2].calls, 0);
}

static void invalid_arguments_are_rejected(void **state)
{
    fx *f = *state;
    Comfyd__V1__ListSkillsRequest lreq = COMFYD__V1__LIST_SKILLS_REQUEST__INIT;
    Comfyd__V1__SubscribeRequest sreq = COMFYD__V1__SUBSCRIBE_REQUEST__INIT;
    ures u = {0};
    assert_int_equal(rpcc_unary(f->cli, SKILLS, "NoSuchMethod", &lreq.base, 0, 0, on_unary, &u),
                     RPCC_EINVAL);
    /* A request of another type than the method's input. */
    assert_int_equal(rpcc_unary(f->cli, SKILLS, "GetSkill", &lreq.base, 0, 0, on_unary, &u),
                     RPCC_EINVAL);
    assert_int_equal(rpcc_unary(f->cli, SKILLS, "ListSkills", &lreq.base, 0, 0, NULL, &u),
                     RPCC_EINVAL);
    assert_int_equal(rpcc_unary(f->cli, SKILLS, "ListSkills", &lreq.base, -1, 0, on_unary, &u),
                     RPCC_EINVAL);
    assert_int_equal(rpcc_unary(f->cli, SKILLS, "ListSkills", &lreq.base, RPCC_MAX_TIMEOUT_MS + 1,
                                0, on_unary, &u),
                     RPCC_EINVAL);
    assert_int_equal(
        rpcc_unary(f->cli, SKILLS, "ListSkills", &lreq.base, 0, RPCC_MANUAL_FLOW, on_unary, &u),
        RPCC_EINVAL);
    assert_int_equal(rpcc_unary(f->cli, SKILLS, "ListSkills", NULL, 0, 0, on_unary, &u),
                     RPCC_EINVAL);
    assert_int_equal(rpcc_unary(f->cli, NULL, "ListSkills", &lreq.base, 0, 0, on_unary, &u),
                     RPCC_EINVAL);
    assert_int_equal(rpcc_unary(NULL, SKILLS, "ListSkills", &lreq.base, 0, 0, on_unary, &u),
                     RPCC_EINVAL);
    rpcc_stream *s = (rpcc_stream *)&u; /* must be reset to NULL on error */
    assert_int_equal(rpcc_stream_start(f->cli, SESSIONS, "Subscribe", &sreq.base, 0, 0x80, on_msg,
                                       on_end, &u, &s),
                     RPCC_EINVAL);
    assert_null(s);
    assert_int_equal(
        rpcc_stream_start(f->cli, SESSIONS, "Subscribe", &sreq.base, 0, 0, NULL, on_end, &u, &s),
        RPCC_EINVAL);
    assert_int_equal(rpcc_stream_start(f->cli, SESSIONS, "Subscribe", &sreq.base, 0, 0, on_msg,
                                       on_end, &u, NULL),
                     RPCC_EINVAL);
    assert_int_equal(rpcc_stream_next(NULL, 1), RPCC_EINVAL);
    assert_int_equal(rpcc_stream_cancel(NULL), RPCC_EINVAL);
    rpcc_stream_release(NULL);

    /* A request above the message limit is refused before anything is sent. */
    size_t big = RPCC_MAX_MESSAGE_BYTES + 1;
    char *name = malloc(big + 1);
    assert_non_null(name);
    memset(name, 'x', big);
    name[big] = '\0';
    Comfyd__V1__GetSkillRequest greq = COMFYD__V1__GET_SKILL_REQUEST__INIT;
    greq.name = name;
    assert_int_equal(rpcc_unary(f->cli, SKILLS, "GetSkill", &greq.base, 0, 0, on_unary, &u),
                     RPCC_ETOOBIG);
    free(name);
    assert_int_equal(u.calls, 0);

    rpcc *c = (rpcc *)&u;
    assert_int_equal(rpcc_create(&c, "", NULL), RPCC_EINVAL);
    assert_null(c);
    assert_int_equal(rpcc_create(&c, NULL, NULL), RPCC_EINVAL);
    char longt[RPCC_MAX_TARGET_BYTES + 2];
    memset(longt, 'a', sizeof longt - 1);
    longt[sizeof longt - 1] = '\0';
    assert_int_equal(rpcc_create(&c, longt, NULL), RPCC_EINVAL);
    rpcc_opts o = {.max_calls = RPCC_MAX_MAX_CALLS + 1};
    assert_int_equal(rpcc_create(&c, f->addr, &o), RPCC_EINVAL);
    o = (rpcc_opts){.reconnect_max_ms = 1};
    assert_int_equal(rpcc_create(&c, f->addr, &o), RPCC_EINVAL);
    assert_int_equal(rpcc_create(NULL, f->addr, NULL), RPCC_EINVAL);
    rpcc_destroy(NULL);
    assert_string_equal(rpcc_strerror(RPCC_EBUSY), "too many calls in flight");
    assert_string_equal(rpcc_strerror(12345), "unknown error");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(unary_ok_delivers_unpacked_response_on_client_thread),
        T(unary_error_status_and_details_pass_through),
        T(unknown_method_is_unimplemented),
        T(unary_timeout_is_deadline_exceeded),
        T(server_absent_fails_fast_with_unavailable),
        T(wait_for_ready_waits_until_deadline_without_server),
        T(wait_for_ready_call_succeeds_once_server_starts),
        T(restarted_server_is_found_again_by_later_calls),
        T(polling_state_connects_without_calls),
        T(stream_of_1000_arrives_in_order_then_ok),
        T(stream_cancel_ends_once_with_cancelled),
        T(stream_cancel_from_on_msg_stops_delivery),
        T(manual_flow_delivers_only_granted_messages),
        T(manual_flow_stream_finishes_after_all_granted),
        T(stream_timeout_is_deadline_exceeded),
        T(malformed_stream_message_ends_internal),
        T(stream_on_absent_server_ends_unavailable),
        T(destroy_with_calls_in_flight_ends_each_once),
        T(destroy_ends_calls_waiting_for_ready),
        T(concurrent_unary_calls_from_4_threads_all_complete),
        T(calls_beyond_max_calls_are_refused_with_ebusy),
        T(invalid_arguments_are_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

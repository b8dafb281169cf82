/* Session manager: state machine, event numbering, replay, queueing,
 * cancellation and restart, against the real store, skill registry and
 * echo provider, with an in-memory subscriber. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "session.h"
#include "text.h"

#define MAX_EVENTS 20000

typedef struct sink {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    Comfyd__V1__SessionEvent *ev[MAX_EVENTS];
    size_t n;
    int refuse; /* push fails: a subscriber that cannot keep up */
    int ended;
    int end_code;
    int released;
} sink;

static int sink_push(void *ud, const void *bytes, size_t len)
{
    sink *s = ud;
    if (s->refuse) return -1;
    Comfyd__V1__SubscribeResponse *r = comfyd__v1__subscribe_response__unpack(NULL, len, bytes);
    assert_non_null(r);
    pthread_mutex_lock(&s->mu);
    assert_true(s->n < MAX_EVENTS);
    s->ev[s->n++] = r->event;
    r->event = NULL;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    comfyd__v1__subscribe_response__free_unpacked(r, NULL);
    return 0;
}

static void sink_end(void *ud, int code, const char *message)
{
    (void)message;
    sink *s = ud;
    pthread_mutex_lock(&s->mu);
    s->ended = 1;
    s->end_code = code;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static int sink_gone(void *ud)
{
    (void)ud;
    return 0;
}

static void sink_release(void *ud)
{
    ((sink *)ud)->released = 1;
}

static const sess_sub_ops ops = {sink_push, sink_end, sink_gone, sink_release};

static sink *sink_alloc(void)
{
    sink *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    return s;
}

static void sink_free(sink *s)
{
    for (size_t i = 0; i < s->n; i++)
        comfyd__v1__session_event__free_unpacked(s->ev[i], NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

/* Waits until an event satisfies pred (scanning from index from); returns
 * its index or -1 after timeout_ms. */
typedef int (*pred_fn)(const Comfyd__V1__SessionEvent *e, const void *arg);
static long sink_wait(sink *s, size_t from, pred_fn pred, const void *arg, int timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) dl.tv_sec++, dl.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&s->mu);
    size_t i = from;
    for (;;) {
        for (; i < s->n; i++) {
            if (pred(s->ev[i], arg)) {
                pthread_mutex_unlock(&s->mu);
                return (long)i;
            }
        }
        if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) != 0) break;
    }
    pthread_mutex_unlock(&s->mu);
    return -1;
}

static int is_status(const Comfyd__V1__SessionEvent *e, const void *arg)
{
    return e->kind_case == COMFYD__V1__SESSION_EVENT__KIND_STATUS_UPDATE &&
           (int)e->status_update->status == *(const int *)arg &&
           strcmp(e->status_update->detail, "message queued") != 0;
}

static int is_detail(const Comfyd__V1__SessionEvent *e, const void *arg)
{
    return e->kind_case == COMFYD__V1__SESSION_EVENT__KIND_STATUS_UPDATE &&
           strcmp(e->status_update->detail, (const char *)arg) == 0;
}

static int is_kind(const Comfyd__V1__SessionEvent *e, const void *arg)
{
    return (int)e->kind_case == *(const int *)arg;
}

static const int IDLE = COMFYD__V1__SESSION_STATUS__SESSION_STATUS_IDLE;
static const int WORKING = COMFYD__V1__SESSION_STATUS__SESSION_STATUS_WORKING;
static const int ERROR_ST = COMFYD__V1__SESSION_STATUS__SESSION_STATUS_ERROR;

typedef struct fixture {
    sink *sinks[16]; /* freed after the manager: it may still end them */
    size_t n_sinks;
    char dir[256];
    char db[300];
    store *st;
    skills *reg;
    sess_mgr *m;
} fixture;

static void fx_start(fixture *f)
{
    assert_int_equal(store_open(&f->st, f->db), STORE_OK);
    skills_root root = {COMFYD_SOURCE_DIR "/skills", SKILL_SOURCE_BUILTIN};
    assert_int_equal(skills_load(&f->reg, &root, 1), SKILLS_OK);
    sess_mgr_opts o = {.st = f->st, .skills = f->reg, .default_delay_ms = 0, .ring_events = 256};
    assert_int_equal(sess_mgr_create(&f->m, &o), SESS_OK);
    sess_mgr_start(f->m);
}

static void fx_stop(fixture *f)
{
    sess_mgr_destroy(f->m);
    skills_unref(f->reg);
    store_close(f->st);
    f->m = NULL;
}

static fixture *current;

static sink *sink_new(void)
{
    sink *s = sink_alloc();
    assert_true(current->n_sinks < 16);
    current->sinks[current->n_sinks++] = s;
    return s;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_session.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%s/comfyd.db", f->dir);
    fx_start(f);
    current = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->m) fx_stop(f);
    for (size_t i = 0; i < f->n_sinks; i++)
        sink_free(f->sinks[i]);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void make_session(fixture *f, const char *const *skills_list, size_t n, uint32_t delay,
                         char id[40])
{
    Comfyd__V1__CreateSessionRequest req = COMFYD__V1__CREATE_SESSION_REQUEST__INIT;
    Comfyd__V1__SessionConfig c = COMFYD__V1__SESSION_CONFIG__INIT;
    c.active_skills = (char **)skills_list;
    c.n_active_skills = n;
    c.token_delay_ms = delay;
    req.config = &c;
    req.title = "test";
    req.api_key = "sk-secret";
    sess_info info;
    char err[256] = "";
    assert_int_equal(sess_create(f->m, &req, &info, err, sizeof err), SESS_OK);
    assert_string_equal(info.meta.provider, "echo");
    assert_true(info.meta.api_key_set);
    assert_int_equal(info.status, IDLE);
    snprintf(id, 40, "%s", info.meta.id);
    sess_info_clear(&info);
}

static uint64_t send_text(fixture *f, const char *id, const char *text, int *queued)
{
    Comfyd__V1__SendMessageRequest req = COMFYD__V1__SEND_MESSAGE_REQUEST__INIT;
    req.session_id = (char *)id;
    req.content = (char *)text;
    sess_send_result r;
    char err[256] = "";
    assert_int_equal(sess_send(f->m, &req, &r, err, sizeof err), SESS_OK);
    uint64_t mid = r.message.id;
    if (queued) *queued = r.queued;
    sess_send_result_clear(&r);
    return mid;
}

static const char *const two_skills[] = {"workflow-builder", "prompt-writer"};

static void two_skills_stream_concurrently_and_replies_are_stored_in_name_order(void **state)
{
    fixture *f = *state;
    char id[40];
    make_session(f, two_skills, 2, 5, id);
    sink *s = sink_new();
    char err[256];
    assert_int_equal(sess_subscribe(f->m, id, 0, &ops, s, err, sizeof err), SESS_OK);
    assert_int_equal(s->n, 1);
    assert_int_equal(s->ev[0]->kind_case, COMFYD__V1__SESSION_EVENT__KIND_SYNC_STATE);
    assert_string_equal(s->ev[0]->sync_state->reason, "fresh");

    send_text(f, id, "make a txt2img workflow with a cat", NULL);
    assert_true(sink_wait(s, 1, is_status, &WORKING, 5000) > 0);
    long done = sink_wait(s, 1, is_status, &IDLE, 10000);
    assert_true(done > 0);

    /* Sequence numbers strictly increase; both skills streamed, interleaved. */
    int switches = 0;
    const char *last_skill = NULL;
    size_t deltas[2] = {0, 0};
    for (size_t i = 1; i < s->n; i++) {
        assert_int_equal(s->ev[i]->seq, s->ev[i - 1]->seq + 1);
        if (s->ev[i]->kind_case != COMFYD__V1__SESSION_EVENT__KIND_STREAM_DELTA) continue;
        const char *sk = s->ev[i]->stream_delta->skill;
        deltas[strcmp(sk, "prompt-writer") == 0]++;
        if (last_skill && strcmp(last_skill, sk) != 0) switches++;
        last_skill = sk;
    }
    assert_true(deltas[0] > 2 && deltas[1] > 2);
    assert_true(switches >= 2);

    sess_info info;
    assert_int_equal(sess_get(f->m, id, &info, err, sizeof err), SESS_OK);
    sess_info_clear(&info);
    store_message *rows;
    size_t n;
    int trunc;
    assert_int_equal(sess_history(f->m, id, 100, &rows, &n, &trunc), SESS_OK);
    assert_int_equal(n, 3);
    assert_int_equal(rows[0].role, STORE_ROLE_USER);
    assert_int_equal(rows[0].state, STORE_MSG_DONE);
    assert_string_equal(rows[1].skill, "prompt-writer"); /* name order */
    assert_string_equal(rows[2].skill, "workflow-builder");
    assert_non_null(strstr(rows[1].content, "echo"));
    assert_non_null(strstr(rows[2].content, "cat"));
    assert_int_equal(rows[1].turn_id, rows[0].id);
    store_messages_free(rows, n);
}

static void resubscribe_with_last_seq_gets_exactly_the_missed_events(void **state)
{
    fixture *f = *state;
    char id[40];
    make_session(f, two_skills, 2, 0, id);
    sink *a = sink_new();
    char err[256];
    assert_int_equal(sess_subscribe(f->m, id, 0, &ops, a, err, sizeof err), SESS_OK);
    send_text(f, id, "one two three", NULL);
    assert_true(sink_wait(a, 1, is_status, &IDLE, 10000) > 0);
    uint64_t cut = a->ev[3]->seq; /* pretend the client saw up to here */

    sink *b = sink_new();
    assert_int_equal(sess_subscribe(f->m, id, cut, &ops, b, err, sizeof err), SESS_OK);
    /* b got every event of a after cut, byte for byte the same events. */
    size_t expect = 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->ev[i]->seq > cut) expect++;
    assert_int_equal(b->n, expect);
    for (size_t i = 0; i < b->n; i++) {
        assert_int_equal(b->ev[i]->seq, cut + 1 + i);
        assert_int_not_equal(b->ev[i]->kind_case, COMFYD__V1__SESSION_EVENT__KIND_SYNC_STATE);
    }
    /* Up to date: nothing to replay, no snapshot. */
    sink *c = sink_new();
    assert_int_equal(sess_subscribe(f->m, id, a->ev[a->n - 1]->seq, &ops, c, err, sizeof err),
                     SESS_OK);
    assert_int_equal(c->n, 0);
}

static void an_evicted_or_unknown_seq_gets_a_fresh_snapshot(void **state)
{
    fixture *f = *state;
    char id[40];
    make_session(f, two_skills, 2, 0, id);
    sink *a = sink_new();
    char err[256];
    assert_int_equal(sess_subscribe(f->m, id, 0, &ops, a, err, sizeof err), SESS_OK);
    /* The ring holds 256 events here; push well past it. */
    for (int i = 0; i < 4; i++) {
        size_t from = a->n;
        send_text(f, id,
                  "a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h i j k l m "
                  "n o p q r s t u v w x y z",
                  NULL);
        assert_true(sink_wait(a, from, is_status, &IDLE, 10000) > 0);
    }
    sink *b = sink_new();
    assert_int_equal(sess_subscribe(f->m, id, a->ev[1]->seq, &ops, b, err, sizeof err), SESS_OK);
    assert_int_equal(b->n, 1);
    assert_int_equal(b->ev[0]->kind_case, COMFYD__V1__SESSION_EVENT__KIND_SYNC_STATE);
    assert_string_equal(b->ev[0]->sync_state->reason, "gap");
    assert_int_equal(b->ev[0]->sync_state->n_history, 12);
    assert_int_equal(b->ev[0]->seq, a->ev[a->n - 1]->seq);
    /* A number never issued is a gap too. */
    sink *c = sink_new();
    assert_int_equal(sess_subscribe(f->m, id, 999999, &ops, c, err, sizeof err), SESS_OK);
    assert_int_equal(c->ev[0]->kind_case, COMFYD__V1__SESSION_EVENT__KIND_SYNC_STATE);
}

static void a_message_sent_while_busy_is_queued_and_runs_after(void **state)
{
    fixture *f = *state;
    char id[40];
    const char *one[] = {"graph-doctor"};
    make_session(f, one, 1, 20, id);
    sink *s = sink_new();
    char err[256];
    assert_int_equal(sess_subscribe(f->m, id, 0, &ops, s, err, sizeof err), SESS_OK);
    int queued = -1;
    uint64_t first = send_text(f, id, "first message with several words in it", &queued);
    assert_false(queued);
    assert_true(sink_wait(s, 1, is_status, &WORKING, 5000) > 0);
    uint64_t second = send_text(f, id, "second", &queued);
    assert_true(queued);
    assert_true(second > first);
    /* Two turns finish, in order. While the second waits the session is
     * working, also between the two turns: idle only once the queue is
     * empty. */
    long i1 = sink_wait(s, 1, is_detail, "turn finished", 10000);
    assert_true(i1 > 0);
    assert_int_equal(s->ev[i1]->status_update->status, WORKING);
    long i2 = sink_wait(s, (size_t)i1 + 1, is_status, &IDLE, 10000);
    assert_true(i2 > i1);
    assert_int_equal(sink_wait(s, 1, is_status, &IDLE, 1), i2);
    assert_int_equal(s->ev[i2]->status_update->queued_turns, 0);
    /* A status names no turn at the end of one; the replies tell the
     * order. */
    assert_int_equal(s->ev[i1]->status_update->turn_id, 0);
    uint64_t order[2] = {0, 0};
    size_t k = 0;
    for (long i = 1; i <= i2 && k < 2; i++) {
        if (s->ev[i]->kind_case == COMFYD__V1__SESSION_EVENT__KIND_MESSAGE_ADDED &&
            s->ev[i]->message_added->message->role == COMFYD__V1__ROLE__ROLE_ASSISTANT)
            order[k++] = s->ev[i]->message_added->message->turn_id;
    }
    assert_int_equal(order[0], first);
    assert_int_equal(order[1], second);
}

static void cancel_stops_the_turn_and_keeps_the_partial_reply(void **state)
{
    fixture *f = *state;
    char id[40];
    const char *one[] = {"graph-doctor"};
    make_session(f, one, 1, 1000, id);
    sink *s = sink_new();
    char err[256];
    assert_int_equal(sess_subscribe(f->m, id, 0, &ops, s, err, sizeof err), SESS_OK);
    send_text(f, id, "a slow reply with many many words to stream", NULL);
    int kind = COMFYD__V1__SESSION_EVENT__KIND_STREAM_DELTA;
    assert_true(sink_wait(s, 1, is_kind, &kind, 5000) > 0);
    int cancelled = 0;
    uint32_t dropped = 0;
    int64_t t0 = text_mono_ms();
    assert_int_equal(sess_cancel(f->m, id, 0, &cancelled, &dropped, err, sizeof err), SESS_OK);
    assert_true(cancelled);
    assert_true(sink_wait(s, 1, is_status, &IDLE, 2000) > 0);
    assert_true(text_mono_ms() - t0 < 500);
    store_message *rows;
    size_t n;
    int trunc;
    assert_int_equal(sess_history(f->m, id, 10, &rows, &n, &trunc), SESS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].state, STORE_MSG_CANCELLED);
    assert_int_equal(rows[1].state, STORE_MSG_CANCELLED);
    assert_true(strlen(rows[1].content) > 0);
    store_messages_free(rows, n);
}

static void provider_failure_sets_error_status_and_failed_message(void **state)
{
    fixture *f = *state;
    char id[40];
    const char *one[] = {"graph-doctor"};
    make_session(f, one, 1, 0, id);
    sink *s = sink_new();
    char err[256];
    assert_int_equal(sess_subscribe(f->m, id, 0, &ops, s, err, sizeof err), SESS_OK);
    send_text(f, id, "please [echo:fail]", NULL);
    assert_true(sink_wait(s, 1, is_status, &ERROR_ST, 5000) > 0);
    int kind = COMFYD__V1__SESSION_EVENT__KIND_ERROR;
    long e = sink_wait(s, 1, is_kind, &kind, 100);
    assert_true(e > 0);
    assert_string_equal(s->ev[e]->error->code, "provider_error");
    assert_string_equal(s->ev[e]->error->skill, "graph-doctor");
}

/* A message to a session without an active skill is answered, in the
 * conversation, with why nothing ran (a stored reply and an error event),
 * never left without an answer. */
static void a_turn_without_active_skills_gets_a_reply_saying_why(void **state)
{
    fixture *f = *state;
    char id[40];
    make_session(f, NULL, 0, 0, id);
    sink *s = sink_new();
    char err[256];
    assert_int_equal(sess_subscribe(f->m, id, 0, &ops, s, err, sizeof err), SESS_OK);
    uint64_t mid = send_text(f, id, "hello, anyone?", NULL);
    assert_true(sink_wait(s, 1, is_status, &ERROR_ST, 5000) > 0);
    int kind = COMFYD__V1__SESSION_EVENT__KIND_ERROR;
    long e = sink_wait(s, 1, is_kind, &kind, 100);
    assert_true(e > 0);
    assert_string_equal(s->ev[e]->error->code, "no_active_skills");
    assert_int_equal(s->ev[e]->error->turn_id, mid);
    assert_non_null(strstr(s->ev[e]->error->message, "workflow-builder"));
    /* The reply is stored, so every surface and a later snapshot show it. */
    store_message *hist = NULL;
    size_t n = 0;
    int trunc = 0;
    assert_int_equal(sess_history(f->m, id, 50, &hist, &n, &trunc), SESS_OK);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        const store_message *m = &hist[i];
        if (m->role == STORE_ROLE_ASSISTANT && m->turn_id == mid) {
            assert_int_equal(m->state, STORE_MSG_FAILED);
            assert_non_null(strstr(m->error, "no skill is active"));
            found++;
        }
    }
    assert_int_equal(found, 1);
    store_messages_free(hist, n);
}

static void a_subscriber_that_cannot_keep_up_is_ended_and_others_continue(void **state)
{
    fixture *f = *state;
    char id[40];
    make_session(f, two_skills, 2, 0, id);
    sink *slow = sink_new(), *ok = sink_new();
    char err[256];
    assert_int_equal(sess_subscribe(f->m, id, 0, &ops, slow, err, sizeof err), SESS_OK);
    assert_int_equal(sess_subscribe(f->m, id, 0, &ops, ok, err, sizeof err), SESS_OK);
    slow->refuse = 1;
    send_text(f, id, "hello there", NULL);
    assert_true(sink_wait(ok, 1, is_status, &IDLE, 10000) > 0);
    assert_true(slow->ended);
    assert_int_equal(slow->end_code, 8);
    assert_true(slow->released);
}

static void sessions_history_and_numbering_survive_a_restart(void **state)
{
    fixture *f = *state;
    char id[40];
    make_session(f, two_skills, 2, 0, id);
    sink *a = sink_new();
    char err[256];
    assert_int_equal(sess_subscribe(f->m, id, 0, &ops, a, err, sizeof err), SESS_OK);
    send_text(f, id, "remember me", NULL);
    assert_true(sink_wait(a, 1, is_status, &IDLE, 10000) > 0);
    uint64_t last = a->ev[a->n - 1]->seq;
    fx_stop(f);
    assert_true(a->ended); /* shutdown ends streams */
    assert_int_equal(a->end_code, 14);

    fx_start(f);
    sess_info info;
    assert_int_equal(sess_get(f->m, id, &info, err, sizeof err), SESS_OK);
    assert_int_equal(info.meta.n_skills, 2);
    assert_true(info.meta.api_key_set);
    assert_int_equal(info.meta.message_count, 3);
    assert_true(info.last_seq >= last);
    sess_info_clear(&info);
    /* The old seq is not replayable: snapshot; new events number above it. */
    sink *b = sink_new();
    assert_int_equal(sess_subscribe(f->m, id, last, &ops, b, err, sizeof err), SESS_OK);
    assert_int_equal(b->ev[0]->kind_case, COMFYD__V1__SESSION_EVENT__KIND_SYNC_STATE);
    assert_int_equal(b->ev[0]->sync_state->n_history, 3);
    send_text(f, id, "again", NULL);
    assert_true(sink_wait(b, 1, is_status, &IDLE, 10000) > 0);
    assert_true(b->ev[1]->seq > last);
}

static void bad_requests_name_the_field(void **state)
{
    fixture *f = *state;
    char id[40];
    make_session(f, two_skills, 2, 0, id);
    char err[256];
    Comfyd__V1__SendMessageRequest req = COMFYD__V1__SEND_MESSAGE_REQUEST__INIT;
    sess_send_result r;

    req.session_id = id;
    req.content = "";
    assert_int_equal(sess_send(f->m, &req, &r, err, sizeof err), SESS_EINVAL);
    assert_non_null(strstr(err, "content"));

    char *big = malloc(SESS_MAX_CONTENT + 2);
    memset(big, 'a', SESS_MAX_CONTENT + 1);
    big[SESS_MAX_CONTENT + 1] = 0;
    req.content = big;
    assert_int_equal(sess_send(f->m, &req, &r, err, sizeof err), SESS_EINVAL);
    assert_non_null(strstr(err, "too long"));
    free(big);

    req.content = "bad \xc3\x28 utf8";
    assert_int_equal(sess_send(f->m, &req, &r, err, sizeof err), SESS_EINVAL);
    assert_non_null(strstr(err, "UTF-8"));

    req.content = "hi";
    req.session_id = "not-a-uuid";
    assert_int_equal(sess_send(f->m, &req, &r, err, sizeof err), SESS_EINVAL);
    assert_non_null(strstr(err, "session_id"));
    req.session_id = "00000000-0000-4000-8000-000000000000";
    assert_int_equal(sess_send(f->m, &req, &r, err, sizeof err), SESS_NOT_FOUND);

    Comfyd__V1__ConfigureSessionRequest cr = COMFYD__V1__CONFIGURE_SESSION_REQUEST__INIT;
    Comfyd__V1__SkillList sl = COMFYD__V1__SKILL_LIST__INIT;
    char *many[SESS_MAX_SKILLS + 1];
    for (int i = 0; i <= SESS_MAX_SKILLS; i++)
        many[i] = "graph-doctor";
    sl.names = many;
    sl.n_names = SESS_MAX_SKILLS + 1;
    cr.session_id = id;
    cr.active_skills = &sl;
    sess_info info;
    assert_int_equal(sess_configure(f->m, &cr, &info, err, sizeof err), SESS_EINVAL);
    assert_non_null(strstr(err, "too many skills"));
    sl.n_names = 1;
    many[0] = "no-such-skill";
    assert_int_equal(sess_configure(f->m, &cr, &info, err, sizeof err), SESS_EINVAL);
    assert_non_null(strstr(err, "no-such-skill"));
    cr.active_skills = NULL;
    Google__Protobuf__StringValue prov = GOOGLE__PROTOBUF__STRING_VALUE__INIT;
    prov.value = "gpt-teleport";
    cr.provider = &prov;
    assert_int_equal(sess_configure(f->m, &cr, &info, err, sizeof err), SESS_EINVAL);
    assert_non_null(strstr(err, "provider"));
    cr.provider = NULL;
    Google__Protobuf__StringValue url = GOOGLE__PROTOBUF__STRING_VALUE__INIT;
    url.value = "ftp://example";
    cr.base_url = &url;
    assert_int_equal(sess_configure(f->m, &cr, &info, err, sizeof err), SESS_EINVAL);
    assert_non_null(strstr(err, "base_url"));
}

static void configure_changes_only_present_fields_and_key_is_write_only(void **state)
{
    fixture *f = *state;
    char id[40];
    make_session(f, two_skills, 2, 0, id);
    sink *s = sink_new();
    char err[256];
    assert_int_equal(sess_subscribe(f->m, id, 0, &ops, s, err, sizeof err), SESS_OK);
    Comfyd__V1__ConfigureSessionRequest cr = COMFYD__V1__CONFIGURE_SESSION_REQUEST__INIT;
    Google__Protobuf__StringValue model = GOOGLE__PROTOBUF__STRING_VALUE__INIT;
    Google__Protobuf__StringValue key = GOOGLE__PROTOBUF__STRING_VALUE__INIT;
    model.value = "llama3";
    key.value = "";
    cr.session_id = id;
    cr.model = &model;
    cr.api_key = &key;
    sess_info info;
    assert_int_equal(sess_configure(f->m, &cr, &info, err, sizeof err), SESS_OK);
    assert_string_equal(info.meta.model, "llama3");
    assert_int_equal(info.meta.n_skills, 2); /* untouched */
    assert_false(info.meta.api_key_set);
    sess_info_clear(&info);
    int kind = COMFYD__V1__SESSION_EVENT__KIND_CONFIG_UPDATED;
    long e = sink_wait(s, 1, is_kind, &kind, 1000);
    assert_true(e > 0);
    assert_string_equal(s->ev[e]->config_updated->config->model, "llama3");
}

static void delete_ends_subscribers_and_forgets_the_session(void **state)
{
    fixture *f = *state;
    char id[40];
    make_session(f, two_skills, 2, 0, id);
    sink *s = sink_new();
    char err[256];
    assert_int_equal(sess_subscribe(f->m, id, 0, &ops, s, err, sizeof err), SESS_OK);
    assert_int_equal(sess_delete(f->m, id, err, sizeof err), SESS_OK);
    assert_true(s->ended);
    assert_int_equal(s->end_code, 5);
    sess_info info;
    assert_int_equal(sess_get(f->m, id, &info, err, sizeof err), SESS_NOT_FOUND);
    assert_int_equal(sess_delete(f->m, id, err, sizeof err), SESS_NOT_FOUND);
}

/* Threads of this process now (/proc/self/task). */
static int thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* A session deleted while its turn runs leaves the map, and with it the
 * list of runners the shutdown joins: the stop must still wait for that
 * runner, which uses the manager until it ends (it once locked the freed
 * manager's mutex after the stop, an abort at SIGTERM). */
static void stop_waits_for_the_runner_of_a_deleted_session(void **state)
{
    fixture *f = *state;
    int before = thread_count();
    char id[40];
    make_session(f, two_skills, 2, 200, id);
    sink *s = sink_new();
    char err[256];
    assert_int_equal(sess_subscribe(f->m, id, 0, &ops, s, err, sizeof err), SESS_OK);
    send_text(f, id, "one two three four five six seven eight nine ten", NULL);
    int kind = COMFYD__V1__SESSION_EVENT__KIND_STREAM_DELTA;
    assert_true(sink_wait(s, 1, is_kind, &kind, 5000) > 0);
    assert_true(thread_count() > before); /* the runner and the skills' threads */
    assert_int_equal(sess_delete(f->m, id, err, sizeof err), SESS_OK);
    fx_stop(f);
    assert_int_equal(thread_count(), before);
    fx_start(f); /* the teardown stops it */
}

/* Seed 000's handshake: the client makes up the id and joins with it. */
static void a_client_chosen_id_creates_that_session_once(void **state)
{
    fixture *f = *state;
    const char *id = "0f8b8c52-7d1e-4c3a-9b2f-5e6d7c8b9a01";
    Comfyd__V1__CreateSessionRequest req = COMFYD__V1__CREATE_SESSION_REQUEST__INIT;
    req.session_id = (char *)id;
    sess_info info;
    char err[256] = "";
    assert_int_equal(sess_create(f->m, &req, &info, err, sizeof err), SESS_OK);
    assert_string_equal(info.meta.id, id);
    sess_info_clear(&info);
    sink *a = sink_new();
    assert_int_equal(sess_subscribe(f->m, id, 0, &ops, a, err, sizeof err), SESS_OK);
    assert_int_equal(a->ev[0]->kind_case, COMFYD__V1__SESSION_EVENT__KIND_SYNC_STATE);
    /* Taken: refused, the session unchanged. */
    req.title = "other";
    err[0] = 0;
    assert_int_equal(sess_create(f->m, &req, &info, err, sizeof err), SESS_EEXIST);
    assert_non_null(strstr(err, "already exists"));
    /* Not our id form: named, nothing created. */
    static const char *const bad[] = {
        "test_sess_001",
        "0F8B8C52-7D1E-4C3A-9B2F-5E6D7C8B9A01",
        "0f8b8c52-7d1e-4c3a-9b2f-5e6d7c8b9a011",
        "0f8b8c52_7d1e_4c3a_9b2f_5e6d7c8b9a01",
        "../../etc/passwd",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        req.session_id = (char *)bad[i];
        err[0] = 0;
        assert_int_equal(sess_create(f->m, &req, &info, err, sizeof err), SESS_EINVAL);
        assert_non_null(strstr(err, "session_id"));
    }
    /* It is an ordinary session: kept over a restart, deletable, and its
     * id is free again after a delete. */
    fx_stop(f);
    fx_start(f);
    assert_int_equal(sess_get(f->m, id, &info, err, sizeof err), SESS_OK);
    assert_string_equal(info.meta.title, "");
    sess_info_clear(&info);
    assert_int_equal(sess_delete(f->m, id, err, sizeof err), SESS_OK);
    req.session_id = (char *)id;
    assert_int_equal(sess_create(f->m, &req, &info, err, sizeof err), SESS_OK);
    sess_info_clear(&info);
}

static void list_pages_cover_every_session_once(void **state)
{
    fixture *f = *state;
    char ids[7][40];
    for (int i = 0; i < 7; i++)
        make_session(f, two_skills, 1, 0, ids[i]);
    char *token = NULL;
    int seen = 0, pages = 0;
    char err[256];
    do {
        sess_info *list;
        size_t n;
        char *next;
        assert_int_equal(
            sess_list(f->m, token ? token : "", 3, 0, &list, &n, &next, err, sizeof err), SESS_OK);
        seen += (int)n;
        pages++;
        sess_infos_free(list, n);
        free(token);
        token = next;
    } while (token);
    assert_int_equal(seen, 7);
    assert_int_equal(pages, 3);
    sess_info *list;
    size_t n;
    char *next;
    assert_int_equal(sess_list(f->m, "garbage", 3, 0, &list, &n, &next, err, sizeof err),
                     SESS_EINVAL);
}

static void queued_turns_survive_a_stop_and_run_after_start(void **state)
{
    fixture *f = *state;
    char id[40];
    const char *one[] = {"graph-doctor"};
    make_session(f, one, 1, 200, id);
    sink *s = sink_new();
    char err[256];
    assert_int_equal(sess_subscribe(f->m, id, 0, &ops, s, err, sizeof err), SESS_OK);
    int queued = 0;
    uint64_t first = send_text(f, id, "a slow first turn with words", &queued);
    assert_true(sink_wait(s, 1, is_status, &WORKING, 5000) > 0);
    uint64_t second = send_text(f, id, "the second turn", &queued);
    assert_true(queued);
    fx_stop(f); /* the first turn is interrupted, the second stays queued */

    /* Restart without starting: nothing runs yet. */
    assert_int_equal(store_open(&f->st, f->db), STORE_OK);
    skills_root root = {COMFYD_SOURCE_DIR "/skills", SKILL_SOURCE_BUILTIN};
    assert_int_equal(skills_load(&f->reg, &root, 1), SKILLS_OK);
    sess_mgr_opts o = {.st = f->st, .skills = f->reg, .default_delay_ms = 0, .ring_events = 256};
    assert_int_equal(sess_mgr_create(&f->m, &o), SESS_OK);
    store_message *rows;
    size_t n;
    int trunc;
    assert_int_equal(sess_history(f->m, id, 100, &rows, &n, &trunc), SESS_OK);
    int saw_first = 0, saw_second = 0;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].id == first && rows[i].state == STORE_MSG_INTERRUPTED) saw_first = 1;
        if (rows[i].id == second && rows[i].state == STORE_MSG_QUEUED) saw_second = 1;
    }
    store_messages_free(rows, n);
    assert_true(saw_first);
    assert_true(saw_second);

    sink *b = sink_new();
    assert_int_equal(sess_subscribe(f->m, id, 0, &ops, b, err, sizeof err), SESS_OK);
    sess_mgr_start(f->m);
    assert_true(sink_wait(b, 1, is_status, &IDLE, 10000) > 0);
    assert_int_equal(sess_history(f->m, id, 100, &rows, &n, &trunc), SESS_OK);
    assert_int_equal(rows[n - 1].turn_id, second);
    assert_int_equal(rows[n - 1].state, STORE_MSG_DONE);
    store_messages_free(rows, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            two_skills_stream_concurrently_and_replies_are_stored_in_name_order, setup, teardown),
        cmocka_unit_test_setup_teardown(resubscribe_with_last_seq_gets_exactly_the_missed_events,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(an_evicted_or_unknown_seq_gets_a_fresh_snapshot, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_message_sent_while_busy_is_queued_and_runs_after, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(cancel_stops_the_turn_and_keeps_the_partial_reply, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(provider_failure_sets_error_status_and_failed_message,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_turn_without_active_skills_gets_a_reply_saying_why, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            a_subscriber_that_cannot_keep_up_is_ended_and_others_continue, setup, teardown),
        cmocka_unit_test_setup_teardown(sessions_history_and_numbering_survive_a_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_requests_name_the_field, setup, teardown),
        cmocka_unit_test_setup_teardown(configure_changes_only_present_fields_and_key_is_write_only,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(delete_ends_subscribers_and_forgets_the_session, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_client_chosen_id_creates_that_session_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(list_pages_cover_every_session_once, setup, teardown),
        cmocka_unit_test_setup_teardown(stop_waits_for_the_runner_of_a_deleted_session, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(queued_turns_survive_a_stop_and_run_after_start, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the offline echo provider: streaming, the reply it returns,
 * pacing, cancel, failure marker and a refusing sink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "provider_echo.h"
#include "providers.h"
#include "text.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What a sink received. */
typedef struct rec {
    char text[64 * 1024];
    size_t len;
    size_t n_deltas;
    int bad_token;    /* a delta that is not one word plus its whitespace */
    size_t refuse_at; /* refuse the n-th delta (1-based); 0: never */
    int usage_calls;
    uint64_t prompt_tokens, completion_tokens;
    int logs;
} rec;

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int on_delta(void *ud, const char *text, size_t len)
{
    rec *r = ud;
    r->n_deltas++;
    if (r->refuse_at && r->n_deltas >= r->refuse_at) return 1;
    /* A token: non-whitespace, then only whitespace. */
    size_t i = 0;
    while (i < len && !is_ws(text[i]))
        i++;
    if (i == 0) r->bad_token = 1;
    while (i < len && is_ws(text[i]))
        i++;
    if (i != len || len == 0) r->bad_token = 1;
    assert_true(r->len + len < sizeof r->text);
    memcpy(r->text + r->len, text, len);
    r->len += len;
    r->text[r->len] = 0;
    return 0;
}

static void on_log(void *ud, int level, const char *message)
{
    rec *r = ud;
    (void)level;
    assert_non_null(message);
    r->logs++;
}

static prov_sink sink_for(rec *r)
{
    prov_sink s = {.ud = r, .delta = on_delta, .log = on_log};
    return s;
}

/* One model call: a system message with the skill's instructions, then the
 * user's text. */
typedef struct tcase {
    prov_msg msgs[8];
    prov_request req;
} tcase;

static void turn_for(tcase *t, const char *skill, const char *user, atomic_int *cancel)
{
    memset(t, 0, sizeof *t);
    t->msgs[0] = (prov_msg){.role = PROV_ROLE_SYSTEM, .content = "Be helpful here."};
    t->msgs[1] = (prov_msg){.role = PROV_ROLE_USER, .content = user};
    t->req = (prov_request){
        .skill_name = skill,
        .messages = t->msgs,
        .n_messages = 2,
        .model = "",
        .base_url = "",
        .api_key = NULL,
        .token_delay_ms = 0,
        .cancel = cancel,
    };
}

static void set_user(tcase *t, const char *user)
{
    t->msgs[t->req.n_messages - 1].content = user;
}

/* Runs the call; the reply's usage lands in r, and its content must be
 * exactly what was streamed. */
static int run_with(tcase *t, rec *r, const prov_sink *s, char *err, size_t errlen)
{
    const provider *p = provider_echo();
    prov_reply reply;
    memset(&reply, 0x5a, sizeof reply); /* the provider must zero it */
    int rc = p->run(p, &t->req, s, &reply, err, errlen);
    if (reply.usage_reported) {
        r->usage_calls++;
        r->prompt_tokens = reply.prompt_tokens;
        r->completion_tokens = reply.completion_tokens;
    }
    assert_int_equal(reply.n_tool_calls, 0);
    if (r->refuse_at == 0) {
        assert_int_equal(reply.content_len, r->len);
        if (r->len) assert_memory_equal(reply.content, r->text, r->len);
    }
    if (rc == PROV_OK) assert_string_equal(reply.finish_reason, "stop");
    prov_reply_clear(&reply);
    return rc;
}

static int run(tcase *t, rec *r, char *err, size_t errlen)
{
    prov_sink s = sink_for(r);
    return run_with(t, r, &s, err, errlen);
}

static void echo_is_found_by_name(void **state)
{
    (void)state;
    assert_ptr_equal(provider_find("echo"), provider_echo());
    assert_string_equal(provider_echo()->name, "echo");
    assert_null(provider_find("no-such-provider"));
}

static void deltas_concatenate_to_the_full_reply(void **state)
{
    (void)state;
    atomic_int cancel = 0;
    tcase t;
    turn_for(&t, "workflow-builder", "Build me  a\tSDXL workflow\n please", &cancel);
    rec *r = calloc(1, sizeof *r);
    char err[128];
    assert_int_equal(run(&t, r, err, sizeof err), PROV_OK);
    assert_string_equal(r->text, "[echo provider \xc2\xb7 skill workflow-builder] You said: Build "
                                 "me  a\tSDXL workflow\n please");
    assert_false(r->bad_token);
    /* 5 head words, "You said:", 6 words of input. */
    assert_int_equal(r->n_deltas, 5 + 2 + 6);
    assert_int_equal(r->usage_calls, 1);
    assert_int_equal(r->completion_tokens, r->n_deltas);
    assert_int_equal(r->prompt_tokens, 3 + 6); /* instructions + user text */
    assert_int_equal(r->logs, 1);
    free(r);
}

static void reply_depends_on_the_skill(void **state)
{
    (void)state;
    atomic_int cancel = 0;
    rec *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    char err[128];
    tcase t;
    turn_for(&t, "prompt-writer", "a red fox", &cancel);
    assert_int_equal(run(&t, a, err, sizeof err), PROV_OK);
    t.req.skill_name = "graph-doctor";
    assert_int_equal(run(&t, b, err, sizeof err), PROV_OK);
    assert_string_not_equal(a->text, b->text);
    assert_non_null(strstr(a->text, "skill prompt-writer]"));
    assert_non_null(strstr(b->text, "skill graph-doctor]"));
    /* Without a skill name it still says what it is. */
    rec *c = calloc(1, sizeof *c);
    t.req.skill_name = "";
    assert_int_equal(run(&t, c, err, sizeof err), PROV_OK);
    assert_string_equal(c->text, "[echo provider] You said: a red fox");
    free(a);
    free(b);
    free(c);
}

/* The images of the message answered are listed, in order, so that
 * offline tests can see what reached the model. */
static void images_received_are_listed(void **state)
{
    (void)state;
    atomic_int cancel = 0;
    tcase t;
    turn_for(&t, "x", "look", &cancel);
    static const unsigned char a[] = {1, 2, 3}, b[] = {4, 5};
    prov_image imgs[] = {{.mime = "image/png", .data = a, .len = 3, .label = "cat.png (4x3)"},
                         {.mime = "image/gif", .data = b, .len = 2, .label = NULL}};
    t.msgs[1].images = imgs;
    t.msgs[1].n_images = 2;
    rec *r = calloc(1, sizeof *r);
    char err[128];
    assert_int_equal(run(&t, r, err, sizeof err), PROV_OK);
    assert_string_equal(r->text,
                        "[echo provider \xc2\xb7 skill x] You said: look [2 images received: "
                        "cat.png (4x3) (image/png, 3 bytes); image (image/gif, 2 bytes)]");
    free(r);
}

static void empty_message_says_so(void **state)
{
    (void)state;
    atomic_int cancel = 0;
    tcase t;
    turn_for(&t, "x", "", &cancel);
    rec *r = calloc(1, sizeof *r);
    char err[128];
    assert_int_equal(run(&t, r, err, sizeof err), PROV_OK);
    assert_string_equal(r->text, "[echo provider \xc2\xb7 skill x] You said nothing.");
    free(r);
}

static void history_is_counted_in_reply_and_prompt_tokens(void **state)
{
    (void)state;
    atomic_int cancel = 0;
    tcase t;
    turn_for(&t, "x", "third", &cancel);
    t.msgs[0].content = "You are comfyd.\n\nBe helpful here.";
    t.msgs[1] = (prov_msg){.role = PROV_ROLE_USER, .content = "first question here"};
    t.msgs[2] = (prov_msg){.role = PROV_ROLE_ASSISTANT, .skill = "x", .content = "an answer"};
    t.msgs[3] = (prov_msg){.role = PROV_ROLE_USER, .content = "second"};
    t.msgs[4] = (prov_msg){.role = PROV_ROLE_USER, .content = "third"};
    t.req.n_messages = 5;
    rec *r = calloc(1, sizeof *r);
    char err[128];
    assert_int_equal(run(&t, r, err, sizeof err), PROV_OK);
    assert_non_null(strstr(r->text, "You said: third (2 earlier messages in this conversation)"));
    assert_int_equal(r->prompt_tokens, 3 + 3 + (3 + 2 + 1) + 1);
    free(r);
}

static void long_message_is_cut_at_a_character_boundary(void **state)
{
    (void)state;
    atomic_int cancel = 0;
    size_t n = PROVIDER_ECHO_MAX_ECHO + 100;
    char *msg = malloc(n + 1);
    assert_non_null(msg);
    /* Two-byte characters placed so the limit falls inside one. */
    msg[0] = 'x';
    for (size_t i = 1; i + 1 < n; i += 2) {
        msg[i] = '\xC3';
        msg[i + 1] = '\xA9';
    }
    msg[n - 1] = 'y';
    msg[n] = 0;
    tcase t;
    turn_for(&t, "x", msg, &cancel);
    rec *r = calloc(1, sizeof *r);
    char err[128];
    assert_int_equal(run(&t, r, err, sizeof err), PROV_OK);
    assert_true(text_utf8_valid(r->text, r->len));
    const char *tail = " [...truncated]";
    assert_true(r->len > strlen(tail));
    assert_string_equal(r->text + r->len - strlen(tail), tail);
    assert_true(r->len < PROVIDER_ECHO_MAX_ECHO + 100);
    free(r);
    free(msg);
}

static void fail_marker_fails_with_message(void **state)
{
    (void)state;
    atomic_int cancel = 0;
    tcase t;
    turn_for(&t, "x", "please [echo:fail] now", &cancel);
    rec *r = calloc(1, sizeof *r);
    char err[128] = "";
    assert_int_equal(run(&t, r, err, sizeof err), PROV_FAILED);
    assert_string_equal(err, "echo provider: failure requested by the message");
    assert_int_equal(r->n_deltas, 0);
    /* Only the exact marker counts. */
    set_user(&t, "please [echo:FAIL] now");
    assert_int_equal(run(&t, r, err, sizeof err), PROV_OK);
    free(r);
}

static void refusing_sink_aborts(void **state)
{
    (void)state;
    atomic_int cancel = 0;
    tcase t;
    turn_for(&t, "x", "one two three four five", &cancel);
    rec *r = calloc(1, sizeof *r);
    r->refuse_at = 3;
    char err[128];
    assert_int_equal(run(&t, r, err, sizeof err), PROV_ABORTED);
    assert_int_equal(r->n_deltas, 3); /* nothing after the refusal */
    /* The two tokens taken count as produced. */
    assert_int_equal(r->usage_calls, 1);
    assert_int_equal(r->completion_tokens, 2);
    free(r);
}

static void cancel_before_start_streams_nothing(void **state)
{
    (void)state;
    atomic_int cancel = 1;
    tcase t;
    turn_for(&t, "x", "hello", &cancel);
    rec *r = calloc(1, sizeof *r);
    char err[128];
    assert_int_equal(run(&t, r, err, sizeof err), PROV_CANCELLED);
    assert_int_equal(r->n_deltas, 0);
    free(r);
}

static void token_delay_paces_the_deltas(void **state)
{
    (void)state;
    atomic_int cancel = 0;
    tcase t;
    turn_for(&t, "", "a b", &cancel); /* 6 tokens: 5 waits */
    t.req.token_delay_ms = 20;
    rec *r = calloc(1, sizeof *r);
    char err[128];
    int64_t t0 = text_mono_ms();
    assert_int_equal(run(&t, r, err, sizeof err), PROV_OK);
    int64_t took = text_mono_ms() - t0;
    assert_int_equal(r->n_deltas, 6);
    assert_true(took >= 5 * 20);
    assert_true(took < 5 * 20 + 500);
    free(r);
}

typedef struct canceller {
    atomic_int *flag;
    int64_t at_ms;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *c = arg;
    struct timespec ts = {0, 150 * 1000000L};
    nanosleep(&ts, NULL);
    c->at_ms = text_mono_ms();
    atomic_store(c->flag, 1);
    return NULL;
}

static void cancel_stops_a_slow_reply_within_50_ms(void **state)
{
    (void)state;
    atomic_int cancel = 0;
    tcase t;
    turn_for(&t, "x", "this reply would take many seconds", &cancel);
    t.req.token_delay_ms = 1000;
    rec *r = calloc(1, sizeof *r);
    char err[128];
    canceller c = {.flag = &cancel};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cancel_later, &c), 0);
    int rc = run(&t, r, err, sizeof err);
    int64_t done = text_mono_ms();
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(rc, PROV_CANCELLED);
    assert_int_equal(r->n_deltas, 1); /* the first token goes out at once */
    assert_true(done - c.at_ms < 50);
    /* Usage covers what was streamed. */
    assert_int_equal(r->usage_calls, 1);
    assert_int_equal(r->completion_tokens, 1);
    free(r);
}

static void sink_without_log_or_usage_works(void **state)
{
    (void)state;
    atomic_int cancel = 0;
    tcase t;
    turn_for(&t, "x", "hi", &cancel);
    t.req.cancel = NULL; /* no flag: never cancelled */
    rec *r = calloc(1, sizeof *r);
    prov_sink s = {.ud = r, .delta = on_delta};
    char err[128];
    assert_int_equal(run_with(&t, r, &s, err, sizeof err), PROV_OK);
    assert_string_equal(r->text, "[echo provider \xc2\xb7 skill x] You said: hi");
    free(r);
}

static void answers_tool_offers_with_text_only(void **state)
{
    (void)state;
    atomic_int cancel = 0;
    tcase t;
    turn_for(&t, "x", "build it", &cancel);
    prov_tool tools[] = {{"get_graph", "Returns the canvas.", "{\"type\":\"object\"}"}};
    t.req.tools = tools;
    t.req.n_tools = 1;
    /* A tool result after the user's text: the user's text is still what
     * is said back. */
    prov_tool_call tc = {.id = "call_1", .name = "get_graph", .arguments_json = "{}"};
    t.msgs[2] = (prov_msg){
        .role = PROV_ROLE_ASSISTANT, .content = "", .tool_calls = &tc, .n_tool_calls = 1};
    t.msgs[3] = (prov_msg){.role = PROV_ROLE_TOOL, .content = "{}", .tool_call_id = "call_1"};
    t.req.n_messages = 4;
    rec *r = calloc(1, sizeof *r);
    char err[128];
    assert_int_equal(run(&t, r, err, sizeof err), PROV_OK);
    assert_string_equal(r->text, "[echo provider \xc2\xb7 skill x] You said: build it");
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(echo_is_found_by_name),
        cmocka_unit_test(deltas_concatenate_to_the_full_reply),
        cmocka_unit_test(reply_depends_on_the_skill),
        cmocka_unit_test(empty_message_says_so),
        cmocka_unit_test(images_received_are_listed),
        cmocka_unit_test(history_is_counted_in_reply_and_prompt_tokens),
        cmocka_unit_test(long_message_is_cut_at_a_character_boundary),
        cmocka_unit_test(fail_marker_fails_with_message),
        cmocka_unit_test(refusing_sink_aborts),
        cmocka_unit_test(cancel_before_start_streams_nothing),
        cmocka_unit_test(token_delay_paces_the_deltas),
        cmocka_unit_test(cancel_stops_a_slow_reply_within_50_ms),
        cmocka_unit_test(sink_without_log_or_usage_works),
        cmocka_unit_test(answers_tool_offers_with_text_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

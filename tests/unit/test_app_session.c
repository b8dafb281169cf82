/* Unit tests of the session socket's translation: seed 000's client events
 * -> gRPC requests, and session events -> the seed's JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app.h"

#define S(x) x, strlen(x)

static char *event_json(Comfyd__V1__SessionEvent *ev)
{
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(app_session_event_json(ev, &out, &len), APP_OK);
    assert_int_equal(strlen(out), len);
    return out;
}

static void stream_delta_has_the_seed_shape(void **state)
{
    (void)state;
    Comfyd__V1__StreamDelta d = COMFYD__V1__STREAM_DELTA__INIT;
    d.turn_id = 3;
    d.skill = "coder";
    d.delta = " import";
    d.index = 12;
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    ev.seq = 41;
    ev.time_ms = 1000;
    ev.session_id = "s-1";
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_STREAM_DELTA;
    ev.stream_delta = &d;
    char *out = event_json(&ev);
    assert_string_equal(out,
                        "{\"event\":\"stream_delta\",\"seq\":41,\"time_ms\":1000,\"data\":{"
                        "\"session_id\":\"s-1\",\"turn_id\":3,\"skill\":\"coder\",\"delta\":\" "
                        "import\",\"index\":12}}");
    free(out);
    /* The first delta has index 0: defaults are written. */
    d.index = 0;
    out = event_json(&ev);
    assert_non_null(strstr(out, "\"index\":0}"));
    free(out);
}

static void status_and_level_use_the_seed_words(void **state)
{
    (void)state;
    Comfyd__V1__StatusUpdate su = COMFYD__V1__STATUS_UPDATE__INIT;
    su.status = COMFYD__V1__SESSION_STATUS__SESSION_STATUS_WORKING;
    su.detail = "running 2 skills";
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    ev.seq = 2;
    ev.session_id = "s";
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_STATUS_UPDATE;
    ev.status_update = &su;
    char *out = event_json(&ev);
    assert_string_equal(out, "{\"event\":\"status_update\",\"seq\":2,\"time_ms\":0,\"data\":{"
                             "\"session_id\":\"s\",\"status\":\"working\",\"turn_id\":0,"
                             "\"queued_turns\":0,\"detail\":\"running 2 skills\",\"skill\":\"\"}}");
    free(out);

    Comfyd__V1__DebugLog dl = COMFYD__V1__DEBUG_LOG__INIT;
    dl.level = COMFYD__V1__LOG_LEVEL__LOG_LEVEL_INFO;
    dl.module = "SkillExecutor";
    dl.message = "Calling";
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_DEBUG_LOG;
    ev.debug_log = &dl;
    out = event_json(&ev);
    assert_non_null(strstr(out, "\"event\":\"debug_log\""));
    assert_non_null(strstr(out, "\"level\":\"INFO\",\"module\":\"SkillExecutor\",\"message\":"
                                "\"Calling\""));
    free(out);

    Comfyd__V1__ErrorEvent ee = COMFYD__V1__ERROR_EVENT__INIT;
    ee.code = "provider_error";
    ee.message = "boom";
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_ERROR;
    ev.error = &ee;
    out = event_json(&ev);
    assert_non_null(strstr(out, "{\"event\":\"error\",\"seq\":2,"));
    assert_non_null(strstr(out, "\"code\":\"provider_error\",\"message\":\"boom\""));
    free(out);
}

static void sync_state_carries_history_and_status(void **state)
{
    (void)state;
    Comfyd__V1__Session sess = COMFYD__V1__SESSION__INIT;
    sess.id = "s";
    sess.status = COMFYD__V1__SESSION_STATUS__SESSION_STATUS_IDLE;
    Comfyd__V1__ChatMessage m = COMFYD__V1__CHAT_MESSAGE__INIT;
    m.id = 1;
    m.role = COMFYD__V1__ROLE__ROLE_USER;
    m.content = "ROLE_USER is just text";
    m.state = COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_DONE;
    Comfyd__V1__ChatMessage *hist[] = {&m};
    Comfyd__V1__SyncState ss = COMFYD__V1__SYNC_STATE__INIT;
    ss.session = &sess;
    ss.n_history = 1;
    ss.history = hist;
    ss.reason = "fresh";
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    ev.seq = 9;
    ev.session_id = "s";
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_SYNC_STATE;
    ev.sync_state = &ss;
    char *out = event_json(&ev);
    assert_non_null(strstr(out, "\"role\":\"user\""));
    assert_non_null(strstr(out, "\"state\":\"done\""));
    /* Only enum fields are rewritten, never text. */
    assert_non_null(strstr(out, "\"content\":\"ROLE_USER is just text\""));
    assert_non_null(strstr(out, "\"partials\":[],\"reason\":\"fresh\",\"status\":\"idle\"}}"));
    free(out);
}

static void join_maps_last_seq_and_ignores_extras(void **state)
{
    (void)state;
    app_session_req r;
    char err[512];
    assert_int_equal(app_session_parse(S("{\"event\":\"join\",\"request_id\":\"j\",\"data\":{"
                                         "\"session_id\":\"0f8b8c52-7d1e-4c3a-9b2f-5e6d7c8b9a01\","
                                         "\"client_version\":\"1.0.0\",\"last_seq\":17}}"),
                                       &r, err, sizeof err),
                     APP_OK);
    assert_int_equal(r.kind, APP_SESS_JOIN);
    assert_string_equal(r.request_id, "\"j\"");
    const Comfyd__V1__SubscribeRequest *s = (const Comfyd__V1__SubscribeRequest *)r.msg;
    assert_string_equal(s->session_id, "0f8b8c52-7d1e-4c3a-9b2f-5e6d7c8b9a01");
    assert_int_equal(s->after_seq, 17);
    assert_false(r.token_events);
    assert_null(app_session_answer_event(r.kind));
    assert_string_equal(app_session_method(r.kind), "Subscribe");
    app_session_req_clear(&r);
}

/* Seed 000 spells join "connect" in its event table (with stream_token for
 * the deltas) and the configuration "config_update" in its Vue code. */
static void the_seeds_other_spellings_are_aliases(void **state)
{
    (void)state;
    app_session_req r;
    char err[512];
    assert_int_equal(app_session_parse(S("{\"event\":\"connect\",\"data\":{\"session_id\":"
                                         "\"0F8B8C52-7D1E-4C3A-9B2F-5E6D7C8B9A01\"}}"),
                                       &r, err, sizeof err),
                     APP_OK);
    assert_int_equal(r.kind, APP_SESS_JOIN);
    assert_true(r.token_events);
    /* UUIDs are case-insensitive; comfyd's are lower-case. */
    assert_string_equal(((Comfyd__V1__SubscribeRequest *)r.msg)->session_id,
                        "0f8b8c52-7d1e-4c3a-9b2f-5e6d7c8b9a01");
    app_session_req_clear(&r);
    assert_int_equal(app_session_parse(S("{\"event\":\"config_update\",\"data\":{"
                                         "\"session_id\":\"s\",\"api_key\":\"sk-1\"}}"),
                                       &r, err, sizeof err),
                     APP_OK);
    assert_int_equal(r.kind, APP_SESS_CONFIGURE);
    const Comfyd__V1__ConfigureSessionRequest *c =
        (const Comfyd__V1__ConfigureSessionRequest *)r.msg;
    assert_string_equal(c->api_key->value, "sk-1");
    assert_null(c->model);
    assert_string_equal(app_session_answer_event(r.kind), "configured");
    app_session_req_clear(&r);
    assert_int_equal(app_session_parse(S("{\"event\":\"chat_message\",\"data\":{"
                                         "\"content\":\"hi\"}}"),
                                       &r, err, sizeof err),
                     APP_OK);
    assert_int_equal(r.kind, APP_SESS_USER_MESSAGE);
    /* No session_id: left empty for the socket's joined session. */
    assert_string_equal(((Comfyd__V1__SendMessageRequest *)r.msg)->session_id, "");
    app_session_req_clear(&r);
}

static void join_needs_a_uuid_and_says_so(void **state)
{
    (void)state;
    app_session_req r;
    char err[512];
    static const char *const bad[] = {
        "{\"event\":\"join\",\"request_id\":1,\"data\":{\"session_id\":\"test_sess_001\"}}",
        "{\"event\":\"connect\",\"data\":{\"session_id\":\"0f8b8c52-7d1e-4c3a-9b2f-5e6d7c8b9a0\"}}",
        "{\"event\":\"join\",\"data\":{\"session_id\":\"0f8b8c52x7d1e-4c3a-9b2f-5e6d7c8b9a01\"}}",
        "{\"event\":\"join\",\"data\":{\"session_id\":\"0g8b8c52-7d1e-4c3a-9b2f-5e6d7c8b9a01\"}}",
        "{\"event\":\"join\",\"data\":{\"session_id\":\"../../../etc/passwd\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(app_session_parse(S(bad[i]), &r, err, sizeof err), APP_E_INPUT);
        assert_non_null(strstr(err, "session_id: '"));
        assert_non_null(strstr(err, "use a UUID"));
        app_session_req_clear(&r);
    }
    /* Long ids are cut in the message, on a character boundary. */
    char big[400];
    snprintf(big, sizeof big, "{\"event\":\"join\",\"data\":{\"session_id\":\"%0200d\xc3\xa9\"}}",
             7);
    assert_int_equal(app_session_parse(S(big), &r, err, sizeof err), APP_E_INPUT);
    assert_non_null(strstr(err, "'... is not a session id"));
    assert_true(strlen(err) < 300);
    app_session_req_clear(&r);
    assert_int_equal(app_session_parse(S("{\"event\":\"join\",\"data\":{}}"), &r, err, sizeof err),
                     APP_E_INPUT);
    assert_string_equal(err, "data: missing field: session_id");
    app_session_req_clear(&r);
}

static void connect_sockets_get_stream_token(void **state)
{
    (void)state;
    Comfyd__V1__StreamDelta d = COMFYD__V1__STREAM_DELTA__INIT;
    d.turn_id = 3;
    d.skill = "coder";
    d.delta = "Hel";
    d.index = 0;
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    ev.seq = 5;
    ev.time_ms = 1000;
    ev.session_id = "s-1";
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_STREAM_DELTA;
    ev.stream_delta = &d;
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(app_session_event_json_as(&ev, 1, &out, &len), APP_OK);
    assert_string_equal(out, "{\"event\":\"stream_token\",\"seq\":5,\"time_ms\":1000,\"data\":{"
                             "\"session_id\":\"s-1\",\"turn_id\":3,\"skill\":\"coder\","
                             "\"delta\":\"Hel\",\"index\":0,\"token\":\"Hel\"}}");
    free(out);
    /* Other events keep their names. */
    Comfyd__V1__StatusUpdate st = COMFYD__V1__STATUS_UPDATE__INIT;
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_STATUS_UPDATE;
    ev.status_update = &st;
    assert_int_equal(app_session_event_json_as(&ev, 1, &out, &len), APP_OK);
    assert_non_null(strstr(out, "\"event\":\"status_update\""));
    free(out);
}

static void configure_takes_the_seed_skill_array(void **state)
{
    (void)state;
    app_session_req r;
    char err[512];
    assert_int_equal(app_session_parse(S("{\"event\":\"configure\",\"data\":{\"session_id\":\"s\","
                                         "\"api_key\":\"sk-1\",\"active_skills\":[\"a\",\"b\"],"
                                         "\"system_prompt\":\"p\"}}"),
                                       &r, err, sizeof err),
                     APP_OK);
    const Comfyd__V1__ConfigureSessionRequest *c =
        (const Comfyd__V1__ConfigureSessionRequest *)r.msg;
    assert_string_equal(c->api_key->value, "sk-1");
    assert_string_equal(c->system_prompt->value, "p");
    assert_null(c->model); /* absent stays absent */
    assert_int_equal(c->active_skills->n_names, 2);
    assert_string_equal(c->active_skills->names[1], "b");
    assert_string_equal(app_session_answer_event(r.kind), "configured");
    app_session_req_clear(&r);

    /* update_skills changes only the skills. */
    assert_int_equal(app_session_parse(S("{\"event\":\"update_skills\",\"data\":{\"session_id\":"
                                         "\"s\",\"skills\":[],\"model\":\"m\"}}"),
                                       &r, err, sizeof err),
                     APP_OK);
    c = (const Comfyd__V1__ConfigureSessionRequest *)r.msg;
    assert_string_equal(c->session_id, "s");
    assert_non_null(c->active_skills);
    assert_int_equal(c->active_skills->n_names, 0);
    assert_null(c->model);
    app_session_req_clear(&r);
    assert_int_equal(app_session_parse(S("{\"event\":\"update_skills\",\"data\":{\"session_id\":"
                                         "\"s\"}}"),
                                       &r, err, sizeof err),
                     APP_E_INPUT);
    app_session_req_clear(&r);
}

static void messages_and_skill_execute_become_send_message(void **state)
{
    (void)state;
    app_session_req r;
    char err[512];
    assert_int_equal(app_session_parse(S("{\"event\":\"user_message\",\"data\":{\"session_id\":"
                                         "\"s\",\"content\":\"hi\",\"attachments\":[],"
                                         "\"client_message_id\":\"m1\"}}"),
                                       &r, err, sizeof err),
                     APP_OK);
    const Comfyd__V1__SendMessageRequest *m = (const Comfyd__V1__SendMessageRequest *)r.msg;
    assert_string_equal(m->content, "hi");
    assert_string_equal(m->client_message_id, "m1");
    assert_int_equal(m->n_skills, 0);
    app_session_req_clear(&r);

    assert_int_equal(app_session_parse(S("{\"event\":\"skill_execute\",\"data\":{\"session_id\":"
                                         "\"s\",\"prompt\":\"do\",\"skill_id\":\"coder\"}}"),
                                       &r, err, sizeof err),
                     APP_OK);
    m = (const Comfyd__V1__SendMessageRequest *)r.msg;
    assert_string_equal(m->content, "do");
    assert_int_equal(m->n_skills, 1);
    assert_string_equal(m->skills[0], "coder");
    assert_string_equal(app_session_answer_event(r.kind), "ack");
    app_session_req_clear(&r);

    assert_int_equal(app_session_parse(S("{\"event\":\"cancel\",\"request_id\":5,\"data\":{"
                                         "\"session_id\":\"s\",\"clear_queue\":true}}"),
                                       &r, err, sizeof err),
                     APP_OK);
    assert_true(((Comfyd__V1__CancelRequest *)r.msg)->clear_queue);
    assert_string_equal(r.request_id, "5");
    app_session_req_clear(&r);

    assert_int_equal(
        app_session_parse(S("{\"event\":\"list_skills\",\"data\":{\"x\":1}}"), &r, err, sizeof err),
        APP_OK);
    assert_string_equal(app_session_method(r.kind), "ListSkills");
    app_session_req_clear(&r);
}

static void bad_events_are_refused_with_the_request_id(void **state)
{
    (void)state;
    app_session_req r;
    char err[512];
    assert_int_equal(
        app_session_parse(S("{\"event\":\"dance\",\"request_id\":\"q\"}"), &r, err, sizeof err),
        APP_E_INPUT);
    assert_string_equal(r.request_id, "\"q\"");
    assert_non_null(strstr(err, "unknown event 'dance'"));
    assert_non_null(strstr(err, "skill_execute"));
    app_session_req_clear(&r);
    assert_int_equal(app_session_parse(S("{\"data\":{}}"), &r, err, sizeof err), APP_E_INPUT);
    assert_string_equal(err, "missing field: event");
    assert_int_equal(
        app_session_parse(S("{\"event\":\"create\",\"data\":[1]}"), &r, err, sizeof err),
        APP_E_INPUT);
    assert_int_equal(
        app_session_parse(S("{\"event\":\"create\",\"data\":{\"title\":5}}"), &r, err, sizeof err),
        APP_E_INPUT);
    assert_non_null(strstr(err, "title"));
    assert_int_equal(app_session_parse(S("nope"), &r, err, sizeof err), APP_E_JSON);
}

static void answers_and_errors_have_the_envelope(void **state)
{
    (void)state;
    Comfyd__V1__CancelResponse c = COMFYD__V1__CANCEL_RESPONSE__INIT;
    c.cancelled = 1;
    char *out;
    size_t len;
    assert_int_equal(app_session_answer_json("cancelled", "\"r\"", &c.base, &out, &len), APP_OK);
    assert_string_equal(out,
                        "{\"event\":\"cancelled\",\"request_id\":\"r\",\"data\":{\"cancelled\":"
                        "true,\"dropped_queued\":0}}");
    free(out);
    assert_int_equal(app_session_error_json("7", "NOT_FOUND", "no session", &out, &len), APP_OK);
    assert_string_equal(out,
                        "{\"event\":\"error\",\"request_id\":7,\"data\":{\"code\":\"NOT_FOUND\","
                        "\"message\":\"no session\"}}");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stream_delta_has_the_seed_shape),
        cmocka_unit_test(status_and_level_use_the_seed_words),
        cmocka_unit_test(sync_state_carries_history_and_status),
        cmocka_unit_test(join_maps_last_seq_and_ignores_extras),
        cmocka_unit_test(the_seeds_other_spellings_are_aliases),
        cmocka_unit_test(join_needs_a_uuid_and_says_so),
        cmocka_unit_test(connect_sockets_get_stream_token),
        cmocka_unit_test(configure_takes_the_seed_skill_array),
        cmocka_unit_test(messages_and_skill_execute_become_send_message),
        cmocka_unit_test(bad_events_are_refused_with_the_request_id),
        cmocka_unit_test(answers_and_errors_have_the_envelope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of the graph translation: the seed's flat commands with their
 * envelope, WebSocket requests, idempotency keys, deadlines and the JSON
 * answers (HTTP error bodies, WebSocket envelopes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app.h"

#define S(x) x, strlen(x)

static void seed_command_is_split_from_its_envelope(void **state)
{
    (void)state;
    app_graph_req r;
    char err[512];
    assert_int_equal(app_graph_parse_command(S("{\"type\":\"set_widget\",\"node_id\":5,\"name\":"
                                               "\"steps\",\"value\":30,\"canvas_id\":\"c1\","
                                               "\"base_revision\":7,\"idempotency_key\":\"k\","
                                               "\"validate_only\":true,\"timeout_ms\":900}"),
                                             &r, err, sizeof err),
                     APP_OK);
    assert_int_equal(r.op, APP_OP_EXECUTE);
    const Comfyd__V1__ExecuteRequest *e = (const Comfyd__V1__ExecuteRequest *)r.msg;
    assert_string_equal(e->canvas_id, "c1");
    assert_non_null(e->base_revision);
    assert_int_equal(e->base_revision->value, 7);
    assert_string_equal(e->idempotency_key, "k");
    assert_true(e->validate_only);
    assert_int_equal(e->timeout_ms, 900);
    assert_int_equal(e->command->command_case, COMFYD__V1__COMMAND__COMMAND_SET_WIDGET);
    const Comfyd__V1__SetWidgetCommand *sw = e->command->set_widget;
    assert_int_equal(sw->node_id->id, 5);
    assert_string_equal(sw->name, "steps");
    assert_int_equal(sw->value->kind_case, COMFYD__V1__VALUE__KIND_INTEGER);
    assert_int_equal(sw->value->integer, 30);
    assert_int_equal(app_graph_deadline_ms(&r), 900 + APP_DEADLINE_SLACK_MS);
    app_graph_req_clear(&r);
    assert_null(r.msg);
}

static void seed_command_refs_and_slot_names_decode(void **state)
{
    (void)state;
    app_graph_req r;
    char err[512];
    assert_int_equal(
        app_graph_parse_command(S("{\"type\":\"connect\",\"from_id\":\"loader\","
                                  "\"from_slot\":0,\"to_id\":3,\"to_slot\":\"model\"}"),
                                &r, err, sizeof err),
        APP_OK);
    const Comfyd__V1__ConnectCommand *c = ((Comfyd__V1__ExecuteRequest *)r.msg)->command->connect;
    assert_string_equal(c->from_id->ref, "loader");
    assert_int_equal(c->from_slot->index, 0);
    assert_int_equal(c->to_id->id, 3);
    assert_string_equal(c->to_slot->name, "model");
    /* No envelope: the core's default tab wait. */
    assert_int_equal(app_graph_deadline_ms(&r), APP_DEFAULT_TAB_TIMEOUT_MS + APP_DEADLINE_SLACK_MS);
    app_graph_req_clear(&r);
}

static void execute_request_form_is_accepted(void **state)
{
    (void)state;
    app_graph_req r;
    char err[512];
    assert_int_equal(app_graph_parse_command(S("{\"canvas_id\":\"c\",\"command\":{\"type\":"
                                               "\"get_graph\"},\"timeout_ms\":999999}"),
                                             &r, err, sizeof err),
                     APP_OK);
    const Comfyd__V1__ExecuteRequest *e = (const Comfyd__V1__ExecuteRequest *)r.msg;
    assert_int_equal(e->command->command_case, COMFYD__V1__COMMAND__COMMAND_GET_GRAPH);
    /* Clamped to the core's longest tab wait. */
    assert_int_equal(app_graph_deadline_ms(&r), APP_MAX_TAB_TIMEOUT_MS + APP_DEADLINE_SLACK_MS);
    app_graph_req_clear(&r);
}

static void bad_commands_are_client_errors_with_clear_messages(void **state)
{
    (void)state;
    app_graph_req r;
    char err[512];
    assert_int_equal(app_graph_parse_command(S("{\"node_id\":3}"), &r, err, sizeof err),
                     APP_E_INPUT);
    assert_string_equal(err, "missing field: type");
    assert_null(r.msg);

    assert_int_equal(app_graph_parse_command(S("{\"type\":\"explode\"}"), &r, err, sizeof err),
                     APP_E_INPUT);
    assert_non_null(strstr(err, "unknown type 'explode'"));
    assert_non_null(strstr(err, "create_node"));
    assert_non_null(strstr(err, "get_graph"));
    assert_null(strstr(err, "command.")); /* the wrapping is not visible */

    assert_int_equal(
        app_graph_parse_command(S("{\"type\":\"move_node\",\"node_id\":1,\"x\":\"a\"}"), &r, err,
                                sizeof err),
        APP_E_INPUT);
    assert_memory_equal(err, "x: ", 3);

    assert_int_equal(
        app_graph_parse_command(S("{\"type\":\"clear_graph\",\"bogus\":1}"), &r, err, sizeof err),
        APP_E_INPUT);
    assert_non_null(strstr(err, "bogus"));

    assert_int_equal(app_graph_parse_command(S("{\"type\":"), &r, err, sizeof err), APP_E_JSON);
    assert_memory_equal(err, "invalid JSON: ", 14);
    assert_int_equal(app_graph_parse_command(S("[1,2]"), &r, err, sizeof err), APP_E_INPUT);
    /* An envelope key given twice is refused, not silently merged. */
    assert_int_equal(app_graph_parse_command(S("{\"type\":\"clear_graph\",\"canvas_id\":\"a\","
                                               "\"canvas_id\":\"b\"}"),
                                             &r, err, sizeof err),
                     APP_E_INPUT);
}

static void bodies_decode_as_their_request_messages(void **state)
{
    (void)state;
    app_graph_req r;
    char err[512];
    assert_int_equal(
        app_graph_parse_body(APP_OP_BATCH,
                             S("{\"commands\":[{\"type\":\"create_node\",\"node_type\":"
                               "\"KSampler\",\"ref\":\"k\"},{\"type\":\"set_widget\","
                               "\"node_id\":\"k\",\"name\":\"steps\",\"value\":30}],"
                               "\"mode\":\"partial\"}"),
                             &r, err, sizeof err),
        APP_OK);
    const Comfyd__V1__ExecuteBatchRequest *b = (const Comfyd__V1__ExecuteBatchRequest *)r.msg;
    assert_int_equal(b->n_commands, 2);
    assert_int_equal(b->mode, COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL);
    assert_string_equal(b->commands[1]->set_widget->node_id->ref, "k");
    app_graph_req_clear(&r);

    /* An empty body is the empty request. */
    assert_int_equal(app_graph_parse_body(APP_OP_QUEUE, S(""), &r, err, sizeof err), APP_OK);
    assert_int_equal(app_graph_deadline_ms(&r), APP_DEFAULT_TAB_TIMEOUT_MS + APP_DEADLINE_SLACK_MS);
    app_graph_req_clear(&r);
    assert_int_equal(app_graph_parse_body(APP_OP_SAVE, S("{\"name\":\"a\",\"overwrite\":true}"), &r,
                                          err, sizeof err),
                     APP_OK);
    assert_int_equal(app_graph_deadline_ms(&r), APP_UNARY_TIMEOUT_MS);
    app_graph_req_clear(&r);
    /* The editor's reply over HTTP: report flattened under type. */
    assert_int_equal(app_graph_parse_body(APP_OP_STATE,
                                          S("{\"canvas_id\":\"c\",\"type\":\"focus\",\"focused\":"
                                            "true}"),
                                          &r, err, sizeof err),
                     APP_OK);
    const Comfyd__V1__ReportEditorRequest *s = (const Comfyd__V1__ReportEditorRequest *)r.msg;
    assert_int_equal(s->report_case, COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_FOCUS);
    assert_true(s->focus->focused);
    app_graph_req_clear(&r);
    assert_int_equal(app_graph_parse_body(APP_OP_LOAD, S("{\"nam\":\"x\"}"), &r, err, sizeof err),
                     APP_E_INPUT);
}

static void ws_requests_keep_their_request_id(void **state)
{
    (void)state;
    app_graph_req r;
    char err[512];
    assert_int_equal(app_graph_parse_ws(S("{\"request_id\":\"abc\",\"type\":\"get_graph\"}"), &r,
                                        err, sizeof err),
                     APP_OK);
    assert_int_equal(r.op, APP_OP_EXECUTE);
    assert_string_equal(r.request_id, "\"abc\"");
    app_graph_req_clear(&r);

    assert_int_equal(app_graph_parse_ws(S("{\"request_id\":17,\"type\":\"batch\",\"commands\":[],"
                                          "\"validate_only\":true}"),
                                        &r, err, sizeof err),
                     APP_OK);
    assert_int_equal(r.op, APP_OP_BATCH);
    assert_string_equal(r.request_id, "17");
    assert_true(((Comfyd__V1__ExecuteBatchRequest *)r.msg)->validate_only);
    app_graph_req_clear(&r);

    assert_int_equal(app_graph_parse_ws(S("{\"type\":\"diff\",\"since\":4,\"canvas_id\":\"c\"}"),
                                        &r, err, sizeof err),
                     APP_OK);
    assert_int_equal(r.op, APP_OP_DIFF);
    assert_null(r.request_id);
    assert_int_equal(((Comfyd__V1__GetDiffRequest *)r.msg)->since_revision, 4);
    app_graph_req_clear(&r);

    assert_int_equal(app_graph_parse_ws(S("{\"type\":\"node_types\",\"names\":[\"A\",\"B\"]}"), &r,
                                        err, sizeof err),
                     APP_OK);
    assert_int_equal(((Comfyd__V1__ListNodeTypesRequest *)r.msg)->n_names, 2);
    app_graph_req_clear(&r);

    /* Failures still carry the request_id for the answer. */
    assert_int_equal(
        app_graph_parse_ws(S("{\"request_id\":\"x\",\"type\":\"nope\"}"), &r, err, sizeof err),
        APP_E_INPUT);
    assert_string_equal(r.request_id, "\"x\"");
    assert_non_null(strstr(err, "unknown type 'nope'"));
    assert_non_null(strstr(err, "clear_graph"));
    assert_non_null(strstr(err, "workflows"));
    app_graph_req_clear(&r);
    assert_int_equal(app_graph_parse_ws(S("{\"request_id\":\"x\"}"), &r, err, sizeof err),
                     APP_E_INPUT);
    assert_string_equal(err, "missing field: type");
    app_graph_req_clear(&r);
    assert_int_equal(
        app_graph_parse_ws(S("{\"request_id\":[1],\"type\":\"canvases\"}"), &r, err, sizeof err),
        APP_E_INPUT);
    app_graph_req_clear(&r);
    char big[APP_MAX_REQUEST_ID + 64];
    int n = snprintf(big, sizeof big, "{\"request_id\":\"%0*d\",\"type\":\"canvases\"}",
                     APP_MAX_REQUEST_ID, 0);
    assert_int_equal(app_graph_parse_ws(big, (size_t)n, &r, err, sizeof err), APP_E_INPUT);
    assert_null(r.request_id);
    app_graph_req_clear(&r);
}

static void idempotency_header_fills_or_must_match_the_body(void **state)
{
    (void)state;
    app_graph_req r;
    char err[512];
    assert_int_equal(app_graph_parse_command(S("{\"type\":\"clear_graph\"}"), &r, err, sizeof err),
                     APP_OK);
    assert_int_equal(app_graph_set_idempotency_key(&r, S("key-1"), err, sizeof err), APP_OK);
    assert_string_equal(((Comfyd__V1__ExecuteRequest *)r.msg)->idempotency_key, "key-1");
    assert_int_equal(app_graph_set_idempotency_key(&r, S("key-1"), err, sizeof err), APP_OK);
    assert_int_equal(app_graph_set_idempotency_key(&r, S("key-2"), err, sizeof err), APP_E_INPUT);
    assert_int_equal(app_graph_set_idempotency_key(&r, "", 0, err, sizeof err), APP_E_INPUT);
    app_graph_req_clear(&r);
    /* Save has no key: the header is ignored. */
    assert_int_equal(app_graph_parse_body(APP_OP_SAVE, S("{\"name\":\"a\"}"), &r, err, sizeof err),
                     APP_OK);
    assert_int_equal(app_graph_set_idempotency_key(&r, S("k"), err, sizeof err), APP_OK);
    app_graph_req_clear(&r);
}

static Comfyd__V1__ExecuteResponse *failed_response(Comfyd__V1__GraphError *ge,
                                                    Comfyd__V1__CommandResult *res)
{
    static Comfyd__V1__ExecuteResponse r;
    comfyd__v1__execute_response__init(&r);
    comfyd__v1__command_result__init(res);
    comfyd__v1__graph_error__init(ge);
    ge->code = COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_TYPE_MISMATCH;
    ge->message = "MODEL into CLIP";
    ge->index = 0;
    res->error = ge;
    r.result = res;
    r.ok = 0;
    r.revision = 7;
    r.canvas_id = "c";
    return &r;
}

static void error_body_carries_the_whole_response_with_short_codes(void **state)
{
    (void)state;
    Comfyd__V1__GraphError ge;
    Comfyd__V1__CommandResult res;
    Comfyd__V1__ExecuteResponse *r = failed_response(&ge, &res);
    assert_ptr_equal(app_first_graph_error(&r->base), &ge);
    char *out;
    size_t len;
    assert_int_equal(
        app_error_body("TYPE_MISMATCH: MODEL into CLIP", "TYPE_MISMATCH", &r->base, &out, &len),
        APP_OK);
    assert_string_equal(out, "{\"error\":\"TYPE_MISMATCH: MODEL into CLIP\",\"code\":"
                             "\"TYPE_MISMATCH\",\"ok\":false,\"result\":{\"index\":0,\"ok\":false,"
                             "\"error\":{\"code\":\"TYPE_MISMATCH\",\"message\":\"MODEL into "
                             "CLIP\",\"index\":0,\"suggestions\":[],\"conflicts\":[],\"leased_node_"
                             "id\":0},\"node_id\":0,"
                             "\"link_id\":0},\"canvas_id\":\"c\",\"revision\":7,\"replayed\":false,"
                             "\"rebased\":false,\"rebased_from\":0}");
    free(out);
    r->ok = 1;
    assert_null(app_first_graph_error(&r->base));

    assert_int_equal(app_error_body("bad \xff byte", NULL, NULL, &out, &len), APP_OK);
    assert_string_equal(out, "{\"error\":\"bad ? byte\"}");
    free(out);
}

static void batch_first_error_decides(void **state)
{
    (void)state;
    Comfyd__V1__GraphError e1 = COMFYD__V1__GRAPH_ERROR__INIT, e2 = COMFYD__V1__GRAPH_ERROR__INIT;
    e1.code = COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_STALE_REVISION;
    e2.code = COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NODE_NOT_FOUND;
    Comfyd__V1__GraphError *errs[] = {&e1, &e2};
    Comfyd__V1__ExecuteBatchResponse b = COMFYD__V1__EXECUTE_BATCH_RESPONSE__INIT;
    b.n_errors = 2;
    b.errors = errs;
    assert_ptr_equal(app_first_graph_error(&b.base), &e1);
    b.n_errors = 0;
    assert_null(app_first_graph_error(&b.base));
}

static void ws_answers_have_the_seed_envelope(void **state)
{
    (void)state;
    Comfyd__V1__ListWorkflowsResponse w = COMFYD__V1__LIST_WORKFLOWS_RESPONSE__INIT;
    char *out;
    size_t len;
    assert_int_equal(app_graph_ws_ok("\"abc\"", &w.base, &out, &len), APP_OK);
    assert_string_equal(out,
                        "{\"request_id\":\"abc\",\"status\":\"ok\",\"data\":{\"workflows\":[]}}");
    free(out);
    assert_int_equal(
        app_graph_ws_error(NULL, "UNAVAILABLE", "core unavailable: x", NULL, &out, &len), APP_OK);
    assert_string_equal(out, "{\"status\":\"error\",\"message\":\"core unavailable: x\",\"code\":"
                             "\"UNAVAILABLE\"}");
    free(out);
    Comfyd__V1__GraphError ge;
    Comfyd__V1__CommandResult res;
    Comfyd__V1__ExecuteResponse *r = failed_response(&ge, &res);
    assert_int_equal(
        app_graph_ws_error("3", "TYPE_MISMATCH", "TYPE_MISMATCH: m", &r->base, &out, &len), APP_OK);
    assert_memory_equal(
        out,
        "{\"request_id\":3,\"status\":\"error\",\"message\":\"TYPE_MISMATCH: m\","
        "\"code\":\"TYPE_MISMATCH\",\"data\":{\"ok\":false,",
        strlen("{\"request_id\":3,\"status\":\"error\",\"message\":\"TYPE_MISMATCH: "
               "m\",\"code\":\"TYPE_MISMATCH\",\"data\":{\"ok\":false,"));
    free(out);
}

static void query_integers_are_decimal_and_never_capped(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_int_equal(app_graph_parse_uint("0", UINT64_MAX, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(app_graph_parse_uint("18446744073709551615", UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    v = 7;
    /* One past 64 bits, and far past: refused, not the largest value. */
    assert_int_equal(app_graph_parse_uint("18446744073709551616", UINT64_MAX, &v), -1);
    assert_int_equal(app_graph_parse_uint("99999999999999999999999999999", UINT64_MAX, &v), -1);
    assert_int_equal(v, 7);
    assert_int_equal(app_graph_parse_uint("4294967296", UINT32_MAX, &v), -1);
    assert_int_equal(app_graph_parse_uint("4294967295", UINT32_MAX, &v), 0);
    const char *bad[] = {"", "-1", "+1", " 1", "1 ", "0x10", "1e3", "1.0", "abc", "1a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(app_graph_parse_uint(bad[i], UINT64_MAX, &v), -1);
}

static void graph_responses_flatten_commands(void **state)
{
    (void)state;
    Comfyd__V1__MoveNodeCommand mv = COMFYD__V1__MOVE_NODE_COMMAND__INIT;
    Comfyd__V1__NodeRef id = COMFYD__V1__NODE_REF__INIT;
    id.node_case = COMFYD__V1__NODE_REF__NODE_ID;
    id.id = 3;
    mv.node_id = &id;
    mv.x = 1;
    mv.y = 2.5;
    Comfyd__V1__Command cmd = COMFYD__V1__COMMAND__INIT;
    cmd.command_case = COMFYD__V1__COMMAND__COMMAND_MOVE_NODE;
    cmd.move_node = &mv;
    Comfyd__V1__GraphOp op = COMFYD__V1__GRAPH_OP__INIT;
    op.revision = 4;
    op.origin = COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER;
    op.command = &cmd;
    op.summary = "user moved #3";
    op.node_id = 3;
    Comfyd__V1__Actor actor = COMFYD__V1__ACTOR__INIT;
    actor.kind = COMFYD__V1__ACTOR_KIND__ACTOR_KIND_USER;
    op.actor = &actor;
    Comfyd__V1__GraphOp *ops[] = {&op};
    Comfyd__V1__GetDiffResponse d = COMFYD__V1__GET_DIFF_RESPONSE__INIT;
    d.n_ops = 1;
    d.ops = ops;
    char *out;
    size_t len;
    assert_int_equal(app_graph_response_json(&d.base, &out, &len), APP_OK);
    assert_string_equal(
        out, "{\"canvas_id\":\"\",\"from_revision\":0,\"to_revision\":0,\"ops\":[{"
             "\"revision\":4,\"origin\":\"GRAPH_ORIGIN_USER\",\"command\":{\"type\":"
             "\"move_node\",\"node_id\":3,\"x\":1,\"y\":2.5},\"summary\":\"user "
             "moved #3\",\"time_ms\":0,\"actor\":{\"kind\":\"ACTOR_KIND_USER\","
             "\"session_id\":\"\",\"skill\":\"\",\"name\":\"\"},\"node_id\":3,\"link_"
             "id\":0,\"from_node_id\":0,\"widget\":\"\",\"lease_id\":0}],\"truncated\":false}");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seed_command_is_split_from_its_envelope),
        cmocka_unit_test(seed_command_refs_and_slot_names_decode),
        cmocka_unit_test(execute_request_form_is_accepted),
        cmocka_unit_test(bad_commands_are_client_errors_with_clear_messages),
        cmocka_unit_test(bodies_decode_as_their_request_messages),
        cmocka_unit_test(ws_requests_keep_their_request_id),
        cmocka_unit_test(idempotency_header_fills_or_must_match_the_body),
        cmocka_unit_test(error_body_carries_the_whole_response_with_short_codes),
        cmocka_unit_test(batch_first_error_decides),
        cmocka_unit_test(ws_answers_have_the_seed_envelope),
        cmocka_unit_test(graph_responses_flatten_commands),
        cmocka_unit_test(query_integers_are_decimal_and_never_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

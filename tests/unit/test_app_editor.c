/* Unit tests of the editor socket's translation: attach, reports, core
 * messages and close codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app.h"

#define S(x) x, strlen(x)

static void attach_message_decodes(void **state)
{
    (void)state;
    Comfyd__V1__AttachCanvasRequest *a = NULL;
    char err[512];
    assert_int_equal(app_editor_parse_attach(S("{\"type\":\"attach\",\"canvas_id\":\"tab-1:wf\","
                                               "\"title\":\"txt2img\",\"workflow_json\":\"{}\","
                                               "\"object_info_json\":\"\",\"focused\":true}"),
                                             &a, err, sizeof err),
                     APP_OK);
    assert_string_equal(a->canvas_id, "tab-1:wf");
    assert_string_equal(a->workflow_json, "{}");
    assert_true(a->focused);
    protobuf_c_message_free_unpacked(&a->base, NULL);
}

static void first_message_must_be_attach(void **state)
{
    (void)state;
    Comfyd__V1__AttachCanvasRequest *a = NULL;
    char err[512];
    assert_int_equal(
        app_editor_parse_attach(S("{\"type\":\"focus\",\"focused\":true}"), &a, err, sizeof err),
        APP_E_INPUT);
    assert_null(a);
    assert_non_null(strstr(err, "attach"));
    assert_int_equal(app_editor_parse_attach(S("{\"canvas_id\":\"x\"}"), &a, err, sizeof err),
                     APP_E_INPUT);
    assert_int_equal(
        app_editor_parse_attach(S("{\"type\":\"attach\",\"canvas\":\"x\"}"), &a, err, sizeof err),
        APP_E_INPUT);
    assert_non_null(strstr(err, "canvas"));
    assert_int_equal(app_editor_parse_attach(S("{"), &a, err, sizeof err), APP_E_JSON);
}

static void reports_are_flattened_and_bound_to_the_canvas(void **state)
{
    (void)state;
    Comfyd__V1__ReportEditorRequest *r = NULL;
    char err[512];
    assert_int_equal(app_editor_parse_report(S("{\"type\":\"patch_result\",\"request_id\":3,\"ok\":"
                                               "true,\"results\":[{\"index\":0,\"ok\":true,"
                                               "\"node_id\":8}],\"workflow_json\":\"{}\","
                                               "\"tab_revision\":12,\"canvas_id\":\"other\"}"),
                                             "mine", &r, err, sizeof err),
                     APP_OK);
    assert_string_equal(r->canvas_id, "mine");
    assert_int_equal(r->report_case, COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_PATCH_RESULT);
    assert_int_equal(r->patch_result->request_id, 3);
    assert_int_equal(r->patch_result->n_results, 1);
    assert_int_equal(r->patch_result->results[0]->node_id, 8);
    assert_int_equal(r->patch_result->tab_revision, 12);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    assert_int_equal(app_editor_parse_report(S("{\"type\":\"user_edit\",\"workflow_json\":\"{}\","
                                               "\"tab_revision\":13}"),
                                             "mine", &r, err, sizeof err),
                     APP_OK);
    assert_int_equal(r->report_case, COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_USER_EDIT);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    assert_int_equal(
        app_editor_parse_report(S("{\"type\":\"attach\"}"), "mine", &r, err, sizeof err),
        APP_E_INPUT);
    assert_null(r);
    assert_non_null(strstr(err, "patch_result"));
    assert_int_equal(app_editor_parse_report(S("{\"focused\":true}"), "mine", &r, err, sizeof err),
                     APP_E_INPUT);
    assert_string_equal(err, "missing field: type");
}

static void core_messages_are_flattened_with_commands(void **state)
{
    (void)state;
    Comfyd__V1__CreateNodeCommand cn = COMFYD__V1__CREATE_NODE_COMMAND__INIT;
    cn.node_type = "KSampler";
    Comfyd__V1__Command cmd = COMFYD__V1__COMMAND__INIT;
    cmd.command_case = COMFYD__V1__COMMAND__COMMAND_CREATE_NODE;
    cmd.create_node = &cn;
    Comfyd__V1__Command *cmds[] = {&cmd};
    int64_t ids[] = {8};
    Comfyd__V1__PatchRequest p = COMFYD__V1__PATCH_REQUEST__INIT;
    p.request_id = 3;
    p.n_commands = 1;
    p.commands = cmds;
    p.n_expected_node_ids = 1;
    p.expected_node_ids = ids;
    p.deadline_ms = 5000;
    p.mode = COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC;
    Comfyd__V1__AttachCanvasResponse m = COMFYD__V1__ATTACH_CANVAS_RESPONSE__INIT;
    m.kind_case = COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_PATCH;
    m.patch = &p;
    char *out;
    size_t len;
    assert_int_equal(app_editor_message_json(&m, &out, &len), APP_OK);
    assert_string_equal(out,
                        "{\"type\":\"patch\",\"request_id\":3,\"commands\":[{\"type\":"
                        "\"create_node\",\"node_type\":\"KSampler\",\"ref\":\"\",\"title\":\"\","
                        "\"widgets\":{}}],\"expected_node_ids\":[8],\"deadline_ms\":5000,"
                        "\"mode\":\"BATCH_MODE_ATOMIC\"}");
    free(out);

    Comfyd__V1__Attached at = COMFYD__V1__ATTACHED__INIT;
    at.canvas_id = "tab-1";
    at.revision = 1;
    m.kind_case = COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_ATTACHED;
    m.attached = &at;
    assert_int_equal(app_editor_message_json(&m, &out, &len), APP_OK);
    assert_string_equal(out, "{\"type\":\"attached\",\"canvas_id\":\"tab-1\",\"revision\":1}");
    free(out);
}

static void acks_and_errors_are_small_json(void **state)
{
    (void)state;
    char *out;
    size_t len;
    assert_int_equal(app_editor_ack_json("user_edit", 9, &out, &len), APP_OK);
    assert_string_equal(out, "{\"type\":\"report_ack\",\"report\":\"user_edit\",\"revision\":9}");
    free(out);
    assert_int_equal(
        app_editor_error_json("report_error", "focus", "NOT_FOUND", "gone", &out, &len), APP_OK);
    assert_string_equal(out,
                        "{\"type\":\"report_error\",\"report\":\"focus\",\"code\":\"NOT_FOUND\","
                        "\"message\":\"gone\"}");
    free(out);
}

static void stream_end_codes_tell_the_tab_whether_to_reconnect(void **state)
{
    (void)state;
    assert_int_equal(app_editor_close_code(GRPC_STATUS_UNAVAILABLE), 1012);
    assert_int_equal(app_editor_close_code(GRPC_STATUS_OK), 1012);
    assert_int_equal(app_editor_close_code(GRPC_STATUS_INTERNAL), 1012);
    assert_int_equal(app_editor_close_code(GRPC_STATUS_ABORTED), 1000);
    assert_int_equal(app_editor_close_code(GRPC_STATUS_RESOURCE_EXHAUSTED), 1013);
    assert_int_equal(app_editor_close_code(GRPC_STATUS_INVALID_ARGUMENT), 1008);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(attach_message_decodes),
        cmocka_unit_test(first_message_must_be_attach),
        cmocka_unit_test(reports_are_flattened_and_bound_to_the_canvas),
        cmocka_unit_test(core_messages_are_flattened_with_commands),
        cmocka_unit_test(acks_and_errors_are_small_json),
        cmocka_unit_test(stream_end_codes_tell_the_tab_whether_to_reconnect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

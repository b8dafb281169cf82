/* Unit tests for core/comfy_event: ComfyUI 0.3.64's WebSocket events, its
 * /prompt answers (a refusal with node_errors), a /history entry and a
 * /queue answer, as the server writes them; and bad input: not JSON, no
 * type, too deep, too large, oversize strings and lists cut at their
 * limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comfy_event.h"

static int parse(const char *json, comfy_event *ev)
{
    char err[256] = "";
    return comfy_event_parse(json, strlen(json), ev, err, sizeof err);
}

static void test_executing_and_done(void **state)
{
    (void)state;
    comfy_event ev;
    assert_int_equal(
        parse("{\"type\":\"executing\",\"data\":{\"node\":\"3\",\"display_node\":\"3\","
              "\"prompt_id\":\"p-1\"}}",
              &ev),
        0);
    assert_int_equal(ev.type, COMFY_EV_EXECUTING);
    assert_string_equal(ev.prompt_id, "p-1");
    assert_string_equal(ev.node, "3");
    assert_int_equal(ev.node_null, 0);
    comfy_event_clear(&ev);
    /* main.py's end of a prompt: node null. */
    assert_int_equal(
        parse("{\"type\":\"executing\",\"data\":{\"node\":null,\"prompt_id\":\"p-1\"}}", &ev), 0);
    assert_int_equal(ev.node_null, 1);
    assert_string_equal(ev.node, "");
    comfy_event_clear(&ev);
}

static void test_progress_status_cached(void **state)
{
    (void)state;
    comfy_event ev;
    assert_int_equal(parse("{\"type\":\"progress\",\"data\":{\"value\":3,\"max\":20,\"prompt_id\":"
                           "\"p\",\"node\":\"5\"}}",
                           &ev),
                     0);
    assert_int_equal(ev.type, COMFY_EV_PROGRESS);
    assert_true(ev.value == 3 && ev.max == 20);
    assert_string_equal(ev.node, "5");
    comfy_event_clear(&ev);
    assert_int_equal(parse("{\"type\":\"status\",\"data\":{\"status\":{\"exec_info\":{"
                           "\"queue_remaining\":2}}}}",
                           &ev),
                     0);
    assert_int_equal(ev.type, COMFY_EV_STATUS);
    assert_int_equal(ev.queue_remaining, 2);
    comfy_event_clear(&ev);
    assert_int_equal(parse("{\"type\":\"execution_cached\",\"data\":{\"nodes\":[\"1\",\"2\"],"
                           "\"prompt_id\":\"p\",\"timestamp\":1760000000000}}",
                           &ev),
                     0);
    assert_int_equal(ev.n_nodes, 2);
    assert_string_equal(ev.nodes[1], "2");
    assert_int_equal(ev.timestamp_ms, 1760000000000LL);
    comfy_event_clear(&ev);
    /* A type this module does not interpret (crystools, previews...). */
    assert_int_equal(parse("{\"type\":\"crystools.monitor\",\"data\":{\"cpu\":3}}", &ev), 0);
    assert_int_equal(ev.type, COMFY_EV_OTHER);
    assert_string_equal(ev.type_name, "crystools.monitor");
    comfy_event_clear(&ev);
}

static void test_executed_outputs(void **state)
{
    (void)state;
    comfy_event ev;
    assert_int_equal(
        parse("{\"type\":\"executed\",\"data\":{\"node\":\"9\",\"display_node\":\"9\",\"output\":{"
              "\"images\":[{\"filename\":\"runs_00001_.png\",\"subfolder\":\"s\",\"type\":"
              "\"output\"}],"
              "\"animated\":[false],\"text\":[\"hello\"]},\"prompt_id\":\"p\"}}",
              &ev),
        0);
    assert_int_equal(ev.type, COMFY_EV_EXECUTED);
    assert_int_equal(ev.n_files, 1);
    assert_string_equal(ev.files[0]->kind, "images");
    assert_string_equal(ev.files[0]->filename, "runs_00001_.png");
    assert_string_equal(ev.files[0]->subfolder, "s");
    assert_string_equal(ev.files[0]->type, "output");
    /* Other output kinds pass through. */
    assert_non_null(strstr(ev.output_json, "\"text\":[\"hello\"]"));
    comfy_event_clear(&ev);
}

static void test_execution_error_traceback_bounded(void **state)
{
    (void)state;
    char buf[8192];
    int n =
        snprintf(buf, sizeof buf,
                 "{\"type\":\"execution_error\",\"data\":{\"prompt_id\":\"p\",\"node_id\":\"4\","
                 "\"node_type\":\"KSampler\",\"executed\":[],\"exception_message\":\"boom\","
                 "\"exception_type\":\"RuntimeError\",\"traceback\":[");
    for (int i = 0; i < 40; i++)
        n += snprintf(buf + n, sizeof buf - n, "%s\"line %d\"", i ? "," : "", i);
    snprintf(buf + n, sizeof buf - n, "]}}");
    comfy_event ev;
    assert_int_equal(parse(buf, &ev), 0);
    assert_int_equal(ev.type, COMFY_EV_EXECUTION_ERROR);
    assert_string_equal(ev.node, "4");
    assert_string_equal(ev.node_type, "KSampler");
    assert_string_equal(ev.exception_type, "RuntimeError");
    assert_string_equal(ev.exception_message, "boom");
    /* The last lines: where it was raised. */
    assert_int_equal(ev.n_traceback, COMFY_MAX_TRACEBACK_LINES);
    assert_string_equal(ev.traceback[COMFY_MAX_TRACEBACK_LINES - 1], "line 39");
    comfy_event_clear(&ev);
}

static void test_bad_input(void **state)
{
    (void)state;
    comfy_event ev;
    char err[256];
    const char *bad[] = {
        "", "nope", "{\"data\":{}}", "{\"type\":3}", "[1,2]", "{\"type\":\"x\"} trailing"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        assert_int_equal(comfy_event_parse(bad[i], strlen(bad[i]), &ev, err, sizeof err), -1);
        assert_true(err[0] != 0);
    }
    /* Too deep. */
    char deep[4096] = "{\"type\":\"x\",\"data\":";
    size_t k = strlen(deep);
    for (int i = 0; i < 200; i++)
        deep[k++] = '[';
    for (int i = 0; i < 200; i++)
        deep[k++] = ']';
    deep[k++] = '}';
    deep[k] = 0;
    assert_int_equal(comfy_event_parse(deep, k, &ev, err, sizeof err), -1);
    /* Oversize strings are cut on a UTF-8 boundary. */
    size_t big = COMFY_MAX_TEXT * 2;
    char *s = malloc(big + 256);
    k = (size_t)sprintf(s, "{\"type\":\"execution_error\",\"data\":{\"exception_message\":\"");
    for (size_t i = 0; i < big / 2; i++) {
        s[k++] = (char)0xc3;
        s[k++] = (char)0xa9; /* é */
    }
    k += (size_t)sprintf(s + k, "\"}}");
    assert_int_equal(comfy_event_parse(s, k, &ev, err, sizeof err), 0);
    assert_true(strlen(ev.exception_message) <= COMFY_MAX_TEXT);
    assert_int_equal(strlen(ev.exception_message) % 2, 0);
    comfy_event_clear(&ev);
    free(s);
    /* Above the size limit: refused before any tree is built. */
    size_t huge = COMFY_MAX_JSON + 16;
    char *h = malloc(huge);
    memset(h, ' ', huge);
    memcpy(h, "{\"type\":\"x\"}", 12);
    assert_int_equal(comfy_event_parse(h, huge, &ev, err, sizeof err), -1);
    free(h);
}

static void test_prompt_answer(void **state)
{
    (void)state;
    const char *refused =
        "{\"error\":{\"type\":\"prompt_outputs_failed_validation\",\"message\":\"Prompt outputs "
        "failed "
        "validation\",\"details\":\"\",\"extra_info\":{}},\"node_errors\":{\"4\":{\"errors\":"
        "[{\"type\":\"value_not_in_list\",\"message\":\"Value not in "
        "list\",\"details\":\"ckpt_name: "
        "'' not in "
        "[]\",\"extra_info\":{\"input_name\":\"ckpt_name\",\"input_config\":[[\"a.safetensors\","
        "\"b.ckpt\",3],{}],"
        "\"received_value\":\"\"}}],\"dependent_outputs\":[\"9\"],\"class_type\":"
        "\"CheckpointLoaderSimple\"}}}";
    comfy_prompt_answer a;
    char err[256];
    assert_int_equal(comfy_prompt_answer_parse(refused, strlen(refused), &a, err, sizeof err), 0);
    assert_string_equal(a.prompt_id, "");
    assert_string_equal(a.error_type, "prompt_outputs_failed_validation");
    assert_string_equal(a.error_message, "Prompt outputs failed validation");
    assert_int_equal(a.n_node_errors, 1);
    assert_string_equal(a.node_errors[0]->node_id, "4");
    assert_string_equal(a.node_errors[0]->node_type, "CheckpointLoaderSimple");
    assert_string_equal(a.node_errors[0]->input_name, "ckpt_name");
    assert_string_equal(a.node_errors[0]->type, "value_not_in_list");
    assert_string_equal(a.node_errors[0]->message, "Value not in list");
    assert_int_equal(a.node_errors[0]->n_allowed_values, 2);
    assert_string_equal(a.node_errors[0]->allowed_values[1], "b.ckpt");
    comfy_prompt_answer_clear(&a);
    const char *ok = "{\"prompt_id\":\"abc\",\"number\":7,\"node_errors\":{}}";
    assert_int_equal(comfy_prompt_answer_parse(ok, strlen(ok), &a, err, sizeof err), 0);
    assert_string_equal(a.prompt_id, "abc");
    assert_true(a.number == 7);
    assert_int_equal(a.n_node_errors, 0);
    comfy_prompt_answer_clear(&a);
}

static void test_history_and_queue(void **state)
{
    (void)state;
    const char *hist =
        "{\"p\":{\"prompt\":[1,\"p\",{},{},[\"9\"]],\"outputs\":{\"9\":{\"images\":[{\"filename\":"
        "\"x.png\",\"subfolder\":\"\",\"type\":\"output\"}]}},\"status\":{\"status_str\":\"error\","
        "\"completed\":false,\"messages\":[[\"execution_start\",{\"prompt_id\":\"p\",\"timestamp\":"
        "1}],"
        "[\"execution_interrupted\",{\"prompt_id\":\"p\",\"node_id\":\"3\",\"node_type\":"
        "\"ImageBlur\","
        "\"executed\":[\"1\"],\"timestamp\":2}]]},\"meta\":{}}}";
    comfy_history h;
    char err[256];
    assert_int_equal(comfy_history_parse(hist, strlen(hist), "p", &h, err, sizeof err), 0);
    assert_int_equal(h.found, 1);
    assert_string_equal(h.status_str, "error");
    assert_int_equal(h.completed, 0);
    assert_int_equal(h.n_messages, 2);
    assert_int_equal(h.messages[1].type, COMFY_EV_EXECUTION_INTERRUPTED);
    assert_string_equal(h.messages[1].node, "3");
    assert_int_equal(h.n_outputs, 1);
    assert_string_equal(h.outputs[0]->files[0]->filename, "x.png");
    comfy_history_clear(&h);
    assert_int_equal(comfy_history_parse("{}", 2, "p", &h, err, sizeof err), 0);
    assert_int_equal(h.found, 0);
    comfy_history_clear(&h);

    const char *q = "{\"queue_running\":[[5,\"a\",{},{},[]]],\"queue_pending\":[[7,\"c\",{},{},[]],"
                    "[6,\"b\",{},{},[]],[\"bad\"],3]}";
    comfy_queue cq;
    assert_int_equal(comfy_queue_parse(q, strlen(q), &cq, err, sizeof err), 0);
    assert_int_equal(cq.n_running, 1);
    assert_string_equal(cq.running[0], "a");
    assert_int_equal(cq.n_pending, 2);
    assert_string_equal(cq.pending[0], "b"); /* by number */
    assert_string_equal(cq.pending[1], "c");
    comfy_queue_clear(&cq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_executing_and_done),
        cmocka_unit_test(test_progress_status_cached),
        cmocka_unit_test(test_executed_outputs),
        cmocka_unit_test(test_execution_error_traceback_bounded),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_prompt_answer),
        cmocka_unit_test(test_history_and_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

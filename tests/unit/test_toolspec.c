/* Unit tests for common/toolspec: the graph tools' definitions (names,
 * schemas that parse and describe exactly what the argument checks take),
 * the argument checks and their error results, and the result shapes built
 * from comfyd.v1 messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "jsonpb.h"
#include "toolspec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static yajl_val parse(const char *json)
{
    char eb[128];
    yajl_val v = yajl_tree_parse(json, eb, sizeof eb);
    if (!v) fail_msg("not JSON (%s): %s", eb, json);
    return v;
}

static const char *str_at(yajl_val obj, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
    return v ? YAJL_GET_STRING(v) : NULL;
}

/* The string at arr[i]; fails the test when it is not one. */
static const char *item(yajl_val arr, size_t i)
{
    const char *s =
        YAJL_IS_STRING(arr->u.array.values[i]) ? arr->u.array.values[i]->u.string : NULL;
    if (!s) fail_msg("item %zu is not a string", i);
    return s ? s : "";
}

/* Checks that text is an error result with code and a message containing
 * want, then frees it. */
static void expect_error(char *text, const char *code, const char *want)
{
    assert_non_null(text);
    yajl_val v = parse(text);
    assert_string_equal(str_at(v, "code"), code);
    const char *msg = str_at(v, "error");
    assert_non_null(msg);
    if (!strstr(msg, want)) fail_msg("error '%s' lacks '%s'", msg, want);
    yajl_tree_free(v);
    free(text);
}

static void every_tool_has_a_name_a_description_and_an_object_schema(void **state)
{
    (void)state;
    for (int i = 0; i < TOOLSPEC__COUNT; i++) {
        const toolspec_def *d = toolspec_get((toolspec_id)i);
        assert_non_null(d);
        assert_true(d->name[0] != '\0');
        assert_int_equal(strspn(d->name, "abcdefghijklmnopqrstuvwxyz_"), strlen(d->name));
        assert_true(strlen(d->description) > 20);
        yajl_val s = parse(d->parameters_json);
        assert_string_equal(str_at(s, "type"), "object");
        const char *props[] = {"properties", NULL};
        assert_non_null(yajl_tree_get(s, props, yajl_t_object));
        yajl_tree_free(s);
        /* Names are unique: a model calls a tool by name. */
        for (int k = 0; k < i; k++)
            assert_string_not_equal(toolspec_get((toolspec_id)k)->name, d->name);
    }
    assert_null(toolspec_get(TOOLSPEC__COUNT));
    assert_null(toolspec_get((toolspec_id)-1));
    assert_string_equal(toolspec_get(TOOLSPEC_GET_GRAPH)->name, "get_graph");
    assert_true(toolspec_get(TOOLSPEC_GET_GRAPH)->read_only);
    assert_false(toolspec_get(TOOLSPEC_APPLY_PATCH)->read_only);
}

/* Every property a schema lists passes toolspec_check_args, and a key no
 * schema lists is refused, naming it: the schema and the check agree. */
static void check_args_takes_exactly_the_schema_properties(void **state)
{
    (void)state;
    for (int i = 0; i < TOOLSPEC__COUNT; i++) {
        yajl_val s = parse(toolspec_get((toolspec_id)i)->parameters_json);
        const char *props[] = {"properties", NULL};
        yajl_val p = yajl_tree_get(s, props, yajl_t_object);
        for (size_t k = 0; k < p->u.object.len; k++) {
            char json[256];
            snprintf(json, sizeof json, "{\"%s\": null}", p->u.object.keys[k]);
            yajl_val a = parse(json);
            char *err = NULL;
            assert_int_equal(toolspec_check_args((toolspec_id)i, a, &err), 0);
            assert_null(err);
            yajl_tree_free(a);
        }
        yajl_tree_free(s);
        yajl_val a = parse("{\"bogus_key\": 1}");
        char *err = NULL;
        assert_int_equal(toolspec_check_args((toolspec_id)i, a, &err), -1);
        expect_error(err, "INVALID_ARGUMENT", "unknown argument 'bogus_key'");
        yajl_tree_free(a);
    }
    yajl_val a = parse("[1]");
    char *err = NULL;
    assert_int_equal(toolspec_check_args(TOOLSPEC_GET_GRAPH, a, &err), -1);
    expect_error(err, "INVALID_ARGUMENT", "must be a JSON object");
    assert_int_equal(toolspec_check_args(TOOLSPEC__COUNT, a, &err), -1);
    expect_error(err, "INVALID_ARGUMENT", "unknown tool");
    yajl_tree_free(a);
}

static void get_graph_args_read_detail_and_node_ids(void **state)
{
    (void)state;
    int64_t ids[TOOLSPEC_MAX_NODE_IDS];
    size_t n = 99;
    int full = -1;
    const char *canvas = NULL;
    char *err = NULL;
    yajl_val a = parse("{}");
    assert_int_equal(toolspec_get_graph_args(a, &canvas, &full, ids, &n, &err), 0);
    assert_string_equal(canvas, "");
    assert_int_equal(full, 0);
    assert_int_equal(n, 0);
    yajl_tree_free(a);

    a = parse("{\"canvas_id\": \"c1\", \"detail\": \"full\", \"node_ids\": [3, 8]}");
    assert_int_equal(toolspec_get_graph_args(a, &canvas, &full, ids, &n, &err), 0);
    assert_string_equal(canvas, "c1");
    assert_int_equal(full, 1);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 3);
    assert_int_equal(ids[1], 8);
    yajl_tree_free(a);

    a = parse("{\"detail\": \"everything\"}");
    assert_int_equal(toolspec_get_graph_args(a, &canvas, &full, ids, &n, &err), -1);
    expect_error(err, "INVALID_ARGUMENT", "detail");
    yajl_tree_free(a);

    a = parse("{\"node_ids\": [1, \"x\"]}");
    assert_int_equal(toolspec_get_graph_args(a, &canvas, &full, ids, &n, &err), -1);
    expect_error(err, "INVALID_ARGUMENT", "node_ids[1]");
    yajl_tree_free(a);

    /* One more id than a call may ask for. */
    char *big = malloc(16 * (TOOLSPEC_MAX_NODE_IDS + 2));
    assert_non_null(big);
    size_t o = (size_t)sprintf(big, "{\"node_ids\": [");
    for (int i = 0; i <= TOOLSPEC_MAX_NODE_IDS; i++)
        o += (size_t)sprintf(big + o, "%s%d", i ? "," : "", i + 1);
    sprintf(big + o, "]}");
    a = parse(big);
    assert_int_equal(toolspec_get_graph_args(a, &canvas, &full, ids, &n, &err), -1);
    assert_non_null(err);
    free(err);
    yajl_tree_free(a);
    free(big);

    char id[TOOLSPEC_MAX_CANVAS_ID + 40];
    memset(id, 0, sizeof id);
    memcpy(id, "{\"canvas_id\": \"", 15);
    memset(id + 15, 'c', TOOLSPEC_MAX_CANVAS_ID + 1);
    strcat(id, "\"}");
    a = parse(id);
    assert_int_equal(toolspec_get_graph_args(a, &canvas, &full, ids, &n, &err), -1);
    expect_error(err, "INVALID_ARGUMENT", "canvas_id");
    yajl_tree_free(a);
}

static void schema_and_run_args_are_checked(void **state)
{
    (void)state;
    const char *type = NULL;
    char *err = NULL;
    yajl_val a = parse("{}");
    assert_int_equal(toolspec_schema_args(a, &type, &err), -1);
    expect_error(err, "INVALID_ARGUMENT", "node_type is required");
    yajl_tree_free(a);
    a = parse("{\"node_type\": \"KSampler\"}");
    assert_int_equal(toolspec_schema_args(a, &type, &err), 0);
    assert_string_equal(type, "KSampler");
    yajl_tree_free(a);

    const char *canvas = NULL;
    uint32_t wait = 0;
    a = parse("{}");
    assert_int_equal(toolspec_run_args(a, &canvas, &wait, &err), 0);
    assert_int_equal(wait, TOOLSPEC_RUN_WAIT_DEFAULT_MS);
    yajl_tree_free(a);
    a = parse("{\"wait_ms\": 5000}");
    assert_int_equal(toolspec_run_args(a, &canvas, &wait, &err), 0);
    assert_int_equal(wait, 5000);
    yajl_tree_free(a);
    a = parse("{\"wait_ms\": 600001}");
    assert_int_equal(toolspec_run_args(a, &canvas, &wait, &err), -1);
    expect_error(err, "INVALID_ARGUMENT", "wait_ms");
    yajl_tree_free(a);

    const char *prompt = NULL, *node = NULL;
    uint32_t index = 7;
    a = parse("{\"prompt_id\": \"p1\", \"node_id\": \"9\"}");
    assert_int_equal(toolspec_run_id_args(a, 1, &prompt, &node, &index, &err), 0);
    assert_string_equal(prompt, "p1");
    assert_string_equal(node, "9");
    assert_int_equal(index, 0);
    yajl_tree_free(a);
    a = parse("{\"prompt_id\": \"p1\"}");
    assert_int_equal(toolspec_run_id_args(a, 1, &prompt, &node, &index, &err), -1);
    expect_error(err, "INVALID_ARGUMENT", "node_id is required");
    assert_int_equal(toolspec_run_id_args(a, 0, &prompt, &node, &index, &err), 0);
    yajl_tree_free(a);
    a = parse("{\"prompt_id\": \"p1\", \"node_id\": \"9\", \"index\": -1}");
    assert_int_equal(toolspec_run_id_args(a, 1, &prompt, &node, &index, &err), -1);
    expect_error(err, "INVALID_ARGUMENT", "index");
    yajl_tree_free(a);
}

static void error_results_carry_code_hint_and_a_cut_message(void **state)
{
    (void)state;
    char *e = toolspec_error("NO_LIVE_CANVAS", "open the editor", "no tab for %s", "c1");
    yajl_val v = parse(e);
    assert_string_equal(str_at(v, "error"), "no tab for c1");
    assert_string_equal(str_at(v, "code"), "NO_LIVE_CANVAS");
    assert_string_equal(str_at(v, "hint"), "open the editor");
    yajl_tree_free(v);
    free(e);

    /* A long message with multi-byte characters stays valid UTF-8. */
    char *long_msg = malloc(8192);
    assert_non_null(long_msg);
    for (int i = 0; i < 8190; i += 2)
        memcpy(long_msg + i, "\xC3\xA9", 2);
    long_msg[8190] = 0;
    e = toolspec_error("INVALID_ARGUMENT", NULL, "%s", long_msg);
    v = parse(e); /* yajl refuses invalid UTF-8 */
    assert_null(str_at(v, "hint"));
    yajl_tree_free(v);
    free(e);
    free(long_msg);

    assert_string_equal(
        toolspec_code_name(COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NO_LIVE_CANVAS),
        "NO_LIVE_CANVAS");
    assert_string_equal(
        toolspec_code_name(COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_UNKNOWN_NODE_TYPE),
        "UNKNOWN_NODE_TYPE");
    assert_non_null(toolspec_hint(COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NO_LIVE_CANVAS));

    e = toolspec_no_commands();
    v = parse(e);
    assert_string_equal(str_at(v, "code"), "INVALID_ARGUMENT");
    yajl_tree_free(v);
    free(e);

    const char *sugg[] = {"KSampler", "KSamplerAdvanced"};
    e = toolspec_unknown_type("KSamplr", sugg, 2);
    v = parse(e);
    assert_string_equal(str_at(v, "code"), "UNKNOWN_NODE_TYPE");
    assert_non_null(strstr(e, "KSamplerAdvanced"));
    yajl_tree_free(v);
    free(e);
}

static const char GRAPH[] =
    "{\"canvas_id\": \"c1\", \"revision\": \"7\", \"title\": \"txt2img\", \"nodes\": ["
    "{\"id\": \"3\", \"type\": \"KSampler\", \"widgets\": [{\"name\": \"steps\", \"value\": "
    "{\"integer\": \"20\"}}], \"outputs\": [{\"name\": \"LATENT\", \"type\": \"LATENT\", "
    "\"links\": [\"9\"]}]},"
    "{\"id\": \"8\", \"type\": \"VAEDecode\", \"inputs\": [{\"name\": \"samples\", \"type\": "
    "\"LATENT\", \"link\": \"9\"}]},"
    "{\"id\": \"10\", \"type\": \"SaveImage\"}],"
    "\"links\": [{\"id\": \"9\", \"from_id\": \"3\", \"from_slot\": 0, \"to_id\": \"8\", "
    "\"to_slot\": 0, \"type\": \"LATENT\"}]}";

static Comfyd__V1__Graph *graph(void)
{
    ProtobufCMessage *m = NULL;
    char err[256];
    int rc = jsonpb_decode(&comfyd__v1__graph__descriptor, GRAPH, strlen(GRAPH), NULL, &m, err,
                           sizeof err);
    if (rc) fail_msg("graph fixture: %s", err);
    return (Comfyd__V1__Graph *)m;
}

static void outline_lists_nodes_widgets_and_links(void **state)
{
    (void)state;
    Comfyd__V1__Graph *g = graph();
    char *o = toolspec_graph_outline(g, NULL, 0);
    assert_non_null(o);
    yajl_val v = parse(o);
    assert_string_equal(str_at(v, "canvas_id"), "c1");
    const char *nodes_path[] = {"nodes", NULL};
    yajl_val nodes = yajl_tree_get(v, nodes_path, yajl_t_array);
    assert_non_null(nodes);
    assert_int_equal(nodes->u.array.len, 3);
    const char *first = item(nodes, 0);
    assert_non_null(strstr(first, "#3 KSampler"));
    assert_non_null(strstr(first, "steps=20"));
    assert_non_null(strstr(first, "LATENT->#8.samples"));
    assert_non_null(strstr(item(nodes, 1), "samples<-#3.LATENT"));
    yajl_tree_free(v);
    free(o);

    /* Restricted to the ids asked for. */
    int64_t ids[] = {10};
    o = toolspec_graph_outline(g, ids, 1);
    v = parse(o);
    nodes = yajl_tree_get(v, nodes_path, yajl_t_array);
    assert_int_equal(nodes->u.array.len, 1);
    assert_non_null(strstr(item(nodes, 0), "#10 SaveImage"));
    yajl_tree_free(v);
    free(o);

    /* Full detail of node 8: the node and the link touching it. */
    int64_t eight[] = {8};
    char *full = NULL;
    assert_int_equal(toolspec_graph_full(g, eight, 1, &full), 0);
    v = parse(full);
    nodes = yajl_tree_get(v, nodes_path, yajl_t_array);
    assert_int_equal(nodes->u.array.len, 1);
    const char *links_path[] = {"links", NULL};
    assert_int_equal(yajl_tree_get(v, links_path, yajl_t_array)->u.array.len, 1);
    yajl_tree_free(v);
    free(full);
    protobuf_c_message_free_unpacked(&g->base, NULL);
}

static void run_status_and_line_name_every_state(void **state)
{
    (void)state;
    assert_string_equal(toolspec_run_status(COMFYD__V1__RUN_STATUS__RUN_STATUS_SUCCEEDED),
                        "succeeded");
    assert_string_equal(toolspec_run_status(COMFYD__V1__RUN_STATUS__RUN_STATUS_FAILED), "failed");
    for (int s = 0; s <= COMFYD__V1__RUN_STATUS__RUN_STATUS_UNKNOWN; s++)
        assert_non_null(toolspec_run_status((Comfyd__V1__RunStatus)s));

    Comfyd__V1__Run r = COMFYD__V1__RUN__INIT;
    r.prompt_id = "p1";
    r.canvas_id = "c1";
    r.status = COMFYD__V1__RUN_STATUS__RUN_STATUS_SUCCEEDED;
    char line[128];
    toolspec_run_line(&r, line, sizeof line);
    assert_non_null(strstr(line, "succeeded"));
    char *res = toolspec_run_result(&r, 1, 1);
    yajl_val v = parse(res);
    assert_string_equal(str_at(v, "prompt_id"), "p1");
    assert_string_equal(str_at(v, "status"), "succeeded");
    const char *to[] = {"timed_out", NULL};
    assert_true(YAJL_IS_TRUE(yajl_tree_get(v, to, yajl_t_any)));
    yajl_tree_free(v);
    free(res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_tool_has_a_name_a_description_and_an_object_schema),
        cmocka_unit_test(check_args_takes_exactly_the_schema_properties),
        cmocka_unit_test(get_graph_args_read_detail_and_node_ids),
        cmocka_unit_test(schema_and_run_args_are_checked),
        cmocka_unit_test(error_results_carry_code_hint_and_a_cut_message),
        cmocka_unit_test(outline_lists_nodes_widgets_and_links),
        cmocka_unit_test(run_status_and_line_name_every_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

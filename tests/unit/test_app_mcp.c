/* Unit tests of the bridge's MCP application layer (bridge/app_mcp.c): its
 * tool table (names, which tools share common/toolspec's definitions), the
 * tools/list answer with the generated input schemas, and the words it
 * uses for message and run states. The file is compiled in here so that its
 * static tables and helpers are reachable; its exported functions take the
 * place of the library's copy at link time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../bridge/app_mcp.c"

static yajl_val parse(const char *json)
{
    char eb[128];
    yajl_val v = yajl_tree_parse(json, eb, sizeof eb);
    if (!v) fail_msg("not JSON (%s)", eb);
    return v;
}

static yajl_val get(yajl_val v, const char *a, const char *b, yajl_type t)
{
    const char *path[] = {a, b, NULL};
    return yajl_tree_get(v, path, t);
}

static void tool_names_are_unique_and_found_again(void **state)
{
    (void)state;
    for (int t = 0; t < T__COUNT; t++) {
        const char *name = tool_name((tool_id)t);
        assert_non_null(name);
        assert_int_equal(strspn(name, "abcdefghijklmnopqrstuvwxyz_"), strlen(name));
        tool_id found = T__COUNT;
        assert_true(tool_find(name, &found));
        assert_int_equal(found, t);
        /* A tool either shares the skills' definition or has its own
         * request message to generate a schema from, never both. */
        const toolspec_def *d = toolspec_get(spec_of[t]);
        assert_true((d != NULL) != (tools[t].req != NULL));
        if (d) assert_string_equal(d->name, name);
    }
    tool_id none;
    assert_false(tool_find("no_such_tool", &none));
    assert_false(tool_find("", &none));
    assert_int_equal(strcmp(tool_name(T_GET_GRAPH), "get_graph"), 0);
}

/* The schemas as app__mcp_routes builds them. */
static app_mcp *mcp_state(void)
{
    app_mcp *m = calloc(1, sizeof *m);
    assert_non_null(m);
    for (int t = 0; t < T__COUNT; t++) {
        if (!tools[t].req) continue;
        size_t len;
        assert_int_equal(
            mcp_schema_from_descriptor(tools[t].req, &tools[t].opts, &m->schemas[t], &len), MCP_OK);
        assert_int_equal(strlen(m->schemas[t]), len);
    }
    return m;
}

static void mcp_state_free(app_mcp *m)
{
    for (int t = 0; t < T__COUNT; t++)
        free(m->schemas[t]);
    free(m);
}

static yajl_val tool_entry(yajl_val list, const char *name)
{
    yajl_val tools_v = get(list, "tools", NULL, yajl_t_array);
    assert_non_null(tools_v);
    for (size_t i = 0; i < tools_v->u.array.len; i++) {
        yajl_val n = get(tools_v->u.array.values[i], "name", NULL, yajl_t_string);
        if (n && !strcmp(n->u.string, name)) return tools_v->u.array.values[i];
    }
    fail_msg("tools/list lacks %s", name);
    return NULL;
}

static void tools_list_has_every_tool_with_an_object_schema_and_its_hints(void **state)
{
    (void)state;
    app_mcp *m = mcp_state();
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(tools_list(m, "2025-06-18", &out, &len), MCP_OK);
    assert_int_equal(strlen(out), len);
    yajl_val v = parse(out);
    assert_int_equal(get(v, "tools", NULL, yajl_t_array)->u.array.len, T__COUNT);
    for (int t = 0; t < T__COUNT; t++) {
        yajl_val e = tool_entry(v, tool_name((tool_id)t));
        yajl_val type = get(e, "inputSchema", "type", yajl_t_string);
        assert_non_null(type);
        assert_string_equal(YAJL_GET_STRING(type), "object");
        assert_non_null(get(e, "description", NULL, yajl_t_string));
        yajl_val ro = get(e, "annotations", "readOnlyHint", yajl_t_any);
        assert_non_null(ro);
        int read_only =
            toolspec_get(spec_of[t]) ? toolspec_get(spec_of[t])->read_only : tools[t].read_only;
        assert_int_equal(YAJL_IS_TRUE(ro), read_only);
    }
    /* apply_patch changes the canvas and may undo work: destructive. */
    yajl_val apply = tool_entry(v, "apply_patch");
    assert_true(YAJL_IS_TRUE(get(apply, "annotations", "destructiveHint", yajl_t_any)));
    /* The generated schemas leave out what the bridge sets itself. */
    yajl_val load = tool_entry(v, "load_workflow");
    const char *p[] = {"inputSchema", "properties", NULL};
    yajl_val props = yajl_tree_get(load, p, yajl_t_object);
    assert_non_null(props);
    for (size_t i = 0; i < props->u.object.len; i++) {
        assert_string_not_equal(props->u.object.keys[i], "idempotency_key");
        assert_string_not_equal(props->u.object.keys[i], "timeout_ms");
    }
    yajl_val create = tool_entry(v, "create_session");
    assert_null(strstr(out + 0, "\"api_key\":"));
    assert_non_null(get(create, "inputSchema", "properties", yajl_t_object));
    /* The documented fields carry their description. */
    yajl_val save = tool_entry(v, "save_workflow");
    const char *np[] = {"inputSchema", "properties", "name", "description", NULL};
    assert_non_null(yajl_tree_get(save, np, yajl_t_string));
    yajl_tree_free(v);
    free(out);

    /* The oldest version has no titles; the tools are the same. */
    assert_int_equal(tools_list(m, "2024-11-05", &out, &len), MCP_OK);
    v = parse(out);
    assert_int_equal(get(v, "tools", NULL, yajl_t_array)->u.array.len, T__COUNT);
    assert_null(get(tool_entry(v, "get_graph"), "title", NULL, yajl_t_any));
    yajl_tree_free(v);
    free(out);
    mcp_state_free(m);
}

static void message_and_run_states_use_the_documented_words(void **state)
{
    (void)state;
    assert_string_equal(state_name(COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_QUEUED), "queued");
    assert_string_equal(state_name(COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_DONE), "done");
    assert_string_equal(state_name(COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_FAILED), "failed");
    assert_string_equal(state_name((Comfyd__V1__MessageState)99), "unknown");
    assert_false(run_over(COMFYD__V1__RUN_STATUS__RUN_STATUS_QUEUED));
    assert_false(run_over(COMFYD__V1__RUN_STATUS__RUN_STATUS_RUNNING));
    assert_true(run_over(COMFYD__V1__RUN_STATUS__RUN_STATUS_SUCCEEDED));
    assert_true(run_over(COMFYD__V1__RUN_STATUS__RUN_STATUS_CANCELLED));
    assert_true(run_over(COMFYD__V1__RUN_STATUS__RUN_STATUS_UNKNOWN));
}

/* A tool result is the message as the HTTP API writes it. */
static void results_are_encoded_in_the_http_api_style(void **state)
{
    (void)state;
    Comfyd__V1__Graph g = COMFYD__V1__GRAPH__INIT;
    g.canvas_id = "c1";
    g.revision = 7;
    char *out = encode_result(&g.base, 0);
    assert_non_null(out);
    yajl_val v = parse(out);
    yajl_val id = get(v, "canvas_id", NULL, yajl_t_string);
    assert_non_null(id);
    assert_string_equal(YAJL_GET_STRING(id), "c1");
    assert_non_null(get(v, "revision", NULL, yajl_t_any));
    yajl_tree_free(v);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tool_names_are_unique_and_found_again),
        cmocka_unit_test(tools_list_has_every_tool_with_an_object_schema_and_its_hints),
        cmocka_unit_test(message_and_run_states_use_the_documented_words),
        cmocka_unit_test(results_are_encoded_in_the_http_api_style),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

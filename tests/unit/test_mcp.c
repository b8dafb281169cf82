/* mcp: JSON-RPC parsing and classification, versions, answers, schemas
 * from descriptors, Accept and sessions (the SSE parser is common/sse,
 * tested by test_sse). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comfyd/v1/graph.pb-c.h"
#include "comfyd/v1/session.pb-c.h"
#include "jsonpb.h"

static yajl_val parse_ok(const char *json)
{
    yajl_val v = NULL;
    char err[256] = "";
    int rc = mcp_parse(json, strlen(json), &v, err, sizeof err);
    if (rc != MCP_OK) fprintf(stderr, "parse %s: %s\n", json, err);
    assert_int_equal(rc, MCP_OK);
    return v;
}

static int parse_rc(const char *json, size_t len)
{
    yajl_val v = NULL;
    char err[256] = "";
    int rc = mcp_parse(json, len, &v, err, sizeof err);
    if (rc != MCP_OK) {
        assert_null(v);
        assert_true(err[0] != '\0');
    }
    yajl_tree_free(v);
    return rc;
}

/* ---- parsing ---- */

static void malformed_json_is_a_parse_error_and_limits_are_too_big(void **state)
{
    (void)state;
    assert_int_equal(parse_rc("{\"jsonrpc\":", 11), MCP_E_PARSE);
    assert_int_equal(parse_rc("", 0), MCP_E_PARSE);
    assert_int_equal(parse_rc("{} trailing", 11), MCP_E_PARSE);
    assert_int_equal(parse_rc("{/*c*/}", 7), MCP_E_PARSE);
    assert_int_equal(parse_rc("{\"a\":\"\\u0000\"}", 14), MCP_E_PARSE);
    assert_int_equal(parse_rc("{\"a\":\"\\udc00\"}", 14), MCP_E_PARSE);
    assert_int_equal(parse_rc("{\"a\":\"\xff\"}", 8), MCP_E_PARSE);
    assert_int_equal(parse_rc("{\"a\"\0:1}", 8), MCP_E_PARSE);
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    assert_int_equal(parse_rc(deep, sizeof deep), MCP_E_TOOBIG);
    char *big = malloc(MCP_MAX_MESSAGE_BYTES + 2);
    assert_non_null(big);
    memset(big, ' ', MCP_MAX_MESSAGE_BYTES + 1);
    big[0] = '1';
    assert_int_equal(parse_rc(big, MCP_MAX_MESSAGE_BYTES + 1), MCP_E_TOOBIG);
    free(big);
    /* A surrogate pair is fine. */
    yajl_tree_free(parse_ok("{\"a\":\"\\ud83d\\ude00\"}"));
}

static int classify(const char *json, mcp_msg *m, char *err, size_t errlen)
{
    yajl_val v = parse_ok(json);
    int rc = mcp_message(v, m, err, errlen);
    /* The borrowed pointers die with the tree; the tests read the id. */
    m->method = NULL;
    m->params = NULL;
    yajl_tree_free(v);
    return rc;
}

static void requests_notifications_and_responses_are_told_apart(void **state)
{
    (void)state;
    mcp_msg m;
    char err[256];
    yajl_val v = parse_ok("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\",\"params\":{}}");
    assert_int_equal(mcp_message(v, &m, err, sizeof err), MCP_OK);
    assert_int_equal(m.kind, MCP_MSG_REQUEST);
    assert_string_equal(m.id, "7");
    assert_string_equal(m.method, "tools/list");
    assert_non_null(m.params);
    yajl_tree_free(v);

    v = parse_ok("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    assert_int_equal(mcp_message(v, &m, err, sizeof err), MCP_OK);
    assert_int_equal(m.kind, MCP_MSG_NOTIFICATION);
    assert_string_equal(m.id, "");
    assert_null(m.params);
    yajl_tree_free(v);

    assert_int_equal(
        classify("{\"jsonrpc\":\"2.0\",\"id\":\"a\\\"b\",\"result\":{}}", &m, err, sizeof err),
        MCP_OK);
    assert_int_equal(m.kind, MCP_MSG_RESPONSE);
    assert_string_equal(m.id, "\"a\\\"b\"");
    assert_int_equal(
        classify("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-1,\"message\":\"x\"}}", &m,
                 err, sizeof err),
        MCP_OK);
    assert_int_equal(m.kind, MCP_MSG_RESPONSE);
}

static void invalid_messages_are_invalid_requests_with_the_id_when_readable(void **state)
{
    (void)state;
    mcp_msg m;
    char err[256];
    static const char *const bad[] = {
        "[]",
        "{\"id\":1,\"method\":\"x\"}",
        "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"x\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"x\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"x\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"x\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":[1]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"result\":1}",
        "{\"jsonrpc\":\"2.0\",\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1,\"error\":{\"code\":1,\"message\":\"m\"}}",
        "{\"jsonrpc\":\"2.0\",\"result\":1}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"x\",\"message\":\"m\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (classify(bad[i], &m, err, sizeof err) != MCP_E_INVALID) fail_msg("accepted %s", bad[i]);
        assert_true(err[0] != '\0');
    }
    /* The id of a malformed request is kept for the error answer. */
    assert_int_equal(
        classify("{\"jsonrpc\":\"1.0\",\"id\":42,\"method\":\"x\"}", &m, err, sizeof err),
        MCP_E_INVALID);
    assert_string_equal(m.id, "42");
    assert_int_equal(
        classify("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"x\"}", &m, err, sizeof err),
        MCP_E_INVALID);
    assert_string_equal(m.id, "");
}

/* ---- versions ---- */

static void versions_negotiate_to_the_asked_or_the_newest_and_gate_features(void **state)
{
    (void)state;
    assert_string_equal(mcp_latest_version(), "2025-11-25");
    assert_string_equal(mcp_negotiate("2025-03-26"), "2025-03-26");
    assert_string_equal(mcp_negotiate("2024-11-05"), "2024-11-05");
    assert_string_equal(mcp_negotiate("2099-01-01"), "2025-11-25");
    assert_string_equal(mcp_negotiate(NULL), "2025-11-25");
    assert_true(mcp_version_supported("2025-06-18", 10));
    assert_false(mcp_version_supported("2025-06-1", 9));
    assert_false(mcp_version_supported("2026-07-28", 10));
    assert_true(mcp_version_batches("2025-03-26"));
    assert_false(mcp_version_batches("2025-06-18"));
    assert_false(mcp_version_batches("2025-11-25"));
    assert_false(mcp_version_batches("2024-11-05"));
    assert_false(mcp_version_annotations("2024-11-05"));
    assert_true(mcp_version_annotations("2025-03-26"));
    assert_false(mcp_version_structured("2025-03-26"));
    assert_true(mcp_version_structured("2025-06-18"));
    assert_true(mcp_version_structured("2025-11-25"));
    assert_false(mcp_version_structured("bogus"));
}

/* ---- answers ---- */

static void answers_have_exact_bytes(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(mcp_result("7", "{\"a\":[1,true]}", &out, &len), MCP_OK);
    assert_string_equal(out, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"a\":[1,true]}}");
    assert_int_equal(len, strlen(out));
    free(out);
    assert_int_equal(mcp_error("\"x\"", -32601, "method not found: y", NULL, &out, &len), MCP_OK);
    assert_string_equal(out, "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":{\"code\":-32601,"
                             "\"message\":\"method not found: "
                             "y\"}}");
    free(out);
    assert_int_equal(mcp_error(NULL, -32700, "Parse error", "{\"at\":3}", &out, &len), MCP_OK);
    assert_string_equal(out,
                        "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":"
                        "\"Parse error\",\"data\":{\"at\":3}}}");
    free(out);
    /* A message that is not UTF-8 is dropped, the error still goes out. */
    assert_int_equal(mcp_error("1", -32603, "bad \xff", NULL, &out, &len), MCP_OK);
    assert_string_equal(
        out, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32603,\"message\":\"\"}}");
    free(out);
    assert_int_equal(mcp_progress("\"t\"", 3, 10, "half way", &out, &len), MCP_OK);
    assert_string_equal(out,
                        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{"
                        "\"progressToken\":\"t\",\"progress\":3,\"total\":10,\"message\":"
                        "\"half way\"}}");
    free(out);
    assert_int_equal(mcp_progress("5", 1, 0, NULL, &out, &len), MCP_OK);
    assert_string_equal(out,
                        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{"
                        "\"progressToken\":5,\"progress\":1}}");
    free(out);
    assert_int_equal(mcp_notification("notifications/x", NULL, &out, &len), MCP_OK);
    assert_string_equal(out, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}");
    free(out);
    assert_int_equal(mcp_result("", "{}", &out, &len), MCP_E_ARG);
    assert_int_equal(mcp_progress("", 1, 0, NULL, &out, &len), MCP_E_ARG);
}

static void elicitation_is_a_declared_capability_of_a_version_that_has_it(void **state)
{
    (void)state;
    yajl_val v = parse_ok("{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{"
                          "\"elicitation\":{}}}");
    assert_true(mcp_client_elicits(v));
    yajl_tree_free(v);
    static const char *const no[] = {
        "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{}}",
        "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{\"elicitation\":true}}",
        "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{\"sampling\":{}}}",
        "{\"protocolVersion\":\"2025-06-18\"}",
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        v = parse_ok(no[i]);
        assert_false(mcp_client_elicits(v));
        yajl_tree_free(v);
    }
    assert_false(mcp_client_elicits(NULL));
    assert_false(mcp_version_elicitation("2024-11-05"));
    assert_false(mcp_version_elicitation("2025-03-26"));
    assert_true(mcp_version_elicitation("2025-06-18"));
    assert_true(mcp_version_elicitation("2025-11-25"));
}

static void initialize_params_are_checked_and_the_result_follows_the_version(void **state)
{
    (void)state;
    const char *version;
    char client[MCP_MAX_CLIENT_NAME + 1];
    char err[256];
    yajl_val v = parse_ok("{\"protocolVersion\":\"2025-03-26\",\"capabilities\":{},"
                          "\"clientInfo\":{\"name\":\"cli\\nent\",\"version\":\"1\"}}");
    assert_int_equal(mcp_initialize_params(v, &version, client, sizeof client, err, sizeof err),
                     MCP_OK);
    assert_string_equal(version, "2025-03-26");
    assert_string_equal(client, "cli?ent");
    yajl_tree_free(v);
    v = parse_ok("{\"protocolVersion\":\"1999-01-01\"}");
    assert_int_equal(mcp_initialize_params(v, &version, client, sizeof client, err, sizeof err),
                     MCP_OK);
    assert_string_equal(version, "2025-11-25");
    assert_string_equal(client, "");
    yajl_tree_free(v);
    static const char *const bad[] = {
        "{}",
        "{\"protocolVersion\":5}",
        "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":[]}",
        "{\"protocolVersion\":\"2025-06-18\",\"clientInfo\":\"x\"}",
        "{\"protocolVersion\":\"2025-06-18\",\"clientInfo\":{\"name\":1}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = parse_ok(bad[i]);
        assert_int_equal(mcp_initialize_params(v, &version, client, sizeof client, err, sizeof err),
                         MCP_E_PARAMS);
        yajl_tree_free(v);
    }
    assert_int_equal(mcp_initialize_params(NULL, &version, client, sizeof client, err, sizeof err),
                     MCP_E_PARAMS);

    mcp_server_info info = {"srv", "Server", "1.2", "Use the tools."};
    char *out = NULL;
    size_t len;
    assert_int_equal(mcp_initialize_result("2025-06-18", &info, &out, &len), MCP_OK);
    assert_string_equal(out,
                        "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{\"tools\":{"
                        "\"listChanged\":false}},\"serverInfo\":{\"name\":\"srv\",\"title\":"
                        "\"Server\",\"version\":\"1.2\"},\"instructions\":\"Use the tools.\"}");
    free(out);
    assert_int_equal(mcp_initialize_result("2025-03-26", &info, &out, &len), MCP_OK);
    assert_null(strstr(out, "title"));
    free(out);
}

static const mcp_tool tools2[] = {
    {"read", "Read", "Reads.", "{\"type\":\"object\"}", NULL, 1, 0, 1, 0},
    {"write", "Write", "Writes.", "{\"type\":\"object\",\"properties\":{}}", NULL, 0, 1, 0, 1},
};

static void tools_list_shows_what_each_version_knows(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len;
    assert_int_equal(mcp_tools_list_result(tools2, 2, "2024-11-05", &out, &len), MCP_OK);
    assert_string_equal(out, "{\"tools\":[{\"name\":\"read\",\"description\":\"Reads.\","
                             "\"inputSchema\":{\"type\":\"object\"}},{\"name\":\"write\","
                             "\"description\":\"Writes.\",\"inputSchema\":{\"type\":\"object\","
                             "\"properties\":{}}}]}");
    free(out);
    assert_int_equal(mcp_tools_list_result(tools2, 2, "2025-03-26", &out, &len), MCP_OK);
    assert_non_null(strstr(out, "\"annotations\":{\"readOnlyHint\":true,\"openWorldHint\":false}"));
    assert_non_null(strstr(out, "\"annotations\":{\"readOnlyHint\":false,\"destructiveHint\":true,"
                                "\"idempotentHint\":false,\"openWorldHint\":true}"));
    assert_null(strstr(out, "\"title\""));
    free(out);
    assert_int_equal(mcp_tools_list_result(tools2, 2, "2025-11-25", &out, &len), MCP_OK);
    assert_non_null(strstr(out, "{\"name\":\"read\",\"title\":\"Read\",\"description\""));
    free(out);
}

static void call_params_name_arguments_and_progress_token(void **state)
{
    (void)state;
    const char *name;
    yajl_val args;
    char token[64];
    char err[256];
    yajl_val v = parse_ok("{\"name\":\"get_graph\",\"arguments\":{\"a\":1},\"_meta\":{"
                          "\"progressToken\":\"tok\"}}");
    assert_int_equal(mcp_call_params(v, &name, &args, token, sizeof token, err, sizeof err),
                     MCP_OK);
    assert_string_equal(name, "get_graph");
    assert_true(YAJL_IS_OBJECT(args));
    assert_string_equal(token, "\"tok\"");
    yajl_tree_free(v);
    v = parse_ok("{\"name\":\"x\",\"_meta\":{\"progressToken\":12}}");
    assert_int_equal(mcp_call_params(v, &name, &args, token, sizeof token, err, sizeof err),
                     MCP_OK);
    assert_null(args);
    assert_string_equal(token, "12");
    yajl_tree_free(v);
    v = parse_ok("{\"name\":\"x\"}");
    assert_int_equal(mcp_call_params(v, &name, &args, token, sizeof token, err, sizeof err),
                     MCP_OK);
    assert_string_equal(token, "");
    yajl_tree_free(v);
    static const char *const bad[] = {
        "{}",
        "{\"name\":\"\"}",
        "{\"name\":3}",
        "{\"name\":\"x\",\"arguments\":[]}",
        "{\"name\":\"x\",\"_meta\":1}",
        "{\"name\":\"x\",\"_meta\":{\"progressToken\":{}}}",
        "{\"name\":\"x\",\"_meta\":{\"progressToken\":1.5}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = parse_ok(bad[i]);
        if (mcp_call_params(v, &name, &args, token, sizeof token, err, sizeof err) != MCP_E_PARAMS)
            fail_msg("accepted %s", bad[i]);
        yajl_tree_free(v);
    }
}

static void tool_results_carry_structured_content_from_2025_06_18(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len;
    assert_int_equal(
        mcp_tool_result("{\"revision\":3}", "{\"revision\":3}", 0, "2025-06-18", &out, &len),
        MCP_OK);
    assert_string_equal(out, "{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"revision\\\":3}\"}],"
                             "\"structuredContent\":{\"revision\":3},\"isError\":false}");
    free(out);
    assert_int_equal(mcp_tool_result("oops", "{\"error\":\"oops\"}", 1, "2025-03-26", &out, &len),
                     MCP_OK);
    assert_string_equal(out,
                        "{\"content\":[{\"type\":\"text\",\"text\":\"oops\"}],\"isError\":true}");
    free(out);
}

static void sse_events_frame_one_message(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len;
    assert_int_equal(mcp_sse_event("{\"a\":1}", 7, &out, &len), MCP_OK);
    assert_string_equal(out, "event: message\ndata: {\"a\":1}\n\n");
    assert_int_equal(len, strlen(out));
    free(out);
    assert_int_equal(mcp_sse_event("{\n}", 3, &out, &len), MCP_E_ARG);
}

/* ---- schemas ---- */

static yajl_val schema_of(const ProtobufCMessageDescriptor *d, const mcp_schema_opts *o)
{
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(mcp_schema_from_descriptor(d, o, &out, &len), MCP_OK);
    yajl_val v = parse_ok(out);
    free(out);
    return v;
}

static yajl_val at(yajl_val v, const char *a, const char *b, const char *c)
{
    const char *path[] = {a, b, c, NULL};
    return yajl_tree_get(v, path, yajl_t_any);
}

static void schemas_from_descriptors_describe_what_jsonpb_decodes(void **state)
{
    (void)state;
    static const mcp_field_doc docs[] = {{"name", "The name."}};
    static const char *const req[] = {"name"};
    mcp_schema_opts o = {docs, 1, NULL, 0, req, 1, NULL};
    char *out = NULL;
    size_t len;
    assert_int_equal(
        mcp_schema_from_descriptor(&comfyd__v1__save_request__descriptor, &o, &out, &len), MCP_OK);
    assert_string_equal(out, "{\"type\":\"object\",\"properties\":{\"canvas_id\":{\"type\":"
                             "\"string\"},\"name\":{\"type\":\"string\",\"description\":\"The "
                             "name.\"},\"overwrite\":{\"type\":\"boolean\"}},\"required\":["
                             "\"name\"],\"additionalProperties\":false}");
    free(out);

    /* Wrappers are nullable scalars; enums their short names without the
     * zero value; maps objects; repeated messages arrays of objects. */
    yajl_val v = schema_of(&comfyd__v1__configure_session_request__descriptor, NULL);
    yajl_val t = at(v, "properties", "title", "type");
    assert_true(YAJL_IS_ARRAY(t));
    assert_string_equal(t->u.array.values[0]->u.string, "string");
    assert_string_equal(t->u.array.values[1]->u.string, "null");
    assert_string_equal(at(v, "properties", "active_skills", "type")->u.string, "object");
    yajl_tree_free(v);
    v = schema_of(&comfyd__v1__execute_batch_request__descriptor, NULL);
    yajl_val e = at(v, "properties", "mode", "enum");
    assert_true(YAJL_IS_ARRAY(e));
    assert_int_equal(e->u.array.len, 2);
    assert_string_equal(e->u.array.values[0]->u.string, "atomic");
    assert_string_equal(e->u.array.values[1]->u.string, "partial");
    assert_string_equal(at(v, "properties", "commands", "type")->u.string, "array");
    assert_string_equal(at(v, "properties", "commands", "items")->u.object.values[0]->u.string,
                        "object");
    assert_string_equal(at(v, "properties", "base_revision", "minimum")->u.number.r, "0");
    yajl_tree_free(v);
    v = schema_of(&comfyd__v1__execute_batch_response__descriptor, NULL);
    assert_string_equal(at(v, "properties", "refs", "type")->u.string, "object");
    assert_string_equal(
        at(v, "properties", "refs", "additionalProperties")->u.object.values[0]->u.string,
        "integer");
    yajl_tree_free(v);
}

static void schema_options_skip_document_arrays_and_add_properties(void **state)
{
    (void)state;
    static const mcp_field_doc docs[] = {
        {"config.model", "Model."},
        {"config.active_skills", "Skills."},
    };
    static const char *const skip[] = {"api_key", "config.api_key_set"};
    mcp_schema_opts o = {docs, 2, skip, 2, NULL, 0, "\"wait_ms\":{\"type\":\"integer\"}"};
    yajl_val v = schema_of(&comfyd__v1__create_session_request__descriptor, &o);
    assert_null(at(v, "properties", "api_key", NULL));
    yajl_val cfg = at(v, "properties", "config", NULL);
    assert_non_null(cfg);
    assert_null(at(cfg, "properties", "api_key_set", NULL));
    assert_string_equal(at(cfg, "properties", "model", "description")->u.string, "Model.");
    /* The description is the array's, not its items'. */
    assert_string_equal(at(cfg, "properties", "active_skills", "description")->u.string, "Skills.");
    yajl_val skills = at(cfg, "properties", "active_skills", NULL);
    assert_null(at(skills, "items", "description", NULL));
    assert_string_equal(at(v, "properties", "wait_ms", "type")->u.string, "integer");
    assert_false(YAJL_IS_TRUE(at(v, "additionalProperties", NULL, NULL)));
    yajl_tree_free(v);
    char *out = NULL;
    size_t len;
    assert_int_equal(mcp_schema_from_descriptor(NULL, NULL, &out, &len), MCP_E_ARG);
}

/* An argument object that follows the generated schema decodes. */
static void arguments_that_follow_a_generated_schema_decode(void **state)
{
    (void)state;
    static const char args[] = "{\"session_id\":\"s1\",\"content\":\"hi\",\"skills\":[\"a\"],"
                               "\"client_message_id\":\"k\"}";
    ProtobufCMessage *m = NULL;
    char err[256] = "";
    assert_int_equal(jsonpb_decode(&comfyd__v1__send_message_request__descriptor, args,
                                   sizeof args - 1, NULL, &m, err, sizeof err),
                     0);
    protobuf_c_message_free_unpacked(m, NULL);
    yajl_val v = schema_of(&comfyd__v1__send_message_request__descriptor, NULL);
    yajl_val props = at(v, "properties", NULL, NULL);
    assert_int_equal(props->u.object.len, 5);
    /* Files sent with the message: objects with bytes as base64. */
    assert_string_equal(at(props, "attachments", "type", NULL)->u.string, "array");
    static const char cfg[] = "{\"title\":null,\"token_delay_ms\":5,\"active_skills\":{\"names\":["
                              "\"x\"]}}";
    assert_int_equal(jsonpb_decode(&comfyd__v1__configure_session_request__descriptor, cfg,
                                   sizeof cfg - 1, NULL, &m, err, sizeof err),
                     0);
    protobuf_c_message_free_unpacked(m, NULL);
    yajl_tree_free(v);
}

/* ---- HTTP helpers ---- */

static void accept_headers_allow_json_stream_or_both(void **state)
{
    (void)state;
    static const struct {
        const char *h;
        int json, sse;
    } cases[] = {
        {"application/json, text/event-stream", 1, 1},
        {"text/event-stream", 0, 1},
        {"Application/JSON;charset=utf-8", 1, 0},
        {"*/*", 1, 1},
        {"application/*", 1, 0},
        {"text/*;q=0.5", 0, 1},
        {"application/json;q=0, text/event-stream", 0, 1},
        {"application/json;q=0.0", 0, 0},
        {"text/html", 0, 0},
        {"", 0, 0},
        {"application/jsonx", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int j, s;
        mcp_accept(cases[i].h, strlen(cases[i].h), &j, &s);
        if (j != cases[i].json || s != cases[i].sse)
            fail_msg("%s: json %d sse %d", cases[i].h, j, s);
    }
    int j, s;
    mcp_accept(NULL, 0, &j, &s);
    assert_true(j && s);
}

static void session_ids_are_64_lower_hex(void **state)
{
    (void)state;
    char id[65];
    memset(id, 'a', 64);
    id[64] = '\0';
    assert_true(mcp_session_id_valid(id, 64));
    assert_false(mcp_session_id_valid(id, 63));
    id[3] = 'A';
    assert_false(mcp_session_id_valid(id, 64));
    assert_false(mcp_session_id_valid(NULL, 0));
}

/* ---- sessions ---- */

static void rnd(uint8_t r[MCP_SESSION_ID_BYTES], uint8_t seed)
{
    for (int i = 0; i < MCP_SESSION_ID_BYTES; i++)
        r[i] = (uint8_t)(seed * 31 + i);
}

static void sessions_are_found_by_id_until_removed_or_idle(void **state)
{
    (void)state;
    mcp_sessions *t;
    assert_int_equal(mcp_sessions_create(&t, 4, 1000), MCP_OK);
    uint8_t r[MCP_SESSION_ID_BYTES];
    rnd(r, 1);
    mcp_session *s;
    assert_int_equal(mcp_sessions_add(t, r, "2025-06-18", 0, &s), MCP_OK);
    assert_true(mcp_session_id_valid(s->id, strlen(s->id)));
    assert_string_equal(s->version, "2025-06-18");
    char id[MCP_SESSION_ID_LEN + 1];
    strcpy(id, s->id);
    assert_ptr_equal(mcp_sessions_find(t, id, strlen(id), 900), s);
    /* find touched it: still alive 1900 ms after the start. */
    assert_ptr_equal(mcp_sessions_find(t, id, strlen(id), 1900), s);
    assert_null(mcp_sessions_find(t, "nope", 4, 1900));
    /* Busy sessions do not expire. */
    s->inflight = 1;
    assert_int_equal(mcp_sessions_expire(t, 10000), 0);
    s->inflight = 0;
    assert_int_equal(mcp_sessions_expire(t, 10000), 1);
    assert_null(mcp_sessions_find(t, id, strlen(id), 10000));
    assert_int_equal(mcp_sessions_count(t), 0);
    /* An idle session found late is gone too. */
    assert_int_equal(mcp_sessions_add(t, r, "2025-06-18", 0, &s), MCP_OK);
    assert_null(mcp_sessions_find(t, s->id, MCP_SESSION_ID_LEN, 5000));
    assert_int_equal(mcp_sessions_add(t, r, "2025-06-18", 0, &s), MCP_OK);
    strcpy(id, s->id);
    assert_int_equal(mcp_sessions_remove(t, id, strlen(id)), 1);
    assert_int_equal(mcp_sessions_remove(t, id, strlen(id)), 0);
    mcp_sessions_destroy(t);
}

static void a_full_table_evicts_the_least_recently_used_idle_session(void **state)
{
    (void)state;
    mcp_sessions *t;
    assert_int_equal(mcp_sessions_create(&t, 2, 100000), MCP_OK);
    uint8_t r[MCP_SESSION_ID_BYTES];
    mcp_session *a, *b, *c;
    rnd(r, 1);
    assert_int_equal(mcp_sessions_add(t, r, "2025-11-25", 10, &a), MCP_OK);
    rnd(r, 2);
    assert_int_equal(mcp_sessions_add(t, r, "2025-11-25", 20, &b), MCP_OK);
    char ida[MCP_SESSION_ID_LEN + 1], idb[MCP_SESSION_ID_LEN + 1];
    strcpy(ida, a->id);
    strcpy(idb, b->id);
    mcp_sessions_find(t, ida, strlen(ida), 30); /* a is now the recent one */
    rnd(r, 3);
    assert_int_equal(mcp_sessions_add(t, r, "2025-11-25", 40, &c), MCP_OK);
    assert_null(mcp_sessions_find(t, idb, strlen(idb), 41));
    assert_non_null(mcp_sessions_find(t, ida, strlen(ida), 42));
    /* Every session busy: full. */
    mcp_session *x = mcp_sessions_find(t, ida, strlen(ida), 43);
    x->inflight = 1;
    c->inflight = 1;
    rnd(r, 4);
    assert_int_equal(mcp_sessions_add(t, r, "2025-11-25", 50, &b), MCP_E_FULL);
    assert_int_equal(mcp_sessions_count(t), 2);
    mcp_sessions *none;
    assert_int_equal(mcp_sessions_create(&none, 0, 1), MCP_E_ARG);
    assert_null(none);
    mcp_sessions_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(malformed_json_is_a_parse_error_and_limits_are_too_big),
        cmocka_unit_test(requests_notifications_and_responses_are_told_apart),
        cmocka_unit_test(invalid_messages_are_invalid_requests_with_the_id_when_readable),
        cmocka_unit_test(versions_negotiate_to_the_asked_or_the_newest_and_gate_features),
        cmocka_unit_test(answers_have_exact_bytes),
        cmocka_unit_test(initialize_params_are_checked_and_the_result_follows_the_version),
        cmocka_unit_test(elicitation_is_a_declared_capability_of_a_version_that_has_it),
        cmocka_unit_test(tools_list_shows_what_each_version_knows),
        cmocka_unit_test(call_params_name_arguments_and_progress_token),
        cmocka_unit_test(tool_results_carry_structured_content_from_2025_06_18),
        cmocka_unit_test(sse_events_frame_one_message),
        cmocka_unit_test(schemas_from_descriptors_describe_what_jsonpb_decodes),
        cmocka_unit_test(schema_options_skip_document_arrays_and_add_properties),
        cmocka_unit_test(arguments_that_follow_a_generated_schema_decode),
        cmocka_unit_test(accept_headers_allow_json_stream_or_both),
        cmocka_unit_test(session_ids_are_64_lower_hex),
        cmocka_unit_test(sessions_are_found_by_id_until_removed_or_idle),
        cmocka_unit_test(a_full_table_evicts_the_least_recently_used_idle_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

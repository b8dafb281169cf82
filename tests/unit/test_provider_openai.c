/* The OpenAI-compatible provider against tests/llm/fake_openai.py, a real
 * HTTP server playing scripted streams (tests/llm/scripts/<model>.json):
 * streaming, tool calls in pieces, retries, broken and hostile streams,
 * errors without secrets, cancellation and timeouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "provider.h"
#include "text.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_tree.h>

#include "../llm/fake_server.h"

static fake_server srv;

typedef struct rec {
    char text[8192];
    size_t len;
    size_t n_deltas;
    char deltas[64][64];
    int bad_utf8;
    size_t refuse_at;
    _Atomic int64_t first_delta_ms; /* read by the canceller thread */
    char logs[4096];
} rec;

static int on_delta(void *ud, const char *text, size_t len)
{
    rec *r = ud;
    if (r->n_deltas == 0) r->first_delta_ms = text_mono_ms();
    if (r->n_deltas < 64) snprintf(r->deltas[r->n_deltas], 64, "%.*s", (int)len, text);
    r->n_deltas++;
    if (len == 0 || !text_utf8_valid(text, len)) r->bad_utf8 = 1;
    if (r->refuse_at && r->n_deltas >= r->refuse_at) return 1;
    if (r->len + len < sizeof r->text) {
        memcpy(r->text + r->len, text, len);
        r->len += len;
        r->text[r->len] = 0;
    }
    return 0;
}

static void on_log(void *ud, int level, const char *message)
{
    rec *r = ud;
    (void)level;
    size_t n = strlen(r->logs);
    snprintf(r->logs + n, sizeof r->logs - n, "%s\n", message);
}

typedef struct call {
    prov_msg msgs[8];
    prov_request req;
    rec *r;
    prov_reply reply;
    char err[512];
    int rc;
    int64_t took_ms;
} call;

static call *call_new(const char *model)
{
    call *c = calloc(1, sizeof *c);
    c->r = calloc(1, sizeof *c->r);
    c->msgs[0] = (prov_msg){.role = PROV_ROLE_SYSTEM, .content = "You are a test."};
    c->msgs[1] = (prov_msg){.role = PROV_ROLE_USER, .content = "Hi"};
    c->req = (prov_request){
        .skill_name = "tester",
        .messages = c->msgs,
        .n_messages = 2,
        .model = model,
        .base_url = srv.base_url,
        .api_key = NULL,
    };
    return c;
}

static int call_run(call *c)
{
    prov_sink sink = {.ud = c->r, .delta = on_delta, .log = on_log};
    const provider *p = provider_find("openai");
    int64_t t0 = text_mono_ms();
    c->rc = p->run(p, &c->req, &sink, &c->reply, c->err, sizeof c->err);
    c->took_ms = text_mono_ms() - t0;
    return c->rc;
}

static void call_free(call *c)
{
    prov_reply_clear(&c->reply);
    free(c->r);
    free(c);
}

static int setup(void **state)
{
    (void)state;
    return fake_server_reset(&srv);
}

/* The n-th recorded request body, parsed. */
static yajl_val request_body(size_t n)
{
    char *line = fake_server_request(&srv, n);
    assert_non_null(line);
    char e[128];
    yajl_val v = yajl_tree_parse(line, e, sizeof e);
    free(line);
    assert_non_null(v);
    return v;
}

static const char *get_str(yajl_val v, const char **path)
{
    yajl_val s = yajl_tree_get(v, path, yajl_t_string);
    return s ? YAJL_GET_STRING(s) : NULL;
}

static void openai_is_a_known_provider(void **state)
{
    (void)state;
    assert_ptr_equal(provider_find("openai"), provider_openai());
    assert_string_equal(provider_openai()->name, "openai");
    assert_non_null(strstr(provider_names(), "openai"));
    assert_non_null(strstr(provider_names(), "echo"));
}

static void streams_text_in_whole_characters_and_reports_usage(void **state)
{
    (void)state;
    call *c = call_new("text-stream");
    c->req.api_key = "sk-test-key";
    assert_int_equal(call_run(c), PROV_OK);
    assert_string_equal(c->r->text, "Hello, world caf\xc3\xa9! Bye.");
    assert_false(c->r->bad_utf8);
    /* The character split across two chunks arrives whole, once. */
    assert_string_equal(c->r->deltas[2], " caf");
    assert_string_equal(c->r->deltas[3], "\xc3\xa9!");
    assert_string_equal(c->reply.content, c->r->text);
    assert_int_equal(c->reply.content_len, strlen(c->r->text));
    assert_string_equal(c->reply.finish_reason, "stop");
    assert_int_equal(c->reply.n_tool_calls, 0);
    assert_true(c->reply.usage_reported);
    assert_int_equal(c->reply.prompt_tokens, 21);
    assert_int_equal(c->reply.completion_tokens, 7);

    /* What the server received. */
    char *line = fake_server_request(&srv, 0);
    assert_non_null(line);
    assert_non_null(strstr(line, "\"authorization\": \"Bearer sk-test-key\""));
    assert_non_null(strstr(line, "\"path\": \"/v1/chat/completions\""));
    free(line);
    yajl_val b = request_body(0);
    const char *p_model[] = {"body", "model", NULL};
    const char *p_stream[] = {"body", "stream", NULL};
    const char *p_usage[] = {"body", "stream_options", "include_usage", NULL};
    const char *p_msgs[] = {"body", "messages", NULL};
    const char *p_tools[] = {"body", "tools", NULL};
    assert_string_equal(get_str(b, p_model), "text-stream");
    assert_true(YAJL_IS_TRUE(yajl_tree_get(b, p_stream, yajl_t_true)));
    assert_true(YAJL_IS_TRUE(yajl_tree_get(b, p_usage, yajl_t_true)));
    yajl_val msgs = yajl_tree_get(b, p_msgs, yajl_t_array);
    assert_non_null(msgs);
    assert_int_equal(YAJL_GET_ARRAY(msgs)->len, 2);
    const char *p_role[] = {"role", NULL};
    const char *p_content[] = {"content", NULL};
    assert_string_equal(get_str(YAJL_GET_ARRAY(msgs)->values[0], p_role), "system");
    assert_string_equal(get_str(YAJL_GET_ARRAY(msgs)->values[1], p_role), "user");
    assert_string_equal(get_str(YAJL_GET_ARRAY(msgs)->values[1], p_content), "Hi");
    assert_null(yajl_tree_get(b, p_tools, yajl_t_any)); /* no tools: no key */
    yajl_tree_free(b);
    call_free(c);
}

static void request_encodes_tools_and_tool_messages(void **state)
{
    (void)state;
    call *c = call_new("text-stream");
    prov_tool_call tc = {.id = "call_1", .name = "get_graph", .arguments_json = "{\"a\":1}"};
    c->msgs[2] = (prov_msg){
        .role = PROV_ROLE_ASSISTANT, .content = "", .tool_calls = &tc, .n_tool_calls = 1};
    c->msgs[3] =
        (prov_msg){.role = PROV_ROLE_TOOL, .content = "{\"nodes\":[]}", .tool_call_id = "call_1"};
    c->msgs[4] = (prov_msg){.role = PROV_ROLE_ASSISTANT, .content = "Done \xe2\x9c\x93"};
    c->req.n_messages = 5;
    prov_tool tools[] = {
        {"get_graph", "Returns the canvas.", ""},
        {"get_node_schema", "One node type.",
         "{ \"type\": \"object\", \"properties\": {\"type\": {\"type\": \"string\"}},"
         " \"required\": [\"type\"] }"},
    };
    c->req.tools = tools;
    c->req.n_tools = 2;
    assert_int_equal(call_run(c), PROV_OK);
    char *line = fake_server_request(&srv, 0);
    assert_null(strstr(line, "authorization\": \"Bearer")); /* no key: no header */
    free(line);
    yajl_val b = request_body(0);
    const char *p_msgs[] = {"body", "messages", NULL};
    yajl_val msgs = yajl_tree_get(b, p_msgs, yajl_t_array);
    assert_int_equal(YAJL_GET_ARRAY(msgs)->len, 5);
    yajl_val a = YAJL_GET_ARRAY(msgs)->values[2];
    const char *p_content[] = {"content", NULL};
    assert_true(YAJL_IS_NULL(yajl_tree_get(a, p_content, yajl_t_any)));
    const char *p_calls[] = {"tool_calls", NULL};
    yajl_val calls = yajl_tree_get(a, p_calls, yajl_t_array);
    assert_int_equal(YAJL_GET_ARRAY(calls)->len, 1);
    yajl_val c0 = YAJL_GET_ARRAY(calls)->values[0];
    const char *p_id[] = {"id", NULL};
    const char *p_type[] = {"type", NULL};
    const char *p_fname[] = {"function", "name", NULL};
    const char *p_fargs[] = {"function", "arguments", NULL};
    assert_string_equal(get_str(c0, p_id), "call_1");
    assert_string_equal(get_str(c0, p_type), "function");
    assert_string_equal(get_str(c0, p_fname), "get_graph");
    assert_string_equal(get_str(c0, p_fargs), "{\"a\":1}");
    yajl_val t = YAJL_GET_ARRAY(msgs)->values[3];
    const char *p_role[] = {"role", NULL};
    const char *p_tcid[] = {"tool_call_id", NULL};
    assert_string_equal(get_str(t, p_role), "tool");
    assert_string_equal(get_str(t, p_tcid), "call_1");
    assert_string_equal(get_str(t, p_content), "{\"nodes\":[]}");
    assert_string_equal(get_str(YAJL_GET_ARRAY(msgs)->values[4], p_content), "Done \xe2\x9c\x93");

    const char *p_tools[] = {"body", "tools", NULL};
    yajl_val tl = yajl_tree_get(b, p_tools, yajl_t_array);
    assert_int_equal(YAJL_GET_ARRAY(tl)->len, 2);
    const char *p_req0[] = {"function", "parameters", "required", NULL};
    const char *p_ptype[] = {"function", "parameters", "type", NULL};
    yajl_val t1 = YAJL_GET_ARRAY(tl)->values[1];
    assert_string_equal(get_str(t1, p_type), "function");
    assert_string_equal(get_str(t1, p_fname), "get_node_schema");
    assert_string_equal(get_str(t1, p_ptype), "object");
    yajl_val req0 = yajl_tree_get(t1, p_req0, yajl_t_array);
    assert_int_equal(YAJL_GET_ARRAY(req0)->len, 1);
    /* An empty schema is sent as an object without properties. */
    assert_string_equal(get_str(YAJL_GET_ARRAY(tl)->values[0], p_ptype), "object");
    yajl_tree_free(b);
    call_free(c);
}

static void user_images_are_sent_as_image_url_parts(void **state)
{
    (void)state;
    call *c = call_new("text-stream");
    /* Five bytes: the base64 needs padding, so the encoder's tail is checked. */
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', 0x0d};
    prov_image im[] = {{"image/png", png, sizeof png, "output of node 9"}};
    c->msgs[1] = (prov_msg){
        .role = PROV_ROLE_USER, .content = "How does it look?", .images = im, .n_images = 1};
    assert_int_equal(call_run(c), PROV_OK);
    yajl_val b = request_body(0);
    const char *p_msgs[] = {"body", "messages", NULL};
    yajl_val u = YAJL_GET_ARRAY(yajl_tree_get(b, p_msgs, yajl_t_array))->values[1];
    const char *p_content[] = {"content", NULL};
    yajl_val parts = yajl_tree_get(u, p_content, yajl_t_array);
    assert_non_null(parts);
    assert_int_equal(YAJL_GET_ARRAY(parts)->len, 3);
    const char *p_type[] = {"type", NULL};
    const char *p_text[] = {"text", NULL};
    const char *p_url[] = {"image_url", "url", NULL};
    yajl_val *v = YAJL_GET_ARRAY(parts)->values;
    assert_string_equal(get_str(v[0], p_type), "text");
    assert_string_equal(get_str(v[0], p_text), "How does it look?");
    assert_string_equal(get_str(v[1], p_text), "output of node 9");
    assert_string_equal(get_str(v[2], p_type), "image_url");
    assert_string_equal(get_str(v[2], p_url), "data:image/png;base64,iVBORw0=");
    yajl_tree_free(b);
    call_free(c);
}

static void unknown_image_type_fails_before_sending(void **state)
{
    (void)state;
    call *c = call_new("text-stream");
    static const unsigned char svg[] = "<svg/>";
    prov_image im[] = {{"image/svg+xml", svg, sizeof svg - 1, NULL}};
    c->msgs[1] = (prov_msg){.role = PROV_ROLE_USER, .content = "x", .images = im, .n_images = 1};
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "image 1: not a PNG, JPEG, WebP or GIF file"));
    char *all = fake_server_requests(&srv);
    assert_string_equal(all, "");
    free(all);
    call_free(c);
}

static void invalid_tool_schema_fails_before_sending(void **state)
{
    (void)state;
    call *c = call_new("text-stream");
    prov_tool tools[] = {{"broken", "x", "{\"type\": "}};
    c->req.tools = tools;
    c->req.n_tools = 1;
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "tool broken"));
    char *all = fake_server_requests(&srv);
    assert_string_equal(all, "");
    free(all);
    call_free(c);
}

static void assembles_a_tool_call_split_across_chunks(void **state)
{
    (void)state;
    call *c = call_new("tool-split");
    assert_int_equal(call_run(c), PROV_OK);
    assert_int_equal(c->r->n_deltas, 0);
    assert_null(c->reply.content);
    assert_int_equal(c->reply.n_tool_calls, 1);
    assert_string_equal(c->reply.tool_calls[0].id, "call_abc");
    assert_string_equal(c->reply.tool_calls[0].name, "get_graph");
    assert_string_equal(c->reply.tool_calls[0].arguments_json,
                        "{\"canvas_id\": \"c1\", \"detail\": true}");
    assert_string_equal(c->reply.finish_reason, "tool_calls");
    assert_int_equal(c->reply.prompt_tokens, 50);
    call_free(c);
}

static void assembles_parallel_tool_calls_by_index(void **state)
{
    (void)state;
    call *c = call_new("tool-parallel");
    assert_int_equal(call_run(c), PROV_OK);
    assert_int_equal(c->reply.n_tool_calls, 2);
    assert_string_equal(c->reply.tool_calls[0].id, "call_1");
    assert_string_equal(c->reply.tool_calls[0].name, "get_node_schema");
    assert_string_equal(c->reply.tool_calls[0].arguments_json, "{\"type\": \"KSampler\"}");
    assert_string_equal(c->reply.tool_calls[1].id, "call_2");
    assert_string_equal(c->reply.tool_calls[1].name, "search_node_types");
    assert_string_equal(c->reply.tool_calls[1].arguments_json, "{\"query\": \"upscale\"}");
    call_free(c);
}

static void arguments_sent_as_json_values_are_encoded_as_text(void **state)
{
    (void)state;
    call *c = call_new("args-object");
    assert_int_equal(call_run(c), PROV_OK);
    assert_int_equal(c->reply.n_tool_calls, 2);
    assert_string_equal(c->reply.tool_calls[0].name, "queue");
    assert_string_equal(c->reply.tool_calls[0].arguments_json,
                        "{\"count\":2,\"front\":false,\"tags\":[\"a\",{\"b\":null}]}");
    assert_string_equal(c->reply.tool_calls[1].name, "get_graph");
    assert_string_equal(c->reply.tool_calls[1].arguments_json, "{}");
    /* Calls without ids get distinct ones. */
    assert_string_equal(c->reply.tool_calls[0].id, "call_x");
    assert_string_equal(c->reply.tool_calls[1].id, "call_1");
    call_free(c);
}

static void non_streamed_json_body_is_understood(void **state)
{
    (void)state;
    call *c = call_new("non-stream");
    assert_int_equal(call_run(c), PROV_OK);
    assert_string_equal(c->r->text, "Let me look.");
    assert_int_equal(c->reply.n_tool_calls, 1);
    assert_string_equal(c->reply.tool_calls[0].id, "call_9");
    assert_string_equal(c->reply.tool_calls[0].name, "get_graph");
    assert_string_equal(c->reply.finish_reason, "tool_calls");
    assert_int_equal(c->reply.completion_tokens, 4);
    call_free(c);
}

static void retries_after_429_honouring_retry_after(void **state)
{
    (void)state;
    call *c = call_new("retry-429");
    assert_int_equal(call_run(c), PROV_OK);
    assert_string_equal(c->r->text, "ok after retry");
    assert_true(c->took_ms >= 1000);
    assert_true(c->took_ms < 4000);
    assert_non_null(strstr(c->r->logs, "HTTP 429; retry 1 of 3 in 1000 ms"));
    char *second = fake_server_request(&srv, 1);
    assert_non_null(second);
    free(second);
    char *third = fake_server_request(&srv, 2);
    assert_null(third);
    call_free(c);
}

static void retries_after_503_with_backoff(void **state)
{
    (void)state;
    call *c = call_new("retry-503");
    assert_int_equal(call_run(c), PROV_OK);
    assert_string_equal(c->r->text, "ok after 503");
    assert_true(c->took_ms >= PROVIDER_OPENAI_BACKOFF_MS);
    call_free(c);
}

static void gives_up_after_three_retries_with_the_servers_message(void **state)
{
    (void)state;
    call *c = call_new("always-500");
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "HTTP 500"));
    assert_non_null(strstr(c->err, "3 retries"));
    assert_non_null(strstr(c->err, "upstream exploded"));
    /* 500 + 1000 + 2000 ms of backoff. */
    assert_true(c->took_ms >= 3500);
    char *fifth = fake_server_request(&srv, 4);
    assert_null(fifth);
    char *fourth = fake_server_request(&srv, 3);
    assert_non_null(fourth);
    free(fourth);
    call_free(c);
}

static void stream_cut_midway_is_an_error_keeping_the_text(void **state)
{
    (void)state;
    call *c = call_new("cut");
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "stream ended early"));
    assert_string_equal(c->reply.content, "partial answer");
    call_free(c);
}

static void clean_close_without_finish_or_done_is_an_error(void **state)
{
    (void)state;
    call *c = call_new("cut-clean");
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "stream ended early"));
    call_free(c);
}

static void done_without_finish_reason_is_complete(void **state)
{
    (void)state;
    call *c = call_new("no-finish-done");
    assert_int_equal(call_run(c), PROV_OK);
    assert_string_equal(c->reply.content, "no finish reason but done");
    assert_string_equal(c->reply.finish_reason, "");
    assert_false(c->reply.usage_reported);
    call_free(c);
}

static void comments_garbage_lines_and_other_events_are_ignored(void **state)
{
    (void)state;
    call *c = call_new("garbage");
    assert_int_equal(call_run(c), PROV_OK);
    /* Only choice 0 counts; the data of a two-line event is joined. */
    assert_string_equal(c->r->text, "abc");
    assert_string_equal(c->reply.finish_reason, "stop");
    call_free(c);
}

static void malformed_json_chunk_is_an_error(void **state)
{
    (void)state;
    call *c = call_new("bad-json");
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "malformed JSON chunk"));
    assert_string_equal(c->reply.content, "fine ");
    call_free(c);
}

static void error_object_in_the_stream_is_reported(void **state)
{
    (void)state;
    call *c = call_new("stream-error");
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "The server is overloaded"));
    call_free(c);
}

static void invalid_utf8_is_an_error(void **state)
{
    (void)state;
    call *c = call_new("bad-utf8");
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "not valid UTF-8"));
    assert_int_equal(c->r->n_deltas, 0);
    call_free(c);
    c = call_new("cut-char");
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "not valid UTF-8"));
    assert_string_equal(c->r->text, "ab"); /* the cut character never reached the sink */
    call_free(c);
}

static void oversized_answer_is_refused(void **state)
{
    (void)state;
    call *c = call_new("oversize");
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "longer than"));
    assert_true(c->reply.content_len <= PROV_MAX_CONTENT);
    call_free(c);
}

static void too_many_tool_calls_are_refused(void **state)
{
    (void)state;
    call *c = call_new("too-many-calls");
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "tool calls at once"));
    assert_int_equal(c->reply.n_tool_calls, 0);
    call_free(c);
}

static void refused_key_is_a_clear_error_without_the_key(void **state)
{
    (void)state;
    call *c = call_new("auth");
    c->req.api_key = "sk-wrong-0123456789abcdef";
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "refused the API key (HTTP 401)"));
    assert_non_null(strstr(c->err, "Incorrect API key provided"));
    assert_null(strstr(c->err, "0123456789abcdef"));
    assert_null(strstr(c->err, "sk-wro"));
    assert_null(strstr(c->err, "cdef"));
    assert_null(strstr(c->r->logs, "0123456789abcdef"));
    call_free(c);

    c = call_new("auth");
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "no API key is set"));
    call_free(c);

    assert_int_equal(fake_server_reset(&srv), 0);
    c = call_new("auth");
    c->req.api_key = "sk-good-key-123456";
    assert_int_equal(call_run(c), PROV_OK);
    assert_string_equal(c->r->text, "authorised");
    call_free(c);
}

static void key_that_cannot_be_a_header_is_refused(void **state)
{
    (void)state;
    call *c = call_new("text-stream");
    c->req.api_key = "sk-abc\r\nX-Evil: 1";
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "API key"));
    assert_null(strstr(c->err, "Evil"));
    char *all = fake_server_requests(&srv);
    assert_string_equal(all, "");
    free(all);
    call_free(c);
}

static void web_page_instead_of_an_api_is_named_as_such(void **state)
{
    (void)state;
    call *c = call_new("html-page");
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "not an event stream (Content-Type 'text/html"));
    assert_non_null(strstr(c->err, "base_url"));
    call_free(c);
}

static void unknown_model_is_named_in_the_error(void **state)
{
    (void)state;
    call *c = call_new("no-such-model");
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "model 'no-such-model' not found (HTTP 404)"));
    assert_true(c->took_ms < 2000); /* not retried */
    call_free(c);
}

static void missing_model_and_bad_base_url_fail_at_once(void **state)
{
    (void)state;
    call *c = call_new("");
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "no model"));
    call_free(c);
    c = call_new("text-stream");
    c->req.base_url = "ftp://example/v1";
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "base_url"));
    call_free(c);
}

static void connection_refused_is_a_clear_error(void **state)
{
    (void)state;
    call *c = call_new("text-stream");
    c->req.base_url = "http://user:secret@127.0.0.1:1/v1/";
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "cannot connect to the model server at http://***@127.0.0.1:1"));
    assert_null(strstr(c->err, "secret"));
    call_free(c);
}

static void refusing_sink_aborts_the_stream(void **state)
{
    (void)state;
    call *c = call_new("text-stream");
    c->r->refuse_at = 2;
    assert_int_equal(call_run(c), PROV_ABORTED);
    assert_int_equal(c->r->n_deltas, 2);
    call_free(c);
}

typedef struct canceller {
    rec *r;
    atomic_int *flag;
    int64_t at_ms;
} canceller;

static void *cancel_after_first_delta(void *arg)
{
    canceller *k = arg;
    while (k->r->first_delta_ms == 0) {
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
    k->at_ms = text_mono_ms();
    atomic_store(k->flag, 1);
    return NULL;
}

static void slow_stream_is_cancelled_within_100_ms(void **state)
{
    (void)state;
    call *c = call_new("slow");
    atomic_int cancel = 0;
    c->req.cancel = &cancel;
    canceller k = {.r = c->r, .flag = &cancel};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cancel_after_first_delta, &k), 0);
    int rc = call_run(c);
    int64_t done = text_mono_ms();
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(rc, PROV_CANCELLED);
    assert_true(done - k.at_ms < 100);
    assert_string_equal(c->reply.content, "Hello");
    call_free(c);
}

static void cancel_during_retry_wait_returns_at_once(void **state)
{
    (void)state;
    call *c = call_new("retry-429");
    atomic_int cancel = 0;
    c->req.cancel = &cancel;
    c->r->first_delta_ms = 1; /* start the canceller's 200 ms at once */
    canceller k = {.r = c->r, .flag = &cancel};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cancel_after_first_delta, &k), 0);
    int rc = call_run(c);
    int64_t done = text_mono_ms();
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(rc, PROV_CANCELLED);
    assert_true(done - k.at_ms < 100);
    call_free(c);
}

static void silent_stream_fails_after_the_idle_timeout(void **state)
{
    (void)state;
    call *c = call_new("slow");
    c->req.idle_timeout_ms = 300;
    assert_int_equal(call_run(c), PROV_FAILED);
    assert_non_null(strstr(c->err, "no data from the model server for 0.3 s"));
    assert_true(c->took_ms >= 300);
    assert_true(c->took_ms < 2000);
    call_free(c);
}

static int group_setup(void **state)
{
    (void)state;
    return fake_server_start(&srv);
}

static int group_teardown(void **state)
{
    (void)state;
    fake_server_stop(&srv);
    return 0;
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
    const struct CMUnitTest tests[] = {
        T(openai_is_a_known_provider),
        T(streams_text_in_whole_characters_and_reports_usage),
        T(request_encodes_tools_and_tool_messages),
        T(user_images_are_sent_as_image_url_parts),
        T(unknown_image_type_fails_before_sending),
        T(invalid_tool_schema_fails_before_sending),
        T(assembles_a_tool_call_split_across_chunks),
        T(assembles_parallel_tool_calls_by_index),
        T(arguments_sent_as_json_values_are_encoded_as_text),
        T(non_streamed_json_body_is_understood),
        T(retries_after_429_honouring_retry_after),
        T(retries_after_503_with_backoff),
        T(gives_up_after_three_retries_with_the_servers_message),
        T(stream_cut_midway_is_an_error_keeping_the_text),
        T(clean_close_without_finish_or_done_is_an_error),
        T(done_without_finish_reason_is_complete),
        T(comments_garbage_lines_and_other_events_are_ignored),
        T(malformed_json_chunk_is_an_error),
        T(error_object_in_the_stream_is_reported),
        T(invalid_utf8_is_an_error),
        T(oversized_answer_is_refused),
        T(too_many_tool_calls_are_refused),
        T(refused_key_is_a_clear_error_without_the_key),
        T(key_that_cannot_be_a_header_is_refused),
        T(web_page_instead_of_an_api_is_named_as_such),
        T(unknown_model_is_named_in_the_error),
        T(missing_model_and_bad_base_url_fail_at_once),
        T(connection_refused_is_a_clear_error),
        T(refusing_sink_aborts_the_stream),
        T(slow_stream_is_cancelled_within_100_ms),
        T(cancel_during_retry_wait_returns_at_once),
        T(silent_stream_fails_after_the_idle_timeout),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

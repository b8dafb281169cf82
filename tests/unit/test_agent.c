/* The agent loop: with a scripted in-process provider (tool call -> result
 * -> answer, bad arguments corrected, limits, the loop breaker, the
 * allowed-tools filter, cancel), and end to end through the session
 * manager with the OpenAI provider against tests/llm/fake_openai.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agent.h"
#include "provider_echo.h"
#include "session.h"
#include "text.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../llm/fake_server.h"

/* ---- a scripted provider -------------------------------------------------- */

typedef struct fcall {
    const char *id, *name, *args;
} fcall;

typedef struct fstep {
    const char *text;
    fcall calls[4];
    int n_calls;
    int rc;          /* prov_err to return */
    const char *err; /* with PROV_FAILED */
} fstep;

#define MAX_REQ 16

typedef struct fake {
    const fstep *steps;
    size_t n_steps;
    int repeat_last; /* past the script: play the last step again */
    size_t next;
    char *transcript[MAX_REQ]; /* each request, rendered as text */
} fake;

static void cat(char **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cat(char **s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *add = NULL;
    assert_true(vasprintf(&add, fmt, ap) >= 0);
    va_end(ap);
    size_t a = *s ? strlen(*s) : 0, b = strlen(add);
    *s = realloc(*s, a + b + 1);
    memcpy(*s + a, add, b + 1);
    free(add);
}

static const char *role_s(prov_role r)
{
    return r == PROV_ROLE_SYSTEM      ? "system"
           : r == PROV_ROLE_USER      ? "user"
           : r == PROV_ROLE_ASSISTANT ? "assistant"
                                      : "tool";
}

static int fake_run(const provider *p, const prov_request *req, const prov_sink *sink,
                    prov_reply *out, char *err, size_t errlen)
{
    fake *f = p->impl;
    memset(out, 0, sizeof *out);
    char *t = NULL;
    cat(&t, "tools:");
    for (size_t i = 0; i < req->n_tools; i++)
        cat(&t, " %s", req->tools[i].name);
    cat(&t, "\n");
    for (size_t i = 0; i < req->n_messages; i++) {
        const prov_msg *m = &req->messages[i];
        if (m->role == PROV_ROLE_TOOL)
            cat(&t, "tool(%s): %s\n", m->tool_call_id, m->content);
        else
            cat(&t, "%s: %s\n", role_s(m->role), m->content);
        for (size_t j = 0; j < m->n_images; j++)
            cat(&t, "  image %s %zu %.*s %s\n", m->images[j].mime, m->images[j].len,
                (int)m->images[j].len, (const char *)m->images[j].data,
                m->images[j].label ? m->images[j].label : "-");
        for (size_t j = 0; j < m->n_tool_calls; j++)
            cat(&t, "  call %s %s %s\n", m->tool_calls[j].id, m->tool_calls[j].name,
                m->tool_calls[j].arguments_json);
    }
    size_t k = f->next;
    if (k < MAX_REQ)
        f->transcript[k] = t;
    else
        free(t);
    f->next++;
    if (k >= f->n_steps) {
        if (!f->repeat_last) {
            snprintf(err, errlen, "script exhausted");
            return PROV_FAILED;
        }
        k = f->n_steps - 1;
    }
    const fstep *s = &f->steps[k];
    out->prompt_tokens = 10;
    out->completion_tokens = 2;
    out->usage_reported = 1;
    if (s->rc == PROV_FAILED) {
        snprintf(err, errlen, "%s", s->err);
        return PROV_FAILED;
    }
    if (req->cancel && atomic_load(req->cancel)) return PROV_CANCELLED;
    if (s->text) {
        /* Two deltas, as a stream would. */
        size_t n = strlen(s->text), h = n / 2;
        if (h && sink->delta(sink->ud, s->text, h) != 0) return PROV_ABORTED;
        if (sink->delta(sink->ud, s->text + h, n - h) != 0) return PROV_ABORTED;
        out->content = text_dup(s->text);
        out->content_len = n;
    }
    if (s->n_calls) {
        out->tool_calls = calloc((size_t)s->n_calls, sizeof *out->tool_calls);
        for (int i = 0; i < s->n_calls; i++) {
            out->tool_calls[i].id = text_dup(s->calls[i].id);
            out->tool_calls[i].name = text_dup(s->calls[i].name);
            out->tool_calls[i].arguments_json = text_dup(s->calls[i].args);
        }
        out->n_tool_calls = (size_t)s->n_calls;
    }
    out->finish_reason = text_dup(s->n_calls ? "tool_calls" : "stop");
    return PROV_OK;
}

static void fake_free(fake *f)
{
    for (size_t i = 0; i < MAX_REQ; i++)
        free(f->transcript[i]);
}

/* ---- tools ---------------------------------------------------------------- */

typedef struct tools_ud {
    int calls[8]; /* per tool index */
    char last_args[8][256];
    char call_ids[32][64];
    size_t n_ids;
    atomic_int *cancel_on_call; /* set this flag when a tool runs */
    const char *reply_override; /* result text for get_graph */
    int big_result;
} tools_ud;

static int record(tools_ud *u, int idx, const agent_call_ctx *ctx, const char *args)
{
    u->calls[idx]++;
    snprintf(u->last_args[idx], sizeof u->last_args[idx], "%s", args);
    if (u->n_ids < 32) snprintf(u->call_ids[u->n_ids++], 64, "%s", ctx->call_id);
    if (u->cancel_on_call) atomic_store(u->cancel_on_call, 1);
    return 0;
}

static int t_get_graph(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    tools_ud *u = ud;
    record(u, 0, ctx, args);
    if (u->big_result) {
        char *s = malloc(AGENT_MAX_TOOL_RESULT + 10);
        memset(s, 'x', AGENT_MAX_TOOL_RESULT + 9);
        s[AGENT_MAX_TOOL_RESULT + 9] = 0;
        *res = s;
        return AGENT_TOOL_OK;
    }
    *res = text_dup(u->reply_override ? u->reply_override : "{\"revision\": 3, \"nodes\": 2}");
    return AGENT_TOOL_OK;
}

static int t_validate(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    record(ud, 1, ctx, args);
    *res = text_dup("{\"ok\":true}");
    return AGENT_TOOL_OK;
}

/* apply_patch refuses a patch without "commands". */
static int t_apply(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    record(ud, 2, ctx, args);
    if (!strstr(args, "\"commands\"")) {
        *res = text_dup("{\"error\":\"missing field 'commands'\"}");
        return AGENT_TOOL_ERROR;
    }
    *res = text_dup("{\"revision\":4}");
    return AGENT_TOOL_OK;
}

static int t_queue(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    record(ud, 3, ctx, args);
    *res = NULL;
    return AGENT_TOOL_ERROR;
}

static const agent_tool TOOLS[] = {
    {"get_graph", "Returns the canvas.", "{\"type\":\"object\",\"properties\":{}}", 1, t_get_graph,
     NULL},
    {"validate_patch", "Checks a patch.", "{\"type\":\"object\"}", 1, t_validate, NULL},
    {"apply_patch", "Applies a patch.", "{\"type\":\"object\"}", 0, t_apply, NULL},
    {"queue", "Queues the workflow.", "", 0, t_queue, NULL},
};
#define N_TOOLS (sizeof TOOLS / sizeof TOOLS[0])

/* A tool with an image for the model: args {"name": "...", "mime": "..."};
 * the "file" is its name's bytes, so that the transcript shows which. */
static int t_look(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    record(ud, 4, ctx, args);
    char name[64] = "", mime[64] = "image/png";
    const char *n = strstr(args, "\"name\":\"");
    if (n) sscanf(n + 8, "%63[^\"]", name);
    const char *m = strstr(args, "\"mime\":\"");
    if (m) sscanf(m + 8, "%63[^\"]", mime);
    char label[80];
    snprintf(label, sizeof label, "label-%s", name);
    int shown = agent_call_attach_image(ctx, mime, name, strlen(name), label) == 0;
    if (asprintf(res, "{\"shown\":%s,\"vision\":%d}", shown ? "true" : "false", ctx->vision) < 0)
        *res = NULL;
    return AGENT_TOOL_OK;
}

static const agent_tool IMG_TOOLS[] = {
    {"get_graph", "Returns the canvas.", "{\"type\":\"object\",\"properties\":{}}", 1, t_get_graph,
     NULL},
    {"look", "Shows an image.", "{\"type\":\"object\"}", 1, t_look, NULL},
};

/* ---- a recording sink ----------------------------------------------------- */

typedef struct events {
    char text[8192];
    size_t n_deltas;
    char log[16384]; /* "call id name args" / "result id name ok json" lines */
    int usage_calls;
    uint64_t ptok, ctok;
    int refuse_deltas;
} events;

static int e_delta(void *ud, const char *t, size_t n)
{
    events *e = ud;
    if (e->refuse_deltas) return 1;
    e->n_deltas++;
    strncat(e->text, t, n);
    return 0;
}

static void e_call(void *ud, const char *id, const char *name, const char *args)
{
    events *e = ud;
    size_t n = strlen(e->log);
    snprintf(e->log + n, sizeof e->log - n, "call %s %s %s\n", id, name, args);
}

static void e_result(void *ud, const char *id, const char *name, int ok, const char *json)
{
    events *e = ud;
    size_t n = strlen(e->log);
    snprintf(e->log + n, sizeof e->log - n, "result %s %s %d %.300s\n", id, name, ok, json);
}

static void e_usage(void *ud, uint64_t p, uint64_t c)
{
    events *e = ud;
    e->usage_calls++;
    e->ptok += p;
    e->ctok += c;
}

typedef struct harness {
    fake f;
    provider prov;
    tools_ud u;
    events e;
    agent_skill skill;
    agent_turn turn;
    agent_stats stats;
    char err[256];
    atomic_int cancel;
} harness;

static harness *harness_new(const fstep *steps, size_t n)
{
    harness *h = calloc(1, sizeof *h);
    h->f.steps = steps;
    h->f.n_steps = n;
    h->prov = (provider){.name = "fake", .run = fake_run, .impl = &h->f};
    h->skill = (agent_skill){.name = "workflow-builder", .instructions = "Build workflows."};
    h->turn = (agent_turn){
        .prov = &h->prov,
        .skill = &h->skill,
        .system_prompt = "You help with ComfyUI.",
        .user_text = "Make it better",
        .tools = TOOLS,
        .n_tools = N_TOOLS,
        .tools_ud = &h->u,
        .model = "m",
        .base_url = "",
        .session_id = "s-1",
        .turn_id = 42,
        .cancel = &h->cancel,
    };
    return h;
}

static int harness_run(harness *h)
{
    agent_sink sink = {.ud = &h->e,
                       .delta = e_delta,
                       .tool_call = e_call,
                       .tool_result = e_result,
                       .usage = e_usage};
    return agent_run(&h->turn, &sink, &h->stats, h->err, sizeof h->err);
}

static void harness_free(harness *h)
{
    fake_free(&h->f);
    free(h);
}

/* ---- unit tests ------------------------------------------------------------ */

static void tool_call_then_result_then_answer(void **state)
{
    (void)state;
    const fstep steps[] = {
        {.calls = {{"call_1", "get_graph", "{}"}}, .n_calls = 1},
        {.text = "The canvas has 2 nodes."},
    };
    harness *h = harness_new(steps, 2);
    assert_int_equal(harness_run(h), AGENT_OK);
    assert_string_equal(h->e.text, "The canvas has 2 nodes.");
    assert_int_equal(h->u.calls[0], 1);
    assert_string_equal(h->u.last_args[0], "{}");
    assert_string_equal(h->e.log, "call call_1 get_graph {}\n"
                                  "result call_1 get_graph 1 {\"revision\":3,\"nodes\":2}\n");
    /* The second request carries the call and its result. */
    const char *t2 = h->f.transcript[1];
    assert_non_null(strstr(t2, "user: Make it better\nassistant: \n  call call_1 get_graph {}\n"
                               "tool(call_1): {\"revision\":3,\"nodes\":2}\n"));
    assert_int_equal(h->stats.steps, 2);
    assert_int_equal(h->stats.tool_calls, 1);
    assert_int_equal(h->stats.prompt_tokens, 20);
    assert_int_equal(h->stats.completion_tokens, 4);
    assert_int_equal(h->e.usage_calls, 2);
    assert_int_equal(h->e.ptok, 20);
    harness_free(h);
}

static void tool_sees_session_turn_skill_and_call_id(void **state)
{
    (void)state;
    const fstep steps[] = {
        {.calls = {{"call_7", "get_graph", ""}}, .n_calls = 1},
        {.text = "ok"},
    };
    harness *h = harness_new(steps, 2);
    assert_int_equal(harness_run(h), AGENT_OK);
    assert_string_equal(h->u.call_ids[0], "call_7");
    assert_string_equal(h->u.last_args[0], "{}"); /* "" means no arguments */
    harness_free(h);
}

static void system_message_holds_prompt_skill_note_and_history(void **state)
{
    (void)state;
    const fstep steps[] = {{.text = "hi"}};
    harness *h = harness_new(steps, 1);
    prov_msg hist[] = {
        {.role = PROV_ROLE_USER, .content = "earlier question"},
        {.role = PROV_ROLE_ASSISTANT, .skill = "graph-doctor", .content = "doctor says"},
        {.role = PROV_ROLE_ASSISTANT, .skill = "workflow-builder", .content = "I built it"},
    };
    h->turn.history = hist;
    h->turn.n_history = 3;
    h->turn.context_note = "The user added node 5 (KSampler).";
    assert_int_equal(harness_run(h), AGENT_OK);
    const char *t = h->f.transcript[0];
    assert_non_null(strstr(t, "system: You help with ComfyUI.\n\nYou are acting as the skill "
                              "\"workflow-builder\".\n\nBuild workflows.\n\n## Canvas\n\nThe user "
                              "added node 5 (KSampler).\n"));
    assert_non_null(strstr(t, "user: earlier question\n"
                              "assistant: [graph-doctor] doctor says\n"
                              "assistant: I built it\n"
                              "user: Make it better\n"));
    harness_free(h);
}

static void invalid_arguments_go_back_to_the_model_which_corrects(void **state)
{
    (void)state;
    const fstep steps[] = {
        {.calls = {{"c1", "apply_patch", "{\"commands\": [oops"}}, .n_calls = 1},
        {.calls = {{"c2", "apply_patch", "[1,2]"}}, .n_calls = 1},
        {.calls = {{"c3", "apply_patch", "{\"cmds\": []}"}}, .n_calls = 1},
        {.calls = {{"c4", "apply_patch", " {\"commands\" : [] } "}}, .n_calls = 1},
        {.text = "Applied."},
    };
    harness *h = harness_new(steps, 5);
    assert_int_equal(harness_run(h), AGENT_OK);
    /* Malformed JSON and a non-object never reach the tool. */
    assert_int_equal(h->u.calls[2], 2);
    assert_string_equal(h->u.last_args[2], "{\"commands\":[]}");
    assert_non_null(strstr(h->e.log, "result c1 apply_patch 0 {\"error\":\"arguments are not "
                                     "valid JSON ("));
    assert_non_null(strstr(h->e.log, "result c2 apply_patch 0 {\"error\":\"arguments must be a "
                                     "JSON object\"}"));
    /* The tool's own error goes back as it is. */
    assert_non_null(
        strstr(h->e.log, "result c3 apply_patch 0 {\"error\":\"missing field 'commands'\"}"));
    assert_non_null(strstr(h->e.log, "result c4 apply_patch 1 {\"revision\":4}"));
    assert_non_null(strstr(h->f.transcript[1], "tool(c1): {\"error\":\"arguments are not valid"));
    assert_non_null(
        strstr(h->f.transcript[3], "tool(c3): {\"error\":\"missing field 'commands'\"}"));
    assert_string_equal(h->e.text, "Applied.");
    harness_free(h);
}

static void tool_failure_without_result_and_plain_text_results_are_json(void **state)
{
    (void)state;
    const fstep steps[] = {
        {.calls = {{"c1", "queue", "{}"}, {"c2", "get_graph", "{}"}}, .n_calls = 2},
        {.text = "done"},
    };
    harness *h = harness_new(steps, 2);
    h->u.reply_override = "plain \"text\" result";
    assert_int_equal(harness_run(h), AGENT_OK);
    assert_non_null(strstr(h->e.log, "result c1 queue 0 {\"error\":\"the tool queue failed\"}"));
    assert_non_null(
        strstr(h->e.log, "result c2 get_graph 1 {\"result\":\"plain \\\"text\\\" result\"}"));
    harness_free(h);
}

static void oversized_tool_result_is_replaced_by_an_error(void **state)
{
    (void)state;
    const fstep steps[] = {
        {.calls = {{"c1", "get_graph", "{}"}}, .n_calls = 1},
        {.text = "done"},
    };
    harness *h = harness_new(steps, 2);
    h->u.big_result = 1;
    assert_int_equal(harness_run(h), AGENT_OK);
    assert_non_null(strstr(h->e.log, "result c1 get_graph 0 {\"error\":\"the result of get_graph "
                                     "is larger than"));
    assert_true(strlen(h->f.transcript[1]) < 4096);
    harness_free(h);
}

static void step_limit_stops_a_model_that_never_answers(void **state)
{
    (void)state;
    fstep steps[AGENT_MAX_STEPS + 2];
    char args[AGENT_MAX_STEPS + 2][32];
    for (int i = 0; i < AGENT_MAX_STEPS + 2; i++) {
        snprintf(args[i], sizeof args[i], "{\"page\": %d}", i);
        steps[i] = (fstep){.calls = {{"c", "get_graph", args[i]}}, .n_calls = 1};
    }
    harness *h = harness_new(steps, AGENT_MAX_STEPS + 2);
    assert_int_equal(harness_run(h), AGENT_ESTEPS);
    assert_int_equal(h->stats.steps, AGENT_MAX_STEPS);
    assert_int_equal(h->u.calls[0], AGENT_MAX_STEPS - 1);
    assert_non_null(strstr(h->err, "stopped after 12 model calls"));
    harness_free(h);

    /* A smaller per-turn bound. */
    h = harness_new(steps, AGENT_MAX_STEPS + 2);
    h->turn.max_steps = 3;
    assert_int_equal(harness_run(h), AGENT_ESTEPS);
    assert_int_equal(h->stats.steps, 3);
    harness_free(h);
}

static void loop_breaker_stops_the_same_call_repeated_three_times(void **state)
{
    (void)state;
    const fstep steps[] = {
        {.calls = {{"a", "get_graph", "{\"x\": 1}"}}, .n_calls = 1},
        {.calls = {{"b", "get_graph", "{\"x\":1}"}}, .n_calls = 1},
        {.calls = {{"c", "get_graph", " { \"x\" : 1 }"}}, .n_calls = 1},
        {.text = "never reached"},
    };
    harness *h = harness_new(steps, 4);
    assert_int_equal(harness_run(h), AGENT_ELOOP);
    assert_int_equal(h->u.calls[0], 2); /* the third is not run */
    assert_non_null(strstr(h->err, "get_graph with the same arguments 3 times"));
    assert_non_null(strstr(h->e.log, "result c get_graph 0 {\"error\":\"not run: the same call"));
    assert_int_equal(h->stats.steps, 3);
    harness_free(h);
}

static void alternating_calls_are_not_a_loop(void **state)
{
    (void)state;
    const fstep steps[] = {
        {.calls = {{"a", "get_graph", "{}"}}, .n_calls = 1},
        {.calls = {{"b", "apply_patch", "{\"commands\":[1]}"}}, .n_calls = 1},
        {.calls = {{"c", "get_graph", "{}"}}, .n_calls = 1},
        {.calls = {{"d", "apply_patch", "{\"commands\":[2]}"}}, .n_calls = 1},
        {.calls = {{"e", "get_graph", "{}"}}, .n_calls = 1},
        {.text = "Built."},
    };
    harness *h = harness_new(steps, 6);
    assert_int_equal(harness_run(h), AGENT_OK);
    assert_int_equal(h->u.calls[0], 3);
    assert_int_equal(h->u.calls[2], 2);
    harness_free(h);
}

static void allowed_tools_limit_what_is_offered_and_run(void **state)
{
    (void)state;
    const fstep steps[] = {
        {.calls = {{"c1", "apply_patch", "{\"commands\":[]}"},
                   {"c2", "rm_rf", "{}"},
                   {"c3", "validate_patch", "{\"commands\":[]}"}},
         .n_calls = 3},
        {.text = "I can only check."},
    };
    harness *h = harness_new(steps, 2);
    char *allowed[] = {"get_graph", "validate_patch", "search_node_types"};
    h->skill.name = "graph-doctor";
    h->skill.allowed_tools = allowed;
    h->skill.n_allowed_tools = 3;
    assert_int_equal(harness_run(h), AGENT_OK);
    assert_non_null(strstr(h->f.transcript[0], "tools: get_graph validate_patch\n"));
    assert_int_equal(h->u.calls[2], 0); /* apply_patch never ran */
    assert_int_equal(h->u.calls[1], 1);
    assert_non_null(strstr(h->e.log, "result c1 apply_patch 0 {\"error\":\"the tool 'apply_patch' "
                                     "is not available to the skill graph-doctor"));
    assert_non_null(strstr(h->e.log, "result c2 rm_rf 0 {\"error\":\"unknown tool 'rm_rf'"));
    assert_non_null(strstr(h->e.log, "result c3 validate_patch 1"));
    harness_free(h);
}

static void read_only_skill_gets_only_read_only_tools(void **state)
{
    (void)state;
    const fstep steps[] = {{.text = "ok"}};
    harness *h = harness_new(steps, 1);
    h->skill.read_only = 1;
    assert_int_equal(harness_run(h), AGENT_OK);
    assert_non_null(strstr(h->f.transcript[0], "tools: get_graph validate_patch\n"));
    harness_free(h);
    /* Listing a mutating tool does not lift the restriction. */
    h = harness_new(steps, 1);
    char *allowed[] = {"apply_patch", "get_graph"};
    h->skill.allowed_tools = allowed;
    h->skill.n_allowed_tools = 2;
    h->skill.read_only = 1;
    assert_int_equal(harness_run(h), AGENT_OK);
    assert_non_null(strstr(h->f.transcript[0], "tools: get_graph\n"));
    harness_free(h);
}

static void empty_allowed_tools_offers_every_tool(void **state)
{
    (void)state;
    const fstep steps[] = {{.text = "ok"}};
    harness *h = harness_new(steps, 1);
    assert_int_equal(harness_run(h), AGENT_OK);
    assert_non_null(
        strstr(h->f.transcript[0], "tools: get_graph validate_patch apply_patch queue\n"));
    harness_free(h);
    /* No table: no tools. */
    h = harness_new(steps, 1);
    h->turn.n_tools = 0;
    assert_int_equal(harness_run(h), AGENT_OK);
    assert_non_null(strstr(h->f.transcript[0], "tools:\n"));
    harness_free(h);
}

static void cancel_stops_between_tool_calls(void **state)
{
    (void)state;
    const fstep steps[] = {
        {.calls = {{"c1", "get_graph", "{}"}, {"c2", "validate_patch", "{}"}}, .n_calls = 2},
        {.text = "never"},
    };
    harness *h = harness_new(steps, 2);
    h->u.cancel_on_call = &h->cancel;
    assert_int_equal(harness_run(h), AGENT_CANCELLED);
    assert_int_equal(h->u.calls[0], 1);
    assert_int_equal(h->u.calls[1], 0);
    assert_int_equal(h->stats.steps, 1);
    harness_free(h);
}

static void provider_failure_is_returned_with_its_message(void **state)
{
    (void)state;
    const fstep steps[] = {
        {.calls = {{"c1", "get_graph", "{}"}}, .n_calls = 1},
        {.rc = PROV_FAILED, .err = "the model server failed (HTTP 500)"},
    };
    harness *h = harness_new(steps, 2);
    assert_int_equal(harness_run(h), AGENT_FAILED);
    assert_string_equal(h->err, "the model server failed (HTTP 500)");
    assert_int_equal(h->stats.steps, 2);
    harness_free(h);
}

static void refusing_sink_aborts(void **state)
{
    (void)state;
    const fstep steps[] = {{.text = "hello there"}};
    harness *h = harness_new(steps, 1);
    h->e.refuse_deltas = 1;
    assert_int_equal(harness_run(h), AGENT_ABORTED);
    harness_free(h);
}

static void texts_of_two_model_calls_are_separated_by_a_blank_line(void **state)
{
    (void)state;
    const fstep steps[] = {
        {.text = "Looking.", .calls = {{"c1", "get_graph", "{}"}}, .n_calls = 1},
        {.calls = {{"c2", "validate_patch", "{}"}}, .n_calls = 1},
        {.text = "Done."},
    };
    harness *h = harness_new(steps, 3);
    assert_int_equal(harness_run(h), AGENT_OK);
    assert_string_equal(h->e.text, "Looking.\n\nDone.");
    assert_non_null(strstr(h->f.transcript[1], "assistant: Looking.\n  call c1 get_graph {}\n"));
    harness_free(h);
}

static void repeated_call_ids_are_made_unique(void **state)
{
    (void)state;
    const fstep steps[] = {
        {.calls = {{"call_0", "get_graph", "{}"}, {"call_0", "validate_patch", "{}"}},
         .n_calls = 2},
        {.calls = {{"call_0", "validate_patch", "{\"a\":1}"}}, .n_calls = 1},
        {.text = "ok"},
    };
    harness *h = harness_new(steps, 3);
    assert_int_equal(harness_run(h), AGENT_OK);
    assert_int_equal(h->u.n_ids, 3);
    assert_string_equal(h->u.call_ids[0], "call_0");
    assert_string_equal(h->u.call_ids[1], "call_0_1");
    assert_string_equal(h->u.call_ids[2], "call_1_0");
    assert_non_null(strstr(h->f.transcript[2], "tool(call_1_0): {\"ok\":true}"));
    harness_free(h);
}

static void echo_provider_answers_through_the_loop(void **state)
{
    (void)state;
    harness *h = harness_new(NULL, 0);
    h->turn.prov = provider_echo();
    assert_int_equal(harness_run(h), AGENT_OK);
    assert_string_equal(h->e.text,
                        "[echo provider \xc2\xb7 skill workflow-builder] You said: Make it better");
    assert_int_equal(h->stats.steps, 1);
    assert_int_equal(h->stats.completion_tokens, 10);
    harness_free(h);
}

/* Images: after every tool message of the reply, one user message holds
 * the images its calls attached, in order, with their labels. */
static void images_follow_the_tool_results_of_their_reply(void **state)
{
    (void)state;
    const fstep steps[] = {
        {.calls = {{"c1", "look", "{\"name\":\"A\"}"},
                   {"c2", "get_graph", "{}"},
                   {"c3", "look", "{\"name\":\"B\",\"mime\":\"image/jpeg\"}"}},
         .n_calls = 3},
        {.calls = {{"c4", "get_graph", "{}"}}, .n_calls = 1},
        {.text = "I see A and B."},
    };
    harness *h = harness_new(steps, 3);
    h->turn.tools = IMG_TOOLS;
    h->turn.n_tools = 2;
    h->turn.vision = 1;
    assert_int_equal(harness_run(h), AGENT_OK);
    assert_int_equal(h->u.calls[4], 2);
    const char *t2 = h->f.transcript[1];
    assert_non_null(strstr(t2, "tool(c1): {\"shown\":true,\"vision\":1}\n"
                               "tool(c2): {\"revision\":3,\"nodes\":2}\n"
                               "tool(c3): {\"shown\":true,\"vision\":1}\n"
                               "user: The images the tool results above refer to, for you to look "
                               "at.\n"
                               "  image image/png 1 A label-A\n"
                               "  image image/jpeg 1 B label-B\n"));
    /* They stay in the conversation; the next reply's calls add none. */
    const char *t3 = h->f.transcript[2];
    assert_non_null(strstr(
        t3, "  image image/jpeg 1 B label-B\nassistant: \n  call c4 get_graph {}\ntool(c4): "));
    const char *second = strstr(t3, "image image/png 1 A");
    assert_non_null(second);
    assert_null(strstr(second + 1, "image image/png 1 A"));
    harness_free(h);
}

static void without_vision_no_image_is_taken(void **state)
{
    (void)state;
    const fstep steps[] = {
        {.calls = {{"c1", "look", "{\"name\":\"A\"}"}}, .n_calls = 1},
        {.text = "ok"},
    };
    harness *h = harness_new(steps, 2);
    h->turn.tools = IMG_TOOLS;
    h->turn.n_tools = 2;
    assert_int_equal(harness_run(h), AGENT_OK);
    const char *t2 = h->f.transcript[1];
    assert_non_null(strstr(t2, "tool(c1): {\"shown\":false,\"vision\":0}\n"));
    assert_null(strstr(t2, "image "));
    assert_null(strstr(t2, "for you to look at"));
    harness_free(h);
}

/* AGENT_MAX_TURN_IMAGES per turn; a type a model cannot take is refused. */
static void images_are_bounded_per_turn_and_by_type(void **state)
{
    (void)state;
    const fstep steps[] = {
        {.calls = {{"c1", "look", "{\"name\":\"x\",\"mime\":\"image/svg+xml\"}"},
                   {"c2", "look", "{\"name\":\"A\"}"},
                   {"c3", "look", "{\"name\":\"B\"}"},
                   {"c4", "look", "{\"name\":\"C\"}"}},
         .n_calls = 4},
        {.calls = {{"c5", "look", "{\"name\":\"D\"}"},
                   {"c6", "look", "{\"name\":\"E\"}"},
                   {"c7", "look", "{\"name\":\"F\"}"},
                   {"c8", "look", "{\"name\":\"G\"}"}},
         .n_calls = 4},
        {.text = "ok"},
    };
    _Static_assert(AGENT_MAX_TURN_IMAGES == 6, "the script attaches 7 acceptable images");
    harness *h = harness_new(steps, 3);
    h->turn.tools = IMG_TOOLS;
    h->turn.n_tools = 2;
    h->turn.vision = 1;
    assert_int_equal(harness_run(h), AGENT_OK);
    const char *t3 = h->f.transcript[2];
    assert_non_null(strstr(t3, "tool(c1): {\"shown\":false,\"vision\":1}\n"));
    assert_null(strstr(t3, "image image/svg"));
    assert_non_null(strstr(t3, "tool(c7): {\"shown\":true,\"vision\":1}\n"));
    assert_non_null(strstr(t3, "tool(c8): {\"shown\":false,\"vision\":1}\n"));
    assert_non_null(strstr(t3, "  image image/png 1 F label-F\n"));
    assert_null(strstr(t3, " G label-G"));
    harness_free(h);
}

static void tool_allowed_rules(void **state)
{
    (void)state;
    char *allowed[] = {"apply_patch"};
    agent_skill s = {.name = "x", .allowed_tools = allowed, .n_allowed_tools = 1};
    assert_true(agent_tool_allowed(&s, &TOOLS[2]));
    assert_false(agent_tool_allowed(&s, &TOOLS[0]));
    s.read_only = 1;
    assert_false(agent_tool_allowed(&s, &TOOLS[2]));
    agent_tool nofn = {"get_graph", "", "", 1, NULL, NULL};
    s.n_allowed_tools = 0;
    assert_false(agent_tool_allowed(&s, &nofn));
}

/* ---- end to end through the session manager ---------------------------------- */

static fake_server srv;

#define MAX_EV 2000

typedef struct esink {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    Comfyd__V1__SessionEvent *ev[MAX_EV];
    size_t n;
} esink;

static int es_push(void *ud, const void *bytes, size_t len)
{
    esink *s = ud;
    Comfyd__V1__SubscribeResponse *r = comfyd__v1__subscribe_response__unpack(NULL, len, bytes);
    assert_non_null(r);
    pthread_mutex_lock(&s->mu);
    assert_true(s->n < MAX_EV);
    s->ev[s->n++] = r->event;
    r->event = NULL;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    comfyd__v1__subscribe_response__free_unpacked(r, NULL);
    return 0;
}

static void es_end(void *ud, int code, const char *msg)
{
    (void)ud, (void)code, (void)msg;
}

static int es_gone(void *ud)
{
    (void)ud;
    return 0;
}

static void es_release(void *ud)
{
    (void)ud;
}

static const sess_sub_ops es_ops = {es_push, es_end, es_gone, es_release};

/* Waits for the status update that ends a turn; returns its index or -1. */
static long es_wait_turn_end(esink *s, int timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000 + 1;
    pthread_mutex_lock(&s->mu);
    size_t i = 0;
    for (;;) {
        for (; i < s->n; i++) {
            Comfyd__V1__SessionEvent *e = s->ev[i];
            if (e->kind_case == COMFYD__V1__SESSION_EVENT__KIND_STATUS_UPDATE &&
                strncmp(e->status_update->detail, "turn ", 5) == 0) {
                pthread_mutex_unlock(&s->mu);
                return (long)i;
            }
        }
        if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) != 0) break;
    }
    pthread_mutex_unlock(&s->mu);
    return -1;
}

typedef struct e2e {
    char dir[64];
    char db[96];
    store *st;
    skills *reg;
    sess_mgr *m;
    esink *sink;
    tools_ud u;
    int notes;
    int ends;           /* turn-end callbacks */
    int replies_at_end; /* assistant messages published when it ran */
    int calls_at_end;   /* tool calls made when it ran */
    char id[40];
} e2e;

static char *note_fn(void *ud, const char *session_id)
{
    e2e *x = ud;
    assert_string_equal(session_id, x->id);
    x->notes++;
    return text_dup("Since your last turn the user deleted node 7.");
}

/* The turn-end callback (the tools release the turn's leases there): once
 * per turn, after the skills' tool calls, before any reply is published. */
static void turn_end_fn(void *ud, const char *session_id)
{
    e2e *x = ud;
    assert_string_equal(session_id, x->id);
    x->ends++;
    x->calls_at_end = x->u.calls[0];
    pthread_mutex_lock(&x->sink->mu);
    for (size_t i = 0; i < x->sink->n; i++)
        if (x->sink->ev[i]->kind_case == COMFYD__V1__SESSION_EVENT__KIND_MESSAGE_ADDED &&
            x->sink->ev[i]->message_added->message->role == COMFYD__V1__ROLE__ROLE_ASSISTANT)
            x->replies_at_end++;
    pthread_mutex_unlock(&x->sink->mu);
}

static e2e *e2e_start_with(const char *model, const char *skill_name, uint32_t idle_ms)
{
    e2e *x = calloc(1, sizeof *x);
    assert_int_equal(fake_server_reset(&srv), 0);
    snprintf(x->dir, sizeof x->dir, "/tmp/test_agent.XXXXXX");
    assert_non_null(mkdtemp(x->dir));
    snprintf(x->db, sizeof x->db, "%s/comfyd.db", x->dir);
    assert_int_equal(store_open(&x->st, x->db), STORE_OK);
    skills_root root = {COMFYD_SOURCE_DIR "/skills", SKILL_SOURCE_BUILTIN};
    assert_int_equal(skills_load(&x->reg, &root, 1), SKILLS_OK);
    sess_mgr_opts o = {.st = x->st, .skills = x->reg, .llm_idle_timeout_ms = idle_ms};
    assert_int_equal(sess_mgr_create(&x->m, &o), SESS_OK);
    sess_mgr_start(x->m);
    assert_int_equal(sess_mgr_set_tools(x->m, TOOLS, N_TOOLS, &x->u), SESS_OK);
    sess_mgr_set_note(x->m, note_fn, x);

    x->sink = calloc(1, sizeof *x->sink);
    pthread_mutex_init(&x->sink->mu, NULL);
    pthread_cond_init(&x->sink->cv, NULL);
    sess_mgr_set_turn_end(x->m, turn_end_fn, x);

    Comfyd__V1__CreateSessionRequest req = COMFYD__V1__CREATE_SESSION_REQUEST__INIT;
    Comfyd__V1__SessionConfig c = COMFYD__V1__SESSION_CONFIG__INIT;
    char *skills_list[] = {(char *)skill_name};
    c.provider = "openai";
    c.model = (char *)model;
    c.base_url = srv.base_url;
    c.system_prompt = "You help with ComfyUI.";
    c.active_skills = skills_list;
    c.n_active_skills = 1;
    req.config = &c;
    req.api_key = "sk-e2e-secret-key-000111";
    sess_info info;
    char err[256];
    assert_int_equal(sess_create(x->m, &req, &info, err, sizeof err), SESS_OK);
    snprintf(x->id, sizeof x->id, "%s", info.meta.id);
    sess_info_clear(&info);
    assert_int_equal(sess_subscribe(x->m, x->id, 0, &es_ops, x->sink, err, sizeof err), SESS_OK);

    Comfyd__V1__SendMessageRequest sm = COMFYD__V1__SEND_MESSAGE_REQUEST__INIT;
    sm.session_id = x->id;
    sm.content = "What is on the canvas?";
    sess_send_result sr;
    assert_int_equal(sess_send(x->m, &sm, &sr, err, sizeof err), SESS_OK);
    sess_send_result_clear(&sr);
    return x;
}

static e2e *e2e_start(const char *model, const char *skill_name)
{
    return e2e_start_with(model, skill_name, 0);
}

static void e2e_stop(e2e *x)
{
    sess_mgr_destroy(x->m);
    skills_unref(x->reg);
    store_close(x->st);
    for (size_t i = 0; i < x->sink->n; i++)
        comfyd__v1__session_event__free_unpacked(x->sink->ev[i], NULL);
    pthread_mutex_destroy(&x->sink->mu);
    pthread_cond_destroy(&x->sink->cv);
    free(x->sink);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", x->dir);
    assert_int_equal(system(cmd), 0);
    free(x);
}

static Comfyd__V1__SessionEvent *find_ev(e2e *x, int kind, size_t from)
{
    for (size_t i = from; i < x->sink->n; i++)
        if ((int)x->sink->ev[i]->kind_case == kind) return x->sink->ev[i];
    return NULL;
}

static void session_runs_tools_and_publishes_their_events(void **state)
{
    (void)state;
    e2e *x = e2e_start("agent-graph", "graph-doctor");
    long end = es_wait_turn_end(x->sink, 10000);
    assert_true(end >= 0);
    assert_string_equal(x->sink->ev[end]->status_update->detail, "turn finished");

    Comfyd__V1__SessionEvent *tc = find_ev(x, COMFYD__V1__SESSION_EVENT__KIND_TOOL_CALL, 0);
    assert_non_null(tc);
    assert_string_equal(tc->tool_call->skill, "graph-doctor");
    assert_string_equal(tc->tool_call->call_id, "call_g1");
    assert_string_equal(tc->tool_call->name, "get_graph");
    assert_string_equal(tc->tool_call->arguments_json, "{}");
    assert_true(tc->tool_call->turn_id > 0);
    Comfyd__V1__SessionEvent *tr = find_ev(x, COMFYD__V1__SESSION_EVENT__KIND_TOOL_RESULT, 0);
    assert_non_null(tr);
    assert_true(tr->seq > tc->seq);
    assert_true(tr->tool_result->ok);
    assert_string_equal(tr->tool_result->call_id, "call_g1");
    assert_string_equal(tr->tool_result->result_json, "{\"revision\":3,\"nodes\":2}");
    assert_int_equal(x->u.calls[0], 1);
    assert_int_equal(x->notes, 1);
    assert_int_equal(x->ends, 1);
    assert_int_equal(x->calls_at_end, 1);
    assert_int_equal(x->replies_at_end, 0);

    /* A debug line per call and result, and the turn's usage. */
    int saw_call_log = 0, saw_usage_log = 0;
    for (size_t i = 0; i < x->sink->n; i++) {
        Comfyd__V1__SessionEvent *e = x->sink->ev[i];
        if (e->kind_case != COMFYD__V1__SESSION_EVENT__KIND_DEBUG_LOG) continue;
        if (strcmp(e->debug_log->message, "tool call get_graph {}") == 0) saw_call_log = 1;
        if (strstr(e->debug_log->message, "turn usage: 250 prompt + 18 completion tokens"))
            saw_usage_log = 1;
        assert_null(strstr(e->debug_log->message, "sk-e2e-secret"));
    }
    assert_true(saw_call_log);
    assert_true(saw_usage_log);

    /* The stored reply joins the texts of both model calls. */
    Comfyd__V1__SessionEvent *ma = NULL;
    for (size_t i = 0; i < x->sink->n; i++) {
        Comfyd__V1__SessionEvent *e = x->sink->ev[i];
        if (e->kind_case == COMFYD__V1__SESSION_EVENT__KIND_MESSAGE_ADDED &&
            e->message_added->message->role == COMFYD__V1__ROLE__ROLE_ASSISTANT)
            ma = e;
    }
    assert_non_null(ma);
    assert_string_equal(ma->message_added->message->content,
                        "Let me look.\n\nThe canvas has 2 nodes.");
    assert_int_equal(ma->message_added->message->state,
                     COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_DONE);
    sess_info info;
    char err[128];
    assert_int_equal(sess_get(x->m, x->id, &info, err, sizeof err), SESS_OK);
    assert_int_equal(info.meta.prompt_tokens, 250);
    assert_int_equal(info.meta.completion_tokens, 18);
    sess_info_clear(&info);

    /* What the model server saw: the key, the skill's tools only, the note
     * and the instructions, then the tool result. */
    char *r0 = fake_server_request(&srv, 0);
    assert_non_null(r0);
    assert_non_null(strstr(r0, "\"authorization\": \"Bearer sk-e2e-secret-key-000111\""));
    assert_non_null(strstr(r0, "\\\"graph-doctor\\\""));
    assert_non_null(strstr(r0, "Since your last turn the user deleted node 7."));
    assert_non_null(strstr(r0, "\"name\": \"get_graph\""));
    assert_non_null(strstr(r0, "\"name\": \"validate_patch\""));
    assert_null(strstr(r0, "\"name\": \"apply_patch\""));
    assert_null(strstr(r0, "\"name\": \"queue\""));
    free(r0);
    char *r1 = fake_server_request(&srv, 1);
    assert_non_null(r1);
    assert_non_null(strstr(r1, "\"tool_call_id\": \"call_g1\""));
    assert_non_null(strstr(r1, "\"content\": \"{\\\"revision\\\":3,\\\"nodes\\\":2}\""));
    free(r1);
    e2e_stop(x);
}

static void session_refuses_a_tool_outside_the_skills_list(void **state)
{
    (void)state;
    e2e *x = e2e_start("agent-forbidden", "graph-doctor");
    long end = es_wait_turn_end(x->sink, 10000);
    assert_true(end >= 0);
    assert_string_equal(x->sink->ev[end]->status_update->detail, "turn finished");
    Comfyd__V1__SessionEvent *tr = find_ev(x, COMFYD__V1__SESSION_EVENT__KIND_TOOL_RESULT, 0);
    assert_non_null(tr);
    assert_false(tr->tool_result->ok);
    assert_non_null(strstr(tr->tool_result->result_json, "not available to the skill"));
    assert_int_equal(x->u.calls[2], 0);
    int saw_warn = 0;
    for (size_t i = 0; i < x->sink->n; i++) {
        Comfyd__V1__SessionEvent *e = x->sink->ev[i];
        if (e->kind_case == COMFYD__V1__SESSION_EVENT__KIND_DEBUG_LOG &&
            e->debug_log->level == COMFYD__V1__LOG_LEVEL__LOG_LEVEL_WARN &&
            strstr(e->debug_log->message, "tool apply_patch failed"))
            saw_warn = 1;
    }
    assert_true(saw_warn);
    e2e_stop(x);
}

static void session_reports_a_model_error_without_the_key(void **state)
{
    (void)state;
    e2e *x = e2e_start("auth", "workflow-builder");
    long end = es_wait_turn_end(x->sink, 10000);
    assert_true(end >= 0);
    assert_string_equal(x->sink->ev[end]->status_update->detail, "turn failed");
    Comfyd__V1__SessionEvent *er = find_ev(x, COMFYD__V1__SESSION_EVENT__KIND_ERROR, 0);
    assert_non_null(er);
    assert_string_equal(er->error->code, "provider_error");
    assert_non_null(strstr(er->error->message, "HTTP 401"));
    for (size_t i = 0; i < x->sink->n; i++) {
        Comfyd__V1__SessionEvent *e = x->sink->ev[i];
        if (e->kind_case == COMFYD__V1__SESSION_EVENT__KIND_ERROR)
            assert_null(strstr(e->error->message, "000111"));
        if (e->kind_case == COMFYD__V1__SESSION_EVENT__KIND_DEBUG_LOG)
            assert_null(strstr(e->debug_log->message, "000111"));
        if (e->kind_case == COMFYD__V1__SESSION_EVENT__KIND_MESSAGE_ADDED)
            assert_null(strstr(e->message_added->message->error, "000111"));
    }
    e2e_stop(x);
}

static Comfyd__V1__ChatMessage *last_reply(e2e *x)
{
    Comfyd__V1__ChatMessage *m = NULL;
    for (size_t i = 0; i < x->sink->n; i++) {
        Comfyd__V1__SessionEvent *e = x->sink->ev[i];
        if (e->kind_case == COMFYD__V1__SESSION_EVENT__KIND_MESSAGE_ADDED &&
            e->message_added->message->role == COMFYD__V1__ROLE__ROLE_ASSISTANT)
            m = e->message_added->message;
    }
    return m;
}

static void session_idle_timeout_option_fails_a_silent_model(void **state)
{
    (void)state;
    int64_t t0 = text_mono_ms();
    e2e *x = e2e_start_with("slow", "workflow-builder", 300);
    long end = es_wait_turn_end(x->sink, 10000);
    assert_true(end >= 0);
    assert_true(text_mono_ms() - t0 < 3000);
    assert_string_equal(x->sink->ev[end]->status_update->detail, "turn failed");
    Comfyd__V1__ChatMessage *m = last_reply(x);
    assert_non_null(m);
    assert_int_equal(m->state, COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_FAILED);
    assert_string_equal(m->content, "Hello");
    assert_non_null(strstr(m->error, "no data from the model server for 0.3 s"));
    e2e_stop(x);
}

static int is_delta(const Comfyd__V1__SessionEvent *e)
{
    return e->kind_case == COMFYD__V1__SESSION_EVENT__KIND_STREAM_DELTA;
}

static void session_cancel_closes_a_slow_model_stream(void **state)
{
    (void)state;
    e2e *x = e2e_start("slow", "workflow-builder");
    /* Wait for the first delta, then cancel. */
    int64_t dl = text_mono_ms() + 10000;
    for (;;) {
        pthread_mutex_lock(&x->sink->mu);
        int seen = 0;
        for (size_t i = 0; i < x->sink->n; i++)
            seen |= is_delta(x->sink->ev[i]);
        pthread_mutex_unlock(&x->sink->mu);
        if (seen) break;
        assert_true(text_mono_ms() < dl);
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    int cancelled = 0;
    uint32_t dropped = 0;
    char err[128];
    int64_t t0 = text_mono_ms();
    assert_int_equal(sess_cancel(x->m, x->id, 0, &cancelled, &dropped, err, sizeof err), SESS_OK);
    assert_true(cancelled);
    long end = es_wait_turn_end(x->sink, 5000);
    assert_true(end >= 0);
    assert_true(text_mono_ms() - t0 < 1000);
    assert_string_equal(x->sink->ev[end]->status_update->detail, "turn cancelled");
    Comfyd__V1__ChatMessage *m = last_reply(x);
    assert_int_equal(m->state, COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_CANCELLED);
    assert_string_equal(m->content, "Hello");
    e2e_stop(x);
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
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tool_call_then_result_then_answer),
        cmocka_unit_test(tool_sees_session_turn_skill_and_call_id),
        cmocka_unit_test(system_message_holds_prompt_skill_note_and_history),
        cmocka_unit_test(invalid_arguments_go_back_to_the_model_which_corrects),
        cmocka_unit_test(tool_failure_without_result_and_plain_text_results_are_json),
        cmocka_unit_test(oversized_tool_result_is_replaced_by_an_error),
        cmocka_unit_test(step_limit_stops_a_model_that_never_answers),
        cmocka_unit_test(loop_breaker_stops_the_same_call_repeated_three_times),
        cmocka_unit_test(alternating_calls_are_not_a_loop),
        cmocka_unit_test(allowed_tools_limit_what_is_offered_and_run),
        cmocka_unit_test(read_only_skill_gets_only_read_only_tools),
        cmocka_unit_test(empty_allowed_tools_offers_every_tool),
        cmocka_unit_test(cancel_stops_between_tool_calls),
        cmocka_unit_test(provider_failure_is_returned_with_its_message),
        cmocka_unit_test(refusing_sink_aborts),
        cmocka_unit_test(texts_of_two_model_calls_are_separated_by_a_blank_line),
        cmocka_unit_test(repeated_call_ids_are_made_unique),
        cmocka_unit_test(echo_provider_answers_through_the_loop),
        cmocka_unit_test(images_follow_the_tool_results_of_their_reply),
        cmocka_unit_test(without_vision_no_image_is_taken),
        cmocka_unit_test(images_are_bounded_per_turn_and_by_type),
        cmocka_unit_test(tool_allowed_rules),
        cmocka_unit_test(session_runs_tools_and_publishes_their_events),
        cmocka_unit_test(session_refuses_a_tool_outside_the_skills_list),
        cmocka_unit_test(session_reports_a_model_error_without_the_key),
        cmocka_unit_test(session_idle_timeout_option_fails_a_silent_model),
        cmocka_unit_test(session_cancel_closes_a_slow_model_stream),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

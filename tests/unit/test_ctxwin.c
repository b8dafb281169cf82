/* Unit tests for core/ctxwin (budget arithmetic, compaction selection, the
 * offline summary) and core/ftsq (search query handling). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ctxwin.h"
#include "ftsq.h"

static void test_estimate_and_budget(void **state)
{
    (void)state;
    assert_int_equal(ctx_text_tokens(0), 0);
    assert_int_equal(ctx_text_tokens(1), 1);
    assert_int_equal(ctx_text_tokens(4), 1);
    assert_int_equal(ctx_text_tokens(5), 2);
    assert_int_equal(ctx_msg_tokens(8), 2 + CTX_MSG_OVERHEAD);
    /* Reserve: a quarter within bounds, never above half. */
    assert_int_equal(ctx_reply_reserve(2048), 512);
    assert_int_equal(ctx_reply_reserve(600), 256);
    assert_int_equal(ctx_reply_reserve(512), 256);
    assert_int_equal(ctx_reply_reserve(128000), CTX_RESERVE_MAX);
    assert_int_equal(ctx_prompt_budget(2048), 1536);
    /* Ratios from usage reports, clamped. */
    assert_int_equal(ctx_ratio(150, 100), 1500);
    assert_int_equal(ctx_ratio(1, 100), CTX_RATIO_MIN);
    assert_int_equal(ctx_ratio(1000, 1), CTX_RATIO_MAX);
    assert_int_equal(ctx_ratio(0, 100), 1000);
    assert_int_equal(ctx_scale(100, 1500), 150);
    assert_int_equal(ctx_scale(3, 1500), 5); /* rounded up */
    assert_int_equal(ctx_scale(7, 0), 7);
}

static void test_default_windows(void **state)
{
    (void)state;
    assert_int_equal(ctx_default_window("echo", "", ""), CTX_ECHO_WINDOW);
    assert_int_equal(ctx_default_window("", NULL, NULL), CTX_ECHO_WINDOW);
    assert_int_equal(ctx_default_window("openai", "gpt-4o-mini", ""), 128000);
    assert_int_equal(ctx_default_window("openai", "openai/gpt-4o", ""), 128000);
    assert_int_equal(ctx_default_window("openai", "gpt-4", ""), 8192);
    assert_int_equal(ctx_default_window("openai", "llama3.1:8b", "http://127.0.0.1:11434/v1"),
                     CTX_OLLAMA_WINDOW);
    assert_int_equal(ctx_default_window("openai", "my-finetune", "http://x/v1"),
                     CTX_DEFAULT_WINDOW);
}

static void test_select_keeps_whole_newest_turns(void **state)
{
    (void)state;
    /* Turns: [0,1] [2,3] [4,5], 10 tokens each message. */
    ctx_item it[6];
    for (int i = 0; i < 6; i++)
        it[i] = (ctx_item){.tokens = 10, .turn_start = i % 2 == 0};
    assert_int_equal(ctx_select_keep(it, 6, 45, 100), 2); /* two turns fit in 45 */
    assert_int_equal(ctx_select_keep(it, 6, 39, 100), 4); /* one turn */
    assert_int_equal(ctx_select_keep(it, 6, 60, 100), 0); /* all */
    assert_int_equal(ctx_select_keep(it, 6, 60, 3), 4);   /* message cap: one turn */
    /* The newest turn alone does not fit: keep what fits of it. */
    it[4].tokens = 100;
    assert_int_equal(ctx_select_keep(it, 6, 50, 100), 5);
    /* Nothing fits. */
    it[5].tokens = 100;
    assert_int_equal(ctx_select_keep(it, 6, 50, 100), 6);
    assert_int_equal(ctx_select_keep(it, 0, 50, 100), 0);
}

static void test_echo_summary_is_bounded_and_honest(void **state)
{
    (void)state;
    char big[4000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ctx_src src[40];
    for (int i = 0; i < 40; i++)
        src[i] = (ctx_src){.id = (uint64_t)(i + 10),
                           .role = i % 2 ? "assistant" : "user",
                           .skill = i % 2 ? "workflow-builder" : NULL,
                           .content = i == 3 ? big : "make a red\n\n  fox"};
    char *s = ctx_echo_summary(src, 40, "older facts", 200);
    assert_non_null(s);
    assert_true(ctx_text_tokens(strlen(s)) <= 200);
    assert_non_null(strstr(s, "Summary of 40 earlier messages (#10 to #49)"));
    assert_non_null(strstr(s, "without a model"));
    assert_non_null(strstr(s, "Before that: older facts"));
    assert_non_null(strstr(s, "- user: make a red fox"));
    assert_non_null(strstr(s, "- assistant (workflow-builder): "));
    assert_non_null(strstr(s, "more messages not shown"));
    /* Deterministic. */
    char *again = ctx_echo_summary(src, 40, "older facts", 200);
    assert_string_equal(s, again);
    free(again);
    free(s);
    /* Roomy: every message is shown. */
    s = ctx_echo_summary(src, 2, NULL, 2000);
    assert_null(strstr(s, "not shown"));
    free(s);
    /* Cutting keeps UTF-8 whole. */
    char *u = strdup("ééééééééééé");
    ctx_cut(u, 2);
    assert_true(strlen(u) <= 8);
    assert_non_null(strstr(u, "…"));
    free(u);
}

static void expect_query(const char *q, const char *want)
{
    char *out = NULL;
    char err[128] = "";
    int rc = ftsq_build(q, &out, err, sizeof err);
    if (rc != 0) fail_msg("'%s' rejected: %s", q, err);
    assert_string_equal(out, want);
    free(out);
}

static void expect_error(const char *q, const char *needle)
{
    char *out = NULL;
    char err[128] = "";
    assert_int_equal(ftsq_build(q, &out, err, sizeof err), -1);
    assert_null(out);
    if (!strstr(err, needle)) fail_msg("'%s': error '%s' lacks '%s'", q, err, needle);
}

static void test_fts_query_quoting(void **state)
{
    (void)state;
    expect_query("fox", "(\"fox\")");
    expect_query("red  fox", "(\"red\") AND (\"fox\")");
    expect_query("\"red fox\" sky*", "(\"red fox\") AND (\"sky\" *)");
    expect_query("cat OR dog bird", "(\"cat\" OR \"dog\") AND (\"bird\")");
    expect_query("cat -dog -\"big bird\"", "(\"cat\") NOT (\"dog\" OR \"big bird\")");
    /* FTS5 syntax in user text is only ever text. */
    expect_query("body:fox", "(\"body:fox\")");
    expect_query("NEAR(a b)", "(\"NEAR(a\") AND (\"b)\")");
    expect_query("a\"\"b", "(\"a\") AND (\"b\")"); /* an empty phrase searches nothing */
    expect_query("and not", "(\"and\") AND (\"not\")");
    expect_query("ünïcode", "(\"ünïcode\")");
    expect_query("x ++ y", "(\"x\") AND (\"y\")");
    expect_error("\"open phrase", "unbalanced quote");
    expect_error("OR cat", "OR must stand between");
    expect_error("cat OR", "OR must stand between");
    expect_error("cat OR OR dog", "OR must stand between");
    expect_error("-cat", "only excludes");
    expect_error("   ", "no word");
    expect_error("!!! ???", "no word");
    expect_error("cat OR -dog", "excluded term");
    char longq[FTSQ_MAX_QUERY + 10];
    memset(longq, 'a', sizeof longq - 1);
    longq[sizeof longq - 1] = 0;
    expect_error(longq, "longer than");
    expect_error("\xff\xfe", "UTF-8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_estimate_and_budget),
        cmocka_unit_test(test_default_windows),
        cmocka_unit_test(test_select_keeps_whole_newest_turns),
        cmocka_unit_test(test_echo_summary_is_bounded_and_honest),
        cmocka_unit_test(test_fts_query_quoting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for common/text: UTF-8 validation edge cases, UUIDs, clocks and
 * string copies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "text.h"

#include <stdlib.h>
#include <string.h>

#define VALID(lit) assert_int_equal(text_utf8_valid(lit, sizeof(lit) - 1), 1)
#define INVALID(lit) assert_int_equal(text_utf8_valid(lit, sizeof(lit) - 1), 0)

static void utf8_accepts_empty_and_ascii(void **state)
{
    (void)state;
    assert_int_equal(text_utf8_valid("", 0), 1);
    assert_int_equal(text_utf8_valid(NULL, 0), 1);
    VALID("plain ASCII, with punctuation!\t\r\n\x7f");
}

/* ASCII runs are checked a word at a time: a NUL or a bad byte inside,
 * right after or at the end of a run is still found. */
static void utf8_long_ascii_runs(void **state)
{
    (void)state;
    VALID("0123456789abcdef0123456789abcdef");
    VALID("0123456789abcdef\xc3\xa9"
          "0123456789abcdef");
    INVALID("01234567\x80"
            "0123456789");
    INVALID("0123456789abcde\xc3");
    INVALID("01234567"
            "0123456\xff");
    assert_int_equal(text_utf8_valid("0123456789\0abcdef", 17), 0);
    assert_int_equal(text_utf8_valid("01234567\0", 9), 0);
    assert_int_equal(text_utf8_valid_nul("0123456789\0abcdef", 17), 1);
    assert_int_equal(text_utf8_valid_nul("01234567\x80", 9), 0);
}

static void utf8_accepts_every_sequence_length(void **state)
{
    (void)state;
    VALID("\xC2\x80");         /* U+0080, smallest two-byte */
    VALID("caf\xC3\xA9");      /* é */
    VALID("\xDF\xBF");         /* U+07FF */
    VALID("\xE0\xA0\x80");     /* U+0800, smallest three-byte */
    VALID("\xE2\x82\xAC");     /* € */
    VALID("\xED\x9F\xBF");     /* U+D7FF, just below the surrogates */
    VALID("\xEE\x80\x80");     /* U+E000, just above them */
    VALID("\xEF\xBF\xBF");     /* U+FFFF */
    VALID("\xF0\x90\x80\x80"); /* U+10000, smallest four-byte */
    VALID("\xF0\x9F\x98\x80"); /* an emoji */
    VALID("\xF4\x8F\xBF\xBF"); /* U+10FFFF, the last code point */
    VALID("\xEF\xBB\xBF"
          "bom");
}

static void utf8_rejects_overlong_forms(void **state)
{
    (void)state;
    INVALID("\xC0\x80"); /* NUL in two bytes */
    INVALID("\xC1\xBF");
    INVALID("\xE0\x80\x80");
    INVALID("\xE0\x9F\xBF"); /* U+07FF in three bytes */
    INVALID("\xF0\x80\x80\x80");
    INVALID("\xF0\x8F\xBF\xBF"); /* U+FFFF in four bytes */
    INVALID("\xC0\xAF");         /* the classic overlong '/' */
}

static void utf8_rejects_surrogates(void **state)
{
    (void)state;
    INVALID("\xED\xA0\x80");             /* U+D800 */
    INVALID("\xED\xAF\xBF");             /* U+DBFF */
    INVALID("\xED\xB0\x80");             /* U+DC00 */
    INVALID("\xED\xBF\xBF");             /* U+DFFF */
    INVALID("\xED\xA0\xBD\xED\xB8\x80"); /* a CESU-8 pair */
}

static void utf8_rejects_code_points_above_10ffff(void **state)
{
    (void)state;
    INVALID("\xF4\x90\x80\x80"); /* U+110000 */
    INVALID("\xF5\x80\x80\x80");
    INVALID("\xF7\xBF\xBF\xBF");
    INVALID("\xF8\x88\x80\x80\x80"); /* old five-byte form */
    INVALID("\xFC\x84\x80\x80\x80\x80");
    INVALID("\xFE");
    INVALID("\xFF");
}

static void utf8_rejects_truncated_sequences(void **state)
{
    (void)state;
    INVALID("\xC3");
    INVALID("ab\xE2\x82");
    INVALID("\xF0\x9F\x98");
    INVALID("\xE2\x82"
            "A"); /* interrupted by ASCII */
    INVALID("\xF0\x9F"
            "\xC3\xA9");
}

static void utf8_rejects_stray_continuation_bytes(void **state)
{
    (void)state;
    INVALID("\x80");
    INVALID("a\xBF"
            "b");
    INVALID("\xC3\xA9\xA9"); /* one continuation too many */
}

static void utf8_rejects_nul_bytes(void **state)
{
    (void)state;
    INVALID("a\0b");
    INVALID("\0");
}

static void utf8_reads_only_len_bytes(void **state)
{
    (void)state;
    /* The sequence is complete in memory, but len cuts it. */
    const char s[] = "x\xE2\x82\xAC";
    assert_int_equal(text_utf8_valid(s, 3), 0);
    assert_int_equal(text_utf8_valid(s, 4), 1);
    /* A NUL past len does not count. */
    const char t[] = "ok\0";
    assert_int_equal(text_utf8_valid(t, 2), 1);
}

static void uuid_is_version_4_lowercase_and_unique(void **state)
{
    (void)state;
    char a[TEXT_UUID_LEN], b[TEXT_UUID_LEN];
    assert_int_equal(text_uuid(a), 0);
    assert_int_equal(text_uuid(b), 0);
    assert_int_equal(strlen(a), 36);
    assert_true(text_is_uuid(a));
    assert_true(text_is_uuid(b));
    assert_string_not_equal(a, b);
    assert_int_equal(a[8], '-');
    assert_int_equal(a[13], '-');
    assert_int_equal(a[18], '-');
    assert_int_equal(a[23], '-');
    assert_int_equal(a[14], '4');           /* version */
    assert_non_null(strchr("89ab", a[19])); /* RFC 4122 variant */
    for (int i = 0; i < 36; i++)
        assert_null(strchr("ABCDEF", a[i]));
}

static void uuid_check_rejects_malformed_text(void **state)
{
    (void)state;
    assert_true(text_is_uuid("123e4567-e89b-42d3-a456-426614174000"));
    assert_false(text_is_uuid(NULL));
    assert_false(text_is_uuid(""));
    assert_false(text_is_uuid("123E4567-E89B-42D3-A456-426614174000"));  /* upper case */
    assert_false(text_is_uuid("123e4567-e89b-42d3-a456-42661417400"));   /* short */
    assert_false(text_is_uuid("123e4567-e89b-42d3-a456-4266141740000")); /* long */
    assert_false(text_is_uuid("123e4567e-89b-42d3-a456-426614174000"));  /* dash moved */
    assert_false(text_is_uuid("123e4567-e89b-42d3-a456-42661417400g"));  /* not hex */
    assert_false(text_is_uuid("{23e4567-e89b-42d3-a456-426614174000"));
    assert_false(text_is_uuid("../../../../etc/passwd/aaaaaaaaaaaaaa"));
}

static void clocks_are_plausible_and_monotonic(void **state)
{
    (void)state;
    assert_true(text_now_ms() > INT64_C(1577836800000)); /* after 2020-01-01 */
    int64_t a = text_mono_ms();
    int64_t b = text_mono_ms();
    assert_true(b >= a);
}

static void dup_copies_and_terminates(void **state)
{
    (void)state;
    assert_null(text_dup(NULL));
    char *d = text_dup("hello");
    assert_string_equal(d, "hello");
    free(d);
    d = text_dupn("hello world", 5);
    assert_string_equal(d, "hello");
    free(d);
    d = text_dupn("", 0);
    assert_string_equal(d, "");
    free(d);
}

static void buf_appends_grow_and_cut_on_character_boundaries(void **state)
{
    (void)state;
    text_buf b = {0};
    text_buf_add(&b, "node ");
    text_buf_addf(&b, "#%d %s", 3, "KSampler");
    for (int i = 0; i < 100; i++)
        text_buf_addn(&b, "xyz", 2);
    assert_false(b.oom);
    assert_int_equal(b.n, strlen("node #3 KSampler") + 200);
    assert_int_equal(strncmp(b.p, "node #3 KSampler", 16), 0);
    assert_int_equal(b.p[b.n], 0);
    free(b.p);
    /* "é" is two bytes: a cut inside it moves back to its first byte. */
    assert_int_equal(text_utf8_cut("ab\xc3\xa9", 4, 3), 2);
    assert_int_equal(text_utf8_cut("ab\xc3\xa9", 4, 4), 4);
    assert_int_equal(text_utf8_cut("abc", 3, 10), 3);
}

static void buf_bounds_takes_and_long_formats(void **state)
{
    (void)state;
    text_buf b = {0};
    assert_int_equal(text_buf_addn_max(&b, "abcd", 4, 6), 0);
    /* Two more would pass 6 bytes: refused whole, nothing added. */
    assert_int_equal(text_buf_addn_max(&b, "efg", 3, 6), TEXT_BUF_ETOOBIG);
    assert_int_equal(text_buf_addn_max(&b, "ef", 2, 6), 0);
    assert_string_equal(b.p, "abcdef");
    /* A piece longer than the stack buffer of one pass is not cut. */
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    text_buf_reset(&b);
    assert_int_equal(b.n, 0);
    text_buf_addf(&b, "[%s]", big);
    assert_int_equal(b.n, sizeof big + 1);
    assert_int_equal(b.p[b.n - 1], ']');
    char *s = text_buf_take(&b);
    assert_null(b.p);
    assert_int_equal(strlen(s), sizeof big + 1);
    free(s);
    /* Nothing added: an empty string, not NULL. */
    s = text_buf_take(&b);
    assert_string_equal(s, "");
    free(s);
    s = text_printf("%s-%d", "run", 7);
    assert_string_equal(s, "run-7");
    free(s);
    text_buf_add_base64(&b, (const unsigned char *)"any carnal pleas", 16);
    assert_string_equal(b.p, "YW55IGNhcm5hbCBwbGVhcw==");
    text_buf_free(&b);
    assert_null(b.p);
}

static void sink_stops_at_its_limit(void **state)
{
    (void)state;
    text_sink k = {.max = 8};
    assert_int_equal(text_sink_write((char *)"hello", 1, 5, &k), 5);
    assert_int_equal(text_sink_write((char *)"abc", 3, 1, &k), 3);
    assert_false(k.over);
    assert_int_equal(text_sink_write((char *)"!", 1, 1, &k), 0);
    assert_true(k.over);
    assert_string_equal(k.b.p, "helloabc");
    text_buf_free(&k.b);
}

static void err_formats_and_returns_the_code(void **state)
{
    (void)state;
    char err[8];
    assert_int_equal(text_err(err, sizeof err, -7, "bad %s", "value"), -7);
    assert_string_equal(err, "bad val"); /* cut to the buffer */
    assert_int_equal(text_err(NULL, 0, 3, "ignored"), 3);
    /* WebSocket text may hold NUL; comfyd's strings may not. */
    assert_int_equal(text_utf8_valid_nul("a\0b", 3), 1);
    assert_int_equal(text_utf8_valid("a\0b", 3), 0);
    assert_int_equal(text_utf8_valid_nul("\xC0\x80", 2), 0);
    assert_int_equal(text_utf8_seq("\xE2\x82\xAC", 3), 3);
    assert_int_equal(text_utf8_seq("\xE2\x82", 2), 0);
}

/* A peer's string field: NULL and short UTF-8 pass, the limit is inclusive,
 * the length is checked before the encoding. */
static void field_problem_names_length_then_encoding(void **state)
{
    (void)state;
    assert_null(text_field_problem(NULL, 0));
    assert_null(text_field_problem("", 0));
    assert_null(text_field_problem("caf\xc3\xa9", 5));
    assert_string_equal(text_field_problem("caf\xc3\xa9", 4), "is too long");
    assert_string_equal(text_field_problem("a\xc3", 8), "is not valid UTF-8");
    assert_string_equal(text_field_problem("abc\xc3", 2), "is too long");
}

/* A deadline for pthread_cond_timedwait: ms later on the wall clock, with
 * the nanoseconds carried into the seconds. */
static void realtime_after_is_later_and_normalised(void **state)
{
    (void)state;
    int64_t ms[] = {0, 1, 999, 1000, 1999, 86400000};
    for (size_t i = 0; i < sizeof ms / sizeof *ms; i++) {
        int64_t before = text_now_ms();
        struct timespec ts = text_realtime_after(ms[i]);
        int64_t at = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        assert_true(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L);
        assert_true(at >= before + ms[i]);
        assert_true(at <= text_now_ms() + ms[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_accepts_empty_and_ascii),
        cmocka_unit_test(field_problem_names_length_then_encoding),
        cmocka_unit_test(realtime_after_is_later_and_normalised),
        cmocka_unit_test(utf8_long_ascii_runs),
        cmocka_unit_test(utf8_accepts_every_sequence_length),
        cmocka_unit_test(utf8_rejects_overlong_forms),
        cmocka_unit_test(utf8_rejects_surrogates),
        cmocka_unit_test(utf8_rejects_code_points_above_10ffff),
        cmocka_unit_test(utf8_rejects_truncated_sequences),
        cmocka_unit_test(utf8_rejects_stray_continuation_bytes),
        cmocka_unit_test(utf8_rejects_nul_bytes),
        cmocka_unit_test(utf8_reads_only_len_bytes),
        cmocka_unit_test(uuid_is_version_4_lowercase_and_unique),
        cmocka_unit_test(uuid_check_rejects_malformed_text),
        cmocka_unit_test(clocks_are_plausible_and_monotonic),
        cmocka_unit_test(dup_copies_and_terminates),
        cmocka_unit_test(buf_appends_grow_and_cut_on_character_boundaries),
        cmocka_unit_test(buf_bounds_takes_and_long_formats),
        cmocka_unit_test(sink_stops_at_its_limit),
        cmocka_unit_test(err_formats_and_returns_the_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

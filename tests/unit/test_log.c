/* Unit tests for common/log: escaping of untrusted text (LOG_ESC) and the
 * one-line-per-call guarantee of log_msg. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void plain_text_is_quoted(void **state)
{
    (void)state;
    char b[LOG_ESC_MAX];
    assert_string_equal(log_esc(b, sizeof b, "canvas-1"), "\"canvas-1\"");
    assert_string_equal(log_esc(b, sizeof b, ""), "\"\"");
    assert_string_equal(log_esc(b, sizeof b, NULL), "(null)");
    /* Valid UTF-8 stays readable. */
    assert_string_equal(log_esc(b, sizeof b, "caf\xc3\xa9"), "\"caf\xc3\xa9\"");
}

static void line_breaks_and_controls_are_escaped(void **state)
{
    (void)state;
    char b[LOG_ESC_MAX];
    assert_string_equal(log_esc(b, sizeof b, "a\nb"), "\"a\\nb\"");
    assert_string_equal(log_esc(b, sizeof b, "x\r\n2026-01-01T00:00:00.000Z ERROR bridge: forged"),
                        "\"x\\r\\n2026-01-01T00:00:00.000Z ERROR bridge: forged\"");
    assert_string_equal(log_esc(b, sizeof b, "t\tq\"s\\e\x1b[31m\x7f"),
                        "\"t\\tq\\\"s\\\\e\\x1b[31m\\x7f\"");
    /* Invalid UTF-8, NEL (U+0085) and U+2028 become byte escapes. */
    assert_string_equal(log_esc(b, sizeof b, "\xff\xc0\x80"), "\"\\xff\\xc0\\x80\"");
    assert_string_equal(log_esc(b, sizeof b, "a\xc2\x85z"), "\"a\\xc2\\x85z\"");
    assert_string_equal(log_esc(b, sizeof b, "a\xe2\x80\xa8z"), "\"a\\xe2\\x80\\xa8z\"");
    /* NUL bytes inside a counted string. */
    assert_string_equal(log_esc_n(b, sizeof b, "a\0b", 3), "\"a\\x00b\"");
}

static void long_values_are_cut_and_marked(void **state)
{
    (void)state;
    char in[1000];
    memset(in, 'z', sizeof in - 1);
    in[sizeof in - 1] = '\0';
    const char *e = LOG_ESC(in);
    size_t n = strlen(e);
    assert_true(n < LOG_ESC_MAX);
    assert_int_equal(e[0], '"');
    assert_string_equal(e + n - 4, "\"...");
    /* An escape is never cut in half. */
    char nl[400];
    memset(nl, '\n', sizeof nl - 1);
    nl[sizeof nl - 1] = '\0';
    char b[16];
    assert_string_equal(log_esc(b, sizeof b, nl), "\"\\n\\n\\n\\n\\n\"...");
}

/* Runs fn with stderr sent to a file and returns what it wrote (malloc). */
static char *capture(void (*fn)(void))
{
    char path[] = "/tmp/test_log.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t n = lseek(fd, 0, SEEK_END);
    char *out = calloc(1, (size_t)n + 1);
    assert_int_equal(pread(fd, out, (size_t)n, 0), n);
    close(fd);
    unlink(path);
    return out;
}

static void forged(void)
{
    /* Both walls: the escaped value, and a raw newline that reached the
     * format anyway. */
    LOG_W("editor", "canvas %s refused", LOG_ESC("x\n2026-01-01T00:00:00.000Z NOTE  app: ready"));
    LOG_W("editor", "raw %s", "y\r\nZ INFO  forged: line");
}

static void one_call_is_one_line(void **state)
{
    (void)state;
    char *out = capture(forged);
    size_t lines = 0;
    for (char *p = out; *p; p++)
        if (*p == '\n') lines++;
    assert_int_equal(lines, 2);
    assert_non_null(
        strstr(out, "canvas \"x\\n2026-01-01T00:00:00.000Z NOTE  app: ready\" refused"));
    assert_non_null(strstr(out, "raw y\\x0d\\x0aZ INFO  forged: line"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_text_is_quoted),
        cmocka_unit_test(line_breaks_and_controls_are_escaped),
        cmocka_unit_test(long_values_are_cut_and_marked),
        cmocka_unit_test(one_call_is_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for common/jsonscan: exact value counts and depth against the
 * limits, keys counted or not, and what strict mode refuses (NUL escapes,
 * lone surrogates, comments) while the lenient mode skips comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "jsonscan.h"

#include <string.h>

static int scan(const char *s, const jsonscan_limits *lim)
{
    char why[64];
    return jsonscan(s, strlen(s), lim, why, sizeof why);
}

static void values_are_counted_exactly(void **state)
{
    (void)state;
    jsonscan_limits lim = {.max_depth = 4, .max_values = 5};
    assert_int_equal(scan("[1,2,3,4]", &lim), JSONSCAN_OK); /* the array and 4 numbers */
    assert_int_equal(scan("[1,2,3,4,5]", &lim), JSONSCAN_EVALUES);
    assert_int_equal(scan("[true, false, null, -1.5e3]", &lim), JSONSCAN_OK);
    /* Keys are not values unless asked. */
    assert_int_equal(scan("{\"a\":1,\"b\":\"x\",\"c\":[]}", &lim), JSONSCAN_OK);
    lim.count_keys = 1;
    assert_int_equal(scan("{\"a\":1,\"b\":\"x\",\"c\":[]}", &lim), JSONSCAN_EVALUES);
    /* A string holding brackets, commas or quotes counts once. */
    lim.count_keys = 0;
    assert_int_equal(scan("[\"[,{\\\"]\"]", &lim), JSONSCAN_OK);
}

static void depth_is_bounded(void **state)
{
    (void)state;
    jsonscan_limits lim = {.max_depth = 3, .max_values = 100};
    assert_int_equal(scan("[[[1]]]", &lim), JSONSCAN_OK);
    assert_int_equal(scan("[[[[1]]]]", &lim), JSONSCAN_EDEPTH);
    assert_int_equal(scan("{\"a\":{\"b\":{\"c\":{}}}}", &lim), JSONSCAN_EDEPTH);
    /* Siblings do not add up. */
    assert_int_equal(scan("[[[1]],[[2]],[[3]]]", &lim), JSONSCAN_OK);
}

static void strict_mode_refuses_what_would_not_survive_a_re_emit(void **state)
{
    (void)state;
    jsonscan_limits strict = {.max_depth = 8, .max_values = 100, .strict = 1};
    jsonscan_limits lenient = {.max_depth = 8, .max_values = 100};
    char why[64];
    assert_int_equal(jsonscan("[\"a\\u0000\"]", 11, &strict, why, sizeof why), JSONSCAN_EINVAL);
    assert_string_equal(why, "NUL in a string");
    assert_int_equal(scan("[\"\\ud800\"]", &strict), JSONSCAN_EINVAL);
    assert_int_equal(scan("[\"\\udc00\"]", &strict), JSONSCAN_EINVAL);
    assert_int_equal(scan("[\"\\ud83d\\ude00\"]", &strict), JSONSCAN_OK); /* a pair */
    assert_int_equal(scan("[1 /* c */]", &strict), JSONSCAN_EINVAL);
    assert_int_equal(scan("[\"\\ud800\"]", &lenient), JSONSCAN_OK);
    /* Lenient: comments are skipped, brackets inside them do not count. */
    lenient.max_depth = 1;
    assert_int_equal(scan("[1 /* [[[ */, 2 // ]]]\n]", &lenient), JSONSCAN_OK);
    /* A NUL byte is refused in both modes. */
    assert_int_equal(jsonscan("[1]\0", 4, &lenient, why, sizeof why), JSONSCAN_EINVAL);
    assert_string_equal(why, "NUL byte");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(values_are_counted_exactly),
        cmocka_unit_test(depth_is_bounded),
        cmocka_unit_test(strict_mode_refuses_what_would_not_survive_a_re_emit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

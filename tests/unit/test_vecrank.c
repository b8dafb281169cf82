/* Unit tests for core/vecrank: cosine similarity, the hybrid BM25 +
 * cosine fusion (docs/sessions.md, "Hybrid ranking") and the bounded
 * top-k of a vector scan. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "vecrank.h"

static void test_cosine(void **state)
{
    (void)state;
    float a[3] = {1, 0, 0}, b[3] = {0, 2, 0}, c[3] = {3, 0, 0}, d[3] = {-1, 0, 0}, z[3] = {0};
    assert_true(fabs(vec_cosine(a, b, 3)) < 1e-9);
    assert_true(fabs(vec_cosine(a, c, 3) - 1) < 1e-9);
    assert_true(fabs(vec_cosine(a, d, 3) + 1) < 1e-9);
    assert_true(vec_cosine(a, z, 3) == 0); /* a zero vector matches nothing */
    float e[2] = {3, 4};
    assert_true(fabs(vec_normalize(e, 2) - 5) < 1e-6);
    assert_true(fabs(e[0] - 0.6f) < 1e-6 && fabs(e[1] - 0.8f) < 1e-6);
    assert_true(fabs(vec_dot(e, e, 2) - 1) < 1e-6);
    assert_true(vec_normalize(z, 3) == 0 && z[0] == 0);
    float f[2] = {1, 1}, g[2] = {1, 0};
    assert_true(fabs(vec_cosine(f, g, 2) - sqrt(0.5)) < 1e-6);
}

static vr_cand text_only(uint64_t key, double bm25)
{
    return (vr_cand){.key = key, .has_text = 1, .bm25 = bm25};
}

static void test_fuse_text_only(void **state)
{
    (void)state;
    /* Without vectors the order is BM25's: lower (more negative) first. */
    vr_cand c[3] = {text_only(1, -2), text_only(2, -8), text_only(3, -4)};
    assert_int_equal(vecrank_fuse(c, 3, 0.5), 3);
    assert_int_equal(c[0].key, 2);
    assert_int_equal(c[1].key, 3);
    assert_int_equal(c[2].key, 1);
    assert_true(fabs(c[0].hybrid - 1) < 1e-9);
    assert_true(fabs(c[1].hybrid - 0.5) < 1e-9);
}

static void test_fuse_hybrid(void **state)
{
    (void)state;
    vr_cand c[4] = {
        /* the best text match, far in meaning */
        {.key = 10, .has_text = 1, .bm25 = -10, .has_vec = 1, .cosine = 0.0},
        /* a weaker text match, close in meaning: 0.5*0.6 + 0.5*0.9 = 0.75 > 0.5 */
        {.key = 11, .has_text = 1, .bm25 = -6, .has_vec = 1, .cosine = 0.9},
        /* a paraphrase: no shared word, close enough */
        {.key = 12, .has_vec = 1, .cosine = 0.8},
        /* unrelated: under min_sim, not a result */
        {.key = 13, .has_vec = 1, .cosine = 0.3},
    };
    assert_int_equal(vecrank_fuse(c, 4, 0.5), 3);
    assert_int_equal(c[0].key, 11);
    assert_true(fabs(c[0].hybrid - 0.75) < 1e-9);
    assert_int_equal(c[1].key, 10); /* 0.5 */
    assert_int_equal(c[2].key, 12); /* 0.4 */
    assert_true(fabs(c[2].hybrid - 0.4) < 1e-9);
    assert_int_equal(c[3].key, 13);
    assert_int_equal(c[3].keep, 0);
    /* A negative cosine counts as none, never below a text-only score. */
    vr_cand d[2] = {{.key = 1, .has_text = 1, .bm25 = -1, .has_vec = 1, .cosine = -0.7},
                    {.key = 2, .has_vec = 1, .cosine = -0.2}};
    assert_int_equal(vecrank_fuse(d, 2, 0.5), 1);
    assert_true(fabs(d[0].hybrid - 0.5) < 1e-9);
    /* Not embedded yet: ranked by text alone, not halved. */
    vr_cand e[2] = {{.key = 1, .has_text = 1, .bm25 = -5, .has_vec = 1, .cosine = 0.2},
                    {.key = 2, .has_text = 1, .bm25 = -5}};
    vecrank_fuse(e, 2, 0.5);
    assert_int_equal(e[0].key, 2);
    assert_true(fabs(e[0].hybrid - 1) < 1e-9 && fabs(e[1].hybrid - 0.6) < 1e-9);
    /* Ties: the newer entry first. */
    vr_cand f[2] = {{.key = 5, .has_vec = 1, .cosine = 0.9},
                    {.key = 9, .has_vec = 1, .cosine = 0.9}};
    vecrank_fuse(f, 2, 0.5);
    assert_int_equal(f[0].key, 9);
    assert_int_equal(vecrank_fuse(NULL, 0, 0.5), 0);
}

static void test_topk(void **state)
{
    (void)state;
    uint64_t keys[4];
    double scores[4];
    vr_topk t;
    vr_topk_init(&t, keys, scores, 4);
    double in[10] = {0.1, 0.9, 0.3, 0.7, 0.5, 0.2, 0.8, 0.4, 0.6, 0.0};
    for (uint64_t i = 0; i < 10; i++)
        vr_topk_push(&t, i, in[i]);
    assert_int_equal(t.n, 4);
    vr_topk_sort(&t);
    uint64_t want[4] = {1, 6, 3, 8}; /* 0.9 0.8 0.7 0.6 */
    for (int i = 0; i < 4; i++)
        assert_int_equal(keys[i], want[i]);
    /* Fewer than k, and k = 0. */
    vr_topk_init(&t, keys, scores, 4);
    vr_topk_push(&t, 7, 0.5);
    vr_topk_push(&t, 8, 0.6);
    vr_topk_sort(&t);
    assert_int_equal(t.n, 2);
    assert_int_equal(keys[0], 8);
    vr_topk_init(&t, keys, scores, 0);
    vr_topk_push(&t, 1, 1);
    assert_int_equal(t.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cosine),
        cmocka_unit_test(test_fuse_text_only),
        cmocka_unit_test(test_fuse_hybrid),
        cmocka_unit_test(test_topk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

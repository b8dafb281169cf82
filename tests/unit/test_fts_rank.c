/* Unit tests for core/fts_rank: comfyd_bm25 scores as FTS5's bm25() on
 * the text column when every phrase is under the cap, ignores matches in
 * other columns, and counts the entries of a phrase up to the cap only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "fts_rank.h"

static sqlite3 *open_db(void)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(fts_rank_register(db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(body, tags)", NULL, NULL, NULL),
        SQLITE_OK);
    return db;
}

static void add(sqlite3 *db, const char *body, const char *tags)
{
    sqlite3_stmt *q;
    assert_int_equal(
        sqlite3_prepare_v2(db, "INSERT INTO t(body, tags) VALUES(?1, ?2)", -1, &q, NULL),
        SQLITE_OK);
    sqlite3_bind_text(q, 1, body, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, tags, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
}

/* rowids and scores of a query, best first, by fn ("comfyd_bm25(t)" or
 * "bm25(t, 1.0, 0.0)"). */
static int ranked(sqlite3 *db, const char *fn, const char *match, int64_t *ids, double *sc, int max)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT rowid, %s AS r FROM t WHERE t MATCH ?1 ORDER BY r, rowid",
             fn);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_text(q, 1, match, -1, SQLITE_STATIC);
    int n = 0;
    while (sqlite3_step(q) == SQLITE_ROW && n < max) {
        ids[n] = sqlite3_column_int64(q, 0);
        sc[n++] = sqlite3_column_double(q, 1);
    }
    sqlite3_finalize(q);
    return n;
}

static void test_same_as_bm25_under_the_cap(void **state)
{
    (void)state;
    sqlite3 *db = open_db();
    add(db, "red fox in the red sky", "a");
    add(db, "a fox", "a");
    add(db, "violet sky over the castle, a long text with many other words in it", "b");
    add(db, "red red red", "b");
    add(db, "nothing here", "b");
    const char *queries[] = {"{body} : (fox)", "{body} : (red sky)", "{body} : (red OR castle)",
                             "{body} : (sky NOT castle)"};
    for (size_t k = 0; k < sizeof queries / sizeof queries[0]; k++) {
        int64_t a[8], b[8];
        double sa[8], sb[8];
        int na = ranked(db, "comfyd_bm25(t)", queries[k], a, sa, 8);
        int nb = ranked(db, "bm25(t, 1.0, 0.0)", queries[k], b, sb, 8);
        assert_int_equal(na, nb);
        assert_true(na > 0);
        for (int i = 0; i < na; i++) {
            assert_int_equal(a[i], b[i]);
            assert_true(fabs(sa[i] - sb[i]) < 1e-9);
            assert_true(sa[i] < 0);
        }
    }
    /* A match in the tags column is a filter, never a score. */
    int64_t a[8];
    double sa[8];
    int n = ranked(db, "comfyd_bm25(t)", "{body} : (fox) AND tags : a", a, sa, 8);
    int64_t b[8];
    double sb[8];
    int m = ranked(db, "bm25(t, 1.0, 0.0)", "{body} : (fox) AND tags : a", b, sb, 8);
    assert_int_equal(n, 2);
    assert_int_equal(m, 2);
    assert_int_equal(a[0], b[0]);
    sqlite3_close(db);
}

static void test_df_is_capped(void **state)
{
    (void)state;
    sqlite3 *db = open_db();
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    /* "common" in 3 * cap entries, "rare" in one. */
    for (int i = 0; i < 3 * FTS_RANK_DF_CAP; i++)
        add(db, i == 7 ? "common rare" : "common words only", "x");
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    int64_t ids[1];
    double ours[1], theirs[1];
    assert_int_equal(ranked(db, "comfyd_bm25(t)", "{body} : (common)", ids, ours, 1), 1);
    assert_int_equal(ranked(db, "bm25(t, 1.0, 0.0)", "{body} : (common)", ids, theirs, 1), 1);
    /* bm25() counted 6000 entries (IDF at its floor, 1e-6); ours stopped
     * at the cap: a larger, still small, weight. */
    double n = 3 * FTS_RANK_DF_CAP, cap = FTS_RANK_DF_CAP;
    double idf_cap = log((n - cap + 0.5) / (cap + 0.5));
    assert_true(fabs(theirs[0]) < 1e-5);
    assert_true(-ours[0] > 0.3 * idf_cap && -ours[0] < 2.2 * idf_cap);
    /* The rare word still weighs most in a query with both. */
    assert_int_equal(ranked(db, "comfyd_bm25(t)", "{body} : (common OR rare)", ids, ours, 1), 1);
    assert_int_equal(ids[0], 8);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_bm25_under_the_cap),
        cmocka_unit_test(test_df_is_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for core/runstore: runs put, read back after reopening (a
 * restart), updated in place, found by idempotency key, listed newest
 * first per canvas and session with a cursor, and the unfinished ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runstore.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_runstore.XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(path, sizeof path, "%s/runs.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void fill(Comfyd__V1__Run *r, const char *pid, const char *canvas, const char *session,
                 int64_t at, Comfyd__V1__RunStatus st)
{
    comfyd__v1__run__init(r);
    r->prompt_id = (char *)pid;
    r->canvas_id = (char *)canvas;
    r->session_id = (char *)session;
    r->queued_at_ms = at;
    r->status = st;
}

static void test_put_get_restart(void **state)
{
    (void)state;
    runstore *s = NULL;
    char err[256];
    assert_int_equal(runstore_open(&s, path, err, sizeof err), 0);
    Comfyd__V1__Run r;
    fill(&r, "p1", "c1", "", 100, COMFYD__V1__RUN_STATUS__RUN_STATUS_QUEUED);
    r.reason = "";
    assert_int_equal(runstore_put(s, &r, "c1\nkey-1"), 0);
    r.status = COMFYD__V1__RUN_STATUS__RUN_STATUS_SUCCEEDED;
    r.seq = 9;
    /* A later put keeps the first key. */
    assert_int_equal(runstore_put(s, &r, NULL), 0);
    runstore_close(s);

    assert_int_equal(runstore_open(&s, path, err, sizeof err), 0);
    Comfyd__V1__Run *g = runstore_get(s, "p1");
    assert_non_null(g);
    assert_int_equal(g->status, COMFYD__V1__RUN_STATUS__RUN_STATUS_SUCCEEDED);
    assert_int_equal(g->seq, 9);
    protobuf_c_message_free_unpacked(&g->base, NULL);
    g = runstore_get_by_key(s, "c1\nkey-1");
    assert_non_null(g);
    assert_string_equal(g->prompt_id, "p1");
    protobuf_c_message_free_unpacked(&g->base, NULL);
    assert_null(runstore_get(s, "nope"));
    assert_null(runstore_get_by_key(s, "c1\nother"));
    runstore_close(s);
}

static void test_list_and_active(void **state)
{
    (void)state;
    runstore *s = NULL;
    char err[256];
    assert_int_equal(runstore_open(&s, path, err, sizeof err), 0);
    Comfyd__V1__Run r;
    char id[16];
    for (int i = 0; i < 7; i++) {
        snprintf(id, sizeof id, "p%d", i);
        fill(&r, id, i % 2 ? "odd" : "even", i < 3 ? "s1" : "", 1000 + i,
             i == 6 ? COMFYD__V1__RUN_STATUS__RUN_STATUS_RUNNING
                    : COMFYD__V1__RUN_STATUS__RUN_STATUS_FAILED);
        assert_int_equal(runstore_put(s, &r, NULL), 0);
    }
    Comfyd__V1__Run **l = NULL;
    size_t n = 0;
    assert_int_equal(runstore_list(s, "even", "", 0, "", 2, &l, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(l[0]->prompt_id, "p6");
    assert_string_equal(l[1]->prompt_id, "p4");
    /* The next page after the last one's cursor. */
    int64_t at = l[1]->queued_at_ms;
    runstore_free_list(l, n);
    assert_int_equal(runstore_list(s, "even", "", at, "p4", 10, &l, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(l[0]->prompt_id, "p2");
    assert_string_equal(l[1]->prompt_id, "p0");
    runstore_free_list(l, n);
    assert_int_equal(runstore_list(s, "", "s1", 0, "", 10, &l, &n), 0);
    assert_int_equal(n, 3);
    runstore_free_list(l, n);
    assert_int_equal(runstore_active(s, &l, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(l[0]->prompt_id, "p6");
    runstore_free_list(l, n);
    runstore_close(s);
}

static void test_bad_path(void **state)
{
    (void)state;
    runstore *s = NULL;
    char err[256] = "";
    assert_int_equal(runstore_open(&s, "/nonexistent-dir/x/runs.db", err, sizeof err), -1);
    assert_null(s);
    assert_true(err[0] != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_and_active, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_path, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

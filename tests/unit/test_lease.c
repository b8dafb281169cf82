/* Unit tests for core/lease (several cores on one PostgreSQL database)
 * against a real server: two handles with different core names play two
 * cores. COMFYD_TEST_PG is a URI of a database (tests/postgres/run.sh
 * starts a server and sets it); without it every test is skipped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "canvas_reg.h"
#include "lease.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TTL_MS 1000 /* LEASE_TTL_MIN_MS: the expiry test waits this long */

static const char *uri(void)
{
    const char *u = getenv("COMFYD_TEST_PG");
    return u && *u ? u : NULL;
}

typedef struct fx {
    store *st;
    lease *a, *b;
} fx;

/* What the hooks saw. */
typedef struct seen {
    char interrupted_sid[40];
    uint64_t interrupted_id;
    char orphan_sid[40];
    uint64_t orphan_id;
    char lost_sid[40];
} seen;

static void on_lost(void *ud, const char *sid)
{
    snprintf(((seen *)ud)->lost_sid, 40, "%s", sid);
}

static void on_interrupted(void *ud, const char *sid, uint64_t id)
{
    seen *s = ud;
    snprintf(s->interrupted_sid, 40, "%s", sid);
    s->interrupted_id = id;
}

static void on_orphan(void *ud, const char *sid, uint64_t id, const char *content)
{
    seen *s = ud;
    (void)content;
    snprintf(s->orphan_sid, 40, "%s", sid);
    s->orphan_id = id;
}

static int setup(void **state)
{
    *state = NULL;
    if (!uri()) return 0;
    fx *f = calloc(1, sizeof *f);
    char err[256];
    if (store_open(&f->st, uri()) != STORE_OK) return -1;
    if (lease_open(&f->a, uri(), "host:/core-a", TTL_MS, err, sizeof err) != LEASE_OK) return -1;
    if (lease_open(&f->b, uri(), "host:/core-b", TTL_MS, err, sizeof err) != LEASE_OK) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (!f) return 0;
    lease_close(f->a);
    lease_close(f->b);
    store_close(f->st);
    free(f);
    return 0;
}

#define NEED_PG(f)                                                                                 \
    do {                                                                                           \
        if (!(f)) skip();                                                                          \
    } while (0)

static void mk_session(store *st, const char *id)
{
    store_session s = {0};
    snprintf(s.id, sizeof s.id, "%s", id);
    s.provider = "echo";
    s.created_ms = s.updated_ms = 1000;
    assert_int_equal(store_session_insert(st, &s, NULL), STORE_OK);
}

static uint64_t mk_turn(store *st, const char *sid, int64_t created_ms)
{
    store_message m = {0};
    snprintf(m.session_id, sizeof m.session_id, "%s", sid);
    m.role = STORE_ROLE_USER;
    m.content = "hello";
    m.state = STORE_MSG_QUEUED;
    m.created_ms = created_ms;
    assert_int_equal(store_message_insert(st, &m), STORE_OK);
    uint64_t id = m.id;
    m.content = NULL;
    m.skill = NULL;
    m.error = NULL;
    m.client_id = NULL;
    return id;
}

static store_msg_state state_of(store *st, const char *sid, uint64_t id)
{
    store_message *list = NULL;
    size_t n = 0;
    int trunc = 0;
    assert_int_equal(store_messages_load(st, sid, 100, &list, &n, &trunc), STORE_OK);
    store_msg_state s = 0;
    for (size_t i = 0; i < n; i++)
        if (list[i].id == id) s = list[i].state;
    store_messages_free(list, n);
    return s;
}

/* One owner at a time; the owner renews; a claim runs a turn once. */
static void test_one_owner_and_one_claim(void **state)
{
    fx *f = *state;
    NEED_PG(f);
    mk_session(f->st, "lease-1");
    assert_int_equal(lease_acquire(f->a, "lease-1"), LEASE_OK);
    assert_int_equal(lease_acquire(f->b, "lease-1"), LEASE_HELD);
    assert_int_equal(lease_acquire(f->a, "lease-1"), LEASE_OK); /* renewal */
    uint64_t t = mk_turn(f->st, "lease-1", 1000);
    assert_int_equal(lease_claim(f->a, t), LEASE_OK);
    assert_int_equal(lease_claim(f->b, t), LEASE_GONE);
    assert_int_equal(state_of(f->st, "lease-1", t), STORE_MSG_RUNNING);
    /* B's release does not free A's lease. */
    assert_int_equal(lease_release(f->b, "lease-1"), LEASE_OK);
    assert_int_equal(lease_acquire(f->b, "lease-1"), LEASE_HELD);
    assert_int_equal(lease_release(f->a, "lease-1"), LEASE_OK);
    assert_int_equal(lease_acquire(f->b, "lease-1"), LEASE_OK);
    assert_int_equal(lease_release(f->b, "lease-1"), LEASE_OK);
    assert_int_equal(lease_acquire(f->a, "no-such-session"), LEASE_EIO);
    assert_int_equal(lease_acquire(f->a, ""), LEASE_EINVAL);
}

/* Event numbers: each reservation is a block no other core has. */
static void test_sequence_blocks_never_overlap(void **state)
{
    fx *f = *state;
    NEED_PG(f);
    mk_session(f->st, "lease-2");
    uint64_t a1 = 0, b1 = 0, a2 = 0;
    assert_int_equal(lease_reserve_seq(f->a, "lease-2", 0, 100, &a1), LEASE_OK);
    assert_int_equal(lease_reserve_seq(f->b, "lease-2", 0, 100, &b1), LEASE_OK);
    assert_int_equal(lease_reserve_seq(f->a, "lease-2", a1, 100, &a2), LEASE_OK);
    assert_int_equal(a1, 100);
    assert_int_equal(b1, 200);
    assert_int_equal(a2, 300);
    /* A floor above the stored value wins. */
    assert_int_equal(lease_reserve_seq(f->b, "lease-2", 1000, 100, &b1), LEASE_OK);
    assert_int_equal(b1, 1100);
    assert_int_equal(lease_reserve_seq(f->a, "gone", 0, 100, &a1), LEASE_GONE);
}

/* A core that stops renewing: after the lifetime, a live core's sweep
 * marks its running turn interrupted and offers its queued one. */
static void test_a_dead_core_is_taken_over_after_expiry(void **state)
{
    fx *f = *state;
    NEED_PG(f);
    mk_session(f->st, "lease-3");
    assert_int_equal(lease_acquire(f->a, "lease-3"), LEASE_OK);
    uint64_t running = mk_turn(f->st, "lease-3", 1000);
    uint64_t queued = mk_turn(f->st, "lease-3", 1000);
    assert_int_equal(lease_claim(f->a, running), LEASE_OK);
    /* Core A "dies": no renewal from now on. B's thread sweeps. */
    seen s = {0};
    lease_hooks h = {.lost = on_lost, .interrupted = on_interrupted, .orphan = on_orphan, .ud = &s};
    assert_int_equal(lease_start(f->b, &h), LEASE_OK);
    usleep(200 * 1000);
    assert_int_equal(state_of(f->st, "lease-3", running), STORE_MSG_RUNNING); /* not yet */
    for (int i = 0; i < 60 && s.orphan_id != queued; i++)
        usleep(100 * 1000);
    assert_string_equal(s.interrupted_sid, "lease-3");
    assert_int_equal(s.interrupted_id, running);
    assert_int_equal(state_of(f->st, "lease-3", running), STORE_MSG_INTERRUPTED);
    assert_string_equal(s.orphan_sid, "lease-3");
    assert_int_equal(s.orphan_id, queued);
    lease_stats ls;
    lease_get_stats(f->b, &ls);
    assert_true(ls.takeovers >= 1);
    /* The session is free: B takes it and claims the queued turn. */
    assert_int_equal(lease_acquire(f->b, "lease-3"), LEASE_OK);
    assert_int_equal(lease_claim(f->b, queued), LEASE_OK);
    lease_release(f->b, "lease-3");
}

/* The canvas registry lives with the leases: core A's canvas is found by
 * core B while A renews it, and is swept by B once A stops renewing; A's
 * row moves to B when the tab attaches there. */
static void test_canvas_rows_expire_with_their_core(void **state)
{
    fx *f = *state;
    NEED_PG(f);
    char err[256];
    creg *ra = NULL, *rb = NULL;
    assert_int_equal(creg_open(&ra, uri(), "host:/core-a", "unix:/a.sock", TTL_MS, err, sizeof err),
                     CREG_OK);
    assert_int_equal(creg_open(&rb, uri(), "host:/core-b", "unix:/b.sock", TTL_MS, err, sizeof err),
                     CREG_OK);
    assert_int_equal(lease_set_addr(f->a, "unix:/a.sock"), LEASE_OK);
    creg_attached(ra, "tab-1");
    creg_reported(ra, "tab-1", 7, 1);
    assert_true(creg_is_local(ra, "tab-1"));
    assert_false(creg_is_local(rb, "tab-1"));
    creg_where w;
    int rc = CREG_NONE;
    for (int i = 0; i < 50 && rc != CREG_OK; i++) {
        usleep(20 * 1000);
        rc = creg_find(rb, "tab-1", &w);
        if (rc == CREG_OK && w.revision != 7) rc = CREG_NONE; /* the report not written yet */
    }
    assert_int_equal(rc, CREG_OK);
    assert_string_equal(w.owner, "host:/core-a");
    assert_string_equal(w.addr, "unix:/a.sock");
    /* The focused canvas of the other cores, for a request without an id. */
    assert_int_equal(creg_find(rb, "", &w), CREG_OK);
    assert_string_equal(w.owner, "host:/core-a");
    /* A's own canvas is not another core's. */
    assert_int_equal(creg_find(ra, "tab-1", &w), CREG_NONE);
    /* Core A "dies" (no renewal); B's sweep drops the row after the expiry. */
    seen s = {0};
    lease_hooks h = {.ud = &s};
    assert_int_equal(lease_start(f->b, &h), LEASE_OK);
    rc = CREG_OK;
    for (int i = 0; i < 60 && rc == CREG_OK; i++) {
        usleep(100 * 1000);
        rc = creg_find(rb, "tab-1", &w);
    }
    assert_int_equal(rc, CREG_NONE);
    lease_stats ls = {0};
    for (int i = 0; i < 30 && ls.canvases_expired == 0; i++) {
        lease_get_stats(f->b, &ls);
        if (!ls.canvases_expired) usleep(100 * 1000);
    }
    assert_true(ls.canvases_expired >= 1);
    /* The tab re-attaches through B: B holds it, A finds it at B. */
    creg_attached(rb, "tab-1");
    rc = CREG_NONE;
    for (int i = 0; i < 50 && rc != CREG_OK; i++) {
        usleep(20 * 1000);
        rc = creg_find(ra, "tab-1", &w);
    }
    assert_int_equal(rc, CREG_OK);
    assert_string_equal(w.addr, "unix:/b.sock");
    /* Its last attachment ends: the row goes. */
    creg_detached(rb, "tab-1");
    for (int i = 0; i < 50 && rc == CREG_OK; i++) {
        usleep(20 * 1000);
        rc = creg_find(ra, "tab-1", &w);
    }
    assert_int_equal(rc, CREG_NONE);
    creg_close(ra);
    creg_close(rb);
}

/* A restarted core (same name) takes its own leases back at once. */
static void test_a_restarted_core_recovers_its_own_leases(void **state)
{
    fx *f = *state;
    NEED_PG(f);
    mk_session(f->st, "lease-4");
    assert_int_equal(lease_acquire(f->a, "lease-4"), LEASE_OK);
    uint64_t t = mk_turn(f->st, "lease-4", 1000);
    assert_int_equal(lease_claim(f->a, t), LEASE_OK);
    lease_close(f->a);
    char err[256];
    assert_int_equal(lease_open(&f->a, uri(), "host:/core-a", TTL_MS, err, sizeof err), LEASE_OK);
    assert_int_equal(state_of(f->st, "lease-4", t), STORE_MSG_INTERRUPTED);
    assert_int_equal(lease_acquire(f->b, "lease-4"), LEASE_OK);
    lease_release(f->b, "lease-4");
}

static void test_bad_arguments(void **state)
{
    fx *f = *state;
    NEED_PG(f);
    lease *l = NULL;
    char err[256];
    assert_int_equal(lease_open(&l, uri(), "x", 10, err, sizeof err), LEASE_EINVAL);
    assert_int_equal(lease_open(&l, uri(), "", TTL_MS, err, sizeof err), LEASE_EINVAL);
    assert_null(l);
    assert_int_equal(lease_claim(f->a, 0), LEASE_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_owner_and_one_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence_blocks_never_overlap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_dead_core_is_taken_over_after_expiry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_restarted_core_recovers_its_own_leases, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_canvas_rows_expire_with_their_core, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

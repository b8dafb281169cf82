/* Unit tests for core/evring: bounds, eviction, gaps, replay order, abort. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "evring.h"

#include <stdio.h>
#include <string.h>

/* Records what a replay visited. */
typedef struct seen {
    uint64_t seqs[64];
    char data[64][32];
    size_t n;
    size_t stop_after; /* 0: never stop */
} seen;

static int visit(void *ud, uint64_t seq, const void *data, size_t len)
{
    seen *s = ud;
    assert_true(s->n < 64);
    assert_true(len < sizeof s->data[0]);
    s->seqs[s->n] = seq;
    memcpy(s->data[s->n], data, len);
    s->data[s->n][len] = 0;
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static void push_str(evring *r, uint64_t seq, const char *s)
{
    assert_int_equal(evring_push(r, seq, s, strlen(s)), EVRING_OK);
}

/* Pushes events seq first..last with payload "e<seq>". */
static void push_range(evring *r, uint64_t first, uint64_t last)
{
    char buf[32];
    for (uint64_t s = first; s <= last; s++) {
        snprintf(buf, sizeof buf, "e%llu", (unsigned long long)s);
        push_str(r, s, buf);
    }
}

static void create_rejects_zero_limits(void **state)
{
    (void)state;
    evring *r = (evring *)1;
    assert_int_equal(evring_create(&r, 0, 100), EVRING_EINVAL);
    assert_null(r);
    assert_int_equal(evring_create(&r, 10, 0), EVRING_EINVAL);
    assert_null(r);
    evring_destroy(NULL);
}

static void empty_ring_replays_nothing_from_zero(void **state)
{
    (void)state;
    evring *r;
    assert_int_equal(evring_create(&r, 4, 100), EVRING_OK);
    seen s = {0};
    assert_int_equal(evring_last_seq(r), 0);
    assert_int_equal(evring_replay(r, 0, visit, &s), EVRING_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(evring_replay(r, 1, visit, &s), EVRING_GAP);
    evring_destroy(r);
}

static void replay_visits_events_after_seq_oldest_first(void **state)
{
    (void)state;
    evring *r;
    assert_int_equal(evring_create(&r, 16, 1024), EVRING_OK);
    push_range(r, 1, 5);
    seen s = {0};
    assert_int_equal(evring_replay(r, 2, visit, &s), EVRING_OK);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.seqs[0], 3);
    assert_int_equal(s.seqs[1], 4);
    assert_int_equal(s.seqs[2], 5);
    assert_string_equal(s.data[0], "e3");
    assert_string_equal(s.data[2], "e5");

    memset(&s, 0, sizeof s);
    assert_int_equal(evring_replay(r, 0, visit, &s), EVRING_OK);
    assert_int_equal(s.n, 5);
    assert_int_equal(s.seqs[0], 1);
    evring_destroy(r);
}

static void replay_from_last_seq_is_ok_and_empty(void **state)
{
    (void)state;
    evring *r;
    assert_int_equal(evring_create(&r, 16, 1024), EVRING_OK);
    push_range(r, 1, 3);
    seen s = {0};
    assert_int_equal(evring_replay(r, 3, visit, &s), EVRING_OK);
    assert_int_equal(s.n, 0);
    assert_true(evring_covers(r, 3));
    evring_destroy(r);
}

static void replay_after_last_seq_is_a_gap(void **state)
{
    (void)state;
    evring *r;
    assert_int_equal(evring_create(&r, 16, 1024), EVRING_OK);
    push_range(r, 1, 3);
    seen s = {0};
    assert_int_equal(evring_replay(r, 4, visit, &s), EVRING_GAP);
    assert_int_equal(evring_replay(r, UINT64_MAX, visit, &s), EVRING_GAP);
    assert_int_equal(s.n, 0);
    assert_false(evring_covers(r, 4));
    evring_destroy(r);
}

static void count_bound_evicts_oldest_and_makes_a_gap(void **state)
{
    (void)state;
    evring *r;
    assert_int_equal(evring_create(&r, 3, 1024), EVRING_OK);
    push_range(r, 1, 5);
    assert_int_equal(evring_count(r), 3);
    assert_int_equal(evring_last_seq(r), 5);
    assert_int_equal(evring_bytes(r), 6); /* "e3" "e4" "e5" */
    seen s = {0};
    /* 1 and 2 are gone: a subscriber at 0 or 1 missed something. */
    assert_int_equal(evring_replay(r, 0, visit, &s), EVRING_GAP);
    assert_int_equal(evring_replay(r, 1, visit, &s), EVRING_GAP);
    assert_int_equal(s.n, 0);
    assert_false(evring_covers(r, 1));
    /* A subscriber at 2 saw the last evicted event: nothing is missing. */
    assert_true(evring_covers(r, 2));
    assert_int_equal(evring_replay(r, 2, visit, &s), EVRING_OK);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.seqs[0], 3);
    assert_int_equal(s.seqs[2], 5);
    evring_destroy(r);
}

static void byte_bound_evicts_until_the_new_event_fits(void **state)
{
    (void)state;
    evring *r;
    assert_int_equal(evring_create(&r, 100, 10), EVRING_OK);
    push_str(r, 1, "aaaa");
    push_str(r, 2, "bbbb");
    assert_int_equal(evring_bytes(r), 8);
    push_str(r, 3, "cccc"); /* 12 > 10: 1 goes */
    assert_int_equal(evring_count(r), 2);
    assert_int_equal(evring_bytes(r), 8);
    seen s = {0};
    assert_int_equal(evring_replay(r, 0, visit, &s), EVRING_GAP);
    assert_int_equal(evring_replay(r, 1, visit, &s), EVRING_OK);
    assert_string_equal(s.data[0], "bbbb");
    assert_string_equal(s.data[1], "cccc");
    /* An event of exactly max_bytes evicts everything else. */
    push_str(r, 4, "0123456789");
    assert_int_equal(evring_count(r), 1);
    assert_int_equal(evring_bytes(r), 10);
    assert_false(evring_covers(r, 2));
    assert_true(evring_covers(r, 3));
    evring_destroy(r);
}

static void push_rejects_oversized_event_and_leaves_ring_unchanged(void **state)
{
    (void)state;
    evring *r;
    assert_int_equal(evring_create(&r, 4, 8), EVRING_OK);
    push_str(r, 1, "abc");
    assert_int_equal(evring_push(r, 2, "123456789", 9), EVRING_EINVAL);
    assert_int_equal(evring_count(r), 1);
    assert_int_equal(evring_bytes(r), 3);
    assert_int_equal(evring_last_seq(r), 1);
    /* The number was not used up. */
    push_str(r, 2, "ok");
    evring_destroy(r);
}

static void push_rejects_non_increasing_seq(void **state)
{
    (void)state;
    evring *r;
    assert_int_equal(evring_create(&r, 4, 64), EVRING_OK);
    assert_int_equal(evring_push(r, 0, "x", 1), EVRING_EINVAL); /* numbers start at 1 */
    push_str(r, 5, "five");
    assert_int_equal(evring_push(r, 5, "again", 5), EVRING_EINVAL);
    assert_int_equal(evring_push(r, 4, "back", 4), EVRING_EINVAL);
    assert_int_equal(evring_push(r, 6, NULL, 3), EVRING_EINVAL);
    assert_int_equal(evring_count(r), 1);
    assert_int_equal(evring_last_seq(r), 5);
    evring_destroy(r);
}

static void skipped_numbers_replay_from_between(void **state)
{
    (void)state;
    evring *r;
    assert_int_equal(evring_create(&r, 8, 64), EVRING_OK);
    push_str(r, 10, "ten");
    push_str(r, 20, "twenty");
    push_str(r, 30, "thirty");
    seen s = {0};
    assert_int_equal(evring_replay(r, 15, visit, &s), EVRING_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.seqs[0], 20);
    assert_int_equal(s.seqs[1], 30);
    evring_destroy(r);
}

/* With several cores a session's numbers on one core skip the other
 * cores' blocks: only a number this ring holds is a replay point. */
static void has_tells_held_numbers_from_skipped_ones(void **state)
{
    (void)state;
    evring *r;
    assert_int_equal(evring_create(&r, 8, 64), EVRING_OK);
    assert_false(evring_has(r, 10));
    push_str(r, 10, "ten");
    push_str(r, 20, "twenty");
    push_str(r, 30, "thirty");
    assert_true(evring_has(r, 10));
    assert_true(evring_has(r, 20));
    assert_true(evring_has(r, 30));
    assert_false(evring_has(r, 15));
    assert_false(evring_has(r, 31));
    assert_false(evring_has(r, 0));
    evring_destroy(r);
}

static void replay_stops_when_visitor_returns_non_zero(void **state)
{
    (void)state;
    evring *r;
    assert_int_equal(evring_create(&r, 8, 64), EVRING_OK);
    push_range(r, 1, 5);
    seen s = {.stop_after = 2};
    assert_int_equal(evring_replay(r, 0, visit, &s), EVRING_ABORTED);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.seqs[1], 2);
    /* The ring is untouched by an aborted replay. */
    assert_int_equal(evring_count(r), 5);
    evring_destroy(r);
}

static void push_copies_the_payload(void **state)
{
    (void)state;
    evring *r;
    assert_int_equal(evring_create(&r, 8, 64), EVRING_OK);
    char buf[8] = "orig";
    assert_int_equal(evring_push(r, 1, buf, 4), EVRING_OK);
    strcpy(buf, "XXXX");
    seen s = {0};
    assert_int_equal(evring_replay(r, 0, visit, &s), EVRING_OK);
    assert_string_equal(s.data[0], "orig");
    evring_destroy(r);
}

static void empty_events_are_kept(void **state)
{
    (void)state;
    evring *r;
    assert_int_equal(evring_create(&r, 8, 64), EVRING_OK);
    assert_int_equal(evring_push(r, 1, NULL, 0), EVRING_OK);
    assert_int_equal(evring_push(r, 2, "", 0), EVRING_OK);
    assert_int_equal(evring_bytes(r), 0);
    seen s = {0};
    assert_int_equal(evring_replay(r, 0, visit, &s), EVRING_OK);
    assert_int_equal(s.n, 2);
    evring_destroy(r);
}

static void base_marks_history_before_the_ring(void **state)
{
    (void)state;
    evring *r;
    assert_int_equal(evring_create(&r, 8, 64), EVRING_OK);
    evring_set_base(r, 100);
    assert_int_equal(evring_last_seq(r), 100);
    seen s = {0};
    assert_int_equal(evring_replay(r, 99, visit, &s), EVRING_GAP);
    assert_int_equal(evring_replay(r, 100, visit, &s), EVRING_OK);
    assert_int_equal(evring_replay(r, 101, visit, &s), EVRING_GAP);
    assert_int_equal(evring_push(r, 100, "x", 1), EVRING_EINVAL);
    push_str(r, 101, "a");
    push_str(r, 102, "b");
    assert_int_equal(evring_replay(r, 100, visit, &s), EVRING_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.seqs[0], 101);
    /* A lower base cannot bring history back. */
    evring_set_base(r, 5);
    assert_false(evring_covers(r, 99));
    assert_true(evring_covers(r, 100));
    evring_destroy(r);
}

static void base_above_held_events_drops_them(void **state)
{
    (void)state;
    evring *r;
    assert_int_equal(evring_create(&r, 8, 64), EVRING_OK);
    push_range(r, 1, 4);
    evring_set_base(r, 2);
    assert_int_equal(evring_count(r), 2);
    assert_int_equal(evring_bytes(r), 4);
    assert_false(evring_covers(r, 1));
    assert_true(evring_covers(r, 2));
    evring_set_base(r, 10);
    assert_int_equal(evring_count(r), 0);
    assert_int_equal(evring_bytes(r), 0);
    assert_int_equal(evring_last_seq(r), 10);
    evring_destroy(r);
}

static void long_run_wraps_and_keeps_the_newest(void **state)
{
    (void)state;
    evring *r;
    assert_int_equal(evring_create(&r, 7, 1 << 20), EVRING_OK);
    push_range(r, 1, 1000);
    assert_int_equal(evring_count(r), 7);
    seen s = {0};
    assert_int_equal(evring_replay(r, 993, visit, &s), EVRING_OK);
    assert_int_equal(s.n, 7);
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(s.seqs[i], 994 + i);
    assert_string_equal(s.data[6], "e1000");
    memset(&s, 0, sizeof s);
    assert_int_equal(evring_replay(r, 997, visit, &s), EVRING_OK);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.seqs[0], 998);
    assert_int_equal(evring_replay(r, 992, visit, &s), EVRING_GAP);
    evring_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_rejects_zero_limits),
        cmocka_unit_test(empty_ring_replays_nothing_from_zero),
        cmocka_unit_test(replay_visits_events_after_seq_oldest_first),
        cmocka_unit_test(replay_from_last_seq_is_ok_and_empty),
        cmocka_unit_test(replay_after_last_seq_is_a_gap),
        cmocka_unit_test(count_bound_evicts_oldest_and_makes_a_gap),
        cmocka_unit_test(byte_bound_evicts_until_the_new_event_fits),
        cmocka_unit_test(push_rejects_oversized_event_and_leaves_ring_unchanged),
        cmocka_unit_test(push_rejects_non_increasing_seq),
        cmocka_unit_test(skipped_numbers_replay_from_between),
        cmocka_unit_test(has_tells_held_numbers_from_skipped_ones),
        cmocka_unit_test(replay_stops_when_visitor_returns_non_zero),
        cmocka_unit_test(push_copies_the_payload),
        cmocka_unit_test(empty_events_are_kept),
        cmocka_unit_test(base_marks_history_before_the_ring),
        cmocka_unit_test(base_above_held_events_drops_them),
        cmocka_unit_test(long_run_wraps_and_keeps_the_newest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

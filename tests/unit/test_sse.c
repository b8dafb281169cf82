/* Unit tests for the server-sent events parser: every rule of the format,
 * each stream also fed split at every byte boundary and byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS 64

/* Dispatched events, rendered as "type|id|data" for easy comparison. */
typedef struct rec {
    char ev[MAX_EVENTS][512];
    size_t n;
    size_t stop_after; /* stop at the n-th event (1-based); 0: never */
} rec;

static int on_event(void *ud, const sse_event *e)
{
    rec *r = ud;
    assert_true(r->n < MAX_EVENTS);
    snprintf(r->ev[r->n], sizeof r->ev[0], "%.*s|%.*s|%.*s", (int)e->type_len, e->type,
             (int)e->id_len, e->id, (int)e->data_len, e->data);
    r->n++;
    return r->stop_after && r->n >= r->stop_after;
}

static sse_parser *make(rec *r, size_t max_line, size_t max_data)
{
    sse_parser *p;
    sse_opts o = {.max_line = max_line, .max_data = max_data, .on_event = on_event, .ud = r};
    assert_int_equal(sse_create(&p, &o), SSE_OK);
    return p;
}

/* Feeds s whole and returns the finish code. */
static int feed_all(rec *r, const char *s, size_t len)
{
    sse_parser *p = make(r, 0, 0);
    int rc = sse_feed(p, s, len);
    assert_int_equal(rc, SSE_OK);
    rc = sse_finish(p);
    sse_destroy(p);
    return rc;
}

/* Checks that feeding s in two parts, at every split point, and one byte at
 * a time gives the same events and finish code as feeding it whole. */
static void check_splits(const char *s, size_t len)
{
    rec *whole = calloc(1, sizeof *whole);
    int fin = feed_all(whole, s, len);
    for (size_t cut = 0; cut <= len; cut++) {
        rec *r = calloc(1, sizeof *r);
        sse_parser *p = make(r, 0, 0);
        assert_int_equal(sse_feed(p, s, cut), SSE_OK);
        assert_int_equal(sse_feed(p, s + cut, len - cut), SSE_OK);
        assert_int_equal(sse_finish(p), fin);
        assert_int_equal(r->n, whole->n);
        for (size_t i = 0; i < r->n; i++)
            assert_string_equal(r->ev[i], whole->ev[i]);
        sse_destroy(p);
        free(r);
    }
    rec *r = calloc(1, sizeof *r);
    sse_parser *p = make(r, 0, 0);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(sse_feed(p, s + i, 1), SSE_OK);
    assert_int_equal(sse_finish(p), fin);
    assert_int_equal(r->n, whole->n);
    for (size_t i = 0; i < r->n; i++)
        assert_string_equal(r->ev[i], whole->ev[i]);
    sse_destroy(p);
    free(r);
    free(whole);
}

/* Parses s (also split everywhere) and compares with the expected events. */
static void expect(const char *s, const char *const *want, size_t n_want, int fin)
{
    size_t len = strlen(s);
    rec *r = calloc(1, sizeof *r);
    assert_int_equal(feed_all(r, s, len), fin);
    assert_int_equal(r->n, n_want);
    for (size_t i = 0; i < n_want; i++)
        assert_string_equal(r->ev[i], want[i]);
    free(r);
    check_splits(s, len);
}

static void data_line_and_blank_line_make_an_event(void **state)
{
    (void)state;
    const char *w[] = {"message||hello"};
    expect("data: hello\n\n", w, 1, SSE_OK);
}

static void one_leading_space_is_removed_and_no_more(void **state)
{
    (void)state;
    const char *w[] = {"message||hello", "message|| two", "message||x "};
    expect("data:hello\n\ndata:  two\n\ndata: x \n\n", w, 3, SSE_OK);
}

static void multiple_data_lines_join_with_lf(void **state)
{
    (void)state;
    const char *w[] = {"message||{\"a\":\n1}", "message||\nx"};
    expect("data: {\"a\":\ndata: 1}\n\ndata\ndata: x\n\n", w, 2, SSE_OK);
}

static void crlf_and_cr_end_lines_like_lf(void **state)
{
    (void)state;
    const char *w[] = {"message||a", "message||b", "message||c\nd", "message||x\ny"};
    expect("data: a\r\n\r\ndata: b\r\rdata: c\rdata: d\r\n\ndata: x\r\ndata: y\r\n\r\n", w, 4,
           SSE_OK);
}

static void comments_are_ignored(void **state)
{
    (void)state;
    const char *w[] = {"message||x"};
    expect(": keep-alive\n:\ndata: x\n: inside\n\n: after\n\n", w, 1, SSE_OK);
}

static void event_field_sets_type_and_resets_after_dispatch(void **state)
{
    (void)state;
    const char *w[] = {"error||boom", "message||ok"};
    expect("event: error\ndata: boom\n\ndata: ok\n\n", w, 2, SSE_OK);
}

static void event_without_data_is_dropped_with_its_type(void **state)
{
    (void)state;
    const char *w[] = {"message||x"};
    expect("event: ping\n\ndata: x\n\n", w, 1, SSE_OK);
}

static void empty_data_value_is_dispatched_as_empty(void **state)
{
    (void)state;
    const char *w[] = {"message||"};
    expect("data:\n\n", w, 1, SSE_OK);
}

static void id_persists_and_id_with_nul_is_ignored(void **state)
{
    (void)state;
    const char s[] = "id: 7\ndata: a\n\ndata: b\n\nid: 8\0x\ndata: c\n\nid\ndata: d\n\n";
    const char *w[] = {"message|7|a", "message|7|b", "message|7|c", "message||d"};
    rec *r = calloc(1, sizeof *r);
    assert_int_equal(feed_all(r, s, sizeof s - 1), SSE_OK);
    assert_int_equal(r->n, 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(r->ev[i], w[i]);
    free(r);
    check_splits(s, sizeof s - 1);
}

static void retry_takes_digits_only(void **state)
{
    (void)state;
    rec r = {0};
    sse_parser *p = make(&r, 0, 0);
    assert_int_equal(sse_retry_ms(p), -1);
    assert_int_equal(sse_feed(p, "retry: 1500\n", 12), SSE_OK);
    assert_int_equal(sse_retry_ms(p), 1500);
    assert_int_equal(sse_feed(p, "retry: 12a\nretry:\nretry: -5\n", 28), SSE_OK);
    assert_int_equal(sse_retry_ms(p), 1500);
    assert_int_equal(sse_finish(p), SSE_OK); /* retry alone builds no event */
    sse_destroy(p);
}

static void unknown_fields_and_garbage_lines_are_ignored(void **state)
{
    (void)state;
    const char *w[] = {"message||x"};
    expect("garbage without colon\nfoo: bar\nDATA: no\ndata : no\ndata: x\n\n", w, 1, SSE_OK);
}

static void field_name_without_colon_is_a_field_with_empty_value(void **state)
{
    (void)state;
    const char *w[] = {"message||"};
    expect("data\n\n", w, 1, SSE_OK);
}

static void colon_in_value_is_kept(void **state)
{
    (void)state;
    const char *w[] = {"message||a: b:c"};
    expect("data: a: b:c\n\n", w, 1, SSE_OK);
}

static void bom_at_start_is_skipped_once(void **state)
{
    (void)state;
    const char *w[] = {"message||x", "message||\xEF\xBB\xBF"};
    expect("\xEF\xBB\xBF"
           "data: x\n\n"
           "data: \xEF\xBB\xBF\n\n",
           w, 2, SSE_OK);
    /* A BOM later in the stream is no field name: the line is ignored. */
    const char *w2[] = {"message||y"};
    expect("data: y\n\n\xEF\xBB\xBF"
           "data: z\n\n",
           w2, 1, SSE_OK);
}

static void unfinished_event_is_discarded_at_end(void **state)
{
    (void)state;
    const char *w[] = {"message||a"};
    expect("data: a\n\ndata: b\n", w, 1, SSE_EPARTIAL);
    expect("data: a\n\ndata: b", w, 1, SSE_EPARTIAL);
    expect("data: a\n\n: comment only", w, 1, SSE_EPARTIAL);
}

static void openai_stream_parses_into_chunks(void **state)
{
    (void)state;
    const char *s = "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n"
                    ": OPENROUTER PROCESSING\n\n"
                    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3}}\r\n\r\n"
                    "data: [DONE]\n\n";
    const char *w[] = {"message||{\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}",
                       "message||{\"choices\":[],\"usage\":{\"prompt_tokens\":3}}",
                       "message||[DONE]"};
    expect(s, w, 3, SSE_OK);
}

static void bytes_pass_through_unchanged(void **state)
{
    (void)state;
    const char s[] = "data: \xff\xfe\x01\x7f\n\n";
    const char *w[] = {"message||\xff\xfe\x01\x7f"};
    expect(s, w, 1, SSE_OK);
}

static void long_line_fails_and_stays_failed(void **state)
{
    (void)state;
    rec r = {0};
    sse_parser *p = make(&r, 16, 0);
    assert_int_equal(sse_feed(p, "data: 0123456789", 16), SSE_OK);
    assert_int_equal(sse_feed(p, "X", 1), SSE_ETOOBIG);
    assert_int_equal(sse_feed(p, "\n\n", 2), SSE_ETOOBIG);
    assert_int_equal(sse_finish(p), SSE_ETOOBIG);
    assert_int_equal(r.n, 0);
    sse_destroy(p);
    /* The same line inside one chunk. */
    rec r2 = {0};
    p = make(&r2, 16, 0);
    assert_int_equal(sse_feed(p, "data: 0123456789X\n\n", 19), SSE_ETOOBIG);
    sse_destroy(p);
    /* Exactly at the bound is fine. */
    rec r3 = {0};
    p = make(&r3, 16, 0);
    assert_int_equal(sse_feed(p, "data: 0123456789\n\n", 18), SSE_OK);
    assert_int_equal(r3.n, 1);
    sse_destroy(p);
}

static void big_event_data_fails(void **state)
{
    (void)state;
    rec r = {0};
    sse_parser *p = make(&r, 0, 10);
    /* "12345\n" + "1234\n" = 11 bytes of data buffer. */
    assert_int_equal(sse_feed(p, "data: 12345\ndata: 1234\n", 23), SSE_ETOOBIG);
    sse_destroy(p);
    rec r2 = {0};
    p = make(&r2, 0, 10);
    assert_int_equal(sse_feed(p, "data: 12345\ndata: 123\n\n", 23), SSE_OK);
    assert_int_equal(r2.n, 1);
    assert_string_equal(r2.ev[0], "message||12345\n123");
    sse_destroy(p);
}

static void callback_can_stop_the_parser(void **state)
{
    (void)state;
    rec r = {.stop_after = 1};
    sse_parser *p = make(&r, 0, 0);
    assert_int_equal(sse_feed(p, "data: a\n\ndata: b\n\n", 18), SSE_ESTOPPED);
    assert_int_equal(r.n, 1);
    assert_int_equal(sse_feed(p, "data: c\n\n", 9), SSE_ESTOPPED);
    assert_int_equal(r.n, 1);
    sse_destroy(p);
}

static void long_event_type_is_cut_not_fatal(void **state)
{
    (void)state;
    char s[SSE_MAX_TYPE + 64];
    memset(s, 0, sizeof s);
    strcpy(s, "event: ");
    memset(s + 7, 'e', SSE_MAX_TYPE + 10);
    strcat(s, "\ndata: x\n\n");
    rec r = {0};
    assert_int_equal(feed_all(&r, s, strlen(s)), SSE_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(strlen(r.ev[0]), SSE_MAX_TYPE + 3); /* type + "||x" */
}

static void strerror_names_every_code(void **state)
{
    (void)state;
    int codes[] = {SSE_OK, SSE_ENOMEM, SSE_ETOOBIG, SSE_ESTOPPED, SSE_EPARTIAL};
    for (size_t i = 0; i < 5; i++)
        assert_string_not_equal(cfd_strerror(codes[i]), "unknown error");
    assert_string_equal(cfd_strerror(-99), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(data_line_and_blank_line_make_an_event),
        cmocka_unit_test(one_leading_space_is_removed_and_no_more),
        cmocka_unit_test(multiple_data_lines_join_with_lf),
        cmocka_unit_test(crlf_and_cr_end_lines_like_lf),
        cmocka_unit_test(comments_are_ignored),
        cmocka_unit_test(event_field_sets_type_and_resets_after_dispatch),
        cmocka_unit_test(event_without_data_is_dropped_with_its_type),
        cmocka_unit_test(empty_data_value_is_dispatched_as_empty),
        cmocka_unit_test(id_persists_and_id_with_nul_is_ignored),
        cmocka_unit_test(retry_takes_digits_only),
        cmocka_unit_test(unknown_fields_and_garbage_lines_are_ignored),
        cmocka_unit_test(field_name_without_colon_is_a_field_with_empty_value),
        cmocka_unit_test(colon_in_value_is_kept),
        cmocka_unit_test(bom_at_start_is_skipped_once),
        cmocka_unit_test(unfinished_event_is_discarded_at_end),
        cmocka_unit_test(openai_stream_parses_into_chunks),
        cmocka_unit_test(bytes_pass_through_unchanged),
        cmocka_unit_test(long_line_fails_and_stays_failed),
        cmocka_unit_test(big_event_data_fails),
        cmocka_unit_test(callback_can_stop_the_parser),
        cmocka_unit_test(long_event_type_is_cut_not_fatal),
        cmocka_unit_test(strerror_names_every_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

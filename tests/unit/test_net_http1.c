/* net_http1: parsing, limits, smuggling vectors and response bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "net_http1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int begins;
    int heads;
    int reject_with;
} probe;

static void on_begin(void *ud)
{
    ((probe *)ud)->begins++;
}

static int on_head(net_msg *m, void *ud)
{
    (void)m;
    probe *p = ud;
    p->heads++;
    return p->reject_with;
}

static const net_http1_callbacks cbs = {on_begin, on_head};

typedef struct {
    net_http1 *p;
    probe pr;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_int_equal(net_http1_create(&f->p, NULL, &cbs, &f->pr), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    net_http1_destroy(f->p);
    free(f);
    return 0;
}

/* Feeds all of s in one call; returns the result and the request. */
static int feed(net_http1 *p, const char *s, size_t *used, net_msg **m)
{
    return net_http1_feed(p, (const uint8_t *)s, strlen(s), used, m);
}

static int feed_status(void **state, const char *s)
{
    fixture *f = *state;
    size_t used;
    net_msg *m = NULL;
    int r = feed(f->p, s, &used, &m);
    net_msg_destroy(m);
    if (r == NET_HTTP1_REQUEST) return 0;
    assert_true(r == NET_HTTP1_E_PARSE || r == NET_HTTP1_E_REJECTED);
    return net_http1_error_status(f->p);
}

static void get_request_is_parsed_with_headers_and_query(void **state)
{
    fixture *f = *state;
    const char *req = "GET /a/b?x=1&token=abc HTTP/1.1\r\nHost: 127.0.0.1:8189\r\n"
                      "X-Thing:  spaced value \t\r\nAccept: */*\r\n\r\n";
    size_t used;
    net_msg *m;
    assert_int_equal(feed(f->p, req, &used, &m), NET_HTTP1_REQUEST);
    assert_int_equal(used, strlen(req));
    assert_string_equal(net_msg_method(m), "GET");
    assert_string_equal(net_msg_path(m).p, "/a/b");
    assert_string_equal(net_msg_query(m).p, "x=1&token=abc");
    assert_string_equal(net_msg_authority(m).p, "127.0.0.1:8189");
    assert_string_equal(net_msg_header(m, "x-thing").p, "spaced value");
    assert_string_equal(net_msg_header(m, "ACCEPT").p, "*/*");
    assert_null(net_msg_header(m, "missing").p);
    assert_int_equal(net_msg_header_count(m), 3);
    net_str tok;
    assert_int_equal(net_msg_query_param(m, "token", &tok), 1);
    assert_int_equal(tok.len, 3);
    assert_memory_equal(tok.p, "abc", 3);
    assert_true(net_msg_flags(m) & NET_MSG_KEEP_ALIVE);
    assert_false(net_msg_flags(m) & NET_MSG_UPGRADE);
    assert_int_equal(f->pr.begins, 1);
    assert_int_equal(f->pr.heads, 1);
    assert_false(net_http1_in_request(f->p));
    net_msg_destroy(m);
}

static void request_fed_byte_by_byte_parses_the_same(void **state)
{
    fixture *f = *state;
    const char *req = "POST /echo HTTP/1.1\r\nHost: localhost:8189\r\nX-Long: a b c d e f\r\n"
                      "Content-Length: 5\r\n\r\nhello";
    size_t n = strlen(req), used;
    net_msg *m = NULL;
    int r = NET_HTTP1_NEED_MORE;
    for (size_t i = 0; i < n; i++) {
        r = net_http1_feed(f->p, (const uint8_t *)req + i, 1, &used, &m);
        assert_int_equal(used, 1);
        if (i + 1 < n) assert_int_equal(r, NET_HTTP1_NEED_MORE);
    }
    assert_int_equal(r, NET_HTTP1_REQUEST);
    assert_string_equal(net_msg_header(m, "x-long").p, "a b c d e f");
    size_t blen;
    const uint8_t *b = net_msg_body(m, &blen);
    assert_int_equal(blen, 5);
    assert_memory_equal(b, "hello", 5);
    net_msg_destroy(m);
}

static void pipelined_requests_come_out_one_at_a_time(void **state)
{
    fixture *f = *state;
    const char *req = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                      "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab"
                      "GET /3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    size_t off = 0, used, n = strlen(req);
    const char *paths[] = {"/1", "/2", "/3"};
    for (int i = 0; i < 3; i++) {
        net_msg *m;
        assert_int_equal(net_http1_feed(f->p, (const uint8_t *)req + off, n - off, &used, &m),
                         NET_HTTP1_REQUEST);
        off += used;
        assert_string_equal(net_msg_path(m).p, paths[i]);
        if (i == 2)
            assert_false(net_msg_flags(m) & NET_MSG_KEEP_ALIVE);
        else
            assert_true(net_msg_flags(m) & NET_MSG_KEEP_ALIVE);
        net_msg_destroy(m);
    }
    assert_int_equal(off, n);
}

static void chunked_body_is_decoded_and_trailers_dropped(void **state)
{
    fixture *f = *state;
    const char *req = "POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-Trailer: t\r\n\r\n";
    size_t used;
    net_msg *m;
    assert_int_equal(feed(f->p, req, &used, &m), NET_HTTP1_REQUEST);
    size_t blen;
    const uint8_t *b = net_msg_body(m, &blen);
    assert_int_equal(blen, 7);
    assert_memory_equal(b, "abcdefg", 7);
    assert_null(net_msg_header(m, "x-trailer").p);
    net_msg_destroy(m);
}

static void request_inside_a_body_stays_body(void **state)
{
    fixture *f = *state;
    const char *inner = "GET /admin HTTP/1.1\r\nHost: h\r\n\r\n";
    char req[256];
    snprintf(req, sizeof req, "POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(inner), inner);
    size_t used;
    net_msg *m;
    assert_int_equal(feed(f->p, req, &used, &m), NET_HTTP1_REQUEST);
    assert_int_equal(used, strlen(req));
    size_t blen;
    net_msg_body(m, &blen);
    assert_int_equal(blen, strlen(inner));
    assert_int_equal(f->pr.heads, 1);
    net_msg_destroy(m);
}

static void content_length_with_transfer_encoding_is_400(void **state)
{
    assert_int_equal(feed_status(state, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n"
                                        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                     400);
}

static void transfer_encoding_then_content_length_is_400(void **state)
{
    assert_int_equal(feed_status(state,
                                 "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                                 "Content-Length: 4\r\n\r\n0\r\n\r\n"),
                     400);
}

static void duplicate_content_length_is_400(void **state)
{
    assert_int_equal(feed_status(state, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                                        "Content-Length: 3\r\n\r\nabc"),
                     400);
}

static void content_length_list_or_sign_is_400(void **state)
{
    assert_int_equal(
        feed_status(state, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc"), 400);
}

static void content_length_with_plus_is_400(void **state)
{
    assert_int_equal(
        feed_status(state, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc"), 400);
}

static void transfer_encoding_not_ending_in_chunked_is_400(void **state)
{
    assert_int_equal(feed_status(state, "POST / HTTP/1.1\r\nHost: h\r\n"
                                        "Transfer-Encoding: chunked, identity\r\n\r\n"),
                     400);
}

static void space_before_colon_is_400(void **state)
{
    assert_int_equal(feed_status(state, "POST / HTTP/1.1\r\nHost: h\r\n"
                                        "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n"),
                     400);
}

static void obs_fold_is_400(void **state)
{
    assert_int_equal(feed_status(state, "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n"), 400);
}

static void obs_fold_split_across_feeds_is_400(void **state)
{
    fixture *f = *state;
    const char *parts[] = {"GET / HTTP/1.1\r\nHost: h\r\nX-A: a", "\r\n", "\tb\r\n\r\n"};
    size_t used;
    net_msg *m = NULL;
    int r = 0;
    for (int i = 0; i < 3 && r >= 0; i++)
        r = feed(f->p, parts[i], &used, &m);
    assert_int_equal(r, NET_HTTP1_E_PARSE);
    assert_int_equal(net_http1_error_status(f->p), 400);
    assert_string_equal(net_http1_error_text(f->p), "obsolete line folding");
}

static void bare_lf_is_400(void **state)
{
    assert_int_equal(feed_status(state, "GET / HTTP/1.1\nHost: h\n\n"), 400);
}

static void bad_chunk_size_is_400(void **state)
{
    assert_int_equal(feed_status(state, "POST / HTTP/1.1\r\nHost: h\r\n"
                                        "Transfer-Encoding: chunked\r\n\r\nzz\r\n"),
                     400);
}

static void missing_or_double_host_is_400(void **state)
{
    assert_int_equal(feed_status(state, "GET / HTTP/1.1\r\n\r\n"), 400);
    teardown(state);
    setup(state);
    assert_int_equal(feed_status(state, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
}

static void absolute_form_target_is_400(void **state)
{
    assert_int_equal(feed_status(state, "GET http://evil/x HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
}

static void http_versions_other_than_1x_are_505(void **state)
{
    assert_int_equal(feed_status(state, "GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
    teardown(state);
    setup(state);
    assert_int_equal(feed_status(state, "GET / HTTP/1.2\r\nHost: h\r\n\r\n"), 505);
}

static void http10_is_answered_then_closed(void **state)
{
    fixture *f = *state;
    size_t used;
    net_msg *m;
    assert_int_equal(feed(f->p, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &used, &m),
                     NET_HTTP1_REQUEST);
    assert_true(net_msg_flags(m) & NET_MSG_HTTP10);
    assert_false(net_msg_flags(m) & NET_MSG_KEEP_ALIVE);
    net_msg_destroy(m);
}

static void unknown_method_and_connect_are_501(void **state)
{
    assert_int_equal(feed_status(state, "BREW / HTTP/1.1\r\nHost: h\r\n\r\n"), 501);
    teardown(state);
    setup(state);
    assert_int_equal(feed_status(state, "CONNECT h:1 HTTP/1.1\r\nHost: h\r\n\r\n"), 501);
}

static void expect_100_continue_is_flagged_and_others_are_417(void **state)
{
    fixture *f = *state;
    size_t used;
    net_msg *m;
    assert_int_equal(feed(f->p,
                          "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
                          "Content-Length: 1\r\n\r\na",
                          &used, &m),
                     NET_HTTP1_REQUEST);
    assert_true(net_msg_flags(m) & NET_MSG_EXPECT_CONTINUE);
    net_msg_destroy(m);
    teardown(state);
    setup(state);
    assert_int_equal(feed_status(state, "POST / HTTP/1.1\r\nHost: h\r\nExpect: magic\r\n\r\n"),
                     417);
}

static void header_bytes_over_limit_are_431(void **state)
{
    char req[20000 + 128];
    int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
    memset(req + n, 'a', 17000);
    strcpy(req + n + 17000, "\r\n\r\n");
    assert_int_equal(feed_status(state, req), 431);
}

static void whitespace_padding_counts_against_the_header_limit(void **state)
{
    fixture *f = *state;
    /* Spaces before a value reach no callback; the raw byte count stops
     * them once the head spans several reads. */
    size_t used;
    net_msg *m = NULL;
    assert_int_equal(feed(f->p, "GET / HTTP/1.1\r\nHost: h\r\nX-Pad:", &used, &m),
                     NET_HTTP1_NEED_MORE);
    char spaces[1024];
    memset(spaces, ' ', sizeof spaces);
    int r = NET_HTTP1_NEED_MORE;
    for (int i = 0; i < 40 && r == NET_HTTP1_NEED_MORE; i++)
        r = net_http1_feed(f->p, (const uint8_t *)spaces, sizeof spaces, &used, &m);
    assert_int_equal(r, NET_HTTP1_E_PARSE);
    assert_int_equal(net_http1_error_status(f->p), 431);
}

static void too_many_headers_are_431(void **state)
{
    char req[8192];
    size_t n = (size_t)snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 0; i < NET_HTTP1_MAX_HEADERS + 1; i++)
        n += (size_t)snprintf(req + n, sizeof req - n, "X-%d: v\r\n", i);
    snprintf(req + n, sizeof req - n, "\r\n");
    assert_int_equal(feed_status(state, req), 431);
}

static void long_url_is_414(void **state)
{
    char req[NET_HTTP1_MAX_URL + 128];
    int n = snprintf(req, sizeof req, "GET /");
    memset(req + n, 'u', NET_HTTP1_MAX_URL);
    strcpy(req + n + NET_HTTP1_MAX_URL, " HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(feed_status(state, req), 414);
}

static void declared_body_over_limit_is_413_before_any_body(void **state)
{
    fixture *f = *state;
    char req[128];
    snprintf(req, sizeof req, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n",
             NET_HTTP1_MAX_BODY + 1);
    size_t used;
    net_msg *m = NULL;
    assert_int_equal(feed(f->p, req, &used, &m), NET_HTTP1_E_PARSE);
    assert_int_equal(net_http1_error_status(f->p), 413);
    assert_int_equal(f->pr.heads, 0);
}

static void chunked_body_over_limit_is_413(void **state)
{
    fixture *f = *state;
    net_http1_destroy(f->p);
    net_http1_limits lim;
    net_http1_limits_default(&lim);
    lim.max_body = 10;
    assert_int_equal(net_http1_create(&f->p, &lim, &cbs, &f->pr), 0);
    assert_int_equal(feed_status(state,
                                 "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                                 "\r\n6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n"),
                     413);
}

static void on_head_rejection_stops_the_request(void **state)
{
    fixture *f = *state;
    f->pr.reject_with = 401;
    size_t used;
    net_msg *m = NULL;
    assert_int_equal(
        feed(f->p, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc", &used, &m),
        NET_HTTP1_E_REJECTED);
    assert_null(m);
    assert_int_equal(net_http1_error_status(f->p), 401);
}

static void feeding_after_an_error_is_refused(void **state)
{
    fixture *f = *state;
    assert_int_equal(feed_status(state, "GET / HTTP/1.1\nHost: h\n\n"), 400);
    size_t used;
    net_msg *m;
    assert_int_equal(feed(f->p, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", &used, &m),
                     NET_HTTP1_E_CLOSED);
}

static void upgrade_request_leaves_the_new_protocol_bytes(void **state)
{
    fixture *f = *state;
    const char *head = "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n"
                       "Upgrade: websocket\r\n\r\n";
    char buf[512];
    snprintf(buf, sizeof buf, "%s\x81\x85XYZW", head);
    size_t used;
    net_msg *m;
    assert_int_equal(feed(f->p, buf, &used, &m), NET_HTTP1_REQUEST);
    assert_true(net_msg_flags(m) & NET_MSG_UPGRADE);
    assert_int_equal(used, strlen(head));
    net_msg_destroy(m);
}

static void declined_upgrade_continues_as_http1(void **state)
{
    fixture *f = *state;
    const char *req = "GET /x HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n"
                      "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
    size_t used, off = 0, n = strlen(req);
    net_msg *m;
    assert_int_equal(net_http1_feed(f->p, (const uint8_t *)req, n, &used, &m), NET_HTTP1_REQUEST);
    assert_true(net_msg_flags(m) & NET_MSG_UPGRADE);
    net_msg_destroy(m);
    off += used;
    assert_int_equal(net_http1_feed(f->p, (const uint8_t *)req + off, n - off, &used, &m),
                     NET_HTTP1_REQUEST);
    assert_string_equal(net_msg_path(m).p, "/next");
    net_msg_destroy(m);
}

/* ---- responses ---- */

static const char *after_date(const net_buf *b)
{
    const char *s = (const char *)b->data;
    const char *d = strstr(s, "\r\nDate: ");
    assert_non_null(d);
    const char *e = strstr(d + 2, "\r\n");
    assert_non_null(e);
    return e + 2;
}

static void response_head_has_exact_framing(void **state)
{
    (void)state;
    net_buf b;
    net_buf_init(&b);
    net_field f[] = {{"Content-Type", "application/json"}};
    assert_int_equal(net_http1_write_head(&b, 200, f, 1, 2, 0), 0);
    net_buf_append(&b, "{}\0", 3);
    assert_memory_equal(b.data, "HTTP/1.1 200 OK\r\nDate: ", 23);
    assert_string_equal(after_date(&b),
                        "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    net_buf_reset(&b);
    assert_int_equal(net_http1_write_head(&b, 200, NULL, 0, -1, 1), 0);
    net_http1_write_chunk(&b, "hello", 5);
    net_http1_write_chunk(&b, "", 0);
    net_http1_write_last_chunk(&b);
    net_buf_append(&b, "", 1);
    assert_string_equal(
        after_date(&b),
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    net_buf_reset(&b);
    assert_int_equal(net_http1_write_head(&b, 204, NULL, 0, 0, 0), 0);
    net_buf_append(&b, "", 1);
    assert_string_equal(after_date(&b), "\r\n");
    net_buf_free(&b);
}

static void header_injection_is_refused(void **state)
{
    (void)state;
    net_buf b;
    net_buf_init(&b);
    net_field bad_value[] = {{"X-A", "ok\r\nSet-Cookie: evil"}};
    net_field bad_name[] = {{"X A", "v"}};
    assert_int_equal(net_http1_write_head(&b, 200, bad_value, 1, 0, 0), NET_HTTP1_E_PARSE);
    assert_int_equal(net_http1_write_head(&b, 200, bad_name, 1, 0, 0), NET_HTTP1_E_PARSE);
    assert_int_equal(b.len, 0);
    net_buf_free(&b);
}

static void error_response_is_json_and_closes(void **state)
{
    (void)state;
    net_buf b;
    net_buf_init(&b);
    net_field au = {"WWW-Authenticate", "Bearer"};
    assert_int_equal(net_http1_write_error(&b, 401, "missing \"token\"", &au, 1, 1), 0);
    net_buf_append(&b, "", 1);
    assert_memory_equal(b.data, "HTTP/1.1 401 Unauthorized\r\n", 27);
    assert_string_equal(
        after_date(&b),
        "Content-Type: application/json\r\nCache-Control: no-store\r\n"
        "WWW-Authenticate: Bearer\r\nContent-Length: 29\r\nConnection: close\r\n\r\n"
        "{\"error\":\"missing \\\"token\\\"\"}");
    net_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(get_request_is_parsed_with_headers_and_query),
        T(request_fed_byte_by_byte_parses_the_same),
        T(pipelined_requests_come_out_one_at_a_time),
        T(chunked_body_is_decoded_and_trailers_dropped),
        T(request_inside_a_body_stays_body),
        T(content_length_with_transfer_encoding_is_400),
        T(transfer_encoding_then_content_length_is_400),
        T(duplicate_content_length_is_400),
        T(content_length_list_or_sign_is_400),
        T(content_length_with_plus_is_400),
        T(transfer_encoding_not_ending_in_chunked_is_400),
        T(space_before_colon_is_400),
        T(obs_fold_is_400),
        T(obs_fold_split_across_feeds_is_400),
        T(bare_lf_is_400),
        T(bad_chunk_size_is_400),
        T(missing_or_double_host_is_400),
        T(absolute_form_target_is_400),
        T(http_versions_other_than_1x_are_505),
        T(http10_is_answered_then_closed),
        T(unknown_method_and_connect_are_501),
        T(expect_100_continue_is_flagged_and_others_are_417),
        T(header_bytes_over_limit_are_431),
        T(whitespace_padding_counts_against_the_header_limit),
        T(too_many_headers_are_431),
        T(long_url_is_414),
        T(declared_body_over_limit_is_413_before_any_body),
        T(chunked_body_over_limit_is_413),
        T(on_head_rejection_stops_the_request),
        T(feeding_after_an_error_is_refused),
        T(upgrade_request_leaves_the_new_protocol_bytes),
        T(declined_upgrade_continues_as_http1),
        cmocka_unit_test(response_head_has_exact_framing),
        cmocka_unit_test(header_injection_is_refused),
        cmocka_unit_test(error_response_is_json_and_closes),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

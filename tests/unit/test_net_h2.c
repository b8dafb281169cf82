/* net_h2: requests and responses between the server core and a real
 * nghttp2 client session, limits, streaming, resets and h2c upgrade. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "net_buf.h"
#include "net_h2.h"

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXS 64

typedef struct {
    nghttp2_session *cli;
    net_h2 *srv;
    net_buf to_srv, to_cli;
    /* server side */
    int nreq;
    net_msg *req[8];
    int32_t req_sid[8];
    int head_reject;
    int nclosed;
    int32_t closed_sid;
    void *closed_app;
    int marker;
    int feed_result;
    /* client side, indexed by stream id */
    int status[MAXS];
    int www_auth[MAXS];
    net_buf body[MAXS];
    int ended[MAXS];
    uint32_t rst[MAXS];
    int goaway;          /* a GOAWAY arrived */
    uint32_t goaway_err; /* its error code */
    /* request body for the data provider */
    const uint8_t *up;
    size_t up_len, up_off;
} fx;

static int srv_head(int32_t sid, net_msg *m, const char **text, void *ud)
{
    (void)sid, (void)m;
    fx *f = ud;
    if (f->head_reject) *text = "missing or invalid token";
    return f->head_reject;
}

static void *srv_request(int32_t sid, net_msg *m, void *ud)
{
    fx *f = ud;
    assert_true(f->nreq < 8);
    f->req[f->nreq] = m;
    f->req_sid[f->nreq++] = sid;
    return &f->marker;
}

static void srv_close(int32_t sid, void *app, void *ud)
{
    fx *f = ud;
    f->nclosed++;
    f->closed_sid = sid;
    f->closed_app = app;
}

static int srv_send(const uint8_t *d, size_t n, void *ud)
{
    fx *f = ud;
    net_buf_append(&f->to_cli, d, n);
    return 0;
}

static const net_h2_callbacks srv_cbs = {srv_head, srv_request, srv_close, srv_send};

static ssize_t cli_send(nghttp2_session *s, const uint8_t *d, size_t n, int fl, void *ud)
{
    (void)s, (void)fl;
    fx *f = ud;
    net_buf_append(&f->to_srv, d, n);
    return (ssize_t)n;
}

static int cli_header(nghttp2_session *s, const nghttp2_frame *fr, const uint8_t *name, size_t nl,
                      const uint8_t *value, size_t vl, uint8_t flags, void *ud)
{
    (void)s, (void)flags;
    fx *f = ud;
    if (fr->hd.stream_id >= MAXS) return 0;
    if (nl == 7 && !memcmp(name, ":status", 7))
        f->status[fr->hd.stream_id] = atoi((const char *)value);
    if (nl == 16 && !memcmp(name, "www-authenticate", 16) && vl == 6 && !memcmp(value, "Bearer", 6))
        f->www_auth[fr->hd.stream_id] = 1;
    return 0;
}

static int cli_data(nghttp2_session *s, uint8_t fl, int32_t sid, const uint8_t *d, size_t n,
                    void *ud)
{
    (void)s, (void)fl;
    fx *f = ud;
    if (sid < MAXS) net_buf_append(&f->body[sid], d, n);
    return 0;
}

static int cli_close(nghttp2_session *s, int32_t sid, uint32_t err, void *ud)
{
    (void)s;
    fx *f = ud;
    if (sid < MAXS) {
        f->ended[sid] = 1;
        f->rst[sid] = err;
    }
    return 0;
}

static int cli_frame(nghttp2_session *s, const nghttp2_frame *fr, void *ud)
{
    (void)s;
    fx *f = ud;
    if (fr->hd.type == NGHTTP2_GOAWAY) {
        f->goaway = 1;
        f->goaway_err = fr->goaway.error_code;
    }
    return 0;
}

static int make(void **state, const net_h2_limits *lim, int upgrade_client)
{
    fx *f = calloc(1, sizeof *f);
    net_buf_init(&f->to_srv);
    net_buf_init(&f->to_cli);
    for (int i = 0; i < MAXS; i++)
        net_buf_init(&f->body[i]);
    assert_int_equal(net_h2_create(&f->srv, lim, &srv_cbs, f), 0);
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_send_callback(cb, cli_send);
    nghttp2_session_callbacks_set_on_header_callback(cb, cli_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, cli_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, cli_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, cli_frame);
    assert_int_equal(nghttp2_session_client_new(&f->cli, cb, f), 0);
    nghttp2_session_callbacks_del(cb);
    if (!upgrade_client) nghttp2_submit_settings(f->cli, NGHTTP2_FLAG_NONE, NULL, 0);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return make(state, NULL, 0);
}

static int teardown(void **state)
{
    fx *f = *state;
    net_h2_destroy(f->srv);
    nghttp2_session_del(f->cli);
    for (int i = 0; i < f->nreq; i++)
        net_msg_destroy(f->req[i]);
    net_buf_free(&f->to_srv);
    net_buf_free(&f->to_cli);
    for (int i = 0; i < MAXS; i++)
        net_buf_free(&f->body[i]);
    free(f);
    return 0;
}

/* Moves bytes both ways until nothing is left to send. */
static void pump(fx *f)
{
    for (int i = 0; i < 50; i++) {
        assert_int_equal(nghttp2_session_send(f->cli), 0);
        if (f->to_srv.len) {
            f->feed_result = net_h2_feed(f->srv, f->to_srv.data, f->to_srv.len);
            net_buf_reset(&f->to_srv);
        }
        assert_int_equal(net_h2_flush(f->srv), 0);
        if (f->to_cli.len) {
            nghttp2_session_mem_recv(f->cli, f->to_cli.data, f->to_cli.len);
            net_buf_reset(&f->to_cli);
        } else if (!nghttp2_session_want_write(f->cli)) {
            return;
        }
    }
}

#define NV(n, v)                                                                                   \
    {                                                                                              \
        (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE             \
    }

static ssize_t up_read(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len, uint32_t *fl,
                       nghttp2_data_source *src, void *ud)
{
    (void)s, (void)sid, (void)src;
    fx *f = ud;
    size_t n = f->up_len - f->up_off;
    if (n > len) n = len;
    memcpy(buf, f->up + f->up_off, n);
    f->up_off += n;
    if (f->up_off == f->up_len) *fl |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int32_t request(fx *f, const char *method, const char *path, const nghttp2_nv *extra,
                       size_t nextra, const void *body, size_t len)
{
    nghttp2_nv nv[16] = {NV(":method", method), NV(":path", path), NV(":scheme", "http"),
                         NV(":authority", "127.0.0.1:8189")};
    size_t n = 4;
    for (size_t i = 0; i < nextra; i++)
        nv[n++] = extra[i];
    nghttp2_data_provider prd = {.read_callback = up_read};
    f->up = body;
    f->up_len = len;
    f->up_off = 0;
    int32_t sid = nghttp2_submit_request(f->cli, NULL, nv, n, body ? &prd : NULL, NULL);
    assert_true(sid > 0);
    pump(f);
    return sid;
}

static void get_is_delivered_like_http1_and_answered(void **state)
{
    fx *f = *state;
    nghttp2_nv h[] = {NV("x-k", "v"), NV("origin", "http://localhost:8188")};
    int32_t sid = request(f, "GET", "/a/b?c=1", h, 2, NULL, 0);
    assert_int_equal(f->nreq, 1);
    net_msg *m = f->req[0];
    assert_string_equal(net_msg_method(m), "GET");
    assert_string_equal(net_msg_path(m).p, "/a/b");
    assert_string_equal(net_msg_query(m).p, "c=1");
    assert_string_equal(net_msg_authority(m).p, "127.0.0.1:8189");
    assert_string_equal(net_msg_header(m, "X-K").p, "v");
    assert_string_equal(net_msg_header(m, "origin").p, "http://localhost:8188");
    assert_true(net_msg_flags(m) & NET_MSG_H2);
    net_field fields[] = {{"Content-Type", "text/plain"}};
    assert_int_equal(net_h2_respond(f->srv, sid, 200, fields, 1, "ok", 2), 0);
    assert_int_equal(net_h2_respond(f->srv, sid, 200, NULL, 0, "x", 1), NET_H2_E_STREAM);
    pump(f);
    assert_int_equal(f->status[sid], 200);
    assert_int_equal(f->body[sid].len, 2);
    assert_memory_equal(f->body[sid].data, "ok", 2);
    assert_true(f->ended[sid]);
    assert_int_equal(f->nclosed, 1);
    assert_ptr_equal(f->closed_app, &f->marker);
}

static void post_body_is_delivered_whole(void **state)
{
    fx *f = *state;
    static uint8_t big[200000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)i;
    request(f, "POST", "/echo", NULL, 0, big, sizeof big);
    assert_int_equal(f->nreq, 1);
    size_t n;
    const uint8_t *b = net_msg_body(f->req[0], &n);
    assert_int_equal(n, sizeof big);
    assert_memory_equal(b, big, n);
}

static void body_over_limit_is_413_and_never_delivered(void **state)
{
    teardown(state);
    net_h2_limits lim;
    net_h2_limits_default(&lim);
    lim.max_body = 10;
    make(state, &lim, 0);
    fx *f = *state;
    int32_t sid = request(f, "POST", "/echo", NULL, 0, "0123456789abcdef", 16);
    assert_int_equal(f->nreq, 0);
    assert_int_equal(f->status[sid], 413);
    assert_true(f->body[sid].len > 0);
    assert_memory_equal(f->body[sid].data, "{\"error\":\"request body too large\"}", 34);
    nghttp2_nv cl[] = {NV("content-length", "11")};
    sid = request(f, "POST", "/echo", cl, 1, "0123456789a", 11);
    assert_int_equal(f->status[sid], 413);
    assert_int_equal(f->nreq, 0);
}

static void header_limits_answer_431(void **state)
{
    teardown(state);
    net_h2_limits lim;
    net_h2_limits_default(&lim);
    lim.max_header_list = 400;
    lim.max_headers = 3;
    make(state, &lim, 0);
    fx *f = *state;
    char big[500];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    nghttp2_nv h1[] = {NV("x-big", big)};
    int32_t sid = request(f, "GET", "/", h1, 1, NULL, 0);
    assert_int_equal(f->status[sid], 431);
    nghttp2_nv h2[] = {NV("a", "1"), NV("b", "1"), NV("c", "1"), NV("d", "1")};
    sid = request(f, "GET", "/", h2, 4, NULL, 0);
    assert_int_equal(f->status[sid], 431);
    assert_int_equal(f->nreq, 0);
}

static void rejected_head_gets_the_status_and_json(void **state)
{
    fx *f = *state;
    f->head_reject = 401;
    int32_t sid = request(f, "GET", "/", NULL, 0, NULL, 0);
    assert_int_equal(f->nreq, 0);
    assert_int_equal(f->status[sid], 401);
    assert_true(f->www_auth[sid]);
    net_buf_append(&f->body[sid], "", 1);
    assert_string_equal((char *)f->body[sid].data, "{\"error\":\"missing or invalid token\"}");
}

static void non_path_target_is_400(void **state)
{
    fx *f = *state;
    int32_t sid = request(f, "OPTIONS", "*", NULL, 0, NULL, 0);
    assert_int_equal(f->status[sid], 400);
    assert_int_equal(f->nreq, 0);
}

static void streamed_response_arrives_in_pieces_and_ends(void **state)
{
    fx *f = *state;
    int32_t sid = request(f, "GET", "/sse", NULL, 0, NULL, 0);
    net_field ct[] = {{"Content-Type", "text/event-stream"}};
    assert_int_equal(net_h2_stream_start(f->srv, sid, 200, ct, 1), 0);
    assert_int_equal(net_h2_stream_write(f->srv, sid, "data: 1\n\n", 9), 0);
    assert_int_equal(net_h2_stream_pending(f->srv, sid), 9);
    pump(f);
    assert_int_equal(net_h2_stream_pending(f->srv, sid), 0);
    assert_int_equal(f->status[sid], 200);
    assert_int_equal(f->body[sid].len, 9);
    assert_false(f->ended[sid]);
    assert_int_equal(net_h2_stream_write(f->srv, sid, "data: 2\n\n", 9), 0);
    assert_int_equal(net_h2_stream_end(f->srv, sid), 0);
    assert_int_equal(net_h2_stream_write(f->srv, sid, "x", 1), NET_H2_E_STREAM);
    pump(f);
    assert_int_equal(f->body[sid].len, 18);
    assert_true(f->ended[sid]);
    assert_int_equal(f->nclosed, 1);
}

static void client_reset_reports_the_stream_closed(void **state)
{
    fx *f = *state;
    int32_t sid = request(f, "GET", "/slow", NULL, 0, NULL, 0);
    assert_int_equal(f->nreq, 1);
    assert_int_equal(f->nclosed, 0);
    nghttp2_submit_rst_stream(f->cli, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
    pump(f);
    assert_int_equal(f->nclosed, 1);
    assert_int_equal(f->closed_sid, sid);
    assert_ptr_equal(f->closed_app, &f->marker);
    assert_int_equal(net_h2_respond(f->srv, sid, 200, NULL, 0, NULL, 0), NET_H2_E_STREAM);
}

static void detached_stream_is_not_reported(void **state)
{
    fx *f = *state;
    int32_t sid = request(f, "GET", "/", NULL, 0, NULL, 0);
    net_h2_detach(f->srv, sid);
    nghttp2_submit_rst_stream(f->cli, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
    pump(f);
    assert_int_equal(f->nclosed, 0);
}

static void destroy_reports_streams_still_open(void **state)
{
    fx *f = *state;
    request(f, "GET", "/", NULL, 0, NULL, 0);
    net_h2_destroy(f->srv);
    assert_int_equal(f->nclosed, 1);
    assert_int_equal(net_h2_create(&f->srv, NULL, &srv_cbs, f), 0);
}

static void settings_advertise_the_limits(void **state)
{
    teardown(state);
    net_h2_limits lim;
    net_h2_limits_default(&lim);
    lim.max_streams = 7;
    make(state, &lim, 0);
    fx *f = *state;
    pump(f);
    assert_int_equal(
        nghttp2_session_get_remote_settings(f->cli, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS), 7);
    assert_int_equal(
        nghttp2_session_get_remote_settings(f->cli, NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE),
        NET_H2_WINDOW);
    assert_int_equal(
        nghttp2_session_get_remote_settings(f->cli, NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE),
        NET_H2_MAX_HEADER_LIST);
}

static void forbidden_response_fields_are_refused(void **state)
{
    fx *f = *state;
    int32_t sid = request(f, "GET", "/", NULL, 0, NULL, 0);
    net_field bad[] = {{"Connection", "close"}};
    assert_int_equal(net_h2_respond(f->srv, sid, 200, bad, 1, NULL, 0), NET_H2_E_ARG);
    net_field inj[] = {{"X-A", "a\r\nb"}};
    assert_int_equal(net_h2_respond(f->srv, sid, 200, inj, 1, NULL, 0), NET_H2_E_ARG);
    assert_int_equal(net_h2_respond(f->srv, sid, 99, NULL, 0, NULL, 0), NET_H2_E_ARG);
    assert_int_equal(net_h2_respond(f->srv, sid, 204, NULL, 0, NULL, 0), 0);
}

static void bad_preface_is_a_protocol_error(void **state)
{
    fx *f = *state;
    const char *h1 = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    assert_int_equal(net_h2_feed(f->srv, (const uint8_t *)h1, strlen(h1)), NET_H2_E_PROTO);
}

static void host_differing_from_authority_is_400(void **state)
{
    fx *f = *state;
    nghttp2_nv other[] = {NV("host", "other.example:8189")};
    int32_t sid = request(f, "GET", "/", other, 1, NULL, 0);
    pump(f);
    assert_int_equal(f->status[sid], 400);
    assert_int_equal(f->nreq, 0);
    /* The same name in another case is the same authority. */
    nghttp2_nv same[] = {NV("host", "127.0.0.1:8189")};
    request(f, "GET", "/", same, 1, NULL, 0);
    assert_int_equal(f->nreq, 1);
}

static void lower_stream_id_is_a_connection_error(void **state)
{
    fx *f = *state;
    int32_t a = request(f, "GET", "/1", NULL, 0, NULL, 0);
    int32_t b = request(f, "GET", "/2", NULL, 0, NULL, 0);
    assert_int_equal(a, 1);
    assert_int_equal(b, 3);
    assert_int_equal(net_h2_respond(f->srv, a, 204, NULL, 0, NULL, 0), 0);
    pump(f);
    assert_true(f->ended[a]);
    /* HEADERS (END_STREAM | END_HEADERS) on stream 1 again, which the
     * client's stream 3 closed for good; the block is static-table
     * indexes (:method GET, :scheme http, :path /). */
    static const uint8_t fr[] = {0, 0, 3, 1, 5, 0, 0, 0, 1, 0x82, 0x86, 0x84};
    assert_int_equal(net_h2_feed(f->srv, fr, sizeof fr), NET_H2_E_PROTO);
    assert_int_equal(net_h2_flush(f->srv), 0);
    nghttp2_session_mem_recv(f->cli, f->to_cli.data, f->to_cli.len);
    net_buf_reset(&f->to_cli);
    assert_true(f->goaway);
    assert_int_equal(f->goaway_err, NGHTTP2_PROTOCOL_ERROR);
    assert_int_equal(f->nreq, 2);
}

static void frames_split_anywhere_are_followed(void **state)
{
    fx *f = *state;
    pump(f);
    /* Two requests fed one byte at a time: the scanner keeps its place in
     * the frame headers across calls and nothing is refused. */
    nghttp2_nv nv[] = {NV(":method", "GET"), NV(":path", "/x"), NV(":scheme", "http"),
                       NV(":authority", "127.0.0.1:8189")};
    nghttp2_submit_request(f->cli, NULL, nv, 4, NULL, NULL);
    nghttp2_submit_request(f->cli, NULL, nv, 4, NULL, NULL);
    assert_int_equal(nghttp2_session_send(f->cli), 0);
    for (size_t i = 0; i < f->to_srv.len; i++)
        assert_int_equal(net_h2_feed(f->srv, f->to_srv.data + i, 1), 0);
    net_buf_reset(&f->to_srv);
    assert_int_equal(f->nreq, 2);
}

static void rapid_reset_ends_the_session_with_enhance_your_calm(void **state)
{
    fx *f = *state;
    f->head_reject = 401; /* answered at once, never delivered */
    nghttp2_nv nv[] = {NV(":method", "GET"), NV(":path", "/"), NV(":scheme", "http"),
                       NV(":authority", "127.0.0.1:8189")};
    for (int i = 0; i < NET_H2_RESET_ALLOWANCE + 20 && !f->goaway; i++) {
        int32_t sid = nghttp2_submit_request(f->cli, NULL, nv, 4, NULL, NULL);
        assert_true(sid > 0);
        /* HEADERS out first: a reset before it would cancel it unsent. */
        assert_int_equal(nghttp2_session_send(f->cli), 0);
        nghttp2_submit_rst_stream(f->cli, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
        if (i % 10 == 9) pump(f);
    }
    pump(f);
    assert_true(net_h2_calmed(f->srv));
    assert_true(f->goaway);
    assert_int_equal(f->goaway_err, NGHTTP2_ENHANCE_YOUR_CALM);
}

static void occasional_resets_are_fine(void **state)
{
    fx *f = *state;
    f->head_reject = 401;
    nghttp2_nv nv[] = {NV(":method", "GET"), NV(":path", "/"), NV(":scheme", "http"),
                       NV(":authority", "127.0.0.1:8189")};
    /* Three completed for one reset, well past the allowance. */
    for (int i = 0; i < 4 * (NET_H2_RESET_ALLOWANCE + 20); i++) {
        int32_t sid = nghttp2_submit_request(f->cli, NULL, nv, 4, NULL, NULL);
        assert_int_equal(nghttp2_session_send(f->cli), 0);
        if (i % 4 == 0) nghttp2_submit_rst_stream(f->cli, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
        if (i % 10 == 9) pump(f);
    }
    pump(f);
    assert_false(net_h2_calmed(f->srv));
    assert_false(f->goaway);
}

static void b64url(const uint8_t *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v =
            (uint32_t)in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        if (i + 1 < n) out[o++] = a[v >> 6 & 63];
        if (i + 2 < n) out[o++] = a[v & 63];
    }
    out[o] = '\0';
}

static void upgrade_delivers_stream_1_after_the_client_preface(void **state)
{
    teardown(state);
    make(state, NULL, 1);
    fx *f = *state;
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};
    uint8_t payload[64];
    ssize_t pn = nghttp2_pack_settings_payload(payload, sizeof payload, iv, 1);
    assert_true(pn > 0);
    char settings[128];
    b64url(payload, (size_t)pn, settings);
    net_msg *m;
    net_msg_create(&m);
    net_msg_set_method(m, "GET", 3);
    net_msg_set_target(m, "/hello", 6);
    assert_int_equal(net_h2_upgrade(f->srv, (net_str){settings, strlen(settings)}, m), 0);
    assert_int_equal(net_h2_flush(f->srv), 0);
    assert_int_equal(f->nreq, 0);
    assert_int_equal(nghttp2_session_upgrade2(f->cli, payload, (size_t)pn, 0, NULL), 0);
    pump(f);
    assert_int_equal(f->nreq, 1);
    assert_int_equal(f->req_sid[0], 1);
    assert_string_equal(net_msg_path(f->req[0]).p, "/hello");
    assert_int_equal(net_h2_respond(f->srv, 1, 200, NULL, 0, "hi", 2), 0);
    pump(f);
    assert_int_equal(f->status[1], 200);
    assert_int_equal(f->body[1].len, 2);
}

static void upgrade_with_bad_settings_is_refused(void **state)
{
    fx *f = *state;
    const char *bad[] = {"!!!!", "AAMAAABk=x", "AAMAAA"};
    for (int i = 0; i < 3; i++) {
        net_msg *m;
        net_msg_create(&m);
        net_msg_set_method(m, "GET", 3);
        assert_int_equal(net_h2_upgrade(f->srv, (net_str){bad[i], strlen(bad[i])}, m),
                         NET_H2_E_ARG);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(get_is_delivered_like_http1_and_answered),
        T(post_body_is_delivered_whole),
        T(body_over_limit_is_413_and_never_delivered),
        T(header_limits_answer_431),
        T(rejected_head_gets_the_status_and_json),
        T(non_path_target_is_400),
        T(streamed_response_arrives_in_pieces_and_ends),
        T(client_reset_reports_the_stream_closed),
        T(detached_stream_is_not_reported),
        T(destroy_reports_streams_still_open),
        T(settings_advertise_the_limits),
        T(forbidden_response_fields_are_refused),
        T(host_differing_from_authority_is_400),
        T(lower_stream_id_is_a_connection_error),
        T(frames_split_anywhere_are_followed),
        T(rapid_reset_ends_the_session_with_enhance_your_calm),
        T(occasional_resets_are_fine),
        T(bad_preface_is_a_protocol_error),
        T(upgrade_delivers_stream_1_after_the_client_preface),
        T(upgrade_with_bad_settings_is_refused),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

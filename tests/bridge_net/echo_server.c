/* bnet_echo_server: a small server on the bridge's network layer for the
 * integration script (run.sh). Routes:
 *   GET  /hello        200 "hello\n"
 *   POST /echo         the body back, same Content-Type
 *   GET  /sse?n=N      N Server-Sent Events 20 ms apart, then the end
 *   GET  /later        answered 50 ms later from another thread (bnet_post)
 *   GET  /healthz      public (no token): "ok"
 *   GET  /stats        counters as JSON
 *   GET  /big          512 KiB of 'b'
 *   WS   /ws           echo; "close" closes with 1000 "bye"; "flood:N"
 *                      sends N messages of 64 KiB at once
 * Prints "port N" on stdout once listening; stops on SIGTERM or SIGINT. */
#include "bnet.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bnet *srv;

static void hello(bnet_req *r, void *ud)
{
    (void)ud;
    bnet_respond(r, 200, "text/plain", NULL, 0, "hello\n", 6);
}

static void healthz(bnet_req *r, void *ud)
{
    (void)ud;
    bnet_respond(r, 200, "text/plain", NULL, 0, "ok\n", 3);
}

static void echo(bnet_req *r, void *ud)
{
    (void)ud;
    size_t len;
    const void *body = bnet_req_body(r, &len);
    const char *ct = bnet_req_header(r, "content-type", NULL);
    bnet_header proto = {"X-Proto", bnet_req_proto(r) == BNET_H2 ? "h2" : "http/1.1"};
    bnet_respond(r, 200, ct ? ct : "application/octet-stream", &proto, 1, body, len);
}

static void big(bnet_req *r, void *ud)
{
    (void)ud;
    static char body[512 * 1024];
    memset(body, 'b', sizeof body);
    bnet_respond(r, 200, "application/octet-stream", NULL, 0, body, sizeof body);
}

static void stats(bnet_req *r, void *ud)
{
    (void)ud;
    bnet_stats st;
    bnet_get_stats(srv, &st);
    char buf[512];
    int n =
        snprintf(buf, sizeof buf,
                 "{\"connections_open\":%llu,\"connections_total\":%llu,"
                 "\"connections_refused\":%llu,\"requests_total\":%llu,"
                 "\"requests_h2\":%llu,\"requests_rejected\":%llu,\"ws_open\":%llu,"
                 "\"ws_messages_in\":%llu,\"ws_messages_out\":%llu,\"timeouts\":%llu,"
                 "\"bytes_queued\":%llu}\n",
                 (unsigned long long)st.connections_open, (unsigned long long)st.connections_total,
                 (unsigned long long)st.connections_refused, (unsigned long long)st.requests_total,
                 (unsigned long long)st.requests_h2, (unsigned long long)st.requests_rejected,
                 (unsigned long long)st.ws_open, (unsigned long long)st.ws_messages_in,
                 (unsigned long long)st.ws_messages_out, (unsigned long long)st.timeouts,
                 (unsigned long long)st.bytes_queued);
    bnet_respond(r, 200, "application/json", NULL, 0, buf, (size_t)n);
}

/* ---- SSE: a timer per stream; the abort callback stops it ---- */

typedef struct {
    uv_timer_t t;
    uint64_t req_id;
    int left, sent;
} sse_state;

static void sse_free(uv_handle_t *h)
{
    free(h->data);
}

static void sse_tick(uv_timer_t *t)
{
    sse_state *st = t->data;
    bnet_req *r = bnet_req_find(srv, st->req_id);
    if (!r) return;
    if (st->left == 0) {
        bnet_stream_end(r);
        uv_close((uv_handle_t *)&st->t, sse_free);
        return;
    }
    char ev[64];
    int n = snprintf(ev, sizeof ev, "id: %d\ndata: {\"n\":%d}\n\n", st->sent, st->sent);
    bnet_stream_write(r, ev, (size_t)n);
    st->sent++;
    st->left--;
}

static void sse_abort(bnet_req *r, void *ud)
{
    (void)r;
    sse_state *st = ud;
    uv_close((uv_handle_t *)&st->t, sse_free);
}

static void sse(bnet_req *r, void *ud)
{
    (void)ud;
    char nbuf[16];
    long n = bnet_req_query_param(r, "n", nbuf, sizeof nbuf);
    int count = n > 0 ? atoi(nbuf) : 3;
    if (count < 0 || count > 1000) count = 3;
    sse_state *st = calloc(1, sizeof *st);
    if (!st) {
        bnet_respond_error(r, 500, "out of memory");
        return;
    }
    bnet_header h = {"Cache-Control", "no-cache"};
    if (bnet_stream_start(r, 200, "text/event-stream", &h, 1) != BNET_OK) {
        free(st);
        bnet_respond_error(r, 500, "cannot stream");
        return;
    }
    st->req_id = bnet_req_id(r);
    st->left = count;
    uv_timer_init(uv_default_loop(), &st->t);
    st->t.data = st;
    uv_timer_start(&st->t, sse_tick, 20, 20);
    bnet_req_set_abort(r, sse_abort, st);
}

/* ---- /later: answered from a worker thread through bnet_post ---- */

typedef struct {
    uint64_t req_id;
    pthread_t th;
} later_job;

static void later_answer(void *ud)
{
    later_job *j = ud;
    pthread_join(j->th, NULL);
    bnet_req *r = bnet_req_find(srv, j->req_id);
    if (r) bnet_respond(r, 200, "text/plain", NULL, 0, "later\n", 6);
    free(j);
}

static void *later_thread(void *ud)
{
    later_job *j = ud;
    usleep(50 * 1000);
    if (bnet_post(srv, later_answer, j) != BNET_OK) {
        /* The server stopped: nobody will join us. */
        pthread_detach(j->th);
        free(j);
    }
    return NULL;
}

static void later(bnet_req *r, void *ud)
{
    (void)ud;
    later_job *j = calloc(1, sizeof *j);
    if (!j) {
        bnet_respond_error(r, 500, "out of memory");
        return;
    }
    j->req_id = bnet_req_id(r);
    if (pthread_create(&j->th, NULL, later_thread, j) != 0) {
        free(j);
        bnet_respond_error(r, 500, "no thread");
    }
}

/* ---- WebSocket echo ---- */

static void ws_open(bnet_ws *ws, const bnet_req *req, void *ud)
{
    (void)ws, (void)req, (void)ud;
}

static void ws_message(bnet_ws *ws, int binary, const void *data, size_t len, void *ud)
{
    (void)ud;
    if (!binary && len == 5 && memcmp(data, "close", 5) == 0) {
        bnet_ws_close(ws, 1000, "bye");
        return;
    }
    if (!binary && len > 6 && len < 16 && memcmp(data, "flood:", 6) == 0) {
        char nb[16];
        memcpy(nb, (const char *)data + 6, len - 6);
        nb[len - 6] = '\0';
        int n = atoi(nb);
        static char big[64 * 1024];
        memset(big, 'x', sizeof big);
        for (int i = 0; i < n; i++)
            if (bnet_ws_send(ws, 1, big, sizeof big) != BNET_OK) break;
        return;
    }
    bnet_ws_send(ws, binary, data, len);
}

static void ws_close(bnet_ws *ws, uint16_t code, const char *reason, size_t len, void *ud)
{
    (void)ws, (void)ud;
    fprintf(stderr, "ws closed %u %.*s\n", code, (int)len, reason);
}

static uv_signal_t sigterm, sigint;

static void on_signal(uv_signal_t *h, int signum)
{
    (void)h, (void)signum;
    bnet_stop(srv);
    uv_close((uv_handle_t *)&sigterm, NULL);
    uv_close((uv_handle_t *)&sigint, NULL);
}

static void usage(void)
{
    fprintf(stderr, "usage: bnet_echo_server [--port N] (--token-file PATH | --token T)\n"
                    "  [--allow-origin O]... [--allow-host H]... [--max-connections N]\n"
                    "  [--header-timeout-ms N] [--idle-timeout-ms N] [--ws-max-queue N]\n"
                    "  [--max-body N] [--max-header-bytes N] [--max-unauth-connections N]\n"
                    "  [--handshake-timeout-ms N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    bnet_opts o;
    bnet_opts_init(&o);
    const char *origins[8], *hosts[8];
    size_t norigins = 0, nhosts = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--port"))
            o.port = atoi(v);
        else if (!strcmp(a, "--token-file"))
            o.token_file = v;
        else if (!strcmp(a, "--token"))
            o.token = v;
        else if (!strcmp(a, "--allow-origin") && norigins < 8)
            origins[norigins++] = v;
        else if (!strcmp(a, "--allow-host") && nhosts < 8)
            hosts[nhosts++] = v;
        else if (!strcmp(a, "--max-connections"))
            o.limits.max_connections = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--max-unauth-connections"))
            o.limits.max_unauth_connections = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--handshake-timeout-ms"))
            o.limits.handshake_timeout_ms = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--header-timeout-ms"))
            o.limits.header_timeout_ms = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--idle-timeout-ms"))
            o.limits.idle_timeout_ms = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--ws-max-queue"))
            o.limits.ws_max_queue = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--max-body"))
            o.limits.max_body = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--max-header-bytes"))
            o.limits.max_header_bytes = strtoul(v, NULL, 10);
        else
            usage();
    }
    o.allow_origins = origins;
    o.n_allow_origins = norigins;
    o.allow_hosts = hosts;
    o.n_allow_hosts = nhosts;

    uv_loop_t *loop = uv_default_loop();
    int e = bnet_create(&srv, loop, &o);
    if (e) {
        fprintf(stderr, "bnet_create: %s\n", bnet_strerror(e));
        return 1;
    }
    bnet_route(srv, "GET", "/hello", 0, hello, NULL);
    bnet_route(srv, "POST", "/echo", 0, echo, NULL);
    bnet_route(srv, "GET", "/sse", 0, sse, NULL);
    bnet_route(srv, "GET", "/later", 0, later, NULL);
    bnet_route(srv, "GET", "/healthz", BNET_ROUTE_PUBLIC, healthz, NULL);
    bnet_route(srv, "GET", "/stats", 0, stats, NULL);
    bnet_route(srv, "GET", "/big", 0, big, NULL);
    bnet_ws_handlers wsh = {NULL, ws_open, ws_message, ws_close, NULL};
    bnet_route_ws(srv, "/ws", 0, &wsh, NULL);

    uv_signal_init(loop, &sigterm);
    uv_signal_init(loop, &sigint);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    uv_signal_start(&sigint, on_signal, SIGINT);
    printf("port %d\n", bnet_port(srv));
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    bnet_destroy(srv);
    uv_loop_close(loop);
    return 0;
}

/* Unit tests for core/comfy_ws against a scripted peer on a real socket:
 * a correct upgrade with a frame in the same packet as the 101 (delivered),
 * then a close; and refusals: not 101, a wrong Sec-WebSocket-Accept, an
 * endless header block (bounded), nobody listening. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "comfy_ws.h"

typedef enum { PEER_OK, PEER_200, PEER_BAD_ACCEPT, PEER_ENDLESS } peer_mode;

typedef struct peer {
    int lfd;
    int port;
    peer_mode mode;
    pthread_t th;
    char path[512]; /* the request line the client sent */
} peer;

static void accept_of(const char *key, char out[64])
{
    char buf[128];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    int len = snprintf(buf, sizeof buf, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    EVP_Digest(buf, (size_t)len, md, &n, EVP_sha1(), NULL);
    EVP_EncodeBlock((unsigned char *)out, md, (int)n);
}

static void *peer_main(void *arg)
{
    peer *p = arg;
    int fd = accept(p->lfd, NULL, NULL);
    if (fd < 0) return NULL;
    char req[4096] = "";
    size_t have = 0;
    while (have < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
        ssize_t r = recv(fd, req + have, sizeof req - 1 - have, 0);
        if (r <= 0) break;
        have += (size_t)r;
        req[have] = 0;
    }
    sscanf(req, "GET %511s", p->path);
    char key[64] = "", acc[64] = "";
    const char *k = strstr(req, "Sec-WebSocket-Key: ");
    if (k) sscanf(k + 19, "%63s", key);
    accept_of(key, acc);
    char out[16384];
    int n = 0;
    switch (p->mode) {
    case PEER_OK: {
        n = snprintf(out, sizeof out,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
                     "Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                     acc);
        /* A text frame in the same packet, then a close frame. */
        const char msg[] = "{\"type\":\"status\"}";
        out[n++] = (char)0x81;
        out[n++] = (char)(sizeof msg - 1);
        memcpy(out + n, msg, sizeof msg - 1);
        n += (int)sizeof msg - 1;
        out[n++] = (char)0x88;
        out[n++] = 2;
        out[n++] = 0x03;
        out[n++] = (char)0xe8;
        break;
    }
    case PEER_200:
        n = snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        break;
    case PEER_BAD_ACCEPT:
        n = snprintf(out, sizeof out,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
                     "Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n");
        break;
    case PEER_ENDLESS:
        n = snprintf(out, sizeof out, "HTTP/1.1 101 Switching Protocols\r\n");
        while (n < (int)sizeof out - 64)
            n += snprintf(out + n, sizeof out - n, "X-Pad: aaaaaaaa\r\n");
        break;
    }
    send(fd, out, (size_t)n, MSG_NOSIGNAL);
    /* Let the client read before the socket goes. */
    char drain[256];
    while (recv(fd, drain, sizeof drain, 0) > 0) {
    }
    close(fd);
    return NULL;
}

static void peer_start(peer *p, peer_mode mode)
{
    memset(p, 0, sizeof *p);
    p->mode = mode;
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(p->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(p->lfd, 1), 0);
    socklen_t l = sizeof a;
    getsockname(p->lfd, (struct sockaddr *)&a, &l);
    p->port = ntohs(a.sin_port);
    pthread_create(&p->th, NULL, peer_main, p);
}

static void peer_stop(peer *p)
{
    shutdown(p->lfd, SHUT_RDWR);
    pthread_join(p->th, NULL);
    close(p->lfd);
}

typedef struct got {
    int n;
    char last[256];
} got;

static void on_msg(void *ud, const char *data, size_t len)
{
    got *g = ud;
    g->n++;
    snprintf(g->last, sizeof g->last, "%.*s", (int)len, data);
}

static void upgrade_then_frames_in_the_same_packet(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, PEER_OK);
    char base[64], err[256] = "";
    snprintf(base, sizeof base, "http://127.0.0.1:%d/prefix/", p.port);
    comfy_ws *w = NULL;
    assert_int_equal(comfy_ws_connect(&w, base, "client 1", 5000, err, sizeof err), 0);
    got g = {0};
    int rc = 0;
    for (int i = 0; i < 50 && rc == 0; i++)
        rc = comfy_ws_poll(w, 100, on_msg, &g, err, sizeof err);
    assert_int_equal(rc, -1); /* the peer closed */
    assert_int_equal(g.n, 1);
    assert_string_equal(g.last, "{\"type\":\"status\"}");
    comfy_ws_close(w);
    peer_stop(&p);
    /* The base's path prefix and the escaped client id. */
    assert_string_equal(p.path, "/prefix/ws?clientId=client%201");
}

static void refusals(void **state)
{
    (void)state;
    static const struct {
        peer_mode mode;
        const char *why;
    } cases[] = {
        {PEER_200, "did not upgrade"},
        {PEER_BAD_ACCEPT, "Sec-WebSocket-Accept"},
        {PEER_ENDLESS, "too large"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        peer p;
        peer_start(&p, cases[i].mode);
        char base[64], err[256] = "";
        snprintf(base, sizeof base, "http://127.0.0.1:%d", p.port);
        comfy_ws *w = NULL;
        assert_int_equal(comfy_ws_connect(&w, base, "c", 5000, err, sizeof err), -1);
        assert_null(w);
        if (!strstr(err, cases[i].why)) fprintf(stderr, "case %zu: %s\n", i, err);
        assert_non_null(strstr(err, cases[i].why));
        peer_stop(&p);
    }
    /* Nobody listening; an https base. */
    peer p;
    peer_start(&p, PEER_200);
    int port = p.port;
    peer_stop(&p);
    char base[64], err[256] = "";
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    comfy_ws *w = NULL;
    assert_int_equal(comfy_ws_connect(&w, base, "c", 2000, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot connect"));
    assert_int_equal(comfy_ws_connect(&w, "https://127.0.0.1:1", "c", 2000, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(upgrade_then_frames_in_the_same_packet),
        cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

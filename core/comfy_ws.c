/* comfy_ws: WebSocket client over a plain socket (see comfy_ws.h). */
#include "comfy_ws.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <llhttp.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "text.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct comfy_ws {
    int fd;
    wslay_event_context_ptr ctx;
    /* Bytes that arrived with the handshake response, fed to wslay first. */
    char pre[COMFY_WS_MAX_HANDSHAKE];
    size_t pre_off, pre_len;
    comfy_ws_msg_fn fn;
    void *ud;
    int closed;
};

/* ---- the URL ---- */

typedef struct {
    char host[256];     /* for getaddrinfo: an IPv6 address without brackets */
    char host_hdr[260]; /* for the Host header: as in the URL */
    char port[8];
    char path[1024]; /* the base's path prefix, without a trailing '/' */
} target;

static int parse_base(const char *base, target *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (!strncmp(base, "https://", 8)) {
        snprintf(err, errlen, "https ComfyUI URLs are not supported for the event stream");
        return -1;
    }
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *path = NULL;
    int rc = -1;
    if (u && !curl_url_set(u, CURLUPART_URL, base, 0) &&
        !curl_url_get(u, CURLUPART_HOST, &host, 0) &&
        !curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) &&
        !curl_url_get(u, CURLUPART_PATH, &path, 0) && strlen(host) < sizeof t->host &&
        strlen(port) < sizeof t->port && strlen(path) < sizeof t->path) {
        /* curl keeps IPv6 brackets in the host; getaddrinfo wants none. */
        size_t hl = strlen(host);
        if (host[0] == '[' && hl > 2 && host[hl - 1] == ']')
            snprintf(t->host, sizeof t->host, "%.*s", (int)(hl - 2), host + 1);
        else
            snprintf(t->host, sizeof t->host, "%s", host);
        snprintf(t->host_hdr, sizeof t->host_hdr, "%s", host);
        snprintf(t->port, sizeof t->port, "%s", port);
        snprintf(t->path, sizeof t->path, "%s", path);
        size_t n = strlen(t->path);
        while (n > 0 && t->path[n - 1] == '/')
            t->path[--n] = 0;
        rc = 0;
    } else {
        snprintf(err, errlen, "cannot parse the ComfyUI URL %s", base);
    }
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

/* ---- the socket ---- */

static int wait_fd(int fd, short ev, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - text_mono_ms();
        if (left <= 0) return 0;
        struct pollfd p = {.fd = fd, .events = ev};
        int n = poll(&p, 1, (int)left);
        if (n > 0) return 1;
        if (n < 0 && errno != EINTR) return -1;
    }
}

static int dial(const target *t, int64_t deadline, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int g = getaddrinfo(t->host, t->port, &hints, &res);
    if (g) {
        snprintf(err, errlen, "cannot resolve %s: %s", t->host, gai_strerror(g));
        return -1;
    }
    int fd = -1;
    int last = 0;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        int s = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (s < 0) continue;
        if (connect(s, a->ai_addr, a->ai_addrlen) == 0) {
            fd = s;
            break;
        }
        if (errno == EINPROGRESS && wait_fd(s, POLLOUT, deadline) == 1) {
            int e = 0;
            socklen_t el = sizeof e;
            if (!getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el) && e == 0) {
                fd = s;
                break;
            }
            last = e;
        } else {
            last = errno ? errno : ETIMEDOUT;
        }
        close(s);
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "cannot connect to %s:%s: %s", t->host, t->port,
                 strerror(last ? last : ETIMEDOUT));
    return fd;
}

static int send_all(int fd, const char *p, size_t n, int64_t deadline)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLOUT, deadline) != 1) return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

/* ---- the handshake response, parsed by llhttp ---- */

typedef struct {
    char field[64];
    size_t field_len;
    int in_accept;
    char accept[64];
    size_t accept_len;
    int done;
} hs;

static int hs_field(llhttp_t *p, const char *at, size_t len)
{
    hs *h = p->data;
    if (h->in_accept == 2) { /* a new field after a value */
        h->field_len = 0;
        h->in_accept = 0;
    }
    if (h->in_accept == 1) h->in_accept = 0;
    size_t room = sizeof h->field - 1 - h->field_len;
    size_t n = len < room ? len : room;
    memcpy(h->field + h->field_len, at, n);
    h->field_len += n;
    h->field[h->field_len] = 0;
    return 0;
}

static int hs_value(llhttp_t *p, const char *at, size_t len)
{
    hs *h = p->data;
    if (!strcasecmp(h->field, "sec-websocket-accept")) {
        size_t room = sizeof h->accept - 1 - h->accept_len;
        size_t n = len < room ? len : room;
        memcpy(h->accept + h->accept_len, at, n);
        h->accept_len += n;
        h->accept[h->accept_len] = 0;
    }
    h->in_accept = 2;
    return 0;
}

static int hs_field_complete(llhttp_t *p)
{
    (void)p;
    return 0;
}

static int hs_value_complete(llhttp_t *p)
{
    hs *h = p->data;
    h->field_len = 0;
    h->field[0] = 0;
    h->in_accept = 0;
    return 0;
}

static int hs_headers_complete(llhttp_t *p)
{
    ((hs *)p->data)->done = 1;
    return 0;
}

static void expected_accept(const char *key, char out[64])
{
    char buf[128];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int n = snprintf(buf, sizeof buf, "%s%s", key, WS_GUID);
    out[0] = 0;
    if (EVP_Digest(buf, (size_t)n, md, &mdlen, EVP_sha1(), NULL) && mdlen == 20)
        EVP_EncodeBlock((unsigned char *)out, md, 20);
}

/* ---- wslay ---- */

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
    (void)flags;
    comfy_ws *w = ud;
    if (w->pre_off < w->pre_len) {
        size_t n = w->pre_len - w->pre_off;
        if (n > len) n = len;
        memcpy(buf, w->pre + w->pre_off, n);
        w->pre_off += n;
        return (ssize_t)n;
    }
    ssize_t r = recv(w->fd, buf, len, 0);
    if (r > 0) return r;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *ud)
{
    (void)flags;
    comfy_ws *w = ud;
    ssize_t r = send(w->fd, data, len, MSG_NOSIGNAL);
    if (r >= 0) return r;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static int ws_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *ud)
{
    (void)ctx;
    (void)ud;
    return getrandom(buf, len, 0) == (ssize_t)len ? 0 : -1;
}

static void ws_on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                      void *ud)
{
    (void)ctx;
    comfy_ws *w = ud;
    if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        w->closed = 1;
        return;
    }
    if (arg->opcode == WSLAY_TEXT_FRAME && w->fn)
        w->fn(w->ud, (const char *)arg->msg, arg->msg_length);
}

int comfy_ws_connect(comfy_ws **out, const char *base_url, const char *client_id, int timeout_ms,
                     char *err, size_t errlen)
{
    *out = NULL;
    target t;
    if (parse_base(base_url, &t, err, errlen)) return -1;
    int64_t deadline = text_mono_ms() + timeout_ms;
    int fd = dial(&t, deadline, err, errlen);
    if (fd < 0) return -1;

    unsigned char rnd[16];
    char key[32] = "", want[64];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        snprintf(err, errlen, "no randomness for the WebSocket key");
        close(fd);
        return -1;
    }
    EVP_EncodeBlock((unsigned char *)key, rnd, sizeof rnd);
    expected_accept(key, want);
    char *cid = curl_easy_escape(NULL, client_id, 0);
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "GET %s/ws?clientId=%s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                     "\r\n",
                     t.path, cid ? cid : "", t.host_hdr, t.port, key);
    curl_free(cid);
    if (n >= (int)sizeof req || send_all(fd, req, (size_t)n, deadline)) {
        snprintf(err, errlen, "cannot send the WebSocket handshake to %s:%s", t.host, t.port);
        close(fd);
        return -1;
    }

    comfy_ws *w = calloc(1, sizeof *w);
    if (!w) {
        close(fd);
        return -1;
    }
    w->fd = fd;
    llhttp_settings_t st;
    llhttp_settings_init(&st);
    st.on_header_field = hs_field;
    st.on_header_value = hs_value;
    st.on_header_field_complete = hs_field_complete;
    st.on_header_value_complete = hs_value_complete;
    st.on_headers_complete = hs_headers_complete;
    llhttp_t p;
    llhttp_init(&p, HTTP_RESPONSE, &st);
    hs h = {0};
    p.data = &h;
    char buf[COMFY_WS_MAX_HANDSHAKE];
    size_t have = 0;
    const char *why = NULL;
    while (!why) {
        if (have == sizeof buf) {
            why = "the handshake response is too large";
            break;
        }
        int wr = wait_fd(fd, POLLIN, deadline);
        if (wr != 1) {
            why = "no handshake response in time";
            break;
        }
        ssize_t r = recv(fd, buf + have, sizeof buf - have, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (r <= 0) {
            why = "the connection closed during the handshake";
            break;
        }
        llhttp_errno_t e = llhttp_execute(&p, buf + have, (size_t)r);
        if (e == HPE_PAUSED_UPGRADE) {
            /* Frames that came with the response go to wslay first. */
            const char *pos = llhttp_get_error_pos(&p);
            size_t used = (size_t)(pos - buf);
            size_t extra = have + (size_t)r - used;
            memcpy(w->pre, pos, extra);
            w->pre_len = extra;
            break;
        }
        if (e != HPE_OK) {
            why = "the handshake response is not HTTP";
            break;
        }
        have += (size_t)r;
        if (h.done) {
            why = "ComfyUI did not upgrade the connection to a WebSocket";
            break;
        }
    }
    if (!why && p.status_code != 101) why = "ComfyUI did not answer 101 Switching Protocols";
    if (!why && strcmp(h.accept, want)) why = "the Sec-WebSocket-Accept header is wrong";
    if (why) {
        snprintf(err, errlen, "WebSocket to %s:%s%s/ws: %s (HTTP %d)", t.host, t.port, t.path, why,
                 (int)p.status_code);
        close(fd);
        free(w);
        return -1;
    }
    struct wslay_event_callbacks cb = {
        .recv_callback = ws_recv,
        .send_callback = ws_send,
        .genmask_callback = ws_genmask,
        .on_msg_recv_callback = ws_on_msg,
    };
    if (wslay_event_context_client_init(&w->ctx, &cb, w) != 0) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        free(w);
        return -1;
    }
    wslay_event_config_set_max_recv_msg_length(w->ctx, COMFY_WS_MAX_MESSAGE);
    *out = w;
    return 0;
}

int comfy_ws_poll(comfy_ws *w, int timeout_ms, comfy_ws_msg_fn fn, void *ud, char *err,
                  size_t errlen)
{
    w->fn = fn;
    w->ud = ud;
    /* Bytes that came with the handshake are handled before waiting. */
    if (w->pre_off < w->pre_len) {
        if (wslay_event_recv(w->ctx) != 0) {
            snprintf(err, errlen, "the event stream failed (a bad frame)");
            return -1;
        }
    }
    struct pollfd p = {.fd = w->fd, .events = POLLIN};
    if (wslay_event_want_write(w->ctx)) p.events |= POLLOUT;
    int n = poll(&p, 1, timeout_ms);
    if (n < 0 && errno != EINTR) {
        snprintf(err, errlen, "poll: %s", strerror(errno));
        return -1;
    }
    if (n > 0) {
        if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && wslay_event_recv(w->ctx) != 0) {
            snprintf(err, errlen, "ComfyUI closed the event stream");
            return -1;
        }
        if ((p.revents & POLLOUT) && wslay_event_send(w->ctx) != 0) {
            snprintf(err, errlen, "ComfyUI closed the event stream");
            return -1;
        }
    }
    if (w->closed || (!wslay_event_want_read(w->ctx) && !wslay_event_want_write(w->ctx))) {
        snprintf(err, errlen, "ComfyUI closed the event stream");
        return -1;
    }
    return 0;
}

void comfy_ws_close(comfy_ws *w)
{
    if (!w) return;
    if (w->ctx) wslay_event_context_free(w->ctx);
    close(w->fd);
    free(w);
}

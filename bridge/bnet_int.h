/* bnet_int: what the files of the network server share and nothing else
 * includes: limits, the request, WebSocket, connection and server structs,
 * and the functions that cross between the files:
 *
 *   bnet.c       options and the server's lifecycle (top: it names all);
 *   bnet_conn.c  the connection engine: admission (unauthenticated
 *                connections, the Host/Origin/token policy), dispatch, output, reading, timers,
 * closing, input and the glue to net_http1, net_ws and net_h2 (bn_pump() moves a connection
 * forward); bnet_resp.c  answers and request accessors (the application's side); bnet_req.c
 * requests, their id map, routing, and waking a connection (bn_schedule); bnet_post.c  posting work
 * to the loop from other threads. Each file calls only those listed below it (bnet_post.c stands
 * apart), so the files have no cycle.
 *
 * Per connection: SNIFF (hold at most 24 bytes while they are a prefix of
 * the HTTP/2 preface) -> H1 (net_http1) -> WS (net_ws) or H2 (net_h2, also
 * straight from SNIFF). All input is processed synchronously on the loop
 * thread; output collects in conn.out and goes out with one uv_write at a
 * time. bn_pump() is the single place that moves a connection forward; calls
 * from the application only schedule it (an idle handle runs it next), so
 * no callback ever runs inside the application's own bnet_* call except
 * bnet_stop. */
#ifndef COMFYD_BNET_INT_H
#define COMFYD_BNET_INT_H

#include "bnet.h"

#include "log.h"
#include "net_buf.h"
#include "net_h2.h"
#include "net_http1.h"
#include "net_msg.h"
#include "net_policy.h"
#include "net_ws.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Defaults. 10,000 idle WebSockets (panels, editors, agents' event
 * streams) with room to spare: about 1.7 KB each, so the default costs
 * under 30 MB when full. The process's open files limit caps it further
 * (bnet_create: a connection over the cap gets a 503, never an accept that
 * fails for want of a descriptor). */
#define BNET_DEFAULT_PORT 8189
#define BNET_DEFAULT_MAX_CONNECTIONS 16384
/* Descriptors kept out of the connection budget: the listener, the event
 * loop's own, the core's channels, log and data files, and the connections
 * that are being answered 503 (MAX_REFUSING) while they close. */
#define BNET_FD_RESERVE (64 + MAX_REFUSING)
/* Connections without a valid token yet: a browser's few plus agents
 * connecting at once fit; a flood of idle sockets gets no more. */
#define BNET_DEFAULT_MAX_UNAUTH 64
/* A client that connects sends its request at once; 10 s covers a loaded
 * machine, not a socket held open for nothing. */
#define BNET_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
/* Calls one connection may have running: HTTP/2's concurrent streams,
 * so only requests reset before their answer can go beyond them. */
#define BNET_DEFAULT_CONN_MAX_CHARGES 100
/* Output per connection before we stop reading from it. */
#define BNET_DEFAULT_WRITE_HIGH_WATER (1024 * 1024)
/* Unsent bytes per streamed response: an event stream that falls this far
 * behind is better restarted by the client (it resumes by sequence). */
#define BNET_DEFAULT_STREAM_MAX_PENDING (1024 * 1024)
/* HTTP/1.1 requests parsed ahead of their answers. */
#define BNET_DEFAULT_MAX_PIPELINE 16
/* An attachment upload: the core's largest attachment (3 MiB) with room. */
#define BNET_DEFAULT_MAX_UPLOAD_BODY (4u << 20)
/* Slowloris: a head must be complete 10 s after its first byte. */
#define BNET_DEFAULT_HEADER_TIMEOUT_MS 10000
#define BNET_DEFAULT_BODY_TIMEOUT_MS 60000
#define BNET_DEFAULT_IDLE_TIMEOUT_MS 60000
/* Browsers drop silent WebSockets behind some proxies; 30 s pings keep them
 * and find dead peers within a minute. */
#define BNET_DEFAULT_WS_PING_MS 30000
/* Lingering close: long enough for the peer to read our last bytes. */
#define BNET_DEFAULT_LINGER_MS 2000
/* A WebSocket closing with output still queued before its close frame: how
 * long a peer that does not read is waited for, and how long one that
 * reads slowly may take at most. */
#define BNET_WS_CLOSE_GRACE_MS 10000
#define BNET_WS_CLOSE_MAX_MS 60000

/* One read; the cores consume input synchronously, so one buffer serves
 * every connection. */
#define READ_BUF_SIZE (64 * 1024)
/* Connections being answered 503 at the same time; more are dropped. */
#define MAX_REFUSING 64
/* Backlog of the listening socket. */
#define LISTEN_BACKLOG 128
/* "PRI ": no HTTP/1.1 method; input that starts so is a broken h2 preface. */
#define H2_PREFACE_METHOD_LEN 4
/* How far into a connection's first bytes the request line is looked for
 * when it does not parse (see not_http_line). */
#define FIRST_LINE_SCAN 8192

#define H2_PREFACE_LEN 24

typedef struct conn conn;

typedef struct route {
    char *method; /* NULL: any */
    char *path;
    size_t path_len;
    unsigned flags;
    int ws;
    bnet_handler fn;
    bnet_ws_handlers wsh;
    void *ud;
} route;

enum { P_SNIFF, P_H1, P_WS, P_H2 };
enum { S_OPEN, S_DRAINING, S_LINGER, S_CLOSING };
enum { T_NONE, T_IDLE, T_HEADER, T_BODY, T_PING, T_WS_CLOSE, T_LINGER };
enum { UP_NONE, UP_WS, UP_H2C };
enum { RQ_PENDING, RQ_STREAMING, RQ_DONE, RQ_ABORTED };

struct bnet_req {
    bnet *srv;
    conn *c;
    uint64_t id;
    net_msg *msg;
    int32_t sid; /* HTTP/2 stream, 0 for HTTP/1.1 */
    int state;
    int upgrade;
    int is_head, keep_alive, http10;
    int live;       /* on conn.live and in the id map: the application may use it */
    int queued;     /* on the HTTP/1.1 answer queue */
    int in_handler; /* a callback with this request is running */
    net_buf resp;   /* HTTP/1.1 bytes waiting for their turn */
    int close_after;
    void (*abort_fn)(bnet_req *, void *);
    void *abort_ud;
    void *data;
    bnet_req *qnext;
    bnet_req *lprev, *lnext;
    char peer[64];
};

struct bnet_ws {
    bnet *srv;
    conn *c;
    uint64_t id;
    const route *rt;
    void *data;
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_timer_t hs_timer; /* handshake deadline while unauthenticated */
    int handles_open;
    int authed;    /* a request presented a valid token */
    int on_unauth; /* linked on bnet.unauth_head */
    conn *uprev, *unext;
    size_t charges;  /* bnet_req_charge units held */
    size_t h1_count; /* HTTP/1.1 requests parsed */
    bnet *srv;
    uint64_t id;
    int proto, state, timer_kind;
    uint8_t sniff[H2_PREFACE_LEN];
    size_t sniff_len;
    net_http1 *h1;
    net_h2 *h2;
    net_ws *ws;
    bnet_ws *wsobj;
    net_buf in;  /* HTTP/1.1 input not yet parsed; leftovers after an upgrade */
    net_buf out; /* output not yet handed to uv_write */
    size_t inflight;
    int writing, reading, busy, again, dirty, released, eof, refused;
    int h1_stop;  /* parse no further requests */
    int h2_dying; /* GOAWAY queued after a protocol error */
    int ws_heard, ws_pinged;
    /* Bytes the kernel took for the peer: a peer that reads is alive even
     * while its pongs wait unread behind our back-pressure. */
    uint64_t bytes_written, ping_bytes;
    /* When our close frame was queued (loop ms) and the bytes written then:
     * the close linger waits longer for a peer that still drains. */
    uint64_t close_started, close_bytes;
    int ws_congested; /* output reached BNET_WS_HIGH_WATER: on_drain is owed */
    /* Decision of h1_on_head for the head being parsed. */
    const char *reject_text;
    int reject_auth;
    bnet_req *qhead, *qtail;
    size_t qlen;
    bnet_req *live;
    char peer[64];
    uv_shutdown_t shutdown_req;
    conn *prev, *next;
    conn *dnext; /* dirty list */
};

typedef struct post_item {
    void (*fn)(void *);
    void *ud;
    struct post_item *next;
} post_item;

/* uint64 id -> pointer, open addressing; ids are never 0 or ~0. */
typedef struct {
    uint64_t *keys;
    void **vals;
    size_t cap, used, n;
} idmap;

struct bnet {
    uv_loop_t *loop;
    uv_tcp_t *listener;
    uv_async_t *async;
    uv_idle_t *idle;
    uv_idle_cb idle_cb; /* bn_on_idle (bnet_conn.c): runs the dirty connections */
    int handles_open;
    bnet_limits lim;
    net_policy *policy;
    int port;
    net_http1_limits h1lim;
    net_ws_limits wslim;
    net_h2_limits h2lim;
    route **routes;
    size_t nroutes;
    conn *conns;
    size_t nopen, nrefusing;
    conn *unauth_head, *unauth_tail; /* oldest first */
    size_t nunauth;
    idmap conn_ids; /* connection id -> conn, for bnet_discharge */
    conn *dirty;
    uint64_t next_id;
    idmap reqs, wss;
    pthread_mutex_t mu;
    post_item *post_head, *post_tail;
    int post_stopped;
    int stopped;
    bnet_stats st;
    char rbuf[READ_BUF_SIZE];
};

/* -- requests, routing, policy, waking a connection (bnet_req.c) -- */
int bn_idmap_put(idmap *m, uint64_t k, void *v);
void *bn_idmap_get(const idmap *m, uint64_t k);
void bn_idmap_del(idmap *m, uint64_t k);
void bn_idmap_free(idmap *m);
int bn_fields_from(net_field *f, size_t *n, const char *ctype, const bnet_header *extra,
                   size_t n_extra);
bnet_req *bn_req_new(conn *c, net_msg *m);
int bn_req_publish(bnet_req *r);
void bn_req_free(bnet_req *r);
void bn_req_maybe_free(bnet_req *r);
void bn_req_unpublish(bnet_req *r);
void bn_req_abort(bnet_req *r);
void bn_enqueue(conn *c, bnet_req *r);
bnet_req *bn_dequeue(conn *c);
const route *bn_match(const bnet *s, int ws, const char *method, net_str path, int *path_hit,
                      char *allow, size_t allow_cap);
void bn_schedule(conn *c);

/* -- answers (bnet_resp.c) -- */
int bn_respond_error_with(bnet_req *r, int status, const char *message, const net_field *extra,
                          size_t n_extra);

/* -- the connection engine (bnet_conn.c) -- */
void bn_begin_close(conn *c);
void bn_pump(conn *c);
void bn_on_connection(uv_stream_t *server, int status);
/* The idle handle's callback: pumps the connections marked dirty. */
void bn_on_idle(uv_idle_t *h);

/* -- posting from other threads (bnet_post.c) -- */
void bn_run_posted(bnet *s);
void bn_on_async(uv_async_t *a);

#endif

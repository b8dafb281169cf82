/* rpcs_int: private to the core's gRPC server (rpcs.h), whose code is
 * split by concern over rpcs.c (helpers, a call's lifetime, shutdown and
 * creation), rpcs_send.c (answering and streaming: the send queue and its
 * batches) and rpcs_accept.c (the handler pool, accepting calls and the
 * pollers). This header holds the structures they share and the
 * prototypes of the functions one piece calls in another, prefixed rs_.
 * Nothing outside core/rpcs*.c includes it. */
#ifndef COMFYD_RPCS_INT_H
#define COMFYD_RPCS_INT_H

#include "rpcs.h"

#include "grpcx.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define MOD "rpc"

/* Internal limits. */
#define ACCEPT_SLOTS 4 /* accepts armed per method: calls keep arriving while a poller is busy */
#define MAX_PENDING_CALLS 4096 /* accepted calls waiting for a handler thread; more is overload */
#define MAX_ADDR_BYTES 512     /* a listen address; unix paths are far shorter (108) */
#define MAX_STREAMS_PER_CONN 1024 /* HTTP/2 streams per connection: the bridge multiplexes tabs */
#define MIN_CLIENT_PING_MS 10000  /* clients may ping this often before GOAWAY too_many_pings */
#define SHUTDOWN_LOG_MS 5000      /* while cancelled calls drain, report this often */

/* Every completion-queue tag starts with this: the poller calls cb. */
typedef grpcx_tag rpcs_tag;

#define CONTAINER GRPCX_CONTAINER

typedef struct method_ent {
    rpcs_method def;
    const ProtobufCMethodDescriptor *desc;
    char *path; /* "/pkg.Service/Method" */
    void *handle;
    int on_cq; /* RPCS_UNARY_ON_CQ: the handler runs on the accepting thread */
} method_ent;

typedef struct qmsg {
    grpc_byte_buffer *bb;
    size_t len;
    struct qmsg *next;
} qmsg;

struct rpcs_call {
    rpcs_tag t_send;     /* the one send batch in flight */
    rpcs_tag t_close;    /* RECV_CLOSE_ON_SERVER, started at accept */
    rpcs *s;             /* only while the call is live: the server outlives that */
    const method_ent *m; /* likewise */
    /* Copies for calls the application keeps after rpcs_destroy. */
    rpcs_kind kind;
    const ProtobufCMethodDescriptor *desc; /* static, from protoc-c */
    size_t max_queued, max_queued_bytes;
    atomic_int refs;       /* gRPC side (until released) + dispatcher + application */
    gpr_timespec deadline; /* monotonic */
    char *peer;            /* gpr_malloc'd */
    /* Owned by the dispatch (the handler thread) until unpacked. */
    grpc_byte_buffer *payload;
    ProtobufCMessage *req;

    pthread_mutex_t mu;
    pthread_cond_t cv; /* queue shrank or call ended */
    /* Everything below is guarded by mu. */
    grpc_call *call; /* NULL once released */
    grpc_metadata_array req_md;
    qmsg *qhead, *qtail; /* waiting, not yet handed to gRPC */
    qmsg *inflight;
    size_t qlen, qbytes; /* queued plus in flight */
    int pending;         /* batches outstanding */
    int send_in_flight;
    int sent_md;
    int finish_requested;
    int status_sent;
    int closed;    /* RECV_CLOSE completed */
    int dead;      /* a send failed: the call is going away */
    int released;  /* the grpc_call was unreffed */
    int done_seen; /* on_done has been (or is being) reported */
    int close_cancelled;
    grpc_status_code code;
    grpc_slice details;
    int has_details;
    /* One trailing metadata entry sent with the status (rpcs_call_finish_md). */
    grpc_metadata trailer;
    int has_trailer;
    rpcs_done_fn done_fn;
    void *done_ud;

    rpcs_call *live_prev, *live_next; /* s->live, guarded by s->mu */
    rpcs_call *work_next;             /* s->wq, guarded by s->pmu */
};

/* An armed accept: a registered method's (m != NULL) or the catch-all. */
typedef struct slot {
    rpcs_tag t;
    rpcs *s;
    const method_ent *m;
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_byte_buffer *payload;
    grpc_call_details details;
} slot;

/* A call to an unknown method, answered UNIMPLEMENTED in one batch. */
typedef struct unimpl {
    rpcs_tag t;
    grpc_call *call;
    grpc_slice details;
    int cancelled;
} unimpl;

struct rpcs {
    grpc_server *srv;
    grpc_completion_queue *cq;
    method_ent *methods;
    size_t n_methods;
    size_t max_queued, max_queued_bytes;
    uint32_t grace_ms;
    size_t n_listen;
    char **listen;
    int *ports;
    int *lock_fds;
    pthread_t *cq_thr;
    int n_cq, n_cq_started;
    pthread_t *h_thr;
    int n_h, n_h_started;
    rpcs_tag t_shutdown;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    int shutting_down;     /* accepts are no longer re-armed */
    int shutdown_notified; /* gRPC's shutdown tag arrived */
    int shutdown_running;
    int shutdown_finished;
    rpcs_call *live; /* accepted, not yet released */

    pthread_mutex_t pmu;
    pthread_cond_t pcv;
    rpcs_call *wq_head, *wq_tail;
    size_t wq_len;
    int pool_stop;
};

void rs_cond_init_mono(pthread_cond_t *cv);
struct timespec rs_mono_after(int64_t ms);
void rs_qmsg_free(qmsg *q);
void rs_drop_queue_locked(rpcs_call *c);
int rs_live_add(rpcs *s, rpcs_call *c);
int rs_take_release_locked(rpcs_call *c, grpc_call **gc);
void rs_release(rpcs_call *c, grpc_call *gc);
void rs_start_send_locked(rpcs_call *c);
void rs_on_send_done(rpcs_tag *t, int ok);
void rs_on_close(rpcs_tag *t, int ok);
int rs_call_over_locked(const rpcs_call *c);
void *rs_handler_main(void *arg);
int rs_slot_new(rpcs *s, const method_ent *m);
void *rs_cq_main(void *arg);
void rs_on_shutdown_notified(rpcs_tag *t, int ok);

#endif

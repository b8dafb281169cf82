/* grpcx: what the core's gRPC server (core/rpcs) and the bridge's client
 * (common/rpcc) do alike with gRPC's C core: start it with its log routed
 * to log.h, poll a completion queue whose tags carry their callback, build
 * channel arguments, and turn protobuf-c messages into byte buffers and
 * back. Thread-safe as gRPC's own calls are. */
#ifndef COMFYD_GRPCX_H
#define COMFYD_GRPCX_H

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* Keepalive on both sides: an idle transport is pinged so that a peer gone
 * without a RST is found; no ack within the timeout closes the transport. */
#define GRPCX_KEEPALIVE_TIME_MS 30000
#define GRPCX_KEEPALIVE_TIMEOUT_MS 10000

/* A completion-queue tag: embedded in the operation's state, its callback
 * gets the tag back (GRPCX_CONTAINER finds the state) and the success bit. */
typedef struct grpcx_tag {
    void (*cb)(struct grpcx_tag *t, int ok);
} grpcx_tag;

#define GRPCX_CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Routes gRPC's log through log_msg (module "grpc") and calls grpc_init.
 * Each call is paired with one grpc_shutdown_blocking. */
void grpcx_init(void);

/* Runs the tags of cq (all grpcx_tag) until the queue is shut down. */
void grpcx_cq_run(grpc_completion_queue *cq);

/* An integer channel argument (key is one of gRPC's static strings). */
grpc_arg grpcx_int_arg(const char *key, int value);

/* Serialises m, whose packed size n the caller checked, into one slice.
 * The caller owns the buffer. */
grpc_byte_buffer *grpcx_pack(const ProtobufCMessage *m, size_t n);

/* Unpacks a received buffer (left to the caller) as a d message; NULL
 * when it is longer than max bytes or malformed. Free the message with
 * protobuf_c_message_free_unpacked. */
ProtobufCMessage *grpcx_unpack(const ProtobufCMessageDescriptor *d, grpc_byte_buffer *bb,
                               size_t max);

#endif

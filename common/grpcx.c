#include "grpcx.h"

#include "log.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>

static void log_hook(gpr_log_func_args *a)
{
    log_level lv = a->severity == GPR_LOG_SEVERITY_ERROR  ? LOG_ERROR
                   : a->severity == GPR_LOG_SEVERITY_INFO ? LOG_INFO
                                                          : LOG_DEBUG;
    log_msg(lv, "grpc", "%s", a->message);
}

void grpcx_init(void)
{
    gpr_set_log_function(log_hook);
    grpc_init();
}

void grpcx_cq_run(grpc_completion_queue *cq)
{
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN) return;
        if (ev.type == GRPC_OP_COMPLETE) ((grpcx_tag *)ev.tag)->cb(ev.tag, ev.success);
    }
}

grpc_arg grpcx_int_arg(const char *key, int value)
{
    return (grpc_arg){.type = GRPC_ARG_INTEGER, .key = (char *)key, .value.integer = value};
}

grpc_byte_buffer *grpcx_pack(const ProtobufCMessage *m, size_t n)
{
    grpc_slice sl = grpc_slice_malloc(n);
    protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(sl));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&sl, 1);
    grpc_slice_unref(sl);
    return bb;
}

ProtobufCMessage *grpcx_unpack(const ProtobufCMessageDescriptor *d, grpc_byte_buffer *bb,
                               size_t max)
{
    if (grpc_byte_buffer_length(bb) > max) return NULL;
    grpc_byte_buffer_reader rd;
    if (!grpc_byte_buffer_reader_init(&rd, bb)) return NULL;
    grpc_slice all = grpc_byte_buffer_reader_readall(&rd);
    grpc_byte_buffer_reader_destroy(&rd);
    ProtobufCMessage *m = NULL;
    if (GRPC_SLICE_LENGTH(all) <= max)
        m = protobuf_c_message_unpack(d, NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
    grpc_slice_unref(all);
    return m;
}

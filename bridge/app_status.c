/* app_status: the bridge's errors, and gRPC statuses and graph errors
 * mapped to HTTP statuses and code names (pure; app.h). */
#include "app.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *app_strerror(int err)
{
    if (err == APP_HELP) return "help requested";
    if (err == APP_VERSION) return "version requested";
    return cfd_strerror(err);
}

/* ==== status mapping ==== */

int app_status_for_grpc(grpc_status_code code)
{
    switch (code) {
    case GRPC_STATUS_OK:
        return 200;
    case GRPC_STATUS_INVALID_ARGUMENT:
        return 400;
    case GRPC_STATUS_NOT_FOUND:
        return 404;
    case GRPC_STATUS_ALREADY_EXISTS:
    case GRPC_STATUS_FAILED_PRECONDITION:
        return 409;
    case GRPC_STATUS_DEADLINE_EXCEEDED:
        return 504;
    case GRPC_STATUS_UNAVAILABLE:
        return 503;
    case GRPC_STATUS_RESOURCE_EXHAUSTED:
        return 429;
    case GRPC_STATUS_ABORTED:
        return 502;
    case GRPC_STATUS_UNAUTHENTICATED:
        return 401;
    case GRPC_STATUS_PERMISSION_DENIED:
        return 403;
    default:
        return 500;
    }
}

int app_status_for_graph(Comfyd__V1__GraphErrorCode code)
{
    switch (code) {
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_UNKNOWN_NODE_TYPE:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NODE_NOT_FOUND:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_SLOT_NOT_FOUND:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_TYPE_MISMATCH:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_WIDGET_NOT_FOUND:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_VALUE_INVALID:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_REF_NOT_FOUND:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_SKIPPED:
        return 422;
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_STALE_REVISION:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NO_LIVE_CANVAS:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_AMBIGUOUS_CANVAS:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_IDEMPOTENCY_KEY_REUSED:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_LEASED:
        return 409;
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_CANVAS_NOT_FOUND:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_WORKFLOW_NOT_FOUND:
        return 404;
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_NAME:
        return 400;
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_EDITOR_TIMEOUT:
        return 504;
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_EDITOR_GONE:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_EDITOR_FAILED:
        return 502;
    default:
        return 500;
    }
}

const char *app_grpc_code_name(grpc_status_code code)
{
    static const char *const names[] = {
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    };
    if ((int)code < 0 || (size_t)code >= sizeof names / sizeof names[0]) return "UNKNOWN";
    return names[code];
}

#define GRAPH_CODE_PREFIX "GRAPH_ERROR_CODE_"

const char *app_graph_code_name(Comfyd__V1__GraphErrorCode code)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&comfyd__v1__graph_error_code__descriptor, (int)code);
    if (!v || code == 0) return "UNSPECIFIED";
    return v->name + strlen(GRAPH_CODE_PREFIX);
}

Comfyd__V1__GraphErrorCode app_graph_code_named(const char *name)
{
    if (!name) return 0;
    const char *s = name;
    if (!strncmp(s, GRAPH_CODE_PREFIX, strlen(GRAPH_CODE_PREFIX))) s += strlen(GRAPH_CODE_PREFIX);
    const ProtobufCEnumDescriptor *d = &comfyd__v1__graph_error_code__descriptor;
    for (unsigned i = 0; i < d->n_values; i++) {
        const char *v = d->values[i].name + strlen(GRAPH_CODE_PREFIX);
        if (d->values[i].value != 0 && !strcmp(v, s))
            return (Comfyd__V1__GraphErrorCode)d->values[i].value;
    }
    return 0;
}

const Comfyd__V1__GraphError *app_first_graph_error(const ProtobufCMessage *resp)
{
    if (!resp) return NULL;
    if (resp->descriptor == &comfyd__v1__execute_response__descriptor) {
        const Comfyd__V1__ExecuteResponse *r = (const Comfyd__V1__ExecuteResponse *)resp;
        if (r->ok || !r->result || !r->result->error) return NULL;
        return r->result->error;
    }
    if (resp->descriptor == &comfyd__v1__execute_batch_response__descriptor) {
        const Comfyd__V1__ExecuteBatchResponse *r = (const Comfyd__V1__ExecuteBatchResponse *)resp;
        if (r->ok) return NULL;
        if (r->n_errors) return r->errors[0];
        for (size_t i = 0; i < r->n_results; i++)
            if (r->results[i] && r->results[i]->error) return r->results[i]->error;
    }
    if (resp->descriptor == &comfyd__v1__lease_response__descriptor) {
        const Comfyd__V1__LeaseResponse *r = (const Comfyd__V1__LeaseResponse *)resp;
        return r->ok ? NULL : r->refusal;
    }
    return NULL;
}

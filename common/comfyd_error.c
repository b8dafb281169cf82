/* comfyd_error: names of the codes of the one error space
 * (comfyd_error.h). */
#include "comfyd_error.h"

#include <stddef.h>

static const struct {
    int code;
    const char *text;
} names[] = {
    {CFD_OK, "ok"},
    {CFD_ERR_NOMEM, "out of memory"},
    {CFD_ERR_INVALID, "invalid argument"},
    {CFD_ERR_GRPC, "grpc error"},
    {CFD_ERR_RPCS_CLOSED, "call is over"},
    {CFD_ERR_RPCS_FULL, "send queue full"},
    {CFD_ERR_RPCS_BIND, "cannot bind listen address"},
    {CFD_ERR_RPCC_CLOSED, "client or stream closed"},
    {CFD_ERR_RPCC_BUSY, "too many calls in flight"},
    {CFD_ERR_RPCC_TOOBIG, "request too large"},
    {CFD_ERR_RPCC_METHODS, "too many methods"},
    {CFD_ERR_NET_STATE, "not allowed in this state"},
    {CFD_ERR_NET_FULL, "output limit reached"},
    {CFD_ERR_NET_CLOSED, "connection closed"},
    {CFD_ERR_NET_STOPPED, "server stopped"},
    {CFD_ERR_NET_EXISTS, "route exists"},
    {CFD_ERR_NET_LISTEN, "cannot listen"},
    {CFD_ERR_NET_TOKEN, "token file unusable"},
    {CFD_ERR_APP_JSON, "invalid JSON"},
    {CFD_ERR_APP_INPUT, "invalid request"},
    {CFD_ERR_APP_TOOBIG, "request too large"},
    {CFD_ERR_APP_START, "cannot start"},
};

const char *cfd_strerror(int err)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == err) return names[i].text;
    return "unknown error";
}

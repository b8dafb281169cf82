/* comfyd_error: one error space for the core and the bridge.
 *
 * Every code is an int: 0 is success, negative values are errors, and each
 * component owns a band of a hundred values (as nghttp2 and wslay number
 * theirs), so a code names its component and means one thing wherever it
 * travels. The meanings every component shares sit in the first band:
 * out of memory is CFD_ERR_NOMEM in every module. One function,
 * cfd_strerror, names any code.
 *
 * The modules keep their own enum names (RPCS_ECLOSED, BNET_E_FULL,
 * APP_E_JSON, ...) as aliases of the codes here, so their callers read as
 * before; their *_strerror functions are cfd_strerror.
 *
 * Across the process boundary, a graph error of a failed gRPC call travels
 * as data, not as text: the core sends the GraphErrorCode's name
 * ("GRAPH_ERROR_CODE_NO_LIVE_CANVAS") in the trailing metadata entry
 * CFD_MD_GRAPH_ERROR, and the bridge reads it from there. (The status
 * message, written for people, still begins with the short name.) */
#ifndef COMFYD_ERROR_H
#define COMFYD_ERROR_H

/* The trailing metadata key of a failed call's GraphErrorCode name. */
#define CFD_MD_GRAPH_ERROR "comfyd-graph-error"

/* First and last code of each band (inclusive, the first is the larger). */
#define CFD_BAND_COMMON -1
#define CFD_BAND_RPCS -100
#define CFD_BAND_RPCC -200
#define CFD_BAND_NET -300
#define CFD_BAND_APP -400
#define CFD_BAND_SIZE 100

typedef enum cfd_err {
    CFD_OK = 0,

    /* -1 .. -99: meanings every component shares. */
    CFD_ERR_NOMEM = -1,
    /* A bad argument: NULL where a value is needed, a value out of range. */
    CFD_ERR_INVALID = -2,
    /* gRPC refused to create or start something (logged); a bug, not load. */
    CFD_ERR_GRPC = -3,

    /* -100 .. -199: the core's gRPC server (rpcs.h). */
    /* The call is over (finished, cancelled, deadline, peer gone). */
    CFD_ERR_RPCS_CLOSED = -100,
    /* The call's send queue is full: the peer is not reading. */
    CFD_ERR_RPCS_FULL = -101,
    /* A listen address could not be bound. */
    CFD_ERR_RPCS_BIND = -102,

    /* -200 .. -299: the bridge's gRPC client (rpcc.h). */
    /* The client is being destroyed, or the stream has ended. */
    CFD_ERR_RPCC_CLOSED = -200,
    /* max_calls calls are in flight: shed load and retry later. */
    CFD_ERR_RPCC_BUSY = -201,
    /* The packed request is larger than RPCC_MAX_MESSAGE_BYTES. */
    CFD_ERR_RPCC_TOOBIG = -202,
    /* More than RPCC_MAX_METHODS distinct methods were used. */
    CFD_ERR_RPCC_METHODS = -203,

    /* -300 .. -399: the bridge's network server (bnet.h). */
    /* Not allowed in this state: already answered, not streaming, or not
     * in this callback. */
    CFD_ERR_NET_STATE = -300,
    /* An output limit was reached: nothing was queued. */
    CFD_ERR_NET_FULL = -301,
    /* The connection or WebSocket is closing or gone. */
    CFD_ERR_NET_CLOSED = -302,
    /* The server is stopping. */
    CFD_ERR_NET_STOPPED = -303,
    /* A route for this method and path exists already. */
    CFD_ERR_NET_EXISTS = -304,
    /* Could not bind or listen (details are logged). */
    CFD_ERR_NET_LISTEN = -305,
    /* The token file cannot be used (details are logged). */
    CFD_ERR_NET_TOKEN = -306,

    /* -400 .. -499: the bridge's application layer (app.h). */
    /* Not JSON ("invalid JSON: ..."). */
    CFD_ERR_APP_JSON = -400,
    /* JSON that does not fit the request. */
    CFD_ERR_APP_INPUT = -401,
    /* Larger or deeper than the limits (413 over HTTP). */
    CFD_ERR_APP_TOOBIG = -402,
    /* The server could not start (details are logged). */
    CFD_ERR_APP_START = -403,
} cfd_err;

/* A static string naming err: the component's own wording ("call is
 * over", "output limit reached", ...), "ok" for 0, "unknown error" for
 * codes outside the table. Safe from any thread. */
const char *cfd_strerror(int err);

#endif

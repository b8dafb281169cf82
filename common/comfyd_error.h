/* comfyd_error: one error space for the core and the bridge.
 *
 * Every code is an int: 0 is success, negative values are errors, and each
 * component owns a band of a hundred values (as nghttp2 and wslay number
 * theirs), so a code names its component and means one thing wherever it
 * travels. The meanings every component shares sit in the first band:
 * out of memory is CFD_ERR_NOMEM and an invalid argument CFD_ERR_INVALID
 * in every module. One function, cfd_strerror, names any code. Positive
 * values are not errors: a few modules return outcomes there (LEASE_HELD,
 * CFG_HELP, OPTS_VERSION, ...).
 *
 * The bands: common -1, rpcs -100, rpcc -200, net (bnet) -300, app -400,
 * store -500, wfstore -600, canvas -700, runs -800, graph -900, nodeinfo
 * -1000, jsonpb (and jsonpb_schema) -1100, sse -1200, mcp -1300, blobstore
 * -1400, checkpoint -1500, lease -1600, agent -1700, provider -1800, evring
 * -1900, skills -2000, session -2100, jsonscan -2200, opts -2300,
 * lease_graph -2400, canvas_reg -2500. The net
 * band also holds the codes of bnet's protocol cores (net_*.h), in tens.
 * Modules whose only errors are shared ones (cfg, tools, provenance,
 * net_buf) use the common band alone. A new band takes the next hundred
 * and raises CFD_BANDS; tests/unit/test_comfyd_error.c walks them all.
 *
 * The modules keep their own enum names (RPCS_ECLOSED, STORE_NOT_FOUND,
 * CANVAS_EFULL, ...) as aliases of the codes here, so their callers read
 * as before; their *_EINVAL and *_ENOMEM are CFD_ERR_INVALID and
 * CFD_ERR_NOMEM. cfd_strerror names every code; store_strerror,
 * rpcc_strerror and bnet_strerror, which have many callers, are kept as
 * thin aliases of it, and app_strerror adds the app's positive outcomes.
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
#define CFD_BAND_STORE -500
#define CFD_BAND_WFSTORE -600
#define CFD_BAND_CANVAS -700
#define CFD_BAND_RUNS -800
#define CFD_BAND_GRAPH -900
#define CFD_BAND_NODEINFO -1000
#define CFD_BAND_JSONPB -1100
#define CFD_BAND_SSE -1200
#define CFD_BAND_MCP -1300
#define CFD_BAND_BLOB -1400
#define CFD_BAND_CKPT -1500
#define CFD_BAND_LEASE -1600
#define CFD_BAND_AGENT -1700
#define CFD_BAND_PROV -1800
#define CFD_BAND_EVRING -1900
#define CFD_BAND_SKILLS -2000
#define CFD_BAND_SESS -2100
#define CFD_BAND_JSONSCAN -2200
#define CFD_BAND_OPTS -2300
#define CFD_BAND_LGRAPH -2400
#define CFD_BAND_CREG -2500
/* The number of bands, CFD_BAND_COMMON's included (the last is
 * -(CFD_BANDS - 1) * CFD_BAND_SIZE). */
#define CFD_BANDS 26
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
    /* The network layer's protocol cores without I/O (net_*.h), in tens. */
    /* net_policy.h: a request's Host, Origin or token refused; the token
     * file unreadable or malformed, or readable by others. */
    CFD_ERR_NET_POLICY_HOST = -310,
    CFD_ERR_NET_POLICY_ORIGIN = -311,
    CFD_ERR_NET_POLICY_TOKEN = -312,
    CFD_ERR_NET_POLICY_IO = -313,
    CFD_ERR_NET_POLICY_PERM = -314,
    /* net_h2.h: the peer broke HTTP/2; no such stream; nghttp2 failed. */
    CFD_ERR_NET_H2_PROTO = -320,
    CFD_ERR_NET_H2_STREAM = -321,
    CFD_ERR_NET_H2_FATAL = -322,
    /* net_http1.h: not HTTP/1.1; refused by a limit; the connection is
     * closing. */
    CFD_ERR_NET_HTTP1_PARSE = -330,
    CFD_ERR_NET_HTTP1_REJECTED = -331,
    CFD_ERR_NET_HTTP1_CLOSED = -332,
    /* net_ws.h: the WebSocket is closed; its queue is full; wslay failed. */
    CFD_ERR_NET_WS_CLOSED = -340,
    CFD_ERR_NET_WS_QUEUE_FULL = -341,
    CFD_ERR_NET_WS_FATAL = -342,
    /* net_msg.h: a request target that is not origin-form. */
    CFD_ERR_NET_MSG_TARGET = -350,

    /* -400 .. -499: the bridge's application layer (app.h). */
    /* Not JSON ("invalid JSON: ..."). */
    CFD_ERR_APP_JSON = -400,
    /* JSON that does not fit the request. */
    CFD_ERR_APP_INPUT = -401,
    /* Larger or deeper than the limits (413 over HTTP). */
    CFD_ERR_APP_TOOBIG = -402,
    /* The server could not start (details are logged). */
    CFD_ERR_APP_START = -403,

    /* -500 .. -599: the core's database (store.h). */
    CFD_ERR_STORE_NOT_FOUND = -500,
    /* A unique key already exists (e.g. a client_message_id). */
    CFD_ERR_STORE_CONFLICT = -501,
    CFD_ERR_STORE_IO = -502,
    /* The database file is not ours or is from a newer schema. */
    CFD_ERR_STORE_SCHEMA = -503,
    /* The database server is unreachable (PostgreSQL); retry later. */
    CFD_ERR_STORE_UNAVAIL = -504,
    /* Another core serves this database (no engine returns it now). */
    CFD_ERR_STORE_BUSY = -505,

    /* -600 .. -699: saved workflows on disk (wfstore.h). */
    CFD_ERR_WFSTORE_NOENT = -600,
    CFD_ERR_WFSTORE_EXIST = -601,
    CFD_ERR_WFSTORE_TOOBIG = -602,
    CFD_ERR_WFSTORE_IO = -603,

    /* -700 .. -799: the canvas manager (canvas.h). */
    /* A limit: too many canvases, a full queue, ... */
    CFD_ERR_CANVAS_FULL = -700,
    CFD_ERR_CANVAS_SHUTDOWN = -701,
    /* A graph error with a GraphErrorCode (canvas_error.code). */
    CFD_ERR_CANVAS_GRAPH = -702,
    CFD_ERR_CANVAS_EXIST = -703,
    CFD_ERR_CANVAS_IO = -704,

    /* -800 .. -899: runs (runs.h). */
    CFD_ERR_RUNS_NOTFOUND = -800,
    CFD_ERR_RUNS_OVER = -801,
    CFD_ERR_RUNS_UNAVAIL = -802,
    CFD_ERR_RUNS_FULL = -803,
    CFD_ERR_RUNS_IO = -804,
    CFD_ERR_RUNS_SHUTDOWN = -805,

    /* -900 .. -999: the graph mirror (graph.h; not the proto's
     * GraphErrorCode). */
    /* A GRAPH_MAX_* limit was exceeded. */
    CFD_ERR_GRAPH_TOOBIG = -900,
    CFD_ERR_GRAPH_REVISION = -901,
    CFD_ERR_GRAPH_TRUNCATED = -902,
    CFD_ERR_GRAPH_DIGEST = -903,

    /* -1000 .. -1099: node types from /object_info (nodeinfo.h). */
    CFD_ERR_NODEINFO_TOOBIG = -1000,
    CFD_ERR_NODEINFO_VALUE = -1001,

    /* -1100 .. -1199: protobuf JSON (jsonpb.h, jsonpb_schema.h): the
     * input's faults first. */
    CFD_ERR_JSONPB_SYNTAX = -1100,
    CFD_ERR_JSONPB_UTF8 = -1101,
    CFD_ERR_JSONPB_TYPE = -1102,
    CFD_ERR_JSONPB_RANGE = -1103,
    CFD_ERR_JSONPB_UNKNOWN_FIELD = -1104,
    CFD_ERR_JSONPB_UNKNOWN_VALUE = -1105,
    CFD_ERR_JSONPB_MISSING = -1106,
    CFD_ERR_JSONPB_DUPLICATE = -1107,
    CFD_ERR_JSONPB_LIMIT = -1108,

    /* -1200 .. -1299: the server-sent events parser (sse.h). */
    CFD_ERR_SSE_TOOBIG = -1200,
    CFD_ERR_SSE_STOPPED = -1201,
    CFD_ERR_SSE_PARTIAL = -1202,

    /* -1300 .. -1399: MCP's JSON-RPC layer (mcp.h). */
    CFD_ERR_MCP_PARSE = -1300,
    CFD_ERR_MCP_INVALID = -1301,
    CFD_ERR_MCP_TOOBIG = -1302,
    CFD_ERR_MCP_PARAMS = -1303,
    CFD_ERR_MCP_FULL = -1304,
    CFD_ERR_MCP_AGAIN = -1305,

    /* -1400 .. -1499: the blob store (blobstore.h). */
    CFD_ERR_BLOB_TOOBIG = -1400,
    CFD_ERR_BLOB_TYPE = -1401,
    CFD_ERR_BLOB_IO = -1402,
    CFD_ERR_BLOB_NOTFOUND = -1403,

    /* -1500 .. -1599: session checkpoints (checkpoint.h). */
    CFD_ERR_CKPT_STALE = -1500,
    CFD_ERR_CKPT_CANVAS = -1501,
    CFD_ERR_CKPT_IO = -1502,

    /* -1600 .. -1699: session leases (lease.h; its outcomes HELD and GONE
     * are positive, not errors). */
    CFD_ERR_LEASE_UNAVAIL = -1600,
    CFD_ERR_LEASE_IO = -1601,

    /* -1700 .. -1799: the agent loop (agent.h). */
    CFD_ERR_AGENT_STEPS = -1700,
    CFD_ERR_AGENT_LOOP = -1701,
    CFD_ERR_AGENT_CONTEXT = -1702,

    /* -1800 .. -1899: model providers (provider.h); the agent loop ends
     * with the same three. */
    CFD_ERR_PROV_CANCELLED = -1800,
    CFD_ERR_PROV_FAILED = -1801,
    CFD_ERR_PROV_ABORTED = -1802,

    /* -1900 .. -1999: the event ring (evring.h). */
    CFD_ERR_EVRING_GAP = -1900,
    CFD_ERR_EVRING_ABORTED = -1901,

    /* -2000 .. -2099: skills (skills.h). */
    CFD_ERR_SKILLS_PARSE = -2000,
    CFD_ERR_SKILLS_IO = -2001,

    /* -2100 .. -2199: sessions (session.h). */
    CFD_ERR_SESS_NOT_FOUND = -2100,
    CFD_ERR_SESS_FULL = -2101,
    CFD_ERR_SESS_IO = -2102,
    CFD_ERR_SESS_SHUTDOWN = -2103,
    CFD_ERR_SESS_BUSY = -2104,
    CFD_ERR_SESS_EXIST = -2105,
    CFD_ERR_SESS_UNAVAIL = -2106,
    CFD_ERR_SESS_PRECOND = -2107,

    /* -2200 .. -2299: the bounded JSON pre-scan (jsonscan.h). */
    CFD_ERR_JSONSCAN_DEPTH = -2200,
    CFD_ERR_JSONSCAN_VALUES = -2201,

    /* -2300 .. -2399: flags and their environment twins (opts.h; its
     * outcomes HELP and VERSION are positive, not errors). */
    CFD_ERR_OPTS_USAGE = -2300,

    /* -2400 .. -2499: leases on a canvas's nodes and groups
     * (lease_graph.h). */
    CFD_ERR_LGRAPH_LEASED = -2400,
    CFD_ERR_LGRAPH_NOTFOUND = -2401,
    CFD_ERR_LGRAPH_FULL = -2402,

    /* -2500 .. -2599: the canvas registry of several cores (canvas_reg.h). */
    CFD_ERR_CREG_UNAVAIL = -2500,
} cfd_err;

/* A static string naming err: the component's own wording ("call is
 * over", "output limit reached", ...), "ok" for 0, "unknown error" for
 * codes outside the table. Safe from any thread. */
const char *cfd_strerror(int err);

#endif

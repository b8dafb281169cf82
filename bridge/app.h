/* app: the application layer of comfyd-bridge. It serves the HTTP/JSON and
 * WebSocket protocols of docs/bridge-protocol.md on bnet and translates
 * them into comfyd.v1 gRPC calls to the core through rpcc:
 *
 *   app.c          configuration, lifecycle, calls and streams to the core,
 *                  JSON helpers, status mapping, /healthz and /metrics;
 *   app_graph.c    POST/GET /comfy/graph/... and WS /comfy/graph/ws;
 *   app_editor.c   WS /comfy/editor/ws <-> GraphService.AttachCanvas and
 *                  ReportEditor (a browser tab's canvas);
 *   app_session.c  WS /comfy/session/ws <-> SessionService (seed 000);
 *   app_mcp.c      POST/DELETE /mcp: MCP over Streamable HTTP (docs/mcp.md).
 *
 * Threads: everything runs on the libuv loop thread except rpcc's
 * callbacks, which only copy the result and bnet_post it to the loop. Only
 * ids (bnet_req_id, bnet_ws_id) and reference-counted stream contexts cross
 * threads, so a client that disconnects while its call is pending is never
 * touched again: the answer is dropped, its streams are cancelled.
 *
 * The pure translation functions (status mapping, the seeds' JSON shapes
 * <-> protobuf-c messages, configuration) are declared here for the unit
 * tests; they keep no state and are safe from any thread. */
#ifndef COMFYD_APP_H
#define COMFYD_APP_H

#include <grpc/status.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "comfyd/v1/graph.pb-c.h"
#include "comfyd/v1/session.pb-c.h"
#include "comfyd/v1/run.pb-c.h"

/* ---- limits ---- */

/* --allow-origin and --allow-host values, each: net_policy keeps as many. */
#define APP_MAX_NAMES 32
/* A client's request_id (its JSON text): a UUID or a counter is far less. */
#define APP_MAX_REQUEST_ID 256
/* Requests one graph or session WebSocket may have in flight: pipelining
 * beyond this is a client that does not wait for answers. */
#define APP_WS_MAX_INFLIGHT 64
/* Tab reports waiting behind the one in flight (user edits coalesce). */
#define APP_EDITOR_MAX_PENDING 64
/* Stream messages requested from the core ahead of the WebSocket: bounds
 * what sits between gRPC and the WebSocket queue (which bnet bounds). */
#define APP_STREAM_WINDOW 8
/* A graph command's deadline is its timeout_ms (or the core's default)
 * plus this slack, so the core's EDITOR_TIMEOUT arrives before ours. */
#define APP_DEADLINE_SLACK_MS 2000
#define APP_DEFAULT_TAB_TIMEOUT_MS 5000 /* the core's default tab wait */
#define APP_MAX_TAB_TIMEOUT_MS 60000    /* the core's longest tab wait */
/* Every other unary call: the core answers from memory or SQLite. */
#define APP_UNARY_TIMEOUT_MS 10000
/* Graceful shutdown waits this long for calls in flight. */
#define APP_DRAIN_MS 10000
/* How often the core's connectivity is polled (keeps a reconnect going). */
#define APP_TICK_MS 500
/* Query parameters of GET endpoints (names= may list many node types). */
#define APP_MAX_QUERY_VALUE 16384
/* Node type names in one names= parameter (the core's CANVAS_MAX_NAMES). */
#define APP_MAX_NAMES_PARAM 1000
/* Connection limits (docs/security.md): bnet's defaults, and the bounds of
 * --max-connections, --max-unauth-connections, --handshake-timeout-ms. */
#define APP_DEFAULT_MAX_CONNECTIONS 256
#define APP_DEFAULT_MAX_UNAUTH 64
#define APP_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
#define APP_MAX_MAX_CONNECTIONS 65536
#define APP_MIN_HANDSHAKE_TIMEOUT_MS 100
#define APP_MAX_HANDSHAKE_TIMEOUT_MS 600000

/* ---- errors ---- */

typedef enum {
    APP_OK = 0,
    /* app_cfg_parse: --help or --version was given (print, exit 0). */
    APP_HELP = 1,
    APP_VERSION = 2,
    /* -100: the client's input; answer 400 (WebSocket: an error message). */
    APP_E_JSON = -100,  /* not JSON: "invalid JSON: ..." */
    APP_E_INPUT = -101, /* JSON that does not fit the request */
    /* Larger or deeper than the limits: 413 over HTTP. */
    APP_E_TOOBIG = -102,
    /* -300: a bad flag or argument (the message says which). */
    APP_E_ARG = -300,
    /* -400: the server could not start (listen, token file, core client);
     * details are logged. */
    APP_E_START = -400,
    APP_E_NOMEM = -500,
} app_err;

const char *app_strerror(int err);

/* ---- configuration ---- */

typedef struct app_cfg {
    char *listen_host; /* IPv4 or IPv6 literal, no brackets */
    int listen_port;   /* 0 picks a free port */
    char *core;        /* gRPC target: unix:PATH or HOST:PORT */
    char *data_dir;
    char *token_file;
    char *allow_origins[APP_MAX_NAMES];
    size_t n_allow_origins;
    char *allow_hosts[APP_MAX_NAMES];
    size_t n_allow_hosts;
    int log_level;                 /* log.h's log_level */
    size_t max_connections;        /* bnet_limits.max_connections */
    size_t max_unauth_connections; /* bnet_limits.max_unauth_connections */
    uint64_t handshake_timeout_ms; /* bnet_limits.handshake_timeout_ms */
} app_cfg;

/* Parses argv (flags win over their COMFYD_BRIDGE_* environment twins) and
 * fills the defaults: --listen 127.0.0.1:8189, --data ./var, --core
 * unix:DATA/comfyd.sock, --token-file DATA/token. Returns APP_OK, APP_HELP,
 * APP_VERSION or APP_E_ARG with a one-line reason in err. Free with
 * app_cfg_clear in every case (also after an error). */
int app_cfg_parse(app_cfg *c, int argc, char **argv, char *err, size_t errlen);
void app_cfg_clear(app_cfg *c);
void app_cfg_usage(FILE *f, const char *prog);
const char *app_version(void);

/* ---- the server ---- */

typedef struct app app;

/* Creates the data directory (0700) when missing, the core client (no
 * connection yet: the bridge starts before or without the core), the bnet
 * server on loop (borrowed) with every route, and logs "comfyd-bridge:
 * ready" with the address and the token file path. cfg is copied. Returns
 * APP_OK and *out (app_destroy), or APP_E_START / APP_E_NOMEM with nothing
 * left running. */
int app_create(app **out, uv_loop_t *loop, const app_cfg *cfg);
/* The port actually listened on. */
int app_port(const app *a);
/* Begins a graceful shutdown (SIGINT/SIGTERM): new requests get 503,
 * WebSockets are closed with 1001, calls in flight are answered (for at
 * most APP_DRAIN_MS), then the server stops and uv_run returns. A second
 * call stops at once. Loop thread only. */
void app_shutdown(app *a);
/* Frees everything. Call after uv_run returned (it cancels the core calls
 * still in flight and waits for their callbacks). NULL is a no-op. */
void app_destroy(app *a);

/* ---- status mapping (pure) ---- */

/* HTTP status of a gRPC status: INVALID_ARGUMENT 400, NOT_FOUND 404,
 * ALREADY_EXISTS 409, FAILED_PRECONDITION 409, DEADLINE_EXCEEDED 504,
 * UNAVAILABLE 503, RESOURCE_EXHAUSTED 429, ABORTED 502, UNAUTHENTICATED 401,
 * PERMISSION_DENIED 403, OK 200, others 500. */
int app_status_for_grpc(grpc_status_code code);
/* HTTP status of a graph error (docs/bridge-protocol.md): 422, 409, 404,
 * 400, 504 or 502; 500 for UNSPECIFIED or unknown codes. */
int app_status_for_graph(Comfyd__V1__GraphErrorCode code);
/* "INVALID_ARGUMENT" ...; "UNKNOWN" for codes outside grpc/status.h. */
const char *app_grpc_code_name(grpc_status_code code);
/* "NO_LIVE_CANVAS" ... (the enum value name without its prefix);
 * "UNSPECIFIED" for 0 or unknown values. */
const char *app_graph_code_name(Comfyd__V1__GraphErrorCode code);
/* The graph error a gRPC status message starts with ("NO_LIVE_CANVAS: no
 * tab is attached" or "GRAPH_ERROR_CODE_NO_LIVE_CANVAS: ..."), or
 * UNSPECIFIED (0) when it names none. */
Comfyd__V1__GraphErrorCode app_graph_code_in(const char *details);
/* The deciding (first) graph error of an ExecuteResponse or
 * ExecuteBatchResponse whose ok is false, or NULL (other messages, ok
 * responses, or ok=false without an error). */
const Comfyd__V1__GraphError *app_first_graph_error(const ProtobufCMessage *resp);

/* ---- graph requests (pure; app_graph.c) ---- */

/* What a graph request asks for: one per gRPC method. */
typedef enum {
    APP_OP_EXECUTE = 0, /* one seed command (get_graph included) */
    APP_OP_BATCH,
    APP_OP_QUEUE,
    APP_OP_SAVE,
    APP_OP_LOAD,
    APP_OP_STATE, /* ReportEditor: a tab's reply over HTTP */
    APP_OP_NODE_TYPES,
    APP_OP_CANVASES,
    APP_OP_DIFF,
    APP_OP_WORKFLOWS,
    APP_OP__COUNT,
} app_op;

/* A decoded graph request. */
typedef struct app_graph_req {
    app_op op;
    ProtobufCMessage *msg; /* owned: protobuf_c_message_free_unpacked(msg, NULL) */
    char *request_id;      /* WebSocket: the request_id's JSON text (owned), or NULL */
} app_graph_req;

/* Parses the body of POST /comfy/graph/command: a seed command
 * ({"type": ..., fields}) with the envelope keys canvas_id, base_revision,
 * idempotency_key, validate_only and timeout_ms beside it, or an
 * ExecuteRequest ({"command": {...}, ...}). Returns APP_OK (*out filled:
 * op APP_OP_EXECUTE), APP_E_JSON, APP_E_INPUT ("missing field: type",
 * "unknown type 'x'; expected one of ..."), APP_E_TOOBIG or APP_E_NOMEM,
 * with the message in err. */
int app_graph_parse_command(const char *json, size_t len, app_graph_req *out, char *err,
                            size_t errlen);
/* Parses the JSON body of another POST endpoint as the request message of
 * op (APP_OP_BATCH, QUEUE, SAVE, LOAD, STATE). Returns as above. */
int app_graph_parse_body(app_op op, const char *json, size_t len, app_graph_req *out, char *err,
                         size_t errlen);
/* Parses one WS /comfy/graph/ws message: {"request_id": ..., "type": ...,
 * fields}; type is a seed command (with the envelope keys), "batch",
 * "queue", "save", "load", "state", "node_types", "canvases", "diff" or
 * "workflows". On an error after the request_id was read, out->request_id
 * is still set so the answer can carry it (free with app_graph_req_clear
 * in every case). Returns as above. */
int app_graph_parse_ws(const char *json, size_t len, app_graph_req *out, char *err, size_t errlen);
/* An unsigned decimal query value (`?since=`, `?limit=`): 1..20 digits,
 * nothing else (no sign, space, hex or exponent), at most max. Values
 * beyond max, including beyond 64 bits, are refused, never capped.
 * Returns 0 with *out set, or -1. */
int app_graph_parse_uint(const char *s, uint64_t max, uint64_t *out);
/* Frees what r holds and zeroes it. */
void app_graph_req_clear(app_graph_req *r);
/* Sets the idempotency_key of an Execute, ExecuteBatch, Queue or Load
 * request from an Idempotency-Key header when the body has none. Returns
 * APP_OK, APP_E_INPUT (the body has a different key, or the key is not
 * UTF-8 or empty), or APP_E_NOMEM. Other requests are left alone. */
int app_graph_set_idempotency_key(app_graph_req *r, const char *key, size_t len, char *err,
                                  size_t errlen);
/* The deadline of r's call: for Execute, ExecuteBatch, Queue and Load the
 * request's timeout_ms (0: APP_DEFAULT_TAB_TIMEOUT_MS, at most
 * APP_MAX_TAB_TIMEOUT_MS) plus APP_DEADLINE_SLACK_MS, else
 * APP_UNARY_TIMEOUT_MS. */
int64_t app_graph_deadline_ms(const app_graph_req *r);
/* The gRPC method name of op ("Execute", ...). */
const char *app_graph_method(app_op op);

/* ---- JSON answers (pure; allocate *out with malloc, NUL-terminated) ---- */

/* A graph response as JSON: every field written (emit_defaults), enums by
 * name, GraphError codes short ("TYPE_MISMATCH"), Commands flattened. */
int app_graph_response_json(const ProtobufCMessage *resp, char **out, size_t *len);
/* An HTTP error body: {"error": message, "code": code (omitted when NULL),
 * ...the fields of resp (when not NULL)}. */
int app_error_body(const char *message, const char *code, const ProtobufCMessage *resp, char **out,
                   size_t *len);
/* WS /comfy/graph/ws answers: {"request_id", "status":"ok", "data"} and
 * {"request_id", "status":"error", "message", "code", "data" (when resp)}.
 * request_id is JSON text or NULL (then omitted). */
int app_graph_ws_ok(const char *request_id, const ProtobufCMessage *resp, char **out, size_t *len);
int app_graph_ws_error(const char *request_id, const char *code, const char *message,
                       const ProtobufCMessage *resp, char **out, size_t *len);

/* ---- editor messages (pure; app_editor.c) ---- */

/* Parses a tab's first message, {"type": "attach", AttachCanvasRequest
 * fields}. APP_E_INPUT when type is missing or not "attach". */
int app_editor_parse_attach(const char *json, size_t len, Comfyd__V1__AttachCanvasRequest **out,
                            char *err, size_t errlen);
/* Parses a later tab message, a ReportEditorRequest with its report
 * flattened under "type"; canvas_id is set to the attached canvas_id
 * (copied) whatever the tab sent. */
int app_editor_parse_report(const char *json, size_t len, const char *canvas_id,
                            Comfyd__V1__ReportEditorRequest **out, char *err, size_t errlen);
/* A core message for the tab: AttachCanvasResponse with kind flattened
 * under "type" (and Commands flattened), every field written. */
int app_editor_message_json(const Comfyd__V1__AttachCanvasResponse *m, char **out, size_t *len);
/* {"type":"report_ack","report":kind,"revision":N}. */
int app_editor_ack_json(const char *kind, uint64_t revision, char **out, size_t *len);
/* {"type":type,"report":kind (omitted when NULL),"code":code,"message":message}. */
int app_editor_error_json(const char *type, const char *kind, const char *code, const char *message,
                          char **out, size_t *len);
/* The WebSocket close code for the end of a tab's AttachCanvas stream:
 * 1012 (service restart: reconnect) for OK, UNAVAILABLE, CANCELLED,
 * DEADLINE_EXCEEDED, INTERNAL and UNKNOWN; 1000 for ABORTED (another
 * attachment replaced this one: do not reconnect); 1008 for
 * INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION and others; 1013 (try
 * again later) for RESOURCE_EXHAUSTED. */
uint16_t app_editor_close_code(grpc_status_code code);

/* ---- session messages (pure; app_session.c) ---- */

/* Client events of WS /comfy/session/ws. */
typedef enum {
    APP_SESS_CREATE = 0,
    APP_SESS_LIST,
    APP_SESS_LIST_SKILLS,
    APP_SESS_JOIN,
    APP_SESS_CONFIGURE,
    APP_SESS_UPDATE_SKILLS,
    APP_SESS_USER_MESSAGE,
    APP_SESS_SKILL_EXECUTE,
    APP_SESS_CANCEL,
    APP_SESS_COMPACT,
    APP_SESS_SEARCH,
    APP_SESS__COUNT,
} app_sess_kind;

typedef struct app_session_req {
    app_sess_kind kind;
    ProtobufCMessage *msg; /* the gRPC request (owned) */
    char *request_id;      /* JSON text (owned) or NULL */
    /* Spelled "connect" (seed 000's event table): the socket then gets
     * stream deltas as "stream_token" events, as that table names them. */
    int token_events;
} app_session_req;

/* Longest session id: a UUID's 36 characters. */
#define APP_SESSION_ID_MAX 36

/* Parses {"event": name, "data": {...}, "request_id": ...} into the gRPC
 * request of the event (unknown keys in data are ignored, as the seed
 * sends extras such as client_version): create -> CreateSessionRequest,
 * list -> ListSessionsRequest, list_skills -> ListSkillsRequest, join ->
 * SubscribeRequest (last_seq -> after_seq), configure ->
 * ConfigureSessionRequest (active_skills or skills as an array),
 * update_skills -> ConfigureSessionRequest of active_skills, user_message
 * -> SendMessageRequest, skill_execute -> SendMessageRequest (prompt ->
 * content, skill_id -> skills), cancel -> CancelRequest. The seed's other
 * spellings are aliases: connect -> join, config_update -> configure,
 * chat_message -> user_message. A session_id that is a UUID in any case is
 * lower-cased (UUIDs are case-insensitive; comfyd's ids are lower-case);
 * join needs one (a session the client made up is created on join). A
 * missing session_id elsewhere is left empty for the socket to fill with
 * the joined session. request_id is set even when the rest fails. Returns
 * as app_graph_parse_command. */
int app_session_parse(const char *json, size_t len, app_session_req *out, char *err, size_t errlen);
void app_session_req_clear(app_session_req *r);
/* The gRPC method of kind ("CreateSession", ...) and the event name of its
 * answer ("created", ...; NULL for join, answered by the stream). */
const char *app_session_method(app_sess_kind kind);
const char *app_session_answer_event(app_sess_kind kind);
/* A session event as the seed's JSON: {"event": kind, "seq": N, "time_ms":
 * T, "data": {"session_id": ..., fields of the kind}} with enums in short
 * words (status "idle"/"working"/"error", role "user", level "INFO");
 * sync_state also gets "status" from its session. */
int app_session_event_json(const Comfyd__V1__SessionEvent *ev, char **out, size_t *len);
/* The same; with token_events a stream_delta is written as seed 000's
 * "stream_token" with the text also under "token". */
int app_session_event_json_as(const Comfyd__V1__SessionEvent *ev, int token_events, char **out,
                              size_t *len);
/* An answer {"event": event, "request_id": ..., "data": resp} (enums as
 * above). request_id is JSON text or NULL (omitted). */
int app_session_answer_json(const char *event, const char *request_id, const ProtobufCMessage *resp,
                            char **out, size_t *len);
/* {"event":"error","request_id":...,"data":{"code":code,"message":message}}. */
int app_session_error_json(const char *request_id, const char *code, const char *message,
                           char **out, size_t *len);

/* ---- metrics (pure; app.c) ---- */

/* Routes counted by app_metrics (HTTP endpoints, then WebSocket ones). */
typedef enum {
    APP_ROUTE_COMMAND = 0,
    APP_ROUTE_BATCH,
    APP_ROUTE_QUEUE,
    APP_ROUTE_SAVE,
    APP_ROUTE_LOAD,
    APP_ROUTE_STATE,
    APP_ROUTE_NODE_TYPES,
    APP_ROUTE_CANVASES,
    APP_ROUTE_DIFF,
    APP_ROUTE_WORKFLOWS,
    APP_ROUTE_HEALTHZ,
    APP_ROUTE_METRICS,
    APP_ROUTE_MCP,
    APP_ROUTE_RUNS,
    APP_ROUTE_RUN_OUTPUT,
    APP_ROUTE_SESSIONS,
    APP_ROUTE__HTTP,
} app_route;

typedef enum {
    APP_WS_GRAPH = 0,
    APP_WS_EDITOR,
    APP_WS_SESSION,
    APP_WS__COUNT,
} app_ws_kind;

/* gRPC methods counted (and called). */
typedef enum {
    APP_M_EXECUTE = 0,
    APP_M_EXECUTE_BATCH,
    APP_M_QUEUE,
    APP_M_SAVE,
    APP_M_LOAD,
    APP_M_REPORT_EDITOR,
    APP_M_LIST_NODE_TYPES,
    APP_M_LIST_CANVASES,
    APP_M_GET_DIFF,
    APP_M_LIST_WORKFLOWS,
    APP_M_ATTACH_CANVAS,
    APP_M_CREATE_SESSION,
    APP_M_LIST_SESSIONS,
    APP_M_LIST_SKILLS,
    APP_M_SUBSCRIBE,
    APP_M_CONFIGURE_SESSION,
    APP_M_SEND_MESSAGE,
    APP_M_CANCEL,
    APP_M_GET_RUN,
    APP_M_LIST_RUNS,
    APP_M_WATCH_RUN,
    APP_M_CANCEL_RUN,
    APP_M_GET_RUN_OUTPUT,
    APP_M_COMPACT_SESSION,
    APP_M_SEARCH_SESSIONS,
    APP_M_EXPORT_SESSION,
    APP_M__COUNT,
} app_method;

/* Distinct HTTP statuses counted per route (the bridge answers ~12). */
#define APP_METRICS_STATUSES 16
/* gRPC status codes 0..16. */
#define APP_METRICS_CODES 17

typedef struct app_metrics {
    struct {
        int status[APP_METRICS_STATUSES]; /* 0: unused slot */
        uint64_t count[APP_METRICS_STATUSES];
    } http[APP_ROUTE__HTTP];
    uint64_t ws_opened[APP_WS__COUNT];
    uint64_t ws_open[APP_WS__COUNT]; /* gauge */
    uint64_t ws_in[APP_WS__COUNT];
    uint64_t ws_out[APP_WS__COUNT];
    uint64_t grpc[APP_M__COUNT][APP_METRICS_CODES];
    uint64_t stream_messages[APP_M__COUNT];
} app_metrics;

/* Counts one HTTP answer (statuses past APP_METRICS_STATUSES distinct ones
 * are counted under the last slot's status 0, printed as "other"). */
void app_metrics_http(app_metrics *m, app_route route, int status);
/* Counts one finished gRPC call (codes outside 0..16 count as UNKNOWN). */
void app_metrics_grpc(app_metrics *m, app_method method, grpc_status_code code);
/* Prometheus text exposition of m plus bnet's counters (net: an array of
 * n_net name/value/is_gauge triples, may be NULL) and the core state
 * (core_up 1 or 0). */
typedef struct app_metric_value {
    const char *name; /* metric name without the comfyd_bridge_ prefix */
    const char *help;
    uint64_t value;
    int gauge;
} app_metric_value;
int app_metrics_render(const app_metrics *m, const app_metric_value *net, size_t n_net, int core_up,
                       char **out, size_t *len);
const char *app_route_name(app_route r);
const char *app_ws_name(app_ws_kind k);
const char *app_method_name(app_method m);

/* ==== Internal to the app*.c files (not for other modules) ==== */

#include <stdatomic.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "bnet.h"
#include "rpcc.h"

/* Common head of every WebSocket's state (first member of each endpoint's
 * struct); linked into app.ws_list from on_open to on_close. */
typedef struct app_ws {
    struct app *a;
    bnet_ws *ws; /* valid until on_close returns */
    app_ws_kind kind;
    struct app_ws *prev, *next;
} app_ws;

struct app {
    uv_loop_t *loop; /* borrowed */
    bnet *net;
    rpcc *core;
    char *core_target;
    char *token_file;
    char listen[80]; /* "127.0.0.1:8189" */
    uv_timer_t tick; /* core state poll; drain check while stopping */
    int tick_on;
    int draining, stopped;
    uint64_t drain_deadline;
    atomic_uint inflight; /* unary calls started and not yet finished */
    rpcc_state_t core_state;
    app_ws *ws_list;
    app_metrics m;
    struct app_mcp *mcp; /* app_mcp.c's state */
};

/* -- JSON helpers (app.c) -- */

/* Parses untrusted JSON into a yajl tree after a bounded scan: depth at most
 * JSONPB_MAX_DEPTH, at most JSONPB_MAX_TOTAL_ELEMENTS values, no comments,
 * no NUL (raw or escaped) and no lone surrogate escapes, so that the tree
 * re-emits exactly. Returns APP_OK (*out: yajl_tree_free), APP_E_JSON,
 * APP_E_TOOBIG or APP_E_NOMEM with err ("invalid JSON: ..."). */
int app__json_parse(const char *json, size_t len, yajl_val *out, char *err, size_t errlen);
/* The first value of key in object o, or NULL. */
yajl_val app__json_get(yajl_val o, const char *key);
/* Writes v (a parsed value) into g, numbers verbatim. */
int app__json_emit(yajl_gen g, yajl_val v);
/* 1 when key is one of names[0..n). */
int app__key_in(const char *key, const char *const *names, size_t n);
/* A generator for compact output; NULL on out-of-memory. */
yajl_gen app__gen(void);
/* Copies g's output into *out (malloc, NUL-terminated) and frees g.
 * Returns APP_OK or APP_E_NOMEM (g is freed either way). */
int app__gen_finish(yajl_gen g, char **out, size_t *len);
int app__gen_str(yajl_gen g, const char *s);
/* Writes the JSON text t (trusted: from our own parse) as a value. */
int app__gen_raw_value(yajl_gen g, const char *t);
/* Decodes the object obj re-emitted (minus skip[0..n_skip) keys) as a
 * message of type d; flattened: Command, ReportEditorRequest,
 * AttachCanvasResponse. extra_fn, when set, adds keys to the re-emitted
 * object (the generator is inside the map). Returns APP_OK, APP_E_INPUT,
 * APP_E_TOOBIG or APP_E_NOMEM (err filled). */
int app__decode_obj(yajl_val obj, const char *const *skip, size_t n_skip,
                    int (*extra_fn)(yajl_gen g, void *ud), void *ud,
                    const ProtobufCMessageDescriptor *d, int ignore_unknown, ProtobufCMessage **out,
                    char *err, size_t errlen);
/* Finishes g (consumed) and decodes its text as d (flattening as above). */
int app__decode_gen(yajl_gen g, const ProtobufCMessageDescriptor *d, int ignore_unknown,
                    ProtobufCMessage **out, char *err, size_t errlen);
/* Writes the members of object obj except skip[0..n_skip) into g (inside
 * a map). Returns 0 or -1. */
int app__emit_members(yajl_gen g, yajl_val obj, const char *const *skip, size_t n_skip);
/* Writes the string k. Returns 0 or -1. */
int app__gen_cstr(yajl_gen g, const char *k);
/* Maps a jsonpb error to APP_E_*. */
int app__from_jsonpb(int rc);

/* How enums are written: a jsonpb enum style with per-enum exceptions
 * (static tables in app.c); NULL writes full names. */
typedef const struct app_enum_styles *app_enum_style;
/* Writes m into g as JSON in one pass (emit_defaults, the flattened
 * messages above), enums per style. When inside_map is set, only the
 * fields are written into a map the caller has open. */
int app__encode(yajl_gen g, const ProtobufCMessage *m, app_enum_style style, int inside_map);
/* Graph answers: GraphErrorCode short upper-case ("TYPE_MISMATCH"), other
 * enums by full name (as the protocol shows "BATCH_MODE_ATOMIC"). */
extern const app_enum_style app__style_graph;
/* Session answers: every enum short lower-case ("idle", "user"), LogLevel
 * short upper-case ("INFO"), as seed 000 writes them. */
extern const app_enum_style app__style_session;

/* -- calls to the core (app.c) -- */

typedef struct app_call app_call;
/* Runs on the loop once the call is finished (or failed to start). */
typedef void (*app_call_done)(app_call *c);

struct app_call {
    struct app *a;
    app_method method;
    app_call_done done;
    uint64_t req_id; /* HTTP request (bnet_req_find), 0: none */
    uint64_t ws_id;  /* WebSocket (bnet_ws_find), 0: none */
    uint64_t conn;   /* bnet connection charged for the call (bnet_discharge), 0: none */
    app_route route;
    int tag;    /* caller's small value (op, event kind) */
    char *rid;  /* caller's request_id JSON (owned, freed with the call) */
    char *text; /* caller's string (owned, freed with the call) */
    grpc_status_code code;
    char details[RPCC_MAX_DETAILS_BYTES + 1];
    ProtobufCMessage *resp; /* owned by the call; NULL unless OK */
};

/* A zeroed call for method; aborts on out-of-memory (a small control
 * structure). */
app_call *app__call_new(struct app *a, app_method method, app_call_done done);
/* Starts the unary call (fail fast, timeout_ms deadline). c->done runs
 * exactly once on the loop, maybe before this returns (when the call
 * cannot start: UNAVAILABLE "too many calls in flight", INVALID_ARGUMENT
 * "request too large", ...); c is freed after done returns. */
void app__call_start(app_call *c, const ProtobufCMessage *req, int64_t timeout_ms);

/* A server stream feeding a WebSocket, with manual flow control. */
typedef struct app_stream app_stream;
/* A message (owned by the callee) for the owner; loop thread. */
typedef void (*app_stream_msg_fn)(void *owner, app_stream *s, ProtobufCMessage *m);
/* The stream ended; loop thread. The owner must still app__stream_detach. */
typedef void (*app_stream_end_fn)(void *owner, app_stream *s, grpc_status_code code,
                                  const char *details);

/* Starts method as a server stream for owner with APP_STREAM_WINDOW
 * credits. Returns RPCC_OK and *out (the owner's until app__stream_detach),
 * or an rpcc_err (nothing is called). */
int app__stream_start(struct app *a, app_method method, const ProtobufCMessage *req, void *owner,
                      app_stream_msg_fn on_msg, app_stream_end_fn on_end, app_stream **out);
/* Grants n more messages (call after a message was queued on the
 * WebSocket without BNET_E_FULL). */
void app__stream_credit(app_stream *s, uint32_t n);
/* Back-pressure for a stream feeding ws: grants one message for one the
 * owner has handled, at once while bnet_ws_queued(ws) is below
 * BNET_WS_HIGH_WATER, else holds it back for app__stream_resume. */
void app__stream_paced_credit(app_stream *s, const bnet_ws *ws);
/* Grants what app__stream_paced_credit held back (call from on_drain). */
void app__stream_resume(app_stream *s);
/* Messages delivered so far. */
uint64_t app__stream_delivered(const app_stream *s);
/* The owner gives the stream up: cancels it if running; no callback runs
 * for owner afterwards. s is invalid after the call. */
void app__stream_detach(app_stream *s);

/* -- answers (app.c) -- */

/* Sends a JSON answer (takes body; freed here) and counts it. */
void app__respond_json(struct app *a, bnet_req *r, app_route route, int status, char *body,
                       size_t len);
/* {"error": message, "code": code (NULL: omitted)}. */
void app__respond_error(struct app *a, bnet_req *r, app_route route, int status,
                        const char *message, const char *code);
/* Answers a finished call over HTTP: 200 with the response, or the mapped
 * status with {"error", "code", ...response}. */
void app__respond_call(app_call *c, bnet_req *r);
/* HTTP status, code name and message for a finished call (code and
 * message also for ok=false graph responses); status 200 means success. */
int app__call_outcome(const app_call *c, const char **code, char *msg, size_t msglen);
/* 1 when new work is accepted; else answers 503 "shutting down". */
int app__admit(struct app *a, bnet_req *r, app_route route);

/* Queues a text message (takes json; freed here) on w and counts it.
 * Returns bnet_ws_send's result. */
int app__ws_send(app_ws *w, char *json, size_t len);
/* bnet_ws_close; the registered codes 1012-1014 fall back to 1001 where
 * the network layer refuses them. Returns bnet_ws_close's result. */
int app__ws_close(app_ws *w, uint16_t code, const char *reason);
void app__ws_opened(struct app *a, app_ws *w, bnet_ws *ws, app_ws_kind kind);
void app__ws_closed(app_ws *w);
/* bnet on_upgrade for every WebSocket route: refuses 503 while draining. */
int app__ws_upgrade(const bnet_req *req, void *ud);

/* -- routes of each endpoint file -- */

int app__graph_routes(struct app *a);
int app__editor_routes(struct app *a);
int app__session_routes(struct app *a);
/* /mcp: allocates a->mcp (freed by app__mcp_destroy, also after a failed
 * start); app__mcp_tick runs with the app's tick (timeouts, keep-alives,
 * session expiry). */
int app__mcp_routes(struct app *a);
/* /comfy/runs (app_runs.c). */
int app__runs_routes(struct app *a);
/* HTTP /comfy/sessions/search and /comfy/sessions/{id}/export
 * (app_sessions_http.c). */
int app__sessions_http_routes(struct app *a);
void app__mcp_tick(struct app *a);
void app__mcp_destroy(struct app *a);

#endif

/* app: the application layer of comfyd-bridge. It serves the HTTP/JSON and
 * WebSocket protocols of docs/bridge-protocol.md on bnet and translates
 * them into comfyd.v1 gRPC calls to the core through rpcc. The server is
 * opaque (app_create ... app_destroy); its files and what they share are
 * listed in app_int.h, the header only they include.
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

#include "app_cfg.h"
#include "comfyd_error.h"
#include "comfyd/v1/graph.pb-c.h"
#include "comfyd/v1/session.pb-c.h"
#include "comfyd/v1/run.pb-c.h"

/* ---- limits ---- */

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
/* A patch sent as a preview also waits for the user's decision: the core's
 * CANVAS_DEFAULT_PREVIEW_MS and CANVAS_MAX_PREVIEW_MS. */
#define APP_DEFAULT_PREVIEW_TIMEOUT_MS 60000
#define APP_MAX_PREVIEW_TIMEOUT_MS 600000
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

/* ---- errors ---- */

/* The application layer's codes: its band of the one error space
 * (comfyd_error.h), with two positive answers of app_cfg_parse. */
typedef enum {
    APP_OK = CFD_OK,
    /* app_cfg_parse: --help or --version was given (print, exit 0). */
    APP_HELP = 1,
    APP_VERSION = 2,
    /* The client's input; answer 400 (WebSocket: an error message). */
    APP_E_JSON = CFD_ERR_APP_JSON,   /* not JSON: "invalid JSON: ..." */
    APP_E_INPUT = CFD_ERR_APP_INPUT, /* JSON that does not fit the request */
    /* Larger or deeper than the limits: 413 over HTTP. */
    APP_E_TOOBIG = CFD_ERR_APP_TOOBIG,
    /* A bad flag or argument (the message says which). */
    APP_E_ARG = CFD_ERR_INVALID,
    /* The server could not start (listen, token file, core client);
     * details are logged. */
    APP_E_START = CFD_ERR_APP_START,
    APP_E_NOMEM = CFD_ERR_NOMEM,
} app_err;

/* "help requested", "version requested", else cfd_strerror(err). */
const char *app_strerror(int err);

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

/* ---- status mapping (pure; app_status.c) ---- */

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
/* The graph error named name, as a failed call carries it in its trailing
 * metadata (comfyd_error.h's CFD_MD_GRAPH_ERROR:
 * "GRAPH_ERROR_CODE_NO_LIVE_CANVAS"; the short "NO_LIVE_CANVAS" too), or
 * UNSPECIFIED (0) for NULL, UNSPECIFIED and names that are no code. */
Comfyd__V1__GraphErrorCode app_graph_code_named(const char *name);
/* The deciding (first) graph error of an ExecuteResponse,
 * ExecuteBatchResponse or LeaseResponse whose ok is false, or NULL (other messages, ok
 * responses, or ok=false without an error). */
const Comfyd__V1__GraphError *app_first_graph_error(const ProtobufCMessage *resp);

/* ---- graph requests (pure; app_graphmsg.c) ---- */

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
    APP_OP_LEASE, /* Lease: take, renew, release or list leases on nodes */
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
 * op (APP_OP_BATCH, QUEUE, SAVE, LOAD, STATE, LEASE). Returns as above. */
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
/* The preview part of that deadline: apply_mode PREVIEW or PREVIEW_IF_SHOWN
 * waits preview_timeout_ms (0: APP_DEFAULT_PREVIEW_TIMEOUT_MS, at most
 * APP_MAX_PREVIEW_TIMEOUT_MS) for the user; 0 for any other request. */
int64_t app_graph_preview_ms(const ProtobufCMessage *msg);
/* The gRPC method name of op ("Execute", ...). */
const char *app_graph_method(app_op op);

/* ---- JSON answers (pure; app_graphmsg.c and app_json.c; allocate *out with
 * malloc, NUL-terminated) ---- */

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
/* The same with "provenance_json" (the core's JSON text of the canvas's
 * extra.comfyd.provenance, as a string) when provenance_json is not NULL
 * or empty: the tab keeps it in its workflow (docs/provenance.md). */
int app_editor_ack_prov_json(const char *kind, uint64_t revision, const char *provenance_json,
                             char **out, size_t *len);
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
    APP_SESS_FORK,
    APP_SESS_REVERT,
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

/* ---- metrics (pure; app_metrics.c) ---- */

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
    APP_ROUTE_ATTACHMENTS,
    APP_ROUTE_SESSIONS,
    APP_ROUTE_AUDIT,
    APP_ROUTE_LEASE,
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
    APP_M_UPLOAD_ATTACHMENT,
    APP_M_GET_ATTACHMENT,
    APP_M_COMPACT_SESSION,
    APP_M_SEARCH_SESSIONS,
    APP_M_EXPORT_SESSION,
    APP_M_FORK_SESSION,
    APP_M_REVERT_SESSION,
    APP_M_LIST_CHECKPOINTS,
    APP_M_GET_NODE_HISTORY,
    APP_M_LEASE,
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

/* The method a graph op calls and the HTTP route it is counted under
 * (APP_M__COUNT and APP_ROUTE__HTTP for ops out of range; app_graphmsg.c). */
app_method app_graph_op_method(app_op op);
app_route app_graph_op_route(app_op op);

#endif

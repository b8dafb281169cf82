/* app_int: what the application layer's files share and nothing else
 * links: the context the endpoints run in (app_ctx), JSON helpers
 * (app_json.c), calls and streams to the core (app_call.c, app_method.c),
 * answers and WebSocket bookkeeping (app_answer.c) and the routes of each
 * endpoint file. The server itself (app.c) is the only file that knows
 * struct app; the endpoints only see the app_ctx it hands them.
 *
 *   app.c          lifecycle, the core state poll, /healthz and /metrics;
 *   app_cfg.c      flags and environment (app_cfg.h);
 *   app_status.c   errors, gRPC/graph status -> HTTP status and code names;
 *   app_metrics.c  counters and their Prometheus text;
 *   app_graphmsg.c graph requests and answers as JSON (pure);
 *   app_graph.c    POST/GET /comfy/graph/... and WS /comfy/graph/ws;
 *   app_editor.c   WS /comfy/editor/ws (a browser tab's canvas);
 *   app_session.c  WS /comfy/session/ws;
 *   app_gcache.c   encoded get_graph answers per canvas and revision;
 *   app_runs.c     /comfy/runs;
 *   app_attach.c   POST/GET /comfy/attachments;
 *   app_mcp*.c     POST/DELETE /mcp (docs/mcp.md). */
#ifndef COMFYD_APP_INT_H
#define COMFYD_APP_INT_H

#include "app.h"
#include <stdatomic.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "bnet.h"
#include "jsonpb.h"
#include "rpcc.h"

/* Common head of every WebSocket's state (first member of each endpoint's
 * struct); linked into app_ctx.ws_list from on_open to on_close. */
typedef struct app_ws {
    struct app_ctx *a;
    bnet_ws *ws; /* valid until on_close returns */
    app_ws_kind kind;
    struct app_ws *prev, *next;
} app_ws;

/* What the endpoints share: the network server, the core client, the
 * counters and the WebSockets open. The server (app.c, whose struct app is
 * private) owns it and outlives every endpoint; loop thread only, except
 * inflight. */
typedef struct app_ctx {
    uv_loop_t *loop; /* borrowed */
    bnet *net;
    rpcc *core;
    int draining;         /* graceful shutdown begun: new work gets 503 */
    atomic_uint inflight; /* unary calls started and not yet finished */
    app_ws *ws_list;
    app_metrics m;
    struct app_mcp *mcp;       /* app_mcp.c's state */
    struct app_gcache *gcache; /* encoded get_graph answers (app_gcache.c) */
} app_ctx;

/* -- encoded graphs per canvas and revision (app_gcache.c) -- */

typedef struct app_gcache app_gcache;
/* An immutable encoding of one canvas's nodes and links at one revision,
 * reference counted (loop thread only). */
typedef struct app_gcache_ent app_gcache_ent;
int app_gcache_create(app_gcache **out);
void app_gcache_destroy(app_gcache *c);
/* A new reference to the entry held for canvas_id, or NULL. */
app_gcache_ent *app_gcache_get(app_gcache *c, const char *canvas_id);
uint64_t app_gcache_ent_revision(const app_gcache_ent *e);
void app_gcache_ent_unref(app_gcache_ent *e);
/* The entry whose text is g's nodes and links (a new reference; unref
 * it), or NULL when the caller must encode g itself (no canvas id, held
 * does not match, out of memory): a graph with nodes is encoded once per
 * canvas and revision (and kept); an unchanged one (known_revision
 * matched) is answered from held, the entry the request named. */
app_gcache_ent *app_gcache_members(app_gcache *c, const Comfyd__V1__Graph *g, app_gcache_ent *held);
/* The entry's text, "nodes":[...],"links":[...] (valid while the reference
 * is held), its length, and in *utf8 (may be NULL) whether it is UTF-8. */
const char *app_gcache_ent_text(const app_gcache_ent *e, size_t *len, int *utf8);
/* What an encoding of a Graph without nodes and links holds where they go:
 * the cached members replace it. A JSON string cannot hold it (its quotes
 * would be escaped), so its first match after a Graph's key is the spot. */
#define APP_GCACHE_MARKER "\"nodes\":[],\"links\":[]"

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
/* The jsonpb options of style (single-pass encodes into a buffer). */
void app__encode_opts(jsonpb_opts *o, app_enum_style style);
int app__encode(yajl_gen g, const ProtobufCMessage *m, app_enum_style style, int inside_map);
/* Graph answers: GraphErrorCode short upper-case ("TYPE_MISMATCH"), other
 * enums by full name (as the protocol shows "BATCH_MODE_ATOMIC"). */
extern const app_enum_style app__style_graph;
/* Session answers: every enum short lower-case ("idle", "user"), LogLevel
 * short upper-case ("INFO"), as seed 000 writes them. */
extern const app_enum_style app__style_session;

/* -- calls to the core (app.c) -- */

/* A caller name passed to the core (the core's PROVN_MAX_NAME). */
#define APP_MAX_CALLER 128
/* The HTTP header an HTTP caller names itself with, passed on to the core
 * as the gRPC metadata of the same name (provenance, leases). */
#define APP_MD_CALLER "comfyd-caller"
typedef struct app_call app_call;
/* Runs on the loop once the call is finished (or failed to start). */
typedef void (*app_call_done)(app_call *c);

struct app_call {
    struct app_ctx *a;
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
    /* The graph error a failed call carried (rpcc's graph_error), or 0. */
    Comfyd__V1__GraphErrorCode graph_code;
    ProtobufCMessage *resp;         /* owned by the call; NULL unless OK */
    struct app_gcache_ent *gc_held; /* get_graph: the text it named (a reference) */
    /* Who the call is made for, sent as metadata (the core records it as
     * the provenance of what the call changes): caller_key NULL for none,
     * else a static key such as "comfyd-mcp-client" with its value. */
    const char *caller_key;
    char caller[APP_MAX_CALLER + 1];
};

/* A zeroed call for method; aborts on out-of-memory (a small control
 * structure). */
app_call *app__call_new(app_ctx *a, app_method method, app_call_done done);
/* Starts the unary call (fail fast, timeout_ms deadline). c->done runs
 * exactly once on the loop, maybe before this returns (when the call
 * cannot start: UNAVAILABLE "too many calls in flight", INVALID_ARGUMENT
 * "request too large", ...); c is freed after done returns. */
void app__call_start(app_call *c, const ProtobufCMessage *req, int64_t timeout_ms);

/* Starts method for the HTTP request r (charged to its connection) and
 * answers r with app__respond_call when it finishes, unless r is gone by
 * then. */
void app__call_http(app_ctx *a, bnet_req *r, app_route route, app_method method,
                    const ProtobufCMessage *req, int64_t timeout_ms);
/* The same on behalf of caller (NULL or "": unnamed), sent to the core as
 * APP_MD_CALLER metadata. */
void app__call_http_as(app_ctx *a, bnet_req *r, app_route route, app_method method,
                       const ProtobufCMessage *req, int64_t timeout_ms, const char *caller);
/* The service that serves method (app_method.c); NULL when out of range. */
const ProtobufCServiceDescriptor *app__method_service(app_method m);

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
int app__stream_start(app_ctx *a, app_method method, const ProtobufCMessage *req, void *owner,
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
void app__respond_json(app_ctx *a, bnet_req *r, app_route route, int status, char *body,
                       size_t len);
/* {"error": message, "code": code (NULL: omitted)}. */
void app__respond_error(app_ctx *a, bnet_req *r, app_route route, int status, const char *message,
                        const char *code);
/* Answers a finished call over HTTP: 200 with the response, or the mapped
 * status with {"error", "code", ...response}. */
void app__respond_call(app_call *c, bnet_req *r);
/* HTTP status, code name and message for a finished call (code and
 * message also for ok=false graph responses); status 200 means success. */
int app__call_outcome(const app_call *c, const char **code, char *msg, size_t msglen);
/* 1 when new work is accepted; else answers 503 "shutting down". */
int app__admit(app_ctx *a, bnet_req *r, app_route route);

/* Queues a text message (takes json; freed here) on w and counts it.
 * Returns bnet_ws_send's result. */
int app__ws_send(app_ws *w, char *json, size_t len);
/* app__ws_send for a text the caller has checked is UTF-8 (not scanned
 * again: a 500-node graph is ~400 KB). */
int app__ws_send_checked(app_ws *w, char *json, size_t len);
/* bnet_ws_close; the registered codes 1012-1014 fall back to 1001 where
 * the network layer refuses them. Returns bnet_ws_close's result. */
int app__ws_close(app_ws *w, uint16_t code, const char *reason);
void app__ws_opened(app_ctx *a, app_ws *w, bnet_ws *ws, app_ws_kind kind);
void app__ws_closed(app_ws *w);
/* bnet on_upgrade for every WebSocket route: refuses 503 while draining. */
int app__ws_upgrade(const bnet_req *req, void *ud);

/* -- graph answers (app_graphmsg.c) -- */

/* app_graph_ws_ok for an ExecuteResponse whose graph's nodes and links are
 * already encoded (members, from app_gcache_ent_text): the same bytes, built
 * in one buffer, the graph's nodes not re-encoded or copied twice.
 * members_utf8 says members is UTF-8; *utf8 is then 1 when the whole
 * message is (the rest checked here), so the send need not scan it again. */
int app_graph_ws_ok_members(const char *request_id, const Comfyd__V1__ExecuteResponse *resp,
                            const char *members, size_t members_len, int members_utf8, char **out,
                            size_t *len, int *utf8);

/* -- routes of each endpoint file -- */

int app__graph_routes(app_ctx *a);
int app__editor_routes(app_ctx *a);
int app__session_routes(app_ctx *a);
/* /mcp: allocates a->mcp (freed by app__mcp_destroy, also after a failed
 * start); app__mcp_tick runs with the app's tick (timeouts, keep-alives,
 * session expiry). */
int app__mcp_routes(app_ctx *a);
/* /comfy/runs (app_runs.c). */
int app__runs_routes(app_ctx *a);
/* /comfy/attachments (app_attach.c). */
int app__attach_routes(app_ctx *a);
/* HTTP /comfy/sessions/search and /comfy/sessions/{id}/export (app_sessions_http.c). */
int app__sessions_http_routes(app_ctx *a);
void app__mcp_tick(app_ctx *a);
void app__mcp_destroy(app_ctx *a);

#endif

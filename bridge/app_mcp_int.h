/* app_mcp_int: what the files of the MCP endpoint share and nothing else
 * includes: limits, the exchange (one POST), its requests, the waits of
 * send_message and run, the endpoint's state, and the functions that cross
 * between the files:
 *
 *   app_mcp.c         dispatch of JSON-RPC methods, HTTP (POST/DELETE /mcp),
 *                     timers and lifecycle;
 *   app_mcp_table.c   the tool table;
 *   app_mcp_answer.c  answers (JSON or an SSE stream) and sessions;
 *   app_mcp_tools.c   the graph, workflow, canvas and session tools;
 *   app_mcp_send.c    send_message: a turn followed to its end;
 *   app_mcp_runs.c    run, get_run, cancel_run, view_output. */
#ifndef COMFYD_APP_MCP_INT_H
#define COMFYD_APP_MCP_INT_H

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "app_int.h"
#include "comfyd/v1/session.pb-c.h"
#include "log.h"
#include "mcp.h"
#include "text.h"
#include "toolspec.h"

#define MOD "mcp"

/* Sessions kept at once: a handful of clients each hold one. */
#define MCP_APP_MAX_SESSIONS 64
/* A session without requests for this long is forgotten (its client then
 * gets 404 and initializes again). */
#define MCP_APP_IDLE_MS (60LL * 60 * 1000)
/* Tool calls one session may have running (clients issue a few at once). */
#define MCP_APP_MAX_CALLS 16
/* send_message: how long to wait for the turn by default and at most. */
#define MCP_APP_WAIT_DEFAULT_MS 120000
#define MCP_APP_WAIT_MAX_MS 600000
/* Events of a turn held until SendMessage has named the turn. */
#define MCP_APP_MAX_EARLY_EVENTS 256
/* Bytes of reply text one send_message result carries. */
#define MCP_APP_MAX_REPLY_BYTES (512 * 1024)
/* Shortest prefix of an unknown node type name searched for close names. */
#define MCP_APP_MIN_PREFIX 3
/* A comment line on an idle SSE stream keeps proxies and clients from
 * timing it out. */
#define MCP_APP_KEEPALIVE_MS 15000

typedef enum {
    T_GET_GRAPH = 0,
    T_SEARCH,
    T_SCHEMA,
    T_VALIDATE,
    T_APPLY,
    T_QUEUE,
    T_SAVE,
    T_LOAD,
    T_CANVASES,
    T_SESSIONS,
    T_CREATE_SESSION,
    T_SEND,
    T_RUN,
    T_GET_RUN,
    T_CANCEL_RUN,
    T_VIEW_OUTPUT,
    T_SEARCH_SESSIONS,
    T_COMPACT_SESSION,
    T_EXPORT_SESSION,
    T_FORK_SESSION,
    T_REVERT_SESSION,
    T_LIST_CHECKPOINTS,
    T_NODE_HISTORY,
    T_LEASE,
    T__COUNT,
} tool_id;

typedef struct mcp_x mcp_x;
typedef struct wait wait;

/* One request of an exchange. */
typedef struct op {
    mcp_x *x;
    unsigned index;
    char id[MCP_MAX_ID_BYTES + 1];
    char *answer; /* the response's JSON text once finished */
    int done;
    /* tools/call */
    tool_id tool;
    yajl_val args; /* borrowed from the exchange's tree; NULL: {} */
    int step;
    int has_base;
    uint64_t base;
    char canvas[MCP_MAX_CANVAS_ID + 1]; /* the canvas a first attempt named */
    wait *w;                            /* send_message */
} op;

struct mcp_x {
    app_ctx *a;
    uint64_t req_id;
    yajl_val tree;
    char session[MCP_SESSION_ID_LEN + 1];
    char version[MCP_MAX_VERSION_BYTES + 1];
    int batch;
    int accept_json, accept_sse;
    int sse;         /* the answer is an event stream (started) */
    int new_session; /* answer with Mcp-Session-Id */
    unsigned pending;
    op *ops;
    unsigned n_ops;
};

/* A send_message waiting for its turn. */
struct wait {
    op *o;
    wait *prev, *next; /* app_mcp.waits */
    app_stream *stream;
    char session_id[128]; /* the core's session */
    char token[MCP_MAX_ID_BYTES + 1];
    uint64_t progress;
    ProtobufCMessage *send_req; /* SendMessageRequest, sent once subscribed */
    int subscribed, sent;
    uint64_t turn;
    int started;
    uint64_t deadline, last_write;
    ProtobufCMessage **early; /* SubscribeResponse */
    size_t n_early;
    /* the outcome */
    ProtobufCMessage **replies; /* SubscribeResponse of message_added */
    size_t n_replies;
    text_buf errors; /* JSON array of the error objects, empty when none */
    unsigned tool_calls;
    /* run: the run followed (WatchRun) and its latest state */
    int run;
    char prompt_id[TOOLSPEC_MAX_RUN_ID + 1];
    Comfyd__V1__Run *last_run;
    char last_line[256];
    /* elicit: an apply_patch previewed through the client
     * (app_mcp_elicit.c): the patch (an ExecuteBatchRequest), the id of
     * the elicitation/create request once asked, when it was asked, and
     * whether the accepted patch is on its way to the core. */
    int elicit;
    ProtobufCMessage *patch_req;
    char elicit_id[64];
    uint64_t asked_at;
    int applying;
    char canvas[MCP_MAX_CANVAS_ID + 1];
    uint64_t revision;
};

typedef struct app_mcp {
    mcp_sessions *sessions;
    char *schemas[T__COUNT]; /* generated input schemas */
    wait *waits;
    uint64_t last_expire;
} app_mcp;

/* One tool of the table (app_mcp_table.c): the graph tools take their name,
 * description and schema from toolspec.h instead. */
typedef struct tool_info {
    const char *name, *title, *description;
    int read_only, destructive, idempotent, open_world;
    int streams; /* answered as an event stream when the client accepts one */
    const ProtobufCMessageDescriptor *req; /* generated schemas: the request */
    mcp_schema_opts opts;
} tool_info;

extern const tool_info mx_tools[T__COUNT];
/* The toolspec.h definition of each tool, TOOLSPEC__COUNT where it has its
 * own. */
extern const toolspec_id mx_spec_of[T__COUNT];

/* -- app_mcp_answer.c -- */
int64_t mx_now_ms(const app_ctx *a);
bnet_req *mx_x_req(const mcp_x *x);
void mx_x_free(mcp_x *x);
void mx_on_abort(bnet_req *r, void *ud);
void mx_respond(app_ctx *a, bnet_req *r, int status, const char *session, const char *body,
                size_t len);
void mx_respond_rpc_error(app_ctx *a, bnet_req *r, int status, int code, const char *message);
void mx_sse_write(bnet_req *r, const char *json, size_t len);
int mx_x_start_sse(mcp_x *x);
void mx_x_send(mcp_x *x);
void mx_op_finish(op *o, char *answer);
void mx_op_error(op *o, int code, const char *message);
void mx_op_tool_result(op *o, char *result_json, int is_error);
void mx_op_tool_error(op *o, char *error_json);
mcp_session *mx_session_of(app_ctx *a, const char *id);
void mx_call_begin(op *o, app_call *c);
op *mx_call_end(app_call *c, mcp_session **sess);
void mx_observe(mcp_session *s, const char *canvas, uint64_t revision);

void mx_wait_free(app_mcp *m, wait *w);

/* -- app_mcp_tools.c -- */
char *mx_call_error(const app_call *c);
ProtobufCMessage *mx_decode_args(op *o, const ProtobufCMessageDescriptor *d,
                                 const char *const *skip, size_t n_skip);
void mx_start(op *o, app_method method, app_call_done done, const ProtobufCMessage *req,
              int64_t timeout_ms);
int64_t mx_tab_deadline(app_op op_kind, ProtobufCMessage *msg);
void mx_tool_get_graph(op *o);
void mx_tool_types(op *o, mcp_session *s);
void mx_tool_patch(op *o, mcp_session *s);
void mx_tool_message(op *o, mcp_session *s);

/* -- app_mcp_elicit.c -- */
/* 1 when o's apply_patch (req) is to be previewed through the MCP client:
 * apply_mode PREVIEW, a client that declared elicitation on a version that
 * has it, and an answer that can be an event stream. */
int mx_elicit_wanted(const op *o, const mcp_session *s, const Comfyd__V1__ExecuteBatchRequest *req);
/* Checks the patch (validate_only), asks the client, and applies it when
 * accepted. req is taken. */
void mx_elicit_start(op *o, Comfyd__V1__ExecuteBatchRequest *req);
/* A JSON-RPC response the client POSTed (msg: the whole message). */
void mx_elicit_response(app_ctx *a, const char *session, const char *id_json, yajl_val msg);
/* The tick of an elicit wait: its deadline passed, or the bridge drains. */
void mx_elicit_expire(wait *w);

/* -- app_mcp_send.c -- */
int mx_keep(ProtobufCMessage ***arr, size_t *n, ProtobufCMessage *m, size_t max);
void mx_progress(wait *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mx_send_finish(wait *w, const char *status, const char *detail);
void mx_send_error(wait *w, char *error_json);
void mx_tool_send(op *o, const char *token);

/* -- app_mcp_runs.c -- */
void mx_run_finish(wait *w, int timed_out);
void mx_tool_run(op *o, mcp_session *s, const char *token);
void mx_tool_run_read(op *o);
void mx_tool_view(op *o);

/* Helpers of the tool table and the tools, also reached by the unit test
 * (tests/unit/test_app_mcp.c). */
const char *mx_tool_name(tool_id t);
int mx_tool_find(const char *name, tool_id *out);
int mx_tools_list(const app_mcp *m, const char *version, char **out, size_t *len);
char *mx_encode_result(const ProtobufCMessage *m, int session_style);
const char *mx_state_name(Comfyd__V1__MessageState st);
int mx_run_over(Comfyd__V1__RunStatus st);

#endif

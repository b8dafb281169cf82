/* app_mcp: the MCP endpoint of comfyd-bridge, Streamable HTTP at /mcp
 * (docs/mcp.md).
 *
 * POST /mcp carries one JSON-RPC message (or, in protocol 2025-03-26 only,
 * a batch). initialize opens a session (Mcp-Session-Id); every later
 * request names it, and DELETE /mcp ends it. GET /mcp is 405: the server
 * sends nothing unprompted. Requests are answered with application/json,
 * or with a Server-Sent Events stream when the client accepts one and the
 * call is long (send_message: progress notifications, then the result).
 *
 * Security, on top of bnet's Host/Origin/token policy (net_policy.h): a
 * bearer token is required even with an allowed Origin, since an MCP
 * client is never a ComfyUI page.
 *
 * Tools. The six graph tools are the skills' tools (toolspec.h: the same
 * names, descriptions, argument schemas, checks and results), answered by
 * GraphService over gRPC instead of in-process. The others (workflows,
 * canvases, sessions) take arguments whose schemas are generated from the
 * comfyd.v1 request messages they are decoded into (mcp.h), and return the
 * response messages as JSON. Tool failures are results with isError;
 * protocol failures are JSON-RPC errors.
 *
 * Threads: loop thread only (gRPC answers arrive through app__call_* and
 * app__stream_*). An exchange (one POST) lives as long as its bnet request;
 * a call whose request is gone finds nothing and drops its answer, but
 * still settles its session's bookkeeping by session id. */
#include "app.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

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
    app *a;
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
};

typedef struct app_mcp {
    mcp_sessions *sessions;
    char *schemas[T__COUNT]; /* generated input schemas */
    wait *waits;
    uint64_t last_expire;
} app_mcp;

/* ==== tool table ==== */

static const mcp_field_doc docs_save[] = {
    {"canvas_id", "The canvas; omit it for the one you last read (or the focused one)."},
    {"name", "Letters, digits, space, '-', '_' and '.'; no path separators."},
    {"overwrite", "Replace a stored workflow of the same name."},
};
static const char *const req_save[] = {"name"};

static const mcp_field_doc docs_load[] = {
    {"canvas_id", "The canvas; omit it for the one you last read (or the focused one)."},
    {"name", "A stored workflow (see save_workflow)."},
    {"workflow_json", "A LiteGraph workflow as JSON text, loaded instead of name."},
};
static const char *const skip_load[] = {"idempotency_key", "timeout_ms"};

static const mcp_field_doc docs_search_sessions[] = {
    {"query",
     "Words to find (all must match); \"a phrase\", prefix*, a OR b, -excluded. At most 1024 "
     "bytes."},
    {"session_id", "Only this session; omitted: every session."},
    {"limit", "Hits to return, best first (0: 20; at most 200)."},
    {"kinds", "Only these kinds of entries; omitted: messages, summaries and memories."},
};
static const char *const req_search_sessions[] = {"query"};
static const mcp_field_doc docs_one_session[] = {
    {"session_id", "The session (create_session or list_sessions)."},
    {"format", "EXPORT_FORMAT_MARKDOWN (the default) or EXPORT_FORMAT_JSON."},
};
static const char *const req_one_session[] = {"session_id"};

static const mcp_field_doc docs_sessions[] = {
    {"page_size", "Sessions per page (0: the service's default)."},
    {"page_token", "next_page_token of the previous page."},
};

static const mcp_field_doc docs_create[] = {
    {"title", "A title for the session list."},
    {"config", "Provider and skills of the session (omitted fields: the service's defaults)."},
    {"config.provider", "The model provider, e.g. \"openai\" or \"echo\"."},
    {"config.model", "The provider's model name."},
    {"config.base_url", "An OpenAI-compatible endpoint."},
    {"config.system_prompt", "Instructions put before every turn."},
    {"config.active_skills", "Skills that answer each message."},
    {"config.token_delay_ms", "Echo provider: delay between streamed tokens."},
    {"config.vision", "Images (run outputs) to the model: \"auto\" (by the model name), \"on\" or "
                      "\"off\"."},
    {"session_id",
     "Optional: the id to give the session, a lower-case UUID of your choice (refused with "
     "ALREADY_EXISTS when taken). Omitted: a new one."},
};
static const char *const skip_create[] = {"api_key", "config.api_key_set"};

static const mcp_field_doc docs_send[] = {
    {"session_id", "The session (create_session or list_sessions)."},
    {"content", "The message, at most 64 KiB of text."},
    {"skills", "Run only these skills for this message instead of the active ones."},
    {"client_message_id",
     "A key of your choice: a retry with the same key returns the stored message instead of "
     "running it twice."},
};
static const char *const req_send[] = {"session_id", "content"};
#define WAIT_PROP                                                                                  \
    "\"wait_ms\":{\"type\":\"integer\",\"minimum\":1000,\"maximum\":600000,\"description\":"       \
    "\"How long to wait for the replies (default 120000). The turn goes on after a timeout; "      \
    "list_sessions shows it.\"}"

typedef struct tool_info {
    const char *name, *title, *description;
    int read_only, destructive, idempotent, open_world;
    int streams; /* answered as an event stream when the client accepts one */
    const ProtobufCMessageDescriptor *req; /* generated schemas: the request */
    mcp_schema_opts opts;
} tool_info;

#define DOCS(d) d, sizeof d / sizeof d[0]
static const tool_info tools[T__COUNT] = {
    [T_GET_GRAPH] = {NULL, "Read the canvas", NULL, 1, 0, 1, 0, 0, NULL, {0}},
    [T_SEARCH] = {NULL, "Search node types", NULL, 1, 0, 1, 0, 0, NULL, {0}},
    [T_SCHEMA] = {NULL, "Node type schema", NULL, 1, 0, 1, 0, 0, NULL, {0}},
    [T_VALIDATE] = {NULL, "Validate a patch", NULL, 1, 0, 1, 0, 0, NULL, {0}},
    [T_APPLY] = {NULL, "Apply a patch", NULL, 0, 1, 0, 0, 0, NULL, {0}},
    [T_QUEUE] = {NULL, "Queue the workflow", NULL, 0, 0, 0, 0, 0, NULL, {0}},
    [T_SAVE] = {"save_workflow",
                "Save the workflow",
                "Stores a canvas's workflow under a name in the workflow store and returns the "
                "name, the revision saved and its size. Refused when the name exists unless "
                "overwrite is set.",
                0,
                1,
                1,
                0,
                0,
                &comfyd__v1__save_request__descriptor,
                {DOCS(docs_save), NULL, 0, req_save, 1, NULL}},
    [T_LOAD] = {"load_workflow",
                "Load a workflow",
                "Replaces a canvas's workflow with a stored one (by name) or with the given "
                "LiteGraph JSON, as one undoable step in the tab, and returns the new revision "
                "and node count.",
                0,
                1,
                1,
                0,
                0,
                &comfyd__v1__load_request__descriptor,
                {DOCS(docs_load), skip_load, 2, NULL, 0, NULL}},
    [T_CANVASES] = {"list_canvases",
                    "List canvases",
                    "Lists the canvases (ComfyUI tabs) the service knows, most recently focused "
                    "first: id, title, revision, whether a tab is attached and has focus, node "
                    "count.",
                    1,
                    0,
                    1,
                    0,
                    0,
                    &comfyd__v1__list_canvases_request__descriptor,
                    {NULL, 0, NULL, 0, NULL, 0, NULL}},
    [T_SESSIONS] = {"list_sessions",
                    "List agent sessions",
                    "Lists the agent sessions: id, title, configuration, status (idle, working, "
                    "error), message count and queued turns.",
                    1,
                    0,
                    1,
                    0,
                    0,
                    &comfyd__v1__list_sessions_request__descriptor,
                    {DOCS(docs_sessions), NULL, 0, NULL, 0, NULL}},
    [T_CREATE_SESSION] = {"create_session",
                          "Create an agent session",
                          "Creates an agent session whose skills work on the canvases; returns "
                          "the session with its id.",
                          0,
                          0,
                          0,
                          1,
                          0,
                          &comfyd__v1__create_session_request__descriptor,
                          {DOCS(docs_create), skip_create, 2, NULL, 0, NULL}},
    [T_SEND] = {"send_message",
                "Send a message to a session",
                "Sends a message to an agent session, waits for the turn to finish and returns "
                "each skill's reply. With a progress token, progress notifications follow the "
                "turn (skills starting, tool calls, replies).",
                0,
                0,
                0,
                1,
                1,
                &comfyd__v1__send_message_request__descriptor,
                {DOCS(docs_send), NULL, 0, req_send, 2, WAIT_PROP}},
    [T_RUN] = {NULL, "Run the workflow", NULL, 0, 0, 0, 1, 1, NULL, {0}},
    [T_GET_RUN] = {NULL, "Read a run", NULL, 1, 0, 1, 0, 0, NULL, {0}},
    [T_CANCEL_RUN] = {NULL, "Cancel a run", NULL, 0, 1, 1, 0, 0, NULL, {0}},
    [T_VIEW_OUTPUT] = {NULL, "View an output image", NULL, 1, 0, 1, 0, 0, NULL, {0}},
    [T_SEARCH_SESSIONS] = {"search_sessions",
                           "Search agent sessions",
                           "Full-text search (BM25) over every session's messages, the "
                           "summaries of compacted turns and the skills' memories. Returns hits "
                           "best first with the session, a snippet (matches in [brackets]) and "
                           "the message or memory id.",
                           1,
                           0,
                           1,
                           0,
                           0,
                           &comfyd__v1__search_sessions_request__descriptor,
                           {DOCS(docs_search_sessions), NULL, 0, req_search_sessions, 1, NULL}},
    [T_COMPACT_SESSION] = {"compact_session",
                           "Compact a session",
                           "Summarises a session's older turns now (the newest turn is kept), "
                           "as a turn does by itself when the history outgrows the model's "
                           "context window. The originals stay stored. Refused while a turn "
                           "runs.",
                           0,
                           0,
                           0,
                           0,
                           0,
                           &comfyd__v1__compact_session_request__descriptor,
                           {DOCS(docs_one_session), NULL, 0, req_one_session, 1, NULL}},
    [T_EXPORT_SESSION] = {"export_session",
                          "Export a session",
                          "Returns a session with its whole history (summaries included) as a "
                          "Markdown or JSON document.",
                          1,
                          0,
                          1,
                          0,
                          0,
                          &comfyd__v1__export_session_request__descriptor,
                          {DOCS(docs_one_session), NULL, 0, req_one_session, 1, NULL}},
};

static const toolspec_id spec_of[T__COUNT] = {
    [T_GET_GRAPH] = TOOLSPEC_GET_GRAPH,
    [T_SEARCH] = TOOLSPEC_SEARCH_NODE_TYPES,
    [T_SCHEMA] = TOOLSPEC_GET_NODE_SCHEMA,
    [T_VALIDATE] = TOOLSPEC_VALIDATE_PATCH,
    [T_APPLY] = TOOLSPEC_APPLY_PATCH,
    [T_QUEUE] = TOOLSPEC_QUEUE,
    [T_SAVE] = TOOLSPEC__COUNT,
    [T_LOAD] = TOOLSPEC__COUNT,
    [T_CANVASES] = TOOLSPEC__COUNT,
    [T_SESSIONS] = TOOLSPEC__COUNT,
    [T_CREATE_SESSION] = TOOLSPEC__COUNT,
    [T_SEND] = TOOLSPEC__COUNT,
    [T_RUN] = TOOLSPEC_RUN,
    [T_GET_RUN] = TOOLSPEC_GET_RUN,
    [T_CANCEL_RUN] = TOOLSPEC_CANCEL_RUN,
    [T_VIEW_OUTPUT] = TOOLSPEC_VIEW_OUTPUT,
    [T_SEARCH_SESSIONS] = TOOLSPEC__COUNT,
    [T_COMPACT_SESSION] = TOOLSPEC__COUNT,
    [T_EXPORT_SESSION] = TOOLSPEC__COUNT,
};

static const char *tool_name(tool_id t)
{
    const toolspec_def *d = toolspec_get(spec_of[t]);
    return d ? d->name : tools[t].name;
}

static int tool_find(const char *name, tool_id *out)
{
    for (int t = 0; t < T__COUNT; t++)
        if (!strcmp(tool_name((tool_id)t), name)) {
            *out = (tool_id)t;
            return 1;
        }
    return 0;
}

static int tools_list(const app_mcp *m, const char *version, char **out, size_t *len)
{
    mcp_tool list[T__COUNT];
    for (int t = 0; t < T__COUNT; t++) {
        const toolspec_def *d = toolspec_get(spec_of[t]);
        list[t] = (mcp_tool){
            .name = tool_name((tool_id)t),
            .title = tools[t].title,
            .description = d ? d->description : tools[t].description,
            .input_schema = d ? d->parameters_json : m->schemas[t],
            .output_schema = NULL,
            .read_only = d ? d->read_only : tools[t].read_only,
            .destructive = tools[t].destructive,
            .idempotent = tools[t].idempotent,
            .open_world = tools[t].open_world,
        };
    }
    return mcp_tools_list_result(list, T__COUNT, version, out, len);
}

/* ==== answers ==== */

static int64_t now_ms(const app *a)
{
    return (int64_t)uv_now(a->loop);
}

static bnet_req *x_req(const mcp_x *x)
{
    return bnet_req_find(x->a->net, x->req_id);
}

static void wait_free(app_mcp *m, wait *w);

static void x_free(mcp_x *x)
{
    app_mcp *m = x->a->mcp;
    for (unsigned i = 0; i < x->n_ops; i++) {
        if (x->ops[i].w) wait_free(m, x->ops[i].w);
        free(x->ops[i].answer);
    }
    free(x->ops);
    yajl_tree_free(x->tree);
    free(x);
}

static void on_abort(bnet_req *r, void *ud)
{
    (void)r;
    x_free(ud);
}

/* A complete answer for the exchange's request with extra headers. */
static void respond(app *a, bnet_req *r, int status, const char *session, const char *body,
                    size_t len)
{
    bnet_header h[1];
    size_t nh = 0;
    if (session && *session) h[nh++] = (bnet_header){"Mcp-Session-Id", session};
    int rc = bnet_respond(r, status, len ? "application/json" : NULL, h, nh, body, len);
    if (rc != BNET_OK) {
        LOG_W(MOD, "cannot answer: %s", bnet_strerror(rc));
        if (bnet_respond_error(r, 500, "internal error") != BNET_OK) return;
        status = 500;
    }
    app_metrics_http(&a->m, APP_ROUTE_MCP, status);
}

/* An HTTP error whose body is a JSON-RPC error without an id. */
static void respond_rpc_error(app *a, bnet_req *r, int status, int code, const char *message)
{
    char *body = NULL;
    size_t len = 0;
    if (mcp_error(NULL, code, message, NULL, &body, &len) != MCP_OK) {
        bnet_respond_error(r, 500, "out of memory");
        app_metrics_http(&a->m, APP_ROUTE_MCP, 500);
        return;
    }
    respond(a, r, status, NULL, body, len);
    free(body);
}

static void sse_write(bnet_req *r, const char *json, size_t len)
{
    char *ev = NULL;
    size_t n = 0;
    if (mcp_sse_event(json, len, &ev, &n) != MCP_OK) return;
    int rc = bnet_stream_write(r, ev, n);
    if (rc != BNET_OK) LOG_D(MOD, "event not queued: %s", bnet_strerror(rc));
    free(ev);
}

/* Starts the event stream of a single-request exchange. Returns 0 or -1
 * (then the answer goes out as JSON). */
static int x_start_sse(mcp_x *x)
{
    bnet_req *r = x_req(x);
    if (!r || x->sse) return r ? 0 : -1;
    bnet_header h[3] = {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}};
    size_t nh = 2;
    if (x->new_session) h[nh++] = (bnet_header){"Mcp-Session-Id", x->session};
    if (bnet_stream_start(r, 200, "text/event-stream", h, nh) != BNET_OK) return -1;
    x->sse = 1;
    app_metrics_http(&x->a->m, APP_ROUTE_MCP, 200);
    return 0;
}

/* Sends what the exchange collected and frees it. */
static void x_send(mcp_x *x)
{
    bnet_req *r = x_req(x);
    if (!r) {
        x_free(x);
        return;
    }
    bnet_req_set_abort(r, NULL, NULL);
    bnet_req_set_data(r, NULL);
    size_t total = 0, n_answers = 0;
    for (unsigned i = 0; i < x->n_ops; i++)
        if (x->ops[i].answer) {
            total += strlen(x->ops[i].answer) + 1;
            n_answers++;
        }
    if (!n_answers) {
        if (x->sse)
            bnet_stream_end(r);
        else
            respond(x->a, r, 202, NULL, NULL, 0);
        x_free(x);
        return;
    }
    if (x->sse || (!x->batch && !x->accept_json)) {
        if (!x->sse && x_start_sse(x) != 0) {
            respond(x->a, r, 500, NULL, NULL, 0);
            x_free(x);
            return;
        }
        for (unsigned i = 0; i < x->n_ops; i++)
            if (x->ops[i].answer) sse_write(r, x->ops[i].answer, strlen(x->ops[i].answer));
        bnet_stream_end(r);
        x_free(x);
        return;
    }
    char *body = malloc(total + 2);
    if (!body) {
        bnet_respond_error(r, 500, "out of memory");
        x_free(x);
        return;
    }
    size_t len = 0;
    if (x->batch) body[len++] = '[';
    for (unsigned i = 0, k = 0; i < x->n_ops; i++) {
        if (!x->ops[i].answer) continue;
        if (k++) body[len++] = ',';
        size_t n = strlen(x->ops[i].answer);
        memcpy(body + len, x->ops[i].answer, n);
        len += n;
    }
    if (x->batch) body[len++] = ']';
    respond(x->a, r, 200, x->new_session ? x->session : NULL, body, len);
    free(body);
    x_free(x);
}

/* Finishes op with its answer (taken; NULL: no answer, e.g. cancelled). */
static void op_finish(op *o, char *answer)
{
    if (o->done) {
        free(answer);
        return;
    }
    o->done = 1;
    o->answer = answer;
    mcp_x *x = o->x;
    if (--x->pending == 0) x_send(x);
}

static void op_error(op *o, int code, const char *message)
{
    char *json = NULL;
    size_t len = 0;
    mcp_error(o->id, code, message, NULL, &json, &len);
    op_finish(o, json);
}

/* A tools/call result from the tool's JSON text (taken). The text goes
 * out as content and, being an object, as structuredContent. */
static void op_tool_result(op *o, char *result_json, int is_error)
{
    if (!result_json) {
        op_error(o, MCP_RPC_INTERNAL_ERROR, "out of memory");
        return;
    }
    char *res = NULL, *json = NULL;
    size_t len = 0;
    if (mcp_tool_result(result_json, result_json, is_error, o->x->version, &res, &len) != MCP_OK ||
        mcp_result(o->id, res, &json, &len) != MCP_OK) {
        free(res);
        free(result_json);
        op_error(o, MCP_RPC_INTERNAL_ERROR, "the result cannot be encoded");
        return;
    }
    free(res);
    free(result_json);
    op_finish(o, json);
}

static void op_tool_error(op *o, char *error_json)
{
    op_tool_result(o, error_json, 1);
}

/* ==== sessions ==== */

static mcp_session *session_of(app *a, const char *id)
{
    return id && *id ? mcp_sessions_find(a->mcp->sessions, id, strlen(id), now_ms(a)) : NULL;
}

/* A call of op's session starts: counted so that a busy session is not
 * evicted. c->text names the session for the answer. */
static void call_begin(op *o, app_call *c)
{
    mcp_session *s = session_of(o->x->a, o->x->session);
    if (s) s->inflight++;
    c->req_id = o->x->req_id;
    c->route = APP_ROUTE_MCP;
    c->tag = (int)o->index;
    c->text = text_dup(o->x->session);
}

/* The op of a finished call, or NULL when its client is gone; settles the
 * session's count either way. */
static op *call_end(app_call *c, mcp_session **sess)
{
    mcp_session *s = session_of(c->a, c->text);
    if (s && s->inflight) s->inflight--;
    if (sess) *sess = s;
    bnet_req *r = bnet_req_find(c->a->net, c->req_id);
    mcp_x *x = r ? bnet_req_data(r) : NULL;
    if (!x || (unsigned)c->tag >= x->n_ops) return NULL;
    op *o = &x->ops[c->tag];
    return o->done ? NULL : o;
}

static void observe(mcp_session *s, const char *canvas, uint64_t revision)
{
    if (!s || !canvas || !*canvas || strlen(canvas) > MCP_MAX_CANVAS_ID) return;
    s->has_view = 1;
    snprintf(s->canvas, sizeof s->canvas, "%s", canvas);
    s->revision = revision;
}

/* ==== tool calls ==== */

/* The error result of a failed call: the graph error's code and hint when
 * the core named one, else the gRPC status. */
static char *call_error(const app_call *c)
{
    const char *code = NULL;
    char msg[RPCC_MAX_DETAILS_BYTES + 64];
    app__call_outcome(c, &code, msg, sizeof msg);
    Comfyd__V1__GraphErrorCode gc = app_graph_code_in(c->details);
    if (!gc && c->code == GRPC_STATUS_OK) {
        const Comfyd__V1__GraphError *ge = app_first_graph_error(c->resp);
        if (ge) gc = ge->code;
    }
    return toolspec_error(code ? code : "INTERNAL", gc ? toolspec_hint(gc) : NULL, "%s", msg);
}

/* A response message as the tool's result (enums as the HTTP protocol
 * writes them). */
static char *encode_result(const ProtobufCMessage *m, int session_style)
{
    yajl_gen g = app__gen();
    if (!g) return NULL;
    if (app__encode(g, m, session_style ? app__style_session : app__style_graph, 0) != 0) {
        yajl_gen_free(g);
        return NULL;
    }
    char *out = NULL;
    size_t len = 0;
    return app__gen_finish(g, &out, &len) == APP_OK ? out : NULL;
}

/* Decodes the tool's arguments (skip: keys left out) as a message of d.
 * Returns it, or NULL after finishing op with an INVALID_ARGUMENT error. */
static ProtobufCMessage *decode_args(op *o, const ProtobufCMessageDescriptor *d,
                                     const char *const *skip, size_t n_skip)
{
    ProtobufCMessage *msg = NULL;
    char err[512] = "";
    int rc;
    if (o->args) {
        rc = app__decode_obj(o->args, skip, n_skip, NULL, NULL, d, 0, &msg, err, sizeof err);
    } else {
        /* No arguments: the message of {} (app__decode_gen takes g). */
        yajl_gen g = app__gen();
        if (!g) {
            rc = APP_E_NOMEM;
        } else if (yajl_gen_map_open(g) != yajl_gen_status_ok ||
                   yajl_gen_map_close(g) != yajl_gen_status_ok) {
            yajl_gen_free(g);
            rc = APP_E_NOMEM;
        } else {
            rc = app__decode_gen(g, d, 0, &msg, err, sizeof err);
        }
    }
    if (rc == APP_OK) return msg;
    if (rc == APP_E_NOMEM)
        op_tool_error(o, toolspec_error("INTERNAL", NULL, "out of memory"));
    else
        op_tool_error(o, toolspec_error("INVALID_ARGUMENT", NULL, "%s", err));
    return NULL;
}

static void set_str(char **field, const char *s)
{
    if (*field && *field != protobuf_c_empty_string) free(*field);
    *field = text_dup(s);
}

static void start(op *o, app_method method, app_call_done done, const ProtobufCMessage *req,
                  int64_t timeout_ms)
{
    app_call *c = app__call_new(o->x->a, method, done);
    call_begin(o, c);
    app__call_start(c, req, timeout_ms);
}

/* The deadline of a call that waits for a tab (APP_OP_* requests). */
static int64_t tab_deadline(app_op op_kind, ProtobufCMessage *msg)
{
    app_graph_req gr = {op_kind, msg, NULL};
    return app_graph_deadline_ms(&gr);
}

/* -- get_graph -- */

static void done_get_graph(app_call *c)
{
    mcp_session *s;
    op *o = call_end(c, &s);
    if (!o) return;
    const Comfyd__V1__ExecuteResponse *r = (const Comfyd__V1__ExecuteResponse *)c->resp;
    if (c->code != GRPC_STATUS_OK || !r || !r->ok || !r->graph) {
        op_tool_error(o, call_error(c));
        return;
    }
    const char *canvas_id;
    int full;
    int64_t ids[TOOLSPEC_MAX_NODE_IDS];
    size_t n_ids = 0;
    char *res = NULL;
    if (o->args && toolspec_get_graph_args(o->args, &canvas_id, &full, ids, &n_ids, &res)) {
        op_tool_error(o, res);
        return;
    }
    if (!o->args) full = 0;
    if (full) {
        if (toolspec_graph_full(r->graph, ids, n_ids, &res) != 0) {
            op_tool_error(o, res ? res : toolspec_error("INTERNAL", NULL, "out of memory"));
            return;
        }
    } else {
        res = toolspec_graph_outline(r->graph, ids, n_ids);
    }
    /* A read of the whole canvas is what later patches are based on. */
    if (!n_ids) observe(s, r->graph->canvas_id, r->graph->revision);
    op_tool_result(o, res, 0);
}

static void tool_get_graph(op *o)
{
    const char *canvas_id = "";
    int full;
    int64_t ids[TOOLSPEC_MAX_NODE_IDS];
    size_t n_ids;
    char *err = NULL;
    if (o->args && toolspec_get_graph_args(o->args, &canvas_id, &full, ids, &n_ids, &err)) {
        op_tool_error(o, err);
        return;
    }
    Comfyd__V1__ExecuteRequest req = COMFYD__V1__EXECUTE_REQUEST__INIT;
    Comfyd__V1__Command cmd = COMFYD__V1__COMMAND__INIT;
    Comfyd__V1__GetGraphCommand gg = COMFYD__V1__GET_GRAPH_COMMAND__INIT;
    cmd.command_case = COMFYD__V1__COMMAND__COMMAND_GET_GRAPH;
    cmd.get_graph = &gg;
    req.command = &cmd;
    req.canvas_id = (char *)canvas_id;
    start(o, APP_M_EXECUTE, done_get_graph, &req.base, APP_UNARY_TIMEOUT_MS);
}

/* -- search_node_types and get_node_schema -- */

static void tool_types(op *o, mcp_session *s);

/* A graph error on the canvas the session last read: the canvas is gone,
 * so read the service's schema instead (as the skills' tools do). */
static int retry_without_canvas(op *o, const app_call *c)
{
    if (!o->canvas[0] || o->step != 0) return 0;
    if (!app_graph_code_in(c->details)) return 0;
    o->step = 1;
    o->canvas[0] = '\0';
    tool_types(o, NULL);
    return 1;
}

static void done_search(app_call *c)
{
    op *o = call_end(c, NULL);
    if (!o) return;
    if (c->code != GRPC_STATUS_OK || !c->resp) {
        if (!retry_without_canvas(o, c)) op_tool_error(o, call_error(c));
        return;
    }
    op_tool_result(o, toolspec_search_result((const Comfyd__V1__ListNodeTypesResponse *)c->resp),
                   0);
}

/* Close names for an unknown node type: a search for the name, then for
 * shorter prefixes of it ("KSamplr" finds KSampler through "KSampl"). */
static void suggest(op *o, size_t prefix);

static void done_suggest(app_call *c)
{
    op *o = call_end(c, NULL);
    if (!o) return;
    const char *name = "";
    char *err = NULL;
    if (o->args) toolspec_schema_args(o->args, &name, &err);
    free(err);
    const Comfyd__V1__ListNodeTypesResponse *r = (const Comfyd__V1__ListNodeTypesResponse *)c->resp;
    size_t found = r && c->code == GRPC_STATUS_OK ? r->n_node_types : 0;
    size_t prefix = (size_t)o->base;
    if (!found && prefix > MCP_APP_MIN_PREFIX) {
        /* A shorter prefix, cut on a UTF-8 boundary. */
        size_t next = prefix * 3 / 4;
        if (next < MCP_APP_MIN_PREFIX) next = MCP_APP_MIN_PREFIX;
        while (next > 0 && ((unsigned char)name[next] & 0xC0) == 0x80)
            next--;
        if (next && next < prefix) {
            suggest(o, next);
            return;
        }
    }
    const char *sugg[TOOLSPEC_MAX_SUGGESTIONS];
    size_t n = 0;
    for (size_t i = 0; i < found && n < TOOLSPEC_MAX_SUGGESTIONS; i++)
        sugg[n++] = r->node_types[i]->name;
    op_tool_error(o, toolspec_unknown_type(name, sugg, n));
}

static void suggest(op *o, size_t prefix)
{
    const char *name = "";
    char *err = NULL;
    toolspec_schema_args(o->args, &name, &err);
    free(err);
    char *q = text_dupn(name, prefix);
    o->base = prefix; /* the prefix length searched last */
    Comfyd__V1__ListNodeTypesRequest req = COMFYD__V1__LIST_NODE_TYPES_REQUEST__INIT;
    req.canvas_id = o->canvas;
    req.query = q;
    req.limit = TOOLSPEC_MAX_SUGGESTIONS;
    start(o, APP_M_LIST_NODE_TYPES, done_suggest, &req.base, APP_UNARY_TIMEOUT_MS);
    free(q);
}

static void done_schema(app_call *c)
{
    op *o = call_end(c, NULL);
    if (!o) return;
    if (c->code != GRPC_STATUS_OK || !c->resp) {
        if (!retry_without_canvas(o, c)) op_tool_error(o, call_error(c));
        return;
    }
    const Comfyd__V1__ListNodeTypesResponse *r = (const Comfyd__V1__ListNodeTypesResponse *)c->resp;
    if (r->n_node_types) {
        op_tool_result(o, toolspec_schema_result(r->node_types[0]), 0);
        return;
    }
    /* Unknown: close names by a search (the edit distance of the skills'
     * tools needs the schema in-process). */
    const char *name = "";
    char *err = NULL;
    toolspec_schema_args(o->args, &name, &err);
    free(err);
    suggest(o, strlen(name));
}

static void tool_types(op *o, mcp_session *s)
{
    if (o->step == 0 && s && s->has_view) snprintf(o->canvas, sizeof o->canvas, "%s", s->canvas);
    if (o->tool == T_SCHEMA) {
        const char *name;
        char *err = NULL;
        if (!o->args) {
            op_tool_error(o, toolspec_error("INVALID_ARGUMENT", NULL, "node_type is required"));
            return;
        }
        if (toolspec_schema_args(o->args, &name, &err)) {
            op_tool_error(o, err);
            return;
        }
        Comfyd__V1__ListNodeTypesRequest req = COMFYD__V1__LIST_NODE_TYPES_REQUEST__INIT;
        char *names[1] = {(char *)name};
        req.canvas_id = o->canvas;
        req.names = names;
        req.n_names = 1;
        start(o, APP_M_LIST_NODE_TYPES, done_schema, &req.base, APP_UNARY_TIMEOUT_MS);
        return;
    }
    Comfyd__V1__ListNodeTypesRequest *req = (Comfyd__V1__ListNodeTypesRequest *)decode_args(
        o, &comfyd__v1__list_node_types_request__descriptor, NULL, 0);
    if (!req) return;
    uint32_t limit = req->limit ? req->limit : TOOLSPEC_SEARCH_DEFAULT;
    req->limit = limit > TOOLSPEC_SEARCH_MAX ? TOOLSPEC_SEARCH_MAX : limit;
    set_str(&req->canvas_id, o->canvas);
    start(o, APP_M_LIST_NODE_TYPES, done_search, &req->base, APP_UNARY_TIMEOUT_MS);
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

/* -- validate_patch and apply_patch -- */

static void done_patch(app_call *c)
{
    mcp_session *s;
    op *o = call_end(c, &s);
    if (!o) return;
    const Comfyd__V1__ExecuteBatchResponse *r = (const Comfyd__V1__ExecuteBatchResponse *)c->resp;
    if (c->code != GRPC_STATUS_OK || !r) {
        op_tool_error(o, call_error(c));
        return;
    }
    int validate_only = o->tool == T_VALIDATE;
    char *res = toolspec_patch_result(r, validate_only, o->has_base, o->base);
    /* The client knows the state after its own patch. */
    if (!validate_only && r->ok) observe(s, r->canvas_id, r->revision);
    op_tool_result(o, res, !r->ok && !validate_only);
}

static void tool_patch(op *o, mcp_session *s)
{
    Comfyd__V1__ExecuteBatchRequest *req = (Comfyd__V1__ExecuteBatchRequest *)decode_args(
        o, &comfyd__v1__execute_batch_request__descriptor, NULL, 0);
    if (!req) return;
    if (req->n_commands == 0) {
        protobuf_c_message_free_unpacked(&req->base, NULL);
        op_tool_error(o, toolspec_no_commands());
        return;
    }
    /* Without a base the patch is checked against what the client last
     * saw of that canvas, and sent there when it names none. */
    const char *named = req->canvas_id ? req->canvas_id : "";
    if (!req->base_revision && s && s->has_view && (!*named || !strcmp(named, s->canvas))) {
        req->base_revision = malloc(sizeof *req->base_revision);
        if (!req->base_revision) {
            protobuf_c_message_free_unpacked(&req->base, NULL);
            op_tool_error(o, toolspec_error("INTERNAL", NULL, "out of memory"));
            return;
        }
        google__protobuf__uint64_value__init(req->base_revision);
        req->base_revision->value = s->revision;
        if (!*named) set_str(&req->canvas_id, s->canvas);
    }
    req->validate_only = o->tool == T_VALIDATE;
    req->timeout_ms = 0;
    o->has_base = req->base_revision != NULL;
    o->base = o->has_base ? req->base_revision->value : 0;
    start(o, APP_M_EXECUTE_BATCH, done_patch, &req->base, tab_deadline(APP_OP_BATCH, &req->base));
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

/* -- queue, save, load, canvases, sessions -- */

static void done_message(app_call *c)
{
    mcp_session *s;
    op *o = call_end(c, &s);
    if (!o) return;
    const char *code;
    char msg[RPCC_MAX_DETAILS_BYTES + 64];
    if (app__call_outcome(c, &code, msg, sizeof msg) != 200 || !c->resp) {
        op_tool_error(o, call_error(c));
        return;
    }
    if (o->tool == T_LOAD && s) {
        /* The client has not seen what was loaded. */
        const Comfyd__V1__LoadResponse *r = (const Comfyd__V1__LoadResponse *)c->resp;
        if (s->has_view && r->canvas_id && !strcmp(r->canvas_id, s->canvas)) s->has_view = 0;
    }
    int session_style = o->tool == T_SESSIONS || o->tool == T_CREATE_SESSION ||
                        o->tool == T_SEARCH_SESSIONS || o->tool == T_COMPACT_SESSION ||
                        o->tool == T_EXPORT_SESSION;
    char *res = encode_result(c->resp, session_style);
    op_tool_result(o, res ? res : toolspec_error("INTERNAL", NULL, "out of memory"), 0);
}

static void tool_message(op *o, mcp_session *s)
{
    static const struct {
        const ProtobufCMessageDescriptor *d;
        app_method method;
        int op_kind; /* the APP_OP_ of calls that wait for a tab, else -1 */
    } how[T__COUNT] = {
        [T_QUEUE] = {&comfyd__v1__queue_request__descriptor, APP_M_QUEUE, APP_OP_QUEUE},
        [T_SAVE] = {&comfyd__v1__save_request__descriptor, APP_M_SAVE, -1},
        [T_LOAD] = {&comfyd__v1__load_request__descriptor, APP_M_LOAD, APP_OP_LOAD},
        [T_CANVASES] = {&comfyd__v1__list_canvases_request__descriptor, APP_M_LIST_CANVASES, -1},
        [T_SESSIONS] = {&comfyd__v1__list_sessions_request__descriptor, APP_M_LIST_SESSIONS, -1},
        [T_CREATE_SESSION] = {&comfyd__v1__create_session_request__descriptor, APP_M_CREATE_SESSION,
                              -1},
        [T_SEARCH_SESSIONS] = {&comfyd__v1__search_sessions_request__descriptor,
                               APP_M_SEARCH_SESSIONS, -1},
        [T_COMPACT_SESSION] = {&comfyd__v1__compact_session_request__descriptor,
                               APP_M_COMPACT_SESSION, -1},
        [T_EXPORT_SESSION] = {&comfyd__v1__export_session_request__descriptor, APP_M_EXPORT_SESSION,
                              -1},
    };
    const tool_info *ti = &tools[o->tool];
    ProtobufCMessage *req = decode_args(o, how[o->tool].d, ti->opts.skip, ti->opts.n_skip);
    if (!req) return;
    /* A canvas left out means the one the client last read. */
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(req->descriptor, "canvas_id");
    if (f && s && s->has_view) {
        char **cid = (char **)((char *)req + f->offset);
        if (!*cid || !**cid) set_str(cid, s->canvas);
    }
    int64_t deadline =
        how[o->tool].op_kind >= 0 ? tab_deadline(how[o->tool].op_kind, req) : APP_UNARY_TIMEOUT_MS;
    start(o, how[o->tool].method, done_message, req, deadline);
    protobuf_c_message_free_unpacked(req, NULL);
}

/* -- send_message -- */

/* Appends m (owned) to a wait's list of at most max messages. */
static int keep(ProtobufCMessage ***arr, size_t *n, ProtobufCMessage *m, size_t max)
{
    if (*n >= max) return -1;
    ProtobufCMessage **na = realloc(*arr, (*n + 1) * sizeof **arr);
    if (!na) return -1;
    *arr = na;
    na[(*n)++] = m;
    return 0;
}

static void wait_free(app_mcp *m, wait *w)
{
    if (!w) return;
    if (w->stream) app__stream_detach(w->stream);
    if (w->prev)
        w->prev->next = w->next;
    else if (m->waits == w)
        m->waits = w->next;
    if (w->next) w->next->prev = w->prev;
    if (w->send_req) protobuf_c_message_free_unpacked(w->send_req, NULL);
    for (size_t i = 0; i < w->n_early; i++)
        protobuf_c_message_free_unpacked(w->early[i], NULL);
    free(w->early);
    for (size_t i = 0; i < w->n_replies; i++)
        protobuf_c_message_free_unpacked(w->replies[i], NULL);
    free(w->replies);
    text_buf_free(&w->errors);
    if (w->last_run) protobuf_c_message_free_unpacked(&w->last_run->base, NULL);
    if (w->o) {
        mcp_session *s = session_of(w->o->x->a, w->o->x->session);
        if (s && s->inflight) s->inflight--;
        w->o->w = NULL;
    }
    free(w);
}

static void progress(wait *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(wait *w, const char *fmt, ...)
{
    mcp_x *x = w->o->x;
    bnet_req *r = x->sse ? x_req(x) : NULL;
    if (!w->token[0] || !r) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(msg);
    while (n && !text_utf8_valid(msg, n))
        msg[--n] = '\0';
    char *json = NULL;
    size_t len = 0;
    if (mcp_progress(w->token, ++w->progress, 0, msg, &json, &len) != MCP_OK) return;
    sse_write(r, json, len);
    w->last_write = uv_now(x->a->loop);
    free(json);
}

static const char *state_name(Comfyd__V1__MessageState st)
{
    switch (st) {
    case COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_QUEUED:
        return "queued";
    case COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_RUNNING:
        return "running";
    case COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_DONE:
        return "done";
    case COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_CANCELLED:
        return "cancelled";
    case COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_FAILED:
        return "failed";
    case COMFYD__V1__MESSAGE_STATE__MESSAGE_STATE_INTERRUPTED:
        return "interrupted";
    default:
        return "unknown";
    }
}

static int gk(yajl_gen g, const char *k, const char *v)
{
    return app__gen_cstr(g, k) || app__gen_str(g, v ? v : "");
}

static int gu(yajl_gen g, const char *k, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    return app__gen_cstr(g, k) || yajl_gen_number(g, num, (size_t)n) != yajl_gen_status_ok;
}

/* Ends the wait with status ("done", "failed", "cancelled", "timeout",
 * "interrupted") and what it collected. */
static void send_finish(wait *w, const char *status, const char *detail)
{
    op *o = w->o;
    app_mcp *m = o->x->a->mcp;
    yajl_gen g = app__gen();
    int bad = !g || yajl_gen_map_open(g) != yajl_gen_status_ok ||
              gk(g, "session_id", w->session_id) || gu(g, "turn_id", w->turn) ||
              gk(g, "status", status);
    if (!bad && detail) bad = gk(g, "detail", detail);
    bad = bad || app__gen_cstr(g, "replies") || yajl_gen_array_open(g) != yajl_gen_status_ok;
    size_t text_bytes = 0;
    for (size_t i = 0; !bad && i < w->n_replies; i++) {
        const Comfyd__V1__ChatMessage *cm =
            ((Comfyd__V1__SubscribeResponse *)w->replies[i])->event->message_added->message;
        const char *content = cm->content ? cm->content : "";
        size_t n = strlen(content);
        if (text_bytes + n > MCP_APP_MAX_REPLY_BYTES) n = 0; /* listed, text left out */
        text_bytes += n;
        bad = yajl_gen_map_open(g) != yajl_gen_status_ok || gk(g, "skill", cm->skill) ||
              app__gen_cstr(g, "content") ||
              yajl_gen_string(g, (const unsigned char *)content, n) != yajl_gen_status_ok ||
              gk(g, "state", state_name(cm->state));
        if (!bad && cm->error && *cm->error) bad = gk(g, "error", cm->error);
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok || app__gen_cstr(g, "errors") ||
          app__gen_raw_value(g, w->errors.n && !w->errors.oom ? w->errors.p : "[]") ||
          gu(g, "tool_calls", w->tool_calls) || yajl_gen_map_close(g) != yajl_gen_status_ok;
    char *res = NULL;
    size_t len = 0;
    if (bad) {
        if (g) yajl_gen_free(g);
    } else {
        app__gen_finish(g, &res, &len);
    }
    int failed = strcmp(status, "done") != 0;
    o->w = NULL;
    w->o = NULL;
    /* The session count of the stream: settled here (wait_free cannot any
     * more once o is cut loose). */
    mcp_session *s = session_of(o->x->a, o->x->session);
    if (s && s->inflight) s->inflight--;
    wait_free(m, w);
    op_tool_result(o, res, failed);
}

static void send_error(wait *w, char *error_json)
{
    op *o = w->o;
    app_mcp *m = o->x->a->mcp;
    o->w = NULL;
    w->o = NULL;
    mcp_session *s = session_of(o->x->a, o->x->session);
    if (s && s->inflight) s->inflight--;
    wait_free(m, w);
    op_tool_error(o, error_json);
}

static void add_error(wait *w, const Comfyd__V1__ErrorEvent *e)
{
    yajl_gen g = app__gen();
    if (!g) return;
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || gk(g, "code", e->code) ||
              gk(g, "message", e->message) || gk(g, "skill", e->skill) ||
              yajl_gen_map_close(g) != yajl_gen_status_ok;
    char *one = NULL;
    size_t len = 0;
    if (bad) {
        yajl_gen_free(g);
        return;
    }
    if (app__gen_finish(g, &one, &len) != APP_OK) return;
    if (w->errors.n)
        w->errors.p[w->errors.n - 1] = ','; /* the ']' makes way for one more */
    else
        text_buf_add(&w->errors, "[");
    text_buf_addn(&w->errors, one, len);
    text_buf_add(&w->errors, "]");
    free(one);
}

/* One event of the turn. Returns 1 when the wait ended (w is gone). */
static int send_event(wait *w, Comfyd__V1__SubscribeResponse *sr, int *taken)
{
    const Comfyd__V1__SessionEvent *ev = sr->event;
    *taken = 0;
    if (!ev) return 0;
    uint64_t t = w->turn;
    switch (ev->kind_case) {
    case COMFYD__V1__SESSION_EVENT__KIND_STATUS_UPDATE: {
        const Comfyd__V1__StatusUpdate *su = ev->status_update;
        int working = su->status == COMFYD__V1__SESSION_STATUS__SESSION_STATUS_WORKING;
        if (working && su->turn_id == t) {
            const char *d = su->detail && *su->detail ? su->detail : "working";
            if (su->skill && *su->skill)
                progress(w, "%s: %s", su->skill, d);
            else
                progress(w, "%s", d);
            w->started = 1;
            return 0;
        }
        /* The turn ended: idle (or error naming it) after it started. */
        if (!working && (w->started || su->turn_id == t)) {
            int error = su->status == COMFYD__V1__SESSION_STATUS__SESSION_STATUS_ERROR;
            const char *d = su->detail ? su->detail : "";
            send_finish(w,
                        error                         ? "failed"
                        : strstr(d, "cancel") != NULL ? "cancelled"
                                                      : "done",
                        *d ? d : NULL);
            return 1;
        }
        return 0;
    }
    case COMFYD__V1__SESSION_EVENT__KIND_MESSAGE_ADDED: {
        const Comfyd__V1__ChatMessage *cm = ev->message_added->message;
        if (!cm || cm->turn_id != t || cm->role != COMFYD__V1__ROLE__ROLE_ASSISTANT) return 0;
        progress(w, "%s replied (%s)", cm->skill && *cm->skill ? cm->skill : "the assistant",
                 state_name(cm->state));
        if (keep(&w->replies, &w->n_replies, &sr->base, 64) == 0) *taken = 1;
        return 0;
    }
    case COMFYD__V1__SESSION_EVENT__KIND_ERROR:
        if (ev->error->turn_id != t) return 0;
        add_error(w, ev->error);
        progress(w, "%s%s%s", ev->error->skill && *ev->error->skill ? ev->error->skill : "",
                 ev->error->skill && *ev->error->skill ? ": " : "",
                 ev->error->message ? ev->error->message : "error");
        return 0;
    case COMFYD__V1__SESSION_EVENT__KIND_TOOL_CALL:
        if (ev->tool_call->turn_id != t) return 0;
        w->tool_calls++;
        progress(w, "%s: calling %s", ev->tool_call->skill ? ev->tool_call->skill : "",
                 ev->tool_call->name ? ev->tool_call->name : "a tool");
        return 0;
    default:
        return 0;
    }
}

static void done_send(app_call *c)
{
    op *o = call_end(c, NULL);
    if (!o || !o->w) return;
    wait *w = o->w;
    const Comfyd__V1__SendMessageResponse *r = (const Comfyd__V1__SendMessageResponse *)c->resp;
    if (c->code != GRPC_STATUS_OK || !r || !r->message) {
        send_error(w, call_error(c));
        return;
    }
    w->sent = 1;
    w->turn = r->message->id;
    if (r->queued)
        progress(w, "queued behind %u turn%s", r->queue_position,
                 r->queue_position == 1 ? "" : "s");
    /* Events that came before the turn was known, in order. */
    ProtobufCMessage **early = w->early;
    size_t n = w->n_early;
    w->early = NULL;
    w->n_early = 0;
    size_t i = 0;
    int ended = 0;
    for (; i < n && !ended; i++) {
        int taken;
        ended = send_event(w, (Comfyd__V1__SubscribeResponse *)early[i], &taken);
        if (!taken) protobuf_c_message_free_unpacked(early[i], NULL);
    }
    for (; i < n; i++)
        protobuf_c_message_free_unpacked(early[i], NULL);
    free(early);
}

static void on_sub_msg(void *owner, app_stream *st, ProtobufCMessage *m)
{
    wait *w = owner;
    app__stream_credit(st, 1);
    Comfyd__V1__SubscribeResponse *sr = (Comfyd__V1__SubscribeResponse *)m;
    if (!w->subscribed) {
        /* The stream is live (its first event is the snapshot): now the
         * message can be sent without missing any of its turn's events. */
        w->subscribed = 1;
        app_call *c = app__call_new(w->o->x->a, APP_M_SEND_MESSAGE, done_send);
        call_begin(w->o, c);
        app__call_start(c, w->send_req, APP_UNARY_TIMEOUT_MS);
        protobuf_c_message_free_unpacked(m, NULL);
        return;
    }
    if (!w->sent) {
        int kind = sr->event ? (int)sr->event->kind_case : 0;
        if (kind == COMFYD__V1__SESSION_EVENT__KIND_STREAM_DELTA ||
            keep(&w->early, &w->n_early, m, MCP_APP_MAX_EARLY_EVENTS) != 0)
            protobuf_c_message_free_unpacked(m, NULL);
        return;
    }
    int taken;
    send_event(w, sr, &taken);
    if (!taken) protobuf_c_message_free_unpacked(m, NULL);
}

static void on_sub_end(void *owner, app_stream *st, grpc_status_code code, const char *details)
{
    wait *w = owner;
    app__stream_detach(st);
    w->stream = NULL;
    if (code == GRPC_STATUS_OK)
        send_error(w, toolspec_error("UNAVAILABLE", NULL,
                                     "the session's event stream ended before the turn did"));
    else
        send_error(w, toolspec_error(app_grpc_code_name(code), NULL, "%s",
                                     details && *details ? details : app_grpc_code_name(code)));
}

static void tool_send(op *o, const char *token)
{
    static const char *const skip[] = {"wait_ms"};
    int64_t wait_ms = MCP_APP_WAIT_DEFAULT_MS;
    if (o->args) {
        yajl_val wv = NULL;
        for (size_t i = 0; i < o->args->u.object.len; i++)
            if (!strcmp(o->args->u.object.keys[i], "wait_ms")) wv = o->args->u.object.values[i];
        if (wv && !YAJL_IS_NULL(wv)) {
            if (!YAJL_IS_INTEGER(wv) || YAJL_GET_INTEGER(wv) < 1000 ||
                YAJL_GET_INTEGER(wv) > MCP_APP_WAIT_MAX_MS) {
                op_tool_error(o, toolspec_error("INVALID_ARGUMENT", NULL,
                                                "wait_ms: expected an integer from 1000 to %d",
                                                MCP_APP_WAIT_MAX_MS));
                return;
            }
            wait_ms = YAJL_GET_INTEGER(wv);
        }
    }
    Comfyd__V1__SendMessageRequest *req = (Comfyd__V1__SendMessageRequest *)decode_args(
        o, &comfyd__v1__send_message_request__descriptor, skip, 1);
    if (!req) return;
    if (!req->session_id || !*req->session_id || strlen(req->session_id) >= 128) {
        protobuf_c_message_free_unpacked(&req->base, NULL);
        op_tool_error(o, toolspec_error("INVALID_ARGUMENT", NULL,
                                        "session_id is required (see list_sessions)"));
        return;
    }
    app *a = o->x->a;
    wait *w = calloc(1, sizeof *w);
    if (!w) {
        protobuf_c_message_free_unpacked(&req->base, NULL);
        op_tool_error(o, toolspec_error("INTERNAL", NULL, "out of memory"));
        return;
    }
    w->o = o;
    o->w = w;
    snprintf(w->session_id, sizeof w->session_id, "%s", req->session_id);
    snprintf(w->token, sizeof w->token, "%s", token);
    w->send_req = &req->base;
    w->deadline = uv_now(a->loop) + (uint64_t)wait_ms;
    w->last_write = uv_now(a->loop);
    w->next = a->mcp->waits;
    if (w->next) w->next->prev = w;
    a->mcp->waits = w;
    /* The session is busy while its stream runs (wait_free settles it). */
    mcp_session *ss = session_of(a, o->x->session);
    if (ss) ss->inflight++;
    /* Progress and keep-alives need the event stream. */
    if (o->x->accept_sse && !o->x->batch) x_start_sse(o->x);
    Comfyd__V1__SubscribeRequest sub = COMFYD__V1__SUBSCRIBE_REQUEST__INIT;
    sub.session_id = w->session_id;
    int rc =
        app__stream_start(a, APP_M_SUBSCRIBE, &sub.base, w, on_sub_msg, on_sub_end, &w->stream);
    if (rc != RPCC_OK)
        send_error(w, toolspec_error("UNAVAILABLE", NULL, "cannot follow the session: %s",
                                     rpcc_strerror(rc)));
}

/* -- runs: run, get_run, cancel_run, view_output -- */

static int run_over(Comfyd__V1__RunStatus st)
{
    return st == COMFYD__V1__RUN_STATUS__RUN_STATUS_SUCCEEDED ||
           st == COMFYD__V1__RUN_STATUS__RUN_STATUS_FAILED ||
           st == COMFYD__V1__RUN_STATUS__RUN_STATUS_INTERRUPTED ||
           st == COMFYD__V1__RUN_STATUS__RUN_STATUS_CANCELLED ||
           st == COMFYD__V1__RUN_STATUS__RUN_STATUS_UNKNOWN;
}

/* Ends a run's wait with its latest state (timed_out when it is not over). */
static void run_finish(wait *w, int timed_out)
{
    op *o = w->o;
    app_mcp *m = o->x->a->mcp;
    char *res = w->last_run ? toolspec_run_result(w->last_run, 1, timed_out)
                            : toolspec_error("UNAVAILABLE", NULL, "no state of the run arrived");
    o->w = NULL;
    w->o = NULL;
    mcp_session *s = session_of(o->x->a, o->x->session);
    if (s && s->inflight) s->inflight--;
    wait_free(m, w);
    op_tool_result(o, res, 0);
}

/* Takes run (owned) as the latest state; a progress notification when the
 * line it makes changed; the end when it is over. Returns 1 when the wait
 * ended (w and its op are gone). */
static int run_update(wait *w, Comfyd__V1__Run *run)
{
    if (w->last_run) protobuf_c_message_free_unpacked(&w->last_run->base, NULL);
    w->last_run = run;
    char line[256];
    toolspec_run_line(run, line, sizeof line);
    if (strcmp(line, w->last_line)) {
        snprintf(w->last_line, sizeof w->last_line, "%s", line);
        progress(w, "%s", line);
    }
    if (!run_over(run->status)) return 0;
    run_finish(w, 0);
    return 1;
}

static void on_run_msg(void *owner, app_stream *st, ProtobufCMessage *m)
{
    wait *w = owner;
    app__stream_credit(st, 1);
    Comfyd__V1__WatchRunResponse *r = (Comfyd__V1__WatchRunResponse *)m;
    Comfyd__V1__Run *run = r->run;
    r->run = NULL;
    protobuf_c_message_free_unpacked(m, NULL);
    if (run && w->o)
        run_update(w, run);
    else if (run)
        protobuf_c_message_free_unpacked(&run->base, NULL);
}

static void on_run_end(void *owner, app_stream *st, grpc_status_code code, const char *details)
{
    wait *w = owner;
    app__stream_detach(st);
    w->stream = NULL;
    if (!w->o) return;
    if (w->last_run && run_over(w->last_run->status)) {
        run_finish(w, 0);
        return;
    }
    send_error(w, toolspec_error(code == GRPC_STATUS_OK ? "UNAVAILABLE" : app_grpc_code_name(code),
                                 NULL, "following the run ended: %s",
                                 details && *details ? details : "the stream ended"));
}

static void done_run_queue(app_call *c)
{
    op *o = call_end(c, NULL);
    wait *w = o ? o->w : NULL;
    if (!w) return;
    const Comfyd__V1__QueueResponse *q = (const Comfyd__V1__QueueResponse *)c->resp;
    if (c->code != GRPC_STATUS_OK || !q) {
        send_error(w, call_error(c));
        return;
    }
    if (!q->run) {
        send_error(w, toolspec_error("FAILED_PRECONDITION", "Use queue instead.",
                                     "runs are not followed: comfyd runs without --comfyui"));
        return;
    }
    snprintf(w->prompt_id, sizeof w->prompt_id, "%s", q->run->prompt_id);
    Comfyd__V1__QueueResponse *qm = (Comfyd__V1__QueueResponse *)c->resp;
    Comfyd__V1__Run *run = qm->run;
    qm->run = NULL;
    uint64_t seq = run->seq;
    if (run_update(w, run)) return; /* over already */
    Comfyd__V1__WatchRunRequest wr = COMFYD__V1__WATCH_RUN_REQUEST__INIT;
    wr.prompt_id = w->prompt_id;
    wr.after_seq = seq;
    int rc =
        app__stream_start(c->a, APP_M_WATCH_RUN, &wr.base, w, on_run_msg, on_run_end, &w->stream);
    if (rc != RPCC_OK)
        send_error(
            w, toolspec_error("UNAVAILABLE", NULL, "cannot follow the run: %s", rpcc_strerror(rc)));
}

static void tool_run(op *o, mcp_session *s, const char *token)
{
    const char *cid;
    uint32_t wait_ms;
    char *err = NULL;
    if (toolspec_run_args(o->args, &cid, &wait_ms, &err)) {
        op_tool_error(o, err);
        return;
    }
    app *a = o->x->a;
    wait *w = calloc(1, sizeof *w);
    if (!w) {
        op_tool_error(o, toolspec_error("INTERNAL", NULL, "out of memory"));
        return;
    }
    w->o = o;
    w->run = 1;
    o->w = w;
    snprintf(w->token, sizeof w->token, "%s", token);
    w->deadline = uv_now(a->loop) + wait_ms;
    w->last_write = uv_now(a->loop);
    w->next = a->mcp->waits;
    if (w->next) w->next->prev = w;
    a->mcp->waits = w;
    mcp_session *ss = session_of(a, o->x->session);
    if (ss) ss->inflight++;
    if (o->x->accept_sse && !o->x->batch) x_start_sse(o->x);
    Comfyd__V1__QueueRequest q = COMFYD__V1__QUEUE_REQUEST__INIT;
    char canvas[MCP_MAX_CANVAS_ID + 1];
    snprintf(canvas, sizeof canvas, "%s", *cid ? cid : (s && s->has_view ? s->canvas : ""));
    q.canvas_id = canvas;
    q.origin = COMFYD__V1__RUN_ORIGIN__RUN_ORIGIN_MCP;
    char who[64];
    snprintf(who, sizeof who, "mcp session %.8s", o->x->session);
    q.queued_by = who;
    app_call *c = app__call_new(a, APP_M_QUEUE, done_run_queue);
    call_begin(o, c);
    app__call_start(c, &q.base, tab_deadline(APP_OP_QUEUE, &q.base));
}

static void done_run_read(app_call *c)
{
    op *o = call_end(c, NULL);
    if (!o) return;
    if (c->code != GRPC_STATUS_OK || !c->resp) {
        op_tool_error(o, call_error(c));
        return;
    }
    /* GetRunResponse and CancelRunResponse both hold the run first. */
    const Comfyd__V1__Run *run = c->method == APP_M_GET_RUN
                                     ? ((const Comfyd__V1__GetRunResponse *)c->resp)->run
                                     : ((const Comfyd__V1__CancelRunResponse *)c->resp)->run;
    op_tool_result(
        o, run ? toolspec_run_result(run, 0, 0) : toolspec_error("NOT_FOUND", NULL, "no such run"),
        !run);
}

static void tool_run_read(op *o)
{
    const char *pid;
    char *err = NULL;
    if (toolspec_run_id_args(o->args, 0, &pid, NULL, NULL, &err)) {
        op_tool_error(o, err);
        return;
    }
    if (o->tool == T_GET_RUN) {
        Comfyd__V1__GetRunRequest q = COMFYD__V1__GET_RUN_REQUEST__INIT;
        q.prompt_id = (char *)pid;
        start(o, APP_M_GET_RUN, done_run_read, &q.base, APP_UNARY_TIMEOUT_MS);
    } else {
        Comfyd__V1__CancelRunRequest q = COMFYD__V1__CANCEL_RUN_REQUEST__INIT;
        q.prompt_id = (char *)pid;
        start(o, APP_M_CANCEL_RUN, done_run_read, &q.base, APP_UNARY_TIMEOUT_MS);
    }
}

static void done_view(app_call *c)
{
    op *o = call_end(c, NULL);
    if (!o) return;
    if (c->code != GRPC_STATUS_OK || !c->resp) {
        op_tool_error(o, call_error(c));
        return;
    }
    const Comfyd__V1__GetRunOutputResponse *r = (const Comfyd__V1__GetRunOutputResponse *)c->resp;
    if (strncmp(r->content_type, "image/", 6)) {
        op_tool_error(o, toolspec_error("INVALID_ARGUMENT", NULL, "the output is %s, not an image",
                                        r->content_type));
        return;
    }
    if (r->data.len > TOOLSPEC_MAX_IMAGE_BYTES) {
        op_tool_error(o,
                      toolspec_error(
                          "RESOURCE_EXHAUSTED",
                          "Fetch it over HTTP: GET /comfy/runs/{prompt_id}/outputs/{node}/{index}.",
                          "the image has %zu bytes; images are shown up to %u", r->data.len,
                          TOOLSPEC_MAX_IMAGE_BYTES));
        return;
    }
    char *res = NULL, *json = NULL;
    size_t len = 0;
    char meta[1024];
    snprintf(meta, sizeof meta, "%s (%s, %ux%u%s, %zu bytes)", r->file ? r->file->filename : "",
             r->content_type, r->width, r->height, r->scaled ? ", scaled down" : "", r->data.len);
    size_t ml = strlen(meta);
    while (ml && !text_utf8_valid(meta, ml))
        meta[--ml] = 0;
    if (mcp_image_result(r->data.data, r->data.len, r->content_type, meta, &res, &len) != MCP_OK ||
        mcp_result(o->id, res, &json, &len) != MCP_OK) {
        free(res);
        op_error(o, MCP_RPC_INTERNAL_ERROR, "the image cannot be encoded");
        return;
    }
    free(res);
    op_finish(o, json);
}

static void tool_view(op *o)
{
    const char *pid, *node;
    uint32_t index;
    char *err = NULL;
    if (toolspec_run_id_args(o->args, 1, &pid, &node, &index, &err)) {
        op_tool_error(o, err);
        return;
    }
    Comfyd__V1__GetRunOutputRequest q = COMFYD__V1__GET_RUN_OUTPUT_REQUEST__INIT;
    q.prompt_id = (char *)pid;
    q.node_id = (char *)node;
    q.index = index;
    q.max_side = TOOLSPEC_VIEW_MAX_SIDE;
    start(o, APP_M_GET_RUN_OUTPUT, done_view, &q.base, APP_UNARY_TIMEOUT_MS);
}

/* ==== dispatch ==== */

static const mcp_server_info server_info = {
    "comfyd",
    "comfyd: ComfyUI canvases and agent sessions",
    NULL, /* set from app_version() */
    "Tools to read and edit the workflows open in ComfyUI (get_graph, search_node_types, "
    "get_node_schema, validate_patch, apply_patch with refs and base_revision, queue, "
    "save_workflow, load_workflow, list_canvases) and to talk to comfyd's agent sessions "
    "(list_sessions, create_session, send_message). Read the graph before patching it; a "
    "patch on a canvas that changed since is refused with STALE_REVISION.",
};

/* Handles one request of an exchange (op o). */
static void dispatch(op *o, const mcp_msg *msg)
{
    mcp_x *x = o->x;
    app *a = x->a;
    app_mcp *m = a->mcp;
    mcp_session *s = session_of(a, x->session);
    if (!strcmp(msg->method, "ping")) {
        char *json = NULL;
        size_t len = 0;
        mcp_result(o->id, "{}", &json, &len);
        op_finish(o, json);
        return;
    }
    if (!strcmp(msg->method, "initialize")) {
        /* Only alone in its own POST (handled before dispatch). */
        op_error(o, MCP_RPC_INVALID_REQUEST, "initialize must be sent alone, without a session");
        return;
    }
    if (!strcmp(msg->method, "tools/list")) {
        char *res = NULL, *json = NULL;
        size_t len = 0;
        if (tools_list(m, x->version, &res, &len) != MCP_OK ||
            mcp_result(o->id, res, &json, &len) != MCP_OK) {
            free(res);
            op_error(o, MCP_RPC_INTERNAL_ERROR, "out of memory");
            return;
        }
        free(res);
        op_finish(o, json);
        return;
    }
    if (strcmp(msg->method, "tools/call") != 0) {
        char text[MCP_MAX_METHOD_BYTES + 64];
        snprintf(text, sizeof text, "method not found: %s", msg->method);
        op_error(o, MCP_RPC_METHOD_NOT_FOUND, text);
        return;
    }
    const char *name;
    char token[MCP_MAX_ID_BYTES + 1];
    char err[256];
    if (mcp_call_params(msg->params, &name, &o->args, token, sizeof token, err, sizeof err) !=
        MCP_OK) {
        op_error(o, MCP_RPC_INVALID_PARAMS, err);
        return;
    }
    if (!tool_find(name, &o->tool)) {
        char text[300];
        snprintf(text, sizeof text, "unknown tool: %.200s", name);
        op_error(o, MCP_RPC_INVALID_PARAMS, text);
        return;
    }
    if (s && s->inflight >= MCP_APP_MAX_CALLS) {
        op_tool_error(o, toolspec_error("RESOURCE_EXHAUSTED", NULL,
                                        "too many tool calls in flight for this session (%d)",
                                        MCP_APP_MAX_CALLS));
        return;
    }
    if (a->draining) {
        op_tool_error(o, toolspec_error("UNAVAILABLE", NULL, "the bridge is shutting down"));
        return;
    }
    /* The graph tools' keys are checked as the skills' tools check them. */
    toolspec_id sid = spec_of[o->tool];
    if (sid != TOOLSPEC__COUNT && o->args) {
        char *e = NULL;
        if (toolspec_check_args(sid, o->args, &e)) {
            op_tool_error(o, e);
            return;
        }
    }
    LOG_D(MOD, "session %.8s: tools/call %s", x->session, LOG_ESC(name));
    switch (o->tool) {
    case T_GET_GRAPH:
        tool_get_graph(o);
        break;
    case T_SEARCH:
    case T_SCHEMA:
        tool_types(o, s);
        break;
    case T_VALIDATE:
    case T_APPLY:
        tool_patch(o, s);
        break;
    case T_SEND:
        tool_send(o, token);
        break;
    case T_RUN:
        tool_run(o, s, token);
        break;
    case T_GET_RUN:
    case T_CANCEL_RUN:
        tool_run_read(o);
        break;
    case T_VIEW_OUTPUT:
        tool_view(o);
        break;
    default:
        tool_message(o, s);
        break;
    }
}

/* notifications/cancelled: a send_message still waiting stops without an
 * answer (the turn itself goes on; Cancel it through the session). */
static void cancelled(app *a, const char *session, yajl_val params)
{
    yajl_val rid = NULL;
    if (YAJL_IS_OBJECT(params))
        for (size_t i = 0; i < params->u.object.len; i++)
            if (!strcmp(params->u.object.keys[i], "requestId")) rid = params->u.object.values[i];
    char id[MCP_MAX_ID_BYTES + 1];
    if (!rid) return;
    if (YAJL_IS_STRING(rid)) {
        char *t = NULL;
        size_t len = 0;
        yajl_gen g = app__gen();
        if (!g || app__gen_str(g, rid->u.string) || app__gen_finish(g, &t, &len) != APP_OK ||
            len > MCP_MAX_ID_BYTES) {
            free(t);
            return;
        }
        memcpy(id, t, len + 1);
        free(t);
    } else if (YAJL_IS_INTEGER(rid)) {
        snprintf(id, sizeof id, "%lld", YAJL_GET_INTEGER(rid));
    } else {
        return;
    }
    for (wait *w = a->mcp->waits; w; w = w->next) {
        op *o = w->o;
        if (!o || strcmp(o->x->session, session) || strcmp(o->id, id)) continue;
        LOG_D(MOD, "session %.8s: request %s cancelled", session, LOG_ESC(id));
        o->w = NULL;
        w->o = NULL;
        mcp_session *s = session_of(a, session);
        if (s && s->inflight) s->inflight--;
        wait_free(a->mcp, w);
        op_finish(o, NULL);
        return;
    }
}

/* ==== HTTP ==== */

/* The header's value, or NULL (len 0) when absent. */
static const char *header(const bnet_req *r, const char *name, size_t *len)
{
    size_t n = 0;
    const char *v = bnet_req_header(r, name, &n);
    if (len) *len = v ? n : 0;
    return v;
}

/* Checks shared by POST and DELETE: the token (required here even with an
 * allowed Origin). Returns 1 to go on, 0 after answering. */
static int admitted(app *a, bnet_req *r)
{
    if (a->draining) {
        respond_rpc_error(a, r, 503, MCP_RPC_INTERNAL_ERROR, "the bridge is shutting down");
        return 0;
    }
    if (!header(r, "authorization", NULL)) {
        /* bnet checked a token that was sent; MCP callers must send one. */
        static const char body[] = "{\"error\":\"missing or invalid token\"}";
        bnet_header h[1] = {{"WWW-Authenticate", "Bearer"}};
        bnet_respond(r, 401, "application/json", h, 1, body, sizeof body - 1);
        app_metrics_http(&a->m, APP_ROUTE_MCP, 401);
        return 0;
    }
    return 1;
}

/* The session a request names. Returns it, or NULL after answering 400
 * (none named) or 404 (unknown or ended). */
static mcp_session *named_session(app *a, bnet_req *r)
{
    size_t len;
    const char *id = header(r, "mcp-session-id", &len);
    if (!id || !len) {
        respond_rpc_error(a, r, 400, MCP_RPC_INVALID_REQUEST,
                          "Bad Request: the Mcp-Session-Id header is required (send initialize "
                          "first)");
        return NULL;
    }
    mcp_session *s = mcp_sessions_find(a->mcp->sessions, id, len, now_ms(a));
    if (!s) respond_rpc_error(a, r, 404, -32001, "Session not found: initialize again");
    return s;
}

static int is_initialize(yajl_val v)
{
    if (!YAJL_IS_OBJECT(v)) return 0;
    for (size_t i = 0; i < v->u.object.len; i++)
        if (!strcmp(v->u.object.keys[i], "method"))
            return YAJL_IS_STRING(v->u.object.values[i]) &&
                   !strcmp(v->u.object.values[i]->u.string, "initialize");
    return 0;
}

/* initialize: a new session. The exchange answers with Mcp-Session-Id. */
static void initialize(mcp_x *x, const mcp_msg *msg)
{
    app *a = x->a;
    op *o = &x->ops[0];
    const char *version;
    char client[MCP_MAX_CLIENT_NAME + 1];
    char err[256];
    if (mcp_initialize_params(msg->params, &version, client, sizeof client, err, sizeof err) !=
        MCP_OK) {
        op_error(o, MCP_RPC_INVALID_PARAMS, err);
        return;
    }
    uint8_t rnd[MCP_SESSION_ID_BYTES];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        op_error(o, MCP_RPC_INTERNAL_ERROR, "no randomness for a session id");
        return;
    }
    mcp_session *s = NULL;
    int rc = mcp_sessions_add(a->mcp->sessions, rnd, version, now_ms(a), &s);
    if (rc != MCP_OK) {
        op_error(o, MCP_RPC_INTERNAL_ERROR, "too many MCP sessions are busy; try again later");
        return;
    }
    snprintf(s->client, sizeof s->client, "%s", client);
    snprintf(x->session, sizeof x->session, "%s", s->id);
    snprintf(x->version, sizeof x->version, "%s", version);
    x->new_session = 1;
    mcp_server_info info = server_info;
    info.version = app_version();
    char *res = NULL, *json = NULL;
    size_t len = 0;
    if (mcp_initialize_result(version, &info, &res, &len) != MCP_OK ||
        mcp_result(o->id, res, &json, &len) != MCP_OK) {
        free(res);
        op_error(o, MCP_RPC_INTERNAL_ERROR, "out of memory");
        return;
    }
    free(res);
    LOG_I(MOD, "session %.8s: %s, protocol %s", s->id,
          *client ? LOG_ESC(client) : "(unnamed client)", LOG_ESC(version));
    op_finish(o, json);
}

static void h_post(bnet_req *r, void *ud)
{
    app *a = ud;
    if (!admitted(a, r)) return;
    size_t clen;
    const char *ct = header(r, "content-type", &clen);
    if (!ct || clen < 16 || strncasecmp(ct, "application/json", 16) ||
        (clen > 16 && ct[16] != ';' && ct[16] != ' ')) {
        respond_rpc_error(a, r, 415, MCP_RPC_INVALID_REQUEST,
                          "Unsupported Media Type: send application/json");
        return;
    }
    size_t alen;
    const char *accept = header(r, "accept", &alen);
    int aj, as;
    mcp_accept(accept, alen, &aj, &as);
    if (!aj && !as) {
        respond_rpc_error(a, r, 406, MCP_RPC_INVALID_REQUEST,
                          "Not Acceptable: accept application/json or text/event-stream");
        return;
    }
    size_t blen;
    const char *body = bnet_req_body(r, &blen);
    yajl_val tree = NULL;
    char err[256];
    int rc = mcp_parse(body, blen, &tree, err, sizeof err);
    if (rc != MCP_OK) {
        char text[300];
        snprintf(text, sizeof text, "Parse error: %s", err);
        respond_rpc_error(a, r, rc == MCP_E_TOOBIG ? 413 : 400,
                          rc == MCP_E_TOOBIG ? MCP_RPC_INVALID_REQUEST : MCP_RPC_PARSE_ERROR, text);
        return;
    }
    int batch = YAJL_IS_ARRAY(tree);
    size_t n = batch ? tree->u.array.len : 1;
    if (batch && (n == 0 || n > MCP_MAX_BATCH)) {
        yajl_tree_free(tree);
        respond_rpc_error(a, r, 400, MCP_RPC_INVALID_REQUEST,
                          n ? "Invalid Request: too many messages in one batch"
                            : "Invalid Request: an empty batch");
        return;
    }
    mcp_x *x = calloc(1, sizeof *x);
    op *ops = calloc(n, sizeof *ops);
    if (!x || !ops) {
        free(x);
        free(ops);
        yajl_tree_free(tree);
        respond_rpc_error(a, r, 500, MCP_RPC_INTERNAL_ERROR, "out of memory");
        return;
    }
    x->a = a;
    x->req_id = bnet_req_id(r);
    x->tree = tree;
    x->batch = batch;
    x->accept_json = aj;
    x->accept_sse = as;
    x->ops = ops;
    x->n_ops = (unsigned)n;
    for (unsigned i = 0; i < x->n_ops; i++) {
        ops[i].x = x;
        ops[i].index = i;
        ops[i].done = 1; /* until it is a request being answered */
    }

    int init = !batch && is_initialize(tree);
    if (!init) {
        mcp_session *s = named_session(a, r);
        if (!s) {
            x_free(x);
            return;
        }
        size_t vlen;
        const char *pv = header(r, "mcp-protocol-version", &vlen);
        if (pv && (vlen != strlen(s->version) || memcmp(pv, s->version, vlen))) {
            char text[200];
            snprintf(text, sizeof text,
                     "Bad Request: MCP-Protocol-Version %.*s is not the negotiated %s",
                     (int)(vlen > 32 ? 32 : vlen), pv, s->version);
            x_free(x);
            respond_rpc_error(a, r, 400, MCP_RPC_INVALID_REQUEST, text);
            return;
        }
        if (batch && !mcp_version_batches(s->version)) {
            char text[200];
            snprintf(text, sizeof text,
                     "Invalid Request: protocol version %s does not allow JSON-RPC batches",
                     s->version);
            x_free(x);
            respond_rpc_error(a, r, 400, MCP_RPC_INVALID_REQUEST, text);
            return;
        }
        snprintf(x->session, sizeof x->session, "%s", s->id);
        snprintf(x->version, sizeof x->version, "%s", s->version);
    }
    bnet_req_set_data(r, x);
    bnet_req_set_abort(r, on_abort, x);

    /* One pending count holds the exchange open while its messages are
     * dispatched; answers that are ready at once only count down. */
    x->pending = 1;
    unsigned invalid = 0;
    for (unsigned i = 0; i < x->n_ops; i++) {
        yajl_val v = batch ? tree->u.array.values[i] : tree;
        op *o = &ops[i];
        mcp_msg msg;
        char merr[256];
        if (mcp_message(v, &msg, merr, sizeof merr) != MCP_OK) {
            char text[300];
            snprintf(text, sizeof text, "Invalid Request: %s", merr);
            memcpy(o->id, msg.id, sizeof o->id);
            o->done = 0;
            x->pending++;
            invalid++;
            op_error(o, MCP_RPC_INVALID_REQUEST, text);
            continue;
        }
        if (msg.kind == MCP_MSG_REQUEST) {
            memcpy(o->id, msg.id, sizeof o->id);
            o->done = 0;
            x->pending++;
            if (init)
                initialize(x, &msg);
            else if (is_initialize(v))
                op_error(o, MCP_RPC_INVALID_REQUEST,
                         "initialize must be sent alone, without a session");
            else
                dispatch(o, &msg);
            continue;
        }
        if (msg.kind == MCP_MSG_NOTIFICATION) {
            if (init) continue;
            mcp_session *s = session_of(a, x->session);
            if (!strcmp(msg.method, "notifications/initialized") && s) s->initialized = 1;
            if (!strcmp(msg.method, "notifications/cancelled"))
                cancelled(a, x->session, msg.params);
        }
        /* Responses: the server sends no requests, so none is awaited. */
    }
    /* A lone invalid message is an HTTP error too. */
    if (!batch && invalid && ops[0].answer && x->pending == 1) {
        char *ans = ops[0].answer;
        ops[0].answer = NULL;
        bnet_req_set_abort(r, NULL, NULL);
        bnet_req_set_data(r, NULL);
        x_free(x);
        respond(a, r, 400, NULL, ans, strlen(ans));
        free(ans);
        return;
    }
    if (--x->pending == 0) x_send(x);
}

static void h_delete(bnet_req *r, void *ud)
{
    app *a = ud;
    if (!admitted(a, r)) return;
    size_t len;
    const char *id = header(r, "mcp-session-id", &len);
    if (!id || !len) {
        respond_rpc_error(a, r, 400, MCP_RPC_INVALID_REQUEST,
                          "Bad Request: the Mcp-Session-Id header is required");
        return;
    }
    if (!mcp_sessions_remove(a->mcp->sessions, id, len)) {
        respond_rpc_error(a, r, 404, -32001, "Session not found");
        return;
    }
    LOG_I(MOD, "session %.8s: ended by the client", id);
    respond(a, r, 204, NULL, NULL, 0);
}

/* ==== timers and lifecycle ==== */

void app__mcp_tick(app *a)
{
    app_mcp *m = a->mcp;
    if (!m) return;
    uint64_t now = uv_now(a->loop);
    for (wait *w = m->waits, *next; w; w = next) {
        next = w->next;
        if (!w->o) continue;
        if (w->run && (a->draining || now >= w->deadline)) {
            /* A run still going is a result: timed_out. */
            run_finish(w, 1);
            continue;
        }
        if (a->draining) {
            send_finish(w, "interrupted", "the bridge is shutting down; the turn goes on");
            continue;
        }
        if (now >= w->deadline) {
            send_finish(w, "timeout",
                        "no end of the turn within wait_ms; it goes on (see list_sessions)");
            continue;
        }
        mcp_x *x = w->o->x;
        bnet_req *r = x->sse ? x_req(x) : NULL;
        if (r && now - w->last_write >= MCP_APP_KEEPALIVE_MS) {
            static const char ka[] = ": keep-alive\n\n";
            bnet_stream_write(r, ka, sizeof ka - 1);
            w->last_write = now;
        }
    }
    if (now - m->last_expire >= 60000) {
        m->last_expire = now;
        size_t n = mcp_sessions_expire(m->sessions, now_ms(a));
        if (n) LOG_I(MOD, "%zu idle session%s expired", n, n == 1 ? "" : "s");
    }
}

int app__mcp_routes(app *a)
{
    app_mcp *m = calloc(1, sizeof *m);
    if (!m) return -1;
    a->mcp = m;
    m->last_expire = uv_now(a->loop);
    if (mcp_sessions_create(&m->sessions, MCP_APP_MAX_SESSIONS, MCP_APP_IDLE_MS) != MCP_OK)
        return -1;
    for (int t = 0; t < T__COUNT; t++) {
        if (!tools[t].req) continue;
        size_t len;
        if (mcp_schema_from_descriptor(tools[t].req, &tools[t].opts, &m->schemas[t], &len) !=
            MCP_OK) {
            LOG_E(MOD, "cannot build the input schema of %s", tools[t].name);
            return -1;
        }
    }
    if (bnet_route(a->net, "POST", "/mcp", 0, h_post, a) != BNET_OK ||
        bnet_route(a->net, "DELETE", "/mcp", 0, h_delete, a) != BNET_OK)
        return -1;
    return 0;
}

void app__mcp_destroy(app *a)
{
    app_mcp *m = a ? a->mcp : NULL;
    if (!m) return;
    /* Exchanges are freed by their requests' abort callbacks (bnet_stop);
     * waits left here have none. */
    while (m->waits)
        wait_free(m, m->waits);
    for (int t = 0; t < T__COUNT; t++)
        free(m->schemas[t]);
    mcp_sessions_destroy(m->sessions);
    free(m);
    a->mcp = NULL;
}

/* mcp: the Model Context Protocol core of comfyd-bridge, without I/O.
 *
 * JSON-RPC 2.0 framing and the MCP messages the bridge serves at /mcp
 * (app_mcp.c) and that comfyd-mcp forwards from stdio (mcp_stdio.c):
 *
 * - Parsing: one HTTP body or one stdio line into a bounded yajl tree
 *   (mcp_parse), and each message of it classified as a request,
 *   notification or response (mcp_message). Parse errors are -32700,
 *   malformed messages -32600.
 * - Versions: the handshake revisions 2024-11-05, 2025-03-26, 2025-06-18
 *   and 2025-11-25 (the newest, offered to clients that ask for an unknown
 *   one). Only 2025-03-26 allows JSON-RPC batches; structuredContent and
 *   tool titles exist from 2025-06-18 on, tool annotations from 2025-03-26.
 * - Answers: results, errors, notifications and progress, the initialize
 *   result, tools/list and tools/call results (content + structuredContent
 *   + isError), all as compact JSON without newlines, so one answer is one
 *   stdio line or one SSE data line (mcp_sse_event).
 * - Input schemas generated from protobuf-c message descriptors
 *   (mcp_schema_from_descriptor): the JSON Schema of what jsonpb.h decodes
 *   into that message, so a tool's schema and its argument decoding cannot
 *   disagree.
 * - HTTP helpers: the Accept header, session ids, and an incremental
 *   Server-Sent Events parser for the stdio proxy.
 * - Sessions (mcp_sessions): the Streamable HTTP sessions, with idle expiry
 *   and least-recently-used eviction, time passed in by the caller.
 *
 * Strings passed in are borrowed for the call; strings returned through
 * char **out are malloc'd, NUL-terminated, and the caller's to free. The
 * module keeps no global state: safe from any thread (an mcp_sessions
 * object is not locked: one thread at a time). */
#ifndef COMFYD_MCP_H
#define COMFYD_MCP_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>
#include <yajl/yajl_tree.h>

#include "jsonpb_schema.h"

/* ---- limits ---- */

/* One message: a patch of a thousand commands or a workflow to load is far
 * less (the bridge's body limit is the same 1 MiB). */
#define MCP_MAX_MESSAGE_BYTES (1024 * 1024)
/* Nesting of a message: tool arguments nest ~8 levels; bounds the tree
 * (yajl frees it recursively). */
#define MCP_MAX_DEPTH 64
/* Values of one message (keys counted too): bounds the tree's memory. */
#define MCP_MAX_VALUES 200000
/* A request id's JSON text (a counter or a UUID is far shorter). */
#define MCP_MAX_ID_BYTES 256
/* A method name ("notifications/initialized" is 25 bytes). */
#define MCP_MAX_METHOD_BYTES 128
/* Messages of one batch (2025-03-26): clients batch a few notifications. */
#define MCP_MAX_BATCH 64
/* A protocol version string ("2025-11-25"). */
#define MCP_MAX_VERSION_BYTES 32
/* Session ids: 32 random bytes in hex. */
#define MCP_SESSION_ID_BYTES 32
#define MCP_SESSION_ID_LEN (2 * MCP_SESSION_ID_BYTES)
/* A client name remembered for the logs. */
#define MCP_MAX_CLIENT_NAME 64
/* A canvas id the session remembers (the canvas manager's CANVAS_MAX_ID). */
#define MCP_MAX_CANVAS_ID 128
/* One Server-Sent Event's data (the stdio proxy's parser): a tool result
 * is at most a few hundred KiB. */
#define MCP_SSE_MAX_EVENT (4 * 1024 * 1024)

/* ---- errors ---- */

typedef enum {
    MCP_OK = CFD_OK,
    /* The peer's input. */
    MCP_E_PARSE = CFD_ERR_MCP_PARSE,     /* not JSON (answer -32700) */
    MCP_E_INVALID = CFD_ERR_MCP_INVALID, /* JSON that is no valid message (answer -32600) */
    MCP_E_TOOBIG = CFD_ERR_MCP_TOOBIG,   /* over the limits above (HTTP 413, or -32600) */
    MCP_E_PARAMS = CFD_ERR_MCP_PARAMS,   /* a method's params do not fit (answer -32602) */
    /* State. */
    MCP_E_FULL = CFD_ERR_MCP_FULL,   /* every session is busy (HTTP 503) */
    MCP_E_AGAIN = CFD_ERR_MCP_AGAIN, /* the SSE parser needs more input */
    /* The caller's mistake (a NULL or invalid argument). */
    MCP_E_ARG = CFD_ERR_INVALID,
    MCP_E_NOMEM = CFD_ERR_NOMEM,
} mcp_err;

/* JSON-RPC error codes. */
#define MCP_RPC_PARSE_ERROR -32700
#define MCP_RPC_INVALID_REQUEST -32600
#define MCP_RPC_METHOD_NOT_FOUND -32601
#define MCP_RPC_INVALID_PARAMS -32602
#define MCP_RPC_INTERNAL_ERROR -32603

/* ---- protocol versions ---- */

/* The newest revision served ("2025-11-25"). */
const char *mcp_latest_version(void);
/* 1 when v[0..len) is a revision served. */
int mcp_version_supported(const char *v, size_t len);
/* The revision to answer initialize with: the one asked for when served,
 * else the newest (the client then decides whether it can go on). */
const char *mcp_negotiate(const char *requested);
/* What a revision has: JSON-RPC batches (2025-03-26 only), tool
 * annotations (2025-03-26 on), structuredContent, outputSchema and titles
 * (2025-06-18 on). Unknown strings have none of them. */
int mcp_version_batches(const char *v);
int mcp_version_annotations(const char *v);
int mcp_version_structured(const char *v);
/* elicitation/create exists from 2025-06-18 on. */
int mcp_version_elicitation(const char *v);
/* 1 when initialize's params declare capabilities.elicitation (an object):
 * the client can be asked (elicitation/create) instead of the tab. */
int mcp_client_elicits(yajl_val params);

/* ---- parsing ---- */

/* Parses json[0..len) after a bounded scan (size, depth, values; no
 * comments, no NUL, no lone surrogate escapes). Returns MCP_OK and *out
 * (yajl_tree_free), MCP_E_PARSE, MCP_E_TOOBIG or MCP_E_NOMEM, with a
 * message in err. */
int mcp_parse(const char *json, size_t len, yajl_val *out, char *err, size_t errlen);

typedef enum {
    MCP_MSG_REQUEST = 1,
    MCP_MSG_NOTIFICATION,
    MCP_MSG_RESPONSE, /* a result or error from the client */
} mcp_msg_kind;

/* One JSON-RPC message. Pointers are borrowed from the tree. */
typedef struct mcp_msg {
    mcp_msg_kind kind;
    /* The id's JSON text ("7", "\"a\""); "" for notifications, and for an
     * invalid message whose id could not be read (then answer with null). */
    char id[MCP_MAX_ID_BYTES + 1];
    const char *method; /* requests and notifications */
    yajl_val params;    /* NULL when absent */
} mcp_msg;

/* The compact JSON text of a parsed value. Returns MCP_OK, MCP_E_ARG or
 * MCP_E_NOMEM. */
int mcp_json_text(yajl_val v, char **out, size_t *len);

/* Classifies v (one element of a body). Returns MCP_OK, or MCP_E_INVALID
 * with the reason in err (out->id is set when the id itself was valid, so
 * the error can name it). */
int mcp_message(yajl_val v, mcp_msg *out, char *err, size_t errlen);

/* ---- answers ---- */

/* {"jsonrpc":"2.0","id":ID,"result":RESULT}; id and result are JSON text
 * (result trusted: built by this module or the caller's generator). */
int mcp_result(const char *id, const char *result, char **out, size_t *len);
/* {"jsonrpc":"2.0","id":ID|null,"error":{"code","message","data"}}; id ""
 * or NULL gives null; data is JSON text or NULL (omitted). */
int mcp_error(const char *id, int code, const char *message, const char *data, char **out,
              size_t *len);
/* {"jsonrpc":"2.0","method":METHOD,"params":PARAMS} (params JSON text or
 * NULL: omitted). */
int mcp_notification(const char *method, const char *params, char **out, size_t *len);
/* notifications/progress for token (JSON text of the client's
 * progressToken) with progress, total (0: omitted) and message (NULL:
 * omitted). */
int mcp_progress(const char *token, uint64_t progress, uint64_t total, const char *message,
                 char **out, size_t *len);

/* The server's description for initialize. Borrowed. */
typedef struct mcp_server_info {
    const char *name;
    const char *title; /* 2025-06-18 on */
    const char *version;
    const char *instructions; /* NULL: omitted */
} mcp_server_info;

/* The initialize params of a client: *version receives the negotiated
 * revision, *client the client's name ("" when it sent none; cut to
 * MCP_MAX_CLIENT_NAME bytes). Returns MCP_OK or MCP_E_PARAMS (err says
 * which field). */
int mcp_initialize_params(yajl_val params, const char **version, char *client, size_t client_cap,
                          char *err, size_t errlen);
/* The initialize result for version: protocolVersion, capabilities (tools,
 * without list changes), serverInfo, instructions. */
int mcp_initialize_result(const char *version, const mcp_server_info *info, char **out,
                          size_t *len);

/* A tool as tools/list shows it. Borrowed. */
typedef struct mcp_tool {
    const char *name;
    const char *title; /* 2025-06-18 on; NULL: omitted */
    const char *description;
    const char *input_schema;  /* JSON Schema text (an object schema) */
    const char *output_schema; /* 2025-06-18 on; NULL: omitted */
    int read_only;             /* annotations (2025-03-26 on) */
    int destructive;
    int idempotent;
    int open_world;
} mcp_tool;

/* {"tools":[...]} for version (fields it does not know are left out). */
int mcp_tools_list_result(const mcp_tool *tools, size_t n, const char *version, char **out,
                          size_t *len);

/* tools/call params: *name, *arguments (an object, NULL when absent) and
 * the progress token's JSON text (params._meta.progressToken, a string or
 * an integer; "" when absent) into token[0..token_cap). Returns MCP_OK or
 * MCP_E_PARAMS. */
int mcp_call_params(yajl_val params, const char **name, yajl_val *arguments, char *token,
                    size_t token_cap, char *err, size_t errlen);

/* A tools/call result: {"content":[{"type":"text","text":text}],
 * "structuredContent":structured (JSON object text; only when version has
 * it and structured is not NULL), "isError":is_error}. */
int mcp_tool_result(const char *text, const char *structured, int is_error, const char *version,
                    char **out, size_t *len);

/* A tools/call result holding an image: {"content":[{"type":"image",
 * "data": base64 of data[0..len), "mimeType": mime}, {"type":"text","text":
 * text}], "isError": false}. MCP_E_ARG above MCP_MAX_IMAGE_BYTES. */
#define MCP_MAX_IMAGE_BYTES (4u << 20)
int mcp_image_result(const void *data, size_t len, const char *mime, const char *text, char **out,
                     size_t *out_len);

/* One Server-Sent Event carrying json (which holds no newline):
 * "event: message\ndata: JSON\n\n". */
int mcp_sse_event(const char *json, size_t json_len, char **out, size_t *len);

/* ---- input schemas from descriptors ---- */

/* The generator is jsonpb's (common/jsonpb_schema.h), next to the decoder it
 * describes; the graph tools' schemas come from it too. These names keep
 * the MCP tool tables short. */
typedef jsonpb_field_doc mcp_field_doc;

typedef struct mcp_schema_opts {
    const mcp_field_doc *docs; /* may be NULL */
    size_t n_docs;
    const char *const *skip; /* dotted paths of fields left out */
    size_t n_skip;
    const char *const *required; /* top-level field names */
    size_t n_required;
    /* Extra top-level properties: JSON members text ("\"wait_ms\":{...}"),
     * written after the generated ones; NULL: none. */
    const char *extra_properties;
} mcp_schema_opts;

/* jsonpb_schema with this module's codes: MCP_OK, MCP_E_ARG (d NULL or
 * nesting deeper than JSONPB_SCHEMA_MAX_DEPTH) or MCP_E_NOMEM. */
int mcp_schema_from_descriptor(const ProtobufCMessageDescriptor *d, const mcp_schema_opts *opts,
                               char **out, size_t *len);

/* ---- HTTP helpers ---- */

/* Which answers an Accept header allows: *json for application/json,
 * *sse for text/event-stream (wildcards count, q=0 excludes). A NULL
 * header allows both. */
void mcp_accept(const char *accept, size_t len, int *json, int *sse);
/* 1 when s[0..len) has the form of a session id this module issues. */
int mcp_session_id_valid(const char *s, size_t len);

/* ---- sessions ---- */

typedef struct mcp_session {
    char id[MCP_SESSION_ID_LEN + 1];
    char version[MCP_MAX_VERSION_BYTES + 1]; /* negotiated */
    char client[MCP_MAX_CLIENT_NAME + 1];
    int initialized;      /* notifications/initialized arrived */
    unsigned inflight;    /* the caller's count of running calls */
    int64_t last_used_ms; /* for expiry and eviction */
    /* What the client last saw of a canvas (get_graph of the whole graph,
     * or its own applied patch): patches without base_revision are checked
     * against it, as the skills' tools do within a turn. */
    int has_view;
    char canvas[MCP_MAX_CANVAS_ID + 1];
    uint64_t revision;
    /* The client declared elicitation and speaks a version that has it. */
    int elicitation;
} mcp_session;

typedef struct mcp_sessions mcp_sessions;

/* A table of at most max sessions that expire after idle_ms without a
 * request. Returns MCP_OK, MCP_E_ARG (max 0) or MCP_E_NOMEM. */
int mcp_sessions_create(mcp_sessions **out, size_t max, int64_t idle_ms);
void mcp_sessions_destroy(mcp_sessions *s);
/* Adds a session with the id made from random[0..MCP_SESSION_ID_BYTES)
 * and version. When the table is full the least recently used session
 * without calls in flight is dropped. Returns MCP_OK and *out (valid until
 * it is removed or expires), MCP_E_FULL or MCP_E_ARG. */
int mcp_sessions_add(mcp_sessions *s, const uint8_t random[MCP_SESSION_ID_BYTES],
                     const char *version, int64_t now_ms, mcp_session **out);
/* The live session with id[0..len) (last_used_ms set to now), or NULL
 * (unknown, removed or expired). */
mcp_session *mcp_sessions_find(mcp_sessions *s, const char *id, size_t len, int64_t now_ms);
/* Removes the session. Returns 1 when it existed. */
int mcp_sessions_remove(mcp_sessions *s, const char *id, size_t len);
/* Drops sessions idle for longer than idle_ms without calls in flight.
 * Returns how many were dropped. */
size_t mcp_sessions_expire(mcp_sessions *s, int64_t now_ms);
size_t mcp_sessions_count(const mcp_sessions *s);

#endif

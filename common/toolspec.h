/* toolspec: the definitions of the graph tools shared by the skills' agent
 * loops (tools.h, in the core) and the bridge's MCP endpoint (app_mcp.c):
 * each tool's name, description and JSON Schema of its arguments, the
 * checks of those arguments, and the compact JSON results built from the
 * comfyd.v1 responses. Both callers get the same tool, the same errors and
 * the same result shapes; only where the answer comes from differs (the
 * canvas manager in-process, or GraphService over gRPC).
 *
 * Results (every one a JSON object, malloc'd text, NULL when out of
 * memory):
 *
 *   get_graph          {canvas_id, title, revision, stale, node_count,
 *                      link_count, nodes: ["#3 KSampler steps=20 ... | in:
 *                      model<-#4.MODEL ... | out: LATENT->#8.samples", ...]}
 *                      or, with detail "full", the Graph message (jsonpb)
 *                      of the nodes asked for and their links;
 *   search_node_types  {total, node_types: [{name, display_name, category,
 *                      description, outputs}]};
 *   get_node_schema    {name, ..., inputs: [{name, type, required, widget,
 *                      default, min, max, step, options}], outputs: [{slot,
 *                      name, type}]};
 *   validate_patch,
 *   apply_patch        {ok, canvas_id, revision, refs, results, errors:
 *                      [{index, code, message, suggestions}], hint};
 *   lease              the LeaseResponse (jsonpb): ok, lease, leases,
 *                      released, or error with LEASED and the lease in
 *                      the way;
 *   errors             {error, code, hint} with the GraphErrorCode name
 *                      (NO_LIVE_CANVAS, ...) or INVALID_ARGUMENT.
 *
 * Everything here is pure and stateless (static tables, no I/O), safe from
 * any thread. */
#ifndef COMFYD_TOOLSPEC_H
#define COMFYD_TOOLSPEC_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

#include "comfyd/v1/graph.pb-c.h"
#include "comfyd/v1/run.pb-c.h"

/* get_graph: outline lines per call (a big workflow has ~300 nodes), node
 * ids per call, widgets shown per line, and bytes of a text value shown in
 * the outline (prompts are long; the full detail has them whole). */
#define TOOLSPEC_MAX_OUTLINE_NODES 500
#define TOOLSPEC_MAX_NODE_IDS 200
#define TOOLSPEC_OUTLINE_WIDGETS 16
#define TOOLSPEC_OUTLINE_TEXT 80
/* Bytes of one result: below the agent's AGENT_MAX_TOOL_RESULT with room
 * to spare, and a model reads no more anyway. */
#define TOOLSPEC_MAX_RESULT (200 * 1024)
/* search_node_types: the default and the largest limit (a model reads
 * every entry; more is noise). */
#define TOOLSPEC_SEARCH_DEFAULT 20
#define TOOLSPEC_SEARCH_MAX 100
/* get_node_schema: combo options listed (checkpoint folders hold
 * thousands); options_total says how many there are. */
#define TOOLSPEC_MAX_OPTIONS 100
/* Bytes of a description or tooltip passed on. */
#define TOOLSPEC_MAX_DESCRIPTION 300
/* A canvas id argument: the canvas manager's CANVAS_MAX_ID. */
#define TOOLSPEC_MAX_CANVAS_ID 128
/* A node type name argument: nodeinfo's NODEINFO_MAX_NAME. */
#define TOOLSPEC_MAX_TYPE_NAME 512
/* Close names offered for an unknown node type (NODEINFO_MAX_SUGGESTIONS). */
#define TOOLSPEC_MAX_SUGGESTIONS 5
/* run: how long to wait for the run by default and at most; a run still
 * going then is answered {"timed_out": true, ...}, not an error. */
#define TOOLSPEC_RUN_WAIT_DEFAULT_MS 60000
#define TOOLSPEC_RUN_WAIT_MAX_MS 600000
/* A prompt id or node id argument (COMFY_MAX_ID). */
#define TOOLSPEC_MAX_RUN_ID 256
/* view_output: the largest image handed to a model or an MCP client (the
 * bytes travel base64 in one message). */
#define TOOLSPEC_MAX_IMAGE_BYTES (2u << 20)
/* view_output: a PNG's longer side is scaled down to this for MCP clients
 * (a model sees no more detail, and the message stays small). */
#define TOOLSPEC_VIEW_MAX_SIDE 1024

/* The graph tools, in the order the agent's table lists them. */
typedef enum {
    TOOLSPEC_GET_GRAPH = 0,
    TOOLSPEC_SEARCH_NODE_TYPES,
    TOOLSPEC_GET_NODE_SCHEMA,
    TOOLSPEC_VALIDATE_PATCH,
    TOOLSPEC_APPLY_PATCH,
    TOOLSPEC_QUEUE,
    /* Runs (docs/runs.md): need the core's --comfyui. */
    TOOLSPEC_RUN,
    TOOLSPEC_GET_RUN,
    TOOLSPEC_CANCEL_RUN,
    TOOLSPEC_VIEW_OUTPUT,
    /* Leases on nodes (docs/concurrent-editing.md, "Leases"). */
    TOOLSPEC_LEASE,
    TOOLSPEC__COUNT,
} toolspec_id;

typedef struct toolspec_def {
    const char *name;            /* [a-z_], as a model calls it */
    const char *description;     /* for the model */
    const char *parameters_json; /* a JSON Schema object */
    int read_only;               /* 1: never changes anything */
} toolspec_def;

/* The definition of id (static), or NULL for an id outside the enum. */
const toolspec_def *toolspec_get(toolspec_id id);

/* ---- arguments ---- */

/* Checks that args is an object whose keys are all parameters of id.
 * Returns 0, or -1 with *err set to an error result ({"error": "unknown
 * argument 'x'; expected one of ...", "code": "INVALID_ARGUMENT"}; NULL
 * when out of memory). */
int toolspec_check_args(toolspec_id id, yajl_val args, char **err);

/* get_graph's arguments, after toolspec_check_args. canvas_id points into
 * args ("" when absent); *full is 1 for detail "full"; ids receives at most
 * TOOLSPEC_MAX_NODE_IDS node ids. Returns 0, or -1 with *err as above. */
int toolspec_get_graph_args(yajl_val args, const char **canvas_id, int *full,
                            int64_t ids[TOOLSPEC_MAX_NODE_IDS], size_t *n_ids, char **err);

/* get_node_schema's node_type (points into args). Returns 0, or -1 with
 * *err ("node_type is required", too long, not a string). */
int toolspec_schema_args(yajl_val args, const char **node_type, char **err);

/* The refusal of a patch without commands (an error result). */
char *toolspec_no_commands(void);

/* ---- results ---- */

/* {"error": message, "code": code, "hint": hint} (code, hint may be NULL);
 * message is printf-formatted and cut on a UTF-8 boundary. */
char *toolspec_error(const char *code, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "NO_LIVE_CANVAS", ... (the enum value name without its prefix). */
const char *toolspec_code_name(Comfyd__V1__GraphErrorCode code);
/* What the model should do about a graph-level error (NULL: nothing
 * specific). */
const char *toolspec_hint(Comfyd__V1__GraphErrorCode code);

/* get_graph's outline of g, restricted to ids[0..n_ids) when n_ids > 0. */
char *toolspec_graph_outline(const Comfyd__V1__Graph *g, const int64_t *ids, size_t n_ids);
/* get_graph's full detail: the Graph message of the nodes asked for (all
 * when n_ids is 0) and the links touching them. Returns 0 with the result
 * in *out, or -1 with *out a TOO_LARGE error result (longer than
 * TOOLSPEC_MAX_RESULT) or NULL (out of memory). */
int toolspec_graph_full(const Comfyd__V1__Graph *g, const int64_t *ids, size_t n_ids, char **out);
/* search_node_types's result. */
char *toolspec_search_result(const Comfyd__V1__ListNodeTypesResponse *r);
/* get_node_schema's result for one node type. */
char *toolspec_schema_result(const Comfyd__V1__NodeType *nt);
/* get_node_schema's UNKNOWN_NODE_TYPE error with close names (borrowed). */
char *toolspec_unknown_type(const char *name, const char *const *suggestions, size_t n);
/* validate_patch's and apply_patch's result for a completed ExecuteBatch
 * sent with base revision base (has_base 0: none). The hint says what to do
 * next when r is not ok (STALE_REVISION: read the graph again). */
char *toolspec_patch_result(const Comfyd__V1__ExecuteBatchResponse *r, int validate_only,
                            int has_base, uint64_t base);

/* ---- runs ---- */

/* run's arguments (after toolspec_check_args): canvas_id points into args
 * ("" when absent), *wait_ms TOOLSPEC_RUN_WAIT_DEFAULT_MS unless given
 * (1000..TOOLSPEC_RUN_WAIT_MAX_MS). Returns 0, or -1 with *err. */
int toolspec_run_args(yajl_val args, const char **canvas_id, uint32_t *wait_ms, char **err);
/* get_run's, cancel_run's and view_output's arguments: prompt_id
 * (required), and for view_output node_id (required) and index (default
 * 0). Strings point into args. Returns 0, or -1 with *err. */
int toolspec_run_id_args(yajl_val args, int output, const char **prompt_id, const char **node_id,
                         uint32_t *index, char **err);
/* A run as a compact result: {prompt_id, status ("succeeded", ...),
 * canvas_id, revision, timed_out (run only, when set), reason,
 * queue_position, executing_node, progress, elapsed_ms, outputs: [{node_id,
 * index, kind, filename, subfolder, type}], failure: {summary, errors:
 * [{node_id, title, node_type, input, message, details, allowed_values}],
 * exception: {node_id, title, node_type, type, message, traceback}}, hint}.
 * with_timed_out: write timed_out (the run tool). */
char *toolspec_run_result(const Comfyd__V1__Run *r, int with_timed_out, int timed_out);
/* One line for a progress notification: "running node 3 (5/20)",
 * "queued (position 2)", "succeeded", ... */
void toolspec_run_line(const Comfyd__V1__Run *r, char *out, size_t len);
/* "succeeded", "failed", ... */
const char *toolspec_run_status(Comfyd__V1__RunStatus s);

#endif

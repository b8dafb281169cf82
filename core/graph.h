/* graph: the typed mirror of one canvas (a workflow open in a ComfyUI tab),
 * validation of command batches against it, and the operation log.
 *
 * The tab is authoritative: the mirror is only ever replaced by a workflow
 * the tab sent (graph_parse_workflow on attach, graph_apply_workflow after a
 * patch or a user edit), and the difference is recorded as operations.
 * Commands are never applied here; graph_validate simulates a batch on a
 * scratch copy to find every error and predict the ids the tab will assign.
 *
 * Pure logic: no I/O, no locks. A graph is not thread-safe; its owner (the
 * canvas) serialises access. It holds a reference to its schema.
 *
 * Workflow JSON is LiteGraph's serialisation as ComfyUI writes it:
 *   nodes[]: id, type, pos ([x, y] or {"0": x, "1": y}), size, title, mode,
 *            inputs[] {name, type, link, widget {name}},
 *            outputs[] {name, type, links[]}, widgets_values;
 *   links[]: [id, from_id, from_slot, to_id, to_slot, type] (or objects with
 *            id, origin_id, origin_slot, target_id, target_slot, type);
 *   last_node_id, last_link_id (or state.lastNodeId, state.lastLinkId).
 * Everything else (groups, extra, definitions, properties) is kept only in
 * the raw JSON.
 *
 * widgets_values: an array is mapped to the node type's widget inputs in
 * schema order (see nodeinfo.h). After a widget with control_after_generate,
 * the next value is taken as the "control_after_generate" widget when it is
 * one of fixed/increment/decrement/randomize (older or foreign workflows may
 * lack it). Values left over (extension widgets, an upload button's "image")
 * and all values of types the schema does not know are kept by position as
 * widgets named "#0", "#1", ... (the index in widgets_values). An object is
 * taken as name -> value. Arrays and objects inside are kept as JSON text. */
#ifndef COMFYD_GRAPH_H
#define COMFYD_GRAPH_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

#include "nodeinfo.h"

/* Largest workflow accepted: real ones are < 1 MB; pasted images or big
 * embedded data can make them a few MB. */
#define GRAPH_MAX_WORKFLOW_BYTES (32u << 20)
/* Subgraph definitions nest workflows; 128 levels is far beyond real ones
 * and far below what the recursive yajl_tree_free can take. */
#define GRAPH_MAX_DEPTH 128
/* JSON values in one workflow: bounds the parse tree's memory. */
#define GRAPH_MAX_VALUES (4u << 20)
/* Nodes and links on one canvas: the largest real workflows have ~2000. */
#define GRAPH_MAX_NODES 10000
#define GRAPH_MAX_LINKS 100000
/* Input or output slots, and widgets, of one node. */
#define GRAPH_MAX_SLOTS 1024
#define GRAPH_MAX_WIDGETS 1024
/* Type names, slot names, widget names and titles. */
#define GRAPH_MAX_NAME 1024
/* Commands in one batch: a whole workflow built at once is ~200. */
#define GRAPH_MAX_BATCH 1000
/* Length of a create_node ref. */
#define GRAPH_MAX_REF 128
/* A text widget value of a command (long prompts are a few KB). */
#define GRAPH_MAX_TEXT (256u << 10)
/* Canvas coordinates accepted from commands (LiteGraph has no bound; this
 * keeps nodes reachable and the numbers exact). */
#define GRAPH_MAX_COORD 1e7
/* Largest gap an arrange may ask for between columns and nodes: a few
 * node widths; more only scatters the graph. */
#define GRAPH_MAX_SPACING 1e4
/* Operations kept for graph_diff_since; older diffs get the whole graph. */
#define GRAPH_OPLOG_MAX 1024

typedef enum {
    GRAPH_OK = CFD_OK,
    /* Not JSON, not a workflow, or a bad argument (message in err). */
    GRAPH_EINVAL = CFD_ERR_INVALID,
    /* A GRAPH_MAX_* limit was exceeded. */
    GRAPH_ETOOBIG = CFD_ERR_GRAPH_TOOBIG,
    GRAPH_ENOMEM = CFD_ERR_NOMEM,
    /* graph_apply_workflow: the revision is not above the current one. */
    GRAPH_EREVISION = CFD_ERR_GRAPH_REVISION,
    /* graph_diff_since: the log no longer reaches that revision. */
    GRAPH_ETRUNCATED = CFD_ERR_GRAPH_TRUNCATED,
    /* graph_apply_delta: the graph after the delta does not have the
     * digest the tab computed (the delta is wrong or incomplete). */
    GRAPH_EDIGEST = CFD_ERR_GRAPH_DIGEST,
} graph_err;

/* Read-only views of the mirror. Owned by the graph; valid until the next
 * graph_apply_workflow or graph_destroy. */
typedef struct {
    char *name;
    char *type;
    int64_t link; /* 0 when unconnected */
    char *widget; /* the widget this socket belongs to, or NULL */
} graph_input;

typedef struct {
    char *name;
    char *type;
    int64_t *links;
    size_t n_links;
} graph_output;

typedef struct {
    char *name;
    nodeinfo_value value;
} graph_widget;

typedef struct {
    int64_t id;
    char *type;
    char *title; /* NULL: the type's display name (LiteGraph omits it then) */
    double x, y, w, h;
    int mode; /* 0 always, 2 never (muted), 4 bypassed */
    graph_input *inputs;
    size_t n_inputs;
    graph_output *outputs;
    size_t n_outputs;
    graph_widget *widgets;
    size_t n_widgets;
} graph_node;

typedef struct {
    int64_t id;
    int64_t from_id;
    uint32_t from_slot;
    int64_t to_id;
    uint32_t to_slot;
    char *type;
} graph_link;

typedef struct graph graph;

/* Parses a workflow into a new mirror at the given revision (the log starts
 * empty and reaches back to it). schema may be NULL (every type unknown);
 * the graph takes its own reference. Returns GRAPH_OK and *out (free with
 * graph_destroy), GRAPH_EINVAL, GRAPH_ETOOBIG or GRAPH_ENOMEM with a
 * one-line message in err (may be NULL). */
int graph_parse_workflow(graph **out, const char *json, size_t len, nodeinfo *schema,
                         uint64_t revision, char *err, size_t errlen);
void graph_destroy(graph *g);

uint64_t graph_revision(const graph *g);
/* The schema the mirror was parsed with (may be NULL); borrowed. */
nodeinfo *graph_schema(const graph *g);
/* The workflow JSON the mirror was parsed from, NUL-terminated; *len (may be
 * NULL) gets its length. Valid until the next apply or destroy. */
const char *graph_workflow_json(const graph *g, size_t *len);

/* Nodes sorted by id, and links sorted by id. */
size_t graph_node_count(const graph *g);
const graph_node *graph_node_at(const graph *g, size_t i);
const graph_node *graph_find_node(const graph *g, int64_t id);
size_t graph_link_count(const graph *g);
const graph_link *graph_link_at(const graph *g, size_t i);
const graph_link *graph_find_link(const graph *g, int64_t id);
/* The ids the tab assigns next: last id + 1 (never below the largest id in
 * use, in case last_node_id is stale). */
int64_t graph_next_node_id(const graph *g);
int64_t graph_next_link_id(const graph *g);

/* Builds a newly allocated Graph message with the nodes, links and
 * revision (canvas_id, title and stale are left for the caller; assign
 * malloc'd strings). Free with protobuf_c_message_free_unpacked(&m->base,
 * NULL). NULL on out of memory. Titles are the explicit title or else the
 * type's display name. */
Comfyd__V1__Graph *graph_to_proto(const graph *g);
/* The same for one node (for CommandResult.node). */
Comfyd__V1__Node *graph_node_to_proto(const graph *g, const graph_node *n);

/* The outcome of graph_validate. Everything is malloc'd and owned by the
 * struct until graph_check_clear (take pointers out and zero the counts to
 * move them into a response). */
typedef struct {
    int ok; /* every command is valid */
    /* One per command, in order: index, ok, node_id (created, removed,
     * moved or changed; for connect the target), link_id (made by connect,
     * removed by disconnect), error (the command's first error). */
    Comfyd__V1__CommandResult **results;
    size_t n_results;
    /* Every error of the batch, in command order. */
    Comfyd__V1__GraphError **errors;
    size_t n_errors;
    /* Ids the tab is expected to assign to the batch's valid create_node
     * commands, in order, and ref -> id for those with a ref. Both are empty
     * when an atomic batch has errors (nothing would be applied). */
    int64_t *expected_ids;
    size_t n_expected_ids;
    Comfyd__V1__ExecuteBatchResponse__RefsEntry **refs;
    size_t n_refs;
} graph_check;

/* Frees everything in c and zeroes it. */
void graph_check_clear(graph_check *c);

/* Validates cmds[0..n) as one batch against the mirror and schema (NULL:
 * the mirror's schema). The batch is simulated in order on a scratch copy,
 * so later commands may use refs (NodeRef.ref = CreateNodeCommand.ref) and
 * links made earlier; an invalid command is not simulated. Every error is
 * reported (codes: INVALID_COMMAND, UNKNOWN_NODE_TYPE and WIDGET_NOT_FOUND,
 * SLOT_NOT_FOUND and REF_NOT_FOUND with suggestions, NODE_NOT_FOUND,
 * TYPE_MISMATCH, VALUE_INVALID). Id prediction follows LiteGraph: each
 * create_node takes last_node_id + 1, each connect last_link_id + 1, and
 * clear_graph resets both to 0.
 * Slots: an index or name of the node's sockets as the tab has them; for a
 * node created in the batch, its schema sockets in order (on canvases whose
 * nodes carry a socket for every widget, as newer frontends do, every input;
 * otherwise the non-widget inputs). Names also match the widget a socket
 * belongs to. Nodes of types the schema does not know are checked only for
 * existence and slots, and so are the run-time widgets of a PrimitiveNode:
 * the tab judges those. Disconnecting an input that has no link is valid
 * (link_id 0): the state asked for already holds. A node cannot be linked
 * to itself; longer cycles are not looked for (ComfyUI reports them when
 * the prompt is queued).
 * arrange: every node named must exist at that point of the batch (by id,
 * or by the ref of an earlier create_node); its origin must be within
 * GRAPH_MAX_COORD and its spacing within 0..GRAPH_MAX_SPACING. The layout
 * itself is the tab's (it has the node sizes): its moves come back in the
 * post-state and are logged as moves.
 * Batches over GRAPH_MAX_BATCH get one INVALID_COMMAND error with index -1
 * and no results. mode: ATOMIC (or UNSPECIFIED) or PARTIAL.
 * Returns GRAPH_OK (look at out->ok) or GRAPH_ENOMEM; out is always left
 * safe to clear. */
int graph_validate(const graph *g, const nodeinfo *schema, const Comfyd__V1__Command *const *cmds,
                   size_t n, Comfyd__V1__BatchMode mode, graph_check *out);

/* ---- the command table ----
 *
 * Every case of the Command oneof is one row of a table in graph_cmd.c: its
 * name (the oneof member's, read from the protobuf-c descriptor), its shape
 * check (sizes and encodings, before anything is queued), its validator
 * (graph_validate's simulation), its diff op (how a change made in the tab
 * is logged as that command, when it can be) and its flags. The canvas
 * manager and graph_validate iterate the table; no other C code lists the
 * commands but graph_rebase.c (what each touches when a stale patch is
 * rebased). docs/adding-a-graph-command.md is the recipe. */

/* The command changes nothing: it is answered from the mirror and never
 * sent to the tab (get_graph). */
#define GRAPH_CMD_READ_ONLY 1u

/* The flags of c's command; 0 for an empty or unknown command. */
unsigned graph_cmd_flags(const Comfyd__V1__Command *c);

/* The name of c's command ("create_node"), static; NULL when c is NULL,
 * empty, of a case this build does not know, or without its payload. */
const char *graph_cmd_name(const Comfyd__V1__Command *c);

/* Writes the names of all commands, comma separated in field order
 * ("create_node, remove_node, ..."), into buf[0..len) (truncated, always
 * terminated when len > 0). Returns buf. */
char *graph_cmd_names(char *buf, size_t len);

/* The request-level check of command i of a batch: a command is set, its
 * strings are UTF-8 within their limits (GRAPH_MAX_NAME, GRAPH_MAX_REF,
 * GRAPH_MAX_TEXT), its lists within theirs. Returns GRAPH_OK, or
 * GRAPH_EINVAL with err naming the field ("commands[2].set_widget.name is
 * too long (at most 1024 bytes)"; for an empty command "commands[2] is
 * empty: set one of create_node, ..."). Graph-level checks are
 * graph_validate's. */
int graph_cmd_check_shape(const Comfyd__V1__Command *c, size_t i, char *err, size_t errlen);

/* Replaces the mirror with the tab's workflow at revision (> the current
 * one) and logs the difference as operations stamped with revision, origin
 * and time_ms: node added (create_node with type, position, title and
 * widgets), removed, moved, widget changed (set_widget), link added
 * (connect) and removed (disconnect; links that go with a removed node or
 * are replaced by a new link into the same input are implied), mode
 * changed (set_node_mode; modes 1 and 3 have no name there). Each op names
 * what it is about (node_id; link_id and from_node_id for links; widget for
 * set_widget), whether or not it has a command. Title
 * changes have no command in the contract: their ops carry only the
 * summary, and so do mode 1 and 3. Each op has a one-line summary such as
 * "moved #3 KSampler to (400, 200)".
 * When ops is not NULL, *ops gets a malloc'd array of the new operations
 * (free with graph_ops_free) and *n_ops its length.
 * Returns GRAPH_OK; GRAPH_EREVISION; or the errors of graph_parse_workflow.
 * On error the mirror is unchanged. */
int graph_apply_workflow(graph *g, const char *json, size_t len, uint64_t revision,
                         Comfyd__V1__GraphOrigin origin, int64_t time_ms,
                         Comfyd__V1__GraphOp ***ops, size_t *n_ops, char *err, size_t errlen);

/* What a patch or a user edit changed (comfyd.v1.GraphDelta, see
 * docs/graph-delta.md): borrowed strings and ids. */
typedef struct {
    const char *const *nodes_json; /* each node added or changed, LiteGraph's JSON object */
    size_t n_nodes_json;
    const int64_t *removed_nodes;
    size_t n_removed_nodes;
    const char *const *links_json; /* each link added or changed */
    size_t n_links_json;
    const int64_t *removed_links;
    size_t n_removed_links;
    int64_t last_node_id, last_link_id; /* the tab's counters after the change */
    uint32_t digest;                    /* of the whole graph after the change */
} graph_delta;

/* The digest of the mirror (docs/graph-delta.md): FNV-1a over 32-bit
 * words of the node ids, types, positions, modes and slot links, and of
 * the links, in id order. */
uint32_t graph_digest(const graph *g);

/* Applies d to the mirror at revision (> the current one) and logs the
 * difference as graph_apply_workflow does, without re-reading the whole
 * workflow: the cost follows the size of the delta (plus one pass to
 * compute the digest). The workflow text (graph_workflow_json) is written
 * from a tree of it when next asked for. The result must have d->digest:
 * otherwise GRAPH_EDIGEST and nothing changes. Also GRAPH_EREVISION,
 * GRAPH_EINVAL (a piece is not a node or link, an id is listed twice, a
 * removed one is not there), GRAPH_ETOOBIG, GRAPH_ENOMEM; on any error
 * the mirror is unchanged and the caller asks the tab for the whole
 * workflow. */
int graph_apply_delta(graph *g, const graph_delta *d, uint64_t revision,
                      Comfyd__V1__GraphOrigin origin, int64_t time_ms, char *err, size_t errlen);

/* The logged operations after revision since, oldest first, as a malloc'd
 * array of messages (free with graph_ops_free). Returns GRAPH_OK (possibly
 * zero ops), GRAPH_ETRUNCATED when operations after since are no longer in
 * the log (send the whole graph instead), or GRAPH_ENOMEM. */
int graph_diff_since(const graph *g, uint64_t since, Comfyd__V1__GraphOp ***ops, size_t *n_ops);
void graph_ops_free(Comfyd__V1__GraphOp **ops, size_t n_ops);
/* The oldest revision graph_diff_since still answers from (the whole log:
 * graph_diff_since(g, graph_log_floor(g), ...)). */
uint64_t graph_log_floor(const graph *g);

#endif

/* tools: the graph tools of the skills' agent loops (agent.h), bound to the
 * canvas manager (canvas.h), and the canvas note given to the model before
 * each turn.
 *
 * Every tool goes through the same validated path as any GraphService
 * caller: get_graph, search_node_types and get_node_schema answer from the
 * mirror and the schema; validate_patch and apply_patch are an
 * ExecuteBatch (validate_only for the first) with the seed's commands;
 * queue is a Queue. Arguments are JSON objects checked against the tool's
 * keys and decoded into comfyd.v1 requests with the generic codec
 * (jsonpb.h), so the model gets the same path-named errors
 * ("commands[2].node_id: ...") a client does. The tools' names,
 * descriptions, argument schemas and checks and their compact JSON results
 * are shared with the bridge's MCP endpoint (toolspec.h); queue returns the
 * QueueResponse (jsonpb).
 *
 * Runs (with --comfyui): run queues and waits, get_run and cancel_run,
 * view_output describes an output file (name, node, size). In a vision
 * turn (agent_call_ctx.vision) view_output and a succeeded run also hand
 * the image to the agent loop (agent_call_attach_image), a PNG scaled down
 * to TOOLS_VISION_MAX_SIDE first, and the result says that it follows.
 *
 * Errors are results too: {error, code, hint} with the GraphErrorCode name
 * (NO_LIVE_CANVAS, ...) or INVALID_ARGUMENT for bad arguments, returned as
 * AGENT_TOOL_ERROR. A refused apply_patch (ok false) is AGENT_TOOL_ERROR;
 * validate_patch returns its findings as AGENT_TOOL_OK.
 *
 * Revisions. Each (session, skill) remembers the canvas and revision it
 * last saw in the current turn (its get_graph, or its own applied patch).
 * A patch without base_revision is sent with that revision, and to that
 * canvas when it names none, so two skills' patches never overwrite each
 * other: a patch built on a state that changed meanwhile is refused with
 * STALE_REVISION and a hint telling the model to read the graph again. A
 * skill that saw nothing yet in the turn uses what the turn's note told the
 * model (its canvas and revision); without a note no revision is checked
 * and the request names the canvas that has focus now, so that a retry of
 * the call reaches the same canvas.
 *
 * Idempotency. apply_patch and queue carry a key made of the session, the
 * turn, the skill and the call id (hashed when longer than
 * CANVAS_MAX_KEY), so a call is never applied twice.
 *
 * The note (tools_note, a sess_note_fn). Per session the module remembers a
 * canvas and a mark: the last revision the session's model was shown (the
 * previous note, a get_graph, or a patch applied on a known revision).
 * Before each turn the note names the canvas (the most recently focused
 * one) and lists what the user changed since the mark (USER ops of
 * canvas_get_diff, at most TOOLS_NOTE_MAX_OPS lines), or just its revision
 * and size the first time; then the mark moves to the current revision.
 *
 * Threads. Tool functions run on skill worker threads, several at once;
 * the state above is guarded by one mutex, never held while calling the
 * canvas manager. A call that waits for a tab waits on its own condition
 * variable, polling the turn's cancel flag every TOOLS_CANCEL_POLL_MS: on
 * cancel it returns at once and the canvas manager's later completion (at
 * the latest canvas_mgr_shutdown) frees what the call left behind. */
#ifndef COMFYD_TOOLS_H
#define COMFYD_TOOLS_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "canvas.h"
#include "checkpoint.h"
#include "runs.h"
#include "toolspec.h"

/* Cancel latency of a call waiting for a tab: the flag is a plain atomic
 * without a wake-up, so it is polled. */
#define TOOLS_CANCEL_POLL_MS 10
/* (session, skill) pairs and sessions remembered; the least recently used
 * go first (a forgotten skill just gets no automatic base revision). */
#define TOOLS_MAX_SEEN 1024
#define TOOLS_MAX_SESSIONS 1024
/* search_node_types's default and largest limit (toolspec.h). */
#define TOOLS_SEARCH_DEFAULT TOOLSPEC_SEARCH_DEFAULT
#define TOOLS_SEARCH_MAX TOOLSPEC_SEARCH_MAX
/* run: how often a waiting call looks at its run (and at the cancel flag). */
#define TOOLS_RUN_POLL_MS 100
/* Images shown to a vision model (view_output, and run's first outputs):
 * a PNG is scaled down so that its longer side is at most this (tokens and
 * bytes; a model judges a picture well at this size). */
#define TOOLS_VISION_MAX_SIDE 1024
/* Image outputs of a succeeded run shown to a vision model with the run's
 * result; view_output shows any other. */
#define TOOLS_RUN_IMAGES 2
/* The note: user ops listed and its size (below AGENT_MAX_NOTE). */
#define TOOLS_NOTE_MAX_OPS 20
#define TOOLS_NOTE_MAX_BYTES 2048

typedef enum {
    TOOLS_OK = CFD_OK,
    TOOLS_EINVAL = CFD_ERR_INVALID, /* opts or opts->cm missing */
    TOOLS_ENOMEM = CFD_ERR_NOMEM,
} tools_err;

typedef struct tools tools;

typedef struct tools_opts {
    canvas_mgr *cm; /* borrowed; must outlive every tool call and the note */
    /* Caps each wait for a tab (canvas_execute_batch's limit_ms); 0: the
     * canvas manager's timeout alone. */
    uint32_t wait_ms;
    /* Runs (--comfyui), borrowed; NULL: queue goes to the tab alone and
     * run, get_run, cancel_run and view_output answer that runs are not
     * followed. */
    runs *runs;
    /* Canvas checkpoints of the turns' patches (checkpoint.h), borrowed;
     * NULL: none are kept. */
    ckpt *ck;
} tools_opts;

/* Creates the module. Returns TOOLS_OK and *out, TOOLS_EINVAL or
 * TOOLS_ENOMEM (*out NULL). */
int tools_create(tools **out, const tools_opts *opts);
/* Frees it. No tool call or note may be running (shut the session manager
 * down first), and the canvas manager must have been shut down: it
 * completes the requests cancelled calls left, and those completions use
 * this object. NULL is a no-op. */
void tools_destroy(tools *t);

/* The tool table (static, n entries) for sess_mgr_set_tools with ud = the
 * tools object: get_graph, search_node_types, get_node_schema,
 * validate_patch (read-only) and apply_patch, queue. */
const agent_tool *tools_table(size_t *n);

/* The note callback (sess_note_fn) with ud = the tools object: malloc'd
 * text (at most TOOLS_NOTE_MAX_BYTES) or NULL when out of memory. */
char *tools_note(void *ud, const char *session_id);
/* The turn-end callback (sess_turn_end_fn) with ud = the tools object:
 * releases the leases the session's skills hold (canvas_lease). */
void tools_turn_end(void *ud, const char *session_id);

#endif

/* canvas: the canvas manager behind comfyd.v1.GraphService. A canvas is a
 * workflow open in a ComfyUI browser tab; the manager keeps a typed mirror
 * of each one (graph.h), routes agents' commands to the tab that owns it,
 * and commits what the tab reports back.
 *
 * Tabs. A tab attaches its canvas (canvas_attach, from AttachCanvas) with
 * its serialized workflow and the node types it knows, and is talked to
 * through canvas_tab_ops (the stream); its replies and its own edits come
 * in through canvas_report (ReportEditor). Re-attaching a canvas_id (page
 * reload, reconnect) replaces the old attachment, whose stream is ended
 * with ABORTED "replaced by a new attachment"; the workflow the tab brings
 * is applied to the mirror (ops with origin LOAD). When a tab goes away
 * (canvas_tab_gone) its canvas stays as a detached mirror marked stale:
 * reads still work, mutations get NO_LIVE_CANVAS.
 *
 * Revisions are assigned here, one step per committed change, strictly
 * increasing per canvas_id: a canvas_id that is dropped
 * (CANVAS_MAX_CANVASES) and comes back starts above every revision handed
 * out before, and so does every canvas after a restart, also after a
 * crash: with a store (opts.db) the highest revision that may have been
 * handed out is reserved there in blocks of CANVAS_REV_BLOCK before it is
 * used, and a new manager starts above the reservation. A base_revision
 * read before a restart is therefore never the revision of a canvas after
 * it (STALE_REVISION), and revisions never go back. A workflow byte-identical to the mirror's is
 * not a change. A change of the node-type schema under a mirror re-reads the mirror at the same
 * revision and restarts its operation log (diffs from before then are answered truncated, with the
 * whole graph).
 *
 * Addressing. A request names a canvas_id, or leaves it empty for the most
 * recently focused attached canvas: none attached is NO_LIVE_CANVAS, one
 * attached is that one, several of which none ever reported focus is
 * AMBIGUOUS_CANVAS (the message lists them). An unknown canvas_id is
 * CANVAS_NOT_FOUND.
 *
 * Patches (Execute, ExecuteBatch). Requests to a tab (patches, queue, load)
 * wait in a FIFO per canvas with one in flight, and each is validated
 * against the mirror when it reaches the head of the queue, so two agents
 * never overwrite each other: a base_revision that went stale while
 * waiting is rebased onto the current revision when the patch commutes
 * with every revision since (graph_rebase.h; the answer has rebased and
 * rebased_from) and refused with STALE_REVISION and the conflicts when it
 * does not, or whenever on_stale is REJECT, the base is ahead of the canvas
 * or the operation log no longer reaches it. Validation (graph_validate) happens
 * before anything reaches the tab; ATOMIC mode (the default) sends nothing
 * when any command is invalid; PARTIAL mode sends only the valid commands.
 * The tab gets a PatchRequest and must answer with a PatchResult carrying
 * the post-state workflow; only then is the mirror committed (origin
 * AGENT) and the request answered with the tab's per-command results
 * (node ids, link ids, values read back), the refs and the new revision.
 * validate_only, get_graph and batches without mutating commands answer
 * from the mirror at once, attached or not. The tab not answering in time
 * is EDITOR_TIMEOUT, its stream ending first EDITOR_GONE, ok=false (some
 * command did not apply) of an ATOMIC patch, which the tab rolled back,
 * EDITOR_FAILED with its message; in each case the mirror is unchanged. A
 * PARTIAL patch keeps what worked in the tab, so its post-state is
 * committed whatever ok says and each command is answered: the tab's
 * failures with their errors, the others ok. A late PatchResult (after a
 * timeout) still commits its post-state, failed or not, since the tab is
 * authoritative; a report whose tab_revision is below one already seen
 * from that tab is not committed (a newer state is in).
 *
 * Previews (docs/concurrent-editing.md). A patch with apply_mode PREVIEW
 * (or PREVIEW_IF_SHOWN on a tab that attached with can_preview) is
 * validated as above, then sent as a PreviewRequest instead and stays in
 * flight until the tab's PreviewDecision or preview_timeout_ms
 * (CANVAS_DEFAULT_PREVIEW_MS, at most CANVAS_MAX_PREVIEW_MS, within the
 * caller's limit). Accepted, it is dispatched again from the start
 * (rebased or refused, validated against the mirror as it is then, sent as
 * a PatchRequest with a new request_id and its own timeout_ms); rejected
 * or timed out, it is answered ok=false with preview.outcome and a SKIPPED
 * error, nothing applied. PREVIEW on a tab without can_preview is
 * answered UNAVAILABLE; PREVIEW_IF_SHOWN there is applied at once.
 *
 * How errors reach a caller. Graph-level outcomes of Execute and
 * ExecuteBatch are responses, not failures: ok=false with every error in
 * errors[] and the per-command results[] (a request-level error such as
 * NO_LIVE_CANVAS or EDITOR_TIMEOUT is one error with index -1 and is also
 * set on every command's result). Malformed requests are CANVAS_EINVAL
 * (gRPC INVALID_ARGUMENT), limits CANVAS_EFULL (RESOURCE_EXHAUSTED), and
 * shutdown CANVAS_ESHUTDOWN (UNAVAILABLE). Queue, Load, Save, GetGraph and
 * GetDiff have no error fields: their graph errors are CANVAS_EGRAPH with
 * the GraphErrorCode, which the service maps to a gRPC status.
 *
 * Idempotency. Execute, ExecuteBatch, Queue and Load may carry an
 * idempotency_key (at most CANVAS_MAX_KEY bytes), scoped by the method and
 * the canvas_id as given in the request (validate_only and batches of only
 * get_graph change nothing and ignore it). A retry with the same key gets
 * the stored response with replayed=true and is never applied twice; a
 * retry while the first is in flight waits for the same outcome. Outcomes
 * decided before anything was sent to a tab (refusals: validation errors,
 * NO_LIVE_CANVAS, STALE_REVISION, ...) are handed to the waiting retries
 * but not kept, so a later retry is evaluated afresh: nothing was applied.
 * The store keeps CANVAS_IDEM_MAX_KEYS keys and CANVAS_IDEM_MAX_BYTES of
 * responses, least recently used out first, each for at most
 * idem_max_age_ms. With opts.db every kept outcome is written there before
 * the request is answered and restored at the next start (a retry after a
 * restart or a kill -9 is replayed, never applied again). A key remembers
 * a SHA-256 of its request's canonical form (without the key, timeout_ms
 * and base_revision, defaults spelled out, widgets in key order): the same key
 * with another request is refused with IDEMPOTENCY_KEY_REUSED (a graph
 * error: in the response for Execute and ExecuteBatch, CANVAS_EGRAPH for
 * Queue and Load), while that key's outcome stays as it was.
 *
 * Node types. The schema of a canvas is the one its tab sent or else the
 * global one: the schema set with canvas_mgr_set_schema (--object-info) or,
 * when none is set, the union of the node types attached tabs sent. A
 * request takes a reference to whatever schema is current, so replacing it
 * never waits for requests. With no node types at all, create_node gets
 * UNKNOWN_NODE_TYPE saying that no node types are known yet.
 *
 * Threads and locks. Every function is thread-safe. One mutex per canvas
 * (mirror, queue, attachment) and one for the manager (the canvas map and
 * focus); the canvas lock is taken first when both are needed. A worker
 * thread fires deadlines (a condition variable timed to the earliest one)
 * and processes departed tabs. Completion callbacks (canvas_done_fn) run
 * with no lock held, on whichever thread finished the request: the caller
 * of a canvas_* function, the worker, or the thread of canvas_report.
 *
 * Memory. Small control structures abort on out-of-memory (as text_dup
 * does); sizes a peer chooses (workflows, schemas) are bounded and their
 * failures reported. */
#ifndef COMFYD_CANVAS_H
#define COMFYD_CANVAS_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

#include "comfyd/v1/graph.pb-c.h"
#include "graph.h"
#include "nodeinfo.h"
#include "provenance.h"
#include "wfstore.h"

struct store; /* store.h */

/* Canvases kept, attached or not: a person has a handful of tabs open; the
 * least recently used detached mirror makes room for a new one. */
#define CANVAS_MAX_CANVASES 64
/* Requests waiting per canvas behind the one in flight: beyond this an
 * agent is flooding a tab that cannot keep up (RESOURCE_EXHAUSTED). */
#define CANVAS_MAX_QUEUED 64
/* canvas_id: chosen by the tab (e.g. a page UUID plus a workflow id). */
#define CANVAS_MAX_ID 128
/* Canvas titles: the workflow's name. */
#define CANVAS_MAX_TITLE 1024
/* idempotency_key: a UUID or a client's request id. */
#define CANVAS_MAX_KEY 128
/* Idempotency store: keys and bytes of stored responses, and how long a
 * key is kept (a client retries within minutes; a day covers a client
 * that retries after a restart of its own). */
#define CANVAS_IDEM_MAX_KEYS 4096
#define CANVAS_IDEM_MAX_BYTES (64u << 20)
#define CANVAS_IDEM_MAX_AGE_MS (24ull * 3600 * 1000)
/* Canvas revisions are reserved in the store this many at a time (one
 * durable write per block), under this counter name. */
#define CANVAS_REV_BLOCK 1024
#define CANVAS_REV_COUNTER "canvas_rev_reserved"
/* Tab round trip: the default wait, and the most a request may ask for
 * (a tab that needs longer is not applying a patch, it is stuck). */
#define CANVAS_DEFAULT_TIMEOUT_MS 5000
#define CANVAS_MAX_TIMEOUT_MS 60000
/* Preview before apply: the default wait for the user's decision, and the
 * most a request may ask for (a person reading a patch takes minutes, not
 * hours; the request holds its canvas's queue meanwhile). */
#define CANVAS_DEFAULT_PREVIEW_MS 60000
#define CANVAS_MAX_PREVIEW_MS 600000
/* Text widget values in commands (the command table's limit). */
#define CANVAS_MAX_TEXT GRAPH_MAX_TEXT
/* A tab's error message as passed on to the caller (cut there). */
#define CANVAS_MAX_TAB_ERROR 1024
/* Names in one ListNodeTypes request. */
#define CANVAS_MAX_NAMES 1000
/* ListNodeTypes stops adding types at this many packed bytes (total still
 * counts every match): a reply must fit one 4 MiB gRPC message. */
#define CANVAS_MAX_LIST_BYTES (3u << 20)
/* Workflows sent to a tab (EditorLoadRequest) travel in one 4 MiB gRPC
 * message together with a few fields. */
#define CANVAS_MAX_SEND_JSON ((4u << 20) - (4u << 10))
/* QueueRequest.batch_count: each one is a full generation. */
#define CANVAS_MAX_BATCH_COUNT 100
/* Canvas ids named in an AMBIGUOUS_CANVAS message. */
#define CANVAS_MAX_LISTED_IDS 8
/* GetNodeHistory: entries answered by default and at most. */
#define CANVAS_DEFAULT_HISTORY 100
#define CANVAS_MAX_HISTORY 1000
/* Provenance handed back to a tab in a ReportEditorResponse: beyond this
 * (graphs of thousands of nodes) the tab keeps none, and Save still
 * stores it (docs/provenance.md). */
#define CANVAS_MAX_PROV_REPLY (512u << 10)
/* The fewest bytes one node's or link's record takes in it
 * ("N":{"by":0,"rev":1,"at":1}). */
#define CANVAS_PROV_MIN_RECORD 24
/* Size of a canvas_error message. */
#define CANVAS_ERRLEN 1024

/* gRPC status codes handed to canvas_tab_ops.end (the numbers of
 * grpc/status.h, which this module does not depend on). */
#define CANVAS_END_RESOURCE_EXHAUSTED 8
#define CANVAS_END_ABORTED 10
#define CANVAS_END_UNAVAILABLE 14

typedef enum {
    CANVAS_OK = CFD_OK,
    /* A malformed request: a field is missing, too long, not UTF-8, out of
     * range (the message names it). Maps to INVALID_ARGUMENT. */
    CANVAS_EINVAL = CFD_ERR_INVALID,
    /* A limit: too many canvases, a full queue, the idempotency store full
     * of requests in flight. RESOURCE_EXHAUSTED. */
    CANVAS_EFULL = CFD_ERR_CANVAS_FULL,
    CANVAS_ENOMEM = CFD_ERR_NOMEM,
    /* canvas_mgr_shutdown was called. UNAVAILABLE. */
    CANVAS_ESHUTDOWN = CFD_ERR_CANVAS_SHUTDOWN,
    /* A graph error with a GraphErrorCode (canvas_error.code). */
    CANVAS_EGRAPH = CFD_ERR_CANVAS_GRAPH,
    /* Save: the name is taken and overwrite is false. ALREADY_EXISTS. */
    CANVAS_EEXIST = CFD_ERR_CANVAS_EXIST,
    /* The workflow store failed. INTERNAL. */
    CANVAS_EIO = CFD_ERR_CANVAS_IO,
} canvas_err;

/* "NO_LIVE_CANVAS" for COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NO_LIVE_CANVAS
 * and so on (static). */
const char *canvas_code_name(Comfyd__V1__GraphErrorCode code);

/* A failure of a synchronous call: code is set for CANVAS_EGRAPH, message
 * always. */
typedef struct canvas_error {
    Comfyd__V1__GraphErrorCode code;
    char message[CANVAS_ERRLEN];
} canvas_error;

typedef struct canvas_mgr canvas_mgr;

typedef struct canvas_mgr_opts {
    /* Workflow store for Save, Load by name and ListWorkflows; borrowed,
     * must outlive the manager. NULL: those answer CANVAS_EIO. */
    wfstore *store;
    uint32_t default_timeout_ms; /* 0: CANVAS_DEFAULT_TIMEOUT_MS */
    size_t max_canvases;         /* 0: CANVAS_MAX_CANVASES */
    size_t max_queued;           /* 0: CANVAS_MAX_QUEUED */
    size_t idem_max_keys;        /* 0: CANVAS_IDEM_MAX_KEYS */
    uint64_t idem_max_age_ms;    /* 0: CANVAS_IDEM_MAX_AGE_MS */
    /* Durable state (revision reservation, idempotency keys); borrowed,
     * must outlive the manager. NULL: both live in memory only, and
     * revisions start at 1 again with the next process. */
    struct store *db;
} canvas_mgr_opts;

/* Creates the manager and starts its worker thread; with opts->db it
 * first reads the revision reservation and restores the idempotency keys
 * kept there. Returns CANVAS_OK and *out, CANVAS_ENOMEM, or CANVAS_EIO
 * (the store cannot be read; *out NULL). */
int canvas_mgr_create(canvas_mgr **out, const canvas_mgr_opts *opts);
/* Refuses new work (CANVAS_ESHUTDOWN), stops the worker, ends every
 * attached tab's stream with UNAVAILABLE "server shutting down" and
 * completes every pending request with CANVAS_ESHUTDOWN. Blocks until the
 * callbacks have run; must not be called from one. Safe to call twice. */
void canvas_mgr_shutdown(canvas_mgr *m);
/* Shuts down if needed and frees everything. NULL is a no-op. */
void canvas_mgr_destroy(canvas_mgr *m);

/* Sets the global schema (the manager takes its own reference; NULL goes
 * back to the union of the tabs' node types). Canvases whose tab sent no
 * node types use it from their next request on. */
void canvas_mgr_set_schema(canvas_mgr *m, nodeinfo *ni);
/* The global schema with a reference for the caller (nodeinfo_unref), or
 * NULL when no node types are known. */
nodeinfo *canvas_mgr_schema(canvas_mgr *m);

/* ---- tabs ---- */

/* How the manager talks to an attached tab (the AttachCanvas stream). The
 * callbacks are called with the canvas's lock held: they must not block
 * and must not call back into the manager. */
typedef struct canvas_tab_ops {
    /* Queues m on the stream. 0, or non-zero when the stream cannot take it
     * (gone, or not reading): the request is then EDITOR_GONE. */
    int (*send)(void *ud, const Comfyd__V1__AttachCanvasResponse *m);
    /* Ends the stream with a gRPC status code (CANVAS_END_*). */
    void (*end)(void *ud, int grpc_code, const char *message);
    /* The manager is done with ud; the last call for it. */
    void (*release)(void *ud);
} canvas_tab_ops;

/* Attaches (or re-attaches) req->canvas_id: parses the workflow (empty: an
 * empty canvas) and the tab's node types (object_info_json; empty: the
 * global schema), ends an earlier attachment of the id, commits the
 * workflow and sends Attached{canvas_id, revision} as the stream's first
 * message, then dispatches requests that waited. ops/ud are kept until
 * ops->release (not called on error). *tab_id gets the attachment's id
 * for canvas_tab_gone (ids are never reused).
 * Returns CANVAS_OK; CANVAS_EINVAL (a bad canvas_id or title, a workflow
 * or object_info that does not parse: nothing changed); CANVAS_EFULL
 * (CANVAS_MAX_CANVASES are attached); CANVAS_ESHUTDOWN; CANVAS_ENOMEM. */
int canvas_attach(canvas_mgr *m, const Comfyd__V1__AttachCanvasRequest *req,
                  const canvas_tab_ops *ops, void *ud, uint64_t *tab_id, canvas_error *err);

/* The tab's stream with this id has ended. Does not block: the worker
 * detaches the canvas (if that attachment still owns it), ends the request
 * in flight with EDITOR_GONE and the waiting ones with NO_LIVE_CANVAS, and
 * releases the ops. Unknown or replaced ids and calls after shutdown are
 * ignored. */
void canvas_tab_gone(canvas_mgr *m, uint64_t tab_id);

/* A report from a tab (ReportEditor): a PatchResult, EditorQueueResult or
 * EditorLoadResult (matched by request_id with the request in flight; a
 * late one is handled as described above), a UserEdit (committed with
 * origin USER when the workflow changed) or Focus. A PatchResult or
 * UserEdit may carry a GraphDelta instead of the workflow
 * (docs/graph-delta.md): it is applied to the mirror when the result has
 * the tab's digest; otherwise the mirror is kept, the tab is sent a
 * ResyncRequest, and a patch stays in flight until the tab answers it
 * again with the whole workflow (or its deadline passes). *revision gets
 * the canvas's revision after it. Completions it causes run on this thread
 * before it returns. Returns CANVAS_OK; CANVAS_EINVAL (no report, a bad
 * canvas_id, a workflow that does not parse: the mirror is unchanged and,
 * for a result, the request fails with EDITOR_FAILED); CANVAS_EGRAPH
 * (CANVAS_NOT_FOUND); CANVAS_ESHUTDOWN. */
int canvas_report(canvas_mgr *m, const Comfyd__V1__ReportEditorRequest *req, uint64_t *revision,
                  canvas_error *err);
/* canvas_report that also hands back, when the report changed the canvas,
 * its provenance as the JSON of extra.comfyd.provenance for the tab to
 * keep (*provenance_json malloc'd, or NULL: unchanged, or larger than
 * CANVAS_MAX_PROV_REPLY). provenance_json may be NULL. */
int canvas_report_ex(canvas_mgr *m, const Comfyd__V1__ReportEditorRequest *req, uint64_t *revision,
                     char **provenance_json, canvas_error *err);

/* ---- requests answered later ---- */

/* The outcome of an asynchronous request. Valid during the callback only. */
typedef struct canvas_result {
    /* CANVAS_OK with resp; or, with message: CANVAS_EGRAPH and code
     * (Queue and Load only: Execute and ExecuteBatch carry graph errors in
     * their response), CANVAS_EFULL (the canvas's queue was full),
     * CANVAS_EINVAL (Load: the workflow does not parse), CANVAS_EIO (Load:
     * the workflow store failed), CANVAS_ESHUTDOWN, CANVAS_ENOMEM. */
    int err;
    Comfyd__V1__GraphErrorCode code;
    const char *message;
    /* The ExecuteResponse, ExecuteBatchResponse, QueueResponse or
     * LoadResponse (replayed set for a retry answered from the store). */
    const ProtobufCMessage *resp;
    /* canvas_queue_prompt: the API-format prompt and the workflow the tab
     * converted (NULL when the tab queued the prompt itself). */
    const char *prompt_json;
    const char *workflow_json;
} canvas_result;

/* Called exactly once per accepted request, with no lock held (see the
 * threads note above); may run before the submitting call returns. */
typedef void (*canvas_done_fn)(void *ud, const canvas_result *r);

/* Common to the submitting calls below: req is borrowed until done has
 * been called. limit_ms (0: none) caps the wait for the tab, e.g. the
 * caller's own deadline; the wait is req's timeout_ms (0: the manager's
 * default), at most CANVAS_MAX_TIMEOUT_MS, and covers time spent waiting
 * in the canvas's queue. Each returns CANVAS_OK when done will be (or has
 * been) called, else an error with err filled and done never called:
 * CANVAS_EINVAL (malformed: an empty command, more than GRAPH_MAX_BATCH
 * commands, strings over their limits or not UTF-8, a long key, a bad
 * mode or batch_count), CANVAS_EFULL (CANVAS_IDEM_MAX_KEYS keys are in
 * flight), CANVAS_ESHUTDOWN. */

/* Execute: one command, answered with an ExecuteResponse (graph set for
 * get_graph). */
int canvas_execute(canvas_mgr *m, const Comfyd__V1__ExecuteRequest *req, uint32_t limit_ms,
                   canvas_done_fn done, void *ud, canvas_error *err);
/* Provenance. The _as forms say who asks (copied; NULL: an unnamed gRPC
 * caller, which is what the forms without it record): what the request
 * changes is recorded as theirs (provenance.h). Changes the tab reports
 * for a request that is no longer the last one sent (a late result) are
 * recorded as an unnamed caller's; user edits as the user's; attached
 * workflows as loads, or with the provenance they carry. */
int canvas_execute_as(canvas_mgr *m, const Comfyd__V1__ExecuteRequest *req, const provn_actor *who,
                      uint32_t limit_ms, canvas_done_fn done, void *ud, canvas_error *err);
int canvas_execute_batch_as(canvas_mgr *m, const Comfyd__V1__ExecuteBatchRequest *req,
                            const provn_actor *who, uint32_t limit_ms, canvas_done_fn done,
                            void *ud, canvas_error *err);
int canvas_load_as(canvas_mgr *m, const Comfyd__V1__LoadRequest *req, const provn_actor *who,
                   uint32_t limit_ms, canvas_done_fn done, void *ud, canvas_error *err);
/* ExecuteBatch: answered with an ExecuteBatchResponse. An empty batch
 * answers ok with the canvas's revision. */
int canvas_execute_batch(canvas_mgr *m, const Comfyd__V1__ExecuteBatchRequest *req,
                         uint32_t limit_ms, canvas_done_fn done, void *ud, canvas_error *err);
/* Queue: the owning tab queues its workflow; a QueueResponse, or
 * CANVAS_EGRAPH (NO_LIVE_CANVAS, AMBIGUOUS_CANVAS, CANVAS_NOT_FOUND,
 * EDITOR_TIMEOUT, EDITOR_GONE, EDITOR_FAILED). */
int canvas_queue(canvas_mgr *m, const Comfyd__V1__QueueRequest *req, uint32_t limit_ms,
                 canvas_done_fn done, void *ud, canvas_error *err);
/* Queue without posting: the tab converts the workflow to ComfyUI's API
 * format (EditorQueueRequest.prompt_only) and the result carries it in
 * prompt_json/workflow_json for the caller to post (runs.h). A tab that
 * does not know prompt_only queues the prompt itself: the QueueResponse
 * then has its prompt_id and prompt_json is NULL. Errors as canvas_queue. */
int canvas_queue_prompt(canvas_mgr *m, const Comfyd__V1__QueueRequest *req, uint32_t limit_ms,
                        canvas_done_fn done, void *ud, canvas_error *err);
/* Load: req->workflow_json, or else the stored workflow req->name, is sent
 * to the tab (EditorLoadRequest); its EditorLoadResult's workflow (or the
 * one sent, when it reports none) is committed with origin LOAD. A
 * LoadResponse, or CANVAS_EGRAPH as for Queue plus WORKFLOW_NOT_FOUND. A
 * bad name is refused at once (CANVAS_EGRAPH INVALID_NAME); a workflow
 * that does not parse, or is larger than CANVAS_MAX_SEND_JSON, is
 * CANVAS_EINVAL. */
int canvas_load(canvas_mgr *m, const Comfyd__V1__LoadRequest *req, uint32_t limit_ms,
                canvas_done_fn done, void *ud, canvas_error *err);

/* ---- requests answered at once ----
 * Each returns CANVAS_OK and a newly allocated response in *out (free with
 * protobuf_c_message_free_unpacked(&(*out)->base, NULL)), or an error with
 * err filled and *out NULL. */

/* GetGraph from the mirror (stale=true when detached). CANVAS_EGRAPH:
 * NO_LIVE_CANVAS, AMBIGUOUS_CANVAS, CANVAS_NOT_FOUND. */
int canvas_get_graph(canvas_mgr *m, const Comfyd__V1__GetGraphRequest *req,
                     Comfyd__V1__GetGraphResponse **out, canvas_error *err);
/* GetDiff: the operations after since_revision; truncated=true and the
 * whole graph when the log no longer reaches it (or since_revision is
 * ahead of the canvas, e.g. from before a restart). Errors as GetGraph. */
int canvas_get_diff(canvas_mgr *m, const Comfyd__V1__GetDiffRequest *req,
                    Comfyd__V1__GetDiffResponse **out, canvas_error *err);
/* GetNodeHistory: the ops still in the canvas's log that are about node_id
 * (the node itself, its widgets, links into or out of it; node_id 0: every
 * op), newest first, each with its actor; at most limit (0:
 * CANVAS_DEFAULT_HISTORY, above CANVAS_MAX_HISTORY CANVAS_EINVAL),
 * truncated when more matched; from_revision is graph_log_floor (older
 * changes are gone from the log); provenance is the node's current one.
 * Errors as GetGraph, CANVAS_EINVAL for a negative node_id. */
int canvas_node_history(canvas_mgr *m, const Comfyd__V1__GetNodeHistoryRequest *req,
                        Comfyd__V1__GetNodeHistoryResponse **out, canvas_error *err);
/* Lease (lease_graph.h): takes, renews, releases or lists leases on the
 * canvas's nodes for who. A refusal is an answer (ok false, error with
 * LEASED and the lease in the way, NODE_NOT_FOUND, INVALID_COMMAND);
 * CANVAS_EINVAL for a request that is not one (no action); errors of
 * GetGraph otherwise. While a lease holds, other callers' patches that
 * change its nodes (or create one inside its group) and loads over the
 * canvas are answered LEASED; the user's edits pass and are marked in the
 * diff (GraphOp.lease_id, lease_holder). */
int canvas_lease(canvas_mgr *m, const Comfyd__V1__LeaseRequest *req, const provn_actor *who,
                 Comfyd__V1__LeaseResponse **out, canvas_error *err);
/* The end of a turn of session session_id: releases the leases its skills
 * hold on every canvas. Returns how many. */
unsigned canvas_release_session_leases(canvas_mgr *m, const char *session_id);
/* ListNodeTypes from the canvas's schema (canvas_id given) or the global
 * one: by names (exact, in the order asked; query and category ignored),
 * or by query and category ranked as nodeinfo_search; limit 0 means all,
 * cut at CANVAS_MAX_LIST_BYTES. total counts every match. CANVAS_EINVAL
 * for more than CANVAS_MAX_NAMES names or overlong strings; CANVAS_EGRAPH
 * CANVAS_NOT_FOUND. */
int canvas_list_node_types(canvas_mgr *m, const Comfyd__V1__ListNodeTypesRequest *req,
                           Comfyd__V1__ListNodeTypesResponse **out, canvas_error *err);
/* ListCanvases: most recently focused first, then attached before
 * detached, then by id. */
int canvas_list(canvas_mgr *m, Comfyd__V1__ListCanvasesResponse **out, canvas_error *err);
/* Save: the canvas's current workflow (attached or not) under req->name.
 * CANVAS_EGRAPH INVALID_NAME / NO_LIVE_CANVAS / AMBIGUOUS_CANVAS /
 * CANVAS_NOT_FOUND, CANVAS_EEXIST, CANVAS_EIO. */
int canvas_save(canvas_mgr *m, const Comfyd__V1__SaveRequest *req, Comfyd__V1__SaveResponse **out,
                canvas_error *err);
/* The canvas's current workflow JSON (*json malloc'd, caller frees; *len
 * bytes) and revision, attached or not; resolved (may be NULL; at least
 * CANVAS_MAX_ID + 1 bytes) gets the canvas id the request resolved to
 * (canvas_id empty: the focused one). Errors as GetGraph. */
int canvas_workflow(canvas_mgr *m, const char *canvas_id, char **json, size_t *len,
                    uint64_t *revision, char *resolved, canvas_error *err);
/* ListWorkflows: the workflow store, by name. CANVAS_EIO. */
int canvas_list_workflows(canvas_mgr *m, Comfyd__V1__ListWorkflowsResponse **out,
                          canvas_error *err);

#endif

/* app_mcp_table: the MCP tools: their names, descriptions, hints and
 * schemas, the graph tools from common/toolspec.h (app_mcp_int.h). */
#include "app_mcp_int.h"

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
static const mcp_field_doc docs_fork[] = {
    {"session_id", "The session to fork (create_session or list_sessions)."},
    {"message_id", "A message of that session: the fork holds the history up to and including it."},
    {"title", "The new session's title; omitted: the parent's with \" (fork)\"."},
};
static const mcp_field_doc docs_revert[] = {
    {"session_id", "The session to revert."},
    {"message_id", "A message of that session: it stays, every later one is hidden (kept stored)."},
    {"restore_canvas", "Also put each canvas the later turns changed back to its checkpoint."},
    {"force", "Restore even when the canvas was changed since the session's last change to it "
              "(refused with STALE_REVISION and the list of changes otherwise)."},
};
static const char *const req_fork[] = {"session_id", "message_id"};
static const mcp_field_doc docs_checkpoints[] = {
    {"session_id", "The session (create_session or list_sessions)."},
};

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
    {"attachments",
     "Files sent with the message (at most 8, 3 MiB each, 16 MiB in all): an image (PNG, JPEG, "
     "WebP, GIF) or a text (text/plain, text/markdown, application/json) as {\"data\": base64, "
     "\"mime_type\", \"name\"}, a file uploaded with POST /comfy/attachments as "
     "{\"sha256\"}, or a run's output as {\"run_output\": {\"prompt_id\", \"node_id\", "
     "\"index\"}}. MCP content items are accepted too: {\"type\": \"image\", \"data\", "
     "\"mimeType\"} and {\"type\": \"text\", \"text\"}."},
};
static const char *const req_send[] = {"session_id", "content"};
#define WAIT_PROP                                                                                  \
    "\"wait_ms\":{\"type\":\"integer\",\"minimum\":1000,\"maximum\":600000,\"description\":"       \
    "\"How long to wait for the replies (default 120000). The turn goes on after a timeout; "      \
    "list_sessions shows it.\"}"

static const mcp_field_doc docs_history[] = {
    {"canvas_id", "The canvas; omit it for the one you last read (or the focused one)."},
    {"node_id", "The node; 0 or omitted: every change of the canvas."},
    {"limit", "Changes to return, newest first (0: 100; at most 1000)."},
};

#define DOCS(d) d, sizeof d / sizeof d[0]
const tool_info mx_tools[T__COUNT] = {
    [T_GET_GRAPH] = {NULL, "Read the canvas", NULL, 1, 0, 1, 0, 0, NULL, {0}},
    [T_SEARCH] = {NULL, "Search node types", NULL, 1, 0, 1, 0, 0, NULL, {0}},
    [T_SCHEMA] = {NULL, "Node type schema", NULL, 1, 0, 1, 0, 0, NULL, {0}},
    [T_VALIDATE] = {NULL, "Validate a patch", NULL, 1, 0, 1, 0, 0, NULL, {0}},
    [T_APPLY] = {NULL, "Apply a patch", NULL, 0, 1, 0, 0, 0, NULL, {0}},
    [T_QUEUE] = {NULL, "Queue the workflow", NULL, 0, 0, 0, 0, 0, NULL, {0}},
    [T_LEASE] = {NULL, "Lease nodes", NULL, 0, 0, 0, 0, 0, NULL, {0}},
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
    [T_FORK_SESSION] = {"fork_session",
                        "Fork a session",
                        "Makes a new session from a message of an existing one: the history up "
                        "to and including that message, the configuration, active skills and "
                        "session memories. The new session records its parent and fork point.",
                        0,
                        0,
                        0,
                        0,
                        0,
                        &comfyd__v1__fork_session_request__descriptor,
                        {DOCS(docs_fork), NULL, 0, req_fork, 2, NULL}},
    [T_REVERT_SESSION] = {"revert_session",
                          "Revert a session",
                          "Takes a session back to a message: later messages are hidden (kept "
                          "stored, out of the history and the model's context) and, with "
                          "restore_canvas, each canvas the later turns changed is restored to "
                          "the checkpoint taken before them. Refused while a turn runs.",
                          0,
                          1,
                          0,
                          0,
                          0,
                          &comfyd__v1__revert_session_request__descriptor,
                          {DOCS(docs_revert), NULL, 0, req_fork, 2, NULL}},
    [T_LIST_CHECKPOINTS] = {"list_checkpoints",
                            "List a session's canvas checkpoints",
                            "Lists the canvas checkpoints of a session's turns (the workflow "
                            "before each turn's first change to a canvas), oldest turn first.",
                            1,
                            0,
                            1,
                            0,
                            0,
                            &comfyd__v1__list_checkpoints_request__descriptor,
                            {DOCS(docs_checkpoints), NULL, 0, req_one_session, 1, NULL}},
    [T_NODE_HISTORY] = {"node_history",
                        "Who changed a node",
                        "Lists who changed a node (or the canvas) in the revisions still in the "
                        "canvas's operation log, newest first: each change's revision, time, "
                        "summary and actor (a session's skill, an MCP client, a gRPC caller, "
                        "the user or a load), plus the node's current provenance.",
                        1,
                        0,
                        1,
                        0,
                        0,
                        &comfyd__v1__get_node_history_request__descriptor,
                        {DOCS(docs_history), NULL, 0, NULL, 0, NULL}},
};

const toolspec_id mx_spec_of[T__COUNT] = {
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
    [T_FORK_SESSION] = TOOLSPEC__COUNT,
    [T_REVERT_SESSION] = TOOLSPEC__COUNT,
    [T_LIST_CHECKPOINTS] = TOOLSPEC__COUNT,
    [T_NODE_HISTORY] = TOOLSPEC__COUNT,
    [T_LEASE] = TOOLSPEC_LEASE,
};

const char *mx_tool_name(tool_id t)
{
    const toolspec_def *d = toolspec_get(mx_spec_of[t]);
    return d ? d->name : mx_tools[t].name;
}

int mx_tool_find(const char *name, tool_id *out)
{
    for (int t = 0; t < T__COUNT; t++)
        if (!strcmp(mx_tool_name((tool_id)t), name)) {
            *out = (tool_id)t;
            return 1;
        }
    return 0;
}

int mx_tools_list(const app_mcp *m, const char *version, char **out, size_t *len)
{
    mcp_tool list[T__COUNT];
    for (int t = 0; t < T__COUNT; t++) {
        const toolspec_def *d = toolspec_get(mx_spec_of[t]);
        list[t] = (mcp_tool){
            .name = mx_tool_name((tool_id)t),
            .title = mx_tools[t].title,
            .description = d ? d->description : mx_tools[t].description,
            .input_schema = d ? d->parameters_json : m->schemas[t],
            .output_schema = NULL,
            .read_only = d ? d->read_only : mx_tools[t].read_only,
            .destructive = mx_tools[t].destructive,
            .idempotent = mx_tools[t].idempotent,
            .open_world = mx_tools[t].open_world,
        };
    }
    return mcp_tools_list_result(list, T__COUNT, version, out, len);
}

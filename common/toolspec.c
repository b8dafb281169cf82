/* toolspec: the graph tools' definitions, argument checks and results,
 * shared by the agent's tools and the bridge's MCP endpoint (see
 * toolspec.h). toolspec.c holds the JSON output helpers, the definitions
 * and the argument checks; toolspec_result.c the results of the node type,
 * get_graph and patch tools; toolspec_runs.c those of the run tools.
 * Private header toolspec_int.h. */
#include "toolspec_int.h"

/* ---- small helpers ---- */

/* Shortest text of d that reads back as d. */
void ts_fmt_double(char *buf, size_t len, double d)
{
    if (!isfinite(d)) {
        snprintf(buf, len, "%s", isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) return;
    }
}

/* ---- JSON output ---- */

int ts_g_str(yajl_gen g, const char *s)
{
    s = s ? s : "";
    return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) != yajl_gen_status_ok;
}

int ts_g_strn(yajl_gen g, const char *s, size_t n)
{
    return yajl_gen_string(g, (const unsigned char *)s, n) != yajl_gen_status_ok;
}

int ts_g_kv(yajl_gen g, const char *k, const char *v)
{
    return ts_g_str(g, k) || ts_g_str(g, v);
}

int ts_g_u64(yajl_gen g, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    return yajl_gen_number(g, num, (size_t)n) != yajl_gen_status_ok;
}

int ts_g_i64(yajl_gen g, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", (long long)v);
    return yajl_gen_number(g, num, (size_t)n) != yajl_gen_status_ok;
}

int ts_g_double(yajl_gen g, double d)
{
    char num[40];
    if (!isfinite(d)) return ts_g_str(g, d != d ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
    ts_fmt_double(num, sizeof num, d);
    return yajl_gen_number(g, num, strlen(num)) != yajl_gen_status_ok;
}

int ts_g_bool(yajl_gen g, int b)
{
    return yajl_gen_bool(g, b != 0) != yajl_gen_status_ok;
}

/* A text cut to max bytes (with "..." when cut). */
int ts_g_cut(yajl_gen g, const char *s, size_t max)
{
    s = s ? s : "";
    size_t len = strlen(s), n = text_utf8_cut(s, len, max);
    if (n == len) return ts_g_strn(g, s, len);
    char *t = text_printf("%.*s...", (int)n, s);
    int rc = !t || ts_g_str(g, t);
    free(t);
    return rc;
}

int ts_g_value(yajl_gen g, const Comfyd__V1__Value *v)
{
    if (!v) return yajl_gen_null(g) != yajl_gen_status_ok;
    return jsonpb_encode_gen(g, &v->base, NULL, NULL, 0) != JSONPB_OK;
}

yajl_gen ts_gen_new(void)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g) yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    return g;
}

/* The generated text (malloc'd) and frees g; NULL when bad or out of memory. */
char *ts_gen_done(yajl_gen g, int bad)
{
    char *out = NULL;
    if (!bad) {
        const unsigned char *b;
        size_t n;
        if (yajl_gen_get_buf(g, &b, &n) == yajl_gen_status_ok) out = text_dupn((const char *)b, n);
    }
    yajl_gen_free(g);
    return out;
}

/* ---- the definitions ---- */

#define CANVAS_ID_PROP                                                                             \
    "\"canvas_id\":{\"type\":\"string\",\"description\":\"The canvas; omit it for the one you "    \
    "last read (or the focused one).\"}"

/* The patch tools' arguments are an ExecuteBatchRequest (see tools.c's
 * decode): their schema is generated from its descriptor, so every command
 * of the Command oneof is in it as jsonpb decodes it (flattened, refs and
 * values as bare scalars). What a descriptor cannot say is added here:
 * descriptions, the fields a command needs, and limits. get_graph is left
 * out (the get_graph tool reads), and so are the request fields the tools
 * set themselves. */
static const ProtobufCMessageDescriptor *const patch_flatten[] = {&comfyd__v1__command__descriptor};
static const char *const patch_skip[] = {"idempotency_key", "validate_only", "timeout_ms",
                                         "commands.get_graph"};
static const char *const patch_required[] = {
    "commands",
    "commands.create_node.node_type",
    "commands.remove_node.node_id",
    "commands.connect.from_id",
    "commands.connect.from_slot",
    "commands.connect.to_id",
    "commands.connect.to_slot",
    "commands.disconnect.node_id",
    "commands.disconnect.slot",
    "commands.set_widget.node_id",
    "commands.set_widget.name",
    "commands.set_widget.value",
    "commands.move_node.node_id",
    "commands.move_node.x",
    "commands.move_node.y",
};
static const jsonpb_field_doc patch_docs[] = {
    {"canvas_id", "The canvas; omit it for the one you last read (or the focused one)."},
    {"commands", "Graph commands, applied in order as one step."},
    {"base_revision",
     "The revision the patch was built on. Default: the revision of the state you last saw "
     "(your last get_graph or applied patch). When the canvas moved on since, the patch is "
     "rebased when it touches nothing that changed (the answer says rebased) and refused with "
     "STALE_REVISION and the conflicts otherwise."},
    {"on_stale",
     "rebase (default): apply a patch whose base_revision is behind when it touches nothing "
     "that changed since; reject: refuse it whenever the canvas moved on."},
    {"apply_mode",
     "apply (default): apply at once; preview: show the patch to the user (the canvas's tab, or "
     "your MCP client when it supports elicitation) and apply it only when accepted, validated "
     "again against the graph as it is then; preview_if_shown: preview only when a tab that can "
     "show it is attached. The answer's preview.outcome says accepted, rejected or timed_out "
     "(nothing was applied unless accepted)."},
    {"preview_timeout_ms",
     "How long a preview waits for the user's decision (default 60000, at most 600000)."},
    {"mode",
     "atomic (default): nothing is applied when any command is invalid; partial: the valid ones "
     "are."},
    {"comfyd.v1.NodeRef",
     "A node id on the canvas, or the ref of a create_node earlier in this patch."},
    {"comfyd.v1.SlotRef", "A slot index (0-based) or name."},
    {"commands.create_node.node_type", "Exact class name, e.g. KSampler."},
    {"commands.create_node.ref",
     "A name later commands of this patch use instead of the new node's id."},
    {"commands.create_node.x",
     "Omit x and y: the canvas places the node right of what feeds it, without overlaps."},
    {"commands.create_node.widgets", "Widget name -> value."},
    {"commands.arrange.node_ids", "The nodes to lay out; omit for the whole graph."},
    {"commands.arrange.x", "Left edge of the layout (default: the nodes' current one)."},
    {"commands.arrange.y", "Top edge."},
    {"commands.arrange.spacing", "Gap between columns and nodes (default 60)."},
};
/* The core's GRAPH_MAX_BATCH, GRAPH_MAX_NODES and GRAPH_MAX_SPACING, and
 * CANVAS_MAX_PREVIEW_MS. */
static const jsonpb_field_keywords patch_keywords[] = {
    {"preview_timeout_ms", "\"maximum\":600000"},
    {"commands", "\"minItems\":1,\"maxItems\":1000"},
    {"commands.arrange.node_ids", "\"maxItems\":10000"},
    {"commands.arrange.spacing", "\"minimum\":0,\"maximum\":10000"},
};

/* parameters_json of the patch tools is generated on first use. */
static toolspec_def defs[TOOLSPEC__COUNT] = {
    {"get_graph",
     "Reads the live canvas. detail \"outline\" (default): one line per node with id, type, "
     "title, widget values and links (in: input<-#node.output, out: output->#node.input), plus "
     "the revision and whether the mirror is stale. detail \"full\": every field of the nodes "
     "asked for in node_ids (all when omitted).",
     "{\"type\":\"object\",\"properties\":{" CANVAS_ID_PROP
     ",\"detail\":{\"enum\":[\"outline\",\"full\"]},\"node_ids\":{\"type\":\"array\",\"items\":{"
     "\"type\":\"integer\"},\"maxItems\":200,\"description\":\"Only these nodes.\"}},"
     "\"additionalProperties\":false}",
     1},
    {"search_node_types",
     "Finds node classes by words (\"controlnet apply\", \"face detailer\", \"lora\"): "
     "matched against names (CamelCase split), display names, categories, descriptions and "
     "input/output types, misspellings tolerated; exact names first, core nodes first on ties, "
     "optionally within a category.",
     "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\"},\"category\":{"
     "\"type\":\"string\",\"description\":\"e.g. sampling, loaders, image/upscaling\"},\"limit\":{"
     "\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"description\":\"Default 20.\"}},"
     "\"required\":[\"query\"],\"additionalProperties\":false}",
     1},
    {"get_node_schema",
     "One node class: its inputs (type, required, widget default, min, max, step, allowed "
     "options) and its outputs with their slot indexes.",
     "{\"type\":\"object\",\"properties\":{\"node_type\":{\"type\":\"string\",\"description\":"
     "\"Exact class name, e.g. KSampler.\"}},\"required\":[\"node_type\"],"
     "\"additionalProperties\":false}",
     1},
    {"validate_patch",
     "Checks a patch against the canvas and the node schema without changing anything and "
     "returns every error at once, with suggestions for misspelled names.",
     NULL, 1},
    {"apply_patch",
     "Applies a patch to the live canvas as one undoable step and returns what the tab "
     "confirmed: node ids for refs, link ids, values read back and the new revision. When "
     "the canvas changed since you read it, the patch is rebased if it touches nothing that "
     "changed (rebased: true), else refused with STALE_REVISION and the conflicts (which "
     "command, node, input or widget, who changed it in which revision, its value now).",
     NULL, 0},
    {
        "queue",
        "Queues the canvas's workflow in ComfyUI and returns the prompt id.",
        "{\"type\":\"object\",\"properties\":{" CANVAS_ID_PROP "},\"additionalProperties\":false}",
        0,
    },
    {"run",
     "Queues the canvas's workflow in ComfyUI and waits for it (up to wait_ms): returns the run "
     "with its status (succeeded, failed, interrupted, cancelled, unknown), its outputs (images "
     "by node and index, see view_output) or a failure report naming each failing node, its "
     "title, the input and what ComfyUI said (with the allowed values of a combo). A run still "
     "going when wait_ms passes is answered with timed_out true: follow it with get_run.",
     "{\"type\":\"object\",\"properties\":{" CANVAS_ID_PROP
     ",\"wait_ms\":{\"type\":\"integer\",\"minimum\":1000,\"maximum\":600000,\"description\":"
     "\"How long to wait for the run (default 60000). The run goes on after a timeout.\"}},"
     "\"additionalProperties\":false}",
     0},
    {"get_run",
     "The state of a run by prompt id: status, the node executing, progress, outputs or the "
     "failure report.",
     "{\"type\":\"object\",\"properties\":{\"prompt_id\":{\"type\":\"string\"}},\"required\":"
     "[\"prompt_id\"],\"additionalProperties\":false}",
     1},
    {"cancel_run",
     "Cancels a run: removes it from ComfyUI's queue, or interrupts it when it is running.",
     "{\"type\":\"object\",\"properties\":{\"prompt_id\":{\"type\":\"string\"}},\"required\":"
     "[\"prompt_id\"],\"additionalProperties\":false}",
     0},
    {"view_output",
     "Looks at an output image of a run (node_id and index as get_run lists them in outputs).",
     "{\"type\":\"object\",\"properties\":{\"prompt_id\":{\"type\":\"string\"},\"node_id\":{"
     "\"type\":\"string\"},\"index\":{\"type\":\"integer\",\"minimum\":0,\"description\":"
     "\"Default 0.\"}},\"required\":[\"prompt_id\",\"node_id\"],\"additionalProperties\":false}",
     1},
    {"lease",
     "Takes, renews, releases or lists leases on nodes of the canvas. While you hold a lease, "
     "other callers' patches that change those nodes (or create a node inside a leased group) "
     "are refused with LEASED, so concurrent skills and clients can work on separate parts of "
     "the graph. The user's edits always win: the diff marks a user edit of a leased node with "
     "lease_id. A skill's leases end with its turn; others expire after ttl_ms unless renewed. "
     "acquire: node_ids and/or group (a group's title or id) -> the lease with its id and "
     "expires_ms; renew or release: lease_id (release without one: all of yours); list: every "
     "lease of the canvas.",
     "{\"type\":\"object\",\"properties\":{" CANVAS_ID_PROP
     ",\"action\":{\"type\":\"string\",\"enum\":[\"acquire\",\"renew\",\"release\",\"list\"]},"
     "\"node_ids\":{\"type\":\"array\",\"items\":{\"type\":\"integer\",\"minimum\":1},"
     "\"maxItems\":2048},\"group\":{\"type\":\"string\",\"maxLength\":256,\"description\":"
     "\"A group of the workflow by its title or id: its nodes, and nodes created inside it.\"},"
     "\"ttl_ms\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":600000,\"description\":"
     "\"acquire, renew: how long (0 or omitted: 60000; at least 1000).\"},\"lease_id\":{"
     "\"type\":\"integer\",\"minimum\":0}},\"required\":[\"action\"],"
     "\"additionalProperties\":false}",
     0},
};

/* Argument names of each tool, as its schema lists them. */
static const char *const keys_get_graph[] = {"canvas_id", "detail", "node_ids"};
static const char *const keys_search[] = {"query", "category", "limit"};
static const char *const keys_schema[] = {"node_type"};
static const char *const keys_patch[] = {"commands",          "base_revision", "mode",
                                         "canvas_id",         "on_stale",      "apply_mode",
                                         "preview_timeout_ms"};
static const char *const keys_queue[] = {"canvas_id"};
static const char *const keys_run[] = {"canvas_id", "wait_ms"};
static const char *const keys_run_id[] = {"prompt_id"};
static const char *const keys_output[] = {"prompt_id", "node_id", "index"};
static const char *const keys_lease[] = {"canvas_id", "action", "node_ids",
                                         "group",     "ttl_ms", "lease_id"};

static const struct {
    const char *const *keys;
    size_t n;
} arg_keys[TOOLSPEC__COUNT] = {
    {keys_get_graph, 3}, {keys_search, 3}, {keys_schema, 1}, {keys_patch, 7},
    {keys_patch, 7},     {keys_queue, 1},  {keys_run, 2},    {keys_run_id, 1},
    {keys_run_id, 1},    {keys_output, 3}, {keys_lease, 6},
};

static pthread_once_t patch_once = PTHREAD_ONCE_INIT;

/* The patch tools' schema, once per process (it never changes; the text
 * stays for the process's life). */
static void patch_schema_init(void)
{
    jsonpb_schema_opts o = {
        .docs = patch_docs,
        .n_docs = sizeof patch_docs / sizeof patch_docs[0],
        .skip = patch_skip,
        .n_skip = sizeof patch_skip / sizeof patch_skip[0],
        .required = patch_required,
        .n_required = sizeof patch_required / sizeof patch_required[0],
        .flatten = patch_flatten,
        .n_flatten = 1,
        .keywords = patch_keywords,
        .n_keywords = sizeof patch_keywords / sizeof patch_keywords[0],
    };
    char *json = NULL;
    /* Fails only without memory at start-up (the descriptor is fixed and
     * the unit tests build it): nothing can run without it. */
    if (jsonpb_schema(&comfyd__v1__execute_batch_request__descriptor, &o, &json, NULL) !=
        JSONPB_SCHEMA_OK)
        abort();
    defs[TOOLSPEC_VALIDATE_PATCH].parameters_json = json;
    defs[TOOLSPEC_APPLY_PATCH].parameters_json = json;
}

const toolspec_def *toolspec_get(toolspec_id id)
{
    if ((unsigned)id >= TOOLSPEC__COUNT) return NULL;
    pthread_once(&patch_once, patch_schema_init);
    return &defs[id];
}

const char *toolspec_code_name(Comfyd__V1__GraphErrorCode code)
{
    static const char prefix[] = "GRAPH_ERROR_CODE_";
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&comfyd__v1__graph_error_code__descriptor, code);
    if (!v) return "UNSPECIFIED";
    if (strncmp(v->name, prefix, sizeof prefix - 1) == 0) return v->name + sizeof prefix - 1;
    return v->name;
}

char *toolspec_error(const char *code, const char *hint, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* vsnprintf may have cut a character in two. */
    size_t len = strlen(msg);
    while (len && !text_utf8_valid(msg, len))
        msg[--len] = 0;
    yajl_gen g = ts_gen_new();
    if (!g) return NULL;
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || ts_g_kv(g, "error", msg);
    if (!bad && code) bad = ts_g_kv(g, "code", code);
    if (!bad && hint) bad = ts_g_kv(g, "hint", hint);
    bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    return ts_gen_done(g, bad);
}

int toolspec_check_args(toolspec_id id, yajl_val v, char **err)
{
    *err = NULL;
    if ((unsigned)id >= TOOLSPEC__COUNT) {
        *err = toolspec_error("INVALID_ARGUMENT", NULL, "unknown tool");
        return -1;
    }
    if (!YAJL_IS_OBJECT(v)) {
        *err = toolspec_error("INVALID_ARGUMENT", NULL, "arguments must be a JSON object");
        return -1;
    }
    const char *const *keys = arg_keys[id].keys;
    size_t n_keys = arg_keys[id].n;
    for (size_t i = 0; i < v->u.object.len; i++) {
        const char *k = v->u.object.keys[i];
        size_t j = 0;
        while (j < n_keys && strcmp(keys[j], k) != 0)
            j++;
        if (j < n_keys) continue;
        char list[256] = "";
        for (size_t m = 0; m < n_keys; m++) {
            strncat(list, m ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, keys[m], sizeof list - strlen(list) - 1);
        }
        *err = toolspec_error("INVALID_ARGUMENT", NULL, "unknown argument '%.64s'; expected %s%s",
                              k, n_keys ? "one of " : "none", list);
        return -1;
    }
    return 0;
}

/* The value of key, NULL when absent or null. */
yajl_val ts_arg(yajl_val v, const char *key)
{
    for (size_t i = 0; i < v->u.object.len; i++)
        if (strcmp(v->u.object.keys[i], key) == 0)
            return YAJL_IS_NULL(v->u.object.values[i]) ? NULL : v->u.object.values[i];
    return NULL;
}

/* An optional string argument: *out borrowed from the tree ("" when
 * absent). Returns 0, or -1 with *err set. */
static int arg_str(yajl_val v, const char *key, size_t max, const char **out, char **err)
{
    yajl_val s = ts_arg(v, key);
    *out = "";
    if (!s) return 0;
    if (!YAJL_IS_STRING(s)) {
        *err = toolspec_error("INVALID_ARGUMENT", NULL, "%s: expected a string", key);
        return -1;
    }
    if (strlen(s->u.string) > max) {
        *err = toolspec_error("INVALID_ARGUMENT", NULL, "%s: longer than %zu bytes", key, max);
        return -1;
    }
    *out = s->u.string;
    return 0;
}

int toolspec_get_graph_args(yajl_val v, const char **canvas_id, int *full,
                            int64_t ids[TOOLSPEC_MAX_NODE_IDS], size_t *n_ids, char **err)
{
    const char *detail;
    *n_ids = 0;
    *full = 0;
    if (arg_str(v, "canvas_id", TOOLSPEC_MAX_CANVAS_ID, canvas_id, err) ||
        arg_str(v, "detail", 16, &detail, err))
        return -1;
    *full = strcmp(detail, "full") == 0;
    if (!*full && *detail && strcmp(detail, "outline") != 0) {
        *err = toolspec_error("INVALID_ARGUMENT", NULL, "detail: expected \"outline\" or \"full\"");
        return -1;
    }
    yajl_val idv = ts_arg(v, "node_ids");
    if (!idv) return 0;
    if (!YAJL_IS_ARRAY(idv) || idv->u.array.len > TOOLSPEC_MAX_NODE_IDS) {
        *err = toolspec_error("INVALID_ARGUMENT", NULL,
                              "node_ids: expected an array of at most %d node ids",
                              TOOLSPEC_MAX_NODE_IDS);
        return -1;
    }
    for (size_t i = 0; i < idv->u.array.len; i++) {
        yajl_val e = idv->u.array.values[i];
        if (!YAJL_IS_INTEGER(e)) {
            *err =
                toolspec_error("INVALID_ARGUMENT", NULL, "node_ids[%zu]: expected an integer", i);
            return -1;
        }
        ids[(*n_ids)++] = YAJL_GET_INTEGER(e);
    }
    return 0;
}

int toolspec_schema_args(yajl_val v, const char **node_type, char **err)
{
    if (arg_str(v, "node_type", TOOLSPEC_MAX_TYPE_NAME, node_type, err)) return -1;
    if (!**node_type) {
        *err = toolspec_error("INVALID_ARGUMENT", NULL, "node_type is required");
        return -1;
    }
    return 0;
}

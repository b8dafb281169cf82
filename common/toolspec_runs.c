/* toolspec_runs: the run tools' arguments and results (toolspec.h). */
#include "toolspec_int.h"

/* ---- runs ---- */

static yajl_val run_arg(yajl_val args, const char *key)
{
    return args && YAJL_IS_OBJECT(args) ? ts_arg(args, key) : NULL;
}

int toolspec_run_args(yajl_val args, const char **canvas_id, uint32_t *wait_ms, char **err)
{
    *err = NULL;
    *canvas_id = "";
    *wait_ms = TOOLSPEC_RUN_WAIT_DEFAULT_MS;
    yajl_val c = run_arg(args, "canvas_id"), w = run_arg(args, "wait_ms");
    if (c && !YAJL_IS_NULL(c)) {
        if (!YAJL_IS_STRING(c) || strlen(c->u.string) > TOOLSPEC_MAX_CANVAS_ID) {
            *err =
                toolspec_error("INVALID_ARGUMENT", NULL, "canvas_id: a string of at most %d bytes",
                               TOOLSPEC_MAX_CANVAS_ID);
            return -1;
        }
        *canvas_id = c->u.string;
    }
    if (w && !YAJL_IS_NULL(w)) {
        if (!YAJL_IS_INTEGER(w) || YAJL_GET_INTEGER(w) < 1000 ||
            YAJL_GET_INTEGER(w) > TOOLSPEC_RUN_WAIT_MAX_MS) {
            *err = toolspec_error("INVALID_ARGUMENT", NULL,
                                  "wait_ms: expected an integer from 1000 to %d",
                                  TOOLSPEC_RUN_WAIT_MAX_MS);
            return -1;
        }
        *wait_ms = (uint32_t)YAJL_GET_INTEGER(w);
    }
    return 0;
}

static int id_arg(yajl_val args, const char *key, const char **out, char **err)
{
    yajl_val v = run_arg(args, key);
    if (!v || !YAJL_IS_STRING(v) || !*v->u.string || strlen(v->u.string) > TOOLSPEC_MAX_RUN_ID) {
        *err = toolspec_error("INVALID_ARGUMENT", NULL, "%s is required: a string of 1..%d bytes",
                              key, TOOLSPEC_MAX_RUN_ID);
        return -1;
    }
    *out = v->u.string;
    return 0;
}

int toolspec_run_id_args(yajl_val args, int output, const char **prompt_id, const char **node_id,
                         uint32_t *index, char **err)
{
    *err = NULL;
    if (node_id) *node_id = "";
    if (index) *index = 0;
    if (id_arg(args, "prompt_id", prompt_id, err)) return -1;
    if (!output) return 0;
    if (id_arg(args, "node_id", node_id, err)) return -1;
    yajl_val i = run_arg(args, "index");
    if (i && !YAJL_IS_NULL(i)) {
        if (!YAJL_IS_INTEGER(i) || YAJL_GET_INTEGER(i) < 0 || YAJL_GET_INTEGER(i) > 100000) {
            *err = toolspec_error("INVALID_ARGUMENT", NULL, "index: a non-negative integer");
            return -1;
        }
        *index = (uint32_t)YAJL_GET_INTEGER(i);
    }
    return 0;
}

const char *toolspec_run_status(Comfyd__V1__RunStatus s)
{
    switch (s) {
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_QUEUED:
        return "queued";
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_RUNNING:
        return "running";
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_SUCCEEDED:
        return "succeeded";
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_FAILED:
        return "failed";
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_INTERRUPTED:
        return "interrupted";
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_CANCELLED:
        return "cancelled";
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_UNKNOWN:
        return "unknown";
    default:
        return "unspecified";
    }
}

void toolspec_run_line(const Comfyd__V1__Run *r, char *out, size_t len)
{
    const char *st = toolspec_run_status(r->status);
    if (r->status == COMFYD__V1__RUN_STATUS__RUN_STATUS_QUEUED && r->queue_position) {
        snprintf(out, len, "queued (position %u)", r->queue_position);
        return;
    }
    if (r->status == COMFYD__V1__RUN_STATUS__RUN_STATUS_RUNNING && r->executing_node &&
        *r->executing_node) {
        const Comfyd__V1__NodeProgress *p = NULL;
        for (size_t i = 0; i < r->n_progress; i++)
            if (!strcmp(r->progress[i]->node_id, r->executing_node)) p = r->progress[i];
        if (p && p->max > 0)
            snprintf(out, len, "running node %s (%.0f/%.0f)", r->executing_node, p->value, p->max);
        else
            snprintf(out, len, "running node %s", r->executing_node);
        return;
    }
    if (r->reason && *r->reason)
        snprintf(out, len, "%s: %s", st, r->reason);
    else
        snprintf(out, len, "%s", st);
}

static int g_strs(yajl_gen g, const char *key, char *const *v, size_t n)
{
    if (ts_g_str(g, key) || yajl_gen_array_open(g) != yajl_gen_status_ok) return -1;
    for (size_t i = 0; i < n; i++)
        if (ts_g_cut(g, v[i], TOOLSPEC_MAX_DESCRIPTION)) return -1;
    return yajl_gen_array_close(g) != yajl_gen_status_ok;
}

/* The failure report: what a model needs to fix the workflow. */
static int g_failure(yajl_gen g, const Comfyd__V1__Run *r)
{
    if (ts_g_str(g, "failure") || yajl_gen_map_open(g) != yajl_gen_status_ok) return -1;
    char summary[512];
    if (r->n_node_errors)
        snprintf(summary, sizeof summary, "ComfyUI refused the prompt: %s (%zu node error%s)",
                 r->prompt_error && *r->prompt_error ? r->prompt_error : "validation failed",
                 r->n_node_errors, r->n_node_errors == 1 ? "" : "s");
    else
        snprintf(summary, sizeof summary, "%s", r->reason ? r->reason : "");
    size_t sl = strlen(summary);
    while (sl && !text_utf8_valid(summary, sl))
        summary[--sl] = 0;
    if (ts_g_kv(g, "summary", summary) || ts_g_str(g, "errors") ||
        yajl_gen_array_open(g) != yajl_gen_status_ok)
        return -1;
    for (size_t i = 0; i < r->n_node_errors; i++) {
        const Comfyd__V1__RunNodeError *e = r->node_errors[i];
        if (yajl_gen_map_open(g) != yajl_gen_status_ok || ts_g_kv(g, "node_id", e->node_id) ||
            ts_g_kv(g, "title", e->title) || ts_g_kv(g, "node_type", e->node_type) ||
            ts_g_kv(g, "input", e->input_name) || ts_g_kv(g, "type", e->type) ||
            ts_g_kv(g, "message", e->message) || ts_g_str(g, "details") ||
            ts_g_cut(g, e->details, TOOLSPEC_MAX_DESCRIPTION))
            return -1;
        if (e->n_allowed_values &&
            g_strs(g, "allowed_values", e->allowed_values, e->n_allowed_values))
            return -1;
        if (yajl_gen_map_close(g) != yajl_gen_status_ok) return -1;
    }
    if (yajl_gen_array_close(g) != yajl_gen_status_ok) return -1;
    const Comfyd__V1__RunExecutionError *x = r->execution_error;
    if (x) {
        if (ts_g_str(g, "exception") || yajl_gen_map_open(g) != yajl_gen_status_ok ||
            ts_g_kv(g, "node_id", x->node_id) || ts_g_kv(g, "title", x->title) ||
            ts_g_kv(g, "node_type", x->node_type) || ts_g_kv(g, "type", x->exception_type) ||
            ts_g_str(g, "message") ||
            ts_g_cut(g, x->exception_message, 2 * TOOLSPEC_MAX_DESCRIPTION))
            return -1;
        /* The last lines say where it was raised. */
        size_t from = x->n_traceback > 4 ? x->n_traceback - 4 : 0;
        if (g_strs(g, "traceback", x->traceback + from, x->n_traceback - from) ||
            yajl_gen_map_close(g) != yajl_gen_status_ok)
            return -1;
    }
    return yajl_gen_map_close(g) != yajl_gen_status_ok;
}

static const char *run_hint(const Comfyd__V1__Run *r, int timed_out)
{
    if (timed_out)
        return "The run goes on in ComfyUI; call get_run with this prompt_id to follow it.";
    switch (r->status) {
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_FAILED:
        if (r->n_node_errors)
            return "Fix each input named in failure.errors (set_widget to one of allowed_values, "
                   "or connect the missing input), then run again.";
        return "Read failure.exception: change the failing node's inputs or replace the node, "
               "then run again.";
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_UNKNOWN:
        return "ComfyUI lost track of the run (see reason); run again once it answers.";
    case COMFYD__V1__RUN_STATUS__RUN_STATUS_SUCCEEDED:
        return r->n_outputs ? "Look at an output with view_output (prompt_id, node_id, index)."
                            : NULL;
    default:
        return NULL;
    }
}

char *toolspec_run_result(const Comfyd__V1__Run *r, int with_timed_out, int timed_out)
{
    yajl_gen g = ts_gen_new();
    if (!g) return NULL;
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || ts_g_kv(g, "prompt_id", r->prompt_id) ||
              ts_g_kv(g, "status", toolspec_run_status(r->status)) ||
              ts_g_kv(g, "canvas_id", r->canvas_id) || ts_g_str(g, "revision") ||
              ts_g_u64(g, r->revision);
    if (!bad && with_timed_out) bad = ts_g_str(g, "timed_out") || ts_g_bool(g, timed_out);
    if (!bad && r->reason && *r->reason)
        bad = ts_g_str(g, "reason") || ts_g_cut(g, r->reason, 1024);
    if (!bad && r->queue_position)
        bad = ts_g_str(g, "queue_position") || ts_g_u64(g, r->queue_position);
    if (!bad && r->executing_node && *r->executing_node)
        bad = ts_g_kv(g, "executing_node", r->executing_node);
    if (!bad && r->n_progress && r->status == COMFYD__V1__RUN_STATUS__RUN_STATUS_RUNNING) {
        bad = ts_g_str(g, "progress") || yajl_gen_array_open(g) != yajl_gen_status_ok;
        for (size_t i = 0; !bad && i < r->n_progress; i++)
            bad = yajl_gen_map_open(g) != yajl_gen_status_ok ||
                  ts_g_kv(g, "node_id", r->progress[i]->node_id) || ts_g_str(g, "value") ||
                  ts_g_double(g, r->progress[i]->value) || ts_g_str(g, "max") ||
                  ts_g_double(g, r->progress[i]->max) ||
                  yajl_gen_map_close(g) != yajl_gen_status_ok;
        bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
    }
    if (!bad && r->started_at_ms) {
        int64_t end = r->ended_at_ms ? r->ended_at_ms : 0;
        if (end) bad = ts_g_str(g, "elapsed_ms") || ts_g_i64(g, end - r->started_at_ms);
    }
    if (!bad) bad = ts_g_str(g, "outputs") || yajl_gen_array_open(g) != yajl_gen_status_ok;
    for (size_t i = 0; !bad && i < r->n_outputs; i++) {
        const Comfyd__V1__RunNodeOutput *o = r->outputs[i];
        for (size_t k = 0; !bad && k < o->n_files; k++)
            bad = yajl_gen_map_open(g) != yajl_gen_status_ok || ts_g_kv(g, "node_id", o->node_id) ||
                  ts_g_str(g, "index") || ts_g_u64(g, k) || ts_g_kv(g, "kind", o->files[k]->kind) ||
                  ts_g_kv(g, "filename", o->files[k]->filename) ||
                  ts_g_kv(g, "subfolder", o->files[k]->subfolder) ||
                  ts_g_kv(g, "type", o->files[k]->type) ||
                  yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok;
    if (!bad && (r->status == COMFYD__V1__RUN_STATUS__RUN_STATUS_FAILED || r->n_node_errors ||
                 r->execution_error))
        bad = g_failure(g, r);
    const char *hint = run_hint(r, timed_out);
    if (!bad && hint) bad = ts_g_kv(g, "hint", hint);
    bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    return ts_gen_done(g, bad);
}

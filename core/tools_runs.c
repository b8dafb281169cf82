/* tools_runs: the tools on runs: run, get_run, cancel_run and view_output
 * (the images of a run's outputs). */
#include "tools_int.h"

/* ---- runs ---- */

static int no_runs(char **res)
{
    return tl_fail(res, toolspec_error("FAILED_PRECONDITION", "Use queue instead.",
                                       "runs are not followed: comfyd runs without --comfyui"));
}

static int sleep_or_cancel(const agent_call_ctx *ctx, int ms)
{
    for (int waited = 0; waited < ms; waited += TOOLS_CANCEL_POLL_MS) {
        if (ctx->cancel && atomic_load(ctx->cancel)) return -1;
        struct timespec ts = {0, TOOLS_CANCEL_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* Shows the model output file `index` of node_id (a vision turn): the file
 * from ComfyUI, a PNG scaled down to TOOLS_VISION_MAX_SIDE, attached to
 * the turn (agent_call_attach_image). Returns 1 when attached, 0 when not
 * (not an image the model can take, too large, the turn's image limit),
 * with why in why[0..whylen); *o gets the original file's response when o
 * is not NULL (the caller frees it), for its metadata. */
static int attach_output(tools *t, const agent_call_ctx *ctx, const char *pid, const char *node,
                         uint32_t index, Comfyd__V1__GetRunOutputResponse **o, int *rc, char *why,
                         size_t whylen)
{
    Comfyd__V1__GetRunOutputResponse *got = NULL;
    why[0] = 0;
    *rc = runs_output(t->runs, pid, node, index, 0, &got, why, whylen);
    if (*rc != RUNS_OK) return 0;
    int attached = 0;
    const void *data = got->data.data;
    size_t len = got->data.len;
    void *small = NULL;
    uint32_t w = got->width, h = got->height;
    if (ctx->vision && strcmp(got->content_type, "image/png") == 0) {
        size_t slen = 0;
        char serr[128] = "";
        int sc = imgscale_png(data, len, TOOLS_VISION_MAX_SIDE, &small, &slen, &w, &h, serr,
                              sizeof serr);
        if (sc < 0) {
            snprintf(why, whylen, "the PNG cannot be read: %s", serr);
            data = NULL;
        } else if (sc == 1) {
            data = small;
            len = slen;
        }
    }
    if (ctx->vision && data) {
        char label[256];
        snprintf(label, sizeof label, "run %.36s, node %.32s, file %u: %.128s (%ux%u)", pid, node,
                 index, got->file ? got->file->filename : "", w, h);
        attached = agent_call_attach_image(ctx, got->content_type, data, len, label) == 0;
        if (!attached)
            snprintf(why, whylen,
                     "not shown: not a PNG, JPEG, WebP or GIF image, larger than %u bytes, or the "
                     "turn already showed %d images",
                     PROV_MAX_IMAGE_BYTES, AGENT_MAX_TURN_IMAGES);
    } else if (!ctx->vision) {
        snprintf(why, whylen, "This model receives a description of the image, not the image.");
    }
    free(small);
    if (o)
        *o = got;
    else
        protobuf_c_message_free_unpacked(&got->base, NULL);
    return attached;
}

/* obj (a JSON object, owned) with "key": value (JSON text) added at its
 * end; NULL when out of memory (obj freed). toolspec's results are
 * compact objects ending in '}'. */
static char *json_add(char *obj, const char *key, const char *value)
{
    size_t n = strlen(obj);
    if (n < 2 || obj[n - 1] != '}') return obj;
    char *out = malloc(n + strlen(key) + strlen(value) + 8);
    if (!out) {
        free(obj);
        return NULL;
    }
    sprintf(out, "%.*s%s\"%s\":%s}", (int)(n - 1), obj, n > 2 ? "," : "", key, value);
    free(obj);
    return out;
}

/* A succeeded run's result for a vision turn: its first image outputs
 * (TOOLS_RUN_IMAGES) shown to the model, and "images_shown" saying which. */
static char *with_run_images(tools *t, const agent_call_ctx *ctx, const Comfyd__V1__Run *run,
                             char *res)
{
    char list[TOOLS_RUN_IMAGES * 96 + 4] = "[";
    int shown = 0;
    for (size_t i = 0; i < run->n_outputs && shown < TOOLS_RUN_IMAGES; i++) {
        const Comfyd__V1__RunNodeOutput *out = run->outputs[i];
        for (size_t k = 0; k < out->n_files && shown < TOOLS_RUN_IMAGES; k++) {
            /* Ids are written into the JSON as they are: plain ones only. */
            if (strcmp(out->files[k]->kind, "images") != 0 ||
                strspn(out->node_id,
                       "0123456789:_-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
                    strlen(out->node_id) ||
                strlen(out->node_id) > 32)
                continue;
            char why[512];
            int rc;
            if (!attach_output(t, ctx, run->prompt_id, out->node_id, (uint32_t)k, NULL, &rc, why,
                               sizeof why))
                continue;
            size_t at = strlen(list);
            snprintf(list + at, sizeof list - at, "%s{\"node_id\":\"%s\",\"index\":%zu}",
                     shown ? "," : "", out->node_id, k);
            shown++;
        }
    }
    if (!shown) return res;
    strcat(list, "]");
    return json_add(res, "images_shown", list);
}

int tool_run(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    tools *t = ud;
    if (!t->runs) return no_runs(res);
    yajl_val v = tl_parse_args(args, TOOLSPEC_RUN, res);
    if (!v) return AGENT_TOOL_ERROR;
    const char *cid;
    uint32_t wait_ms;
    if (toolspec_run_args(v, &cid, &wait_ms, res)) {
        yajl_tree_free(v);
        return AGENT_TOOL_ERROR;
    }
    Comfyd__V1__QueueRequest *req = calloc(1, sizeof *req);
    if (!req) {
        yajl_tree_free(v);
        return tl_fail(res, toolspec_error("INTERNAL", NULL, "out of memory"));
    }
    comfyd__v1__queue_request__init(req);
    char canvas[CANVAS_MAX_ID + 1];
    uint64_t rev;
    snprintf(canvas, sizeof canvas, "%s", cid);
    yajl_tree_free(v);
    if (!*canvas && !tl_view_of(t, ctx, canvas, &rev)) tl_resolve_default(t, canvas);
    req->canvas_id = text_dup(canvas);
    char key[CANVAS_MAX_KEY + 1];
    tl_idem_key(ctx, key);
    req->idempotency_key = text_dup(key);
    req->origin = COMFYD__V1__RUN_ORIGIN__RUN_ORIGIN_SESSION;
    req->session_id = text_dup(ctx->session_id ? ctx->session_id : "");
    req->queued_by = text_dup(ctx->skill ? ctx->skill : "");
    outcome o;
    if (tl_submit_wait(t, ctx, &req->base, &o, res) != 0) return AGENT_TOOL_ERROR;
    const Comfyd__V1__QueueResponse *q = (const Comfyd__V1__QueueResponse *)o.resp;
    char pid[TOOLSPEC_MAX_RUN_ID + 1];
    snprintf(pid, sizeof pid, "%s", q->run ? q->run->prompt_id : q->prompt_id);
    protobuf_c_message_free_unpacked(o.resp, NULL);
    /* Until it is over, the wait passes or the turn is cancelled. */
    int64_t until = text_mono_ms() + wait_ms;
    Comfyd__V1__Run *run = NULL;
    for (;;) {
        if (run) protobuf_c_message_free_unpacked(&run->base, NULL);
        run = runs_get(t->runs, pid);
        if (!run) return tl_fail(res, toolspec_error("NOT_FOUND", NULL, "run %s vanished", pid));
        if (runs_status_final(run->status) || text_mono_ms() >= until) break;
        if (sleep_or_cancel(ctx, TOOLS_RUN_POLL_MS)) {
            protobuf_c_message_free_unpacked(&run->base, NULL);
            return tl_fail(res,
                           toolspec_error("CANCELLED", NULL,
                                          "the turn was cancelled; the run goes on (%s)", pid));
        }
    }
    int timed_out = !runs_status_final(run->status);
    *res = toolspec_run_result(run, 1, timed_out);
    if (*res && ctx->vision && run->status == COMFYD__V1__RUN_STATUS__RUN_STATUS_SUCCEEDED)
        *res = with_run_images(t, ctx, run, *res);
    protobuf_c_message_free_unpacked(&run->base, NULL);
    if (!*res) return tl_fail(res, toolspec_error("INTERNAL", NULL, "out of memory"));
    /* A failed run is a result the model acts on, not a tool error. */
    return AGENT_TOOL_OK;
}

int tool_get_run(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    (void)ctx;
    tools *t = ud;
    if (!t->runs) return no_runs(res);
    yajl_val v = tl_parse_args(args, TOOLSPEC_GET_RUN, res);
    if (!v) return AGENT_TOOL_ERROR;
    const char *pid;
    if (toolspec_run_id_args(v, 0, &pid, NULL, NULL, res)) {
        yajl_tree_free(v);
        return AGENT_TOOL_ERROR;
    }
    Comfyd__V1__Run *run = runs_get(t->runs, pid);
    if (!run) {
        *res = toolspec_error("NOT_FOUND", NULL, "no run with prompt_id \"%s\"", pid);
        yajl_tree_free(v);
        return AGENT_TOOL_ERROR;
    }
    yajl_tree_free(v);
    *res = toolspec_run_result(run, 0, 0);
    protobuf_c_message_free_unpacked(&run->base, NULL);
    return *res ? AGENT_TOOL_OK : tl_fail(res, toolspec_error("INTERNAL", NULL, "out of memory"));
}

static const char *runs_code(int rc)
{
    switch (rc) {
    case RUNS_EINVAL:
        return "INVALID_ARGUMENT";
    case RUNS_ENOTFOUND:
        return "NOT_FOUND";
    case RUNS_EOVER:
        return "FAILED_PRECONDITION";
    case RUNS_EFULL:
        return "RESOURCE_EXHAUSTED";
    case RUNS_EUNAVAIL:
        return "UNAVAILABLE";
    default:
        return "INTERNAL";
    }
}

int tool_cancel_run(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    (void)ctx;
    tools *t = ud;
    if (!t->runs) return no_runs(res);
    yajl_val v = tl_parse_args(args, TOOLSPEC_CANCEL_RUN, res);
    if (!v) return AGENT_TOOL_ERROR;
    const char *pid;
    if (toolspec_run_id_args(v, 0, &pid, NULL, NULL, res)) {
        yajl_tree_free(v);
        return AGENT_TOOL_ERROR;
    }
    Comfyd__V1__Run *run = NULL;
    char err[512] = "";
    int rc = runs_cancel(t->runs, pid, &run, err, sizeof err);
    yajl_tree_free(v);
    if (rc != RUNS_OK) return tl_fail(res, toolspec_error(runs_code(rc), NULL, "%s", err));
    *res = run ? toolspec_run_result(run, 0, 0) : toolspec_error("NOT_FOUND", NULL, "no run");
    if (run) protobuf_c_message_free_unpacked(&run->base, NULL);
    return *res ? AGENT_TOOL_OK : tl_fail(res, toolspec_error("INTERNAL", NULL, "out of memory"));
}

/* The result describes the file (name, node, size) for every model; in a
 * vision turn the image itself follows the tool results as an image part
 * (attach_output), and the result says whether it does. */
int tool_view_output(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    tools *t = ud;
    if (!t->runs) return no_runs(res);
    yajl_val v = tl_parse_args(args, TOOLSPEC_VIEW_OUTPUT, res);
    if (!v) return AGENT_TOOL_ERROR;
    const char *pid, *node;
    uint32_t index;
    if (toolspec_run_id_args(v, 1, &pid, &node, &index, res)) {
        yajl_tree_free(v);
        return AGENT_TOOL_ERROR;
    }
    Comfyd__V1__GetRunOutputResponse *o = NULL;
    char why[512] = "";
    int rc = RUNS_OK;
    int shown = attach_output(t, ctx, pid, node, index, &o, &rc, why, sizeof why);
    if (rc != RUNS_OK) {
        yajl_tree_free(v);
        return tl_fail(res, toolspec_error(runs_code(rc), NULL, "%s", why));
    }
    uint32_t w = o->width, h = o->height;
    char note[600];
    if (shown && (w > TOOLS_VISION_MAX_SIDE || h > TOOLS_VISION_MAX_SIDE))
        snprintf(note, sizeof note,
                 "The image follows the tool results as an image part, scaled down to fit %d "
                 "pixels.",
                 TOOLS_VISION_MAX_SIDE);
    else if (shown)
        snprintf(note, sizeof note, "The image follows the tool results as an image part.");
    else
        snprintf(note, sizeof note, "%s", why);
    yajl_gen g = yajl_gen_alloc(NULL);
    int bad = !g;
#define GS(k, v)                                                                                   \
    (yajl_gen_string(g, (const unsigned char *)(k), strlen(k)) != yajl_gen_status_ok ||            \
     yajl_gen_string(g, (const unsigned char *)(v), strlen(v)) != yajl_gen_status_ok)
#define GN(k, v)                                                                                   \
    (yajl_gen_string(g, (const unsigned char *)(k), strlen(k)) != yajl_gen_status_ok ||            \
     yajl_gen_integer(g, (long long)(v)) != yajl_gen_status_ok)
    bad = bad || yajl_gen_map_open(g) != yajl_gen_status_ok || GS("prompt_id", pid) ||
          GS("node_id", node) || GN("index", index) || GS("filename", o->file->filename) ||
          GS("subfolder", o->file->subfolder) || GS("type", o->file->type) ||
          GS("content_type", o->content_type) || GN("bytes", o->data.len) || GN("width", w) ||
          GN("height", h) || GS("note", note) || yajl_gen_map_close(g) != yajl_gen_status_ok;
#undef GS
#undef GN
    protobuf_c_message_free_unpacked(&o->base, NULL);
    yajl_tree_free(v); /* pid and node point into it */
    if (!bad) {
        const unsigned char *buf;
        size_t len;
        yajl_gen_get_buf(g, &buf, &len);
        *res = text_dupn((const char *)buf, len);
    }
    if (g) yajl_gen_free(g);
    return bad ? tl_fail(res, toolspec_error("INTERNAL", NULL, "out of memory")) : AGENT_TOOL_OK;
}

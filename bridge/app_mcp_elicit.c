/* app_mcp_elicit: preview before apply through the MCP client
 * (docs/mcp.md, docs/concurrent-editing.md). An apply_patch with
 * apply_mode "preview" from a client that declared the elicitation
 * capability (MCP 2025-06-18 on) is checked (validate_only), then the user
 * is asked in the client with elicitation/create on the call's event
 * stream instead of in the ComfyUI tab. The client POSTs its answer: accept
 * sends the patch to the core as an ordinary patch (validated again against
 * the graph as it is then, one undo step in the tab, verified); decline or
 * cancel is a result with preview.outcome "rejected"; no answer within
 * preview_timeout_ms is "timed_out". Nothing is applied unless accepted.
 * Clients without elicitation, and calls whose answer cannot be an event
 * stream, are previewed in the tab by the core as before.
 *
 * State: a wait (app_mcp_int.h) with elicit set, on app_mcp.waits; the
 * tick expires it. Loop thread only. */
#include "app_mcp_int.h"

/* The elicitation message lists at most this many commands. */
#define MX_ELICIT_MAX_LISTED 12
/* ... and is at most this long. */
#define MX_ELICIT_MAX_MESSAGE 2048

static uint64_t elicit_seq;

int mx_elicit_wanted(const op *o, const mcp_session *s, const Comfyd__V1__ExecuteBatchRequest *req)
{
    return o->tool == T_APPLY && s && s->elicitation && o->x->accept_sse && !o->x->batch &&
           req->apply_mode == COMFYD__V1__APPLY_MODE__APPLY_MODE_PREVIEW;
}

static uint32_t preview_ms(const Comfyd__V1__ExecuteBatchRequest *req)
{
    uint32_t t = req->preview_timeout_ms ? req->preview_timeout_ms : APP_DEFAULT_PREVIEW_TIMEOUT_MS;
    return t > APP_MAX_PREVIEW_TIMEOUT_MS ? APP_MAX_PREVIEW_TIMEOUT_MS : t;
}

/* Ends the wait with a result (taken) and frees it. */
static void finish(wait *w, char *result, int is_error)
{
    app_ctx *a = w->o->x->a;
    op *o = w->o;
    mx_wait_free(a->mcp, w);
    mx_op_tool_result(o, result, is_error);
}

/* A result for a preview that ended without applying anything. */
static void settle(wait *w, Comfyd__V1__PreviewOutcome outcome, const char *why)
{
    const Comfyd__V1__ExecuteBatchRequest *req =
        (const Comfyd__V1__ExecuteBatchRequest *)w->patch_req;
    Comfyd__V1__PreviewResult pr = COMFYD__V1__PREVIEW_RESULT__INIT;
    pr.outcome = outcome;
    pr.decided_by = outcome == COMFYD__V1__PREVIEW_OUTCOME__PREVIEW_OUTCOME_REJECTED ? "mcp" : "";
    uint64_t now = uv_now(w->o->x->a->loop);
    pr.waited_ms = w->asked_at ? (uint32_t)(now - w->asked_at) : 0;
    Comfyd__V1__GraphError e = COMFYD__V1__GRAPH_ERROR__INIT;
    e.code = COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_SKIPPED;
    e.message = (char *)why;
    e.index = -1;
    Comfyd__V1__GraphError *errs[1] = {&e};
    Comfyd__V1__ExecuteBatchResponse r = COMFYD__V1__EXECUTE_BATCH_RESPONSE__INIT;
    r.ok = 0;
    r.canvas_id = w->canvas;
    r.revision = w->revision;
    r.errors = errs;
    r.n_errors = 1;
    r.preview = &pr;
    int has_base = req && req->base_revision;
    char *res = toolspec_patch_result(&r, 0, has_base, has_base ? req->base_revision->value : 0);
    finish(w, res, 0);
}

/* The accepted patch's answer: an ordinary apply_patch result with the
 * decision beside it. */
static void done_apply(app_call *c)
{
    mcp_session *s;
    op *o = mx_call_end(c, &s);
    if (!o || !o->w) return;
    wait *w = o->w;
    Comfyd__V1__ExecuteBatchResponse *r = (Comfyd__V1__ExecuteBatchResponse *)c->resp;
    if (c->code != GRPC_STATUS_OK || !r) {
        finish(w, mx_call_error(c), 1);
        return;
    }
    Comfyd__V1__PreviewResult pr = COMFYD__V1__PREVIEW_RESULT__INIT;
    pr.outcome = COMFYD__V1__PREVIEW_OUTCOME__PREVIEW_OUTCOME_ACCEPTED;
    pr.decided_by = "mcp";
    pr.waited_ms = (uint32_t)(w->deadline - w->asked_at); /* set when the answer came */
    Comfyd__V1__PreviewResult *kept = r->preview;
    r->preview = &pr;
    const Comfyd__V1__ExecuteBatchRequest *req =
        (const Comfyd__V1__ExecuteBatchRequest *)w->patch_req;
    int has_base = req->base_revision != NULL;
    char *res = toolspec_patch_result(r, 0, has_base, has_base ? req->base_revision->value : 0);
    r->preview = kept;
    if (r->ok) mx_observe(s, r->canvas_id, r->revision);
    finish(w, res, !r->ok);
}

/* A short text of the patch for the user: who asks, where, and what. */
static char *describe(const op *o, const Comfyd__V1__ExecuteBatchRequest *req, const char *canvas)
{
    text_buf b = {0};
    mcp_session *s = mx_session_of(o->x->a, o->x->session);
    const char *who = s && s->client[0] ? s->client : "An MCP client";
    text_buf_addf(&b, "%s wants to apply %zu command(s) to the canvas \"%s\":", who,
                  req->n_commands, canvas);
    size_t destructive = 0;
    for (size_t i = 0; i < req->n_commands; i++) {
        const Comfyd__V1__Command *c = req->commands[i];
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(c->base.descriptor, (unsigned)c->command_case);
        const char *name = f ? f->name : "command";
        if (c->command_case == COMFYD__V1__COMMAND__COMMAND_REMOVE_NODE ||
            c->command_case == COMFYD__V1__COMMAND__COMMAND_DISCONNECT ||
            c->command_case == COMFYD__V1__COMMAND__COMMAND_CLEAR_GRAPH)
            destructive++;
        if (i >= MX_ELICIT_MAX_LISTED) continue;
        if (c->command_case == COMFYD__V1__COMMAND__COMMAND_CREATE_NODE && c->create_node)
            text_buf_addf(&b, "\n- create_node %.64s", c->create_node->node_type);
        else if (c->command_case == COMFYD__V1__COMMAND__COMMAND_SET_WIDGET && c->set_widget)
            text_buf_addf(&b, "\n- set_widget %.64s", c->set_widget->name);
        else
            text_buf_addf(&b, "\n- %s", name);
    }
    if (req->n_commands > MX_ELICIT_MAX_LISTED)
        text_buf_addf(&b, "\n- ... and %zu more", req->n_commands - MX_ELICIT_MAX_LISTED);
    if (destructive) text_buf_addf(&b, "\n%zu of them remove work.", destructive);
    text_buf_addf(&b, "\nApply it?");
    char *t = text_buf_take(&b);
    if (t && strlen(t) > MX_ELICIT_MAX_MESSAGE) t[MX_ELICIT_MAX_MESSAGE] = '\0';
    return t;
}

/* The check came back: refuse an invalid patch at once, else ask. */
static void done_check(app_call *c)
{
    mcp_session *s;
    op *o = mx_call_end(c, &s);
    if (!o || !o->w) return;
    wait *w = o->w;
    Comfyd__V1__ExecuteBatchRequest *req = (Comfyd__V1__ExecuteBatchRequest *)w->patch_req;
    const Comfyd__V1__ExecuteBatchResponse *r = (const Comfyd__V1__ExecuteBatchResponse *)c->resp;
    if (c->code != GRPC_STATUS_OK || !r) {
        finish(w, mx_call_error(c), 1);
        return;
    }
    if (!r->ok) {
        /* Never ask about a patch that would be refused. */
        int has_base = req->base_revision != NULL;
        finish(w, toolspec_patch_result(r, 0, has_base, has_base ? req->base_revision->value : 0),
               1);
        return;
    }
    snprintf(w->canvas, sizeof w->canvas, "%s", r->canvas_id ? r->canvas_id : "");
    w->revision = r->revision;
    /* The answer to the same canvas the check resolved (the focused one
     * when the call named none). */
    if (w->canvas[0] && (!req->canvas_id || !*req->canvas_id)) {
        if (req->canvas_id && req->canvas_id != protobuf_c_empty_string) free(req->canvas_id);
        req->canvas_id = text_dup(w->canvas);
    }
    mcp_x *x = o->x;
    bnet_req *hr = mx_x_req(x);
    char *text = describe(o, req, w->canvas);
    if (!hr || !text || mx_x_start_sse(x) != 0) {
        free(text);
        finish(w, toolspec_error("INTERNAL", NULL, "cannot ask the MCP client"), 1);
        return;
    }
    snprintf(w->elicit_id, sizeof w->elicit_id, "\"comfyd-preview-%llu\"",
             (unsigned long long)++elicit_seq);
    yajl_gen g = app__gen();
    int bad = !g || yajl_gen_map_open(g) != yajl_gen_status_ok || app__gen_cstr(g, "jsonrpc") ||
              app__gen_cstr(g, "2.0") || app__gen_cstr(g, "id");
    if (!bad) {
        /* elicit_id is the id's JSON text; the string inside the quotes. */
        size_t n = strlen(w->elicit_id);
        bad = yajl_gen_string(g, (const unsigned char *)w->elicit_id + 1, n - 2) !=
              yajl_gen_status_ok;
    }
    bad =
        bad || app__gen_cstr(g, "method") || app__gen_cstr(g, "elicitation/create") ||
        app__gen_cstr(g, "params") || yajl_gen_map_open(g) != yajl_gen_status_ok ||
        app__gen_cstr(g, "message") || app__gen_str(g, text) ||
        app__gen_cstr(g, "requestedSchema") || yajl_gen_map_open(g) != yajl_gen_status_ok ||
        app__gen_cstr(g, "type") || app__gen_cstr(g, "object") || app__gen_cstr(g, "properties") ||
        yajl_gen_map_open(g) != yajl_gen_status_ok || app__gen_cstr(g, "apply") ||
        yajl_gen_map_open(g) != yajl_gen_status_ok || app__gen_cstr(g, "type") ||
        app__gen_cstr(g, "boolean") || app__gen_cstr(g, "title") ||
        app__gen_cstr(g, "Apply the patch") || app__gen_cstr(g, "default") ||
        yajl_gen_bool(g, 1) != yajl_gen_status_ok || yajl_gen_map_close(g) != yajl_gen_status_ok ||
        yajl_gen_map_close(g) != yajl_gen_status_ok ||
        yajl_gen_map_close(g) != yajl_gen_status_ok ||
        yajl_gen_map_close(g) != yajl_gen_status_ok || yajl_gen_map_close(g) != yajl_gen_status_ok;
    free(text);
    char *json = NULL;
    size_t len = 0;
    if (bad && g) yajl_gen_free(g);
    if (bad || app__gen_finish(g, &json, &len) != APP_OK) {
        finish(w, toolspec_error("INTERNAL", NULL, "out of memory"), 1);
        return;
    }
    uint64_t now = uv_now(x->a->loop);
    w->asked_at = now;
    w->last_write = now;
    w->deadline = now + preview_ms(req);
    mx_sse_write(hr, json, len);
    free(json);
    LOG_I(MOD, "session %.8s: asked the client to accept a patch of %zu command(s)", x->session,
          req->n_commands);
}

void mx_elicit_start(op *o, Comfyd__V1__ExecuteBatchRequest *req)
{
    app_ctx *a = o->x->a;
    wait *w = calloc(1, sizeof *w);
    if (!w) {
        protobuf_c_message_free_unpacked(&req->base, NULL);
        mx_op_tool_error(o, toolspec_error("INTERNAL", NULL, "out of memory"));
        return;
    }
    w->o = o;
    o->w = w;
    w->elicit = 1;
    w->patch_req = &req->base;
    uint64_t now = uv_now(a->loop);
    /* Until asked, the check's own deadline bounds the wait. */
    w->deadline = now + (uint64_t)APP_UNARY_TIMEOUT_MS + preview_ms(req);
    w->last_write = now;
    w->next = a->mcp->waits;
    if (w->next) w->next->prev = w;
    a->mcp->waits = w;
    mcp_session *ss = mx_session_of(a, o->x->session);
    if (ss) ss->inflight++;
    req->validate_only = 1;
    Comfyd__V1__ApplyMode mode = req->apply_mode;
    req->apply_mode = COMFYD__V1__APPLY_MODE__APPLY_MODE_APPLY;
    mx_start(o, APP_M_EXECUTE_BATCH, done_check, &req->base, APP_UNARY_TIMEOUT_MS);
    req->validate_only = 0;
    req->apply_mode = mode;
}

static yajl_val field(yajl_val v, const char *key)
{
    if (!YAJL_IS_OBJECT(v)) return NULL;
    for (size_t i = 0; i < v->u.object.len; i++)
        if (!strcmp(v->u.object.keys[i], key)) return v->u.object.values[i];
    return NULL;
}

void mx_elicit_response(app_ctx *a, const char *session, const char *id_json, yajl_val msg)
{
    wait *w = a->mcp->waits;
    for (; w; w = w->next)
        if (w->elicit && w->o && !w->applying && w->elicit_id[0] &&
            !strcmp(w->o->x->session, session) && !strcmp(w->elicit_id, id_json))
            break;
    if (!w) {
        LOG_D(MOD, "session %.8s: a response %s nobody waits for", session, LOG_ESC(id_json));
        return;
    }
    yajl_val result = field(msg, "result");
    yajl_val action = field(result, "action");
    yajl_val apply = field(field(result, "content"), "apply");
    int accepted = YAJL_IS_STRING(action) && !strcmp(action->u.string, "accept") &&
                   !(apply && YAJL_IS_FALSE(apply));
    if (!accepted) {
        const char *what = YAJL_IS_STRING(action) ? action->u.string : "an error";
        LOG_I(MOD, "session %.8s: the client answered the preview with %s", session, LOG_ESC(what));
        settle(w, COMFYD__V1__PREVIEW_OUTCOME__PREVIEW_OUTCOME_REJECTED,
               "the user declined the patch in the MCP client; nothing was applied");
        return;
    }
    Comfyd__V1__ExecuteBatchRequest *req = (Comfyd__V1__ExecuteBatchRequest *)w->patch_req;
    /* Decided: what is left is the core's own round trip. */
    uint64_t now = uv_now(a->loop);
    w->applying = 1;
    w->deadline = now; /* with asked_at: the time the decision took */
    req->apply_mode = COMFYD__V1__APPLY_MODE__APPLY_MODE_APPLY;
    req->validate_only = 0;
    LOG_I(MOD, "session %.8s: the client accepted the patch", session);
    mx_start(w->o, APP_M_EXECUTE_BATCH, done_apply, &req->base,
             mx_tab_deadline(APP_OP_BATCH, &req->base));
}

void mx_elicit_expire(wait *w)
{
    if (w->applying) return; /* the core's call has its own deadline */
    if (!w->asked_at) {
        /* The check never came back (its call ends the wait when it does). */
        w->deadline = uv_now(w->o->x->a->loop) + APP_UNARY_TIMEOUT_MS;
        return;
    }
    settle(w, COMFYD__V1__PREVIEW_OUTCOME__PREVIEW_OUTCOME_TIMED_OUT,
           "nobody accepted or declined the patch in the MCP client in time; nothing was applied");
}

/* tools_graph: the tools on a canvas's graph: get_graph, searching node
 * types and their schemas, validating and applying patches, queueing, leases. */
#include "tools_int.h"

/* ---- get_graph ---- */

int tool_get_graph(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    tools *t = ud;
    yajl_val v = tl_parse_args(args, TOOLSPEC_GET_GRAPH, res);
    if (!v) return AGENT_TOOL_ERROR;
    const char *canvas_id;
    int full;
    int64_t ids[TOOLSPEC_MAX_NODE_IDS];
    size_t n_ids = 0;
    int rc = AGENT_TOOL_ERROR;
    Comfyd__V1__GetGraphResponse *resp = NULL;
    if (toolspec_get_graph_args(v, &canvas_id, &full, ids, &n_ids, res)) goto out;
    Comfyd__V1__GetGraphRequest req = COMFYD__V1__GET_GRAPH_REQUEST__INIT;
    req.canvas_id = (char *)canvas_id;
    canvas_error e = {0};
    int crc = canvas_get_graph(t->cm, &req, &resp, &e);
    if (crc != CANVAS_OK) {
        *res = toolspec_error(tl_code_of(&e, crc),
                              crc == CANVAS_EGRAPH ? toolspec_hint(e.code) : NULL, "%s", e.message);
        goto out;
    }
    const Comfyd__V1__Graph *g = resp->graph;
    if (!g) {
        *res = toolspec_error("INTERNAL", NULL, "the canvas manager returned no graph");
        goto out;
    }
    if (full) {
        if (toolspec_graph_full(g, ids, n_ids, res) != 0) goto out_nomem;
    } else {
        *res = toolspec_graph_outline(g, ids, n_ids);
    }
    if (!*res) goto out_nomem;
    /* A read of the whole canvas is what later patches are based on. */
    if (!n_ids) tl_observe(t, ctx, g->canvas_id, g->revision, 1);
    rc = AGENT_TOOL_OK;
    goto out;
out_nomem:
    if (!*res) *res = toolspec_error("INTERNAL", NULL, "out of memory");
out:
    if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
    yajl_tree_free(v);
    return rc;
}

/* ---- node types ---- */

/* The canvas whose schema a read of node types should use: the one the
 * skill works on, else "" (the service's schema). */
static void schema_canvas(tools *t, const agent_call_ctx *ctx, char canvas[CANVAS_MAX_ID + 1])
{
    uint64_t rev;
    if (!tl_view_of(t, ctx, canvas, &rev)) canvas[0] = 0;
}

/* ListNodeTypes on the skill's canvas, falling back to the service's schema
 * when that canvas is gone. */
static int list_types(tools *t, const agent_call_ctx *ctx, Comfyd__V1__ListNodeTypesRequest *req,
                      Comfyd__V1__ListNodeTypesResponse **out, canvas_error *e)
{
    char canvas[CANVAS_MAX_ID + 1];
    schema_canvas(t, ctx, canvas);
    char *saved = req->canvas_id;
    req->canvas_id = canvas;
    int rc = canvas_list_node_types(t->cm, req, out, e);
    if (rc == CANVAS_EGRAPH && canvas[0]) {
        req->canvas_id = (char *)"";
        rc = canvas_list_node_types(t->cm, req, out, e);
    }
    req->canvas_id = saved;
    return rc;
}

int tool_search(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    tools *t = ud;
    yajl_val v = tl_parse_args(args, TOOLSPEC_SEARCH_NODE_TYPES, res);
    if (!v) return AGENT_TOOL_ERROR;
    yajl_tree_free(v);
    Comfyd__V1__ListNodeTypesRequest *req = (Comfyd__V1__ListNodeTypesRequest *)tl_decode(
        &comfyd__v1__list_node_types_request__descriptor, args, res);
    if (!req) return AGENT_TOOL_ERROR;
    uint32_t limit = req->limit ? req->limit : TOOLSPEC_SEARCH_DEFAULT;
    if (limit > TOOLSPEC_SEARCH_MAX) limit = TOOLSPEC_SEARCH_MAX;
    req->limit = limit;
    Comfyd__V1__ListNodeTypesResponse *resp = NULL;
    canvas_error e = {0};
    int crc = list_types(t, ctx, req, &resp, &e);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    if (crc != CANVAS_OK)
        return tl_fail(res, toolspec_error(tl_code_of(&e, crc), NULL, "%s", e.message));
    *res = toolspec_search_result(resp);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    if (!*res) return tl_fail(res, toolspec_error("INTERNAL", NULL, "out of memory"));
    return AGENT_TOOL_OK;
}

/* An UNKNOWN_NODE_TYPE error with close names: edit distance on the
 * service's schema, else a substring search. */
static char *unknown_type(tools *t, const agent_call_ctx *ctx, const char *name)
{
    const char *sugg[NODEINFO_MAX_SUGGESTIONS];
    size_t n = 0;
    nodeinfo *ni = canvas_mgr_schema(t->cm);
    Comfyd__V1__ListNodeTypesResponse *resp = NULL;
    if (ni) {
        n = nodeinfo_suggest(ni, name, sugg);
    } else {
        Comfyd__V1__ListNodeTypesRequest req = COMFYD__V1__LIST_NODE_TYPES_REQUEST__INIT;
        req.query = (char *)name;
        req.limit = NODEINFO_MAX_SUGGESTIONS;
        canvas_error e = {0};
        if (list_types(t, ctx, &req, &resp, &e) == CANVAS_OK)
            for (size_t i = 0; i < resp->n_node_types && n < NODEINFO_MAX_SUGGESTIONS; i++)
                sugg[n++] = resp->node_types[i]->name;
    }
    char *out = toolspec_unknown_type(name, sugg, n);
    if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
    nodeinfo_unref(ni);
    return out;
}

int tool_schema(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    tools *t = ud;
    yajl_val v = tl_parse_args(args, TOOLSPEC_GET_NODE_SCHEMA, res);
    if (!v) return AGENT_TOOL_ERROR;
    const char *name;
    int rc = AGENT_TOOL_ERROR;
    Comfyd__V1__ListNodeTypesResponse *resp = NULL;
    if (toolspec_schema_args(v, &name, res)) goto out;
    Comfyd__V1__ListNodeTypesRequest req = COMFYD__V1__LIST_NODE_TYPES_REQUEST__INIT;
    char *names[1] = {(char *)name};
    req.names = names;
    req.n_names = 1;
    canvas_error e = {0};
    int crc = list_types(t, ctx, &req, &resp, &e);
    if (crc != CANVAS_OK) {
        *res = toolspec_error(tl_code_of(&e, crc), NULL, "%s", e.message);
        goto out;
    }
    if (resp->n_node_types == 0) {
        *res = unknown_type(t, ctx, name);
        if (!*res) *res = toolspec_error("UNKNOWN_NODE_TYPE", NULL, "unknown node type");
        goto out;
    }
    *res = toolspec_schema_result(resp->node_types[0]);
    if (!*res) {
        *res = toolspec_error("INTERNAL", NULL, "out of memory");
        goto out;
    }
    rc = AGENT_TOOL_OK;
out:
    if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
    yajl_tree_free(v);
    return rc;
}

/* ---- patches ---- */

static int tool_patch(tools *t, const agent_call_ctx *ctx, const char *args, int validate_only,
                      char **res)
{
    yajl_val v =
        tl_parse_args(args, validate_only ? TOOLSPEC_VALIDATE_PATCH : TOOLSPEC_APPLY_PATCH, res);
    if (!v) return AGENT_TOOL_ERROR;
    yajl_tree_free(v);
    Comfyd__V1__ExecuteBatchRequest *req = (Comfyd__V1__ExecuteBatchRequest *)tl_decode(
        &comfyd__v1__execute_batch_request__descriptor, args, res);
    if (!req) return AGENT_TOOL_ERROR;
    if (req->n_commands == 0) {
        protobuf_c_message_free_unpacked(&req->base, NULL);
        return tl_fail(res, toolspec_no_commands());
    }
    /* Without a base the patch is checked against what the skill saw (and
     * sent to that canvas when it names none). */
    char canvas[CANVAS_MAX_ID + 1];
    uint64_t rev = 0;
    int has_view = tl_view_of(t, ctx, canvas, &rev);
    const char *named = req->canvas_id ? req->canvas_id : "";
    if (!req->base_revision && has_view && (!*named || strcmp(named, canvas) == 0)) {
        req->base_revision = malloc(sizeof *req->base_revision);
        if (!req->base_revision) {
            protobuf_c_message_free_unpacked(&req->base, NULL);
            return tl_fail(res, toolspec_error("INTERNAL", NULL, "out of memory"));
        }
        google__protobuf__uint64_value__init(req->base_revision);
        req->base_revision->value = rev;
        if (!*named) tl_set_field_str(&req->canvas_id, canvas);
    } else if (!*named) {
        tl_resolve_default(t, canvas);
        tl_set_field_str(&req->canvas_id, canvas);
    }
    char key[CANVAS_MAX_KEY + 1] = "";
    if (!validate_only) tl_idem_key(ctx, key);
    tl_set_field_str(&req->idempotency_key, key);
    req->validate_only = validate_only;
    req->timeout_ms = 0;
    /* The skill's preview policy wins over what the model asks: a skill
     * that must confirm destructive patches cannot opt out per call. It
     * asks for a preview only where a tab can show one (preview_policy.h). */
    Comfyd__V1__ApplyMode pm =
        preview_policy_mode((preview_policy)ctx->preview_policy,
                            (const Comfyd__V1__Command *const *)req->commands, req->n_commands);
    if (pm != COMFYD__V1__APPLY_MODE__APPLY_MODE_APPLY &&
        req->apply_mode != COMFYD__V1__APPLY_MODE__APPLY_MODE_PREVIEW)
        req->apply_mode = pm;
    int has_base = req->base_revision != NULL;
    uint64_t base = has_base ? req->base_revision->value : 0;

    /* The canvas before the turn's first change is kept (checkpoint.h). */
    char ck_canvas[CANVAS_MAX_ID + 1] = "";
    if (!validate_only)
        ckpt_before_change(t->ck, ctx->session_id, ctx->turn_id, req->canvas_id, ck_canvas);
    outcome o;
    if (tl_submit_wait(t, ctx, &req->base, &o, res) != 0) {
        ckpt_after_change(t->ck, ctx->session_id, ctx->turn_id, ck_canvas, 0);
        return AGENT_TOOL_ERROR;
    }
    const Comfyd__V1__ExecuteBatchResponse *r = (const Comfyd__V1__ExecuteBatchResponse *)o.resp;
    ckpt_after_change(t->ck, ctx->session_id, ctx->turn_id, ck_canvas,
                      r->canvas_id && !strcmp(r->canvas_id, ck_canvas) ? r->revision : 0);
    *res = toolspec_patch_result(r, validate_only, has_base, base);
    /* The skill knows the state after its own patch; the session's mark
     * moves only when it also knew the state before. */
    if (!validate_only && r->ok && r->canvas_id)
        tl_observe(t, ctx, r->canvas_id, r->revision, has_base);
    /* validate_patch reports errors as its result; apply_patch fails. */
    int rc = r->ok || validate_only ? AGENT_TOOL_OK : AGENT_TOOL_ERROR;
    protobuf_c_message_free_unpacked(o.resp, NULL);
    if (!*res) return tl_fail(res, toolspec_error("INTERNAL", NULL, "out of memory"));
    return rc;
}

int tool_validate(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    return tool_patch(ud, ctx, args, 1, res);
}

int tool_apply(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    return tool_patch(ud, ctx, args, 0, res);
}

/* ---- queue ---- */

int tool_queue(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    tools *t = ud;
    yajl_val v = tl_parse_args(args, TOOLSPEC_QUEUE, res);
    if (!v) return AGENT_TOOL_ERROR;
    yajl_tree_free(v);
    Comfyd__V1__QueueRequest *req =
        (Comfyd__V1__QueueRequest *)tl_decode(&comfyd__v1__queue_request__descriptor, args, res);
    if (!req) return AGENT_TOOL_ERROR;
    char canvas[CANVAS_MAX_ID + 1];
    uint64_t rev;
    if (!req->canvas_id || !*req->canvas_id) {
        if (!tl_view_of(t, ctx, canvas, &rev)) tl_resolve_default(t, canvas);
        tl_set_field_str(&req->canvas_id, canvas);
    }
    char key[CANVAS_MAX_KEY + 1];
    tl_idem_key(ctx, key);
    tl_set_field_str(&req->idempotency_key, key);
    req->origin = COMFYD__V1__RUN_ORIGIN__RUN_ORIGIN_SESSION;
    tl_set_field_str(&req->session_id, ctx->session_id ? ctx->session_id : "");
    tl_set_field_str(&req->queued_by, ctx->skill ? ctx->skill : "");
    outcome o;
    if (tl_submit_wait(t, ctx, &req->base, &o, res) != 0) return AGENT_TOOL_ERROR;
    size_t len;
    if (jsonpb_encode(o.resp, NULL, res, &len, NULL, 0) != JSONPB_OK) *res = NULL;
    protobuf_c_message_free_unpacked(o.resp, NULL);
    if (!*res) return tl_fail(res, toolspec_error("INTERNAL", NULL, "out of memory"));
    return AGENT_TOOL_OK;
}

/* ---- leases ---- */

/* A LeaseRequest for the skill (canvas_lease answers at once). A refusal
 * (ok false: LEASED with the lease in the way) is an error result with the
 * response and a hint; the skill's leases end with its turn. */
int tool_lease(void *ud, const agent_call_ctx *ctx, const char *args, char **res)
{
    tools *t = ud;
    yajl_val v = tl_parse_args(args, TOOLSPEC_LEASE, res);
    if (!v) return AGENT_TOOL_ERROR;
    yajl_tree_free(v);
    Comfyd__V1__LeaseRequest *req =
        (Comfyd__V1__LeaseRequest *)tl_decode(&comfyd__v1__lease_request__descriptor, args, res);
    if (!req) return AGENT_TOOL_ERROR;
    char canvas[CANVAS_MAX_ID + 1];
    uint64_t rev;
    if (!req->canvas_id || !*req->canvas_id) {
        if (!tl_view_of(t, ctx, canvas, &rev)) tl_resolve_default(t, canvas);
        tl_set_field_str(&req->canvas_id, canvas);
    }
    provn_actor who;
    char e_who[160] = "";
    if (provn_actor_make(&who, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_SKILL, ctx->session_id,
                         ctx->skill, NULL, e_who, sizeof e_who)) {
        protobuf_c_message_free_unpacked(&req->base, NULL);
        return tl_fail(res, toolspec_error("FAILED_PRECONDITION", NULL,
                                           "leases are taken by a session's skill: %s", e_who));
    }
    canvas_error e = {0};
    Comfyd__V1__LeaseResponse *r = NULL;
    int rc = canvas_lease(t->cm, req, &who, &r, &e);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    if (rc != CANVAS_OK)
        return tl_fail(res, toolspec_error(tl_code_of(&e, rc),
                                           rc == CANVAS_EGRAPH ? toolspec_hint(e.code) : NULL, "%s",
                                           e.message));
    size_t len;
    if (jsonpb_encode(&r->base, NULL, res, &len, NULL, 0) != JSONPB_OK) *res = NULL;
    int ok = r->ok;
    protobuf_c_message_free_unpacked(&r->base, NULL);
    if (!*res) return tl_fail(res, toolspec_error("INTERNAL", NULL, "out of memory"));
    return ok ? AGENT_TOOL_OK : AGENT_TOOL_ERROR;
}

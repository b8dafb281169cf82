/* canvas_query: the requests the core answers at once from its mirror and
 * store, without a tab (graph, diff, node history, node types, the list of
 * canvases, saving and listing workflows). */
#include "canvas_int.h"

/* ---- requests answered at once ---- */

int canvas_get_graph(canvas_mgr *m, const Comfyd__V1__GetGraphRequest *req,
                     Comfyd__V1__GetGraphResponse **out, canvas_error *err)
{
    *out = NULL;
    if (cv_check_canvas_id(req->canvas_id, 0, err)) return CANVAS_EINVAL;
    int rc = CANVAS_OK;
    canvas *cv = cv_resolve(m, req->canvas_id, &rc, err);
    if (!cv) return rc;
    Comfyd__V1__GetGraphResponse *r = xcalloc(1, sizeof *r);
    comfyd__v1__get_graph_response__init(r);
    pthread_mutex_lock(&cv->mu);
    r->graph = cv_graph(cv);
    if (req->include_workflow) r->workflow_json = xstrdup(graph_workflow_json(cv->g, NULL));
    pthread_mutex_unlock(&cv->mu);
    cv_unref(cv);
    *out = r;
    return CANVAS_OK;
}

int canvas_get_diff(canvas_mgr *m, const Comfyd__V1__GetDiffRequest *req,
                    Comfyd__V1__GetDiffResponse **out, canvas_error *err)
{
    *out = NULL;
    if (cv_check_canvas_id(req->canvas_id, 0, err)) return CANVAS_EINVAL;
    int rc = CANVAS_OK;
    canvas *cv = cv_resolve(m, req->canvas_id, &rc, err);
    if (!cv) return rc;
    Comfyd__V1__GetDiffResponse *r = xcalloc(1, sizeof *r);
    comfyd__v1__get_diff_response__init(r);
    r->canvas_id = xstrdup(cv->id);
    r->from_revision = req->since_revision;
    pthread_mutex_lock(&cv->mu);
    uint64_t rev = graph_revision(cv->g);
    r->to_revision = rev;
    int grc = req->since_revision > rev
                  ? GRAPH_ETRUNCATED
                  : graph_diff_since(cv->g, req->since_revision, &r->ops, &r->n_ops);
    if (grc == GRAPH_OK && (provn_fill_ops(cv->provn, r->ops, r->n_ops) ||
                            lgraph_fill_ops(cv->leases, r->ops, r->n_ops)))
        grc = GRAPH_ENOMEM;
    if (grc == GRAPH_ETRUNCATED) {
        r->truncated = 1;
        r->graph = cv_graph(cv);
    }
    pthread_mutex_unlock(&cv->mu);
    cv_unref(cv);
    if (grc == GRAPH_ENOMEM) {
        cv_pb_free(r);
        return fail(err, CANVAS_ENOMEM, 0, "out of memory");
    }
    *out = r;
    return CANVAS_OK;
}

int canvas_node_history(canvas_mgr *m, const Comfyd__V1__GetNodeHistoryRequest *req,
                        Comfyd__V1__GetNodeHistoryResponse **out, canvas_error *err)
{
    *out = NULL;
    if (cv_check_canvas_id(req->canvas_id, 0, err)) return CANVAS_EINVAL;
    if (req->node_id < 0) return EINVALF(err, "node_id must not be negative");
    if (req->limit > CANVAS_MAX_HISTORY)
        return EINVALF(err, "limit is at most %d", CANVAS_MAX_HISTORY);
    size_t limit = req->limit ? req->limit : CANVAS_DEFAULT_HISTORY;
    int rc = CANVAS_OK;
    canvas *cv = cv_resolve(m, req->canvas_id, &rc, err);
    if (!cv) return rc;
    Comfyd__V1__GetNodeHistoryResponse *r = xcalloc(1, sizeof *r);
    comfyd__v1__get_node_history_response__init(r);
    r->canvas_id = xstrdup(cv->id);
    Comfyd__V1__GraphOp **ops = NULL;
    size_t n = 0;
    pthread_mutex_lock(&cv->mu);
    r->revision = graph_revision(cv->g);
    r->from_revision = graph_log_floor(cv->g);
    int grc = graph_diff_since(cv->g, r->from_revision, &ops, &n);
    if (grc == GRAPH_OK) {
        r->ops = xcalloc(limit, sizeof *r->ops);
        /* Newest first; the ops not answered are freed below. */
        for (size_t i = n; i-- > 0;) {
            const Comfyd__V1__GraphOp *op = ops[i];
            if (req->node_id && op->node_id != req->node_id && op->from_node_id != req->node_id)
                continue;
            if (r->n_ops == limit) {
                r->truncated = 1;
                break;
            }
            r->ops[r->n_ops++] = ops[i];
            ops[i] = NULL;
        }
        if (provn_fill_ops(cv->provn, r->ops, r->n_ops) ||
            lgraph_fill_ops(cv->leases, r->ops, r->n_ops))
            grc = GRAPH_ENOMEM;
        if (req->node_id) r->provenance = provn_node_provenance(cv->provn, req->node_id);
    }
    pthread_mutex_unlock(&cv->mu);
    cv_unref(cv);
    graph_ops_free(ops, n);
    if (grc != GRAPH_OK) {
        cv_pb_free(r);
        return fail(err, CANVAS_ENOMEM, 0, "out of memory");
    }
    *out = r;
    return CANVAS_OK;
}

int canvas_list_node_types(canvas_mgr *m, const Comfyd__V1__ListNodeTypesRequest *req,
                           Comfyd__V1__ListNodeTypesResponse **out, canvas_error *err)
{
    *out = NULL;
    if (cv_check_canvas_id(req->canvas_id, 0, err) ||
        cv_check_str(req->query, NODEINFO_MAX_NAME, err, "query") ||
        cv_check_str(req->category, NODEINFO_MAX_NAME, err, "category"))
        return CANVAS_EINVAL;
    if (req->n_names > CANVAS_MAX_NAMES) return EINVALF(err, "names: at most %d", CANVAS_MAX_NAMES);
    for (size_t i = 0; i < req->n_names; i++)
        if (cv_check_str(req->names[i], NODEINFO_MAX_NAME, err, "names[%zu]", i))
            return CANVAS_EINVAL;
    nodeinfo *ni = NULL;
    if (req->canvas_id && *req->canvas_id) {
        int rc = CANVAS_OK;
        canvas *cv = cv_resolve(m, req->canvas_id, &rc, err);
        if (!cv) return rc;
        pthread_mutex_lock(&cv->mu);
        ni = cv_schema(cv);
        pthread_mutex_unlock(&cv->mu);
        cv_unref(cv);
    } else {
        ni = canvas_mgr_schema(m);
    }
    Comfyd__V1__ListNodeTypesResponse *r = xcalloc(1, sizeof *r);
    comfyd__v1__list_node_types_response__init(r);
    size_t count = ni ? nodeinfo_count(ni) : 0;
    const nodeinfo_type **found = xcalloc(count, sizeof *found);
    size_t n = 0, total = 0;
    if (req->n_names) {
        for (size_t i = 0; i < req->n_names && ni; i++) {
            const nodeinfo_type *t = nodeinfo_find(ni, req->names[i]);
            if (t && n < count) found[n++] = t;
        }
        total = n;
    } else if (ni) {
        n = nodeinfo_search(ni, req->query, req->category, found, count, &total);
    }
    if (req->limit && n > req->limit) n = req->limit;
    r->node_types = xcalloc(n, sizeof *r->node_types);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        Comfyd__V1__NodeType *t = nodeinfo_type_to_proto(found[i]);
        if (!t) abort();
        size_t sz = protobuf_c_message_get_packed_size(&t->base) + 8;
        if (bytes + sz > CANVAS_MAX_LIST_BYTES) {
            cv_pb_free(t);
            break;
        }
        bytes += sz;
        r->node_types[r->n_node_types++] = t;
    }
    r->total = (uint32_t)total;
    free(found);
    nodeinfo_unref(ni);
    *out = r;
    return CANVAS_OK;
}

typedef struct {
    canvas *cv;
    uint64_t focus_seq;
    int attached, focused;
    int64_t focused_at_ms;
} list_row;

static int cmp_row(const void *pa, const void *pb)
{
    const list_row *a = pa, *b = pb;
    if (a->focus_seq != b->focus_seq) return a->focus_seq > b->focus_seq ? -1 : 1;
    if (a->attached != b->attached) return b->attached - a->attached;
    return strcmp(a->cv->id, b->cv->id);
}

int canvas_list(canvas_mgr *m, Comfyd__V1__ListCanvasesResponse **out, canvas_error *err)
{
    (void)err;
    pthread_mutex_lock(&m->mu);
    size_t n = m->n_cvs;
    list_row *rows = xcalloc(n, sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        canvas *c = m->cvs[i];
        rows[i] = (list_row){cv_ref(c), c->focus_seq, c->attached, c->focused, c->focused_at_ms};
    }
    pthread_mutex_unlock(&m->mu);
    qsort(rows, n, sizeof *rows, cmp_row);
    Comfyd__V1__ListCanvasesResponse *r = xcalloc(1, sizeof *r);
    comfyd__v1__list_canvases_response__init(r);
    r->canvases = xcalloc(n, sizeof *r->canvases);
    for (size_t i = 0; i < n; i++) {
        Comfyd__V1__Canvas *c = xcalloc(1, sizeof *c);
        comfyd__v1__canvas__init(c);
        canvas *cv = rows[i].cv;
        pthread_mutex_lock(&cv->mu);
        c->canvas_id = xstrdup(cv->id);
        c->title = xstrdup(cv->title);
        c->revision = graph_revision(cv->g);
        c->node_count = (uint32_t)graph_node_count(cv->g);
        pthread_mutex_unlock(&cv->mu);
        c->attached = rows[i].attached;
        c->focused = rows[i].focused;
        c->focused_at_ms = rows[i].focused_at_ms;
        r->canvases[r->n_canvases++] = c;
        cv_unref(cv);
    }
    free(rows);
    *out = r;
    return CANVAS_OK;
}

int canvas_save(canvas_mgr *m, const Comfyd__V1__SaveRequest *req, Comfyd__V1__SaveResponse **out,
                canvas_error *err)
{
    *out = NULL;
    char e[256] = "";
    if (cv_check_canvas_id(req->canvas_id, 0, err)) return CANVAS_EINVAL;
    if (wfstore_check_name(req->name, e, sizeof e))
        return EGRAPHF(err, GE(INVALID_NAME), "name: %s", e);
    if (!m->o.store) return fail(err, CANVAS_EIO, 0, "no workflow store is configured");
    int rc = CANVAS_OK;
    canvas *cv = cv_resolve(m, req->canvas_id, &rc, err);
    if (!cv) return rc;
    pthread_mutex_lock(&cv->mu);
    size_t len;
    const char *cur = graph_workflow_json(cv->g, &len);
    uint64_t rev = graph_revision(cv->g);
    /* The stored workflow carries its provenance where ComfyUI keeps but
     * ignores it (extra.comfyd.provenance). */
    char *json = NULL;
    size_t plen = 0, n_records = 0;
    char *pj = provn_to_json(cv->provn, cv->g, rev, &plen, &n_records);
    /* Nothing known: the workflow is stored as the tab has it. */
    int prc = !pj         ? PROVN_ENOMEM
              : n_records ? provn_inject_json(cur, len, pj, plen, &json, &len, e, sizeof e)
                          : PROVN_EINVAL;
    free(pj);
    if (prc == PROVN_EINVAL) {
        if (n_records) LOG_W(MOD, "canvas %s: saved without provenance: %s", LOG_ESC(cv->id), e);
        json = text_dupn(cur, len);
    } else if (prc) {
        pthread_mutex_unlock(&cv->mu);
        cv_unref(cv);
        return fail(err, CANVAS_ENOMEM, 0, "out of memory");
    }
    pthread_mutex_unlock(&cv->mu);
    cv_unref(cv);
    rc = wfstore_save(m->o.store, req->name, json, len, req->overwrite, e, sizeof e);
    free(json);
    if (rc == WFSTORE_EEXIST)
        return fail(err, CANVAS_EEXIST, 0, "%s (set overwrite to replace it)", e);
    if (rc == WFSTORE_EINVAL) return EGRAPHF(err, GE(INVALID_NAME), "name: %s", e);
    if (rc) return fail(err, CANVAS_EIO, 0, "%s", e);
    Comfyd__V1__SaveResponse *r = xcalloc(1, sizeof *r);
    comfyd__v1__save_response__init(r);
    r->name = xstrdup(req->name);
    r->revision = rev;
    r->bytes = len;
    *out = r;
    return CANVAS_OK;
}

int canvas_workflow(canvas_mgr *m, const char *canvas_id, char **json, size_t *len,
                    uint64_t *revision, char *resolved, canvas_error *err)
{
    *json = NULL;
    if (cv_check_canvas_id(canvas_id, 0, err)) return CANVAS_EINVAL;
    int rc = CANVAS_OK;
    canvas *cv = cv_resolve(m, canvas_id, &rc, err);
    if (!cv) return rc;
    pthread_mutex_lock(&cv->mu);
    const char *cur = graph_workflow_json(cv->g, len);
    *json = text_dupn(cur, *len);
    *revision = graph_revision(cv->g);
    if (resolved) snprintf(resolved, CANVAS_MAX_ID + 1, "%s", cv->id);
    pthread_mutex_unlock(&cv->mu);
    cv_unref(cv);
    return CANVAS_OK;
}

int canvas_list_workflows(canvas_mgr *m, Comfyd__V1__ListWorkflowsResponse **out, canvas_error *err)
{
    *out = NULL;
    if (!m->o.store) return fail(err, CANVAS_EIO, 0, "no workflow store is configured");
    wfstore_entry *v = NULL;
    size_t n = 0;
    int rc = wfstore_list(m->o.store, &v, &n, NULL);
    if (rc) return fail(err, CANVAS_EIO, 0, "cannot list the workflow store: %s", cfd_strerror(rc));
    Comfyd__V1__ListWorkflowsResponse *r = xcalloc(1, sizeof *r);
    comfyd__v1__list_workflows_response__init(r);
    r->workflows = xcalloc(n, sizeof *r->workflows);
    for (size_t i = 0; i < n; i++) {
        Comfyd__V1__StoredWorkflow *w = xcalloc(1, sizeof *w);
        comfyd__v1__stored_workflow__init(w);
        w->name = v[i].name;
        v[i].name = NULL;
        w->bytes = v[i].bytes;
        w->modified_at_ms = v[i].modified_at_ms;
        r->workflows[r->n_workflows++] = w;
    }
    wfstore_entries_free(v, n);
    *out = r;
    return CANVAS_OK;
}

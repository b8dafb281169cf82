/* canvas_lease: the canvases' leases on their nodes (lease_graph.h; the
 * Lease request of canvas.h), what the tab is told of them, and the marks
 * of user edits; the checks of patches and loads are in canvas_dispatch.c. */
#include "canvas_int.h"

#include "lease_graph.h"

/* The error of a refused LeaseRequest. */
static Comfyd__V1__GraphError *lease_gerr(Comfyd__V1__GraphErrorCode code, const char *msg,
                                          int32_t index)
{
    Comfyd__V1__GraphError *e = xcalloc(1, sizeof *e);
    comfyd__v1__graph_error__init(e);
    e->code = code;
    e->message = xstrdup(msg);
    e->index = index;
    return e;
}

/* Sends the canvas's leases to its tab (it outlines the leased nodes).
 * On attach (if_any) only when there are some: a tab attaching starts
 * with none. */
void cv_lease_push_as(canvas *cv, int if_any)
{
    if (!cv->ops || (if_any && !lgraph_count(cv->leases, text_now_ms()))) return;
    Comfyd__V1__LeaseUpdate u = COMFYD__V1__LEASE_UPDATE__INIT;
    u.now_ms = text_now_ms();
    if (lgraph_list(cv->leases, u.now_ms, &u.leases, &u.n_leases)) {
        LOG_W(MOD, "canvas %s: out of memory listing its leases", LOG_ESC(cv->id));
        return;
    }
    Comfyd__V1__AttachCanvasResponse msg = COMFYD__V1__ATTACH_CANVAS_RESPONSE__INIT;
    msg.kind_case = COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_LEASE_UPDATE;
    msg.lease_update = &u;
    if (cv_send_tab(cv, &msg))
        LOG_W(MOD, "canvas %s: the tab's stream took no lease update", LOG_ESC(cv->id));
    for (size_t i = 0; i < u.n_leases; i++)
        cv_pb_free(u.leases[i]);
    free(u.leases);
}

void cv_lease_push(canvas *cv)
{
    cv_lease_push_as(cv, 0);
}

/* After a commit: the user's edits of leased nodes are marked for the
 * holder (the diff, the lease's user_edited_node_ids); nodes that are gone
 * leave their leases. */
void cv_lease_committed(canvas *cv, uint64_t rev, Comfyd__V1__GraphOrigin origin,
                        Comfyd__V1__GraphOp *const *ops, size_t n, int removed)
{
    int64_t now = text_now_ms();
    if (!lgraph_count(cv->leases, now)) return;
    if (origin == COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER &&
        lgraph_user_edit(cv->leases, ops, n, rev, now))
        LOG_W(MOD, "canvas %s: out of memory marking user edits of leased nodes", LOG_ESC(cv->id));
    if (removed) {
        lgraph_prune(cv->leases, cv->g);
        cv_lease_push(cv);
    }
}

void cv_lease_fill_graph(canvas *cv, Comfyd__V1__Graph *g)
{
    if (lgraph_list(cv->leases, text_now_ms(), &g->leases, &g->n_leases)) abort();
}

/* A lease answer: the lease's error code for rc, or 0 for a request that
 * is not one. */
static Comfyd__V1__GraphErrorCode lease_code(int rc)
{
    switch (rc) {
    case LGRAPH_ELEASED:
        return GE(LEASED);
    case LGRAPH_ENOTFOUND:
        return GE(NODE_NOT_FOUND);
    default:
        return GE(INVALID_COMMAND);
    }
}

int canvas_lease(canvas_mgr *m, const Comfyd__V1__LeaseRequest *req, const provn_actor *who,
                 Comfyd__V1__LeaseResponse **out, canvas_error *err)
{
    *out = NULL;
    if (cv_check_canvas_id(req->canvas_id, 0, err)) return CANVAS_EINVAL;
    if (req->action == COMFYD__V1__LEASE_ACTION__LEASE_ACTION_UNSPECIFIED ||
        req->action > COMFYD__V1__LEASE_ACTION__LEASE_ACTION_LIST)
        return fail(err, CANVAS_EINVAL, 0, "action must be acquire, renew, release or list");
    if (req->n_node_ids > LGRAPH_MAX_NODES)
        return fail(err, CANVAS_EINVAL, 0, "node_ids: at most %d nodes", LGRAPH_MAX_NODES);
    if (req->group && strlen(req->group) > LGRAPH_MAX_GROUP)
        return fail(err, CANVAS_EINVAL, 0, "group: at most %d bytes", LGRAPH_MAX_GROUP);
    int rc = CANVAS_OK;
    canvas *cv = cv_resolve(m, req->canvas_id, &rc, err);
    if (!cv) return rc;
    Comfyd__V1__LeaseResponse *r = xcalloc(1, sizeof *r);
    comfyd__v1__lease_response__init(r);
    lgraph_refusal rf = {0};
    int64_t now = text_now_ms();
    int lrc = LGRAPH_OK, changed = 0;
    pthread_mutex_lock(&cv->mu);
    switch (req->action) {
    case COMFYD__V1__LEASE_ACTION__LEASE_ACTION_ACQUIRE:
        lrc = lgraph_acquire(cv->leases, cv->g, who, req->node_ids, req->n_node_ids, req->group,
                             req->ttl_ms, now, &r->lease, &rf);
        changed = lrc == LGRAPH_OK;
        break;
    case COMFYD__V1__LEASE_ACTION__LEASE_ACTION_RENEW:
        lrc = lgraph_renew(cv->leases, req->lease_id, who, req->ttl_ms, now, &r->lease, &rf);
        changed = lrc == LGRAPH_OK;
        break;
    case COMFYD__V1__LEASE_ACTION__LEASE_ACTION_RELEASE: {
        unsigned n = 0;
        lrc = lgraph_release(cv->leases, req->lease_id, who, now, &n, &rf);
        r->released = n;
        changed = n > 0;
        break;
    }
    default:
        break;
    }
    if (lrc == LGRAPH_OK && lgraph_list(cv->leases, now, &r->leases, &r->n_leases))
        lrc = LGRAPH_ENOMEM;
    if (changed) cv_lease_push(cv);
    r->canvas_id = xstrdup(cv->id);
    r->revision = graph_revision(cv->g);
    pthread_mutex_unlock(&cv->mu);
    cv_unref(cv);
    if (lrc == LGRAPH_ENOMEM) {
        lgraph_refusal_clear(&rf);
        cv_pb_free(r);
        return fail(err, CANVAS_ENOMEM, 0, "out of memory");
    }
    r->ok = lrc == LGRAPH_OK;
    if (!r->ok) {
        r->refusal = lease_gerr(lease_code(lrc), rf.message, -1);
        r->refusal->lease = rf.lease;
        r->refusal->leased_node_id = rf.node_id;
        rf.lease = NULL;
    }
    lgraph_refusal_clear(&rf);
    *out = r;
    return CANVAS_OK;
}

unsigned canvas_release_session_leases(canvas_mgr *m, const char *session_id)
{
    if (!session_id || !*session_id) return 0;
    pthread_mutex_lock(&m->mu);
    size_t n;
    canvas **v = cv_snapshot_locked(m, &n);
    pthread_mutex_unlock(&m->mu);
    unsigned released = 0;
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&v[i]->mu);
        unsigned k = lgraph_release_session(v[i]->leases, session_id);
        if (k) cv_lease_push(v[i]);
        released += k;
        pthread_mutex_unlock(&v[i]->mu);
    }
    cv_snapshot_free(v, n);
    return released;
}

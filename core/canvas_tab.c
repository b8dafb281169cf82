/* canvas_tab: a tab's side of a canvas: attaching (canvas_attach) and
 * what a tab reports (canvas_report: applied patches, user edits, queue and
 * load results, focus, resyncs). */
#include "canvas_int.h"

/* What an attach without a workflow starts from: an empty canvas. */
static const char empty_workflow[] =
    "{\"last_node_id\":0,\"last_link_id\":0,\"nodes\":[],\"links\":[],\"version\":0.4}";

/* ---- tabs ---- */

static canvas *canvas_new(canvas_mgr *m, const char *id, graph *g)
{
    canvas *cv = xcalloc(1, sizeof *cv);
    cv->m = m;
    atomic_init(&cv->refs, 1);
    cv->id = xstrdup(id);
    cv->title = xstrdup("");
    cv->g = g;
    if (provn_create(&cv->provn) || lgraph_create(&cv->leases)) abort();
    pthread_mutex_init(&cv->mu, NULL);
    return cv;
}

/* Under m->mu: adds cv (taking over its reference), dropping the least
 * recently used detached canvas when the map is full. */
static int insert_locked(canvas_mgr *m, canvas *cv, canvas_error *err)
{
    if (m->n_cvs == m->o.max_canvases) {
        size_t victim = SIZE_MAX;
        for (size_t i = 0; i < m->n_cvs; i++)
            if (!m->cvs[i]->attached &&
                (victim == SIZE_MAX || m->cvs[i]->last_used < m->cvs[victim]->last_used))
                victim = i;
        if (victim == SIZE_MAX)
            return fail(err, CANVAS_EFULL, 0, "%zu canvases are attached, the most comfyd keeps",
                        m->o.max_canvases);
        canvas *old = m->cvs[victim];
        LOG_I(MOD, "dropping the detached canvas %s to make room", LOG_ESC(old->id));
        m->cvs[victim] = m->cvs[--m->n_cvs];
        cv_unref(old);
    }
    cv->last_used = mono();
    m->cvs[m->n_cvs++] = cv;
    return CANVAS_OK;
}

int canvas_attach(canvas_mgr *m, const Comfyd__V1__AttachCanvasRequest *req,
                  const canvas_tab_ops *ops, void *ud, uint64_t *tab_id, canvas_error *err)
{
    *tab_id = 0;
    if (cv_check_canvas_id(req->canvas_id, 1, err) ||
        cv_check_str(req->title, CANVAS_MAX_TITLE, err, "title"))
        return CANVAS_EINVAL;
    const char *wf =
        req->workflow_json && *req->workflow_json ? req->workflow_json : empty_workflow;
    size_t wf_len = strlen(wf);
    nodeinfo *tab_ni = NULL;
    int rc;
    if (req->object_info_json && *req->object_info_json &&
        (rc = cv_tab_schema(m, req->object_info_json, strlen(req->object_info_json), &tab_ni, err)))
        return rc;
    char e[256] = "";
    canvas *cv = NULL;
    pthread_mutex_lock(&m->mu);
    if (m->shutdown) {
        pthread_mutex_unlock(&m->mu);
        nodeinfo_unref(tab_ni);
        return fail(err, CANVAS_ESHUTDOWN, 0, "server shutting down");
    }
    if ((cv = cv_find_locked(m, req->canvas_id))) cv_ref(cv);
    pthread_mutex_unlock(&m->mu);
    if (!cv) {
        /* Parsed before taking the manager's lock: workflows can be large. */
        nodeinfo *ni = tab_ni ? nodeinfo_ref(tab_ni) : canvas_mgr_schema(m);
        uint64_t rev = atomic_fetch_add(&m->rev_high, 1) + 1;
        cv_rev_reserve(m, rev);
        graph *g = NULL;
        rc = graph_parse_workflow(&g, wf, wf_len, ni, rev, e, sizeof e);
        nodeinfo_unref(ni);
        if (rc != GRAPH_OK) {
            nodeinfo_unref(tab_ni);
            if (rc == GRAPH_ENOMEM) return fail(err, CANVAS_ENOMEM, 0, "out of memory");
            return EINVALF(err, "workflow_json: %s", e);
        }
        canvas *fresh = canvas_new(m, req->canvas_id, g);
        /* Before anyone can read it: the provenance the tab kept (e.g.
         * across a restart of the core) belongs to this revision. */
        cv_prov_restore(fresh, wf, wf_len);
        pthread_mutex_lock(&m->mu);
        if (m->shutdown) {
            rc = fail(err, CANVAS_ESHUTDOWN, 0, "server shutting down");
        } else if ((cv = cv_find_locked(m, req->canvas_id))) {
            cv_ref(cv); /* attached meanwhile: continue as a re-attach */
        } else if ((rc = insert_locked(m, fresh, err)) == CANVAS_OK) {
            cv = cv_ref(fresh);
            fresh = NULL;
        }
        pthread_mutex_unlock(&m->mu);
        cv_unref(fresh);
        if (!cv) {
            nodeinfo_unref(tab_ni);
            return rc;
        }
    }
    jlist fin = {0};
    pthread_mutex_lock(&cv->mu);
    if (cv->closed) {
        pthread_mutex_unlock(&cv->mu);
        cv_unref(cv);
        nodeinfo_unref(tab_ni);
        return fail(err, CANVAS_ESHUTDOWN, 0, "server shutting down");
    }
    /* The tab's node types first, so the workflow is read with them. */
    nodeinfo *old_ni = cv->tab_ni;
    cv->tab_ni = tab_ni;
    int changed = 0;
    rc = cv_commit(cv, wf, wf_len, COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_LOAD, &changed, e,
                   sizeof e);
    if (rc != GRAPH_OK) {
        cv->tab_ni = old_ni;
        pthread_mutex_unlock(&cv->mu);
        cv_unref(cv);
        nodeinfo_unref(tab_ni);
        if (rc == GRAPH_ENOMEM) return fail(err, CANVAS_ENOMEM, 0, "out of memory");
        return EINVALF(err, "workflow_json: %s", e);
    }
    nodeinfo_unref(old_ni);
    if (cv->ops) {
        cv_end_jobs(cv, 0, GE(EDITOR_GONE),
                    "the tab was replaced by a new attachment before it answered", 0, 0, NULL,
                    &fin);
        cv_detach(cv, CANVAS_END_ABORTED, "replaced by a new attachment");
    }
    uint64_t id = atomic_fetch_add(&m->next_tab_id, 1) + 1;
    cv->ops = ops;
    cv->ud = ud;
    cv->tab_id = id;
    cv->tab_revision = req->tab_revision;
    cv->can_preview = req->can_preview;
    cv->prov_base = cv->prov_sent = 0;
    free(cv->title);
    cv->title = xstrdup(req->title);
    pthread_mutex_lock(&m->mu);
    cv->attached = 1;
    cv->att_id = id;
    cv->last_used = mono();
    if (req->focused) {
        for (size_t i = 0; i < m->n_cvs; i++)
            m->cvs[i]->focused = 0;
        cv->focused = 1;
        cv->focus_seq = ++m->focus_counter;
        cv->focused_at_ms = text_now_ms();
    }
    pthread_mutex_unlock(&m->mu);
    Comfyd__V1__Attached a = COMFYD__V1__ATTACHED__INIT;
    a.canvas_id = cv->id;
    a.revision = graph_revision(cv->g);
    Comfyd__V1__AttachCanvasResponse msg = COMFYD__V1__ATTACH_CANVAS_RESPONSE__INIT;
    msg.kind_case = COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_ATTACHED;
    msg.attached = &a;
    if (cv_send_tab(cv, &msg))
        LOG_W(MOD, "canvas %s: the tab's stream took no Attached", LOG_ESC(cv->id));
    cv_lease_push_as(cv, 1);
    LOG_I(MOD, "canvas %s attached: revision %llu, %zu node(s)%s", LOG_ESC(cv->id),
          (unsigned long long)graph_revision(cv->g), graph_node_count(cv->g),
          tab_ni ? "" : ", global node types");
    cv_pump(cv, &fin);
    pthread_mutex_unlock(&cv->mu);
    *tab_id = id;
    cv_fin_run(m, &fin);
    cv_unref(cv);
    return CANVAS_OK;
}

/* Is a report with this tab_revision older than a state already in? */
static int tab_rev_stale(canvas *cv, uint64_t tab_rev)
{
    return tab_rev && tab_rev < cv->tab_revision;
}

static void tab_rev_seen(canvas *cv, uint64_t tab_rev)
{
    if (tab_rev > cv->tab_revision) cv->tab_revision = tab_rev;
}

/* Asks the tab for its whole workflow: the delta it sent for request_id
 * (0: a user edit) did not give its graph. Returns send_tab's result. */
static int ask_resync(canvas *cv, uint64_t request_id, const char *why)
{
    LOG_W(MOD, "canvas %s: the tab's delta was not applied (%s); asking for the whole workflow",
          LOG_ESC(cv->id), why);
    Comfyd__V1__ResyncRequest rs = COMFYD__V1__RESYNC_REQUEST__INIT;
    rs.request_id = request_id;
    Comfyd__V1__AttachCanvasResponse msg = COMFYD__V1__ATTACH_CANVAS_RESPONSE__INIT;
    msg.kind_case = COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_RESYNC;
    msg.resync = &rs;
    return cv_send_tab(cv, &msg);
}

static int report_patch(canvas *cv, const Comfyd__V1__PatchResult *r, jlist *fin, canvas_error *err)
{
    job *j = cv->inflight;
    const char *wf = r->workflow_json ? r->workflow_json : "";
    /* The whole workflow wins over a delta sent beside it. */
    const Comfyd__V1__GraphDelta *delta = *wf ? NULL : r->delta;
    char e[256] = "";
    int changed = 0, rc;
    if (!j || j->kind != JOB_PATCH || j->request_id != r->request_id) {
        /* Late (after a timeout) or unknown: the tab's state still counts,
         * even when a command failed (partial patches keep the others; an
         * atomic one sends the state it rolled back to). */
        if ((!*wf && !delta) || tab_rev_stale(cv, r->tab_revision)) return CANVAS_OK;
        if (delta) {
            rc = cv_commit_delta(cv, delta, COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_AGENT, &changed,
                                 e, sizeof e);
            if (rc == GRAPH_ENOMEM) return fail(err, CANVAS_ENOMEM, 0, "out of memory");
            if (rc != GRAPH_OK) {
                ask_resync(cv, r->request_id, e);
                return CANVAS_OK;
            }
        } else {
            rc = cv_commit(cv, wf, strlen(wf), COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_AGENT,
                           &changed, e, sizeof e);
            if (rc != GRAPH_OK) return EINVALF(err, "patch_result.workflow_json: %s", e);
        }
        tab_rev_seen(cv, r->tab_revision);
        LOG_I(MOD, "canvas %s: late result of request %llu committed", LOG_ESC(cv->id),
              (unsigned long long)r->request_id);
        return CANVAS_OK;
    }
    int partial_state = *wf || delta;
    if ((r->ok || (j->mode == COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL && partial_state)) &&
        delta && !tab_rev_stale(cv, r->tab_revision)) {
        rc = cv_commit_delta(cv, delta, COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_AGENT, &changed, e,
                             sizeof e);
        if (rc != GRAPH_OK && rc != GRAPH_ENOMEM) {
            /* The patch stays in flight until the tab sends its result
             * again with the whole workflow (or its deadline passes). */
            if (ask_resync(cv, r->request_id, e) == 0) return CANVAS_OK;
            cv->inflight = NULL;
            cv_job_refuse(cv, j, GE(EDITOR_GONE), fin,
                          "the tab of canvas \"%s\" is not reading its stream", cv->id);
            return CANVAS_OK;
        }
        cv->inflight = NULL;
        if (rc == GRAPH_ENOMEM) {
            cv_job_refuse(cv, j, GE(EDITOR_FAILED), fin, "out of memory applying the tab's delta");
            return fail(err, CANVAS_ENOMEM, 0, "out of memory");
        }
        tab_rev_seen(cv, r->tab_revision);
        cv_patch_commit(cv, j, r, fin);
        return CANVAS_OK;
    }
    cv->inflight = NULL;
    /* ok is "every command applied". An atomic patch that failed was rolled
     * back in the tab, so the mirror stays. A partial one kept the commands
     * that worked: the tab's workflow is the truth whatever ok says, and
     * the tab will not report that state again, so it is committed and
     * each command answered. */
    int partial = j->mode == COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL;
    if (!r->ok && !(partial && partial_state)) {
        char *m = cv_tab_text(r->error);
        cv_job_refuse(cv, j, GE(EDITOR_FAILED), fin, "the tab could not apply the patch: %s",
                      m ? m : "no reason given");
        free(m);
        return CANVAS_OK;
    }
    if (!*wf) {
        if (delta) { /* older than a state already in: the results still hold */
            cv_patch_commit(cv, j, r, fin);
            return CANVAS_OK;
        }
        cv_job_refuse(cv, j, GE(EDITOR_FAILED), fin,
                      "the tab reported success without the workflow after the patch");
        return EINVALF(err, "patch_result.workflow_json is required when ok is true");
    }
    if (!tab_rev_stale(cv, r->tab_revision)) {
        rc = cv_commit(cv, wf, strlen(wf), COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_AGENT, &changed,
                       e, sizeof e);
        if (rc != GRAPH_OK) {
            cv_job_refuse(cv, j, GE(EDITOR_FAILED), fin,
                          "the tab's workflow after the patch is not usable: %s", e);
            return EINVALF(err, "patch_result.workflow_json: %s", e);
        }
        tab_rev_seen(cv, r->tab_revision);
    }
    cv_patch_commit(cv, j, r, fin);
    return CANVAS_OK;
}

static Comfyd__V1__QueueResponse *queue_resp(canvas *cv, const Comfyd__V1__EditorQueueResult *r)
{
    Comfyd__V1__QueueResponse *q = xcalloc(1, sizeof *q);
    comfyd__v1__queue_response__init(q);
    char *pid = cv_tab_text(r->prompt_id);
    q->prompt_id = pid ? pid : xstrdup("");
    q->number = r->number;
    q->canvas_id = xstrdup(cv->id);
    q->revision = graph_revision(cv->g);
    return q;
}

static Comfyd__V1__LoadResponse *load_resp(canvas *cv)
{
    Comfyd__V1__LoadResponse *l = xcalloc(1, sizeof *l);
    comfyd__v1__load_response__init(l);
    l->canvas_id = xstrdup(cv->id);
    l->revision = graph_revision(cv->g);
    l->node_count = (uint32_t)graph_node_count(cv->g);
    return l;
}

static int report_load(canvas *cv, const Comfyd__V1__EditorLoadResult *r, jlist *fin,
                       canvas_error *err)
{
    job *j = cv->inflight;
    const char *wf = r->workflow_json && *r->workflow_json ? r->workflow_json : NULL;
    char e[256] = "";
    int changed = 0, rc;
    if (!j || j->kind != JOB_LOAD || j->request_id != r->request_id) {
        if (!r->ok || !wf || tab_rev_stale(cv, r->tab_revision)) return CANVAS_OK;
        rc = cv_commit(cv, wf, strlen(wf), COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_LOAD, &changed, e,
                       sizeof e);
        if (rc != GRAPH_OK) return EINVALF(err, "load_result.workflow_json: %s", e);
        tab_rev_seen(cv, r->tab_revision);
        return CANVAS_OK;
    }
    cv->inflight = NULL;
    if (!r->ok) {
        char *m = cv_tab_text(r->error);
        cv_job_refuse(cv, j, GE(EDITOR_FAILED), fin, "the tab could not load the workflow: %s",
                      m ? m : "no reason given");
        free(m);
        return CANVAS_OK;
    }
    if (!tab_rev_stale(cv, r->tab_revision)) {
        const char *use = wf ? wf : j->json;
        rc = cv_commit(cv, use, wf ? strlen(wf) : j->json_len,
                       COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_LOAD, &changed, e, sizeof e);
        if (rc != GRAPH_OK) {
            cv_job_refuse(cv, j, GE(EDITOR_FAILED), fin,
                          "the tab's workflow after loading is not usable: %s", e);
            return EINVALF(err, "load_result.workflow_json: %s", e);
        }
        tab_rev_seen(cv, r->tab_revision);
    }
    j->err = CANVAS_OK;
    j->resp = &load_resp(cv)->base;
    cv_jl_push(fin, j);
    return CANVAS_OK;
}

int canvas_report(canvas_mgr *m, const Comfyd__V1__ReportEditorRequest *req, uint64_t *revision,
                  canvas_error *err)
{
    return canvas_report_ex(m, req, revision, NULL, err);
}

/* The provenance for the ack of a report that took the canvas to revision
 * `now` (cv->mu held), malloc'd, or NULL (too large: the tab then keeps
 * none, or keeps what it has). On a big canvas the whole provenance on
 * every ack was most of the core's and the bridge's work per command, so
 * when the tab holds one the core handed out since the last whole one
 * (the report says which: PatchResult/UserEdit.provenance_revision), it
 * gets only the records changed since then; every record made after a
 * revision carries a later one. Whole: after an attach, for a load (whose
 * records may come from its workflow, older), for a report without a
 * delta (the user may have opened another workflow's text in the tab), and
 * when the tab holds none or another (an undo in the frontend puts the
 * workflow's older extra back; a change of another acked report overtook
 * this one). */
static char *prov_reply(canvas *cv, const Comfyd__V1__ReportEditorRequest *req, uint64_t now)
{
    uint64_t held = 0;
    int delta = 0;
    if (req->report_case == COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_PATCH_RESULT) {
        held = req->patch_result->provenance_revision;
        delta = req->patch_result->delta &&
                !(req->patch_result->workflow_json && *req->patch_result->workflow_json);
    } else if (req->report_case == COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_USER_EDIT) {
        held = req->user_edit->provenance_revision;
        delta = req->user_edit->delta &&
                !(req->user_edit->workflow_json && *req->user_edit->workflow_json);
    }
    int changes = delta && cv->prov_base && held >= cv->prov_base && held <= cv->prov_sent;
    /* Each node and link record takes more than CANVAS_PROV_MIN_RECORD
     * bytes: a graph that surely gives more than CANVAS_MAX_PROV_REPLY is
     * not even written whole. */
    size_t objects = graph_node_count(cv->g) + graph_link_count(cv->g);
    char *pj = NULL;
    size_t plen = 0;
    if (changes)
        pj = provn_changes_json(cv->provn, cv->g, now, held, &plen, NULL);
    else if (objects <= CANVAS_MAX_PROV_REPLY / CANVAS_PROV_MIN_RECORD)
        pj = provn_to_json(cv->provn, cv->g, now, &plen, NULL);
    if (!pj || plen > CANVAS_MAX_PROV_REPLY) {
        free(pj);
        /* A whole one not handed out: the tab's is unknown from now on. */
        if (!changes) cv->prov_base = cv->prov_sent = 0;
        return NULL;
    }
    if (!changes) cv->prov_base = now;
    cv->prov_sent = now;
    return pj;
}

int canvas_report_ex(canvas_mgr *m, const Comfyd__V1__ReportEditorRequest *req, uint64_t *revision,
                     char **provenance_json, canvas_error *err)
{
    *revision = 0;
    if (provenance_json) *provenance_json = NULL;
    if (cv_check_canvas_id(req->canvas_id, 1, err)) return CANVAS_EINVAL;
    int rc = CANVAS_OK;
    switch (req->report_case) {
    case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_PATCH_RESULT:
    case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_QUEUE_RESULT:
    case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_LOAD_RESULT:
    case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_USER_EDIT:
    case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_FOCUS:
    case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_PREVIEW_DECISION:
        if (!req->patch_result) /* every member of the oneof shares the pointer slot */
            return EINVALF(err, "the report is empty");
        break;
    default:
        return EINVALF(err, "the report is empty: set patch_result, queue_result, load_result, "
                            "user_edit, focus or preview_decision");
    }
    canvas *cv = cv_resolve(m, req->canvas_id, &rc, err);
    if (!cv) return rc;
    jlist fin = {0};
    char e[256] = "";
    int changed = 0;
    pthread_mutex_lock(&cv->mu);
    uint64_t rev_before = graph_revision(cv->g);
    cv->report_rid = req->report_case == COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_PATCH_RESULT
                         ? req->patch_result->request_id
                     : req->report_case == COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_LOAD_RESULT
                         ? req->load_result->request_id
                         : 0;
    if (cv->closed) {
        rc = fail(err, CANVAS_ESHUTDOWN, 0, "server shutting down");
    } else {
        switch (req->report_case) {
        case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_PATCH_RESULT:
            rc = report_patch(cv, req->patch_result, &fin, err);
            break;
        case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_QUEUE_RESULT: {
            const Comfyd__V1__EditorQueueResult *r = req->queue_result;
            job *j = cv->inflight;
            if (j && j->kind == JOB_QUEUE && j->request_id == r->request_id) {
                cv->inflight = NULL;
                if (r->ok) {
                    j->err = CANVAS_OK;
                    j->resp = &queue_resp(cv, r)->base;
                    /* A tab that predates prompt_only queued it itself and
                     * sends no prompt: the run is then known by its id. */
                    if (j->prompt_only && r->prompt_json && *r->prompt_json) {
                        j->prompt_json = xstrdup(r->prompt_json);
                        j->workflow_json = xstrdup(r->workflow_json ? r->workflow_json : "");
                    }
                    cv_jl_push(&fin, j);
                } else {
                    char *msg = cv_tab_text(r->error);
                    cv_job_refuse(cv, j, GE(EDITOR_FAILED), &fin,
                                  "the tab could not queue the workflow: %s",
                                  msg ? msg : "no reason given");
                    free(msg);
                }
            }
            break;
        }
        case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_LOAD_RESULT:
            rc = report_load(cv, req->load_result, &fin, err);
            break;
        case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_PREVIEW_DECISION:
            cv_preview_decided(cv, req->preview_decision, &fin);
            break;
        case COMFYD__V1__REPORT_EDITOR_REQUEST__REPORT_USER_EDIT: {
            const Comfyd__V1__UserEdit *u = req->user_edit;
            const char *wf = u->workflow_json ? u->workflow_json : "";
            if (!*wf && u->delta) {
                if (!tab_rev_stale(cv, u->tab_revision)) {
                    int grc =
                        cv_commit_delta(cv, u->delta, COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER,
                                        &changed, e, sizeof e);
                    if (grc == GRAPH_ENOMEM)
                        rc = fail(err, CANVAS_ENOMEM, 0, "out of memory");
                    else if (grc != GRAPH_OK)
                        ask_resync(cv, 0, e);
                    else
                        tab_rev_seen(cv, u->tab_revision);
                }
            } else if (!*wf) {
                rc = EINVALF(err, "user_edit.workflow_json or user_edit.delta is required");
            } else if (!tab_rev_stale(cv, u->tab_revision)) {
                int grc = cv_commit(cv, wf, strlen(wf), COMFYD__V1__GRAPH_ORIGIN__GRAPH_ORIGIN_USER,
                                    &changed, e, sizeof e);
                if (grc == GRAPH_ENOMEM)
                    rc = fail(err, CANVAS_ENOMEM, 0, "out of memory");
                else if (grc != GRAPH_OK)
                    rc = EINVALF(err, "user_edit.workflow_json: %s", e);
                else
                    tab_rev_seen(cv, u->tab_revision);
            }
            break;
        }
        default: {
            pthread_mutex_lock(&m->mu);
            if (req->focus->focused) {
                for (size_t i = 0; i < m->n_cvs; i++)
                    m->cvs[i]->focused = 0;
                cv->focused = 1;
                cv->focus_seq = ++m->focus_counter;
                cv->focused_at_ms = text_now_ms();
            } else {
                cv->focused = 0;
            }
            pthread_mutex_unlock(&m->mu);
            break;
        }
        }
        cv_pump(cv, &fin);
    }
    cv->report_rid = 0;
    *revision = graph_revision(cv->g);
    if (provenance_json && *revision != rev_before)
        *provenance_json = prov_reply(cv, req, *revision);
    pthread_mutex_unlock(&cv->mu);
    cv_fin_run(m, &fin);
    cv_unref(cv);
    return rc;
}

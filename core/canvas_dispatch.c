/* canvas_dispatch: the outcome of a request (answers, errors, the
 * results of a patch the tab applied) and dispatching the next request of
 * a canvas to its tab (validation, stale bases and rebases, the queue). */
#include "canvas_int.h"

/* ---- request outcomes ---- */

void cv_jl_push(jlist *l, job *j)
{
    j->next = NULL;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
}

void cv_job_free(job *j)
{
    graph_check_clear(&j->check);
    free(j->sent_idx);
    free(j->json_owned);
    free(j->msg);
    free(j->prompt_json);
    free(j->workflow_json);
    cv_pb_free(j->resp);
    cv_unref(j->cv);
    free(j);
}

/* Runs the callbacks of finished jobs. No lock may be held. */
void cv_fin_run(canvas_mgr *m, jlist *l)
{
    job *j = l->head;
    l->head = l->tail = NULL;
    while (j) {
        job *next = j->next;
        waiter *w = j->idem
                        ? idem_complete(m->idem, j->idem, j->sent, j->err, j->code, j->msg, j->resp)
                        : NULL;
        canvas_result r = {j->err, j->code, j->msg, j->resp, j->prompt_json, j->workflow_json};
        j->done(j->ud, &r);
        if (w) idem_set_replayed(j->resp, 1);
        while (w) {
            waiter *wn = w->next;
            w->done(w->ud, &r);
            free(w);
            w = wn;
        }
        cv_job_free(j);
        j = next;
    }
}

void cv_job_end_err(job *j, int err, Comfyd__V1__GraphErrorCode code, const char *msg, jlist *fin)
{
    j->err = err;
    j->code = code;
    free(j->msg);
    j->msg = xstrdup(msg);
    cv_jl_push(fin, j);
}

static Comfyd__V1__GraphError *mk_gerr(Comfyd__V1__GraphErrorCode code, const char *msg,
                                       int32_t index)
{
    Comfyd__V1__GraphError *e = xcalloc(1, sizeof *e);
    comfyd__v1__graph_error__init(e);
    e->code = code;
    e->message = xstrdup(msg);
    e->index = index;
    return e;
}

static Comfyd__V1__CommandResult *mk_result(size_t index)
{
    Comfyd__V1__CommandResult *r = xcalloc(1, sizeof *r);
    comfyd__v1__command_result__init(r);
    r->index = (int32_t)index;
    return r;
}

static void set_result_error(Comfyd__V1__CommandResult *r, Comfyd__V1__GraphErrorCode code,
                             const char *msg)
{
    r->ok = 0;
    r->node_id = r->link_id = 0;
    cv_pb_free(r->error);
    r->error = mk_gerr(code, msg, r->index);
}

static Comfyd__V1__ExecuteBatchResponse *batch_new(canvas *cv, const job *j)
{
    Comfyd__V1__ExecuteBatchResponse *r = xcalloc(1, sizeof *r);
    comfyd__v1__execute_batch_response__init(r);
    r->canvas_id = xstrdup(cv ? cv->id : j->req_canvas);
    r->revision = cv ? graph_revision(cv->g) : 0;
    r->rebased = j->rebased_from != 0;
    r->rebased_from = j->rebased_from;
    if (j->outcome) {
        r->preview = xcalloc(1, sizeof *r->preview);
        comfyd__v1__preview_result__init(r->preview);
        r->preview->outcome = j->outcome;
        r->preview->decided_by =
            xstrdup(j->outcome == COMFYD__V1__PREVIEW_OUTCOME__PREVIEW_OUTCOME_ACCEPTED ||
                            j->outcome == COMFYD__V1__PREVIEW_OUTCOME__PREVIEW_OUTCOME_REJECTED
                        ? "tab"
                        : "");
        r->preview->waited_ms = j->waited_ms;
    }
    return r;
}

/* Moves the check's results and errors into r (errors get room for extra
 * more). */
static void take_check(job *j, Comfyd__V1__ExecuteBatchResponse *r, size_t extra)
{
    r->n_results = j->check.n_results;
    r->results = xcalloc(r->n_results, sizeof *r->results);
    for (size_t i = 0; i < r->n_results; i++) {
        r->results[i] = j->check.results[i];
        j->check.results[i] = NULL;
    }
    r->errors = xcalloc(j->check.n_errors + extra, sizeof *r->errors);
    for (size_t i = 0; i < j->check.n_errors; i++)
        r->errors[r->n_errors++] = j->check.errors[i];
    j->check.n_errors = 0;
}

/* get_graph: answered from the mirror, never sent to the tab. */
int cv_is_get_graph(const Comfyd__V1__Command *c)
{
    return (graph_cmd_flags(c) & GRAPH_CMD_READ_ONLY) != 0;
}

/* Turns a batch response into Execute's shape when j is an Execute. */
static void patch_end(canvas *cv, job *j, Comfyd__V1__ExecuteBatchResponse *b, jlist *fin)
{
    j->err = CANVAS_OK;
    if (!j->single) {
        j->resp = &b->base;
        cv_jl_push(fin, j);
        return;
    }
    Comfyd__V1__ExecuteResponse *e = xcalloc(1, sizeof *e);
    comfyd__v1__execute_response__init(e);
    e->ok = b->ok;
    e->canvas_id = b->canvas_id;
    b->canvas_id = NULL;
    e->revision = b->revision;
    e->rebased = b->rebased;
    e->rebased_from = b->rebased_from;
    e->preview = b->preview;
    b->preview = NULL;
    if (b->n_results) {
        e->result = b->results[0];
        b->results[0] = NULL;
    } else {
        e->result = mk_result(0);
        if (b->n_errors) e->result->error = mk_gerr(b->errors[0]->code, b->errors[0]->message, 0);
    }
    if (cv && e->ok && cv_is_get_graph(j->cmds[0])) {
        const Comfyd__V1__GetGraphCommand *gc = j->cmds[0]->get_graph;
        uint64_t known = gc ? gc->known_revision : 0;
        e->graph = cv_graph_as(cv, known && known == graph_revision(cv->g));
    }
    cv_pb_free(b);
    j->resp = &e->base;
    cv_jl_push(fin, j);
}

/* A request-level failure of a patch (see canvas.h): the error with index
 * -1, and on every command that was to be applied. */
static void patch_fail(canvas *cv, job *j, Comfyd__V1__GraphErrorCode code, const char *msg,
                       jlist *fin)
{
    Comfyd__V1__ExecuteBatchResponse *r = batch_new(cv, j);
    if (j->checked) {
        take_check(j, r, 1);
        for (size_t k = 0; k < j->n_sent; k++)
            set_result_error(r->results[j->sent_idx[k]], code, msg);
    } else {
        r->n_results = j->n;
        r->results = xcalloc(j->n, sizeof *r->results);
        for (size_t i = 0; i < j->n; i++) {
            r->results[i] = mk_result(i);
            set_result_error(r->results[i], code, msg);
        }
        r->errors = xcalloc(1, sizeof *r->errors);
    }
    r->errors[r->n_errors++] = mk_gerr(code, msg, -1);
    r->ok = 0;
    patch_end(cv, j, r, fin);
}

/* Refuses any request with a graph error: a response for patches, the
 * error itself for queue and load. */
void cv_job_refuse(canvas *cv, job *j, Comfyd__V1__GraphErrorCode code, jlist *fin, const char *fmt,
                   ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvprintf(fmt, ap);
    va_end(ap);
    if (j->kind == JOB_PATCH)
        patch_fail(cv, j, code, msg, fin);
    else
        cv_job_end_err(j, CANVAS_EGRAPH, code, msg, fin);
    free(msg);
}

/* Answers a patch from its validation alone (nothing goes to a tab). */
void cv_patch_from_check(canvas *cv, job *j, int validate_only, jlist *fin)
{
    Comfyd__V1__ExecuteBatchResponse *r = batch_new(cv, j);
    size_t n_err = j->check.n_errors;
    take_check(j, r, 0);
    if (!validate_only && n_err && j->mode != COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "not applied: the batch has %zu error(s) and is atomic (nothing was applied)",
                 n_err);
        for (size_t i = 0; i < r->n_results; i++)
            if (r->results[i]->ok && !cv_is_get_graph(j->cmds[i]))
                set_result_error(r->results[i], GE(SKIPPED), msg);
    }
    if (validate_only) {
        r->refs = j->check.refs;
        r->n_refs = j->check.n_refs;
        j->check.refs = NULL;
        j->check.n_refs = 0;
    }
    r->ok = j->check.ok;
    patch_end(cv, j, r, fin);
}

static const graph_widget *node_widget(const graph_node *n, const char *name)
{
    for (size_t i = 0; name && i < n->n_widgets; i++)
        if (strcmp(n->widgets[i].name, name) == 0) return &n->widgets[i];
    return NULL;
}

/* The tab's result for the k-th sent command: by index when the tab's
 * indexes are a permutation of the sent commands, else by position. */
static const Comfyd__V1__CommandResult **match_tab_results(const job *j,
                                                           const Comfyd__V1__PatchResult *pr)
{
    const Comfyd__V1__CommandResult **v = xcalloc(j->n_sent, sizeof *v);
    int by_index = pr->n_results == j->n_sent;
    for (size_t i = 0; by_index && i < pr->n_results; i++) {
        int32_t x = pr->results[i] ? pr->results[i]->index : -1;
        if (x < 0 || (size_t)x >= j->n_sent || v[x])
            by_index = 0;
        else
            v[x] = pr->results[i];
    }
    if (!by_index) {
        memset(v, 0, j->n_sent * sizeof *v);
        for (size_t i = 0; i < j->n_sent && i < pr->n_results; i++)
            v[i] = pr->results[i];
    }
    return v;
}

/* The verified result of one applied command: the tab's outcome and ids,
 * the node and widget value as the committed mirror has them. */
static void fill_result(canvas *cv, Comfyd__V1__CommandResult *res,
                        const Comfyd__V1__CommandResult *t, const Comfyd__V1__Command *cmd)
{
    if (t) {
        res->ok = t->ok;
        res->node_id = t->node_id;
        res->link_id = t->link_id;
        cv_pb_free(res->error);
        res->error = NULL;
        if (!t->ok) {
            char *m = cv_tab_text(t->error ? t->error->message : NULL);
            res->error = mk_gerr(t->error && t->error->code ? t->error->code : GE(EDITOR_FAILED),
                                 m ? m : "the tab did not apply this command", res->index);
            free(m);
            res->node_id = res->link_id = 0;
        }
    }
    if (!res->ok || !res->node_id) return;
    const graph_node *n = graph_find_node(cv->g, res->node_id);
    if (!n) return;
    cv_pb_free(res->node);
    if (!(res->node = graph_node_to_proto(cv->g, n)) || provn_fill_node(cv->provn, res->node))
        abort();
    if (cmd->command_case == COMFYD__V1__COMMAND__COMMAND_SET_WIDGET && cmd->set_widget) {
        const graph_widget *w = node_widget(n, cmd->set_widget->name);
        Comfyd__V1__Value *v = w ? nodeinfo_value_to_proto(&w->value) : NULL;
        if (v) {
            cv_pb_free(res->value);
            res->value = v;
        } else if (t && t->value) {
            int text_ok =
                t->value->kind_case != COMFYD__V1__VALUE__KIND_TEXT ||
                (t->value->text && text_utf8_valid(t->value->text, strlen(t->value->text)));
            cv_pb_free(res->value);
            res->value = text_ok ? (Comfyd__V1__Value *)cv_pb_dup(&t->value->base) : NULL;
        }
    }
}

/* A patch the tab applied: the mirror is committed already (or a newer
 * state was). */
void cv_patch_commit(canvas *cv, job *j, const Comfyd__V1__PatchResult *pr, jlist *fin)
{
    Comfyd__V1__ExecuteBatchResponse *r = batch_new(cv, j);
    take_check(j, r, j->n_sent);
    const Comfyd__V1__CommandResult **tabr = match_tab_results(j, pr);
    size_t missing = 0;
    /* A tab that failed (a partial patch) without a result for a command
     * gives no ground to predict that it applied. */
    char *why = pr->ok ? NULL : cv_tab_text(pr->error);
    size_t tab_failed = 0;
    for (size_t k = 0; k < j->n_sent; k++) {
        size_t i = j->sent_idx[k];
        if (!tabr[k]) {
            missing++;
            if (!pr->ok)
                set_result_error(r->results[i], GE(EDITOR_FAILED),
                                 why ? why : "the tab failed without a result for this command");
        }
        fill_result(cv, r->results[i], tabr[k], j->cmds[i]);
        if (!r->results[i]->ok && r->results[i]->error) {
            tab_failed++;
            r->errors[r->n_errors++] =
                (Comfyd__V1__GraphError *)cv_pb_dup(&r->results[i]->error->base);
        }
    }
    /* Room is left: take_check reserved one error per sent command. */
    if (!pr->ok && !tab_failed)
        r->errors[r->n_errors++] =
            mk_gerr(GE(EDITOR_FAILED), why ? why : "the tab reported a failure", -1);
    free(why);
    free(tabr);
    if (missing)
        LOG_W(MOD,
              "canvas %s: the tab reported %zu of %zu results; the rest are the predicted ones",
              cv->id, j->n_sent - missing, j->n_sent);
    r->refs = xcalloc(j->n, sizeof *r->refs);
    int ok = 1;
    for (size_t i = 0; i < j->n; i++) {
        const Comfyd__V1__Command *c = j->cmds[i];
        Comfyd__V1__CommandResult *res = r->results[i];
        if (!res->ok) ok = 0;
        if (!res->ok || c->command_case != COMFYD__V1__COMMAND__COMMAND_CREATE_NODE ||
            !c->create_node || !c->create_node->ref || !c->create_node->ref[0])
            continue;
        Comfyd__V1__ExecuteBatchResponse__RefsEntry *e = xcalloc(1, sizeof *e);
        comfyd__v1__execute_batch_response__refs_entry__init(e);
        e->key = xstrdup(c->create_node->ref);
        e->value = res->node_id;
        r->refs[r->n_refs++] = e;
    }
    r->ok = ok && pr->ok;
    patch_end(cv, j, r, fin);
}

/* ---- dispatching ---- */

void cv_arm(canvas_mgr *m, int64_t deadline)
{
    pthread_mutex_lock(&m->wmu);
    if (deadline < m->next_wake) {
        m->next_wake = deadline;
        pthread_cond_signal(&m->wcv);
    }
    pthread_mutex_unlock(&m->wmu);
}

int cv_send_tab(canvas *cv, Comfyd__V1__AttachCanvasResponse *msg)
{
    return cv->ops->send(cv->ud, msg);
}

/* Rewrites "unknown node type" when no node types are known at all, so
 * the caller learns why. */
static void explain_empty_schema(graph_check *c, const nodeinfo *ni)
{
    if (ni && nodeinfo_count(ni)) return;
    for (size_t i = 0; i < c->n_errors; i++) {
        Comfyd__V1__GraphError *e = c->errors[i];
        if (e->code != GE(UNKNOWN_NODE_TYPE)) continue;
        char *m = xprintf("%s: no node types are known yet (comfyd has no --object-info and no "
                          "tab has sent its node types)",
                          e->message);
        free(e->message);
        e->message = m;
        if (e->index >= 0 && (size_t)e->index < c->n_results) {
            Comfyd__V1__CommandResult *r = c->results[e->index];
            if (r && r->error && r->error->code == e->code) {
                free(r->error->message);
                r->error->message = xstrdup(m);
            }
        }
    }
}

int cv_validate(canvas *cv, job *j, jlist *fin)
{
    nodeinfo *ni = cv_schema(cv);
    cv_sync_schema(cv, ni);
    int rc = graph_validate(cv->g, ni, j->cmds, j->n, j->mode, &j->check);
    if (rc == GRAPH_OK) explain_empty_schema(&j->check, ni);
    nodeinfo_unref(ni);
    if (rc != GRAPH_OK) {
        cv_job_end_err(j, CANVAS_ENOMEM, 0, "out of memory validating the batch", fin);
        return -1;
    }
    j->checked = 1;
    return 0;
}

/* STALE_REVISION with the conflicts of a patch that does not commute with
 * the revisions after its base (graph_rebase.h): an error for the patch
 * (index -1), then one per conflicting command with its conflicts, also
 * set on that command's result (Execute answers with the result alone);
 * the other commands are SKIPPED. Nothing reaches the tab. */
static void patch_conflicts(canvas *cv, job *j, graph_conflicts *gc, jlist *fin)
{
    Comfyd__V1__ExecuteBatchResponse *r = batch_new(cv, j);
    r->n_results = j->n;
    r->results = xcalloc(j->n, sizeof *r->results);
    r->errors = xcalloc(1 + gc->n_cmds, sizeof *r->errors);
    char *msg = xprintf("base_revision %llu is behind the canvas's revision %llu and %zu "
                        "command(s) touch what changed since: nothing was applied (each "
                        "command's error lists its conflicts%s; GetDiff shows the changes)",
                        (unsigned long long)j->base, (unsigned long long)graph_revision(cv->g),
                        gc->n_cmds, gc->more ? ", the first ones only" : "");
    r->errors[r->n_errors++] = mk_gerr(GE(STALE_REVISION), msg, -1);
    size_t k = 0;
    for (size_t i = 0; i < j->n; i++) {
        r->results[i] = mk_result(i);
        size_t first = k;
        while (k < gc->n && (size_t)gc->v[k]->index == i)
            k++;
        if (k == first) {
            if (!cv_is_get_graph(j->cmds[i]))
                set_result_error(r->results[i], GE(SKIPPED),
                                 "not applied: other commands of this stale patch conflict");
            continue;
        }
        char text[1024];
        graph_conflict_text(gc->v[first], graph_cmd_name(j->cmds[i]), text, sizeof text);
        char *m = k - first > 1 ? xprintf("%s (and %zu more conflicts)", text, k - first - 1)
                                : xstrdup(text);
        Comfyd__V1__GraphError *e = mk_gerr(GE(STALE_REVISION), m, (long)i);
        free(m);
        e->n_conflicts = k - first;
        e->conflicts = xcalloc(e->n_conflicts, sizeof *e->conflicts);
        for (size_t x = 0; x < e->n_conflicts; x++) {
            e->conflicts[x] = gc->v[first + x];
            gc->v[first + x] = NULL;
            /* Who made the conflicting change (provenance.h). */
            const provn_actor *who = provn_revision_actor(cv->provn, e->conflicts[x]->revision);
            if (who && !e->conflicts[x]->actor &&
                !(e->conflicts[x]->actor = provn_actor_to_proto(who)))
                abort();
        }
        r->results[i]->ok = 0;
        r->results[i]->error = (Comfyd__V1__GraphError *)cv_pb_dup(&e->base);
        r->errors[r->n_errors++] = e; /* room: one per conflicting command */
    }
    free(msg);
    r->ok = 0;
    patch_end(cv, j, r, fin);
}

/* A base_revision that is not the canvas's: a patch asking for the old
 * behaviour (on_stale REJECT), a base ahead of the canvas (from before a
 * restart) or one the operation log no longer reaches is refused whole;
 * otherwise it is rebased when it commutes with every change since
 * (j->rebased_from) and refused with its conflicts when not. Returns 0 to
 * go on, -1 when j was answered. */
int cv_stale_base(canvas *cv, job *j, jlist *fin)
{
    uint64_t now = graph_revision(cv->g);
    if (!j->has_base || j->base == now) return 0;
    const char *why = NULL;
    Comfyd__V1__GraphOp **ops = NULL;
    size_t n_ops = 0;
    if (j->stale_reject)
        why = "on_stale is reject";
    else if (j->base > now)
        why = "the base is ahead of the canvas";
    else if (graph_diff_since(cv->g, j->base, &ops, &n_ops) != GRAPH_OK)
        why = "the operation log no longer reaches the base";
    if (why) {
        cv_job_refuse(
            cv, j, GE(STALE_REVISION), fin,
            "base_revision %llu is not the canvas's revision %llu (%s; GetDiff shows what "
            "changed)",
            (unsigned long long)j->base, (unsigned long long)now, why);
        return -1;
    }
    graph_conflicts gc;
    int rc = graph_rebase_check(cv->g, (const Comfyd__V1__GraphOp *const *)ops, n_ops, j->cmds,
                                j->n, &gc);
    graph_ops_free(ops, n_ops);
    if (rc != GRAPH_OK) {
        cv_job_end_err(j, CANVAS_ENOMEM, 0, "out of memory rebasing the patch", fin);
        return -1;
    }
    if (gc.n || gc.more) {
        LOG_I(MOD, "canvas %s: a patch on revision %llu conflicts with %zu change(s) since",
              LOG_ESC(cv->id), (unsigned long long)j->base, gc.n + gc.more);
        patch_conflicts(cv, j, &gc, fin);
        graph_conflicts_clear(&gc);
        return -1;
    }
    j->rebased_from = j->base;
    return 0;
}

/* ---- leases (lease_graph.h; canvas_lease.c) ---- */

/* LEASED for a patch with a command that changes a node another caller
 * leases: an error for the patch (index -1) and one on that command, both
 * with the lease in the way (holder, nodes, expiry) and the node; the
 * other commands are SKIPPED. Nothing reaches the tab. Returns 0 to go on,
 * -1 when j was answered. */
int cv_lease_refused(canvas *cv, job *j, jlist *fin)
{
    lgraph_refusal rf = {0};
    int rc = lgraph_check(cv->leases, cv->g, &j->who, j->cmds, j->n, text_now_ms(), &rf);
    if (rc == LGRAPH_OK) return 0;
    if (rc != LGRAPH_ELEASED) {
        lgraph_refusal_clear(&rf);
        cv_job_end_err(j, CANVAS_ENOMEM, 0, "out of memory checking the leases", fin);
        return -1;
    }
    char who[PROVN_MAX_ID + 2 * PROVN_MAX_NAME + 16];
    provn_actor_text(&j->who, who, sizeof who);
    LOG_I(MOD, "canvas %s: a patch of %s touches leased node #%lld (lease %llu)", LOG_ESC(cv->id),
          LOG_ESC(who), (long long)rf.node_id, (unsigned long long)(rf.lease ? rf.lease->id : 0));
    Comfyd__V1__ExecuteBatchResponse *r = batch_new(cv, j);
    r->n_results = j->n;
    r->results = xcalloc(j->n, sizeof *r->results);
    r->errors = xcalloc(2, sizeof *r->errors);
    Comfyd__V1__GraphError *top = mk_gerr(GE(LEASED), rf.message, -1);
    top->lease = rf.lease;
    top->leased_node_id = rf.node_id;
    rf.lease = NULL;
    for (size_t i = 0; i < j->n; i++) {
        r->results[i] = mk_result(i);
        if (i == rf.index) {
            Comfyd__V1__GraphError *e = (Comfyd__V1__GraphError *)cv_pb_dup(&top->base);
            e->index = (int32_t)i;
            r->results[i]->error = e;
        } else if (!cv_is_get_graph(j->cmds[i])) {
            set_result_error(r->results[i], GE(SKIPPED),
                             "not applied: another command of this patch touches a leased node");
        }
    }
    r->errors[r->n_errors++] = top;
    r->errors[r->n_errors++] =
        (Comfyd__V1__GraphError *)cv_pb_dup(&r->results[rf.index]->error->base);
    r->ok = 0;
    patch_end(cv, j, r, fin);
    return -1;
}

/* A load over the canvas changes every node: refused with LEASED while
 * another caller holds a lease (the user's loads never come here). */
static int lease_load_refused(canvas *cv, job *j, jlist *fin)
{
    lgraph_refusal rf = {0};
    int rc = lgraph_check_all(cv->leases, &j->who, text_now_ms(), &rf);
    if (rc == LGRAPH_ELEASED)
        cv_job_refuse(cv, j, GE(LEASED), fin, "%s", rf.message);
    else if (rc != LGRAPH_OK)
        cv_job_end_err(j, CANVAS_ENOMEM, 0, "out of memory checking the leases", fin);
    lgraph_refusal_clear(&rf);
    return rc == LGRAPH_OK ? 0 : -1;
}

void cv_dispatch_patch(canvas *cv, job *j, jlist *fin)
{
    /* Leases first: a patch that would be refused is not shown to the
     * user; an accepted preview comes back here and is checked again. */
    if (cv_lease_refused(cv, j, fin)) return;
    if (cv_preview_gate(cv, j, fin)) return;
    if (cv_stale_base(cv, j, fin)) return;
    if (cv_validate(cv, j, fin)) return;
    if (!j->check.ok && j->mode != COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL)
        return cv_patch_from_check(cv, j, 0, fin);
    j->sent_idx = xcalloc(j->n, sizeof *j->sent_idx);
    for (size_t i = 0; i < j->n; i++)
        if (j->check.results[i]->ok && !cv_is_get_graph(j->cmds[i])) j->sent_idx[j->n_sent++] = i;
    if (!j->n_sent) return cv_patch_from_check(cv, j, 0, fin);
    Comfyd__V1__Command **cmds = xcalloc(j->n_sent, sizeof *cmds);
    for (size_t k = 0; k < j->n_sent; k++)
        cmds[k] = (Comfyd__V1__Command *)j->cmds[j->sent_idx[k]];
    if (j->apply_mode == COMFYD__V1__APPLY_MODE__APPLY_MODE_PREVIEW && !j->outcome) {
        cv_preview_send(cv, j, cmds, fin);
        free(cmds);
        return;
    }
    Comfyd__V1__PatchRequest pr = COMFYD__V1__PATCH_REQUEST__INIT;
    pr.request_id = j->request_id;
    pr.commands = cmds;
    pr.n_commands = j->n_sent;
    pr.expected_node_ids = j->check.expected_ids;
    pr.n_expected_node_ids = j->check.n_expected_ids;
    pr.deadline_ms = j->deadline_wall;
    pr.mode = j->mode == COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL
                  ? COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL
                  : COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC;
    Comfyd__V1__AttachCanvasResponse msg = COMFYD__V1__ATTACH_CANVAS_RESPONSE__INIT;
    msg.kind_case = COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_PATCH;
    msg.patch = &pr;
    int rc = cv_send_tab(cv, &msg);
    free(cmds);
    if (rc)
        return cv_job_refuse(cv, j, GE(EDITOR_GONE), fin,
                             "the tab of canvas \"%s\" is not reading its stream", cv->id);
    j->sent = 1;
    cv->inflight = j;
    cv->sent_who = j->who;
    cv->sent_rid = j->request_id;
}

static void dispatch(canvas *cv, job *j, jlist *fin)
{
    if (!cv->ops)
        return cv_job_refuse(cv, j, GE(NO_LIVE_CANVAS), fin,
                             "canvas \"%s\" has no tab attached (its mirror is stale)", cv->id);
    if (mono() >= j->deadline)
        return cv_job_refuse(cv, j, GE(EDITOR_TIMEOUT), fin,
                             "gave up after %u ms waiting behind earlier requests to canvas \"%s\"",
                             j->timeout_ms, cv->id);
    j->request_id = atomic_fetch_add(&cv->m->next_request_id, 1) + 1;
    if (j->kind == JOB_PATCH) return cv_dispatch_patch(cv, j, fin);
    if (j->kind == JOB_LOAD && lease_load_refused(cv, j, fin)) return;
    Comfyd__V1__AttachCanvasResponse msg = COMFYD__V1__ATTACH_CANVAS_RESPONSE__INIT;
    Comfyd__V1__EditorQueueRequest q = COMFYD__V1__EDITOR_QUEUE_REQUEST__INIT;
    Comfyd__V1__EditorLoadRequest l = COMFYD__V1__EDITOR_LOAD_REQUEST__INIT;
    if (j->kind == JOB_QUEUE) {
        q.request_id = j->request_id;
        q.batch_count = j->batch_count;
        q.deadline_ms = j->deadline_wall;
        q.prompt_only = j->prompt_only;
        msg.kind_case = COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_QUEUE;
        msg.queue = &q;
    } else {
        l.request_id = j->request_id;
        l.workflow_json = (char *)j->json;
        l.deadline_ms = j->deadline_wall;
        l.undo_step = j->undo_step;
        msg.kind_case = COMFYD__V1__ATTACH_CANVAS_RESPONSE__KIND_LOAD;
        msg.load = &l;
    }
    if (cv_send_tab(cv, &msg))
        return cv_job_refuse(cv, j, GE(EDITOR_GONE), fin,
                             "the tab of canvas \"%s\" is not reading its stream", cv->id);
    j->sent = 1;
    cv->inflight = j;
    cv->sent_who = j->who;
    cv->sent_rid = j->request_id;
}

/* Under cv->mu: sends the next waiting requests until one is in flight. */
void cv_pump(canvas *cv, jlist *fin)
{
    while (!cv->inflight && cv->q_head) {
        job *j = cv->q_head;
        cv->q_head = j->next;
        if (!cv->q_head) cv->q_tail = NULL;
        cv->n_queued--;
        dispatch(cv, j, fin);
    }
}

/* Under cv->mu: ends the request in flight and, when queued too, the
 * waiting ones. */
void cv_end_jobs(canvas *cv, int err, Comfyd__V1__GraphErrorCode inflight_code,
                 const char *inflight_msg, int queued, Comfyd__V1__GraphErrorCode queued_code,
                 const char *queued_msg, jlist *fin)
{
    job *j = cv->inflight;
    cv->inflight = NULL;
    if (j) {
        if (err)
            cv_job_end_err(j, err, 0, inflight_msg, fin);
        else
            cv_job_refuse(cv, j, inflight_code, fin, "%s", inflight_msg);
    }
    while (queued && cv->q_head) {
        j = cv->q_head;
        cv->q_head = j->next;
        if (err)
            cv_job_end_err(j, err, 0, queued_msg, fin);
        else
            cv_job_refuse(cv, j, queued_code, fin, "%s", queued_msg);
    }
    if (queued) {
        cv->q_tail = NULL;
        cv->n_queued = 0;
    }
}

/* Under cv->mu: drops the attachment (ending its stream when end_code is
 * not 0) and marks the canvas detached. */
void cv_detach(canvas *cv, int end_code, const char *end_msg)
{
    if (!cv->ops) return;
    const canvas_tab_ops *ops = cv->ops;
    void *ud = cv->ud;
    if (end_code) ops->end(ud, end_code, end_msg);
    cv->ops = NULL;
    cv->ud = NULL;
    cv->tab_id = 0;
    pthread_mutex_lock(&cv->m->mu);
    cv->attached = 0;
    cv->att_id = 0;
    cv->focused = 0;
    cv->last_used = mono();
    pthread_mutex_unlock(&cv->m->mu);
    /* Last: once the tab is released the canvas already counts as
     * detached, so a new attachment finds the room. */
    ops->release(ud);
}

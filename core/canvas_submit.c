/* canvas_submit: the requests that go through a tab (Execute,
 * ExecuteBatch, Queue, Load): their checks, idempotency keys and deadlines,
 * and queuing them on their canvas. */
#include "canvas_int.h"

/* ---- submitting requests ---- */

/* Request-level checks of a batch: sizes and encodings. Graph-level ones
 * are graph_validate's. */
static int check_cmds(const Comfyd__V1__Command *const *cmds, size_t n, canvas_error *err)
{
    if (n > GRAPH_MAX_BATCH)
        return EINVALF(err, "a batch has at most %d commands, this one has %zu", GRAPH_MAX_BATCH,
                       n);
    for (size_t i = 0; i < n; i++) {
        char msg[CANVAS_ERRLEN];
        if (graph_cmd_check_shape(cmds[i], i, msg, sizeof msg) != GRAPH_OK)
            return EINVALF(err, "%s", msg);
    }
    return CANVAS_OK;
}

static uint32_t wait_ms(canvas_mgr *m, uint32_t req_ms, uint32_t limit_ms)
{
    uint32_t t = req_ms ? req_ms : m->o.default_timeout_ms;
    if (t > CANVAS_MAX_TIMEOUT_MS) t = CANVAS_MAX_TIMEOUT_MS;
    if (limit_ms && limit_ms < t) t = limit_ms;
    return t;
}

static job *job_new(canvas_mgr *m, job_kind kind, req_kind rk, const char *canvas_id,
                    uint32_t req_ms, uint32_t limit_ms, canvas_done_fn done, void *ud)
{
    job *j = xcalloc(1, sizeof *j);
    j->kind = kind;
    j->rk = rk;
    j->req_canvas = canvas_id ? canvas_id : "";
    j->done = done;
    j->ud = ud;
    j->timeout_ms = wait_ms(m, req_ms, limit_ms);
    j->limit_end = limit_ms ? mono() + limit_ms : INT64_MAX;
    j->deadline = mono() + j->timeout_ms;
    j->deadline_wall = text_now_ms() + j->timeout_ms;
    provn_actor_make(&j->who, COMFYD__V1__ACTOR_KIND__ACTOR_KIND_GRPC, NULL, NULL, NULL, NULL, 0);
    return j;
}

/* Takes the idempotency key of a mutating request: 0 to go on (with
 * j->idem set when there is a key), 1 when the request was answered or
 * joined a retry in flight (j freed), or an error (j freed). */
static int begin_key(canvas_mgr *m, job *j, const char *key, const uint8_t *hash, canvas_error *err)
{
    if (!key || !*key) return 0;
    idem_copy copy = {0};
    idem_state st =
        idem_begin(m->idem, j->rk, j->req_canvas, key, hash, j->done, j->ud, &j->idem, &copy);
    if (st == IDEM_NEW) return 0;
    if (st == IDEM_MISMATCH) {
        jlist fin = {0};
        cv_job_refuse(NULL, j, GE(IDEMPOTENCY_KEY_REUSED), &fin,
                      "idempotency_key \"%s\" was first used with a different request; a key names "
                      "one request (use a new key for a new request)",
                      key);
        cv_fin_run(m, &fin);
        return 1;
    }
    canvas_done_fn done = j->done;
    void *ud = j->ud;
    cv_job_free(j);
    if (st == IDEM_FULL)
        return fail(err, CANVAS_EFULL, 0,
                    "%zu idempotency keys are in flight; retry when some have finished",
                    m->o.idem_max_keys);
    if (st == IDEM_REPLAY) idem_replay(&copy, done, ud);
    return 1;
}

/* Resolves, then queues j on its canvas (or answers it at once when
 * read_only). Every outcome goes through j's callback. */
static void submit(canvas_mgr *m, job *j, int read_only, int validate_only)
{
    jlist fin = {0};
    int rc = CANVAS_OK;
    canvas_error e;
    canvas *cv = cv_resolve(m, j->req_canvas, &rc, &e);
    if (!cv) {
        if (rc == CANVAS_EGRAPH)
            cv_job_refuse(NULL, j, e.code, &fin, "%s", e.message);
        else
            cv_job_end_err(j, rc, 0, e.message, &fin);
        cv_fin_run(m, &fin);
        return;
    }
    j->cv = cv;
    pthread_mutex_lock(&cv->mu);
    if (cv->closed) {
        cv_job_end_err(j, CANVAS_ESHUTDOWN, 0, "server shutting down", &fin);
    } else if (read_only) {
        if (!cv_stale_base(cv, j, &fin) && !cv_lease_refused(cv, j, &fin) &&
            !cv_validate(cv, j, &fin))
            cv_patch_from_check(cv, j, validate_only, &fin);
    } else if (!cv->ops) {
        cv_job_refuse(cv, j, GE(NO_LIVE_CANVAS), &fin,
                      "canvas \"%s\" has no tab attached (its mirror is stale)", cv->id);
    } else if (cv->n_queued >= m->o.max_queued) {
        cv_job_end_err(j, CANVAS_EFULL, 0, "too many requests are waiting for this canvas's tab",
                       &fin);
    } else {
        if (cv->q_tail)
            cv->q_tail->next = j;
        else
            cv->q_head = j;
        cv->q_tail = j;
        cv->n_queued++;
        cv_arm(m, j->deadline);
        cv_pump(cv, &fin);
    }
    pthread_mutex_unlock(&cv->mu);
    cv_fin_run(m, &fin);
}

static int shutting_down(canvas_mgr *m, canvas_error *err)
{
    pthread_mutex_lock(&m->mu);
    int s = m->shutdown;
    pthread_mutex_unlock(&m->mu);
    return s ? fail(err, CANVAS_ESHUTDOWN, 0, "server shutting down") : CANVAS_OK;
}

static int submit_patch(canvas_mgr *m, job *j, const char *key, const uint8_t *hash,
                        int validate_only, canvas_error *err)
{
    int read_only = validate_only;
    if (!read_only) {
        read_only = 1;
        for (size_t i = 0; i < j->n; i++)
            if (!cv_is_get_graph(j->cmds[i])) read_only = 0;
    }
    int rc = shutting_down(m, err);
    if (rc) {
        cv_job_free(j);
        return rc;
    }
    /* Keys only matter where something could be applied twice. */
    if (!read_only && (rc = begin_key(m, j, key, hash, err))) return rc < 0 ? rc : CANVAS_OK;
    submit(m, j, read_only, validate_only);
    return CANVAS_OK;
}

static int check_on_stale(Comfyd__V1__OnStale v, canvas_error *err)
{
    if (v == COMFYD__V1__ON_STALE__ON_STALE_UNSPECIFIED ||
        v == COMFYD__V1__ON_STALE__ON_STALE_REBASE || v == COMFYD__V1__ON_STALE__ON_STALE_REJECT)
        return 0;
    return EINVALF(err, "on_stale %d is not REBASE or REJECT", (int)v);
}

int canvas_execute(canvas_mgr *m, const Comfyd__V1__ExecuteRequest *req, uint32_t limit_ms,
                   canvas_done_fn done, void *ud, canvas_error *err)
{
    return canvas_execute_as(m, req, NULL, limit_ms, done, ud, err);
}

int canvas_execute_as(canvas_mgr *m, const Comfyd__V1__ExecuteRequest *req, const provn_actor *who,
                      uint32_t limit_ms, canvas_done_fn done, void *ud, canvas_error *err)
{
    if (cv_check_canvas_id(req->canvas_id, 0, err) || cv_check_key(req->idempotency_key, err))
        return CANVAS_EINVAL;
    if (!req->command) return EINVALF(err, "command is required");
    if (check_on_stale(req->on_stale, err) ||
        cv_check_apply_mode(req->apply_mode, req->preview_timeout_ms, err))
        return CANVAS_EINVAL;
    const Comfyd__V1__Command *const one[1] = {req->command};
    if (check_cmds(one, 1, err)) {
        /* Name the field as Execute has it. */
        if (req->command->command_case == COMFYD__V1__COMMAND__COMMAND__NOT_SET) {
            char names[256];
            snprintf(err->message, sizeof err->message, "command is empty: set one of %s",
                     graph_cmd_names(names, sizeof names));
        }
        return CANVAS_EINVAL;
    }
    job *j = job_new(m, JOB_PATCH, RK_EXECUTE, req->canvas_id, req->timeout_ms, limit_ms, done, ud);
    j->single = 1;
    if (who) j->who = *who;
    j->one[0] = req->command;
    j->cmds = j->one;
    j->n = 1;
    j->has_base = req->base_revision != NULL;
    j->base = req->base_revision ? req->base_revision->value : 0;
    j->stale_reject = req->on_stale == COMFYD__V1__ON_STALE__ON_STALE_REJECT;
    j->mode = COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC;
    cv_job_preview(j, req->apply_mode, req->preview_timeout_ms, limit_ms);
    uint8_t hash[STORE_IDEM_HASH_LEN] = {0};
    if (req->idempotency_key && *req->idempotency_key) idem_hash_execute(req, hash);
    return submit_patch(m, j, req->idempotency_key, hash, req->validate_only, err);
}

int canvas_execute_batch(canvas_mgr *m, const Comfyd__V1__ExecuteBatchRequest *req,
                         uint32_t limit_ms, canvas_done_fn done, void *ud, canvas_error *err)
{
    return canvas_execute_batch_as(m, req, NULL, limit_ms, done, ud, err);
}

int canvas_execute_batch_as(canvas_mgr *m, const Comfyd__V1__ExecuteBatchRequest *req,
                            const provn_actor *who, uint32_t limit_ms, canvas_done_fn done,
                            void *ud, canvas_error *err)
{
    if (cv_check_canvas_id(req->canvas_id, 0, err) || cv_check_key(req->idempotency_key, err) ||
        check_cmds((const Comfyd__V1__Command *const *)req->commands, req->n_commands, err) ||
        check_on_stale(req->on_stale, err) ||
        cv_check_apply_mode(req->apply_mode, req->preview_timeout_ms, err))
        return CANVAS_EINVAL;
    if (req->mode != COMFYD__V1__BATCH_MODE__BATCH_MODE_UNSPECIFIED &&
        req->mode != COMFYD__V1__BATCH_MODE__BATCH_MODE_ATOMIC &&
        req->mode != COMFYD__V1__BATCH_MODE__BATCH_MODE_PARTIAL)
        return EINVALF(err, "mode %d is not ATOMIC or PARTIAL", (int)req->mode);
    job *j = job_new(m, JOB_PATCH, RK_BATCH, req->canvas_id, req->timeout_ms, limit_ms, done, ud);
    if (who) j->who = *who;
    j->cmds = (const Comfyd__V1__Command *const *)req->commands;
    j->n = req->n_commands;
    j->has_base = req->base_revision != NULL;
    j->base = req->base_revision ? req->base_revision->value : 0;
    j->stale_reject = req->on_stale == COMFYD__V1__ON_STALE__ON_STALE_REJECT;
    j->mode = req->mode;
    cv_job_preview(j, req->apply_mode, req->preview_timeout_ms, limit_ms);
    uint8_t hash[STORE_IDEM_HASH_LEN] = {0};
    if (req->idempotency_key && *req->idempotency_key) idem_hash_batch(req, hash);
    return submit_patch(m, j, req->idempotency_key, hash, req->validate_only, err);
}

static int queue_job(canvas_mgr *m, const Comfyd__V1__QueueRequest *req, uint32_t limit_ms,
                     canvas_done_fn done, void *ud, canvas_error *err, int prompt_only)
{
    if (cv_check_canvas_id(req->canvas_id, 0, err) || cv_check_key(req->idempotency_key, err))
        return CANVAS_EINVAL;
    if (req->batch_count > CANVAS_MAX_BATCH_COUNT)
        return EINVALF(err, "batch_count is at most %d", CANVAS_MAX_BATCH_COUNT);
    int rc = shutting_down(m, err);
    if (rc) return rc;
    job *j = job_new(m, JOB_QUEUE, RK_QUEUE, req->canvas_id, req->timeout_ms, limit_ms, done, ud);
    j->batch_count = req->batch_count ? req->batch_count : 1;
    uint8_t hash[STORE_IDEM_HASH_LEN] = {0};
    if (req->idempotency_key && *req->idempotency_key) idem_hash_queue(req, hash);
    j->prompt_only = prompt_only;
    if ((rc = begin_key(m, j, req->idempotency_key, hash, err))) return rc < 0 ? rc : CANVAS_OK;
    submit(m, j, 0, 0);
    return CANVAS_OK;
}

int canvas_queue(canvas_mgr *m, const Comfyd__V1__QueueRequest *req, uint32_t limit_ms,
                 canvas_done_fn done, void *ud, canvas_error *err)
{
    return queue_job(m, req, limit_ms, done, ud, err, 0);
}

int canvas_queue_prompt(canvas_mgr *m, const Comfyd__V1__QueueRequest *req, uint32_t limit_ms,
                        canvas_done_fn done, void *ud, canvas_error *err)
{
    return queue_job(m, req, limit_ms, done, ud, err, 1);
}

int canvas_load(canvas_mgr *m, const Comfyd__V1__LoadRequest *req, uint32_t limit_ms,
                canvas_done_fn done, void *ud, canvas_error *err)
{
    return canvas_load_as(m, req, NULL, limit_ms, done, ud, err);
}

int canvas_load_as(canvas_mgr *m, const Comfyd__V1__LoadRequest *req, const provn_actor *who,
                   uint32_t limit_ms, canvas_done_fn done, void *ud, canvas_error *err)
{
    if (cv_check_canvas_id(req->canvas_id, 0, err) || cv_check_key(req->idempotency_key, err))
        return CANVAS_EINVAL;
    int direct = req->workflow_json && *req->workflow_json;
    char e[256] = "";
    if (!direct) {
        if (!req->name || !*req->name) return EINVALF(err, "name or workflow_json is required");
        if (wfstore_check_name(req->name, e, sizeof e))
            return EGRAPHF(err, GE(INVALID_NAME), "name: %s", e);
    } else if (strlen(req->workflow_json) > CANVAS_MAX_SEND_JSON) {
        return EINVALF(err, "workflow_json is larger than %u bytes", CANVAS_MAX_SEND_JSON);
    }
    int rc = shutting_down(m, err);
    if (rc) return rc;
    job *j = job_new(m, JOB_LOAD, RK_LOAD, req->canvas_id, req->timeout_ms, limit_ms, done, ud);
    j->undo_step = req->undo_step;
    if (who) j->who = *who;
    uint8_t hash[STORE_IDEM_HASH_LEN] = {0};
    if (req->idempotency_key && *req->idempotency_key) idem_hash_load(req, hash);
    if ((rc = begin_key(m, j, req->idempotency_key, hash, err))) return rc < 0 ? rc : CANVAS_OK;
    jlist fin = {0};
    if (direct) {
        j->json = req->workflow_json;
        j->json_len = strlen(req->workflow_json);
    } else if (!m->o.store) {
        cv_job_end_err(j, CANVAS_EIO, 0, "no workflow store is configured", &fin);
    } else {
        rc = wfstore_load(m->o.store, req->name, &j->json_owned, &j->json_len, e, sizeof e);
        if (rc == WFSTORE_ENOENT)
            cv_job_refuse(NULL, j, GE(WORKFLOW_NOT_FOUND), &fin, "%s (ListWorkflows lists them)",
                          e);
        else if (rc == WFSTORE_ETOOBIG)
            cv_job_end_err(j, CANVAS_EINVAL, 0, e, &fin);
        else if (rc)
            cv_job_end_err(j, rc == WFSTORE_ENOMEM ? CANVAS_ENOMEM : CANVAS_EIO, 0, e, &fin);
        else if (j->json_len > CANVAS_MAX_SEND_JSON)
            cv_job_end_err(j, CANVAS_EINVAL, 0,
                           "the stored workflow is too large to send to a tab in one message",
                           &fin);
        j->json = j->json_owned;
    }
    if (!fin.head) {
        /* Refuse what the tab could not load before bothering it. */
        graph *g = NULL;
        rc = graph_parse_workflow(&g, j->json, j->json_len, NULL, 1, e, sizeof e);
        graph_destroy(g);
        if (rc == GRAPH_ENOMEM) {
            cv_job_end_err(j, CANVAS_ENOMEM, 0, "out of memory", &fin);
        } else if (rc) {
            char *msg = direct ? xprintf("workflow_json: %s", e)
                               : xprintf("the stored workflow \"%s\": %s", req->name, e);
            cv_job_end_err(j, CANVAS_EINVAL, 0, msg, &fin);
            free(msg);
        }
    }
    if (fin.head) {
        cv_fin_run(m, &fin);
        return CANVAS_OK;
    }
    submit(m, j, 0, 0);
    return CANVAS_OK;
}

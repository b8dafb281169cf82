/* runs_queue: queueing a run on ComfyUI and cancelling one (runs.h). */
#include "runs_int.h"

/* ---- queue ---- */

typedef struct sub {
    runs *r;
    canvas_done_fn done;
    void *ud;
    Comfyd__V1__RunOrigin origin;
    char *session_id, *queued_by, *idem;
    uint32_t batch_count;
    /* The request handed to the canvas manager (borrowed by it until
     * on_converted), with its own copy of the canvas id. */
    Comfyd__V1__QueueRequest req;
    char *canvas_id;
    uint32_t limit_ms;
    /* The runs made so far. */
    Comfyd__V1__Run *last;
    char **ids;
    size_t n_ids;
} sub;

static void sub_free(sub *s)
{
    free(s->session_id);
    free(s->queued_by);
    free(s->idem);
    free(s->canvas_id);
    ru_msg_free(s->last);
    for (size_t i = 0; i < s->n_ids; i++)
        free(s->ids[i]);
    free(s->ids);
    free(s);
}

/* Titles and types per node from the API prompt ({"id": {"class_type",
 * "_meta": {"title"}}}). */
static void read_titles(entry *e, yajl_val prompt)
{
    if (!YAJL_IS_OBJECT(prompt)) return;
    size_t n = prompt->u.object.len < RUNS_MAX_TITLES ? prompt->u.object.len : RUNS_MAX_TITLES;
    e->titles = ru_xrealloc(NULL, n * sizeof *e->titles);
    for (size_t i = 0; i < n; i++) {
        yajl_val node = prompt->u.object.values[i];
        const char *path_ct[] = {"class_type", NULL};
        const char *path_t[] = {"_meta", "title", NULL};
        yajl_val ct = yajl_tree_get(node, path_ct, yajl_t_string);
        yajl_val t = yajl_tree_get(node, path_t, yajl_t_string);
        const char *k = prompt->u.object.keys[i];
        title *ti = &e->titles[e->n_titles++];
        ti->node_id = text_dupn(k, text_utf8_cut(k, strlen(k), COMFY_MAX_ID));
        ti->type = text_dup(ct ? YAJL_GET_STRING(ct) : "");
        ti->title = text_dup(t ? YAJL_GET_STRING(t) : "");
    }
}

static Comfyd__V1__Run *new_run(const Comfyd__V1__QueueResponse *q, const sub *s, const char *pid)
{
    Comfyd__V1__Run *run = ru_xrealloc(NULL, sizeof *run);
    comfyd__v1__run__init(run);
    run->prompt_id = text_dup(pid);
    run->canvas_id = text_dup(q->canvas_id);
    run->revision = q->revision;
    run->origin = s->origin ? s->origin : COMFYD__V1__RUN_ORIGIN__RUN_ORIGIN_GRPC;
    run->session_id = text_dup(s->session_id);
    run->queued_by = text_dup(s->queued_by);
    run->status = RS(QUEUED);
    run->reason = text_dup("");
    run->executing_node = text_dup("");
    run->prompt_error = text_dup("");
    run->queued_at_ms = text_now_ms();
    return run;
}

/* The POST /prompt body: the tab's prompt and workflow as they are (both
 * were checked to parse), our client id and the prompt id. */
static char *prompt_body(const runs *r, const char *pid, const char *prompt, const char *workflow,
                         size_t *len)
{
    text_buf b = {0};
    text_buf_add(&b, "{\"client_id\":\"");
    text_buf_add(&b, r->client_id);
    text_buf_add(&b, "\",\"prompt_id\":\"");
    text_buf_add(&b, pid);
    text_buf_add(&b, "\",\"prompt\":");
    text_buf_add(&b, prompt);
    text_buf_add(&b, ",\"extra_data\":{\"extra_pnginfo\":{\"workflow\":");
    text_buf_add(&b, workflow && *workflow ? workflow : "null");
    text_buf_add(&b, "}}}");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.n;
    return b.p;
}

/* Posts one prompt for a new run and records the outcome in it. Returns a
 * copy of the run. */
static Comfyd__V1__Run *post_one(runs *r, const sub *s, const Comfyd__V1__QueueResponse *q,
                                 yajl_val prompt_tree, const char *prompt, const char *workflow,
                                 const char *idem)
{
    char pid[TEXT_UUID_LEN];
    if (text_uuid(pid)) return NULL;
    Comfyd__V1__Run *run = new_run(q, s, pid);
    pthread_mutex_lock(&r->mu);
    entry *e = ru_add_entry(r, run);
    read_titles(e, prompt_tree);
    /* Stored before posting: ComfyUI's first events may come before its
     * answer, and they must ru_find the run. */
    runstore_put(r->st, run, idem);
    pthread_mutex_unlock(&r->mu);

    size_t blen = 0;
    char *body = prompt_body(r, pid, prompt, workflow, &blen);
    comfy_http_resp resp;
    char err[512] = "";
    int rc = body ? comfy_http_do(r->http, "POST", "/prompt", body, blen, COMFY_MAX_JSON,
                                  RUNS_POST_TIMEOUT_MS, &resp, err, sizeof err)
                  : -1;
    free(body);
    comfy_prompt_answer a = {0};
    int parsed =
        rc == 0 && comfy_prompt_answer_parse(resp.body, resp.len, &a, err, sizeof err) == 0;

    pthread_mutex_lock(&r->mu);
    Comfyd__V1__Run *copy = NULL;
    e = ru_find(r, pid);
    if (e) {
        run = e->run;
        if (rc != 0) {
            /* Sent or not, nobody can tell: reconciled when ComfyUI answers. */
            e->reconcile = 1;
            e->lost = 1;
            ru_set_status(run, RS(UNKNOWN), err);
        } else if (resp.status == 200 && parsed && *a.prompt_id) {
            run->number = a.number;
        } else {
            ru_set_status(run, RS(FAILED), "");
            char why[COMFY_MAX_TEXT + 64];
            if (parsed && *a.error_message) {
                ru_set_str(&run->prompt_error, a.error_message);
                snprintf(why, sizeof why, "ComfyUI refused the prompt: %s", a.error_message);
            } else {
                snprintf(why, sizeof why, "ComfyUI refused the prompt (HTTP %ld)%s%s", resp.status,
                         parsed ? "" : ": ", parsed ? "" : err);
            }
            ru_set_str(&run->reason, why);
        }
        if (parsed && a.n_node_errors) {
            for (size_t i = 0; i < a.n_node_errors; i++) {
                const title *t = ru_title_of(e, a.node_errors[i]->node_id);
                if (t) {
                    ru_set_str(&a.node_errors[i]->title, t->title);
                    if (!*a.node_errors[i]->node_type)
                        ru_set_str(&a.node_errors[i]->node_type, t->type);
                }
            }
            run->node_errors = a.node_errors;
            run->n_node_errors = a.n_node_errors;
            a.node_errors = NULL;
            a.n_node_errors = 0;
        }
        ru_changed(r, e, 1);
        e = ru_find(r, pid);
        copy = e ? ru_run_copy(e->run) : runstore_get(r->st, pid);
    } else {
        /* Already finished by its events. */
        copy = runstore_get(r->st, pid);
    }
    pthread_mutex_unlock(&r->mu);
    comfy_prompt_answer_clear(&a);
    if (rc == 0) comfy_http_resp_clear(&resp);
    return copy;
}

static void answer(sub *s, int err, Comfyd__V1__GraphErrorCode code, const char *msg,
                   Comfyd__V1__QueueResponse *q)
{
    canvas_result res = {err, code, msg, q ? &q->base : NULL, NULL, NULL};
    s->done(s->ud, &res);
}

/* Answers the queue with the runs made so far (or with the error when
 * there are none) and frees s. */
static void sub_finish(sub *s, int err, Comfyd__V1__GraphErrorCode code, const char *msg)
{
    if (!s->last) {
        if (err == CANVAS_OK) {
            err = CANVAS_EFULL;
            msg = "too many unfinished runs are followed; wait for some to finish";
        }
        answer(s, err, code, msg, NULL);
    } else {
        Comfyd__V1__QueueResponse out = COMFYD__V1__QUEUE_RESPONSE__INIT;
        out.canvas_id = s->last->canvas_id;
        out.revision = s->last->revision;
        out.prompt_id = s->last->prompt_id;
        out.number = (int64_t)s->last->number;
        out.run = s->last;
        out.prompt_ids = s->ids;
        out.n_prompt_ids = s->n_ids;
        answer(s, CANVAS_OK, 0, NULL, &out);
    }
    sub_free(s);
}

static void sub_add(sub *s, Comfyd__V1__Run *run)
{
    ru_msg_free(s->last);
    s->last = run;
    s->ids = ru_xrealloc(s->ids, (s->n_ids + 1) * sizeof *s->ids);
    s->ids[s->n_ids++] = text_dup(run->prompt_id);
}

/* One conversion by the tab: one run. With batch_count > 1 the tab is asked
 * again for each run, so that its widgets' afterQueued callbacks (a seed
 * set to "randomize") change the prompt between runs, as in the frontend. */
static void on_converted(void *ud, const canvas_result *cr)
{
    sub *s = ud;
    runs *r = s->r;
    if (cr->err != CANVAS_OK) {
        sub_finish(s, cr->err, cr->code, cr->message);
        return;
    }
    const Comfyd__V1__QueueResponse *q = (const Comfyd__V1__QueueResponse *)cr->resp;
    int more = 1;
    if (!cr->prompt_json) {
        /* An older tab posted it with its own client id: followed by
         * polling /history. */
        more = 0;
        if (*q->prompt_id) {
            Comfyd__V1__Run *run = new_run(q, s, q->prompt_id);
            run->number = (double)q->number;
            pthread_mutex_lock(&r->mu);
            entry *e = ru_add_entry(r, run);
            e->foreign = 1;
            runstore_put(r->st, run, s->n_ids ? NULL : s->idem);
            Comfyd__V1__Run *copy = ru_run_copy(run);
            pthread_mutex_unlock(&r->mu);
            sub_add(s, copy);
        }
    } else {
        yajl_val tree = NULL;
        char e[256] = "";
        nodeinfo_json_limits lim = {RUNS_MAX_PROMPT_JSON, COMFY_MAX_DEPTH, COMFY_MAX_VALUES};
        size_t wlen = cr->workflow_json ? strlen(cr->workflow_json) : 0;
        yajl_val wtree = NULL;
        if (nodeinfo_json_parse(cr->prompt_json, strlen(cr->prompt_json), &lim, &tree, e,
                                sizeof e) ||
            !YAJL_IS_OBJECT(tree) ||
            (wlen && nodeinfo_json_parse(cr->workflow_json, wlen, &lim, &wtree, e, sizeof e))) {
            char msg[512];
            snprintf(msg, sizeof msg, "the tab's prompt is not a JSON object: %s", e);
            if (tree) yajl_tree_free(tree);
            sub_finish(s, CANVAS_EGRAPH,
                       COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_EDITOR_FAILED, msg);
            return;
        }
        if (wtree) yajl_tree_free(wtree);
        pthread_mutex_lock(&r->mu);
        int full = r->n_act >= RUNS_MAX_ACTIVE;
        pthread_mutex_unlock(&r->mu);
        /* The key names the first run of a batch (a replay answers it). */
        Comfyd__V1__Run *run = full ? NULL
                                    : post_one(r, s, q, tree, cr->prompt_json, cr->workflow_json,
                                               s->n_ids ? NULL : s->idem);
        yajl_tree_free(tree);
        if (run) sub_add(s, run);
        /* A refused prompt is refused every time. */
        more = run && run->status != RS(FAILED) && run->status != RS(UNKNOWN);
    }
    if (more && s->n_ids < s->batch_count) {
        canvas_error ce = {0};
        if (canvas_queue_prompt(r->cm, &s->req, s->limit_ms, on_converted, s, &ce) == CANVAS_OK)
            return; /* s lives on in the next conversion */
    }
    sub_finish(s, CANVAS_OK, 0, NULL);
}

int runs_queue(runs *r, const Comfyd__V1__QueueRequest *req, uint32_t limit_ms, canvas_done_fn done,
               void *ud, canvas_error *err)
{
    const char *key = req->idempotency_key ? req->idempotency_key : "";
    char scoped[CANVAS_MAX_KEY + CANVAS_MAX_ID + 2] = "";
    if (strlen(key) > CANVAS_MAX_KEY) {
        err->code = 0;
        snprintf(err->message, sizeof err->message, "idempotency_key is at most %d bytes",
                 CANVAS_MAX_KEY);
        return CANVAS_EINVAL;
    }
    if (*key) {
        snprintf(scoped, sizeof scoped, "%s\n%s", req->canvas_id ? req->canvas_id : "", key);
        Comfyd__V1__Run *run = runstore_get_by_key(r->st, scoped);
        if (run) {
            Comfyd__V1__QueueResponse q = COMFYD__V1__QUEUE_RESPONSE__INIT;
            q.prompt_id = run->prompt_id;
            q.number = (int64_t)run->number;
            q.canvas_id = run->canvas_id;
            q.revision = run->revision;
            q.replayed = 1;
            q.run = run;
            canvas_result res = {CANVAS_OK, 0, NULL, &q.base, NULL, NULL};
            done(ud, &res);
            ru_msg_free(run);
            return CANVAS_OK;
        }
    }
    sub *s = calloc(1, sizeof *s);
    if (!s) return CANVAS_ENOMEM;
    s->r = r;
    s->done = done;
    s->ud = ud;
    s->origin = req->origin;
    s->session_id = text_dup(req->session_id ? req->session_id : "");
    s->queued_by = text_dup(req->queued_by ? req->queued_by : "");
    s->idem = text_dup(scoped);
    s->batch_count = req->batch_count ? req->batch_count : 1;
    s->canvas_id = text_dup(req->canvas_id ? req->canvas_id : "");
    comfyd__v1__queue_request__init(&s->req);
    s->req.canvas_id = s->canvas_id;
    s->req.idempotency_key = "";
    s->req.timeout_ms = req->timeout_ms;
    s->req.batch_count = 1;
    s->limit_ms = limit_ms;
    int rc = canvas_queue_prompt(r->cm, &s->req, limit_ms, on_converted, s, err);
    if (rc != CANVAS_OK) sub_free(s);
    return rc;
}

/* ---- cancel ---- */

static int post_json(runs *r, const char *path, const char *body, char *err, size_t errlen)
{
    comfy_http_resp resp;
    if (comfy_http_do(r->http, "POST", path, body, strlen(body), 64u << 10, RUNS_CALL_TIMEOUT_MS,
                      &resp, err, errlen))
        return -1;
    int ok = resp.status == 200;
    if (!ok) snprintf(err, errlen, "POST %s answered HTTP %ld", path, resp.status);
    comfy_http_resp_clear(&resp);
    return ok ? 0 : -1;
}

int runs_cancel(runs *r, const char *prompt_id, Comfyd__V1__Run **out, char *err, size_t errlen)
{
    *out = NULL;
    pthread_mutex_lock(&r->mu);
    entry *e = ru_find(r, prompt_id);
    Comfyd__V1__RunStatus st = e ? e->run->status : 0;
    pthread_mutex_unlock(&r->mu);
    if (!e) {
        Comfyd__V1__Run *run = runstore_get(r->st, prompt_id);
        if (!run) {
            snprintf(err, errlen, "no run with prompt_id \"%s\"", prompt_id);
            return RUNS_ENOTFOUND;
        }
        snprintf(err, errlen, "the run is over (%s)", runs_status_name(run->status));
        ru_msg_free(run);
        return RUNS_EOVER;
    }
    char body[COMFY_MAX_ID + 64];
    if (st == RS(QUEUED)) {
        snprintf(body, sizeof body, "{\"delete\":[\"%s\"]}", prompt_id);
        if (post_json(r, "/queue", body, err, errlen)) return RUNS_EUNAVAIL;
        /* Deleted, unless it started meanwhile: then it is interrupted. */
        comfy_queue q;
        uint32_t pos = 0;
        qstate s = IN_NONE;
        if (ru_fetch_queue(r, &q, err, errlen) == 0) {
            s = ru_queue_state(&q, prompt_id, &pos);
            comfy_queue_clear(&q);
        }
        if (s == IN_NONE) {
            pthread_mutex_lock(&r->mu);
            e = ru_find(r, prompt_id);
            if (e && e->run->status == RS(QUEUED)) {
                ru_set_status(e->run, RS(CANCELLED), "removed from ComfyUI's queue on request");
                ru_changed(r, e, 1);
            }
            pthread_mutex_unlock(&r->mu);
        } else if (s == IN_RUNNING) {
            st = RS(RUNNING);
        }
    }
    if (st == RS(RUNNING) || st == RS(UNKNOWN)) {
        snprintf(body, sizeof body, "{\"prompt_id\":\"%s\"}", prompt_id);
        if (post_json(r, "/interrupt", body, err, errlen)) return RUNS_EUNAVAIL;
        /* ComfyUI confirms with execution_interrupted. */
        int64_t until = text_mono_ms() + RUNS_CANCEL_WAIT_MS;
        pthread_mutex_lock(&r->mu);
        while ((e = ru_find(r, prompt_id)) && !runs_status_final(e->run->status) && !r->stop) {
            int64_t left = until - text_mono_ms();
            if (left <= 0) break;
            struct timespec ts = text_realtime_after(left);
            pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        }
        pthread_mutex_unlock(&r->mu);
    }
    *out = runs_get(r, prompt_id);
    return RUNS_OK;
}

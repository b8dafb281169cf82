/* runs_query: reading runs, their outputs, and watching a run's changes
 * (runs.h). */
#include "runs_int.h"

/* ---- reads ---- */

Comfyd__V1__Run *runs_get(runs *r, const char *prompt_id)
{
    pthread_mutex_lock(&r->mu);
    entry *e = ru_find(r, prompt_id);
    Comfyd__V1__Run *c = e ? ru_run_copy(e->run) : NULL;
    pthread_mutex_unlock(&r->mu);
    return c ? c : runstore_get(r->st, prompt_id);
}

int runs_list(runs *r, const Comfyd__V1__ListRunsRequest *req, Comfyd__V1__ListRunsResponse **out,
              char *err, size_t errlen)
{
    *out = NULL;
    size_t limit = req->page_size ? req->page_size : RUNS_PAGE_DEFAULT;
    if (limit > RUNS_PAGE_MAX) limit = RUNS_PAGE_MAX;
    long long before = 0;
    char before_id[COMFY_MAX_ID + 1] = "";
    if (req->page_token && *req->page_token) {
        int used = 0;
        if (strlen(req->page_token) > COMFY_MAX_ID + 24 ||
            sscanf(req->page_token, "%lld:%256[^\n]%n", &before, before_id, &used) != 2 ||
            before <= 0 || req->page_token[used]) {
            snprintf(err, errlen, "page_token is not one ListRuns returned");
            return RUNS_EINVAL;
        }
    }
    /* Unfinished runs' newest state is in memory; the store has the rest. */
    Comfyd__V1__Run **l = NULL;
    size_t n = 0;
    if (runstore_list(r->st, req->canvas_id, req->session_id, before, before_id, limit + 1, &l,
                      &n)) {
        snprintf(err, errlen, "the run store failed");
        return RUNS_EIO;
    }
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < n; i++) {
        entry *e = ru_find(r, l[i]->prompt_id);
        if (e) {
            ru_msg_free(l[i]);
            l[i] = ru_run_copy(e->run);
        }
    }
    pthread_mutex_unlock(&r->mu);
    Comfyd__V1__ListRunsResponse *resp = ru_xrealloc(NULL, sizeof *resp);
    comfyd__v1__list_runs_response__init(resp);
    if (n > limit) {
        char tok[COMFY_MAX_ID + 32];
        snprintf(tok, sizeof tok, "%lld:%s", (long long)l[limit - 1]->queued_at_ms,
                 l[limit - 1]->prompt_id);
        resp->next_page_token = text_dup(tok);
        ru_msg_free(l[limit]);
        n = limit;
    } else {
        resp->next_page_token = text_dup("");
    }
    resp->runs = l;
    resp->n_runs = n;
    *out = resp;
    return RUNS_OK;
}

/* ---- outputs ---- */

/* A name ComfyUI's /view resolves inside its folder: no absolute path, no
 * ".." component, no backslash, no control character. */
static int safe_rel(const char *p, int allow_slash)
{
    if (*p == '/') return 0;
    for (const char *c = p; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == '\\') return 0;
        if (*c == '/' && !allow_slash) return 0;
    }
    const char *seg = p;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if ((len == 2 && !strncmp(seg, "..", 2)) || (len == 1 && *seg == '.')) return 0;
        if (!end) break;
        seg = end + 1;
    }
    return 1;
}

int runs_output(runs *r, const char *prompt_id, const char *node_id, uint32_t index,
                uint32_t max_side, Comfyd__V1__GetRunOutputResponse **out, char *err, size_t errlen)
{
    *out = NULL;
    Comfyd__V1__Run *run = runs_get(r, prompt_id);
    if (!run) {
        snprintf(err, errlen, "no run with prompt_id \"%s\"", prompt_id);
        return RUNS_ENOTFOUND;
    }
    const Comfyd__V1__OutputFile *f = NULL;
    for (size_t i = 0; i < run->n_outputs && !f; i++)
        if (!strcmp(run->outputs[i]->node_id, node_id) && index < run->outputs[i]->n_files)
            f = run->outputs[i]->files[index];
    if (!f) {
        snprintf(err, errlen, "run %s has no output file %u of node \"%s\"", prompt_id, index,
                 node_id);
        ru_msg_free(run);
        return RUNS_ENOTFOUND;
    }
    if (!*f->filename || !safe_rel(f->filename, 0) || !safe_rel(f->subfolder, 1) ||
        (strcmp(f->type, "output") && strcmp(f->type, "temp") && strcmp(f->type, "input"))) {
        snprintf(err, errlen, "refused: the output's path leaves ComfyUI's folders");
        ru_msg_free(run);
        return RUNS_EINVAL;
    }
    char *fn = comfy_http_escape(f->filename), *sf = comfy_http_escape(f->subfolder),
         *ty = comfy_http_escape(f->type);
    text_buf path = {0};
    text_buf_add(&path, "/view?filename=");
    text_buf_add(&path, fn ? fn : "");
    text_buf_add(&path, "&subfolder=");
    text_buf_add(&path, sf ? sf : "");
    text_buf_add(&path, "&type=");
    text_buf_add(&path, ty ? ty : "");
    free(fn);
    free(sf);
    free(ty);
    comfy_http_resp resp;
    char e[512] = "";
    int rc = path.oom ? -1
                      : comfy_http_do(r->http, "GET", path.p, NULL, 0, RUNS_MAX_OUTPUT_BYTES,
                                      RUNS_CALL_TIMEOUT_MS, &resp, e, sizeof e);
    free(path.p);
    if (rc) {
        snprintf(err, errlen, "%s", e);
        ru_msg_free(run);
        return strstr(e, "larger than") ? RUNS_EFULL : RUNS_EUNAVAIL;
    }
    if (resp.status != 200) {
        snprintf(err, errlen, "ComfyUI's /view answered HTTP %ld for %s", resp.status, f->filename);
        comfy_http_resp_clear(&resp);
        ru_msg_free(run);
        return resp.status == 404 ? RUNS_ENOTFOUND : RUNS_EUNAVAIL;
    }
    Comfyd__V1__GetRunOutputResponse *o = ru_xrealloc(NULL, sizeof *o);
    comfyd__v1__get_run_output_response__init(o);
    Comfyd__V1__OutputFile *fc = ru_xrealloc(NULL, sizeof *fc);
    comfyd__v1__output_file__init(fc);
    fc->kind = text_dup(f->kind);
    fc->filename = text_dup(f->filename);
    fc->subfolder = text_dup(f->subfolder);
    fc->type = text_dup(f->type);
    o->file = fc;
    o->content_type = text_dup(*resp.content_type ? resp.content_type : "application/octet-stream");
    o->data.data = (uint8_t *)resp.body;
    o->data.len = resp.len;
    resp.body = NULL;
    if (!strncmp(o->content_type, "image/png", 9)) {
        void *small = NULL;
        size_t small_len = 0;
        char e2[256];
        int sc = imgscale_png(o->data.data, o->data.len, max_side ? max_side : IMGSCALE_MAX_SIDE,
                              &small, &small_len, &o->width, &o->height, e2, sizeof e2);
        if (sc == 1) {
            free(o->data.data);
            o->data.data = small;
            o->data.len = small_len;
            o->scaled = 1;
        } else if (sc < 0 && max_side) {
            /* Asked for a bounded image and it cannot be made one. */
            snprintf(err, errlen, "%s", e2);
            protobuf_c_message_free_unpacked(&o->base, NULL);
            comfy_http_resp_clear(&resp);
            ru_msg_free(run);
            return RUNS_EINVAL;
        }
    }
    comfy_http_resp_clear(&resp);
    ru_msg_free(run);
    *out = o;
    return RUNS_OK;
}

/* ---- watch ---- */

int runs_watch(runs *r, const char *prompt_id, const char *canvas_id, uint64_t after_seq,
               runs_watch_fn fn, runs_release_fn release, void *ud)
{
    prompt_id = prompt_id ? prompt_id : "";
    canvas_id = canvas_id ? canvas_id : "";
    pthread_mutex_lock(&r->mu);
    if (r->stop) {
        pthread_mutex_unlock(&r->mu);
        return RUNS_ESHUTDOWN;
    }
    if (r->n_w >= RUNS_MAX_WATCHERS) {
        pthread_mutex_unlock(&r->mu);
        return RUNS_EFULL;
    }
    if (*prompt_id) {
        entry *e = ru_find(r, prompt_id);
        if (!e) {
            pthread_mutex_unlock(&r->mu);
            /* Finished: its final state once, then the watch is over. */
            Comfyd__V1__Run *run = runstore_get(r->st, prompt_id);
            if (!run) return RUNS_ENOTFOUND;
            if (run->seq > after_seq) fn(ud, run);
            ru_msg_free(run);
            release(ud);
            return RUNS_OK;
        }
        if (e->run->seq > after_seq && fn(ud, e->run)) {
            pthread_mutex_unlock(&r->mu);
            release(ud);
            return RUNS_OK;
        }
    }
    r->w = ru_xrealloc(r->w, (r->n_w + 1) * sizeof *r->w);
    r->w[r->n_w++] = (watcher){text_dup(prompt_id), text_dup(canvas_id), fn, release, ud};
    pthread_mutex_unlock(&r->mu);
    return RUNS_OK;
}

/* session_request: the requests on one session (core/session.h):
 * create, get, configure, delete, attachments, send and cancel. Each
 * checks its input, changes the store first and then the session in
 * memory, and publishes what changed. */
#include "session_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxwin.h"
#include "log.h"
#include "text.h"
#include "vision.h"

/* ---- requests ------------------------------------------------------------- */

int sess_shutting_down(sess_mgr *m, char *err, size_t errlen)
{
    pthread_mutex_lock(&m->mu);
    int sd = m->shutting_down;
    pthread_mutex_unlock(&m->mu);
    if (sd) sess_seterr(err, errlen, "server shutting down");
    return sd;
}

int sess_create(sess_mgr *m, const Comfyd__V1__CreateSessionRequest *req, sess_info *out, char *err,
                size_t errlen)
{
    if (sess_shutting_down(m, err, errlen)) return SESS_ESHUTDOWN;
    const Comfyd__V1__SessionConfig *c = req->config;
    int rc;
    if ((rc = sess_check_text("title", req->title, SESS_MAX_TITLE, 1, err, errlen))) return rc;
    if ((rc = sess_check_text("api_key", req->api_key, SESS_MAX_API_KEY, 1, err, errlen)))
        return rc;
    if (c) {
        if ((rc = sess_check_provider(c->provider, err, errlen))) return rc;
        if ((rc = sess_check_text("model", c->model, SESS_MAX_SHORT, 1, err, errlen))) return rc;
        if ((rc = sess_check_base_url(c->base_url, err, errlen))) return rc;
        if ((rc = sess_check_text("system_prompt", c->system_prompt, SESS_MAX_SYSTEM_PROMPT, 1, err,
                                  errlen)))
            return rc;
        if ((rc = sess_check_skills(m, c->active_skills, c->n_active_skills, err, errlen)))
            return rc;
        if ((rc = sess_check_delay(c->token_delay_ms, err, errlen))) return rc;
        if ((rc = sess_check_vision(c->vision, err, errlen))) return rc;
        if ((rc = sess_check_window(c->context_window, err, errlen))) return rc;
    }
    store_session meta = {0};
    const char *want = req->session_id;
    if (want && *want) {
        /* A client-chosen id (seed 000's join): the same form as ours. */
        if ((rc = sess_check_session_id(want, err, errlen))) return rc;
        memcpy(meta.id, want, TEXT_UUID_LEN);
    } else if (text_uuid(meta.id) != 0) {
        sess_seterr(err, errlen, "no randomness available for a session id");
        return SESS_EIO;
    }
    meta.title = text_dup(req->title ? req->title : "");
    meta.provider = text_dup(c && c->provider && *c->provider ? c->provider : "echo");
    meta.model = sess_dup_or_empty(c ? c->model : NULL);
    meta.base_url = sess_dup_or_empty(c ? c->base_url : NULL);
    meta.system_prompt = sess_dup_or_empty(c ? c->system_prompt : NULL);
    if (c && c->n_active_skills) {
        meta.skills = calloc(c->n_active_skills, sizeof(char *));
        if (!meta.skills) abort();
        for (size_t i = 0; i < c->n_active_skills; i++)
            meta.skills[i] = text_dup(c->active_skills[i]);
        meta.n_skills = c->n_active_skills;
    }
    meta.token_delay_ms = c ? c->token_delay_ms : 0;
    meta.vision = c ? vision_mode_parse(c->vision) : VISION_AUTO;
    meta.context_window = c ? c->context_window : 0;
    meta.created_ms = meta.updated_ms = text_now_ms();
    meta.api_key_set = req->api_key && *req->api_key;

    pthread_mutex_lock(&m->mu);
    if (sess_map_find_locked(m, meta.id)) {
        pthread_mutex_unlock(&m->mu);
        sess_seterr(err, errlen, "session %s already exists", meta.id);
        store_session_clear(&meta);
        return SESS_EEXIST;
    }
    rc = store_session_insert(m->st, &meta, meta.api_key_set ? req->api_key : NULL);
    if (rc != STORE_OK) {
        pthread_mutex_unlock(&m->mu);
        if (rc == STORE_CONFLICT) {
            sess_seterr(err, errlen, "session %s already exists", meta.id);
            store_session_clear(&meta);
            return SESS_EEXIST;
        }
        store_session_clear(&meta);
        sess_seterr(err, errlen, "cannot store the session: %s", store_strerror(rc));
        return sess_from_store(rc) == SESS_NOT_FOUND ? SESS_EIO : sess_from_store(rc);
    }
    session *s = sess_new(m, &meta);
    if (!s) {
        pthread_mutex_unlock(&m->mu);
        store_session_clear(&meta);
        return SESS_ENOMEM;
    }
    sess_map_insert_locked(m, s);
    pthread_mutex_lock(&s->mu);
    sess_info_fill_locked(s, out);
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_unlock(&m->mu);
    LOG_I(MOD, "session %s created (provider %s, %zu skill(s))", out->meta.id, out->meta.provider,
          out->meta.n_skills);
    return SESS_OK;
}

session *sess_find_or_err(sess_mgr *m, const char *id, int *rc, char *err, size_t errlen)
{
    if ((*rc = sess_check_session_id(id, err, errlen)) != SESS_OK) return NULL;
    session *s = sess_acquire(m, id);
    if (s && m->lease && sess_refresh_shared(s) == STORE_NOT_FOUND) {
        sess_unref(s);
        s = NULL;
    }
    if (!s) {
        sess_seterr(err, errlen, "session %s not found", id);
        *rc = SESS_NOT_FOUND;
    }
    return s;
}

int sess_get(sess_mgr *m, const char *id, sess_info *out, char *err, size_t errlen)
{
    int rc;
    session *s = sess_find_or_err(m, id, &rc, err, errlen);
    if (!s) return rc;
    pthread_mutex_lock(&s->mu);
    sess_info_fill_locked(s, out);
    pthread_mutex_unlock(&s->mu);
    sess_unref(s);
    return SESS_OK;
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = text_dup(v);
}

int sess_configure(sess_mgr *m, const Comfyd__V1__ConfigureSessionRequest *req, sess_info *out,
                   char *err, size_t errlen)
{
    int rc;
    if (sess_shutting_down(m, err, errlen)) return SESS_ESHUTDOWN;
    session *s = sess_find_or_err(m, req->session_id, &rc, err, errlen);
    if (!s) return rc;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if ((rc = (cond)) != SESS_OK) goto done_unref;                                             \
    } while (0)
    if (req->title)
        CHECK(sess_check_text("title", req->title->value, SESS_MAX_TITLE, 1, err, errlen));
    if (req->provider) CHECK(sess_check_provider(req->provider->value, err, errlen));
    if (req->model)
        CHECK(sess_check_text("model", req->model->value, SESS_MAX_SHORT, 1, err, errlen));
    if (req->base_url) CHECK(sess_check_base_url(req->base_url->value, err, errlen));
    if (req->system_prompt)
        CHECK(sess_check_text("system_prompt", req->system_prompt->value, SESS_MAX_SYSTEM_PROMPT, 1,
                              err, errlen));
    if (req->api_key)
        CHECK(sess_check_text("api_key", req->api_key->value, SESS_MAX_API_KEY, 1, err, errlen));
    if (req->active_skills)
        CHECK(sess_check_skills(m, req->active_skills->names, req->active_skills->n_names, err,
                                errlen));
    if (req->token_delay_ms) CHECK(sess_check_delay(req->token_delay_ms->value, err, errlen));
    if (req->vision) CHECK(sess_check_vision(req->vision->value, err, errlen));
    if (req->context_window) CHECK(sess_check_window(req->context_window->value, err, errlen));
#undef CHECK

    pthread_mutex_lock(&s->mu);
    if (s->deleted) {
        pthread_mutex_unlock(&s->mu);
        sess_seterr(err, errlen, "session %s not found", req->session_id);
        rc = SESS_NOT_FOUND;
        goto done_unref;
    }
    store_session next;
    sess_meta_copy(&next, &s->meta);
    if (req->title) set_str(&next.title, req->title->value);
    if (req->provider)
        set_str(&next.provider, *req->provider->value ? req->provider->value : "echo");
    if (req->model) set_str(&next.model, req->model->value);
    if (req->base_url) set_str(&next.base_url, req->base_url->value);
    if (req->system_prompt) set_str(&next.system_prompt, req->system_prompt->value);
    if (req->token_delay_ms) next.token_delay_ms = req->token_delay_ms->value;
    if (req->vision) next.vision = vision_mode_parse(req->vision->value);
    if (req->context_window) next.context_window = req->context_window->value;
    if (req->archived) next.archived = req->archived->value != 0;
    if (req->active_skills) {
        for (size_t i = 0; i < next.n_skills; i++)
            free(next.skills[i]);
        free(next.skills);
        next.n_skills = req->active_skills->n_names;
        next.skills = next.n_skills ? calloc(next.n_skills, sizeof(char *)) : NULL;
        for (size_t i = 0; i < next.n_skills; i++)
            next.skills[i] = text_dup(req->active_skills->names[i]);
    }
    next.updated_ms = text_now_ms();
    /* A key is bound to the provider and base URL it was given with: it
     * never follows a change of either, or a configure of base_url alone
     * would send the stored key to any host (the next turn's
     * Authorization header). Without a new key in this request the stored
     * one is dropped, and the answer says so. The old key goes first, in
     * its own commit: a crash between the writes then leaves no key, never
     * the old key beside the new host. */
    int rebind =
        strcmp(next.provider ? next.provider : "", s->meta.provider ? s->meta.provider : "") ||
        strcmp(next.base_url ? next.base_url : "", s->meta.base_url ? s->meta.base_url : "");
    int cleared = rebind && s->meta.api_key_set && !(req->api_key && *req->api_key->value);
    rc = rebind && s->meta.api_key_set ? store_session_set_api_key(m->st, s->meta.id, NULL)
                                       : STORE_OK;
    if (rc == STORE_OK) rc = store_session_update(m->st, &next);
    if (rc == STORE_OK && req->api_key)
        rc = store_session_set_api_key(m->st, s->meta.id,
                                       *req->api_key->value ? req->api_key->value : NULL);
    if (rc != STORE_OK) {
        pthread_mutex_unlock(&s->mu);
        store_session_clear(&next);
        sess_seterr(err, errlen, "cannot store the configuration: %s", store_strerror(rc));
        rc = sess_store_io_err(rc);
        goto done_unref;
    }
    if (req->api_key)
        next.api_key_set = *req->api_key->value != 0;
    else if (rebind)
        next.api_key_set = 0;
    char notice[SESS_NOTICE_MAX] = "";
    if (cleared) {
        const char *what =
            strcmp(next.provider ? next.provider : "", s->meta.provider ? s->meta.provider : "")
                ? (strcmp(next.base_url ? next.base_url : "",
                          s->meta.base_url ? s->meta.base_url : "")
                       ? "provider and base_url"
                       : "provider")
                : "base_url";
        snprintf(notice, sizeof notice,
                 "the stored API key was removed because %s changed without a new api_key; a key "
                 "is only sent to the provider and base URL it was given with: set api_key again",
                 what);
    }
    store_session_clear(&s->meta);
    s->meta = next;

    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    Comfyd__V1__ConfigUpdated cu = COMFYD__V1__CONFIG_UPDATED__INIT;
    sess_info tmp = {.meta = s->meta};
    Comfyd__V1__Session spb;
    Comfyd__V1__SessionConfig cpb;
    Comfyd__V1__Usage upb;
    sess_info_to_pb(&tmp, &spb, &cpb, &upb);
    cu.config = &cpb;
    cu.title = s->meta.title;
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_CONFIG_UPDATED;
    ev.config_updated = &cu;
    sess_publish_locked(s, &ev);
    if (cleared)
        sess_publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_WARN, 0, NULL, "session", "%s",
                                notice);
    sess_info_fill_locked(s, out);
    out->api_key_cleared = cleared;
    memcpy(out->notice, notice, sizeof notice);
    pthread_mutex_unlock(&s->mu);
    /* Never log the key itself, only that it changed. */
    LOG_I(MOD, "session %s configured%s", s->meta.id,
          req->api_key ? " (api key changed)"
          : cleared    ? " (api key removed: rebound)"
                       : "");
    rc = SESS_OK;
done_unref:
    sess_unref(s);
    return rc;
}

int sess_delete(sess_mgr *m, const char *id, char *err, size_t errlen)
{
    int rc;
    if ((rc = sess_check_session_id(id, err, errlen)) != SESS_OK) return rc;
    if (m->lease) {
        /* Made on another core: load it here first. */
        session *t = sess_acquire(m, id);
        if (t) sess_unref(t);
    }
    pthread_mutex_lock(&m->mu);
    session *s = sess_map_find_locked(m, id);
    if (!s) {
        pthread_mutex_unlock(&m->mu);
        sess_seterr(err, errlen, "session %s not found", id);
        return SESS_NOT_FOUND;
    }
    rc = store_session_delete(m->st, id);
    if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
        pthread_mutex_unlock(&m->mu);
        sess_seterr(err, errlen, "cannot delete the session: %s", store_strerror(rc));
        return sess_store_io_err(rc);
    }
    sess_map_remove_locked(m, s);
    pthread_mutex_unlock(&m->mu);

    pthread_mutex_lock(&s->mu);
    s->deleted = 1;
    if (s->cur) atomic_store(&s->cur->cancel, 1);
    sess_detach_runner_locked(s);
    while (s->subs) {
        sub *u = s->subs;
        s->subs = u->next;
        u->ops->end(u->ud, 5 /* NOT_FOUND */, "session deleted");
        sess_sub_drop(u);
    }
    pthread_mutex_unlock(&s->mu);
    LOG_I(MOD, "session %s deleted", id);
    sess_unref(s); /* the map's reference; a running turn holds its own */
    return SESS_OK;
}

/* An untitled session is named after its first message: its first line,
 * cut at a word boundary (the user can rename it). Called with s->mu. */
static void title_from_first_locked(session *s, const char *content)
{
    char t[SESS_AUTO_TITLE + 8];
    size_t len = 0;
    const char *p = content;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    while (p[len] && p[len] != '\n' && p[len] != '\r' && len < SESS_AUTO_TITLE)
        len++;
    if (p[len] && p[len] != '\n' && p[len] != '\r') { /* cut: back to a word boundary */
        size_t w = len;
        while (w > SESS_AUTO_TITLE / 2 && p[w] != ' ')
            w--;
        if (p[w] == ' ') len = w;
        while (len > 0 && ((unsigned char)p[len] & 0xC0) == 0x80)
            len--;
    }
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    if (len == 0) return;
    memcpy(t, p, len);
    t[len] = '\0';
    if (p[len] && p[len] != '\n' && p[len] != '\r') strcat(t, "…");
    store_session next;
    sess_meta_copy(&next, &s->meta);
    set_str(&next.title, t);
    if (store_session_update(s->m->st, &next) != STORE_OK) {
        store_session_clear(&next);
        return; /* an untitled session is no failure */
    }
    store_session_clear(&s->meta);
    s->meta = next;
    Comfyd__V1__SessionEvent ev = COMFYD__V1__SESSION_EVENT__INIT;
    Comfyd__V1__ConfigUpdated cu = COMFYD__V1__CONFIG_UPDATED__INIT;
    sess_info tmp = {.meta = s->meta, .window = sess_window(s->m, &s->meta)};
    Comfyd__V1__Session spb;
    Comfyd__V1__SessionConfig cpb;
    Comfyd__V1__Usage upb;
    sess_info_to_pb(&tmp, &spb, &cpb, &upb);
    cu.config = &cpb;
    cu.title = s->meta.title;
    ev.kind_case = COMFYD__V1__SESSION_EVENT__KIND_CONFIG_UPDATED;
    ev.config_updated = &cu;
    sess_publish_locked(s, &ev);
}

void sess_send_result_clear(sess_send_result *r)
{
    if (!r) return;
    store_message_clear(&r->message);
    memset(r, 0, sizeof *r);
}

void sess_mgr_set_output(sess_mgr *m, sess_output_fn fn, void *ud)
{
    pthread_mutex_lock(&m->mu);
    m->output = fn;
    m->output_ud = ud;
    pthread_mutex_unlock(&m->mu);
}

static int blob_to_sess(int rc)
{
    switch (rc) {
    case BLOB_OK:
        return SESS_OK;
    case BLOB_ETOOBIG:
        return SESS_EFULL;
    case BLOB_ETYPE:
    case BLOB_EINVAL:
        return SESS_EINVAL;
    case BLOB_ENOTFOUND:
        return SESS_NOT_FOUND;
    case BLOB_ENOMEM:
        return SESS_ENOMEM;
    default:
        return SESS_EIO;
    }
}

static int check_att_name(const char *name, char *err, size_t errlen)
{
    size_t len = name ? strlen(name) : 0;
    if (len > BLOB_MAX_NAME) {
        sess_seterr(err, errlen, "an attachment name has %zu bytes; the limit BLOB_MAX_NAME is %d",
                    len, BLOB_MAX_NAME);
        return SESS_EINVAL;
    }
    if (len && (!text_utf8_valid(name, len) || strpbrk(name, "\r\n"))) {
        sess_seterr(err, errlen, "an attachment name must be one line of UTF-8");
        return SESS_EINVAL;
    }
    return SESS_OK;
}

static void info_to_att(const blob_info *bi, const char *name, store_attachment *a)
{
    memset(a, 0, sizeof *a);
    memcpy(a->sha256, bi->sha256, sizeof a->sha256);
    snprintf(a->mime, sizeof a->mime, "%s", bi->mime);
    a->name = text_dup(name ? name : "");
    a->size = bi->size;
    a->width = bi->width;
    a->height = bi->height;
}

int sess_upload(sess_mgr *m, const void *data, size_t len, const char *mime, const char *name,
                store_attachment *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!m->blobs) {
        sess_seterr(err, errlen, "attachments are not enabled in this service");
        return SESS_EINVAL;
    }
    int rc = check_att_name(name, err, errlen);
    if (rc != SESS_OK) return rc;
    blob_info bi;
    rc = blob_to_sess(blobstore_put(m->blobs, data, len, mime, &bi, err, errlen));
    if (rc != SESS_OK) return rc;
    info_to_att(&bi, name, out);
    return SESS_OK;
}

/* Turns the request's attachments into stored references: inline bytes
 * and run outputs are stored first, stored hashes are checked and touched
 * (so GC keeps them while the reference is being written). On error
 * nothing is left in atts. */
static int resolve_attachments(sess_mgr *m, const Comfyd__V1__SendMessageRequest *req,
                               store_attachment *atts, size_t *n_out, char *err, size_t errlen)
{
    *n_out = 0;
    if (req->n_attachments > BLOB_MAX_PER_MESSAGE) {
        sess_seterr(err, errlen,
                    "the message has %zu attachments; the limit BLOB_MAX_PER_MESSAGE is %d",
                    req->n_attachments, BLOB_MAX_PER_MESSAGE);
        return SESS_EFULL;
    }
    if (!m->blobs) {
        sess_seterr(err, errlen, "attachments are not enabled in this service");
        return SESS_EINVAL;
    }
    uint64_t total = 0;
    int rc = SESS_OK;
    size_t n = 0;
    for (size_t i = 0; i < req->n_attachments && rc == SESS_OK; i++) {
        const Comfyd__V1__Attachment *a = req->attachments[i];
        int has_hash = a->sha256 && *a->sha256, has_data = a->data.len > 0,
            has_out = a->run_output != NULL;
        if (has_hash + has_data + has_out != 1) {
            sess_seterr(err, errlen,
                        "attachments[%zu]: give exactly one of sha256, data or run_output", i);
            rc = SESS_EINVAL;
            break;
        }
        if ((rc = check_att_name(a->name, err, errlen)) != SESS_OK) break;
        blob_info bi;
        char berr[256] = "";
        if (has_data) {
            rc = blob_to_sess(blobstore_put(m->blobs, a->data.data, a->data.len, a->mime_type, &bi,
                                            berr, sizeof berr));
        } else if (has_out) {
            pthread_mutex_lock(&m->mu);
            sess_output_fn fn = m->output;
            void *ud = m->output_ud;
            pthread_mutex_unlock(&m->mu);
            void *d = NULL;
            size_t len = 0;
            const Comfyd__V1__RunOutputRef *o = a->run_output;
            if (!fn) {
                snprintf(berr, sizeof berr, "run outputs cannot be fetched in this service");
                rc = SESS_EINVAL;
            } else {
                rc = fn(ud, o->prompt_id ? o->prompt_id : "", o->node_id ? o->node_id : "",
                        o->index, &d, &len, berr, sizeof berr);
            }
            if (rc == SESS_OK)
                rc = blob_to_sess(blobstore_put(m->blobs, d, len, NULL, &bi, berr, sizeof berr));
            free(d);
        } else if (!blob_hash_ok(a->sha256)) {
            snprintf(berr, sizeof berr, "sha256 must be 64 lower-case hex digits");
            rc = SESS_EINVAL;
        } else {
            int b = blobstore_touch(m->blobs, a->sha256);
            if (b == BLOB_OK) b = blobstore_stat(m->blobs, a->sha256, &bi);
            if (b == BLOB_ENOTFOUND)
                snprintf(berr, sizeof berr, "no uploaded attachment has sha256 %s", a->sha256);
            rc = blob_to_sess(b);
            if (rc == SESS_NOT_FOUND) rc = SESS_EINVAL;
            /* A text keeps the text type it was declared with. */
            char want[BLOB_MIME_MAX];
            snprintf(want, sizeof want, "%s", a->mime_type ? a->mime_type : "");
            if (rc == SESS_OK && !bi.width &&
                (!strcmp(want, "text/markdown") || !strcmp(want, "application/json")))
                snprintf(bi.mime, sizeof bi.mime, "%s", want);
        }
        if (rc != SESS_OK) {
            sess_seterr(err, errlen, "attachments[%zu]: %s", i,
                        berr[0] ? berr : "cannot be stored");
            break;
        }
        total += bi.size;
        if (total > BLOB_MAX_TOTAL_PER_MESSAGE) {
            sess_seterr(
                err, errlen,
                "the attachments have more than %u bytes in all (BLOB_MAX_TOTAL_PER_MESSAGE)",
                BLOB_MAX_TOTAL_PER_MESSAGE);
            rc = SESS_EFULL;
            break;
        }
        info_to_att(&bi, a->name, &atts[n++]);
    }
    if (rc != SESS_OK) {
        for (size_t i = 0; i < n; i++)
            free(atts[i].name);
        return rc;
    }
    *n_out = n;
    return SESS_OK;
}

int sess_attachment_get(sess_mgr *m, const char *sha256, store_attachment *info, void **data,
                        size_t *len, char *err, size_t errlen)
{
    memset(info, 0, sizeof *info);
    *data = NULL;
    *len = 0;
    if (!m->blobs) {
        sess_seterr(err, errlen, "attachments are not enabled in this service");
        return SESS_EINVAL;
    }
    if (!blob_hash_ok(sha256)) {
        sess_seterr(err, errlen, "sha256 must be 64 lower-case hex digits");
        return SESS_EINVAL;
    }
    int rc = blobstore_get(m->blobs, sha256, BLOB_MAX_BYTES, data, len);
    blob_info bi;
    char e[8];
    if (rc == BLOB_OK) rc = blob_check(*data, *len, NULL, &bi, e, sizeof e) ? BLOB_EIO : BLOB_OK;
    if (rc != BLOB_OK) {
        free(*data);
        *data = NULL;
        *len = 0;
        if (rc == BLOB_ENOTFOUND)
            sess_seterr(err, errlen, "no attachment has sha256 %s", sha256);
        else
            sess_seterr(err, errlen, "the attachment cannot be read");
        return rc == BLOB_ENOTFOUND ? SESS_NOT_FOUND : SESS_EIO;
    }
    memcpy(bi.sha256, sha256, sizeof bi.sha256);
    info_to_att(&bi, "", info);
    return SESS_OK;
}

long sess_gc_blobs(sess_mgr *m, int64_t ttl_ms)
{
    if (!m->blobs) return 0;
    char **keep = NULL;
    size_t n = 0;
    if (store_attachment_hashes(m->st, &keep, &n) != STORE_OK) return -1;
    long r = blobstore_gc(m->blobs, (const char *const *)keep, n, ttl_ms);
    for (size_t i = 0; i < n; i++)
        free(keep[i]);
    free(keep);
    return r;
}

int sess_send(sess_mgr *m, const Comfyd__V1__SendMessageRequest *req, sess_send_result *out,
              char *err, size_t errlen)
{
    int rc;
    memset(out, 0, sizeof *out);
    if (sess_shutting_down(m, err, errlen)) return SESS_ESHUTDOWN;
    if ((rc = sess_check_session_id(req->session_id, err, errlen))) return rc;
    if ((rc = sess_check_text("content", req->content, SESS_MAX_CONTENT, req->n_attachments > 0,
                              err, errlen)))
        return rc;
    if ((rc = sess_check_text("client_message_id", req->client_message_id, SESS_MAX_CLIENT_ID, 1,
                              err, errlen)))
        return rc;
    if (req->n_skills && (rc = sess_check_skills(m, req->skills, req->n_skills, err, errlen)))
        return rc;
    session *s = sess_find_or_err(m, req->session_id, &rc, err, errlen);
    if (!s) return rc;
    store_attachment atts[BLOB_MAX_PER_MESSAGE];
    size_t n_atts = 0;
    if (req->n_attachments &&
        (rc = resolve_attachments(m, req, atts, &n_atts, err, errlen)) != SESS_OK) {
        sess_unref(s);
        return rc;
    }

    pthread_mutex_lock(&s->mu);
    if (s->deleted) {
        sess_seterr(err, errlen, "session %s not found", req->session_id);
        rc = SESS_NOT_FOUND;
        goto out_unlock;
    }
    const char *cid =
        req->client_message_id && *req->client_message_id ? req->client_message_id : NULL;
    if (cid && store_message_find_client_id(m->st, s->meta.id, cid, &out->message) == STORE_OK) {
        out->duplicate = 1;
        out->queued = out->message.state == STORE_MSG_QUEUED;
        rc = SESS_OK;
        goto out_unlock;
    }
    if (s->qlen >= SESS_MAX_QUEUED) {
        sess_seterr(err, errlen,
                    "too many queued messages (%d); wait for the current turns or cancel",
                    SESS_MAX_QUEUED);
        rc = SESS_EFULL;
        goto out_unlock;
    }
    /* A message that alone exceeds the prompt budget can never be sent
     * whole: refuse it now rather than send it cut. */
    uint32_t window = sess_window(m, &s->meta);
    uint64_t need = ctx_scale(ctx_msg_tokens(strlen(req->content)), s->ratio_milli);
    if (need > ctx_prompt_budget(window)) {
        sess_seterr(err, errlen,
                    "the message is about %llu tokens, more than this session's prompt budget of "
                    "%llu (context window %u minus %u kept for the reply): shorten it or raise "
                    "context_window",
                    (unsigned long long)need, (unsigned long long)ctx_prompt_budget(window), window,
                    ctx_reply_reserve(window));
        rc = SESS_EINVAL;
        goto out_unlock;
    }
    /* Nothing ahead: the turn starts now, and the message is stored RUNNING
     * in the commit that acknowledges it, so the turn's first token waits
     * for no second commit. A crash from here on marks it interrupted at the
     * next start, never reruns it. A message that waits (a turn ahead, a
     * compaction, a service not started yet) is stored QUEUED: the runner
     * marks it when it starts, and a crash before that reruns it. */
    int busy = s->cur != NULL || s->starting;
    /* Several cores: a turn that starts now is stored RUNNING under this
     * core's lease, so the acknowledged state is the stored one (a crash
     * right after the answer interrupts it; it is not run twice); without
     * the lease (another core runs the session) it waits QUEUED. */
    int claimed = m->lease && !(s->cur || s->starting || s->qlen > 0) &&
                  lease_acquire(m->lease, s->meta.id) == LEASE_OK;
    int run_now = m->lease
                      ? claimed
                      : !busy && s->qlen == 0 && !s->compacting && atomic_load(&m->started_flag);
    store_message *msg = &out->message;
    memcpy(msg->session_id, s->meta.id, sizeof msg->session_id);
    msg->role = STORE_ROLE_USER;
    msg->content = text_dup(req->content);
    msg->state = run_now ? STORE_MSG_RUNNING : STORE_MSG_QUEUED;
    msg->created_ms = text_now_ms();
    msg->client_id = cid ? text_dup(cid) : NULL;
    rc = store_message_insert_with(m->st, msg, atts, n_atts);
    if (rc != STORE_OK && claimed) lease_release(m->lease, s->meta.id);
    if (rc != STORE_OK) {
        sess_seterr(err, errlen, "cannot store the message: %s", store_strerror(rc));
        rc = sess_store_io_err(rc);
        store_message_clear(msg); /* the caller reads out->message only on success */
        goto out_unlock;
    }
    s->meta.message_count++;
    s->meta.updated_ms = msg->created_ms;
    if (!s->meta.title || !*s->meta.title) title_from_first_locked(s, req->content);
    out->queued = busy || s->qlen > 0;
    out->queue_position = s->qlen + (busy ? 1 : 0);
    pending *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->msg_id = msg->id;
    p->content = text_dup(req->content);
    p->no_attachments = n_atts == 0;
    p->stored_running = run_now;
    p->claimed = claimed;
    if (req->n_skills) {
        p->skills = calloc(req->n_skills, sizeof(char *));
        if (!p->skills) abort();
        for (size_t i = 0; i < req->n_skills; i++)
            p->skills[i] = text_dup(req->skills[i]);
        p->n_skills = req->n_skills;
    }
    /* Not queued, the clients see it running (the store has it RUNNING or,
     * during a compaction or before the start, gets the mark when the
     * runner takes it). */
    if (!out->queued) msg->state = STORE_MSG_RUNNING;
    sess_publish_message_atts_locked(s, msg, n_atts > 0);
    sess_enqueue_locked(s, p);
    if (out->queued)
        sess_publish_status_locked(s, s->cur ? s->cur->msg_id : 0, NULL, "message queued");
    sess_start_runner_locked(s);
    rc = SESS_OK;
out_unlock:
    pthread_mutex_unlock(&s->mu);
    sess_unref(s);
    for (size_t i = 0; i < n_atts; i++)
        free(atts[i].name);
    return rc;
}

/* forward: several cores, and no turn of the session runs here: ask the
 * other cores (the one running it cancels it). */
int sess_cancel_impl(sess_mgr *m, const char *id, int clear_queue, int forward, int *cancelled,
                     uint32_t *dropped, char *err, size_t errlen)
{
    int rc;
    *cancelled = 0;
    *dropped = 0;
    session *s = sess_find_or_err(m, id, &rc, err, errlen);
    if (!s) return rc;
    pthread_mutex_lock(&s->mu);
    if (s->cur && !atomic_load(&s->cur->cancel)) {
        atomic_store(&s->cur->cancel, 1);
        *cancelled = 1;
        sess_publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_INFO, s->cur->msg_id, NULL,
                                "session", "cancel requested");
    } else if (forward && m->lease && m->cancel_fanout && !s->cur &&
               s->status == COMFYD__V1__SESSION_STATUS__SESSION_STATUS_WORKING) {
        /* The status came from another core: the turn runs there. */
        m->cancel_fanout(m->fanout_ud, s->meta.id, clear_queue);
        *cancelled = 1;
        sess_publish_log_locked(s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_INFO, 0, NULL, "session",
                                "cancel requested from the core running the turn");
    }
    if (clear_queue) {
        while (s->qhead) {
            pending *p = s->qhead;
            s->qhead = p->next;
            s->qlen--;
            store_message_finish(m->st, p->msg_id, STORE_MSG_CANCELLED, NULL, "cancelled");
            store_message msg = {0};
            /* Tell subscribers the queued message's new state. */
            memcpy(msg.session_id, s->meta.id, sizeof msg.session_id);
            msg.id = msg.turn_id = p->msg_id;
            msg.role = STORE_ROLE_USER;
            msg.content = p->content;
            msg.state = STORE_MSG_CANCELLED;
            msg.error = "cancelled";
            sess_publish_message_locked(s, &msg);
            sess_pending_free(p);
            (*dropped)++;
        }
        s->qtail = NULL;
        /* Between two turns the session was reported working for its queue
         * alone: say that it is idle now (a running turn says so itself
         * when it ends). */
        if (*dropped && !s->cur && !s->starting)
            sess_publish_status_locked(s, 0, NULL, "queue cleared");
    }
    pthread_mutex_unlock(&s->mu);
    sess_unref(s);
    return SESS_OK;
}

int sess_cancel(sess_mgr *m, const char *id, int clear_queue, int *cancelled, uint32_t *dropped,
                char *err, size_t errlen)
{
    return sess_cancel_impl(m, id, clear_queue, 1, cancelled, dropped, err, errlen);
}

/* session_context: what a turn sends the model (core/session.h): the
 * history since the newest summary within the context window (ctxwin.h),
 * compaction of older messages into a summary by the model, and the
 * attachments of the user's message as text and images. */
#include "session_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxwin.h"
#include "imgscale.h"
#include "log.h"
#include "text.h"

/* ---- context: what a turn sends, and compaction ---------------------------- */

void sess_hist_clear(hist *h)
{
    store_message_clear(&h->summary);
    store_messages_free(h->rows, h->n_rows);
    free(h->sel);
    free(h->tokens);
    memset(h, 0, sizeof *h);
}

/* Estimated tokens of a history message as the agent sends it (another
 * skill's reply gets a "[skill] " label). */
static uint64_t row_tokens(const store_message *r)
{
    size_t len = r->content ? strlen(r->content) : 0;
    if (r->role == STORE_ROLE_ASSISTANT && r->skill) len += strlen(r->skill) + 3;
    return ctx_msg_tokens(len);
}

/* Loads the summary and the messages after it, keeping those of turns
 * before before_id. */
int sess_hist_load(sess_mgr *m, const char *sid, uint64_t before_id, hist *h)
{
    memset(h, 0, sizeof *h);
    int rc = store_summary_latest(m->st, sid, &h->summary);
    if (rc == STORE_NOT_FOUND) {
        memset(&h->summary, 0, sizeof h->summary);
    } else if (rc != STORE_OK) {
        return rc;
    }
    int trunc = 0;
    rc = store_messages_after(m->st, sid, h->summary.id ? h->summary.covers_to : 0,
                              SESS_CONTEXT_LOAD, &h->rows, &h->n_rows, &trunc);
    if (rc != STORE_OK) {
        sess_hist_clear(h);
        return rc;
    }
    if (trunc)
        LOG_W(MOD, "session %s: more than %d uncompacted messages; the oldest are left out", sid,
              SESS_CONTEXT_LOAD);
    h->sel = calloc(h->n_rows ? h->n_rows : 1, sizeof *h->sel);
    h->tokens = calloc(h->n_rows ? h->n_rows : 1, sizeof *h->tokens);
    if (!h->sel || !h->tokens) {
        sess_hist_clear(h);
        return STORE_ENOMEM;
    }
    for (size_t i = 0; i < h->n_rows; i++) {
        const store_message *r = &h->rows[i];
        if (r->kind != STORE_KIND_MESSAGE || r->turn_id >= before_id) continue;
        if (r->state != STORE_MSG_DONE && r->role != STORE_ROLE_USER) continue;
        h->sel[h->n_sel] = i;
        h->tokens[h->n_sel] = row_tokens(r);
        h->n_sel++;
    }
    return STORE_OK;
}

const char *sess_role_name(store_role r)
{
    return r == STORE_ROLE_USER ? "user" : r == STORE_ROLE_ASSISTANT ? "assistant" : "system";
}

/* What a provider streamed (or a prompt being built), at most
 * PROV_MAX_CONTENT bytes. */
typedef text_buf collect;

static int collect_delta(void *ud, const char *text, size_t len)
{
    return text_buf_addn_max(ud, text, len, PROV_MAX_CONTENT) ? 1 : 0;
}

#define COMPACT_SYSTEM_PROMPT                                                                      \
    "You compact a conversation between a user and the skills of an assistant for ComfyUI "        \
    "workflows so that it can go on within a small context window. Write a summary of at most "    \
    "%llu words that keeps what the conversation needs later: the user's goals and "               \
    "preferences, decisions taken, names of models, nodes, files and settings, the state of "      \
    "the workflow on the canvas, and open questions. Plain text, no preamble."

/* Summarises rows (and the previous summary) with the session's model, in
 * chunks that each fit the prompt budget. Returns malloc'd text within
 * cap tokens, or NULL with err set. */
static char *summarise_with_model(const prov_cfg *pc, const char *prev, const store_message *rows,
                                  const size_t *sel, size_t n, uint64_t cap, uint64_t budget,
                                  const atomic_int *cancel, char *err, size_t errlen)
{
    char sys[768];
    snprintf(sys, sizeof sys, COMPACT_SYSTEM_PROMPT, (unsigned long long)(cap * 3 / 4));
    char *summary = text_dup(prev ? prev : "");
    size_t i = 0;
    while (i < n) {
        /* Room for this chunk's transcript: budget minus the instructions
         * and the summary so far. */
        uint64_t fixed = ctx_msg_tokens(strlen(sys)) + ctx_msg_tokens(strlen(summary)) + 32;
        uint64_t room = budget > fixed + 64 ? budget - fixed : 64;
        collect tr = {0};
        const char *intro = *summary ? "Summary so far:\n" : "";
        collect_delta(&tr, intro, strlen(intro));
        collect_delta(&tr, summary, strlen(summary));
        const char *mid = "\n\nConversation to add to the summary:\n";
        collect_delta(&tr, mid, strlen(mid));
        size_t taken = 0;
        while (i < n) {
            const store_message *r = &rows[sel[i]];
            char label[96];
            snprintf(label, sizeof label, "\n%s%s%.48s%s: ", sess_role_name(r->role),
                     r->skill ? " (" : "", r->skill ? r->skill : "", r->skill ? ")" : "");
            uint64_t cost = ctx_text_tokens(strlen(label) + strlen(r->content));
            if (taken && ctx_text_tokens(tr.n) + cost > room) break;
            collect_delta(&tr, label, strlen(label));
            if (ctx_text_tokens(tr.n) + cost > room) {
                /* One message larger than a chunk: its start stands for it. */
                uint64_t left =
                    room > ctx_text_tokens(tr.n) + 8 ? room - ctx_text_tokens(tr.n) - 8 : 8;
                char *cut = ctx_cut(text_dup(r->content), left);
                collect_delta(&tr, cut, strlen(cut));
                collect_delta(&tr, " [cut]", 6);
                free(cut);
            } else {
                collect_delta(&tr, r->content, strlen(r->content));
            }
            taken++;
            i++;
        }
        if (!tr.p) {
            free(summary);
            sess_seterr(err, errlen, "out of memory");
            return NULL;
        }
        prov_msg msgs[2] = {{.role = PROV_ROLE_SYSTEM, .content = sys},
                            {.role = PROV_ROLE_USER, .content = tr.p}};
        prov_request req = {
            .skill_name = "compaction",
            .messages = msgs,
            .n_messages = 2,
            .model = pc->model,
            .base_url = pc->base_url,
            .api_key = pc->api_key,
            .connect_timeout_ms = pc->connect_timeout_ms,
            .idle_timeout_ms = pc->idle_timeout_ms,
            .cancel = cancel,
        };
        collect out = {0};
        prov_sink sink = {.ud = &out, .delta = collect_delta};
        prov_reply rep = {0};
        char perr[256] = "";
        int prc = pc->prov->run(pc->prov, &req, &sink, &rep, perr, sizeof perr);
        free(tr.p);
        prov_reply_clear(&rep);
        if (prc != PROV_OK || !out.p || !*out.p) {
            free(out.p);
            free(summary);
            sess_seterr(err, errlen, "%s",
                        prc != PROV_OK ? (perr[0] ? perr : "the model call failed")
                                       : "the model returned an empty summary");
            return NULL;
        }
        free(summary);
        summary = ctx_cut(out.p, cap);
    }
    return summary;
}

/* Compacts h: the sel entries before the kept suffix become one summary
 * message (stored, published, and put in h->summary), and are dropped from
 * h->sel. keep_max bounds the messages kept. Called on the runner thread
 * (or the CompactSession caller's, with s->compacting set) without s->mu.
 * Returns the number of messages summarised (0: nothing to do) or -1 with
 * err set. */
long sess_compact_hist(session *s, const prov_cfg *pc, hist *h, uint64_t allowance, size_t keep_max,
                       uint32_t ratio, const atomic_int *cancel, uint64_t prompt_budget, char *err,
                       size_t errlen)
{
    sess_mgr *m = s->m;
    uint64_t cap = allowance / 4;
    if (cap < 32) cap = 32;
    uint64_t keep_budget = allowance > cap ? (allowance - cap) / 2 : 0;
    ctx_item *items = calloc(h->n_sel ? h->n_sel : 1, sizeof *items);
    if (!items) {
        sess_seterr(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < h->n_sel; i++) {
        items[i].tokens = ctx_scale(h->tokens[i], ratio);
        items[i].turn_start = h->rows[h->sel[i]].role == STORE_ROLE_USER;
    }
    size_t keep = ctx_select_keep(items, h->n_sel, keep_budget, keep_max);
    free(items);
    if (keep == 0) return 0;

    int64_t t0 = text_now_ms();
    pthread_mutex_lock(&s->mu);
    sess_publish_status_locked(s, 0, NULL, "compacting the earlier conversation");
    pthread_mutex_unlock(&s->mu);

    const char *prev = h->summary.id ? h->summary.content : NULL;
    char *text = NULL;
    char why[256] = "";
    int by_model = pc->prov && strcmp(pc->prov->name, "echo") != 0;
    if (by_model) {
        /* The model's own budget: what one call may send. */
        char *sum = summarise_with_model(pc, prev, h->rows, h->sel, keep, cap, prompt_budget,
                                         cancel, why, sizeof why);
        if (sum) {
            char head[256];
            snprintf(head, sizeof head,
                     "Summary of %zu earlier message%s (#%llu to #%llu), written by the model "
                     "%.80s:\n",
                     keep, keep == 1 ? "" : "s", (unsigned long long)h->rows[h->sel[0]].id,
                     (unsigned long long)h->rows[h->sel[keep - 1]].id,
                     pc->model && *pc->model ? pc->model : "(default)");
            size_t hl = strlen(head), sl = strlen(sum);
            text = malloc(hl + sl + 1);
            if (text) {
                memcpy(text, head, hl);
                memcpy(text + hl, sum, sl + 1);
                ctx_cut(text, cap);
            }
            free(sum);
        }
    }
    if (!text) {
        ctx_src *src = calloc(keep, sizeof *src);
        if (!src) {
            sess_seterr(err, errlen, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < keep; i++) {
            const store_message *r = &h->rows[h->sel[i]];
            src[i] = (ctx_src){.id = r->id,
                               .role = sess_role_name(r->role),
                               .skill = r->skill,
                               .content = r->content};
        }
        text = ctx_echo_summary(src, keep, prev, cap);
        free(src);
        if (!text) {
            sess_seterr(err, errlen, "out of memory");
            return -1;
        }
    }

    store_message sm = {0};
    memcpy(sm.session_id, s->meta.id, sizeof sm.session_id);
    sm.role = STORE_ROLE_SYSTEM;
    sm.kind = STORE_KIND_SUMMARY;
    sm.state = STORE_MSG_DONE;
    sm.content = text;
    sm.skill = NULL;
    sm.covers_to = h->rows[h->sel[keep - 1]].id;
    sm.created_ms = text_now_ms();
    pthread_mutex_lock(&s->mu);
    int rc = s->deleted ? STORE_NOT_FOUND : store_message_insert(m->st, &sm);
    if (rc != STORE_OK) {
        pthread_mutex_unlock(&s->mu);
        free(text);
        sess_seterr(err, errlen, "cannot store the summary: %s", store_strerror(rc));
        return -1;
    }
    s->meta.message_count++;
    s->meta.compacted_to = sm.covers_to;
    sess_publish_message_locked(s, &sm);
    if (by_model && why[0])
        sess_publish_log_locked(
            s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_WARN, 0, NULL, "context",
            "the model could not summarise (%s); an extract of the messages was "
            "stored as the summary instead",
            why);
    uint64_t before = 0;
    for (size_t i = 0; i < keep; i++)
        before += h->tokens[i];
    sess_publish_log_locked(
        s, COMFYD__V1__LOG_LEVEL__LOG_LEVEL_INFO, 0, NULL, "context",
        "compacted %zu messages (about %llu tokens) into a summary of about %llu "
        "tokens in %lld ms",
        keep, (unsigned long long)before, (unsigned long long)ctx_msg_tokens(strlen(text)),
        (long long)(text_now_ms() - t0));
    pthread_mutex_unlock(&s->mu);

    /* The new summary replaces the old one and the compacted entries. */
    store_message_clear(&h->summary);
    h->summary = sm; /* takes text */
    memmove(h->sel, h->sel + keep, (h->n_sel - keep) * sizeof *h->sel);
    memmove(h->tokens, h->tokens + keep, (h->n_sel - keep) * sizeof *h->tokens);
    h->n_sel -= keep;
    return (long)keep;
}

uint64_t sess_hist_tokens(const hist *h, uint32_t ratio)
{
    uint64_t sum =
        h->summary.id ? ctx_scale(ctx_text_tokens(strlen(h->summary.content)) + 16, ratio) : 0;
    for (size_t i = 0; i < h->n_sel; i++)
        sum += ctx_scale(h->tokens[i], ratio);
    return sum;
}

void sess_free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void sess_turn_att_clear(turn_att *ta)
{
    free(ta->text);
    for (size_t i = 0; i < ta->n_images; i++) {
        free(ta->bytes[i]);
        free(ta->labels[i]);
    }
    memset(ta, 0, sizeof *ta);
}

/* Reads the turn's attachments. Images go as image parts when vision is
 * on, a PNG scaled down to SESS_IMAGE_MAX_SIDE first; otherwise, or when
 * an image cannot be read or stays over PROV_MAX_IMAGE_BYTES, the model is
 * told what it is in text. Texts go to every model, each cut to
 * SESS_MAX_ATTACH_TEXT bytes. */
void sess_turn_attachments(sess_mgr *m, uint64_t msg_id, const char *user_text, int vision,
                           turn_att *ta)
{
    memset(ta, 0, sizeof *ta);
    store_attachment *a = NULL;
    size_t n = 0;
    if (!m->blobs || store_attachments_load(m->st, msg_id, &a, &n) != STORE_OK || !n) return;
    text_buf b = {0};
    text_buf_add(&b, user_text ? user_text : "");
    for (size_t i = 0; i < n; i++) {
        const char *name = a[i].name && *a[i].name ? a[i].name : "(unnamed)";
        void *d = NULL;
        size_t len = 0;
        int is_img = a[i].width > 0;
        int got = blobstore_get(m->blobs, a[i].sha256, BLOB_MAX_BYTES, &d, &len) == BLOB_OK;
        if (is_img && vision && got && ta->n_images < BLOB_MAX_PER_MESSAGE) {
            uint32_t w = a[i].width, h = a[i].height;
            if (!strcmp(a[i].mime, "image/png")) {
                void *small = NULL;
                size_t slen = 0;
                char ierr[128];
                if (imgscale_png(d, len, SESS_IMAGE_MAX_SIDE, &small, &slen, &w, &h, ierr,
                                 sizeof ierr) == 1) {
                    free(d);
                    d = small;
                    len = slen;
                }
            }
            if (len <= PROV_MAX_IMAGE_BYTES) {
                size_t k = ta->n_images++;
                ta->bytes[k] = d;
                snprintf(ta->mimes[k], sizeof ta->mimes[k], "%s", a[i].mime);
                text_buf lb = {0};
                text_buf_addf(&lb, "%s (%ux%u)", name, a[i].width, a[i].height);
                ta->labels[k] = lb.p;
                ta->images[k] = (prov_image){
                    .mime = ta->mimes[k], .data = ta->bytes[k], .len = len, .label = ta->labels[k]};
                text_buf_addf(&b, "\n\n[attached image %s: %s, %ux%u pixels, shown below]", name,
                              a[i].mime, a[i].width, a[i].height);
                continue;
            }
        }
        if (is_img) {
            text_buf_addf(
                &b, "\n\n[attached image %s: %s, %ux%u pixels, %" PRIu64 " bytes; not shown: %s]",
                name, a[i].mime, a[i].width, a[i].height, a[i].size,
                !got     ? "the file is missing"
                : vision ? "too large"
                         : "this model does not take images");
        } else if (!got) {
            text_buf_addf(&b, "\n\n[attached file %s: %s; the file is missing]", name, a[i].mime);
        } else {
            size_t keep = text_utf8_cut(d, len, SESS_MAX_ATTACH_TEXT);
            text_buf_addf(&b, "\n\n[attached file %s: %s, %" PRIu64 " bytes%s]\n", name, a[i].mime,
                          a[i].size, keep < len ? ", cut" : "");
            text_buf_addn(&b, d, keep);
        }
        free(d);
    }
    store_attachments_free(a, n);
    if (b.oom) {
        free(b.p);
        return;
    }
    ta->text = b.p;
}

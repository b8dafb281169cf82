/* session_memory: a session's memory (core/session.h): CompactSession,
 * search over messages and memories (ftsq.h), remember, the export as
 * Markdown or JSON, and the remember/recall tools every turn offers. */
#include "session_int.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "ctxwin.h"
#include "ftsq.h"
#include "providers.h"
#include "text.h"

/* ---- memory: compact, search, remember, export ---------------------------- */

int sess_compact(sess_mgr *m, const char *id, uint32_t *compacted, store_message *summary,
                 char *notice, size_t noticelen, char *err, size_t errlen)
{
    int rc;
    *compacted = 0;
    if (summary) memset(summary, 0, sizeof *summary);
    if (notice && noticelen) notice[0] = '\0';
    if (sess_shutting_down(m, err, errlen)) return SESS_ESHUTDOWN;
    session *s = sess_find_or_err(m, id, &rc, err, errlen);
    if (!s) return rc;
    pthread_mutex_lock(&s->mu);
    if (s->deleted) {
        pthread_mutex_unlock(&s->mu);
        sess_unref(s);
        sess_seterr(err, errlen, "session %s not found", id);
        return SESS_NOT_FOUND;
    }
    if (s->cur || s->starting || s->compacting || s->qhead) {
        pthread_mutex_unlock(&s->mu);
        sess_unref(s);
        sess_seterr(err, errlen, "session %s is running a turn; compact it when it is idle", id);
        return SESS_EBUSY;
    }
    s->compacting = 1;
    prov_cfg pc = {0};
    pc.provider_name = text_dup(s->meta.provider);
    pc.model = text_dup(s->meta.model ? s->meta.model : "");
    pc.base_url = text_dup(s->meta.base_url ? s->meta.base_url : "");
    pc.prov = provider_find(pc.provider_name);
    pc.connect_timeout_ms = m->llm_connect_timeout_ms;
    pc.idle_timeout_ms = m->llm_idle_timeout_ms;
    store_session_get_api_key(m->st, s->meta.id, &pc.api_key);
    uint32_t window = sess_window(m, &s->meta);
    uint32_t ratio = s->ratio_milli;
    pthread_mutex_unlock(&s->mu);

    /* Everything but the newest turn goes into the summary; the history
     * may use what a turn's would (the budget less a typical fixed part,
     * taken as a quarter). */
    hist h;
    uint64_t budget = ctx_prompt_budget(window);
    rc = sess_hist_load(m, s->meta.id, UINT64_MAX, &h);
    if (rc != STORE_OK) {
        sess_seterr(err, errlen, "cannot read the history: %s", store_strerror(rc));
        rc = SESS_EIO;
    } else {
        size_t last_turn = 0;
        for (size_t i = 0; i < h.n_sel; i++)
            if (h.rows[h.sel[i]].role == STORE_ROLE_USER) last_turn = i;
        size_t keep_max = h.n_sel - last_turn;
        long k = h.n_sel > keep_max ? sess_compact_hist(s, &pc, &h, budget - budget / 4, keep_max,
                                                        ratio, NULL, budget, err, errlen)
                                    : 0;
        if (k < 0) {
            rc = SESS_EIO;
        } else {
            rc = SESS_OK;
            *compacted = (uint32_t)k;
            if (k > 0 && summary) {
                *summary = h.summary;
                memset(&h.summary, 0, sizeof h.summary);
            }
            if (notice && noticelen)
                snprintf(notice, noticelen,
                         k ? "compacted %ld earlier messages into a summary; the originals stay "
                             "stored"
                           : "nothing to compact: only the newest turn is after the last summary",
                         k);
        }
        sess_hist_clear(&h);
    }
    if (pc.api_key) {
        memset(pc.api_key, 0, strlen(pc.api_key));
        free(pc.api_key);
    }
    free(pc.provider_name);
    free(pc.model);
    free(pc.base_url);
    pthread_mutex_lock(&s->mu);
    s->compacting = 0;
    if (s->qhead) sess_start_runner_locked(s); /* messages sent meanwhile */
    if (*compacted) sess_publish_status_locked(s, 0, NULL, "compacted");
    pthread_mutex_unlock(&s->mu);
    sess_unref(s);
    return rc;
}

int sess_search(sess_mgr *m, const char *query, const char *session_id, unsigned kind_mask,
                size_t limit, store_hit **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    int rc;
    if (session_id && *session_id && (rc = sess_check_session_id(session_id, err, errlen)))
        return rc;
    if (limit == 0) limit = SESS_SEARCH_DEFAULT;
    if (limit > STORE_SEARCH_MAX) {
        sess_seterr(err, errlen, "limit is too large (at most %d)", STORE_SEARCH_MAX);
        return SESS_EINVAL;
    }
    char *match = NULL;
    char qerr[160] = "";
    if (ftsq_build(query, &match, qerr, sizeof qerr) != 0) {
        sess_seterr(err, errlen, "query: %s", qerr);
        return SESS_EINVAL;
    }
    /* With embeddings, the full-text search gives the candidates (as many
     * as a search may return) that the hybrid ranking re-orders and adds
     * to (embedder.h). */
    rc = store_search(m->st, match, session_id && *session_id ? session_id : NULL,
                      kind_mask ? kind_mask : STORE_HIT_ALL, m->emb ? STORE_SEARCH_MAX : limit, out,
                      n);
    free(match);
    if (rc == STORE_EINVAL) {
        /* ftsq only builds valid expressions; say so without SQLite's words. */
        sess_seterr(err, errlen, "query: the search expression was not accepted");
        return SESS_EINVAL;
    }
    if (rc != STORE_OK) {
        sess_seterr(err, errlen, "search failed: %s", store_strerror(rc));
        return sess_from_store(rc);
    }
    if (m->emb)
        embedder_rerank(m->emb, query, session_id, kind_mask ? kind_mask : STORE_HIT_ALL, limit,
                        out, n);
    return SESS_OK;
}

void sess_mgr_set_embedder(sess_mgr *m, embedder *e)
{
    m->emb = e;
}

int sess_remember(sess_mgr *m, const char *session_id, int global, const char *content,
                  uint64_t *id, char *err, size_t errlen)
{
    int rc;
    if (id) *id = 0;
    if ((rc = sess_check_text("content", content, STORE_MEMORY_MAX, 0, err, errlen))) return rc;
    if (!global && (rc = sess_check_session_id(session_id, err, errlen))) return rc;
    rc = store_memory_add(m->st, global ? NULL : session_id, content, id);
    if (rc == STORE_NOT_FOUND) {
        sess_seterr(err, errlen, "session %s not found", session_id);
        return SESS_NOT_FOUND;
    }
    if (rc != STORE_OK) {
        sess_seterr(err, errlen, "cannot store the memory: %s", store_strerror(rc));
        return sess_from_store(rc);
    }
    return SESS_OK;
}

/* A JSON string: quotes, escapes, control characters as \u00XX. */
static void xjson(text_buf *b, const char *s)
{
    text_buf_addn(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            text_buf_addn(b, e, 2);
        } else if (*p < 0x20) {
            text_buf_addf(b, "\\u%04x", *p);
        } else {
            text_buf_addn(b, (const char *)p, 1);
        }
    }
    text_buf_addn(b, "\"", 1);
}

static const char *state_name(store_msg_state st)
{
    switch (st) {
    case STORE_MSG_QUEUED:
        return "queued";
    case STORE_MSG_RUNNING:
        return "running";
    case STORE_MSG_DONE:
        return "done";
    case STORE_MSG_CANCELLED:
        return "cancelled";
    case STORE_MSG_FAILED:
        return "failed";
    case STORE_MSG_INTERRUPTED:
        return "interrupted";
    }
    return "unknown";
}

int sess_export(sess_mgr *m, const char *id, int format, char **out, char *err, size_t errlen)
{
    *out = NULL;
    sess_info info;
    int rc = sess_get(m, id, &info, err, errlen);
    if (rc != SESS_OK) return rc;
    store_message *rows = NULL;
    size_t n = 0;
    int trunc = 0;
    rc = store_messages_load(m->st, id, SIZE_MAX / 2, &rows, &n, &trunc);
    if (rc != STORE_OK) {
        sess_info_clear(&info);
        sess_seterr(err, errlen, "cannot read the history: %s", store_strerror(rc));
        return sess_from_store(rc);
    }
    const store_session *meta = &info.meta;
    text_buf b = {0};
    if (format == 2) {
        text_buf_add(&b, "{\"id\":");
        xjson(&b, meta->id);
        text_buf_add(&b, ",\"title\":");
        xjson(&b, meta->title);
        text_buf_add(&b, ",\"provider\":");
        xjson(&b, meta->provider);
        text_buf_add(&b, ",\"model\":");
        xjson(&b, meta->model);
        text_buf_addf(&b, ",\"created_at_ms\":%lld,\"updated_at_ms\":%lld,\"archived\":%s",
                      (long long)meta->created_ms, (long long)meta->updated_ms,
                      meta->archived ? "true" : "false");
        text_buf_add(&b, ",\"messages\":[");
        for (size_t i = 0; i < n; i++) {
            const store_message *r = &rows[i];
            text_buf_addf(&b, "%s{\"id\":%llu,\"role\":\"%s\",\"kind\":\"%s\",\"state\":\"%s\"",
                          i ? "," : "", (unsigned long long)r->id, sess_role_name(r->role),
                          r->kind == STORE_KIND_SUMMARY ? "summary" : "message",
                          state_name(r->state));
            text_buf_addf(&b, ",\"turn_id\":%llu,\"created_at_ms\":%lld",
                          (unsigned long long)r->turn_id, (long long)r->created_ms);
            if (r->kind == STORE_KIND_SUMMARY)
                text_buf_addf(&b, ",\"covers_to\":%llu", (unsigned long long)r->covers_to);
            if (r->skill) {
                text_buf_add(&b, ",\"skill\":");
                xjson(&b, r->skill);
            }
            if (r->error) {
                text_buf_add(&b, ",\"error\":");
                xjson(&b, r->error);
            }
            text_buf_add(&b, ",\"content\":");
            xjson(&b, r->content);
            text_buf_add(&b, "}");
        }
        text_buf_add(&b, "]}\n");
    } else {
        text_buf_add(&b, "# ");
        text_buf_add(&b, meta->title && *meta->title ? meta->title : "Untitled session");
        text_buf_addf(&b, "\n\nSession `%s` · provider %s%s%s · %zu messages\n", meta->id,
                      meta->provider, meta->model && *meta->model ? " · model " : "",
                      meta->model ? meta->model : "", n);
        for (size_t i = 0; i < n; i++) {
            const store_message *r = &rows[i];
            if (r->kind == STORE_KIND_SUMMARY) {
                text_buf_addf(&b,
                              "\n---\n\n> **Summary** (stands for the messages up to #%llu)\n>\n",
                              (unsigned long long)r->covers_to);
                /* Quote every line of the summary. */
                const char *p = r->content;
                while (*p) {
                    const char *nl = strchr(p, '\n');
                    size_t len = nl ? (size_t)(nl - p) : strlen(p);
                    text_buf_add(&b, "> ");
                    text_buf_addn(&b, p, len);
                    text_buf_add(&b, "\n");
                    p += len + (nl ? 1 : 0);
                }
                text_buf_add(&b, "\n---\n");
                continue;
            }
            text_buf_addf(&b, "\n## %s", r->role == STORE_ROLE_USER ? "User" : "Assistant");
            if (r->skill && *r->skill) text_buf_addf(&b, " (%s)", r->skill);
            text_buf_addf(&b, " · #%llu", (unsigned long long)r->id);
            if (r->state != STORE_MSG_DONE) text_buf_addf(&b, " · %s", state_name(r->state));
            text_buf_add(&b, "\n\n");
            text_buf_add(&b, r->content);
            if (r->error && *r->error) {
                text_buf_add(&b, "\n\n*Error: ");
                text_buf_add(&b, r->error);
                text_buf_add(&b, "*");
            }
            text_buf_add(&b, "\n");
        }
    }
    store_messages_free(rows, n);
    sess_info_clear(&info);
    if (b.oom) {
        free(b.p);
        return SESS_ENOMEM;
    }
    *out = b.p;
    return SESS_OK;
}

/* ---- memory tools: remember and recall ------------------------------------ */

#define RECALL_DEFAULT 5 /* memories a recall returns unless asked */
#define RECALL_MAX 20    /* a model needs a few facts, not a dump */

/* The arguments object (agent.h checked it is one); NULL on a parse error. */
static yajl_val args_tree(const char *json)
{
    char e[64];
    yajl_val v = yajl_tree_parse(json, e, sizeof e);
    if (v && !YAJL_IS_OBJECT(v)) {
        yajl_tree_free(v);
        return NULL;
    }
    return v;
}

static const char *arg_str(yajl_val obj, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
    return v ? YAJL_GET_STRING(v) : NULL;
}

static char *tool_error(const char *msg)
{
    text_buf b = {0};
    text_buf_add(&b, "{\"error\":");
    xjson(&b, msg);
    text_buf_add(&b, "}");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* scope: NULL or "" gives dflt; 0 session, 1 global, 2 all; -1 unknown. */
static int parse_scope(const char *v, int dflt, int allow_all)
{
    if (!v || !*v) return dflt;
    if (!strcmp(v, "session")) return 0;
    if (!strcmp(v, "global")) return 1;
    if (allow_all && !strcmp(v, "all")) return 2;
    return -1;
}

static int tool_remember(void *ud, const agent_call_ctx *ctx, const char *args_json, char **result)
{
    sess_mgr *m = ud;
    yajl_val a = args_tree(args_json);
    const char *text = a ? arg_str(a, "content") : NULL;
    int scope = parse_scope(a ? arg_str(a, "scope") : NULL, 0, 0);
    int rc = AGENT_TOOL_ERROR;
    if (!text || !*text) {
        *result = tool_error("content: the fact to remember, a non-empty string");
    } else if (scope < 0) {
        *result = tool_error("scope: \"session\" (the default) or \"global\"");
    } else if (scope == 0 && (!ctx->session_id || !*ctx->session_id)) {
        *result = tool_error("scope: there is no session here; use \"global\"");
    } else {
        char err[256] = "";
        uint64_t id = 0;
        if (sess_remember(m, ctx->session_id, scope == 1, text, &id, err, sizeof err) != SESS_OK) {
            *result = tool_error(err);
        } else {
            text_buf b = {0};
            text_buf_addf(&b, "{\"id\":%llu,\"scope\":\"%s\"}", (unsigned long long)id,
                          scope == 1 ? "global" : "session");
            *result = b.p;
            rc = AGENT_TOOL_OK;
        }
    }
    yajl_tree_free(a);
    return rc;
}

static int tool_recall(void *ud, const agent_call_ctx *ctx, const char *args_json, char **result)
{
    sess_mgr *m = ud;
    yajl_val a = args_tree(args_json);
    const char *query = a ? arg_str(a, "query") : NULL;
    int scope = parse_scope(a ? arg_str(a, "scope") : NULL, 2, 1);
    const char *lpath[] = {"limit", NULL};
    yajl_val lv = a ? yajl_tree_get(a, lpath, yajl_t_number) : NULL;
    long long limit = lv && YAJL_IS_INTEGER(lv) ? YAJL_GET_INTEGER(lv) : RECALL_DEFAULT;
    const char *sid = ctx->session_id ? ctx->session_id : "";
    int rc = AGENT_TOOL_ERROR;
    if (!query || !*query) {
        *result = tool_error("query: words to look for, a non-empty string");
    } else if (scope < 0) {
        *result = tool_error("scope: \"session\", \"global\" or \"all\" (the default)");
    } else if (limit < 1 || limit > RECALL_MAX) {
        *result = tool_error("limit: an integer from 1 to 20");
    } else {
        char err[256] = "";
        store_hit *hits = NULL;
        size_t n = 0;
        if (sess_search(m, query, NULL, 1u << STORE_HIT_MEMORY, STORE_SEARCH_MAX, &hits, &n, err,
                        sizeof err) != SESS_OK) {
            *result = tool_error(err);
        } else {
            /* Only this session's memories and the global ones, never
             * another session's. */
            text_buf b = {0};
            text_buf_add(&b, "{\"memories\":[");
            long long k = 0;
            for (size_t i = 0; i < n && k < limit; i++) {
                int global = hits[i].session_id[0] == '\0';
                int mine = !global && *sid && !strcmp(hits[i].session_id, sid);
                if (!(global ? scope != 0 : mine && scope != 1)) continue;
                text_buf_addf(&b, "%s{\"id\":%llu,\"scope\":\"%s\",\"content\":", k ? "," : "",
                              (unsigned long long)hits[i].id, global ? "global" : "session");
                xjson(&b, hits[i].text ? hits[i].text : hits[i].snippet);
                text_buf_add(&b, "}");
                k++;
            }
            text_buf_add(&b, "]}");
            store_hits_free(hits, n);
            if (b.oom) {
                free(b.p);
                *result = NULL;
            } else {
                *result = b.p;
                rc = AGENT_TOOL_OK;
            }
        }
    }
    yajl_tree_free(a);
    return rc;
}

const agent_tool sess_memory_tool_defs[SESS_N_MEMORY_TOOLS] = {
    {"remember",
     "Stores a fact for later turns and sessions: a user preference, a decision, a name. "
     "scope \"session\" (the default) keeps it with this conversation, \"global\" for every "
     "session. Found again with recall.",
     "{\"type\":\"object\",\"properties\":{\"content\":{\"type\":\"string\",\"description\":"
     "\"The fact, one or two "
     "sentences.\"},\"scope\":{\"type\":\"string\",\"enum\":[\"session\","
     "\"global\"]}},\"required\":[\"content\"],\"additionalProperties\":false}",
     0, tool_remember, NULL},
    {"recall",
     "Looks up remembered facts by words (full-text search, best first): this session's and "
     "the "
     "global ones (scope \"all\", the default), or only \"session\" or \"global\".",
     "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\"},\"scope\":{"
     "\"type\":\"string\",\"enum\":[\"session\",\"global\",\"all\"]},\"limit\":{\"type\":"
     "\"integer\",\"minimum\":1,\"maximum\":20}},\"required\":[\"query\"],"
     "\"additionalProperties\":false}",
     1, tool_recall, NULL},
};

const agent_tool *sess_memory_tools(size_t *n)
{
    *n = SESS_N_MEMORY_TOOLS;
    return sess_memory_tool_defs;
}

/* store_check: argument checks, the skills encoding and the structs'
 * clear functions, shared by every storage engine (store_backend.h). */
#include "store_backend.h"

#include "text.h"

#include <stdlib.h>
#include <string.h>

int store_id_ok(const char *id)
{
    if (!id) return 0;
    size_t len = strnlen(id, STORE_ID_MAX + 1);
    return len >= 1 && len <= STORE_ID_MAX && text_utf8_valid(id, len);
}

/* NULL passes (callers decide what NULL means). */
int store_text_ok(const char *s, size_t max)
{
    if (!s) return 1;
    size_t len = strnlen(s, max + 1);
    return len <= max && text_utf8_valid(s, len);
}

int store_u63_ok(uint64_t v)
{
    return v <= (uint64_t)INT64_MAX;
}

int store_session_fields_ok(const store_session *s)
{
    if (!s || !store_id_ok(s->id) || s->vision < 0 || s->vision > STORE_VISION_MAX) return 0;
    const char *texts[] = {s->title, s->provider, s->model, s->base_url, s->system_prompt};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (!store_text_ok(texts[i], STORE_TEXT_MAX)) return 0;
    if (s->n_skills > STORE_SKILLS_MAX || (s->n_skills && !s->skills)) return 0;
    for (size_t i = 0; i < s->n_skills; i++) {
        const char *k = s->skills[i];
        if (!k || !*k || !store_text_ok(k, STORE_TEXT_MAX) || strchr(k, '\n')) return 0;
    }
    return 1;
}

/* Joins skill names with '\n' (they never contain one). *out is malloc'd. */
int store_skills_join(const store_session *s, char **out)
{
    size_t len = 1;
    for (size_t i = 0; i < s->n_skills; i++)
        len += strlen(s->skills[i]) + 1;
    char *buf = malloc(len), *p = buf;
    if (!buf) return STORE_ENOMEM;
    for (size_t i = 0; i < s->n_skills; i++) {
        size_t n = strlen(s->skills[i]);
        if (i) *p++ = '\n';
        memcpy(p, s->skills[i], n);
        p += n;
    }
    *p = '\0';
    *out = buf;
    return STORE_OK;
}

int store_skills_split(const char *text, size_t len, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (len == 0) return STORE_OK;
    size_t count = 1;
    for (size_t i = 0; i < len; i++)
        count += text[i] == '\n';
    char **list = calloc(count, sizeof *list);
    if (!list) return STORE_ENOMEM;
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != '\n') continue;
        if (i > start) { /* a hand-edited file may hold empty names: skip them */
            list[k] = malloc(i - start + 1);
            if (!list[k]) {
                for (size_t j = 0; j < k; j++)
                    free(list[j]);
                free(list);
                return STORE_ENOMEM;
            }
            memcpy(list[k], text + start, i - start);
            list[k][i - start] = '\0';
            k++;
        }
        start = i + 1;
    }
    *out = list;
    *n = k;
    return STORE_OK;
}

int store_message_ok(const store_message *m)
{
    return m && store_id_ok(m->session_id) && m->role >= STORE_ROLE_USER &&
           m->role <= STORE_ROLE_SYSTEM && m->state >= STORE_MSG_QUEUED &&
           m->state <= STORE_MSG_INTERRUPTED && m->content &&
           store_text_ok(m->content, STORE_TEXT_MAX) && store_text_ok(m->skill, STORE_TEXT_MAX) &&
           store_text_ok(m->error, STORE_TEXT_MAX) && store_text_ok(m->client_id, STORE_TEXT_MAX) &&
           store_u63_ok(m->turn_id) && store_u63_ok(m->covers_to) &&
           (m->kind == STORE_KIND_MESSAGE || m->kind == STORE_KIND_SUMMARY);
}

int store_turn_end_ok(const char *session_id, const store_message *replies, size_t n,
                      uint64_t user_id, store_msg_state user_state, uint64_t prompt,
                      uint64_t completion)
{
    if (!store_id_ok(session_id) || (n && !replies) || n > STORE_TURN_END_MAX ||
        !store_u63_ok(user_id) || !store_u63_ok(prompt) || !store_u63_ok(completion))
        return 0;
    if (user_state &&
        (user_id == 0 || user_state < STORE_MSG_QUEUED || user_state > STORE_MSG_INTERRUPTED))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!store_message_ok(&replies[i]) || strcmp(replies[i].session_id, session_id) != 0)
            return 0;
    return 1;
}

int store_memory_ok(const char *session_id, const char *content)
{
    return (!session_id || store_id_ok(session_id)) && content && *content &&
           store_text_ok(content, STORE_MEMORY_MAX);
}

int store_search_ok(const char *match, const char *session_id, size_t limit)
{
    return match && *match && store_text_ok(match, STORE_TEXT_MAX) &&
           (!session_id || store_id_ok(session_id)) && limit <= STORE_SEARCH_MAX;
}

int store_idem_ok(const store_idem *e)
{
    return e && e->scope && e->scope_len >= 1 && e->scope_len <= STORE_IDEM_SCOPE_MAX &&
           (e->resp || !e->resp_len) && e->resp_len <= STORE_TEXT_MAX &&
           store_text_ok(e->message, STORE_TEXT_MAX);
}

/* ---- structs ------------------------------------------------------------- */

void store_session_clear(store_session *s)
{
    if (!s) return;
    free(s->title);
    free(s->provider);
    free(s->model);
    free(s->base_url);
    free(s->system_prompt);
    for (size_t i = 0; i < s->n_skills; i++)
        free(s->skills[i]);
    free(s->skills);
    memset(s, 0, sizeof *s);
}

void store_message_clear(store_message *m)
{
    if (!m) return;
    free(m->skill);
    free(m->content);
    free(m->error);
    free(m->client_id);
    memset(m, 0, sizeof *m);
}

void store_messages_free(store_message *list, size_t n)
{
    if (!list) return;
    for (size_t i = 0; i < n; i++)
        store_message_clear(&list[i]);
    free(list);
}

void store_sessions_free(store_session *list, size_t n)
{
    if (!list) return;
    for (size_t i = 0; i < n; i++)
        store_session_clear(&list[i]);
    free(list);
}

void store_idem_clear(store_idem *e)
{
    if (!e) return;
    free(e->scope);
    free(e->message);
    free(e->resp);
    memset(e, 0, sizeof *e);
}

void store_idems_free(store_idem *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        store_idem_clear(&list[i]);
    free(list);
}

void store_hits_free(store_hit *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++) {
        free(list[i].session_title);
        free(list[i].snippet);
        free(list[i].text);
    }
    free(list);
}

int store_checkpoint_ok(const store_checkpoint *c)
{
    if (!c || !store_id_ok(c->session_id) || !c->message_id || !store_u63_ok(c->message_id) ||
        !store_u63_ok(c->rev_before) || !store_u63_ok(c->rev_after))
        return 0;
    if (!c->canvas_id || !*c->canvas_id || strlen(c->canvas_id) > STORE_CKPT_CANVAS_MAX ||
        !store_text_ok(c->canvas_id, STORE_CKPT_CANVAS_MAX))
        return 0;
    return c->workflow && *c->workflow && store_text_ok(c->workflow, STORE_CKPT_WORKFLOW_MAX);
}

void store_checkpoint_clear(store_checkpoint *c)
{
    if (!c) return;
    free(c->canvas_id);
    free(c->workflow);
    memset(c, 0, sizeof *c);
}

void store_checkpoints_free(store_checkpoint *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        store_checkpoint_clear(&list[i]);
    free(list);
}

void store_messages_page(store_message *list, size_t len, size_t limit, int *truncated,
                         store_message **out, size_t *n)
{
    if (len > limit) {
        *truncated = 1;
        store_message_clear(&list[--len]); /* the oldest of them */
    }
    for (size_t i = 0; i < len / 2; i++) { /* newest first -> oldest first */
        store_message t = list[i];
        list[i] = list[len - 1 - i];
        list[len - 1 - i] = t;
    }
    if (len == 0) {
        free(list);
        list = NULL;
    }
    *out = list;
    *n = len;
}

int store_embed_ok(const char *model, size_t dim)
{
    return model && *model && store_text_ok(model, STORE_EMBED_MODEL_MAX) && dim >= 1 &&
           dim <= STORE_EMBED_DIM_MAX;
}

/* The length of s[0..len) cut to at most max bytes, not inside a UTF-8
 * sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max) return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

int store_embed_text(const char *src, size_t len, char **out)
{
    size_t n = utf8_cut(src, len, STORE_EMBED_TEXT_MAX);
    char *t = malloc(n + 1);
    if (!t) return STORE_ENOMEM;
    memcpy(t, src, n);
    t[n] = '\0';
    *out = t;
    return STORE_OK;
}

int store_snippet_start(const char *text, char **out)
{
    size_t len = text ? strlen(text) : 0;
    size_t n = utf8_cut(text ? text : "", len, STORE_SNIPPET_BYTES);
    if (n < len) { /* back to the last space in the second half, if any */
        size_t k = n;
        while (k > STORE_SNIPPET_BYTES / 2 && text[k] != ' ' && text[k] != '\n')
            k--;
        if (k > STORE_SNIPPET_BYTES / 2) n = k;
    }
    const char *ell = n < len ? "…" : "";
    char *t = malloc(n + strlen(ell) + 1);
    if (!t) return STORE_ENOMEM;
    memcpy(t, text ? text : "", n);
    strcpy(t + n, ell);
    for (size_t i = 0; i < n; i++)
        if (t[i] == '\n') t[i] = ' ';
    *out = t;
    return STORE_OK;
}

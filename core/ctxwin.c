#include "ctxwin.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Model families and their windows, matched as a prefix of the model name
 * (after any "vendor/" part, as OpenRouter names models). First match wins. */
static const struct {
    const char *prefix;
    uint32_t window;
} known[] = {
    {"gpt-4.1", 1047576}, {"gpt-4o", 128000}, {"gpt-4-turbo", 128000}, {"gpt-4", 8192},
    {"gpt-3.5", 16385},   {"gpt-5", 400000},  {"o1", 200000},          {"o3", 200000},
    {"o4", 200000},       {"claude", 200000}, {"gemini", 1048576},     {"llama3.1", 131072},
    {"llama3.2", 131072}, {"llama3", 8192},   {"qwen2.5", 32768},      {"qwen3", 40960},
    {"mistral", 32768},   {"gemma2", 8192},   {"gemma3", 131072},      {"phi3", 4096},
};

uint32_t ctx_default_window(const char *provider, const char *model, const char *base_url)
{
    if (!provider || !*provider || strcmp(provider, "echo") == 0) return CTX_ECHO_WINDOW;
    /* Ollama serves every model with its own num_ctx (4096 unless the
     * user raised it), whatever the model could take. */
    if (base_url && strstr(base_url, ":11434")) return CTX_OLLAMA_WINDOW;
    const char *m = model ? model : "";
    const char *slash = strrchr(m, '/');
    if (slash) m = slash + 1;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strncasecmp(m, known[i].prefix, strlen(known[i].prefix)) == 0) return known[i].window;
    return CTX_DEFAULT_WINDOW;
}

uint64_t ctx_text_tokens(size_t len)
{
    return ((uint64_t)len + CTX_BYTES_PER_TOKEN - 1) / CTX_BYTES_PER_TOKEN;
}

uint64_t ctx_msg_tokens(size_t len)
{
    return CTX_MSG_OVERHEAD + ctx_text_tokens(len);
}

uint64_t ctx_scale(uint64_t tokens, uint32_t ratio_milli)
{
    if (ratio_milli == 0) return tokens;
    if (tokens > UINT64_MAX / CTX_RATIO_MAX) return UINT64_MAX / 1000;
    return (tokens * ratio_milli + 999) / 1000;
}

uint32_t ctx_ratio(uint64_t reported, uint64_t estimated)
{
    if (estimated == 0 || reported == 0) return 1000;
    uint64_t r = reported > UINT64_MAX / 1000 ? UINT64_MAX : reported * 1000 / estimated;
    if (r < CTX_RATIO_MIN) r = CTX_RATIO_MIN;
    if (r > CTX_RATIO_MAX) r = CTX_RATIO_MAX;
    return (uint32_t)r;
}

uint32_t ctx_reply_reserve(uint32_t window)
{
    uint32_t r = window / 4;
    if (r < CTX_RESERVE_MIN) r = CTX_RESERVE_MIN;
    if (r > CTX_RESERVE_MAX) r = CTX_RESERVE_MAX;
    if (r > window / 2) r = window / 2;
    return r;
}

uint64_t ctx_prompt_budget(uint32_t window)
{
    return (uint64_t)window - ctx_reply_reserve(window);
}

size_t ctx_select_keep(const ctx_item *items, size_t n, uint64_t keep_budget, size_t keep_max)
{
    uint64_t sum = 0;
    size_t best_turn = n, best_any = n;
    for (size_t i = n; i-- > 0;) {
        if (n - i > keep_max) break;
        if (items[i].tokens > keep_budget - sum) break; /* sum <= keep_budget holds */
        sum += items[i].tokens;
        best_any = i;
        if (items[i].turn_start) best_turn = i;
    }
    /* A whole turn fits: keep from its start. Otherwise split the newest. */
    return best_turn < n ? best_turn : best_any;
}

/* Length of s cut to at most max bytes at a UTF-8 boundary. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max) return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* Appends up to max bytes of text on one line (whitespace runs become one
 * space), with "…" when cut. */
static void sb_excerpt(text_buf *b, const char *text, size_t max)
{
    size_t len = strlen(text), out = 0;
    int space = 0;
    for (size_t i = 0; i < len && !b->oom; i++) {
        char c = text[i];
        int ws = c == ' ' || c == '\n' || c == '\t' || c == '\r';
        if (ws) {
            space = out > 0;
            continue;
        }
        size_t clen = 1;
        unsigned char u = (unsigned char)c;
        if (u >= 0xF0)
            clen = 4;
        else if (u >= 0xE0)
            clen = 3;
        else if (u >= 0xC0)
            clen = 2;
        if (i + clen > len) clen = len - i;
        if (out + space + clen > max) {
            text_buf_add(b, "…");
            return;
        }
        if (space) text_buf_addn(b, " ", 1), out++;
        space = 0;
        text_buf_addn(b, text + i, clen);
        out += clen;
        i += clen - 1;
    }
}

char *ctx_echo_summary(const ctx_src *msgs, size_t n, const char *prev_summary, uint64_t max_tokens)
{
    text_buf b = {0};
    char head[256];
    uint64_t first = n ? msgs[0].id : 0, last = n ? msgs[n - 1].id : 0;
    snprintf(head, sizeof head,
             "Summary of %zu earlier message%s (#%llu to #%llu), made by comfyd without a model "
             "(echo provider): the start of each message, in order.",
             n, n == 1 ? "" : "s", (unsigned long long)first, (unsigned long long)last);
    text_buf_add(&b, head);
    uint64_t max_bytes =
        max_tokens > SIZE_MAX / CTX_BYTES_PER_TOKEN ? SIZE_MAX : max_tokens * CTX_BYTES_PER_TOKEN;
    /* Room for the "(N more ...)" line at the end. */
    const size_t tail_room = 64;
    if (prev_summary && *prev_summary && b.n + tail_room < max_bytes) {
        size_t room = (size_t)(max_bytes - b.n - tail_room) / 3;
        if (room > 16) {
            text_buf_add(&b, "\nBefore that: ");
            sb_excerpt(&b, prev_summary, room);
        }
    }
    size_t shown = 0;
    for (size_t i = 0; i < n && !b.oom; i++) {
        char label[160];
        const char *skill = msgs[i].skill && *msgs[i].skill ? msgs[i].skill : NULL;
        snprintf(label, sizeof label, "\n- %s%s%.64s%s: ", msgs[i].role ? msgs[i].role : "?",
                 skill ? " (" : "", skill ? skill : "", skill ? ")" : "");
        size_t label_len = strlen(label);
        if (b.n + label_len + 16 + tail_room > max_bytes) break;
        size_t room = (size_t)(max_bytes - b.n - label_len - tail_room);
        if (room > CTX_SUMMARY_LINE_MAX) room = CTX_SUMMARY_LINE_MAX;
        text_buf_add(&b, label);
        sb_excerpt(&b, msgs[i].content ? msgs[i].content : "", room);
        shown++;
    }
    if (shown < n) {
        char more[64];
        snprintf(more, sizeof more, "\n- (%zu more message%s not shown)", n - shown,
                 n - shown == 1 ? "" : "s");
        text_buf_add(&b, more);
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return ctx_cut(b.p, max_tokens);
}

char *ctx_cut(char *s, uint64_t max_tokens)
{
    if (!s) return NULL;
    size_t len = strlen(s);
    if (ctx_text_tokens(len) <= max_tokens) return s;
    uint64_t max_bytes = max_tokens * CTX_BYTES_PER_TOKEN;
    const size_t ell = strlen("…");
    size_t keep = max_bytes > ell ? utf8_cut(s, len, (size_t)max_bytes - ell) : 0;
    if (max_bytes >= ell) {
        memcpy(s + keep, "…", ell);
        s[keep + ell] = '\0';
    } else {
        s[0] = '\0';
    }
    return s;
}

/* ctxwin: what fits in a model's context window.
 *
 * Token estimate (documented in docs/sessions.md): a model's tokenizer is
 * not available offline, so text costs ceil(bytes / 4) tokens (English
 * averages about 4 bytes a token with the common BPE vocabularies; code,
 * JSON and non-Latin scripts cost more bytes per token, so the estimate
 * errs high for them and low for nothing common) plus CTX_MSG_OVERHEAD per
 * message for the chat template. When the provider reports the prompt
 * tokens it counted, the session scales later estimates by the reported /
 * estimated ratio of its last call (CTX_RATIO_MIN..CTX_RATIO_MAX).
 *
 * Budget: the prompt may use the window minus a reserve for the reply
 * (ctx_reply_reserve). The prompt is the system message (system prompt,
 * skill instructions, canvas note), the tool schemas, the history (a
 * summary of compacted turns, then the turns after it) and the new user
 * message.
 *
 * Compaction: when the history does not fit, the newest whole turns that
 * fit in half of what the history may use are kept and everything older is
 * summarised into at most a quarter of it (ctx_select_keep). */
#ifndef COMFYD_CTXWIN_H
#define COMFYD_CTXWIN_H

#include <stddef.h>
#include <stdint.h>

#define CTX_MIN_WINDOW 512      /* below this no system prompt and reply fit */
#define CTX_MAX_WINDOW 10000000 /* above every model's window; bounds arithmetic */
/* Unknown models: what current open models served by llama.cpp, vLLM or
 * LM Studio commonly take; set context_window for a smaller one. */
#define CTX_DEFAULT_WINDOW 32768
#define CTX_OLLAMA_WINDOW 4096 /* Ollama's default num_ctx for a model it serves */
/* The offline provider has no limit: room for the largest message a session
 * accepts (64 KiB) with the skills' prompts; set context_window to try
 * compaction offline. */
#define CTX_ECHO_WINDOW 131072
#define CTX_MSG_OVERHEAD 4    /* template tokens around each message */
#define CTX_BYTES_PER_TOKEN 4 /* see the estimate above */
#define CTX_RESERVE_MIN 256   /* tokens left for the reply, at least ... */
#define CTX_RESERVE_MAX 4096  /* ... and at most */
#define CTX_RATIO_MIN 250     /* per mille: reported/estimated is clamped */
#define CTX_RATIO_MAX 4000
#define CTX_SUMMARY_LINE_MAX 240 /* bytes of one message in an offline summary */

/* The window to assume for a provider, model and base URL when the
 * session sets none (a table of well-known model families). */
uint32_t ctx_default_window(const char *provider, const char *model, const char *base_url);

/* Estimated tokens of len bytes of text, and of one message of it. */
uint64_t ctx_text_tokens(size_t len);
uint64_t ctx_msg_tokens(size_t len);
/* tokens * ratio_milli / 1000, rounded up (ratio 0 means 1000). */
uint64_t ctx_scale(uint64_t tokens, uint32_t ratio_milli);
/* New ratio from a call whose prompt was estimated at `estimated` and
 * counted as `reported` by the model server. */
uint32_t ctx_ratio(uint64_t reported, uint64_t estimated);

/* Tokens kept free for the reply: a quarter of the window, within
 * CTX_RESERVE_MIN..CTX_RESERVE_MAX and never above half the window. */
uint32_t ctx_reply_reserve(uint32_t window);
/* window - ctx_reply_reserve(window). */
uint64_t ctx_prompt_budget(uint32_t window);

/* One message of the history that may be compacted, oldest first. */
typedef struct ctx_item {
    uint64_t tokens;
    int turn_start; /* 1: the first message of a turn (the user's) */
} ctx_item;

/* Index i such that items[i..n) are kept and items[0..i) are summarised:
 * the longest suffix starting at a turn start whose tokens fit keep_budget
 * with at most keep_max messages; when not even the newest turn fits, the
 * longest suffix that fits (a turn is then split); n when nothing fits. */
size_t ctx_select_keep(const ctx_item *items, size_t n, uint64_t keep_budget, size_t keep_max);

/* A message given to the offline summariser. Borrowed. */
typedef struct ctx_src {
    uint64_t id;
    const char *role;  /* "user", "assistant", ... */
    const char *skill; /* may be NULL */
    const char *content;
} ctx_src;

/* The offline (echo provider) summary: deterministic, and honest about
 * what it is: a header naming the messages it stands for and that no model
 * wrote it, the start of the previous summary, then the start of each
 * message in order, cut so that the whole stays within max_tokens (lines
 * that do not fit are counted, not silently dropped). malloc'd; NULL when
 * out of memory. */
char *ctx_echo_summary(const ctx_src *msgs, size_t n, const char *prev_summary,
                       uint64_t max_tokens);

/* Cuts s in place to at most max_tokens estimated tokens at a UTF-8
 * boundary, ending it with "…" when cut. Returns s. */
char *ctx_cut(char *s, uint64_t max_tokens);

#endif

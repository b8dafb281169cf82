/* provider: the interface between a skill's turn and a language model.
 *
 * A provider runs one skill's reply to one user message on the calling
 * (worker) thread, streaming text through the sink until it finishes, fails
 * or sees the cancel flag. The offline "echo" provider is the default; an
 * OpenAI-compatible provider plugs in through the same table. */
#ifndef COMFYD_PROVIDER_H
#define COMFYD_PROVIDER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    PROV_OK = 0,
    /* The cancel flag was seen; the reply so far is kept as cancelled. */
    PROV_CANCELLED = -1,
    /* The provider failed; err holds a message safe to show (no secrets). */
    PROV_FAILED = -2,
    /* The sink refused a delta (the session is going away). */
    PROV_ABORTED = -3,
} prov_err;

typedef enum {
    PROV_ROLE_USER = 1,
    PROV_ROLE_ASSISTANT = 2,
    PROV_ROLE_SYSTEM = 3,
} prov_role;

/* One earlier message of the conversation. Borrowed for the call. */
typedef struct prov_msg {
    prov_role role;
    const char *skill; /* assistant replies: the skill that wrote it, or NULL */
    const char *content;
} prov_msg;

/* Everything a provider needs for one skill's reply. All pointers are
 * borrowed and stay valid until run() returns. Strings may be empty, never
 * NULL, except api_key (NULL when none is set). */
typedef struct prov_turn {
    const char *skill_name;
    const char *skill_instructions;
    const char *system_prompt;
    const prov_msg *history; /* oldest first, excludes user_text */
    size_t n_history;
    const char *user_text;
    const char *model;
    const char *base_url;
    const char *api_key;
    uint32_t token_delay_ms;  /* pace between deltas; providers may ignore it */
    const atomic_int *cancel; /* non-zero: stop as soon as possible */
} prov_turn;

/* Where a provider reports progress. Callbacks run on the provider's thread.
 * delta() returns 0, or non-zero to make the provider stop with
 * PROV_ABORTED. */
typedef struct prov_sink {
    void *ud;
    int (*delta)(void *ud, const char *text, size_t len);
    void (*log)(void *ud, int level /* log_level */, const char *message);
    void (*usage)(void *ud, uint64_t prompt_tokens, uint64_t completion_tokens);
} prov_sink;

typedef struct provider {
    const char *name;
    /* Runs one reply. Returns a prov_err; on PROV_FAILED writes a message
     * into err[0..errlen). Must return promptly once *turn->cancel != 0. */
    int (*run)(const struct provider *p, const prov_turn *turn, const prov_sink *sink, char *err,
               size_t errlen);
    void *impl;
} provider;

/* The built-in offline provider: streams back a reply derived from the
 * input, word by word, and says plainly that it is an echo:
 *
 *   "[echo provider · skill <skill_name>] You said: <user_text>"
 *
 * followed by " (N earlier messages in this conversation)" when the history
 * holds user messages. Deltas are tokens (a word plus the whitespace after
 * it) and concatenate to the reply exactly; token_delay_ms is waited between
 * two deltas, looking at *cancel at least every 10 ms. usage() reports words
 * as tokens: prompt = words of system prompt, instructions, history and
 * user text; completion = tokens streamed (also after a cancel; not after
 * an abort). Returns PROV_OK, PROV_CANCELLED, PROV_ABORTED (delta() returned
 * non-zero) or PROV_FAILED.
 *
 * Test hook: a user_text containing PROVIDER_ECHO_FAIL_MARKER fails at once
 * with PROV_FAILED and "echo provider: failure requested by the message",
 * so that callers can exercise their error path without a real model. */
#define PROVIDER_ECHO_FAIL_MARKER "[echo:fail]"
/* Bytes of user text said back; the rest is cut with " [...truncated]"
 * (the reply is a demonstration, not a copy service). */
#define PROVIDER_ECHO_MAX_ECHO (16 * 1024)
const provider *provider_echo(void);

/* Looks a provider up by name ("echo"); NULL when unknown. */
const provider *provider_find(const char *name);
/* Comma-separated list of known provider names, for error messages. */
const char *provider_names(void);

#endif

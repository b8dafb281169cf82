/* provider: the interface between an agent and a language model.
 *
 * One call of run() is one model call: it sends a conversation (system,
 * user, assistant and tool messages) and the tools the model may call,
 * streams the text of the answer through the sink as it arrives, and
 * returns the assistant's turn: its text, the tool calls it asked for, why
 * it stopped and the tokens it used. It runs on the calling (worker) thread
 * until it finishes, fails or sees the cancel flag. The agent loop
 * (agent.h) calls it again with the tool results.
 *
 * This header is the interface alone: the implementations live behind the
 * vtable with headers of their own, provider_echo.h (offline, the default:
 * says the user's text back and never calls tools) and provider_openai.h
 * (any OpenAI-compatible chat-completions endpoint: OpenAI, OpenRouter,
 * Ollama, LM Studio, llama.cpp, vLLM); providers.h finds one by name. */
#ifndef COMFYD_PROVIDER_H
#define COMFYD_PROVIDER_H

#include "comfyd_error.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds on what one model call may return; each keeps a misbehaving or
 * hostile server from making the service hold unbounded memory. */
#define PROV_MAX_CONTENT (1024 * 1024)  /* bytes of answer text per call */
#define PROV_MAX_TOOL_CALLS 32          /* per call; models ask for a handful */
#define PROV_MAX_TOOL_ARGS (256 * 1024) /* bytes of one call's arguments */
#define PROV_MAX_TOOL_NAME 128          /* OpenAI allows 64 */
#define PROV_MAX_CALL_ID 256            /* ids are short opaque tokens */
#define PROV_MAX_JSON_DEPTH 64          /* nesting of tool schemas and arguments */
#define PROV_MAX_IMAGES 16              /* image parts per message */
#define PROV_MAX_IMAGE_BYTES (4u << 20) /* one image's encoded file; base64 adds a third */

typedef enum {
    PROV_OK = CFD_OK,
    /* The cancel flag was seen; the reply so far is kept as cancelled. */
    PROV_CANCELLED = CFD_ERR_PROV_CANCELLED,
    /* The provider failed; err holds a message safe to show (no secrets). */
    PROV_FAILED = CFD_ERR_PROV_FAILED,
    /* The sink refused a delta (the session is going away). */
    PROV_ABORTED = CFD_ERR_PROV_ABORTED,
} prov_err;

typedef enum {
    PROV_ROLE_USER = 1,
    PROV_ROLE_ASSISTANT = 2,
    PROV_ROLE_SYSTEM = 3,
    PROV_ROLE_TOOL = 4,
} prov_role;

/* A tool call the model asked for. In a prov_reply the strings are owned
 * by the reply; in a prov_msg of a request they are borrowed. */
typedef struct prov_tool_call {
    char *id;             /* unique within the reply; never empty */
    char *name;           /* never empty */
    char *arguments_json; /* as the model sent it ("" allowed); valid UTF-8 */
} prov_tool_call;

/* An image a USER message shows the model (an attachment, a run's output).
 * Already bounded by the caller (PROV_MAX_IMAGE_BYTES, downscaled); providers
 * without vision support describe it in text instead. Borrowed. */
typedef struct prov_image {
    const char *mime;          /* "image/png", "image/jpeg", "image/webp" or "image/gif" */
    const unsigned char *data; /* the encoded file */
    size_t len;
    const char *label; /* what it is, e.g. a file name or "output of node 9"; may be NULL */
} prov_image;

/* One message of the conversation. Borrowed for the call. */
typedef struct prov_msg {
    prov_role role;
    const char *skill;   /* assistant: the skill that wrote it, or NULL */
    const char *content; /* may be "" (an assistant turn of tool calls only) */
    /* Assistant: the calls it made (their results follow as TOOL messages). */
    const prov_tool_call *tool_calls;
    size_t n_tool_calls;
    const char *tool_call_id; /* TOOL: the call this result answers */
    /* USER: images sent with the text, as OpenAI-compatible image_url parts
     * (a data: URL) after the text part. */
    const prov_image *images;
    size_t n_images;
} prov_msg;

/* A tool offered to the model. Borrowed for the call. */
typedef struct prov_tool {
    const char *name;
    const char *description;
    const char *parameters_json; /* a JSON Schema object, as JSON text */
} prov_tool;

/* Everything a provider needs for one model call. All pointers are
 * borrowed and stay valid until run() returns. Strings may be empty, never
 * NULL, except api_key (NULL when none is set). */
typedef struct prov_request {
    const char *skill_name;   /* for logs (and the echo provider's reply) */
    const prov_msg *messages; /* oldest first; the system message first */
    size_t n_messages;
    const prov_tool *tools;
    size_t n_tools;
    const char *model;
    const char *base_url; /* "" : the provider's default */
    const char *api_key;
    uint32_t connect_timeout_ms; /* 0: the provider's default */
    uint32_t idle_timeout_ms;    /* no byte for this long fails the call; 0: default */
    uint32_t token_delay_ms;     /* pace between deltas; providers may ignore it */
    const atomic_int *cancel;    /* non-zero: stop as soon as possible; may be NULL */
} prov_request;

/* The assistant's turn. Filled on every return of run(), also on errors
 * (then holding what arrived before), and freed with prov_reply_clear.
 * Strings are owned, NUL terminated and valid UTF-8. */
typedef struct prov_reply {
    char *content; /* the text streamed through the sink, joined; NULL when none */
    size_t content_len;
    prov_tool_call *tool_calls;
    size_t n_tool_calls;
    char *finish_reason; /* "stop", "tool_calls", "length", ... or "" */
    uint64_t prompt_tokens, completion_tokens;
    int usage_reported; /* 1 when the counts above came from the model server */
} prov_reply;

/* Frees what a reply owns and zeroes it; accepts a zeroed reply. */
void prov_reply_clear(prov_reply *r);

/* Where a provider reports progress. Callbacks run on the provider's thread.
 * delta() gets a piece of the answer text (never empty, always whole UTF-8
 * characters) and returns 0, or non-zero to make the provider stop with
 * PROV_ABORTED. log() may be NULL. */
typedef struct prov_sink {
    void *ud;
    int (*delta)(void *ud, const char *text, size_t len);
    void (*log)(void *ud, int level /* log_level */, const char *message);
} prov_sink;

typedef struct provider {
    const char *name;
    /* Runs one model call. Returns a prov_err and fills *out (zeroed by the
     * provider first; the caller clears it in every case); on PROV_FAILED
     * writes a one-line message into err[0..errlen) that never holds the
     * API key. Must return promptly once *req->cancel != 0. */
    int (*run)(const struct provider *p, const prov_request *req, const prov_sink *sink,
               prov_reply *out, char *err, size_t errlen);
    void *impl;
} provider;

/* JSON helper shared by providers and the agent: checks that
 * text[0..len) is one JSON value, nested at most PROV_MAX_JSON_DEPTH deep,
 * with valid UTF-8 strings, and writes it re-encoded without insignificant
 * whitespace into *out (malloc'd, NUL terminated, owned by the caller).
 * Returns 0, or -1 with a one-line reason in err (*out NULL). */
int prov_json_canonical(const char *text, size_t len, char **out, char *err, size_t errlen);

#endif

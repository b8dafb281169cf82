/* agent: one skill's turn as a tool-using loop over a provider.
 *
 * The loop sends the conversation (a system message made of the session's
 * system prompt, the skill's instructions and a note about the canvas; the
 * history; the user's text) with the tools the skill may use, runs the tool
 * calls the model asks for, sends their results back, and repeats until the
 * model answers without tool calls. It stops early after AGENT_MAX_STEPS
 * model calls, when the model repeats the same call (same name and
 * arguments) AGENT_MAX_REPEATS times, on cancel, or when the provider fails.
 *
 * Tools: a table of agent_tool, filtered per skill by its allowed-tools
 * (empty: every tool) and, for a read-only skill, to read-only tools. The
 * model only sees those; a call to any other name, or with arguments that
 * are not a JSON object, is not run and the model gets an error result so
 * that it can correct itself.
 *
 * Images. A tool result is text (the OpenAI tool message holds no image),
 * so a tool that has an image for the model (a run's output) hands it to
 * agent_call_attach_image; when the turn's vision flag is set, the images
 * the calls of one model reply attached go to the model in one USER
 * message right after their tool results (image parts, prov_msg.images).
 * Without vision the tool describes the image in its result instead. */
#ifndef COMFYD_AGENT_H
#define COMFYD_AGENT_H

#include "comfyd_error.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "provider.h"

/* Named limits. */
#define AGENT_MAX_STEPS 12                 /* model calls per turn: a plan, a few edits, checks */
#define AGENT_MAX_REPEATS 3                /* identical calls before the loop is judged stuck */
#define AGENT_MAX_TOOLS 64                 /* tools offered at once; more only confuse a model */
#define AGENT_MAX_TOOL_RESULT (256 * 1024) /* bytes of one result sent back to the model */
#define AGENT_MAX_NOTE (8 * 1024)          /* bytes of the canvas note in the system prompt */
/* Images attached in one turn: each stays in the conversation and is sent
 * again with every later model call of the turn (tokens and bytes). Below
 * PROV_MAX_IMAGES, so the images of one reply always fit one message. */
#define AGENT_MAX_TURN_IMAGES 6

typedef enum {
    AGENT_OK = CFD_OK,
    /* The cancel flag was seen. */
    AGENT_CANCELLED = CFD_ERR_PROV_CANCELLED,
    /* The provider failed (err says why). */
    AGENT_FAILED = CFD_ERR_PROV_FAILED,
    /* The sink refused a delta (the session is going away). */
    AGENT_ABORTED = CFD_ERR_PROV_ABORTED,
    /* AGENT_MAX_STEPS model calls and still no final answer. */
    AGENT_ESTEPS = CFD_ERR_AGENT_STEPS,
    /* The model repeated one call AGENT_MAX_REPEATS times. */
    AGENT_ELOOP = CFD_ERR_AGENT_LOOP,
    AGENT_ENOMEM = CFD_ERR_NOMEM,
    /* The next model call would exceed budget_tokens (err says by how much). */
    AGENT_ECONTEXT = CFD_ERR_AGENT_CONTEXT,
} agent_err;

/* Return values of a tool function. */
#define AGENT_TOOL_OK 0
#define AGENT_TOOL_ERROR (-1)

/* What a tool function learns about the call. Valid during the call. */
/* The images the calls of one reply attached (agent.c). */
typedef struct agent_images agent_images;

typedef struct agent_call_ctx {
    const char *session_id; /* "" when not run for a session */
    uint64_t turn_id;
    const char *skill;
    const char *call_id;      /* unique within the turn: with turn_id, an idempotency key */
    const atomic_int *cancel; /* may be NULL */
    int vision;               /* 1: images attached below reach the model */
    agent_images *images;     /* for agent_call_attach_image; NULL: none taken */
    int preview_policy;       /* the skill's preview_policy (preview_policy.h; 0: the default) */
} agent_call_ctx;

/* Shows the model an image with the results of the current reply's calls:
 * copies data[0..len) (a PNG, JPEG, WebP or GIF file of at most
 * PROV_MAX_IMAGE_BYTES, already scaled down by the caller) and label (what
 * it is, e.g. "run 1f3c node 9 image 0: x.png 64x64"; may be NULL). Returns
 * 0 when taken; -1 when the turn has no vision, AGENT_MAX_TURN_IMAGES were
 * attached already, the file is not acceptable, or out of memory (then
 * the tool's text is all the model gets, so the tool should say so). */
int agent_call_attach_image(const agent_call_ctx *ctx, const char *mime, const void *data,
                            size_t len, const char *label);

/* Runs one tool. args_json is a JSON object (already checked), borrowed.
 * Sets *result_json to malloc'd text (JSON preferred; the agent frees it)
 * and returns AGENT_TOOL_OK, or AGENT_TOOL_ERROR with *result_json
 * explaining the error to the model (NULL: a generic message is sent).
 * Called on the skill's worker thread; several skills may call the same
 * tool at once, so it must be thread-safe. */
typedef int (*agent_tool_fn)(void *ud, const agent_call_ctx *ctx, const char *args_json,
                             char **result_json);

/* A tool. Every pointer is borrowed and must stay valid while any turn may
 * use the table. */
typedef struct agent_tool {
    const char *name;            /* [a-zA-Z0-9_-], as the model will call it */
    const char *description;     /* for the model */
    const char *parameters_json; /* a JSON Schema object ("" : no parameters) */
    int read_only;               /* 1: never changes anything */
    agent_tool_fn fn;
    void *ud; /* passed to fn; NULL: the turn's tools_ud */
} agent_tool;

/* The skill being run. Borrowed. */
typedef struct agent_skill {
    const char *name;
    const char *instructions;
    char *const *allowed_tools; /* names; none: every tool */
    size_t n_allowed_tools;
    int read_only; /* 1: only tools with read_only set, whatever allowed_tools says */
    /* Which patches the user sees first (preview_policy.h; 0: the default,
     * confirm-destructive); handed to the tools in agent_call_ctx. */
    int preview_policy;
} agent_skill;

/* Where the loop reports progress; callbacks run on the calling thread.
 * Every callback but delta may be NULL. */
typedef struct agent_sink {
    void *ud;
    /* Answer text, across all model calls (a blank line is put between the
     * texts of two calls). Non-zero stops the loop with AGENT_ABORTED. */
    int (*delta)(void *ud, const char *text, size_t len);
    void (*log)(void *ud, int level /* log_level */, const char *message);
    /* Before a tool runs (also for calls that are refused). */
    void (*tool_call)(void *ud, const char *call_id, const char *name, const char *arguments_json);
    /* After it ran, or was refused (ok 0). result_json is JSON text. */
    void (*tool_result)(void *ud, const char *call_id, const char *name, int ok,
                        const char *result_json);
    /* After every model call, with the tokens that call used. */
    void (*usage)(void *ud, uint64_t prompt_tokens, uint64_t completion_tokens);
} agent_sink;

/* One skill's turn. All pointers are borrowed for the call; strings may be
 * empty, never NULL, except api_key and context_note (NULL: none). */
typedef struct agent_turn {
    const provider *prov;
    const agent_skill *skill;
    const char *system_prompt;
    const char *context_note; /* e.g. what changed on the canvas; cut to AGENT_MAX_NOTE */
    const prov_msg *history;  /* earlier user and assistant messages, oldest first */
    size_t n_history;
    const char *user_text;
    const prov_image *user_images; /* sent with user_text (see prov_msg.images) */
    size_t n_user_images;
    const agent_tool *tools; /* the full table; filtered here per skill */
    size_t n_tools;
    void *tools_ud; /* passed to every tool function */
    const char *model;
    const char *base_url;
    const char *api_key;
    uint32_t token_delay_ms;
    uint32_t connect_timeout_ms; /* 0: the provider's default */
    uint32_t idle_timeout_ms;    /* 0: the provider's default */
    uint32_t max_steps;          /* 0: AGENT_MAX_STEPS; never above it */
    int vision;                  /* 1: the model takes image parts (vision.h) */
    const char *session_id;      /* for tools; may be "" */
    uint64_t turn_id;
    const atomic_int *cancel; /* may be NULL */
    /* A summary of the compacted earlier conversation, put in the system
     * message after the canvas note; NULL or "": none. */
    const char *summary;
    /* Prompt tokens no model call may exceed (ctxwin.h estimate scaled by
     * ratio_milli); 0: no limit. */
    uint64_t budget_tokens;
    uint32_t ratio_milli; /* 0: 1000 */
} agent_turn;

/* What a run did, also when it failed. */
typedef struct agent_stats {
    uint32_t steps;      /* model calls made */
    uint32_t tool_calls; /* calls run or refused */
    uint64_t prompt_tokens, completion_tokens;
    /* The first model call's prompt: estimated (unscaled) and, when the
     * provider reported it, counted (0 otherwise); for calibration. */
    uint64_t first_prompt_estimate, first_prompt_reported;
} agent_stats;

/* Runs the loop. Returns AGENT_OK when the model gave a final answer;
 * AGENT_CANCELLED; AGENT_ABORTED; AGENT_FAILED, AGENT_ESTEPS or AGENT_ELOOP
 * with a one-line reason in err[0..errlen) (never the API key);
 * AGENT_ENOMEM. stats (may be NULL) is filled in every case. */
int agent_run(const agent_turn *t, const agent_sink *sink, agent_stats *stats, char *err,
              size_t errlen);

/* Estimated tokens (ctxwin.h, unscaled) of what every model call of the
 * turn sends besides the history: the system message (summary included),
 * the skill's tool schemas and the user's text. */
uint64_t agent_fixed_tokens(const agent_turn *t);

/* 1 when the skill may use the tool named name under the rules above. */
int agent_tool_allowed(const agent_skill *skill, const agent_tool *tool);

#endif

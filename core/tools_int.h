/* tools_int: what the files of the graph tools share and nothing else
 * links: the tools object, a completed request's outcome and the helpers
 * one file defines and another calls. tools.h stays the module's API;
 * tools.c's top comment lists which file holds what. */
#ifndef COMFYD_TOOLS_INT_H
#define COMFYD_TOOLS_INT_H

#include "tools.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "imgscale.h"
#include "jsonpb.h"
#include "log.h"
#include "nodeinfo.h"
#include "preview_policy.h"
#include "text.h"
#include "toolspec.h"

#define MOD "tools"

struct tools {
    canvas_mgr *cm;
    runs *runs; /* NULL without --comfyui */
    ckpt *ck;   /* NULL: no checkpoints */
    uint32_t wait_ms;
    pthread_mutex_t mu;      /* the state below */
    pthread_mutex_t wait_mu; /* every waiter's condition variable */
    uint64_t tick;           /* LRU clock */
    struct seen *seen;
    size_t n_seen;
    struct mark *marks;
    size_t n_marks;
};

/* A completed request, moved out of its waiter. */
typedef struct outcome {
    int err;
    Comfyd__V1__GraphErrorCode code;
    char msg[CANVAS_ERRLEN];
    ProtobufCMessage *resp; /* owned; NULL unless err is CANVAS_OK */
} outcome;

/* ---- helpers (tools.c) ---- */

/* Sets *res to the error result json and returns AGENT_TOOL_ERROR. */
int tl_fail(char **res, char *json);
/* Parses args and checks that every key is a parameter of tool id; NULL with *res set. */
yajl_val tl_parse_args(const char *args, toolspec_id id, char **res);
/* Decodes args into a request message d (the keys were checked already). */
ProtobufCMessage *tl_decode(const ProtobufCMessageDescriptor *d, const char *args, char **res);
/* Replaces a decoded message's string field. */
void tl_set_field_str(char **field, const char *s);
/* The skill saw canvas at revision (its session's mark too when whole_view). */
void tl_observe(tools *t, const agent_call_ctx *ctx, const char *canvas, uint64_t revision,
                int whole_view);
/* The canvas and revision a call of this skill works on when it names none; 1 or 0. */
int tl_view_of(tools *t, const agent_call_ctx *ctx, char canvas[CANVAS_MAX_ID + 1], uint64_t *rev);
/* The id of the canvas a request without canvas_id reaches now, or "". */
void tl_resolve_default(tools *t, char canvas[CANVAS_MAX_ID + 1]);
/* The idempotency key of a mutating call. */
void tl_idem_key(const agent_call_ctx *ctx, char out[CANVAS_MAX_KEY + 1]);
/* The error code a tool result names for a canvas error (or rc). */
const char *tl_code_of(const canvas_error *e, int rc);
/* Submits req (owned from here on) and waits: 0 with *o (free o->resp), or -1 with *res. */
int tl_submit_wait(tools *t, const agent_call_ctx *ctx, ProtobufCMessage *req, outcome *o,
                   char **res);

/* ---- the tools of the graph (tools_graph.c) ---- */
int tool_get_graph(void *ud, const agent_call_ctx *ctx, const char *args, char **res);
int tool_search(void *ud, const agent_call_ctx *ctx, const char *args, char **res);
int tool_schema(void *ud, const agent_call_ctx *ctx, const char *args, char **res);
int tool_validate(void *ud, const agent_call_ctx *ctx, const char *args, char **res);
int tool_apply(void *ud, const agent_call_ctx *ctx, const char *args, char **res);
int tool_queue(void *ud, const agent_call_ctx *ctx, const char *args, char **res);
int tool_lease(void *ud, const agent_call_ctx *ctx, const char *args, char **res);

/* ---- the tools of runs (tools_runs.c) ---- */
int tool_run(void *ud, const agent_call_ctx *ctx, const char *args, char **res);
int tool_get_run(void *ud, const agent_call_ctx *ctx, const char *args, char **res);
int tool_cancel_run(void *ud, const agent_call_ctx *ctx, const char *args, char **res);
int tool_view_output(void *ud, const agent_call_ctx *ctx, const char *args, char **res);

#endif

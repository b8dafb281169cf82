/* comfy_event: parsers for what ComfyUI's API sends: the JSON messages of
 * its WebSocket /ws (status, execution_start, execution_cached, executing,
 * progress, executed, execution_success, execution_error,
 * execution_interrupted), the answer of POST /prompt, an entry of
 * GET /history/{id} and GET /queue. Pure functions over bytes, no I/O.
 *
 * Every input is untrusted: it is size- and depth-checked before a tree is
 * built (nodeinfo_json_parse), strings are cut at their named limits on a
 * UTF-8 boundary and lists at theirs, and a malformed message is an error
 * with a message, never a crash. Results own their memory (free with the
 * matching *_clear / protobuf_c_message_free_unpacked). */
#ifndef COMFYD_COMFY_EVENT_H
#define COMFYD_COMFY_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "comfyd/v1/run.pb-c.h"

/* A WebSocket message or HTTP body larger than this is refused: ComfyUI's
 * events are small; an executed event with many outputs is a few KB and a
 * history entry carries the whole prompt (a large workflow is ~1 MB). */
#define COMFY_MAX_JSON (8u << 20)
#define COMFY_MAX_DEPTH 64
#define COMFY_MAX_VALUES (1u << 20)
/* Ids (prompt ids, node ids): UUIDs and "12:3" subgraph paths. */
#define COMFY_MAX_ID 256
/* Messages, exception texts and details. */
#define COMFY_MAX_TEXT 4096
/* Traceback: its last lines are the useful ones. */
#define COMFY_MAX_TRACEBACK_LINES 16
#define COMFY_MAX_TRACEBACK_LINE 1024
/* Lists: cached nodes, node errors, outputs, files per node. */
#define COMFY_MAX_NODES 4096
#define COMFY_MAX_ERRORS 256
#define COMFY_MAX_FILES 256
/* A node's output object as passed through (output_json). */
#define COMFY_MAX_OUTPUT_JSON (64u << 10)
/* A combo's allowed values kept with a node error (a model reads no more). */
#define COMFY_MAX_ALLOWED 100
/* History messages kept from one entry. */
#define COMFY_MAX_MESSAGES 1024

typedef enum {
    COMFY_EV_OTHER = 0, /* a type this module does not interpret */
    COMFY_EV_STATUS,
    COMFY_EV_EXECUTION_START,
    COMFY_EV_EXECUTION_CACHED,
    COMFY_EV_EXECUTING,
    COMFY_EV_PROGRESS,
    COMFY_EV_EXECUTED,
    COMFY_EV_EXECUTION_SUCCESS,
    COMFY_EV_EXECUTION_ERROR,
    COMFY_EV_EXECUTION_INTERRUPTED,
} comfy_event_type;

/* One event. Strings are never NULL (empty when absent). */
typedef struct comfy_event {
    comfy_event_type type;
    char *type_name; /* as sent, cut at COMFY_MAX_ID */
    char *prompt_id;
    /* executing, progress, executed, execution_error/interrupted. For
     * executing, node_null is 1 when "node" was null: the prompt is done. */
    char *node;
    int node_null;
    double value, max; /* progress */
    char **nodes;      /* execution_cached */
    size_t n_nodes;
    int64_t queue_remaining; /* status: -1 when absent */
    int64_t timestamp_ms;    /* 0 when absent */
    char *node_type;         /* execution_error/interrupted */
    char *exception_type;    /* execution_error */
    char *exception_message; /* execution_error */
    char **traceback;        /* its last COMFY_MAX_TRACEBACK_LINES lines */
    size_t n_traceback;
    char *output_json;              /* executed: data.output, re-serialised */
    Comfyd__V1__OutputFile **files; /* executed: the files in output */
    size_t n_files;
} comfy_event;

/* Parses one WebSocket text message. Returns 0 with *ev filled (clear it
 * with comfy_event_clear), or -1 with a message in err (ev left empty). A
 * message of an unknown type is 0 with type COMFY_EV_OTHER. */
int comfy_event_parse(const char *json, size_t len, comfy_event *ev, char *err, size_t errlen);
void comfy_event_clear(comfy_event *ev);

/* ComfyUI's answer to POST /prompt (any HTTP status). */
typedef struct comfy_prompt_answer {
    char *prompt_id; /* empty when refused */
    double number;
    char *error_type; /* the prompt-level error, when refused */
    char *error_message;
    Comfyd__V1__RunNodeError **node_errors;
    size_t n_node_errors;
} comfy_prompt_answer;

/* Returns 0 with *a filled (clear with comfy_prompt_answer_clear) or -1
 * with err. */
int comfy_prompt_answer_parse(const char *json, size_t len, comfy_prompt_answer *a, char *err,
                              size_t errlen);
void comfy_prompt_answer_clear(comfy_prompt_answer *a);

/* The entry of prompt_id in GET /history/{id}. */
typedef struct comfy_history {
    int found;        /* 0: ComfyUI has no history for the prompt */
    char *status_str; /* "success", "error" or empty */
    int completed;
    comfy_event *messages; /* status.messages, as events (type OTHER skipped) */
    size_t n_messages;
    Comfyd__V1__RunNodeOutput **outputs;
    size_t n_outputs;
} comfy_history;

int comfy_history_parse(const char *json, size_t len, const char *prompt_id, comfy_history *h,
                        char *err, size_t errlen);
void comfy_history_clear(comfy_history *h);

/* GET /queue: the prompt ids running, then pending in queue order (by
 * number). */
typedef struct comfy_queue {
    char **running;
    size_t n_running;
    char **pending;
    size_t n_pending;
} comfy_queue;

int comfy_queue_parse(const char *json, size_t len, comfy_queue *q, char *err, size_t errlen);
void comfy_queue_clear(comfy_queue *q);

#endif

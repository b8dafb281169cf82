/* nodeinfo: the node-type schema of a ComfyUI install, parsed from the JSON
 * of GET /object_info.
 *
 * A schema is immutable once created and reference counted, so canvases and
 * requests on different threads share one without locks. Pure logic: no I/O.
 *
 * Conventions taken from the ComfyUI frontend (documented here because the
 * schema alone does not say them):
 * - Inputs are listed required first, then optional, each group in the order
 *   of "input_order" when present (names it does not list follow in object
 *   order). "hidden" inputs are skipped: they never appear on the canvas.
 * - INT, FLOAT, STRING, BOOLEAN and COMBO inputs are widgets unless
 *   "forceInput" is set. Every other type is a link type (a socket only).
 *   "defaultInput" keeps the widget (older frontends only pre-converted it).
 * - control_after_generate: an INT or COMBO widget gets the extra
 *   "control_after_generate" widget (fixed/increment/decrement/randomize)
 *   when its options say "control_after_generate": true. Like the frontend,
 *   an INT input named "seed" or "noise_seed" gets it too unless its options
 *   say "control_after_generate": false.
 * - COMBO comes in two forms: the legacy [["a","b"], {...}] and the newer
 *   ["COMBO", {"options": ["a","b"]}]. A COMBO output (a list in "output")
 *   has the type "COMBO".
 * - Combo options are normally strings; a few custom nodes list booleans or
 *   numbers, which are kept with their JSON type (see nodeinfo_value).
 * - Combos with "image_upload", "audio_upload", "video_upload",
 *   "file_upload" or "remote" list files that change at run time (an upload
 *   adds one), so any string is accepted for them (dynamic_options). */
#ifndef COMFYD_NODEINFO_H
#define COMFYD_NODEINFO_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

#include "comfyd/v1/graph.pb-c.h"

/* Largest /object_info accepted: installs with hundreds of custom node packs
 * send about 20 MB. */
#define NODEINFO_MAX_JSON_BYTES (64u << 20)
/* object_info nests about six levels; anything deeper is not object_info
 * (and deep nesting would exhaust the stack of yajl_tree_free). */
#define NODEINFO_MAX_DEPTH 64
/* JSON values (scalars and containers) in one document: bounds the parse
 * tree's memory independently of the byte count. */
#define NODEINFO_MAX_VALUES (8u << 20)
/* Node types in one schema: large installs have about 5000. */
#define NODEINFO_MAX_TYPES 20000
/* Inputs and outputs of one node type: the largest real nodes have ~150. */
#define NODEINFO_MAX_INPUTS 1024
#define NODEINFO_MAX_OUTPUTS 256
/* Options of one combo: file lists of big model folders reach thousands. */
#define NODEINFO_MAX_OPTIONS 100000
/* Names (types, inputs, outputs, categories): real ones are < 100 bytes. */
#define NODEINFO_MAX_NAME 512
/* Close matches returned for an unknown name. */
#define NODEINFO_MAX_SUGGESTIONS 5
/* Allowed values named in a combo error message; the rest are counted. */
#define NODEINFO_MAX_LISTED_OPTIONS 10

typedef enum {
    NODEINFO_OK = CFD_OK,
    /* Not JSON, or not the shape of /object_info. */
    NODEINFO_EINVAL = CFD_ERR_INVALID,
    /* A NODEINFO_MAX_* limit was exceeded. */
    NODEINFO_ETOOBIG = CFD_ERR_NODEINFO_TOOBIG,
    NODEINFO_ENOMEM = CFD_ERR_NOMEM,
    /* nodeinfo_check_value: the value is not allowed for the input. */
    NODEINFO_EVALUE = CFD_ERR_NODEINFO_VALUE,
} nodeinfo_err;

/* What an input is. Everything but NODEINFO_KIND_LINK is a widget type. */
typedef enum {
    NODEINFO_KIND_LINK = 0,
    NODEINFO_KIND_INT,
    NODEINFO_KIND_FLOAT,
    NODEINFO_KIND_STRING,
    NODEINFO_KIND_BOOLEAN,
    NODEINFO_KIND_COMBO,
} nodeinfo_kind;

/* A scalar from JSON: a default, a combo option or a widget value. */
typedef enum {
    NODEINFO_V_NONE = 0, /* absent or JSON null */
    NODEINFO_V_INT,      /* i */
    NODEINFO_V_NUMBER,   /* d (a number that is not an int64) */
    NODEINFO_V_TEXT,     /* s */
    NODEINFO_V_BOOL,     /* b */
    NODEINFO_V_JSON,     /* s: an array or object, as compact JSON text */
} nodeinfo_vkind;

typedef struct {
    nodeinfo_vkind kind;
    int64_t i;
    double d;
    int b;
    /* TEXT and JSON: the text. Combo options: always set, the option's text
     * form ("euler", "true", "1.5"). NULL otherwise. */
    char *s;
} nodeinfo_value;

/* One input of a node type. Every pointer is owned by the schema and valid
 * while a reference to it is held. */
typedef struct {
    const char *name;
    /* "INT", "FLOAT", "STRING", "BOOLEAN", "COMBO", or the link type as
     * written ("MODEL", "IMAGE,MASK", "*"). */
    const char *type;
    nodeinfo_kind kind;
    int required;
    int is_widget;
    int multiline;
    int control_after_generate;
    int dynamic_options;
    nodeinfo_value def; /* kind NODEINFO_V_NONE when there is no default */
    int has_min, has_max, has_step;
    double min, max, step;
    const nodeinfo_value *options; /* COMBO only */
    size_t n_options;
    const char *tooltip; /* NULL when absent */
} nodeinfo_input;

typedef struct {
    const char *name;
    const char *type; /* "COMBO" for a list output; "*" when empty */
    int is_list;
} nodeinfo_output;

/* One node type. Owned by the schema, like nodeinfo_input. */
typedef struct {
    const char *name;
    const char *display_name; /* the name when absent */
    const char *category;     /* "" when absent */
    const char *description;  /* "" when absent */
    /* Where the node comes from: "nodes" and "comfy_extras.*" ship with
     * ComfyUI, "custom_nodes.*" are installed packs; "" when absent. */
    const char *python_module;
    const nodeinfo_input *inputs;
    size_t n_inputs;
    const nodeinfo_output *outputs;
    size_t n_outputs;
    int output_node;
    int deprecated;
    int experimental;
    /* Added by NODEINFO_FRONTEND_TYPES, not from /object_info. */
    int frontend_only;
    /* Widgets are created at run time (PrimitiveNode): the schema cannot
     * name them, so workflow values are kept by position. */
    int dynamic_widgets;
} nodeinfo_type;

typedef struct nodeinfo nodeinfo;

/* nodeinfo_create flags. */
enum {
    /* Also define the frontend-only types that /object_info never lists:
     * Note and MarkdownNote (a multiline "text" widget), Reroute (one "*"
     * input and output) and PrimitiveNode (one "*" output, widgets created
     * when connected). Types the JSON defines win. */
    NODEINFO_FRONTEND_TYPES = 1,
};

/* Parses json[0..len) (the object of GET /object_info). Real installs list
 * node types in shapes the frontend tolerates, and so does this parser: an
 * "output" (or "output_name", "output_is_list") that is a single value
 * rather than a list is a list of one; an input spec that is an empty list,
 * or whose type is neither a string nor a list of options, is a link input
 * of type "*"; an "input" or input group that is not an object, or an
 * output that is neither a type nor a list, contributes nothing. Such
 * repairs are counted (nodeinfo_oddities) and the node type is kept. Only an
 * entry that is not an object, or that exceeds a NODEINFO_MAX_* limit, is
 * skipped (nodeinfo_skipped), so that one broken custom node does not make
 * the whole install unusable.
 * Returns NODEINFO_OK and *out (refcount 1, release with nodeinfo_unref);
 * NODEINFO_EINVAL (not JSON or not an object), NODEINFO_ETOOBIG (a limit),
 * NODEINFO_ENOMEM. On error *out is NULL and err (may be NULL) holds one line
 * saying what is wrong and where. */
int nodeinfo_create(nodeinfo **out, const char *json, size_t len, unsigned flags, char *err,
                    size_t errlen);

/* Adds a reference (thread-safe) and returns ni. */
nodeinfo *nodeinfo_ref(nodeinfo *ni);
/* Drops a reference (thread-safe); frees the schema at zero. NULL is ok. */
void nodeinfo_unref(nodeinfo *ni);

/* Types, sorted by name (byte order). */
size_t nodeinfo_count(const nodeinfo *ni);
const nodeinfo_type *nodeinfo_at(const nodeinfo *ni, size_t i);
/* Exact, case-sensitive lookup; NULL when unknown. */
const nodeinfo_type *nodeinfo_find(const nodeinfo *ni, const char *name);

/* Entries of the JSON that were skipped, and why the first one was (NULL
 * when none was). */
size_t nodeinfo_skipped(const nodeinfo *ni);
const char *nodeinfo_skip_reason(const nodeinfo *ni);
/* Node types kept after a repair of an odd shape (see nodeinfo_create), and
 * what the first one was (NULL when none was), for one log line. */
size_t nodeinfo_oddities(const nodeinfo *ni);
const char *nodeinfo_odd_reason(const nodeinfo *ni);

/* Searches node types by words (NULL or "" matches all), restricted to
 * category when it is non-empty (case-insensitive, the category itself or
 * below it: "sampling" matches "sampling/custom_sampling"). Matching and
 * ranking are described in nodeindex.h: exact name or display name, then
 * name prefix, then all words, some words, fuzzy; core nodes first on ties.
 * The word index is built by nodeinfo_create. Writes up to max types to out
 * and returns how many; *total (may be NULL) gets the number of matches. */
size_t nodeinfo_search(const nodeinfo *ni, const char *query, const char *category,
                       const nodeinfo_type **out, size_t max, size_t *total);

/* Close matches for an unknown type name: edit distance on name and display
 * name (case-insensitive), then names containing it. Writes up to
 * NODEINFO_MAX_SUGGESTIONS type names (owned by the schema) to out and
 * returns how many. */
size_t nodeinfo_suggest(const nodeinfo *ni, const char *name,
                        const char *out[NODEINFO_MAX_SUGGESTIONS]);

/* The same matching over any candidate strings (widget, slot, option or
 * ref names). out receives pointers into cands. Returns the count (<= max). */
size_t nodeinfo_closest(const char *query, const char *const *cands, size_t n, const char **out,
                        size_t max);

/* The input called name (any kind); NULL when there is none. */
const nodeinfo_input *nodeinfo_input_find(const nodeinfo_type *t, const char *name);
/* The widget called name: a widget input, or "control_after_generate" when
 * the type has a widget with that flag (see nodeinfo_control_input). NULL
 * when there is none. */
const nodeinfo_input *nodeinfo_widget_find(const nodeinfo_type *t, const char *name);
/* The spec of the frontend's "control_after_generate" widget: a COMBO of
 * "fixed", "increment", "decrement", "randomize". Static. */
const nodeinfo_input *nodeinfo_control_input(void);
/* Widget names of t in widget order (control widgets included right after
 * their widget), for suggestions. Writes up to max pointers (owned by the
 * schema) and returns the total count. */
size_t nodeinfo_widget_names(const nodeinfo_type *t, const char **out, size_t max);

/* Checks a widget value against a widget input:
 * INT needs an integral number within [min, max] and, when the spec has a
 * step, (value - min) a multiple of it; FLOAT any finite number within
 * [min, max] (FLOAT steps such as 0.01 are the frontend's rounding, not a
 * constraint the server enforces, so they are not checked); STRING text;
 * BOOLEAN a boolean; COMBO one of the options, compared with its JSON type
 * (any text when dynamic_options).
 * Returns NODEINFO_OK, or NODEINFO_EVALUE with msg (may be NULL) saying what
 * is allowed (for a combo, up to NODEINFO_MAX_LISTED_OPTIONS values) and, for
 * a combo, up to max_sugg close options in sugg (pointers owned by the
 * schema; sugg may be NULL) with the count in *n_sugg. */
int nodeinfo_check_value(const nodeinfo_input *in, const Comfyd__V1__Value *v, char *msg,
                         size_t msglen, const char **sugg, size_t max_sugg, size_t *n_sugg);

/* Converts t to a newly allocated message (every string, array and
 * submessage malloc'd): free it with
 * protobuf_c_message_free_unpacked(&m->base, NULL). NULL on out of memory. */
Comfyd__V1__NodeType *nodeinfo_type_to_proto(const nodeinfo_type *t);

/* Converts a nodeinfo_value to a newly allocated Value (JSON as text);
 * NULL for NODEINFO_V_NONE or out of memory. Free like the above. */
Comfyd__V1__Value *nodeinfo_value_to_proto(const nodeinfo_value *v);

/* Bounded JSON parsing, shared with the graph module and the fuzzer. */
typedef struct {
    size_t max_bytes;
    size_t max_depth;
    size_t max_values;
} nodeinfo_json_limits;

/* Parses json[0..len) into a yajl tree after checking it against lim in a
 * streaming pass (so no unbounded tree is ever built). Rejects NUL bytes and
 * trailing data. Returns NODEINFO_OK with *out (free with yajl_tree_free), or
 * NODEINFO_EINVAL / NODEINFO_ETOOBIG / NODEINFO_ENOMEM with a message in
 * err (may be NULL). */
int nodeinfo_json_parse(const char *json, size_t len, const nodeinfo_json_limits *lim,
                        yajl_val *out, char *err, size_t errlen);

#endif

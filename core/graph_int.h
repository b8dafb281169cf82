/* graph_int: private to the graph module (graph.h), whose code is split by
 * concern over graph.c (the graph's lifetime, accessors and protobuf
 * building), graph_parse.c (parsing a workflow into the mirror),
 * graph_validate.c (simulating a batch of commands on a scratch copy),
 * graph_diff.c (differences between mirrors and the operation log),
 * graph_delta.c (the digest and applying a tab's delta) and graph_cmd.c
 * (the command table: one row per Command case with its shape check,
 * validator and diff op). This header holds the structures they share,
 * the small helpers (static inline) and the prototypes of the functions
 * one piece calls in another, prefixed gr_. Nothing outside core/graph*.c
 * includes it. */
#ifndef COMFYD_GRAPH_INT_H
#define COMFYD_GRAPH_INT_H

#include "graph.h"
#include "text.h"

#include <errno.h>
#include <math.h> /* isfinite, NAN: macros only */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yajl/yajl_gen.h>

#include "text.h"

/* The module links no libm (its dependencies are fixed), so the little
 * rounding it needs is done here. */
static inline double num_abs(double d)
{
    return d < 0 ? -d : d;
}

/* floor() for finite values; values beyond 2^52 are already integral. */
static inline double num_floor(double d)
{
    if (!(d > -0x1p52 && d < 0x1p52)) return d;
    double t = (double)(long long)d;
    return t > d ? t - 1 : t;
}
/* Positions closer than this are the same (LiteGraph stores float32). */
#define POS_EPSILON 1e-3
/* Bytes of a value quoted in a summary or message. */
#define QUOTE_MAX 60
/* Slot names listed in a SLOT_NOT_FOUND message. */
#define LISTED_SLOTS 12

typedef struct {
    graph_node *nodes; /* sorted by id */
    size_t n_nodes;
    graph_link *links; /* sorted by id */
    size_t n_links;
    int64_t last_node_id, last_link_id;
    /* Nodes carry a socket for every widget input (newer frontends). */
    int widget_sockets;
} mirror;

typedef struct {
    uint64_t rev;
    uint8_t *buf; /* a packed comfyd.v1.GraphOp */
    size_t len;
} logged_op;

struct graph {
    nodeinfo *schema;
    mirror m;
    char *json;
    size_t json_len;
    /* The workflow as a tree, kept once a delta was applied (deltas edit
     * it; json is then written from it when asked for). */
    yajl_val root;
    int json_stale; /* json predates the deltas applied to root */
    uint64_t revision;
    logged_op *log; /* ring of GRAPH_OPLOG_MAX */
    size_t log_head, log_count;
    /* Every op with a revision above this is in the log. */
    uint64_t log_floor;
};

/* ---- small string helpers ---- */

typedef struct {
    char *buf;
    size_t cap, len;
} strbuf;

static inline void sb_add(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void sb_add(strbuf *b, const char *fmt, ...)
{
    if (b->cap == 0 || b->len >= b->cap - 1) return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (w > 0) b->len += (size_t)w < b->cap - b->len ? (size_t)w : b->cap - b->len - 1;
}

static inline void fmt_num(char *out, size_t n, double d)
{
    if (d == num_floor(d) && num_abs(d) < 1e15)
        snprintf(out, n, "%.0f", d);
    else
        snprintf(out, n, "%.10g", d);
}

/* Appends s quoted, cut at QUOTE_MAX bytes on a UTF-8 boundary. */
static inline void sb_quote(strbuf *b, const char *s)
{
    size_t n = strlen(s), k = n;
    if (k > QUOTE_MAX) {
        k = QUOTE_MAX;
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
    }
    sb_add(b, "\"%.*s%s\"", (int)k, s, k < n ? "..." : "");
}

static inline void sb_nvalue(strbuf *b, const nodeinfo_value *v)
{
    char num[40];
    switch (v->kind) {
    case NODEINFO_V_INT:
        sb_add(b, "%lld", (long long)v->i);
        break;
    case NODEINFO_V_NUMBER:
        fmt_num(num, sizeof num, v->d);
        sb_add(b, "%s", num);
        break;
    case NODEINFO_V_TEXT:
        sb_quote(b, v->s);
        break;
    case NODEINFO_V_BOOL:
        sb_add(b, "%s", v->b ? "true" : "false");
        break;
    case NODEINFO_V_JSON:
        sb_add(b, "a JSON value");
        break;
    default:
        sb_add(b, "null");
        break;
    }
}

/* One line: control characters become spaces. */
static inline void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20) *s = ' ';
}

typedef struct {
    char *err;
    size_t errlen;
    const nodeinfo *schema;
} pctx;

#define PFAIL(c, rc, ...) text_err((c)->err, (c)->errlen, rc, __VA_ARGS__)

/* A node of the scratch copy a batch is simulated on. */
typedef struct {
    /* > 0 on the canvas or as predicted; < 0 for the stand-in of a
     * create_node that is invalid (so later commands can still be checked
     * against its type). */
    int64_t id;
    const graph_node *base; /* the mirror's node, or NULL when created */
    const nodeinfo_type *nt;
    const char *type;
    const nodeinfo_input **cin; /* created nodes: the input of each socket */
    size_t n_in;
    int64_t *links; /* the link into each input socket, 0 when none */
    int own;        /* cin and links are malloc'd */
    int removed_by; /* the command that removed it, or -1 */
} s_node;

typedef struct {
    int64_t id, from, to;
    uint32_t fslot, tslot;
    int removed;
} s_link;

typedef struct {
    const char *name;
    size_t cmd;
    int valid;
    size_t node; /* scratch index, or SIZE_MAX when nothing stands for it */
} s_ref;

typedef struct {
    const nodeinfo *schema;
    const Comfyd__V1__Command *const *cmds;
    size_t n_cmds;
    graph_check *out;
    size_t cap_errors;
    s_node *nodes;
    size_t n_nodes, cap_nodes, n_base;
    int64_t *base_links;
    s_link *links;
    size_t n_links, cap_links;
    s_ref *refs;
    size_t n_refs;
    int64_t *created; /* ids of valid create_node commands, in order */
    size_t n_created;
    int64_t last_node_id, last_link_id, next_phantom;
    int widget_sockets;
    int failed; /* the current command has an error */
    int oom;
} scratch;

/* The operations a diff builds (graph_diff.c), with what the next one is
 * about. */
typedef struct {
    Comfyd__V1__GraphOp **v;
    size_t n, cap;
    uint64_t rev;
    Comfyd__V1__GraphOrigin origin;
    int64_t time_ms;
    /* What the next op is about (GraphOp.node_id, link_id, from_node_id,
     * widget): set by each op_* before op_push, for provenance and audit. */
    int64_t node, link, from;
    const char *widget;
    int oom;
} oplist;

/* set_node_mode's names and the LiteGraph modes they stand for (graph.c). */
typedef struct {
    const char *name;
    int32_t mode;
} gr_node_mode;
#define GR_N_NODE_MODES 4
extern const gr_node_mode gr_node_modes[GR_N_NODE_MODES];

/* ---- the mirror's memory and lookups (graph.c) ---- */

/* Frees what a node owns (not n itself). */
void gr_node_free(graph_node *n);
/* Frees what a mirror owns (not m itself) and empties it. */
void gr_mirror_free(mirror *m);
/* The node or link with this id (binary search), or NULL. */
const graph_node *gr_m_find_node(const mirror *m, int64_t id);
const graph_link *gr_m_find_link(const mirror *m, int64_t id);

/* ---- parsing a workflow (graph_parse.c), also used on a delta's pieces ---- */

/* The member key of a JSON object, or NULL. */
yajl_val gr_obj_get(yajl_val obj, const char *key);
/* An integral id: 0 on success. */
int gr_get_i64(yajl_val v, int64_t *out);
/* Writes a parsed JSON value to g. */
yajl_gen_status gr_gen_json(yajl_gen g, yajl_val v);
/* One node or link of a workflow's list (idx names it in messages). */
int gr_parse_node(pctx *c, size_t idx, yajl_val v, graph_node *n);
int gr_parse_link(pctx *c, size_t idx, yajl_val v, graph_link *l);
/* qsort orders of a mirror's nodes and links: by id. */
int gr_cmp_node(const void *a, const void *b);
int gr_cmp_link(const void *a, const void *b);
/* Newer frontends give every widget input a socket: whether m's nodes do. */
int gr_detect_widget_sockets(const mirror *m, const nodeinfo *schema);
/* Parses a whole workflow into m. */
int gr_parse_mirror(pctx *c, const char *json, size_t len, mirror *m);

/* ---- validation (graph_validate.c) ---- */

/* Adds an error for command idx (-1: the batch) with suggestions. */
void gr_add_error(scratch *s, long idx, Comfyd__V1__GraphErrorCode code, const char *const *sugg,
                  size_t n_sugg, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The command table's validators (rows in graph_cmd.c): each checks one
 * command against the scratch copy and simulates it there. */
void gr_v_create(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                 Comfyd__V1__CommandResult *res);
void gr_v_remove(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                 Comfyd__V1__CommandResult *res);
void gr_v_connect(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                  Comfyd__V1__CommandResult *res);
void gr_v_disconnect(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                     Comfyd__V1__CommandResult *res);
void gr_v_set_widget(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                     Comfyd__V1__CommandResult *res);
void gr_v_move(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
               Comfyd__V1__CommandResult *res);
void gr_v_arrange(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                  Comfyd__V1__CommandResult *res);
void gr_v_set_node_mode(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                        Comfyd__V1__CommandResult *res);
void gr_v_clear(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
                Comfyd__V1__CommandResult *res);
void gr_v_read(scratch *s, size_t idx, const Comfyd__V1__Command *cmd,
               Comfyd__V1__CommandResult *res);

/* ---- differences and the operation log (graph_diff.c) ---- */

/* The command table's diff ops (rows in graph_cmd.c) of the commands that
 * set a field of a node: o and n are the same node before and after. */
void gr_d_move(oplist *l, const graph_node *o, const graph_node *n);
void gr_d_widgets(oplist *l, const graph_node *o, const graph_node *n);
void gr_d_mode(oplist *l, const graph_node *o, const graph_node *n);
/* The operations that turn mirror a into b, appended to l. */
void gr_diff_mirrors(const mirror *a, const mirror *b, oplist *l);
/* Appends op to g's operation log (a ring of GRAPH_OPLOG_MAX). */
void gr_log_push(graph *g, logged_op op);

/* ---- the command table (graph_cmd.c) ---- */

/* Validates command idx through its row (an error when it has none). */
void gr_validate_one(scratch *s, size_t idx, const Comfyd__V1__Command *c,
                     Comfyd__V1__CommandResult *res);
/* Runs every row's diff op on a node before (o) and after (n). */
void gr_diff_node_fields(oplist *l, const graph_node *o, const graph_node *n);

#endif

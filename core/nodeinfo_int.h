/* nodeinfo_int: private to the node-type schema (nodeinfo.h), whose code
 * is split by concern over nodeinfo.c (the arena, bounded JSON, tree
 * helpers, the frontend-only types, creation and destruction, search,
 * inputs and widgets), nodeinfo_parse.c (parsing one node type),
 * nodeinfo_check.c (suggestions and value checks) and nodeinfo_pb.c
 * (protobuf conversion). This header holds the structures they share and
 * the prototypes of the functions one piece calls in another, prefixed
 * ni_. Nothing outside core/nodeinfo*.c includes it. */
#ifndef COMFYD_NODEINFO_INT_H
#define COMFYD_NODEINFO_INT_H

#include "nodeinfo.h"
#include "text.h"

#include "jsonscan.h"
#include "nodeindex.h"

#include <ctype.h>
#include <math.h> /* isfinite, NAN: macros only */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
} arena_chunk;

struct nodeinfo {
    atomic_ulong refs;
    arena_chunk *arena;
    nodeinfo_type *types; /* sorted by name */
    nodeindex *index;     /* the words of types, for nodeinfo_search */
    /* Open addressing over the names: slot -> index into types + 1 (0:
     * empty). nodeinfo_find runs for every node of a canvas on each
     * patch's validation; a binary search of strcmp's was 8 % of the core's
     * work per command on a 500-node canvas. */
    uint32_t *by_name;
    size_t cap_by_name; /* a power of two, at least twice n_types */
    size_t n_types;
    size_t skipped;
    char *skip_reason;
    size_t odd;
    char *odd_reason;
};

typedef struct {
    arena_chunk **arena;
    char *why; /* why the entry is skipped */
    size_t whylen;
    char *odd; /* the first repair made to the entry ("" when none) */
    size_t oddlen;
} type_ctx;

double ni_num_abs(double d);
double ni_num_floor(double d);
void *ni_arena_alloc(arena_chunk **head, size_t n);
char *ni_arena_strdup(arena_chunk **head, const char *s);
yajl_val ni_obj_get(yajl_val obj, const char *key);
int ni_truthy(yajl_val v);
int ni_num_of(yajl_val v, double *d);
int ni_scalar_value(arena_chunk **a, yajl_val v, int with_text, nodeinfo_value *out);
/* Notes a repaired shape; the entry is kept. */
void ni_odd(type_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ni_parse_type(type_ctx *c, const char *name, yajl_val v, nodeinfo_type *t);

#endif

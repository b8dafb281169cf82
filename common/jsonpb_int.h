/* jsonpb_int: private to the JSON <-> protobuf codec (jsonpb.h), whose
 * code is split by concern over jsonpb.c (options, allocation, errors and
 * the descriptor analysis), jsonpb_tree.c (parsing JSON into the bounded
 * tree), jsonpb_decode.c (tree -> message) and jsonpb_encode.c (message
 * -> JSON). This header holds the structures they share and the
 * prototypes of the functions one piece calls in another, prefixed jp_.
 * Nothing outside common/jsonpb*.c includes it. */
#ifndef COMFYD_JSONPB_INT_H
#define COMFYD_JSONPB_INT_H

#include "jsonpb.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "text.h"

/* Integers up to 2^53 survive a trip through a JavaScript number. */
#define SAFE_INT ((int64_t)1 << 53)
/* Longest key or value quoted in an error message. */
#define ERR_QUOTE_MAX 64
/* Arena block size: a typical request fits in one or two blocks. */
#define ARENA_BLOCK 16384

/* Message types whose flattening was already decided in this call (the
 * check compares every member field name with every other field name). */
#define FLAT_CACHE 32

typedef struct flat_cache {
    const ProtobufCMessageDescriptor *d[FLAT_CACHE];
    long q[FLAT_CACHE];
    unsigned n;
} flat_cache;

/* Options with the defaults filled in, plus per-call scratch. */
typedef struct cfg {
    size_t max_input, max_string, max_array, max_total;
    unsigned max_depth;
    int ignore_unknown, emit_defaults, flatten_all;
    const ProtobufCMessageDescriptor *const *flatten;
    size_t n_flatten;
    const char *type_key;
    size_t type_key_len;
    jsonpb_enum_style enum_style;
    const jsonpb_enum_override *enum_over;
    size_t n_enum_over;
    ProtobufCAllocator *a;
    char *err;
    size_t errlen;
    flat_cache *fc; /* mutable through a const cfg */
} cfg;

/* One step of a JSON path, linked to its parent on the C stack. */
typedef struct pathseg {
    const struct pathseg *up;
    const char *key; /* member name, or NULL for an array index */
    size_t klen;
    size_t idx;
} pathseg;

typedef struct sbuf {
    char *p;
    size_t cap, len;
} sbuf;

#define MEMBER(m, off) ((void *)((char *)(m) + (off)))

#define CMEMBER(m, off) ((const void *)((const char *)(m) + (off)))

/* Members of a scalar union, by JSON kind. */
typedef struct sunion {
    const ProtobufCFieldDescriptor *i, *f, *s, *b;
} sunion;

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jnode {
    struct jnode *next;  /* next element of the parent */
    struct jnode *child; /* first element (J_ARR, J_OBJ) */
    const char *key;     /* member name inside a J_OBJ (NUL-terminated) */
    size_t klen;
    const char *s; /* J_STR text or J_NUM literal (NUL-terminated) */
    size_t len;    /* bytes of s, or elements of J_ARR/J_OBJ */
    unsigned char type, b, integral;
} jnode;

typedef struct ablock {
    struct ablock *next;
    size_t used, cap;
    max_align_t data[];
} ablock;

typedef struct arena {
    const cfg *c;
    ablock *head;
} arena;

typedef struct frame {
    jnode *node, *last;
    const char *key; /* key of the member being read (J_OBJ) */
    size_t klen;
} frame;

typedef struct builder {
    const cfg *c;
    arena ar;
    yajl_handle h;
    frame *stack;
    unsigned depth;
    jnode *root;
    size_t total;
    size_t bad_escape; /* offset of the first unpaired surrogate escape */
    int code;          /* error raised by a callback */
} builder;

int jp_cfg_init(cfg *c, const jsonpb_opts *o, char *err, size_t errlen, flat_cache *fc);
void *jp_xalloc(const cfg *c, size_t n);
void jp_xfree(const cfg *c, void *p);
char *jp_xdupn(const cfg *c, const char *s, size_t n);
size_t jp_utf8_clip(const char *s, size_t n);
void jp_sb_put(sbuf *b, const char *s, size_t n);
void jp_sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jp_sb_key(sbuf *b, const char *k, size_t n);
/* Records the error (path, then message) and returns code. */
int jp_fail(const cfg *c, int code, const pathseg *p, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int jp_quote_len(const char *s, size_t n);
int jp_is_oneof(const ProtobufCFieldDescriptor *f);
int jp_has_flag(const ProtobufCFieldDescriptor *f);
size_t jp_type_size(ProtobufCType t);
int jp_name_is(const char *name, const char *key, size_t klen);
const ProtobufCFieldDescriptor *jp_find_field(const ProtobufCMessageDescriptor *d, const char *key,
                                              size_t klen);
int jp_scalar_union(const ProtobufCMessageDescriptor *d, sunion *u);
int jp_is_map(const ProtobufCMessageDescriptor *parent, const ProtobufCFieldDescriptor *f);
long jp_flattened(const cfg *c, const ProtobufCMessageDescriptor *d);
void jp_arena_free(arena *ar);
int jp_parse_tree(builder *b, const char *json, size_t len);
size_t jp_enum_prefix(const char *short_name, char *buf, size_t cap);

#endif

/* jsonpb: JSON <-> protobuf-c messages, driven only by message descriptors.
 *
 * One generic codec for every comfyd.v1 message the bridge carries (the
 * proto3 JSON mapping with the field names of the seeds), so that no message
 * needs a hand-written translation. The module is stateless: every call takes
 * its options and keeps nothing, so it is safe from any thread.
 *
 * Mapping (decode accepts, encode writes):
 * - Field names: encode writes the proto field name (snake_case); decode
 *   accepts it or the lowerCamel JSON name. Unknown keys are an error unless
 *   opts->ignore_unknown_fields. A key given twice is an error. null for a
 *   field means absent.
 * - int32/uint32/bool/float/double/string as JSON values. int64/uint64 are
 *   written as numbers when |v| <= 2^53, else as decimal strings; decode
 *   accepts numbers or decimal strings, range-checked; a number with a
 *   fraction is not an integer. float/double also take "NaN", "Infinity",
 *   "-Infinity" (and are written so). Strings are UTF-8 without NUL; escaped
 *   lone surrogates ("\ud800") are rejected. bytes are base64 (decode also
 *   takes the URL-safe alphabet and missing padding).
 * - Enums are written as value names ("BATCH_MODE_ATOMIC") unless
 *   opts->enum_style (or an entry of opts->enum_overrides for that enum)
 *   asks for the name without the enum's UPPER_SNAKE prefix ("ATOMIC") or
 *   that lower-cased ("atomic"); decode takes all of these, the short name
 *   in any case, and the number of a known value. Unknown numbers are
 *   written as numbers.
 * - repeated -> arrays; map<K,V> -> objects (integer and bool keys as strings).
 * - google.protobuf.*Value wrappers are the bare JSON value; an absent key
 *   leaves the pointer NULL, so presence survives a round trip.
 * - Scalar unions: a message whose fields are all members of one oneof, of
 *   distinct JSON kinds (at most one integer, one floating, one string and
 *   one bool member), is a bare JSON scalar (NodeRef, SlotRef, Value). Decode
 *   picks the member by JSON type: a number without '.' or exponent goes to
 *   the integer member when there is one, else to the floating one; a string
 *   to the string member; true/false to the bool member. The object form
 *   {"id": 3} is accepted too. Encode writes the set member (64-bit integers
 *   always as numbers and integral floating values with ".0", so that decode
 *   picks the same member again) or {} when none is set.
 * - Flattened oneofs: a message with exactly one oneof, whose members are all
 *   messages (comfyd.v1.Command), may be named in opts->flatten (or all such
 *   messages with opts->flatten_all). It is then written as
 *   {"type": "<member>", ...member fields inline} and decode takes that form
 *   or the nested one ({"create_node": {...}}). Without a member: "missing
 *   field: type"; an unknown member: "unknown type 'foo'; expected one of
 *   create_node, ...". A message qualifies only when the type key and the
 *   member fields cannot collide with its other fields; else it stays nested.
 *
 * Not supported: Any, Struct, Timestamp, Duration, FieldMask (they are coded
 * as ordinary messages); proto2 extensions; unknown enum numbers on decode.
 * Numbers are parsed and printed with the C library in the "C" locale: the
 * process must not change LC_NUMERIC.
 */
#ifndef COMFYD_JSONPB_H
#define COMFYD_JSONPB_H

#include "comfyd_error.h"

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>
#include <yajl/yajl_gen.h>

/* Default limits for decoding untrusted text; every one can be changed in
 * jsonpb_opts (0 there means the default). */

/* The largest request body (a batch of graph commands, a workflow to load)
 * is well below this; it bounds parse time and memory. */
#define JSONPB_MAX_INPUT_BYTES (1024 * 1024)
/* The contract nests at most ~8 levels; the converter recurses per level. */
#define JSONPB_MAX_DEPTH 64
/* The highest max_depth a caller may ask for: keeps the recursion's stack
 * use bounded (a few hundred bytes per level). */
#define JSONPB_MAX_DEPTH_LIMIT 1000
/* A LiteGraph workflow (workflow_json) is the longest text field; real ones
 * stay well below this. Applies to object keys and number texts too. */
#define JSONPB_MAX_STRING_BYTES (512 * 1024)
/* Elements of one array or members of one object: a batch of commands or a
 * node list is orders of magnitude smaller. */
#define JSONPB_MAX_ARRAY_ELEMENTS 10000
/* All values of one document: bounds the parse tree (~64 bytes a value). */
#define JSONPB_MAX_TOTAL_ELEMENTS 100000

/* Key of the member name in flattened oneofs, as in the seeds' commands. */
#define JSONPB_DEFAULT_TYPE_KEY "type"

/* Error codes: jsonpb's band of the one error space (comfyd_error.h). The
 * input's faults run from JSONPB_ESYNTAX down to JSONPB_ELIMIT. */
enum jsonpb_error {
    JSONPB_OK = CFD_OK,
    /* The text is not acceptable JSON. The client must fix its input. */
    JSONPB_ESYNTAX = CFD_ERR_JSONPB_SYNTAX, /* malformed JSON, trailing garbage, empty */
    JSONPB_EUTF8 = CFD_ERR_JSONPB_UTF8,     /* invalid UTF-8, NUL, lone surrogate escape */
    /* The JSON does not fit the message. The client must fix its input. */
    JSONPB_ETYPE = CFD_ERR_JSONPB_TYPE,                   /* wrong JSON type for the field */
    JSONPB_ERANGE = CFD_ERR_JSONPB_RANGE,                 /* number outside the type's range */
    JSONPB_EUNKNOWN_FIELD = CFD_ERR_JSONPB_UNKNOWN_FIELD, /* key that names no field */
    JSONPB_EUNKNOWN_VALUE = CFD_ERR_JSONPB_UNKNOWN_VALUE, /* unknown enum value or type */
    JSONPB_EMISSING = CFD_ERR_JSONPB_MISSING,             /* flattened oneof without its type key */
    JSONPB_EDUPLICATE = CFD_ERR_JSONPB_DUPLICATE,         /* key twice, or two members of a oneof */
    /* A limit of jsonpb_opts was exceeded (input too large/deep). */
    JSONPB_ELIMIT = CFD_ERR_JSONPB_LIMIT,
    /* The caller's mistake (NULL argument, bad option, generator state). */
    JSONPB_EINVAL = CFD_ERR_INVALID,
    /* Out of memory; the call had no effect. */
    JSONPB_ENOMEM = CFD_ERR_NOMEM,
};

/* How encode writes enum values; decode accepts every style. */
typedef enum jsonpb_enum_style {
    /* The value's name, as proto3 JSON: "BATCH_MODE_ATOMIC". */
    JSONPB_ENUM_FULL = 0,
    /* Without the UPPER_SNAKE form of the enum's name and "_" (BatchMode ->
     * "BATCH_MODE_"): "ATOMIC". A name without that prefix is written whole. */
    JSONPB_ENUM_SHORT = 1,
    /* JSONPB_ENUM_SHORT lower-cased: "atomic". */
    JSONPB_ENUM_LOWER = 2,
} jsonpb_enum_style;

/* A style for one enum type, winning over jsonpb_opts.enum_style. */
typedef struct jsonpb_enum_override {
    const ProtobufCEnumDescriptor *e;
    jsonpb_enum_style style;
} jsonpb_enum_override;

/* Options. A zeroed struct (or a NULL pointer) gives the defaults. The
 * struct and what it points to are only read during a call. */
typedef struct jsonpb_opts {
    /* Decode limits; 0 = the JSONPB_MAX_* default. max_depth may not exceed
     * JSONPB_MAX_DEPTH_LIMIT; it also bounds message nesting on encode. */
    size_t max_input_bytes;
    unsigned max_depth;
    size_t max_string_bytes;
    size_t max_array_elements;
    size_t max_total_elements;
    /* Decode: skip keys that name no field instead of failing. */
    int ignore_unknown_fields;
    /* Encode: also write fields at their proto3 default (0, "", false, [],
     * {}); unset messages, wrappers and oneof members are still omitted. */
    int emit_defaults;
    /* Flattened oneofs: these message types, or every qualifying one. */
    const ProtobufCMessageDescriptor *const *flatten;
    size_t n_flatten;
    int flatten_all;
    /* Discriminator key of flattened oneofs; NULL = "type". */
    const char *type_key;
    /* Encode: how enum values are written, and exceptions by enum type
     * (the first entry for a type wins). A style outside the enum or an
     * entry without a type is JSONPB_EINVAL. */
    jsonpb_enum_style enum_style;
    const jsonpb_enum_override *enum_overrides;
    size_t n_enum_overrides;
    /* Decode: allocator for the message and for scratch memory (NULL =
     * malloc/free, which is what protobuf_c_message_free_unpacked(m, NULL)
     * uses). yajl's own small parser state always uses malloc. */
    ProtobufCAllocator *allocator;
} jsonpb_opts;

/* 1 when d is one of google.protobuf's wrapper messages (Int32Value,
 * StringValue, ...): one scalar field "value", written as the bare value. */
int jsonpb_is_wrapper(const ProtobufCMessageDescriptor *d);

/* Decodes json[0..len) (need not be NUL-terminated) into a new message of
 * type d. On success *out is the message, allocated with opts->allocator;
 * the caller frees it with protobuf_c_message_free_unpacked(*out,
 * opts->allocator). On failure *out is NULL, nothing is leaked and, when err
 * is not NULL, err[0..errlen) holds a NUL-terminated UTF-8 message that
 * starts with the JSON path of the offending value, e.g.
 * "commands[2].node_id: expected an integer or a string".
 * Returns 0, or:
 *   JSONPB_ESYNTAX, JSONPB_EUTF8, JSONPB_ETYPE, JSONPB_ERANGE,
 *   JSONPB_EUNKNOWN_FIELD, JSONPB_EUNKNOWN_VALUE, JSONPB_EMISSING,
 *   JSONPB_EDUPLICATE, JSONPB_ELIMIT: the input is at fault; answer the
 *     client with err (HTTP 400, or 413 for JSONPB_ELIMIT on size);
 *   JSONPB_EINVAL: d, out or json is NULL, or opts is invalid;
 *   JSONPB_ENOMEM: allocation failed. */
int jsonpb_decode(const ProtobufCMessageDescriptor *d, const char *json, size_t len,
                  const jsonpb_opts *opts, ProtobufCMessage **out, char *err, size_t errlen);

/* Encodes m as one JSON object (or a bare value for wrappers and scalar
 * unions). On success *out is a NUL-terminated string of *len bytes
 * (compact, no spaces) that the caller frees with free(). The text is the
 * one jsonpb_encode_gen writes through a compact yajl generator, written
 * straight into the string (several times faster). err as above (may
 * be NULL). Returns 0, or:
 *   JSONPB_EUTF8: a string field of m is not valid UTF-8 (path in err);
 *   JSONPB_ELIMIT: m nests deeper than max_depth;
 *   JSONPB_EINVAL: m, out or len is NULL, or opts is invalid;
 *   JSONPB_ENOMEM: allocation failed.
 * On failure *out is NULL. */
int jsonpb_encode(const ProtobufCMessage *m, const jsonpb_opts *opts, char **out, size_t *len,
                  char *err, size_t errlen);

/* Writes m as one JSON value into g, which must be where a value may go
 * (e.g. after the key "data" of an envelope the caller opened). g is
 * borrowed; the caller configures, reads and frees it. Returns what
 * jsonpb_encode returns, plus JSONPB_EINVAL when g does not accept a value
 * here. After a failure g holds a partial document: discard it. */
int jsonpb_encode_gen(yajl_gen g, const ProtobufCMessage *m, const jsonpb_opts *opts, char *err,
                      size_t errlen);

/* Writes the fields of m (not a wrapper or scalar union) as members of the
 * map the caller has open in g, without braces: for envelopes that put
 * their own keys beside the message's ({"error": ..., fields of m}). A
 * flattened m writes its type key and member fields. Returns what
 * jsonpb_encode_gen returns; JSONPB_EINVAL also for a wrapper or a scalar
 * union, which have no fields of their own in JSON. */
int jsonpb_encode_fields_gen(yajl_gen g, const ProtobufCMessage *m, const jsonpb_opts *opts,
                             char *err, size_t errlen);

#endif

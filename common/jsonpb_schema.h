/* jsonpb_schema: the JSON Schema of what jsonpb_decode accepts for a
 * message, generated from its protobuf-c descriptor.
 *
 * A tool's schema and its argument decoding then cannot drift apart: both
 * follow the descriptor. Used for the MCP tools that take a request message
 * (bridge/app_mcp.c) and for the graph tools' patch arguments, whose
 * commands come straight from the Command oneof (toolspec.c): a command
 * added to the contract appears in every schema without an edit here or
 * there.
 *
 * Mapping (jsonpb.h's): proto field names; wrappers are nullable scalars;
 * enums their short lower-case names without the zero value; repeated
 * fields arrays; maps objects (additionalProperties: the value's schema);
 * scalar unions (NodeRef, SlotRef, Value) a type list of their members'
 * JSON kinds; a flattened oneof (opts->flatten, as jsonpb_opts.flatten)
 * anyOf one object per member, {"type": {"const": "<member>"}, member
 * fields...}, with "type" required; other messages objects with
 * additionalProperties false, nested up to JSONPB_SCHEMA_MAX_DEPTH.
 *
 * Paths name fields in docs, skip and required: dotted proto field names
 * from the top message ("config.model"); the members of a flattened oneof
 * are named by the member ("commands.create_node.node_type"). A doc whose
 * path is a message's full name ("comfyd.v1.NodeRef") describes that
 * message wherever it is used, unless its path has a doc of its own.
 *
 * Stateless and thread-safe: every call builds its text from its
 * arguments. */
#ifndef COMFYD_JSONPB_SCHEMA_H
#define COMFYD_JSONPB_SCHEMA_H

#include "comfyd_error.h"

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

/* Nesting of a generated schema (the contract nests ~4 levels). */
#define JSONPB_SCHEMA_MAX_DEPTH 8

enum jsonpb_schema_error {
    JSONPB_SCHEMA_OK = CFD_OK,
    /* d is NULL or not a message descriptor, or it nests too deep. */
    JSONPB_SCHEMA_EINVAL = CFD_ERR_INVALID,
    JSONPB_SCHEMA_ENOMEM = CFD_ERR_NOMEM,
};

/* A description of one field (or message, see above). */
typedef struct jsonpb_field_doc {
    const char *path;
    const char *description;
} jsonpb_field_doc;

/* Extra schema keywords for one field: trusted JSON members text such as
 * "\"minItems\":1,\"maxItems\":1000". */
typedef struct jsonpb_field_keywords {
    const char *path;
    const char *members;
} jsonpb_field_keywords;

typedef struct jsonpb_schema_opts {
    const jsonpb_field_doc *docs; /* may be NULL */
    size_t n_docs;
    /* Paths of fields (or flattened members) left out. */
    const char *const *skip;
    size_t n_skip;
    /* Paths of required fields, at any depth ("commands",
     * "commands.connect.from_id"). */
    const char *const *required;
    size_t n_required;
    /* Extra top-level properties: JSON members text ("\"wait_ms\":{...}"),
     * written after the generated ones; NULL: none. */
    const char *extra_properties;
    /* Messages written in the flattened oneof form (jsonpb_opts.flatten);
     * a message that does not qualify stays nested, as in jsonpb. */
    const ProtobufCMessageDescriptor *const *flatten;
    size_t n_flatten;
    /* Limits and other keywords by path (may be NULL). */
    const jsonpb_field_keywords *keywords;
    size_t n_keywords;
} jsonpb_schema_opts;

/* The schema of d as compact JSON text: *out is malloc'd (free()), *len its
 * length (len may be NULL). opts may be NULL. Returns JSONPB_SCHEMA_OK,
 * JSONPB_SCHEMA_EINVAL or JSONPB_SCHEMA_ENOMEM (then *out is NULL). */
int jsonpb_schema(const ProtobufCMessageDescriptor *d, const jsonpb_schema_opts *opts, char **out,
                  size_t *len);

#endif

/* provenance: who last changed each node, link and widget value of one
 * canvas, and who made each revision still in its operation log
 * (docs/provenance.md).
 *
 * An actor is a session's skill (the core's agent tools), an MCP client
 * (its clientInfo name, passed on by the bridge), a gRPC caller (the name
 * it sends in comfyd-caller metadata), the person at the tab, or a load
 * without recorded provenance. Actors carry names only: nothing here ever
 * holds a token, a header or an address.
 *
 * The canvas feeds every commit in (provn_record: the operations the commit
 * logged, its revision, time and actor); the records follow the ops: a
 * created node gets a record for the node (also the default of its
 * widgets), a move, rename or mode change the node's, a set_widget the
 * widget's and the node's, a connect the link's; removals drop them.
 * Reads fill the provenance fields of Graph, Node, Link, Widget and GraphOp
 * messages. The state travels in a workflow as extra.comfyd.provenance
 * (provn_to_json, provn_load_json), which ComfyUI keeps on save and load and
 * otherwise ignores, so it survives a save, a load and a core restart (the
 * tab re-attaches with it).
 *
 * Pure logic: no I/O, no locks; the owner (the canvas) serialises access.
 * Allocation failures are reported (PROVN_ENOMEM) and leave the state as it
 * was or with fewer records, never inconsistent. */
#ifndef COMFYD_PROVENANCE_H
#define COMFYD_PROVENANCE_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

#include "comfyd/v1/graph.pb-c.h"
#include "graph.h"

/* A session id (a UUID; the session manager's limit is below this). */
#define PROVN_MAX_ID 128
/* A skill name, an MCP clientInfo name or a gRPC caller name: names people
 * read, not payloads. Longer caller names are refused, not cut. */
#define PROVN_MAX_NAME 128
/* Revisions whose actor is remembered: at least every revision the
 * operation log can still hold (one op or more per revision). */
#define PROVN_MAX_REVS GRAPH_OPLOG_MAX
/* extra.comfyd.provenance accepted from a workflow: records for the
 * largest graphs (GRAPH_MAX_NODES nodes with their widgets and links) fit
 * well below this; more is refused as a whole. */
#define PROVN_MAX_JSON_BYTES (8u << 20)
/* Format version written to and read from extra.comfyd.provenance. */
#define PROVN_JSON_VERSION 1
/* The gRPC metadata keys a caller names itself with; the bridge sends the
 * second with an MCP client's clientInfo name. */
#define PROVN_MD_CALLER "comfyd-caller"
#define PROVN_MD_MCP_CLIENT "comfyd-mcp-client"

typedef enum {
    PROVN_OK = CFD_OK,
    PROVN_EINVAL = CFD_ERR_INVALID, /* a bad argument or name; message in err */
    PROVN_ENOMEM = CFD_ERR_NOMEM,
} provn_err;

/* Who made a change: a value, copied freely. Strings are NUL-terminated
 * and empty when not used by the kind. */
typedef struct provn_actor {
    Comfyd__V1__ActorKind kind;
    char session_id[PROVN_MAX_ID + 1]; /* SKILL */
    char skill[PROVN_MAX_NAME + 1];    /* SKILL */
    char name[PROVN_MAX_NAME + 1];     /* MCP: clientInfo name; GRPC: caller name */
} provn_actor;

/* Fills *a. A caller name (GRPC, MCP) must be 1..PROVN_MAX_NAME bytes of
 * printable ASCII (0x20..0x7e) or NULL/empty for an unnamed caller; a
 * SKILL needs a session id and a skill of the same characters within
 * their limits. USER and LOAD take no names. Returns PROVN_OK or
 * PROVN_EINVAL with a message naming what is wrong (*a is then an unnamed
 * GRPC caller). */
int provn_actor_make(provn_actor *a, Comfyd__V1__ActorKind kind, const char *session_id,
                     const char *skill, const char *name, char *err, size_t errlen);
/* 1 when name is acceptable as a caller name as described above. */
int provn_name_valid(const char *name, size_t max);
/* A one-line description ("mcp:claude-code", "skill:builder@SESSION",
 * "user", "grpc:ci-bot", "grpc", "load") into buf (cut, terminated). */
char *provn_actor_text(const provn_actor *a, char *buf, size_t len);
/* A newly allocated Actor message (NULL on out of memory). */
Comfyd__V1__Actor *provn_actor_to_proto(const provn_actor *a);

typedef struct provn provn;

/* An empty state. Returns PROVN_OK and *out (free with provn_destroy), or
 * PROVN_ENOMEM. */
int provn_create(provn **out);
void provn_destroy(provn *p);

/* Records one commit: ops[0..n) are the operations it logged (GraphOp with
 * node_id, link_id, from_node_id, widget as graph.c fills them), made by
 * who at revision and time_ms. The revision's actor is remembered even
 * with no ops. Returns PROVN_OK or PROVN_ENOMEM (some records may be
 * missing then, none wrong). */
int provn_record(provn *p, Comfyd__V1__GraphOp *const *ops, size_t n, const provn_actor *who,
                 uint64_t revision, int64_t time_ms);

/* Drops the records of nodes and links that are not in g (links removed
 * with their node leave no op of their own). */
void provn_prune(provn *p, const graph *g);

/* The actor of revision rev, or NULL when it is not remembered. */
const provn_actor *provn_revision_actor(const provn *p, uint64_t rev);

/* Fills the provenance of every node, widget and link of gm (a Graph
 * built by graph_to_proto) that has a record. PROVN_OK or PROVN_ENOMEM. */
int provn_fill_graph(const provn *p, Comfyd__V1__Graph *gm);
/* The same for one node. */
int provn_fill_node(const provn *p, Comfyd__V1__Node *n);
/* Sets GraphOp.actor of each op from its revision's actor. */
int provn_fill_ops(const provn *p, Comfyd__V1__GraphOp *const *ops, size_t n);
/* A newly allocated Provenance of node id (its latest change), or NULL
 * when it has no record (or out of memory). */
Comfyd__V1__Provenance *provn_node_provenance(const provn *p, int64_t id);

/* The state as the JSON object of extra.comfyd.provenance, malloc'd and
 * NUL-terminated (*len its length), with the records of the nodes and
 * links of g only, at revision; *n_records (may be NULL) gets how many
 * nodes and links have one. NULL on out of memory. */
char *provn_to_json(const provn *p, const graph *g, uint64_t revision, size_t *len,
                    size_t *n_records);
/* The same for the records changed after revision `since` only (nodes
 * whose newest record, links whose record, is newer), with "since": since
 * in the JSON; the actors are numbered among those records. A tab that
 * holds the provenance as of `since` merges it (docs/provenance.md);
 * since 0 is provn_to_json. NULL on out of memory. */
char *provn_changes_json(const provn *p, const graph *g, uint64_t revision, uint64_t since,
                         size_t *len, size_t *n_records);
/* Reads extra.comfyd.provenance from the workflow json[0..len) (a workflow
 * without one is PROVN_OK with nothing changed) and takes its records for
 * the nodes, widgets and links of g that have no record or whose record
 * is from revision `loaded` (the load that brought them in): the stored
 * provenance is older and better than "loaded". A malformed or oversized
 * provenance is PROVN_EINVAL with a message and changes nothing. */
int provn_load_json(provn *p, const graph *g, const char *json, size_t len, uint64_t loaded,
                    char *err, size_t errlen);
/* json[0..len) (a workflow) with extra.comfyd.provenance set to provn_json
 * (replacing any there), malloc'd and terminated in *out (length *out_len); other
 * keys are kept as they were. PROVN_OK, PROVN_EINVAL (json is not a
 * workflow object), PROVN_ENOMEM. */
int provn_inject_json(const char *json, size_t len, const char *provn_json, size_t provn_len,
                      char **out, size_t *out_len, char *err, size_t errlen);

#endif

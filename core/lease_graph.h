/* lease_graph: leases on nodes of one canvas (docs/concurrent-editing.md,
 * "Leases").
 *
 * A caller (a session's skill, an MCP client, a named gRPC or HTTP caller)
 * takes a lease on a set of nodes and/or a group of the workflow for a
 * bounded time. While it holds, other callers' patches that change a
 * leased node (graph_cmd_changes: the commutation check's reading of a
 * command), or create a node inside a leased group's box, are refused with
 * LEASED naming the holder and the expiry. The holder's own patches pass.
 * The user's edits in the tab are never refused: the canvas reports them
 * here (lgraph_user_edit) and they are marked in the diff (GraphOp.lease_id
 * and lease_holder) and on the lease (user_edited_node_ids), so the holder
 * learns the user touched what it holds.
 *
 * Not the session lease between cores (lease.h): this one is about nodes.
 *
 * Expired leases are dropped lazily by every call that is given the time.
 * Pure logic: no I/O, no locks, no clock; the owner (the canvas)
 * serialises access and passes now_ms (Unix milliseconds). */
#ifndef COMFYD_LEASE_GRAPH_H
#define COMFYD_LEASE_GRAPH_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

#include "comfyd/v1/graph.pb-c.h"
#include "graph.h"
#include "provenance.h"

/* Leases in force on one canvas: a few per concurrent skill or client. */
#define LGRAPH_MAX_LEASES 64
/* Nodes one lease names (a group's nodes included): a large part of the
 * largest workflows. */
#define LGRAPH_MAX_NODES 2048
/* How long a lease holds: the default, and the bounds of a request. A
 * holder that needs longer renews. */
#define LGRAPH_DEFAULT_TTL_MS 60000u
#define LGRAPH_MIN_TTL_MS 1000u
#define LGRAPH_MAX_TTL_MS 600000u
/* A group named by title (LiteGraph titles are short). */
#define LGRAPH_MAX_GROUP 256
/* Groups looked at in one workflow. */
#define LGRAPH_MAX_GROUPS 4096
/* User edits of leased nodes remembered for the diff: the operation log's
 * length, so every op still in the log can be marked. */
#define LGRAPH_MAX_MARKS GRAPH_OPLOG_MAX
/* User-edited nodes listed on one lease. */
#define LGRAPH_MAX_EDITED 64

typedef enum {
    LGRAPH_OK = CFD_OK,
    LGRAPH_EINVAL = CFD_ERR_INVALID,            /* a bad request: message in err */
    LGRAPH_ELEASED = CFD_ERR_LGRAPH_LEASED,     /* another holder's lease is in the way */
    LGRAPH_ENOTFOUND = CFD_ERR_LGRAPH_NOTFOUND, /* a node, group or lease not there */
    LGRAPH_EFULL = CFD_ERR_LGRAPH_FULL,         /* LGRAPH_MAX_LEASES in force */
    LGRAPH_ENOMEM = CFD_ERR_NOMEM,
} lgraph_err;

typedef struct lgraph lgraph;

/* An empty table. LGRAPH_OK and *out (free with lgraph_destroy) or
 * LGRAPH_ENOMEM. */
int lgraph_create(lgraph **out);
void lgraph_destroy(lgraph *t);

/* 1 when a and b are the same holder: the same kind and, for a skill, the
 * same session and skill, for a client or caller the same name. */
int lgraph_same_holder(const provn_actor *a, const provn_actor *b);

/* What went wrong, for the caller's error: the lease in the way (a new
 * message the caller frees, or NULL), and the node it covers. */
typedef struct {
    Comfyd__V1__Lease *lease;
    int64_t node_id;
    size_t index; /* lgraph_check: the command */
    char message[1024];
} lgraph_refusal;

void lgraph_refusal_clear(lgraph_refusal *r);

/* Takes a lease for who on nodes[0..n) and/or the group named group (its
 * title, or its id in decimal; NULL or "" for none) of g, whose workflow
 * text is read for the group. ttl_ms 0 is the default. Refused when who is
 * the user or an unnamed caller, a node is not on g, the group is not in
 * the workflow, nothing is named, a node is held by another holder
 * (LGRAPH_ELEASED with the lease in r), or the table is full. On LGRAPH_OK
 * *out is the new lease (a new message the caller frees). */
int lgraph_acquire(lgraph *t, const graph *g, const provn_actor *who, const int64_t *nodes,
                   size_t n, const char *group, uint32_t ttl_ms, int64_t now_ms,
                   Comfyd__V1__Lease **out, lgraph_refusal *r);
/* Extends lease id of who to now + ttl_ms (0: the default). */
int lgraph_renew(lgraph *t, uint64_t id, const provn_actor *who, uint32_t ttl_ms, int64_t now_ms,
                 Comfyd__V1__Lease **out, lgraph_refusal *r);
/* Releases lease id of who, or with id 0 every lease of who; *released
 * gets how many. A lease of another holder is LGRAPH_ELEASED. */
int lgraph_release(lgraph *t, uint64_t id, const provn_actor *who, int64_t now_ms,
                   unsigned *released, lgraph_refusal *r);
/* Releases every lease taken by a skill of session session_id (the end of
 * its turn). Returns how many. */
unsigned lgraph_release_session(lgraph *t, const char *session_id);

/* Checks a patch of who: LGRAPH_OK when no command changes a node another
 * holder leases (nor creates one inside another holder's group), else
 * LGRAPH_ELEASED with the first such command, node and lease in r. The
 * user is never refused. LGRAPH_ENOMEM possible. */
int lgraph_check(lgraph *t, const graph *g, const provn_actor *who,
                 const Comfyd__V1__Command *const *cmds, size_t n, int64_t now_ms,
                 lgraph_refusal *r);
/* A load over the canvas by who replaces every node: refused the same way
 * when another holder has a lease. */
int lgraph_check_all(lgraph *t, const provn_actor *who, int64_t now_ms, lgraph_refusal *r);

/* The user's commit at revision: ops[0..n) about leased nodes are
 * remembered (for lgraph_fill_ops) and listed on their lease. */
int lgraph_user_edit(lgraph *t, Comfyd__V1__GraphOp *const *ops, size_t n, uint64_t revision,
                     int64_t now_ms);
/* Sets lease_id and lease_holder of the ops that are remembered user edits
 * of leased nodes. LGRAPH_OK or LGRAPH_ENOMEM. */
int lgraph_fill_ops(const lgraph *t, Comfyd__V1__GraphOp *const *ops, size_t n);
/* Drops leased nodes that are no longer on g; a lease left with neither
 * nodes nor a group goes. */
void lgraph_prune(lgraph *t, const graph *g);

/* The leases in force, oldest first, as new messages: *out (free each and
 * the array) and *n. LGRAPH_OK or LGRAPH_ENOMEM. */
int lgraph_list(lgraph *t, int64_t now_ms, Comfyd__V1__Lease ***out, size_t *n);
/* Leases in force (after dropping expired ones). */
size_t lgraph_count(lgraph *t, int64_t now_ms);
/* Finds group name (a title, or an id in decimal) in the workflow
 * json[0..len): LGRAPH_OK with its box (x, y, w, h) and its title in
 * title[0..titlelen), LGRAPH_ENOTFOUND, or LGRAPH_EINVAL (not a workflow,
 * a malformed group) with a message in err. Outside input: bounded by the
 * graph module's JSON limits and LGRAPH_MAX_GROUPS. */
int lgraph_find_group(const char *json, size_t len, const char *name, double box[4], char *title,
                      size_t titlelen, char *err, size_t errlen);

#endif

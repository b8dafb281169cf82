/* graph_rebase: whether a stale patch commutes with what was committed
 * after its base_revision (docs/concurrent-editing.md).
 *
 * A patch built on revision B reaches a canvas at revision C > B. The
 * operation log (graph_diff_since(g, B)) says what every revision in
 * (B, C] changed, each change logged as a command with its revision and
 * origin. The patch commutes with them when no command of it touches a
 * node, input, widget, position or mode one of them changed, and no node
 * it names was removed or is new (a cleared canvas hands out old ids
 * again). Then applying it on C gives what applying it on B and replaying
 * the log would: the canvas manager validates it against C as any patch
 * (references resolve, slots exist, types match, created nodes get fresh
 * ids) and sends it. Otherwise each pair of a command and a later change
 * that touch the same thing is one RevisionConflict.
 *
 * What a command of the patch touches (NodeRef.ref names a node the patch
 * creates and touches nothing committed):
 *   create_node, get_graph    nothing
 *   remove_node N             N, everything of N (its links, widgets, ...)
 *   connect A.o -> B.i        A and B exist; input B.i (and the widget B.i
 *                             belongs to)
 *   disconnect B.i            B exists; input B.i (and its widget)
 *   set_widget B.w            B exists; widget B.w (and the input of w)
 *   move_node N               N exists; the position of N
 *   arrange [N...]            each N exists; their positions (none named:
 *                             every position, and every node added or removed)
 *   set_node_mode N           N exists; the mode of N
 *   clear_graph               everything: any later change conflicts
 * A logged change without a command (a title, a widget set to null, modes
 * 1 and 3) names its node only: it conflicts with remove_node, set_widget
 * and set_node_mode of that node. Outputs may feed many links, so two
 * connects from one output commute.
 *
 * Pure: no I/O, no locks; reads g and the ops. */
#ifndef COMFYD_GRAPH_REBASE_H
#define COMFYD_GRAPH_REBASE_H

#include <stddef.h>

#include "comfyd/v1/graph.pb-c.h"
#include "graph.h"

/* Conflicts listed in one answer: a patch built on a canvas that was
 * cleared since conflicts with every change; the first ones say enough. */
#define GRAPH_REBASE_MAX_CONFLICTS 256

/* The outcome of graph_rebase_check. Owned by the struct until
 * graph_conflicts_clear (take pointers out and zero n to move them). */
typedef struct {
    /* In command order, then log order; at most GRAPH_REBASE_MAX_CONFLICTS. */
    Comfyd__V1__RevisionConflict **v;
    size_t n;
    /* Conflicts found beyond the listed ones. */
    size_t more;
    /* Commands with at least one conflict, and the first of them. */
    size_t n_cmds;
} graph_conflicts;

void graph_conflicts_clear(graph_conflicts *c);

/* Checks cmds[0..n) against ops[0..n_ops) (the log after the patch's base,
 * oldest first, as graph_diff_since returns it) on g, the mirror at the
 * current revision (for the names of slots and the current values).
 * out->n == 0 and out->more == 0: the patch commutes. Returns GRAPH_OK or
 * GRAPH_ENOMEM (out cleared). */
int graph_rebase_check(const graph *g, const Comfyd__V1__GraphOp *const *ops, size_t n_ops,
                       const Comfyd__V1__Command *const *cmds, size_t n, graph_conflicts *out);

/* The committed nodes command c changes on g, by the same reading as the
 * commutation check (what a command touches, above): fn(arg, id) for each
 * node it removes or changes an input, widget, position or mode of, and
 * fn(arg, 0) once for a command that changes every node (clear_graph, an
 * arrange without nodes, a command this check does not know). Nodes it only
 * needs to exist (a connect's source) and nodes it creates are not passed.
 * Leases use it (lease_graph.h). Returns GRAPH_OK or GRAPH_ENOMEM. */
int graph_cmd_changes(const graph *g, const Comfyd__V1__Command *c,
                      void (*fn)(void *arg, int64_t node), void *arg);

/* A one-line description of conflict c for messages: "command 2 (set_widget)
 * and revision 7 (user: set #3 KSampler.seed to 5) both change #3 widget
 * seed". Writes at most len bytes (always terminated when len > 0); returns
 * buf. */
char *graph_conflict_text(const Comfyd__V1__RevisionConflict *c, const char *cmd_name, char *buf,
                          size_t len);

#endif

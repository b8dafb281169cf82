/* preview_policy: which of a skill's patches are shown to the user before
 * they are applied (docs/concurrent-editing.md, "Preview before apply").
 *
 * A skill's policy comes from its SKILL.md front matter (`preview:`), or
 * else the session's config, or else PREVIEW_POLICY_DEFAULT:
 *   auto                 every patch is applied at once;
 *   preview              every patch that changes the graph is previewed;
 *   confirm-destructive  only patches with a destructive command (remove
 *                        a node, remove a link, clear the graph) are.
 * A policy never makes a skill wait for nobody: it asks the core for
 * APPLY_MODE_PREVIEW_IF_SHOWN, which previews only when the canvas's tab
 * can show a preview (a ComfyUI tab with the extension) and applies at once
 * otherwise (headless editors, gRPC-only canvases). The wait for a decision
 * is bounded (canvas.h, CANVAS_*_PREVIEW_MS); its outcome (rejected, timed
 * out) is the tool's result. Pure functions, thread-safe. */
#ifndef COMFYD_PREVIEW_POLICY_H
#define COMFYD_PREVIEW_POLICY_H

#include <stddef.h>

#include "comfyd/v1/graph.pb-c.h"

/* The default is 0, so that a zeroed skill or context has it. */
typedef enum {
    PREVIEW_POLICY_CONFIRM_DESTRUCTIVE = 0,
    PREVIEW_POLICY_AUTO = 1,
    PREVIEW_POLICY_PREVIEW = 2,
} preview_policy;

/* The default for skills: the user can veto what would destroy work. */
#define PREVIEW_POLICY_DEFAULT PREVIEW_POLICY_CONFIRM_DESTRUCTIVE
/* The longest policy name plus its NUL. */
#define PREVIEW_POLICY_MAX_NAME 24

/* "auto", "preview" or "confirm-destructive" (exact) to *out: 0, or -1 for
 * anything else (*out unchanged). */
int preview_policy_parse(const char *s, preview_policy *out);
/* The name of p (static). */
const char *preview_policy_name(preview_policy p);
/* 1 for a command that removes work: remove_node, disconnect, clear_graph. */
int preview_cmd_destructive(const Comfyd__V1__Command *c);
/* The apply_mode a skill's patch gets under p: APPLY_MODE_APPLY, or
 * APPLY_MODE_PREVIEW_IF_SHOWN when p asks for a preview of these commands
 * (a patch of only get_graph commands is never previewed). */
Comfyd__V1__ApplyMode preview_policy_mode(preview_policy p, const Comfyd__V1__Command *const *cmds,
                                          size_t n);

#endif

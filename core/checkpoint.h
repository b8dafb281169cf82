/* checkpoint: canvas checkpoints of session turns, and their restore.
 *
 * Capture. Before an agent's patch (tools.c calls ckpt_before_change) the
 * module reads the canvas's workflow and revision once per (session, turn,
 * canvas) and holds it; after a patch that moved the canvas
 * (ckpt_after_change) it stores that workflow as the turn's checkpoint
 * (store_checkpoint_put; a later patch of the same turn only raises the
 * stored rev_after). So a checkpoint is the canvas as it was before the
 * turn's first change, and rev_after the revision after its latest one.
 *
 * Restore (RevertSession with restore_canvas). For each canvas that a turn
 * at or after the revert point changed, the checkpoint of the first such
 * turn is loaded into the canvas (canvas_load: the tab applies it and the
 * mirror commits it as any load). When a canvas's revision is no longer
 * the rev_after of the session's newest checkpoint of it, someone changed
 * it since: the revert is refused with the list of those changes unless
 * forced.
 *
 * Threads: every function is thread-safe; one mutex guards the held
 * captures and is never held while calling the canvas manager or the
 * store. */
#ifndef COMFYD_CHECKPOINT_H
#define COMFYD_CHECKPOINT_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

#include "canvas.h"
#include "comfyd/v1/session.pb-c.h"
#include "store.h"

/* Captures held in memory (a turn's workflow before its first change,
 * until the turn's patches are done): a few turns of a few sessions run at
 * once; the least recently used goes first. */
#define CKPT_MAX_HELD 32
/* Changes listed in a STALE_REVISION refusal. */
#define CKPT_DIFF_LINES 12
/* Canvases one revert restores. */
#define CKPT_MAX_RESTORE 16
/* Size of an error sentence. */
#define CKPT_ERRLEN 2048

typedef enum {
    CKPT_OK = CFD_OK,
    CKPT_EINVAL = CFD_ERR_INVALID,
    CKPT_ENOMEM = CFD_ERR_NOMEM,
    /* A canvas changed since the session's last change to it (not forced). */
    CKPT_ESTALE = CFD_ERR_CKPT_STALE,
    /* A canvas could not be read or loaded (gone, no tab, timeout). */
    CKPT_ECANVAS = CFD_ERR_CKPT_CANVAS,
    CKPT_EIO = CFD_ERR_CKPT_IO,
} ckpt_err;

typedef struct ckpt ckpt;

/* st and cm are borrowed and must outlive the module. */
int ckpt_create(ckpt **out, store *st, canvas_mgr *cm);
void ckpt_destroy(ckpt *c);

/* Before an agent's patch of canvas_id ("" : the focused canvas) in turn
 * turn_id of session_id: captures the workflow unless this turn already
 * changed the canvas or has a patch of it in flight. resolved gets the
 * canvas's id ("" when there is nothing to capture: no session, no such
 * canvas); pass it to ckpt_after_change once the patch is done, whatever
 * its outcome. session_id "" (no session) is ignored. */
void ckpt_before_change(ckpt *c, const char *session_id, uint64_t turn_id, const char *canvas_id,
                        char resolved[CANVAS_MAX_ID + 1]);
/* After the patch of canvas_id (ckpt_before_change's resolved): the canvas
 * is at revision (0: unknown, the patch failed); stores or raises the
 * checkpoint when it moved past the capture. */
void ckpt_after_change(ckpt *c, const char *session_id, uint64_t turn_id, const char *canvas_id,
                       uint64_t revision);

/* Restores the canvases the turns at or after message to_id changed (see
 * above), waiting for each tab (timeout_ms each, 0: the canvas manager's
 * default). *out gets one malloc'd CanvasRestore per restored canvas
 * (free with ckpt_restored_free); none restored: *out NULL, *n 0.
 * CKPT_ESTALE (nothing changed) or CKPT_ECANVAS with a sentence in err. */
int ckpt_restore(ckpt *c, const char *session_id, uint64_t to_id, int force, uint32_t timeout_ms,
                 Comfyd__V1__CanvasRestore ***out, size_t *n, char *err, size_t errlen);
void ckpt_restored_free(Comfyd__V1__CanvasRestore **list, size_t n);

#endif

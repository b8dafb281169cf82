/* runs: the core's runs. A run is one prompt queued in ComfyUI from a
 * canvas. The core posts the prompt itself (POST /prompt with its own
 * client id and a prompt id it chose), because ComfyUI sends the executing
 * and progress events only to the WebSocket of the client id that queued:
 * the tab converts its canvas with the frontend's graphToPrompt
 * (canvas_queue_prompt) and this module does the rest. A tracker thread
 * follows ComfyUI's /ws?clientId=..., reconnects with backoff, reconciles
 * every unfinished run from GET /history/{id} and GET /queue after a gap,
 * and marks runs it cannot account for UNKNOWN with the reason. Runs are
 * kept in the run store (runstore.h) and survive a restart; see
 * docs/runs.md.
 *
 * Threads: every function is thread-safe. Watch callbacks run with the
 * module's lock held and must not block or call back into it. */
#ifndef COMFYD_RUNS_H
#define COMFYD_RUNS_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

#include "canvas.h"
#include "comfyd/v1/run.pb-c.h"

/* Unfinished runs followed at once; more is RESOURCE_EXHAUSTED. */
#define RUNS_MAX_ACTIVE 256
/* Watchers (WatchRun streams, bridge subscriptions). */
#define RUNS_MAX_WATCHERS 1024
/* POST /prompt with a large workflow: validation takes ComfyUI a moment. */
#define RUNS_POST_TIMEOUT_MS 30000
/* Other calls to ComfyUI (history, queue, interrupt). */
#define RUNS_CALL_TIMEOUT_MS 10000
/* Reconnect backoff of the event stream. */
#define RUNS_BACKOFF_MIN_MS 250
#define RUNS_BACKOFF_MAX_MS 5000
/* A prompt the tab converted: the core's gRPC messages are 4 MiB. */
#define RUNS_MAX_PROMPT_JSON (4u << 20)
/* Output bytes returned by runs_output (one gRPC message). */
#define RUNS_MAX_OUTPUT_BYTES ((4u << 20) - (64u << 10))
/* CancelRun waits this long for ComfyUI to confirm an interrupt. */
#define RUNS_CANCEL_WAIT_MS 5000
/* Runs polled through /history because another client id queued them
 * (a tab that predates prompt_only), at this period. */
#define RUNS_POLL_MS 1000
/* ListRuns page size: default and most. */
#define RUNS_PAGE_DEFAULT 20
#define RUNS_PAGE_MAX 100

typedef enum {
    RUNS_OK = CFD_OK,
    RUNS_EINVAL = CFD_ERR_INVALID,          /* INVALID_ARGUMENT */
    RUNS_ENOTFOUND = CFD_ERR_RUNS_NOTFOUND, /* NOT_FOUND */
    RUNS_EOVER = CFD_ERR_RUNS_OVER,         /* FAILED_PRECONDITION: the run is over */
    RUNS_EUNAVAIL = CFD_ERR_RUNS_UNAVAIL,   /* UNAVAILABLE: ComfyUI cannot be reached */
    RUNS_EFULL = CFD_ERR_RUNS_FULL,         /* RESOURCE_EXHAUSTED */
    RUNS_EIO = CFD_ERR_RUNS_IO,             /* INTERNAL */
    RUNS_ESHUTDOWN = CFD_ERR_RUNS_SHUTDOWN, /* UNAVAILABLE */
} runs_err;

typedef struct runs runs;

typedef struct runs_opts {
    const char *comfyui_url; /* copied */
    const char *db_path;     /* the run store, e.g. DATA/runs.db */
    canvas_mgr *cm;          /* borrowed; outlives the module */
} runs_opts;

/* Opens the store, reloads unfinished runs and starts the tracker. 0 and
 * *out, or -1 with err. */
int runs_create(runs **out, const runs_opts *o, char *err, size_t errlen);
/* Stops the tracker and ends the watchers. Safe to call twice. */
void runs_shutdown(runs *r);
void runs_destroy(runs *r);

/* Queue through the tab and ComfyUI: done gets a QueueResponse with the
 * run (and CANVAS_* errors as canvas_queue). A prompt ComfyUI refuses is
 * a run with status FAILED and its node_errors, not an error. An
 * idempotency_key seen before answers the stored run (replayed). */
int runs_queue(runs *r, const Comfyd__V1__QueueRequest *req, uint32_t limit_ms, canvas_done_fn done,
               void *ud, canvas_error *err);

/* A copy of the run (free with protobuf_c_message_free_unpacked) or NULL. */
Comfyd__V1__Run *runs_get(runs *r, const char *prompt_id);
/* ListRuns; *out newly allocated. RUNS_EINVAL for a bad page token. */
int runs_list(runs *r, const Comfyd__V1__ListRunsRequest *req, Comfyd__V1__ListRunsResponse **out,
              char *err, size_t errlen);
/* Removes a queued run from ComfyUI's queue (CANCELLED) or interrupts a
 * running one (INTERRUPTED once ComfyUI confirms, waited for up to
 * RUNS_CANCEL_WAIT_MS). *out: the run afterwards. */
int runs_cancel(runs *r, const char *prompt_id, Comfyd__V1__Run **out, char *err, size_t errlen);
/* The bytes of file `index` of node_id's outputs in the run, fetched from
 * ComfyUI's /view; a PNG larger than max_side (0: no bound) is scaled down
 * (imgscale.h) and its size is reported either way.
 * ComfyUI's /view. Only files the run's record lists, with a filename and
 * subfolder that stay inside ComfyUI's folder; at most
 * RUNS_MAX_OUTPUT_BYTES (RUNS_EFULL beyond). */
int runs_output(runs *r, const char *prompt_id, const char *node_id, uint32_t index,
                uint32_t max_side, Comfyd__V1__GetRunOutputResponse **out, char *err,
                size_t errlen);

/* Called with a run after each change, under the module's lock; run is
 * NULL for a liveness check. Return non-zero to stop watching (release is
 * then called). */
typedef int (*runs_watch_fn)(void *ud, const Comfyd__V1__Run *run);
typedef void (*runs_release_fn)(void *ud);
/* Watches prompt_id (or every run, or every run of canvas_id, when
 * prompt_id is empty). When the run changed after after_seq, fn gets its
 * current state at once. A watch of one run ends after its final state
 * (fn sees a finished status; release follows). RUNS_ENOTFOUND for an
 * unknown prompt_id, RUNS_EFULL. On error release is not called. */
int runs_watch(runs *r, const char *prompt_id, const char *canvas_id, uint64_t after_seq,
               runs_watch_fn fn, runs_release_fn release, void *ud);

/* 1 when the status is final. */
int runs_status_final(Comfyd__V1__RunStatus s);
/* "queued", "running", ... (static). */
const char *runs_status_name(Comfyd__V1__RunStatus s);

#endif

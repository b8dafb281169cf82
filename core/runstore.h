/* runstore: the runs' durable records in SQLite (DATA/runs.db, WAL,
 * synchronous=FULL), so that runs survive a restart. A record is the whole
 * comfyd.v1.Run, packed, with the columns lists and lookups need. One
 * connection guarded by a mutex; every function is thread-safe. */
#ifndef COMFYD_RUNSTORE_H
#define COMFYD_RUNSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "comfyd/v1/run.pb-c.h"

/* Runs kept: the oldest finished ones are removed beyond this. */
#define RUNSTORE_MAX_RUNS 10000
#define RUNSTORE_BUSY_TIMEOUT_MS 5000

typedef struct runstore runstore;

/* Opens (creating) the database at path. 0 and *out, or -1 with err. */
int runstore_open(runstore **out, const char *path, char *err, size_t errlen);
void runstore_close(runstore *s);

/* Inserts or replaces r (keyed by prompt_id). idem_key ("" or NULL: none)
 * is kept from the first put that gave one. 0, or -1 (I/O error). */
int runstore_put(runstore *s, const Comfyd__V1__Run *r, const char *idem_key);

/* The run, newly allocated (protobuf_c_message_free_unpacked), or NULL. */
Comfyd__V1__Run *runstore_get(runstore *s, const char *prompt_id);
/* The run queued with idem_key on canvas_key, or NULL. */
Comfyd__V1__Run *runstore_get_by_key(runstore *s, const char *idem_key);

/* Newest first, filtered by canvas_id and/or session_id (empty: any),
 * starting after the cursor (0/"": from the newest); at most limit runs
 * in *out (array and runs owned by the caller, runstore_free_list). The
 * cursor of the last run is (created_ms, prompt_id). */
int runstore_list(runstore *s, const char *canvas_id, const char *session_id, int64_t before_ms,
                  const char *before_id, size_t limit, Comfyd__V1__Run ***out, size_t *n);
/* Runs whose status is QUEUED or RUNNING (oldest first). */
int runstore_active(runstore *s, Comfyd__V1__Run ***out, size_t *n);
void runstore_free_list(Comfyd__V1__Run **l, size_t n);

#endif

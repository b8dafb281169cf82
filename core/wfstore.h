/* wfstore: the workflow store, one file per saved workflow under a
 * directory (DATA/workflows/<name>.json).
 *
 * Names are what a user types into a "save as" box and what ends up in a
 * path, so they are checked strictly: 1..WFSTORE_MAX_NAME ASCII letters,
 * digits, space, '-', '_' and '.', not starting with '.' (no hidden files,
 * no "." or ".."), not starting or ending with a space, never containing
 * ".." or '/'. A name cannot leave the
 * directory, and the store's own temporary files (which start with '.')
 * can never be named.
 *
 * Writes are atomic: the content goes to a temporary file in the same
 * directory, is fsync'd, then renamed over the name (or, without
 * overwrite, linked in only if the name is free, so two savers never
 * overwrite each other); the directory is fsync'd after. A crash leaves
 * either the old or the new file, and at worst a temporary file that
 * listing and loading ignore.
 *
 * Files are opened with O_NOFOLLOW: a symlink planted in the directory is
 * refused (WFSTORE_ENOENT, like any file that is not a regular one). Error
 * messages name the workflow, never the directory: they reach clients.
 * wfstore_open removes the temporary files a crash left behind. Thread-safe: every call works on
 * the file system alone. */
#ifndef COMFYD_WFSTORE_H
#define COMFYD_WFSTORE_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

/* Longest name in bytes: a label, not a path. */
#define WFSTORE_MAX_NAME 100
/* Largest stored workflow: the graph module's own limit on workflows. */
#define WFSTORE_MAX_BYTES (32u << 20)
/* Entries wfstore_list returns: a listing stays one bounded response. */
#define WFSTORE_MAX_LIST 10000

typedef enum {
    WFSTORE_OK = CFD_OK,
    /* The name breaks the rules above (err says which rule). */
    WFSTORE_EINVAL = CFD_ERR_INVALID,
    /* No workflow by that name. */
    WFSTORE_ENOENT = CFD_ERR_WFSTORE_NOENT,
    /* The name is taken and overwrite was not asked for. */
    WFSTORE_EEXIST = CFD_ERR_WFSTORE_EXIST,
    /* Above WFSTORE_MAX_BYTES. */
    WFSTORE_ETOOBIG = CFD_ERR_WFSTORE_TOOBIG,
    /* The file system failed (err has strerror). */
    WFSTORE_EIO = CFD_ERR_WFSTORE_IO,
    WFSTORE_ENOMEM = CFD_ERR_NOMEM,
} wfstore_err;

typedef struct wfstore wfstore;

/* Opens the store in dir, creating it (mode 0700) when missing; its parent
 * must exist. dir is copied. Returns WFSTORE_OK and *out (close with
 * wfstore_close), or WFSTORE_EIO with the reason in err (may be NULL). */
int wfstore_open(wfstore **out, const char *dir, char *err, size_t errlen);
/* NULL is a no-op. */
void wfstore_close(wfstore *ws);
/* The directory; valid until wfstore_close. */
const char *wfstore_dir(const wfstore *ws);
/* How many temporary files of interrupted saves wfstore_open removed
 * (".<name>.json.<random>.tmp" regular files: a kill -9 between writing
 * one and renaming it leaves it behind). */
size_t wfstore_cleaned(const wfstore *ws);

/* Checks a name against the rules. WFSTORE_OK or WFSTORE_EINVAL with a
 * one-line reason in err (may be NULL). */
int wfstore_check_name(const char *name, char *err, size_t errlen);

/* Stores json[0..len) under name. Returns WFSTORE_OK; WFSTORE_EINVAL (bad
 * name); WFSTORE_EEXIST (taken and !overwrite: nothing written);
 * WFSTORE_ETOOBIG; WFSTORE_EIO (nothing replaced; the temporary file is
 * removed). err (may be NULL) gets a one-line reason. */
int wfstore_save(wfstore *ws, const char *name, const char *json, size_t len, int overwrite,
                 char *err, size_t errlen);

/* Reads the workflow called name into a malloc'd, NUL-terminated buffer
 * (*json, free with free()) of *len bytes. Returns WFSTORE_OK,
 * WFSTORE_EINVAL, WFSTORE_ENOENT, WFSTORE_ETOOBIG, WFSTORE_EIO or
 * WFSTORE_ENOMEM; *json is NULL on error. */
int wfstore_load(wfstore *ws, const char *name, char **json, size_t *len, char *err, size_t errlen);

typedef struct {
    char *name; /* without ".json" */
    uint64_t bytes;
    int64_t modified_at_ms;
} wfstore_entry;

/* Lists the stored workflows (regular files named <valid name>.json),
 * sorted by name. When the directory holds more than WFSTORE_MAX_LIST, the
 * first WFSTORE_MAX_LIST found are listed and *truncated (may be NULL) is
 * set. *out is a malloc'd array (free with wfstore_entries_free; NULL when
 * empty) of *n entries. Returns WFSTORE_OK, WFSTORE_EIO or WFSTORE_ENOMEM. */
int wfstore_list(wfstore *ws, wfstore_entry **out, size_t *n, int *truncated);
void wfstore_entries_free(wfstore_entry *e, size_t n);

#endif

/* blobstore: content-addressed files for message attachments.
 *
 * A blob is stored once under its SHA-256 as DIR/ab/cdef... (the first two
 * hex digits name a fan-out folder). A put writes a temporary file in DIR,
 * fsyncs it, renames it into place and fsyncs the folder, so a reader never
 * sees half a blob, also after a crash. Blobs are immutable; storing the
 * same bytes again only refreshes the file's time.
 *
 * Types: only what a model or a person can use, checked from the bytes, not
 * from what the sender claims: PNG, JPEG, WebP and GIF by their magic bytes
 * and header (a PNG is also decoded far enough by libpng to know its size),
 * and text/plain, text/markdown and application/json as valid UTF-8 without
 * NUL bytes (JSON must also parse). An image declared as another image type
 * is stored with the type its bytes have; a text declared as an image, or
 * anything else, is refused.
 *
 * Garbage collection: blobstore_gc removes every blob no message refers to
 * whose file time is older than the TTL (a blob uploaded but never sent, or
 * one whose messages were deleted), and temporary files a crash left.
 * A send that refers to a blob calls blobstore_touch first, so a blob in use
 * is never old when its reference is being written.
 *
 * All functions are thread-safe (the file system is the only state). */
#ifndef COMFYD_BLOBSTORE_H
#define COMFYD_BLOBSTORE_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>

#include "blobspec.h"

/* The named limits of attachments (BLOB_MAX_BYTES, BLOB_MAX_PER_MESSAGE,
 * BLOB_MAX_TOTAL_PER_MESSAGE, BLOB_MAX_NAME, BLOB_MAX_PIXELS) and
 * blob_hash_ok are in common/blobspec.h; the errors name the limits. */
#define BLOB_TTL_MS (24 * 3600 * 1000LL)  /* unreferenced blobs live this long */
#define BLOB_GC_PERIOD_MS (3600 * 1000LL) /* how often the service collects */

#define BLOB_MIME_MAX 32

typedef enum {
    BLOB_OK = CFD_OK,
    BLOB_EINVAL = CFD_ERR_INVALID,      /* a bad argument (e.g. a malformed hash) */
    BLOB_ETOOBIG = CFD_ERR_BLOB_TOOBIG, /* over BLOB_MAX_BYTES or BLOB_MAX_PIXELS */
    BLOB_ETYPE = CFD_ERR_BLOB_TYPE,     /* not one of the allowed types */
    BLOB_EIO = CFD_ERR_BLOB_IO,         /* disk full, permissions */
    BLOB_ENOMEM = CFD_ERR_NOMEM,
    BLOB_ENOTFOUND = CFD_ERR_BLOB_NOTFOUND, /* no blob with that hash */
} blob_err;

/* What a blob is. width and height are 0 for text. */
typedef struct blob_info {
    char sha256[BLOB_SHA256_HEX + 1]; /* lower-case hex */
    char mime[BLOB_MIME_MAX];
    uint64_t size;
    uint32_t width, height;
} blob_info;

typedef struct blobstore blobstore;

/* Opens (creating it, mode 0700) the folder dir, e.g. DATA/blobs. 0 and
 * *out (blobstore_destroy), or BLOB_EIO/BLOB_ENOMEM with err. */
int blobstore_create(blobstore **out, const char *dir, char *err, size_t errlen);
void blobstore_destroy(blobstore *bs);

/* Checks data[0..len) against the allowed types (see above); declared is
 * the sender's MIME type (parameters such as "; charset=utf-8" ignored;
 * NULL or "" : judged from the bytes, text as text/plain). Fills info
 * (without the hash). BLOB_ETOOBIG, BLOB_ETYPE with a sentence in err. */
int blob_check(const void *data, size_t len, const char *declared, blob_info *info, char *err,
               size_t errlen);

/* blob_check, then stores the bytes under their hash. info gets the hash. */
int blobstore_put(blobstore *bs, const void *data, size_t len, const char *declared,
                  blob_info *info, char *err, size_t errlen);

/* Reads a blob (at most max bytes: BLOB_ETOOBIG beyond). *data is
 * malloc'd (caller frees). BLOB_ENOTFOUND, BLOB_EINVAL, BLOB_EIO. */
int blobstore_get(blobstore *bs, const char *sha256, size_t max, void **data, size_t *len);

/* Reads a blob and tells what it is (blob_check without a declared type:
 * text is text/plain). */
int blobstore_stat(blobstore *bs, const char *sha256, blob_info *info);

/* Marks a blob as in use now (its file time), so that GC keeps it for the
 * TTL. BLOB_ENOTFOUND when absent. */
int blobstore_touch(blobstore *bs, const char *sha256);

/* Removes blobs not in keep[0..n) (hashes, any order) whose file time is
 * older than now_ms - ttl_ms, and temporary files older than that. Returns
 * the number of files removed, or -1 when dir cannot be read. */
long blobstore_gc(blobstore *bs, const char *const *keep, size_t n, int64_t ttl_ms);

#endif

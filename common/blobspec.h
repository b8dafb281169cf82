/* blobspec: what both processes know about message attachments: the named
 * limits (errors name them) and the form of a content address. The core
 * stores and checks the files (core/blobstore.h); the bridge refuses an
 * oversize upload or a malformed address before calling the core. */
#ifndef COMFYD_BLOBSPEC_H
#define COMFYD_BLOBSPEC_H

#include <stddef.h>

#define BLOB_MAX_BYTES                                                                             \
    (3u << 20)                 /* bytes of one attachment: one upload fits a 4 MiB gRPC message */
#define BLOB_MAX_PER_MESSAGE 8 /* attachments in one message */
#define BLOB_MAX_TOTAL_PER_MESSAGE (16u << 20) /* bytes of a message's attachments */
#define BLOB_MAX_NAME 255                      /* bytes of an attachment's file name */
#define BLOB_MAX_PIXELS (8192u * 8192u)        /* decoded pixels of an image */
#define BLOB_SHA256_HEX 64                     /* a content address: lower-case hex SHA-256 */

/* 1 when sha256 is exactly 64 lower-case hex digits (so it is also safe as
 * a file name and in a URL). */
int blob_hash_ok(const char *sha256);

#endif

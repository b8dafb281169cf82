/* libFuzzer target for blob_check (core/blobstore.c): any bytes in, with a
 * declared type picked by the first byte, must be accepted as one of the
 * allowed types with a size that agrees, or refused with a message; never
 * read out of bounds (the JPEG segment walk, the WebP chunk header, the PNG
 * header through libpng). Run from the repository root. */
/* clang -g -fsanitize=fuzzer,address -Icommon -Icore fuzz/fuzz_blob_check.c core/blobstore.c
 * core/imgscale.c common/blobspec.c common/text.c common/log.c -lcrypto -lyajl -lpng16 -lz
 * -lpthread */
#include "blobstore.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const declared[] = {NULL,
                                       "",
                                       "image/png",
                                       "image/jpeg",
                                       "image/webp",
                                       "image/gif",
                                       "text/plain",
                                       "text/markdown",
                                       "application/json",
                                       "application/pdf",
                                       "text/plain; charset=utf-8"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *want = size ? declared[data[0] % (sizeof declared / sizeof *declared)] : NULL;
    const uint8_t *body = size ? data + 1 : data;
    size_t len = size ? size - 1 : 0;
    blob_info info;
    char err[256] = "";
    int rc = blob_check(body, len, want, &info, err, sizeof err);
    if (rc == BLOB_OK) {
        if (info.size != len || !info.mime[0]) abort();
        int image = !strncmp(info.mime, "image/", 6);
        if (image != (info.width > 0 && info.height > 0)) abort();
        if ((uint64_t)info.width * info.height > BLOB_MAX_PIXELS) abort();
    } else if (!err[0]) {
        abort();
    }
    return 0;
}

/* blobspec: attachment addresses (see blobspec.h). */
#include "blobspec.h"

int blob_hash_ok(const char *h)
{
    if (!h) return 0;
    for (int i = 0; i < BLOB_SHA256_HEX; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f'))) return 0;
    return h[BLOB_SHA256_HEX] == 0;
}

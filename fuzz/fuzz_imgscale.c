/* libFuzzer target for core/imgscale: any bytes in as a PNG must be scaled,
 * left alone or refused, never read or written out of bounds, and a scaled
 * result fits the asked size. Run from the repository root. */
#include "imgscale.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *out = NULL;
    size_t out_len = 0;
    uint32_t w = 0, h = 0;
    char err[256];
    /* The first byte picks the bound, so small and odd sizes are tried. */
    uint32_t side = size ? (uint32_t)(data[0] % 64) + 1 : 1;
    int rc = imgscale_png(data, size, side, &out, &out_len, &w, &h, err, sizeof err);
    if (rc == 1 && (w > side || h > side || !out || !out_len)) abort();
    if (rc != 1 && out) abort();
    free(out);
    return 0;
}

/* imgscale: a PNG made smaller for a viewer with a size bound (an MCP
 * client, a model): decoded with libpng's simplified API, box-filtered down
 * so that its longer side is at most max_side, and encoded again as an
 * 8-bit RGBA PNG. Pure, thread-safe; the decoded size is bounded before any
 * pixel is read. */
#ifndef COMFYD_IMGSCALE_H
#define COMFYD_IMGSCALE_H

#include <stddef.h>
#include <stdint.h>

/* Decoded pixels accepted: 8192 x 8192 (256 MiB of RGBA is the most one
 * call allocates for the source). */
#define IMGSCALE_MAX_PIXELS (8192u * 8192u)
/* The longest side asked for. */
#define IMGSCALE_MAX_SIDE 8192

/* Scales the PNG in[0..len) down to fit max_side (1..IMGSCALE_MAX_SIDE).
 * Returns 1 with *out (malloc'd PNG of *out_len bytes) and its size in w
 * and h; 0 when it already fits (nothing allocated; w and h are its size);
 * -1 with err (not a PNG, too many pixels, out of memory). */
int imgscale_png(const void *in, size_t len, uint32_t max_side, void **out, size_t *out_len,
                 uint32_t *w, uint32_t *h, char *err, size_t errlen);

#endif

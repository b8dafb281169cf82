/* imgscale: PNG downscaling with libpng (see imgscale.h). */
#include "imgscale.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int imgscale_png(const void *in, size_t len, uint32_t max_side, void **out, size_t *out_len,
                 uint32_t *w, uint32_t *h, char *err, size_t errlen)
{
    *out = NULL;
    *out_len = 0;
    *w = *h = 0;
    if (!max_side || max_side > IMGSCALE_MAX_SIDE) {
        snprintf(err, errlen, "max_side must be 1..%d", IMGSCALE_MAX_SIDE);
        return -1;
    }
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, in, len)) {
        snprintf(err, errlen, "not a PNG: %s", img.message);
        png_image_free(&img);
        return -1;
    }
    *w = img.width;
    *h = img.height;
    if ((uint64_t)img.width * img.height > IMGSCALE_MAX_PIXELS || !img.width || !img.height) {
        snprintf(err, errlen, "the image has %ux%u pixels; at most %u are decoded", img.width,
                 img.height, IMGSCALE_MAX_PIXELS);
        png_image_free(&img);
        return -1;
    }
    uint32_t side = img.width > img.height ? img.width : img.height;
    if (side <= max_side) {
        png_image_free(&img);
        return 0;
    }
    img.format = PNG_FORMAT_RGBA;
    size_t sw = img.width, sh = img.height;
    uint8_t *src = malloc(PNG_IMAGE_SIZE(img));
    if (!src) {
        png_image_free(&img);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!png_image_finish_read(&img, NULL, src, 0, NULL)) {
        snprintf(err, errlen, "cannot decode the PNG: %s", img.message);
        free(src);
        png_image_free(&img);
        return -1;
    }
    /* Target size keeping the aspect ratio; each target pixel averages the
     * source box it covers. */
    size_t dw = sw >= sh ? max_side : (sw * max_side + sh - 1) / sh;
    size_t dh = sh > sw ? max_side : (sh * max_side + sw - 1) / sw;
    if (!dw) dw = 1;
    if (!dh) dh = 1;
    uint8_t *dst = malloc(dw * dh * 4);
    if (!dst) {
        free(src);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t y = 0; y < dh; y++) {
        size_t y0 = y * sh / dh, y1 = (y + 1) * sh / dh;
        if (y1 <= y0) y1 = y0 + 1;
        for (size_t x = 0; x < dw; x++) {
            size_t x0 = x * sw / dw, x1 = (x + 1) * sw / dw;
            if (x1 <= x0) x1 = x0 + 1;
            uint64_t acc[4] = {0, 0, 0, 0};
            for (size_t yy = y0; yy < y1; yy++)
                for (size_t xx = x0; xx < x1; xx++)
                    for (int c = 0; c < 4; c++)
                        acc[c] += src[(yy * sw + xx) * 4 + c];
            uint64_t n = (uint64_t)(y1 - y0) * (x1 - x0);
            for (int c = 0; c < 4; c++)
                dst[(y * dw + x) * 4 + c] = (uint8_t)((acc[c] + n / 2) / n);
        }
    }
    free(src);
    png_image o;
    memset(&o, 0, sizeof o);
    o.version = PNG_IMAGE_VERSION;
    o.width = (png_uint_32)dw;
    o.height = (png_uint_32)dh;
    o.format = PNG_FORMAT_RGBA;
    png_alloc_size_t need = 0;
    /* First the size, then the bytes. */
    if (!png_image_write_to_memory(&o, NULL, &need, 0, dst, 0, NULL)) {
        snprintf(err, errlen, "cannot encode the PNG: %s", o.message);
        free(dst);
        return -1;
    }
    void *buf = malloc(need);
    if (!buf || !png_image_write_to_memory(&o, buf, &need, 0, dst, 0, NULL)) {
        snprintf(err, errlen, "cannot encode the PNG: %s", buf ? o.message : "out of memory");
        free(buf);
        free(dst);
        return -1;
    }
    free(dst);
    *out = buf;
    *out_len = need;
    *w = (uint32_t)dw;
    *h = (uint32_t)dh;
    return 1;
}

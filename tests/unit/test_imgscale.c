/* Unit tests for core/imgscale: a PNG made with libpng is scaled down to
 * fit, keeps its aspect ratio and averages its pixels; one that fits is
 * left alone; bad input is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "imgscale.h"

/* A w x h RGBA PNG: the left half red, the right half blue. */
static void *make_png(uint32_t w, uint32_t h, size_t *len)
{
    uint8_t *px = malloc((size_t)w * h * 4);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint8_t *p = px + ((size_t)y * w + x) * 4;
            p[0] = x < w / 2 ? 255 : 0;
            p[1] = 0;
            p[2] = x < w / 2 ? 0 : 255;
            p[3] = 255;
        }
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = w;
    img.height = h;
    img.format = PNG_FORMAT_RGBA;
    png_alloc_size_t n = 0;
    assert_true(png_image_write_to_memory(&img, NULL, &n, 0, px, 0, NULL));
    void *buf = malloc(n);
    assert_true(png_image_write_to_memory(&img, buf, &n, 0, px, 0, NULL));
    free(px);
    *len = n;
    return buf;
}

static void scales_down_keeping_the_aspect_ratio(void **state)
{
    (void)state;
    size_t len;
    void *in = make_png(300, 200, &len);
    void *out = NULL;
    size_t out_len = 0;
    uint32_t w, h;
    char err[256];
    assert_int_equal(imgscale_png(in, len, 100, &out, &out_len, &w, &h, err, sizeof err), 1);
    assert_int_equal(w, 100);
    assert_int_equal(h, 67);
    /* It decodes, at that size, red on the left and blue on the right. */
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_memory(&img, out, out_len));
    assert_int_equal(img.width, 100);
    assert_int_equal(img.height, 67);
    img.format = PNG_FORMAT_RGBA;
    uint8_t *px = malloc(PNG_IMAGE_SIZE(img));
    assert_true(png_image_finish_read(&img, NULL, px, 0, NULL));
    assert_int_equal(px[0], 255);
    assert_int_equal(px[2], 0);
    assert_int_equal(px[(99) * 4 + 2], 255);
    free(px);
    free(out);
    free(in);
}

static void an_image_that_fits_is_left_alone(void **state)
{
    (void)state;
    size_t len;
    void *in = make_png(64, 32, &len);
    void *out = (void *)1;
    size_t out_len = 7;
    uint32_t w, h;
    char err[256];
    assert_int_equal(imgscale_png(in, len, 64, &out, &out_len, &w, &h, err, sizeof err), 0);
    assert_null(out);
    assert_int_equal(w, 64);
    assert_int_equal(h, 32);
    free(in);
}

static void bad_input_is_refused(void **state)
{
    (void)state;
    void *out;
    size_t out_len;
    uint32_t w, h;
    char err[256] = "";
    assert_int_equal(imgscale_png("nope", 4, 100, &out, &out_len, &w, &h, err, sizeof err), -1);
    assert_true(err[0] != 0);
    size_t len;
    void *in = make_png(8, 8, &len);
    assert_int_equal(imgscale_png(in, len, 0, &out, &out_len, &w, &h, err, sizeof err), -1);
    assert_int_equal(imgscale_png(in, len / 2, 4, &out, &out_len, &w, &h, err, sizeof err), -1);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scales_down_keeping_the_aspect_ratio),
        cmocka_unit_test(an_image_that_fits_is_left_alone),
        cmocka_unit_test(bad_input_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for core/blobstore: blobs are stored under their SHA-256,
 * written whole (no temporary file left, the same bytes stored once), the
 * types are judged from the bytes, the limits are named in the errors, and
 * GC removes unreferenced blobs after the TTL and keeps referenced ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "blobstore.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/comfyd-blob-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void *make_png(uint32_t w, uint32_t h, size_t *len)
{
    uint8_t *px = calloc((size_t)w * h, 4);
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

/* Files in the store's folder tree (blobs and anything else). */
static int count_files(const char *d)
{
    DIR *top = opendir(d);
    assert_non_null(top);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(top))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, ".."))) continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", d, e->d_name);
        struct stat st;
        assert_int_equal(lstat(p, &st), 0);
        n += S_ISDIR(st.st_mode) ? count_files(p) : 1;
    }
    closedir(top);
    return n;
}

static void test_hash_and_path(void **state)
{
    (void)state;
    blobstore *bs;
    char err[256];
    assert_int_equal(blobstore_create(&bs, dir, err, sizeof err), BLOB_OK);
    blob_info in;
    const char *text = "abc";
    assert_int_equal(blobstore_put(bs, text, 3, "text/plain", &in, err, sizeof err), BLOB_OK);
    /* SHA-256("abc") from FIPS 180-2. */
    assert_string_equal(in.sha256,
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_string_equal(in.mime, "text/plain");
    assert_int_equal(in.size, 3);
    char p[600];
    snprintf(p, sizeof p, "%s/ba/7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
             dir);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, 3);
    /* The same bytes again: one file, nothing temporary left. */
    assert_int_equal(blobstore_put(bs, text, 3, NULL, &in, err, sizeof err), BLOB_OK);
    assert_int_equal(count_files(dir), 1);
    void *d;
    size_t n;
    assert_int_equal(blobstore_get(bs, in.sha256, 1024, &d, &n), BLOB_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(d, "abc", 3);
    free(d);
    assert_int_equal(blobstore_get(bs, in.sha256, 2, &d, &n), BLOB_ETOOBIG);
    assert_int_equal(
        blobstore_get(bs, "0000000000000000000000000000000000000000000000000000000000000000", 1024,
                      &d, &n),
        BLOB_ENOTFOUND);
    assert_int_equal(blobstore_get(bs, "../../etc/passwd", 1024, &d, &n), BLOB_EINVAL);
    assert_int_equal(
        blobstore_get(bs, "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", 1024,
                      &d, &n),
        BLOB_EINVAL);
    blobstore_destroy(bs);
}

static void test_types(void **state)
{
    (void)state;
    blob_info in;
    char err[256];
    size_t n;
    void *png = make_png(40, 30, &n);
    assert_int_equal(blob_check(png, n, "image/png", &in, err, sizeof err), BLOB_OK);
    assert_string_equal(in.mime, "image/png");
    assert_int_equal(in.width, 40);
    assert_int_equal(in.height, 30);
    /* Declared as JPEG, judged from the bytes. */
    assert_int_equal(blob_check(png, n, "image/jpeg", &in, err, sizeof err), BLOB_OK);
    assert_string_equal(in.mime, "image/png");
    /* An image declared as text is refused. */
    assert_int_equal(blob_check(png, n, "text/plain", &in, err, sizeof err), BLOB_ETYPE);
    /* A damaged PNG (header cut) is refused. */
    assert_int_equal(blob_check(png, 20, "image/png", &in, err, sizeof err), BLOB_ETYPE);
    free(png);

    static const unsigned char gif[] = "GIF89a\x05\x00\x07\x00\x80\x00\x00";
    assert_int_equal(blob_check(gif, sizeof gif - 1, NULL, &in, err, sizeof err), BLOB_OK);
    assert_string_equal(in.mime, "image/gif");
    assert_int_equal(in.width, 5);
    assert_int_equal(in.height, 7);

    /* A minimal JPEG header: SOI, APP0, SOF0 with 16x9. */
    static const unsigned char jpg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00,
                                        0x00, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00,
                                        0x09, 0x00, 0x10, 0x01, 0x01, 0x11, 0x00};
    assert_int_equal(blob_check(jpg, sizeof jpg, "image/jpeg", &in, err, sizeof err), BLOB_OK);
    assert_string_equal(in.mime, "image/jpeg");
    assert_int_equal(in.width, 16);
    assert_int_equal(in.height, 9);

    /* WebP VP8X 300x200. */
    unsigned char webp[30] = "RIFF\x16\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00";
    webp[20] = 0;
    webp[24] = 0x2b; /* 299 = 0x12b */
    webp[25] = 0x01;
    webp[26] = 0;
    webp[27] = 0xc7; /* 199 */
    webp[28] = 0;
    webp[29] = 0;
    assert_int_equal(blob_check(webp, sizeof webp, "image/webp", &in, err, sizeof err), BLOB_OK);
    assert_string_equal(in.mime, "image/webp");
    assert_int_equal(in.width, 300);
    assert_int_equal(in.height, 200);

    assert_int_equal(
        blob_check("# Title\n", 8, "text/markdown; charset=utf-8", &in, err, sizeof err), BLOB_OK);
    assert_string_equal(in.mime, "text/markdown");
    assert_int_equal(blob_check("{\"a\":[1,2]}", 11, "application/json", &in, err, sizeof err),
                     BLOB_OK);
    assert_int_equal(blob_check("{\"a\":", 5, "application/json", &in, err, sizeof err),
                     BLOB_ETYPE);
    assert_non_null(strstr(err, "not valid JSON"));
    assert_int_equal(blob_check("\xff\xfe", 2, "text/plain", &in, err, sizeof err), BLOB_ETYPE);
    assert_int_equal(blob_check("a\0b", 3, NULL, &in, err, sizeof err), BLOB_ETYPE);
    assert_int_equal(blob_check("hello", 5, "application/pdf", &in, err, sizeof err), BLOB_ETYPE);
    assert_non_null(strstr(err, "application/pdf"));
    assert_int_equal(blob_check("", 0, NULL, &in, err, sizeof err), BLOB_ETYPE);
}

static void test_limits(void **state)
{
    (void)state;
    blob_info in;
    char err[256];
    size_t big = BLOB_MAX_BYTES + 1;
    char *d = malloc(big);
    memset(d, 'a', big);
    blobstore *bs;
    assert_int_equal(blobstore_create(&bs, dir, err, sizeof err), BLOB_OK);
    assert_int_equal(blobstore_put(bs, d, big, "text/plain", &in, err, sizeof err), BLOB_ETOOBIG);
    assert_non_null(strstr(err, "BLOB_MAX_BYTES"));
    assert_int_equal(count_files(dir), 0); /* nothing half-stored */
    assert_int_equal(blobstore_put(bs, d, BLOB_MAX_BYTES, "text/plain", &in, err, sizeof err),
                     BLOB_OK);
    free(d);
    /* A GIF that claims 65535 x 65535 pixels. */
    static const unsigned char gif[] = "GIF89a\xff\xff\xff\xff\x80\x00\x00";
    assert_int_equal(blob_check(gif, sizeof gif - 1, NULL, &in, err, sizeof err), BLOB_ETOOBIG);
    assert_non_null(strstr(err, "BLOB_MAX_PIXELS"));
    blobstore_destroy(bs);
}

static void set_age(const char *path, int seconds)
{
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= seconds;
    tv[1] = tv[0];
    assert_int_equal(utimes(path, tv), 0);
}

static void test_gc(void **state)
{
    (void)state;
    blobstore *bs;
    char err[256];
    assert_int_equal(blobstore_create(&bs, dir, err, sizeof err), BLOB_OK);
    blob_info a, b, c;
    assert_int_equal(blobstore_put(bs, "kept", 4, NULL, &a, err, sizeof err), BLOB_OK);
    assert_int_equal(blobstore_put(bs, "old", 3, NULL, &b, err, sizeof err), BLOB_OK);
    assert_int_equal(blobstore_put(bs, "young", 5, NULL, &c, err, sizeof err), BLOB_OK);
    char p[600];
    snprintf(p, sizeof p, "%s/%.2s/%s", dir, a.sha256, a.sha256 + 2);
    set_age(p, 7200);
    snprintf(p, sizeof p, "%s/%.2s/%s", dir, b.sha256, b.sha256 + 2);
    set_age(p, 7200);
    /* A temporary file a crash left behind. */
    snprintf(p, sizeof p, "%s/.tmp-crash1", dir);
    FILE *f = fopen(p, "w");
    fputs("half", f);
    fclose(f);
    set_age(p, 7200);

    const char *keep[] = {a.sha256};
    assert_int_equal(blobstore_gc(bs, keep, 1, 3600 * 1000LL), 2);
    blob_info x;
    assert_int_equal(blobstore_stat(bs, a.sha256, &x), BLOB_OK);
    assert_int_equal(blobstore_stat(bs, b.sha256, &x), BLOB_ENOTFOUND);
    assert_int_equal(blobstore_stat(bs, c.sha256, &x), BLOB_OK);
    assert_int_equal(access(p, F_OK), -1);

    /* Touched (a send refers to it): young again, kept even unreferenced. */
    snprintf(p, sizeof p, "%s/%.2s/%s", dir, a.sha256, a.sha256 + 2);
    set_age(p, 7200);
    assert_int_equal(blobstore_touch(bs, a.sha256), BLOB_OK);
    assert_int_equal(blobstore_gc(bs, NULL, 0, 3600 * 1000LL), 0);
    /* TTL 0: every unreferenced blob goes. */
    assert_int_equal(blobstore_gc(bs, NULL, 0, 0), 2);
    assert_int_equal(count_files(dir), 0);
    assert_int_equal(blobstore_touch(bs, a.sha256), BLOB_ENOTFOUND);
    blobstore_destroy(bs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hash_and_path, setup, teardown),
        cmocka_unit_test(test_types),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

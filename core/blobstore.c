/* blobstore: content-addressed attachment files (see blobstore.h). */
#include "blobstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>

#include "imgscale.h"
#include "log.h"
#include "text.h"

#define MOD "blobstore"
#define TMP_PREFIX ".tmp-"

struct blobstore {
    char *dir; /* owned */
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int blobstore_create(blobstore **out, const char *dir, char *err, size_t errlen)
{
    *out = NULL;
    if (!dir || !*dir) {
        seterr(err, errlen, "no blob folder");
        return BLOB_EINVAL;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        seterr(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return BLOB_EIO;
    }
    blobstore *bs = calloc(1, sizeof *bs);
    if (!bs || !(bs->dir = text_dup(dir))) {
        free(bs);
        seterr(err, errlen, "out of memory");
        return BLOB_ENOMEM;
    }
    *out = bs;
    return BLOB_OK;
}

void blobstore_destroy(blobstore *bs)
{
    if (!bs) return;
    free(bs->dir);
    free(bs);
}

static int hexdigit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* ---- type checks ---------------------------------------------------------- */

static uint32_t be16(const unsigned char *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}
static uint32_t le16(const unsigned char *p)
{
    return (uint32_t)p[1] << 8 | p[0];
}
static uint32_t le24(const unsigned char *p)
{
    return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* JPEG: the size is in the first start-of-frame segment. 0 when found. */
static int jpeg_size(const unsigned char *d, size_t len, uint32_t *w, uint32_t *h)
{
    size_t i = 2;
    while (i + 4 <= len) {
        if (d[i] != 0xFF) return -1;
        unsigned m = d[i + 1];
        if (m == 0xFF) { /* fill byte */
            i++;
            continue;
        }
        if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) {
            i += 2;
            continue;
        }
        size_t seg = be16(d + i + 2);
        if (seg < 2) return -1;
        /* SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (i + 9 > len) return -1;
            *h = be16(d + i + 5);
            *w = be16(d + i + 7);
            return 0;
        }
        if (m == 0xD9 || m == 0xDA) return -1; /* end or scan before any frame */
        i += 2 + seg;
    }
    return -1;
}

/* WebP: RIFF....WEBP then VP8 (lossy), VP8L (lossless) or VP8X (extended). */
static int webp_size(const unsigned char *d, size_t len, uint32_t *w, uint32_t *h)
{
    if (len < 30) return -1;
    const unsigned char *c = d + 12;
    if (!memcmp(c, "VP8 ", 4)) {
        if (c[11] != 0x9d || c[12] != 0x01 || c[13] != 0x2a) return -1;
        *w = le16(c + 14) & 0x3fff;
        *h = le16(c + 16) & 0x3fff;
        return 0;
    }
    if (!memcmp(c, "VP8L", 4)) {
        if (c[8] != 0x2f) return -1;
        uint32_t b =
            (uint32_t)c[9] | (uint32_t)c[10] << 8 | (uint32_t)c[11] << 16 | (uint32_t)c[12] << 24;
        *w = (b & 0x3fff) + 1;
        *h = ((b >> 14) & 0x3fff) + 1;
        return 0;
    }
    if (!memcmp(c, "VP8X", 4)) {
        *w = le24(c + 12) + 1;
        *h = le24(c + 15) + 1;
        return 0;
    }
    return -1;
}

/* The MIME type without parameters, lower-cased, into out. */
static void base_mime(const char *declared, char *out, size_t cap)
{
    size_t n = 0;
    if (declared)
        for (const char *p = declared; *p && *p != ';' && n + 1 < cap; p++)
            if (*p != ' ' && *p != '\t') out[n++] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
    out[n] = 0;
}

static int is_text_mime(const char *m)
{
    return !strcmp(m, "text/plain") || !strcmp(m, "text/markdown") ||
           !strcmp(m, "application/json");
}

static int json_ok(const unsigned char *d, size_t len)
{
    yajl_handle y = yajl_alloc(NULL, NULL, NULL);
    if (!y) return 0;
    int ok = yajl_parse(y, d, len) == yajl_status_ok && yajl_complete_parse(y) == yajl_status_ok;
    yajl_free(y);
    return ok;
}

int blob_check(const void *data, size_t len, const char *declared, blob_info *info, char *err,
               size_t errlen)
{
    memset(info, 0, sizeof *info);
    const unsigned char *d = data;
    char want[64];
    base_mime(declared, want, sizeof want);
    if (len > BLOB_MAX_BYTES) {
        seterr(err, errlen, "the attachment has %zu bytes; the limit BLOB_MAX_BYTES is %u", len,
               BLOB_MAX_BYTES);
        return BLOB_ETOOBIG;
    }
    if (len == 0) {
        seterr(err, errlen, "the attachment is empty");
        return BLOB_ETYPE;
    }
    uint32_t w = 0, h = 0;
    const char *img = NULL;
    int bad_header = 0;
    if (len >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8)) {
        img = "image/png";
        void *o = NULL;
        size_t ol = 0;
        char ierr[160];
        /* libpng reads the header; a PNG that fits is not decoded here. */
        if (imgscale_png(d, len, IMGSCALE_MAX_SIDE, &o, &ol, &w, &h, ierr, sizeof ierr) < 0) {
            if (w && h && (uint64_t)w * h > BLOB_MAX_PIXELS) {
                seterr(err, errlen, "the image has %ux%u pixels; the limit BLOB_MAX_PIXELS is %u",
                       w, h, BLOB_MAX_PIXELS);
                return BLOB_ETOOBIG;
            }
            bad_header = 1;
        }
        free(o);
    } else if (len >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) {
        img = "image/jpeg";
        bad_header = jpeg_size(d, len, &w, &h) != 0;
    } else if (len >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4)) {
        img = "image/webp";
        bad_header = webp_size(d, len, &w, &h) != 0;
    } else if (len >= 10 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6))) {
        img = "image/gif";
        w = le16(d + 6);
        h = le16(d + 8);
    }
    if (img) {
        if (bad_header || !w || !h) {
            seterr(err, errlen, "the %s file is damaged: its size cannot be read", img);
            return BLOB_ETYPE;
        }
        if ((uint64_t)w * h > BLOB_MAX_PIXELS) {
            seterr(err, errlen, "the image has %ux%u pixels; the limit BLOB_MAX_PIXELS is %u", w, h,
                   BLOB_MAX_PIXELS);
            return BLOB_ETOOBIG;
        }
        if (*want && strncmp(want, "image/", 6) != 0 && strcmp(want, "application/octet-stream")) {
            seterr(err, errlen, "declared as %s but the bytes are %s", want, img);
            return BLOB_ETYPE;
        }
        snprintf(info->mime, sizeof info->mime, "%s", img);
        info->width = w;
        info->height = h;
        info->size = len;
        return BLOB_OK;
    }
    if (*want && !is_text_mime(want)) {
        seterr(err, errlen,
               "type %s is not accepted: attach PNG, JPEG, WebP, GIF, text/plain, text/markdown "
               "or application/json",
               want);
        return BLOB_ETYPE;
    }
    if (memchr(d, 0, len) || !text_utf8_valid((const char *)d, len)) {
        seterr(err, errlen,
               "the attachment is neither an image (PNG, JPEG, WebP, GIF) nor UTF-8 text");
        return BLOB_ETYPE;
    }
    if (!strcmp(want, "application/json") && !json_ok(d, len)) {
        seterr(err, errlen, "the application/json attachment is not valid JSON");
        return BLOB_ETYPE;
    }
    /* want is one of the three text types here, all shorter than mime. */
    memcpy(info->mime, *want ? want : "text/plain", strlen(*want ? want : "text/plain") + 1);
    info->size = len;
    return BLOB_OK;
}

/* ---- files --------------------------------------------------------------- */

static void hash_hex(const void *data, size_t len, char out[BLOB_SHA256_HEX + 1])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) abort();
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[BLOB_SHA256_HEX] = 0;
}

static void blob_path(const blobstore *bs, const char *h, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%.2s/%s", bs->dir, h, h + 2);
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int blobstore_put(blobstore *bs, const void *data, size_t len, const char *declared,
                  blob_info *info, char *err, size_t errlen)
{
    int rc = blob_check(data, len, declared, info, err, errlen);
    if (rc != BLOB_OK) return rc;
    hash_hex(data, len, info->sha256);
    char path[4096], sub[4096], tmp[4096];
    blob_path(bs, info->sha256, path, sizeof path);
    if (access(path, F_OK) == 0) { /* stored before: the bytes are the same */
        utimes(path, NULL);
        return BLOB_OK;
    }
    snprintf(sub, sizeof sub, "%s/%.2s", bs->dir, info->sha256);
    if (mkdir(sub, 0700) != 0 && errno != EEXIST) {
        seterr(err, errlen, "cannot store the attachment: %s", strerror(errno));
        return BLOB_EIO;
    }
    snprintf(tmp, sizeof tmp, "%s/" TMP_PREFIX "XXXXXX", bs->dir);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        seterr(err, errlen, "cannot store the attachment: %s", strerror(errno));
        return BLOB_EIO;
    }
    int e = 0;
    if (write_all(fd, data, len) != 0 || fsync(fd) != 0) e = errno ? errno : EIO;
    if (close(fd) != 0 && !e) e = errno;
    if (!e && rename(tmp, path) != 0) e = errno;
    if (!e && (fsync_dir(sub) != 0 || fsync_dir(bs->dir) != 0)) e = errno;
    if (e) {
        unlink(tmp);
        seterr(err, errlen, "cannot store the attachment: %s", strerror(e));
        return BLOB_EIO;
    }
    return BLOB_OK;
}

int blobstore_get(blobstore *bs, const char *sha256, size_t max, void **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (!bs || !blob_hash_ok(sha256)) return BLOB_EINVAL;
    char path[4096];
    blob_path(bs, sha256, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? BLOB_ENOTFOUND : BLOB_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return BLOB_EIO;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return BLOB_ETOOBIG;
    }
    size_t n = (size_t)st.st_size, got = 0;
    unsigned char *buf = malloc(n ? n : 1);
    if (!buf) {
        close(fd);
        return BLOB_ENOMEM;
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        free(buf);
        return BLOB_EIO;
    }
    *data = buf;
    *len = n;
    return BLOB_OK;
}

int blobstore_stat(blobstore *bs, const char *sha256, blob_info *info)
{
    memset(info, 0, sizeof *info);
    void *d;
    size_t n;
    int rc = blobstore_get(bs, sha256, BLOB_MAX_BYTES, &d, &n);
    if (rc != BLOB_OK) return rc;
    char e[8];
    rc = blob_check(d, n, NULL, info, e, sizeof e);
    free(d);
    if (rc != BLOB_OK) return BLOB_EIO; /* stored bytes always passed the check */
    memcpy(info->sha256, sha256, BLOB_SHA256_HEX + 1);
    return BLOB_OK;
}

int blobstore_touch(blobstore *bs, const char *sha256)
{
    if (!bs || !blob_hash_ok(sha256)) return BLOB_EINVAL;
    char path[4096];
    blob_path(bs, sha256, path, sizeof path);
    if (utimes(path, NULL) != 0) return errno == ENOENT ? BLOB_ENOTFOUND : BLOB_EIO;
    return BLOB_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int old(const char *path, int64_t cutoff_ms)
{
    struct stat st;
    if (lstat(path, &st) != 0) return 0;
    int64_t t = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    return t <= cutoff_ms;
}

long blobstore_gc(blobstore *bs, const char *const *keep, size_t n, int64_t ttl_ms)
{
    if (!bs) return -1;
    const char **sorted = NULL;
    if (n) {
        sorted = malloc(n * sizeof *sorted);
        if (!sorted) return -1;
        memcpy(sorted, keep, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, cmp_str);
    }
    int64_t cutoff = text_now_ms() - ttl_ms;
    long removed = 0;
    DIR *top = opendir(bs->dir);
    if (!top) {
        free(sorted);
        return -1;
    }
    struct dirent *e;
    char path[4096];
    while ((e = readdir(top))) {
        const char *nm = e->d_name;
        snprintf(path, sizeof path, "%s/%s", bs->dir, nm);
        if (!strncmp(nm, TMP_PREFIX, strlen(TMP_PREFIX))) {
            if (old(path, cutoff) && unlink(path) == 0) removed++;
            continue;
        }
        if (strlen(nm) != 2 || !hexdigit(nm[0]) || !hexdigit(nm[1])) continue;
        DIR *sub = opendir(path);
        if (!sub) continue;
        struct dirent *f;
        char full[BLOB_SHA256_HEX + 8], fpath[4096 + 260];
        while ((f = readdir(sub))) {
            if (strlen(f->d_name) != BLOB_SHA256_HEX - 2) continue;
            memcpy(full, nm, 2); /* both lengths were checked above */
            memcpy(full + 2, f->d_name, BLOB_SHA256_HEX - 2);
            full[BLOB_SHA256_HEX] = 0;
            if (!blob_hash_ok(full)) continue;
            const char *k = full;
            if (sorted && bsearch(&k, sorted, n, sizeof *sorted, cmp_str)) continue;
            snprintf(fpath, sizeof fpath, "%s/%s", path, f->d_name);
            if (old(fpath, cutoff) && unlink(fpath) == 0) removed++;
        }
        closedir(sub);
        rmdir(path); /* only succeeds when empty */
    }
    closedir(top);
    free(sorted);
    if (removed)
        LOG_I(MOD, "removed %ld unreferenced attachment file%s", removed, removed == 1 ? "" : "s");
    return removed;
}

#include "wfstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.h"

#define SUFFIX ".json"
#define SUFFIX_LEN 5
/* ".<name>.json.<uuid>.tmp" fits comfortably. */
#define PATH_BUF (WFSTORE_MAX_NAME + 64)

struct wfstore {
    char *dir;
    int dfd;        /* the directory, for *at() calls: immune to a renamed cwd */
    size_t cleaned; /* temporary files removed by wfstore_open */
};

/* Longest random part of a temporary name we recognise: a UUID is 36. */
#define TMP_TAG_MAX 64

/* Is name one of our temporary files, ".<name>.json.<hex and '-'>.tmp"? */
static int is_tmp_name(const char *name)
{
    size_t len = strlen(name);
    if (len < 2 || name[0] != '.' || len < 4 || strcmp(name + len - 4, ".tmp") != 0) return 0;
    /* The random part: back from ".tmp" to the '.' before it. */
    size_t end = len - 4, start = end;
    while (start > 1 && name[start - 1] != '.')
        start--;
    if (start == end || end - start > TMP_TAG_MAX || start < 2) return 0;
    for (size_t i = start; i < end; i++) {
        char c = name[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              c == '-'))
            return 0;
    }
    /* Before it: "<name>.json." with a valid name. */
    size_t stem_end = start - 1; /* the '.' before the random part */
    if (stem_end < 1 + SUFFIX_LEN || memcmp(name + stem_end - SUFFIX_LEN, SUFFIX, SUFFIX_LEN) != 0)
        return 0;
    size_t nlen = stem_end - SUFFIX_LEN - 1;
    if (nlen == 0 || nlen > WFSTORE_MAX_NAME) return 0;
    char stem[WFSTORE_MAX_NAME + 1];
    memcpy(stem, name + 1, nlen);
    stem[nlen] = 0;
    return wfstore_check_name(stem, NULL, 0) == WFSTORE_OK;
}

/* Removes the temporary files of saves that never finished (a kill -9 or a
 * power loss between creating and renaming one). Only at open: the data
 * directory is locked to one comfyd, so no save of ours is running, and a
 * workflow is never a temporary file (names cannot start with '.'). Only
 * regular files are removed. Returns how many. */
static size_t remove_stale_tmp(int dfd)
{
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return 0;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return 0;
    }
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!is_tmp_name(de->d_name)) continue;
        struct stat st;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (unlinkat(dfd, de->d_name, 0) == 0) n++;
    }
    closedir(d);
    return n;
}

int wfstore_open(wfstore **out, const char *dir, char *err, size_t errlen)
{
    *out = NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return text_err(err, errlen, WFSTORE_EIO, "cannot create %s: %s", dir, strerror(errno));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return text_err(err, errlen, WFSTORE_EIO, "cannot open %s: %s", dir, strerror(errno));
    wfstore *ws = malloc(sizeof *ws);
    if (!ws) {
        close(dfd);
        return text_err(err, errlen, WFSTORE_ENOMEM, "out of memory");
    }
    ws->dir = text_dup(dir);
    ws->dfd = dfd;
    ws->cleaned = remove_stale_tmp(dfd);
    *out = ws;
    return WFSTORE_OK;
}

void wfstore_close(wfstore *ws)
{
    if (!ws) return;
    close(ws->dfd);
    free(ws->dir);
    free(ws);
}

const char *wfstore_dir(const wfstore *ws)
{
    return ws->dir;
}

size_t wfstore_cleaned(const wfstore *ws)
{
    return ws->cleaned;
}

static int name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
           c == '-' || c == '_' || c == '.';
}

int wfstore_check_name(const char *name, char *err, size_t errlen)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0) return text_err(err, errlen, WFSTORE_EINVAL, "the name is empty");
    if (len > WFSTORE_MAX_NAME)
        return text_err(err, errlen, WFSTORE_EINVAL, "the name is longer than %d bytes",
                        WFSTORE_MAX_NAME);
    if (name[0] == '.')
        return text_err(err, errlen, WFSTORE_EINVAL, "the name must not start with '.'");
    /* "flow" and "flow " would look the same in every list. */
    if (name[0] == ' ' || name[len - 1] == ' ')
        return text_err(err, errlen, WFSTORE_EINVAL, "the name must not start or end with a space");
    if (strstr(name, ".."))
        return text_err(err, errlen, WFSTORE_EINVAL, "the name must not contain \"..\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '/') return text_err(err, errlen, WFSTORE_EINVAL, "the name must not contain '/'");
        if (!name_char(c))
            return text_err(err, errlen, WFSTORE_EINVAL,
                            "the name may only hold ASCII letters, digits, space, '-', '_' and "
                            "'.' (byte 0x%02x at %zu)",
                            c, i);
    }
    return WFSTORE_OK;
}

/* write(2) until done. */
static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Places tmp under final without replacing an existing file. */
static int link_noreplace(int dfd, const char *tmp, const char *final)
{
    if (renameat2(dfd, tmp, dfd, final, RENAME_NOREPLACE) == 0) return 0;
    /* File systems without RENAME_NOREPLACE: link() also refuses to
     * replace, then the temporary name goes. */
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return -1;
    if (linkat(dfd, tmp, dfd, final, 0) != 0) return -1;
    unlinkat(dfd, tmp, 0);
    return 0;
}

int wfstore_save(wfstore *ws, const char *name, const char *json, size_t len, int overwrite,
                 char *err, size_t errlen)
{
    int rc = wfstore_check_name(name, err, errlen);
    if (rc) return rc;
    if (len > WFSTORE_MAX_BYTES)
        return text_err(err, errlen, WFSTORE_ETOOBIG, "the workflow is larger than %u bytes",
                        WFSTORE_MAX_BYTES);
    char final[PATH_BUF], tmp[PATH_BUF + TEXT_UUID_LEN + 8], uuid[TEXT_UUID_LEN];
    if (text_uuid(uuid) != 0)
        return text_err(err, errlen, WFSTORE_EIO, "no randomness for a temporary name");
    snprintf(final, sizeof final, "%s" SUFFIX, name);
    snprintf(tmp, sizeof tmp, ".%s.%s.tmp", final, uuid);
    if (!overwrite && faccessat(ws->dfd, final, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        return text_err(err, errlen, WFSTORE_EEXIST, "a workflow called \"%s\" exists", name);
    int fd = openat(ws->dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return text_err(err, errlen, WFSTORE_EIO, "cannot create a temporary file for \"%s\": %s",
                        name, strerror(errno));
    if (write_all(fd, json, len) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlinkat(ws->dfd, tmp, 0);
        return text_err(err, errlen, WFSTORE_EIO, "cannot write workflow \"%s\": %s", name,
                        strerror(e));
    }
    if (close(fd) != 0) {
        int e = errno;
        unlinkat(ws->dfd, tmp, 0);
        return text_err(err, errlen, WFSTORE_EIO, "cannot write workflow \"%s\": %s", name,
                        strerror(e));
    }
    int placed =
        overwrite ? renameat(ws->dfd, tmp, ws->dfd, final) : link_noreplace(ws->dfd, tmp, final);
    if (placed != 0) {
        int e = errno;
        unlinkat(ws->dfd, tmp, 0);
        if (e == EEXIST)
            return text_err(err, errlen, WFSTORE_EEXIST, "a workflow called \"%s\" exists", name);
        return text_err(err, errlen, WFSTORE_EIO, "cannot store workflow \"%s\": %s", name,
                        strerror(e));
    }
    /* The rename is durable once the directory is. */
    if (fsync(ws->dfd) != 0)
        return text_err(err, errlen, WFSTORE_EIO, "cannot sync the workflow directory: %s",
                        strerror(errno));
    return WFSTORE_OK;
}

int wfstore_load(wfstore *ws, const char *name, char **json, size_t *len, char *err, size_t errlen)
{
    *json = NULL;
    *len = 0;
    int rc = wfstore_check_name(name, err, errlen);
    if (rc) return rc;
    char final[PATH_BUF];
    snprintf(final, sizeof final, "%s" SUFFIX, name);
    int fd = openat(ws->dfd, final, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return text_err(err, errlen, WFSTORE_ENOENT, "no workflow called \"%s\"", name);
        /* O_NOFOLLOW on a symlink: not one of ours (listing skips it). */
        if (errno == ELOOP)
            return text_err(err, errlen, WFSTORE_ENOENT,
                            "no workflow called \"%s\": its file is a symbolic link, which is "
                            "never followed",
                            name);
        return text_err(err, errlen, WFSTORE_EIO, "cannot open workflow \"%s\": %s", name,
                        strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return text_err(err, errlen, WFSTORE_ENOENT,
                        "no workflow called \"%s\": its file is not a regular file", name);
    }
    if ((uint64_t)st.st_size > WFSTORE_MAX_BYTES) {
        close(fd);
        return text_err(err, errlen, WFSTORE_ETOOBIG, "workflow \"%s\" is larger than %u bytes",
                        name, WFSTORE_MAX_BYTES);
    }
    size_t cap = (size_t)st.st_size;
    char *buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        return text_err(err, errlen, WFSTORE_ENOMEM, "out of memory");
    }
    size_t got = 0;
    /* Read what fstat promised; a file that grew meanwhile is cut there
     * (the writer renames whole files in, so that only happens to files
     * someone edits in place). */
    while (got < cap) {
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return text_err(err, errlen, WFSTORE_EIO, "cannot read workflow \"%s\": %s", name,
                            strerror(e));
        }
        if (n == 0) break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = 0;
    *json = buf;
    *len = got;
    return WFSTORE_OK;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const wfstore_entry *)a)->name, ((const wfstore_entry *)b)->name);
}

int wfstore_list(wfstore *ws, wfstore_entry **out, size_t *n, int *truncated)
{
    *out = NULL;
    *n = 0;
    if (truncated) *truncated = 0;
    int fd = openat(ws->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return WFSTORE_EIO;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return WFSTORE_EIO;
    }
    wfstore_entry *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc = WFSTORE_OK;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len <= SUFFIX_LEN || strcmp(de->d_name + len - SUFFIX_LEN, SUFFIX) != 0) continue;
        char stem[PATH_BUF];
        if (len - SUFFIX_LEN >= sizeof stem) continue;
        memcpy(stem, de->d_name, len - SUFFIX_LEN);
        stem[len - SUFFIX_LEN] = 0;
        if (wfstore_check_name(stem, NULL, 0) != WFSTORE_OK) continue;
        struct stat st;
        if (fstatat(ws->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (cnt == WFSTORE_MAX_LIST) {
            if (truncated) *truncated = 1;
            break;
        }
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 16;
            wfstore_entry *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = WFSTORE_ENOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        if (!(v[cnt].name = strdup(stem))) {
            rc = WFSTORE_ENOMEM;
            break;
        }
        v[cnt].bytes = (uint64_t)st.st_size;
        v[cnt].modified_at_ms =
            (int64_t)st.st_mtim.tv_sec * 1000 + (int64_t)st.st_mtim.tv_nsec / 1000000;
        cnt++;
    }
    closedir(d);
    if (rc != WFSTORE_OK) {
        wfstore_entries_free(v, cnt);
        return rc;
    }
    if (cnt) qsort(v, cnt, sizeof *v, cmp_entry);
    *out = v;
    *n = cnt;
    return WFSTORE_OK;
}

void wfstore_entries_free(wfstore_entry *e, size_t n)
{
    for (size_t i = 0; e && i < n; i++)
        free(e[i].name);
    free(e);
}

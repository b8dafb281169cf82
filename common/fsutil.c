#include "fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

int fs_mkdirs(const char *dir, mode_t mode)
{
    char path[FSUTIL_MAX_PATH];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(path, mode) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(path, mode) != 0 && errno != EEXIST) return -1;
    return 0;
}

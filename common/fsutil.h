/* fsutil: file-system helpers both processes use for their data folders. */
#ifndef COMFYD_FSUTIL_H
#define COMFYD_FSUTIL_H

#include <sys/types.h>

/* Longest path the helpers take (PATH_MAX on Linux). */
#define FSUTIL_MAX_PATH 4096

/* Creates dir and every missing parent with mode (as `mkdir -p`); folders
 * that exist are left as they are. Returns 0, or -1 with errno set
 * (ENAMETOOLONG for a path of FSUTIL_MAX_PATH bytes or more). */
int fs_mkdirs(const char *dir, mode_t mode);

#endif

/* opts: the command line of comfyd and comfyd-bridge. Flags with getopt_long
 * first, then each option's environment twin, which a flag of the same
 * option overrides. The programs keep their own option tables and how a
 * value is checked and stored; this is the loop they share. */
#ifndef COMFYD_OPTS_H
#define COMFYD_OPTS_H

#include "comfyd_error.h"

#include <getopt.h>
#include <stddef.h>

/* Most twins one table may hold. */
#define OPTS_MAX_ENV 64

typedef enum {
    OPTS_OK = 0,
    OPTS_HELP = 1,    /* -h/--help was given */
    OPTS_VERSION = 2, /* -V/--version was given */
    OPTS_EUSAGE =
        CFD_ERR_OPTS_USAGE, /* unknown option, missing value, stray argument: err says which */
} opts_result;

/* An environment variable that stands for an option (its getopt value). */
typedef struct opts_env {
    const char *env;
    int opt;
} opts_env;

/* Applies one option's value: env is NULL for a flag, else the variable the
 * value came from (for a list in one variable, or a message). Returns 0, or
 * a non-zero code of the caller's that opts_parse hands back as it is. */
typedef int (*opts_apply_fn)(void *ud, int opt, const char *value, const char *env, char *err,
                             size_t errlen);

/* Parses argv: "-h" and "-V" (their long names in longopts must map to
 * 'h' and 'V'), every other option through apply, then the twins in
 * table order for the options no flag gave. Returns an opts_result or the
 * first non-zero result of apply. Resets getopt's state first, so it can
 * run more than once (tests). */
int opts_parse(int argc, char **argv, const struct option *longopts, const opts_env *env,
               size_t n_env, opts_apply_fn apply, void *ud, char *err, size_t errlen);

#endif

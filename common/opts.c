#include "opts.h"

#include "text.h"

#include <stdlib.h>

int opts_parse(int argc, char **argv, const struct option *longopts, const opts_env *env,
               size_t n_env, opts_apply_fn apply, void *ud, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (n_env > OPTS_MAX_ENV) return text_err(err, errlen, OPTS_EUSAGE, "too many twins");
    unsigned char given[OPTS_MAX_ENV] = {0}; /* a flag set the twin's option */
    optind = 0; /* GNU: full reinitialisation, so the parser can run again */
    opterr = 0;
    int opt, rc;
    while ((opt = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
        if (opt == 'h') return OPTS_HELP;
        if (opt == 'V') return OPTS_VERSION;
        if (opt == '?')
            return text_err(err, errlen, OPTS_EUSAGE, "unknown option '%s' (see --help)",
                            argv[optind - 1]);
        if (opt == ':')
            return text_err(err, errlen, OPTS_EUSAGE, "option '%s' needs a value",
                            argv[optind - 1]);
        if ((rc = apply(ud, opt, optarg, NULL, err, errlen)) != 0) return rc;
        for (size_t i = 0; i < n_env; i++)
            if (env[i].opt == opt) given[i] = 1;
    }
    if (optind < argc)
        return text_err(err, errlen, OPTS_EUSAGE, "unexpected argument '%s' (see --help)",
                        argv[optind]);
    for (size_t i = 0; i < n_env; i++) {
        const char *v = getenv(env[i].env);
        if (v && !given[i] && (rc = apply(ud, env[i].opt, v, env[i].env, err, errlen)) != 0)
            return rc;
    }
    return OPTS_OK;
}

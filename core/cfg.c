#include "cfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "opts.h"
#include "text.h"

#ifndef COMFYD_BUILTIN_SKILLS_DIR
#define COMFYD_BUILTIN_SKILLS_DIR "skills"
#endif
#ifndef COMFYD_VERSION
#define COMFYD_VERSION "0.1.0"
#endif

enum {
    OPT_DATA = 'd',
    OPT_LISTEN = 'l',
    OPT_SKILLS = 's',
    OPT_HELP = 'h',
    OPT_VERSION = 'V',
    OPT_BUILTIN = 1000,
    OPT_ECHO_DELAY,
    OPT_LOG_LEVEL,
    OPT_CQ_THREADS,
    OPT_HANDLER_THREADS,
    OPT_OBJECT_INFO,
    OPT_EDITOR_TIMEOUT,
    OPT_IDEM_KEYS,
    OPT_IDEM_TTL,
    OPT_LEASE_TTL,
    OPT_COMFYUI,
    OPT_STORE,
    OPT_CONTEXT_WINDOW,
    OPT_ADVERTISE,
    OPT_EMBED_URL,
    OPT_EMBED_MODEL,
    OPT_EMBED_MIN_SIM,
};

static const struct option long_opts[] = {
    {"data", required_argument, NULL, OPT_DATA},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"skills", required_argument, NULL, OPT_SKILLS},
    {"builtin-skills", required_argument, NULL, OPT_BUILTIN},
    {"echo-delay-ms", required_argument, NULL, OPT_ECHO_DELAY},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"cq-threads", required_argument, NULL, OPT_CQ_THREADS},
    {"handler-threads", required_argument, NULL, OPT_HANDLER_THREADS},
    {"object-info", required_argument, NULL, OPT_OBJECT_INFO},
    {"editor-timeout-ms", required_argument, NULL, OPT_EDITOR_TIMEOUT},
    {"idempotency-keys", required_argument, NULL, OPT_IDEM_KEYS},
    {"idempotency-ttl-s", required_argument, NULL, OPT_IDEM_TTL},
    {"lease-ttl-ms", required_argument, NULL, OPT_LEASE_TTL},
    {"comfyui", required_argument, NULL, OPT_COMFYUI},
    {"store", required_argument, NULL, OPT_STORE},
    {"context-window", required_argument, NULL, OPT_CONTEXT_WINDOW},
    {"advertise", required_argument, NULL, OPT_ADVERTISE},
    {"embed-url", required_argument, NULL, OPT_EMBED_URL},
    {"embed-model", required_argument, NULL, OPT_EMBED_MODEL},
    {"embed-min-similarity", required_argument, NULL, OPT_EMBED_MIN_SIM},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

void cfg_usage(FILE *f, const char *prog)
{
    fprintf(
        f,
        "Usage: %s [options]\n"
        "comfyd, the core service of the ComfyUI agent backend: agent sessions, skills and\n"
        "live graph control over gRPC (package comfyd.v1).\n"
        "\n"
        "Options (each has an environment twin; a flag wins over its twin):\n"
        "  --data DIR             data directory: comfyd.db, comfyd.sock, lock file\n"
        "                         [COMFYD_DATA, default %s]\n"
        "  --store SPEC           where sessions, messages and idempotency keys live:\n"
        "                         sqlite:PATH, or postgres://USER@HOST:PORT/DB?... (a libpq\n"
        "                         URI; several cores may share one database, see\n"
        "                         docs/scale-out.md) [COMFYD_STORE, default sqlite:DIR/comfyd.db]\n"
        "  --listen ADDR          gRPC address, repeatable: unix:PATH or HOST:PORT\n"
        "                         [COMFYD_LISTEN, comma-separated; default\n"
        "                         unix:DIR/comfyd.sock and %s]\n"
        "  --skills DIR           a folder of user skills (DIR/<name>/SKILL.md), repeatable\n"
        "                         [COMFYD_SKILLS, colon-separated]\n"
        "  --builtin-skills DIR   the built-in skills folder\n"
        "                         [COMFYD_BUILTIN_SKILLS, default %s]\n"
        "  --echo-delay-ms N      pace of the offline echo provider between tokens\n"
        "                         [COMFYD_ECHO_DELAY_MS, default %d]\n"
        "  --log-level LEVEL      debug, info, warn or error [COMFYD_LOG_LEVEL, default info]\n"
        "  --cq-threads N         gRPC completion-queue threads [COMFYD_CQ_THREADS, default 1]\n"
        "  --handler-threads N    request handler threads [COMFYD_HANDLER_THREADS, default 4]\n"
        "  --object-info FILE|URL node types (ComfyUI's /object_info): a file read at start,\n"
        "                         or a URL such as http://127.0.0.1:8188/object_info fetched\n"
        "                         in the background, refreshed every minute and cached in\n"
        "                         DIR/object_info.json [COMFYD_OBJECT_INFO; default: the node\n"
        "                         types the browser tabs send]\n"
        "  --editor-timeout-ms N  how long a graph request waits for the browser tab unless\n"
        "                         it asks otherwise, 1..%d\n"
        "                         [COMFYD_EDITOR_TIMEOUT_MS, default %d]\n"
        "  --idempotency-keys N   idempotency keys kept with their outcome (in memory and in\n"
        "                         comfyd.db, across restarts), 1..%d\n"
        "                         [COMFYD_IDEMPOTENCY_KEYS, default %d]\n"
        "  --idempotency-ttl-s N  how long a key is kept, in seconds, 1..%d\n"
        "                         [COMFYD_IDEMPOTENCY_TTL_S, default %d]\n"
        "  --lease-ttl-ms N       PostgreSQL only: lifetime of a core's session lease; a\n"
        "                         core that dies gives its sessions up after this long,\n"
        "                         1000..600000 [COMFYD_LEASE_TTL_MS, default 10000]\n"
        "  --advertise ADDR       PostgreSQL only: this core's gRPC address as the other\n"
        "                         cores reach it (unix:PATH or HOST:PORT), for graph\n"
        "                         commands to canvases attached here [COMFYD_ADVERTISE;\n"
        "                         default: the first --listen address]\n"
        "  --comfyui URL          ComfyUI's base URL, e.g. http://127.0.0.1:8188: the core\n"
        "                         posts queued prompts there and follows their runs\n"
        "                         (docs/runs.md) [COMFYD_COMFYUI; default: none, the tab\n"
        "                         posts and runs are not followed]\n"
        "  --context-window N     model context window in tokens for sessions that set none,\n"
        "                         512..10000000 [COMFYD_CONTEXT_WINDOW; default: by provider\n"
        "                         and model, see docs/sessions.md]\n"
        "  --embed-url URL        an OpenAI-compatible endpoint's base URL (its /embeddings):\n"
        "                         every message, summary and memory is also embedded and\n"
        "                         search ranks by words and meaning (docs/sessions.md); the\n"
        "                         key, if any, from COMFYD_EMBED_API_KEY goes to this URL's\n"
        "                         host only [COMFYD_EMBED_URL; default: none, words alone]\n"
        "  --embed-model NAME     the embeddings model, needed with --embed-url\n"
        "                         [COMFYD_EMBED_MODEL]\n"
        "  --embed-min-similarity X  least cosine for a hit found by meaning alone, 0..1\n"
        "                         [COMFYD_EMBED_MIN_SIMILARITY, default 0.5]\n"
        "  -h, --help             show this help and exit\n"
        "  -V, --version          show the version and exit\n"
        "\n"
        "The gRPC endpoints have no authentication: keep them on a unix socket or loopback.\n"
        "Stop with SIGINT or SIGTERM; open streams end with UNAVAILABLE.\n",
        prog, CFG_DEFAULT_DATA, CFG_DEFAULT_TCP, COMFYD_BUILTIN_SKILLS_DIR,
        CFG_DEFAULT_ECHO_DELAY_MS, CFG_MAX_EDITOR_TIMEOUT_MS, CFG_DEFAULT_EDITOR_TIMEOUT_MS,
        CFG_MAX_IDEM_KEYS, CFG_DEFAULT_IDEM_KEYS, CFG_MAX_IDEM_TTL_S, CFG_DEFAULT_IDEM_TTL_S);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return CFG_EINVAL;
}

static int parse_uint(const char *name, const char *v, long max, long *out, char *err,
                      size_t errlen)
{
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < 0 || n > max)
        return fail(err, errlen, "%s: '%s' is not a number between 0 and %ld", name, v, max);
    *out = n;
    return CFG_OK;
}

static int check_listen(const char *a, char *err, size_t errlen)
{
    if (strncmp(a, "unix:", 5) == 0) {
        if (!a[5]) return fail(err, errlen, "--listen: '%s' has an empty socket path", a);
        return CFG_OK;
    }
    const char *colon = strrchr(a, ':');
    long port;
    if (!colon || colon == a)
        return fail(err, errlen, "--listen: '%s' is neither unix:PATH nor HOST:PORT", a);
    if (parse_uint("--listen port", colon + 1, 65535, &port, err, errlen) != CFG_OK)
        return CFG_EINVAL;
    return CFG_OK;
}

static int add_list(char **arr, size_t *n, size_t max, const char *v, const char *name, char *err,
                    size_t errlen)
{
    if (*n >= max) return fail(err, errlen, "%s: at most %zu values", name, max);
    arr[(*n)++] = text_dup(v);
    return CFG_OK;
}

/* Splits an environment value on sep into a list. */
static int add_split(char **arr, size_t *n, size_t max, const char *v, char sep, const char *name,
                     char *err, size_t errlen)
{
    char *copy = text_dup(v), *save = NULL;
    char seps[2] = {sep, 0};
    int rc = CFG_OK;
    for (char *t = strtok_r(copy, seps, &save); t && rc == CFG_OK; t = strtok_r(NULL, seps, &save))
        if (*t) rc = add_list(arr, n, max, t, name, err, errlen);
    free(copy);
    return rc;
}

static int apply(cfg *c, int opt, const char *v, char *err, size_t errlen)
{
    long n = 0;
    switch (opt) {
    case OPT_DATA:
        if (!*v) return fail(err, errlen, "--data must not be empty");
        free(c->data_dir);
        c->data_dir = text_dup(v);
        return CFG_OK;
    case OPT_LISTEN:
        if (check_listen(v, err, errlen) != CFG_OK) return CFG_EINVAL;
        return add_list(c->listen, &c->n_listen, CFG_MAX_LISTEN, v, "--listen", err, errlen);
    case OPT_SKILLS:
        return add_list(c->skill_dirs, &c->n_skill_dirs, CFG_MAX_SKILL_DIRS, v, "--skills", err,
                        errlen);
    case OPT_BUILTIN:
        free(c->builtin_skills);
        c->builtin_skills = text_dup(v);
        return CFG_OK;
    case OPT_CONTEXT_WINDOW:
        if (parse_uint("--context-window", v, 10000000, &n, err, errlen)) return CFG_EINVAL;
        if (n < 512) return fail(err, errlen, "--context-window: %ld is below 512 tokens", n);
        c->context_window = (uint32_t)n;
        return CFG_OK;
    case OPT_EMBED_URL:
        if (!*v || strlen(v) > CFG_MAX_COMFYUI_URL ||
            (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0))
            return fail(err, errlen, "--embed-url: an http:// or https:// URL is needed");
        free(c->embed_url);
        c->embed_url = text_dup(v);
        return CFG_OK;
    case OPT_EMBED_MODEL:
        if (!*v || strlen(v) > 256)
            return fail(err, errlen, "--embed-model: a name of 1..256 bytes is needed");
        free(c->embed_model);
        c->embed_model = text_dup(v);
        return CFG_OK;
    case OPT_EMBED_MIN_SIM: {
        char *end = NULL;
        double x = strtod(v, &end);
        if (!*v || !end || *end || !(x >= 0 && x <= 1))
            return fail(err, errlen, "--embed-min-similarity: '%s' is not a number within 0..1", v);
        c->embed_min_sim = x;
        return CFG_OK;
    }
    case OPT_ECHO_DELAY:
        if (parse_uint("--echo-delay-ms", v, 10000, &n, err, errlen)) return CFG_EINVAL;
        c->echo_delay_ms = (uint32_t)n;
        return CFG_OK;
    case OPT_LOG_LEVEL:
        if ((c->log_level = log_parse_level(v)) < 0)
            return fail(err, errlen, "--log-level: '%s' is not debug, info, warn or error", v);
        return CFG_OK;
    case OPT_CQ_THREADS:
        if (parse_uint("--cq-threads", v, 16, &n, err, errlen) || n < 1)
            return fail(err, errlen, "--cq-threads: '%s' is not a number between 1 and 16", v);
        c->cq_threads = (int)n;
        return CFG_OK;
    case OPT_HANDLER_THREADS:
        if (parse_uint("--handler-threads", v, 64, &n, err, errlen) || n < 1)
            return fail(err, errlen, "--handler-threads: '%s' is not a number between 1 and 64", v);
        c->handler_threads = (int)n;
        return CFG_OK;
    case OPT_OBJECT_INFO:
        if (!*v) return fail(err, errlen, "--object-info must not be empty");
        free(c->object_info);
        c->object_info = text_dup(v);
        return CFG_OK;
    case OPT_EDITOR_TIMEOUT:
        if (parse_uint("--editor-timeout-ms", v, CFG_MAX_EDITOR_TIMEOUT_MS, &n, err, errlen) ||
            n < 1)
            return fail(err, errlen, "--editor-timeout-ms: '%s' is not a number between 1 and %d",
                        v, CFG_MAX_EDITOR_TIMEOUT_MS);
        c->editor_timeout_ms = (uint32_t)n;
        return CFG_OK;
    case OPT_IDEM_KEYS:
        if (parse_uint("--idempotency-keys", v, CFG_MAX_IDEM_KEYS, &n, err, errlen) || n < 1)
            return fail(err, errlen, "--idempotency-keys: '%s' is not a number between 1 and %d", v,
                        CFG_MAX_IDEM_KEYS);
        c->idem_max_keys = (uint32_t)n;
        return CFG_OK;
    case OPT_IDEM_TTL:
        if (parse_uint("--idempotency-ttl-s", v, CFG_MAX_IDEM_TTL_S, &n, err, errlen) || n < 1)
            return fail(err, errlen, "--idempotency-ttl-s: '%s' is not a number between 1 and %d",
                        v, CFG_MAX_IDEM_TTL_S);
        c->idem_ttl_s = (uint32_t)n;
        return CFG_OK;
    case OPT_LEASE_TTL:
        if (parse_uint("--lease-ttl-ms", v, CFG_MAX_LEASE_TTL_MS, &n, err, errlen) ||
            n < CFG_MIN_LEASE_TTL_MS)
            return fail(err, errlen, "--lease-ttl-ms: '%s' is not a number between %d and %d", v,
                        CFG_MIN_LEASE_TTL_MS, CFG_MAX_LEASE_TTL_MS);
        c->lease_ttl_ms = (uint32_t)n;
        return CFG_OK;
    case OPT_STORE:
        if (strlen(v) > CFG_MAX_STORE)
            return fail(err, errlen, "--store: longer than %d bytes", CFG_MAX_STORE);
        if (strncmp(v, "sqlite:", 7) == 0
                ? !v[7]
                : strncmp(v, "postgres://", 11) && strncmp(v, "postgresql://", 13))
            return fail(err, errlen,
                        "--store: expected sqlite:PATH or a postgres:// URI, not '%.*s'",
                        /* a URI may hold a password: quote only the scheme */
                        (int)strcspn(v, ":"), v);
        free(c->store);
        c->store = text_dup(v);
        return CFG_OK;
    case OPT_ADVERTISE:
        if (strlen(v) > CFG_MAX_ADVERTISE)
            return fail(err, errlen, "--advertise: longer than %d bytes", CFG_MAX_ADVERTISE);
        for (const char *p = v; *p; p++)
            if (*p <= 0x20 || *p > 0x7e)
                return fail(err, errlen, "--advertise: '%s' holds a space or a control character",
                            v);
        if (check_listen(v, err, errlen) != CFG_OK) {
            fail(err, errlen, "--advertise: '%s' is neither unix:PATH nor HOST:PORT", v);
            return CFG_EINVAL;
        }
        free(c->advertise);
        c->advertise = text_dup(v);
        return CFG_OK;
    case OPT_COMFYUI:
        if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
            return fail(err, errlen, "--comfyui: '%s' is not an http:// or https:// URL", v);
        if (strlen(v) > CFG_MAX_COMFYUI_URL)
            return fail(err, errlen, "--comfyui: the URL is longer than %d bytes",
                        CFG_MAX_COMFYUI_URL);
        free(c->comfyui);
        c->comfyui = text_dup(v);
        return CFG_OK;
    }
    return fail(err, errlen, "unknown option");
}

/* Environment twins, in the order they are applied. */
static const opts_env twins[] = {
    {"COMFYD_BUILTIN_SKILLS", OPT_BUILTIN},
    {"COMFYD_ECHO_DELAY_MS", OPT_ECHO_DELAY},
    {"COMFYD_LOG_LEVEL", OPT_LOG_LEVEL},
    {"COMFYD_CQ_THREADS", OPT_CQ_THREADS},
    {"COMFYD_HANDLER_THREADS", OPT_HANDLER_THREADS},
    {"COMFYD_OBJECT_INFO", OPT_OBJECT_INFO},
    {"COMFYD_EDITOR_TIMEOUT_MS", OPT_EDITOR_TIMEOUT},
    {"COMFYD_IDEMPOTENCY_KEYS", OPT_IDEM_KEYS},
    {"COMFYD_IDEMPOTENCY_TTL_S", OPT_IDEM_TTL},
    {"COMFYD_LEASE_TTL_MS", OPT_LEASE_TTL},
    {"COMFYD_COMFYUI", OPT_COMFYUI},
    {"COMFYD_STORE", OPT_STORE},
    {"COMFYD_CONTEXT_WINDOW", OPT_CONTEXT_WINDOW},
    {"COMFYD_ADVERTISE", OPT_ADVERTISE},
    {"COMFYD_EMBED_URL", OPT_EMBED_URL},
    {"COMFYD_EMBED_MODEL", OPT_EMBED_MODEL},
    {"COMFYD_EMBED_MIN_SIMILARITY", OPT_EMBED_MIN_SIM},
    {"COMFYD_DATA", OPT_DATA},
    {"COMFYD_LISTEN", OPT_LISTEN},
    {"COMFYD_SKILLS", OPT_SKILLS},
};

/* One option from a flag or its twin. COMFYD_LISTEN holds a comma-separated
 * list and COMFYD_SKILLS a colon-separated one, where the flags repeat. */
static int apply_opt(void *ud, int opt, const char *v, const char *env, char *err, size_t errlen)
{
    cfg *c = ud;
    if (env && opt == OPT_SKILLS)
        return add_split(c->skill_dirs, &c->n_skill_dirs, CFG_MAX_SKILL_DIRS, v, ':', "--skills",
                         err, errlen);
    if (!env || opt != OPT_LISTEN) return apply(c, opt, v, err, errlen);
    char *copy = text_dup(v), *save = NULL;
    int rc = CFG_OK;
    for (char *t = strtok_r(copy, ",", &save); t && rc == CFG_OK; t = strtok_r(NULL, ",", &save))
        if (*t) rc = apply(c, OPT_LISTEN, t, err, errlen);
    free(copy);
    return rc;
}

int cfg_parse(cfg *c, int argc, char **argv, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->echo_delay_ms = CFG_DEFAULT_ECHO_DELAY_MS;
    c->log_level = LOG_INFO;
    c->cq_threads = 1;
    c->handler_threads = 4;
    c->editor_timeout_ms = CFG_DEFAULT_EDITOR_TIMEOUT_MS;
    c->idem_max_keys = CFG_DEFAULT_IDEM_KEYS;
    c->idem_ttl_s = CFG_DEFAULT_IDEM_TTL_S;

    /* Flags first, then the environment for what no flag gave. */
    int rc = opts_parse(argc, argv, long_opts, twins, sizeof twins / sizeof twins[0], apply_opt, c,
                        err, errlen);
    if (rc == OPTS_HELP) return CFG_HELP;
    if (rc == OPTS_VERSION) return CFG_VERSION;
    if (rc != OPTS_OK) return CFG_EINVAL;

    /* Several cores share only a PostgreSQL database: SQLite is one file
     * for one core (the data directory's lock refuses a second one). */
    if (c->lease_ttl_ms && (!c->store || strncmp(c->store, "sqlite:", 7) == 0)) {
        fail(err, errlen,
             "--lease-ttl-ms: session leases are for several cores on one PostgreSQL database "
             "(--store postgres://...); a SQLite store serves one core");
        return CFG_EINVAL;
    }
    if (c->advertise && (!c->store || strncmp(c->store, "sqlite:", 7) == 0)) {
        fail(err, errlen,
             "--advertise: the address other cores use to reach this one is for several cores "
             "on one PostgreSQL database (--store postgres://...)");
        return CFG_EINVAL;
    }
    if (!c->embed_url != !c->embed_model) {
        fail(err, errlen, "--embed-url and --embed-model go together (hybrid search needs both)");
        return CFG_EINVAL;
    }
    if (!c->data_dir) c->data_dir = text_dup(CFG_DEFAULT_DATA);
    if (!c->builtin_skills) c->builtin_skills = text_dup(COMFYD_BUILTIN_SKILLS_DIR);
    if (c->n_listen == 0) {
        char buf[4096];
        snprintf(buf, sizeof buf, "unix:%s/comfyd.sock", c->data_dir);
        c->listen[c->n_listen++] = text_dup(buf);
        c->listen[c->n_listen++] = text_dup(CFG_DEFAULT_TCP);
    }
    return CFG_OK;
}

void cfg_clear(cfg *c)
{
    free(c->data_dir);
    for (size_t i = 0; i < c->n_listen; i++)
        free(c->listen[i]);
    for (size_t i = 0; i < c->n_skill_dirs; i++)
        free(c->skill_dirs[i]);
    free(c->builtin_skills);
    free(c->object_info);
    free(c->comfyui);
    free(c->store);
    free(c->advertise);
    free(c->embed_url);
    free(c->embed_model);
    memset(c, 0, sizeof *c);
}

const char *cfg_version(void)
{
    return COMFYD_VERSION;
}

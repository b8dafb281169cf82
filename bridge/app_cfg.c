/* app_cfg: comfyd-bridge's flags and their COMFYD_BRIDGE_* environment
 * twins (app_cfg.h). */
#include "app_cfg.h"

#include <getopt.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "log.h"
#include "opts.h"
#include "rpcc.h"
#include "text.h"

#ifndef COMFYD_VERSION
#define COMFYD_VERSION "0.1.0"
#endif

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8189
#define DEFAULT_DATA "./var"
/* Longest path we build from --data (socket and token file names). */
#define MAX_PATH 4096

const char *app_version(void)
{
    return COMFYD_VERSION;
}

/* ==== configuration ==== */

enum {
    OPT_LISTEN = 1000,
    OPT_CORE,
    OPT_DATA,
    OPT_TOKEN_FILE,
    OPT_ALLOW_ORIGIN,
    OPT_ALLOW_HOST,
    OPT_LOG_LEVEL,
    OPT_MAX_CONNECTIONS,
    OPT_MAX_UNAUTH,
    OPT_HANDSHAKE_TIMEOUT,
    OPT__END,
    OPT_HELP = 'h',
    OPT_VERSION = 'V',
};

static const struct option long_opts[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"core", required_argument, NULL, OPT_CORE},
    {"data", required_argument, NULL, OPT_DATA},
    {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
    {"allow-origin", required_argument, NULL, OPT_ALLOW_ORIGIN},
    {"allow-host", required_argument, NULL, OPT_ALLOW_HOST},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"max-unauth-connections", required_argument, NULL, OPT_MAX_UNAUTH},
    {"handshake-timeout-ms", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* Environment twins; list values are comma-separated. */
static const opts_env twins[] = {
    {"COMFYD_BRIDGE_LISTEN", OPT_LISTEN},
    {"COMFYD_BRIDGE_CORE", OPT_CORE},
    {"COMFYD_BRIDGE_DATA", OPT_DATA},
    {"COMFYD_BRIDGE_TOKEN_FILE", OPT_TOKEN_FILE},
    {"COMFYD_BRIDGE_ALLOW_ORIGIN", OPT_ALLOW_ORIGIN},
    {"COMFYD_BRIDGE_ALLOW_HOST", OPT_ALLOW_HOST},
    {"COMFYD_BRIDGE_LOG_LEVEL", OPT_LOG_LEVEL},
    {"COMFYD_BRIDGE_MAX_CONNECTIONS", OPT_MAX_CONNECTIONS},
    {"COMFYD_BRIDGE_MAX_UNAUTH_CONNECTIONS", OPT_MAX_UNAUTH},
    {"COMFYD_BRIDGE_HANDSHAKE_TIMEOUT_MS", OPT_HANDSHAKE_TIMEOUT},
};

void app_cfg_usage(FILE *f, const char *prog)
{
    fprintf(f,
            "Usage: %s [options]\n"
            "comfyd-bridge serves the HTTP/JSON and WebSocket protocols of comfyd (graph control,\n"
            "browser canvases, agent sessions) and talks gRPC to the core service.\n"
            "\n"
            "Options (each has an environment twin; a flag wins over its twin):\n"
            "  --listen HOST:PORT     address to serve on (IPv4/IPv6 literal or localhost)\n"
            "                         [COMFYD_BRIDGE_LISTEN, default %s:%d]\n"
            "  --core ADDR            the core: unix:PATH or HOST:PORT; repeatable: several\n"
            "                         cores on one database, the first reachable is used and\n"
            "                         the next when it goes away (docs/scale-out.md)\n"
            "                         [COMFYD_BRIDGE_CORE, default unix:DATA/comfyd.sock]\n"
            "  --data DIR             data directory (the token file lives here)\n"
            "                         [COMFYD_BRIDGE_DATA, default %s]\n"
            "  --token-file PATH      bearer token file, created with mode 0600 if missing\n"
            "                         [COMFYD_BRIDGE_TOKEN_FILE, default DATA/token]\n"
            "  --allow-origin ORIGIN  an extra allowed Origin, repeatable (ComfyUI's\n"
            "                         http://127.0.0.1:8188 and http://localhost:8188 always are)\n"
            "                         [COMFYD_BRIDGE_ALLOW_ORIGIN, comma-separated]\n"
            "  --allow-host NAME      an extra accepted Host name (name or name:port), repeatable\n"
            "                         [COMFYD_BRIDGE_ALLOW_HOST, comma-separated]\n"
            "  --log-level LEVEL      debug, info, warn or error\n"
            "                         [COMFYD_BRIDGE_LOG_LEVEL, default info]\n"
            "  --max-connections N    open connections at most; one more is answered 503\n"
            "                         (cut to the open files limit, raised to its hard limit)\n"
            "                         [COMFYD_BRIDGE_MAX_CONNECTIONS, default %d]\n"
            "  --max-unauth-connections N\n"
            "                         of those, connections that have not yet sent a valid token;\n"
            "                         the oldest idle one is closed to make room for a newcomer\n"
            "                         [COMFYD_BRIDGE_MAX_UNAUTH_CONNECTIONS, default %d]\n"
            "  --handshake-timeout-ms MS\n"
            "                         a connection without a valid token is closed after this\n"
            "                         [COMFYD_BRIDGE_HANDSHAKE_TIMEOUT_MS, default %d]\n"
            "  -h, --help             show this help and exit\n"
            "  -V, --version          show the version and exit\n"
            "\n"
            "Every caller must send \"Authorization: Bearer <token>\" with the token from the\n"
            "token file (WebSockets may send it as ?token= or the subprotocol\n"
            "comfyd.token.<token>); an allowed Origin does not replace it. See docs/security.md.\n"
            "Stop with SIGINT or SIGTERM (graceful).\n",
            prog, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_DATA, APP_DEFAULT_MAX_CONNECTIONS,
            APP_DEFAULT_MAX_UNAUTH, APP_DEFAULT_HANDSHAKE_TIMEOUT_MS);
}

static int cfg_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int cfg_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return APP_E_ARG;
}

static int parse_port(const char *s, int *out)
{
    char *end = NULL;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (!*s || *end || errno || n < 0 || n > 65535) return -1;
    *out = (int)n;
    return 0;
}

static int parse_listen(app_cfg *c, const char *v, char *err, size_t errlen)
{
    char host[64];
    const char *port;
    if (v[0] == '[') {
        const char *close = strchr(v, ']');
        if (!close || close[1] != ':' || (size_t)(close - v - 1) >= sizeof host)
            return cfg_fail(err, errlen, "--listen: '%s' is not [IPv6]:PORT", v);
        memcpy(host, v + 1, (size_t)(close - v - 1));
        host[close - v - 1] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(v, ':');
        if (!colon || colon == v || (size_t)(colon - v) >= sizeof host)
            return cfg_fail(err, errlen, "--listen: '%s' is not HOST:PORT", v);
        memcpy(host, v, (size_t)(colon - v));
        host[colon - v] = '\0';
        port = colon + 1;
    }
    int p;
    if (parse_port(port, &p))
        return cfg_fail(err, errlen, "--listen: '%s' has no port between 0 and 65535", v);
    if (!strcmp(host, "localhost")) strcpy(host, DEFAULT_HOST);
    unsigned char buf[16];
    if (inet_pton(AF_INET, host, buf) != 1 && inet_pton(AF_INET6, host, buf) != 1)
        return cfg_fail(err, errlen, "--listen: '%s' is not an IP address or localhost", host);
    free(c->listen_host);
    c->listen_host = text_dup(host);
    c->listen_port = p;
    return APP_OK;
}

static int check_core(const char *v, char *err, size_t errlen)
{
    if (strlen(v) > RPCC_MAX_TARGET_BYTES)
        return cfg_fail(err, errlen, "--core: longer than %d bytes", RPCC_MAX_TARGET_BYTES);
    if (!strncmp(v, "unix:", 5)) {
        if (!v[5]) return cfg_fail(err, errlen, "--core: '%s' has an empty socket path", v);
        return APP_OK;
    }
    const char *colon = strrchr(v, ':');
    int p;
    if (!colon || colon == v || parse_port(colon + 1, &p) || p == 0)
        return cfg_fail(err, errlen, "--core: '%s' is neither unix:PATH nor HOST:PORT", v);
    return APP_OK;
}

/* The gRPC target for the --core values: one as it is; several as one
 * address list (gRPC's pick_first policy uses the first that answers and
 * moves on when it goes away), which gRPC takes for unix sockets or for
 * numeric addresses of one family only. */
static int join_cores(app_cfg *c, char *err, size_t errlen)
{
    if (c->n_cores == 1) {
        c->core = text_dup(c->cores[0]);
        return APP_OK;
    }
    const char *scheme = NULL;
    char buf[RPCC_MAX_TARGET_BYTES + 1];
    size_t len = 0;
    for (size_t i = 0; i < c->n_cores; i++) {
        const char *v = c->cores[i], *addr = v, *kind;
        char host[64];
        if (!strncmp(v, "unix:", 5)) {
            kind = "unix:";
            addr = v + 5;
        } else {
            const char *colon = strrchr(v, ':');
            size_t hl = (size_t)(colon - v);
            unsigned char bin[16];
            if (hl >= sizeof host) hl = sizeof host - 1;
            memcpy(host, v, hl);
            host[hl] = 0;
            if (!strcmp(host, "localhost")) {
                kind = "ipv4:";
                snprintf(host, sizeof host, "127.0.0.1:%s", colon + 1);
                addr = host;
            } else if (inet_pton(AF_INET, host, bin) == 1) {
                kind = "ipv4:";
            } else if (hl > 2 && host[0] == '[' && host[hl - 1] == ']' &&
                       (host[hl - 1] = 0, inet_pton(AF_INET6, host + 1, bin) == 1)) {
                kind = "ipv6:";
            } else {
                return cfg_fail(err, errlen,
                                "--core '%s': with several cores each must be unix:PATH or a "
                                "numeric IPv4 or [IPv6] HOST:PORT (a DNS name with several "
                                "addresses goes in one --core as dns:///NAME:PORT)",
                                v);
            }
        }
        if (strchr(addr, ','))
            return cfg_fail(err, errlen, "--core '%s': a comma cannot be part of a list", v);
        if (scheme && strcmp(scheme, kind))
            return cfg_fail(err, errlen,
                            "--core: several cores must all be unix sockets, or all IPv4, or all "
                            "IPv6 addresses (gRPC lists one kind)");
        scheme = kind;
        int n = snprintf(buf + len, sizeof buf - len, "%s%s", i ? "," : kind, addr);
        if (n < 0 || (size_t)n >= sizeof buf - len)
            return cfg_fail(err, errlen, "--core: the cores' addresses are longer than %d bytes",
                            RPCC_MAX_TARGET_BYTES);
        len += (size_t)n;
    }
    c->core = text_dup(buf);
    return APP_OK;
}

static int add_name(char **arr, size_t *n, const char *v, const char *flag, char *err,
                    size_t errlen)
{
    if (!*v) return cfg_fail(err, errlen, "%s must not be empty", flag);
    if (*n >= APP_MAX_NAMES)
        return cfg_fail(err, errlen, "%s: at most %d values", flag, APP_MAX_NAMES);
    arr[(*n)++] = text_dup(v);
    return APP_OK;
}

/* A decimal integer in [lo, hi]. */
static int parse_count(const char *v, long lo, long hi, long *out)
{
    if (!*v || strlen(v) > 9) return -1;
    long n = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        n = n * 10 + (*p - '0');
    }
    if (n < lo || n > hi) return -1;
    *out = n;
    return 0;
}

static int cfg_apply(app_cfg *c, int opt, const char *v, char *err, size_t errlen)
{
    long n;
    switch (opt) {
    case OPT_MAX_CONNECTIONS:
        if (parse_count(v, 1, APP_MAX_MAX_CONNECTIONS, &n))
            return cfg_fail(err, errlen, "--max-connections: '%s' is not a number in 1..%d", v,
                            APP_MAX_MAX_CONNECTIONS);
        c->max_connections = (size_t)n;
        return APP_OK;
    case OPT_MAX_UNAUTH:
        if (parse_count(v, 1, APP_MAX_MAX_CONNECTIONS, &n))
            return cfg_fail(err, errlen, "--max-unauth-connections: '%s' is not a number in 1..%d",
                            v, APP_MAX_MAX_CONNECTIONS);
        c->max_unauth_connections = (size_t)n;
        return APP_OK;
    case OPT_HANDSHAKE_TIMEOUT:
        if (parse_count(v, APP_MIN_HANDSHAKE_TIMEOUT_MS, APP_MAX_HANDSHAKE_TIMEOUT_MS, &n))
            return cfg_fail(err, errlen, "--handshake-timeout-ms: '%s' is not a number in %d..%d",
                            v, APP_MIN_HANDSHAKE_TIMEOUT_MS, APP_MAX_HANDSHAKE_TIMEOUT_MS);
        c->handshake_timeout_ms = (uint64_t)n;
        return APP_OK;
    case OPT_LISTEN:
        return parse_listen(c, v, err, errlen);
    case OPT_CORE:
        if (check_core(v, err, errlen)) return APP_E_ARG;
        if (c->n_cores >= APP_MAX_CORES)
            return cfg_fail(err, errlen, "--core: at most %d cores", APP_MAX_CORES);
        c->cores[c->n_cores++] = text_dup(v);
        return APP_OK;
    case OPT_DATA:
        if (!*v) return cfg_fail(err, errlen, "--data must not be empty");
        if (strlen(v) > MAX_PATH - 64) return cfg_fail(err, errlen, "--data: path too long");
        free(c->data_dir);
        c->data_dir = text_dup(v);
        return APP_OK;
    case OPT_TOKEN_FILE:
        if (!*v) return cfg_fail(err, errlen, "--token-file must not be empty");
        free(c->token_file);
        c->token_file = text_dup(v);
        return APP_OK;
    case OPT_ALLOW_ORIGIN:
        return add_name(c->allow_origins, &c->n_allow_origins, v, "--allow-origin", err, errlen);
    case OPT_ALLOW_HOST:
        return add_name(c->allow_hosts, &c->n_allow_hosts, v, "--allow-host", err, errlen);
    case OPT_LOG_LEVEL:
        if ((c->log_level = log_parse_level(v)) < 0)
            return cfg_fail(err, errlen, "--log-level: '%s' is not debug, info, warn or error", v);
        return APP_OK;
    }
    return cfg_fail(err, errlen, "unknown option");
}

static int cfg_apply_env(app_cfg *c, int opt, const char *v, char *err, size_t errlen)
{
    if (opt != OPT_ALLOW_ORIGIN && opt != OPT_ALLOW_HOST) return cfg_apply(c, opt, v, err, errlen);
    char *copy = text_dup(v), *save = NULL;
    int rc = APP_OK;
    for (char *t = strtok_r(copy, ",", &save); t && rc == APP_OK; t = strtok_r(NULL, ",", &save))
        if (*t) rc = cfg_apply(c, opt, t, err, errlen);
    free(copy);
    return rc;
}

/* One option from a flag or its twin; a twin's error names the variable. */
static int cfg_apply_opt(void *ud, int opt, const char *v, const char *env, char *err,
                         size_t errlen)
{
    if (!env) return cfg_apply(ud, opt, v, err, errlen);
    int rc = cfg_apply_env(ud, opt, v, err, errlen);
    if (rc != APP_OK) {
        size_t n = strlen(err);
        if (n + 1 < errlen) snprintf(err + n, errlen - n, " (from %s)", env);
    }
    return rc;
}

int app_cfg_parse(app_cfg *c, int argc, char **argv, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->listen_host = text_dup(DEFAULT_HOST);
    c->listen_port = DEFAULT_PORT;
    c->log_level = LOG_INFO;
    c->max_connections = APP_DEFAULT_MAX_CONNECTIONS;
    c->max_unauth_connections = APP_DEFAULT_MAX_UNAUTH;
    c->handshake_timeout_ms = APP_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    if (err && errlen) err[0] = '\0';

    int rc = opts_parse(argc, argv, long_opts, twins, sizeof twins / sizeof twins[0], cfg_apply_opt,
                        c, err, errlen);
    if (rc == OPTS_HELP) return APP_HELP;
    if (rc == OPTS_VERSION) return APP_VERSION;
    if (rc == OPTS_EUSAGE) return APP_E_ARG;
    if (rc != APP_OK) return rc;
    if (c->max_unauth_connections > c->max_connections)
        return cfg_fail(err, errlen,
                        "--max-unauth-connections (%zu) is more than --max-connections (%zu)",
                        c->max_unauth_connections, c->max_connections);
    if (!c->data_dir) c->data_dir = text_dup(DEFAULT_DATA);
    char path[MAX_PATH];
    if (c->n_cores && join_cores(c, err, errlen) != APP_OK) return APP_E_ARG;
    if (!c->core) {
        snprintf(path, sizeof path, "unix:%s/comfyd.sock", c->data_dir);
        if (check_core(path, err, errlen)) return APP_E_ARG;
        c->core = text_dup(path);
    }
    if (!c->token_file) {
        snprintf(path, sizeof path, "%s/token", c->data_dir);
        c->token_file = text_dup(path);
    }
    return APP_OK;
}

void app_cfg_clear(app_cfg *c)
{
    free(c->listen_host);
    free(c->core);
    for (size_t i = 0; i < c->n_cores; i++)
        free(c->cores[i]);
    free(c->data_dir);
    free(c->token_file);
    for (size_t i = 0; i < c->n_allow_origins; i++)
        free(c->allow_origins[i]);
    for (size_t i = 0; i < c->n_allow_hosts; i++)
        free(c->allow_hosts[i]);
    memset(c, 0, sizeof *c);
}

/* app: configuration, lifecycle, calls and streams to the core, JSON
 * helpers, status mapping, /healthz and /metrics (see app.h). */
#include "app.h"
#include "jsontree.h"
#include "fsutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "comfyd/v1/skill.pb-c.h"
#include "jsonpb.h"
#include "jsonscan.h"
#include "log.h"
#include "opts.h"
#include "text.h"

#define MOD "comfyd-bridge"

#ifndef COMFYD_VERSION
#define COMFYD_VERSION "0.1.0"
#endif

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8189
#define DEFAULT_DATA "./var"
/* Longest path we build from --data (socket and token file names). */
#define MAX_PATH 4096

const char *app_strerror(int err)
{
    switch (err) {
    case APP_OK:
        return "ok";
    case APP_HELP:
        return "help requested";
    case APP_VERSION:
        return "version requested";
    case APP_E_JSON:
        return "invalid JSON";
    case APP_E_INPUT:
        return "invalid request";
    case APP_E_TOOBIG:
        return "request too large";
    case APP_E_ARG:
        return "invalid argument";
    case APP_E_START:
        return "cannot start";
    case APP_E_NOMEM:
        return "out of memory";
    }
    return "unknown error";
}

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
            "  --core ADDR            the core: unix:PATH or HOST:PORT\n"
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
        free(c->core);
        c->core = text_dup(v);
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
    free(c->data_dir);
    free(c->token_file);
    for (size_t i = 0; i < c->n_allow_origins; i++)
        free(c->allow_origins[i]);
    for (size_t i = 0; i < c->n_allow_hosts; i++)
        free(c->allow_hosts[i]);
    memset(c, 0, sizeof *c);
}

/* ==== status mapping ==== */

int app_status_for_grpc(grpc_status_code code)
{
    switch (code) {
    case GRPC_STATUS_OK:
        return 200;
    case GRPC_STATUS_INVALID_ARGUMENT:
        return 400;
    case GRPC_STATUS_NOT_FOUND:
        return 404;
    case GRPC_STATUS_ALREADY_EXISTS:
    case GRPC_STATUS_FAILED_PRECONDITION:
        return 409;
    case GRPC_STATUS_DEADLINE_EXCEEDED:
        return 504;
    case GRPC_STATUS_UNAVAILABLE:
        return 503;
    case GRPC_STATUS_RESOURCE_EXHAUSTED:
        return 429;
    case GRPC_STATUS_ABORTED:
        return 502;
    case GRPC_STATUS_UNAUTHENTICATED:
        return 401;
    case GRPC_STATUS_PERMISSION_DENIED:
        return 403;
    default:
        return 500;
    }
}

int app_status_for_graph(Comfyd__V1__GraphErrorCode code)
{
    switch (code) {
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_COMMAND:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_UNKNOWN_NODE_TYPE:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NODE_NOT_FOUND:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_SLOT_NOT_FOUND:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_TYPE_MISMATCH:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_WIDGET_NOT_FOUND:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_VALUE_INVALID:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_REF_NOT_FOUND:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_SKIPPED:
        return 422;
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_STALE_REVISION:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NO_LIVE_CANVAS:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_AMBIGUOUS_CANVAS:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_IDEMPOTENCY_KEY_REUSED:
        return 409;
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_CANVAS_NOT_FOUND:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_WORKFLOW_NOT_FOUND:
        return 404;
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_INVALID_NAME:
        return 400;
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_EDITOR_TIMEOUT:
        return 504;
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_EDITOR_GONE:
    case COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_EDITOR_FAILED:
        return 502;
    default:
        return 500;
    }
}

const char *app_grpc_code_name(grpc_status_code code)
{
    static const char *const names[] = {
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    };
    if ((int)code < 0 || (size_t)code >= sizeof names / sizeof names[0]) return "UNKNOWN";
    return names[code];
}

#define GRAPH_CODE_PREFIX "GRAPH_ERROR_CODE_"

const char *app_graph_code_name(Comfyd__V1__GraphErrorCode code)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&comfyd__v1__graph_error_code__descriptor, (int)code);
    if (!v || code == 0) return "UNSPECIFIED";
    return v->name + strlen(GRAPH_CODE_PREFIX);
}

Comfyd__V1__GraphErrorCode app_graph_code_in(const char *details)
{
    if (!details) return 0;
    const char *s = details;
    if (!strncmp(s, GRAPH_CODE_PREFIX, strlen(GRAPH_CODE_PREFIX))) s += strlen(GRAPH_CODE_PREFIX);
    size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
    if (n == 0 || s[n] != ':') return 0;
    const ProtobufCEnumDescriptor *d = &comfyd__v1__graph_error_code__descriptor;
    for (unsigned i = 0; i < d->n_values; i++) {
        const char *name = d->values[i].name + strlen(GRAPH_CODE_PREFIX);
        if (d->values[i].value != 0 && strlen(name) == n && !strncmp(name, s, n))
            return (Comfyd__V1__GraphErrorCode)d->values[i].value;
    }
    return 0;
}

const Comfyd__V1__GraphError *app_first_graph_error(const ProtobufCMessage *resp)
{
    if (!resp) return NULL;
    if (resp->descriptor == &comfyd__v1__execute_response__descriptor) {
        const Comfyd__V1__ExecuteResponse *r = (const Comfyd__V1__ExecuteResponse *)resp;
        if (r->ok || !r->result || !r->result->error) return NULL;
        return r->result->error;
    }
    if (resp->descriptor == &comfyd__v1__execute_batch_response__descriptor) {
        const Comfyd__V1__ExecuteBatchResponse *r = (const Comfyd__V1__ExecuteBatchResponse *)resp;
        if (r->ok) return NULL;
        if (r->n_errors) return r->errors[0];
        for (size_t i = 0; i < r->n_results; i++)
            if (r->results[i] && r->results[i]->error) return r->results[i]->error;
    }
    return NULL;
}

/* ==== JSON helpers ==== */

/* Bounds what yajl_tree would build (its free recurses per level) and
 * refuses what would not survive a re-emit: NUL and lone surrogates. Syntax
 * errors are left to yajl. */
static int json_scan(const char *s, size_t len, char *err, size_t errlen)
{
    const jsonscan_limits lim = {.max_depth = JSONPB_MAX_DEPTH,
                                 .max_values = 2 * (size_t)JSONPB_MAX_TOTAL_ELEMENTS,
                                 .count_keys = 1,
                                 .strict = 1};
    char why[64];
    switch (jsonscan(s, len, &lim, why, sizeof why)) {
    case JSONSCAN_OK:
        return APP_OK;
    case JSONSCAN_EDEPTH:
        return text_err(err, errlen, APP_E_TOOBIG, "JSON nested deeper than %d levels",
                        JSONPB_MAX_DEPTH);
    case JSONSCAN_EVALUES:
        return text_err(err, errlen, APP_E_TOOBIG, "JSON with more than %zu values",
                        lim.max_values);
    default:
        return text_err(err, errlen, APP_E_JSON, "invalid JSON: %s", why);
    }
}

int app__json_parse(const char *json, size_t len, yajl_val *out, char *err, size_t errlen)
{
    *out = NULL;
    if (len > JSONPB_MAX_INPUT_BYTES)
        return text_err(err, errlen, APP_E_TOOBIG, "JSON larger than %d bytes",
                        JSONPB_MAX_INPUT_BYTES);
    int rc = json_scan(json, len, err, errlen);
    if (rc) return rc;
    char *copy = malloc(len + 1);
    if (!copy) return text_err(err, errlen, APP_E_NOMEM, "out of memory");
    memcpy(copy, json, len);
    copy[len] = '\0';
    char ebuf[256] = "";
    yajl_val v = yajl_tree_parse(copy, ebuf, sizeof ebuf);
    free(copy);
    if (!v) {
        if (!strcmp(ebuf, "out of memory"))
            return text_err(err, errlen, APP_E_NOMEM, "out of memory");
        ebuf[strcspn(ebuf, "\n")] = '\0'; /* yajl adds the input around the error */
        const char *m = ebuf;
        if (!strncmp(m, "parse error: ", 13)) m += 13;
        if (!*m) m = len ? "syntax error" : "empty body";
        return text_err(err, errlen, APP_E_JSON, "invalid JSON: %s", m);
    }
    *out = v;
    return APP_OK;
}

yajl_val app__json_get(yajl_val o, const char *key)
{
    if (!YAJL_IS_OBJECT(o)) return NULL;
    for (size_t i = 0; i < o->u.object.len; i++)
        if (!strcmp(o->u.object.keys[i], key)) return o->u.object.values[i];
    return NULL;
}

int app__key_in(const char *key, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(key, names[i])) return 1;
    return 0;
}

int app__json_emit(yajl_gen g, yajl_val v)
{
    return jsontree_gen(g, v) == yajl_gen_status_ok ? 0 : -1;
}

yajl_gen app__gen(void)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g) yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    return g;
}

int app__gen_finish(yajl_gen g, char **out, size_t *len)
{
    const unsigned char *buf;
    size_t n;
    *out = NULL;
    *len = 0;
    if (yajl_gen_get_buf(g, &buf, &n) != yajl_gen_status_ok) {
        yajl_gen_free(g);
        return APP_E_NOMEM;
    }
    char *s = malloc(n + 1);
    if (!s) {
        yajl_gen_free(g);
        return APP_E_NOMEM;
    }
    memcpy(s, buf, n);
    s[n] = '\0';
    yajl_gen_free(g);
    *out = s;
    *len = n;
    return APP_OK;
}

/* Writes s as a JSON string; bytes that are not UTF-8 (a status text from
 * elsewhere) become '?' so the message stays valid. */
int app__gen_str(yajl_gen g, const char *s)
{
    if (!s) s = "";
    size_t n = strlen(s);
    if (text_utf8_valid(s, n))
        return yajl_gen_string(g, (const unsigned char *)s, n) == yajl_gen_status_ok ? 0 : -1;
    char *c = text_dupn(s, n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)c[i] >= 0x80) c[i] = '?';
    int rc = yajl_gen_string(g, (const unsigned char *)c, n) == yajl_gen_status_ok ? 0 : -1;
    free(c);
    return rc;
}

int app__gen_raw_value(yajl_gen g, const char *t)
{
    yajl_val v = NULL;
    if (app__json_parse(t, strlen(t), &v, NULL, 0)) return -1;
    int rc = app__json_emit(g, v);
    yajl_tree_free(v);
    return rc;
}

int app__gen_cstr(yajl_gen g, const char *k)
{
    return yajl_gen_string(g, (const unsigned char *)k, strlen(k)) == yajl_gen_status_ok ? 0 : -1;
}

static const ProtobufCMessageDescriptor *const flatten_list[] = {
    &comfyd__v1__command__descriptor,
    &comfyd__v1__report_editor_request__descriptor,
    &comfyd__v1__attach_canvas_response__descriptor,
};

int app__from_jsonpb(int rc)
{
    switch (rc) {
    case JSONPB_OK:
        return APP_OK;
    case JSONPB_ESYNTAX:
    case JSONPB_EUTF8:
        return APP_E_JSON;
    case JSONPB_ELIMIT:
        return APP_E_TOOBIG;
    case JSONPB_ENOMEM:
        return APP_E_NOMEM;
    default:
        return APP_E_INPUT;
    }
}

int app__decode_gen(yajl_gen g, const ProtobufCMessageDescriptor *d, int ignore_unknown,
                    ProtobufCMessage **out, char *err, size_t errlen)
{
    char *text;
    size_t len;
    *out = NULL;
    if (app__gen_finish(g, &text, &len)) return text_err(err, errlen, APP_E_NOMEM, "out of memory");
    jsonpb_opts o = {0};
    o.flatten = flatten_list;
    o.n_flatten = sizeof flatten_list / sizeof flatten_list[0];
    o.ignore_unknown_fields = ignore_unknown;
    int rc = jsonpb_decode(d, text, len, &o, out, err, errlen);
    free(text);
    return app__from_jsonpb(rc);
}

int app__emit_members(yajl_gen g, yajl_val obj, const char *const *skip, size_t n_skip)
{
    for (size_t i = 0; i < obj->u.object.len; i++) {
        const char *k = obj->u.object.keys[i];
        if (app__key_in(k, skip, n_skip)) continue;
        if (app__gen_cstr(g, k) || app__json_emit(g, obj->u.object.values[i])) return -1;
    }
    return 0;
}

int app__decode_obj(yajl_val obj, const char *const *skip, size_t n_skip,
                    int (*extra_fn)(yajl_gen g, void *ud), void *ud,
                    const ProtobufCMessageDescriptor *d, int ignore_unknown, ProtobufCMessage **out,
                    char *err, size_t errlen)
{
    *out = NULL;
    if (!YAJL_IS_OBJECT(obj)) return text_err(err, errlen, APP_E_INPUT, "expected a JSON object");
    yajl_gen g = app__gen();
    if (!g) return text_err(err, errlen, APP_E_NOMEM, "out of memory");
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || app__emit_members(g, obj, skip, n_skip);
    if (!bad && extra_fn) bad = extra_fn(g, ud);
    if (!bad) bad = yajl_gen_map_close(g) != yajl_gen_status_ok;
    if (bad) {
        yajl_gen_free(g);
        return text_err(err, errlen, APP_E_NOMEM, "cannot re-encode the request");
    }
    return app__decode_gen(g, d, ignore_unknown, out, err, errlen);
}

/* ---- encoding with enum styles ---- */

struct app_enum_styles {
    jsonpb_enum_style style;
    const jsonpb_enum_override *over;
    size_t n_over;
};

static const jsonpb_enum_override graph_over[] = {
    {&comfyd__v1__graph_error_code__descriptor, JSONPB_ENUM_SHORT},
};
static const struct app_enum_styles graph_styles = {JSONPB_ENUM_FULL, graph_over, 1};
const app_enum_style app__style_graph = &graph_styles;

static const jsonpb_enum_override session_over[] = {
    {&comfyd__v1__log_level__descriptor, JSONPB_ENUM_SHORT},
};
static const struct app_enum_styles session_styles = {JSONPB_ENUM_LOWER, session_over, 1};
const app_enum_style app__style_session = &session_styles;

static void encode_opts(jsonpb_opts *o, app_enum_style style)
{
    memset(o, 0, sizeof *o);
    o->emit_defaults = 1;
    o->flatten = flatten_list;
    o->n_flatten = sizeof flatten_list / sizeof flatten_list[0];
    if (style) {
        o->enum_style = style->style;
        o->enum_overrides = style->over;
        o->n_enum_overrides = style->n_over;
    }
}

int app__encode(yajl_gen g, const ProtobufCMessage *m, app_enum_style style, int inside_map)
{
    jsonpb_opts o;
    encode_opts(&o, style);
    int rc = inside_map ? jsonpb_encode_fields_gen(g, m, &o, NULL, 0)
                        : jsonpb_encode_gen(g, m, &o, NULL, 0);
    return rc ? -1 : 0;
}

/* ==== answers ==== */

int app_error_body(const char *message, const char *code, const ProtobufCMessage *resp, char **out,
                   size_t *len)
{
    yajl_gen g = app__gen();
    if (!g) return APP_E_NOMEM;
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || app__gen_cstr(g, "error") ||
              app__gen_str(g, message);
    if (!bad && code) bad = app__gen_cstr(g, "code") || app__gen_str(g, code);
    if (!bad && resp) bad = app__encode(g, resp, app__style_graph, 1);
    if (!bad) bad = yajl_gen_map_close(g) != yajl_gen_status_ok;
    if (bad) {
        yajl_gen_free(g);
        return APP_E_NOMEM;
    }
    return app__gen_finish(g, out, len);
}

void app__respond_json(app *a, bnet_req *r, app_route route, int status, char *body, size_t len)
{
    static const char fallback[] = "{\"error\":\"out of memory\"}";
    int rc;
    if (body)
        rc = bnet_respond(r, status, "application/json", NULL, 0, body, len);
    else
        rc = bnet_respond(r, status = 500, "application/json", NULL, 0, fallback,
                          sizeof fallback - 1);
    free(body);
    if (rc != BNET_OK) {
        LOG_W(MOD, "cannot answer %s: %s", LOG_ESC(bnet_req_path(r)), bnet_strerror(rc));
        /* bnet keeps r: an answer that could not be queued still ends it. */
        if (bnet_respond_error(r, 500, "internal error") != BNET_OK) return;
        status = 500;
    }
    app_metrics_http(&a->m, route, status);
}

void app__respond_error(app *a, bnet_req *r, app_route route, int status, const char *message,
                        const char *code)
{
    char *body = NULL;
    size_t len = 0;
    app_error_body(message, code, NULL, &body, &len);
    app__respond_json(a, r, route, status, body, len);
}

int app__admit(app *a, bnet_req *r, app_route route)
{
    if (!a->draining) return 1;
    app__respond_error(a, r, route, 503, "shutting down", NULL);
    return 0;
}

int app__call_outcome(const app_call *c, const char **code, char *msg, size_t msglen)
{
    if (c->code != GRPC_STATUS_OK) {
        Comfyd__V1__GraphErrorCode gc = app_graph_code_in(c->details);
        if (c->code == GRPC_STATUS_UNAVAILABLE) {
            *code = app_grpc_code_name(c->code);
            snprintf(msg, msglen, "core unavailable: %s", c->details[0] ? c->details : "no answer");
            return 503;
        }
        if (gc) {
            *code = app_graph_code_name(gc);
            snprintf(msg, msglen, "%s", c->details);
            return app_status_for_graph(gc);
        }
        *code = app_grpc_code_name(c->code);
        snprintf(msg, msglen, "%s", c->details[0] ? c->details : app_grpc_code_name(c->code));
        return app_status_for_grpc(c->code);
    }
    const Comfyd__V1__GraphError *ge = app_first_graph_error(c->resp);
    int failed = ge != NULL;
    if (!failed && c->resp && c->resp->descriptor == &comfyd__v1__execute_response__descriptor)
        failed = !((const Comfyd__V1__ExecuteResponse *)c->resp)->ok;
    if (!failed && c->resp &&
        c->resp->descriptor == &comfyd__v1__execute_batch_response__descriptor)
        failed = !((const Comfyd__V1__ExecuteBatchResponse *)c->resp)->ok;
    if (!failed) {
        *code = NULL;
        msg[0] = '\0';
        return 200;
    }
    if (!ge) {
        *code = "UNSPECIFIED";
        snprintf(msg, msglen, "the command failed without an error code");
        return 422;
    }
    *code = app_graph_code_name(ge->code);
    snprintf(msg, msglen, "%s: %s", *code, ge->message ? ge->message : "");
    return app_status_for_graph(ge->code);
}

void app__respond_call(app_call *c, bnet_req *r)
{
    const char *code;
    char msg[RPCC_MAX_DETAILS_BYTES + 64];
    int status = app__call_outcome(c, &code, msg, sizeof msg);
    char *body = NULL;
    size_t len = 0;
    if (status == 200) {
        /* The answer is the message alone: jsonpb's own buffer, no copy. */
        jsonpb_opts o;
        encode_opts(&o, app__style_graph);
        int rc = jsonpb_encode(c->resp, &o, &body, &len, NULL, 0);
        if (rc == JSONPB_ENOMEM) {
            body = NULL; /* app__respond_json answers 500 */
        } else if (rc) {
            app__respond_error(c->a, r, c->route, 502, "the core's answer cannot be encoded", NULL);
            return;
        }
    } else if (app_error_body(msg, code, c->code == GRPC_STATUS_OK ? c->resp : NULL, &body, &len)) {
        body = NULL;
    }
    app__respond_json(c->a, r, c->route, status, body, len);
}

/* ---- WebSockets ---- */

void app__ws_opened(app *a, app_ws *w, bnet_ws *ws, app_ws_kind kind)
{
    w->a = a;
    w->ws = ws;
    w->kind = kind;
    w->prev = NULL;
    w->next = a->ws_list;
    if (a->ws_list) a->ws_list->prev = w;
    a->ws_list = w;
    a->m.ws_opened[kind]++;
    a->m.ws_open[kind]++;
    bnet_ws_set_data(ws, w);
}

void app__ws_closed(app_ws *w)
{
    app *a = w->a;
    if (w->prev)
        w->prev->next = w->next;
    else
        a->ws_list = w->next;
    if (w->next) w->next->prev = w->prev;
    if (a->m.ws_open[w->kind]) a->m.ws_open[w->kind]--;
    w->ws = NULL;
}

int app__ws_send(app_ws *w, char *json, size_t len)
{
    if (!json) return BNET_E_NOMEM;
    int rc = w->ws ? bnet_ws_send(w->ws, 0, json, len) : BNET_E_CLOSED;
    if (rc == BNET_OK) w->a->m.ws_out[w->kind]++;
    free(json);
    return rc;
}

int app__ws_close(app_ws *w, uint16_t code, const char *reason)
{
    if (!w->ws) return BNET_E_CLOSED;
    int rc = bnet_ws_close(w->ws, code, reason);
    if (rc == BNET_E_ARG && code >= 1012 && code <= 1014) {
        /* A network layer that only takes RFC 6455's own codes: 1001
         * (going away) also tells a client to come back. */
        LOG_D(MOD, "close code %u refused; closing with 1001", code);
        rc = bnet_ws_close(w->ws, 1001, reason);
    }
    return rc;
}

int app__ws_upgrade(const bnet_req *req, void *ud)
{
    (void)req;
    const app *a = ud;
    return a->draining ? 503 : 0;
}

/* ==== calls to the core ==== */

static const struct {
    const ProtobufCServiceDescriptor *svc;
    const char *name;
} methods[APP_M__COUNT] = {
    [APP_M_EXECUTE] = {&comfyd__v1__graph_service__descriptor, "Execute"},
    [APP_M_EXECUTE_BATCH] = {&comfyd__v1__graph_service__descriptor, "ExecuteBatch"},
    [APP_M_QUEUE] = {&comfyd__v1__graph_service__descriptor, "Queue"},
    [APP_M_SAVE] = {&comfyd__v1__graph_service__descriptor, "Save"},
    [APP_M_LOAD] = {&comfyd__v1__graph_service__descriptor, "Load"},
    [APP_M_REPORT_EDITOR] = {&comfyd__v1__graph_service__descriptor, "ReportEditor"},
    [APP_M_LIST_NODE_TYPES] = {&comfyd__v1__graph_service__descriptor, "ListNodeTypes"},
    [APP_M_LIST_CANVASES] = {&comfyd__v1__graph_service__descriptor, "ListCanvases"},
    [APP_M_GET_DIFF] = {&comfyd__v1__graph_service__descriptor, "GetDiff"},
    [APP_M_LIST_WORKFLOWS] = {&comfyd__v1__graph_service__descriptor, "ListWorkflows"},
    [APP_M_ATTACH_CANVAS] = {&comfyd__v1__graph_service__descriptor, "AttachCanvas"},
    [APP_M_CREATE_SESSION] = {&comfyd__v1__session_service__descriptor, "CreateSession"},
    [APP_M_LIST_SESSIONS] = {&comfyd__v1__session_service__descriptor, "ListSessions"},
    [APP_M_LIST_SKILLS] = {&comfyd__v1__skill_service__descriptor, "ListSkills"},
    [APP_M_SUBSCRIBE] = {&comfyd__v1__session_service__descriptor, "Subscribe"},
    [APP_M_CONFIGURE_SESSION] = {&comfyd__v1__session_service__descriptor, "ConfigureSession"},
    [APP_M_SEND_MESSAGE] = {&comfyd__v1__session_service__descriptor, "SendMessage"},
    [APP_M_CANCEL] = {&comfyd__v1__session_service__descriptor, "Cancel"},
    [APP_M_GET_RUN] = {&comfyd__v1__run_service__descriptor, "GetRun"},
    [APP_M_LIST_RUNS] = {&comfyd__v1__run_service__descriptor, "ListRuns"},
    [APP_M_WATCH_RUN] = {&comfyd__v1__run_service__descriptor, "WatchRun"},
    [APP_M_CANCEL_RUN] = {&comfyd__v1__run_service__descriptor, "CancelRun"},
    [APP_M_GET_RUN_OUTPUT] = {&comfyd__v1__run_service__descriptor, "GetRunOutput"},
    [APP_M_COMPACT_SESSION] = {&comfyd__v1__session_service__descriptor, "CompactSession"},
    [APP_M_SEARCH_SESSIONS] = {&comfyd__v1__session_service__descriptor, "SearchSessions"},
    [APP_M_EXPORT_SESSION] = {&comfyd__v1__session_service__descriptor, "ExportSession"},
};

const char *app_method_name(app_method m)
{
    return (unsigned)m < APP_M__COUNT ? methods[m].name : "unknown";
}

app_call *app__call_new(app *a, app_method method, app_call_done done)
{
    app_call *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->a = a;
    c->method = method;
    c->done = done;
    return c;
}

static void call_free(app_call *c)
{
    if (c->resp) protobuf_c_message_free_unpacked(c->resp, NULL);
    free(c->rid);
    free(c->text);
    free(c);
}

static void call_deliver(void *ud)
{
    app_call *c = ud;
    app *a = c->a;
    app_metrics_grpc(&a->m, c->method, c->code);
    if (c->conn) bnet_discharge(a->net, c->conn);
    c->done(c);
    call_free(c);
    atomic_fetch_sub(&a->inflight, 1);
}

/* rpcc's thread: copy the outcome and hand it to the loop. */
static void call_cb(void *ud, grpc_status_code code, const char *details, ProtobufCMessage *resp)
{
    app_call *c = ud;
    app *a = c->a;
    c->code = code;
    snprintf(c->details, sizeof c->details, "%s", details ? details : "");
    c->resp = resp;
    if (bnet_post(a->net, call_deliver, c) != BNET_OK) {
        /* The server stopped: nobody is waiting for the answer. */
        call_free(c);
        atomic_fetch_sub(&a->inflight, 1);
    }
}

void app__call_start(app_call *c, const ProtobufCMessage *req, int64_t timeout_ms)
{
    app *a = c->a;
    atomic_fetch_add(&a->inflight, 1);
    /* The call counts against its connection until it finishes, also when
     * the client resets the request first: one connection cannot take all
     * of rpcc's calls. */
    bnet_req *r = c->req_id ? bnet_req_find(a->net, c->req_id) : NULL;
    if (r && bnet_req_charge(r, &c->conn) != BNET_OK) {
        c->code = GRPC_STATUS_UNAVAILABLE;
        snprintf(c->details, sizeof c->details, "too many calls in flight on this connection");
        call_deliver(c);
        return;
    }
    int rc = rpcc_unary(a->core, methods[c->method].svc, methods[c->method].name, req, timeout_ms,
                        0, call_cb, c);
    if (rc == RPCC_OK) return;
    switch (rc) {
    case RPCC_EBUSY:
        c->code = GRPC_STATUS_UNAVAILABLE;
        snprintf(c->details, sizeof c->details, "too many calls in flight");
        break;
    case RPCC_ETOOBIG:
        c->code = GRPC_STATUS_INVALID_ARGUMENT;
        snprintf(c->details, sizeof c->details, "request larger than %d bytes",
                 RPCC_MAX_MESSAGE_BYTES);
        break;
    case RPCC_ECLOSED:
        c->code = GRPC_STATUS_UNAVAILABLE;
        snprintf(c->details, sizeof c->details, "the bridge is shutting down");
        break;
    default:
        c->code = GRPC_STATUS_INTERNAL;
        snprintf(c->details, sizeof c->details, "cannot call %s: %s", methods[c->method].name,
                 rpcc_strerror(rc));
        break;
    }
    call_deliver(c);
}

/* ---- streams ---- */

struct app_stream {
    app *a;
    app_method method;
    /* One reference for the owner (until app__stream_detach), one for the
     * gRPC side (until its end was delivered or could not be posted). */
    atomic_int refs;
    rpcc_stream *h; /* loop side; NULL once released */
    void *owner;    /* NULL once detached */
    app_stream_msg_fn on_msg;
    app_stream_end_fn on_end;
    uint64_t delivered;
    uint32_t held; /* credits held back while the WebSocket is congested */
};

typedef struct stream_item {
    app_stream *s;
    ProtobufCMessage *msg; /* a message, or NULL for the end */
    grpc_status_code code;
    char details[RPCC_MAX_DETAILS_BYTES + 1];
} stream_item;

static void stream_unref(app_stream *s)
{
    if (atomic_fetch_sub(&s->refs, 1) == 1) free(s);
}

static void stream_deliver(void *ud)
{
    stream_item *it = ud;
    app_stream *s = it->s;
    if (it->msg) {
        if (s->owner) {
            s->delivered++;
            s->a->m.stream_messages[s->method]++;
            s->on_msg(s->owner, s, it->msg);
        } else {
            protobuf_c_message_free_unpacked(it->msg, NULL);
        }
    } else {
        app_metrics_grpc(&s->a->m, s->method, it->code);
        if (s->owner) s->on_end(s->owner, s, it->code, it->details);
        stream_unref(s);
    }
    free(it);
}

static void stream_msg_cb(void *ud, ProtobufCMessage *msg)
{
    app_stream *s = ud;
    stream_item *it = calloc(1, sizeof *it);
    if (!it) abort();
    it->s = s;
    it->msg = msg;
    if (bnet_post(s->a->net, stream_deliver, it) != BNET_OK) {
        protobuf_c_message_free_unpacked(msg, NULL);
        free(it);
    }
}

static void stream_end_cb(void *ud, grpc_status_code code, const char *details)
{
    app_stream *s = ud;
    stream_item *it = calloc(1, sizeof *it);
    if (!it) abort();
    it->s = s;
    it->code = code;
    snprintf(it->details, sizeof it->details, "%s", details ? details : "");
    if (bnet_post(s->a->net, stream_deliver, it) != BNET_OK) {
        free(it);
        stream_unref(s);
    }
}

int app__stream_start(app *a, app_method method, const ProtobufCMessage *req, void *owner,
                      app_stream_msg_fn on_msg, app_stream_end_fn on_end, app_stream **out)
{
    *out = NULL;
    app_stream *s = calloc(1, sizeof *s);
    if (!s) return RPCC_ENOMEM;
    s->a = a;
    s->method = method;
    atomic_init(&s->refs, 2);
    s->owner = owner;
    s->on_msg = on_msg;
    s->on_end = on_end;
    int rc = rpcc_stream_start(a->core, methods[method].svc, methods[method].name, req, 0,
                               RPCC_MANUAL_FLOW, stream_msg_cb, stream_end_cb, s, &s->h);
    if (rc != RPCC_OK) {
        app_metrics_grpc(&a->m, method,
                         rc == RPCC_EBUSY || rc == RPCC_ECLOSED ? GRPC_STATUS_UNAVAILABLE
                                                                : GRPC_STATUS_INTERNAL);
        free(s);
        return rc;
    }
    if (APP_STREAM_WINDOW > 1) rpcc_stream_next(s->h, APP_STREAM_WINDOW - 1);
    *out = s;
    return RPCC_OK;
}

void app__stream_credit(app_stream *s, uint32_t n)
{
    if (s && s->h) rpcc_stream_next(s->h, n);
}

void app__stream_paced_credit(app_stream *s, const bnet_ws *ws)
{
    if (!s) return;
    if (ws && bnet_ws_queued(ws) >= BNET_WS_HIGH_WATER) {
        s->held++; /* at most APP_STREAM_WINDOW: one per message delivered */
        return;
    }
    app__stream_credit(s, 1 + s->held);
    s->held = 0;
}

void app__stream_resume(app_stream *s)
{
    if (!s || !s->held) return;
    app__stream_credit(s, s->held);
    s->held = 0;
}

uint64_t app__stream_delivered(const app_stream *s)
{
    return s ? s->delivered : 0;
}

void app__stream_detach(app_stream *s)
{
    if (!s) return;
    s->owner = NULL;
    if (s->h) {
        rpcc_stream_release(s->h);
        s->h = NULL;
    }
    stream_unref(s);
}

/* ==== metrics ==== */

static const char *const route_names[APP_ROUTE__HTTP] = {
    "command", "batch",     "queue",   "save",    "load", "state", "node_types", "canvases",
    "diff",    "workflows", "healthz", "metrics", "mcp",  "runs",  "run_output", "sessions",
};
static const char *const ws_names[APP_WS__COUNT] = {"graph", "editor", "session"};

const char *app_route_name(app_route r)
{
    return (unsigned)r < APP_ROUTE__HTTP ? route_names[r] : "unknown";
}

const char *app_ws_name(app_ws_kind k)
{
    return (unsigned)k < APP_WS__COUNT ? ws_names[k] : "unknown";
}

void app_metrics_http(app_metrics *m, app_route route, int status)
{
    if ((unsigned)route >= APP_ROUTE__HTTP) return;
    int *st = m->http[route].status;
    uint64_t *n = m->http[route].count;
    for (int i = 0; i < APP_METRICS_STATUSES; i++) {
        if (st[i] == status) {
            n[i]++;
            return;
        }
        if (st[i] == 0 && i < APP_METRICS_STATUSES - 1) {
            st[i] = status;
            n[i] = 1;
            return;
        }
    }
    n[APP_METRICS_STATUSES - 1]++; /* the "other" slot (status 0) */
}

void app_metrics_grpc(app_metrics *m, app_method method, grpc_status_code code)
{
    if ((unsigned)method >= APP_M__COUNT) return;
    unsigned c = (unsigned)code < APP_METRICS_CODES ? (unsigned)code : GRPC_STATUS_UNKNOWN;
    m->grpc[method][c]++;
}

#define PFX "comfyd_bridge_"

int app_metrics_render(const app_metrics *m, const app_metric_value *net, size_t n_net, int core_up,
                       char **out, size_t *len)
{
    text_buf b = {0};
    text_buf_addf(&b,
                  "# HELP " PFX "http_requests_total HTTP requests answered, by route and status.\n"
                  "# TYPE " PFX "http_requests_total counter\n");
    for (int r = 0; r < APP_ROUTE__HTTP; r++)
        for (int i = 0; i < APP_METRICS_STATUSES; i++) {
            if (!m->http[r].count[i]) continue;
            if (m->http[r].status[i])
                text_buf_addf(&b, PFX "http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                              route_names[r], m->http[r].status[i],
                              (unsigned long long)m->http[r].count[i]);
            else
                text_buf_addf(&b, PFX "http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                              route_names[r], (unsigned long long)m->http[r].count[i]);
        }
    text_buf_addf(&b, "# HELP " PFX "ws_connections_total WebSockets opened, by endpoint.\n"
                      "# TYPE " PFX "ws_connections_total counter\n");
    for (int k = 0; k < APP_WS__COUNT; k++)
        text_buf_addf(&b, PFX "ws_connections_total{endpoint=\"%s\"} %llu\n", ws_names[k],
                      (unsigned long long)m->ws_opened[k]);
    text_buf_addf(&b, "# HELP " PFX "ws_connections WebSockets open now, by endpoint.\n"
                      "# TYPE " PFX "ws_connections gauge\n");
    for (int k = 0; k < APP_WS__COUNT; k++)
        text_buf_addf(&b, PFX "ws_connections{endpoint=\"%s\"} %llu\n", ws_names[k],
                      (unsigned long long)m->ws_open[k]);
    text_buf_addf(&b,
                  "# HELP " PFX "ws_messages_total WebSocket messages, by endpoint and direction.\n"
                  "# TYPE " PFX "ws_messages_total counter\n");
    for (int k = 0; k < APP_WS__COUNT; k++) {
        text_buf_addf(&b, PFX "ws_messages_total{endpoint=\"%s\",direction=\"in\"} %llu\n",
                      ws_names[k], (unsigned long long)m->ws_in[k]);
        text_buf_addf(&b, PFX "ws_messages_total{endpoint=\"%s\",direction=\"out\"} %llu\n",
                      ws_names[k], (unsigned long long)m->ws_out[k]);
    }
    text_buf_addf(&b,
                  "# HELP " PFX "grpc_calls_total Calls to the core finished, by method and code.\n"
                  "# TYPE " PFX "grpc_calls_total counter\n");
    for (int i = 0; i < APP_M__COUNT; i++)
        for (int c = 0; c < APP_METRICS_CODES; c++)
            if (m->grpc[i][c])
                text_buf_addf(&b, PFX "grpc_calls_total{method=\"%s\",code=\"%s\"} %llu\n",
                              methods[i].name, app_grpc_code_name((grpc_status_code)c),
                              (unsigned long long)m->grpc[i][c]);
    text_buf_addf(&b, "# HELP " PFX "grpc_stream_messages_total Stream messages from the core.\n"
                      "# TYPE " PFX "grpc_stream_messages_total counter\n");
    for (int i = 0; i < APP_M__COUNT; i++)
        if (m->stream_messages[i])
            text_buf_addf(&b, PFX "grpc_stream_messages_total{method=\"%s\"} %llu\n",
                          methods[i].name, (unsigned long long)m->stream_messages[i]);
    text_buf_addf(&b,
                  "# HELP " PFX "core_up 1 when the core's channel is ready.\n"
                  "# TYPE " PFX "core_up gauge\n" PFX "core_up %d\n",
                  core_up ? 1 : 0);
    for (size_t i = 0; i < n_net; i++)
        text_buf_addf(&b, "# HELP " PFX "%s %s\n# TYPE " PFX "%s %s\n" PFX "%s %llu\n", net[i].name,
                      net[i].help, net[i].name, net[i].gauge ? "gauge" : "counter", net[i].name,
                      (unsigned long long)net[i].value);
    *len = b.oom ? 0 : b.n;
    *out = text_buf_take(&b);
    return *out ? APP_OK : APP_E_NOMEM;
}

/* ==== /healthz and /metrics ==== */

static void h_healthz(bnet_req *r, void *ud)
{
    app *a = ud;
    rpcc_state_t st = rpcc_state(a->core);
    a->core_state = st;
    char body[128];
    int status = st == RPCC_READY && !a->draining ? 200 : 503;
    int n = snprintf(body, sizeof body, "{\"status\":\"%s\",\"core\":\"%s\"}",
                     a->draining     ? "stopping"
                     : status == 200 ? "ok"
                                     : "degraded",
                     rpcc_state_name(st));
    app__respond_json(a, r, APP_ROUTE_HEALTHZ, status, text_dupn(body, (size_t)n), (size_t)n);
}

static void h_metrics(bnet_req *r, void *ud)
{
    app *a = ud;
    bnet_stats st;
    bnet_get_stats(a->net, &st);
    const app_metric_value net[] = {
        {"net_connections", "Open client connections.", st.connections_open, 1},
        {"net_connections_total", "Accepted client connections.", st.connections_total, 0},
        {"net_connections_refused_total", "Connections refused over the limit.",
         st.connections_refused, 0},
        {"net_requests_total", "Requests handled or answered by the network layer.",
         st.requests_total, 0},
        {"net_requests_h2_total", "Requests over HTTP/2.", st.requests_h2, 0},
        {"net_requests_rejected_total", "Requests refused by policy, limits or parsing.",
         st.requests_rejected, 0},
        {"net_ws_open", "Open WebSockets.", st.ws_open, 1},
        {"net_ws_messages_in_total", "WebSocket messages received.", st.ws_messages_in, 0},
        {"net_ws_messages_out_total", "WebSocket messages sent.", st.ws_messages_out, 0},
        {"net_bytes_in_total", "Bytes received.", st.bytes_in, 0},
        {"net_bytes_out_total", "Bytes sent.", st.bytes_out, 0},
        {"net_bytes_queued", "Output not yet written.", st.bytes_queued, 1},
        {"net_timeouts_total", "Connections closed by a timeout.", st.timeouts, 0},
        {"net_connections_unauth", "Open connections that have not sent a valid token yet.",
         st.connections_unauth, 1},
        {"net_connections_evicted_total",
         "Unauthenticated connections closed to make room for new ones.", st.connections_evicted,
         0},
        {"net_handshake_timeouts_total",
         "Connections closed for sending no valid token within the handshake deadline.",
         st.handshake_timeouts, 0},
        {"net_h2_calmed_total", "HTTP/2 connections closed for resetting streams too fast.",
         st.h2_calmed, 0},
        {"net_calls_refused_total", "Calls refused: the connection had too many in flight.",
         st.charges_refused, 0},
    };
    /* Counted before rendering so that this scrape is included. */
    app_metrics_http(&a->m, APP_ROUTE_METRICS, 200);
    char *body = NULL;
    size_t len = 0;
    if (app_metrics_render(&a->m, net, sizeof net / sizeof net[0], a->core_state == RPCC_READY,
                           &body, &len)) {
        bnet_respond_error(r, 500, "out of memory");
        return;
    }
    bnet_respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, 0, body, len);
    free(body);
}

/* ==== lifecycle ==== */

static void stop_now(app *a);

static void on_tick(uv_timer_t *t)
{
    app *a = t->data;
    app__mcp_tick(a);
    if (a->draining) {
        if (atomic_load(&a->inflight) == 0 || uv_now(a->loop) >= a->drain_deadline) {
            unsigned left = atomic_load(&a->inflight);
            if (left) LOG_W(MOD, "stopping with %u calls still in flight", left);
            stop_now(a);
        }
        return;
    }
    rpcc_state_t st = rpcc_state(a->core);
    if (st != a->core_state) {
        if (st == RPCC_READY)
            LOG_I(MOD, "core %s is ready", a->core_target);
        else if (a->core_state == RPCC_READY)
            LOG_W(MOD, "core %s is %s; retrying", a->core_target, rpcc_state_name(st));
        a->core_state = st;
    }
}

static void on_tick_closed(uv_handle_t *h)
{
    app *a = h->data;
    a->tick_on = 0;
}

static void stop_now(app *a)
{
    if (a->stopped) return;
    a->stopped = 1;
    if (a->tick_on) {
        uv_timer_stop(&a->tick);
        uv_close((uv_handle_t *)&a->tick, on_tick_closed);
    }
    if (a->net) bnet_stop(a->net);
}

void app_shutdown(app *a)
{
    if (!a || a->stopped) return;
    if (a->draining) {
        LOG_I(MOD, "second signal: stopping now");
        stop_now(a);
        return;
    }
    a->draining = 1;
    LOG_I(MOD, "shutting down: closing WebSockets, finishing %u calls in flight",
          atomic_load(&a->inflight));
    for (app_ws *w = a->ws_list; w; w = w->next)
        if (w->ws) bnet_ws_close(w->ws, 1001, "server shutting down");
    a->drain_deadline = uv_now(a->loop) + APP_DRAIN_MS;
    uv_timer_start(&a->tick, on_tick, 0, 20);
}

int app_port(const app *a)
{
    return bnet_port(a->net);
}

int app_create(app **out, uv_loop_t *loop, const app_cfg *cfg)
{
    *out = NULL;
    app *a = calloc(1, sizeof *a);
    if (!a) return APP_E_NOMEM;
    a->loop = loop;
    atomic_init(&a->inflight, 0);
    a->core_state = RPCC_IDLE;
    a->core_target = text_dup(cfg->core);
    a->token_file = text_dup(cfg->token_file);
    int rc = APP_E_START;

    if (fs_mkdirs(cfg->data_dir, 0700) != 0) {
        LOG_E(MOD, "cannot create data directory %s: %s", cfg->data_dir, strerror(errno));
        goto fail;
    }
    /* A token file elsewhere needs its directory too. */
    char dir[MAX_PATH];
    snprintf(dir, sizeof dir, "%s", cfg->token_file);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (fs_mkdirs(dir, 0700) != 0) {
            LOG_E(MOD, "cannot create %s for the token file: %s", dir, strerror(errno));
            goto fail;
        }
    }
    int e = rpcc_create(&a->core, cfg->core, NULL);
    if (e != RPCC_OK) {
        LOG_E(MOD, "cannot create the core client for %s: %s", cfg->core, rpcc_strerror(e));
        goto fail;
    }
    bnet_opts o;
    bnet_opts_init(&o);
    o.host = cfg->listen_host;
    o.port = cfg->listen_port;
    o.token_file = cfg->token_file;
    o.allow_origins = (const char *const *)cfg->allow_origins;
    o.n_allow_origins = cfg->n_allow_origins;
    o.allow_hosts = (const char *const *)cfg->allow_hosts;
    o.n_allow_hosts = cfg->n_allow_hosts;
    o.limits.max_connections = cfg->max_connections;
    o.limits.max_unauth_connections = cfg->max_unauth_connections;
    o.limits.handshake_timeout_ms = cfg->handshake_timeout_ms;
    if ((e = bnet_create(&a->net, loop, &o)) != BNET_OK) {
        LOG_E(MOD, "cannot serve on %s port %d: %s", cfg->listen_host, cfg->listen_port,
              bnet_strerror(e));
        rc = e == BNET_E_NOMEM ? APP_E_NOMEM : APP_E_START;
        goto fail;
    }
    if (bnet_route(a->net, "GET", "/healthz", BNET_ROUTE_PUBLIC, h_healthz, a) ||
        bnet_route(a->net, "GET", "/metrics", 0, h_metrics, a) || app__graph_routes(a) ||
        app__editor_routes(a) || app__session_routes(a) || app__mcp_routes(a) ||
        app__runs_routes(a) || app__sessions_http_routes(a)) {
        LOG_E(MOD, "cannot register the routes");
        goto fail;
    }
    uv_timer_init(loop, &a->tick);
    a->tick.data = a;
    a->tick_on = 1;
    uv_timer_start(&a->tick, on_tick, 0, APP_TICK_MS);
    a->core_state = rpcc_state(a->core); /* starts connecting */

    int v6 = strchr(cfg->listen_host, ':') != NULL;
    snprintf(a->listen, sizeof a->listen, "%s%s%s:%d", v6 ? "[" : "", cfg->listen_host,
             v6 ? "]" : "", bnet_port(a->net));
    LOG_N(MOD, "ready: serving http://%s (HTTP/1.1, h2c, WebSocket); core %s; token file %s",
          a->listen, cfg->core, cfg->token_file);
    *out = a;
    return APP_OK;

fail:
    app_destroy(a);
    return rc;
}

void app_destroy(app *a)
{
    if (!a) return;
    if (!a->stopped) stop_now(a);
    /* Calls still in flight end here; their answers find the server stopped. */
    rpcc_destroy(a->core);
    a->core = NULL;
    if (a->net) bnet_destroy(a->net);
    while (a->tick_on)
        uv_run(a->loop, UV_RUN_NOWAIT);
    app__mcp_destroy(a);
    free(a->core_target);
    free(a->token_file);
    free(a);
}

/* app_cfg: comfyd-bridge's flags (--listen, --core, --data, ...) and their
 * COMFYD_BRIDGE_* environment twins, parsed into an app_cfg for
 * app_create. Pure: no state, safe from any thread. */
#ifndef COMFYD_APP_CFG_H
#define COMFYD_APP_CFG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- limits ---- */

/* --allow-origin and --allow-host values, each: net_policy keeps as many. */
#define APP_MAX_NAMES 32
/* Connection limits (docs/security.md): bnet's defaults, and the bounds of
 * --max-connections, --max-unauth-connections, --handshake-timeout-ms. */
#define APP_DEFAULT_MAX_CONNECTIONS 16384
#define APP_DEFAULT_MAX_UNAUTH 64
#define APP_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
#define APP_MAX_MAX_CONNECTIONS 65536
#define APP_MIN_HANDSHAKE_TIMEOUT_MS 100
#define APP_MAX_HANDSHAKE_TIMEOUT_MS 600000

/* Cores one bridge may be given (--core repeated): it talks to the first
 * reachable one and moves to the next when that one goes away. */
#define APP_MAX_CORES 8

/* ---- configuration ---- */

typedef struct app_cfg {
    char *listen_host; /* IPv4 or IPv6 literal, no brackets */
    int listen_port;   /* 0 picks a free port */
    char *core;        /* gRPC target: unix:PATH or HOST:PORT, or a list (--core repeated) */
    char *cores[APP_MAX_CORES]; /* each --core as given */
    size_t n_cores;
    char *data_dir;
    char *token_file;
    char *allow_origins[APP_MAX_NAMES];
    size_t n_allow_origins;
    char *allow_hosts[APP_MAX_NAMES];
    size_t n_allow_hosts;
    int log_level;                 /* log.h's log_level */
    size_t max_connections;        /* bnet_limits.max_connections */
    size_t max_unauth_connections; /* bnet_limits.max_unauth_connections */
    uint64_t handshake_timeout_ms; /* bnet_limits.handshake_timeout_ms */
} app_cfg;

/* Parses argv (flags win over their COMFYD_BRIDGE_* environment twins) and
 * fills the defaults: --listen 127.0.0.1:8189, --data ./var, --core
 * unix:DATA/comfyd.sock, --token-file DATA/token. Returns APP_OK, APP_HELP,
 * APP_VERSION or APP_E_ARG with a one-line reason in err. Free with
 * app_cfg_clear in every case (also after an error). */
int app_cfg_parse(app_cfg *c, int argc, char **argv, char *err, size_t errlen);
void app_cfg_clear(app_cfg *c);
void app_cfg_usage(FILE *f, const char *prog);
const char *app_version(void);

#endif

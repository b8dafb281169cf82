/* cfg: comfyd's configuration from command-line flags and their COMFYD_*
 * environment twins (a flag wins over its twin). Pure: no I/O besides
 * reading the environment, so it is unit-tested directly. */
#ifndef COMFYD_CFG_H
#define COMFYD_CFG_H

#include "comfyd_error.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CFG_MAX_LISTEN 8
#define CFG_MAX_SKILL_DIRS 16
#define CFG_DEFAULT_DATA "./var"
#define CFG_DEFAULT_TCP "127.0.0.1:50051"
#define CFG_DEFAULT_ECHO_DELAY_MS 30 /* readable streaming in the panel */
/* How long a graph request waits for the tab by default; at most this max. */
#define CFG_DEFAULT_EDITOR_TIMEOUT_MS 5000
#define CFG_MAX_EDITOR_TIMEOUT_MS 60000
/* Idempotency keys kept with their outcome, and for how long (the canvas
 * manager's CANVAS_IDEM_MAX_KEYS and CANVAS_IDEM_MAX_AGE_MS). */
#define CFG_DEFAULT_IDEM_KEYS 4096
#define CFG_MAX_IDEM_KEYS 65536
#define CFG_DEFAULT_IDEM_TTL_S 86400
#define CFG_MAX_IDEM_TTL_S (30 * 86400)
/* --store: a SQLite path or a PostgreSQL URI (bounds what we keep and log). */
#define CFG_MAX_STORE 4096
/* --lease-ttl-ms: a session lease's lifetime when several cores share a
 * PostgreSQL database (lease.h's LEASE_TTL_MIN_MS..LEASE_TTL_MAX_MS). */
#define CFG_MIN_LEASE_TTL_MS 1000
#define CFG_MAX_LEASE_TTL_MS 600000
/* --advertise: a gRPC target (rpcc.h's RPCC_MAX_TARGET_BYTES). */
#define CFG_MAX_ADVERTISE 512
/* --comfyui: a base URL (the run client's limit, COMFY_HTTP_MAX_URL). */
#define CFG_MAX_COMFYUI_URL 2048

typedef enum {
    CFG_OK = CFD_OK,
    /* --help or --version was given: print and exit 0. */
    CFG_HELP = 1,
    CFG_VERSION = 2,
    /* A flag or value is invalid; err says which. */
    CFG_EINVAL = CFD_ERR_INVALID,
} cfg_err;

typedef struct cfg {
    char *data_dir;
    char *store; /* --store: sqlite:PATH or postgres://...; NULL: DIR/comfyd.db */
    char *listen[CFG_MAX_LISTEN];
    size_t n_listen;
    char *skill_dirs[CFG_MAX_SKILL_DIRS]; /* user folders (--skills) */
    size_t n_skill_dirs;
    char *builtin_skills; /* the built-in skills/ folder */
    uint32_t echo_delay_ms;
    uint32_t context_window; /* --context-window; 0: by provider and model */
    int log_level;           /* log_level */
    int cq_threads;
    int handler_threads;
    char *object_info; /* --object-info FILE or URL; NULL when not given */
    char *comfyui;     /* --comfyui URL; NULL when not given */
    uint32_t editor_timeout_ms;
    uint32_t idem_max_keys; /* --idempotency-keys */
    uint32_t idem_ttl_s;    /* --idempotency-ttl-s */
    uint32_t lease_ttl_ms;  /* --lease-ttl-ms; 0: not given (lease.h's default) */
    char *advertise;        /* --advertise: this core's gRPC address for the other cores; NULL: the
                               first --listen */
    char *embed_url;        /* --embed-url; NULL: search by words alone */
    char *embed_model;      /* --embed-model */
    double embed_min_sim;   /* --embed-min-similarity; 0: embedder.h's default */
} cfg;

/* Parses argv (and the environment through getenv). Fills defaults. On
 * CFG_EINVAL writes a one-line reason into err. Free with cfg_clear in
 * every case. */
int cfg_parse(cfg *c, int argc, char **argv, char *err, size_t errlen);
void cfg_clear(cfg *c);
void cfg_usage(FILE *f, const char *prog);
const char *cfg_version(void);

#endif

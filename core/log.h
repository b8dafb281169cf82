/* log: one line per event on stderr, with a level and a module name.
 * Lines look like "2026-11-21T20:14:03.123Z INFO  store: opened var/comfyd.db".
 * Thread-safe. Never pass secrets (API keys, tokens) to these functions. */
#ifndef COMFYD_LOG_H
#define COMFYD_LOG_H

typedef enum {
    LOG_DEBUG = 1,
    LOG_INFO = 2,
    LOG_WARN = 3,
    LOG_ERROR = 4,
    /* Lifecycle lines (ready, stopped) that launchers wait for: printed
     * whatever the level. */
    LOG_NOTICE = 5,
} log_level;

/* Lines below this level are dropped (default LOG_INFO). */
void log_set_level(log_level level);
/* Parses "debug", "info", "warn", "error"; returns -1 when unknown. */
int log_parse_level(const char *name);

void log_msg(log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_D(mod, ...) log_msg(LOG_DEBUG, mod, __VA_ARGS__)
#define LOG_I(mod, ...) log_msg(LOG_INFO, mod, __VA_ARGS__)
#define LOG_W(mod, ...) log_msg(LOG_WARN, mod, __VA_ARGS__)
#define LOG_E(mod, ...) log_msg(LOG_ERROR, mod, __VA_ARGS__)
#define LOG_N(mod, ...) log_msg(LOG_NOTICE, mod, __VA_ARGS__)

#endif

/* log: one line per event on stderr, with a level and a module name.
 * Lines look like "2026-11-21T20:14:03.123Z INFO  store: opened var/comfyd.db".
 * Thread-safe. Never pass secrets (API keys, tokens) to these functions.
 *
 * Untrusted text (anything a client sent: ids, names, paths, and status
 * texts that may quote them) goes through LOG_ESC: it is written quoted,
 * with quotes, backslashes, control characters and invalid UTF-8 escaped
 * and the length bounded, so it cannot forge a line or pass for the
 * message around it. As a second wall log_msg itself writes every control
 * character of the formatted line as an escape, so one call is always one
 * line. */
#ifndef COMFYD_LOG_H
#define COMFYD_LOG_H

#include <stddef.h>

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

/* Bytes of one escaped value including quotes and NUL; longer input is cut
 * and marked with "..." after the closing quote. */
#define LOG_ESC_MAX 160

/* Writes s (NULL: "(null)", unquoted) as a quoted, escaped string into out
 * (cap >= 8) and returns out: '"' and '\\' get a backslash, \n \r \t as
 * such, other bytes below 0x20, 0x7f and bytes of invalid UTF-8 as \xHH. */
const char *log_esc(char *out, size_t cap, const char *s);
/* The same for len bytes of s (which may hold NUL bytes). */
const char *log_esc_n(char *out, size_t cap, const char *s, size_t len);

/* log_esc into a buffer that lives until the end of the full expression:
 * LOG_W("editor", "canvas %s refused", LOG_ESC(canvas_id)). */
#define LOG_ESC(s) log_esc((char[LOG_ESC_MAX]){0}, LOG_ESC_MAX, (s))

#define LOG_D(mod, ...) log_msg(LOG_DEBUG, mod, __VA_ARGS__)
#define LOG_I(mod, ...) log_msg(LOG_INFO, mod, __VA_ARGS__)
#define LOG_W(mod, ...) log_msg(LOG_WARN, mod, __VA_ARGS__)
#define LOG_E(mod, ...) log_msg(LOG_ERROR, mod, __VA_ARGS__)
#define LOG_N(mod, ...) log_msg(LOG_NOTICE, mod, __VA_ARGS__)

#endif

#include "log.h"

#include "text.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static volatile int min_level = LOG_INFO;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void log_set_level(log_level level)
{
    min_level = level;
}

int log_parse_level(const char *name)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp(name, names[i]) == 0) return i + 1;
    return -1;
}

static int needs_scrub(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
    return 0;
}

static void scrub(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (; *in; in++) {
        unsigned char c = (unsigned char)*in;
        int ctl = c < 0x20 || c == 0x7f;
        if (o + (ctl ? 4 : 1) >= cap) break;
        if (ctl) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
}

const char *log_esc_n(char *out, size_t cap, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (!out || cap < 8) return "";
    if (!s) {
        snprintf(out, cap, "(null)");
        return out;
    }
    /* Room kept for the closing quote, "..." and the NUL. */
    size_t limit = cap - 5, o = 0, i = 0;
    out[o++] = '"';
    const unsigned char *u = (const unsigned char *)s;
    while (i < len) {
        unsigned char c = u[i];
        char esc[5];
        size_t elen = 0, take = 1;
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c, elen = 2;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            esc[0] = '\\', esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't', elen = 2;
        } else if (c < 0x20 || c == 0x7f) {
            esc[0] = '\\', esc[1] = 'x', esc[2] = hex[c >> 4], esc[3] = hex[c & 15], elen = 4;
        } else if (c >= 0x80) {
            take = text_utf8_seq(s + i, len - i);
            /* C1 controls (NEL) and U+2028/2029 end lines in some viewers. */
            int breaks = (take == 2 && c == 0xc2 && u[i + 1] < 0xa0) ||
                         (take == 3 && c == 0xe2 && u[i + 1] == 0x80 &&
                          (u[i + 2] == 0xa8 || u[i + 2] == 0xa9));
            if (take == 0 || breaks) {
                esc[0] = '\\', esc[1] = 'x', esc[2] = hex[c >> 4], esc[3] = hex[c & 15];
                elen = 4, take = 1;
            }
        }
        size_t need = elen ? elen : take;
        if (o + need > limit) break;
        if (elen) {
            memcpy(out + o, esc, elen);
        } else {
            memcpy(out + o, u + i, take);
        }
        o += need;
        i += take;
    }
    out[o++] = '"';
    if (i < len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

const char *log_esc(char *out, size_t cap, const char *s)
{
    return log_esc_n(out, cap, s, s ? strlen(s) : 0);
}

void log_msg(log_level level, const char *module, const char *fmt, ...)
{
    static const char *tags[] = {"", "DEBUG", "INFO ", "WARN ", "ERROR", "NOTE "};
    if ((int)level < min_level) return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* A control character that slipped past LOG_ESC must not start a line
     * of its own: each becomes \xHH (the line is cut where it would not
     * fit, never wrapped). */
    char safe[sizeof line * 4];
    const char *text = line;
    if (needs_scrub(line)) {
        scrub(line, safe, sizeof safe);
        text = safe;
    }
    /* One fprintf under a lock keeps lines from interleaving. */
    pthread_mutex_lock(&log_mu);
    fprintf(stderr, "%s.%03ldZ %s %s: %s\n", when, ts.tv_nsec / 1000000L,
            tags[level >= 1 && level <= 5 ? level : 2], module, text);
    pthread_mutex_unlock(&log_mu);
}

/* search-bench: full-text search latency over a large session store, and
 * the cost of a compaction's summary. See bench/README.md.
 *
 *   search-bench [--messages N] [--sessions N] [--queries N] [--dir DIR [--reuse]]
 *                [--only LABEL]
 *
 * Builds a fresh store (store.h schema) in DIR (default a temp dir), fills
 * it with N messages of generated text spread over the sessions (in one
 * transaction through SQLite, so the index triggers of the schema fill the
 * FTS5 index exactly as inserts by comfyd do), then runs each query kind
 * --queries times through the service's path (ftsq_build + store_search,
 * 20 hits with snippets) and prints p50, p95, p99 and max. Figures are a
 * report, never a pass/fail test. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include "ctxwin.h"
#include "ftsq.h"
#include "log.h"
#include "store.h"

static const char *const words[] = {
    "fox",    "violet",  "sky",    "lens",     "grain",      "portrait",  "castle",
    "river",  "sampler", "euler",  "karras",   "steps",      "cfg",       "denoise",
    "latent", "upscale", "prompt", "negative", "lighting",   "cinematic", "watercolor",
    "oil",    "sketch",  "anime",  "forest",   "mountain",   "night",     "sunset",
    "rain",   "city",    "neon",   "robot",    "checkpoint", "lora",      "vae",
    "clip",   "node",    "link",   "widget",   "seed",       "batch",     "size",
    "width",  "height",  "model",  "style",    "color",      "mood",      "the",
    "a",      "and",     "with",   "in",       "of",         "make",      "add",
    "change", "keep",    "softer", "sharper",  "brighter",   "darker",    "wider",
    "closer",
};
#define N_WORDS (sizeof words / sizeof words[0])

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time of this thread: what a query costs without the machine's other
 * load (wall-clock figures on a busy machine include waiting for a core). */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A message of 8..60 words; one in 5000 carries a rare marker word. */
static void make_text(char *buf, size_t cap, long i)
{
    size_t len = 0;
    int n = 8 + (int)(rnd() % 53);
    for (int k = 0; k < n && len + 32 < cap; k++) {
        /* Half the words from the domain list (each in about a fifth of
         * the messages), half from 20,000 made-up ones whose frequencies
         * fall off like a natural vocabulary's (the product of two uniform
         * picks favours low numbers). */
        if (rnd() % 2) {
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", k ? " " : "",
                                    words[rnd() % N_WORDS]);
        } else {
            uint32_t w = (rnd() % 20000) * (rnd() % 20000) / 20000;
            len += (size_t)snprintf(buf + len, cap - len, "%sw%u", k ? " " : "", w);
        }
    }
    if (i % 5000 == 0) snprintf(buf + len, cap - len, " zanzibar%ld", i / 5000 % 7);
}

int main(int argc, char **argv)
{
    long n_msgs = 100000, n_sessions = 500, n_queries = 200;
    const char *dir = NULL, *only = NULL;
    int reuse = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--messages") && i + 1 < argc)
            n_msgs = atol(argv[++i]);
        else if (!strcmp(argv[i], "--sessions") && i + 1 < argc)
            n_sessions = atol(argv[++i]);
        else if (!strcmp(argv[i], "--queries") && i + 1 < argc)
            n_queries = atol(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--reuse"))
            reuse = 1; /* the store --dir holds from an earlier run (same options) */
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i]; /* one query kind, by its label */
        else {
            fprintf(stderr,
                    "usage: %s [--messages N] [--sessions N] [--queries N] [--dir DIR [--reuse]]"
                    " [--only LABEL]\n",
                    argv[0]);
            return 2;
        }
    }
    if (n_msgs < 1 || n_sessions < 1 || n_sessions > 999999 || n_queries < 1) return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    log_set_level(LOG_WARN);
    char tmp[] = "/tmp/search-bench.XXXXXX";
    if (!dir && !(dir = mkdtemp(tmp))) {
        perror("mkdtemp");
        return 1;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/comfyd.db", dir);
    if (reuse && (!dir || access(path, R_OK) != 0)) reuse = 0;
    if (!reuse) unlink(path);
    store *st = NULL;
    if (store_open(&st, path) != STORE_OK) return 1;
    char(*ids)[40] = calloc((size_t)n_sessions, sizeof *ids);
    for (long s = 0; s < n_sessions; s++) {
        store_session ss = {0};
        snprintf(ss.id, sizeof ss.id, "00000000-0000-4000-8000-%012d", (int)s);
        memcpy(ids[s], ss.id, sizeof ss.id);
        ss.title = "bench";
        ss.created_ms = ss.updated_ms = 1;
        if (!reuse && store_session_insert(st, &ss, NULL) != STORE_OK) return 1;
    }
    store_close(st);
    if (reuse) {
        printf("store: reusing %s\n", path);
        goto search;
    }

    /* Fill through SQLite in one transaction: the schema's triggers index. */
    double t0 = now_ms();
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK) return 1;
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *q;
    sqlite3_prepare_v2(db,
                       "INSERT INTO messages(session_id, role, content, state, turn_id, created_ms)"
                       " VALUES(?1, ?2, ?3, 3, 0, ?4)",
                       -1, &q, NULL);
    char text[1024];
    size_t bytes = 0;
    for (long i = 0; i < n_msgs; i++) {
        make_text(text, sizeof text, i);
        bytes += strlen(text);
        sqlite3_bind_text(q, 1, ids[i % n_sessions], -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 2, 1 + (int)(i % 2));
        sqlite3_bind_text(q, 3, text, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, 1000 + i);
        if (sqlite3_step(q) != SQLITE_DONE) {
            fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
            return 1;
        }
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    double fill = now_ms() - t0;
    printf(
        "store: %ld messages (%.1f MiB of text) in %ld sessions, filled and indexed in %.0f ms\n",
        n_msgs, bytes / 1048576.0, n_sessions, fill);

search:
    if (store_open(&st, path) != STORE_OK) return 1;
    static const struct {
        const char *label, *query;
        int one_session;
    } kinds[] = {
        {"rare word", "zanzibar3", 0},     {"common word", "fox", 0},
        {"two words", "violet castle", 0}, {"phrase", "\"oil sketch\"", 0},
        {"prefix", "water*", 0},           {"OR + NOT", "neon OR robot -city", 0},
        {"one session", "lens grain", 1},
    };
    double *lat = calloc((size_t)n_queries, sizeof *lat);
    double *cpu = calloc((size_t)n_queries, sizeof *cpu);
    printf("\n%-12s %-22s %8s %8s %8s %8s %9s %9s %6s\n", "query", "text", "p50 ms", "p95 ms",
           "p99 ms", "max ms", "cpu p50", "cpu p95", "hits");
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        if (only && strcmp(only, kinds[k].label) != 0) continue;
        size_t hits = 0;
        for (long i = 0; i < n_queries; i++) {
            double a = now_ms(), ac = cpu_ms();
            char *match = NULL, err[128];
            if (ftsq_build(kinds[k].query, &match, err, sizeof err) != 0) return 1;
            store_hit *h = NULL;
            size_t n = 0;
            int rc = store_search(st, match, kinds[k].one_session ? ids[i % n_sessions] : NULL,
                                  STORE_HIT_ALL, 20, &h, &n);
            free(match);
            if (rc != STORE_OK) return 1;
            hits = n;
            store_hits_free(h, n);
            lat[i] = now_ms() - a;
            cpu[i] = cpu_ms() - ac;
        }
        qsort(lat, (size_t)n_queries, sizeof *lat, cmp_d);
        qsort(cpu, (size_t)n_queries, sizeof *cpu, cmp_d);
        printf("%-12s %-22s %8.3f %8.3f %8.3f %8.3f %9.3f %9.3f %6zu\n", kinds[k].label,
               kinds[k].query, lat[(n_queries - 1) / 2], lat[(n_queries * 95 - 1) / 100],
               lat[(n_queries * 99 - 1) / 100], lat[n_queries - 1], cpu[(n_queries - 1) / 2],
               cpu[(n_queries * 95 - 1) / 100], hits);
    }

    /* A compaction's summary (the offline summariser) of 200 messages into
     * a 1500-token summary, and storing it. */
    ctx_src *src = calloc(200, sizeof *src);
    char(*texts)[1024] = calloc(200, sizeof *texts);
    for (int i = 0; i < 200; i++) {
        make_text(texts[i], sizeof texts[i], i + 1);
        src[i] = (ctx_src){
            .id = (uint64_t)i + 1, .role = i % 2 ? "assistant" : "user", .content = texts[i]};
    }
    double a = now_ms();
    char *sum = NULL;
    for (int r = 0; r < 100; r++) {
        free(sum);
        sum = ctx_echo_summary(src, 200, "an earlier summary", 1500);
    }
    double per = (now_ms() - a) / 100;
    store_message m = {0};
    memcpy(m.session_id, ids[0], sizeof m.session_id);
    m.role = STORE_ROLE_SYSTEM;
    m.kind = STORE_KIND_SUMMARY;
    m.state = STORE_MSG_DONE;
    m.content = sum;
    m.covers_to = 200;
    a = now_ms();
    int rc = store_message_insert(st, &m);
    double ins = now_ms() - a;
    printf("\ncompaction (offline summary of 200 messages, %zu bytes): %.3f ms to write, %.3f ms "
           "to store and index (synchronous=FULL)%s\n",
           strlen(sum), per, ins, rc == STORE_OK ? "" : " [store failed]");
    free(sum);
    free(src);
    free(texts);
    free(lat);
    free(cpu);
    free(ids);
    store_close(st);
    if (dir == tmp) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", tmp);
    }
    return 0;
}

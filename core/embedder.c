/* embedder: the embedding queue's worker and the hybrid re-ranking of
 * searches (embedder.h). */
#include "embedder.h"

#include "embed_client.h"
#include "log.h"
#include "text.h"
#include "vecrank.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MOD "embed"

struct embedder {
    store *st; /* borrowed */
    char *base_url, *model, *api_key;
    double min_sim;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    size_t dim;      /* learnt from the first answer (under mu); 0: not yet */
    uint64_t stored; /* under mu */
    uint64_t failures;
    int failing; /* a failure streak is logged once, and its end */
};

static char *dup_or_null(const char *s)
{
    return s && *s ? text_dup(s) : NULL;
}

static embed_cfg call_cfg(const embedder *e, uint32_t timeout_ms)
{
    return (embed_cfg){.base_url = e->base_url,
                       .model = e->model,
                       .api_key = e->api_key,
                       .timeout_ms = timeout_ms};
}

/* Waits up to ms unless stopped; returns whether to stop. */
static int nap(embedder *e, uint32_t ms)
{
    struct timespec ts = text_realtime_after(ms);
    pthread_mutex_lock(&e->mu);
    while (!e->stop && pthread_cond_timedwait(&e->cv, &e->mu, &ts) != ETIMEDOUT) {
    }
    int stop = e->stop;
    pthread_mutex_unlock(&e->mu);
    return stop;
}

/* Learns the dimension from the first vectors; later ones must match. */
static int dim_ok(embedder *e, size_t dim)
{
    pthread_mutex_lock(&e->mu);
    if (!e->dim) e->dim = dim;
    int ok = e->dim == dim;
    pthread_mutex_unlock(&e->mu);
    return ok;
}

static int64_t retry_at(uint32_t attempts)
{
    uint64_t d = EMBEDDER_RETRY_MIN_MS;
    for (uint32_t i = 0; i < attempts && d < EMBEDDER_RETRY_MAX_MS; i++)
        d *= 2;
    if (d > EMBEDDER_RETRY_MAX_MS) d = EMBEDDER_RETRY_MAX_MS;
    return text_now_ms() + (int64_t)d;
}

/* Embeds jobs[0..n) in one call and stores the vectors. Returns 0, or -1
 * (logged once per failure streak) after putting them back for later. */
static int run_batch(embedder *e, store_embed_job *jobs, size_t n)
{
    const char *texts[EMBEDDER_BATCH];
    for (size_t i = 0; i < n; i++)
        texts[i] = jobs[i].text;
    float *v = NULL;
    size_t dim = 0;
    long status = 0;
    char err[512] = "";
    embed_cfg c = call_cfg(e, EMBEDDER_CALL_TIMEOUT_MS);
    int rc = embed_call(&c, texts, n, &v, &dim, &status, err, sizeof err);
    if (rc == 0 && !dim_ok(e, dim)) {
        snprintf(err, sizeof err, "the model answered %zu numbers, earlier %zu", dim, e->dim);
        rc = -1;
    }
    if (rc != 0) {
        uint64_t entries[EMBEDDER_BATCH];
        uint32_t attempts = 0;
        for (size_t i = 0; i < n; i++) {
            entries[i] = jobs[i].entry;
            if (jobs[i].attempts > attempts) attempts = jobs[i].attempts;
        }
        store_embed_retry(e->st, entries, n, retry_at(attempts));
        pthread_mutex_lock(&e->mu);
        e->failures++;
        int first = !e->failing;
        e->failing = 1;
        pthread_mutex_unlock(&e->mu);
        if (first)
            LOG_W(MOD,
                  "embedding %zu entries with %s failed (retried later; search uses words "
                  "alone meanwhile): %s",
                  n, e->model, err);
        else
            LOG_D(MOD, "embedding %zu entries failed again: %s", n, err);
        free(v);
        return -1;
    }
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        float *x = v + i * dim;
        vec_normalize(x, dim); /* unit length: a search's cosine is a dot product */
        int src = store_embed_put(e->st, jobs[i].entry, e->model, x, dim);
        if (src == STORE_OK)
            ok++;
        else if (src != STORE_NOT_FOUND) /* gone meanwhile: nothing to keep */
            LOG_W(MOD, "cannot store a vector: %s", store_strerror(src));
    }
    free(v);
    pthread_mutex_lock(&e->mu);
    e->stored += ok;
    int recovered = e->failing;
    e->failing = 0;
    pthread_mutex_unlock(&e->mu);
    if (recovered) LOG_I(MOD, "embedding works again (%s)", e->model);
    return 0;
}

static void *worker(void *arg)
{
    embedder *e = arg;
    for (;;) {
        pthread_mutex_lock(&e->mu);
        int stop = e->stop;
        pthread_mutex_unlock(&e->mu);
        if (stop) break;
        store_embed_job *jobs = NULL;
        size_t n = 0;
        int src = store_embed_next(e->st, text_now_ms(), EMBEDDER_BATCH, &jobs, &n);
        if (src != STORE_OK || n == 0) {
            if (src != STORE_OK) LOG_W(MOD, "cannot read the queue: %s", store_strerror(src));
            if (nap(e, src == STORE_OK ? EMBEDDER_IDLE_MS : 5000)) break;
            continue;
        }
        int rc = run_batch(e, jobs, n);
        store_embed_jobs_free(jobs, n);
        /* After a failure, a short pause: the entries are due later, but
         * newer ones may be due now and the endpoint may be down. */
        if (rc != 0 && nap(e, EMBEDDER_RETRY_MIN_MS)) break;
    }
    return NULL;
}

int embedder_create(embedder **out, store *st, const embedder_cfg *cfg, char *err, size_t errlen)
{
    *out = NULL;
    if (!cfg || !cfg->model || !*cfg->model || strlen(cfg->model) > STORE_EMBED_MODEL_MAX) {
        snprintf(err, errlen, "--embed-model is needed (at most %d bytes)", STORE_EMBED_MODEL_MAX);
        return -1;
    }
    if (!embed_url_ok(cfg->base_url, err, errlen)) return -1;
    if (cfg->min_sim < 0 || cfg->min_sim > 1) {
        snprintf(err, errlen, "the least similarity must be within 0..1");
        return -1;
    }
    embedder *e = calloc(1, sizeof *e);
    if (!e) abort();
    e->st = st;
    e->base_url = text_dup(cfg->base_url);
    e->model = text_dup(cfg->model);
    e->api_key = dup_or_null(cfg->api_key);
    e->min_sim = cfg->min_sim > 0 ? cfg->min_sim : EMBEDDER_MIN_SIM_DEFAULT;
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    size_t queued = 0;
    int src = store_embed_requeue(st, e->model, &queued);
    if (src != STORE_OK)
        LOG_W(MOD, "cannot queue the entries without vectors: %s", store_strerror(src));
    else if (queued)
        LOG_I(MOD, "%zu entries have no vector of %s yet: queued", queued, e->model);
    if (pthread_create(&e->th, NULL, worker, e) != 0) abort();
    *out = e;
    return 0;
}

void embedder_destroy(embedder *e)
{
    if (!e) return;
    pthread_mutex_lock(&e->mu);
    e->stop = 1;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    pthread_join(e->th, NULL);
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    if (e->api_key) memset(e->api_key, 0, strlen(e->api_key));
    free(e->api_key);
    free(e->base_url);
    free(e->model);
    free(e);
}

void embedder_stats(embedder *e, uint64_t *stored, uint64_t *failures)
{
    pthread_mutex_lock(&e->mu);
    if (stored) *stored = e->stored;
    if (failures) *failures = e->failures;
    pthread_mutex_unlock(&e->mu);
}

/* ---- hybrid re-ranking ---- */

/* The words of a query without its syntax: quotes, prefixes' '*', the
 * excluded terms (-word) and OR. *out is malloc'd; "" when nothing is
 * left. */
static char *query_text(const char *q)
{
    size_t len = strlen(q);
    char *out = malloc(len + 1), *o = out;
    if (!out) abort();
    const char *p = q;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p) break;
        const char *w = p;
        int quoted = *p == '"';
        if (quoted) {
            p++;
            while (*p && *p != '"')
                p++;
            if (*p) p++;
        } else {
            while (*p && *p != ' ' && *p != '\t' && *p != '\n')
                p++;
        }
        if (*w == '-' || (p - w == 2 && w[0] == 'O' && w[1] == 'R')) continue;
        if (o > out) *o++ = ' ';
        for (const char *c = w; c < p; c++)
            if (*c != '"' && *c != '*') *o++ = *c;
    }
    *o = '\0';
    return out;
}

typedef struct scan_ctx {
    const float *q;
    size_t dim;
    vr_topk top;
} scan_ctx;

static void on_scan(void *ud, uint64_t entry, const float *v)
{
    scan_ctx *s = ud;
    vr_topk_push(&s->top, entry, vec_dot(s->q, v, s->dim));
}

typedef struct get_ctx {
    const float *q;
    size_t dim;
    vr_cand *c;
    size_t n;
} get_ctx;

static void on_get(void *ud, uint64_t entry, const float *v)
{
    get_ctx *g = ud;
    for (size_t i = 0; i < g->n; i++)
        if (g->c[i].key == entry) {
            g->c[i].has_vec = 1;
            g->c[i].cosine = vec_dot(g->q, v, g->dim);
        }
}

static uint64_t hit_entry(const store_hit *h)
{
    return h->id * 2 + (h->kind == STORE_HIT_MEMORY);
}

static void cut(store_hit **hits, size_t *n, size_t limit)
{
    if (*n <= limit) return;
    for (size_t i = limit; i < *n; i++) {
        free((*hits)[i].snippet);
        free((*hits)[i].session_title);
        free((*hits)[i].text);
    }
    *n = limit;
}

void embedder_rerank(embedder *e, const char *query, const char *session_id, unsigned kind_mask,
                     size_t limit, store_hit **hits, size_t *n)
{
    if (!e || !query) {
        cut(hits, n, limit);
        return;
    }
    char *text = query_text(query);
    float *qv = NULL;
    size_t dim = 0;
    long status = 0;
    char err[512] = "";
    embed_cfg c = call_cfg(e, EMBEDDER_QUERY_TIMEOUT_MS);
    const char *texts[1] = {text};
    int rc = *text ? embed_call(&c, texts, 1, &qv, &dim, &status, err, sizeof err) : -1;
    free(text);
    if (rc == 0 && !dim_ok(e, dim)) {
        snprintf(err, sizeof err, "the query's vector has %zu numbers, the stored ones %zu", dim,
                 e->dim);
        rc = -1;
    }
    if (rc != 0) {
        if (*err) LOG_W(MOD, "search by words alone: cannot embed the query: %s", err);
        free(qv);
        cut(hits, n, limit);
        return;
    }
    vec_normalize(qv, dim);
    /* Candidates: the full-text hits, then the nearest vectors. */
    size_t k = limit ? limit : 1;
    uint64_t *tkeys = calloc(k, sizeof *tkeys);
    double *tscores = calloc(k, sizeof *tscores);
    vr_cand *cand = calloc(*n + k, sizeof *cand);
    if (!tkeys || !tscores || !cand) abort();
    for (size_t i = 0; i < *n; i++)
        cand[i] = (vr_cand){.key = hit_entry(&(*hits)[i]), .has_text = 1, .bm25 = (*hits)[i].score};
    get_ctx g = {qv, dim, cand, *n};
    int src = STORE_OK;
    uint64_t *keys = *n ? calloc(*n, sizeof *keys) : NULL;
    for (size_t i = 0; i < *n; i++)
        keys[i] = cand[i].key;
    if (*n) src = store_embed_get(e->st, e->model, dim, keys, *n, on_get, &g);
    free(keys);
    scan_ctx s = {qv, dim, {0}};
    vr_topk_init(&s.top, tkeys, tscores, k);
    if (src == STORE_OK)
        src = store_embed_scan(e->st, e->model, dim, session_id && *session_id ? session_id : NULL,
                               kind_mask, EMBEDDER_SCAN_MAX, on_scan, &s);
    free(qv);
    if (src != STORE_OK) {
        LOG_W(MOD, "search by words alone: cannot read vectors: %s", store_strerror(src));
        free(tkeys), free(tscores), free(cand);
        cut(hits, n, limit);
        return;
    }
    size_t nc = *n;
    for (size_t i = 0; i < s.top.n; i++) {
        size_t j = 0;
        while (j < *n && cand[j].key != tkeys[i])
            j++;
        if (j < *n) continue; /* a full-text hit: its cosine is known */
        cand[nc++] = (vr_cand){.key = tkeys[i], .has_vec = 1, .cosine = tscores[i]};
    }
    free(tkeys), free(tscores);
    size_t kept = vecrank_fuse(cand, nc, e->min_sim);
    if (kept > limit) kept = limit;
    store_hit *list = kept ? calloc(kept, sizeof *list) : NULL;
    if (kept && !list) abort();
    size_t len = 0;
    for (size_t i = 0; i < kept; i++) {
        size_t j = 0;
        while (j < *n && ((*hits)[j].snippet == NULL || hit_entry(&(*hits)[j]) != cand[i].key))
            j++;
        if (j < *n) { /* moved over: the old list gives up its strings */
            list[len] = (*hits)[j];
            memset(&(*hits)[j], 0, sizeof(*hits)[j]);
        } else if (store_hit_get(e->st, cand[i].key, &list[len]) != STORE_OK) {
            continue; /* gone or hidden since the scan */
        }
        list[len++].score = -cand[i].hybrid; /* lower is better, as store_hit says */
    }
    store_hits_free(*hits, *n);
    free(cand);
    if (len == 0) {
        free(list);
        list = NULL;
    }
    *hits = list;
    *n = len;
}

/* fts_rank: the bounded BM25 auxiliary function (fts_rank.h). */
#include "fts_rank.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct rank_data {
    int n_phrase;
    double avgdl;
    sqlite3_int64 rows;
    double idf[FTS_RANK_PHRASES_MAX]; /* < 0: not counted yet */
    int tf[FTS_RANK_PHRASES_MAX];     /* scratch of the current row */
} rank_data;

static int count_cb(const Fts5ExtensionApi *api, Fts5Context *fts, void *ud)
{
    (void)api;
    (void)fts;
    int *n = ud;
    return ++*n >= FTS_RANK_DF_CAP ? SQLITE_DONE : SQLITE_OK;
}

/* A phrase's IDF, counted the first time a row holds it in the text: the
 * filter phrases on the tags column (session, kind) and excluded words are
 * never counted. */
static int phrase_idf(const Fts5ExtensionApi *api, Fts5Context *fts, rank_data *d, int i,
                      double *out)
{
    if (d->idf[i] < 0) {
        int n = 0;
        int rc = api->xQueryPhrase(fts, i, &n, count_cb);
        if (rc != SQLITE_OK) return rc;
        double idf = log((d->rows - n + 0.5) / (n + 0.5));
        d->idf[i] = idf > 1e-6 ? idf : 1e-6;
    }
    *out = d->idf[i];
    return SQLITE_OK;
}

/* The per-query part, computed at the first row and kept as auxdata. */
static int query_data(const Fts5ExtensionApi *api, Fts5Context *fts, rank_data **out)
{
    rank_data *d = api->xGetAuxdata(fts, 0);
    if (d) {
        *out = d;
        return SQLITE_OK;
    }
    d = calloc(1, sizeof *d);
    if (!d) return SQLITE_NOMEM;
    int n_phrase = api->xPhraseCount(fts);
    d->n_phrase = n_phrase > FTS_RANK_PHRASES_MAX ? FTS_RANK_PHRASES_MAX : n_phrase;
    sqlite3_int64 rows = 0, tokens = 0;
    int rc = api->xRowCount(fts, &rows);
    if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, -1, &tokens);
    d->avgdl = rows > 0 ? (double)tokens / (double)rows : 1;
    if (d->avgdl <= 0) d->avgdl = 1;
    d->rows = rows;
    for (int i = 0; i < d->n_phrase; i++)
        d->idf[i] = -1;
    if (rc == SQLITE_OK) rc = api->xSetAuxdata(fts, d, free);
    if (rc != SQLITE_OK) {
        /* xSetAuxdata frees d itself when it fails. */
        return rc;
    }
    *out = d;
    return SQLITE_OK;
}

static void comfyd_bm25(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                        int n_val, sqlite3_value **vals)
{
    (void)n_val;
    (void)vals;
    rank_data *d = NULL;
    int rc = query_data(api, fts, &d);
    int n_inst = 0, dl = 0;
    if (rc == SQLITE_OK) rc = api->xInstCount(fts, &n_inst);
    if (rc == SQLITE_OK) rc = api->xColumnSize(fts, -1, &dl);
    if (rc != SQLITE_OK) {
        sqlite3_result_error_code(ctx, rc);
        return;
    }
    memset(d->tf, 0, sizeof d->tf);
    for (int i = 0; i < n_inst; i++) {
        int ph = 0, col = 0, off = 0;
        if (api->xInst(fts, i, &ph, &col, &off) != SQLITE_OK) break;
        if (col == 0 && ph >= 0 && ph < d->n_phrase) d->tf[ph]++;
    }
    const double k1 = 1.2, b = 0.75;
    double score = 0, norm = k1 * (1 - b + b * dl / d->avgdl);
    for (int i = 0; i < d->n_phrase; i++) {
        double idf = 0;
        if (!d->tf[i]) continue;
        if ((rc = phrase_idf(api, fts, d, i, &idf)) != SQLITE_OK) {
            sqlite3_result_error_code(ctx, rc);
            return;
        }
        score += idf * d->tf[i] * (k1 + 1) / (d->tf[i] + norm);
    }
    sqlite3_result_double(ctx, -score);
}

int fts_rank_register(sqlite3 *db)
{
    fts5_api *api = NULL;
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_pointer(q, 1, (void *)&api, "fts5_api_ptr", NULL);
        sqlite3_step(q);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_OK) return rc;
    if (!api || api->iVersion < 2) return SQLITE_ERROR;
    return api->xCreateFunction(api, "comfyd_bm25", NULL, comfyd_bm25, NULL);
}

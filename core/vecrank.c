/* vecrank: cosine similarity and the hybrid BM25 + cosine ranking
 * (vecrank.h). */
#include "vecrank.h"

#include <math.h>
#include <stdlib.h>

double vec_dot(const float *a, const float *b, size_t dim)
{
    double s = 0;
    for (size_t i = 0; i < dim; i++)
        s += (double)a[i] * (double)b[i];
    return s;
}

double vec_normalize(float *v, size_t dim)
{
    double len = sqrt(vec_dot(v, v, dim));
    if (len > 0 && isfinite(len))
        for (size_t i = 0; i < dim; i++)
            v[i] = (float)(v[i] / len);
    return len;
}

double vec_cosine(const float *a, const float *b, size_t dim)
{
    double aa = vec_dot(a, a, dim), bb = vec_dot(b, b, dim);
    if (aa <= 0 || bb <= 0) return 0;
    double c = vec_dot(a, b, dim) / (sqrt(aa) * sqrt(bb));
    return c > 1 ? 1 : c < -1 ? -1 : c;
}

static int cmp_cand(const void *pa, const void *pb)
{
    const vr_cand *a = pa, *b = pb;
    if (a->keep != b->keep) return a->keep ? -1 : 1;
    if (a->hybrid != b->hybrid) return a->hybrid > b->hybrid ? -1 : 1;
    return a->key > b->key ? -1 : a->key < b->key ? 1 : 0;
}

size_t vecrank_fuse(vr_cand *c, size_t n, double min_sim)
{
    double best = 0; /* the most negative BM25 score: the best text match */
    for (size_t i = 0; i < n; i++)
        if (c[i].has_text && c[i].bm25 < best) best = c[i].bm25;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        double text = 0, sim = 0;
        if (c[i].has_text) text = best < 0 ? (c[i].bm25 < 0 ? c[i].bm25 / best : 0) : 1;
        if (c[i].has_vec && c[i].cosine > 0) sim = c[i].cosine > 1 ? 1 : c[i].cosine;
        if (c[i].has_text && !c[i].has_vec)
            c[i].hybrid = text; /* not embedded yet: its text part alone */
        else
            c[i].hybrid = VECRANK_TEXT_WEIGHT * text + (1 - VECRANK_TEXT_WEIGHT) * sim;
        c[i].keep = c[i].has_text || (c[i].has_vec && c[i].cosine >= min_sim);
        kept += (size_t)c[i].keep;
    }
    if (n > 1) qsort(c, n, sizeof *c, cmp_cand);
    return kept;
}

/* A min-heap on score: the root is the weakest of the k best. */
static int worse(const vr_topk *t, size_t i, size_t j)
{
    if (t->scores[i] != t->scores[j]) return t->scores[i] < t->scores[j];
    return t->keys[i] < t->keys[j];
}

static void swap_at(vr_topk *t, size_t i, size_t j)
{
    uint64_t k = t->keys[i];
    t->keys[i] = t->keys[j];
    t->keys[j] = k;
    double s = t->scores[i];
    t->scores[i] = t->scores[j];
    t->scores[j] = s;
}

static void sift_down(vr_topk *t, size_t i, size_t n)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(t, l, m)) m = l;
        if (r < n && worse(t, r, m)) m = r;
        if (m == i) return;
        swap_at(t, i, m);
        i = m;
    }
}

void vr_topk_init(vr_topk *t, uint64_t *keys, double *scores, size_t k)
{
    t->keys = keys;
    t->scores = scores;
    t->k = k;
    t->n = 0;
}

void vr_topk_push(vr_topk *t, uint64_t key, double score)
{
    if (t->k == 0) return;
    if (t->n < t->k) {
        size_t i = t->n++;
        t->keys[i] = key;
        t->scores[i] = score;
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (!worse(t, i, p)) break;
            swap_at(t, i, p);
            i = p;
        }
        return;
    }
    if (score < t->scores[0] || (score == t->scores[0] && key <= t->keys[0])) return;
    t->keys[0] = key;
    t->scores[0] = score;
    sift_down(t, 0, t->n);
}

void vr_topk_sort(vr_topk *t)
{
    /* Heap sort with the min-heap: the weakest goes to the end each step,
     * leaving the array best first. */
    for (size_t end = t->n; end > 1; end--) {
        swap_at(t, 0, end - 1);
        sift_down(t, 0, end - 1);
    }
}

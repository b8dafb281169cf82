#include "nodeindex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Where a word was found. The order is the weight order. */
enum { F_NAME = 1, F_DISPLAY = 2, F_CATEGORY = 4, F_IO = 8, F_DESC = 16 };
#define F_FUZZY (F_NAME | F_DISPLAY | F_CATEGORY | F_IO)

/* How a query word matched, times the weight of where (see weight()). */
enum { Q_EQUAL = 4, Q_PREFIX = 3, Q_FUZZY1 = 2, Q_FUZZY2 = 1, Q_INSIDE = 2 };

/* Points for a whole-query fuzzy match with the name, per query word:
 * above any one fuzzy word match, so that "ksampeler" puts KSampler first. */
#define WHOLE_FUZZY_POINTS 20

/* One indexed word: text in the pool, its postings. */
typedef struct {
    uint64_t chars; /* see char_mask */
    uint32_t off, first, count;
    uint16_t len;
    uint8_t fields; /* union of its postings' fields */
} vword;

/* One (word, type) pair: the fields of the type the word occurs in. */
typedef struct {
    uint32_t type;
    uint8_t fields;
} posting;

/* Per type: folded forms for the tiers and the category filter. */
typedef struct {
    uint64_t name_chars, display_chars; /* see char_mask */
    uint32_t name, display, category;   /* offsets in the pool */
    uint16_t name_len, display_len;
    uint8_t core, deprecated;
} tinfo;

struct nodeindex {
    const nodeinfo_type *types; /* borrowed */
    size_t n;
    char *pool; /* words and folded names, each NUL-terminated */
    size_t pool_len, pool_cap;
    vword *words; /* sorted by text */
    size_t n_words;
    posting *posts;
    size_t n_posts;
    tinfo *t;
};

/* ---- characters and words ---- */

static int is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}
static int is_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}
static int is_lower(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || c >= 0x80;
}
static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}
static char fold(unsigned char c)
{
    return is_upper(c) ? (char)(c - 'A' + 'a') : (char)c;
}

/* A part of a word starts at i (0 < i < len): lower->Upper ("kSampler"),
 * the last capital of an acronym before a lower-case letter ("VAEDecode":
 * before D), letter->digit ("Load3D"), and digit->Capital-lower
 * ("SD3Clip"). Digits followed by capitals stay together ("3D"). */
static int part_starts(const unsigned char *w, size_t len, size_t i)
{
    unsigned char p = w[i - 1], c = w[i];
    int next_lower = i + 1 < len && is_lower(w[i + 1]) && !is_digit(w[i + 1]);
    if (is_lower(p) && !is_digit(p) && is_upper(c)) return 1;
    if (is_upper(p) && is_upper(c) && next_lower) return 1;
    if (!is_digit(p) && is_digit(c)) return 1;
    if (is_digit(p) && is_upper(c) && next_lower) return 1;
    return 0;
}

static const char *const stop_words[] = {
    "a",  "an",   "and",  "are",  "as",    "at",   "be",   "by",  "can",  "for", "from",
    "in", "into", "is",   "it",   "its",   "of",   "on",   "or",  "that", "the", "this",
    "to", "use",  "used", "uses", "using", "will", "with", "you", "your",
};

static int is_stop_word(const char *w, size_t len)
{
    for (size_t i = 0; i < sizeof stop_words / sizeof *stop_words; i++)
        if (strlen(stop_words[i]) == len && memcmp(stop_words[i], w, len) == 0) return 1;
    return 0;
}

typedef void (*emit_fn)(void *ud, const char *w, size_t len);

/* Calls emit for every word of s[0..max) (folded): each whole word, and
 * for a word of several parts each part and each adjacent pair of parts. */
static void split_words(const char *s, size_t max, int parts, emit_fn emit, void *ud)
{
    size_t n = strlen(s);
    if (n > max) n = max;
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        while (i < n && !is_word_byte(u[i]))
            i++;
        size_t start = i;
        while (i < n && is_word_byte(u[i]))
            i++;
        size_t len = i - start;
        if (!len) continue;
        if (len > NODEINDEX_MAX_WORD) len = NODEINDEX_MAX_WORD;
        char buf[NODEINDEX_MAX_WORD * 2];
        for (size_t k = 0; k < len; k++)
            buf[k] = fold(u[start + k]);
        emit(ud, buf, len);
        if (!parts) continue;
        size_t cut[NODEINDEX_MAX_WORD + 1], np = 0;
        cut[np++] = 0;
        for (size_t k = 1; k < len; k++)
            if (part_starts(u + start, len, k)) cut[np++] = k;
        if (np < 2) continue;
        cut[np] = len;
        for (size_t p = 0; p < np; p++) {
            emit(ud, buf + cut[p], cut[p + 1] - cut[p]);
            if (p + 2 <= np && !(p == 0 && np == 2)) /* a pair that is not the whole */
                emit(ud, buf + cut[p], cut[p + 2] - cut[p]);
        }
    }
}

/* The letters and digits of s, folded ("Load LoRA" -> "loadlora"). */
static size_t squash(const char *s, char *out, size_t cap)
{
    size_t k = 0;
    for (const unsigned char *u = (const unsigned char *)s; *u && k + 1 < cap; u++)
        if (is_word_byte(*u)) out[k++] = fold(*u);
    out[k] = 0;
    return k;
}

/* ---- edit distance ---- */

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions) of a[0..la) and b[0..lb), or cap + 1 when above cap. */
#define OSA_MAX (NODEINDEX_MAX_WORD * 2)
static size_t osa(const char *a, size_t la, const char *b, size_t lb, size_t cap)
{
    if (la > OSA_MAX || lb > OSA_MAX) return cap + 1;
    if ((la > lb ? la - lb : lb - la) > cap) return cap + 1;
    size_t r0[OSA_MAX + 1], r1[OSA_MAX + 1], r2[OSA_MAX + 1];
    size_t *pp = r0, *prev = r1, *cur = r2;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        size_t best = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t v = prev[j - 1] + cost;
            if (prev[j] + 1 < v) v = prev[j] + 1;
            if (cur[j - 1] + 1 < v) v = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            cur[j] = v;
            if (v < best) best = v;
        }
        if (best > cap) return cap + 1;
        size_t *t = pp;
        pp = prev, prev = cur, cur = t;
    }
    return prev[lb] <= cap ? prev[lb] : cap + 1;
}

/* The set of characters of s[0..len) as bits (letters and digits their
 * own, other bytes folded into the rest). One edit changes at most two
 * bits, so two strings whose sets differ in more than 2 * k bits are more
 * than k edits apart: a cheap test before osa. */
static uint64_t char_mask(const char *s, size_t len)
{
    uint64_t m = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        unsigned bit = c >= 'a' && c <= 'z'   ? (unsigned)(c - 'a')
                       : c >= '0' && c <= '9' ? 26u + (unsigned)(c - '0')
                                              : 36u + c % 28u;
        m |= (uint64_t)1 << bit;
    }
    return m;
}

static int maybe_near(uint64_t a, uint64_t b, size_t cap)
{
    return (size_t)__builtin_popcountll(a ^ b) <= 2 * cap;
}

/* Edits allowed for a word of len characters. */
static size_t fuzzy_cap(size_t len)
{
    return len < 4 ? 0 : len < 8 ? 1 : 2;
}

/* ---- building ---- */

typedef struct {
    const char *s; /* set once every triple is collected (tmp moves until then) */
    uint32_t off, type;
    uint16_t len;
    uint8_t field;
} triple;

typedef struct {
    nodeindex *ix;
    char *tmp; /* the triples' text */
    size_t tmp_len, tmp_cap;
    triple *tr;
    size_t n_tr, cap_tr;
    uint32_t type;
    uint8_t field;
    int oom;
} builder;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

static int pool_add(nodeindex *ix, const char *s, size_t len, uint32_t *off)
{
    if (ix->pool_len + len + 1 > UINT32_MAX) return -1;
    if (grow((void **)&ix->pool, &ix->pool_cap, ix->pool_len + len + 1, 1)) return -1;
    memcpy(ix->pool + ix->pool_len, s, len);
    ix->pool[ix->pool_len + len] = 0;
    *off = (uint32_t)ix->pool_len;
    ix->pool_len += len + 1;
    return 0;
}

static void emit_triple(void *ud, const char *w, size_t len)
{
    builder *b = ud;
    if (b->oom) return;
    if (b->field == F_DESC && is_stop_word(w, len)) return;
    if (b->tmp_len + len > UINT32_MAX || grow((void **)&b->tmp, &b->tmp_cap, b->tmp_len + len, 1) ||
        grow((void **)&b->tr, &b->cap_tr, b->n_tr + 1, sizeof *b->tr)) {
        b->oom = 1;
        return;
    }
    memcpy(b->tmp + b->tmp_len, w, len);
    b->tr[b->n_tr++] = (triple){NULL, (uint32_t)b->tmp_len, b->type, (uint16_t)len, b->field};
    b->tmp_len += len;
}

static int cmp_text(const char *a, size_t la, const char *b, size_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);
    if (c) return c;
    return la < lb ? -1 : la > lb;
}

static int cmp_triple(const void *pa, const void *pb)
{
    const triple *a = pa, *b = pb;
    int c = cmp_text(a->s, a->len, b->s, b->len);
    if (c) return c;
    return a->type < b->type ? -1 : a->type > b->type;
}

int nodeindex_is_core_module(const char *m)
{
    return m && (strcmp(m, "nodes") == 0 || strncmp(m, "comfy_extras", 12) == 0);
}

/* 2 for ComfyUI's base nodes (nodes.py: the loaders, samplers and encoders
 * every workflow uses) and the frontend's own, 1 for comfy_extras, 0 for
 * the rest. */
static uint8_t core_level(const nodeinfo_type *t)
{
    if (t->frontend_only || (t->python_module && strcmp(t->python_module, "nodes") == 0)) return 2;
    return nodeindex_is_core_module(t->python_module) ? 1 : 0;
}

static void index_type(builder *b, const nodeinfo_type *t)
{
    b->field = F_NAME;
    split_words(t->name, NODEINFO_MAX_NAME, 1, emit_triple, b);
    b->field = F_DISPLAY;
    split_words(t->display_name, NODEINFO_MAX_NAME, 1, emit_triple, b);
    b->field = F_CATEGORY;
    split_words(t->category, NODEINFO_MAX_NAME, 1, emit_triple, b);
    b->field = F_DESC;
    split_words(t->description, NODEINDEX_MAX_DESCRIPTION, 1, emit_triple, b);
    b->field = F_IO;
    for (size_t i = 0; i < t->n_inputs; i++)
        split_words(t->inputs[i].type, NODEINFO_MAX_NAME, 1, emit_triple, b);
    for (size_t i = 0; i < t->n_outputs; i++)
        split_words(t->outputs[i].type, NODEINFO_MAX_NAME, 1, emit_triple, b);
}

static int fill_tinfo(nodeindex *ix, size_t i)
{
    const nodeinfo_type *t = &ix->types[i];
    tinfo *ti = &ix->t[i];
    char buf[NODEINFO_MAX_NAME + 1];
    size_t n = squash(t->name, buf, sizeof buf);
    if (pool_add(ix, buf, n, &ti->name)) return -1;
    ti->name_len = (uint16_t)n;
    ti->name_chars = char_mask(buf, n);
    n = squash(t->display_name, buf, sizeof buf);
    if (pool_add(ix, buf, n, &ti->display)) return -1;
    ti->display_len = (uint16_t)n;
    ti->display_chars = char_mask(buf, n);
    n = 0;
    for (const char *c = t->category; *c && n < NODEINFO_MAX_NAME; c++)
        buf[n++] = fold((unsigned char)*c);
    if (pool_add(ix, buf, n, &ti->category)) return -1;
    ti->core = core_level(t);
    ti->deprecated = t->deprecated != 0;
    return 0;
}

int nodeindex_create(nodeindex **out, const nodeinfo_type *types, size_t n)
{
    *out = NULL;
    nodeindex *ix = calloc(1, sizeof *ix);
    builder b = {.ix = ix};
    if (!ix || n > UINT32_MAX) goto oom;
    ix->types = types;
    ix->n = n;
    ix->t = calloc(n ? n : 1, sizeof *ix->t);
    if (!ix->t) goto oom;
    for (size_t i = 0; i < n; i++) {
        if (fill_tinfo(ix, i)) goto oom;
        b.type = (uint32_t)i;
        index_type(&b, &types[i]);
        if (b.oom) goto oom;
    }
    for (size_t i = 0; i < b.n_tr; i++)
        b.tr[i].s = b.tmp + b.tr[i].off;
    qsort(b.tr, b.n_tr, sizeof *b.tr, cmp_triple);
    ix->posts = malloc((b.n_tr ? b.n_tr : 1) * sizeof *ix->posts);
    ix->words = malloc((b.n_tr ? b.n_tr : 1) * sizeof *ix->words);
    if (!ix->posts || !ix->words) goto oom;
    for (size_t i = 0; i < b.n_tr;) {
        const triple *w = &b.tr[i];
        vword *v = &ix->words[ix->n_words++];
        if (pool_add(ix, w->s, w->len, &v->off)) goto oom;
        v->len = w->len;
        v->chars = char_mask(w->s, w->len);
        v->first = (uint32_t)ix->n_posts;
        v->fields = 0;
        size_t j = i;
        while (j < b.n_tr && b.tr[j].len == w->len && memcmp(b.tr[j].s, w->s, w->len) == 0) {
            if (ix->n_posts > v->first && ix->posts[ix->n_posts - 1].type == b.tr[j].type)
                ix->posts[ix->n_posts - 1].fields |= b.tr[j].field;
            else
                ix->posts[ix->n_posts++] = (posting){b.tr[j].type, b.tr[j].field};
            v->fields |= b.tr[j].field;
            j++;
        }
        v->count = (uint32_t)(ix->n_posts - v->first);
        i = j;
    }
    free(b.tmp);
    free(b.tr);
    *out = ix;
    return NODEINFO_OK;
oom:
    free(b.tmp);
    free(b.tr);
    nodeindex_destroy(ix);
    return NODEINFO_ENOMEM;
}

void nodeindex_destroy(nodeindex *ix)
{
    if (!ix) return;
    free(ix->pool);
    free(ix->words);
    free(ix->posts);
    free(ix->t);
    free(ix);
}

/* ---- searching ---- */

static int weight(uint8_t fields)
{
    if (fields & F_NAME) return 10;
    if (fields & F_DISPLAY) return 8;
    if (fields & F_CATEGORY) return 4;
    if (fields & F_IO) return 2;
    return fields & F_DESC ? 1 : 0;
}

/* First word >= w[0..len). */
static size_t lower_bound(const nodeindex *ix, const char *w, size_t len)
{
    size_t lo = 0, hi = ix->n_words;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const vword *v = &ix->words[mid];
        if (cmp_text(ix->pool + v->off, v->len, w, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

typedef struct {
    char text[NODEINDEX_MAX_WORD + 1];
    size_t len;
} qword;

typedef struct {
    qword w[NODEINDEX_MAX_WORDS];
    size_t n;
} qwords;

static void emit_qword(void *ud, const char *w, size_t len)
{
    qwords *q = ud;
    if (q->n == NODEINDEX_MAX_WORDS) return;
    memcpy(q->w[q->n].text, w, len);
    q->w[q->n].text[len] = 0;
    q->w[q->n].len = len;
    q->n++;
}

/* Per type, the running result of one search. */
typedef struct {
    uint32_t score;
    uint16_t best_strong, best_weak; /* of the current word */
    uint8_t strong, weak;            /* words matched so */
    uint8_t whole;                   /* whole-query fuzzy match */
} acc;

static void offer(acc *a, const nodeindex *ix, const vword *v, int quality, uint8_t mask,
                  int strong)
{
    for (uint32_t k = 0; k < v->count; k++) {
        const posting *p = &ix->posts[v->first + k];
        int s = quality * weight(p->fields & mask);
        if (!s) continue;
        acc *x = &a[p->type];
        if (strong && s > x->best_strong) x->best_strong = (uint16_t)s;
        if (!strong && s > x->best_weak) x->best_weak = (uint16_t)s;
    }
}

static void match_word(const nodeindex *ix, const qword *q, acc *a)
{
    for (size_t i = 0; i < ix->n; i++)
        a[i].best_strong = a[i].best_weak = 0;
    /* Equal and prefix: a range of the sorted words. */
    size_t at = lower_bound(ix, q->text, q->len);
    for (size_t i = at; i < ix->n_words; i++) {
        const vword *v = &ix->words[i];
        if (v->len < q->len || memcmp(ix->pool + v->off, q->text, q->len) != 0) break;
        if (v->len == q->len)
            offer(a, ix, v, Q_EQUAL, 0xff, 1);
        else if (q->len >= 3)
            offer(a, ix, v, Q_PREFIX, 0xff, 1);
        else
            break;
    }
    /* Fuzzy: every word of the names, categories and types. */
    size_t cap = fuzzy_cap(q->len);
    if (cap) {
        uint64_t qc = char_mask(q->text, q->len);
        for (size_t i = 0; i < ix->n_words; i++) {
            const vword *v = &ix->words[i];
            if (!(v->fields & F_FUZZY) || !maybe_near(qc, v->chars, cap)) continue;
            size_t d = osa(q->text, q->len, ix->pool + v->off, v->len, cap);
            if (d == 0 || d > cap) continue;
            offer(a, ix, v, d == 1 ? Q_FUZZY1 : Q_FUZZY2, F_FUZZY, 0);
        }
    }
    /* Inside a name ("ampl" in "KSampler"). */
    if (q->len >= 3) {
        for (size_t i = 0; i < ix->n; i++) {
            const tinfo *t = &ix->t[i];
            int s = strstr(ix->pool + t->name, q->text)      ? Q_INSIDE * weight(F_NAME)
                    : strstr(ix->pool + t->display, q->text) ? Q_INSIDE * weight(F_DISPLAY)
                                                             : 0;
            if (s > a[i].best_weak) a[i].best_weak = (uint16_t)s;
        }
    }
    for (size_t i = 0; i < ix->n; i++) {
        if (a[i].best_strong) {
            a[i].strong++;
            a[i].score += a[i].best_strong;
        } else if (a[i].best_weak) {
            a[i].weak++;
            a[i].score += a[i].best_weak;
        }
    }
}

/* A match with what ordering needs (qsort passes no context). */
typedef struct {
    const char *name;
    uint32_t type, score;
    uint16_t name_len;
    uint8_t tier, core, deprecated;
} hit;

static int cmp_hit(const void *pa, const void *pb)
{
    const hit *a = pa, *b = pb;
    if (a->tier != b->tier) return a->tier < b->tier ? -1 : 1;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->deprecated != b->deprecated) return a->deprecated ? 1 : -1;
    if (a->core != b->core) return a->core > b->core ? -1 : 1;
    if (a->name_len != b->name_len) return a->name_len < b->name_len ? -1 : 1;
    return strcmp(a->name, b->name);
}

static int in_category(const nodeindex *ix, const tinfo *t, const char *cat, size_t catlen)
{
    const char *c = ix->pool + t->category;
    return catlen == 0 || (strncmp(c, cat, catlen) == 0 && (c[catlen] == 0 || c[catlen] == '/'));
}

size_t nodeindex_search(const nodeindex *ix, const char *query, const char *category, size_t *out,
                        size_t max, size_t *total)
{
    if (total) *total = 0;
    char cat[NODEINFO_MAX_NAME + 1];
    size_t catlen = 0;
    for (const char *c = category ? category : ""; *c && catlen < NODEINFO_MAX_NAME; c++)
        cat[catlen++] = fold((unsigned char)*c);
    cat[catlen] = 0;

    qwords all = {0}, q = {0};
    split_words(query ? query : "", NODEINFO_MAX_NAME * 2, 0, emit_qword, &all);
    char whole[NODEINDEX_MAX_WORDS * NODEINDEX_MAX_WORD + 1];
    size_t wlen = 0;
    for (size_t i = 0; i < all.n; i++) {
        memcpy(whole + wlen, all.w[i].text, all.w[i].len);
        wlen += all.w[i].len;
        if (!is_stop_word(all.w[i].text, all.w[i].len)) q.w[q.n++] = all.w[i];
    }
    whole[wlen] = 0;
    if (q.n == 0) q = all; /* only common words: search them */

    acc *a = calloc(ix->n ? ix->n : 1, sizeof *a);
    hit *h = malloc((ix->n ? ix->n : 1) * sizeof *h);
    if (!a || !h) {
        free(a), free(h);
        return 0;
    }
    for (size_t i = 0; i < q.n; i++)
        match_word(ix, &q.w[i], a);
    size_t wcap = fuzzy_cap(wlen);
    uint64_t wchars = char_mask(whole, wlen);
    size_t n = 0;
    for (size_t i = 0; i < ix->n; i++) {
        const tinfo *t = &ix->t[i];
        if (!in_category(ix, t, cat, catlen)) continue;
        const char *nm = ix->pool + t->name, *dn = ix->pool + t->display;
        int tier;
        if (wlen == 0)
            tier = 0;
        else if ((t->name_len == wlen && memcmp(nm, whole, wlen) == 0) ||
                 (t->display_len == wlen && memcmp(dn, whole, wlen) == 0))
            tier = 0;
        else if (strncmp(nm, whole, wlen) == 0 || strncmp(dn, whole, wlen) == 0)
            tier = 1;
        else if (a[i].strong == q.n)
            tier = 2;
        else if (a[i].strong)
            tier = 3;
        else
            tier = 4;
        if (tier == 4 && wcap) {
            size_t d = maybe_near(wchars, t->name_chars, wcap)
                           ? osa(whole, wlen, nm, t->name_len, wcap)
                           : wcap + 1;
            size_t d2 = maybe_near(wchars, t->display_chars, wcap)
                            ? osa(whole, wlen, dn, t->display_len, wcap)
                            : wcap + 1;
            if (d2 < d) d = d2;
            if (d <= wcap) a[i].score += (uint32_t)((wcap - d + 1) * WHOLE_FUZZY_POINTS * q.n);
            a[i].whole = d <= wcap;
        }
        if (tier == 4 && !a[i].weak && !a[i].whole) continue;
        h[n] = (hit){.name = ix->types[i].name,
                     .type = (uint32_t)i,
                     .score = wlen ? a[i].score : 0,
                     .name_len = t->name_len,
                     .tier = (uint8_t)tier,
                     .core = t->core,
                     .deprecated = t->deprecated};
        n++;
    }
    if (wlen) qsort(h, n, sizeof *h, cmp_hit); /* else name order already */
    size_t w = n < max ? n : max;
    for (size_t i = 0; i < w; i++)
        out[i] = h[i].type;
    if (total) *total = n;
    free(a), free(h);
    return w;
}

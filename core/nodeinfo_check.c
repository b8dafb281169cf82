/* nodeinfo_check: suggestions for unknown names and the checks of a
 * widget value against its input's type (nodeinfo.h). */
#include "nodeinfo_int.h"

/* ---- suggestions ---- */

/* Case-insensitive Levenshtein distance, or cap + 1 when it exceeds cap. */
static size_t edit_distance(const char *a, const char *b, size_t cap)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > NODEINFO_MAX_NAME || lb > NODEINFO_MAX_NAME) return cap + 1;
    if ((la > lb ? la - lb : lb - la) > cap) return cap + 1;
    size_t row[NODEINFO_MAX_NAME + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0], best = row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t v = diag + cost;
            if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
            if (up + 1 < v) v = up + 1;
            row[j] = v;
            diag = up;
            if (v < best) best = v;
        }
        if (best > cap) return cap + 1;
    }
    return row[lb] <= cap ? row[lb] : cap + 1;
}

static int icontains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0) return 0;
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0) return 1;
    return 0;
}

/* Small ranked set used by every suggestion function. */
#define SUGGEST_KEEP 16

typedef struct {
    const char *out; /* what is returned */
    size_t tier, score, len;
} suggestion;

typedef struct {
    suggestion s[SUGGEST_KEEP];
    size_t n, max;
} suggest_set;

static int sugg_less(const suggestion *a, const suggestion *b)
{
    if (a->tier != b->tier) return a->tier < b->tier;
    if (a->score != b->score) return a->score < b->score;
    if (a->len != b->len) return a->len < b->len;
    return strcmp(a->out, b->out) < 0;
}

static void sugg_offer(suggest_set *set, suggestion c)
{
    for (size_t i = 0; i < set->n; i++) {
        if (strcmp(set->s[i].out, c.out) == 0) {
            if (sugg_less(&c, &set->s[i])) set->s[i] = c;
            goto resort;
        }
    }
    if (set->n < set->max) {
        set->s[set->n++] = c;
    } else if (sugg_less(&c, &set->s[set->n - 1])) {
        set->s[set->n - 1] = c;
    } else {
        return;
    }
resort:
    for (size_t i = 1; i < set->n; i++)
        for (size_t j = i; j > 0 && sugg_less(&set->s[j], &set->s[j - 1]); j--) {
            suggestion t = set->s[j];
            set->s[j] = set->s[j - 1];
            set->s[j - 1] = t;
        }
}

/* Scores cand against query (tier 0: edit distance within the threshold;
 * tier 1: one contains the other). Returns 0 when it is no match. */
static int sugg_score(const char *query, size_t qlen, const char *cand, suggestion *s)
{
    size_t cap = qlen / 3 + 1;
    if (cap > 4) cap = 4;
    size_t clen = strlen(cand);
    size_t d = edit_distance(query, cand, cap);
    s->len = clen;
    if (d <= cap) {
        s->tier = 0;
        s->score = d;
        return 1;
    }
    if (qlen >= 3 && icontains(cand, query)) {
        s->tier = 1;
        s->score = clen - qlen;
        return 1;
    }
    if (clen >= 4 && icontains(query, cand)) {
        s->tier = 1;
        s->score = qlen - clen;
        return 1;
    }
    return 0;
}

size_t nodeinfo_closest(const char *query, const char *const *cands, size_t n, const char **out,
                        size_t max)
{
    if (!query || !query[0] || max == 0) return 0;
    suggest_set set = {.max = max < SUGGEST_KEEP ? max : SUGGEST_KEEP};
    size_t qlen = strlen(query);
    for (size_t i = 0; i < n; i++) {
        suggestion s;
        if (!cands[i] || !sugg_score(query, qlen, cands[i], &s)) continue;
        s.out = cands[i];
        sugg_offer(&set, s);
    }
    for (size_t i = 0; i < set.n; i++)
        out[i] = set.s[i].out;
    return set.n;
}

size_t nodeinfo_suggest(const nodeinfo *ni, const char *name,
                        const char *out[NODEINFO_MAX_SUGGESTIONS])
{
    if (!name || !name[0]) return 0;
    suggest_set set = {.max = NODEINFO_MAX_SUGGESTIONS};
    size_t qlen = strlen(name);
    for (size_t i = 0; i < ni->n_types; i++) {
        const nodeinfo_type *t = &ni->types[i];
        suggestion a, b;
        int ha = sugg_score(name, qlen, t->name, &a);
        int hb = sugg_score(name, qlen, t->display_name, &b);
        if (!ha && !hb) continue;
        a.out = b.out = t->name;
        if (!ha || (hb && sugg_less(&b, &a))) a = b;
        a.len = strlen(t->name);
        sugg_offer(&set, a);
    }
    for (size_t i = 0; i < set.n; i++)
        out[i] = set.s[i].out;
    return set.n;
}

/* ---- value checks ---- */

typedef struct {
    char *buf;
    size_t cap, len;
} strbuf;

static void sb_add(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(strbuf *b, const char *fmt, ...)
{
    if (!b->buf || b->cap == 0 || b->len >= b->cap - 1) return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (w > 0) b->len += (size_t)w < b->cap - b->len ? (size_t)w : b->cap - b->len - 1;
}

static void fmt_num(char *out, size_t n, double d)
{
    if (d == ni_num_floor(d) && ni_num_abs(d) < 1e15)
        snprintf(out, n, "%.0f", d);
    else
        snprintf(out, n, "%.10g", d);
}

/* Appends v for a message: text quoted and cut at 60 bytes. */
static void sb_value(strbuf *b, const Comfyd__V1__Value *v)
{
    char num[40];
    switch (v->kind_case) {
    case COMFYD__V1__VALUE__KIND_TEXT:
        sb_add(b, "\"%.60s%s\"", v->text, strlen(v->text) > 60 ? "..." : "");
        break;
    case COMFYD__V1__VALUE__KIND_NUMBER:
        fmt_num(num, sizeof num, v->number);
        sb_add(b, "%s", num);
        break;
    case COMFYD__V1__VALUE__KIND_INTEGER:
        sb_add(b, "%lld", (long long)v->integer);
        break;
    case COMFYD__V1__VALUE__KIND_BOOLEAN:
        sb_add(b, "%s", v->boolean ? "true" : "false");
        break;
    default:
        sb_add(b, "nothing");
        break;
    }
}

static const char *kind_word(const Comfyd__V1__Value *v)
{
    switch (v->kind_case) {
    case COMFYD__V1__VALUE__KIND_TEXT:
        return "text";
    case COMFYD__V1__VALUE__KIND_NUMBER:
        return "a number";
    case COMFYD__V1__VALUE__KIND_INTEGER:
        return "an integer";
    case COMFYD__V1__VALUE__KIND_BOOLEAN:
        return "a boolean";
    default:
        return "nothing";
    }
}

static int reject(strbuf *b, const nodeinfo_input *in, const char *what, const Comfyd__V1__Value *v)
{
    sb_add(b, "%s %s, got ", in->name, what);
    if (v->kind_case == COMFYD__V1__VALUE__KIND_TEXT)
        sb_value(b, v);
    else
        sb_add(b, "%s ", kind_word(v)), sb_value(b, v);
    return NODEINFO_EVALUE;
}

static int check_range(strbuf *b, const nodeinfo_input *in, long double x,
                       const Comfyd__V1__Value *v)
{
    char lim[40];
    if (in->has_min && x < (long double)in->min) {
        fmt_num(lim, sizeof lim, in->min);
        sb_add(b, "%s must be >= %s, got ", in->name, lim);
        sb_value(b, v);
        return NODEINFO_EVALUE;
    }
    if (in->has_max && x > (long double)in->max) {
        fmt_num(lim, sizeof lim, in->max);
        sb_add(b, "%s must be <= %s, got ", in->name, lim);
        sb_value(b, v);
        return NODEINFO_EVALUE;
    }
    return NODEINFO_OK;
}

static int option_matches(const nodeinfo_value *o, const Comfyd__V1__Value *v)
{
    switch (v->kind_case) {
    case COMFYD__V1__VALUE__KIND_TEXT:
        return o->kind == NODEINFO_V_TEXT && !strcmp(o->s, v->text);
    case COMFYD__V1__VALUE__KIND_BOOLEAN:
        return o->kind == NODEINFO_V_BOOL && !o->b == !v->boolean;
    case COMFYD__V1__VALUE__KIND_INTEGER:
        return (o->kind == NODEINFO_V_INT && o->i == v->integer) ||
               (o->kind == NODEINFO_V_NUMBER && o->d == (double)v->integer);
    case COMFYD__V1__VALUE__KIND_NUMBER:
        return (o->kind == NODEINFO_V_INT && (double)o->i == v->number) ||
               (o->kind == NODEINFO_V_NUMBER && o->d == v->number);
    default:
        return 0;
    }
}

static int check_combo(strbuf *b, const nodeinfo_input *in, const Comfyd__V1__Value *v,
                       const char **sugg, size_t max_sugg, size_t *n_sugg)
{
    if (in->dynamic_options && v->kind_case == COMFYD__V1__VALUE__KIND_TEXT) return NODEINFO_OK;
    for (size_t i = 0; i < in->n_options; i++)
        if (option_matches(&in->options[i], v)) return NODEINFO_OK;
    if (in->n_options == 0) {
        sb_add(b, "%s has no allowed values (the list is empty: no matching files installed?)",
               in->name);
        return NODEINFO_EVALUE;
    }
    sb_add(b, "%s must be one of ", in->name);
    size_t listed =
        in->n_options < NODEINFO_MAX_LISTED_OPTIONS ? in->n_options : NODEINFO_MAX_LISTED_OPTIONS;
    for (size_t i = 0; i < listed; i++) {
        const nodeinfo_value *o = &in->options[i];
        const char *sep = i == 0 ? "" : ", ";
        if (o->kind == NODEINFO_V_TEXT)
            sb_add(b, "%s\"%.60s\"", sep, o->s);
        else
            sb_add(b, "%s%.40s", sep, o->s);
    }
    if (in->n_options > listed) sb_add(b, " and %zu more", in->n_options - listed);
    sb_add(b, " (%zu allowed values), got ", in->n_options);
    sb_value(b, v);
    if (sugg && max_sugg && v->kind_case == COMFYD__V1__VALUE__KIND_TEXT) {
        const char **names = malloc(in->n_options * sizeof *names);
        if (names) {
            for (size_t i = 0; i < in->n_options; i++)
                names[i] = in->options[i].s;
            *n_sugg = nodeinfo_closest(v->text, names, in->n_options, sugg, max_sugg);
            free(names);
        }
    }
    return NODEINFO_EVALUE;
}

int nodeinfo_check_value(const nodeinfo_input *in, const Comfyd__V1__Value *v, char *msg,
                         size_t msglen, const char **sugg, size_t max_sugg, size_t *n_sugg)
{
    strbuf b = {msg, msglen, 0};
    if (msg && msglen) msg[0] = 0;
    if (n_sugg) *n_sugg = 0;
    size_t dummy;
    if (!n_sugg) n_sugg = &dummy;
    if (!v || v->kind_case == COMFYD__V1__VALUE__KIND__NOT_SET) {
        sb_add(&b, "%s needs a value", in->name);
        return NODEINFO_EVALUE;
    }
    int is_num = v->kind_case == COMFYD__V1__VALUE__KIND_NUMBER ||
                 v->kind_case == COMFYD__V1__VALUE__KIND_INTEGER;
    if (!in->is_widget) {
        sb_add(&b, "%s is a %s input (a socket), not a widget", in->name, in->type);
        return NODEINFO_EVALUE;
    }
    switch (in->kind) {
    case NODEINFO_KIND_INT: {
        if (!is_num) return reject(&b, in, "is an INT widget and needs an integer", v);
        long double x;
        if (v->kind_case == COMFYD__V1__VALUE__KIND_INTEGER) {
            x = (long double)v->integer;
        } else {
            if (!isfinite(v->number) || v->number != ni_num_floor(v->number))
                return reject(&b, in, "is an INT widget and needs a whole number", v);
            x = (long double)v->number;
        }
        if (check_range(&b, in, x, v)) return NODEINFO_EVALUE;
        if (in->has_step) {
            long double base = in->has_min ? (long double)in->min : 0.0L;
            long double q = (x - base) / (long double)in->step;
            /* Beyond 2^62 steps the grid is finer than the numbers. */
            if (q > -0x1p62L && q < 0x1p62L) {
                long double f = (long double)(long long)q;
                if (f > q) f -= 1;
                long double r = q - f;
                /* Tolerance for steps and bounds that are not exact in binary. */
                if (r > 1e-6L && r < 1 - 1e-6L) {
                    char s1[40], s2[40], lo[40], hi[40];
                    fmt_num(s1, sizeof s1, in->step);
                    fmt_num(s2, sizeof s2, (double)base);
                    fmt_num(lo, sizeof lo, (double)(base + f * in->step));
                    fmt_num(hi, sizeof hi, (double)(base + (f + 1) * in->step));
                    sb_add(&b, "%s must be %s plus a multiple of %s (e.g. %s or %s), got ",
                           in->name, s2, s1, lo, hi);
                    sb_value(&b, v);
                    return NODEINFO_EVALUE;
                }
            }
        }
        return NODEINFO_OK;
    }
    case NODEINFO_KIND_FLOAT: {
        if (!is_num) return reject(&b, in, "is a FLOAT widget and needs a number", v);
        long double x = v->kind_case == COMFYD__V1__VALUE__KIND_INTEGER ? (long double)v->integer
                                                                        : (long double)v->number;
        if (!isfinite((double)x)) return reject(&b, in, "needs a finite number", v);
        return check_range(&b, in, x, v);
    }
    case NODEINFO_KIND_STRING:
        if (v->kind_case != COMFYD__V1__VALUE__KIND_TEXT)
            return reject(&b, in, "is a STRING widget and needs text", v);
        return NODEINFO_OK;
    case NODEINFO_KIND_BOOLEAN:
        if (v->kind_case != COMFYD__V1__VALUE__KIND_BOOLEAN)
            return reject(&b, in, "is a BOOLEAN widget and needs true or false", v);
        return NODEINFO_OK;
    case NODEINFO_KIND_COMBO:
        return check_combo(&b, in, v, sugg, max_sugg, n_sugg);
    case NODEINFO_KIND_LINK:
        break;
    }
    sb_add(&b, "%s is a %s input (a socket), not a widget", in->name, in->type);
    return NODEINFO_EVALUE;
}

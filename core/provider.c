/* provider: what every provider shares: the reply's cleanup and the JSON
 * re-encoding of tool schemas and arguments (provider.h). */
#include "provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

void prov_reply_clear(prov_reply *r)
{
    if (!r) return;
    free(r->content);
    for (size_t i = 0; i < r->n_tool_calls; i++) {
        free(r->tool_calls[i].id);
        free(r->tool_calls[i].name);
        free(r->tool_calls[i].arguments_json);
    }
    free(r->tool_calls);
    free(r->finish_reason);
    memset(r, 0, sizeof *r);
}

/* ---- JSON re-encoding ------------------------------------------------------ */

/* Parser callbacks that replay every event into a generator. */
typedef struct fwd {
    yajl_gen g;
    int depth;
    int too_deep;
} fwd;

static int f_null(void *ud)
{
    return yajl_gen_null(((fwd *)ud)->g) == yajl_gen_status_ok;
}

static int f_bool(void *ud, int v)
{
    return yajl_gen_bool(((fwd *)ud)->g, v) == yajl_gen_status_ok;
}

static int f_number(void *ud, const char *s, size_t n)
{
    return yajl_gen_number(((fwd *)ud)->g, s, n) == yajl_gen_status_ok;
}

static int f_string(void *ud, const unsigned char *s, size_t n)
{
    return yajl_gen_string(((fwd *)ud)->g, s, n) == yajl_gen_status_ok;
}

static int f_open(fwd *f)
{
    if (++f->depth > PROV_MAX_JSON_DEPTH) {
        f->too_deep = 1;
        return 0;
    }
    return 1;
}

static int f_start_map(void *ud)
{
    fwd *f = ud;
    return f_open(f) && yajl_gen_map_open(f->g) == yajl_gen_status_ok;
}

static int f_end_map(void *ud)
{
    fwd *f = ud;
    f->depth--;
    return yajl_gen_map_close(f->g) == yajl_gen_status_ok;
}

static int f_start_array(void *ud)
{
    fwd *f = ud;
    return f_open(f) && yajl_gen_array_open(f->g) == yajl_gen_status_ok;
}

static int f_end_array(void *ud)
{
    fwd *f = ud;
    f->depth--;
    return yajl_gen_array_close(f->g) == yajl_gen_status_ok;
}

static const yajl_callbacks fwd_callbacks = {
    .yajl_null = f_null,
    .yajl_boolean = f_bool,
    .yajl_number = f_number,
    .yajl_string = f_string,
    .yajl_start_map = f_start_map,
    .yajl_map_key = f_string,
    .yajl_end_map = f_end_map,
    .yajl_start_array = f_start_array,
    .yajl_end_array = f_end_array,
};

int prov_json_canonical(const char *text, size_t len, char **out, char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen) err[0] = 0;
    fwd f = {0};
    f.g = yajl_gen_alloc(NULL);
    yajl_handle h = f.g ? yajl_alloc(&fwd_callbacks, NULL, &f) : NULL;
    if (!h) {
        if (f.g) yajl_gen_free(f.g);
        if (err && errlen) snprintf(err, errlen, "out of memory");
        return -1;
    }
    yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
    if (st == yajl_status_ok) st = yajl_complete_parse(h);
    int rc = -1;
    if (st == yajl_status_ok) {
        const unsigned char *buf;
        size_t n;
        yajl_gen_get_buf(f.g, &buf, &n);
        *out = malloc(n + 1);
        if (*out) {
            memcpy(*out, buf, n);
            (*out)[n] = 0;
            rc = 0;
        } else if (err && errlen) {
            snprintf(err, errlen, "out of memory");
        }
    } else if (err && errlen) {
        if (f.too_deep) {
            snprintf(err, errlen, "nested more than %d levels deep", PROV_MAX_JSON_DEPTH);
        } else if (len == 0) {
            snprintf(err, errlen, "empty text");
        } else {
            /* yajl's message is multi-line with a context excerpt; keep its
             * first line only, which names the problem. */
            unsigned char *m = yajl_get_error(h, 0, NULL, 0);
            const char *msg = m ? (const char *)m : "parse error";
            size_t k = strcspn(msg, "\n");
            while (k > 0 && (msg[k - 1] == ' ' || msg[k - 1] == '.'))
                k--;
            snprintf(err, errlen, "%.*s", (int)k, msg);
            if (m) yajl_free_error(h, m);
        }
    }
    yajl_free(h);
    yajl_gen_free(f.g);
    return rc;
}

/* app_json: bounded JSON parsing, generation helpers and protobuf encoding
 * with the protocols' enum styles, shared by the endpoints (app_int.h), and
 * the HTTP error body (app.h). */
#include "app_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comfyd/v1/skill.pb-c.h"
#include "jsonpb.h"
#include "jsonscan.h"
#include "jsontree.h"
#include "text.h"

/* ==== JSON helpers ==== */

/* Bounds what yajl_tree would build (its free recurses per level) and
 * refuses what would not survive a re-emit: NUL and lone surrogates. Syntax
 * errors are left to yajl. */
static int json_scan(const char *s, size_t len, char *err, size_t errlen)
{
    const jsonscan_limits lim = {.max_depth = JSONPB_MAX_DEPTH,
                                 .max_values = 2 * (size_t)JSONPB_MAX_TOTAL_ELEMENTS,
                                 .count_keys = 1,
                                 .strict = 1};
    char why[64];
    switch (jsonscan(s, len, &lim, why, sizeof why)) {
    case JSONSCAN_OK:
        return APP_OK;
    case JSONSCAN_EDEPTH:
        return text_err(err, errlen, APP_E_TOOBIG, "JSON nested deeper than %d levels",
                        JSONPB_MAX_DEPTH);
    case JSONSCAN_EVALUES:
        return text_err(err, errlen, APP_E_TOOBIG, "JSON with more than %zu values",
                        lim.max_values);
    default:
        return text_err(err, errlen, APP_E_JSON, "invalid JSON: %s", why);
    }
}

int app__json_parse(const char *json, size_t len, yajl_val *out, char *err, size_t errlen)
{
    *out = NULL;
    if (len > JSONPB_MAX_INPUT_BYTES)
        return text_err(err, errlen, APP_E_TOOBIG, "JSON larger than %d bytes",
                        JSONPB_MAX_INPUT_BYTES);
    int rc = json_scan(json, len, err, errlen);
    if (rc) return rc;
    char *copy = malloc(len + 1);
    if (!copy) return text_err(err, errlen, APP_E_NOMEM, "out of memory");
    memcpy(copy, json, len);
    copy[len] = '\0';
    char ebuf[256] = "";
    yajl_val v = yajl_tree_parse(copy, ebuf, sizeof ebuf);
    free(copy);
    if (!v) {
        if (!strcmp(ebuf, "out of memory"))
            return text_err(err, errlen, APP_E_NOMEM, "out of memory");
        ebuf[strcspn(ebuf, "\n")] = '\0'; /* yajl adds the input around the error */
        const char *m = ebuf;
        if (!strncmp(m, "parse error: ", 13)) m += 13;
        if (!*m) m = len ? "syntax error" : "empty body";
        return text_err(err, errlen, APP_E_JSON, "invalid JSON: %s", m);
    }
    *out = v;
    return APP_OK;
}

yajl_val app__json_get(yajl_val o, const char *key)
{
    if (!YAJL_IS_OBJECT(o)) return NULL;
    for (size_t i = 0; i < o->u.object.len; i++)
        if (!strcmp(o->u.object.keys[i], key)) return o->u.object.values[i];
    return NULL;
}

int app__key_in(const char *key, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(key, names[i])) return 1;
    return 0;
}

int app__json_emit(yajl_gen g, yajl_val v)
{
    return jsontree_gen(g, v) == yajl_gen_status_ok ? 0 : -1;
}

yajl_gen app__gen(void)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g) yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    return g;
}

int app__gen_finish(yajl_gen g, char **out, size_t *len)
{
    const unsigned char *buf;
    size_t n;
    *out = NULL;
    *len = 0;
    if (yajl_gen_get_buf(g, &buf, &n) != yajl_gen_status_ok) {
        yajl_gen_free(g);
        return APP_E_NOMEM;
    }
    char *s = malloc(n + 1);
    if (!s) {
        yajl_gen_free(g);
        return APP_E_NOMEM;
    }
    memcpy(s, buf, n);
    s[n] = '\0';
    yajl_gen_free(g);
    *out = s;
    *len = n;
    return APP_OK;
}

/* Writes s as a JSON string; bytes that are not UTF-8 (a status text from
 * elsewhere) become '?' so the message stays valid. */
int app__gen_str(yajl_gen g, const char *s)
{
    if (!s) s = "";
    size_t n = strlen(s);
    if (text_utf8_valid(s, n))
        return yajl_gen_string(g, (const unsigned char *)s, n) == yajl_gen_status_ok ? 0 : -1;
    char *c = text_dupn(s, n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)c[i] >= 0x80) c[i] = '?';
    int rc = yajl_gen_string(g, (const unsigned char *)c, n) == yajl_gen_status_ok ? 0 : -1;
    free(c);
    return rc;
}

int app__gen_raw_value(yajl_gen g, const char *t)
{
    yajl_val v = NULL;
    if (app__json_parse(t, strlen(t), &v, NULL, 0)) return -1;
    int rc = app__json_emit(g, v);
    yajl_tree_free(v);
    return rc;
}

int app__gen_cstr(yajl_gen g, const char *k)
{
    return yajl_gen_string(g, (const unsigned char *)k, strlen(k)) == yajl_gen_status_ok ? 0 : -1;
}

static const ProtobufCMessageDescriptor *const flatten_list[] = {
    &comfyd__v1__command__descriptor,
    &comfyd__v1__report_editor_request__descriptor,
    &comfyd__v1__attach_canvas_response__descriptor,
};

int app__from_jsonpb(int rc)
{
    switch (rc) {
    case JSONPB_OK:
        return APP_OK;
    case JSONPB_ESYNTAX:
    case JSONPB_EUTF8:
        return APP_E_JSON;
    case JSONPB_ELIMIT:
        return APP_E_TOOBIG;
    case JSONPB_ENOMEM:
        return APP_E_NOMEM;
    default:
        return APP_E_INPUT;
    }
}

int app__decode_gen(yajl_gen g, const ProtobufCMessageDescriptor *d, int ignore_unknown,
                    ProtobufCMessage **out, char *err, size_t errlen)
{
    char *text;
    size_t len;
    *out = NULL;
    if (app__gen_finish(g, &text, &len)) return text_err(err, errlen, APP_E_NOMEM, "out of memory");
    jsonpb_opts o = {0};
    o.flatten = flatten_list;
    o.n_flatten = sizeof flatten_list / sizeof flatten_list[0];
    o.ignore_unknown_fields = ignore_unknown;
    int rc = jsonpb_decode(d, text, len, &o, out, err, errlen);
    free(text);
    return app__from_jsonpb(rc);
}

int app__emit_members(yajl_gen g, yajl_val obj, const char *const *skip, size_t n_skip)
{
    for (size_t i = 0; i < obj->u.object.len; i++) {
        const char *k = obj->u.object.keys[i];
        if (app__key_in(k, skip, n_skip)) continue;
        if (app__gen_cstr(g, k) || app__json_emit(g, obj->u.object.values[i])) return -1;
    }
    return 0;
}

int app__decode_obj(yajl_val obj, const char *const *skip, size_t n_skip,
                    int (*extra_fn)(yajl_gen g, void *ud), void *ud,
                    const ProtobufCMessageDescriptor *d, int ignore_unknown, ProtobufCMessage **out,
                    char *err, size_t errlen)
{
    *out = NULL;
    if (!YAJL_IS_OBJECT(obj)) return text_err(err, errlen, APP_E_INPUT, "expected a JSON object");
    yajl_gen g = app__gen();
    if (!g) return text_err(err, errlen, APP_E_NOMEM, "out of memory");
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || app__emit_members(g, obj, skip, n_skip);
    if (!bad && extra_fn) bad = extra_fn(g, ud);
    if (!bad) bad = yajl_gen_map_close(g) != yajl_gen_status_ok;
    if (bad) {
        yajl_gen_free(g);
        return text_err(err, errlen, APP_E_NOMEM, "cannot re-encode the request");
    }
    return app__decode_gen(g, d, ignore_unknown, out, err, errlen);
}

/* ---- encoding with enum styles ---- */

struct app_enum_styles {
    jsonpb_enum_style style;
    const jsonpb_enum_override *over;
    size_t n_over;
};

static const jsonpb_enum_override graph_over[] = {
    {&comfyd__v1__graph_error_code__descriptor, JSONPB_ENUM_SHORT},
};
static const struct app_enum_styles graph_styles = {JSONPB_ENUM_FULL, graph_over, 1};
const app_enum_style app__style_graph = &graph_styles;

static const jsonpb_enum_override session_over[] = {
    {&comfyd__v1__log_level__descriptor, JSONPB_ENUM_SHORT},
};
static const struct app_enum_styles session_styles = {JSONPB_ENUM_LOWER, session_over, 1};
const app_enum_style app__style_session = &session_styles;

void app__encode_opts(jsonpb_opts *o, app_enum_style style)
{
    memset(o, 0, sizeof *o);
    o->emit_defaults = 1;
    o->flatten = flatten_list;
    o->n_flatten = sizeof flatten_list / sizeof flatten_list[0];
    if (style) {
        o->enum_style = style->style;
        o->enum_overrides = style->over;
        o->n_enum_overrides = style->n_over;
    }
}

int app__encode(yajl_gen g, const ProtobufCMessage *m, app_enum_style style, int inside_map)
{
    jsonpb_opts o;
    app__encode_opts(&o, style);
    int rc = inside_map ? jsonpb_encode_fields_gen(g, m, &o, NULL, 0)
                        : jsonpb_encode_gen(g, m, &o, NULL, 0);
    return rc ? -1 : 0;
}

int app_error_body(const char *message, const char *code, const ProtobufCMessage *resp, char **out,
                   size_t *len)
{
    yajl_gen g = app__gen();
    if (!g) return APP_E_NOMEM;
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || app__gen_cstr(g, "error") ||
              app__gen_str(g, message);
    if (!bad && code) bad = app__gen_cstr(g, "code") || app__gen_str(g, code);
    if (!bad && resp) bad = app__encode(g, resp, app__style_graph, 1);
    if (!bad) bad = yajl_gen_map_close(g) != yajl_gen_status_ok;
    if (bad) {
        yajl_gen_free(g);
        return APP_E_NOMEM;
    }
    return app__gen_finish(g, out, len);
}

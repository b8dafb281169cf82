/* mcp: JSON-RPC and MCP messages, schemas from descriptors, HTTP helpers
 * and sessions, without I/O (see mcp.h). */
#include "mcp.h"
#include "jsonpb.h"
#include "jsontree.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <yajl/yajl_gen.h>

#include "jsonscan.h"
#include "text.h"

/* ==== versions ==== */

/* Oldest first; the last is the newest. */
static const char *const versions[] = {"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"};
#define N_VERSIONS (sizeof versions / sizeof versions[0])

/* Index of v in versions, -1 when not served. */
static int version_index(const char *v, size_t len)
{
    if (!v) return -1;
    for (size_t i = 0; i < N_VERSIONS; i++)
        if (strlen(versions[i]) == len && memcmp(versions[i], v, len) == 0) return (int)i;
    return -1;
}

const char *mcp_latest_version(void)
{
    return versions[N_VERSIONS - 1];
}

int mcp_version_supported(const char *v, size_t len)
{
    return version_index(v, len) >= 0;
}

const char *mcp_negotiate(const char *requested)
{
    int i = requested ? version_index(requested, strlen(requested)) : -1;
    return i >= 0 ? versions[i] : mcp_latest_version();
}

int mcp_version_batches(const char *v)
{
    return v && strcmp(v, "2025-03-26") == 0;
}

int mcp_version_annotations(const char *v)
{
    return v && version_index(v, strlen(v)) >= 1;
}

int mcp_version_elicitation(const char *v)
{
    return mcp_version_structured(v);
}

int mcp_version_structured(const char *v)
{
    return v && version_index(v, strlen(v)) >= 2;
}

/* ==== parsing ==== */

/* Bounds what yajl_tree builds and refuses what it would accept but JSON
 * does not (comments) or what would not survive a re-emit (NUL, lone
 * surrogates). Syntax errors are left to yajl. */
static int scan(const char *s, size_t len, char *err, size_t errlen)
{
    static const jsonscan_limits lim = {
        .max_depth = MCP_MAX_DEPTH, .max_values = MCP_MAX_VALUES, .count_keys = 1, .strict = 1};
    char why[64];
    switch (jsonscan(s, len, &lim, why, sizeof why)) {
    case JSONSCAN_OK:
        return MCP_OK;
    case JSONSCAN_EDEPTH:
        return text_err(err, errlen, MCP_E_TOOBIG, "nested deeper than %d levels", MCP_MAX_DEPTH);
    case JSONSCAN_EVALUES:
        return text_err(err, errlen, MCP_E_TOOBIG, "more than %d values", MCP_MAX_VALUES);
    default:
        return text_err(err, errlen, MCP_E_PARSE, "%s", why);
    }
}

int mcp_parse(const char *json, size_t len, yajl_val *out, char *err, size_t errlen)
{
    if (!out) return MCP_E_ARG;
    *out = NULL;
    if (!json && len) return MCP_E_ARG;
    if (len > MCP_MAX_MESSAGE_BYTES)
        return text_err(err, errlen, MCP_E_TOOBIG, "message larger than %d bytes",
                        MCP_MAX_MESSAGE_BYTES);
    int rc = scan(json, len, err, errlen);
    if (rc) return rc;
    if (!text_utf8_valid(json, len)) return text_err(err, errlen, MCP_E_PARSE, "invalid UTF-8");
    char *copy = malloc(len + 1);
    if (!copy) return text_err(err, errlen, MCP_E_NOMEM, "out of memory");
    if (len) memcpy(copy, json, len);
    copy[len] = '\0';
    char ebuf[256] = "";
    yajl_val v = yajl_tree_parse(copy, ebuf, sizeof ebuf);
    free(copy);
    if (!v) {
        if (!strcmp(ebuf, "out of memory")) return text_err(err, errlen, MCP_E_NOMEM, "%s", ebuf);
        ebuf[strcspn(ebuf, "\n")] = '\0'; /* yajl adds the input around the error */
        const char *m = ebuf;
        if (!strncmp(m, "parse error: ", 13)) m += 13;
        if (!*m) m = len ? "syntax error" : "empty message";
        return text_err(err, errlen, MCP_E_PARSE, "%s", m);
    }
    *out = v;
    return MCP_OK;
}

static yajl_val get(yajl_val o, const char *key)
{
    if (!YAJL_IS_OBJECT(o)) return NULL;
    for (size_t i = 0; i < o->u.object.len; i++)
        if (!strcmp(o->u.object.keys[i], key)) return o->u.object.values[i];
    return NULL;
}

static int has_key(yajl_val o, const char *key)
{
    if (!YAJL_IS_OBJECT(o)) return 0;
    for (size_t i = 0; i < o->u.object.len; i++)
        if (!strcmp(o->u.object.keys[i], key)) return 1;
    return 0;
}

static yajl_gen gen_new(void)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g) yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    return g;
}

/* Copies g's text to *out and frees g; bad (a failed write) gives
 * MCP_E_NOMEM. */
static int gen_finish(yajl_gen g, int bad, char **out, size_t *len)
{
    *out = NULL;
    if (len) *len = 0;
    if (!g) return MCP_E_NOMEM;
    const unsigned char *b;
    size_t n;
    int rc = MCP_E_NOMEM;
    if (!bad && yajl_gen_get_buf(g, &b, &n) == yajl_gen_status_ok) {
        *out = text_dupn((const char *)b, n);
        if (*out) {
            if (len) *len = n;
            rc = MCP_OK;
        }
    }
    yajl_gen_free(g);
    return rc;
}

static int g_str(yajl_gen g, const char *s)
{
    s = s ? s : "";
    return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) != yajl_gen_status_ok;
}

static int g_kv(yajl_gen g, const char *k, const char *v)
{
    return g_str(g, k) || g_str(g, v);
}

static int g_bool(yajl_gen g, int b)
{
    return yajl_gen_bool(g, b != 0) != yajl_gen_status_ok;
}

static int g_u64(yajl_gen g, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    return yajl_gen_number(g, num, (size_t)n) != yajl_gen_status_ok;
}

/* Writes v (a parsed value) into g; numbers verbatim. */
static int g_value(yajl_gen g, yajl_val v)
{
    return jsontree_gen(g, v) != yajl_gen_status_ok;
}

int mcp_json_text(yajl_val v, char **out, size_t *len)
{
    if (!out || !v) return MCP_E_ARG;
    yajl_gen g = gen_new();
    return gen_finish(g, !g || g_value(g, v), out, len);
}

/* The JSON text of an id (a string or an integer; JSON-RPC also allows
 * null, which MCP forbids) into out. Returns 0 or -1. */
static int id_text(yajl_val id, char out[MCP_MAX_ID_BYTES + 1])
{
    if (!YAJL_IS_STRING(id) && !YAJL_IS_INTEGER(id)) return -1;
    yajl_gen g = gen_new();
    char *t = NULL;
    size_t n = 0;
    if (gen_finish(g, !g || g_value(g, id), &t, &n) != MCP_OK) return -1;
    int rc = -1;
    if (n <= MCP_MAX_ID_BYTES) {
        memcpy(out, t, n + 1);
        rc = 0;
    }
    free(t);
    return rc;
}

int mcp_message(yajl_val v, mcp_msg *out, char *err, size_t errlen)
{
    if (!out) return MCP_E_ARG;
    memset(out, 0, sizeof *out);
    if (!YAJL_IS_OBJECT(v))
        return text_err(err, errlen, MCP_E_INVALID, "a JSON-RPC message is a JSON object");
    yajl_val id = get(v, "id");
    int id_ok = id && id_text(id, out->id) == 0;
    if (!id_ok) out->id[0] = '\0';
    yajl_val jr = get(v, "jsonrpc");
    if (!YAJL_IS_STRING(jr) || strcmp(jr->u.string, "2.0") != 0)
        return text_err(err, errlen, MCP_E_INVALID, "jsonrpc must be \"2.0\"");
    if (id && !id_ok)
        return text_err(err, errlen, MCP_E_INVALID,
                        "id must be a string or an integer (at most %d bytes)", MCP_MAX_ID_BYTES);
    yajl_val method = get(v, "method");
    if (method) {
        if (!YAJL_IS_STRING(method) || !method->u.string[0] ||
            strlen(method->u.string) > MCP_MAX_METHOD_BYTES)
            return text_err(err, errlen, MCP_E_INVALID, "method must be a non-empty string");
        if (has_key(v, "result") || has_key(v, "error"))
            return text_err(err, errlen, MCP_E_INVALID, "a request has no result or error member");
        yajl_val params = get(v, "params");
        if (params && !YAJL_IS_OBJECT(params) && !YAJL_IS_NULL(params))
            return text_err(err, errlen, MCP_E_INVALID, "params must be an object");
        out->method = method->u.string;
        out->params = YAJL_IS_OBJECT(params) ? params : NULL;
        out->kind = id ? MCP_MSG_REQUEST : MCP_MSG_NOTIFICATION;
        return MCP_OK;
    }
    int has_result = has_key(v, "result"), has_error = has_key(v, "error");
    if (has_result + has_error != 1)
        return text_err(err, errlen, MCP_E_INVALID,
                        "a message needs a method, or exactly one of result and error");
    if (has_error) {
        yajl_val e = get(v, "error");
        if (!YAJL_IS_OBJECT(e) || !YAJL_IS_INTEGER(get(e, "code")) ||
            !YAJL_IS_STRING(get(e, "message")))
            return text_err(err, errlen, MCP_E_INVALID,
                            "error must be an object with an integer code and a message");
    } else if (!id) {
        return text_err(err, errlen, MCP_E_INVALID, "a result needs an id");
    }
    out->kind = MCP_MSG_RESPONSE;
    return MCP_OK;
}

/* ==== answers ==== */

/* Writes JSON text t (trusted) as a value. */
static int g_raw(yajl_gen g, const char *t)
{
    /* yajl has no raw insert; parse and re-emit (t is ours: small and
     * well-formed). */
    char ebuf[64];
    yajl_val v = yajl_tree_parse(t, ebuf, sizeof ebuf);
    if (!v) return 1;
    int bad = g_value(g, v);
    yajl_tree_free(v);
    return bad;
}

/* The envelope head {"jsonrpc":"2.0","id":ID (NULL: none; "": null). */
static int head(yajl_gen g, const char *id, int with_id)
{
    int bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "jsonrpc", "2.0");
    if (!bad && with_id) {
        bad = g_str(g, "id");
        if (!bad) bad = id && *id ? g_raw(g, id) : yajl_gen_null(g) != yajl_gen_status_ok;
    }
    return bad;
}

int mcp_result(const char *id, const char *result, char **out, size_t *len)
{
    if (!out || !id || !*id || !result) return MCP_E_ARG;
    yajl_gen g = gen_new();
    int bad = !g || head(g, id, 1) || g_str(g, "result") || g_raw(g, result) ||
              yajl_gen_map_close(g) != yajl_gen_status_ok;
    return gen_finish(g, bad, out, len);
}

int mcp_error(const char *id, int code, const char *message, const char *data, char **out,
              size_t *len)
{
    if (!out) return MCP_E_ARG;
    yajl_gen g = gen_new();
    int bad = !g || head(g, id, 1) || g_str(g, "error") ||
              yajl_gen_map_open(g) != yajl_gen_status_ok || g_str(g, "code") ||
              yajl_gen_integer(g, code) != yajl_gen_status_ok ||
              g_kv(g, "message", message ? message : "");
    if (!bad && data) bad = g_str(g, "data") || g_raw(g, data);
    bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok ||
          yajl_gen_map_close(g) != yajl_gen_status_ok;
    if (bad && g && message) {
        /* A message that is not UTF-8 (from a peer): say so instead. */
        yajl_gen_free(g);
        return mcp_error(id, code, NULL, data, out, len);
    }
    return gen_finish(g, bad, out, len);
}

int mcp_notification(const char *method, const char *params, char **out, size_t *len)
{
    if (!out || !method) return MCP_E_ARG;
    yajl_gen g = gen_new();
    int bad = !g || head(g, NULL, 0) || g_kv(g, "method", method);
    if (!bad && params) bad = g_str(g, "params") || g_raw(g, params);
    bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    return gen_finish(g, bad, out, len);
}

int mcp_progress(const char *token, uint64_t progress, uint64_t total, const char *message,
                 char **out, size_t *len)
{
    if (!out || !token || !*token) return MCP_E_ARG;
    yajl_gen g = gen_new();
    int bad = !g || head(g, NULL, 0) || g_kv(g, "method", "notifications/progress") ||
              g_str(g, "params") || yajl_gen_map_open(g) != yajl_gen_status_ok ||
              g_str(g, "progressToken") || g_raw(g, token) || g_str(g, "progress") ||
              g_u64(g, progress);
    if (!bad && total) bad = g_str(g, "total") || g_u64(g, total);
    if (!bad && message) bad = g_kv(g, "message", message);
    bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok ||
          yajl_gen_map_close(g) != yajl_gen_status_ok;
    return gen_finish(g, bad, out, len);
}

int mcp_initialize_params(yajl_val params, const char **version, char *client, size_t client_cap,
                          char *err, size_t errlen)
{
    if (!version || !client || !client_cap) return MCP_E_ARG;
    *version = NULL;
    client[0] = '\0';
    if (!YAJL_IS_OBJECT(params))
        return text_err(err, errlen, MCP_E_PARAMS, "initialize needs params");
    yajl_val pv = get(params, "protocolVersion");
    if (!YAJL_IS_STRING(pv))
        return text_err(err, errlen, MCP_E_PARAMS, "params.protocolVersion must be a string");
    yajl_val caps = get(params, "capabilities");
    if (caps && !YAJL_IS_OBJECT(caps))
        return text_err(err, errlen, MCP_E_PARAMS, "params.capabilities must be an object");
    yajl_val info = get(params, "clientInfo");
    if (info && !YAJL_IS_OBJECT(info))
        return text_err(err, errlen, MCP_E_PARAMS, "params.clientInfo must be an object");
    yajl_val name = get(info, "name");
    if (name && !YAJL_IS_STRING(name))
        return text_err(err, errlen, MCP_E_PARAMS, "params.clientInfo.name must be a string");
    if (name) {
        /* Printable ASCII only: it goes into log lines. */
        size_t k = 0;
        for (const char *p = name->u.string; *p && k + 1 < client_cap; p++)
            client[k++] = *p >= 0x20 && *p < 0x7f ? *p : '?';
        client[k] = '\0';
    }
    *version = mcp_negotiate(pv->u.string);
    return MCP_OK;
}

int mcp_client_elicits(yajl_val params)
{
    yajl_val caps = YAJL_IS_OBJECT(params) ? get(params, "capabilities") : NULL;
    yajl_val e = YAJL_IS_OBJECT(caps) ? get(caps, "elicitation") : NULL;
    return YAJL_IS_OBJECT(e);
}

int mcp_initialize_result(const char *version, const mcp_server_info *info, char **out, size_t *len)
{
    if (!out || !version || !info || !info->name || !info->version) return MCP_E_ARG;
    yajl_gen g = gen_new();
    int bad = !g || yajl_gen_map_open(g) != yajl_gen_status_ok ||
              g_kv(g, "protocolVersion", version) || g_str(g, "capabilities") ||
              yajl_gen_map_open(g) != yajl_gen_status_ok || g_str(g, "tools") ||
              yajl_gen_map_open(g) != yajl_gen_status_ok || g_str(g, "listChanged") ||
              g_bool(g, 0) || yajl_gen_map_close(g) != yajl_gen_status_ok ||
              yajl_gen_map_close(g) != yajl_gen_status_ok || g_str(g, "serverInfo") ||
              yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "name", info->name);
    if (!bad && info->title && mcp_version_structured(version)) bad = g_kv(g, "title", info->title);
    bad = bad || g_kv(g, "version", info->version) || yajl_gen_map_close(g) != yajl_gen_status_ok;
    if (!bad && info->instructions) bad = g_kv(g, "instructions", info->instructions);
    bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    return gen_finish(g, bad, out, len);
}

int mcp_tools_list_result(const mcp_tool *tools, size_t n, const char *version, char **out,
                          size_t *len)
{
    if (!out || (!tools && n)) return MCP_E_ARG;
    int structured = mcp_version_structured(version);
    int annotations = mcp_version_annotations(version);
    yajl_gen g = gen_new();
    int bad = !g || yajl_gen_map_open(g) != yajl_gen_status_ok || g_str(g, "tools") ||
              yajl_gen_array_open(g) != yajl_gen_status_ok;
    for (size_t i = 0; !bad && i < n; i++) {
        const mcp_tool *t = &tools[i];
        bad = yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "name", t->name);
        if (!bad && structured && t->title) bad = g_kv(g, "title", t->title);
        bad = bad || g_kv(g, "description", t->description) || g_str(g, "inputSchema") ||
              g_raw(g, t->input_schema);
        if (!bad && structured && t->output_schema)
            bad = g_str(g, "outputSchema") || g_raw(g, t->output_schema);
        if (!bad && annotations) {
            bad = g_str(g, "annotations") || yajl_gen_map_open(g) != yajl_gen_status_ok;
            if (!bad && structured && t->title) bad = g_kv(g, "title", t->title);
            bad = bad || g_str(g, "readOnlyHint") || g_bool(g, t->read_only);
            if (!bad && !t->read_only)
                bad = g_str(g, "destructiveHint") || g_bool(g, t->destructive) ||
                      g_str(g, "idempotentHint") || g_bool(g, t->idempotent);
            bad = bad || g_str(g, "openWorldHint") || g_bool(g, t->open_world) ||
                  yajl_gen_map_close(g) != yajl_gen_status_ok;
        }
        bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
    }
    bad = bad || yajl_gen_array_close(g) != yajl_gen_status_ok ||
          yajl_gen_map_close(g) != yajl_gen_status_ok;
    return gen_finish(g, bad, out, len);
}

int mcp_call_params(yajl_val params, const char **name, yajl_val *arguments, char *token,
                    size_t token_cap, char *err, size_t errlen)
{
    if (!name || !arguments || !token || !token_cap) return MCP_E_ARG;
    *name = NULL;
    *arguments = NULL;
    token[0] = '\0';
    if (!YAJL_IS_OBJECT(params))
        return text_err(err, errlen, MCP_E_PARAMS, "tools/call needs params with a name");
    yajl_val nv = get(params, "name");
    if (!YAJL_IS_STRING(nv) || !nv->u.string[0])
        return text_err(err, errlen, MCP_E_PARAMS, "params.name must be a tool name");
    yajl_val av = get(params, "arguments");
    if (av && !YAJL_IS_OBJECT(av) && !YAJL_IS_NULL(av))
        return text_err(err, errlen, MCP_E_PARAMS, "params.arguments must be an object");
    yajl_val meta = get(params, "_meta");
    if (meta && !YAJL_IS_OBJECT(meta) && !YAJL_IS_NULL(meta))
        return text_err(err, errlen, MCP_E_PARAMS, "params._meta must be an object");
    yajl_val pt = get(meta, "progressToken");
    if (pt && !YAJL_IS_NULL(pt)) {
        char t[MCP_MAX_ID_BYTES + 1];
        if (id_text(pt, t) != 0 || strlen(t) >= token_cap)
            return text_err(err, errlen, MCP_E_PARAMS,
                            "params._meta.progressToken must be a short string or an integer");
        memcpy(token, t, strlen(t) + 1);
    }
    *name = nv->u.string;
    *arguments = YAJL_IS_OBJECT(av) ? av : NULL;
    return MCP_OK;
}

int mcp_tool_result(const char *text, const char *structured, int is_error, const char *version,
                    char **out, size_t *len)
{
    if (!out || !text) return MCP_E_ARG;
    yajl_gen g = gen_new();
    int bad = !g || yajl_gen_map_open(g) != yajl_gen_status_ok || g_str(g, "content") ||
              yajl_gen_array_open(g) != yajl_gen_status_ok ||
              yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "type", "text") ||
              g_kv(g, "text", text) || yajl_gen_map_close(g) != yajl_gen_status_ok ||
              yajl_gen_array_close(g) != yajl_gen_status_ok;
    if (!bad && structured && mcp_version_structured(version))
        bad = g_str(g, "structuredContent") || g_raw(g, structured);
    bad = bad || g_str(g, "isError") || g_bool(g, is_error) ||
          yajl_gen_map_close(g) != yajl_gen_status_ok;
    return gen_finish(g, bad, out, len);
}

int mcp_image_result(const void *data, size_t len, const char *mime, const char *text, char **out,
                     size_t *out_len)
{
    if (!out || !data || !mime || !text || len > MCP_MAX_IMAGE_BYTES) return MCP_E_ARG;
    size_t b64_len = 4 * ((len + 2) / 3);
    char *b64 = malloc(b64_len + 1);
    if (!b64) return MCP_E_NOMEM;
    EVP_EncodeBlock((unsigned char *)b64, data, (int)len);
    yajl_gen g = gen_new();
    int bad = !g || yajl_gen_map_open(g) != yajl_gen_status_ok || g_str(g, "content") ||
              yajl_gen_array_open(g) != yajl_gen_status_ok ||
              yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "type", "image") ||
              g_kv(g, "data", b64) || g_kv(g, "mimeType", mime) ||
              yajl_gen_map_close(g) != yajl_gen_status_ok ||
              yajl_gen_map_open(g) != yajl_gen_status_ok || g_kv(g, "type", "text") ||
              g_kv(g, "text", text) || yajl_gen_map_close(g) != yajl_gen_status_ok ||
              yajl_gen_array_close(g) != yajl_gen_status_ok || g_str(g, "isError") ||
              g_bool(g, 0) || yajl_gen_map_close(g) != yajl_gen_status_ok;
    free(b64);
    return gen_finish(g, bad, out, out_len);
}

int mcp_sse_event(const char *json, size_t json_len, char **out, size_t *len)
{
    static const char pre[] = "event: message\ndata: ";
    if (!out || !json || memchr(json, '\n', json_len) || memchr(json, '\r', json_len))
        return MCP_E_ARG;
    size_t n = sizeof pre - 1 + json_len + 2;
    char *b = malloc(n + 1);
    if (!b) return MCP_E_NOMEM;
    memcpy(b, pre, sizeof pre - 1);
    memcpy(b + sizeof pre - 1, json, json_len);
    memcpy(b + sizeof pre - 1 + json_len, "\n\n", 3);
    *out = b;
    if (len) *len = n;
    return MCP_OK;
}

/* ==== schemas from descriptors ==== */

int mcp_schema_from_descriptor(const ProtobufCMessageDescriptor *d, const mcp_schema_opts *opts,
                               char **out, size_t *len)
{
    jsonpb_schema_opts o = {0};
    if (opts) {
        o.docs = opts->docs;
        o.n_docs = opts->n_docs;
        o.skip = opts->skip;
        o.n_skip = opts->n_skip;
        o.required = opts->required;
        o.n_required = opts->n_required;
        o.extra_properties = opts->extra_properties;
    }
    switch (jsonpb_schema(d, &o, out, len)) {
    case JSONPB_SCHEMA_OK:
        return MCP_OK;
    case JSONPB_SCHEMA_ENOMEM:
        return MCP_E_NOMEM;
    default:
        return MCP_E_ARG;
    }
}

/* ==== HTTP helpers ==== */

/* 1 when the media range r[0..n) (parameters stripped, trimmed) matches
 * type/subtype. */
static int range_matches(const char *r, size_t n, const char *type)
{
    size_t tl = strlen(type);
    if (n == tl && !strncasecmp(r, type, n)) return 1;
    if (n == 3 && !strncmp(r, "*/*", 3)) return 1;
    const char *slash = strchr(type, '/');
    size_t major = (size_t)(slash - type);
    return n == major + 2 && !strncasecmp(r, type, major + 1) && r[major + 1] == '*';
}

void mcp_accept(const char *accept, size_t len, int *json, int *sse)
{
    *json = *sse = 0;
    if (!accept) {
        *json = *sse = 1;
        return;
    }
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && accept[j] != ',')
            j++;
        /* One element: range *(; param). */
        size_t a = i, semi;
        while (a < j && (accept[a] == ' ' || accept[a] == '\t'))
            a++;
        semi = a;
        while (semi < j && accept[semi] != ';')
            semi++;
        size_t b = semi;
        while (b > a && (accept[b - 1] == ' ' || accept[b - 1] == '\t'))
            b--;
        /* q=0 means "not acceptable". */
        int refused = 0;
        for (size_t p = semi; p < j; p++) {
            if (accept[p] != ';') continue;
            size_t q = p + 1;
            while (q < j && (accept[q] == ' ' || accept[q] == '\t'))
                q++;
            if (q + 1 < j && (accept[q] == 'q' || accept[q] == 'Q') && accept[q + 1] == '=') {
                q += 2;
                int zero = q < j && accept[q] == '0';
                for (size_t k = q + 1; zero && k < j && accept[k] != ';'; k++)
                    if (accept[k] != '.' && accept[k] != '0' && accept[k] != ' ') zero = 0;
                refused = zero;
            }
        }
        if (!refused) {
            if (range_matches(accept + a, b - a, "application/json")) *json = 1;
            if (range_matches(accept + a, b - a, "text/event-stream")) *sse = 1;
        }
        i = j + 1;
    }
}

int mcp_session_id_valid(const char *s, size_t len)
{
    if (!s || len != MCP_SESSION_ID_LEN) return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

/* ==== sessions ==== */

struct mcp_sessions {
    mcp_session *s; /* max slots; id[0] == 0 marks a free one */
    size_t max, count;
    int64_t idle_ms;
};

int mcp_sessions_create(mcp_sessions **out, size_t max, int64_t idle_ms)
{
    if (!out) return MCP_E_ARG;
    *out = NULL;
    if (!max || idle_ms <= 0) return MCP_E_ARG;
    mcp_sessions *t = calloc(1, sizeof *t);
    if (!t) return MCP_E_NOMEM;
    t->s = calloc(max, sizeof *t->s);
    if (!t->s) {
        free(t);
        return MCP_E_NOMEM;
    }
    t->max = max;
    t->idle_ms = idle_ms;
    *out = t;
    return MCP_OK;
}

void mcp_sessions_destroy(mcp_sessions *t)
{
    if (!t) return;
    free(t->s);
    free(t);
}

static void drop(mcp_sessions *t, mcp_session *s)
{
    memset(s, 0, sizeof *s);
    t->count--;
}

int mcp_sessions_add(mcp_sessions *t, const uint8_t random[MCP_SESSION_ID_BYTES],
                     const char *version, int64_t now_ms, mcp_session **out)
{
    if (!t || !random || !version || !out || strlen(version) > MCP_MAX_VERSION_BYTES)
        return MCP_E_ARG;
    *out = NULL;
    mcp_session *slot = NULL;
    for (size_t i = 0; i < t->max && !slot; i++)
        if (!t->s[i].id[0]) slot = &t->s[i];
    if (!slot) {
        /* Full: the least recently used session that is not busy goes. */
        for (size_t i = 0; i < t->max; i++) {
            mcp_session *s = &t->s[i];
            if (s->inflight) continue;
            if (!slot || s->last_used_ms < slot->last_used_ms) slot = s;
        }
        if (!slot) return MCP_E_FULL;
        drop(t, slot);
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < MCP_SESSION_ID_BYTES; i++) {
        slot->id[2 * i] = hex[random[i] >> 4];
        slot->id[2 * i + 1] = hex[random[i] & 15];
    }
    slot->id[MCP_SESSION_ID_LEN] = '\0';
    snprintf(slot->version, sizeof slot->version, "%s", version);
    slot->last_used_ms = now_ms;
    t->count++;
    *out = slot;
    return MCP_OK;
}

static mcp_session *lookup(mcp_sessions *t, const char *id, size_t len)
{
    if (!t || !mcp_session_id_valid(id, len)) return NULL;
    for (size_t i = 0; i < t->max; i++)
        if (t->s[i].id[0] && !memcmp(t->s[i].id, id, len)) return &t->s[i];
    return NULL;
}

mcp_session *mcp_sessions_find(mcp_sessions *t, const char *id, size_t len, int64_t now_ms)
{
    mcp_session *s = lookup(t, id, len);
    if (!s) return NULL;
    if (!s->inflight && now_ms - s->last_used_ms > t->idle_ms) {
        drop(t, s);
        return NULL;
    }
    s->last_used_ms = now_ms;
    return s;
}

int mcp_sessions_remove(mcp_sessions *t, const char *id, size_t len)
{
    mcp_session *s = lookup(t, id, len);
    if (!s) return 0;
    drop(t, s);
    return 1;
}

size_t mcp_sessions_expire(mcp_sessions *t, int64_t now_ms)
{
    size_t n = 0;
    for (size_t i = 0; t && i < t->max; i++) {
        mcp_session *s = &t->s[i];
        if (s->id[0] && !s->inflight && now_ms - s->last_used_ms > t->idle_ms) {
            drop(t, s);
            n++;
        }
    }
    return n;
}

size_t mcp_sessions_count(const mcp_sessions *t)
{
    return t ? t->count : 0;
}

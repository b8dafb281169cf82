/* provider_openai_body: the JSON body of a chat-completions request: the
 * messages with their images, the tools and the options. */
#include "provider_openai_int.h"

/* ---- request ---------------------------------------------------------------- */

static int gstr(yajl_gen g, const char *s)
{
    return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) == yajl_gen_status_ok;
}

static const char *role_name(prov_role r)
{
    switch (r) {
    case PROV_ROLE_SYSTEM:
        return "system";
    case PROV_ROLE_ASSISTANT:
        return "assistant";
    case PROV_ROLE_TOOL:
        return "tool";
    default:
        return "user";
    }
}

static int image_mime_ok(const char *mime)
{
    static const char *const ok[] = {"image/png", "image/jpeg", "image/webp", "image/gif"};
    for (size_t i = 0; mime && i < sizeof ok / sizeof *ok; i++)
        if (strcmp(mime, ok[i]) == 0) return 1;
    return 0;
}

/* A user message with images as OpenAI's content parts: the text, then per
 * image its label (when given) and an image_url part holding a data: URL,
 * which every OpenAI-compatible server with vision accepts (no upload step,
 * no URL the model's host would have to reach). Returns 1, or 0 with err. */
static int gen_parts(yajl_gen g, const char *text, const prov_image *im, size_t n, char *err,
                     size_t errlen)
{
    if (n > PROV_MAX_IMAGES) {
        snprintf(err, errlen, "%zu images in one message (the limit is %d)", n, PROV_MAX_IMAGES);
        return 0;
    }
    int ok = yajl_gen_array_open(g) == yajl_gen_status_ok;
    if (ok && *text)
        ok = yajl_gen_map_open(g) == yajl_gen_status_ok && gstr(g, "type") && gstr(g, "text") &&
             gstr(g, "text") && gstr(g, text) && yajl_gen_map_close(g) == yajl_gen_status_ok;
    for (size_t i = 0; ok && i < n; i++) {
        if (!image_mime_ok(im[i].mime) || !im[i].data || !im[i].len) {
            snprintf(err, errlen, "image %zu: not a PNG, JPEG, WebP or GIF file", i + 1);
            return 0;
        }
        if (im[i].len > PROV_MAX_IMAGE_BYTES) {
            snprintf(err, errlen, "image %zu: %zu bytes (the limit is %u)", i + 1, im[i].len,
                     PROV_MAX_IMAGE_BYTES);
            return 0;
        }
        if (im[i].label && *im[i].label)
            ok = yajl_gen_map_open(g) == yajl_gen_status_ok && gstr(g, "type") && gstr(g, "text") &&
                 gstr(g, "text") && gstr(g, im[i].label) &&
                 yajl_gen_map_close(g) == yajl_gen_status_ok;
        text_buf url = {0};
        text_buf_addf(&url, "data:%s;base64,", im[i].mime);
        text_buf_add_base64(&url, im[i].data, im[i].len);
        if (url.oom) {
            free(url.p);
            snprintf(err, errlen, "out of memory");
            return 0;
        }
        ok = ok && yajl_gen_map_open(g) == yajl_gen_status_ok && gstr(g, "type") &&
             gstr(g, "image_url") && gstr(g, "image_url") &&
             yajl_gen_map_open(g) == yajl_gen_status_ok && gstr(g, "url") &&
             yajl_gen_string(g, (const unsigned char *)url.p, url.n) == yajl_gen_status_ok &&
             yajl_gen_map_close(g) == yajl_gen_status_ok &&
             yajl_gen_map_close(g) == yajl_gen_status_ok;
        free(url.p);
    }
    ok = ok && yajl_gen_array_close(g) == yajl_gen_status_ok;
    if (!ok) snprintf(err, errlen, "image parts cannot be encoded");
    return ok;
}

/* Builds the JSON body into *out (malloc'd). Returns 0 or -1 with err. */
int oai_build_body(const prov_request *r, char **out, size_t *outlen, char *err, size_t errlen)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    if (errlen) err[0] = 0;
    int ok = yajl_gen_map_open(g) == yajl_gen_status_ok && gstr(g, "model") && gstr(g, r->model) &&
             gstr(g, "stream") && yajl_gen_bool(g, 1) == yajl_gen_status_ok &&
             gstr(g, "stream_options") && yajl_gen_map_open(g) == yajl_gen_status_ok &&
             gstr(g, "include_usage") && yajl_gen_bool(g, 1) == yajl_gen_status_ok &&
             yajl_gen_map_close(g) == yajl_gen_status_ok && gstr(g, "messages") &&
             yajl_gen_array_open(g) == yajl_gen_status_ok;
    for (size_t i = 0; ok && i < r->n_messages; i++) {
        const prov_msg *m = &r->messages[i];
        const char *content = m->content ? m->content : "";
        ok = yajl_gen_map_open(g) == yajl_gen_status_ok && gstr(g, "role") &&
             gstr(g, role_name(m->role));
        if (ok && m->role == PROV_ROLE_ASSISTANT && m->n_tool_calls) {
            ok = gstr(g, "content") &&
                 (*content ? gstr(g, content) : yajl_gen_null(g) == yajl_gen_status_ok) &&
                 gstr(g, "tool_calls") && yajl_gen_array_open(g) == yajl_gen_status_ok;
            for (size_t j = 0; ok && j < m->n_tool_calls; j++) {
                const prov_tool_call *tc = &m->tool_calls[j];
                ok = yajl_gen_map_open(g) == yajl_gen_status_ok && gstr(g, "id") &&
                     gstr(g, tc->id ? tc->id : "") && gstr(g, "type") && gstr(g, "function") &&
                     gstr(g, "function") && yajl_gen_map_open(g) == yajl_gen_status_ok &&
                     gstr(g, "name") && gstr(g, tc->name ? tc->name : "") && gstr(g, "arguments") &&
                     gstr(g,
                          tc->arguments_json && *tc->arguments_json ? tc->arguments_json : "{}") &&
                     yajl_gen_map_close(g) == yajl_gen_status_ok &&
                     yajl_gen_map_close(g) == yajl_gen_status_ok;
            }
            ok = ok && yajl_gen_array_close(g) == yajl_gen_status_ok;
        } else if (ok && m->role == PROV_ROLE_USER && m->n_images) {
            ok = gstr(g, "content") && gen_parts(g, content, m->images, m->n_images, err, errlen);
        } else if (ok) {
            ok = gstr(g, "content") && gstr(g, content);
            if (ok && m->role == PROV_ROLE_TOOL)
                ok = gstr(g, "tool_call_id") && gstr(g, m->tool_call_id ? m->tool_call_id : "");
        }
        ok = ok && yajl_gen_map_close(g) == yajl_gen_status_ok;
        if (!ok && !err[0])
            snprintf(err, errlen, "message %zu cannot be encoded (not valid UTF-8?)", i);
    }
    ok = ok && yajl_gen_array_close(g) == yajl_gen_status_ok;
    if (ok && r->n_tools) {
        ok = gstr(g, "tools") && yajl_gen_array_open(g) == yajl_gen_status_ok;
        for (size_t i = 0; ok && i < r->n_tools; i++) {
            const prov_tool *t = &r->tools[i];
            const char *params = t->parameters_json && *t->parameters_json
                                     ? t->parameters_json
                                     : "{\"type\":\"object\",\"properties\":{}}";
            char *canon = NULL;
            char perr[160];
            if (prov_json_canonical(params, strlen(params), &canon, perr, sizeof perr) != 0) {
                snprintf(err, errlen, "tool %s: parameters are not valid JSON: %s", t->name, perr);
                ok = 0;
                break;
            }
            /* yajl has no call to insert JSON text; a "number" is written
             * verbatim, and canon was just checked to be one JSON value. */
            ok = yajl_gen_map_open(g) == yajl_gen_status_ok && gstr(g, "type") &&
                 gstr(g, "function") && gstr(g, "function") &&
                 yajl_gen_map_open(g) == yajl_gen_status_ok && gstr(g, "name") &&
                 gstr(g, t->name) && gstr(g, "description") &&
                 gstr(g, t->description ? t->description : "") && gstr(g, "parameters") &&
                 yajl_gen_number(g, canon, strlen(canon)) == yajl_gen_status_ok &&
                 yajl_gen_map_close(g) == yajl_gen_status_ok &&
                 yajl_gen_map_close(g) == yajl_gen_status_ok;
            free(canon);
            if (!ok && !err[0]) snprintf(err, errlen, "tool %zu cannot be encoded", i);
        }
        ok = ok && yajl_gen_array_close(g) == yajl_gen_status_ok;
    }
    ok = ok && yajl_gen_map_close(g) == yajl_gen_status_ok;
    if (ok) {
        const unsigned char *b;
        size_t n;
        yajl_gen_get_buf(g, &b, &n);
        *out = malloc(n + 1);
        if (*out) {
            memcpy(*out, b, n);
            (*out)[n] = 0;
            *outlen = n;
        } else {
            snprintf(err, errlen, "out of memory");
            ok = 0;
        }
    } else if (!err[0]) {
        snprintf(err, errlen, "the request cannot be encoded (not valid UTF-8?)");
    }
    yajl_gen_free(g);
    return ok ? 0 : -1;
}

/* HTTP /comfy/attachments: files for user messages (docs/bridge-protocol.md):
 *   POST /comfy/attachments?name=cat.png   raw body, Content-Type: its type
 *                                          -> UploadAttachment, the Attachment
 *   GET  /comfy/attachments/{sha256}       -> GetAttachment, the bytes
 * A body over BLOB_MAX_BYTES answers 413 and a type the core refuses 415,
 * both before anything is stored. The file is served with the type judged
 * from its bytes, nosniff and a restrictive CSP, so a text file never
 * renders as a page of the bridge's origin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_int.h"
#include "blobspec.h"
#include "text.h"

/* Names come in a query parameter or the X-Attachment-Name header. */
#define ATTACH_NAME_CAP (BLOB_MAX_NAME + 1)

static void upload_done(app_call *c)
{
    bnet_req *r = bnet_req_find(c->a->net, c->req_id);
    if (!r) return;
    if (c->code == GRPC_STATUS_INVALID_ARGUMENT) {
        /* The core refuses types with INVALID_ARGUMENT (the name was checked
         * here): 415, with the core's sentence. */
        app__respond_error(c->a, r, c->route, 415, c->details[0] ? c->details : "type refused",
                           "UNSUPPORTED_MEDIA_TYPE");
        return;
    }
    if (c->code == GRPC_STATUS_RESOURCE_EXHAUSTED) {
        app__respond_error(c->a, r, c->route, 413, c->details[0] ? c->details : "too large",
                           "PAYLOAD_TOO_LARGE");
        return;
    }
    app__respond_call(c, r);
}

static void h_upload(bnet_req *r, void *ud)
{
    app_ctx *a = ud;
    const app_route route = APP_ROUTE_ATTACHMENTS;
    if (!app__admit(a, r, route)) return;
    size_t len = 0;
    const void *body = bnet_req_body(r, &len);
    if (len > BLOB_MAX_BYTES) {
        char msg[160];
        snprintf(msg, sizeof msg, "the attachment has %zu bytes; the limit BLOB_MAX_BYTES is %u",
                 len, BLOB_MAX_BYTES);
        app__respond_error(a, r, route, 413, msg, "PAYLOAD_TOO_LARGE");
        return;
    }
    if (len == 0) {
        app__respond_error(a, r, route, 400, "the body is empty: send the file's bytes", NULL);
        return;
    }
    char name[ATTACH_NAME_CAP] = "";
    long nn = bnet_req_query_param(r, "name", name, sizeof name);
    if (nn == -1) {
        size_t hl = 0;
        const char *h = bnet_req_header(r, "x-attachment-name", &hl);
        if (h && hl >= sizeof name)
            nn = BNET_E_ARG;
        else if (h)
            nn = (long)hl, memcpy(name, h, hl + 1);
        else
            nn = 0;
    }
    if (nn < 0 || !text_utf8_valid(name, (size_t)nn)) {
        char msg[128];
        snprintf(msg, sizeof msg, "name: at most %d bytes of UTF-8 (BLOB_MAX_NAME)", BLOB_MAX_NAME);
        app__respond_error(a, r, route, 400, msg, NULL);
        return;
    }
    const char *ct = bnet_req_header(r, "content-type", NULL);
    Comfyd__V1__UploadAttachmentRequest q = COMFYD__V1__UPLOAD_ATTACHMENT_REQUEST__INIT;
    q.data.data = (uint8_t *)body;
    q.data.len = len;
    q.mime_type = (char *)(ct ? ct : "");
    q.name = name;
    app_call *c = app__call_new(a, APP_M_UPLOAD_ATTACHMENT, upload_done);
    c->req_id = bnet_req_id(r);
    c->route = route;
    app__call_start(c, &q.base, APP_UNARY_TIMEOUT_MS);
}

static void get_done(app_call *c)
{
    bnet_req *r = bnet_req_find(c->a->net, c->req_id);
    if (!r) return;
    if (c->code != GRPC_STATUS_OK || !c->resp) {
        app__respond_call(c, r);
        return;
    }
    const Comfyd__V1__GetAttachmentResponse *o = (const Comfyd__V1__GetAttachmentResponse *)c->resp;
    /* The core judged the type from the bytes; only the allowed ones are
     * passed, anything else is served as opaque bytes. */
    const char *mt = o->attachment ? o->attachment->mime_type : "";
    const char *ct = "application/octet-stream";
    if (!strcmp(mt, "image/png") || !strcmp(mt, "image/jpeg") || !strcmp(mt, "image/webp") ||
        !strcmp(mt, "image/gif"))
        ct = mt;
    else if (!strcmp(mt, "text/plain"))
        ct = "text/plain; charset=utf-8";
    bnet_header h[] = {{"cache-control", "private, max-age=31536000, immutable"},
                       {"x-content-type-options", "nosniff"},
                       {"content-security-policy", "default-src 'none'; sandbox"}};
    bnet_respond(r, 200, ct, h, 3, o->data.data, o->data.len);
    app_metrics_http(&c->a->m, APP_ROUTE_ATTACHMENTS, 200);
}

static void h_get(bnet_req *r, void *ud)
{
    app_ctx *a = ud;
    const app_route route = APP_ROUTE_ATTACHMENTS;
    if (!app__admit(a, r, route)) return;
    const char *hash = bnet_req_path(r) + strlen("/comfy/attachments/");
    if (!blob_hash_ok(hash)) {
        app__respond_error(a, r, route, 400,
                           "expected /comfy/attachments/{sha256}: 64 lower-case hex digits", NULL);
        return;
    }
    Comfyd__V1__GetAttachmentRequest q = COMFYD__V1__GET_ATTACHMENT_REQUEST__INIT;
    q.sha256 = (char *)hash;
    app_call *c = app__call_new(a, APP_M_GET_ATTACHMENT, get_done);
    c->req_id = bnet_req_id(r);
    c->route = route;
    app__call_start(c, &q.base, APP_UNARY_TIMEOUT_MS);
}

int app__attach_routes(app_ctx *a)
{
    return bnet_route(a->net, "POST", "/comfy/attachments", BNET_ROUTE_UPLOAD, h_upload, a) !=
                       BNET_OK ||
                   bnet_route(a->net, "GET", "/comfy/attachments/", BNET_ROUTE_PREFIX, h_get, a) !=
                       BNET_OK
               ? -1
               : 0;
}

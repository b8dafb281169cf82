/* comfy_ws: a WebSocket client for ComfyUI's /ws?clientId=ID over a plain
 * TCP socket. The opening handshake's response is parsed with llhttp and
 * checked (101, Sec-WebSocket-Accept); frames are wslay's event API. Text
 * messages are handed to the caller; binary ones (preview images) are
 * dropped. One thread uses a connection at a time. https:// bases are
 * refused (ComfyUI is reached on the local machine). */
#ifndef COMFYD_COMFY_WS_H
#define COMFYD_COMFY_WS_H

#include <stddef.h>

/* The handshake response: ComfyUI's is a few hundred bytes. */
#define COMFY_WS_MAX_HANDSHAKE 8192
/* Largest message accepted (wslay fails the connection above it). */
#define COMFY_WS_MAX_MESSAGE (8u << 20)

typedef struct comfy_ws comfy_ws;

/* Connects to BASE/ws?clientId=client_id (base as for comfy_http) within
 * timeout_ms. Returns 0 and *out, or -1 with err (refused, timed out, not
 * a WebSocket answer). */
int comfy_ws_connect(comfy_ws **out, const char *base_url, const char *client_id, int timeout_ms,
                     char *err, size_t errlen);

/* Called for each text message; data is valid during the call only. */
typedef void (*comfy_ws_msg_fn)(void *ud, const char *data, size_t len);

/* Waits up to timeout_ms for traffic and handles it (messages go to fn,
 * pings are answered). Returns 0 while the connection is open, -1 once it
 * is closed or failed (err says why). */
int comfy_ws_poll(comfy_ws *w, int timeout_ms, comfy_ws_msg_fn fn, void *ud, char *err,
                  size_t errlen);

/* Closes the socket and frees w. NULL is a no-op. */
void comfy_ws_close(comfy_ws *w);

#endif

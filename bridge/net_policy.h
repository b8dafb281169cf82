/* net_policy: who may talk to the bridge. The bridge binds loopback, but
 * any web page the user opens can still send requests to it, so every HTTP
 * request and WebSocket upgrade passes three checks, in this order:
 *
 * 1. Host (DNS rebinding): the Host header (or :authority) must name the
 *    bridge: 127.0.0.1, localhost or [::1] with the listen port, or a
 *    configured name ("name" means name:listen-port, "name:port" is exact).
 *    A missing port means 80. Failure: 421 Misdirected Request.
 * 2. Origin (cross-site requests, WebSocket hijacking): when present it
 *    must be on the allowlist, which always holds http://127.0.0.1:8188 and
 *    http://localhost:8188 (ComfyUI) plus configured origins. "null" (sandboxed
 *    frames, file: pages) is always refused, as is more than one Origin.
 *    Failure: 403 {"error":"origin not allowed"}.
 * 3. Token: every caller, browser pages included, must present the token
 *    ("Authorization: Bearer <token>"). An allowed Origin does not waive it:
 *    any local process can send any Origin header, so the Origin only
 *    proves something about browsers. WebSocket upgrades may carry it
 *    instead as the query parameter ?token=<token> or as the subprotocol
 *    "comfyd.token.<token>" in Sec-WebSocket-Protocol, because browsers
 *    cannot set headers on a WebSocket; such URLs and headers must not be
 *    logged. Every token presented must be valid. Tokens are compared in
 *    constant time. Failure: 401 {"error":"missing or invalid token"} with
 *    WWW-Authenticate: Bearer. Routes registered as public skip only this
 *    third check.
 *
 * The token lives in a file created on first start with mode 0600 (32
 * random bytes from getrandom, hex); a token file that group or others can
 * read, or that another user owns, is refused.
 *
 * The check functions are pure (no I/O, no state change) and thread-safe
 * once the policy is created. */
#ifndef COMFYD_NET_POLICY_H
#define COMFYD_NET_POLICY_H

#include "net_msg.h"

#include "comfyd_error.h"

#include <stddef.h>

/* Hex characters of a generated token (32 random bytes). */
#define NET_POLICY_TOKEN_HEX 64
/* Accepted token lengths in a token file written by hand. */
#define NET_POLICY_TOKEN_MIN 32
#define NET_POLICY_TOKEN_MAX 128
/* Configured Host names and Origins, each list: a command line's worth. */
#define NET_POLICY_MAX_NAMES 32

typedef struct net_policy net_policy;

typedef enum {
    NET_POLICY_OK = CFD_OK,
    NET_POLICY_E_HOST = CFD_ERR_NET_POLICY_HOST,
    NET_POLICY_E_ORIGIN = CFD_ERR_NET_POLICY_ORIGIN,
    NET_POLICY_E_TOKEN = CFD_ERR_NET_POLICY_TOKEN,
    /* Invalid configuration (too many names, bad port, bad token). */
    NET_POLICY_E_ARG = CFD_ERR_INVALID,
    /* Token file: cannot be read, created or is malformed (errno kept). */
    NET_POLICY_E_IO = CFD_ERR_NET_POLICY_IO,
    /* Token file readable by group/others, not a regular file, or owned by
     * another user. */
    NET_POLICY_E_PERM = CFD_ERR_NET_POLICY_PERM,
    NET_POLICY_E_NOMEM = CFD_ERR_NOMEM,
} net_policy_err;

typedef struct net_policy_opts {
    int port;                 /* the listen port, 1..65535 */
    const char *const *hosts; /* extra Host names; may be NULL */
    size_t nhosts;
    const char *const *origins; /* extra allowed Origins; may be NULL */
    size_t norigins;
    const char *token; /* the bearer token; NULL: no token works */
} net_policy_opts;

/* Copies everything from o. Returns 0, NET_POLICY_E_ARG or
 * NET_POLICY_E_NOMEM. */
int net_policy_create(net_policy **out, const net_policy_opts *o);
void net_policy_destroy(net_policy *p);

/* The parts of a request the policy looks at. Views are borrowed. */
typedef struct net_policy_req {
    net_str host; /* p NULL when absent */
    size_t nhost; /* how many Host/:authority values the request had */
    net_str origin;
    size_t norigin;
    net_str authorization;
    size_t nauthorization;
    int has_query_token; /* WebSocket upgrades only: ?token= was present */
    net_str query_token;
    int has_proto_token; /* WebSocket upgrades only: a comfyd.token.* subprotocol */
    net_str proto_token;
    int public_route; /* the route needs no token */
} net_policy_req;

/* Fills r from m: host from the authority, origin and authorization from
 * headers; the query and subprotocol tokens only when ws is set. */
void net_policy_req_from_msg(net_policy_req *r, const net_msg *m, int ws);

/* Applies the three rules above. Returns NET_POLICY_OK, NET_POLICY_E_HOST,
 * NET_POLICY_E_ORIGIN or NET_POLICY_E_TOKEN. */
int net_policy_check(const net_policy *p, const net_policy_req *r);

/* Single rules, for the same checks elsewhere and for tests. */
int net_policy_host_ok(const net_policy *p, net_str host);
int net_policy_origin_ok(const net_policy *p, net_str origin);
/* authorization is the whole header value ("Bearer <token>"). */
int net_policy_bearer_ok(const net_policy *p, net_str authorization);
int net_policy_token_ok(const net_policy *p, net_str token);

/* The subprotocol that carries the token on a WebSocket upgrade, and the
 * plain one a client may offer beside it for the server to echo. */
#define NET_POLICY_WS_PROTO "comfyd"
#define NET_POLICY_WS_TOKEN_PROTO "comfyd.token."

/* Which offered subprotocol (the Sec-WebSocket-Protocol values of m) the
 * 101 should echo, per RFC 6455 (the server picks one the client
 * offered): NET_POLICY_WS_PROTO when offered, else the token subprotocol
 * itself, else none ({NULL, 0}). The view points into m. */
net_str net_policy_ws_protocol(const net_msg *m);

/* HTTP status and JSON error text for a check failure. */
int net_policy_status(int err);
const char *net_policy_message(int err);

/* Reads the token from path, creating the file (mode 0600, exclusive
 * create) with a fresh random token when it does not exist. out receives
 * the NUL-terminated token (cap >= NET_POLICY_TOKEN_MAX + 1). Returns 0,
 * NET_POLICY_E_PERM, NET_POLICY_E_IO (errno set; a malformed file gives
 * EINVAL) or NET_POLICY_E_ARG (cap too small). */
int net_policy_token_load(const char *path, char *out, size_t cap);

#endif

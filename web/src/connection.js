// Where the bridge is and how to authenticate: the page asks its own
// ComfyUI server (same origin) at GET /api/comfyd/connection, which the
// Python package answers with the bridge's URL and token once it has found
// or started comfyd and comfyd-bridge.

export const CONNECTION_ROUTE = "/comfyd/connection";

/** Turns the route's answer into {wsBase, token}; throws on a bad answer. */
export function parseConnection(body, pageLocation) {
  if (!body || typeof body !== "object") throw new Error("no connection info");
  if (body.status && body.status !== "ready") throw new Error(body.error || `comfyd is ${body.status}`);
  const token = body.token;
  if (typeof token !== "string" || !/^[\x21-\x7e]{1,512}$/.test(token)) throw new Error("no bridge token");
  let url;
  try {
    url = new URL(String(body.bridge_url));
  } catch {
    throw new Error("bad bridge_url");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("bad bridge_url scheme");
  // A page opened as localhost talks to the bridge as localhost too (both
  // names are allowed by default); the bridge only listens on loopback.
  const loopback = new Set(["127.0.0.1", "localhost", "[::1]"]);
  if (pageLocation && loopback.has(url.hostname) && loopback.has(pageLocation.hostname))
    url.hostname = pageLocation.hostname;
  const wsBase = `${url.protocol === "https:" ? "wss:" : "ws:"}//${url.host}`;
  return { wsBase, token, bridgeUrl: url.origin };
}

// The bridge wants the token from every caller (docs/security.md). A
// browser cannot set headers on a WebSocket, so the token travels as the
// subprotocol "comfyd.token.<token>" (next to "comfyd", which the bridge
// echoes), which keeps it out of URLs; a token with characters a
// subprotocol cannot hold (RFC 7230 tchar) goes as ?token= instead.
export const WS_PROTOCOL = "comfyd";
export const WS_TOKEN_PROTOCOL = "comfyd.token.";
const TCHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function tokenAsProtocol(conn) {
  return TCHARS.test(conn.token);
}

/** The URL of a bridge WebSocket; open it with wsProtocols(conn). */
export function wsUrl(conn, path) {
  if (tokenAsProtocol(conn)) return `${conn.wsBase}${path}`;
  return `${conn.wsBase}${path}?token=${encodeURIComponent(conn.token)}`;
}

/** The subprotocols to offer on a bridge WebSocket (they may carry the token). */
export function wsProtocols(conn) {
  return tokenAsProtocol(conn) ? [WS_PROTOCOL, WS_TOKEN_PROTOCOL + conn.token] : [];
}

/** Fetches the connection once and shares it; invalidate() after a failed
 * connect so that the next get() asks again (the bridge may have moved). */
export class ConnectionProvider {
  constructor({ fetchJson, location }) {
    this.fetchJson = fetchJson;
    this.location = location;
    this.pending = null;
  }

  get() {
    if (!this.pending) {
      this.pending = this.fetchJson(CONNECTION_ROUTE).then(
        (body) => parseConnection(body, this.location),
        (e) => {
          this.pending = null;
          throw e;
        },
      );
      this.pending.catch(() => {
        this.pending = null;
      });
    }
    return this.pending;
  }

  invalidate() {
    this.pending = null;
  }
}

/** Delays between reconnect attempts: 0.5 s doubling to 10 s, with jitter
 * so that many tabs do not reconnect in step after a bridge restart. */
export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(10000, 500 * 2 ** Math.min(attempt, 5));
  return Math.round(base * (0.75 + 0.5 * random()));
}

import { connect as netConnect } from "node:net";
import type { Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";

/** A gRPC transport with a handle on its HTTP/2 connection. */
export type ComfydTransport = Transport & {
  /**
   * Closes the HTTP/2 connection now and fails the calls still open on it
   * (an idle connection is otherwise closed after a while).
   */
  close(): void;
};

/**
 * A gRPC transport (HTTP/2, no TLS) to a comfyd listener, for
 * `createClient(SessionService, transport)` and the other services.
 *
 * `target` takes the forms comfyd's --listen does: "HOST:PORT" (e.g.
 * "127.0.0.1:50051"), "unix:/path/to/c.sock", or a URL
 * "http://HOST:PORT".
 */
export function createComfydTransport(target: string): ComfydTransport {
  let baseUrl: string;
  let sessionManager: Http2SessionManager;
  if (target.startsWith("unix:")) {
    // "unix:/abs/path" and "unix:///abs/path" name the same socket.
    const path = target.slice("unix:".length).replace(/^\/\/(?=\/)/, "");
    if (path === "") throw new Error(`createComfydTransport: "${target}" has an empty socket path`);
    baseUrl = "http://localhost";
    sessionManager = new Http2SessionManager(baseUrl, {}, { createConnection: () => netConnect(path) });
  } else {
    baseUrl = /^https?:\/\//.test(target) ? target : `http://${target}`;
    sessionManager = new Http2SessionManager(baseUrl);
  }
  const transport = createGrpcTransport({ baseUrl, sessionManager });
  return Object.assign(transport, { close: () => sessionManager.abort() });
}

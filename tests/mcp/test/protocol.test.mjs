// The transport's rules checked with raw requests and with SDK clients
// that get them wrong: Origin, token, malformed JSON-RPC, sessions, the
// protocol version header, batches, methods.

import assert from "node:assert/strict";
import { describe } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { useStack, itWithLogs } from "../../graph/lib/harness.mjs";
import { TOOL_NAMES, rawPost, rawSession, mcpUrl } from "../lib/mcp.mjs";

function rpcError(r, status, code) {
  assert.equal(r.status, status, `HTTP ${r.status}: ${r.text}`);
  assert.equal(r.json?.jsonrpc, "2.0", r.text);
  assert.equal(r.json.error.code, code, r.text);
  assert.ok(r.json.error.message.length > 5, r.text);
  return r.json;
}

describe("MCP transport rules", () => {
  const h = useStack();
  const it = itWithLogs(h);
  const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } } };

  it("a wrong Origin is 403, also with the token, and an SDK client cannot connect", async () => {
    const r = await rawPost(h.stack, init, { headers: { origin: "http://evil.example" } });
    assert.equal(r.status, 403, r.text);
    assert.deepEqual(r.json, { error: "origin not allowed" });
    const transport = new StreamableHTTPClientTransport(mcpUrl(h.stack), {
      requestInit: { headers: { authorization: `Bearer ${h.stack.token}`, origin: "http://evil.example" } },
    });
    await assert.rejects(new Client({ name: "x", version: "1" }).connect(transport), (e) => e.code === 403 && /origin not allowed/.test(e.message));
  });

  it("a missing or wrong token is 401 with WWW-Authenticate, even from ComfyUI's Origin", async () => {
    for (const [token, headers] of [[null, {}], ["not-the-token", {}], [null, { origin: "http://127.0.0.1:8188" }]]) {
      const r = await rawPost(h.stack, init, { token, headers });
      assert.equal(r.status, 401, r.text);
      assert.equal(r.headers.get("www-authenticate"), "Bearer");
    }
    const transport = new StreamableHTTPClientTransport(mcpUrl(h.stack));
    await assert.rejects(new Client({ name: "x", version: "1" }).connect(transport), (e) => e.code === 401 || /401|Unauthorized/.test(e.message));
  });

  it("malformed JSON-RPC gets -32700 or -32600 with HTTP 400; wrong media types 415 and 406", async () => {
    const s = await rawSession(h.stack);
    const hs = { "mcp-session-id": s.id };
    rpcError(await rawPost(h.stack, '{"jsonrpc":"2.0",', { headers: hs }), 400, -32700);
    rpcError(await rawPost(h.stack, "not json at all", { headers: hs }), 400, -32700);
    const inv = rpcError(await rawPost(h.stack, { jsonrpc: "1.0", id: 9, method: "ping" }, { headers: hs }), 400, -32600);
    assert.equal(inv.id, 9, "the id of an invalid request is kept when readable");
    rpcError(await rawPost(h.stack, { jsonrpc: "2.0", id: true, method: "ping" }, { headers: hs }), 400, -32600);
    rpcError(await rawPost(h.stack, { jsonrpc: "2.0", id: 3, method: "tools/call", params: [1] }, { headers: hs }), 400, -32600);
    rpcError(await rawPost(h.stack, [], { headers: hs }), 400, -32600);
    const ct = await rawPost(h.stack, { jsonrpc: "2.0", id: 1, method: "ping" }, { headers: { ...hs, "content-type": "text/plain" } });
    assert.equal(ct.status, 415);
    const acc = await rawPost(h.stack, { jsonrpc: "2.0", id: 1, method: "ping" }, { headers: { ...hs, accept: "text/html" } });
    assert.equal(acc.status, 406);
  });

  it("unknown methods are -32601, bad params -32602, answered 200 with the request's id", async () => {
    const s = await rawSession(h.stack);
    const hs = { "mcp-session-id": s.id, "mcp-protocol-version": s.version };
    const m = rpcError(await rawPost(h.stack, { jsonrpc: "2.0", id: "m", method: "prompts/list" }, { headers: hs }), 200, -32601);
    assert.equal(m.id, "m");
    rpcError(await rawPost(h.stack, { jsonrpc: "2.0", id: 2, method: "tools/call", params: { arguments: {} } }, { headers: hs }), 200, -32602);
    rpcError(await rawPost(h.stack, { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "nope" } }, { headers: hs }), 200, -32602);
    const bad = await rawPost(h.stack, { jsonrpc: "2.0", id: 4, method: "initialize", params: {} });
    rpcError(bad, 200, -32602);
    assert.equal(bad.headers.get("mcp-session-id"), null, "no session for a failed initialize");
    const ping = await rawPost(h.stack, { jsonrpc: "2.0", id: 5, method: "ping" }, { headers: hs });
    assert.deepEqual(ping.json, { jsonrpc: "2.0", id: 5, result: {} });
  });

  it("sessions: required after initialize (400), unknown 404, ended by DELETE", async () => {
    rpcError(await rawPost(h.stack, { jsonrpc: "2.0", id: 1, method: "tools/list" }), 400, -32600);
    const unknown = await rawPost(h.stack, { jsonrpc: "2.0", id: 1, method: "tools/list" }, { headers: { "mcp-session-id": "f".repeat(64) } });
    assert.equal(unknown.status, 404, unknown.text);
    const s = await rawSession(h.stack);
    const del = await rawPost(h.stack, null, { method: "DELETE", headers: { "mcp-session-id": s.id } });
    assert.equal(del.status, 204);
    const after = await rawPost(h.stack, { jsonrpc: "2.0", id: 1, method: "tools/list" }, { headers: { "mcp-session-id": s.id } });
    assert.equal(after.status, 404);
    const again = await rawPost(h.stack, null, { method: "DELETE", headers: { "mcp-session-id": s.id } });
    assert.equal(again.status, 404);
  });

  it("GET /mcp is 405: no server-initiated stream", async () => {
    const r = await rawPost(h.stack, null, { method: "GET", headers: { accept: "text/event-stream" } });
    assert.equal(r.status, 405);
    assert.match(r.headers.get("allow"), /POST/);
  });

  it("the MCP-Protocol-Version header must be the negotiated version", async () => {
    const s = await rawSession(h.stack, "2025-06-18");
    assert.equal(s.version, "2025-06-18");
    const ok = await rawPost(h.stack, { jsonrpc: "2.0", id: 1, method: "ping" }, { headers: { "mcp-session-id": s.id, "mcp-protocol-version": "2025-06-18" } });
    assert.equal(ok.status, 200);
    for (const v of ["2025-11-25", "1999-01-01"]) {
      const r = await rawPost(h.stack, { jsonrpc: "2.0", id: 1, method: "ping" }, { headers: { "mcp-session-id": s.id, "mcp-protocol-version": v } });
      rpcError(r, 400, -32600);
    }
    // An unknown version asked for at initialize gets the newest.
    const r = await rawPost(h.stack, { ...init, params: { ...init.params, protocolVersion: "2099-12-31" } });
    assert.equal(r.json.result.protocolVersion, "2025-11-25");
  });

  it("batches: refused where the version has none, answered as an array in 2025-03-26", async () => {
    const s = await rawSession(h.stack);
    const batch = [{ jsonrpc: "2.0", id: 1, method: "ping" }, { jsonrpc: "2.0", id: 2, method: "tools/list" }];
    rpcError(await rawPost(h.stack, batch, { headers: { "mcp-session-id": s.id } }), 400, -32600);
    const old = await rawSession(h.stack, "2025-03-26");
    const r = await rawPost(h.stack, [...batch, { jsonrpc: "2.0", method: "notifications/initialized" }, { bad: 1 }], { headers: { "mcp-session-id": old.id } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.length, 3);
    assert.deepEqual(r.json[0], { jsonrpc: "2.0", id: 1, result: {} });
    assert.equal(r.json[1].result.tools.length, TOOL_NAMES.length);
    // 2025-03-26 has no titles and no structuredContent.
    assert.equal(r.json[1].result.tools[0].title, undefined);
    assert.equal(r.json[2].error.code, -32600);
    const notes = await rawPost(h.stack, [{ jsonrpc: "2.0", method: "notifications/initialized" }], { headers: { "mcp-session-id": old.id } });
    assert.equal(notes.status, 202);
    assert.equal(notes.text, "");
  });

  it("notifications and client responses are 202 without a body; an SSE-only client gets an event stream", async () => {
    const s = await rawSession(h.stack);
    const hs = { "mcp-session-id": s.id };
    const n = await rawPost(h.stack, { jsonrpc: "2.0", method: "notifications/roots/list_changed" }, { headers: hs });
    assert.equal(n.status, 202);
    const resp = await rawPost(h.stack, { jsonrpc: "2.0", id: 77, result: {} }, { headers: hs });
    assert.equal(resp.status, 202);
    const sse = await rawPost(h.stack, { jsonrpc: "2.0", id: "s", method: "ping" }, { headers: { ...hs, accept: "text/event-stream" } });
    assert.equal(sse.status, 200);
    assert.match(sse.headers.get("content-type"), /^text\/event-stream/);
    assert.match(sse.text, /^event: message\ndata: \{"jsonrpc":"2.0","id":"s","result":\{\}\}\n\n$/);
  });
});

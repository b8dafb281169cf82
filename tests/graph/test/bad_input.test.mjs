// Bad input against the real bridge: each case gets the right status (or
// close code) and the bridge stays up, checked by GET /healthz after each.

import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { describe } from "node:test";
import { useStack, itWithLogs, expectStatus, expectGraphOk } from "../lib/harness.mjs";
import {
  curl, post, get, openWs, rawExchange, statusOf, rawWebSocket, wsFrame, rawCloseCode,
} from "../lib/clients.mjs";
import { waitFor } from "../lib/stack.mjs";

describe("bad input", () => {
  const h = useStack();
  const it = itWithLogs(h);

  async function stillUp(what) {
    assert.ok(h.stack.bridge.alive(), `bridge died after: ${what}`);
    assert.ok(await h.stack.healthy(), `/healthz not 200 after: ${what}`);
  }

  let baselineFds = 0;
  const bridgeFds = () => readdirSync(`/proc/${h.stack.bridge.child.pid}/fd`).length;

  it("setup: an editor so that valid commands would be applied", async () => {
    await h.stack.editor({ canvasId: "tab-bad" });
    baselineFds = bridgeFds();
  });

  // [name, path, body (string or Buffer), status, error pattern]
  const bodies = [
    ["malformed JSON", "/comfy/graph/command", '{"type": "get_graph"', 400, /invalid JSON/],
    ["trailing garbage", "/comfy/graph/command", '{"type": "get_graph"} x', 400, /invalid JSON/],
    ["not an object", "/comfy/graph/command", "[1, 2]", 400, null],
    ["empty body", "/comfy/graph/command", "", 400, null],
    ["missing type", "/comfy/graph/command", '{"node_id": 1}', 400, /missing field: type/],
    ["unknown command", "/comfy/graph/command", '{"type": "explode"}', 400, /explode/],
    ["x is a string", "/comfy/graph/command", '{"type": "move_node", "node_id": 1, "x": "left", "y": 0}', 400, /x/],
    ["node_type is a number", "/comfy/graph/command", '{"type": "create_node", "node_type": 5}', 400, /node_type/],
    ["node_id is an object", "/comfy/graph/command", '{"type": "remove_node", "node_id": {"a": {"b": 1}}}', 400, /node_id/],
    ["node_id has a fraction", "/comfy/graph/command", '{"type": "remove_node", "node_id": 1.5}', 400, /node_id/],
    ["unknown field", "/comfy/graph/command", '{"type": "get_graph", "bogus": 1}', 400, /bogus/],
    ["duplicate key", "/comfy/graph/command", '{"type": "get_graph", "type": "get_graph"}', 400, null],
    ["timeout_ms negative", "/comfy/graph/command", '{"type": "get_graph", "timeout_ms": -1}', 400, /timeout_ms/],
    ["int64 overflow", "/comfy/graph/command", '{"type": "remove_node", "node_id": 99999999999999999999999}', 400, null],
    ["lone surrogate", "/comfy/graph/command", '{"type": "create_node", "node_type": "\\ud800"}', 400, null],
    ["NaN literal", "/comfy/graph/command", '{"type": "move_node", "node_id": 1, "x": NaN, "y": 0}', 400, null],
    ["commands not an array", "/comfy/graph/batch", '{"commands": "nope"}', 400, /commands/],
    ["command without type in a batch", "/comfy/graph/batch", '{"commands": [{"node_id": 1}]}', 400, /type/],
    ["unknown batch mode", "/comfy/graph/batch", '{"commands": [], "mode": "sideways"}', 400, /mode/],
    // Deeper than the codec's limit is a size limit (app.h: APP_E_TOOBIG).
    ["deep nesting", "/comfy/graph/command", "[".repeat(100000) + "]".repeat(100000), 413, /deeper/],
    ["invalid UTF-8", "/comfy/graph/command", Buffer.from([0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 400, null],
    ["save name a number", "/comfy/graph/save", '{"name": 5}', 400, /name/],
    ["queue batch_count a string", "/comfy/graph/queue", '{"batch_count": "many"}', 400, /batch_count/],
  ];

  for (const [name, path, body, status, pattern] of bodies) {
    it(`${name}: ${status}`, async () => {
      const r = await post(h.stack, path, body);
      expectStatus(r, status);
      if (pattern) assert.match(r.json.error, pattern);
      await stillUp(name);
    });
  }

  it("a body over 1 MiB is 413", async () => {
    const big = JSON.stringify({ type: "create_node", node_type: "KSampler", title: "x".repeat(2 << 20) });
    const r = await post(h.stack, "/comfy/graph/command", big);
    assert.equal(r.status, 413, `HTTP ${r.status} ${r.text.slice(0, 200)}`);
    await stillUp("oversized body");
    const r2 = await post(h.stack, "/comfy/graph/batch", big, { h2: true });
    assert.equal(r2.status, 413, `h2: HTTP ${r2.status} ${r2.text.slice(0, 200)}`);
    await stillUp("oversized body over h2");
  });

  it("unknown paths are 404 and wrong methods are refused", async () => {
    const r = await get(h.stack, "/comfy/graph/nope");
    assert.equal(r.status, 404);
    const m = await get(h.stack, "/comfy/graph/batch");
    assert.ok(m.status === 405 || m.status === 404, `GET on a POST endpoint: ${m.status}`);
    await stillUp("unknown path");
  });

  // Raw HTTP/1.1 requests no well-behaved client sends.
  function rawRequest(stack, head, body = "") {
    return (
      `${head.replace(/\n/g, "\r\n")}` +
      `Host: ${stack.hostHeader}\r\nAuthorization: Bearer ${stack.token}\r\n\r\n${body}`
    );
  }

  const smuggling = [
    [
      "Content-Length with Transfer-Encoding (CL.TE)",
      "POST /comfy/graph/command HTTP/1.1\nContent-Type: application/json\nContent-Length: 4\nTransfer-Encoding: chunked\n",
      "0\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n",
    ],
    [
      "two different Content-Lengths",
      "POST /comfy/graph/command HTTP/1.1\nContent-Type: application/json\nContent-Length: 21\nContent-Length: 22\n",
      '{"type":"get_graph"} ',
    ],
    [
      "a negative Content-Length",
      "POST /comfy/graph/command HTTP/1.1\nContent-Type: application/json\nContent-Length: -1\n",
      "",
    ],
    [
      "Transfer-Encoding: chunked, identity",
      "POST /comfy/graph/command HTTP/1.1\nContent-Type: application/json\nTransfer-Encoding: chunked, identity\n",
      "0\r\n\r\n",
    ],
  ];
  for (const [name, head, body] of smuggling) {
    it(`request smuggling, ${name}: 400 and the connection is closed`, async () => {
      const r = await rawExchange(h.stack.port, rawRequest(h.stack, head, body), { guardMs: 5000 });
      assert.equal(statusOf(r.data), 400, r.data.toString("latin1").slice(0, 300));
      assert.equal(r.closed, true, "connection closed after the 400");
      // Nothing smuggled was answered: exactly one response.
      assert.equal((r.data.toString("latin1").match(/HTTP\/1\.1 \d{3}/g) ?? []).length, 1);
      await stillUp(name);
    });
  }

  it("headers over 16 KiB are 431", async () => {
    const head = `GET /healthz HTTP/1.1\nX-Filler: ${"a".repeat(20 << 10)}\n`;
    const r = await rawExchange(h.stack.port, rawRequest(h.stack, head), { guardMs: 5000 });
    assert.equal(statusOf(r.data), 431, r.data.toString("latin1").slice(0, 200));
    const c = await curl(h.stack, "GET", "/healthz", { headers: { "x-filler": "b".repeat(20 << 10) } });
    assert.equal(c.status, 431);
    await stillUp("oversized headers");
  });

  it("slowloris: a request head that trickles in is cut off", async () => {
    // One header byte every 500 ms, forever: the header timeout must end it.
    const start = `GET /healthz HTTP/1.1\r\nHost: ${h.stack.hostHeader}\r\n`;
    const trickle = Array.from({ length: 200 }, (_, i) => (i % 2 ? ":" : "X"));
    const guard = Number(process.env.COMFYD_IT_SLOWLORIS_GUARD_MS ?? 40000);
    const r = await rawExchange(h.stack.port, [start, ...trickle], { gapMs: 500, guardMs: guard });
    assert.equal(r.closed, true, `still open after ${r.ms} ms`);
    const st = statusOf(r.data);
    assert.ok(st === 0 || st === 408, `answered ${st}`);
    await stillUp("slowloris");
  });

  it("a WebSocket frame that is not masked is closed with 1002", async () => {
    const ws = await rawWebSocket(h.stack, "/comfy/graph/ws");
    ws.sock.write(wsFrame(1, '{"type":"get_graph","request_id":"u"}', { mask: false }));
    assert.equal(await rawCloseCode(ws), 1002);
    ws.sock.destroy();
    await stillUp("unmasked frame");
  });

  it("a WebSocket message over 1 MiB is closed with 1009", async () => {
    const ws = await rawWebSocket(h.stack, "/comfy/graph/ws");
    const big = Buffer.alloc((1 << 20) + 4096, 0x61);
    ws.sock.write(wsFrame(1, big));
    assert.equal(await rawCloseCode(ws), 1009);
    ws.sock.destroy();
    // The same as fragments that add up to too much.
    const ws2 = await rawWebSocket(h.stack, "/comfy/editor/ws");
    const part = Buffer.alloc(600 << 10, 0x62);
    ws2.sock.write(wsFrame(1, part, { fin: false }));
    ws2.sock.write(wsFrame(0, part, { fin: true }));
    assert.equal(await rawCloseCode(ws2), 1009);
    ws2.sock.destroy();
    await stillUp("oversized message");
  });

  it("a text frame with invalid UTF-8 is closed with 1007", async () => {
    const ws = await rawWebSocket(h.stack, "/comfy/graph/ws");
    ws.sock.write(wsFrame(1, Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])));
    assert.equal(await rawCloseCode(ws), 1007);
    ws.sock.destroy();
    await stillUp("invalid UTF-8");
  });

  it("a graph socket answers malformed requests with errors and stays open", async () => {
    const ws = await openWs(h.stack, "/comfy/graph/ws");
    const answers = [];
    ws.on("message", (d) => answers.push(JSON.parse(d.toString())));
    ws.send("{not json");
    ws.send('{"request_id": "a", "type": "explode"}');
    ws.send('{"request_id": "b"}');
    ws.send('{"request_id": "c", "type": "get_graph"}');
    for (let i = 0; i < 200 && answers.length < 4; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(answers.length, 4, JSON.stringify(answers));
    const byId = Object.fromEntries(answers.filter((a) => a.request_id).map((a) => [a.request_id, a]));
    assert.equal(byId.a.status, "error");
    assert.equal(byId.b.status, "error");
    assert.equal(byId.c.status, "ok");
    assert.ok(answers.some((a) => a.status === "error" && !a.request_id), "the unparsable one got an error");
    ws.close();
    await stillUp("bad WS requests");
  });

  // Origin, Host and token checks, over HTTP and on the WebSocket upgrade.
  const policy = [
    ["a foreign Origin", { origin: "http://evil.test" }, 403],
    ["Origin: null", { origin: "null" }, 403],
    ["the allowed host on another port", { origin: "http://127.0.0.1:9999" }, 403],
    ["a look-alike Origin", { origin: "http://127.0.0.1.evil.test:8188" }, 403],
    ["a foreign Host", { host: "evil.test" }, 421],
    ["a foreign Host with the port", { host: "evil.test:PORT" }, 421],
    ["no token", { token: false }, 401],
    ["a wrong token", { token: "0".repeat(64) }, 401],
    ["a truncated token", { token: "TRUNC" }, 401],
  ];
  for (const [name, o, status] of policy) {
    it(`${name}: ${status} over HTTP and on the WebSocket upgrade`, async () => {
      const s = h.stack;
      const token = o.token === "TRUNC" ? s.token.slice(0, -1) : o.token;
      const headers = {};
      if (o.origin) headers.origin = o.origin;
      if (o.host) headers.host = o.host.replace("PORT", String(s.port));
      const r = await post(s, "/comfy/graph/command", { type: "get_graph" }, { headers, token });
      assert.equal(r.status, status, `HTTP: ${r.status} ${r.text.slice(0, 200)}`);
      const r2 = await get(s, "/comfy/graph/canvases", { headers, token, h2: true });
      assert.equal(r2.status, status, `h2: ${r2.status} ${r2.text.slice(0, 200)}`);
      const wsHeaders = o.host ? { host: headers.host } : {};
      await assert.rejects(
        openWs(s, "/comfy/editor/ws", { token, origin: o.origin, headers: wsHeaders }),
        (e) => e.status === status,
      );
      await stillUp(name);
    });
  }

  it("ComfyUI's own origin needs the token too, on every endpoint and WebSocket", async () => {
    const s = h.stack;
    for (const origin of ["http://127.0.0.1:8188", "http://localhost:8188"]) {
      // Any local process can send this Origin: it waives nothing.
      const r = await post(s, "/comfy/graph/command", { type: "get_graph" }, { headers: { origin }, token: false });
      assert.equal(r.status, 401, `HTTP: ${r.status} ${r.text.slice(0, 200)}`);
      assert.equal(r.headers["www-authenticate"], "Bearer");
      const r2 = await get(s, "/comfy/graph/canvases", { headers: { origin }, token: false, h2: true });
      assert.equal(r2.status, 401, `h2: ${r2.status}`);
      const r3 = await post(s, "/mcp", { jsonrpc: "2.0", id: 1, method: "ping" }, { headers: { origin, accept: "application/json, text/event-stream" }, token: false });
      assert.equal(r3.status, 401, `mcp: ${r3.status}`);
      for (const path of ["/comfy/graph/ws", "/comfy/editor/ws", "/comfy/session/ws"]) {
        await assert.rejects(openWs(s, path, { token: false, origin }), (e) => e.status === 401, path);
      }
      // With the token the browser path works: header, query or subprotocol.
      expectGraphOk(await post(s, "/comfy/graph/command", { type: "get_graph" }, { headers: { origin } }));
      (await openWs(s, "/comfy/graph/ws", { origin })).close();
      const ws = await openWs(s, "/comfy/session/ws", { token: false, origin, protocols: ["comfyd", `comfyd.token.${s.token}`] });
      assert.equal(ws.protocol, "comfyd", "the plain subprotocol is echoed");
      ws.close();
      const ws2 = await openWs(s, "/comfy/graph/ws", { token: false, origin, protocols: [`comfyd.token.${s.token}`] });
      assert.equal(ws2.protocol, `comfyd.token.${s.token}`, "a lone token subprotocol is echoed");
      ws2.close();
      await assert.rejects(openWs(s, "/comfy/editor/ws", { token: false, origin, protocols: ["comfyd", "comfyd.token.wrong"] }), (e) => e.status === 401);
    }
    // Host names the bridge accepts: localhost and the IPv4 literal.
    const r = await get(s, "/comfy/graph/canvases", { headers: { host: `localhost:${s.port}` } });
    assert.equal(r.status, 200);
  });

  it("after all of that the bridge still serves commands and holds no leftover connections", async () => {
    const r = await post(h.stack, "/comfy/graph/command", { type: "create_node", node_type: "KSampler", x: 1, y: 1 });
    expectGraphOk(r);
    await stillUp("the whole table");
    // Only the editor's socket is open; every refused connection is gone.
    const gauges = async () => {
      const m = await get(h.stack, "/metrics");
      const g = {};
      for (const [, ep, v] of m.text.matchAll(/^comfyd_bridge_ws_connections\{endpoint="(\w+)"\} (\d+)$/gm)) g[ep] = Number(v);
      return g;
    };
    let last = {};
    await waitFor(async () => {
      last = await gauges();
      return last.editor === 1 && last.graph === 0 && last.session === 0;
    }, 10000, "WebSocket gauges back to one editor").catch((e) => {
      throw new Error(`${e.message}: ${JSON.stringify(last)}`);
    });
    if (!process.env.COMFYD_IT_WRAPPER) {
      await waitFor(() => bridgeFds() <= baselineFds, 10000, `bridge fds back to ${baselineFds}`).catch((e) => {
        throw new Error(`${e.message}: ${bridgeFds()} open`);
      });
    }
  });
});

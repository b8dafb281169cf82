// The bridge's connection limit (--max-connections, README "Limits"): with
// every slot held by connections that presented the token, the next one is
// answered 503 "too many connections" at once and closed, whether it is a
// WebSocket upgrade, a plain request or a socket that sends nothing; it
// never hangs. The bridge stays up, the connections it holds keep working,
// and a slot that frees is taken by the next newcomer.

import assert from "node:assert/strict";
import { connect as tcpConnect } from "node:net";
import { describe } from "node:test";
import { useStack, itWithLogs } from "../lib/harness.mjs";
import { get, openWs, GraphWs, rawExchange, statusOf } from "../lib/clients.mjs";
import { waitFor } from "../lib/stack.mjs";

// Slots of the bridge under test, and how many of them may be without the
// token (--max-unauth-connections may not exceed --max-connections).
const LIMIT = 8;
const UNAUTH = 4;
// A refusal is written as soon as the connection is accepted: well under
// the handshake deadline (10 s) or a client's own timeout, which is what a
// connection that hangs would run into.
const PROMPT_MS = 3000;

// One kept-alive HTTP/1.1 connection of our own, for reading /metrics while
// every other slot is taken (it holds one of them). Bodies are read by
// Content-Length.
class KeepAlive {
  constructor(stack) {
    this.stack = stack;
  }

  async open() {
    this.sock = await new Promise((resolve, reject) => {
      const s = tcpConnect(this.stack.port, "127.0.0.1", () => resolve(s));
      s.once("error", reject);
    });
    this.buf = Buffer.alloc(0);
    this.closed = false;
    this.waiter = null;
    this.sock.on("data", (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiter?.();
    });
    this.sock.on("close", () => {
      this.closed = true;
      this.waiter?.();
    });
    this.sock.on("error", () => {});
    return this;
  }

  // GET path; resolves { status, text }.
  async get(path, guardMs = 10000) {
    const s = this.stack;
    this.sock.write(`GET ${path} HTTP/1.1\r\nHost: ${s.hostHeader}\r\nAuthorization: Bearer ${s.token}\r\n\r\n`);
    const deadline = Date.now() + guardMs;
    for (;;) {
      const end = this.buf.indexOf("\r\n\r\n");
      if (end >= 0) {
        const head = this.buf.subarray(0, end).toString("latin1");
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        assert.ok(m, `a Content-Length in ${head}`);
        const total = end + 4 + Number(m[1]);
        if (this.buf.length >= total) {
          const text = this.buf.subarray(end + 4, total).toString("utf8");
          this.buf = this.buf.subarray(total);
          return { status: statusOf(Buffer.from(head, "latin1")), text };
        }
      }
      if (this.closed) throw new Error(`kept-alive connection closed: ${this.buf.toString("latin1").slice(0, 200)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no answer to GET ${path} within ${guardMs} ms`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = null;
    }
  }

  close() {
    this.sock.destroy();
  }
}

function metric(text, name) {
  const m = new RegExp(`^comfyd_bridge_${name} (\\d+)$`, "m").exec(text);
  assert.ok(m, `metric ${name} in:\n${text}`);
  return Number(m[1]);
}

// Opens a WebSocket over the limit; resolves { status, ms } of the refusal.
async function refusedUpgrade(stack, path) {
  const t0 = Date.now();
  try {
    const ws = await openWs(stack, path);
    ws.terminate();
  } catch (e) {
    return { status: e.status, ms: Date.now() - t0, message: e.message };
  }
  return { status: 101, ms: Date.now() - t0, message: "the upgrade was answered" };
}

describe("connection limit", () => {
  const h = useStack({ bridgeArgs: ["--max-connections", String(LIMIT), "--max-unauth-connections", String(UNAUTH)] });
  const it = itWithLogs(h);

  it(`the connection over --max-connections ${LIMIT} gets a 503 at once; the others keep working, a freed slot is taken`, async () => {
    const s = h.stack;
    // The probes of the stack's start may still be closing: begin with the
    // bridge holding nothing but our own connection.
    const ka = await new KeepAlive(s).open();
    await waitFor(async () => metric((await ka.get("/metrics")).text, "net_connections") === 1, 10000, "only our connection open");

    const held = [];
    for (let i = 0; i < LIMIT - 1; i++) held.push(await GraphWs.open(s));
    const full = await ka.get("/metrics");
    assert.equal(full.status, 200);
    assert.equal(metric(full.text, "net_connections"), LIMIT, "every slot taken");
    const refusedBefore = metric(full.text, "net_connections_refused_total");

    // A WebSocket upgrade, on both WebSocket routes.
    for (const path of ["/comfy/graph/ws", "/comfy/session/ws"]) {
      const r = await refusedUpgrade(s, path);
      assert.equal(r.status, 503, `${path}: ${r.message}`);
      assert.ok(r.ms < PROMPT_MS, `${path} refused after ${r.ms} ms`);
    }
    // A plain request: the answer names the reason, and the connection ends.
    const plain = await rawExchange(s.port, `GET /comfy/graph/canvases HTTP/1.1\r\nHost: ${s.hostHeader}\r\nAuthorization: Bearer ${s.token}\r\n\r\n`, {
      guardMs: 10000,
    });
    assert.equal(statusOf(plain.data), 503, plain.data.toString("latin1").slice(0, 200));
    assert.match(plain.data.toString("latin1"), /too many connections/);
    assert.ok(plain.closed && plain.ms < PROMPT_MS, `closed ${plain.closed} after ${plain.ms} ms`);
    // A socket that sends nothing is told just as fast.
    const silent = await rawExchange(s.port, [], { guardMs: 10000, keepOpenMs: 10000 });
    assert.equal(statusOf(silent.data), 503, silent.data.toString("latin1").slice(0, 200));
    assert.ok(silent.closed && silent.ms < PROMPT_MS, `closed ${silent.closed} after ${silent.ms} ms`);
    // curl's view of it.
    const viaCurl = await get(s, "/comfy/graph/canvases", { timeoutS: 10 });
    assert.equal(viaCurl.status, 503, viaCurl.text);

    // The bridge is up and serves every connection it holds, through to
    // the core.
    assert.ok(s.bridge.alive(), "the bridge is running");
    for (const g of held) {
      const a = await g.request({ type: "canvases" });
      assert.equal(a.status, "ok", JSON.stringify(a));
    }
    const after = await ka.get("/metrics");
    assert.equal(after.status, 200);
    assert.equal(metric(after.text, "net_connections"), LIMIT, "the refused ones hold no slot");
    assert.equal(metric(after.text, "net_connections_refused_total") - refusedBefore, 5, "five refusals counted");

    // A slot that frees is the next newcomer's.
    const gone = held.pop();
    const closed = new Promise((resolve) => gone.ws.once("close", resolve));
    gone.close();
    await closed;
    let again = null;
    await waitFor(
      async () => {
        try {
          again = await GraphWs.open(s);
          return true;
        } catch (e) {
          if (e.status !== 503) throw e;
          return false;
        }
      },
      10000,
      "a new WebSocket in the freed slot",
    );
    const a = await again.request({ type: "canvases" });
    assert.equal(a.status, "ok", JSON.stringify(a));
    held.push(again);
    for (const g of held) g.close();
    ka.close();
  });
});

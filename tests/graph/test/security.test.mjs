// Abuse of the real bridge (docs/security.md): HTTP/2 rapid reset on one
// connection must not spill over to other clients, idle sockets without
// the token must not starve callers that have it, and text a client
// chooses (a canvas_id with a newline) must not forge a log line.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connect as tcpConnect } from "node:net";
import path from "node:path";
import { describe } from "node:test";
import { useStack, itWithLogs } from "../lib/harness.mjs";
import { get, openWs } from "../lib/clients.mjs";
import { HERE, sleep, waitFor } from "../lib/stack.mjs";

const PY = "/usr/bin/python3";
const RAPID_RESET = path.join(HERE, "h2_rapid_reset.py");
// Two abusive connections, each sending this many HEADERS + DATA +
// RST_STREAM triples: together about twice the core client's cap on calls
// in flight (1024), which they filled before the fix (nghttp2's own
// reset limit ends each after about 1000).
const ABUSERS = 2;
const PAIRS = 1000;
// Tabs that never answer, each holding up to the core's 64 queued
// commands (CANVAS_MAX_QUEUED): room for more than 1024 waiting calls.
const SILENT_TABS = 24;
// Requests of the well-behaved client while the abuse is in flight.
const OTHERS = 30;
// A tab that never answers makes each command wait this long in the core,
// so calls the abuser cancelled stay in flight.
const SILENT_TAB_WAIT_MS = 8000;
// The bridge under test: a small unauthenticated budget and a short
// handshake deadline, so the idle-socket scenario is quick.
const UNAUTH = 8;
const HANDSHAKE_MS = 1500;

const EMPTY_WORKFLOW = JSON.stringify({ last_node_id: 0, last_link_id: 0, nodes: [], links: [], groups: [], config: {}, extra: {}, version: 0.4 });

// Runs the raw h2 client; resolves { sent: Promise, done: Promise<result> }.
function rapidReset(stack, bodies) {
  const p = spawn(PY, [RAPID_RESET, String(stack.port), stack.token, "/comfy/graph/command", JSON.stringify(bodies), String(PAIRS)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let onSent;
  const sent = new Promise((r) => (onSent = r));
  p.stdout.on("data", (d) => {
    out += d;
    if (out.includes("sent\n")) onSent();
  });
  p.stderr.on("data", (d) => (err += d));
  const done = new Promise((resolve, reject) => {
    p.on("error", reject);
    p.on("close", (code) => {
      onSent();
      const line = out.trim().split("\n").pop();
      if (code !== 0) return reject(new Error(`h2_rapid_reset.py exited ${code}: ${err}`));
      resolve(JSON.parse(line));
    });
  });
  return { sent, done };
}

// Attaches a tab that never answers commands. Resolves with its socket.
async function silentTab(stack, canvasId) {
  const ws = await openWs(stack, "/comfy/editor/ws");
  const attached = new Promise((resolve, reject) => {
    ws.on("message", (d) => {
      const m = JSON.parse(String(d));
      if (m.type === "attached") resolve();
      if (m.type === "error") reject(new Error(JSON.stringify(m)));
    });
    ws.once("close", (code, reason) => reject(new Error(`tab closed: ${code} ${reason}`)));
  });
  ws.send(JSON.stringify({ type: "attach", canvas_id: canvasId, title: canvasId, workflow_json: EMPTY_WORKFLOW }));
  await attached;
  return ws;
}

function idleSocket(port) {
  return new Promise((resolve, reject) => {
    const s = tcpConnect(port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
}

describe("security", () => {
  const h = useStack({ bridgeArgs: ["--max-unauth-connections", String(UNAUTH), "--handshake-timeout-ms", String(HANDSHAKE_MS)] });
  const it = itWithLogs(h);

  it("rapid reset on h2 connections: GOAWAY ENHANCE_YOUR_CALM, and every other request is answered 200", async () => {
    const s = h.stack;
    const tabs = [];
    const bodies = [];
    for (let i = 0; i < SILENT_TABS; i++) {
      tabs.push(await silentTab(s, `silent-${i}`));
      bodies.push({ type: "create_node", node_type: "KSampler", x: 1, y: 1, canvas_id: `silent-${i}`, timeout_ms: SILENT_TAB_WAIT_MS });
    }
    const abuse = Array.from({ length: ABUSERS }, () => rapidReset(s, bodies));
    await Promise.all(abuse.map((a) => a.sent));
    const others = [];
    for (let i = 0; i < OTHERS; i++) {
      others.push(get(s, "/comfy/graph/canvases", { h2: i % 2 === 1 }));
      await sleep(20);
    }
    const answers = await Promise.all(others);
    const statuses = answers.map((r) => r.status);
    assert.deepEqual(statuses, Array(OTHERS).fill(200), `other client's answers: ${answers.filter((r) => r.status !== 200).map((r) => r.text.slice(0, 120)).join(" | ")}`);
    for (const a of abuse) {
      const res = await a.done;
      // ENHANCE_YOUR_CALM is 0xb.
      assert.equal(res.goaway, 11, `abusive connection: ${JSON.stringify(res)}`);
    }
    const metrics = await get(s, "/metrics");
    assert.match(metrics.text, /comfyd_bridge_net_h2_calmed_total [1-9]/);
    for (const t of tabs) t.close();
  });

  it("idle sockets without the token do not starve a caller that has it; they are closed after the handshake deadline", async () => {
    const s = h.stack;
    // Twice the unauthenticated budget: the oldest give way.
    const idle = await Promise.all(Array.from({ length: 2 * UNAUTH }, () => idleSocket(s.port)));
    const closedAt = idle.map(() => null);
    const t0 = Date.now();
    idle.forEach((sock, i) => sock.on("close", () => (closedAt[i] = Date.now() - t0)));
    sock_errors(idle);
    const r = await get(s, "/comfy/graph/canvases");
    assert.equal(r.status, 200);
    await waitFor(() => closedAt.every((t) => t !== null), 10000, "idle sockets closed");
    // The first ones made room for the later ones at once; the rest waited
    // for the deadline.
    const late = closedAt.filter((t) => t >= HANDSHAKE_MS - 300);
    assert.ok(late.length <= UNAUTH + 1, `closed at ${closedAt}`);
    assert.ok(closedAt.some((t) => t < HANDSHAKE_MS - 300), `some gave way at once: ${closedAt}`);
    const metrics = await get(s, "/metrics");
    assert.match(metrics.text, /comfyd_bridge_net_connections_evicted_total [1-9]/);
    assert.match(metrics.text, /comfyd_bridge_net_handshake_timeouts_total [1-9]/);
  });

  it("a canvas_id with a newline is one escaped log line, never a forged one", async () => {
    const s = h.stack;
    const marker = `forged-${Date.now()}`;
    const canvasId = `evil\n2026-01-01T00:00:00.000Z NOTE  app: ${marker}`;
    const ws = await openWs(s, "/comfy/editor/ws");
    const ended = new Promise((resolve) => ws.once("close", resolve));
    ws.send(JSON.stringify({ type: "attach", canvas_id: canvasId, title: "x", workflow_json: EMPTY_WORKFLOW }));
    await sleep(500);
    ws.close();
    await ended;
    await sleep(300);
    const lines = (s.bridge.log() + s.core.log()).split("\n").filter((l) => l.includes(marker));
    assert.ok(lines.length >= 1, "the canvas id was logged");
    for (const l of lines) {
      assert.match(l, /^\d{4}-\d\d-\d\dT[0-9:.]+Z (DEBUG|INFO |WARN |ERROR|NOTE ) [a-z_-]+: /, `a real log line: ${l}`);
      assert.ok(!l.startsWith("2026-01-01T00:00:00.000Z"), `forged: ${l}`);
      assert.ok(l.includes("evil\\n2026-01-01"), `escaped: ${l}`);
    }
  });
});

function sock_errors(socks) {
  for (const s of socks) s.on("error", () => {});
}

// Live graph control benchmark: real comfyd and comfyd-bridge processes, a
// headless editor (tests/graph/editor.mjs, in its own process) on a real
// LiteGraph, and clients on loopback. Prints a table; asserts nothing
// about speed.
//
//   node bench/graph/bench.mjs [--commands N] [--concurrency C]
//        [--concurrent-commands N] [--same-base-rounds N] [--graph-nodes N]
//        [--get-graph N] [--subscribers N] [--messages N] [--words N]
//        [--only seq,conc,same-base,get-graph,fanout]
//
// Measured:
//  1. command round trip caller -> bridge -> core -> editor -> back,
//     sequential (set_widget and move_node alternating) over HTTP/1.1
//     keep-alive and over WS /comfy/graph/ws: p50, p99, commands/s;
//  2. the same with C concurrent callers (own connections): commands/s;
//     and C callers that each send a patch built on the same revision,
//     round after round, each on its own node (docs/concurrent-editing.md):
//     patches committed per second and the share that committed;
//  3. get_graph of a canvas with --graph-nodes nodes (answered from the
//     core's mirror): p50, p99;
//  4. stream_delta fan-out of one session to --subscribers WebSockets of
//     /comfy/session/ws: delivered messages/s.

import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const lib = path.resolve(here, "..", "..", "tests", "graph", "lib");
const { Stack } = await import(path.join(lib, "stack.mjs"));
const { openWs, GraphWs } = await import(path.join(lib, "clients.mjs"));
const { txt2imgCommands } = await import(path.join(lib, "graph.mjs"));

function args() {
  const a = {
    commands: 2000,
    concurrency: 16,
    concurrentCommands: 4000,
    sameBaseRounds: 20,
    graphNodes: 500,
    getGraph: 300,
    subscribers: 100,
    messages: 5,
    words: 200,
    only: "seq,conc,same-base,get-graph,fanout",
  };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in a) || i + 1 >= argv.length) {
      console.error(`bench: unknown or incomplete argument ${argv[i]}`);
      process.exit(2);
    }
    a[key] = key === "only" ? argv[i + 1] : Number(argv[i + 1]);
  }
  return a;
}

function pct(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(lat) {
  const s = [...lat].sort((x, y) => x - y);
  return { n: s.length, p50: pct(s, 50), p99: pct(s, 99), max: s[s.length - 1] };
}

// One keep-alive HTTP/1.1 connection per caller.
function httpClient(stack) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return (p, body) =>
    new Promise((resolve, reject) => {
      const data = Buffer.from(JSON.stringify(body));
      const req = http.request(
        {
          host: "127.0.0.1",
          port: stack.port,
          path: p,
          method: "POST",
          agent,
          headers: {
            "content-type": "application/json",
            "content-length": data.length,
            authorization: `Bearer ${stack.token}`,
          },
        },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
            resolve(JSON.parse(text));
          });
        },
      );
      req.on("error", reject);
      req.end(data);
    });
}

// The same, answering every status with { status, json }.
function httpClientAny(stack) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return (p, body) =>
    new Promise((resolve, reject) => {
      const data = Buffer.from(JSON.stringify(body));
      const req = http.request(
        {
          host: "127.0.0.1",
          port: stack.port,
          path: p,
          method: "POST",
          agent,
          headers: { "content-type": "application/json", "content-length": data.length, authorization: `Bearer ${stack.token}` },
        },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode, json: JSON.parse(Buffer.concat(chunks).toString()) }));
        },
      );
      req.on("error", reject);
      req.end(data);
    });
}

function commandFor(i, ks, latent) {
  return i % 2 === 0
    ? { type: "set_widget", node_id: ks, name: "steps", value: 1 + (i % 1000) }
    : { type: "move_node", node_id: latent, x: i % 5000, y: (i * 7) % 5000 };
}

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

async function main() {
  const a = args();
  const stack = await new Stack({ echoDelayMs: 0, logLevel: "info" }).start();
  const rows = [];
  const run = new Set(a.only.split(","));
  try {
    // The editor of the command benchmarks, in its own process.
    await stack.editorProcess(["--canvas-id", "bench:txt2img"]);
    const call = httpClient(stack);
    const built = await call("/comfy/graph/batch", { canvas_id: "bench:txt2img", commands: txt2imgCommands() });
    const ks = Number(built.refs.sampler);
    const latent = Number(built.refs.latent);

    // Warm-up.
    for (let i = 0; i < 50; i++) await call("/comfy/graph/command", { ...commandFor(i, ks, latent), canvas_id: "bench:txt2img" });

    // 1a. Sequential over HTTP/1.1 keep-alive.
    if (run.has("seq")) {
      const lat = [];
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < a.commands; i++) {
        const t = process.hrtime.bigint();
        const r = await call("/comfy/graph/command", { ...commandFor(i, ks, latent), canvas_id: "bench:txt2img" });
        if (!r.ok) throw new Error(`command failed: ${JSON.stringify(r)}`);
        lat.push(ms(t));
      }
      const total = ms(t0);
      rows.push({ name: "command round trip, sequential, HTTP/1.1", ...summary(lat), rate: (a.commands / total) * 1000, unit: "cmd/s" });
    }

    // 1b. Sequential over WS /comfy/graph/ws.
    if (run.has("seq")) {
      const gws = await GraphWs.open(stack);
      const lat = [];
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < a.commands; i++) {
        const t = process.hrtime.bigint();
        const r = await gws.request({ ...commandFor(i, ks, latent), canvas_id: "bench:txt2img" });
        if (r.status !== "ok") throw new Error(`command failed: ${JSON.stringify(r)}`);
        lat.push(ms(t));
      }
      const total = ms(t0);
      gws.close();
      rows.push({ name: "command round trip, sequential, WebSocket", ...summary(lat), rate: (a.commands / total) * 1000, unit: "cmd/s" });
    }

    // 2. Concurrent callers, each on its own keep-alive connection.
    if (run.has("conc")) {
      const lat = [];
      let next = 0;
      const t0 = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: a.concurrency }, async () => {
          const c = httpClient(stack);
          while (next < a.concurrentCommands) {
            const i = next++;
            const t = process.hrtime.bigint();
            const r = await c("/comfy/graph/command", { ...commandFor(i, ks, latent), canvas_id: "bench:txt2img" });
            if (!r.ok) throw new Error(`command failed: ${JSON.stringify(r)}`);
            lat.push(ms(t));
          }
        }),
      );
      const total = ms(t0);
      rows.push({
        name: `command round trip, ${a.concurrency} concurrent callers`,
        ...summary(lat),
        rate: (a.concurrentCommands / total) * 1000,
        unit: "cmd/s",
      });
    }

    // 2b. Concurrent callers on one base revision: each round, every
    // caller sends a patch on its own node built on the revision read at
    // the start of the round. Refused patches (STALE_REVISION) count as
    // not committed.
    if (run.has("same-base")) {
      const mine = [];
      for (let i = 0; i < a.concurrency; i++) mine.push({ type: "create_node", node_type: "EmptyLatentImage", ref: `c${i}`, x: 3000, y: 150 * i });
      const made = await call("/comfy/graph/batch", { canvas_id: "bench:txt2img", commands: mine });
      const clients = Array.from({ length: a.concurrency }, () => httpClientAny(stack));
      let committed = 0;
      let refused = 0;
      const lat = [];
      const t0 = process.hrtime.bigint();
      for (let round = 0; round < a.sameBaseRounds; round++) {
        const g = await call("/comfy/graph/command", { type: "get_graph", canvas_id: "bench:txt2img" });
        const base = Number(g.revision);
        await Promise.all(
          clients.map(async (c, i) => {
            const t = process.hrtime.bigint();
            const r = await c("/comfy/graph/batch", {
              canvas_id: "bench:txt2img",
              base_revision: base,
              commands: [
                { type: "set_widget", node_id: Number(made.refs[`c${i}`]), name: "width", value: 512 + 8 * ((round + i) % 64) },
                { type: "move_node", node_id: Number(made.refs[`c${i}`]), x: 3000 + round, y: 150 * i },
              ],
            });
            if (r.status === 200 && r.json.ok) {
              committed++;
              lat.push(ms(t));
            } else if (r.status === 409) refused++;
            else throw new Error(`same-base patch: HTTP ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
          }),
        );
      }
      const total = ms(t0);
      rows.push({
        name: `${a.concurrency} callers on one base revision, ${a.sameBaseRounds} rounds`,
        ...summary(lat),
        rate: (committed / total) * 1000,
        unit: "commits/s",
        note: `${committed} of ${committed + refused} patches committed, ${refused} refused STALE_REVISION, ${total.toFixed(0)} ms`,
      });
    }

    // 3. get_graph of a large canvas (answered from the mirror).
    if (run.has("get-graph")) {
      await stack.editorProcess(["--canvas-id", "bench:large", "--unfocused"]);
      let nodes = 0;
      for (let g = 0; nodes < a.graphNodes; g++) {
        const cmds = txt2imgCommands({ x0: 0, y0: g * 800 });
        let extra = 0;
        while (nodes + 7 + extra < a.graphNodes && extra < 3) {
          cmds.push({ type: "create_node", node_type: "PreviewImage", ref: `p${extra}`, x: 2200, y: g * 800 + extra * 200 });
          cmds.push({ type: "connect", from_id: "decode", from_slot: 0, to_id: `p${extra}`, to_slot: 0 });
          extra++;
        }
        const r = await call("/comfy/graph/batch", { canvas_id: "bench:large", commands: cmds });
        if (!r.ok) throw new Error(`batch failed: ${JSON.stringify(r).slice(0, 500)}`);
        nodes += 7 + extra;
      }
      const first = await call("/comfy/graph/command", { type: "get_graph", canvas_id: "bench:large" });
      const n = first.graph.nodes.length;
      const l = first.graph.links.length;
      const bytes = JSON.stringify(first).length;
      const lat = [];
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < a.getGraph; i++) {
        const t = process.hrtime.bigint();
        await call("/comfy/graph/command", { type: "get_graph", canvas_id: "bench:large" });
        lat.push(ms(t));
      }
      const total = ms(t0);
      rows.push({
        name: `get_graph, ${n} nodes / ${l} links (${(bytes / 1024).toFixed(0)} KiB JSON)`,
        ...summary(lat),
        rate: (a.getGraph / total) * 1000,
        unit: "req/s",
      });
    }

    // 4. Session fan-out to many WebSocket subscribers.
    if (run.has("fanout")) rows.push(await fanout(stack, a));
  } finally {
    const codes = await stack.stop();
    const bad = codes.filter(([, c]) => c !== 0);
    if (bad.length) console.error(`bench: exit codes ${JSON.stringify(bad)}`);
  }
  print(rows, a);
}

async function fanout(stack, a) {
  const socks = await Promise.all(Array.from({ length: a.subscribers }, () => openWs(stack, "/comfy/session/ws")));
  const control = await openWs(stack, "/comfy/session/ws");
  const answers = new Map();
  control.on("message", (d) => {
    const m = JSON.parse(d.toString());
    if (m.request_id && answers.has(m.request_id)) answers.get(m.request_id)(m);
  });
  const ask = (event, data) =>
    new Promise((resolve, reject) => {
      const id = `b${answers.size + 1}`;
      const t = setTimeout(() => reject(new Error(`no answer to ${event}`)), 20000);
      answers.set(id, (m) => {
        clearTimeout(t);
        resolve(m);
      });
      control.send(JSON.stringify({ event, request_id: id, data }));
    });
  // One active skill: each user message gets one streamed reply.
  const created = await ask("create", {
    title: "fan-out bench",
    config: { provider: "echo", active_skills: ["prompt-writer"] },
  });
  if (created.event === "error") throw new Error(`create: ${JSON.stringify(created)}`);
  const sid = created.data?.session?.id ?? created.data?.id ?? created.data?.session_id;
  const counts = socks.map(() => ({ deltas: 0, all: 0, replies: 0, errors: 0, synced: false }));
  let closed = 0;
  socks.forEach((ws, i) => {
    ws.on("message", (d) => {
      const m = JSON.parse(d.toString());
      const c = counts[i];
      c.all++;
      if (m.event === "sync_state") c.synced = true;
      else if (m.event === "stream_delta") c.deltas++;
      else if (m.event === "message_added" && m.data?.message?.role === "assistant") c.replies++;
      else if (m.event === "error") c.errors++;
    });
    ws.on("close", () => closed++);
    ws.send(JSON.stringify({ event: "join", data: { session_id: sid } }));
  });
  const deadline = Date.now() + 20000;
  while (counts.some((c) => !c.synced) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const content = Array.from({ length: a.words }, (_, i) => `word${i}`).join(" ");
  const t0 = process.hrtime.bigint();
  for (let m = 0; m < a.messages; m++) {
    const ack = await ask("user_message", { session_id: sid, content, client_message_id: `bench-${m}` });
    if (ack.event === "error") throw new Error(`user_message: ${JSON.stringify(ack)}`);
  }
  // Every subscriber has seen every reply stored (or was closed).
  const end = Date.now() + 120000;
  while (Date.now() < end && counts.some((c, i) => c.replies < a.messages && socks[i].readyState === 1)) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const total = ms(t0);
  const deltas = counts.reduce((s, c) => s + c.deltas, 0);
  const all = counts.reduce((s, c) => s + c.all, 0);
  const perSub = counts.map((c) => c.deltas).sort((x, y) => x - y);
  for (const ws of socks) ws.close();
  control.close();
  return {
    name: `session fan-out: ${a.subscribers} subscribers x ${a.messages} replies`,
    n: deltas,
    p50: NaN,
    p99: NaN,
    max: NaN,
    rate: (deltas / total) * 1000,
    unit: "delta/s",
    note: `stream_delta per subscriber ${perSub[0]}..${perSub[perSub.length - 1]}, all events ${all} (${((all / total) * 1000).toFixed(0)}/s), ${closed} subscribers closed, ${total.toFixed(0)} ms`,
  };
}

function print(rows, a) {
  const cpu = os.cpus()[0]?.model ?? "?";
  console.log(`\ncomfyd live graph benchmark (${os.cpus().length} x ${cpu}, node ${process.version})`);
  console.log(`commands ${a.commands}, concurrency ${a.concurrency} x ${a.concurrentCommands}, get_graph ${a.getGraph}\n`);
  const fmt = (x) => (Number.isFinite(x) ? x.toFixed(2) : "-");
  const head = ["benchmark", "n", "p50 ms", "p99 ms", "max ms", "rate"];
  const body = rows.map((r) => [r.name, String(r.n), fmt(r.p50), fmt(r.p99), fmt(r.max), `${r.rate.toFixed(0)} ${r.unit}`]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cols) => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(line(head));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const b of body) console.log(line(b));
  for (const r of rows) if (r.note) console.log(`\n${r.name}: ${r.note}`);
}

await main();

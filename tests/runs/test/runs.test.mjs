// Runs against the real ComfyUI server: comfyd started with --comfyui
// posts the prompt a headless editor converted (graphToPrompt), follows
// ComfyUI's /ws events and /history, and the bridge serves the run, its
// live events on WS /comfy/graph/ws and its output image.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { inflateSync } from "node:zlib";
import { HeadlessEditor, prepareLiteGraph } from "../../graph/editor.mjs";
import { get, openWs, post } from "../../graph/lib/clients.mjs";
import { sleep, Stack, START_GUARD_MS, waitFor } from "../../graph/lib/stack.mjs";
import { ComfyUI } from "../lib/comfyui.mjs";

const CANVAS = "tab-1:runs";
const RUN_GUARD_MS = Number(process.env.COMFYD_RUN_GUARD_MS ?? 120000);

// The image's size and pixels from a PNG: IHDR, then the inflated IDAT
// stream must hold height rows of (filter byte + width * channels).
function decodePng(buf) {
  assert.equal(buf.subarray(0, 8).toString("hex"), "89504e470d0a1a0a", "PNG signature");
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.subarray(off + 4, off + 8).toString("latin1");
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8, "bit depth 8");
      channels = { 2: 3, 6: 4, 0: 1 }[data[9]];
    } else if (type === "IDAT") idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  assert.equal(raw.length, height * (1 + width * channels), "pixel data size");
  return { width, height, channels, raw };
}

describe("runs on the real ComfyUI", () => {
  let cui;
  let stack;
  let ed;
  let ws;
  const events = [];
  let ids = {};

  const logs = () => `${stack?.logs() ?? ""}\n---- ComfyUI ----\n${cui?.tail() ?? ""}`;

  // The first run event of prompt id pid for which pred holds.
  async function waitRun(pid, pred, what, guard = RUN_GUARD_MS) {
    const deadline = Date.now() + guard;
    while (Date.now() < deadline) {
      const e = events.find((m) => m.data.prompt_id === pid && pred(m.data));
      if (e) return e.data;
      await sleep(50);
    }
    const seen = events.filter((m) => m.data.prompt_id === pid).map((m) => `${m.data.status} ${m.data.reason}`);
    throw new Error(`${what}: not within ${guard} ms; saw ${JSON.stringify(seen)}\n${logs()}`);
  }

  async function build(commands) {
    const r = await post(stack, "/comfy/graph/batch", { commands: [{ type: "clear_graph" }, ...commands], canvas_id: CANVAS });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.ok, true, r.text);
    return r.json.refs;
  }

  const invertGraph = (w, h, color) => [
    { type: "create_node", node_type: "EmptyImage", ref: "img", widgets: { width: w, height: h, batch_size: 1, color } },
    { type: "create_node", node_type: "ImageInvert", ref: "inv", title: "Invert it" },
    { type: "create_node", node_type: "SaveImage", ref: "save", widgets: { filename_prefix: "runs" } },
    { type: "connect", from_id: "img", from_slot: 0, to_id: "inv", to_slot: 0 },
    { type: "connect", from_id: "inv", from_slot: 0, to_id: "save", to_slot: 0 },
  ];

  // Slow without a model: blurs of a 512x512 image, one after the other
  // (ComfyUI checks for an interrupt between nodes). color varies the
  // image so that nothing is answered from ComfyUI's cache.
  const slowGraph = (color, n = 6) => {
    const cmds = [{ type: "create_node", node_type: "EmptyImage", ref: "img", widgets: { width: 512, height: 512, batch_size: 1, color } }];
    let prev = "img";
    for (let i = 0; i < n; i++) {
      cmds.push({ type: "create_node", node_type: "ImageBlur", ref: `b${i}`, widgets: { blur_radius: 31, sigma: 5 } });
      cmds.push({ type: "connect", from_id: prev, from_slot: 0, to_id: `b${i}`, to_slot: 0 });
      prev = `b${i}`;
    }
    cmds.push({ type: "create_node", node_type: "PreviewImage", ref: "prev" });
    cmds.push({ type: "connect", from_id: prev, from_slot: 0, to_id: "prev", to_slot: 0 });
    return cmds;
  };

  before(async () => {
    cui = await new ComfyUI().start();
    const info = await cui.objectInfoFile();
    stack = await new Stack({ coreArgs: ["--comfyui", cui.base], objectInfo: info }).start();
    const lg = await prepareLiteGraph(info);
    ed = new HeadlessEditor(lg, { url: stack.wsBase, token: stack.token, canvasId: CANVAS, title: "runs" });
    stack.editors.push(ed);
    await ed.connect();
    ws = await openWs(stack, "/comfy/graph/ws");
    ws.on("message", (d) => {
      const m = JSON.parse(String(d));
      if (m.type === "run") events.push(m);
    });
    ws.send(JSON.stringify({ type: "watch_run", prompt_id: "", request_id: "all" }));
    await sleep(200);
  });

  after(async () => {
    ws?.close();
    const codes = stack ? await stack.stop() : [];
    await cui?.stop();
    for (const [name, code] of codes) assert.equal(code, 0, `${name} exit code on SIGTERM`);
  });

  it("EmptyImage -> ImageInvert -> SaveImage succeeds; events in order; the PNG comes through the bridge", async () => {
    const refs = await build(invertGraph(96, 64, 0));
    ids = refs;
    const q = await post(stack, "/comfy/graph/queue", { canvas_id: CANVAS });
    assert.equal(q.status, 200, `${q.text}\n${logs()}`);
    const run = q.json.run;
    assert.ok(run, q.text);
    assert.equal(q.json.prompt_id, run.prompt_id);
    assert.equal(run.canvas_id, CANVAS);
    assert.ok(Number(run.revision) >= 1);
    assert.equal(ed.queued.at(-1).prompt_only, true, "the tab converted, the core posted");
    const done = await waitRun(run.prompt_id, (r) => r.status === "RUN_STATUS_SUCCEEDED", "run succeeded");

    // In order: seq increases, the status never goes back, the nodes run
    // in graph order and the output arrives before the success.
    const mine = events.filter((m) => m.data.prompt_id === run.prompt_id).map((m) => m.data);
    const rank = { RUN_STATUS_QUEUED: 0, RUN_STATUS_RUNNING: 1, RUN_STATUS_SUCCEEDED: 2 };
    for (let i = 1; i < mine.length; i++) {
      assert.ok(Number(mine[i].seq) > Number(mine[i - 1].seq), "seq increases");
      assert.ok(rank[mine[i].status] >= rank[mine[i - 1].status], `status order ${mine[i - 1].status} -> ${mine[i].status}`);
    }
    assert.ok(mine.some((r) => r.status === "RUN_STATUS_RUNNING"), "a running state was seen");
    const executing = [...new Set(mine.map((r) => r.executing_node).filter(Boolean))];
    assert.deepEqual(executing, [String(refs.img), String(refs.inv), String(refs.save)].filter((n) => executing.includes(n)));
    assert.ok(executing.includes(String(refs.save)), `executing nodes ${executing}`);
    const firstOutput = mine.findIndex((r) => r.outputs.length > 0);
    const success = mine.findIndex((r) => r.status === "RUN_STATUS_SUCCEEDED");
    assert.ok(firstOutput >= 0 && firstOutput <= success, "output before or with success");
    assert.ok(Number(done.started_at_ms) > 0 && Number(done.ended_at_ms) >= Number(done.started_at_ms));

    // The bridge serves the run and its image.
    const g = await get(stack, `/comfy/runs/${run.prompt_id}`);
    assert.equal(g.status, 200, g.text);
    assert.equal(g.json.run.status, "RUN_STATUS_SUCCEEDED");
    const out = g.json.run.outputs.find((o) => o.node_id === String(refs.save));
    assert.ok(out, g.text);
    assert.equal(out.files[0].type, "output");
    assert.match(out.files[0].filename, /^runs_\d+_\.png$/);
    const img = await fetch(`${stack.base}/comfy/runs/${run.prompt_id}/outputs/${refs.save}/0`, {
      headers: { authorization: `Bearer ${stack.token}` },
    });
    assert.equal(img.status, 200);
    assert.equal(img.headers.get("content-type"), "image/png");
    const png = decodePng(Buffer.from(await img.arrayBuffer()));
    assert.equal(png.width, 96);
    assert.equal(png.height, 64);
    // Black inverted is white: the first row's pixels (filter type 0 or
    // "sub", whose deltas are 0 for a flat row) start at 255.
    assert.equal(png.raw[1], 255);
    assert.deepEqual(await cui.history(run.prompt_id).then((h) => h.status.status_str), "success");
    // Scaled down on request, aspect ratio kept.
    const small = await fetch(`${stack.base}/comfy/runs/${run.prompt_id}/outputs/${refs.save}/0?max_side=32`, {
      headers: { authorization: `Bearer ${stack.token}` },
    });
    assert.equal(small.status, 200);
    const sp = decodePng(Buffer.from(await small.arrayBuffer()));
    assert.deepEqual([sp.width, sp.height], [32, 22]);
    const badSide = await get(stack, `/comfy/runs/${run.prompt_id}/outputs/${refs.save}/0?max_side=99999`);
    assert.equal(badSide.status, 400, badSide.text);

    const list = await get(stack, `/comfy/runs?canvas_id=${encodeURIComponent(CANVAS)}`);
    assert.equal(list.status, 200, list.text);
    assert.equal(list.json.runs[0].prompt_id, run.prompt_id);
  });

  it("outputs that are not the run's are refused; unknown runs are 404", async () => {
    const last = events.at(-1).data;
    const bad = await get(stack, `/comfy/runs/${last.prompt_id}/outputs/${ids.save}/7`);
    assert.equal(bad.status, 404, bad.text);
    const other = await get(stack, `/comfy/runs/${last.prompt_id}/outputs/..%2F..%2Fetc/0`);
    assert.equal(other.status, 400, other.text);
    const none = await get(stack, "/comfy/runs/00000000-0000-4000-8000-000000000000");
    assert.equal(none.status, 404, none.text);
  });

  it("an idempotency key queues once; batch_count queues several runs", async () => {
    await build(invertGraph(16, 16, 0x101010));
    const a = await post(stack, "/comfy/graph/queue", { canvas_id: CANVAS, idempotency_key: "k-1", batch_count: 2 });
    assert.equal(a.status, 200, a.text);
    assert.equal(a.json.prompt_ids.length, 2, a.text);
    const b = await post(stack, "/comfy/graph/queue", { canvas_id: CANVAS, idempotency_key: "k-1" });
    assert.equal(b.status, 200, b.text);
    assert.equal(b.json.replayed, true);
    assert.equal(b.json.prompt_id, a.json.prompt_ids[0]);
    for (const id of a.json.prompt_ids) await waitRun(id, (r) => r.status === "RUN_STATUS_SUCCEEDED", `batch run ${id}`);
    const list = await get(stack, `/comfy/runs?canvas_id=${encodeURIComponent(CANVAS)}&page_size=1`);
    assert.equal(list.json.runs.length, 1);
    assert.ok(list.json.next_page_token, list.text);
    const next = await get(stack, `/comfy/runs?canvas_id=${encodeURIComponent(CANVAS)}&page_size=1&page_token=${encodeURIComponent(list.json.next_page_token)}`);
    assert.equal(next.status, 200, next.text);
    assert.notEqual(next.json.runs[0].prompt_id, list.json.runs[0].prompt_id);
  });

  it("a session's socket gets run_update events for the runs its agent queued", async () => {
    const sws = await openWs(stack, "/comfy/session/ws");
    const msgs = [];
    sws.on("message", (d) => msgs.push(JSON.parse(String(d))));
    sws.send(JSON.stringify({ event: "create", request_id: "c1", data: { title: "runs", config: { provider: "echo" } } }));
    const created = await waitFor(() => msgs.find((m) => m.request_id === "c1"), 20000, "created");
    const sid = created.data.session.id;
    sws.send(JSON.stringify({ event: "join", request_id: "j1", data: { session_id: sid } }));
    await waitFor(() => msgs.some((m) => m.event === "sync_state"), 20000, "joined");
    await build(invertGraph(24, 24, 0x202020));
    // Another session's run is not this socket's business.
    const other = await post(stack, "/comfy/graph/queue", { canvas_id: CANVAS, session_id: "someone-else", origin: "RUN_ORIGIN_SESSION" });
    assert.equal(other.status, 200, other.text);
    const q = await post(stack, "/comfy/graph/queue", { canvas_id: CANVAS, session_id: sid, origin: "RUN_ORIGIN_SESSION", queued_by: "workflow-builder" });
    assert.equal(q.status, 200, q.text);
    const pid = q.json.run.prompt_id;
    const done = await waitFor(
      () => msgs.find((m) => m.event === "run_update" && m.data.run.prompt_id === pid && m.data.run.status === "succeeded"),
      RUN_GUARD_MS, "run_update succeeded");
    assert.equal(done.data.session_id, sid);
    assert.equal(done.data.run.origin, "session");
    assert.equal(done.data.run.queued_by, "workflow-builder");
    assert.ok(!msgs.some((m) => m.event === "run_update" && m.data.run.prompt_id === other.json.run.prompt_id));
    sws.close();
  });

  it("a run's output attached to a message by reference reaches the model and the history", async () => {
    const refs = await build(invertGraph(40, 30, 0));
    const q = await post(stack, "/comfy/graph/queue", { canvas_id: CANVAS });
    assert.equal(q.status, 200, q.text);
    const pid = q.json.run.prompt_id;
    await waitRun(pid, (r) => r.status === "RUN_STATUS_SUCCEEDED", "run succeeded");
    const sws = await openWs(stack, "/comfy/session/ws");
    const msgs = [];
    sws.on("message", (d) => msgs.push(JSON.parse(String(d))));
    sws.send(JSON.stringify({ event: "create", request_id: "c1", data: { title: "attach", config: { provider: "echo", active_skills: ["prompt-writer"] } } }));
    const sid = (await waitFor(() => msgs.find((m) => m.request_id === "c1"), 20000, "created")).data.session.id;
    sws.send(JSON.stringify({ event: "join", request_id: "j1", data: { session_id: sid } }));
    await waitFor(() => msgs.some((m) => m.event === "sync_state"), 20000, "joined");
    sws.send(JSON.stringify({ event: "user_message", request_id: "m1", data: { content: "how does it look?", attachments: [{ run_output: { prompt_id: pid, node_id: String(refs.save), index: 0 }, name: "inverted.png" }] } }));
    const ack = await waitFor(() => msgs.find((m) => m.request_id === "m1"), 20000, "ack");
    assert.equal(ack.event, "ack", JSON.stringify(ack));
    const att = ack.data.message.attachments[0];
    assert.deepEqual([att.name, att.mime_type, att.width, att.height], ["inverted.png", "image/png", 40, 30]);
    // The bytes are the output's, stored by their hash.
    const file = await fetch(`${stack.base}/comfy/attachments/${att.sha256}`, { headers: { authorization: `Bearer ${stack.token}` } });
    assert.equal(file.status, 200);
    const out = await fetch(`${stack.base}/comfy/runs/${pid}/outputs/${refs.save}/0`, { headers: { authorization: `Bearer ${stack.token}` } });
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), Buffer.from(await out.arrayBuffer()));
    const reply = await waitFor(
      () => msgs.find((m) => m.event === "message_added" && m.data.message.role === "assistant" && String(m.data.message.turn_id) === String(ack.data.message.id)),
      RUN_GUARD_MS, "the reply");
    assert.match(reply.data.message.content, /attached image inverted\.png: image\/png, 40x30 pixels/);
    // An output the run does not have is refused, and no message is stored.
    sws.send(JSON.stringify({ event: "user_message", request_id: "m2", data: { content: "x", attachments: [{ run_output: { prompt_id: pid, node_id: String(refs.save), index: 7 } }] } }));
    const bad = await waitFor(() => msgs.find((m) => m.request_id === "m2"), 20000, "refusal");
    assert.equal(bad.event, "error", JSON.stringify(bad));
    sws.close();
  });

  it("a CheckpointLoaderSimple without models fails with node_errors naming that node", async () => {
    const refs = await build([
      { type: "create_node", node_type: "CheckpointLoaderSimple", ref: "ckpt", title: "Load the model" },
      { type: "create_node", node_type: "EmptyLatentImage", ref: "lat" },
      { type: "create_node", node_type: "VAEDecode", ref: "dec" },
      { type: "create_node", node_type: "SaveImage", ref: "save" },
      { type: "connect", from_id: "lat", from_slot: 0, to_id: "dec", to_slot: 0 },
      { type: "connect", from_id: "ckpt", from_slot: 2, to_id: "dec", to_slot: 1 },
      { type: "connect", from_id: "dec", from_slot: 0, to_id: "save", to_slot: 0 },
    ]);
    const q = await post(stack, "/comfy/graph/queue", { canvas_id: CANVAS });
    assert.equal(q.status, 200, q.text);
    const run = q.json.run;
    assert.equal(run.status, "RUN_STATUS_FAILED", q.text);
    assert.ok(run.prompt_error.length > 0, q.text);
    const ne = run.node_errors.find((e) => e.node_id === String(refs.ckpt));
    assert.ok(ne, `node_errors name the checkpoint loader: ${q.text}`);
    assert.equal(ne.node_type, "CheckpointLoaderSimple");
    assert.equal(ne.title, "Load the model");
    assert.equal(ne.input_name, "ckpt_name");
    assert.ok(ne.message.length > 0);
    const g = await get(stack, `/comfy/runs/${run.prompt_id}`);
    assert.equal(g.json.run.status, "RUN_STATUS_FAILED");
  });

  // MCP over Streamable HTTP, raw JSON-RPC: the answers are JSON or an
  // event stream (progress notifications, then the result).
  async function mcp(session, body) {
    const r = await fetch(`${stack.base}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${stack.token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        ...(session ? { "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" } : {}),
      },
      body: JSON.stringify(body),
    });
    const text = await r.text();
    const msgs = (r.headers.get("content-type") ?? "").startsWith("text/event-stream")
      ? text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)))
      : text ? [JSON.parse(text)] : [];
    return { status: r.status, session: r.headers.get("mcp-session-id"), msgs };
  }

  it("MCP: run waits with progress and returns the outputs; view_output is the image; a failure names the node", async () => {
    const init = await mcp(null, {
      jsonrpc: "2.0", id: 1, method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "runs-test", version: "1" } },
    });
    assert.equal(init.status, 200);
    const sid = init.session;
    assert.ok(sid);
    await mcp(sid, { jsonrpc: "2.0", method: "notifications/initialized" });
    const list = await mcp(sid, { jsonrpc: "2.0", id: 2, method: "tools/list" });
    const names = list.msgs[0].result.tools.map((t) => t.name);
    for (const n of ["run", "get_run", "cancel_run", "view_output"]) assert.ok(names.includes(n), `${n} in ${names}`);

    const refs = await build(invertGraph(80, 48, 0x00ff00));
    const call = await mcp(sid, {
      jsonrpc: "2.0", id: 3, method: "tools/call",
      params: { name: "run", arguments: { canvas_id: CANVAS, wait_ms: 60000 }, _meta: { progressToken: "p1" } },
    });
    const progress = call.msgs.filter((m) => m.method === "notifications/progress");
    const done = call.msgs.find((m) => m.id === 3);
    assert.ok(done, JSON.stringify(call.msgs));
    const res = done.result.structuredContent ?? JSON.parse(done.result.content[0].text);
    assert.equal(res.status, "succeeded", JSON.stringify(res));
    assert.equal(res.timed_out, false);
    assert.ok(progress.length >= 1, `progress notifications: ${JSON.stringify(progress)}`);
    assert.ok(progress.every((m, i) => i === 0 || m.params.progress > progress[i - 1].params.progress));
    const out = res.outputs.find((o) => o.node_id === String(refs.save));
    assert.ok(out, JSON.stringify(res));

    const view = await mcp(sid, {
      jsonrpc: "2.0", id: 4, method: "tools/call",
      params: { name: "view_output", arguments: { prompt_id: res.prompt_id, node_id: out.node_id, index: out.index } },
    });
    const img = view.msgs[0].result.content.find((c) => c.type === "image");
    assert.ok(img, JSON.stringify(view.msgs[0]).slice(0, 500));
    assert.equal(img.mimeType, "image/png");
    const png = decodePng(Buffer.from(img.data, "base64"));
    assert.deepEqual([png.width, png.height], [80, 48]);

    const bad = await build([
      { type: "create_node", node_type: "CheckpointLoaderSimple", ref: "ckpt", title: "My checkpoint" },
      { type: "create_node", node_type: "EmptyLatentImage", ref: "lat" },
      { type: "create_node", node_type: "VAEDecode", ref: "dec" },
      { type: "create_node", node_type: "SaveImage", ref: "save" },
      { type: "connect", from_id: "lat", from_slot: 0, to_id: "dec", to_slot: 0 },
      { type: "connect", from_id: "ckpt", from_slot: 2, to_id: "dec", to_slot: 1 },
      { type: "connect", from_id: "dec", from_slot: 0, to_id: "save", to_slot: 0 },
    ]);
    const fail = await mcp(sid, {
      jsonrpc: "2.0", id: 5, method: "tools/call",
      params: { name: "run", arguments: { canvas_id: CANVAS } },
    });
    const fres = JSON.parse(fail.msgs.find((m) => m.id === 5).result.content[0].text);
    assert.equal(fres.status, "failed", JSON.stringify(fres));
    const fe = fres.failure.errors.find((e) => e.node_id === String(bad.ckpt));
    assert.ok(fe, JSON.stringify(fres));
    assert.equal(fe.title, "My checkpoint");
    assert.equal(fe.input, "ckpt_name");
    assert.ok(fres.hint);

    const got = await mcp(sid, { jsonrpc: "2.0", id: 6, method: "tools/call", params: { name: "get_run", arguments: { prompt_id: res.prompt_id } } });
    assert.equal(JSON.parse(got.msgs[0].result.content[0].text).status, "succeeded");
    const none = await mcp(sid, { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "get_run", arguments: { prompt_id: "nope" } } });
    assert.equal(none.msgs[0].result.isError, true);
  });

  it("MCP: a run still going when wait_ms passes is a timed_out result", async () => {
    const init = await mcp(null, {
      jsonrpc: "2.0", id: 1, method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "runs-test", version: "1" } },
    });
    const sid = init.session;
    await mcp(sid, { jsonrpc: "2.0", method: "notifications/initialized" });
    await build(slowGraph(0x13579b, 4));
    const call = await mcp(sid, {
      jsonrpc: "2.0", id: 2, method: "tools/call",
      params: { name: "run", arguments: { canvas_id: CANVAS, wait_ms: 1000 } },
    });
    const res = JSON.parse(call.msgs.find((m) => m.id === 2).result.content[0].text);
    assert.equal(res.timed_out, true, JSON.stringify(res));
    assert.ok(["queued", "running"].includes(res.status));
    assert.match(res.hint, /get_run/);
    // Not left running for the tests after this one.
    const c = await post(stack, `/comfy/runs/${res.prompt_id}/cancel`, {});
    assert.equal(c.status, 200, c.text);
    await waitRun(res.prompt_id, (r) => ["RUN_STATUS_INTERRUPTED", "RUN_STATUS_CANCELLED"].includes(r.status), "timed-out run stopped");
  });

  it("an exception while executing fails the run with execution_error naming the node", async () => {
    // SaveImage refuses to write outside ComfyUI's output folder: a real
    // exception at execution time, without any model.
    const refs = await build([
      { type: "create_node", node_type: "EmptyImage", ref: "img", widgets: { width: 8, height: 8, batch_size: 1, color: 0x303030 } },
      { type: "create_node", node_type: "SaveImage", ref: "save", title: "Escaping save", widgets: { filename_prefix: "../../escape/x" } },
      { type: "connect", from_id: "img", from_slot: 0, to_id: "save", to_slot: 0 },
    ]);
    const q = await post(stack, "/comfy/graph/queue", { canvas_id: CANVAS });
    assert.equal(q.status, 200, q.text);
    const run = await waitRun(q.json.run.prompt_id, (r) => r.status === "RUN_STATUS_FAILED", "run failed");
    const x = run.execution_error;
    assert.ok(x, JSON.stringify(run));
    assert.equal(x.node_id, String(refs.save));
    assert.equal(x.node_type, "SaveImage");
    assert.equal(x.title, "Escaping save");
    assert.match(x.exception_message, /outside the output folder/);
    assert.ok(x.traceback.length > 0 && x.traceback.length <= 16);
    assert.match(run.reason, /outside the output folder/);
  });

  it("an interrupt ends a running run as interrupted; a queued one is cancelled", async () => {
    await build(slowGraph(0x112233));
    const q1 = await post(stack, "/comfy/graph/queue", { canvas_id: CANVAS });
    assert.equal(q1.status, 200, q1.text);
    await build(slowGraph(0x445566));
    const q2 = await post(stack, "/comfy/graph/queue", { canvas_id: CANVAS });
    assert.equal(q2.status, 200, q2.text);
    const p1 = q1.json.run.prompt_id;
    const p2 = q2.json.run.prompt_id;
    await waitRun(p1, (r) => r.status === "RUN_STATUS_RUNNING" && r.executing_node, "first run executing");
    const c2 = await post(stack, `/comfy/runs/${p2}/cancel`, {});
    assert.equal(c2.status, 200, c2.text);
    assert.equal(c2.json.run.status, "RUN_STATUS_CANCELLED", c2.text);
    const c1 = await post(stack, `/comfy/runs/${p1}/cancel`, {});
    assert.equal(c1.status, 200, c1.text);
    const r1 = await waitRun(p1, (r) => r.status === "RUN_STATUS_INTERRUPTED", "first run interrupted");
    assert.match(r1.reason, /interrupted at node/);
    const again = await post(stack, `/comfy/runs/${p1}/cancel`, {});
    assert.equal(again.status, 409, again.text);
    assert.equal((await cui.history(p1)).status.status_str, "error");
  });

  it("ComfyUI killed during a run leaves it unknown with the reason; the next run is followed", async () => {
    await build(slowGraph(0x778899));
    const q = await post(stack, "/comfy/graph/queue", { canvas_id: CANVAS });
    assert.equal(q.status, 200, q.text);
    const pid = q.json.run.prompt_id;
    await waitRun(pid, (r) => r.status === "RUN_STATUS_RUNNING", "slow run running");
    await cui.kill("SIGKILL");
    const lost = await waitRun(pid, (r) => r.status === "RUN_STATUS_UNKNOWN", "run unknown after the kill");
    assert.match(lost.reason, /lost contact with ComfyUI/);
    await cui.start();
    // Reconnected: ComfyUI restarted without the prompt, and says so.
    const gone = await waitRun(pid, (r) => r.status === "RUN_STATUS_UNKNOWN" && /no record/.test(r.reason), "run reconciled");
    assert.match(gone.reason, /restarted/);
    await build(invertGraph(32, 48, 0x0000ff));
    const n = await post(stack, "/comfy/graph/queue", { canvas_id: CANVAS });
    assert.equal(n.status, 200, n.text);
    const ok = await waitRun(n.json.run.prompt_id, (r) => r.status === "RUN_STATUS_SUCCEEDED", "next run succeeded");
    assert.ok(ok.outputs.length > 0);
  });

  it("runs survive a core restart", async () => {
    const last = events.filter((m) => m.data.status === "RUN_STATUS_SUCCEEDED").at(-1).data;
    await stack.core.stop();
    await stack.startCore();
    // The bridge reconnects to the new core by itself.
    await waitFor(() => stack.healthy(), START_GUARD_MS, "bridge healthy after the core restart");
    const g = await get(stack, `/comfy/runs/${last.prompt_id}`);
    assert.equal(g.status, 200, g.text);
    assert.equal(g.json.run.status, "RUN_STATUS_SUCCEEDED");
    assert.deepEqual(g.json.run.outputs, last.outputs);
  });
});

// An external caller builds a complete text-to-image workflow on a live
// canvas through comfyd-bridge, and reads it back from the core; the
// canvas is a headless editor on a real LiteGraph.

import assert from "node:assert/strict";
import { describe } from "node:test";
import { useStack, itWithLogs, expectOk, expectGraphOk } from "../lib/harness.mjs";
import { post, get, GraphWs } from "../lib/clients.mjs";
import {
  txt2imgCommands, TXT2IMG_TYPES, TXT2IMG_WIDGETS, TXT2IMG_LINKS, assertSameGraph, editorView,
} from "../lib/graph.mjs";

const CANVAS = "tab-1:txt2img";

describe("txt2img through the bridge", () => {
  const h = useStack();
  const it = itWithLogs(h);
  let ed;
  let built;

  it("an editor attaches its canvas and gets a revision", async () => {
    ed = await h.stack.editor({ canvasId: CANVAS, title: "txt2img" });
    assert.ok(ed.revision >= 1, `attached revision ${ed.revision}`);
    const list = expectOk(await get(h.stack, "/comfy/graph/canvases"));
    const c = list.canvases.find((x) => x.canvas_id === CANVAS);
    assert.ok(c, `canvas listed: ${JSON.stringify(list)}`);
    assert.equal(c.attached, true);
    assert.equal(c.title, "txt2img");
  });

  it("one batch with refs builds the whole workflow: 200, ok, refs, one patch in the editor", async () => {
    const cmds = txt2imgCommands();
    const r0 = ed.revision;
    const r = await post(h.stack, "/comfy/graph/batch", { commands: cmds, canvas_id: CANVAS });
    const body = expectGraphOk(r);
    built = body;
    assert.deepEqual(Object.keys(body.refs).sort(), Object.keys(TXT2IMG_TYPES).sort());
    assert.equal(body.results.length, cmds.length);
    for (const res of body.results) assert.equal(res.ok, true, JSON.stringify(res));
    assert.ok(Number(body.revision) > r0, `revision ${body.revision} after ${r0}`);
    assert.equal(body.canvas_id, CANVAS);
    // The tab got it as a single patch (one undo step), refs unresolved.
    assert.equal(ed.patches.length, 1);
    assert.equal(ed.patches[0].commands.length, cmds.length);
    // Results carry what the tab assigned: node ids (= refs), link ids.
    Object.keys(TXT2IMG_TYPES).forEach((ref, i) => {
      assert.equal(Number(body.results[i].node_id), Number(body.refs[ref]), `node id of ${ref}`);
    });
    const linkIds = body.results.slice(7).map((x) => Number(x.link_id));
    assert.deepEqual(linkIds, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("the editor's serialized graph has 7 nodes, 9 links and every widget value", async () => {
    const wf = ed.serialize();
    assert.equal(wf.nodes.length, 7);
    assert.equal(wf.links.length, 9);
    const refs = built.refs;
    for (const [ref, type] of Object.entries(TXT2IMG_TYPES)) {
      const n = ed.graph.getNodeById(Number(refs[ref]));
      assert.ok(n, `node ${ref}`);
      assert.equal(n.type, type);
      const w = ed.widgetsOf(n.id);
      for (const [name, value] of Object.entries(TXT2IMG_WIDGETS[ref])) {
        assert.equal(w[name], value, `${ref}.${name}`);
      }
    }
    assert.equal(ed.graph.getNodeById(Number(refs.neg)).title, "Negative prompt");
    // Every link joins the slots asked for.
    const view = editorView(ed);
    for (const [from, fslot, to, tslot] of TXT2IMG_LINKS) {
      const fromNode = ed.graph.getNodeById(Number(refs[from]));
      const toNode = ed.graph.getNodeById(Number(refs[to]));
      const os = fromNode.outputs.findIndex((s) => s.name === fslot);
      const is = toNode.inputs.findIndex((s) => s.name === tslot);
      const found = view.links.find((l) => l[1] === fromNode.id && l[2] === os && l[3] === toNode.id && l[4] === is);
      assert.ok(found, `link ${from}.${fslot} -> ${to}.${tslot}`);
    }
    // widgets_values in the workflow, KSampler in ComfyUI's order.
    const ks = wf.nodes.find((n) => n.type === "KSampler");
    assert.deepEqual(ks.widgets_values, [123456789, "fixed", 28, 6.5, "dpmpp_2m", "karras", 0.75]);
  });

  it("get_graph over WS /comfy/graph/ws matches the editor", async () => {
    const gws = await GraphWs.open(h.stack);
    try {
      const a = await gws.request({ type: "get_graph", canvas_id: CANVAS });
      assert.equal(a.status, "ok", JSON.stringify(a));
      assert.equal(Number(a.data.revision), Number(built.revision));
      assertSameGraph(a.data.graph, ed);
      // Without a canvas_id: the only attached canvas.
      const b = await gws.request({ type: "get_graph" });
      assert.equal(b.status, "ok", JSON.stringify(b));
      assertSameGraph(b.data.graph, ed);
    } finally {
      gws.close();
    }
  });

  it("get_graph over POST /comfy/graph/command matches the editor", async () => {
    const body = expectGraphOk(await post(h.stack, "/comfy/graph/command", { type: "get_graph", canvas_id: CANVAS }));
    assert.equal(Number(body.revision), Number(built.revision));
    assert.equal(body.graph.canvas_id, CANVAS);
    assert.notEqual(body.graph.stale, true);
    assertSameGraph(body.graph, ed);
  });

  it("single commands by id are applied and read back (set_widget value, move_node)", async () => {
    const ks = Number(built.refs.sampler);
    let body = expectGraphOk(
      await post(h.stack, "/comfy/graph/command", { type: "set_widget", node_id: ks, name: "steps", value: 40 }),
    );
    assert.equal(Number(body.result.value), 40);
    assert.equal(Number(body.result.node_id), ks);
    assert.equal(ed.widgetsOf(ks).steps, 40);
    // The tab's rounding is what is read back (ComfyUI rounds cfg to 0.01).
    body = expectGraphOk(
      await post(h.stack, "/comfy/graph/command", { type: "set_widget", node_id: ks, name: "cfg", value: 7.25 }),
    );
    assert.equal(body.result.value, 7.25);
    body = expectGraphOk(
      await post(h.stack, "/comfy/graph/command", { type: "move_node", node_id: ks, x: 1234, y: -56 }),
    );
    assert.deepEqual([...ed.graph.getNodeById(ks).pos], [1234, -56]);
    const g = expectGraphOk(await post(h.stack, "/comfy/graph/command", { type: "get_graph" }));
    assertSameGraph(g.graph, ed);
    assert.equal(Number(g.revision), Number(body.revision));
  });

  it("pipelined requests on one graph socket are each answered by request_id", async () => {
    const gws = await GraphWs.open(h.stack);
    try {
      const ks = Number(built.refs.sampler);
      const latent = Number(built.refs.latent);
      const reqs = [];
      for (let i = 0; i < 20; i++) {
        reqs.push(gws.request({ type: "set_widget", node_id: ks, name: "steps", value: 10 + i, request_id: `s${i}` }));
        reqs.push(gws.request({ type: "move_node", node_id: latent, x: i * 10, y: i, request_id: `m${i}` }));
      }
      const answers = await Promise.all(reqs);
      const revs = [];
      answers.forEach((a, i) => {
        assert.equal(a.status, "ok", JSON.stringify(a));
        assert.equal(a.request_id, i % 2 === 0 ? `s${i / 2}` : `m${(i - 1) / 2}`);
        revs.push(Number(a.data.revision));
      });
      // Every mutation is its own revision, and the revisions order them:
      // the editor shows what the newest of each kind asked for.
      assert.equal(new Set(revs).size, revs.length, `distinct revisions: ${revs}`);
      const newest = (parity) =>
        revs.reduce((best, r, i) => (i % 2 === parity && (best < 0 || r > revs[best]) ? i : best), -1);
      const s = newest(0);
      const m = newest(1);
      assert.equal(ed.widgetsOf(ks).steps, 10 + s / 2);
      assert.deepEqual([...ed.graph.getNodeById(latent).pos], [((m - 1) / 2) * 10, (m - 1) / 2]);
      const g = await gws.request({ type: "get_graph" });
      assertSameGraph(g.data.graph, ed);
    } finally {
      gws.close();
    }
  });

  it("a batch over WS (type batch) answers refs and results like the HTTP endpoint", async () => {
    const gws = await GraphWs.open(h.stack);
    try {
      const a = await gws.request({
        type: "batch",
        canvas_id: CANVAS,
        commands: [
          { type: "create_node", node_type: "PreviewImage", ref: "preview", x: 2400, y: 0 },
          { type: "connect", from_id: Number(built.refs.decode), from_slot: 0, to_id: "preview", to_slot: "images" },
        ],
      });
      assert.equal(a.status, "ok", JSON.stringify(a));
      assert.equal(a.data.ok, true);
      const id = Number(a.data.refs.preview);
      assert.equal(ed.graph.getNodeById(id)?.type, "PreviewImage");
      assert.equal(ed.graph.links.size, 10);
    } finally {
      gws.close();
    }
  });

  it("the same through curl --http2-prior-knowledge (h2c)", async () => {
    const s = h.stack;
    const ks = Number(built.refs.sampler);
    let r = await post(s, "/comfy/graph/command", { type: "set_widget", node_id: ks, name: "seed", value: 7 }, { h2: true });
    assert.equal(r.httpVersion, "2");
    const body = expectGraphOk(r);
    assert.equal(Number(body.result.value), 7);
    assert.equal(ed.widgetsOf(ks).seed, 7);
    r = await post(
      s,
      "/comfy/graph/batch",
      {
        commands: [
          { type: "create_node", node_type: "EmptyLatentImage", ref: "l2", x: 0, y: 900, widgets: { width: 1024 } },
          { type: "connect", from_id: "l2", from_slot: "LATENT", to_id: ks, to_slot: "latent_image" },
        ],
      },
      { h2: true },
    );
    assert.equal(r.httpVersion, "2");
    const b2 = expectGraphOk(r);
    const l2 = Number(b2.refs.l2);
    assert.equal(ed.widgetsOf(l2).width, 1024);
    // The new link replaced the old one into latent_image.
    const ksNode = ed.graph.getNodeById(ks);
    const link = ed.graph.links.get(ksNode.inputs.find((i) => i.name === "latent_image").link);
    assert.equal(link.origin_id, l2);
    r = await post(s, "/comfy/graph/command", { type: "get_graph" }, { h2: true });
    assert.equal(r.httpVersion, "2");
    assertSameGraph(expectGraphOk(r).graph, ed);
    r = await get(s, "/comfy/graph/node_types?names=KSampler,VAEDecode", { h2: true });
    assert.equal(r.httpVersion, "2");
    const types = expectOk(r).node_types.map((t) => t.name);
    assert.deepEqual(types, ["KSampler", "VAEDecode"]);
  });

  it("node types are searchable: query, limit, exact names with inputs and outputs", async () => {
    let body = expectOk(await get(h.stack, "/comfy/graph/node_types?query=ksampler&limit=5"));
    assert.ok(body.node_types.length >= 1 && body.node_types.length <= 5);
    assert.ok(body.node_types.some((t) => t.name === "KSampler"), JSON.stringify(body.node_types.map((t) => t.name)));
    assert.ok(Number(body.total) >= body.node_types.length);
    // Words, in any order, CamelCase split; a misspelling still finds it.
    const top = async (q) =>
      expectOk(await get(h.stack, `/comfy/graph/node_types?query=${encodeURIComponent(q)}&limit=3`)).node_types.map((t) => t.name);
    assert.deepEqual((await top("controlnet apply")).slice(0, 2), ["ControlNetApply", "ControlNetApplyAdvanced"]);
    assert.equal((await top("latent upscale"))[0], "LatentUpscale");
    assert.ok((await top("lora")).includes("LoraLoader"));
    assert.equal((await top("ksampeler"))[0], "KSampler");
    body = expectOk(await get(h.stack, "/comfy/graph/node_types?names=KSampler"));
    const ks = body.node_types[0];
    assert.equal(ks.name, "KSampler");
    const byName = Object.fromEntries(ks.inputs.map((i) => [i.name, i]));
    assert.equal(byName.model.type, "MODEL");
    assert.notEqual(byName.model.is_widget, true);
    assert.equal(byName.steps.is_widget, true);
    assert.ok(byName.sampler_name.options.includes("euler"));
    assert.deepEqual(ks.outputs.map((o) => o.type), ["LATENT"]);
  });
});

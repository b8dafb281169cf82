// The canvas executor in the stock ComfyUI frontend, driven through the real
// comfyd-bridge and comfyd by an outside caller (bearer token).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { bridge, canvasIdOf, env, graphOf, launch, openComfy, txt2imgCommands, until, waitAttached } from "./helpers.js";

let browser;
let page;

const nodeTypes = (wf) => wf.nodes.map((n) => n.type).sort();
const TXT2IMG_TYPES = ["CLIPTextEncode", "CLIPTextEncode", "CheckpointLoaderSimple", "EmptyLatentImage", "KSampler", "SaveImage", "VAEDecode"];

/** Link shapes by node type: "KSampler.0->VAEDecode.0:LATENT". */
function linkShapes(wf) {
  const type = (id) => wf.nodes.find((n) => n.id === id)?.type;
  return wf.links.map((l) => (Array.isArray(l) ? l : [l.id, l.origin_id, l.origin_slot, l.target_id, l.target_slot, l.type]))
    .map((l) => `${type(l[1])}.${l[2]}->${type(l[3])}.${l[4]}:${l[5]}`)
    .sort();
}

async function batch(commands, extra = {}) {
  const r = await bridge("POST", "/comfy/graph/batch", { commands, ...extra });
  return r;
}

async function revisionOf(canvasId) {
  const r = await bridge("GET", `/comfy/graph/diff?canvas_id=${encodeURIComponent(canvasId)}&since=0`);
  return Number(r.body.to_revision);
}

beforeAll(async () => {
  browser = await launch();
  page = await openComfy(browser.context);
});

afterAll(async () => {
  await browser?.close();
});

describe("the canvas executor in the stock frontend", () => {
  it("builds txt2img from an outside caller's batch, on the canvas", async () => {
    const cleared = await batch([{ type: "clear_graph" }]);
    expect(cleared.status, JSON.stringify(cleared.body)).toBe(200);
    expect((await graphOf(page)).nodes).toHaveLength(0);

    const r = await batch(txt2imgCommands());
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.ok).toBe(true);
    expect(Object.keys(r.body.refs).sort()).toEqual(["ckpt", "decode", "latent", "neg", "pos", "sampler", "save"]);

    const wf = await graphOf(page);
    expect(nodeTypes(wf)).toEqual(TXT2IMG_TYPES);
    expect(linkShapes(wf)).toEqual([
      "CLIPTextEncode.0->KSampler.1:CONDITIONING",
      "CLIPTextEncode.0->KSampler.2:CONDITIONING",
      "CheckpointLoaderSimple.0->KSampler.0:MODEL",
      "CheckpointLoaderSimple.1->CLIPTextEncode.0:CLIP",
      "CheckpointLoaderSimple.1->CLIPTextEncode.0:CLIP",
      "CheckpointLoaderSimple.2->VAEDecode.1:VAE",
      "EmptyLatentImage.0->KSampler.3:LATENT",
      "KSampler.0->VAEDecode.0:LATENT",
      "VAEDecode.0->SaveImage.0:IMAGE",
    ]);
    const sampler = wf.nodes.find((n) => n.id === r.body.refs.sampler);
    expect(sampler.type).toBe("KSampler");
    // seed, control_after_generate (the extra value), steps, cfg, sampler, scheduler, denoise
    expect(sampler.widgets_values).toEqual([156680208700286, "fixed", 20, 8, "euler", "normal", 1]);
    expect(Array.from(sampler.pos)).toEqual([863, 186]);

    // The core's mirror agrees with the canvas.
    const g = await bridge("GET", `/comfy/graph/diff?canvas_id=${encodeURIComponent(await canvasIdOf(page))}&since=0`);
    expect(g.status).toBe(200);
    const mirror = await bridge("POST", "/comfy/graph/command", { type: "get_graph", canvas_id: await canvasIdOf(page) });
    expect(mirror.body.graph.nodes.map((n) => n.type).sort()).toEqual(TXT2IMG_TYPES);

    await page.evaluate(() => window.comfyAPI.app.app.canvas.setDirty(true, true));
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(env().artifacts, "canvas-txt2img.png") });
  });

  it("undoes the whole patch with one Ctrl+Z", async () => {
    await batch([{ type: "clear_graph" }]);
    const r = await batch(txt2imgCommands());
    expect(r.body.ok).toBe(true);
    expect((await graphOf(page)).nodes).toHaveLength(7);
    // Focus the page on an empty spot of the canvas, then undo.
    await page.mouse.click(700, 860);
    await page.keyboard.press("Control+z");
    await until(async () => (await graphOf(page)).nodes.length === 0, "the patch to be undone");
    await page.keyboard.press("Control+y");
    await until(async () => (await graphOf(page)).nodes.length === 7, "the patch to be redone");
  });

  it("applies a load with undo_step (a session revert's canvas restore) into the open workflow as one Ctrl+Z", async () => {
    await batch([{ type: "clear_graph" }]);
    const r = await batch(txt2imgCommands());
    expect(r.body.ok).toBe(true);
    const checkpoint = await graphOf(page);
    const path = await page.evaluate(() => window.comfyAPI.app.app.extensionManager.workflow.activeWorkflow?.path ?? "");
    const removed = await batch([{ type: "remove_node", node_id: r.body.refs.save }, { type: "remove_node", node_id: r.body.refs.decode }]);
    expect(removed.body.ok).toBe(true);
    expect((await graphOf(page)).nodes).toHaveLength(5);
    const l = await bridge("POST", "/comfy/graph/load", { canvas_id: await canvasIdOf(page), workflow_json: JSON.stringify(checkpoint), undo_step: true });
    expect(l.status, JSON.stringify(l.body)).toBe(200);
    const wf = await graphOf(page);
    expect(nodeTypes(wf)).toEqual(TXT2IMG_TYPES);
    expect(linkShapes(wf)).toEqual(linkShapes(checkpoint));
    // Still the same open workflow, and one undo step takes the restore back.
    expect(await page.evaluate(() => window.comfyAPI.app.app.extensionManager.workflow.activeWorkflow?.path ?? "")).toBe(path);
    await page.mouse.click(700, 860);
    await page.keyboard.press("Control+z");
    await until(async () => (await graphOf(page)).nodes.length === 5, "the restore to be undone");
    await page.keyboard.press("Control+y");
    await until(async () => (await graphOf(page)).nodes.length === 7, "the restore to be redone");
  });

  it("two callers on one base revision: the rebased patch is one undo step of its own", async () => {
    await batch([{ type: "clear_graph" }]);
    const built = await batch(txt2imgCommands());
    expect(built.body.ok).toBe(true);
    const { sampler, pos, latent } = built.body.refs;
    const base = await revisionOf(await canvasIdOf(page));
    const patches = {
      steps: [
        { type: "set_widget", node_id: sampler, name: "steps", value: 33 },
        { type: "move_node", node_id: sampler, x: 900, y: 220 },
      ],
      text: [
        { type: "set_widget", node_id: pos, name: "text", value: "a red fox" },
        { type: "move_node", node_id: latent, x: 40, y: 520 },
      ],
    };
    const [a, b] = await Promise.all([batch(patches.steps, { base_revision: base }), batch(patches.text, { base_revision: base })]);
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(b.status, JSON.stringify(b.body)).toBe(200);
    expect([a.body.rebased, b.body.rebased].sort()).toEqual([false, true]);
    const rebased = a.body.rebased ? "steps" : "text";
    expect(Number((a.body.rebased ? a.body : b.body).rebased_from)).toBe(base);
    const state = async () => {
      const wf = await graphOf(page);
      return {
        steps: wf.nodes.find((n) => n.id === sampler).widgets_values[2],
        text: wf.nodes.find((n) => n.id === pos).widgets_values[0],
      };
    };
    expect(await state()).toEqual({ steps: 33, text: "a red fox" });
    const canvasId = await canvasIdOf(page);
    const patched = await revisionOf(canvasId);
    // The rebased patch came last: one Ctrl+Z takes back all of it and
    // nothing of the other; a second one takes back the other.
    await page.mouse.click(700, 860);
    await page.keyboard.press("Control+z");
    const before = { steps: 20, text: "beautiful scenery nature glass bottle landscape, purple galaxy bottle" };
    const afterOne = rebased === "steps" ? { steps: before.steps, text: "a red fox" } : { steps: 33, text: before.text };
    const is = (want) => async () => JSON.stringify(await state()) === JSON.stringify(want) || null;
    await until(is(afterOne), "the rebased patch to be undone");
    // As a user would, the second Ctrl+Z comes after the tab has reported
    // the first undo and the core has acknowledged it (docs: the
    // provenance handed back with that ack is stored outside the undo
    // history).
    await until(async () => {
      const core = await revisionOf(canvasId);
      const tab = await page.evaluate(() => window.comfyd.editor.revision);
      return (core > patched && tab === core) || null;
    }, "the first undo to be reported and acknowledged");
    await page.keyboard.press("Control+z");
    await until(is(before), "the first patch to be undone");
  });

  it("reports the user's own edit: the revision goes up and the core's diff shows it", async () => {
    await batch([{ type: "clear_graph" }]);
    const r = await batch(txt2imgCommands());
    const id = r.body.refs.sampler;
    const canvasId = await canvasIdOf(page);
    const before = await revisionOf(canvasId);
    // Drag the KSampler by its title bar.
    const at = await page.evaluate((nid) => {
      const app = window.comfyAPI.app.app;
      const n = app.rootGraph.getNodeById(nid);
      const rect = app.canvas.canvas.getBoundingClientRect();
      const [x, y] = app.canvas.ds.convertOffsetToCanvas([n.pos[0] + 60, n.pos[1] - 15]);
      return { x: rect.left + x, y: rect.top + y, pos: Array.from(n.pos) };
    }, id);
    await page.mouse.move(at.x, at.y);
    await page.mouse.down();
    await page.mouse.move(at.x + 60, at.y + 40, { steps: 8 });
    await page.mouse.move(at.x + 120, at.y + 80, { steps: 8 });
    await page.mouse.up();
    const moved = await page.evaluate((nid) => Array.from(window.comfyAPI.app.app.rootGraph.getNodeById(nid).pos), id);
    expect(moved).not.toEqual(at.pos);
    // The tab reports the edit; the core's diff since then shows the move
    // (the frontend may also report its own later touches, e.g. sizes).
    const isMove = (o) => o.command?.type === "move_node" && Number(o.command.node_id) === id;
    // A report may catch the node half-way; the last one has where it ended.
    const endsAt = (d) => {
      const m = (d.ops ?? []).filter(isMove).at(-1);
      return m && m.command.x === moved[0] && m.command.y === moved[1];
    };
    const diff = await until(async () => {
      const d = await bridge("GET", `/comfy/graph/diff?canvas_id=${encodeURIComponent(canvasId)}&since=${before}`);
      return d.status === 200 && endsAt(d.body) ? d.body : null;
    }, "the move to show in the core's diff");
    expect(Number(diff.to_revision)).toBeGreaterThan(before);
    expect(await revisionOf(canvasId)).toBeGreaterThan(before);
    expect(diff.ops.every((o) => o.origin === "GRAPH_ORIGIN_USER")).toBe(true);
    // It went as a delta, and the core took it (a digest that disagreed
    // would have brought a resync and the whole workflow).
    const sent = await page.evaluate(() => ({ deltas: window.comfyd.editor.deltasSent, resyncs: window.comfyd.editor.resyncs }));
    expect(sent.deltas).toBeGreaterThan(0);
    expect(sent.resyncs).toBe(0);
  });

  it("shows who last changed a node when the pointer rests on it; the workflow keeps it", async () => {
    const g = await bridge("POST", "/comfy/graph/command", { type: "get_graph", canvas_id: await canvasIdOf(page) });
    const sampler = g.body.graph.nodes.find((n) => n.type === "KSampler");
    // The user moved it (the test before); the batch made it.
    expect(sampler.provenance.actor.kind).toBe("ACTOR_KIND_USER");
    const id = Number(sampler.id);
    // The tab keeps what the core handed back with its acks.
    const rev = Number(sampler.provenance.revision);
    await until(
      async () => (await page.evaluate((nid) => window.comfyAPI.app.app.rootGraph.extra?.comfyd?.provenance?.nodes?.[String(nid)]?.rev, id)) === rev,
      `the tab to keep the provenance of revision ${rev}`,
    );
    // A point of the sampler no other node covers.
    const at = await page.evaluate((nid) => {
      const app = window.comfyAPI.app.app;
      const g = app.rootGraph;
      const n = g.getNodeById(nid);
      const rect = app.canvas.canvas.getBoundingClientRect();
      for (let dy = 10; dy < n.size[1]; dy += 10)
        for (let dx = 10; dx < n.size[0]; dx += 10) {
          if (g.getNodeOnPos(n.pos[0] + dx, n.pos[1] + dy)?.id !== nid) continue;
          const [x, y] = app.canvas.ds.convertOffsetToCanvas([n.pos[0] + dx, n.pos[1] + dy]);
          if (x > 0 && y > 0 && x < rect.width && y < rect.height) return { x: rect.left + x, y: rect.top + y };
        }
      return null;
    }, id);
    expect(at).not.toBeNull();
    await page.mouse.move(at.x - 5, at.y - 5);
    await page.mouse.move(at.x, at.y, { steps: 3 });
    const tip = page.locator(".comfyd-provenance-tip");
    await tip.waitFor({ state: "visible", timeout: 5000 });
    const text = await until(async () => {
      const t = await tip.textContent();
      return /^Last changed by the user/.test(t) ? t : null;
    }, "the tooltip to name the user");
    expect(text).toMatch(/^Last changed by the user, just now \(revision \d+\)/);
    expect(text).toMatch(/Created by an unnamed caller, just now/);
    await page.screenshot({ path: join(env().artifacts, "canvas-provenance.png") });
    // Off the node it goes away.
    await page.mouse.click(700, 860);
    await tip.waitFor({ state: "hidden", timeout: 5000 });
    // What ComfyUI would save carries it; storing it was no edit.
    const wf = await graphOf(page);
    expect(wf.extra.comfyd.provenance.nodes[String(id)].rev).toBeGreaterThan(0);
  });

  it("outlines a leased node with its holder's name on the canvas; a release takes it away", async () => {
    const canvasId = await canvasIdOf(page);
    const g = await bridge("POST", "/comfy/graph/command", { type: "get_graph", canvas_id: canvasId });
    const sampler = g.body.graph.nodes.find((n) => n.type === "KSampler");
    // Record what the LiteGraph canvas writes as text.
    await page.evaluate(() => {
      const proto = CanvasRenderingContext2D.prototype;
      if (proto.__comfydSeen) return;
      const fill = proto.fillText;
      proto.__comfydSeen = [];
      proto.fillText = function (text, ...rest) {
        if (String(text).startsWith("leased by")) proto.__comfydSeen.push(String(text));
        return fill.call(this, text, ...rest);
      };
    });
    const drawnLabels = () =>
      page.evaluate(() => {
        const proto = CanvasRenderingContext2D.prototype;
        proto.__comfydSeen.length = 0;
        window.comfyAPI.app.app.canvas.setDirty(true, true);
        return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r([...proto.__comfydSeen]))));
      });
    const take = await bridge(
      "POST", "/comfy/graph/lease", { canvas_id: canvasId, action: "acquire", node_ids: [Number(sampler.id)], ttl_ms: 60000 },
      { "comfyd-caller": "e2e-painter" },
    );
    expect(take.status).toBe(200);
    await until(async () => (await page.evaluate(() => window.comfyd.leases.nodes().size)) === 1 || null, "the tab to learn of the lease");
    const labels = await until(async () => {
      const l = await drawnLabels();
      return l.includes("leased by e2e-painter") ? l : null;
    }, "the outline's label to be drawn");
    expect(labels).toContain("leased by e2e-painter");
    await page.screenshot({ path: join(env().artifacts, "canvas-lease.png") });
    // Another caller is refused while it holds.
    const other = await bridge("POST", "/comfy/graph/command",
      { type: "set_widget", canvas_id: canvasId, node_id: Number(sampler.id), name: "cfg", value: 3 }, { "comfyd-caller": "other" });
    expect(other.status).toBe(409);
    expect(other.body.result.error.lease.holder.name).toBe("e2e-painter");
    const rel = await bridge("POST", "/comfy/graph/lease", { canvas_id: canvasId, action: "release" }, { "comfyd-caller": "e2e-painter" });
    expect(rel.body.released).toBe(1);
    await until(async () => (await page.evaluate(() => window.comfyd.leases.nodes().size)) === 0 || null, "the outline to go");
    expect(await drawnLabels()).toEqual([]);
  });

  it("answers patches with deltas; one whose digest disagrees is sent again whole and still answered", async () => {
    await batch([{ type: "clear_graph" }]);
    const r = await batch(txt2imgCommands());
    const id = r.body.refs.sampler;
    const canvasId = await canvasIdOf(page);
    const counts = () => page.evaluate(() => ({ deltas: window.comfyd.editor.patchDeltasSent, resyncs: window.comfyd.editor.resyncs }));
    const before = await counts();
    expect(before.deltas).toBeGreaterThan(0);
    // The tab's next patch answer carries a digest that is not its graph's.
    await page.evaluate(() => {
      const ed = window.comfyd.editor;
      const send = ed.send;
      ed.send = function (m) {
        if (m.type !== "patch_result" || !m.delta) return send.call(this, m);
        delete ed.send; // back to the class's own
        return send.call(this, { ...m, delta: { ...m.delta, digest: m.delta.digest === "00000000" ? "00000001" : "00000000" } });
      };
    });
    const moved = await bridge("POST", "/comfy/graph/command", { type: "move_node", canvas_id: canvasId, node_id: id, x: 321, y: 123 });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body.ok).toBe(true);
    expect(moved.body.result.node.pos).toEqual({ x: 321, y: 123 });
    const after = await counts();
    expect(after.resyncs).toBe(before.resyncs + 1);
    // The core's mirror is the canvas.
    const mirror = await bridge("POST", "/comfy/graph/command", { type: "get_graph", canvas_id: canvasId });
    const wf = await graphOf(page);
    const pos = (n) => [Number(n.pos.x ?? n.pos[0]), Number(n.pos.y ?? n.pos[1])];
    expect(mirror.body.graph.nodes.map((n) => [Number(n.id), ...pos(n)]).sort((a, b) => a[0] - b[0])).toEqual(
      wf.nodes.map((n) => [n.id, ...pos(n)]).sort((a, b) => a[0] - b[0]),
    );
    // The next patch goes as a delta again, and is taken.
    const again = await bridge("POST", "/comfy/graph/command", { type: "move_node", canvas_id: canvasId, node_id: id, x: 400, y: 200 });
    expect(again.body.ok).toBe(true);
    const last = await counts();
    expect(last.deltas).toBe(after.deltas + 1);
    expect(last.resyncs).toBe(after.resyncs);
  });

  it("queues the workflow: the prompt reaches the host", async () => {
    const before = (await (await fetch(`${env().origin}/__test__/prompts`)).json()).length;
    const q = await bridge("POST", "/comfy/graph/queue", { batch_count: 1 });
    expect(q.status, JSON.stringify(q.body)).toBe(200);
    const prompts = await (await fetch(`${env().origin}/__test__/prompts`)).json();
    expect(prompts).toHaveLength(before + 1);
    const last = prompts.at(-1);
    expect(q.body.prompt_id).toBe(last.prompt_id);
    const classes = Object.values(last.body.prompt).map((n) => n.class_type).sort();
    expect(classes).toEqual(TXT2IMG_TYPES);
    const sampler = Object.values(last.body.prompt).find((n) => n.class_type === "KSampler");
    expect(sampler.inputs).toMatchObject({ seed: 156680208700286, steps: 20, cfg: 8, sampler_name: "euler", scheduler: "normal", denoise: 1 });
    expect(last.body.extra_data.extra_pnginfo.workflow.nodes).toHaveLength(7);
  });

  it("resynchronises after a page reload", async () => {
    const idBefore = await canvasIdOf(page);
    await page.reload({ waitUntil: "domcontentloaded" });
    await waitAttached(page);
    // The same tab and workflow: the same canvas.
    expect(await canvasIdOf(page)).toBe(idBefore);
    const wf = await graphOf(page);
    const mirror = await bridge("POST", "/comfy/graph/command", { type: "get_graph", canvas_id: idBefore });
    expect(mirror.body.graph.stale).toBeFalsy();
    expect(mirror.body.graph.nodes.map((n) => n.id).sort()).toEqual(wf.nodes.map((n) => n.id).sort());
    // Commands work again.
    const r = await batch([{ type: "create_node", node_type: "PreviewImage", x: 1450, y: 500, ref: "p" }]);
    expect(r.body.ok, JSON.stringify(r.body)).toBe(true);
    expect((await graphOf(page)).nodes.some((n) => n.id === r.body.refs.p && n.type === "PreviewImage")).toBe(true);
  });

  it("follows the focused tab when two are open", async () => {
    const second = await openComfy(browser.context);
    try {
      const id1 = await canvasIdOf(page);
      const id2 = await canvasIdOf(second);
      expect(id2).not.toBe(id1);
      const focus = async (p) => {
        await p.bringToFront();
        await p.mouse.click(700, 860);
      };
      const hasNode = async (p, id) => (await graphOf(p)).nodes.some((n) => n.id === id && n.type === "EmptyLatentImage");
      await focus(second);
      await until(async () => (await bridge("GET", "/comfy/graph/canvases")).body.canvases?.[0]?.canvas_id === id2, "tab 2 to be the focused canvas");
      const a = await batch([{ type: "create_node", node_type: "EmptyLatentImage", x: 100, y: 100, ref: "a" }]);
      expect(a.body.ok, JSON.stringify(a.body)).toBe(true);
      expect(a.body.canvas_id).toBe(id2);
      expect(await hasNode(second, a.body.refs.a)).toBe(true);

      const secondBefore = await graphOf(second);
      await focus(page);
      await until(async () => (await bridge("GET", "/comfy/graph/canvases")).body.canvases?.[0]?.canvas_id === id1, "tab 1 to be the focused canvas");
      const b = await batch([{ type: "create_node", node_type: "EmptyLatentImage", x: 100, y: 300, ref: "b" }]);
      expect(b.body.canvas_id).toBe(id1);
      expect(await hasNode(page, b.body.refs.b)).toBe(true);
      // Tab 2 did not change.
      expect((await graphOf(second)).nodes.length).toBe(secondBefore.nodes.length);
    } finally {
      await second.close();
    }
  });

  it("attaches the other workflow after a switch", async () => {
    const first = await canvasIdOf(page);
    await page.evaluate(() => window.comfyAPI.app.app.extensionManager.command.execute("Comfy.NewBlankWorkflow"));
    const second = await until(async () => {
      const id = await canvasIdOf(page);
      return id !== first && (await page.evaluate(() => window.comfyd.editor.status)) === "attached" ? id : null;
    }, "the new workflow to be attached");
    await page.mouse.click(700, 860);
    await until(async () => (await bridge("GET", "/comfy/graph/canvases")).body.canvases?.[0]?.canvas_id === second, "the new canvas to be the focused one");
    const r = await batch([{ type: "create_node", node_type: "VAEDecode", x: 200, y: 200, ref: "v" }]);
    expect(r.body.canvas_id).toBe(second);
    expect((await graphOf(page)).nodes.map((n) => n.type)).toEqual(["VAEDecode"]);
    const canvases = (await bridge("GET", "/comfy/graph/canvases")).body.canvases;
    expect(canvases.find((c) => c.canvas_id === first)?.attached).toBeFalsy();
  });

  it("places nodes created without coordinates apart, left to right, and arranges as one undo step", async () => {
    await batch([{ type: "clear_graph" }]);
    const unplaced = txt2imgCommands().map((c) => {
      if (c.type !== "create_node") return c;
      const { x, y, ...rest } = c; // eslint-disable-line no-unused-vars
      return rest;
    });
    const r = await batch(unplaced);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const refs = r.body.refs;
    // The boxes the frontend draws (title included), after a frame.
    const boxes = async () => {
      await page.evaluate(() => window.comfyAPI.app.app.canvas.setDirty(true, true));
      await page.waitForTimeout(300);
      return page.evaluate(() => {
        const out = {};
        for (const n of window.comfyAPI.app.app.rootGraph.nodes) {
          const b = n.boundingRect ?? n.getBounding();
          out[n.id] = [b[0], b[1], b[2], b[3]];
        }
        return out;
      });
    };
    const overlapping = (bs) => {
      const v = Object.entries(bs);
      const out = [];
      for (let i = 0; i < v.length; i++)
        for (let j = i + 1; j < v.length; j++) {
          const [a, b] = [v[i][1], v[j][1]];
          if (a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3]) out.push(`#${v[i][0]}/#${v[j][0]}`);
        }
      return out;
    };
    const leftOf = (bs, a, b) => bs[refs[a]][0] + bs[refs[a]][2] < bs[refs[b]][0];
    const placed = await boxes();
    await page.screenshot({ path: join(env().artifacts, "canvas-placed.png") });
    expect(overlapping(placed)).toEqual([]);
    for (const [a, b] of [["ckpt", "pos"], ["ckpt", "neg"], ["pos", "sampler"], ["latent", "sampler"], ["sampler", "decode"], ["decode", "save"]])
      expect(leftOf(placed, a, b), `${a} left of ${b}: ${JSON.stringify(placed)}`).toBe(true);

    // The user piles three nodes up; arrange spreads the graph again.
    await page.evaluate((ids) => {
      const g = window.comfyAPI.app.app.rootGraph;
      for (const id of ids) g.getNodeById(id).pos = [0, 0];
      g.setDirtyCanvas(true, true);
    }, [refs.sampler, refs.decode, refs.save]);
    await until(async () => (await bridge("POST", "/comfy/graph/command", { type: "get_graph" })).body.graph.nodes.find((n) => n.id === refs.save)?.pos?.x === 0 || null, "the pile to reach the core");
    const piled = await boxes();
    expect(overlapping(piled).length).toBeGreaterThan(0);
    const a = await bridge("POST", "/comfy/graph/command", { type: "arrange" });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    const arranged = await boxes();
    await page.screenshot({ path: join(env().artifacts, "canvas-arranged.png") });
    expect(overlapping(arranged)).toEqual([]);
    expect(leftOf(arranged, "sampler", "decode") && leftOf(arranged, "decode", "save")).toBe(true);
    // One Ctrl+Z takes the arrange back, and only the arrange.
    await page.mouse.click(700, 860);
    await page.keyboard.press("Control+z");
    await until(async () => JSON.stringify(await boxes()) === JSON.stringify(piled) || null, "the arrange to be undone");
  });

  it("raised no errors of the extension in the page", () => {
    expect(page.comfydErrors).toEqual([]);
  });
});

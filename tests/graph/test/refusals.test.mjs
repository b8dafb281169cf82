// What the graph endpoints refuse, and that a refusal changes nothing: no
// canvas, stale revisions, type errors, every error of a validate-only
// batch, unknown node types with suggestions, idempotent retries, and tabs
// that fail, never answer or die mid-request.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe } from "node:test";
import { useStack, itWithLogs, expectOk, expectGraphOk, expectStatus } from "../lib/harness.mjs";
import { post, get, GraphWs } from "../lib/clients.mjs";
import { txt2imgCommands, codeName, assertSameGraph } from "../lib/graph.mjs";
import { waitFor } from "../lib/stack.mjs";

/** The tab's graph as text, without the provenance the core hands back to
 * it (extra.comfyd.provenance is not part of the graph and may arrive
 * after an earlier patch's answer: docs/provenance.md). */
function graphText(editor) {
  const g = editor.serialize();
  if (g.extra?.comfyd) delete g.extra.comfyd.provenance;
  return JSON.stringify(g);
}

const CANVAS = "tab-r:txt2img";

describe("refusals", () => {
  const h = useStack();
  const it = itWithLogs(h);
  let ed;
  let refs;

  const graphOf = async (canvasId) =>
    expectGraphOk(await post(h.stack, "/comfy/graph/command", { type: "get_graph", canvas_id: canvasId }));

  it("no editor attached: 409 NO_LIVE_CANVAS for commands, batches, get_graph and queue", async () => {
    const s = h.stack;
    expectStatus(await post(s, "/comfy/graph/command", { type: "create_node", node_type: "KSampler" }), 409, "NO_LIVE_CANVAS");
    expectStatus(
      await post(s, "/comfy/graph/batch", { commands: [{ type: "create_node", node_type: "KSampler" }] }),
      409,
      "NO_LIVE_CANVAS",
    );
    expectStatus(await post(s, "/comfy/graph/command", { type: "get_graph" }), 409, "NO_LIVE_CANVAS");
    expectStatus(await post(s, "/comfy/graph/queue", {}), 409);
  });

  it("setup: an editor with the txt2img workflow", async () => {
    ed = await h.stack.editor({ canvasId: CANVAS });
    refs = expectGraphOk(await post(h.stack, "/comfy/graph/batch", { commands: txt2imgCommands(), canvas_id: CANVAS })).refs;
    assert.equal(ed.graph.nodes.length, 7);
  });

  it("an unknown canvas_id is 404 CANVAS_NOT_FOUND", async () => {
    expectStatus(
      await post(h.stack, "/comfy/graph/command", { type: "get_graph", canvas_id: "no-such-tab" }),
      404,
      "CANVAS_NOT_FOUND",
    );
    expectStatus(
      await post(h.stack, "/comfy/graph/command", { type: "move_node", node_id: 1, x: 0, y: 0, canvas_id: "no-such-tab" }),
      404,
      "CANVAS_NOT_FOUND",
    );
  });

  it("a stale base_revision is refused with 409 STALE_REVISION and nothing reaches the editor", async () => {
    const s = h.stack;
    const rev = Number((await graphOf(CANVAS)).revision);
    const ks = Number(refs.sampler);
    const np = ed.patches.length;
    const before = ed.widgetsOf(ks).steps;
    let r = await post(s, "/comfy/graph/command", {
      type: "set_widget", node_id: ks, name: "steps", value: before + 1, base_revision: rev - 1, canvas_id: CANVAS,
    });
    expectStatus(r, 409, "STALE_REVISION");
    r = await post(s, "/comfy/graph/batch", {
      commands: [{ type: "move_node", node_id: ks, x: 5, y: 5 }], base_revision: rev - 1, canvas_id: CANVAS,
    });
    expectStatus(r, 409, "STALE_REVISION");
    assert.equal(ed.patches.length, np);
    assert.equal(ed.widgetsOf(ks).steps, before);
    assert.equal(Number((await graphOf(CANVAS)).revision), rev);
    // The current revision is accepted.
    const ok = expectGraphOk(
      await post(s, "/comfy/graph/command", {
        type: "set_widget", node_id: ks, name: "steps", value: before + 1, base_revision: rev, canvas_id: CANVAS,
      }),
    );
    assert.ok(Number(ok.revision) > rev);
    assert.equal(ed.widgetsOf(ks).steps, before + 1);
  });

  it("an invalid link type is 422 TYPE_MISMATCH and the editor's graph is unchanged", async () => {
    const s = h.stack;
    const before = graphText(ed);
    const np = ed.patches.length;
    const rev = Number((await graphOf(CANVAS)).revision);
    // MODEL into VAEDecode.samples (LATENT).
    let r = await post(s, "/comfy/graph/batch", {
      canvas_id: CANVAS,
      commands: [
        { type: "create_node", node_type: "EmptyLatentImage", ref: "l" },
        { type: "connect", from_id: Number(refs.ckpt), from_slot: "MODEL", to_id: Number(refs.decode), to_slot: "samples" },
      ],
    });
    let body = expectStatus(r, 422, "TYPE_MISMATCH");
    assert.notEqual(body.ok, true);
    assert.equal(body.errors[0].index, 1);
    assert.match(body.errors[0].message, /MODEL|LATENT/);
    r = await post(s, "/comfy/graph/command", {
      type: "connect", from_id: Number(refs.latent), from_slot: 0, to_id: Number(refs.save), to_slot: "images", canvas_id: CANVAS,
    });
    expectStatus(r, 422, "TYPE_MISMATCH");
    // Over WS /comfy/graph/ws: status error with the code and the response.
    const gws = await GraphWs.open(s);
    try {
      const a = await gws.request({
        type: "connect", from_id: Number(refs.latent), from_slot: 0, to_id: Number(refs.save), to_slot: "images", canvas_id: CANVAS,
      });
      assert.equal(a.status, "error", JSON.stringify(a));
      assert.equal(a.code, "TYPE_MISMATCH");
      assert.match(a.message, /^TYPE_MISMATCH/);
      assert.equal(codeName(a.data?.result?.error?.code), "TYPE_MISMATCH", JSON.stringify(a));
    } finally {
      gws.close();
    }
    assert.equal(graphText(ed), before);
    assert.equal(ed.patches.length, np);
    assert.equal(Number((await graphOf(CANVAS)).revision), rev);
  });

  it("validate_only returns every error at once and applies nothing", async () => {
    const s = h.stack;
    const ks = Number(refs.sampler);
    const np = ed.patches.length;
    const rev = Number((await graphOf(CANVAS)).revision);
    const r = await post(s, "/comfy/graph/batch", {
      canvas_id: CANVAS,
      validate_only: true,
      commands: [
        { type: "create_node", node_type: "KSamplr" },
        { type: "create_node", node_type: "EmptyLatentImage", ref: "l" },
        { type: "set_widget", node_id: "l", name: "width", value: 99999999 },
        { type: "set_widget", node_id: ks, name: "sampler_name", value: "no-such-sampler" },
        { type: "connect", from_id: "l", from_slot: "LATENT", to_id: ks, to_slot: "no_such_input" },
        { type: "set_widget", node_id: 9999, name: "steps", value: 1 },
        { type: "set_widget", node_id: ks, name: "stepz", value: 1 },
        { type: "move_node", node_id: ks, x: 1, y: 2 },
      ],
    });
    const body = expectStatus(r, 422, "UNKNOWN_NODE_TYPE");
    assert.notEqual(body.ok, true);
    const errs = body.errors.map((e) => [e.index ?? 0, codeName(e.code)]);
    assert.deepEqual(errs, [
      [0, "UNKNOWN_NODE_TYPE"],
      [2, "VALUE_INVALID"],
      [3, "VALUE_INVALID"],
      [4, "SLOT_NOT_FOUND"],
      [5, "NODE_NOT_FOUND"],
      [6, "WIDGET_NOT_FOUND"],
    ]);
    assert.equal(body.results.length, 8);
    assert.equal(body.results[1].ok, true);
    assert.equal(body.results[7].ok, true);
    // Suggestions for the misspelt names.
    assert.ok(body.errors[0].suggestions.includes("KSampler"), JSON.stringify(body.errors[0]));
    assert.ok(body.errors[5].suggestions.includes("steps"), JSON.stringify(body.errors[5]));
    assert.equal(ed.patches.length, np);
    assert.equal(Number((await graphOf(CANVAS)).revision), rev);
    // A valid validate-only batch: ok, still nothing applied.
    const v = expectGraphOk(
      await post(s, "/comfy/graph/batch", {
        canvas_id: CANVAS,
        validate_only: true,
        commands: [{ type: "create_node", node_type: "KSampler", ref: "k2" }, { type: "move_node", node_id: "k2", x: 1, y: 1 }],
      }),
    );
    assert.ok(Number(v.refs.k2) > 0, "predicted id");
    assert.equal(ed.patches.length, np);
    assert.equal(ed.graph.nodes.length, 7);
  });

  it("an unknown node type is 422 UNKNOWN_NODE_TYPE with suggestions", async () => {
    for (const [asked, expected] of [
      ["KSamplr", "KSampler"],
      ["checkpointloadersimple", "CheckpointLoaderSimple"],
      ["VAE Decode", "VAEDecode"],
    ]) {
      const body = expectStatus(
        await post(h.stack, "/comfy/graph/command", { type: "create_node", node_type: asked, canvas_id: CANVAS }),
        422,
        "UNKNOWN_NODE_TYPE",
      );
      // A single command's error is its result's error.
      const err = body.result.error;
      assert.equal(codeName(err.code), "UNKNOWN_NODE_TYPE");
      assert.ok(err.suggestions.includes(expected), `${asked}: ${JSON.stringify(err)}`);
      assert.match(body.error, new RegExp(expected));
    }
    assert.equal(ed.graph.nodes.length, 7);
  });

  it("a retried idempotency key returns the stored outcome and never duplicates nodes", async () => {
    const s = h.stack;
    const key = `it-${randomUUID()}`;
    const req = { canvas_id: CANVAS, idempotency_key: key, commands: [{ type: "create_node", node_type: "PreviewImage", ref: "p", x: 9, y: 9 }] };
    const a = expectGraphOk(await post(s, "/comfy/graph/batch", req));
    const n = ed.graph.nodes.length;
    const np = ed.patches.length;
    const b = expectGraphOk(await post(s, "/comfy/graph/batch", req));
    assert.equal(b.replayed, true);
    assert.equal(Number(b.refs.p), Number(a.refs.p));
    assert.equal(Number(b.revision), Number(a.revision));
    assert.equal(ed.graph.nodes.length, n);
    assert.equal(ed.patches.length, np);
    // The Idempotency-Key header is the same as the field; concurrent
    // retries share one outcome.
    const key2 = `it-${randomUUID()}`;
    const cmd = { type: "create_node", node_type: "PreviewImage", canvas_id: CANVAS };
    const all = await Promise.all(
      [0, 1, 2].map(() => post(s, "/comfy/graph/command", cmd, { headers: { "Idempotency-Key": key2 } })),
    );
    const ids = all.map((r) => Number(expectGraphOk(r).result.node_id));
    assert.equal(new Set(ids).size, 1, `one node id: ${ids}`);
    assert.equal(ed.graph.nodes.length, n + 1);
    assert.equal(all.filter((r) => r.json.replayed === true).length, 2);
  });

  it("a patch the tab cannot finish is rolled back there: 502 EDITOR_FAILED, nothing changed", async () => {
    const s = h.stack;
    const lacking = await s.editor({ canvasId: "tab-lacking", focused: false, skipTypes: ["SaveImage"] });
    const before = graphText(lacking);
    const rev = Number((await graphOf("tab-lacking")).revision);
    const r = await post(s, "/comfy/graph/batch", {
      canvas_id: "tab-lacking",
      commands: [
        { type: "create_node", node_type: "VAEDecode", ref: "d" },
        { type: "create_node", node_type: "SaveImage", ref: "s" },
        { type: "connect", from_id: "d", from_slot: 0, to_id: "s", to_slot: 0 },
      ],
    });
    const body = expectStatus(r, 502, "EDITOR_FAILED");
    assert.match(JSON.stringify(body), /SaveImage/);
    assert.equal(lacking.patches.length, 1, "the tab got the patch");
    assert.equal(graphText(lacking), before, "rolled back in the tab");
    const g = await graphOf("tab-lacking");
    assert.equal(Number(g.revision), rev);
    assert.equal((g.graph.nodes ?? []).length, 0);
    // The tab keeps working.
    const ok = expectGraphOk(
      await post(s, "/comfy/graph/batch", {
        canvas_id: "tab-lacking",
        commands: [{ type: "create_node", node_type: "VAEDecode", ref: "d" }],
      }),
    );
    assert.equal(Number(ok.refs.d), 1);
    assertSameGraph((await graphOf("tab-lacking")).graph, lacking);
    await lacking.close();
  });

  it("an editor that never answers: 504 EDITOR_TIMEOUT after timeout_ms 300, mirror unchanged", async () => {
    const s = h.stack;
    const silent = await s.editor({ canvasId: "tab-silent", focused: false, silent: true });
    const rev = Number((await graphOf("tab-silent")).revision);
    const t0 = Date.now();
    const r = await post(s, "/comfy/graph/command", {
      type: "create_node", node_type: "KSampler", canvas_id: "tab-silent", timeout_ms: 300,
    });
    const ms = Date.now() - t0;
    expectStatus(r, 504, "EDITOR_TIMEOUT");
    // timeout_ms was used, not the 5 s default.
    assert.ok(ms < 4500, `answered after ${ms} ms`);
    assert.equal(silent.patches.length, 1);
    const g = await graphOf("tab-silent");
    assert.equal(Number(g.revision), rev);
    assert.equal((g.graph.nodes ?? []).length, 0);
    // Also for a batch over h2.
    const r2 = await post(
      s,
      "/comfy/graph/batch",
      { canvas_id: "tab-silent", timeout_ms: 300, commands: [{ type: "create_node", node_type: "KSampler" }] },
      { h2: true },
    );
    expectStatus(r2, 504, "EDITOR_TIMEOUT");
    await silent.close();
  });

  it("an editor killed mid-request: 502 EDITOR_GONE, then 409 NO_LIVE_CANVAS and a stale mirror", async () => {
    const s = h.stack;
    const child = await s.editorProcess(["--canvas-id", "tab-doomed", "--unfocused", "--silent", "--no-reconnect"]);
    const pending = post(s, "/comfy/graph/command", {
      type: "create_node", node_type: "KSampler", canvas_id: "tab-doomed", timeout_ms: 30000,
    });
    await waitFor(() => readFileSync(child.logPath, "utf8").includes("editor: patch"), 10000, "patch reached the editor");
    child.kill("SIGKILL");
    const r = await pending;
    expectStatus(r, 502, "EDITOR_GONE");
    await waitFor(
      async () => {
        const l = expectOk(await get(s, "/comfy/graph/canvases"));
        return l.canvases.find((c) => c.canvas_id === "tab-doomed" && c.attached !== true);
      },
      10000,
      "canvas detached",
    );
    expectStatus(
      await post(s, "/comfy/graph/command", { type: "move_node", node_id: 1, x: 0, y: 0, canvas_id: "tab-doomed" }),
      409,
      "NO_LIVE_CANVAS",
    );
    const g = await graphOf("tab-doomed");
    assert.equal(g.graph.stale, true);
  });

  it("the first canvas still works after all of that", async () => {
    const ks = Number(refs.sampler);
    expectGraphOk(
      await post(h.stack, "/comfy/graph/command", { type: "set_widget", node_id: ks, name: "denoise", value: 0.5, canvas_id: CANVAS }),
    );
    assert.equal(ed.widgetsOf(ks).denoise, 0.5);
    assertSameGraph((await graphOf(CANVAS)).graph, ed);
  });
});

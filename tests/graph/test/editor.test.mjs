// The headless editor on its own: node types from object_info the way
// ComfyUI's frontend builds them, and commands applied to a real LiteGraph
// (no services involved). The other tests rely on this behaviour.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it, before } from "node:test";
import { prepareLiteGraph, GraphApplier, orderedInputs } from "../editor.mjs";
import { OBJECT_INFO } from "../lib/stack.mjs";
import { txt2imgCommands } from "../lib/graph.mjs";

describe("headless editor", () => {
  let lg;
  let info;
  before(async () => {
    lg = await prepareLiteGraph(OBJECT_INFO);
    info = JSON.parse(readFileSync(OBJECT_INFO, "utf8"));
  });

  const fresh = () => {
    const g = new lg.LGraph();
    return { g, ap: new GraphApplier(lg, g) };
  };

  it("registers every node type of the fixture", () => {
    for (const name of Object.keys(info)) assert.ok(lg.LiteGraph.registered_node_types[name], name);
  });

  it("link inputs become slots, widget inputs widgets, seed gets control_after_generate", () => {
    const n = lg.LiteGraph.createNode("KSampler");
    assert.deepEqual(n.inputs.map((i) => [i.name, i.type]), [
      ["model", "MODEL"], ["positive", "CONDITIONING"], ["negative", "CONDITIONING"], ["latent_image", "LATENT"],
    ]);
    assert.deepEqual(n.widgets.map((w) => w.name), [
      "seed", "control_after_generate", "steps", "cfg", "sampler_name", "scheduler", "denoise",
    ]);
    assert.deepEqual(n.widgets.map((w) => w.value), [0, "randomize", 20, 8, "euler", "normal", 1]);
    assert.deepEqual(n.outputs.map((o) => [o.name, o.type]), [["LATENT", "LATENT"]]);
    assert.equal(n.title, "KSampler");
    const li = lg.LiteGraph.createNode("LoadImage");
    assert.deepEqual(li.widgets.map((w) => w.name), ["image", "upload"]);
  });

  it("input order follows input_order, required before optional, hidden skipped", () => {
    const names = orderedInputs(info.SaveImage).map((i) => i.name);
    assert.deepEqual(names, ["images", "filename_prefix"]);
  });

  it("builds txt2img with refs: LiteGraph ids, link ids, values read back", () => {
    const { g, ap } = fresh();
    const out = ap.applyPatch(txt2imgCommands(), "BATCH_MODE_ATOMIC");
    assert.equal(out.ok, true, out.error);
    assert.deepEqual(out.results.slice(0, 7).map((r) => r.node_id), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(out.results.slice(7).map((r) => r.link_id), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const wf = g.serialize();
    assert.equal(wf.nodes.length, 7);
    assert.equal(wf.links.length, 9);
    assert.equal(wf.last_node_id, 7);
    assert.equal(wf.last_link_id, 9);
  });

  it("INT widgets take whole numbers and FLOAT widgets round to their step, as the tab's executor does", () => {
    const { ap } = fresh();
    ap.applyPatch([{ type: "create_node", node_type: "KSampler", ref: "k" }], "");
    let r = ap.applyPatch([{ type: "set_widget", node_id: 1, name: "steps", value: 12.6 }], "");
    assert.equal(r.ok, false);
    assert.equal(r.results[0].error.code, "VALUE_INVALID");
    assert.match(r.results[0].error.message, /steps takes an integer/);
    r = ap.applyPatch(
      [
        { type: "set_widget", node_id: 1, name: "steps", value: 12 },
        { type: "set_widget", node_id: 1, name: "cfg", value: 7.123 },
      ],
      "",
    );
    assert.deepEqual(r.results.map((x) => x.value), [12, 7.12]);
  });

  it("set_node_mode mutes, bypasses and enables a node", () => {
    const { g, ap } = fresh();
    ap.applyPatch(txt2imgCommands(), "");
    const modes = [["never", 2], ["bypass", 4], ["always", 0], ["mute", 2]];
    for (const [name, mode] of modes) {
      const r = ap.applyPatch([{ type: "set_node_mode", node_id: 3, mode: name }], "");
      assert.equal(r.ok, true, r.error);
      assert.equal(r.results[0].node_id, 3);
      assert.equal(g.getNodeById(3).mode, mode, name);
      assert.equal(g.serialize().nodes.find((n) => n.id === 3).mode, mode);
    }
    const r = ap.applyPatch([{ type: "set_node_mode", node_id: 3, mode: "off" }], "");
    assert.equal(r.results[0].error.code, "INVALID_COMMAND");
    assert.match(r.results[0].error.message, /not one of always, never, mute, bypass/);
    assert.equal(g.getNodeById(3).mode, 2, "unchanged");
  });

  it("a command that fails half-way rolls the whole patch back", () => {
    const { g, ap } = fresh();
    ap.applyPatch([{ type: "create_node", node_type: "VAEDecode" }], "");
    const before = JSON.stringify(g.serialize());
    const r = ap.applyPatch(
      [
        { type: "create_node", node_type: "EmptyLatentImage", ref: "l" },
        { type: "connect", from_id: "l", from_slot: 0, to_id: 1, to_slot: "samples" },
        { type: "connect", from_id: "l", from_slot: 0, to_id: 1, to_slot: "vae" },
      ],
      "BATCH_MODE_ATOMIC",
    );
    assert.equal(r.ok, false);
    assert.equal(r.results[2].error.code, "TYPE_MISMATCH");
    assert.equal(JSON.stringify(g.serialize()), before);
    // Ids continue from the restored state.
    const again = ap.applyPatch([{ type: "create_node", node_type: "EmptyLatentImage" }], "");
    assert.equal(again.results[0].node_id, 2);
  });

  it("partial patches keep what worked", () => {
    const { g, ap } = fresh();
    const r = ap.applyPatch(
      [
        { type: "create_node", node_type: "VAEDecode" },
        { type: "set_widget", node_id: 1, name: "nope", value: 1 },
        { type: "move_node", node_id: 1, x: 5, y: 6 },
      ],
      "BATCH_MODE_PARTIAL",
    );
    // ok is "every command applied", as the real tab reports it.
    assert.equal(r.ok, false);
    assert.match(r.error, /no widget "nope"/);
    assert.deepEqual(r.results.map((x) => x.ok), [true, false, true]);
    assert.deepEqual([...g.getNodeById(1).pos], [5, 6]);
  });

  it("disconnect, remove and clear", () => {
    const { g, ap } = fresh();
    ap.applyPatch(txt2imgCommands(), "");
    let r = ap.applyPatch([{ type: "disconnect", node_id: 6, slot: "vae" }], "");
    assert.equal(r.results[0].link_id, 8);
    assert.equal(g.links.size, 8);
    r = ap.applyPatch([{ type: "disconnect", node_id: 6, slot: "vae" }], "");
    assert.equal(r.results[0].link_id, 0, "nothing to disconnect is still ok");
    r = ap.applyPatch([{ type: "remove_node", node_id: 5 }], "");
    assert.equal(r.ok, true);
    assert.equal(g.nodes.length, 6);
    assert.equal(g.links.size, 3, "links of the removed node went with it");
    ap.applyPatch([{ type: "clear_graph" }], "");
    assert.equal(g.nodes.length, 0);
    // The core predicts LiteGraph's ids after a clear (they restart) and
    // the tab gives the new node the predicted id.
    r = ap.applyPatch([{ type: "create_node", node_type: "VAEDecode" }], "", [1]);
    assert.equal(r.results[0].node_id, 1, "ids restart after clear");
  });

  it("configure() round trip of the serialized workflow", () => {
    const { g, ap } = fresh();
    ap.applyPatch(txt2imgCommands(), "");
    const wf = g.serialize();
    const g2 = new lg.LGraph();
    g2.configure(structuredClone(wf));
    assert.deepEqual(
      g2.serialize().nodes.map((n) => [n.id, n.type, n.widgets_values]),
      wf.nodes.map((n) => [n.id, n.type, n.widgets_values]),
    );
  });
});

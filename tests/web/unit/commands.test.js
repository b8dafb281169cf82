import { describe, expect, it } from "vitest";
import { LiteGraph, ctxFor, newGraph, txt2img, txt2imgBatch } from "./harness.js";
import { applyPatch, normalizeCommand, COMMAND_TYPES } from "../../../web/src/executor/commands.js";
import { linkById, nodeById, nodesOf, workflowSignature } from "../../../web/src/executor/graphops.js";

const apply = (g, commands, extra = {}) => applyPatch(ctxFor(g), { commands, ...extra });
const widget = (node, name) => node.widgets.find((w) => w.name === name);

describe("normalizeCommand", () => {
  it("accepts the flat and the nested form", () => {
    expect(normalizeCommand({ type: "move_node", node_id: 3, x: 1, y: 2 })).toEqual({ type: "move_node", node_id: { id: 3 }, x: 1, y: 2 });
    expect(normalizeCommand({ move_node: { node_id: 3, x: 1, y: 2 } })).toEqual({ type: "move_node", node_id: { id: 3 }, x: 1, y: 2 });
  });

  it("refuses every type outside the fixed command set", () => {
    for (const type of ["eval", "run_js", "constructor", "__proto__", "toString", "queue", "load"]) {
      expect(() => normalizeCommand({ type }), type).toThrow(/unknown type/);
    }
    expect(COMMAND_TYPES).toEqual(["create_node", "remove_node", "connect", "disconnect", "set_widget", "move_node", "clear_graph", "get_graph", "arrange", "set_node_mode"]);
  });

  it("checks field types and limits", () => {
    expect(() => normalizeCommand({ type: "create_node" })).toThrow(/node_type is required/);
    expect(() => normalizeCommand({ type: "create_node", node_type: 5 })).toThrow(/must be a string/);
    expect(() => normalizeCommand({ type: "move_node", node_id: 1, x: 1e9, y: 0 })).toThrow(/within/);
    expect(() => normalizeCommand({ type: "move_node", node_id: 1, x: Number.NaN, y: 0 })).toThrow(/number/);
    expect(() => normalizeCommand({ type: "remove_node", node_id: { nope: 1 } })).toThrow(/node id or a ref/);
    expect(() => normalizeCommand({ type: "set_widget", node_id: 1, name: "x", value: [1] })).toThrow(/number, a string or a boolean/);
    expect(() => normalizeCommand({ type: "set_widget", node_id: 1, name: "x", value: "a".repeat(256 * 1024 + 1) })).toThrow(/longer/);
    expect(() => normalizeCommand({ type: "create_node", node_type: "X", ref: "r".repeat(129) })).toThrow(/longer/);
    expect(() => normalizeCommand(null)).toThrow(/object/);
    expect(() => normalizeCommand({})).toThrow(/missing field: type/);
  });

  it("reads refs, ids, slot names and the proto object forms", () => {
    const c = normalizeCommand({ type: "connect", from_id: "a", from_slot: { name: "LATENT" }, to_id: { id: 7 }, to_slot: { index: 2 } });
    expect(c).toMatchObject({ from_id: { ref: "a" }, from_slot: "LATENT", to_id: { id: 7 }, to_slot: 2 });
    expect(normalizeCommand({ type: "set_widget", node_id: "12", name: "seed", value: { integer: 5 } })).toMatchObject({ node_id: { id: 12 }, value: 5 });
    expect(normalizeCommand({ type: "disconnect", node_id: 1 }).slot).toBe(0);
  });
});

describe("create_node", () => {
  it("adds the node at its position with its title and widget values", () => {
    const g = newGraph();
    const out = apply(g, [{ type: "create_node", node_type: "KSampler", x: 10, y: 20, title: "Sampler A", widgets: { steps: 30, cfg: 6.5, sampler_name: "dpmpp_2m" } }]);
    expect(out.ok).toBe(true);
    const n = nodeById(g, out.results[0].node_id);
    expect(n.type).toBe("KSampler");
    expect(Array.from(n.pos)).toEqual([10, 20]);
    expect(n.title).toBe("Sampler A");
    expect(widget(n, "steps").value).toBe(30);
    expect(widget(n, "cfg").value).toBe(6.5);
    expect(widget(n, "sampler_name").value).toBe("dpmpp_2m");
  });

  it("refuses an unknown type with suggestions and leaves the graph alone", () => {
    const g = newGraph();
    const out = apply(g, [{ type: "create_node", node_type: "KSamplr" }]);
    expect(out.ok).toBe(false);
    expect(out.results[0].error.code).toBe("UNKNOWN_NODE_TYPE");
    expect(out.results[0].error.suggestions).toContain("KSampler");
    expect(nodesOf(g)).toHaveLength(0);
  });

  it("places a node without coordinates in the middle of the view the context gives", () => {
    const g = newGraph();
    const out = applyPatch(ctxFor(g, { view: () => [400, 200, 1000, 800] }), { commands: [{ type: "create_node", node_type: "VAEDecode" }] });
    const n = nodeById(g, out.results[0].node_id);
    // The node's box, its title (30) included, is centred on (900, 600).
    expect(Array.from(n.pos)).toEqual([Math.round(900 - n.size[0] / 2), Math.round(600 - (n.size[1] + 30) / 2) + 30]);
  });
});

describe("id assignment", () => {
  it("uses the ids the core expects when they are free", () => {
    const g = newGraph();
    const out = apply(g, [{ type: "create_node", node_type: "VAEDecode" }, { type: "create_node", node_type: "SaveImage" }], { expected_node_ids: [12, 13] });
    expect(out.results.map((r) => r.node_id)).toEqual([12, 13]);
    // The counter follows, so the next node without an expectation is 14.
    expect(apply(g, [{ type: "create_node", node_type: "VAEDecode" }]).results[0].node_id).toBe(14);
  });

  it("lets LiteGraph assign the next id when the expected one is taken, and reports it", () => {
    const g = newGraph();
    apply(g, [{ type: "create_node", node_type: "VAEDecode" }], { expected_node_ids: [5] });
    const out = apply(g, [{ type: "create_node", node_type: "VAEDecode" }], { expected_node_ids: [5] });
    expect(out.results[0].node_id).toBe(6);
    expect(nodesOf(g).map((n) => n.id).sort()).toEqual([5, 6]);
  });

  it("assigns last id + 1 without expectations", () => {
    const g = newGraph();
    const out = apply(g, [{ type: "create_node", node_type: "VAEDecode" }, { type: "create_node", node_type: "VAEDecode" }]);
    expect(out.results.map((r) => r.node_id)).toEqual([1, 2]);
  });
});

describe("connect and disconnect", () => {
  it("builds the txt2img workflow from one batch with refs", () => {
    const g = newGraph();
    const out = apply(g, txt2imgBatch());
    expect(out.ok).toBe(true);
    const wf = g.serialize();
    expect(wf.nodes.map((n) => n.type).sort()).toEqual(txt2img.nodes.map((n) => n.type).sort());
    expect(wf.links).toHaveLength(txt2img.links.length);
    const typeOf = (id) => wf.nodes.find((n) => n.id === id).type;
    const shape = (links) => links.map((l) => `${l[5]}:${l[2]}->${l[4]}`).sort();
    const fixtureShape = txt2img.links.map((l) => {
      const from = txt2img.nodes.find((n) => n.id === l[1]).type;
      const to = txt2img.nodes.find((n) => n.id === l[3]).type;
      return [l[0], from, l[2], to, l[4], l[5]];
    });
    expect(wf.links.map((l) => `${typeOf(l[1])}.${l[2]}->${typeOf(l[3])}.${l[4]}:${l[5]}`).sort()).toEqual(
      fixtureShape.map((l) => `${l[1]}.${l[2]}->${l[3]}.${l[4]}:${l[5]}`).sort(),
    );
    expect(shape(wf.links)).toEqual(shape(txt2img.links));
    const connectResults = out.results.filter((r) => r.link_id);
    expect(connectResults).toHaveLength(9);
    for (const r of connectResults) expect(linkById(g, r.link_id)).toBeTruthy();
  });

  it("checks slot types", () => {
    const g = newGraph();
    const out = apply(g, [
      { type: "create_node", node_type: "EmptyLatentImage", ref: "l" },
      { type: "create_node", node_type: "VAEDecode", ref: "d" },
      { type: "connect", from_id: "l", from_slot: 0, to_id: "d", to_slot: "vae" },
    ]);
    expect(out.ok).toBe(false);
    expect(out.results[2].error.code).toBe("TYPE_MISMATCH");
    expect(out.results[2].error.message).toMatch(/LATENT.*VAE/);
  });

  it("names a missing slot and suggests close names", () => {
    const g = newGraph();
    apply(g, [{ type: "create_node", node_type: "KSampler" }, { type: "create_node", node_type: "EmptyLatentImage" }]);
    const out = apply(g, [{ type: "connect", from_id: 2, from_slot: 0, to_id: 1, to_slot: "latent" }]);
    expect(out.results[0].error.code).toBe("SLOT_NOT_FOUND");
    expect(out.results[0].error.suggestions).toContain("latent_image");
    expect(apply(g, [{ type: "connect", from_id: 2, from_slot: 5, to_id: 1, to_slot: 3 }]).results[0].error.code).toBe("SLOT_NOT_FOUND");
  });

  it("replaces the link into an input that is already connected", () => {
    const g = newGraph();
    apply(g, txt2imgBatch());
    const latentA = nodesOf(g).find((n) => n.type === "EmptyLatentImage");
    const out = apply(g, [
      { type: "create_node", node_type: "EmptyLatentImage", ref: "b" },
      { type: "connect", from_id: "b", from_slot: 0, to_id: nodesOf(g).find((n) => n.type === "KSampler").id, to_slot: "latent_image" },
    ]);
    expect(out.ok).toBe(true);
    expect(latentA.outputs[0].links ?? []).toHaveLength(0);
    expect(g.serialize().links).toHaveLength(9);
  });

  it("disconnects an input and answers an empty input without error", () => {
    const g = newGraph();
    apply(g, txt2imgBatch());
    const sampler = nodesOf(g).find((n) => n.type === "KSampler");
    const linkId = sampler.inputs[0].link;
    const out = apply(g, [{ type: "disconnect", node_id: sampler.id, slot: "model" }]);
    expect(out.results[0]).toMatchObject({ ok: true, node_id: sampler.id, link_id: linkId });
    expect(sampler.inputs[0].link).toBeNull();
    expect(linkById(g, linkId)).toBeNull();
    expect(apply(g, [{ type: "disconnect", node_id: sampler.id, slot: 0 }]).results[0]).toMatchObject({ ok: true, link_id: 0 });
  });
});

describe("set_widget", () => {
  const setup = () => {
    const g = newGraph();
    const id = apply(g, [{ type: "create_node", node_type: "KSampler" }]).results[0].node_id;
    return { g, id, node: nodeById(g, id) };
  };

  it("sets a value by name and reads it back", () => {
    const { g, id } = setup();
    const out = apply(g, [{ type: "set_widget", node_id: id, name: "steps", value: 35 }]);
    expect(out.results[0]).toMatchObject({ ok: true, node_id: id, value: 35 });
  });

  it("reads back what the widget's callback made of the value", () => {
    const g = newGraph();
    const id = apply(g, [{ type: "create_node", node_type: "EmptyLatentImage" }]).results[0].node_id;
    // width has step 8: the INT widget rounds 515 to 512.
    expect(apply(g, [{ type: "set_widget", node_id: id, name: "width", value: 515 }]).results[0].value).toBe(512);
  });

  it("refuses values outside the widget's options", () => {
    const { g, id } = setup();
    const err = (name, value) => apply(g, [{ type: "set_widget", node_id: id, name, value }]).results[0].error;
    expect(err("steps", 0).code).toBe("VALUE_INVALID");
    expect(err("steps", 10001).message).toMatch(/maximum/);
    expect(err("steps", 2.5).message).toMatch(/integer/);
    expect(err("steps", "20").message).toMatch(/number/);
    expect(err("sampler_name", "eulr")).toMatchObject({ code: "VALUE_INVALID", suggestions: expect.arrayContaining(["euler"]) });
    expect(err("denoise", 1.5).code).toBe("VALUE_INVALID");
    expect(err("nope", 1)).toMatchObject({ code: "WIDGET_NOT_FOUND" });
    expect(err("stpes", 1).suggestions).toContain("steps");
  });

  it("maps control_after_generate, the extra value seeds carry in widgets_values", () => {
    const { g, id, node } = setup();
    const out = apply(g, [
      { type: "set_widget", node_id: id, name: "seed", value: 123456 },
      { type: "set_widget", node_id: id, name: "control_after_generate", value: "fixed" },
    ]);
    expect(out.ok).toBe(true);
    expect(out.results[1].value).toBe("fixed");
    const wv = g.serialize().nodes.find((n) => n.id === id).widgets_values;
    // seed, control_after_generate, steps, cfg, sampler_name, scheduler, denoise
    expect(wv.slice(0, 3)).toEqual([123456, "fixed", 20]);
    expect(widget(node, "control_after_generate").value).toBe("fixed");
    expect(apply(g, [{ type: "set_widget", node_id: id, name: "control_after_generate", value: "sometimes" }]).results[0].error.code).toBe("VALUE_INVALID");
  });

  it("sets text and boolean widgets with their types", () => {
    const g = newGraph();
    const out = apply(g, [
      { type: "create_node", node_type: "CLIPTextEncode", ref: "t", widgets: { text: "a cat" } },
      { type: "set_widget", node_id: "t", name: "text", value: "a dog" },
    ]);
    expect(out.results[1].value).toBe("a dog");
    expect(apply(g, [{ type: "set_widget", node_id: out.results[0].node_id, name: "text", value: 5 }]).results[0].error.code).toBe("VALUE_INVALID");
  });
});

describe("move, remove, clear, get_graph", () => {
  it("moves a node", () => {
    const g = newGraph();
    const id = apply(g, [{ type: "create_node", node_type: "VAEDecode", x: 0, y: 0 }]).results[0].node_id;
    expect(apply(g, [{ type: "move_node", node_id: id, x: 300, y: -40 }]).ok).toBe(true);
    expect(Array.from(nodeById(g, id).pos)).toEqual([300, -40]);
  });

  it("removes a node with its links", () => {
    const g = newGraph();
    apply(g, txt2imgBatch());
    const decode = nodesOf(g).find((n) => n.type === "VAEDecode");
    const out = apply(g, [{ type: "remove_node", node_id: decode.id }]);
    expect(out.results[0]).toMatchObject({ ok: true, node_id: decode.id });
    expect(nodeById(g, decode.id)).toBeNull();
    expect(g.serialize().links).toHaveLength(6);
    expect(apply(g, [{ type: "remove_node", node_id: decode.id }]).results[0].error.code).toBe("NODE_NOT_FOUND");
  });

  it("clears every node except the agent panel", () => {
    const g = newGraph();
    apply(g, txt2imgBatch());
    apply(g, [{ type: "create_node", node_type: "ComfydAgentPanel" }]);
    const out = applyPatch(ctxFor(g, { keepOnClear: (n) => n.type === "ComfydAgentPanel" }), { commands: [{ type: "clear_graph" }] });
    expect(out.ok).toBe(true);
    expect(nodesOf(g).map((n) => n.type)).toEqual(["ComfydAgentPanel"]);
    expect(g.serialize().links).toHaveLength(0);
  });

  it("mutes, bypasses and enables a node by mode name", () => {
    const g = newGraph();
    apply(g, txt2imgBatch());
    const ks = nodesOf(g).find((n) => n.type === "KSampler");
    for (const [mode, want] of [["never", 2], ["bypass", 4], ["always", 0], ["mute", 2]]) {
      const out = apply(g, [{ type: "set_node_mode", node_id: ks.id, mode }]);
      expect(out.results[0]).toMatchObject({ ok: true, node_id: ks.id });
      expect(nodeById(g, ks.id).mode).toBe(want);
      expect(g.serialize().nodes.find((n) => n.id === ks.id).mode).toBe(want);
    }
    const bad = apply(g, [{ type: "set_node_mode", node_id: ks.id, mode: "off" }]);
    expect(bad.results[0].error.code).toBe("INVALID_COMMAND");
    expect(bad.results[0].error.message).toMatch(/not one of always, never, mute, bypass/);
    expect(() => normalizeCommand({ type: "set_node_mode", node_id: 1 })).toThrow(/mode is required/);
    expect(apply(g, [{ type: "set_node_mode", node_id: 999, mode: "never" }]).results[0].error.code).toBe("NODE_NOT_FOUND");
    expect(nodeById(g, ks.id).mode).toBe(2);
  });

  it("treats get_graph as a no-op", () => {
    const g = newGraph();
    const out = apply(g, [{ type: "get_graph" }]);
    expect(out).toMatchObject({ ok: true, applied: false });
  });
});

describe("rollback", () => {
  it("rolls an atomic patch back when a command fails half-way, ids included", () => {
    const g = newGraph();
    apply(g, txt2imgBatch());
    const before = g.serialize();
    const out = apply(g, [
      { type: "create_node", node_type: "VAEDecode", ref: "x" },
      { type: "move_node", node_id: 1, x: 999, y: 999 },
      { type: "set_widget", node_id: 5, name: "steps", value: 3 },
      { type: "connect", from_id: "x", from_slot: 0, to_id: 5, to_slot: "model" },
      { type: "create_node", node_type: "SaveImage" },
    ]);
    expect(out.ok).toBe(false);
    expect(out.applied).toBe(false);
    expect(out.results[3].error.code).toBe("TYPE_MISMATCH");
    for (const i of [0, 1, 2, 4]) expect(out.results[i].error.code).toBe("SKIPPED");
    expect(workflowSignature(g.serialize())).toBe(workflowSignature(before));
    // The id counter came back too: the next node gets the id it would have.
    expect(apply(g, [{ type: "create_node", node_type: "VAEDecode" }]).results[0].node_id).toBe(8);
  });

  it("removes a created node whose widgets fail, even in partial mode", () => {
    const g = newGraph();
    const out = apply(g, [
      { type: "create_node", node_type: "EmptyLatentImage", ref: "a" },
      { type: "create_node", node_type: "KSampler", widgets: { steps: -1 } },
      { type: "move_node", node_id: "a", x: 5, y: 5 },
    ], { mode: "BATCH_MODE_PARTIAL" });
    expect(out.ok).toBe(false);
    expect(out.applied).toBe(true);
    expect(out.results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(nodesOf(g).map((n) => n.type)).toEqual(["EmptyLatentImage"]);
  });

  it("stops an atomic patch at a malformed command without touching the graph", () => {
    const g = newGraph();
    const out = apply(g, [{ type: "create_node", node_type: "VAEDecode" }, { type: "eval", code: "alert(1)" }]);
    expect(out.ok).toBe(false);
    expect(out.results[1].error.code).toBe("INVALID_COMMAND");
    expect(nodesOf(g)).toHaveLength(0);
  });

  it("refuses a patch over the command limit", () => {
    const g = newGraph();
    const out = apply(g, Array.from({ length: 1001 }, () => ({ type: "get_graph" })));
    expect(out.ok).toBe(false);
    expect(out.error).toMatch(/more than 1000/);
  });
});

describe("LiteGraph itself", () => {
  it("is the real one from npm", () => {
    expect(typeof LiteGraph.createNode).toBe("function");
    expect(LiteGraph.isValidConnection("LATENT", "IMAGE")).toBe(false);
  });
});

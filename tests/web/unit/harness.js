// A headless stand-in for the parts of ComfyUI the executor meets: the real
// LiteGraph from npm (@comfyorg/litegraph), node classes built from the
// checked-in /object_info fixture the way the frontend builds them
// (widgets for INT/FLOAT/STRING/BOOLEAN/COMBO, the extra
// control_after_generate combo after seed-like INTs, sockets for link
// types), and a fake app whose canvas implements the change tracker's
// before/after-change counting, so undo grouping can be asserted.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// The three globals LiteGraph touches when it is imported outside a browser.
globalThis.window ??= globalThis;
globalThis.devicePixelRatio ??= 1;
globalThis.document ??= {
  createElement: () => ({ getContext: () => null, style: {}, addEventListener() {}, appendChild() {} }),
  getElementById: () => null,
  addEventListener() {},
};
globalThis.localStorage ??= (() => {
  const m = new Map();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k) };
})();

const lg = await import("@comfyorg/litegraph");
export const { LiteGraph, LGraph, LGraphNode } = lg;

export const FIXTURES = fileURLToPath(new URL("../../fixtures/", import.meta.url));
export const objectInfo = JSON.parse(readFileSync(`${FIXTURES}object_info.json`, "utf8"));
export const txt2img = JSON.parse(readFileSync(`${FIXTURES}txt2img_workflow.json`, "utf8"));

const WIDGET_TYPES = new Set(["INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"]);
const CONTROL_VALUES = ["fixed", "increment", "decrement", "randomize"];

function specOf(spec) {
  const [type, opts] = Array.isArray(spec) ? spec : [spec, {}];
  return { type, opts: opts ?? {} };
}

function addWidgetFor(node, name, type, o) {
  if (Array.isArray(type) || type === "COMBO") {
    const values = Array.isArray(type) ? type : (o.options ?? []);
    return node.addWidget("combo", name, o.default ?? values[0] ?? "", () => {}, { values });
  }
  if (type === "INT") {
    const w = node.addWidget("number", name, o.default ?? 0, function (v) {
      // ComfyUI's INT widget rounds to its step.
      const s = o.step ?? 1;
      const min = o.min ?? 0;
      this.value = Math.round((v - min) / s) * s + min;
    }, { min: o.min ?? 0, max: o.max ?? 2048, step: 10 * (o.step ?? 1), step2: o.step ?? 1, precision: 0 });
    if (o.control_after_generate ?? ["seed", "noise_seed"].includes(name))
      node.addWidget("combo", "control_after_generate", "randomize", () => {}, { values: CONTROL_VALUES, serialize: false });
    return w;
  }
  if (type === "FLOAT") {
    const step = o.step ?? 0.5;
    const precision = Math.max(0, -Math.floor(Math.log10(step)));
    return node.addWidget("number", name, o.default ?? 0, () => {}, { min: o.min ?? 0, max: o.max ?? 2048, step: step * 10, step2: step, precision, round: o.round });
  }
  if (type === "BOOLEAN") return node.addWidget("toggle", name, !!o.default, () => {}, {});
  return node.addWidget(o.multiline ? "customtext" : "text", name, o.default ?? "", () => {}, {});
}

/** Registers one LiteGraph node class per fixture node type. */
export function registerFixtureTypes(info = objectInfo) {
  for (const [name, def] of Object.entries(info)) {
    if (LiteGraph.registered_node_types[name]) continue;
    class FixtureNode extends LGraphNode {
      constructor(title) {
        super(title ?? def.display_name ?? name);
        this.comfyClass = name;
        this.serialize_widgets = true;
        const order = def.input_order ?? {
          required: Object.keys(def.input?.required ?? {}),
          optional: Object.keys(def.input?.optional ?? {}),
        };
        for (const group of ["required", "optional"]) {
          for (const input of order[group] ?? []) {
            const { type, opts } = specOf(def.input?.[group]?.[input]);
            if (Array.isArray(type) || (WIDGET_TYPES.has(type) && !opts.forceInput)) addWidgetFor(this, input, type, opts);
            else this.addInput(input, type);
          }
        }
        (def.output ?? []).forEach((t, i) => this.addOutput(def.output_name?.[i] ?? String(t), Array.isArray(t) ? "COMBO" : t));
      }
    }
    FixtureNode.title = def.display_name ?? name;
    LiteGraph.registerNodeType(name, FixtureNode);
  }
}

/** The agent panel's stand-in: a node with the hidden config widgets. */
export function registerPanelType() {
  if (LiteGraph.registered_node_types.ComfydAgentPanel) return;
  class Panel extends LGraphNode {
    constructor() {
      super("comfyd Agent");
      this.comfyClass = "ComfydAgentPanel";
      this.serialize_widgets = true;
      this.addWidget("text", "session_id", "", () => {}, {});
    }
  }
  LiteGraph.registerNodeType("ComfydAgentPanel", Panel);
}

/**
 * A fake app: rootGraph, and a canvas whose emitBeforeChange/AfterChange
 * drive a change tracker like ComfyUI's (a counter; a capture of the
 * serialised graph when it returns to 0, pushed as an undo state when it
 * differs from the last one).
 */
export function fakeApp(graph = new LGraph()) {
  const tracker = {
    changeCount: 0,
    activeState: graph.serialize(),
    undoQueue: [],
    events: [],
    capture() {
      if (this.changeCount > 0) return;
      const now = graph.serialize();
      if (JSON.stringify(strip(now)) !== JSON.stringify(strip(this.activeState))) {
        this.undoQueue.push(this.activeState);
        this.activeState = now;
      }
    },
    undo() {
      const prev = this.undoQueue.pop();
      if (!prev) return false;
      graph.configure(structuredClone(prev));
      this.activeState = prev;
      return true;
    },
  };
  const canvas = {
    dirty: 0,
    emitBeforeChange() {
      tracker.events.push("before");
      tracker.changeCount++;
    },
    emitAfterChange() {
      tracker.events.push("after");
      tracker.changeCount--;
      tracker.capture();
    },
    setDirty() {
      this.dirty++;
    },
    ds: { offset: [0, 0], scale: 1 },
    canvas: { width: 800, height: 600 },
  };
  const app = {
    rootGraph: graph,
    canvas,
    tracker,
    configuringGraph: false,
    extensionManager: { workflow: { activeWorkflow: { path: "workflows/Unsaved Workflow.json", filename: "Unsaved Workflow" } } },
    queued: [],
    async queuePrompt(number, batchCount) {
      for (let i = 0; i < batchCount; i++) await this.api.queuePrompt(number, { output: {}, workflow: graph.serialize() });
      return true;
    },
    async loadGraphData(wf) {
      graph.configure(structuredClone(wf));
    },
  };
  return app;
}

function strip(wf) {
  const { extra, ...rest } = wf;
  return rest;
}

/** A fresh graph with the fixture types registered. */
export function newGraph() {
  registerFixtureTypes();
  registerPanelType();
  return new LGraph();
}

/** The context applyPatch takes. */
export function ctxFor(graph, extra = {}) {
  return { graph, LiteGraph, canvas: null, ...extra };
}

/** The txt2img workflow of the fixture as one flat batch (refs for ids). */
export function txt2imgBatch() {
  return [
    { type: "create_node", node_type: "CheckpointLoaderSimple", ref: "ckpt", x: 26, y: 474, widgets: { ckpt_name: "sd_xl_base_1.0.safetensors" } },
    { type: "create_node", node_type: "CLIPTextEncode", ref: "pos", x: 415, y: 186, widgets: { text: "beautiful scenery nature glass bottle landscape" } },
    { type: "create_node", node_type: "CLIPTextEncode", ref: "neg", x: 413, y: 389, widgets: { text: "text, watermark" } },
    { type: "create_node", node_type: "EmptyLatentImage", ref: "latent", x: 473, y: 609, widgets: { width: 512, height: 512, batch_size: 1 } },
    { type: "create_node", node_type: "KSampler", ref: "sampler", x: 863, y: 186, widgets: { seed: 42, control_after_generate: "fixed", steps: 20, cfg: 8, sampler_name: "euler", scheduler: "normal", denoise: 1 } },
    { type: "create_node", node_type: "VAEDecode", ref: "decode", x: 1209, y: 188 },
    { type: "create_node", node_type: "SaveImage", ref: "save", x: 1451, y: 189, widgets: { filename_prefix: "ComfyUI" } },
    { type: "connect", from_id: "ckpt", from_slot: 0, to_id: "sampler", to_slot: "model" },
    { type: "connect", from_id: "latent", from_slot: 0, to_id: "sampler", to_slot: "latent_image" },
    { type: "connect", from_id: "ckpt", from_slot: "CLIP", to_id: "pos", to_slot: "clip" },
    { type: "connect", from_id: "pos", from_slot: 0, to_id: "sampler", to_slot: "positive" },
    { type: "connect", from_id: "ckpt", from_slot: 1, to_id: "neg", to_slot: 0 },
    { type: "connect", from_id: "neg", from_slot: 0, to_id: "sampler", to_slot: "negative" },
    { type: "connect", from_id: "sampler", from_slot: 0, to_id: "decode", to_slot: "samples" },
    { type: "connect", from_id: "ckpt", from_slot: "VAE", to_id: "decode", to_slot: "vae" },
    { type: "connect", from_id: "decode", from_slot: 0, to_id: "save", to_slot: "images" },
  ];
}

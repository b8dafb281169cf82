// Workflows and comparisons shared by the graph tests and the benchmark.

import assert from "node:assert/strict";

// The text-to-image workflow, built in one batch with refs: 7 nodes, every
// widget set, 9 links.
export const TXT2IMG_WIDGETS = {
  ckpt: { ckpt_name: "sd_xl_base_1.0.safetensors" },
  pos: { text: "a lighthouse on a cliff at dawn, oil painting" },
  neg: { text: "blurry, watermark" },
  latent: { width: 768, height: 640, batch_size: 2 },
  sampler: {
    seed: 123456789,
    control_after_generate: "fixed",
    steps: 28,
    cfg: 6.5,
    sampler_name: "dpmpp_2m",
    scheduler: "karras",
    denoise: 0.75,
  },
  decode: {},
  save: { filename_prefix: "graph-it" },
};

export const TXT2IMG_TYPES = {
  ckpt: "CheckpointLoaderSimple",
  pos: "CLIPTextEncode",
  neg: "CLIPTextEncode",
  latent: "EmptyLatentImage",
  sampler: "KSampler",
  decode: "VAEDecode",
  save: "SaveImage",
};

// [from ref, output, to ref, input]
export const TXT2IMG_LINKS = [
  ["ckpt", "MODEL", "sampler", "model"],
  ["ckpt", "CLIP", "pos", "clip"],
  ["ckpt", "CLIP", "neg", "clip"],
  ["pos", "CONDITIONING", "sampler", "positive"],
  ["neg", "CONDITIONING", "sampler", "negative"],
  ["latent", "LATENT", "sampler", "latent_image"],
  ["sampler", "LATENT", "decode", "samples"],
  ["ckpt", "VAE", "decode", "vae"],
  ["decode", "IMAGE", "save", "images"],
];

export function txt2imgCommands({ x0 = 0, y0 = 0 } = {}) {
  const cmds = [];
  let i = 0;
  for (const [ref, type] of Object.entries(TXT2IMG_TYPES)) {
    const c = { type: "create_node", node_type: type, ref, x: x0 + 300 * i, y: y0 + (i % 2) * 200 };
    if (Object.keys(TXT2IMG_WIDGETS[ref]).length) c.widgets = TXT2IMG_WIDGETS[ref];
    if (ref === "neg") c.title = "Negative prompt";
    cmds.push(c);
    i++;
  }
  for (const [from, fslot, to, tslot] of TXT2IMG_LINKS) {
    cmds.push({ type: "connect", from_id: from, from_slot: fslot, to_id: to, to_slot: tslot });
  }
  return cmds;
}

// "GRAPH_ERROR_CODE_TYPE_MISMATCH" and "TYPE_MISMATCH" are the same code.
export function codeName(c) {
  return String(c ?? "").replace(/^GRAPH_ERROR_CODE_/, "");
}

export function errorCodes(resp) {
  return (resp?.errors ?? []).map((e) => codeName(e.code));
}

// The editor's live graph as plain data: nodes by id (type, title, pos,
// widgets by name, input links) and links as [id, from, fslot, to, tslot, type].
export function editorView(ed) {
  const g = ed.graph;
  const nodes = {};
  for (const n of g.nodes) {
    const widgets = {};
    for (const w of n.widgets ?? []) if (w.type !== "button") widgets[w.name] = w.value;
    nodes[n.id] = {
      type: n.type,
      title: n.title,
      pos: [n.pos[0], n.pos[1]],
      widgets,
      inputs: (n.inputs ?? []).map((s) => ({ name: s.name, type: String(s.type), link: s.link ?? 0 })),
    };
  }
  const links = [...g.links.values()]
    .map((l) => [l.id, l.origin_id, l.origin_slot, l.target_id, l.target_slot, String(l.type)])
    .sort((a, b) => a[0] - b[0]);
  return { nodes, links };
}

function valueOf(v) {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    for (const k of ["integer", "number", "text", "boolean"]) if (k in v) return v[k];
  }
  return v;
}

// The core's Graph message (JSON) as the same plain data.
export function coreView(graph) {
  const nodes = {};
  for (const n of graph?.nodes ?? []) {
    const widgets = {};
    for (const w of n.widgets ?? []) if (!String(w.name).startsWith("#")) widgets[w.name] = valueOf(w.value);
    nodes[n.id] = {
      type: n.type,
      title: n.title,
      pos: [n.pos?.x ?? 0, n.pos?.y ?? 0],
      widgets,
      inputs: (n.inputs ?? []).map((s) => ({ name: s.name, type: String(s.type), link: Number(s.link ?? 0) })),
    };
  }
  const links = (graph?.links ?? [])
    .map((l) => [Number(l.id), Number(l.from_id), l.from_slot ?? 0, Number(l.to_id), l.to_slot ?? 0, String(l.type)])
    .sort((a, b) => a[0] - b[0]);
  return { nodes, links };
}

// The core's mirror must equal the editor's graph: same node ids, types,
// titles, positions, widget values, input links and links.
export function assertSameGraph(coreGraph, ed, msg = "core mirror vs editor") {
  const c = coreView(coreGraph);
  const e = editorView(ed);
  assert.deepEqual(Object.keys(c.nodes).sort(), Object.keys(e.nodes).sort(), `${msg}: node ids`);
  for (const id of Object.keys(e.nodes)) {
    const cn = c.nodes[id];
    const en = e.nodes[id];
    assert.equal(cn.type, en.type, `${msg}: type of #${id}`);
    assert.equal(cn.title, en.title, `${msg}: title of #${id}`);
    assert.deepEqual(cn.pos, en.pos, `${msg}: pos of #${id}`);
    assert.deepEqual(cn.widgets, en.widgets, `${msg}: widgets of #${id}`);
    assert.deepEqual(cn.inputs, en.inputs, `${msg}: inputs of #${id}`);
  }
  assert.deepEqual(c.links, e.links, `${msg}: links`);
}

// The box a node takes on a LiteGraph canvas, its title included (what
// LGraphNode.measure computes): [x, y, w, h].
export function nodeBox(n, titleHeight = 30) {
  return [n.pos[0], n.pos[1] - titleHeight, n.size[0], n.size[1] + titleHeight];
}

// Pairs of nodes of a graph whose boxes overlap, as "#a/#b" strings.
export function overlappingPairs(graph) {
  const nodes = graph.nodes ?? graph._nodes;
  const out = [];
  for (let i = 0; i < nodes.length; i++)
    for (let j = i + 1; j < nodes.length; j++) {
      const a = nodeBox(nodes[i]);
      const b = nodeBox(nodes[j]);
      if (a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3])
        out.push(`#${nodes[i].id}/#${nodes[j].id}`);
    }
  return out;
}

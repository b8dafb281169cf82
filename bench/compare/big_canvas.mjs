// Grows a comfyd canvas (the 7-node workflow of peers/comfyd/wf.json) to
// 500 nodes the way the peers' editor_sim does with --extra-nodes: 493
// CLIPTextEncode nodes, each with its text and fed by the checkpoint's CLIP,
// in one batch through the bridge (validated by the core, applied by the
// tab). Then checks that get_graph has them all.
//   node big_canvas.mjs BASE_URL TOKEN_FILE CANVAS [nodes]
import { readFileSync } from "node:fs";

const [base, tokenFile, canvas, nodesArg = "500"] = process.argv.slice(2);
const token = readFileSync(tokenFile, "utf8").trim();
const want = Number(nodesArg);
const extra = want - 7;
const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };

async function post(path, body) {
  const r = await fetch(base + path, { method: "POST", headers, body: JSON.stringify(body), signal: AbortSignal.timeout(60000) });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // reported below
  }
  if (r.status !== 200 || !json) throw new Error(`${path}: HTTP ${r.status}: ${text.slice(0, 400)}`);
  return json;
}

const commands = [];
for (let i = 0; i < extra; i++) {
  const ref = `t${i}`;
  commands.push({
    type: "create_node", node_type: "CLIPTextEncode", ref,
    x: 100 + (i % 20) * 40, y: 900 + Math.floor(i / 20) * 40, widgets: { text: `extra prompt ${i}` },
  });
  commands.push({ type: "connect", from_id: 1, from_slot: "CLIP", to_id: ref, to_slot: "clip" });
}
const b = await post("/comfy/graph/batch", { canvas_id: canvas, commands, timeout_ms: 60000 });
if (b.ok !== true) throw new Error(`the batch failed: ${JSON.stringify(b).slice(0, 400)}`);
const g = await post("/comfy/graph/command", { type: "get_graph", canvas_id: canvas });
const n = g.graph?.nodes?.length ?? 0;
const links = g.graph?.links?.length ?? 0;
if (n !== want) throw new Error(`get_graph has ${n} nodes, expected ${want}`);
console.log(`big canvas ${canvas}: ${n} nodes, ${links} links, revision ${g.revision}`);

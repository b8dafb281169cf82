// A functional check of the comfyd stack before it is measured: the canvas
// has the workflow, a command is applied by the tab and read back from the
// mirror, and an invalid value is refused without reaching the graph.
//   node check_comfyd.mjs BASE_URL TOKEN_FILE CANVAS
import { readFileSync } from "node:fs";

const [base, tokenFile, canvas] = process.argv.slice(2);
const token = readFileSync(tokenFile, "utf8").trim();
const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
let passed = 0;
let failed = 0;
const check = (name, cond, detail) => {
  if (cond) passed++;
  else {
    failed++;
    console.log(`FAIL ${name}: ${JSON.stringify(detail).slice(0, 400)}`);
  }
};
async function post(path, body) {
  const r = await fetch(base + path, { method: "POST", headers, body: JSON.stringify(body), signal: AbortSignal.timeout(10000) });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: r.status, json };
}
const widget = (g, id, name) => g.json.graph?.nodes?.find((n) => Number(n.id) === id)?.widgets?.find((w) => w.name === name)?.value;
const num = (v) => Number(v?.integer ?? v?.number ?? v);

let g = await post("/comfy/graph/command", { type: "get_graph", canvas_id: canvas });
check("get_graph: 7 nodes", g.status === 200 && g.json.graph?.nodes?.length === 7, g);
const r = await post("/comfy/graph/command", { type: "set_widget", node_id: 5, name: "steps", value: 33, canvas_id: canvas });
check("set_widget applied", r.status === 200 && r.json.ok === true && num(r.json.result?.value) === 33, r);
g = await post("/comfy/graph/command", { type: "get_graph", canvas_id: canvas });
check("the mirror has the value", num(widget(g, 5, "steps")) === 33, widget(g, 5, "steps"));
const bad = await post("/comfy/graph/command", { type: "set_widget", node_id: 5, name: "steps", value: 12.6, canvas_id: canvas });
check("an invalid value is refused (422)", bad.status === 422 && bad.json.ok === false, bad);
const mv = await post("/comfy/graph/command", { type: "move_node", node_id: 4, x: 10, y: 20, canvas_id: canvas });
check("move_node applied", mv.status === 200 && mv.json.ok === true, mv);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

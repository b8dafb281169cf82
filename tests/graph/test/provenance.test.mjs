// Provenance (docs/provenance.md): every node, link and widget value says who
// last changed it and when. A gRPC caller that names itself in comfyd-caller
// metadata (the generated Python client), a bridge HTTP caller (unnamed) and
// the user at the tab (a headless editor) edit one canvas; get_graph, the
// diff and the audit (GetNodeHistory over gRPC, GET /comfy/graph/audit)
// tell them apart. The provenance survives a save and a load (it travels in
// the stored workflow's extra.comfyd.provenance) and a core restart (the
// tab kept it from the report acks and re-attaches with it). Bad caller
// names (over 128 bytes) and bad audit arguments are refused with clear
// errors; an empty name is an unnamed caller.

import assert from "node:assert/strict";
import { describe } from "node:test";
import { execFile } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { useStack, itWithLogs, expectOk, expectGraphOk, expectStatus } from "../lib/harness.mjs";
import { post, get } from "../lib/clients.mjs";
import { txt2imgCommands } from "../lib/graph.mjs";
import { HERE, waitFor } from "../lib/stack.mjs";

const run = promisify(execFile);
const CANVAS = "tab-prov";
const CALLER = "ci-bot";
// Hang guard for one wait, not a performance limit.
const GUARD_MS = 30000;

// One GraphService call with the generated Python client.
async function grpc(stack, method, req, caller) {
  const args = [path.join(HERE, "grpc_call.py"), `127.0.0.1:${stack.corePort}`, method, JSON.stringify(req)];
  if (caller !== undefined) args.push("--caller", caller);
  const { stdout } = await run("/usr/bin/python3", args, { timeout: GUARD_MS });
  return JSON.parse(stdout);
}

// A widget value and the bridge's flat commands (lib/graph.mjs) in the
// proto3 JSON of GraphService, as a gRPC client writes them.
function value(v) {
  if (typeof v === "string") return { text: v };
  if (typeof v === "boolean") return { boolean: v };
  return Number.isInteger(v) ? { integer: String(v) } : { number: v };
}
const nref = (v) => (typeof v === "number" ? { id: String(v) } : { ref: v });
const sref = (v) => (typeof v === "number" ? { index: v } : { name: v });
function protoCommand(c) {
  if (c.type === "create_node") {
    const widgets = Object.fromEntries(Object.entries(c.widgets ?? {}).map(([k, v]) => [k, value(v)]));
    return { create_node: { node_type: c.node_type, ref: c.ref, x: c.x, y: c.y, title: c.title ?? "", widgets } };
  }
  if (c.type === "connect")
    return { connect: { from_id: nref(c.from_id), from_slot: sref(c.from_slot), to_id: nref(c.to_id), to_slot: sref(c.to_slot) } };
  throw new Error(`no proto form for ${c.type}`);
}

async function graphOf(stack) {
  return expectGraphOk(await post(stack, "/comfy/graph/command", { type: "get_graph", canvas_id: CANVAS })).graph;
}

const nodeOf = (g, id) => g.nodes.find((n) => Number(n.id) === Number(id));
const widgetOf = (n, name) => n.widgets.find((w) => w.name === name);
const kindOf = (p) => p?.actor?.kind;

describe("provenance of nodes, links and widget values", () => {
  const h = useStack();
  const it = itWithLogs(h);
  let ed;
  let refs;

  it("a named gRPC caller, an unnamed HTTP caller and the user are told apart", async () => {
    const s = h.stack;
    ed = await s.editor({ canvasId: CANVAS, reconnect: true });
    const r = await grpc(s, "ExecuteBatch", { canvas_id: CANVAS, commands: txt2imgCommands().map(protoCommand) }, CALLER);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.response.ok, true, JSON.stringify(r.response));
    refs = r.response.refs;
    const built = Number(r.response.revision);

    let g = await graphOf(s);
    assert.equal(g.nodes.length, 7);
    for (const n of g.nodes) {
      assert.equal(kindOf(n.provenance), "ACTOR_KIND_GRPC", JSON.stringify(n));
      assert.equal(n.provenance.actor.name, CALLER);
      assert.equal(Number(n.provenance.revision), built);
      assert.ok(Number(n.provenance.time_ms) > 1.7e12, "a wall-clock time");
      for (const w of n.widgets) if (!w.name.startsWith("#")) assert.equal(w.provenance?.actor?.name, CALLER, `${n.type}.${w.name}`);
    }
    assert.ok(g.links.length > 0);
    for (const l of g.links) assert.equal(l.provenance?.actor?.name, CALLER, JSON.stringify(l));

    // The bridge's HTTP routes carry no caller name: an unnamed gRPC caller.
    const ks = Number(refs.sampler);
    expectGraphOk(
      await post(s, "/comfy/graph/command", { type: "set_widget", canvas_id: CANVAS, node_id: ks, name: "cfg", value: 7.5 }),
    );
    // The user sets steps in the tab.
    const acked = Number(
      await ed.userEdit((graph, applier) => {
        applier.setWidget(graph.getNodeById(ks), "steps", 33);
      }),
    );
    g = await graphOf(s);
    const k = nodeOf(g, ks);
    assert.equal(kindOf(widgetOf(k, "steps").provenance), "ACTOR_KIND_USER");
    assert.equal(Number(widgetOf(k, "steps").provenance.revision), acked);
    assert.equal(kindOf(widgetOf(k, "cfg").provenance), "ACTOR_KIND_GRPC");
    assert.equal(widgetOf(k, "cfg").provenance.actor.name, "");
    assert.equal(widgetOf(k, "seed").provenance.actor.name, CALLER, "untouched widgets keep their maker");
    assert.equal(kindOf(k.provenance), "ACTOR_KIND_USER", "the node's latest change");
    // Other nodes are still the caller's.
    assert.equal(nodeOf(g, refs.ckpt).provenance.actor.name, CALLER);

    // The diff names the actor of each op.
    const diff = expectOk(await get(s, `/comfy/graph/diff?since=${built}&canvas_id=${CANVAS}`));
    const kinds = diff.ops.map((o) => o.actor?.kind);
    assert.deepEqual(kinds, ["ACTOR_KIND_GRPC", "ACTOR_KIND_USER"], JSON.stringify(diff.ops));
    assert.equal(Number(diff.ops[1].node_id), ks);
    assert.equal(diff.ops[1].widget, "steps");
  });

  it("the audit answers who changed a node, newest first, bounded", async () => {
    const s = h.stack;
    const ks = Number(refs.sampler);
    const a = expectOk(await get(s, `/comfy/graph/audit?canvas_id=${CANVAS}&node_id=${ks}`));
    const who = a.ops.map((o) => [o.actor?.kind, o.actor?.name, o.widget || o.command?.type || ""]);
    assert.deepEqual(who.slice(0, 2), [
      ["ACTOR_KIND_USER", "", "steps"],
      ["ACTOR_KIND_GRPC", "", "cfg"],
    ]);
    // Then the caller's: the links into the sampler and its creation.
    const rest = a.ops.slice(2);
    assert.ok(rest.length >= 5, JSON.stringify(a.ops));
    for (const o of rest) assert.equal(o.actor?.name, CALLER);
    assert.ok(rest.some((o) => o.command?.type === "create_node" && Number(o.node_id) === ks));
    assert.ok(rest.some((o) => o.command?.type === "connect" && Number(o.node_id) === ks));
    for (let i = 1; i < a.ops.length; i++) assert.ok(Number(a.ops[i].revision) <= Number(a.ops[i - 1].revision));
    assert.equal(kindOf(a.provenance), "ACTOR_KIND_USER");
    assert.equal(a.truncated, false);
    // limit bounds the answer.
    const one = expectOk(await get(s, `/comfy/graph/audit?canvas_id=${CANVAS}&node_id=${ks}&limit=1`));
    assert.equal(one.ops.length, 1);
    assert.equal(one.truncated, true);
    // The same over gRPC, and the whole canvas without node_id.
    const all = await grpc(s, "GetNodeHistory", { canvas_id: CANVAS, limit: 1000 });
    assert.equal(all.ok, true, JSON.stringify(all));
    assert.ok(all.response.ops.length > a.ops.length);
    // Bad arguments are refused.
    expectStatus(await get(s, `/comfy/graph/audit?canvas_id=${CANVAS}&limit=1001`), 400);
    expectStatus(await get(s, `/comfy/graph/audit?canvas_id=${CANVAS}&node_id=-3`), 400);
    expectStatus(await get(s, `/comfy/graph/audit?canvas_id=nope`), 404);
  });

  it("caller names are bounded and printable; a refused call changes nothing", async () => {
    const s = h.stack;
    const before = Number((await graphOf(s)).revision);
    const set = { canvas_id: CANVAS, commands: [{ move_node: { node_id: { id: Number(refs.ckpt) }, x: 1, y: 2 } }] };
    const long = await grpc(s, "ExecuteBatch", set, "x".repeat(129));
    assert.equal(long.ok, false);
    assert.equal(long.code, "INVALID_ARGUMENT");
    assert.match(long.details, /comfyd-caller/);
    assert.equal(Number((await graphOf(s)).revision), before);
    const ok = await grpc(s, "ExecuteBatch", set, "x".repeat(128));
    assert.equal(ok.response?.ok, true, JSON.stringify(ok));
    assert.equal(nodeOf(await graphOf(s), refs.ckpt).provenance.actor.name, "x".repeat(128));
  });

  it("the conflicts of a stale patch name who made the change", async () => {
    const s = h.stack;
    const ks = Number(refs.sampler);
    const base = Number((await graphOf(s)).revision);
    await ed.userEdit((graph, applier) => {
      applier.setWidget(graph.getNodeById(ks), "denoise", 0.5);
    });
    const set = { set_widget: { node_id: { id: String(ks) }, name: "denoise", value: { number: 0.6 } } };
    const r = await grpc(s, "ExecuteBatch", { canvas_id: CANVAS, base_revision: String(base), commands: [set] }, CALLER);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.response.ok ?? false, false, JSON.stringify(r.response));
    const c = r.response.errors.flatMap((e) => e.conflicts ?? [])[0];
    assert.equal(c?.widget, "denoise", JSON.stringify(r.response));
    assert.equal(c.actor?.kind, "ACTOR_KIND_USER");
    assert.equal(widgetOf(nodeOf(await graphOf(s), ks), "denoise").provenance.actor.kind, "ACTOR_KIND_USER");
  });

  it("acks hand back only the records a change made; the tab's merged copy is the core's whole", async () => {
    const s = h.stack;
    const acks = [];
    const keep = (m) => m.type === "report_ack" && m.provenance_json && acks.push(JSON.parse(m.provenance_json));
    const older = structuredClone(ed.graph.extra.comfyd.provenance);
    ed.on("message", keep);
    try {
      const ks = Number(refs.sampler);
      expectGraphOk(await post(s, "/comfy/graph/command", { type: "move_node", canvas_id: CANVAS, node_id: ks, x: 640, y: 480 }));
      const r = await grpc(s, "ExecuteBatch", { canvas_id: CANVAS, commands: [{ set_widget: { node_id: { id: String(ks) }, name: "seed", value: value(99) } }] }, "other-bot");
      assert.equal(r.response.ok, true, JSON.stringify(r));
      await ed.userEdit((graph) => {
        graph.getNodeById(Number(refs.ckpt)).pos = [5, 6];
      });
      await waitFor(() => acks.length >= 3, GUARD_MS, "three acks with provenance");
    } finally {
      ed.off("message", keep);
    }
    // Each names the one node it changed (with all of that node's records),
    // as a change since the revision before.
    const changed = acks.map((a) => Object.keys(a.nodes));
    assert.deepEqual(changed, [[String(refs.sampler)], [String(refs.sampler)], [String(refs.ckpt)]]);
    for (const [i, a] of acks.entries()) {
      assert.equal(a.since, a.revision - 1, JSON.stringify(a));
      if (i) assert.equal(a.since, acks[i - 1].revision);
      assert.deepEqual(a.links, {});
    }
    const seed = acks[1].nodes[String(refs.sampler)].widgets.seed;
    assert.deepEqual(acks[1].actors[seed.by], { kind: "grpc", name: "other-bot" });
    assert.deepEqual(acks[2].actors[acks[2].nodes[String(refs.ckpt)].by], { kind: "user" });
    // The whole, as Save stores it, is what the tab holds after merging.
    expectOk(await post(s, "/comfy/graph/save", { canvas_id: CANVAS, name: "prov merged", overwrite: true }));
    const stored = JSON.parse(readFileSync(path.join(s.data, "workflows", "prov merged.json"), "utf8")).extra.comfyd.provenance;
    const held = ed.graph.extra.comfyd.provenance;
    const named = (p) => {
      const r = (x) => x && { ...x, by: p.actors[x.by] };
      const node = (n) => ({ ...r(n), created: r(n.created), widgets: n.widgets && Object.fromEntries(Object.entries(n.widgets).map(([k, w]) => [k, r(w)])) });
      return {
        revision: p.revision,
        nodes: Object.fromEntries(Object.entries(p.nodes).map(([k, n]) => [k, node(n)])),
        links: Object.fromEntries(Object.entries(p.links).map(([k, l]) => [k, r(l)])),
      };
    };
    assert.deepEqual(named(held), named(stored));
    assert.equal(held.since, undefined);

    // The frontend puts an older provenance back (an undo restores the
    // workflow's extra): the next ack hands what changed since that one.
    const olderRev = older.revision;
    ed.graph.extra.comfyd.provenance = older;
    ed.on("message", keep);
    try {
      expectGraphOk(await post(s, "/comfy/graph/command", { type: "move_node", canvas_id: CANVAS, node_id: Number(refs.ckpt), x: 7, y: 8 }));
      await waitFor(() => acks.length >= 4, GUARD_MS, "the fourth ack");
    } finally {
      ed.off("message", keep);
    }
    assert.equal(acks[3].since, olderRev);
    assert.deepEqual(Object.keys(acks[3].nodes).sort(), [String(refs.ckpt), String(refs.sampler)].sort());
    expectOk(await post(s, "/comfy/graph/save", { canvas_id: CANVAS, name: "prov merged", overwrite: true }));
    const stored2 = JSON.parse(readFileSync(path.join(s.data, "workflows", "prov merged.json"), "utf8")).extra.comfyd.provenance;
    assert.deepEqual(named(ed.graph.extra.comfyd.provenance), named(stored2));
  });

  it("survives a save and a load: the stored workflow carries it where ComfyUI ignores it", async () => {
    const s = h.stack;
    const g0 = await graphOf(s);
    expectOk(await post(s, "/comfy/graph/save", { canvas_id: CANVAS, name: "prov kept", overwrite: true }));
    const dir = path.join(s.data, "workflows");
    assert.ok(readdirSync(dir).includes("prov kept.json"));
    const stored = JSON.parse(readFileSync(path.join(dir, "prov kept.json"), "utf8"));
    const p = stored.extra?.comfyd?.provenance;
    assert.equal(p?.v, 1, JSON.stringify(stored.extra));
    assert.ok(p.actors.some((a) => a.kind === "grpc" && a.name === CALLER));
    assert.ok(p.actors.some((a) => a.kind === "user"));
    assert.ok(!JSON.stringify(stored).includes(s.token), "no secret in the stored workflow");
    // Everything else is the tab's workflow.
    assert.equal(stored.nodes.length, 7);

    // Load something else over it, then the stored one again.
    expectOk(await post(s, "/comfy/graph/load", { canvas_id: CANVAS, workflow_json: JSON.stringify({ nodes: [], links: [], last_node_id: 0, last_link_id: 0 }) }));
    assert.equal((await graphOf(s)).nodes.length, 0);
    expectOk(await post(s, "/comfy/graph/load", { canvas_id: CANVAS, name: "prov kept" }));
    const g1 = await graphOf(s);
    assert.equal(g1.nodes.length, 7);
    for (const n of g0.nodes) {
      const m = nodeOf(g1, n.id);
      assert.deepEqual(m.provenance, n.provenance, `node ${n.id}`);
      for (const w of n.widgets) assert.deepEqual(widgetOf(m, w.name).provenance, w.provenance, `node ${n.id}.${w.name}`);
    }
    for (const l of g0.links) assert.deepEqual(g1.links.find((x) => x.id === l.id)?.provenance, l.provenance);
  });

  it("survives a core restart: the tab re-attaches with it", async () => {
    const s = h.stack;
    const g0 = await graphOf(s);
    // The tab holds what the core handed back with its last ack.
    await waitFor(() => ed.graph.extra?.comfyd?.provenance?.nodes?.[String(refs.sampler)], GUARD_MS, "the tab keeps the provenance");
    const before = ed.attachedCount;
    assert.equal(await s.stopCore("SIGTERM"), 0);
    await s.startCore();
    await waitFor(() => s.healthy(), GUARD_MS, "/healthz 200 again");
    await waitFor(async () => ed.attachedCount > before, GUARD_MS, "the editor attached again");
    const g1 = await graphOf(s);
    assert.ok(Number(g1.revision) > Number(g0.revision), "revisions never go back");
    for (const n of g0.nodes) {
      const m = nodeOf(g1, n.id);
      assert.deepEqual(m.provenance, n.provenance, `node ${n.id}`);
      for (const w of n.widgets) assert.deepEqual(widgetOf(m, w.name).provenance, w.provenance, `node ${n.id}.${w.name}`);
    }
    for (const l of g0.links) assert.deepEqual(g1.links.find((x) => x.id === l.id)?.provenance, l.provenance);
    // New changes after the restart are recorded as before.
    await ed.userEdit((graph) => {
      graph.getNodeById(Number(refs.ckpt)).pos = [10, 20];
    });
    assert.equal(kindOf(nodeOf(await graphOf(s), refs.ckpt).provenance), "ACTOR_KIND_USER");
  });
});

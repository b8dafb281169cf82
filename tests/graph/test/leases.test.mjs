// Leases (docs/concurrent-editing.md, "Leases"): a caller takes a lease on
// nodes (or a group) of a canvas; other callers' patches that change them
// are refused with LEASED naming the holder and the expiry (structured:
// GraphError.lease, leased_node_id), the holder's own pass, the user's
// edits in the tab are accepted and marked in the diff for the holder, and
// a release (or the expiry) gives the nodes back. The holders here: a gRPC
// caller named by comfyd-caller metadata (the generated Python client) and
// bridge HTTP callers named by the comfyd-caller header. The tab is told
// (lease_update messages) so it can outline the leased nodes.

import assert from "node:assert/strict";
import { describe } from "node:test";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { useStack, itWithLogs, expectOk, expectGraphOk, expectStatus } from "../lib/harness.mjs";
import { post, get } from "../lib/clients.mjs";
import { txt2imgCommands } from "../lib/graph.mjs";
import { HERE, sleep, waitFor } from "../lib/stack.mjs";

const run = promisify(execFile);
const CANVAS = "tab-lease";
const HOLDER = "painter";
// Hang guard for one wait, not a performance limit.
const GUARD_MS = 30000;

async function grpc(stack, method, req, caller) {
  const args = [path.join(HERE, "grpc_call.py"), `127.0.0.1:${stack.corePort}`, method, JSON.stringify(req)];
  if (caller !== undefined) args.push("--caller", caller);
  const { stdout } = await run("/usr/bin/python3", args, { timeout: GUARD_MS });
  return JSON.parse(stdout);
}

const as = (name) => (name ? { headers: { "comfyd-caller": name } } : {});
const setWidget = (s, node, name, value, caller) =>
  post(s, "/comfy/graph/command", { type: "set_widget", canvas_id: CANVAS, node_id: node, name, value }, as(caller));
const lease = (s, body, caller) => post(s, "/comfy/graph/lease", { canvas_id: CANVAS, ...body }, as(caller));

describe("leases on nodes", () => {
  const h = useStack();
  const it = itWithLogs(h);
  let ed;
  let refs;
  const updates = [];

  it("a lease holds against other callers, with the holder and the expiry", async () => {
    const s = h.stack;
    ed = await s.editor({ canvasId: CANVAS });
    ed.on("message", (m) => {
      if (m.type === "lease_update") updates.push(m);
    });
    refs = expectGraphOk(await post(s, "/comfy/graph/batch", { canvas_id: CANVAS, commands: txt2imgCommands() })).refs;
    const ks = Number(refs.sampler);
    const before = Date.now();
    const r = await grpc(s, "Lease", { canvas_id: CANVAS, action: "LEASE_ACTION_ACQUIRE", node_ids: [String(ks)], ttl_ms: 60000 }, HOLDER);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.response.ok, true, JSON.stringify(r.response));
    const l = r.response.lease;
    assert.deepEqual(l.node_ids.map(Number), [ks]);
    assert.equal(l.holder.kind, "ACTOR_KIND_GRPC");
    assert.equal(l.holder.name, HOLDER);
    const expires = Number(l.expires_ms);
    assert.ok(expires >= before + 60000 && expires <= Date.now() + 60000, String(expires));

    // The tab learns of it.
    await waitFor(() => updates.some((u) => u.leases?.some((x) => Number(x.id) === Number(l.id))), GUARD_MS, "a lease_update");
    const u = updates.at(-1);
    assert.equal(u.leases[0].holder.name, HOLDER);

    // Another HTTP caller (named or not) is refused: 409 LEASED with the
    // lease in the way, whose holder and expiry are fields, not just text.
    for (const who of ["other-bot", undefined]) {
      const body = expectStatus(await setWidget(s, ks, "cfg", 3.5, who), 409, "LEASED");
      const e = body.result.error;
      assert.equal(e.code, "LEASED");
      assert.equal(Number(e.leased_node_id), ks);
      assert.equal(e.lease.holder.name, HOLDER);
      assert.equal(Number(e.lease.expires_ms), expires);
      assert.match(e.message, new RegExp(`#${ks} .*grpc:${HOLDER}.*until ${expires}`));
    }
    // A batch of another caller that touches the leased node is refused
    // whole; its other commands are skipped.
    const b = expectStatus(
      await post(
        s,
        "/comfy/graph/batch",
        {
          canvas_id: CANVAS,
          commands: [
            { type: "move_node", node_id: Number(refs.ckpt), x: 10, y: 10 },
            { type: "remove_node", node_id: ks },
          ],
        },
        as("other-bot"),
      ),
      409,
      "LEASED",
    );
    assert.equal(b.results[0].error.code, "SKIPPED");
    assert.equal(Number(b.results[1].error.lease.id), Number(l.id));
    // The other nodes are free.
    expectGraphOk(await setWidget(s, Number(refs.latent), "width", 640, "other-bot"));
    // The other caller cannot take, renew or release it.
    const a = expectStatus(await lease(s, { action: "acquire", node_ids: [ks] }, "other-bot"), 409, "LEASED");
    assert.equal(a.refusal.lease.holder.name, HOLDER);
    expectStatus(await lease(s, { action: "renew", lease_id: Number(l.id) }, "other-bot"), 409, "LEASED");
    expectStatus(await lease(s, { action: "release", lease_id: Number(l.id) }, "other-bot"), 409, "LEASED");
    // An unnamed caller takes none (nobody could be told who holds it).
    const anon = expectStatus(await lease(s, { action: "acquire", node_ids: [Number(refs.latent)] }), 422);
    assert.match(anon.refusal.message, /named caller/);

    // The holder's own patch passes.
    const mine = await grpc(
      s,
      "ExecuteBatch",
      { canvas_id: CANVAS, commands: [{ set_widget: { node_id: { id: String(ks) }, name: "cfg", value: { number: 4.5 } } }] },
      HOLDER,
    );
    assert.equal(mine.response?.ok, true, JSON.stringify(mine));
    const g = expectGraphOk(await post(s, "/comfy/graph/command", { type: "get_graph", canvas_id: CANVAS })).graph;
    const cfg = g.nodes.find((n) => Number(n.id) === ks).widgets.find((w) => w.name === "cfg");
    assert.equal(Number(cfg.value.number ?? cfg.value), 4.5);
    // get_graph's full form lists the lease.
    assert.equal(g.leases.length, 1);
    assert.equal(g.leases[0].holder.name, HOLDER);
  });

  it("the user's edit of a leased node wins and the holder sees it in the diff", async () => {
    const s = h.stack;
    const ks = Number(refs.sampler);
    const since = Number(expectOk(await get(s, `/comfy/graph/diff?since=0&canvas_id=${CANVAS}`)).to_revision);
    const acked = Number(
      await ed.userEdit((graph, applier) => {
        applier.setWidget(graph.getNodeById(ks), "steps", 41);
      }),
    );
    assert.ok(acked > since);
    const d = expectOk(await get(s, `/comfy/graph/diff?since=${since}&canvas_id=${CANVAS}`));
    const op = d.ops.find((o) => Number(o.node_id) === ks && o.widget === "steps");
    assert.ok(op, JSON.stringify(d.ops));
    assert.equal(op.actor.kind, "ACTOR_KIND_USER");
    assert.ok(Number(op.lease_id) > 0, JSON.stringify(op));
    assert.equal(op.lease_holder.name, HOLDER);
    // The value is the user's, and the lease says the user touched it.
    const r = await grpc(s, "GetGraph", { canvas_id: CANVAS }, HOLDER);
    const n = r.response.graph.nodes.find((x) => Number(x.id) === ks);
    assert.equal(Number(n.widgets.find((w) => w.name === "steps").value.integer), 41);
    const l = r.response.graph.leases[0];
    assert.deepEqual(l.user_edited_node_ids.map(Number), [ks]);
    assert.equal(Number(l.user_edited_revision), acked);
  });

  it("a release gives the nodes back; an expired lease holds no more", async () => {
    const s = h.stack;
    const ks = Number(refs.sampler);
    const rel = await grpc(s, "Lease", { canvas_id: CANVAS, action: "LEASE_ACTION_RELEASE" }, HOLDER);
    assert.equal(rel.response.ok, true, JSON.stringify(rel));
    assert.equal(rel.response.released, 1);
    await waitFor(() => updates.at(-1)?.leases?.length === 0 || updates.at(-1)?.leases === undefined, GUARD_MS, "an empty lease_update");
    expectGraphOk(await setWidget(s, ks, "cfg", 6, "other-bot"));

    // A short lease of an HTTP caller, renewed, then left to expire.
    const t = expectGraphOk(await lease(s, { action: "acquire", node_ids: [ks], ttl_ms: 1500 }, "quick"));
    expectStatus(await setWidget(s, ks, "cfg", 7, "other-bot"), 409, "LEASED");
    // The holder's HTTP patch passes (the header names it).
    expectGraphOk(await setWidget(s, ks, "cfg", 7, "quick"));
    const rn = expectGraphOk(await lease(s, { action: "renew", lease_id: Number(t.lease.id), ttl_ms: 1500 }, "quick"));
    assert.ok(Number(rn.lease.expires_ms) >= Number(t.lease.expires_ms));
    await sleep(Number(rn.lease.expires_ms) - Date.now() + 200);
    expectGraphOk(await setWidget(s, ks, "cfg", 8, "other-bot"));
    const list = expectGraphOk(await lease(s, { action: "list" }, "quick"));
    assert.equal((list.leases ?? []).length, 0);
    // Bounds: ttl and a bad header are refused.
    expectStatus(await lease(s, { action: "acquire", node_ids: [ks], ttl_ms: 600001 }, "quick"), 422);
    expectStatus(await lease(s, { action: "acquire", node_ids: [999] }, "quick"), 422, "NODE_NOT_FOUND");
    expectStatus(await setWidget(s, ks, "cfg", 8, "x".repeat(129)), 400);
  });

  it("a group lease covers its nodes and nodes created inside it", async () => {
    const s = h.stack;
    const g = expectGraphOk(await post(s, "/comfy/graph/command", { type: "get_graph", canvas_id: CANVAS })).graph;
    const ks = g.nodes.find((n) => Number(n.id) === Number(refs.sampler));
    const x = Number(ks.pos.x);
    const y = Number(ks.pos.y);
    // The user draws a group around the sampler in the tab (a change a
    // delta cannot carry: the tab sends its whole workflow).
    ed.opts.deltas = false;
    await ed.userEdit((graph) => {
      const Group = ed.lg.LGraphGroup ?? ed.lg.LiteGraph.LGraphGroup;
      const grp = new Group("Sampling");
      const box = [x - 20, y - 60, Number(ks.size.x) + 40, Number(ks.size.y) + 100];
      if (grp._bounding) grp._bounding.set(box);
      else {
        grp.pos = box.slice(0, 2);
        grp.size = box.slice(2);
      }
      graph.add(grp);
    });
    ed.opts.deltas = true;
    const r = expectGraphOk(await lease(s, { action: "acquire", group: "Sampling" }, "grp-bot"));
    assert.equal(r.lease.group, "Sampling");
    assert.deepEqual(r.lease.node_ids.map(Number), [Number(refs.sampler)]);
    expectStatus(await setWidget(s, Number(refs.sampler), "cfg", 9, "other-bot"), 409, "LEASED");
    const c = expectStatus(
      await post(
        s,
        "/comfy/graph/command",
        { type: "create_node", canvas_id: CANVAS, node_type: "EmptyLatentImage", x: x + 5, y: y + 5 },
        as("other-bot"),
      ),
      409,
      "LEASED",
    );
    assert.match(c.result.error.message, /inside a leased group/);
    expectGraphOk(
      await post(
        s,
        "/comfy/graph/command",
        { type: "create_node", canvas_id: CANVAS, node_type: "EmptyLatentImage", x: x + 5000, y: y + 5000 },
        as("other-bot"),
      ),
    );
    expectGraphOk(await lease(s, { action: "release" }, "grp-bot"));
  });
});

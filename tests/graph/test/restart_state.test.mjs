// State that must survive a core restart (SIGTERM and kill -9) under a
// running bridge and a re-attaching editor: canvas revisions never go back
// and a base_revision from before the restart is never taken for a current
// one; idempotency keys keep their outcome (a retried batch or queue is
// answered from the store, not applied again) and a key reused with another
// body is refused; plus the workflow store's and the query parser's edges.

import assert from "node:assert/strict";
import { describe } from "node:test";
import { randomUUID } from "node:crypto";
import { existsSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { useStack, itWithLogs, expectOk, expectGraphOk, expectStatus } from "../lib/harness.mjs";
import { post, get } from "../lib/clients.mjs";
import { txt2imgCommands } from "../lib/graph.mjs";
import { waitFor } from "../lib/stack.mjs";

const CANVAS = "tab-state";
const GUARD_MS = 30000;

describe("state across a core restart", () => {
  const h = useStack();
  const it = itWithLogs(h);
  let ed;
  let refs;
  // Every revision handed out so far, in order.
  const seen = [];

  async function revision() {
    const g = expectGraphOk(await post(h.stack, "/comfy/graph/command", { type: "get_graph", canvas_id: CANVAS }));
    return Number(g.revision);
  }

  async function edit(value) {
    const r = expectGraphOk(
      await post(h.stack, "/comfy/graph/command", {
        type: "set_widget",
        canvas_id: CANVAS,
        node_id: Number(refs.sampler),
        name: "steps",
        value,
      }),
    );
    seen.push(Number(r.revision));
    return Number(r.revision);
  }

  async function restart(sig) {
    const before = ed.attachedCount;
    const code = await h.stack.stopCore(sig);
    if (sig === "SIGTERM") assert.equal(code, 0);
    await h.stack.startCore();
    await waitFor(() => h.stack.healthy(), GUARD_MS, "/healthz 200 again");
    await waitFor(async () => ed.attachedCount > before, GUARD_MS, "the editor attached again");
    await waitFor(
      async () => {
        const r = await post(h.stack, "/comfy/graph/command", { type: "get_graph", canvas_id: CANVAS });
        return r.status === 200 && r.json.graph && r.json.graph.stale !== true;
      },
      GUARD_MS,
      "canvas live again",
    );
  }

  it("setup: an editor with the txt2img workflow, re-attaching when its socket ends", async () => {
    ed = await h.stack.editor({ canvasId: CANVAS, reconnect: true });
    const b = expectGraphOk(await post(h.stack, "/comfy/graph/batch", { canvas_id: CANVAS, commands: txt2imgCommands() }));
    refs = b.refs;
    seen.push(Number(b.revision));
  });

  for (const sig of ["SIGTERM", "SIGKILL"]) {
    it(`28 edits, ${sig}: revisions go on above every earlier one and an old base_revision is stale`, async () => {
      for (let i = 0; i < 28; i++) await edit(1000 + i);
      const old = await revision();
      const high = Math.max(...seen);
      assert.equal(old, high);
      await restart(sig);
      const after = await revision();
      assert.ok(after > high, `revision after the restart ${after} must be above ${high}`);
      // Change the graph until a restarted counter would have caught up
      // with the old revision again (the reported bug), then use it.
      const need = Math.max(0, old - after);
      for (let i = 0; i < need; i++) await edit(2000 + i);
      await edit(3000);
      for (const r of seen.slice(-(need + 1))) assert.ok(r > high, `revision ${r} handed out after the restart is not above ${high}`);
      const stale = await post(h.stack, "/comfy/graph/command", {
        type: "set_widget",
        canvas_id: CANVAS,
        node_id: Number(refs.sampler),
        name: "steps",
        value: 4242,
        base_revision: old,
      });
      expectStatus(stale, 409, "STALE_REVISION");
      assert.notEqual(ed.widgetsOf(Number(refs.sampler)).steps, 4242);
      // The current revision is accepted.
      const cur = await revision();
      expectGraphOk(
        await post(h.stack, "/comfy/graph/command", {
          type: "set_widget",
          canvas_id: CANVAS,
          node_id: Number(refs.sampler),
          name: "steps",
          value: 4243,
          base_revision: cur,
        }),
      );
      seen.push(await revision());
    });
  }

  it("keyed batch, command and queue answered before a kill -9 are replayed after it, never applied again", async () => {
    const s = h.stack;
    const bkey = `b-${randomUUID()}`;
    const ckey = `c-${randomUUID()}`;
    const qkey = `q-${randomUUID()}`;
    const batch = { canvas_id: CANVAS, commands: [{ type: "create_node", node_type: "PreviewImage", ref: "p", x: 5, y: 5 }] };
    const cmd = { type: "create_node", node_type: "PreviewImage", canvas_id: CANVAS, x: 7, y: 7 };
    const a = expectGraphOk(await post(s, "/comfy/graph/batch", batch, { headers: { "Idempotency-Key": bkey } }));
    const c = expectGraphOk(await post(s, "/comfy/graph/command", { ...cmd, idempotency_key: ckey }));
    const q = expectOk(await post(s, "/comfy/graph/queue", { canvas_id: CANVAS, idempotency_key: qkey }));
    const nodes = ed.graph.nodes.length;
    const prompts = ed.queued.length;
    const patches = ed.patches.length;

    await restart("SIGKILL");

    const a2 = expectGraphOk(await post(s, "/comfy/graph/batch", batch, { headers: { "Idempotency-Key": bkey } }));
    assert.equal(a2.replayed, true, JSON.stringify(a2));
    assert.equal(Number(a2.refs.p), Number(a.refs.p));
    assert.equal(Number(a2.revision), Number(a.revision));
    const c2 = expectGraphOk(await post(s, "/comfy/graph/command", { ...cmd, idempotency_key: ckey }));
    assert.equal(c2.replayed, true);
    assert.equal(Number(c2.result.node_id), Number(c.result.node_id));
    const q2 = expectOk(await post(s, "/comfy/graph/queue", { canvas_id: CANVAS, idempotency_key: qkey }));
    assert.equal(q2.replayed, true);
    assert.equal(q2.prompt_id, q.prompt_id);
    assert.equal(ed.graph.nodes.length, nodes, "no node was created twice");
    assert.equal(ed.queued.length, prompts, "no prompt was queued twice");
    assert.equal(ed.patches.length, patches, "the tab got no patch for a replay");
  });

  it("a key reused with a different body is refused with 409 IDEMPOTENCY_KEY_REUSED, before and after a restart", async () => {
    const s = h.stack;
    const key = `r-${randomUUID()}`;
    const first = { canvas_id: CANVAS, commands: [{ type: "create_node", node_type: "PreviewImage", ref: "p", x: 1, y: 1 }] };
    const other = { canvas_id: CANVAS, commands: [{ type: "create_node", node_type: "SaveImage", ref: "p", x: 1, y: 1 }] };
    expectGraphOk(await post(s, "/comfy/graph/batch", first, { headers: { "Idempotency-Key": key } }));
    const nodes = ed.graph.nodes.length;
    expectStatus(await post(s, "/comfy/graph/batch", other, { headers: { "Idempotency-Key": key } }), 409, "IDEMPOTENCY_KEY_REUSED");
    // Same body, other field order and another timeout: the same request.
    const same = { commands: [{ y: 1, x: 1, ref: "p", node_type: "PreviewImage", type: "create_node" }], canvas_id: CANVAS, timeout_ms: 9000 };
    assert.equal(expectGraphOk(await post(s, "/comfy/graph/batch", same, { headers: { "Idempotency-Key": key } })).replayed, true);
    const qkey = `rq-${randomUUID()}`;
    expectOk(await post(s, "/comfy/graph/queue", { canvas_id: CANVAS, idempotency_key: qkey }));
    const r = await post(s, "/comfy/graph/queue", { canvas_id: CANVAS, idempotency_key: qkey, batch_count: 3 });
    expectStatus(r, 409, "IDEMPOTENCY_KEY_REUSED");
    await restart("SIGTERM");
    expectStatus(await post(s, "/comfy/graph/batch", other, { headers: { "Idempotency-Key": key } }), 409, "IDEMPOTENCY_KEY_REUSED");
    expectStatus(
      await post(s, "/comfy/graph/queue", { canvas_id: CANVAS, idempotency_key: qkey, batch_count: 3 }),
      409,
      "IDEMPOTENCY_KEY_REUSED",
    );
    assert.equal(expectGraphOk(await post(s, "/comfy/graph/batch", first, { headers: { "Idempotency-Key": key } })).replayed, true);
    assert.equal(ed.graph.nodes.length, nodes);
    // Over the graph WebSocket the code is the same.
  });

  it("temporary files of an interrupted save are gone after a restart; saved workflows stay", async () => {
    const s = h.stack;
    expectOk(await post(s, "/comfy/graph/save", { canvas_id: CANVAS, name: "kept" }));
    const wf = path.join(s.data, "workflows");
    const tmp = path.join(wf, `.kept.json.${randomUUID()}.tmp`);
    writeFileSync(tmp, '{"half');
    await restart("SIGKILL");
    assert.equal(existsSync(tmp), false, "the temporary file is removed at start");
    assert.equal(existsSync(path.join(wf, "kept.json")), true);
    const list = expectOk(await get(s, "/comfy/graph/workflows"));
    assert.deepEqual((list.workflows ?? []).map((w) => w.name), ["kept"]);
  });

  it("a symlinked workflow is 404 WORKFLOW_NOT_FOUND without a server path; names with outer spaces are 400", async () => {
    const s = h.stack;
    symlinkSync("/etc/passwd", path.join(s.data, "workflows", "evil.json"));
    const r = await post(s, "/comfy/graph/load", { canvas_id: CANVAS, name: "evil" });
    expectStatus(r, 404, "WORKFLOW_NOT_FOUND");
    assert.ok(!r.text.includes(s.root), `no server path in ${r.text}`);
    assert.ok(!r.text.includes("/etc/passwd"), r.text);
    assert.match(r.json.error, /symbolic link/);
    for (const name of ["trailing ", " leading"]) {
      expectStatus(await post(s, "/comfy/graph/save", { canvas_id: CANVAS, name }), 400, "INVALID_NAME");
      expectStatus(await post(s, "/comfy/graph/load", { canvas_id: CANVAS, name }), 400, "INVALID_NAME");
    }
  });

  it("?since= beyond 64 bits or not decimal is 400, never capped", async () => {
    const s = h.stack;
    for (const v of ["18446744073709551616", "99999999999999999999999999", "0x10", "-1", "1e3", "%2B5"]) {
      const r = await get(s, `/comfy/graph/diff?canvas_id=${CANVAS}&since=${v}`);
      expectStatus(r, 400);
      assert.match(r.json.error, /since/);
    }
    const ok = expectOk(await get(s, `/comfy/graph/diff?canvas_id=${CANVAS}&since=18446744073709551615`));
    assert.equal(ok.truncated, true);
  });
});

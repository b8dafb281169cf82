// Several callers on one canvas with the same base_revision
// (docs/concurrent-editing.md): patches that commute with what was
// committed since their base are rebased and all commit, the final graph
// being the one applying them one after the other in commit order gives
// (replayed on a second canvas from the base's workflow); patches that
// touch what changed get 409 STALE_REVISION with the exact conflicts;
// on_stale "reject" keeps the old refusal. Each rebased patch reaches the
// tab as one patch message (one undo step of the tab), as sent.

import assert from "node:assert/strict";
import { describe } from "node:test";
import { useStack, itWithLogs, expectGraphOk, expectStatus } from "../lib/harness.mjs";
import { post } from "../lib/clients.mjs";
import { editorView, assertSameGraph } from "../lib/graph.mjs";

const CANVAS = "tab-1:rebase";
const N = 16;

describe("rebase instead of reject", () => {
  const h = useStack();
  const it = itWithLogs(h);
  let ed;
  let refs;

  const graphOf = async (id) =>
    expectGraphOk(await post(h.stack, "/comfy/graph/command", { type: "get_graph", canvas_id: id })).graph;
  // Sixteen patches wait behind each other for one tab: a generous wait, so
  // that a loaded machine does not turn the queue into EDITOR_TIMEOUT.
  const batch = (body) => post(h.stack, "/comfy/graph/batch", { canvas_id: CANVAS, timeout_ms: 30000, ...body });

  // Replays patches in commit order on a new canvas holding the workflow
  // the callers based them on, and compares it with the live canvas.
  async function assertCommitOrder(base, answered, patches, name) {
    const order = answered
      .map((r, i) => ({ rev: Number(r.revision), body: patches[i] }))
      .sort((a, b) => a.rev - b.rev);
    const replay = await h.stack.editor({ canvasId: `tab-2:${name}`, title: name, workflow: base });
    for (const { body } of order) {
      expectGraphOk(await post(h.stack, "/comfy/graph/batch", { canvas_id: `tab-2:${name}`, commands: body.commands }));
    }
    assert.deepEqual(editorView(replay), editorView(ed), "live canvas vs the patches replayed in commit order");
    assertSameGraph(await graphOf(CANVAS), ed);
    replay.close();
  }

  it("an editor attaches with 16 latent nodes and a sampler", async () => {
    // A slow tab, so that concurrent callers really queue behind each other.
    ed = await h.stack.editor({ canvasId: CANVAS, title: "rebase", delayMs: 5 });
    const commands = [{ type: "create_node", node_type: "KSampler", ref: "ks", x: 600, y: 0 }];
    for (let i = 0; i < N; i++)
      commands.push({ type: "create_node", node_type: "EmptyLatentImage", ref: `l${i}`, x: 0, y: 150 * i });
    refs = expectGraphOk(await batch({ commands })).refs;
  });

  it("2 callers on one base, different nodes: both commit, the second rebased", async () => {
    const base = ed.serialize();
    const r0 = Number((await graphOf(CANVAS)).revision);
    const np = ed.patches.length;
    const patches = [
      { commands: [{ type: "set_widget", node_id: Number(refs.l0), name: "width", value: 640 }] },
      { commands: [{ type: "set_widget", node_id: Number(refs.ks), name: "steps", value: 33 }, { type: "move_node", node_id: Number(refs.ks), x: 650, y: 10 }] },
    ];
    const rs = await Promise.all(patches.map((p) => batch({ ...p, base_revision: r0 })));
    const answered = rs.map((r) => expectGraphOk(r));
    const revs = answered.map((a) => Number(a.revision)).sort((a, b) => a - b);
    assert.deepEqual(revs, [r0 + 1, r0 + 2]);
    for (const a of answered) {
      const second = Number(a.revision) === r0 + 2;
      assert.equal(a.rebased, second, JSON.stringify(a));
      assert.equal(Number(a.rebased_from), second ? r0 : 0);
    }
    // One patch message per request, with its commands as sent.
    assert.equal(ed.patches.length, np + 2);
    assert.deepEqual(ed.patches.slice(np).map((m) => m.commands.length).sort(), [1, 2]);
    assert.equal(ed.widgetsOf(Number(refs.l0)).width, 640);
    assert.equal(ed.widgetsOf(Number(refs.ks)).steps, 33);
    await assertCommitOrder(base, answered, patches, "two");
  });

  it("2 callers on one base, the same widget: one commits, the other gets the exact conflict", async () => {
    const r0 = Number((await graphOf(CANVAS)).revision);
    const ks = Number(refs.ks);
    const np = ed.patches.length;
    const values = [21, 22];
    const rs = await Promise.all(
      values.map((v) =>
        batch({ base_revision: r0, commands: [{ type: "get_graph" }, { type: "set_widget", node_id: ks, name: "cfg", value: v }] }),
      ),
    );
    const won = rs.findIndex((r) => r.status === 200);
    assert.ok(won >= 0, rs.map((r) => r.text).join("\n"));
    const lost = 1 - won;
    expectGraphOk(rs[won]);
    const body = expectStatus(rs[lost], 409, "STALE_REVISION");
    assert.equal(body.ok, false);
    assert.equal(body.rebased, false);
    assert.equal(Number(body.revision), r0 + 1);
    // The patch's error, then the conflicting command's with its conflicts.
    assert.equal(body.errors.length, 2, JSON.stringify(body.errors));
    assert.equal(body.errors[0].index, -1);
    assert.equal(body.errors[1].index, 1);
    assert.equal(body.errors[1].code, "STALE_REVISION");
    assert.deepEqual(body.errors[1].conflicts, [
      {
        index: 1,
        node_id: ks,
        input: "",
        widget: "cfg",
        change: "set_widget",
        revision: r0 + 1,
        origin: "GRAPH_ORIGIN_AGENT",
        summary: `set #${ks} KSampler.cfg to ${values[won]}`,
        current_value: values[won],
        current_link: "",
        node_gone: false,
        // The bridge's HTTP callers are unnamed gRPC callers (docs/provenance.md).
        actor: { kind: "ACTOR_KIND_GRPC", session_id: "", skill: "", name: "" },
      },
    ]);
    // The command's result carries the same conflicts (an Execute answers
    // with the result alone); nothing of the refused patch reached the tab.
    assert.deepEqual(body.results[1].error.conflicts, body.errors[1].conflicts);
    assert.equal(ed.patches.length, np + 1);
    assert.equal(ed.widgetsOf(ks).cfg, values[won]);
  });

  it(`${N} callers on one base, each on its own node: all commit, in commit order`, async () => {
    const base = ed.serialize();
    const r0 = Number((await graphOf(CANVAS)).revision);
    const np = ed.patches.length;
    const patches = [];
    for (let i = 0; i < N; i++) {
      patches.push({
        commands: [
          { type: "set_widget", node_id: Number(refs[`l${i}`]), name: "height", value: 64 * (i + 1) },
          { type: "move_node", node_id: Number(refs[`l${i}`]), x: 10 * i, y: 150 * i + 5 },
          // Created nodes get fresh ids in commit order.
          { type: "create_node", node_type: "EmptyLatentImage", ref: "mine", x: 300, y: 150 * i },
          { type: "set_widget", node_id: "mine", name: "batch_size", value: i + 1 },
        ],
      });
    }
    const rs = await Promise.all(patches.map((p) => batch({ ...p, base_revision: r0 })));
    const answered = rs.map((r) => expectGraphOk(r));
    const revs = answered.map((a) => Number(a.revision)).sort((a, b) => a - b);
    assert.deepEqual(revs, Array.from({ length: N }, (_, i) => r0 + 1 + i));
    assert.equal(answered.filter((a) => a.rebased).length, N - 1);
    for (const a of answered) if (a.rebased) assert.equal(Number(a.rebased_from), r0);
    const created = answered.map((a) => Number(a.refs.mine));
    assert.equal(new Set(created).size, N, "fresh ids");
    assert.equal(ed.patches.length, np + N, "one patch message (one undo step) each");
    for (let i = 0; i < N; i++) {
      assert.equal(ed.widgetsOf(Number(refs[`l${i}`])).height, 64 * (i + 1));
      assert.equal(ed.widgetsOf(created[i]).batch_size, i + 1);
    }
    await assertCommitOrder(base, answered, patches, "sixteen");
  });

  it(`${N} callers on one base, in pairs on the same widget: one of each pair commits, the other gets its conflict`, async () => {
    const r0 = Number((await graphOf(CANVAS)).revision);
    const np = ed.patches.length;
    const pairs = N / 2;
    const patches = [];
    for (let i = 0; i < N; i++) {
      const node = Number(refs[`l${i % pairs}`]);
      patches.push({ node, value: 512 + 64 * i, commands: [{ type: "set_widget", node_id: node, name: "width", value: 512 + 64 * i }] });
    }
    const rs = await Promise.all(patches.map((p) => batch({ commands: p.commands, base_revision: r0 })));
    const ok = rs.filter((r) => r.status === 200).map((r) => r.json);
    assert.equal(ok.length, pairs, rs.map((r) => `${r.status} ${r.text}`).join("\n"));
    assert.equal(ed.patches.length, np + pairs);
    for (let k = 0; k < pairs; k++) {
      const [a, b] = [k, k + pairs];
      const winner = rs[a].status === 200 ? a : b;
      const loser = winner === a ? b : a;
      assert.equal(rs[winner].status, 200);
      const body = expectStatus(rs[loser], 409, "STALE_REVISION");
      const wrev = Number(rs[winner].json.revision);
      const node = patches[a].node;
      assert.deepEqual(body.errors[1].conflicts, [
        {
          index: 0,
          node_id: node,
          input: "",
          widget: "width",
          change: "set_widget",
          revision: wrev,
          origin: "GRAPH_ORIGIN_AGENT",
          summary: `set #${node} EmptyLatentImage.width to ${patches[winner].value}`,
          current_value: patches[winner].value,
          current_link: "",
          node_gone: false,
          actor: { kind: "ACTOR_KIND_GRPC", session_id: "", skill: "", name: "" },
        },
      ]);
      assert.equal(ed.widgetsOf(node).width, patches[winner].value);
    }
  });

  it("a user's edit in the tab since the base: a patch on that widget conflicts (origin user), one elsewhere is rebased", async () => {
    const r0 = Number((await graphOf(CANVAS)).revision);
    const ks = Number(refs.ks);
    await ed.userEdit((g) => {
      g.getNodeById(ks).widgets.find((w) => w.name === "denoise").value = 0.5;
    });
    const body = expectStatus(
      await batch({ base_revision: r0, commands: [{ type: "set_widget", node_id: ks, name: "denoise", value: 0.75 }] }),
      409,
      "STALE_REVISION",
    );
    const c = body.errors[1].conflicts[0];
    assert.equal(c.origin, "GRAPH_ORIGIN_USER");
    assert.equal(c.widget, "denoise");
    assert.equal(c.current_value, 0.5);
    assert.equal(Number(c.revision), r0 + 1);
    const ok = expectGraphOk(
      await batch({ base_revision: r0, commands: [{ type: "set_widget", node_id: ks, name: "steps", value: 12 }] }),
    );
    assert.equal(ok.rebased, true);
    assert.equal(Number(ok.rebased_from), r0);
    assert.equal(ed.widgetsOf(ks).denoise, 0.5);
    assert.equal(ed.widgetsOf(ks).steps, 12);
    // A single command (POST /comfy/graph/command) too.
    const one = expectGraphOk(
      await post(h.stack, "/comfy/graph/command", {
        type: "move_node", node_id: Number(refs.l3), x: 1, y: 2, base_revision: r0, canvas_id: CANVAS,
      }),
    );
    assert.equal(one.rebased, true);
  });

  it('on_stale "reject" refuses a stale patch that would commute, and nothing reaches the tab', async () => {
    const r = Number((await graphOf(CANVAS)).revision);
    const np = ed.patches.length;
    const body = expectStatus(
      await batch({ base_revision: r - 1, on_stale: "reject", commands: [{ type: "move_node", node_id: Number(refs.l5), x: 9, y: 9 }] }),
      409,
      "STALE_REVISION",
    );
    assert.match(body.errors[0].message, /on_stale is reject/);
    // Beside a single command too.
    const one = expectStatus(
      await post(h.stack, "/comfy/graph/command", {
        type: "move_node", node_id: Number(refs.l5), x: 9, y: 9, base_revision: r - 1, on_stale: "reject", canvas_id: CANVAS,
      }),
      409,
      "STALE_REVISION",
    );
    assert.match(one.result.error.message, /on_stale is reject/);
    assert.equal(ed.patches.length, np);
    // validate_only answers as the patch would be answered: rebased.
    const v = expectGraphOk(
      await batch({ base_revision: r - 1, validate_only: true, commands: [{ type: "move_node", node_id: Number(refs.l5), x: 9, y: 9 }] }),
    );
    assert.equal(v.rebased, true);
    assert.equal(ed.patches.length, np);
  });
});

// The official TypeScript SDK over Streamable HTTP: it connects, lists the
// tools and builds the txt2img workflow on a headless canvas, then uses
// the other tools and an agent session with progress.

import assert from "node:assert/strict";
import { describe } from "node:test";
import { randomUUID } from "node:crypto";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { useStack, itWithLogs } from "../../graph/lib/harness.mjs";
import { overlappingPairs, txt2imgCommands } from "../../graph/lib/graph.mjs";
import { TOOL_NAMES, httpClient, call, assertTxt2img, rawPost } from "../lib/mcp.mjs";

const CANVAS = "tab-1:mcp-http";

describe("TypeScript SDK over Streamable HTTP", () => {
  const h = useStack();
  const it = itWithLogs(h);
  let ed, client, transport, r0, built;

  it("connects: the newest protocol version, a session, the server's name", async () => {
    ed = await h.stack.editor({ canvasId: CANVAS, title: "mcp over http" });
    ({ client, transport } = await httpClient(h.stack));
    assert.equal(transport.protocolVersion, "2025-11-25");
    assert.match(transport.sessionId, /^[0-9a-f]{64}$/);
    assert.equal(client.getServerVersion().name, "comfyd");
    assert.deepEqual(client.getServerCapabilities().tools, { listChanged: false });
    assert.match(client.getInstructions(), /apply_patch/);
  });

  it("lists the twenty tools with schemas and annotations", async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name), TOOL_NAMES);
    const by = Object.fromEntries(tools.map((t) => [t.name, t]));
    for (const t of tools) {
      assert.equal(t.inputSchema.type, "object", t.name);
      assert.equal(t.inputSchema.additionalProperties, false, t.name);
      assert.ok(t.description.length > 20, t.name);
      assert.equal(typeof t.annotations.readOnlyHint, "boolean", t.name);
    }
    // The patch schema names every command of the contract, as the skills see it.
    const kinds = by.apply_patch.inputSchema.properties.commands.items.anyOf.map((c) => c.properties.type.const);
    assert.deepEqual(kinds, ["create_node", "remove_node", "connect", "disconnect", "set_widget", "move_node", "clear_graph", "arrange", "set_node_mode"]);
    const arrange = by.apply_patch.inputSchema.properties.commands.items.anyOf.find((c) => c.properties.type.const === "arrange");
    assert.deepEqual(Object.keys(arrange.properties), ["type", "node_ids", "x", "y", "spacing"]);
    assert.deepEqual(arrange.required, ["type"]);
    assert.deepEqual(by.apply_patch.inputSchema.required, ["commands"]);
    assert.equal(by.apply_patch.annotations.readOnlyHint, false);
    assert.equal(by.get_graph.annotations.readOnlyHint, true);
    // Generated from the request messages the bridge decodes.
    assert.deepEqual(Object.keys(by.save_workflow.inputSchema.properties), ["canvas_id", "name", "overwrite"]);
    assert.deepEqual(Object.keys(by.send_message.inputSchema.properties), ["session_id", "content", "skills", "client_message_id", "attachments", "wait_ms"]);
    assert.ok(!("api_key" in by.create_session.inputSchema.properties));
    assert.match(by.create_session.inputSchema.properties.session_id.description, /UUID/);
  });

  it("reads the empty canvas: structured content with the revision", async () => {
    const r = await call(client, "get_graph", { canvas_id: CANVAS });
    assert.equal(r.isError, false, r.text);
    assert.equal(r.data.canvas_id, CANVAS);
    assert.equal(r.data.node_count, 0);
    r0 = r.data.revision;
    assert.ok(r0 >= 1);
    assert.deepEqual(JSON.parse(r.text), r.data);
  });

  it("builds txt2img in one apply_patch with refs: the editor holds the workflow", async () => {
    const r = await call(client, "apply_patch", { canvas_id: CANVAS, commands: txt2imgCommands() });
    assert.equal(r.isError, false, r.text);
    assert.equal(r.data.ok, true);
    assert.ok(r.data.revision > r0);
    assert.deepEqual(Object.keys(r.data.refs).sort(), ["ckpt", "decode", "latent", "neg", "pos", "sampler", "save"]);
    assert.equal(ed.patches.length, 1, "one patch, one undo step");
    built = r.data;
    assertTxt2img(ed, built.refs);
    const g = await call(client, "get_graph", { canvas_id: CANVAS });
    assert.equal(g.data.node_count, 7);
    assert.equal(g.data.link_count, 9);
    assert.equal(g.data.revision, built.revision);
    assert.ok(g.data.nodes.some((l) => l.startsWith(`#${built.refs.sampler} KSampler seed=123456789`)), g.text);
    const full = await call(client, "get_graph", { canvas_id: CANVAS, detail: "full", node_ids: [built.refs.sampler] });
    assert.equal(full.data.nodes.length, 1);
  });

  it("a patch on an old base revision is a tool error with STALE_REVISION and a hint", async () => {
    const r = await call(client, "apply_patch", {
      canvas_id: CANVAS, base_revision: r0,
      commands: [{ type: "set_widget", node_id: built.refs.sampler, name: "steps", value: 10 }],
    });
    assert.equal(r.isError, true);
    assert.equal(r.data.ok, false);
    assert.equal(r.data.errors[0].code, "STALE_REVISION");
    // The sampler did not exist at r0: the conflict is its creation.
    const c = r.data.errors[1].conflicts[0];
    assert.equal(c.change, "create_node");
    assert.equal(Number(c.node_id), Number(built.refs.sampler));
    assert.equal(c.origin, "agent");
    assert.match(r.data.hint, /get_graph/);
  });

  it("a patch without base_revision is checked against what the session last saw", async () => {
    // The session saw its own patch's revision: this one applies.
    const ok = await call(client, "apply_patch", {
      canvas_id: CANVAS, commands: [{ type: "set_widget", node_id: built.refs.sampler, name: "steps", value: 30 }],
    });
    assert.equal(ok.isError, false, ok.text);
    assert.equal(ed.widgetsOf(Number(built.refs.sampler)).steps, 30);
    // The user edits the canvas: a patch on the old view that touches
    // something else is rebased; one on the same widget is refused with
    // the conflict (the user's revision and the value now).
    await ed.userEdit((g) => {
      g.getNodeById(Number(built.refs.sampler)).widgets.find((w) => w.name === "cfg").value = 7;
    });
    const rebased = await call(client, "apply_patch", {
      canvas_id: CANVAS, commands: [{ type: "set_widget", node_id: built.refs.sampler, name: "steps", value: 31 }],
    });
    assert.equal(rebased.isError, false, rebased.text);
    assert.equal(rebased.data.rebased, true);
    assert.equal(rebased.data.rebased_from, ok.data.revision);
    assert.equal(ed.widgetsOf(Number(built.refs.sampler)).steps, 31);
    await ed.userEdit((g) => {
      g.getNodeById(Number(built.refs.sampler)).widgets.find((w) => w.name === "cfg").value = 6;
    });
    const stale = await call(client, "apply_patch", {
      canvas_id: CANVAS, commands: [{ type: "set_widget", node_id: built.refs.sampler, name: "cfg", value: 5 }],
    });
    assert.equal(stale.isError, true, stale.text);
    assert.equal(stale.data.errors[0].code, "STALE_REVISION");
    const c = stale.data.errors[1].conflicts[0];
    assert.equal(c.origin, "user");
    assert.equal(c.widget, "cfg");
    assert.equal(c.current_value, 6);
    assert.equal(ed.widgetsOf(Number(built.refs.sampler)).cfg, 6);
    // After reading the graph again it applies.
    await call(client, "get_graph", { canvas_id: CANVAS });
    const again = await call(client, "apply_patch", {
      canvas_id: CANVAS, commands: [{ type: "set_widget", node_id: built.refs.sampler, name: "cfg", value: 5 }],
    });
    assert.equal(again.isError, false, again.text);
    built.revision = again.data.revision;
  });

  it("the full get_graph and node_history say who changed what: this MCP client by name, the user", async () => {
    const ks = built.refs.sampler;
    const full = await call(client, "get_graph", { canvas_id: CANVAS, detail: "full", node_ids: [ks] });
    assert.equal(full.isError, false, full.text);
    const node = full.data.nodes[0];
    const prov = (name) => node.widgets.find((w) => w.name === name).provenance;
    // This client set steps (rebased) and last cfg, after the user's cfg.
    assert.equal(prov("steps").actor.kind, "ACTOR_KIND_MCP", full.text);
    assert.equal(prov("steps").actor.name, "comfyd-mcp-tests");
    assert.ok(Number(prov("steps").revision) < built.revision);
    assert.equal(prov("cfg").actor.name, "comfyd-mcp-tests");
    assert.equal(Number(prov("cfg").revision), built.revision);
    assert.equal(prov("seed").actor.name, "comfyd-mcp-tests", "made with the node");
    assert.equal(node.provenance.actor.kind, "ACTOR_KIND_MCP", "the node's latest change");
    // Nothing secret: the bridge's token is in no answer.
    assert.ok(!full.text.includes(h.stack.token));

    const hist = await call(client, "node_history", { canvas_id: CANVAS, node_id: ks, limit: 3 });
    assert.equal(hist.isError, false, hist.text);
    const who = hist.data.ops.map((o) => [o.actor.kind, o.actor.name, o.widget]);
    assert.deepEqual(who, [
      ["ACTOR_KIND_MCP", "comfyd-mcp-tests", "cfg"],
      ["ACTOR_KIND_USER", "", "cfg"],
      ["ACTOR_KIND_MCP", "comfyd-mcp-tests", "steps"],
    ]);
    assert.equal(Number(hist.data.ops[0].revision), built.revision);
    assert.equal(hist.data.truncated, true);
    assert.equal(hist.data.provenance.actor.kind, "ACTOR_KIND_MCP");
    // Another client is told apart by its clientInfo name.
    const other = await httpClient(h.stack, { name: "second-client" });
    try {
      const r = await call(other.client, "apply_patch", {
        canvas_id: CANVAS, commands: [{ type: "move_node", node_id: ks, x: 1300, y: 10 }],
      });
      assert.equal(r.isError, false, r.text);
      const last = await call(client, "node_history", { canvas_id: CANVAS, node_id: ks, limit: 1 });
      assert.equal(last.data.ops[0].actor.name, "second-client");
      assert.equal(last.data.ops[0].command.type, "move_node");
      built.revision = r.data.revision;
    } finally {
      await other.client.close();
    }
    // This session reads the canvas again: what follows builds on it.
    await call(client, "get_graph", { canvas_id: CANVAS });
    // Bad arguments are tool errors.
    const bad = await call(client, "node_history", { canvas_id: CANVAS, limit: 5000 });
    assert.equal(bad.isError, true);
    assert.match(bad.text, /limit/);
  });

  it("a lease holds the sampler against another client until released", async () => {
    const ks = built.refs.sampler;
    const r = await call(client, "lease", { canvas_id: CANVAS, action: "acquire", node_ids: [ks], ttl_ms: 30000 });
    assert.equal(r.isError, false, r.text);
    assert.equal(r.data.ok, true);
    assert.equal(r.data.lease.holder.kind, "ACTOR_KIND_MCP");
    assert.equal(r.data.lease.holder.name, "comfyd-mcp-tests");
    const id = Number(r.data.lease.id);
    const other = await httpClient(h.stack, { name: "second-client" });
    try {
      const p = await call(other.client, "apply_patch", {
        canvas_id: CANVAS, commands: [{ type: "set_widget", node_id: ks, name: "cfg", value: 2 }],
      });
      assert.equal(p.isError, true, p.text);
      const e = p.data.errors[0];
      assert.equal(e.code, "LEASED");
      assert.equal(Number(e.leased_node_id), ks);
      assert.equal(e.lease.holder.name, "comfyd-mcp-tests");
      assert.equal(Number(e.lease.expires_ms), Number(r.data.lease.expires_ms));
      assert.match(e.message, /leased by mcp:comfyd-mcp-tests/);
      assert.match(p.data.hint, /lease/);
      const t = await call(other.client, "lease", { canvas_id: CANVAS, action: "acquire", node_ids: [ks] });
      assert.equal(t.isError, true, t.text);
      assert.equal(t.data.refusal.code, "LEASED");
      assert.equal(Number(t.data.refusal.lease.id), id);
      const rel = await call(other.client, "lease", { canvas_id: CANVAS, action: "release", lease_id: id });
      assert.equal(rel.isError, true, "only the holder releases");
      // The full get_graph lists it.
      const full = await call(client, "get_graph", { canvas_id: CANVAS, detail: "full", node_ids: [ks] });
      assert.equal(Number(full.data.leases[0].id), id, full.text);
      const mine = await call(client, "lease", { canvas_id: CANVAS, action: "release", lease_id: id });
      assert.equal(mine.isError, false, mine.text);
      assert.equal(mine.data.released, 1);
      const again = await call(other.client, "lease", { canvas_id: CANVAS, action: "acquire", node_ids: [ks], ttl_ms: 5000 });
      assert.equal(again.isError, false, again.text);
      const gone = await call(other.client, "lease", { canvas_id: CANVAS, action: "release" });
      assert.equal(gone.data.released, 1);
      // Bad arguments are tool errors.
      const bad = await call(client, "lease", { canvas_id: CANVAS, action: "acquire", node_ids: [ks], ttl_ms: 999999 });
      assert.equal(bad.isError, true);
    } finally {
      await other.client.close();
    }
  });

  it("arrange in apply_patch lays the workflow out left to right, without overlaps", async () => {
    const r = await call(client, "apply_patch", { canvas_id: CANVAS, commands: [{ type: "arrange", spacing: 40 }] });
    assert.equal(r.isError, false, r.text);
    built.revision = r.data.revision;
    const at = (ref) => ed.graph.getNodeById(Number(built.refs[ref])).pos[0];
    for (const [a, b] of [["ckpt", "pos"], ["pos", "sampler"], ["latent", "sampler"], ["sampler", "decode"], ["decode", "save"]])
      assert.ok(at(a) < at(b), `${a} (${at(a)}) is left of ${b} (${at(b)})`);
    assert.deepEqual(overlappingPairs(ed.graph), []);
  });

  it("validate_patch reports every error with suggestions and changes nothing", async () => {
    const before = ed.patches.length;
    const r = await call(client, "validate_patch", {
      canvas_id: CANVAS,
      commands: [{ type: "create_node", node_type: "KSamplr" }, { type: "set_widget", node_id: 999, name: "x", value: 1 }],
    });
    assert.equal(r.isError, false, "findings are a result");
    assert.equal(r.data.ok, false);
    assert.equal(r.data.validate_only, true);
    assert.deepEqual(r.data.errors.map((e) => e.code), ["UNKNOWN_NODE_TYPE", "NODE_NOT_FOUND"]);
    assert.ok(r.data.errors[0].suggestions.includes("KSampler"));
    assert.equal(ed.patches.length, before);
  });

  it("searches node types and reads a schema; an unknown type gets close names", async () => {
    const s = await call(client, "search_node_types", { query: "ksampler", limit: 5 });
    assert.equal(s.isError, false);
    assert.ok(s.data.node_types.some((t) => t.name === "KSampler"));
    // Agents search with words.
    const w = await call(client, "search_node_types", { query: "apply controlnet", limit: 5 });
    assert.equal(w.isError, false);
    const names = w.data.node_types.map((t) => t.name);
    assert.ok(names.includes("ControlNetApply") && names.includes("ControlNetApplyAdvanced"), w.text);
    const l = await call(client, "search_node_types", { query: "upscale latent", limit: 1 });
    assert.equal(l.data.node_types[0].name, "LatentUpscale", l.text);
    const k = await call(client, "get_node_schema", { node_type: "KSampler" });
    assert.equal(k.isError, false);
    assert.deepEqual(k.data.outputs, [{ slot: 0, name: "LATENT", type: "LATENT" }]);
    assert.ok(k.data.inputs.some((i) => i.name === "seed" && i.widget === true));
    const u = await call(client, "get_node_schema", { node_type: "KSamplr" });
    assert.equal(u.isError, true);
    assert.equal(u.data.code, "UNKNOWN_NODE_TYPE");
    assert.ok(u.data.suggestions.includes("KSampler"), u.text);
  });

  it("queues, saves and loads the workflow; lists canvases", async () => {
    const q = await call(client, "queue", { canvas_id: CANVAS });
    assert.equal(q.isError, false, q.text);
    assert.ok(q.data.prompt_id);
    assert.equal(ed.queued.length, 1);
    const s = await call(client, "save_workflow", { canvas_id: CANVAS, name: "mcp t2i" });
    assert.equal(s.isError, false, s.text);
    assert.equal(s.data.name, "mcp t2i");
    const again = await call(client, "save_workflow", { canvas_id: CANVAS, name: "mcp t2i" });
    assert.equal(again.isError, true, "no overwrite without asking");
    const l = await call(client, "load_workflow", { canvas_id: CANVAS, name: "mcp t2i" });
    assert.equal(l.isError, false, l.text);
    assert.equal(l.data.node_count, 7);
    assert.ok(l.data.revision > built.revision);
    const c = await call(client, "list_canvases");
    const me = c.data.canvases.find((x) => x.canvas_id === CANVAS);
    assert.ok(me && me.attached, c.text);
  });

  it("tool failures are results with a clear message; protocol failures are JSON-RPC errors", async () => {
    const nf = await call(client, "get_graph", { canvas_id: "no-such-canvas" });
    assert.equal(nf.isError, true);
    assert.equal(nf.data.code, "CANVAS_NOT_FOUND");
    assert.ok(nf.data.error.length > 5 && nf.data.hint);
    const bad = await call(client, "apply_patch", { canvas_id: CANVAS, commands: [], colour: 1 });
    assert.equal(bad.isError, true);
    assert.match(bad.data.error, /unknown argument 'colour'/);
    const none = await call(client, "apply_patch", { canvas_id: CANVAS, commands: [] });
    assert.match(none.data.error, /at least one command/);
    await assert.rejects(client.callTool({ name: "no_such_tool", arguments: {} }), (e) => e instanceof McpError && e.code === -32602);
    await assert.rejects(client.request({ method: "resources/list" }, (await import("@modelcontextprotocol/sdk/types.js")).ListResourcesResultSchema), (e) => e.code === -32601);
  });

  it("talks to an agent session: send_message streams progress, then the replies per skill", async () => {
    const cs = await call(client, "create_session", { title: "from mcp", config: { provider: "echo", active_skills: ["graph-doctor"], token_delay_ms: 1 } });
    assert.equal(cs.isError, false, cs.text);
    const sid = cs.data.session.id;
    assert.equal(cs.data.session.status, "idle");
    // An id of the caller's choice, once.
    const mine = randomUUID();
    const own = await call(client, "create_session", { session_id: mine });
    assert.equal(own.isError, false, own.text);
    assert.equal(own.data.session.id, mine);
    const again = await call(client, "create_session", { session_id: mine });
    assert.equal(again.isError, true);
    assert.match(again.text, /ALREADY_EXISTS|already exists/);
    const progress = [];
    const r = await call(client, "send_message", { session_id: sid, content: "check my graph" }, { onprogress: (p) => progress.push(p) });
    assert.equal(r.isError, false, r.text);
    assert.equal(r.data.status, "done");
    assert.equal(r.data.session_id, sid);
    assert.equal(r.data.replies.length, 1);
    assert.equal(r.data.replies[0].skill, "graph-doctor");
    assert.match(r.data.replies[0].content, /check my graph/);
    assert.ok(progress.length >= 2, JSON.stringify(progress));
    assert.ok(progress.every((p, i) => i === 0 || p.progress > progress[i - 1].progress), "progress increases");
    assert.ok(progress.some((p) => /graph-doctor replied/.test(p.message)), JSON.stringify(progress));
    const ls = await call(client, "list_sessions");
    assert.ok(ls.data.sessions.some((s) => s.id === sid && s.message_count >= 2), ls.text);
    const missing = await call(client, "send_message", { session_id: "00000000-0000-4000-8000-000000000000", content: "x" });
    assert.equal(missing.isError, true);
    assert.equal(missing.data.code, "NOT_FOUND", missing.text);
    const malformed = await call(client, "send_message", { session_id: "nope", content: "x" });
    assert.equal(malformed.isError, true);
    assert.equal(malformed.data.code, "INVALID_ARGUMENT", malformed.text);
  });

  it("finds, compacts and exports sessions", async () => {
    const cs = await call(client, "create_session", { config: { provider: "echo", active_skills: ["graph-doctor"] } });
    const sid = cs.data.session.id;
    for (const text of ["an albatross over the sea", "then a harbour at night"]) {
      const r = await call(client, "send_message", { session_id: sid, content: text });
      assert.equal(r.isError, false, r.text);
    }
    const found = await call(client, "search_sessions", { query: "albatross" });
    assert.equal(found.isError, false, found.text);
    assert.ok(found.data.hits.some((h) => h.session_id === sid && /\[albatross\]/.test(h.snippet)), found.text);
    const bad = await call(client, "search_sessions", { query: '"unclosed' });
    assert.equal(bad.isError, true);
    assert.equal(bad.data.code, "INVALID_ARGUMENT", bad.text);
    assert.doesNotMatch(bad.text, /sql|fts5/i);
    const cp = await call(client, "compact_session", { session_id: sid });
    assert.equal(cp.isError, false, cp.text);
    assert.equal(cp.data.compacted, true, cp.text);
    assert.equal(cp.data.messages_compacted, 2);
    assert.match(cp.data.summary.content, /^Summary of 2 earlier messages/);
    const ex = await call(client, "export_session", { session_id: sid });
    assert.equal(ex.isError, false, ex.text);
    assert.match(ex.data.content, /## User/);
    assert.match(ex.data.content, /\*\*Summary\*\*/);
  });

  it("forks and reverts sessions, lists checkpoints, with clear errors", async () => {
    const cs = await call(client, "create_session", { title: "gull study", config: { provider: "echo", active_skills: ["graph-doctor"] } });
    const sid = cs.data.session.id;
    for (const text of ["a gull on a post", "a tern over the dunes"]) {
      const r = await call(client, "send_message", { session_id: sid, content: text });
      assert.equal(r.isError, false, r.text);
    }
    const ex = JSON.parse((await call(client, "export_session", { session_id: sid, format: "EXPORT_FORMAT_JSON" })).data.content);
    const ids = ex.messages.map((m) => m.id);
    assert.equal(ids.length, 4);
    const fk = await call(client, "fork_session", { session_id: sid, message_id: ids[1] });
    assert.equal(fk.isError, false, fk.text);
    assert.equal(fk.data.messages_copied, 2);
    assert.equal(fk.data.session.parent_id, sid);
    assert.equal(fk.data.session.title, "gull study (fork)");
    const rv = await call(client, "revert_session", { session_id: sid, message_id: ids[1], restore_canvas: true });
    assert.equal(rv.isError, false, rv.text);
    assert.equal(rv.data.messages_hidden, 2);
    assert.equal(rv.data.session.message_count, 2);
    const cps = await call(client, "list_checkpoints", { session_id: sid });
    assert.equal(cps.isError, false, cps.text);
    assert.deepEqual(cps.data.checkpoints ?? [], []);
    const other = await call(client, "revert_session", { session_id: fk.data.session.id, message_id: ids[0] });
    assert.equal(other.isError, true);
    assert.equal(other.data.code, "INVALID_ARGUMENT", other.text);
    assert.match(other.text, /belongs to another session/);
    const gone = await call(client, "fork_session", { session_id: sid, message_id: ids[3] });
    assert.equal(gone.isError, true);
    assert.equal(gone.data.code, "NOT_FOUND", gone.text);
    assert.match(gone.text, /hidden by a revert/);
  });

  it("closing ends the session: the bridge forgets it (404)", async () => {
    const id = transport.sessionId;
    await transport.terminateSession();
    await client.close();
    const r = await rawPost(h.stack, { jsonrpc: "2.0", id: 5, method: "ping" }, { headers: { "mcp-session-id": id } });
    assert.equal(r.status, 404);
  });
});

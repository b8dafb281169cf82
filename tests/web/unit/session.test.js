import { beforeEach, describe, expect, it } from "vitest";
import { FakeSocket, ManualTimers, fakeConnection, flush } from "./fakes.js";
import {
  MAX_LOG_LINES,
  ackPendingTurn,
  addPendingTurn,
  applyEvent,
  columnsOf,
  createState,
  latestSummary,
  shortEnum,
} from "../../../web/src/panel/session-store.js";
import { DEFAULT_SKILL, PanelController, parseSkills } from "../../../web/src/panel/controller.js";
import { parseConnection, backoffDelay, wsProtocols, wsUrl } from "../../../web/src/connection.js";

const ev = (event, seq, data) => ({ event, seq, data: { session_id: "s1", ...data } });
const delta = (seq, skill, index, text, turn = 10) => ev("stream_delta", seq, { turn_id: turn, skill, index, delta: text });
const sync = (seq, extra = {}) =>
  ev("sync_state", seq, {
    session: { id: "s1", title: "t", status: "idle", config: { provider: "echo", active_skills: ["a", "b"] } },
    history: [],
    partials: [],
    status: "idle",
    ...extra,
  });

describe("session store", () => {
  let s;
  beforeEach(() => {
    s = createState();
    s.sessionId = "s1";
  });

  it("builds turns with one reply per skill from streamed deltas", () => {
    applyEvent(s, sync(1));
    applyEvent(s, ev("message_added", 2, { message: { id: 10, role: "user", content: "hi", state: "running" } }));
    applyEvent(s, ev("status_update", 3, { status: "working", turn_id: 10 }));
    applyEvent(s, delta(4, "a", 0, "Hel"));
    applyEvent(s, delta(5, "b", 0, "Wor"));
    applyEvent(s, delta(6, "a", 1, "lo"));
    applyEvent(s, delta(7, "b", 1, "ld"));
    expect(s.status).toBe("working");
    expect(s.turns).toHaveLength(1);
    expect(s.turns[0].content).toBe("hi");
    expect(columnsOf(s.turns[0], ["a", "b"]).map((r) => [r.skill, r.content])).toEqual([["a", "Hello"], ["b", "World"]]);
    applyEvent(s, ev("status_update", 8, { status: "idle" }));
    expect(s.turns[0].replies.a.state).toBe("done");
    expect(s.lastSeq).toBe(8);
  });

  it("drops events it has seen (a replay after a reconnect)", () => {
    applyEvent(s, sync(1));
    applyEvent(s, delta(2, "a", 0, "x"));
    applyEvent(s, delta(3, "a", 1, "y"));
    // The replay starts again at seq 2.
    expect(applyEvent(s, delta(2, "a", 0, "x"))).toBe(false);
    expect(applyEvent(s, delta(3, "a", 1, "y"))).toBe(false);
    applyEvent(s, delta(4, "a", 2, "z"));
    expect(s.turns[0].replies.a.content).toBe("xyz");
    // Events without an index of their own are caught by seq alone.
    applyEvent(s, ev("debug_log", 5, { level: "INFO", module: "m", message: "once" }));
    expect(applyEvent(s, ev("debug_log", 5, { level: "INFO", module: "m", message: "once" }))).toBe(false);
    expect(s.logs.map((l) => l.message)).toEqual(["once"]);
  });

  it("drops a delta repeated within a reply and asks for a snapshot on a gap", () => {
    applyEvent(s, sync(1));
    applyEvent(s, delta(2, "a", 0, "x"));
    expect(applyEvent(s, delta(3, "a", 0, "x"))).toBe(false);
    expect(s.needsResync).toBe(false);
    applyEvent(s, delta(4, "a", 5, "q"));
    expect(s.needsResync).toBe(true);
    expect(s.turns[0].replies.a.content).toBe("x");
  });

  it("replaces the view with a snapshot, partial replies included", () => {
    applyEvent(s, sync(1));
    applyEvent(s, delta(2, "a", 0, "stale"));
    applyEvent(
      s,
      sync(40, {
        history: [
          { id: 10, role: "ROLE_USER", content: "hi", state: "MESSAGE_STATE_DONE" },
          { id: 11, role: "assistant", skill: "a", turn_id: 10, content: "Hello", state: "done" },
          { id: 12, role: "user", content: "more", state: "running" },
        ],
        partials: [{ turn_id: 12, skill: "b", content: "par", delta_count: 2 }],
        status: "working",
      }),
    );
    expect(s.lastSeq).toBe(40);
    expect(s.status).toBe("working");
    expect(s.turns.map((t) => t.id)).toEqual([10, 12]);
    expect(s.turns[0].replies.a).toMatchObject({ content: "Hello", final: true });
    expect(s.turns[1].replies.b).toMatchObject({ content: "par", next: 2 });
    // The stream goes on from the snapshot without a duplicate.
    applyEvent(s, delta(41, "b", 1, "x", 12));
    applyEvent(s, delta(42, "b", 2, "tial", 12));
    expect(s.turns[1].replies.b.content).toBe("partial");
  });

  it("keeps a stored reply over a partial of it in the same snapshot", () => {
    applyEvent(
      s,
      sync(9, {
        history: [
          { id: 10, role: "user", content: "hi", state: "done" },
          { id: 11, role: "assistant", skill: "a", turn_id: 10, content: "Hello world", state: "done" },
        ],
        partials: [{ turn_id: 10, skill: "a", content: "Hello", delta_count: 1 }],
      }),
    );
    expect(s.turns[0].replies.a).toMatchObject({ content: "Hello world", final: true });
  });

  it("keeps the final message over streamed text", () => {
    applyEvent(s, sync(1));
    applyEvent(s, delta(2, "a", 0, "Hel"));
    applyEvent(s, ev("message_added", 3, { message: { id: 11, role: "assistant", skill: "a", turn_id: 10, content: "Hello!", state: "done" } }));
    applyEvent(s, delta(4, "a", 1, "lo"));
    expect(s.turns[0].replies.a.content).toBe("Hello!");
  });

  it("records errors, debug lines (bounded) and config changes", () => {
    applyEvent(s, sync(1));
    applyEvent(s, ev("error", 2, { code: "provider_error", message: "boom", turn_id: 10, skill: "a" }));
    expect(s.lastError).toMatchObject({ code: "provider_error", message: "boom" });
    expect(s.turns[0].replies.a.state).toBe("failed");
    for (let i = 0; i < MAX_LOG_LINES + 10; i++) applyEvent(s, ev("debug_log", 3 + i, { level: "LOG_LEVEL_INFO", module: "m", message: `l${i}` }));
    expect(s.logs).toHaveLength(MAX_LOG_LINES);
    expect(s.logs.at(-1)).toMatchObject({ level: "INFO", message: `l${MAX_LOG_LINES + 9}` });
    applyEvent(s, ev("config_updated", 1000, { config: { provider: "openai", api_key_set: true }, title: "new" }));
    expect(s.config.api_key_set).toBe(true);
    expect(s.title).toBe("new");
  });

  it("ignores events of another session", () => {
    applyEvent(s, sync(1));
    expect(applyEvent(s, { event: "stream_delta", seq: 2, data: { session_id: "other", turn_id: 1, skill: "a", index: 0, delta: "x" } })).toBe(false);
    expect(s.turns).toHaveLength(0);
  });

  it("shows a sent message at once and gives it its id on ack", () => {
    applyEvent(s, sync(1));
    addPendingTurn(s, "c1", "hello");
    expect(s.turns.at(-1)).toMatchObject({ pending: true, content: "hello" });
    applyEvent(s, ev("message_added", 2, { message: { id: 10, role: "user", content: "hello", state: "running" } }));
    ackPendingTurn(s, "c1", { id: 10, content: "hello", state: "running" });
    expect(s.turns).toHaveLength(1);
    expect(s.turns[0]).toMatchObject({ id: 10, content: "hello" });
  });

  it("keeps summaries apart from turns: the turns they cover are the compacted ones", () => {
    const history = [
      { id: 10, role: "user", content: "one", state: "done" },
      { id: 11, role: "assistant", skill: "a", turn_id: 10, content: "r1", state: "done" },
      { id: 12, role: "user", content: "two", state: "done" },
      { id: 13, role: "assistant", skill: "a", turn_id: 12, content: "r2", state: "done" },
    ];
    applyEvent(s, sync(1, { history }));
    expect(latestSummary(s)).toBe(null);
    applyEvent(s, ev("message_added", 2, { message: { id: 14, role: "system", kind: "summary", covers_to: 11, content: "Summary of 2 earlier messages" } }));
    expect(s.turns.map((t) => t.id)).toEqual([10, 12]); // no turn for the summary
    expect(latestSummary(s)).toEqual({ id: 14, coversTo: 11, content: "Summary of 2 earlier messages" });
    // A snapshot carries it too (the enum's full spelling).
    applyEvent(s, sync(3, { history: [...history, { id: 14, role: "ROLE_SYSTEM", kind: "MESSAGE_KIND_SUMMARY", covers_to: 11, content: "S" }] }));
    expect(latestSummary(s).coversTo).toBe(11);
    expect(s.turns.map((t) => t.id)).toEqual([10, 12]);
  });

  it("drops what a revert hid: later turns, later replies of a kept turn, later summaries", () => {
    applyEvent(s, sync(1, {
      history: [
        { id: 10, role: "ROLE_USER", content: "first", state: "MESSAGE_STATE_DONE" },
        { id: 11, role: "ROLE_ASSISTANT", turn_id: 10, skill: "a", content: "A1", state: "MESSAGE_STATE_DONE" },
        { id: 12, role: "ROLE_ASSISTANT", turn_id: 10, skill: "b", content: "B1", state: "MESSAGE_STATE_DONE" },
        { id: 13, role: "ROLE_SYSTEM", kind: "MESSAGE_KIND_SUMMARY", covers_to: 12, content: "sum" },
        { id: 14, role: "ROLE_USER", content: "second", state: "MESSAGE_STATE_DONE" },
        { id: 15, role: "ROLE_ASSISTANT", turn_id: 14, skill: "a", content: "A2", state: "MESSAGE_STATE_DONE" },
      ],
    }));
    expect(s.turns.map((t) => t.id)).toEqual([10, 14]);
    expect(applyEvent(s, ev("reverted", 2, { to_message_id: 11, messages_hidden: 4, restored: [{ canvas_id: "tab-1" }] }))).toBe(true);
    expect(s.turns.map((t) => t.id)).toEqual([10]);
    expect(columnsOf(s.turns[0], ["a", "b"]).map((r) => r.content)).toEqual(["A1"]);
    expect(s.summaries).toEqual([]);
    expect(s.logs.at(-1).message).toMatch(/reverted to message 11: 4 later message\(s\) hidden; canvas tab-1 restored/);
    // A replay of the same event changes nothing.
    expect(applyEvent(s, ev("reverted", 2, { to_message_id: 11 }))).toBe(false);
  });

  it("brings back what an un-revert restores, in order, and forgets the revert", () => {
    applyEvent(s, sync(1, {
      history: [
        { id: 10, role: "ROLE_USER", content: "first", state: "MESSAGE_STATE_DONE" },
        { id: 11, role: "ROLE_ASSISTANT", turn_id: 10, skill: "a", content: "A1", state: "MESSAGE_STATE_DONE" },
        { id: 14, role: "ROLE_USER", content: "second", state: "MESSAGE_STATE_DONE" },
        { id: 15, role: "ROLE_ASSISTANT", turn_id: 14, skill: "a", content: "A2", state: "MESSAGE_STATE_DONE" },
      ],
    }));
    expect(s.lastRevert).toBe(null);
    applyEvent(s, ev("reverted", 2, { to_message_id: 10, messages_hidden: 3 }));
    expect(s.turns.map((t) => t.id)).toEqual([10]);
    expect(s.lastRevert).toEqual({ to: 10, hidden: 3 });
    expect(applyEvent(s, ev("unreverted", 3, {
      messages: [
        { id: 11, role: "ROLE_ASSISTANT", turn_id: 10, skill: "a", content: "A1", state: "MESSAGE_STATE_DONE" },
        { id: 14, role: "ROLE_USER", content: "second", state: "MESSAGE_STATE_DONE" },
        { id: 15, role: "ROLE_ASSISTANT", turn_id: 14, skill: "a", content: "A2", state: "MESSAGE_STATE_DONE" },
      ],
    }))).toBe(true);
    expect(s.turns.map((t) => t.id)).toEqual([10, 14]);
    expect(columnsOf(s.turns[0], ["a"]).map((r) => r.content)).toEqual(["A1"]);
    expect(columnsOf(s.turns[1], ["a"]).map((r) => r.content)).toEqual(["A2"]);
    expect(s.lastRevert).toBe(null);
    expect(s.logs.at(-1).message).toBe("revert undone: 3 message(s) back");
    // A new message after a revert: nothing to undo any more.
    applyEvent(s, ev("reverted", 4, { to_message_id: 10, messages_hidden: 3 }));
    applyEvent(s, ev("message_added", 5, { message: { id: 20, role: "ROLE_USER", content: "third", state: "MESSAGE_STATE_DONE" } }));
    expect(s.lastRevert).toBe(null);
  });

  it("normalises enum spellings", () => {
    expect(shortEnum("SESSION_STATUS_WORKING", "SESSION_STATUS_")).toBe("working");
    expect(shortEnum("idle", "SESSION_STATUS_")).toBe("idle");
    expect(parseSkills(" a, b ,,c")).toEqual(["a", "b", "c"]);
  });
});

describe("connection info", () => {
  it("builds the WebSocket base from the route's answer", () => {
    expect(parseConnection({ status: "ready", bridge_url: "http://127.0.0.1:8189", token: "abc" }, { hostname: "localhost" })).toEqual({
      wsBase: "ws://localhost:8189",
      token: "abc",
      bridgeUrl: "http://localhost:8189",
    });
    expect(() => parseConnection({ status: "starting" })).toThrow(/starting/);
    expect(() => parseConnection({ status: "ready", bridge_url: "javascript:alert(1)", token: "a" })).toThrow(/scheme/);
    expect(() => parseConnection({ status: "ready", bridge_url: "http://x", token: "a b" })).toThrow(/token/);
  });

  it("carries the token as a subprotocol, or in the query when it cannot be one", () => {
    const hex = "0123456789abcdef".repeat(4);
    const conn = parseConnection({ status: "ready", bridge_url: "http://127.0.0.1:8189", token: hex });
    expect(wsUrl(conn, "/comfy/session/ws")).toBe("ws://127.0.0.1:8189/comfy/session/ws");
    expect(wsProtocols(conn)).toEqual(["comfyd", `comfyd.token.${hex}`]);
    const odd = parseConnection({ status: "ready", bridge_url: "http://127.0.0.1:8189", token: "a/b=c" });
    expect(wsUrl(odd, "/comfy/editor/ws")).toBe("ws://127.0.0.1:8189/comfy/editor/ws?token=a%2Fb%3Dc");
    expect(wsProtocols(odd)).toEqual([]);
  });

  it("backs off up to ten seconds", () => {
    expect(backoffDelay(0, () => 0.5)).toBe(500);
    expect(backoffDelay(3, () => 0.5)).toBe(4000);
    expect(backoffDelay(30, () => 0.5)).toBe(10000);
  });
});

describe("panel controller", () => {
  function setup(config = {}) {
    FakeSocket.reset();
    const saved = { session_id: "", provider: "echo", model: "", base_url: "", system_prompt: "", skills: "", ...config };
    const writes = [];
    const timers = new ManualTimers();
    const ctl = new PanelController({
      connection: fakeConnection(),
      WebSocket: FakeSocket,
      timers,
      readConfig: () => ({ ...saved }),
      writeConfig: (k, v) => {
        saved[k] = v;
        writes.push([k, v]);
      },
    });
    return { ctl, saved, writes, timers };
  }

  it("opens the session socket with the token as a subprotocol, not in the URL", async () => {
    FakeSocket.reset();
    const hex = "ab".repeat(32);
    const ctl = new PanelController({
      connection: fakeConnection(hex),
      WebSocket: FakeSocket,
      timers: new ManualTimers(),
      readConfig: () => ({ session_id: "", provider: "echo", model: "", base_url: "", system_prompt: "", skills: "" }),
      writeConfig: () => {},
    });
    ctl.start();
    await flush();
    const s = FakeSocket.last();
    expect(s.url).toBe("ws://127.0.0.1:8189/comfy/session/ws");
    expect(s.protocols).toEqual(["comfyd", `comfyd.token.${hex}`]);
  });

  async function opened(env) {
    env.ctl.start();
    await flush();
    const s = FakeSocket.last();
    s.open();
    await flush();
    return s;
  }

  const answer = (s, event, data) => {
    const req = s.sent.filter((m) => m.event === event).at(-1);
    s.receive({ event: { create: "created", list: "sessions", list_skills: "skills", configure: "configured", update_skills: "configured", user_message: "ack", cancel: "cancelled" }[event], request_id: req.request_id, data });
  };

  it("searches every session from the picker and opens a hit's session", async () => {
    const env = setup();
    const s = await opened(env);
    env.ctl.ui.searchQuery = "  heron ";
    const p = env.ctl.search();
    await flush();
    const req = s.sent.filter((m) => m.event === "search").at(-1);
    expect(req.data).toEqual({ query: "heron", limit: 20 });
    s.receive({ event: "search_results", request_id: req.request_id, data: { hits: [{ kind: "message", id: 7, session_id: "s7", session_title: "Birds", snippet: "a [heron] in mist" }] } });
    await p;
    expect(env.ctl.ui.searchHits).toEqual([{ key: "message:7", sessionId: "s7", title: "Birds", kind: "message", snippet: "a [heron] in mist" }]);
    env.ctl.openHit(env.ctl.ui.searchHits[0]);
    expect(env.ctl.ui.searchHits).toBe(null);
    expect(env.ctl.ui.form.session_id).toBe("s7");
    // A malformed query: the core's sentence, no list.
    env.ctl.ui.searchQuery = '"open';
    const p2 = env.ctl.search();
    await flush();
    const req2 = s.sent.filter((m) => m.event === "search").at(-1);
    s.receive({ event: "error", request_id: req2.request_id, data: { code: "INVALID_ARGUMENT", message: "query: unbalanced quote" } });
    await p2;
    expect(env.ctl.ui.searchHits).toBe(null);
    expect(env.ctl.ui.notice).toMatch(/^search: .*unbalanced quote/);
  });

  it("forks from a message into a new session it opens, and reverts with the canvas, offering to force after STALE_REVISION", async () => {
    const env = setup({ session_id: "s1" });
    const s = await opened(env);
    const p = env.ctl.forkFrom(11);
    await flush();
    const fk = s.sent.filter((m) => m.event === "fork").at(-1);
    expect(fk.data).toEqual({ session_id: "s1", message_id: 11 });
    s.receive({ event: "forked", request_id: fk.request_id, data: { session: { id: "s2", title: "t (fork)" }, messages_copied: 2 } });
    await flush();
    answer(s, "list", { sessions: [{ id: "s2", title: "t (fork)" }, { id: "s1", title: "t" }] });
    await p;
    expect(env.ctl.ui.form.session_id).toBe("s2");
    expect(env.saved.session_id).toBe("s2");
    expect(s.sent.filter((m) => m.event === "join").at(-1).data.session_id).toBe("s2");
    expect(env.ctl.ui.notice).toMatch(/forked into "t \(fork\)" \(2 message/);

    const r1 = env.ctl.revertTo(14, { canvas: true });
    await flush();
    const rv = s.sent.filter((m) => m.event === "revert").at(-1);
    expect(rv.data).toEqual({ session_id: "s2", message_id: 14, restore_canvas: true, force: false });
    s.receive({ event: "error", request_id: rv.request_id, data: { code: "FAILED_PRECONDITION", message: "STALE_REVISION: canvas tab-1 is at revision 9, not 7 (the session's last change) since: user moved #3 KSampler. Revert with force ..." } });
    await r1;
    expect(env.ctl.ui.staleRevert).toEqual({ messageId: 14, message: expect.stringMatching(/user moved #3 KSampler/) });
    const r2 = env.ctl.revertTo(14, { canvas: true, force: true });
    await flush();
    const rv2 = s.sent.filter((m) => m.event === "revert").at(-1);
    expect(rv2.data).toMatchObject({ message_id: 14, restore_canvas: true, force: true });
    s.receive({ event: "revert_result", request_id: rv2.request_id, data: { messages_hidden: 3, notice: "3 later message(s) hidden (kept stored); canvas restored to its checkpoint" } });
    await r2;
    expect(env.ctl.ui.staleRevert).toBe(null);
    expect(env.ctl.ui.notice).toMatch(/canvas restored/);
    // Any other refusal is a notice, not an offer to force.
    const r3 = env.ctl.revertTo(99);
    await flush();
    const rv3 = s.sent.filter((m) => m.event === "revert").at(-1);
    s.receive({ event: "error", request_id: rv3.request_id, data: { code: "NOT_FOUND", message: "message 99 not found" } });
    await r3;
    expect(env.ctl.ui.staleRevert).toBe(null);
    expect(env.ctl.ui.notice).toBe("revert: message 99 not found");
  });

  it("names a fork's parent and switches to it", async () => {
    const env = setup({ session_id: "s2" });
    const s = await opened(env);
    answer(s, "list", {
      sessions: [
        { id: "s2", title: "gulls (fork)", parent_id: "s1", fork_point: 11 },
        { id: "s1", title: "gulls" },
        { id: "s3", title: "orphan fork", parent_id: "gone" },
      ],
    });
    await flush();
    expect(env.ctl.ui.sessions[0]).toEqual({ id: "s2", title: "gulls (fork)", parentId: "s1", forkPoint: 11 });
    expect(env.ctl.forkOf()).toEqual({ id: "s1", title: "gulls", point: 11, listed: true });
    // The session as the core describes it wins (a fork made meanwhile).
    env.ctl.state.sessionId = "s2";
    env.ctl.state.session = { id: "s2", parent_id: "s1", fork_point: "12" };
    expect(env.ctl.forkOf().point).toBe(12);
    env.ctl.openParent();
    await flush();
    expect(env.ctl.ui.form.session_id).toBe("s1");
    expect(env.saved.session_id).toBe("s1");
    expect(s.sent.filter((m) => m.event === "join").at(-1).data.session_id).toBe("s1");
    expect(env.ctl.forkOf()).toBe(null); // the parent is no fork
    env.ctl.selectSession("s3");
    expect(env.ctl.forkOf()).toEqual({ id: "gone", title: "gone", point: 0, listed: false });
  });

  it("undoes a revert (unrevert) and shows the core's refusal", async () => {
    const env = setup({ session_id: "s1" });
    const s = await opened(env);
    const p = env.ctl.unrevert();
    await flush();
    const un = s.sent.filter((m) => m.event === "unrevert").at(-1);
    expect(un.data).toEqual({ session_id: "s1" });
    s.receive({ event: "unrevert_result", request_id: un.request_id, data: { messages_restored: 2, notice: "2 message(s) the revert hid are back" } });
    await p;
    expect(env.ctl.ui.notice).toMatch(/are back/);
    env.ctl.state.lastRevert = { to: 3, hidden: 2 };
    const p2 = env.ctl.unrevert();
    await flush();
    const un2 = s.sent.filter((m) => m.event === "unrevert").at(-1);
    s.receive({ event: "error", request_id: un2.request_id, data: { code: "FAILED_PRECONDITION", message: "the revert cannot be undone: session s1 was compacted since" } });
    await p2;
    expect(env.ctl.ui.notice).toBe("undo revert: the revert cannot be undone: session s1 was compacted since");
    expect(env.ctl.state.lastRevert).toBe(null);
  });

  it("lists skills and sessions when connected", async () => {
    const env = setup();
    const s = await opened(env);
    answer(s, "list_skills", { skills: [{ name: "prompt-writer", description: "d" }, { name: "workflow-builder" }] });
    answer(s, "list", { sessions: [{ id: "s9", title: "old" }] });
    await flush();
    expect(env.ctl.ui.skills.map((k) => k.name)).toEqual(["prompt-writer", "workflow-builder"]);
    expect(env.ctl.ui.sessions).toEqual([{ id: "s9", title: "old", parentId: "", forkPoint: 0 }]);
    expect(env.ctl.ui.connected).toBe(true);
  });

  it("creates a session with the form's config, sends the key to the core only, and joins", async () => {
    const env = setup({ model: "m1", skills: "a,b" });
    const s = await opened(env);
    env.ctl.ui.apiKey = "sk-secret";
    const p = env.ctl.createSession("demo");
    await flush();
    const [req] = s.ofType("create");
    expect(req.data).toMatchObject({ title: "demo", api_key: "sk-secret", config: { provider: "echo", model: "m1", active_skills: ["a", "b"] } });
    answer(s, "create", { session: { id: "s1" } });
    await flush();
    answer(s, "list", { sessions: [] });
    await p;
    expect(env.ctl.ui.apiKey).toBe("");
    expect(env.saved.session_id).toBe("s1");
    expect(JSON.stringify(env.writes)).not.toContain("sk-secret");
    expect(s.ofType("join").at(-1).data).toEqual({ session_id: "s1", last_seq: 0 });
  });

  it("sends settings and messages made while a session is being created to the new session", async () => {
    const env = setup({ session_id: "s0" });
    const s = await opened(env);
    env.ctl.ui.skills = [{ name: "a" }, { name: "b" }];
    const p = env.ctl.createSession("new");
    await flush();
    // The user picks a provider and a skill, and sends, before the core answers.
    env.ctl.ui.form.provider = "openai";
    env.ctl.ui.form.model = "m2";
    env.ctl.saveConfig();
    env.ctl.toggleSkill("b", true);
    env.ctl.ui.draft = "hello";
    env.ctl.send();
    await flush();
    expect(s.ofType("configure")).toEqual([]);
    expect(s.ofType("update_skills")).toEqual([]);
    expect(s.ofType("user_message")).toEqual([]);
    answer(s, "create", { session: { id: "s1" } });
    await flush();
    answer(s, "list", { sessions: [] });
    await p;
    await flush();
    expect(s.ofType("configure").at(-1).data).toMatchObject({ session_id: "s1", provider: "openai", model: "m2" });
    answer(s, "configure", {});
    await flush();
    expect(s.ofType("update_skills").at(-1).data).toEqual({ session_id: "s1", skills: ["b"] });
    answer(s, "update_skills", {});
    await flush();
    expect(s.ofType("user_message").at(-1).data).toMatchObject({ session_id: "s1", content: "hello" });
  });

  it("sends settings changes one at a time, each with the form as it is then", async () => {
    const env = setup({ session_id: "s1" });
    const s = await opened(env);
    // Three quick edits: the bridge may apply requests in flight together
    // in any order, so the second waits for the first's answer and carries
    // every edit made meanwhile.
    env.ctl.ui.form.provider = "openai";
    env.ctl.saveConfig();
    await flush();
    env.ctl.ui.form.model = "m";
    env.ctl.saveConfig();
    env.ctl.ui.form.base_url = "http://127.0.0.1:9/v1";
    env.ctl.saveConfig();
    await flush();
    expect(s.ofType("configure").map((m) => [m.data.provider, m.data.model])).toEqual([["openai", ""]]);
    answer(s, "configure", {});
    await flush();
    expect(s.ofType("configure")).toHaveLength(2);
    expect(s.ofType("configure").at(-1).data).toMatchObject({ provider: "openai", model: "m", base_url: "http://127.0.0.1:9/v1" });
  });

  it("keeps a field the user is editing when the core echoes an older configure", async () => {
    const env = setup({ session_id: "s1" });
    const s = await opened(env);
    s.receive(sync(1));
    await flush();
    env.ctl.ui.form.model = "m";
    env.ctl.saveConfig();
    await flush();
    // The user types a URL (not saved yet: no change event) while the
    // model's configure is answered with the session as it is then.
    env.ctl.ui.form.base_url = "http://127.0.0.1:9/v1";
    s.receive(ev("config_updated", 2, { config: { provider: "echo", model: "m", base_url: "", active_skills: ["a", "b"] } }));
    answer(s, "configure", {});
    await flush();
    expect(env.ctl.ui.form.base_url).toBe("http://127.0.0.1:9/v1");
    env.ctl.saveConfig();
    await flush();
    expect(s.ofType("configure").at(-1).data).toMatchObject({ model: "m", base_url: "http://127.0.0.1:9/v1" });
    // Another tab's change of a field not being edited still shows.
    s.receive(ev("config_updated", 3, { config: { provider: "echo", model: "m", base_url: "http://127.0.0.1:9/v1", system_prompt: "be brief", active_skills: ["a", "b"] } }));
    await flush();
    expect(env.ctl.ui.form.system_prompt).toBe("be brief");
  });

  it("keeps settings typed while a session is being created over the new session's first snapshot", async () => {
    const env = setup({ session_id: "s0" });
    const s = await opened(env);
    const p = env.ctl.createSession("new");
    await flush();
    env.ctl.ui.form.provider = "openai";
    env.ctl.saveConfig();
    answer(s, "create", { session: { id: "s1" } });
    await flush();
    // The new session's snapshot: the config it was created with.
    s.receive({ event: "sync_state", seq: 1, data: { session_id: "s1", session: { id: "s1", title: "t", status: "idle", config: { provider: "echo", active_skills: [] } }, history: [], partials: [], status: "idle" } });
    answer(s, "list", { sessions: [] });
    await p;
    await flush();
    expect(env.ctl.ui.form.provider).toBe("openai");
    expect(s.ofType("configure").at(-1).data).toMatchObject({ session_id: "s1", provider: "openai" });
  });

  it("saves config and skills into the widgets and the core", async () => {
    const env = setup({ session_id: "s1" });
    const s = await opened(env);
    env.ctl.ui.skills = [{ name: "a" }, { name: "b" }, { name: "c" }];
    env.ctl.toggleSkill("c", true);
    env.ctl.toggleSkill("a", true);
    await flush();
    expect(env.saved.skills).toBe("a,c");
    answer(s, "update_skills", {});
    await flush();
    expect(s.ofType("update_skills").at(-1).data).toEqual({ session_id: "s1", skills: ["a", "c"] });
    answer(s, "update_skills", {});
    env.ctl.ui.form.model = "llama3";
    env.ctl.saveConfig();
    await flush();
    expect(env.saved.model).toBe("llama3");
    expect(s.ofType("configure").at(-1).data).toMatchObject({ session_id: "s1", model: "llama3", provider: "echo" });
    answer(s, "configure", {});
    env.ctl.ui.apiKey = "sk-2";
    env.ctl.setApiKey();
    await flush();
    expect(s.ofType("configure").at(-1).data).toEqual({ session_id: "s1", api_key: "sk-2" });
    expect(JSON.stringify(env.saved)).not.toContain("sk-2");
  });

  it("uploads attached files, refuses what the core would, and sends the references", async () => {
    const env = setup({ session_id: "s1" });
    const posts = [];
    env.ctl.d.postBytes = async (route, body, type) => {
      posts.push([route, type, body.name]);
      return { attachment: { sha256: (body.name === "cat.png" ? "a" : "b").repeat(64), mime_type: type, name: body.name } };
    };
    const s = await opened(env);
    const file = (name, type, size = 10) => new File([new Uint8Array(size)], name, { type });
    await env.ctl.addFiles([file("cat.png", "image/png"), file("notes.md", ""), file("doc.pdf", "application/pdf"), file("huge.png", "image/png", (3 << 20) + 1)]);
    expect(env.ctl.ui.attachments.map((c) => [c.name, c.state])).toEqual([
      ["cat.png", "ready"],
      ["notes.md", "ready"],
      ["doc.pdf", "failed"],
      ["huge.png", "failed"],
    ]);
    // Only accepted files were uploaded; a Markdown file without a type is sent as one.
    expect(posts).toEqual([
      ["/comfyd/attachments?name=cat.png", "image/png", "cat.png"],
      ["/comfyd/attachments?name=notes.md", "text/markdown", "notes.md"],
    ]);
    expect(env.ctl.ui.attachments[2].error).toContain("not accepted");
    // A message of files alone is sent; the chips are cleared.
    env.ctl.send();
    await flush();
    const sent = s.ofType("user_message").at(-1).data;
    expect(sent.content).toBe("");
    expect(sent.attachments).toEqual([
      { sha256: "a".repeat(64), name: "cat.png", mime_type: "image/png" },
      { sha256: "b".repeat(64), name: "notes.md", mime_type: "text/markdown" },
    ]);
    expect(env.ctl.ui.attachments).toEqual([]);
    expect(env.ctl.state.turns.at(-1).attachments.map((a) => a.name)).toEqual(["cat.png", "notes.md"]);
    expect(env.ctl.attachmentUrl("a".repeat(64))).toBe(`/api/comfyd/attachments/${"a".repeat(64)}`);
  });

  it("sends a message with a client id and rejoins with the last seq after a reconnect", async () => {
    const env = setup({ session_id: "s1" });
    const s = await opened(env);
    expect(s.ofType("join")[0].data).toEqual({ session_id: "s1", last_seq: 0 });
    s.receive(sync(5));
    s.receive(delta(6, "a", 0, "x"));
    env.ctl.ui.draft = "hello";
    const p = env.ctl.send();
    await flush();
    const [m] = s.ofType("user_message");
    expect(m.data).toMatchObject({ session_id: "s1", content: "hello" });
    expect(m.data.client_message_id).toMatch(/^panel-/);
    answer(s, "user_message", { message: { id: 12, role: "user", content: "hello" }, queued: false });
    await p;
    expect(env.ctl.state.turns.map((t) => t.id)).toContain(12);
    s.drop(1012);
    env.timers.advance(20000);
    await flush();
    const s2 = FakeSocket.last();
    expect(s2).not.toBe(s);
    s2.open();
    expect(s2.ofType("join")[0].data).toEqual({ session_id: "s1", last_seq: 6 });
  });

  const joinError = (s, code, message) => s.receive({ event: "error", request_id: s.ofType("join").at(-1).request_id, data: { code, message } });
  const fail = (s, event, code, message) => {
    const req = s.sent.filter((m) => m.event === event).at(-1);
    s.receive({ event: "error", request_id: req.request_id, data: { code, message } });
  };

  it("shows a core outage, probes with backoff, rejoins from the last seq and sends what was written meanwhile", async () => {
    const env = setup({ session_id: "s1", skills: "a" });
    const s = await opened(env);
    s.receive(sync(5));
    s.receive(delta(6, "a", 0, "x"));
    expect(env.ctl.ui.outage).toBe("");
    // comfyd crashed: the bridge ends the session's stream.
    joinError(s, "UNAVAILABLE", "core unavailable: failed to connect to all addresses");
    expect(env.ctl.ui.outage).toMatch(/core unavailable/);
    expect(env.ctl.state.lastError).toBeNull(); // an outage, not an error of the session

    // A message written now waits, visibly, instead of failing.
    env.ctl.ui.draft = "still there?";
    await env.ctl.send();
    expect(s.ofType("user_message")).toHaveLength(0);
    const waiting = env.ctl.state.turns.find((t) => t.pending);
    expect(waiting.state).toBe("waiting");

    // Probes with growing delays while the core is away.
    const probesAt = [];
    for (let i = 0; i < 4; i++) {
      const before = s.ofType("list").length;
      const t0 = env.timers.now();
      while (s.ofType("list").length === before && env.timers.now() - t0 < 30000) env.timers.advance(100);
      expect(s.ofType("list").length).toBe(before + 1);
      probesAt.push(env.timers.now() - t0);
      fail(s, "list", "UNAVAILABLE", "core unavailable: failed to connect to all addresses");
      await flush();
      expect(env.ctl.ui.outage).not.toBe("");
    }
    expect(probesAt[3]).toBeGreaterThan(probesAt[0]);
    expect(s.ofType("join")).toHaveLength(1);

    // The core is back: the next probe is answered.
    env.timers.advance(20000);
    answer(s, "list", { sessions: [{ id: "s1", title: "t" }] });
    await flush();
    expect(env.ctl.ui.outage).toBe("");
    expect(s.ofType("join").at(-1).data).toEqual({ session_id: "s1", last_seq: 6 });
    const [m] = s.ofType("user_message");
    expect(m.data).toMatchObject({ session_id: "s1", content: "still there?", client_message_id: waiting.clientId });
    // The snapshot after the restart keeps the message that is still on its way.
    // (A restarted core numbers its events above everything handed out.)
    s.receive(sync(1000, { history: [{ id: 3, role: "ROLE_USER", content: "before" }] }));
    expect(env.ctl.state.turns.map((t) => t.content)).toEqual(["before", "still there?"]);
    answer(s, "user_message", { message: { id: 12, role: "user", content: "still there?" } });
    await flush();
    s.receive(ev("message_added", 1001, { message: { id: 13, turn_id: 12, role: "ROLE_ASSISTANT", skill: "a", content: "yes", state: "MESSAGE_STATE_DONE" } }));
    const t = env.ctl.state.turns.find((x) => x.id === 12);
    expect(t.replies.a.content).toBe("yes");
    expect(env.ctl.state.turns.some((x) => x.pending)).toBe(false);
  });

  it("after the bridge closes the socket for a core restart, reconnects and keeps the outage until the core answers", async () => {
    const env = setup({ session_id: "s1" });
    const s = await opened(env);
    s.receive(sync(5));
    joinError(s, "UNAVAILABLE", "core unavailable: the session's event stream ended");
    s.drop(1012);
    await flush();
    env.timers.advance(20000);
    await flush();
    const s2 = FakeSocket.last();
    expect(s2).not.toBe(s);
    s2.open();
    await flush();
    expect(s2.ofType("join")[0].data).toEqual({ session_id: "s1", last_seq: 5 });
    expect(env.ctl.ui.outage).not.toBe("");
    // Still down: the join fails again, the listing too, and no notice
    // hides the outage.
    joinError(s2, "UNAVAILABLE", "failed to connect to all addresses");
    fail(s2, "list", "UNAVAILABLE", "core unavailable: failed to connect to all addresses");
    fail(s2, "list_skills", "UNAVAILABLE", "core unavailable: failed to connect to all addresses");
    await flush();
    expect(env.ctl.ui.notice).toBe("");
    expect(env.ctl.ui.outage).not.toBe("");
    // A message in flight when the socket went away is sent again (same
    // client id) instead of being shown as failed.
    env.ctl.ui.draft = "hello";
    const p = env.ctl.send();
    await flush();
    expect(s2.ofType("user_message")).toHaveLength(0);
    await p;
    // Back: the stream itself answers the join.
    env.timers.advance(20000);
    await flush();
    answer(s2, "list", { sessions: [] });
    await flush();
    expect(env.ctl.ui.outage).toBe("");
    expect(s2.ofType("join").at(-1).data).toEqual({ session_id: "s1", last_seq: 5 });
    expect(s2.ofType("user_message").map((m) => m.data.content)).toEqual(["hello"]);
  });

  it("reports why comfyd cannot be reached while offline", async () => {
    FakeSocket.reset();
    const timers = new ManualTimers();
    const reasons = ["comfyd-bridge not found: build the checkout: run `scripts/setup.sh && scripts/build.sh`"];
    const ctl = new PanelController({
      connection: {
        async get() {
          throw new Error(reasons[0]);
        },
        invalidate() {},
      },
      WebSocket: FakeSocket,
      timers,
      readConfig: () => ({}),
      writeConfig: () => {},
    });
    ctl.start();
    await flush();
    expect(ctl.ui.connected).toBe(false);
    expect(ctl.ui.offlineReason).toBe(reasons[0]);
    ctl.stop();
  });

  it("does not retry a join the core refused for good", async () => {
    const env = setup({ session_id: "gone" });
    const s = await opened(env);
    answer(s, "list_skills", { skills: [] });
    answer(s, "list", { sessions: [] });
    joinError(s, "NOT_FOUND", "session gone not found");
    expect(env.ctl.ui.outage).toBe("");
    expect(env.ctl.state.lastError).toMatchObject({ code: "NOT_FOUND" });
    env.timers.advance(60000);
    expect(s.ofType("list")).toHaveLength(1); // only the listing at connect
  });

  it("ticks the workflow builder for a new panel, not over a saved choice", async () => {
    const env = setup();
    const s = await opened(env);
    answer(s, "list_skills", { skills: [{ name: "prompt-writer" }, { name: DEFAULT_SKILL }] });
    await flush();
    expect(env.ctl.ui.form.skills).toEqual([DEFAULT_SKILL]);
    expect(env.saved.skills).toBe(DEFAULT_SKILL);
    const p = env.ctl.createSession("first");
    await flush();
    expect(s.ofType("create")[0].data.config.active_skills).toEqual([DEFAULT_SKILL]);
    answer(s, "create", { session: { id: "s1" } });
    await flush();
    answer(s, "list", { sessions: [{ id: "s1", title: "first" }] });
    await p;

    // Unticked by the user before a session exists: stays unticked when
    // the skills are listed again (a reconnect).
    const env3 = setup();
    const s3 = await opened(env3);
    answer(s3, "list_skills", { skills: [{ name: DEFAULT_SKILL }] });
    await flush();
    env3.ctl.toggleSkill(DEFAULT_SKILL, false);
    const again = env3.ctl.refreshSkills();
    await flush();
    answer(s3, "list_skills", { skills: [{ name: DEFAULT_SKILL }] });
    await again;
    expect(env3.ctl.ui.form.skills).toEqual([]);

    const env2 = setup({ skills: "prompt-writer" });
    const s2 = await opened(env2);
    answer(s2, "list_skills", { skills: [{ name: "prompt-writer" }, { name: DEFAULT_SKILL }] });
    await flush();
    expect(env2.ctl.ui.form.skills).toEqual(["prompt-writer"]);
  });

  it("follows a session change made by reloading the workflow", async () => {
    const env = setup({ session_id: "s1" });
    const s = await opened(env);
    env.saved.session_id = "s2";
    env.ctl.reloadConfig();
    expect(s.ofType("join").at(-1).data).toEqual({ session_id: "s2", last_seq: 0 });
  });
});

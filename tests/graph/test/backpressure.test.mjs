// A panel that stops reading its session socket during an unpaced flood
// (the echo provider with no delay, long replies), then reads slowly: the
// bridge holds the session's stream back at the reader's pace instead of
// closing the socket with 1008 (as it did once 4 MiB were queued for it),
// resubscribes on its own from the last seq it queued when the core drops
// the subscription as too slow, and its memory stays bounded. The reader
// gets every event in seq order; a gap only right after a sync_state (a
// snapshot that replaces the panel's state: the clean resume when the core
// can no longer replay what was missed).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe } from "node:test";
import { useStack, itWithLogs } from "../lib/harness.mjs";
import { openWs } from "../lib/clients.mjs";
import { sleep, waitFor } from "../lib/stack.mjs";

// The flood: TURNS replies of about WORDS words each (~120k events, ~25 MB
// of JSON): more than the kernel's socket buffers (~3 MB for a reader that
// never read much) plus the bridge's 4 MiB hard limit, and more than gRPC's
// buffers plus the core's queue for one subscriber (8192 events), so the
// core drops the subscription once and the bridge resubscribes.
const TURNS = 60;
const WORDS = 2500;
// The slow reader, once the flood is over: about READ_BYTES per WINDOW_MS
// (the socket is paused once they arrived; what it buffered still comes).
const READ_BYTES = 64 * 1024;
const WINDOW_MS = 50;
// Hang guard for each phase, not a performance limit.
const GUARD_MS = 120000;
// The bridge's resident memory may grow by at most this (its queue per
// socket is 256 KiB plus a few stream messages; gRPC's buffers and the
// snapshot take the rest). Under a wrapper such as valgrind, whose
// bookkeeping keeps freed blocks, it is only a hang guard.
const RSS_BOUND_KIB = (process.env.COMFYD_IT_WRAPPER ? 256 : 48) * 1024;

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : 0;
}

describe("session socket back-pressure", () => {
  const h = useStack({ logLevel: "info" });
  const it = itWithLogs(h);

  it("a stalled, then slow reader of an unpaced flood: every event in order, no 1008, bounded RSS", async () => {
    const s = h.stack;
    const control = await openWs(s, "/comfy/session/ws");
    const answers = new Map();
    control.on("message", (d) => {
      const m = JSON.parse(d.toString());
      if (m.request_id && answers.has(m.request_id)) answers.get(m.request_id)(m);
    });
    let nextId = 0;
    const ask = (ws, event, data) =>
      new Promise((resolve, reject) => {
        const id = `bp${++nextId}`;
        const t = setTimeout(() => reject(new Error(`no answer to ${event}`)), 20000);
        answers.set(id, (m) => {
          clearTimeout(t);
          answers.delete(id);
          resolve(m);
        });
        ws.send(JSON.stringify({ event, request_id: id, data }));
      });
    const created = await ask(control, "create", {
      title: "back-pressure",
      config: { provider: "echo", active_skills: ["prompt-writer"] },
    });
    assert.notEqual(created.event, "error", JSON.stringify(created));
    const sid = created.data?.session?.id;
    assert.ok(sid, JSON.stringify(created));

    // The reader joins and gets its snapshot first.
    const reader = await openWs(s, "/comfy/session/ws");
    const events = [];
    let closed = null;
    let bytes = 0;
    let windowBytes = 0;
    let throttled = false;
    reader.on("message", (d) => {
      bytes += d.length;
      const m = JSON.parse(d.toString());
      if (m.request_id && answers.has(m.request_id)) return answers.get(m.request_id)(m);
      events.push(m);
      windowBytes += d.length;
      if (throttled && windowBytes >= READ_BYTES) reader.pause();
    });
    reader.on("close", (code, reason) => {
      closed = { code, reason: reason.toString() };
    });
    reader.send(JSON.stringify({ event: "join", data: { session_id: sid } }));
    await waitFor(() => events.some((e) => e.event === "sync_state"), 20000, "the join's sync_state");

    const pid = s.bridge.child.pid;
    const rss0 = rssKiB(pid);
    let rssMax = rss0;
    const corePid = s.core.child.pid;
    const coreRss0 = rssKiB(corePid);
    let coreRssMax = coreRss0;
    const sampler = setInterval(() => {
      rssMax = Math.max(rssMax, rssKiB(pid));
      coreRssMax = Math.max(coreRssMax, rssKiB(corePid));
    }, 50);

    // 1. The tab stops reading; the flood runs to its end.
    reader.pause();
    const content = Array.from({ length: WORDS }, (_, i) => `word${i}`).join(" ");
    const t0 = Date.now();
    for (let m = 0; m < TURNS; m++) {
      const ack = await ask(control, "user_message", { session_id: sid, content, client_message_id: `bp-${m}` });
      assert.notEqual(ack.event, "error", `user_message ${m}: ${JSON.stringify(ack)}`);
    }
    let info;
    await waitFor(
      async () => {
        const r = await ask(control, "list", {});
        info = r.data?.sessions?.find((x) => x.id === sid);
        return info && info.status === "idle" && info.queued_turns === 0 && info.message_count >= 2 * TURNS;
      },
      GUARD_MS,
      "the flood's end",
    );
    const produced = Date.now() - t0;
    const rssStalled = rssMax;

    // 2. It reads again, slowly, until it knows every reply (from
    // message_added events, or from a later snapshot's history).
    throttled = true;
    let reading = true;
    const throttle = (async () => {
      while (reading) {
        await sleep(WINDOW_MS);
        windowBytes = 0;
        reader.resume();
      }
      throttled = false;
      reader.resume();
    })();
    reader.resume();
    const replies = () => {
      let n = 0;
      for (const e of events) {
        if (e.event === "message_added" && e.data?.message?.role === "assistant") n++;
        if (e.event === "sync_state") n = (e.data?.history ?? []).filter((x) => x.role === "assistant").length;
      }
      return n;
    };
    const lastSeq = () => events.reduce((m, e) => (e.seq !== undefined && e.seq > m ? e.seq : m), 0);
    try {
      await waitFor(
        () => closed !== null || (replies() >= TURNS && lastSeq() >= Number(info.last_seq)),
        GUARD_MS,
        `all ${TURNS} replies read up to seq ${info?.last_seq}`,
      );
    } finally {
      reading = false;
      await throttle;
      clearInterval(sampler);
    }
    const ms = Date.now() - t0;
    const rss1 = rssKiB(pid);

    // Not closed (no 1008): the bridge held the stream back.
    const lastError = events.filter((e) => e.event === "error").pop();
    assert.equal(closed, null, `the socket was closed: ${JSON.stringify(closed)}, after ${JSON.stringify(lastError)}`);
    assert.equal(replies(), TURNS);
    assert.equal(lastSeq(), Number(info.last_seq));

    // In seq order, contiguous except right after a snapshot.
    const snapshots = [];
    for (let i = 1; i < events.length; i++) {
      const a = events[i - 1];
      const b = events[i];
      if (b.event === "sync_state") {
        snapshots.push(b.data.reason);
        assert.ok(b.seq >= a.seq, `snapshot seq ${b.seq} after ${a.seq}`);
        continue;
      }
      assert.equal(b.seq, a.seq + 1, `event ${i} (${b.event}) has seq ${b.seq} after ${a.seq}`);
    }

    // Every reply whose deltas were all seen (no snapshot inside its turn)
    // is exactly the concatenation of its deltas, in index order.
    const turns = new Map();
    let complete = 0;
    for (const e of events) {
      if (e.event === "sync_state") {
        turns.clear();
      } else if (e.event === "stream_delta") {
        const t = turns.get(e.data.turn_id) ?? { text: "", next: 0, whole: e.data.index === 0 };
        if (t.whole) {
          assert.equal(e.data.index, t.next, `turn ${e.data.turn_id}: delta index`);
          t.next++;
          t.text += e.data.delta;
        }
        turns.set(e.data.turn_id, t);
      } else if (e.event === "message_added" && e.data?.message?.role === "assistant") {
        const t = turns.get(e.data.message.turn_id);
        if (t?.whole) {
          assert.equal(t.text, e.data.message.content, `turn ${e.data.message.turn_id}: deltas = reply`);
          complete++;
        }
      }
    }
    const deltas = events.filter((e) => e.event === "stream_delta").length;
    const resumes = (s.bridge.log().match(/resubscribing/g) ?? []).length;
    console.log(
      `back-pressure: flood of ${info.last_seq} events produced in ${produced} ms; the reader got ` +
        `${events.length} events (${deltas} stream_delta, ${(bytes / 1048576).toFixed(1)} MiB) in ${ms} ms, ` +
        `${complete}/${TURNS} replies checked delta by delta, snapshots after the join: ` +
        `[${snapshots.join(", ")}], ` +
        `${resumes} resubscriptions by the bridge; bridge RSS ${rss0} KiB before, ${rssStalled} KiB max while ` +
        `stalled, ${rssMax} KiB max, ${rss1} KiB after (comfyd: ${coreRss0} KiB before, max ${coreRssMax} KiB)`,
    );
    assert.ok(complete >= 1, "at least one reply was checked delta by delta");
    assert.ok(resumes >= 1, "the core dropped the stalled subscriber and the bridge resubscribed");
    assert.ok(snapshots.length <= resumes, "snapshots after the join come from resubscriptions");
    assert.ok(rssMax - rss0 < RSS_BOUND_KIB, `bridge RSS grew by ${rssMax - rss0} KiB`);

    // The socket still works: a request is answered.
    const after = await ask(reader, "list", {});
    assert.equal(after.event, "sessions", JSON.stringify(after).slice(0, 300));
    reader.close();
    control.close();
  });
});

// A WebSocket peer that asks for a lot and stops reading: the bridge holds
// its answers back and stops reading from it, so its pongs go unseen; after
// two ping intervals (30 s each) without a byte either way it is dropped,
// and it gets a close frame with code and reason (1008 "no answer to
// ping ...") before the TCP connection ends, also when it resumes reading
// only some seconds later (past the 2 s close linger): a peer is never cut
// off without being told why. Takes about 70 s.

import assert from "node:assert/strict";
import { describe } from "node:test";
import { useStack, itWithLogs, expectGraphOk } from "../lib/harness.mjs";
import { post, rawWebSocket, wsFrame } from "../lib/clients.mjs";
import { txt2imgCommands } from "../lib/graph.mjs";
import { sleep, waitFor } from "../lib/stack.mjs";

const CANVAS = "tab-slow";
// Requests sent without reading: their answers (a few KiB each) pass the
// bridge's 4 MiB send queue plus what the kernel buffers hold.
const REQUESTS = 4000;
// How long the peer goes on not reading once it was dropped: longer than
// the bridge's 2 s close linger.
const STALL_MS = 3500;
// Two ping intervals and then some.
const DROP_GUARD_MS = 80000;
const GUARD_MS = 30000;

describe("slow WebSocket reader", () => {
  const h = useStack({ logLevel: "info" });
  const it = itWithLogs(h);

  it("setup: a canvas with the txt2img workflow", async () => {
    await h.stack.editor({ canvasId: CANVAS });
    expectGraphOk(await post(h.stack, "/comfy/graph/batch", { canvas_id: CANVAS, commands: txt2imgCommands() }));
  });

  it("is dropped with a close frame carrying code and reason, read after a stall", { timeout: 150000 }, async () => {
    const ws = await rawWebSocket(h.stack, "/comfy/graph/ws");
    ws.sock.pause();
    const frames = [];
    for (let i = 0; i < REQUESTS; i++) {
      frames.push(wsFrame(1, JSON.stringify({ request_id: i, type: "get_graph", canvas_id: CANVAS, include_workflow: true })));
    }
    ws.sock.write(Buffer.concat(frames));
    // The bridge gives up on the socket (its log says so) while the peer
    // still does not read; without that line, the same time has passed.
    await waitFor(() => /dropped: no answer to ping/.test(h.stack.bridge.log()), DROP_GUARD_MS, "drop").catch(() => {});
    await sleep(STALL_MS);
    ws.sock.resume();
    await waitFor(() => ws.closed || ws.frames.some((f) => f.op === 8), GUARD_MS, "close frame or end");
    await waitFor(() => ws.closed || ws.frames.some((f) => f.op === 8), 2000, "settle").catch(() => {});
    const close = ws.frames.find((f) => f.op === 8);
    const answers = ws.frames.filter((f) => f.op === 1).length;
    assert.ok(close, `no close frame before the connection ended (${answers} answers read)`);
    assert.ok([1008, 1013].includes(close.code), `close code ${close.code}`);
    const reason = close.payload.slice(2).toString("utf8");
    assert.match(reason, /\S/, "the close frame carries a reason");
    ws.sock.destroy();
  });
});

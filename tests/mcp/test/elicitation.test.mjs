// Preview before apply through the MCP client: the official TypeScript SDK
// declares the elicitation capability, and an apply_patch with apply_mode
// "preview" asks it (elicitation/create on the call's event stream)
// instead of the tab. Accept applies the patch (validated again, one patch
// to the tab); decline is a result with outcome "rejected"; no answer in
// time is "timed_out"; nothing is applied unless accepted. A client without
// elicitation gets the tab asked.

import assert from "node:assert/strict";
import { describe } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { useStack, itWithLogs } from "../../graph/lib/harness.mjs";
import { httpClient, call, mcpUrl } from "../lib/mcp.mjs";

const CANVAS = "tab-1:mcp-elicit";
const TAB_CANVAS = "tab-2:mcp-elicit-tab";

describe("preview before apply through MCP elicitation", () => {
  const h = useStack();
  const it = itWithLogs(h);
  let ed, tabEd, client;
  // What the client answers next: a function of the elicitation request.
  let answer = () => ({ action: "accept", content: { apply: true } });
  const asked = [];

  it("a client that declares elicitation connects; its tab cannot show previews", async () => {
    ed = await h.stack.editor({ canvasId: CANVAS, title: "elicit" });
    const transport = new StreamableHTTPClientTransport(mcpUrl(h.stack), {
      requestInit: { headers: { authorization: `Bearer ${h.stack.token}` } },
    });
    client = new Client({ name: "elicit-tests", version: "1.0.0" }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params);
      return answer(req.params);
    });
    await client.connect(transport);
  });

  it("accepted in the client: applied as one patch, the result says accepted by mcp", async () => {
    const np = ed.patches.length;
    answer = () => ({ action: "accept", content: { apply: true } });
    const r = await call(client, "apply_patch", {
      canvas_id: CANVAS,
      apply_mode: "preview",
      commands: [{ type: "create_node", node_type: "EmptyLatentImage", ref: "lat", x: 0, y: 0 }],
    });
    assert.equal(r.isError, false, r.text);
    assert.equal(r.data.ok, true, r.text);
    assert.deepEqual({ outcome: r.data.preview.outcome, by: r.data.preview.decided_by }, { outcome: "accepted", by: "mcp" });
    assert.ok(Number(r.data.refs.lat) > 0);
    assert.equal(asked.length, 1);
    assert.match(asked[0].message, /elicit-tests wants to apply 1 command\(s\) to the canvas "tab-1:mcp-elicit"/);
    assert.match(asked[0].message, /create_node EmptyLatentImage/);
    assert.equal(asked[0].requestedSchema.properties.apply.type, "boolean");
    assert.equal(ed.patches.length, np + 1, "one patch reached the tab");
    assert.equal(ed.serialize().nodes.length, 1);
  });

  it("declined in the client: nothing applied, the result says rejected (not an error)", async () => {
    const np = ed.patches.length;
    answer = () => ({ action: "decline" });
    const r = await call(client, "apply_patch", { canvas_id: CANVAS, apply_mode: "preview", commands: [{ type: "clear_graph" }] });
    assert.equal(r.isError, false, r.text);
    assert.equal(r.data.ok, false);
    assert.equal(r.data.preview.outcome, "rejected");
    assert.match(asked.at(-1).message, /1 of them remove work/);
    assert.equal(ed.patches.length, np);
    assert.equal(ed.serialize().nodes.length, 1);
  });

  it("no answer within preview_timeout_ms: timed_out, nothing applied", async () => {
    const np = ed.patches.length;
    answer = () => new Promise((resolve) => setTimeout(() => resolve({ action: "accept", content: { apply: true } }), 3500));
    const t0 = Date.now();
    const r = await call(client, "apply_patch", {
      canvas_id: CANVAS,
      apply_mode: "preview",
      preview_timeout_ms: 1500,
      commands: [{ type: "clear_graph" }],
    });
    assert.equal(r.isError, false, r.text);
    assert.equal(r.data.preview.outcome, "timed_out");
    assert.ok(Date.now() - t0 >= 1400);
    // The late accept changes nothing.
    await new Promise((res) => setTimeout(res, 2500));
    assert.equal(ed.patches.length, np);
    assert.equal(ed.serialize().nodes.length, 1);
  });

  it("an invalid patch is refused at once, the client is not asked", async () => {
    const n = asked.length;
    const r = await call(client, "apply_patch", { canvas_id: CANVAS, apply_mode: "preview", commands: [{ type: "create_node", node_type: "NoSuchNode" }] });
    assert.equal(r.isError, true);
    assert.equal(r.data.errors[0].code, "UNKNOWN_NODE_TYPE");
    assert.equal(asked.length, n);
  });

  it("a client without elicitation: the tab is asked instead", async () => {
    tabEd = await h.stack.editor({ canvasId: TAB_CANVAS, title: "tab asks", preview: "accept" });
    const { client: plain } = await httpClient(h.stack, { name: "no-elicitation" });
    const n = asked.length;
    const r = await call(plain, "apply_patch", {
      canvas_id: TAB_CANVAS,
      apply_mode: "preview",
      commands: [{ type: "create_node", node_type: "EmptyLatentImage", x: 0, y: 0 }],
    });
    assert.equal(r.isError, false, r.text);
    assert.equal(r.data.preview.outcome, "accepted");
    assert.equal(r.data.preview.decided_by, "tab");
    assert.equal(tabEd.previews.length, 1);
    assert.equal(asked.length, n);
    await plain.close();
  });
});

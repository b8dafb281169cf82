// Helpers of the MCP tests: official-SDK clients on the bridge's /mcp
// (Streamable HTTP) and on comfyd-mcp (stdio), raw POSTs for what no SDK
// sends, and checks shared by the scenarios. The services come from the
// graph tests' stack (real comfyd and comfyd-bridge, headless editors).

import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { TXT2IMG_TYPES, TXT2IMG_WIDGETS, TXT2IMG_LINKS, editorView } from "../../graph/lib/graph.mjs";

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const MCP_DIR = path.resolve(HERE, "..");
export const REPO = path.resolve(MCP_DIR, "..", "..");

// The tools the bridge serves, in its order.
export const TOOL_NAMES = [
  "get_graph", "search_node_types", "get_node_schema", "validate_patch", "apply_patch", "queue",
  "save_workflow", "load_workflow", "list_canvases", "list_sessions", "create_session", "send_message",
  "run", "get_run", "cancel_run", "view_output", "search_sessions", "compact_session", "export_session",
  "fork_session", "revert_session", "list_checkpoints",
  "node_history", "lease",
];

export function mcpBinary() {
  const build = process.env.COMFYD_BUILD_DIR ?? path.join(REPO, "build");
  return process.env.COMFYD_MCP_BIN ?? path.join(build, "bridge", "comfyd-mcp");
}

export function mcpUrl(stack) {
  return new URL(`${stack.base}/mcp`);
}

// An SDK client over Streamable HTTP with the bridge's token.
export async function httpClient(stack, { headers = {}, name = "comfyd-mcp-tests" } = {}) {
  const transport = new StreamableHTTPClientTransport(mcpUrl(stack), {
    requestInit: { headers: { authorization: `Bearer ${stack.token}`, ...headers } },
  });
  const client = new Client({ name, version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
}

// An SDK client over stdio: comfyd-mcp started by the SDK.
export async function stdioClient(stack, { name = "comfyd-mcp-tests-stdio" } = {}) {
  const transport = new StdioClientTransport({
    command: mcpBinary(),
    args: ["--bridge", stack.base, "--token-file", path.join(stack.data, "token")],
    stderr: "pipe",
  });
  const logs = [];
  transport.stderr?.on("data", (d) => logs.push(String(d)));
  // Every message comfyd-mcp wrote to stdout, in order, as the transport
  // parsed it (the SDK chains this handler before its own): what the relay
  // delivered, independent of how the SDK dispatches it afterwards.
  const raw = [];
  transport.onmessage = (m) => raw.push(m);
  const client = new Client({ name, version: "1.0.0" });
  await client.connect(transport);
  return { client, transport, logs, raw };
}

// A raw POST /mcp. Returns {status, headers, text, json}.
export async function rawPost(stack, body, { headers = {}, token = stack.token, method = "POST" } = {}) {
  const h = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...headers,
  };
  const r = await fetch(mcpUrl(stack), {
    method,
    headers: h,
    body: method === "GET" || method === "DELETE" ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(30000),
  });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

// A session opened by hand: {id, version}.
export async function rawSession(stack, protocolVersion = "2025-11-25") {
  const r = await rawPost(stack, {
    jsonrpc: "2.0", id: 1, method: "initialize",
    params: { protocolVersion, capabilities: {}, clientInfo: { name: "raw", version: "1" } },
  });
  assert.equal(r.status, 200, r.text);
  const id = r.headers.get("mcp-session-id");
  assert.match(id, /^[0-9a-f]{64}$/);
  const n = await rawPost(stack, { jsonrpc: "2.0", method: "notifications/initialized" }, {
    headers: { "mcp-session-id": id, "mcp-protocol-version": r.json.result.protocolVersion },
  });
  assert.equal(n.status, 202, n.text);
  return { id, version: r.json.result.protocolVersion };
}

// A tools/call through the SDK: the result, with structuredContent parsed
// from the text when the version has none.
export async function call(client, name, args = {}, opts) {
  const r = await client.callTool({ name, arguments: args }, undefined, opts);
  const text = r.content?.[0]?.text ?? "";
  const data = r.structuredContent ?? JSON.parse(text);
  return { isError: r.isError === true, data, text, raw: r };
}

// The editor built the workflow the scenarios ask for: 7 nodes, 9 links,
// every widget, refs as the patch reported them.
export function assertTxt2img(ed, refs) {
  const wf = ed.serialize();
  assert.equal(wf.nodes.length, 7, `nodes: ${JSON.stringify(wf.nodes.map((n) => n.type))}`);
  assert.equal(wf.links.length, 9);
  for (const [ref, type] of Object.entries(TXT2IMG_TYPES)) {
    const n = ed.graph.getNodeById(Number(refs[ref]));
    assert.ok(n, `node ${ref}`);
    assert.equal(n.type, type);
    const w = ed.widgetsOf(n.id);
    for (const [name, value] of Object.entries(TXT2IMG_WIDGETS[ref])) assert.equal(w[name], value, `${ref}.${name}`);
  }
  const view = editorView(ed);
  for (const [from, fslot, to, tslot] of TXT2IMG_LINKS) {
    const a = ed.graph.getNodeById(Number(refs[from]));
    const b = ed.graph.getNodeById(Number(refs[to]));
    const os = a.outputs.findIndex((s) => s.name === fslot);
    const is = b.inputs.findIndex((s) => s.name === tslot);
    assert.ok(view.links.find((l) => l[1] === a.id && l[2] === os && l[3] === b.id && l[4] === is), `link ${from}.${fslot} -> ${to}.${tslot}`);
  }
}

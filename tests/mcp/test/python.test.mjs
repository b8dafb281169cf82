// The official Python SDK (mcp on PyPI) over Streamable HTTP and over
// stdio: python/sdk_scenarios.py builds txt2img on two headless canvases
// and talks to agent sessions; here the canvases are checked afterwards.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe } from "node:test";
import { useStack, itWithLogs } from "../../graph/lib/harness.mjs";
import { txt2imgCommands } from "../../graph/lib/graph.mjs";
import { MCP_DIR, mcpBinary, assertTxt2img } from "../lib/mcp.mjs";

const HTTP_CANVAS = "tab-1:py-http";
const STDIO_CANVAS = "tab-2:py-stdio";

function run(cmd, args, guardMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const t = setTimeout(() => child.kill("SIGKILL"), guardMs);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, out, err });
    });
  });
}

describe("Python SDK over Streamable HTTP and stdio", () => {
  const h = useStack();
  const it = itWithLogs(h);

  it("connects, lists the tools and builds txt2img on both canvases; no token, no session", { timeout: 240000 }, async () => {
    const edHttp = await h.stack.editor({ canvasId: HTTP_CANVAS, title: "python http" });
    const edStdio = await h.stack.editor({ canvasId: STDIO_CANVAS, title: "python stdio" });
    const commands = path.join(h.stack.root, "txt2img.json");
    writeFileSync(commands, JSON.stringify(txt2imgCommands()));
    const python = process.env.COMFYD_MCP_PYTHON ?? "python3";
    const r = await run(python, [
      path.join(MCP_DIR, "python", "sdk_scenarios.py"),
      "--url", `${h.stack.base}/mcp`,
      "--token-file", path.join(h.stack.data, "token"),
      "--mcp-bin", mcpBinary(),
      "--commands", commands,
      "--canvas-http", HTTP_CANVAS,
      "--canvas-stdio", STDIO_CANVAS,
    ], 200000);
    const report = `exit ${r.code}\n${r.out}\n${r.err.slice(-4000)}`;
    assert.equal(r.code, 0, report);
    assert.match(r.out, /^3 passed, 0 failed$/m, report);
    const refs = Object.fromEntries(
      [...r.out.matchAll(/^refs (\S+) (.*)$/gm)].map((m) => [m[1], JSON.parse(m[2])]),
    );
    assertTxt2img(edHttp, refs[HTTP_CANVAS]);
    assertTxt2img(edStdio, refs[STDIO_CANVAS]);
    assert.equal(edHttp.patches.length, 1);
    assert.equal(edStdio.patches.length, 1);
  });
});

// The real ComfyUI server for the run tests: the tree from COMFYUI_DIR
// (default ../shared/vendor/ComfyUI) copied into a temporary folder (it
// writes user/, output/, temp/ and reads custom_nodes/), run with the venv
// python of COMFYUI_PYTHON (scripts/comfyui-venv.sh) on the CPU.

import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, REPO, sleep } from "../../graph/lib/stack.mjs";

// ComfyUI imports torch and scans its nodes: tens of seconds on a loaded
// machine.
export const COMFYUI_START_MS = Number(process.env.COMFYD_COMFYUI_START_MS ?? 180000);

export class ComfyUI {
  constructor() {
    this.src = process.env.COMFYUI_DIR ?? path.resolve(REPO, "..", "shared", "vendor", "ComfyUI");
    this.python = process.env.COMFYUI_PYTHON;
    if (!this.python) throw new Error("COMFYUI_PYTHON is not set (tests/runs/run.sh sets it)");
    this.root = mkdtempSync(path.join(tmpdir(), "cruns-"));
    this.dir = path.join(this.root, "ComfyUI");
    this.starts = 0;
    this.child = null;
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    if (!existsSync(this.dir)) {
      cpSync(this.src, this.dir, { recursive: true });
      mkdirSync(path.join(this.dir, "custom_nodes"), { recursive: true });
    }
    this.port ??= await freePort();
    this.starts++;
    this.logPath = path.join(this.root, `comfyui.${this.starts}.log`);
    const fd = openSync(this.logPath, "a");
    this.child = spawn(this.python, ["main.py", "--cpu", "--listen", "127.0.0.1", "--port", String(this.port)], {
      cwd: this.dir,
      stdio: ["ignore", fd, fd],
    });
    closeSync(fd);
    const child = this.child;
    this.exited = new Promise((r) => child.on("exit", (code, signal) => r({ code, signal })));
    const deadline = Date.now() + COMFYUI_START_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`ComfyUI exited:\n${this.tail()}`);
      try {
        const r = await fetch(`${this.base}/queue`, { signal: AbortSignal.timeout(2000) });
        if (r.status === 200) return this;
      } catch {}
      await sleep(250);
    }
    throw new Error(`ComfyUI did not serve within ${COMFYUI_START_MS} ms:\n${this.tail()}`);
  }

  // /object_info as a file, for the headless editor's LiteGraph types.
  async objectInfoFile() {
    const r = await fetch(`${this.base}/object_info`);
    const file = path.join(this.root, "object_info.json");
    writeFileSync(file, await r.text());
    return file;
  }

  async kill(sig = "SIGKILL") {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(sig);
    await this.exited;
  }

  async history(id) {
    const r = await fetch(`${this.base}/history/${encodeURIComponent(id)}`);
    return (await r.json())[id];
  }

  tail(n = 40) {
    return existsSync(this.logPath ?? "") ? readFileSync(this.logPath, "utf8").split("\n").slice(-n).join("\n") : "";
  }

  async stop() {
    await this.kill("SIGTERM");
    if (!process.env.COMFYD_IT_KEEP) rmSync(this.root, { recursive: true, force: true });
  }
}

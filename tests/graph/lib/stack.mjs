// Real processes for the graph tests and the benchmark: one comfyd (unix
// socket, the object_info fixture) and one comfyd-bridge in front of it on a
// free loopback port, plus headless editors (in-process or as their own
// processes). Everything lives in a temporary directory removed at stop().
//
// Binaries: COMFYD_BIN and COMFYD_BRIDGE_BIN (run.sh sets them from the
// build dir). COMFYD_IT_WRAPPER prefixes both (e.g. "valgrind -q").
//
// Store: SQLite in the data directory, or, when COMFYD_IT_PG is set (a
// libpq URI with "{db}" where the database goes; tests/postgres/run.sh
// sets it, as for tests/integration), a fresh PostgreSQL database per
// stack, named from its data directory and created here with psql; comfyd
// runs with --store on it, and a core restarted on the same data directory
// finds the same database.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, existsSync, rmSync, openSync, closeSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { HeadlessEditor, prepareLiteGraph } from "../editor.mjs";

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const GRAPH_DIR = path.resolve(HERE, "..");
export const REPO = path.resolve(GRAPH_DIR, "..", "..");
export const OBJECT_INFO = path.join(REPO, "tests", "fixtures", "object_info.json");
export const EDITOR_CLI = path.join(GRAPH_DIR, "editor.mjs");

// Hang guards, not performance limits: how long something that should
// happen "soon" may take before the test gives up.
export const START_GUARD_MS = Number(process.env.COMFYD_IT_START_GUARD_MS ?? 30000);
const STOP_GUARD_MS = 20000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function binaries() {
  const build = process.env.COMFYD_BUILD_DIR ?? path.join(REPO, "build");
  return {
    core: process.env.COMFYD_BIN ?? path.join(build, "core", "comfyd"),
    bridge: process.env.COMFYD_BRIDGE_BIN ?? path.join(build, "bridge", "comfyd-bridge"),
  };
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Polls fn (async, truthy = done) until it succeeds or guardMs passes.
export async function waitFor(fn, guardMs, what) {
  const deadline = Date.now() + guardMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(25);
  }
  throw new Error(`${what}: not within ${guardMs} ms${last ? ` (last error: ${last.message})` : ""}`);
}

// The engine the stacks' cores run on ("sqlite" or "postgres"), as the
// core's /healthz names it.
export const STORE_ENGINE = process.env.COMFYD_IT_PG ? "postgres" : "sqlite";

// Creates a stack's PostgreSQL database under COMFYD_IT_PG and returns the
// --store URI for it; null on SQLite. The name comes from the stack's
// temporary folder (unique while it exists) and this process (folders are
// reused after removal), so it is quoted to keep its case.
function createPgStore(root) {
  const fmt = process.env.COMFYD_IT_PG;
  if (!fmt) return null;
  if (!fmt.includes("{db}")) throw new Error(`COMFYD_IT_PG: no {db} in ${fmt}`);
  const name = `graph_${process.pid}_${path.basename(root).replace(/[^A-Za-z0-9]/g, "_")}`;
  try {
    execFileSync("psql", ["-qAt", "-v", "ON_ERROR_STOP=1", fmt.replaceAll("{db}", "postgres"),
      "-c", `CREATE DATABASE "${name}"`], { stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    throw new Error(`psql: CREATE DATABASE ${name}: ${e.stderr?.toString() ?? e.message}`);
  }
  return fmt.replaceAll("{db}", name);
}

class Proc {
  constructor(name, argv, logPath) {
    this.name = name;
    this.argv = argv;
    this.logPath = logPath;
    const fd = openSync(logPath, "a");
    const wrapper = (process.env.COMFYD_IT_WRAPPER ?? "").split(/\s+/).filter(Boolean);
    const full = [...wrapper, ...argv];
    this.child = spawn(full[0], full.slice(1), { stdio: ["ignore", fd, fd] });
    closeSync(fd);
    this.exit = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        this.code = code;
        this.signal = signal;
        resolve({ code, signal });
      });
    });
  }

  alive() {
    return this.code === undefined && this.signal === undefined;
  }

  log() {
    return existsSync(this.logPath) ? readFileSync(this.logPath, "utf8") : "";
  }

  tail(n = 40) {
    return this.log().split("\n").slice(-n).join("\n");
  }

  // Signals the process and returns its exit code (kills it after the guard).
  async stop(sig = "SIGTERM") {
    if (!this.alive()) return this.code;
    this.child.kill(sig);
    const t = setTimeout(() => this.child.kill("SIGKILL"), STOP_GUARD_MS);
    const r = await this.exit;
    clearTimeout(t);
    return r.code;
  }
}

export class Stack {
  constructor({ coreArgs = [], bridgeArgs = [], objectInfo = OBJECT_INFO, echoDelayMs = 0, logLevel = "debug" } = {}) {
    this.logLevel = logLevel;
    this.root = mkdtempSync(path.join(tmpdir(), "cgr-"));
    this.data = path.join(this.root, "data");
    this.sock = path.join(this.root, "c.sock");
    this.coreArgs = coreArgs;
    this.bridgeArgs = bridgeArgs;
    this.objectInfo = objectInfo;
    this.echoDelayMs = echoDelayMs;
    this.core = null;
    this.bridge = null;
    this.editors = [];
    this.children = [];
    this.coreStarts = 0;
    this.exitCodes = [];
    this.store = null; // the PostgreSQL --store URI, once created
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsBase() {
    return `ws://127.0.0.1:${this.port}`;
  }

  get hostHeader() {
    return `127.0.0.1:${this.port}`;
  }

  async start() {
    mkdirSync(this.data, { recursive: true });
    this.corePort = await freePort();
    this.port = await freePort();
    await this.startCore();
    await this.startBridge();
    return this;
  }

  async startCore() {
    const { core } = binaries();
    this.coreStarts++;
    const argv = [
      core,
      "--data", this.data,
      "--listen", `unix:${this.sock}`,
      "--listen", `127.0.0.1:${this.corePort}`,
      "--echo-delay-ms", String(this.echoDelayMs),
      "--log-level", this.logLevel,
    ];
    if (this.objectInfo) argv.push("--object-info", this.objectInfo);
    // A test that chooses the store itself keeps it.
    if (process.env.COMFYD_IT_PG && !this.coreArgs.some((a) => a === "--store" || a.startsWith("--store="))) {
      this.store ??= createPgStore(this.root);
      argv.push("--store", this.store);
    }
    argv.push(...this.coreArgs);
    this.core = new Proc("comfyd", argv, path.join(this.root, `comfyd.${this.coreStarts}.log`));
    await waitFor(
      () => {
        if (!this.core.alive()) throw new Error(`comfyd exited (${this.core.code}):\n${this.core.tail()}`);
        return this.core.log().includes("comfyd: ready");
      },
      START_GUARD_MS,
      "comfyd ready",
    ).catch((e) => {
      throw new Error(`${e.message}\n${this.core.tail()}`);
    });
  }

  async stopCore(sig = "SIGTERM") {
    const code = await this.core.stop(sig);
    if (sig === "SIGTERM") this.exitCodes.push(["comfyd", code]);
    return code;
  }

  async startBridge() {
    const { bridge } = binaries();
    const argv = [
      bridge,
      "--listen", `127.0.0.1:${this.port}`,
      "--core", `unix:${this.sock}`,
      "--data", this.data,
      ...this.bridgeArgs,
    ];
    this.bridge = new Proc("comfyd-bridge", argv, path.join(this.root, "bridge.log"));
    const tokenPath = path.join(this.data, "token");
    await waitFor(
      () => {
        if (!this.bridge.alive()) throw new Error(`comfyd-bridge exited (${this.bridge.code})`);
        return existsSync(tokenPath) && readFileSync(tokenPath, "utf8").trim().length > 0;
      },
      START_GUARD_MS,
      "bridge token file",
    ).catch((e) => {
      throw new Error(`${e.message}\n${this.bridge.tail()}`);
    });
    this.token = readFileSync(tokenPath, "utf8").trim();
    await waitFor(() => this.healthy(), START_GUARD_MS, "bridge /healthz 200").catch((e) => {
      throw new Error(`${e.message}\n${this.bridge.tail()}`);
    });
  }

  // GET /healthz with the token: true on 200.
  async healthy() {
    try {
      const r = await fetch(`${this.base}/healthz`, {
        headers: { authorization: `Bearer ${this.token}` },
        signal: AbortSignal.timeout(2000),
      });
      await r.text();
      return r.status === 200;
    } catch {
      return false;
    }
  }

  // An in-process headless editor, attached (closed at stop()).
  async editor(opts = {}) {
    const lg = await prepareLiteGraph(OBJECT_INFO);
    const ed = new HeadlessEditor(lg, { url: this.wsBase, token: this.token, canvasId: "tab-1", ...opts });
    this.editors.push(ed);
    if (opts.connect !== false) await ed.connect();
    return ed;
  }

  // A headless editor in its own process (editor.mjs CLI), resolved once it
  // printed that it is attached. Returns the child process.
  async editorProcess(args) {
    const logPath = path.join(this.root, `editor.${this.children.length + 1}.log`);
    const argv = [
      process.execPath, EDITOR_CLI,
      "--url", this.wsBase,
      "--token-file", path.join(this.data, "token"),
      "--object-info", OBJECT_INFO,
      ...args,
    ];
    const fd = openSync(logPath, "a");
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", fd, fd] });
    closeSync(fd);
    this.children.push(child);
    child.logPath = logPath;
    child.exited = new Promise((r) => child.on("exit", (code, signal) => r({ code, signal })));
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`editor exited: ${readFileSync(logPath, "utf8")}`);
        return readFileSync(logPath, "utf8").includes("editor: attached");
      },
      START_GUARD_MS,
      "editor process attached",
    );
    return child;
  }

  logs() {
    const parts = [];
    if (this.core) parts.push(`---- comfyd ----\n${this.core.tail(60)}`);
    if (this.bridge) parts.push(`---- comfyd-bridge ----\n${this.bridge.tail(60)}`);
    return parts.join("\n");
  }

  // Stops everything. Returns [name, exit code] of the services stopped
  // with SIGTERM (each must be 0).
  async stop() {
    for (const ed of this.editors) await ed.close().catch(() => {});
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    if (this.bridge) this.exitCodes.push(["comfyd-bridge", await this.bridge.stop()]);
    if (this.core && this.core.alive()) this.exitCodes.push(["comfyd", await this.core.stop()]);
    if (!process.env.COMFYD_IT_KEEP) rmSync(this.root, { recursive: true, force: true });
    return this.exitCodes;
  }
}

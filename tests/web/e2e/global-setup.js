// Starts the test host (e2e/host.py) once for the browser tests. Importing
// the comfyd package there makes its supervisor start the real comfyd and
// comfyd-bridge of BUILD_DIR (COMFYD_BIN_DIR), on a fresh data folder, a
// unix socket for the core and free ports for the bridge and the host.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const TESTS_WEB = join(HERE, "..");
const REPO = join(TESTS_WEB, "..", "..");

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(fn, what, ms = 60000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
}

export default async function setup({ provide }) {
  const build = process.env.COMFYD_BUILD_DIR || join(REPO, "build-web");
  const bridgeBin = join(build, "bridge", "comfyd-bridge");
  const coreBin = join(build, "core", "comfyd");
  const python = join(TESTS_WEB, ".venv", "bin", "python");
  const statics = join(TESTS_WEB, ".venv", "lib");
  const staticDir = (() => {
    for (const v of ["python3.13", "python3.12", "python3.11", "python3.10", "python3.9"]) {
      const d = join(statics, v, "site-packages", "comfyui_frontend_package", "static");
      if (existsSync(d)) return d;
    }
    return null;
  })();
  for (const [p, what] of [[bridgeBin, "comfyd-bridge"], [coreBin, "comfyd"], [python, "the test venv"], [staticDir, "comfyui-frontend-package"]]) {
    if (!p || !existsSync(p)) throw new Error(`e2e: ${what} is missing (${p}); run tests/web/run.sh BUILD_DIR`);
  }

  const data = mkdtempSync(join(tmpdir(), "comfyd-web-e2e-"));
  const artifacts = join(REPO, "tests", "artifacts", "web");
  mkdirSync(artifacts, { recursive: true });
  const hostPort = await freePort();
  const bridgePort = await freePort();
  const origin = `http://127.0.0.1:${hostPort}`;
  const env = {
    ...process.env,
    COMFYD_BIN_DIR: build,
    COMFYD_DATA: data,
    COMFYD_BRIDGE_URL: `http://127.0.0.1:${bridgePort}`,
    COMFYD_ALLOW_ORIGIN: origin,
    // The core only on its unix socket: other test suites may hold 50051.
    COMFYD_LISTEN: `unix:${join(data, "comfyd.sock")}`,
    COMFYD_ECHO_DELAY_MS: "25",
    COMFYD_LOG_LEVEL: "debug",
  };
  const host = spawn(
    python,
    [join(HERE, "host.py"), "--port", String(hostPort), "--static", staticDir, "--package", REPO, "--object-info", join(REPO, "tests", "fixtures", "object_info.json")],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  host.stdout.on("data", (d) => (out += d));
  host.stderr.on("data", (d) => (out += d));
  const exited = new Promise((r) => host.once("exit", (code) => r(code)));

  try {
    await waitFor(() => out.includes(`READY ${hostPort}`) || host.exitCode !== null, "the test host");
    if (host.exitCode !== null) throw new Error(`the test host exited:\n${out}`);
    const conn = await waitFor(async () => {
      const r = await fetch(`${origin}/api/comfyd/connection`);
      const body = await r.json();
      if (body.status === "error") throw new Error(body.error);
      return r.ok ? body : null;
    }, "comfyd and comfyd-bridge to start");
    provide("e2e", { origin, bridge: conn.bridge_url, token: readFileSync(join(data, "token"), "utf8").trim(), data, artifacts });
  } catch (e) {
    host.kill("SIGTERM");
    await exited;
    throw new Error(`${e.message}\n--- host output ---\n${out}`);
  }

  return async () => {
    host.kill("SIGTERM");
    const t = setTimeout(() => host.kill("SIGKILL"), 15000);
    await exited;
    clearTimeout(t);
    if (process.env.COMFYD_E2E_KEEP !== "1") rmSync(data, { recursive: true, force: true });
  };
}

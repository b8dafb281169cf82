// Fails when the committed bundle (dist/) is not what the sources build to:
// builds into a temporary directory with the locked dependencies and
// compares every file byte for byte.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const web = fileURLToPath(new URL("..", import.meta.url));
const committed = join(web, "dist");
const fresh = mkdtempSync(join(tmpdir(), "comfyd-web-"));
const list = (dir) => readdirSync(dir, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile())
  .map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1))
  .sort();

try {
  execFileSync(process.execPath, [join(web, "node_modules", "vite", "bin", "vite.js"), "build"], {
    cwd: web,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, COMFYD_WEB_OUT_DIR: fresh },
  });
  const a = list(committed);
  const b = list(fresh);
  const problems = [];
  for (const f of new Set([...a, ...b])) {
    if (!a.includes(f)) problems.push(`missing from web/dist: ${f}`);
    else if (!b.includes(f)) problems.push(`not built any more: web/dist/${f}`);
    else if (!readFileSync(join(committed, f)).equals(readFileSync(join(fresh, f)))) problems.push(`stale: web/dist/${f}`);
  }
  if (problems.length) {
    console.error(problems.join("\n"));
    console.error("The committed bundle does not match the sources: run `npm run build` in web/ and commit web/dist/.");
    process.exit(1);
  }
  console.log(`web/dist is up to date (${a.length} file(s))`);
} finally {
  rmSync(fresh, { recursive: true, force: true });
}

// Memory of idle WebSocket connections: the resident set of the server's
// processes before and after N connections are open and idle, per
// connection. Also a check: every connection must open and stay open.
//   node idle_ws.mjs WS_URL N PID[,PID...] OUT.json
import { readFileSync, writeFileSync } from "node:fs";
import WebSocket from "ws";

const [url, nArg, pidList, out] = process.argv.slice(2);
const N = Number(nArg);
const pids = pidList.split(",").map(Number);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// smaps_rollup walks the page tables: exact, where VmRSS of /proc/PID/status
// is a per-CPU counter that may lag by hundreds of KB.
function rssKb() {
  let sum = 0;
  for (const p of pids) {
    const m = /^Rss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, "utf8"));
    if (!m) throw new Error(`no Rss in /proc/${p}/smaps_rollup`);
    sum += Number(m[1]);
  }
  return sum;
}
function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const t = setTimeout(() => reject(new Error("open timed out")), 10000);
    ws.once("open", () => {
      clearTimeout(t);
      resolve(ws);
    });
    ws.once("error", (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}
// One connection first, so what every server allocates once is not counted.
const first = await open();
await sleep(500);
const before = rssKb();
const socks = [];
for (let i = 0; i < N; i += 20) socks.push(...(await Promise.all(Array.from({ length: Math.min(20, N - i) }, open))));
await sleep(1500);
const after = rssKb();
const stillOpen = socks.filter((w) => w.readyState === WebSocket.OPEN).length;
for (const w of [first, ...socks]) w.terminate();
const r = { connections: N, open: stillOpen, rssBeforeKb: before, rssAfterKb: after, kbPerConn: (after - before) / N };
console.log(`idle ws: ${N} connections (${stillOpen} open), rss ${before} -> ${after} kB, ${r.kbPerConn.toFixed(1)} kB each`);
writeFileSync(out, JSON.stringify(r));
process.exit(stillOpen === N ? 0 : 1);

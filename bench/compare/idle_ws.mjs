// Memory of idle WebSocket connections: the marginal resident memory of
// the server's processes per connection, the slope between FROM and TO open
// idle connections (a fresh process first fills memory its start-up freed,
// which hides the first few hundred connections of a Python server). Also a
// check: every connection must open (the upgrade answered 101), stay open
// and, after the measurement, answer a ping with a pong.
//   node idle_ws.mjs WS_URL FROM TO PID[,PID...] OUT.json
// Holding TO sockets needs TO open files here (compare.sh raises the limit).
import { readFileSync, writeFileSync } from "node:fs";
import WebSocket from "ws";

const [url, fromArg, toArg, pidList, out] = process.argv.slice(2);
const FROM = Number(fromArg);
const N = Number(toArg);
if (!(FROM >= 1 && N > FROM)) throw new Error("idle_ws: need 1 <= FROM < TO");
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
const socks = [];
async function openUpTo(n) {
  while (socks.length < n) socks.push(...(await Promise.all(Array.from({ length: Math.min(20, n - socks.length) }, open))));
  await sleep(1000);
}
const t0 = Date.now();
const empty = rssKb(); // no connection yet: what the whole TO costs, for the record
await openUpTo(FROM);
const before = rssKb();
await openUpTo(N);
const after = rssKb();
const openSeconds = (Date.now() - t0) / 1000;
const stillOpen = socks.filter((w) => w.readyState === WebSocket.OPEN).length;
// Each open socket pings once (after the memory was read: the answer
// allocates on the server); every one must answer within PONG_WAIT_MS.
const PONG_WAIT_MS = 30000;
let pongs = 0;
await new Promise((resolve) => {
  const t = setTimeout(resolve, PONG_WAIT_MS);
  for (const w of socks) {
    if (w.readyState !== WebSocket.OPEN) continue;
    w.once("pong", () => {
      if (++pongs === stillOpen) {
        clearTimeout(t);
        resolve();
      }
    });
    w.ping();
  }
  if (stillOpen === 0) resolve();
});
for (const w of socks) w.terminate();
const r = { from: FROM, connections: N, open: stillOpen, pongs, openSeconds, rssEmptyKb: empty, rssBeforeKb: before, rssAfterKb: after,
  kbPerConn: (after - before) / (N - FROM) };
console.log(`idle ws: ${FROM} -> ${N} connections in ${openSeconds.toFixed(1)} s (${stillOpen} open, ${pongs} answered a ping), ` +
  `rss ${empty} -> ${before} -> ${after} kB, ${r.kbPerConn.toFixed(1)} kB each`);
writeFileSync(out, JSON.stringify(r));
process.exit(stillOpen === N && pongs === N ? 0 : 1);

// Prints the comparison table of a bench/compare.sh run: for each figure
// the peer's and comfyd's median over the runs, comfyd / peer, and the
// min–max spread of each side. Also checks every run's error counters and
// exits 1 when one is not clean (a figure never fails the run).
//   node table.mjs RESULTS_DIR
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";

const dir = process.argv[2];
const reps = readdirSync(dir).filter((d) => /^rep\d+$/.test(d)).sort();
const load = (rep, side, name) => {
  const f = path.join(dir, rep, side, `${name}.json`);
  return existsSync(f) ? JSON.parse(readFileSync(f, "utf8")) : null;
};

const problems = [];
function clean(label, ok, detail) {
  if (!ok) problems.push(`${label}: ${detail}`);
}
// The error counters of every file (a check, not a figure).
for (const rep of reps) {
  for (const side of ["peer", "comfyd"]) {
    for (const name of ["graph", "fake", "big_get", "big_mix"]) {
      const j = load(rep, side, name);
      if (!j) continue;
      for (const [ph, r] of Object.entries(j.phases ?? {}))
        clean(`${rep} ${side} ${name} ${ph}`, !r.errors && !r.warmupErrors && r.n > 0, `n=${r.n} errors=${r.errors} (${r.firstError})`);
    }
    const s = load(rep, side, "session");
    if (s && side === "peer") {
      const l = s.phases?.latency;
      const t = s.phases?.tputN;
      clean(`${rep} peer session latency`, l && !l.errors && l.completedAll, JSON.stringify(l && { errors: l.errors, completedAll: l.completedAll }));
      clean(`${rep} peer session tputN`, t && t.received === t.expected && !t.disorder && !t.badSize && !t.timedOut,
        JSON.stringify(t && { received: t.received, expected: t.expected, disorder: t.disorder, timedOut: t.timedOut }));
    } else if (s) {
      const t = s.tputN;
      // (session_comfyd.mjs counts "closed" after closing its sockets: not a check.)
      clean(`${rep} comfyd session tputN`, t && t.perSubMin === t.perSubMax && t.perSubMin > 0 && t.subscribers > 0,
        JSON.stringify(t && { perSubMin: t.perSubMin, perSubMax: t.perSubMax, resyncs: t.resyncs }));
      clean(`${rep} comfyd session latency`, s.latency && s.latency.n > 0, JSON.stringify(s.latency));
    }
    const idle = load(rep, side, "idle");
    if (idle)
      clean(`${rep} ${side} idle`, idle.open === idle.connections && (idle.pongs ?? idle.open) === idle.connections,
        `${idle.open} of ${idle.connections} open, ${idle.pongs} answered a ping`);
  }
}

// [label, unit, lower is better, peer getter, comfyd getter, note]
const seqP50 = (j) => j?.phases?.seq?.p50;
// The idle row's slope, FROM→TO connections as the runs measured it
// (IDLE_PEER / IDLE_COMFYD of compare.sh).
const idleRange = (side) => {
  const r = [...new Set(reps.map((rep) => load(rep, side, "idle")).filter(Boolean).map((j) => `${j.from}→${j.connections}`))];
  return r.length ? r.join(", ") : "–";
};
const ROWS = [
  ["graph command round trip, sequential p50 (set_widget/move_node, 7 nodes; comfyd: real headless LiteGraph editor)", "ms", true,
    (r) => seqP50(load(r, "peer", "graph")), (r) => seqP50(load(r, "comfyd", "graph"))],
  ["same, comfyd with the light fake tab (peer: the same run as above)", "ms", true,
    (r) => seqP50(load(r, "peer", "graph")), (r) => seqP50(load(r, "comfyd", "fake"))],
  ["16 concurrent callers on one canvas", "cmd/s", false,
    (r) => load(r, "peer", "graph")?.phases?.conc?.rps, (r) => load(r, "comfyd", "graph")?.phases?.conc?.rps],
  ["user_message → first stream_delta p50", "ms", true,
    (r) => load(r, "peer", "session")?.phases?.latency?.p50, (r) => load(r, "comfyd", "session")?.latency?.p50],
  ["stream_delta deliveries/s, 100 subscribers", "deltas/s", false,
    (r) => load(r, "peer", "session")?.phases?.tputN?.deliveriesPerSec, (r) => load(r, "comfyd", "session")?.tputN?.deliveriesPerSec],
  ["get_graph p50, 500-node canvas", "ms", true,
    (r) => seqP50(load(r, "peer", "big_get")), (r) => seqP50(load(r, "comfyd", "big_get"))],
  ["set_widget/move_node round trip p50, 500-node canvas", "ms", true,
    (r) => seqP50(load(r, "peer", "big_mix")), (r) => seqP50(load(r, "comfyd", "big_mix"))],
  [`idle WebSocket connection, resident memory each (slope: peer ${idleRange("peer")}, comfyd ${idleRange("comfyd")} connections)`, "KB", true,
    (r) => load(r, "peer", "idle")?.kbPerConn, (r) => load(r, "comfyd", "idle")?.kbPerConn],
];

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x, unit) => {
  if (!Number.isFinite(x)) return "–";
  if (unit === "ms") return x < 10 ? x.toFixed(3) : x.toFixed(1);
  if (unit === "KB") return x.toFixed(1);
  return Math.round(x).toLocaleString("en-US");
};
const side = (vals, unit) => {
  const v = vals.filter(Number.isFinite);
  if (!v.length) return ["–", "–"];
  return [fmt(median(v), unit), v.length > 1 ? `${fmt(Math.min(...v), unit)}–${fmt(Math.max(...v), unit)}` : "–"];
};
function verdict(p, c, lower) {
  if (!Number.isFinite(p) || !Number.isFinite(c) || p <= 0 || c <= 0) return "";
  const better = lower ? c < p : c > p;
  const f = Math.max(c / p, p / c);
  if (f < 1.1) return "about the same";
  return `${f.toFixed(1)}× ${better ? "better" : "worse"}`;
}

console.log(`| measurement | unit | peer (median) | peer min–max | comfyd (median) | comfyd min–max | comfyd / peer | |`);
console.log(`|---|---|---:|---:|---:|---:|---:|---|`);
for (const [label, unit, lower, pg, cg] of ROWS) {
  const pv = reps.map(pg);
  const cv = reps.map(cg);
  if (!pv.some(Number.isFinite) && !cv.some(Number.isFinite)) continue; // not measured (--only)
  const [pm, ps] = side(pv, unit);
  const [cm, cs] = side(cv, unit);
  const pmed = median(pv.filter(Number.isFinite));
  const cmed = median(cv.filter(Number.isFinite));
  const ratio = Number.isFinite(pmed) && Number.isFinite(cmed) && pmed > 0 ? `${(cmed / pmed).toFixed(2)}` : "–";
  console.log(`| ${label} | ${unit} | ${pm} | ${ps} | ${cm} | ${cs} | ${ratio} | ${verdict(pmed, cmed, lower)} |`);
}
console.log(`\n${reps.length} run(s) of each side, alternating. peer: graph_aiohttp.py + editor_sim.mjs (answers by POST /comfy/graph/state), session_flask_socketio.py (eventlet).`);
if (problems.length) {
  console.log(`\nCHECKS FAILED:\n${problems.map((p) => `- ${p}`).join("\n")}`);
  process.exit(1);
}
console.log("checks: every run clean (no errors, no lost or reordered deltas, every connection open).");

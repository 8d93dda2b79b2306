#!/usr/bin/env node
// The side-by-side table from ../shared/peer result files: the median of each point's runs.
//   node bench/peer-table.mjs bench/runs/peer-*/*.json
import { readFileSync } from "node:fs";

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const points = new Map(); // interval -> { hocuspocus: [...], tafel: [...] }
for (const f of process.argv.slice(2)) {
  const r = JSON.parse(readFileSync(f, "utf8"));
  const server = (r.config.label || f).startsWith("tafel") ? "tafel" : "hocuspocus";
  const p = points.get(r.config.intervalMs) ?? { hocuspocus: [], tafel: [] };
  p[server].push(r);
  points.set(r.config.intervalMs, p);
}
const cell = (runs) => {
  if (runs.length === 0) return "– | –";
  const p50 = median(runs.map((r) => r.latencyMs.p50));
  const p99 = median(runs.map((r) => r.latencyMs.p99));
  const cpu = median(runs.map((r) => r.server.cpuPct));
  const perDelivery = median(runs.map((r) => (r.server.cpuPct / 100) * 1e6 / r.deliveries.perS));
  const saturated = runs.filter((r) => r.server.cpuPct >= 90).length;
  const lost = runs.reduce((n, r) => n + (r.deliveries.expected - r.deliveries.delivered), 0);
  const notes = [saturated ? `${saturated}/${runs.length} saturated` : "", lost ? `${lost} lost` : ""].filter(Boolean);
  return `${p50.toFixed(2)} / ${p99.toFixed(1)}${notes.length ? ` (${notes.join(", ")})` : ""} | ${cpu.toFixed(1)} %, ${perDelivery.toFixed(1)} µs`;
};
console.log("| load (acting interval) | deliveries/s | runs | Hocuspocus p50 / p99 ms | CPU, per delivery | Tafel p50 / p99 ms | CPU, per delivery |");
console.log("|---|---|---|---|---|---|---|");
for (const [interval, p] of [...points].sort((a, b) => b[0] - a[0])) {
  const all = [...p.hocuspocus, ...p.tafel];
  const deliveries = median(all.map((r) => r.deliveries.perS));
  console.log(
    `| ≡${Math.round((interval * 50) / 2)} ms (${interval} ms) | ${Math.round(deliveries).toLocaleString("en")} | ${p.hocuspocus.length}+${p.tafel.length} | ${cell(p.hocuspocus)} | ${cell(p.tafel)} |`,
  );
}

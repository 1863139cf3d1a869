// The Structured Streaming page: polls /api/queries every second and redraws the query lists,
// the selected query's charts (plain SVG, no library) and its recent batches.
"use strict";

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"];
// The batch's phases, as the progress report's durationMs keys add up to them.
const PHASES = [
  ["planning", ["latestOffset"]],
  ["reading", ["getBatch"]],
  ["processing", ["processing"]],
  ["sink", ["addBatch"]],
  ["checkpoint", ["walCommit", "stateCommit", "commitOffsets"]],
];
const SVG = "http://www.w3.org/2000/svg";
const W = 440, H = 170, M = { l: 54, r: 10, t: 8, b: 22 };

let selected = decodeURIComponent(location.hash.slice(1)) || null;

function el(tag, attrs, text) {
  const e = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function fmt(x) {
  if (x === undefined || x === null || Number.isNaN(x)) return "–";
  const a = Math.abs(x);
  if (a >= 1e9) return (x / 1e9).toFixed(1) + "G";
  if (a >= 1e6) return (x / 1e6).toFixed(1) + "M";
  if (a >= 1e4) return (x / 1e3).toFixed(1) + "k";
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// Axes, grid and y ticks of a chart over batches xs[0..] with values up to max.
function frame(svg, xs, max) {
  const x = (b) => M.l + (xs.length < 2 ? (W - M.l - M.r) / 2 : ((b - xs[0]) * (W - M.l - M.r)) / (xs[xs.length - 1] - xs[0] || 1));
  const y = (v) => H - M.b - (v / max) * (H - M.t - M.b);
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    svg.append(el("svg:line", { class: "grid", x1: M.l, x2: W - M.r, y1: y(v), y2: y(v) }));
    svg.append(el("svg:text", { x: M.l - 4, y: y(v) + 3, "text-anchor": "end" }, fmt(v)));
  }
  svg.append(el("svg:line", { class: "axis", x1: M.l, x2: M.l, y1: M.t, y2: H - M.b }));
  svg.append(el("svg:line", { class: "axis", x1: M.l, x2: W - M.r, y1: H - M.b, y2: H - M.b }));
  if (xs.length) {
    svg.append(el("svg:text", { x: M.l, y: H - 6 }, "batch " + xs[0]));
    svg.append(el("svg:text", { x: W - M.r, y: H - 6, "text-anchor": "end" }, "batch " + xs[xs.length - 1]));
  }
  return { x, y };
}

function chart(id, series, draw) {
  const fig = document.getElementById(id);
  fig.querySelectorAll("svg, .legend").forEach((n) => n.remove());
  const svg = el("svg:svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}` });
  const legend = el("div", { class: "legend" });
  series.forEach((s, i) => {
    const item = el("span", { style: `--c:${COLORS[i % COLORS.length]}` }, s.name);
    legend.append(item);
  });
  draw(svg);
  svg.setAttribute("data-points", String(series.length ? series[0].points.length : 0));
  fig.append(svg, legend);
}

// One line per series, a circle per point.
function lineChart(id, series) {
  chart(id, series, (svg) => {
    const xs = series.length ? series[0].points.map((p) => p[0]) : [];
    const max = niceMax(Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1]).filter(Number.isFinite))));
    const { x, y } = frame(svg, xs, max);
    series.forEach((s, i) => {
      const c = COLORS[i % COLORS.length];
      const pts = s.points.filter((p) => Number.isFinite(p[1]));
      svg.append(el("svg:polyline", { fill: "none", stroke: c, "stroke-width": 1.5, points: pts.map((p) => `${x(p[0])},${y(p[1])}`).join(" ") }));
      for (const p of pts) {
        const dot = el("svg:circle", { class: "pt", cx: x(p[0]), cy: y(p[1]), r: 2.5, fill: c });
        dot.append(el("svg:title", {}, `batch ${p[0]}: ${fmt(p[1])} ${s.name}`));
        svg.append(dot);
      }
    });
  });
}

// Stacked bars: one bar per batch, one segment per series.
function stackedChart(id, series) {
  chart(id, series, (svg) => {
    const xs = series.length ? series[0].points.map((p) => p[0]) : [];
    const totals = xs.map((_, j) => series.reduce((a, s) => a + (s.points[j][1] || 0), 0));
    const { x, y } = frame(svg, xs, niceMax(Math.max(0, ...totals)));
    const bw = Math.max(2, Math.min(14, (W - M.l - M.r) / Math.max(1, xs.length) - 2));
    xs.forEach((b, j) => {
      let base = 0;
      series.forEach((s, i) => {
        const v = s.points[j][1] || 0;
        const bar = el("svg:rect", { class: "pt", x: x(b) - bw / 2, y: y(base + v), width: bw, height: Math.max(0, y(base) - y(base + v)), fill: COLORS[i % COLORS.length] });
        bar.append(el("svg:title", {}, `batch ${b}: ${s.name} ${v} ms`));
        svg.append(bar);
        base += v;
      });
    });
  });
}

const ms = (iso) => (iso ? Date.parse(iso) : NaN);

function renderCharts(q) {
  const ps = q.progress;
  const at = (f) => ps.map((p) => [p.batchId, f(p)]);
  lineChart("chart-rates", [
    { name: "input rows/s", points: at((p) => p.inputRowsPerSecond ?? NaN) },
    { name: "processed rows/s", points: at((p) => p.processedRowsPerSecond ?? NaN) },
  ]);
  stackedChart("chart-duration", PHASES.map(([name, keys]) => ({
    name,
    points: at((p) => keys.reduce((a, k) => a + (p.durationMs[k] || 0), 0)),
  })));
  const ops = Math.max(0, ...ps.map((p) => p.stateOperators.length));
  const perOp = (f) => Array.from({ length: ops }, (_, i) => ({
    name: `operator ${i}` + (ps.length && ps[ps.length - 1].stateOperators[i] ? ` (${ps[ps.length - 1].stateOperators[i].operatorName})` : ""),
    points: at((p) => (p.stateOperators[i] ? f(p.stateOperators[i]) : NaN)),
  }));
  lineChart("chart-state-rows", perOp((s) => s.numRowsTotal));
  lineChart("chart-state-memory", perOp((s) => s.memoryUsedBytes));
  lineChart("chart-watermark", [
    // As Spark's chart, batches before the first watermark (0) are left out.
    { name: "wall time − watermark (s)", points: at((p) => {
      const wm = ms(p.eventTime && p.eventTime.watermark);
      return wm > 0 ? (ms(p.timestamp) - wm) / 1000 : NaN;
    }) },
  ]);
  lineChart("chart-dropped", [
    { name: "rows dropped", points: at((p) => p.stateOperators.reduce((a, s) => a + s.numRowsDroppedByWatermark, 0)) },
  ]);
}

function renderBatches(q) {
  const body = document.querySelector("#batches tbody");
  body.replaceChildren();
  for (const p of q.progress.slice(-20).reverse()) {
    const tr = el("tr");
    const cells = [p.batchId, p.timestamp, p.numInputRows, fmt(p.inputRowsPerSecond), fmt(p.processedRowsPerSecond), p.durationMs.triggerExecution, p.sink.numOutputRows, (p.eventTime && p.eventTime.watermark) || "–"];
    cells.forEach((c, i) => tr.append(el("td", { class: i === 1 || i === 7 ? "" : "num" }, String(c))));
    body.append(tr);
  }
}

function queryRow(q, finished) {
  const last = q.progress[q.progress.length - 1];
  const tr = el("tr", { "data-run-id": q.runId });
  const status = q.status === "active" ? (q.idleSince ? "idle" : "active") : q.status;
  const cells = [q.name || "(unnamed)", q.id, q.runId, q.started || "–", q.batches];
  cells.forEach((c) => tr.append(el("td", {}, String(c))));
  tr.append(el("td", { class: "status-" + q.status }, status));
  if (finished) {
    tr.append(el("td", { class: "error-cell" }, q.exception ? `${q.errorClass}: ${q.exception}` : ""));
  } else {
    tr.append(el("td", { class: "num" }, fmt(last && last.inputRowsPerSecond)));
    tr.append(el("td", { class: "num" }, fmt(last && last.processedRowsPerSecond)));
  }
  if (q.runId === selected) tr.classList.add("selected");
  tr.addEventListener("click", () => {
    selected = q.runId;
    location.hash = encodeURIComponent(q.runId);
    refresh();
  });
  return tr;
}

function renderLists(queries) {
  for (const [id, finished] of [["active-queries", false], ["finished-queries", true]]) {
    const body = document.querySelector(`#${id} tbody`);
    const rows = queries.filter((q) => (q.status !== "active") === finished).reverse();
    body.replaceChildren(...rows.map((q) => queryRow(q, finished)));
    if (!rows.length) {
      const tr = el("tr");
      tr.append(el("td", { colspan: 8, class: "empty" }, finished ? "none yet" : "no query is running"));
      body.append(tr);
    }
  }
}

function render(data) {
  const queries = data.queries;
  if (!queries.some((q) => q.runId === selected)) {
    const first = [...queries].reverse().find((q) => q.status === "active") || queries[queries.length - 1];
    selected = first ? first.runId : null;
  }
  renderLists(queries);
  const q = queries.find((x) => x.runId === selected);
  const detail = document.getElementById("detail");
  detail.hidden = !q;
  if (!q) return;
  document.getElementById("detail-title").textContent = `Query ${q.name || q.id} (run ${q.runId})`;
  const err = document.getElementById("detail-error");
  err.hidden = !q.exception;
  err.textContent = q.exception ? `${q.errorClass}: ${q.exception}` : "";
  renderCharts(q);
  renderBatches(q);
}

async function refresh() {
  try {
    const r = await fetch("/api/queries", { cache: "no-store" });
    render(await r.json());
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    document.getElementById("updated").textContent = "cannot reach the application: " + e;
  }
}

refresh();
setInterval(refresh, 1000);

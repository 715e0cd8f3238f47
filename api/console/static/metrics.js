// memos console: per-minute line plots of the service's own metrics, drawn as inline SVG.
// Route names are set with textContent, so nothing from the server is parsed as markup.
"use strict";

const NS = "http://www.w3.org/2000/svg";
const COLOURS = ["#3b6fd8", "#d9822b", "#3aa17e", "#b0468f", "#7a6a2f"];
const W = 560, H = 200, LEFT = 48, RIGHT = 12, TOP = 10, BOTTOM = 24;

function el(name, attributes, text) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function clock(seconds) {
  const d = new Date(seconds * 1000);
  return String(d.getUTCHours()).padStart(2, "0") + ":" + String(d.getUTCMinutes()).padStart(2, "0");
}

// lines: [{name, points: [[t, value], ...]}] (value null: no data that minute)
function plot(svg, lines, times) {
  svg.setAttribute("viewBox", `0 0 ${W} ${H + 22 * Math.ceil(lines.length / 2)}`);
  const values = lines.flatMap((line) => line.points.map((p) => p[1])).filter((v) => v !== null);
  if (!values.length || !times.length) {
    svg.appendChild(el("text", { x: LEFT, y: TOP + 40, class: "plot-empty" }, "No data yet."));
    return;
  }
  const tMin = times[0], tMax = Math.max(times[times.length - 1], tMin + 60);
  const vMax = Math.max(...values) * 1.1 || 1;
  const x = (t) => LEFT + ((t - tMin) / (tMax - tMin)) * (W - LEFT - RIGHT);
  const y = (v) => TOP + (1 - v / vMax) * (H - TOP - BOTTOM);
  svg.appendChild(el("line", { class: "axis", x1: LEFT, y1: H - BOTTOM, x2: W - RIGHT, y2: H - BOTTOM }));
  svg.appendChild(el("line", { class: "axis", x1: LEFT, y1: TOP, x2: LEFT, y2: H - BOTTOM }));
  for (const v of [0, vMax / 2, vMax]) {
    svg.appendChild(el("text", { x: LEFT - 4, y: y(v) + 4, class: "tick", "text-anchor": "end" },
                       v >= 100 ? v.toFixed(0) : v.toPrecision(2)));
  }
  svg.appendChild(el("text", { x: LEFT, y: H - 6, class: "tick" }, clock(tMin)));
  svg.appendChild(el("text", { x: W - RIGHT, y: H - 6, class: "tick", "text-anchor": "end" }, clock(tMax)));
  lines.forEach((line, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const points = line.points.filter((p) => p[1] !== null);
    if (points.length > 1) {
      svg.appendChild(el("polyline", { class: "series", stroke: colour, fill: "none",
                                       points: points.map((p) => `${x(p[0])},${y(p[1])}`).join(" ") }));
    }
    for (const p of points) {
      const dot = el("circle", { class: "point", cx: x(p[0]), cy: y(p[1]), r: 2.5, fill: colour });
      dot.appendChild(el("title", {}, `${line.name} ${clock(p[0])}: ${p[1].toFixed(2)}`));
      svg.appendChild(dot);
    }
    const lx = LEFT + (i % 2) * 260, ly = H + 14 + 22 * Math.floor(i / 2);
    svg.appendChild(el("rect", { x: lx, y: ly - 9, width: 10, height: 10, fill: colour }));
    svg.appendChild(el("text", { x: lx + 14, y: ly, class: "legend" }, line.name.slice(0, 40)));
  });
}

function linesFor(svg, data) {
  const field = svg.dataset.series, scale = parseFloat(svg.dataset.scale) || 1;
  const at = (value) => (value === null || value === undefined ? null : value * scale);
  if (field === "p50_s" || field === "p95_s") {
    return data.routes.map((route) => ({
      name: route,
      points: data.samples.map((s) => [s.t, s.routes[route] ? at(s.routes[route][field]) : null]),
    }));
  }
  const name = field === "ttft_s" ? "chat TTFT" : "KV hit rate";
  return [{ name, points: data.samples.map((s) => [s.t, at(s[field])]) }];
}

document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector(".plots[data-src]");
  if (!box) return;
  fetch(box.dataset.src, { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
    .then((data) => {
      const times = data.samples.map((s) => s.t);
      for (const svg of box.querySelectorAll("svg.plot")) plot(svg, linesFor(svg, data), times);
      box.dataset.ready = "1";
    })
    .catch((status) => {
      box.appendChild(document.createTextNode("Could not load the samples (" + status + ")."));
      box.dataset.ready = "error";
    });
});

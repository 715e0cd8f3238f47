// memos console: draws a note neighbourhood (notes and the entities they mention) as SVG (force layout, pan, zoom, click to open).
// Labels are set with textContent, so a note's text is never parsed as markup.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

function layout(nodes, links, width, height) {
  const byId = new Map(nodes.map((n, i) => [n.id, n]));
  nodes.forEach((n, i) => {
    const angle = (2 * Math.PI * i) / Math.max(1, nodes.length);
    const radius = n.center ? 0 : 120 + 40 * (i % 3);
    n.x = width / 2 + radius * Math.cos(angle);
    n.y = height / 2 + radius * Math.sin(angle);
  });
  for (let step = 0; step < 300; step++) {
    const cooling = 1 - step / 300;
    for (const a of nodes) {
      a.dx = 0; a.dy = 0;
      for (const b of nodes) {
        if (a === b) continue;
        const ddx = a.x - b.x, ddy = a.y - b.y;
        const dist2 = Math.max(25, ddx * ddx + ddy * ddy);
        a.dx += (ddx / dist2) * 2500; a.dy += (ddy / dist2) * 2500;
      }
    }
    for (const link of links) {
      const s = byId.get(link.source), t = byId.get(link.target);
      if (!s || !t) continue;
      const ddx = t.x - s.x, ddy = t.y - s.y;
      const dist = Math.max(1, Math.hypot(ddx, ddy));
      const pull = (dist - 110) * 0.05;
      s.dx += (ddx / dist) * pull; s.dy += (ddy / dist) * pull;
      t.dx -= (ddx / dist) * pull; t.dy -= (ddy / dist) * pull;
    }
    for (const n of nodes) {
      if (n.center) { n.x = width / 2; n.y = height / 2; continue; }
      n.x += Math.max(-10, Math.min(10, n.dx)) * cooling;
      n.y += Math.max(-10, Math.min(10, n.dy)) * cooling;
    }
  }
  return byId;
}

function element(name, attributes) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, String(value));
  return el;
}

function draw(svg, data) {
  const width = svg.clientWidth || 900, height = svg.clientHeight || 560;
  const byId = layout(data.nodes, data.links, width, height);
  const scene = element("g", { class: "scene" });
  for (const link of data.links) {
    const s = byId.get(link.source), t = byId.get(link.target);
    if (!s || !t) continue;
    const line = element("line", { class: link.kind === "mentions" ? "edge mentions" : "edge", x1: s.x, y1: s.y, x2: t.x, y2: t.y,
                                   "stroke-width": 0.5 + 2 * Math.min(1, link.weight || 0) });
    const title = element("title", {});
    title.textContent = link.kind + " " + link.weight;
    line.appendChild(title);
    scene.appendChild(line);
  }
  for (const n of data.nodes) {
    const isEntity = n.type === "entity";
    const group = element("g", { class: (isEntity ? "entity" : "node state-" + n.state) +
                                        (n.center ? " center" : ""),
                                 "data-id": n.id, transform: `translate(${n.x},${n.y})` });
    group.appendChild(isEntity ? element("rect", { x: -6, y: -6, width: 12, height: 12,
                                                   transform: "rotate(45)" })
                               : element("circle", { r: n.center ? 11 : 8 }));
    const label = element("text", { x: 12, y: 4 });
    label.textContent = n.label;
    const title = element("title", {});
    title.textContent = n.label;
    group.appendChild(title);
    group.appendChild(label);
    group.addEventListener("click", () => {
      window.location.href = isEntity ? svg.dataset.search + encodeURIComponent(n.label)
                                      : svg.dataset.open + encodeURIComponent(n.id);
    });
    scene.appendChild(group);
  }
  svg.appendChild(scene);
  if (!data.nodes.length) {
    const empty = element("text", { x: 20, y: 30 });
    empty.textContent = "This cube has no notes yet.";
    svg.appendChild(empty);
  }
  enablePanZoom(svg, scene, fit(data.nodes, width, height));
}

// The view that shows every node (labels get 160 px on the right), never zoomed in.
function fit(nodes, width, height) {
  if (!nodes.length) return { x: 0, y: 0, k: 1 };
  const xs = nodes.map((n) => n.x), ys = nodes.map((n) => n.y);
  const left = Math.min(...xs) - 20, right = Math.max(...xs) + 160;
  const top = Math.min(...ys) - 20, bottom = Math.max(...ys) + 20;
  const k = Math.min(1, width / (right - left), height / (bottom - top));
  return { k, x: (width - k * (left + right)) / 2, y: (height - k * (top + bottom)) / 2 };
}

function enablePanZoom(svg, scene, initial) {
  let view = initial, drag = null;
  const apply = () => scene.setAttribute("transform", `translate(${view.x},${view.y}) scale(${view.k})`);
  apply();
  svg.addEventListener("wheel", (event) => {
    event.preventDefault();
    const factor = event.deltaY < 0 ? 1.15 : 1 / 1.15;
    const box = svg.getBoundingClientRect();
    const px = event.clientX - box.left, py = event.clientY - box.top;
    view = { k: view.k * factor, x: px - (px - view.x) * factor, y: py - (py - view.y) * factor };
    apply();
  }, { passive: false });
  svg.addEventListener("pointerdown", (event) => {
    if (event.target.closest(".node, .entity")) return;
    drag = { x: event.clientX - view.x, y: event.clientY - view.y };
    svg.setPointerCapture(event.pointerId);
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drag) return;
    view.x = event.clientX - drag.x; view.y = event.clientY - drag.y;
    apply();
  });
  svg.addEventListener("pointerup", () => { drag = null; });
}

document.addEventListener("DOMContentLoaded", () => {
  const svg = document.getElementById("graph");
  if (!svg) return;
  fetch(svg.dataset.src, { credentials: "same-origin" })
    .then((response) => response.ok ? response.json() : Promise.reject(response.status))
    .then((data) => { draw(svg, data); svg.dataset.ready = "1"; })
    .catch((status) => {
      const text = element("text", { x: 20, y: 30, class: "error" });
      text.textContent = "Could not load the graph (" + status + ").";
      svg.appendChild(text);
      svg.dataset.ready = "error";
    });
});

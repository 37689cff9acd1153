// Charts as plain SVG, drawn here (no third-party code): a bar/area trend, an hour-of-day
// "clock" and a weekday x hour heatmap. Each chart scales to its container's width.
import { s } from "./dom.js";

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

export function barChart(points, { label, value, format = String, height = 180, title = "" }) {
  const width = 640;
  const pad = { top: 10, right: 8, bottom: 28, left: 44 };
  const inner = { w: width - pad.left - pad.right, h: height - pad.top - pad.bottom };
  const max = niceMax(Math.max(0, ...points.map(value)));
  const slot = inner.w / Math.max(1, points.length);
  const svg = s("svg", {
    viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": title,
  }, s("title", {}, title));
  for (const tick of [0, 0.5, 1]) {
    const y = pad.top + inner.h * (1 - tick);
    svg.append(
      s("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: "grid" }),
      s("text", { x: pad.left - 6, y: y + 4, class: "axis", "text-anchor": "end" }, format(max * tick)),
    );
  }
  // At most about eight labels, so they never run into each other.
  const every = Math.max(1, Math.ceil(points.length / 8));
  points.forEach((point, i) => {
    const v = value(point);
    const h = max ? (inner.h * v) / max : 0;
    const x = pad.left + i * slot + slot * 0.15;
    svg.append(s("rect", {
      x, y: pad.top + inner.h - h, width: Math.max(1, slot * 0.7), height: h, class: "bar",
    }, s("title", {}, `${label(point)}: ${format(v)}`)));
    if (i % every === 0) {
      svg.append(s("text", {
        x: x + slot * 0.35, y: height - 10, class: "axis", "text-anchor": "middle",
      }, label(point)));
    }
  });
  return svg;
}

export function heatmap(rows, { rowLabels, columnLabels, format = String, title = "" }) {
  const cell = 22;
  const left = 40;
  const top = 18;
  const width = left + columnLabels.length * cell;
  const height = top + rowLabels.length * cell;
  const max = Math.max(1, ...rows.flat());
  const svg = s("svg", {
    viewBox: `0 0 ${width} ${height}`, class: "chart heatmap", role: "img", "aria-label": title,
  }, s("title", {}, title));
  columnLabels.forEach((name, c) => {
    if (c % 3 === 0) {
      svg.append(s("text", { x: left + c * cell + cell / 2, y: 12, class: "axis", "text-anchor": "middle" }, name));
    }
  });
  rows.forEach((row, r) => {
    svg.append(s("text", { x: left - 6, y: top + r * cell + 15, class: "axis", "text-anchor": "end" }, rowLabels[r]));
    row.forEach((v, c) => {
      const level = v === 0 ? 0 : 0.15 + 0.85 * (v / max);
      svg.append(s("rect", {
        x: left + c * cell + 1, y: top + r * cell + 1, width: cell - 2, height: cell - 2, rx: 3,
        class: "cell", "fill-opacity": level.toFixed(3),
      }, s("title", {}, `${rowLabels[r]} ${columnLabels[c]}: ${format(v)}`)));
    });
  });
  return svg;
}

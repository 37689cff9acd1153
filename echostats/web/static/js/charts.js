// Charts as plain SVG drawn at the width they are shown at (so text stays readable on a phone):
// bar charts with a unit on the value axis and a tooltip per bar, and a weekday x hour heatmap
// with a legend. Hover or focus a chart and use the arrow keys to read every value.
//
// Why no chart library: three simple forms, about 150 lines here; uPlot (the small one) has no
// bars without a plugin and no heatmap, and ECharts weighs a megabyte. Revisit if charts grow.
import { h, s } from "./dom.js";

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

// A chart container that draws at its own width, redraws when that changes, and shows the
// tooltip of the bar or cell under the pointer or picked with the arrow keys.
function interactive(title, draw) {
  const tip = h("div", { class: "chart-tip", role: "status", "aria-live": "polite" });
  const box = h("div", { class: "chart-box", tabindex: "0", role: "group", "aria-label": `${title}: use the arrow keys to read each value` }, tip);
  let marks = [];
  let picked = -1;
  let width = 0;
  const show = (index) => {
    marks.forEach((m) => m.classList.remove("picked"));
    const mark = marks[index];
    if (!mark) {
      tip.hidden = true;
      return;
    }
    picked = index;
    mark.classList.add("picked");
    tip.textContent = mark.dataset.tip;
    tip.hidden = false;
    const box_ = box.getBoundingClientRect();
    const rect = mark.getBoundingClientRect();
    tip.style.left = `${Math.min(Math.max(0, rect.left - box_.left + rect.width / 2 - 60), Math.max(0, box_.width - 150))}px`;
    tip.style.top = `${Math.max(0, rect.top - box_.top - 34)}px`;
  };
  const render = () => {
    const next = Math.round(box.clientWidth);
    if (!next || next === width) return;
    width = next;
    box.querySelector("svg")?.remove();
    const svg = draw(width);
    box.prepend(svg);
    marks = [...svg.querySelectorAll("[data-tip]")];
    tip.hidden = true;
  };
  box.addEventListener("pointermove", (event) => {
    const index = marks.indexOf(event.target.closest("[data-tip]"));
    if (index >= 0) show(index);
  });
  box.addEventListener("pointerleave", () => show(-1));
  box.addEventListener("blur", () => show(-1));
  box.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (!step || !marks.length) return;
    event.preventDefault();
    show(picked < 0 ? 0 : (picked + step + marks.length) % marks.length);
  });
  new ResizeObserver(render).observe(box);
  tip.hidden = true;
  return box;
}

// points: [{label, value, tip}]; unit: what the value axis counts ("plays", "h", "min").
export function barChart(points, { unit, format = (v) => String(v), height = 180, title = "", labelEvery } = {}) {
  return interactive(title, (width) => {
    const max = niceMax(Math.max(0, ...points.map((p) => p.value)));
    const ticks = [0, 0.5, 1].map((t) => [t, format(max * t)]);
    // Room for the longest tick label (about 7 px a character at 11 px); the unit sits above.
    const pad = { top: 22, right: 8, bottom: 24, left: 12 + 7 * Math.max(...ticks.map(([, l]) => l.length)) };
    const inner = { w: width - pad.left - pad.right, h: height - pad.top - pad.bottom };
    const slot = inner.w / Math.max(1, points.length);
    const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": title }, s("title", {}, title));
    svg.append(s("text", { x: 2, y: 11, class: "axis unit" }, unit));
    for (const [tick, label] of ticks) {
      const y = pad.top + inner.h * (1 - tick);
      svg.append(
        s("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: "grid" }),
        s("text", { x: pad.left - 6, y: y + 4, class: "axis", "text-anchor": "end" }, label),
      );
    }
    // As many labels as fit side by side (about 7 px a character plus a gap), never overlapping.
    const labelWidth = 7 * Math.max(1, ...points.map((p) => String(p.label).length)) + 14;
    const every = labelEvery || Math.max(1, Math.ceil(points.length / Math.max(1, Math.floor(inner.w / labelWidth))));
    points.forEach((point, i) => {
      const barHeight = (inner.h * point.value) / max;
      const x = pad.left + i * slot + slot * 0.12;
      svg.append(s("rect", {
        x, y: pad.top + inner.h - barHeight, width: Math.max(1, slot * 0.76), height: Math.max(0, barHeight), class: "bar", "data-tip": point.tip,
      }));
      if (i % every === 0) {
        svg.append(s("text", { x: x + slot * 0.38, y: height - 6, class: "axis", "text-anchor": "middle" }, point.label));
      }
    });
    return svg;
  });
}

// rows[r][c] = {value, tip}; a legend from "fewer" to the busiest cell.
export function heatmap(rows, { rowLabels, columnLabels, legend, title = "" }) {
  return interactive(title, (width) => {
    const left = 40;
    const top = 18;
    const cell = Math.max(10, Math.min(28, Math.floor((width - left) / columnLabels.length)));
    const height = top + rowLabels.length * cell + 44;
    const max = Math.max(1, ...rows.flat().map((c) => c.value));
    const level = (v) => (v === 0 ? 0 : 0.15 + 0.85 * (v / max));
    const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "chart heatmap", role: "img", "aria-label": title }, s("title", {}, title));
    const every = cell >= 20 ? 3 : 6;
    columnLabels.forEach((name, c) => {
      if (c % every === 0) svg.append(s("text", { x: left + c * cell + cell / 2, y: 12, class: "axis", "text-anchor": "middle" }, name));
    });
    rows.forEach((row, r) => {
      svg.append(s("text", { x: left - 6, y: top + r * cell + cell * 0.68, class: "axis", "text-anchor": "end" }, rowLabels[r]));
      row.forEach((c, col) => {
        svg.append(s("rect", {
          x: left + col * cell + 1, y: top + r * cell + 1, width: cell - 2, height: cell - 2, rx: 3,
          class: c.value ? "cell" : "cell empty", "fill-opacity": level(c.value).toFixed(3), "data-tip": c.tip,
        }));
      });
    });
    // Legend: five swatches from none to the busiest cell.
    const y = top + rowLabels.length * cell + 16;
    svg.append(s("text", { x: left, y: y + 12, class: "axis" }, "fewer"));
    [0, 0.25, 0.5, 0.75, 1].forEach((f, i) => {
      svg.append(s("rect", { x: left + 40 + i * 18, y, width: 14, height: 14, rx: 3, class: f ? "cell" : "cell empty", "fill-opacity": f ? level(f * max).toFixed(3) : "0" }));
    });
    svg.append(s("text", { x: left + 40 + 5 * 18 + 4, y: y + 12, class: "axis" }, `more (busiest: ${legend(max)})`));
    return svg;
  });
}

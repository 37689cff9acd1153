import { h, append } from "../dom.js";
import { count, duration } from "../format.js";
import { page, card } from "../ui.js";

function rangeInputs(label, prefix, ctx) {
  return h("fieldset", {}, h("legend", {}, label),
    h("input", { type: "date", name: `${prefix}_start`, value: ctx.params.get(`${prefix}_start`) || "", "aria-label": `${label} start` }),
    h("input", { type: "date", name: `${prefix}_end`, value: ctx.params.get(`${prefix}_end`) || "", "aria-label": `${label} end` }));
}

export async function render(root, ctx) {
  const form = h("form", { class: "filters" }, rangeInputs("Range A", "a", ctx), rangeInputs("Range B", "b", ctx), h("button", { type: "submit" }, "Compare"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const d = new FormData(form);
    ctx.go(Object.fromEntries([...d.entries()].map(([k, v]) => [k, v || null])));
  });
  append(root, page("Compare", form));
  const q = Object.fromEntries(["a_start", "a_end", "b_start", "b_end"].map((k) => [k, ctx.params.get(k) || undefined]));
  if (!q.a_start || !q.b_start) {
    root.append(h("p", { class: "muted" }, "Pick two date ranges to compare."));
    return;
  }
  const data = await ctx.api.get("/api/v1/analytics/compare", q);
  const a = data.a || data.range_a || {};
  const b = data.b || data.range_b || {};
  append(root,
    h("div", { class: "cards" },
      card("Plays A → B", `${count(a.plays ?? a.total_tracks_played)} → ${count(b.plays ?? b.total_tracks_played)}`),
      card("Time A → B", `${duration(a.ms ?? a.total_ms_played)} → ${duration(b.ms ?? b.total_ms_played)}`)),
    h("pre", { class: "raw" }, JSON.stringify(data.deltas ?? {}, null, 2)));
}

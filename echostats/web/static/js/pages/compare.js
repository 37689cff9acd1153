// Two date ranges side by side. The URL and the request use the API's own parameter names
// (range A: start/end, range B: compare_start/compare_end; GET /api/v1/analytics/compare), so
// what the page shows is always what the API was asked.
import { h, append } from "../dom.js";
import { count, date, duration, percentValue } from "../format.js";
import { page, card, empty } from "../ui.js";

const FIELDS = [["start", "compare_start"], ["end", "compare_end"]];

function dateInput(name, label, ctx) {
  return h("input", { type: "date", name, value: ctx.params.get(name) || "", "aria-label": label, required: name.endsWith("start") });
}

function rangeInputs(label, [startName, endName], ctx) {
  return h("fieldset", {}, h("legend", {}, label),
    dateInput(startName, `${label} start`, ctx), dateInput(endName, `${label} end (inclusive)`, ctx));
}

function lastDaysPreset(days) {
  // Range A: the last `days` days; range B: the `days` before them (local dates).
  const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  const day = (offset) => { const d = new Date(); d.setDate(d.getDate() - offset); return iso(d); };
  return { start: day(days - 1), end: day(0), compare_start: day(2 * days - 1), compare_end: day(days) };
}

function moveList(title, moves, kind) {
  const link = (m) => `#/${kind}/${encodeURIComponent(m.spotify_id)}`;
  const rank = (r) => (r === null || r === undefined ? "–" : `#${r}`);
  return h("section", { class: "moves" }, h("h2", {}, title),
    moves.length === 0 ? empty("None.") : h("ol", { class: "top-list compact" }, moves.slice(0, 10).map((m) =>
      h("li", {},
        h("span", { class: "title" }, h("a", { href: link(m) }, m.name),
          m.artists && m.artists.length ? h("span", { class: "muted" }, ` — ${m.artists.join(", ")}`) : null),
        h("span", { class: "stat" }, `${rank(m.rank_b)} → ${rank(m.rank_a)} · ${count(m.plays_b)} → ${count(m.plays_a)} plays`)))));
}

function rangeLabel(range) {
  // The API's end is exclusive; people read ranges with an inclusive last day.
  const last = new Date(new Date(range.end).getTime() - 1);
  return `${date(range.start)} – ${date(last.toISOString())}`;
}

export async function render(root, ctx) {
  const form = h("form", { class: "filters" },
    rangeInputs("Range A", FIELDS.map((f) => f[0]), ctx),
    rangeInputs("Range B", FIELDS.map((f) => f[1]), ctx),
    h("button", { type: "submit" }, "Compare"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const d = new FormData(form);
    ctx.go(Object.fromEntries([...d.entries()].map(([k, v]) => [k, v || null])));
  });
  const presets = h("div", { class: "periods", role: "group", "aria-label": "Presets" },
    [[7, "Last 7 days vs the 7 before"], [30, "Last 30 days vs the 30 before"]].map(([days, label]) =>
      h("button", { type: "button", class: "chip", onclick: () => ctx.go(lastDaysPreset(days)) }, label)));
  append(root, page("Compare", presets, form));

  const query = {};
  for (const name of FIELDS.flat()) {
    const value = ctx.params.get(name);
    if (value) query[name] = value;
  }
  if (!query.start) {
    root.append(h("p", { class: "muted" }, "Pick range A (and B, or leave B empty for the range of the same length just before A)."));
    return;
  }
  const data = await ctx.api.get("/api/v1/analytics/compare", query);
  const { a, b, deltas } = data;
  append(root,
    h("p", { class: "muted" }, `A: ${rangeLabel(data.range_a)} · B: ${rangeLabel(data.range_b)}`),
    h("div", { class: "cards" },
      card("Plays B → A", `${count(b.plays)} → ${count(a.plays)}`, percentValue(deltas.plays_pct, { signed: true })),
      card("Time B → A", `${duration(b.ms)} → ${duration(a.ms)}`, percentValue(deltas.ms_pct, { signed: true })),
      card("Tracks B → A", `${count(b.unique_tracks)} → ${count(a.unique_tracks)}`),
      card("Artists B → A", `${count(b.unique_artists)} → ${count(a.unique_artists)}`)),
    h("div", { class: "columns" },
      moveList("Artists climbing", data.artists.climbers, "artist"),
      moveList("New artists in A", data.artists.new_entries, "artist"),
      moveList("Tracks climbing", data.tracks.climbers, "track"),
      moveList("Tracks falling", data.tracks.fallers, "track")));
}

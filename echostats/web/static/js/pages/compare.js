// Two ranges side by side. The URL and the request use the API's own parameter names (range A:
// start/end, range B: compare_start/compare_end; GET /api/v1/analytics/compare), so what the
// page shows is always what the API was asked. Every change reads "A against B".
import { h, append } from "../dom.js";
import { count, date, duration, percentValue, signed } from "../format.js";
import { page, empty, entity, artistLinks, art, scroller } from "../ui.js";

const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

// Presets in local dates: A is the recent range, B the one it is compared with.
function presets(today = new Date()) {
  const y = today.getFullYear();
  const m = today.getMonth();
  const daysAgo = (n) => { const d = new Date(today); d.setDate(d.getDate() - n); return iso(d); };
  return [
    ["This month vs last month", { start: iso(new Date(y, m, 1)), end: iso(today), compare_start: iso(new Date(y, m - 1, 1)), compare_end: iso(new Date(y, m, 0)) }],
    ["This year vs last year", { start: iso(new Date(y, 0, 1)), end: iso(today), compare_start: iso(new Date(y - 1, 0, 1)), compare_end: iso(new Date(y - 1, 11, 31)) }],
    ["Last 30 days vs the 30 before", { start: daysAgo(29), end: iso(today), compare_start: daysAgo(59), compare_end: daysAgo(30) }],
  ];
}

function rangeInputs(label, [startName, endName], ctx) {
  const input = (name, what) => h("input", { type: "date", name, value: ctx.params.get(name) || "", "aria-label": `${label} ${what}`, required: name === "start" });
  return h("fieldset", {}, h("legend", {}, label), input(startName, "start"), input(endName, "end (inclusive)"));
}

function rangeLabel(range) {
  // The API's end is exclusive; people read ranges with an inclusive last day.
  const last = new Date(new Date(range.end).getTime() - 1);
  return `${date(range.start)} – ${date(last.toISOString())}`;
}

function totals(data) {
  const { a, b, deltas } = data;
  const line = (label, va, vb, change) => h("tr", {}, h("th", { scope: "row" }, label), h("td", {}, va), h("td", {}, vb), h("td", { class: "change" }, change));
  return scroller(h("table", { class: "compare-totals" },
    h("thead", {}, h("tr", {}, h("td", {}), h("th", { scope: "col" }, "A"), h("th", { scope: "col" }, "B"), h("th", { scope: "col" }, "A against B"))),
    h("tbody", {},
      line("Plays", count(a.plays), count(b.plays), `${signed(deltas.plays)} (${percentValue(deltas.plays_pct, { signed: true })})`),
      line("Listening time", duration(a.ms), duration(b.ms), `${deltas.ms >= 0 ? "+" : "−"}${duration(Math.abs(deltas.ms))} (${percentValue(deltas.ms_pct, { signed: true })})`),
      line("Different tracks", count(a.unique_tracks), count(b.unique_tracks), signed(deltas.unique_tracks)),
      line("Different artists", count(a.unique_artists), count(b.unique_artists), signed(deltas.unique_artists)))));
}

function moves(title, list, kind, note) {
  const rank = (r) => (r === null || r === undefined ? "–" : `#${r}`);
  return h("section", { class: "moves" }, h("h2", {}, title), h("p", { class: "muted small" }, note),
    list.length === 0 ? empty("None.") : scroller(h("table", {},
      h("thead", {}, h("tr", {}, ["", kind === "track" ? "Track" : "Artist", "Rank in A", "Rank in B", "Plays A", "Plays B"].map((t, i) => h("th", { scope: "col", class: i === 0 ? "visually-hidden-cell" : null }, i === 0 ? h("span", { class: "visually-hidden" }, "Artwork") : t)))),
      h("tbody", {}, list.slice(0, 10).map((m) => h("tr", {},
        h("td", {}, art(m.image_url, 32)),
        h("td", {}, entity(kind, m.spotify_id, m.name), kind === "track" && m.artists.length ? h("div", { class: "muted small" }, artistLinks(m.artists, m.artist_ids)) : null),
        h("td", {}, rank(m.rank_a)), h("td", {}, rank(m.rank_b)), h("td", {}, count(m.plays_a)), h("td", {}, count(m.plays_b))))))));
}

export async function render(root, ctx) {
  const form = h("form", { class: "filters compare-form" },
    rangeInputs("Range A", ["start", "end"], ctx),
    rangeInputs("Range B", ["compare_start", "compare_end"], ctx),
    h("button", { type: "submit" }, "Compare"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const d = new FormData(form);
    ctx.go(Object.fromEntries([...d.entries()].map(([k, v]) => [k, v || null])));
  });
  const chosen = ["start", "end", "compare_start", "compare_end"].map((k) => ctx.params.get(k) || "").join("|");
  const buttons = h("div", { class: "periods", role: "group", "aria-label": "Presets" },
    presets().map(([label, query]) => {
      const active = Object.values(query).join("|") === chosen;
      return h("button", { type: "button", class: active ? "chip active" : "chip", "aria-pressed": active ? "true" : "false", onclick: () => ctx.go(query) }, label);
    }));
  append(root, page("Compare", buttons, form));

  const query = {};
  for (const name of ["start", "end", "compare_start", "compare_end"]) {
    const value = ctx.params.get(name);
    if (value) query[name] = value;
  }
  if (!query.start) {
    root.append(h("p", { class: "muted" }, "Pick a preset, or range A (and B, or leave B empty for the range of the same length just before A)."));
    return;
  }
  const data = await ctx.api.get("/api/v1/analytics/compare", query);
  append(root,
    h("p", {}, h("strong", {}, "A: "), rangeLabel(data.range_a), h("strong", {}, " · B: "), rangeLabel(data.range_b)),
    totals(data),
    h("div", { class: "columns wide" },
      moves("Artists climbing", data.artists.climbers, "artist", "Ranked higher in A than in B."),
      moves("Artists falling", data.artists.fallers, "artist", "Ranked lower in A than in B."),
      moves("New artists in A", data.artists.new_entries, "artist", "In A's top, not played in B."),
      moves("Tracks climbing", data.tracks.climbers, "track", "Ranked higher in A than in B."),
      moves("Tracks falling", data.tracks.fallers, "track", "Ranked lower in A than in B."),
      moves("New tracks in A", data.tracks.new_entries, "track", "In A's top, not played in B.")));
}

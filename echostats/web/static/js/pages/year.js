// Year in review: any year (or a custom range of days) summed up, with its shareable image.
import { h, append } from "../dom.js";
import { count, day, duration } from "../format.js";
import { barChart } from "../charts.js";
import { card, topList } from "../ui.js";

export async function render(root, ctx) {
  const thisYear = new Date().getFullYear();
  const custom = ctx.params.get("start") || ctx.params.get("end");
  const query = custom
    ? { start: ctx.params.get("start") || undefined, end: ctx.params.get("end") || undefined }
    : { year: ctx.params.get("year") || thisYear };
  const review = await ctx.api.get("/api/v1/analytics/year-in-review", query);
  const years = [];
  for (let y = thisYear; y >= thisYear - 9; y -= 1) years.push(y);
  const picker = h("div", { class: "periods", role: "group", "aria-label": "Year" },
    years.map((y) => {
      const active = !custom && String(query.year) === String(y);
      return h("button", { type: "button", class: active ? "chip active" : "chip", "aria-pressed": active ? "true" : "false", onclick: () => ctx.go({ year: y, start: null, end: null }) }, String(y));
    }));
  const start = h("input", { type: "date", value: ctx.params.get("start") || "", "aria-label": "Custom range start" });
  const end = h("input", { type: "date", value: ctx.params.get("end") || "", "aria-label": "Custom range end (inclusive)" });
  const range = h("div", { class: "periods" }, start, end,
    h("button", { type: "button", class: custom ? "chip active" : "chip", onclick: () => ctx.go({ year: null, start: start.value || null, end: end.value || null }) }, "Custom range"));
  const imageUrl = `/api/v1/analytics/year-in-review.svg?${new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined))}`;
  const streak = review.longest_streak;
  append(root,
    h("h1", {}, `${review.title} in review`),
    picker, range,
    review.plays === 0 ? h("p", { class: "empty" }, "No plays in this range.") : null,
    h("div", { class: "cards" },
      card("Minutes listened", count(review.minutes), duration(review.ms)),
      card("Plays", count(review.plays)),
      card("Tracks", count(review.unique_tracks)),
      card("Artists", count(review.unique_artists), `${count(review.new_artists)} new to you`),
      card("Top day", review.top_day ? day(review.top_day.date) : "—", review.top_day ? `${count(review.top_day.plays)} plays` : null),
      card("Longest streak", `${count(streak ? streak.days : 0)} days`, streak ? `${day(streak.first)} – ${day(streak.last)}` : null)),
    h("div", { class: "columns" },
      h("section", {}, h("h2", {}, "Top artists"), topList(review.top_artists, { kind: "artist" })),
      h("section", {}, h("h2", {}, "Top tracks"), topList(review.top_tracks, { kind: "track" }))),
    h("div", { class: "columns" },
      h("section", {}, h("h2", {}, "Top albums"), topList(review.top_albums, { kind: "album" })),
      h("section", {}, h("h2", {}, "New artists you found"), topList(review.top_new_artists, { kind: "artist", empty: "No artist was new to you in this range." }))),
    h("section", {}, h("h2", {}, "When you listened"), barChart(review.hours.map((p) => ({
      label: `${p.hour}h`, value: p.count, tip: `${p.hour}:00–${p.hour + 1}:00: ${count(p.count)} plays, ${duration(p.total_ms)}`,
    })), { unit: "plays", format: (v) => count(Math.round(v)), height: 160, title: "Plays by hour of day" })),
    h("section", {}, h("h2", {}, "Share it"),
      h("p", {}, h("a", { href: imageUrl, download: `echostats-${review.title.replaceAll(" ", "")}.svg` }, "Download the image"), " (SVG, 1200 × 630)."),
      h("img", { class: "share-card", src: imageUrl, alt: `${review.title} in review: ${count(review.minutes)} minutes, ${count(review.plays)} plays`, width: 600, height: 315, loading: "lazy" })));
}

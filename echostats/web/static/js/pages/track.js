import { h, append } from "../dom.js";
import { count, duration, date } from "../format.js";
import { barChart } from "../charts.js";
import { card, page } from "../ui.js";

export async function render(root, ctx) {
  const track = await ctx.api.get(`/api/v1/tracks/${encodeURIComponent(ctx.args[0] || "")}`);
  const stats = track.stats || track;
  const perMonth = stats.plays_per_month || [];
  append(root, page(track.name,
    h("p", { class: "muted" }, [(track.artists || []).map((a) => a.name ?? a).join(", "), track.album ? ` · ${track.album.name ?? track.album}` : ""]),
    h("div", { class: "cards" },
      card("Plays", count(stats.play_count ?? stats.plays)),
      card("Listening time", duration(stats.total_ms)),
      card("First played", date(stats.first_played)),
      card("Last played", date(stats.last_played))),
    perMonth.length ? h("section", {}, h("h2", {}, "Plays per month"), barChart(perMonth, {
      label: (p) => p.month, value: (p) => p.plays ?? p.count, format: (v) => count(Math.round(v)), title: "Plays per month",
    })) : null));
}

import { h, clear, append } from "../dom.js";
import { count, duration, WEEKDAYS } from "../format.js";
import { barChart, heatmap } from "../charts.js";
import { card, page, periodPicker, rangeQuery, topList, errorState } from "../ui.js";
import { listen } from "../live.js";

function genreList(genres) {
  if (!genres || genres.length === 0) return h("p", { class: "empty" }, "No genre data: Spotify no longer shares genres with apps like this one.");
  return h("ol", { class: "top-list compact" }, genres.map((g) => h("li", {}, h("span", { class: "title" }, g.name), h("span", { class: "stat" }, `${count(g.play_count)} plays`))));
}

function dayCount(n) {
  return `${count(n)} ${n === 1 ? "day" : "days"}`;
}

function trendChart(trend) {
  return barChart(trend.points, {
    label: (p) => p.label, value: (p) => p.ms / 3600000, format: (v) => `${Math.round(v * 10) / 10} h`, title: "Listening hours per bucket",
  });
}

function heatChart(heat) {
  const grid = Array.from({ length: 7 }, () => Array(24).fill(0));
  for (const c of heat.cells) grid[c.weekday][c.hour] = c.plays;
  return heatmap(grid, {
    rowLabels: WEEKDAYS, columnLabels: Array.from({ length: 24 }, (_, i) => String(i)), format: (v) => `${count(v)} plays`, title: "Plays by weekday and hour",
  });
}

// A section drawn when its own request answers; it goes away if that request fails.
function slot(title, request, chart) {
  const section = h("section", { "aria-busy": "true" }, h("h2", {}, title), h("p", { class: "muted" }, "Loading…"));
  request.then((data) => {
    if (!data) {
      section.remove();
      return;
    }
    clear(section);
    append(section, h("h2", {}, title), chart(data));
    section.removeAttribute("aria-busy");
  });
  return section;
}

async function draw(body, ctx) {
  const query = rangeQuery(ctx.params);
  // The headline numbers and top lists come first and alone: the three routes share one
  // service process, so asking for the charts at the same time only slows the overview down.
  // The trend and the heatmap are asked for once it has answered and fill their own sections.
  const overview = await ctx.api.get("/api/v1/analytics/overview", query);
  const trend = ctx.api.get("/api/v1/analytics/trend", query).catch(() => null);
  const heat = ctx.api.get("/api/v1/analytics/heatmap", query)
    .then((data) => (data && Array.isArray(data.cells) ? data : null))
    .catch(() => null);
  clear(body);
  const hours = overview.hourly_distribution || [];
  const weekdays = overview.daily_distribution || [];
  append(body,
    h("div", { class: "cards" },
      card("Plays", count(overview.total_tracks_played)),
      card("Listening time", duration(overview.total_ms_played)),
      card("Tracks", count(overview.unique_tracks)),
      card("Artists", count(overview.unique_artists)),
      card("Albums", count(overview.unique_albums)),
      card("Streak", dayCount(overview.listening_streak_days), `longest ${dayCount(overview.longest_streak_days)}`)),
    overview.total_tracks_played === 0 ? h("p", { class: "empty" }, "No plays in this period yet. Listen on Spotify or import your history.") : null,
    slot("Trend", trend, trendChart),
    h("div", { class: "columns" },
      h("section", {}, h("h2", {}, "By hour of day"), barChart(hours, {
        label: (p) => String(p.hour), value: (p) => p.count, format: (v) => count(Math.round(v)), height: 150, title: "Plays per hour of day",
      })),
      h("section", {}, h("h2", {}, "By weekday"), barChart(weekdays, {
        label: (p) => WEEKDAYS[p.day], value: (p) => p.count, format: (v) => count(Math.round(v)), height: 150, title: "Plays per weekday",
      }))),
    h("div", { class: "columns" },
      h("section", {}, h("h2", {}, "Top artists"), topList(overview.top_artists, { linkTo: (i) => `#/artist/${encodeURIComponent(i.spotify_id)}` })),
      h("section", {}, h("h2", {}, "Top tracks"), topList(overview.top_tracks, { linkTo: (i) => `#/track/${encodeURIComponent(i.spotify_id)}` }))),
    h("div", { class: "columns" },
      h("section", {}, h("h2", {}, "Top albums"), topList(overview.top_albums)),
      h("section", {}, h("h2", {}, "Top genres"), genreList(overview.top_genres))),
    slot("Weekday × hour", heat, heatChart),
  );
}

export async function render(root, ctx) {
  const body = h("div", { "aria-live": "polite" });
  append(root, page("Overview", periodPicker(ctx.params, ctx.go), body));
  await draw(body, ctx);
  const current = ctx.params.get("start") || ctx.params.get("end") ? null : ctx.params.get("period") || "month";
  // Refetch only when the stats stream says this period changed (custom ranges: any change).
  return listen("/api/v1/stream/stats", {
    stats_updated: (data) => {
      if (current === null || (data.periods || []).includes(current)) {
        draw(body, ctx).catch((error) => {
          clear(body);
          body.append(errorState(error));
        });
      }
    },
  });
}

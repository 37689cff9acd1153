import { h, clear, append } from "../dom.js";
import { count, duration, WEEKDAYS } from "../format.js";
import { barChart, heatmap } from "../charts.js";
import { card, page, periodPicker, rangeQuery, topList, errorState, metricOf, metricSwitch, metricValue, metricText } from "../ui.js";
import { listen } from "../live.js";

function genreList(genres) {
  if (!genres || genres.length === 0 || genres.every((g) => g.name === "unknown")) {
    return h("p", { class: "empty" }, "No genre data: Spotify no longer shares genres with apps like this one.");
  }
  return h("ol", { class: "top-list compact" }, genres.map((g) => h("li", {}, h("span", { class: "title" }, g.name), h("span", { class: "stat" }, `${count(g.play_count)} plays`))));
}

function dayCount(n) {
  return `${count(n)} ${n === 1 ? "day" : "days"}`;
}

// The value axis of a chart in the chosen metric: plays, or listened hours/minutes.
function axis(metric, peakMs) {
  if (metric === "plays") return { unit: "plays", value: (plays) => plays, format: (v) => count(Math.round(v)) };
  if (peakMs >= 3 * 3600000) return { unit: "h", value: (_, ms) => ms / 3600000, format: (v) => count(Math.round(v * 10) / 10) };
  return { unit: "min", value: (_, ms) => ms / 60000, format: (v) => count(Math.round(v)) };
}

function tip(label, metric, plays, ms) {
  return `${label}: ${metricText(metric, plays, ms)}${metric === "plays" ? ` (${duration(ms)})` : ` (${count(plays)} plays)`}`;
}

function trendChart(trend, metric) {
  const a = axis(metric, Math.max(0, ...trend.points.map((p) => p.ms)));
  return barChart(trend.points.map((p) => ({ label: p.label, value: a.value(p.plays, p.ms), tip: tip(p.label, metric, p.plays, p.ms) })), {
    unit: a.unit, format: a.format, title: `${metric === "plays" ? "Plays" : "Listening time"} per ${trend.granularity}`,
  });
}

function distribution(points, labelOf, metric, title) {
  const a = axis(metric, Math.max(0, ...points.map((p) => p.total_ms)));
  return barChart(points.map((p) => ({ label: labelOf(p), value: a.value(p.count, p.total_ms), tip: tip(labelOf(p), metric, p.count, p.total_ms) })), {
    unit: a.unit, format: a.format, height: 160, title,
  });
}

function heatChart(heat, metric) {
  const grid = Array.from({ length: 7 }, () => Array(24).fill(null));
  for (const c of heat.cells) {
    const label = `${WEEKDAYS[c.weekday]} ${String(c.hour).padStart(2, "0")}:00–${String(c.hour + 1).padStart(2, "0")}:00`;
    grid[c.weekday][c.hour] = { value: metricValue(metric, c.plays, c.ms), tip: tip(label, metric, c.plays, c.ms) };
  }
  return heatmap(grid, {
    rowLabels: WEEKDAYS, columnLabels: Array.from({ length: 24 }, (_, i) => `${i}h`),
    legend: (v) => (metric === "plays" ? `${count(v)} plays` : `${count(Math.round(v))} min`),
    title: `${metric === "plays" ? "Plays" : "Minutes"} by weekday and hour`,
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
  const metric = metricOf(ctx.params);
  // The headline numbers and top lists come first and alone: the three routes share one
  // service process, so asking for the charts at the same time only slows the overview down.
  // The trend and the heatmap are asked for once it has answered and fill their own sections.
  const overview = await ctx.api.get("/api/v1/analytics/overview", query);
  const trend = ctx.api.get("/api/v1/analytics/trend", query).catch(() => null);
  const heat = ctx.api.get("/api/v1/analytics/heatmap", query)
    .then((data) => (data && Array.isArray(data.cells) ? data : null))
    .catch(() => null);
  clear(body);
  append(body,
    h("div", { class: "cards" },
      card("Plays", count(overview.total_tracks_played)),
      card("Listening time", duration(overview.total_ms_played)),
      card("Tracks", count(overview.unique_tracks)),
      card("Artists", count(overview.unique_artists)),
      card("Albums", count(overview.unique_albums)),
      card("Streak", dayCount(overview.listening_streak_days), `longest ${dayCount(overview.longest_streak_days)}`)),
    overview.total_tracks_played === 0 ? h("p", { class: "empty" }, "No plays in this period yet. Listen on Spotify or import your history.") : null,
    slot("Trend", trend, (t) => trendChart(t, metric)),
    h("div", { class: "columns" },
      h("section", {}, h("h2", {}, "By hour of day"), distribution(overview.hourly_distribution || [], (p) => `${p.hour}h`, metric, "By hour of day")),
      h("section", {}, h("h2", {}, "By weekday"), distribution(overview.daily_distribution || [], (p) => WEEKDAYS[p.day], metric, "By weekday"))),
    h("div", { class: "columns" },
      h("section", {}, h("h2", {}, "Top artists"), topList(overview.top_artists, { kind: "artist", metric })),
      h("section", {}, h("h2", {}, "Top tracks"), topList(overview.top_tracks, { kind: "track", metric }))),
    h("div", { class: "columns" },
      h("section", {}, h("h2", {}, "Top albums"), topList(overview.top_albums, { kind: "album", metric })),
      h("section", {}, h("h2", {}, "Top genres"), genreList(overview.top_genres))),
    slot("Weekday × hour", heat, (data) => heatChart(data, metric)),
  );
}

export async function render(root, ctx) {
  const body = h("div", { "aria-live": "polite" });
  append(root, page("Overview", h("div", { class: "pickers" }, periodPicker(ctx.params, ctx.go), metricSwitch(ctx.params, ctx.go)), body));
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

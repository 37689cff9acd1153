// Shared pieces of pages: headings, cards, links to entities, artwork, period and metric
// pickers, top lists, states, pagination.
import { h } from "./dom.js";
import { count, duration, minutes } from "./format.js";

export const PERIODS = [
  ["week", "7 days"], ["month", "30 days"], ["quarter", "90 days"], ["year", "365 days"], ["all_time", "All time"],
];

export function page(title, ...children) {
  return [h("h1", {}, title), ...children];
}

export function card(label, value, hint) {
  return h("div", { class: "card" }, h("div", { class: "card-label" }, label), h("div", { class: "card-value" }, value), hint ? h("div", { class: "muted" }, hint) : null);
}

// An error as a sentence, with the way out: sign in again, or reset a page's bad parameters.
export function errorState(error, { resetTo } = {}) {
  const status = error && error.status;
  let text = (error && error.message) || "Something went wrong.";
  let action = null;
  if (status === 401) {
    text = "Your session ended. ";
    action = h("a", { href: "#/signin" }, "Sign in again");
  } else if (status === 502) {
    text = `Spotify is not answering right now. ${text}`;
  } else if (status === 503) {
    text = "The database is unavailable right now; this page retries when you reload.";
  } else if ((status === 422 || status === 400 || status === 404) && resetTo) {
    action = [" ", h("a", { href: resetTo }, "Show this page without those choices")];
  }
  return h("p", { class: "error", role: "alert" }, text, action);
}

export function empty(text) {
  return h("p", { class: "empty" }, text);
}

// --- links and artwork ----------------------------------------------------------------------

export function href(kind, id) {
  return `#/${kind}/${encodeURIComponent(id)}`;
}

// The entity's name, linked to its page when its id is known.
export function entity(kind, id, text) {
  return id ? h("a", { href: href(kind, id) }, text) : text;
}

export function artistLinks(names = [], ids = []) {
  return names.map((name, i) => [i ? ", " : "", entity("artist", ids[i], name)]);
}

// "Artist, Artist · Album" under a track's name, each part a link.
export function byline(item) {
  const parts = [];
  if (item.artists && item.artists.length) parts.push(artistLinks(item.artists, item.artist_ids));
  if (item.album) parts.push([parts.length ? " · " : "", entity("album", item.album_id, item.album)]);
  return parts.length ? h("span", { class: "byline muted" }, parts) : null;
}

// Artwork, or a grey placeholder when the catalog has none or the picture does not load.
export function art(url, size = 40) {
  const placeholder = () => h("span", { class: "art art-placeholder", "aria-hidden": "true" });
  if (!url) return placeholder();
  const img = h("img", { class: "art", src: url, alt: "", width: size, height: size, loading: "lazy", decoding: "async" });
  img.addEventListener("error", () => img.replaceWith(placeholder()));
  return img;
}

// --- pickers ---------------------------------------------------------------------------------

// Period selection lives in the URL (#/page?period=month or ?start=..&end=..).
export function rangeQuery(params) {
  if (params.get("start") || params.get("end")) {
    return { start: params.get("start") || undefined, end: params.get("end") || undefined };
  }
  return { period: params.get("period") || "month" };
}

function chip(label, active, onclick) {
  return h("button", { type: "button", class: active ? "chip active" : "chip", "aria-pressed": active ? "true" : "false", onclick }, label);
}

export function periodPicker(params, navigate) {
  const current = params.get("start") || params.get("end") ? "custom" : params.get("period") || "month";
  const buttons = PERIODS.map(([value, label]) => chip(label, value === current, () => navigate({ period: value, start: null, end: null, page: null })));
  const start = h("input", { type: "date", value: params.get("start") || "", "aria-label": "Custom range start" });
  const end = h("input", { type: "date", value: params.get("end") || "", "aria-label": "Custom range end (inclusive)" });
  const apply = chip("Custom", current === "custom", () => navigate({ period: null, start: start.value || null, end: end.value || null, page: null }));
  return h("div", { class: "periods", role: "group", "aria-label": "Period" }, buttons, h("span", { class: "custom" }, start, end, apply));
}

// Plays or minutes: every chart and top list shows the one chosen here (?metric=minutes).
export function metricOf(params) {
  return params.get("metric") === "minutes" ? "minutes" : "plays";
}

export function metricSwitch(params, navigate) {
  const metric = metricOf(params);
  return h("div", { class: "periods metric", role: "group", "aria-label": "Show" },
    chip("Plays", metric === "plays", () => navigate({ metric: null })),
    chip("Minutes", metric === "minutes", () => navigate({ metric: "minutes" })));
}

export function metricValue(metric, plays, ms) {
  return metric === "minutes" ? (ms ?? 0) / 60000 : plays ?? 0;
}

export function metricText(metric, plays, ms) {
  return metric === "minutes" ? minutes(ms) : `${count(plays)} ${plays === 1 ? "play" : "plays"}`;
}

// --- lists -----------------------------------------------------------------------------------

function meter(fraction) {
  const fill = h("span", { class: "meter-fill" });
  fill.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  return h("span", { class: "meter", "aria-hidden": "true" }, fill);
}

// A ranked list of tracks, artists or albums: artwork, name and byline as links, the chosen
// metric with a bar (ranked by plays, as the API ranks them).
export function topList(items, { kind, metric = "plays", empty: emptyText = "Nothing played in this period yet." } = {}) {
  if (!items || items.length === 0) return empty(emptyText);
  const peak = Math.max(...items.map((i) => metricValue(metric, i.play_count, i.total_ms)), 1);
  const list = h("ol", { class: "top-list" }, items.map((item) => h("li", {},
    art(item.image_url),
    h("span", { class: "rank" }, item.rank),
    h("span", { class: "title" }, entity(kind, item.spotify_id, item.name), kind === "artist" ? null : byline(item)),
    h("span", { class: "stat" },
      h("span", {}, metricText(metric, item.play_count, item.total_ms)),
      h("span", { class: "muted small" }, metric === "minutes" ? metricText("plays", item.play_count) : duration(item.total_ms)),
      meter(metricValue(metric, item.play_count, item.total_ms) / peak)))));
  return metric === "minutes" ? [list, h("p", { class: "muted small" }, "Ranked by plays; the bars show minutes.")] : list;
}

export function pager(data, go) {
  if (!data || data.pages <= 1) return null;
  return h("nav", { class: "pager", "aria-label": "Pagination" },
    h("button", { type: "button", disabled: data.page <= 1, onclick: () => go(data.page - 1) }, "Previous"),
    h("span", {}, `Page ${count(data.page)} of ${count(data.pages)}`),
    h("button", { type: "button", disabled: data.page >= data.pages, onclick: () => go(data.page + 1) }, "Next"));
}

// A wide table in a box that scrolls sideways on a narrow screen; focusable, so the keyboard can
// scroll it too.
export function scroller(table) {
  const caption = table.querySelector("caption, thead th[scope=col]");
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption ? `Table: ${caption.textContent}` : "Table" }, table);
}

// Shared pieces of pages: headings, cards, period picker, top lists, states, pagination.
import { h } from "./dom.js";
import { count, duration } from "./format.js";

export const PERIODS = [
  ["week", "7 days"], ["month", "30 days"], ["quarter", "90 days"], ["year", "365 days"], ["all_time", "All time"],
];

export function page(title, ...children) {
  return [h("h1", {}, title), ...children];
}

export function card(label, value, hint) {
  return h("div", { class: "card" }, h("div", { class: "card-label" }, label), h("div", { class: "card-value" }, value), hint ? h("div", { class: "muted" }, hint) : null);
}

export function errorState(error) {
  const status = error && error.status;
  let text = (error && error.message) || "Something went wrong.";
  if (status === 401) text = "Your session ended. Sign in again.";
  if (status === 502) text = `Spotify is not answering right now. ${text}`;
  if (status === 503) text = "The database is unavailable right now; this page retries when you reload.";
  return h("p", { class: "error", role: "alert" }, text);
}

export function empty(text) {
  return h("p", { class: "empty" }, text);
}

// Period selection lives in the URL (#/page?period=month or ?start=..&end=..).
export function rangeQuery(params) {
  if (params.get("start") || params.get("end")) {
    return { start: params.get("start") || undefined, end: params.get("end") || undefined };
  }
  return { period: params.get("period") || "month" };
}

export function periodPicker(params, navigate) {
  const current = params.get("start") || params.get("end") ? "custom" : params.get("period") || "month";
  const buttons = PERIODS.map(([value, label]) =>
    h("button", {
      type: "button", class: value === current ? "chip active" : "chip", "aria-pressed": value === current,
      onclick: () => navigate({ period: value, start: null, end: null }),
    }, label));
  const start = h("input", { type: "date", value: params.get("start") || "", "aria-label": "Custom range start" });
  const end = h("input", { type: "date", value: params.get("end") || "", "aria-label": "Custom range end" });
  const apply = h("button", {
    type: "button", class: current === "custom" ? "chip active" : "chip",
    onclick: () => navigate({ period: null, start: start.value || null, end: end.value || null }),
  }, "Custom");
  return h("div", { class: "periods", role: "group", "aria-label": "Period" }, buttons, h("span", { class: "custom" }, start, end, apply));
}

export function topList(items, { linkTo } = {}) {
  if (!items || items.length === 0) return empty("Nothing played in this period yet.");
  return h("ol", { class: "top-list" }, items.map((item) => {
    const name = linkTo && item.spotify_id ? h("a", { href: linkTo(item) }, item.name) : item.name;
    const artists = item.artists && item.artists.length ? h("span", { class: "muted" }, ` — ${item.artists.join(", ")}`) : null;
    return h("li", {},
      item.image_url ? h("img", { src: item.image_url, alt: "", width: 40, height: 40, loading: "lazy" }) : h("span", { class: "art-placeholder", "aria-hidden": "true" }),
      h("span", { class: "rank" }, item.rank),
      h("span", { class: "title" }, name, artists),
      h("span", { class: "stat" }, `${count(item.play_count)} plays · ${duration(item.total_ms)}`));
  }));
}

export function pager(data, go) {
  if (!data || data.pages <= 1) return null;
  return h("nav", { class: "pager", "aria-label": "Pages" },
    h("button", { type: "button", disabled: data.page <= 1, onclick: () => go(data.page - 1) }, "Previous"),
    h("span", {}, `Page ${data.page} of ${data.pages}`),
    h("button", { type: "button", disabled: data.page >= data.pages, onclick: () => go(data.page + 1) }, "Next"));
}

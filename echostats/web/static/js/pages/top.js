import { h, append } from "../dom.js";
import { page, pager, periodPicker, rangeQuery, topList, metricOf, metricSwitch } from "../ui.js";

const KINDS = [["tracks", "Tracks", "track"], ["artists", "Artists", "artist"], ["albums", "Albums", "album"]];

export async function render(root, ctx) {
  const chosen = KINDS.find(([value]) => value === ctx.params.get("kind")) || KINDS[0];
  const [kind, , entity] = chosen;
  const pageNo = Number(ctx.params.get("page") || 1);
  const data = await ctx.api.get(`/api/v1/${kind}/top`, { ...rangeQuery(ctx.params), page: pageNo, limit: 50 });
  const tabs = h("div", { class: "tabs", role: "group", "aria-label": "List" }, KINDS.map(([value, label]) =>
    h("button", { type: "button", "aria-pressed": value === kind ? "true" : "false", class: value === kind ? "chip active" : "chip", onclick: () => ctx.go({ kind: value, page: null }) }, label)));
  append(root, page("Top lists",
    h("div", { class: "pickers" }, periodPicker(ctx.params, ctx.go), metricSwitch(ctx.params, ctx.go)),
    tabs,
    h("p", { class: "muted small" }, `${data.total.toLocaleString()} ${kind} in this period, ranked by plays.`),
    topList(data.items, { kind: entity, metric: metricOf(ctx.params) }),
    pager(data, (p) => ctx.go({ page: p }))));
}

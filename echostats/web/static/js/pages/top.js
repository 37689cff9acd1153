import { h, append } from "../dom.js";
import { page, pager, periodPicker, rangeQuery, topList } from "../ui.js";

const KINDS = [["tracks", "Tracks"], ["artists", "Artists"], ["albums", "Albums"]];

export async function render(root, ctx) {
  const kind = ctx.params.get("kind") || "tracks";
  const pageNo = Number(ctx.params.get("page") || 1);
  const data = await ctx.api.get(`/api/v1/${kind}/top`, { ...rangeQuery(ctx.params), page: pageNo, limit: 50 });
  const tabs = h("div", { class: "tabs", role: "tablist" }, KINDS.map(([value, label]) =>
    h("button", { type: "button", role: "tab", "aria-selected": value === kind, class: value === kind ? "chip active" : "chip", onclick: () => ctx.go({ kind: value, page: null }) }, label)));
  const link = kind === "albums" ? undefined : (i) => `#/${kind === "tracks" ? "track" : "artist"}/${encodeURIComponent(i.spotify_id)}`;
  append(root, page("Top lists", periodPicker(ctx.params, ctx.go), tabs, topList(data.items, { linkTo: link }), pager(data, (p) => ctx.go({ page: p }))));
}

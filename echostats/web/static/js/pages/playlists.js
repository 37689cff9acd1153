import { h, append } from "../dom.js";
import { count } from "../format.js";
import { page, pager, empty } from "../ui.js";

export async function render(root, ctx) {
  if (ctx.args[0]) {
    const p = await ctx.api.get(`/api/v1/playlists/${encodeURIComponent(ctx.args[0])}`);
    const items = p.items || [];
    append(root, page(p.name,
      h("p", { class: "muted" }, `${count(items.length)} tracks`),
      items.length ? h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, ["Track", "Artists", "Your plays"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, items.map((i) => h("tr", {},
          h("td", {}, i.name ?? i.track?.name ?? "—"),
          h("td", {}, (i.artists ?? i.track?.artists ?? []).map((a) => a.name ?? a).join(", ")),
          h("td", {}, count(i.play_count ?? 0))))))) : empty("Spotify shares only the details of this playlist, not its tracks.")));
    return;
  }
  const data = await ctx.api.get("/api/v1/playlists", { page: ctx.params.get("page") || 1, limit: 50 });
  append(root, page("Playlists",
    data.items.length ? h("ul", { class: "grid-list" }, data.items.map((p) => h("li", {},
      h("a", { href: `#/playlists/${encodeURIComponent(p.id ?? p.spotify_id)}` }, p.name),
      h("span", { class: "muted" }, ` ${count(p.tracks_total ?? p.items_total ?? 0)} tracks`)))) : empty("No playlists synced yet."),
    pager(data, (n) => ctx.go({ page: n }))));
}

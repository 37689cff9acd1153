import { h, append } from "../dom.js";
import { count, duration } from "../format.js";
import { page, pager, empty, entity, artistLinks, art, scroller } from "../ui.js";

async function renderPlaylist(root, ctx, id) {
  const p = await ctx.api.get(`/api/v1/playlists/${encodeURIComponent(id)}`);
  const items = p.items || [];
  append(root,
    h("header", { class: "detail-head" }, art(p.image_url, 120), h("div", {},
      h("h1", {}, p.name),
      h("p", { class: "muted" }, `${p.owner_name ? `by ${p.owner_name} · ` : ""}${count(p.tracks_total ?? items.length)} tracks`),
      h("p", {}, h("a", { href: "#/playlists" }, "All playlists")))),
    items.length ? scroller(h("table", {},
      h("thead", {}, h("tr", {}, ["#", "Track", "Length", "Your plays"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, items.map((i) => h("tr", {},
        h("td", { class: "muted" }, i.position + 1),
        h("td", {}, h("div", { class: "track-cell" }, art(i.image_url, 36), h("div", {},
          entity("track", i.spotify_id, i.name || "—"),
          h("div", { class: "muted" }, artistLinks(i.artists.map((a) => a.name), i.artists.map((a) => a.spotify_id)),
            i.album && i.album.name ? [" · ", entity("album", i.album.id, i.album.name)] : null)))),
        h("td", {}, i.duration_ms ? duration(i.duration_ms) : "—"),
        h("td", {}, count(i.play_count))))))) : empty(p.items_error || "Spotify shares only the details of this playlist, not its tracks."));
}

export async function render(root, ctx) {
  if (ctx.args[0]) return renderPlaylist(root, ctx, ctx.args[0]);
  const data = await ctx.api.get("/api/v1/playlists", { page: ctx.params.get("page") || 1, limit: 50 });
  append(root, page("Playlists",
    data.items.length ? h("ul", { class: "grid-list" }, data.items.map((p) => h("li", {},
      art(p.image_url, 56),
      h("div", {}, h("a", { href: `#/playlists/${encodeURIComponent(p.id)}` }, p.name),
        h("div", { class: "muted small" }, `${count(p.tracks_total ?? 0)} tracks${p.owner_name ? ` · ${p.owner_name}` : ""}`))))) : empty("No playlists synced yet."),
    pager(data, (n) => ctx.go({ page: n }))));
}

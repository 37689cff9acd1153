import { h, append } from "../dom.js";
import { page, empty, artistLinks, art } from "../ui.js";

// Followed artists and saved albums, each linked to its page (which says so when it was never
// played) with its picture.
export async function render(root, ctx) {
  const after = ctx.params.get("after") || undefined;
  const offset = Number(ctx.params.get("offset") || 0);
  const [artists, albums] = await Promise.all([
    ctx.api.get("/api/v1/library/followed-artists", { after, limit: 50 }),
    ctx.api.get("/api/v1/library/saved-albums", { limit: 50, offset }),
  ]);
  // The name travels in the link: a page for something never played shows it all the same.
  const named = (kind, id, name) => (id ? h("a", { href: `#/${kind}/${encodeURIComponent(id)}?name=${encodeURIComponent(name)}` }, name) : name);
  append(root, page("Library",
    h("section", {}, h("h2", {}, `Followed artists (${artists.total})`),
      artists.items.length ? h("ul", { class: "grid-list" }, artists.items.map((a) => h("li", {}, art(a.image_url, 56), h("div", {}, named("artist", a.spotify_id, a.name))))) : empty("You follow no artists."),
      artists.next_after ? h("p", {}, h("a", { href: `#/library?after=${encodeURIComponent(artists.next_after)}` }, "More artists")) : null),
    h("section", {}, h("h2", {}, `Saved albums (${albums.total})`),
      albums.items.length ? h("ul", { class: "grid-list" }, albums.items.map(({ album }) => h("li", {}, art(album.image_url, 56),
        h("div", {}, named("album", album.spotify_id, album.name),
          h("div", { class: "muted small" }, artistLinks(album.artists.map((a) => a.name), album.artists.map((a) => a.spotify_id))))))) : empty("No saved albums."),
      albums.next_offset ? h("p", {}, h("a", { href: `#/library?offset=${albums.next_offset}` }, "More albums")) : null)));
}

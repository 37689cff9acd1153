import { h, append } from "../dom.js";
import { page, empty } from "../ui.js";

export async function render(root, ctx) {
  const after = ctx.params.get("after") || undefined;
  const [artists, albums] = await Promise.all([
    ctx.api.get("/api/v1/library/followed-artists", { after, limit: 50 }),
    ctx.api.get("/api/v1/library/saved-albums", { limit: 50, offset: ctx.params.get("offset") || 0 }),
  ]);
  const artistItems = artists.items || artists.artists || [];
  const albumItems = albums.items || [];
  append(root, page("Library",
    h("section", {}, h("h2", {}, "Followed artists"),
      artistItems.length ? h("ul", { class: "grid-list" }, artistItems.map((a) => h("li", {}, a.name))) : empty("You follow no artists."),
      artists.next_after || artists.cursors?.after ? h("button", { type: "button", onclick: () => ctx.go({ after: artists.next_after || artists.cursors.after }) }, "More artists") : null),
    h("section", {}, h("h2", {}, "Saved albums"),
      albumItems.length ? h("ul", { class: "grid-list" }, albumItems.map((a) => h("li", {}, (a.album ?? a).name))) : empty("No saved albums."))));
}

import { h, append } from "../dom.js";
import { day } from "../format.js";
import { artistLinks, topList, metricOf, metricSwitch } from "../ui.js";
import { header, statCards, perMonth, loadEntity, mergeSection } from "./detail.js";

export async function render(root, ctx) {
  const album = await loadEntity(root, ctx, "album", `/api/v1/albums/${encodeURIComponent(ctx.args[0] || "")}`);
  if (!album) return;
  const metric = metricOf(ctx.params);
  append(root,
    header(album.name, album.image_url,
      h("p", {}, artistLinks(album.artists, album.artist_ids)),
      album.release_date ? h("p", { class: "muted" }, `Released ${album.release_date.length === 10 ? day(album.release_date) : album.release_date}`) : null),
    statCards(album.stats),
    metricSwitch(ctx.params, ctx.go),
    perMonth(album.stats, metric),
    h("section", {}, h("h2", {}, "Tracks you played"), topList(album.tracks, { kind: "track", metric, empty: "No track of this album in your history." })),
    album.stats.plays ? mergeSection(ctx, "album", album) : null);
}

import { h, append } from "../dom.js";
import { topList, metricOf, metricSwitch } from "../ui.js";
import { header, statCards, perMonth, loadEntity, mergeSection } from "./detail.js";

export async function render(root, ctx) {
  const id = ctx.args[0] || "";
  const artist = await loadEntity(root, ctx, "artist", `/api/v1/artists/${encodeURIComponent(id)}`);
  if (!artist) return;
  const metric = metricOf(ctx.params);
  append(root,
    header(artist.name, artist.image_url,
      artist.genres.length ? h("p", { class: "muted" }, artist.genres.join(", ")) : null,
      // By name: imported plays carry no artist ids.
      h("p", {}, h("a", { href: `#/history?${new URLSearchParams({ artist: artist.name })}` }, "Every play of this artist"))),
    statCards(artist.stats),
    metricSwitch(ctx.params, ctx.go),
    perMonth(artist.stats, metric),
    h("section", {}, h("h2", {}, "Your top tracks"), topList(artist.top_tracks, { kind: "track", metric })),
    artist.stats.plays ? mergeSection(ctx, "artist", artist) : null);
}

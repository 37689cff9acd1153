import { h, append } from "../dom.js";
import { duration as length } from "../format.js";
import { artistLinks, entity, metricOf, metricSwitch } from "../ui.js";
import { header, statCards, perMonth, loadEntity, mergeSection } from "./detail.js";

// The history filter for this track: its Spotify id, or (a names-only track) its name and artist.
function playsOf(id, track) {
  if (!id.startsWith("name:")) return new URLSearchParams({ track: id });
  return new URLSearchParams({ track: track.name, ...(track.artists.length ? { artist: track.artists[0] } : {}) });
}

export async function render(root, ctx) {
  const id = ctx.args[0] || "";
  const track = await loadEntity(root, ctx, "track", `/api/v1/tracks/${encodeURIComponent(id)}`);
  if (!track) return;
  append(root,
    header(track.name, track.image_url,
      h("p", {}, artistLinks(track.artists, track.artist_ids || [])),
      track.album ? h("p", { class: "muted" }, "from ", entity("album", track.album_id, track.album)) : null,
      track.duration_ms ? h("p", { class: "muted" }, `Length ${length(track.duration_ms)}`) : null,
      h("p", {}, h("a", { href: `#/history?${playsOf(id, track)}` }, "Every play of this track"))),
    statCards(track.stats),
    metricSwitch(ctx.params, ctx.go),
    perMonth(track.stats, metricOf(ctx.params)),
    track.stats.plays ? mergeSection(ctx, "track", track) : null);
}

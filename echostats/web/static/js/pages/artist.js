import { h, append } from "../dom.js";
import { count, duration, date } from "../format.js";
import { card, page, topList } from "../ui.js";

export async function render(root, ctx) {
  const artist = await ctx.api.get(`/api/v1/artists/${encodeURIComponent(ctx.args[0] || "")}`);
  const stats = artist.stats || artist;
  append(root, page(artist.name,
    h("div", { class: "cards" },
      card("Plays", count(stats.play_count ?? stats.plays)),
      card("Listening time", duration(stats.total_ms)),
      card("First played", date(stats.first_played)),
      card("Last played", date(stats.last_played))),
    h("section", {}, h("h2", {}, "Your top tracks"), topList(artist.top_tracks, { linkTo: (i) => `#/track/${encodeURIComponent(i.spotify_id)}` }))));
}

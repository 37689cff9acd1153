import { h, append } from "../dom.js";
import { count, date } from "../format.js";
import { page, empty, entity, artistLinks, art } from "../ui.js";

const SEEDS = [["mixed", "Mixed"], ["artists", "By artists"], ["tracks", "By tracks"], ["genres", "By genres"]];

export async function render(root, ctx) {
  const chosen = SEEDS.find(([v]) => v === ctx.params.get("seed_type")) || SEEDS[0];
  const seed = chosen[0];
  const data = await ctx.api.get("/api/v1/recommendations", { seed_type: seed, limit: 30 });
  const notes = (data.notes || []).map((n) => h("p", { class: "muted" }, n));
  append(root, page("Recommendations",
    h("p", { class: "muted" }, `From your own history (${count(data.plays_considered)} plays since ${date(data.since)}): forgotten favourites, tracks on repeat, and what you play together.`),
    h("div", { class: "tabs", role: "group", "aria-label": "Suggest by" }, SEEDS.map(([v, l]) =>
      h("button", { type: "button", class: v === seed ? "chip active" : "chip", "aria-pressed": v === seed ? "true" : "false", onclick: () => ctx.go({ seed_type: v }) }, l))),
    notes,
    data.items.length ? h("ol", { class: "suggestions" }, data.items.map((r) => h("li", {},
      art(r.track.image_url, 48),
      h("div", { class: "suggestion" },
        h("div", { class: "title" }, entity("track", r.track.id, r.track.name)),
        h("div", { class: "muted" }, artistLinks(r.track.artists, r.track.artist_ids),
          r.track.album ? [" · ", entity("album", r.track.album_id, r.track.album)] : null),
        h("div", { class: "reason" }, r.detail))))) : notes.length ? null : empty("Nothing to suggest yet.")));
}

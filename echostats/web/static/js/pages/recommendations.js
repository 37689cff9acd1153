import { h, append } from "../dom.js";
import { page, empty } from "../ui.js";

const SEEDS = [["mixed", "Mixed"], ["artists", "By artists"], ["tracks", "By tracks"], ["genres", "By genres"]];

export async function render(root, ctx) {
  const seed = ctx.params.get("seed_type") || "mixed";
  const data = await ctx.api.get("/api/v1/recommendations", { seed_type: seed, limit: 30 });
  const items = data.items || data.recommendations || [];
  append(root, page("Recommendations",
    h("div", { class: "tabs" }, SEEDS.map(([v, l]) => h("button", { type: "button", class: v === seed ? "chip active" : "chip", "aria-pressed": v === seed, onclick: () => ctx.go({ seed_type: v }) }, l))),
    items.length ? h("ol", { class: "top-list" }, items.map((r) => h("li", {},
      h("span", { class: "title" }, r.name ?? r.track?.name, h("span", { class: "muted" }, ` — ${(r.artists ?? r.track?.artists ?? []).map((a) => a.name ?? a).join(", ")}`)),
      h("span", { class: "reason" }, r.reason)))) : empty("Listen a little more and recommendations from your own history appear here.")));
}

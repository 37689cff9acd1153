import { h, append, clear } from "../dom.js";
import { page, errorState, entity, empty } from "../ui.js";
import { dateTime } from "../format.js";
import { scrobblingSettings } from "../scrobbling.js";

// Every zone the browser knows, plus UTC (Intl lists it under no region) and the saved one, so
// the list always shows what is saved and Save never changes it by accident.
function zones(saved) {
  const known = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return [...new Set(["UTC", saved, ...known])].filter(Boolean);
}

// Every merge the person made, each linked to what it made and undoable here as on its page.
function mergesList(ctx, merges) {
  if (!merges.length) return empty("You have merged nothing. To merge, open the track, artist or album listed twice.");
  return h("ul", { class: "merges" }, merges.map((m) => h("li", {},
    `${m.kind[0].toUpperCase()}${m.kind.slice(1)} “${m.source_name}” into `, entity(m.kind, m.target, m.target_name),
    h("span", { class: "muted" }, ` — ${dateTime(m.created_at)} `),
    h("button", { type: "button", onclick: async () => {
      await ctx.api.del(`/api/v1/catalog/merges/${encodeURIComponent(m.id)}`);
      await ctx.reload();
    } }, "Undo"))));
}

export async function render(root, ctx) {
  const merges = (await ctx.api.get("/api/v1/catalog/merges")).items;
  const me = ctx.session.me;
  const message = h("div", { role: "status" });
  const select = h("select", { name: "time_zone", id: "tz" }, zones(me.time_zone).map((z) => h("option", { value: z, selected: z === me.time_zone }, z)));
  const form = h("form", { class: "filters" }, h("label", { for: "tz" }, "Time zone"), select, h("button", { type: "submit" }, "Save"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clear(message);
    try {
      await ctx.api.patch("/api/v1/me/settings", { time_zone: select.value });
      await ctx.refreshSession();
      message.append("Saved. Every day, hour and weekday in your statistics now counts in this zone.");
    } catch (error) {
      message.append(errorState(error));
    }
  });
  const logout = h("button", { type: "button", onclick: async () => {
    await ctx.api.post("/api/v1/auth/logout");
    window.location.assign("/");
  } }, "Sign out everywhere");
  append(root, page("Settings",
    h("p", {}, `Signed in as ${me.display_name || me.spotify_id}.`),
    h("h2", {}, "Time zone"),
    h("p", { class: "muted" }, "Days, hours and weekdays in your statistics are counted in this zone."),
    form, message,
    h("h2", {}, "Counting rules"),
    h("p", { class: "muted" }, "A play counts when you listened for at least 30 seconds or to the end, as Spotify counts it. Private-session plays are not counted. History lists every play."),
    h("h2", {}, "Merges"),
    mergesList(ctx, merges),
    scrobblingSettings(ctx),
    h("h2", {}, "Sessions"),
    h("p", { class: "muted" }, "Signs this and every other browser out; this one stays signed out until you sign in again."),
    logout));
}

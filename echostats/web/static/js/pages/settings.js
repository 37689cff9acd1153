import { h, append, clear } from "../dom.js";
import { page, errorState } from "../ui.js";
import { scrobblingSettings } from "../scrobbling.js";

export async function render(root, ctx) {
  const me = ctx.session.me;
  const message = h("div", { role: "status" });
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [me.time_zone];
  const select = h("select", { name: "time_zone", id: "tz" }, zones.map((z) => h("option", { value: z, selected: z === me.time_zone }, z)));
  const form = h("form", {}, h("label", { for: "tz" }, "Time zone "), select, h("button", { type: "submit" }, "Save"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clear(message);
    try {
      await ctx.api.patch("/api/v1/me/settings", { time_zone: select.value });
      await ctx.refreshSession();
      message.append("Saved. Statistics are being recomputed in your time zone.");
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
    form, message,
    h("h2", {}, "Counting rules"),
    h("p", { class: "muted" }, "A play counts when you listened for at least 30 seconds or to the end, as Spotify counts it. Private-session plays are not counted."),
    scrobblingSettings(ctx),
    h("h2", {}, "Sessions"), logout));
}

import { h, append, clear } from "../dom.js";
import { clock } from "../format.js";
import { page, errorState } from "../ui.js";
import { listen } from "../live.js";

function trackOf(d) {
  return d.track || { name: d.track_name, artists: d.artists, album: d.album, image_url: d.image_url };
}

export async function render(root, ctx) {
  const card = h("section", { class: "now-card", "aria-live": "polite" });
  const message = h("div", { role: "status" });
  const queue = h("section", {});
  const draw = (d) => {
    clear(card);
    if (!d || d.is_playing === undefined || (!d.track && !d.track_name)) {
      card.append(h("p", { class: "empty" }, "Nothing is playing."));
      return;
    }
    const t = trackOf(d);
    const artists = (t.artists || []).map((a) => a.name ?? a).join(", ");
    const image = t.image_url || t.album?.images?.[0]?.url;
    append(card,
      image ? h("img", { src: image, alt: "", width: 160, height: 160 }) : null,
      h("div", {},
        h("h2", { class: "track-name" }, t.name || "Unknown track"),
        h("p", {}, artists),
        h("p", { class: "muted" }, `${d.is_playing ? "Playing" : "Paused"} · ${clock(d.progress_ms)} / ${clock(d.duration_ms)}${d.device ? ` · on ${d.device.name ?? d.device}` : ""}`)));
  };
  const command = (path, body) => async () => {
    clear(message);
    try {
      await ctx.api.post(`/api/v1/player/${path}`, body);
      await refresh();
    } catch (error) {
      message.append(errorState(error));
    }
  };
  async function refresh() {
    draw(await ctx.api.get("/api/v1/player/current"));
    const q = await ctx.api.get("/api/v1/player/queue").catch(() => null);
    clear(queue);
    if (q && q.queue && q.queue.length) {
      append(queue, h("h2", {}, "Up next"), h("ol", { class: "top-list compact" }, q.queue.slice(0, 10).map((t) =>
        h("li", {}, h("span", { class: "title" }, t.name), h("span", { class: "muted" }, ` — ${(t.artists || []).map((a) => a.name ?? a).join(", ")}`)))));
    }
  }
  const controls = h("div", { class: "controls", role: "group", "aria-label": "Player controls" },
    h("button", { type: "button", onclick: command("previous") }, "⏮ Previous"),
    h("button", { type: "button", onclick: command("play", {}) }, "▶ Play"),
    h("button", { type: "button", onclick: command("pause") }, "❚❚ Pause"),
    h("button", { type: "button", onclick: command("next") }, "Next ⏭"));
  append(root, page("Now playing", card, controls, message, queue));
  try {
    await refresh();
  } catch (error) {
    message.append(errorState(error));
  }
  return listen("/api/v1/stream/now-playing", { now_playing: draw, idle: () => draw(null) });
}

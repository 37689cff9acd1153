// What plays now, live: the track (links, artwork), a progress clock that runs between samples,
// controls with a device picker, and what comes next.
import { h, append, clear, s } from "../dom.js";
import { clock } from "../format.js";
import { page, errorState, entity, artistLinks, art } from "../ui.js";
import { listen } from "../live.js";

// Icons drawn here: the ⏮ ⏭ characters are missing from many system fonts (empty boxes).
const ICONS = {
  previous: "M6 5h2v14H6zM20 5v14L9 12z",
  play: "M7 5v14l12-7z",
  pause: "M6 5h4v14H6zM14 5h4v14h-4z",
  next: "M16 5h2v14h-2zM4 5v14l11-7z",
};

function icon(name) {
  return s("svg", { viewBox: "0 0 24 24", width: 18, height: 18, "aria-hidden": "true", class: "icon" }, s("path", { d: ICONS[name] }));
}

// The player answer (artists as {spotify_id, name}) and the stream's event (artist names only)
// drawn alike.
function trackOf(d) {
  const t = d.track || {};
  const artists = (t.artists || []).map((a) => (typeof a === "string" ? { name: a } : a));
  return { ...t, artistNames: artists.map((a) => a.name), artistIds: artists.map((a) => a.spotify_id) };
}

export async function render(root, ctx) {
  const card = h("section", { class: "now-card", "aria-live": "polite" });
  const message = h("div", { role: "status" });
  const queue = h("section", {});
  const devices = h("select", { id: "device", "aria-label": "Play on device" });
  let sample = null; // {progress_ms, duration_ms, is_playing, at (performance.now())}
  let shownTrack = null;
  let known = null; // ids of the shown track's artists and album, from the player's answer

  const progress = h("span", { class: "progress-time" });
  const tick = () => {
    if (!sample) return;
    const elapsed = sample.is_playing ? performance.now() - sample.at : 0;
    const now = Math.min(sample.duration_ms || Infinity, (sample.progress_ms || 0) + elapsed);
    progress.textContent = `${clock(now)} / ${clock(sample.duration_ms)}`;
  };
  const timer = setInterval(tick, 500);

  const draw = (d) => {
    if (!d || !d.track) {
      clear(card);
      sample = null;
      shownTrack = null;
      card.append(h("p", { class: "empty" }, "Nothing is playing. Pick a device below and press Play."));
      return;
    }
    const t = trackOf(d);
    sample = { progress_ms: d.progress_ms, duration_ms: d.duration_ms, is_playing: d.is_playing, at: performance.now() };
    // The stream's events carry names only: keep the ids the player's answer gave this track.
    if (t.artistIds.some(Boolean) || t.album_id) known = { id: t.spotify_id, artists: t.artistIds, album: t.album_id };
    const same = known && known.id === t.spotify_id;
    const ids = same ? known.artists : t.artistIds;
    const albumId = same ? known.album : t.album_id;
    const trackChanged = shownTrack !== t.spotify_id;
    shownTrack = t.spotify_id;
    clear(card);
    const device = d.device ? (d.device.name ?? d.device) : null;
    append(card,
      art(t.image_url, 160),
      h("div", {},
        h("h2", { class: "track-name" }, entity("track", t.spotify_id, t.name || "Unknown track")),
        h("p", {}, artistLinks(t.artistNames, ids)),
        t.album ? h("p", { class: "muted" }, entity("album", albumId, t.album)) : null,
        h("p", { class: "muted" }, `${d.is_playing ? "Playing" : "Paused"} · `, progress, device ? ` · on ${device}` : "")));
    tick();
    if (trackChanged) refreshQueue();
  };

  async function refreshQueue() {
    const q = await ctx.api.get("/api/v1/player/queue").catch(() => null);
    clear(queue);
    // Spotify's queue can still list the track that just started: "Up next" is what follows it.
    const next = (q && q.queue ? q.queue : []).filter((t, i) => !(i === 0 && t.spotify_id === shownTrack)).slice(0, 10);
    if (next.length) {
      append(queue, h("h2", {}, "Up next"), h("ol", { class: "top-list compact" }, next.map((t) =>
        h("li", {}, art(t.image_url),
          h("span", { class: "title" }, entity("track", t.spotify_id, t.name),
            h("span", { class: "byline muted" }, artistLinks(t.artists.map((a) => a.name), t.artists.map((a) => a.spotify_id))))))));
    }
  }

  async function refresh() {
    draw(await ctx.api.get("/api/v1/player/current"));
  }

  async function loadDevices() {
    const answer = await ctx.api.get("/api/v1/player/devices").catch(() => ({ devices: [] }));
    clear(devices);
    for (const d of answer.devices) {
      if (!d.id || d.is_restricted) continue;
      devices.append(h("option", { value: d.id, selected: d.is_active }, `${d.name} (${d.type.toLowerCase()})`));
    }
    devices.disabled = devices.options.length === 0;
  }

  const command = (path, body) => async () => {
    clear(message);
    try {
      await ctx.api.post(`/api/v1/player/${path}`, body ? body() : undefined);
      await refresh();
    } catch (error) {
      message.append(errorState(error));
    }
  };
  const button = (name, label, path, body) => h("button", { type: "button", "aria-label": label, onclick: command(path, body) }, icon(name), h("span", {}, label));
  const controls = h("div", { class: "controls", role: "group", "aria-label": "Player controls" },
    button("previous", "Previous", "previous"),
    button("play", "Play", "play", () => (devices.value ? { device_id: devices.value } : {})),
    button("pause", "Pause", "pause"),
    button("next", "Next", "next"),
    h("label", { class: "device-picker" }, "On ", devices));
  append(root, page("Now playing", card, controls, message, queue));
  await loadDevices();
  try {
    await refresh();
  } catch (error) {
    message.append(errorState(error));
  }
  const stop = listen("/api/v1/stream/now-playing", { now_playing: draw, idle: () => draw(null) });
  return () => {
    stop();
    clearInterval(timer);
  };
}

// What the track, artist and album pages share: the header with artwork, the stat cards and
// the plays-per-month chart.
import { h, append, clear } from "../dom.js";
import { count, duration, date, dateTime } from "../format.js";
import { barChart } from "../charts.js";
import { card, art, empty, page, entity, byline, errorState } from "../ui.js";

export function header(title, image, ...lines) {
  return h("header", { class: "detail-head" }, art(image, 120), h("div", {}, h("h1", {}, title), ...lines));
}

export function statCards(stats) {
  return h("div", { class: "cards" },
    card("Plays", count(stats.plays)),
    card("Listening time", duration(stats.total_ms)),
    card("First played", date(stats.first_played)),
    card("Last played", date(stats.last_played)));
}

export function perMonth(stats, metric) {
  const months = stats.plays_per_month || [];
  if (!months.length) return null;
  const minutes = metric === "minutes";
  return h("section", {}, h("h2", {}, minutes ? "Minutes per month" : "Plays per month"), barChart(months.map((m) => ({
    label: m.month, value: minutes ? m.ms / 60000 : m.plays, tip: `${m.month}: ${count(m.plays)} plays, ${duration(m.ms)}`,
  })), { unit: minutes ? "min" : "plays", format: (v) => count(Math.round(v)), title: minutes ? "Minutes per month" : "Plays per month" }));
}

// The entity's data from ``path``, or null when it is not in this person's history (a followed
// artist never played, say): the page then says so under the name the link carried.
export async function loadEntity(root, ctx, kind, path) {
  try {
    return await ctx.api.get(path);
  } catch (error) {
    if (error.status !== 404) throw error;
    const title = ctx.params.get("name") || `${kind[0].toUpperCase()}${kind.slice(1)}`;
    append(root, page(title, empty(`You have not played this ${kind} yet, so EchoStats knows nothing about it.`)));
    return null;
  }
}

// Fixing identity by hand: what was merged into this track, artist or album (each can be
// undone), and a search for another spelling of it to merge in. Every figure follows at once.
export function mergeSection(ctx, kind, item) {
  const status = h("div", { role: "status" });
  const found = h("ul", { class: "merge-found" });
  const act = async (change) => {
    clear(status);
    try {
      await change();
      await ctx.reload();
    } catch (error) {
      append(status, errorState(error));
    }
  };
  const merged = item.merges.length ? h("ul", { class: "merges" }, item.merges.map((m) => h("li", {},
    `“${m.source_name}” merged ${dateTime(m.created_at)} `,
    h("button", { type: "button", onclick: () => act(() => ctx.api.del(`/api/v1/catalog/merges/${encodeURIComponent(m.id)}`)) },
      `Undo: split “${m.source_name}” off again`)))) : null;
  const input = h("input", { type: "search", id: "merge-q", name: "q", required: true, maxlength: 200, placeholder: "Part of the name" });
  const form = h("form", { class: "filters" }, h("label", { for: "merge-q" }, `Find another ${kind}`), input, h("button", { type: "submit" }, "Find"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(status);
    clear(found);
    try {
      const result = await ctx.api.get("/api/v1/catalog/search", { kind, q: input.value.trim(), limit: 10 });
      const others = result.items.filter((other) => other.spotify_id !== item.spotify_id);
      if (!others.length) append(status, empty(`No other ${kind} you played has “${input.value.trim()}” in its name.`));
      append(found, others.map((other) => h("li", {},
        art(other.image_url),
        h("span", { class: "title" }, entity(kind, other.spotify_id, other.name), kind === "artist" ? null : byline(other)),
        h("span", { class: "muted" }, `${count(other.play_count)} ${other.play_count === 1 ? "play" : "plays"}`),
        h("button", { type: "button", onclick: () => act(() => ctx.api.post("/api/v1/catalog/merges", { kind, source: other.spotify_id, target: item.spotify_id })) },
          `Merge into “${item.name}”`))));
    } catch (error) {
      append(status, errorState(error));
    }
  });
  return h("section", { class: "merge" },
    h("h2", {}, `Listed twice? Merge another ${kind} into this one`),
    h("p", { class: "muted" }, `When the same ${kind} appears under two names, merge one into the other: every count, list and page follows, past plays included. Undo splits it off again.`),
    merged, form, status, found);
}

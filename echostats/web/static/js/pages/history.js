import { h, append, clear } from "../dom.js";
import { shortDateTime, dateTime, duration, count } from "../format.js";
import { page, pager, errorState, entity, artistLinks, art, scroller } from "../ui.js";
import { listen } from "../live.js";

const FILTERS = ["q", "start", "end", "source", "artist", "track"];

function filters(ctx) {
  const form = h("form", { class: "filters", role: "search" },
    h("label", {}, "Search ", h("input", { name: "q", type: "search", value: ctx.params.get("q") || "" })),
    h("label", {}, "From ", h("input", { name: "start", type: "date", value: ctx.params.get("start") || "" })),
    h("label", {}, "To ", h("input", { name: "end", type: "date", value: ctx.params.get("end") || "" })),
    h("label", {}, "Source ", h("select", { name: "source" },
      [["", "any"], ["poll", "recorded live"], ["import", "imported"]].map(([v, l]) => h("option", { value: v, selected: (ctx.params.get("source") || "") === v }, l)))),
    h("button", { type: "submit" }, "Apply"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    ctx.go({ q: data.get("q") || null, start: data.get("start") || null, end: data.get("end") || null, source: data.get("source") || null, page: null });
  });
  return form;
}

function report(job, finished) {
  const r = job.report || {};
  const skipped = Object.entries(r.skipped || {}).filter(([, n]) => n > 0);
  const done = job.status === "completed";
  return h("div", { class: "report" },
    h("p", {}, done
      ? `Import finished: ${count(r.stored ?? job.items_processed)} plays stored from ${count(r.rows ?? job.items_total)} rows.`
      : `Import ${job.status}: ${job.error_message || finished.error_message || ""}`),
    skipped.length ? h("ul", {}, skipped.map(([reason, n]) => h("li", {}, `${reason.replaceAll("_", " ")}: ${count(n)}`))) : null,
    h("p", {}, h("a", { href: `#/jobs/${encodeURIComponent(job.id)}` }, "The whole report")));
}

function importer(ctx) {
  const status = h("div", { class: "import-status", "aria-live": "polite" });
  const bar = h("progress", { max: 1, value: 0, hidden: true, "aria-label": "Import progress" });
  const input = h("input", { type: "file", accept: ".json,.zip", multiple: true, id: "import-files" });
  const zone = h("div", { class: "dropzone" },
    h("p", {}, "Drop your Spotify privacy export here (the .zip or its .json files), or ", h("label", { for: "import-files", class: "link" }, "choose files"), "."),
    input, bar, status);
  let stop = null;
  async function send(files) {
    if (!files.length) return;
    const form = new FormData();
    for (const file of files) form.append("file", file, file.name);
    clear(status);
    status.append("Uploading…");
    try {
      const job = await ctx.api.upload("/api/v1/history/import", form);
      bar.hidden = false;
      stop = listen(`/api/v1/sync-jobs/${encodeURIComponent(job.job_id)}/stream`, {
        progress: (d) => {
          bar.max = d.items_total || 1;
          bar.value = d.items_processed || 0;
          clear(status);
          status.append(`${count(d.items_processed)} of ${count(d.items_total)} rows${d.step ? ` — ${d.step}` : ""}`);
        },
        finished: async (d) => {
          if (stop) stop();
          const final = await ctx.api.get(`/api/v1/sync-jobs/${encodeURIComponent(job.job_id)}`);
          clear(status);
          status.append(report(final, d));
        },
      });
    } catch (error) {
      clear(status);
      status.append(errorState(error));
    }
  }
  input.addEventListener("change", () => send([...input.files]));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); send([...e.dataTransfer.files]); });
  return { element: zone, stop: () => stop && stop() };
}

function row(item, ctx, onDeleted) {
  const track = item.track || {};
  return h("tr", { class: item.counted ? null : "uncounted" },
    h("td", { class: "when" }, h("time", { datetime: item.played_at, title: dateTime(item.played_at) }, shortDateTime(item.played_at))),
    h("td", { class: "track" },
      h("div", { class: "track-cell" }, art(track.image_url, 36),
        h("div", {},
          entity("track", track.id, track.name || "—"),
          h("div", { class: "muted" }, artistLinks(track.artists || [], track.artist_ids || []),
            track.album ? [" · ", entity("album", track.album_id, track.album)] : null)))),
    h("td", { class: "listened" }, duration(item.ms_played),
      item.ms_played_estimated ? h("span", { class: "muted", title: "estimated from live samples" }, " ≈") : null,
      item.counted ? null : h("div", { class: "muted small" }, "not counted")),
    h("td", { class: "source" }, item.source === "import" ? "imported" : "live"),
    h("td", { class: "actions" }, h("button", {
      type: "button", class: "small", "aria-label": `Delete play of ${track.name ?? "track"}`,
      onclick: async (e) => {
        if (!window.confirm("Delete this play? Your statistics follow.")) return;
        try {
          await ctx.api.del(`/api/v1/history/${encodeURIComponent(item.id)}`);
          e.target.closest("tr").remove();
          onDeleted();
        } catch (error) {
          e.target.replaceWith(errorState(error));
        }
      },
    }, "Delete")));
}

export async function render(root, ctx) {
  const pageNo = Number(ctx.params.get("page") || 1);
  const query = { page: pageNo, limit: 50 };
  for (const key of FILTERS) query[key] = ctx.params.get(key) || undefined;
  const filtered = FILTERS.some((k) => ctx.params.get(k));
  const upload = importer(ctx);
  const summary = h("p", { class: "history-total", "aria-live": "polite" });
  const table = h("div", {});
  let total = 0;
  let counted = null;

  const drawSummary = () => {
    clear(summary);
    const exportQuery = new URLSearchParams();
    summary.append(`${count(total)} plays`);
    // Every stored play is listed; statistics count only those of 30 s or more (or to the end),
    // outside private sessions.
    if (counted !== null && counted < total) {
      summary.append(` · ${count(counted)} count in your statistics; the other ${count(total - counted)} were shorter than 30 seconds or private`);
    }
    append(summary, " · export every play as ", ["json", "csv", "listenbrainz"].map((f, i) => {
      exportQuery.set("format", f);
      return [i ? ", " : "", h("a", { href: `/api/v1/history/export?${exportQuery}`, download: "" }, f)];
    }));
  };

  async function drawTable() {
    const data = await ctx.api.get("/api/v1/history", query);
    total = data.total;
    clear(table);
    append(table, data.items.length ? scroller(h("table", { class: "history" },
      h("thead", {}, h("tr", {}, ["When", "Track", "Listened", "Source", h("span", { class: "visually-hidden" }, "Actions")].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, data.items.map((item) => row(item, ctx, () => {
        total -= 1;
        if (counted !== null && item.counted) counted -= 1;
        drawSummary();
      }))))) : h("p", { class: "empty" }, filtered ? "No plays match." : "No plays yet. Listen on Spotify or import your history above."),
    pager(data, (p) => ctx.go({ page: p })));
    drawSummary();
  }

  async function countCounted() {
    if (filtered) return;
    const all = await ctx.api.get("/api/v1/analytics/overview", { period: "all_time" }).catch(() => null);
    counted = all ? all.total_tracks_played : null;
    drawSummary();
  }

  // A Spotify id reads as "this track"; names read as themselves.
  const only = [ctx.params.get("track"), ctx.params.get("artist")].filter(Boolean)
    .map((v) => (/^[0-9A-Za-z]{22}$/.test(v) ? "this track" : v));
  append(root, page("History", upload.element, filters(ctx),
    only.length ? h("p", {}, `Only the plays of ${only.join(" by ")}. `, h("a", { href: "#/history" }, "Show every play")) : null,
    summary, table));
  await drawTable();
  countCounted();
  // A new play redraws the first page where it stands: the import report and the browser's
  // history stay as they are.
  let pending = null;
  const stopPlays = listen("/api/v1/stream/now-playing", {
    play_recorded: () => {
      if (pageNo !== 1 || pending) return;
      pending = setTimeout(() => {
        pending = null;
        drawTable().then(countCounted).catch(() => {});
      }, 500);
    },
  });
  return () => {
    upload.stop();
    stopPlays();
    if (pending) clearTimeout(pending);
  };
}

import { h, append, clear } from "../dom.js";
import { dateTime, duration, count } from "../format.js";
import { page, pager, errorState } from "../ui.js";
import { listen } from "../live.js";

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

function importer(ctx) {
  const status = h("div", { class: "import-status", "aria-live": "polite" });
  const bar = h("progress", { max: 1, value: 0, hidden: true });
  const input = h("input", { type: "file", accept: ".json,.zip", multiple: true, id: "import-files" });
  const zone = h("div", { class: "dropzone", tabindex: 0 },
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

function report(job, finished) {
  const r = job.report || {};
  const skipped = Object.entries(r.skipped || {}).filter(([, n]) => n > 0);
  return h("div", { class: "report" },
    h("p", {}, job.status === "completed" ? `Import finished: ${count(r.plays_stored ?? job.items_processed)} plays stored from ${count(r.rows_read ?? job.items_total)} rows.` : `Import ${job.status}: ${job.error_message || finished.error || ""}`),
    skipped.length ? h("ul", {}, skipped.map(([reason, n]) => h("li", {}, `${reason.replaceAll("_", " ")}: ${count(n)}`))) : null);
}

export async function render(root, ctx) {
  const pageNo = Number(ctx.params.get("page") || 1);
  const query = { page: pageNo, limit: 50 };
  for (const key of ["q", "start", "end", "source", "artist", "track"]) query[key] = ctx.params.get(key) || undefined;
  const data = await ctx.api.get("/api/v1/history", query);
  const upload = importer(ctx);
  const exportQuery = new URLSearchParams(Object.entries(query).filter(([k, v]) => v && k !== "page" && k !== "limit"));
  const rows = data.items.map((item) => h("tr", {},
    h("td", {}, dateTime(item.played_at)),
    h("td", {}, item.track?.name ?? "—", h("div", { class: "muted" }, (item.track?.artists || []).map((a) => a.name ?? a).join(", "))),
    h("td", {}, duration(item.ms_played), item.ms_played_estimated ? h("span", { class: "muted", title: "estimated from live samples" }, " ≈") : null),
    h("td", {}, item.source === "import" ? "imported" : "live"),
    h("td", {}, h("button", {
      type: "button", class: "small", "aria-label": `Delete play of ${item.track?.name ?? "track"}`,
      onclick: async (e) => {
        if (!window.confirm("Delete this play? Your statistics follow.")) return;
        await ctx.api.del(`/api/v1/history/${encodeURIComponent(item.id)}`);
        e.target.closest("tr").remove();
      },
    }, "Delete"))));
  append(root, page("History",
    upload.element,
    filters(ctx),
    h("p", {}, `${count(data.total)} plays · export as `,
      ["json", "csv", "listenbrainz"].map((f, i) => [i ? ", " : "", h("a", { href: `/api/v1/history/export?format=${f}&${exportQuery}`, download: "" }, f)])),
    data.items.length ? h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["When", "Track", "Listened", "Source", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows))) : h("p", { class: "empty" }, "No plays match."),
    pager(data, (p) => ctx.go({ page: p }))));
  const stopPlays = listen("/api/v1/stream/now-playing", { play_recorded: () => { if (pageNo === 1) ctx.go({ refreshed: Date.now() }); } });
  return () => { upload.stop(); stopPlays(); };
}

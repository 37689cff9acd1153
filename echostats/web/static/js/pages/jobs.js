// Sync jobs (imports, syncs, rebuilds), live; #/jobs/<id> shows one job with its steps and its
// import report (every skipped row counted by reason).
import { h, append, clear } from "../dom.js";
import { count, dateTime } from "../format.js";
import { page, pager, errorState, scroller } from "../ui.js";
import { listen } from "../live.js";
import { jobLabel } from "../status.js";

function statusText(job) {
  if (job.report && job.report.dry_run && job.status === "completed") return "checked (dry run)";
  return job.status;
}

function progressCell(j) {
  return j.items_total
    ? [h("progress", { max: j.items_total, value: j.items_processed, "aria-label": `${jobLabel(j)} progress` }), h("span", { class: "muted small" }, ` ${count(j.items_processed)} of ${count(j.items_total)}`)]
    : count(j.items_processed);
}

function counts(title, entries) {
  const shown = Object.entries(entries || {}).filter(([, n]) => n > 0);
  if (!shown.length) return null;
  return h("section", {}, h("h2", {}, title), h("ul", {}, shown.map(([reason, n]) => h("li", {}, `${reason.replaceAll("_", " ")}: ${count(n)}`))));
}

// One job, redrawn as it progresses until it has finished.
async function renderJob(root, ctx, id) {
  const path = `/api/v1/sync-jobs/${encodeURIComponent(id)}`;
  const job = await ctx.api.get(path);
  drawJob(root, job);
  if (job.status !== "pending" && job.status !== "running") return undefined;
  let pending = null;
  let stop = null;
  const redraw = (last) => {
    if (pending) return;
    pending = setTimeout(async () => {
      pending = null;
      const now = await ctx.api.get(path).catch(() => null);
      if (now) drawJob(root, now);
    }, last ? 0 : 300);
  };
  // The job's stream ends after "finished"; the browser must not open it again.
  stop = listen(`${path}/stream`, { progress: () => redraw(false), job: () => redraw(false), finished: () => { stop(); redraw(true); } });
  return () => {
    stop();
    if (pending) clearTimeout(pending);
  };
}

function drawJob(root, job) {
  const r = job.report;
  clear(root);
  append(root, page(jobLabel(job),
    h("p", {}, h("a", { href: "#/jobs" }, "All jobs")),
    h("div", { class: "cards" },
      h("div", { class: "card" }, h("div", { class: "card-label" }, "Status"), h("div", { class: "card-value" }, statusText(job))),
      h("div", { class: "card" }, h("div", { class: "card-label" }, "Started"), h("div", {}, dateTime(job.started_at || job.created_at))),
      h("div", { class: "card" }, h("div", { class: "card-label" }, "Finished"), h("div", {}, dateTime(job.completed_at)))),
    job.error_message ? h("p", { class: "error" }, job.error_message) : null,
    r ? h("p", {}, `${count(r.rows)} rows read: ${count(r.stored)} new plays ${r.dry_run ? "would be stored" : "stored"}, ${count(r.merged)} merged into plays recorded live, ${count(r.counted)} of them count in your statistics.`) : null,
    r ? counts("Rows skipped", r.skipped) : null,
    r ? counts("Stored but not counted", r.not_counted) : null,
    r && r.files.length ? h("section", {}, h("h2", {}, "Files"), scroller(h("table", {},
      h("thead", {}, h("tr", {}, ["File", "Kind", "Rows", "Stored", "Problem"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, r.files.map((f) => h("tr", {}, h("td", {}, f.name), h("td", {}, f.kind), h("td", {}, count(f.rows)), h("td", {}, count(f.stored)), h("td", {}, f.error || "")))))))
      : null,
    job.steps.length ? h("section", {}, h("h2", {}, "Steps"), h("ol", { class: "steps" }, job.steps.map((step) =>
      h("li", {}, `${step.action.includes(" ") ? step.action : step.action.replaceAll("_", " ")}: ${step.status}${step.items ? `, ${count(step.items)} items` : ""}${step.error ? ` — ${step.error}` : ""}`)))) : null));
}

export async function render(root, ctx) {
  if (ctx.args[0]) return renderJob(root, ctx, ctx.args[0]);
  const table = h("div", {});
  const message = h("div", { role: "status" });
  async function draw() {
    const data = await ctx.api.get("/api/v1/sync-jobs", { page: ctx.params.get("page") || 1, limit: 25 });
    clear(table);
    append(table, scroller(h("table", {},
      h("thead", {}, h("tr", {}, ["Created", "Job", "Status", "Progress", h("span", { class: "visually-hidden" }, "Actions")].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, data.items.map((j) => h("tr", { "data-job": j.id },
        h("td", {}, dateTime(j.created_at)),
        h("td", {}, h("a", { href: `#/jobs/${encodeURIComponent(j.id)}` }, jobLabel(j))),
        h("td", {}, statusText(j), j.error_message ? h("div", { class: "error small" }, j.error_message) : null),
        h("td", {}, progressCell(j)),
        h("td", {}, j.status === "running" ? h("button", { type: "button", class: "small", onclick: async () => {
          try { await ctx.api.post(`/api/v1/sync-jobs/${encodeURIComponent(j.id)}/cancel`); } catch (error) { clear(message); message.append(errorState(error)); }
        } }, "Cancel") : null)))))),
    pager(data, (p) => ctx.go({ page: p })));
  }
  const trigger = h("button", { type: "button", class: "primary", onclick: async () => {
    clear(message);
    try {
      const r = await ctx.api.post("/api/v1/sync-jobs/trigger");
      message.append(r.status === "already_running" ? "A sync is already running." : "Sync started.");
    } catch (error) {
      message.append(errorState(error));
    }
  } }, "Sync now");
  append(root, page("Sync jobs", trigger, message, table));
  await draw();
  let pending = false;
  const redraw = () => {
    if (pending) return;
    pending = true;
    setTimeout(() => { pending = false; draw().catch(() => {}); }, 500);
  };
  return listen("/api/v1/stream/sync-jobs", { job: redraw, progress: redraw, finished: redraw });
}

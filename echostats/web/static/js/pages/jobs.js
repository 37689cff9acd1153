import { h, append, clear } from "../dom.js";
import { count, dateTime } from "../format.js";
import { page, pager, errorState } from "../ui.js";
import { listen } from "../live.js";

export async function render(root, ctx) {
  const table = h("div", {});
  const message = h("div", { role: "status" });
  async function draw() {
    const data = await ctx.api.get("/api/v1/sync-jobs", { page: ctx.params.get("page") || 1, limit: 25 });
    clear(table);
    append(table, h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Created", "Type", "Status", "Progress", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, data.items.map((j) => h("tr", { "data-job": j.id },
        h("td", {}, dateTime(j.created_at)),
        h("td", {}, j.job_type),
        h("td", {}, j.status, j.error_message ? h("div", { class: "error small" }, j.error_message) : null),
        h("td", {}, j.items_total ? h("progress", { max: j.items_total, value: j.items_processed }) : count(j.items_processed)),
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

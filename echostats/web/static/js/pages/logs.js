import { h, append } from "../dom.js";
import { count, dateTime, percentValue } from "../format.js";
import { page, card, pager, scroller } from "../ui.js";

export async function render(root, ctx) {
  const query = { page: ctx.params.get("page") || 1, limit: 50, endpoint_contains: ctx.params.get("endpoint") || undefined, status_min: ctx.params.get("status_min") || undefined };
  const [stats, data] = await Promise.all([ctx.api.get("/api/v1/api-logs/stats"), ctx.api.get("/api/v1/api-logs", query)]);
  const form = h("form", { class: "filters" },
    h("label", {}, "Endpoint contains ", h("input", { name: "endpoint", value: ctx.params.get("endpoint") || "" })),
    h("label", {}, "Status at least ", h("input", { name: "status_min", type: "number", min: 0, max: 599, value: ctx.params.get("status_min") || "" })),
    h("button", { type: "submit" }, "Filter"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const d = new FormData(form);
    ctx.go({ endpoint: d.get("endpoint") || null, status_min: d.get("status_min") || null, page: null });
  });
  append(root, page("API logs",
    h("div", { class: "cards" },
      card("Spotify calls", count(stats.total_calls)),
      card("Success rate", percentValue(stats.success_rate)),
      card("Rate limited", count(stats.rate_limit_count)),
      card("Latency", `${Math.round(stats.avg_latency_ms ?? 0)} ms`, `p95 ${Math.round(stats.p95_latency_ms ?? 0)} ms`)),
    form,
    scroller(h("table", {},
      h("thead", {}, h("tr", {}, ["When", "Call", "Status", "Latency", "Error"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, data.items.map((l) => h("tr", {},
        h("td", {}, dateTime(l.timestamp)), h("td", {}, `${l.method} ${l.endpoint}`), h("td", {}, l.status_code),
        h("td", {}, `${Math.round(l.latency_ms)} ms`), h("td", { class: "small" }, l.error || "")))))),
    pager(data, (p) => ctx.go({ page: p }))));
}

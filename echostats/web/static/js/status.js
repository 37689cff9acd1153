// The strip under the top bar, on every page: a banner when Spotify access must be renewed, and
// a live indicator of any running import or sync (progress, link to the job and its report).
import { h, clear, append } from "./dom.js";
import { count } from "./format.js";
import { listen } from "./live.js";

const JOB_LABELS = { import: "Importing your history", initial: "First sync with Spotify", periodic: "Syncing with Spotify", manual: "Syncing with Spotify", rollup_build: "Rebuilding statistics" };

export function jobLabel(job) {
  const label = JOB_LABELS[job.job_type] || job.job_type;
  return job.report && job.report.dry_run ? `${label} (dry run: nothing is stored)` : label;
}

export function reauthBanner(status) {
  if (!status || !status.authenticated || !status.spotify_reauth_required) return null;
  const href = status.demo_mode ? "/api/v1/auth/demo-login" : "/api/v1/auth/login";
  return h("div", { class: "banner", role: "alert" },
    "Spotify no longer accepts EchoStats' access to your account, so new plays are not recorded. ",
    h("a", { href }, "Connect Spotify again"), ".");
}

export function startStatusBar(bar, api, getStatus) {
  const running = new Map(); // job id → latest job (or progress) fields
  const banner = h("div", {});
  const jobs = h("div", { class: "jobs-live", role: "status", "aria-live": "polite" });
  append(bar, banner, jobs);

  function draw() {
    clear(banner);
    const warning = reauthBanner(getStatus());
    if (warning) banner.append(warning);
    clear(jobs);
    for (const job of running.values()) {
      const total = job.items_total || 0;
      const done = job.items_processed || 0;
      append(jobs, h("div", { class: "job-live" },
        h("a", { href: `#/jobs/${encodeURIComponent(job.id)}` }, jobLabel(job)),
        total ? h("progress", { max: total, value: done, "aria-label": `${jobLabel(job)} progress` }) : null,
        h("span", { class: "muted" }, total ? ` ${count(done)} of ${count(total)}` : ` ${count(done)} items`)));
    }
    bar.hidden = !banner.firstChild && !jobs.firstChild;
  }

  function remember(job) {
    if (!job || !job.id) return;
    if (job.status === "running" || job.status === "pending") running.set(job.id, { ...running.get(job.id), ...job });
    else running.delete(job.id);
  }

  api.get("/api/v1/sync-jobs", { status: "running", limit: 10 })
    .then((page) => { for (const job of page.items) remember(job); draw(); })
    .catch(() => {});
  const stop = listen("/api/v1/stream/sync-jobs", {
    job: (d) => { remember(d.job); draw(); },
    progress: (d) => {
      const known = running.get(d.job_id);
      if (known) running.set(d.job_id, { ...known, items_processed: d.items_processed, items_total: d.items_total ?? known.items_total });
      draw();
    },
    finished: (d) => { running.delete(d.job_id); draw(); },
  });
  draw();
  return { redraw: draw, stop };
}

// The dashboard shell: sign-in gate, navigation, hash routing, the status strip (Spotify access,
// running jobs) and the mini now-playing line.
import { api, ApiError } from "./api.js";
import { h, clear, append } from "./dom.js";
import { setZone } from "./format.js";
import { errorState, entity } from "./ui.js";
import { listen } from "./live.js";
import { startStatusBar } from "./status.js";

const PAGES = [
  ["overview", "Overview"], ["top", "Top lists"], ["history", "History"], ["now", "Now playing"],
  ["year", "Year in review"], ["compare", "Compare"], ["recommendations", "Recommendations"],
  ["playlists", "Playlists"], ["library", "Library"], ["jobs", "Sync jobs"], ["logs", "API logs"],
  ["settings", "Settings"],
];
const HIDDEN_PAGES = ["artist", "track", "album", "signin"];

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const mini = document.getElementById("now-mini");
const bar = document.getElementById("status-bar");
let cleanup = null;
let session = null;
let stopMini = null;
let statusBar = null;

function parseHash() {
  const raw = window.location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const [name, ...rest] = path.split("/");
  return { name: name || "overview", args: rest.map(decodeURIComponent), params: new URLSearchParams(query) };
}

function hashOf(name, args = [], params = {}) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") query.set(k, v);
  const path = [name, ...args.map(encodeURIComponent)].join("/");
  const qs = query.toString();
  return `#/${path}${qs ? `?${qs}` : ""}`;
}

function buildNav(current) {
  clear(nav);
  append(nav, h("ul", {}, PAGES.map(([name, label]) =>
    h("li", {}, h("a", { href: `#/${name}`, "aria-current": name === current ? "page" : null }, label)))));
  nav.hidden = false;
}

function startMini() {
  if (stopMini) return;
  stopMini = listen("/api/v1/stream/now-playing", {
    now_playing: (d) => {
      clear(mini);
      const track = d.track || {};
      if (!track.name) return;
      append(mini, h("span", { "aria-hidden": "true" }, d.is_playing ? "▶ " : "❚❚ "),
        h("span", { class: "visually-hidden" }, d.is_playing ? "Playing: " : "Paused: "),
        entity("track", track.id || track.spotify_id, track.name),
        track.artists && track.artists.length ? h("span", { class: "muted" }, ` — ${track.artists.map((a) => a.name ?? a).join(", ")}`) : null);
    },
    idle: () => clear(mini),
  });
}

async function loadSession() {
  const status = await api.get("/api/v1/auth/status");
  if (!status.authenticated) return { status, me: null };
  const me = await api.get("/api/v1/me");
  setZone(me.time_zone);
  return { status, me };
}

async function route() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const { name, args, params } = parseHash();
  if (name === "signin") session = null; // "Sign in again": ask who is signed in afresh
  if (!session || !session.me) {
    try {
      session = await loadSession();
    } catch (error) {
      clear(main);
      append(main, errorState(error));
      return;
    }
  }
  const known = PAGES.some(([n]) => n === name) || HIDDEN_PAGES.includes(name);
  const target = !session.me ? "signin" : known && name !== "signin" ? name : "overview";
  if (session.me) {
    buildNav(target);
    startMini();
  } else {
    nav.hidden = true;
  }
  clear(main);
  append(main, h("p", { class: "muted" }, "Loading…"));
  try {
    const module = await import(`./pages/${target}.js`);
    const ctx = {
      api, args, params, session,
      // Another view of this page: a new history entry (Back returns to the last one).
      go: (changes) => {
        const next = Object.fromEntries(params.entries());
        for (const [k, v] of Object.entries(changes)) {
          if (v === null) delete next[k];
          else next[k] = v;
        }
        window.location.hash = hashOf(target, args, next);
      },
      // This page again, drawn afresh (after a change it shows, such as a merge).
      reload: route,
      refreshSession: async () => {
        session = await loadSession();
        if (statusBar) statusBar.redraw();
      },
    };
    const view = h("div", { class: `page page-${target}` });
    const result = await module.render(view, ctx);
    clear(main);
    append(main, view);
    main.focus({ preventScroll: true });
    cleanup = typeof result === "function" ? result : null;
  } catch (error) {
    const failure = error instanceof ApiError ? error : new ApiError(0, error.message);
    clear(main);
    append(main, h("h1", {}, PAGES.find(([n]) => n === target)?.[1] ?? "EchoStats"), errorState(failure, { resetTo: `#/${target}${args.length ? `/${args.map(encodeURIComponent).join("/")}` : ""}` }));
    if (failure.status === 401) session = null;
  }
  // Started after the first page is drawn: that page's requests go first to the service.
  if (session && session.me && !statusBar) statusBar = startStatusBar(bar, api, () => session && session.status);
}

// "Skip to content" moves the focus; following its #main link would leave the page.
document.querySelector(".skip").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});
document.querySelector(".menu-toggle").addEventListener("click", (event) => {
  const open = nav.classList.toggle("open");
  event.currentTarget.setAttribute("aria-expanded", String(open));
});
nav.addEventListener("click", () => nav.classList.remove("open"));
window.addEventListener("hashchange", route);
route();

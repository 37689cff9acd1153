// The dashboard shell: sign-in gate, navigation, hash routing, and the mini now-playing line.
import { api, ApiError } from "./api.js";
import { h, clear, append } from "./dom.js";
import { setZone } from "./format.js";
import { errorState } from "./ui.js";
import { listen } from "./live.js";

const PAGES = [
  ["overview", "Overview"], ["top", "Top lists"], ["history", "History"], ["now", "Now playing"],
  ["playlists", "Playlists"], ["library", "Library"], ["recommendations", "Recommendations"],
  ["compare", "Compare"], ["jobs", "Sync jobs"], ["logs", "API logs"], ["settings", "Settings"],
];
const HIDDEN_PAGES = ["artist", "track", "signin"];

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const mini = document.getElementById("now-mini");
let cleanup = null;
let session = null;
let stopMini = null;

function parseHash() {
  const raw = window.location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const [name, ...rest] = path.split("/");
  return { name: name || "overview", args: rest.map(decodeURIComponent), params: new URLSearchParams(query) };
}

export function navigate(name, args = [], params = {}) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") query.set(k, v);
  const path = [name, ...args.map(encodeURIComponent)].join("/");
  const qs = query.toString();
  window.location.hash = `#/${path}${qs ? `?${qs}` : ""}`;
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
      append(mini, d.is_playing ? "▶ " : "❚❚ ", h("a", { href: "#/now" }, d.track?.name ?? d.track_name ?? "Unknown track"));
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
  const target = !session.me ? "signin" : known ? name : "overview";
  if (session.me) {
    buildNav(target);
    startMini();
  }
  clear(main);
  append(main, h("p", { class: "muted" }, "Loading…"));
  try {
    const module = await import(`./pages/${target}.js`);
    const ctx = {
      api, args, params, session,
      go: (changes) => {
        const next = Object.fromEntries(params.entries());
        for (const [k, v] of Object.entries(changes)) {
          if (v === null) delete next[k];
          else next[k] = v;
        }
        navigate(target, args, next);
      },
      refreshSession: async () => {
        session = await loadSession();
      },
    };
    const view = h("div", { class: `page page-${target}` });
    const result = await module.render(view, ctx);
    clear(main);
    append(main, view);
    main.focus({ preventScroll: true });
    cleanup = typeof result === "function" ? result : null;
  } catch (error) {
    clear(main);
    append(main, errorState(error instanceof ApiError ? error : new ApiError(0, error.message)));
    if (error instanceof ApiError && error.status === 401) session = null;
  }
}

document.querySelector(".menu-toggle").addEventListener("click", (event) => {
  const open = nav.classList.toggle("open");
  event.currentTarget.setAttribute("aria-expanded", String(open));
});
nav.addEventListener("click", () => nav.classList.remove("open"));
window.addEventListener("hashchange", route);
route();

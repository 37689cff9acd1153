// Settings → Scrobbling: tokens for players using the ListenBrainz API (each shown once), and the
// relay of new plays to ListenBrainz or another compatible server. The settings page only
// mounts this section.
import { h, append, clear } from "./dom.js";
import { errorState } from "./ui.js";
import { count, dateTime } from "./format.js";

function tokenRow(ctx, token, reload) {
  const revoke = h("button", { type: "button", onclick: async () => {
    await ctx.api.del(`/api/v1/scrobble-tokens/${encodeURIComponent(token.id)}`);
    reload();
  } }, "Revoke");
  return h("tr", {}, h("td", {}, token.name), h("td", {}, dateTime(token.created_at)), h("td", {}, revoke));
}

function tokens(ctx) {
  const list = h("tbody");
  const shown = h("div", { role: "status", class: "new-token" });
  async function reload() {
    clear(list);
    try {
      const items = await ctx.api.get("/api/v1/scrobble-tokens");
      if (!items.length) append(list, h("tr", {}, h("td", { colspan: 3, class: "muted" }, "No tokens yet.")));
      for (const token of items) append(list, tokenRow(ctx, token, reload));
    } catch (error) {
      append(list, h("tr", {}, h("td", { colspan: 3 }, errorState(error))));
    }
  }
  const name = h("input", { name: "token_name", id: "token-name", required: true, maxlength: 100, placeholder: "Navidrome" });
  const form = h("form", {}, h("label", { for: "token-name" }, "New token for "), name, h("button", { type: "submit" }, "Create token"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clear(shown);
    try {
      const made = await ctx.api.post("/api/v1/scrobble-tokens", { name: name.value });
      name.value = "";
      append(shown, "Token for ", made.name, ": ", h("code", { class: "secret" }, made.token),
        " — copy it now, it is not shown again.");
      reload();
    } catch (error) {
      append(shown, errorState(error));
    }
  });
  reload();
  return [h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Created"), h("th", {}))), list), form, shown];
}

function relay(ctx) {
  const status = h("p", { role: "status", class: "relay-status" });
  const url = h("input", { name: "relay_url", id: "relay-url", type: "url", required: true, placeholder: "https://api.listenbrainz.org" });
  const token = h("input", { name: "relay_token", id: "relay-token", type: "password", required: true, autocomplete: "off" });
  const message = h("div", { role: "status" });
  const stop = h("button", { type: "button", hidden: true, onclick: async () => {
    clear(message);
    try {
      await ctx.api.del("/api/v1/relay");
      show(await ctx.api.get("/api/v1/relay"));
    } catch (error) {
      append(message, errorState(error));
    }
  } }, "Stop relaying");
  function show(state) {
    clear(status);
    stop.hidden = !state.configured;
    if (!state.configured) {
      append(status, "Your plays are not relayed anywhere.");
      return;
    }
    const q = state.queue;
    append(status, `Relaying to ${state.url}: ${count(q.sent)} sent, ${count(q.pending)} waiting`,
      q.rejected ? `, ${count(q.rejected)} refused by the server` : "", ".");
    if (state.problem) append(status, h("span", { class: "error" }, ` Paused: ${state.problem}`));
  }
  const form = h("form", {},
    h("label", { for: "relay-url" }, "Server "), url,
    h("label", { for: "relay-token" }, " Your token there "), token,
    h("button", { type: "submit" }, "Relay my plays"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clear(message);
    try {
      show(await ctx.api.put("/api/v1/relay", { url: url.value, token: token.value }));
      token.value = "";
    } catch (error) {
      append(message, errorState(error));
    }
  });
  ctx.api.get("/api/v1/relay").then(show, (error) => append(message, errorState(error)));
  return [status, form, stop, message];
}

export function scrobblingSettings(ctx) {
  const root = window.location.origin;
  return h("section", { class: "scrobbling" },
    h("h2", {}, "Scrobbling"),
    h("p", {}, "Any player that scrobbles to ListenBrainz can send its plays here: give it the server ",
      h("code", {}, `${root}/apis/listenbrainz`), " (some ask for ", h("code", {}, root), "), the user name ",
      h("code", {}, ctx.session.me.id), " and a token of yours."),
    ...tokens(ctx),
    h("h3", {}, "Relay"),
    h("p", { class: "muted" }, "Send every new play (recorded or scrobbled) on to ListenBrainz or another compatible server, once, even after outages."),
    ...relay(ctx));
}

import { h } from "../dom.js";

export async function render(root, ctx) {
  const demo = ctx.session?.status?.demo_mode;
  root.append(
    h("section", { class: "signin" },
      h("h1", {}, "Your listening, all of it"),
      h("p", {}, "EchoStats records every play, imports your whole Spotify history and shows it live."),
      h("p", {}, h("a", { class: "button primary", href: "/api/v1/auth/login" }, "Connect Spotify")),
      demo ? h("p", {}, h("a", { class: "button", href: "/api/v1/auth/demo-login" }, "Sign in as the demo listener")) : null,
      demo ? h("p", { class: "muted" }, "This is a demo: a simulated Spotify plays music for the demo listener.") : null));
}

/**
 * The admin UI's entry: sign-in, the layout with its navigation, client-side routes (the gateway
 * answers every non-API path with index.html), and the live event stream while signed in.
 */
import { render, type VNode } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { effect, signal } from "@preact/signals";
import { describeError, role, signIn, signOut, signOutReason, token } from "./api";
import { liveState, startLive, stopLive } from "./live";
import { Audit } from "./pages/audit";
import { Decisions } from "./pages/decisions";
import { Overview } from "./pages/overview";
import { Sessions } from "./pages/sessions";
import { h, NotBuilt } from "./ui";

interface Route {
  path: string;
  label: string;
  view: () => VNode<any>;
}

const ROUTES: Route[] = [
  { path: "/", label: "Overview", view: () => h(Overview, {}) },
  { path: "/sessions", label: "Sessions", view: () => h(Sessions, {}) },
  { path: "/decisions", label: "Decisions", view: () => h(Decisions, {}) },
  { path: "/audit", label: "Audit", view: () => h(Audit, {}) },
  { path: "/roles", label: "Roles", view: () => h(NotBuilt, { title: "Roles", what: ["Listing, creating and editing roles here comes later. For now roles come from the policies folder: see ", h("code", null, "airlock policy --help"), "."] }) },
  { path: "/policies", label: "Policies", view: () => h(NotBuilt, { title: "Policies", what: ["Editing policies, the try-it box and simulation come later. For now, check policies with ", h("code", null, "airlock policy lint"), " and try a command with ", h("code", null, "airlock check"), "."] }) },
  { path: "/clients", label: "Clients", view: () => h(NotBuilt, { title: "Clients", what: ["The list of enrolled workstations and enrollment tokens comes later. A workstation enrolls with ", h("code", null, "airlock client enroll"), "."] }) },
];

const path = signal(location.pathname);
addEventListener("popstate", () => (path.value = location.pathname));

function navigate(to: string): void {
  if (to === path.value) return;
  history.pushState(null, "", to);
  path.value = to;
}

function SignIn(): VNode<any> {
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!value.trim()) return setError("Paste an admin or viewer token.");
    setBusy(true);
    try {
      await signIn(value);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };
  return h(
    "main",
    { class: "signin" },
    h(
      "form",
      { onSubmit: submit, class: "card", "aria-labelledby": "signin-title" },
      h("h1", { id: "signin-title" }, "Airlock"),
      h("p", { class: "muted" }, "Sign in with an admin or viewer token. The gateway printed the admin token once, at its first start; an admin makes more with ", h("code", null, "airlock token create"), "."),
      signOutReason.value && h("p", { class: "error", role: "alert" }, signOutReason.value),
      h("label", { for: "token" }, "Token"),
      h("input", { id: "token", name: "token", type: "password", autoComplete: "off", spellcheck: false, value, onInput: (e: Event) => setValue((e.target as HTMLInputElement).value), "aria-invalid": error ? "true" : undefined, "aria-describedby": error ? "token-error" : undefined, autoFocus: true }),
      error && h("p", { class: "error", id: "token-error", role: "alert" }, error),
      h("button", { type: "submit", disabled: busy }, busy ? "Signing in…" : "Sign in"),
    ),
  );
}

const LIVE_LABEL = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", off: "offline" } as const;

function Layout(): VNode<any> {
  const current = ROUTES.find((r) => r.path === path.value) ?? null;
  const [menu, setMenu] = useState(false);
  const main = useRef<HTMLElement>(null);
  useEffect(() => {
    document.title = `${current?.label ?? "Not found"} · Airlock`;
  }, [current]);
  return h(
    "div",
    { class: "app" },
    h("a", { href: "#content", class: "skip" }, "Skip to content"),
    h(
      "header",
      { class: "top" },
      h("button", { type: "button", class: "menu-toggle", "aria-expanded": menu, "aria-controls": "nav", onClick: () => setMenu(!menu) }, "Menu"),
      h("span", { class: "brand" }, "Airlock"),
      h("span", { class: `live live-${liveState.value}`, role: "status", title: "The live event stream" }, LIVE_LABEL[liveState.value]),
      h("span", { class: "who" }, role.value === "admin" ? "admin" : "viewer (read-only)"),
      h("button", { type: "button", onClick: () => signOut() }, "Sign out"),
    ),
    h(
      "nav",
      { id: "nav", class: menu ? "side open" : "side", "aria-label": "Main" },
      h(
        "ul",
        null,
        ROUTES.map((r) =>
          h(
            "li",
            { key: r.path },
            h(
              "a",
              {
                href: r.path,
                "aria-current": r === current ? "page" : undefined,
                onClick: (e: MouseEvent) => {
                  if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
                  e.preventDefault();
                  setMenu(false);
                  navigate(r.path);
                  main.current?.focus();
                },
              },
              r.label,
            ),
          ),
        ),
      ),
    ),
    h("main", { id: "content", ref: main, tabIndex: -1 }, current ? h(current.view, { key: current.path }) : h("section", null, h("h1", null, "Not found"), h("p", null, "There is no page at this address. ", h("a", { href: "/", onClick: (e: Event) => (e.preventDefault(), navigate("/")) }, "Go to the overview"), "."))),
  );
}

function App(): VNode<any> {
  return token.value ? h(Layout, {}) : h(SignIn, {});
}

effect(() => {
  if (token.value) startLive();
  else stopLive();
});

render(h(App, {}), document.getElementById("app")!);

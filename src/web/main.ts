/**
 * The admin UI's entry: sign-in, the layout with its navigation, client-side routes (the gateway
 * answers every non-API path with index.html), and the live event stream while signed in.
 */
import { render, type VNode } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { effect } from "@preact/signals";
import { describeError, role, signIn, signOut, signOutReason, token } from "./api";
import { liveState, startLive, stopLive } from "./live";
import { navigate, path } from "./nav";
import { DecisionDetail, SessionDetail } from "./pages/detail";
import { Approvals } from "./pages/approvals";
import { Audit } from "./pages/audit";
import { Clients } from "./pages/clients";
import { Decisions } from "./pages/decisions";
import { Device } from "./pages/device";
import { Overview } from "./pages/overview";
import { Policies } from "./pages/policies";
import { Roles } from "./pages/roles";
import { Sessions } from "./pages/sessions";
import { h } from "./ui";

interface Route {
  path: string;
  label: string;
  /** the navigation entry it belongs to, when it is a detail page */
  nav?: string;
  view: () => VNode<any>;
}

const DETAIL_ROUTES = [
  { pattern: /^\/sessions\/([^/]+)$/, label: "Session", nav: "/sessions", view: (id: string) => h(SessionDetail, { id }) },
  { pattern: /^\/decisions\/([^/]+)$/, label: "Decision", nav: "/decisions", view: (id: string) => h(DecisionDetail, { id }) },
  { pattern: /^\/device()$/, label: "Device sign-in", nav: "/approvals", view: () => h(Device, {}) },
];

const ROUTES: Route[] = [
  { path: "/", label: "Overview", view: () => h(Overview, {}) },
  { path: "/sessions", label: "Sessions", view: () => h(Sessions, {}) },
  { path: "/decisions", label: "Decisions", view: () => h(Decisions, {}) },
  { path: "/audit", label: "Audit", view: () => h(Audit, {}) },
  { path: "/roles", label: "Roles", view: () => h(Roles, {}) },
  { path: "/policies", label: "Policies", view: () => h(Policies, {}) },
  { path: "/clients", label: "Clients", view: () => h(Clients, {}) },
  { path: "/approvals", label: "Approvals", view: () => h(Approvals, {}) },
];


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
  const detail = DETAIL_ROUTES.map((d) => ({ d, m: path.value.match(d.pattern) })).find((x) => x.m);
  const current: Route | null = detail ? { path: path.value, label: detail.d.label, nav: detail.d.nav, view: () => detail.d.view(decodeURIComponent(detail.m![1]!)) } : (ROUTES.find((r) => r.path === path.value) ?? null);
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
                "aria-current": r.path === current?.path || r.path === current?.nav ? "page" : undefined,
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
    h("main", { id: "content", ref: main, tabIndex: -1 }, current ? h("div", { key: current.path, class: "page" }, current.view()) : h("section", null, h("h1", null, "Not found"), h("p", null, "There is no page at this address. ", h("a", { href: "/", onClick: (e: Event) => (e.preventDefault(), navigate("/")) }, "Go to the overview"), "."))),
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

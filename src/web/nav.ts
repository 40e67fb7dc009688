/**
 * Client-side navigation: the current path and query as signals, links that push history instead
 * of reloading. Filters live in the query (`/decisions?verdict=block&policy=x`) so a filtered view
 * can be shared and reloaded; the token never goes in a URL.
 */
import { batch, signal } from "@preact/signals";
import type { ComponentChildren, VNode } from "preact";
import { h } from "preact";

export const path = signal(location.pathname);
/** `location.search`, with its `?` (or "") */
export const search = signal(location.search);
addEventListener("popstate", () =>
  batch(() => {
    path.value = location.pathname;
    search.value = location.search;
  }),
);

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = new URL(to, location.origin);
  if (url.pathname === path.value && url.search === search.value) return;
  history[options.replace ? "replaceState" : "pushState"](null, "", url.pathname + url.search);
  batch(() => {
    path.value = url.pathname;
    search.value = url.search;
  });
}

/** the current query's non-empty values for `keys` (missing keys are "") */
export function queryValues<K extends string>(keys: readonly K[]): Record<K, string> {
  const p = new URLSearchParams(search.value);
  return Object.fromEntries(keys.map((k) => [k, p.get(k) ?? ""])) as Record<K, string>;
}

/** `/path?k=v` from the non-empty entries */
export function withQuery(pathname: string, params: Record<string, string | null | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) p.set(k, v);
  const s = p.toString();
  return s ? `${pathname}?${s}` : pathname;
}

export function Link(props: { href: string; children?: ComponentChildren; class?: string; "aria-label"?: string; title?: string }): VNode<any> {
  return h(
    "a",
    {
      ...props,
      onClick: (e: MouseEvent) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(props.href);
      },
    },
    props.children,
  );
}

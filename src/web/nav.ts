/** Client-side navigation: the current path as a signal, and links that push history instead of reloading. */
import { signal } from "@preact/signals";
import type { ComponentChildren, VNode } from "preact";
import { h } from "preact";

export const path = signal(location.pathname);
addEventListener("popstate", () => (path.value = location.pathname));

export function navigate(to: string): void {
  if (to === path.value) return;
  history.pushState(null, "", to);
  path.value = to;
}

export function Link(props: { href: string; children?: ComponentChildren; class?: string; "aria-label"?: string }): VNode<any> {
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

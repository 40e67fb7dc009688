/** Small shared pieces of the admin UI: `h`, tables, error and empty states, time formatting. */
import { h, type ComponentChildren, type VNode } from "preact";

export { h };

export function ErrorNote(props: { error: string | null; id?: string }): VNode<any> | null {
  if (!props.error) return null;
  return h("p", { class: "error", role: "alert", id: props.id }, props.error);
}

export function Empty(props: { title: string; children?: ComponentChildren }): VNode<any> {
  return h("div", { class: "empty" }, h("p", { class: "empty-title" }, props.title), props.children);
}

export function time(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function Verdict(props: { verdict: string }): VNode<any> {
  const label = props.verdict === "require_approval" ? "approval" : props.verdict;
  return h("span", { class: `badge v-${props.verdict}` }, label);
}

export function Table(props: { caption: string; head: string[]; rows: VNode<any>[] }): VNode<any> {
  return h(
    "div",
    { class: "table-wrap", tabIndex: 0, role: "region", "aria-label": props.caption },
    h("table", null, h("caption", { class: "sr-only" }, props.caption), h("thead", null, h("tr", null, props.head.map((c) => h("th", { scope: "col" }, c)))), h("tbody", null, props.rows)),
  );
}

/** Small shared pieces of the admin UI: `h`, tables, error and empty states, time formatting. */
import { h, type ComponentChildren, type VNode } from "preact";
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { describeError } from "./api";

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

/**
 * A modal asking to confirm a destructive action: Cancel has the focus, Escape cancels, an API
 * error is shown inside the dialog, and `onClose(true)` only after `action` succeeded.
 */
export function ConfirmDialog(props: {
  title: string;
  body: string;
  confirm: string;
  busy: string;
  action: () => Promise<unknown>;
  onClose: (changed: boolean) => void;
}): VNode<any> {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  const confirm = async () => {
    setBusy(true);
    try {
      await props.action();
      props.onClose(true);
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  };
  return h(
    "dialog",
    { ref, class: "dialog", "aria-labelledby": titleId, onCancel: (e: Event) => (e.preventDefault(), props.onClose(false)) },
    h("h2", { id: titleId }, props.title),
    h("p", null, props.body),
    h(ErrorNote, { error }),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", onClick: () => props.onClose(false), autoFocus: true }, "Cancel"),
      h("button", { type: "button", class: "danger", disabled: busy, onClick: confirm }, busy ? props.busy : props.confirm),
    ),
  );
}

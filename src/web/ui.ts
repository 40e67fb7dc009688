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

export function Table(props: { caption: string; head: string[]; rows: (VNode<any> | null | false)[] }): VNode<any> {
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

/**
 * `value`, but changing at most once per `ms`: the first change of a burst is taken `ms` later
 * with whatever the value is by then (live events arriving by the hundred refetch once a second).
 */
export function useSettled<T>(value: T, ms: number): T {
  const [out, setOut] = useState(value);
  const latest = useRef(value);
  latest.current = value;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    if (timer.current === null && !Object.is(value, out)) {
      timer.current = setTimeout(() => {
        timer.current = null;
        setOut(latest.current);
      }, ms);
    }
  }, [value]);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  return out;
}

/** a definition list of facts; null values show as "—" */
export function Facts(props: { rows: [string, unknown][] }): VNode<any> {
  return h("dl", { class: "facts" }, props.rows.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, (v ?? "—") as any)]));
}

/** Newer / page n / Older for a keyset-paginated list whose cursors are kept in a stack */
export function Pager(props: { cursors: (string | null)[]; next: string | null | undefined; onChange: (cursors: (string | null)[]) => void; label?: string }): VNode<any> {
  const index = props.cursors.length - 1;
  return h(
    "nav",
    { class: "pager", "aria-label": props.label ?? "Pages" },
    h("button", { type: "button", disabled: index === 0, onClick: () => props.onChange(props.cursors.slice(0, -1)) }, "Newer"),
    h("span", { class: "muted", "data-page": index + 1 }, `page ${index + 1}`),
    h("button", { type: "button", disabled: !props.next, onClick: () => props.next && props.onChange([...props.cursors, props.next]) }, "Older"),
  );
}

/** `datetime-local` input value (local time) ⇄ ISO instant for the API */
export function localToIso(local: string): string {
  if (!local) return "";
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}
export function isoToLocal(iso: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Overview: counts from /api/v1/status, latest blocks; refreshed on live decision and session events. */
import { useEffect, useState } from "preact/hooks";
import type { VNode } from "preact";
import type { DecisionRecord, Page } from "../../protocol/records";
import { describeError, get } from "../api";
import { decisionTick, sessionTick } from "../live";
import { Empty, ErrorNote, h, Table, time, Verdict } from "../ui";

interface Status {
  version: string;
  store: string;
  counts: {
    sessions_by_status: Record<string, number>;
    decisions_by_verdict: Record<string, number>;
    policies: number;
    roles: number;
    clients: number;
    audit_events: number;
  };
}

function Stat(props: { label: string; value: number | string; id: string }): VNode<any> {
  return h("div", { class: "stat" }, h("span", { class: "stat-value", "data-stat": props.id }, String(props.value)), h("span", { class: "stat-label" }, props.label));
}

export function Overview(): VNode<any> {
  const [status, setStatus] = useState<Status | null>(null);
  const [blocks, setBlocks] = useState<DecisionRecord[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const tick = decisionTick.value + sessionTick.value;

  useEffect(() => {
    let alive = true;
    Promise.all([get<Status>("/api/v1/status"), get<Page<DecisionRecord>>("/api/v1/decisions?verdict=block&limit=10")]).then(
      ([s, b]) => {
        if (!alive) return;
        setStatus(s);
        setBlocks(b.items);
        setError(null);
      },
      (e) => alive && setError(describeError(e)),
    );
    return () => {
      alive = false;
    };
  }, [tick]);

  const c = status?.counts;
  const total = c ? Object.values(c.decisions_by_verdict).reduce((a, b) => a + b, 0) : 0;
  return h(
    "section",
    null,
    h("h1", null, "Overview"),
    h(ErrorNote, { error }),
    c &&
      h(
        "div",
        { class: "stats" },
        h(Stat, { label: "running sessions", value: c.sessions_by_status.running ?? 0, id: "running" }),
        h(Stat, { label: "ready sessions", value: c.sessions_by_status.ready ?? 0, id: "ready" }),
        h(Stat, { label: "decisions", value: total, id: "decisions" }),
        h(Stat, { label: "blocked", value: c.decisions_by_verdict.block ?? 0, id: "block" }),
        h(Stat, { label: "needed approval", value: c.decisions_by_verdict.require_approval ?? 0, id: "require_approval" }),
        h(Stat, { label: "enrolled clients", value: c.clients, id: "clients" }),
        h(Stat, { label: "policies", value: c.policies, id: "policies" }),
        h(Stat, { label: "audit events", value: c.audit_events, id: "audit" }),
      ),
    h("h2", null, "Latest blocks"),
    blocks === null
      ? h("p", { class: "muted" }, "Loading…")
      : blocks.length === 0
        ? h(
            Empty,
            { title: "Nothing has been blocked yet." },
            c && c.clients === 0
              ? h("p", null, "Enroll a workstation with ", h("code", null, "airlock client enroll"), ", then start a governed session with ", h("code", null, "airlock run claude"), ".")
              : h("p", null, "Start a governed session with ", h("code", null, "airlock run claude"), "; risky commands the policies block show up here as they happen."),
          )
        : h(Table, {
            caption: "Latest blocked commands",
            head: ["When", "Command", "Verdict", "Rule", "Agent"],
            rows: blocks.map((d) => h("tr", { key: d.id }, h("td", null, time(d.decided_at)), h("td", null, h("code", null, d.command)), h("td", null, h(Verdict, { verdict: d.verdict })), h("td", null, [d.policy, d.rule].filter(Boolean).join(" / ") || "—"), h("td", null, d.agent ?? "—"))),
          }),
  );
}

/**
 * Overview: counts from /api/v1/status, decisions per minute by verdict and the top blocked
 * commands (/api/v1/decisions/stats), latest blocks; refreshed at most once a second on live
 * decision and session events.
 */
import { useEffect, useState } from "preact/hooks";
import type { VNode } from "preact";
import type { DecisionRecord, Page } from "../../protocol/records";
import { describeError, get } from "../api";
import { decisionTick, sessionTick } from "../live";
import { DecisionChart, fillMinutes, type MinuteCounts } from "../chart";
import { Link, withQuery } from "../nav";
import { Empty, ErrorNote, h, Table, time, useSettled, Verdict } from "../ui";

const MINUTES = 60;

interface Stats {
  since: string;
  minutes: number;
  per_minute: MinuteCounts[];
  top_blocked: { command: string; count: number; last_at: string }[];
}

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
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<string | null>(null);
  const tick = useSettled(decisionTick.value + sessionTick.value, 1000);

  useEffect(() => {
    let alive = true;
    Promise.all([get<Status>("/api/v1/status"), get<Page<DecisionRecord>>("/api/v1/decisions?verdict=block&limit=10"), get<Stats>(`/api/v1/decisions/stats?minutes=${MINUTES}&top=10`)]).then(
      ([s, b, st]) => {
        if (!alive) return;
        setStatus(s);
        setBlocks(b.items);
        setStats(st);
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
    h(
      "div",
      { class: "overview-grid" },
      h(
        "section",
        { class: "panel", "aria-labelledby": "chart-title" },
        h("h2", { id: "chart-title" }, `Decisions per minute, last ${MINUTES} minutes`),
        stats === null ? h("p", { class: "muted" }, "Loading…") : h(DecisionChart, { id: "per-minute", series: fillMinutes(stats.since, stats.minutes, stats.per_minute) }),
      ),
      h(
        "section",
        { class: "panel", "aria-labelledby": "top-title" },
        h("h2", { id: "top-title" }, "Top blocked commands"),
        stats === null
          ? h("p", { class: "muted" }, "Loading…")
          : stats.top_blocked.length === 0
            ? h("p", { class: "muted", "data-top-blocked": "none" }, `Nothing blocked in the last ${MINUTES} minutes.`)
            : h(
                "ol",
                { class: "top-list" },
                stats.top_blocked.map((t) =>
                  h(
                    "li",
                    { key: t.command, "data-top-blocked": t.command },
                    h(Link, { href: withQuery("/decisions", { verdict: "block", q: t.command }), title: `Last ${time(t.last_at)}`, "aria-label": `${t.command}, blocked ${t.count} time${t.count === 1 ? "" : "s"}` }, h("code", null, t.command)),
                    h("span", { class: "count" }, `${t.count}×`),
                  ),
                ),
              ),
      ),
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
            rows: blocks.map((d) => h("tr", { key: d.id }, h("td", null, time(d.decided_at)), h("td", { class: "cmd" }, h("code", null, d.command)), h("td", null, h(Verdict, { verdict: d.verdict })), h("td", null, [d.policy, d.rule].filter(Boolean).join(" / ") || "—"), h("td", null, d.agent ?? "—"))),
          }),
  );
}

/**
 * A session with its timeline (its decisions and its state transitions from the audit trail,
 * newest or oldest first), and one decision with its full explanation, whose policy, rule, role
 * and session link to the decisions filtered by them.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { VNode } from "preact";
import type { AuditEventRecord, DecisionRecord, Page, SessionRecord } from "../../protocol/records";
import { describeError, get, post, qs, role } from "../api";
import { decisionTick, sessionTick } from "../live";
import { Link, withQuery } from "../nav";
import { Empty, ErrorNote, Facts, h, Table, time, useSettled, Verdict } from "../ui";
import { RevokeDialog } from "./sessions";

const PAGE = 100;

type TimelineEntry = { at: string; key: string; decision?: DecisionRecord; event?: AuditEventRecord };

/** what a session.* audit event says, in words */
function eventText(ev: AuditEventRecord): string {
  const d = ev.details as Record<string, unknown>;
  switch (ev.type) {
    case "session.created":
      return `created by ${ev.actor}: ${String(d.agent ?? "?")} as role ${String(d.role ?? "?")}${d.pid ? `, pid ${String(d.pid)}` : ""}`;
    case "session.started":
      return `${String(d.from ?? "ready")} → running`;
    case "session.exited":
      return `running → exited${d.exit_code !== null && d.exit_code !== undefined ? ` with code ${String(d.exit_code)}` : ""}`;
    case "session.revoked":
      return `${String(d.from ?? "?")} → revoked by ${ev.actor}`;
    default:
      return `${ev.type} by ${ev.actor}`;
  }
}

export function SessionDetail(props: { id: string }): VNode<any> {
  const admin = role.value === "admin";
  const [session, setSession] = useState<SessionRecord | null>(null);
  const [decisions, setDecisions] = useState<DecisionRecord[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [events, setEvents] = useState<AuditEventRecord[]>([]);
  const [oldestFirst, setOldestFirst] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [moreError, setMoreError] = useState<string | null>(null);
  const [revoking, setRevoking] = useState(false);
  const [reload, setReload] = useState(0);
  const tick = useSettled(decisionTick.value + sessionTick.value, 1000) + reload;
  const target = `session:${props.id}`;
  const loaded = useRef(false);

  useEffect(() => {
    let alive = true;
    Promise.all([
      get<SessionRecord>(`/api/v1/sessions/${encodeURIComponent(props.id)}`),
      get<Page<DecisionRecord>>(`/api/v1/decisions${qs({ session_id: props.id, limit: PAGE })}`),
      get<Page<AuditEventRecord>>(`/api/v1/audit${qs({ target, limit: 100 })}`).catch(() => ({ items: [], next_cursor: null })),
    ]).then(
      ([s, p, a]) => {
        if (!alive) return;
        setSession(s);
        // a refresh brings the newest page; older pages already loaded stay
        if (!loaded.current) {
          loaded.current = true;
          setDecisions(p.items);
          setNext(p.next_cursor);
        } else {
          const seen = new Set(p.items.map((d) => d.id));
          setDecisions((old) => [...p.items, ...(old ?? []).filter((d) => !seen.has(d.id))]);
        }
        setEvents(a.items);
        setError(null);
      },
      (e) => alive && setError(describeError(e)),
    );
    return () => {
      alive = false;
    };
  }, [props.id, tick]);

  const loadOlder = async () => {
    if (!next) return;
    try {
      const p = await get<Page<DecisionRecord>>(`/api/v1/decisions${qs({ session_id: props.id, limit: PAGE, cursor: next })}`);
      setDecisions((old) => [...(old ?? []), ...p.items]);
      setNext(p.next_cursor);
      setMoreError(null);
    } catch (e) {
      setMoreError(describeError(e));
    }
  };

  const entries: TimelineEntry[] = [
    ...(decisions ?? []).map((d) => ({ at: d.decided_at, key: `d:${d.id}`, decision: d })),
    ...events.map((ev) => ({ at: ev.created_at, key: `e:${ev.seq}`, event: ev })),
  ].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  if (oldestFirst) entries.reverse();
  const s = session;
  const counts = (decisions ?? []).reduce((acc, d) => ((acc[d.verdict] = (acc[d.verdict] ?? 0) + 1), acc), {} as Record<string, number>);
  return h(
    "section",
    null,
    h("p", null, h(Link, { href: "/sessions" }, "← Sessions")),
    h("div", { class: "title-row" }, h("h1", null, `Session ${props.id}`), admin && s && (s.status === "ready" || s.status === "running") && h("button", { type: "button", class: "danger", onClick: () => setRevoking(true) }, "Revoke session")),
    h(ErrorNote, { error }),
    s &&
      h(Facts, {
        rows: [
          ["State", h("span", { class: `badge s-${s.status}` }, s.status)],
          ["Agent", s.agent],
          ["Role", h(Link, { href: withQuery("/decisions", { role: s.role }) }, s.role)],
          ["User", s.user],
          ["Host", s.host],
          ["Directory", h("code", null, s.cwd)],
          ["Created", time(s.created_at)],
          ["Started", time(s.started_at)],
          ["Ended", s.ended_at ? `${time(s.ended_at)}${s.exit_code !== null ? ` (exit code ${s.exit_code})` : ""}${s.revoked_by ? ` (revoked by ${s.revoked_by})` : ""}` : null],
          ["Client", s.client_id],
        ],
      }),
    h(
      "div",
      { class: "title-row" },
      h("h2", null, "Timeline"),
      h(
        "div",
        { class: "inline-controls" },
        decisions && decisions.length > 0 && h(Link, { href: withQuery("/decisions", { session_id: props.id }) }, "Open in Decisions"),
        h("label", { class: "inline" }, h("input", { type: "checkbox", checked: oldestFirst, onChange: (e: Event) => setOldestFirst((e.target as HTMLInputElement).checked) }), "Oldest first"),
      ),
    ),
    decisions &&
      decisions.length > 0 &&
      h("p", { class: "muted" }, `${decisions.length}${next ? "+" : ""} decisions: ${counts.allow ?? 0} allowed, ${counts.require_approval ?? 0} needed approval, ${counts.block ?? 0} blocked.`),
    decisions === null
      ? h("p", { class: "muted" }, "Loading…")
      : entries.length === 0
        ? h(Empty, { title: "No decision recorded for this session yet." }, h("p", null, "Each command the agent runs appears here as it is decided."))
        : h(Table, {
            caption: `The session's timeline, ${oldestFirst ? "oldest" : "newest"} first`,
            head: ["When", "What", "Detail", "Policy / rule"],
            rows: entries.map((e) =>
              e.decision
                ? h(
                    "tr",
                    { key: e.key, "data-decision": e.decision.id },
                    h("td", { class: "nowrap" }, h(Link, { href: `/decisions/${encodeURIComponent(e.decision.id)}` }, time(e.at))),
                    h("td", null, h(Verdict, { verdict: e.decision.verdict })),
                    h("td", { class: "cmd" }, h("code", null, e.decision.command)),
                    h("td", null, [e.decision.policy, e.decision.rule].filter(Boolean).join(" / ") || "—"),
                  )
                : h(
                    "tr",
                    { key: e.key, "data-session-event": e.event!.type, class: "event-row" },
                    h("td", { class: "nowrap" }, time(e.at)),
                    h("td", null, h("span", { class: `badge s-${e.event!.type.split(".")[1]}` }, e.event!.type.split(".")[1])),
                    h("td", { colSpan: 2 }, eventText(e.event!)),
                  ),
            ),
          }),
    h(ErrorNote, { error: moreError }),
    next && h("p", null, h("button", { type: "button", onClick: loadOlder }, "Load older decisions")),
    revoking &&
      s &&
      h(RevokeDialog, {
        session: s,
        onClose: (changed) => {
          setRevoking(false);
          if (changed) setReload(reload + 1);
        },
      }),
  );
}

interface CommandVerdict {
  command: string;
  verdict: string;
  policy: string | null;
  rule: string | null;
  reason: string;
}

export function DecisionDetail(props: { id: string }): VNode<any> {
  const [d, setD] = useState<DecisionRecord | null>(null);
  const [now, setNow] = useState<{ verdict: string; reason: string; commands: CommandVerdict[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [nowError, setNowError] = useState<string | null>(null);
  useEffect(() => {
    get<DecisionRecord>(`/api/v1/decisions/${encodeURIComponent(props.id)}`).then(setD, (e) => setError(describeError(e)));
  }, [props.id]);
  const recheck = async () => {
    if (!d) return;
    try {
      setNow(await post("/api/v1/check", { command: d.command, ...(d.role ? { role: d.role } : {}) }));
      setNowError(null);
    } catch (e) {
      setNowError(describeError(e));
    }
  };
  return h(
    "section",
    null,
    h("p", null, h(Link, { href: "/decisions" }, "← Decisions")),
    h("h1", null, "Decision"),
    h(ErrorNote, { error }),
    d &&
      h(
        "div",
        { "data-decision-detail": d.id },
        h("p", null, h(Verdict, { verdict: d.verdict }), " ", h("code", null, d.command)),
        h("p", null, d.reason || "—"),
        h(Facts, {
          rows: [
            ["Decided", time(d.decided_at)],
            ["Policy", d.policy ? h(Link, { href: withQuery("/decisions", { policy: d.policy }), title: "Every decision of this policy" }, d.policy) : null],
            ["Rule", d.rule ? h(Link, { href: withQuery("/decisions", { policy: d.policy, rule: d.rule }), title: "Every decision of this rule" }, d.rule) : null],
            ["Pattern", d.pattern ? h("code", null, d.pattern) : null],
            ["Normalized commands", d.normalized.length ? d.normalized.map((n) => h("code", { class: "block" }, n)) : null],
            ["Role", d.role ? h(Link, { href: withQuery("/decisions", { role: d.role }) }, d.role) : null],
            ["Agent", d.agent ? h(Link, { href: withQuery("/decisions", { agent: d.agent }) }, d.agent) : null],
            ["Tool", d.tool ? h(Link, { href: withQuery("/decisions", { tool: d.tool }) }, d.tool) : null],
            ["Session", d.session_id ? h("span", null, h(Link, { href: `/sessions/${encodeURIComponent(d.session_id)}` }, d.session_id), " · ", h(Link, { href: withQuery("/decisions", { session_id: d.session_id }) }, "its decisions")) : null],
            ["Client", d.client_id],
            ["Directory", d.cwd ? h("code", null, d.cwd) : null],
            ["Decided by", d.source],
            ["Received", time(d.received_at)],
            ["Id", d.id],
          ],
        }),
        h("h2", null, "Under today's policies"),
        h("p", { class: "muted" }, "Checks the same command again with the gateway's engine and the role's current policies, command by command."),
        h("button", { type: "button", onClick: recheck }, "Check again now"),
        h(ErrorNote, { error: nowError }),
        now &&
          h(
            "div",
            { class: "result", "data-recheck": now.verdict },
            h("p", null, h(Verdict, { verdict: now.verdict }), " ", now.reason),
            now.commands.length > 0 &&
              h(Table, {
                caption: "Each command in it",
                head: ["Command", "Verdict", "Policy / rule", "Reason"],
                rows: now.commands.map((c, i) => h("tr", { key: i }, h("td", null, h("code", null, c.command)), h("td", null, h(Verdict, { verdict: c.verdict })), h("td", null, [c.policy, c.rule].filter(Boolean).join(" / ") || "—"), h("td", null, c.reason))),
              }),
          ),
      ),
  );
}

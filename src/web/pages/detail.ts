/** A session with its decisions (newest first), and one decision with its full explanation. */
import { useEffect, useState } from "preact/hooks";
import type { VNode } from "preact";
import type { DecisionRecord, Page, SessionRecord } from "../../protocol/records";
import { describeError, get, post, qs } from "../api";
import { decisionTick } from "../live";
import { Link } from "../nav";
import { Empty, ErrorNote, h, Table, time, Verdict } from "../ui";

const PAGE = 100;

function Facts(props: { rows: [string, unknown][] }): VNode<any> {
  return h("dl", { class: "facts" }, props.rows.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, (v ?? "—") as any)]));
}

export function SessionDetail(props: { id: string }): VNode<any> {
  const [session, setSession] = useState<SessionRecord | null>(null);
  const [page, setPage] = useState<Page<DecisionRecord> | null>(null);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [error, setError] = useState<string | null>(null);
  const index = cursors.length - 1;
  const tick = index === 0 ? decisionTick.value : -1;
  useEffect(() => {
    get<SessionRecord>(`/api/v1/sessions/${encodeURIComponent(props.id)}`).then(setSession, (e) => setError(describeError(e)));
  }, [props.id]);
  useEffect(() => {
    let alive = true;
    get<Page<DecisionRecord>>(`/api/v1/decisions${qs({ session_id: props.id, limit: PAGE, cursor: cursors[index] })}`).then(
      (p) => alive && setPage(p),
      (e) => alive && setError(describeError(e)),
    );
    return () => {
      alive = false;
    };
  }, [props.id, cursors, tick]);
  const s = session;
  return h(
    "section",
    null,
    h("p", null, h(Link, { href: "/sessions" }, "← Sessions")),
    h("h1", null, `Session ${props.id}`),
    h(ErrorNote, { error }),
    s && h(Facts, { rows: [["State", h("span", { class: `badge s-${s.status}` }, s.status)], ["Agent", s.agent], ["Role", s.role], ["User", s.user], ["Host", s.host], ["Directory", h("code", null, s.cwd)], ["Created", time(s.created_at)], ["Started", time(s.started_at)], ["Ended", time(s.ended_at)]] }),
    h("h2", null, "Decisions"),
    page === null
      ? h("p", { class: "muted" }, "Loading…")
      : page.items.length === 0
        ? h(Empty, { title: "No decision recorded for this session yet." }, h("p", null, "Each command the agent runs appears here as it is decided."))
        : h(Table, {
            caption: "The session's decisions, newest first",
            head: ["When", "Command", "Verdict", "Policy / rule"],
            rows: page.items.map((d) => h("tr", { key: d.id, "data-decision": d.id }, h("td", null, h(Link, { href: `/decisions/${encodeURIComponent(d.id)}` }, time(d.decided_at))), h("td", null, h("code", null, d.command)), h("td", null, h(Verdict, { verdict: d.verdict })), h("td", null, [d.policy, d.rule].filter(Boolean).join(" / ") || "—"))),
          }),
    h(
      "nav",
      { class: "pager", "aria-label": "Pages" },
      h("button", { type: "button", disabled: index === 0, onClick: () => setCursors(cursors.slice(0, -1)) }, "Newer"),
      h("span", { class: "muted" }, `page ${index + 1}`),
      h("button", { type: "button", disabled: !page?.next_cursor, onClick: () => page?.next_cursor && setCursors([...cursors, page.next_cursor]) }, "Older"),
    ),
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
            ["Policy", d.policy],
            ["Rule", d.rule],
            ["Pattern", d.pattern ? h("code", null, d.pattern) : null],
            ["Normalized commands", d.normalized.length ? d.normalized.map((n) => h("code", { class: "block" }, n)) : null],
            ["Role", d.role],
            ["Agent", d.agent],
            ["Tool", d.tool],
            ["Session", d.session_id ? h(Link, { href: `/sessions/${encodeURIComponent(d.session_id)}` }, d.session_id) : null],
            ["Client", d.client_id],
            ["Directory", d.cwd ? h("code", null, d.cwd) : null],
            ["Decided by", d.source],
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

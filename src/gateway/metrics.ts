/** Prometheus text exposition: request counts and latencies, plus store gauges read at scrape time. */
import type { StoreCounts } from "../store/types";

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export interface Metrics {
  observe(method: string, route: string, status: number, seconds: number): void;
  /** `approvals`: approvals by status, when the store could count them */
  render(counts: StoreCounts | null, approvals?: Record<string, number> | null): string;
}

const esc = (v: string) => v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");

export function createMetrics(): Metrics {
  const requests = new Map<string, number>();
  const latency = new Map<string, { buckets: number[]; sum: number; count: number }>();
  return {
    observe(method, route, status, seconds) {
      const key = `method="${esc(method)}",route="${esc(route)}",status="${status}"`;
      requests.set(key, (requests.get(key) ?? 0) + 1);
      const lkey = `method="${esc(method)}",route="${esc(route)}"`;
      let h = latency.get(lkey);
      if (!h) latency.set(lkey, (h = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 }));
      for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) h.buckets[i]!++;
      h.sum += seconds;
      h.count++;
    },
    render(counts, approvals) {
      const out: string[] = [];
      out.push("# HELP airlock_http_requests_total HTTP requests by method, route and status.", "# TYPE airlock_http_requests_total counter");
      for (const [k, v] of requests) out.push(`airlock_http_requests_total{${k}} ${v}`);
      out.push("# HELP airlock_http_request_duration_seconds HTTP request latency.", "# TYPE airlock_http_request_duration_seconds histogram");
      for (const [k, h] of latency) {
        BUCKETS.forEach((b, i) => out.push(`airlock_http_request_duration_seconds_bucket{${k},le="${b}"} ${h.buckets[i]}`));
        out.push(`airlock_http_request_duration_seconds_bucket{${k},le="+Inf"} ${h.count}`);
        out.push(`airlock_http_request_duration_seconds_sum{${k}} ${h.sum}`, `airlock_http_request_duration_seconds_count{${k}} ${h.count}`);
      }
      if (counts) {
        out.push("# HELP airlock_decisions Decisions recorded, by verdict.", "# TYPE airlock_decisions gauge");
        for (const [verdict, n] of Object.entries(counts.decisions_by_verdict)) out.push(`airlock_decisions{verdict="${verdict}"} ${n}`);
        out.push("# HELP airlock_sessions Sessions by state.", "# TYPE airlock_sessions gauge");
        for (const [status, n] of Object.entries(counts.sessions_by_status)) out.push(`airlock_sessions{state="${status}"} ${n}`);
        out.push("# HELP airlock_audit_events Audit events in the chain.", "# TYPE airlock_audit_events gauge", `airlock_audit_events ${counts.audit_events}`);
        out.push("# HELP airlock_clients Enrolled clients.", "# TYPE airlock_clients gauge", `airlock_clients ${counts.clients}`);
      }
      if (approvals) {
        out.push("# HELP airlock_approvals Approval requests, by status.", "# TYPE airlock_approvals gauge");
        for (const [status, n] of Object.entries(approvals)) out.push(`airlock_approvals{status="${esc(status)}"} ${n}`);
      }
      return `${out.join("\n")}\n`;
    },
  };
}

/**
 * Decisions per minute by verdict as hand-written SVG stacked bars: y axis with gridlines, x axis
 * with local times, a title and a text summary for screen readers, a `<title>` per bar for a
 * tooltip, and a legend with totals. It renders at the container's width (ResizeObserver) so the
 * labels stay crisp on a phone and on a wide screen.
 */
import type { VNode } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { h } from "./ui";

export interface MinuteCounts {
  /** `YYYY-MM-DDTHH:MM`, UTC */
  minute: string;
  allow: number;
  require_approval: number;
  block: number;
}

export const VERDICTS = [
  { key: "allow", label: "allowed" },
  { key: "require_approval", label: "needed approval" },
  { key: "block", label: "blocked" },
] as const;

/** every minute from `since` on (`minutes` of them), zero where the gateway sent nothing */
export function fillMinutes(since: string, minutes: number, rows: MinuteCounts[]): MinuteCounts[] {
  const byMinute = new Map(rows.map((r) => [r.minute, r]));
  const start = new Date(since).getTime();
  const out: MinuteCounts[] = [];
  for (let i = 0; i < minutes; i++) {
    const minute = new Date(start + i * 60_000).toISOString().slice(0, 16);
    out.push(byMinute.get(minute) ?? { minute, allow: 0, require_approval: 0, block: 0 });
  }
  return out;
}

const total = (m: MinuteCounts) => m.allow + m.require_approval + m.block;
const clock = (minute: string) => new Date(`${minute}:00Z`).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

/** a round step for about four gridlines up to `max` */
function niceStep(max: number): number {
  const rough = Math.max(1, max / 4);
  const pow = 10 ** Math.floor(Math.log10(rough));
  for (const m of [1, 2, 5, 10]) if (m * pow >= rough) return m * pow;
  return 10 * pow;
}

export function summarize(series: MinuteCounts[]): string {
  const sums = { allow: 0, require_approval: 0, block: 0 };
  let busiest: MinuteCounts | null = null;
  for (const m of series) {
    sums.allow += m.allow;
    sums.require_approval += m.require_approval;
    sums.block += m.block;
    if (total(m) > 0 && (!busiest || total(m) > total(busiest))) busiest = m;
  }
  const all = sums.allow + sums.require_approval + sums.block;
  if (all === 0) return `No decisions in the last ${series.length} minutes.`;
  return `${all} decision${all === 1 ? "" : "s"} in the last ${series.length} minutes: ${sums.allow} allowed, ${sums.require_approval} needed approval, ${sums.block} blocked. Busiest minute ${clock(busiest!.minute)} with ${total(busiest!)}.`;
}

function useWidth(fallback: number): [ref: { current: HTMLDivElement | null }, width: number] {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    setWidth(el.clientWidth || fallback);
    const ro = new ResizeObserver((entries) => setWidth(Math.round(entries[0]!.contentRect.width) || fallback));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

export function DecisionChart(props: { series: MinuteCounts[]; id: string }): VNode<any> {
  const { series } = props;
  const [ref, width] = useWidth(600);
  const height = 180;
  const pad = { top: 10, right: 8, bottom: 24, left: 36 };
  const plotW = Math.max(50, width - pad.left - pad.right);
  const plotH = height - pad.top - pad.bottom;
  const max = Math.max(1, ...series.map(total));
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  const y = (v: number) => pad.top + plotH - (v / top) * plotH;
  const slot = plotW / Math.max(1, series.length);
  const barW = Math.max(1, slot * 0.75);
  const ticks: number[] = [];
  for (let v = 0; v <= top; v += step) ticks.push(v);
  // a label every 10 or 15 minutes, fewer on a narrow screen
  const every = plotW < 360 ? 20 : plotW < 640 ? 15 : 10;
  const summary = summarize(series);
  const titleId = `${props.id}-title`;
  const descId = `${props.id}-desc`;
  const sums = Object.fromEntries(VERDICTS.map((v) => [v.key, series.reduce((a, m) => a + m[v.key], 0)])) as Record<(typeof VERDICTS)[number]["key"], number>;

  return h(
    "figure",
    { class: "chart", ref },
    h(
      "svg",
      { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": `${titleId} ${descId}`, "data-chart-total": series.reduce((a, m) => a + total(m), 0) },
      h("title", { id: titleId }, `Decisions per minute by verdict, last ${series.length} minutes`),
      h("desc", { id: descId }, summary),
      ticks.map((v) => h("g", { key: `y${v}`, class: "tick" }, h("line", { x1: pad.left, x2: pad.left + plotW, y1: y(v), y2: y(v), class: v === 0 ? "axis" : "grid" }), h("text", { x: pad.left - 6, y: y(v) + 4, "text-anchor": "end" }, String(v)))),
      series.map((m, i) => {
        const x = pad.left + i * slot + (slot - barW) / 2;
        let base = 0;
        const parts = VERDICTS.filter((v) => m[v.key] > 0).map((v) => {
          const y0 = y(base);
          base += m[v.key];
          const y1 = y(base);
          return h("rect", { key: v.key, x, y: y1, width: barW, height: Math.max(0.5, y0 - y1), class: `bar-${v.key}` });
        });
        const label = `${clock(m.minute)}: ${total(m) === 0 ? "no decisions" : VERDICTS.filter((v) => m[v.key] > 0).map((v) => `${m[v.key]} ${v.label}`).join(", ")}`;
        const last = i === series.length - 1;
        // the last bar is labelled "now"; a regular label too close to it is left out
        const tickLabel = last || (i % every === 0 && series.length - 1 - i >= every / 2)
          ? h("text", { x: pad.left + i * slot + slot / 2, y: height - 6, "text-anchor": i === 0 ? "start" : last ? "end" : "middle" }, last ? "now" : clock(m.minute))
          : null;
        return h(
          "g",
          { key: m.minute, "data-minute": m.minute },
          // a full-height hit area so the tooltip also works over an empty minute
          h("rect", { x: pad.left + i * slot, y: pad.top, width: slot, height: plotH, class: "hit" }, h("title", null, label)),
          parts,
          tickLabel,
        );
      }),
    ),
    h(
      "figcaption",
      { class: "legend" },
      VERDICTS.map((v) => h("span", { key: v.key, class: "legend-item", "data-legend": v.key }, h("span", { class: `swatch bar-${v.key}`, "aria-hidden": "true" }), `${sums[v.key]} ${v.label}`)),
    ),
  );
}

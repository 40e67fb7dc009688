/** Percentiles and a one-line report shared by the benchmarks. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return { n: sorted.length, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), mean };
}

export function report(name: string, s: Summary, unit: "µs" | "ms", target?: { p50: number }): boolean {
  const f = (x: number) => x.toFixed(unit === "µs" ? 2 : 2);
  const ok = target === undefined || s.p50 <= target.p50;
  const goal = target ? `  target p50 ≤ ${target.p50} ${unit}: ${ok ? "met" : "MISSED"}` : "";
  console.log(`${name.padEnd(58)} p50 ${f(s.p50)} ${unit}  p90 ${f(s.p90)}  p99 ${f(s.p99)}  (n=${s.n})${goal}`);
  return ok;
}

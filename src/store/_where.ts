/**
 * A WHERE clause built up with its parameters, and a keyset page of rows, for both store backends:
 * `new Where(DOLLAR)` numbers its placeholders `$1, $2, ...` (PostgreSQL), `new Where(QMARK)` writes
 * `?` (SQLite).
 */
import type { Page } from "../protocol/records";
import { isoTime } from "./_checks";

export const DOLLAR = (n: number): string => `$${n}`;
export const QMARK = (): string => "?";

export class Where {
  readonly params: unknown[] = [];
  private readonly parts: string[] = [];

  constructor(private readonly placeholder: (n: number) => string) {}

  /** `fragment` with each `?` standing for the next of `values` */
  add(fragment: string, ...values: unknown[]): void {
    let i = 0;
    this.parts.push(fragment.replace(/\?/g, () => this.param(values[i++])));
  }

  /** adds a parameter and returns its placeholder */
  param(value: unknown): string {
    this.params.push(value);
    return this.placeholder(this.params.length);
  }

  /** `since` inclusive, `until` exclusive, on a time column */
  timeRange(column: string, since: string | undefined, until: string | undefined): void {
    if (since !== undefined) this.add(`${column} >= ?`, isoTime(since, "since"));
    if (until !== undefined) this.add(`${column} < ?`, isoTime(until, "until"));
  }

  where(): string {
    return this.parts.length ? `WHERE ${this.parts.join(" AND ")}` : "";
  }
}

/** `limit + 1` rows asked for: the first `limit` as the page, a cursor after the last when there are more */
export function keysetPage<R, T>(rows: R[], limit: number, map: (r: R) => T, cursorOf: (r: R) => string): Page<T> {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  return { items: pageRows.map(map), next_cursor: more ? cursorOf(pageRows[pageRows.length - 1]!) : null };
}

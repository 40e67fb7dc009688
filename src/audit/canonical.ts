/**
 * Canonical JSON: object keys sorted by code unit, no whitespace, `undefined` members dropped
 * (RFC 8785's shape for the values Airlock stores: strings, finite numbers, booleans, null, arrays,
 * objects). The same value always yields the same text, so its hash is stable across backends.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new TypeError("canonical JSON has no representation for a non-finite number");
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
    }
    default:
      throw new TypeError(`canonical JSON has no representation for ${typeof value}`);
  }
}

/** the characters JSON.stringify escapes in a string: `"`, `\`, controls, and (possibly lone) surrogates */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * `canonicalJson(s)` for a string, i.e. `JSON.stringify(s)`, without the call when nothing needs
 * escaping (a surrogate, paired or lone, takes JSON.stringify's path, so a lone one is escaped
 * exactly as it would be).
 */
export function canonicalString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/**
 * Where a JSON path (`rules[0].action`, as the gateway names a field in an error) sits in the
 * text of a JSON document: a tolerant scanner records the offset of every member's key and every
 * array item, so the editor can point at the line of each problem.
 */

/** offset of each path in `text`: an object member at its key, an array item at its value, "" at the document */
export function jsonPathOffsets(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\n" || text[i] === "\r" || text[i] === "\t")) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return text.slice(start + 1, i - 1);
    }
  };
  const value = (path: string, depth: number): void => {
    ws();
    if (!out.has(path)) out.set(path, i);
    if (depth > 64) throw new Error("too deep");
    const c = text[i];
    if (c === "{") {
      i++;
      for (;;) {
        ws();
        if (text[i] !== '"') break;
        const at = i;
        const key = str();
        const p = path ? `${path}.${key}` : key;
        out.set(p, at);
        ws();
        if (text[i] !== ":") break;
        i++;
        value(p, depth + 1);
        ws();
        if (text[i] !== ",") break;
        i++;
      }
      if (text[i] === "}") i++;
    } else if (c === "[") {
      i++;
      for (let n = 0; ; n++) {
        ws();
        if (i >= text.length || text[i] === "]") break;
        const before = i;
        value(`${path}[${n}]`, depth + 1);
        ws();
        if (text[i] !== "," || i === before) break;
        i++;
      }
      if (text[i] === "]") i++;
    } else if (c === '"') str();
    else while (i < text.length && !",]}\n\r\t ".includes(text[i]!)) i++;
  };
  try {
    value("", 0);
  } catch {
    /* what was found so far */
  }
  return out;
}

/** 1-based line of `offset` */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset && k < text.length; k++) if (text.charCodeAt(k) === 10) line++;
  return line;
}

/**
 * The line of `path` in `text`; a path that is not there (a missing required field) points at
 * its nearest parent that is.
 */
export function lineOfPath(text: string, path: string, offsets = jsonPathOffsets(text)): number | null {
  let p = path;
  for (;;) {
    const at = offsets.get(p);
    if (at !== undefined) return lineAt(text, at);
    if (p === "") return null;
    const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
    p = cut < 0 ? "" : p.slice(0, cut);
  }
}

/** the line a `JSON.parse` error names (Chromium: "at position 12 (line 2 column 3)") */
export function lineOfParseError(text: string, message: string): number | null {
  const line = /line (\d+)/.exec(message);
  if (line) return Number(line[1]);
  const pos = /position (\d+)/.exec(message);
  return pos ? lineAt(text, Number(pos[1])) : null;
}

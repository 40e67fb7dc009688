/**
 * What `echo` and `printf` print, for `echo '...' | bash`. Only static text is computed exactly;
 * anything dynamic is passed through verbatim and flagged.
 */

import { shellQuote, unquoteAnsiC } from "./words";

export interface TextArg {
  /** Unquoted value (expansions kept verbatim). */
  text: string;
  dynamic: boolean;
}

export interface Printed {
  text: string;
  dynamic: boolean;
}

/** `echo -e` / `printf %b` escapes. Returns the text and whether `\c` stopped the output. */
export function echoEscapes(s: string): { text: string; stop: boolean } {
  if (s.indexOf("\\") < 0) return { text: s, stop: false };
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c !== "\\" || i + 1 >= s.length) {
      out += c;
      i++;
      continue;
    }
    const e = s[i + 1]!;
    if (e === "c") return { text: out, stop: true };
    if (e === "0") {
      let j = i + 2;
      while (j < s.length && j < i + 5 && s[j]! >= "0" && s[j]! <= "7") j++;
      out += String.fromCharCode(j > i + 2 ? parseInt(s.slice(i + 2, j), 8) & 0xff : 0);
      i = j;
      continue;
    }
    if (e >= "1" && e <= "7") {
      // echo does not take \NNN without the leading 0
      out += "\\" + e;
      i += 2;
      continue;
    }
    // one escape through the ANSI-C decoder
    let j = i + 2;
    if (e === "x") while (j < s.length && j < i + 4 && /[0-9a-fA-F]/.test(s[j]!)) j++;
    else if (e === "u") while (j < s.length && j < i + 6 && /[0-9a-fA-F]/.test(s[j]!)) j++;
    else if (e === "U") while (j < s.length && j < i + 10 && /[0-9a-fA-F]/.test(s[j]!)) j++;
    out += unquoteAnsiC(s.slice(i, j));
    i = j;
  }
  return { text: out, stop: false };
}

/** What `echo ARGS` (bash builtin) prints. */
export function echoOutput(args: readonly TextArg[]): Printed {
  let i = 0;
  let newline = true;
  let escapes = false;
  while (i < args.length && !args[i]!.dynamic && /^-[neE]+$/.test(args[i]!.text)) {
    for (const ch of args[i]!.text.slice(1)) {
      if (ch === "n") newline = false;
      else if (ch === "e") escapes = true;
      else escapes = false;
    }
    i++;
  }
  let out = "";
  let dynamic = false;
  for (let k = i; k < args.length; k++) {
    const a = args[k]!;
    if (a.dynamic) dynamic = true;
    let t = a.text;
    if (escapes) {
      const r = echoEscapes(t);
      t = r.text;
      if (r.stop) return { text: out + (k > i ? " " : "") + t, dynamic };
    }
    out += (k > i ? " " : "") + t;
  }
  return { text: newline ? out + "\n" : out, dynamic };
}

const MAX_OUTPUT = 1 << 16;

/** What `printf FORMAT ARGS` (bash builtin) prints, or null when it prints nothing to stdout. */
export function printfOutput(args: readonly TextArg[]): Printed | null {
  let i = 0;
  if (i < args.length && !args[i]!.dynamic && args[i]!.text === "-v") return null; // assigns a variable
  if (i < args.length && !args[i]!.dynamic && args[i]!.text === "--") i++;
  const fmtArg = args[i];
  if (!fmtArg) return { text: "", dynamic: false };
  const fmt = fmtArg.text;
  let dynamic = fmtArg.dynamic;
  const rest = args.slice(i + 1);
  let ai = 0;
  let out = "";
  const next = (): TextArg => {
    const a = rest[ai++];
    return a ?? { text: "", dynamic: false };
  };
  for (;;) {
    const before = ai;
    let k = 0;
    while (k < fmt.length) {
      const c = fmt[k]!;
      if (c === "\\") {
        const e = fmt[k + 1];
        if (e === undefined) {
          out += "\\";
          k++;
          continue;
        }
        if (e === "c") return { text: out, dynamic };
        // the ANSI-C decoder takes the whole escape (octal/hex/unicode may be longer than 2)
        let j = k + 2;
        if (e === "x") while (j < fmt.length && j < k + 4 && /[0-9a-fA-F]/.test(fmt[j]!)) j++;
        else if (e === "u") while (j < fmt.length && j < k + 6 && /[0-9a-fA-F]/.test(fmt[j]!)) j++;
        else if (e === "U") while (j < fmt.length && j < k + 10 && /[0-9a-fA-F]/.test(fmt[j]!)) j++;
        else if (e >= "0" && e <= "7") while (j < fmt.length && j < k + 4 && fmt[j]! >= "0" && fmt[j]! <= "7") j++;
        out += unquoteAnsiC(fmt.slice(k, j));
        k = j;
        continue;
      }
      if (c !== "%") {
        out += c;
        k++;
        continue;
      }
      if (fmt[k + 1] === "%") {
        out += "%";
        k += 2;
        continue;
      }
      // %[flags][width][.precision]conversion
      let j = k + 1;
      while (j < fmt.length && "-+ #0".includes(fmt[j]!)) j++;
      if (fmt[j] === "*") {
        next();
        j++;
      } else while (j < fmt.length && fmt[j]! >= "0" && fmt[j]! <= "9") j++;
      if (fmt[j] === ".") {
        j++;
        if (fmt[j] === "*") {
          next();
          j++;
        } else while (j < fmt.length && fmt[j]! >= "0" && fmt[j]! <= "9") j++;
      }
      const conv = fmt[j];
      k = j + 1;
      if (conv === undefined) {
        dynamic = true;
        break;
      }
      if ("sdiouxXeEfFgGaAc".includes(conv)) {
        const a = next();
        if (a.dynamic) dynamic = true;
        out += conv === "c" ? a.text.slice(0, 1) : a.text;
      } else if (conv === "b") {
        const a = next();
        if (a.dynamic) dynamic = true;
        const r = echoEscapes(a.text);
        out += r.text;
        if (r.stop) return { text: out, dynamic };
      } else if (conv === "q" || conv === "Q") {
        const a = next();
        if (a.dynamic) dynamic = true;
        out += shellQuote(a.text);
      } else {
        dynamic = true; // %(..)T and anything unusual
      }
      if (out.length > MAX_OUTPUT) return { text: out, dynamic: true };
    }
    if (ai >= rest.length || ai === before) break;
  }
  return { text: out, dynamic };
}

/**
 * `airlock policies|roles list|show|apply|delete`: the same four commands for both document kinds.
 * `apply FILE` creates the document, or updates it when it exists (guarded by its current version,
 * so a concurrent edit is a conflict, not a lost update), or leaves it alone when nothing changed.
 */
import { defineCommand, type CommandDef } from "citty";
import { readFileSync } from "node:fs";
import { GatewayRequestError, type GatewayClient } from "../client/gateway";
import { AirlockError, isAirlockError } from "../protocol/errors";
import type { JsonObject, PolicyRecord, RoleRecord } from "../protocol/records";
import { formatTable, onePositional, printJson, remoteArgs, shortTime, withGateway, type Column } from "./_remote";
import { out } from "../config/stdio";

type DocRecord = PolicyRecord | RoleRecord;

export interface DocumentKind<R extends DocRecord> {
  /** "policy" */
  singular: string;
  /** "policies" (the command name) */
  plural: string;
  example: { id: string; file: string };
  columns: Column<R>[];
  api: {
    list(c: GatewayClient): Promise<R[]>;
    get(c: GatewayClient, id: string): Promise<R>;
    create(c: GatewayClient, doc: JsonObject): Promise<R>;
    update(c: GatewayClient, id: string, doc: JsonObject, ifVersion: number): Promise<R>;
    delete(c: GatewayClient, id: string): Promise<void>;
  };
}

/**
 * Whether applying `doc` would change `stored`. The gateway stores the validated document, which
 * spells out defaults (`rules: []`), so a key the file omits whose stored value is an empty list is
 * not a change.
 */
function sameDocument(stored: JsonObject, doc: JsonObject): boolean {
  const trimmed: JsonObject = {};
  for (const [k, v] of Object.entries(stored)) if (k in doc || !(Array.isArray(v) && v.length === 0)) trimmed[k] = v;
  return canonical(trimmed) === canonical(doc);
}

/** JSON with sorted keys: two documents that differ only in key order are the same document. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as JsonObject)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as JsonObject)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

async function readDocument(file: string, singular: string): Promise<JsonObject> {
  let text: string;
  try {
    text = file === "-" ? await Bun.stdin.text() : readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AirlockError("usage", code === "ENOENT" ? `${file}: no such file` : `cannot read ${file}: ${(error as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new AirlockError("invalid_input", `${file} is not valid JSON: ${(error as Error).message}`, [{ path: file, message: "malformed JSON" }]);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new AirlockError("invalid_input", `${file} must hold one ${singular} as a JSON object`, [{ path: file, message: "expected an object" }]);
  }
  const id = (doc as JsonObject).id;
  if (typeof id !== "string" || id === "") {
    throw new AirlockError("invalid_input", `${file} has no id: a ${singular} names itself with "id"`, [{ path: "id", message: "missing" }]);
  }
  return doc as JsonObject;
}

/** A refused document: name the file, keep the API's code and each field error with its path in the file. */
function refused(error: unknown, file: string, singular: string): unknown {
  if (!(error instanceof GatewayRequestError) || error.status !== 400) return error;
  const details = error.details.map((d) => ({ path: d.path ? d.path.replace(/^body\.?/, "") || "(document)" : "(document)", message: d.message }));
  const problems = details.length === 1 ? "1 problem" : `${details.length} problems`;
  const summary = details.length > 0 ? `${problems}` : (error.apiMessage ?? "invalid");
  return new AirlockError(error.code, `the gateway refused ${file} as a ${singular} (${error.method} ${error.url}: ${error.status}): ${summary}`, details, { cause: error });
}

export function documentCommands<R extends DocRecord>(kind: DocumentKind<R>): CommandDef<any> {
  const { singular, plural, example } = kind;

  const list = defineCommand({
    meta: { name: "list", description: `List the gateway's ${plural} (a table; --json for the records)` },
    args: remoteArgs,
    async run({ args }) {
      if (args._.length > 0) throw new AirlockError("usage", `unexpected argument ${JSON.stringify(args._[0])}; to see one, run 'airlock ${plural} show ID'`);
      return withGateway(args, async ({ client }) => {
        const items = await kind.api.list(client);
        if (args.json) printJson({ items });
        else if (items.length === 0) out(`no ${plural}\n`);
        else out(formatTable(items, [...kind.columns, { header: "UPDATED", value: (r) => shortTime(r.updated_at) }]));
        return 0;
      });
    },
  });

  const show = defineCommand({
    meta: {
      name: "show",
      description: `Print one ${singular}'s document as JSON, ready to edit and apply; --json prints the whole record (id, version, document, times)`,
    },
    args: { id: { type: "positional", required: false, description: `${singular} id` }, ...remoteArgs },
    async run({ args }) {
      const id = onePositional(args, `${singular} id`, `airlock ${plural} show ID`);
      return withGateway(args, async ({ client }) => {
        const record = await kind.api.get(client, id);
        printJson(args.json ? record : record.document);
        return 0;
      });
    },
  });

  const apply = defineCommand({
    meta: {
      name: "apply",
      description: `Create the ${singular} in FILE ('-' for stdin), or update the one with its id; each problem is printed with its path, and invalid input exits 2`,
    },
    args: { file: { type: "positional", required: false, description: `JSON file holding one ${singular}` }, ...remoteArgs },
    async run({ args }) {
      const file = onePositional(args, "file", `airlock ${plural} apply FILE`);
      const doc = await readDocument(file, singular);
      const id = doc.id as string;
      return withGateway(args, async ({ client }) => {
        let existing: R | null = null;
        try {
          existing = await kind.api.get(client, id);
        } catch (error) {
          if (!isAirlockError(error) || error.code !== "not_found") throw error;
        }
        let record: R;
        let action: "created" | "updated" | "unchanged";
        try {
          if (existing === null) {
            record = await kind.api.create(client, doc);
            action = "created";
          } else if (sameDocument(existing.document, doc)) {
            record = existing;
            action = "unchanged";
          } else {
            record = await kind.api.update(client, id, doc, existing.version);
            action = "updated";
          }
        } catch (error) {
          throw refused(error, file, singular);
        }
        if (args.json) printJson({ action, record });
        else if (action === "updated") out(`updated ${singular} ${record.id} (version ${existing!.version} → ${record.version})\n`);
        else out(`${action} ${singular} ${record.id} (version ${record.version})\n`);
        return 0;
      });
    },
  });

  const del = defineCommand({
    meta: { name: "delete", description: `Delete a ${singular}${singular === "policy" ? " (refused while a role attaches it)" : ""}` },
    args: { id: { type: "positional", required: false, description: `${singular} id` }, ...remoteArgs },
    async run({ args }) {
      const id = onePositional(args, `${singular} id`, `airlock ${plural} delete ID`);
      return withGateway(args, async ({ client }) => {
        await kind.api.delete(client, id);
        if (args.json) printJson({ deleted: id });
        else out(`deleted ${singular} ${id}\n`);
        return 0;
      });
    },
  });

  return defineCommand({
    meta: {
      name: plural,
      description:
        `The gateway's ${plural}. Reading needs an admin or viewer token (AIRLOCK_TOKEN or --token-file); writing needs admin. ` +
        `apply validates exactly like 'airlock policy lint' and is idempotent: unchanged documents are left alone.\n\n` +
        `  airlock ${plural} list\n` +
        `  airlock ${plural} show ${example.id} > ${example.file}\n` +
        `  airlock ${plural} apply ${example.file}\n` +
        `  airlock ${plural} show ${example.id} | jq '.name = "New name"' | airlock ${plural} apply -\n` +
        `  airlock ${plural} delete ${example.id}\n`,
    },
    subCommands: { list, show, apply, delete: del },
  });
}

/**
 * The CLI: a static top-level help and version (no command module loaded), then one citty
 * command per file, loaded only when named.
 */
import { debugEnabled } from "../config/debug";
import { err, out } from "../config/stdio";
import { VERSION } from "../config/version";
import { AirlockError, exitCodeFor, isAirlockError } from "../protocol/errors";
import type { CommandDef } from "citty";

interface CommandEntry {
  summary: string;
  load: () => Promise<CommandDef<any>>;
  /** commands whose arguments all belong to someone else (a tool's argv) skip option parsing */
  direct?: (args: readonly string[]) => Promise<number>;
}

export const COMMANDS: Record<string, CommandEntry> = {
  check: {
    summary: "Offline verdict for a command (exit 0 allow, 126 block, 3 needs approval)",
    load: () => import("./check").then((m) => m.checkCommand),
  },
  policy: {
    summary: "Validate policies (lint) and run their test cases (test)",
    load: () => import("./policy").then((m) => m.policyCommand),
  },
  gateway: {
    summary: "Run the control plane here: API, admin UI, store (127.0.0.1:8787)",
    load: () => import("./gateway").then((m) => m.gatewayCommand),
  },
  serve: {
    summary: "Run the control plane on a server (0.0.0.0:8787, JSON logs)",
    load: () => import("./gateway").then((m) => m.serveCommand),
  },
  server: {
    summary: "Inspect a gateway: server status (reachable, version, store, counts, audit head)",
    load: () => import("./server").then((m) => m.serverCommand),
  },
  policies: {
    summary: "The gateway's policies: list, show ID, apply FILE, delete ID",
    load: () => import("./policies").then((m) => m.policiesCommand),
  },
  roles: {
    summary: "The gateway's roles: list, show ID, apply FILE, delete ID",
    load: () => import("./roles").then((m) => m.rolesCommand),
  },
  sessions: {
    summary: "Governed agent sessions: list, show ID, revoke ID",
    load: () => import("./sessions").then((m) => m.sessionsCommand),
  },
  audit: {
    summary: "The audit trail: verify its hash chain (or a store file with --db), export JSONL",
    load: () => import("./audit").then((m) => m.auditCommand),
  },
  admin: {
    summary: "Gateway credentials: admin token create|list|revoke",
    load: () => import("./admin").then((m) => m.adminCommand),
  },
  run: {
    summary: "Run an agent or any command as a governed session: airlock run claude",
    load: () => import("./run").then((m) => m.runCommandDef),
    direct: (args) => import("./run").then((m) => m.runGoverned(args)),
  },
  use: {
    summary: "Set the default role of future governed sessions",
    load: () => import("./use").then((m) => m.useCommand),
  },
  current: {
    summary: "Show the default role of governed sessions",
    load: () => import("./use").then((m) => m.currentCommand),
  },
  "sign-in": {
    summary: "Sign in to the gateway with a device code (for pairing an approver)",
    load: () => import("./sign-in").then((m) => m.signInCommand),
  },
  "sign-out": {
    summary: "Forget the sign-in (and unpair when paired)",
    load: () => import("./sign-in").then((m) => m.signOutCommand),
  },
  pair: {
    summary: "Pair an approver (phone, browser, or 'airlock approver') with this workstation",
    load: () => import("./pair").then((m) => m.pairCommand),
  },
  unpair: {
    summary: "Remove the pairing with the approver, at the gateway and in the daemon",
    load: () => import("./pair").then((m) => m.unpairCommand),
  },
  approver: {
    summary: "The headless approver: airlock approver --code XXXXXX, then answer requests",
    load: () => import("./approver").then((m) => m.approverCommand),
  },
  status: {
    summary: "Approvals here: mode, fail mode, sign-in, pairing, fingerprint, approver online",
    load: () => import("./status").then((m) => m.statusCommand),
  },
  "auto-on": {
    summary: "Only policies' require_approval asks a human (the default)",
    load: () => import("./modes").then((m) => m.autoOnCommand),
  },
  "auto-off": {
    summary: "Every command of a governed agent asks a human, unless a pattern matches",
    load: () => import("./modes").then((m) => m.autoOffCommand),
  },
  approve: {
    summary: "Add a local auto-approve pattern: airlock approve 'kubectl get *'",
    load: () => import("./modes").then((m) => m.approveCommand),
  },
  disapprove: {
    summary: "Remove a local auto-approve pattern",
    load: () => import("./modes").then((m) => m.disapproveCommand),
  },
  patterns: {
    summary: "List the local auto-approve patterns",
    load: () => import("./modes").then((m) => m.patternsCommand),
  },
  "fail-mode": {
    summary: "When no approval can be had: closed blocks (default), open allows",
    load: () => import("./modes").then((m) => m.failModeCommand),
  },
  install: {
    summary: "Create the $AIRLOCK_HOME/bin shims and show how to put them on PATH",
    load: () => import("./install").then((m) => m.installCommand),
  },
  uninstall: {
    summary: "Remove the shims (--purge-state: all of $AIRLOCK_HOME)",
    load: () => import("./install").then((m) => m.uninstallCommand),
  },
  doctor: {
    summary: "Check the install: PATH, shims, daemon, gateway, enrollment, agent hooks (with a canary)",
    load: () => import("./doctor").then((m) => m.doctorCommand),
  },
  dev: {
    summary: "The local loop: dev up (gateway + daemon + shims here), dev down",
    load: () => import("./dev").then((m) => m.devCommand),
  },
  daemon: {
    summary: "The workstation daemon: start, stop, status, run (foreground)",
    load: () => import("./daemon").then((m) => m.daemonCommand),
  },
  client: {
    summary: "This workstation's enrollment with a gateway: enroll, status",
    load: () => import("./client").then((m) => m.clientCommand),
  },
  shim: {
    summary: "Run a protected tool through Airlock: airlock shim <tool> [args...]",
    load: () => import("./shim").then((m) => m.shimCommand),
    direct: (args) => import("./shim").then((m) => m.runShimCommand(args)),
  },
  hook: {
    summary: "Agent hook handler: airlock hook <claude|codex|cursor|gemini> (JSON on stdin)",
    load: () => import("./hook").then((m) => m.hookCommand),
    direct: (args) => import("./hook").then((m) => m.runHookCommand(args)),
  },
};

export const HELP = `airlock ${VERSION}: a policy checkpoint in front of the risky commands AI coding agents run.

Usage: airlock <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join("\n")}

Examples:
  airlock check -- terraform -chdir=infra apply        # blocked by infra-mutation-block (exit 126)
  airlock check --command 'cd infra && terraform plan'  # allowed (exit 0)
  airlock check --role terraform-restricted-agent --json -- terraform import x y
  airlock policy lint ./policies
  airlock policy test ./policies

Run 'airlock <command> --help' for a command's options. Exit codes: the verdict for check,
2 for a usage error or invalid input, 1 for any other error.
Docs: docs/policies.md in the Airlock repository.
`;

export async function runCli(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    if (first === "help" && rest[0] !== undefined) return runCli([rest[0], "--help"]);
    out(HELP);
    return 0;
  }
  if (first === "--version" || first === "-v" || first === "version") {
    out(`airlock ${VERSION}\n`);
    return 0;
  }
  try {
    const entry = COMMANDS[first];
    if (!entry) {
      const hint = first.startsWith("-") ? `unknown option ${first}` : `unknown command ${JSON.stringify(first)}`;
      throw new AirlockError("usage", `${hint}; run 'airlock --help' to see the commands`);
    }
    if (entry.direct && rest.length > 0) return await entry.direct(rest);
    const { runCommandDef } = await import("./_runner");
    return await runCommandDef(`airlock ${first}`, await entry.load(), rest);
  } catch (error) {
    return reportError(error);
  }
}

/** Prints an error the way every command does and returns its exit code. */
export function reportError(error: unknown): number {
  if (isAirlockError(error)) {
    err(`airlock: error: ${error.message}\n`);
    for (const d of error.details) err(`  ${d.path ? `${d.path}: ` : ""}${d.message}\n`);
    return exitCodeFor(error.code);
  }
  err(`airlock: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
  if (debugEnabled() && error instanceof Error && error.stack) err(`${error.stack}\n`);
  return 1;
}

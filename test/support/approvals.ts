/** What an approval request asks a human about: the action a paired terminal seals for the approver. */
import type { ApprovalAction } from "../../src/protocol/approvals";

/** the action of request `id` for `command` (a prod release behind a rule), run in `cwd` */
export function actionFor(id: string, expires_at: string, command: string, cwd = "/work"): ApprovalAction {
  return {
    v: 1,
    request_id: id,
    command,
    cwd,
    agent: "claude",
    session_id: null,
    role: "default-agent",
    tool: command.split(" ")[0]!,
    policy: "prod-releases",
    rule: "rules[0]",
    reason: "prod releases need a human",
    host: "laptop",
    requested_at: new Date().toISOString(),
    expires_at,
  };
}

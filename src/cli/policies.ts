/** `airlock policies list|show ID|apply FILE|delete ID`: the gateway's policies (DESIGN 3). */
import type { PolicyRecord } from "../protocol/records";
import { documentCommands } from "./_documents";

const count = (value: unknown) => (Array.isArray(value) ? value.length : 0);

export const policiesCommand = documentCommands<PolicyRecord>({
  singular: "policy",
  plural: "policies",
  example: { id: "infra-mutation-block", file: "infra-mutation-block.json" },
  columns: [
    { header: "ID", value: (p) => p.id },
    { header: "VERSION", value: (p) => p.version },
    { header: "STATUS", value: (p) => String(p.document.status ?? "") },
    { header: "BLOCKED", value: (p) => count(p.document.blocked_commands) },
    { header: "RULES", value: (p) => count(p.document.rules) },
    { header: "NAME", value: (p) => String(p.document.name ?? "") },
  ],
  api: {
    list: (c) => c.listPolicies(),
    get: (c, id) => c.getPolicy(id),
    create: (c, doc) => c.createPolicy(doc),
    update: (c, id, doc, v) => c.updatePolicy(id, doc, v),
    delete: (c, id) => c.deletePolicy(id),
  },
});

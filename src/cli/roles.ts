/** `airlock roles list|show ID|apply FILE|delete ID`: the gateway's roles (DESIGN 3). */
import type { RoleRecord } from "../protocol/records";
import { documentCommands } from "./_documents";

export const rolesCommand = documentCommands<RoleRecord>({
  singular: "role",
  plural: "roles",
  example: { id: "default-agent", file: "default-agent.json" },
  columns: [
    { header: "ID", value: (r) => r.id },
    { header: "VERSION", value: (r) => r.version },
    { header: "DEFAULT", value: (r) => String(r.document.default_action ?? "") },
    { header: "POLICIES", value: (r) => (Array.isArray(r.document.policies) ? r.document.policies.length : 0) },
    { header: "NAME", value: (r) => String(r.document.name ?? "") },
  ],
  api: {
    list: (c) => c.listRoles(),
    get: (c, id) => c.getRole(id),
    create: (c, doc) => c.createRole(doc),
    update: (c, id, doc, v) => c.updateRole(id, doc, v),
    delete: (c, id) => c.deleteRole(id),
  },
});

/** The ancestry walk moved to src/config/ancestry.ts (the daemon uses it too); kept here for the shim's imports. */
export { findAgentAncestor, shippedAgentNames, type AgentMatch } from "../config/ancestry";

/** Who and where this daemon runs: the user and host recorded on sessions and at enrollment. */
import { hostname, userInfo } from "node:os";
import type { Identity } from "./sessions";

/** The local user name; without a passwd entry (some containers): $USER, $LOGNAME, else `uid-N`. */
export function localUser(): string {
  let name = "";
  try {
    name = userInfo().username;
  } catch {
    // no passwd entry
  }
  if (name && name !== "unknown") return name;
  return process.env.USER || process.env.LOGNAME || `uid-${process.getuid?.() ?? "unknown"}`;
}

export function defaultIdentity(): Identity {
  return { user: localUser(), host: hostname() || "localhost" };
}

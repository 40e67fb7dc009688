/**
 * The one script index.html loads: the approver (`/approver`, phone-sized, no admin token) or the
 * admin UI, each a separate chunk so a phone downloads only the approver and what it shares.
 */
const p = location.pathname;
if (p === "/approver" || p.startsWith("/approver/")) {
  void import("./approver/app").then((m) => m.startApprover(document.getElementById("app")!));
} else {
  void import("./main");
}

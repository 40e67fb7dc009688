/**
 * `npm run bench`: every benchmark, figures printed. Targets are reported as met or MISSED;
 * they are never asserted in unit tests (timing on a shared 2-core machine is not a test).
 */
import { benchApprovals } from "./approvals";
import { benchDaemon } from "./daemon";
import { benchGateway } from "./gateway";
import { benchHooks } from "./hooks";
import { benchPolicy } from "./policy";
import { benchShim } from "./shim";
import { benchShell } from "./shell";
import { benchStartup } from "./startup";
import { benchStore } from "./store";
import { benchUi } from "./ui";
import { benchVerdict } from "./verdict";

console.log(`airlock benchmarks — ${new Date().toISOString()} — bun ${Bun.version}, ${navigator.hardwareConcurrency} cores\n`);
console.log("## policy engine");
benchPolicy();
console.log("\n## shell analysis");
await benchShell();
await benchVerdict();
console.log("\n## processes (compiled binary)");
benchStartup();
console.log("\n## daemon (compiled binary, Unix socket)");
await benchDaemon();
console.log("\n## shim (compiled binary through a symlink, daemon warm)");
await benchShim();
console.log("\n## hooks (compiled binary: the whole airlock hook claude process, daemon warm)");
await benchHooks();
console.log("\n## approvals (compiled gateway and daemon, headless approver in process)");
await benchApprovals();
console.log("\n## store (SQLite, in process)");
await benchStore();
// the store bench leaves about a gigabyte of dirty pages behind: let the disk catch up first, so
// the gateway's WAL commits are not measured against another benchmark's writeback
Bun.spawnSync(["sync"]);
console.log("\n## gateway (compiled binary, HTTP on loopback)");
await benchGateway();
console.log("\n## admin UI (compiled gateway, Debian's Chromium, 100,000 decisions)");
await benchUi();

/**
 * `npm run bench`: every benchmark, figures printed. Targets are reported as met or MISSED;
 * they are never asserted in unit tests (timing on a shared 2-core machine is not a test).
 */
import { benchDaemon } from "./daemon";
import { benchGateway } from "./gateway";
import { benchPolicy } from "./policy";
import { benchShell } from "./shell";
import { benchStartup } from "./startup";
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
console.log("\n## gateway (compiled binary, HTTP on loopback)");
await benchGateway();

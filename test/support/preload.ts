/**
 * Loaded before every test file (bunfig.toml): no test sees the developer's HOME, Airlock state or
 * AIRLOCK_* settings, and colours are off so output assertions are plain text.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

for (const key of Object.keys(process.env)) {
  if (key.startsWith("AIRLOCK_")) delete process.env[key];
}
const home = mkdtempSync(join(tmpdir(), "airlock-test-home-"));
process.env.HOME = home;
process.env.NO_COLOR = "1";

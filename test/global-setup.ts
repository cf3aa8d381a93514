// Removes the test run's own temporary directory (vitest.config.ts) once every test file is done.
import { rmSync } from "node:fs";

export function teardown(): void {
  const dir = process.env.OTARIG_TEST_TMP;
  if (dir) rmSync(dir, { recursive: true, force: true });
}

import { chmodSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

// Every temporary file of a test run (run directories, PTY links, caches, browser profiles) goes
// under one directory of its own, which test/global-setup.ts removes when the run ends: a test
// that forgets its temp dir leaves nothing in /tmp. Set here, before any worker is forked, so
// every worker and every process it starts inherits it.
// It is open to every user and sticky, like /tmp itself: tests run tools as other users too.
if (!process.env.OTARIG_TEST_TMP) {
  process.env.OTARIG_TEST_TMP = mkdtempSync(join(tmpdir(), "otarig-t-"));
  chmodSync(process.env.OTARIG_TEST_TMP, 0o1777);
}
process.env.TMPDIR = process.env.OTARIG_TEST_TMP;

export default defineConfig({
  test: {
    // serialport's native poller crashes the threads pool (DESIGN §6).
    pool: "forks",
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // serialport's native poller crashes the threads pool (DESIGN §6).
    pool: "forks",
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

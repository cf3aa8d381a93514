import { defineConfig } from "vitest/config";

// `npm run test:labgrid`: every labgrid test, the long ones too (`npm test` runs test/lab/labgrid.test.ts only).
export default defineConfig({
  test: {
    pool: "forks",
    include: ["test/lab/**/*.test.ts", "test/lab/**/*.long.ts"],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});

// `npm run test:qemu`: the whole shipped suite on rigs/qemu.yaml (nightly; ~10+ minutes on 2 cores).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    pool: "forks",
    include: ["test-qemu/**/*.test.ts"],
    testTimeout: 3_600_000,
    hookTimeout: 60_000,
  },
});

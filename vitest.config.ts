import { defineConfig } from "vitest/config";

/**
 * Two projects: `unit` (beside the code; in-process, real engine on tiny models) and `e2e`
 * (under test/: real processes, real redis-server on a free port, real HTTP). Both run in
 * `pnpm test`. Files run one at a time in e2e: they start processes and share 2 cores.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "apps/*/src/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/**/*.test.ts"],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});

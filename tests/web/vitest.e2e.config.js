// Browser end-to-end tests: one file at a time (they share the test host,
// comfyd and comfyd-bridge started by e2e/global-setup.js).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["e2e/**/*.test.js"],
    environment: "node",
    globalSetup: ["e2e/global-setup.js"],
    fileParallelism: false,
    testTimeout: 90000,
    hookTimeout: 120000,
    reporters: ["default"],
  },
});

// Unit tests: the extension's modules in Node against the real LiteGraph.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["unit/**/*.test.js"],
    environment: "node",
    testTimeout: 20000,
    reporters: ["default"],
  },
  server: { fs: { allow: ["../.."] } },
});

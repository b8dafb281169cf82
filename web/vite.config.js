// Builds the extension into one self-contained ES module, dist/main.js:
// Vue is bundled (nothing is loaded from a CDN), the panel's CSS is a
// string inside it, and the output is the same bytes for the same sources
// and lockfile (no hashes, no timestamps, no absolute paths), so CI can
// rebuild and compare it with the committed file (scripts/check-bundle.mjs).
import { fileURLToPath } from "node:url";
import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vite";

const outDir = process.env.COMFYD_WEB_OUT_DIR || "dist";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  logLevel: "warn",
  plugins: [vue()],
  define: {
    __VUE_OPTIONS_API__: "false",
    __VUE_PROD_DEVTOOLS__: "false",
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: "false",
    "process.env.NODE_ENV": JSON.stringify("production"),
  },
  build: {
    outDir,
    emptyOutDir: true,
    target: "es2022",
    minify: "esbuild",
    sourcemap: false,
    copyPublicDir: false,
    reportCompressedSize: false,
    lib: {
      entry: fileURLToPath(new URL("src/main.js", import.meta.url)),
      formats: ["es"],
      fileName: () => "main.js",
    },
    rollupOptions: {
      output: { inlineDynamicImports: true },
    },
  },
});

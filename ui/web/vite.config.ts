import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// `npm run build:ui` (and `ingest ui` in a checkout, on first use) builds the front end into ui/web/dist,
// which the server reads and an installed package ships. Preact's JSX through Vite's own transform.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  logLevel: "warn",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    reportCompressedSize: false,
    chunkSizeWarningLimit: 400,
  },
});

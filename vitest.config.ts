import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Test projects import the framework by its package name (`ingest-graph`, linked to this folder):
// the `ingest-source` export condition resolves it to the .ts sources instead of the built dist/,
// here and in every process a test starts (NODE_OPTIONS for Node, DENO_CONDITIONS for Deno).
const conditions = ["ingest-source", ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["ingest-source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/setup/stack.ts"],
    env: {
      NODE_OPTIONS: [process.env.NODE_OPTIONS, "--conditions=ingest-source"].filter(Boolean).join(" "),
      // Deno reads its export conditions from here: a project's `import "ingest-graph"` under Deno gets the sources too.
      DENO_CONDITIONS: "ingest-source",
    },
    // The integration tests share one Neo4j and one Chroma: files run one after another.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 600_000,
  },
});

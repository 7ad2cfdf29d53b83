import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.ts";

// `npm run test:unit`: the unit tests alone, which need no stack (no global setup).
const { globalSetup: _, ...test } = base.test ?? {};
export default mergeConfig(
  { ...base, test: {} },
  defineConfig({ test: { ...test, include: ["test/unit/**/*.test.ts"] } }),
);

#!/usr/bin/env node
// The `ingest` command. `--debug` has to take effect before the logger is made, which happens
// when the commands' modules load: it is read here, before they are imported.
if (process.argv.includes("--debug")) process.env.LOG_STACKS = "1";
await import("./program.ts");

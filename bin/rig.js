#!/usr/bin/env node
// The `rig` command (`npx rig`, a global install, `npm run rig`). It runs the CLI bundle that
// `npm install` builds into dist/cli/ (scripts/build-cli.mjs). When the sources have changed since
// (a pull, an edit), it rebuilds the bundle first; when it cannot build, it runs the TypeScript
// sources through tsx. Either way the code that runs is the code in the checkout.
import { pathToFileURL } from "node:url";
import { buildCli, freshEntry } from "../scripts/build-cli.mjs";

let entry = freshEntry();
if (!entry) {
  try {
    entry = await buildCli();
  } catch (err) {
    process.stderr.write(`rig: could not rebuild the CLI bundle (${err.message}); running the sources through tsx\n`);
  }
}
if (entry) {
  await import(pathToFileURL(entry).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../harness/cli/main.ts"); // runs the command and exits when it is done
}

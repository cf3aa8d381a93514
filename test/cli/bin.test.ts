// bin/rig.js, the `rig` that npx and a global install run: it runs the esbuild bundle of the CLI
// and rebuilds it when the sources are newer, so what runs is always the checkout's code.
// Tried on a copy of the sources (node_modules linked), so the checkout's own bundle is untouched.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { ROOT, tempDir } from "./helpers.ts";

let copy: string;

beforeAll(() => {
  copy = tempDir("otarig-bin-");
  for (const part of ["bin", "scripts", "harness", "devices", "server", "package.json"]) cpSync(join(ROOT, part), join(copy, part), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"));
});

afterAll(() => rmSync(copy, { recursive: true, force: true }));

const rigIn = (dir: string, args: string[]) => execa(process.execPath, [join(dir, "bin/rig.js"), ...args], { cwd: dir, reject: false, all: true, timeout: 60_000 });

describe("bin/rig.js", () => {
  it("builds the bundle on first use, runs from it, and rebuilds when a source changes", async () => {
    expect(existsSync(join(copy, "dist"))).toBe(false);
    const first = await rigIn(copy, ["--version"]);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toBe("otarig 0.1.0");
    const current = JSON.parse(readFileSync(join(copy, "dist/cli/current.json"), "utf8")) as { dir: string };
    expect(existsSync(join(copy, "dist/cli", current.dir, "main.mjs"))).toBe(true);

    // An edit to the sources: the next start rebuilds and runs the edited code.
    const main = join(copy, "harness/cli/main.ts");
    writeFileSync(main, readFileSync(main, "utf8").replace('"otarig 0.1.0\\n"', '"otarig 9.9.9-edited\\n"'));
    const second = await rigIn(copy, ["--version"]);
    expect(second.stdout).toBe("otarig 9.9.9-edited");
    const after = JSON.parse(readFileSync(join(copy, "dist/cli/current.json"), "utf8")) as { dir: string };
    expect(after.dir).not.toBe(current.dir);
  });

  it("keeps lazy command loading: each command is its own chunk, not in the entry", async () => {
    const current = JSON.parse(readFileSync(join(copy, "dist/cli/current.json"), "utf8")) as { dir: string };
    const entry = readFileSync(join(copy, "dist/cli", current.dir, "main.mjs"), "utf8");
    expect(entry).toMatch(/import\(".\/run-[A-Z0-9]+\.mjs"\)/);
    expect(entry).not.toContain("serialport");
    expect(entry).not.toContain("testcontainers");
  });

  it("runs a whole scenario from the bundle: modules that find files beside them (server, virtual board programs) still do", async () => {
    const out = join(copy, "run");
    const run = await execa(
      process.execPath,
      [join(ROOT, "bin/rig.js"), "scenarios/ota-happy-path.yaml", "--server", "process", "--out", out],
      { cwd: ROOT, reject: false, all: true, timeout: 120_000, env: { NO_COLOR: "1", XDG_CACHE_HOME: join(copy, "cache") } },
    );
    expect(run.all).toContain("1 passed, 0 failed");
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(join(out, "result.json"), "utf8")).status).toBe("passed");
  });
});

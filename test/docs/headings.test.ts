// Headings are what a reader scans for: they name what a user sees (commands, files, steps),
// never an internal type of the harness (issue 18 item 12: "RigSession commands" was the board
// commands under the name of the class a rename left behind).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../cli/helpers.ts";
import { docFiles, lines } from "./markdown.ts";

/** Compound names (RigSession, SerialConsole) of the classes, interfaces and types harness/ exports. */
function internalNames(): Set<string> {
  const names = new Set<string>();
  const files = readdirSync(join(ROOT, "harness"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
  for (const file of files) {
    const text = readFileSync(join(ROOT, "harness", file), "utf8");
    for (const m of text.matchAll(/^export (?:abstract )?(?:class|interface|type|enum) ([A-Z][a-z0-9]+[A-Z]\w*)/gm)) names.add(m[1]!);
  }
  return names;
}

describe("doc headings", () => {
  it("name no internal type of the harness", () => {
    const internal = internalNames();
    expect(internal).toContain("RigSession"); // the scan sees the harness's types
    const found: string[] = [];
    for (const file of docFiles()) {
      for (const l of lines(file.text)) {
        if (l.fenced || !/^#{1,6} /.test(l.text)) continue;
        for (const word of l.text.match(/\b[A-Z]\w+\b/g) ?? []) if (internal.has(word)) found.push(`${file.path}:${l.line}: ${l.text}`);
      }
    }
    expect(found).toEqual([]);
  });

  it("the board commands are under their own name", () => {
    const rigs = docFiles().find((f) => f.path === join("docs", "rigs.md"))!;
    expect(rigs.text).toMatch(/^## Board commands$/m);
  });
});

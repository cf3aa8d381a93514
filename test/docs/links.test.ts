// Every relative link in README.md and docs/ leads somewhere: the file or folder exists, and an
// #anchor names a heading of the page it points to.
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../cli/helpers.ts";
import { anchors, docFiles, links } from "./markdown.ts";

/** What is wrong with one link target written in `from` (a path from the root), or undefined. */
function deadLink(from: string, target: string, pageText: (path: string) => string): string | undefined {
  const [pathPart, anchor] = target.split("#", 2) as [string, string | undefined];
  const path = pathPart === "" ? from : relative(ROOT, join(ROOT, dirname(from), decodeURI(pathPart)));
  if (path.startsWith("..")) return `${target} leaves the repository`;
  if (!existsSync(join(ROOT, path))) return `${target}: no file ${path}`;
  if (anchor === undefined) return undefined;
  if (statSync(join(ROOT, path)).isDirectory() || !path.endsWith(".md")) return `${target}: an anchor on ${path}, which has no headings`;
  const known = anchors(pageText(path));
  return known.has(anchor) ? undefined : `${target}: ${path} has no heading #${anchor} (it has: ${[...known].join(", ")})`;
}

const readPage = (path: string) => readFileSync(join(ROOT, path), "utf8");

describe("documentation links", () => {
  const files = docFiles();

  it("README.md and docs/ have the reference pages and link to each other", () => {
    const paths = files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(["README.md", "docs/README.md", "docs/scenarios.md", "docs/rigs.md", "docs/benches.md", "docs/server.md", "docs/report.md", "docs/ci.md", "docs/qemu.md", "docs/bench.md"]));
    // Every page under docs/ is reachable from the index.
    const index = new Set(links(readPage("docs/README.md")).map((l) => l.target.split("#")[0]));
    for (const path of paths.filter((p) => p.startsWith("docs/") && p !== "docs/README.md")) {
      expect(index, `docs/README.md does not link ${path}`).toContain(relative("docs", path));
    }
  });

  it("the front door stays a front door: at most 300 lines", () => {
    expect(readPage("README.md").split("\n").length).toBeLessThanOrEqual(300);
  });

  it("every relative link and #anchor in README.md and docs/ resolves", () => {
    const dead: string[] = [];
    let count = 0;
    for (const file of files) {
      for (const link of links(file.text)) {
        count++;
        const why = deadLink(file.path, link.target, readPage);
        if (why) dead.push(`${file.path}:${link.line}: ${why}`);
      }
    }
    expect(dead).toEqual([]);
    expect(count).toBeGreaterThan(30); // the checker found the links at all
  });

  it("catches a dead file, a dead anchor and an anchor on a page that lacks it", () => {
    const page = (path: string) => (path === "docs/x.md" ? "# Title\n\n## Board logs: `.log` and `.raw`\n\n## Steps\n## Steps\n" : readPage(path));
    expect(deadLink("README.md", "docs/nope.md", page)).toMatch(/no file docs\/nope\.md/);
    expect(deadLink("README.md", "docs/rigs.md#no-such-heading", page)).toMatch(/has no heading #no-such-heading/);
    expect(deadLink("docs/rigs.md", "scenarios.md", page)).toBeUndefined();
    expect(deadLink("docs/rigs.md", "../package.json#x", page)).toMatch(/no headings/);
    expect(anchors(page("docs/x.md"))).toEqual(new Set(["title", "board-logs-log-and-raw", "steps", "steps-1"]));
    expect(links("see [a](b.md#c), `[not](code.md)`,\n```\n[nor](fenced.md)\n```\n[web](https://x.org)").map((l) => l.target)).toEqual(["b.md#c"]);
  });
});

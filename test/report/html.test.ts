// The report page's data and server-side HTML, from made-up run directories (the browser
// tests are in report-page.test.ts).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { capLines, extractPageData, parseConsoleLog } from "../../harness/report/html/extract.ts";
import { renderRunPage } from "../../harness/report/html/run-page.ts";
import { renderSuitePage } from "../../harness/report/html/suite-page.ts";
import { renderJunit } from "../../harness/report/junit.ts";
import { readResultFile, type ReadResult } from "../../harness/report/read-result.ts";
import { ScenarioError } from "../../harness/core/errors.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "otarig-html-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function result(overrides: Partial<ReadResult> = {}): ReadResult {
  return {
    scenario: "portal-rollout",
    file: "scenarios/portal-rollout.yaml",
    runDir: dir,
    boards: ["dut"],
    status: "passed",
    exitCode: 0,
    startedAt: "2026-12-02T00:00:00.000Z",
    durationMs: 5000,
    steps: [
      { path: "1", name: "power", label: "power dut on", board: "dut", status: "passed", startedMs: 100, durationMs: 200 },
      { path: "2", name: "portal.deploy", label: "portal.deploy fw", status: "passed", startedMs: 400, durationMs: 900 },
    ],
    retries: [],
    consoleTail: {},
    ...overrides,
  };
}

const request = (t: number, fields: object) => ({ type: "server.log", t, line: JSON.stringify({ time: "x", level: "info", msg: "request", ...fields }) });

describe("page data", () => {
  it("reads <board>.log lines with their times, keeps unstamped lines at the last time, and finds gaps", () => {
    const c = parseConsoleLog("[    0.100] boot\ncontinued\n[    2.500] --- console lost: /dev/ttyUSB0 went away (EIO) ---\n[    4.000] --- console back after 1.5s ---\n[    4.001] \x1b[32mok\x1b[0m\n");
    expect(c.t).toEqual([100, 100, 2500, 4000, 4001]);
    expect(c.text[1]).toBe("continued");
    expect(c.gaps).toEqual([2, 3]);
    expect(c.text[4]).toBe("\x1b[32mok\x1b[0m");
  });

  it("keeps the first and the last lines of a log too long for a page, and says where the rest is", () => {
    const n = 1000;
    const c = { t: [...Array(n).keys()], text: [...Array(n).keys()].map((i) => `line ${i}`), gaps: [10, 500, 990] };
    const capped = capLines(c, "dut.log", 100);
    expect(capped.text).toHaveLength(100);
    expect(capped.text[24]).toBe("line 24");
    expect(capped.text[25]).toBe("--- 901 lines left out of this page: they are in dut.log ---");
    expect(capped.text[26]).toBe("line 926");
    expect(capped.text.at(-1)).toBe("line 999");
    expect(capped.gaps.map((i) => capped.text[i])).toEqual(["line 10", capped.text[25], "line 990"]);
    expect(capLines(c, "dut.log", 1000)).toBe(c);
  });

  it("takes requests, progress, markers and gaps from events.jsonl; health checks and torn lines are left out", () => {
    const events = [
      request(1000, { method: "GET", path: "/healthz", status: 200, ms: 1 }),
      request(2000, { method: "POST", path: "/v1/check/abc", status: 200, ms: 5, device_id: "VB-1" }),
      request(3000, { method: "GET", path: "/v1/download/abc", status: 200, ms: 800, device_id: "VB-1", aborted: true }),
      request(3100, { method: "POST", path: "/provision/activate", status: 409, ms: 2, sn: "VB-2" }),
      { type: "progress", t: 2500, path: "3", board: "dut", message: "download progress 50% (100/200)", fraction: 0.5 },
      { type: "progress", t: 2900, path: "3", board: "dut", message: "download progress 100%", fraction: 1 },
      { type: "log", t: 2600, level: "warn", source: "fault 4", message: "power cut on dut at \"install\"" },
      { type: "console.gap", t: 2700, board: "dut", message: "--- console lost ---" },
      { type: "retry", t: 2800, path: "1", attempt: 1, of: 2, reason: "relay silent" },
    ];
    writeFileSync(join(dir, "events.jsonl"), events.map((e) => JSON.stringify(e)).join("\n") + '\n{"type":"server.lo');
    const data = extractPageData(result(), dir);
    expect(data.requests).toEqual([
      { t: 1995, end: 2000, method: "POST", path: "/v1/check/abc", status: 200, device: "VB-1" },
      { t: 2200, end: 3000, method: "GET", path: "/v1/download/abc", status: 200, device: "VB-1", aborted: true },
      { t: 3098, end: 3100, method: "POST", path: "/provision/activate", status: 409, device: "VB-2" },
    ]);
    expect(data.progress).toEqual([{ board: "dut", step: "3", points: [[2500, 0.5, 100], [2900, 1, null]] }]);
    expect(data.markers.map((m) => m.kind)).toEqual(["power", "fault", "gap", "retry"]);
  });

  it("works without events.jsonl or logs (a result.json copied alone)", () => {
    const data = extractPageData(result({ status: "failed", failureClass: "infrastructure", message: "relay r1 silent" }), dir);
    expect(data.requests).toEqual([]);
    expect(data.console).toEqual({});
    expect(data.failure).toEqual({ t: 5000 });
    expect(renderRunPage(result({ status: "failed", failureClass: "infrastructure", message: "relay r1 silent" }), data)).toContain("error (infrastructure error)");
  });
});

describe("run page HTML", () => {
  it("renders attempts and attachments (linked from their step), and keeps console text out of the markup", () => {
    writeFileSync(join(dir, "dut.log"), "[    0.100] </script><script>alert(1)</script>\n");
    const r = result({
      status: "failed",
      failureClass: "test",
      message: "deployment <fw> not success",
      attempts: [
        { n: 1, startedAt: "2026-01-01T00:00:00.000Z", durationMs: 3000, outcome: "failed", failure: { failureClass: "infrastructure", message: "relay r1 silent" } },
        { n: 2, startedAt: "2026-01-01T00:00:03.000Z", durationMs: 5000, outcome: "failed", failure: { failureClass: "test", message: "deployment not success" } },
      ],
      attachments: [{ name: "portal.png", path: "attachments/portal.png", contentType: "image/png", step: "2" }],
    });
    const html = renderRunPage(r, extractPageData(r, dir));
    expect(html).toContain('<span class="verdict failed" id="verdict">failed (test failure)</span>');
    expect(html).toContain("deployment &lt;fw&gt; not success");
    expect(html).toMatch(/<h3>attempts \(the last one is the verdict\)<\/h3>.*infrastructure: relay r1 silent.*test: deployment not success/s);
    expect(html).toContain('<a href="attachments/portal.png" data-step="2">portal.png</a>');
    expect(html).toMatch(/<tr class="passed" data-step="2">.*<a href="attachments\/portal.png">portal.png<\/a>/);
    // The console line is data inside a JSON script element: it cannot close it.
    expect(html).not.toContain("</script><script>alert(1)");
    expect(html).toContain("\\u003c/script>\\u003cscript>alert(1)");
  });

  it("a result without attempts, attachments, board info or server still renders", () => {
    const html = renderRunPage(result(), extractPageData(result(), dir));
    expect(html).toContain("not started");
    expect(html).not.toContain("attempts (the last");
  });
});

describe("suite page", () => {
  it("links each scenario's page relatively, totals them, and has sortable columns", () => {
    const a = result({ scenario: "a", runDir: join(dir, "a") });
    const b = result({ scenario: "b <x>", runDir: join(dir, "b x"), status: "failed", failureClass: "scenario", durationMs: 100 });
    const html = renderSuitePage([a, b], dir, { shard: { index: 2, total: 3, scenarios: ["a", "b <x>"] } });
    expect(html).toContain('href="a/report.html"');
    expect(html).toContain('href="b%20x/report.html"');
    expect(html).toContain("b &lt;x&gt;");
    expect(html).toMatch(/1 passed<\/span> · <span class="failed">0 failed<\/span> · <span class="error">1 errors<\/span>/);
    expect(html).toContain("shard 2/3: a, b &lt;x&gt;");
    expect(html).toContain('<table id="suite" class="suite sortable">');
  });
});

describe("reading result.json back", () => {
  it("says where a damaged file is broken (file:line:col) and what a foreign one lacks", () => {
    const file = join(dir, "result.json");
    writeFileSync(file, '{\n  "scenario": "x",\n  "steps": [,]\n}\n');
    expect(() => readResultFile(file)).toThrow(ScenarioError);
    try {
      readResultFile(file);
    } catch (err) {
      expect(String(err)).toMatch(new RegExp(`^${file}:3:13: not valid JSON`));
    }
    writeFileSync(file, JSON.stringify({ scenario: "x" }));
    expect(() => readResultFile(file)).toThrow(/not an otarig result\.json: file: /);
  });
});

describe("junit attachments", () => {
  it("names each attachment as [[ATTACHMENT|path]] in the testcase's output", () => {
    const r = result({ runDir: "runs/x", attachments: [{ name: "trace.zip", path: "attachments/trace.zip", contentType: "application/zip" }] });
    expect(renderJunit([r])).toContain("[[ATTACHMENT|runs/x/attachments/trace.zip]]");
  });
});

// report.html: one self-contained page a person opens after a run (no scripts, no network):
// every scenario with its steps and timings, and for a failure the step, its message and the
// board's last lines, with links to the full logs beside it.
import { writeFileSync } from "node:fs";
import { basename, dirname, relative } from "node:path";
import { formatDuration } from "../core/duration.ts";
import type { RunResult } from "./result.ts";

const STYLE = `body{font:14px system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.4em}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
.passed{color:#17702b}.failed,.FAILED{color:#b00020}.interrupted{color:#a66300}pre{background:#f6f6f6;padding:.6em;overflow-x:auto}
.detail{color:#666;font-size:.9em}section{margin-bottom:2.5em}`;

export function renderHtml(results: RunResult[], reportDir: string): string {
  const passed = results.filter((r) => r.status === "passed").length;
  const rows = results
    .map((r) => `<tr><td><a href="#${id(r)}">${esc(r.scenario)}</a></td><td class="${r.status}">${esc(verdict(r))}</td><td>${formatDuration(r.durationMs)}</td></tr>`)
    .join("");
  return `<!doctype html><html><head><meta charset="utf-8"><title>otarig: ${passed}/${results.length} passed</title><style>${STYLE}</style></head><body>
<h1>otarig: ${passed} passed, ${results.length - passed} failed</h1>
<table><tr><th>scenario</th><th>result</th><th>time</th></tr>${rows}</table>
${results.map((r) => section(r, reportDir)).join("\n")}
</body></html>
`;
}

function section(r: RunResult, reportDir: string): string {
  const steps = r.steps
    .map(
      (s) =>
        `<tr><td>${esc(s.path)}</td><td class="${s.status}">${s.status === "passed" ? "✓" : "✗"}</td><td>${esc(s.label)}${
          s.detail ? `<div class="detail">${esc(s.detail)}</div>` : ""
        }${s.error ? `<pre>${esc(s.error.message)}</pre>` : ""}</td><td>${formatDuration(s.durationMs)}</td></tr>`,
    )
    .join("");
  const failure = r.status === "passed" ? "" : `<p class="failed">${esc(verdict(r))}${r.failedStep ? ` in step ${esc(r.failedStep)}` : ""}: ${esc(r.message ?? "")}</p>`;
  const tails = r.status === "passed" ? "" : Object.entries(r.consoleTail).map(([b, lines]) => `<h3>last lines of ${esc(b)}</h3><pre>${esc(lines.join("\n"))}</pre>`).join("");
  const logs = [...r.boards.map((b) => `${b}.log`), "run.log", "result.json", "junit.xml"]
    .map((f) => `<a href="${esc(relative(reportDir, `${r.runDir}/${f}`) || f)}">${esc(f)}</a>`)
    .join(" · ");
  const server = r.server ? `<p class="detail">server: ${esc(r.server.mode)} at ${esc(r.server.url)}${r.server.containerId ? `, container ${esc(r.server.containerId.slice(0, 12))}` : ""}</p>` : "";
  return `<section id="${id(r)}"><h2>${esc(r.scenario)} <span class="${r.status}">${esc(verdict(r))}</span></h2>
<p class="detail">${esc(r.file)} · ${formatDuration(r.durationMs)} · started ${esc(r.startedAt)}</p>${server}${failure}
<table><tr><th>step</th><th></th><th>what</th><th>time</th></tr>${steps}</table>${tails}<p>${logs}</p></section>`;
}

export function writeHtml(file: string, results: RunResult[]): void {
  writeFileSync(file, renderHtml(results, dirname(file)));
}

function verdict(r: RunResult): string {
  if (r.status === "passed" || r.status === "interrupted") return r.status;
  return r.failureClass === "test" ? "FAILED" : `error (${r.failureClass ?? "infrastructure"})`;
}

function id(r: RunResult): string {
  return `s-${basename(r.runDir).replace(/[^\w-]/g, "_")}`;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

// JUnit XML as CI systems read it (Jenkins, GitLab, GitHub test reporters): one testsuite,
// a testcase per scenario; failures name the failing step and carry the board's last lines.
import { writeFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import type { RunResult } from "./result.ts";
import type { ReadResult } from "./read-result.ts";
import { landingText } from "../sweep/landing.ts";

export function renderJunit(results: RunResult[], suiteName = "otarig"): string {
  const failures = results.filter((r) => r.status === "failed" && r.failureClass === "test").length;
  const errors = results.filter((r) => r.status !== "passed" && r.failureClass !== "test").length;
  const time = results.reduce((s, r) => s + r.durationMs, 0) / 1000;
  const cases = results.map(renderCase).join("");
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="${xml(suiteName)}" tests="${results.length}" failures="${failures}" errors="${errors}" time="${time.toFixed(3)}">\n` +
    `  <testsuite name="${xml(suiteName)}" tests="${results.length}" failures="${failures}" errors="${errors}" skipped="0" time="${time.toFixed(3)}" timestamp="${xml(results[0]?.startedAt ?? new Date().toISOString())}">\n` +
    cases +
    `  </testsuite>\n</testsuites>\n`
  );
}

function renderCase(r: RunResult): string {
  const file = displayPath(r.file);
  const head = `    <testcase classname="${xml(classnameOf(file))}" name="${xml(r.scenario)}" file="${xml(file)}" time="${(r.durationMs / 1000).toFixed(3)}"`;
  const steps = r.steps.map((s) => `${s.status === "passed" ? "ok  " : "FAIL"} ${s.path} ${s.label} (${s.durationMs}ms)`).join("\n");
  const out = `      <system-out>${cdata(`run directory: ${r.runDir}\n${attemptsText(r)}${steps}\n${attachmentLines(r)}`)}</system-out>\n`;
  if (r.status === "passed") return `${head}>\n${out}    </testcase>\n`;
  const failed = r.steps.find((s) => s.status === "failed");
  const tag = r.failureClass === "test" ? "failure" : "error";
  const type = r.status === "interrupted" ? "interrupted" : (r.failureClass ?? "infrastructure");
  const tries = (r.attempts?.length ?? 0) > 1 ? `attempt ${r.attempts!.length} of ${r.attempts!.length}: ` : "";
  const where = failed ? `step ${failed.path} (${failed.label})${failed.at ? ` at ${failed.at}` : ""} failed: ` : "";
  const message = `${tries}${where}${r.message ?? failed?.error?.message ?? "failed"}`;
  const tails = failed?.error?.consoleTail
    ? { [failed.board ?? "board"]: failed.error.consoleTail }
    : r.consoleTail;
  const bricked = brickedPoints(r);
  const tailText = Object.entries(tails)
    .map(([board, lines]) => `--- last ${lines.length} lines printed by ${board} ---\n${lines.join("\n")}`)
    .join("\n");
  return (
    `${head}>\n` +
    `      <${tag} message="${xml(firstLine(message))}" type="${xml(type)}">${cdata(`${message}\n\n${bricked}${tailText}\n`)}</${tag}>\n` +
    out +
    `    </testcase>\n`
  );
}

/** Every bricked point of every sweep, by name: what a reader of a CI report looks for first. */
function brickedPoints(r: RunResult): string {
  const lines = (r.sweeps ?? []).flatMap((s) =>
    s.points.filter((p) => p.outcome === "bricked").map((p) => `bricked: sweep ${s.name} point ${p.index} (${landingText(p.at)}): ${p.detail}`),
  );
  return lines.length ? `${lines.join("\n")}\n\n` : "";
}

/** `[[ATTACHMENT|path]]`: how Jenkins and GitLab pick up a testcase's files (screenshots, traces). */
function attachmentLines(r: RunResult): string {
  const list = (r as ReadResult).attachments ?? [];
  return list.map((a) => `[[ATTACHMENT|${displayPath(join(r.runDir, a.path))}]]\n`).join("");
}

/** Retries are never hidden: the count and each earlier attempt's error. */
function attemptsText(r: RunResult): string {
  const attempts = r.attempts ?? [];
  if (attempts.length <= 1) return "";
  const lines = attempts.map(
    (a) => `attempt ${a.n}: ${a.outcome}${a.failure ? ` (${a.failure.failureClass}${a.failure.step ? `, step ${a.failure.step}` : ""}): ${firstLine(a.failure.message)}` : ""}`,
  );
  return `attempts: ${attempts.length}\n${lines.join("\n")}\n`;
}

export function writeJunit(file: string, results: RunResult[], suiteName?: string): void {
  writeFileSync(file, renderJunit(results, suiteName));
}

/** Relative to the working directory when inside it: CI systems link files by repo path. */
function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}

function classnameOf(file: string): string {
  return file.replace(/\.ya?ml$/, "").replace(/[\\/]/g, ".").replace(/^\.+/, "");
}

function firstLine(s: string): string {
  const line = s.split("\n")[0] ?? "";
  return line.length > 300 ? line.slice(0, 297) + "..." : line;
}

// XML 1.0 forbids most control characters even escaped; board output is full of them.
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

function xml(s: string): string {
  return s
    .replace(INVALID_XML, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

function cdata(s: string): string {
  return `<![CDATA[${s.replace(INVALID_XML, "\uFFFD").replace(/]]>/g, "]]]]><![CDATA[>")}]]>`;
}

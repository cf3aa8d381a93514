// The top of a run's page, drawn on the server side so it reads without scripts: verdict and
// class, the failing step and its message (both hashes for a failed assert.hash), boards,
// server, versions, host, start, duration, retries and attempts, attachments.
import { formatDuration } from "../../core/duration.ts";
import type { ReadResult } from "../read-result.ts";
import type { BoardInfo } from "../run-info.ts";
import { esc } from "./escape.ts";
import { hashFailureOf, withKnownNames } from "./hash-failure.ts";
import type { PageData } from "./model.ts";

export function verdictOf(r: Pick<ReadResult, "status" | "failureClass">): { text: string; cls: string } {
  if (r.status === "passed") return { text: "passed", cls: "passed" };
  if (r.status === "interrupted") return { text: "interrupted", cls: "interrupted" };
  if (r.status === "running") return { text: "did not finish", cls: "error" };
  const cls = r.failureClass ?? "infrastructure";
  return cls === "test" ? { text: "failed (test failure)", cls: "failed" } : { text: `error (${cls === "scenario" ? "scenario error" : "infrastructure error"})`, cls: "error" };
}

export function renderHeader(r: ReadResult, data: PageData): string {
  const v = data.live ? { text: "running", cls: "running" } : verdictOf(r);
  const failed = data.steps.find((s) => s.status === "failed");
  const facts: Array<[string, string]> = [
    ["scenario", `${esc(r.scenario)} <span class="dim">${esc(r.file)}</span>`],
    ["started", esc(r.startedAt)],
    ["duration", formatDuration(r.durationMs)],
    ...server(r),
    ...environment(r),
    ["retries", r.retries.length ? esc(`${r.retries.length} (${r.retries.map((x) => `step ${x.path} ${x.attempt}/${x.of}`).join(", ")})`) : "none"],
  ];
  return `<header>
<h1><span class="verdict ${v.cls}" id="verdict">${esc(v.text)}</span> ${esc(r.scenario)}</h1>
${failure(r, data)}
<table class="facts">${facts.map(([k, val]) => `<tr><th>${k}</th><td>${val}</td></tr>`).join("")}</table>
${boards(r)}${attempts(r)}${attachments(data)}
${failed || (r.status !== "passed" && !data.live) ? `<h3>the board's lines around the failure</h3><pre class="console-excerpt" id="failure-lines"></pre>` : ""}
</header>`;
}

function failure(r: ReadResult, data: PageData): string {
  if (r.status === "passed" || data.live) return "";
  const step = data.steps.find((s) => s.status === "failed");
  const where = step ? `<p class="where">in step <a href="#" class="jump" data-step="${esc(step.path)}">${esc(step.path)} ${esc(step.label)}</a>${r.failedAt ? ` at <code class="at">${esc(r.failedAt)}</code>` : ""}</p>` : "";
  const hash = hashFailureOf(step);
  const hashes = hash
    ? (() => {
        const h = withKnownNames(hash, data.steps);
        return `<table class="hashes" id="hash-failure">
<tr><th>${esc(h.board)} runs</th><td><code class="hash actual">${h.actual.hash}</code></td><td>${esc(h.actual.image)}</td></tr>
<tr><th>expected</th><td><code class="hash expected">${h.expected.hash}</code></td><td>${esc(h.expected.image)}</td></tr></table>`;
      })()
    : "";
  return `<div class="failure">${where}<pre class="message">${esc(r.message ?? step?.error ?? "failed")}</pre>${hashes}</div>`;
}

function server(r: ReadResult): Array<[string, string]> {
  const s = r.server;
  if (!s) return [["server", "not started"]];
  const extra = [s.containerId ? `container ${esc(s.containerId.slice(0, 12))}` : "", s.image ? `image ${esc(s.image)}` : ""].filter(Boolean);
  return [["server", `${esc(s.mode)} at ${esc(s.url)}${extra.length ? ` (${extra.join(", ")})` : ""}`]];
}

function environment(r: ReadResult): Array<[string, string]> {
  const e = r.environment;
  if (!e) return [];
  return [
    ["otarig", esc(`${e.otarig} on Node ${e.node}`)],
    ["host", esc(e.host)],
    ...(e.rig ? ([["rig", esc(e.rig)]] as Array<[string, string]>) : []),
    ...(e.shard ? ([["shard", `${e.shard.index}/${e.shard.total}`]] as Array<[string, string]>) : []),
  ];
}

function boards(r: ReadResult): string {
  const info: BoardInfo[] = r.boardInfo ?? r.boards.map((name) => ({ name, serial: "", port: "", profile: "" }));
  const rows = info
    .map((b) => `<tr><td>${esc(b.name)}</td><td>${esc(b.serial)}</td><td>${esc(b.port)}</td><td>${esc(b.profile)}</td><td>${esc(b.power ?? "")}</td><td>${esc(b.reset ?? "")}</td></tr>`)
    .join("");
  return `<table class="boards"><tr><th>board</th><th>serial</th><th>port</th><th>profile</th><th>power</th><th>reset</th></tr>${rows}</table>`;
}

function attempts(r: ReadResult): string {
  if (!r.attempts?.length) return "";
  const rows = r.attempts
    .map((a) => {
      const f = a.failure as { message?: string; failureClass?: string } | string | undefined;
      const msg = typeof f === "string" ? f : f?.message ? `${f.failureClass ? `${f.failureClass}: ` : ""}${f.message}` : "";
      return `<tr><td>${a.n}</td><td class="${esc(a.outcome)}">${esc(a.outcome)}</td><td>${a.durationMs !== undefined ? formatDuration(a.durationMs) : ""}</td><td>${esc(msg)}</td></tr>`;
    })
    .join("");
  return `<h3>attempts (the last one is the verdict)</h3><table class="attempts"><tr><th>#</th><th>outcome</th><th>time</th><th>failure</th></tr>${rows}</table>`;
}

function attachments(data: PageData): string {
  const links = data.attachments.map((a) => `<a href="${esc(a.href)}"${a.step ? ` data-step="${esc(a.step)}"` : ""}>${esc(a.name)}</a>`);
  return `<p class="files">files: ${links.join(" · ")}</p>`;
}

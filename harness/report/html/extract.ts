// A run directory -> the page's data: steps from result.json, console lines from each
// <board>.log, and from events.jsonl the power/reset/flash/fault markers, the server's
// requests and the progress curves. A run without events.jsonl (an older one) still gets its
// steps and consoles.
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { formatDuration } from "../../core/duration.ts";
import type { RunEvent } from "../../core/events.ts";
import { EVENTS_FILE } from "../events-jsonl.ts";
import type { ReadResult } from "../read-result.ts";
import { FLEET_STATES } from "../../fleet/metrics.ts";
import type { MarkerKind, PageAttachment, PageConsole, PageData, PageFleet, PageMarker, PageProgress, PageRequest, PageStep } from "./model.ts";
import { sweepsOf } from "./sweeps.ts";

export function extractPageData(result: ReadResult, runDir: string, pageDir = runDir): PageData {
  const events = readEvents(join(runDir, EVENTS_FILE));
  const steps = stepsOf(result);
  const console: Record<string, PageConsole> = {};
  for (const board of result.boards) {
    const file = join(runDir, `${board}.log`);
    if (existsSync(file)) console[board] = capLines(parseConsoleLog(readFileSync(file, "utf8")), `${board}.log`);
  }
  const failed = steps.find((s) => s.status === "failed");
  const lastConsole = Math.max(0, ...Object.values(console).map((c) => c.t.at(-1) ?? 0));
  return {
    scenario: result.scenario,
    durationMs: Math.max(result.durationMs, lastConsole, ...steps.map((s) => s.end)),
    boards: result.boards,
    steps,
    console,
    markers: markersOf(steps, events),
    requests: boardRequests(requestsOf(events), result),
    progress: progressOf(events),
    attachments: attachmentsOf(result, runDir, pageDir),
    ...(result.fleet ? { fleet: fleetOf(result.fleet) } : {}),
    sweeps: sweepsOf(events),
    ...(result.status !== "passed"
      ? { failure: { ...(failed ? { step: failed.path, t: failed.end } : { t: result.durationMs }), ...(failed?.board ? { board: failed.board } : {}) } }
      : {}),
  };
}

/** events.jsonl, one event a line; a torn last line (the harness died mid-write) is skipped. */
export function readEvents(file: string): RunEvent[] {
  if (!existsSync(file)) return [];
  const events: RunEvent[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line) continue;
    try {
      events.push(JSON.parse(line) as RunEvent);
    } catch {
      // not an event: a partial line
    }
  }
  return events;
}

const STAMPED = /^\[\s*(\d+(?:\.\d+)?)\] ?/;
// Capture markers the console writes around a gap: "--- console lost: … ---", "--- console not
// back after 10s: still looking ---", "--- console back after 1.2s ---" (not "console closed").
const GAP = /^--- .*\b(lost|not back|back after|reconnect(ed|ing)?|dropped)\b/i;

/** `<board>.log`: `[   12.345] text` lines; a line without a stamp keeps the previous time. */
export function parseConsoleLog(text: string): PageConsole {
  const out: PageConsole = { t: [], text: [], gaps: [] };
  let last = 0;
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (const raw of lines) {
    const m = STAMPED.exec(raw);
    const line = m ? raw.slice(m[0].length) : raw;
    if (m) last = Math.round(Number(m[1]) * 1000);
    if (GAP.test(line)) out.gaps.push(out.text.length);
    out.t.push(last);
    out.text.push(line);
  }
  return out;
}

/** More lines than a page should carry: the first and the last are kept, the rest is in the log file. */
export const MAX_PAGE_LINES = 400_000;
const KEEP_HEAD = 50_000;

export function capLines(c: PageConsole, logName: string, max = MAX_PAGE_LINES): PageConsole {
  if (c.t.length <= max) return c;
  const head = Math.min(KEEP_HEAD, Math.floor(max / 4));
  const tailFrom = c.t.length - (max - head - 1);
  const left = tailFrom - head;
  const gaps = [
    ...c.gaps.filter((i) => i < head),
    head,
    ...c.gaps.filter((i) => i >= tailFrom).map((i) => i - tailFrom + head + 1),
  ];
  return {
    t: [...c.t.slice(0, head), c.t[tailFrom]!, ...c.t.slice(tailFrom)],
    text: [...c.text.slice(0, head), `--- ${left} lines left out of this page: they are in ${logName} ---`, ...c.text.slice(tailFrom)],
    gaps,
  };
}

function stepsOf(result: ReadResult): PageStep[] {
  return result.steps.map((s) => ({
    path: s.path,
    name: s.name,
    label: s.label,
    ...(s.board ? { board: s.board } : {}),
    status: s.status,
    start: s.startedMs,
    end: s.startedMs + s.durationMs,
    ...(s.detail ? { detail: s.detail } : {}),
    ...(s.error ? { error: s.error.message } : {}),
  }));
}

const STEP_MARKERS: Record<string, MarkerKind> = { power: "power", reset: "reset", flash: "flash" };

function markersOf(steps: PageStep[], events: RunEvent[]): PageMarker[] {
  const markers: PageMarker[] = [];
  for (const s of steps) {
    const m = stepMarker(s);
    if (m) markers.push(m);
  }
  for (const e of events) {
    const m = eventMarker(e);
    if (m) markers.push(m);
  }
  return markers.sort((a, b) => a.t - b.t);
}

/** A power, reset, flash, fault or server step is also a mark on the timeline. */
export function stepMarker(s: PageStep): PageMarker | undefined {
  const kind = STEP_MARKERS[s.name] ?? (s.name.startsWith("fault.") ? "fault" : s.name.startsWith("server.") ? "server" : undefined);
  return kind ? { t: s.start, kind, ...(s.board ? { board: s.board } : {}), label: `${s.path} ${s.label}` } : undefined;
}

/** The events that are marks of their own: capture gaps, retries, faults, a hold. */
export function eventMarker(e: RunEvent): PageMarker | undefined {
  if (e.type === "console.gap") return { t: e.t, kind: "gap", board: e.board, label: e.message };
  if (e.type === "retry") return { t: e.t, kind: "retry", label: `retry ${e.path} ${e.attempt}/${e.of}: ${e.reason}` };
  if (e.type === "log" && e.source.startsWith("fault")) return { t: e.t, kind: "fault", label: `${e.source}: ${e.message}` };
  if (e.type === "pause") return { t: e.t, kind: "pause", label: `held for rig attach after step ${e.step ?? "?"} failed (--pause-on-failure)` };
  if (e.type === "resume") return { t: e.t, kind: "pause", label: `resumed (${e.by}) after ${formatDuration(e.heldMs)} held` };
  return undefined;
}

/** The server's per-request log lines (server/log.ts: msg "request", method, path, status, ms). */
function requestsOf(events: RunEvent[]): PageRequest[] {
  const out: PageRequest[] = [];
  for (const e of events) {
    const r = requestOf(e);
    if (r) out.push(r);
  }
  // The server logs a request when it ends; the page lists them by when they began.
  return out.sort((a, b) => a.t - b.t);
}

/** A request the server logged (a `server.log` line with msg "request"), health checks left out. */
export function requestOf(e: RunEvent): PageRequest | undefined {
  if (e.type !== "server.log" || !e.line.includes('"request"')) return undefined;
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(e.line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (r.msg !== "request" || typeof r.path !== "string" || r.path === "/healthz") return undefined;
  const ms = typeof r.ms === "number" ? r.ms : 0;
  const device = r.device_id ?? r.sn ?? r.device;
  return {
    t: Math.max(0, Math.round(e.t - ms)),
    end: e.t,
    method: String(r.method ?? "?"),
    path: r.path,
    status: Number(r.status ?? 0),
    ...(device !== undefined ? { device: String(device) } : {}),
    ...(r.aborted ? { aborted: true } : {}),
  };
}

/**
 * With a simulated fleet, the requests lane and table keep the boards' requests (and those of
 * no device): thousands of devices' requests are the fleet lane's, as rates and latency.
 */
function boardRequests(requests: PageRequest[], result: ReadResult): PageRequest[] {
  if (!result.fleet) return requests;
  const serials = new Set((result.boardInfo ?? []).map((b) => b.serial));
  return requests.filter((r) => r.device === undefined || serials.has(r.device));
}

function fleetOf(fleet: NonNullable<ReadResult["fleet"]>): PageFleet {
  const series = fleet.series ?? [];
  return {
    devices: fleet.devices,
    states: [...FLEET_STATES],
    samples: series.map((s) => [s.t, ...FLEET_STATES.map((k) => s.states?.[k] ?? 0)]),
    rps: series.map((s) => Object.values(s.rps ?? {}).reduce((a, b) => a + b, 0)),
    checkP99: series.map((s) => s.latency?.check?.p99 ?? null),
  };
}

/** Progress events per board and step; "(16384/262272)" in the message gives the bytes. */
function progressOf(events: RunEvent[]): PageProgress[] {
  const curves = new Map<string, PageProgress>();
  for (const e of events) {
    const p = progressPoint(e);
    if (!p) continue;
    const key = `${p.board}\u0000${p.step}`;
    let curve = curves.get(key);
    if (!curve) curves.set(key, (curve = { board: p.board, step: p.step, points: [] }));
    curve.points.push(p.point);
  }
  return [...curves.values()];
}

/** One point of a progress curve: its board and step, [t, fraction, bytes or null]. */
export function progressPoint(e: RunEvent): { board: string; step: string; point: PageProgress["points"][number] } | undefined {
  if (e.type !== "progress" || e.fraction === undefined) return undefined;
  const bytes = /\((\d+)\/(\d+)\)/.exec(e.message);
  return { board: e.board ?? "", step: e.path, point: [e.t, e.fraction, bytes ? Number(bytes[1]) : null] };
}

function attachmentsOf(result: ReadResult, runDir: string, pageDir: string): PageAttachment[] {
  const own = (result.attachments ?? []).map((a) => ({
    name: a.name,
    href: hrefOf(pageDir, join(runDir, a.path)),
    contentType: a.contentType,
    ...(a.step ? { step: a.step } : {}),
  }));
  const logs = [...result.boards.flatMap((b) => [`${b}.log`, `${b}.raw`]), "run.log", EVENTS_FILE, "result.json", "junit.xml"]
    .filter((f) => existsSync(join(runDir, f)))
    .map((f) => ({ name: f, href: hrefOf(pageDir, join(runDir, f)), contentType: f.endsWith(".json") ? "application/json" : "text/plain" }));
  return [...own, ...logs];
}

/** A link from the page to a file: relative, with forward slashes, so it survives being copied. */
export function hrefOf(pageDir: string, file: string): string {
  return relative(pageDir, file).split(/[\\/]/).map(encodeURIComponent).join("/");
}

// Live progress on the terminal. On a TTY the running step's line is redrawn with its elapsed
// time; elsewhere (CI logs) every change is a plain appended line, so logs stay readable.
import { formatDuration } from "../core/duration.ts";
import type { RunEvent } from "../core/events.ts";
import type { RunResult } from "./result.ts";

export interface TerminalOptions {
  out?: NodeJS.WriteStream;
  tty?: boolean;
  color?: boolean;
  /** print every console line of every board as it arrives */
  showConsole?: boolean;
}

const PALETTE = { green: 32, red: 31, yellow: 33, dim: 2, bold: 1, cyan: 36 } as const;

export class TerminalReporter {
  private readonly out: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly color: boolean;
  private readonly showConsole: boolean;
  private current: { path: string; label: string; startedAt: number; progress?: string } | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private lastProgressLine = new Map<string, number>();

  constructor(options: TerminalOptions = {}) {
    this.out = options.out ?? process.stdout;
    this.tty = options.tty ?? Boolean(this.out.isTTY);
    this.color = options.color ?? (this.tty && !process.env.NO_COLOR);
    this.showConsole = options.showConsole ?? false;
  }

  readonly listener = (e: RunEvent): void => {
    switch (e.type) {
      case "run.start":
        this.line(`${this.paint("bold", `▶ ${e.scenario}`)} ${this.paint("dim", `(${e.file}) → ${e.runDir}`)}`);
        break;
      case "step.start":
        this.current = { path: e.path, label: e.label, startedAt: Date.now() };
        if (this.tty) this.startTicker();
        else this.line(`${this.stamp(e.t)} … ${e.path} ${e.label}`);
        break;
      case "step.end": {
        this.stopTicker();
        this.current = undefined;
        const mark =
          e.status === "passed" ? this.paint("green", "✓") : e.status === "skipped" ? this.paint("dim", "-") : this.paint("red", "✗");
        const detail = e.detail ? this.paint("dim", `  ${truncate(e.detail, 100)}`) : "";
        this.line(`${this.stamp(e.t)} ${mark} ${e.path} ${e.label} ${this.paint("dim", formatDuration(e.durationMs))}${detail}`);
        if (e.error) {
          if (e.at) this.line(`           ${this.paint("red", `at ${e.at}`)}`);
          for (const l of e.error.message.split("\n")) this.line(`           ${this.paint("red", l)}`);
        }
        break;
      }
      case "progress":
        if (this.tty && this.current?.path === e.path) {
          this.current.progress = e.message;
          this.redraw();
        } else if (!this.tty) {
          // One line per quarter at most, so a long download does not flood the CI log.
          const quarter = e.fraction === undefined ? -1 : Math.floor(e.fraction * 4);
          if (this.lastProgressLine.get(e.path) !== quarter) {
            this.lastProgressLine.set(e.path, quarter);
            this.line(`${this.stamp(e.t)}   ${e.path} ${e.message}`);
          }
        }
        break;
      case "console.line":
        if (this.showConsole) this.line(this.paint("dim", `${this.stamp(e.t)} ${e.board} │ `) + e.text);
        break;
      case "console.gap":
        this.line(`${this.stamp(e.t)} ${this.paint("yellow", `${e.board}: ${e.message}`)}`);
        break;
      case "retry":
        this.line(`${this.stamp(e.t)} ${this.paint("yellow", `↻ ${e.path} retry ${e.attempt}/${e.of}: ${e.reason}`)}`);
        break;
      case "log":
        if (e.level !== "info") {
          this.line(`${this.stamp(e.t)} ${this.paint(e.level === "warn" ? "yellow" : "red", `${e.level}: ${e.source}: ${e.message}`)}`);
        }
        break;
      case "run.end":
        this.stopTicker();
        break;
      default:
        break;
    }
  };

  /** The closing summary of one or more scenarios. */
  summary(results: RunResult[]): void {
    this.stopTicker();
    if (results.length > 1) {
      this.line("");
      const width = Math.max(...results.map((r) => r.scenario.length), 8);
      this.line(this.paint("bold", `${"scenario".padEnd(width)}  result       time`));
      for (const r of results) {
        this.line(`${r.scenario.padEnd(width)}  ${this.statusWord(r).padEnd(11 + (this.color ? 9 : 0))}  ${formatDuration(r.durationMs)}`);
      }
    }
    for (const r of results) {
      if (r.status === "passed") continue;
      this.line("");
      this.line(this.paint("red", `${r.scenario}: ${r.failureClass ?? r.status}${r.failedStep ? ` in step ${r.failedStep}` : ""}${r.failedAt ? ` at ${r.failedAt}` : ""}`));
      if (r.message) this.line(r.message);
    }
    const passed = results.filter((r) => r.status === "passed").length;
    const failed = results.length - passed;
    const last = results.at(-1);
    this.line("");
    this.line(
      `${this.paint(failed ? "red" : "green", `${passed} passed, ${failed} failed`)}` +
        (last ? this.paint("dim", `  (reports in ${results.length > 1 ? "each run directory" : last.runDir})`) : ""),
    );
  }

  private statusWord(r: RunResult): string {
    if (r.status === "passed") return this.paint("green", "passed");
    if (r.status === "interrupted") return this.paint("yellow", "interrupted");
    return this.paint("red", r.failureClass === "test" ? "FAILED" : `ERROR(${r.failureClass === "scenario" ? "scn" : "infra"})`);
  }

  private startTicker(): void {
    this.stopTicker();
    this.redraw();
    this.ticker = setInterval(() => this.redraw(), 200);
    this.ticker.unref();
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    if (this.tty) this.out.write("\r\x1b[2K");
  }

  private redraw(): void {
    if (!this.current || !this.tty) return;
    const c = this.current;
    const elapsed = formatDuration(Date.now() - c.startedAt);
    const text = `  ${this.paint("cyan", "⟳")} ${c.path} ${c.label} ${this.paint("dim", elapsed)}${c.progress ? `  ${c.progress}` : ""}`;
    this.out.write(`\r\x1b[2K${truncate(text, (this.out.columns ?? 120) + 20)}`);
  }

  private line(text: string): void {
    if (this.tty) this.out.write("\r\x1b[2K");
    this.out.write(text + "\n");
    if (this.tty && this.current) this.redraw();
  }

  private stamp(t: number): string {
    return this.paint("dim", `[${(t / 1000).toFixed(1).padStart(6)}s]`);
  }

  private paint(color: keyof typeof PALETTE, s: string): string {
    return this.color ? `\x1b[${PALETTE[color]}m${s}\x1b[0m` : s;
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

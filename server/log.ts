// One JSON line per event on stdout. Callers pass only non-secret fields: no header values,
// no query strings (pre-signed URLs carry signatures), no bodies.
//
// Stdout is written in batches: the lines of one event-loop turn go out in a single write
// (setImmediate), instead of one synchronous write(2) per request. flushStdout() (also run on
// process exit) writes whatever is still pending, so nothing is lost on a clean stop.
export type LogSink = (line: string) => void;

let pending: string[] = [];
let scheduled = false;
let exitHook = false;

/** Writes the batched lines now (synchronous for files and pipes on Linux). */
export function flushStdout(): void {
  scheduled = false;
  if (pending.length === 0) return;
  const text = pending.length === 1 ? pending[0]! : pending.join("");
  pending = [];
  process.stdout.write(text);
}

/** The default sink: stdout, one write per event-loop turn. */
function stdoutSink(line: string): void {
  pending.push(line);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", flushStdout);
  }
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushStdout);
  }
}

// Whole-second ISO prefix, recomputed once per second: toISOString() per line is not free.
let isoSecond = -1;
let isoPrefix = "";

function isoTime(ms: number): string {
  const sec = Math.floor(ms / 1000);
  if (sec !== isoSecond) {
    isoSecond = sec;
    isoPrefix = new Date(sec * 1000).toISOString().slice(0, 20); // "YYYY-MM-DDTHH:MM:SS."
  }
  const frac = ms - sec * 1000;
  return `${isoPrefix}${frac < 10 ? "00" : frac < 100 ? "0" : ""}${frac}Z`;
}

export class Logger {
  constructor(private readonly sink: LogSink = stdoutSink) {}

  info(msg: string, fields: Record<string, unknown> = {}): void {
    this.write("info", msg, fields);
  }

  warn(msg: string, fields: Record<string, unknown> = {}): void {
    this.write("warn", msg, fields);
  }

  error(msg: string, fields: Record<string, unknown> = {}): void {
    this.write("error", msg, fields);
  }

  /** Writes out lines still batched for stdout (call before process.exit). */
  flush(): void {
    if (this.sink === stdoutSink) flushStdout();
  }

  private write(level: string, msg: string, fields: Record<string, unknown>): void {
    this.sink(`${JSON.stringify({ time: isoTime(Date.now()), level, msg, ...fields })}\n`);
  }
}

// The harness end of a board's flash write reports, `flash-write <area> <offset> <length> <total>`
// after each page. A virtual board's program prints them on its stdout and takes `hold on`,
// `hold off` and `go` on its stdin (devices/board/write-probe.ts); a QEMU guest's OTA agent
// prints them on its console, for its install, and cannot be held.
import type { ConsoleProtocol, FlashWrite, WriteReportProtocol } from "../types.ts";

const REPORT = /^flash-write (\S+) (\d+) (\d+) (-?\d+)$/;

/** A write report line as a FlashWrite, or undefined when it is not one. */
export function parseWriteReport(line: string): FlashWrite | undefined {
  const m = REPORT.exec(line);
  return m ? { area: m[1]!, offset: Number(m[2]), length: Number(m[3]), total: Number(m[4]) } : undefined;
}

/**
 * Write reports a board prints on its console (the QEMU guest's OTA agent): heard, but the
 * writer cannot be held, so a write cut lands after the reported page plus the report's trip.
 */
export function consoleWriteReports(console: ConsoleProtocol): WriteReportProtocol {
  return {
    onWrite(listener) {
      return console.onLine((line) => {
        const write = parseWriteReport(line.text);
        if (write) listener(write);
      });
    },
    hold() {},
    proceed() {},
    forget() {},
  };
}

export class WriteReports implements WriteReportProtocol {
  private readonly listeners = new Set<(w: FlashWrite) => void>();
  private holding = false;

  /** `send` writes a line to the running board program's stdin (dropped while it is off). */
  constructor(private readonly send: (line: string) => void) {}

  /** A line of the board program's output: true when it was a write report (and was handled). */
  take(line: string): boolean {
    const write = parseWriteReport(line);
    if (!write) return false;
    for (const l of this.listeners) l(write);
    return true;
  }

  /** A fresh board program (power on) starts running free: tell it again if it is to hold. */
  started(): void {
    if (this.holding) this.send("hold on");
  }

  onWrite(listener: (w: FlashWrite) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  hold(on: boolean): void {
    this.holding = on;
    this.send(on ? "hold on" : "hold off");
  }

  proceed(): void {
    this.send("go");
  }

  forget(): void {
    this.holding = false;
  }
}

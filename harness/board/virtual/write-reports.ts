// The harness end of a virtual board's write reports (devices/board/write-probe.ts): the board
// program prints `flash-write <area> <offset> <length> <total>` on its stdout after each page,
// and takes `hold on`, `hold off` and `go` on its stdin.
import type { FlashWrite, WriteReportProtocol } from "../types.ts";

const REPORT = /^flash-write (\S+) (\d+) (\d+) (-?\d+)$/;

export class WriteReports implements WriteReportProtocol {
  private readonly listeners = new Set<(w: FlashWrite) => void>();
  private holding = false;

  /** `send` writes a line to the running board program's stdin (dropped while it is off). */
  constructor(private readonly send: (line: string) => void) {}

  /** A line of the board program's output: true when it was a write report (and was handled). */
  take(line: string): boolean {
    const m = REPORT.exec(line);
    if (!m) return false;
    const write: FlashWrite = { area: m[1]!, offset: Number(m[2]), length: Number(m[3]), total: Number(m[4]) };
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

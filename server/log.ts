// One JSON line per event on stdout. Callers pass only non-secret fields: no header values,
// no query strings (pre-signed URLs carry signatures), no bodies.
export type LogSink = (line: string) => void;

export class Logger {
  constructor(private readonly sink: LogSink = (line) => process.stdout.write(line)) {}

  info(msg: string, fields: Record<string, unknown> = {}): void {
    this.write("info", msg, fields);
  }

  warn(msg: string, fields: Record<string, unknown> = {}): void {
    this.write("warn", msg, fields);
  }

  error(msg: string, fields: Record<string, unknown> = {}): void {
    this.write("error", msg, fields);
  }

  private write(level: string, msg: string, fields: Record<string, unknown>): void {
    this.sink(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
  }
}

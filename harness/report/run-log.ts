// run.log: everything but console lines (those have their own <board>.log), appended as it
// happens so nothing is lost if the harness dies mid-run.
import { createWriteStream, type WriteStream } from "node:fs";
import { join } from "node:path";
import type { RunEvent } from "../core/events.ts";

export class RunLogWriter {
  private readonly stream: WriteStream;

  constructor(runDir: string) {
    this.stream = createWriteStream(join(runDir, "run.log"), { flags: "a" });
  }

  readonly listener = (e: RunEvent): void => {
    const line = format(e);
    if (line !== undefined) this.stream.write(`[${(e.t / 1000).toFixed(3).padStart(9)}] ${line}\n`);
  };

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}

function format(e: RunEvent): string | undefined {
  switch (e.type) {
    case "run.start":
      return `run ${e.scenario} (${e.file}) boards=${e.boards.join(",")}`;
    case "step.start":
      return `step ${e.path} start: ${e.label}`;
    case "step.end":
      return `step ${e.path} ${e.status} in ${e.durationMs}ms: ${e.label}${e.detail ? ` | ${e.detail}` : ""}${e.error ? ` | ${e.error.failureClass}: ${e.error.message}` : ""}`;
    case "match":
      return `match ${e.board} /${e.pattern}/: ${e.line}`;
    case "progress":
      return `progress ${e.path}${e.board ? ` ${e.board}` : ""}: ${e.message}`;
    case "server.log":
      return `server | ${e.line}`;
    case "log":
      return `${e.level} ${e.source}: ${e.message}`;
    case "console.gap":
      return `console ${e.board}: ${e.message}`;
    case "retry":
      return `retry ${e.path} ${e.attempt}/${e.of}: ${e.reason}`;
    case "run.end":
      return `run ${e.status} exit=${e.exitCode}${e.failureClass ? ` ${e.failureClass}` : ""}${e.message ? `: ${e.message}` : ""}`;
    case "attempt.start":
      return e.of > 1 ? `attempt ${e.n} of ${e.of}` : undefined;
    case "attempt.end":
      return e.failure || e.n > 1
        ? `attempt ${e.n} ${e.outcome} in ${e.durationMs}ms${e.failure ? ` | ${e.failure.failureClass}: ${e.failure.message}` : ""}${e.retrying ? " | retrying" : ""}`
        : undefined;
    case "pause":
      return `held after step ${e.step ?? "?"} failed: rig attach through ${e.socket}`;
    case "resume":
      return `resumed (${e.by}) after ${e.heldMs}ms held`;
    case "console.line":
      return undefined;
  }
}

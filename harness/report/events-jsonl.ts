// events.jsonl: the run's event stream as one JSON object per line, for the report page's
// timeline (power/reset/flash/fault markers, server requests, download progress, gaps).
// Console lines are left out: every one of them is in <board>.log already.
import { createWriteStream, type WriteStream } from "node:fs";
import { join } from "node:path";
import type { RunEvent } from "../core/events.ts";

export const EVENTS_FILE = "events.jsonl";

export class EventsJsonlWriter {
  private readonly stream: WriteStream;

  constructor(runDir: string) {
    this.stream = createWriteStream(join(runDir, EVENTS_FILE), { flags: "w" });
  }

  readonly listener = (e: RunEvent): void => {
    if (e.type === "console.line") return;
    this.stream.write(JSON.stringify(e) + "\n");
  };

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}

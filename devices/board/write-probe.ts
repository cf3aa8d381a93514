// The board's write reports: a side channel beside the console, as a debug probe would be on a
// real board. After each page written to the download area or a slot the program prints
//   flash-write <area> <offset> <length> <total>
// on its stdout. The harness can hold the writer there (stdin `hold on`): the next page then
// waits for `go`, so a power cut lands exactly between two pages. `hold off` lets it run again.
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { WriteArea, WriteProbe } from "./flash.ts";

/** What a report line looks like; the harness parses it with the same words (harness/board/virtual/). */
export const WRITE_REPORT = "flash-write";

export function stdioWriteProbe(input: Readable, output: Writable): WriteProbe {
  let holding = false;
  let release: (() => void) | undefined;
  const go = () => {
    const r = release;
    release = undefined;
    r?.();
  };
  createInterface({ input }).on("line", (line) => {
    const command = line.trim();
    if (command === "hold on") holding = true;
    else if (command === "hold off") {
      holding = false;
      go();
    } else if (command === "go") go();
  });
  return {
    async wrote(area: WriteArea, offset: number, length: number, total: number) {
      output.write(`${WRITE_REPORT} ${area} ${offset} ${length} ${Number.isFinite(total) ? total : -1}\n`);
      if (holding) await new Promise<void>((resolve) => (release = resolve));
    },
  };
}

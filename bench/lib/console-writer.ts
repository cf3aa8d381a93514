// The "board" side of the console benchmark, as its own process (a board is one):
//   node --import tsx bench/lib/console-writer.ts --tty <pty> --bytes N --seed S
// Opens the PTY, generates the lines, says "ready", waits for "go" on stdin, writes them all with
// blocking writes (the PTY's flow control is the only brake), then says "done <bytes> <ms>" and
// waits for its stdin to close.
import { closeSync, constants, openSync, writeSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { consoleChunks } from "./console-lines.ts";

const { values } = parseArgs({ options: { tty: { type: "string" }, bytes: { type: "string" }, seed: { type: "string" } } });
if (!values.tty || !values.bytes) {
  process.stderr.write("usage: console-writer.ts --tty <pty> --bytes N [--seed S]\n");
  process.exit(2);
}
const bytes = Number(values.bytes);
const seed = Number(values.seed ?? "1");
// Generated up front, so the timed part is writing only.
const chunks = [...consoleChunks(bytes, seed)];
const fd = openSync(values.tty, constants.O_WRONLY | constants.O_NOCTTY);
process.stdout.write("ready\n");

// "go" starts the writing; the end of stdin ends the process (the PTY stays open until then, so
// the harness side never sees the port close under it).
const rl = createInterface({ input: process.stdin });
rl.on("close", () => {
  closeSync(fd);
  process.exit(0);
});
rl.once("line", () => {
  const started = performance.now();
  let total = 0;
  for (const chunk of chunks) {
    let at = 0;
    while (at < chunk.length) {
      try {
        at += writeSync(fd, chunk, at);
      } catch (err) {
        // EAGAIN if the PTY was left non-blocking by someone: wait a moment and go on.
        if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      }
    }
    total += chunk.length;
  }
  const ms = performance.now() - started;
  process.stdout.write(`done ${total} ${ms.toFixed(1)}\n`);
});

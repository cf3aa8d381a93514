// `bench console`: capture + match throughput of the SerialConsole over a socat PTY pair, the
// virtual rig's "USB serial cable". A writer process (the board) pushes N MB of realistic console
// lines into one end; the SerialConsole on the other end captures them into its log file while an
// `expect` waits for the final marker line. Then the log is checked line by line against what was
// sent. A baseline row reads the same stream with a bare serialport (no capture, no matching) to
// show what the PTY path itself carries.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { SerialPort } from "serialport";
import { SerialConsole } from "../harness/board/console/serial-console.ts";
import { openPtyPair, requireSocat } from "../harness/board/virtual/pty-pair.ts";
import { fmtInt, fmtMiB, fmtMs, heading, note, numberOption, ROOT, table, tempDir, verdict, type Benchmark } from "./lib/common.ts";
import { consoleChunks, consoleLines, END_PREFIX } from "./lib/console-lines.ts";

const TARGET_MBPS = 50;
/** capture + expect (with the .log and the .raw written) against a bare serialport reader in the same run */
const TARGET_RATIO = 0.9;
const WRITER = join(ROOT, "bench/lib/console-writer.ts");
const SEED = 7;

interface Figures {
  mode: string;
  bytes: number;
  lines: number;
  elapsedMs: number;
  writerMs: number;
  check: string;
  lost: boolean;
  /** 'data' events the reader got: the PTY hands over a few KiB per read */
  reads: number;
  /** CPU this process (the reader) used during the run, as a share of the elapsed time */
  readerCpu: number;
}

export const consoleBench: Benchmark = {
  name: "console",
  summary: "SerialConsole capture + expect throughput over a socat PTY (target ≥ 50 MB/s, no byte lost)",
  optionsHelp: ["--mb 64              megabytes of console output per run", "--runs 1             runs of each reader, alternating (all shown, and the median ratio)"],
  async run(ctx) {
    requireSocat();
    const mb = numberOption(ctx, "mb", 64, 1024);
    const runs = Math.round(numberOption(ctx, "runs", 1, 10));
    const bytes = Math.round(mb * 1e6);
    const tmp = tempDir(ctx, "console");
    try {
      heading("console: capture + match over a socat PTY pair");
      let expectedLines = 0;
      let expectedBytes = 0;
      for (const l of consoleLines(bytes, SEED)) {
        expectedLines++;
        expectedBytes += l.content.length + l.terminator.length;
      }
      note(`stream: ${fmtInt(expectedBytes)} bytes in ${fmtInt(expectedLines)} lines (coloured ESP-IDF lines with \\r\\n, Zephyr lines with \\n, progress redrawn with \\r, hex dumps), then "${END_PREFIX} …"`);
      const timeoutMs = Math.max(60_000, (expectedBytes / 1e6) * 2000);

      const stream: Stream = { requested: bytes, total: expectedBytes, lines: expectedLines };
      // Alternating, so a burst of load elsewhere on the machine hits both readers alike.
      const all: Figures[] = [];
      const ratios: number[] = [];
      for (let r = 0; r < runs; r++) {
        const raw = await oneRun(join(tmp.path, `run-${r + 1}`), "raw", stream, timeoutMs);
        const full = await oneRun(join(tmp.path, `run-${r + 1}`), "console", stream, timeoutMs);
        all.push(raw, full);
        ratios.push(raw.elapsedMs / full.elapsedMs);
      }
      table(
        ["reader", "MB/s", "lines/s", "elapsed", "writer done after", "reads", "bytes/read", "reader CPU", "every byte arrived", "target", "verdict"],
        all.map((f) => {
          const rate = f.bytes / 1e6 / (f.elapsedMs / 1000);
          return [
            f.mode,
            rate.toFixed(1),
            fmtInt(f.lines / (f.elapsedMs / 1000)),
            fmtMs(f.elapsedMs),
            fmtMs(f.writerMs),
            fmtInt(f.reads),
            fmtInt(f.bytes / Math.max(1, f.reads)),
            `${Math.round(f.readerCpu * 100)}%`,
            f.check,
            f.mode.startsWith("SerialConsole") ? `≥ ${TARGET_MBPS} MB/s, no loss` : "",
            f.mode.startsWith("SerialConsole") ? verdict(rate >= TARGET_MBPS && !f.lost) : "",
          ];
        }),
      );
      note(`(MB = 10^6 bytes; elapsed = from "go" to the reader having it all: the marker matched, or the last byte counted; ${fmtMiB(expectedBytes)} per run)`);
      const sorted = [...ratios].sort((a, b) => a - b);
      const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
      table(
        ["ratio", "measured", "target", "verdict"],
        [
          [
            `SerialConsole (.log + .raw + expect) / bare serialport, same run${runs > 1 ? `, median of ${runs}` : ""}`,
            `${median.toFixed(2)}×${runs > 1 ? ` (runs: ${ratios.map((r) => r.toFixed(2)).join(", ")})` : ""}`,
            `≥ ${TARGET_RATIO}×, no byte lost`,
            verdict(median >= TARGET_RATIO && !all.some((f) => f.lost)),
          ],
        ],
      );
    } finally {
      tmp.cleanup();
    }
  },
};

/** What the generator is asked for (bytes), and what it comes to with the marker line. */
interface Stream {
  requested: number;
  total: number;
  lines: number;
}

async function oneRun(tmp: string, mode: "raw" | "console", stream: Stream, timeoutMs: number): Promise<Figures> {
  const dir = join(tmp, mode);
  const { total: bytes, lines } = stream;
  mkdirSync(dir, { recursive: true });
  const pty = await openPtyPair(join(dir, "console"), join(dir, "device"));
  let writer: Writer | undefined;
  try {
    writer = await startWriter(pty.b, stream.requested);
    if (mode === "raw") {
      const port = new SerialPort({ path: pty.a, baudRate: 115200, autoOpen: false });
      await new Promise<void>((ok, fail) => port.open((err) => (err ? fail(err) : ok())));
      let got = 0;
      let reads = 0;
      let t0 = 0;
      const all = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`raw read: ${got} of ${bytes} bytes after ${timeoutMs} ms`)), timeoutMs);
        port.on("data", (chunk: Buffer) => {
          got += chunk.length;
          reads++;
          if (got >= bytes) {
            clearTimeout(timer);
            resolve(performance.now());
          }
        });
      });
      t0 = performance.now();
      const cpu0 = process.cpuUsage();
      writer.go();
      const t1 = await all;
      const cpu = process.cpuUsage(cpu0);
      const writerMs = await writer.done;
      await new Promise<void>((ok) => port.close(() => ok()));
      return {
        mode: "serialport only (baseline)",
        bytes,
        lines,
        elapsedMs: t1 - t0,
        writerMs,
        check: got === bytes ? `yes (${fmtInt(got)} bytes)` : `NO: ${fmtInt(got)} of ${fmtInt(bytes)} bytes`,
        lost: got !== bytes,
        reads,
        readerCpu: (cpu.user + cpu.system) / 1000 / (t1 - t0),
      };
    }

    const logFile = join(dir, "board.log");
    const rawFile = join(dir, "board.raw");
    const con = new SerialConsole({
      board: "bench",
      port: pty.a,
      baud: 115200,
      lineEnding: "\n",
      reconnectTimeoutMs: 5000,
      logFile,
      rawFile,
      clockOrigin: performance.now(),
    });
    await con.open();
    let reads = 0;
    con.onData(() => reads++);
    const since = con.mark();
    const matched = con.expect(new RegExp(`^${END_PREFIX} lines=(?<n>\\d+)$`), { withinMs: timeoutMs, since, description: "end marker" });
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    writer.go();
    const m = await matched;
    const t1 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const writerMs = await writer.done;
    await con.close();
    const logCheck = verifyLog(logFile, stream, Number(m.groups.n));
    const rawCheck = verifyRaw(rawFile, stream);
    const verdictText = { check: `${logCheck.check}; .raw ${rawCheck.check}`, lost: logCheck.lost || rawCheck.lost };
    return { mode: "SerialConsole capture + expect", bytes, lines, elapsedMs: t1 - t0, writerMs, reads, readerCpu: (cpu.user + cpu.system) / 1000 / (t1 - t0), ...verdictText };
  } finally {
    await writer?.stop();
    await pty.close();
  }
}

/** Compares the .raw, byte for byte, with the generated stream. */
function verifyRaw(rawFile: string, stream: Stream): { check: string; lost: boolean } {
  const raw = readFileSync(rawFile);
  let at = 0;
  for (const chunk of consoleChunks(stream.requested, SEED)) {
    if (at + chunk.length > raw.length || !raw.subarray(at, at + chunk.length).equals(chunk)) {
      return { check: `NO: differs from the stream near byte ${fmtInt(at)} (${fmtInt(raw.length)} bytes kept)`, lost: true };
    }
    at += chunk.length;
  }
  if (at !== raw.length) return { check: `NO: ${fmtInt(raw.length - at)} bytes more than sent`, lost: true };
  return { check: `byte-exact (${fmtInt(at)} bytes)`, lost: false };
}

/** Compares the board log, line by line, with the generated stream. */
function verifyLog(logFile: string, stream: Stream, markerLines: number): { check: string; lost: boolean } {
  const lines = stream.lines;
  const text = readFileSync(logFile, "latin1");
  const logLines = text.split("\n");
  if (logLines.at(-1) === "") logLines.pop();
  let i = 0;
  let got = 0;
  let gotBytes = 0;
  let firstBad: string | undefined;
  const gaps: string[] = [];
  const stampEnd = (l: string) => (l.startsWith("[") ? l.indexOf("] ") : -1);
  const next = (): string | undefined => {
    while (i < logLines.length) {
      const l = logLines[i++]!;
      const at = stampEnd(l);
      const content = at >= 0 ? l.slice(at + 2) : l;
      // console markers (opened/closed, lost/back) are the console's own lines, not the board's
      if (/^--- console .* ---$/.test(content)) {
        if (!/^--- console closed( @raw \d+)? ---$/.test(content)) gaps.push(content);
        continue;
      }
      return content;
    }
    return undefined;
  };
  let n = 0;
  for (const expected of consoleLines(stream.requested, SEED)) {
    const actual = next();
    n++;
    if (actual === undefined) {
      firstBad ??= `log ends after ${got} of ${lines} lines`;
      break;
    }
    if (actual !== expected.content) {
      firstBad ??= `line ${n} differs: sent ${JSON.stringify(expected.content.slice(0, 60))}, logged ${JSON.stringify(actual.slice(0, 60))}`;
    } else {
      got++;
      gotBytes += expected.content.length + expected.terminator.length;
    }
  }
  const extra = next();
  if (extra !== undefined) firstBad ??= `the log has more lines than were sent: ${JSON.stringify(extra.slice(0, 60))}`;
  if (markerLines !== lines) firstBad ??= `the marker says ${markerLines} lines, ${lines} were generated`;
  const lost = firstBad !== undefined || gaps.length > 0;
  const check = lost
    ? `NO: ${firstBad ?? gaps.join("; ")}`
    : `yes (${fmtInt(got)}/${fmtInt(lines)} lines, ${fmtInt(gotBytes)} bytes)`;
  return { check, lost };
}

interface Writer {
  go(): void;
  /** resolves with the writer's own write time */
  done: Promise<number>;
  stop(): Promise<void>;
}

async function startWriter(tty: string, bytes: number): Promise<Writer> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", WRITER, "--tty", tty, "--bytes", String(bytes), "--seed", String(SEED)], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const waitLine = (prefix: string, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`console writer: no "${prefix}" within ${timeoutMs} ms`)), timeoutMs);
      const onLine = (l: string) => {
        if (!l.startsWith(prefix)) return;
        clearTimeout(timer);
        lines.off("line", onLine);
        resolve(l);
      };
      lines.on("line", onLine);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`console writer exited (code ${code}) before "${prefix}"`));
      });
    });
  await waitLine("ready", 60_000);
  let done: Promise<number> = Promise.resolve(0);
  return {
    go: () => {
      done = waitLine("done", 300_000).then((l) => Number(l.split(" ")[2]));
      child.stdin!.write("go\n");
    },
    get done() {
      return done;
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      child.stdin!.end();
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

// <board>.raw keeps every byte exactly as it arrived, beside the stamped, line-split .log; every
// .log line maps back to its bytes in the .raw (rig raw), across gaps and cut lines. Real socat PTY.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { SerialConsole } from "../../harness/board/console/serial-console.ts";
import { CUT_MARK, ENDED_MARK, cutMark } from "../../harness/board/console/capture-files.ts";
import { MAX_LINE_BYTES } from "../../harness/board/console/line-assembler.ts";
import { mapLogToRaw } from "../../harness/board/console/raw-map.ts";
import { Peer, PtyPair, tempDir, waitFor } from "./helpers/pty.ts";
import { TestFailure } from "../../harness/core/errors.ts";

const ROOT = join(import.meta.dirname, "../..");
let tmp: ReturnType<typeof tempDir>;
let pty: PtyPair;
let peer: Peer;
let con: SerialConsole;
let logFile: string;
let rawFile: string;

beforeEach(async () => {
  tmp = tempDir();
  logFile = join(tmp.dir, "dut.log");
  rawFile = join(tmp.dir, "dut.raw");
  pty = new PtyPair(tmp.dir);
  await pty.start();
  peer = await Peer.open(pty.device);
  con = new SerialConsole({
    board: "dut",
    port: pty.host,
    baud: 115200,
    lineEnding: "\n",
    reconnectTimeoutMs: 5000,
    logFile,
    rawFile,
    clockOrigin: performance.now(),
    pollIntervalMs: 50,
  });
  await con.open();
});

afterEach(async () => {
  await con.close();
  await peer.close();
  await pty.stop();
  tmp.cleanup();
});

/** Everything after the `[   1.234] ` stamp of each .log line. */
function logContents(): string[] {
  return readFileSync(logFile, "latin1").split("\n").slice(0, -1).map((l) => l.replace(/^\[\s*\d+\.\d{3}\] /, ""));
}

describe("byte-exact .raw beside the .log", () => {
  it("keeps every byte as received, marks gaps and cut lines in the .log, and maps each .log line to its .raw bytes", async () => {
    const sent: Buffer[] = [];
    const print = async (data: Buffer | string) => {
      const b = Buffer.isBuffer(data) ? data : Buffer.from(data, "latin1");
      sent.push(b);
      await peer.print(b);
    };
    // A baud mismatch looks like this: bytes that are not text, with NULs and stray CRs.
    const garbage = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0d, 0x1b, 0x5b, 0x41, 0xc3, 0x28, 0x7f, 0x0a]);
    await print("\x1b[0;32mI (12) boot: ok\x1b[0m\r\n");
    await print("progress 10%\rprogress 20%\rprogress 100%\r\n");
    await print(garbage);
    const long = "L".repeat(MAX_LINE_BYTES + 100);
    await print(`${long}\n`);
    await print("half a line before the gap");
    await con.expect(/^L+$/, { withinMs: 5000, since: "boot" }); // the long line's rest has arrived
    await waitFor(() => con.tail(1)[0] === "half a line before the gap", 5000, "the partial line");
    // The port vanishes (USB re-enumeration) and comes back.
    await peer.close();
    await pty.stop();
    await waitFor(() => con.state === "away", 5000, "the console to notice the loss");
    await pty.start();
    peer = await Peer.open(pty.device);
    await waitFor(() => con.state === "open", 5000, "the console to come back");
    await print("after the gap\r\nota> ");
    await con.expect(/ota> $/, { withinMs: 5000, since: "boot", partial: true });
    // The line the gap cut is a fragment: never matched as a whole line, only as a partial one.
    await expect(con.expect(/^half a line before the gap$/, { withinMs: 200, since: "boot" })).rejects.toBeInstanceOf(TestFailure);
    await con.expectNot(/half a line/, { forMs: 0, since: "boot" });
    await expect(con.expect(/^half a line before the gap$/, { withinMs: 200, since: "boot", partial: true })).resolves.toBeTruthy();
    await con.close();

    // .raw: exactly the bytes sent, nothing rewritten, stripped or cut.
    expect(readFileSync(rawFile).equals(Buffer.concat(sent))).toBe(true);

    const log = logContents();
    const cutLine = log.findIndex((l) => l.endsWith(CUT_MARK));
    expect(cutLine).toBeGreaterThanOrEqual(0);
    expect(log[cutLine]).toBe("L".repeat(MAX_LINE_BYTES) + CUT_MARK);
    expect(log[cutLine + 1]).toBe("L".repeat(100));
    expect(log.some((l) => /^--- console lost: .* @raw \d+ ---$/.test(l))).toBe(true);
    expect(log.some((l) => /^--- console back after .* @raw \d+ ---$/.test(l))).toBe(true);

    // Each .log line's content is its bytes in the .raw (a cut line: its first MAX_LINE_BYTES).
    const raw = readFileSync(rawFile);
    const map = mapLogToRaw(readFileSync(logFile), raw);
    expect(map).toHaveLength(log.length);
    for (const entry of map) {
      const content = log[entry.line - 1]!;
      if (entry.kind === "marker") {
        expect(content).toMatch(/^--- console /);
        continue;
      }
      expect(raw.toString("latin1", entry.offset, entry.offset + entry.length) + cutMark(entry.cut)).toBe(content);
    }
    const garbageLine = map.find((e) => e.kind === "line" && raw[e.offset] === 0x00)!;
    expect(garbageLine.offset).toBe(Buffer.concat(sent.slice(0, 2)).length);
    // Lines the gap and the close cut are marked so.
    const partial = map[log.indexOf(`half a line before the gap${ENDED_MARK}`)]!;
    expect(partial).toMatchObject({ kind: "line", cut: "gap" });
    expect(log.at(-2)).toBe(`ota> ${ENDED_MARK}`);
    expect(log.at(-1)).toMatch(/^--- console closed @raw \d+ ---$/);

    // rig raw: the same answer from the command line, with the bytes as hex.
    const garbageLineNo = garbageLine.line;
    const cli = await execa(process.execPath, ["--import", "tsx", join(ROOT, "harness/cli/main.ts"), "raw", `${logFile}:${garbageLineNo}`], {
      reject: false,
      all: true,
    });
    expect(cli.exitCode).toBe(0);
    expect(cli.stdout).toContain(`dut.log:${garbageLineNo} = ${rawFile} offset ${garbageLine.offset}, 4 bytes + terminator "\\r"`);
    expect(cli.stdout).toMatch(/00 ff fe 80 0d/);
  });

  it("a console opened again appends, and offsets continue from the end of the .raw", async () => {
    await peer.print("first session\n");
    await con.expect(/first session/, { withinMs: 5000, since: "boot" });
    await con.close();
    await con.open();
    const mark = con.mark();
    await peer.print("second session\n");
    await con.expect(/second session/, { withinMs: 5000, since: mark });
    await con.close();
    const raw = readFileSync(rawFile);
    expect(raw.toString()).toBe("first session\nsecond session\n");
    const map = mapLogToRaw(readFileSync(logFile), raw);
    const second = map.find((e) => e.kind === "line" && raw.toString("latin1", e.offset, e.offset + e.length) === "second session");
    expect(second?.offset).toBe("first session\n".length);
  });
});

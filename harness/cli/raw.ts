// rig raw <board.log>:<line>: where a line of a board log came from in the byte-exact <board>.raw,
// with those bytes as a hex dump (a baud mismatch or binary garbage shows there, not in the .log).
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { EXIT_CODES } from "../core/errors.ts";
import { mapLogToRaw } from "../board/console/raw-map.ts";
import { commandHelp } from "./help.ts";

export async function rawCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: "boolean", short: "h", default: false }, bytes: { type: "string" } } });
  } catch (err) {
    return usage((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(commandHelp("raw"));
    return EXIT_CODES.pass;
  }
  const where = /^(?<file>.+?\.log)(?::(?<line>\d+))?$/.exec(positionals[0] ?? "");
  const lineNo = Number(where?.groups?.line ?? positionals[1]);
  if (!where || !Number.isInteger(lineNo) || lineNo < 1) return usage("give a board log and a line: rig raw runs/…/dut.log:120");
  const maxBytes = values.bytes !== undefined ? Number(values.bytes) : 512;
  if (!Number.isInteger(maxBytes) || maxBytes < 0) return usage(`--bytes must be a whole number, not "${values.bytes}"`);
  const logFile = where.groups!.file!;
  const rawFile = logFile.replace(/\.log$/, ".raw");
  if (!existsSync(logFile)) return fileError(`${logFile}: no such file`);
  if (!existsSync(rawFile)) {
    return fileError(`${rawFile}: no such file (a run with secrets keeps no .raw unless run with --raw-secrets)`);
  }
  const raw = readFileSync(rawFile);
  let map;
  try {
    map = mapLogToRaw(readFileSync(logFile), raw);
  } catch (err) {
    return fileError(`${logFile} and ${rawFile} do not match: ${(err as Error).message}`);
  }
  const entry = map[lineNo - 1];
  if (!entry) return fileError(`${logFile} has ${map.length} lines, not ${lineNo}`);
  if (entry.kind === "marker") {
    process.stdout.write(`${logFile}:${lineNo} is a marker (${entry.text}), at ${rawFile} offset ${entry.offset}: no bytes of its own\n`);
    return EXIT_CODES.pass;
  }
  const end = entry.offset + entry.length;
  // The terminator as the board sent it: \r\n, \n or \r (absent for a cut line, or a line ended by a gap).
  let termEnd = end;
  if (raw[termEnd] === 0x0d) termEnd++;
  if (raw[termEnd] === 0x0a) termEnd++;
  if (entry.cut) termEnd = end;
  process.stdout.write(
    `${logFile}:${lineNo} = ${rawFile} offset ${entry.offset}, ${entry.length} bytes` +
      `${termEnd > end ? ` + terminator ${JSON.stringify(raw.toString("latin1", end, termEnd))}` : ""}${entry.cut ? ` (${CUT_WHY[entry.cut]})` : ""}\n`,
  );
  process.stdout.write(hexdump(raw.subarray(entry.offset, Math.min(termEnd, entry.offset + maxBytes)), entry.offset));
  if (termEnd - entry.offset > maxBytes) process.stdout.write(`… ${termEnd - entry.offset - maxBytes} more bytes (--bytes N)\n`);
  return EXIT_CODES.pass;
}

const CUT_WHY = { limit: "cut at the line limit", gap: "cut: the line had not ended when the console went away" } as const;

/** `xxd`-style: offset, 16 bytes in hex, the printable ones as text. */
export function hexdump(bytes: Buffer, base: number): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, i + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    const text = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    out += `${(base + i).toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  |${text}|\n`;
  }
  return out;
}

function usage(message: string): number {
  process.stderr.write(`rig raw: ${message}\nRun "rig help raw" for usage.\n`);
  return EXIT_CODES.scenario;
}

function fileError(message: string): number {
  process.stderr.write(`rig raw: ${message}\n`);
  return EXIT_CODES.scenario;
}

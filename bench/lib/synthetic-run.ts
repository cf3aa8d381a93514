// A made-up run directory with a console log of any length (coloured boot logs, progress, a
// capture gap), a result.json and an events.jsonl: what the report page is measured and
// tested on when 100,000 lines are wanted and no board should spend minutes printing them.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface SyntheticRun {
  dir: string;
  lines: number;
  /** the text of line i (without its stamp) */
  lineText(i: number): string;
}

export function writeSyntheticRun(dir: string, lines: number): SyntheticRun {
  const durationMs = Math.max(10_000, lines * 2);
  const tOf = (i: number) => Math.floor((i / lines) * (durationMs - 500));
  const gapAt = Math.floor(lines / 2);
  const lineText = (i: number) =>
    i === gapAt
      ? "--- console lost: /dev/ttyUSB0 went away (port vanished) ---"
      : i % 50 === 0
        ? `\x1b[32mI (${i}) boot: line ${i} ok\x1b[0m`
        : i % 97 === 0
          ? `\x1b[1;31mE (${i}) ota: line ${i} retrying\x1b[0m`
          : `line ${i} heap=${(i * 7919) % 65536} task=${i % 13}`;
  let log = "";
  const chunks: string[] = [];
  for (let i = 0; i < lines; i++) {
    log += `[${(tOf(i) / 1000).toFixed(3).padStart(9)}] ${lineText(i)}\n`;
    if (log.length > 1 << 20) {
      chunks.push(log);
      log = "";
    }
  }
  chunks.push(log);
  writeFileSync(join(dir, "dut.log"), chunks.join(""));
  const third = Math.floor(durationMs / 3);
  const steps = [
    { path: "1", name: "power", label: "power dut on", board: "dut", status: "passed", startedMs: 0, durationMs: 200 },
    { path: "2", name: "expect", label: "expect dut /line \\d+ ok/", board: "dut", status: "passed", startedMs: 200, durationMs: third, detail: "I (50) boot: line 50 ok" },
    { path: "3", name: "device.download", label: "device.download dut", board: "dut", status: "passed", startedMs: third + 200, durationMs: third },
    { path: "4", name: "settle", label: "settle dut", board: "dut", status: "passed", startedMs: 2 * third + 200, durationMs: third - 400 },
  ];
  writeFileSync(
    join(dir, "result.json"),
    JSON.stringify({
      scenario: `synthetic-${lines}-lines`,
      file: "scenarios/synthetic.yaml",
      runDir: dir,
      boards: ["dut"],
      status: "passed",
      exitCode: 0,
      startedAt: "2026-12-02T00:00:00.000Z",
      durationMs,
      steps,
      retries: [],
      consoleTail: {},
    }),
  );
  const events: object[] = [{ type: "step.start", path: "1", name: "power", label: "power dut on", board: "dut", t: 0 }];
  for (let k = 0; k <= 20; k++) {
    const t = third + 200 + Math.floor((k / 20) * (third - 100));
    const done = Math.floor((k / 20) * 1_048_576);
    events.push({ type: "progress", path: "3", board: "dut", message: `download progress ${k * 5}% (${done}/1048576)`, fraction: k / 20, t });
    events.push({
      type: "server.log",
      line: JSON.stringify({ msg: "request", method: "GET", path: "/v1/download/abc", status: k === 7 ? 503 : 206, ms: 20, device_id: "VB-0001" }),
      t,
    });
  }
  writeFileSync(join(dir, "events.jsonl"), events.map((e) => JSON.stringify(e)).join("\n") + "\n");
  return { dir, lines, lineText };
}

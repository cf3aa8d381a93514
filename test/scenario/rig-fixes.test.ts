// Rig keys that used to be rejected or ignored: reset sequence esp32-bootloader, console
// line_ending (wins over the profile's when set), kill_grace per tool.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRig } from "../../harness/scenario/load-rig.ts";
import { lineEndingOf } from "../../harness/runner/device-actions.ts";
import type { BoardProfile } from "../../harness/scenario/types.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "otarig-rig-fixes-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function rigOf(text: string) {
  const file = join(dir, "rig.yaml");
  writeFileSync(file, text);
  return loadRig(file);
}

describe("rig fixes", () => {
  it("accepts reset sequence esp32-bootloader and kill_grace on flash, reset command and command relay", async () => {
    const rig = await rigOf(`name: r
boards:
  a: { serial_number: 1, profile: p.yaml, console: { port: /dev/ttyUSB0 }, reset: { method: dtr-rts, sequence: esp32-bootloader },
       flash: { command: [esptool.py], kill_grace: 2s }, power: { relay: r1, channel: 1 } }
  b: { serial_number: 2, profile: p.yaml, console: { port: /dev/ttyUSB1 }, reset: { command: [./reset.sh], kill_grace: 500ms } }
relays:
  r1: { type: command, on: [usbrelay, "{channel}=1"], off: [usbrelay, "{channel}=0"], kill_grace: 1s }
`);
    expect(rig.boards.a!.reset).toEqual({ method: "dtr-rts", sequence: "esp32-bootloader" });
    expect(rig.boards.a!.flash!.killGraceMs).toBe(2000);
    expect(rig.boards.b!.reset).toEqual({ command: ["./reset.sh"], timeoutMs: 10_000, killGraceMs: 500 });
    expect(rig.relays.r1).toMatchObject({ type: "command", killGraceMs: 1000 });
  });

  it("the rig's console.line_ending is used for sends when set, else the profile's", async () => {
    const rig = await rigOf(`name: r
boards:
  crlf: { serial_number: 1, profile: p.yaml, console: { port: /dev/ttyUSB0, line_ending: "\\r\\n" } }
  plain: { serial_number: 2, profile: p.yaml, console: { port: /dev/ttyUSB1 } }
`);
    const profile = { lineEnding: "\r" } as BoardProfile;
    expect(lineEndingOf({ spec: rig.boards.crlf!, profile })).toBe("\r\n");
    expect(lineEndingOf({ spec: rig.boards.plain!, profile })).toBe("\r");
  });
});

// A slow UART (QEMU's emulated 8250 under load) delivers a result line in pieces. A device.*
// step must report the whole line, and an `expect since: match` on that same line must find it,
// even though the next step's start mark was taken while the line was still arriving.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SerialConsole } from "../../harness/board/console/serial-console.ts";
import { runDeviceAction } from "../../harness/runner/device-actions.ts";
import type { StepContext } from "../../harness/runner/context.ts";
import { ConsoleWindows } from "../../harness/runner/console-windows.ts";
import type { BoardProfile } from "../../harness/scenario/types.ts";
import { consoleOnPty, type Peer } from "../board/helpers/pty.ts";

let fixture: Awaited<ReturnType<typeof consoleOnPty>>;
let peer: Peer;
let console: SerialConsole;

beforeAll(async () => {
  fixture = await consoleOnPty({ reconnectTimeoutMs: 2000 }, "otarig-slow-uart-");
  ({ peer, con: console } = fixture);
});
afterAll(() => fixture.close());

const profile: BoardProfile = {
  file: "test-profile.yaml",
  name: "test",
  prompt: "ota> $",
  lineEnding: "\n",
  commands: { activate: "activate" },
  patterns: { activated: "^activation ok$", error: "^error: (?<message>.*)$" },
  fatal: [],
};

function stepContext(): StepContext {
  const handle = { board: { name: "dut", serialNumber: "X", console, fields: {} }, spec: { console: {} } as never, profile };
  const windows = new ConsoleWindows();
  return { lastMatch: new Map(), windows, marks: new Map(), acted: () => {}, handle: () => handle, progress: () => {}, signal: new AbortController().signal } as unknown as StepContext;
}

describe("a result line that arrives in pieces", () => {
  it("device.activate reports the whole line, and expect since: match finds it after the next step's mark", async () => {
    // the board: a prompt for every empty line; `activate` answers in two pieces, 400 ms apart
    peer.port.on("data", (d: Buffer) => {
      const text = d.toString();
      if (text === "\n") void peer.print("\r\nota> ");
      if (text.startsWith("activate")) {
        void peer.print("activate\r\nerror: activation failed: 409 serial number is exp").then(async () => {
          await new Promise((r) => setTimeout(r, 400));
          await peer.print("ired, not enabled for activation\r\nota> ");
        });
      }
    });
    const ctx = stepContext();
    const result = await runDeviceAction(ctx, "dut", "activate", ["activated"], 5000);
    expect(result.outcome).toBe("error");
    expect(result.line).toBe("error: activation failed: 409 serial number is expired, not enabled for activation");
    expect(result.groups.message).toBe("activation failed: 409 serial number is expired, not enabled for activation");

    console.mark(); // the next step starts
    const m = await console.expect(/^error: activation failed: 409/, { withinMs: 1000, since: ctx.lastMatch.get("dut")! });
    expect(m.line.text).toContain("not enabled for activation");
  });
});

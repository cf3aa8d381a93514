import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRelay, powerFor, resetFor } from "../../harness/board/power/relays.ts";
import { LcusRelay, lcusFrame } from "../../harness/board/power/lcus.ts";
import { SerialTextRelay, serialTextCommand } from "../../harness/board/power/serial-text.ts";
import { InfraError, ScenarioError } from "../../harness/core/errors.ts";
import { Peer, PtyPair, tempDir } from "./helpers/pty.ts";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const hex = (b: Buffer) => b.toString("hex").toUpperCase().match(/../g)!.join(" ");

describe("lcus relay against an emulated module on a PTY", () => {
  let pty: PtyPair;
  let module: Peer;
  beforeEach(async () => {
    pty = new PtyPair(tmp.dir, "lcus");
    await pty.start();
    module = await Peer.open(pty.device, 9600);
  });
  afterEach(async () => {
    await module.close();
    await pty.stop();
  });

  it("sends the exact frames for on, off and cycle on channels 1 and 2", async () => {
    const relay = createRelay({ type: "lcus", name: "r1", port: pty.host, channels: 2, baud: 9600 });
    const ch1 = powerFor(relay, 1);
    const ch2 = powerFor(relay, 2);
    await ch1.on();
    await ch1.off();
    await ch2.on();
    await ch2.cycle(50);
    await relay.close();
    const bytes = await module.waitReceived(20);
    expect(hex(bytes)).toBe(["A0 01 01 A2", "A0 01 00 A1", "A0 02 01 A3", "A0 02 00 A2", "A0 02 01 A3"].join(" "));
  });

  it("pulses a reset channel", async () => {
    const relay = new LcusRelay({ name: "r1", port: pty.host, channels: 8 });
    await resetFor(relay, 8, 20).reset();
    await relay.close();
    expect(hex(await module.waitReceived(8))).toBe("A0 08 01 A9 A0 08 00 A8");
  });

  it("rejects a channel the module does not have", async () => {
    const relay = new LcusRelay({ name: "r1", port: pty.host, channels: 2 });
    await expect(relay.set(3, true)).rejects.toBeInstanceOf(ScenarioError);
  });

  it("computes frames for every channel", () => {
    expect(hex(lcusFrame(4, true))).toBe("A0 04 01 A5");
    expect(hex(lcusFrame(1, false))).toBe("A0 01 00 A1");
  });
});

describe("serial-text relay", () => {
  it("writes the filled, unescaped templates to an emulated module", async () => {
    const pty = new PtyPair(tmp.dir, "numato");
    await pty.start();
    const module = await Peer.open(pty.device);
    try {
      const relay = new SerialTextRelay({
        name: "numato",
        port: pty.host,
        baud: 19200,
        on: "relay on {ch0}\\r",
        off: "relay off {ch0}\r",
        channels: 4,
      });
      const power = powerFor(relay, 2);
      await power.on();
      await power.off();
      await relay.close();
      expect((await module.waitReceived(23)).toString()).toBe("relay on 1\rrelay off 1\r");
    } finally {
      await module.close();
      await pty.stop();
    }
  });

  it("fills {ch}, {channel}, {ch0}, {state} and \\xNN", () => {
    expect(serialTextCommand("R{ch}={state}\\x0d", 3, true, "t")).toBe("R3=on\r");
    expect(serialTextCommand("{channel}/{ch0}", 3, false, "t")).toBe("3/2");
  });

  it("names a missing port in an InfraError", async () => {
    const relay = createRelay({ type: "serial-text", name: "n", port: "/dev/nope-relay", baud: 9600, on: "on", off: "off", channels: 1 });
    await expect(relay.set(1, true)).rejects.toThrow(/relay n.*\/dev\/nope-relay/);
    await expect(relay.set(1, true)).rejects.toBeInstanceOf(InfraError);
  });
});

describe("command relay", () => {
  it("runs a real script with its placeholders filled and logs its output", async () => {
    const script = join(tmp.dir, "relay.sh");
    const record = join(tmp.dir, "calls.txt");
    writeFileSync(script, `#!/bin/sh\necho "$@" >> "${record}"\necho "switched $1 $2"\n`);
    chmodSync(script, 0o755);
    const output: string[] = [];
    const relay = createRelay(
      { type: "command", name: "hub", on: [script, "{channel}", "{state}", "{value}"], off: [script, "{ch}", "{state}", "{value}"], timeoutMs: 5000, channels: 4 },
      (line) => output.push(line),
    );
    const power = powerFor(relay, 3);
    await power.cycle(10);
    expect(readFileSync(record, "utf8")).toBe("3 off 0\n3 on 1\n");
    expect(output).toEqual(["switched 3 off", "switched 3 on"]);
  });

  it("turns a failing command into an InfraError naming it with its last output", async () => {
    const script = join(tmp.dir, "broken.sh");
    writeFileSync(script, `#!/bin/sh\necho "usb device not found" >&2\nexit 4\n`);
    chmodSync(script, 0o755);
    const relay = createRelay({ type: "command", name: "hub", on: [script, "{channel}"], off: [script], timeoutMs: 5000, channels: 1 });
    const err = await relay.set(1, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toContain("broken.sh 1");
    expect((err as Error).message).toContain("exited with code 4");
    expect((err as Error).message).toContain("usb device not found");
  });

  it("reports a tool that is not installed", async () => {
    const relay = createRelay({ type: "command", name: "hub", on: ["otarig-no-such-tool", "{channel}"], off: ["x"], timeoutMs: 5000, channels: 1 });
    await expect(relay.set(1, true)).rejects.toThrow(/could not start `otarig-no-such-tool 1`/);
  });
});

import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { SerialPortMock } from "serialport";
import { SerialConsole, type PortBinding } from "../../harness/board/console/serial-console.ts";
import { DtrRtsReset } from "../../harness/board/reset/dtr-rts.ts";
import { ScenarioError } from "../../harness/core/errors.ts";
import { tempDir } from "./helpers/pty.ts";

interface SetCall {
  t: number;
  dtr: boolean | undefined;
  rts: boolean | undefined;
}

/** binding-mock with every set() recorded (the mock itself only records writes). */
function recordingBinding(calls: SetCall[]): PortBinding {
  const mock = SerialPortMock.binding;
  return {
    ...mock,
    async open(options: Parameters<typeof mock.open>[0]) {
      const port = await mock.open(options);
      const set = port.set.bind(port);
      port.set = async (o) => {
        calls.push({ t: performance.now(), dtr: o.dtr, rts: o.rts });
        return set(o);
      };
      return port;
    },
  };
}

const tmp = tempDir();
afterEach(() => SerialPortMock.binding.reset());

async function consoleWith(calls: SetCall[]): Promise<SerialConsole> {
  SerialPortMock.binding.createPort("/dev/ttyMOCK0", { record: true });
  const con = new SerialConsole({
    board: "esp",
    port: "/dev/ttyMOCK0",
    baud: 115200,
    lineEnding: "\n",
    reconnectTimeoutMs: 1000,
    logFile: join(tmp.dir, "esp.log"),
    clockOrigin: performance.now(),
    binding: recordingBinding(calls),
  });
  await con.open();
  return con;
}

const states = (calls: SetCall[]) => calls.map((c) => `dtr=${Number(c.dtr)} rts=${Number(c.rts)}`);

describe("DTR/RTS reset against binding-mock", () => {
  it("esp32: EN pulsed with IO0 high", async () => {
    const calls: SetCall[] = [];
    const con = await consoleWith(calls);
    await new DtrRtsReset(con, "esp32").reset();
    await con.close();
    expect(states(calls)).toEqual(["dtr=0 rts=1", "dtr=0 rts=1", "dtr=0 rts=0"]);
    // the EN pulse lasts about 100 ms (loose bound: no tight timing)
    expect(calls[2]!.t - calls[1]!.t).toBeGreaterThanOrEqual(90);
  });

  it("esp32-bootloader: esptool's ClassicReset, in order", async () => {
    const calls: SetCall[] = [];
    const con = await consoleWith(calls);
    await new DtrRtsReset(con, "esp32-bootloader").reset();
    await con.close();
    expect(states(calls)).toEqual(["dtr=0 rts=1", "dtr=0 rts=1", "dtr=1 rts=1", "dtr=1 rts=0", "dtr=0 rts=0"]);
    expect(calls[2]!.t - calls[1]!.t).toBeGreaterThanOrEqual(90);
    expect(calls[4]!.t - calls[3]!.t).toBeGreaterThanOrEqual(40);
  });

  it("pulse-dtr: Arduino-style drop and rise", async () => {
    const calls: SetCall[] = [];
    const con = await consoleWith(calls);
    await new DtrRtsReset(con, "pulse-dtr").reset();
    await con.close();
    expect(states(calls)).toEqual(["dtr=0 rts=0", "dtr=1 rts=1"]);
    expect(calls[1]!.t - calls[0]!.t).toBeGreaterThanOrEqual(240);
  });

  it("custom step lists keep the line a step does not name", async () => {
    const calls: SetCall[] = [];
    const con = await consoleWith(calls);
    await new DtrRtsReset(con, [{ rts: false }, { dtr: false, delayMs: 30 }, { rts: true }]).reset();
    await con.close();
    expect(states(calls)).toEqual(["dtr=1 rts=0", "dtr=0 rts=0", "dtr=0 rts=1"]);
    expect(calls[2]!.t - calls[1]!.t).toBeGreaterThanOrEqual(25);
  });

  it("names the known sequences for an unknown one", () => {
    expect(() => new DtrRtsReset({ setSignals: async () => {} }, "esp8266")).toThrow(ScenarioError);
    expect(() => new DtrRtsReset({ setSignals: async () => {} }, "esp8266")).toThrow(/esp32, esp32-bootloader, pulse-dtr/);
  });
});

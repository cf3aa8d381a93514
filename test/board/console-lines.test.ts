// Console dtr/rts/hupcl options: set right after each open, and carried over RFC 2217 for a
// network console. (PTYs reject modem-control ioctls, and ser2net on a PTY cannot apply them, so
// the lines are checked on binding-mock and on the bytes a network console puts on the wire.)
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { SerialPortMock } from "serialport";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { SerialConsole, type PortBinding } from "../../harness/board/console/serial-console.ts";
import { tempDir, waitFor } from "./helpers/pty.ts";

const tmp = tempDir("otarig-lines-");
afterEach(() => SerialPortMock.binding.reset());
afterAll(() => tmp.cleanup());

function consoleOn(port: string, extra: Partial<ConstructorParameters<typeof SerialConsole>[0]>): SerialConsole {
  return new SerialConsole({
    board: "esp",
    port,
    baud: 115200,
    lineEnding: "\n",
    reconnectTimeoutMs: 1000,
    logFile: join(tmp.dir, "esp.log"),
    clockOrigin: performance.now(),
    ...extra,
  });
}

/** binding-mock with the open options and every set() recorded. */
function recording(): { binding: PortBinding; opened: Array<Record<string, unknown>>; sets: Array<{ dtr?: boolean; rts?: boolean }> } {
  const mock = SerialPortMock.binding;
  const opened: Array<Record<string, unknown>> = [];
  const sets: Array<{ dtr?: boolean; rts?: boolean }> = [];
  const binding: PortBinding = {
    ...mock,
    async open(options: Parameters<typeof mock.open>[0]) {
      opened.push({ ...options });
      const port = await mock.open(options);
      const set = port.set.bind(port);
      port.set = async (o) => {
        sets.push({ dtr: o.dtr, rts: o.rts });
        return set(o);
      };
      return port;
    },
  };
  return { binding, opened, sets };
}

describe("console dtr, rts and hupcl", () => {
  it("sets DTR/RTS after open and passes hupcl: false to the port", async () => {
    SerialPortMock.binding.createPort("/dev/ttyMOCK0");
    const rec = recording();
    const con = consoleOn("/dev/ttyMOCK0", { binding: rec.binding, dtr: false, rts: false, hupcl: false });
    await con.open();
    await con.close();
    expect(rec.opened[0]).toMatchObject({ hupcl: false });
    expect(rec.sets).toEqual([{ dtr: false, rts: false }]);
  });

  it("leaves the lines as opened (hupcl on) when the rig says nothing", async () => {
    SerialPortMock.binding.createPort("/dev/ttyMOCK0");
    const rec = recording();
    const con = consoleOn("/dev/ttyMOCK0", { binding: rec.binding });
    await con.open();
    await con.close();
    expect(rec.opened[0]).toMatchObject({ hupcl: true });
    expect(rec.sets).toEqual([]);
  });
});

describe("modem lines and baud over RFC 2217", () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  /** A telnet peer that records what the console sends (ser2net's side of the wire). */
  async function peer(): Promise<{ url: string; bytes: () => Buffer }> {
    let got = Buffer.alloc(0);
    const sockets: Socket[] = [];
    server = createServer((s) => {
      sockets.push(s);
      s.on("data", (d) => (got = Buffer.concat([got, d])));
      s.on("error", () => {});
    });
    server.on("close", () => sockets.forEach((s) => s.destroy()));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as { port: number };
    return { url: `rfc2217://127.0.0.1:${port}`, bytes: () => got };
  }

  const sub = (cmd: number, ...value: number[]) => Buffer.from([0xff, 0xfa, 44, cmd, ...value, 0xff, 0xf0]);

  it("sends SET-BAUDRATE on connect and SET-CONTROL for DTR/RTS (dtr/rts options and reset sequences)", async () => {
    const p = await peer();
    const con = consoleOn(p.url, { baud: 57600, dtr: false, rts: true });
    await con.open();
    await con.setSignals({ dtr: true, rts: false });
    await con.write(Buffer.from([0x41, 0xff]));
    await waitFor(() => p.bytes().includes(Buffer.from([0x41, 0xff, 0xff])), 3000, "the data byte 0xFF doubled");
    await con.close();
    const wire = p.bytes();
    const at = (b: Buffer) => wire.indexOf(b);
    expect(at(Buffer.from([0xff, 0xfb, 44]))).toBeGreaterThanOrEqual(0); // WILL COM-PORT-OPTION
    expect(at(sub(1, 0x00, 0x00, 0xe1, 0x00))).toBeGreaterThan(0); // 57600
    const order = [sub(5, 9), sub(5, 11), sub(5, 8), sub(5, 12)].map(at); // DTR off, RTS on (open), DTR on, RTS off
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it("a raw tcp:// console refuses DTR/RTS with a clear error", async () => {
    const p = await peer();
    const con = consoleOn(p.url.replace("rfc2217:", "tcp:"), {});
    await con.open();
    const err = await con.setSignals({ dtr: false, rts: false }).catch((e: unknown) => e);
    await con.close();
    expect((err as Error).message).toMatch(/a raw TCP console cannot set DTR\/RTS\/BREAK \(use rfc2217:\/\//);
  });
});

// A serialport binding whose "port" is a TCP connection to a serial port exported over the
// network (ser2net, a labgrid exporter, a terminal server). SerialPortStream drives it exactly as
// it drives the native binding, so the console captures, expects and reconnects the same way:
// the connection dropping is a disconnect (the console marks a gap and reconnects), our own
// close cancels reads.
import { connect, type Socket } from "node:net";
import { SERIALPORT_OPEN_DEFAULTS, type BindingInterface, type BindingPortInterface, type OpenOptions, type PortStatus, type SetOptions, type UpdateOptions } from "./binding-types.ts";
import { parseConsoleUrl, type ConsoleUrl } from "./console-url.ts";
import {
  baudValue,
  COM_SET_BAUDRATE,
  COM_SET_CONTROL,
  comPortCommand,
  CONTROL,
  escapeIac,
  OPT_BINARY,
  OPT_COM_PORT,
  OPT_SGA,
  OptionNegotiator,
  TelnetDecoder,
} from "./telnet.ts";

/** How long a connect may take before the host counts as not answering. */
export const CONNECT_TIMEOUT_MS = 5000;

class CanceledError extends Error {
  readonly canceled = true;
}

export const NetworkBinding = {
  async list(): Promise<never[]> {
    return [];
  },
  async open(options: OpenOptions): Promise<NetworkPort> {
    const url = parseConsoleUrl(options.path);
    const socket = await connectTo(url, CONNECT_TIMEOUT_MS);
    return new NetworkPort(url, socket, options);
  },
} satisfies BindingInterface;

export function connectTo(url: ConsoleUrl, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.host, port: url.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${url.text}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`${url.text}: ${err.message}`));
    });
  });
}

export class NetworkPort implements BindingPortInterface {
  readonly openOptions: Required<OpenOptions>;
  isOpen = true;
  private readonly telnet: { decoder: TelnetDecoder; options: OptionNegotiator } | undefined;
  private readonly received: Buffer[] = [];
  private pendingRead: { resolve(): void; reject(err: Error): void } | undefined;
  /** why the connection ended (undefined while it is up, or after our own close) */
  private lost: Error | undefined;
  private baudRate: number;
  /** the baud rate the server confirmed (RFC 2217 answer), if it did */
  private confirmedBaud: number | undefined;

  constructor(
    readonly url: ConsoleUrl,
    private readonly socket: Socket,
    options: OpenOptions,
  ) {
    this.openOptions = { ...SERIALPORT_OPEN_DEFAULTS, lock: false, ...options };
    this.baudRate = options.baudRate;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 5000);
    if (url.transport === "rfc2217") {
      // BINARY both ways so the server passes every byte as is (no CR NUL), SGA both ways (no
      // go-aheads), and we perform COM-PORT-OPTION; ECHO is refused: the board echoes, not ser2net.
      const options = new OptionNegotiator(new Set([OPT_BINARY, OPT_SGA, OPT_COM_PORT]), new Set([OPT_BINARY, OPT_SGA]));
      this.telnet = { decoder: new TelnetDecoder(), options };
      socket.write(options.opening());
      socket.write(comPortCommand(COM_SET_BAUDRATE, baudValue(this.baudRate)));
    }
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", (err) => this.endWith(new Error(`${url.text}: ${err.message}`)));
    socket.on("close", () => this.endWith(new Error(`${url.text}: connection closed by the remote end`)));
  }

  private receive(chunk: Buffer): void {
    let data = chunk;
    if (this.telnet) {
      const { data: bytes, events } = this.telnet.decoder.push(chunk);
      data = bytes;
      for (const ev of events) {
        if (ev.kind === "option") {
          const answer = this.telnet.options.answer(ev.verb, ev.option);
          if (answer) this.socket.write(answer);
        } else if (ev.option === OPT_COM_PORT && ev.data[0] === COM_SET_BAUDRATE + 100 && ev.data.length >= 5) {
          this.confirmedBaud = ev.data.readUInt32BE(1);
        }
      }
    }
    if (data.length === 0) return;
    this.received.push(Buffer.from(data));
    this.wake();
  }

  private wake(): void {
    const pending = this.pendingRead;
    this.pendingRead = undefined;
    pending?.resolve();
  }

  /**
   * The connection ended under us. `isOpen` stays true until SerialPortStream, told by the failed
   * read, calls close(): it ignores a disconnect from a port that already says it is closed.
   */
  private endWith(err: Error): void {
    if (!this.isOpen || this.lost) return;
    this.lost = err;
    const pending = this.pendingRead;
    this.pendingRead = undefined;
    pending?.reject(err);
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    while (this.received.length === 0) {
      if (this.lost) throw this.lost;
      if (!this.isOpen) throw new CanceledError("port closed");
      await new Promise<void>((resolve, reject) => (this.pendingRead = { resolve, reject }));
    }
    let bytesRead = 0;
    while (bytesRead < length && this.received.length > 0) {
      const head = this.received[0]!;
      const n = head.copy(buffer, offset + bytesRead, 0, Math.min(head.length, length - bytesRead));
      bytesRead += n;
      if (n === head.length) this.received.shift();
      else this.received[0] = head.subarray(n);
    }
    return { buffer, bytesRead };
  }

  async write(buffer: Buffer): Promise<void> {
    this.assertOpen();
    const wire = this.telnet ? escapeIac(buffer) : buffer;
    await new Promise<void>((resolve, reject) => this.socket.write(wire, (err) => (err ? reject(err) : resolve())));
  }

  async update(options: UpdateOptions): Promise<void> {
    this.assertOpen();
    this.baudRate = options.baudRate;
    if (this.telnet) this.socket.write(comPortCommand(COM_SET_BAUDRATE, baudValue(options.baudRate)));
  }

  /** DTR/RTS/BREAK through RFC 2217 SET-CONTROL; a raw TCP port has no way to carry them. */
  async set(options: SetOptions): Promise<void> {
    this.assertOpen();
    if (!this.telnet) {
      if (options.dtr !== undefined || options.rts !== undefined || options.brk !== undefined) {
        throw new Error(`${this.url.text}: a raw TCP console cannot set DTR/RTS/BREAK (use rfc2217:// with ser2net's telnet(rfc2217) accepter)`);
      }
      return;
    }
    const codes: number[] = [];
    if (options.dtr !== undefined) codes.push(options.dtr ? CONTROL.dtrOn : CONTROL.dtrOff);
    if (options.rts !== undefined) codes.push(options.rts ? CONTROL.rtsOn : CONTROL.rtsOff);
    if (options.brk !== undefined) codes.push(options.brk ? CONTROL.breakOn : CONTROL.breakOff);
    for (const code of codes) this.socket.write(comPortCommand(COM_SET_CONTROL, Buffer.from([code])));
  }

  async get(): Promise<PortStatus> {
    this.assertOpen();
    return { cts: false, dsr: false, dcd: false };
  }

  /** The rate the server confirmed over RFC 2217, else the one asked for. */
  async getBaudRate(): Promise<{ baudRate: number }> {
    this.assertOpen();
    return { baudRate: this.confirmedBaud ?? this.baudRate };
  }

  /** Whether the server confirmed a baud rate (it implements RFC 2217 SET-BAUDRATE). */
  get baudConfirmed(): number | undefined {
    return this.confirmedBaud;
  }

  async flush(): Promise<void> {
    this.received.length = 0;
  }

  async drain(): Promise<void> {
    this.assertOpen();
    if (this.socket.writableLength === 0) return;
    await new Promise<void>((resolve) => this.socket.once("drain", resolve));
  }

  async close(): Promise<void> {
    if (!this.isOpen) return;
    this.isOpen = false;
    const pending = this.pendingRead;
    this.pendingRead = undefined;
    pending?.reject(new CanceledError("port closed"));
    this.socket.destroy();
  }

  private assertOpen(): void {
    if (this.lost) throw this.lost;
    if (!this.isOpen) throw new CanceledError(`${this.url.text}: port is not open`);
  }
}

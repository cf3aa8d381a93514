// The small part of telnet (RFC 854/855) and its COM-PORT option (RFC 2217) that a serial console
// needs. Written here because the npm registry has no maintained RFC 2217 client, and the telnet
// stream packages there are built for terminals (line mode, NVT translation of CR), which would
// alter a board's bytes. What is needed is little: strip commands and sub-negotiations from what
// the server sends, turn IAC IAC back into 0xFF, double 0xFF in what we send, answer option
// requests, and send COM-PORT commands (baud rate, DTR/RTS).

export const IAC = 0xff;
const DONT = 0xfe;
const DO = 0xfd;
const WONT = 0xfc;
const WILL = 0xfb;
const SB = 0xfa;
const SE = 0xf0;

export const OPT_BINARY = 0;
export const OPT_ECHO = 1;
export const OPT_SGA = 3;
export const OPT_COM_PORT = 44;

/** RFC 2217 client-to-server commands; the server's answer is the command + 100. */
export const COM_SET_BAUDRATE = 1;
export const COM_SET_CONTROL = 5;
export const CONTROL = { dtrOn: 8, dtrOff: 9, rtsOn: 11, rtsOff: 12, breakOn: 5, breakOff: 6 } as const;

export type Verb = "will" | "wont" | "do" | "dont";
const VERB_BYTE: Record<Verb, number> = { will: WILL, wont: WONT, do: DO, dont: DONT };
const BYTE_VERB: Record<number, Verb> = { [WILL]: "will", [WONT]: "wont", [DO]: "do", [DONT]: "dont" };

export type TelnetEvent = { kind: "option"; verb: Verb; option: number } | { kind: "sub"; option: number; data: Buffer };

/**
 * Splits what a telnet server sends into the data bytes and the commands between them. Keeps its
 * state across chunks, since a command can be cut anywhere by TCP.
 */
export class TelnetDecoder {
  private state: "data" | "iac" | "verb" | "sb" | "sb-data" | "sb-iac" = "data";
  private verb = 0;
  private subOption = 0;
  private sub: number[] = [];

  push(chunk: Buffer): { data: Buffer; events: TelnetEvent[] } {
    // Most chunks are plain data: pass them through without a copy.
    if (this.state === "data" && chunk.indexOf(IAC) < 0) return { data: chunk, events: [] };
    const out = Buffer.allocUnsafe(chunk.length);
    let n = 0;
    const events: TelnetEvent[] = [];
    for (let i = 0; i < chunk.length; i++) {
      if (this.state === "data") {
        // copy the run up to the next IAC at once (indexOf is native; a byte loop is not)
        const next = chunk.indexOf(IAC, i);
        const end = next < 0 ? chunk.length : next;
        n += chunk.copy(out, n, i, end);
        if (next < 0) break;
        i = next;
        this.state = "iac";
        continue;
      }
      const b = chunk[i]!;
      switch (this.state) {
        case "iac":
          if (b === IAC) {
            out[n++] = IAC;
            this.state = "data";
          } else if (b >= WILL && b <= DONT) {
            this.verb = b;
            this.state = "verb";
          } else if (b === SB) {
            this.state = "sb";
          } else {
            this.state = "data"; // NOP, GA, AYT, …: two-byte commands with nothing to keep
          }
          break;
        case "verb":
          events.push({ kind: "option", verb: BYTE_VERB[this.verb]!, option: b });
          this.state = "data";
          break;
        case "sb":
          this.subOption = b;
          this.sub = [];
          this.state = "sb-data";
          break;
        case "sb-data":
          if (b === IAC) this.state = "sb-iac";
          else this.sub.push(b);
          break;
        case "sb-iac":
          if (b === SE) {
            events.push({ kind: "sub", option: this.subOption, data: Buffer.from(this.sub) });
            this.state = "data";
          } else {
            // IAC IAC inside a sub-negotiation is a 0xFF data byte; anything else is malformed: keep going
            if (b === IAC) this.sub.push(IAC);
            this.state = "sb-data";
          }
          break;
      }
    }
    return { data: out.subarray(0, n), events };
  }
}

/** Data bytes for the wire: every 0xFF doubled. */
export function escapeIac(data: Buffer): Buffer {
  const count = data.reduce((c, b) => c + (b === IAC ? 1 : 0), 0);
  if (count === 0) return data;
  const out = Buffer.allocUnsafe(data.length + count);
  let n = 0;
  for (const b of data) {
    out[n++] = b;
    if (b === IAC) out[n++] = IAC;
  }
  return out;
}

export function optionCommand(verb: Verb, option: number): Buffer {
  return Buffer.from([IAC, VERB_BYTE[verb], option]);
}

/** IAC SB COM-PORT-OPTION <command> <value…> IAC SE, 0xFF in the value doubled. */
export function comPortCommand(command: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([IAC, SB, OPT_COM_PORT, command]), escapeIac(value), Buffer.from([IAC, SE])]);
}

export function baudValue(baud: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(baud);
  return b;
}

/**
 * Our side of option negotiation: which options we agree to and the answers that keeps the
 * two sides in step without loops (an answer only when our state changes, RFC 854's rule).
 */
export class OptionNegotiator {
  /** options we perform (WILL) / want the server to perform (DO) once agreed */
  private readonly local = new Set<number>();
  private readonly remote = new Set<number>();

  constructor(
    private readonly acceptLocal: ReadonlySet<number>,
    private readonly acceptRemote: ReadonlySet<number>,
  ) {}

  /** What we announce on connect (so a server that waits for us still gets the options). */
  opening(): Buffer {
    const out: Buffer[] = [];
    for (const o of this.acceptLocal) {
      this.local.add(o);
      out.push(optionCommand("will", o));
    }
    for (const o of this.acceptRemote) {
      this.remote.add(o);
      out.push(optionCommand("do", o));
    }
    return Buffer.concat(out);
  }

  /** The answer to a server's WILL/WONT/DO/DONT, or nothing when it only confirms our state. */
  answer(verb: Verb, option: number): Buffer | undefined {
    switch (verb) {
      case "will":
        if (this.remote.has(option)) return undefined;
        if (this.acceptRemote.has(option)) return this.remote.add(option), optionCommand("do", option);
        return optionCommand("dont", option);
      case "wont":
        if (!this.remote.has(option)) return undefined;
        this.remote.delete(option);
        return optionCommand("dont", option);
      case "do":
        if (this.local.has(option)) return undefined;
        if (this.acceptLocal.has(option)) return this.local.add(option), optionCommand("will", option);
        return optionCommand("wont", option);
      case "dont":
        if (!this.local.has(option)) return undefined;
        this.local.delete(option);
        return optionCommand("wont", option);
    }
  }

  /** Whether the server agreed to the COM-PORT option (it sent DO COM-PORT-OPTION). */
  performs(option: number): boolean {
    return this.local.has(option);
  }
}

// The telnet / RFC 2217 codec of network consoles: commands cut anywhere by TCP, IAC IAC, sub-
// negotiations, and option answers that never loop.
import { describe, expect, it } from "vitest";
import { comPortCommand, escapeIac, OptionNegotiator, TelnetDecoder } from "../../harness/board/console/network/telnet.ts";

const IAC = 0xff;

describe("TelnetDecoder", () => {
  it("strips negotiation and sub-negotiation, undoubles 0xFF, whatever the chunking", () => {
    const wire = Buffer.from([
      0x61, IAC, 0xfb, 0x03, 0x62, IAC, IAC, 0x63, IAC, 0xfa, 44, 101, 0, 1, IAC, IAC, 0, IAC, 0xf0, 0x0d, 0x00, 0x64, IAC, 0xf1, 0x65,
    ]);
    for (let cut = 1; cut < wire.length; cut++) {
      const d = new TelnetDecoder();
      const a = d.push(wire.subarray(0, cut));
      const b = d.push(wire.subarray(cut));
      expect(Buffer.concat([a.data, b.data])).toEqual(Buffer.from([0x61, 0x62, IAC, 0x63, 0x0d, 0x00, 0x64, 0x65]));
      const events = [...a.events, ...b.events];
      expect(events[0]).toEqual({ kind: "option", verb: "will", option: 3 });
      expect(events[1]).toEqual({ kind: "sub", option: 44, data: Buffer.from([101, 0, 1, IAC, 0]) });
    }
  });
});

describe("encoding", () => {
  it("doubles 0xFF in data and in a COM-PORT value", () => {
    expect(escapeIac(Buffer.from([1, IAC, 2]))).toEqual(Buffer.from([1, IAC, IAC, 2]));
    expect(comPortCommand(1, Buffer.from([0, 0, 0xff, 0]))).toEqual(Buffer.from([IAC, 0xfa, 44, 1, 0, 0, IAC, IAC, 0, IAC, 0xf0]));
  });
});

describe("OptionNegotiator", () => {
  it("accepts what it offers, refuses the rest, and does not answer a confirmation", () => {
    const n = new OptionNegotiator(new Set([0, 3, 44]), new Set([0, 3]));
    n.opening();
    expect(n.answer("do", 44)).toBeUndefined(); // confirms our WILL
    expect(n.answer("will", 1)).toEqual(Buffer.from([IAC, 0xfe, 1])); // ECHO refused: DONT
    expect(n.answer("do", 24)).toEqual(Buffer.from([IAC, 0xfc, 24])); // terminal type: WONT
    expect(n.answer("dont", 3)).toEqual(Buffer.from([IAC, 0xfc, 3])); // we stop SGA, say so once
    expect(n.answer("dont", 3)).toBeUndefined();
    expect(n.performs(44)).toBe(true);
  });
});

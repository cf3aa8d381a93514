import { describe, expect, it } from "vitest";
import { LineAssembler } from "../../harness/board/console/line-assembler.ts";
import { stripAnsi } from "../../harness/board/console/ansi.ts";

function feed(chunks: string[]): { lines: string[]; partial: string | undefined } {
  const a = new LineAssembler();
  const lines: string[] = [];
  for (const c of chunks) for (const l of a.push(Buffer.from(c), 0)) lines.push(l.raw.toString());
  return { lines, partial: a.partial()?.raw.toString() };
}

describe("LineAssembler", () => {
  it("splits on \\n, \\r\\n and lone \\r", () => {
    expect(feed(["a\nb\r\nc\rd\n"]).lines).toEqual(["a", "b", "c", "d"]);
  });
  it("keeps a CRLF split across reads as one terminator", () => {
    expect(feed(["one\r", "\ntwo\r", "\n"]).lines).toEqual(["one", "two"]);
  });
  it("joins a line split across reads", () => {
    expect(feed(["slot=A ver", "sion=1.0", ".0\n"]).lines).toEqual(["slot=A version=1.0.0"]);
  });
  it("keeps blank lines but not the empty line of \\r\\r\\n", () => {
    expect(feed(["a\r\n\r\nb\r\r\n", "\n"]).lines).toEqual(["a", "", "b", ""]);
  });
  it("holds an unterminated prompt as the partial line", () => {
    const r = feed(["boot ok\r\n", "ota> "]);
    expect(r.lines).toEqual(["boot ok"]);
    expect(r.partial).toBe("ota> ");
  });
  it("cuts a line that never ends", () => {
    const a = new LineAssembler(16);
    const out = a.push(Buffer.from("x".repeat(20)), 0);
    expect(out.map((l) => l.raw.length)).toEqual([20]);
    expect(a.partial()).toBeUndefined();
  });
});

describe("stripAnsi", () => {
  it("removes colours, cursor moves and stray controls", () => {
    expect(stripAnsi("\x1b[0;32mI (123) boot: ok\x1b[0m")).toBe("I (123) boot: ok");
    expect(stripAnsi("a\x1b[2Kb\x07c")).toBe("abc");
    expect(stripAnsi("tab\tkept")).toBe("tab\tkept");
    expect(stripAnsi("prompt \x1b[1")).toBe("prompt ");
  });
});

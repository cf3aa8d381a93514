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
  it("cuts a line that never ends, marking the pieces, and holds no more than the limit", () => {
    const a = new LineAssembler(16);
    const out = a.push(Buffer.from("x".repeat(40)), 0);
    expect(out.map((l) => [l.raw.length, l.cut ?? false])).toEqual([
      [16, true],
      [16, true],
    ]);
    expect(a.partial()?.raw.length).toBe(8);
  });
  it("cuts a long line at the same bytes whatever the reads (a replay of .raw gives the same lines)", () => {
    const text = "a".repeat(37) + "\r\n" + "b".repeat(16) + "\n" + "c".repeat(17) + "\rtail";
    const lines = (chunkSize: number) => {
      const a = new LineAssembler(16);
      const got: string[] = [];
      for (let i = 0; i < text.length; i += chunkSize) {
        for (const l of a.push(Buffer.from(text.slice(i, i + chunkSize)), 0)) got.push(`${l.raw.toString()}${l.cut ? "+" : ""}`);
      }
      return got;
    };
    const whole = lines(text.length);
    expect(whole).toEqual(["a".repeat(16) + "+", "a".repeat(16) + "+", "aaaaa", "b".repeat(16), "c".repeat(16) + "+", "c"]);
    for (const size of [1, 2, 3, 5, 7, 16, 17]) expect(lines(size)).toEqual(whole);
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

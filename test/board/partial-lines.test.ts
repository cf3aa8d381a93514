// expect must never match a line that is still arriving: a board at 115200 baud (or a loaded
// machine) delivers a line in several reads, and a capture taken mid-line holds half a value.
// Fed over a real socat PTY one byte at a time, with pauses long enough for each byte to be
// its own read.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SerialConsole } from "../../harness/board/console/serial-console.ts";
import { TestFailure } from "../../harness/core/errors.ts";
import { consoleOnPty, type Peer } from "./helpers/pty.ts";

let fixture: Awaited<ReturnType<typeof consoleOnPty>>;
let peer: Peer;
let con: SerialConsole;

beforeEach(async () => {
  fixture = await consoleOnPty();
  ({ peer, con } = fixture);
});

afterEach(() => fixture.close());

/** Prints `text` one byte per write, pausing between bytes; calls `each` after every byte. */
async function dribble(text: string, pauseMs: number, each?: (printed: string) => void): Promise<void> {
  for (let i = 0; i < text.length; i++) {
    await peer.print(text[i]!);
    await new Promise((r) => setTimeout(r, pauseMs));
    each?.(text.slice(0, i + 1));
  }
}

describe("expect and lines still arriving (socat PTY, one byte at a time)", () => {
  it("captures the whole value of a named group, not the digits that arrived first", async () => {
    const seen: string[] = [];
    const waiting = con.expect(/version=(?<v>[\d.]+)/, { withinMs: 10_000, since: con.mark() });
    let settled = false;
    void waiting.then(
      () => (settled = true),
      () => (settled = true),
    );
    await dribble("boot: version=1.0.0\r\n", 15, (printed) => {
      // Until the terminator has gone out ("\r" already ends a line), the wait must still be open.
      if (!/[\r\n]$/.test(printed)) seen.push(`${JSON.stringify(printed)} settled=${settled}`);
    });
    const m = await waiting;
    expect(m.groups.v).toBe("1.0.0");
    expect(m.line.text).toBe("boot: version=1.0.0");
    expect(seen.filter((s) => s.endsWith("settled=true"))).toEqual([]);
  });

  it("a pattern that the unfinished line already satisfies waits for the line to end", async () => {
    const waiting = con.expect(/sha256=(?<sha>[0-9a-f]+)/, { withinMs: 10_000, since: con.mark() });
    await dribble("image sha256=ab", 20);
    // "ab" would satisfy the pattern; the line has not ended, so nothing may match yet.
    const early = await Promise.race([waiting.then(() => "matched"), new Promise((r) => setTimeout(() => r("open"), 150))]);
    expect(early).toBe("open");
    await dribble("cd12\n", 10);
    expect((await waiting).groups.sha).toBe("abcd12");
  });

  it("matches an unterminated prompt only with partial: true", async () => {
    const mark = con.mark();
    await dribble("ota> ", 10);
    await expect(con.expect(/ota> $/, { withinMs: 300, since: mark })).rejects.toBeInstanceOf(TestFailure);
    const m = await con.expect(/ota> $/, { withinMs: 2000, since: mark, partial: true });
    expect(m.line.text).toBe("ota> ");
  });

  it("partial: true may match mid-line (the caller asked for it)", async () => {
    const waiting = con.expect(/login: $/, { withinMs: 5000, since: con.mark(), partial: true });
    await dribble("board login: ", 10);
    expect((await waiting).line.text).toBe("board login: ");
  });

  it("expect not: a line still arriving does not count until it has ended", async () => {
    // "err" followed by "or" is a whole word only once the line is complete.
    const watch = con.expectNot(/\berr$/, { forMs: 1500, since: con.mark() });
    await dribble("no error\n", 15);
    await expect(watch).resolves.toBeUndefined();
  });
});

// The batched writer behind <board>.log and <board>.raw: bytes land in order, live (a moment after
// they were appended, not only at close), and a process that exits without closing still leaves them.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { BatchedFile } from "../../harness/board/console/batched-file.ts";
import { tempDir, waitFor } from "./helpers/pty.ts";

const ROOT = join(import.meta.dirname, "../..");
let tmp: ReturnType<typeof tempDir>;
afterEach(() => tmp?.cleanup());

describe("BatchedFile", () => {
  it("keeps bytes in order across blocks, and writes them out without waiting for close", async () => {
    tmp = tempDir();
    const path = join(tmp.dir, "out.bin");
    const f = new BatchedFile(path, (err) => {
      throw err;
    });
    f.open();
    const expected: Buffer[] = [];
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(`line ${i} ${"x".repeat(i % 700)}\n`);
      expected.push(b);
      if (i % 3 === 0) f.appendText(b.toString("latin1"));
      else f.appendBytes(b);
    }
    const big = Buffer.alloc(600 * 1024, 0xab); // larger than a block
    f.appendBytes(big);
    expected.push(big);
    f.appendText("tail");
    expected.push(Buffer.from("tail"));
    const all = Buffer.concat(expected);
    await waitFor(() => readFileSync(path).length === all.length, 5000, "the bytes to reach the file before close");
    await f.close();
    expect(readFileSync(path).equals(all)).toBe(true);
  });

  it("a process that exits without closing still leaves what it appended", async () => {
    tmp = tempDir();
    const path = join(tmp.dir, "exit.bin");
    const script = `
      import { BatchedFile } from ${JSON.stringify(join(ROOT, "harness/board/console/batched-file.ts"))};
      const f = new BatchedFile(${JSON.stringify(path)}, () => {});
      f.open();
      f.appendText("captured before the exit\\n");
      process.exit(0);
    `;
    const r = await execa(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { reject: false, cwd: ROOT });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(path, "utf8")).toBe("captured before the exit\n");
    rmSync(path);
  });
});

// The zip a redacted trace is written back as: read again by our reader, and by yauzl, the
// reader Playwright's trace viewer uses (shipped inside playwright-core).
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { readZip, writeZip, type ZipEntry } from "../../harness/browser/zip.ts";

type Yauzl = {
  fromBuffer(
    b: Buffer,
    o: { lazyEntries: boolean },
    cb: (err: Error | null, zip: {
      readEntry(): void;
      on(ev: "entry", f: (e: { fileName: string }) => void): void;
      on(ev: "end", f: () => void): void;
      openReadStream(e: unknown, cb: (err: Error | null, s: NodeJS.ReadableStream) => void): void;
    }) => void,
  ): void;
};
const { yauzl } = createRequire(import.meta.url)("playwright-core/lib/utilsBundle") as { yauzl: Yauzl };

function readWithYauzl(zip: Buffer): Promise<ZipEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, z) => {
      if (err) return reject(err);
      const out: ZipEntry[] = [];
      z.on("entry", (entry) => {
        z.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          const chunks: Buffer[] = [];
          stream.on("data", (c: Buffer) => chunks.push(c));
          stream.on("end", () => {
            out.push({ name: entry.fileName, data: Buffer.concat(chunks) });
            z.readEntry();
          });
        });
      });
      z.on("end", () => resolve(out));
      z.readEntry();
    });
  });
}

describe("zip", () => {
  it("writes what yauzl (the trace viewer's reader) and readZip read back entry for entry", async () => {
    const entries: ZipEntry[] = [
      { name: "trace.trace", data: Buffer.from('{"type":"before","params":{"value":"***"}}\n'.repeat(500)) },
      { name: "resources/page@1.jpeg", data: Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256)) },
      { name: "résumé.txt", data: Buffer.alloc(0) },
    ];
    const zip = writeZip(entries);
    expect(readZip(zip)).toEqual(entries);
    expect(await readWithYauzl(zip)).toEqual(entries);
  });

  it("says what is wrong with a file that is not a zip", () => {
    expect(() => readZip(Buffer.from("not a zip at all, just text"))).toThrow(/no end of central directory/);
  });
});

// The streaming multipart reader, fed in awkward chunk sizes with boundary-like bytes in the file.
import { describe, expect, it } from "vitest";
import { boundaryOf, readFirstFilePart } from "../../server/http/multipart.ts";
import { HttpError } from "../../server/http/errors.ts";

const B = "----otarigBoundary7MA4YWxk";

function body(file: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`preamble to ignore\r\n--${B}\r\nContent-Disposition: form-data; name="note"\r\n\r\nnot the file\r\n`),
    Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="file"; filename="fw.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${B}\r\nContent-Disposition: form-data; name="file"; filename="second.bin"\r\n\r\nSECOND\r\n--${B}--\r\n`),
  ]);
}

async function* chunks(buf: Buffer, sizes: () => number): AsyncGenerator<Buffer> {
  for (let off = 0; off < buf.length; ) {
    const n = Math.max(1, sizes());
    yield buf.subarray(off, off + n);
    off += n;
  }
}

async function parse(buf: Buffer, sizes: () => number): Promise<{ name: string | undefined; data: Buffer }> {
  const parts: Buffer[] = [];
  const info = await readFirstFilePart(chunks(buf, sizes), B, async (c) => {
    parts.push(Buffer.from(c));
  });
  return { name: info?.filename, data: Buffer.concat(parts) };
}

describe("multipart reader", () => {
  // file bytes that look like the start of a delimiter, and a full "--boundary" without CRLF
  const tricky = Buffer.concat([Buffer.from(`\r\n--${B.slice(0, 10)}\r\n-`), Buffer.alloc(5000, 0xab), Buffer.from(`--${B}`), Buffer.from("\r\n")]);

  it.each([
    ["1-byte chunks", () => 1],
    ["7-byte chunks", () => 7],
    ["64 KiB chunks", () => 65536],
    ["random chunks", () => 1 + Math.floor(Math.random() * 300)],
  ])("returns exactly the first file part with %s", async (_label, sizes) => {
    const got = await parse(body(tricky), sizes);
    expect(got.name).toBe("fw.bin");
    expect(got.data.equals(tricky)).toBe(true);
  });

  it("handles an empty file part", async () => {
    const got = await parse(body(Buffer.alloc(0)), () => 3);
    expect(got.name).toBe("fw.bin");
    expect(got.data.length).toBe(0);
  });

  it("reports a body with no file part as undefined, and a truncated body as 400", async () => {
    const noFile = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--${B}--\r\n`);
    expect(await readFirstFilePart(chunks(noFile, () => 5), B, async () => {})).toBeUndefined();
    const truncated = body(tricky).subarray(0, 400);
    const err = await readFirstFilePart(chunks(truncated, () => 50), B, async () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(400);
  });

  it("reads the boundary from the Content-Type, quoted or not", () => {
    expect(boundaryOf(`multipart/form-data; boundary=${B}`)).toBe(B);
    expect(boundaryOf(`multipart/form-data; charset=utf-8; boundary="a b"`)).toBe("a b");
    expect(boundaryOf("application/json")).toBeUndefined();
  });
});

describe("multipart text fields (the portal's CSRF token beside its file)", () => {
  it.each([
    ["1-byte chunks", () => 1],
    ["13-byte chunks", () => 13],
  ])("hands small text parts to onField, whatever the chunking (%s)", async (_label, sizes) => {
    const fields: [string, string][] = [];
    const file: Buffer[] = [];
    const info = await readFirstFilePart(
      chunks(body(Buffer.from("the file")), sizes),
      B,
      async (c) => {
        file.push(Buffer.from(c));
      },
      (k, v) => fields.push([k, v]),
    );
    expect(info?.filename).toBe("fw.bin");
    expect(Buffer.concat(file).toString()).toBe("the file");
    expect(fields).toEqual([["note", "not the file"]]); // the second file part is neither file nor field
  });

  it("refuses a text part over 4 KiB with 400", async () => {
    const big = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n${"x".repeat(5000)}\r\n--${B}--\r\n`);
    const err = await readFirstFilePart(chunks(big, () => 1000), B, async () => {}, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(400);
  });
});

// Digests of a file, streamed (firmware images can be large).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

export interface FileDigest {
  md5: string;
  sha256: string;
  size: number;
}

export async function digestFile(file: string): Promise<FileDigest> {
  const md5 = createHash("md5");
  const sha256 = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    md5.update(chunk);
    sha256.update(chunk);
    size += chunk.length;
  }
  return { md5: md5.digest("hex"), sha256: sha256.digest("hex"), size };
}

/** `Content-MD5` is the base64 of the binary digest (RFC 1864), not of its hex. */
export function contentMd5(md5Hex: string): string {
  return Buffer.from(md5Hex, "hex").toString("base64");
}

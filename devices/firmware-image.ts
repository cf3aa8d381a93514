// The virtual firmware image format, shared by the fixture generator and the virtual board.
// A real bootloader checks a header before it jumps into a slot; this is the smallest
// format that lets the virtual board do the same (magic, version, payload length and digest).
import { createHash } from "node:crypto";

export const IMAGE_MAGIC = Buffer.from("OTRG", "ascii");
export const HEADER_SIZE = 128;
const VERSION_FIELD = 24;

export interface ImageHeader {
  version: string;
  payloadLength: number;
  payloadSha256: string;
}

/** Builds an image: 128-byte header, then `payloadSize` deterministic bytes seeded by the version. */
export function buildImage(version: string, payloadSize: number): Buffer {
  const payload = deterministicBytes(`otarig-payload-${version}`, payloadSize);
  const header = Buffer.alloc(HEADER_SIZE);
  IMAGE_MAGIC.copy(header, 0);
  header.writeUInt8(1, 4); // header format version
  header.write(version.slice(0, VERSION_FIELD), 8, "utf8");
  header.writeUInt32LE(payload.length, 32);
  createHash("sha256").update(payload).digest().copy(header, 36);
  return Buffer.concat([header, payload]);
}

/** Parses and verifies an image; returns a reason string when it is not bootable. */
export function verifyImage(image: Buffer): { ok: true; header: ImageHeader } | { ok: false; reason: string } {
  if (image.length < HEADER_SIZE) return { ok: false, reason: `image too short (${image.length} bytes)` };
  if (!image.subarray(0, 4).equals(IMAGE_MAGIC)) return { ok: false, reason: "bad magic" };
  const version = image.subarray(8, 8 + VERSION_FIELD).toString("utf8").replace(/\0+$/, "");
  const payloadLength = image.readUInt32LE(32);
  const payloadSha256 = image.subarray(36, 68).toString("hex");
  if (image.length !== HEADER_SIZE + payloadLength) {
    return { ok: false, reason: `length ${image.length} != header ${HEADER_SIZE + payloadLength}` };
  }
  const actual = createHash("sha256").update(image.subarray(HEADER_SIZE)).digest("hex");
  if (actual !== payloadSha256) return { ok: false, reason: "payload digest mismatch" };
  return { ok: true, header: { version, payloadLength, payloadSha256 } };
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function deterministicBytes(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let offset = 0, counter = 0; offset < size; counter++) {
    const block = createHash("sha256").update(`${seed}:${counter}`).digest();
    offset += block.copy(out, offset);
  }
  return out;
}

// The QEMU board's raw disk, as the guest agent (devices/qemu/guest/ota-agent) lays it out:
// boot state and settings as 4 KiB blocks of key=value lines, two 1 MiB application slots and a
// 1 MiB download area. The flasher writes it and tests read it back (a torn slot B, say).
import { closeSync, existsSync, ftruncateSync, openSync, readSync, writeSync, fsyncSync } from "node:fs";

export const DISK_SIZE = 4 * 1024 * 1024;
export const STATE_OFFSET = 0;
export const SETTINGS_OFFSET = 4096;
export const BLOCK_SIZE = 4096;
export const SLOT_SIZE = 1024 * 1024;
export const SLOT_OFFSET = { A: 1024 * 1024, B: 2 * 1024 * 1024 } as const;
export const DOWNLOAD_OFFSET = 3 * 1024 * 1024;

export type Slot = keyof typeof SLOT_OFFSET;

/** Creates the disk (sparse, zero) when it does not exist yet. */
export function ensureDisk(path: string): void {
  if (existsSync(path)) return;
  const fd = openSync(path, "w");
  try {
    ftruncateSync(fd, DISK_SIZE);
  } finally {
    closeSync(fd);
  }
}

export function readRegion(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, offset);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export function writeRegion(path: string, offset: number, data: Buffer): void {
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, data, 0, data.length, offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A 4 KiB block of key=value lines (boot state or settings). */
export function readBlock(path: string, offset: number): Record<string, string> {
  const text = readRegion(path, offset, BLOCK_SIZE).toString("latin1").replace(/\0+$/, "");
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export function blockBytes(values: Record<string, string>): Buffer {
  const text = Object.entries(values).map(([k, v]) => `${k}=${v}\n`).join("");
  const buf = Buffer.alloc(BLOCK_SIZE);
  if (Buffer.byteLength(text) > BLOCK_SIZE) throw new Error("key=value block larger than 4 KiB");
  buf.write(text, "latin1");
  return buf;
}

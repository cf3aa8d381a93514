// Resumable download of an update into the flash's download area. Bytes go to download.part
// page by page; after a power cut or a dropped connection the next attempt asks for the rest
// with `Range: bytes=<size>-`. The image counts as downloaded only once its SHA-256 matches.
import { createReadStream, existsSync, renameSync } from "node:fs";
import { open } from "node:fs/promises";
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Flash } from "./flash.ts";
import { HttpError, errorCode } from "../../harness/ota/device-client.ts";

export interface DownloadOptions {
  flash: Flash;
  url: string;
  headers: Record<string, string>;
  /** what is being fetched (an image hash, or `content:<id>`): a part of something else is discarded */
  key: string;
  /** the SHA-256 the image must have; without it (content by id) the caller verifies the image */
  expectedSha256?: string;
  pageSize: number;
  pageDelayMs: number;
  retries: number;
  stallTimeoutMs: number;
  onResume(offset: number): void;
  onProgress(done: number, total: number): void;
  /** a network error that will be retried */
  onRetry?(reason: unknown, attempt: number): void;
}

export class DigestMismatch extends Error {}

/**
 * Downloads until download.bin holds the whole image; returns its SHA-256.
 * Throws HttpError, DigestMismatch or a network error.
 */
export async function downloadImage(o: DownloadOptions): Promise<string> {
  const state = o.flash.readState();
  if (state.downloadKey !== o.key) {
    o.flash.clearDownload();
    o.flash.updateState({ downloadKey: o.key, downloadComplete: false, downloadHash: undefined });
  } else if (state.downloadComplete && state.downloadHash && existsSync(o.flash.downloadPath)) {
    return state.downloadHash; // already here and verified
  }

  for (let attempt = 0; ; attempt++) {
    try {
      await fetchRest(o);
      break;
    } catch (err) {
      if (err instanceof HttpError && err.status < 500) throw err;
      if (attempt >= o.retries) throw err;
      o.onRetry?.(err, attempt + 1);
      await sleep(Math.min(250 * 2 ** attempt, 2000));
    }
  }

  const actual = await fileSha256(o.flash.partPath);
  if (o.expectedSha256 && actual !== o.expectedSha256) {
    o.flash.clearDownload();
    throw new DigestMismatch(`sha256 mismatch: expected ${o.expectedSha256}, got ${actual}`);
  }
  renameSync(o.flash.partPath, o.flash.downloadPath);
  o.flash.updateState({ downloadComplete: true, downloadHash: actual });
  return actual;
}

/** One HTTP exchange: asks for what download.part lacks and appends it. */
async function fetchRest(o: DownloadOptions): Promise<void> {
  let offset = o.flash.partSize();
  if (offset > 0) o.onResume(offset);
  const abort = new AbortController();
  let stall = setTimeout(() => abort.abort(new Error("timed out")), o.stallTimeoutMs);
  const touch = () => {
    clearTimeout(stall);
    stall = setTimeout(() => abort.abort(new Error("timed out")), o.stallTimeoutMs);
  };
  try {
    const headers = offset > 0 ? { ...o.headers, range: `bytes=${offset}-` } : o.headers;
    const res = await fetch(o.url, { method: "GET", headers, signal: abort.signal });
    if (res.status === 416 && offset > 0) {
      // The part is no prefix of what the server has (e.g. bigger): start over.
      await res.arrayBuffer().catch(() => undefined);
      o.flash.clearDownload();
      throw new Error("range not satisfiable, restarting from 0");
    }
    if (res.status !== 200 && res.status !== 206) throw new HttpError(res.status, await errorCode(res));
    if (res.status === 200) offset = 0; // the server sent it all: overwrite
    const start = /bytes\s+(\d+)-/.exec(res.headers.get("content-range") ?? "")?.[1];
    if (res.status === 206 && Number(start) !== offset) throw new Error(`server sent range from ${start}, asked for ${offset}`);
    const length = Number(res.headers.get("content-length") ?? NaN);
    const total = totalSize(res, offset, length);

    const file = await open(o.flash.partPath, offset === 0 ? "w" : "a");
    try {
      let done = offset;
      // Bytes wait in RAM until a whole flash page can be written, as on a device.
      let pending = Buffer.alloc(0);
      const writePage = async (page: Buffer) => {
        await file.write(page);
        await o.flash.probe?.wrote("download", done, page.length, total);
        done += page.length;
        o.onProgress(done, total);
        if (o.pageDelayMs > 0) await sleep(o.pageDelayMs);
      };
      if (!res.body) throw new Error("empty response body");
      for await (const chunk of res.body) {
        touch();
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= o.pageSize) {
          await writePage(pending.subarray(0, o.pageSize));
          pending = pending.subarray(o.pageSize);
        }
      }
      if (pending.length > 0) await writePage(pending);
      if (Number.isFinite(total) && done < total) throw new Error(`connection closed at ${done} of ${total} bytes`);
    } finally {
      await file.close();
    }
  } finally {
    clearTimeout(stall);
  }
}

function totalSize(res: Response, offset: number, length: number): number {
  const range = /\/(\d+)\s*$/.exec(res.headers.get("content-range") ?? "");
  if (res.status === 206 && range?.[1]) return Number(range[1]);
  return offset + length;
}

function fileSha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (d) => hash.update(d))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

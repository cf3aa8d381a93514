// Streams a stored blob with Content-Length, ETag, Accept-Ranges, 206/416 and HEAD, without
// ever holding the file in memory.
//
// Memory per download is small and flat whatever the file size: each response reads into at
// most CHUNKS_PER_RESPONSE buffers of CHUNK bytes, a buffer is refilled only once the socket
// has taken its previous contents (the write callback: backpressure), and buffers come from
// and go back to a small process-wide pool, so streaming makes no garbage for the GC to lag on.
import { close, open, read } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { parseRange } from "./range.ts";

export interface FileToSend {
  path: string;
  size: number;
  /** the blob's sha256: a strong validator */
  etag: string;
  contentType?: string;
}

/** Bytes per read and per socket write. */
const CHUNK = 64 * 1024;
/** Buffers one response may hold: one being written while the next one is read. */
const CHUNKS_PER_RESPONSE = 2;
/** Idle buffers kept for reuse across responses (4 MiB). */
const POOL_MAX = 64;

const pool: Buffer[] = [];

function takeBuffer(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
}

function giveBack(buf: Buffer): void {
  if (pool.length < POOL_MAX) pool.push(buf);
}

export async function sendFile(req: IncomingMessage, res: ServerResponse, file: FileToSend): Promise<void> {
  const etag = `"${file.etag}"`;
  const headers: Record<string, string | number> = {
    "content-type": file.contentType ?? "application/octet-stream",
    etag,
    "accept-ranges": "bytes",
  };
  const inm = req.headers["if-none-match"];
  if (inm && inm.split(",").some((t) => t.trim() === etag || t.trim() === "*")) {
    res.writeHead(304, { etag, "accept-ranges": "bytes" });
    res.end();
    return;
  }
  // If-Range with another validator: the client's partial copy is stale, send it all.
  const ifRange = req.headers["if-range"] as string | undefined;
  const rangeHeader = ifRange && ifRange.trim() !== etag ? undefined : req.headers.range;
  const range = parseRange(rangeHeader, file.size);
  if (range.kind === "unsatisfiable") {
    const body = JSON.stringify({ error: 416, code: "RANGE_NOT_SATISFIABLE", message: `range not satisfiable for ${file.size} bytes` });
    res.writeHead(416, {
      "content-range": `bytes */${file.size}`,
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(body),
      etag,
      "accept-ranges": "bytes",
    });
    res.end(body);
    return;
  }
  const start = range.kind === "range" ? range.start : 0;
  const end = range.kind === "range" ? range.end : file.size - 1;
  const length = file.size === 0 ? 0 : end - start + 1;
  headers["content-length"] = length;
  if (range.kind === "range") headers["content-range"] = `bytes ${start}-${end}/${file.size}`;
  res.writeHead(range.kind === "range" ? 206 : 200, headers);
  if (req.method === "HEAD" || length === 0) {
    res.end();
    return;
  }
  await streamFile(res, file.path, start, end);
}

/**
 * Writes bytes start..end (inclusive) of the file to the response, then ends it. Resolves once
 * the response is finished or closed; a read error, a short file or a client that went away
 * (or a reset) destroys the response: there is nothing left to answer to.
 */
function streamFile(res: ServerResponse, path: string, start: number, end: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let fd = -1;
    let position = start; // next byte to read
    let toRead = end - start + 1;
    let reading = false;
    let writing = false;
    let stopped = false;
    let held = 0; // buffers this response holds
    const idle: Buffer[] = []; // held, empty
    const filled: { buf: Buffer; n: number }[] = []; // held, read, not yet written

    const settle = (): void => {
      res.off("close", onClose);
      // Buffers still in a read or a socket write are left to the GC, never reused.
      for (const b of idle) giveBack(b);
      for (const f of filled) giveBack(f.buf);
      idle.length = 0;
      filled.length = 0;
      if (fd >= 0 && !reading) {
        close(fd, () => {});
        fd = -1;
      }
      resolve();
    };

    const fail = (): void => {
      if (stopped) return;
      stopped = true;
      res.destroy();
      settle();
    };

    function onClose(): void {
      // The connection closed before the last byte went out.
      if (!stopped) fail();
    }

    const pump = (): void => {
      if (stopped) return;
      if (!writing && filled.length > 0) {
        const { buf, n } = filled.shift()!;
        writing = true;
        res.write(n === buf.length ? buf : buf.subarray(0, n), (err) => {
          writing = false;
          if (stopped) return;
          if (err) return fail();
          idle.push(buf);
          pump();
        });
      }
      if (!reading && toRead > 0 && (idle.length > 0 || held < CHUNKS_PER_RESPONSE)) {
        let buf = idle.pop();
        if (!buf) {
          buf = takeBuffer();
          held++;
        }
        const want = Math.min(CHUNK, toRead);
        reading = true;
        read(fd, buf, 0, want, position, (err, n) => {
          reading = false;
          if (stopped) {
            if (fd >= 0) {
              close(fd, () => {});
              fd = -1;
            }
            return;
          }
          if (err || n === 0) return fail(); // unreadable, or shorter than its record
          position += n;
          toRead -= n;
          filled.push({ buf: buf!, n });
          pump();
        });
      }
      if (toRead === 0 && !reading && !writing && filled.length === 0) {
        stopped = true;
        res.end();
        settle();
      }
    };

    res.on("close", onClose);
    open(path, "r", (err, opened) => {
      if (stopped) {
        if (!err) close(opened, () => {});
        return;
      }
      if (err) return fail();
      fd = opened;
      pump();
    });
  });
}

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

/**
 * Bytes per read and per socket write. Every read is a thread-pool round trip that costs tens
 * of µs of CPU on a small VM whatever its size, so chunks are not tiny: measured on 2 cores,
 * 64 KiB chunks held downloads near 1 GB/s, 256 KiB ones 1.0–1.5 GB/s, 512 KiB ones ~2 GB/s,
 * at most 1 MiB per download (the old 1 MiB read-ahead stream held ~3 MiB).
 */
const CHUNK = 512 * 1024;
/** Buffers one response may hold: the next chunk is read while the previous one is written. */
const CHUNKS_PER_RESPONSE = 2;
/** Idle buffers kept for reuse across responses (4 MiB). */
const POOL_MAX = (4 * 1024 * 1024) / CHUNK;

const pool: Buffer[] = [];

/** A CHUNK-sized buffer from the pool, or an exact one for a body smaller than a chunk. */
function takeBuffer(bodySize: number): Buffer {
  if (bodySize < CHUNK) return Buffer.allocUnsafe(bodySize);
  return pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
}

function giveBack(buf: Buffer): void {
  if (buf.length === CHUNK && pool.length < POOL_MAX) pool.push(buf);
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
 *
 * Up to CHUNKS_PER_RESPONSE chunks are in flight at once (being read, read and waiting, or
 * being written); reads may finish out of order, writes go out in file order. A buffer is
 * refilled only after the socket write of its previous contents called back.
 */
function streamFile(res: ServerResponse, path: string, start: number, end: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let fd = -1;
    let position = start; // next byte to ask a read for
    const length = end - start + 1;
    let unread = length; // bytes no read has been asked for yet
    let reads = 0; // reads in flight
    let writing = false;
    let stopped = false;
    let held = 0; // buffers taken from the pool
    let nextRead = 0; // sequence number of the next chunk read
    let nextWrite = 0; // sequence number of the next chunk to write
    const idle: Buffer[] = []; // held and empty
    const ready = new Map<number, { buf: Buffer; n: number }>(); // read, not yet written

    const closeFd = (): void => {
      if (fd >= 0 && reads === 0) {
        close(fd, () => {});
        fd = -1;
      }
    };

    const settle = (): void => {
      res.off("close", onClose);
      // Buffers still in a read or a socket write are left to the GC, never reused.
      for (const b of idle) giveBack(b);
      for (const c of ready.values()) giveBack(c.buf);
      idle.length = 0;
      ready.clear();
      closeFd();
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
      const next = ready.get(nextWrite);
      if (!writing && next) {
        ready.delete(nextWrite++);
        writing = true;
        const { buf, n } = next;
        res.write(n === buf.length ? buf : buf.subarray(0, n), (err) => {
          writing = false;
          if (stopped) return;
          if (err) return fail();
          idle.push(buf);
          pump();
        });
      }
      while (unread > 0 && (idle.length > 0 || held < CHUNKS_PER_RESPONSE)) {
        let buf = idle.pop();
        if (!buf) {
          buf = takeBuffer(length);
          held++;
        }
        const chunk = buf;
        const want = Math.min(CHUNK, unread);
        const seq = nextRead++;
        reads++;
        read(fd, chunk, 0, want, position, (err, n) => {
          reads--;
          if (stopped) return closeFd();
          if (err || n !== want) return fail(); // unreadable, or shorter than its record
          ready.set(seq, { buf: chunk, n });
          pump();
        });
        position += want;
        unread -= want;
      }
      if (unread === 0 && reads === 0 && !writing && ready.size === 0) {
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

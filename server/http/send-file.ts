// Streams a stored blob with Content-Length, ETag, Accept-Ranges, 206/416 and HEAD, without
// ever holding the file in memory.
import { createReadStream } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { parseRange } from "./range.ts";

export interface FileToSend {
  path: string;
  size: number;
  /** the blob's sha256: a strong validator */
  etag: string;
  contentType?: string;
}

const READ_CHUNK = 1024 * 1024;

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
  try {
    await pipeline(createReadStream(file.path, { start, end, highWaterMark: READ_CHUNK }), res);
  } catch {
    // The client went away mid-download (or a reset): nothing to answer to.
    res.destroy();
  }
}

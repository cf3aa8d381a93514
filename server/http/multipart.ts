// A streaming multipart/form-data reader (RFC 7578) that hands the bytes of the first file part
// to a sink as they arrive and discards everything else. Memory stays bounded by the chunk size
// plus one boundary, whatever the file size.
import { HttpError } from "./errors.ts";

export function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\/form-data/i.test(contentType)) return undefined;
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

export interface FilePartInfo {
  field: string;
  filename: string;
  contentType: string | undefined;
}

type State = "preamble" | "afterBoundary" | "headers" | "body" | "epilogue";

const CRLF2 = Buffer.from("\r\n\r\n");
const MAX_HEADER_BYTES = 16 * 1024;

/** Text fields beside the file are kept only up to this size each (the portal's CSRF token). */
const MAX_TEXT_FIELD_BYTES = 4096;
/** And only this many of them: a form has a handful; more is a body built to fill memory. */
export const MAX_TEXT_FIELDS = 16;

/**
 * Reads the whole body; calls `write` for each chunk of the first part that has a filename (or
 * is named `file`), in order. Small text parts go to `onField` when given (others are dropped).
 * Returns the file part's info, or undefined when the body had no file part.
 */
export async function readFirstFilePart(
  body: AsyncIterable<Buffer>,
  boundary: string,
  write: (chunk: Buffer) => Promise<void>,
  onField?: (name: string, value: string) => void,
): Promise<FilePartInfo | undefined> {
  // Each delimiter is CRLF--boundary; the first one may come without the CRLF, so pretend it had one.
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let buf: Buffer = Buffer.from("\r\n");
  let state: State = "preamble";
  let file: FilePartInfo | undefined;
  let inFile = false;
  let sawClose = false;
  // the text part being read, when onField wants it
  let text: { name: string; chunks: Buffer[]; size: number } | undefined;
  let textFields = 0;
  const keepText = (chunk: Buffer): void => {
    if (!text) return;
    text.size += chunk.length;
    if (text.size > MAX_TEXT_FIELD_BYTES) throw new HttpError(400, "BAD_MULTIPART", `multipart field "${text.name}" is over ${MAX_TEXT_FIELD_BYTES} bytes`);
    text.chunks.push(Buffer.from(chunk));
  };

  const step = async (): Promise<boolean> => {
    switch (state) {
      case "preamble": {
        const i = buf.indexOf(delimiter);
        if (i < 0) {
          buf = buf.subarray(Math.max(0, buf.length - delimiter.length + 1));
          return false;
        }
        buf = buf.subarray(i + delimiter.length);
        state = "afterBoundary";
        return true;
      }
      case "afterBoundary": {
        if (buf.length < 2) return false;
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          sawClose = true;
          state = "epilogue";
          buf = Buffer.alloc(0);
          return false;
        }
        // transport padding (spaces/tabs) may sit before the CRLF
        const eol = buf.indexOf("\r\n");
        if (eol < 0) {
          if (buf.length > 1024) throw new HttpError(400, "BAD_MULTIPART", "malformed multipart boundary line");
          return false;
        }
        buf = buf.subarray(eol + 2);
        state = "headers";
        return true;
      }
      case "headers": {
        const end = buf.indexOf(CRLF2);
        if (end < 0) {
          // a part with no headers at all starts with the blank line right away
          if (buf.length >= 2 && buf[0] === 0x0d && buf[1] === 0x0a) {
            buf = buf.subarray(2);
            inFile = false;
            text = undefined;
            state = "body";
            return true;
          }
          if (buf.length > MAX_HEADER_BYTES) throw new HttpError(400, "BAD_MULTIPART", "multipart part headers too long");
          return false;
        }
        const info = parsePartHeaders(buf.subarray(0, end).toString("utf8"));
        buf = buf.subarray(end + 4);
        inFile = !file && info !== undefined && (info.filename !== undefined || info.field === "file");
        if (inFile) file = { field: info!.field, filename: info!.filename ?? "", contentType: info!.contentType };
        text = !inFile && onField && info && info.filename === undefined ? { name: info.field, chunks: [], size: 0 } : undefined;
        if (text && ++textFields > MAX_TEXT_FIELDS) throw new HttpError(400, "BAD_MULTIPART", `more than ${MAX_TEXT_FIELDS} text fields`);
        state = "body";
        return true;
      }
      case "body": {
        const i = buf.indexOf(delimiter);
        if (i < 0) {
          // keep a tail that could be the start of a delimiter
          const keep = delimiter.length - 1;
          if (buf.length > keep) {
            const out = buf.subarray(0, buf.length - keep);
            buf = buf.subarray(buf.length - keep);
            if (inFile) await write(out);
            else keepText(out);
          }
          return false;
        }
        if (inFile && i > 0) await write(buf.subarray(0, i));
        if (text) {
          keepText(buf.subarray(0, i));
          onField!(text.name, Buffer.concat(text.chunks).toString("utf8"));
          text = undefined;
        }
        inFile = false;
        buf = buf.subarray(i + delimiter.length);
        state = "afterBoundary";
        return true;
      }
      case "epilogue":
        buf = Buffer.alloc(0);
        return false;
    }
  };

  for await (const chunk of body) {
    // Copy only the small carried-over tail, never the whole stream.
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (await step()) {
      /* keep parsing what is buffered */
    }
  }
  if (!sawClose) throw new HttpError(400, "BAD_MULTIPART", "multipart body ended before its closing boundary");
  return file;
}

function parsePartHeaders(text: string): { field: string; filename: string | undefined; contentType: string | undefined } | undefined {
  let disposition: string | undefined;
  let contentType: string | undefined;
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-disposition") disposition = value;
    else if (name === "content-type") contentType = value;
  }
  if (!disposition) return undefined;
  const field = /;\s*name\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(disposition);
  const filename = /;\s*filename\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(disposition);
  return {
    field: field?.[1] ?? field?.[2] ?? "",
    filename: filename ? (filename[1] ?? filename[2] ?? "") : undefined,
    contentType,
  };
}

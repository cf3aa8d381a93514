// Content-addressed blob files: `<dataDir>/blobs/<sha256>`. An upload streams into
// `<dataDir>/tmp/` while being hashed, and only a verified upload is fsynced and renamed into
// place, so a crash or a rejected upload never leaves a partial blob behind.
import { createHash, randomUUID, type Hash } from "node:crypto";
import { promises as fsp } from "node:fs";
import path from "node:path";

export class UploadTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`upload exceeds the limit of ${limit} bytes`);
  }
}

export interface BlobDigest {
  sha256: string;
  md5: string;
  size: number;
}

export class BlobStore {
  readonly blobDir: string;
  readonly tmpDir: string;

  constructor(dataDir: string) {
    this.blobDir = path.join(dataDir, "blobs");
    this.tmpDir = path.join(dataDir, "tmp");
  }

  /** Creates the folders and drops temp files a crashed process left behind. */
  async init(): Promise<void> {
    await fsp.mkdir(this.blobDir, { recursive: true });
    await fsp.rm(this.tmpDir, { recursive: true, force: true });
    await fsp.mkdir(this.tmpDir, { recursive: true });
  }

  path(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error("not a sha256");
    return path.join(this.blobDir, sha256);
  }

  async begin(maxBytes: number): Promise<BlobWriter> {
    const tmp = path.join(this.tmpDir, `${randomUUID()}.part`);
    const fh = await fsp.open(tmp, "wx");
    return new BlobWriter(this, tmp, fh, maxBytes);
  }

  /** Stores a whole upload from a byte stream; throws UploadTooLarge past maxBytes. */
  async put(chunks: AsyncIterable<Buffer>, maxBytes: number): Promise<{ writer: BlobWriter; digest: BlobDigest }> {
    const writer = await this.begin(maxBytes);
    try {
      for await (const chunk of chunks) await writer.write(chunk);
      return { writer, digest: await writer.finish() };
    } catch (err) {
      await writer.abort();
      throw err;
    }
  }
}

export class BlobWriter {
  private readonly sha256: Hash = createHash("sha256");
  private readonly md5: Hash = createHash("md5");
  private size = 0;
  private digest: BlobDigest | undefined;
  private done = false;

  constructor(
    private readonly store: BlobStore,
    private readonly tmpPath: string,
    private readonly fh: fsp.FileHandle,
    private readonly maxBytes: number,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    this.size += chunk.length;
    if (this.size > this.maxBytes) throw new UploadTooLarge(this.maxBytes);
    this.sha256.update(chunk);
    this.md5.update(chunk);
    let off = 0;
    while (off < chunk.length) {
      const { bytesWritten } = await this.fh.write(chunk, off, chunk.length - off);
      off += bytesWritten;
    }
  }

  /** Flushes the bytes to disk and returns their digests; the blob is not yet visible. */
  async finish(): Promise<BlobDigest> {
    if (this.digest) return this.digest;
    await this.fh.sync();
    await this.fh.close();
    this.digest = { sha256: this.sha256.digest("hex"), md5: this.md5.digest("hex"), size: this.size };
    return this.digest;
  }

  /** Moves the verified bytes into place (a no-op when the same bytes are already stored). */
  async commit(): Promise<BlobDigest> {
    if (!this.digest) throw new Error("commit before finish");
    const final = this.store.path(this.digest.sha256);
    try {
      await fsp.access(final);
      await fsp.rm(this.tmpPath, { force: true });
    } catch {
      await fsp.rename(this.tmpPath, final);
      await syncDir(this.store.blobDir);
    }
    this.done = true;
    return this.digest;
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.fh.close().catch(() => {});
    await fsp.rm(this.tmpPath, { force: true });
  }
}

async function syncDir(dir: string): Promise<void> {
  // The rename is durable only once the directory entry is on disk.
  const fh = await fsp.open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

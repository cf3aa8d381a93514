// The board's flash, as files in one directory: two application slots, the boot state (what
// ESP-IDF keeps in otadata), non-volatile settings (NVS) and the download area.
// Slots are written page by page on purpose: a power cut (SIGKILL) mid-write leaves a torn slot.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export type Slot = "A" | "B";

export function otherSlot(slot: Slot): Slot {
  return slot === "A" ? "B" : "A";
}

export interface BootState {
  active: Slot;
  /** the active slot was installed and is not confirmed yet */
  trial: boolean;
  /** the trial slot has already been booted once: the next boot without confirm reverts */
  trialBooted: boolean;
  /** hash of the update being installed/tried, for the status reports after a reboot */
  updateHash?: string;
  /** the hash the last `check` offered */
  available?: string;
  /** what download.part / download.bin hold: an image hash, or `content:<id>` */
  downloadKey?: string;
  /** download.bin is complete (and matched the hash it was fetched by) */
  downloadComplete?: boolean;
  /** SHA-256 of the complete download.bin */
  downloadHash?: string;
}

export type Nvs = Record<string, string>;

export const FRESH_STATE: BootState = { active: "A", trial: false, trialBooted: false };

/** The areas a write report names: the download area, or a slot being installed. */
export type WriteArea = "download" | "install";

/**
 * Told of every page the firmware writes, right after it is written (the harness's side channel,
 * devices/board/write-probe.ts). A probe may hold the writer there: the next page waits for it.
 */
export interface WriteProbe {
  wrote(area: WriteArea, offset: number, length: number, total: number): Promise<void>;
}

export class Flash {
  /** hears each page written to the download area or a slot (none: nobody listens) */
  probe: WriteProbe | undefined;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  slotPath(slot: Slot): string {
    return join(this.dir, `slot-${slot.toLowerCase()}.bin`);
  }
  get partPath(): string {
    return join(this.dir, "download.part");
  }
  get downloadPath(): string {
    return join(this.dir, "download.bin");
  }

  /** The slot's bytes, or undefined when it was never written (erased). */
  readSlot(slot: Slot): Buffer | undefined {
    const path = this.slotPath(slot);
    return existsSync(path) ? readFileSync(path) : undefined;
  }

  eraseSlot(slot: Slot): void {
    rmSync(this.slotPath(slot), { force: true });
  }

  /** Writes `image` into `slot` page by page, pausing after each page so a power cut can tear it. */
  writeSlot(slot: Slot, image: Buffer, pageSize: number, pauseMs: number, onProgress?: (written: number) => void): Promise<void> {
    const probe = this.probe;
    const afterPage = probe ? (offset: number, length: number) => probe.wrote("install", offset, length, image.length) : undefined;
    return writePaged(this.slotPath(slot), image, pageSize, pauseMs, onProgress, afterPage);
  }

  readState(): BootState {
    return { ...FRESH_STATE, ...this.readJson<Partial<BootState>>("state.json") };
  }
  writeState(state: BootState): void {
    this.writeJson("state.json", state);
  }
  updateState(change: Partial<BootState>): BootState {
    const next = { ...this.readState(), ...change };
    this.writeState(next);
    return next;
  }

  readNvs(): Nvs {
    return this.readJson<Nvs>("nvs.json") ?? {};
  }
  writeNvs(nvs: Nvs): void {
    this.writeJson("nvs.json", nvs);
  }

  /** Size of download.part, 0 when absent. */
  partSize(): number {
    return existsSync(this.partPath) ? statSync(this.partPath).size : 0;
  }

  /** Forgets any download in progress or done. */
  clearDownload(): void {
    rmSync(this.partPath, { force: true });
    rmSync(this.downloadPath, { force: true });
  }

  private readJson<T>(name: string): T | undefined {
    const path = join(this.dir, name);
    if (!existsSync(path)) return undefined;
    try {
      return JSON.parse(readFileSync(path, "utf8")) as T;
    } catch {
      return undefined; // a torn settings file reads as erased, as corrupt NVS would
    }
  }

  // Small metadata files are replaced atomically: a power cut leaves the old or the new one.
  private writeJson(name: string, value: unknown): void {
    const path = join(this.dir, name);
    writeFileSync(`${path}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
  }
}

/** Writes `data` to `path` page by page with a pause after each: a kill in between leaves a prefix. */
export async function writePaged(
  path: string,
  data: Buffer,
  pageSize: number,
  pauseMs: number,
  onProgress?: (written: number) => void,
  afterPage?: (offset: number, length: number) => Promise<void>,
): Promise<void> {
  const file = await open(path, "w");
  try {
    for (let offset = 0; offset < data.length; offset += pageSize) {
      const page = data.subarray(offset, offset + pageSize);
      await file.write(page, 0, page.length, offset);
      await afterPage?.(offset, page.length);
      onProgress?.(offset + page.length);
      if (pauseMs > 0) await sleep(pauseMs);
    }
  } finally {
    await file.close();
  }
}

// One simulated device: the life of a board's firmware in an update, without the board. It
// speaks the device side of the server through the same requests as the virtual board
// (harness/ota/device-client.ts): activation (serial -> CIK), update checks at an interval with
// jitter, the download in Range chunks at a rate cap with an incremental SHA-256 (no image byte is
// kept), and status reports with the CIK, in the order the virtual board reports them.
import { createHash, randomBytes, type Hash } from "node:crypto";
import {
  activateRequest,
  checkRequest,
  downloadRequest,
  errorCodeOf,
  parseCheck,
  parseCik,
  statusRequest,
  type ServerSettings,
  type UpdateState,
} from "../ota/device-client.ts";
import { NetworkError, type HttpPool } from "./http-pool.ts";
import type { FleetState } from "./metrics.ts";
import type { Behaviour, DeviceTiming } from "./spec.ts";

export interface DeviceDeps {
  pool: HttpPool;
  timing: DeviceTiming;
  /** ota-backend firmware id of the fleet's model, vendor and model names for activation */
  firmwareId: string;
  vendor: string;
  model: string;
  secret?: string;
  random: () => number;
  /** resolves after ms, or at once when the fleet stops */
  sleep(ms: number): Promise<void>;
  stopped(): boolean;
  /** ms since the fleet started */
  now(): number;
}

/** What a device runs before the update: a made-up image, so any deployed artifact is new to it. */
export const FACTORY_SHA256 = createHash("sha256").update("otarig simulated device factory image").digest("hex");

/** A failed exchange the device will try again later. */
class Retry extends Error {}

export class SimDevice {
  state: FleetState = "idle";
  running = FACTORY_SHA256;
  /** why the device ended failed, reverted or rejected */
  reason = "";
  /** offsets a dropped download resumed from */
  readonly resumedFrom: number[] = [];
  private settings: ServerSettings;
  private offlineWindow: { from: number; to: number } | undefined;

  constructor(
    readonly serial: string,
    readonly behaviours: ReadonlySet<Behaviour>,
    private readonly d: DeviceDeps,
  ) {
    this.settings = { server: "", serial, firmwareId: d.firmwareId, ...(d.secret ? { secret: d.secret } : {}) };
    if (behaviours.has("offline")) {
      const from = d.random() * d.timing.offlineWithinMs;
      this.offlineWindow = { from, to: from + d.timing.offlineForMs };
    }
  }

  /** Runs until the fleet stops. Never throws: every failure becomes the device's state. */
  async run(): Promise<void> {
    try {
      await this.d.sleep(this.d.random() * this.d.timing.intervalMs); // devices wake spread out, not in one tick
      await this.activate();
      while (!this.d.stopped()) {
        const offered = await this.check();
        if (offered === "rejected") return;
        if (offered && this.state !== "reverted") await this.update(offered);
        if (this.state === "failed" || this.state === "rejected") return;
        await this.d.sleep(this.interval());
      }
    } catch (err) {
      if (this.d.stopped()) return;
      this.state = "failed";
      this.reason = err instanceof Error ? err.message : String(err);
    }
  }

  private interval(): number {
    const t = this.d.timing;
    return t.intervalMs * (1 - t.jitter + 2 * t.jitter * this.d.random());
  }

  /** An offline window that has begun: the device is unreachable until it ends. */
  private async reachable(): Promise<void> {
    const w = this.offlineWindow;
    if (!w || this.d.now() < w.from) return;
    this.offlineWindow = undefined;
    const before = this.state;
    this.state = "offline";
    await this.d.sleep(Math.max(0, w.to - this.d.now()));
    this.state = before;
  }

  private async activate(): Promise<void> {
    while (!this.d.stopped()) {
      await this.reachable();
      try {
        const res = await this.d.pool.text("activate", activateRequest(this.settings, this.d.vendor, this.d.model));
        const cik = parseCik(res.status, res.text);
        // A wrong CIK: the device activated, then presents another one (a corrupt NVS, a cloned image).
        this.settings.cik = this.behaviours.has("wrong_cik") ? randomBytes(20).toString("hex") : cik;
        return;
      } catch {
        // not registered or enabled yet (404/409), or the server is busy: try again at the next interval
      }
      await this.d.sleep(this.interval());
    }
  }

  /** The hash on offer, undefined when up to date (or nothing to offer yet), "rejected" for a refused CIK. */
  private async check(): Promise<string | undefined | "rejected"> {
    await this.reachable();
    let res;
    try {
      res = await this.d.pool.text("check", checkRequest(this.settings, this.running));
    } catch {
      return undefined; // no answer: the next interval
    }
    if (res.status === 200 || res.status === 204) return parseCheck(res.status, res.text);
    if (res.status === 401) {
      this.state = "rejected";
      this.reason = `check: 401 ${errorCodeOf(res.text, "")}`;
      return "rejected";
    }
    return undefined; // 404 FIRMWARE_NOT_UPLOADED, 5xx: the next interval
  }

  private async update(hash: string): Promise<void> {
    const t = this.d.timing;
    this.state = "downloading";
    await this.report(hash, "downloading", "download started");
    const digest = await this.download(hash);
    if (this.d.stopped()) return;
    if (digest !== hash) {
      this.state = "failed";
      this.reason = `sha256 mismatch: expected ${hash}, got ${digest}`;
      await this.report(hash, "failure", `download failed: ${this.reason}`);
      return;
    }
    this.state = "installing";
    await this.report(hash, "installing", "writing slot B");
    await this.d.sleep(t.installMs);
    await this.report(hash, "rebooting", "installed in slot B");
    await this.d.sleep(t.rebootMs);
    // Booted on trial: it runs the new image, not yet confirmed.
    await this.report(hash, "trial", "booted slot B on trial", hash);
    if (this.behaviours.has("never_confirm")) {
      // Never confirmed: the next reset boots the old slot again (a trial revert).
      await this.d.sleep(t.trialMs);
      this.state = "reverted";
      this.reason = "trial boot never confirmed: reverted to slot A";
      await this.report(hash, "failure", this.reason);
      return;
    }
    await this.d.sleep(t.confirmMs);
    this.running = hash;
    this.state = "updated";
    await this.report(hash, "success", "confirmed slot B");
  }

  /**
   * Range requests of `chunkBytes` from where the device is, paced to `rateBytesPerS`; the
   * digest is updated as bytes arrive, so a resume carries on from the exact byte it had.
   */
  private async download(hash: string): Promise<string> {
    const t = this.d.timing;
    const sha = createHash("sha256");
    let offset = 0;
    let size = Infinity;
    let dropAt = this.behaviours.has("drop") ? undefined : Infinity; // chosen once the size is known
    let failures = 0;
    while (offset < size && !this.d.stopped()) {
      await this.reachable();
      this.state = "downloading";
      const started = this.d.now();
      const before = offset;
      const end = Math.min(offset + t.chunkBytes, size) - 1;
      try {
        const got = await this.chunk(hash, sha, offset, end, dropAt ?? Infinity);
        offset = got.offset;
        size = got.size ?? size;
        failures = 0;
        if (dropAt === undefined) dropAt = offset + Math.floor(this.d.random() * Math.max(1, size - offset));
        if (got.dropped) {
          // The link went: the device waits, then resumes with Range from the byte it had.
          dropAt = Infinity;
          this.state = "offline";
          await this.d.sleep(t.dropPauseMs);
          this.resumedFrom.push(offset);
          continue;
        }
      } catch (err) {
        if (!(err instanceof Retry)) throw err;
        if (++failures > t.retries) throw new Error(`download gave up after ${t.retries} retries: ${err.message}`);
        await this.d.sleep(Math.min(250 * 2 ** failures, 5000));
        continue;
      }
      // The rate cap: a chunk of n bytes takes at least n / rate.
      const minMs = ((offset - before) / t.rateBytesPerS) * 1000;
      const left = minMs - (this.d.now() - started);
      if (left > 0) await this.d.sleep(left);
    }
    return sha.digest("hex");
  }

  /** One ranged exchange, from `offset` through `end`; stops at `dropAt` (a lost link). */
  private async chunk(hash: string, sha: Hash, offset: number, end: number, dropAt: number): Promise<{ offset: number; size?: number; dropped: boolean }> {
    const r = downloadRequest(this.settings, hash);
    r.headers = { ...r.headers, range: `bytes=${offset}-${Number.isFinite(end) ? end : ""}` };
    let at = offset;
    let res;
    try {
      res = await this.d.pool.stream("download", r, (data) => {
        const keep = Math.min(data.length, dropAt - at);
        if (keep > 0) sha.update(keep === data.length ? data : data.subarray(0, keep));
        at += Math.max(0, keep);
        return at < dropAt;
      });
    } catch (err) {
      if (err instanceof NetworkError) {
        if (at > offset) return { offset: at, dropped: false }; // what arrived counts; ask for the rest
        throw new Retry(`network error: ${err.message}`);
      }
      throw err;
    }
    if (res.status === 416 || res.status === 404) throw new Error(`download: ${res.status} ${errorCodeOf(res.text, "")}`);
    if (res.status >= 500) throw new Retry(`download: ${res.status}`);
    if (res.status === 401) throw new Error(`download: 401 ${errorCodeOf(res.text, "")}`);
    const range = /bytes\s+(\d+)-\d+\/(\d+)/.exec(String(res.headers["content-range"] ?? ""));
    if (res.status === 206 && (!range || Number(range[1]) !== offset)) throw new Error(`download: server sent ${res.headers["content-range"]}, asked for ${offset}-`);
    if (res.status !== 206 && !(res.status === 200 && offset === 0)) throw new Error(`download: unexpected ${res.status}`);
    const size = range ? Number(range[2]) : Number(res.headers["content-length"]);
    return { offset: at, size, dropped: res.dropped };
  }

  /**
   * Best effort, as on the board: a status the server refuses never stops the update. The same
   * states in the same order as the virtual board (devices/board/firmware.ts), with what it runs.
   */
  private async report(hash: string, state: UpdateState, message: string, running = this.running): Promise<void> {
    if (this.d.stopped()) return;
    const r = statusRequest(this.settings, hash, state, message, running);
    if (!r) return;
    await this.d.pool.text("status", r).catch(() => undefined);
  }
}

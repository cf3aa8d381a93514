// The application the virtual board runs: the `ota> ` shell of docs/virtual-board.md. Commands
// run one at a time, in the order they arrived, each ending with a fresh prompt.
import { existsSync, readFileSync } from "node:fs";
import { sha256, verifyImage } from "../firmware-image.ts";
import type { RunningImage, UpdateOutcome } from "./bootloader.ts";
import { boot } from "./bootloader.ts";
import type { BoardConfig, MessageKey, SettingKey } from "./config.ts";
import { SETTING_KEYS, format } from "./config.ts";
import type { Console } from "./console.ts";
import { DigestMismatch, downloadImage, type DownloadOptions } from "./download.ts";
import type { Flash } from "./flash.ts";
import { otherSlot } from "./flash.ts";
import type { ServerSettings, UpdateState } from "../../harness/ota/device-client.ts";
import { activate, checkForUpdate, networkReason, otaHeaders, reportStatus, url } from "../../harness/ota/device-client.ts";

/** Where an image comes from: what downloadImage needs besides timing. */
type DownloadSource = Pick<DownloadOptions, "url" | "headers" | "key" | "expectedSha256">;

/** `crash [kind]`: the lines a dying firmware prints before it resets (ESP-IDF's formats). */
const CRASH_BANNERS: Record<string, string[]> = {
  panic: [
    "Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.",
    "Core  0 register dump:",
    "PC      : 0x400d1a2c  PS      : 0x00060430  A0      : 0x800d0f5e  A1      : 0x3ffb1f40",
    "EXCVADDR: 0x00000000",
    "Backtrace: 0x400d1a2c:0x3ffb1f40 0x400d0f5b:0x3ffb1f60 0x40088a1d:0x3ffb1f80",
  ],
  watchdog: [
    "E (15000) task_wdt: Task watchdog got triggered. The following tasks did not reset the watchdog in time:",
    "E (15000) task_wdt:  - IDLE (CPU 0)",
    "E (15000) task_wdt: Tasks currently running:",
    "E (15000) task_wdt: CPU 0: ota_task",
    "abort() was called at PC 0x400d6f0b on core 0",
  ],
  assert: ["assert failed: ota_write ota.c:212 (len <= remaining)", "Backtrace: 0x40081f2e:0x3ffb1d60 0x40087a3d:0x3ffb1d80"],
};

/** A command's failure: printed as `error: <message>`. */
class CommandError extends Error {}

export class Firmware {
  private running: RunningImage | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly flash: Flash,
    private readonly config: BoardConfig,
    private readonly serial: string,
    private readonly console: Console,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  /** Power-on: boot, then serve commands. */
  start(): Promise<void> {
    return this.enqueue(() => this.bootSequence());
  }

  /** A command line from the console. */
  onLine(line: string): void {
    void this.enqueue(() => {
      this.console.echo(line);
      return this.run(line);
    });
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(task).catch((err: unknown) => this.log(`internal error: ${err instanceof Error ? err.stack : String(err)}`));
    return this.queue;
  }

  private say(key: MessageKey, fields: Record<string, string | number> = {}): void {
    this.console.print(format(this.config.messages[key], fields));
  }

  private async bootSequence(): Promise<void> {
    const result = boot(this.flash, this.config, (line) => this.console.print(line));
    this.running = result.running;
    this.console.deaf = !this.running;
    if (!this.running) return; // nothing to run: no prompt, as on a bricked board
    if (result.outcome) await this.reportOutcome(result.outcome);
    this.console.prompt();
  }

  // The app reports what the bootloader did with the update it was trying.
  private async reportOutcome(outcome: UpdateOutcome): Promise<void> {
    if (!outcome.hash) return;
    if (outcome.kind === "failed") await this.report(outcome.hash, "failure", outcome.message);
    else await this.report(outcome.hash, "trial", `booted slot ${this.running?.slot} on trial`);
  }

  private async run(line: string): Promise<void> {
    if (!this.running) return;
    const [command = "", ...args] = line.trim().split(/\s+/);
    let reboot = false;
    try {
      switch (command) {
        case "":
          break;
        case "set":
          this.set(args);
          break;
        case "activate":
          await this.activate();
          break;
        case "check":
          await this.check();
          break;
        case "download":
          await this.download(args[0]);
          break;
        case "install":
          await this.install();
          reboot = true;
          break;
        case "confirm":
          await this.confirm();
          break;
        case "status":
          this.status();
          break;
        case "reboot":
          reboot = true;
          break;
        case "crash": {
          // `crash <kind> <ms>`: the shell answers at once and the crash comes later, as from a
          // background task (the next commands wait for it, as they would on the dead board).
          const afterMs = Number(args[1] ?? 0);
          if (afterMs > 0) {
            this.console.prompt();
            await new Promise((r) => setTimeout(r, afterMs));
          }
          this.crash(args[0]);
          await this.bootSequence();
          return;
        }
        default:
          this.say("unknown_command", { command: line.trim() });
      }
    } catch (err) {
      // A bug or an I/O error still ends the command with an error line and a prompt.
      if (!(err instanceof CommandError)) this.log(`internal error: ${err instanceof Error ? err.stack : String(err)}`);
      this.say("error", { message: err instanceof CommandError ? err.message : `internal error: ${String(err)}` });
    }
    if (reboot) {
      this.say("rebooting");
      await this.bootSequence();
    } else {
      this.console.prompt();
    }
  }

  // --- crash ----------------------------------------------------------------------------------

  /**
   * What firmware prints when it dies (an ESP-IDF panic, a FreeRTOS assert, a task watchdog),
   * then the reset it does after: for tests of fatal-pattern detection. No prompt in between.
   */
  private crash(kind = "panic"): void {
    const banner = CRASH_BANNERS[kind] ?? CRASH_BANNERS.panic!;
    for (const line of banner) this.console.print(line);
    this.console.print("Rebooting...");
  }

  // --- settings -------------------------------------------------------------------------------

  private setting(key: SettingKey | "cik"): string | undefined {
    const nvs = this.flash.readNvs();
    return nvs[key] ?? (key === "cik" ? undefined : this.config.defaultSettings[key]);
  }

  private set(args: string[]): void {
    const [key, ...rest] = args;
    if (!key || rest.length === 0) throw new CommandError("usage: set <key> <value>");
    if (!(SETTING_KEYS as readonly string[]).includes(key)) throw new CommandError(`unknown setting '${key}' (one of ${SETTING_KEYS.join(", ")})`);
    this.flash.writeNvs({ ...this.flash.readNvs(), [key]: rest.join(" ") });
    this.say("configured", { key });
  }

  /** Server coordinates, or undefined when no server is set (status reports are then skipped). */
  private serverSettings(): ServerSettings | undefined {
    const server = this.setting("server");
    if (!server) return undefined;
    const s: ServerSettings = { server, serial: this.serial };
    const firmwareId = this.setting("firmware_id");
    const secret = this.setting("secret");
    const cik = this.setting("cik");
    if (firmwareId) s.firmwareId = firmwareId;
    if (secret) s.secret = secret;
    if (cik) s.cik = cik;
    return s;
  }

  private requireServer(what: string): ServerSettings {
    const s = this.serverSettings();
    if (!s) throw new CommandError(`${what}: server not set (set server <url>)`);
    return s;
  }

  private async report(hash: string, state: UpdateState, message: string): Promise<void> {
    const s = this.serverSettings();
    if (s) await reportStatus(s, hash, state, message, this.running?.sha256);
  }

  // --- commands -------------------------------------------------------------------------------

  private async activate(): Promise<void> {
    const s = this.requireServer("activation failed");
    const vendor = this.setting("vendor");
    const model = this.setting("model");
    if (!vendor || !model) throw new CommandError("activation failed: vendor and model must be set");
    try {
      const cik = await activate(s, vendor, model, this.config.httpTimeoutMs);
      this.flash.writeNvs({ ...this.flash.readNvs(), cik }); // kept, never printed
    } catch (err) {
      throw new CommandError(`activation failed: ${networkReason(err)}`);
    }
    this.say("activated");
  }

  private async check(): Promise<void> {
    const s = this.requireServer("check failed");
    let hash: string | undefined;
    try {
      hash = await checkForUpdate(s, this.running!.sha256, this.config.httpTimeoutMs);
    } catch (err) {
      throw new CommandError(`check failed: ${networkReason(err)}`);
    }
    if (hash) {
      this.flash.updateState({ available: hash });
      this.say("update_available", { hash });
    } else {
      this.flash.updateState({ available: undefined });
      this.say("up_to_date");
    }
  }

  /** `download [<hash>]` (ota-backend) or `download content=<id>` (provisioning content, with the CIK). */
  private async download(arg: string | undefined): Promise<void> {
    const s = this.requireServer("download failed");
    const source = arg?.startsWith("content=") ? this.contentSource(s, arg.slice("content=".length)) : this.hashSource(s, arg);
    const reportHash = source.expectedSha256;
    if (reportHash) await this.report(reportHash, "downloading", "download started");
    let lastDecade = -1;
    let hash: string;
    try {
      hash = await downloadImage({
        flash: this.flash,
        ...source,
        pageSize: this.config.downloadChunkSize,
        pageDelayMs: this.config.downloadChunkDelayMs,
        retries: this.config.downloadRetries,
        stallTimeoutMs: this.config.httpTimeoutMs,
        onResume: (offset) => this.say("download_resume", { offset }),
        onProgress: (done, total) => {
          const percent = Number.isFinite(total) && total > 0 ? Math.floor((done * 100) / total) : 0;
          const decade = Math.floor(percent / 10);
          if (decade <= lastDecade) return;
          lastDecade = decade;
          this.say("download_progress", { percent, done, total: Number.isFinite(total) ? total : "?" });
        },
        onRetry: (err, attempt) => this.log(`download: ${networkReason(err)}, retry ${attempt}`),
      });
    } catch (err) {
      const reason = err instanceof DigestMismatch ? err.message : networkReason(err);
      if (reportHash) await this.report(reportHash, "failure", `download failed: ${reason}`);
      throw new CommandError(`download failed: ${reason}`);
    }
    this.say("download_done", { sha256: hash });
  }

  private hashSource(s: ServerSettings, requested: string | undefined): DownloadSource {
    const hash = (requested ?? this.flash.readState().available)?.toLowerCase();
    if (!hash) throw new CommandError("download failed: no update known (run check first)");
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new CommandError(`download failed: not a sha256 hash: ${hash}`);
    return { url: url(s, `/v1/download/${hash}`), headers: otaHeaders(s), key: hash, expectedSha256: hash };
  }

  // Seed 002: content by id (e.g. firmware_v2), authorised by the CIK. No hash is known up
  // front, so the image header's own digest (checked at install) is what vouches for it.
  private contentSource(s: ServerSettings, id: string): DownloadSource {
    const vendor = this.setting("vendor");
    const model = this.setting("model");
    if (!id) throw new CommandError("download failed: usage: download content=<id>");
    if (!s.cik) throw new CommandError("download failed: not activated (run activate first)");
    if (!vendor || !model) throw new CommandError("download failed: vendor and model must be set");
    const query = new URLSearchParams({ vendor, model, id }).toString();
    return { url: url(s, `/provision/download?${query}`), headers: { "x-exosite-cik": s.cik }, key: `content:${vendor}/${model}/${id}` };
  }

  private async install(): Promise<void> {
    const state = this.flash.readState();
    const hash = state.downloadHash;
    const refuse = async (reason: string): Promise<never> => {
      if (hash) await this.report(hash, "failure", `install refused: ${reason}`);
      throw new CommandError(`install refused: ${reason}`);
    };
    if (!hash || !state.downloadComplete || !existsSync(this.flash.downloadPath)) {
      throw new CommandError("install refused: no verified download (run download first)");
    }
    const image = readFileSync(this.flash.downloadPath);
    const actual = sha256(image);
    if (actual !== hash) {
      this.flash.clearDownload();
      await refuse(`sha256 mismatch: expected ${hash}, got ${actual}`);
    }
    const verified = verifyImage(image);
    if (!verified.ok) await refuse(verified.reason);

    const unsafe = this.setting("updater") === "unsafe";
    const target = unsafe ? this.running!.slot : otherSlot(this.running!.slot);
    await this.report(hash, "installing", `writing slot ${target}`);
    // Safe: erase first, then point the boot state at the slot on trial, then write: a power cut
    // at any point leaves a slot the bootloader will find torn (and fall back from). Unsafe: the
    // running slot is overwritten in place, so a cut mid-write leaves nothing bootable.
    if (!unsafe) {
      this.flash.eraseSlot(target);
      this.flash.updateState({ active: target, trial: true, trialBooted: false, updateHash: hash, available: undefined });
    }
    let lastDecade = -1;
    await this.flash.writeSlot(target, image, this.config.flashChunkSize, this.config.flashChunkDelayMs, (written) => {
      const percent = Math.floor((written * 100) / image.length);
      if (Math.floor(percent / 10) <= lastDecade) return;
      lastDecade = Math.floor(percent / 10);
      this.say("install_progress", { percent });
    });
    this.flash.clearDownload();
    this.flash.updateState({ downloadKey: undefined, downloadHash: undefined, downloadComplete: undefined, ...(unsafe ? { available: undefined } : {}) });
    this.say("install_done", { slot: target });
    await this.report(hash, "rebooting", `installed in slot ${target}`);
  }

  private async confirm(): Promise<void> {
    const running = this.running!;
    if (running.trial) {
      const { updateHash } = this.flash.updateState({ trial: false, trialBooted: false });
      running.trial = false;
      if (updateHash) await this.report(updateHash, "success", `confirmed slot ${running.slot}`);
    }
    this.say("confirmed", { slot: running.slot });
  }

  private status(): void {
    const r = this.running!;
    this.say("status", { slot: r.slot, version: r.version, sha256: r.sha256, trial: r.trial ? 1 : 0, activated: this.setting("cik") ? "yes" : "no" });
  }
}

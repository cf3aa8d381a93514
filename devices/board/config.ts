// The virtual firmware's build-time configuration: console formats and timing. Defaults are the
// protocol of docs/virtual-board.md; a rig can override them (`virtual: { config: … }`) so that a
// board profile has something to differ in.
import { readFileSync } from "node:fs";
import { z } from "zod";

/** Console message templates; `{name}` is replaced by the value of that field. */
export const DEFAULT_MESSAGES = {
  boot_header: "[boot] otarig virtual bootloader",
  boot_checking: "[boot] checking slot {slot}",
  boot_invalid_fallback: "[boot] slot {slot} invalid: {reason}, falling back to slot {other}",
  boot_invalid: "[boot] slot {slot} invalid: {reason}",
  boot_revert: "[boot] slot {slot} was not confirmed, reverting to slot {other}",
  boot_none: "[boot] no bootable image",
  banner: "boot: slot={slot} version={version} sha256={sha256} trial={trial}",
  configured: "ok {key}",
  activated: "activation ok",
  update_available: "update available hash={hash}",
  up_to_date: "up to date",
  download_resume: "download resume offset={offset}",
  download_progress: "download progress {percent}% ({done}/{total})",
  download_done: "download done sha256={sha256}",
  install_progress: "install progress {percent}%",
  install_done: "install done slot={slot}",
  rebooting: "rebooting",
  confirmed: "confirmed slot={slot}",
  status: "status slot={slot} version={version} sha256={sha256} trial={trial} activated={activated}",
  error: "error: {message}",
  unknown_command: "error: unknown command '{command}'",
} as const;

export type MessageKey = keyof typeof DEFAULT_MESSAGES;

/**
 * Settings the shell's `set` accepts; kept in nvs.json. `updater: unsafe` makes `install` write
 * the running slot in place (no second slot, no trial): the flaw a power-cut sweep should find.
 */
export const SETTING_KEYS = ["server", "firmware_id", "secret", "vendor", "model", "updater"] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

const settingsSchema = z.object(Object.fromEntries(SETTING_KEYS.map((k) => [k, z.string().optional()])) as Record<SettingKey, z.ZodOptional<z.ZodString>>);

const configSchema = z.object({
  prompt: z.string().default("ota> "),
  /** what ends each line the board prints */
  line_ending: z.string().default("\n"),
  /** echo each command line back, as an interactive shell does */
  echo: z.boolean().default(true),
  messages: z.record(z.string(), z.string()).default({}),
  /** flash page size and the pause after each page: what makes a power cut tear a slot */
  flash_chunk_size: z.number().int().positive().default(16 * 1024),
  flash_chunk_delay_ms: z.number().nonnegative().default(10),
  download_chunk_size: z.number().int().positive().default(16 * 1024),
  download_chunk_delay_ms: z.number().nonnegative().default(10),
  /** resumes after a network error before a download fails */
  download_retries: z.number().int().nonnegative().default(3),
  /** abort an HTTP exchange that has sent nothing for this long */
  http_timeout_ms: z.number().int().positive().default(15_000),
  /** factory defaults for settings (nvs.json wins); top-level server/vendor/… keys count too */
  settings: settingsSchema.default({}),
  ...settingsSchema.shape,
});

export interface BoardConfig {
  prompt: string;
  lineEnding: string;
  echo: boolean;
  messages: Record<MessageKey, string>;
  flashChunkSize: number;
  flashChunkDelayMs: number;
  downloadChunkSize: number;
  downloadChunkDelayMs: number;
  downloadRetries: number;
  httpTimeoutMs: number;
  defaultSettings: Partial<Record<SettingKey, string>>;
}

/** Parses a config object (from --config); throws with every problem listed. */
export function parseConfig(raw: unknown, warn: (msg: string) => void = () => {}): BoardConfig {
  const c = configSchema.parse(raw ?? {});
  const known = new Set(Object.keys(configSchema.shape));
  for (const key of Object.keys((raw ?? {}) as object)) if (!known.has(key)) warn(`config: ignoring unknown key '${key}'`);
  const messages: Record<string, string> = { ...DEFAULT_MESSAGES };
  for (const [key, template] of Object.entries(c.messages)) {
    if (key in DEFAULT_MESSAGES) messages[key] = template;
    else warn(`config: ignoring unknown message '${key}'`);
  }
  const defaultSettings: Partial<Record<SettingKey, string>> = { ...c.settings };
  for (const key of SETTING_KEYS) if (c[key] !== undefined) defaultSettings[key] = c[key];
  return {
    prompt: c.prompt,
    lineEnding: c.line_ending,
    echo: c.echo,
    messages: messages as Record<MessageKey, string>,
    flashChunkSize: c.flash_chunk_size,
    flashChunkDelayMs: c.flash_chunk_delay_ms,
    downloadChunkSize: c.download_chunk_size,
    downloadChunkDelayMs: c.download_chunk_delay_ms,
    downloadRetries: c.download_retries,
    httpTimeoutMs: c.http_timeout_ms,
    defaultSettings,
  };
}

export function loadConfig(file: string | undefined, warn?: (msg: string) => void): BoardConfig {
  if (!file) return parseConfig({}, warn);
  return parseConfig(JSON.parse(readFileSync(file, "utf8")), warn);
}

/** Fills `{name}` placeholders; unknown names stay as written so a typo is visible. */
export function format(template: string, fields: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in fields ? String(fields[name]) : whole));
}

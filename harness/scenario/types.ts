// The typed model the loader produces from scenario, rig and profile files. Plain objects:
// everything past the loader works on these, never on YAML.
import type { SourcePosition } from "../core/errors.ts";

export type ServerMode = "auto" | "container" | "process" | "url";

export interface ServerSpec {
  mode: ServerMode;
  /** mode url: the base URL of a server that is already running */
  url?: string;
  /** a user's own server image (container mode) */
  image?: string;
  /** port the server listens on inside its container */
  port?: number;
  env?: Record<string, string>;
  /** readiness: a log regex (`log: …`) or an HTTP path (`http: /healthz`) */
  wait?: { log?: string; http?: string };
}

export interface Step {
  /** step name as written: "expect", "device.check", … */
  name: string;
  /** the step's parameters, not yet interpolated (${…} is resolved when the step runs) */
  params: unknown;
  /** optional human label (`name:` sibling key) */
  label?: string;
  timeoutMs?: number;
  /** where the step starts in its file */
  pos: SourcePosition;
  /** nested steps of `parallel` / `repeat` blocks */
  children?: Step[][];
}

export interface Scenario {
  file: string;
  name: string;
  description?: string;
  rigFile: string;
  boards: string[];
  server: ServerSpec;
  vars: Record<string, string>;
  timeoutMs: number;
  steps: Step[];
}

export interface ConsoleSpec {
  /** serial port path; absent for virtual boards (the harness makes a PTY pair) */
  port?: string;
  baud: number;
  lineEnding: string;
  reconnectTimeoutMs: number;
}

export type PowerSpec = { relay: string; channel: number } | { virtual: true };

export type ResetSpec =
  | { relay: string; channel: number; pulseMs: number }
  | { method: "dtr-rts"; sequence: string | DtrRtsStep[] }
  | { command: string[]; timeoutMs: number }
  | { virtual: true };

export interface DtrRtsStep {
  dtr?: boolean;
  rts?: boolean;
  delayMs?: number;
}

export interface FlashSpec {
  command: string[];
  timeoutMs: number;
  /** regex with a `percent` (0–100) or `done`/`total` named group */
  progress?: string;
  sharePort: boolean;
  /** working directory of the command (the rig file's directory) */
  cwd: string;
}

export interface VirtualBoardSpec {
  /** extra settings for the virtual firmware (banner/prompt formats, vendor/model, …) */
  config: Record<string, unknown>;
}

export interface BoardSpec {
  name: string;
  serialNumber: string;
  /** absolute path of the board profile */
  profile: string;
  console: ConsoleSpec;
  virtual?: VirtualBoardSpec;
  power?: PowerSpec;
  reset?: ResetSpec;
  flash?: FlashSpec;
  /** free-form fields the rig adds (readable as ${boards.<name>.<field>}) */
  extra: Record<string, string>;
  pos: SourcePosition;
}

export type RelaySpec =
  | { type: "lcus"; port: string; channels: number; baud: number }
  | { type: "serial-text"; port: string; baud: number; on: string; off: string; channels: number }
  | { type: "command"; on: string[]; off: string[]; timeoutMs: number; channels: number }
  | { type: "virtual"; channels: number };

export interface RigSpec {
  file: string;
  name: string;
  lockDir?: string;
  boards: Record<string, BoardSpec>;
  relays: Record<string, RelaySpec & { name: string }>;
}

/** The device.* actions a profile can fill in. */
export const DEVICE_ACTIONS = ["configure", "activate", "check", "download", "install", "confirm", "reboot", "status"] as const;
export type DeviceAction = (typeof DEVICE_ACTIONS)[number];

/** Result patterns a profile can fill in (regex source strings). */
export const PROFILE_PATTERNS = [
  "booted",
  "configured",
  "activated",
  "update_available",
  "up_to_date",
  "download_progress",
  "download_done",
  "install_done",
  "confirmed",
  "status",
  "error",
] as const;
export type ProfilePattern = (typeof PROFILE_PATTERNS)[number];

export interface BoardProfile {
  file: string;
  name: string;
  /** regex source of the shell prompt (may have no trailing newline) */
  prompt?: string;
  lineEnding: string;
  /** command templates; `{key}` / `{value}` in configure, `{arg}` elsewhere */
  commands: Partial<Record<DeviceAction, string>>;
  patterns: Partial<Record<ProfilePattern, string>>;
}

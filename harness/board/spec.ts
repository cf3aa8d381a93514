// The board layer's own description of a rig: where each board's console, power, reset and
// flash are (labgrid's "resources"). The rig loader produces these; the drivers read them and
// know nothing of scenarios.
import type { SourcePosition } from "../core/errors.ts";

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

export interface QemuBoardSpec {
  /** guest RAM in MiB */
  memoryMb: number;
  /** guest pause per 16 KiB flash page written, in µs (the window a power cut tears a slot in) */
  flashDelayUs: number;
  /** disk write limit in bytes/s (QEMU throttling), 0 for none */
  diskWriteBps: number;
}

export interface BoardSpec {
  name: string;
  serialNumber: string;
  /** absolute path of the board profile */
  profile: string;
  console: ConsoleSpec;
  virtual?: VirtualBoardSpec;
  /** a Linux guest under QEMU, managed by the harness like a virtual board (harness/board/qemu/) */
  qemu?: QemuBoardSpec;
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

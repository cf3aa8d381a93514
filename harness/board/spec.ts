// The board layer's own description of a rig: where each board's console, power, reset and
// flash are (labgrid's "resources"). The rig loader produces these; the drivers read them and
// know nothing of scenarios.
import type { SourcePosition } from "../core/errors.ts";

export interface ConsoleSpec {
  /** serial port path; absent for virtual boards (the harness makes a PTY pair) */
  port?: string;
  /** a console exported over the network: rfc2217://host:port or tcp://host:port (in place of `port`) */
  url?: string;
  baud: number;
  /** DTR/RTS set after each open; hupcl: drop them on close (see docs/rigs.md, "Modem lines") */
  dtr?: boolean;
  rts?: boolean;
  hupcl?: boolean;
  /** what ends a sent line on this port; absent: the board profile's */
  lineEnding?: string;
  reconnectTimeoutMs: number;
}

export type PowerSpec = { relay: string; channel: number } | { virtual: true };

export type ResetSpec =
  | { relay: string; channel: number; pulseMs: number }
  | { method: "dtr-rts"; sequence: string | DtrRtsStep[] }
  | { command: string[]; timeoutMs: number; killGraceMs?: number }
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
  /** SIGTERM -> SIGKILL grace when the flasher is stopped (default 5 s) */
  killGraceMs?: number;
}

export interface VirtualBoardSpec {
  /** extra settings for the virtual firmware (banner/prompt formats, vendor/model, …) */
  config: Record<string, unknown>;
  /** runs in its own network namespace, reaching the runner only through a veth pair */
  isolated?: boolean;
}

/** The rig's `network:`: where its boards reach this runner (harness/board/network/). */
export interface NetworkSpec {
  /** "auto", an IPv4/IPv6 address, or an interface name */
  address: string;
  /** the boards' proxies take ports from this range (inclusive) */
  ports?: { first: number; last: number };
  /** where `address` / `ports` were written, for messages about this machine */
  pos: { address?: SourcePosition; ports?: SourcePosition };
}

export interface LabgridPlaceSpec {
  /** a place by name, or any place whose tags match (reserved through the coordinator) */
  place?: string;
  tags?: Record<string, string>;
  /** host:port of the coordinator; default LG_COORDINATOR */
  coordinator?: string;
  /** labgrid-client to run; default `labgrid-client` on PATH */
  client: string;
  /** LG_USERNAME the place is held under (people see `<host>/<user>` as its holder) */
  user: string;
  /** resource names in the place: the serial port (default: the only one) and power port (`-n`) */
  consoleResource?: string;
  powerResource?: string;
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
  /** the board is a place of a labgrid lab (harness/lab/labgrid/) */
  labgrid?: LabgridPlaceSpec;
  /** console patterns that mean this board died (added to its profile's `fatal`) */
  fatal?: string[];
  /** free-form fields the rig adds (readable as ${boards.<name>.<field>}) */
  extra: Record<string, string>;
  pos: SourcePosition;
}

export type RelaySpec =
  | { type: "lcus"; port: string; channels: number; baud: number }
  | { type: "serial-text"; port: string; baud: number; on: string; off: string; channels: number }
  | { type: "command"; on: string[]; off: string[]; timeoutMs: number; channels: number; killGraceMs?: number }
  | { type: "virtual"; channels: number };

export interface RigSpec {
  file: string;
  name: string;
  lockDir?: string;
  network?: NetworkSpec;
  boards: Record<string, BoardSpec>;
  relays: Record<string, RelaySpec & { name: string }>;
}

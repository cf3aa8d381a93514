// The typed model the loader produces from scenario, rig and profile files. Plain objects:
// everything past the loader works on these, never on YAML.
import type { SourcePosition } from "../core/errors.ts";

// How a scenario wants its OTA server is the server layer's own vocabulary.
import type { ServerSpec } from "../server/types.ts";
export type { ServerMode, ServerSpec } from "../server/types.ts";

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
  /** fatal patterns the scenario adds to its boards' profiles and rig */
  fatal: string[];
  /** fatal lines the scenario provokes on purpose: a line matching one of these does not fail the run */
  expectedFatal: string[];
  /** names of environment variables whose values are secret (besides names that look secret) */
  secrets: string[];
}

// What a rig file describes (boards, relays) is the board layer's own vocabulary.
export type {
  BoardSpec,
  ConsoleSpec,
  DtrRtsStep,
  FlashSpec,
  NetworkSpec,
  PowerSpec,
  QemuBoardSpec,
  RelaySpec,
  ResetSpec,
  RigSpec,
  VirtualBoardSpec,
} from "../board/spec.ts";

/** The device.* actions a profile can fill in. */
export const DEVICE_ACTIONS = ["configure", "activate", "check", "download", "install", "confirm", "reboot", "status"] as const;
export type DeviceAction = (typeof DEVICE_ACTIONS)[number];

/** Result patterns a profile can fill in (regex source strings). */
export const PROFILE_PATTERNS = [
  "booted",
  /** the bootloader found nothing it can boot (a sweep counts the point bricked at once) */
  "boot_failed",
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
  /** regex sources of lines that mean the firmware died */
  fatal: string[];
}

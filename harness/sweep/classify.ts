// What a board booted after a power cut: `old` (the base image, intact), `new` (the target,
// intact), `bricked` (no boot within the window, a fatal line, or a boot of an image that is
// neither) or `other` (a boot the profile's boot line cannot tell apart). Reads the console
// itself from the moment power returns; knows boards and images, not scenarios.
import type { ConsoleProtocol } from "../board/types.ts";

export type BootOutcome = "old" | "new" | "bricked" | "other";

export interface BootRules {
  /** the profile's boot line; its (?<sha256>…) or (?<hash>…) group names the running image */
  booted: RegExp;
  /** lines that mean the firmware died */
  fatal?: RegExp;
  /** the bootloader's "nothing to boot" line, where the profile has one (else: the window runs out) */
  bootFailed?: RegExp;
  /** SHA-256 of the base and target images */
  base: string;
  target: string;
}

export interface Classification {
  outcome: BootOutcome;
  detail: string;
}

export interface BootWatch {
  /** the power is back: lines from now on are this boot's */
  powerReturned(): void;
  /** waits (at most `windowMs` from power return) for the verdict */
  outcome(windowMs: number, signal?: AbortSignal): Promise<Classification>;
  stop(): void;
}

/** Starts listening now (before the power returns), so no line of the new boot is missed. */
export function watchBoot(console: ConsoleProtocol, rules: BootRules): BootWatch {
  let powered = false;
  let verdict: Classification | undefined;
  let decided: (c: Classification) => void = () => {};
  const lines: string[] = [];
  const stop = console.onLine((line) => {
    if (!powered || verdict) return;
    lines.push(line.text);
    const v = judge(line.text, rules);
    if (v) decided((verdict = v));
  });
  return {
    powerReturned() {
      powered = true;
    },
    async outcome(windowMs, signal) {
      if (verdict) return verdict;
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const result = await new Promise<Classification | undefined>((resolve) => {
        decided = resolve;
        timer = setTimeout(() => resolve(undefined), windowMs);
        onAbort = () => resolve(undefined);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
      stop();
      if (result) return result;
      const tail = lines.slice(-3).map((l) => `"${l}"`).join(", ");
      return { outcome: "bricked", detail: `no boot within ${windowMs / 1000}s of power returning${tail ? `; last lines: ${tail}` : ": the board printed nothing"}` };
    },
    stop,
  };
}

/** One line's verdict, or undefined when it says nothing yet. */
export function judge(text: string, rules: BootRules): Classification | undefined {
  if (rules.fatal?.test(text)) return { outcome: "bricked", detail: `fatal line: "${text}"` };
  if (rules.bootFailed?.test(text)) return { outcome: "bricked", detail: `the bootloader found nothing to boot: "${text}"` };
  const m = rules.booted.exec(text);
  if (!m) return undefined;
  const groups = m.groups ?? {};
  const hash = (groups.sha256 ?? groups.hash)?.toLowerCase();
  const version = groups.version ? ` version ${groups.version}` : "";
  if (hash === undefined) return { outcome: "other", detail: `booted${version}, but the boot line names no image hash to tell base from target: "${text}"` };
  if (hash === rules.base) return { outcome: "old", detail: `booted the base image${version}` };
  if (hash === rules.target) return { outcome: "new", detail: `booted the target image${version}` };
  return { outcome: "bricked", detail: `booted an image that is neither base nor target${version} (sha256 ${hash.slice(0, 12)}…)` };
}

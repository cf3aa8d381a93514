// Runs a board profile's command and waits for one of its result patterns. Every device.* step
// is this plus a verdict, so a new firmware needs a profile, not code.
import { ScenarioError, TestFailure } from "../core/errors.ts";
import type { DeviceAction, ProfilePattern } from "../scenario/types.ts";
import type { BoardHandle } from "./board-handle.ts";
import type { StepContext } from "./context.ts";
import { anyOf, compilePattern } from "./patterns.ts";
import { positionAfter } from "../board/console/position.ts";

export interface ActionResult {
  outcome: ProfilePattern;
  line: string;
  groups: Record<string, string>;
}

const PROMPT_TRIES = 3;
const PROMPT_WAIT_MS = 1500;

export async function runDeviceAction(
  ctx: StepContext,
  boardName: string,
  action: DeviceAction,
  outcomes: ProfilePattern[],
  withinMs: number,
  placeholders: Record<string, string> = {},
): Promise<ActionResult> {
  const handle = ctx.handle(boardName);
  const { profile, board } = handle;
  const template = profile.commands[action];
  if (template === undefined) {
    throw new ScenarioError(`board profile "${profile.name}" (${profile.file}) has no command for device.${action}`, ctx.step.pos);
  }
  const watched = [...new Set<ProfilePattern>([...outcomes, "error"])].filter((k) => profile.patterns[k] !== undefined);
  if (!watched.some((k) => outcomes.includes(k))) {
    throw new ScenarioError(
      `board profile "${profile.name}" has none of the patterns device.${action} needs: ${outcomes.join(", ")}`,
      ctx.step.pos,
    );
  }
  ctx.acted(boardName);
  await ensurePrompt(handle);
  const command = template.replace(/\{(\w+)\}/g, (whole, key: string) => placeholders[key] ?? whole);
  const since = board.console.mark();
  const stopWatch = action === "download" ? watchProgress(ctx, handle, boardName) : () => {};
  // A stopped step (a timeout, a sweep's power cut) reports no more progress, even while its wait winds down.
  const stopProgress = () => {
    stopWatch();
    ctx.signal.removeEventListener("abort", stopProgress);
  };
  ctx.signal.addEventListener("abort", stopProgress, { once: true });
  try {
    await board.console.send(command, { lineEnding: lineEndingOf(handle) });
    const m = await board.console.expect(anyOf(watched.map((k) => profile.patterns[k]!)), {
      withinMs,
      since,
      description: `the result of "${command}": ${watched.join(" | ")}`, // the console names the board
    });
    ctx.lastMatch.set(boardName, m.line.seq);
    ctx.windows.consumed(boardName, positionAfter(m.line));
    for (const key of watched) {
      const single = compilePattern(profile.patterns[key]!).exec(m.line.text);
      if (single) return { outcome: key, line: m.line.text, groups: { ...single.groups } };
    }
    return { outcome: watched[0]!, line: m.line.text, groups: {} };
  } finally {
    stopProgress();
  }
}

/** Fails with the board's error line unless the outcome is one the step wanted. */
export function requireOutcome(result: ActionResult, wanted: ProfilePattern[], what: string, tail: string[]): void {
  if (wanted.includes(result.outcome)) return;
  throw new TestFailure(`${what}: expected ${wanted.join(" or ")}, the board answered ${result.outcome}: ${result.line}`, {
    consoleTail: tail,
  });
}

/** The line ending of sends: the rig's console.line_ending when it sets one (the port's need), else the profile's. */
export function lineEndingOf({ spec, profile }: Pick<BoardHandle, "spec" | "profile">): string {
  return spec.console.lineEnding ?? profile.lineEnding;
}

// labgrid's ShellDriver way: poke the shell with an empty line until it shows its prompt, so a
// command is never typed into a board that is still booting.
async function ensurePrompt(handle: BoardHandle): Promise<void> {
  const { profile, board, spec } = handle;
  if (!profile.prompt) return;
  const prompt = compilePattern(profile.prompt);
  for (let attempt = 1; ; attempt++) {
    const since = board.console.mark();
    await board.console.write(lineEndingOf(handle));
    try {
      await board.console.expect(prompt, { withinMs: PROMPT_WAIT_MS, since, partial: true, description: "the prompt" });
      return;
    } catch (err) {
      if (attempt >= PROMPT_TRIES) throw err;
    }
  }
}

function watchProgress(ctx: StepContext, { profile, board }: BoardHandle, boardName: string): () => void {
  const source = profile.patterns.download_progress;
  if (!source) return () => {};
  const re = compilePattern(source);
  return board.console.onLine((line) => {
    const m = re.exec(line.text);
    const percent = m?.groups?.percent;
    if (m) ctx.progress(line.text, percent !== undefined ? Number(percent) / 100 : undefined, boardName);
  });
}

// assert.*: verdicts on what the board and the server say.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { ScenarioError, TestFailure, type SourcePosition } from "../../core/errors.ts";
import type { StepParams } from "../../scenario/steps.ts";
import type { StepImpl } from "../context.ts";
import { requireOutcome, runDeviceAction } from "../device-actions.ts";

/** `equals` is a firmware file (its SHA-256 is meant) or a 64-digit hex digest. */
export function expectedHash(equals: string, pos: SourcePosition, step = "assert.hash equals"): { hash: string; what: string } {
  if (/^[0-9a-fA-F]{64}$/.test(equals)) return { hash: equals.toLowerCase(), what: equals.toLowerCase() };
  if (existsSync(equals)) {
    return { hash: createHash("sha256").update(readFileSync(equals)).digest("hex"), what: basename(equals) };
  }
  throw new ScenarioError(`${step}: "${equals}" is neither a file nor a 64-digit SHA-256`, pos);
}

export const hash: StepImpl<StepParams<"assert.hash">> = async (ctx, p) => {
  const expected = expectedHash(p.equals, ctx.step.pos);
  const result = await runDeviceAction(ctx, p.board, "status", ["status"], ctx.timeoutMs);
  const tail = ctx.handle(p.board).board.console.tail(20);
  requireOutcome(result, ["status"], `status of ${p.board}`, tail);
  const running = result.groups.sha256?.toLowerCase();
  if (!running) {
    throw new ScenarioError(`the profile's status pattern has no (?<sha256>…) group; the board said: ${result.line}`, ctx.step.pos);
  }
  if (running !== expected.hash) {
    throw new TestFailure(
      `${p.board} runs sha256 ${running}${result.groups.version ? ` (version ${result.groups.version})` : ""}, expected ${expected.hash} (${expected.what})`,
      { consoleTail: tail },
    );
  }
  return { detail: `${p.board} runs ${expected.what} (sha256 ${running.slice(0, 12)}…)` };
};

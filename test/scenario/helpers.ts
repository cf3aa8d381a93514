// Test helpers: throwaway file trees and "where is this text" for asserting positions.
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ScenarioError, ScenarioErrors } from "../../harness/core/errors.ts";

/** Writes files (relative path -> content) into a fresh temp dir; returns the dir. */
export function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "otarig-scenario-"));
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return dir;
}

/** 1-based line:col of the `nth` occurrence of `needle` in `text`. */
export function where(text: string, needle: string, nth = 1): { line: number; col: number } {
  let i = -1;
  for (let n = 0; n < nth; n++) {
    i = text.indexOf(needle, i + 1);
    if (i < 0) throw new Error(`"${needle}" not in text`);
  }
  const before = text.slice(0, i).split("\n");
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

/** Runs `fn`, expects a ScenarioError, returns its errors as a list. */
export async function errorsFrom(fn: () => Promise<unknown>): Promise<ScenarioError[]> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ScenarioErrors) return err.errors;
    if (err instanceof ScenarioError) return [err];
    throw err;
  }
  throw new Error("expected a ScenarioError, nothing was thrown");
}

export const PROFILE = `name: test-board
prompt: 'ota> '
commands: { check: check, install: install }
patterns: { booted: 'boot: version=(?<version>\\S+)', error: '^error: (.*)$' }
`;

export const RIG = `name: test-rig
boards:
  dut:
    serial_number: SN-1
    profile: profile.yaml
    virtual: true
relays:
  r1: { type: virtual, channels: 2 }
`;

/** A scenario around the given steps (YAML list items, 2-space indented). */
export function scenario(steps: string, header = ""): string {
  return `name: t\nrig: rig.yaml\nboards: [dut]\n${header}steps:\n${steps}`;
}

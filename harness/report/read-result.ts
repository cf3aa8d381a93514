// Reads result.json files back (rig report, rig merge, --durations): a single scenario's
// result or a suite's, checked at the edge so a damaged or foreign file is a clear error with
// its position, never a crash half-way through a page.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { parseDocument } from "yaml";
import { ScenarioError, type SourcePosition } from "../core/errors.ts";
import type { RunResult } from "./result.ts";
import type { FleetTotals } from "../fleet/totals.ts";

const stepSchema = z.looseObject({
  path: z.string(),
  name: z.string(),
  label: z.string(),
  board: z.string().optional(),
  status: z.enum(["passed", "failed", "skipped"]),
  startedMs: z.number(),
  durationMs: z.number(),
  detail: z.string().optional(),
  error: z.looseObject({ failureClass: z.string(), message: z.string(), consoleTail: z.array(z.string()).optional() }).optional(),
});

/** One attempt of a scenario (written when retries run; the last one is the verdict). */
export const attemptSchema = z.object({
  n: z.number(),
  startedAt: z.string(),
  durationMs: z.number(),
  outcome: z.enum(["passed", "failed", "interrupted"]),
  failure: z
    .object({ failureClass: z.enum(["test", "infrastructure", "scenario", "harness"]), message: z.string(), step: z.string().optional() })
    .optional(),
});

export const attachmentSchema = z.looseObject({
  name: z.string(),
  path: z.string(),
  contentType: z.string().default("application/octet-stream"),
  step: z.string().optional(),
});

const scenarioSchema = z.looseObject({
  scenario: z.string(),
  file: z.string(),
  runDir: z.string(),
  boards: z.array(z.string()),
  status: z.enum(["passed", "failed", "interrupted", "running"]),
  exitCode: z.number().optional(),
  failureClass: z.enum(["test", "infrastructure", "scenario", "harness"]).optional(),
  startedAt: z.string(),
  durationMs: z.number(),
  steps: z.array(stepSchema),
  retries: z.array(z.unknown()).default([]),
  consoleTail: z.record(z.string(), z.array(z.string())).default({}),
  attempts: z.array(attemptSchema).optional(),
  attachments: z.array(attachmentSchema).optional(),
});

export type Attempt = z.infer<typeof attemptSchema>;
export type { Attachment } from "./result.ts";
/** A scenario result as read back: the run's result plus what other writers may have added. */
export type ReadResult = RunResult;

const shardSchema = z.looseObject({ index: z.number(), total: z.number(), scenarios: z.array(z.string()), plan: z.string().optional() });
export type ShardInfo = z.infer<typeof shardSchema>;

const suiteSchema = z.looseObject({
  suite: z.literal(true),
  exitCode: z.number(),
  shard: shardSchema.optional(),
  /** for a merged directory: each shard directory and what became of it */
  shards: z.array(z.looseObject({ dir: z.string(), status: z.string() })).optional(),
  results: z.array(scenarioSchema),
});

export interface SuiteFile {
  suite: true;
  exitCode: number;
  shard?: ShardInfo;
  shards?: Array<{ dir: string; status: string; message?: string }>;
  results: ReadResult[];
  /** rig merge: the fleets of every result added up (a fleet split into slices over runners) */
  fleet?: FleetTotals;
}

/** A result.json: one scenario's, or a suite's (a directory run, a shard, a merge). */
export type ResultFile = { kind: "scenario"; result: ReadResult } | { kind: "suite"; suite: SuiteFile };

export function readResultFile(file: string): ResultFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ScenarioError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const at = positionOf(file, text);
    throw new ScenarioError(`${at ? "" : `${file}: `}not valid JSON: ${(err as Error).message.split("\n")[0]}`, at);
  }
  const isSuite = typeof raw === "object" && raw !== null && (raw as { suite?: unknown }).suite === true;
  const parsed = isSuite ? suiteSchema.safeParse(raw) : scenarioSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ScenarioError(
      `${file}: not an otarig result.json: ${issue.path.join(".") || "(top)"}: ${issue.message}`,
    );
  }
  return isSuite
    ? { kind: "suite", suite: parsed.data as unknown as SuiteFile }
    : { kind: "scenario", result: parsed.data as unknown as ReadResult };
}

/** Every scenario result a file holds. */
export function resultsOf(file: ResultFile): ReadResult[] {
  return file.kind === "scenario" ? [file.result] : file.suite.results;
}

/**
 * Where JSON.parse gave up, as file:line:col. Node 20's messages often carry no position, so
 * the text is read once more with the YAML parser (JSON is YAML), which says where it broke.
 */
function positionOf(file: string, text: string): SourcePosition | undefined {
  const at = parseDocument(text, { prettyErrors: true }).errors[0]?.linePos?.[0];
  return at ? { file, line: at.line, col: at.col } : undefined;
}

// The fleet steps' schemas (docs/fleet.md), spread into stepSchemas (steps.ts) like every step's.
import { z } from "zod";
import { FLEET_FIGURES } from "../fleet/metrics.ts";
import { MAX_FLEET_DEVICES } from "../fleet/spec.ts";
import { parseBytes, parseCondition, parseRate } from "../fleet/units.ts";

/** A duration as written in YAML (as steps.ts has it). */
const duration = z.union([z.string(), z.number().nonnegative()]);
const text = z.string();
const fraction = z.number().min(0, "a fraction of the fleet, 0 to 1").max(1, "a fraction of the fleet, 0 to 1");
const bytes = z.union([z.string(), z.number()]).refine((v) => (parseBytes(v) ?? 0) > 0, "a size above 0, e.g. 64KiB, 1MiB or a number of bytes");
const rate = z.union([z.string(), z.number()]).refine((v) => (parseRate(v) ?? 0) > 0, "a rate above 0, e.g. 256KiB/s or bytes per second");
const condition = z
  .union([z.string(), z.number()])
  .refine((v) => parseCondition(v) !== undefined, 'a bound: ">= 99%" (of the devices), "< 250", "== 0" or a number (equals)');
/** What each figure a bound may name counts. */
const FIGURE_TEXT: Record<(typeof FLEET_FIGURES)[number], string> = {
  updated: "devices that confirmed the update",
  failed: "devices whose update failed (a digest mismatch, a download given up)",
  reverted: "devices that booted the update on trial and reverted",
  rejected: "devices the server refused (a wrong CIK)",
  http_5xx: "answers with a 5xx status",
  check_p50_ms: "the update check's median latency, ms",
  check_p95_ms: "the update check's p95 latency, ms",
  check_p99_ms: "the update check's p99 latency, ms",
  download_p99_ms: "a download chunk's p99 latency, ms",
};
const fleetConditions = Object.fromEntries(
  FLEET_FIGURES.map((f) => [f, condition.optional().describe(`${FIGURE_TEXT[f]}: a bound, e.g. ">= 99%" (of the devices), "< 250", 0`)]),
) as Record<(typeof FLEET_FIGURES)[number], z.ZodOptional<typeof condition>>;
const validSlice = (v: string) => {
  const [i, n] = v.split("/").map(Number);
  return i! >= 1 && i! <= n!;
};
const someCondition = (v: Record<string, unknown>) => FLEET_FIGURES.some((f) => v[f] !== undefined);

export const fleetStepSchemas = {
  "fleet.start": z
    .strictObject({
      count: z.number().int().min(1, "at least 1 device").max(MAX_FLEET_DEVICES, `at most ${MAX_FLEET_DEVICES} devices per runner (split a bigger fleet with slice)`)
        .describe("the whole fleet's size (all runners together)"),
      model: z.string().regex(/^[A-Za-z_][\w-]*$/, "a model name (letters, digits, _ and -)").describe("the model the devices belong to; created (requiring activation) if missing; their serials are added and enabled"),
      prefix: z.string().regex(/^[A-Za-z0-9._:@-]+$/, "letters, digits and ._:@-").optional().describe("serial numbers are prefix + zero-padded index (default SIM-)"),
      slice: z.string().regex(/^\d+\/\d+$/, "i/n (1 ≤ i ≤ n)").refine(validSlice, "i/n with 1 ≤ i ≤ n").optional()
        .describe('this runner\'s part of the fleet, i/n (e.g. "${env.FLEET_SLICE:-1/1}" on each of n runners); default all of it'),
      behaviours: z
        .strictObject({
          drop: fraction.optional().describe("drop the connection mid-download, resume with Range later"),
          never_confirm: fraction.optional().describe("boot the update on trial, never confirm: revert"),
          offline: fraction.optional().describe("go offline for a window (offline_for) some time in the first offline_within"),
          wrong_cik: fraction.optional().describe("present a wrong CIK (refused by the server)"),
        })
        .optional()
        .describe("fractions of the fleet (0 to 1) that misbehave"),
      rate: rate.optional().describe("each device's download rate cap (default 1MiB/s)"),
      chunk: bytes.optional().describe("bytes per Range request (default 256KiB)"),
      interval: duration.optional().describe("between update checks (default 30s)"),
      jitter: fraction.optional().describe("each interval is interval × (1 ± jitter) (default 0.5)"),
      offline_for: duration.optional().describe("length of an offline window (default 5s)"),
      offline_within: duration.optional().describe("offline windows start within this long of the start (default 10s)"),
      resume_after: duration.optional().describe("a dropped download resumes after this long (default 2s)"),
      trial: duration.optional().describe("a never-confirming device reverts this long after its trial boot (default 2s)"),
      connections: z.number().int().min(1).max(4096).optional().describe("keep-alive connections the fleet shares (default 64)"),
      seed: z.number().int().optional().describe("which devices misbehave (default 1)"),
    })
    .describe("registers and enables the fleet's serials (a generated range), then starts the simulated devices in the background: activation, checks, ranged downloads, status with the CIK"),
  "fleet.deploy": z
    .strictObject({ artifact: text.describe("a vendor.upload name") })
    .describe("deploys the artifact to all of this runner's fleet serials in one deployment"),
  "fleet.wait": z
    .strictObject({ ...fleetConditions, within: duration.optional().describe("how long to wait (default: the step timeout)") })
    .refine(someCondition, `give at least one of ${FLEET_FIGURES.join(", ")}`)
    .describe('waits until every bound holds, e.g. updated: ">= 99%"; on timeout names the counts'),
  "fleet.stop": z.union([z.null(), z.strictObject({})]).describe("stops the fleet (teardown does it anyway): every device, connection and timer"),
  "assert.fleet": z
    .strictObject(fleetConditions)
    .refine(someCondition, `give at least one of ${FLEET_FIGURES.join(", ")}`)
    .describe("the fleet's figures now (or at its stop) meet every bound"),
} as const;

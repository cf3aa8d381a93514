// Every step a scenario may use, with the schema of its parameters. The loader validates
// against these; the runner implements each name (harness/runner/steps/). Adding a step means
// a schema here, an implementation there, and a line in docs/scenarios.md's step table.
import { z } from "zod";

/** Where a board's flash writes go, as it reports them (download area, or the slot being installed). */
export const WRITE_AREAS = ["download", "install"] as const;

/** What a board booted after a power cut: the sweep's verdict on each point. */
export const SWEEP_OUTCOMES = ["old", "new", "bricked", "other"] as const;

/** A duration as written in YAML: "20s", "500ms", "2m", or a number of seconds. */
export const duration = z.union([z.string(), z.number().nonnegative()]);
const board = z.string().min(1);
/** A whole number >= min, also as the digits ${…} resolves to (e.g. ${sweep.point}). */
const wholeNumber = (min: 0 | 1) =>
  z.union([z.number().int().min(min), z.string().regex(min === 1 ? /^[1-9]\d*$/ : /^\d+$/, `a whole number >= ${min}`)]);
const text = z.string();

/** ARIA roles a browser step may select by (the ones pages use; getByRole knows them all). */
const ARIA_ROLES = [
  "alert", "button", "cell", "checkbox", "columnheader", "combobox", "dialog", "form", "group", "heading", "img", "link",
  "list", "listitem", "main", "navigation", "option", "paragraph", "radio", "region", "row", "rowgroup", "rowheader",
  "status", "tab", "table", "textbox", "banner", "contentinfo", "menu", "menuitem", "progressbar", "searchbox", "spinbutton",
  "switch", "tabpanel", "term", "definition", "article", "strong", "code",
] as const;

/** An element on a page: by role (+ accessible name), label, text or CSS selector, maybe inside another. */
const targetShape = {
  role: z.enum(ARIA_ROLES).optional(),
  name: text.optional(),
  label: text.optional(),
  text: text.optional(),
  selector: text.optional(),
  exact: z.boolean().optional(),
};
type TargetIn = { role?: string; name?: string; label?: string; text?: string; selector?: string; in?: TargetIn };
/** Exactly one way of finding the element (name only goes with role). */
function oneWay(value: unknown, ctx: z.RefinementCtx): void {
  const t = value as TargetIn;
  const ways = (["role", "label", "text", "selector"] as const).filter((k) => t[k] !== undefined);
  if (ways.length !== 1) ctx.addIssue({ code: "custom", message: `give exactly one of role, label, text, selector (got ${ways.length ? ways.join(", ") : "none"})` });
  if (t.name !== undefined && t.role === undefined) ctx.addIssue({ code: "custom", message: "name goes with role (the element's accessible name)" });
}
const scope = z.strictObject(targetShape).superRefine(oneWay);
const target = <T extends z.ZodRawShape>(extra: T) => z.strictObject({ ...targetShape, in: scope.optional(), ...extra }).superRefine(oneWay);

export const stepSchemas = {
  flash: z.strictObject({ board, image: text }),
  power: z.strictObject({ board, action: z.enum(["on", "off", "cycle"]), off: duration.optional() }),
  reset: z.strictObject({ board }),
  "console.send": z.strictObject({
    board,
    line: text,
    line_ending: z.string().optional(),
    char_delay: duration.optional(),
  }),
  expect: z.strictObject({
    board,
    pattern: text,
    within: duration.optional(),
    /** the pattern must NOT appear (within `within`, and in output since the step started) */
    not: z.boolean().optional(),
    /**
     * where the search starts: "step" (default) output since this step started; "match" output
     * from the line the previous expect or device step matched on this board, inclusive (for
     * lines that arrive together); "boot" everything since the console opened
     */
    since: z.enum(["step", "match", "boot"]).optional(),
    /** also match the line still arriving (a prompt with no newline); default: whole lines only */
    partial: z.boolean().optional(),
  }),
  settle: z.strictObject({ board, quiet: duration, within: duration.optional() }),
  wait: z.union([duration, z.strictObject({ for: duration })]),
  set: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),

  "device.configure": z.strictObject({ board, settings: z.record(z.string(), z.union([z.string(), z.number()])) }),
  "device.activate": z.strictObject({ board, within: duration.optional(), expect: z.enum(["activated", "error"]).optional() }),
  "device.check": z.strictObject({
    board,
    within: duration.optional(),
    expect: z.enum(["update-available", "up-to-date", "error"]).optional(),
  }),
  "device.download": z.strictObject({ board, within: duration.optional(), expect: z.enum(["done", "error"]).optional() }),
  "device.install": z.strictObject({ board, within: duration.optional(), expect: z.enum(["done", "error"]).optional() }),
  "device.confirm": z.strictObject({ board, within: duration.optional() }),
  "device.reboot": z.strictObject({ board, within: duration.optional() }),

  /** ota-backend (seed 001) vendor actions */
  "backend.create": z.strictObject({ as: z.string().regex(/^[A-Za-z_][\w]*$/, "a variable name") }),
  "backend.allow": z.strictObject({ firmware: text, device: text }),
  "backend.deny": z.strictObject({ firmware: text, device: text }),
  "backend.upload": z.strictObject({ firmware: text, file: text }),

  /** faults: a power cut armed on a console pattern; network faults through the board's proxy */
  "fault.power_cut": z
    .strictObject({
      board,
      when: text.optional().describe("cut the power when a console line matches this regex"),
      nth: wholeNumber(1).optional().describe("with when: at the nth matching line (default 1)"),
      after: duration.optional().describe("with when: this long after the matching line (for firmware that prints nothing while it writes)"),
      write: wholeNumber(0)
        .optional()
        .describe(
          "cut right after the page holding this byte offset is written (boards that report their writes: virtual); counted across the download and the install in the order the board writes them, or within `area`",
        ),
      area: z.enum(WRITE_AREAS).optional().describe("with write: count the offset within this area only"),
      off: duration.optional().describe("how long the power stays off (default 1s), then it comes back"),
      wait: z.boolean().optional().describe("block until the cut has happened (default: arm it and go on at once)"),
      within: duration.optional().describe("with wait: how long to wait for the cut"),
    })
    .superRefine((p, ctx) => {
      if ((p.when === undefined) === (p.write === undefined)) ctx.addIssue({ code: "custom", message: "give exactly one of when (a console pattern) or write (a flash offset)" });
      if (p.when === undefined && (p.nth !== undefined || p.after !== undefined)) ctx.addIssue({ code: "custom", message: "nth and after go with when" });
      if (p.write === undefined && p.area !== undefined) ctx.addIssue({ code: "custom", message: "area goes with write" });
    }),
  "fault.network": z.strictObject({
    board,
    mode: z.enum(["drop", "delay", "cut", "corrupt", "clear"]),
    after_bytes: z.number().int().nonnegative().optional(),
    duration: duration.optional(),
    delay: duration.optional(),
  }),
  "server.restart": z.union([z.null(), z.strictObject({})]),
  "server.stop": z.union([z.null(), z.strictObject({})]),
  "server.start": z.union([z.null(), z.strictObject({})]),

  /** signed vendor API (seeds 000, 002, 003/004) */
  "vendor.register": z.strictObject({
    model: z.string().regex(/^[A-Za-z_][\w-]*$/, "a model name (letters, digits, _ and -)"),
    devices: z.array(text).min(1),
    require_activation: z.boolean().optional(),
    /** enable the serials for activation (starts the activation window); default true */
    enable: z.boolean().optional(),
  }),
  "vendor.enable": z.strictObject({ model: text, devices: z.array(text).min(1) }),
  "vendor.disable": z.strictObject({ model: text, devices: z.array(text).min(1) }),
  "vendor.upload": z.strictObject({ file: text, as: z.string().regex(/^[A-Za-z_][\w]*$/, "a variable name"), name: z.string().optional() }),
  "vendor.deploy": z.strictObject({ artifact: text, devices: z.array(text).min(1), expect_rejected: z.array(text).optional() }),

  /** browser steps (playwright-core in the system's Chromium); one page per run */
  "browser.open": z.strictObject({ url: text }),
  "browser.click": target({}),
  "browser.fill": target({ value: text }),
  /** picks the option whose text contains `option` */
  "browser.select": target({ option: text }),
  "browser.upload": target({ file: text }),
  /** the element appears (or with not: true, is gone / never appears) within `within` */
  "browser.expect": target({
    within: duration.optional(),
    not: z.boolean().optional(),
    /** keeps the element's visible text as ${<as>} */
    as: z.string().regex(/^[A-Za-z_][\w]*$/, "a variable name").optional(),
  }),
  "browser.screenshot": z.strictObject({ name: z.string().regex(/^[\w.-]+$/, "a file name (letters, digits, . _ -)"), full_page: z.boolean().optional() }),
  /** signs in to the reference portal with the harness's API key (the secret never reaches a log or the trace) */
  "portal.login": z.union([z.null(), z.strictObject({ url: text.optional() })]),

  "assert.hash": z.strictObject({ board, equals: text }),
  "assert.deployment": z.strictObject({
    artifact: text,
    /** one device, or `devices` for several (each must reach the status) */
    device: text.optional(),
    devices: z.array(text).min(1).optional(),
    status: z.enum(["processing", "success", "failed"]),
    within: duration.optional(),
  }),
  "assert.device": z.strictObject({
    device: text,
    state: z.enum(["downloading", "installing", "rebooting", "success", "failure"]).optional(),
    status: z.enum(["registered", "enabled", "activated", "expired", "disabled"]).optional(),
    hash: text.optional(),
    within: duration.optional(),
  }),
} as const;

export type StepName = keyof typeof stepSchemas;
export const STEP_NAMES = Object.keys(stepSchemas) as StepName[];
export type StepParams<N extends StepName> = z.infer<(typeof stepSchemas)[N]>;

/** Keys allowed beside the step key in a step's mapping. */
export const STEP_COMMON_KEYS = ["name", "timeout"] as const;

/** Block steps: not in stepSchemas; the loader gives them `children` (see load-scenario.ts).
 *  repeat: params { times: number | "${…}" }, children [body]; parallel: params { branches: labels }, one child per branch;
 *  sweep: params SweepParams (without setup/steps), children [setup, steps]. */
export const BLOCK_STEP_NAMES = ["parallel", "repeat", "sweep"] as const;

/** A power-cut sweep: its steps run once per point, each from a known state, and each point's outcome is classified. */
export const sweepSchema = z.strictObject({
  name: z.string().min(1).optional().describe("the sweep's name in result.json, JUnit and the brick map (default: sweep <step path>)"),
  board: board.describe("the board whose power is cut and whose boots are classified"),
  points: z
    .union([
      z.array(z.number()).min(1).describe("the points, as written"),
      z
        .strictObject({
          from: z.number().describe("the first point"),
          to: z.number().describe("the last point"),
          count: z.number().int().min(1).describe("how many points, evenly spread from `from` to `to` (whole numbers when both ends are)"),
        })
        .refine((r) => r.from <= r.to, { message: "from must not be greater than to" }),
    ])
    .describe("each point is ${sweep.point} in the steps (its 1-based index is ${sweep.index})"),
  base: text.describe("the image the board starts each point from: a boot of it is `old`"),
  target: text.describe("the image the update installs: a boot of it is `new`"),
  allow: z.array(z.enum(SWEEP_OUTCOMES)).min(1).optional().describe("outcomes that pass (default: old, new); every other point fails the sweep"),
  stop_on: z.literal("bricked").optional().describe("stop at the first bricked point (default: every point runs: the whole map is the result)"),
  window: duration.optional().describe("how long after power returns the board has to boot (default 20s)"),
  setup: z.array(z.unknown()).optional().describe("steps run before each point (typically: flash the base image and boot it)"),
  steps: z.array(z.unknown()).min(1).describe("the point's steps: arm a fault.power_cut at ${sweep.point}, then drive the update"),
});
export type SweepParams = Omit<z.infer<typeof sweepSchema>, "setup" | "steps">;

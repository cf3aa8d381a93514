// Every step a scenario may use, with the schema of its parameters. The loader validates
// against these; the runner implements each name (harness/runner/steps/). Adding a step means
// a schema here, an implementation there, and a line in docs/scenarios.md's step table.
import { z } from "zod";

/** A duration as written in YAML: "20s", "500ms", "2m", or a number of seconds. */
export const duration = z.union([z.string(), z.number().nonnegative()]);
const board = z.string().min(1);
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
    /** the pattern must NOT appear (within `within`, and in the output the window below holds) */
    not: z.boolean().optional(),
    /**
     * where the search starts. Default: after the last line an earlier expect or device step
     * consumed on this board, but never before the start of the last step that acted on it
     * (console.send, power, reset, flash, device.*, a power cut that fired), so a reply to the
     * last action is seen however soon it came, and a stale banner or consumed line is not.
     * "step": output since this step started; "match": from the line the previous expect or
     * device step matched on this board, inclusive (for lines that arrive together); "boot":
     * everything since the console opened
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
  "fault.power_cut": z.strictObject({
    board,
    /** cut the power the moment a console line matches this */
    when: text,
    /** how long the power stays off (default 1s), then it comes back */
    off: duration.optional(),
    /** block until the cut has happened (default: arm it and go on at once) */
    wait: z.boolean().optional(),
    /** with wait: how long to wait for the pattern */
    within: duration.optional(),
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
 *  repeat: params { times: number | "${…}" }, children [body]; parallel: params { branches: labels }, one child per branch. */
export const BLOCK_STEP_NAMES = ["parallel", "repeat"] as const;

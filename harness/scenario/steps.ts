// Every step a scenario may use, with the schema of its parameters. The loader validates
// against these; the runner implements each name (harness/runner/steps/). Adding a step means
// a schema here, an implementation there, and a line in docs/scenarios.md's step table. The
// `.describe()` texts are what `rig help steps` (harness/cli/help-steps.ts) prints.
import { z } from "zod";
import { fleetStepSchemas } from "./fleet-steps.ts";
import { DEPLOYMENT_STATUSES, DEPLOYMENT_STATUS_ALIASES, DEVICE_STATES, DEVICE_STATE_ALIASES } from "../ota/states.ts";

const keysOf = <T extends object>(o: T) => Object.keys(o) as (keyof T & string)[];

/** Where a board's flash writes go, as it reports them (download area, or the slot being installed). */
export const WRITE_AREAS = ["download", "install"] as const;

/** What a board booted after a power cut: the sweep's verdict on each point. */
export const SWEEP_OUTCOMES = ["old", "new", "bricked", "other"] as const;

/** A duration as written in YAML: "20s", "500ms", "2m", or a number of seconds. */
export const duration = z.union([z.string(), z.number().nonnegative()]).meta({ title: "duration" });
/** Whether `s` is `duration` (or a described copy of it: `.describe()` clones a schema). */
export function isDuration(s: unknown): boolean {
  return s instanceof z.ZodType && s._zod.def === duration._zod.def;
}
const board = z.string().min(1).describe("the rig's board this step acts on (one of the scenario's boards), or all: every board at once");
/** A whole number >= min, also as the digits ${…} resolves to (e.g. ${sweep.point}). */
const wholeNumber = (min: 0 | 1) =>
  z.union([z.number().int().min(min), z.string().regex(min === 1 ? /^[1-9]\d*$/ : /^\d+$/, `a whole number >= ${min}`)]);
const text = z.string();
const within = duration.optional().describe("how long to wait (a duration: 500ms, 20s, 2m, or seconds)");
/** A name a later step reads back as ${<name>…}. */
const varName = z.string().regex(/^[A-Za-z_][\w]*$/, "a variable name");
const devices = z.array(text).min(1).describe("serial numbers (e.g. ${boards.dut.serial})");

/** ARIA roles a browser step may select by (the ones pages use; getByRole knows them all). */
const ARIA_ROLES = [
  "alert", "button", "cell", "checkbox", "columnheader", "combobox", "dialog", "form", "group", "heading", "img", "link",
  "list", "listitem", "main", "navigation", "option", "paragraph", "radio", "region", "row", "rowgroup", "rowheader",
  "status", "tab", "table", "textbox", "banner", "contentinfo", "menu", "menuitem", "progressbar", "searchbox", "spinbutton",
  "switch", "tabpanel", "term", "definition", "article", "strong", "code",
] as const;

/** An element on a page: by role (+ accessible name), label, text or CSS selector, maybe inside another. */
const targetShape = {
  role: z.enum(ARIA_ROLES).optional().meta({ title: "ARIA role" }).describe("find the element by its ARIA role (with name: its accessible name)"),
  name: text.optional().describe("with role: the element's accessible name (a case-insensitive part unless exact: true)"),
  label: text.optional().describe("find a form field by its label"),
  text: text.optional().describe("find an element by its text"),
  selector: text.optional().describe("find the element by a CSS selector, when nothing else fits"),
  exact: z.boolean().optional().describe("name, label and text match the whole text, case-sensitively"),
};
type TargetIn = { role?: string; name?: string; label?: string; text?: string; selector?: string; in?: TargetIn };
/** Exactly one way of finding the element (name only goes with role). */
function oneWay(value: unknown, ctx: z.RefinementCtx): void {
  const t = value as TargetIn;
  const ways = (["role", "label", "text", "selector"] as const).filter((k) => t[k] !== undefined);
  if (ways.length !== 1) ctx.addIssue({ code: "custom", message: `give exactly one of role, label, text, selector (got ${ways.length ? ways.join(", ") : "none"})` });
  if (t.name !== undefined && t.role === undefined) ctx.addIssue({ code: "custom", message: "name goes with role (the element's accessible name)" });
}
/** What oneWay checks, for the JSON Schema (rig schema): one way of finding, name only with role. */
const ONE_WAY_JSON = {
  oneOf: (["role", "label", "text", "selector"] as const).map((k) => ({ required: [k] })),
  dependencies: { name: ["role"] },
};
const scope = z.strictObject(targetShape).superRefine(oneWay).meta(ONE_WAY_JSON).describe("look only inside this element (found the same ways)");
const target = <T extends z.ZodRawShape>(extra: T) => z.strictObject({ ...targetShape, in: scope.optional(), ...extra }).superRefine(oneWay).meta(ONE_WAY_JSON);
const serverControl = z.union([z.null(), z.strictObject({})]);

export const stepSchemas = {
  flash: z.strictObject({ board, image: text.describe("the firmware image file (./ and ../ paths resolve from the scenario)") }).describe("runs the rig's flash.command for the board with the image"),
  power: z
    .strictObject({
      board,
      action: z.enum(["on", "off", "cycle"]).describe("switch on, off, or off and on again"),
      off: duration.optional().describe("cycle: how long the power stays off (default 1s)"),
    })
    .describe("switches the board's power (relay channel, or the virtual board's process)"),
  reset: z.strictObject({ board }).describe("resets the board (relay pulse, DTR/RTS sequence, command, or virtual)"),
  "console.send": z
    .strictObject({
      board,
      line: text.describe("the line to type"),
      line_ending: z.string().optional().describe("sent after the line (default: the console's, else the profile's)"),
      char_delay: duration.optional().describe("a pause between characters, for slow UARTs"),
    })
    .describe("types a line on the board's console"),
  expect: z
    .strictObject({
      board,
      pattern: text.describe("a regular expression; named groups (?<name>…) become variables"),
      within,
      not: z.boolean().optional().describe("the pattern must NOT appear (within `within`, and in the output the window `since` gives)"),
      since: z
        .enum(["step", "match", "boot"])
        .optional()
        .describe(
          'where the search starts. Default: after the last line an earlier expect or device step consumed on this board, but never before the start of the last step that acted on it (console.send, power, reset, flash, device.*, a power cut that fired), so a reply to the last action is seen however soon it came and a stale banner or consumed line is not. "step": output since this step started; "match": from the line the previous expect or device step matched on this board, inclusive (for lines that arrive together); "boot": everything since the console opened',
        ),
      partial: z.boolean().optional().describe("also match the line still arriving (a prompt with no newline); default: whole lines only"),
    })
    .describe("waits for a console line matching the regex"),
  settle: z
    .strictObject({ board, quiet: duration.describe("how long the board must print nothing"), within })
    .describe("waits until the board has been quiet for `quiet`"),
  wait: z.union([duration, z.strictObject({ for: duration.describe("how long to sleep") })]).describe("sleeps: a duration, or { for: duration }"),
  set: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).describe("sets variables: { name: value, … }"),

  "device.configure": z
    .strictObject({ board, settings: z.record(z.string(), z.union([z.string(), z.number()])).describe("{ key: value }: one configure command per setting") })
    .describe("sends the profile's configure command once per setting ({key}, {value}) and waits for `configured`"),
  "device.activate": z
    .strictObject({ board, within, expect: z.enum(["activated", "error"]).optional().describe("the answer the step expects (default activated)") })
    .describe("the profile's activate command; waits for `activated`"),
  "device.check": z
    .strictObject({
      board,
      within,
      expect: z.enum(["update-available", "up-to-date", "error"]).optional().describe("the answer the step expects (default: either of the first two)"),
    })
    .describe("the profile's check command; fails unless the board answers as expected"),
  "device.download": z
    .strictObject({ board, within, expect: z.enum(["done", "error"]).optional().describe("the outcome the step expects (default done)") })
    .describe("the profile's download command; download_progress lines become progress; waits for `download_done`"),
  "device.install": z
    .strictObject({ board, within, expect: z.enum(["done", "error"]).optional().describe("the outcome the step expects (default done)") })
    .describe("the profile's install command; waits for `install_done`"),
  "device.confirm": z.strictObject({ board, within }).describe("the profile's confirm command; waits for `confirmed`"),
  "device.reboot": z.strictObject({ board, within }).describe("the profile's reboot command; waits for `booted`"),

  // ota-backend (seed 001) vendor actions
  "backend.create": z
    .strictObject({ as: varName.describe("the name the firmware goes by: ${<as>.id} is its id") })
    .describe("creates a firmware on the ota-backend surface (its key is kept secret)"),
  "backend.allow": z
    .strictObject({ firmware: text.describe("a backend.create `as` name"), device: text.describe("a device id, or all") })
    .describe("firewall: lets a device id (or all) use the firmware"),
  "backend.deny": z
    .strictObject({ firmware: text.describe("a backend.create `as` name"), device: text.describe("a device id, or all") })
    .describe("firewall: stops a device id (or all) from using the firmware"),
  "backend.upload": z
    .strictObject({ firmware: text.describe("a backend.create `as` name"), file: text.describe("the image file") })
    .describe("uploads an image; ${<firmware>.hash} is its SHA-256"),

  // faults: a power cut armed on a console pattern; network faults through the board's proxy
  "fault.power_cut": z
    .strictObject({
      board,
      when: text.optional().describe("cut the power when a console line matches this regex"),
      nth: wholeNumber(1).optional().describe("with when: at the nth matching line (default 1)"),
      after: duration.optional().describe("with when: this long after the matching line (for firmware that prints nothing while it writes)"),
      write: wholeNumber(0)
        .optional()
        .describe(
          "cut right after the page holding this byte offset is written (boards that report their writes: virtual, QEMU); counted across the download and the install in the order the board writes them, or within `area`",
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
    })
    .describe("arms a one-shot power cut: at the nth console line matching a pattern, a delay after it, or right after a flash write offset"),
  "fault.network": z
    .strictObject({
      board,
      mode: z.enum(["drop", "delay", "cut", "corrupt", "clear"]).describe("cut: reset connections; drop: black-hole; delay: slow down; corrupt: flip a byte; clear: end them all"),
      after_bytes: z.number().int().nonnegative().optional().describe("cut, drop, corrupt: after this many more bytes went to the board"),
      duration: duration.optional().describe("how long the fault lasts"),
      delay: duration.optional().describe("delay: added to every chunk (default 500ms)"),
    })
    .describe("breaks the link between the board and the server in the board's proxy"),
  "server.restart": serverControl.describe("restarts the OTA server; its data survives and the boards' proxies follow it"),
  "server.stop": serverControl.describe("stops the OTA server (its data is kept)"),
  "server.start": serverControl.describe("starts the OTA server again"),

  // signed vendor API (seeds 000, 002, 003/004)
  "vendor.register": z
    .strictObject({
      model: z.string().regex(/^[A-Za-z_][\w-]*$/, "a model name (letters, digits, _ and -)").describe("the provisioning model; ${<model>.id} is its ota-backend firmware id"),
      devices,
      require_activation: z.boolean().optional().describe("devices must activate (get a CIK) before they update"),
      enable: z.boolean().optional().describe("enable the serials for activation (starts the activation window); default true"),
    })
    .describe("signed vendor API: creates the model if needed, adds the serial numbers, enables them for activation"),
  "vendor.enable": z
    .strictObject({ model: text.describe("a vendor.register model"), devices })
    .describe("re-enables serials: a new activation window; an activated device's CIK is revoked"),
  "vendor.disable": z.strictObject({ model: text.describe("a vendor.register model"), devices }).describe("disables serials"),
  "vendor.upload": z
    .strictObject({
      file: text.describe("the image file"),
      as: varName.describe("the name the artifact goes by: ${<as>.uuid}, ${<as>.hash}"),
      name: z.string().optional().describe("the artifact's name on the server (default: the file's)"),
      model: text.optional().describe("the model the artifact is for: a deployment by serial then reaches only that model's device"),
    })
    .describe("the three-step signed upload of seed 000 (artifact record, pre-signed URL, PUT with Content-MD5)"),
  "vendor.deploy": z
    .strictObject({
      artifact: text.describe("a vendor.upload `as` name"),
      devices,
      expect_rejected: z.array(text).optional().describe("devices the server may reject without failing the step"),
    })
    .describe("creates a deployment; ${<artifact>.deployment} is its id"),

  // browser steps (playwright-core in the system's Chromium); one page per run
  "browser.open": z.strictObject({ url: text.describe("the page's URL (${server.url} and any variable allowed)") }).describe("opens a page; fails on a 4xx/5xx answer"),
  "browser.click": target({}).describe("clicks the element"),
  "browser.fill": target({ value: text.describe("the text to type") }).describe("types a value into a text field or text area (replacing what was there)"),
  "browser.select": target({ option: text.describe("a part of the option's text") }).describe("picks the first option of a <select> whose text contains `option`"),
  "browser.upload": target({ file: text.describe("the file to put in") }).describe("puts a file into a file input"),
  "browser.expect": target({
    within,
    not: z.boolean().optional().describe("wait until no such element is shown"),
    as: varName.optional().describe("keeps the element's visible text as ${<as>}"),
  }).describe("waits until the element is shown (with not: true, until none is)"),
  "browser.screenshot": z
    .strictObject({
      name: z.string().regex(/^[\w.-]+$/, "a file name (letters, digits, . _ -)").describe("saved as browser/<name>.png in the run directory"),
      full_page: z.boolean().optional().describe("the whole page, not just the viewport"),
    })
    .describe("saves a screenshot and attaches it to the results"),
  "portal.login": z
    .union([z.null(), z.strictObject({ url: text.optional().describe("the portal (default ${server.url}/portal)") })])
    .describe("signs the browser in to the reference portal with the harness's API key (the secret never reaches a log or the trace)"),

  /** the simulated fleet (harness/fleet/, docs/fleet.md) */
  ...fleetStepSchemas,

  "assert.hash": z
    .strictObject({ board, equals: text.describe("an image file, or 64 hex digits") })
    .describe("asks the board for its status and fails unless it runs that image"),
  "assert.deployment": z
    .strictObject({
      artifact: text.describe("a vendor.upload `as` name"),
      device: text.optional().describe("one device, or `devices` for several (each must reach the status)"),
      devices: z.array(text).min(1).optional().describe("several devices, each must reach the status"),
      status: z
        .enum([...DEPLOYMENT_STATUSES, ...keysOf(DEPLOYMENT_STATUS_ALIASES)])
        .describe("the deployment's status for each device (the seeds' words): processing, success (the device confirmed the image), failed; failure is read as failed"),
      within: duration.optional().describe("how long to poll (default 10s)"),
    })
    .describe("polls the deployment's per-device status on the server until every device named is at `status`"),
  "assert.device": z
    .strictObject({
      device: text.describe("the device's serial number"),
      state: z
        .enum([...DEVICE_STATES, ...keysOf(DEVICE_STATE_ALIASES)])
        .optional()
        .describe("the device's last reported state: downloading, installing, rebooting, trial (booted, not confirmed), success (confirmed), failure; failed is read as failure"),
      status: z.enum(["registered", "enabled", "activated", "expired", "disabled"]).optional().describe("its provisioning status"),
      hash: text.optional().describe("the image the server says the device runs: a file or 64 hex digits"),
      within,
    })
    .describe("polls what the server records of a device until it holds"),
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
}).describe("a power-cut sweep: runs setup then steps once per point; the boot after each cut is classified old, new, bricked or other");
export type SweepParams = Omit<z.infer<typeof sweepSchema>, "setup" | "steps">;

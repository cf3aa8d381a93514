// Rig files: a bench's boards and the relays that reach them (DESIGN §3). Paths in a rig
// (profile, lock_dir, ports written ./… or ../…) resolve from the rig file's directory.
import path from "node:path";
import { z } from "zod";
import { ScenarioError } from "../core/errors.ts";
import type { BoardSpec, FlashSpec, PowerSpec, QemuBoardSpec, RelaySpec, ResetSpec, RigSpec } from "./types.ts";
import { check, durationMs } from "./validate.ts";
import type { Checked } from "./validate.ts";
import { regexErrors } from "./load-profile.ts";
import { readNetwork } from "./load-network.ts";
import { didYouMean, oneEditPattern, suggest } from "./suggest.ts";
import { isRecord, readYamlSource, throwIfErrors } from "./yaml-source.ts";
import { consoleUrlErrors, labgridBoardSchema, labgridErrors, labgridPlaceSpec } from "./load-rig-remote.ts";
import type { FileRef, Path, YamlSource } from "./yaml-source.ts";

export const rigSchema = z.strictObject({
  name: z.string().min(1).describe("the rig's name (in reports and lock records)"),
  lock_dir: z.string().min(1).optional().describe("where this rig's locks live (default /var/lock/otarig, shared by every user of the host)"),
  network: z.unknown().optional().describe("where this rig's boards reach this runner: the board proxies' address and ports"),
  boards: z
    .record(z.string(), z.unknown())
    .refine((b) => Object.keys(b).length > 0, "a rig needs at least one board")
    .meta({ minProperties: 1 })
    .describe("the bench's boards, by name"),
  relays: z.record(z.string(), z.unknown()).default({}).describe("the relay modules that switch the boards' power and reset lines, by name"),
});

/** Either key, for JSON Schema's `anyOf`/`not`. */
const PORT_OR_URL = { anyOf: [{ required: ["port"] }, { required: ["url"] }] };

export const consoleSchema = z
  .strictObject({
    port: z.string().min(1).optional().describe("the serial port (use the stable /dev/serial/by-id/… path)"),
    url: z.string().min(1).optional().describe("a port exported over the network: rfc2217://host:port or tcp://host:port"),
    dtr: z.boolean().optional().describe("DTR set right after each open (unset: as the OS opened it, asserted)"),
    rts: z.boolean().optional().describe("RTS set right after each open (unset: as the OS opened it, asserted)"),
    hupcl: z.boolean().optional().describe("drop DTR/RTS when the port closes (default true; false keeps them)"),
    baud: z.number().int().positive().default(115200).describe("baud rate (default 115200)"),
    line_ending: z.string().optional().describe("what this port needs after each sent line (default: the profile's)"),
    reconnect_timeout: durationMs.default(10_000).describe("how long capture waits for a vanished port to come back (default 10s)"),
  })
  // consoleUrlErrors: port or url, not both
  .meta({ not: { required: ["port", "url"] } })
  .describe("the board's serial console");

const channel = z.number().int().positive().describe("the relay channel (1-based)");
const relayName = z.string().min(1).describe("a relay of this rig (relays:)");
const killGrace = durationMs.optional().describe("between SIGTERM and SIGKILL when the tool is stopped (default 5s)");

export const resetSchemas = {
  relay: z.strictObject({ relay: relayName, channel, pulse: durationMs.default(200).describe("how long the relay pulses (default 200ms)") }),
  method: z.strictObject({
    method: z.literal("dtr-rts").describe("reset through the console's modem lines"),
    sequence: z
      .union([
        z.enum(["esp32", "esp32-bootloader", "pulse-dtr"]),
        z
          .array(
            z.strictObject({
              dtr: z.boolean().optional().describe("set DTR (true: asserted)"),
              rts: z.boolean().optional().describe("set RTS (true: asserted)"),
              delay: durationMs.optional().describe("then wait this long"),
            }),
          )
          .min(1),
      ])
      .describe("a named sequence, or a list of { dtr?, rts?, delay? } steps"),
  }),
  command: z.strictObject({
    command: z.array(z.string()).min(1).describe("the command and its arguments (runs in the rig file's directory; output to run.log)"),
    timeout: durationMs.default(10_000).describe("how long the command may take (default 10s)"),
    kill_grace: killGrace,
  }),
  virtual: z.strictObject({ virtual: z.literal(true).describe("the virtual or QEMU board's own reset") }),
};

export const powerSchemas = {
  relay: z.strictObject({ relay: relayName, channel }),
  virtual: z.strictObject({ virtual: z.literal(true).describe("the virtual or QEMU board's own power (its process)") }),
};

export const qemuSchema = z.strictObject({
  memory: z.number().int().min(64).default(128).describe("guest memory in MiB (default 128)"),
  flash_delay: durationMs.default(60).describe("delay of each flash page write, to model a slow part (default 60ms)"),
  disk_write_bps: z.number().int().nonnegative().default(0).describe("disk write limit in bytes per second (0: none)"),
});

const boardShape = {
  serial_number: z.union([z.string().min(1), z.number()]).transform(String).describe("the device's identity on the OTA server (${boards.<b>.serial})"),
  profile: z.string().min(1).describe("its board profile (relative to the rig file)"),
  console: consoleSchema.prefault({}),
  // `virtual: true` is short for `virtual: {}`
  virtual: z
    .union([
      z.literal(true),
      z.strictObject({
        config: z.record(z.string(), z.unknown()).default({}).describe("settings of the virtual firmware"),
        isolated: z.boolean().default(false).describe("run it in its own network namespace"),
      }),
    ])
    .optional()
    .describe("a virtual board: the virtual firmware on a pseudo-terminal (true is short for {})"),
  // `qemu: true` is short for `qemu: {}`
  qemu: z.union([z.literal(true), qemuSchema]).optional().describe("a Linux board under QEMU (true is short for {})"),
  power: z.record(z.string(), z.unknown()).optional().describe("how the board's power is switched: { relay, channel }"),
  reset: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("how the board is reset: { relay, channel, pulse? }, { method: dtr-rts, sequence } or { command: [...], timeout?, kill_grace? }"),
  flash: z
    .strictObject({
      command: z
        .array(z.string())
        .min(1)
        .describe("the flasher and its arguments: {port}, {image}, {node}, {board.<field>} (runs in the rig file's directory)"),
      timeout: durationMs.default(120_000).describe("how long the flasher may take (default 120s)"),
      progress: z.string().optional().describe("regex with (?<percent>…) or (?<done>…)/(?<total>…): the flasher's progress"),
      share_port: z.boolean().default(false).describe("close the console while flashing, reopen after"),
      kill_grace: killGrace,
    })
    .optional()
    .describe("how an image gets onto the board"),
  labgrid: labgridBoardSchema.optional(),
  fatal: z.array(z.string().min(1)).optional().describe("more patterns that mean this board's firmware died"),
};
const BOARD_KEYS = Object.keys(boardShape);

// What readBoard, consoleUrlErrors and labgridErrors check in code, said for JSON Schema: extra
// keys are plain values and no typo of a known key; virtual, qemu and labgrid exclude each other;
// a board needs a console port or url unless the harness or labgrid provides it.
const BOARD_RULES = {
  additionalProperties: { type: ["string", "number", "boolean", "null"] },
  propertyNames: { anyOf: [{ enum: BOARD_KEYS }, { not: { pattern: oneEditPattern(BOARD_KEYS) } }] },
  allOf: [
    { not: { required: ["virtual", "qemu"] } },
    { not: { required: ["virtual", "labgrid"] } },
    { anyOf: [{ required: ["virtual"] }, { required: ["qemu"] }, { required: ["labgrid"] }, { required: ["console"], properties: { console: PORT_OR_URL } }] },
    { if: { required: ["labgrid"] }, then: { properties: { console: { not: PORT_OR_URL } } } },
  ],
};
export const boardSchema = z.looseObject(boardShape).meta(BOARD_RULES).describe("a board: its identity, profile and the hardware that reaches it");

const channels = z.number().int().positive().default(1).describe("how many channels the module has (default 1)");
const relayPort = z.string().min(1).describe("the module's serial port");
const baud = z.number().int().positive().default(9600).describe("baud rate (default 9600)");
export const relaySchemas = {
  lcus: z
    .strictObject({ type: z.literal("lcus").describe("the relay module's type"), port: relayPort, channels, baud })
    .describe("an LCUS USB relay module (CH340; frames A0 <ch> <0|1> <sum>)"),
  "serial-text": z
    .strictObject({
      type: z.literal("serial-text").describe("the relay module's type"),
      port: relayPort,
      baud,
      on: z.string().min(1).describe('the "on" text, e.g. "relay on {ch}\\r" ({ch}, {ch0}, {state})'),
      off: z.string().min(1).describe('the "off" text ({ch}, {ch0}, {state})'),
      channels,
    })
    .describe("a relay board that takes text commands on a serial port"),
  command: z
    .strictObject({
      type: z.literal("command").describe("the relay module's type"),
      on: z.array(z.string()).min(1).describe("the command that switches a channel on ({channel}, {state})"),
      off: z.array(z.string()).min(1).describe("the command that switches a channel off ({channel}, {state})"),
      timeout: durationMs.default(10_000).describe("how long the command may take (default 10s)"),
      kill_grace: killGrace,
      channels,
    })
    .describe("any relay CLI (usbrelay, uhubctl, sispmctl); runs in the rig file's directory"),
  virtual: z.strictObject({ type: z.literal("virtual").describe("the relay module's type"), channels }).describe("an emulated LCUS module, for the virtual rig"),
};
const RELAY_TYPES = Object.keys(relaySchemas) as (keyof typeof relaySchemas)[];

export async function loadRig(file: string, ref?: FileRef): Promise<RigSpec> {
  const { value, errors } = readRigSource(await readYamlSource(file, ref));
  throwIfErrors(errors);
  return value!;
}

export function readRigSource(src: YamlSource): Checked<RigSpec> {
  if (src.errors.length > 0) return { errors: src.errors };
  const top = check(rigSchema, src.data, src, [], { what: "rig" });
  if (!top.value) return { errors: top.errors };
  const errors: ScenarioError[] = [];
  const rig: RigSpec = { file: src.absPath, name: top.value.name, boards: {}, relays: {} };
  if (top.value.lock_dir !== undefined) rig.lockDir = path.resolve(src.dir, top.value.lock_dir);

  for (const [name, raw] of Object.entries(top.value.relays)) {
    const relay = readRelay(src, name, raw, errors);
    if (relay) rig.relays[name] = { ...relay, name };
  }
  for (const [name, raw] of Object.entries(top.value.boards)) {
    const board = readBoard(src, rig, name, raw, errors);
    if (board) rig.boards[name] = board;
  }
  if (top.value.network !== undefined) {
    const network = readNetwork(src, top.value.network, Object.values(rig.boards), errors);
    if (network) rig.network = network;
  }
  return errors.length > 0 ? { errors } : { value: rig, errors };
}

function readRelay(src: YamlSource, name: string, raw: unknown, errors: ScenarioError[]): RelaySpec | undefined {
  const at: Path = ["relays", name];
  const typed = check(z.looseObject({ type: z.enum(RELAY_TYPES) }), raw, src, at, { what: `relay ${name}` });
  if (!typed.value) return void errors.push(...typed.errors);
  const { value, errors: errs } = check(relaySchemas[typed.value.type], raw, src, at, { what: `relay ${name}` });
  errors.push(...errs);
  if (!value) return undefined;
  if (value.type === "command") {
    return { type: "command", on: value.on, off: value.off, timeoutMs: value.timeout, channels: value.channels, ...graceOf(value.kill_grace) };
  }
  if (value.type === "lcus" || value.type === "serial-text") return { ...value, port: portPath(src, value.port) };
  return value;
}

function readBoard(src: YamlSource, rig: RigSpec, name: string, raw: unknown, errors: ScenarioError[]): BoardSpec | undefined {
  const at: Path = ["boards", name];
  const what = `board ${name}`;
  const { value: b, errors: errs } = check(boardSchema, raw, src, at, { what });
  errors.push(...errs);
  if (!b || !isRecord(raw)) return undefined;

  // Keys the harness does not know are the board's free-form fields (${boards.<name>.<field>}),
  // but only scalars, and not ones that look like a misspelt known key.
  const extra: Record<string, string> = {};
  for (const [key, v] of Object.entries(raw)) {
    if (BOARD_KEYS.includes(key)) continue;
    const near = suggest(key, BOARD_KEYS);
    if (near !== undefined || (typeof v === "object" && v !== null)) {
      errors.push(
        new ScenarioError(
          `unknown key "${key}" in ${what}${didYouMean(key, BOARD_KEYS)}${near ? "" : " (extra board fields must be plain values)"}`,
          src.pos([...at, key], "key"),
        ),
      );
    } else extra[key] = v === null ? "" : String(v);
  }

  const virtual = b.virtual === undefined ? undefined : { config: b.virtual === true ? {} : b.virtual.config, ...(b.virtual !== true && b.virtual.isolated ? { isolated: true } : {}) };
  const qemu = b.qemu === undefined ? undefined : qemuSpec(b.qemu === true ? qemuSchema.parse({}) : b.qemu);
  if (virtual && qemu) errors.push(new ScenarioError(`${what} is either virtual or qemu, not both`, src.pos([...at, "qemu"], "key")));
  // a virtual or QEMU board's console is a PTY pair the harness makes
  const managed = virtual !== undefined || qemu !== undefined;
  const port = b.console.port === undefined ? undefined : portPath(src, b.console.port);
  const url = b.console.url;
  errors.push(...consoleUrlErrors(src, at, b.console, b.labgrid !== undefined), ...labgridErrors(src, at, b.labgrid, virtual !== undefined));
  if (!managed && port === undefined && url === undefined && !b.labgrid) {
    errors.push(new ScenarioError(`${what} needs console.port or console.url (only a virtual, qemu or labgrid board may leave both out)`, src.pos([...at, "console"], "key")));
  }

  const board: BoardSpec = {
    name,
    serialNumber: b.serial_number,
    profile: path.resolve(src.dir, b.profile),
    console: {
      baud: b.console.baud,
      ...(b.console.line_ending !== undefined ? { lineEnding: b.console.line_ending } : {}),
      reconnectTimeoutMs: b.console.reconnect_timeout,
      ...(port !== undefined ? { port } : {}),
      ...(url !== undefined ? { url } : {}),
      ...(b.console.dtr !== undefined ? { dtr: b.console.dtr } : {}),
      ...(b.console.rts !== undefined ? { rts: b.console.rts } : {}),
      ...(b.console.hupcl !== undefined ? { hupcl: b.console.hupcl } : {}),
    },
    extra,
    pos: src.pos(at, "key"),
  };
  if (virtual) board.virtual = virtual;
  if (qemu) board.qemu = qemu;
  if (b.labgrid) board.labgrid = labgridPlaceSpec(b.labgrid, src.dir);

  // `virtual: true` power/reset: the managed board's own (its process)
  const power = b.power ? readPower(src, rig, at, b.power, errors) : managed ? { virtual: true as const } : undefined;
  if (power) board.power = power;
  const reset = b.reset ? readReset(src, rig, at, b.reset, errors) : managed ? { virtual: true as const } : undefined;
  if (reset) board.reset = reset;
  if (b.fatal) {
    b.fatal.forEach((source, i) => errors.push(...regexErrors(source, src, [...at, "fatal", i], `fatal[${i}]`)));
    board.fatal = b.fatal;
  }
  if (b.flash) {
    errors.push(...regexErrors(b.flash.progress, src, [...at, "flash", "progress"], "flash.progress"));
    const flash: FlashSpec = { command: b.flash.command, timeoutMs: b.flash.timeout, sharePort: b.flash.share_port, cwd: src.dir };
    if (b.flash.progress !== undefined) flash.progress = b.flash.progress;
    if (b.flash.kill_grace !== undefined) flash.killGraceMs = b.flash.kill_grace;
    board.flash = flash;
  }
  return board;
}

function qemuSpec(q: z.infer<typeof qemuSchema>): QemuBoardSpec {
  return { memoryMb: q.memory, flashDelayUs: Math.round(q.flash_delay * 1000), diskWriteBps: q.disk_write_bps };
}

function readPower(src: YamlSource, rig: RigSpec, board: Path, raw: Record<string, unknown>, errors: ScenarioError[]): PowerSpec | undefined {
  const at: Path = [...board, "power"];
  const kind = "virtual" in raw ? "virtual" : "relay";
  const { value, errors: errs } = check(powerSchemas[kind], raw, src, at, { what: "power" });
  errors.push(...errs);
  if (value && "relay" in value) errors.push(...relayRefErrors(src, rig, at, value));
  return value;
}

function readReset(src: YamlSource, rig: RigSpec, board: Path, raw: Record<string, unknown>, errors: ScenarioError[]): ResetSpec | undefined {
  const at: Path = [...board, "reset"];
  // The form is picked by its leading key, so errors speak about the form the author meant.
  const kind = (["method", "command", "virtual", "relay"] as const).find((k) => k in raw);
  if (!kind) {
    errors.push(
      new ScenarioError(
        'reset: expected { relay, channel, pulse? }, { method: dtr-rts, sequence } or { command: [...], timeout? }',
        src.pos(at, "key"),
      ),
    );
    return undefined;
  }
  const { value, errors: errs } = check(resetSchemas[kind], raw, src, at, { what: "reset" });
  errors.push(...errs);
  if (!value) return undefined;
  if ("relay" in value) {
    errors.push(...relayRefErrors(src, rig, at, value));
    return { relay: value.relay, channel: value.channel, pulseMs: value.pulse };
  }
  if ("method" in value) {
    const sequence =
      typeof value.sequence === "string"
        ? value.sequence
        : value.sequence.map((s) => ({
            ...(s.dtr !== undefined ? { dtr: s.dtr } : {}),
            ...(s.rts !== undefined ? { rts: s.rts } : {}),
            ...(s.delay !== undefined ? { delayMs: s.delay } : {}),
          }));
    return { method: "dtr-rts", sequence };
  }
  if ("command" in value) return { command: value.command, timeoutMs: value.timeout, ...graceOf(value.kill_grace) };
  return value;
}

function relayRefErrors(src: YamlSource, rig: RigSpec, at: Path, ref: { relay: string; channel: number }): ScenarioError[] {
  const relay = rig.relays[ref.relay];
  if (!relay) {
    const known = Object.keys(rig.relays);
    const hint = didYouMean(ref.relay, known) || (known.length ? ` (relays: ${known.join(", ")})` : " (the rig defines no relays)");
    return [new ScenarioError(`unknown relay "${ref.relay}"${hint}`, src.pos([...at, "relay"]))];
  }
  if (ref.channel > relay.channels) {
    return [new ScenarioError(`channel ${ref.channel} is out of range: relay "${ref.relay}" has ${relay.channels} channel(s)`, src.pos([...at, "channel"]))];
  }
  return [];
}

/** `kill_grace`: how long a stopped tool gets between SIGTERM and SIGKILL (runTool's default when absent). */
function graceOf(ms: number | undefined): { killGraceMs?: number } {
  return ms === undefined ? {} : { killGraceMs: ms };
}

// Device paths (/dev/…, COM3) stay as written; ./x and ../x are files next to the rig (PTY links).
function portPath(src: YamlSource, port: string): string {
  return isRelativePath(port) ? path.resolve(src.dir, port) : port;
}

export function isRelativePath(p: string): boolean {
  return p.startsWith("./") || p.startsWith("../");
}

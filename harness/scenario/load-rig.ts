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
import { didYouMean, suggest } from "./suggest.ts";
import { isRecord, readYamlSource, throwIfErrors } from "./yaml-source.ts";
import { consoleUrlErrors, labgridBoardSchema, labgridErrors, labgridPlaceSpec } from "./load-rig-remote.ts";
import type { FileRef, Path, YamlSource } from "./yaml-source.ts";

const rigSchema = z.strictObject({
  name: z.string().min(1),
  lock_dir: z.string().min(1).optional(),
  network: z.unknown().optional(),
  boards: z.record(z.string(), z.unknown()).refine((b) => Object.keys(b).length > 0, "a rig needs at least one board"),
  relays: z.record(z.string(), z.unknown()).default({}),
});

const consoleSchema = z.strictObject({
  port: z.string().min(1).optional(),
  url: z.string().min(1).optional(),
  dtr: z.boolean().optional(),
  rts: z.boolean().optional(),
  hupcl: z.boolean().optional(),
  baud: z.number().int().positive().default(115200),
  line_ending: z.string().optional(), // absent: the profile's
  reconnect_timeout: durationMs.default(10_000),
});

const channel = z.number().int().positive();

const resetSchemas = {
  relay: z.strictObject({ relay: z.string().min(1), channel, pulse: durationMs.default(200) }),
  method: z.strictObject({
    method: z.literal("dtr-rts"),
    sequence: z.union([
      z.enum(["esp32", "esp32-bootloader", "pulse-dtr"]),
      z.array(z.strictObject({ dtr: z.boolean().optional(), rts: z.boolean().optional(), delay: durationMs.optional() })).min(1),
    ]),
  }),
  command: z.strictObject({ command: z.array(z.string()).min(1), timeout: durationMs.default(10_000), kill_grace: durationMs.optional() }),
  virtual: z.strictObject({ virtual: z.literal(true) }),
};

const powerSchemas = {
  relay: z.strictObject({ relay: z.string().min(1), channel }),
  virtual: z.strictObject({ virtual: z.literal(true) }),
};

const qemuSchema = z.strictObject({
  memory: z.number().int().min(64).default(128),
  flash_delay: durationMs.default(60),
  disk_write_bps: z.number().int().nonnegative().default(0),
});

const boardSchema = z.looseObject({
  serial_number: z.union([z.string().min(1), z.number()]).transform(String),
  profile: z.string().min(1),
  console: consoleSchema.prefault({}),
  // `virtual: true` is short for `virtual: {}`
  virtual: z.union([z.literal(true), z.strictObject({ config: z.record(z.string(), z.unknown()).default({}), isolated: z.boolean().default(false) })]).optional(),
  // `qemu: true` is short for `qemu: {}`
  qemu: z.union([z.literal(true), qemuSchema]).optional(),
  power: z.record(z.string(), z.unknown()).optional(),
  reset: z.record(z.string(), z.unknown()).optional(),
  flash: z
    .strictObject({
      command: z.array(z.string()).min(1),
      timeout: durationMs.default(120_000),
      progress: z.string().optional(),
      share_port: z.boolean().default(false),
      kill_grace: durationMs.optional(),
    })
    .optional(),
  labgrid: labgridBoardSchema.optional(),
  fatal: z.array(z.string().min(1)).optional(),
});
const BOARD_KEYS = Object.keys(boardSchema.shape);

const channels = z.number().int().positive().default(1);
const relaySchemas = {
  lcus: z.strictObject({ type: z.literal("lcus"), port: z.string().min(1), channels, baud: z.number().int().positive().default(9600) }),
  "serial-text": z.strictObject({
    type: z.literal("serial-text"),
    port: z.string().min(1),
    baud: z.number().int().positive().default(9600),
    on: z.string().min(1),
    off: z.string().min(1),
    channels,
  }),
  command: z.strictObject({
    type: z.literal("command"),
    on: z.array(z.string()).min(1),
    off: z.array(z.string()).min(1),
    timeout: durationMs.default(10_000),
    kill_grace: durationMs.optional(),
    channels,
  }),
  virtual: z.strictObject({ type: z.literal("virtual"), channels }),
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

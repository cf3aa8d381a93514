// Turns the rig's board specs into live boards for one run: locks first, then virtual parts,
// consoles (capturing from the moment they open), power, reset and flash drivers.
import { dirname, join } from "node:path";
import { InfraError } from "../core/errors.ts";
import type { EventBus } from "../core/events.ts";
import type { Redactor } from "../core/redact.ts";
import { isolate, isolationOf, prepareIsolation } from "./isolation.ts";
import { SerialConsole } from "../board/console/serial-console.ts";
import { CommandFlasher } from "../board/flash/command-flasher.ts";
import { chooseLockDir } from "../board/lock/lock-dir.ts";
import { boardLockKeys, relaySwitchKey } from "../board/lock/lock-keys.ts";
import { acquireAll, withShortLock } from "../board/lock/lock-set.ts";
import { leftBehindGroups } from "../core/child-registry.ts";
import { createRelay, powerFor, resetFor, type Relay } from "../board/power/relays.ts";
import { DtrRtsReset } from "../board/reset/dtr-rts.ts";
import { CommandReset } from "../board/reset/command-reset.ts";
import { FLASHER_PROGRAM, startVirtualBoard } from "../board/virtual/virtual-board.ts";
import { consoleWriteReports } from "../board/virtual/write-reports.ts";
import { programCommand } from "../board/virtual/programs.ts";
import { startVirtualRelay, type VirtualRelay } from "../board/virtual/relay.ts";
import { QEMU_FLASHER_PROGRAM, startQemu } from "./qemu-boards.ts";
import type { Board, PowerProtocol, ResetProtocol } from "../board/types.ts";
import type { RelaySpec } from "../board/spec.ts";
import type { SwitchGuard } from "../board/power/serial-writer.ts";
import { acquirePlace, type AcquiredPlace } from "../lab/labgrid/place.ts";
import type { BoardProfile, BoardSpec, RigSpec } from "../scenario/types.ts";
import type { BoardHandle } from "./board-handle.ts";
import type { ManagedBoard } from "./managed-board.ts";
import { lineEndingOf } from "./device-actions.ts";

export interface RigSession {
  handles: Map<string, BoardHandle>;
  /** Rejects (never resolves) when one of the session's locks turns out taken by another run. */
  lockLost: Promise<never>;
  close(): Promise<void>;
}

export interface RigSessionOptions {
  runDir: string;
  bus: EventBus;
  profiles: Record<string, BoardProfile>;
  signal: AbortSignal;
  lockTimeoutMs?: number;
  /**
   * Where virtual boards keep their PTY links and flash, one folder per board. Default
   * `<runDir>/virtual`; the board commands (rig power/flash/…) pass a per-rig folder under the
   * cache dir so that what `rig flash` wrote is still there for a later `rig power on`.
   */
  virtualDir?: string;
  /** keep `<board>.raw` beside `<board>.log` (default true; a run with secrets turns it off) */
  rawCapture?: boolean;
  /** hides secrets in the board logs */
  redactor?: Redactor;
}

/** What the parts of one session share while it opens: the rig, the options and the clean-ups. */
interface Opening {
  rig: RigSpec;
  options: RigSessionOptions;
  cleanups: Array<() => Promise<void>>;
  log(source: string): (line: string) => void;
  virtualRelays: Map<string, VirtualRelay>;
  relayFor(name: string): Relay;
}

export async function openRigSession(rig: RigSpec, boardNames: string[], options: RigSessionOptions): Promise<RigSession> {
  const { bus } = options;
  const cleanups: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        bus.emit({ type: "log", level: "warn", source: "rig", message: String((err as Error).message ?? err) });
      }
    }
  };
  const log = (source: string) => (line: string) => bus.emit({ type: "log", level: "info", source, message: line });
  let loseLock!: (err: InfraError) => void;
  const lockLost = new Promise<never>((_, reject) => (loseLock = reject));
  lockLost.catch(() => {}); // raced by every step; none may be running when it happens

  try {
    if (boardNames.some((b) => rig.boards[b]?.virtual?.isolated)) await prepareIsolation(log("rig"));
    await acquireLocks(rig, boardNames, options, cleanups, (err) => {
      bus.emit({ type: "log", level: "error", source: "lock", message: err.message });
      loseLock(err);
    });
    const virtualRelays = await startVirtualRelays(rig, boardNames, options, cleanups, log);
    const opening: Opening = { rig, options, cleanups, log, virtualRelays, relayFor: relayPool(rig, virtualRelays, cleanups, log, options.bus) };
    // Boards are brought up side by side: on a fleet most of the time is process start-up.
    const opened = await Promise.allSettled(boardNames.map((name) => openBoard(opening, name)));
    const failed = opened.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failed) throw failed.reason;
    const handles = new Map<string, BoardHandle>();
    opened.forEach((o, i) => handles.set(boardNames[i]!, (o as PromiseFulfilledResult<BoardHandle>).value));
    return { handles, lockLost, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Locks what the boards use physically (ports, relay channels; lock-keys.ts), all in one global
 * order, for the whole session. Relay modules themselves are locked only while switching.
 */
async function acquireLocks(
  rig: RigSpec,
  boardNames: string[],
  options: RigSessionOptions,
  cleanups: Array<() => Promise<void>>,
  onLost: (err: InfraError) => void,
): Promise<void> {
  const { bus } = options;
  const keyContext = { rigName: rig.name, relays: rig.relays, rigDir: dirname(rig.file), ...(options.virtualDir ? { virtualDir: options.virtualDir } : {}) };
  const keys = (await Promise.all(boardNames.map((name) => boardLockKeys(rig.boards[name]!, keyContext)))).flat();
  if (keys.length === 0) return;
  const dir = lockDirOf(rig, bus);
  const locks = await acquireAll(keys, {
    dir,
    timeoutMs: options.lockTimeoutMs ?? 600_000,
    signal: options.signal,
    onWait: (holder, _record, wanted) => bus.emit({ type: "log", level: "warn", source: "lock", message: `waiting for lock on ${wanted.what} held by ${holder}` }),
    onTakeover: (holder, why) => bus.emit({ type: "log", level: "warn", source: "lock", message: `took over a stale lock of ${holder}: ${why}` }),
    onLost,
  });
  bus.emit({ type: "log", level: "info", source: "lock", message: `locked in ${dir}: ${locks.keys.map((k) => k.key).join(", ")}` });
  cleanups.push(async () => {
    // A tool that outlived SIGKILL may still drive the hardware: its locks stay, marked with it.
    const left = leftBehindGroups();
    if (left.length === 0) return locks.release();
    await locks.keepMarked(left);
    const tools = left.map((g) => `${g.what} (process group ${g.pgid})`).join(", ");
    bus.emit({ type: "log", level: "error", source: "lock", message: `locks kept, marked for the next run: ${tools} still running after SIGKILL` });
  });
}

function lockDirOf(rig: RigSpec, bus: EventBus): string {
  const choice = chooseLockDir(rig.lockDir);
  if (choice.warning) bus.emit({ type: "log", level: "warn", source: "lock", message: choice.warning });
  return choice.dir;
}

/**
 * A virtual relay is the LCUS emulator on its own PTY; the harness drives it with its real LCUS
 * driver, so the driver is what the virtual rig tests.
 */
async function startVirtualRelays(
  rig: RigSpec,
  boardNames: string[],
  options: RigSessionOptions,
  cleanups: Array<() => Promise<void>>,
  log: (source: string) => (line: string) => void,
): Promise<Map<string, VirtualRelay>> {
  const virtualRelays = new Map<string, VirtualRelay>();
  for (const [relayName, relaySpec] of Object.entries(rig.relays)) {
    if (relaySpec.type !== "virtual") continue;
    if (!boardNames.some((b) => usesRelay(rig.boards[b]!, relayName))) continue;
    const relay = await startVirtualRelay({
      name: relayName,
      workDir: join(options.runDir, "virtual", `relay-${relayName}`),
      channels: relaySpec.channels,
      onOutput: log(`relay ${relayName}`),
    });
    cleanups.push(() => relay.stop());
    virtualRelays.set(relayName, relay);
  }
  return virtualRelays;
}

/** A serial relay module may serve boards of several runs: its port is held only while one switch goes out. */
function switchGuard(rig: RigSpec, relay: RelaySpec & { name: string }, bus: EventBus): { guard?: SwitchGuard } {
  const key = relaySwitchKey(relay);
  if (!key) return {};
  let dir: string | undefined;
  return {
    guard: (fn) => withShortLock(key, `relay module ${relay.name}`, (dir ??= lockDirOf(rig, bus)), 10_000, fn),
  };
}

/** One driver per relay module, made when a board first needs it and closed with the session. */
function relayPool(
  rig: RigSpec,
  virtualRelays: Map<string, VirtualRelay>,
  cleanups: Array<() => Promise<void>>,
  log: (source: string) => (line: string) => void,
  bus: EventBus,
): (name: string) => Relay {
  const relays = new Map<string, Relay>();
  const virtualRelayDriver = (spec: { channels: number }, name: string): Relay => {
    const emulator = virtualRelays.get(name);
    if (!emulator) throw new InfraError(`relay ${name}: its emulator was not started`);
    return createRelay({ type: "lcus", name, port: emulator.port, channels: spec.channels, baud: 9600 });
  };
  return (relayName) => {
    let relay = relays.get(relayName);
    if (!relay) {
      const relaySpec = rig.relays[relayName];
      if (!relaySpec) throw new InfraError(`rig ${rig.name}: no relay "${relayName}"`);
      // A command relay runs in the rig file's directory, like the flasher; its output goes to run.log.
      relay = createRelay(relaySpec, log(`relay ${relayName}`), { virtual: virtualRelayDriver, cwd: dirname(rig.file), ...switchGuard(rig, relaySpec, bus) });
      relays.set(relayName, relay);
      const opened = relay;
      cleanups.push(() => opened.close());
    }
    return relay;
  };
}

async function openBoard(o: Opening, name: string): Promise<BoardHandle> {
  const spec = o.rig.boards[name]!;
  const profile = o.options.profiles[spec.profile];
  if (!profile) throw new InfraError(`board ${name}: profile ${spec.profile} was not loaded`);
  const fields: Record<string, string> = {};
  // a QEMU board reads its uplink (the board's network proxy, set once the server is up) at each power on
  const virtual: ManagedBoard | undefined = spec.virtual
    ? await startVirtual(o, spec)
    : spec.qemu
      ? await startQemu(spec, managedDir(o, spec), o.log(`${spec.name} (qemu)`), o.cleanups, () => fields.server_url)
      : undefined;
  const lab = spec.labgrid ? await acquireLabgridPlace(o, spec) : undefined;
  const port = virtual?.consolePort ?? lab?.consoleUrl ?? spec.console.url ?? spec.console.port;
  if (!port) throw new InfraError(`board ${name} has no console port`);
  const console = await openConsole(o, spec, profile, port);

  if (virtual) wireVirtualRelays(spec, virtual, o.virtualRelays);
  const power = settledPower(powerOf(spec, virtual, o.relayFor) ?? lab?.power, spec, o.virtualRelays);
  const reset = settledReset(resetOf(o, spec, virtual, console), spec, o.virtualRelays);
  if (virtual && power) o.cleanups.push(() => power.off()); // a virtual board is powered down with the run
  Object.assign(fields, {
    ...spec.extra,
    ...lab?.fields,
    name,
    serial: spec.serialNumber,
    serial_number: spec.serialNumber,
    port,
    profile: spec.profile,
    ...(virtual?.fields ?? {}),
  });
  const flash = spec.flash ? await flasherFor(o, spec, console, port, fields, virtual) : undefined;
  const board: Board = {
    name,
    serialNumber: spec.serialNumber,
    console,
    fields,
    ...(power ? { power } : {}),
    ...(reset ? { reset } : {}),
    ...(flash ? { flash } : {}),
    // a virtual board reports its writes on a side channel, a QEMU guest on its console
    ...(virtual?.writes ? { writes: virtual.writes } : spec.qemu ? { writes: consoleWriteReports(console) } : {}),
  };
  return { board, spec, profile, ...isolationOf(o, name) };
}

function managedDir(o: Opening, spec: BoardSpec): string {
  return join(o.options.virtualDir ?? join(o.options.runDir, "virtual"), spec.name);
}

/** A labgrid place: reserved and acquired now, released (reservation cancelled first) with the session. */
async function acquireLabgridPlace(o: Opening, spec: BoardSpec): Promise<AcquiredPlace> {
  const { bus } = o.options;
  const place = await acquirePlace({
    board: spec.name,
    spec: spec.labgrid!,
    ...(o.rig.lockDir ? { lockDir: o.rig.lockDir } : {}),
    waitTimeoutMs: o.options.lockTimeoutMs ?? 600_000,
    signal: o.options.signal,
    log: (level, message) => bus.emit({ type: "log", level, source: spec.name, message }),
  });
  o.cleanups.push(() => place.release());
  return place;
}

async function startVirtual(o: Opening, spec: BoardSpec): Promise<ManagedBoard> {
  const virtual = await startVirtualBoard({
    ...(spec.virtual!.isolated ? await isolate(o, spec.name, o.log(spec.name)) : {}), // its own network namespace
    name: spec.name,
    serialNumber: spec.serialNumber,
    workDir: managedDir(o, spec),
    config: spec.virtual!.config,
    onOutput: o.log(`${spec.name} (virtual board process)`),
  });
  o.cleanups.push(() => virtual.stop());
  return { consolePort: virtual.consolePort, power: virtual.power, reset: virtual.reset, writes: virtual.writes, fields: { flash_dir: virtual.flashDir } };
}

/** Opens the board's console; capture into `<board>.log` starts now and lasts the session. */
async function openConsole(o: Opening, spec: BoardSpec, profile: BoardProfile, port: string): Promise<SerialConsole> {
  const { bus, runDir } = o.options;
  const name = spec.name;
  const console = new SerialConsole({
    board: name,
    port,
    baud: spec.console.baud,
    lineEnding: lineEndingOf({ spec, profile }),
    reconnectTimeoutMs: spec.console.reconnectTimeoutMs,
    ...pick(spec.console, ["dtr", "rts", "hupcl"]),
    logFile: join(runDir, `${name}.log`),
    ...(o.options.rawCapture !== false ? { rawFile: join(runDir, `${name}.raw`) } : {}),
    ...(o.options.redactor ? { redactor: o.options.redactor } : {}),
    clockOrigin: bus.startedAt,
  });
  console.onLine((line) => bus.emit({ type: "console.line", board: name, text: line.text, ...(line.printed !== undefined ? { printed: line.printed } : {}) }));
  console.onGap((message) => bus.emit({ type: "console.gap", board: name, message }));
  await console.open();
  o.cleanups.push(() => console.close());
  return console;
}

async function flasherFor(
  o: Opening,
  spec: BoardSpec,
  console: SerialConsole,
  port: string,
  fields: Record<string, string>,
  virtual: ManagedBoard | undefined,
): Promise<CommandFlasher> {
  const flash = spec.flash!;
  return new CommandFlasher({
    command: flash.command,
    cwd: flash.cwd,
    timeoutMs: flash.timeoutMs,
    ...(flash.progress ? { progress: flash.progress } : {}),
    placeholders: {
      port,
      node: process.execPath,
      ...(spec.virtual ? { virtual_flasher: await virtualFlasher() } : {}),
      ...(spec.qemu ? { qemu_flasher: await virtualFlasher(QEMU_FLASHER_PROGRAM) } : {}),
      ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [`board.${k}`, v])),
    },
    sharePort: flash.sharePort,
    what: `flasher of board ${spec.name}`,
    ...(flash.killGraceMs !== undefined ? { killGraceMs: flash.killGraceMs } : {}),
    console,
    onOutput: o.log(`${spec.name} flasher`),
  });
}

/** The virtual flasher as one runnable file (`{node} {virtual_flasher} …` in a virtual rig). */
async function virtualFlasher(program = FLASHER_PROGRAM): Promise<string> {
  const command = await programCommand(program);
  if (command.length !== 1) throw new InfraError(`could not compile the flasher ${program} (is esbuild installed?)`);
  return command[0]!;
}

function usesRelay(spec: BoardSpec, relay: string): boolean {
  return (spec.power !== undefined && "relay" in spec.power && spec.power.relay === relay) ||
    (spec.reset !== undefined && "relay" in spec.reset && spec.reset.relay === relay);
}

/** Wires the emulated relay's channels to the virtual board: power channel = its supply, reset channel held = in reset. */
function wireVirtualRelays(spec: BoardSpec, board: ManagedBoard, relays: Map<string, VirtualRelay>): void {
  if (spec.power && "relay" in spec.power) relays.get(spec.power.relay)?.wirePower(spec.power.channel, board.power);
  if (spec.reset && "relay" in spec.reset) {
    relays.get(spec.reset.relay)?.wire(spec.reset.channel, (held) => (held ? board.power.off() : board.power.on()));
  }
}

/** Through an emulated relay a switch lands a moment after the frame is sent: wait for it, so steps stay in order. */
function settledPower(power: PowerProtocol | undefined, spec: BoardSpec, relays: Map<string, VirtualRelay>): PowerProtocol | undefined {
  const relay = power && spec.power && "relay" in spec.power ? relays.get(spec.power.relay) : undefined;
  if (!power || !relay) return power;
  return {
    on: async (signal) => (await power.on(signal), await relay.settled()),
    off: async (signal) => (await power.off(signal), await relay.settled()),
    cycle: async (offMs, signal) => (await power.cycle(offMs, signal), await relay.settled()),
  };
}

function settledReset(reset: ResetProtocol | undefined, spec: BoardSpec, relays: Map<string, VirtualRelay>): ResetProtocol | undefined {
  const relay = reset && spec.reset && "relay" in spec.reset ? relays.get(spec.reset.relay) : undefined;
  if (!reset || !relay) return reset;
  return { reset: async (signal) => (await reset.reset(signal), await relay.settled()) };
}

function powerOf(spec: BoardSpec, virtual: ManagedBoard | undefined, relayFor: (name: string) => Relay): PowerProtocol | undefined {
  if (!spec.power) return undefined;
  if ("virtual" in spec.power) {
    if (!virtual) throw new InfraError(`board ${spec.name}: power: virtual needs a virtual or qemu board`);
    return virtual.power;
  }
  return powerFor(relayFor(spec.power.relay), spec.power.channel);
}

function resetOf(o: Opening, spec: BoardSpec, virtual: ManagedBoard | undefined, console: SerialConsole): ResetProtocol | undefined {
  const r = spec.reset;
  if (!r) return undefined;
  if ("virtual" in r) {
    if (!virtual) throw new InfraError(`board ${spec.name}: reset: virtual needs a virtual or qemu board`);
    return virtual.reset;
  }
  if ("relay" in r) return resetFor(o.relayFor(r.relay), r.channel, r.pulseMs);
  if ("method" in r) return new DtrRtsReset(console, r.sequence);
  // Like the flasher: runs in the rig file's directory, its output in run.log.
  return new CommandReset({
    command: r.command,
    timeoutMs: r.timeoutMs,
    cwd: dirname(o.rig.file),
    onOutput: o.log(`${spec.name} reset`),
    what: `reset command of board ${spec.name}`,
    ...(r.killGraceMs !== undefined ? { killGraceMs: r.killGraceMs } : {}),
  });
}

/** The keys of `from` that are set (exactOptionalPropertyTypes keeps undefined out of options). */
function pick<T extends object, K extends keyof T>(from: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out;
}

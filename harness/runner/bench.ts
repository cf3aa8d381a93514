// Turns the rig's board specs into live boards for one run: locks first, then virtual parts,
// consoles (capturing from the moment they open), power, reset and flash drivers.
import { join } from "node:path";
import { InfraError } from "../core/errors.ts";
import type { EventBus } from "../core/events.ts";
import { SerialConsole } from "../board/console/serial-console.ts";
import { CommandFlasher } from "../board/flash/command-flasher.ts";
import { BoardLock } from "../board/lock/board-lock.ts";
import { createRelay, powerFor, resetFor, type Relay } from "../board/power/relays.ts";
import { DtrRtsReset } from "../board/reset/dtr-rts.ts";
import { CommandReset } from "../board/reset/command-reset.ts";
import { FLASHER_PROGRAM, startVirtualBoard, type VirtualBoard } from "../board/virtual/bench.ts";
import { programCommand } from "../board/virtual/programs.ts";
import { startVirtualRelay, type VirtualRelay } from "../board/virtual/relay.ts";
import type { Board, PowerProtocol, ResetProtocol } from "../board/types.ts";
import type { BoardProfile, BoardSpec, RigSpec } from "../scenario/types.ts";
import type { BoardHandle } from "./context.ts";

export interface Bench {
  handles: Map<string, BoardHandle>;
  close(): Promise<void>;
}

export interface BenchOptions {
  runDir: string;
  bus: EventBus;
  profiles: Record<string, BoardProfile>;
  signal: AbortSignal;
  lockTimeoutMs?: number;
  /**
   * Where virtual boards keep their PTY links and flash, one folder per board. Default
   * `<runDir>/virtual`; the bench commands (rig power/flash/…) pass a per-rig folder under the
   * cache dir so that what `rig flash` wrote is still there for a later `rig power on`.
   */
  virtualDir?: string;
}

export async function openBench(rig: RigSpec, boardNames: string[], options: BenchOptions): Promise<Bench> {
  const { bus, runDir } = options;
  const cleanups: Array<() => Promise<void>> = [];
  const handles = new Map<string, BoardHandle>();
  const relays = new Map<string, Relay>();
  const close = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        bus.emit({ type: "log", level: "warn", source: "bench", message: String((err as Error).message ?? err) });
      }
    }
  };
  const log = (source: string) => (line: string) => bus.emit({ type: "log", level: "info", source, message: line });

  try {
    for (const name of boardNames) {
      const spec = rig.boards[name]!;
      const lock = new BoardLock({ board: `${rig.name}.${name}`, ...(rig.lockDir ? { dir: rig.lockDir } : {}) });
      await lock.acquire({
        timeoutMs: options.lockTimeoutMs ?? 600_000,
        onWait: (holder) => bus.emit({ type: "log", level: "warn", source: name, message: `waiting for lock held by ${holder}` }),
        onTakeover: (holder) => bus.emit({ type: "log", level: "warn", source: name, message: `took over a stale lock of ${holder}` }),
      });
      cleanups.push(() => lock.release());
    }

    // A virtual relay is the LCUS emulator on its own PTY; the harness drives it with its real
    // LCUS driver, so the driver is what the virtual rig tests.
    const virtualRelays = new Map<string, VirtualRelay>();
    for (const [relayName, relaySpec] of Object.entries(rig.relays)) {
      if (relaySpec.type !== "virtual") continue;
      if (!boardNames.some((b) => usesRelay(rig.boards[b]!, relayName))) continue;
      const relay = await startVirtualRelay({
        name: relayName,
        workDir: join(runDir, "virtual", `relay-${relayName}`),
        channels: relaySpec.channels,
        onOutput: log(`relay ${relayName}`),
      });
      cleanups.push(() => relay.stop());
      virtualRelays.set(relayName, relay);
    }
    const virtualRelayDriver = (spec: { channels: number }, name: string): Relay => {
      const emulator = virtualRelays.get(name);
      if (!emulator) throw new InfraError(`relay ${name}: its emulator was not started`);
      return createRelay({ type: "lcus", name, port: emulator.port, channels: spec.channels, baud: 9600 });
    };

    const relayFor = (relayName: string): Relay => {
      let relay = relays.get(relayName);
      if (!relay) {
        const relaySpec = rig.relays[relayName];
        if (!relaySpec) throw new InfraError(`rig ${rig.name}: no relay "${relayName}"`);
        relay = createRelay(relaySpec, log(`relay ${relayName}`), { virtual: virtualRelayDriver });
        relays.set(relayName, relay);
        cleanups.push(() => relay!.close());
      }
      return relay;
    };

    // Boards are brought up side by side: on a fleet most of the time is process start-up.
    const openBoard = async (name: string): Promise<BoardHandle> => {
      const spec = rig.boards[name]!;
      const profile = options.profiles[spec.profile];
      if (!profile) throw new InfraError(`board ${name}: profile ${spec.profile} was not loaded`);
      let virtual: VirtualBoard | undefined;
      if (spec.virtual) {
        virtual = await startVirtualBoard({
          name,
          serialNumber: spec.serialNumber,
          workDir: join(options.virtualDir ?? join(runDir, "virtual"), name),
          config: spec.virtual.config,
          onOutput: log(`${name} (virtual board process)`),
        });
        const v = virtual;
        cleanups.push(() => v.stop());
      }
      const port = virtual?.consolePort ?? spec.console.port;
      if (!port) throw new InfraError(`board ${name} has no console port`);
      const console = new SerialConsole({
        board: name,
        port,
        baud: spec.console.baud,
        lineEnding: spec.console.lineEnding,
        reconnectTimeoutMs: spec.console.reconnectTimeoutMs,
        logFile: join(runDir, `${name}.log`),
        clockOrigin: bus.startedAt,
      });
      console.onLine((line) => bus.emit({ type: "console.line", board: name, text: line.text }));
      console.onGap((message) => bus.emit({ type: "console.gap", board: name, message }));
      await console.open();
      cleanups.push(() => console.close());

      if (virtual) wireVirtualRelays(spec, virtual, virtualRelays);
      const power = settledPower(powerOf(spec, virtual, relayFor), spec, virtualRelays);
      const reset = settledReset(resetOf(spec, virtual, relayFor, console), spec, virtualRelays);
      if (virtual && power) cleanups.push(() => power.off()); // a virtual board is powered down with the run
      const fields: Record<string, string> = {
        ...spec.extra,
        name,
        serial: spec.serialNumber,
        serial_number: spec.serialNumber,
        port,
        profile: spec.profile,
        ...(virtual ? { flash_dir: virtual.flashDir } : {}),
      };
      const flash = spec.flash
        ? new CommandFlasher({
            command: spec.flash.command,
            cwd: spec.flash.cwd,
            timeoutMs: spec.flash.timeoutMs,
            ...(spec.flash.progress ? { progress: spec.flash.progress } : {}),
            placeholders: {
              port,
              node: process.execPath,
              ...(virtual ? { virtual_flasher: await virtualFlasher() } : {}),
              ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [`board.${k}`, v])),
            },
            sharePort: spec.flash.sharePort,
            console,
            onOutput: log(`${name} flasher`),
          })
        : undefined;
      const board: Board = {
        name,
        serialNumber: spec.serialNumber,
        console,
        fields,
        ...(power ? { power } : {}),
        ...(reset ? { reset } : {}),
        ...(flash ? { flash } : {}),
      };
      return { board, spec, profile };
    };
    const opened = await Promise.allSettled(boardNames.map(openBoard));
    const failed = opened.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failed) throw failed.reason;
    opened.forEach((o, i) => handles.set(boardNames[i]!, (o as PromiseFulfilledResult<BoardHandle>).value));
  } catch (err) {
    await close();
    throw err;
  }
  return { handles, close };
}

/** The virtual flasher as one runnable file (`{node} {virtual_flasher} …` in a virtual rig). */
async function virtualFlasher(): Promise<string> {
  const command = await programCommand(FLASHER_PROGRAM);
  if (command.length !== 1) throw new InfraError(`could not compile the virtual flasher ${FLASHER_PROGRAM} (is esbuild installed?)`);
  return command[0]!;
}

function usesRelay(spec: BoardSpec, relay: string): boolean {
  return (spec.power !== undefined && "relay" in spec.power && spec.power.relay === relay) ||
    (spec.reset !== undefined && "relay" in spec.reset && spec.reset.relay === relay);
}

/** Wires the emulated relay's channels to the virtual board: power channel = its supply, reset channel held = in reset. */
function wireVirtualRelays(spec: BoardSpec, board: VirtualBoard, relays: Map<string, VirtualRelay>): void {
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
    on: async () => (await power.on(), await relay.settled()),
    off: async () => (await power.off(), await relay.settled()),
    cycle: async (offMs) => (await power.cycle(offMs), await relay.settled()),
  };
}

function settledReset(reset: ResetProtocol | undefined, spec: BoardSpec, relays: Map<string, VirtualRelay>): ResetProtocol | undefined {
  const relay = reset && spec.reset && "relay" in spec.reset ? relays.get(spec.reset.relay) : undefined;
  if (!reset || !relay) return reset;
  return { reset: async () => (await reset.reset(), await relay.settled()) };
}

function powerOf(spec: BoardSpec, virtual: VirtualBoard | undefined, relayFor: (name: string) => Relay): PowerProtocol | undefined {
  if (!spec.power) return undefined;
  if ("virtual" in spec.power) {
    if (!virtual) throw new InfraError(`board ${spec.name}: power: virtual needs a virtual board`);
    return virtual.power;
  }
  return powerFor(relayFor(spec.power.relay), spec.power.channel);
}

function resetOf(
  spec: BoardSpec,
  virtual: VirtualBoard | undefined,
  relayFor: (name: string) => Relay,
  console: SerialConsole,
): ResetProtocol | undefined {
  const r = spec.reset;
  if (!r) return undefined;
  if ("virtual" in r) {
    if (!virtual) throw new InfraError(`board ${spec.name}: reset: virtual needs a virtual board`);
    return virtual.reset;
  }
  if ("relay" in r) return resetFor(relayFor(r.relay), r.channel, r.pulseMs);
  if ("method" in r) return new DtrRtsReset(console, r.sequence);
  return new CommandReset(r.command, r.timeoutMs);
}

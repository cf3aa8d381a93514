// A virtual LCUS relay on the harness side: the emulator program (devices/relay-lcus.ts) on the
// device end of its own PTY pair. The harness's real LCUS driver opens `port`; each channel can
// be wired to something it switches, e.g. a virtual board's power.
import { spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { mkdirSync } from "node:fs";
import { InfraError } from "../../core/errors.ts";
import { trackChild } from "../../core/child-registry.ts";
import type { PowerProtocol } from "../types.ts";
import { openPtyPair } from "./pty-pair.ts";
import { RELAY_PROGRAM, REPO_ROOT } from "./paths.ts";
import { programCommand } from "./programs.ts";

export interface VirtualRelayOptions {
  name: string;
  /** holds the PTY links (`console`, `device`) */
  workDir: string;
  channels: number;
  /** the emulator's own output (events, ignored frames), line by line */
  onOutput?: (line: string) => void;
  readyTimeoutMs?: number;
}

export interface VirtualRelay {
  readonly name: string;
  /** the harness end: open it as the relay module's serial port */
  readonly port: string;
  isOn(channel: number): boolean;
  /** Calls `target(on)` whenever `channel` switches; switches are applied one at a time, in order. */
  wire(channel: number, target: (on: boolean) => Promise<void>): void;
  /** Wires a channel to a power protocol: closed relay = power on. */
  wirePower(channel: number, power: PowerProtocol): void;
  /** Resolves once every switch seen so far has been applied to its target. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export async function startVirtualRelay(opts: VirtualRelayOptions): Promise<VirtualRelay> {
  const workDir = resolve(opts.workDir);
  mkdirSync(workDir, { recursive: true });
  const output = opts.onOutput ?? (() => {});
  const pty = await openPtyPair(join(workDir, "console"), join(workDir, "device"), { onOutput: (l) => output(`socat: ${l}`) });
  const states = new Map<number, boolean>();
  const targets = new Map<number, (on: boolean) => Promise<void>>();
  let chain: Promise<void> = Promise.resolve();

  const child: ChildProcess = spawn(process.execPath, [...(await programCommand(RELAY_PROGRAM)), "--tty", pty.b, "--channels", String(opts.channels)], {
    cwd: REPO_ROOT,
    stdio: ["pipe", "pipe", "pipe"], // stdin pipe: the emulator exits when we do
    detached: true, // own process group: a Ctrl-C at the terminal is the harness's to handle
  });
  if (child.pid !== undefined) child.once("exit", trackChild(child.pid, `LCUS relay emulator ${opts.name}`));
  const exited = new Promise<void>((done) => {
    child.once("exit", () => done());
    child.once("error", () => done());
  });
  if (child.stderr) createInterface({ input: child.stderr }).on("line", output);

  const ready = new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new InfraError(`virtual relay ${opts.name}: the LCUS emulator did not report ready within ${opts.readyTimeoutMs ?? 10_000} ms`)), opts.readyTimeoutMs ?? 10_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new InfraError(`virtual relay ${opts.name}: the LCUS emulator exited (code ${code}) before it was ready`));
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      output(line);
      let event: { event?: string; channel?: number; on?: boolean };
      try {
        event = JSON.parse(line) as typeof event;
      } catch {
        return;
      }
      if (event.event === "ready") {
        clearTimeout(timer);
        ok();
      } else if (event.event === "switch" && typeof event.channel === "number" && typeof event.on === "boolean") {
        const { channel, on } = event;
        states.set(channel, on);
        const target = targets.get(channel);
        if (target) chain = chain.then(() => target(on)).catch((err: unknown) => output(`channel ${channel}: ${String(err)}`));
      }
    });
  });

  const stop = async () => {
    child.stdin?.end();
    child.kill("SIGTERM");
    await exited;
    await chain;
    await pty.close();
  };
  try {
    await ready;
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    await pty.close();
    throw err;
  }

  return {
    name: opts.name,
    port: pty.a,
    isOn: (channel) => states.get(channel) ?? false,
    wire: (channel, target) => void targets.set(channel, target),
    wirePower: (channel, power) => void targets.set(channel, (on) => (on ? power.on() : power.off())),
    settled: () => chain,
    stop,
  };
}

// A real labgrid lab for one test file: the shared recipe's coordinator, exporter (its serial
// port exported through ser2net as RFC 2217) and fake PDU on 127.0.0.1 with ports of its own,
// and on the far end of that serial port the virtual board program, powered by the PDU's
// outlet 1 (the recipe's fakeboard.py is stopped: otarig's board takes its place).
import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { REPO_ROOT } from "../../../harness/board/virtual/paths.ts";
import { freePort } from "../../board/helpers/ser2net.ts";
import { PoweredBoard, sharedDir } from "./powered-board.ts";

const run = promisify(execFile);

export const LG_VENV = process.env.OTARIG_LABGRID_VENV ?? join(REPO_ROOT, ".labgrid-venv");
export const LG_CLIENT = join(LG_VENV, "bin", "labgrid-client");

export class Lab {
  readonly state: string;
  coordinator = "";
  powerPort = 0;
  board: PoweredBoard | undefined;

  constructor(readonly dir: string) {
    this.state = join(dir, "lab");
  }

  /** Starts the lab, replaces fakeboard.py by the virtual board, creates place `name` with `tags`. */
  async up(place: string, tags: Record<string, string>, boardConfig?: Record<string, unknown>): Promise<void> {
    if (!existsSync(LG_CLIENT)) throw new Error(`no labgrid at ${LG_VENV}: run scripts/ci/labgrid.sh (or set OTARIG_LABGRID_VENV)`);
    const coordPort = await freePort();
    this.powerPort = await freePort();
    this.coordinator = `127.0.0.1:${coordPort}`;
    const env = { ...process.env, LG_VENV, LG_COORD_PORT: String(coordPort), LG_POWER_PORT: String(this.powerPort) };
    await run(join(sharedDir(), "labgrid", "lab-up.sh"), [this.state], { env, timeout: 60_000 });
    // otarig's board on the device end of the exported serial line, instead of the fake one
    process.kill(-Number(readFileSync(join(this.state, "fakeboard.pid"), "utf8")), "SIGTERM");
    this.board = new PoweredBoard({
      tty: join(this.state, "dev"),
      flashDir: join(this.dir, "flash"),
      serial: "VB-LG-1",
      ...(boardConfig ? { config: boardConfig } : {}),
      outlet: async () => (await (await fetch(`http://127.0.0.1:${this.powerPort}/outlet/1`, { signal: AbortSignal.timeout(2000) })).text()).trim() === "1",
    });
    this.board.start();
    await this.client(["-p", place, "create"], "admin");
    await this.client(["-p", place, "add-match", "exp1/virt-board-1/*"], "admin");
    await this.client(["-p", place, "set-tags", ...Object.entries(tags).map(([k, v]) => `${k}=${v}`)], "admin");
  }

  async down(): Promise<void> {
    await this.board?.stop();
    if (existsSync(this.state)) await run(join(sharedDir(), "labgrid", "lab-down.sh"), [this.state], { timeout: 30_000 }).catch(() => undefined);
  }

  async client(args: string[], user = "tester"): Promise<string> {
    const { stdout, stderr } = await run(LG_CLIENT, args, {
      env: { ...process.env, LG_COORDINATOR: this.coordinator, LG_USERNAME: user },
      timeout: 30_000,
    });
    return stdout + stderr;
  }

  /** The place's holder (`host/user`) and reservation, as the coordinator has them. */
  async placeState(place: string): Promise<{ acquired?: string; reservation?: string }> {
    const out = await this.client(["-v", "places"]);
    const block = out.split(/^Place /m).find((b) => b.startsWith(`'${place}'`)) ?? "";
    const acquired = /^ {2}acquired: (.*)$/m.exec(block)?.[1];
    const reservation = /^ {2}reservation: (.*)$/m.exec(block)?.[1];
    return { ...(acquired && acquired !== "None" ? { acquired } : {}), ...(reservation ? { reservation } : {}) };
  }

  /** The PDU requests labgrid-client made (switching only, not the board supervisor's reads). */
  switched(): string[] {
    return readFileSync(join(this.state, "power.log"), "utf8")
      .split("\n")
      .filter((l) => /"\/outlet\/1\/[01]"/.test(l))
      .map((l) => JSON.parse(l).path as string);
  }

  /** A rig with one board from this lab: `labgrid` is the board's labgrid key (place or tags). */
  async writeRig(file: string, labgrid: Record<string, unknown>): Promise<void> {
    const rig = {
      name: "lab",
      lock_dir: join(this.dir, "locks"),
      // the board program runs on this host: it reaches its proxy on loopback, never the host's LAN address
      network: { address: "127.0.0.1" },
      boards: {
        dut: {
          serial_number: "VB-LG-1",
          profile: join(REPO_ROOT, "fixtures/profiles/virtual-board.yaml"),
          labgrid: { coordinator: this.coordinator, client: LG_CLIENT, power: "power", ...labgrid },
          flash: { command: await PoweredBoard.flasherCommand(join(this.dir, "flash")), progress: "\\((?<percent>\\d+) ?%\\)", timeout: "30s" },
        },
      },
    };
    writeFileSync(file, stringify(rig));
  }
}

/**
 * A shipped scenario pointed at another rig file (fixtures as absolute paths). Its first boot
 * banner is expected `since: boot`: `labgrid-client power cycle` returns a second or more after
 * it switched the outlet back on (Python exit, gRPC teardown; several seconds on a loaded runner),
 * so the board may have printed its banner before the power step ended, and the default
 * `since: step` would not look at it (docs/benches.md, "Boards from a labgrid lab").
 */
export function scenarioOn(shipped: string, rigFile: string, out: string, edit: (text: string) => string = (t) => t): void {
  const text = readFileSync(join(REPO_ROOT, "scenarios", `${shipped}.yaml`), "utf8")
    .replace("rig: ../rigs/virtual.yaml", `rig: ${rigFile}`)
    .replaceAll("../fixtures/", `${join(REPO_ROOT, "fixtures")}/`)
    .replace(/(- expect: \{ board: dut, pattern: '[^']*', )(within: \d+s \})/, "$1since: boot, $2");
  writeFileSync(out, edit(text));
}

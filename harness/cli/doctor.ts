// rig doctor: checks the machine (and a rig's hardware) and explains what is wrong. Exit 3
// when something the given rig needs is missing, so a lab runner can gate on it.
import { accessSync, constants, existsSync } from "node:fs";
import { userInfo } from "node:os";
import { delimiter, join } from "node:path";
import { EXIT_CODES, ScenarioError } from "../core/errors.ts";
import { commandHelp } from "./help.ts";
import { checkNetwork } from "./doctor-network.ts";
import { containerEngineAvailable } from "../server/engine.ts";
import { requireSocat, SOCAT_INSTALL } from "../board/virtual/virtual-board.ts";
import { qemuCacheDir, qemuMissing } from "../board/qemu/guest-images.ts";
import { loadRig } from "../scenario/load-rig.ts";
import { CHROMIUM_INSTALL, findChromium } from "../browser/chromium.ts";
import { chooseLockDir } from "../board/lock/lock-dir.ts";
import { loadProfile } from "../scenario/load-profile.ts";
import { checkRemoteBoards } from "./doctor-remote.ts";
import type { RigSpec } from "../scenario/types.ts";

type Level = "ok" | "warn" | "FAIL";
interface Check {
  level: Level;
  what: string;
  detail: string;
}

export async function doctorCommand(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(commandHelp("doctor"));
    return 0;
  }
  const checks: Check[] = [];
  const add = (level: Level, what: string, detail: string) => checks.push({ level, what, detail });

  const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
  add(major > 20 || (major === 20 && minor >= 19) ? "ok" : "FAIL", "node", `v${process.versions.node} (needs >= 20.19)`);

  let rig: RigSpec | undefined;
  if (argv[0]) {
    try {
      rig = await loadRig(argv[0]);
      add("ok", "rig", `${argv[0]}: ${Object.keys(rig.boards).length} board(s), ${Object.keys(rig.relays).length} relay(s)`);
    } catch (err) {
      if (!(err instanceof ScenarioError)) throw err;
      add("FAIL", "rig", err.toString());
    }
  }
  const needsSocat = !rig || Object.values(rig.boards).some((b) => b.virtual || b.qemu);
  try {
    add("ok", "socat", requireSocat());
  } catch {
    add(needsSocat && rig ? "FAIL" : "warn", "socat", `not installed; the virtual rig needs it: ${SOCAT_INSTALL}`);
  }
  const engine = await containerEngineAvailable();
  add(
    engine ? "ok" : "warn",
    "container engine",
    engine
      ? "answers: server mode auto runs the OTA server in a container"
      : "not answering: server mode auto runs the OTA server as a process (start dockerd for container mode)",
  );
  const chromium = findChromium();
  add(
    chromium.path ? "ok" : "warn",
    "chromium",
    chromium.path ?? `not found (looked for ${chromium.tried.join(", ")}; browser steps need it: ${CHROMIUM_INSTALL})`,
  );

  const locks = chooseLockDir(rig?.lockDir);
  add(locks.perUser ? "warn" : "ok", "lock dir", locks.perUser ? (locks.warning ?? locks.dir) : `${locks.dir} (shared by every user of this host)`);

  if (rig) {
    checkRig(rig, add);
    await checkRemoteBoards(rig, add);
    for (const board of Object.values(rig.boards)) {
      try {
        const profile = await loadProfile(board.profile);
        add("ok", `board ${board.name}`, `profile ${profile.name}`);
      } catch (err) {
        if (!(err instanceof ScenarioError)) throw err;
        add("FAIL", `board ${board.name}`, `profile: ${err.toString()}`);
      }
    }
    await checkNetwork(rig, add);
  }

  const width = Math.max(...checks.map((c) => c.what.length));
  for (const c of checks) process.stdout.write(`${c.level.padEnd(4)}  ${c.what.padEnd(width)}  ${c.detail}\n`);
  const failed = checks.filter((c) => c.level === "FAIL").length;
  process.stdout.write(failed ? `\n${failed} problem(s) found\n` : "\nall good\n");
  return failed ? EXIT_CODES.infrastructure : EXIT_CODES.pass;
}

function checkRig(rig: RigSpec, add: (level: Level, what: string, detail: string) => void): void {
  for (const board of Object.values(rig.boards)) {
    const what = `board ${board.name}`;
    if (board.virtual) {
      add("ok", what, "virtual board (PTY pair made at run time)");
    } else if (board.qemu) {
      for (const [level, detail] of qemuChecks()) add(level, what, detail);
    } else if (board.console.port) {
      add(...portCheck(board.console.port), what, `console ${portDetail(board.console.port)}`);
    }
    const program = board.flash?.command[0];
    if (program && !program.includes("{")) {
      const found = program.includes("/") ? (existsSync(join(board.flash!.cwd, program)) || existsSync(program) ? program : undefined) : findOnPath([program]);
      add(found ? "ok" : "FAIL", what, found ? `flasher ${found}` : `flasher "${program}" not found on PATH`);
    }
  }
  for (const relay of Object.values(rig.relays)) {
    const what = `relay ${relay.name}`;
    if (relay.type === "lcus" || relay.type === "serial-text") add(...portCheck(relay.port), what, `${relay.type} ${portDetail(relay.port)}`);
    else if (relay.type === "command") {
      const program = relay.on[0] ?? "";
      const found = findOnPath([program]);
      add(found ? "ok" : "FAIL", what, found ? `command ${found}` : `command "${program}" not found on PATH`);
    } else add("ok", what, "virtual");
  }
}

/** A QEMU board: qemu-system-x86_64, busybox-static, the guest kernel (npm run qemu:setup). */
function qemuChecks(): Array<[Level, string]> {
  const missing = qemuMissing();
  if (missing.length === 0) return [["ok", `qemu board (guest kernel and images in ${qemuCacheDir()})`]];
  return missing.map((m) => ["FAIL", `qemu board: ${m.what}; fix: ${m.fix}`]);
}

function portCheck(port: string): [Level] {
  if (!existsSync(port)) return ["FAIL"];
  try {
    accessSync(port, constants.R_OK | constants.W_OK);
    return ["ok"];
  } catch {
    return ["FAIL"];
  }
}

function portDetail(port: string): string {
  if (!existsSync(port)) return `${port} is missing: is the adapter plugged in? (ls /dev/serial/by-id/)`;
  try {
    accessSync(port, constants.R_OK | constants.W_OK);
    return `${port} present and read/writable`;
  } catch {
    return `${port} is not read/writable by ${userInfo().username}: add the user to the dialout group (sudo usermod -aG dialout ${userInfo().username}, then log in again)`;
  }
}

function findOnPath(names: string[]): string | undefined {
  for (const name of names) {
    for (const dir of (process.env.PATH ?? "").split(delimiter)) {
      if (!dir) continue;
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        /* keep looking */
      }
    }
  }
  return undefined;
}

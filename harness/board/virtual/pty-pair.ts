// A pseudo-terminal pair made by socat: what a USB-serial cable is on the virtual rig.
// socat runs under a small sh guard that kills it when our stdin pipe closes, so a harness that
// crashes (and so closes the pipe) leaves no stray socat behind.
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, existsSync, rmSync } from "node:fs";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { InfraError } from "../../core/errors.ts";
import { trackChild } from "../../core/child-registry.ts";

export const SOCAT_INSTALL = "sudo apt-get install socat";

/** Throws an InfraError naming the install command when socat is not on PATH. */
export function requireSocat(): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "socat");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new InfraError(`socat is not installed: the virtual rig needs it for its serial lines. Install it with: ${SOCAT_INSTALL}`);
}

const GUARD = `
socat -d "$1" "$2" </dev/null & pid=$!
echo "socat-pid $pid"
cat >/dev/null
kill $pid 2>/dev/null
wait $pid 2>/dev/null
exit 0
`;

export interface PtyPair {
  /** the end the harness opens (the "USB serial adapter") */
  readonly a: string;
  /** the end the device program opens */
  readonly b: string;
  close(): Promise<void>;
}

/** Starts socat linking two PTYs at paths `a` and `b`; resolves once both links exist. */
export async function openPtyPair(a: string, b: string, options: { timeoutMs?: number; onOutput?: (line: string) => void } = {}): Promise<PtyPair> {
  const socat = requireSocat();
  rmSync(a, { force: true });
  rmSync(b, { force: true });
  const guard = spawn("sh", ["-c", GUARD, "pty-pair", `pty,raw,echo=0,link=${socatEscape(a)}`, `pty,raw,echo=0,link=${socatEscape(b)}`], {
    stdio: ["pipe", "pipe", "pipe"],
    detached: true, // own process group: a Ctrl-C at the terminal is the harness's to handle
    env: { ...process.env, PATH: `${join(socat, "..")}${delimiter}${process.env.PATH ?? ""}` },
  });
  if (guard.pid !== undefined) guard.once("exit", trackChild(guard.pid, `socat PTY pair ${a}`));
  let socatPid: number | undefined;
  let stderr = "";
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    const done = () => {
      exited = true;
      resolve();
    };
    guard.once("close", done);
    guard.once("error", done); // reported through `exited` below
  });
  guard.stdout.setEncoding("utf8").on("data", (text: string) => {
    const m = /socat-pid (\d+)/.exec(text);
    if (m?.[1]) socatPid = Number(m[1]);
  });
  guard.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
    for (const line of text.split("\n")) if (line.trim()) options.onOutput?.(line);
  });

  const close = async () => {
    if (!exited) {
      guard.stdin.end();
      await Promise.race([exit, sleep(2000)]);
    }
    if (!exited) killHard(guard, socatPid);
    await exit;
    rmSync(a, { force: true });
    rmSync(b, { force: true });
  };

  const timeoutMs = options.timeoutMs ?? 5000;
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(a) && existsSync(b))) {
    if (exited) {
      await close();
      throw new InfraError(`socat exited before creating the PTY pair ${a} <-> ${b}: ${stderr.trim() || "no message"}`);
    }
    if (Date.now() > deadline) {
      await close();
      throw new InfraError(`timed out after ${timeoutMs} ms waiting for socat to create the PTY links ${a} and ${b}${stderr ? `: ${stderr.trim()}` : ""}`);
    }
    await sleep(10);
  }
  return { a, b, close };
}

/** socat splits addresses at , : ! and friends; a run directory may hold any of them. */
function socatEscape(path: string): string {
  return path.replace(/[\\,:!"'()[\]{}]/g, (c) => `\\${c}`);
}

function killHard(guard: ChildProcess, socatPid: number | undefined): void {
  for (const pid of [socatPid, guard.pid]) {
    if (pid === undefined) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

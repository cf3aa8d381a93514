// The holding terminal's part of --pause-on-failure (the run side is runner/hold.ts): says what
// can be done with the held run, and waits for Enter or Ctrl-C (on a raw terminal Ctrl-C is a
// key, not a signal, so it means "go on" here, not "interrupt").
import type { HoldInfo, PauseHook } from "../runner/hold.ts";
import { abortOf } from "./board-commands.ts";

const GO_ON_KEYS = new Set([0x0d, 0x0a, 0x03]); // Enter (CR or LF), Ctrl-C

/** Why --pause-on-failure is refused, or undefined when it can hold a run here. */
export function pauseRefusal(stdin: { isTTY?: boolean } = process.stdin): string | undefined {
  if (stdin.isTTY) return undefined;
  return "--pause-on-failure holds a failed run open until you press Enter: it needs a terminal, and stdin is not one (CI, a pipe); leave the flag out there";
}

export const pauseInTerminal: PauseHook = async (info, ended) => {
  process.stdout.write(instructions(info));
  const stdin = process.stdin;
  stdin.setRawMode?.(true);
  let onData: ((chunk: Buffer) => void) | undefined;
  try {
    await Promise.race([
      new Promise<void>((resolve) => {
        onData = (chunk) => {
          if (chunk.some((b) => GO_ON_KEYS.has(b))) resolve();
        };
        stdin.on("data", onData);
        stdin.once("end", resolve);
        stdin.resume();
      }),
      abortOf(ended),
    ]);
  } finally {
    if (onData) stdin.off("data", onData);
    stdin.setRawMode?.(false);
    stdin.pause();
  }
  process.stdout.write(ended.aborted ? "rig: the hold ended; tearing down\n" : "rig: going on to teardown and reports\n");
};

function instructions(info: HoldInfo): string {
  const dir = info.runDir;
  const board = info.boards.length === 1 ? info.boards[0]! : "<board>";
  const lines = [
    "",
    `⏸  held after step ${info.step ?? "?"} failed (--pause-on-failure): boards powered, consoles still captured, server up, locks held`,
    `   boards:   ${info.boards.join(", ")}`,
    `   console:  rig attach ${dir} ${board}          (Ctrl-] leaves it; the run keeps the port)`,
    `   power:    rig attach ${dir} ${board} --power cycle|off|on`,
    `   reset:    rig attach ${dir} ${board} --reset`,
  ];
  if (info.server) {
    lines.push(`   server:   ${info.server.url}`);
    lines.push(
      info.server.keyId
        ? `   portal:   ${info.server.portal} — sign in with key id ${info.server.keyId} and the secret in ${info.server.secretFile} (readable by you only)`
        : `   portal:   ${info.server.portal} — sign in with your server's own API key`,
    );
  }
  lines.push(`   go on:    Enter or Ctrl-C here, or rig resume ${dir}: teardown, then the reports`, "");
  return lines.join("\n") + "\n";
}

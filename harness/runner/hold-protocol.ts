// What `rig attach` / `rig resume` and a held run (--pause-on-failure) say to each other over the
// run's unix socket: one JSON object a line, both ways. Bytes travel base64-encoded, so a board's
// binary noise and ANSI escapes survive the framing.
import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";

/** The socket a held run listens on, in its run directory. */
export const HOLD_SOCKET = "attach.sock";
/** The portal's API secret of a held run, readable by its user only; removed with the hold. */
export const PORTAL_SECRET_FILE = "portal-secret";

export type PowerAction = "on" | "off" | "cycle";

/** The client's first line: what it wants. */
export type HoldRequest =
  | { op: "console"; board: string }
  | { op: "power"; board: string; action: PowerAction }
  | { op: "reset"; board: string }
  | { op: "resume" };

/** After a console request: keys as typed (a terminal) or a whole line (piped input). */
export type ConsoleInput = { input: string } | { line: string };

export type HoldReply =
  /** the request is accepted; for a console, the board's prompt (a regex source) for piped input */
  | { ok: true; board?: string; prompt?: string }
  | { error: string }
  /** bytes the board printed */
  | { data: string }
  /** a power or reset action finished (the board's bytes keep coming until the client closes) */
  | { done: string }
  /** the hold ended (resumed): the run goes on to its teardown */
  | { closed: string };

export function encodeLine(message: HoldRequest | ConsoleInput | HoldReply): string {
  return `${JSON.stringify(message)}\n`;
}

/**
 * The path to listen on or connect to. A unix socket path is limited to ~107 bytes: a deep run
 * directory is reached by its path relative to the working directory when that is shorter.
 */
export function socketAddress(runDir: string): string {
  const file = resolve(runDir, HOLD_SOCKET);
  if (file.length < 100) return file;
  const rel = relative(process.cwd(), file);
  return rel.length < file.length ? rel : file;
}

export function isHeld(runDir: string): boolean {
  return existsSync(join(runDir, HOLD_SOCKET));
}

/** Splits a stream into JSON lines; a line that is not JSON is handed over as an error. */
export function jsonLines(onMessage: (message: unknown) => void): (chunk: Buffer) => void {
  let buffered = "";
  return (chunk) => {
    buffered += chunk.toString("utf8");
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!line.trim()) continue;
      try {
        onMessage(JSON.parse(line));
      } catch {
        onMessage({ error: `not a JSON line: ${line.slice(0, 80)}` });
      }
    }
  };
}

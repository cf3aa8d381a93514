// The QMP client against a monitor on a unix socket that misbehaves as a stuck QEMU can: it
// never answers one command, or refuses qmp_capabilities on the first connections. (A real QEMU
// cannot be made to do either on demand; test/qemu covers the client against QEMU itself.)
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { QmpClient } from "../../harness/board/qemu/qmp.ts";
import { InfraError } from "../../harness/core/errors.ts";
import { tempDir } from "./helpers/pty.ts";

let tmp: ReturnType<typeof tempDir> | undefined;
let server: Server | undefined;
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy(); // a leaked client socket would keep close() waiting
  if (server) await new Promise((r) => server!.close(r));
  server = undefined;
  tmp?.cleanup();
});

/** A monitor: greets, then answers each command with `answer` (undefined: never), copying its id as QEMU does. */
async function monitor(answer: (command: string, conn: number) => unknown | undefined): Promise<{ path: string; open: () => number }> {
  tmp = tempDir("otarig-qmp-");
  const path = join(tmp.dir, "qmp.sock");
  let conn = 0;
  server = createServer((s) => {
    const n = ++conn;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    s.write(`${JSON.stringify({ QMP: { version: {}, capabilities: [] } })}\n`);
    let buf = "";
    s.setEncoding("utf8").on("data", (text: string) => {
      buf += text;
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        const msg = JSON.parse(buf.slice(0, i)) as { execute: string; id?: unknown };
        buf = buf.slice(i + 1);
        const reply = answer(msg.execute, n);
        if (reply !== undefined) s.write(`${JSON.stringify({ ...(reply as object), ...(msg.id !== undefined ? { id: msg.id } : {}) })}\n`);
      }
    });
  });
  await new Promise<void>((r) => server!.listen(path, r));
  return { path, open: () => sockets.size };
}

describe("QMP client", () => {
  it("drops a timed-out command: the next command gets its own reply, not the stuck one's place", async () => {
    const { path } = await monitor((command) => (command === "stuck" ? undefined : { return: { answered: command } }));
    const qmp = await QmpClient.connect(path, { timeoutMs: 5000 });
    try {
      await expect(qmp.execute("stuck", undefined, 200)).rejects.toThrow("QMP: no reply to stuck within 200 ms");
      expect(await qmp.execute("query-status", undefined, 2000)).toEqual({ answered: "query-status" });
      expect(await qmp.execute("cont", undefined, 2000)).toEqual({ answered: "cont" });
    } finally {
      qmp.close();
    }
  });

  it("closes the socket of every connect attempt that failed", async () => {
    // The first two connections refuse qmp_capabilities (a monitor still starting up), the third takes it.
    const { path, open } = await monitor((command, conn) =>
      command === "qmp_capabilities" && conn <= 2 ? { error: { class: "CommandNotFound", desc: "not yet" } } : { return: {} },
    );
    const qmp = await QmpClient.connect(path, { timeoutMs: 10_000 });
    try {
      await new Promise((r) => setTimeout(r, 200)); // the server sees the closes
      expect(open()).toBe(1);
    } finally {
      qmp.close();
    }
  });
});

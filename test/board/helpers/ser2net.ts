// A real ser2net (Debian's 4.x) exporting one serial device on 127.0.0.1, for network console
// tests: its config goes in the test's temp dir, it runs in its own process group, and stop()
// ends that group.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, realpathSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";

export type Ser2netMode = "rfc2217" | "tcp";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export class Ser2net {
  private proc: ChildProcess | undefined;
  readonly config: string;
  readonly logFile: string;

  constructor(
    readonly dir: string,
    readonly device: string,
    readonly mode: Ser2netMode,
    readonly port: number,
  ) {
    this.config = join(dir, `ser2net-${port}.yaml`);
    this.logFile = join(dir, `ser2net-${port}.log`);
    // ser2net wants the device node itself, not a symlink to it
    const accepter = mode === "rfc2217" ? `telnet(rfc2217),tcp,127.0.0.1,${port}` : `tcp,127.0.0.1,${port}`;
    writeFileSync(
      this.config,
      [
        "%YAML 1.1",
        "---",
        "connection: &board",
        `    accepter: ${accepter}`,
        `    connector: serialdev,${realpathSync(device)},115200n81,local`,
        "    options:",
        "      kickolduser: true",
        "",
      ].join("\n"),
    );
  }

  get url(): string {
    return `${this.mode}://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const proc = spawn("ser2net", ["-n", "-c", this.config, "-P", join(this.dir, `ser2net-${this.port}.pid`)], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    proc.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    proc.once("exit", () => writeFileSync(this.logFile, out, { flag: "a" }));
    this.proc = proc;
    const deadline = Date.now() + 5000;
    while (!(await answers(this.port))) {
      if (proc.exitCode !== null) throw new Error(`ser2net exited (${proc.exitCode}): ${out}`);
      if (Date.now() > deadline) throw new Error(`ser2net did not listen on 127.0.0.1:${this.port} within 5 s: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    process.kill(-proc.pid!, "SIGTERM");
    const timer = setTimeout(() => {
      try {
        process.kill(-proc.pid!, "SIGKILL");
      } catch {
        /* gone */
      }
    }, 3000);
    await exited;
    clearTimeout(timer);
  }

  log(): string {
    try {
      return readFileSync(this.logFile, "utf8");
    } catch {
      return "";
    }
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

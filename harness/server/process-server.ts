// The reference server as a plain child process: the mode for machines with no container engine.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { InfraError } from "../core/errors.ts";
import { trackChild } from "../core/child-registry.ts";
import { waitForHealth } from "./health.ts";
import type { OtaServer, ServerCredentials, ServerStartOptions } from "./types.ts";

const SERVER_ENTRY = fileURLToPath(new URL("../../server/main.ts", import.meta.url));

export async function startProcessServer(options: ServerStartOptions): Promise<OtaServer> {
  const credentials = newCredentials();
  if (options.env?.OTA_SECRET) credentials.secret = options.env.OTA_SECRET;
  let child: ChildProcess | undefined;
  let url = "";
  let port = 0; // 0 = a free port on first start; the same port on a restart

  async function start(): Promise<void> {
    const env = {
      ...process.env,
      BACKEND_HOST: "127.0.0.1",
      BACKEND_PORT: String(port),
      OTA_DATA_DIR: options.dataDir,
      OTA_API_KEYS: apiKeysEnv(credentials),
      ...options.env,
    };
    const proc = spawn(process.execPath, ["--import", "tsx", SERVER_ENTRY], {
      env,
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group, recorded so it never outlives the harness (child-registry.ts)
    });
    if (proc.pid !== undefined) {
      const untrack = trackChild(proc.pid, "OTA server process");
      proc.once("exit", untrack);
    }
    child = proc;
    url = await waitForListening(proc, options);
    port = Number(new URL(url).port);
    await waitForHealth(url, options.startTimeoutMs ?? 20_000);
  }

  async function stop(): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }

  await start();
  return {
    mode: "process",
    get url() {
      return url;
    },
    credentials,
    stop,
    start,
  };
}

function waitForListening(proc: ChildProcess, options: ServerStartOptions): Promise<string> {
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  const recent: string[] = [];
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const tail = recent.length ? `\nlast server output:\n${recent.join("\n")}` : "";
      reject(new InfraError(`OTA server process ${why}${tail}`));
    };
    const timer = setTimeout(() => fail(`did not report "listening" within ${timeoutMs / 1000}s`), timeoutMs);
    const onLine = (line: string) => {
      options.onLog(line);
      recent.push(line);
      if (recent.length > 20) recent.shift();
      if (settled || !line.includes('"listening"')) return;
      try {
        const parsed = JSON.parse(line) as { url?: string };
        if (parsed.url) {
          settled = true;
          clearTimeout(timer);
          resolve(parsed.url);
        }
      } catch {
        /* not the JSON line we wait for */
      }
    };
    createInterface({ input: proc.stdout! }).on("line", onLine);
    createInterface({ input: proc.stderr! }).on("line", onLine);
    proc.once("error", (err) => fail(`failed to start: ${err.message}`));
    proc.once("exit", (code, signal) => fail(`exited before listening (code ${code}, signal ${signal})`));
  });
}

export function newCredentials(): ServerCredentials {
  return {
    apiKey: { vendor: "otarig", keyId: "OTARIG" + randomBytes(6).toString("hex").toUpperCase(), secret: randomBytes(24).toString("base64") },
  };
}

export function apiKeysEnv(c: ServerCredentials): string {
  return c.apiKey ? `${c.apiKey.vendor}:${c.apiKey.keyId}:${c.apiKey.secret}` : "";
}

// The OTA server in a container, started through testcontainers (DESIGN §4 "Packaging", §6).
//
// Without `image`: the reference server, in the image the harness builds itself with no registry
// (./image/build.ts), its data in a host directory mounted at /data so a stop + start keeps it.
// With `image`: a user's own server image (their real OTA server), `port` exposed, `env` passed.
//
// The container's port is published on 127.0.0.1 only, on a host port chosen here (so the
// server's OTA_PUBLIC_URL is known before it starts, and a restart can reuse it). Every container
// carries the labels `otarig=1`, `otarig.run=<runId>`, `otarig.pid`, `otarig.host`, so
// removeStaleContainers() finds it again: testcontainers' reaper (Ryuk) cannot be pulled here and
// is disabled, so otarig removes its containers itself — at stop(), after a failed start, and at
// teardown.
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { hostname } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { GenericContainer, StartedTestContainer, WaitStrategy } from "testcontainers";
import { InfraError } from "../core/errors.ts";
import {
  containerEngineAvailable,
  describeEngine,
  engineRequest,
  ensureTestcontainersEnv,
  listContainers,
  removeContainer,
  type EngineContainer,
} from "./engine.ts";
import { waitForHealth } from "./health.ts";
import { ensureServerImage, SERVER_IMAGE_PORT } from "./image/build.ts";
import { apiKeysEnv, newCredentials } from "./process-server.ts";
import type { OtaServer, ServerCredentials, ServerStartOptions } from "./types.ts";

export const LABEL = "otarig";
export const LABEL_RUN = "otarig.run";
export const LABEL_PID = "otarig.pid";
export const LABEL_HOST = "otarig.host";

export interface ContainerServerOptions extends ServerStartOptions {
  /** a user's own server image; default: the reference server image, built here */
  image?: string;
  /** the port the server listens on inside the container; default 1337 */
  port?: number;
  /** environment for the container (added to, and overriding, the reference server's settings) */
  env?: Record<string, string>;
  /** readiness: a log line matching `log` (a regex) and/or `path` answering 2xx over HTTP */
  wait?: { log?: string; http?: string };
  /** the run this server belongs to (label `otarig.run`) */
  runId: string;
  /** reference server only: its entry point, default server/main.ts */
  entry?: string;
  /** host address the port is published on; default 127.0.0.1 */
  bindAddress?: string;
}

export interface ContainerOtaServer extends OtaServer {
  readonly mode: "container";
  /** the current container, or the last one after stop() */
  readonly containerId: string;
  readonly image: string;
  /** host port the server is published on */
  readonly hostPort: number;
}

const LOG_TAIL = 40;
const STOP_TIMEOUT_MS = 10_000;

type Testcontainers = typeof import("testcontainers");

/**
 * Starts the OTA server in a container and waits until it is ready. Throws InfraError (with the
 * container's last log lines) when the engine is down, the image is missing, or the server does
 * not come up; a container that failed to start is removed first.
 */
export async function startContainerServer(options: ContainerServerOptions): Promise<ContainerOtaServer> {
  ensureTestcontainersEnv();
  if (!(await containerEngineAvailable({ timeoutMs: 5000 }))) {
    throw new InfraError(`no container engine answers at ${describeEngine()} (is dockerd running?)`);
  }
  const tc = await import("testcontainers");
  const reference = options.image === undefined;
  const credentials: ServerCredentials = reference ? newCredentials() : {};
  const image = reference ? (await ensureServerImage({ onLog: options.onLog, ...(options.entry ? { entry: options.entry } : {}) })).tag : options.image!;
  const containerPort = reference ? SERVER_IMAGE_PORT : (options.port ?? 1337);
  const bindAddress = options.bindAddress ?? "127.0.0.1";
  const urlHost = bindAddress === "0.0.0.0" || bindAddress === "::" ? "127.0.0.1" : bindAddress;
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const dataDir = path.resolve(options.dataDir);
  if (reference) mkdirSync(dataDir, { recursive: true });

  let started: StartedTestContainer | undefined;
  let containerId = "";
  let hostPort = 0;
  let url = "";
  let logsDone: Promise<void> = Promise.resolve();

  const envFor = (port: number): Record<string, string> => {
    if (!reference) return { ...options.env };
    const env: Record<string, string> = {
      BACKEND_HOST: "0.0.0.0",
      BACKEND_PORT: String(SERVER_IMAGE_PORT),
      OTA_DATA_DIR: "/data",
      OTA_API_KEYS: apiKeysEnv(credentials),
      OTA_PUBLIC_URL: `http://${urlHost}:${port}`,
      ...options.env,
    };
    if (env.OTA_SECRET) credentials.secret = env.OTA_SECRET;
    return env;
  };

  async function startOnce(port: number): Promise<void> {
    const recent: string[] = [];
    let exited!: () => void;
    const exitedP = new Promise<void>((resolve) => (exited = resolve));
    const consume = (stream: Readable) => {
      const rl = createInterface({ input: stream, crlfDelay: Infinity });
      rl.on("line", (line) => {
        recent.push(line);
        if (recent.length > LOG_TAIL) recent.shift();
        try {
          options.onLog(line);
        } catch {
          /* a broken log sink must not break the server */
        }
      });
      rl.on("close", () => exited());
      stream.on("error", () => exited());
    };
    logsDone = exitedP;

    const Container = otarigContainerClass(tc);
    const container = new Container(image)
      .withExposedPorts({ container: containerPort, host: port })
      .withEnvironment(envFor(port))
      .withLabels({
        [LABEL]: "1",
        [LABEL_RUN]: options.runId,
        [LABEL_PID]: String(process.pid),
        [LABEL_HOST]: hostname(),
        "otarig.component": "ota-server",
      })
      .withLogConsumer(consume)
      .withStartupTimeout(timeoutMs);
    container.bindAddress = bindAddress;
    if (reference) {
      container
        .withBindMounts([{ source: dataDir, target: "/data", mode: "rw" }])
        .withTmpFs({ "/tmp": "rw,mode=1777" })
        .withPullPolicy(tc.PullPolicy.neverPull());
      // Files in the data directory belong to whoever runs the harness, not to root.
      if (typeof process.getuid === "function" && typeof process.getgid === "function") {
        container.withUser(`${process.getuid()}:${process.getgid()}`);
      }
    }
    const logPattern = reference ? (options.wait?.log ?? '"listening"') : options.wait?.log;
    let logRe: RegExp | undefined;
    if (logPattern !== undefined) {
      try {
        logRe = new RegExp(logPattern);
      } catch (err) {
        throw new InfraError(`server.wait.log is not a valid regular expression: ${(err as Error).message}`);
      }
      container.withWaitStrategy(tc.Wait.forLogMessage(logRe));
    } else {
      container.withWaitStrategy(noWait(timeoutMs));
    }

    const deadline = Date.now() + timeoutMs;
    try {
      started = await container.start();
      containerId = started.getId();
      hostPort = started.getMappedPort(containerPort);
      url = `http://${urlHost}:${hostPort}`;
      const remaining = () => Math.max(1000, deadline - Date.now());
      const ready = reference
        ? waitForHealth(url, remaining(), options.wait?.http ?? "/healthz")
        : options.wait?.http !== undefined
          ? waitForHealth(url, remaining(), options.wait.http)
          : logRe === undefined
            ? waitForHttpAnswer(url, remaining())
            : Promise.resolve();
      await Promise.race([
        ready,
        exitedP.then(() => {
          throw new Error("the container exited");
        }),
      ]);
    } catch (err) {
      const id = container.createdId ?? containerId;
      started = undefined;
      let exitCode: number | undefined;
      if (id) {
        const state = await engineRequest<{ State?: { Running?: boolean; ExitCode?: number } }>("GET", `/containers/${id}/json`).catch(() => undefined);
        if (state?.status === 200 && state.body.State && !state.body.State.Running) exitCode = state.body.State.ExitCode;
        await removeContainer(id).catch(() => {});
      }
      // Let the last log lines arrive (the stream ends once the container is gone).
      if (id) await Promise.race([exitedP, sleep(500)]);
      throw startFailure(err, image, id, recent, port, exitCode);
    }
  }

  async function start(): Promise<void> {
    if (started) return;
    // A restart reuses the host port so the URL boards were given stays valid; if the port was
    // taken meanwhile, a new one is picked and `url` changes.
    const first = hostPort || (await freePort(bindAddress));
    for (let attempt = 0; ; attempt++) {
      const port = attempt === 0 ? first : await freePort(bindAddress);
      try {
        await startOnce(port);
        return;
      } catch (err) {
        if (attempt < 4 && err instanceof InfraError && isPortConflict(err)) {
          options.onLog(`otarig: host port ${port} is taken, trying another`);
          continue;
        }
        throw err;
      }
    }
  }

  async function stop(): Promise<void> {
    const s = started;
    started = undefined;
    if (!s) return;
    try {
      await s.stop({ timeout: STOP_TIMEOUT_MS, remove: true });
    } catch {
      /* fall through to the forced removal */
    }
    await removeContainer(s.getId()).catch((err: Error) => {
      throw new InfraError(`could not remove OTA server container ${s.getId().slice(0, 12)}: ${err.message}`);
    });
    await Promise.race([logsDone, sleep(1000)]);
  }

  await start();
  return {
    mode: "container",
    get url() {
      return url;
    },
    get containerId() {
      return containerId;
    },
    get hostPort() {
      return hostPort;
    },
    image,
    credentials,
    stop,
    start,
  };
}

/**
 * Removes containers labelled `otarig=1`: with `runId`, every container of that run (running or
 * not: teardown); without, the leftovers of earlier runs — containers whose harness process is
 * gone, and stopped ones nobody owns (see isOrphan). Returns the ids removed. Quietly returns []
 * when no engine answers.
 */
export async function removeStaleContainers(runId?: string): Promise<string[]> {
  if (!(await containerEngineAvailable())) return [];
  const labels = runId === undefined ? [`${LABEL}=1`] : [`${LABEL}=1`, `${LABEL_RUN}=${runId}`];
  const found = await listContainers(labels);
  const stale = runId === undefined ? found.filter(isOrphan) : found;
  const removed: string[] = [];
  for (const c of stale) {
    try {
      await removeContainer(c.Id);
      removed.push(c.Id);
    } catch {
      /* reported by the caller's next listing; keep going */
    }
  }
  return removed;
}

/**
 * A container whose harness process (labels otarig.pid + otarig.host, this host) is gone, whatever
 * its state; or, without that information, one that is not running (a "created" one only once it
 * is old enough not to be another harness's container in the middle of starting). Containers of a
 * live harness are left to it.
 */
function isOrphan(c: EngineContainer): boolean {
  if (c.State === "removing") return false;
  const pid = Number(c.Labels[LABEL_PID]);
  if (c.Labels[LABEL_HOST] === hostname() && Number.isInteger(pid) && pid > 0) {
    if (pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "ESRCH";
    }
  }
  if (c.State === "running" || c.State === "restarting" || c.State === "paused") return false;
  if (c.State === "created") return Date.now() / 1000 - (c.Created ?? 0) > 300;
  return true;
}

// --- helpers ---------------------------------------------------------------------------------

interface OtarigContainer extends GenericContainer {
  createdId?: string;
  bindAddress: string;
}

let containerClass: (new (image: string) => OtarigContainer) | undefined;

/** GenericContainer that publishes ports on one host address and remembers the id it created. */
function otarigContainerClass(tc: Testcontainers): new (image: string) => OtarigContainer {
  containerClass ??= class extends tc.GenericContainer implements OtarigContainer {
    createdId?: string;
    bindAddress = "127.0.0.1";
    protected override async beforeContainerCreated(): Promise<void> {
      const bindings = this.hostConfig.PortBindings as Record<string, { HostIp?: string; HostPort?: string }[]> | undefined;
      for (const list of Object.values(bindings ?? {})) for (const b of list) b.HostIp = this.bindAddress;
    }
    protected override async containerCreated(containerId: string): Promise<void> {
      this.createdId = containerId;
    }
  };
  return containerClass;
}

/** A wait strategy that is ready at once (readiness is checked by otarig over HTTP). */
function noWait(timeoutMs: number): WaitStrategy {
  const s: WaitStrategy = {
    async waitUntilReady() {},
    withStartupTimeout: () => s,
    isStartupTimeoutSet: () => true,
    getStartupTimeout: () => timeoutMs,
  };
  return s;
}

/** Ready when the server answers HTTP at all (any status): the default for a user's image. */
async function waitForHttpAnswer(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return;
    } catch (err) {
      last = (err as Error).cause ? String((err as Error).cause) : String(err);
    }
    await sleep(200);
  }
  throw new InfraError(`OTA server at ${url} did not answer HTTP within ${timeoutMs / 1000}s: ${last}`);
}

function startFailure(err: unknown, image: string, id: string | undefined, recent: string[], port: number, exitCode?: number): InfraError {
  let why = err instanceof Error ? err.message : String(err);
  if (exitCode !== undefined) why = `the server exited with code ${exitCode} before it was ready (${why})`;
  if (/no such image|pull access denied|not found|manifest unknown|does not exist locally|getaddrinfo|connect ECONNREFUSED.*443|registry/i.test(why) && !id) {
    why = `image ${image} is not available locally and cannot be pulled (no registry reachable?): ${why}`;
  }
  const tail = recent.length ? `\nlast server output:\n${recent.join("\n")}` : "\n(the container printed nothing)";
  const e = new InfraError(
    `OTA server container (image ${image}${id ? `, container ${id.slice(0, 12)}` : ""}, host port ${port}) failed to start: ${why}${tail}`,
    { cause: err },
  );
  e.consoleTail = [...recent];
  return e;
}

function isPortConflict(err: InfraError): boolean {
  const cause = err.cause instanceof Error ? err.cause.message : "";
  return /port is already allocated|address already in use/i.test(cause);
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, host === "::" ? "::" : host === "0.0.0.0" ? "0.0.0.0" : host, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

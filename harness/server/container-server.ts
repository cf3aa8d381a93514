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
  const image = reference ? (await ensureServerImage({ onLog: options.onLog, ...(options.entry ? { entry: options.entry } : {}) })).tag : options.image!;
  if (reference) mkdirSync(path.resolve(options.dataDir), { recursive: true });
  const server = new ServerContainer(tc, options, image, reference ? newCredentials() : {});
  await server.start();
  return {
    mode: "container",
    get url() {
      return server.url;
    },
    get containerId() {
      return server.containerId;
    },
    get hostPort() {
      return server.hostPort;
    },
    image,
    credentials: server.credentials,
    stop: () => server.stop(),
    start: () => server.start(),
  };
}

/** One server container across stop/start: the host port, and so the URL, survive a restart. */
class ServerContainer {
  containerId = "";
  hostPort = 0;
  url = "";
  private started: StartedTestContainer | undefined;
  private logsDone: Promise<void> = Promise.resolve();
  private readonly reference: boolean;
  private readonly containerPort: number;
  private readonly bindAddress: string;
  /** the address the harness reaches a published port at (a wildcard bind is reached on loopback) */
  private readonly urlHost: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly tc: Testcontainers,
    private readonly options: ContainerServerOptions,
    private readonly image: string,
    readonly credentials: ServerCredentials,
  ) {
    this.reference = options.image === undefined;
    this.containerPort = this.reference ? SERVER_IMAGE_PORT : (options.port ?? 1337);
    this.bindAddress = options.bindAddress ?? "127.0.0.1";
    this.urlHost = this.bindAddress === "0.0.0.0" || this.bindAddress === "::" ? "127.0.0.1" : this.bindAddress;
    this.timeoutMs = options.startTimeoutMs ?? 30_000;
  }

  async start(): Promise<void> {
    if (this.started) return;
    // A restart reuses the host port so the URL boards were given stays valid; if the port was
    // taken meanwhile, a new one is picked and `url` changes.
    const first = this.hostPort || (await freePort(this.bindAddress));
    for (let attempt = 0; ; attempt++) {
      const port = attempt === 0 ? first : await freePort(this.bindAddress);
      try {
        await this.startOnce(port);
        return;
      } catch (err) {
        if (attempt < 4 && err instanceof InfraError && isPortConflict(err)) {
          this.options.onLog(`otarig: host port ${port} is taken, trying another`);
          continue;
        }
        throw err;
      }
    }
  }

  async stop(): Promise<void> {
    const s = this.started;
    this.started = undefined;
    if (!s) return;
    try {
      await s.stop({ timeout: STOP_TIMEOUT_MS, remove: true });
    } catch {
      /* fall through to the forced removal */
    }
    await removeContainer(s.getId()).catch((err: Error) => {
      throw new InfraError(`could not remove OTA server container ${s.getId().slice(0, 12)}: ${err.message}`);
    });
    await Promise.race([this.logsDone, sleep(1000)]);
  }

  private async startOnce(port: number): Promise<void> {
    const logs = new LogTail(this.options.onLog);
    this.logsDone = logs.ended;
    const { container, logRe } = this.configure(port, logs);
    const deadline = Date.now() + this.timeoutMs;
    try {
      this.started = await container.start();
      this.containerId = this.started.getId();
      this.hostPort = this.started.getMappedPort(this.containerPort);
      this.url = `http://${this.urlHost}:${this.hostPort}`;
      await Promise.race([
        this.ready(logRe, Math.max(1000, deadline - Date.now())),
        logs.ended.then(() => {
          throw new Error("the container exited");
        }),
      ]);
    } catch (err) {
      const id = container.createdId ?? this.containerId;
      this.started = undefined;
      const exitCode = id ? await exitCodeOf(id) : undefined;
      if (id) await removeContainer(id).catch(() => {});
      // Let the last log lines arrive (the stream ends once the container is gone).
      if (id) await Promise.race([logs.ended, sleep(500)]);
      throw startFailure(err, this.image, id, logs.recent, port, exitCode);
    }
  }

  /** The container to start on host `port`, and the log line that means ready (if any). */
  private configure(port: number, logs: LogTail): { container: OtarigContainer; logRe: RegExp | undefined } {
    const Container = otarigContainerClass(this.tc);
    const container = new Container(this.image)
      .withExposedPorts({ container: this.containerPort, host: port })
      .withEnvironment(this.environment(port))
      .withLabels({
        [LABEL]: "1",
        [LABEL_RUN]: this.options.runId,
        [LABEL_PID]: String(process.pid),
        [LABEL_HOST]: hostname(),
        "otarig.component": "ota-server",
      })
      .withLogConsumer((stream) => logs.consume(stream))
      .withStartupTimeout(this.timeoutMs);
    container.bindAddress = this.bindAddress;
    if (this.reference) {
      container
        .withBindMounts([{ source: path.resolve(this.options.dataDir), target: "/data", mode: "rw" }])
        .withTmpFs({ "/tmp": "rw,mode=1777" })
        .withPullPolicy(this.tc.PullPolicy.neverPull());
      // Files in the data directory belong to whoever runs the harness, not to root.
      if (typeof process.getuid === "function" && typeof process.getgid === "function") {
        container.withUser(`${process.getuid()}:${process.getgid()}`);
      }
    }
    const logPattern = this.reference ? (this.options.wait?.log ?? '"listening"') : this.options.wait?.log;
    let logRe: RegExp | undefined;
    if (logPattern !== undefined) {
      try {
        logRe = new RegExp(logPattern);
      } catch (err) {
        throw new InfraError(`server.wait.log is not a valid regular expression: ${(err as Error).message}`);
      }
      container.withWaitStrategy(this.tc.Wait.forLogMessage(logRe));
    } else {
      container.withWaitStrategy(noWait(this.timeoutMs));
    }
    return { container, logRe };
  }

  private environment(port: number): Record<string, string> {
    if (!this.reference) return { ...this.options.env };
    const env: Record<string, string> = {
      BACKEND_HOST: "0.0.0.0",
      BACKEND_PORT: String(SERVER_IMAGE_PORT),
      OTA_DATA_DIR: "/data",
      OTA_API_KEYS: apiKeysEnv(this.credentials),
      OTA_PUBLIC_URL: `http://${this.urlHost}:${port}`,
      ...this.options.env,
    };
    if (env.OTA_SECRET) this.credentials.secret = env.OTA_SECRET;
    return env;
  }

  /** Readiness after the wait strategy: the reference server's health, else what `wait` asks. */
  private ready(logRe: RegExp | undefined, timeoutMs: number): Promise<void> {
    const http = this.options.wait?.http;
    if (this.reference) return waitForHealth(this.url, timeoutMs, http ?? "/healthz");
    if (http !== undefined) return waitForHealth(this.url, timeoutMs, http);
    if (logRe === undefined) return waitForHttpAnswer(this.url, timeoutMs);
    return Promise.resolve();
  }
}

/** The container's output, line by line, to the run's log; keeps the last lines for errors. */
class LogTail {
  readonly recent: string[] = [];
  readonly ended: Promise<void>;
  private end!: () => void;

  constructor(private readonly onLog: (line: string) => void) {
    this.ended = new Promise<void>((resolve) => (this.end = resolve));
  }

  consume(stream: Readable): void {
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    rl.on("line", (line) => {
      this.recent.push(line);
      if (this.recent.length > LOG_TAIL) this.recent.shift();
      try {
        this.onLog(line);
      } catch {
        /* a broken log sink must not break the server */
      }
    });
    rl.on("close", () => this.end());
    stream.on("error", () => this.end());
  }
}

/** The exit code of a container that stopped, if it did. */
async function exitCodeOf(id: string): Promise<number | undefined> {
  const state = await engineRequest<{ State?: { Running?: boolean; ExitCode?: number } }>("GET", `/containers/${id}/json`).catch(() => undefined);
  if (state?.status === 200 && state.body.State && !state.body.State.Running) return state.body.State.ExitCode;
  return undefined;
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

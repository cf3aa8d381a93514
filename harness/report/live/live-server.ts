// rig run --serve: the run's report page served on 127.0.0.1 while the run goes on. The page is
// the finished report's own page (html/run-page.ts) with no data yet and a feed: /events, a
// Server-Sent Events stream of PageDelta (every change so far, then each as it happens), which
// the page's script applies as it arrives. Once a run's report.html is written the viewers are
// told to load the page again and get that file. Several scenarios: `/` follows the one that
// runs; each finished run's page stays at /<its dir>/, and the suite page is `/` at the end.
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { extname, join, relative, resolve, sep } from "node:path";
import type { Listener } from "../../core/events.ts";
import { REPORT_FILE } from "../html.ts";
import { renderRunPage } from "../html/run-page.ts";
import type { PageData, PageDelta } from "../html/model.ts";
import type { ReadResult } from "../read-result.ts";
import { deltasOf } from "./feed.ts";

export const EVENTS_PATH = "/events";

export interface LiveRun {
  runDir: string;
  scenario: string;
  boards: string[];
  /** the result so far (its header: scenario, server, boards) */
  result(): ReadResult;
}

export interface LiveServer {
  readonly url: string;
  /** A run starts: `/` shows it live; returns the listener that feeds its page from the run's bus. */
  beginRun(run: LiveRun): Listener;
  /** The page at `file` (a run's report.html, then a suite's) is written: viewers load it. */
  written(file: string): void;
  /** Stops serving, once the viewers told to load the final page got it (at most `graceMs`). */
  close(graceMs?: number): Promise<void>;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".json": "application/json",
  ".jsonl": "application/x-ndjson",
  ".xml": "application/xml",
  ".log": "text/plain; charset=utf-8",
  ".raw": "application/octet-stream",
  ".txt": "text/plain; charset=utf-8",
  ".png": "image/png",
  ".zip": "application/zip",
  ".css": "text/css",
  ".js": "text/javascript",
};
/** Folders of a run that are not the report's: the server's data (keys), the virtual boards' flash and PTY links. */
const PRIVATE_DIRS = new Set(["server-data", "virtual"]);

/**
 * What the page links to (logs, results, traces, screenshots), nothing else: anyone on this host
 * can reach 127.0.0.1, and a held run keeps its portal secret (no extension) in the same folder.
 */
function servable(root: string, file: string): boolean {
  return TYPES[extname(file)] !== undefined && !relative(root, file).split(sep).some((part) => PRIVATE_DIRS.has(part));
}

/** A comment line now and then keeps idle proxies and browsers from dropping the stream. */
const HEARTBEAT_MS = 15_000;

/** Listens on 127.0.0.1:`port` (0: a free port) and serves the files under `root` (the run or suite directory). */
export async function startLiveServer(options: { port: number; root: string }): Promise<LiveServer> {
  const root = resolve(options.root);
  let live: { run: LiveRun; deltas: string[] } | undefined;
  let lastPage: string | undefined;
  const viewers = new Set<ServerResponse>();
  // After a reload: how many viewers were told, how many pages were served since.
  let reloading = { told: 0, served: 0, settled: () => {} };

  const server: Server = createServer((req, res) => {
    try {
      route(req, res);
    } catch (err) {
      res.writeHead(500, { "content-type": "text/plain" }).end(String(err));
    }
  });

  function route(req: IncomingMessage, res: ServerResponse): void {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://127.0.0.1").pathname);
    if (req.method !== "GET" && req.method !== "HEAD") return void res.writeHead(405).end();
    if (path === EVENTS_PATH) return feed(res);
    if (path === "/favicon.ico") return void res.writeHead(204).end();
    const target = resolve(root, `.${path}`);
    if (target !== root && !target.startsWith(root + sep)) return void res.writeHead(404).end();
    if (path.endsWith("/")) return page(target, res);
    if (servable(root, target) && existsSync(target) && statSync(target).isFile()) return file(target, res);
    res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${path}\n`);
  }

  /** A directory: the live page of the run there, or its report.html; `/` follows the running run. */
  function page(dir: string, res: ServerResponse): void {
    if (live && dir === resolve(live.run.runDir)) return livePage(live.run, res);
    if (live && dir === root) return redirect(res, live.run.runDir);
    const report = join(dir, REPORT_FILE);
    if (existsSync(report)) return file(report, res);
    if (dir === root && lastPage) return redirect(res, resolve(lastPage, ".."));
    res.writeHead(404, { "content-type": "text/plain" }).end("no report here yet\n");
  }

  function redirect(res: ServerResponse, dir: string): void {
    const rel = relative(root, dir).split(sep).map(encodeURIComponent).join("/");
    res.writeHead(302, { location: rel ? `/${rel}/` : "/" }).end();
  }

  function livePage(run: LiveRun, res: ServerResponse): void {
    const data: PageData = {
      scenario: run.scenario,
      durationMs: 0,
      boards: run.boards,
      steps: [],
      console: {},
      markers: [],
      sweeps: [],
      requests: [],
      progress: [],
      attachments: [],
      live: EVENTS_PATH,
    };
    res.on("finish", served);
    res.writeHead(200, { "content-type": TYPES[".html"]!, "cache-control": "no-store" }).end(renderRunPage(run.result(), data));
  }

  function file(path: string, res: ServerResponse): void {
    if (path.endsWith(".html")) res.on("finish", served);
    res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream", "cache-control": "no-store" });
    createReadStream(path).pipe(res);
  }

  function served(): void {
    reloading.served++;
    if (reloading.served >= reloading.told) reloading.settled();
  }

  /** Everything so far, then each change as it happens. */
  function feed(res: ServerResponse): void {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    res.write(`retry: 1000\n\n`);
    for (const d of live?.deltas ?? []) res.write(d);
    viewers.add(res);
    res.on("close", () => viewers.delete(res));
  }

  function broadcast(delta: PageDelta): string {
    const message = `data: ${JSON.stringify(delta)}\n\n`;
    for (const v of viewers) v.write(message);
    return message;
  }

  const heartbeat = setInterval(() => {
    for (const v of viewers) v.write(`: still here\n\n`);
  }, HEARTBEAT_MS);
  heartbeat.unref();

  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(options.port, "127.0.0.1", () => {
      server.off("error", fail);
      ok();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;

  return {
    url: `http://127.0.0.1:${port}/`,
    beginRun(run) {
      const current = { run, deltas: [] as string[] };
      live = current;
      const runDir = resolve(run.runDir);
      return (event) => {
        if (live !== current) return;
        for (const d of deltasOf(event, runDir)) current.deltas.push(broadcast(d));
      };
    },
    written(path) {
      lastPage = resolve(path);
      live = undefined;
      reloading = { told: viewers.size, served: 0, settled: () => {} };
      broadcast({ t: 0, reload: "the report is written" });
    },
    async close(graceMs = 3000) {
      // Viewers told to reload come back for the final page before the server goes.
      if (reloading.served < reloading.told) {
        await new Promise<void>((settled) => {
          const timer = setTimeout(settled, graceMs);
          reloading.settled = () => {
            clearTimeout(timer);
            settled();
          };
        });
      }
      clearInterval(heartbeat);
      for (const v of viewers) v.end();
      // Pages on their way out are finished; idle keep-alive connections go at once.
      const closed = new Promise<void>((done) => server.close(() => done()));
      server.closeIdleConnections();
      await closed;
    },
  };
}

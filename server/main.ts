// `npm run server`: the reference OTA server in the foreground. Settings from the environment
// (server/config.ts); one JSON log line per request on stdout; SIGTERM/SIGINT stop it cleanly.
import { startServer } from "./app.ts";
import { configFromEnv } from "./config.ts";
import { Logger } from "./log.ts";
import { SERVER_VERSION } from "./version.ts";

const log = new Logger();

async function main(): Promise<void> {
  let config;
  try {
    config = configFromEnv();
  } catch (err) {
    log.error("bad configuration", { error: err instanceof Error ? err.message : String(err) });
    process.exit(2);
  }
  const server = await startServer(config);
  // The harness reads this one line to learn the port (BACKEND_PORT=0 picks a free one).
  log.info("listening", {
    url: server.url,
    version: SERVER_VERSION,
    data_dir: config.dataDir,
    vendors: [...new Set(config.apiKeys.map((k) => k.vendor))],
    secret_required: config.secret !== undefined,
  });
  log.flush(); // readers wait for this line: do not leave it batched

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    server.close().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        log.error("stop failed", { error: String(err) });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  log.error("server failed to start", { error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});

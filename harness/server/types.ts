// A running OTA server, whichever way it was started.
export interface OtaServer {
  readonly mode: "container" | "process" | "url";
  /** base URL boards and clients use, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly containerId?: string;
  readonly image?: string;
  /** settings the harness gave the server (vendor API keys …); never logged */
  readonly credentials: ServerCredentials;
  /** Stops the server; its data survives unless the server is told otherwise. */
  stop(): Promise<void>;
  /** Starts a stopped server again on the same address with the same data. */
  start(): Promise<void>;
}

export interface ServerCredentials {
  /** OTA_SECRET, when set */
  secret?: string;
  /** signed vendor API key */
  apiKey?: { vendor: string; keyId: string; secret: string };
}

export interface ServerStartOptions {
  /** where the server keeps its data (process mode) */
  dataDir: string;
  onLog: (line: string) => void;
  /** extra environment for the server (a scenario's server.env: OTA_ACTIVATION_WINDOW, …) */
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

/** Which OTA server a run wants (a scenario's `server:`), as the server layer reads it. */
export type ServerMode = "auto" | "container" | "process" | "url";

export interface ServerSpec {
  mode: ServerMode;
  /** mode url: the base URL of a server that is already running */
  url?: string;
  /** a user's own server image (container mode) */
  image?: string;
  /** port the server listens on inside its container */
  port?: number;
  env?: Record<string, string>;
  /** readiness: a log regex (`log: …`) or an HTTP path (`http: /healthz`) */
  wait?: { log?: string; http?: string };
}

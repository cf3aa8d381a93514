// What every route module gets: settings, state, blobs, logger and the clock.
import type { ServerConfig } from "./config.ts";
import type { Store } from "./db.ts";
import type { BlobStore } from "./blobs.ts";
import type { Logger } from "./log.ts";
import type { FailureLimiter } from "./http/rate-limit.ts";
import type { SessionStore } from "./portal/session.ts";

export interface App {
  config: ServerConfig;
  store: Store;
  blobs: BlobStore;
  log: Logger;
  now(): number;
  /** server-held key for pre-signed upload URLs (kept in the database, so URLs survive a restart) */
  uploadKey: string;
  /** failed sign-ins and vendor signatures per client address (429 past the limit) */
  authFailures: FailureLimiter;
  /** signed-in portal users */
  portalSessions: SessionStore;
}

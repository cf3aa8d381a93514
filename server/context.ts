// What every route module gets: settings, state, blobs, logger and the clock.
import type { ServerConfig } from "./config.ts";
import type { Store } from "./db.ts";
import type { BlobStore } from "./blobs.ts";
import type { Logger } from "./log.ts";

export interface App {
  config: ServerConfig;
  store: Store;
  blobs: BlobStore;
  log: Logger;
  now(): number;
  /** server-held key for pre-signed upload URLs (kept in the database, so URLs survive a restart) */
  uploadKey: string;
}

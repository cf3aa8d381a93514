// What every route module gets: settings, state, blobs, logger and the clock.
import type { ServerConfig } from "./config.ts";
import type { Store } from "./db.ts";
import type { BlobStore } from "./blobs.ts";
import type { Logger } from "./log.ts";
import type { AuthLimits } from "./http/rate-limit.ts";
import type { SessionStore } from "./portal/session.ts";
import type { ReplayGuard } from "./routes/replay-guard.ts";

export interface App {
  config: ServerConfig;
  store: Store;
  blobs: BlobStore;
  log: Logger;
  now(): number;
  /** server-held key for pre-signed upload URLs (kept in the database, so URLs survive a restart) */
  uploadKey: string;
  /** server-held key the portal's sign-in CSRF tokens are HMACs of */
  portalKey: string;
  /** failed attempts per client address and kind (429 past the limit) */
  limits: AuthLimits;
  /** signatures of non-GET vendor requests already used (replays are refused) */
  replays: ReplayGuard;
  /** signed-in portal users */
  portalSessions: SessionStore;
}

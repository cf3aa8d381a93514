// All server state in one SQLite file (WAL), so a restart loses nothing. Blob bytes live in
// blobs.ts; this file holds what the bytes mean. Every query is a prepared statement here, so
// route modules never write SQL.
import Database from "better-sqlite3";
import { createHash, randomBytes } from "node:crypto";
import path from "node:path";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- A model is a product line: ota-backend's "firmware" (id + key), optionally owned by a vendor
-- under a name (provisioning).
CREATE TABLE IF NOT EXISTS models (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL,
  vendor TEXT,
  name TEXT,
  require_activation INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  UNIQUE (vendor, name)
);
CREATE TABLE IF NOT EXISTS blobs (
  sha256 TEXT PRIMARY KEY,
  md5 TEXT NOT NULL,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS uploads (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  model_id INTEGER NOT NULL REFERENCES models(id),
  sha256 TEXT NOT NULL REFERENCES blobs(sha256),
  created_at INTEGER NOT NULL,
  UNIQUE (model_id, sha256)
);
CREATE TABLE IF NOT EXISTS firewall (
  model_id INTEGER NOT NULL REFERENCES models(id),
  device_id TEXT NOT NULL,
  rule TEXT NOT NULL CHECK (rule IN ('allow', 'deny')),
  PRIMARY KEY (model_id, device_id)
);
-- prov_status is NULL for devices only ever seen through ota-backend (never registered).
CREATE TABLE IF NOT EXISTS devices (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  model_id INTEGER NOT NULL REFERENCES models(id),
  sn TEXT NOT NULL,
  prov_status TEXT CHECK (prov_status IN ('registered', 'enabled', 'activated', 'disabled')),
  enabled_at INTEGER,
  activated_at INTEGER,
  cik_sha256 TEXT UNIQUE,
  current_hash TEXT,
  state TEXT,
  message TEXT,
  last_seen INTEGER,
  UNIQUE (model_id, sn)
);
CREATE TABLE IF NOT EXISTS artifacts (
  uuid TEXT PRIMARY KEY,
  vendor TEXT NOT NULL,
  name TEXT NOT NULL,
  md5 TEXT NOT NULL,
  sha256 TEXT REFERENCES blobs(sha256),
  size INTEGER,
  created_at INTEGER NOT NULL,
  uploaded_at INTEGER
);
CREATE TABLE IF NOT EXISTS used_upload_urls (
  signature TEXT PRIMARY KEY,
  used_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deployments (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  vendor TEXT NOT NULL,
  artifact_uuid TEXT NOT NULL REFERENCES artifacts(uuid),
  arguments TEXT,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deployment_devices (
  deployment_seq INTEGER NOT NULL REFERENCES deployments(seq),
  device_id INTEGER NOT NULL REFERENCES devices(id),
  status TEXT NOT NULL CHECK (status IN ('processing', 'success', 'failed')),
  update_epoch INTEGER NOT NULL,
  message TEXT,
  PRIMARY KEY (deployment_seq, device_id)
);
CREATE INDEX IF NOT EXISTS deployment_devices_by_device ON deployment_devices (device_id, deployment_seq);
CREATE TABLE IF NOT EXISTS contents (
  model_id INTEGER NOT NULL REFERENCES models(id),
  id TEXT NOT NULL,
  meta TEXT NOT NULL DEFAULT '',
  type TEXT,
  sha256 TEXT REFERENCES blobs(sha256),
  size INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (model_id, id)
);
`;

export interface ModelRow {
  id: number;
  key: string;
  vendor: string | null;
  name: string | null;
  require_activation: number;
  created_at: number;
}

export interface BlobRow {
  sha256: string;
  md5: string;
  size: number;
  created_at: number;
}

export type ProvStatus = "registered" | "enabled" | "activated" | "disabled";

export interface DeviceRow {
  id: number;
  model_id: number;
  sn: string;
  prov_status: ProvStatus | null;
  enabled_at: number | null;
  activated_at: number | null;
  cik_sha256: string | null;
  current_hash: string | null;
  state: string | null;
  message: string | null;
  last_seen: number | null;
}

export interface ArtifactRow {
  uuid: string;
  vendor: string;
  name: string;
  md5: string;
  sha256: string | null;
  size: number | null;
  created_at: number;
  uploaded_at: number | null;
}

export interface DeploymentRow {
  seq: number;
  id: string;
  vendor: string;
  artifact_uuid: string;
  arguments: string | null;
  created_at: number;
}

export type DeploymentStatus = "processing" | "success" | "failed";

export interface ContentRow {
  model_id: number;
  id: string;
  meta: string;
  type: string | null;
  sha256: string | null;
  size: number | null;
  updated_at: number;
}

/** How stale `last_seen` may get before a request refreshes it. */
const LAST_SEEN_RESOLUTION_MS = 1000;

/** Entries per read cache; a full cache starts over (bounds memory against random ids). */
const CACHE_MAX = 50_000;

/** A read cache for the device hot path (check, download): a Map that never outgrows CACHE_MAX. */
class ReadCache<K, V> extends Map<K, V> {
  put(key: K, value: V): V {
    if (this.size >= CACHE_MAX && !this.has(key)) this.clear();
    this.set(key, value);
    return value;
  }
}

const deviceKey = (modelId: number, sn: string): string => `${modelId}\n${sn}`;

export function cikDigest(cik: string): string {
  // CIKs are stored only as digests: a leaked database file grants no device access.
  return createHash("sha256").update(cik).digest("hex");
}

export class Store {
  readonly db: Database.Database;

  constructor(dataDir: string) {
    this.db = new Database(path.join(dataDir, "otarig.sqlite"));
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SCHEMA);
  }

  private readonly statements = new Map<string, Database.Statement>();

  // Read caches for what every device request looks up (model, firewall, device row, target).
  // This process is the database's only writer and every write goes through a method below,
  // which drops (or, outside a transaction, refreshes) the entries it can change; rows handed
  // out are never mutated by callers. Negative answers of model/device are not cached.
  private readonly modelCache = new ReadCache<number, ModelRow>();
  private readonly allowCache = new ReadCache<string, boolean>();
  private readonly deviceCache = new ReadCache<string, DeviceRow>();
  private readonly newestCache = new ReadCache<number, string | undefined>();
  private readonly targetCache = new ReadCache<number, string | undefined>();

  /** Drops every cached device row and deployment target (after writes to devices/deployments). */
  private devicesChanged(): void {
    this.deviceCache.clear();
  }

  private deploymentsChanged(): void {
    this.targetCache.clear();
  }

  /** Prepared once, reused: preparing costs more than running most of these queries. */
  private stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  close(): void {
    this.db.close();
  }

  /** A random value created once and kept across restarts (e.g. the upload-URL key). */
  persistentSecret(name: string): string {
    const row = this.stmt("SELECT value FROM meta WHERE key = ?").get(name) as { value: string } | undefined;
    if (row) return row.value;
    const value = randomBytes(32).toString("hex");
    this.stmt("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)").run(name, value);
    return (this.stmt("SELECT value FROM meta WHERE key = ?").get(name) as { value: string }).value;
  }

  // ---- models ----------------------------------------------------------------------------

  createModel(now: number, vendor: string | null = null, name: string | null = null, requireActivation = false): ModelRow {
    const key = randomBytes(16).toString("hex");
    const info = this.stmt("INSERT INTO models (key, vendor, name, require_activation, created_at) VALUES (?, ?, ?, ?, ?)")
      .run(key, vendor, name, requireActivation ? 1 : 0, now);
    return this.model(Number(info.lastInsertRowid))!;
  }

  model(id: number): ModelRow | undefined {
    const cached = this.modelCache.get(id);
    if (cached) return cached;
    const row = this.stmt("SELECT * FROM models WHERE id = ?").get(id) as ModelRow | undefined;
    return row ? this.modelCache.put(id, row) : undefined;
  }

  modelByName(vendor: string, name: string): ModelRow | undefined {
    return this.stmt("SELECT * FROM models WHERE vendor = ? AND name = ?").get(vendor, name) as ModelRow | undefined;
  }

  modelsOfVendor(vendor: string): ModelRow[] {
    return this.stmt("SELECT * FROM models WHERE vendor = ? ORDER BY name").all(vendor) as ModelRow[];
  }

  setRequireActivation(modelId: number, value: boolean): void {
    this.stmt("UPDATE models SET require_activation = ? WHERE id = ?").run(value ? 1 : 0, modelId);
    this.modelCache.delete(modelId);
  }

  // ---- blobs and uploads -----------------------------------------------------------------

  recordBlob(sha256: string, md5: string, size: number, now: number): void {
    this.stmt("INSERT OR IGNORE INTO blobs (sha256, md5, size, created_at) VALUES (?, ?, ?, ?)").run(sha256, md5, size, now);
  }

  blob(sha256: string): BlobRow | undefined {
    return this.stmt("SELECT * FROM blobs WHERE sha256 = ?").get(sha256) as BlobRow | undefined;
  }

  /** Every version is kept; the same bytes uploaded again are a no-op. */
  recordUpload(modelId: number, sha256: string, now: number): void {
    this.stmt("INSERT OR IGNORE INTO uploads (model_id, sha256, created_at) VALUES (?, ?, ?)").run(modelId, sha256, now);
    this.newestCache.delete(modelId);
  }

  newestUpload(modelId: number): string | undefined {
    if (this.newestCache.has(modelId)) return this.newestCache.get(modelId);
    const row = this.stmt("SELECT sha256 FROM uploads WHERE model_id = ? ORDER BY id DESC LIMIT 1").get(modelId) as
      | { sha256: string }
      | undefined;
    return this.newestCache.put(modelId, row?.sha256);
  }

  uploadsOf(modelId: number): { sha256: string; size: number; created_at: number }[] {
    return this.stmt(
        "SELECT u.sha256, b.size, u.created_at FROM uploads u JOIN blobs b ON b.sha256 = u.sha256 WHERE u.model_id = ? ORDER BY u.id DESC",
      )
      .all(modelId) as { sha256: string; size: number; created_at: number }[];
  }

  isUploadOf(modelId: number, sha256: string): boolean {
    return this.stmt("SELECT 1 FROM uploads WHERE model_id = ? AND sha256 = ?").get(modelId, sha256) !== undefined;
  }

  // ---- firewall --------------------------------------------------------------------------

  setRule(modelId: number, deviceId: string, rule: "allow" | "deny"): void {
    this.stmt("INSERT INTO firewall (model_id, device_id, rule) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET rule = excluded.rule")
      .run(modelId, deviceId, rule);
    this.allowCache.clear();
  }

  clearRule(modelId: number, deviceId: string): void {
    this.stmt("DELETE FROM firewall WHERE model_id = ? AND device_id = ?").run(modelId, deviceId);
    this.allowCache.clear();
  }

  /** An explicit rule for the device wins; otherwise `all` decides. */
  isAllowed(modelId: number, deviceId: string): boolean {
    const key = deviceKey(modelId, deviceId);
    const cached = this.allowCache.get(key);
    if (cached !== undefined) return cached;
    return this.allowCache.put(key, this.allowedNow(modelId, deviceId));
  }

  private allowedNow(modelId: number, deviceId: string): boolean {
    const rules = this.stmt("SELECT device_id, rule FROM firewall WHERE model_id = ? AND device_id IN (?, 'all')")
      .all(modelId, deviceId) as { device_id: string; rule: string }[];
    const own = rules.find((r) => r.device_id === deviceId);
    if (own) return own.rule === "allow";
    return rules.some((r) => r.device_id === "all" && r.rule === "allow");
  }

  // ---- devices ---------------------------------------------------------------------------

  device(modelId: number, sn: string): DeviceRow | undefined {
    const key = deviceKey(modelId, sn);
    const cached = this.deviceCache.get(key);
    if (cached) return cached;
    const row = this.stmt("SELECT * FROM devices WHERE model_id = ? AND sn = ?").get(modelId, sn) as DeviceRow | undefined;
    return row ? this.deviceCache.put(key, row) : undefined;
  }

  deviceById(id: number): DeviceRow | undefined {
    return this.stmt("SELECT * FROM devices WHERE id = ?").get(id) as DeviceRow | undefined;
  }

  deviceByCik(cik: string): DeviceRow | undefined {
    return this.stmt("SELECT * FROM devices WHERE cik_sha256 = ?").get(cikDigest(cik)) as DeviceRow | undefined;
  }

  devicesOf(modelId: number): DeviceRow[] {
    return this.stmt("SELECT * FROM devices WHERE model_id = ? ORDER BY sn").all(modelId) as DeviceRow[];
  }

  /** Devices with this serial number in any of the vendor's models. */
  vendorDevices(vendor: string, sn: string): DeviceRow[] {
    return this.stmt("SELECT d.* FROM devices d JOIN models m ON m.id = d.model_id WHERE m.vendor = ? AND d.sn = ?")
      .all(vendor, sn) as DeviceRow[];
  }

  /**
   * The device row, created on first contact. `last_seen` is refreshed at most once per
   * LAST_SEEN_RESOLUTION_MS, so a device polling check does not turn every request into a
   * database write.
   */
  touchDevice(modelId: number, sn: string, now: number): DeviceRow {
    const existing = this.device(modelId, sn);
    if (existing && existing.last_seen !== null && now - existing.last_seen < LAST_SEEN_RESOLUTION_MS && now >= existing.last_seen) {
      return existing;
    }
    const row = this.stmt(
      "INSERT INTO devices (model_id, sn, last_seen) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET last_seen = excluded.last_seen RETURNING *",
    ).get(modelId, sn, now) as DeviceRow;
    // Inside a transaction the write may still be rolled back: cache only committed rows.
    if (this.db.inTransaction) this.devicesChanged();
    else this.deviceCache.put(deviceKey(modelId, sn), row);
    return row;
  }

  /** Registers serial numbers; false (and nothing added) when any is already present. */
  registerDevices(modelId: number, sns: string[]): boolean {
    try {
      return this.registerDevicesTx(modelId, sns);
    } finally {
      this.devicesChanged();
    }
  }

  private registerDevicesTx(modelId: number, sns: string[]): boolean {
    return this.db.transaction(() => {
      for (const sn of sns) {
        const existing = this.device(modelId, sn);
        if (existing?.prov_status) return false;
      }
      for (const sn of sns) {
        this.stmt(
            "INSERT INTO devices (model_id, sn, prov_status) VALUES (?, ?, 'registered') ON CONFLICT DO UPDATE SET prov_status = 'registered'",
          )
          .run(modelId, sn);
      }
      return true;
    })();
  }

  /** Enabling starts the activation window and revokes any CIK the device had. */
  enableDevice(id: number, now: number): void {
    this.stmt("UPDATE devices SET prov_status = 'enabled', enabled_at = ?, activated_at = NULL, cik_sha256 = NULL WHERE id = ?").run(now, id);
    this.devicesChanged();
  }

  disableDevice(id: number): void {
    this.stmt("UPDATE devices SET prov_status = 'disabled', cik_sha256 = NULL WHERE id = ?").run(id);
    this.devicesChanged();
  }

  activateDevice(id: number, cik: string, now: number): void {
    this.stmt("UPDATE devices SET prov_status = 'activated', activated_at = ?, cik_sha256 = ? WHERE id = ?").run(now, cikDigest(cik), id);
    this.devicesChanged();
  }

  /**
   * A status report. The device's running image follows what it said: `running` when it gives
   * it; else a trial boot or a confirm runs `hash`, and a failure of the image on record leaves
   * the running image unknown (null) until the device's next check says which it is.
   */
  recordDeviceState(id: number, report: { state: string; hash: string; running?: string | undefined; message: string | null }, now: number): void {
    const { state, hash, running, message } = report;
    const current = this.stmt("SELECT current_hash FROM devices WHERE id = ?").get(id) as { current_hash: string | null } | undefined;
    let runs = current?.current_hash ?? null;
    if (running !== undefined) runs = running;
    else if (state === "success" || state === "trial") runs = hash;
    else if (state === "failure" && runs === hash) runs = null;
    this.stmt("UPDATE devices SET state = ?, message = ?, last_seen = ?, current_hash = ? WHERE id = ?").run(state, message, now, runs, id);
    this.devicesChanged();
  }

  recordCurrentHash(device: DeviceRow, hash: string): void {
    if (device.current_hash === hash) return;
    const id = device.id;
    this.stmt("UPDATE devices SET current_hash = ? WHERE id = ?").run(hash, id);
    this.devicesChanged();
  }

  // ---- artifacts -------------------------------------------------------------------------

  createArtifact(uuid: string, vendor: string, name: string, md5: string, now: number): void {
    this.stmt("INSERT INTO artifacts (uuid, vendor, name, md5, created_at) VALUES (?, ?, ?, ?, ?)").run(uuid, vendor, name, md5, now);
    this.deploymentsChanged();
  }

  artifact(uuid: string): ArtifactRow | undefined {
    return this.stmt("SELECT * FROM artifacts WHERE uuid = ?").get(uuid) as ArtifactRow | undefined;
  }

  artifactsOf(vendor: string): ArtifactRow[] {
    return this.stmt("SELECT * FROM artifacts WHERE vendor = ? ORDER BY created_at DESC").all(vendor) as ArtifactRow[];
  }

  artifactUploaded(uuid: string, sha256: string, size: number, now: number): void {
    this.stmt("UPDATE artifacts SET sha256 = ?, size = ?, uploaded_at = ? WHERE uuid = ?").run(sha256, size, now, uuid);
    this.deploymentsChanged();
  }

  /**
   * Stores the verified bytes of an artifact through a pre-signed URL, once: "used" when that
   * URL already uploaded, "uploaded" when the artifact already has bytes (they never change
   * under a deployment), else "ok".
   */
  artifactUploadedOnce(uuid: string, signature: string, sha256: string, size: number, now: number): "ok" | "used" | "uploaded" {
    return this.db.transaction((): "ok" | "used" | "uploaded" => {
      if (this.stmt("SELECT 1 FROM used_upload_urls WHERE signature = ?").get(signature)) return "used";
      if (this.artifact(uuid)?.sha256) return "uploaded";
      this.stmt("INSERT INTO used_upload_urls (signature, used_at) VALUES (?, ?)").run(signature, now);
      this.artifactUploaded(uuid, sha256, size, now);
      return "ok";
    })();
  }

  uploadUrlUsed(signature: string): boolean {
    return this.stmt("SELECT 1 FROM used_upload_urls WHERE signature = ?").get(signature) !== undefined;
  }

  // ---- deployments -----------------------------------------------------------------------

  /** Creates the deployment, its per-device rows, and lets its devices through the firewall. */
  createDeployment(id: string, vendor: string, artifactUuid: string, args: unknown, devices: DeviceRow[], now: number): void {
    try {
      this.createDeploymentTx(id, vendor, artifactUuid, args, devices, now);
    } finally {
      this.deploymentsChanged();
      this.allowCache.clear();
    }
  }

  private createDeploymentTx(id: string, vendor: string, artifactUuid: string, args: unknown, devices: DeviceRow[], now: number): void {
    this.db.transaction(() => {
      const info = this.stmt("INSERT INTO deployments (id, vendor, artifact_uuid, arguments, created_at) VALUES (?, ?, ?, ?, ?)")
        .run(id, vendor, artifactUuid, args === undefined ? null : JSON.stringify(args), now);
      const seq = Number(info.lastInsertRowid);
      for (const d of devices) {
        this.stmt("INSERT OR IGNORE INTO deployment_devices (deployment_seq, device_id, status, update_epoch) VALUES (?, ?, 'processing', ?)")
          .run(seq, d.id, now);
        this.setRule(d.model_id, d.sn, "allow");
      }
    })();
  }

  deployment(id: string): DeploymentRow | undefined {
    return this.stmt("SELECT * FROM deployments WHERE id = ?").get(id) as DeploymentRow | undefined;
  }

  deploymentsOf(vendor: string): DeploymentRow[] {
    return this.stmt("SELECT * FROM deployments WHERE vendor = ? ORDER BY seq DESC").all(vendor) as DeploymentRow[];
  }

  deploymentDevices(seq: number, status?: DeploymentStatus): { device_sn: string; deployment_status: DeploymentStatus; update_epoch: number; message: string | null }[] {
    const sql =
      "SELECT d.sn AS device_sn, dd.status AS deployment_status, dd.update_epoch, dd.message FROM deployment_devices dd " +
      "JOIN devices d ON d.id = dd.device_id WHERE dd.deployment_seq = ?" +
      (status ? " AND dd.status = ?" : "") +
      " ORDER BY d.sn";
    const params: unknown[] = status ? [seq, status] : [seq];
    return this.stmt(sql).all(...params) as {
      device_sn: string;
      deployment_status: DeploymentStatus;
      update_epoch: number;
      message: string | null;
    }[];
  }

  /** The artifact hash of the device's newest deployment (only uploaded artifacts get deployed). */
  deployedTarget(deviceId: number): string | undefined {
    if (this.targetCache.has(deviceId)) return this.targetCache.get(deviceId);
    const row = this.stmt(
        "SELECT a.sha256 FROM deployment_devices dd JOIN deployments p ON p.seq = dd.deployment_seq " +
          "JOIN artifacts a ON a.uuid = p.artifact_uuid WHERE dd.device_id = ? AND a.sha256 IS NOT NULL " +
          "ORDER BY dd.deployment_seq DESC LIMIT 1",
      )
      .get(deviceId) as { sha256: string } | undefined;
    return this.targetCache.put(deviceId, row?.sha256);
  }

  isDeployedTo(deviceId: number, sha256: string): boolean {
    return (
      this.stmt(
          "SELECT 1 FROM deployment_devices dd JOIN deployments p ON p.seq = dd.deployment_seq " +
            "JOIN artifacts a ON a.uuid = p.artifact_uuid WHERE dd.device_id = ? AND a.sha256 = ?",
        )
        .get(deviceId, sha256) !== undefined
    );
  }

  /** A device's status report moves its deployments of that artifact. */
  updateDeploymentStatus(deviceId: number, sha256: string, status: DeploymentStatus, message: string | null, now: number): void {
    this.stmt(
        "UPDATE deployment_devices SET status = ?, message = ?, update_epoch = ? WHERE device_id = ? AND deployment_seq IN (" +
          "SELECT p.seq FROM deployments p JOIN artifacts a ON a.uuid = p.artifact_uuid WHERE a.sha256 = ?)",
      )
      .run(status, message, now, deviceId, sha256);
    this.deploymentsChanged();
  }

  // ---- provisioning content --------------------------------------------------------------

  createContent(modelId: number, id: string, meta: string, now: number): boolean {
    const info = this.stmt("INSERT OR IGNORE INTO contents (model_id, id, meta, updated_at) VALUES (?, ?, ?, ?)")
      .run(modelId, id, meta, now);
    return info.changes === 1;
  }

  content(modelId: number, id: string): ContentRow | undefined {
    return this.stmt("SELECT * FROM contents WHERE model_id = ? AND id = ?").get(modelId, id) as ContentRow | undefined;
  }

  contentsOf(modelId: number): ContentRow[] {
    return this.stmt("SELECT * FROM contents WHERE model_id = ? ORDER BY id").all(modelId) as ContentRow[];
  }

  setContentBody(modelId: number, id: string, type: string, sha256: string, size: number, now: number): void {
    this.stmt("UPDATE contents SET type = ?, sha256 = ?, size = ?, updated_at = ? WHERE model_id = ? AND id = ?")
      .run(type, sha256, size, now, modelId, id);
  }

  deleteContent(modelId: number, id: string): boolean {
    return this.stmt("DELETE FROM contents WHERE model_id = ? AND id = ?").run(modelId, id).changes === 1;
  }
}

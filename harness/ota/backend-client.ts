// Client of the ota-backend surface (seed 001): the firmware owner's calls (create, firewall,
// upload) and a device's calls (check, download, status).
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { expectStatus, joinUrl, json, rangeHeader, request, requestToFile, type ByteRange, type HttpRequest } from "./http.ts";
import type { DeviceState } from "./states.ts";

export interface BackendClientOptions {
  baseUrl: string;
  /** OTA_SECRET of the server, sent as `x-ota-secret` */
  secret?: string;
  timeoutMs?: number;
}

/** An ota-backend firmware (DESIGN's "model"): numeric id + key. */
export interface FirmwareCredentials {
  id: number;
  key: string;
}

export interface DeviceIdentity {
  firmwareId: number;
  /** the device's serial number */
  deviceId: string;
  /** required by models with require_activation */
  cik?: string;
}

export type CheckResult = { status: "update-available"; hash: string } | { status: "up-to-date" };

export type { DeviceState } from "./states.ts";

export interface DownloadOptions {
  range?: ByteRange;
  /** stream the body into this file instead of returning it */
  toFile?: string;
  method?: "GET" | "POST" | "HEAD";
}

export interface DownloadResult {
  status: 200 | 206;
  /** the body when not written to a file (empty for HEAD) */
  body: Buffer;
  bytes: number;
  contentLength: number;
  etag: string | undefined;
  contentRange: string | undefined;
}

export class BackendClient {
  constructor(readonly options: BackendClientOptions) {}

  private headers(extra: Record<string, string | number> = {}): Record<string, string | number> {
    return this.options.secret ? { "x-ota-secret": this.options.secret, ...extra } : extra;
  }

  private ownerHeaders(fw: FirmwareCredentials): Record<string, string | number> {
    return this.headers({ "x-ota-firmware-id": fw.id, "x-ota-firmware-key": fw.key });
  }

  private deviceHeaders(d: DeviceIdentity): Record<string, string | number> {
    const h = this.headers({ "x-ota-firmware-id": d.firmwareId, "x-ota-device-id": d.deviceId });
    if (d.cik) h["x-exosite-cik"] = d.cik;
    return h;
  }

  private req(method: string, p: string, headers: Record<string, string | number>, body?: HttpRequest["body"]): HttpRequest {
    const r: HttpRequest = { method, url: joinUrl(this.options.baseUrl, p), headers };
    if (body !== undefined) r.body = body;
    if (this.options.timeoutMs !== undefined) r.timeoutMs = this.options.timeoutMs;
    return r;
  }

  async health(): Promise<{ ok: boolean; version: string }> {
    const r = this.req("GET", "/healthz", {});
    const res = await request(r);
    expectStatus(r, res, [200]);
    return json(res);
  }

  async create(): Promise<FirmwareCredentials> {
    const r = this.req("POST", "/v1/create", this.headers());
    const res = await request(r);
    expectStatus(r, res, [200]);
    return json(res);
  }

  allow(fw: FirmwareCredentials, deviceId: string): Promise<void> {
    return this.firewall(fw, "allow", deviceId);
  }

  deny(fw: FirmwareCredentials, deviceId: string): Promise<void> {
    return this.firewall(fw, "deny", deviceId);
  }

  private async firewall(fw: FirmwareCredentials, action: "allow" | "deny", deviceId: string): Promise<void> {
    const r = this.req("POST", `/v1/firewall/${action}`, { ...this.ownerHeaders(fw), "content-type": "application/json" }, JSON.stringify({ device_id: deviceId }));
    expectStatus(r, await request(r), [200]);
  }

  /** Uploads a file as multipart/form-data, streamed from disk; returns its sha256. */
  async upload(fw: FirmwareCredentials, file: string): Promise<string> {
    const size = (await stat(file)).size;
    const boundary = `otarig-${randomBytes(12).toString("hex")}`;
    const name = path.basename(file).replace(/["\r\n]/g, "_");
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    async function* parts(): AsyncGenerator<Buffer> {
      yield head;
      yield* createReadStream(file) as AsyncIterable<Buffer>;
      yield tail;
    }
    const r = this.req(
      "POST",
      "/v1/upload",
      { ...this.ownerHeaders(fw), "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": head.length + size + tail.length },
      Readable.from(parts()),
    );
    const res = await request(r);
    expectStatus(r, res, [200]);
    return json<{ hash: string }>(res).hash;
  }

  async check(device: DeviceIdentity, currentHash?: string, method: "POST" | "GET" = "POST"): Promise<CheckResult> {
    const r = this.req(method, `/v1/check${currentHash ? `/${encodeURIComponent(currentHash)}` : ""}`, this.deviceHeaders(device));
    const res = await request(r);
    expectStatus(r, res, [200, 204]);
    return res.status === 204 ? { status: "up-to-date" } : { status: "update-available", hash: json<{ hash: string }>(res).hash };
  }

  async download(device: DeviceIdentity, hash: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
    const headers = this.deviceHeaders(device);
    if (opts.range) headers.range = rangeHeader(opts.range);
    const r = this.req(opts.method ?? "GET", `/v1/download/${encodeURIComponent(hash)}`, headers);
    const res = opts.toFile ? await requestToFile(r, opts.toFile) : { ...(await request(r)), bytes: -1 };
    expectStatus(r, res, [200, 206]);
    return {
      status: res.status as 200 | 206,
      body: res.body,
      bytes: res.bytes >= 0 ? res.bytes : res.body.length,
      contentLength: Number(res.headers["content-length"] ?? "0"),
      etag: res.headers.etag,
      contentRange: res.headers["content-range"],
    };
  }

  async status(device: DeviceIdentity, report: { hash: string; state: DeviceState; message?: string; running?: string }): Promise<void> {
    const r = this.req("POST", "/v1/status", { ...this.deviceHeaders(device), "content-type": "application/json" }, JSON.stringify(report));
    expectStatus(r, await request(r), [204]);
  }
}

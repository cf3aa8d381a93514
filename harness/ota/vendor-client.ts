// Client of the signed vendor API (seeds 000, 003, 004): artifacts, deployments, and the
// provisioning vendor endpoints (seed 002). Every call is signed with ALLXON-SIG1.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { contentMd5, digestFile } from "./digest.ts";
import { expectStatus, joinUrl, request, type HttpRequest } from "./http.ts";
import { signRequest } from "./signer.ts";
import type { DeviceState } from "./states.ts";

export interface VendorClientOptions {
  baseUrl: string;
  keyId: string;
  secret: string;
  /** the clock used for X-Allxon-Epoch (tests move it); default Date.now */
  now?: () => number;
  timeoutMs?: number;
}

export interface UploadUrl {
  upload_url: string;
  content_md5: string;
  content_type: string;
}

export interface UploadedArtifact {
  artifactUuid: string;
  name: string;
  md5: string;
  sha256: string;
  size: number;
}

export interface ArtifactInfo {
  artifact_uuid: string;
  artifact_name: string;
  artifact_md5: string;
  sha256: string | null;
  size: number | null;
  uploaded: boolean;
}

export interface DeploymentResult {
  deployment_id: string;
  deployment_accepted: string[];
  deployment_rejected: { device_sn: string; message: string }[];
}

export type DeploymentFilter = "all" | "processing" | "success" | "failed";

export interface DeviceDeploymentStatus {
  device_sn: string;
  deployment_status: "processing" | "success" | "failed";
  update_epoch: number;
}

export interface ModelInfo {
  model: string;
  id: number;
  key: string;
  require_activation: boolean;
}

export type SerialStatus = "registered" | "enabled" | "activated" | "expired" | "disabled";

/** What the server knows of one device (one entry per model the serial is in). */
export interface DeviceInfo {
  model: string | null;
  device_sn: string;
  /** null for a device only ever seen through ota-backend (never registered) */
  status: SerialStatus | null;
  current_hash: string | null;
  state: DeviceState | null;
  message: string | null;
  last_seen: number | null;
  target_hash: string | null;
}

type Body = Record<string, unknown> | URLSearchParams;

export class VendorClient {
  constructor(readonly options: VendorClientOptions) {}

  /** Any signed call; the signature covers method + path-with-query + epoch, not the body. */
  async signed(method: string, pathWithQuery: string, body?: Body, ok: number[] = [200]): Promise<Buffer> {
    const epochMs = (this.options.now ?? Date.now)();
    const headers: Record<string, string> = {
      ...signRequest({ keyId: this.options.keyId, secret: this.options.secret, method, pathWithQuery, epochMs }),
      accept: "application/json",
    };
    const r: HttpRequest = { method, url: joinUrl(this.options.baseUrl, pathWithQuery), headers };
    if (this.options.timeoutMs !== undefined) r.timeoutMs = this.options.timeoutMs;
    if (body instanceof URLSearchParams) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      r.body = body.toString();
    } else if (body !== undefined) {
      headers["content-type"] = "application/json";
      r.body = JSON.stringify(body);
    }
    const res = await request(r);
    expectStatus(r, res, ok);
    return res.body;
  }

  // ---- artifacts (seed 000) ------------------------------------------------------------

  async createArtifact(name: string, md5: string): Promise<string> {
    const body = await this.signed("POST", "/ota/artifact", { artifact_name: name, artifact_md5: md5 });
    return (JSON.parse(body.toString()) as { artifact_uuid: string }).artifact_uuid;
  }

  async getUploadUrl(artifactUuid: string, md5: string): Promise<UploadUrl> {
    const body = await this.signed("POST", `/ota/artifact/${encodeURIComponent(artifactUuid)}`, { artifact_md5: md5 });
    return JSON.parse(body.toString()) as UploadUrl;
  }

  /** The pre-signed PUT: unsigned, the body streamed from disk with its Content-MD5. */
  async putArtifact(uploadUrl: string, file: string, contentMd5Value: string): Promise<void> {
    const size = (await stat(file)).size;
    const r: HttpRequest = {
      method: "PUT",
      url: uploadUrl,
      headers: { "content-type": "application/octet-stream", "content-md5": contentMd5Value, "content-length": size },
      body: createReadStream(file),
    };
    if (this.options.timeoutMs !== undefined) r.timeoutMs = this.options.timeoutMs;
    expectStatus(r, await request(r), [200]);
  }

  /** The three steps of seed 000: record, upload URL, PUT. */
  async uploadArtifact(file: string, name = path.basename(file)): Promise<UploadedArtifact> {
    const d = await digestFile(file);
    const artifactUuid = await this.createArtifact(name, d.md5);
    const url = await this.getUploadUrl(artifactUuid, d.md5);
    await this.putArtifact(url.upload_url, file, url.content_md5 || contentMd5(d.md5));
    return { artifactUuid, name, md5: d.md5, sha256: d.sha256, size: d.size };
  }

  async artifact(artifactUuid: string): Promise<ArtifactInfo> {
    return JSON.parse((await this.signed("GET", `/ota/artifact/${encodeURIComponent(artifactUuid)}`)).toString()) as ArtifactInfo;
  }

  // ---- deployments -----------------------------------------------------------------------

  async createDeployment(req: { device_sn: string[]; artifact_uuid: string; arguments?: unknown }): Promise<DeploymentResult> {
    const body = await this.signed("POST", "/ota/deployment", req as Record<string, unknown>, [202]);
    return JSON.parse(body.toString()) as DeploymentResult;
  }

  async deploymentStatus(deploymentId: string, filter: DeploymentFilter = "all"): Promise<DeviceDeploymentStatus[]> {
    const body = await this.signed("GET", `/ota/deployment/${encodeURIComponent(deploymentId)}/${filter}`);
    return JSON.parse(body.toString()) as DeviceDeploymentStatus[];
  }

  /** The server's view of a device: current hash, last reported state, target. */
  async device(sn: string): Promise<DeviceInfo[]> {
    return JSON.parse((await this.signed("GET", `/ota/device/${encodeURIComponent(sn)}`)).toString()) as DeviceInfo[];
  }

  // ---- provisioning, vendor side (seed 002) ------------------------------------------------

  async createModel(model: string, opts: { requireActivation?: boolean } = {}): Promise<void> {
    const form = new URLSearchParams({ model });
    if (opts.requireActivation) form.set("require_activation", "true");
    await this.signed("POST", "/provision/manage/model/", form, [205]);
  }

  async model(model: string): Promise<ModelInfo> {
    return JSON.parse((await this.signed("GET", `/provision/manage/model/${encodeURIComponent(model)}`)).toString()) as ModelInfo;
  }

  async setRequireActivation(model: string, value: boolean): Promise<void> {
    await this.signed("POST", `/provision/manage/model/${encodeURIComponent(model)}`, new URLSearchParams({ require_activation: String(value) }), [205]);
  }

  async addSerials(model: string, sns: string[]): Promise<void> {
    const form = new URLSearchParams();
    for (const sn of sns) form.append("sn", sn);
    await this.signed("POST", `/provision/manage/model/${encodeURIComponent(model)}/`, form, [205]);
  }

  async enableSerial(model: string, sn: string): Promise<void> {
    await this.serialAction(model, sn, "enable");
  }

  async disableSerial(model: string, sn: string): Promise<void> {
    await this.serialAction(model, sn, "disable");
  }

  private async serialAction(model: string, sn: string, action: "enable" | "disable"): Promise<void> {
    const p = `/provision/manage/model/${encodeURIComponent(model)}/${encodeURIComponent(sn)}`;
    await this.signed("POST", p, new URLSearchParams({ [action]: "true" }), [205]);
  }

  async serialStatus(model: string, sn: string): Promise<SerialStatus> {
    const p = `/provision/manage/model/${encodeURIComponent(model)}/${encodeURIComponent(sn)}`;
    return (JSON.parse((await this.signed("GET", p)).toString()) as { status: SerialStatus }).status;
  }

  async createContent(model: string, id: string, meta = ""): Promise<void> {
    await this.signed("POST", `/provision/manage/content/${encodeURIComponent(model)}/`, new URLSearchParams({ id, meta }), [205]);
  }

  /** Uploads a content body (small: read whole; use for media and test images). */
  async uploadContent(model: string, id: string, data: Buffer, contentType = "application/octet-stream"): Promise<void> {
    const pathWithQuery = `/provision/manage/content/${encodeURIComponent(model)}/${encodeURIComponent(id)}`;
    const epochMs = (this.options.now ?? Date.now)();
    const r: HttpRequest = {
      method: "POST",
      url: joinUrl(this.options.baseUrl, pathWithQuery),
      headers: { ...signRequest({ ...this.options, method: "POST", pathWithQuery, epochMs }), "content-type": contentType },
      body: data,
    };
    expectStatus(r, await request(r), [205]);
  }

  async deleteContent(model: string, id: string): Promise<void> {
    await this.signed("DELETE", `/provision/manage/content/${encodeURIComponent(model)}/${encodeURIComponent(id)}`, undefined, [205]);
  }
}


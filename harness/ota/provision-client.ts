// Client of the provisioning device side (seed 002, seeds/README.md): activate a serial number
// for a CIK, then list, describe and fetch content and report status with that CIK.
import { expectStatus, joinUrl, rangeHeader, request, requestToFile, type ByteRange, type HttpRequest } from "./http.ts";
import type { DeviceState } from "./backend-client.ts";

export interface ProvisionClientOptions {
  baseUrl: string;
  vendor: string;
  model: string;
  timeoutMs?: number;
}

export interface ContentInfo {
  type: string;
  size: number;
  /** unix seconds */
  updated: number;
  meta: string;
}

export class ProvisionClient {
  constructor(readonly options: ProvisionClientOptions) {}

  private req(method: string, pathWithQuery: string, headers: Record<string, string> = {}, body?: string): HttpRequest {
    const r: HttpRequest = { method, url: joinUrl(this.options.baseUrl, pathWithQuery), headers };
    if (body !== undefined) r.body = body;
    if (this.options.timeoutMs !== undefined) r.timeoutMs = this.options.timeoutMs;
    return r;
  }

  private query(extra: Record<string, string> = {}): string {
    return new URLSearchParams({ vendor: this.options.vendor, model: this.options.model, ...extra }).toString();
  }

  /** Returns the 40-hex CIK; 404 unknown serial, 409 not enabled / window expired / already active. */
  async activate(sn: string): Promise<string> {
    const body = new URLSearchParams({ vendor: this.options.vendor, model: this.options.model, sn }).toString();
    const r = this.req("POST", "/provision/activate", { "content-type": "application/x-www-form-urlencoded" }, body);
    const res = await request(r);
    expectStatus(r, res, [200]);
    return res.body.toString("utf8").trim();
  }

  async listContent(cik: string): Promise<string[]> {
    const r = this.req("GET", `/provision/download?${this.query()}`, { "x-exosite-cik": cik });
    const res = await request(r);
    expectStatus(r, res, [200]);
    return res.body.toString("utf8").split(/\r?\n|,/).map((s) => s.trim()).filter(Boolean);
  }

  async contentInfo(cik: string, id: string): Promise<ContentInfo> {
    const r = this.req("GET", `/provision/download?${this.query({ id, info: "true" })}`, { "x-exosite-cik": cik });
    const res = await request(r);
    expectStatus(r, res, [200]);
    const fields = parseCsvLine(res.body.toString("utf8").trim());
    return { type: fields[0] ?? "", size: Number(fields[1] ?? "0"), updated: Number(fields[2] ?? "0"), meta: fields[3] ?? "" };
  }

  /** The content body (or a range of it); into a file when `toFile` is given. */
  async downloadContent(cik: string, id: string, opts: { range?: ByteRange; toFile?: string } = {}): Promise<{ status: 200 | 206; body: Buffer; bytes: number }> {
    const headers: Record<string, string> = { "x-exosite-cik": cik };
    if (opts.range) headers.range = rangeHeader(opts.range);
    const r = this.req("GET", `/provision/download?${this.query({ id })}`, headers);
    const res = opts.toFile ? await requestToFile(r, opts.toFile) : { ...(await request(r)), bytes: -1 };
    expectStatus(r, res, [200, 206]);
    return { status: res.status as 200 | 206, body: res.body, bytes: res.bytes >= 0 ? res.bytes : res.body.length };
  }

  async status(cik: string, report: { hash: string; state: DeviceState; message?: string }): Promise<void> {
    const r = this.req("POST", "/provision/status", { "x-exosite-cik": cik, "content-type": "application/json" }, JSON.stringify(report));
    expectStatus(r, await request(r), [204]);
  }
}

function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

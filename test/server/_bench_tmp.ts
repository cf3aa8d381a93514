import { spawn } from "node:child_process";
import http from "node:http";
import { writeFileSync, mkdtempSync } from "node:fs";
import { createInterface } from "node:readline";
import { BackendClient } from "/work/main/harness/ota/backend-client.ts";
const dir = mkdtempSync("/tmp/otabench/d");
const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], { cwd: "/work/main", env: { ...process.env, BACKEND_PORT: "0", OTA_DATA_DIR: dir }, stdio: ["ignore", "pipe", "inherit"] });
const url: string = await new Promise((r) => createInterface({ input: child.stdout! }).on("line", (l) => { if (l.includes('"listening"')) r(JSON.parse(l).url); }));
const b = new BackendClient({ baseUrl: url });
const fw = await b.create(); await b.allow(fw, "all");
writeFileSync(dir + "/img", Buffer.alloc(64 * 1024 * 1024, 3));
const hash = await b.upload(fw, dir + "/img");
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const u = new URL(url);
function req(path: string, method = "POST"): Promise<number> {
  return new Promise((res, rej) => {
    const r = http.request({ host: u.hostname, port: u.port, path, method, agent, headers: { "x-ota-firmware-id": fw.id, "x-ota-device-id": "d" } }, (resp) => { let n = 0; resp.on("data", (c) => n += c.length); resp.on("end", () => res(n)); });
    r.on("error", rej); r.end();
  });
}
for (const N of [50]) {
  let count = 0; const end = Date.now() + 3000;
  await Promise.all(Array.from({ length: N }, async () => { while (Date.now() < end) { await req(`/v1/check/${hash}`); count++; } }));
  console.log(`check N=${N}: ${(count / 3).toFixed(0)} req/s`);
}
let bytes = 0; const t0 = Date.now();
await Promise.all(Array.from({ length: 8 }, async () => { for (let i = 0; i < 4; i++) bytes += await req(`/v1/download/${hash}`, "GET"); }));
console.log(`download 8 clients: ${(bytes / 1e6 / ((Date.now() - t0) / 1000)).toFixed(0)} MB/s`);
const rss = await new Promise((r) => { const p = spawn("ps", ["-o", "rss=", "-p", String(child.pid)]); let o = ""; p.stdout.on("data", (c) => o += c); p.on("close", () => r(o.trim())); });
console.log(`server RSS now: ${rss} KiB`);
child.kill("SIGTERM");

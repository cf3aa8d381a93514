// nginx serving the device routes statically, as the yardstick of `bench server`: `return 204`
// for the update check, sendfile for the download (the image stored under its hash, as the
// reference server stores it). One worker process: the reference server is one event loop.
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stopChild } from "./common.ts";
import { findOnPath } from "./http-load.ts";

export const NGINX_INSTALL = "apt-get install nginx-light";

export interface StartedNginx {
  url: string;
  stop(): Promise<void>;
}

/** nginx on PATH, or where Debian puts it (/usr/sbin, often not on a user's PATH). */
export function findNginx(): string | undefined {
  if (findOnPath("nginx")) return findOnPath("nginx");
  try {
    accessSync("/usr/sbin/nginx", constants.X_OK);
    return "/usr/sbin/nginx";
  } catch {
    return undefined;
  }
}

/** nginx on 127.0.0.1:<port> in `dir`, serving `images` (hash -> file) under /v1/download/<hash>. */
export async function startNginx(binary: string, dir: string, port: number, images: Record<string, string>): Promise<StartedNginx> {
  const root = join(dir, "root");
  mkdirSync(join(root, "v1", "download"), { recursive: true });
  for (const [hash, file] of Object.entries(images)) copyFileSync(file, join(root, "v1", "download", hash));
  for (const t of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, "tmp", t), { recursive: true });
  const conf = join(dir, "nginx.conf");
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
master_process off;
pid ${join(dir, "nginx.pid")};
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path ${join(dir, "tmp", "client_body")};
  proxy_temp_path ${join(dir, "tmp", "proxy")};
  fastcgi_temp_path ${join(dir, "tmp", "fastcgi")};
  uwsgi_temp_path ${join(dir, "tmp", "uwsgi")};
  scgi_temp_path ${join(dir, "tmp", "scgi")};
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location /v1/check/ { return 204; }
    location /v1/download/ { }
  }
}
`,
  );
  const child: ChildProcess = spawn(binary, ["-p", dir, "-c", conf], { stdio: ["ignore", "ignore", "pipe"], detached: true });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (!(await listening(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`nginx did not listen on ${url}: ${stderr.trim().slice(-400) || "no output"}`);
    }
    await sleep(50);
  }
  return { url, stop: () => stopChild(child) };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: "127.0.0.1", port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

// Where the network proxy forwards to: "http://host:port" (any URL with a host) or "host:port".
import { ScenarioError } from "../core/errors.ts";

export interface ProxyTarget {
  host: string;
  port: number;
}

const DEFAULT_PORTS: Record<string, number> = { "http:": 80, "https:": 443 };

export function parseTarget(target: string): ProxyTarget {
  const text = target.trim();
  const bad = (why: string): ScenarioError => new ScenarioError(`network proxy target ${JSON.stringify(target)}: ${why}`);
  let host: string;
  let portText: string;
  if (text.includes("://")) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw bad("not a valid URL");
    }
    host = url.hostname;
    portText = url.port || String(DEFAULT_PORTS[url.protocol] ?? "");
    if (!portText) throw bad(`no port and no default port for ${url.protocol}`);
  } else {
    const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d+)$/.exec(text);
    if (!m) throw bad('expected "host:port" or a URL such as "http://127.0.0.1:8080"');
    host = m[1] ?? m[2] ?? "";
    portText = m[3] ?? "";
  }
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const port = Number(portText);
  if (!host) throw bad("no host");
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(`port ${portText} out of range`);
  return { host, port };
}

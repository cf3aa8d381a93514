// A console reached over the network: `rfc2217://host:port` (telnet with the RFC 2217 COM-PORT
// option, what ser2net's `telnet(rfc2217)` accepter and labgrid exporters serve) or
// `tcp://host:port` (ser2net's raw accepter: the serial bytes as they are).
export type ConsoleTransport = "rfc2217" | "tcp";

export interface ConsoleUrl {
  transport: ConsoleTransport;
  host: string;
  port: number;
  /** as written, for messages */
  text: string;
}

const SCHEMES: Record<string, ConsoleTransport> = { "rfc2217:": "rfc2217", "tcp:": "tcp" };

/** True for anything with a scheme (`x://`), so a misspelt scheme is reported rather than taken for a path. */
export function looksLikeUrl(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
}

/** Parses a console URL; throws an Error whose message says what is wrong (the loader adds the position). */
export function parseConsoleUrl(text: string): ConsoleUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`"${text}" is not a URL (expected rfc2217://host:port or tcp://host:port)`);
  }
  const transport = SCHEMES[url.protocol];
  if (!transport) throw new Error(`unsupported console URL scheme "${url.protocol.replace(/:$/, "")}" (expected rfc2217 or tcp)`);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) throw new Error(`console URL "${text}" has no host`);
  const port = Number(url.port);
  if (!url.port || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`console URL "${text}" needs a port (1-65535)`);
  if ((url.pathname && url.pathname !== "/") || url.search || url.hash || url.username) {
    throw new Error(`console URL "${text}" must be just ${transport}://host:port`);
  }
  return { transport, host, port, text };
}

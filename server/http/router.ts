// A minimal router: method + path pattern -> handler. Path parameters are regex groups.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ErrorStyle } from "./errors.ts";

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** the raw request target (path + query) exactly as received: what signatures cover */
  target: string;
  params: Record<string, string>;
  requestId: string;
  /** the server clock, in ms */
  now: number;
  /** extra, non-secret fields for the request's log line */
  logFields: Record<string, unknown>;
}

export type Handler = (ctx: Ctx) => Promise<void> | void;

export interface Route {
  methods: string[];
  pattern: RegExp;
  style: ErrorStyle;
  handler: Handler;
}

export function route(methods: string | string[], path: string, style: ErrorStyle, handler: Handler): Route {
  // `:name` matches one segment, `:name?` an optional trailing one; everything else is literal.
  const source = path
    .split("/")
    .map((seg, i) => {
      const p = /^:(\w+)(\?)?$/.exec(seg);
      if (!p) return (i === 0 ? "" : "/") + seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      return p[2] ? `(?:/(?<${p[1]}>[^/]*))?` : `/(?<${p[1]}>[^/]+)`;
    })
    .join("");
  return { methods: Array.isArray(methods) ? methods : [methods], pattern: new RegExp(`^${source}$`), style, handler };
}

export type Match = { route: Route; params: Record<string, string> } | { methodNotAllowed: Route } | undefined;

export function match(routes: Route[], method: string, pathname: string): Match {
  let wrongMethod: Route | undefined;
  for (const r of routes) {
    const m = r.pattern.exec(pathname);
    if (!m) continue;
    if (!r.methods.includes(method)) {
      wrongMethod ??= r;
      continue;
    }
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) params[k] = safeDecode(v);
    return { route: r, params };
  }
  return wrongMethod ? { methodNotAllowed: wrongMethod } : undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

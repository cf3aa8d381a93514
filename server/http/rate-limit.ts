// Failed attempts per client address (portal sign-ins, vendor signatures, activations, the
// shared secret), each kind in a bucket of its own: past the limit within a window, the address
// gets 429 with Retry-After until the window ends, so keys, secrets and serial numbers cannot be
// guessed at speed.
import { isIP } from "node:net";
import type { IncomingMessage } from "node:http";
import { HttpError } from "./errors.ts";

/** Addresses tracked per bucket at most; past it the oldest window is dropped first. */
export const MAX_ADDRESSES = 50_000;

export type Bucket = "sign-in" | "signature" | "activation" | "shared-secret";

export interface Limit {
  count: number;
  windowMs: number;
}

export class FailureLimiter {
  // Insertion order is age order: a new window is (re)inserted at the end.
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: Limit,
    private readonly maxAddresses = MAX_ADDRESSES,
  ) {}

  /** Throws 429 (with Retry-After) while the address has used up its failures. */
  check(address: string, now: number, code = "TOO_MANY_REQUESTS"): void {
    const w = this.windows.get(address);
    if (!w || now >= w.start + this.limit.windowMs) return;
    if (w.count < this.limit.count) return;
    const retryAfter = Math.max(1, Math.ceil((w.start + this.limit.windowMs - now) / 1000));
    throw new HttpError(429, code, `too many failed attempts; retry in ${retryAfter}s`, { "retry-after": String(retryAfter) });
  }

  fail(address: string, now: number): void {
    let w = this.windows.get(address);
    if (!w || now >= w.start + this.limit.windowMs) {
      this.windows.delete(address);
      // Oldest first: flooding with new addresses cannot reset the counters of recent ones.
      while (this.windows.size >= this.maxAddresses) this.windows.delete(this.windows.keys().next().value!);
      w = { start: now, count: 0 };
      this.windows.set(address, w);
    }
    w.count++;
  }

  get size(): number {
    return this.windows.size;
  }
}

/** One limiter per kind of attempt, and who the client is (behind a trusted proxy or not). */
export class AuthLimits {
  private readonly buckets = new Map<Bucket, FailureLimiter>();
  private readonly trusted: Set<string>;

  constructor(
    private readonly limit: Limit,
    trustedProxies: string[] = [],
    private readonly maxAddresses = MAX_ADDRESSES,
  ) {
    this.trusted = new Set(trustedProxies.map(plainAddress));
  }

  check(bucket: Bucket, req: IncomingMessage, now: number, code?: string): void {
    this.bucket(bucket).check(this.clientKey(req), now, code);
  }

  fail(bucket: Bucket, req: IncomingMessage, now: number): void {
    this.bucket(bucket).fail(this.clientKey(req), now);
  }

  /** The client's address as the limiter counts it: IPv6 by /64, a trusted proxy's X-Forwarded-For. */
  clientKey(req: IncomingMessage): string {
    return addressKey(this.clientAddress(req));
  }

  clientAddress(req: IncomingMessage): string {
    let address = plainAddress(req.socket.remoteAddress ?? "unknown");
    if (this.trusted.size === 0 || !this.trusted.has(address)) return address;
    // The right-most hop that is not one of our proxies is the client.
    const header = req.headers["x-forwarded-for"];
    const hops = (Array.isArray(header) ? header.join(",") : (header ?? "")).split(",").map((h) => plainAddress(h.trim())).filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) {
      if (isIP(hops[i]!) === 0) break; // garbage: stop at the last address we can trust
      address = hops[i]!;
      if (!this.trusted.has(address)) break;
    }
    return address;
  }

  private bucket(name: Bucket): FailureLimiter {
    let b = this.buckets.get(name);
    if (!b) this.buckets.set(name, (b = new FailureLimiter(this.limit, this.maxAddresses)));
    return b;
  }
}

/** `::ffff:1.2.3.4` is 1.2.3.4; brackets and zone ids go. */
function plainAddress(a: string): string {
  const s = a.replace(/^\[|\]$/g, "").replace(/%.*$/, "").toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  return mapped ? mapped[1]! : s;
}

/** IPv4 addresses as they are; IPv6 ones by their /64 (one host usually holds a whole /64). */
export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head = "", tail = ""] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = address.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

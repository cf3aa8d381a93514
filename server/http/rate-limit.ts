// Failed authentication attempts per client address (portal sign-ins, vendor signatures): past
// the limit within a window, the address gets 429 with Retry-After until the window ends, so
// keys and secrets cannot be guessed at speed.
import type { IncomingMessage } from "node:http";
import { HttpError } from "./errors.ts";

/** Addresses tracked at most; a full table starts over (bounds memory against spoofed floods). */
const MAX_ADDRESSES = 50_000;

export class FailureLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly limit: { count: number; windowMs: number }) {}

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
      if (this.windows.size >= MAX_ADDRESSES) this.windows.clear();
      w = { start: now, count: 0 };
      this.windows.set(address, w);
    }
    w.count++;
  }
}

export function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? "unknown";
}

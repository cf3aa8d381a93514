// Signed requests that change something may be sent once: the signature covers method, path and
// epoch but not the body (seed 003/004), so a captured request could otherwise be replayed with
// another body while its epoch is within the window. Stricter than the seed: a second non-GET
// request with the same key id and signature inside the window is refused (E401-4).

/** Signatures remembered at most; past it the oldest go first (they expire first anyway). */
export const MAX_REMEMBERED = 100_000;

export class ReplayGuard {
  // key id + signature -> when its epoch leaves the window; insertion order is roughly age order
  private readonly seen = new Map<string, number>();

  constructor(private readonly max = MAX_REMEMBERED) {}

  /** True the first time a signature is seen within its window, false for a replay. */
  firstUse(keyId: string, signature: string, expiresAt: number, now: number): boolean {
    const key = `${keyId}\n${signature}`;
    const until = this.seen.get(key);
    if (until !== undefined && now <= until) return false;
    this.seen.delete(key);
    for (const [k, e] of this.seen) {
      if (e >= now && this.seen.size < this.max) break;
      this.seen.delete(k);
    }
    this.seen.set(key, expiresAt);
    return true;
  }
}

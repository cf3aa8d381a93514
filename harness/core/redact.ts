// Secret values (a Wi-Fi PSK from the environment, an API token) replaced by *** wherever the
// harness writes. One Redactor per run; the event bus passes every event through it, so every
// reporter (terminal, run.log, result.json, junit.xml, report.html) gets redacted text without
// knowing about secrets, and the console capture uses it for the board's echo in <board>.log.

export const MASK = "***";

export class Redactor {
  private readonly secrets: string[];
  private readonly secretBytes: Buffer[];

  constructor(secrets: Iterable<string>) {
    // Longest first: a secret that contains another is replaced whole.
    this.secrets = [...new Set([...secrets].filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
    this.secretBytes = this.secrets.map((s) => Buffer.from(s, "utf8"));
  }

  /** Whether there is anything to hide (a run without secrets pays nothing). */
  get active(): boolean {
    return this.secrets.length > 0;
  }

  text(s: string): string {
    if (!this.active) return s;
    let out = s;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(MASK);
    return out;
  }

  /** The same for raw bytes (a console line with its ANSI escapes); returns `b` itself when nothing matched. */
  bytes(b: Buffer): Buffer {
    if (!this.active) return b;
    let out = b;
    for (const secret of this.secretBytes) {
      let at = out.indexOf(secret);
      if (at < 0) continue;
      const parts: Buffer[] = [];
      let from = 0;
      while (at >= 0) {
        parts.push(out.subarray(from, at), Buffer.from(MASK));
        from = at + secret.length;
        at = out.indexOf(secret, from);
      }
      parts.push(out.subarray(from));
      out = Buffer.concat(parts);
    }
    return out;
  }

  /** Whether `s` holds a secret. */
  hides(s: string): boolean {
    return this.secrets.some((secret) => s.includes(secret));
  }

  /**
   * One that also hides each secret as other files spell it: escaped in JSON, URL-encoded (a
   * query, a form post), HTML-escaped. For evidence the harness did not write itself (a browser trace).
   */
  alsoEncoded(): Redactor {
    const forms = this.secrets.flatMap((s) => [
      s,
      JSON.stringify(s).slice(1, -1),
      encodeURIComponent(s),
      new URLSearchParams({ s }).toString().slice(2),
      s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;"),
    ]);
    return new Redactor(forms);
  }

  /** Every string inside a plain value (an event, a result), redacted; other values as they are. */
  value<T>(v: T): T {
    if (!this.active) return v;
    return this.walk(v) as T;
  }

  private walk(v: unknown): unknown {
    if (typeof v === "string") return this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.walk(x));
    if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.walk(x)]));
    }
    return v;
  }
}

export const NO_SECRETS = new Redactor([]);

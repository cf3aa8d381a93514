// Constant-time comparison of secrets (keys, CSRF tokens): its own module, so that auth code in
// routes/ and portal/ can share it without importing each other.
import { timingSafeEqual } from "node:crypto";

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

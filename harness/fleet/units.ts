// Sizes, rates, fractions and conditions as a scenario writes them for a fleet: "64KiB",
// "512KiB/s", "1%", ">= 99%". Parsed here once; the step schemas refuse what these refuse.

const BYTE_UNITS: Record<string, number> = { "": 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** "64KiB", "1MB", "4096" or a number of bytes; undefined when it is none of those. */
export function parseBytes(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$/i.exec(value);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * BYTE_UNITS[(m[2] ?? "").toLowerCase()]!);
}

/** "512KiB/s" (bytes per second; the "/s" may be left out). */
export function parseRate(value: string | number): number | undefined {
  return parseBytes(typeof value === "string" ? value.replace(/\/\s*s\s*$/i, "") : value);
}

export type Op = ">=" | "<=" | ">" | "<" | "==";

/** A bound on a fleet figure: `">= 99%"` (of the devices), `"< 250"`, `0` (equals). */
export interface Condition {
  op: Op;
  value: number;
  percent: boolean;
  text: string;
}

export function parseCondition(value: string | number): Condition | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? { op: "==", value, percent: false, text: `== ${value}` } : undefined;
  const m = /^\s*(>=|<=|==|=|>|<)?\s*(\d+(?:\.\d+)?)\s*(%)?\s*$/.exec(value);
  if (!m) return undefined;
  const op = (m[1] === "=" || !m[1] ? "==" : m[1]) as Op;
  const percent = m[3] === "%";
  const n = Number(m[2]);
  if (percent && n > 100) return undefined;
  return { op, value: n, percent, text: `${op} ${m[2]}${percent ? "%" : ""}` };
}

/** Whether `actual` meets the condition; a percentage is of `devices`. */
export function holds(c: Condition, actual: number, devices: number): boolean {
  const bound = c.percent ? (c.value / 100) * devices : c.value;
  switch (c.op) {
    case ">=":
      return actual >= bound;
    case "<=":
      return actual <= bound;
    case ">":
      return actual > bound;
    case "<":
      return actual < bound;
    case "==":
      return actual === bound;
  }
}

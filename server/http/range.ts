// The `Range` header (RFC 9110 §14): one byte range; several ranges are served as the whole
// body (the RFC lets a server ignore Range). An invalid header (bad syntax, an empty set, spaces
// inside a range, last < first) is ignored as §14.2 says; only a valid range that misses the
// body is 416.

export type RangeResult = { kind: "none" } | { kind: "range"; start: number; end: number } | { kind: "unsatisfiable" };

export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: "none" };
  const m = /^\s*bytes=(.*)$/i.exec(header);
  if (!m) return { kind: "none" }; // another unit, or not a ranges-specifier: ignore
  const specs = m[1]!.split(",").map((s) => s.trim()).filter(Boolean);
  if (specs.length !== 1) return { kind: "none" }; // none (invalid) or several: the whole body
  const spec = /^(\d*)-(\d*)$/.exec(specs[0]!);
  if (!spec || (spec[1] === "" && spec[2] === "")) return { kind: "none" };
  if (spec[1] === "") {
    // suffix: the last N bytes
    const n = Number(spec[2]);
    if (n === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "range", start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(spec[1]);
  if (spec[2] !== "" && Number(spec[2]) < start) return { kind: "none" }; // last-pos < first-pos: invalid
  if (start >= size) return { kind: "unsatisfiable" };
  const end = spec[2] === "" ? size - 1 : Math.min(Number(spec[2]), size - 1);
  return { kind: "range", start, end };
}

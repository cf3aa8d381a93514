// A sweep's points: a list as written, or `count` points spread evenly from `from` to `to`
// (whole numbers when both ends are, since cut points are mostly line counts and byte offsets).

export type PointsSpec = number[] | { from: number; to: number; count: number };

export function sweepPoints(spec: PointsSpec): number[] {
  if (Array.isArray(spec)) return [...spec];
  const { from, to, count } = spec;
  if (count === 1) return [from];
  const whole = Number.isInteger(from) && Number.isInteger(to);
  const step = (to - from) / (count - 1);
  return Array.from({ length: count }, (_, i) => {
    const v = from + i * step;
    return whole ? Math.round(v) : Math.round(v * 1000) / 1000;
  });
}

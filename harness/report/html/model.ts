// The data one report page is drawn from: built by extract.ts from a run directory, embedded
// in the page as JSON, drawn by assets/client.js. Times are milliseconds since the run started.

export interface PageStep {
  path: string;
  name: string;
  label: string;
  board?: string;
  /** "running": a step a live page (rig run --serve) shows before it ends */
  status: "passed" | "failed" | "skipped" | "running";
  start: number;
  end: number;
  detail?: string;
  error?: string;
}

export interface PageConsole {
  /** each line's time; the same index as text */
  t: number[];
  text: string[];
  /** indices of lines that mark a capture gap (port lost, back, still looking) */
  gaps: number[];
}

export type MarkerKind = "power" | "reset" | "flash" | "fault" | "gap" | "retry" | "server" | "pause";

export interface PageMarker {
  t: number;
  kind: MarkerKind;
  board?: string;
  label: string;
}

export interface PageRequest {
  /** when the server started answering (log time minus its duration) */
  t: number;
  end: number;
  method: string;
  path: string;
  status: number;
  device?: string;
  aborted?: boolean;
}

export interface PageProgress {
  board: string;
  step: string;
  /** [t, fraction 0..1, bytes or null] */
  points: Array<[number, number, number | null]>;
}

export interface PageAttachment {
  name: string;
  href: string;
  contentType: string;
  step?: string;
}

/** The simulated fleet, one sample a second (result.json fleet.series, compacted). */
export interface PageFleet {
  devices: number;
  /** the states, bottom to top of the stack */
  states: string[];
  /** per sample: [t, count of each state in `states` order…] */
  samples: number[][];
  /** per sample: requests answered that second (all endpoints) and the check p99 ms (null: no check) */
  rps: number[];
  checkP99: Array<number | null>;
}

/** A power-cut sweep's brick map: a cell per point, placed by where its cut landed. */
export interface PageSweep {
  name: string;
  path: string;
  board: string;
  allow: string[];
  /** what the cells' places measure: bytes written, ms after the line, the line's count, or the point */
  axis: "bytes written" | "ms after the line" | "matching line" | "point";
  points: PageSweepPoint[];
}

export interface PageSweepPoint {
  index: number;
  point: number;
  outcome: "old" | "new" | "bricked" | "other";
  detail: string;
  /** where the cut landed, in words */
  at: string;
  /** the area the last page before the cut went to (download, install), if the board reports writes */
  area?: string;
  /** the cell's place along the axis (see PageSweep.axis) */
  position: number;
  /** the point's stretch of the run (its setup to its verdict), ms since the run started */
  start: number;
  end: number;
  /** its outcome is not among the allowed ones */
  failed: boolean;
}

export interface PageData {
  scenario: string;
  durationMs: number;
  boards: string[];
  steps: PageStep[];
  console: Record<string, PageConsole>;
  markers: PageMarker[];
  requests: PageRequest[];
  progress: PageProgress[];
  attachments: PageAttachment[];
  fleet?: PageFleet;
  sweeps: PageSweep[];
  /** where the failure happened, for the lines shown under the header */
  failure?: { step?: string; board?: string; t: number };
  /** a live page (rig run --serve): the address of its feed of PageDelta events */
  live?: string;
}

/**
 * One change to a live page's data, sent as a Server-Sent Event and applied by the page's
 * script as it comes (`t`: the run time it happened at, which the timeline grows to).
 */
export type PageDelta = { t: number } & (
  | { step: PageStep }
  | { line: { board: string; text: string; gap?: true } }
  | { marker: PageMarker }
  | { request: PageRequest }
  | { progress: { board: string; step: string; point: PageProgress["points"][number] } }
  | { attachment: PageAttachment }
  /** the run has ended and its report is written: load the page again */
  | { reload: string }
);

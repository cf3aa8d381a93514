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

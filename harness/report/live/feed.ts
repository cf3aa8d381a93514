// A run's events -> the changes a live report page applies (html/model.ts PageDelta), using the
// same readings of events as the finished page (html/extract.ts), so both pages show the same.
import { join } from "node:path";
import type { EventOf, RunEvent } from "../../core/events.ts";
import { eventMarker, hrefOf, progressPoint, requestOf, stepMarker } from "../html/extract.ts";
import type { PageDelta, PageStep } from "../html/model.ts";

export function deltasOf(e: RunEvent, runDir: string, pageDir = runDir): PageDelta[] {
  const t = e.t;
  const out: PageDelta[] = [];
  switch (e.type) {
    case "step.start":
      out.push({ t, step: stepOf(e, "running", t, t) });
      break;
    case "step.end": {
      const step = stepOf(e, e.status, e.t - e.durationMs, e.t);
      out.push({ t, step });
      const marker = stepMarker(step);
      if (marker) out.push({ t, marker });
      break;
    }
    case "console.line":
      out.push({ t, line: { board: e.board, text: e.text } });
      break;
    case "console.gap":
      out.push({ t, line: { board: e.board, text: `--- ${e.message} ---`, gap: true } });
      break;
    case "attachment":
      out.push({ t, attachment: { name: e.name, href: hrefOf(pageDir, join(runDir, e.path)), contentType: e.contentType, ...(e.step ? { step: e.step } : {}) } });
      break;
    default: {
      const request = requestOf(e);
      if (request) out.push({ t, request });
      const progress = progressPoint(e);
      if (progress) out.push({ t, progress });
    }
  }
  const marker = eventMarker(e);
  if (marker) out.push({ t, marker });
  return out;
}

function stepOf(e: EventOf<"step.start"> | EventOf<"step.end">, status: PageStep["status"], start: number, end: number): PageStep {
  const ended = e.type === "step.end" ? e : undefined;
  return {
    path: e.path,
    name: e.name,
    label: e.label,
    ...(e.board ? { board: e.board } : {}),
    status,
    start,
    end,
    ...(ended?.detail ? { detail: ended.detail } : {}),
    ...(ended?.error ? { error: ended.error.message } : {}),
  };
}

// A Playwright trace holds what the page was given and showed: a fill's value in the action's
// parameters, input values in every DOM snapshot after it, request bodies. A run's secrets are
// hidden there as in every file the harness writes: each entry, decompressed, gets them replaced
// by *** (also as JSON, URLs and HTML spell them), and the zip is written again.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import type { Redactor } from "../core/redact.ts";
import { readZip, writeZip } from "./zip.ts";

export function redactTrace(file: string, redactor: Redactor): void {
  if (!redactor.active) return;
  const hide = redactor.alsoEncoded();
  const entries = readZip(readFileSync(file)).map(({ name, data }) => ({ name, data: hide.bytes(data) }));
  const tmp = `${file}.redacting`;
  writeFileSync(tmp, writeZip(entries));
  renameSync(tmp, file);
}

// The suite page of a directory run, a shard or a merge: each scenario's verdict, class,
// duration and attempts, sortable, linking to its own page by a relative link; totals; and
// for a shard or a merge, which shards ran and what each held.
import { formatDuration } from "../../core/duration.ts";
import type { ReadResult, SuiteFile } from "../read-result.ts";
import { asset } from "./assets.ts";
import { esc } from "./escape.ts";
import { hrefOf } from "./extract.ts";
import { verdictOf } from "./header.ts";
import { join, resolve } from "node:path";

export interface SuitePageOptions {
  title?: string;
  shard?: SuiteFile["shard"];
  shards?: SuiteFile["shards"];
}

export function renderSuitePage(results: ReadResult[], pageDir: string, options: SuitePageOptions = {}): string {
  const passed = results.filter((r) => r.status === "passed").length;
  const failed = results.filter((r) => r.status === "failed" && r.failureClass === "test").length;
  const errors = results.length - passed - failed;
  const total = results.reduce((s, r) => s + r.durationMs, 0);
  const missing = (options.shards ?? []).filter((s) => s.status !== "ok");
  const title = options.title ?? "otarig suite";
  const rows = results
    .map((r) => {
      const v = verdictOf(r);
      const attempts = r.attempts?.length ?? 1;
      // a file that did not load has no page of its own: its row says why
      const name = resolve(r.runDir) === resolve(pageDir) ? esc(r.scenario) : `<a href="${esc(hrefOf(pageDir, join(r.runDir, "report.html")))}">${esc(r.scenario)}</a>`;
      return `<tr><td data-sort="${esc(r.scenario)}">${name}</td>` +
        `<td class="${v.cls}" data-sort="${v.cls}">${esc(v.text)}</td><td data-sort="${esc(r.failureClass ?? "")}">${esc(r.failureClass ?? "")}</td>` +
        `<td data-sort="${r.durationMs}">${formatDuration(r.durationMs)}</td><td data-sort="${attempts}">${attempts}</td>` +
        `<td data-sort="${r.environment?.shard?.index ?? 0}">${r.environment?.shard ? `${r.environment.shard.index}/${r.environment.shard.total}` : ""}</td>` +
        `<td>${esc(r.status === "passed" ? "" : (r.message ?? ""))}</td></tr>`;
    })
    .join("\n");
  const shardLine = options.shard
    ? `<p id="shard">shard ${options.shard.index}/${options.shard.total}: ${options.shard.scenarios.map(esc).join(", ") || "no scenarios"}</p>`
    : "";
  const shardsTable = options.shards?.length
    ? `<h2>shards</h2><table class="shards"><tr><th>directory</th><th>status</th><th></th></tr>${options.shards
        .map((s) => `<tr class="${s.status === "ok" ? "" : "error"}"><td>${esc(s.dir)}</td><td class="${s.status === "ok" ? "passed" : "error"}">${esc(s.status)}</td><td>${esc(s.message ?? "")}</td></tr>`)
        .join("")}</table>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${esc(title)}: ${passed}/${results.length} passed</title><style>${asset("style.css")}</style></head>
<body class="suite-page">
<h1>${esc(title)}</h1>
<p id="totals" class="totals"><span class="passed">${passed} passed</span> · <span class="failed">${failed} failed</span> · <span class="error">${errors} errors</span>${
    missing.length ? ` · <span class="error">${missing.length} shard(s) without results</span>` : ""
  } · ${results.length} scenarios in ${formatDuration(total)}</p>
${shardLine}
<table id="suite" class="suite sortable"><thead><tr><th>scenario</th><th>verdict</th><th>class</th><th>duration</th><th>attempts</th><th>shard</th><th>message</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${shardsTable}
<script>${asset("suite-page.js")}</script>
</body></html>
`;
}

// One run's page: the header (server-side HTML), then the timeline, the server's requests and
// the console pane, which the inlined client script draws from the embedded data.
import { formatDuration } from "../../core/duration.ts";
import type { ReadResult } from "../read-result.ts";
import { asset } from "./assets.ts";
import { esc, scriptJson } from "./escape.ts";
import { renderHeader, verdictOf } from "./header.ts";
import { renderBrickMaps } from "./brick-map.ts";
import type { PageData } from "./model.ts";

export function renderRunPage(result: ReadResult, data: PageData): string {
  const v = data.live ? { text: "running" } : verdictOf(result);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${esc(v.text)}: ${esc(result.scenario)} (otarig)</title>
<style>${asset("style.css")}</style></head>
<body class="run-page">
${renderHeader(result, data)}
${renderBrickMaps(data.sweeps)}
<section id="timeline-section"><h2>timeline</h2>
<div class="timeline-bar"><span id="selection" class="selection" hidden><span id="selection-text"></span> <button id="clear-selection" type="button">show all</button></span>
<button id="zoom-in" type="button" hidden>zoom to this moment</button> <button id="zoom-out" type="button" hidden>whole run</button></div>
<div id="timeline" class="timeline"></div><div id="tooltip" class="tooltip" hidden></div></section>
<section id="requests-section"><h2>server requests <span class="dim" id="requests-count"></span></h2>
<div class="requests-scroll"><table id="requests" class="requests"><thead><tr><th>time</th><th>method</th><th>path</th><th>status</th><th>device</th><th>ms</th></tr></thead><tbody></tbody></table></div></section>
<section id="console-section"><h2>console</h2>
<div class="console-bar"><label>board <select id="console-board"></select></label>
<label>search <input id="console-search" type="search" placeholder="text in the line"></label>
<label>jump to step <select id="jump-step"><option value="">—</option></select></label>
<span id="console-count" class="dim"></span></div>
<div id="console-view" class="console-view" tabindex="0"><div id="console-spacer"></div></div></section>
<section id="steps-section"><h2>steps</h2>${stepsTable(data)}</section>
<script id="otarig-data" type="application/json">${scriptJson(data)}</script>
<script>${asset("run-page.js")}</script>
${data.sweeps.length ? `<script>${asset("brick-map.js")}</script>` : ""}
</body></html>
`;
}

/** Every step with its timing, what it matched, its error and its attachments (readable without scripts). */
function stepsTable(data: PageData): string {
  const rows = data.steps
    .map((s) => {
      const files = data.attachments.filter((a) => a.step === s.path).map((a) => `<a href="${esc(a.href)}">${esc(a.name)}</a>`);
      return `<tr class="${s.status}" data-step="${esc(s.path)}"><td>${esc(s.path)}</td><td class="${s.status}">${s.status === "passed" ? "✓" : s.status === "failed" ? "✗" : "–"}</td><td><a href="#" class="jump" data-step="${esc(s.path)}">${esc(s.label)}</a>${
        s.detail ? `<div class="dim">${esc(s.detail)}</div>` : ""
      }${s.error ? `<pre class="message">${esc(s.error)}</pre>` : ""}${files.length ? `<div>${files.join(" · ")}</div>` : ""}</td><td>${(s.start / 1000).toFixed(3)}s</td><td>${formatDuration(s.end - s.start)}</td></tr>`;
    })
    .join("");
  return `<table class="steps"><tr><th>step</th><th></th><th>what</th><th>at</th><th>took</th></tr>${rows}</table>`;
}

// The portal's only static files: a stylesheet and the script that keeps a deployment page
// live. No external assets, so the portal works offline and in the air-gapped container.

export const PORTAL_CSS = `
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1b1f24; }
header { display: flex; gap: 1.2em; align-items: center; padding: .6em 1.2em; background: #24313f; color: #fff; }
header a { color: #cfe3ff; margin-right: .8em; }
header .brand { font-weight: 600; }
header .who { margin-left: auto; }
main { padding: 1em 1.5em; max-width: 72em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; }
th, td { border: 1px solid #c9d1d9; padding: .25em .6em; text-align: left; vertical-align: top; }
td.hash, td code { font-family: ui-monospace, monospace; font-size: 13px; word-break: break-all; }
form.inline { display: inline; }
fieldset { border: 1px solid #c9d1d9; margin: 1em 0; padding: .6em 1em; }
label { display: block; margin: .4em 0; }
.notice { padding: .4em .8em; border-radius: 4px; }
.notice.ok { background: #e6f4ea; }
.notice.error { background: #fde7e9; }
.status-success { color: #116329; font-weight: 600; }
.status-failed { color: #a40e26; font-weight: 600; }
`;

// Polls the deployment's status as JSON and rewrites the table with textContent only, so a
// device's message can never become markup.
export const PORTAL_JS = `
"use strict";
(function () {
  var table = document.querySelector("table[data-live]");
  if (!table) return;
  var url = table.getAttribute("data-live");
  var body = table.querySelector("tbody");
  var summary = document.getElementById("deployment-summary");
  function cell(text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }
  function render(rows) {
    var fresh = document.createElement("tbody");
    var done = 0;
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-sn", r.device_sn);
      tr.appendChild(cell(r.device_sn));
      tr.appendChild(cell(r.deployment_status, "status-" + r.deployment_status));
      tr.appendChild(cell(r.message || ""));
      tr.appendChild(cell(r.updated));
      fresh.appendChild(tr);
      if (r.deployment_status !== "processing") done++;
    });
    body.replaceWith(fresh);
    body = fresh;
    table.setAttribute("data-updated", new Date().toISOString());
    if (summary) summary.textContent = done + " of " + rows.length + " device(s) finished";
  }
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (res) { return res.ok ? res.json() : Promise.reject(res.status); })
      .then(function (data) { render(data.devices); setTimeout(poll, 1000); })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
`;

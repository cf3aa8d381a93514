// Deployments: create one (an uploaded artifact + serial numbers) and watch it: the page of a
// deployment polls its per-device status (processing, success, failed) while devices report.
import type { App } from "../context.ts";
import type { DeploymentRow } from "../db.ts";
import { first } from "../http/body.ts";
import { HttpError } from "../http/errors.ts";
import type { Route } from "../http/router.ts";
import { deploy } from "../routes/vendor.ts";
import { html, when } from "./html.ts";
import { csrfField, page } from "./layout.ts";
import { getPage, postForm, takeNotice } from "./respond.ts";
import type { PortalSession } from "./session.ts";

const deploymentPath = (id: string): string => `/portal/deployments/${encodeURIComponent(id)}`;

export function deploymentRoutes(app: App): Route[] {
  return [
    getPage(app, "/portal/deployments", (_ctx, s) => ({ html: deploymentsPage(app, s) })),
    postForm(app, "/portal/deployments", () => "/portal/deployments", (ctx, s, fields) => {
      const artifact = app.store.artifact((first(fields, "artifact") ?? "").toLowerCase());
      if (!artifact || artifact.vendor !== s.vendor) throw new HttpError(400, "NO_ARTIFACT", "Choose an artifact");
      const serials = (fields.get("devices") ?? []).flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);
      if (serials.length === 0) throw new HttpError(400, "NO_DEVICES", "Enter at least one serial number");
      const result = deploy(app, s.vendor, artifact, serials, undefined, ctx.now);
      ctx.logFields.deployment_id = result.deployment_id;
      const rejected = result.deployment_rejected.map((r) => `${r.device_sn}: ${r.message}`).join("; ");
      const text = `Deployment created: ${result.deployment_accepted.length} accepted${rejected ? `, rejected ${rejected}` : ""}`;
      return { redirect: deploymentPath(result.deployment_id), notice: { kind: rejected ? "error" : "ok", text } };
    }),
    getPage(app, "/portal/deployments/:id", (ctx, s) => ({ html: deploymentPage(app, s, ownDeployment(app, s, ctx.params.id)) })),
    getPage(app, "/portal/deployments/:id/status", (ctx, s) => ({ json: { devices: deviceRows(app, ownDeployment(app, s, ctx.params.id)) } })),
  ];
}

function ownDeployment(app: App, s: PortalSession, id: string | undefined): DeploymentRow {
  const d = id ? app.store.deployment(id) : undefined;
  if (!d || d.vendor !== s.vendor) throw new HttpError(404, "NO_DEPLOYMENT", "No such deployment");
  return d;
}

function deviceRows(app: App, d: DeploymentRow) {
  return app.store.deploymentDevices(d.seq).map((r) => ({ ...r, updated: when(r.update_epoch) }));
}

function deploymentsPage(app: App, s: PortalSession) {
  const deployments = app.store.deploymentsOf(s.vendor);
  const artifacts = app.store.artifactsOf(s.vendor).filter((a) => a.sha256 !== null);
  const rows = deployments.map((d) => {
    const devices = app.store.deploymentDevices(d.seq);
    const done = devices.filter((r) => r.deployment_status === "success").length;
    return html`<tr><td><a href="${deploymentPath(d.id)}">${d.id}</a></td><td>${app.store.artifact(d.artifact_uuid)?.name}</td><td>${done} of ${devices.length} succeeded</td><td>${when(d.created_at)}</td></tr>`;
  });
  const body = html`${
    deployments.length
      ? html`<table aria-label="Deployments"><thead><tr><th>Deployment</th><th>Artifact</th><th>Progress</th><th>Created</th></tr></thead><tbody>${rows}</tbody></table>`
      : html`<p>No deployments yet.</p>`
  }
<form method="post" action="/portal/deployments">
<fieldset><legend>Create a deployment</legend>
${csrfField(s)}
<label>Artifact <select name="artifact" required><option value="">choose…</option>${artifacts.map(
    (a) => html`<option value="${a.uuid}">${a.name} (${a.sha256?.slice(0, 12)}…)</option>`,
  )}</select></label>
<label>Devices (serial numbers, one per line) <textarea name="devices" rows="3" required></textarea></label>
<button type="submit">Deploy</button>
</fieldset>
</form>`;
  return page("Deployments", s, body, takeNotice(s));
}

function deploymentPage(app: App, s: PortalSession, d: DeploymentRow) {
  const artifact = app.store.artifact(d.artifact_uuid);
  const rows = deviceRows(app, d);
  const done = rows.filter((r) => r.deployment_status !== "processing").length;
  const body = html`<p>Artifact <strong>${artifact?.name}</strong> · sha256 <code>${artifact?.sha256}</code> · created ${when(d.created_at)}</p>
<p id="deployment-summary" role="status" aria-live="polite">${done} of ${rows.length} device(s) finished</p>
<table aria-label="Device status" data-live="${deploymentPath(d.id)}/status">
<thead><tr><th>Device</th><th>Status</th><th>Message</th><th>Updated</th></tr></thead>
<tbody>${rows.map(
    (r) =>
      html`<tr data-sn="${r.device_sn}"><td>${r.device_sn}</td><td class="status-${r.deployment_status}">${r.deployment_status}</td><td>${r.message ?? ""}</td><td>${r.updated}</td></tr>`,
  )}</tbody>
</table>
<p><a href="/portal/deployments">All deployments</a></p>`;
  return page(`Deployment ${d.id}`, s, body, takeNotice(s));
}

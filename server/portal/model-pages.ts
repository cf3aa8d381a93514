// Models and their serial numbers: list and create models; per model add serials, enable them
// (starts the activation window; re-enabling revokes the old CIK) and disable them.
import type { App } from "../context.ts";
import type { ModelRow } from "../db.ts";
import { first, isTrue } from "../http/body.ts";
import { HttpError } from "../http/errors.ts";
import type { Ctx, Route } from "../http/router.ts";
import { NAME, serialStatus } from "../routes/provision.ts";
import { html, when } from "./html.ts";
import { csrfField, page } from "./layout.ts";
import { getPage, postForm, takeNotice } from "./respond.ts";
import type { PortalSession } from "./session.ts";

const modelPath = (name: string): string => `/portal/models/${encodeURIComponent(name)}`;

export function modelRoutes(app: App): Route[] {
  const back = (ctx: Ctx): string => modelPath(ctx.params.model ?? "");
  return [
    getPage(app, "/portal/models", (_ctx, s) => ({ html: modelsPage(app, s) })),
    postForm(app, "/portal/models", () => "/portal/models", (ctx, s, fields) => {
      const name = first(fields, "model")?.trim() ?? "";
      if (!NAME.test(name)) throw new HttpError(400, "BAD_MODEL", "A model name is 1-128 letters, digits and ._-:@");
      if (app.store.modelByName(s.vendor, name)) throw new HttpError(409, "MODEL_EXISTS", `Model ${name} already exists`);
      app.store.createModel(ctx.now, s.vendor, name, isTrue(first(fields, "require_activation")));
      return { redirect: modelPath(name), notice: { kind: "ok", text: `Model ${name} created` } };
    }),
    getPage(app, "/portal/models/:model", (ctx, s) => ({ html: modelPage(app, ctx, s, ownModel(app, s, ctx.params.model)) })),
    postForm(app, "/portal/models/:model/serials", back, (ctx, s, fields) => {
      const model = ownModel(app, s, ctx.params.model);
      const sns = [...new Set((fields.get("serials") ?? []).flatMap((v) => v.split(/[\s,]+/)).filter(Boolean))];
      if (sns.length === 0) throw new HttpError(400, "NO_SERIALS", "Enter at least one serial number");
      const bad = sns.find((sn) => !NAME.test(sn));
      if (bad !== undefined) throw new HttpError(400, "BAD_SERIAL", `Not a serial number: ${bad.slice(0, 40)}`);
      if (!app.store.registerDevices(model.id, sns)) throw new HttpError(409, "SERIAL_EXISTS", "A serial number is already registered");
      return { redirect: back(ctx), notice: { kind: "ok", text: `Added ${sns.join(", ")}` } };
    }),
    postForm(app, "/portal/models/:model/serials/:sn", back, (ctx, s, fields) => {
      const model = ownModel(app, s, ctx.params.model);
      const d = app.store.device(model.id, ctx.params.sn ?? "");
      if (!d || d.prov_status === null) throw new HttpError(404, "NO_SERIAL", "No such serial number");
      const action = first(fields, "action");
      if (action === "enable") app.store.enableDevice(d.id, ctx.now);
      else if (action === "disable") app.store.disableDevice(d.id);
      else throw new HttpError(400, "BAD_ACTION", "Expected enable or disable");
      return { redirect: back(ctx), notice: { kind: "ok", text: `${d.sn} ${action}d` } };
    }),
  ];
}

/** The vendor's own model; another vendor's looks exactly like a missing one. */
function ownModel(app: App, s: PortalSession, name: string | undefined): ModelRow {
  const model = name ? app.store.modelByName(s.vendor, name) : undefined;
  if (!model) throw new HttpError(404, "NO_MODEL", "No such model");
  return model;
}

function modelsPage(app: App, s: PortalSession) {
  const models = app.store.modelsOfVendor(s.vendor);
  const rows = models.map((m) => {
    const serials = app.store.devicesOf(m.id).filter((d) => d.prov_status !== null).length;
    return html`<tr><td><a href="${modelPath(m.name ?? "")}">${m.name}</a></td><td>${m.id}</td><td>${m.require_activation ? "yes" : "no"}</td><td>${serials}</td><td>${when(m.created_at)}</td></tr>`;
  });
  const body = html`${
    models.length
      ? html`<table aria-label="Models"><thead><tr><th>Model</th><th>Firmware id</th><th>Requires activation</th><th>Serials</th><th>Created</th></tr></thead><tbody>${rows}</tbody></table>`
      : html`<p>No models yet.</p>`
  }
<form method="post" action="/portal/models">
<fieldset><legend>Create a model</legend>
${csrfField(s)}
<label>Model name <input name="model" required pattern="[A-Za-z0-9_.:@\\-]{1,128}"></label>
<label><input type="checkbox" name="require_activation" value="true"> Devices must activate (CIK) to get updates</label>
<button type="submit">Create model</button>
</fieldset>
</form>`;
  return page("Models", s, body, takeNotice(s));
}

function modelPage(app: App, ctx: Ctx, s: PortalSession, model: ModelRow) {
  const base = modelPath(model.name ?? "");
  const serials = app.store.devicesOf(model.id).filter((d) => d.prov_status !== null);
  const rows = serials.map((d) => {
    const status = serialStatus(app, d, ctx.now);
    const action = (verb: "enable" | "disable", label: string) =>
      html`<form method="post" action="${base}/serials/${encodeURIComponent(d.sn)}" class="inline">${csrfField(s)}<input type="hidden" name="action" value="${verb}"><button type="submit" aria-label="${label} ${d.sn}">${label}</button></form>`;
    return html`<tr data-sn="${d.sn}"><td>${d.sn}</td><td data-field="status">${status}</td><td>${when(d.enabled_at)}</td><td>${when(d.activated_at)}</td><td>${action("enable", "Enable")} ${status !== "disabled" ? action("disable", "Disable") : ""}</td></tr>`;
  });
  const body = html`<table aria-label="Model details"><tbody>
<tr><th scope="row">Firmware id</th><td>${model.id}</td></tr>
<tr><th scope="row">Devices must activate</th><td>${model.require_activation ? "yes" : "no"}</td></tr>
</tbody></table>
${
  serials.length
    ? html`<table aria-label="Serials of the model"><thead><tr><th>Serial number</th><th>Status</th><th>Enabled</th><th>Activated</th><th>Actions</th></tr></thead><tbody>${rows}</tbody></table>`
    : html`<p>No serial numbers yet.</p>`
}
<form method="post" action="${base}/serials">
<fieldset><legend>Add serial numbers</legend>
${csrfField(s)}
<label>Serial numbers (one per line) <textarea name="serials" rows="3" required></textarea></label>
<button type="submit">Add serial numbers</button>
</fieldset>
</form>
<p><a href="/portal/models">All models</a></p>`;
  return page(`Model ${model.name}`, s, body, takeNotice(s));
}

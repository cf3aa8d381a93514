// Devices: what the server records of each of the vendor's devices (provisioning status, last
// reported state and message, current hash, last seen).
import type { App } from "../context.ts";
import type { Route } from "../http/router.ts";
import { serialStatus } from "../routes/provision.ts";
import { html, when } from "./html.ts";
import { page } from "./layout.ts";
import { getPage, takeNotice } from "./respond.ts";

export function deviceRoutes(app: App): Route[] {
  return [
    getPage(app, "/portal/devices", (ctx, s) => {
      const rows = app.store.modelsOfVendor(s.vendor).flatMap((m) =>
        app.store.devicesOf(m.id).map(
          (d) =>
            html`<tr data-sn="${d.sn}"><td>${m.name}</td><td>${d.sn}</td><td>${d.prov_status === null ? "—" : serialStatus(app, d, ctx.now)}</td><td>${d.state ?? "—"}</td><td>${d.message ?? ""}</td><td class="hash">${d.current_hash ?? "—"}</td><td>${when(d.last_seen)}</td></tr>`,
        ),
      );
      const body = rows.length
        ? html`<table aria-label="Devices"><thead><tr><th>Model</th><th>Serial number</th><th>Provisioning</th><th>Last state</th><th>Message</th><th>Current hash</th><th>Last seen</th></tr></thead><tbody>${rows}</tbody></table>`
        : html`<p>No devices yet.</p>`;
      return { html: page("Devices", s, body, takeNotice(s)) };
    }),
  ];
}

// The vendor portal under /portal/: server-rendered pages over the same store, blobs and
// deployment logic as the signed API.
import type { App } from "../context.ts";
import { route, type Route } from "../http/router.ts";
import { artifactRoutes } from "./artifact-pages.ts";
import { PORTAL_CSS, PORTAL_JS } from "./assets.ts";
import { deploymentRoutes } from "./deployment-pages.ts";
import { deviceRoutes } from "./device-pages.ts";
import { modelRoutes } from "./model-pages.ts";
import { send } from "./respond.ts";
import { signInRoutes } from "./sign-in.ts";

export function portalRoutes(app: App): Route[] {
  return [
    route(["GET", "HEAD"], "/portal", "text", (ctx) => send(ctx, { redirect: "/portal/models" })),
    route(["GET", "HEAD"], "/portal/", "text", (ctx) => send(ctx, { redirect: "/portal/models" })),
    route(["GET", "HEAD"], "/portal/static/portal.css", "text", (ctx) => send(ctx, { asset: PORTAL_CSS, type: "text/css; charset=utf-8" })),
    route(["GET", "HEAD"], "/portal/static/portal.js", "text", (ctx) => send(ctx, { asset: PORTAL_JS, type: "text/javascript; charset=utf-8" })),
    ...signInRoutes(app),
    ...modelRoutes(app),
    ...artifactRoutes(app),
    ...deploymentRoutes(app),
    ...deviceRoutes(app),
  ];
}

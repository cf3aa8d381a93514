// The portal's page frame: navigation, who is signed in, sign-out, and a one-shot notice.
import { html, type Html } from "./html.ts";
import type { PortalSession } from "./session.ts";

export interface Notice {
  kind: "ok" | "error";
  text: string;
}

const NAV = [
  ["/portal/models", "Models"],
  ["/portal/artifacts", "Artifacts"],
  ["/portal/deployments", "Deployments"],
  ["/portal/devices", "Devices"],
] as const;

export function page(title: string, session: PortalSession | undefined, body: Html, notice?: Notice): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · otarig portal</title>
<link rel="stylesheet" href="/portal/static/portal.css">
<script src="/portal/static/portal.js" defer></script>
</head>
<body>
<header>
<span class="brand">otarig portal</span>
${
  session
    ? html`<nav aria-label="Portal">${NAV.map(([href, label]) => html`<a href="${href}">${label}</a> `)}</nav>
<span class="who">vendor <strong>${session.vendor}</strong></span>
<form method="post" action="/portal/sign-out" class="inline">${csrfField(session)}<button type="submit">Sign out</button></form>`
    : ""
}
</header>
<main>
<h1>${title}</h1>
${notice ? html`<p class="notice ${notice.kind}" role="${notice.kind === "error" ? "alert" : "status"}">${notice.text}</p>` : ""}
${body}
</main>
</body>
</html>
`;
}

export function csrfField(session: PortalSession): Html {
  return html`<input type="hidden" name="csrf" value="${session.csrf}">`;
}

// Picks how the OTA server runs for a scenario: container, process, an existing URL, or auto
// (container when an engine answers, else process — lab machines without Docker still work).
import { InfraError } from "../core/errors.ts";
import { containerEngineAvailable } from "./engine.ts";
import { removeStaleContainers, startContainerServer } from "./container-server.ts";
import { startProcessServer } from "./process-server.ts";
import { attachUrlServer } from "./url-server.ts";
import type { OtaServer, ServerCredentials, ServerSpec, ServerStartOptions } from "./types.ts";

export interface StartServerOptions extends ServerStartOptions {
  runId: string;
  /** overrides the scenario's mode (`rig run --server …`) */
  modeOverride?: ServerSpec["mode"];
  onDecision?: (message: string) => void;
}

export async function startOtaServer(spec: ServerSpec, options: StartServerOptions): Promise<OtaServer> {
  let mode = options.modeOverride ?? spec.mode;
  if (spec.url && mode === "auto") mode = "url";
  if (spec.image && mode === "auto") mode = "container";
  if (mode === "auto") {
    mode = (await containerEngineAvailable()) ? "container" : "process";
    options.onDecision?.(`server mode auto -> ${mode}${mode === "process" ? " (no container engine answered)" : ""}`);
  }
  switch (mode) {
    case "url":
      if (!spec.url) throw new InfraError("server mode url needs server.url");
      return attachUrlServer(spec.url, credentialsFromEnv(), spec.wait?.http);
    case "process":
      if (spec.image) throw new InfraError(`server.image (${spec.image}) needs container mode; process mode runs the reference server`);
      return startProcessServer({ ...options, ...(spec.env ? { env: spec.env } : {}) });
    case "container":
      if (!(await containerEngineAvailable())) {
        throw new InfraError(
          "server mode container: no container engine answers (is dockerd running? DOCKER_HOST=" +
            (process.env.DOCKER_HOST ?? "unset") +
            "); use --server process to run the reference server as a plain process",
        );
      }
      // Containers of harness runs that died (crash, kill -9) are removed before a new one starts.
      await removeStaleContainers().catch(() => []);
      return startContainerServer({
        ...options,
        ...(spec.image ? { image: spec.image } : {}),
        ...(spec.port ? { port: spec.port } : {}),
        ...(spec.env ? { env: spec.env } : {}),
        ...(spec.wait ? { wait: spec.wait } : {}),
      });
  }
}

/** For a server the harness did not start: vendor credentials come from the environment. */
function credentialsFromEnv(): ServerCredentials {
  const key = process.env.OTARIG_API_KEY; // vendor:keyId:secret
  const parts = key?.split(":");
  const c: ServerCredentials = parts && parts.length >= 3 ? { apiKey: { vendor: parts[0]!, keyId: parts[1]!, secret: parts.slice(2).join(":") } } : {};
  if (process.env.OTARIG_OTA_SECRET) c.secret = process.env.OTARIG_OTA_SECRET;
  return c;
}

// backend.*: the ota-backend vendor side (seed 001): create a firmware, firewall, upload.
import { basename } from "node:path";
import { ScenarioError } from "../../core/errors.ts";
import { BackendClient, type FirmwareCredentials } from "../../ota/backend-client.ts";
import type { StepParams } from "../../scenario/steps.ts";
import type { StepContext, StepImpl } from "../context.ts";

function client(ctx: StepContext): BackendClient {
  return new BackendClient({ baseUrl: ctx.server.url, ...(ctx.server.credentials.secret ? { secret: ctx.server.credentials.secret } : {}) });
}

function firmware(ctx: StepContext, name: string): FirmwareCredentials {
  const fw = ctx.firmwares.get(name);
  if (!fw) {
    const known = [...ctx.firmwares.keys()];
    throw new ScenarioError(
      `no firmware named "${name}": create it first with backend.create { as: ${name} }${known.length ? ` (known: ${known.join(", ")})` : ""}`,
      ctx.step.pos,
    );
  }
  return fw;
}

export const create: StepImpl<StepParams<"backend.create">> = async (ctx, p) => {
  const fw = await client(ctx).create();
  ctx.firmwares.set(p.as, fw);
  ctx.outputs.set(`${p.as}.id`, String(fw.id)); // the key stays out of vars: it is a secret
  return { detail: `${p.as}.id = ${fw.id}` };
};

export const allow: StepImpl<StepParams<"backend.allow">> = async (ctx, p) => {
  await client(ctx).allow(firmware(ctx, p.firmware), p.device);
  return { detail: `${p.device} allowed on ${p.firmware}` };
};

export const deny: StepImpl<StepParams<"backend.deny">> = async (ctx, p) => {
  await client(ctx).deny(firmware(ctx, p.firmware), p.device);
  return { detail: `${p.device} denied on ${p.firmware}` };
};

export const upload: StepImpl<StepParams<"backend.upload">> = async (ctx, p) => {
  const hash = await client(ctx).upload(firmware(ctx, p.firmware), p.file);
  ctx.outputs.set(`${p.firmware}.hash`, hash);
  return { detail: `${basename(p.file)} → ${hash.slice(0, 12)}…` };
};

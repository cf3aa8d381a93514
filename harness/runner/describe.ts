import { basename } from "node:path";
import type { Step } from "../scenario/types.ts";
import { describeTarget, type Target } from "../browser/locate.ts";

/** A short human label for a step ("expect dut /boot: .../"), from its (resolved) parameters. */
export function describeStep(step: Step, params: unknown = step.params): string {
  const p = (params ?? {}) as Record<string, unknown>;
  const board = typeof p.board === "string" ? ` ${p.board}` : "";
  switch (step.name) {
    case "expect":
      return `expect${board}${p.not ? " not" : ""} /${String(p.pattern)}/`;
    case "flash":
      return `flash${board} ${basename(String(p.image))}`;
    case "power":
      return `power${board} ${String(p.action)}`;
    case "console.send":
      return `send${board} "${String(p.line)}"`;
    case "wait":
      return `wait ${typeof params === "object" ? String(p.for) : String(params)}`;
    case "device.check":
      return `device.check${board}${p.expect ? ` → ${String(p.expect)}` : ""}`;
    case "device.configure":
      return `device.configure${board} ${Object.keys((p.settings ?? {}) as object).join(", ")}`;
    case "fleet.start":
      return `fleet.start ${String(p.count)} devices in ${String(p.model)}${p.slice ? ` slice ${String(p.slice)}` : ""}`;
    case "fleet.deploy":
      return `fleet.deploy ${String(p.artifact)} → the fleet`;
    case "fleet.wait":
    case "assert.fleet":
      return `${step.name} ${Object.entries(p).filter(([k]) => k !== "within").map(([k, v]) => `${k} ${String(v)}`).join(", ")}`;
    case "backend.upload":
      return `backend.upload ${basename(String(p.file))} → ${String(p.firmware)}`;
    case "assert.hash":
      return `assert.hash${board} = ${basename(String(p.equals))}`;
    case "vendor.register":
    case "vendor.enable":
    case "vendor.disable":
      return `${step.name} ${String(p.model)}: ${list(p.devices)}`;
    case "vendor.upload":
      return `vendor.upload ${basename(String(p.file))} → ${String(p.as)}`;
    case "vendor.deploy":
      return `vendor.deploy ${String(p.artifact)} → ${list(p.devices)}`;
    case "assert.deployment":
      return `assert.deployment ${String(p.artifact)} ${p.devices ? list(p.devices) : String(p.device)} = ${String(p.status)}`;
    case "assert.device":
      return `assert.device ${String(p.device)}${["state", "status", "hash"].map((k) => (p[k] ? ` ${k}=${shortValue(String(p[k]))}` : "")).join("")}`;
    case "repeat":
      return `repeat ${String(p.times)}×`;
    case "sweep":
      return `sweep${p.name ? ` ${String(p.name)}` : ""}${board}`;
    case "browser.screenshot":
      return `browser.screenshot ${String(p.name)}`;
    case "browser.open":
      return `browser.open ${String(p.url)}`;
    case "browser.click":
    case "browser.fill":
    case "browser.select":
    case "browser.upload":
    case "browser.expect":
      return `${step.name} ${describeTarget(p as Target)}${p.not ? " not" : ""}`;
    default:
      return `${step.name}${board}`;
  }
}

function list(value: unknown): string {
  const items = Array.isArray(value) ? value.map(String) : [String(value)];
  return items.length > 3 ? `${items.slice(0, 3).join(", ")} +${items.length - 3}` : items.join(", ");
}

/** A digest cut to 16 digits, a file path to its name. */
function shortValue(v: string): string {
  return /^[0-9a-f]{64}$/i.test(v) ? v.slice(0, 16) : basename(v);
}

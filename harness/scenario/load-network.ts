// A rig's `network:` (where its boards reach this runner): the file's side of it. Whether the
// address exists on this machine is checked when the rig is used (harness/board/network/).
import { isIP } from "node:net";
import { z } from "zod";
import { ScenarioError } from "../core/errors.ts";
import type { BoardSpec, NetworkSpec } from "./types.ts";
import { check } from "./validate.ts";
import { isLoopbackAddress } from "../board/network/address.ts";
import type { YamlSource } from "./yaml-source.ts";

export const networkSchema = z.strictObject({
  address: z
    .string()
    .min(1)
    .default("auto")
    .describe("auto (default: 127.0.0.1 for an all-virtual rig, else the default route's interface), an IP address of this host, or an interface name (eth1)"),
  ports: z
    .union([z.string().min(1).meta({ pattern: "^\\s*\\d+\\s*(-\\s*\\d+\\s*)?$" }), z.number().int()])
    .optional()
    .describe("the board proxies' ports: a range such as 41000-41099, or one port (default: any free port)"),
});

/** Linux interface names: at most 15 characters, no slash or whitespace. */
const INTERFACE_NAME = /^[^\s/]{1,15}$/;

export function readNetwork(src: YamlSource, raw: unknown, boards: BoardSpec[], errors: ScenarioError[]): NetworkSpec | undefined {
  const { value, errors: errs } = check(networkSchema, raw, src, ["network"], { what: "network" });
  errors.push(...errs);
  if (!value) return undefined;
  const addressPos = src.pos(["network", "address"]);
  const network: NetworkSpec = { address: value.address, pos: { address: addressPos } };

  const address = value.address;
  if (address !== "auto" && !isIP(address)) {
    if (/^[\d.]+$/.test(address) || address.includes(":")) {
      errors.push(new ScenarioError(`network.address "${address}" is not a valid IP address (or write auto, or an interface name such as eth0)`, addressPos));
    } else if (!INTERFACE_NAME.test(address)) {
      errors.push(new ScenarioError(`network.address "${address}" is neither auto, an IP address nor an interface name (at most 15 characters, no spaces)`, addressPos));
    }
  }
  const isolated = boards.filter((b) => b.virtual?.isolated);
  if ((isLoopbackAddress(address) || address === "lo") && isolated.length > 0) {
    errors.push(
      new ScenarioError(
        `network.address ${address} is loopback, which isolated boards (${isolated.map((b) => b.name).join(", ")}) cannot reach; use auto or an address of this host`,
        addressPos,
      ),
    );
  }

  if (value.ports !== undefined) {
    const portsPos = src.pos(["network", "ports"]);
    network.pos.ports = portsPos;
    const range = parsePortRange(String(value.ports));
    if (typeof range === "string") errors.push(new ScenarioError(`network.ports "${value.ports}": ${range}`, portsPos));
    else network.ports = range;
  }
  return network;
}

/** "41000-41099" or "41000" -> the inclusive range, or why it is not one. */
export function parsePortRange(text: string): { first: number; last: number } | string {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(text);
  if (!m) return 'expected a port range such as "41000-41099" (or one port)';
  const first = Number(m[1]);
  const last = m[2] === undefined ? first : Number(m[2]);
  for (const p of [first, last]) if (p < 1 || p > 65535) return `port ${p} is out of range 1-65535`;
  if (last < first) return `the range ends (${last}) before it starts (${first})`;
  return { first, last };
}

// The bench address: what auto, an IP and an interface name resolve to on this machine.
import { networkInterfaces } from "node:os";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { listenAddressFor, resolveBenchAddress } from "../../harness/board/network/address.ts";
import type { BoardSpec, NetworkSpec } from "../../harness/board/spec.ts";
import { InfraError } from "../../harness/core/errors.ts";
import { parsePortRange } from "../../harness/scenario/load-network.ts";

const pos = { file: "rig.yaml", line: 3, col: 12 };
const board = (name: string, kind: "virtual" | "isolated" | "physical"): BoardSpec => ({
  name,
  serialNumber: name,
  profile: "/p.yaml",
  console: { baud: 115200, lineEnding: "\n", reconnectTimeoutMs: 1000, ...(kind === "physical" ? { port: "/dev/ttyUSB0" } : {}) },
  ...(kind === "physical" ? {} : { virtual: { config: {}, ...(kind === "isolated" ? { isolated: true } : {}) } }),
  extra: {},
  pos,
});
const net = (address: string): NetworkSpec => ({ address, pos: { address: pos } });

describe("resolveBenchAddress", () => {
  it("auto: loopback when every board is virtual; isolated boards then listen on their own veth", () => {
    const plain = resolveBenchAddress(undefined, [board("a", "virtual")]);
    expect(plain.address).toBe("127.0.0.1");
    const mixed = resolveBenchAddress(net("auto"), [board("a", "virtual"), board("b", "isolated")]);
    expect(listenAddressFor(mixed, undefined)).toBe("127.0.0.1");
    expect(listenAddressFor(mixed, "198.18.0.5")).toBe("198.18.0.5");
  });

  it("auto: a QEMU guest runs on this host, so it counts as virtual (loopback, never the LAN address)", () => {
    const qemu: BoardSpec = { ...board("q", "physical"), console: { baud: 115200, reconnectTimeoutMs: 1000 }, qemu: {} as BoardSpec["qemu"] };
    expect(resolveBenchAddress(net("auto"), [board("a", "virtual"), qemu]).address).toBe("127.0.0.1");
  });

  it("auto: the default route's interface address as soon as one board is a real one", async () => {
    const dev = /dev (\S+)/.exec((await execa("ip", ["route", "show", "default"])).stdout)?.[1];
    expect(dev, "this test needs a default route").toBeDefined();
    const expected = networkInterfaces()[dev!]!.find((i) => i.family === "IPv4")!.address;
    const r = resolveBenchAddress(net("auto"), [board("a", "virtual"), board("esp", "physical")]);
    expect(r.address).toBe(expected);
    expect(r.how).toContain(dev);
    expect(listenAddressFor(r, "198.18.0.5")).toBe(expected); // a set address holds for isolated boards too
  });

  it("an interface name gives its first IPv4 address; an IP must be one of this host's", () => {
    expect(resolveBenchAddress(net("lo"), [board("esp", "physical")]).address).toBe("127.0.0.1");
    expect(resolveBenchAddress(net("127.0.0.1"), [board("esp", "physical")]).address).toBe("127.0.0.1");
    const notMine = () => resolveBenchAddress(net("203.0.113.77"), [board("esp", "physical")]);
    expect(notMine).toThrow(InfraError);
    expect(notMine).toThrow(/^rig\.yaml:3:12: network\.address 203\.0\.113\.77 is not an address of this host \(its addresses: .*127\.0\.0\.1/);
    expect(() => resolveBenchAddress(net("nosuch0"), [board("esp", "physical")])).toThrow(/rig\.yaml:3:12: network\.address: no interface "nosuch0"/);
  });
});

describe("parsePortRange", () => {
  it("reads a range or one port, and says what is wrong with anything else", () => {
    expect(parsePortRange("41000-41099")).toEqual({ first: 41000, last: 41099 });
    expect(parsePortRange("41000")).toEqual({ first: 41000, last: 41000 });
    expect(parsePortRange("41000-")).toMatch(/expected a port range/);
    expect(parsePortRange("0-10")).toMatch(/port 0 is out of range/);
    expect(parsePortRange("70000")).toMatch(/port 70000 is out of range/);
    expect(parsePortRange("5-4")).toMatch(/ends \(4\) before it starts \(5\)/);
  });
});

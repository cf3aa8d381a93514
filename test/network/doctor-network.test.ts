// rig doctor's network lines, through the CLI.
import { rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, rig, tempDir } from "../cli/helpers.ts";

const dir = tempDir("otarig-doctor-net-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A rig with one real board (its console a file that exists) and the given network: block. */
function realRig(network: string): string {
  const console = join(dir, "ttyUSB0");
  writeFileSync(console, "");
  const file = join(dir, `rig-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `name: bench\n${network}\nboards:\n  esp:\n    serial_number: E1\n    profile: ${ROOT}/fixtures/profiles/esp-idf-ota.yaml\n    console: { port: ${console} }\n`);
  return file;
}

describe("rig doctor: network", () => {
  it("virtual-lan: isolated boards on their veths, the port range free, namespaces possible", async () => {
    const r = await rig(["doctor", "rigs/virtual-lan.yaml"]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/^ok\s+network\s+boards reach this runner on the host side of their own veth, 198\.18\.0\.0\/15/m);
    // (a run going on at the same time may hold some of the range: then it is a warning)
    expect(r.stdout).toMatch(/^(ok|warn)\s+network ports\s+41000-41099: \d+ of 100 free for 9 board proxies/m);
    expect(r.stdout).toMatch(/^ok\s+isolated boards\s+dut, b1, .*can be made here/m);
  });

  it("warns when a real board is given loopback, the mistake a new user makes first", async () => {
    const r = await rig(["doctor", realRig("network: { address: lo }")]);
    expect(r.stdout).toMatch(/^ok\s+network\s+boards reach this runner at 127\.0\.0\.1 \(interface lo\)/m);
    expect(r.stdout).toMatch(/^warn\s+network\s+esp is a real board, but 127\.0\.0\.1 is loopback: a board on the bench cannot reach it/m);
  });

  it("fails (exit 3) for an address not on this host, and for a range with fewer free ports than boards", async () => {
    const missing = realRig("network: { address: 192.0.2.254 }");
    const r1 = await rig(["doctor", missing]);
    expect(r1.exitCode).toBe(3);
    expect(r1.stdout).toMatch(new RegExp(`^FAIL\\s+network\\s+${missing}:2:21: network\\.address 192\\.0\\.2\\.254 is not an address of this host`, "m"));

    const holder = createServer();
    await new Promise<void>((ok) => holder.listen({ host: "127.0.0.1", port: 0 }, ok));
    const port = (holder.address() as { port: number }).port;
    try {
      const r2 = await rig(["doctor", realRig(`network: { address: 127.0.0.1, ports: "${port}" }`)]);
      expect(r2.exitCode).toBe(3);
      expect(r2.stdout).toMatch(new RegExp(`^FAIL\\s+network ports\\s+${port}-${port}: 0 of 1 free for 1 board proxy; in use: ${port}`, "m"));
    } finally {
      holder.close();
    }
  });
});

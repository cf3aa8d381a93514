// Isolated virtual boards through the real CLI (root: real namespaces, veths, PTYs, a real
// server): the board has no way to the server but its proxy on the bench address, and nothing
// the run made survives it, whether it passes, fails or is interrupted.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, processesMentioning, readJson, rig, tempDir } from "../cli/helpers.ts";
import { leftBehind, namespacesIn } from "./helpers.ts";

const dir = tempDir("otarig-lan-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const LAN = "rigs/virtual-lan.yaml";
const FIX = join(ROOT, "test/network/fixtures");

/** Everything the run made is gone: its namespaces (named in its run.log), their veths, its processes. */
async function expectNothingLeft(runDir: string): Promise<void> {
  const made = namespacesIn(readFileSync(join(runDir, "run.log"), "utf8"));
  expect(made.length).toBeGreaterThan(0);
  for (const m of made) expect(await leftBehind(m), `${m.namespace} or its veth`).toBe(false);
  expect(await processesMentioning(runDir)).toEqual([]);
}

describe("isolated virtual boards (rigs/virtual-lan.yaml)", () => {
  it("a board that cannot reach the host's 127.0.0.1 completes the OTA cycle through its proxy on the bench address", async () => {
    const out = join(dir, "no-loopback");
    const r = await rig([join(FIX, "no-loopback.yaml"), "--out", out]);
    expect(r.exitCode, r.all).toBe(0);
    // The server's own address was refused inside the namespace; the proxy's address on the veth worked.
    expect(r.all).toMatch(/device\.activate dut .*error: activation failed: .*ECONNREFUSED/);
    const runLog = readFileSync(join(out, "run.log"), "utf8");
    const proxy = /board reaches the server at (http:\/\/198\.1[89]\.\d+\.\d+:(\d+))/.exec(runLog);
    expect(proxy, runLog).not.toBeNull();
    expect(Number(proxy![2])).toBeGreaterThanOrEqual(41000); // the rig's network.ports
    expect(Number(proxy![2])).toBeLessThanOrEqual(41099);
    expect(readJson(join(out, "virtual/dut/flash/nvs.json")).server).toBe(proxy![1]);
    await expectNothingLeft(out);
  });

  it("the same scenario fails on the plain virtual rig, where the board does reach 127.0.0.1 (the check above can fail)", async () => {
    const out = join(dir, "control");
    const r = await rig([join(FIX, "no-loopback.yaml"), "--rig", "rigs/virtual.yaml", "--out", out]);
    expect(r.exitCode, r.all).toBe(1);
    expect(readJson(join(out, "result.json")).failedStep).toBe("8"); // activation succeeded where it must not
  });

  it("network-flap and server-restart-mid-download pass with their faults on the board's non-loopback path (server in a container)", async () => {
    const out = join(dir, "faults");
    const r = await rig(["scenarios/network-flap.yaml", "scenarios/server-restart-mid-download.yaml", "--rig", LAN, "--server", "container", "--out", out], {
      timeoutMs: 180_000,
    });
    expect(r.exitCode, r.all).toBe(0);
    for (const name of ["network-flap", "server-restart-mid-download"]) {
      expect(readJson(join(out, name, "result.json")).server.mode).toBe("container");
      const runLog = readFileSync(join(out, name, "run.log"), "utf8");
      expect(runLog).toMatch(/network dut: board reaches the server at http:\/\/198\.1[89]\./);
      await expectNothingLeft(join(out, name));
    }
    expect(readFileSync(join(out, "network-flap", "run.log"), "utf8")).toMatch(/network dut: cut armed/);
    expect(readFileSync(join(out, "server-restart-mid-download", "run.log"), "utf8")).toMatch(/server: started again at/);
  }, 200_000);

  it("server mode url: a server the harness did not start sits behind the isolated board's proxy too", async () => {
    const { execa } = await import("execa");
    const server = execa(process.execPath, ["--import", "tsx", "server/main.ts"], {
      cwd: ROOT,
      reject: false,
      env: { BACKEND_PORT: "0", OTA_DATA_DIR: join(dir, "url-server-data"), OTA_API_KEYS: "labvendor:k1:url-mode-secret" },
    });
    try {
      const url = await new Promise<string>((ok, fail) => {
        const timer = setTimeout(() => fail(new Error("the reference server printed no listening line within 20s")), 20_000);
        server.stdout!.on("data", (d: Buffer) => {
          const m = /"url":"(http:[^"]+)"/.exec(d.toString());
          if (m) {
            clearTimeout(timer);
            ok(m[1]!);
          }
        });
      });
      const scenario = readFileSync(join(ROOT, "scenarios/ota-happy-path.yaml"), "utf8")
        .replace(/^rig: .*$/m, `rig: ${join(ROOT, LAN)}`)
        .replace(/^server: .*$/m, `server: { url: "${url}" }`)
        .replaceAll("../fixtures/", `${ROOT}/fixtures/`);
      const file = join(dir, "url-mode.yaml");
      writeFileSync(file, scenario);
      const out = join(dir, "url-mode");
      const r = await rig([file, "--out", out], { env: { OTARIG_API_KEY: "labvendor:k1:url-mode-secret" } });
      expect(r.exitCode, r.all).toBe(0);
      expect(readJson(join(out, "result.json")).server).toMatchObject({ mode: "url", url });
      expect(readFileSync(join(out, "run.log"), "utf8")).toMatch(/network dut: board reaches the server at http:\/\/198\.1[89]\./);
      await expectNothingLeft(out);
    } finally {
      server.kill("SIGTERM");
      await server;
    }
  });

  it("removes its namespaces after a failed run", async () => {
    const out = join(dir, "fails");
    const r = await rig([join(ROOT, "test/cli/fixtures/never-matches.yaml"), "--rig", LAN, "--out", out]);
    expect(r.exitCode, r.all).toBe(1);
    await expectNothingLeft(out);
  });

  it("removes its namespaces on Ctrl-C (exit 130)", async () => {
    const out = join(dir, "sigint");
    const child = rig([join(ROOT, "test/cli/fixtures/long-wait.yaml"), "--rig", LAN, "--out", out]);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the run never reached its wait step within 60s")), 60_000);
      child.all!.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("4 wait")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode, r.all).toBe(130);
    await expectNothingLeft(out);
  });

  it("without CAP_NET_ADMIN exits 3 saying what is missing, with no stack trace", async () => {
    const out = join(dir, "nocap");
    const cli = ["node", "--import", "tsx", "harness/cli/main.ts", "scenarios/ota-happy-path.yaml", "--rig", LAN, "--server", "process", "--out", out];
    const { execa } = await import("execa");
    // setpriv (util-linux, on every Debian) drops the capability from the bounding set: even root lacks it after exec.
    const r = await execa("setpriv", ["--inh-caps=-net_admin", "--bounding-set=-net_admin", "--", process.execPath, ...cli.slice(1)], {
      cwd: ROOT,
      reject: false,
      all: true,
      env: { NO_COLOR: "1" },
    });
    expect(r.exitCode, r.all).toBe(3);
    expect(r.all).toContain("isolated virtual boards need CAP_NET_ADMIN");
    expect(r.all).not.toMatch(/\n\s+at /);
    expect(await processesMentioning(out)).toEqual([]);
  });
});

describe("rig network: bad input", () => {
  /** rigs/virtual-lan.yaml (or rigs/virtual.yaml) with another network: block. */
  function rigWith(network: string, base = LAN): string {
    const text = readFileSync(join(ROOT, base), "utf8")
      .replace(/^network:\n(?:  .*\n)+/m, "")
      .replace(/^boards:/m, `${network}\nboards:`)
      .replaceAll("../fixtures/", `${ROOT}/fixtures/`)
      .concat(`lock_dir: ${join(dir, "locks")}\n`);
    const file = join(dir, `rig-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, text);
    return file;
  }
  const line = (file: string, what: string) => readFileSync(file, "utf8").split("\n").findIndex((l) => l.includes(what)) + 1;
  const run = (file: string, out: string) => rig(["scenarios/ota-happy-path.yaml", "--rig", file, "--server", "process", "--out", join(dir, out)]);

  it("an address that is not on this host: exit 3 at the address, nothing started", async () => {
    const file = rigWith("network: { address: 192.0.2.254 }");
    const r = await run(file, "not-here");
    expect(r.exitCode, r.all).toBe(3);
    expect(r.all).toContain(`${file}:${line(file, "192.0.2.254")}:21: network.address 192.0.2.254 is not an address of this host`);
    expect(readFileSync(join(dir, "not-here", "run.log"), "utf8")).not.toMatch(/network namespace/);
  });

  it("an unknown interface: exit 3 naming the host's interfaces", async () => {
    const file = rigWith("network: { address: nosuch0 }");
    const r = await run(file, "no-if");
    expect(r.exitCode, r.all).toBe(3);
    expect(r.all).toMatch(/network\.address: no interface "nosuch0" on this host \(its interfaces: lo, /);
  });

  it("a malformed port range or a loopback address for isolated boards: exit 2 at the line, nothing run", async () => {
    const bad = rigWith('network: { address: auto, ports: "41099-41000" }');
    const loop = rigWith("network: { address: 127.0.0.1 }");
    const r = await rig(["validate", bad, loop]);
    expect(r.exitCode, r.all).toBe(2);
    expect(r.all).toContain(`${bad}:${line(bad, "41099")}:34: network.ports "41099-41000": the range ends (41000) before it starts (41099)`);
    expect(r.all).toContain(`${loop}:${line(loop, "address: 127.0.0.1")}:21: network.address 127.0.0.1 is loopback, which isolated boards (dut, b1,`);
    const run2 = await run(bad, "bad-ports");
    expect(run2.exitCode).toBe(2);
  });

  it("an exhausted port range: exit 3 saying so", async () => {
    const holder = createServer();
    await new Promise<void>((ok) => holder.listen({ host: "127.0.0.1", port: 0 }, ok));
    const port = (holder.address() as { port: number }).port;
    try {
      const file = rigWith(`network: { address: 127.0.0.1, ports: "${port}" }`, "rigs/virtual.yaml");
      const r = await run(file, "exhausted");
      expect(r.exitCode, r.all).toBe(3);
      expect(r.all).toContain(`network.ports ${port}-${port} is exhausted on 127.0.0.1`);
    } finally {
      holder.close();
    }
  });
});

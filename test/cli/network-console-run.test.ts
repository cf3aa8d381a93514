// The shipped happy path on a virtual board whose console is exported by a real ser2net
// (RFC 2217 and raw TCP) and whose power is an outlet of an HTTP power switch: the harness
// reaches the board only over the network, as on a shared lab bench.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { PtyPair, tempDir } from "../board/helpers/pty.ts";
import { freePort, Ser2net } from "../board/helpers/ser2net.ts";
import { PoweredBoard, PowerSwitch } from "../lab/helpers/powered-board.ts";
import { readJson, rig, ROOT } from "./helpers.ts";

let tmp: ReturnType<typeof tempDir>;
let pty: PtyPair;
let sw: PowerSwitch;
let board: PoweredBoard;
let ser2net: Ser2net | undefined;

beforeEach(async () => {
  tmp = tempDir("otarig-netrun-");
  pty = new PtyPair(tmp.dir);
  await pty.start();
  sw = await PowerSwitch.start(tmp.dir);
  board = new PoweredBoard({ tty: pty.device, flashDir: join(tmp.dir, "flash"), serial: "VB-NET-1", outlet: () => sw.outlet(1) });
  board.start();
});

afterEach(async () => {
  await board.stop();
  await ser2net?.stop();
  ser2net = undefined;
  await sw.stop();
  await pty.stop();
  tmp.cleanup();
});

/** A rig whose one board is reached over the network, and ota-happy-path pointed at it. */
async function writeRigAndScenario(consoleUrl: string, edit: (scenario: string) => string = (t) => t): Promise<string> {
  const outlet = (v: number) => ["curl", "-sf", "-o", "/dev/null", `${sw.url}/outlet/{channel}/${v}`];
  const rigFile = join(tmp.dir, "rig.yaml");
  const rigDoc = {
    name: "netcon",
    lock_dir: join(tmp.dir, "locks"),
    // the board program runs on this host: it reaches its proxy on loopback, never the host's LAN address
    network: { address: "127.0.0.1" },
    boards: {
      dut: {
        serial_number: "VB-NET-1",
        profile: join(ROOT, "fixtures/profiles/virtual-board.yaml"),
        console: { url: consoleUrl },
        power: { relay: "pdu", channel: 1 },
        flash: { command: await PoweredBoard.flasherCommand(join(tmp.dir, "flash")), progress: "\\((?<percent>\\d+) ?%\\)", timeout: "30s" },
      },
    },
    relays: { pdu: { type: "command", on: outlet(1), off: outlet(0), channels: 1 } },
  };
  const { writeFileSync } = await import("node:fs");
  writeFileSync(rigFile, stringify(rigDoc));
  const scenario = readFileSync(join(ROOT, "scenarios/ota-happy-path.yaml"), "utf8")
    .replace("rig: ../rigs/virtual.yaml", `rig: ${rigFile}`)
    .replaceAll("../fixtures/", `${join(ROOT, "fixtures")}/`);
  const scenarioFile = join(tmp.dir, "ota-happy-path.yaml");
  writeFileSync(scenarioFile, edit(scenario));
  return scenarioFile;
}

describe("a scenario on a board whose console ser2net exports", () => {
  for (const mode of ["rfc2217", "tcp"] as const) {
    it(`passes ota-happy-path over ${mode}`, async () => {
      ser2net = new Ser2net(tmp.dir, pty.host, mode, await freePort());
      await ser2net.start();
      const scenario = await writeRigAndScenario(ser2net.url);
      const out = join(tmp.dir, "run");
      const result = await rig([scenario, "--server", "process", "--out", out], { timeoutMs: 90_000 });
      if (result.exitCode !== 0) console.log(result.all);
      expect(result.exitCode).toBe(0);
      const log = readFileSync(join(out, "dut.log"), "utf8");
      expect(log).toMatch(/boot: slot=A version=1\.0\.0/);
      expect(log).toMatch(/boot: slot=B version=1\.1\.0/);
      expect(readJson(join(out, "result.json")).status ?? readJson(join(out, "result.json")).outcome).toBeDefined();
      // the power went through the switch: the board program was started by the outlet, at least once per cycle
      expect(board.starts).toBeGreaterThanOrEqual(1);
      const switched = readFileSync(sw.logFile, "utf8").split("\n").filter((l) => /"\/outlet\/1\/[01]"/.test(l));
      expect(switched.map((l) => JSON.parse(l).path)).toEqual(["/outlet/1/0", "/outlet/1/1"]);
    });
  }

  it("survives a ser2net restart mid-run: the gap is marked in the log and capture resumes", async () => {
    ser2net = new Ser2net(tmp.dir, pty.host, "rfc2217", await freePort());
    await ser2net.start();
    // a pause after the first boot, during which the test restarts ser2net
    const scenario = await writeRigAndScenario(ser2net.url, (t) =>
      t.replace(/(  - expect: \{ board: dut, pattern: 'boot: slot=\\w version=1\\.0\\.0 sha256=', within: 20s \}\n)/, "$1  - wait: 4s\n"),
    );
    expect(readFileSync(scenario, "utf8")).toContain("  - wait: 4s\n");
    const out = join(tmp.dir, "run");
    const running = rig([scenario, "--server", "process", "--out", out], { timeoutMs: 90_000 });
    const deadline = Date.now() + 60_000;
    const logged = () => {
      try {
        return readFileSync(join(out, "dut.log"), "utf8");
      } catch {
        return "";
      }
    };
    while (!/boot: slot=A version=1\.0\.0/.test(logged())) {
      if (Date.now() > deadline) throw new Error(`no boot banner in dut.log within 60 s; log so far:\n${logged()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await ser2net.stop();
    await new Promise((r) => setTimeout(r, 500));
    await ser2net.start();
    const result = await running;
    if (result.exitCode !== 0) console.log(result.all);
    expect(result.exitCode).toBe(0);
    const log = logged();
    expect(log).toMatch(/--- console lost: rfc2217:\/\/127\.0\.0\.1:\d+ went away \(.*\)( @raw \d+)? ---/);
    expect(log).toMatch(/--- console back after [\d.]+m?s( @raw \d+)? ---/);
    expect(log.indexOf("console back")).toBeLessThan(log.indexOf("boot: slot=B version=1.1.0"));
  });

  it("rig doctor checks that the console's host answers", async () => {
    ser2net = new Ser2net(tmp.dir, pty.host, "rfc2217", await freePort());
    await ser2net.start();
    await writeRigAndScenario(ser2net.url);
    const rigFile = join(tmp.dir, "rig.yaml");
    const up = await rig(["doctor", rigFile], { timeoutMs: 60_000 });
    expect(up.all).toMatch(new RegExp(`ok\\s+board dut\\s+console rfc2217://127\\.0\\.0\\.1:${ser2net.port} answers`));
    await ser2net.stop();
    const down = await rig(["doctor", rigFile], { timeoutMs: 60_000 });
    expect(down.exitCode).toBe(3);
    expect(down.all).toMatch(/FAIL\s+board dut\s+console rfc2217:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/);
  });
});

// Valid files load into the typed model; relative paths resolve from the file that names them.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadScenario } from "../../harness/scenario/load-scenario.ts";
import { loadRig } from "../../harness/scenario/load-rig.ts";
import { loadProfile } from "../../harness/scenario/load-profile.ts";
import { validateFiles } from "../../harness/scenario/validate-files.ts";
import { PROFILE, RIG, scenario, tree } from "./helpers.ts";

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");
const at = (line: number, col: number) => expect.objectContaining({ line, col });

describe("a full scenario", () => {
  it("loads into the expected model", async () => {
    const { scenario: s, rig, profiles } = await loadScenario(path.join(FIX, "scenarios/ota-happy-path.yaml"));
    expect(s).toMatchObject({
      file: path.join(FIX, "scenarios/ota-happy-path.yaml"),
      name: "ota-happy-path",
      description: "board on 1.0.0 finds 1.1.0, downloads, installs and boots it",
      rigFile: path.join(FIX, "rigs/virtual.yaml"),
      boards: ["dut"],
      server: { mode: "process" },
      vars: {
        base: path.join(FIX, "../../../fixtures/firmware/app-1.0.0.bin"),
        target: path.join(FIX, "../../../fixtures/firmware/app-1.1.0.bin"),
      },
      timeoutMs: 30_000,
    });
    expect(s.steps.map((st) => st.name)).toEqual([
      "flash",
      "power",
      "expect",
      "backend.create",
      "backend.allow",
      "backend.upload",
      "device.configure",
      "device.check",
      "device.download",
      "device.install",
      "expect",
      "assert.hash",
    ]);
    expect(s.steps[0]).toEqual({ name: "flash", params: { board: "dut", image: "${base}" }, pos: at(11, 5) });
    expect(s.steps[1]!.params).toEqual({ board: "dut", action: "cycle", off: "200ms" });
    expect(s.steps[9]).toEqual({ name: "device.install", params: { board: "dut" }, label: "install and boot the new image", pos: at(20, 5) });
    expect(s.steps[10]!.params).toEqual({ board: "dut", pattern: "version=1\\.1\\.0 sha256=(?<sha>[0-9a-f]{64})", within: "30s" });
    expect(Object.keys(rig.boards)).toEqual(["dut", "bench"]);
    expect(Object.keys(profiles)).toEqual([path.join(FIX, "profiles/virtual-board.yaml")]);
  });
});

describe("rig model", () => {
  it("defaults, virtual boards, relays, resets, extra fields, paths from the rig's directory", async () => {
    const rig = await loadRig(path.join(FIX, "rigs/virtual.yaml"));
    expect(rig.name).toBe("virtual");
    expect(rig.lockDir).toBe(path.join(FIX, ".locks"));
    expect(rig.boards.dut).toEqual({
      name: "dut",
      serialNumber: "VIRT-0001",
      profile: path.join(FIX, "profiles/virtual-board.yaml"),
      console: { baud: 115200, reconnectTimeoutMs: 10_000 }, // no line_ending: the profile's
      virtual: { config: { version: "1.0.0" } },
      power: { virtual: true },
      reset: { virtual: true },
      flash: { command: ["node", "flasher.js", "{port}", "{image}"], timeoutMs: 30_000, progress: "(?<percent>\\d+)%", sharePort: false, cwd: path.join(FIX, "rigs") },
      extra: { location: "shelf 2" },
      pos: at(5, 3),
    });
    expect(rig.boards.bench).toMatchObject({
      serialNumber: "4242",
      console: { port: path.join(FIX, "rigs/pty/bench"), baud: 115200, lineEnding: "\r\n", reconnectTimeoutMs: 5000 },
      power: { relay: "r1", channel: 2 },
      reset: { method: "dtr-rts", sequence: [{ dtr: false, rts: true }, { delayMs: 100 }, { rts: false }] },
      extra: {},
    });
    expect(rig.boards.bench!.virtual).toBeUndefined();
    expect(rig.boards.bench!.flash).toBeUndefined();
    expect(rig.relays).toEqual({
      r1: { name: "r1", type: "lcus", port: path.join(FIX, "rigs/pty/relay"), channels: 2, baud: 9600 },
      cmd: { name: "cmd", type: "command", on: ["usbrelay", "R_{channel}=1"], off: ["usbrelay", "R_{channel}=0"], timeoutMs: 10_000, channels: 1 },
    });
  });

  it("reset forms: relay pulse, command, dtr-rts preset; absolute ports stay as written", async () => {
    const text = [
      "name: r",
      "boards:",
      "  a: { serial_number: A, profile: /abs/p.yaml, console: { port: /dev/ttyUSB0 }, reset: { relay: k, channel: 1 } }",
      "  b: { serial_number: B, profile: p.yaml, console: { port: COM3 }, reset: { command: [reset.sh], timeout: 2s } }",
      "  c: { serial_number: C, profile: p.yaml, console: { port: /dev/ttyACM0 }, reset: { method: dtr-rts, sequence: esp32 } }",
      "relays:",
      "  k: { type: serial-text, port: /dev/ttyACM9, on: 'on {channel}', off: 'off {channel}', channels: 4 }",
      "",
    ].join("\n");
    const dir = tree({ "rig.yaml": text });
    const rig = await loadRig(path.join(dir, "rig.yaml"));
    expect(rig.boards.a!.reset).toEqual({ relay: "k", channel: 1, pulseMs: 200 });
    expect(rig.boards.a!.profile).toBe("/abs/p.yaml");
    expect(rig.boards.a!.console.port).toBe("/dev/ttyUSB0");
    expect(rig.boards.a!.power).toBeUndefined();
    expect(rig.boards.b!.reset).toEqual({ command: ["reset.sh"], timeoutMs: 2000 });
    expect(rig.boards.b!.console.port).toBe("COM3");
    expect(rig.boards.c!.reset).toEqual({ method: "dtr-rts", sequence: "esp32" });
    expect(rig.relays.k).toEqual({ name: "k", type: "serial-text", port: "/dev/ttyACM9", baud: 9600, on: "on {channel}", off: "off {channel}", channels: 4 });
  });
});

describe("profile model", () => {
  it("loads with defaults", async () => {
    const dir = tree({ "p.yaml": PROFILE });
    expect(await loadProfile(path.join(dir, "p.yaml"))).toEqual({
      file: path.join(dir, "p.yaml"),
      name: "test-board",
      prompt: "ota> ",
      lineEnding: "\n",
      commands: { check: "check", install: "install" },
      patterns: { booted: "boot: version=(?<version>\\S+)", error: "^error: (.*)$" },
      fatal: [],
    });
  });
});

describe("relative paths", () => {
  it("rig from the scenario's dir, profile from the rig's dir, ./ ../ vars and path params from the scenario's dir", async () => {
    const rig = RIG.replace("profile: profile.yaml", "profile: ../profiles/p.yaml");
    const text = [
      "name: t",
      "rig: ../rigs/bench.yaml",
      "vars: { fw: ./fw/a.bin, up: ../b.bin, plain: fw/c.bin, url: 'http://x/./y', n: 3, on: true }",
      "steps:",
      "  - flash: { board: dut, image: ../images/x.bin }",
      "  - backend.create: { as: f }",
      "  - backend.upload: { firmware: f, file: ./y.bin }",
      `  - assert.hash: { board: dut, equals: ${"0123abcd".repeat(8)} }`,
      "",
    ].join("\n");
    // the files the steps name exist (the loader checks)
    const dir = tree({ "suite/s/t.yaml": text, "suite/rigs/bench.yaml": rig, "suite/profiles/p.yaml": PROFILE, "suite/images/x.bin": "", "suite/s/y.bin": "" });
    const { scenario: s, rig: r, profiles } = await loadScenario(path.join(dir, "suite/s/t.yaml"));
    expect(s.rigFile).toBe(path.join(dir, "suite/rigs/bench.yaml"));
    expect(r.boards.dut!.profile).toBe(path.join(dir, "suite/profiles/p.yaml"));
    expect(profiles[path.join(dir, "suite/profiles/p.yaml")]!.name).toBe("test-board");
    expect(s.vars).toEqual({
      fw: path.join(dir, "suite/s/fw/a.bin"),
      up: path.join(dir, "suite/b.bin"),
      plain: "fw/c.bin",
      url: "http://x/./y",
      n: "3",
      on: "true",
    });
    expect(s.boards).toEqual(["dut"]); // default: all the rig's boards
    expect(s.steps[0]!.params).toEqual({ board: "dut", image: path.join(dir, "suite/images/x.bin") });
    expect(s.steps[2]!.params).toEqual({ firmware: "f", file: path.join(dir, "suite/s/y.bin") });
    expect(s.steps[3]!.params).toEqual({ board: "dut", equals: "0123abcd".repeat(8) });
  });
});

describe("blocks", () => {
  it("repeat and parallel get children; labels, timeouts, positions", async () => {
    const steps = [
      "  - name: three boots",
      "    timeout: 2m",
      "    repeat:",
      "      times: 3",
      "      steps:",
      "        - power: { board: dut, action: cycle }",
      "        - expect: { board: dut, pattern: booted }",
      "  - parallel:",
      "      left: [ { reset: { board: dut } } ]",
      "      right:",
      "        - wait: 1s",
      "        - wait: { for: 500ms }",
      "",
    ].join("\n");
    const dir = tree({ "s.yaml": scenario(steps), "rig.yaml": RIG, "profile.yaml": PROFILE });
    const { scenario: s } = await loadScenario(path.join(dir, "s.yaml"));
    const [repeat, parallel] = s.steps;
    expect(repeat).toMatchObject({ name: "repeat", label: "three boots", timeoutMs: 120_000, params: { times: 3 }, pos: at(5, 5) });
    expect(repeat!.children!.map((b) => b.map((st) => [st.name, st.pos.line]))).toEqual([[["power", 10], ["expect", 11]]]);
    expect(parallel).toMatchObject({ name: "parallel", params: { branches: ["left", "right"] } });
    expect(parallel!.children!.map((b) => b.map((st) => st.params))).toEqual([[{ board: "dut" }], ["1s", { for: "500ms" }]]);
  });
});

describe("validateFiles", () => {
  it("detects scenario, rig and profile files by content and reports each file's errors", async () => {
    const dir = tree({
      "s.yaml": scenario("  - reset: { board: dut }\n"),
      "rig.yaml": RIG,
      "profile.yaml": PROFILE,
      "bad-profile.yaml": "name: p\npatterns: { booted: '(' }\n",
      "what.yaml": "hello: world\n",
    });
    const files = ["s.yaml", "rig.yaml", "profile.yaml", "bad-profile.yaml", "what.yaml", "missing.yaml"].map((f) => path.join(dir, f));
    const reports = await validateFiles(files);
    expect(reports.map((r) => [r.kind, r.errors.length])).toEqual([
      ["scenario", 0],
      ["rig", 0],
      ["profile", 0],
      ["profile", 1],
      [undefined, 1],
      [undefined, 1],
    ]);
    expect(reports[3]!.errors[0]!.position).toMatchObject({ line: 2, col: 21 });
    expect(reports[4]!.errors[0]!.message).toMatch(/^cannot tell what this file is/);
    expect(reports[5]!.errors[0]!.message).toMatch(/^file not found/);
  });

  it("a rig's check includes its boards' profiles", async () => {
    const dir = tree({ "rig.yaml": RIG, "profile.yaml": "name: p\npatterns: { booted: '[' }\n" });
    const [report] = await validateFiles([path.join(dir, "rig.yaml")]);
    expect(report!.errors.map((e) => e.message)).toEqual([expect.stringMatching(/^patterns\.booted: not a valid regular expression/)]);
    expect(report!.errors[0]!.position!.file).toMatch(/profile\.yaml$/);
  });
});

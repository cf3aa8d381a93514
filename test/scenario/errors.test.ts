// Loader errors: each points at the offending key or value and says what was expected.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ScenarioErrors } from "../../harness/core/errors.ts";
import { loadScenario } from "../../harness/scenario/load-scenario.ts";
import { loadProfile } from "../../harness/scenario/load-profile.ts";
import { loadRig } from "../../harness/scenario/load-rig.ts";
import { PROFILE, RIG, errorsFrom, scenario, tree, where } from "./helpers.ts";

async function scenarioErrors(text: string, files: Record<string, string> = {}) {
  const dir = tree({ "s.yaml": text, "rig.yaml": RIG, "profile.yaml": PROFILE, ...files });
  return errorsFrom(() => loadScenario(path.join(dir, "s.yaml")));
}

describe("scenario errors", () => {
  it("unknown top-level key: at the key, with did-you-mean", async () => {
    const text = scenario("  - reset: { board: dut }\n", "descripton: x\n");
    const [e, ...rest] = await scenarioErrors(text);
    expect(rest).toEqual([]);
    expect(e!.message).toBe('unknown key "descripton" in scenario, did you mean "description"?');
    expect(e!.position).toMatchObject(where(text, "descripton"));
    expect(e!.position!.file).toMatch(/s\.yaml$/);
    expect(e!.toString()).toMatch(/s\.yaml:4:1: unknown key/);
  });

  it("misspelled step name: at the key, suggesting the step", async () => {
    const text = scenario("  - reset: { board: dut }\n  - devce.check: { board: dut }\n");
    const [e] = await scenarioErrors(text);
    expect(e!.message).toBe('unknown step "devce.check", did you mean "device.check"?');
    expect(e!.position).toMatchObject(where(text, "devce.check"));
  });

  it("wrong type of a step parameter: at the value", async () => {
    const text = scenario("  - expect: { board: 5, pattern: x }\n");
    const [e] = await scenarioErrors(text);
    expect(e!.message).toBe("board: expected a string, got 5");
    expect(e!.position).toMatchObject(where(text, "5,"));
  });

  it("a duration of the wrong type says a duration was expected", async () => {
    const text = scenario("  - power: { board: dut, action: cycle, off: true }\n");
    const [e] = await scenarioErrors(text);
    expect(e!.message).toMatch(/^off: expected a duration like 500ms, 20s or 2m/);
    expect(e!.position).toMatchObject(where(text, "true"));
  });

  it("bad literal durations fail at load time, in step params, step timeouts and the scenario timeout", async () => {
    const text = scenario("  - expect: { board: dut, pattern: x, within: 20 seconds }\n  - name: slow\n    reset: { board: dut }\n    timeout: 5 min\n", "timeout: 3x\n");
    const errors = await scenarioErrors(text);
    expect(errors.map((e) => [e.message, e.position?.line, e.position?.col])).toEqual([
      ["timeout: not a duration: \"3x\" (expected e.g. 500ms, 20s, 2m, 1h)", ...Object.values(where(text, "3x"))],
      ["within: not a duration: \"20 seconds\" (expected e.g. 500ms, 20s, 2m, 1h)", ...Object.values(where(text, "20 seconds"))],
      ["timeout: not a duration: \"5 min\" (expected e.g. 500ms, 20s, 2m, 1h)", ...Object.values(where(text, "5 min"))],
    ]);
  });

  it("a ${…} duration in params is left to run time, but a step timeout must be literal", async () => {
    const text = scenario("  - expect: { board: dut, pattern: x, within: \"${w}\" }\n    timeout: \"${w}\"\n", "vars: { w: 5s }\n");
    const [e, ...rest] = await scenarioErrors(text);
    expect(rest).toEqual([]);
    expect(e!.message).toMatch(/^timeout: must be a literal duration here/);
    expect(e!.position).toMatchObject(where(text, '"${w}"', 2));
  });

  it("an enum value that is ${…} is checked at run time; a literal one now, with did-you-mean", async () => {
    const text = scenario("  - power: { board: dut, action: \"${act}\" }\n  - power: { board: dut, action: cycel }\n", "vars: { act: cycle }\n");
    const [e, ...rest] = await scenarioErrors(text);
    expect(rest).toEqual([]);
    expect(e!.message).toBe('action: expected one of "on", "off", "cycle", got "cycel", did you mean "cycle"?');
    expect(e!.position).toMatchObject(where(text, "cycel"));
  });

  it("unknown and missing keys in step params", async () => {
    const text = scenario("  - expect: { board: dut, pattern: x, withn: 2s }\n  - expect: { pattern: y }\n");
    const [unknown, missing] = await scenarioErrors(text);
    expect(unknown!.message).toBe('unknown key "withn" in expect, did you mean "within"?');
    expect(unknown!.position).toMatchObject(where(text, "withn"));
    expect(missing!.message).toBe('missing required key "board" in expect');
    expect(missing!.position).toMatchObject(where(text, "expect", 2));
  });

  it("a step with two actions, a key beside the action, a step that is not a mapping", async () => {
    const text = scenario("  - reset: { board: dut }\n    flash: { board: dut, image: x }\n  - reset: { board: dut }\n    within: 2s\n  - reset\n");
    const errors = await scenarioErrors(text);
    expect(errors.map((e) => e.message)).toEqual([
      'a step has exactly one action, found "reset" and "flash" (start each step with its own "-")',
      'unknown key "within" beside step "reset" (only name and timeout go here; parameters go inside reset: {…})',
      'a step is a mapping like "- expect: { board: dut, pattern: … }", got "reset"',
    ]);
    expect(errors.map((e) => e.position?.line)).toEqual([where(text, "flash").line, where(text, "within").line, where(text, "- reset\n").line]);
  });

  it("an invalid regex in expect is a load-time error at the pattern", async () => {
    const text = scenario("  - expect: { board: dut, pattern: 'version=(1' }\n");
    const [e] = await scenarioErrors(text);
    expect(e!.message).toMatch(/^pattern: not a valid regular expression: .*Unterminated group/);
    expect(e!.position).toMatchObject(where(text, "'version"));
  });

  it("unknown board in boards: at the list item, with did-you-mean", async () => {
    const text = "name: t\nrig: rig.yaml\nboards: [dut, dtu]\nsteps:\n  - reset: { board: dut }\n";
    const [e] = await scenarioErrors(text);
    expect(e!.message).toBe('board "dtu" is not in rig test-rig, did you mean "dut"? (its boards: dut)');
    expect(e!.position).toMatchObject(where(text, "dtu"));
  });

  it("a step naming a board the scenario does not use", async () => {
    const text = scenario("  - reset: { board: dux }\n  - reset: { board: all }\n");
    const [e, ...rest] = await scenarioErrors(text);
    expect(rest).toEqual([]);
    expect(e!.message).toBe('unknown board "dux", did you mean "dut"? (this scenario uses: dut, or all)');
    expect(e!.position).toMatchObject(where(text, "dux"));
  });

  it("missing rig file: names the path, at the scenario's rig: value", async () => {
    const text = "name: t\nrig: ../rigs/nope.yaml\nsteps:\n  - reset: { board: dut }\n";
    const dir = tree({ "sub/s.yaml": text });
    const [e] = await errorsFrom(() => loadScenario(path.join(dir, "sub/s.yaml")));
    expect(e!.message).toBe(`rig file not found: ../rigs/nope.yaml (${path.join(dir, "rigs/nope.yaml")})`);
    expect(e!.position).toMatchObject({ ...where(text, "../rigs"), file: path.join(dir, "sub/s.yaml") });
  });

  it("missing scenario file: names the path", async () => {
    const [e] = await errorsFrom(() => loadScenario("/nonexistent/x.yaml"));
    expect(e!.message).toBe("file not found: /nonexistent/x.yaml");
  });

  it("missing profile: named by the rig, at its profile: value", async () => {
    const rig = RIG.replace("profile.yaml", "profiles/none.yaml");
    const [e] = await scenarioErrors(scenario("  - reset: { board: dut }\n"), { "rig.yaml": rig });
    expect(e!.message).toMatch(/^profile of board dut not found: .*profiles\/none\.yaml$/);
    expect(e!.position!.file).toMatch(/rig\.yaml$/);
    expect(e!.position).toMatchObject(where(rig, "profiles/none"));
  });

  it("YAML syntax errors keep the yaml library's line:col", async () => {
    const text = "name: t\nrig: rig.yaml\nsteps:\n  - reset: { board: dut\n  - reset: { board: dut }\n";
    const errors = await scenarioErrors(text);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]!.position).toMatchObject({ line: 5, col: 3 });
    expect(errors[0]!.message).toMatch(/flow|indent|}/i);
  });

  it("errors of the rig are reported with the rig's file and position", async () => {
    const rig = RIG.replace("serial_number: SN-1", "serial_number: SN-1\n    power: { relay: r2, channel: 1 }");
    const [e] = await scenarioErrors(scenario("  - reset: { board: dut }\n"), { "rig.yaml": rig });
    expect(e!.message).toBe('unknown relay "r2", did you mean "r1"?');
    expect(e!.position!.file).toMatch(/rig\.yaml$/);
    expect(e!.position).toMatchObject(where(rig, "r2"));
  });

  it("collects all errors of a file into one ScenarioErrors, printed file:line:col each", async () => {
    const text = scenario("  - devce.check: { board: dut }\n  - expect: { board: dut, pattern: x, within: soon }\n", "descripton: x\n");
    const dir = tree({ "s.yaml": text, "rig.yaml": RIG, "profile.yaml": PROFILE });
    const err = await loadScenario(path.join(dir, "s.yaml")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScenarioErrors);
    const lines = String(err).split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/s\.yaml:4:1: unknown key "descripton"/);
    expect(lines[1]).toMatch(/s\.yaml:6:5: unknown step "devce\.check"/);
    const soon = where(text, "soon");
    expect(lines[2]).toContain(`s.yaml:${soon.line}:${soon.col}: within: not a duration`);
  });

  it("server mode url needs a url; a url alone means mode url", async () => {
    const bad = await scenarioErrors(scenario("  - reset: { board: dut }\n", "server: { mode: url }\n"));
    expect(bad.map((e) => e.message)).toEqual(['server mode "url" needs server.url (the base URL of a running server)']);
    const dir = tree({ "s.yaml": scenario("  - reset: { board: dut }\n", "server: { url: 'http://127.0.0.1:1337' }\n"), "rig.yaml": RIG, "profile.yaml": PROFILE });
    const { scenario: s } = await loadScenario(path.join(dir, "s.yaml"));
    expect(s.server).toEqual({ mode: "url", url: "http://127.0.0.1:1337" });
  });

  it("empty steps and missing required keys of the scenario", async () => {
    const text = "description: x\nsteps: []\n";
    const errors = await scenarioErrors(text);
    expect(errors.map((e) => e.message).sort()).toEqual([
      'missing required key "name" in scenario',
      'missing required key "rig" in scenario',
      "steps: expected at least 1 item, got a list",
    ]);
  });

  it("repeat and parallel blocks are validated inside", async () => {
    const text = scenario("  - repeat: { times: 0, steps: [ { reset: { board: dut } } ] }\n  - parallel:\n      a:\n        - rest: { board: dut }\n");
    const errors = await scenarioErrors(text);
    expect(errors.map((e) => e.message)).toEqual(["times: expected a number > 0, got 0", 'unknown step "rest", did you mean "reset"?']);
    expect(errors[1]!.position).toMatchObject(where(text, "rest:"));
  });
});

describe("static check of ${…} references", () => {
  it("unknown var, step output used before it exists, board field typo, server field", async () => {
    const text = scenario(
      [
        '  - console.send: { board: dut, line: "${sha}" }',
        "  - expect: { board: dut, pattern: 'sha=(?<sha>\\w+)' }",
        '  - console.send: { board: dut, line: "${sha} ${targt}" }',
        '  - console.send: { board: dut, line: "${boards.dut.serail} ${server.host}" }',
        "",
      ].join("\n"),
      "vars: { target: x }\n",
    );
    const errors = await scenarioErrors(text);
    expect(errors.map((e) => e.message)).toEqual([
      "unknown variable ${sha} (not a var, and no earlier step produces it)",
      'unknown variable ${targt}, did you mean "target"?',
      'unknown variable ${boards.dut.serail}, did you mean "boards.dut.serial"?',
      "unknown variable ${server.host}",
    ]);
    expect(errors[0]!.position).toMatchObject(where(text, '"${sha}"'));
    expect(errors[1]!.position).toMatchObject(where(text, '"${sha} ${targt}"'));
  });

  it("backend outputs: <as>.id after create (never the secret key), <firmware>.hash after upload; unknown firmware names", async () => {
    const text = scenario(
      [
        '  - console.send: { board: dut, line: "${fw.id}" }',
        "  - backend.create: { as: fw }",
        '  - console.send: { board: dut, line: "${fw.id} ${fw.key} ${fw.hash}" }',
        "  - backend.upload: { firmware: fw, file: /dev/null }",
        '  - console.send: { board: dut, line: "${fw.hash}" }',
        "  - backend.allow: { firmware: fx, device: d }",
        "  - set: { env: 1 }",
        "",
      ].join("\n"),
    );
    const errors = await scenarioErrors(text);
    expect(errors.map((e) => e.message)).toEqual([
      "unknown variable ${fw.id}",
      "unknown variable ${fw.key}",
      "unknown variable ${fw.hash}",
      'unknown firmware "fx": no earlier backend.create names it, did you mean "fw"?',
      '"env" is reserved (vars, boards, board, server, env): choose another name',
    ]);
  });

  it("parallel branches see what came before, and everything after the block", async () => {
    const text = scenario(
      [
        "  - parallel:",
        "      one:",
        "        - set: { a: 1 }",
        '        - console.send: { board: dut, line: "${a}" }',
        "      two:",
        '        - console.send: { board: dut, line: "${a}" }',
        '  - console.send: { board: dut, line: "${a}" }',
        "",
      ].join("\n"),
    );
    const errors = await scenarioErrors(text);
    expect(errors.map((e) => [e.message, e.position?.line])).toEqual([["unknown variable ${a} (not a var, and no earlier step produces it)", 10]]);
  });

  it("malformed references and env forms", async () => {
    const text = scenario('  - console.send: { board: dut, line: "${env.HOME} ${env.NOPE:-x} ${a b}" }\n');
    const [e, ...rest] = await scenarioErrors(text);
    expect(rest).toEqual([]);
    expect(e!.message).toMatch(/^"\$\{a b\}" is not a variable reference/);
  });
});

describe("rig errors", () => {
  async function rigErrors(text: string) {
    const dir = tree({ "rig.yaml": text });
    return errorsFrom(() => loadRig(path.join(dir, "rig.yaml")));
  }

  it("relay channel out of range, missing console port, misspelt board key, unknown relay type", async () => {
    const text = [
      "name: r",
      "boards:",
      "  a:",
      "    serial_number: A",
      "    profile: p.yaml",
      "    console: { baud: 9600 }",
      "    power: { relay: r1, channel: 3 }",
      "    flsh: { command: [x] }",
      "relays:",
      "  r1: { type: lcus, port: /dev/ttyUSB9, channels: 2 }",
      "  r2: { type: lcsu, port: /dev/ttyUSB8 }",
      "",
    ].join("\n");
    const errors = await rigErrors(text);
    expect(errors.map((e) => [e.message, e.position?.line, e.position?.col])).toEqual([
      ['type: expected one of "lcus", "serial-text", "command", "virtual", got "lcsu", did you mean "lcus"?', ...Object.values(where(text, "lcsu"))],
      ['unknown key "flsh" in board a, did you mean "flash"?', ...Object.values(where(text, "flsh"))],
      ["board a needs console.port or console.url (only a virtual, qemu or labgrid board may leave both out)", ...Object.values(where(text, "console"))],
      ['channel 3 is out of range: relay "r1" has 2 channel(s)', ...Object.values(where(text, "3 }"))],
    ]);
  });

  it("a reset in no known form, a bad progress regex, a non-scalar extra field", async () => {
    const text = [
      "name: r",
      "boards:",
      "  a:",
      "    serial_number: A",
      "    profile: p.yaml",
      "    virtual: true",
      "    reset: { pulse: 1s }",
      "    flash: { command: [x], progress: '(?<percent' }",
      "    notes: [1, 2]",
      "",
    ].join("\n");
    const errors = await rigErrors(text);
    expect(errors.map((e) => e.message)).toEqual([
      'unknown key "notes" in board a (extra board fields must be plain values)',
      "reset: expected { relay, channel, pulse? }, { method: dtr-rts, sequence } or { command: [...], timeout? }",
      expect.stringMatching(/^flash\.progress: not a valid regular expression/),
    ]);
    expect(errors[1]!.position).toMatchObject(where(text, "reset"));
  });
});

describe("profile errors", () => {
  it("a bad regex: at the value, with the RegExp error; unknown command with did-you-mean", async () => {
    const text = "name: p\ncommands:\n  chek: check\npatterns:\n  booted: 'boot: ([a-z'\n";
    const dir = tree({ "p.yaml": text });
    const errors = await errorsFrom(() => loadProfile(path.join(dir, "p.yaml")));
    expect(errors.map((e) => e.message)).toEqual([
      'unknown key "chek" in commands, did you mean "check"?',
    ]);
    const fixed = text.replace("chek", "check");
    const dir2 = tree({ "p.yaml": fixed });
    const [e] = await errorsFrom(() => loadProfile(path.join(dir2, "p.yaml")));
    expect(e!.message).toMatch(/^patterns\.booted: not a valid regular expression: Invalid regular expression: .*Unterminated character class/);
    expect(e!.position).toMatchObject(where(fixed, "'boot"));
  });
});

describe("YAML syntax errors name the opener of what is not closed", () => {
  it("an unclosed { is reported where the parser gives up, and where it was opened", async () => {
    const text = scenario("  - flash: { board: dut, image: a.bin\n  - power: { board: dut, action: on }\n  - reset: { board: dut }\n");
    const errors = await scenarioErrors(text);
    const opened = where(text, "{ board: dut, image");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(new RegExp(`end with a \\} \\(the "\\{" opened at ${opened.line}:${opened.col} is not closed\\)$`));
    expect(errors[0]!.position!.line).toBeGreaterThan(opened.line);
  });

  it("an unclosed [ and an unclosed quote", async () => {
    const seq = scenario('  - vendor.register: { model: m, devices: ["a", "b" }\n  - reset: { board: dut }\n');
    const [s1] = await scenarioErrors(seq);
    const bracket = where(seq, '["a"');
    expect(s1!.message).toContain(`(the "[" opened at ${bracket.line}:${bracket.col} is not closed)`);
    const quote = scenario('  - console.send: { board: dut, line: "hello }\n  - reset: { board: dut }\n');
    const [q1] = await scenarioErrors(quote);
    const q = where(quote, '"hello');
    expect(q1!.message).toContain(`(the " quote opened at ${q.line}:${q.col} is not closed)`);
  });

  it("says nothing of openers when every bracket is closed", async () => {
    const [e] = await scenarioErrors(scenario("  - reset: { board: dut }\n   bad: indent\n"));
    expect(e!.message).not.toContain("opened at");
  });
});

describe("odd files", () => {
  it("an empty file and a file that is a list", async () => {
    const [empty] = await scenarioErrors("");
    expect(empty!.toString()).toMatch(/s\.yaml:1:1: scenario: expected a mapping, got nothing \(the file is empty\)$/);
    const [list] = await scenarioErrors("- a\n");
    expect(list!.message).toBe("scenario: expected a mapping, got a list");
  });

  it("aliases and merge keys work; errors point at what is written", async () => {
    const text = scenario("  - reset: &d { board: dut }\n  - reset: *d\n  - reset: { <<: *d, boar: x }\n");
    const errors = await scenarioErrors(text);
    expect(errors.map((x) => [x.message, x.position])).toEqual([['unknown key "boar" in reset, did you mean "board"?', expect.objectContaining(where(text, "boar:"))]]);
  });
});

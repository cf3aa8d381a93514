import { describe, expect, it } from "vitest";
import { ScenarioError } from "../../harness/core/errors.ts";
import { boardFields, interpolate, interpolateString, references } from "../../harness/scenario/interpolate.ts";
import type { Scope } from "../../harness/scenario/interpolate.ts";
import type { BoardSpec } from "../../harness/scenario/types.ts";
import { checkStepParams } from "../../harness/scenario/step-check.ts";

const pos = { file: "s.yaml", line: 7, col: 5 };

function scope(over: Partial<Scope> = {}): Scope {
  return {
    vars: { target: "/fw/app-1.1.0.bin", version: "1.1.0", name: "v-${version}" },
    outputs: { sha: "ab12", "fw.id": "7", "fw.hash": "cafe" },
    boards: { dut: { serial: "SN-1", name: "dut", port: "/dev/pts/3", profile: "/p.yaml", location: "shelf 2" } },
    server: { url: "http://127.0.0.1:1337" },
    env: { HOME: "/root", EMPTY: "" },
    ...over,
  };
}

function thrown(fn: () => unknown): ScenarioError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ScenarioError) return err;
    throw err;
  }
  throw new Error("nothing thrown");
}

describe("interpolate", () => {
  it("resolves every form", () => {
    const s = scope();
    expect(interpolateString("${target}", s)).toBe("/fw/app-1.1.0.bin");
    expect(interpolateString("${vars.version}", s)).toBe("1.1.0");
    expect(interpolateString("sha=${sha}", s)).toBe("sha=ab12");
    expect(interpolateString("${fw.id}/${fw.hash}", s)).toBe("7/cafe");
    expect(interpolateString("${boards.dut.serial} ${boards.dut.port} ${boards.dut.location}", s)).toBe("SN-1 /dev/pts/3 shelf 2");
    expect(interpolateString("${server.url}/healthz", s)).toBe("http://127.0.0.1:1337/healthz");
    expect(interpolateString("${env.HOME}", s)).toBe("/root");
  });

  it("vars come before captures of the same name", () => {
    expect(interpolateString("${version}", scope({ outputs: { version: "9.9.9" } }))).toBe("1.1.0");
  });

  it("a var's value is interpolated too; a cycle is an error", () => {
    expect(interpolateString("${name}", scope())).toBe("v-1.1.0");
    const e = thrown(() => interpolateString("${a}", scope({ vars: { a: "${b}", b: "${a}" } }), pos));
    expect(e.message).toBe("variable cycle: a -> b -> a");
  });

  it("env defaults, like the shell's :- (also for an empty value)", () => {
    const s = scope();
    expect(interpolateString("${env.NOPE:-http://x:1}", s)).toBe("http://x:1");
    expect(interpolateString("${env.EMPTY:-d}", s)).toBe("d");
    expect(interpolateString("${env.HOME:-d}", s)).toBe("/root");
    expect(interpolateString("[${env.EMPTY}]", s)).toBe("[]");
    const e = thrown(() => interpolateString("${env.NOPE}", s, pos));
    expect(e.message).toBe("environment variable NOPE is not set (write ${env.NOPE:-default} to give a default)");
    expect(e.position).toEqual(pos);
  });

  it("$${ is a literal ${", () => {
    expect(interpolateString("echo $${HOME} ${version}", scope())).toBe("echo ${HOME} 1.1.0");
    expect(interpolateString("cost: $5", scope())).toBe("cost: $5");
  });

  it("unknown variable: ScenarioError at the step, with did-you-mean", () => {
    const e = thrown(() => interpolateString("${targt}", scope(), pos));
    expect(e.message).toBe('unknown variable ${targt}, did you mean "target"?');
    expect(e.position).toEqual(pos);
    expect(thrown(() => interpolateString("${boards.dut.serail}", scope())).message).toBe(
      'unknown variable ${boards.dut.serail}, did you mean "boards.dut.serial"?',
    );
    expect(thrown(() => interpolateString("${boards.dux.serial}", scope())).message).toMatch(/did you mean "boards\.dut\.serial"/);
    // Object.prototype is not a scope.
    expect(thrown(() => interpolateString("${constructor}", scope())).message).toMatch(/^unknown variable \$\{constructor\}/);
  });

  it("malformed references", () => {
    expect(thrown(() => interpolateString("a ${version", scope())).message).toBe('unterminated ${ in "a ${version"');
    expect(thrown(() => interpolateString("${}", scope())).message).toMatch(/^an empty \$\{\}/);
    expect(thrown(() => interpolateString("${a b}", scope())).message).toMatch(/is not a variable reference/);
  });

  it("goes deep into objects and arrays, leaves other values alone", () => {
    const params = { board: "dut", settings: { server: "${server.url}", n: 3, on: true }, list: ["${sha}", null] };
    expect(interpolate(params, scope())).toEqual({ board: "dut", settings: { server: "http://127.0.0.1:1337", n: 3, on: true }, list: ["ab12", null] });
    expect(params.settings.server).toBe("${server.url}"); // input untouched
  });

  it("references() lists what a string refers to", () => {
    expect(references("${a} $${b} ${env.X:-y} ${fw.id}")).toEqual([
      { kind: "path", path: ["a"], text: "${a}" },
      { kind: "env", name: "X", fallback: "y", text: "${env.X:-y}" },
      { kind: "path", path: ["fw", "id"], text: "${fw.id}" },
    ]);
  });

  it("boardFields: serial, name, port, profile and the rig's extra keys", () => {
    const board: BoardSpec = {
      name: "dut",
      serialNumber: "SN-1",
      profile: "/p.yaml",
      console: { baud: 115200, lineEnding: "\n", reconnectTimeoutMs: 10_000 },
      virtual: { config: {} },
      extra: { location: "shelf 2" },
      pos,
    };
    expect(boardFields(board)).toEqual({ location: "shelf 2", serial: "SN-1", name: "dut", profile: "/p.yaml" });
    expect(boardFields(board, "/dev/pts/4").port).toBe("/dev/pts/4");
  });
});

describe("checkStepParams (run time)", () => {
  const step = { name: "power" as const, params: { board: "dut", action: "${act}" }, pos };

  it("accepts resolved params and returns them typed", () => {
    expect(checkStepParams(step, interpolate(step.params, scope({ vars: { act: "cycle" } })))).toEqual({ board: "dut", action: "cycle" });
  });

  it("rejects a resolved value the schema does not allow, at the step", () => {
    const e = thrown(() => checkStepParams(step, interpolate(step.params, scope({ vars: { act: "cylce" } }))));
    expect(e.message).toBe('step power: action: expected one of "on", "off", "cycle", got "cylce", did you mean "cycle"? (after ${…} was resolved)');
    expect(e.position).toEqual(pos);
  });

  it("parses durations that came from ${…}", () => {
    const e = thrown(() => checkStepParams({ ...step, name: "expect" as const }, { board: "dut", pattern: "x", within: "soon" }));
    expect(e.message).toMatch(/^step expect: within: not a duration: "soon"/);
  });
});

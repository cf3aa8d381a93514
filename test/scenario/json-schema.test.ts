// The JSON Schemas editors use (schemas/, `rig schema`): committed as generated, every shipped
// scenario, rig and profile points at its schema and passes it (ajv), and what `rig validate`
// rejects as a misspelling the schema rejects too.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import { afterAll, describe, expect, it } from "vitest";
import { SCHEMA_FILES } from "../../harness/scenario/json-schema.ts";
import { detectKind, validateFiles, type FileKind } from "../../harness/scenario/validate-files.ts";
import { readYamlSource } from "../../harness/scenario/yaml-source.ts";
import { ROOT, rig, tempDir } from "../cli/helpers.ts";

const SCHEMAS = join(ROOT, "schemas");
const dir = tempDir("otarig-json-schema-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every shipped scenario, rig and profile, from the project root. */
function shippedFiles(): string[] {
  const walk = (d: string): string[] =>
    readdirSync(join(ROOT, d), { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))
      .flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith(".yaml") ? [join(d, e.name)] : []));
  return ["scenarios", "rigs", "fixtures/profiles"].flatMap(walk);
}

const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
const validators = new Map<FileKind, ValidateFunction>();
/** The committed schema of a kind, compiled. */
function validator(kind: FileKind): ValidateFunction {
  let v = validators.get(kind);
  if (!v) {
    v = ajv.compile(JSON.parse(readFileSync(join(SCHEMAS, SCHEMA_FILES[kind]), "utf8")) as object);
    validators.set(kind, v);
  }
  return v;
}

/** The file's data as the loader reads it (merge keys and all) and its kind. */
async function load(file: string): Promise<{ data: unknown; kind: FileKind }> {
  const src = await readYamlSource(file);
  const kind = detectKind(src.data);
  if (!kind) throw new Error(`${file}: not a scenario, rig or profile`);
  return { data: src.data, kind };
}

/** Schema errors of a file, as ajv words them ("" when it passes). */
async function schemaErrors(file: string): Promise<string> {
  const { data, kind } = await load(file);
  const v = validator(kind);
  return v(data) ? "" : ajv.errorsText(v.errors);
}

/** What a file's `# yaml-language-server: $schema=` modeline says is wrong with it, if anything. */
function modelineProblem(file: string, kind: FileKind): string | undefined {
  const first = readFileSync(file, "utf8").split("\n")[0]!;
  const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
  if (!m) return `${file}: the first line is not "# yaml-language-server: $schema=<path>" but ${JSON.stringify(first)}`;
  const target = resolve(dirname(file), m[1]!);
  if (!existsSync(target)) return `${file}: $schema=${m[1]} does not resolve (no ${relative(ROOT, target)})`;
  if (target !== join(SCHEMAS, SCHEMA_FILES[kind])) return `${file}: $schema=${m[1]} is not the ${kind} schema`;
  return undefined;
}

describe("schemas/", () => {
  it("holds what `rig schema` generates now", async () => {
    const out = join(dir, "generated");
    const r = await rig(["schema", "--out", out]);
    expect(r.exitCode, r.all).toBe(0);
    expect(readdirSync(SCHEMAS).sort()).toEqual(Object.values(SCHEMA_FILES).sort());
    for (const name of Object.values(SCHEMA_FILES)) {
      expect(r.stdout).toContain(join(out, name));
      const committed = readFileSync(join(SCHEMAS, name), "utf8");
      const generated = readFileSync(join(out, name), "utf8");
      expect(committed === generated, `schemas/${name} is stale: run \`npm run rig -- schema --out schemas\` and commit it`).toBe(true);
    }
  });

  it("describes every step and every key", () => {
    const missing: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}[${i}]`));
      if (typeof node !== "object" || node === null) return;
      for (const [k, v] of Object.entries(node)) {
        if (k === "if" || k === "then" || k === "not" || k === "allOf") continue; // rules, not keys
        if (k === "properties") {
          for (const [p, s] of Object.entries(v as Record<string, { description?: string }>)) {
            if (!s.description) missing.push(`${at}.${p}`);
            walk(s, `${at}.${p}`);
          }
        } else walk(v, `${at}/${k}`);
      }
    };
    for (const [kind, name] of Object.entries(SCHEMA_FILES)) walk(JSON.parse(readFileSync(join(SCHEMAS, name), "utf8")), kind);
    expect(missing).toEqual([]);
  });

  it("`rig schema --help` says what it writes; a wrong option is a usage error", async () => {
    const help = await rig(["schema", "--help"]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/scenario\.schema\.json, rig\.schema\.json, profile\.schema\.json/);
    const bad = await rig(["schema", "--outt", dir]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--outt/);
  });
});

describe("shipped scenarios, rigs and profiles", () => {
  it("start with a yaml-language-server modeline that resolves to their schema", async () => {
    const problems: string[] = [];
    for (const file of shippedFiles()) {
      const problem = modelineProblem(join(ROOT, file), (await load(join(ROOT, file))).kind);
      if (problem) problems.push(problem);
    }
    expect(problems).toEqual([]);
    expect(shippedFiles().length).toBeGreaterThan(20);
  });

  it("a modeline that does not resolve, or names another kind's schema, is caught", () => {
    const scenario = join(dir, "modeline", "scenarios", "s.yaml");
    mkdirSync(dirname(scenario), { recursive: true });
    writeFileSync(scenario, "# yaml-language-server: $schema=../schemas/scenario.schema.json\nname: s\n");
    expect(modelineProblem(scenario, "scenario")).toMatch(/does not resolve/);
    writeFileSync(scenario, `# yaml-language-server: $schema=${join(SCHEMAS, "rig.schema.json")}\nname: s\n`);
    expect(modelineProblem(scenario, "scenario")).toMatch(/is not the scenario schema/);
    writeFileSync(scenario, "name: s\n");
    expect(modelineProblem(scenario, "scenario")).toMatch(/first line is not/);
  });

  it("pass their schema (ajv), as they pass `rig validate`", async () => {
    const failures: string[] = [];
    for (const file of shippedFiles()) {
      const errors = await schemaErrors(join(ROOT, file));
      if (errors) failures.push(`${file}: ${errors}`);
    }
    expect(failures).toEqual([]);
  });
});

describe("a misspelling `rig validate` rejects, the schema rejects too", () => {
  // A copy of the project's layout in which mutated files keep their relative paths working.
  const root = join(dir, "project");
  mkdirSync(root, { recursive: true });
  for (const d of ["scenarios", "rigs", "fixtures", "schemas"]) symlinkSync(join(ROOT, d), join(root, d));

  /**
   * `file` (from the root) with `from` replaced by `to`, written at the same depth under a
   * folder of its own (scenarios/x.yaml -> mutated-scenarios/<name>.yaml), never through the links.
   */
  function mutate(file: string, from: string, to: string, name: string): string {
    const text = readFileSync(join(ROOT, file), "utf8");
    expect(text, `${file} no longer has ${JSON.stringify(from)}: update this test`).toContain(from);
    const [top, ...rest] = dirname(file).split("/");
    const out = join(root, `mutated-${top}`, ...rest, `${name}.yaml`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, text.replace(from, () => to));
    return out;
  }

  const cases: Array<[what: string, file: string, from: string, to: string]> = [
    ["an unknown step", "scenarios/ota-happy-path.yaml", "  - expect:", "  - expct:"],
    ["an unknown step parameter", "scenarios/ota-happy-path.yaml", "- flash: { board: dut,", "- flash: { baord: dut,"],
    ["an unknown scenario key", "scenarios/ota-happy-path.yaml", "timeout: 30s", "timout: 30s"],
    ["an unknown key beside a step", "scenarios/ota-happy-path.yaml", "  - name: install the image", "  - nmae: install the image"],
    ["two actions in one step", "scenarios/ota-happy-path.yaml", "    device.install: { board: dut }", "    device.install: { board: dut }\n    device.confirm: { board: dut }"],
    ["a wrong power action", "scenarios/ota-happy-path.yaml", "action: cycle", "action: cycel"],
    ["a wrong server mode", "scenarios/ota-happy-path.yaml", "server: { mode: auto }", "server: { mode: contaner }"],
    ["a wrong expect since", "scenarios/ota-happy-path.yaml", "since: match", "since: matched"],
    ["a duration that is none", "scenarios/ota-happy-path.yaml", "within: 20s", "within: 20 secs"],
    ["a reserved variable name", "scenarios/ota-happy-path.yaml", "  base: ../fixtures", "  boards: ../fixtures"],
    ["server mode url without url", "scenarios/ota-happy-path.yaml", "server: { mode: auto }", "server: { mode: url }"],
    ["a step inside repeat", "scenarios/soak.yaml", "steps:\n", "steps:\n  - repeat: { times: 2, steps: [{ wiat: 1s }] }\n"],
    ["a typo of a board key", "rigs/virtual.yaml", "    profile: ../fixtures/profiles/virtual-board.yaml", "    fatl: panic\n    profile: ../fixtures/profiles/virtual-board.yaml"],
    ["a board field that is a mapping", "rigs/virtual.yaml", "    profile: ../fixtures/profiles/virtual-board.yaml", "    rack: { row: 3 }\n    profile: ../fixtures/profiles/virtual-board.yaml"],
    ["an unknown flash key", "rigs/virtual.yaml", "      timeout: 30s", "      timeot: 30s"],
    ["a wrong relay type", "rigs/virtual.yaml", "{ type: virtual, channels: 2 }", "{ type: virtul, channels: 2 }"],
    ["a board both virtual and qemu", "rigs/virtual.yaml", "    virtual:\n", "    qemu: true\n    virtual:\n"],
    ["a wrong reset sequence", "rigs/examples/bench-esp32.yaml", "sequence: esp32 }", "sequence: esp33 }"],
    ["a console with port and url", "rigs/examples/bench-esp32.yaml", "    console: { port:", "    console: { url: tcp://lab:4001, port:"],
    ["a real board without a console", "rigs/examples/bench-esp32.yaml", "    console: { port: /dev/serial/by-id/usb-Silicon_Labs_CP2102_USB_to_UART_Bridge_Controller_0001-if00-port0, baud: 115200 }\n", ""],
    ["an unknown profile command", "fixtures/profiles/virtual-board.yaml", "  check: check", "  chekc: check"],
    ["an unknown profile key", "fixtures/profiles/virtual-board.yaml", "prompt: 'ota> $'", "promt: 'ota> $'"],
    ["an unknown profile pattern", "fixtures/profiles/virtual-board.yaml", "  booted: ", "  boted: "],
  ];

  it.each(cases)("%s", async (what, file, from, to) => {
    const name = what.replace(/\W+/g, "-");
    const control = mutate(file, from, from, `${name}-as-shipped`);
    const [shipped] = await validateFiles([control]);
    expect(shipped!.errors.map(String), "the unmutated copy is valid").toEqual([]);
    expect(await schemaErrors(control)).toBe("");

    const bad = mutate(file, from, to, name);
    const [report] = await validateFiles([bad]);
    expect(report!.errors.length, `rig validate accepts ${what}`).toBeGreaterThan(0);
    expect(await schemaErrors(bad), `the schema accepts ${what} (rig validate: ${report!.errors.map(String).join("; ")})`).not.toBe("");
  });
});

// ${board.<field>}: a field of the board the step acts on (each board in turn for board: all).
import path from "node:path";
import { describe, expect, it } from "vitest";
import { interpolateString, type Scope } from "../../harness/scenario/interpolate.ts";
import { loadScenario } from "../../harness/scenario/load-scenario.ts";
import { errorsFrom, tree, where } from "./helpers.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

describe("${board.<field>}", () => {
  it("resolves from the step's board", () => {
    const scope: Scope = { vars: {}, outputs: {}, boards: {}, server: {}, env: {}, board: { server_url: "http://198.18.0.1:41000" } };
    expect(interpolateString("${board.server_url}/v1", scope)).toBe("http://198.18.0.1:41000/v1");
    expect(() => interpolateString("${board.nope}", scope)).toThrow(/unknown variable \$\{board\.nope\}/);
  });

  it("is checked at load time: only in a step that acts on a board, and only fields every board has", async () => {
    const text = `name: s
rig: ${ROOT}/rigs/fleet.yaml
steps:
  - device.configure: { board: all, settings: { server: "\${board.server_url}" } }
  - device.configure: { board: b1, settings: { server: "\${board.server_ur}" } }
  - wait: "\${board.serial}"
`;
    const dir = tree({ "s.yaml": text });
    const errors = (await errorsFrom(() => loadScenario(path.join(dir, "s.yaml")))).map(String);
    const at = (needle: string) => `${path.join(dir, "s.yaml")}:${where(text, needle).line}:${where(text, needle).col}`;
    expect(errors).toEqual([
      expect.stringContaining(`${at('"${board.server_ur}')}: unknown variable \${board.server_ur}, did you mean "board.server_url"?`),
      expect.stringContaining(`${at('"${board.serial}')}: \${board.serial} needs a step that acts on a board`),
    ]);
  });
});

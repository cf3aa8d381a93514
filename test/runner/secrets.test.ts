// Which values a run hides, and how: declared names, names that look secret, ${env.X:-default}.
import { describe, expect, it } from "vitest";
import { Redactor } from "../../harness/core/redact.ts";
import { scenarioSecrets } from "../../harness/runner/secrets.ts";
import type { Step } from "../../harness/scenario/types.ts";

const pos = { file: "s.yaml", line: 1, col: 1 };
const step = (name: string, params: unknown, children?: Step[][]): Step => ({ name, params, pos, ...(children ? { children } : {}) });

describe("scenarioSecrets", () => {
  it("hides declared variables and read ones whose names look secret, nothing else", () => {
    const s = scenarioSecrets(
      {
        secrets: ["SITE"],
        vars: { region: "${env.REGION}" },
        server: { mode: "process", env: { API: "${env.SERVER_API_TOKEN}" } },
        steps: [
          step("console.send", { board: "dut", line: "wifi ${env.WIFI_PSK} ${env.REGION}" }),
          step("repeat", { times: 1 }, [[step("console.send", { board: "dut", line: "pw ${env.ADMIN_PASSWORD:-changeme-default}" })]]),
          step("console.send", { board: "dut", line: "flag ${env.SKIP_KEY_CHECK}" }),
        ],
      },
      { SITE: "lab-7", WIFI_PSK: "hunter2hunter2", REGION: "eu-west", SERVER_API_TOKEN: "tok-123456", SKIP_KEY_CHECK: "1" },
    );
    expect(s.names.sort()).toEqual(["ADMIN_PASSWORD", "SERVER_API_TOKEN", "SITE", "WIFI_PSK"]);
    expect(s.tooShort).toEqual(["SKIP_KEY_CHECK"]);
    const r = s.redactor;
    expect(r.text("lab-7 hunter2hunter2 eu-west tok-123456 changeme-default 1")).toBe("*** *** eu-west *** *** 1");
  });
});

describe("Redactor", () => {
  it("replaces in text, bytes and nested values; longest secret first", () => {
    const r = new Redactor(["abc", "abcdef"]);
    expect(r.text("xabcdefx abc")).toBe("x***x ***");
    expect(r.bytes(Buffer.from("\x1b[0mabcdef\r")).toString()).toBe("\x1b[0m***\r");
    const plain = Buffer.from("nothing here");
    expect(r.bytes(plain)).toBe(plain); // untouched, not copied
    expect(r.value({ a: ["abc", 1, { b: "abcdef!" }], n: null })).toEqual({ a: ["***", 1, { b: "***!" }], n: null });
    expect(new Redactor([]).active).toBe(false);
  });
});

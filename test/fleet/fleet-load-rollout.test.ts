// The shipped fleet-load-rollout through the CLI, as CI runs it: 2,000 simulated devices and the
// virtual rig's dut on one server in a container; plus what the fleet steps refuse (exit 2), a
// server that is no OTA server (exit 3), and Ctrl-C in the middle of a fleet (nothing left).
import { createServer } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FLEET_FIGURES } from "../../harness/fleet/metrics.ts";
import { processesMentioning, readJson, rig, ROOT, tempDir, waitForOutput } from "../cli/helpers.ts";

const FIXTURES = join(import.meta.dirname, "fixtures");

describe("fleet-load-rollout", () => {
  it("updates the dut and >= 99% of 2,000 simulated devices, with no 5xx; result.json has the fleet's figures and series", async () => {
    const out = tempDir();
    const r = await rig(["scenarios/fleet-load-rollout.yaml", "--out", out], { timeoutMs: 240_000 });
    expect(r.exitCode, r.all).toBe(0);
    const result = readJson(join(out, "result.json"));
    const fleet = result.fleet;
    expect(fleet.devices).toBe(2000);
    expect(fleet.updated).toBeGreaterThanOrEqual(1980);
    expect(fleet.failed).toBe(0);
    expect(fleet.http_5xx).toBe(0);
    expect(fleet.check_p99_ms).toBeGreaterThan(0);
    // The misbehaving devices did misbehave: a few reverted, a few were refused for their CIK.
    expect(fleet.reverted).toBeGreaterThan(0);
    expect(fleet.rejected).toBeGreaterThan(0);
    expect(fleet.errors["401"]).toBeGreaterThanOrEqual(fleet.rejected);
    expect(fleet.series.length).toBeGreaterThan(5);
    const peak = Math.max(...fleet.series.map((s: { states: { downloading: number } }) => s.states.downloading));
    expect(peak).toBeGreaterThan(0);
    expect(fleet.series.at(-1).states.updated).toBe(fleet.updated);
    // The dut's own update, while the fleet's ran.
    const hash = result.steps.find((s: { name: string }) => s.name === "assert.hash");
    expect(hash.status).toBe("passed");
    expect(await processesMentioning(out)).toEqual([]);
  }, 260_000);
});

describe("fleet steps: bad input and a wrong server", () => {
  it("refuses count 0 or over the limit, fractions over 1, a rate of 0, a bad slice or bound: exit 2, file:line:col", async () => {
    const file = join(FIXTURES, "fleet-bad-input.yaml");
    const r = await rig(["validate", file]);
    expect(r.exitCode, r.all).toBe(2);
    for (const [line, text] of [
      [7, "count: expected a number >= 1, got 0"],
      [8, "count: expected a number <= 50000"],
      [9, "behaviours.drop: expected a number <= 1"],
      [10, "rate: a rate above 0"],
      [11, "slice: i/n with 1 ≤ i ≤ n"],
      [12, "updated: a bound"],
    ] as const) {
      expect(r.all).toContain(`fleet-bad-input.yaml:${line}:`);
      expect(r.all).toContain(text);
    }
    expect(r.all).toContain("6 error(s)");
  });

  it("stops at fleet.start when the server does not speak the device API: exit 3", async () => {
    // Healthy (so url mode takes it), but a web site, not an OTA server.
    const other = createServer((req, res) => {
      if (req.url === "/healthz") res.writeHead(200).end("ok");
      else res.writeHead(404, { "content-type": "text/html" }).end("<h1>not here</h1>");
    });
    await new Promise<void>((ok) => other.listen(0, "127.0.0.1", ok));
    try {
      const url = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
      const dir = tempDir();
      const file = join(dir, "fleet-wrong-server.yaml");
      writeFileSync(
        file,
        `name: fleet-wrong-server\nrig: ${join(ROOT, "rigs/virtual.yaml")}\nboards: [dut]\nserver: { mode: url, url: "${url}" }\n` +
          "steps:\n  - fleet.start: { count: 10, model: fleet }\n",
      );
      const r = await rig([file, "--out", join(dir, "run")], { env: { OTARIG_API_KEY: "v:k:s" } });
      expect(r.exitCode, r.all).toBe(3);
      expect(r.all).toContain("does not speak the device API");
      expect(r.all).toContain("answered 404");
    } finally {
      other.close();
    }
  });

  it("Ctrl-C during fleet.wait: exit 130, the fleet stopped at teardown (its figures in result.json), nothing left", async () => {
    const out = tempDir();
    const child = rig([join(FIXTURES, "fleet-interrupt.yaml"), "--out", out], { timeoutMs: 120_000 });
    await waitForOutput(child, "… 4 fleet.wait", "the run never reached fleet.wait", 60_000);
    await new Promise((r) => setTimeout(r, 1500)); // devices mid-download
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode, r.all).toBe(130);
    const result = readJson(join(out, "result.json"));
    expect(result.status).toBe("interrupted");
    for (const f of ["devices", ...FLEET_FIGURES]) expect(result.fleet).toHaveProperty(f);
    expect(result.fleet.devices).toBe(50);
    expect(result.fleet.updated).toBeLessThan(50);
    expect(await processesMentioning(out)).toEqual([]);
  }, 130_000);
});

// The main job as the README gives it, and how `server: { mode: auto }` decides.
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { readJson, rig, tempDir } from "./helpers.ts";

describe("server modes through the CLI", () => {
  it("the README's main job runs the shipped happy path with the server in a container when dockerd answers", async () => {
    const out = tempDir();
    const r = await rig(["scenarios/ota-happy-path.yaml", "--out", out], { timeoutMs: 240_000 });
    expect(r.exitCode, r.all).toBe(0);
    const result = readJson(join(out, "result.json"));
    expect(result.server.mode).toBe("container");
    expect(result.server.containerId).toMatch(/^[0-9a-f]{64}$/);
    // The container was removed at teardown.
    const inspect = await execa("docker", ["inspect", result.server.containerId], { reject: false });
    expect(inspect.exitCode).not.toBe(0);
  }, 260_000);

  it("auto falls back to the process server when no container engine answers", async () => {
    const out = tempDir();
    const r = await rig(["scenarios/backend-basic.yaml", "--out", out], { env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" } });
    expect(r.exitCode, r.all).toBe(0);
    expect(readJson(join(out, "result.json")).server.mode).toBe("process");
    expect(r.all).not.toContain("container");
  });

  it("mode container without an engine is an infrastructure error that says what to do", async () => {
    const out = tempDir();
    const r = await rig(["scenarios/backend-basic.yaml", "--server", "container", "--out", out], {
      env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" },
    });
    expect(r.exitCode).toBe(3);
    expect(r.all).toMatch(/no container engine answers .*--server process/s);
  });
});

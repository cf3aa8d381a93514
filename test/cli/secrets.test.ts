// Secrets stay secret: values of environment variables a scenario declares secret, or reads under
// a name that looks secret, are *** in every file of the run directory and on the terminal,
// including the board's echo in <board>.log; no <board>.raw unless --raw-secrets.
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FIXTURES, rig, tempDir } from "./helpers.ts";

const PSK = "hunter2-psk-7f3a9c";
const SITE = "site-b1e5d0-secret";
const env = (cache: string) => ({ OTARIG_TEST_WIFI_PSK: PSK, OTARIG_TEST_SITE: SITE, XDG_CACHE_HOME: cache });

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return []; // a PTY link whose socat has gone
    return st.isDirectory() ? filesUnder(path) : st.isFile() ? [path] : [];
  });
}

describe("secrets", () => {
  it("no file of the run directory and nothing on the terminal holds a secret value; the board log shows ***", async () => {
    const out = tempDir("otarig-secrets-");
    dirs.push(out);
    const cache = tempDir("otarig-secrets-cache-");
    dirs.push(cache); // board locks of its own: another run of the shipped rig elsewhere on this machine cannot make it wait
    const r = await rig([join(FIXTURES, "secrets.yaml"), "--out", out], { env: env(cache) });
    expect(r.exitCode, r.all).toBe(1); // the last step fails on purpose, with the PSK in its pattern

    const files = filesUnder(out);
    expect(files.map((f) => f.slice(out.length + 1))).toEqual(expect.arrayContaining(["dut.log", "run.log", "result.json", "junit.xml", "report.html"]));
    for (const file of files) {
      const bytes = readFileSync(file);
      expect(bytes.includes(PSK), `${file} holds the PSK`).toBe(false);
      expect(bytes.includes(SITE), `${file} holds the declared secret`).toBe(false);
    }
    expect(r.all).not.toContain(PSK);
    expect(r.all).not.toContain(SITE);

    // Redacted, not dropped: the echo and the answers are there with *** in place of the values.
    const log = readFileSync(join(out, "dut.log"), "utf8");
    expect(log).toContain("ota> set wifi_psk ***");
    expect(log).toContain("ota> site ***");
    expect(log).toContain("unknown command 'site ***'");
    const result = readFileSync(join(out, "result.json"), "utf8");
    expect(result).toContain("never ***");
    expect(files.some((f) => f.endsWith(".raw"))).toBe(false);
    expect(readFileSync(join(out, "run.log"), "utf8")).toContain("the values of OTARIG_TEST_SITE, OTARIG_TEST_WIFI_PSK are written as ***; no <board>.raw is kept");
  }, 150_000);

  it("--raw-secrets keeps <board>.raw, which is raw: the echo is there as typed", async () => {
    const out = tempDir("otarig-secrets-");
    dirs.push(out);
    const cache = tempDir("otarig-secrets-cache-");
    dirs.push(cache);
    const r = await rig([join(FIXTURES, "secrets.yaml"), "--out", out, "--raw-secrets"], { env: env(cache) });
    expect(r.exitCode, r.all).toBe(1);
    expect(readFileSync(join(out, "dut.raw")).includes(`set wifi_psk ${PSK}`)).toBe(true);
    expect(readFileSync(join(out, "dut.log")).includes(PSK)).toBe(false);
  }, 150_000);
});

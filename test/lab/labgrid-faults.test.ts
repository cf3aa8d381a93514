// labgrid when it misbehaves, through a stand-in labgrid-client (a shell script that records
// its calls): a power call that hangs is stopped by the step's signal at once, and a place
// listing that fails never leads to releasing a place whose holder could not be seen. (The
// real lab cannot be made to hang or to fail one listing on demand; labgrid.test.ts runs it.)
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { LabgridClient } from "../../harness/lab/labgrid/client.ts";
import { labgridPower } from "../../harness/lab/labgrid/power.ts";
import { freeStalePlaces } from "../../harness/lab/labgrid/place.ts";
import { listHeldPlaces, writeHeldPlace } from "../../harness/lab/labgrid/held-places.ts";
import { InfraError } from "../../harness/core/errors.ts";
import { tempDir } from "../board/helpers/pty.ts";

let tmp: ReturnType<typeof tempDir>;
let client: string;
let calls: string;
beforeEach(() => {
  tmp = tempDir("otarig-lg-faults-");
  client = join(tmp.dir, "labgrid-client");
  calls = join(tmp.dir, "calls");
});
afterEach(() => tmp.cleanup());

/** A labgrid-client whose `places` does what `places` says; `power` hangs; every call is recorded. */
function standIn(places: string): void {
  writeFileSync(
    client,
    `#!/bin/sh
echo "$*" >> "${calls}"
case "$*" in
  *" places"*) ${places} ;;
  *" power "*) exec sleep 60 ;;
esac
exit 0
`,
  );
  chmodSync(client, 0o755);
}

function callsMade(): string[] {
  return existsSync(calls) ? readFileSync(calls, "utf8").trim().split("\n") : [];
}

describe("labgrid power", () => {
  it("a hung power call is stopped by the step's signal, not after the call's own 30 s", async () => {
    standIn("exit 0");
    const power = labgridPower(new LabgridClient({ client, coordinator: "127.0.0.1:1", user: "ci" }), "virt1", "power");
    const stop = new AbortController();
    setTimeout(() => stop.abort("step 2 (power) did not finish within 1s"), 300);
    const err = await power.on(stop.signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toMatch(/`.*labgrid-client -p virt1 power -n power on` was stopped \(step 2 \(power\) did not finish within 1s\)/);
  });
});

describe("freeing places left by a killed run", () => {
  const deadPid = () => Number(spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());
  const leftBehind = () =>
    writeHeldPlace(join(tmp.dir, "locks"), {
      coordinator: "127.0.0.1:1",
      user: "ci",
      client,
      token: "TOKEN1",
      place: "virt1",
      filter: { name: "virt1" },
      pid: deadPid(),
      host: hostname(),
      since: new Date().toISOString(),
    });
  const warnings: string[] = [];
  const log = (_level: "info" | "warn", message: string) => warnings.push(message);

  it("a failed place listing releases nothing and keeps the record for the next start", async () => {
    standIn(`echo "coordinator unreachable" >&2; exit 1`);
    leftBehind();
    await freeStalePlaces(join(tmp.dir, "locks"), log);
    expect(callsMade().filter((c) => / release$/.test(c))).toEqual([]);
    expect(listHeldPlaces(join(tmp.dir, "locks"))).toHaveLength(1);
    expect(warnings.at(-1)).toMatch(/labgrid place virt1 left by otarig process \d+ not freed: the coordinator's place list failed/);
  });

  it("a place held under another reservation now is not released; one still under ours is", async () => {
    standIn(`printf "Place 'virt1':\\n  acquired: ci-host/ci\\n  reservation: SOMEONE-ELSE\\n"`);
    leftBehind();
    await freeStalePlaces(join(tmp.dir, "locks"), log);
    expect(callsMade().filter((c) => / release$/.test(c))).toEqual([]);
    expect(listHeldPlaces(join(tmp.dir, "locks"))).toHaveLength(0);

    standIn(`printf "Place 'virt1':\\n  acquired: ci-host/ci\\n  reservation: TOKEN1\\n"`);
    leftBehind();
    await freeStalePlaces(join(tmp.dir, "locks"), log);
    expect(callsMade().filter((c) => / release$/.test(c))).toEqual(["-p virt1 release"]);
  });
});

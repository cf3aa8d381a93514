// `enable=true` on adding serials: a fleet's serials are registered and enabled for activation
// in one call per batch (harness/fleet/register.ts relies on it).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.stop());

describe("adding serials with enable=true", () => {
  it("enables every serial of the batch; without it they stay registered", async () => {
    await s.vendorA.createModel("bulk");
    await s.vendorA.addSerials("bulk", ["B-1", "B-2", "B-3"], { enable: true });
    await s.vendorA.addSerials("bulk", ["B-4"]);
    expect(await Promise.all(["B-1", "B-2", "B-3", "B-4"].map((sn) => s.vendorA.serialStatus("bulk", sn)))).toEqual(["enabled", "enabled", "enabled", "registered"]);
  });
});

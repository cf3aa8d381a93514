// Rig keys of boards reached over the network: console.url and labgrid, read into the board
// spec, and their mistakes reported at the key or value with file:line:col.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadRig } from "../../harness/scenario/load-rig.ts";
import { PROFILE, errorsFrom, tree, where } from "./helpers.ts";

function rigWith(board: string): string {
  return `name: r\nboards:\n  dut:\n    serial_number: SN-1\n    profile: ./profile.yaml\n${board}`;
}

async function load(text: string) {
  const dir = tree({ "rig.yaml": text, "profile.yaml": PROFILE });
  return { dir, load: () => loadRig(path.join(dir, "rig.yaml")) };
}

describe("console.url and labgrid in rigs", () => {
  it("reads a network console with its DTR/RTS/HUPCL settings", async () => {
    const { load: l } = await load(rigWith('    console: { url: "rfc2217://lab-host:3001", baud: 57600, dtr: false, rts: false, hupcl: false }\n'));
    const rig = await l();
    expect(rig.boards.dut!.console).toEqual({ url: "rfc2217://lab-host:3001", baud: 57600, reconnectTimeoutMs: 10_000, dtr: false, rts: false, hupcl: false });
  });

  it("a bad console URL is reported at its value", async () => {
    const text = rigWith('    console: { url: "telnet://lab-host:3001" }\n');
    const { load: l } = await load(text);
    const [e, ...rest] = await errorsFrom(l);
    expect(rest).toEqual([]);
    expect(e!.message).toBe('unsupported console URL scheme "telnet" (expected rfc2217 or tcp)');
    expect(e!.position).toMatchObject(where(text, '"telnet://'));
  });

  it("a console URL without a port is reported", async () => {
    const { load: l } = await load(rigWith('    console: { url: "tcp://lab-host" }\n'));
    const [e] = await errorsFrom(l);
    expect(e!.message).toBe('console URL "tcp://lab-host" needs a port (1-65535)');
  });

  it("reads a labgrid board: place or tags, coordinator, client relative to the rig, user default otarig", async () => {
    const { dir, load: l } = await load(rigWith("    labgrid: { tags: { board: virt, rev: 2 }, coordinator: 10.0.0.5:20408, client: ./venv/bin/labgrid-client, power: power }\n"));
    const rig = await l();
    expect(rig.boards.dut!.labgrid).toEqual({
      tags: { board: "virt", rev: "2" },
      coordinator: "10.0.0.5:20408",
      client: path.join(dir, "venv/bin/labgrid-client"),
      user: "otarig",
      powerResource: "power",
    });
  });

  it("a labgrid board names either a place or tags, and takes its console from the place", async () => {
    const text = rigWith("    console: { port: /dev/ttyUSB0 }\n    labgrid: { place: virt1, tags: { board: virt } }\n");
    const { load: l } = await load(text);
    const errors = await errorsFrom(l);
    expect(errors.map((e) => e.message).sort()).toEqual([
      "console.port: a labgrid board's console comes from its place; leave it out",
      "labgrid: give either place (a name) or tags (any place matching them)",
    ]);
    expect(errors.find((e) => e.message.startsWith("labgrid:"))!.position).toMatchObject(where(text, "labgrid:"));
  });

  it("a board with neither port, url, virtual, qemu nor labgrid says what it needs", async () => {
    const { load: l } = await load(rigWith("    console: { baud: 9600 }\n"));
    const [e] = await errorsFrom(l);
    expect(e!.message).toBe("board dut needs console.port or console.url (only a virtual, qemu or labgrid board may leave both out)");
  });
});

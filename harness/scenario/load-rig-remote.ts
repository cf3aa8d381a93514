// The rig keys of boards reached over the network: `console.url` (a port exported by ser2net or a
// terminal server) and `labgrid:` (a place of a labgrid lab). Kept apart from load-rig.ts, which
// wires them in.
import path from "node:path";
import { z } from "zod";
import { ScenarioError } from "../core/errors.ts";
import type { LabgridPlaceSpec } from "../board/spec.ts";
import { parseConsoleUrl } from "../board/console/network/console-url.ts";
import type { Path, YamlSource } from "./yaml-source.ts";

export const labgridBoardSchema = z
  .strictObject({
    place: z.string().min(1).optional().describe("the place's name"),
    tags: z
      .record(z.string(), z.union([z.string().min(1), z.number()]).transform(String))
      .optional()
      .meta({ minProperties: 1 })
      .describe("any place with these tags, e.g. { board: esp32, rev: \"2\" }"),
    coordinator: z.string().regex(/^[^:\s]+:\d+$/, "expected host:port").optional().describe("host:port (default $LG_COORDINATOR, else 127.0.0.1:20408)"),
    client: z.string().min(1).default("labgrid-client").describe("the labgrid-client program (default: on PATH; a path is relative to the rig file)"),
    user: z.string().regex(/^[\w.-]+$/, "letters, digits, '.', '_' or '-'").default("otarig").describe("LG_USERNAME the place is held under (default otarig)"),
    console: z.string().min(1).optional().describe("the place's serial port resource, if it has several"),
    power: z.string().min(1).optional().describe("the place's power port (labgrid-client -n), if it has several"),
  })
  // labgridErrors: place or tags, not both
  .meta({ oneOf: [{ required: ["place"] }, { required: ["tags"] }] })
  .describe("the board is a place of a labgrid lab");
type LabgridBoard = z.output<typeof labgridBoardSchema>;

interface ConsoleKeys {
  port?: string | undefined;
  url?: string | undefined;
}

export function consoleUrlErrors(src: YamlSource, board: Path, console: ConsoleKeys, labgrid: boolean): ScenarioError[] {
  const at: Path = [...board, "console"];
  const errors: ScenarioError[] = [];
  if (console.url !== undefined) {
    try {
      parseConsoleUrl(console.url);
    } catch (err) {
      errors.push(new ScenarioError((err as Error).message, src.pos([...at, "url"])));
    }
    if (console.port !== undefined) errors.push(new ScenarioError("console: give port or url, not both", src.pos([...at, "url"], "key")));
  }
  if (labgrid) {
    for (const key of ["port", "url"] as const) {
      if (console[key] !== undefined) {
        errors.push(new ScenarioError(`console.${key}: a labgrid board's console comes from its place; leave it out`, src.pos([...at, key], "key")));
      }
    }
  }
  return errors;
}

export function labgridErrors(src: YamlSource, board: Path, labgrid: LabgridBoard | undefined, virtual: boolean): ScenarioError[] {
  if (!labgrid) return [];
  const at: Path = [...board, "labgrid"];
  const errors: ScenarioError[] = [];
  if ((labgrid.place === undefined) === (labgrid.tags === undefined)) {
    errors.push(new ScenarioError("labgrid: give either place (a name) or tags (any place matching them)", src.pos(at, "key")));
  }
  if (labgrid.tags && Object.keys(labgrid.tags).length === 0) errors.push(new ScenarioError("labgrid.tags: give at least one tag", src.pos([...at, "tags"])));
  if (virtual) errors.push(new ScenarioError("a board is either virtual or from a labgrid place, not both", src.pos(at, "key")));
  return errors;
}

export function labgridPlaceSpec(labgrid: LabgridBoard, rigDir: string): LabgridPlaceSpec {
  const client = labgrid.client.includes("/") ? path.resolve(rigDir, labgrid.client) : labgrid.client;
  return {
    client,
    user: labgrid.user,
    ...(labgrid.place !== undefined ? { place: labgrid.place } : {}),
    ...(labgrid.tags !== undefined ? { tags: labgrid.tags } : {}),
    ...(labgrid.coordinator !== undefined ? { coordinator: labgrid.coordinator } : {}),
    ...(labgrid.console !== undefined ? { consoleResource: labgrid.console } : {}),
    ...(labgrid.power !== undefined ? { powerResource: labgrid.power } : {}),
  };
}

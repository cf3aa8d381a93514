// rig schema [--out DIR]: writes the JSON Schemas of scenario, rig and profile files, for
// editors (VS Code's YAML extension reads `# yaml-language-server: $schema=<path>`).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { EXIT_CODES } from "../core/errors.ts";
import { commandHelp } from "./help.ts";

export async function schemaCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { help: { type: "boolean", short: "h", default: false }, out: { type: "string", default: "schemas" } } });
  } catch (err) {
    process.stderr.write(`rig schema: ${(err as Error).message}\n${commandHelp("schema")}`);
    return EXIT_CODES.scenario;
  }
  if (parsed.values.help) {
    process.stdout.write(commandHelp("schema"));
    return EXIT_CODES.pass;
  }
  // Loaded here, not at the top: `rig schema --help` needs no zod.
  const { fileJsonSchemas, renderJsonSchema, SCHEMA_FILES } = await import("../scenario/json-schema.ts");
  const dir = parsed.values.out;
  mkdirSync(dir, { recursive: true });
  const schemas = fileJsonSchemas();
  for (const kind of ["scenario", "rig", "profile"] as const) {
    const file = join(dir, SCHEMA_FILES[kind]);
    writeFileSync(file, renderJsonSchema(schemas[kind]));
    process.stdout.write(`${file}\n`);
  }
  return EXIT_CODES.pass;
}

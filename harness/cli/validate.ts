import { validateFiles } from "../scenario/validate-files.ts";
import { expandScenarioArgs } from "./files.ts";
import { commandHelp } from "./help.ts";

export async function validateCommand(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(commandHelp("validate"));
    return argv.length === 0 ? 2 : 0;
  }
  // directories as `rig` and `rig list` take them: the *.yaml files in them
  const files = expandScenarioArgs(argv);
  if (files.length === 0) {
    process.stderr.write(`rig validate: no *.yaml files in ${argv.join(", ")}\n`);
    return 2;
  }
  const reports = await validateFiles(files);
  let errors = 0;
  for (const r of reports) {
    if (r.errors.length === 0) process.stdout.write(`${r.file}: ok\n`);
    for (const e of r.errors) process.stderr.write(`${e.toString()}\n`);
    errors += r.errors.length;
  }
  if (errors) process.stderr.write(`rig validate: ${errors} error(s)\n`);
  return errors ? 2 : 0;
}

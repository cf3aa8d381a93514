import { ScenarioError } from "../core/errors.ts";
import { loadScenario } from "../scenario/load-scenario.ts";
import { expandScenarioArgs } from "./files.ts";

export async function listCommand(argv: string[]): Promise<number> {
  const files = expandScenarioArgs(argv.length ? argv : ["scenarios"]);
  let bad = 0;
  for (const file of files) {
    try {
      const { scenario } = await loadScenario(file);
      process.stdout.write(`${file}\n  ${scenario.name}: ${scenario.description ?? ""}\n`);
    } catch (err) {
      if (!(err instanceof ScenarioError)) throw err;
      bad++;
      process.stdout.write(`${file}\n  (invalid: ${err.toString().split("\n")[0]})\n`);
    }
  }
  return bad ? 2 : 0;
}

// `npm run bench -- [name…] [--key value…]`: otarig's benchmarks. They print figures against the
// design targets; they never assert a timing and are not part of `npm test`.
import { consoleBench } from "./console.ts";
import { fleetBench } from "./fleet.ts";
import { fleetSimBench } from "./fleet-sim.ts";
import { busyWarning, machineLine, note, UsageError, type BenchContext, type Benchmark } from "./lib/common.ts";
import { serverBench } from "./server.ts";
import { qemuBench } from "./qemu.ts";
import { reportBench } from "./report.ts";
import { reopenBench } from "./reopen.ts";
import { historyBench } from "./history.ts";
import { sweepBench } from "./sweep.ts";

const BENCHMARKS: Benchmark[] = [fleetBench, fleetSimBench, serverBench, consoleBench, reopenBench, reportBench, historyBench, sweepBench, qemuBench];

function help(): string {
  const lines = [
    "usage: npm run bench -- [name…] [options]      (no name: all of them, in this order)",
    "",
    "benchmarks:",
    ...BENCHMARKS.flatMap((b) => [`  ${b.name.padEnd(10)} ${b.summary}`, ...b.optionsHelp.map((o) => `             ${o}`)]),
    "",
    "common options:",
    "  --keep   keep the temporary directories (run dirs, logs, server data) and print where they are",
    "  --help   this text",
    "",
    "Everything runs on 127.0.0.1 in temporary directories; every load loop is bounded in count and time.",
    "",
  ];
  return lines.join("\n");
}

function parseArgs(argv: string[]): { names: string[]; ctx: BenchContext } | "help" {
  const names: string[] = [];
  const options = new Map<string, string>();
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h" || arg === "help") return "help";
    if (arg === "--keep") {
      keep = true;
    } else if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      if (eq > 0) {
        options.set(arg.slice(2, eq), arg.slice(eq + 1));
      } else {
        const value = argv[i + 1];
        if (value === undefined || value.startsWith("--")) throw new UsageError(`${arg} needs a value`);
        options.set(arg.slice(2), value);
        i++;
      }
    } else {
      names.push(arg);
    }
  }
  const known = new Set(BENCHMARKS.flatMap((b) => b.optionsHelp.map((o) => /^--([\w-]+)/.exec(o)?.[1] ?? "")));
  for (const key of options.keys()) if (!known.has(key)) throw new UsageError(`unknown option --${key}`);
  for (const n of names) {
    if (!BENCHMARKS.some((b) => b.name === n)) {
      throw new UsageError(`unknown benchmark "${n}" (have: ${BENCHMARKS.map((b) => b.name).join(", ")})`);
    }
  }
  return { names, ctx: { options, keep } };
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n\n${help()}`);
    return 2;
  }
  if (parsed === "help") {
    process.stdout.write(help());
    return 0;
  }
  const selected = parsed.names.length ? BENCHMARKS.filter((b) => parsed.names.includes(b.name)) : BENCHMARKS;
  note(machineLine());
  const busy = busyWarning();
  if (busy) note(busy);
  let failed = 0;
  for (const b of selected) {
    try {
      await b.run(parsed.ctx);
    } catch (err) {
      failed++;
      if (err instanceof UsageError) process.stderr.write(`bench ${b.name}: ${err.message}\n`);
      else process.stderr.write(`bench ${b.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.stdout.write("", () => process.exit(code)),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

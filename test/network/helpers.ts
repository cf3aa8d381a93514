import { readFileSync } from "node:fs";
import { execa } from "execa";

export async function namespaceExists(name: string): Promise<boolean> {
  const { stdout } = await execa("ip", ["netns", "list"], { reject: false });
  return stdout.split("\n").some((l) => l.split(" ")[0] === name);
}

export async function linkExists(name: string): Promise<boolean> {
  const r = await execa("ip", ["link", "show", name], { reject: false });
  return r.exitCode === 0;
}

/** The namespaces a run's run.log says it made, with the run's PID. */
export function namespacesIn(runLog: string): Array<{ namespace: string; pid: number }> {
  return [...runLog.matchAll(/network namespace (otarig-\d+) \(owner PID (\d+)\)/g)].map((m) => ({ namespace: m[1]!, pid: Number(m[2]) }));
}

/**
 * Whether a run left its namespace (or its veth) behind. Names are reused: a concurrent run may
 * hold the same name by now, and then its ownership file names that run, not this one.
 */
export async function leftBehind(made: { namespace: string; pid: number }): Promise<boolean> {
  const k = made.namespace.replace("otarig-", "");
  const exists = (await namespaceExists(made.namespace)) || (await linkExists(`otarig${k}h`));
  if (!exists) return false;
  let owner: number | undefined;
  try {
    owner = (JSON.parse(readFileSync(`/run/otarig/netns/${k}.json`, "utf8")) as { pid: number }).pid;
  } catch {
    return true; // a namespace with no ownership file is nobody's: left behind
  }
  return owner === made.pid;
}

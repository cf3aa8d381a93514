import { execa } from "execa";

export async function namespaceExists(name: string): Promise<boolean> {
  const { stdout } = await execa("ip", ["netns", "list"], { reject: false });
  return stdout.split("\n").some((l) => l.split(" ")[0] === name);
}

export async function linkExists(name: string): Promise<boolean> {
  const r = await execa("ip", ["link", "show", name], { reject: false });
  return r.exitCode === 0;
}

/** The namespaces a run's run.log says it made. */
export function namespacesIn(runLog: string): string[] {
  return [...runLog.matchAll(/network namespace (otarig-\d+)/g)].map((m) => m[1]!);
}

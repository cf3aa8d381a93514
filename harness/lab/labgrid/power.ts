// Power of a labgrid place: `labgrid-client power`, which switches the place's power port (the
// HTTP request to the PDU comes from labgrid-client itself).
import type { PowerProtocol } from "../../board/types.ts";
import type { LabgridClient } from "./client.ts";

export function labgridPower(client: LabgridClient, place: string, resource: string | undefined): PowerProtocol {
  // The step's signal stops a hung call at once (Ctrl-C, the step's timeout), not after the call's own.
  const power = (signal: AbortSignal | undefined, ...args: string[]) =>
    client.run(["-p", place, "power", ...(resource ? ["-n", resource] : []), ...args], signal ? { signal } : {});
  return {
    on: async (signal) => void (await power(signal, "on")),
    off: async (signal) => void (await power(signal, "off")),
    cycle: async (offMs, signal) => void (await power(signal, "cycle", "-t", (offMs / 1000).toFixed(3))),
  };
}

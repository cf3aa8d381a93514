// Power of a labgrid place: `labgrid-client power`, which switches the place's power port (the
// HTTP request to the PDU comes from labgrid-client itself).
import type { PowerProtocol } from "../../board/types.ts";
import type { LabgridClient } from "./client.ts";

export function labgridPower(client: LabgridClient, place: string, resource: string | undefined): PowerProtocol {
  const power = (...args: string[]) => client.run(["-p", place, "power", ...(resource ? ["-n", resource] : []), ...args]);
  return {
    on: async () => void (await power("on")),
    off: async () => void (await power("off")),
    cycle: async (offMs) => void (await power("cycle", "-t", (offMs / 1000).toFixed(3))),
  };
}

// A board from a labgrid lab: the place is reserved and acquired through the lab's coordinator
// (its lock, shared by people and otarig alike), its serial port is read over RFC 2217 from the
// exporter's ser2net, and its power goes through `labgrid-client power`. Resource (where: the
// place, its console host/port) and driver (how: labgrid-client, RFC 2217) stay apart, as in
// labgrid itself. Release is always cancel-reservation, then release: the next waiter gets the
// place at once rather than at the coordinator's next 15 s scheduler tick.
import { hostname } from "node:os";
import { InfraError } from "../../core/errors.ts";
import { formatDuration } from "../../core/duration.ts";
import type { LabgridPlaceSpec } from "../../board/spec.ts";
import type { PowerProtocol } from "../../board/types.ts";
import { DEFAULT_COORDINATOR, LabgridClient } from "./client.ts";
import { listHeldPlaces, removeHeldPlace, writeHeldPlace, type HeldPlace } from "./held-places.ts";
import { filterArgs, matchesFilter, parseAcquired, parsePlaces, parseResources, parseToken, type PlaceInfo, type ResourceInfo } from "./parse.ts";
import { labgridPower } from "./power.ts";

export interface AcquirePlaceOptions {
  board: string;
  spec: LabgridPlaceSpec;
  /** where otarig keeps its lock files (and its records of held places) */
  lockDir?: string;
  /** how long to wait for a place someone else holds */
  waitTimeoutMs: number;
  signal?: AbortSignal;
  log: (level: "info" | "warn", message: string) => void;
}

export interface AcquiredPlace {
  name: string;
  coordinator: string;
  /** rfc2217://host:port of the place's serial port (a new port on every acquire) */
  consoleUrl: string;
  power?: PowerProtocol;
  /** ${boards.<b>.labgrid_*} fields and flash placeholders */
  fields: Record<string, string>;
  /** cancel the reservation, then release the place; never throws */
  release(): Promise<void>;
}

export function clientFor(spec: Pick<LabgridPlaceSpec, "client" | "user" | "coordinator">, log?: (line: string) => void): LabgridClient {
  const coordinator = spec.coordinator ?? process.env.LG_COORDINATOR ?? DEFAULT_COORDINATOR;
  return new LabgridClient({ client: spec.client, user: spec.user, coordinator, ...(log ? { log } : {}) });
}

export function placeFilter(spec: LabgridPlaceSpec): Record<string, string> {
  return spec.place !== undefined ? { name: spec.place } : { ...spec.tags };
}

export async function acquirePlace(o: AcquirePlaceOptions): Promise<AcquiredPlace> {
  const client = clientFor(o.spec);
  const coordinator = client.opts.coordinator;
  await freeStalePlaces(o.lockDir, o.log);
  const filter = placeFilter(o.spec);
  const wanted = filterArgs(filter).join(" ");
  const places = await listPlaces(client, o.signal);
  const matching = places.filter((p) => matchesFilter(p, filter));
  if (matching.length === 0) {
    const known = places.map((p) => `${p.name}${Object.keys(p.tags).length ? ` [${filterArgs(p.tags).join(" ")}]` : ""}`);
    throw new InfraError(
      `board ${o.board}: no labgrid place matches ${wanted} on coordinator ${coordinator}` +
        (known.length ? ` (places: ${known.join(", ")})` : " (the coordinator has no places)"),
    );
  }

  const token = parseToken(await client.run(["reserve", "--shell", ...filterArgs(filter)], withSignal(o.signal)));
  if (!token) throw new InfraError(`board ${o.board}: labgrid-client reserve printed no token`);
  const record: HeldPlace = { coordinator, user: o.spec.user, client: o.spec.client, token, filter, pid: process.pid, host: hostname(), since: new Date().toISOString() };
  const recordFile = writeHeldPlace(o.lockDir, record);
  let placeName: string | undefined;
  const release = async () => {
    await releasePlace(client, token, placeName, (m) => o.log("warn", `board ${o.board}: ${m}`));
    removeHeldPlace(recordFile);
  };

  try {
    const busy = matching.filter((p) => p.acquired || p.reservation);
    if (busy.length === matching.length) {
      o.log("warn", `board ${o.board}: waiting for labgrid place ${wanted} (${busy.map((p) => `${p.name} held by ${p.acquired ?? `reservation ${p.reservation}`}`).join(", ")})`);
    }
    await waitAllocated(client, token, wanted, o);
    placeName = parseAcquired(await client.run(["-p", "+", "acquire"], { token, ...withSignal(o.signal) }));
    if (!placeName) throw new InfraError(`board ${o.board}: labgrid-client acquire did not name the place it acquired`);
    writeHeldPlace(o.lockDir, { ...record, place: placeName });
    o.log("info", `board ${o.board}: acquired labgrid place ${placeName} as ${hostname()}/${o.spec.user} (reservation ${token})`);

    const resources = parseResources(await client.run(["-p", placeName, "show"], withSignal(o.signal)));
    const serial = pickResource(resources, (r) => r.cls === "NetworkSerialPort", o.spec.consoleResource, "console", `board ${o.board}: place ${placeName}`, "serial port");
    if (!serial?.host || serial.port === undefined) {
      throw new InfraError(`board ${o.board}: place ${placeName} publishes no console host/port (is its exporter running ser2net?)`);
    }
    const powerPort = pickResource(resources, (r) => /Power/.test(r.cls), o.spec.powerResource, "power", `board ${o.board}: place ${placeName}`, "power port");
    const host = serial.host.includes(":") ? `[${serial.host}]` : serial.host;
    const consoleUrl = `rfc2217://${host}:${serial.port}`;
    const fields: Record<string, string> = {
      labgrid_place: placeName,
      labgrid_coordinator: coordinator,
      labgrid_token: token,
      labgrid_console_host: serial.host,
      labgrid_console_port: String(serial.port),
    };
    const power = powerPort ? labgridPower(client, placeName, powerPort.name) : undefined;
    return { name: placeName, coordinator, consoleUrl, fields, release, ...(power ? { power } : {}) };
  } catch (err) {
    await release();
    throw err;
  }
}

async function listPlaces(client: LabgridClient, signal: AbortSignal | undefined): Promise<PlaceInfo[]> {
  try {
    return parsePlaces(await client.run(["-v", "places"], withSignal(signal)));
  } catch (err) {
    if (!(err instanceof InfraError)) throw err;
    if (/could not start/.test(err.message)) {
      throw new InfraError(`${err.message} (install labgrid, or set labgrid.client in the rig to its labgrid-client)`, { cause: err });
    }
    throw new InfraError(`labgrid coordinator ${client.opts.coordinator} does not answer: ${err.message}`, { cause: err });
  }
}

/** `labgrid-client wait` returns once the reservation is allocated; it polls, so it also keeps it alive. */
async function waitAllocated(client: LabgridClient, token: string, wanted: string, o: AcquirePlaceOptions): Promise<void> {
  try {
    await client.run(["wait", token], { timeoutMs: o.waitTimeoutMs, ...withSignal(o.signal) });
  } catch (err) {
    if (err instanceof InfraError && /timed out/.test(err.message)) {
      throw new InfraError(`board ${o.board}: labgrid place ${wanted} was not free within ${formatDuration(o.waitTimeoutMs)} (reservation ${token} cancelled)`, { cause: err });
    }
    throw err;
  }
}

function pickResource(
  resources: ResourceInfo[],
  kind: (r: ResourceInfo) => boolean,
  named: string | undefined,
  usual: string,
  where: string,
  what: string,
): ResourceInfo | undefined {
  const candidates = resources.filter(kind);
  if (named !== undefined) {
    const found = candidates.find((r) => r.name === named);
    if (!found) throw new InfraError(`${where} has no ${what} named "${named}" (it has: ${candidates.map((r) => r.name).join(", ") || "none"})`);
    return found;
  }
  if (candidates.length <= 1) return candidates[0];
  const found = candidates.find((r) => r.name === usual);
  if (!found) throw new InfraError(`${where} has several ${what}s (${candidates.map((r) => r.name).join(", ")}): name one in the rig's labgrid.${usual}`);
  return found;
}

async function releasePlace(client: LabgridClient, token: string, place: string | undefined, warn: (message: string) => void): Promise<void> {
  try {
    await client.run(["cancel-reservation", token]);
  } catch (err) {
    warn(`could not cancel labgrid reservation ${token}: ${(err as Error).message}`);
  }
  if (!place) return;
  try {
    await client.run(["-p", place, "release"]);
  } catch (err) {
    warn(`could not release labgrid place ${place}: ${(err as Error).message}`);
  }
}

/**
 * Places held by otarig processes that are gone (SIGKILL: no teardown ran): cancel their
 * reservation and release the place, if it is still held under that reservation.
 */
export async function freeStalePlaces(lockDir: string | undefined, log: (level: "info" | "warn", message: string) => void): Promise<void> {
  for (const held of listHeldPlaces(lockDir)) {
    if (held.alive) continue;
    const client = clientFor(held);
    let place = held.place;
    if (place) {
      const listed = await client.run(["-v", "places"]).then(parsePlaces, (err: unknown) => err as Error);
      if (listed instanceof Error) {
        // Whether the place is still ours cannot be told: release nothing, keep the record for the next start.
        log("warn", `labgrid place ${place} left by otarig process ${held.pid} not freed: the coordinator's place list failed (${listed.message})`);
        continue;
      }
      // Released only while it is still held under that reservation; else someone has it now
      // (the coordinator moved on), or it is gone: only forget the record.
      if (listed.find((p) => p.name === place)?.reservation !== held.token) place = undefined;
    }
    await releasePlace(client, held.token, place, (m) => log("warn", m));
    removeHeldPlace(held.file);
    log("warn", `freed labgrid ${held.place ? `place ${held.place}` : `reservation ${held.token}`} left by otarig process ${held.pid} (gone)`);
  }
}

function withSignal(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}

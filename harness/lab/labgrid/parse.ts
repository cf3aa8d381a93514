// What labgrid-client prints, read back. Its output is a Python pprint meant for people, so the
// parsing follows the shapes the recipe (shared/labgrid/README.md) documents and nothing more.

export interface PlaceInfo {
  name: string;
  tags: Record<string, string>;
  /** `host/user` of the holder, or undefined when free */
  acquired?: string;
  reservation?: string;
}

/** `labgrid-client -v places`: a block per place. */
export function parsePlaces(lines: string[]): PlaceInfo[] {
  const places: PlaceInfo[] = [];
  let current: PlaceInfo | undefined;
  for (const line of lines) {
    const head = /^Place '([^']+)':/.exec(line);
    if (head) {
      current = { name: head[1]!, tags: {} };
      places.push(current);
      continue;
    }
    if (!current) continue;
    const field = /^ {2}(\w[\w ]*): ?(.*)$/.exec(line);
    if (!field) continue;
    const [, key, value] = field as unknown as [string, string, string];
    if (key === "tags") {
      for (const pair of value.split(",")) {
        const [k, ...v] = pair.trim().split("=");
        if (k) current.tags[k] = v.join("=");
      }
    } else if (key === "acquired" && value !== "None" && value !== "") current.acquired = value;
    else if (key === "reservation" && value) current.reservation = value;
  }
  return places;
}

export interface ResourceInfo {
  /** the resource's name in the place (`console`, `power`) */
  name: string;
  /** its class: NetworkSerialPort, NetworkPowerPort, … */
  cls: string;
  host?: string;
  port?: number;
}

/** The resources `labgrid-client -p PLACE show` lists, with the host/port of each. */
export function parseResources(lines: string[]): ResourceInfo[] {
  const out: ResourceInfo[] = [];
  let current: ResourceInfo | undefined;
  for (const line of lines) {
    const head = /^(?:Acquired|Matching) resource '([^']+)' \((?:[^/]+\/){2}([^/]+)\/[^)]*\):/.exec(line);
    if (head) {
      current = { name: head[1]!, cls: head[2]! };
      out.push(current);
      continue;
    }
    if (!current) continue;
    const host = /'host': '([^']*)'/.exec(line);
    if (host && current.host === undefined) current.host = host[1]!;
    const port = /'port': (\d+|None)/.exec(line);
    if (port && current.port === undefined && port[1] !== "None") current.port = Number(port[1]);
  }
  return out;
}

/** `reserve --shell` prints `export LG_TOKEN=XXXX`. */
export function parseToken(lines: string[]): string | undefined {
  for (const line of lines) {
    const m = /LG_TOKEN=(\w+)/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/** `acquire` prints `acquired place NAME`. */
export function parseAcquired(lines: string[]): string | undefined {
  for (const line of lines) {
    const m = /^acquired place (\S+)/.exec(line.trim());
    if (m) return m[1];
  }
  return undefined;
}

/** A reservation filter as labgrid-client takes it: `k=v k2=v2` (a place name is tag `name`). */
export function filterArgs(filter: Record<string, string>): string[] {
  return Object.entries(filter).map(([k, v]) => `${k}=${v}`);
}

export function matchesFilter(place: PlaceInfo, filter: Record<string, string>): boolean {
  return Object.entries(filter).every(([k, v]) => (k === "name" ? place.name === v : place.tags[k] === v));
}

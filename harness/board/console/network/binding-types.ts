// serialport's binding types, taken from @serialport/stream (the @serialport/bindings-interface
// package that defines them ships no types its package.json "exports" lets TypeScript find).
import type { SerialPortStream } from "@serialport/stream";

export type BindingInterface = ConstructorParameters<typeof SerialPortStream>[0]["binding"];
export type BindingPortInterface = NonNullable<SerialPortStream["port"]>;
export type OpenOptions = Parameters<BindingInterface["open"]>[0];
export type SetOptions = Parameters<BindingPortInterface["set"]>[0];
export type UpdateOptions = Parameters<BindingPortInterface["update"]>[0];
export type PortStatus = Awaited<ReturnType<BindingPortInterface["get"]>>;

/** The line settings serialport's own open defaults to: a binding that opens a port itself starts from these. */
export const SERIALPORT_OPEN_DEFAULTS = {
  dataBits: 8,
  stopBits: 1,
  parity: "none",
  rtscts: false,
  xon: false,
  xoff: false,
  xany: false,
  hupcl: true,
} as const;

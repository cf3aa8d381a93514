// Which serialport binding carries a console: a network console (rfc2217:// or tcp://) goes over
// TCP (network/network-binding.ts), a device path through the native binding serialport detects
// for this OS (a pseudo-terminal taken back after share_port: without its flush, pty-reopen.ts),
// and tests pass a binding of their own (binding-mock). The console sees the same SerialPortStream
// in every case.
import type { BindingInterface } from "./network/binding-types.ts";
import { SerialPort } from "serialport";
import { looksLikeUrl } from "./network/console-url.ts";
import { NetworkBinding } from "./network/network-binding.ts";
import { isPseudoTerminal, PtyReopenBinding } from "./pty-reopen.ts";

/** A serialport binding (tests pass `SerialPortMock.binding` or a wrapper around it). */
export type PortBinding = BindingInterface;

/** `takeBack`: the console reopens a port it released to another program (share_port). */
export function bindingFor(port: string, testBinding?: PortBinding, takeBack = false): PortBinding {
  if (testBinding) return testBinding;
  if (looksLikeUrl(port)) return NetworkBinding;
  if (takeBack && isPseudoTerminal(port)) return PtyReopenBinding;
  return SerialPort.binding;
}

/** Whether the console's port is a device node to watch for (a vanished /dev path is a loss). */
export function isDevicePath(port: string, testBinding?: PortBinding): boolean {
  return !testBinding && !looksLikeUrl(port);
}

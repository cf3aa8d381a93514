// Taking back a pseudo-terminal the console let go of (share_port) without throwing bytes away.
// serialport's open configures the tty and then flushes it both ways (tcflush TCIOFLUSH). On a
// PTY the far end is a program (socat, the virtual board, QEMU) that keeps the pair alive, so at
// that moment the flush can hold bytes that matter: the flasher's last write that the kernel has
// not yet handed across the pair (the board's reset command: the board never boots), and what the
// board printed while the console was away (its first boot lines). So a PTY the console opened
// before is reopened as a plain descriptor: its line settings are still those of that first open
// (a PTY keeps them while its far end holds it), and nothing is flushed. A real UART is reopened
// through serialport as before: its last close drained what the flasher wrote, and its driver
// dropped what arrived while nobody had it open, so the flush there costs nothing, and the open
// restores the baud rate the flasher may have changed.
import { constants, open, realpathSync } from "node:fs";
import { promisify } from "node:util";
import { LinuxBinding, LinuxPortBinding, type LinuxOpenOptions } from "@serialport/bindings-cpp";
import { SERIALPORT_OPEN_DEFAULTS, type BindingInterface, type OpenOptions } from "./network/binding-types.ts";

const openFd = promisify(open);

/** Whether `path` names a Linux pseudo-terminal (a /dev/pts/N, or a link to one). */
export function isPseudoTerminal(path: string): boolean {
  if (process.platform !== "linux") return false;
  try {
    return /^\/dev\/pts\/\d+$/.test(realpathSync(path));
  } catch {
    return false;
  }
}

/** serialport's Linux binding, opening without configuring or flushing the tty. */
export const PtyReopenBinding: BindingInterface = {
  list: () => LinuxBinding.list(),
  async open(options: OpenOptions) {
    // O_NOCTTY: never become the harness's controlling terminal. O_NONBLOCK: the binding's poller reads.
    const fd = await openFd(options.path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    return new LinuxPortBinding(fd, {
      ...SERIALPORT_OPEN_DEFAULTS,
      vmin: 1,
      vtime: 0,
      ...(options as LinuxOpenOptions),
      lock: false, // serialport's lock is a flock the plain open does not take
    });
  },
};

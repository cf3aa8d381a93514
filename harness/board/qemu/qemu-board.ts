// One QEMU board on the harness side: a Linux guest (devices/qemu/guest) on a raw disk, managed
// like a virtual board. Its serial port is wired to the device end of a socat PTY pair whose
// other end the harness opens with serialport for the whole session, so the console survives
// power cycles (QEMU's own `-serial pty` gets a new /dev/pts/N on every start and drops what is
// printed while nobody has it open). QEMU starts paused (-S) and runs (`cont` over QMP) only once
// its monitor answers. Power off SIGKILLs QEMU's whole process group wherever the guest is (a
// write in flight is torn, as on real flash); power on starts it again on the same disk; reset
// is QMP `system_reset`.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { processPower } from "../power/process-power.ts";
import { InfraError } from "../../core/errors.ts";
import type { PowerProtocol, ResetProtocol } from "../types.ts";
import { openPtyPair, type PtyPair } from "../virtual/pty-pair.ts";
import { ensureDisk } from "./disk-layout.ts";
import { guestImages } from "./guest-images.ts";
import { QmpClient } from "./qmp.ts";

/** The address the guest sends its requests to; QEMU forwards it (guestfwd) to the board's proxy. */
export const GUEST_GATEWAY = "10.0.2.100:80";

export interface QemuBoardOptions {
  name: string;
  serialNumber: string;
  /** holds the PTY links (`console`, `device`) and `disk.img` */
  workDir: string;
  memoryMb: number;
  /** guest pause per flash page written, in µs: the window in which a power cut tears a slot */
  flashDelayUs: number;
  /** disk write limit in bytes/s (QEMU throttling), or 0 */
  diskWriteBps: number;
  /** the URL the guest's forwarded address leads to (the board's network proxy), read at each power on */
  uplink: () => string | undefined;
  /** what QEMU prints on stdout/stderr (not the console), line by line */
  onOutput?: (line: string) => void;
}

export interface QemuBoard {
  readonly name: string;
  /** the harness end of the console PTY pair: open it as any serial port */
  readonly consolePort: string;
  readonly disk: string;
  readonly power: PowerProtocol;
  readonly reset: ResetProtocol;
  isPowered(): boolean;
  /** QEMU's peak resident memory (VmHWM) in bytes while it runs, for benchmarks */
  peakMemory(): number | undefined;
  /** Powers the board off and removes the PTY pair. */
  stop(): Promise<void>;
}

export async function startQemuBoard(opts: QemuBoardOptions): Promise<QemuBoard> {
  const workDir = resolve(opts.workDir);
  mkdirSync(workDir, { recursive: true });
  const disk = join(workDir, "disk.img");
  ensureDisk(disk);
  const output = opts.onOutput ?? (() => {});
  const pty: PtyPair = await openPtyPair(join(workDir, "console"), join(workDir, "device"), { onOutput: (line) => output(`socat: ${line}`) });
  const machine = new QemuProcess(opts, disk, pty.b, output);
  const power = processPower(machine);
  return {
    name: opts.name,
    consolePort: pty.a,
    disk,
    power,
    reset: { reset: () => machine.reset() },
    isPowered: () => machine.running,
    peakMemory: () => machine.peakMemory(),
    stop: async () => {
      await machine.kill();
      await pty.close();
    },
  };
}

// QEMU runs under a small sh guard in its own process group: the guard kills the group when our
// stdin pipe closes (a harness that crashes leaves no QEMU, nor guestfwd socat, behind), and
// when QEMU exits on its own (the guard's exit is how the harness learns of it).
const GUARD = `
exec 3<&0
"$@" </dev/null & pid=$!
echo "qemu-pid $pid"
( cat <&3 >/dev/null; kill -9 -$$ ) &
wait $pid
echo "qemu-exit $?"
kill -9 -$$
`;

/** QEMU as a child process: at most one at a time. */
class QemuProcess {
  private child: ChildProcess | undefined;
  private qemuPid: number | undefined;
  private qmp: QmpClient | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: QemuBoardOptions,
    private readonly disk: string,
    private readonly serialDevice: string,
    private readonly output: (line: string) => void,
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  async start(): Promise<void> {
    if (this.child) return; // already on
    const images = guestImages();
    ensureDisk(this.disk);
    // The monitor is an abstract unix socket: no file that a killed harness could leave behind,
    // and no 108-byte limit on a deep run directory's path.
    const qmpName = `otarig-qmp-${process.pid}-${randomBytes(6).toString("hex")}`;
    const args = qemuArgs(this.opts, images, this.disk, this.serialDevice, qmpName);
    const child = spawn("sh", ["-c", GUARD, "qemu-guard", ...args], { stdio: ["pipe", "pipe", "pipe"], detached: true });
    this.child = child;
    this.exited = new Promise((done) => {
      child.once("exit", (code, signal) => {
        if (this.child === child) this.forget();
        if (signal !== "SIGKILL") this.output(`qemu guard exited (${signal ?? `code ${code}`})`);
        done();
      });
    });
    child.stdout?.setEncoding("utf8");
    if (child.stdout) {
      createInterface({ input: child.stdout }).on("line", (line) => {
        const m = /^qemu-(pid|exit) (\d+)$/.exec(line);
        if (m?.[1] === "pid") this.qemuPid = Number(m[2]);
        else if (m?.[1] === "exit") this.output(`qemu exited with code ${m[2]}`);
        else this.output(line);
      });
    }
    if (child.stderr) createInterface({ input: child.stderr }).on("line", this.output);
    await new Promise<void>((ok, fail) => {
      child.once("spawn", ok);
      child.once("error", (err) => fail(new InfraError(`cannot start QEMU for board ${this.opts.name}: ${err.message}`, { cause: err })));
    });
    try {
      this.qmp = await QmpClient.connect(`\0${qmpName}`, {
        timeoutMs: 15_000,
        alive: () => this.child === child,
        onEvent: (e) => this.output(`qmp event ${e.event}`),
      });
      await this.qmp.execute("cont"); // the console has been open all along: the boot's first byte is captured
    } catch (err) {
      await this.kill();
      throw new InfraError(`board ${this.opts.name}: QEMU did not come up: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  async reset(): Promise<void> {
    if (!this.child || !this.qmp) return this.start();
    await this.qmp.execute("system_reset");
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL"); // the guard, QEMU and its guestfwd socats
    } catch {
      // already gone
    }
    await this.exited;
  }

  peakMemory(): number | undefined {
    if (!this.qemuPid) return undefined;
    try {
      const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.qemuPid}/status`, "utf8"))?.[1];
      return kb ? Number(kb) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  private forget(): void {
    this.child = undefined;
    this.qemuPid = undefined;
    this.qmp?.close();
    this.qmp = undefined;
  }
}

function qemuArgs(
  opts: QemuBoardOptions,
  images: { kernel: string; initramfs: string },
  disk: string,
  serialDevice: string,
  qmpName: string,
): string[] {
  const append = [
    "console=ttyS0",
    "panic=-1",
    `OTA_SERIAL=${opts.serialNumber}`,
    `OTA_GATEWAY=${GUEST_GATEWAY}`,
    `OTA_FLASH_DELAY_US=${opts.flashDelayUs}`,
    // Under TCG every boot-time chore costs: the crypto self-tests (half a CPU-second), ACPI
    // interrupt-link evaluation for each PCI device (a second per virtio device under load; the
    // PIRQ table routes them as well) and the read-only/W+X pass over the kernel image.
    "cryptomgr.notests",
    "pci=noacpi",
    "rodata=off",
    "quiet", // the kernel's warnings only: every byte through the emulated UART costs boot time
  ].join(" ");
  const throttle = opts.diskWriteBps > 0 ? `,throttling.bps-write=${opts.diskWriteBps}` : "";
  return [
    "qemu-system-x86_64",
    ...["-M", "pc", "-accel", "tcg,tb-size=64", "-cpu", "max", "-smp", "1", "-m", `${opts.memoryMb}M`],
    ...["-nodefaults", "-no-user-config", "-display", "none", "-S"],
    ...["-kernel", images.kernel, "-initrd", images.initramfs, "-append", append],
    ...["-chardev", `serial,id=console,path=${serialDevice}`, "-serial", "chardev:console"],
    // tight=off: the name padded to the full sockaddr length, as Node connects to abstract names
    ...["-chardev", `socket,id=qmp,path=${qmpName},server=on,wait=off,abstract=on,tight=off`, "-mon", "chardev=qmp,mode=control"],
    ...["-drive", `file=${qemuEscape(disk)},format=raw,if=none,id=disk,cache=writeback${throttle}`],
    // request merging off: each guest write reaches the disk file as it was issued
    ...["-device", "virtio-blk-pci,drive=disk,request-merging=off"],
    ...["-netdev", netdev(opts.uplink()), "-device", "virtio-net-pci,netdev=net,romfile="],
  ];
}

/** User networking with nothing reachable but the forwarded gateway, which leads to the uplink. */
function netdev(uplink: string | undefined): string {
  let spec = "user,id=net,restrict=on";
  if (uplink) {
    const url = new URL(uplink);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const port = url.port || (url.protocol === "https:" ? "443" : "80");
    const [ip, guestPort] = GUEST_GATEWAY.split(":");
    // QEMU runs the command once per guest connection
    spec += `,guestfwd=tcp:${ip}:${guestPort}-cmd:socat - TCP:${qemuEscape(host)}:${port}`;
  }
  return spec;
}

/** QEMU option values escape a comma by doubling it. */
function qemuEscape(value: string): string {
  return value.replace(/,/g, ",,");
}

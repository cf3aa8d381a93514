// The QEMU board's guest: Debian's kernel (fetched with `apt-get download`, unpacked, never
// installed) and an initramfs of busybox-static + the virtio modules + devices/qemu/guest/.
// Both live in a cache dir; the initramfs is named by the hash of its inputs, so a changed agent
// script or busybox gives a new one (built in about a second) and a stale one is never booted.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { InfraError } from "../../core/errors.ts";
import { REPO_ROOT } from "../virtual/paths.ts";

export const SETUP_COMMAND = "npm run qemu:setup";
export const QEMU_INSTALL = "sudo apt-get install qemu-system-x86 busybox-static";
export const GUEST_DIR = join(REPO_ROOT, "devices", "qemu", "guest");
const GUEST_FILES = ["init", "ota-agent", "ota-http-io"];
const BUSYBOX = "/bin/busybox";
const KERNEL_PACKAGE = "linux-image-amd64";

/** The virtio drivers the guest needs (net + block), in load order, relative to kernel/. */
export const GUEST_MODULES = [
  "drivers/virtio/virtio_ring",
  "drivers/virtio/virtio",
  "drivers/virtio/virtio_pci_legacy_dev",
  "drivers/virtio/virtio_pci_modern_dev",
  "drivers/virtio/virtio_pci",
  "drivers/virtio/virtio_mmio",
  "net/core/failover",
  "drivers/net/net_failover",
  "drivers/net/virtio_net",
  "drivers/block/virtio_blk",
];

export interface GuestImages {
  kernel: string;
  kernelVersion: string;
  initramfs: string;
}

/** `$OTARIG_QEMU_CACHE`, else `$XDG_CACHE_HOME/otarig/qemu` (default `~/.cache/otarig/qemu`). */
export function qemuCacheDir(): string {
  if (process.env.OTARIG_QEMU_CACHE) return process.env.OTARIG_QEMU_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "otarig", "qemu");
}

interface KernelInfo {
  version: string;
  vmlinuz: string;
  modules: string;
}

function kernelInfo(cache: string): KernelInfo | undefined {
  const file = join(cache, "kernel", "kernel.json");
  if (!existsSync(file)) return undefined;
  const info = JSON.parse(readFileSync(file, "utf8")) as KernelInfo;
  return existsSync(info.vmlinuz) && existsSync(info.modules) ? info : undefined;
}

/** What is missing for a QEMU board, each with the command that fixes it (empty when all is there). */
export function qemuMissing(): { what: string; fix: string }[] {
  const missing: { what: string; fix: string }[] = [];
  for (const tool of ["qemu-system-x86_64", "socat"]) if (!onPath(tool)) missing.push({ what: `${tool} is not installed`, fix: tool === "socat" ? "sudo apt-get install socat" : QEMU_INSTALL });
  if (!existsSync(BUSYBOX)) missing.push({ what: `${BUSYBOX} (busybox-static) is not installed`, fix: QEMU_INSTALL });
  if (!kernelInfo(qemuCacheDir())) missing.push({ what: `the guest kernel is not in ${join(qemuCacheDir(), "kernel")}`, fix: SETUP_COMMAND });
  return missing;
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => dir && existsSync(join(dir, tool)));
}

/**
 * The kernel and an up-to-date initramfs. Never downloads: a missing kernel is an InfraError that
 * names the setup command; a stale or missing initramfs is rebuilt here (local, about a second).
 */
export function guestImages(): GuestImages {
  const cache = qemuCacheDir();
  const missing = qemuMissing();
  if (missing.length > 0) {
    throw new InfraError(`QEMU board: ${missing.map((m) => `${m.what} (fix: ${m.fix})`).join("; ")}`);
  }
  const kernel = kernelInfo(cache)!;
  return { kernel: bootableKernel(kernel), kernelVersion: kernel.version, initramfs: buildInitramfs(cache, kernel) };
}

function inputsHash(kernel: KernelInfo): string {
  const h = createHash("sha256").update(kernel.version);
  for (const name of GUEST_FILES) h.update(name).update(readFileSync(join(GUEST_DIR, name)));
  h.update(readFileSync(BUSYBOX));
  h.update(GUEST_MODULES.join(","));
  return h.digest("hex").slice(0, 16);
}

/** Builds `initramfs-<inputs hash>.cpio` (uncompressed: nothing for the guest to gunzip) unless it is there; returns its path. */
export function buildInitramfs(cache: string, kernel: KernelInfo, log: (line: string) => void = () => {}): string {
  const out = join(cache, `initramfs-${inputsHash(kernel)}.cpio`);
  if (existsSync(out)) return out;
  log(`building ${out}`);
  const root = mkdtempSync(join(tmpdir(), "otarig-initramfs-"));
  try {
    for (const dir of ["bin", "sbin", "proc", "sys", "dev", "run", "tmp", "lib/modules"]) mkdirSync(join(root, dir), { recursive: true });
    copyFileSync(BUSYBOX, join(root, "bin", "busybox"));
    chmodSync(join(root, "bin", "busybox"), 0o755);
    const applets = execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" }).split("\n").filter((a) => a && a !== "busybox");
    for (const applet of applets) symlinkSync("busybox", join(root, "bin", applet));
    for (const mod of GUEST_MODULES) {
      const name = mod.split("/").pop()!;
      copyFileSync(join(kernel.modules, `${mod}.ko`), join(root, "lib", "modules", `${name}.ko`));
    }
    copyFileSync(join(GUEST_DIR, "init"), join(root, "init"));
    chmodSync(join(root, "init"), 0o755);
    for (const name of GUEST_FILES.filter((f) => f !== "init")) {
      copyFileSync(join(GUEST_DIR, name), join(root, "bin", name));
      chmodSync(join(root, "bin", name), 0o755);
    }
    const tmp = `${out}.${process.pid}.tmp`;
    mkdirSync(cache, { recursive: true });
    execFileSync("sh", ["-c", `cd "$1" && find . | "$2" cpio -o -H newc 2>/dev/null > "$3"`, "mkinitramfs", root, BUSYBOX, tmp]);
    renameSync(tmp, out); // atomic: two runs building at once both end with a whole file
    return out;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Fetches Debian's kernel package with `apt-get download` (after `apt-get update` when apt has
 * no lists), unpacks vmlinuz and the guest's modules into the cache, and drops the .deb.
 */
export function fetchKernel(log: (line: string) => void = () => {}): KernelInfo {
  const cache = qemuCacheDir();
  const have = kernelInfo(cache);
  if (have) {
    log(`kernel ${have.version}: already in ${join(cache, "kernel")}`);
    return have;
  }
  let pkg = kernelPackage();
  if (!pkg) {
    log("apt has no package lists: apt-get update");
    execFileSync("apt-get", ["update"], { stdio: ["ignore", "inherit", "inherit"] });
    pkg = kernelPackage();
  }
  if (!pkg) throw new InfraError(`apt-cache knows no ${KERNEL_PACKAGE}: is a Debian amd64 archive configured in apt's sources?`);
  const version = pkg.replace(/^linux-image-/, "");
  const debDir = join(cache, "deb");
  mkdirSync(debDir, { recursive: true });
  let deb = readdirSync(debDir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb"));
  if (!deb) {
    log(`apt-get download ${pkg}`);
    execFileSync("apt-get", ["download", pkg], { cwd: debDir, stdio: ["ignore", "inherit", "inherit"] });
    deb = readdirSync(debDir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb"));
    if (!deb) throw new InfraError(`apt-get download ${pkg} left no .deb in ${debDir}`);
  }
  const dir = join(cache, "kernel", version);
  const unpack = `${dir}.unpack`;
  rmSync(unpack, { recursive: true, force: true });
  mkdirSync(unpack, { recursive: true });
  const members = [`./boot/vmlinuz-${version}`, ...GUEST_MODULES.map((m) => `./lib/modules/${version}/kernel/${m}.ko`)];
  log(`unpacking vmlinuz and ${GUEST_MODULES.length} modules from ${deb}`);
  const script = 'deb=$1 dir=$2; shift 2; dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" -f - "$@"';
  execFileSync("sh", ["-c", script, "unpack", join(debDir, deb), unpack, ...members], { stdio: ["ignore", "inherit", "inherit"] });
  rmSync(dir, { recursive: true, force: true });
  renameSync(unpack, dir);
  const info: KernelInfo = { version, vmlinuz: join(dir, "boot", `vmlinuz-${version}`), modules: join(dir, "lib", "modules", version, "kernel") };
  writeFileSync(join(cache, "kernel", "kernel.json"), `${JSON.stringify(info, null, 2)}\n`);
  rmSync(join(debDir, deb), { force: true }); // 70 MB; the 9 MB we keep are all a boot needs
  return info;
}

function kernelPackage(): string | undefined {
  try {
    const out = execFileSync("apt-cache", ["depends", KERNEL_PACKAGE], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return /Depends: (linux-image-\d\S*)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

/** The setup command: kernel (download once) and initramfs (rebuilt when its inputs change). */
export function setupGuest(log: (line: string) => void): GuestImages {
  const kernel = fetchKernel(log);
  const initramfs = buildInitramfs(qemuCacheDir(), kernel, log);
  return { kernel: bootableKernel(kernel, log), kernelVersion: kernel.version, initramfs };
}

const COMPRESSED = [
  { magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), tool: ["xz", "-dc"] },
  { magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), tool: ["zstd", "-dcq"] },
];

/**
 * The kernel to boot: the uncompressed ELF vmlinux when it can be had, else the bzImage. QEMU
 * boots the ELF through its PVH entry point, which skips SeaBIOS's real-mode path and the
 * guest's own decompression: under TCG that is about 3 of the 8–9 CPU-seconds of a boot.
 * Unpacked once, next to the bzImage (the payload is found by its magic, as the kernel's
 * scripts/extract-vmlinux does it).
 */
function bootableKernel(kernel: KernelInfo, log: (line: string) => void = () => {}): string {
  const out = join(kernel.vmlinuz, "..", "vmlinux");
  if (existsSync(out)) return out;
  const image = readFileSync(kernel.vmlinuz);
  for (const { magic, tool } of COMPRESSED) {
    const at = image.indexOf(magic);
    if (at < 0 || !onPath(tool[0]!)) continue;
    const tmp = `${out}.${process.pid}.tmp`;
    try {
      // the payload is followed by the rest of the bzImage: the tool complains about it, and still writes it all
      execFileSync("sh", ["-c", 'tail -c +$(($1 + 1)) "$2" | "$3" "$4" > "$5" 2>/dev/null; exit 0', "unpack", String(at), kernel.vmlinuz, tool[0]!, tool[1]!, tmp]);
      const head = readFileSync(tmp).subarray(0, 4);
      if (head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
        renameSync(tmp, out);
        log(`unpacked ${out} (boots through PVH, without the guest decompressing itself)`);
        return out;
      }
    } catch {
      // fall through to the bzImage
    }
    rmSync(tmp, { force: true });
  }
  log(`could not unpack an ELF vmlinux from ${kernel.vmlinuz}: booting the bzImage (slower)`);
  return kernel.vmlinuz;
}

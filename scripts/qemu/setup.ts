// npm run qemu:setup — gets what a QEMU board boots: Debian's kernel (apt-get download, unpacked
// into the cache, never installed) and the initramfs (rebuilt when its inputs change).
import { qemuCacheDir, qemuMissing, setupGuest } from "../../harness/board/qemu/guest-images.ts";

const log = (line: string) => console.log(`qemu:setup: ${line}`);
try {
  const images = setupGuest(log);
  log(`kernel    ${images.kernel} (${images.kernelVersion})`);
  log(`initramfs ${images.initramfs}`);
  const missing = qemuMissing();
  for (const m of missing) log(`still missing: ${m.what} (fix: ${m.fix})`);
  log(missing.length === 0 ? `ready (cache ${qemuCacheDir()})` : "not ready");
  process.exit(missing.length === 0 ? 0 : 3);
} catch (err) {
  console.error(`qemu:setup: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(3);
}

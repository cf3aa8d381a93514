#!/usr/bin/env bash
# CI step for the QEMU tier: fetch the guest kernel (apt-get download, unpacked into the cache,
# never installed) and build the initramfs, so the QEMU tests in `npm test` find them.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run --silent qemu:setup

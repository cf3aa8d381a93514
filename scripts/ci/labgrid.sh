#!/usr/bin/env bash
# CI: installs the labgrid lab the labgrid tests start (test/lab/) into .labgrid-venv/ of the
# clone, from the shared recipe beside the clone (../shared/labgrid/, read-only; its wheels stay
# there). Over an existing venv it only checks it (about 3 s).
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${OTARIG_SHARED_DIR:-../shared}
RECIPE="$SHARED/labgrid/install-labgrid.sh"
[ -x "$RECIPE" ] || { echo "ci: no labgrid recipe at $RECIPE (set OTARIG_SHARED_DIR)" >&2; exit 1; }
"$RECIPE" "$PWD/.labgrid-venv"

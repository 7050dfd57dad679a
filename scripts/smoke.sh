#!/usr/bin/env bash
# smoke.sh: haloforge's main job on a fresh Debian machine, end to end:
# prepare the host (scripts/setup-host.sh: Docker from Debian, debootstrap, Go),
# build haloforge, make the smoke runtime image from Debian sid packages without
# any registry (debootstrap + docker import + apt-get, cached after the first
# time), and run the smoke suite: llama-bench on CPU and on Vulkan (Mesa
# lavapipe) on a tiny generated model, flash attention off and on. Prints the
# results table; results stay in $(bin/haloforge home)/runs and results.db.
# Extra arguments go to haloforge bench (e.g. --plain, --timeout 2m).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup-host.sh
. scripts/setup-host.sh

hf_smoke_image >/dev/null
exec bin/haloforge bench --suite smoke "$@"
